//! Every C:/S: example of the RFCs (extracted into `tests/data/rfc-examples/`) decodes as the
//! kind the example shows, and re-encodes to bytes that decode to the same value.
//!
//! Every example passes, except the RFC errata listed with their reasons in
//! `tests/data/rfc-examples/errata.txt` (examples that contradict their RFC's ABNF); those must
//! fail in the strict profile, so the list cannot hide a regression.

mod support;

use bytes::Bytes;
use imapwire_codec::Encode;
use imapwire_codec::codec::{AnyMessage, Expect};
use imapwire_codec::options::DecodeOptions;
use support::{Record, get_num, get_str, latin1, load};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rfc-examples");

fn expect_of(kind: &str) -> Expect {
    if kind.starts_with("command:") {
        Expect::Command
    } else if kind == "authenticate-data" {
        Expect::AuthenticateData
    } else if kind == "idle-done" {
        Expect::IdleDone
    } else if kind == "greeting" {
        Expect::Greeting
    } else {
        Expect::Response
    }
}

/// Checks that the re-encoded bytes are of the kind the example shows.
fn kind_matches(kind: &str, enc: &[u8]) -> bool {
    let s = String::from_utf8_lossy(enc).to_ascii_uppercase();
    let mut words = s.split(' ');
    let first = words.next().unwrap_or("");
    if let Some(name) = kind.strip_prefix("command:") {
        let rest = &s[first.len()..];
        return rest.trim_start().starts_with(&name.to_ascii_uppercase());
    }
    if let Some(st) = kind.strip_prefix("tagged:") {
        return first != "*" && first != "+" && words.next() == Some(st);
    }
    if let Some(kw) = kind.strip_prefix("untagged:") {
        if first != "*" {
            return false;
        }
        let w = words.next().unwrap_or("");
        let w = if w.bytes().all(|c| c.is_ascii_digit()) {
            words.next().unwrap_or("")
        } else {
            w
        };
        return w.trim_end_matches("\r\n") == kw;
    }
    match kind {
        "continuation" => first.starts_with('+'),
        "greeting" => first == "*",
        "idle-done" => s.starts_with("DONE"),
        "authenticate-data" => true,
        _ => false,
    }
}

/// Decodes, checks the kind, re-encodes and decodes again. `Err` describes the failure.
fn check(r: &Record) -> Result<(), String> {
    let kind = get_str(r, "kind");
    let bytes = Bytes::from(latin1(get_str(r, "bytes")));
    let opts = DecodeOptions::strict();
    let d =
        AnyMessage::decode(&bytes, expect_of(kind), &opts).map_err(|e| format!("decode: {e}"))?;
    // Strictly decoded values pass validation (commands, responses, greetings).
    let valid = match &d.message {
        AnyMessage::Command(c) => c.validate(),
        AnyMessage::Response(m) => m.validate(),
        AnyMessage::Greeting(g) => g.validate(),
        _ => Ok(()),
    };
    valid.map_err(|e| format!("decoded {:?} does not validate: {e}", d.message))?;
    let enc = d.message.to_vec_inline_literals();
    if !kind_matches(kind, &enc) {
        return Err(format!(
            "kind {kind} does not match re-encoding {:?}",
            String::from_utf8_lossy(&enc)
        ));
    }
    let again = AnyMessage::decode(&Bytes::from(enc.clone()), expect_of(kind), &opts)
        .map_err(|e| format!("re-decode of {:?}: {e}", String::from_utf8_lossy(&enc)))?;
    if again.message != d.message {
        return Err(format!(
            "round trip differs:\n  first: {:?}\n  again: {:?}",
            d.message, again.message
        ));
    }
    Ok(())
}

/// An erratum whose reason says the lenient profile accepts it must decode leniently.
fn lenient_ok_if_promised(r: &Record, why: &str) -> Result<(), String> {
    if !why.contains("lenient profile accepts") && !why.contains("lenient profile saturates") {
        return Ok(());
    }
    let kind = get_str(r, "kind");
    let bytes = Bytes::from(latin1(get_str(r, "bytes")));
    AnyMessage::decode(&bytes, expect_of(kind), &DecodeOptions::lenient())
        .map(|_| ())
        .map_err(|e| format!("erratum ({why}) does not decode leniently: {e}"))
}

fn skipped(r: &Record) -> bool {
    let note = get_str(r, "note");
    note.starts_with("elided") || note.starts_with("invalid") || note.starts_with("incomplete")
}

fn id(r: &Record) -> String {
    format!("rfc{}:{}", get_num(r, "rfc"), get_num(r, "line"))
}

fn errata() -> std::collections::BTreeMap<String, String> {
    let path = format!("{DIR}/errata.txt");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, why) = l.split_once(' ').unwrap_or((l, ""));
            (k.to_string(), why.trim().to_string())
        })
        .collect()
}

fn run_file(rfc: u32) -> (usize, Vec<(String, String)>) {
    let recs = load(&format!("{DIR}/rfc{rfc}.jsonl"));
    let errata = errata();
    let mut ok = 0;
    let mut failures = Vec::new();
    for r in recs.iter().filter(|r| !skipped(r)) {
        match (check(r), errata.get(&id(r))) {
            (Ok(()), None) => ok += 1,
            (Err(_), Some(why)) => match lenient_ok_if_promised(r, why) {
                Ok(()) => ok += 1,
                Err(e) => failures.push((id(r), e)),
            },
            (Ok(()), Some(why)) => {
                failures.push((id(r), format!("listed as erratum ({why}) but decodes")))
            }
            (Err(e), None) => {
                failures.push((id(r), format!("{e}\n  bytes: {:?}", get_str(r, "bytes"))))
            }
        }
    }
    (ok, failures)
}

fn assert_all_pass(rfc: u32) {
    let (ok, failures) = run_file(rfc);
    for (id, e) in &failures {
        eprintln!("{id}: {e}");
    }
    assert!(ok > 0, "no example checked for RFC {rfc}");
    assert!(
        failures.is_empty(),
        "{} of {} examples of RFC {rfc} failed",
        failures.len(),
        ok + failures.len()
    );
}

#[test]
fn rfc9051_examples() {
    assert_all_pass(9051);
}

#[test]
fn rfc3501_examples() {
    assert_all_pass(3501);
}

/// The extension RFCs: everything passes except the errata, which fail.
#[test]
fn extension_rfc_examples() {
    let gaps = errata();
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    let mut total = 0;
    for entry in std::fs::read_dir(DIR).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(n) = name
            .strip_prefix("rfc")
            .and_then(|s| s.strip_suffix(".jsonl"))
        else {
            continue;
        };
        let rfc: u32 = n.parse().unwrap();
        if rfc == 9051 || rfc == 3501 {
            continue;
        }
        let recs = load(&format!("{DIR}/{name}"));
        for r in recs.iter().filter(|r| !skipped(r)) {
            total += 1;
            let key = id(r);
            match (check(r), gaps.get(&key)) {
                (Ok(()), Some(_)) => fixed.push(key),
                (Err(e), None) => {
                    unexpected.push(format!("{key}: {e}\n  bytes: {:?}", get_str(r, "bytes")))
                }
                (Err(_), Some(why)) => {
                    if let Err(e) = lenient_ok_if_promised(r, why) {
                        unexpected.push(format!("{key}: {e}"));
                    }
                }
                (Ok(()), None) => {}
            }
        }
    }
    for u in &unexpected {
        eprintln!("{u}");
    }
    assert!(total > 500, "only {total} extension examples found");
    assert!(
        unexpected.is_empty(),
        "{} extension examples fail and are not listed as errata",
        unexpected.len()
    );
    assert!(
        fixed.is_empty(),
        "these errata decode in the strict profile: {fixed:?}"
    );
}
