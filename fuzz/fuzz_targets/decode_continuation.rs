#![no_main]
//! Fuzzes continuation requests (`+ ...`): the response decoder with a `+` prefix.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::roundtrip::<imapwire_codec::response::Response>(data, b"+");
});
