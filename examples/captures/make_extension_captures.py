#!/usr/bin/env python3
"""Writes one client and one server capture per IMAP extension group into extensions/.

Sources:
  * the RFC example corpus (imap-codec/tests/data/rfc-examples/rfcNNNN.jsonl), every record
    except those flagged elided/invalid/incomplete, those of kind "unknown", and the errata
    listed in errata.txt (examples that contradict their RFC's ABNF); records keep file order;
  * hand-written messages (HAND below) for extensions whose RFC has no C:/S: example in the
    corpus: transcribed from the RFC text where it has examples (RFC 2088, 3348, 5032, 7377,
    8440, 8457, 8508 in shared/rfc/extra), otherwise written from the RFC's ABNF.

The base specifications (RFC 9051, RFC 3501) are covered by ../client.imap / ../server.imap
and the corpus test, and get no capture here. Output is deterministic. Run from anywhere:

    python3 examples/captures/make_extension_captures.py

check_extension_captures.sh runs `dissect --roundtrip --strict` over every file written.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "imap-codec", "tests", "data", "rfc-examples")
OUT = os.path.join(HERE, "extensions")

# Corpus file -> capture group name.
GROUPS = {
    2087: "quota-rfc2087",
    2177: "idle",
    2342: "namespace",
    2971: "id",
    3502: "multiappend",
    3691: "unselect",
    4314: "acl",
    4315: "uidplus",
    4466: "abnf-extensions-rfc4466",
    4469: "catenate",
    4549: "disconnected-rfc4549",
    4731: "esearch",
    4959: "sasl-ir",
    4978: "compress",
    5161: "enable",
    5182: "searchres",
    5256: "sort-thread",
    5258: "list-extended",
    5267: "esort-context",
    5464: "metadata",
    5465: "notify",
    5530: "response-codes-rfc5530",
    5819: "list-status",
    6154: "special-use",
    6851: "move",
    7162: "condstore-qresync",
    7628: "oauthbearer-rfc7628",
    7888: "literal-plus",
    7889: "appendlimit",
    8438: "status-size",
    8474: "objectid",
    8514: "savedate",
    8970: "preview",
    9208: "quota",
    9394: "partial",
    9585: "inprogress",
    9586: "uidonly",
    9590: "list-metadata",
    9698: "jmapaccess",
}

BASE = {9051, 3501}


def lit(b, plus=False, binary=False):
    """A literal announcement and its data."""
    return (b"~" if binary else b"") + b"{%d%s}\r\n" % (len(b), b"+" if plus else b"") + b


MSG_REPLACE_1 = (
    b"Date: Thu, 1 Jan 2015 00:05:00 -0500 (EST)\r\n"
    b"From: Fritz Schmidt <fritz.ze@example.org>\r\n"
    b"Subject: happy new year !!\r\n"
    b"To: miss.mitzy@example.org\r\n"
    b"Message-Id: <B238822388-0100000@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
    b"\r\n"
    b"Just saw the best fireworks show. Wish you were here.\r\n"
)
MSG_REPLACE_2 = (
    b"Date: Thu, 1 Jan 2015 00:06:00 -0500 (EST)\r\n"
    b"From: Fritz Schmidt <fritz.ze@example.org>\r\n"
    b"Subject: happy new year !!\r\n"
    b"To: miss.mitzy@example.org\r\n"
    b"Message-Id: <B238822389-0100000@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
    b"\r\n"
    b"Just saw the best fireworks show. Wish you were here.\r\n"
    b"Hopefully next year you can join us.\r\n"
)
UTF8_MSG = ("From: Jöran <j@example.org>\r\nSubject: Grüße\r\n\r\nHallo, Welt!\r\n").encode()
BINARY_PART = b"\x00\x01binary\xffdata\r\n"

# Hand-written groups: name -> (client messages, server messages).
HAND = {
    # RFC 2088 (LITERAL+, the example of section 4) and RFC 7888 LITERAL- (non-synchronizing
    # literals of at most 4096 octets; the client waits for "+" above that).
    "literal-minus": (
        [
            b"A001 LOGIN {11+}\r\nFRED FOOBAR {7+}\r\nfat man\r\n",
            b"A002 APPEND INBOX " + lit(b"Subject: small\r\n\r\nhi\r\n", plus=True) + b"\r\n",
            b"A003 APPEND INBOX " + lit(b"x" * 5000) + b"\r\n",
        ],
        [
            b"* OK [CAPABILITY IMAP4rev2 LITERAL-] ready\r\n",
            b"A001 OK LOGIN completed\r\n",
            b"A002 OK [APPENDUID 1 17] APPEND completed\r\n",
            b"+ Ready for literal data\r\n",
            b"A003 OK [APPENDUID 1 18] APPEND completed\r\n",
            b"* CAPABILITY IMAP4rev1 LITERAL+\r\n",
        ],
    ),
    # RFC 3348 section 4 (CHILDREN).
    "children": (
        [b'A001 LIST "" *\r\n'],
        [
            b"* CAPABILITY IMAP4rev1 CHILDREN\r\n",
            b'* LIST (\\HasNoChildren) "/" INBOX\r\n',
            b'* LIST (\\HasChildren) "/" ITEM_1\r\n',
            b'* LIST (\\HasNoChildren) "/" ITEM_1/ITEM_1A\r\n',
            b'* LIST (\\HasChildren) "/" ITEM_2\r\n',
            b"A001 OK LIST Completed\r\n",
        ],
    ),
    # RFC 3516 (BINARY), from its ABNF (the RFC has no C:/S: example).
    "binary": (
        [
            b"a1 FETCH 1 (BINARY[1] BINARY.SIZE[1])\r\n",
            b"a2 UID FETCH 17 (BINARY.PEEK[1.2]<0.1024> BINARY.SIZE[])\r\n",
            b"a3 APPEND INBOX (\\Seen) " + lit(BINARY_PART, binary=True) + b"\r\n",
        ],
        [
            b"* CAPABILITY IMAP4rev1 BINARY\r\n",
            b"* 1 FETCH (BINARY[1] " + lit(BINARY_PART, binary=True) + b" BINARY.SIZE[1] 15)\r\n",
            b"a1 OK FETCH completed\r\n",
            b'* 2 FETCH (UID 17 BINARY[1.2]<0> "abc" BINARY.SIZE[] 2048)\r\n',
            b"a2 OK FETCH completed\r\n",
            b"a2 NO [UNKNOWN-CTE] cannot decode x-uuencode\r\n",
            b"a3 OK [APPENDUID 1 19] APPEND completed\r\n",
        ],
    ),
    # RFC 6855 (UTF8=ACCEPT / UTF8=ONLY), from its ABNF.
    "utf8": (
        [
            b"a1 ENABLE UTF8=ACCEPT\r\n",
            'a2 SELECT "Entwürfe"\r\n'.encode(),
            b"a3 APPEND INBOX UTF8 (" + lit(UTF8_MSG, binary=True) + b")\r\n",
            b'a4 LIST "" "*"\r\n',
            'a5 SEARCH SUBJECT "Grüße"\r\n'.encode(),
        ],
        [
            b"* CAPABILITY IMAP4rev1 ENABLE UTF8=ACCEPT UTF8=ONLY\r\n",
            b"* ENABLED UTF8=ACCEPT\r\n",
            b"a1 OK enabled\r\n",
            b"* 1 EXISTS\r\n",
            b"a2 OK [READ-WRITE] selected\r\n",
            b"a3 OK [APPENDUID 1 20] APPEND completed\r\n",
            '* LIST () "/" "Entwürfe"\r\n'.encode(),
            '* LIST () "/" "Привет"\r\n'.encode(),
            b"a4 OK LIST completed\r\n",
            b"* SEARCH 1\r\n",
            b"a5 OK SEARCH completed\r\n",
        ],
    ),
    # RFC 5032 (WITHIN) section 4 (the RFC's "a1 * SEARCH" line is a typo for "* SEARCH").
    "within": (
        [
            b"a1 SEARCH UNSEEN YOUNGER 259200\r\n",
            b"a2 UID SEARCH OLDER 86400 NOT YOUNGER 3600\r\n",
        ],
        [
            b"* CAPABILITY IMAP4rev1 WITHIN\r\n",
            b"* SEARCH 4 8 15 16 23 42\r\n",
            b"a1 OK SEARCH completed\r\n",
            b"* SEARCH\r\n",
            b"a2 OK SEARCH completed\r\n",
        ],
    ),
    # RFC 7377 (MULTISEARCH) sections 2 and 4 (wrapped lines joined). Section 2 writes
    # "tag1 UID ESEARCH FROM ...", but the RFC's ABNF has no UID form of ESEARCH (esearch =
    # "ESEARCH" ...; results are always UIDs), so the strict codec rejects it; sent here as
    # the ABNF has it.
    "multisearch": (
        [
            b'tag1 ESEARCH FROM "frobozz" 1:100\r\n',
            b'tag1 ESEARCH IN (mailboxes "folder1" subtree "folder2") unseen\r\n',
            b'tag2 ESEARCH IN (mailboxes "folder1" subtree-one "folder2") unseen\r\n',
            b"tag3 ESEARCH IN (selected personal) RETURN (COUNT) SINCE 1-Jan-2024\r\n",
        ],
        [
            b"* CAPABILITY IMAP4rev1 ESEARCH MULTISEARCH\r\n",
            b'* ESEARCH (TAG "tag1" MAILBOX "folder1" UIDVALIDITY 1) UID ALL 4001,4003,4005,4007,4009\r\n',
            b'* ESEARCH (TAG "tag2" MAILBOX "folder1" UIDVALIDITY 1) UID ALL 3001:3004,3788\r\n',
            b'* ESEARCH (TAG "tag1" MAILBOX "folder2/banana" UIDVALIDITY 503) UID ALL 3002,4004\r\n',
            b'* ESEARCH (TAG "tag1" MAILBOX "folder2/peach" UIDVALIDITY 3) UID ALL 921691\r\n',
            b"tag1 OK done\r\n",
            b'* ESEARCH (TAG "tag2" MAILBOX "folder2/salmon" UIDVALIDITY 1111111) UID ALL 50003,50006,50009,50012\r\n',
            b"tag2 OK done\r\n",
            b'* ESEARCH (TAG "tag3" MAILBOX "INBOX" UIDVALIDITY 7) UID COUNT 12\r\n',
            b"tag3 OK done\r\n",
        ],
    ),
    # RFC 8440 (LIST-MYRIGHTS) section 3.
    "list-myrights": (
        [
            b'A01 LIST "" % RETURN (MYRIGHTS)\r\n',
            b'A02 LIST (SUBSCRIBED RECURSIVEMATCH) "" % RETURN (MYRIGHTS)\r\n',
        ],
        [
            b"* CAPABILITY IMAP4rev1 ACL LIST-EXTENDED LIST-MYRIGHTS\r\n",
            b'* LIST () "." "INBOX"\r\n',
            b'* MYRIGHTS "INBOX" lrswipkxtecda\r\n',
            b'* LIST () "." "foo"\r\n',
            b'* MYRIGHTS "foo" lrs\r\n',
            b'* LIST (\\NonExistent) "." "bar"\r\n',
            b"A01 OK List completed.\r\n",
            b'* LIST (\\Subscribed) "." "INBOX"\r\n',
            b'* MYRIGHTS "INBOX" lrswipkxtecda\r\n',
            b'* LIST () "." "foo" (CHILDINFO ("SUBSCRIBED"))\r\n',
            b"A02 OK List completed.\r\n",
        ],
    ),
    # RFC 8457 (\Important) section 3.
    "important": (
        [
            b't1 LIST "" "Imp*"\r\n',
            b't1 CREATE "Important Messages" (USE (\\Important))\r\n',
        ],
        [
            b"* CAPABILITY IMAP4rev1 SPECIAL-USE CREATE-SPECIAL-USE\r\n",
            b'* LIST (\\HasNoChildren \\Important) "/" "Important Messages"\r\n',
            b'* LIST (\\HasNoChildren) "/" "Imported Wine"\r\n',
            b"t1 OK Success\r\n",
            b"t1 OK Mailbox created\r\n",
            b"t1 NO [USEATTR] An \\Important mailbox already exists\r\n",
            b"t1 NO [USEATTR] Mailbox not created; unsupported use \\Important\r\n",
        ],
    ),
    # RFC 8508 (REPLACE) section 4.
    "replace": (
        [
            b"A003 REPLACE 4 Drafts (\\Seen \\Draft) " + lit(MSG_REPLACE_1) + b"\r\n",
            b"A004 UID REPLACE 2000 Drafts (\\Seen \\Draft) " + lit(MSG_REPLACE_2) + b"\r\n",
            # A010 (an APPEND whose attachment the RFC elides) is left out.
            b"A011 UID REPLACE 3002 Drafts CATENATE (TEXT "
            + lit(b"To: Mitzy <miss.mitzy@example.org>\r\nSubject: My view of the fireworks\r\n")
            + b' URL "/Drafts/;UID=3002")\r\n',
        ],
        [
            b"* CAPABILITY IMAP4rev1 REPLACE UIDPLUS\r\n",
            b"+ Ready for literal data\r\n",
            b"* OK [APPENDUID 1 2000] Replacement Message ready\r\n",
            b"* 5 EXISTS\r\n",
            b"* 4 EXPUNGE\r\n",
            b"A003 OK Replace completed\r\n",
            b"+ Ready for literal data\r\n",
            b"* OK [APPENDUID 1 2001] Replacement Message ready\r\n",
            b"* 5 EXISTS\r\n",
            b"* 4 EXPUNGE\r\n",
            b"A004 OK Replace completed\r\n",
            b"+ Ready for literal data\r\n",
            b"* OK [APPENDUID 1 3003] Replacement Message ready\r\n",
            b"* 5 EXISTS\r\n",
            b"* 4 EXPUNGE\r\n",
            b"A011 OK REPLACE completed\r\n",
        ],
    ),
    # RFC 9738 (MESSAGELIMIT): capability MESSAGELIMIT=<n>, response code MESSAGELIMIT <n>.
    "messagelimit": (
        [
            b"a1 UID FETCH 1:* (FLAGS)\r\n",
            b"a2 UID STORE 1:1000 +FLAGS (\\Seen)\r\n",
        ],
        [
            b"* OK [CAPABILITY IMAP4rev2 MESSAGELIMIT=1000] ready\r\n",
            b"* CAPABILITY IMAP4rev2 MESSAGELIMIT=1000\r\n",
            b"* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n",
            b"a1 OK [MESSAGELIMIT 1000] FETCH completed with 1000 partial results\r\n",
            b"a2 NO [MESSAGELIMIT 1000] too many messages\r\n",
        ],
    ),
    # RFC 8437 (UNAUTHENTICATE), from its ABNF.
    "unauthenticate": (
        [b"a1 UNAUTHENTICATE\r\n", b"a2 LOGIN joe secret\r\n"],
        [
            b"* CAPABILITY IMAP4rev1 UNAUTHENTICATE\r\n",
            b"a1 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN UNAUTHENTICATE] unauthenticated\r\n",
            b"a2 OK logged in\r\n",
        ],
    ),
    # RFC 2221 (LOGIN-REFERRALS) and RFC 2193 (MAILBOX-REFERRALS, RLIST/RLSUB), from their
    # examples (the RFC texts are not in shared/rfc).
    "referrals": (
        [
            b"A001 LOGIN MIKE PASSWORD\r\n",
            b"A002 SELECT SHARED/FOO\r\n",
            b'A003 RLIST "" #news.comp.mail.misc\r\n',
            b'A004 RLSUB "#news." "comp.mail.*"\r\n',
        ],
        [
            b"* OK [CAPABILITY IMAP4rev1 LOGIN-REFERRALS MAILBOX-REFERRALS] ready\r\n",
            b"A001 NO [REFERRAL IMAP://MIKE@SERVER2/] Specified user is invalid on this server. Try SERVER2.\r\n",
            b"A002 NO [REFERRAL IMAP://user;AUTH=*@SERVER2/SHARED/FOO] Remote mailbox. Try SERVER2.\r\n",
            b'* LIST () "." "#news.comp.mail.misc"\r\n',
            b"A003 OK RLIST completed\r\n",
            b'* LSUB () "." #news.comp.mail.mime\r\n',
            b"A004 OK RLSUB completed\r\n",
            b"* BYE [REFERRAL IMAP://user;AUTH=GSSAPI@SERVER2/] Server not accepting connections. Try SERVER2\r\n",
        ],
    ),
    # RFC 5092 IMAP URLs in CATENATE (RFC 4469) and BADURL codes.
    "imap-urls": (
        [
            b'a1 APPEND Drafts CATENATE (URL "imap://fred@example.com/INBOX;UIDVALIDITY=385759045/;UID=20/;SECTION=1.2" '
            b'URL "/INBOX/;UID=20/;PARTIAL=0.1024" TEXT ' + lit(b"\r\n--boundary--\r\n") + b")\r\n",
        ],
        [
            b"* CAPABILITY IMAP4rev1 CATENATE URLAUTH\r\n",
            b"a1 NO [BADURL imap://fred@example.com/INBOX;UIDVALIDITY=385759045/;UID=20/;SECTION=1.2] no such part\r\n",
            b"a1 OK [APPENDUID 385759045 21] CATENATE completed\r\n",
        ],
    ),
    # Gmail X-GM-EXT-1 (https://developers.google.com/gmail/imap/imap-extensions).
    "gmail": (
        [
            b"a1 FETCH 1:4 (X-GM-MSGID X-GM-THRID X-GM-LABELS)\r\n",
            b"a2 UID SEARCH X-GM-RAW \"has:attachment in:unread\"\r\n",
            b"a3 SEARCH X-GM-MSGID 1278455344230334865\r\n",
            b"a4 SEARCH X-GM-THRID 1266894439832287888\r\n",
            b"a5 SEARCH X-GM-LABELS foo\r\n",
            b'a6 STORE 1 +X-GM-LABELS (\\Inbox "Muy Importante" foo)\r\n',
            b"a7 UID STORE 100 -X-GM-LABELS.SILENT (foo)\r\n",
            b"a8 STORE 2 X-GM-LABELS (\\Starred)\r\n",
        ],
        [
            b"* OK Gimap ready for requests from 192.0.2.1\r\n",
            b"* CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584\r\n",
            b"* 1 FETCH (X-GM-THRID 1278455344230334865 X-GM-MSGID 1278455344230334865 X-GM-LABELS (\\Inbox \\Sent Important \"Muy Importante\"))\r\n",
            b"* 2 FETCH (X-GM-THRID 1266894439832287888 X-GM-MSGID 1266894439832287888 X-GM-LABELS (foo))\r\n",
            b"* 3 FETCH (X-GM-THRID 1266894439832287888 X-GM-MSGID 1266894439832287889 X-GM-LABELS ())\r\n",
            b"a1 OK Success\r\n",
            b"* SEARCH 123 12344 5992\r\n",
            b"a2 OK SEARCH completed (Success)\r\n",
            b"* 1 FETCH (X-GM-LABELS (\\Inbox \"Muy Importante\" foo) UID 1)\r\n",
            b"a6 OK Success\r\n",
        ],
    ),
    # Gmail's legacy XLIST (predecessor of SPECIAL-USE).
    "xlist": (
        [b'a1 XLIST "" "*"\r\n'],
        [
            b"* CAPABILITY IMAP4rev1 XLIST\r\n",
            b'* XLIST (\\HasNoChildren \\Inbox) "/" "Inbox"\r\n',
            b'* XLIST (\\Noselect \\HasChildren) "/" "[Gmail]"\r\n',
            b'* XLIST (\\HasNoChildren \\AllMail) "/" "[Gmail]/All Mail"\r\n',
            b'* XLIST (\\HasNoChildren \\Drafts) "/" "[Gmail]/Drafts"\r\n',
            b'* XLIST (\\HasNoChildren \\Important) "/" "[Gmail]/Important"\r\n',
            b'* XLIST (\\HasNoChildren \\Sent) "/" "[Gmail]/Sent Mail"\r\n',
            b'* XLIST (\\HasNoChildren \\Spam) "/" "[Gmail]/Spam"\r\n',
            b'* XLIST (\\HasNoChildren \\Starred) "/" "[Gmail]/Starred"\r\n',
            b'* XLIST (\\HasNoChildren \\Trash) "/" "[Gmail]/Trash"\r\n',
            b"a1 OK XLIST completed\r\n",
        ],
    ),
}


def errata():
    keys = set()
    with open(os.path.join(CORPUS, "errata.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                keys.add(line.split(" ", 1)[0])
    return keys


def skipped(rec, bad):
    note = rec.get("note", "")
    if note.startswith(("elided", "invalid", "incomplete")):
        return True
    if rec.get("kind") == "unknown":
        return True
    return "rfc%d:%d" % (rec["rfc"], rec["line"]) in bad


def corpus_groups():
    bad = errata()
    groups = {}
    for name in sorted(os.listdir(CORPUS)):
        if not (name.startswith("rfc") and name.endswith(".jsonl")):
            continue
        rfc = int(name[3:-6])
        if rfc in BASE:
            continue
        if rfc not in GROUPS:
            sys.exit("make_extension_captures.py: no group name for %s" % name)
        client, server = [], []
        with open(os.path.join(CORPUS, name), encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                rec = json.loads(line)
                if skipped(rec, bad):
                    continue
                data = rec["bytes"].encode("latin-1")
                (client if rec["dir"] == "C" else server).append(data)
        groups[GROUPS[rfc]] = (client, server)
    return groups


def main():
    groups = corpus_groups()
    for name, pair in HAND.items():
        assert name not in groups, name
        groups[name] = pair
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if old.endswith(".imap"):
            os.remove(os.path.join(OUT, old))
    for name in sorted(groups):
        client, server = groups[name]
        for side, msgs in (("client", client), ("server", server)):
            if msgs:
                with open(os.path.join(OUT, "%s.%s.imap" % (name, side)), "wb") as f:
                    f.write(b"".join(msgs))
    print("wrote %d groups to %s" % (len(groups), OUT))


if __name__ == "__main__":
    main()
