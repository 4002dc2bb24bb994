//! Streamed FETCH literals ([`FetchPart::Streamed`], [`Event::BodyWanted`]): exact bytes,
//! back-pressure, interleaving with pipelined commands and unilateral updates, a store that
//! fails mid-body, a client that goes away mid-body, and misuse of the API.

use std::time::Instant;

use bytes::Bytes;
use imapwire_codec::flag::Flag;
use imapwire_codec::mailbox::Mailbox;

use super::memory::{MemoryStore, SessionId};
use super::tests::{ITER, Users, other_expunges, other_stores_flag};
use super::*;

const ONE: &[u8] = b"Subject: one\r\n\r\nbody one\r\n";
const TWO: &[u8] = b"Subject: two\r\n\r\nbody two, a longer one\r\n";

/// A logged-in session with INBOX (messages ONE and TWO) selected, answered by a memory
/// store that streams values over 10 octets (`None`: answers them whole).
struct Rig {
    s: Server,
    store: MemoryStore,
    sid: SessionId,
    other: SessionId,
    now: Instant,
    out: Vec<u8>,
    /// Events the rig does not answer itself.
    events: Vec<Event>,
    /// Answer [`Event::BodyWanted`] from the store at once.
    answer: bool,
    /// Outstanding wants not answered.
    wanted: Vec<(BodyStream, usize)>,
}

fn rig(config: ServerConfig, stream_over: Option<u64>) -> Rig {
    let now = Instant::now();
    let mut store = MemoryStore::new();
    store.deliver(&Mailbox::Inbox, Bytes::from_static(ONE), vec![]);
    store.deliver(&Mailbox::Inbox, Bytes::from_static(TWO), vec![]);
    store.stream_bodies_over(stream_over);
    let sid = store.open_session();
    let other = store.open_session();
    let cfg = config
        .with_encrypted(true)
        .with_credentials(Users::new())
        .with_scram_unknown_iterations(ITER);
    let mut r = Rig {
        s: Server::new(cfg, now),
        store,
        sid,
        other,
        now,
        out: Vec::new(),
        events: Vec::new(),
        answer: true,
        wanted: Vec::new(),
    };
    r.feed(b"a LOGIN joe secret\r\nb SELECT INBOX\r\n");
    let text = String::from_utf8_lossy(&r.out).into_owned();
    assert!(text.ends_with("b OK [READ-WRITE] done\r\n"), "{text}");
    r.out.clear();
    assert!(
        matches!(r.events.as_slice(), [Event::Authenticated { .. }]),
        "{:?}",
        r.events
    );
    r.events.clear();
    r
}

impl Rig {
    fn feed(&mut self, input: &[u8]) {
        let mut left = input;
        loop {
            let n = self.s.handle_input(self.now, left);
            left = &left[n..];
            self.drain();
            if left.is_empty() || (n == 0 && !self.answer) {
                break;
            }
        }
        assert!(left.is_empty(), "input not taken");
    }

    fn drain(&mut self) {
        loop {
            while let Some(b) = self.s.poll_transmit(self.now) {
                self.out.extend_from_slice(&b);
            }
            let Some(e) = self.s.poll_event() else { break };
            match e {
                Event::Request { id, request, .. } => {
                    let r = self.store.handle(self.sid, request);
                    self.s.reply(self.now, id, r).unwrap();
                }
                Event::BodyWanted { stream, max } if self.answer => {
                    let chunk = self.store.body_chunk(self.sid, stream, max);
                    self.s.body_chunk(self.now, stream, chunk).unwrap();
                }
                Event::BodyWanted { stream, max } => self.wanted.push((stream, max)),
                Event::BodyDropped { stream } => {
                    self.store.body_dropped(self.sid, stream);
                    self.events.push(Event::BodyDropped { stream });
                }
                e => self.events.push(e),
            }
        }
    }

    /// Answers the one outstanding want with the store's data (no draining).
    fn answer_one(&mut self) {
        assert_eq!(self.wanted.len(), 1, "{:?}", self.wanted);
        let (stream, max) = self.wanted.remove(0);
        let chunk = self.store.body_chunk(self.sid, stream, max);
        self.s.body_chunk(self.now, stream, chunk).unwrap();
    }

    /// The other session's change, notified to the rig's session.
    fn other_does(&mut self, f: impl FnOnce(&mut MemoryStore, SessionId)) {
        f(&mut self.store, self.other);
        for (origin, mailbox, update) in self.store.take_notifications() {
            if origin != Some(self.sid) {
                self.s.notify(self.now, &mailbox, update);
            }
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }
}

const FETCH: &[u8] = b"c FETCH 1:2 (FLAGS BODY.PEEK[] RFC822.SIZE BODY.PEEK[HEADER])\r\n";

/// The FETCH answer (flags as they are at the start).
fn fetch_answer() -> Vec<u8> {
    let mut w = Vec::new();
    for (n, m) in [(1, ONE), (2, TWO)] {
        w.extend_from_slice(format!("* {n} FETCH (FLAGS () BODY[] {{{}}}\r\n", m.len()).as_bytes());
        w.extend_from_slice(m);
        w.extend_from_slice(format!(" RFC822.SIZE {} BODY[HEADER] {{16}}\r\n", m.len()).as_bytes());
        w.extend_from_slice(&m[..16]);
        w.extend_from_slice(b")\r\n");
    }
    w
}

#[test]
fn streamed_literals_give_the_same_bytes_as_whole_values() {
    let mut whole = rig(ServerConfig::default(), None);
    whole.feed(FETCH);
    let mut streamed = rig(ServerConfig::default().with_body_chunk(7), Some(10));
    streamed.feed(FETCH);
    let mut want = fetch_answer();
    want.extend_from_slice(b"c OK done\r\n");
    assert_eq!(whole.text(), String::from_utf8_lossy(&want));
    assert_eq!(streamed.text(), whole.text());
    // UID FETCH: the UID item is added first, as for whole values.
    let cmd = b"u UID FETCH 2 (RFC822 RFC822.TEXT BODY[TEXT]<5.4>)\r\n";
    whole.out.clear();
    streamed.out.clear();
    whole.feed(cmd);
    streamed.feed(cmd);
    let text = streamed.text();
    assert!(
        text.starts_with("* 2 FETCH (UID 2 RFC822 {40}\r\nSubject: two\r\n"),
        "{text}"
    );
    assert!(text.contains("RFC822.TEXT {24}\r\nbody two, a longer one\r\n BODY[TEXT]<5> \"two,\""));
    assert_eq!(text, whole.text());
}

#[test]
fn streamed_literal_with_back_pressure_pipelined_commands_and_updates() {
    // A small output bound: the session asks for more only once the client has read.
    let mut r = rig(
        ServerConfig::default()
            .with_body_chunk(7)
            .with_max_output(5),
        Some(10),
    );
    r.answer = false;
    let mut input = FETCH.to_vec();
    input.extend_from_slice(b"d NOOP\r\n");
    r.feed(&input);
    assert_eq!(r.text(), "* 1 FETCH (FLAGS () BODY[] {26}\r\n");
    assert_eq!(r.wanted.len(), 1);
    assert_eq!(r.wanted[0].1, 7);
    // Another session expunges message 2 and flags message 1 meanwhile.
    r.other_does(|st, o| other_expunges(st, o, 2));
    r.other_does(|st, o| other_stores_flag(st, o, 1, Flag::Flagged));
    // One chunk: the queue is over its bound, no more is asked until it is read.
    r.answer_one();
    assert!(
        r.s.poll_event().is_none(),
        "asked with the output queue full"
    );
    assert_eq!(r.s.queued_output(), 7);
    r.drain();
    assert_eq!(r.wanted.len(), 1, "asked again once the client read");
    assert!(r.text().ends_with("{26}\r\nSubject"), "{}", r.text());
    // The rest, one chunk at a time (reading after each).
    while !r.wanted.is_empty() {
        r.answer_one();
        r.drain();
    }
    let mut want = fetch_answer();
    // The flag changes (the other session's \Deleted before its expunge, and \Flagged)
    // come after the whole FETCH response, before the completion; the expunge waits (FETCH
    // by sequence number, RFC 9051 §7.5.1) and goes with the pipelined NOOP's answer.
    want.extend_from_slice(b"* 2 FETCH (FLAGS (\\Deleted))\r\n* 1 FETCH (FLAGS (\\Flagged))\r\n");
    want.extend_from_slice(b"c OK done\r\n");
    want.extend_from_slice(b"* 2 EXPUNGE\r\nd OK done\r\n");
    assert_eq!(r.text(), String::from_utf8_lossy(&want));
    assert!(r.events.is_empty(), "{:?}", r.events);
}

#[test]
fn short_store_read_closes_with_a_typed_reason() {
    for empty_chunk in [false, true] {
        let mut r = rig(ServerConfig::default().with_body_chunk(7), Some(10));
        r.answer = false;
        r.feed(b"c FETCH 1 BODY.PEEK[]\r\nd NOOP\r\n");
        r.answer_one();
        r.drain();
        let (stream, _) = r.wanted[0];
        if empty_chunk {
            r.s.body_chunk(r.now, stream, Bytes::new()).unwrap();
        } else {
            r.s.body_failed(r.now, stream).unwrap();
        }
        r.wanted.clear();
        r.drain();
        assert!(
            matches!(
                r.events.as_slice(),
                [Event::Closed(CloseReason::BodyFailed {
                    stream: st,
                    promised: 26,
                    sent: 7,
                })] if *st == stream
            ),
            "{:?}",
            r.events
        );
        // What was sent of the literal, then nothing: no BYE, no completion.
        assert_eq!(r.text(), "* 1 FETCH (BODY[] {26}\r\nSubject");
        assert!(r.s.is_closed());
        assert_eq!(r.s.handle_input(r.now, b"e NOOP\r\n"), 0);
        assert_eq!(
            r.s.body_chunk(r.now, stream, Bytes::from_static(b"x")),
            Err(ApiError::Closed)
        );
    }
}

#[test]
fn client_gone_mid_body_drops_the_streams() {
    let mut r = rig(ServerConfig::default().with_body_chunk(7), Some(10));
    r.answer = false;
    r.feed(b"c FETCH 1:2 (BODY.PEEK[] BODY.PEEK[HEADER])\r\n");
    r.answer_one();
    r.drain();
    let (first, _) = r.wanted.remove(0);
    r.s.handle_eof(r.now);
    r.drain();
    // The stream in progress, the one after it in the same message, and both of the
    // message not sent yet are released; then the session ends.
    let dropped: Vec<BodyStream> = r
        .events
        .iter()
        .filter_map(|e| match e {
            Event::BodyDropped { stream } => Some(*stream),
            _ => None,
        })
        .collect();
    assert_eq!(dropped.len(), 4, "{:?}", r.events);
    assert_eq!(dropped[0], first);
    assert!(matches!(
        r.events.last(),
        Some(Event::Closed(CloseReason::PeerClosed))
    ));
    // The store kept nothing of them.
    for st in dropped {
        assert!(r.store.body_chunk(r.sid, st, 100).is_empty());
    }
    assert_eq!(r.text(), "* 1 FETCH (BODY[] {26}\r\nSubject");
}

#[test]
fn body_api_misuse_is_refused() {
    let cfg = ServerConfig::default()
        .with_body_chunk(7)
        .with_max_output(1);
    let mut r = rig(cfg, Some(10));
    let x = Bytes::from_static(b"x");
    assert_eq!(
        r.s.body_chunk(r.now, BodyStream(1), x.clone()),
        Err(ApiError::BodyNotWanted(BodyStream(1)))
    );
    assert_eq!(
        r.s.body_failed(r.now, BodyStream(1)),
        Err(ApiError::BodyNotWanted(BodyStream(1)))
    );
    r.answer = false;
    r.feed(b"c FETCH 1 BODY.PEEK[]\r\n");
    let (stream, max) = r.wanted[0];
    assert_eq!(max, 7);
    let other = BodyStream(stream.0 + 1000);
    assert_eq!(
        r.s.body_chunk(r.now, other, x.clone()),
        Err(ApiError::BodyNotWanted(other))
    );
    // Longer than asked: refused, nothing taken, the want stays.
    assert_eq!(
        r.s.body_chunk(r.now, stream, Bytes::from_static(b"12345678")),
        Err(ApiError::BodyChunkTooLong { got: 8, max: 7 })
    );
    r.answer_one();
    // Not asked again yet (the chunk is queued; asked once drained).
    assert_eq!(
        r.s.body_chunk(r.now, stream, x.clone()),
        Err(ApiError::BodyNotWanted(stream))
    );
    r.answer = true;
    r.drain();
    assert_eq!(
        r.text(),
        format!(
            "* 1 FETCH (BODY[] {{26}}\r\n{})\r\nc OK done\r\n",
            String::from_utf8_lossy(ONE)
        )
    );
    // A request cannot be answered while a body is streamed (none is pending).
    assert!(!r.s.is_closed());
}

#[test]
fn message_not_in_view_drops_its_streams() {
    let mut r = rig(ServerConfig::default(), Some(10));
    r.feed(b"c NOOP\r\n");
    r.out.clear();
    let now = r.now;
    // A reply naming a UID the session does not know: its streams are released.
    r.s.handle_input(now, b"d FETCH 1 FLAGS\r\n");
    let Some(Event::Request { id, .. }) = r.s.poll_event() else {
        panic!("no request")
    };
    let item = StreamedItem::new(
        StreamedName::BodySection {
            section: None,
            origin: None,
        },
        5,
        BodyStream(77),
    );
    let reply = Reply::ok(vec![ReplyData::StreamedMessage {
        uid: 99,
        parts: vec![FetchPart::Streamed(item)],
    }]);
    r.s.reply(now, id, reply).unwrap();
    r.drain();
    assert!(
        matches!(
            r.events.as_slice(),
            [Event::BodyDropped {
                stream: BodyStream(77)
            }]
        ),
        "{:?}",
        r.events
    );
    assert_eq!(r.text(), "d OK done\r\n");
}

#[test]
fn session_ending_mid_literal_sends_no_bye() {
    // A BYE queued after the `{26}\r\n` would be read by the client as literal data: the
    // session ends after the octets sent so far, whatever ends it (a timer, the
    // application, too many updates queued meanwhile).
    for how in ["autologout", "close", "updates"] {
        let mut cfg = ServerConfig::default().with_body_chunk(7);
        cfg.max_pending_updates = 1;
        let mut r = rig(cfg, Some(10));
        r.answer = false;
        r.feed(b"c FETCH 1 BODY.PEEK[]\r\n");
        r.answer_one();
        r.drain();
        let (stream, _) = r.wanted.remove(0);
        match how {
            "autologout" => {
                let at = r.s.poll_timeout().expect("autologout armed");
                r.s.handle_timeout(at);
            }
            "close" => r.s.close("shutting down"),
            _ => {
                r.other_does(|st, o| other_stores_flag(st, o, 1, Flag::Flagged));
                r.other_does(|st, o| other_stores_flag(st, o, 2, Flag::Flagged));
            }
        }
        r.drain();
        assert!(r.s.is_closed(), "{how}");
        assert_eq!(r.text(), "* 1 FETCH (BODY[] {26}\r\nSubject", "{how}");
        assert!(
            matches!(
                r.events.as_slice(),
                [Event::BodyDropped { stream: st }, Event::Closed(_)] if *st == stream
            ),
            "{how}: {:?}",
            r.events
        );
    }
}

#[test]
fn streamed_message_with_nothing_to_send_sends_no_fetch() {
    // `msg-att` has at least one item (RFC 9051 §9): like a whole message whose items
    // are all left out (MODSEQ without CONDSTORE), a streamed one sends no `FETCH ()`.
    for parts in [vec![], vec![FetchPart::Item(MessageDataItem::ModSeq(5))]] {
        let mut r = rig(ServerConfig::default(), Some(10));
        let now = r.now;
        r.s.handle_input(now, b"d FETCH 1 FLAGS\r\n");
        let Some(Event::Request { id, .. }) = r.s.poll_event() else {
            panic!("no request")
        };
        let reply = Reply::ok(vec![ReplyData::StreamedMessage { uid: 1, parts }]);
        r.s.reply(now, id, reply).unwrap();
        r.drain();
        assert_eq!(r.text(), "d OK done\r\n");
    }
}

#[test]
fn empty_streamed_literal_is_released() {
    // A stream of length 0 is never asked for: the application learns it is done with
    // it from BodyDropped, or it would keep what it opened for it.
    let mut r = rig(ServerConfig::default(), Some(10));
    let now = r.now;
    r.s.handle_input(now, b"d FETCH 1 BODY.PEEK[TEXT]\r\n");
    let Some(Event::Request { id, .. }) = r.s.poll_event() else {
        panic!("no request")
    };
    let name = StreamedName::BodySection {
        section: None,
        origin: None,
    };
    let item = StreamedItem::new(name, 0, BodyStream(5));
    let reply = Reply::ok(vec![ReplyData::StreamedMessage {
        uid: 1,
        parts: vec![FetchPart::Streamed(item)],
    }]);
    r.s.reply(now, id, reply).unwrap();
    r.drain();
    assert_eq!(r.text(), "* 1 FETCH (BODY[] {0}\r\n)\r\nd OK done\r\n");
    assert!(
        matches!(
            r.events.as_slice(),
            [Event::BodyDropped {
                stream: BodyStream(5)
            }]
        ),
        "{:?}",
        r.events
    );
}

#[test]
fn a_client_reading_a_long_literal_is_not_logged_out() {
    // The client reads the literal slowly (20 minutes a chunk, an hour in all): it is not
    // inactive (RFC 9051 §5.4), so the autologout timer (30 minutes) must not end it.
    let cfg = ServerConfig::default()
        .with_body_chunk(7)
        .with_max_output(5);
    let mut r = rig(cfg, Some(10));
    r.answer = false;
    r.feed(b"c FETCH 1 BODY.PEEK[]\r\n");
    while !r.wanted.is_empty() {
        r.now += std::time::Duration::from_secs(20 * 60);
        if r.s.poll_timeout().is_some_and(|t| t <= r.now) {
            r.s.handle_timeout(r.now);
        }
        assert!(!r.s.is_closed(), "{:?}", r.events);
        r.answer_one();
        r.drain();
    }
    assert_eq!(
        r.text(),
        format!(
            "* 1 FETCH (BODY[] {{26}}\r\n{})\r\nc OK done\r\n",
            String::from_utf8_lossy(ONE)
        )
    );
}

/// A logged-in session with four more messages (3 to 6) of `len` octets each, answered
/// whole (not streamed), with `c FETCH 3:6 BODY.PEEK[]` answered and none of its output
/// taken yet.
fn long_whole_reply(len: usize) -> Rig {
    let mut r = rig(ServerConfig::default().with_max_output(1024), None);
    let mut big = b"Subject: big\r\n\r\n".to_vec();
    big.resize(len, b'x');
    r.other_does(|st, _| {
        for _ in 3..=6 {
            st.deliver(&Mailbox::Inbox, Bytes::from(big.clone()), vec![]);
        }
    });
    r.feed(b"n NOOP\r\n");
    assert!(
        r.text().ends_with("* 6 EXISTS\r\nn OK done\r\n"),
        "{}",
        r.text()
    );
    r.out.clear();
    assert_eq!(r.s.handle_input(r.now, b"c FETCH 3:6 BODY.PEEK[]\r\n"), 25);
    loop {
        match r.s.poll_event() {
            Some(Event::Request { id, request, .. }) => {
                let reply = r.store.handle(r.sid, request);
                r.s.reply(r.now, id, reply).unwrap();
                break;
            }
            Some(e) => r.events.push(e),
            None => panic!("no request: {:?}", r.events),
        }
    }
    r
}

#[test]
fn a_client_reading_a_long_whole_reply_is_not_logged_out() {
    // The whole reply is queued at once and held back by max_output; the client takes it
    // slowly (20 minutes a piece, over an hour in all): it is not inactive (RFC 9051
    // §5.4), so the autologout timer (30 minutes) must not end it, as with a streamed
    // literal (a_client_reading_a_long_literal_is_not_logged_out).
    let mut r = long_whole_reply(100 * 1024);
    let mut pieces = 0;
    while !r.text().ends_with("c OK done\r\n") {
        if r.s.poll_timeout().is_some_and(|t| t <= r.now) {
            r.s.handle_timeout(r.now);
        }
        assert!(!r.s.is_closed(), "logged out after {pieces} pieces");
        let b = r.s.poll_transmit(r.now).expect("the rest of the reply");
        r.out.extend_from_slice(&b);
        pieces += 1;
        r.now += std::time::Duration::from_secs(20 * 60);
    }
    assert!(pieces >= 4, "{pieces}");
    let text = r.text();
    assert!(
        text.starts_with("* 3 FETCH (BODY[] {102400}\r\nSubject: big"),
        "{text:.40}"
    );
    assert_eq!(text.matches("Subject: big").count(), 4);
}

#[test]
fn a_client_that_stops_reading_a_whole_reply_is_logged_out() {
    let mut r = long_whole_reply(100 * 1024);
    for _ in 0..2 {
        let _ = r.s.poll_transmit(r.now).unwrap();
        r.now += std::time::Duration::from_secs(20 * 60);
    }
    // Nothing more is taken: an autologout time after the last piece, the session ends.
    r.now += std::time::Duration::from_secs(9 * 60);
    r.s.handle_timeout(r.now);
    assert!(!r.s.is_closed());
    let at = r.s.poll_timeout().unwrap();
    assert!(at <= r.now + std::time::Duration::from_secs(60));
    r.now = at;
    r.s.handle_timeout(r.now);
    assert!(r.s.is_closed());
    let events: Vec<Event> = std::iter::from_fn(|| r.s.poll_event()).collect();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Closed(CloseReason::Autologout))),
        "{events:?}"
    );
}
