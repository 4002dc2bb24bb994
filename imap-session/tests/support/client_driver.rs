//! Drives a [`Client`] from arbitrary bytes: server input in arbitrary chunks, arbitrary
//! submitted commands and clock steps. Shared by the proptest in `tests/client_fuzz.rs` and
//! the cargo-fuzz target `client_session` (included with `#[path]`), so both check the same
//! properties:
//!
//! - no panic;
//! - bounded memory: the events queued never exceed the configured bound (plus what one
//!   message and the end of the session add), and input the client refused is offered again
//!   only after events are drained;
//! - every command the client accepted completes exactly once (the session ends with EOF at
//!   the latest), and no completion names an unknown command;
//! - after `Event::Closed`, nothing more is sent and no further events arrive.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use imapwire_codec::command::CommandBody;
use imapwire_codec::core::Secret;
use imapwire_codec::mailbox::Mailbox;
use imapwire_session::client::{AppendBody, Client, ClientConfig, CommandId, Event};

/// Runs one input; panics when a property is violated.
pub fn run(data: &[u8]) {
    let t0 = Instant::now();
    let mut now = t0;
    let max_events = 8;
    let cfg = ClientConfig::default()
        .with_encrypted(data.first().is_some_and(|b| b & 1 == 1))
        .with_plaintext_login(true)
        .with_max_events(max_events)
        .with_idle_refresh(Duration::from_secs(50))
        .with_greeting_timeout(Duration::from_secs(3600))
        .with_response_timeout(Duration::from_secs(600))
        // bodies over 8 bytes streamed, so that the lent lane is reached
        .with_stream_bodies_over(Some(8));
    let mut c = Client::new(cfg, now).expect("client");
    // The read buffer of the inputs offered through `handle_input_lent`.
    let mut rbuf = bytes::BytesMut::new();
    let mut done: HashMap<CommandId, u32> = HashMap::new();
    let mut accepted: Vec<CommandId> = Vec::new();
    let mut closed = false;
    let mut i = 1usize;
    let drain =
        |c: &mut Client, now: Instant, closed: &mut bool, done: &mut HashMap<CommandId, u32>| {
            let mut n = 0usize;
            loop {
                let mut progressed = false;
                while let Some(out) = c.poll_transmit(now) {
                    assert!(!*closed || out.is_empty(), "output after Closed");
                    progressed = true;
                    n += 1;
                    assert!(n < 100_000, "transmit does not terminate");
                }
                if let Some(ev) = c.poll_event() {
                    progressed = true;
                    assert!(!*closed, "event after Closed: {ev:?}");
                    match ev {
                        Event::Completed { id, .. } => *done.entry(id).or_default() += 1,
                        Event::Closed(_) => *closed = true,
                        _ => {}
                    }
                }
                if !progressed {
                    break;
                }
            }
        };
    while i < data.len() {
        let op = data[i];
        i += 1;
        match op % 12 {
            // Server bytes: a chunk of the next 1..=64 input bytes.
            0..=4 => {
                let n = (usize::from(op / 12) % 64 + 1).min(data.len() - i);
                let mut chunk = &data[i..i + n];
                i += n;
                if op >= 128 {
                    // Through the lent lane: the bytes read into a reused buffer; from 192
                    // on, into a room of the session's own buffer (`read_room`, taken when
                    // the last was handed in).
                    let room = op >= 192;
                    if room && rbuf.is_empty() && rbuf.capacity() < chunk.len() {
                        rbuf = c.read_room(chunk.len());
                    }
                    rbuf.extend_from_slice(chunk);
                    chunk = &[];
                    while !rbuf.is_empty() {
                        let before = rbuf.len();
                        let mut lent = 0;
                        let used = if room {
                            c.handle_input_room_lent(now, &mut rbuf, |b| lent = b.len())
                        } else {
                            c.handle_input_lent(now, &mut rbuf, |b| lent = b.len())
                        };
                        assert!(used == 0 || used == before, "partly consumed");
                        assert!(lent <= used, "lent more than was offered");
                        assert!(c.queued_events() <= max_events + 2 + accepted.len() + 1);
                        drain(&mut c, now, &mut closed, &mut done);
                        if used == 0 {
                            // refused (closed, handed over or a full queue): dropped, as below
                            rbuf.clear();
                        }
                    }
                }
                while !chunk.is_empty() {
                    let used = c.handle_input(now, chunk);
                    assert!(used <= chunk.len());
                    // Bounded queue: decoding stops at the bound; the message that reached
                    // it adds at most two events, the end of the session one completion per
                    // pending command and `Closed`.
                    let pending = accepted.iter().filter(|id| !done.contains_key(id)).count();
                    assert!(
                        c.queued_events() <= max_events + 2 + pending + 1,
                        "{} events queued (bound {max_events}, {pending} pending)",
                        c.queued_events()
                    );
                    drain(&mut c, now, &mut closed, &mut done);
                    if used == 0 {
                        break;
                    }
                    chunk = &chunk[used..];
                }
            }
            // Well-formed server lines, so that sessions get somewhere.
            5 => {
                let lines: [&[u8]; 8] = [
                    b"* OK [CAPABILITY IMAP4rev1 IDLE LITERAL+ SASL-IR AUTH=PLAIN STARTTLS] hi\r\n",
                    b"* PREAUTH [CAPABILITY IMAP4rev1 IDLE UIDPLUS] hi\r\n",
                    b"+ go\r\n",
                    b"* 3 EXISTS\r\n",
                    b"* 1 FETCH (UID 7 FLAGS (\\Seen))\r\n",
                    b"* 2 EXPUNGE\r\n",
                    b"* BYE later\r\n",
                    b"* CAPABILITY IMAP4rev1 IDLE\r\n",
                ];
                let l = lines[usize::from(op / 12) % lines.len()];
                let _ = c.handle_input(now, l);
            }
            // A tagged OK/NO for a recent tag.
            6 => {
                let n = u32::from(op / 12) % 8 + 1;
                let st = ["OK", "NO", "BAD"][usize::from(op / 12) % 3];
                let l = format!("A{n:04} {st} x\r\n");
                let _ = c.handle_input(now, l.as_bytes());
            }
            7 => {
                let r = match op / 12 % 10 {
                    0 => c.submit(now, CommandBody::Noop),
                    1 => c.submit(now, CommandBody::Capability),
                    2 => c.submit(
                        now,
                        CommandBody::Select {
                            mailbox: Mailbox::new("INBOX").expect("mailbox"),
                            params: Default::default(),
                        },
                    ),
                    3 => c.login(now, "u", Secret::new(Bytes::from_static(b"p\xc3\xa4"))),
                    4 => c.idle(now),
                    5 => c.logout(now),
                    6 => c.starttls(now),
                    7 => c.append(
                        now,
                        Mailbox::new("INBOX").expect("mailbox"),
                        Vec::new(),
                        None,
                        AppendBody::Bytes(Bytes::from_static(b"Subject: x\r\n\r\nhi\r\n")),
                    ),
                    8 => c.append(
                        now,
                        Mailbox::new("INBOX").expect("mailbox"),
                        Vec::new(),
                        None,
                        AppendBody::Stream { len: 5 },
                    ),
                    _ => c.submit(now, CommandBody::Expunge),
                };
                if let Ok(id) = r {
                    assert!(!accepted.contains(&id), "id reused");
                    accepted.push(id);
                }
            }
            8 => {
                if let Some(&id) = accepted.get(usize::from(op / 12) % accepted.len().max(1)) {
                    let _ = c.idle_done(now, id);
                    let _ = c.append_chunk(id, Bytes::from_static(b"ab"));
                }
            }
            9 => {
                now += Duration::from_secs(u64::from(op / 12) * 3);
                c.handle_timeout(now);
            }
            // Jumping to the next deadline usually ends the session (a timeout): rare.
            10 if op / 12 % 8 == 0 => {
                if let Some(d) = c.poll_timeout() {
                    now = now.max(d);
                    c.handle_timeout(now);
                }
            }
            10 => {
                now += Duration::from_millis(u64::from(op));
                c.handle_timeout(now);
            }
            _ => c.transport_upgraded(now),
        }
        drain(&mut c, now, &mut closed, &mut done);
    }
    c.handle_eof(now);
    drain(&mut c, now, &mut closed, &mut done);
    assert!(closed, "EOF must close the session");
    for id in &accepted {
        assert_eq!(
            done.get(id).copied().unwrap_or(0),
            1,
            "{id:?} completed {:?} times",
            done.get(id)
        );
    }
    for (id, n) in &done {
        assert!(accepted.contains(id), "completion for unknown {id:?} ({n})");
    }
}
