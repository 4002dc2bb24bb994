#![no_main]
//! Fuzzes the Greeting decoder in both profiles, with the re-encoding check, and checks that
//! values decoded in the strict profile pass `Greeting::validate` (so validation accepts
//! everything a server can legitimately send).
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::roundtrip::<imapwire_codec::response::Greeting>(data, b"");
    check_validates(data);
});

fn check_validates(data: &[u8]) {
    use imapwire_codec::codec::Message;
    use imapwire_codec::options::DecodeOptions;
    use imapwire_codec::response::Greeting;
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    if sel & 1 == 1 {
        // Lenient values may keep stand-ins (`BodyStructure::Invalid`, ...).
        return;
    }
    let msg = bytes::Bytes::copy_from_slice(rest);
    if let Ok(d) = Greeting::decode(&msg, &DecodeOptions::strict()) {
        if let Err(e) = d.message.validate() {
            panic!("decoded {:?} does not validate: {e}", d.message);
        }
    }
}
