//! The real client against the real server over in-memory byte queues on a virtual clock
//! (after quinn-proto's `Pair`): each step moves bytes both ways, answers the server's
//! requests from one shared in-memory store and routes its change notifications to the
//! other sessions; time only moves when a test waits, jumping from deadline to deadline.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use imapwire_codec::bytes::Bytes;
use imapwire_codec::command::{CommandBody, StoreData, StoreType};
use imapwire_codec::core::Secret;
use imapwire_codec::fetch::{FetchAttribute, FetchAttributes, FetchItems, MessageDataItem};
use imapwire_codec::flag::{Flag, FlagFetch};
use imapwire_codec::mailbox::Mailbox;
use imapwire_codec::response::{Data, ResponseCode};
use imapwire_codec::sequence::SequenceSet;
use imapwire_session::client::{
    AppendBody, Client, ClientConfig, CommandId, Event as CEvent, MailboxEvent,
};
use imapwire_session::sasl::Credentials;
use imapwire_session::sasl::scram::{ScramHash, StoredKeys};
use imapwire_session::server::memory::{MemoryStore, SessionId};
use imapwire_session::server::{
    CredentialStore, Event as SEvent, Server, ServerConfig, State as SState,
};

struct Users(HashMap<String, StoredKeys>);

impl CredentialStore for Users {
    fn scram_keys(&self, user: &str, hash: ScramHash) -> Option<StoredKeys> {
        self.0.get(user).filter(|k| k.hash == hash).cloned()
    }
}

fn server_config() -> ServerConfig {
    let pw = Secret::new("secret".to_owned());
    let keys = StoredKeys::derive(ScramHash::Sha256, &pw, b"0123456789abcdef", 4096).unwrap();
    let users = Users(HashMap::from([("joe".to_owned(), keys)]));
    ServerConfig::default()
        .with_encrypted(true)
        .with_credentials(Arc::new(users))
}

struct Conn {
    client: Client,
    server: Server,
    sid: SessionId,
    events: Vec<CEvent>,
    server_closed: bool,
}

struct Pair {
    now: Instant,
    store: MemoryStore,
    conns: Vec<Conn>,
}

impl Pair {
    fn new(n: usize) -> Self {
        let now = Instant::now();
        let mut store = MemoryStore::new();
        store.deliver(
            &Mailbox::Inbox,
            Bytes::from_static(b"Subject: hello\r\n\r\nfirst\r\n"),
            vec![],
        );
        let conns = (0..n)
            .map(|_| Conn {
                client: Client::new(ClientConfig::default().with_encrypted(true), now).unwrap(),
                server: Server::new(server_config(), now),
                sid: store.open_session(),
                events: Vec::new(),
                server_closed: false,
            })
            .collect();
        let _ = store.take_notifications();
        let mut p = Pair { now, store, conns };
        p.drive();
        p
    }

    /// Moves bytes and events until nothing moves (bounded: a livelock fails the test).
    fn drive(&mut self) {
        for _ in 0..10_000 {
            if !self.step() {
                return;
            }
        }
        panic!("no quiescence after 10000 steps");
    }

    fn step(&mut self) -> bool {
        let now = self.now;
        let mut moved = false;
        for c in &mut self.conns {
            while let Some(b) = c.client.poll_transmit(now) {
                moved = true;
                let mut rest = &b[..];
                let mut spins = 0;
                while !rest.is_empty() && spins < 1000 {
                    let n = c.server.handle_input(now, rest);
                    rest = &rest[n..];
                    spins += 1;
                    if n == 0 {
                        // Back-pressure: serve the server first.
                        while let Some(o) = c.server.poll_transmit(now) {
                            let _ = c.client.handle_input(now, &o);
                        }
                        Self::serve(&mut self.store, c, now);
                    }
                }
            }
            while let Some(b) = c.server.poll_transmit(now) {
                moved = true;
                let mut rest = &b[..];
                while !rest.is_empty() {
                    let n = c.client.handle_input(now, rest);
                    if n == 0 {
                        break;
                    }
                    rest = &rest[n..];
                }
            }
            moved |= Self::serve(&mut self.store, c, now);
            while let Some(e) = c.client.poll_event() {
                moved = true;
                c.events.push(e);
            }
        }
        for (origin, mailbox, update) in self.store.take_notifications() {
            moved = true;
            for c in &mut self.conns {
                if Some(c.sid) != origin {
                    c.server.notify(now, &mailbox, update.clone());
                }
            }
        }
        moved
    }

    fn serve(store: &mut MemoryStore, c: &mut Conn, now: Instant) -> bool {
        let mut moved = false;
        while let Some(e) = c.server.poll_event() {
            moved = true;
            match e {
                SEvent::Request { id, request, .. } => {
                    let r = store.handle(c.sid, request);
                    c.server.reply(now, id, r).unwrap();
                }
                SEvent::AppendChunk { stream, data } => store.append_chunk(c.sid, stream, &data),
                SEvent::AppendAborted { stream } => store.append_aborted(c.sid, stream),
                SEvent::Closed(_) => c.server_closed = true,
                _ => {}
            }
        }
        moved
    }

    /// Lets `d` pass, handling each deadline of either side on the way.
    fn wait(&mut self, d: Duration) {
        let until = self.now + d;
        loop {
            let next = self
                .conns
                .iter()
                .flat_map(|c| [c.client.poll_timeout(), c.server.poll_timeout()])
                .flatten()
                .filter(|&t| t <= until)
                .min();
            let Some(t) = next else { break };
            self.now = t.max(self.now);
            let now = self.now;
            for c in &mut self.conns {
                c.client.handle_timeout(now);
                c.server.handle_timeout(now);
            }
            self.drive();
        }
        self.now = until;
    }

    /// The completion of `id` on connection `i` (exactly one).
    fn completion(&self, i: usize, id: CommandId) -> Result<Option<ResponseCode>, String> {
        let done: Vec<_> = self.conns[i]
            .events
            .iter()
            .filter_map(|e| match e {
                CEvent::Completed { id: x, result } if *x == id => Some(result.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            done.len(),
            1,
            "command {id:?} completed {} times",
            done.len()
        );
        done.into_iter()
            .next()
            .unwrap()
            .map(|c| c.code)
            .map_err(|e| format!("{e:?}"))
    }

    fn run(&mut self, i: usize, body: CommandBody) -> CommandId {
        let now = self.now;
        let id = self.conns[i].client.submit(now, body).unwrap();
        self.drive();
        id
    }

    fn login(&mut self, i: usize) {
        let now = self.now;
        let id = self.conns[i]
            .client
            .login(now, "joe", Secret::new(Bytes::from_static(b"secret")))
            .unwrap();
        self.drive();
        assert!(self.completion(i, id).is_ok());
        assert_eq!(*self.conns[i].server.state(), SState::Authenticated);
    }

    fn select(&mut self, i: usize) {
        let id = self.run(
            i,
            CommandBody::Select {
                mailbox: Mailbox::Inbox,
                params: vec![],
            },
        );
        assert_eq!(self.completion(i, id), Ok(Some(ResponseCode::ReadWrite)));
    }
}

fn fetch(items: Vec<FetchAttribute>, uid: bool) -> CommandBody {
    CommandBody::Fetch {
        sequence_set: SequenceSet::all(),
        items: FetchItems::Attributes(FetchAttributes::new(items).unwrap()),
        modifiers: vec![],
        uid,
    }
}

fn fetched(events: &[CEvent]) -> Vec<(u32, Vec<MessageDataItem>)> {
    events
        .iter()
        .filter_map(|e| match e {
            CEvent::Data(Data::Fetch { seq, items }) => Some((seq.get(), items.to_vec())),
            _ => None,
        })
        .collect()
}

#[test]
fn login_select_fetch_store_append_logout() {
    let mut p = Pair::new(1);
    assert!(
        p.conns[0]
            .events
            .iter()
            .any(|e| matches!(e, CEvent::Greeting { .. }))
    );
    p.login(0);
    p.select(0);
    assert_eq!(p.conns[0].client.mailbox().unwrap().exists(), 1);
    assert_eq!(p.conns[0].server.view(), [1]);

    p.conns[0].events.clear();
    let id = p.run(
        0,
        fetch(
            vec![FetchAttribute::Flags, FetchAttribute::Rfc822Size],
            false,
        ),
    );
    assert!(p.completion(0, id).is_ok());
    assert_eq!(
        fetched(&p.conns[0].events),
        [(
            1,
            vec![
                MessageDataItem::Flags(Vec::<FlagFetch>::new().into()),
                MessageDataItem::Rfc822Size(25)
            ]
        )]
    );

    p.conns[0].events.clear();
    let id = p.run(
        0,
        CommandBody::Store {
            sequence_set: SequenceSet::all(),
            modifiers: vec![],
            kind: StoreType::Add,
            silent: false,
            data: StoreData::Flags(vec![Flag::Flagged].into()),
            uid: false,
        },
    );
    assert!(p.completion(0, id).is_ok());
    let f = fetched(&p.conns[0].events);
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].1[0],
        MessageDataItem::Flags(vec![FlagFetch::Flag(Flag::Flagged)].into())
    );

    // APPEND to the selected mailbox: the session reports the new message itself.
    p.conns[0].events.clear();
    let now = p.now;
    let id = p.conns[0]
        .client
        .append(
            now,
            Mailbox::Inbox,
            vec![Flag::Seen],
            None,
            AppendBody::Bytes(Bytes::from_static(b"Subject: two\r\n\r\nsecond\r\n")),
        )
        .unwrap();
    p.drive();
    let code = p.completion(0, id).unwrap();
    assert!(
        matches!(code, Some(ResponseCode::AppendUid { .. })),
        "{code:?}"
    );
    // RFC 9051 §6.3.12: the EXISTS came with the APPEND, before its completion.
    let ev = &p.conns[0].events;
    let exists = ev
        .iter()
        .position(|e| matches!(e, CEvent::Mailbox(MailboxEvent::Exists { exists: 2 })));
    let done = ev
        .iter()
        .position(|e| matches!(e, CEvent::Completed { id: x, .. } if *x == id));
    assert!(
        matches!((exists, done), (Some(a), Some(b)) if a < b),
        "{ev:?}"
    );
    assert_eq!(p.conns[0].client.mailbox().unwrap().exists(), 2);
    assert_eq!(p.conns[0].server.view(), [1, 2]);
    let id = p.run(0, CommandBody::Noop);
    assert!(p.completion(0, id).is_ok());
    assert_eq!(p.conns[0].client.mailbox().unwrap().exists(), 2);
    assert_eq!(p.conns[0].server.view(), [1, 2]);

    p.conns[0].events.clear();
    let id = p.run(
        0,
        fetch(
            vec![FetchAttribute::BodySection {
                section: None,
                partial: None,
                peek: true,
            }],
            true,
        ),
    );
    assert!(p.completion(0, id).is_ok());
    let f = fetched(&p.conns[0].events);
    assert_eq!(f.len(), 2);
    assert!(f[1].1.iter().any(|i| matches!(
        i,
        MessageDataItem::BodySection { data: Some(d), .. } if d.as_bytes() == b"Subject: two\r\n\r\nsecond\r\n"
    )));

    let now = p.now;
    let id = p.conns[0].client.logout(now).unwrap();
    p.drive();
    assert!(p.completion(0, id).is_ok());
    assert!(p.conns[0].server_closed);
}

#[test]
fn scram_through_both_sessions() {
    let mut p = Pair::new(1);
    let now = p.now;
    let creds = Credentials::password("joe", Secret::new("secret".to_owned()));
    let id = p.conns[0].client.authenticate_auto(now, &creds).unwrap();
    p.drive();
    assert!(p.completion(0, id).is_ok(), "{:?}", p.conns[0].events);
    assert_eq!(p.conns[0].server.user(), Some("joe"));
}

#[test]
fn idle_sees_a_second_sessions_changes() {
    let mut p = Pair::new(2);
    for i in 0..2 {
        p.login(i);
        p.select(i);
    }
    let now = p.now;
    let idle = p.conns[0].client.idle(now).unwrap();
    p.drive();
    assert!(
        p.conns[0]
            .events
            .iter()
            .any(|e| matches!(e, CEvent::IdleStarted { .. }))
    );
    p.conns[0].events.clear();

    // Session 1 appends, flags and expunges; session 0 (idling) hears each at once.
    let id = p.run(
        1,
        CommandBody::Append {
            mailbox: Mailbox::Inbox,
            messages: vec![imapwire_codec::command::AppendMessage {
                flags: vec![],
                date: None,
                extensions: vec![],
                data: imapwire_codec::command::AppendData::Literal {
                    data: Bytes::from_static(b"x\r\n"),
                    binary: false,
                },
            }],
        },
    );
    assert!(p.completion(1, id).is_ok());
    assert!(
        p.conns[0]
            .events
            .iter()
            .any(|e| matches!(e, CEvent::Mailbox(MailboxEvent::Exists { .. }))),
        "{:?}",
        p.conns[0].events
    );
    assert_eq!(p.conns[0].client.mailbox().unwrap().exists(), 2);

    let id = p.run(
        1,
        CommandBody::Store {
            sequence_set: SequenceSet::single(1.try_into().unwrap()),
            modifiers: vec![],
            kind: StoreType::Add,
            silent: true,
            data: StoreData::Flags(vec![Flag::Deleted].into()),
            uid: false,
        },
    );
    assert!(p.completion(1, id).is_ok());
    let id = p.run(1, CommandBody::Expunge);
    assert!(p.completion(1, id).is_ok());
    assert!(
        p.conns[0]
            .events
            .iter()
            .any(|e| matches!(e, CEvent::Mailbox(MailboxEvent::Expunged { .. }))),
        "{:?}",
        p.conns[0].events
    );
    assert_eq!(p.conns[0].client.mailbox().unwrap().exists(), 1);
    assert_eq!(p.conns[0].server.view(), [2]);

    let now = p.now;
    p.conns[0].client.idle_done(now, idle).unwrap();
    p.drive();
    assert!(p.completion(0, idle).is_ok());
}

#[test]
fn virtual_clock_idle_hold_and_client_refresh() {
    // The client refreshes IDLE before the server's hold limit (29 < 30 minutes), so a
    // long wait keeps the session alive on both sides.
    let mut p = Pair::new(1);
    p.login(0);
    p.select(0);
    let now = p.now;
    let _idle = p.conns[0].client.idle(now).unwrap();
    p.drive();
    p.wait(Duration::from_secs(3 * 60 * 60));
    assert!(!p.conns[0].server_closed, "{:?}", p.conns[0].events);
    assert!(!p.conns[0].client.is_closed());
}
