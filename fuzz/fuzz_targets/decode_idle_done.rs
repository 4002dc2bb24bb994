#![no_main]
//! Fuzzes the IdleDone decoder in both profiles, with the re-encoding check (in
//! `imap-codec/tests/support/fuzz_checks.rs`, shared with the regression replay).
use libfuzzer_sys::fuzz_target;

#[path = "../../imap-codec/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

fuzz_target!(|data: &[u8]| fuzz_checks::decode_idle_done(data));
