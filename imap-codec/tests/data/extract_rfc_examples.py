#!/usr/bin/env python3
"""Extract the C:/S: protocol examples of the IMAP RFCs into JSONL test data.

Usage (from the workspace root):

    python3 imap-codec/tests/data/extract_rfc_examples.py [--rfc-dir DIR] [--out-dir DIR] [--debug]

Reads the plain-text RFCs (default ../shared/rfc beside the workspace root, or
$IMAP_RFC_DIR) and
writes one rfcNNNN.jsonl per RFC into imap-codec/tests/data/rfc-examples/.
Each line is one complete IMAP message in one direction; see README.md there.

Only the Python 3 standard library is used.  The output is deterministic.

What the script does to the RFC text, and nothing more:
  * removes page furniture (form feeds, page headers and footers, and the
    blank lines around them) and the example indentation;
  * removes the "C:"/"S:" prefix and the spaces after it;
  * joins wrapped lines (a following, deeper-indented line without prefix),
    normally with one SP, with nothing where the grammar forbids a SP
    (after "(", before ")", between the addresses of an address list,
    between the parts of a multipart body, inside base64 SASL data), or as
    given in JOIN_OVERRIDES after manual review;
  * assembles literals ({N}, {N+}, ~{N}) and rewrites N to the real length;
  * appends CRLF to every line.
Per-example decisions that cannot be derived mechanically are in the
override tables below, keyed by (rfc, line number of the example line in
the .txt file).
"""

import argparse
import glob
import json
import os
import re
import sys

DEBUG = False
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "rfc-examples")
DEFAULT_RFC_DIR = os.environ.get(
    "IMAP_RFC_DIR",
    # <workspace>/imap-codec/tests/data -> <workspace>/../shared/rfc
    os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared", "rfc")),
)

# ---------------------------------------------------------------------------
# Manual decisions (reviewed against the RFC text).
# ---------------------------------------------------------------------------

# (rfc, line of the continuation line) -> string used to join it to the
# previous line, overriding the automatic choice.
JOIN_OVERRIDES = {
    # wrap inside a quoted URL: no SP
    (4469, 549): "",
    # tagged-ext-comp *(SP tagged-ext-comp): the two lists are SP-separated
    (9051, 5689): " ",
}

# (rfc, line of the first line of the message) -> note.  Notes starting with
# "elided" mark placeholders, "invalid:" examples that break the RFC's own
# grammar.
NOTES = {
    (3501, 2981): "elided: XXXXXX is the RFC's placeholder for 6 octets of "
                  "8-bit (UTF-8) data (see the note after the example)",
    (9051, 4224): "elided: XXXX is a placeholder for 4 octets of KOI8-R text",
    (5182, 254): "elided: YYYYYYYY is the RFC's placeholder for 8 octets of "
                 "8-bit (UTF-8) data (see the note after the example)",
    (5182, 294): "elided: XXXX is a placeholder for 4 octets of KOI8-R text",
    (3501, 4410): "invalid: BLURDYBLOOP is not a command (the RFC shows it "
                  "being rejected); the literal data is never sent, so the "
                  "message ends after the {102856} announcement",
    (5819, 150): "invalid: no SP between \"(SUBSCRIBED RECURSIVEMATCH)\" and "
                 "the reference name \"\" (RFC typo; RFC 9051 copies it with the SP)",
    (4549, 534): "elided: the BODY[] literal data is shown as '...' "
                 "placeholders, so its length is meaningless",
    (4549, 577): "elided: BODY[] has no literal; the message body and the "
                 "closing ')' follow on lines 579-580",
    (4549, 579): "elided: '...message body...' placeholder (part of the "
                 "FETCH response at line 577)",
    (4549, 580): "elided: closing ')' of the FETCH response at line 577",
    (5465, 872): "invalid: ESEARCH return data \"(COUNT 17)\" is parenthesised "
                 "(search-return-data is name SP value, RFC typo)",
    (5465, 875): "invalid: \"* EXISTS 93\" has the number after the keyword "
                 "(should be \"* 93 EXISTS\", RFC typo)",
    (6851, 196): "elided: \"(more expunges)\" stands for further EXPUNGE "
                 "responses",
    (8474, 401): "elided: the literal data is abbreviated with [...] in the "
                 "RFC; only the command line is given",
    (8474, 408): "elided: the literal data is abbreviated with [...] in the "
                 "RFC; only the command line is given",
    (8474, 416): "elided: the literal data is abbreviated with [...] in the "
                 "RFC; only the command line is given",
    (9051, 6199): "invalid: BLURDYBLOOP is not a command (the RFC shows it "
                  "being rejected); the literal data is never sent, so the "
                  "message ends after the {102856} announcement",
}

# (rfc, line) of unprefixed lines at the *same* indentation as the C:/S:
# prefix that continue the previous example line (by default such lines
# are editorial comments).
SAME_INDENT_CONT = {
    (3501, 1353),  # "LOGINDISABLED" (CAPABILITY response wrapped)
    (9051, 5118),  # "that need to be deleted first" (resp-text wrapped)
    (4469, 549),   # BADURL "...;" / "section=1.5.9" (quoted URL wrapped)
    (5465, 495),   # "101)" (STATUS response wrapped)
    (7162, 1490),  # "mod-sequence" (resp-text wrapped)
    (7162, 1494),  # "\Deleted \Seen \*)] Permanent flags"
    (9208, 353),   # "QUOTA=RES-" / "MESSAGE [...]" (capability split at "-")
    (9208, 408),
}

# (rfc, first line, last line) -> dir: unprefixed lines that are literal
# data lines of the given direction (the RFC omitted the prefix).
UNPREFIXED_DATA = {
    (5464, 608, 610): "C",
}

# (rfc, line) of unprefixed lines inside an example that are editorial
# comments although they look like wrapped continuation lines.
COMMENT_LINES = {
    (4959, 156), (4959, 157),  # "(note that there is a space following ...)"
    (4959, 192), (4959, 193),
    # "(Time passes.  ...)" narrative inside the NOTIFY example
    (5465, 364), (5465, 365), (5465, 368),
} | {(5465, n) for n in range(376, 386)}

# (rfc, line) where the automatic notes (elided/doubled SP) are wrong.
NO_AUTO_NOTES = set()

# (rfc, line) -> kind, overriding the automatic classification.
KIND_OVERRIDES = {
    # untagged OK with a CAPABILITY code in the middle of a session, not a
    # greeting (the example shows only the end of the exchange)
    (9698, 185): "untagged:OK",
}

# (rfc, line) of C:/S: lines that are not wire examples at all (prose,
# templates); they are dropped.
SKIP_LINES = set()

# rfc -> set of (start, end) line ranges (inclusive) to drop entirely
# (e.g. SASL-generic examples that are not IMAP wire data).
SKIP_RANGES = {
    7628: [(680, 699), (809, 856)],  # SMTP examples (4.1 second half, 4.4)
}

# RFCs whose C:/S: examples are not IMAP at all (ACAP, or the bare SASL
# mechanism exchange): nothing is extracted from them.
NOT_IMAP = {
    4422: "ACAP and abstract SASL-framework exchanges, not IMAP",
    4616: "ACAP examples, not IMAP",
    5802: "bare SCRAM mechanism messages, not IMAP wire data",
    7677: "bare SCRAM mechanism messages, not IMAP wire data",
}

PLUS_SP_NOTE = (
    "adjusted: SP after '+' restored (the RFC text has no trailing "
    "whitespace; continue-req is \"+\" SP ...)"
)

# RFCs whose examples use RFC 8792 '\' line folding.
RFC8792_FOLDING = {9590}

# RFCs to process, besides the top-level rfc*.txt files.
EXTRA_FILES = ["extra/rfc2087.txt"]

# Draft sources used in place of RFCs whose text is not available:
# file -> RFC number it became.
DRAFT_FILES = {"drafts/draft-ietf-extra-jmapaccess.md": 9698}

# ---------------------------------------------------------------------------

PREFIX_RE = re.compile(
    r"^(?P<lead>[ ]*(?:Examples?(?: \d+)?:[ ]+)?)(?P<dir>[CS]):(?P<rest>(?:[ ].*)?)$"
)
HEADING_RE = re.compile(r"^(?:Appendix[ ]+)?((?:[A-Z]|\d+)(?:\.\d+)*)\.?[ ]+\S")
LITERAL_RE = re.compile(r"(~?)\{(\d+)(\+?)\}$")
B64_RE = re.compile(r"^[A-Za-z0-9+/]+=*$")
PAGE_FOOTER_RE = re.compile(r"\[Page \d+\]\s*$")
PAGE_HEADER_RE = re.compile(r"^RFC \d+ .*\S\s*$")


def load_lines(path):
    """Return [(lineno, text)] with page furniture removed.

    lineno is the 1-based line number in the file.  Blank lines around a page
    break are dropped so that an example broken over two pages stays one
    block.
    """
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    text = data.decode("utf-8")
    raw = text.split("\n")
    if path.endswith(".md"):
        # kramdown-rfc source: drop the <br> line-break markup and turn
        # "# Title {#anchor}" headings into "N  Title" section lines
        out = []
        for i, l in enumerate(raw):
            l = re.sub(r"<br>\s*$", "", l)
            hm = re.match(r"^(#+)\s+(.*?)\s*(\{#[^}]*\})?\s*$", l)
            if hm:
                out.append((i + 1, "\x00" + hm.group(2)))
            else:
                out.append((i + 1, l))
        return out
    lines = [(i + 1, l.rstrip("\r")) for i, l in enumerate(raw)]
    drop = set()
    for idx, (_, l) in enumerate(lines):
        if "\f" not in l:
            continue
        drop.add(idx)
        # footer: previous non-blank line
        j = idx - 1
        while j >= 0 and lines[j][1].strip() == "":
            j -= 1
        if j >= 0 and PAGE_FOOTER_RE.search(lines[j][1]):
            drop.add(j)
            j -= 1
            while j >= 0 and lines[j][1].strip() == "":
                drop.add(j)
                j -= 1
        # header: this line (after the FF) or the next non-blank line
        k = idx
        if l.replace("\f", "").strip() == "":
            k = idx + 1
            while k < len(lines) and lines[k][1].strip() == "":
                drop.add(k)
                k += 1
        if k < len(lines) and PAGE_HEADER_RE.match(lines[k][1].replace("\f", "")):
            drop.add(k)
            k += 1
            while k < len(lines) and lines[k][1].strip() == "":
                drop.add(k)
                k += 1
    out = []
    for idx, (n, l) in enumerate(lines):
        if idx in drop:
            continue
        out.append((n, l.replace("\f", "")))
    return out


def indent_of(s):
    return len(s) - len(s.lstrip(" "))


def is_comment(s):
    """Editorial lines inside an example block (not protocol data)."""
    t = s.strip()
    return (
        (t.startswith("<") and t.endswith(">"))
        or t.startswith("//")
        or t.startswith("...")
        or t.startswith(". . .")
        or t.startswith("[...")
        or re.match(r"^\[[0-9a-z][0-9a-z .,'-]*\]$", t) is not None
        or t.startswith("==========")
    )


ELLIPSIS_ONLY_RE = re.compile(r"^(?:\.\.\.|\[\.\.\.\]|\. \. \.)(?:\s+\(.*\))?$")


class Phys:
    """One C:/S: line with its wrapped continuation lines."""

    def __init__(self, lineno, d, text, col, section):
        self.lineno = lineno
        self.dir = d
        self.text = text          # payload of the first physical line
        self.col = col            # column of the prefix
        self.section = section
        self.conts = []           # [(lineno, stripped text, raw)]
        self.raw_rest = ""
        self.after_comment = False  # an editorial line precedes this one
        self.ellipsis = False


def parse_blocks(rfc, lines):
    """Group example lines into blocks.  Returns [[Phys, ...], ...]."""
    section = ""
    blocks = []
    cur = None
    last = None  # last Phys in current block, for continuations
    comment_seen = False
    skip_ranges = SKIP_RANGES.get(rfc, ())
    blank_before = False
    for idx_l, (n, l) in enumerate(lines):
        blank_before = idx_l > 0 and lines[idx_l - 1][1].strip() == ""
        if any(a <= n <= b for a, b in skip_ranges):
            continue
        m = PREFIX_RE.match(l)
        for (ra, a, b), d in UNPREFIXED_DATA.items():
            if ra == rfc and a <= n <= b:
                ind = indent_of(l)
                m = PREFIX_RE.match(" " * ind + d + ": " + l.strip())
        if m and (rfc, n) not in SKIP_LINES:
            col = len(m.group("lead"))
            rest = m.group("rest")
            p = Phys(n, m.group("dir"), rest, col, section)
            p.raw_rest = rest
            p.after_comment = comment_seen
            comment_seen = False
            # "S: ..." / "S: [...]": an ellipsis standing for omitted
            # lines; dropped unless it is part of literal data
            p.ellipsis = bool(ELLIPSIS_ONLY_RE.match(rest.strip()))
            if cur is None:
                cur = []
                blocks.append(cur)
            cur.append(p)
            last = p
            continue
        hm = HEADING_RE.match(l)
        if l.startswith("\x00"):
            section = l[1:]
            cur = None
            last = None
            continue
        if hm and not l.startswith(" "):
            section = hm.group(1)
            cur = None
            last = None
            continue
        if l.strip() == "":
            last = None  # a blank line ends continuation, not the block
            continue
        if (rfc, n) in COMMENT_LINES:
            comment_seen = True
            continue
        if cur is None:
            continue
        ind = indent_of(l)
        if (
            last is not None
            and (ind > last.col or (rfc, n) in SAME_INDENT_CONT)
            and not is_comment(l)
        ):
            last.conts.append((n, l.strip(), l))
            if ind == last.col and DEBUG:
                print("SAMEIND", rfc, n, repr(l.strip()), sep="\t")
            continue
        blk_col = cur[-1].col
        if is_comment(l) or ind > blk_col or (ind == blk_col and not blank_before):
            last = None
            comment_seen = True
            continue
        # prose: ends the block
        cur = None
        last = None
    return blocks


def strip_payload(rest):
    """Remove the space(s) after the C:/S: prefix."""
    return rest.lstrip(" ")


def auto_join(prev, nxt, ctx_b64):
    """Choose the string that replaces a line break inside a wrapped line."""
    if prev.endswith(",") and nxt[:1].isdigit():
        return ""  # inside a sequence-set: no SP allowed
    if re.search(r"[A-Za-z]-$", prev) and nxt[:1].isalpha():
        return ""  # word broken at a hyphen ("QUOTA=RES-" / "MESSAGE")
    if ctx_b64 and B64_RE.match(nxt):
        return ""
    toks = prev.split(" ")
    if (
        len(toks) >= 4
        and toks[1].upper() == "AUTHENTICATE"
        and B64_RE.match(toks[-1])
        and B64_RE.match(nxt)
    ):
        # SASL-IR initial response wrapped "for readability"
        return ""
    if prev.endswith("(") or nxt.startswith(")"):
        return ""
    if prev.endswith("[") or nxt.startswith("]"):
        return ""
    if prev.endswith(")") and nxt.startswith("(") and nested_list_ctx(prev):
        return ""
    return " "


def nested_list_ctx(prev):
    """True if a ')' '(' break sits between two elements of a list whose
    elements are not SP-separated (address lists, multipart body parts).

    Heuristic: look at the parenthesis depth just before the last ')' of
    prev.  If the item closed by that ')' was itself preceded directly by
    '(' or ')' (i.e. it is a parenthesised item inside a list of
    parenthesised items with no SP between them), then no SP.
    """
    # find the start of the parenthesised group closed by the final ')'
    depth = 0
    in_q = False
    i = len(prev) - 1
    start = None
    while i >= 0:
        c = prev[i]
        if c == '"' and (i == 0 or prev[i - 1] != "\\"):
            in_q = not in_q
        elif not in_q:
            if c == ")":
                depth += 1
            elif c == "(":
                depth -= 1
                if depth == 0:
                    start = i
                    break
        i -= 1
    if start is None or start == 0:
        return False
    before = prev[start - 1]
    return before in "()"


class Msg:
    def __init__(self, rfc, first, kind_dir):
        self.rfc = rfc
        self.line = first.lineno
        self.section = first.section
        self.dir = kind_dir
        self.parts = []   # str pieces (text, already with CRLFs)
        self.notes = []
        self.kind = None
        self.first_text = None
        self.nonlit = []  # the non-literal text of the message


def logical_text(rfc, p, b64ctx, joins_log):
    s = strip_payload(p.text)
    for (n, t, raw) in p.conts:
        if rfc in RFC8792_FOLDING and s.endswith("\\"):
            # RFC 8792 single-backslash folding: drop the "\" and the
            # continuation line's leading whitespace
            joins_log.append((rfc, n, s[-30:], "<8792>", t[:30], ""))
            s = s[:-1] + t
            continue
        j = JOIN_OVERRIDES.get((rfc, n))
        auto = auto_join(s, t, b64ctx)
        if j is None:
            j = auto
        joins_log.append((rfc, n, s[-30:], j, t[:30], auto))
        s = s + j + t
    return s


def classify_client(text, state):
    toks = text.split(" ")
    if state.get("auth_tag") is not None:
        return "authenticate-data"
    if state.get("idle_tag") is not None and text.upper() == "DONE":
        return "idle-done"
    if len(toks) < 2 or text.startswith("..."):
        return "unknown"
    name = toks[1].upper()
    if name == "UID" and len(toks) > 2:
        name = "UID " + toks[2].upper()
    return "command:" + name


def classify_server(text, first_in_block, followed_by_client):
    toks = text.split(" ")
    if text == "+" or text.startswith("+ ") or text.startswith("+"):
        return "continuation"
    if toks[0] == "*":
        if len(toks) < 2:
            return "unknown"
        k = toks[1].upper()
        if (k.isdigit() or k == "...") and len(toks) > 2:
            k = toks[2].upper()
            # strip a possible "(" glued to the keyword
        k = k.split("(")[0].split("[")[0]
        if k in ("OK", "PREAUTH", "BYE") and first_in_block and followed_by_client:
            return "greeting"
        return "untagged:" + k
    if len(toks) >= 2 and toks[1].upper() in ("OK", "NO", "BAD"):
        return "tagged:" + toks[1].upper()
    return "unknown"


def process_rfc(rfc, path, debug=False):
    lines = load_lines(path)
    blocks = parse_blocks(rfc, lines)
    out = []
    joins_log = []
    lit_log = []
    for block in blocks:
        state = {"auth_tag": None, "idle_tag": None}
        # Build logical lines first (need auth context for base64 joins,
        # so do it on the fly).
        i = 0
        n = len(block)
        first_server_done = False
        saw_client = False
        while i < n:
            p = block[i]
            if p.ellipsis:
                i += 1
                continue
            b64ctx = False
            raw0 = strip_payload(p.text)
            if p.dir == "C" and state["auth_tag"] is not None:
                b64ctx = True
            if p.dir == "S" and raw0.startswith("+ ") and B64_RE.match(raw0[2:].strip() or "x"):
                b64ctx = True
            if p.dir == "C" and " AUTHENTICATE " in (" " + raw0.upper() + " "):
                b64ctx = False
            text = logical_text(rfc, p, b64ctx, joins_log)
            msg = Msg(rfc, p, p.dir)
            msg.first_text = text
            if p.dir == "C":
                msg.kind = classify_client(text, state)
            else:
                followed = any(q.dir == "C" for q in block[i + 1:])
                msg.kind = classify_server(
                    text, (not first_server_done) and (not saw_client) and i == 0, followed
                )
            i += 1
            # literals
            pieces = []
            cur = text
            pending = []  # continuation messages emitted while collecting
            while True:
                m = LITERAL_RE.search(cur)
                msg.nonlit.append(cur)
                if not m:
                    pieces.append(cur + "\r\n")
                    break
                tilde, count, plus = m.group(1), int(m.group(2)), m.group(3)
                head = cur[: m.start()]
                # find data lines
                data = []
                j = i
                if p.dir == "C" and not plus:
                    # synchronizing: expect "+" from the server (may be omitted)
                    if j < n and block[j].dir == "S":
                        t = strip_payload(block[j].text)
                        if t.startswith("+"):
                            pending.append(j)
                            j += 1
                        else:
                            data = None
                if data is not None:
                    k = j
                    while k < n and block[k].dir == p.dir:
                        q = block[k]
                        if q.after_comment and data:
                            break  # "..." etc. between data lines
                        data.append((k, q))
                        k += 1
                if data and any(q.ellipsis for (_, q) in data):
                    msg.notes.append("elided: literal data contains '...' placeholders")
                if not data:
                    # no literal data shown
                    pieces.append(cur + "\r\n")
                    msg.notes.append(
                        "incomplete: the literal data is never sent (the "
                        "server answers the command line without a "
                        "continuation request); the message ends after "
                        "the literal announcement"
                    )
                    i = j if data is not None else i
                    break
                lit, rest, used, how = choose_literal(rfc, data, count, p.dir)
                actual = len(lit.encode("utf-8"))
                lit_log.append((rfc, msg.line, count, actual, how))
                newhead = "%s%s{%d%s}" % (head, tilde, actual, plus)
                if actual != count:
                    msg.notes.append("literal length adjusted from %d" % count)
                pieces.append(newhead + "\r\n" + lit)
                i = used
                cur = rest
            # emit continuation(s) collected from the server first
            for j in pending:
                q = block[j]
                t = logical_text(rfc, q, True, joins_log)
                cm = Msg(rfc, q, "S")
                cm.kind = "continuation"
                cm.parts = [t + "\r\n"]
                if t == "+":
                    cm.parts = ["+ \r\n"]
                    cm.notes.append(PLUS_SP_NOTE)
                out.append(cm)
            if msg.kind == "continuation" and pieces == ["+\r\n"]:
                pieces = ["+ \r\n"]
                msg.notes.append(PLUS_SP_NOTE)
            msg.parts = pieces
            out.append(msg)
            # state updates
            if p.dir == "C":
                saw_client = True
                toks = text.split(" ")
                if msg.kind == "command:AUTHENTICATE":
                    state["auth_tag"] = toks[0]
                elif msg.kind == "command:IDLE":
                    state["idle_tag"] = toks[0]
                elif msg.kind == "idle-done":
                    pass
            else:
                first_server_done = True
                toks = text.split(" ")
                if toks and toks[0] not in ("*", "+") and len(toks) > 1 and toks[1].upper() in ("OK", "NO", "BAD"):
                    if toks[0] == state["auth_tag"]:
                        state["auth_tag"] = None
                    if toks[0] == state["idle_tag"]:
                        state["idle_tag"] = None
    # Re-sort by line so that continuations appear in file order.
    out.sort(key=lambda m: m.line)
    return out, joins_log, lit_log


def choose_literal(rfc, data, count, d):
    """data: [(index in block, Phys)] of following same-direction lines.

    Returns (literal, rest_of_line, next_index, how).
    """
    texts = []
    for (k, q) in data:
        # literal lines keep their own leading spaces beyond the prefix's
        # single SP, so compute relative to the minimum
        texts.append(q)
    # payload strings: remove one SP after prefix; additionally remove the
    # common indentation of the literal lines (sample-connection sections
    # use several spaces after the prefix)
    pay = []
    for q in texts:
        r = q.text
        pay.append(r)
    nonempty = [r for r in pay if r.strip()]
    common = min((indent_of(r) for r in nonempty), default=1)
    common = max(common, 1) if nonempty else 1
    pay = [r[common:] if r.strip() else "" for r in pay]
    # continuation lines inside literal data: join with CRLF? They are
    # wrapped text of the literal; treat as separate lines is wrong, keep
    # a single SP join.
    for idx, q in enumerate(texts):
        for (_, t, _) in q.conts:
            pay[idx] = pay[idx] + " " + t
    best = None
    # exact mid-line / end-of-line match
    acc = ""
    for idx, r in enumerate(pay):
        base = acc
        L = len(base.encode("utf-8"))
        rb = r.encode("utf-8")
        if L + len(rb) >= count:
            m = count - L
            lit = base + rb[:m].decode("utf-8", "replace")
            rest = rb[m:].decode("utf-8", "replace")
            if len(lit.encode("utf-8")) == count and (
                rest == "" or rest[0] in " )]"
            ):
                best = (lit, rest, data[idx][0] + 1, "exact")
                if rest == "" and idx + 1 < len(pay) and pay[idx + 1].startswith(")"):
                    # the data ends without CRLF and the rest of the
                    # command is shown on the next line: "... {33}" /
                    # "data" / ")"
                    best = (lit, pay[idx + 1], data[idx + 1][0] + 1, "exact-eol-rest")
            break
        acc = base + r + "\r\n"
        if len(acc.encode("utf-8")) == count and idx + 1 < len(pay):
            best = (acc, pay[idx + 1], data[idx + 1][0] + 1, "exact")
            break
    if best:
        return best
    # nearest line-boundary split: literal = lines[0:k] each + CRLF,
    # rest = lines[k] (must look like the end of a message) or end.
    cands = []
    acc = ""
    for k in range(1, len(pay) + 1):
        acc = acc + pay[k - 1] + "\r\n"
        if k < len(pay):
            rest = pay[k]
            if rest == "" or rest[0] in " )":
                cands.append((abs(len(acc.encode()) - count), acc, rest, data[k][0] + 1, "nearest-crlf"))
        # literal without final CRLF; message ends at this line
        lit = acc[:-2]
        cands.append((abs(len(lit.encode()) - count) + 0.5, lit, "", data[k - 1][0] + 1, "nearest-eol"))
    cands.sort(key=lambda c: c[0])
    _, lit, rest, nxt, how = cands[0]
    return lit, rest, nxt, how


def auto_notes(m):
    """Automatic flags: elisions and doubled SP outside quoted strings
    (checked on the non-literal parts of the message only)."""
    notes = []
    text = m.first_text or ""
    status_kinds = ("untagged:OK", "untagged:NO", "untagged:BAD",
                    "untagged:BYE", "untagged:PREAUTH", "greeting")
    if m.kind and (m.kind.startswith("tagged:") or m.kind in status_kinds):
        # "..." in the human-readable text is just text; only look at
        # the tag, the status word and a response code
        toks = text.split(" ")
        if len(toks) <= 2:
            notes.append("invalid: status response without SP and text "
                         "(resp-text is required)")
        head = " ".join(toks[:2])
        rest = text[len(head) + 1:]
        if rest.startswith("["):
            head += " " + rest.split("]", 1)[0]
        text = head
    if "..." in text or "\u2026" in text:
        notes.append("elided: contains '...' placeholder")
    unq = re.sub(r'"(?:[^"\\]|\\.)*"', '""', "".join(m.nonlit))
    ph = re.search(r"<[^>]+>", unq)
    if ph and m.kind != "continuation" and not m.kind.startswith("tagged:"):
        notes.append("elided: contains placeholder %s" % ph.group(0))
    # doubled SP outside quoted strings
    in_q = False
    prev = ""
    for i, c in enumerate(text):
        if c == '"' and (i == 0 or text[i - 1] != "\\"):
            in_q = not in_q
        if not in_q and c == " " and prev == " ":
            if m.kind and (m.kind.startswith("tagged:") or m.kind in (
                    "untagged:OK", "untagged:NO", "untagged:BAD",
                    "untagged:BYE", "untagged:PREAUTH", "greeting",
                    "continuation")):
                # doubled SP inside human-readable text is allowed;
                # only flag it before the text starts
                head = text.split("]", 1)[0] if "[" in text else " ".join(text.split(" ")[:2])
                if i > len(head) + 1:
                    break
            notes.append("invalid: doubled SP (RFC typo)")
            break
        prev = c
    # parenthesis balance outside quoted strings (data responses and
    # commands only; human-readable text may contain anything)
    if m.kind and not (m.kind.startswith("tagged:") or m.kind in (
            "untagged:OK", "untagged:NO", "untagged:BAD", "untagged:BYE",
            "untagged:PREAUTH", "greeting", "continuation",
            "authenticate-data")):
        depth = 0
        in_q = False
        esc = False
        for c in "".join(m.nonlit):
            if in_q:
                if esc:
                    esc = False
                elif c == "\\":
                    esc = True
                elif c == '"':
                    in_q = False
                continue
            if c == '"':
                in_q = True
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
        if depth != 0 and not any(x.startswith("elided") for x in notes):
            notes.append("invalid: unbalanced parentheses (RFC typo)")
    if m.kind == "unknown" and m.dir == "S" and not notes:
        notes.append("invalid: not a valid response line (RFC typo)")
    return notes


def to_json_bytes(s):
    return s.encode("utf-8").decode("latin-1")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rfc-dir", default=DEFAULT_RFC_DIR)
    ap.add_argument("--out-dir", default=DEFAULT_OUT)
    ap.add_argument("--debug", action="store_true")
    ap.add_argument("only", nargs="*", help="RFC numbers to process (default all)")
    args = ap.parse_args()
    global DEBUG
    DEBUG = args.debug
    files = sorted(glob.glob(os.path.join(args.rfc_dir, "rfc*.txt")))
    files += [os.path.join(args.rfc_dir, f) for f in EXTRA_FILES]
    files += [os.path.join(args.rfc_dir, f) for f in DRAFT_FILES]
    os.makedirs(args.out_dir, exist_ok=True)
    summary = []
    flagged = []
    for path in files:
        rel = os.path.relpath(path, args.rfc_dir)
        if rel in DRAFT_FILES:
            rfc = DRAFT_FILES[rel]
        else:
            rfc = int(re.search(r"rfc(\d+)\.txt$", path).group(1))
        if args.only and str(rfc) not in args.only:
            continue
        if rfc in NOT_IMAP:
            summary.append((rfc, 0))
            continue
        msgs, joins, lits = process_rfc(rfc, path, args.debug)
        if args.debug:
            for j in joins:
                print("JOIN", *j, sep="\t")
            for l in lits:
                print("LIT", *l, sep="\t")
        if not msgs:
            summary.append((rfc, 0))
            continue
        outp = os.path.join(args.out_dir, "rfc%d.jsonl" % rfc)
        with open(outp, "w", encoding="ascii", newline="\n") as f:
            for m in msgs:
                notes = list(m.notes)
                if (rfc, m.line) not in NO_AUTO_NOTES:
                    for a in auto_notes(m):
                        if a not in notes:
                            notes.append(a)
                extra = NOTES.get((rfc, m.line))
                if extra:
                    # a manual note replaces the automatic ones, except
                    # for literal-length adjustments
                    notes = [extra] + [x for x in notes if x.startswith("literal length adjusted")]
                kind = KIND_OVERRIDES.get((rfc, m.line), m.kind)
                rec = {
                    "rfc": rfc,
                    "section": m.section,
                    "line": m.line,
                    "dir": m.dir,
                    "bytes": to_json_bytes("".join(m.parts)),
                    "kind": kind,
                }
                if notes:
                    rec["note"] = "; ".join(notes)
                    flagged.append(rec)
                f.write(json.dumps(rec, ensure_ascii=True) + "\n")
        summary.append((rfc, len(msgs)))
    for rfc, c in summary:
        print("rfc%d\t%d" % (rfc, c), file=sys.stderr)
    if not args.only:
        write_readme(args.out_dir, summary, flagged)


def write_readme(out_dir, summary, flagged):
    tpl = README_TEMPLATE
    rows = ["| RFC | messages | flagged |", "| --- | ---: | ---: |"]
    nflag = {}
    for r in flagged:
        nflag[r["rfc"]] = nflag.get(r["rfc"], 0) + 1
    total = 0
    for rfc, c in sorted(summary):
        if c == 0:
            why = NOT_IMAP.get(rfc, "no C:/S: examples")
            rows.append("| %d | 0 (%s; no file) | |" % (rfc, why))
        else:
            rows.append("| %d | %d | %d |" % (rfc, c, nflag.get(rfc, 0)))
        total += c
    rows.append("| **total** | **%d** | **%d** |" % (total, len(flagged)))
    fl = []
    for r in sorted(flagged, key=lambda r: (r["rfc"], r["line"])):
        b = r["bytes"]
        short = b.split("\r\n", 1)[0]
        if len(short) > 60:
            short = short[:57] + "..."
        short = short.replace("|", "\\|").replace("`", "'")
        fl.append("| %d | %d | %s | `%s` | %s |" % (
            r["rfc"], r["line"], r["dir"], short,
            r["note"].replace("|", "\\|")))
    text = tpl.replace("{{COUNTS}}", "\n".join(rows))
    text = text.replace("{{FLAGGED}}", "\n".join(
        ["| RFC | line | dir | first line | note |",
         "| ---: | ---: | --- | --- | --- |"] + fl))
    with open(os.path.join(out_dir, "README.md"), "w", encoding="utf-8") as f:
        f.write(text)


README_TEMPLATE = r"""# RFC protocol examples as test data

Every `C:`/`S:` example exchange in the IMAP RFCs, turned into complete wire
messages, one JSON object per line, one file per RFC (`rfcNNNN.jsonl`).

Generated by `extract_rfc_examples.py` (Python 3, standard library only)
from the plain-text RFCs in `../shared/rfc/` beside the workspace (`rfc*.txt`,
`extra/rfc2087.txt`, `drafts/*.md`). **Do not edit the `.jsonl` files or this
README by hand.** Change the script (its override tables hold every manual
decision) and regenerate, from the workspace root:

    python3 imap-codec/tests/data/extract_rfc_examples.py

Options: `--rfc-dir DIR` (or `$IMAP_RFC_DIR`) for another copy of the RFCs,
`--out-dir DIR`, `--debug` (prints every line join and literal decision), and
RFC numbers to process only those (a partial run does not rewrite this README).
The output is deterministic.

## Record format

```json
{"rfc": 9051, "section": "6.3.12", "line": 3484, "dir": "C",
 "bytes": "A003 APPEND saved-messages (\\Seen) {326}\r\nDate: ...\r\n\r\n",
 "kind": "command:APPEND", "note": "optional"}
```

* `rfc`: RFC number. `rfc9698.jsonl` comes from the draft source
  `drafts/draft-ietf-extra-jmapaccess.md` (the RFC 9698 text was not
  available); the published RFC may differ.
* `section`: the nearest preceding section heading (`"8"`, `"6.3.12"`,
  `"A"` for an appendix; for the draft, the Markdown heading text).
* `line`: 1-based line number in the `.txt` file of the first line of the
  message (of its `C:`/`S:` prefix line).
* `dir`: `"C"` (client to server) or `"S"` (server to client).
* `bytes`: the exact wire bytes as a JSON string, one code point per byte
  (latin-1). Non-ASCII data (e.g. the UTF-8 search strings in RFC 9051) is
  written as its UTF-8 bytes, each as one `\u00XX` code point. To get the
  bytes: Rust `s.chars().map(|c| c as u8)`, Python
  `s.encode("latin-1")`. Every message ends with CRLF; literals are included
  (the line announcing `{N}` / `{N+}` / `~{N}`, CRLF, exactly N bytes of data,
  then the rest of the message).
* `kind`: what a decoder should return:
  * client: `command:<NAME>` (keyword upper-cased; `command:UID FETCH` etc.
    for UID commands), `authenticate-data` (a SASL response line, or `*`,
    or the empty line, sent after an AUTHENTICATE command), `idle-done`
    (the `DONE` that ends IDLE), `unknown` (elided placeholder lines only);
  * server: `greeting` (first `* OK`/`* PREAUTH`/`* BYE` of an example that
    clearly shows a connection opening, i.e. the first line of the example,
    followed by client lines), `continuation` (`+ ...`), `tagged:OK|NO|BAD`,
    `untagged:OK|NO|BAD|BYE|PREAUTH` (status responses), `untagged:<KEYWORD>`
    for data responses (`untagged:FETCH`, `untagged:EXISTS`, `untagged:LIST`,
    `untagged:ESEARCH`, ...), `unknown` (RFC typos that are not valid
    responses, and elided placeholders).
* `note` (only when the message is flagged). It starts with one of:
  * `elided:` the RFC abbreviated the example (`...`, `[...]`,
    `<uid>`-style placeholders, `XXXXXX` standing for 8-bit data). Not real
    protocol; tests should skip it.
  * `invalid:` the example breaks the grammar of its own RFC (RFC typo).
    A strict decoder should reject it; a lenient one may accept it.
  * `incomplete:` a command announcing a literal whose data is never sent
    because the server rejects the command line first (RFC 3502 A004/A005,
    RFC 4549 `{16777215}`). `bytes` ends after the literal announcement,
    so a decoder should report that it needs more data (literal).
  * `adjusted:` the script restored something the RFC text cannot show
    (a `+` continuation with nothing after it is given as `"+ \r\n"`: the
    RFC text has no trailing spaces, the grammar requires the SP, and
    RFC 9051 6.2.2 / RFC 4959 say explicitly that there is one).
  * `literal length adjusted from X`: the announced literal size was
    rewritten to the real size of the data as assembled (can be combined
    with another note, separated by `; `).

Messages are in file order, except that a server continuation (`+ Ready`)
sent in the middle of a client command with a synchronizing literal is a
separate record placed by its own line number, i.e. after the client command
that contains the literal.

## What the script does (and nothing more)

* Removes page furniture (form feeds, page header and footer lines, the blank
  lines around them), the example indentation, and the `C:`/`S:` prefix with
  the space(s) after it. Literal data lines keep their own leading spaces
  (relative to the other literal lines).
* Joins wrapped lines (an unprefixed line indented deeper than the prefix,
  directly after an example line) with one SP, except where the grammar
  forbids a SP: after `(` / before `)`, after `[` / before `]`, between the
  elements of address lists, multipart bodies, NAMESPACE descriptors and
  THREAD lists (`)` + `(` inside a parenthesised list of lists), inside
  sequence sets (after `,`), inside base64 SASL data (AUTHENTICATE initial
  responses, `+` challenges, client responses: "the line breaks ... are for
  editorial clarity"), and at words broken at a hyphen. RFC 9590 uses
  RFC 8792 `\` folding, which is undone. Individual cases are overridden in
  `JOIN_OVERRIDES` / `SAME_INDENT_CONT`.
* Assembles literals: the data is taken from the following lines of the same
  direction (skipping an interleaved server `+` continuation), joined with
  CRLF. The split between literal data and the rest of the message is the
  one that matches the announced size exactly when possible, otherwise the
  nearest line boundary; the size is then rewritten to the real byte length.
* Skips editorial lines (`<TLS negotiation>`, `...`, `[...]`, `//` comments,
  `[13 seconds later]`, `(Time passes ...)`), lines that are only an
  ellipsis (`S: ...`, `S: [...]`), the SMTP examples of RFC 7628, and the
  RFCs whose examples are not IMAP (RFC 4422 and 4616 use ACAP; RFC 5802 and
  7677 show bare SCRAM messages).
* Nothing else is changed: typos, tag mismatches and doubled spaces are kept
  and flagged.

## Counts

{{COUNTS}}

## Flagged examples

Every record with a `note`:

{{FLAGGED}}
"""


if __name__ == "__main__":
    main()
