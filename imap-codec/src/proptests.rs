//! Property tests over every top-level message kind (RFC 9051 §2.2): generated values
//! round-trip through the encoder and the decoder, and framing is invariant under chunking:
//! the encoded message fed to the streaming decoder in 2 or 3 chunks, split anywhere, gives
//! the same value as fed whole, whether the chunks are copied in (`push`) or handed over as
//! shared buffers (`push_bytes`), or both.

use bytes::Bytes;
use proptest::prelude::*;

use crate::codec::{AnyMessage, Expect, Message, Receiver, StreamDecoder, StreamEvent};
use crate::encode::{EncodeBuf, EncodeOptions, LiteralMode};
use crate::framer::FramerConfig;
use crate::options::DecodeOptions;

fn encode<M: Message>(m: &M, nonsync: bool) -> Bytes {
    let mut b = EncodeBuf::with_options(EncodeOptions {
        literal_mode: if nonsync {
            LiteralMode::NonSync
        } else {
            LiteralMode::Sync
        },
        ..Default::default()
    });
    m.encode(&mut b);
    Bytes::from(b.out)
}

/// How the chunks are handed to the decoder.
#[derive(Debug, Clone, Copy)]
enum Feed {
    /// `push(&[u8])` (copied).
    Copy,
    /// `push_bytes(Bytes)` (shared slices of the whole buffer).
    Shared,
    /// Alternating, starting with `push_bytes`.
    Mixed,
}

/// Feeds `bytes` split at `cuts` and returns the single decoded message.
fn stream<M: Message + std::fmt::Debug>(
    bytes: &Bytes,
    cuts: &[usize],
    feed: Feed,
) -> Result<M, String> {
    let mut d = StreamDecoder::<M>::new(FramerConfig::default(), DecodeOptions::strict());
    let mut out = Vec::new();
    let mut last = 0;
    for (i, &c) in cuts.iter().chain(std::iter::once(&bytes.len())).enumerate() {
        let c = c.clamp(last, bytes.len());
        match feed {
            Feed::Copy => d.push(&bytes[last..c]),
            Feed::Mixed if i % 2 == 1 => d.push(&bytes[last..c]),
            Feed::Shared | Feed::Mixed => d.push_bytes(bytes.slice(last..c)),
        }
        last = c;
        for ev in d.by_ref() {
            match ev {
                StreamEvent::Message(m) => out.push(m.message),
                StreamEvent::Error(e) => return Err(format!("{e}")),
                _ => {}
            }
        }
    }
    if out.len() != 1 {
        return Err(format!("{} messages: {out:?}", out.len()));
    }
    Ok(out.pop().expect("one message"))
}

fn check<M: Message + PartialEq + std::fmt::Debug>(
    v: &M,
    nonsync: bool,
    a: usize,
    b: usize,
) -> Result<(), TestCaseError> {
    let bytes = encode(v, nonsync);
    let whole = M::decode(&bytes, &DecodeOptions::strict())
        .map_err(|e| TestCaseError::fail(format!("{e} in {:?}", crate::error::Excerpt(&bytes))))?;
    prop_assert_eq!(&whole.message, v);
    let n = bytes.len();
    let (x, y) = (
        (a % (n + 1)).min(b % (n + 1)),
        (a % (n + 1)).max(b % (n + 1)),
    );
    for cuts in [vec![x], vec![x, y]] {
        for feed in [Feed::Copy, Feed::Shared, Feed::Mixed] {
            let got = stream::<M>(&bytes, &cuts, feed).map_err(TestCaseError::fail)?;
            prop_assert_eq!(&got, v, "cuts {:?}, {:?}", cuts, feed);
        }
    }
    Ok(())
}

/// The context a response is decoded in: a base64 continuation request only reads back as
/// itself in a SASL exchange.
pub(crate) fn expect_for(r: &crate::response::Response) -> Expect {
    use crate::response::{Continuation, Response};
    match r {
        Response::Continuation(Continuation::Base64(_)) => Expect::SaslChallenge,
        _ => Expect::Response,
    }
}

/// [`check`] for a response, through the switching [`Receiver`] in the value's context.
fn check_response(v: &crate::response::Response, a: usize, b: usize) -> Result<(), TestCaseError> {
    let expect = expect_for(v);
    let want = AnyMessage::Response(v.clone());
    let bytes = encode(v, false);
    let whole = AnyMessage::decode(&bytes, expect, &DecodeOptions::strict())
        .map_err(|e| TestCaseError::fail(format!("{e} in {:?}", crate::error::Excerpt(&bytes))))?;
    prop_assert_eq!(&whole.message, &want);
    let n = bytes.len();
    let (x, y) = (
        (a % (n + 1)).min(b % (n + 1)),
        (a % (n + 1)).max(b % (n + 1)),
    );
    for cuts in [vec![x], vec![x, y]] {
        let mut rx = Receiver::new(FramerConfig::default(), DecodeOptions::strict(), expect);
        let mut out = Vec::new();
        let mut last = 0;
        for (i, &c) in cuts.iter().chain(std::iter::once(&n)).enumerate() {
            if i % 2 == 0 {
                rx.push_bytes(bytes.slice(last..c));
            } else {
                rx.push(&bytes[last..c]);
            }
            last = c;
            for ev in rx.by_ref() {
                match ev {
                    StreamEvent::Message(m) => out.push(m.message),
                    StreamEvent::Error(e) => return Err(TestCaseError::fail(format!("{e}"))),
                    _ => {}
                }
            }
        }
        prop_assert_eq!(&out, &vec![want.clone()], "cuts {:?}", cuts);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn command(v in crate::command::strategies::command(), ns: bool, a: usize, b: usize) {
        check(&v, ns, a, b)?;
    }

    #[test]
    fn authenticate_data(v in crate::command::strategies::authenticate_data(), a: usize, b: usize) {
        check(&v, false, a, b)?;
    }

    #[test]
    fn idle_done(a: usize, b: usize) {
        check(&crate::command::IdleDone, false, a, b)?;
    }

    #[test]
    fn greeting(v in crate::response::strategies::greeting(), a: usize, b: usize) {
        check(&v, false, a, b)?;
    }

    #[test]
    fn response(v in crate::response::strategies::response(), a: usize, b: usize) {
        if expect_for(&v) == Expect::Response {
            check(&v, false, a, b)?;
        }
        check_response(&v, a, b)?;
    }
}
