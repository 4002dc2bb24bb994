#!/usr/bin/env python3
"""Writes the sample captures used by the README's main command (`dissect`).

client.imap / server.imap are the two directions of one IMAP4rev2 session: greeting,
CAPABILITY, AUTHENTICATE PLAIN with a continuation, ENABLE, LIST, SELECT, FETCH with
ENVELOPE/BODYSTRUCTURE and a BODY[] literal, SEARCH/ESEARCH, STORE, APPEND with a
synchronizing literal, IDLE/DONE, MOVE with COPYUID, LOGOUT. Run: python3 make_captures.py
"""
import base64

msg = (b"From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: hello\r\n"
       b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\nHi Bob,\r\nsee you at 10.\r\n")
app = b"From: bob@example.com\r\nSubject: draft\r\n\r\nnot yet\r\n"
plain = base64.b64encode(b"\0bob\0hunter2").decode()

def lit(b):
    return b"{%d}\r\n" % len(b) + b

client = b"".join([
    b"a1 CAPABILITY\r\n",
    b"a2 AUTHENTICATE PLAIN\r\n",
    plain.encode() + b"\r\n",
    b"a3 ENABLE CONDSTORE\r\n",
    b'a4 LIST "" "*" RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN))\r\n',
    b"a5 SELECT INBOX (CONDSTORE)\r\n",
    b"a6 FETCH 1:2 (UID FLAGS ENVELOPE BODYSTRUCTURE MODSEQ)\r\n",
    b"a7 UID FETCH 1001 BODY.PEEK[]\r\n",
    b"a8 UID SEARCH RETURN (MIN MAX COUNT) UNSEEN SINCE 1-Feb-1994 NOT FROM \"carol\"\r\n",
    b"a9 UID STORE 1001 +FLAGS.SILENT (\\Seen $Forwarded)\r\n",
    b"a10 APPEND Drafts (\\Draft) \" 7-Feb-1994 22:00:00 -0800\" " + lit(app) + b"\r\n",
    b"a11 IDLE\r\n",
    b"DONE\r\n",
    b"a12 UID MOVE 1002 Archive\r\n",
    b"a13 LOGOUT\r\n",
])

server = b"".join([
    b"* OK [CAPABILITY IMAP4rev2 IMAP4rev1 AUTH=PLAIN SASL-IR ENABLE CONDSTORE LITERAL+ IDLE MOVE] ready\r\n",
    b"* CAPABILITY IMAP4rev2 IMAP4rev1 AUTH=PLAIN SASL-IR ENABLE CONDSTORE LITERAL+ IDLE MOVE SPECIAL-USE LIST-STATUS\r\n",
    b"a1 OK CAPABILITY completed\r\n",
    b"+ \r\n",
    b"a2 OK [CAPABILITY IMAP4rev2 CONDSTORE IDLE MOVE] logged in\r\n",
    b"* ENABLED CONDSTORE\r\n",
    b"a3 OK enabled\r\n",
    b'* LIST (\\HasNoChildren) "/" INBOX\r\n',
    b'* STATUS INBOX (MESSAGES 2 UNSEEN 1)\r\n',
    b'* LIST (\\HasNoChildren \\Drafts) "/" Drafts\r\n',
    b'* STATUS Drafts (MESSAGES 0 UNSEEN 0)\r\n',
    b'* LIST (\\HasNoChildren \\Archive) "/" Archive\r\n',
    b'* STATUS Archive (MESSAGES 12 UNSEEN 0)\r\n',
    b"a4 OK LIST completed\r\n",
    b"* 2 EXISTS\r\n",
    b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n",
    b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] limited\r\n",
    b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
    b"* OK [UIDNEXT 1003] predicted next UID\r\n",
    b"* OK [HIGHESTMODSEQ 715194045007] highest\r\n",
    b"* LIST () \"/\" INBOX\r\n",
    b"a5 OK [READ-WRITE] SELECT completed\r\n",
    b'* 1 FETCH (UID 1001 FLAGS (\\Seen) MODSEQ (624140003) ENVELOPE ("Mon, 7 Feb 1994 21:52:25 -0800" "hello" (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) ((NIL NIL "bob" "example.com")) NIL NIL NIL "<B27397-0100000@example.org>") BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 24 2 NIL NIL NIL NIL))\r\n',
    b'* 2 FETCH (UID 1002 FLAGS () MODSEQ (624140007) ENVELOPE (NIL "=?UTF-8?Q?Caf=C3=A9?=" NIL NIL NIL NIL NIL NIL NIL NIL) BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "QUOTED-PRINTABLE" 120 4 NIL NIL NIL NIL)("TEXT" "HTML" ("CHARSET" "UTF-8") NIL NIL "BASE64" 2024 26 NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "b1") NIL NIL NIL))\r\n',
    b"a6 OK FETCH completed\r\n",
    b"* 1 FETCH (UID 1001 BODY[] " + lit(msg) + b")\r\n",
    b"a7 OK FETCH completed\r\n",
    b'* ESEARCH (TAG "a8") UID MIN 1002 MAX 1002 COUNT 1\r\n',
    b"a8 OK SEARCH completed\r\n",
    b"a9 OK STORE completed\r\n",
    b"+ Ready for literal data\r\n",
    b"a10 OK [APPENDUID 38505 3955] APPEND completed\r\n",
    b"+ idling\r\n",
    b"* 3 EXISTS\r\n",
    b"a11 OK IDLE terminated\r\n",
    b"* OK [COPYUID 432432 1002 12] moved\r\n",
    b"* 2 EXPUNGE\r\n",
    b"a12 OK MOVE completed\r\n",
    b"* BYE logging out\r\n",
    b"a13 OK LOGOUT completed\r\n",
])

open("client.imap", "wb").write(client)
open("server.imap", "wb").write(server)
