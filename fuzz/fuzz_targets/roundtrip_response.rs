#![no_main]
//! Misuse resistance, server side: arbitrary `Response` (or, when the first byte is 0xff,
//! `Greeting`) → `validate()` (skipped when rejected) → encode with the 4 encoder settings →
//! strict decode, one-shot and through the streaming decoder → equal.
#[path = "../../imap-codec/tests/support/roundtrip.rs"]
mod roundtrip;

use arbitrary::{Arbitrary, Unstructured};
use imapwire_codec::response::{Greeting, Response};
use libfuzzer_sys::fuzz_target;
use roundtrip::{check_response, check_server};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mut u = Unstructured::new(rest);
    if sel == 0xff {
        if let Ok(g) = Greeting::arbitrary(&mut u) {
            if g.validate().is_ok() {
                check_server(&g);
            }
        }
        return;
    }
    if let Ok(r) = Response::arbitrary(&mut u) {
        if r.validate().is_ok() {
            check_response(&r);
        }
    }
});
