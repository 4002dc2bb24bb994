//! Replays every input the fuzz targets ever crashed on (`tests/data/fuzz-regressions/<target>/`)
//! with the same checks as the targets in `fuzz/fuzz_targets/`.

use bytes::Bytes;
use imapwire_codec::codec::Message;
use imapwire_codec::command::{AuthenticateData, Command, IdleDone};
use imapwire_codec::framer::{Frame, Framer, FramerConfig};
use imapwire_codec::options::{DecodeOptions, Limits};
use imapwire_codec::response::{Greeting, Response};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/fuzz-regressions");

fn roundtrip<M: Message + PartialEq + std::fmt::Debug>(data: &[u8], prefix: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let opts = if sel & 1 == 0 {
        DecodeOptions::strict()
    } else {
        DecodeOptions::lenient()
    };
    let msg = Bytes::from([prefix, rest].concat());
    if let Ok(d) = M::decode(&msg, &opts) {
        let enc = d.message.to_bytes_inline_literals();
        let again = M::decode(&enc, &DecodeOptions::strict()).unwrap_or_else(|e| {
            panic!(
                "re-encoding {enc:?} of {:?} does not decode: {e}",
                d.message
            )
        });
        if d.warnings.is_empty() {
            assert_eq!(again.message, d.message, "re-encoding {enc:?}");
        } else {
            // a tolerated defect maps to the nearest valid value: its encoding is stable
            assert_eq!(
                again.message.to_vec_inline_literals(),
                enc,
                "re-encoding is not stable"
            );
        }
    }
}

fn framer_chunking(data: &[u8]) {
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
    let norm = |v: Vec<Frame>| -> Vec<Frame> {
        v.into_iter()
            .map(|f| match f {
                Frame::Error(e) => {
                    Frame::Error(imapwire_codec::FrameError::LiteralLengthOverflow {
                        tag: e.tag().cloned(),
                        stream_offset: 0,
                    })
                }
                other => other,
            })
            .collect()
    };
    let mut whole = Framer::new(config);
    // the whole stream once copied, once shared (zero-copy path): both must agree
    let mut shared = Framer::new(config);
    shared.push_bytes(bytes::Bytes::copy_from_slice(body));
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
            split.push_bytes(bytes::Bytes::copy_from_slice(&body[pos..pos + n]));
        } else {
            split.push(&body[pos..pos + n]);
        }
        b.extend(std::iter::from_fn(|| split.next_frame()));
        pos += n;
        k = k.wrapping_mul(31).wrapping_add(7);
    }
    // With literals over 8 bytes streamed, as the target: the fast lane and the lent lane give
    // the frames of the general path for the same reads.
    let streaming = config.with_stream_literals_over(Some(8));
    let (mut general, mut fast) = (Framer::new(streaming), Framer::new(streaming));
    let mut lent = Framer::new(streaming);
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
        let mut lent_chunk = None;
        lent.push_read(&mut rd3, n, |c| {
            lent_chunk = Some(bytes::Bytes::copy_from_slice(c))
        });
        l.extend(lent_chunk.map(Frame::LiteralChunk));
        g.extend(std::iter::from_fn(|| general.next_frame()));
        f.extend(std::iter::from_fn(|| fast.next_frame()));
        l.extend(std::iter::from_fn(|| lent.next_frame()));
        k = k.wrapping_mul(31).wrapping_add(7);
    }
    assert_eq!(g, f, "the fast lane and the general path differ");
    assert_eq!(g, l, "the lent lane and the general path differ");
    assert_eq!(c, a, "shared (push_bytes) and copied (push) framing differ");
    assert_eq!(norm(a), norm(b));
}

#[test]
fn replay_all_crashes() {
    let mut n = 0;
    let Ok(dirs) = std::fs::read_dir(DIR) else {
        return;
    };
    for d in dirs {
        let d = d.unwrap();
        if !d.file_type().unwrap().is_dir() {
            continue;
        }
        let target = d.file_name().into_string().unwrap();
        for f in std::fs::read_dir(d.path()).unwrap() {
            let data = std::fs::read(f.unwrap().path()).unwrap();
            n += 1;
            match target.as_str() {
                "decode_greeting" => roundtrip::<Greeting>(&data, b""),
                "decode_command" => {
                    roundtrip::<Command>(&data, b"");
                    // what decodes strictly also validates (as the target checks)
                    if data.first().is_some_and(|s| s & 1 == 0) {
                        if let Ok(d) = Command::decode(
                            &Bytes::copy_from_slice(&data[1..]),
                            &DecodeOptions::strict(),
                        ) {
                            d.message.validate().unwrap();
                        }
                    }
                }
                "decode_response" => roundtrip::<Response>(&data, b""),
                "decode_continuation" => roundtrip::<Response>(&data, b"+"),
                "decode_authenticate_data" => roundtrip::<AuthenticateData>(&data, b""),
                "decode_idle_done" => roundtrip::<IdleDone>(&data, b""),
                "framer_chunking" => framer_chunking(&data),
                other => panic!("unknown fuzz target folder {other}"),
            }
        }
    }
    eprintln!("{n} regression inputs replayed");
}
