//! The checks of the decoder and framer fuzz targets, one function per target: the targets in
//! `fuzz/fuzz_targets/` (`decode_*`, `framer_chunking`) include this file by path and call
//! theirs, and `tests/fuzz_regressions.rs` replays every input a target ever failed on through
//! the same function, so a replay checks exactly what the fuzzer checked.
#![allow(dead_code)] // each includer uses its own functions

use bytes::{Bytes, BytesMut};
use imapwire_codec::FrameError;
use imapwire_codec::codec::{Message, ResponseDecoder};
use imapwire_codec::command::{AuthenticateData, Command, IdleDone};
use imapwire_codec::framer::{Frame, Framer, FramerConfig};
use imapwire_codec::options::{DecodeOptions, Limits};
use imapwire_codec::response::{Greeting, Response};

/// Target `decode_response`: the round trip, strict values validate, and `next_into` gives
/// the events `next` gives.
pub fn decode_response(data: &[u8]) {
    roundtrip::<Response>(data, b"");
    validates(data, Response::validate);
    next_into_matches_next(data);
}

/// Target `decode_command`: the round trip, and strict values validate (so `Command::new`
/// accepts what was decoded).
pub fn decode_command(data: &[u8]) {
    roundtrip::<Command>(data, b"");
    validates(data, Command::validate);
}

/// Target `decode_greeting`: the round trip, and strict values validate.
pub fn decode_greeting(data: &[u8]) {
    roundtrip::<Greeting>(data, b"");
    validates(data, Greeting::validate);
}

/// Target `decode_continuation`: continuation requests, the response decoder with a `+`
/// in front of the input.
pub fn decode_continuation(data: &[u8]) {
    roundtrip::<Response>(data, b"+");
}

/// Target `decode_authenticate_data`: the round trip.
pub fn decode_authenticate_data(data: &[u8]) {
    roundtrip::<AuthenticateData>(data, b"");
}

/// Target `decode_idle_done`: the round trip.
pub fn decode_idle_done(data: &[u8]) {
    roundtrip::<IdleDone>(data, b"");
}

/// The input's first byte (the selector: bit 0 picks the lenient profile, the other bits
/// are the target's) with the options it picks, and the rest; `None` for an empty input.
pub fn selected(data: &[u8]) -> Option<(u8, DecodeOptions, &[u8])> {
    let (&sel, rest) = data.split_first()?;
    let opts = if sel & 1 == 0 {
        DecodeOptions::strict()
    } else {
        DecodeOptions::lenient()
    };
    Some((sel, opts, rest))
}

/// Whatever decodes (after `prefix`) re-encodes to bytes that decode strictly to an equal
/// value, or, when the lenient profile tolerated a defect, to a value whose encoding is the
/// same (a fixed point).
pub fn roundtrip<M: Message + PartialEq + std::fmt::Debug>(data: &[u8], prefix: &[u8]) {
    let Some((_, opts, rest)) = selected(data) else {
        return;
    };
    let msg = Bytes::from([prefix, rest].concat());
    if let Ok(d) = M::decode(&msg, &opts) {
        let enc = d.message.to_bytes_inline_literals();
        let again = match M::decode(&enc, &DecodeOptions::strict()) {
            Ok(again) => again,
            Err(e) => panic!(
                "re-encoding {:?} of {:?} does not decode: {e}",
                String::from_utf8_lossy(&enc),
                d.message
            ),
        };
        if d.warnings.is_empty() {
            // Valid input: the value survives the round trip.
            assert_eq!(
                again.message,
                d.message,
                "re-encoding {:?} decodes to another value",
                String::from_utf8_lossy(&enc)
            );
        } else {
            // A tolerated defect maps to the nearest valid value, which may differ from the
            // decoded one (e.g. a BODYSTRUCTURE kept raw as `Invalid`); its encoding must be
            // a fixed point.
            let enc2 = again.message.to_vec_inline_literals();
            assert_eq!(
                String::from_utf8_lossy(&enc2),
                String::from_utf8_lossy(&enc),
                "re-encoding is not stable"
            );
        }
    }
}

/// A value decoded in the strict profile passes the type's `validate`, so validation accepts
/// everything a peer can legitimately send. Lenient values are skipped: they may keep
/// stand-ins (`BodyStructure::Invalid`, unknown commands' raw arguments with a bare LF).
pub fn validates<M: Message + std::fmt::Debug, E: std::fmt::Display>(
    data: &[u8],
    validate: impl Fn(&M) -> Result<(), E>,
) {
    let Some((sel, opts, rest)) = selected(data) else {
        return;
    };
    if sel & 1 == 1 {
        return;
    }
    if let Ok(d) = M::decode(&Bytes::copy_from_slice(rest), &opts) {
        if let Err(e) = validate(&d.message) {
            panic!("decoded {:?} does not validate: {e}", d.message);
        }
    }
}

/// The input as a stream of responses (bodies over 4 bytes streamed when the selector's bit 1
/// is set), decoded by `next` and by `next_into` into one slot (emptied by a fast path for
/// the usual shapes): the same events. A value the slot's fast path forgot while it still
/// owned something shows as a leak (LeakSanitizer, in the fuzzer).
pub fn next_into_matches_next(data: &[u8]) {
    let Some((sel, opts, rest)) = selected(data) else {
        return;
    };
    let framer = FramerConfig::default().with_stream_literals_over((sel & 2 != 0).then_some(4));
    let input = Bytes::copy_from_slice(rest);
    let mut by_value = ResponseDecoder::new(framer, opts.clone());
    let mut in_place = ResponseDecoder::new(framer, opts);
    by_value.push_bytes(input.clone());
    in_place.push_bytes(input);
    let mut slot = None;
    loop {
        let want = by_value.next();
        let got = in_place.next_into(&mut slot);
        assert_eq!(got, want.is_some());
        assert_eq!(slot, want);
        if want.is_none() {
            break;
        }
    }
}

/// Target `framer_chunking`: the framer fed arbitrary chunkings of arbitrary bytes agrees
/// with whole-buffer framing (copied and shared), and, with literals over 8 bytes streamed,
/// the fast lane, the lent lane and the room lane give exactly the frames of the general
/// path, chunk boundaries included, for the same reads. The first 4 bytes seed the chunk
/// sizes and set small limits, so that the limit paths are exercised.
pub fn framer_chunking(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let seed = data[0] as usize + 1;
    let limits = Limits::default()
        .with_max_line(64 + data[1] as usize * 4)
        .with_max_literal(16 + data[2] as u64 * 8)
        .with_max_message(256 + data[3] as u64 * 16)
        .with_max_literals(8);
    let body = &data[4..];
    let config = FramerConfig::default()
        .with_limits(limits)
        .with_await_sync_literals(false);
    let mut whole = Framer::new(config);
    // the whole stream once copied, once shared (zero-copy path): both must agree
    let mut shared = Framer::new(config);
    shared.push_bytes(Bytes::copy_from_slice(body));
    let c: Vec<Frame> = std::iter::from_fn(|| shared.next_frame()).collect();
    whole.push(body);
    let a: Vec<Frame> = std::iter::from_fn(|| whole.next_frame()).collect();
    let mut split = Framer::new(config);
    let mut b = Vec::new();
    let (mut pos, mut k) = (0, seed);
    while pos < body.len() {
        let n = (k % 17 + 1).min(body.len() - pos);
        // odd chunks through the zero-copy path, even ones copied
        if k % 2 == 1 {
            split.push_bytes(Bytes::copy_from_slice(&body[pos..pos + n]));
        } else {
            split.push(&body[pos..pos + n]);
        }
        b.extend(std::iter::from_fn(|| split.next_frame()));
        pos += n;
        k = k.wrapping_mul(31).wrapping_add(7);
    }
    // With literals over 8 bytes streamed: the fast lane (`push_bytes_chunk`,
    // `push_bytes_mut_chunk`: a read inside a streamed literal handed straight back as its
    // chunk), for the same reads as the general path (odd ones shared, even ones split off
    // one buffer).
    let streaming = config.with_stream_literals_over(Some(8));
    let (mut general, mut fast) = (Framer::new(streaming), Framer::new(streaming));
    // The lent lane (`push_read`: the chunk lent from the reader's buffer, no `Bytes`), its
    // reads the front of one buffer holding the rest of the input.
    let mut lent = Framer::new(streaming);
    // The room lane (`read_room`: the reads land in the framer's own buffer, handed back by
    // `push_room`, the chunk lent, or `push_room_chunk`), with rooms of any size.
    let mut room = Framer::new(streaming);
    let (mut r, mut at) = (Vec::new(), 0);
    let (mut g, mut f, mut l) = (Vec::new(), Vec::new(), Vec::new());
    let (mut rd1, mut rd2) = (BytesMut::from(body), BytesMut::from(body));
    let mut rd3 = BytesMut::from(body);
    let mut k = seed;
    while !rd1.is_empty() {
        let n = (k % 23 + 1).min(rd1.len());
        let (r1, r2) = (rd1.split_to(n), rd2.split_to(n));
        let chunk = if k % 2 == 1 {
            general.push_bytes(r1.freeze());
            fast.push_bytes_chunk(r2.freeze())
        } else {
            general.push_bytes_mut(r1);
            fast.push_bytes_mut_chunk(r2)
        };
        f.extend(chunk.map(Frame::LiteralChunk));
        let before = rd3.len();
        let mut lent_chunk = None;
        let got = lent.push_read(&mut rd3, n, |c| {
            lent_chunk = Some(Bytes::copy_from_slice(c))
        });
        assert_eq!(got, lent_chunk.as_ref().map_or(0, |c| c.len()));
        assert_eq!(
            rd3.len(),
            before - n,
            "push_read consumes the bytes offered"
        );
        l.extend(lent_chunk.map(Frame::LiteralChunk));
        let mut into = room.read_room(n.max(k % 300));
        assert!(into.is_empty() && into.capacity() >= n);
        into.extend_from_slice(&body[at..at + n]);
        at += n;
        if k % 3 == 0 {
            r.extend(room.push_room_chunk(into).map(Frame::LiteralChunk));
        } else {
            let mut room_chunk = None;
            let got = room.push_room(into, |c| room_chunk = Some(Bytes::copy_from_slice(c)));
            assert_eq!(got, room_chunk.as_ref().map_or(0, |c| c.len()));
            r.extend(room_chunk.map(Frame::LiteralChunk));
        }
        r.extend(std::iter::from_fn(|| room.next_frame()));
        g.extend(std::iter::from_fn(|| general.next_frame()));
        f.extend(std::iter::from_fn(|| fast.next_frame()));
        l.extend(std::iter::from_fn(|| lent.next_frame()));
        k = k.wrapping_mul(31).wrapping_add(7);
    }
    assert_eq!(g, f, "the fast lane and the general path differ");
    assert_eq!(g, l, "the lent lane and the general path differ");
    assert_eq!(g, r, "the room lane and the general path differ");
    assert_eq!(general.buffered(), room.buffered());
    assert_eq!(general.buffered(), fast.buffered());
    assert_eq!(general.buffered(), lent.buffered());
    assert_eq!(c, a, "shared (push_bytes) and copied (push) framing differ");
    // A limit error's kind and size depend on how much of the message the framer had seen
    // when it gave up, so errors are compared by their tag only.
    assert_eq!(errors_by_tag(a), errors_by_tag(b));
    assert_eq!(whole.buffered(), split.buffered());
}

/// Every error frame replaced by one of a fixed kind with the same tag.
fn errors_by_tag(v: Vec<Frame>) -> Vec<Frame> {
    v.into_iter()
        .map(|f| match f {
            Frame::Error(e) => Frame::Error(FrameError::LiteralLengthOverflow {
                tag: e.tag().cloned(),
                stream_offset: 0,
            }),
            other => other,
        })
        .collect()
}
