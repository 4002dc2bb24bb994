//! Inputs on which a fuzz target failed, kept as regression tests (the files are the
//! fuzzer's artifacts, unchanged). The checks are those of the targets.

use bytes::Bytes;
use imap_codec::codec::Message;
use imap_codec::command::Command;
use imap_codec::{DecodeOptions, Encode};

/// `fuzz/fuzz_targets/decode_command.rs`: the first byte picks the profile (even: strict);
/// whatever decodes re-encodes to bytes that decode strictly to an equal value, and what
/// decodes strictly validates.
fn decode_command_target(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let opts = if sel & 1 == 0 {
        DecodeOptions::strict()
    } else {
        DecodeOptions::lenient()
    };
    let msg = Bytes::copy_from_slice(rest);
    let Ok(d) = Command::decode(&msg, &opts) else {
        return;
    };
    let enc = Bytes::from(d.message.to_bytes());
    let again = Command::decode(&enc, &DecodeOptions::strict())
        .unwrap_or_else(|e| panic!("re-encoding {enc:?} does not decode: {e}"));
    assert_eq!(again.message, d.message);
    if sel & 1 == 0 {
        d.message.validate().unwrap();
    }
}

#[test]
fn decode_command_artifacts() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz-regressions/decode_command");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        decode_command_target(&std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n >= 3, "{n} artifacts in {}", dir.display());
}
