#![no_main]
//! Misuse resistance: arbitrary `Tag` + `CommandBody` → `Command::new` (skipped when
//! rejected) → encode (sync and non-sync literals) → strict decode, one-shot and through the
//! streaming decoder → equal. The first byte selects `AuthenticateData` instead, which has no
//! validation (every value must roundtrip).
use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use imapwire_codec::codec::{CommandDecoder, Message, StreamEvent};
use imapwire_codec::command::{AuthenticateData, Command, CommandBody};
use imapwire_codec::core::Tag;
use imapwire_codec::encode::{EncodeBuf, EncodeOptions, LiteralMode};
use imapwire_codec::framer::FramerConfig;
use imapwire_codec::{DecodeOptions, Encode};
use libfuzzer_sys::fuzz_target;

/// The encoder settings a connection can have: synchronizing or non-synchronizing literals,
/// UTF-8 in quoted strings (IMAP4rev2) or not, and literals for every string that may be one.
const SETTINGS: [EncodeOptions; 4] = [
    EncodeOptions::new()
        .with_literal_mode(LiteralMode::Sync)
        .with_utf8_quoted(false)
        .with_max_quoted(1024)
        .with_max_non_sync(None),
    EncodeOptions::new()
        .with_literal_mode(LiteralMode::NonSync)
        .with_utf8_quoted(true)
        .with_max_quoted(1024)
        .with_max_non_sync(None),
    EncodeOptions::new()
        .with_literal_mode(LiteralMode::Sync)
        .with_utf8_quoted(false)
        .with_max_quoted(0)
        .with_max_non_sync(None),
    EncodeOptions::new()
        .with_literal_mode(LiteralMode::NonSync)
        .with_utf8_quoted(true)
        .with_max_quoted(3)
        .with_max_non_sync(Some(8)),
];

fn encode_with(v: &impl Encode, options: EncodeOptions) -> Bytes {
    let mut b = EncodeBuf::with_options(options);
    v.encode(&mut b);
    Bytes::from(b.out)
}

fn check_command(cmd: &Command) {
    for options in SETTINGS {
        let enc = encode_with(cmd, options);
        let shown = String::from_utf8_lossy(&enc);
        match Command::decode(&enc, &DecodeOptions::strict()) {
            Ok(d) => assert_eq!(&d.message, cmd, "{shown:?} decodes to another value"),
            Err(e) => panic!("{cmd:?} encodes to {shown:?}, which does not decode: {e}"),
        }
        let mut dec = CommandDecoder::new(
            FramerConfig::default().with_await_sync_literals(false),
            DecodeOptions::strict(),
        );
        dec.push(&enc);
        let mut got = Vec::new();
        while let Some(ev) = dec.next() {
            match ev {
                StreamEvent::Message(m) => got.push(m.message),
                StreamEvent::Error(e) => panic!("{shown:?}: stream error {e}"),
                _ => {}
            }
        }
        assert_eq!(got.len(), 1, "{shown:?} frames as {} messages", got.len());
        assert_eq!(&got[0], cmd, "{shown:?} streams to another value");
        assert!(
            dec.framer_mut().is_idle(),
            "{shown:?} leaves bytes in the framer"
        );
    }
}

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
