#![no_main]
//! Fuzzes the Response decoder in both profiles (the first byte picks): the re-encoding
//! check, strict values validate (so validation accepts everything a server can legitimately
//! send), and `StreamDecoder::next_into` gives the events `next` gives. The checks live in
//! `imap-codec/tests/support/fuzz_checks.rs`, shared with the regression replay.
use libfuzzer_sys::fuzz_target;

#[path = "../../imap-codec/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

fuzz_target!(|data: &[u8]| fuzz_checks::decode_response(data));
