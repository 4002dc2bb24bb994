#!/usr/bin/env python3
"""Prints the markdown tables of benches/README.md from the last bench run.

Usage:  python3 benches/report.py [--target DIR] [--scale F] [--estimate median|mean]

Reads (stdlib only):
  DIR/criterion/<corpus>/<decoder>/new/{estimates.json,benchmark.json}   (cargo bench -p imapwire-benches --bench decode)
  DIR/imap-bench/status.tsv    which decoder decoded which corpus completely (same run)
  DIR/imap-bench/alloc.tsv     allocations per message            (cargo bench -p imapwire-benches --bench alloc)
  DIR/bench-corpus/manifest.json   message counts and sizes
DIR defaults to $CARGO_TARGET_DIR, else target/ at the workspace root. With --scale F (a run
with IMAP_BENCH_SCALE=F): bench-corpus-scale-F, imap-bench-scale-F, groups <corpus>-scale-F.

Throughput is corpus bytes (encode: output bytes) over criterion's estimate of the time of one
pass over the whole corpus, the median by default (robust on a shared machine); MB = 10^6 bytes.
A decoder that did not decode every message of a corpus is shown as FAILED (first failing
message number) whatever criterion holds from earlier runs.
"""
import argparse
import csv
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WHOLE = ["memchr-framer", "framer", "ours", "imap-codec-2", "imap-proto"]
STREAM = ["framer-stream16k", "ours-stream16k", "imap-codec-2-stream16k", "imap-proto-stream16k"]
PEERS = ["imap-codec-2", "imap-proto"]
NAMES = {
    "memchr-framer": "memchr framing baseline",
    "framer": "our Framer",
    "ours": "**ours**",
    "imap-codec-2": "imap-codec 2.0.0-alpha.10",
    "imap-proto": "imap-proto 0.17",
    "framer-stream16k": "our Framer",
    "ours-stream16k": "**ours**",
    "imap-codec-2-stream16k": "imap-codec 2.0.0-alpha.10",
    "imap-proto-stream16k": "imap-proto 0.17",
    "ours-encode": "ours: encode",
}
# Targets from the benchmark issue.
DECODE_3X = {"fetch-flags", "fetch-headers", "list", "search", "commands"}
ONE_LINE = {"fetch-flags", "list", "search", "esearch"}  # allocations <= 1 per message
ENVELOPE_BODYSTRUCTURE = {"fetch-headers"}  # allocations <= 5 per message
ENCODE_1GB = {"fetch-headers", "commands"}


def read_tsv(path):
    rows = {}
    if not os.path.exists(path):
        return rows
    with open(path, newline="") as f:
        for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if r and not r[0].startswith("#"):
                rows[(r[0], r[1])] = r
    return rows


class Results:
    def __init__(self, target, suffix, estimate="median"):
        self.estimate = estimate
        self.suffix = suffix
        corpus_dir = os.path.join(target, "bench-corpus" + suffix)
        self.crit = os.path.join(target, "criterion")
        with open(os.path.join(corpus_dir, "manifest.json")) as f:
            self.manifest = json.load(f)
        self.corpora = [e for e in self.manifest["files"]]
        self.status = read_tsv(os.path.join(target, "imap-bench" + suffix, "status.tsv"))
        self.alloc = read_tsv(os.path.join(target, "imap-bench" + suffix, "alloc.tsv"))

    def direction(self, corpus):
        return next(e["direction"] for e in self.corpora if e["name"] == corpus)

    def state(self, corpus, dec):
        """'ok', 'n/a', 'FAILED @N', 'pending' or None (not run)."""
        s = self.status.get((corpus, dec))
        if s is None:
            return None
        if s[2] == "FAILED":
            if dec == "ours-encode":
                return "pending"
            first = s[6].split(" at message ", 1)[1].split(" ", 1)[0] if " at message " in s[6] else "?"
            return "FAILED @%s" % first
        return s[2]

    def timing(self, corpus, dec):
        """(seconds per pass, bytes per pass) or None."""
        d = os.path.join(self.crit, corpus + self.suffix, dec, "new")
        try:
            with open(os.path.join(d, "estimates.json")) as f:
                est = json.load(f)
            with open(os.path.join(d, "benchmark.json")) as f:
                bench = json.load(f)
        except OSError:
            return None
        secs = est[self.estimate]["point_estimate"] / 1e9
        tp = bench.get("throughput") or {}
        nbytes = tp.get("Bytes") or tp.get("BytesDecimal")
        return secs, nbytes

    def mbps(self, corpus, dec):
        """MB/s if measured and the decoder passed the corpus."""
        if self.state(corpus, dec) != "ok":
            return None
        t = self.timing(corpus, dec)
        if not t or not t[1]:
            return None
        return t[1] / t[0] / 1e6

    def msgs(self, corpus, dec, n):
        if self.state(corpus, dec) != "ok":
            return None
        t = self.timing(corpus, dec)
        return n / t[0] if t else None

    def cell(self, corpus, dec, n):
        if dec.startswith("imap-proto") and self.direction(corpus) != "response":
            return "n/a"
        st = self.state(corpus, dec)
        if st is None:
            return "not run"
        if st != "ok":
            return st
        mb, ms = self.mbps(corpus, dec), self.msgs(corpus, dec, n)
        if mb is None:
            return "not measured"
        return "%s (%s)" % (fmt_mb(mb), fmt_n(ms))

    def allocs(self, corpus, dec):
        r = self.alloc.get((corpus, dec))
        if not r:
            return None, "not run"
        allocs, msgs, status = int(r[2]), int(r[4]), r[5]
        if status != "ok":
            if status.startswith("pending"):
                return None, "pending"
            return None, ("FAILED" if "FAILED" in status else status)
        return allocs / msgs, None


def fmt_mb(x):
    return "%.0f" % x if x >= 100 else "%.1f" % x


def fmt_n(x):
    if x >= 1e6:
        return "%.2fM/s" % (x / 1e6)
    if x >= 1e3:
        return "%.1fk/s" % (x / 1e3)
    return "%.1f/s" % x


def ratio(a, b):
    return "%.2f×" % (a / b) if a is not None and b else "–"


def pct(a, b):
    return "%.0f%%" % (100 * a / b) if a is not None and b else "–"


def best_peer(res, name, n, metric="mb"):
    vals = []
    for p in PEERS:
        v = res.mbps(name, p) if metric == "mb" else res.msgs(name, p, n)
        if v is not None:
            vals.append((v, p))
    return max(vals) if vals else (None, None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    ap.add_argument("--target", default=default_target)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--estimate", choices=["median", "mean"], default="median")
    a = ap.parse_args()
    target = os.path.join(ROOT, a.target) if not os.path.isabs(a.target) else a.target
    suffix = "" if a.scale == 1.0 else "-scale-%r" % a.scale
    try:
        res = Results(target, suffix, a.estimate)
    except OSError as e:
        sys.exit("report.py: %s (run `cargo bench -p imapwire-benches --bench decode` first)" % e)

    out = []
    w = out.append
    w("### Decode, whole stream in one buffer")
    w("")
    w("MB/s (messages/s), from criterion's %s time per pass; MB = 10^6 bytes. FAILED @N: the "
      "first message that did not decode (the decoder is then not measured on that corpus)."
      % res.estimate)
    w("")
    head = ["corpus", "msgs", "MB"] + [NAMES[d] for d in WHOLE] + [
        "ours ÷ best peer", "ours ÷ memchr baseline", "ours ÷ our Framer", "best peer ÷ memchr baseline",
        "target"]
    w("| " + " | ".join(head) + " |")
    w("|" + "---|" * len(head))
    for e in res.corpora:
        name, n = e["name"], e["messages"]
        cells = [name, str(n), "%.1f" % (e["bytes"] / 1e6)]
        cells += [res.cell(name, d, n) for d in WHOLE]
        ours = res.mbps(name, "ours")
        base = res.mbps(name, "memchr-framer")
        bpv = best_peer(res, name, n)[0]
        cells.append(ratio(ours, bpv))
        if name == "fetch-bodies":
            ours_m, proto_m = res.msgs(name, "ours", n), res.msgs(name, "imap-proto", n)
            target_txt = "msgs/s ≥ imap-proto: " + (
                "pending" if ours_m is None or proto_m is None else
                ("met" if ours_m >= proto_m else "not met"))
        elif name in DECODE_3X:
            target_txt = "≥ 3× best peer: " + (
                "pending" if ours is None or bpv is None else ("met" if ours >= 3 * bpv else "not met"))
        else:
            target_txt = "–"
        cells.append(pct(ours, base))
        cells.append(pct(ours, res.mbps(name, "framer")))
        cells.append(pct(bpv, base))
        cells.append(target_txt)
        w("| " + " | ".join(cells) + " |")

    w("")
    w("### Decode, fed in 16 KiB chunks")
    w("")
    w("Peers: each chunk is appended to a buffer and decoding is retried from the start of the "
      "pending message; consumed bytes are dropped once per chunk. Ratio: streaming ÷ whole buffer.")
    w("")
    head = ["corpus"] + [NAMES[d] for d in STREAM] + [
        "ours stream ÷ whole", "imap-codec stream ÷ whole", "imap-proto stream ÷ whole",
        "target (ours within 10%)"]
    w("| " + " | ".join(head) + " |")
    w("|" + "---|" * len(head))
    for e in res.corpora:
        name, n = e["name"], e["messages"]
        cells = [name] + [res.cell(name, d, n) for d in STREAM]
        for whole in ["ours", "imap-codec-2", "imap-proto"]:
            cells.append(pct(res.mbps(name, whole + "-stream16k"), res.mbps(name, whole)))
        s, wh = res.mbps(name, "ours-stream16k"), res.mbps(name, "ours")
        cells.append("pending" if s is None or wh is None else ("met" if s >= 0.9 * wh else "not met"))
        w("| " + " | ".join(cells) + " |")

    w("")
    w("### Encode (ours), every decoded message into one reused EncodeBuf")
    w("")
    w("| corpus | MB/s (msgs/s) | allocs/msg | target |")
    w("|---|---|---|---|")
    for e in res.corpora:
        name, n = e["name"], e["messages"]
        mb = res.mbps(name, "ours-encode")
        al, why = res.allocs(name, "ours-encode")
        if name in ENCODE_1GB:
            tgt = "≥ 1000 MB/s, 0 allocs/msg: " + (
                "pending" if mb is None or al is None else
                ("met" if mb >= 1000 and al == 0 else "not met"))
        else:
            tgt = "–"
        w("| %s | %s | %s | %s |" % (name, res.cell(name, "ours-encode", n),
                                     why or "%.2f" % al, tgt))

    w("")
    w("### Heap allocations per message")
    w("")
    w("One pass over the corpus (buffers, decoded values and their drop), divided by the "
      "manifest's message count.")
    w("")
    adecs = ["framer", "ours", "ours-stream16k", "imap-codec-2", "imap-codec-2-stream16k",
             "imap-proto", "imap-proto-stream16k"]
    head = ["corpus"] + [NAMES[d] + (" 16 KiB" if d.endswith("stream16k") else "") for d in adecs] + [
        "target (ours)"]
    w("| " + " | ".join(head) + " |")
    w("|" + "---|" * len(head))
    for e in res.corpora:
        name = e["name"]
        cells = [name]
        for d in adecs:
            if d.startswith("imap-proto") and e["direction"] != "response":
                cells.append("n/a")
                continue
            v, why = res.allocs(name, d)
            cells.append(why if v is None else "%.2f" % v)
        lim = 1 if name in ONE_LINE else 5 if name in ENVELOPE_BODYSTRUCTURE else None
        if lim is None:
            cells.append("–")
        else:
            v = [res.allocs(name, d)[0] for d in ("ours", "ours-stream16k")]
            cells.append("≤ %d: " % lim + (
                "pending" if None in v else ("met" if max(v) <= lim else "not met")))
        w("| " + " | ".join(cells) + " |")
    try:
        print("\n".join(out))
    except BrokenPipeError:  # | head
        pass


if __name__ == "__main__":
    main()
