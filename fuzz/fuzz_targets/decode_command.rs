#![no_main]
//! Fuzzes the Command decoder in both profiles (the first byte picks): the re-encoding
//! check, and strict values validate (so `Command::new` accepts what was decoded). The checks
//! live in `imap-codec/tests/support/fuzz_checks.rs`, shared with the regression replay.
use libfuzzer_sys::fuzz_target;

#[path = "../../imap-codec/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

fuzz_target!(|data: &[u8]| fuzz_checks::decode_command(data));
