//! Drives a response stream through the client session for profiling (callgrind):
//!
//! ```sh
//! cargo build --release -p imapwire-session --example profile_client
//! valgrind --tool=callgrind target/release/examples/profile_client FILE [client|codec] [EXISTS]
//! target/release/examples/profile_client FILE deflate OUT   # FILE compressed, once
//! valgrind --tool=callgrind target/release/examples/profile_client OUT client-z [EXISTS]
//! ```
//!
//! The stream is fed in 16 KiB pieces after a greeting and a SELECT announcing EXISTS
//! messages (default 200,000); `codec` runs the codec's Receiver alone on the same pieces.
//! `deflate` writes FILE as a server under COMPRESS=DEFLATE sends it (raw DEFLATE, a sync
//! flush after every 16 KiB of it); `client-z` then feeds that in 16 KiB reads to a client
//! that negotiated COMPRESS, so the inflating session is measured without the compressor.

use std::time::Instant;

use imapwire_codec::codec::{Expect, Receiver, StreamEvent};
use imapwire_codec::command::CommandBody;
use imapwire_codec::mailbox::Mailbox;
use imapwire_codec::{DecodeOptions, Limits};
use imapwire_session::client::{Client, ClientConfig};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: profile_client FILE [client|codec] [EXISTS]");
    let mode = args.next().unwrap_or_else(|| "client".into());
    // The mailbox size the SELECT announces (at least the highest message number in FILE):
    // an argument, so that neither mode spends instructions counting.
    let third = args.next();
    let data = std::fs::read(&path).expect("read FILE");
    if mode == "deflate" {
        let out = third.expect("usage: profile_client FILE deflate OUT");
        let mut z = flate2::Compress::new(flate2::Compression::default(), false);
        let mut wire = Vec::with_capacity(data.len() / 2);
        for piece in data.chunks(16 * 1024) {
            wire.reserve(piece.len() + 1024);
            z.compress_vec(piece, &mut wire, flate2::FlushCompress::Sync)
                .expect("deflate");
        }
        std::fs::write(&out, &wire).expect("write OUT");
        println!("{} -> {} bytes", data.len(), wire.len());
        return;
    }
    let lines: u32 = third.map_or(200_000, |a| a.parse().expect("EXISTS"));
    let limits = Limits::default().with_max_line(64 << 20);
    let mut n = 0u64;
    if mode == "codec" {
        let fc = imapwire_codec::framer::FramerConfig::default().with_limits(limits);
        let mut rx = Receiver::new(fc, DecodeOptions::lenient(), Expect::Response);
        for piece in data.chunks(16 * 1024) {
            rx.push(piece);
            for ev in rx.by_ref() {
                if let StreamEvent::Message(m) = ev {
                    std::hint::black_box(m);
                    n += 1;
                }
            }
        }
    } else {
        let now = Instant::now();
        let cfg = ClientConfig::default()
            .with_encrypted(true)
            .with_limits(limits)
            .with_keepalive(None);
        let mut c = Client::new(cfg, now).expect("client");
        let _ = c.handle_input(
            now,
            b"* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n",
        );
        let mut tag = 1;
        if mode == "client-z" {
            c.compress(now).expect("compress");
            while c.poll_transmit(now).is_some() {}
            let _ = c.handle_input(now, b"A0001 OK deflating\r\n");
            assert!(c.is_compressed());
            tag = 2;
        }
        let select = CommandBody::Select {
            mailbox: Mailbox::new("INBOX").expect("mailbox"),
            params: Vec::new(),
        };
        c.submit(now, select).expect("select");
        while c.poll_transmit(now).is_some() {}
        let _ = c.handle_input(
            now,
            &answer(
                c.is_compressed(),
                &format!("* {lines} EXISTS\r\nA{tag:04} OK\r\n"),
            ),
        );
        for piece in data.chunks(16 * 1024) {
            let mut rest = piece;
            while !rest.is_empty() {
                let used = c.handle_input(now, rest);
                rest = &rest[used..];
                while let Some(ev) = c.poll_event() {
                    std::hint::black_box(ev);
                    n += 1;
                }
            }
        }
    }
    println!("{n} events");
}

/// The SELECT answer, compressed by a fresh server-side deflater when COMPRESS is on (its
/// stream then continues with the input file, written by a second deflater: a sync flush
/// ends each, so the client's inflater reads them as one stream).
fn answer(compressed: bool, text: &str) -> Vec<u8> {
    if !compressed {
        return text.as_bytes().to_vec();
    }
    let mut z = flate2::Compress::new(flate2::Compression::default(), false);
    let mut out = Vec::with_capacity(text.len() + 64);
    z.compress_vec(text.as_bytes(), &mut out, flate2::FlushCompress::Sync)
        .expect("deflate");
    out
}
