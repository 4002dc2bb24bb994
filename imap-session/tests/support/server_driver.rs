//! Drives a [`Server`] (answered by a [`MemoryStore`]) from arbitrary bytes. Shared by the
//! proptest in `tests/server_fuzz.rs` and the cargo-fuzz target `server_session` (included
//! with `#[path]`), so both check the same properties:
//!
//! - no panic;
//! - bounded memory: queued output stays under the configured bound plus one reply, and the
//!   server takes no input while it is over it (back-pressure), so nothing grows without
//!   bound while the client does not read;
//! - everything the server writes decodes as greeting and responses (strict profile);
//! - no command gets two tagged completions (the driver's own commands have unique tags;
//!   raw bytes may repeat theirs), and in `structured` mode (only well-formed
//!   commands, in arbitrary chunks, with clock steps, changes from another session, literal
//!   decisions and a client that stops reading for a while) every command is answered exactly
//!   once unless the session ended.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use imapwire_codec::DecodeOptions;
use imapwire_codec::codec::{AnyMessage, Expect, Receiver, StreamEvent};
use imapwire_codec::core::Secret;
use imapwire_codec::flag::Flag;
use imapwire_codec::mailbox::Mailbox;
use imapwire_codec::response::{Response, Status, StatusResponse};
use imapwire_session::sasl::scram::{ScramHash, StoredKeys};
use imapwire_session::server::memory::MemoryStore;
use imapwire_session::server::{
    CredentialStore, Event, LiteralDecisions, NonSyncLiterals, Request, Server, ServerConfig,
};

struct Users(StoredKeys);

impl CredentialStore for Users {
    fn scram_keys(&self, user: &str, hash: ScramHash) -> Option<StoredKeys> {
        (user == "joe" && hash == self.0.hash).then(|| self.0.clone())
    }
}

const MAX_OUTPUT: usize = 4096;
/// The largest single reply the store can produce here (small messages, bounded count).
const REPLY_SLACK: usize = 256 * 1024;

/// Well-formed commands; `{}` is replaced by a unique tag.
const COMMANDS: &[&str] = &[
    "{} LOGIN joe secret\r\n",
    "{} AUTHENTICATE PLAIN AGpvZQBzZWNyZXQ=\r\n",
    "{} AUTHENTICATE PLAIN\r\nAGpvZQBzZWNyZXQ=\r\n",
    "{} AUTHENTICATE LOGIN\r\nam9l\r\nc2VjcmV0\r\n",
    "{} AUTHENTICATE PLAIN\r\n*\r\n",
    "{} SELECT INBOX\r\n",
    "{} EXAMINE INBOX\r\n",
    "{} FETCH 1:* (FLAGS UID)\r\n",
    "{} UID FETCH 1:* BODY.PEEK[]\r\n",
    "{} FETCH 1 BODY[]\r\n",
    "{} STORE 1:* +FLAGS (\\Deleted)\r\n",
    "{} UID STORE 1 -FLAGS.SILENT (\\Deleted)\r\n",
    "{} SEARCH ALL\r\n",
    "{} UID SEARCH UID 1:*\r\n",
    "{} EXPUNGE\r\n",
    "{} UID EXPUNGE 1:*\r\n",
    "{} COPY 1 INBOX\r\n",
    "{} MOVE 1 Archive\r\n",
    "{} CREATE Archive\r\n",
    "{} LIST \"\" *\r\n",
    "{} STATUS INBOX (MESSAGES UIDNEXT)\r\n",
    "{} APPEND INBOX {5}\r\nhello\r\n",
    "{} APPEND INBOX {5+}\r\nhello\r\n",
    "{} NOOP\r\n",
    "{} CHECK\r\n",
    "{} CAPABILITY\r\n",
    "{} ID NIL\r\n",
    "{} ENABLE CONDSTORE\r\n",
    "{} UNSELECT\r\n",
    "{} CLOSE\r\n",
    "{} NAMESPACE\r\n",
    "{} FROB\r\n",
    "{} FETCH\r\n",
    "{} IDLE\r\nDONE\r\n",
];

/// Commands that end the session or count toward its end; picked rarely.
const RARE: &[&str] = &["{} LOGOUT\r\n", "{} LOGIN joe wrong\r\n"];

struct Run {
    now: Instant,
    server: Server,
    store: MemoryStore,
    sid: imapwire_session::server::memory::SessionId,
    other: imapwire_session::server::memory::SessionId,
    /// Client bytes not yet taken by the server.
    pending: Vec<u8>,
    output: Vec<u8>,
    reading: bool,
    closed: bool,
    decide_accept: bool,
}

impl Run {
    fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            if self.reading {
                while let Some(b) = self.server.poll_transmit(self.now) {
                    self.output.extend_from_slice(&b);
                    moved = true;
                }
            }
            assert!(
                self.server.queued_output() <= MAX_OUTPUT + REPLY_SLACK,
                "output not bounded: {}",
                self.server.queued_output()
            );
            while let Some(e) = self.server.poll_event() {
                moved = true;
                match e {
                    Event::Request { id, request, .. } => {
                        let r = self.store.handle(self.sid, request);
                        self.server.reply(self.now, id, r).expect("reply");
                    }
                    Event::AppendChunk { stream, data } => {
                        self.store.append_chunk(self.sid, stream, &data)
                    }
                    Event::AppendAborted { stream } => self.store.append_aborted(self.sid, stream),
                    Event::LiteralAnnounced { .. } => {
                        let r = if self.decide_accept {
                            self.server.accept_literal(self.now)
                        } else {
                            self.server.reject_literal(self.now, Status::No, None, "no")
                        };
                        r.expect("decision");
                    }
                    Event::BodyWanted { stream, max } => {
                        let chunk = self.store.body_chunk(self.sid, stream, max);
                        assert!(!chunk.is_empty() && chunk.len() <= max, "body chunk");
                        self.server
                            .body_chunk(self.now, stream, chunk)
                            .expect("body chunk");
                    }
                    Event::BodyDropped { stream } => self.store.body_dropped(self.sid, stream),
                    Event::Closed(_) => self.closed = true,
                    _ => {}
                }
            }
            for (origin, mailbox, update) in self.store.take_notifications() {
                if origin != Some(self.sid) {
                    self.server.notify(self.now, &mailbox, update);
                    moved = true;
                }
            }
            if !self.pending.is_empty() && !self.closed {
                let n = self.server.handle_input(self.now, &self.pending);
                if n > 0 {
                    self.pending.drain(..n);
                    moved = true;
                }
            }
            if !moved {
                return;
            }
        }
        panic!("no quiescence");
    }
}

/// Runs one input; `structured`: the input picks well-formed commands instead of raw bytes.
pub fn run(data: &[u8], structured: bool) {
    let flags = data.first().copied().unwrap_or(0);
    let pw = Secret::new("secret".to_owned());
    let keys = StoredKeys::derive(ScramHash::Sha256, &pw, b"0123456789abcdef", 2).expect("keys");
    let mut config = ServerConfig::default()
        .with_encrypted(flags & 1 == 1 || structured)
        .with_plaintext_auth(flags & 2 == 2)
        .with_credentials(Arc::new(Users(keys)))
        .with_max_output(MAX_OUTPUT)
        .with_max_literal(1 << 16)
        .with_scram_unknown_iterations(2)
        .with_non_sync_literals(match flags >> 2 & 3 {
            0 => NonSyncLiterals::None,
            1 => NonSyncLiterals::Plus,
            _ => NonSyncLiterals::Minus,
        });
    if flags & 16 == 16 {
        config = config.with_literal_decisions(LiteralDecisions::Application);
    }
    if flags & 32 == 32 {
        config = config.with_append_limit(Some(3));
    }
    // FETCH values over 4 octets streamed, 3 octets per piece.
    let streamed = flags & 64 == 64;
    if streamed {
        config = config.with_body_chunk(3);
    }
    let now = Instant::now();
    let mut store = MemoryStore::new();
    store.deliver(
        &Mailbox::Inbox,
        Bytes::from_static(b"Subject: a\r\n\r\nx\r\n"),
        vec![],
    );
    if streamed {
        store.stream_bodies_over(Some(4));
    }
    let sid = store.open_session();
    let other = store.open_session();
    let _ = store.take_notifications();
    let mut r = Run {
        now,
        server: Server::new(config, now),
        store,
        sid,
        other,
        pending: Vec::new(),
        output: Vec::new(),
        reading: true,
        closed: false,
        decide_accept: flags & 64 == 64,
    };
    let mut tags: Vec<String> = Vec::new();
    if structured && flags & 128 == 0 {
        // Most structured runs start logged in with INBOX selected, to reach deeper states.
        for cmd in ["{} LOGIN joe secret\r\n", "{} SELECT INBOX\r\n"] {
            let tag = format!("Z{}", tags.len());
            r.pending
                .extend_from_slice(cmd.replacen("{}", &tag, 1).as_bytes());
            tags.push(tag);
        }
    }
    let mut i = 1;
    while i < data.len() {
        let op = data[i];
        let arg = data.get(i + 1).copied().unwrap_or(0);
        i += 2;
        match op % 8 {
            // Client bytes: a well-formed command, or raw bytes.
            0..=3 => {
                if structured || op % 8 < 2 {
                    let cmd = if arg >= 254 {
                        RARE[arg as usize % RARE.len()]
                    } else {
                        COMMANDS[arg as usize % COMMANDS.len()]
                    };
                    let tag = format!("Z{}", tags.len());
                    r.pending
                        .extend_from_slice(cmd.replacen("{}", &tag, 1).as_bytes());
                    tags.push(tag);
                } else {
                    let start = i.min(data.len());
                    let n = (arg as usize % 64).min(data.len() - start);
                    // Raw bytes never contain `Z`, so `Z<n>` tags are the dictionary's own
                    // (unique) ones; raw bytes may repeat their own tags.
                    r.pending.extend(
                        data[start..start + n]
                            .iter()
                            .map(|&b| if b == b'Z' { b'Y' } else { b }),
                    );
                    i = start + n;
                }
                // Feed only a prefix now: the rest arrives with later ops (arbitrary chunks).
                let keep = (arg as usize / 4) % (r.pending.len() + 1);
                let feed = r.pending.len() - keep;
                let chunk: Vec<u8> = r.pending.drain(..feed).collect();
                let mut rest = chunk;
                if !r.closed {
                    let n = r.server.handle_input(r.now, &rest);
                    rest.drain(..n);
                }
                rest.extend_from_slice(&r.pending);
                r.pending = rest;
            }
            4 => {
                let d = match arg % 16 {
                    0 => Duration::from_secs(31 * 60),
                    1..=5 => Duration::from_secs(arg as u64 * 10),
                    6..=10 => Duration::from_secs(1),
                    _ => Duration::ZERO,
                };
                let until = r.now + d;
                while let Some(t) = r.server.poll_timeout().filter(|&t| t <= until) {
                    r.now = t.max(r.now);
                    r.server.handle_timeout(r.now);
                    r.pump();
                }
                r.now = until;
                r.server.handle_timeout(r.now);
            }
            5 => {
                // Another session changes INBOX.
                let other = r.other;
                match arg % 3 {
                    0 => {
                        r.store
                            .deliver(&Mailbox::Inbox, Bytes::from_static(b"new\r\n"), vec![]);
                    }
                    1 | 2 => {
                        let _ = r.store.handle(
                            other,
                            Request::Select {
                                mailbox: Mailbox::Inbox,
                                read_only: false,
                                params: vec![],
                            },
                        );
                        let _ = r.store.handle(
                            other,
                            Request::Store {
                                uids: (1..=u32::from(arg % 8 + 1)).collect(),
                                kind: imapwire_codec::command::StoreType::Add,
                                silent: true,
                                data: imapwire_codec::command::StoreData::Flags(
                                    vec![if arg % 3 == 1 {
                                        Flag::Flagged
                                    } else {
                                        Flag::Deleted
                                    }]
                                    .into(),
                                ),
                                modifiers: vec![],
                            },
                        );
                        if arg % 3 == 2 {
                            let _ = r.store.handle(other, Request::Expunge { uids: None });
                        }
                    }
                    _ => {}
                }
            }
            6 => r.reading = arg % 3 != 0,
            _ => r.decide_accept = arg % 2 == 0,
        }
        r.pump();
    }
    // The client reads again and sends what it has left; then it goes away.
    r.reading = true;
    r.pump();
    r.pump();
    assert!(
        r.closed || r.pending.is_empty(),
        "input left over without a reason"
    );
    let closed_before_eof = r.closed;
    r.server.handle_eof(r.now);
    r.pump();
    assert!(r.closed, "EOF ends the session");
    assert!(r.server.poll_transmit(r.now).is_none() || r.closed);

    // Everything written decodes; count tagged completions per tag.
    let mut rx = Receiver::client(DecodeOptions::default());
    rx.push(&r.output);
    let mut done: HashMap<String, u32> = HashMap::new();
    let mut first = true;
    while let Some(ev) = rx.next() {
        match ev {
            StreamEvent::Message(m) => {
                if first {
                    rx.set_expect(Expect::Response);
                    first = false;
                }
                if let AnyMessage::Response(Response::Status(StatusResponse::Tagged {
                    tag, ..
                })) = m.message
                {
                    *done.entry(tag.as_str().to_owned()).or_default() += 1;
                }
            }
            StreamEvent::LiteralAnnounced(_) => {}
            StreamEvent::Error(e) => panic!(
                "server output does not decode: {e} in {:?}",
                String::from_utf8_lossy(&r.output)
            ),
            _ => {}
        }
    }
    for t in &tags {
        let n = done.get(t).copied().unwrap_or(0);
        assert!(n <= 1, "command {t} completed {n} times");
    }
    if structured {
        // Without a hand-off, every command the server took before it ended is answered.
        let ended_early = closed_before_eof;
        for t in &tags {
            let n = done.get(t).copied().unwrap_or(0);
            assert!(
                n == 1 || ended_early,
                "command {t} completed {n} times; output {:?}",
                String::from_utf8_lossy(&r.output)
            );
        }
        // Answered commands form a prefix: nothing is skipped and then answered later.
        let answered: Vec<bool> = tags.iter().map(|t| done.contains_key(t)).collect();
        if let Some(gap) = answered.iter().position(|a| !a) {
            assert!(
                answered[gap..].iter().all(|a| !a),
                "command {} unanswered but a later one was; output {:?}",
                tags[gap],
                String::from_utf8_lossy(&r.output)
            );
        }
    }
}
