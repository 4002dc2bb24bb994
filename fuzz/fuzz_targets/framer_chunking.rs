#![no_main]
//! The framer fed arbitrary chunkings of arbitrary bytes agrees with whole-buffer framing,
//! and the stream decoder agrees with one-shot decoding of each frame; with literals
//! streamed, the fast lane, the lent lane and the room lane agree with the general path.
use libfuzzer_sys::fuzz_target;

use imapwire_codec::framer::{Frame, Framer, FramerConfig};
use imapwire_codec::options::Limits;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    // First 4 bytes: chunk sizes seed and a small line limit so limit paths are exercised.
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
    shared.push_bytes(bytes::Bytes::copy_from_slice(body));
    let c: Vec<Frame> = std::iter::from_fn(|| shared.next_frame()).collect();
    whole.push(body);
    let a: Vec<Frame> = std::iter::from_fn(|| whole.next_frame()).collect();
    let mut split = Framer::new(config);
    let mut b = Vec::new();
    let mut pos = 0;
    let mut k = seed;
    while pos < body.len() {
        let n = (k % 17 + 1).min(body.len() - pos);
        // odd chunks through the zero-copy path, even ones copied
        if k % 2 == 1 {
            split.push_bytes(bytes::Bytes::copy_from_slice(&body[pos..pos + n]));
        } else {
            split.push(&body[pos..pos + n]);
        }
        b.extend(std::iter::from_fn(|| split.next_frame()));
        pos += n;
        k = k.wrapping_mul(31).wrapping_add(7);
    }
    // With literals over 8 bytes streamed, the fast lane (`push_bytes_chunk`,
    // `push_bytes_mut_chunk`: a read inside a streamed literal handed straight back as its
    // chunk) gives exactly the frames of the general path, chunk boundaries included, for the
    // same reads (odd ones shared, even ones split off one buffer).
    let streaming = config.with_stream_literals_over(Some(8));
    // The lent lane (`push_read`: the chunk lent from the reader's buffer, no `Bytes`) too,
    // its reads the front of one buffer holding the rest of the input.
    let (mut general, mut fast) = (Framer::new(streaming), Framer::new(streaming));
    let mut lent = Framer::new(streaming);
    // And the room lane (`read_room`: the reads land in the framer's own buffer, handed
    // back by `push_room`, the chunk lent, or `push_room_chunk`), with rooms of any size.
    let mut room = Framer::new(streaming);
    let (mut r, mut at) = (Vec::new(), 0);
    let (mut g, mut f, mut l) = (Vec::new(), Vec::new(), Vec::new());
    let (mut rd1, mut rd2) = (bytes::BytesMut::from(body), bytes::BytesMut::from(body));
    let mut rd3 = bytes::BytesMut::from(body);
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
            lent_chunk = Some(bytes::Bytes::copy_from_slice(c))
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
            let got = room.push_room(into, |c| {
                room_chunk = Some(bytes::Bytes::copy_from_slice(c))
            });
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
    // A limit error's kind and size depend on how much of the message the framer had seen
    // when it gave up, so errors are compared by their tag only.
    assert_eq!(c, a, "shared (push_bytes) and copied (push) framing differ");
    assert_eq!(normalise(a), normalise(b));
    assert_eq!(whole.buffered(), split.buffered());
});

fn normalise(v: Vec<Frame>) -> Vec<Frame> {
    v.into_iter()
        .map(|f| match f {
            Frame::Error(e) => Frame::Error(imapwire_codec::FrameError::LiteralLengthOverflow {
                tag: e.tag().cloned(),
                stream_offset: 0,
            }),
            other => other,
        })
        .collect()
}
