#![no_main]
//! Misuse resistance, server side: arbitrary `Response` (or, when the first byte is 0xff,
//! `Greeting`) → `validate()` (skipped when rejected) → encode with the 4 encoder settings →
//! strict decode, one-shot and through the streaming decoder → equal.
use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use imapwire_codec::codec::{AnyMessage, Expect, Message, Receiver, StreamDecoder, StreamEvent};
use imapwire_codec::encode::{EncodeBuf, EncodeOptions, LiteralMode};
use imapwire_codec::framer::FramerConfig;
use imapwire_codec::response::{Continuation, Greeting, Response};
use imapwire_codec::{DecodeOptions, Encode};
use libfuzzer_sys::fuzz_target;

/// The encoder settings a connection can have (as in `roundtrip_command`).
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

fn check<M: Message + PartialEq + std::fmt::Debug>(v: &M) {
    for options in SETTINGS {
        let enc = encode_with(v, options);
        let shown = String::from_utf8_lossy(&enc);
        match M::decode(&enc, &DecodeOptions::strict()) {
            Ok(d) => assert_eq!(&d.message, v, "{shown:?} decodes to another value"),
            Err(e) => panic!("{v:?} encodes to {shown:?}, which does not decode: {e}"),
        }
        let mut dec = StreamDecoder::<M>::new(FramerConfig::default(), DecodeOptions::strict());
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

/// [`check`] for a response, in the context it reads back in: a base64 continuation request
/// is a SASL challenge ([`Expect::SaslChallenge`]), anything else a plain response; decoded
/// one-shot and through the switching [`Receiver`].
fn check_response(r: &Response) {
    let expect = match r {
        Response::Continuation(Continuation::Base64(_)) => Expect::SaslChallenge,
        _ => Expect::Response,
    };
    if expect == Expect::Response {
        check(r);
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

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mut u = Unstructured::new(rest);
    if sel == 0xff {
        if let Ok(g) = Greeting::arbitrary(&mut u) {
            if g.validate().is_ok() {
                check(&g);
            }
        }
        return;
    }
    if let Ok(r) = Response::arbitrary(&mut u) {
        if r.validate().is_ok() {
            check_response(&r);
        }
    }
});
