//! Property tests over every top-level message kind (RFC 9051 §2.2): generated values
//! round-trip through the encoder and the decoder, and framing is invariant under chunking:
//! the encoded message fed to the streaming decoder in 2 or 3 chunks, split anywhere, gives
//! the same value as fed whole, whether the chunks are copied in (`push`) or handed over as
//! shared buffers (`push_bytes`), or both.

use bytes::Bytes;
use proptest::prelude::*;

use crate::codec::{AnyMessage, Expect, Message, Receiver, StreamDecoder, StreamEvent};
use crate::encode::{EncodeBuf, EncodeOptions, LiteralMode};
use crate::framer::{Frame, Framer, FramerConfig};
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

/// `bytes` cut at `cuts` (each clamped between the cut before it and the end) and at its
/// end: the pieces in order with their index (the feeds alternate shared and copied pieces
/// by it).
fn pieces<'a>(bytes: &'a Bytes, cuts: &'a [usize]) -> impl Iterator<Item = (usize, Bytes)> + 'a {
    let mut last = 0;
    let ends = cuts.iter().copied().chain(std::iter::once(bytes.len()));
    ends.enumerate().map(move |(i, c)| {
        let c = c.clamp(last, bytes.len());
        let piece = bytes.slice(last..c);
        last = c;
        (i, piece)
    })
}

/// Feeds `bytes` split at `cuts` and returns the single decoded message.
fn stream<M: Message + std::fmt::Debug>(
    bytes: &Bytes,
    cuts: &[usize],
    feed: Feed,
) -> Result<M, String> {
    let mut d = StreamDecoder::<M>::new(FramerConfig::default(), DecodeOptions::strict());
    let mut out = Vec::new();
    for (i, piece) in pieces(bytes, cuts) {
        match feed {
            Feed::Copy => d.push(&piece),
            Feed::Mixed if i % 2 == 1 => d.push(&piece),
            Feed::Shared | Feed::Mixed => d.push_bytes(piece),
        }
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
        for (i, piece) in pieces(&bytes, &cuts) {
            if i % 2 == 0 {
                rx.push_bytes(piece);
            } else {
                rx.push(&piece);
            }
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

/// Feeds `bytes` split at `cuts` (shared and copied pieces in turn) to two decoders of one
/// configuration and compares, call by call, the events of [`StreamDecoder::next`] with
/// what [`StreamDecoder::next_into`] leaves in its slot (the same slot throughout): the
/// same events, `false` exactly when `next` says `None`, and the slot empty then.
fn next_into_matches_next<M: Message + Clone + PartialEq + std::fmt::Debug>(
    bytes: &Bytes,
    cuts: &[usize],
    framer: FramerConfig,
    opts: DecodeOptions,
) -> Result<usize, TestCaseError> {
    let mut by_value = StreamDecoder::<M>::new(framer, opts.clone());
    let mut in_place = StreamDecoder::<M>::new(framer, opts);
    let mut slot = None;
    let mut events = 0;
    for (i, piece) in pieces(bytes, cuts) {
        if i % 2 == 0 {
            by_value.push_bytes(piece.clone());
            in_place.push_bytes(piece);
        } else {
            by_value.push(&piece);
            in_place.push(&piece);
        }
        loop {
            let want = by_value.next();
            let got = in_place.next_into(&mut slot);
            prop_assert_eq!(got, want.is_some());
            prop_assert_eq!(&slot, &want, "cuts {:?}", cuts);
            if want.is_none() {
                break;
            }
            events += 1;
            // a decision the stream may wait for, taken the same way on both
            if by_value.framer_mut().awaiting_decision() {
                prop_assert!(in_place.framer_mut().awaiting_decision());
                prop_assert!(by_value.accept_literal().is_ok());
                prop_assert!(in_place.accept_literal().is_ok());
            }
        }
    }
    prop_assert_eq!(by_value.take_buffered(), in_place.take_buffered());
    Ok(events)
}

/// Feeds `bytes` split at `cuts` (shared and copied pieces in turn) to two receivers of one
/// configuration expecting `expect`: the first reads a complete one-line message where the
/// framer holds it (a shared piece as it is, copied pieces in the framer's buffer frozen;
/// its values cut out of it), the other cuts every message off first (the general path,
/// `always_cut`). The same events call by call
/// (values, warnings, errors with their raw message, excerpt and offsets), through `next`
/// and `next_into` in turn, the same parse count (one a message), and the same bytes left.
/// Returns how many messages the first read in place.
fn in_place_matches_cut(
    bytes: &Bytes,
    cuts: &[usize],
    framer: FramerConfig,
    opts: DecodeOptions,
    expect: Expect,
) -> Result<u64, TestCaseError> {
    let mut in_place = Receiver::new(framer, opts.clone(), expect);
    let mut cut = Receiver::new(framer, opts, expect);
    cut.always_cut = true;
    let mut slot = None;
    for (i, piece) in pieces(bytes, cuts) {
        if i % 2 == 0 {
            in_place.push_bytes(piece.clone());
            cut.push_bytes(piece);
        } else {
            in_place.push(&piece);
            cut.push(&piece);
        }
        loop {
            // by value and into a slot in turn, on the receiver read in place
            let got = if in_place.parses() % 2 == 0 {
                in_place.next()
            } else {
                in_place.next_into(&mut slot);
                slot.take()
            };
            let want = cut.next();
            prop_assert_eq!(&got, &want, "cuts {:?}", cuts);
            prop_assert_eq!(in_place.parses(), cut.parses());
            if want.is_none() {
                break;
            }
            if cut.awaiting_decision() {
                prop_assert!(in_place.awaiting_decision());
                prop_assert!(cut.accept_literal().is_ok());
                prop_assert!(in_place.accept_literal().is_ok());
            }
        }
    }
    prop_assert_eq!(cut.read_in_place, 0);
    prop_assert_eq!(in_place.take_buffered(), cut.take_buffered());
    Ok(in_place.read_in_place)
}

/// Lines that decode only in the lenient profile, with a warning (NUL padding, a non-IMAP
/// line, a quirk inside a response), or not at all, for [`events_equal_decode`].
const DEFECTS: [&[u8]; 6] = [
    b"\0\0* OK ready\r\n",
    b"hello world\r\n",
    b"* LIST (\\Noselect) NIL \"\"\r\n",
    b"* 1 FETCH (FLAGS \r\n",
    b"* 3 EXISTS\r\n",
    b"A1 OK done\r\n",
];

/// Feeds `bytes` whole (shared) to a decoder and to a bare framer, and compares each event
/// [`StreamDecoder::next_into`] leaves in its slot with the general path: the framer's
/// message decoded by [`Message::decode`] (its value and warnings, or its error with the
/// message's offset and raw bytes), a framing error as it is. The decoder reads one-line
/// messages in place and parses into its slot (`decode_event_in_place`, warnings and errors
/// finished out of line); this pins it to the plain decode. Returns how many messages.
fn events_equal_decode<M: Message + Clone + PartialEq + std::fmt::Debug>(
    bytes: &Bytes,
    opts: DecodeOptions,
) -> Result<usize, TestCaseError> {
    let config = FramerConfig::default()
        .with_await_sync_literals(false)
        .with_quiet_literals(true);
    let mut dec = StreamDecoder::<M>::new(config, opts.clone());
    let mut framer = Framer::new(config);
    dec.push_bytes(bytes.clone());
    framer.push_bytes(bytes.clone());
    let mut slot = None;
    let mut n = 0;
    loop {
        let start = framer.stream_offset();
        let want = framer.next_frame().map(|f| match f {
            Frame::Message(msg) => match M::decode(&msg, &opts) {
                Ok(d) => StreamEvent::Message(d),
                Err(mut error) => {
                    error.message_offset = Some(start);
                    StreamEvent::Error(crate::codec::StreamError::Decode {
                        error,
                        raw: msg,
                        stream_offset: start,
                    })
                }
            },
            Frame::Error(e) => StreamEvent::Error(crate::codec::StreamError::Frame(e)),
            other => panic!("no such frame in this configuration: {other:?}"),
        });
        let more = dec.next_into(&mut slot);
        prop_assert_eq!(more, want.is_some());
        prop_assert_eq!(&slot, &want, "in {:?}", bytes);
        if want.is_none() {
            return Ok(n);
        }
        n += 1;
    }
}

/// A stream for [`next_into_matches_next`]: the encoded values, each followed by one of a
/// few lines that do not decode, frame with a literal or break a limit (by `noise`).
fn mixed_stream<M: Message>(values: &[M], noise: &[u8]) -> Bytes {
    const NOISE: [&[u8]; 5] = [
        b"",
        b"* 1 FETCH (FLAGS \r\n",
        b"* LIST () \"/\" {5}\r\nab\"cd\r\n",
        b"A1 NOOP\r\n",
        b"* 2 FETCH (UID 9 BODY[] {12}\r\nhello, world)\r\n",
    ];
    let mut v = Vec::new();
    for (i, m) in values.iter().enumerate() {
        v.extend_from_slice(&encode(m, i % 2 == 1));
        let n = noise.get(i).copied().unwrap_or(0) as usize;
        v.extend_from_slice(NOISE[n % NOISE.len()]);
    }
    Bytes::from(v)
}

/// The framer settings [`next_into_matches_next`] runs under: as configured by default
/// (announced literals; a server's decoder pauses at synchronizing ones), quiet literals,
/// literals over 4 bytes streamed, and a 64-byte line limit.
fn framer_configs() -> [FramerConfig; 4] {
    [
        FramerConfig::default(),
        FramerConfig::default().with_quiet_literals(true),
        FramerConfig::default().with_stream_literals_over(Some(4)),
        FramerConfig::default().with_limits(crate::options::Limits::default().with_max_line(64)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// `StreamDecoder::next_into` (the event decoded into the caller's slot) against
    /// `next` (returned by value), responses and commands, any mix of valid, broken,
    /// literal-bearing and over-long messages, any split, strict and lenient.
    #[test]
    fn next_into_events_equal_next(
        responses in proptest::collection::vec(crate::response::strategies::response(), 1..4),
        commands in proptest::collection::vec(crate::command::strategies::command(), 1..4),
        noise in proptest::collection::vec(any::<u8>(), 4),
        a: usize,
        b: usize,
        lenient: bool,
    ) {
        let opts = if lenient { DecodeOptions::lenient() } else { DecodeOptions::strict() };
        let responses: Vec<_> = responses.into_iter().filter(|r| expect_for(r) == Expect::Response).collect();
        for (bytes, command) in [(mixed_stream(&responses, &noise), false), (mixed_stream(&commands, &noise), true)] {
            let n = bytes.len();
            let (x, y) = ((a % (n + 1)).min(b % (n + 1)), (a % (n + 1)).max(b % (n + 1)));
            for framer in framer_configs() {
                let framer = framer.with_await_sync_literals(command);
                let events = if command {
                    next_into_matches_next::<crate::command::Command>(&bytes, &[x, y], framer, opts.clone())?
                } else {
                    next_into_matches_next::<crate::response::Response>(&bytes, &[x, y], framer, opts.clone())?
                };
                prop_assert!(events > 0 || n == 0);
            }
        }
    }

    /// Events decoded in place against each framed message's plain decode
    /// ([`events_equal_decode`]): responses and commands, any mix of valid, broken and
    /// defective lines (warnings in the lenient profile), strict and lenient.
    #[test]
    fn in_place_events_equal_decode(
        responses in proptest::collection::vec(crate::response::strategies::response(), 1..4),
        commands in proptest::collection::vec(crate::command::strategies::command(), 1..4),
        noise in proptest::collection::vec(any::<u8>(), 4),
        defects in proptest::collection::vec(any::<u8>(), 4),
        lenient: bool,
    ) {
        let opts = if lenient { DecodeOptions::lenient() } else { DecodeOptions::strict() };
        let responses: Vec<_> = responses.into_iter().filter(|r| expect_for(r) == Expect::Response).collect();
        let with_defects = |b: Bytes| {
            let mut v = b.to_vec();
            for d in &defects {
                v.extend_from_slice(DEFECTS[*d as usize % DEFECTS.len()]);
            }
            Bytes::from(v)
        };
        let r = with_defects(mixed_stream(&responses, &noise));
        prop_assert!(events_equal_decode::<crate::response::Response>(&r, opts.clone())? > 0);
        let c = with_defects(mixed_stream(&commands, &noise));
        prop_assert!(events_equal_decode::<crate::command::Command>(&c, opts)? > 0);
    }

    /// A one-line message read where the framer holds it (shared input) against the same
    /// message cut first (copied input): responses, commands and greetings (decoded by the
    /// cutting path of the kinds not parsed in place), any mix of valid, broken,
    /// literal-bearing and over-long messages, any split, strict and lenient, under the
    /// framer settings of `next_into_events_equal_next`.
    #[test]
    fn read_in_place_equals_cut(
        responses in proptest::collection::vec(crate::response::strategies::response(), 1..4),
        commands in proptest::collection::vec(crate::command::strategies::command(), 1..4),
        greetings in proptest::collection::vec(crate::response::strategies::greeting(), 1..3),
        noise in proptest::collection::vec(any::<u8>(), 4),
        a: usize,
        b: usize,
        lenient: bool,
    ) {
        let opts = if lenient { DecodeOptions::lenient() } else { DecodeOptions::strict() };
        let responses: Vec<_> = responses.into_iter().filter(|r| expect_for(r) == Expect::Response).collect();
        for (bytes, expect) in [
            (mixed_stream(&responses, &noise), Expect::Response),
            (mixed_stream(&commands, &noise), Expect::Command),
            (mixed_stream(&greetings, &noise), Expect::Greeting),
        ] {
            let n = bytes.len();
            let (x, y) = ((a % (n + 1)).min(b % (n + 1)), (a % (n + 1)).max(b % (n + 1)));
            for framer in framer_configs() {
                let framer = framer.with_await_sync_literals(expect == Expect::Command);
                in_place_matches_cut(&bytes, &[x, y], framer, opts.clone(), expect)?;
            }
            // whole, the stream's first message is read in place (every message the
            // generators make is one line, or announces a literal at the first line's end)
            let first_line = bytes.iter().position(|&c| c == b'\n').map_or(0, |i| i + 1);
            let read = in_place_matches_cut(&bytes, &[], FramerConfig::default(), opts.clone(), expect)?;
            let one_line = first_line > 0 && !bytes[..first_line].ends_with(b"}\r\n");
            prop_assert!(read > 0 || !one_line, "none of {:?} read in place", bytes);
        }
    }

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

/// [`events_equal_decode`] over every defective line, strict and lenient: the lenient
/// profile decodes the NUL-padded and non-IMAP lines with warnings (moved into their events
/// out of line), the strict one fails them (their error events built out of line).
#[test]
fn in_place_events_equal_decode_on_defects() {
    let all: Vec<u8> = DEFECTS.concat();
    let bytes = Bytes::from(all);
    for opts in [DecodeOptions::strict(), DecodeOptions::lenient()] {
        let n = events_equal_decode::<crate::response::Response>(&bytes, opts.clone()).unwrap();
        assert_eq!(n, DEFECTS.len());
        let n = events_equal_decode::<crate::command::Command>(&bytes, opts).unwrap();
        assert_eq!(n, DEFECTS.len());
    }
    // the lenient decoder's events carry the warnings (the cases above are not vacuous)
    let mut dec = StreamDecoder::<crate::response::Response>::new(
        FramerConfig::default(),
        DecodeOptions::lenient(),
    );
    dec.push_bytes(bytes);
    let mut slot = None;
    let mut warned = 0;
    let mut failed = 0;
    while dec.next_into(&mut slot) {
        match &slot {
            Some(StreamEvent::Message(m)) => warned += usize::from(!m.warnings.is_empty()),
            Some(StreamEvent::Error(_)) => failed += 1,
            _ => {}
        }
    }
    assert!(warned >= 2, "{warned} messages with warnings");
    assert!(failed >= 1, "{failed} errors");
}
