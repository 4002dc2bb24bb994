#![no_main]
//! The framer fed arbitrary chunkings of arbitrary bytes agrees with whole-buffer framing,
//! and with literals streamed, the fast lane, the lent lane and the room lane agree with the
//! general path. The checks live in `imap-codec/tests/support/fuzz_checks.rs`, shared with
//! the regression replay.
use libfuzzer_sys::fuzz_target;

#[path = "../../imap-codec/tests/support/fuzz_checks.rs"]
mod fuzz_checks;

fuzz_target!(|data: &[u8]| fuzz_checks::framer_chunking(data));
