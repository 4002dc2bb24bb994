//! The lenient-profile table of `imap-codec/README.md` ("Lenient profile: defect families by
//! grammar position"), checked by injection: valid responses (the RFC example corpus, a sample
//! of the benchmark corpus generator's output, and — with the `arbitrary` feature — encoded
//! arbitrary values) get one family's defect at one applicable position, and the cell's
//! contract must hold (see `support/inject.rs`):
//! - a tolerated cell: strict fails at the defect (or decodes, where the defect happens to be
//!   grammatical, to the value lenient gives too); lenient decodes with a warning at the
//!   defect, and re-encoding is a fixed point the strict profile accepts;
//! - a rejected cell: both profiles fail at the defect — except in a status response with
//!   intact tag and status word, which the lenient profile always decodes (a completion is
//!   never lost).
//!
//! `every_cell_at_every_position` runs each cell at every position of every corpus message
//! and requires each cell to have been exercised (met at least once with a non-grammatical
//! outcome); the proptest picks message, cell and position at random, also over arbitrary
//! values.

#[path = "support/inject.rs"]
mod inject;
mod support;

use std::collections::BTreeMap;

use bytes::Bytes;
use imapwire_codec::codec::Message;
use imapwire_codec::options::DecodeOptions;
use imapwire_codec::response::Response;
use inject::{Cell, Outcome, check, injections, sites};
use proptest::prelude::*;
use support::{get_str, latin1, load};

const RFC_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rfc-examples");
/// Our own messages for the response codes and untagged kinds the other two corpora lack.
const EXTRA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/inject-extra.imap");
const BENCH_SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/bench-corpus-sample.imap"
);

/// Splits a captured server stream into messages (lines, with `{n}` literals inside).
fn split_stream(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let start = i;
        loop {
            let Some(k) = data[i..].windows(2).position(|w| w == b"\r\n") else {
                return out;
            };
            let line = &data[i..i + k];
            i += k + 2;
            let lit = line.strip_suffix(b"}").and_then(|l| {
                let open = l.iter().rposition(|&c| c == b'{')?;
                let d = &l[open + 1..];
                let d = d.strip_suffix(b"+").unwrap_or(d);
                std::str::from_utf8(d).ok()?.parse::<usize>().ok()
            });
            match lit {
                Some(n) => i += n,
                None => break,
            }
        }
        out.push(data[start..i].to_vec());
    }
    out
}

/// Every valid response of the corpora (those the strict profile decodes).
fn corpus() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(RFC_DIR)
        .expect("rfc-examples")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    for f in files {
        for r in load(f.to_str().unwrap()) {
            if get_str(&r, "dir") == "S" {
                out.push(latin1(get_str(&r, "bytes")));
            }
        }
    }
    out.extend(split_stream(
        &std::fs::read(BENCH_SAMPLE).expect("bench sample"),
    ));
    out.extend(split_stream(&std::fs::read(EXTRA).expect("extra corpus")));
    out.retain(|m| {
        Response::decode(&Bytes::copy_from_slice(m), &DecodeOptions::strict()).is_ok()
            && sites(m).is_some()
    });
    out.sort();
    out.dedup();
    out
}

#[derive(Default, Debug)]
struct Tally {
    by_outcome: BTreeMap<Outcome, usize>,
    /// Non-grammatical outcomes at a literal / at an astring written as an atom (the string
    /// cells).
    at_literal: usize,
    at_atom: usize,
}

/// Runs every cell at every position of `msgs`; returns the tallies and the broken contracts.
fn run_all(msgs: &[Vec<u8>]) -> (BTreeMap<Cell, Tally>, Vec<(Cell, String)>) {
    let mut tallies: BTreeMap<Cell, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    for m in msgs {
        let s = sites(m).expect("sites of a valid message");
        for &cell in Cell::ALL {
            for inj in injections(m, &s, cell) {
                match check(&inj, &s) {
                    Ok(o) => {
                        let t = tallies.entry(cell).or_default();
                        *t.by_outcome.entry(o).or_default() += 1;
                        if o != Outcome::Grammatical {
                            // StringAbsent removes the SP before the string too
                            let starts = |v: &[(usize, usize)]| {
                                v.iter().any(|&(a, _)| a == inj.at || a == inj.at + 1)
                            };
                            t.at_literal += usize::from(starts(&s.literals));
                            t.at_atom += usize::from(starts(&s.astring_atoms));
                        }
                    }
                    Err(e) => {
                        // INJECT_DUMP=DIR keeps the failing messages for a closer look
                        if let Ok(dir) = std::env::var("INJECT_DUMP") {
                            let n = failures.len();
                            let _ = std::fs::write(format!("{dir}/{cell:?}-{n}.imap"), &inj.bytes);
                        }
                        failures.push((cell, e))
                    }
                }
            }
        }
    }
    (tallies, failures)
}

#[test]
fn every_cell_at_every_position() {
    let msgs = corpus();
    assert!(msgs.len() > 300, "corpus too small: {}", msgs.len());
    let (tallies, failures) = run_all(&msgs);
    let mut report = String::new();
    for &cell in Cell::ALL {
        let t = tallies.get(&cell);
        report.push_str(&format!("{cell:?}: {:?}\n", t.map(|t| &t.by_outcome)));
    }
    eprintln!("{report}");
    let n = failures.len();
    for &cell in Cell::ALL {
        let of: Vec<_> = failures.iter().filter(|(c, _)| *c == cell).collect();
        if !of.is_empty() {
            eprintln!("== {cell:?}: {} broken", of.len());
            of.iter().take(4).for_each(|(_, f)| eprintln!("  {f}"));
        }
    }
    assert_eq!(
        n, 0,
        "{n} broken contracts (the first of each cell shown above)"
    );
    for &cell in Cell::ALL {
        let exercised = tallies.get(&cell).is_some_and(|t| {
            t.by_outcome
                .iter()
                .any(|(o, &k)| *o != Outcome::Grammatical && k > 0)
        });
        assert!(
            exercised,
            "cell {cell:?} never met a non-grammatical position"
        );
        let want = if cell.tolerated() {
            Outcome::Tolerated
        } else {
            Outcome::Rejected
        };
        let t = &tallies[&cell];
        assert!(
            t.by_outcome.get(&want).is_some_and(|&k| k > 0),
            "cell {cell:?} never showed its verdict {want:?}: {:?}",
            t.by_outcome
        );
    }
    // literals and astrings written as atoms are string positions too (NIL there is
    // grammatical: the atom `NIL` is an astring, and literals in the corpus stand in
    // nstrings and astrings)
    for cell in [Cell::StringAbsent, Cell::ParensForString] {
        let t = &tallies[&cell];
        eprintln!(
            "{cell:?}: at literals {}, at atoms {}",
            t.at_literal, t.at_atom
        );
        assert!(
            t.at_literal > 0 && t.at_atom > 0,
            "cell {cell:?} never met a literal and an atom position: {t:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// One random message of the corpora, one random cell, one random position.
    #[test]
    fn injected_defect_meets_its_cell(m in any::<prop::sample::Index>(),
                                      c in any::<prop::sample::Index>(),
                                      k in any::<prop::sample::Index>()) {
        thread_local!(static CORPUS: Vec<Vec<u8>> = corpus());
        CORPUS.with(|msgs| {
            let msg = m.get(msgs);
            let s = sites(msg).unwrap();
            let cell = *c.get(Cell::ALL);
            let inj = injections(msg, &s, cell);
            if !inj.is_empty() {
                if let Err(e) = check(k.get(&inj), &s) {
                    panic!("{e}");
                }
            }
        });
    }
}

/// Arbitrary values (feature `arbitrary`): encoded, they are valid messages to inject into.
#[cfg(feature = "arbitrary")]
mod arbitrary_values {
    use super::*;
    use arbitrary::{Arbitrary, Unstructured};
    use imapwire_codec::Encode;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

        #[test]
        fn injected_defect_in_arbitrary_response(seed in prop::collection::vec(any::<u8>(), 16..512),
                                                 c in any::<prop::sample::Index>(),
                                                 k in any::<prop::sample::Index>()) {
            let mut u = Unstructured::new(&seed);
            let Ok(r) = Response::arbitrary(&mut u) else { return Ok(()) };
            let msg = r.to_vec_inline_literals();
            let Some(s) = sites(&msg) else { return Ok(()) };
            let cell = *c.get(Cell::ALL);
            let inj = injections(&msg, &s, cell);
            if !inj.is_empty() {
                if let Err(e) = check(k.get(&inj), &s) {
                    panic!("{e}");
                }
            }
        }
    }
}

/// The README's table has one row per cell, in [`Cell::ALL`] order, and its verdicts agree
/// with [`Cell::tolerated`] (the contract the injection test checks).
#[test]
fn readme_table_matches_the_cells() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let section = readme
        .split("## Lenient profile: defect families by grammar position")
        .nth(1)
        .expect("the table's section");
    let rows: Vec<Vec<&str>> = section
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("| ") && l[2..].starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| l.split(" | ").map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), Cell::ALL.len(), "one row per cell");
    for (i, (row, cell)) in rows.iter().zip(Cell::ALL).enumerate() {
        assert_eq!(row[0].trim_start_matches("| "), (i + 1).to_string());
        let verdict = row[3];
        assert_eq!(
            !verdict.contains("rejected"),
            cell.tolerated(),
            "row {} ({cell:?}): {verdict}",
            i + 1
        );
    }
}

/// Known answers, bytes of our own, at least one per family: the lenient value's encoding and
/// its warnings (family, offset); the strict profile rejects each.
#[test]
fn known_answers_per_family() {
    use imapwire_codec::Encode;
    use imapwire_codec::options::Quirk::{self, *};
    /// What, input, the lenient value's encoding, its warnings.
    type Case = (
        &'static str,
        &'static [u8],
        &'static [u8],
        &'static [(Quirk, usize)],
    );
    let cases: &[Case] = &[
        (
            "spaces: missing after `)`",
            b"* 3 FETCH (FLAGS (\\Seen)UID 7)\r\n",
            b"* 3 FETCH (FLAGS (\\Seen) UID 7)\r\n",
            &[(ExtraSpaces, 24)],
        ),
        (
            "spaces: inside list boundaries",
            b"* STATUS INBOX ( MESSAGES 2 )\r\n",
            b"* STATUS INBOX (MESSAGES 2)\r\n",
            &[(ExtraSpaces, 16), (ExtraSpaces, 27)],
        ),
        (
            "spaces: missing before `(`",
            b"* LIST () \"/\" foo(\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n",
            b"* LIST () \"/\" foo (CHILDINFO (\"SUBSCRIBED\"))\r\n",
            &[(ExtraSpaces, 17)],
        ),
        (
            "spaces: doubled after a tag starting with `[`, a literal in the code (found by \
             inject_defects)",
            b"[R  OK [NOUPDATE {24}\r\nabcdefghijklmnopqrstuvwx] done\r\n",
            b"[R OK [NOUPDATE \"abcdefghijklmnopqrstuvwx\"] done\r\n",
            &[(ExtraSpaces, 3)],
        ),
        (
            "arguments: code without its argument, completion kept",
            b"a7 OK [UIDNEXT] done\r\n",
            b"a7 OK  [UIDNEXT] done\r\n",
            &[(MalformedCode, 14)],
        ),
        (
            "arguments: malformed code argument, completion kept",
            b"a8 NO [COPYUID 7 x 1] failed\r\n",
            b"a8 NO  [COPYUID 7 x 1] failed\r\n",
            &[(MalformedCode, 17)],
        ),
        (
            "arguments: BYE with a code that takes none",
            b"* BYE [ALERT now] going\r\n",
            b"* BYE  [ALERT now] going\r\n",
            &[(MalformedCode, 12)],
        ),
        (
            "arguments: a FETCH item's malformed value leaves the item out",
            b"* 5 FETCH (UID x FLAGS ())\r\n",
            b"* 5 FETCH (FLAGS ())\r\n",
            &[(NilOrEmpty, 15)],
        ),
        (
            "absent: a status response keeps its text raw",
            b"a9 NO [BADCHARSET (] no\r\n",
            b"a9 NO  [BADCHARSET (] no\r\n",
            &[(MalformedCode, 19)],
        ),
        (
            "characters: NUL dropped from a quoted string",
            b"* LIST () \"/\" \"a\0b\"\r\n",
            b"* LIST () \"/\" ab\r\n",
            &[(EightBit, 16)],
        ),
        (
            "characters: unescaped DQUOTE kept",
            b"* 1 FETCH (ENVELOPE (NIL \"5\"x\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n",
            b"* 1 FETCH (ENVELOPE (NIL \"5\\\"x\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n",
            &[(UnescapedQuotes, 27)],
        ),
        (
            "characters: an unknown FETCH item's repaired value is kept (not NIL)",
            b"* 2 FETCH (X-A (\"a\"b\"  c))\r\n",
            b"* 2 FETCH (X-A (\"a\\\"b\" c))\r\n",
            &[(UnescapedQuotes, 18), (ExtraSpaces, 22)],
        ),
        (
            "characters: 8-bit byte in a flag",
            b"* 1 FETCH (FLAGS (\\Se\xe9en))\r\n",
            b"* 1 FETCH (FLAGS (\\Se_en))\r\n",
            &[(OddFlags, 19)],
        ),
        (
            "NIL/\"\"/(): NIL for a flag list",
            b"* 1 FETCH (FLAGS NIL)\r\n",
            b"* 1 FETCH (FLAGS ())\r\n",
            &[(NilOrEmpty, 17)],
        ),
        (
            "NIL/\"\"/(): \"\" for NIL",
            b"* ID \"\"\r\n",
            b"* ID NIL\r\n",
            &[(NilOrEmpty, 5)],
        ),
        (
            "NIL/\"\"/(): () for an astring",
            b"* ESEARCH (TAG ()) COUNT 2\r\n",
            b"* ESEARCH (TAG \"\") COUNT 2\r\n",
            &[(NilOrEmpty, 15)],
        ),
        (
            "NIL/\"\"/(): NIL for QUOTA's resource list",
            b"* QUOTA \"\" NIL\r\n",
            b"* QUOTA \"\" ()\r\n",
            &[(NilOrEmpty, 11)],
        ),
        (
            "NIL/\"\"/(): \"\" for NIL at a number",
            b"* STATUS a (APPENDLIMIT \"\")\r\n",
            b"* STATUS a (APPENDLIMIT NIL)\r\n",
            &[(NilOrEmpty, 24)],
        ),
        (
            "absent: QUOTA without its resource list (Courier)",
            b"* QUOTA \"ROOT\"\r\n",
            b"* QUOTA ROOT ()\r\n",
            &[(NilOrEmpty, 14)],
        ),
        (
            "absent: FETCH FLAGS without its list",
            b"* 1 FETCH (UID 1 FLAGS)\r\n",
            b"* 1 FETCH (UID 1 FLAGS ())\r\n",
            &[(NilOrEmpty, 22)],
        ),
        (
            "numbers: plus sign and exponent",
            b"* 4 FETCH (UID +9 RFC822.SIZE 1e3)\r\n",
            b"* 4 FETCH (UID 9 RFC822.SIZE 1000)\r\n",
            &[(BadNumbers, 15), (BadNumbers, 30)],
        ),
        (
            "numbers: negative nz-number",
            b"* ESEARCH (TAG \"t\") MIN -3\r\n",
            b"* ESEARCH (TAG \"t\") MIN 1\r\n",
            &[(BadNumbers, 24), (BadNumbers, 24)],
        ),
        (
            "non-IMAP line",
            b"HTTP/1.1 400 Bad Request\r\n",
            b"* HTTP/1.1 400 Bad Request\r\n",
            &[(NonImapLine, 0)],
        ),
    ];
    let mut failures = Vec::new();
    for &(what, input, want, warnings) in cases {
        let msg = Bytes::from_static(input);
        if Response::decode(&msg, &DecodeOptions::strict()).is_ok() {
            failures.push(format!("{what}: strict accepted it"));
        }
        match Response::decode(&msg, &DecodeOptions::lenient()) {
            Ok(d) => {
                let enc = d.message.to_vec_inline_literals();
                let got: Vec<_> = d.warnings.iter().map(|w| (w.quirk, w.offset)).collect();
                if enc != want || got != warnings {
                    failures.push(format!(
                        "{what}: got {:?} {got:?}, want {:?} {warnings:?}",
                        String::from_utf8_lossy(&enc),
                        String::from_utf8_lossy(want)
                    ));
                }
                if let Err(e) = inject::fixed_point(&d.message) {
                    failures.push(format!("{what}: {e}"));
                }
            }
            Err(e) => failures.push(format!("{what}: lenient failed: {e}")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// What the lenient profile gives for untagged data it cannot repair, kind by kind (the list in
/// `README.md`, "Data is never silently dropped"): known kinds come out of the stream decoder
/// as an error holding the whole message (at the offset the one-shot decoder reports, past the
/// keyword), and decoding goes on; unknown keywords and non-IMAP lines are `Data::Unknown`
/// holding the raw bytes. The README's list and these cases name the same kinds.
#[test]
fn unrepairable_data_kind_by_kind() {
    use imapwire_codec::codec::{ResponseDecoder, StreamError, StreamEvent};
    use imapwire_codec::response::Data;
    const ERROR: &str = "error carrying the raw message";
    let cases: &[(&str, &[u8])] = &[
        ("`CAPABILITY`", b"* CAPABILITY \"IMAP4rev1\"\r\n"),
        ("`ENABLED`", b"* ENABLED \"X\"\r\n"),
        ("`FLAGS`", b"* FLAGS (\\Seen \"x\")\r\n"),
        ("`LIST`", b"* LIST \"/\" INBOX\r\n"),
        ("`LSUB`", b"* LSUB \"/\" INBOX\r\n"),
        ("`XLIST`", b"* XLIST \"/\" INBOX\r\n"),
        ("`NAMESPACE`", b"* NAMESPACE ((\"\" \"/\")) x NIL\r\n"),
        ("`STATUS`", b"* STATUS INBOX (MESSAGES x)\r\n"),
        ("`ESEARCH`", b"* ESEARCH (TAG \"a\") MIN x\r\n"),
        ("`SEARCH`", b"* SEARCH 1 x 3\r\n"),
        ("`SORT`", b"* SORT 1 x\r\n"),
        ("`THREAD`", b"* THREAD (1 x)\r\n"),
        ("`EXISTS`", b"* 5 EXISTS x\r\n"),
        ("`RECENT`", b"* 5 RECENT x\r\n"),
        ("`EXPUNGE`", b"* 5 EXPUNGE x\r\n"),
        ("`FETCH`", b"* 1 FETCH (UID 1\r\n"),
        ("`UIDFETCH`", b"* 1 UIDFETCH (UID 1\r\n"),
        ("`JMAPACCESS`", b"* JMAPACCESS (x)\r\n"),
        ("`GENURLAUTH`", b"* GENURLAUTH (x)\r\n"),
        ("`URLFETCH`", b"* URLFETCH \"u\" (x\r\n"),
        ("`VANISHED`", b"* VANISHED (EARLIER) x\r\n"),
        ("`ID`", b"* ID (\"a\")\r\n"),
        ("`QUOTA`", b"* QUOTA \"\" (STORAGE x 10)\r\n"),
        ("`QUOTAROOT`", b"* QUOTAROOT (x)\r\n"),
        ("`ACL`", b"* ACL INBOX fred\r\n"),
        ("`LISTRIGHTS`", b"* LISTRIGHTS INBOX\r\n"),
        ("`MYRIGHTS`", b"* MYRIGHTS INBOX\r\n"),
        ("`METADATA`", b"* METADATA INBOX (/a\r\n"),
        ("unknown keyword", b"* XFOO (a b\r\n"),
        ("non-IMAP line", b"HTTP/1.1 400 Bad Request\r\n"),
    ];
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let rows: Vec<(&str, &str)> = readme
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("| Kind | What the lenient profile gives"))
        .skip(2)
        .take_while(|l| l.starts_with("| "))
        .filter_map(|l| {
            let mut c = l.trim_matches('|').split(" | ").map(str::trim);
            Some((c.next()?, c.next()?))
        })
        .collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let want: Vec<&str> = cases.iter().map(|c| c.0).collect();
    assert_eq!(kinds, want, "the README's kinds and the test's cases");
    let mut failures = Vec::new();
    for ((kind, bytes), (_, choice)) in cases.iter().zip(&rows) {
        let shown = String::from_utf8_lossy(bytes);
        let mut d = ResponseDecoder::new(Default::default(), DecodeOptions::lenient());
        d.push(bytes);
        d.push(b"a1 OK done\r\n");
        let ev: Vec<_> = std::iter::from_fn(|| d.next()).collect();
        if ev.len() != 2 || !matches!(ev[1], StreamEvent::Message(_)) {
            failures.push(format!("{kind} {shown:?}: decoding did not go on: {ev:?}"));
            continue;
        }
        if choice.starts_with(ERROR) {
            let one_shot =
                Response::decode(&Bytes::copy_from_slice(bytes), &DecodeOptions::lenient());
            match (&ev[0], one_shot) {
                (StreamEvent::Error(StreamError::Decode { error, raw, .. }), Err(e))
                    if &raw[..] == *bytes && error.offset == e.offset && e.offset > 4 => {}
                (ev, one_shot) => failures.push(format!(
                    "{kind} {shown:?}: want an error with the raw message: {ev:?} / {one_shot:?}"
                )),
            }
        } else {
            match &ev[0] {
                StreamEvent::Message(m) => match &m.message {
                    Response::Data(Data::Unknown(u))
                        if !u.raw().is_empty()
                            && (!choice.contains("NonImapLine")
                                || m.warnings
                                    .iter()
                                    .any(|w| w.quirk == imapwire_codec::Quirk::NonImapLine))
                            && shown.ends_with(&format!(
                                "{}\r\n",
                                String::from_utf8_lossy(u.raw())
                            )) => {}
                    other => {
                        failures.push(format!("{kind} {shown:?}: want Data::Unknown: {other:?}"))
                    }
                },
                e => failures.push(format!("{kind} {shown:?}: want Data::Unknown: {e:?}")),
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Valid messages the lenient profile's repairs could be mistaken for decode as in the strict
/// profile (a tag starting with `[` is no bare `[CODE] text`).
#[test]
fn lenient_reads_valid_lookalikes_as_strict() {
    for m in [
        // a header field name `]]` is no closing `]` after a space (found by inject_defects)
        &b"* 1 FETCH (BODY[HEADER.FIELDS (a ]] b)] NIL)\r\n"[..],
        b"* 1 FETCH (BODY[HEADER.FIELDS.NOT ({1}\r\nx ]]]] b)] NIL)\r\n",
        // nor is an element `]+x` of a LIST extension's list (found by inject_defects)
        b"* LSUB () NIL m.x (m.x m.x m.x \"\" \"\" ((+++ ++ ++) ]+++ ++ ((((\"\"))))))\r\n",
        b"[ OK done\r\n",
        b"[a NO [ALERT] x\r\n",
        b"* OK  [ALERT] two spaces make this text\r\n",
    ] {
        let msg = Bytes::copy_from_slice(m);
        let s = Response::decode(&msg, &DecodeOptions::strict()).expect("valid");
        let l = Response::decode(&msg, &DecodeOptions::lenient()).expect("lenient");
        assert_eq!(s.message, l.message, "{}", String::from_utf8_lossy(m));
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    }
}

/// Inputs the `inject_defects` fuzz target failed on, each run through every cell at every
/// position: an 8-bit byte inside an atom of an unknown FETCH item's value was reported at
/// the atom's start instead of at the byte; a doubled SP after a tag starting with `[` made
/// the line a bare `[CODE] text` line, whose code (with a literal) then failed.
#[test]
fn fuzz_found_messages_meet_every_cell() {
    let msgs: Vec<Vec<u8>> = vec![
        b"* 9999 FETCH (UID 29997 FLAQUOTAGS (\\Seen $Forwarded) MODSEQ (90060115194045031))\r\n"
            .to_vec(),
        b"[R OK [NOUPDATE {24}\r\nabcdefghijklmnopqrstuvwx] done\r\n".to_vec(),
        // a capability named NIL is no NIL to replace by `()` (a harness false positive)
        b"* ENABLED NIL UIDPLUS mailboxname\r\n".to_vec(),
    ];
    let (tallies, failures) = run_all(&msgs);
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        tallies.contains_key(&Cell::EightBitInAtom),
        "the 8-bit-in-atom cell was not exercised: {tallies:?}"
    );
}

/// The kind of a decoded response the table reaches: a response code's name, an untagged
/// response's keyword, a FETCH item's name (`item X`), `other code`, `unknown data`.
fn kinds_of(r: &Response, out: &mut std::collections::BTreeSet<String>) {
    use imapwire_codec::Encode;
    use imapwire_codec::response::{Data, ResponseCode};
    let word = |b: &[u8]| {
        let n = b.iter().take_while(|&&c| !b" []<\r".contains(&c)).count();
        String::from_utf8_lossy(&b[..n]).to_string()
    };
    match r {
        Response::Status(st) => match st.code() {
            Some(ResponseCode::Other { .. }) => {
                out.insert("other code".into());
            }
            Some(c) => {
                out.insert(word(&c.to_vec_inline_literals()));
            }
            None => {}
        },
        Response::Data(Data::Unknown(_)) => {
            out.insert("unknown data".into());
        }
        Response::Data(d) => {
            let enc = r.to_vec_inline_literals();
            let rest = &enc[2..];
            let rest = if rest[0].is_ascii_digit() {
                &rest[rest.iter().position(|&c| c == b' ').unwrap() + 1..]
            } else {
                rest
            };
            out.insert(word(rest));
            if let Data::Fetch { items, .. } | Data::UidFetch { items, .. } = d {
                for it in items.iter() {
                    out.insert(format!("item {}", word(&it.to_vec_inline_literals())));
                }
            }
        }
        _ => {}
    }
}

/// Every response code, untagged response kind and FETCH item is in the corpus the table is
/// checked on (`every_cell_at_every_position`), so every cell meets each where it applies.
/// The list is the codec's (`ResponseCode`, `Data`, `MessageDataItem`); `tests/data/
/// inject-extra.imap` holds our own messages for what the RFC examples and the benchmark
/// sample lack.
#[test]
fn corpus_reaches_every_code_and_data_kind() {
    let mut seen = std::collections::BTreeSet::new();
    for m in corpus() {
        let d = Response::decode(&Bytes::copy_from_slice(&m), &DecodeOptions::strict()).unwrap();
        kinds_of(&d.message, &mut seen);
    }
    let codes = [
        "ALERT",
        "ALREADYEXISTS",
        "AUTHENTICATIONFAILED",
        "AUTHORIZATIONFAILED",
        "CANNOT",
        "CLIENTBUG",
        "CLOSED",
        "CONTACTADMIN",
        "CORRUPTION",
        "EXPIRED",
        "EXPUNGEISSUED",
        "HASCHILDREN",
        "INUSE",
        "LIMIT",
        "NONEXISTENT",
        "NOPERM",
        "OVERQUOTA",
        "PARSE",
        "PRIVACYREQUIRED",
        "READ-ONLY",
        "READ-WRITE",
        "SERVERBUG",
        "TRYCREATE",
        "UIDNOTSTICKY",
        "UNAVAILABLE",
        "UNKNOWN-CTE",
        "NOMODSEQ",
        "BADCOMPARATOR",
        "TOOBIG",
        "NOTSAVED",
        "USEATTR",
        "COMPRESSIONACTIVE",
        "UIDREQUIRED",
        "NOTIFICATIONOVERFLOW",
        "APPENDUID",
        "BADCHARSET",
        "CAPABILITY",
        "COPYUID",
        "PERMANENTFLAGS",
        "UIDNEXT",
        "UIDVALIDITY",
        "UNSEEN",
        "NEWNAME",
        "HIGHESTMODSEQ",
        "MODIFIED",
        "BADURL",
        "METADATA",
        "ANNOTATE",
        "MAILBOXID",
        "REFERRAL",
        "NOUPDATE",
        "INPROGRESS",
        "MESSAGELIMIT",
        "BADEVENT",
        "URLMECH",
        "other code",
    ];
    let data = [
        "CAPABILITY",
        "ENABLED",
        "FLAGS",
        "LIST",
        "LSUB",
        "XLIST",
        "NAMESPACE",
        "STATUS",
        "ESEARCH",
        "SEARCH",
        "SORT",
        "THREAD",
        "EXISTS",
        "RECENT",
        "EXPUNGE",
        "FETCH",
        "UIDFETCH",
        "JMAPACCESS",
        "GENURLAUTH",
        "URLFETCH",
        "VANISHED",
        "ID",
        "QUOTA",
        "QUOTAROOT",
        "ACL",
        "LISTRIGHTS",
        "MYRIGHTS",
        "METADATA",
        "unknown data",
    ];
    let items = [
        "FLAGS",
        "ENVELOPE",
        "INTERNALDATE",
        "RFC822.SIZE",
        "BODY",
        "BODYSTRUCTURE",
        "BINARY",
        "BINARY.SIZE",
        "UID",
        "RFC822",
        "RFC822.HEADER",
        "RFC822.TEXT",
        "MODSEQ",
        "X-GM-MSGID",
        "X-GM-THRID",
        "X-GM-LABELS",
        "PREVIEW",
        "EMAILID",
        "THREADID",
        "SAVEDATE",
        "X-SAMPLE",
    ];
    let want = codes
        .iter()
        .chain(&data)
        .map(|s| s.to_string())
        .chain(items.iter().map(|s| format!("item {s}")));
    let missing: Vec<String> = want.filter(|k| !seen.contains(k)).collect();
    assert!(missing.is_empty(), "not in the corpus: {missing:?}");
}
