//! Drives a response stream through the client session for profiling (callgrind):
//!
//! ```sh
//! cargo build --release -p imapwire-session --example profile_client
//! valgrind --tool=callgrind target/release/examples/profile_client FILE [client|codec] [EXISTS]
//! ```
//!
//! The stream is fed in 16 KiB pieces after a greeting and a SELECT announcing EXISTS
//! messages (default 200,000); `codec` runs the codec's Receiver alone on the same pieces.

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
    let lines: u32 = args.next().map_or(200_000, |a| a.parse().expect("EXISTS"));
    let data = std::fs::read(&path).expect("read FILE");
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
        let _ = c.handle_input(now, b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
        let select = CommandBody::Select {
            mailbox: Mailbox::new("INBOX").expect("mailbox"),
            params: Vec::new(),
        };
        c.submit(now, select).expect("select");
        while c.poll_transmit(now).is_some() {}
        let _ = c.handle_input(now, format!("* {lines} EXISTS\r\nA0001 OK\r\n").as_bytes());
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
