#![no_main]
//! Fuzzes the Command decoder in both profiles, with the re-encoding check, and checks that
//! commands decoded in the strict profile pass `Command::validate` (so `Command::new`
//! accepts what was decoded).
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::roundtrip::<imapwire_codec::command::Command>(data, b"");
    check_validates(data);
});

fn check_validates(data: &[u8]) {
    use imapwire_codec::codec::Message;
    use imapwire_codec::command::Command;
    use imapwire_codec::options::DecodeOptions;
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    if sel & 1 == 1 {
        // Lenient values keep some defects of unknown commands' raw arguments (bare LF).
        return;
    }
    let msg = bytes::Bytes::copy_from_slice(rest);
    if let Ok(d) = Command::decode(&msg, &DecodeOptions::strict()) {
        if let Err(e) = d.message.validate() {
            panic!("decoded {:?} does not validate: {e}", d.message);
        }
    }
}
