#![no_main]
//! Misuse resistance: arbitrary `Tag` + `CommandBody` → `Command::new` (skipped when
//! rejected) → encode (sync and non-sync literals) → strict decode, one-shot and through the
//! streaming decoder → equal. The first byte selects `AuthenticateData` instead, which has no
//! validation (every value must roundtrip).
#[path = "../../imap-codec/tests/support/roundtrip.rs"]
mod roundtrip;

use arbitrary::{Arbitrary, Unstructured};
use imapwire_codec::codec::Message;
use imapwire_codec::command::{AuthenticateData, Command, CommandBody};
use imapwire_codec::core::Tag;
use imapwire_codec::{DecodeOptions, Encode};
use libfuzzer_sys::fuzz_target;
use roundtrip::check_command;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mut u = Unstructured::new(rest);
    if sel == 0xff {
        if let Ok(d) = AuthenticateData::arbitrary(&mut u) {
            let enc = d.to_bytes_inline_literals();
            let again = AuthenticateData::decode(&enc, &DecodeOptions::strict())
                .unwrap_or_else(|e| panic!("{enc:?}: {e}"));
            assert_eq!(again.message, d);
        }
        return;
    }
    let (Ok(tag), Ok(body)) = (Tag::arbitrary(&mut u), CommandBody::arbitrary(&mut u)) else {
        return;
    };
    if let Ok(cmd) = Command::new(tag, body) {
        check_command(&cmd);
    }
});
