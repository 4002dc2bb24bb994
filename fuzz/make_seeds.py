#!/usr/bin/env python3
"""Writes seed corpora for the fuzz targets from the RFC example corpus and the server quirks.

Usage: python3 fuzz/make_seeds.py   (from the repository root or fuzz/)
Seeds go to fuzz/corpus/<target>/ (not committed; regenerate any time). The first byte of a
decoder seed selects the profile (even: strict, odd: lenient), so each sample is written
twice.
"""
import glob, hashlib, json, os

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "..", "imap-codec", "tests", "data")

def latin1(s):
    return bytes(ord(c) & 0xFF for c in s)

targets = {
    "decode_greeting": [], "decode_command": [], "decode_response": [],
    "decode_continuation": [], "decode_authenticate_data": [], "decode_idle_done": [],
    "framer_chunking": [], "inject_defects": [],
}
for path in glob.glob(os.path.join(data, "rfc-examples", "*.jsonl")):
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        b = latin1(r["bytes"])
        k = r["kind"]
        if k.startswith("command:"):
            targets["decode_command"].append(b)
        elif k == "authenticate-data":
            targets["decode_authenticate_data"].append(b)
        elif k == "idle-done":
            targets["decode_idle_done"].append(b)
        elif k == "greeting":
            targets["decode_greeting"].append(b)
        elif k == "continuation":
            targets["decode_continuation"].append(b[1:])
        else:
            targets["decode_response"].append(b)
            # inject_defects: odd mode byte (the message follows raw), cell, site (u16)
            n = len(targets["inject_defects"])
            targets["inject_defects"].append(bytes([1, n % 251, n % 7, 0]) + b)
        targets["framer_chunking"].append(b"\x05\x40\x40\x40" + b)
for line in open(os.path.join(data, "server-quirks.jsonl"), encoding="utf-8"):
    r = json.loads(line)
    b = latin1(r["bytes"])
    targets["decode_response"].append(b)
    targets["framer_chunking"].append(b"\x07\x10\x10\x10" + b)

for t, seeds in targets.items():
    d = os.path.join(here, "corpus", t)
    os.makedirs(d, exist_ok=True)
    for s in seeds:
        for sel in (b"\x00", b"\x01") if t.startswith("decode_") else (b"",):
            blob = sel + s
            name = hashlib.sha1(blob).hexdigest()
            with open(os.path.join(d, name), "wb") as f:
                f.write(blob)
    print(t, len(os.listdir(d)))
