//! The valid messages the lenient-profile table is checked on (`tests/defect_injection.rs`)
//! and whose kinds the crate's `reach_tests` require to cover every response code, untagged
//! response and FETCH item: the server (`S:`) or client (`C:`) examples of the RFC example
//! corpus, and, for responses, a sample of the benchmark corpus generator's output and our own
//! messages for what those lack. Raw messages, not yet filtered by what decodes.
#![allow(dead_code)]

// (the crate's unit tests load this reader as `test_corpus` too)
#[allow(clippy::duplicate_mod)]
#[path = "mod.rs"]
mod support;

use support::{get_str, latin1, load};

pub const RFC_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rfc-examples");
/// Our own messages for the response codes and untagged kinds the other two corpora lack.
pub const EXTRA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/inject-extra.imap");
pub const BENCH_SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/bench-corpus-sample.imap"
);

/// Splits a captured server stream into messages (lines, with `{n}` literals inside).
pub fn split_stream(data: &[u8]) -> Vec<Vec<u8>> {
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

/// The RFC examples of one direction (`"S"` or `"C"`), file by file.
pub fn rfc_examples(dir: &str) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(RFC_DIR)
        .expect("rfc-examples")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        for r in load(f.to_str().unwrap()) {
            if get_str(&r, "dir") == dir {
                out.push(latin1(get_str(&r, "bytes")));
            }
        }
    }
    out
}

/// Every candidate response: the RFC server examples, the benchmark sample, our own.
pub fn responses() -> Vec<Vec<u8>> {
    let mut out = rfc_examples("S");
    out.extend(split_stream(
        &std::fs::read(BENCH_SAMPLE).expect("bench sample"),
    ));
    out.extend(split_stream(&std::fs::read(EXTRA).expect("extra corpus")));
    out
}
