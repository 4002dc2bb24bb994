//! The stream decoder a session drives (`codec::Receiver`): one decoder per connection whose
//! expectation is switched per message, continuation requests read by context, server-side
//! literal decisions, LITERAL- refusals, and errors that point into the stream.

use bytes::Bytes;
use imapwire_codec::codec::{AnyMessage, Expect, Receiver, StreamError, StreamEvent};
use imapwire_codec::command::{AuthenticateData, CommandBody};
use imapwire_codec::error::{FrameError, LimitKind, NoLiteralPending};
use imapwire_codec::framer::{FramerConfig, LITERAL_MINUS_MAX, LiteralMode};
use imapwire_codec::response::{Continuation, Response};
use imapwire_codec::{DecodeOptions, Encode};

/// Every event the receiver has for the input so far.
fn drain(rx: &mut Receiver) -> Vec<StreamEvent<AnyMessage>> {
    rx.by_ref().collect()
}

fn message(ev: StreamEvent<AnyMessage>) -> AnyMessage {
    match ev {
        StreamEvent::Message(d) => d.message,
        other => panic!("expected a message, got {other:?}"),
    }
}

fn next_message(rx: &mut Receiver) -> AnyMessage {
    message(rx.next().expect("an event"))
}

fn command_name(m: &AnyMessage) -> String {
    let AnyMessage::Command(c) = m else {
        panic!("not a command: {m:?}")
    };
    let enc = c.to_bytes_inline_literals();
    String::from_utf8_lossy(enc.split(|&b| b == b' ').nth(1).unwrap_or_default())
        .trim_end()
        .to_string()
}

/// A whole server-side connection through one receiver and one buffer: commands, an
/// AUTHENTICATE exchange (data lines, then a command), IDLE and its `DONE`, then commands
/// again; all bytes pushed at once, so the lines after each switch are already buffered when
/// the expectation changes.
#[test]
fn server_switches_expectation_across_authenticate_and_idle() {
    let input: &[u8] = b"a1 CAPABILITY\r\n\
        a2 AUTHENTICATE PLAIN\r\n\
        AGZvbwBiYXI=\r\n\
        a3 SELECT INBOX\r\n\
        a4 IDLE\r\n\
        DONE\r\n\
        a5 AUTHENTICATE GSSAPI\r\n\
        *\r\n\
        a6 LOGOUT\r\n";
    for whole in [true, false] {
        let mut rx = Receiver::server(DecodeOptions::strict());
        assert_eq!(rx.expect(), Expect::Command);
        if whole {
            rx.push_bytes(Bytes::from_static(input));
        }
        let mut pos = 0;
        let mut got = Vec::new();
        let mut feed = |rx: &mut Receiver| {
            if !whole && pos < input.len() {
                rx.push(&input[pos..pos + 1]);
                pos += 1;
                true
            } else {
                false
            }
        };
        loop {
            let ev = match rx.next() {
                Some(ev) => ev,
                None if feed(&mut rx) => continue,
                None => break,
            };
            let m = message(ev);
            // the server's state machine: what the message means for the next one
            let next = match &m {
                AnyMessage::Command(_) => match command_name(&m).as_str() {
                    "AUTHENTICATE" => Expect::AuthenticateData,
                    "IDLE" => Expect::IdleDone,
                    _ => Expect::Command,
                },
                // one round: the server then answers and expects commands again
                AnyMessage::AuthenticateData(_) | AnyMessage::IdleDone(_) => Expect::Command,
                other => panic!("{other:?}"),
            };
            got.push(match &m {
                AnyMessage::Command(_) => command_name(&m),
                AnyMessage::AuthenticateData(AuthenticateData::Cancel) => "cancel".into(),
                AnyMessage::AuthenticateData(_) => "sasl-data".into(),
                AnyMessage::IdleDone(_) => "done".into(),
                _ => unreachable!(),
            });
            rx.set_expect(next);
        }
        assert_eq!(
            got,
            [
                "CAPABILITY",
                "AUTHENTICATE",
                "sasl-data",
                "SELECT",
                "IDLE",
                "done",
                "AUTHENTICATE",
                "cancel",
                "LOGOUT"
            ],
            "whole {whole}"
        );
        assert!(rx.is_idle());
    }
}

/// Without the switch, the same `DONE` is a command error: the expectation is what decides.
#[test]
fn done_without_switch_is_not_a_command() {
    let mut rx = Receiver::server(DecodeOptions::strict());
    rx.push(b"DONE\r\n");
    assert!(matches!(
        rx.next(),
        Some(StreamEvent::Error(StreamError::Decode { .. }))
    ));
    rx.set_expect(Expect::IdleDone);
    rx.push(b"DONE\r\n");
    assert!(matches!(next_message(&mut rx), AnyMessage::IdleDone(_)));
}

/// Client side: the greeting, then responses whose `+` text is human text, then during
/// AUTHENTICATE challenges in base64 (`+ ` empty), then text again.
#[test]
fn client_reads_continuations_by_context() {
    let mut rx = Receiver::client(DecodeOptions::strict());
    rx.push(b"* OK IMAP4rev2 ready\r\n+ Okay\r\n+ \r\n");
    assert!(matches!(next_message(&mut rx), AnyMessage::Greeting(_)));
    rx.set_expect(Expect::Response);
    for want in ["Okay", ""] {
        match next_message(&mut rx) {
            AnyMessage::Response(Response::Continuation(Continuation::Text(t))) => {
                assert_eq!(t.get().text().as_bytes(), want.as_bytes());
            }
            other => panic!("{other:?}"),
        }
    }
    // AUTHENTICATE sent
    rx.set_expect(Expect::SaslChallenge);
    rx.push(b"+ Okay\r\n+ \r\n+ Ready for data\r\n+ YWJj\r\na1 OK done\r\n+ Okay\r\n");
    let b64 = |m: AnyMessage| match m {
        AnyMessage::Response(Response::Continuation(Continuation::Base64(b))) => b,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        b64(next_message(&mut rx)),
        Bytes::from(vec![0x3a, 0x46, 0xb2]) // "Okay" as base64
    );
    assert_eq!(b64(next_message(&mut rx)), Bytes::new());
    // not base64 in a SASL exchange: a typed error pointing at the first bad byte
    match rx.next() {
        Some(StreamEvent::Error(StreamError::Decode { error, raw, .. })) => {
            assert_eq!(error.expected, "base64 (SASL challenge)");
            assert_eq!(error.offset, 7);
            assert_eq!(&raw[..], b"+ Ready for data\r\n");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(b64(next_message(&mut rx)), Bytes::from_static(b"abc"));
    let done = next_message(&mut rx);
    assert!(matches!(done, AnyMessage::Response(Response::Status(_))));
    rx.set_expect(Expect::Response); // the tagged completion ends the exchange
    assert!(matches!(
        next_message(&mut rx),
        AnyMessage::Response(Response::Continuation(Continuation::Text(_)))
    ));
}

/// A server pauses at every synchronizing literal: the announcement names tag, command (UID
/// forms distinct), length and mode; nothing decodes until the decision; `accept`/`reject`
/// are errors when nothing is pending.
#[test]
fn server_literal_decisions() {
    let mut rx = Receiver::server(DecodeOptions::strict());
    assert_eq!(rx.accept_literal(), Err(NoLiteralPending));
    assert_eq!(rx.reject_literal(), Err(NoLiteralPending));
    rx.push(b"a1 LOGIN {4}\r\n");
    let Some(StreamEvent::LiteralAnnounced(a)) = rx.next() else {
        panic!()
    };
    assert_eq!(a.tag.as_deref(), Some(&b"a1"[..]));
    assert_eq!(a.command.as_deref(), Some(&b"LOGIN"[..]));
    assert_eq!((a.length, a.mode, a.binary), (4, LiteralMode::Sync, false));
    assert!(rx.awaiting_decision());
    // the client sends nothing before '+'; a client that does is still held
    rx.push(b"user {4}\r\n");
    assert!(rx.next().is_none());
    assert_eq!(rx.accept_literal(), Ok(()));
    assert_eq!(rx.accept_literal(), Err(NoLiteralPending));
    let Some(StreamEvent::LiteralAnnounced(b)) = rx.next() else {
        panic!()
    };
    assert_eq!((b.tag.as_deref(), b.length), (Some(&b"a1"[..]), 4));
    assert_eq!(b.command.as_deref(), Some(&b"LOGIN"[..]));
    rx.accept_literal().unwrap();
    rx.push(b"pass\r\n");
    let m = next_message(&mut rx);
    assert_eq!(command_name(&m), "LOGIN");

    // rejected: the message ends at the announcement, the next command decodes
    rx.push(b"a2 uid fetch 1 BODY[] {3}\r\n");
    let Some(StreamEvent::LiteralAnnounced(c)) = rx.next() else {
        panic!()
    };
    assert_eq!(c.command.as_deref(), Some(&b"UID FETCH"[..]));
    let dropped = rx.reject_literal().unwrap();
    assert_eq!(&dropped[..], b"a2 uid fetch 1 BODY[] {3}\r\n");
    assert_eq!(rx.reject_literal(), Err(NoLiteralPending));
    rx.push(b"a3 APPEND INBOX ~{2}\r\n");
    let Some(StreamEvent::LiteralAnnounced(d)) = rx.next() else {
        panic!()
    };
    assert_eq!(
        (d.command.as_deref(), d.binary),
        (Some(&b"APPEND"[..]), true)
    );
    rx.reject_literal().unwrap();
    rx.push(b"a4 FETCH 1 FAST\r\n");
    let m = next_message(&mut rx);
    assert_eq!(command_name(&m), "FETCH");
    // non-synchronizing literals do not pause
    rx.push(b"a5 LOGIN {1+}\r\nu {1+}\r\np\r\n");
    let evs = drain(&mut rx);
    assert_eq!(evs.len(), 3, "{evs:?}");
    assert!(matches!(&evs[2], StreamEvent::Message(_)));
    assert!(!rx.awaiting_decision());
}

/// LITERAL- (RFC 7888 §4): a non-synchronizing literal over 4096 octets is refused with the
/// tag (for `BAD [TOOBIG]`), its data dropped as it streams past without being buffered, and
/// the next command decodes.
#[test]
fn literal_minus_refusal_then_next_command() {
    let mut rx = Receiver::new(
        FramerConfig::server().with_max_nonsync_literal(Some(LITERAL_MINUS_MAX)),
        DecodeOptions::strict(),
        Expect::Command,
    );
    // at the bound: accepted
    rx.push(b"a0 APPEND INBOX {4096+}\r\n");
    rx.push(&[b'x'; 4096]);
    rx.push(b"\r\n");
    let evs = drain(&mut rx);
    assert!(
        matches!(evs.last(), Some(StreamEvent::Message(_))),
        "{evs:?}"
    );
    // over it: refused
    rx.push(b"a1 APPEND INBOX {100000+}\r\n");
    let evs = drain(&mut rx);
    match &evs[..] {
        [
            StreamEvent::Error(StreamError::Frame(FrameError::LimitExceeded {
                kind: LimitKind::NonSyncLiteral,
                limit: 4096,
                actual: 100000,
                tag,
                ..
            })),
        ] => assert_eq!(tag.as_deref(), Some(&b"a1"[..])),
        other => panic!("{other:?}"),
    }
    for _ in 0..(100000 / 1000) {
        rx.push(&[b'y'; 1000]);
        assert!(rx.next().is_none());
        assert!(rx.buffered() <= 1000);
    }
    rx.push(b" (\\Seen)\r\na2 NOOP\r\n");
    let m = next_message(&mut rx);
    assert_eq!(command_name(&m), "NOOP");
    assert!(rx.next().is_none());
    // a synchronizing literal of that size is the application's decision, not refused
    rx.push(b"a3 APPEND INBOX {100000}\r\n");
    assert!(matches!(rx.next(), Some(StreamEvent::LiteralAnnounced(_))));
    assert!(rx.awaiting_decision());
}

/// `for` drains what the input holds; `None` means "more input", and events come again after
/// the next push.
#[test]
fn iterator_resumes_after_push() {
    let mut rx = Receiver::client(DecodeOptions::strict());
    rx.set_expect(Expect::Response);
    rx.push(b"* 1 EXISTS\r\n* 2 EXI");
    let mut n = 0;
    for ev in rx.by_ref() {
        message(ev);
        n += 1;
    }
    assert_eq!(n, 1);
    assert!(rx.next().is_none());
    rx.push(b"STS\r\n");
    assert_eq!(rx.by_ref().count(), 1);
}

/// The server's default: `Receiver::server` pauses, a client receiver does not.
#[test]
fn server_pauses_by_default_client_does_not() {
    let mut s = Receiver::server(DecodeOptions::strict());
    s.push(b"a1 LOGIN {1}\r\nu {1}\r\np\r\n");
    assert!(matches!(s.next(), Some(StreamEvent::LiteralAnnounced(_))));
    assert!(s.next().is_none());
    let mut c = Receiver::client(DecodeOptions::strict());
    c.set_expect(Expect::Response);
    c.push(b"* 1 FETCH (BODY[] {1}\r\nx)\r\n");
    let evs = drain(&mut c);
    assert!(
        matches!(evs.last(), Some(StreamEvent::Message(_))),
        "{evs:?}"
    );
    let _ = CommandBody::Noop; // the command module is part of the API used above
}

// ---------------------------------------------------------------------------------------
// Bodies streamed in pieces (FramerConfig::stream_literals_over)
// ---------------------------------------------------------------------------------------

fn streaming(threshold: u64) -> Receiver {
    Receiver::new(
        FramerConfig::default().with_stream_literals_over(Some(threshold)),
        DecodeOptions::strict(),
        Expect::Response,
    )
}

/// Events with a begin event's data moved into a chunk after it and adjacent chunks merged
/// (how much data comes with the begin, and the chunk boundaries, follow the input).
fn merged(evs: Vec<StreamEvent<AnyMessage>>) -> Vec<StreamEvent<AnyMessage>> {
    let mut out: Vec<StreamEvent<AnyMessage>> = Vec::new();
    let evs = evs.into_iter().flat_map(|ev| match ev {
        StreamEvent::LiteralBegin(mut b) => {
            let data = std::mem::take(&mut b.data);
            let chunk = (!data.is_empty()).then_some(StreamEvent::LiteralChunk(data));
            std::iter::once(StreamEvent::LiteralBegin(b)).chain(chunk)
        }
        ev => std::iter::once(ev).chain(None),
    });
    for ev in evs {
        match (out.last_mut(), ev) {
            (Some(StreamEvent::LiteralChunk(a)), StreamEvent::LiteralChunk(b)) => {
                let mut v = a.to_vec();
                v.extend_from_slice(&b);
                *a = Bytes::from(v);
            }
            (_, ev) => out.push(ev),
        }
    }
    out
}

/// A 64 MiB body fed in 16 KiB shared reads: begin (message number, UID, section), chunks
/// that are the pushed buffers themselves up to the announced length, then the response with the body empty and
/// listed as streamed; the framer never holds more than one read.
#[test]
fn sixty_four_mebibyte_body_streams_in_bounded_memory() {
    use imapwire_codec::fetch::MessageDataItem;
    use imapwire_codec::response::Data;
    const LEN: usize = 64 << 20;
    const READ: usize = 16 << 10;
    let mut rx = streaming(64 << 10);
    let head = format!("* 12 FETCH (UID 345 FLAGS (\\Seen) BODY[1.2]<100> {{{LEN}}}\r\n");
    rx.push(head.as_bytes());
    let Some(StreamEvent::LiteralBegin(b)) = rx.next() else {
        panic!()
    };
    assert_eq!(b.announcement.length, LEN as u64);
    // nothing of the body came with the head
    assert!(b.data.is_empty());
    assert_eq!(b.remaining(), LEN as u64);
    // the prefix as received, its header (at the announced offset) as announced
    assert_eq!(&b.prefix[..], head.as_bytes());
    assert!(b.prefix[b.announcement.offset..].starts_with(format!("{{{LEN}}}").as_bytes()));
    let f = b.fetch().expect("FETCH context");
    assert_eq!(f.seq.map(u32::from), Some(12));
    assert_eq!(f.uid.map(u32::from), Some(345));
    match &f.item {
        MessageDataItem::BodySection {
            section, origin, ..
        } => {
            assert!(section.is_some());
            assert_eq!(*origin, Some(100));
        }
        other => panic!("{other:?}"),
    }
    let read = Bytes::from(vec![b'x'; READ]);
    let mut total = 0usize;
    let mut peak = 0;
    for _ in 0..LEN / READ {
        rx.push_bytes(read.clone());
        peak = peak.max(rx.buffered());
        while let Some(ev) = rx.next() {
            match ev {
                StreamEvent::LiteralChunk(c) => {
                    // the pushed buffer itself: no copy
                    assert_eq!(c.as_ptr(), read.as_ptr());
                    total += c.len();
                    assert!(total <= LEN);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(rx.buffered(), 0);
    }
    assert!(peak <= READ);
    assert_eq!(total, LEN);
    rx.push(b" MODSEQ (5))\r\n");
    let Some(StreamEvent::Message(d)) = rx.next() else {
        panic!()
    };
    assert_eq!(d.streamed_literals.len(), 1);
    assert_eq!(d.streamed_literals[0].length, LEN as u64);
    let AnyMessage::Response(Response::Data(Data::Fetch { items, .. })) = &d.message else {
        panic!("{:?}", d.message)
    };
    assert!(items.iter().any(|i| matches!(
        i,
        MessageDataItem::BodySection { data: Some(v), .. } if v.as_bytes().is_empty()
    )));
    assert!(
        items
            .iter()
            .any(|i| matches!(i, MessageDataItem::ModSeq(5)))
    );
    assert!(rx.is_idle());
}

/// The same stream fed whole, in 16 KiB reads and one byte at a time gives the same events
/// (chunks merged); small literals stay inside their message, a real empty literal is not
/// listed as streamed, and several streamed literals in one message are listed in order.
#[test]
fn streamed_events_do_not_depend_on_feeding() {
    let big = "b".repeat(40_000);
    let bigger = "c".repeat(70_000);
    let input = format!(
        "* 1 FETCH (UID 7 BODY[HEADER] {{5}}\r\nhello BODY[TEXT] {{{}}}\r\n{big} BODY[] {{0}}\r\n)\r\n\
         * 2 EXISTS\r\n\
         * 3 FETCH (BINARY[1] ~{{{}}}\r\n{bigger} RFC822.TEXT {{{}}}\r\n{big})\r\n\
         a1 OK done\r\n",
        big.len(),
        bigger.len(),
        big.len()
    );
    let input = Bytes::from(input);
    let run = |step: usize| {
        let mut rx = streaming(1000);
        let mut evs = Vec::new();
        if step == 0 {
            rx.push_bytes(input.clone());
            evs.extend(rx.by_ref());
        } else {
            for piece in input.chunks(step) {
                rx.push(piece);
                evs.extend(rx.by_ref());
                assert!(rx.buffered() <= 1000 + step + 200);
            }
        }
        assert!(rx.is_idle());
        merged(evs)
    };
    let whole = run(0);
    assert_eq!(run(16 << 10), whole);
    assert_eq!(run(1), whole);
    assert_eq!(run(4096 + 7), whole);
    // the shape: small literal announced, big one streamed, empty one announced, message;
    // message; two streamed literals, message; message
    let kinds: Vec<&str> = whole
        .iter()
        .map(|e| match e {
            StreamEvent::LiteralBegin(_) => "begin",
            StreamEvent::LiteralChunk(_) => "chunk",
            StreamEvent::Message(_) => "msg",
            StreamEvent::LiteralAnnounced(_) => "ann",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "ann", "begin", "chunk", "ann", "msg", "msg", "begin", "chunk", "begin", "chunk",
            "msg", "msg"
        ]
    );
    let StreamEvent::Message(first) = &whole[4] else {
        panic!()
    };
    // BODY[HEADER] {5} kept, BODY[TEXT] streamed, BODY[] {0} a real empty literal
    assert_eq!(first.streamed_literals.len(), 1);
    assert_eq!(first.streamed_literals[0].length, big.len() as u64);
    let StreamEvent::Message(third) = &whole[10] else {
        panic!()
    };
    assert_eq!(
        third
            .streamed_literals
            .iter()
            .map(|s| s.length)
            .collect::<Vec<_>>(),
        [bigger.len() as u64, big.len() as u64]
    );
    assert!(third.streamed_literals[0].offset < third.streamed_literals[1].offset);
    let StreamEvent::LiteralBegin(b) = &whole[8] else {
        panic!()
    };
    // the prefix has the earlier streamed literal as `~{0}` and this one as announced
    assert!(
        b.prefix
            .ends_with(format!("~{{0}}\r\n RFC822.TEXT {{{}}}\r\n", big.len()).as_bytes()),
        "{:?}",
        b.prefix
    );
    assert!(b.fetch().is_some());
    let StreamEvent::LiteralChunk(c) = &whole[7] else {
        panic!()
    };
    assert_eq!(&c[..], bigger.as_bytes());
}

// ---------------------------------------------------------------------------------------
// Errors point into the stream
// ---------------------------------------------------------------------------------------

/// A decode error inside a stream carries the message's offset in the stream and the
/// failing byte's; `Display` marks the spot in the excerpt; a message cut short names what
/// is missing at the byte where it is missing (here every alternative at the CRLF).
#[test]
fn errors_point_into_the_stream() {
    let mut rx = Receiver::server(DecodeOptions::strict());
    rx.push(b"a0 NOOP\r\na1 FETCH 1 (FLAGS\r\n");
    assert!(matches!(rx.next(), Some(StreamEvent::Message(_))));
    let Some(StreamEvent::Error(StreamError::Decode {
        error,
        stream_offset,
        ..
    })) = rx.next()
    else {
        panic!()
    };
    assert_eq!(stream_offset, 9);
    assert_eq!(error.message_offset, Some(9));
    assert_eq!(error.offset, 17); // the CR: `)` or SP is missing there
    assert_eq!(error.stream_offset(), Some(26));
    let mut expected = error.alternatives.clone();
    expected.push(error.expected);
    expected.sort();
    assert_eq!(expected, ["\")\"", "SP"], "{error}");
    let shown = error.to_string();
    assert!(shown.contains("at byte 17 (stream offset 26)"), "{shown}");
    assert!(shown.ends_with(r#": "1 (FLAGS‸\r\n""#), "{shown}");

    // a literal cut short: the missing data is at the end of the message
    let mut c = Receiver::client(DecodeOptions::strict());
    c.set_expect(Expect::Response);
    let msg = Bytes::from_static(b"* 1 FETCH (UID 5 BODY[] {3}\r\nab");
    let e = AnyMessage::decode(&msg, Expect::Response, &DecodeOptions::strict()).unwrap_err();
    assert_eq!((e.offset, e.expected), (msg.len(), "literal data"));
    assert_eq!(e.message_offset, None);
    assert!(e.to_string().ends_with(r#"{3}\r\nab‸""#), "{e}");
    // one-shot errors have no stream offset
    c.push(b"* 2 EXISTS\r\n* BOGUS(\r\n");
    assert!(matches!(c.next(), Some(StreamEvent::Message(_))));
    let Some(StreamEvent::Error(StreamError::Decode { error, .. })) = c.next() else {
        panic!()
    };
    assert_eq!(error.message_offset, Some(12));
}
