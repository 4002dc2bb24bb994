#!/usr/bin/env python3
"""Records what a real IMAP server sends during a fixed session, byte for byte.

    record_server.py HOST PORT USER PASSWORD OUT.imap [--mailbox NAME] [--tls CAFILE]

With `--tls` the connection is TLS from the start (IMAPS), the server's certificate checked
against CAFILE. The session logs in, lists, creates a scratch mailbox and NAME-2 (NAME defaults to
`imapwire-capture`; both deleted again at the end), appends a few messages of our own (plain, multipart, with an
attachment, 8-bit headers), selects it and fetches ENVELOPE, BODYSTRUCTURE, BODY sections,
FLAGS, INTERNALDATE and sizes, searches, stores flags, copies, sorts/threads when offered,
asks STATUS, NAMESPACE, ID, GETQUOTAROOT, MYRIGHTS, and sends commands the server must
refuse (unknown command, bad arguments, a missing mailbox, a bad sequence set) so its error
responses are captured too. Only the server's side is written (the stream `dissect --server`
reads); the client's commands are printed to stderr.
"""
import socket
import ssl
import sys

CRLF = b"\r\n"


class Conn:
    def __init__(self, host, port, ca=None):
        self.s = socket.create_connection((host, port), timeout=20)
        if ca is not None:
            ctx = ssl.create_default_context(cafile=ca)
            ctx.check_hostname = False
            self.s = ctx.wrap_socket(self.s)
        self.buf = b""
        self.out = bytearray()
        self.n = 0
        self.caps = b""

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("server closed the connection")
        self.buf += d

    def line(self):
        """One server line with its literals (the bytes as sent)."""
        start = 0
        while True:
            k = self.buf.find(CRLF, start)
            while k < 0:
                self._fill()
                k = self.buf.find(CRLF, start)
            head = self.buf[start:k]
            start = k + 2
            if head.endswith(b"}") and b"{" in head:
                digits = head[head.rfind(b"{") + 1 : -1].rstrip(b"+")
                if digits.isdigit():
                    n = int(digits)
                    while len(self.buf) < start + n:
                        self._fill()
                    start += n
                    continue
            msg, self.buf = self.buf[:start], self.buf[start:]
            self.out += msg
            return msg

    def cmd(self, text, literal=None):
        """Sends `tag text` (with one synchronizing literal when given); reads to the tag."""
        self.n += 1
        tag = b"c%d" % self.n
        sys.stderr.write("C: %s %s\n" % (tag.decode(), text))
        if literal is None:
            self.s.sendall(tag + b" " + text.encode() + CRLF)
        else:
            self.s.sendall(tag + b" " + text.encode() + b" {%d}" % len(literal) + CRLF)
            m = self.line()
            if not m.startswith(b"+"):
                return m
            self.s.sendall(literal + CRLF)
        while True:
            m = self.line()
            if m.startswith(b"* CAPABILITY ") or b"[CAPABILITY " in m:
                self.caps = m.upper()
            if m.startswith(tag + b" "):
                return m


MESSAGES = [
    b"From: Alice Example <alice@example.org>\r\nTo: bob@example.org, \"Carol, C.\" <carol@example.org>\r\n"
    b"Cc: undisclosed-recipients:;\r\nSubject: plain text \"quoted\" subject\r\n"
    b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <plain-1@example.org>\r\n\r\n"
    b"Hello Bob,\r\nthis is a plain message.\r\n",
    b"From: bob@example.org\r\nTo: alice@example.org\r\nSubject: multipart\r\n"
    b"In-Reply-To: <plain-1@example.org>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
    b"--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nbody text\r\n"
    b"--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n"
    b"--b2\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n"
    b"--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>caf&eacute;</p>\r\n--b2--\r\n"
    b"--b1\r\nContent-Type: application/octet-stream; name=\"a b.bin\"\r\n"
    b"Content-Disposition: attachment; filename=\"a b.bin\"\r\nContent-Transfer-Encoding: base64\r\n"
    b"Content-Language: en, de\r\nContent-Location: http://example.org/a\r\n\r\nAAECAwQ=\r\n"
    b"--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: carol@example.org\r\nSubject: inner\r\n\r\ninner body\r\n"
    b"--b1--\r\n",
    b"From: =?utf-8?q?J=C3=B6rg?= <joerg@example.org>\r\nTo: group: a@example.org, b@example.org;\r\n"
    b"Subject: =?utf-8?b?w6TDtsO8?=\r\nDate: Tue, 8 Feb 1994 01:02:03 +0100\r\n"
    b"Reply-To: <>\r\nSender: \r\n\r\neight bit: \xc3\xa9\r\n",
]


def main():
    host, port, user, password, out = sys.argv[1:6]
    box = "imapwire-capture"
    if "--mailbox" in sys.argv:
        box = sys.argv[sys.argv.index("--mailbox") + 1]
    ca = sys.argv[sys.argv.index("--tls") + 1] if "--tls" in sys.argv else None
    c = Conn(host, int(port), ca)
    c.line()  # greeting
    c.cmd("CAPABILITY")
    c.cmd("NOOP")
    c.cmd("LOGIN %s %s" % (user, '"' + password + '"'))
    c.cmd("CAPABILITY")
    caps = c.caps
    c.cmd('LIST "" ""')
    c.cmd('LIST "" "*"')
    c.cmd('LSUB "" "*"')
    c.cmd("NAMESPACE")
    if b" ID" in caps:
        c.cmd('ID ("name" "imapwire-capture")')
    if b"ENABLE" in caps and b"CONDSTORE" in caps:
        c.cmd("ENABLE CONDSTORE")
    c.cmd("DELETE %s" % box)  # left over from an interrupted run (NO otherwise)
    c.cmd("DELETE %s-2" % box)
    c.cmd("CREATE %s" % box)
    c.cmd("CREATE %s" % box)  # already exists: NO
    c.cmd("SUBSCRIBE %s" % box)
    for i, m in enumerate(MESSAGES):
        flags = ["(\\Seen)", "()", "(\\Flagged $Label1)"][i % 3]
        c.cmd("APPEND %s %s \"05-Dec-2026 10:00:00 +0000\"" % (box, flags), m)
    c.cmd("STATUS %s (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)" % box)
    c.cmd("EXAMINE %s" % box)
    c.cmd("SELECT %s" % box)
    c.cmd("FETCH 1:* (FLAGS UID INTERNALDATE RFC822.SIZE ENVELOPE)")
    c.cmd("FETCH 1:* BODYSTRUCTURE")
    c.cmd("FETCH 1:* BODY")
    c.cmd("FETCH 1:* FAST")
    c.cmd("FETCH 1:* ALL")
    c.cmd("FETCH 1:* FULL")
    c.cmd("FETCH 2 (BODY.PEEK[1] BODY.PEEK[2.1.MIME] BODY.PEEK[4.HEADER] BODY.PEEK[HEADER.FIELDS (From Subject)] BODY.PEEK[TEXT]<0.10>)")
    c.cmd("FETCH 1 (RFC822.HEADER RFC822.TEXT)")
    c.cmd("FETCH 3 BODY[]")
    c.cmd("UID FETCH 1:* (FLAGS)")
    if b"CONDSTORE" in caps:
        c.cmd("FETCH 1:* (MODSEQ)")
        c.cmd("FETCH 1:* (FLAGS) (CHANGEDSINCE 1)")
    c.cmd("SEARCH ALL")
    c.cmd("SEARCH FROM alice")
    c.cmd("SEARCH UNSEEN")
    c.cmd("SEARCH CHARSET UTF-8 SUBJECT multipart")
    c.cmd("SEARCH CHARSET X-NOSUCH SUBJECT x")  # BADCHARSET
    c.cmd("UID SEARCH 1:*")
    if b"ESEARCH" in caps:
        c.cmd("SEARCH RETURN (MIN MAX COUNT ALL) ALL")
    if b"SORT" in caps:
        c.cmd("SORT (SUBJECT) UTF-8 ALL")
    if b"THREAD=REFERENCES" in caps:
        c.cmd("THREAD REFERENCES UTF-8 ALL")
    if b"THREAD=ORDEREDSUBJECT" in caps:
        c.cmd("THREAD ORDEREDSUBJECT UTF-8 ALL")
    c.cmd("STORE 1 +FLAGS (\\Answered)")
    c.cmd("STORE 2 FLAGS.SILENT (\\Deleted)")
    c.cmd("STORE 3 -FLAGS ($Label1)")
    c.cmd("COPY 1 %s-2" % box)  # NO [TRYCREATE] (not there yet)
    c.cmd("CREATE %s-2" % box)
    c.cmd("COPY 1:2 %s-2" % box)
    c.cmd("COPY 1 imapwire-no-such-mailbox")  # NO [TRYCREATE]
    c.cmd("EXPUNGE")
    c.cmd("CHECK")
    if b"QUOTA" in caps:
        c.cmd("GETQUOTAROOT INBOX")
    if b"ACL" in caps:
        c.cmd("MYRIGHTS INBOX")
        c.cmd("GETACL %s" % box)
    # what the server must refuse
    c.cmd("FETCH 99 FLAGS")
    c.cmd("FETCH x FLAGS")
    c.cmd("FETCH 1 (NOSUCHITEM)")
    c.cmd("NOSUCHCOMMAND")
    c.cmd("STATUS imapwire-no-such-mailbox (MESSAGES)")
    c.cmd("LIST")
    c.cmd("SEARCH NOSUCHKEY")
    c.cmd("CLOSE")
    c.cmd("CLOSE")  # nothing selected now
    c.cmd("SELECT imapwire-no-such-mailbox")
    c.cmd("UNSUBSCRIBE %s" % box)
    c.cmd("DELETE %s" % box)
    c.cmd("DELETE %s-2" % box)
    c.cmd("LOGOUT")
    try:
        while True:
            c.line()
    except (EOFError, OSError):
        pass
    with open(out, "wb") as f:
        f.write(bytes(c.out))


if __name__ == "__main__":
    main()
