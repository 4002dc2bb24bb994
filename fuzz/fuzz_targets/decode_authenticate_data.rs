#![no_main]
//! Fuzzes the AuthenticateData decoder in both profiles, with the re-encoding check.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::roundtrip::<imapwire_codec::command::AuthenticateData>(data, b"");
});
