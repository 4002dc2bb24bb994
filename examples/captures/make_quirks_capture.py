#!/usr/bin/env python3
"""Writes quirks.server.imap: every server quirk sample of imap-codec/tests/data/server-quirks.jsonl
as one server stream (fragments wrapped in a FETCH that carries them), to show
`dissect --server quirks.server.imap` (lenient: decodes all, printing each tolerated defect)
against `--strict` (reports each defect with its offset). Run: python3 make_quirks_capture.py
"""
import json, os

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, "..", "..", "imap-codec", "tests", "data", "server-quirks.jsonl")

def latin1(s):
    return bytes(ord(c) & 0xFF for c in s)

WRAP = {
    "addrlist-empty-parens-mailru": (b"* 1 FETCH (ENVELOPE ", b")\r\n"),
    "gmail-related-pseudo-part": (b"* 1 FETCH (BODYSTRUCTURE ", b")\r\n"),
    "mpart-nil-children": (b"* 1 FETCH (BODYSTRUCTURE ", b")\r\n"),
    "negative-octets-appledouble": (b"* 1 FETCH (BODYSTRUCTURE ", b")\r\n"),
    "number-exponent-mailru": (b"* 1 FETCH (BODYSTRUCTURE ", b")\r\n"),
    "onepart-all-nil-o365": (b"* 1 FETCH (BODYSTRUCTURE ", b")\r\n"),
    "negative-octets-smartermail": (b"* 1 FETCH (", b") \"mixed\"))\r\n"),
    "unescaped-dquote-163": (b"* 1 FETCH (", b")\r\n"),
    "fetch-sp-before-paren-qq": (b"* ", b"\r\n"),
    "id-trailing-sp-archiveopteryx": (b"* ", b"\r\n"),
    "quota-set-capability-stalwart": (b"* CAPABILITY IMAP4rev1 ", b"\r\n"),
}
# Not single responses: the overflowing literal announcement is a framing error by design,
# and the tail of a literal needs its head (see tests/quirks.rs).
SKIP = {"literal-len-overflow", "fetch-items-after-literal-valid"}

out = bytearray()
for line in open(src, encoding="utf-8"):
    r = json.loads(line)
    if r["id"] in SKIP:
        continue
    b = latin1(r["bytes"])
    pre, post = WRAP.get(r["id"], (b"", b""))
    out += pre + b + post
with open(os.path.join(here, "quirks.server.imap"), "wb") as f:
    f.write(out)
