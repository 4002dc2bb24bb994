//! The round-trip property, shared by `tests/arbitrary_roundtrip.rs` and the fuzz targets
//! `roundtrip_command` and `roundtrip_response` (which include this file by path): a value the
//! API accepts encodes, with every encoder setting a connection can have, to bytes that decode
//! strictly to an equal value, in one piece and through the streaming decoders.
#![allow(dead_code)] // each includer uses its side only

use bytes::Bytes;
use imapwire_codec::codec::{AnyMessage, Expect, Message, Receiver, StreamDecoder, StreamEvent};
use imapwire_codec::command::Command;
use imapwire_codec::encode::{EncodeBuf, EncodeOptions, LiteralMode};
use imapwire_codec::framer::FramerConfig;
use imapwire_codec::response::{Continuation, Response};
use imapwire_codec::{DecodeOptions, Encode};

/// The encoder settings a connection can have: synchronizing or non-synchronizing literals,
/// UTF-8 in quoted strings (IMAP4rev2) or not, and literals for every string that may be one.
pub const SETTINGS: [EncodeOptions; 4] = [
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

pub fn encode_with(v: &impl Encode, options: EncodeOptions) -> Bytes {
    let mut b = EncodeBuf::with_options(options);
    v.encode(&mut b);
    Bytes::from(b.out)
}

/// The property for one built command: [`check_with`] under a server's framing (a
/// synchronizing literal's data follows its announcement without waiting for `+`).
pub fn check_command(cmd: &Command) {
    check_with(cmd, FramerConfig::default().with_await_sync_literals(false));
}

/// The property for one server-side value (response or greeting) that passed validation:
/// [`check_with`] under the default framing.
pub fn check_server<M: Message + PartialEq + std::fmt::Debug>(v: &M) {
    check_with(v, FramerConfig::default());
}

/// With every encoder setting, `v` encodes to bytes that strict decoding gives back: in one
/// piece, and through a [`StreamDecoder`] with `framer` as exactly one message, equal,
/// nothing left over.
fn check_with<M: Message + PartialEq + std::fmt::Debug>(v: &M, framer: FramerConfig) {
    for options in SETTINGS {
        let enc = encode_with(v, options);
        let shown = String::from_utf8_lossy(&enc);
        match M::decode(&enc, &DecodeOptions::strict()) {
            Ok(d) => assert_eq!(&d.message, v, "{shown:?} decodes to another value"),
            Err(e) => panic!("{v:?} encodes to {shown:?}, which does not decode: {e}"),
        }
        let mut dec = StreamDecoder::<M>::new(framer, DecodeOptions::strict());
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
        assert_eq!(&got[0], v, "{shown:?} streams to another value");
        assert!(
            dec.framer_mut().is_idle(),
            "{shown:?} leaves bytes in the framer"
        );
    }
}

/// [`check_server`] for a response, in the context it reads back in: a base64 continuation request
/// is a SASL challenge ([`Expect::SaslChallenge`]), anything else a plain response; decoded
/// one-shot and through the switching [`Receiver`].
pub fn check_response(r: &Response) {
    let expect = match r {
        Response::Continuation(Continuation::Base64(_)) => Expect::SaslChallenge,
        _ => Expect::Response,
    };
    if expect == Expect::Response {
        check_server(r);
    }
    let want = AnyMessage::Response(r.clone());
    for options in SETTINGS {
        let enc = encode_with(r, options);
        let shown = String::from_utf8_lossy(&enc);
        match AnyMessage::decode(&enc, expect, &DecodeOptions::strict()) {
            Ok(d) => assert_eq!(d.message, want, "{shown:?} decodes to another value"),
            Err(e) => panic!("{r:?} encodes to {shown:?}, which does not decode: {e}"),
        }
        let mut rx = Receiver::new(FramerConfig::default(), DecodeOptions::strict(), expect);
        rx.push(&enc);
        let mut got = Vec::new();
        for ev in rx.by_ref() {
            match ev {
                StreamEvent::Message(m) => got.push(m.message),
                StreamEvent::Error(e) => panic!("{shown:?}: stream error {e}"),
                _ => {}
            }
        }
        assert_eq!(
            got,
            vec![want.clone()],
            "{shown:?} streams to another value"
        );
        assert!(rx.is_idle(), "{shown:?} leaves bytes in the receiver");
    }
}
