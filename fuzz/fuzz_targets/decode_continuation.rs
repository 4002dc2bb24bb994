#![no_main]
//! Fuzzes continuation requests (`+ ...`): the response decoder with a `+` prefix, the
//! re-encoding check. The check lives in `imap-codec/tests/support/fuzz_checks.rs`, shared
//! with the regression replay.
use libfuzzer_sys::fuzz_target;

#[path = "../../imap-codec/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

fuzz_target!(|data: &[u8]| fuzz_checks::decode_continuation(data));
