//! Scripted client tests: `S:` bytes in, `C:` bytes out, no sockets, a virtual clock. Every
//! script runs three times — the server's bytes whole, one byte at a time, and split at every
//! position — and must give the same output and events each time, with each server message
//! decoded exactly once.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use imapwire_codec::command::CommandBody;
use imapwire_codec::core::Secret;
use imapwire_codec::mailbox::Mailbox;
use imapwire_codec::response::{Data, GreetingKind, ResponseCode};

use super::*;

/// A call on the client in a script.
type Action = Box<dyn Fn(&mut Client, Instant)>;

/// One step of a script.
enum Step {
    /// The server sends these bytes.
    S(&'static [u8]),
    /// The client must have sent exactly these bytes since the last `C` step.
    C(&'static [u8]),
    /// Call the client (submit a command, ...).
    Do(Action),
    /// Time passes (then `handle_timeout` runs if a deadline is due).
    Wait(Duration),
    /// The server closes the connection.
    Eof,
}

use Step::*;

fn act(f: impl Fn(&mut Client, Instant) + 'static) -> Step {
    Do(Box::new(f))
}

fn submit(body: fn() -> CommandBody) -> Step {
    act(move |c, now| {
        c.submit(now, body()).expect("submit");
    })
}

#[derive(Clone, Copy, Debug)]
enum Feed {
    Whole,
    Bytewise,
    /// Split every `S` step into two at this position (clamped).
    SplitAt(usize),
    /// Through `handle_input_buf`, as the async driver feeds it: each `S` step whole, read
    /// into one buffer that keeps its spare capacity (no received tap: with one, the
    /// session copies the input like `handle_input`).
    BufWhole,
    /// Through `handle_input_buf`, one byte per read into the same buffer: every message
    /// straddles reads and is joined in place.
    BufBytewise,
    /// Through `handle_input_lent`, each `S` step whole: a body chunk lent to the closure is
    /// recorded as the `BodyChunk` event it stands for.
    LentWhole,
    /// Through `handle_input_lent`, one byte per read.
    LentBytewise,
    /// Through `handle_input_lent`, every `S` step split into two at this position.
    LentSplitAt(usize),
    /// Through the room lane (`read_room`, `handle_input_room`), each `S` step whole: a
    /// room of its size taken when the last was handed in (kept while empty, and while it
    /// holds bytes the session refused, appended to then).
    RoomWhole,
    /// Through the room lane, one byte per read (rooms of one byte).
    RoomBytewise,
    /// Through the room lane, every `S` step split into two at this position.
    RoomSplitAt(usize),
    /// Through the room lane with bodies lent (`handle_input_room_lent`), one byte per read.
    RoomLentBytewise,
    /// Through the room lane with bodies lent, every `S` step split into two here.
    RoomLentSplitAt(usize),
}

struct Run {
    events: Vec<Event>,
    decoded: u64,
    /// Parser invocations ([`Client::parser_invocations`]).
    parses: u64,
    /// Body bytes lent by `handle_input_lent`.
    lent: usize,
}

fn run_with(cfg: &ClientConfig, steps: &[Step], feed: Feed) -> Run {
    let t0 = Instant::now();
    let mut now = t0;
    // Every script also checks the received tap: it gets exactly the input consumed, in order.
    let tapped = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let sink = tapped.clone();
    let tap = ReceivedTap::new(move |b| sink.lock().unwrap().extend_from_slice(b));
    let room_feed = matches!(
        feed,
        Feed::RoomWhole
            | Feed::RoomBytewise
            | Feed::RoomSplitAt(_)
            | Feed::RoomLentBytewise
            | Feed::RoomLentSplitAt(_)
    );
    let lent_feed = matches!(
        feed,
        Feed::LentWhole
            | Feed::LentBytewise
            | Feed::LentSplitAt(_)
            | Feed::RoomLentBytewise
            | Feed::RoomLentSplitAt(_)
    );
    let by_buf = lent_feed || room_feed || matches!(feed, Feed::BufWhole | Feed::BufBytewise);
    let mut lent = 0;
    let cfg = if by_buf {
        cfg.clone()
    } else {
        cfg.clone().with_received_tap(Some(tap))
    };
    let mut c = Client::new(cfg, now).unwrap();
    // One allocation for every read of the run, as the driver's read buffer.
    let mut rbuf = BytesMut::with_capacity(
        steps
            .iter()
            .map(|s| if let S(b) = s { b.len() } else { 0 })
            .sum::<usize>()
            + 1,
    );
    let mut consumed: Vec<u8> = Vec::new();
    let mut sent: Vec<u8> = Vec::new();
    let mut events = Vec::new();
    let drain = |c: &mut Client, now: Instant, sent: &mut Vec<u8>, events: &mut Vec<Event>| {
        while let Some(b) = c.poll_transmit(now) {
            sent.extend_from_slice(&b);
        }
        while let Some(e) = c.poll_event() {
            events.push(e);
            while let Some(b) = c.poll_transmit(now) {
                sent.extend_from_slice(&b);
            }
        }
    };
    for (n, step) in steps.iter().enumerate() {
        match step {
            S(bytes) => {
                let pieces: Vec<&[u8]> = match feed {
                    Feed::Whole | Feed::BufWhole | Feed::LentWhole | Feed::RoomWhole => {
                        vec![bytes]
                    }
                    Feed::Bytewise
                    | Feed::BufBytewise
                    | Feed::LentBytewise
                    | Feed::RoomBytewise
                    | Feed::RoomLentBytewise => bytes.chunks(1).collect(),
                    Feed::SplitAt(k)
                    | Feed::LentSplitAt(k)
                    | Feed::RoomSplitAt(k)
                    | Feed::RoomLentSplitAt(k) => {
                        let k = k.min(bytes.len());
                        vec![&bytes[..k], &bytes[k..]]
                    }
                };
                for p in pieces {
                    if by_buf {
                        if room_feed && rbuf.is_empty() && rbuf.capacity() < p.len() {
                            // the last room was handed in: a new one
                            rbuf = c.read_room(p.len());
                            assert!(rbuf.is_empty() && rbuf.capacity() >= p.len());
                        }
                        rbuf.extend_from_slice(p);
                        while !rbuf.is_empty() {
                            let before = rbuf.to_vec();
                            let used = if lent_feed {
                                let mut chunk = None;
                                let queued = c.queued_events();
                                let mut lend = |b: &[u8]| chunk = Some(Bytes::copy_from_slice(b));
                                let used = if room_feed {
                                    c.handle_input_room_lent(now, &mut rbuf, &mut lend)
                                } else {
                                    c.handle_input_lent(now, &mut rbuf, &mut lend)
                                };
                                if let Some(b) = chunk {
                                    // lent only with every event taken: it comes before
                                    // the events this input made
                                    assert_eq!(queued, 0, "lent behind queued events");
                                    lent += b.len();
                                    events.push(Event::BodyChunk(b));
                                }
                                used
                            } else if room_feed {
                                c.handle_input_room(now, &mut rbuf)
                            } else {
                                c.handle_input_buf(now, &mut rbuf)
                            };
                            assert!(used == 0 || used == before.len(), "partly consumed");
                            consumed.extend_from_slice(&before[..used]);
                            drain(&mut c, now, &mut sent, &mut events);
                            if used == 0 {
                                break;
                            }
                        }
                        continue;
                    }
                    let mut rest = p;
                    while !rest.is_empty() {
                        let used = c.handle_input(now, rest);
                        consumed.extend_from_slice(&rest[..used]);
                        rest = &rest[used..];
                        drain(&mut c, now, &mut sent, &mut events);
                        if used == 0 {
                            break;
                        }
                    }
                }
                drain(&mut c, now, &mut sent, &mut events);
            }
            C(want) => {
                assert_eq!(
                    String::from_utf8_lossy(&sent),
                    String::from_utf8_lossy(want),
                    "step {n} ({feed:?}): client output"
                );
                sent.clear();
            }
            Do(f) => {
                f(&mut c, now);
                drain(&mut c, now, &mut sent, &mut events);
            }
            Wait(d) => {
                let until = now + *d;
                // Jump from deadline to deadline, as a driver would.
                while let Some(t) = c.poll_timeout().filter(|&t| t <= until) {
                    now = t.max(now);
                    c.handle_timeout(now);
                    drain(&mut c, now, &mut sent, &mut events);
                }
                now = until;
                c.handle_timeout(now);
                drain(&mut c, now, &mut sent, &mut events);
            }
            Eof => {
                c.handle_eof(now);
                drain(&mut c, now, &mut sent, &mut events);
            }
        }
    }
    assert!(
        sent.is_empty(),
        "unchecked client output at the end: {:?}",
        String::from_utf8_lossy(&sent)
    );
    if c.deflate.is_none() && !by_buf {
        // The tap has had the consumed input except the receiver's unframed tail.
        let mut all = tapped.lock().unwrap().clone();
        assert_eq!(
            c.tap_pending.len(),
            c.rx.buffered(),
            "({feed:?}): held back"
        );
        all.extend_from_slice(&c.tap_pending);
        assert_eq!(
            String::from_utf8_lossy(&all),
            String::from_utf8_lossy(&consumed),
            "({feed:?}): the received tap"
        );
    }
    Run {
        events: coalesce_chunks(events),
        decoded: c.messages_decoded(),
        parses: c.parser_invocations(),
        lent,
    }
}

/// Streamed bodies arrive in the pieces the input came in (the first with the begin event,
/// as much as came with the FETCH line): a begin event's data is moved into a chunk after it
/// and consecutive chunks are joined, so that runs with different input splits compare
/// equal.
fn coalesce_chunks(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    let events = events.into_iter().flat_map(|e| match e {
        Event::BodyBegin(mut b) => {
            let data = std::mem::take(&mut b.data);
            let chunk = (!data.is_empty()).then_some(Event::BodyChunk(data));
            std::iter::once(Event::BodyBegin(b)).chain(chunk)
        }
        e => std::iter::once(e).chain(None),
    });
    for e in events {
        if let (Event::BodyChunk(b), Some(Event::BodyChunk(prev))) = (&e, out.last_mut()) {
            let mut joined = prev.to_vec();
            joined.extend_from_slice(b);
            *prev = Bytes::from(joined);
            continue;
        }
        out.push(e);
    }
    out
}

/// Runs a script whole, bytewise and split at every position of each server chunk; all
/// must agree. Returns the events.
fn run(cfg: ClientConfig, steps: &[Step]) -> Vec<Event> {
    let whole = run_with(&cfg, steps, Feed::Whole);
    let bytewise = run_with(&cfg, steps, Feed::Bytewise);
    assert_eq!(whole.events, bytewise.events, "bytewise events differ");
    assert_eq!(
        whole.decoded, bytewise.decoded,
        "a message was parsed twice"
    );
    // The parser runs once per message whatever the pieces, never again on a message it has
    // seen part of (a streamed body's FETCH context is read only when asked for).
    assert_eq!(whole.parses, bytewise.parses, "parser invocations differ");
    // The driver's way in (`handle_input_buf`): the same events, each message parsed once.
    // And `handle_input_lent`: the same events, a lent chunk standing for its event.
    for feed in [
        Feed::BufWhole,
        Feed::BufBytewise,
        Feed::LentWhole,
        Feed::LentBytewise,
        Feed::RoomWhole,
        Feed::RoomBytewise,
        Feed::RoomLentBytewise,
    ] {
        let r = run_with(&cfg, steps, feed);
        assert_eq!(whole.events, r.events, "{feed:?}: events differ");
        assert_eq!(whole.decoded, r.decoded, "{feed:?}: messages decoded");
        assert_eq!(
            whole.parses, r.parses,
            "{feed:?}: parser invocations differ"
        );
    }
    assert_eq!(
        whole.parses, whole.decoded,
        "parser invocations: {} for {} messages",
        whole.parses, whole.decoded
    );
    let longest = steps
        .iter()
        .map(|s| if let S(b) = s { b.len() } else { 0 })
        .max()
        .unwrap_or(0);
    for k in 1..longest {
        for feed in [
            Feed::SplitAt(k),
            Feed::LentSplitAt(k),
            Feed::RoomSplitAt(k),
            Feed::RoomLentSplitAt(k),
        ] {
            let split = run_with(&cfg, steps, feed);
            assert_eq!(whole.events, split.events, "{feed:?}: events differ");
            assert_eq!(whole.decoded, split.decoded, "{feed:?}: messages decoded");
            assert_eq!(
                whole.parses, split.parses,
                "{feed:?}: parser invocations differ"
            );
        }
    }
    // Each server message is decoded exactly once.
    let messages: u64 = steps
        .iter()
        .map(|s| match s {
            S(b) => count_messages(b),
            _ => 0,
        })
        .sum();
    assert!(
        whole.decoded <= messages,
        "{} decodes for {messages} messages",
        whole.decoded
    );
    whole.events
}

/// Lines not inside literals (enough for these scripts: literals here hold no CRLF).
fn count_messages(b: &[u8]) -> u64 {
    b.windows(2).filter(|w| w == b"\r\n").count() as u64
}

/// `SELECT INBOX` submitted.
fn select_inbox() -> Step {
    submit(|| CommandBody::Select {
        mailbox: Mailbox::new("INBOX").unwrap(),
        params: Default::default(),
    })
}

fn plain() -> ClientConfig {
    ClientConfig::default().with_plaintext_login(true)
}

fn tls() -> ClientConfig {
    ClientConfig::default().with_encrypted(true)
}

fn completions(ev: &[Event]) -> Vec<(u64, Result<(), String>)> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Completed { id, result } => Some((
                id.get(),
                result.as_ref().map(|_| ()).map_err(|e| format!("{e:?}")),
            )),
            _ => None,
        })
        .collect()
}

fn ok_ids(ev: &[Event]) -> Vec<u64> {
    completions(ev)
        .into_iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(i, _)| i)
        .collect()
}

/// The mechanism's reason of the first AUTHENTICATE the server refused.
fn auth_rejection(ev: &[Event]) -> Option<&crate::sasl::SaslError> {
    ev.iter().find_map(|e| match e {
        Event::Completed {
            result: Err(CommandError::AuthRejected { reason, .. }),
            ..
        } => Some(reason),
        _ => None,
    })
}

fn closed(ev: &[Event]) -> Option<&CloseReason> {
    ev.iter().find_map(|e| match e {
        Event::Closed(r) => Some(r),
        _ => None,
    })
}

const GREET: &[u8] = b"* OK [CAPABILITY IMAP4rev1 IDLE LITERAL+ UIDPLUS MOVE ENABLE] ready\r\n";
const GREET_NOLIT: &[u8] = b"* OK [CAPABILITY IMAP4rev1 STARTTLS IDLE] ready\r\n";

fn login() -> Step {
    act(|c, now| {
        c.login(now, "joe", Secret::new(Bytes::from_static(b"pw")))
            .unwrap();
    })
}

#[test]
fn greeting_login_select_fetch_logout() {
    let ev = run(
        tls(),
        &[
            S(GREET),
            C(b""),
            login(),
            C(b"A0001 LOGIN joe pw\r\n"),
            S(b"A0001 OK [CAPABILITY IMAP4rev1 IDLE UIDPLUS] done\r\n"),
            select_inbox(),
            C(b"A0002 SELECT INBOX\r\n"),
            S(b"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT 12] x\r\nA0002 OK [READ-WRITE] selected\r\n"),
            act(|c, now| {
                let b = imapwire_codec::codec::AnyMessage::decode(
                    &Bytes::from_static(b"X FETCH 1:2 (UID FLAGS)\r\n"),
                    imapwire_codec::codec::Expect::Command,
                    &imapwire_codec::DecodeOptions::strict(),
                )
                .unwrap();
                let imapwire_codec::codec::AnyMessage::Command(cmd) = b.message else {
                    panic!()
                };
                c.submit(now, cmd.body().clone()).unwrap();
                assert_eq!(c.mailbox().unwrap().exists(), 2);
                assert_eq!(c.mailbox().unwrap().uidvalidity(), Some(7));
            }),
            C(b"A0003 FETCH 1:2 (UID FLAGS)\r\n"),
            S(b"* 1 FETCH (UID 10 FLAGS (\\Seen))\r\n* 2 FETCH (UID 11 FLAGS ())\r\nA0003 OK done\r\n"),
            act(|c, now| {
                let m = c.mailbox().unwrap();
                assert_eq!(m.map().seq(imapwire_codec::sequence::Uid::new(11).unwrap()).map(|s| s.get()), Some(2));
                c.logout(now).unwrap();
            }),
            C(b"A0004 LOGOUT\r\n"),
            S(b"* BYE bye\r\nA0004 OK done\r\n"),
        ],
    );
    assert_eq!(ok_ids(&ev), vec![1, 2, 3, 4]);
    assert!(matches!(
        ev.first(),
        Some(Event::Greeting {
            kind: GreetingKind::Ok,
            ..
        })
    ));
    assert_eq!(closed(&ev), Some(&CloseReason::LoggedOut));
    assert!(ev.iter().any(|e| matches!(e, Event::Bye(_))));
}

#[test]
fn capabilities_asked_when_the_greeting_has_none() {
    let ev = run(
        tls(),
        &[
            S(b"* OK hello\r\n"),
            C(b"A0001 CAPABILITY\r\n"),
            S(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA0001 OK\r\n"),
            act(|c, _| assert!(c.has(&Capability::Imap4Rev1))),
        ],
    );
    // The session's own CAPABILITY is not reported as a completion.
    assert!(completions(&ev).is_empty());
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Data(Data::Capability(_))))
    );
}

#[test]
fn login_refused_without_encryption_or_under_logindisabled() {
    let t = Instant::now();
    let mut c = Client::new(ClientConfig::default(), t).unwrap();
    assert_eq!(
        c.login(t, "u", Secret::new(Bytes::from_static(b"p"))),
        Err(SubmitError::PlaintextForbidden)
    );
    let mut c = Client::new(plain(), t).unwrap();
    assert_eq!(
        c.handle_input(t, b"* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] x\r\n"),
        45
    );
    assert_eq!(
        c.login(t, "u", Secret::new(Bytes::from_static(b"p"))),
        Err(SubmitError::LoginDisabled)
    );
    assert_eq!(c.poll_transmit(t), None);
}

#[test]
fn commands_invalid_in_the_state_are_refused_and_never_sent() {
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, GREET);
    let e = c.submit(t, CommandBody::Expunge).unwrap_err();
    assert!(
        matches!(
            e,
            SubmitError::InvalidState {
                state: State::NotAuthenticated,
                ..
            }
        ),
        "{e:?}"
    );
    let e = c
        .submit(
            t,
            CommandBody::Select {
                mailbox: Mailbox::new("INBOX").unwrap(),
                params: Default::default(),
            },
        )
        .unwrap_err();
    assert!(matches!(e, SubmitError::InvalidState { .. }));
    assert_eq!(
        c.submit(t, CommandBody::Idle),
        Err(SubmitError::UseDedicatedMethod("IDLE"))
    );
    assert_eq!(c.poll_transmit(t), None);
    // IDLE is not valid before authentication either.
    assert!(matches!(c.idle(t), Err(SubmitError::InvalidState { .. })));
}

#[test]
fn capability_missing_refuses_at_once_when_known() {
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    assert_eq!(c.state(), State::Authenticated);
    assert_eq!(
        c.submit(t, CommandBody::Namespace),
        Err(SubmitError::NotAdvertised(Capability::Namespace))
    );
    assert_eq!(
        c.starttls(t).unwrap_err(),
        SubmitError::InvalidState {
            command: "STARTTLS".into(),
            state: State::Authenticated
        }
    );
}

#[test]
fn pipelining_sends_together_and_holds_sequence_numbers_behind_expunge() {
    let ev = run(
        tls(),
        &[
            S(b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n"),
            submit(|| CommandBody::Noop),
            submit(|| CommandBody::Noop),
            submit(|| CommandBody::Capability),
            C(b"A0001 NOOP\r\nA0002 NOOP\r\nA0003 CAPABILITY\r\n"),
            S(b"A0002 OK\r\nA0001 OK\r\n* CAPABILITY IMAP4rev1\r\nA0003 OK\r\n"),
        ],
    );
    // Completions in the order the server answered.
    assert_eq!(ok_ids(&ev), vec![2, 1, 3]);
}

#[test]
fn synchronizing_literal_waits_for_continuation() {
    let ev = run(
        tls(),
        &[
            S(GREET_NOLIT),
            act(|c, now| {
                c.login(now, "joe", Secret::new(Bytes::from_static(b"p\xc3\xa4ss")))
                    .unwrap();
            }),
            C(b"A0001 LOGIN joe {5}\r\n"),
            S(b"+ go ahead\r\n"),
            C(b"p\xc3\xa4ss\r\n"),
            S(b"A0001 OK done\r\n"),
            // No capabilities in the OK: the session asks for them itself.
            C(b"A0002 CAPABILITY\r\n"),
            S(b"* CAPABILITY IMAP4rev1\r\nA0002 OK\r\n"),
        ],
    );
    assert_eq!(ok_ids(&ev), vec![1]);
}

#[test]
fn no_instead_of_continuation_completes_and_drops_the_literal() {
    let ev = run(
        tls(),
        &[
            S(GREET_NOLIT),
            act(|c, now| {
                c.login(now, "joe", Secret::new(Bytes::from_static(b"p\xc3\xa4ss")))
                    .unwrap();
                c.submit(now, CommandBody::Noop).unwrap();
            }),
            C(b"A0001 LOGIN joe {5}\r\n"),
            S(b"A0001 NO [TOOBIG] no\r\n"),
            // The literal is never sent; the NOOP behind it goes out now.
            C(b"A0002 NOOP\r\n"),
            S(b"A0002 OK\r\n"),
        ],
    );
    let c = completions(&ev);
    assert!(
        c[0].0 == 1 && c[0].1.as_ref().unwrap_err().contains("No"),
        "{c:?}"
    );
    assert_eq!(c[1], (2, Ok(())));
}

#[test]
fn literal_plus_is_used_when_offered() {
    run(
        tls(),
        &[
            S(GREET),
            act(|c, now| {
                c.login(now, "joe", Secret::new(Bytes::from_static(b"p\xc3\xa4ss")))
                    .unwrap();
            }),
            C(b"A0001 LOGIN joe {5+}\r\np\xc3\xa4ss\r\n"),
            S(b"A0001 OK [CAPABILITY IMAP4rev1] in\r\n"),
        ],
    );
}

#[test]
fn starttls_hands_over_then_asks_capabilities_again() {
    let ev = run(
        ClientConfig::default(),
        &[
            S(GREET_NOLIT),
            act(|c, now| {
                c.starttls(now).unwrap();
            }),
            C(b"A0001 STARTTLS\r\n"),
            S(b"A0001 OK begin TLS\r\n"),
            act(|c, now| {
                assert_eq!(c.poll_transmit(now), None);
                assert_eq!(c.handle_input(now, b"* OK late"), 0);
                assert!(c.capabilities().is_some());
                c.transport_upgraded(now);
                assert!(c.is_encrypted());
                assert!(c.capabilities().is_none());
            }),
            C(b"A0002 CAPABILITY\r\n"),
            S(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA0002 OK\r\n"),
        ],
    );
    assert_eq!(ok_ids(&ev), vec![1]);
    assert!(ev.contains(&Event::HandOff(HandOff::StartTls)));
}

#[test]
fn bytes_after_the_starttls_ok_are_an_injection() {
    let t = Instant::now();
    let mut c = Client::new(ClientConfig::default(), t).unwrap();
    let _ = c.handle_input(t, GREET_NOLIT);
    let id = c.starttls(t).unwrap();
    assert_eq!(
        c.poll_transmit(t).as_deref(),
        Some(&b"A0001 STARTTLS\r\n"[..])
    );
    let _ = c.handle_input(t, b"A0001 OK go\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n");
    let ev: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    assert!(
        ev.contains(&Event::Closed(CloseReason::StartTlsInjection { bytes: 35 })),
        "{ev:?}"
    );
    assert!(!ev.iter().any(|e| matches!(e, Event::Data(_))));
    assert!(!ev.contains(&Event::HandOff(HandOff::StartTls)));
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Completed { id: i, .. } if *i == id))
    );
    assert!(c.is_closed());
}

#[test]
fn starttls_not_offered_is_refused_never_sent() {
    let ev = run(
        ClientConfig::default(),
        &[
            S(b"* OK [CAPABILITY IMAP4rev1] hi\r\n"),
            act(|c, now| {
                assert_eq!(
                    c.starttls(now),
                    Err(SubmitError::NotAdvertised(Capability::StartTls))
                );
            }),
            C(b""),
        ],
    );
    assert!(completions(&ev).is_empty());
}

#[test]
fn starttls_with_unknown_capabilities_asks_then_refuses() {
    let ev = run(
        ClientConfig::default(),
        &[
            S(b"* OK hi\r\n"),
            act(|c, now| {
                c.starttls(now).unwrap();
            }),
            C(b"A0001 CAPABILITY\r\n"),
            S(b"* CAPABILITY IMAP4rev1\r\nA0001 OK\r\n"),
            C(b""),
        ],
    );
    let c = completions(&ev);
    assert_eq!(c.len(), 1);
    assert!(
        c[0].1.as_ref().unwrap_err().contains("NotAdvertised"),
        "{c:?}"
    );
}

#[test]
fn compress_inflates_leftover_and_deflates_output() {
    compress_leftover(false);
    // The driver's way in: the compressed bytes after the OK are taken off the buffer too.
    compress_leftover(true);
}

/// COMPRESS with compressed bytes in the read that carries the OK, fed through
/// `handle_input_buf` when `by_buf`.
fn compress_leftover(by_buf: bool) {
    let feed = |c: &mut Client, t: Instant, data: &[u8]| {
        if by_buf {
            let mut buf = BytesMut::from(data);
            let n = c.handle_input_buf(t, &mut buf);
            assert_eq!(n, data.len());
            assert!(buf.is_empty());
        } else {
            assert_eq!(c.handle_input(t, data), data.len());
        }
    };
    // The server's compressed bytes for the lines after the OK, from our own deflater.
    let mut server = Deflate::new();
    let z1 = server.compress(b"* 3 EXISTS\r\n").unwrap();
    let z2 = server.compress(b"A0002 OK\r\n").unwrap();
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    feed(
        &mut c,
        t,
        b"* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n",
    );
    let id = c.compress(t).unwrap();
    assert_eq!(
        c.poll_transmit(t).as_deref(),
        Some(&b"A0001 COMPRESS DEFLATE\r\n"[..])
    );
    // The OK and compressed bytes arrive in one read.
    let mut input = b"A0001 OK compressing\r\n".to_vec();
    input.extend_from_slice(&z1);
    feed(&mut c, t, &input);
    assert!(c.is_compressed());
    // The compressed line after the OK is inflated in the same call, not at the next read.
    let mut ev: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    assert!(
        ev.iter().any(|e| matches!(e, Event::Data(Data::Exists(3)))),
        "{ev:?}"
    );
    let n = c.submit(t, CommandBody::Noop).unwrap();
    let out = c.poll_transmit(t).unwrap();
    let mut peer = Deflate::new();
    let mut plain = Vec::new();
    peer.decompress(&out, &mut plain).unwrap();
    assert_eq!(plain, b"A0002 NOOP\r\n");
    feed(&mut c, t, &z2);
    ev.extend(std::iter::from_fn(|| c.poll_event()));
    let done: Vec<u64> = ok_ids(&ev);
    assert_eq!(done, vec![id.get(), n.get()]);
}

/// The received tap sees the server's bytes as consumed, decompressed once COMPRESS is on,
/// and nothing of what the client sends; input refused (event queue full) is not copied.
#[test]
fn received_tap_copies_the_decompressed_input_once() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let sink = seen.clone();
    let tap = ReceivedTap::new(move |b| sink.lock().unwrap().extend_from_slice(b));
    let mut server = Deflate::new();
    let z1 = server.compress(b"* 3 EXISTS\r\n").unwrap();
    let z2 = server.compress(b"A0002 OK\r\n").unwrap();
    let t = Instant::now();
    let mut c = Client::new(tls().with_received_tap(Some(tap)).with_max_events(4), t).unwrap();
    let greeting = b"* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n";
    assert_eq!(c.handle_input(t, greeting), greeting.len());
    c.compress(t).unwrap();
    let _ = c.poll_transmit(t);
    while c.poll_event().is_some() {}
    let mut input = b"A0001 OK compressing\r\n".to_vec();
    input.extend_from_slice(&z1);
    assert_eq!(c.handle_input(t, &input), input.len());
    c.submit(t, CommandBody::Noop).unwrap();
    let _ = c.poll_transmit(t);
    while c.poll_event().is_some() {}
    assert_eq!(c.handle_input(t, &z2), z2.len());
    while c.poll_event().is_some() {}
    let mut want = greeting.to_vec();
    want.extend_from_slice(b"A0001 OK compressing\r\n* 3 EXISTS\r\nA0002 OK\r\n");
    assert_eq!(
        String::from_utf8_lossy(&seen.lock().unwrap()),
        String::from_utf8_lossy(&want)
    );
    // A full event queue: the input is not consumed, so not copied either.
    let refused = loop {
        let z = server.compress(b"* 4 EXISTS\r\n").unwrap();
        let before = seen.lock().unwrap().len();
        if c.handle_input(t, &z) == 0 {
            assert_eq!(seen.lock().unwrap().len(), before);
            break z;
        }
        assert_eq!(seen.lock().unwrap().len(), before + 12);
    };
    // Taken once the events are drained, and copied then.
    while c.poll_event().is_some() {}
    let before = seen.lock().unwrap().len();
    assert_eq!(c.handle_input(t, &refused), refused.len());
    assert!(seen.lock().unwrap()[before..] == b"* 4 EXISTS\r\n"[..]);
    let debug = format!(
        "{:?}",
        tls().with_received_tap(Some(ReceivedTap::new(|_| ())))
    );
    assert!(debug.contains("ReceivedTap(..)"), "{debug}");
}

#[test]
fn idle_refreshes_before_the_interval_and_ends_on_request() {
    let cfg = tls().with_idle_refresh(Duration::from_secs(600));
    let ev = run(
        cfg,
        &[
            S(b"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n"),
            act(|c, now| {
                c.idle(now).unwrap();
            }),
            C(b"A0001 IDLE\r\n"),
            S(b"+ idling\r\n"),
            S(b"* 4 EXISTS\r\n"),
            Wait(Duration::from_secs(599)),
            C(b""),
            Wait(Duration::from_secs(1)),
            C(b"DONE\r\n"),
            S(b"A0001 OK refreshed\r\n"),
            C(b"A0002 IDLE\r\n"),
            S(b"+ idling\r\n"),
            act(|c, now| c.idle_done(now, CommandId(1)).unwrap()),
            C(b"DONE\r\n"),
            S(b"A0002 OK done\r\n"),
        ],
    );
    assert_eq!(ok_ids(&ev), vec![1]);
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, Event::IdleStarted { .. }))
            .count(),
        1
    );
    assert!(ev.contains(&Event::Mailbox(MailboxEvent::Exists { exists: 4 })));
}

#[test]
fn idle_without_the_capability_polls_with_noop() {
    let cfg = tls().with_noop_poll_interval(Duration::from_secs(60));
    let ev = run(
        cfg,
        &[
            S(b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n"),
            act(|c, now| {
                c.idle(now).unwrap();
            }),
            C(b""),
            Wait(Duration::from_secs(60)),
            C(b"A0001 NOOP\r\n"),
            S(b"* 1 EXISTS\r\nA0001 OK\r\n"),
            Wait(Duration::from_secs(60)),
            C(b"A0002 NOOP\r\n"),
            S(b"A0002 OK\r\n"),
            act(|c, now| c.idle_done(now, CommandId(1)).unwrap()),
        ],
    );
    assert_eq!(ok_ids(&ev), vec![1]);
    assert!(ev.contains(&Event::Mailbox(MailboxEvent::Exists { exists: 1 })));
}

/// IDLE by NOOP polling is checked like any submission: refused once the session is closed
/// (it used to start, with an `IdleStarted` after `Closed`; found by the `client_session`
/// fuzz target) and beyond the command limit.
#[test]
fn idle_by_polling_is_refused_when_closed_or_full() {
    let t0 = Instant::now();
    let cfg = tls().with_max_commands(1);
    let mut c = Client::new(cfg, t0).unwrap();
    let _ = c.handle_input(t0, b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    while c.poll_event().is_some() {}
    let id = c.submit(t0, CommandBody::Noop).unwrap();
    assert!(matches!(c.idle(t0), Err(SubmitError::TooManyCommands)));
    let _ = c.handle_input(t0, format!("A{:04} OK\r\n", id.0).as_bytes());
    c.handle_eof(t0);
    let ev: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    assert!(matches!(ev.last(), Some(Event::Closed(_))), "{ev:?}");
    assert!(matches!(c.idle(t0), Err(SubmitError::Closed)));
    assert!(c.poll_event().is_none());
}

#[test]
fn response_timeout_fails_pending_commands_and_closes() {
    let cfg = tls().with_response_timeout(Duration::from_secs(30));
    let ev = run(
        cfg,
        &[
            S(GREET),
            submit(|| CommandBody::Noop),
            C(b"A0001 NOOP\r\n"),
            Wait(Duration::from_secs(20)),
            S(b"* 1 EXISTS\r\n"),
            // Any byte restarts the wait: 29 s after it, still alive.
            Wait(Duration::from_secs(29)),
            Wait(Duration::from_secs(1)),
        ],
    );
    let c = completions(&ev);
    assert_eq!(c, vec![(1, Err("TimedOut".into()))]);
    assert_eq!(closed(&ev), Some(&CloseReason::TimedOut));
}

#[test]
fn greeting_timeout() {
    let cfg = tls().with_greeting_timeout(Duration::from_secs(5));
    let ev = run(
        cfg,
        &[
            Wait(Duration::from_secs(4)),
            S(b"* OK"),
            Wait(Duration::from_secs(1)),
        ],
    );
    assert_eq!(closed(&ev), Some(&CloseReason::TimedOut));
}

#[test]
fn spurious_timeouts_do_nothing() {
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, GREET);
    let d = c.poll_timeout();
    c.handle_timeout(t);
    c.handle_timeout(t + Duration::from_secs(1));
    assert_eq!(c.poll_timeout(), d);
    assert!(!c.is_closed());
}

#[test]
fn connection_lost_mid_fetch_is_never_success() {
    let ev = run(
        tls(),
        &[
            S(b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n"),
            select_inbox(),
            C(b"A0001 SELECT INBOX\r\n"),
            S(b"* 3 EXISTS\r\nA0001 OK\r\n"),
            submit(|| CommandBody::Noop),
            C(b"A0002 NOOP\r\n"),
            S(b"* 1 FETCH (UID 5)\r\n* 2 FETCH (UID 6)\r\n"),
            Eof,
        ],
    );
    assert_eq!(
        completions(&ev),
        vec![(1, Ok(())), (2, Err("ConnectionLost".into()))]
    );
    assert!(matches!(
        closed(&ev),
        Some(CloseReason::PeerClosed { bye: None })
    ));
    // What arrived before the loss was delivered.
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, Event::Data(Data::Fetch { .. })))
            .count(),
        2
    );
}

#[test]
fn unknown_tags_continuations_and_broken_lines_are_reported_and_survived() {
    let ev = run(
        tls(),
        &[
            S(GREET),
            S(b"Z999 OK who?\r\n+ nobody asked\r\n* 1 FETCH (FLAGS (\\Seen)\r\n"),
            submit(|| CommandBody::Noop),
            C(b"A0001 NOOP\r\n"),
            S(b"A0001 OK\r\n"),
        ],
    );
    assert!(ev.contains(&Event::ProtocolError(ProtocolError::UnknownTag(
        Bytes::from_static(b"Z999")
    ))));
    assert!(ev.contains(&Event::ProtocolError(ProtocolError::UnexpectedContinuation)));
    assert!(ev.iter().any(|e| matches!(e, Event::Malformed(_))));
    assert_eq!(ok_ids(&ev), vec![1]);
}

#[test]
fn expunge_renumbers_and_bad_sequence_numbers_are_protocol_errors() {
    let ev = run(
        tls(),
        &[
            S(b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n"),
            select_inbox(),
            C(b"A0001 SELECT INBOX\r\n"),
            S(b"* 3 EXISTS\r\n* 1 FETCH (UID 5)\r\n* 2 FETCH (UID 6)\r\n* 3 FETCH (UID 9)\r\nA0001 OK\r\n"),
            submit(|| CommandBody::Noop),
            C(b"A0002 NOOP\r\n"),
            S(b"* 2 EXPUNGE\r\n* 7 EXPUNGE\r\nA0002 OK\r\n"),
            act(|c, _| {
                let m = c.mailbox().unwrap();
                assert_eq!(m.exists(), 2);
                assert_eq!(
                    m.map().seq(imapwire_codec::sequence::Uid::new(9).unwrap()).map(|s| s.get()),
                    Some(2)
                );
            }),
        ],
    );
    assert!(ev.contains(&Event::Mailbox(MailboxEvent::Expunged {
        seq: 2,
        uid: Some(6)
    })));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::ProtocolError(ProtocolError::Mailbox(
            crate::mailbox::SeqMapError::NoSuchMessage { seq: 7, len: 2 }
        ))
    )));
}

#[test]
fn large_append_body_is_handed_out_without_a_copy() {
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, b"* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n");
    let body = Bytes::from(vec![b'x'; 100_000]);
    let id = c
        .append(
            t,
            Mailbox::new("INBOX").unwrap(),
            vec![imapwire_codec::flag::Flag::Seen],
            None,
            AppendBody::Bytes(body.clone()),
        )
        .unwrap();
    let head = c.poll_transmit(t).unwrap();
    assert_eq!(&head[..], b"A0001 APPEND INBOX (\\Seen) {100000+}\r\n");
    let payload = c.poll_transmit(t).unwrap();
    assert_eq!(payload.as_ptr(), body.as_ptr(), "the body was copied");
    assert_eq!(payload.len(), body.len());
    assert_eq!(c.poll_transmit(t).as_deref(), Some(&b"\r\n"[..]));
    let _ = c.handle_input(t, b"A0001 OK [APPENDUID 3 77] done\r\n");
    let ev: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    assert!(
        matches!(
            &ev[1],
            Event::Completed { id: i, result: Ok(Completion { code: Some(ResponseCode::AppendUid { .. }), .. }) } if *i == id
        ),
        "{ev:?}"
    );
}

#[test]
fn streamed_append_asks_for_chunks_after_the_continuation() {
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    assert!(matches!(c.poll_event(), Some(Event::Greeting { .. })));
    let id = c
        .append(
            t,
            Mailbox::new("Sent").unwrap(),
            vec![],
            None,
            AppendBody::Stream { len: 10 },
        )
        .unwrap();
    assert_eq!(
        c.poll_transmit(t).as_deref(),
        Some(&b"A0001 APPEND Sent {10}\r\n"[..])
    );
    assert_eq!(c.poll_transmit(t), None);
    assert!(c.poll_event().is_none());
    let _ = c.handle_input(t, b"+ go\r\n");
    assert_eq!(c.poll_transmit(t), None);
    assert_eq!(
        c.poll_event(),
        Some(Event::AppendDataWanted { id, remaining: 10 })
    );
    c.append_chunk(id, Bytes::from_static(b"hello")).unwrap();
    assert_eq!(c.poll_transmit(t).as_deref(), Some(&b"hello"[..]));
    assert_eq!(
        c.poll_event(),
        Some(Event::AppendDataWanted { id, remaining: 5 })
    );
    assert_eq!(
        c.append_chunk(id, Bytes::from_static(b"too long!")),
        Err(SubmitError::UnexpectedChunk(id))
    );
    c.append_chunk(id, Bytes::from_static(b"world")).unwrap();
    assert_eq!(c.poll_transmit(t).as_deref(), Some(&b"world\r\n"[..]));
    assert_eq!(c.poll_transmit(t), None);
}

#[test]
fn full_event_queue_pushes_back_and_loses_nothing() {
    let t = Instant::now();
    let mut c = Client::new(tls().with_max_events(2), t).unwrap();
    let input = b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n* 1 EXISTS\r\n* 2 EXISTS\r\n* 3 EXISTS\r\n* 4 EXISTS\r\n";
    let used = c.handle_input(t, input);
    assert_eq!(used, input.len());
    // More input is refused until events are taken.
    assert_eq!(c.handle_input(t, b"* 5 EXISTS\r\n"), 0);
    let mut n = 0;
    while let Some(e) = c.poll_event() {
        if matches!(e, Event::Data(Data::Exists(_))) {
            n += 1;
        }
    }
    assert_eq!(n, 4);
    assert_eq!(c.handle_input(t, b"* 5 EXISTS\r\n"), 12);
}

#[test]
fn every_command_completes_once_when_the_peer_vanishes() {
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    let mut ids = Vec::new();
    for _ in 0..40 {
        ids.push(c.submit(t, CommandBody::Noop).unwrap());
    }
    while c.poll_transmit(t).is_some() {}
    let _ = c.handle_input(t, b"A0003 OK\r\n");
    c.handle_eof(t);
    let ev: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    let mut done: Vec<u64> = completions(&ev).into_iter().map(|(i, _)| i).collect();
    done.sort();
    assert_eq!(done, ids.iter().map(|i| i.get()).collect::<Vec<_>>());
    assert!(matches!(ev.last(), Some(Event::Closed(_))));
    assert_eq!(c.submit(t, CommandBody::Noop), Err(SubmitError::Closed));
}

// ---- AUTHENTICATE ----

fn b64(s: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn scram256() -> Box<dyn crate::sasl::ClientMechanism> {
    use crate::sasl::scram::{ScramClient, ScramHash};
    let c = ScramClient::new(ScramHash::Sha256, "user", &Secret::new("pencil".to_owned()))
        .unwrap()
        .with_nonce_source(Box::new(|| Ok("rOprNGfwEbeRWgbNEkqO".to_owned())));
    Box::new(c)
}

/// Leaks a script line built at run time (the steps hold `'static` bytes).
fn line(s: String) -> &'static [u8] {
    Box::leak(s.into_bytes().into_boxed_slice())
}

const SCRAM_FIRST: &str =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const SCRAM_FINAL_C: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const SCRAM_FINAL_S: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

#[test]
fn scram_sha256_rfc7677_exchange_with_sasl_ir() {
    let ev = run(
        tls(),
        &[
            S(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256] hi\r\n"),
            act(|c, now| {
                c.authenticate(now, scram256()).unwrap();
            }),
            C(line(format!(
                "A0001 AUTHENTICATE SCRAM-SHA-256 {}\r\n",
                b64(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
            ))),
            S(line(format!("+ {}\r\n", b64(SCRAM_FIRST.as_bytes())))),
            C(line(format!("{}\r\n", b64(SCRAM_FINAL_C.as_bytes())))),
            S(line(format!("+ {}\r\n", b64(SCRAM_FINAL_S.as_bytes())))),
            C(b"\r\n"),
            S(b"A0001 OK [CAPABILITY IMAP4rev1 IDLE] authenticated\r\n"),
        ],
    );
    assert_eq!(ok_ids(&ev), vec![1]);
}

#[test]
fn scram_bad_server_signature_fails_even_on_ok_and_closes() {
    let ev = run(
        tls(),
        &[
            S(b"* OK [CAPABILITY IMAP4rev1 AUTH=SCRAM-SHA-256] hi\r\n"),
            act(|c, now| {
                c.authenticate(now, scram256()).unwrap();
            }),
            // No SASL-IR: the initial response answers the first, empty challenge.
            C(b"A0001 AUTHENTICATE SCRAM-SHA-256\r\n"),
            S(b"+ \r\n"),
            C(line(format!(
                "{}\r\n",
                b64(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
            ))),
            S(line(format!("+ {}\r\n", b64(SCRAM_FIRST.as_bytes())))),
            C(line(format!("{}\r\n", b64(SCRAM_FINAL_C.as_bytes())))),
            // An impostor that does not know the password cannot sign; it says OK anyway.
            S(b"A0001 OK welcome\r\n"),
        ],
    );
    let c = completions(&ev);
    assert_eq!(c.len(), 1);
    assert!(c[0].1.as_ref().unwrap_err().starts_with("Auth("), "{c:?}");
    assert!(matches!(closed(&ev), Some(CloseReason::Protocol(_))));
}

#[test]
fn oauthbearer_error_continuation_is_answered_and_surfaced() {
    let json = br#"{"status":"invalid_token","scope":"mail","openid-configuration":"https://example.com/.well-known/openid-configuration"}"#;
    let ev = run(
        tls(),
        &[
            S(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=OAUTHBEARER] hi\r\n"),
            act(|c, now| {
                let m = crate::sasl::oauth::OAuthBearerClient::new(
                    "user@example.com",
                    &Secret::new("vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==".to_owned()),
                    Some("server.example.com"),
                    Some(993),
                )
                .unwrap();
                c.authenticate(now, Box::new(m)).unwrap();
            }),
            C(line(format!(
                "A0001 AUTHENTICATE OAUTHBEARER {}\r\n",
                b64(b"n,a=user@example.com,\x01host=server.example.com\x01port=993\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01")
            ))),
            S(line(format!("+ {}\r\n", b64(json)))),
            // RFC 7628 §3.2.3: the client answers the error with %x01 before the server's NO.
            C(b"AQ==\r\n"),
            S(b"A0001 NO [AUTHENTICATIONFAILED] token expired\r\n"),
        ],
    );
    let err = ev
        .iter()
        .find_map(|e| match e {
            Event::Completed { result: Err(e), .. } => Some(e.clone()),
            _ => None,
        })
        .unwrap();
    match err {
        CommandError::AuthRejected {
            reason: crate::sasl::SaslError::OAuth { error, .. },
            code: Some(ResponseCode::AuthenticationFailed),
            ..
        } => assert_eq!(error.status.as_deref(), Some("invalid_token")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn plain_is_refused_over_plaintext_and_cancel_sends_star() {
    let t = Instant::now();
    let mut c = Client::new(ClientConfig::default(), t).unwrap();
    let _ = c.handle_input(
        t,
        b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=SCRAM-SHA-256] hi\r\n",
    );
    let plain = crate::sasl::plain::PlainClient::new("u", &Secret::new("p".to_owned())).unwrap();
    assert_eq!(
        c.authenticate(t, Box::new(plain)).unwrap_err(),
        SubmitError::PlaintextForbidden
    );
    // SCRAM does not expose the password: allowed, and cancellable.
    let id = c.authenticate(t, scram256()).unwrap();
    assert_eq!(
        c.poll_transmit(t).as_deref(),
        Some(&b"A0001 AUTHENTICATE SCRAM-SHA-256\r\n"[..])
    );
    c.authenticate_cancel(id).unwrap();
    let _ = c.handle_input(t, b"+ \r\n");
    assert_eq!(c.poll_transmit(t).as_deref(), Some(&b"*\r\n"[..]));
    let _ = c.handle_input(t, b"A0001 BAD cancelled\r\n");
    let ev: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    assert!(ev.iter().any(|e| matches!(e, Event::Completed { id: i, result: Err(CommandError::AuthRejected { .. }) } if *i == id)), "{ev:?}");
    assert_eq!(c.state(), State::NotAuthenticated);
}

#[test]
fn mechanism_not_offered_is_refused() {
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n");
    assert!(matches!(
        c.authenticate(t, scram256()),
        Err(SubmitError::NotAdvertised(Capability::Auth(_)))
    ));
}

#[test]
fn enabled_switches_the_decoder_only_for_what_the_server_enabled() {
    let ev = run(
        tls(),
        &[
            S(b"* PREAUTH [CAPABILITY IMAP4rev1 ENABLE UTF8=ACCEPT CONDSTORE] hi\r\n"),
            act(|c, now| {
                assert!(!c.rx.options().utf8);
                let caps = vec![Capability::Utf8Accept, Capability::CondStore];
                c.submit(now, CommandBody::Enable(caps)).unwrap();
            }),
            C(b"A0001 ENABLE UTF8=ACCEPT CONDSTORE\r\n"),
            // The server enables CONDSTORE only.
            S(b"* ENABLED CONDSTORE\r\nA0001 OK\r\n"),
            act(|c, _| {
                assert!(!c.rx.options().utf8);
                assert_eq!(c.enabled(), &[Capability::CondStore]);
            }),
            submit(|| CommandBody::Enable(vec![Capability::Utf8Accept])),
            C(b"A0002 ENABLE UTF8=ACCEPT\r\n"),
            S(b"* ENABLED UTF8=ACCEPT\r\nA0002 OK\r\n"),
            act(|c, _| assert!(c.rx.options().utf8)),
        ],
    );
    assert_eq!(ok_ids(&ev), vec![1, 2]);
}

#[test]
fn automatic_choice_takes_the_strongest_offered_mechanism() {
    let t = Instant::now();
    let creds = crate::sasl::Credentials::password("user", Secret::new("pencil".to_owned()));
    // Over TLS, SCRAM beats PLAIN.
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=SCRAM-SHA-1 AUTH=SCRAM-SHA-256 AUTH=CRAM-MD5] hi\r\n");
    c.authenticate_auto(t, &creds).unwrap();
    assert_eq!(
        c.poll_transmit(t).as_deref(),
        Some(&b"A0001 AUTHENTICATE SCRAM-SHA-256\r\n"[..])
    );
    // Only PLAIN offered, no TLS: nothing fits (CRAM-MD5 is never chosen automatically).
    let mut c = Client::new(ClientConfig::default(), t).unwrap();
    let _ = c.handle_input(
        t,
        b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=CRAM-MD5] hi\r\n",
    );
    assert_eq!(
        c.authenticate_auto(t, &creds),
        Err(SubmitError::NoMechanism)
    );
    // A token picks OAUTHBEARER over XOAUTH2.
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(
        t,
        b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 AUTH=OAUTHBEARER] hi\r\n",
    );
    c.authenticate_auto(
        t,
        &crate::sasl::Credentials::token("u", Secret::new("tok".to_owned())),
    )
    .unwrap();
    let line = c.poll_transmit(t).unwrap();
    assert!(
        line.starts_with(b"A0001 AUTHENTICATE OAUTHBEARER "),
        "{line:?}"
    );
    // Debug output never shows the secret.
    assert!(!format!("{creds:?}").contains("pencil"));
}

#[test]
fn plain_login_and_xoauth2_through_the_session() {
    // PLAIN with SASL-IR (RFC 4616 message in the command line).
    run(
        tls(),
        &[
            S(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] hi\r\n"),
            act(|c, now| {
                let m = crate::sasl::plain::PlainClient::new(
                    "tim",
                    &Secret::new("tanstaaftanstaaf".to_owned()),
                )
                .unwrap();
                c.authenticate(now, Box::new(m)).unwrap();
            }),
            C(line(format!(
                "A0001 AUTHENTICATE PLAIN {}\r\n",
                b64(b"\0tim\0tanstaaftanstaaf")
            ))),
            S(b"A0001 OK [CAPABILITY IMAP4rev1] ok\r\n"),
        ],
    );
    // The LOGIN mechanism: user name and password as answers to two challenges.
    run(
        tls(),
        &[
            S(b"* OK [CAPABILITY IMAP4rev1 AUTH=LOGIN] hi\r\n"),
            act(|c, now| {
                let m = crate::sasl::login::LoginClient::new("tim", &Secret::new("pw".to_owned()))
                    .unwrap();
                c.authenticate(now, Box::new(m)).unwrap();
            }),
            C(b"A0001 AUTHENTICATE LOGIN\r\n"),
            S(line(format!("+ {}\r\n", b64(b"Username:")))),
            C(line(format!("{}\r\n", b64(b"tim")))),
            S(line(format!("+ {}\r\n", b64(b"Password:")))),
            C(line(format!("{}\r\n", b64(b"pw")))),
            S(b"A0001 OK [CAPABILITY IMAP4rev1] ok\r\n"),
        ],
    );
    // XOAUTH2: the error JSON challenge is answered with an empty line.
    let ev = run(
        tls(),
        &[
            S(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] hi\r\n"),
            act(|c, now| {
                let m = crate::sasl::oauth::XOAuth2Client::new("someuser@example.com", &Secret::new("ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg".to_owned())).unwrap();
                c.authenticate(now, Box::new(m)).unwrap();
            }),
            C(line(format!(
                "A0001 AUTHENTICATE XOAUTH2 {}\r\n",
                b64(b"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01")
            ))),
            S(line(format!("+ {}\r\n", b64(br#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#)))),
            C(b"\r\n"),
            S(b"A0001 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"),
        ],
    );
    assert!(
        matches!(
            auth_rejection(&ev),
            Some(crate::sasl::SaslError::OAuth { .. })
        ),
        "{ev:?}"
    );
}

#[test]
fn binary_append_uses_literal8_only_with_binary() {
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, b"* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n");
    let body = Bytes::from_static(b"a\0b");
    assert_eq!(
        c.append(
            t,
            Mailbox::new("INBOX").unwrap(),
            vec![],
            None,
            AppendBody::Bytes(body.clone())
        )
        .unwrap_err(),
        SubmitError::BinaryNotOffered
    );
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(
        t,
        b"* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ BINARY] hi\r\n",
    );
    c.append(
        t,
        Mailbox::new("INBOX").unwrap(),
        vec![],
        None,
        AppendBody::Bytes(body),
    )
    .unwrap();
    assert_eq!(
        c.poll_transmit(t).as_deref(),
        Some(&b"A0001 APPEND INBOX ~{3+}\r\na\0b\r\n"[..])
    );
}

// ---- server profiles: each behaviour of shared/quirks/server-behaviour.jsonl ----

/// Decodes a command line (tag `X`) into its body, for building commands from text.
fn body(line: &'static [u8]) -> CommandBody {
    let d = imapwire_codec::codec::AnyMessage::decode(
        &Bytes::from_static(line),
        imapwire_codec::codec::Expect::Command,
        &imapwire_codec::DecodeOptions::strict(),
    )
    .unwrap();
    let imapwire_codec::codec::AnyMessage::Command(c) = d.message else {
        panic!("not a command")
    };
    c.body().clone()
}

/// A session greeted by `greeting` (PREAUTH), with `cmd` submitted: what is sent, or the
/// refusal.
fn sent_to(
    greeting: &'static [u8],
    host: Option<&str>,
    cmd: &'static [u8],
) -> Result<Vec<u8>, SubmitError> {
    let t = Instant::now();
    let mut cfg = tls();
    if let Some(h) = host {
        cfg = cfg.with_host(h);
    }
    let mut c = Client::new(cfg, t).unwrap();
    let _ = c.handle_input(t, greeting);
    if cmd.windows(4).any(|w| w == b"FETC") {
        // Sequence-number commands need the selected state.
        c.submit(t, body(b"X SELECT INBOX\r\n")).unwrap();
        let _ = c.poll_transmit(t);
        let _ = c.handle_input(t, b"* 5 EXISTS\r\nA0001 OK\r\n");
    }
    let id = c.submit(t, body(cmd))?;
    let mut out = Vec::new();
    while let Some(b) = c.poll_transmit(t) {
        out.extend_from_slice(&b);
    }
    let refused = std::iter::from_fn(|| c.poll_event()).find_map(|e| match e {
        Event::Completed {
            id: i,
            result: Err(CommandError::Refused(r)),
        } if i == id => Some(r),
        _ => None,
    });
    match refused {
        Some(r) => Err(r),
        None => Ok(out),
    }
}

const EXCHANGE: &[u8] = b"* PREAUTH [CAPABILITY IMAP4rev1 IMAP4rev2 ID NAMESPACE] The Microsoft Exchange IMAP4 service is ready.\r\n";

#[test]
fn profile_id_nil_instead_of_empty_list() {
    let out = sent_to(EXCHANGE, None, b"X ID ()\r\n").unwrap();
    assert_eq!(out, b"A0001 ID NIL\r\n");
    // The standard profile sends the list as written.
    let out = sent_to(
        b"* PREAUTH [CAPABILITY IMAP4rev1 ID] Dovecot ready.\r\n",
        None,
        b"X ID ()\r\n",
    )
    .unwrap();
    assert_eq!(out, b"A0001 ID ()\r\n");
}

#[test]
fn profile_no_descending_ranges() {
    let g = b"* PREAUTH [CAPABILITY IMAP4rev1] IMAPrev1\r\n";
    let out = sent_to(g, None, b"X FETCH 4:2,9:7 (FLAGS)\r\n").unwrap();
    assert_eq!(out, b"A0002 FETCH 2:4,7:9 (FLAGS)\r\n");
}

#[test]
fn profile_skips_namespace_on_exchange_2003() {
    let g = b"* PREAUTH [CAPABILITY IMAP4rev1 NAMESPACE] Microsoft Exchange Server 2003 IMAP4rev1 server version 6.5.7638.1 ready.\r\n";
    assert!(matches!(
        sent_to(g, None, b"X NAMESPACE\r\n"),
        Err(SubmitError::AvoidedByProfile(_))
    ));
}

#[test]
fn profile_list_special_use_falls_back_to_plain_list() {
    let g =
        b"* PREAUTH [CAPABILITY IMAP4rev1 LIST-EXTENDED SPECIAL-USE] Proton Mail Bridge ready\r\n";
    let out = sent_to(g, None, b"X LIST (SPECIAL-USE) \"\" \"*\"\r\n").unwrap();
    assert_eq!(out, b"A0001 LIST \"\" *\r\n");
}

#[test]
fn profile_no_list_extended_on_strato() {
    let g = b"* PREAUTH [CAPABILITY IMAP4rev1 LIST-EXTENDED] IMAP ready\r\n";
    let out = sent_to(
        g,
        Some("imap.strato.de"),
        b"X LIST \"\" \"INBOX\" RETURN (SUBSCRIBED CHILDREN)\r\n",
    )
    .unwrap();
    assert_eq!(out, b"A0001 LIST \"\" INBOX\r\n");
}

#[test]
fn profile_refuses_tab_in_mailbox_names_on_exchange() {
    assert!(matches!(
        sent_to(EXCHANGE, None, b"X SELECT \"a\tb\"\r\n"),
        Err(SubmitError::AvoidedByProfile(_))
    ));
}

#[test]
fn profile_append_always_sends_a_flag_list_to_gromox() {
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(
        t,
        b"* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] gromox-imap ready\r\n",
    );
    c.append(
        t,
        Mailbox::new("INBOX").unwrap(),
        vec![],
        None,
        AppendBody::Bytes(Bytes::from_static(b"x")),
    )
    .unwrap();
    assert_eq!(
        c.poll_transmit(t).as_deref(),
        Some(&b"A0001 APPEND INBOX () {1+}\r\nx\r\n"[..])
    );
}

#[test]
fn profile_no_lsub_on_exchange_in_imap4rev2_mode() {
    assert!(matches!(
        sent_to(EXCHANGE, None, b"X LSUB \"\" \"*\"\r\n"),
        Err(SubmitError::AvoidedByProfile(_))
    ));
}

#[test]
fn profile_icloud_select_without_annotate_and_no_qresync() {
    let g = b"* PREAUTH [CAPABILITY IMAP4rev1 CONDSTORE QRESYNC ANNOTATE-EXPERIMENT-1] hi\r\n";
    let out = sent_to(
        g,
        Some("imap.mail.me.com"),
        b"X SELECT INBOX (CONDSTORE ANNOTATE)\r\n",
    )
    .unwrap();
    assert_eq!(out, b"A0001 SELECT INBOX (CONDSTORE)\r\n");
    assert!(matches!(
        sent_to(
            g,
            Some("imap.mail.me.com"),
            b"X SELECT INBOX (QRESYNC (1 2))\r\n"
        ),
        Err(SubmitError::AvoidedByProfile(_))
    ));
}

#[test]
fn profile_gmail_create_without_trailing_delimiter() {
    let ev = run(
        tls(),
        &[
            S(b"* PREAUTH [CAPABILITY IMAP4rev1 X-GM-EXT-1] Gimap ready for requests\r\n"),
            submit(|| body(b"X LIST \"\" \"\"\r\n")),
            C(b"A0001 LIST \"\" \"\"\r\n"),
            S(b"* LIST (\\Noselect) \"/\" \"\"\r\nA0001 OK\r\n"),
            submit(|| body(b"X CREATE Projects/\r\n")),
            C(b"A0002 CREATE Projects\r\n"),
            S(b"A0002 OK\r\n"),
        ],
    );
    assert_eq!(ok_ids(&ev), vec![1, 2]);
}

#[test]
fn profile_bare_star_is_opt_in_and_the_profile_can_be_overridden() {
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, EXCHANGE);
    assert!(c.profile().id_nil_instead_of_empty);
    let mut p = crate::profile::ServerProfile::standard();
    p.no_bare_star = true;
    c.set_profile(p);
    c.submit(t, body(b"X SELECT INBOX\r\n")).unwrap();
    let _ = c.poll_transmit(t);
    let _ = c.handle_input(t, b"* 5 EXISTS\r\nA0001 OK\r\n");
    c.submit(t, body(b"X FETCH * (UID)\r\n")).unwrap();
    c.submit(t, body(b"X ID ()\r\n")).unwrap();
    let mut out = Vec::new();
    while let Some(b) = c.poll_transmit(t) {
        out.extend_from_slice(&b);
    }
    // `*` became the EXISTS count; ID () is sent as written under the chosen profile.
    assert_eq!(out, b"A0002 FETCH 5 (UID)\r\nA0003 ID ()\r\n");
}

#[test]
fn a_continuation_that_never_comes_times_out() {
    let cfg = tls().with_response_timeout(Duration::from_secs(30));
    let ev = run(
        cfg,
        &[
            S(GREET_NOLIT),
            act(|c, now| {
                c.login(now, "joe", Secret::new(Bytes::from_static(b"p\xc3\xa4ss")))
                    .unwrap();
            }),
            C(b"A0001 LOGIN joe {5}\r\n"),
            Wait(Duration::from_secs(30)),
        ],
    );
    assert_eq!(completions(&ev), vec![(1, Err("TimedOut".into()))]);
    assert_eq!(closed(&ev), Some(&CloseReason::TimedOut));
}

#[test]
fn a_challenge_that_is_not_base64_cancels_the_exchange() {
    let ev = run(
        tls(),
        &[
            S(b"* OK [CAPABILITY IMAP4rev1 AUTH=SCRAM-SHA-256] hi\r\n"),
            act(|c, now| {
                c.authenticate(now, scram256()).unwrap();
            }),
            C(b"A0001 AUTHENTICATE SCRAM-SHA-256\r\n"),
            // Human text where a challenge belongs.
            S(b"+ Ready for additional command text\r\n"),
            C(b"*\r\n"),
            S(b"A0001 BAD exchange cancelled\r\n"),
            // After the exchange, `+ Okay` is human text again (no SASL context).
            submit(|| CommandBody::Noop),
            C(b"A0002 NOOP\r\n"),
            S(b"A0002 OK\r\n"),
        ],
    );
    assert!(ev.iter().any(|e| matches!(e, Event::Malformed(_))));
    assert!(
        matches!(
            auth_rejection(&ev),
            Some(crate::sasl::SaslError::Malformed { .. })
        ),
        "{ev:?}"
    );
}

#[test]
fn commands_submitted_before_the_greeting_wait_for_it() {
    let ev = run(
        tls(),
        &[
            submit(|| CommandBody::Noop),
            C(b""),
            S(b"* OK [CAPABILITY IMAP4rev1] hi\r\n"),
            C(b"A0001 NOOP\r\n"),
            S(b"A0001 OK\r\n"),
        ],
    );
    assert_eq!(ok_ids(&ev), vec![1]);
}

#[test]
fn large_bodies_arrive_as_chunks_with_their_fetch_context() {
    let cfg = tls().with_stream_bodies_over(Some(16));
    let steps = [
        S(b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n"),
        submit(|| body(b"X SELECT INBOX\r\n")),
        C(b"A0001 SELECT INBOX\r\n"),
        S(b"* 2 EXISTS\r\nA0001 OK\r\n"),
        submit(|| body(b"X FETCH 2 (UID BODY.PEEK[])\r\n")),
        C(b"A0002 FETCH 2 (UID BODY.PEEK[])\r\n"),
        S(b"* 2 FETCH (UID 9 BODY[] {35}\r\nSubject: streamed\r\n\r\nbody of mail\r\n FLAGS (\\Seen))\r\n* 1 FETCH (BODY[] {5}\r\nsmall)\r\nA0002 OK\r\n"),
    ];
    // `run` compares `handle_input_lent` with the general path; here the lane must be taken
    // (one byte per read: the begin event is taken before the body's first byte is read, so
    // every byte of the body is lent; read whole, the body comes with its FETCH line and
    // nothing is lent).
    assert_eq!(run_with(&cfg, &steps, Feed::LentBytewise).lent, 35);
    assert_eq!(run_with(&cfg, &steps, Feed::LentWhole).lent, 0);
    // the room lane's lent form the same
    assert_eq!(run_with(&cfg, &steps, Feed::RoomLentBytewise).lent, 35);
    let ev = run(cfg, &steps);
    let i = ev
        .iter()
        .position(|e| matches!(e, Event::BodyBegin(_)))
        .expect("begin");
    let Event::BodyBegin(b) = &ev[i] else {
        unreachable!()
    };
    let f = b.fetch().expect("FETCH context");
    assert_eq!(f.seq.map(|s| s.get()), Some(2));
    assert_eq!(f.uid.map(|u| u.get()), Some(9));
    assert_eq!(b.announcement.length, 35);
    // (the begin event's data moved into the chunk by `coalesce_chunks`)
    assert_eq!(
        ev[i + 1],
        Event::BodyChunk(Bytes::from_static(
            b"Subject: streamed\r\n\r\nbody of mail\r\n"
        ))
    );
    assert_eq!(ev[i + 2], Event::BodyEnd);
    // Then the response itself, FLAGS included; the small body stays inline.
    assert!(matches!(&ev[i + 3], Event::Data(Data::Fetch { seq, .. }) if seq.get() == 2));
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, Event::BodyBegin(_)))
            .count(),
        1
    );
    assert_eq!(ok_ids(&ev), vec![1, 2]);
}

#[test]
fn a_huge_body_needs_bounded_memory() {
    let t = Instant::now();
    let mut c = Client::new(tls().with_stream_bodies_over(Some(64 * 1024)), t).unwrap();
    let _ = c.handle_input(t, b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    let len: u64 = 64 << 20;
    let head = format!("* 1 FETCH (UID 3 BODY[] {{{len}}}\r\n");
    let _ = c.handle_input(t, head.as_bytes());
    let piece = vec![b'x'; 16 * 1024];
    let mut got = 0u64;
    let mut peak = 0usize;
    let mut sent = 0u64;
    let mut ended = false;
    while sent < len {
        let used = c.handle_input(t, &piece);
        assert_eq!(used, piece.len());
        sent += piece.len() as u64;
        peak = peak.max(c.rx.buffered());
        while let Some(e) = c.poll_event() {
            match e {
                // the head came alone: the begin event carries no data
                Event::BodyBegin(b) => assert_eq!((b.data.len() as u64, b.remaining()), (0, len)),
                Event::BodyChunk(b) => got += b.len() as u64,
                Event::BodyEnd => ended = true,
                _ => {}
            }
        }
    }
    let _ = c.handle_input(t, b")\r\n");
    let ev: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(got, len);
    assert!(ended);
    assert!(
        matches!(&ev[..], [Event::Data(Data::Fetch { .. })]),
        "{ev:?}"
    );
    assert!(peak <= 64 * 1024, "buffered up to {peak} bytes");
}

// ---- issue 11 audit: one test per bullet that had none ----

#[test]
fn bye_greeting_closes_and_completes_early_commands_as_lost() {
    let ev = run(
        tls(),
        &[
            submit(|| CommandBody::Noop),
            C(b""),
            S(b"* BYE [UNAVAILABLE] too busy\r\n"),
        ],
    );
    assert!(matches!(
        ev.first(),
        Some(Event::Greeting {
            kind: GreetingKind::Bye,
            ..
        })
    ));
    assert_eq!(
        completions(&ev),
        vec![(1, Err("ConnectionLost".to_owned()))]
    );
    match closed(&ev) {
        Some(CloseReason::Rejected(t)) => {
            assert_eq!(t.code(), Some(&ResponseCode::Unavailable));
            assert_eq!(t.text().as_bytes(), b"too busy");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn preauth_greeting_starts_authenticated() {
    let ev = run(
        tls(),
        &[
            S(b"* PREAUTH [CAPABILITY IMAP4rev1] welcome back\r\n"),
            act(|c, now| {
                assert_eq!(c.state(), State::Authenticated);
                // Already authenticated: LOGIN is refused at once.
                assert!(matches!(
                    c.login(now, "joe", Secret::new(Bytes::from_static(b"pw"))),
                    Err(SubmitError::InvalidState { .. })
                ));
            }),
            select_inbox(),
            C(b"A0001 SELECT INBOX\r\n"),
            S(b"A0001 OK [READ-WRITE] done\r\n"),
            act(|c, _| assert_eq!(c.state(), State::Selected)),
        ],
    );
    assert_eq!(ok_ids(&ev), vec![1]);
}

#[test]
fn bye_is_reported_with_text_and_code_then_eof_closes() {
    let ev = run(
        tls(),
        &[
            S(GREET),
            submit(|| CommandBody::Noop),
            C(b"A0001 NOOP\r\n"),
            S(b"* BYE [ALERT] shutting down\r\n"),
            Eof,
        ],
    );
    let bye = ev
        .iter()
        .find_map(|e| match e {
            Event::Bye(t) => Some(t.clone()),
            _ => None,
        })
        .expect("BYE event");
    assert_eq!(bye.code(), Some(&ResponseCode::Alert));
    assert_eq!(bye.text().as_bytes(), b"shutting down");
    // The NOOP in flight is lost, never a success; the close names the BYE.
    assert_eq!(
        completions(&ev),
        vec![(1, Err("ConnectionLost".to_owned()))]
    );
    assert_eq!(
        closed(&ev),
        Some(&CloseReason::PeerClosed { bye: Some(bye) })
    );
}

#[test]
fn unknown_responses_arrive_with_their_raw_bytes() {
    let ev = run(
        tls(),
        &[
            S(GREET),
            S(b"* XSTRANGE 1 2 (3)\r\n* 4 XNUMBERED thing\r\n"),
        ],
    );
    let unknown: Vec<(Option<u32>, &[u8], &[u8])> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Data(Data::Unknown(u)) => Some((u.number(), u.name().as_bytes(), &u.raw()[..])),
            _ => None,
        })
        .collect();
    assert_eq!(
        unknown,
        [
            (None, &b"XSTRANGE"[..], &b"1 2 (3)"[..]),
            (Some(4), &b"XNUMBERED"[..], &b"thing"[..])
        ],
        "{ev:?}"
    );
}

#[test]
fn unpredictable_tags_are_used_and_matched() {
    let t = Instant::now();
    let cfg = tls().with_tags(TagStyle::Unpredictable(10));
    let mut c = Client::new(cfg, t).unwrap();
    let _ = c.handle_input(t, b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    let ids = [
        c.submit(t, CommandBody::Noop).unwrap(),
        c.submit(t, CommandBody::Noop).unwrap(),
        c.submit(t, CommandBody::Noop).unwrap(),
    ];
    let mut wire = Vec::new();
    while let Some(b) = c.poll_transmit(t) {
        wire.extend_from_slice(&b);
    }
    let tags: Vec<String> = wire
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let l = std::str::from_utf8(l).unwrap();
            assert!(l.ends_with(" NOOP\r"), "{l:?}");
            l.split(' ').next().unwrap().to_owned()
        })
        .collect();
    assert_eq!(tags.len(), 3);
    for tag in &tags {
        assert_eq!(tag.len(), 10);
        assert!(tag.bytes().all(|b| b.is_ascii_alphanumeric()), "{tag}");
        assert!(!tag.starts_with("A000"), "{tag}");
    }
    assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2]);
    // Answered out of order, each completes its own command.
    let answer = format!(
        "{} OK\r\n{} NO busy\r\n{} OK\r\n",
        tags[2], tags[0], tags[1]
    );
    let _ = c.handle_input(t, answer.as_bytes());
    let mut done = Vec::new();
    while let Some(e) = c.poll_event() {
        if let Event::Completed { id, result } = e {
            done.push((id, result.is_ok()));
        }
    }
    assert_eq!(done, [(ids[2], true), (ids[0], false), (ids[1], true)]);
}

#[test]
fn literal_minus_is_used_for_literals_up_to_4096_octets_only() {
    let big: &'static [u8] = Box::leak(vec![b'x'; 4097].into_boxed_slice());
    let small: &'static [u8] = Box::leak(vec![b'y'; 4096].into_boxed_slice());
    let append = |body: &'static [u8]| {
        act(move |c, now| {
            c.append(
                now,
                Mailbox::new("INBOX").unwrap(),
                Vec::new(),
                None,
                AppendBody::Bytes(Bytes::from_static(body)),
            )
            .unwrap();
        })
    };
    let mut small_cmd = b"A0001 APPEND INBOX {4096+}\r\n".to_vec();
    small_cmd.extend_from_slice(small);
    small_cmd.extend_from_slice(b"\r\n");
    let mut big_data = big.to_vec();
    big_data.extend_from_slice(b"\r\n");
    let ev = run(
        tls(),
        &[
            S(b"* PREAUTH [CAPABILITY IMAP4rev1 LITERAL-] hi\r\n"),
            append(small),
            C(Box::leak(small_cmd.into_boxed_slice())),
            S(b"A0001 OK done\r\n"),
            append(big),
            C(b"A0002 APPEND INBOX {4097}\r\n"),
            S(b"+ go\r\n"),
            C(Box::leak(big_data.into_boxed_slice())),
            S(b"A0002 OK done\r\n"),
        ],
    );
    assert_eq!(ok_ids(&ev), vec![1, 2]);
}

#[test]
fn scram_sha1_rfc5802_exchange_without_sasl_ir() {
    const FIRST: &str = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
    const FINAL_C: &str =
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
    const FINAL_S: &str = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";
    let ev = run(
        tls(),
        &[
            S(b"* OK [CAPABILITY IMAP4rev1 AUTH=SCRAM-SHA-1] hi\r\n"),
            act(|c, now| {
                use crate::sasl::scram::{ScramClient, ScramHash};
                let m = ScramClient::new(ScramHash::Sha1, "user", &Secret::new("pencil".into()))
                    .unwrap()
                    .with_nonce_source(Box::new(|| Ok("fyko+d2lbbFgONRv9qkxdawL".to_owned())));
                c.authenticate(now, Box::new(m)).unwrap();
            }),
            C(b"A0001 AUTHENTICATE SCRAM-SHA-1\r\n"),
            S(b"+ \r\n"),
            C(line(format!(
                "{}\r\n",
                b64(b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")
            ))),
            S(line(format!("+ {}\r\n", b64(FIRST.as_bytes())))),
            C(line(format!("{}\r\n", b64(FINAL_C.as_bytes())))),
            // RFC 9051 §6.2.2: the server's final message may come with the tagged OK.
            S(line(format!(
                "A0001 OK [{}] done\r\n",
                "CAPABILITY IMAP4rev1"
            ))),
        ],
    );
    // Without the server's `v=` the server is not authenticated: a failure even on OK.
    assert!(completions(&ev)[0].1.is_err(), "{ev:?}");
    let ev = run(
        tls(),
        &[
            S(b"* OK [CAPABILITY IMAP4rev1 AUTH=SCRAM-SHA-1] hi\r\n"),
            act(|c, now| {
                use crate::sasl::scram::{ScramClient, ScramHash};
                let m = ScramClient::new(ScramHash::Sha1, "user", &Secret::new("pencil".into()))
                    .unwrap()
                    .with_nonce_source(Box::new(|| Ok("fyko+d2lbbFgONRv9qkxdawL".to_owned())));
                c.authenticate(now, Box::new(m)).unwrap();
            }),
            C(b"A0001 AUTHENTICATE SCRAM-SHA-1\r\n"),
            S(b"+ \r\n"),
            C(line(format!(
                "{}\r\n",
                b64(b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")
            ))),
            S(line(format!("+ {}\r\n", b64(FIRST.as_bytes())))),
            C(line(format!("{}\r\n", b64(FINAL_C.as_bytes())))),
            S(line(format!("+ {}\r\n", b64(FINAL_S.as_bytes())))),
            C(b"\r\n"),
            S(b"A0001 OK [CAPABILITY IMAP4rev1] done\r\n"),
        ],
    );
    assert_eq!(ok_ids(&ev), vec![1]);
}

#[test]
fn cram_md5_rfc2195_only_when_asked_for() {
    let ev = run(
        tls(),
        &[
            S(b"* OK [CAPABILITY IMAP4rev1 AUTH=CRAM-MD5] hi\r\n"),
            act(|c, now| {
                // Never chosen automatically...
                let creds = crate::sasl::Credentials::password(
                    "tim",
                    Secret::new("tanstaaftanstaaf".to_owned()),
                );
                assert_eq!(
                    c.authenticate_auto(now, &creds),
                    Err(SubmitError::NoMechanism)
                );
                // ...but used when asked for.
                let m = crate::sasl::new_client(crate::sasl::Mechanism::CramMd5, &creds).unwrap();
                c.authenticate(now, m).unwrap();
            }),
            C(b"A0001 AUTHENTICATE CRAM-MD5\r\n"),
            S(line(format!(
                "+ {}\r\n",
                b64(b"<1896.697170952@postoffice.reston.mci.net>")
            ))),
            C(line(format!(
                "{}\r\n",
                b64(b"tim b913a602c7eda7a495b4e6e7334d3890")
            ))),
            S(b"A0001 OK [CAPABILITY IMAP4rev1] done\r\n"),
        ],
    );
    assert_eq!(ok_ids(&ev), vec![1]);
}

#[test]
fn scram_sha256_plus_sends_the_callers_channel_binding() {
    use crate::sasl::scram::{
        ChannelBinding, ChannelBindingType, ScramClient, ScramHash, ScramServer, StoredKeys,
    };
    let t = Instant::now();
    let binding = ChannelBinding {
        kind: ChannelBindingType::TlsExporter,
        data: Bytes::from_static(&[7u8; 32]),
    };
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(
        t,
        b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256-PLUS] hi\r\n",
    );
    let m = ScramClient::new(ScramHash::Sha256, "user", &Secret::new("pencil".into()))
        .unwrap()
        .with_channel_binding(binding.clone());
    let id = c.authenticate(t, Box::new(m)).unwrap();
    // The server side of the crate, with the same channel data, checks the exchange.
    let mut server = ScramServer::new_plus(ScramHash::Sha256, binding);
    let keys = StoredKeys::derive(
        ScramHash::Sha256,
        &Secret::new("pencil".to_owned()),
        b"salt-salt",
        4096,
    )
    .unwrap();
    let line = c.poll_transmit(t).unwrap();
    let line = std::str::from_utf8(&line).unwrap();
    let ir = line
        .strip_prefix("A0001 AUTHENTICATE SCRAM-SHA-256-PLUS ")
        .unwrap()
        .trim_end();
    use base64::Engine as _;
    let d = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).unwrap();
    let first = d(ir);
    assert!(first.starts_with(b"p=tls-exporter,,n=user,r="), "{first:?}");
    server.client_first(&first).unwrap();
    let sf = server.server_first(keys).unwrap();
    let _ = c.handle_input(t, format!("+ {}\r\n", b64(&sf)).as_bytes());
    let cf = c.poll_transmit(t).unwrap();
    let sfin = server
        .client_final(&d(std::str::from_utf8(&cf).unwrap().trim_end()))
        .unwrap();
    let _ = c.handle_input(t, format!("+ {}\r\n", b64(&sfin)).as_bytes());
    assert_eq!(c.poll_transmit(t).as_deref(), Some(&b"\r\n"[..]));
    let _ = c.handle_input(t, b"A0001 OK [CAPABILITY IMAP4rev1] in\r\n");
    let mut ok = false;
    while let Some(e) = c.poll_event() {
        if let Event::Completed { id: i, result } = e {
            assert_eq!(i, id);
            ok = result.is_ok();
        }
    }
    assert!(ok);
}

/// The greeting of a Cyrus 3.6 (Debian 12), whose SCRAM -PLUS verifies only tls-unique.
const CYRUS_36_GREETING: &[u8] = b"* OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE AUTH=PLAIN \
AUTH=SCRAM-SHA-1-PLUS AUTH=SCRAM-SHA-1 AUTH=SCRAM-SHA-256-PLUS AUTH=SCRAM-SHA-256 SASL-IR] \
localhost Cyrus IMAP 3.6.1-Debian-3.6.1-4+deb12u5 server ready\r\n";

/// A password with a tls-exporter channel binding, as a TLS 1.3 adapter supplies it.
fn exporter_creds() -> crate::sasl::Credentials {
    use crate::sasl::scram::{ChannelBinding, ChannelBindingType};
    let mut creds = crate::sasl::Credentials::password("user", Secret::new("pencil".into()));
    creds.channel_binding = Some(ChannelBinding {
        kind: ChannelBindingType::TlsExporter,
        data: Bytes::from_static(&[7u8; 32]),
    });
    creds
}

/// The first line `authenticate_auto` sends after `greeting`, with TLS and a tls-exporter
/// binding in the credentials (decoded initial response after the mechanism name).
fn auto_first_line(greeting: &[u8], profile: Option<crate::profile::ServerProfile>) -> String {
    use base64::Engine as _;
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, greeting);
    if let Some(p) = profile {
        c.set_profile(p);
    }
    c.authenticate_auto(t, &exporter_creds()).unwrap();
    let line = c.poll_transmit(t).unwrap();
    let line = std::str::from_utf8(&line).unwrap().trim_end().to_owned();
    let (mech, ir) = line
        .strip_prefix("A0001 AUTHENTICATE ")
        .and_then(|r| r.split_once(' '))
        .unwrap();
    let ir = base64::engine::general_purpose::STANDARD
        .decode(ir)
        .unwrap();
    format!("{mech} {}", String::from_utf8(ir).unwrap())
}

/// Cyrus 3.6 offers SCRAM-SHA-256-PLUS but verifies only tls-unique (absent on TLS 1.3): with a
/// tls-exporter binding, auto takes SCRAM-SHA-256 with GS2 flag `n` (not `y`, which Cyrus
/// rejects as a downgrade since it advertised -PLUS). Another server keeps -PLUS, and so does
/// Cyrus when the caller overrides the profile.
#[test]
fn auto_skips_plus_when_the_profile_cannot_verify_the_binding() {
    let line = auto_first_line(CYRUS_36_GREETING, None);
    assert!(line.starts_with("SCRAM-SHA-256 n,,n=user,r="), "{line}");
    let dovecot = b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=SCRAM-SHA-256-PLUS \
AUTH=SCRAM-SHA-256] Dovecot ready.\r\n";
    let line = auto_first_line(dovecot, None);
    assert!(
        line.starts_with("SCRAM-SHA-256-PLUS p=tls-exporter,,n=user,r="),
        "{line}"
    );
    let line = auto_first_line(
        CYRUS_36_GREETING,
        Some(crate::profile::ServerProfile::standard()),
    );
    assert!(
        line.starts_with("SCRAM-SHA-256-PLUS p=tls-exporter,,n=user,r="),
        "{line}"
    );
    // The transport the adapters ask for.
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, CYRUS_36_GREETING);
    let b = |kind| crate::sasl::scram::ChannelBinding {
        kind,
        data: Bytes::from_static(&[1u8; 12]),
    };
    use crate::sasl::Transport;
    use crate::sasl::scram::ChannelBindingType as K;
    assert_eq!(c.sasl_transport(Some(&b(K::TlsExporter))), Transport::Tls);
    assert_eq!(
        c.sasl_transport(Some(&b(K::TlsServerEndPoint))),
        Transport::Tls
    );
    assert_eq!(
        c.sasl_transport(Some(&b(K::TlsUnique))),
        Transport::TlsWithChannelBinding
    );
    assert_eq!(c.sasl_transport(None), Transport::Tls);
}

/// A server that offers no -PLUS (Dovecot 2.3) while the caller has binding data: auto takes
/// plain SCRAM with the GS2 flag `y` (RFC 5802 §6: a client that supports channel binding and
/// did not see -PLUS must not send `n`). The exchange completes against this crate's server
/// when it does not support binding, and the server that does (it advertised -PLUS, which an
/// attacker stripped from what the client saw) fails it as a downgrade.
#[test]
fn auto_sends_y_when_no_plus_is_offered_and_binding_data_exists() {
    use crate::sasl::scram::{ScramHash, ScramServer};
    let greeting = b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=SCRAM-SHA-1 \
AUTH=SCRAM-SHA-256] Dovecot (Debian) ready.\r\n";
    let line = auto_first_line(greeting, None);
    let first = line.strip_prefix("SCRAM-SHA-256 ").unwrap();
    assert!(first.starts_with("y,,n=user,r="), "{line}");
    let mut unbound = ScramServer::new(ScramHash::Sha256);
    unbound.client_first(first.as_bytes()).unwrap();
    let mut bound = ScramServer::new(ScramHash::Sha256).with_plus_advertised(true);
    assert!(matches!(
        bound.client_first(first.as_bytes()),
        Err(crate::sasl::SaslError::ChannelBinding(_))
    ));
}

/// An explicitly requested -PLUS mechanism is still sent to Cyrus: the profile only steers
/// the automatic choice.
#[test]
fn explicit_plus_is_still_attempted_with_cyrus() {
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, CYRUS_36_GREETING);
    assert_eq!(c.profile().server, Some(crate::profile::ServerKind::Cyrus));
    let m = crate::sasl::new_client(crate::sasl::Mechanism::ScramSha256Plus, &exporter_creds())
        .unwrap();
    c.authenticate(t, m).unwrap();
    let line = c.poll_transmit(t).unwrap();
    assert!(line.starts_with(b"A0001 AUTHENTICATE SCRAM-SHA-256-PLUS "));
}

#[test]
fn too_many_commands_is_a_typed_error_and_in_flight_is_capped() {
    let t = Instant::now();
    let cfg = tls()
        .with_max_commands(3)
        .with_pipeline(crate::pipeline::PipelineRules {
            max_in_flight: 2,
            ..Default::default()
        });
    let mut c = Client::new(cfg, t).unwrap();
    let _ = c.handle_input(t, b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    for _ in 0..3 {
        c.submit(t, CommandBody::Noop).unwrap();
    }
    assert_eq!(
        c.submit(t, CommandBody::Noop),
        Err(SubmitError::TooManyCommands)
    );
    // Two in flight at most: the third waits for a completion.
    let mut wire = Vec::new();
    while let Some(b) = c.poll_transmit(t) {
        wire.extend_from_slice(&b);
    }
    assert_eq!(wire, b"A0001 NOOP\r\nA0002 NOOP\r\n");
    let _ = c.handle_input(t, b"A0001 OK\r\n");
    assert_eq!(c.poll_transmit(t).as_deref(), Some(&b"A0003 NOOP\r\n"[..]));
    c.submit(t, CommandBody::Noop).unwrap();
}

#[test]
fn keepalive_noop_after_silence_on_a_virtual_clock() {
    let cfg = tls()
        .with_keepalive(Some(Duration::from_secs(300)))
        .with_response_timeout(Duration::from_secs(60));
    let ev = run(
        cfg,
        &[
            S(b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n"),
            Wait(Duration::from_secs(299)),
            C(b""),
            Wait(Duration::from_secs(1)),
            // The session's own NOOP: not reported as a completion.
            C(b"A0001 NOOP\r\n"),
            S(b"A0001 OK\r\n"),
            Wait(Duration::from_secs(300)),
            C(b"A0002 NOOP\r\n"),
            // No answer: the connection is dead after the response timeout.
            Wait(Duration::from_secs(59)),
            act(|c, _| assert!(!c.is_closed())),
            Wait(Duration::from_secs(1)),
        ],
    );
    assert!(completions(&ev).is_empty());
    assert_eq!(closed(&ev), Some(&CloseReason::TimedOut));
}

#[test]
fn nothing_is_sent_past_idle_logout_authenticate_or_compress_until_they_complete() {
    let ev = run(
        tls(),
        &[
            S(b"* PREAUTH [CAPABILITY IMAP4rev1 IDLE COMPRESS=DEFLATE] hi\r\n"),
            act(|c, now| {
                c.idle(now).unwrap();
                c.submit(now, CommandBody::Noop).unwrap();
            }),
            C(b"A0001 IDLE\r\n"),
            S(b"+ idling\r\n"),
            act(|c, now| c.idle_done(now, CommandId(1)).unwrap()),
            C(b"DONE\r\n"),
            S(b"A0001 OK\r\n"),
            C(b"A0002 NOOP\r\n"),
            S(b"A0002 OK\r\n"),
            act(|c, now| {
                c.logout(now).unwrap();
                // Submitted after LOGOUT: refused at once (the state it leaves is Logout).
                assert!(c.submit(now, CommandBody::Noop).is_err());
            }),
            C(b"A0003 LOGOUT\r\n"),
            S(b"* BYE\r\nA0003 OK\r\n"),
        ],
    );
    assert_eq!(ok_ids(&ev), vec![1, 2, 3]);
    // AUTHENTICATE and COMPRESS hold back what follows.
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(
        t,
        b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN COMPRESS=DEFLATE] hi\r\n",
    );
    let creds = crate::sasl::Credentials::password("u", Secret::new("p".to_owned()));
    c.authenticate_auto(t, &creds).unwrap();
    c.compress(t).unwrap();
    assert_eq!(
        c.poll_transmit(t).as_deref(),
        Some(&b"A0001 AUTHENTICATE PLAIN\r\n"[..])
    );
    assert_eq!(c.poll_transmit(t), None);
    let _ = c.handle_input(t, b"+ \r\n");
    assert!(c.poll_transmit(t).is_some());
    assert_eq!(c.poll_transmit(t), None);
    let _ = c.handle_input(
        t,
        b"A0001 OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] in\r\n",
    );
    assert_eq!(
        c.poll_transmit(t).as_deref(),
        Some(&b"A0002 COMPRESS DEFLATE\r\n"[..])
    );
    c.submit(t, CommandBody::Noop).unwrap();
    assert_eq!(
        c.poll_transmit(t),
        None,
        "nothing after COMPRESS until its OK"
    );
}

#[test]
fn debug_output_never_shows_the_password() {
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, GREET);
    c.login(t, "joe", Secret::new(Bytes::from_static(b"Sw0rdf1sh-x")))
        .unwrap();
    assert!(!format!("{c:?}").contains("Sw0rdf1sh"), "before sending");
    let sent = c.poll_transmit(t).unwrap();
    assert!(sent.windows(9).any(|w| w == b"Sw0rdf1sh"));
    assert!(!format!("{c:?}").contains("Sw0rdf1sh"), "while in flight");
}

#[test]
fn debug_output_never_shows_a_password_waiting_in_a_literal() {
    let t = Instant::now();
    let mut c = Client::new(tls(), t).unwrap();
    let _ = c.handle_input(t, GREET_NOLIT);
    // 8-bit: sent as a synchronizing literal, which waits for `+` in the session.
    c.login(
        t,
        "joe",
        Secret::new(Bytes::from_static(b"Sw0rdf1sh\xc3\xa4")),
    )
    .unwrap();
    assert_eq!(
        c.poll_transmit(t).as_deref(),
        Some(&b"A0001 LOGIN joe {11}\r\n"[..])
    );
    assert!(!format!("{c:?}").contains("Sw0rdf1sh"), "{c:?}");
}

#[test]
fn an_oversized_line_is_a_typed_error_and_the_session_goes_on() {
    let cfg = tls().with_limits(imapwire_codec::Limits::default().with_max_line(72));
    let ev = run(
        cfg,
        &[
            S(GREET),
            submit(|| CommandBody::Noop),
            C(b"A0001 NOOP\r\n"),
            S(b"* OK this line is far longer than the seventy-two octets the client allows\r\n"),
            S(b"A0001 OK done\r\n"),
        ],
    );
    assert!(
        ev.iter().any(|e| matches!(
            e,
            Event::Malformed(Malformed {
                error: StreamError::Frame(imapwire_codec::error::FrameError::LimitExceeded {
                    kind: imapwire_codec::error::LimitKind::Line,
                    limit: 72,
                    ..
                })
            })
        )),
        "{ev:?}"
    );
    assert_eq!(ok_ids(&ev), vec![1]);
}

#[test]
fn an_undecodable_message_is_reported_with_its_bytes_but_not_in_debug() {
    let ev = run(
        tls(),
        &[S(GREET), S(b"* 1 FETCH (BODY[] \"Secret-Body-Text\" (\r\n")],
    );
    let m = ev
        .iter()
        .find_map(|e| match e {
            Event::Malformed(m) => Some(m),
            _ => None,
        })
        .expect("malformed event");
    assert_eq!(
        m.raw().map(|b| &b[..]),
        Some(&b"* 1 FETCH (BODY[] \"Secret-Body-Text\" (\r\n"[..])
    );
    assert!(!format!("{m:?}").contains("Secret-Body-Text"), "{m:?}");
}

// ---- COMPRESS: input inflated in bounded pieces ----

use sha2::{Digest as _, Sha256};

/// What the client holds of received data: its receiver's buffer and the body chunks queued
/// as events. (Besides: the inflater's piece buffer, `INFLATE_PIECE` bytes, and its 32 KiB
/// window, both fixed.)
fn held(c: &Client) -> usize {
    let chunks: usize = c
        .events
        .q
        .iter()
        .map(|e| match e {
            Queued::Ev(Event::BodyChunk(b)) => b.len(),
            Queued::Ev(Event::BodyBegin(b)) => b.data.len(),
            _ => 0,
        })
        .sum();
    c.rx.buffered() + chunks
}

/// What one run delivered: the body's SHA-256, length and chunk count, the commands
/// completed with OK, and the most the client held at any time.
#[derive(Debug, PartialEq)]
struct Delivered {
    sha256: Vec<u8>,
    len: usize,
    chunks: usize,
    ended: bool,
    ok: Vec<u64>,
    peak: usize,
}

/// A client past `SELECT` (A0001), and with COMPRESS (A0002) in effect when `compressed`;
/// then a NOOP is in flight, which the server answers after a `* 1 FETCH` with `body`.
/// The server's bytes come in ONE read (`wire`), offered again as the calling contract
/// says (the rest after draining `poll_event`). The client's holdings are measured after
/// every call, where they peak (they only grow during a call).
fn fetch_body_under(cfg: ClientConfig, compressed: bool, body: &[u8]) -> (Delivered, usize) {
    let t = Instant::now();
    let mut c = Client::new(cfg, t).unwrap();
    let _ = c.handle_input(
        t,
        b"* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n",
    );
    c.submit(
        t,
        CommandBody::Select {
            mailbox: Mailbox::new("INBOX").unwrap(),
            params: Default::default(),
        },
    )
    .unwrap();
    while c.poll_transmit(t).is_some() {}
    let _ = c.handle_input(t, b"* 1 EXISTS\r\nA0001 OK [READ-WRITE] done\r\n");
    let mut server = None;
    if compressed {
        c.compress(t).unwrap();
        while c.poll_transmit(t).is_some() {}
        let _ = c.handle_input(t, b"A0002 OK deflating\r\n");
        assert!(c.is_compressed());
        server = Some(Deflate::new());
    }
    while c.poll_event().is_some() {}
    c.submit(t, CommandBody::Noop).unwrap();
    while c.poll_transmit(t).is_some() {}
    let tag = if compressed { "A0003" } else { "A0002" };
    let mut plain = format!("* 1 FETCH (UID 7 BODY[] {{{}}}\r\n", body.len()).into_bytes();
    plain.extend_from_slice(body);
    plain.extend_from_slice(format!(")\r\n{tag} OK done\r\n").as_bytes());
    let wire = match server.as_mut() {
        Some(z) => z.compress(&plain).unwrap(),
        None => plain,
    };
    let mut d = Delivered {
        sha256: Vec::new(),
        len: 0,
        chunks: 0,
        ended: false,
        ok: Vec::new(),
        peak: 0,
    };
    let mut hash = Sha256::new();
    // the body's bytes still to come, from its begin event on
    let mut left = None;
    let mut rest = &wire[..];
    let mut calls = 0;
    loop {
        calls += 1;
        assert!(calls < 100_000, "no progress");
        let n = c.handle_input(t, rest);
        rest = &rest[n..];
        d.peak = d.peak.max(held(&c));
        while let Some(e) = c.poll_event() {
            d.peak = d.peak.max(held(&c));
            let piece = match e {
                Event::BodyBegin(b) => {
                    left = Some(b.announcement.length);
                    // its first piece, when one came with it, counts as a chunk
                    d.chunks += usize::from(!b.data.is_empty());
                    b.data
                }
                Event::BodyChunk(b) => {
                    d.chunks += 1;
                    b
                }
                Event::BodyEnd => {
                    // after exactly the announced length
                    assert_eq!(left, Some(0));
                    d.ended = true;
                    continue;
                }
                Event::Completed { id, result: Ok(_) } => {
                    d.ok.push(id.get());
                    continue;
                }
                _ => continue,
            };
            hash.update(&piece);
            d.len += piece.len();
            if let Some(l) = &mut left {
                *l -= piece.len() as u64;
            }
        }
        if rest.is_empty() {
            break;
        }
    }
    d.sha256 = hash.finalize().to_vec();
    (d, wire.len())
}

/// Threshold + inflate window + one inflate piece: what the client may hold under COMPRESS.
const THRESHOLD: usize = 64 * 1024;
const WINDOW: usize = 64 * 1024;
const BOUND: usize = THRESHOLD + WINDOW + crate::compress::INFLATE_PIECE;

fn compress_cfg() -> ClientConfig {
    tls()
        .with_stream_bodies_over(Some(THRESHOLD as u64))
        .with_inflate_window(WINDOW)
}

/// 8 MiB of mail-like text that DEFLATE shrinks a great deal.
fn compressible_body(len: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(len + 64);
    let mut i = 0u32;
    while b.len() < len {
        b.extend_from_slice(
            format!(
                "Line {:05} of a long report, repeated with small changes.\r\n",
                i / 64
            )
            .as_bytes(),
        );
        i += 1;
    }
    b.truncate(len);
    b
}

#[test]
fn compressed_fetch_body_is_streamed_in_bounded_pieces() {
    assert_eq!(BOUND, 147_456);
    let body = compressible_body(8 << 20);
    let (z, wire) = fetch_body_under(compress_cfg(), true, &body);
    let (p, _) = fetch_body_under(compress_cfg(), false, &body);
    // One compressed read of a few hundred kB carries all 8 MiB.
    assert!(wire < body.len() / 20, "compressed to {wire} bytes");
    assert_eq!(z.len, body.len());
    assert_eq!(z.sha256, p.sha256, "the same bytes as without COMPRESS");
    assert!(z.ended && p.ended);
    assert_eq!(z.ok, vec![3]);
    assert_eq!(p.ok, vec![2]);
    // Streamed: many chunks, none above one piece.
    assert!(
        z.chunks >= body.len() / crate::compress::INFLATE_PIECE,
        "{z:?}"
    );
    assert!(z.peak <= BOUND, "held {} > {BOUND}", z.peak);
    println!(
        "8 MiB body in a {wire}-byte read: {} chunks, held at most {} bytes (bound {BOUND})",
        z.chunks, z.peak
    );
}

#[test]
fn compressed_bomb_never_makes_the_client_hold_more_than_the_bound() {
    // 32 MiB of one byte: a few tens of kB on the wire (DEFLATE's ratio is about 1032:1).
    let body = vec![b'a'; 32 << 20];
    let (z, wire) = fetch_body_under(compress_cfg(), true, &body);
    assert!(wire < 64 * 1024, "compressed to {wire} bytes");
    assert_eq!(z.sha256, Sha256::digest(&body).to_vec());
    assert_eq!((z.len, z.ended, z.ok.clone()), (body.len(), true, vec![3]));
    assert!(z.peak <= BOUND, "held {} > {BOUND}", z.peak);
    println!(
        "32 MiB bomb in a {wire}-byte read: {} chunks, held at most {} bytes (bound {BOUND})",
        z.chunks, z.peak
    );
    // Untagged responses without literals: the event queue's count bounds them, and what the
    // receiver holds stays within a window and a piece.
    let t = Instant::now();
    let mut c = Client::new(compress_cfg().with_max_events(256), t).unwrap();
    let _ = c.handle_input(
        t,
        b"* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n",
    );
    c.compress(t).unwrap();
    while c.poll_transmit(t).is_some() {}
    let _ = c.handle_input(t, b"A0001 OK deflating\r\n");
    let mut lines = b"* 1 RECENT\r\n".repeat(1 << 20);
    lines.extend_from_slice(b"* 2 RECENT\r\n");
    let wire = Deflate::new().compress(&lines).unwrap();
    let (mut rest, mut seen, mut peak) = (&wire[..], 0usize, 0usize);
    loop {
        let n = c.handle_input(t, rest);
        rest = &rest[n..];
        peak = peak.max(c.rx.buffered());
        assert!(c.queued_events() <= 256);
        while c.poll_event().is_some() {
            seen += 1;
            peak = peak.max(c.rx.buffered());
        }
        if rest.is_empty() {
            break;
        }
    }
    assert!(seen > 1 << 20, "{seen} events");
    assert!(
        peak <= WINDOW + crate::compress::INFLATE_PIECE,
        "buffered {peak}"
    );
}

/// `peek_data` lends the untagged data at the head of the queue in place (a change made
/// through it is what `poll_event` then returns) and nothing else; `skip_event` drops the
/// head. Draining with them gives the events `poll_event` gives alone, also when a small
/// queue holds input back (decoded again by `peek_data`).
#[test]
fn peek_data_lends_the_queued_data_in_place() {
    let t = Instant::now();
    let greeting: &[u8] = b"* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n";
    let mut input = Vec::new();
    for n in 1..=9u32 {
        input.extend_from_slice(
            format!(
                "* {n} FETCH (UID {} FLAGS (\\Seen) MODSEQ ({n}))\r\n",
                n + 100
            )
            .as_bytes(),
        );
    }
    input.extend_from_slice(b"* 3 EXPUNGE\r\n* OK [ALERT] note\r\n* 7 FETCH (UID 400)\r\n");
    let client = || {
        let mut c = Client::new(plain().with_max_events(3), t).unwrap();
        assert_eq!(c.handle_input(t, greeting), greeting.len());
        while c.poll_event().is_some() {}
        let _ = c.handle_input(t, &input);
        c
    };
    let mut c = client();
    let want: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
    let fetches = want
        .iter()
        .filter(|e| matches!(e, Event::Data(Data::Fetch { .. })))
        .count();
    assert_eq!(fetches, 10, "{want:?}");

    let mut c = client();
    let mut got = Vec::new();
    let mut lent = 0;
    loop {
        if let Some(d) = c.peek_data() {
            got.push(Event::Data(d.clone()));
            lent += 1;
            c.skip_event();
            continue;
        }
        match c.poll_event() {
            Some(e) => {
                assert!(!matches!(e, Event::Data(_)), "data not lent: {e:?}");
                got.push(e);
            }
            None => break,
        }
    }
    assert_eq!(got, want);
    assert!(lent >= 11, "{lent}");

    // In place: what is changed through the loan is what poll_event returns.
    let mut c = client();
    let Some(Data::Fetch { seq, items }) = c.peek_data() else {
        panic!("FETCH data first");
    };
    assert_eq!(seq.get(), 1);
    items.truncate(1);
    assert_eq!(
        c.poll_event(),
        Some(Event::Data(Data::Fetch {
            seq: imapwire_codec::sequence::SeqNum::new(1).unwrap(),
            items: vec![imapwire_codec::fetch::MessageDataItem::Uid(
                imapwire_codec::sequence::Uid::new(101).unwrap()
            )]
            .into(),
        }))
    );
    // Not data at the head: nothing lent; skip_event drops that event.
    let mut c = client();
    while !matches!(c.peek_data(), Some(Data::Expunge(_)) | None) {
        c.skip_event();
    }
    c.skip_event();
    // EXPUNGE with nothing selected: a protocol error, then the untagged OK: no data.
    assert!(c.peek_data().is_none());
    assert!(matches!(c.poll_event(), Some(Event::ProtocolError(_))));
    assert!(c.peek_data().is_none(), "the untagged OK is no data");
    assert!(matches!(c.poll_event(), Some(Event::Status { .. })));
    assert!(matches!(
        c.peek_data(),
        Some(Data::Fetch { seq, .. }) if seq.get() == 7
    ));
    c.skip_event();
    // No such message (nothing selected): not data either.
    assert!(c.peek_data().is_none());
    assert!(matches!(c.poll_event(), Some(Event::ProtocolError(_))));
    assert!(c.peek_data().is_none());
    c.skip_event();
    assert_eq!(c.poll_event(), None);
}
