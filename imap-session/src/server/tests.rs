//! Scripted server tests: `C:` bytes in, `S:` bytes out, a virtual clock, no sockets. Every
//! script runs with the client's bytes whole, one byte at a time, and split in two at every
//! position, and must give the same output and events each time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use imapwire_codec::core::Secret;

use super::memory::{MemoryStore, SessionId};
use super::*;
use crate::sasl::ClientMechanism;
use crate::sasl::scram::{ScramClient, ScramHash, StoredKeys};

/// Few iterations: PBKDF2 runs at every LOGIN, and scripts run hundreds of times.
pub(super) const ITER: u32 = 16;

/// Users `joe`/`secret` and `ann`/`pw2`.
pub(super) struct Users(HashMap<String, (StoredKeys, StoredKeys)>);

impl Users {
    pub(super) fn new() -> Arc<Self> {
        let mut m = HashMap::new();
        for (u, p) in [("joe", "secret"), ("ann", "pw2")] {
            let pw = Secret::new(p.to_owned());
            let k256 =
                StoredKeys::derive(ScramHash::Sha256, &pw, b"salt-of-some-user", ITER).unwrap();
            let k1 = StoredKeys::derive(ScramHash::Sha1, &pw, b"salt-of-some-user", ITER).unwrap();
            m.insert(u.to_owned(), (k256, k1));
        }
        Arc::new(Users(m))
    }
}

impl CredentialStore for Users {
    fn scram_keys(&self, user: &str, hash: ScramHash) -> Option<StoredKeys> {
        let (a, b) = self.0.get(user)?;
        Some(if hash == ScramHash::Sha1 { b } else { a }.clone())
    }
    fn verify_token(&self, user: Option<&str>, token: &Secret<String>) -> Result<String, String> {
        if token.expose() == "good-token" {
            Ok(user.unwrap_or("joe").to_owned())
        } else {
            Err(r#"{"status":"invalid_token"}"#.to_owned())
        }
    }
    fn supports_oauth(&self) -> bool {
        true
    }
}

fn cfg() -> ServerConfig {
    ServerConfig::default()
        .with_credentials(Users::new())
        .with_scram_unknown_iterations(ITER)
}

/// What a second session does to the store.
type OtherAction = Box<dyn Fn(&mut MemoryStore, SessionId)>;

/// A call on the server in a script.
type Action = Box<dyn Fn(&mut Server, Instant)>;

enum Step {
    /// The client sends these bytes.
    C(&'static [u8]),
    /// The server must have sent exactly these bytes since the last `S` step.
    S(&'static [u8]),
    /// The server's output since the last `S` step must contain this.
    SHas(&'static [u8]),
    /// Call the server.
    Do(Action),
    /// Time passes (deadlines in between are handled).
    Wait(Duration),
    /// The client closes the connection.
    Eof,
    /// A second session changes the store (its changes are notified to the server).
    Other(OtherAction),
    /// A second session changes the store; its notifications are held back (still on their
    /// way, as through a channel) until [`Step::Release`].
    Held(OtherAction),
    /// The notifications held back reach the server.
    Release,
}
use Step::*;

#[derive(Clone, Copy, Debug)]
enum Feed {
    Whole,
    Bytewise,
    SplitAt(usize),
}

/// Takes the session's output into `out` and answers its events from `store` (as session
/// `sid`) until it has neither; every event is shown to `note` first, and other events
/// than requests and APPEND data go to `other`.
fn serve(
    s: &mut Server,
    store: &mut MemoryStore,
    sid: SessionId,
    now: Instant,
    out: &mut Vec<u8>,
    note: &mut dyn FnMut(&Event),
    other: &mut dyn FnMut(Event),
) {
    loop {
        while let Some(b) = s.poll_transmit(now) {
            out.extend_from_slice(&b);
        }
        let Some(e) = s.poll_event() else { break };
        note(&e);
        match e {
            Event::Request { id, request, .. } => {
                let r = store.handle(sid, request);
                s.reply(now, id, r).unwrap();
            }
            Event::AppendChunk { stream, data } => store.append_chunk(sid, stream, &data),
            Event::AppendAborted { stream } => store.append_aborted(sid, stream),
            e => other(e),
        }
    }
}

/// Runs a script; requests are answered by a memory store (with `INBOX` holding two
/// messages). Returns the events (requests and decisions excepted).
fn run_with(config: &ServerConfig, steps: &[Step], feed: Feed) -> Vec<Event> {
    let t0 = Instant::now();
    let mut now = t0;
    let mut store = MemoryStore::new();
    store.deliver(
        &Mailbox::Inbox,
        Bytes::from_static(b"Subject: one\r\n\r\nbody one\r\n"),
        vec![],
    );
    store.deliver(
        &Mailbox::Inbox,
        Bytes::from_static(b"Subject: two\r\n\r\nbody two\r\n"),
        vec![],
    );
    let sid = store.open_session();
    let other = store.open_session();
    let mut s = Server::new(config.clone(), now);
    let mut out: Vec<u8> = Vec::new();
    let mut events = Vec::new();
    let mut late = Vec::new();
    let drain = |s: &mut Server,
                 store: &mut MemoryStore,
                 now: Instant,
                 out: &mut Vec<u8>,
                 events: &mut Vec<Event>| {
        serve(s, store, sid, now, out, &mut |_| {}, &mut |e| {
            events.push(e)
        });
        for (origin, mailbox, update) in store.take_notifications() {
            if origin != Some(sid) {
                s.notify(now, &mailbox, update);
            }
        }
        while let Some(b) = s.poll_transmit(now) {
            out.extend_from_slice(&b);
        }
    };
    drain(&mut s, &mut store, now, &mut out, &mut events);
    for (n, step) in steps.iter().enumerate() {
        match step {
            C(bytes) => {
                let pieces: Vec<&[u8]> = match feed {
                    Feed::Whole => vec![bytes],
                    Feed::Bytewise => bytes.chunks(1).collect(),
                    Feed::SplitAt(k) => {
                        let k = k.min(bytes.len());
                        vec![&bytes[..k], &bytes[k..]]
                    }
                };
                for p in pieces {
                    let mut rest = p;
                    while !rest.is_empty() {
                        let used = s.handle_input(now, rest);
                        rest = &rest[used..];
                        drain(&mut s, &mut store, now, &mut out, &mut events);
                        if used == 0 {
                            break;
                        }
                    }
                }
            }
            S(want) => {
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(want),
                    "step {n} ({feed:?}): server output"
                );
                out.clear();
            }
            SHas(want) => {
                assert!(
                    out.windows(want.len()).any(|w| w == *want),
                    "step {n} ({feed:?}): output {:?} lacks {:?}",
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(want)
                );
                out.clear();
            }
            Do(f) => {
                f(&mut s, now);
                drain(&mut s, &mut store, now, &mut out, &mut events);
            }
            Wait(d) => {
                let until = now + *d;
                while let Some(t) = s.poll_timeout().filter(|&t| t <= until) {
                    now = t.max(now);
                    s.handle_timeout(now);
                    drain(&mut s, &mut store, now, &mut out, &mut events);
                }
                now = until;
            }
            Eof => {
                s.handle_eof(now);
                drain(&mut s, &mut store, now, &mut out, &mut events);
            }
            Other(f) => {
                f(&mut store, other);
                drain(&mut s, &mut store, now, &mut out, &mut events);
            }
            Held(f) => {
                f(&mut store, other);
                late.extend(store.take_notifications());
            }
            Release => {
                for (origin, mailbox, update) in late.drain(..) {
                    if origin != Some(sid) {
                        s.notify(now, &mailbox, update);
                    }
                }
                drain(&mut s, &mut store, now, &mut out, &mut events);
            }
        }
    }
    assert!(
        out.is_empty(),
        "unchecked output: {:?}",
        String::from_utf8_lossy(&out)
    );
    events
}

/// Runs whole, bytewise and split at every position of the longest client step; returns the
/// events of the whole run after checking the others agree.
fn run(config: &ServerConfig, steps: &[Step]) -> Vec<String> {
    let whole: Vec<String> = run_with(config, steps, Feed::Whole)
        .iter()
        .map(|e| format!("{e:?}"))
        .collect();
    let byte: Vec<String> = run_with(config, steps, Feed::Bytewise)
        .iter()
        .map(|e| format!("{e:?}"))
        .collect();
    assert_eq!(whole, byte, "bytewise events");
    let longest = steps
        .iter()
        .map(|s| if let C(b) = s { b.len() } else { 0 })
        .max()
        .unwrap_or(0);
    // Every position of short steps; a sample of long ones.
    for k in (1..longest).filter(|&k| k < 256 || k % 97 == 0) {
        let split: Vec<String> = run_with(config, steps, Feed::SplitAt(k))
            .iter()
            .map(|e| format!("{e:?}"))
            .collect();
        assert_eq!(whole, split, "events split at {k}");
    }
    whole
}

const GREETING_PLAIN: &[u8] = b"* OK [CAPABILITY IMAP4rev2 IMAP4rev1 LOGINDISABLED AUTH=SCRAM-SHA-256 AUTH=SCRAM-SHA-1 LITERAL- IDLE ENABLE SASL-IR ID NAMESPACE UIDPLUS MOVE UNSELECT CONDSTORE] IMAP server ready\r\n";
const GREETING_TLS: &[u8] = b"* OK [CAPABILITY IMAP4rev2 IMAP4rev1 AUTH=PLAIN AUTH=LOGIN AUTH=SCRAM-SHA-256 AUTH=SCRAM-SHA-1 AUTH=OAUTHBEARER AUTH=XOAUTH2 LITERAL- IDLE ENABLE SASL-IR ID NAMESPACE UIDPLUS MOVE UNSELECT CONDSTORE] IMAP server ready\r\n";
const AUTHED_CAPS: &[u8] = b"[CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL- IDLE ENABLE SASL-IR ID NAMESPACE UIDPLUS MOVE UNSELECT CONDSTORE]";

fn tls() -> ServerConfig {
    cfg().with_encrypted(true)
}

#[test]
fn greeting_capabilities_follow_encryption() {
    run(&cfg(), &[S(GREETING_PLAIN)]);
    run(&tls(), &[S(GREETING_TLS)]);
    let starttls = cfg().with_starttls(true);
    run(
        &starttls,
        &[
            SHas(b"IMAP4rev1 STARTTLS LOGINDISABLED AUTH=SCRAM-SHA-256"),
            C(b"a CAPABILITY\r\n"),
            S(b"* CAPABILITY IMAP4rev2 IMAP4rev1 STARTTLS LOGINDISABLED AUTH=SCRAM-SHA-256 AUTH=SCRAM-SHA-1 LITERAL- IDLE ENABLE SASL-IR ID NAMESPACE UIDPLUS MOVE UNSELECT CONDSTORE\r\na OK done\r\n"),
        ],
    );
    // Plaintext allowed by the application: password mechanisms, no LOGINDISABLED.
    run(
        &cfg().with_plaintext_auth(true),
        &[SHas(b"IMAP4rev1 AUTH=PLAIN AUTH=LOGIN AUTH=SCRAM-SHA-256")],
    );
}

#[test]
fn greeting_preauth_and_bye() {
    let ev = run(
        &tls().with_greeting(GreetingPolicy::PreAuth("joe".into())),
        &[SHas(
            b"* PREAUTH [CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL- IDLE",
        )],
    );
    assert_eq!(ev, [r#"Authenticated { user: "joe" }"#]);
    let ev = run(
        &tls().with_greeting(GreetingPolicy::Bye("go away".into())),
        &[S(b"* BYE go away\r\n"), C(b"a NOOP\r\n"), S(b"")],
    );
    assert_eq!(ev, ["Closed(Refused)"]);
}

#[test]
fn login_success_and_failures_then_bye() {
    let mut authed = GREETING_TLS.to_vec();
    authed.clear();
    let ev = run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a1 LOGIN joe wrong\r\n"),
            S(b"a1 NO [AUTHENTICATIONFAILED] authentication failed\r\n"),
            C(b"a2 LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(b"a3 LOGIN joe secret\r\n"),
            S(b"a3 BAD LOGIN already authenticated\r\n"),
        ],
    );
    assert_eq!(ev, [r#"Authenticated { user: "joe" }"#]);
    let ev = run(
        &tls().with_max_auth_failures(2),
        &[
            S(GREETING_TLS),
            C(b"a1 LOGIN joe x\r\na2 LOGIN nobody y\r\na3 NOOP\r\n"),
            S(b"a1 NO [AUTHENTICATIONFAILED] authentication failed\r\n* BYE too many failed authentication attempts\r\n"),
        ],
    );
    assert_eq!(ev, ["Closed(TooManyAuthFailures)"]);
}

#[test]
fn login_refused_without_encryption() {
    run(
        &cfg(),
        &[
            S(GREETING_PLAIN),
            C(b"a LOGIN joe secret\r\n"),
            S(b"a NO [PRIVACYREQUIRED] LOGIN needs an encrypted connection\r\n"),
            C(b"b AUTHENTICATE PLAIN AGpvZQBzZWNyZXQ=\r\n"),
            S(b"b NO [PRIVACYREQUIRED] mechanism needs an encrypted connection\r\n"),
        ],
    );
}

#[test]
fn authenticate_plain_with_and_without_sasl_ir_and_cancel() {
    // "\0joe\0secret"
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a AUTHENTICATE PLAIN\r\n"),
            S(b"+ \r\n"),
            C(b"*\r\n"),
            S(b"a BAD authentication cancelled\r\n"),
            C(b"b AUTHENTICATE PLAIN\r\n"),
            S(b"+ \r\n"),
            C(b"AGpvZQB3cm9uZw==\r\n"),
            S(b"b NO [AUTHENTICATIONFAILED] authentication failed\r\n"),
            C(b"c AUTHENTICATE PLAIN AGpvZQBzZWNyZXQ=\r\n"),
            SHas(AUTHED_CAPS),
        ],
    );
}

#[test]
fn authenticate_login_mechanism() {
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a authenticate login\r\n"),
            S(b"+ VXNlcm5hbWU6\r\n"),
            C(b"am9l\r\n"),
            S(b"+ UGFzc3dvcmQ6\r\n"),
            C(b"c2VjcmV0\r\n"),
            SHas(AUTHED_CAPS),
        ],
    );
}

#[test]
fn authenticate_bad_base64_ends_exchange_with_bad() {
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a AUTHENTICATE PLAIN\r\n"),
            S(b"+ \r\n"),
            C(b"!!!notbase64\r\n"),
            SHas(b"a BAD "),
            C(b"b NOOP\r\n"),
            S(b"b OK done\r\n"),
        ],
    );
}

#[test]
fn authenticate_oauth_error_continuation() {
    // n,a=joe,^Aauth=Bearer bad-token^A^A
    let bad = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .encode(b"n,a=joe,\x01auth=Bearer bad-token\x01\x01")
    };
    let good = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .encode(b"n,a=joe,\x01auth=Bearer good-token\x01\x01")
    };
    let c1: &'static [u8] = Box::leak(
        format!("a AUTHENTICATE OAUTHBEARER {bad}\r\n")
            .into_bytes()
            .into_boxed_slice(),
    );
    let c2: &'static [u8] = Box::leak(
        format!("b AUTHENTICATE OAUTHBEARER {good}\r\n")
            .into_bytes()
            .into_boxed_slice(),
    );
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(c1),
            S(b"+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=\r\n"),
            C(b"AQ==\r\n"),
            S(b"a NO [AUTHENTICATIONFAILED] authentication failed\r\n"),
            C(c2),
            SHas(AUTHED_CAPS),
        ],
    );
}

/// SCRAM against the real client mechanism (random nonces: driven by hand, not scripted).
/// Runs a SCRAM exchange with SASL-IR; returns the server's final output.
fn scram_exchange(s: &mut Server, c: &mut ScramClient, name: &str) -> String {
    let now = Instant::now();
    while s.poll_transmit(now).is_some() {}
    let ir = c.initial_response().unwrap().unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let line = format!("t AUTHENTICATE {name} {}\r\n", b64.encode(ir.expose()));
    assert_eq!(s.handle_input(now, line.as_bytes()), line.len());
    for _ in 0..4 {
        let mut out = Vec::new();
        while let Some(b) = s.poll_transmit(now) {
            out.extend_from_slice(&b);
        }
        let text = String::from_utf8(out).unwrap();
        let Some(ch) = text.strip_prefix("+ ") else {
            return text;
        };
        let ch = b64.decode(ch.trim_end()).unwrap();
        let resp = match c.step(&ch) {
            Ok(r) => b64.encode(r.expose()),
            Err(_) => "*".to_owned(),
        };
        let l = format!("{resp}\r\n");
        assert_eq!(s.handle_input(now, l.as_bytes()), l.len());
    }
    panic!("{name}: the exchange did not end");
}

fn scram_client(hash: ScramHash, pw: &str) -> ScramClient {
    ScramClient::new(hash, "joe", &Secret::new(pw.to_owned()))
        .unwrap()
        .with_limits(crate::sasl::scram::ScramLimits::new(1, 1_000_000))
}

#[test]
fn authenticate_scram_both_hashes() {
    for (hash, name, pw, ok) in [
        (ScramHash::Sha256, "SCRAM-SHA-256", "secret", true),
        (ScramHash::Sha1, "SCRAM-SHA-1", "secret", true),
        (ScramHash::Sha256, "SCRAM-SHA-256", "wrong", false),
    ] {
        let mut s = Server::new(cfg(), Instant::now());
        let mut c = scram_client(hash, pw);
        let outcome = scram_exchange(&mut s, &mut c, name);
        if ok {
            assert!(outcome.starts_with("t OK [CAPABILITY"), "{name}: {outcome}");
            assert!(c.finish(true).is_ok(), "server signature verified");
            assert_eq!(s.user(), Some("joe"));
        } else {
            assert_eq!(
                outcome,
                "t NO [AUTHENTICATIONFAILED] authentication failed\r\n"
            );
            assert_eq!(*s.state(), State::NotAuthenticated);
        }
    }
}

#[test]
fn authenticate_scram_plus_with_channel_binding() {
    use crate::sasl::scram::{ChannelBinding, ChannelBindingType};
    let cb = |d: &'static [u8]| ChannelBinding {
        kind: ChannelBindingType::TlsExporter,
        data: Bytes::from_static(d),
    };
    let now = Instant::now();
    // The greeting of an implicit-TLS connection with a binding offers -PLUS.
    let mut s = Server::with_channel_binding(tls(), Some(cb(b"0123456789abcdef")), now);
    let g = String::from_utf8(s.poll_transmit(now).unwrap().to_vec()).unwrap();
    assert!(
        g.contains("AUTH=SCRAM-SHA-256-PLUS AUTH=SCRAM-SHA-1-PLUS"),
        "{g}"
    );
    for (hash, name) in [
        (ScramHash::Sha256, "SCRAM-SHA-256-PLUS"),
        (ScramHash::Sha1, "SCRAM-SHA-1-PLUS"),
    ] {
        let mut s = Server::with_channel_binding(tls(), Some(cb(b"0123456789abcdef")), now);
        let mut c = scram_client(hash, "secret").with_channel_binding(cb(b"0123456789abcdef"));
        let outcome = scram_exchange(&mut s, &mut c, name);
        assert!(outcome.starts_with("t OK [CAPABILITY"), "{name}: {outcome}");
        assert!(c.finish(true).is_ok());
        // A client on another channel (a man in the middle) is refused.
        let mut s = Server::with_channel_binding(tls(), Some(cb(b"0123456789abcdef")), now);
        let mut c = scram_client(hash, "secret").with_channel_binding(cb(b"fedcba9876543210"));
        let outcome = scram_exchange(&mut s, &mut c, name);
        assert!(
            outcome.starts_with("t NO [AUTHENTICATIONFAILED]"),
            "{name}: {outcome}"
        );
        assert_eq!(*s.state(), State::NotAuthenticated);
    }
    // Without a binding, -PLUS is neither offered nor accepted.
    let mut s = Server::new(tls(), now);
    let g = String::from_utf8(s.poll_transmit(now).unwrap().to_vec()).unwrap();
    assert!(!g.contains("-PLUS"), "{g}");
    assert_eq!(
        s.handle_input(now, b"t AUTHENTICATE SCRAM-SHA-256-PLUS\r\n"),
        35
    );
    let out = String::from_utf8(s.poll_transmit(now).unwrap().to_vec()).unwrap();
    assert!(out.starts_with("t NO [CANNOT]"), "{out}");
}

#[test]
fn malformed_and_wrong_state_commands() {
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a1 FROB\r\n"),
            SHas(b"a1 BAD "),
            C(b"a2 SELECT\r\n"),
            SHas(b"a2 BAD "),
            C(b"\r\n"),
            SHas(b"* BAD "),
            C(b"a3 SELECT INBOX\r\n"),
            S(b"a3 BAD SELECT not valid before authentication\r\n"),
            C(b"a4 LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(b"a5 FETCH 1 FLAGS\r\n"),
            S(b"a5 BAD FETCH no mailbox selected\r\n"),
            C(b"a6 NOOP\r\n"),
            S(b"a6 OK done\r\n"),
        ],
    );
}

#[test]
fn literal_policy_and_literal_minus() {
    let c = tls().with_max_literal(10);
    run(
        &c,
        &[
            S(GREETING_TLS),
            C(b"a LOGIN {3}\r\n"),
            S(b"+ ready for literal data\r\n"),
            C(b"joe secret\r\n"),
            SHas(AUTHED_CAPS),
            // Over the limit: refused before the data, the line is dropped.
            C(b"b CREATE {11}\r\n"),
            S(b"b NO [TOOBIG] literal too large\r\n"),
            C(b"c NOOP\r\n"),
            S(b"c OK done\r\n"),
        ],
    );
    // LITERAL-: a non-synchronizing literal over 4096 octets is refused with BAD [TOOBIG],
    // its data dropped as it streams past.
    let big: &'static [u8] = Box::leak(
        [
            b"d CREATE {5000+}\r\n".to_vec(),
            vec![b'x'; 5000],
            b"\r\ne NOOP\r\n".to_vec(),
        ]
        .concat()
        .into_boxed_slice(),
    );
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(big),
            S(b"d BAD [TOOBIG] literal too large\r\ne OK done\r\n"),
        ],
    );
}

#[test]
fn append_limit_refuses_large_append() {
    let c = tls().with_append_limit(Some(20));
    run(
        &c,
        &[
            SHas(b"APPENDLIMIT=20"),
            C(b"a LOGIN joe secret\r\n"),
            SHas(b"a OK [CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL- APPENDLIMIT=20 IDLE"),
            C(b"b APPEND INBOX {21}\r\n"),
            S(b"b NO [TOOBIG] literal too large\r\n"),
            C(b"c APPEND INBOX {5}\r\n"),
            S(b"+ ready for literal data\r\n"),
            C(b"hello\r\n"),
            SHas(b"c OK [APPENDUID "),
        ],
    );
}

/// APPENDLIMIT never advertises more than the session accepts: the smaller of the configured
/// limit and `max_literal`, and a message up to it is taken even when the framing limits'
/// message size is smaller (the message is streamed, not held).
#[test]
fn appendlimit_is_what_the_server_accepts() {
    let mut log = Vec::new();
    let mut store = MemoryStore::new();
    let sid = store.open_session();
    // The configured limit is above max_literal: max_literal is advertised and enforced.
    let c = tls().with_max_literal(3000).with_append_limit(Some(5000));
    let mut s = Server::new(c, Instant::now());
    assert!(
        s.capabilities()
            .contains(&Capability::AppendLimit(Some(3000)))
    );
    let out = feed_append(&mut s, &mut store, sid, b"a LOGIN joe secret\r\n", &mut log);
    assert!(out.contains(" APPENDLIMIT=3000 "), "{out}");
    let out = feed_append(
        &mut s,
        &mut store,
        sid,
        b"b APPEND INBOX {3001}\r\n",
        &mut log,
    );
    assert_eq!(out, "b NO [TOOBIG] literal too large\r\n");
    let out = feed_append(
        &mut s,
        &mut store,
        sid,
        b"c APPEND INBOX {3000}\r\n",
        &mut log,
    );
    assert_eq!(out, "+ ready for literal data\r\n");
    let mut msg = vec![b'z'; 3000];
    msg.extend_from_slice(b"\r\n");
    let out = feed_append(&mut s, &mut store, sid, &msg, &mut log);
    assert!(out.starts_with("c OK [APPENDUID "), "{out}");
    // Framing limits smaller than the APPEND limit do not refuse an advertised size.
    let mut c = tls()
        .with_max_literal(20_000)
        .with_append_limit(Some(20_000));
    c.limits = imapwire_codec::Limits::default().with_max_message(4000);
    let mut s = Server::new(c, Instant::now());
    assert!(
        s.capabilities()
            .contains(&Capability::AppendLimit(Some(20_000)))
    );
    feed_append(&mut s, &mut store, sid, b"a LOGIN joe secret\r\n", &mut log);
    let out = feed_append(
        &mut s,
        &mut store,
        sid,
        b"d APPEND INBOX {20000}\r\n",
        &mut log,
    );
    assert_eq!(out, "+ ready for literal data\r\n");
    let mut msg = vec![b'w'; 20_000];
    msg.extend_from_slice(b"\r\n");
    let out = feed_append(&mut s, &mut store, sid, &msg, &mut log);
    assert!(out.starts_with("d OK [APPENDUID "), "{out}");
    let lens: Vec<usize> = store.messages(b"INBOX").iter().map(|m| m.2.len()).collect();
    assert_eq!(lens, [3000, 20_000]);
}

#[test]
fn application_decides_literals() {
    let c = tls().with_literal_decisions(LiteralDecisions::Application);
    let ev = run(
        &c,
        &[
            S(GREETING_TLS),
            C(b"a LOGIN joe {6}\r\n"),
            S(b""),
            Do(Box::new(|s, now| {
                s.reject_literal(now, Status::Bad, None, "no literals here")
                    .unwrap();
            })),
            S(b"a BAD no literals here\r\n"),
            C(b"b LOGIN joe {6}\r\n"),
            Do(Box::new(|s, now| s.accept_literal(now).unwrap())),
            S(b"+ ready for literal data\r\n"),
            C(b"secret\r\n"),
            SHas(AUTHED_CAPS),
        ],
    );
    assert!(
        ev[0].starts_with(
            "LiteralAnnounced { tag: Some(b\"a\"), command: Some(b\"LOGIN\"), length: 6"
        ),
        "{ev:?}"
    );
    assert_eq!(ev.len(), 3);
}

#[test]
fn starttls_discards_injected_commands() {
    let input: &[u8] = b"a STARTTLS\r\nb LOGIN joe secret\r\n";
    // Whatever the chunking, the injected command is never executed, and the bytes are
    // reported: in the hand-off event (same read) or by transport_upgraded (later reads).
    for split in 1..input.len() {
        let now = Instant::now();
        let mut s = Server::new(cfg().with_starttls(true), now);
        while s.poll_transmit(now).is_some() {}
        let mut out = Vec::new();
        for piece in [&input[..split], &input[split..]] {
            assert_eq!(s.handle_input(now, piece), piece.len());
            while let Some(b) = s.poll_transmit(now) {
                out.extend_from_slice(&b);
            }
        }
        assert_eq!(out, b"a OK begin TLS negotiation now\r\n", "split {split}");
        let mut discarded = Vec::new();
        let mut handoffs = 0;
        while let Some(e) = s.poll_event() {
            match e {
                Event::HandOff(HandOff::StartTls { discarded: d }) => {
                    handoffs += 1;
                    discarded.extend_from_slice(&d);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(handoffs, 1);
        discarded.extend_from_slice(&s.transport_upgraded(now).unwrap());
        assert_eq!(discarded, b"b LOGIN joe secret\r\n", "split {split}");
        assert_eq!(*s.state(), State::NotAuthenticated);
        assert!(s.is_encrypted());
        let c = b"c CAPABILITY\r\n";
        assert_eq!(s.handle_input(now, c), c.len());
        let mut out = Vec::new();
        while let Some(b) = s.poll_transmit(now) {
            out.extend_from_slice(&b);
        }
        assert_eq!(
            String::from_utf8_lossy(&out),
            "* CAPABILITY IMAP4rev2 IMAP4rev1 AUTH=PLAIN AUTH=LOGIN AUTH=SCRAM-SHA-256 AUTH=SCRAM-SHA-1 AUTH=OAUTHBEARER AUTH=XOAUTH2 LITERAL- IDLE ENABLE SASL-IR ID NAMESPACE UIDPLUS MOVE UNSELECT CONDSTORE\r\nc OK done\r\n"
        );
    }
}

#[test]
fn idle_done_and_hold_timer() {
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(b"b IDLE\r\n"),
            S(b"+ idling\r\n"),
            C(b"DONE\r\n"),
            S(b"b OK IDLE terminated\r\n"),
            C(b"c IDLE\r\n"),
            S(b"+ idling\r\n"),
            C(b"NOOP\r\n"),
            S(b"c BAD expected DONE\r\n"),
            C(b"d IDLE\r\n"),
            S(b"+ idling\r\n"),
            Wait(Duration::from_secs(31 * 60)),
            S(b"* BYE [UNAVAILABLE] IDLE held too long\r\n"),
        ],
    );
}

#[test]
fn autologout_before_and_after_authentication() {
    let ev = run(
        &tls(),
        &[
            S(GREETING_TLS),
            Wait(Duration::from_secs(119)),
            C(b"a NOOP\r\n"),
            S(b"a OK done\r\n"),
            Wait(Duration::from_secs(121)),
            S(b"* BYE [UNAVAILABLE] autologout: idle too long\r\n"),
        ],
    );
    assert_eq!(ev, ["Closed(Autologout)"]);
    // Authenticated: at least 30 minutes, even when configured shorter.
    let c = tls().with_autologout(Duration::from_secs(10), Duration::from_secs(60));
    run(
        &c,
        &[
            S(GREETING_TLS),
            C(b"a LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            Wait(Duration::from_secs(29 * 60)),
            S(b""),
            Wait(Duration::from_secs(61)),
            S(b"* BYE [UNAVAILABLE] autologout: idle too long\r\n"),
        ],
    );
}

#[test]
fn logout_enable_id_and_eof() {
    let ev = run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a ID NIL\r\n"),
            S(b"* ID NIL\r\na OK done\r\n"),
            C(b"b ENABLE CONDSTORE\r\n"),
            S(b"b BAD ENABLE not valid before authentication\r\n"),
            C(b"c LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(b"d ENABLE CONDSTORE QRESYNC X-UNKNOWN\r\n"),
            S(b"* ENABLED CONDSTORE\r\nd OK done\r\n"),
            C(b"e LOGOUT\r\nf NOOP\r\n"),
            S(b"* BYE logging out\r\ne OK done\r\n"),
        ],
    );
    assert_eq!(ev.last().map(String::as_str), Some("Closed(Logout)"));
    let ev = run(&tls(), &[S(GREETING_TLS), Eof]);
    assert_eq!(ev, ["Closed(PeerClosed)"]);
}

#[test]
fn back_pressure_when_client_does_not_read() {
    let now = Instant::now();
    let mut s = Server::new(tls().with_max_output(1000), now);
    let line = b"a CAPABILITY\r\n".repeat(10_000);
    let mut taken = 0;
    for _ in 0..100 {
        let n = s.handle_input(now, &line[taken..]);
        taken += n;
        if n == 0 {
            break;
        }
    }
    assert!(taken < line.len(), "input stops being taken");
    assert!(
        s.queued_output() < 1000 + 512,
        "output bounded: {}",
        s.queued_output()
    );
    // Reading the output lets the held commands run, without more input arriving.
    let mut out = Vec::new();
    while let Some(b) = s.poll_transmit(now) {
        out.extend_from_slice(&b);
    }
    let answered = String::from_utf8_lossy(&out)
        .matches("a OK done\r\n")
        .count();
    assert!(answered > 0);
    let n = s.handle_input(now, &line[taken..]);
    assert!(n > 0, "input resumes once output is read");
    taken += n;
    // Every command is answered once, whatever the back-pressure did.
    let mut rest = &line[taken..];
    for _ in 0..100_000 {
        while let Some(b) = s.poll_transmit(now) {
            out.extend_from_slice(&b);
        }
        if rest.is_empty() {
            break;
        }
        let n = s.handle_input(now, rest);
        rest = &rest[n..];
    }
    let text = String::from_utf8_lossy(&out);
    assert_eq!(text.matches("a OK done\r\n").count(), 10_000);
}

fn other_selects(store: &mut MemoryStore, sid: SessionId) {
    let r = store.handle(
        sid,
        Request::Select {
            mailbox: Mailbox::Inbox,
            read_only: false,
            params: vec![],
        },
    );
    assert_eq!(r.status, Status::Ok);
}

pub(super) fn other_stores_flag(store: &mut MemoryStore, sid: SessionId, uid: u32, flag: Flag) {
    other_selects(store, sid);
    let r = store.handle(
        sid,
        Request::Store {
            uids: vec![uid],
            kind: imapwire_codec::command::StoreType::Add,
            silent: true,
            data: imapwire_codec::command::StoreData::Flags(vec![flag].into()),
            modifiers: vec![],
        },
    );
    assert_eq!(r.status, Status::Ok);
}

pub(super) fn other_expunges(store: &mut MemoryStore, sid: SessionId, uid: u32) {
    other_stores_flag(store, sid, uid, Flag::Deleted);
    let r = store.handle(
        sid,
        Request::Expunge {
            uids: Some(vec![uid]),
        },
    );
    assert_eq!(r.data, [ReplyData::Expunged(uid)]);
}

use imapwire_codec::flag::Flag;

const SELECT_INBOX: &[u8] = b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 2 EXISTS\r\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] flags permitted\r\n* OK [UIDVALIDITY 1] UIDs valid\r\n* OK [UIDNEXT 3] predicted next UID\r\nb OK [READ-WRITE] done\r\n";

#[test]
fn select_fetch_store_search_expunge() {
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(b"b SELECT INBOX\r\n"),
            S(SELECT_INBOX),
            C(b"c FETCH 1:* (FLAGS RFC822.SIZE)\r\n"),
            S(b"* 1 FETCH (FLAGS () RFC822.SIZE 26)\r\n* 2 FETCH (FLAGS () RFC822.SIZE 26)\r\nc OK done\r\n"),
            C(b"d UID FETCH 2 BODY.PEEK[]<0.12>\r\n"),
            S(b"* 2 FETCH (UID 2 BODY[]<0> \"Subject: two\")\r\nd OK done\r\n"),
            C(b"d2 FETCH 1 BODY[]\r\n"),
            S(b"* 1 FETCH (BODY[] {26}\r\nSubject: one\r\n\r\nbody one\r\n FLAGS (\\Seen))\r\nd2 OK done\r\n"),
            C(b"e STORE 2 +FLAGS (\\Deleted)\r\n"),
            S(b"* 2 FETCH (FLAGS (\\Deleted))\r\ne OK done\r\n"),
            C(b"f SEARCH DELETED\r\n"),
            S(b"* SEARCH 2\r\nf OK done\r\n"),
            C(b"f2 UID SEARCH UID 1:*\r\n"),
            S(b"* SEARCH 1 2\r\nf2 OK done\r\n"),
            C(b"g EXPUNGE\r\n"),
            S(b"* 2 EXPUNGE\r\ng OK done\r\n"),
            C(b"h FETCH 2 FLAGS\r\n"),
            S(b"h BAD invalid message sequence number\r\n"),
            C(b"i CLOSE\r\n"),
            S(b"i OK done\r\n"),
            C(b"j FETCH 1 FLAGS\r\n"),
            S(b"j BAD FETCH no mailbox selected\r\n"),
        ],
    );
}

#[test]
fn mailbox_management_append_copy_move() {
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(b"b CREATE Archive\r\n"),
            S(b"b OK done\r\n"),
            C(b"b2 CREATE archive\r\nb3 CREATE Archive\r\n"),
            S(b"b2 OK done\r\nb3 NO [ALREADYEXISTS] mailbox exists\r\n"),
            C(b"c LIST \"\" *\r\n"),
            S(b"* LIST (\\HasNoChildren) \"/\" Archive\r\n* LIST (\\HasNoChildren) \"/\" INBOX\r\n* LIST (\\HasNoChildren) \"/\" archive\r\nc OK done\r\n"),
            C(b"d STATUS INBOX (MESSAGES UIDNEXT UNSEEN)\r\n"),
            S(b"* STATUS INBOX (MESSAGES 2 UIDNEXT 3 UNSEEN 2)\r\nd OK done\r\n"),
            C(b"e APPEND Archive (\\Seen) {5+}\r\nhello\r\n"),
            S(b"e OK [APPENDUID 2 1] done\r\n"),
            C(b"e2 APPEND Nowhere {1+}\r\nx\r\n"),
            S(b"e2 NO [TRYCREATE] no such mailbox\r\n"),
            C(b"f SELECT INBOX\r\n"),
            SHas(b"f OK [READ-WRITE] done\r\n"),
            C(b"g COPY 1:2 Archive\r\n"),
            S(b"g OK [COPYUID 2 1:2 2:3] done\r\n"),
            C(b"h MOVE 1 Archive\r\n"),
            // RFC 6851 §4.3: COPYUID before the expunges.
            S(b"* OK [COPYUID 2 1 4] moved\r\n* 1 EXPUNGE\r\nh OK done\r\n"),
            C(b"i UID MOVE 2 Archive\r\n"),
            S(b"* OK [COPYUID 2 2 5] moved\r\n* 1 EXPUNGE\r\ni OK done\r\n"),
            C(b"j STATUS Archive (MESSAGES)\r\n"),
            S(b"* STATUS Archive (MESSAGES 5)\r\nj OK done\r\n"),
            C(b"k EXAMINE Archive\r\n"),
            SHas(b"* OK [CLOSED] previous mailbox closed\r\n"),
            C(b"l STORE 1 +FLAGS (\\Seen)\r\nm EXPUNGE\r\n"),
            S(b"l NO [READ-ONLY] read-only\r\nm NO [READ-ONLY] read-only\r\n"),
        ],
    );
}

#[test]
fn uidplus_codes_only_when_uidplus_is_offered() {
    // Without UIDPLUS in the capabilities, APPEND/COPY/MOVE complete with no APPENDUID or
    // COPYUID (the memory store gives them; the session drops them).
    let mut config = tls();
    config.extensions.retain(|c| *c != Capability::UidPlus);
    run(
        &config,
        &[
            SHas(b"IMAP server ready\r\n"),
            C(b"a LOGIN joe secret\r\n"),
            SHas(b"a OK"),
            C(b"b CREATE Archive\r\n"),
            S(b"b OK done\r\n"),
            C(b"c CAPABILITY\r\n"),
            S(b"* CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL- IDLE ENABLE SASL-IR ID NAMESPACE MOVE UNSELECT CONDSTORE\r\nc OK done\r\n"),
            C(b"e APPEND Archive (\\Seen) {5+}\r\nhello\r\n"),
            S(b"e OK done\r\n"),
            C(b"f SELECT INBOX\r\n"),
            SHas(b"f OK [READ-WRITE] done\r\n"),
            C(b"g COPY 1:2 Archive\r\n"),
            S(b"g OK done\r\n"),
            C(b"h MOVE 1 Archive\r\n"),
            S(b"* 1 EXPUNGE\r\nh OK done\r\n"),
            C(b"i STATUS Archive (MESSAGES)\r\n"),
            S(b"* STATUS Archive (MESSAGES 4)\r\ni OK done\r\n"),
        ],
    );
}

/// RFC 9051 §7.5.1: no EXPUNGE while a FETCH/STORE/SEARCH by sequence number runs; EXISTS
/// and flag changes go out before the completion; the session's numbers stay consistent.
#[test]
fn unilateral_updates_respect_expunge_rule() {
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(b"b SELECT INBOX\r\n"),
            S(SELECT_INBOX),
            Other(Box::new(|st, sid| {
                other_expunges(st, sid, 1);
                other_stores_flag(st, sid, 2, Flag::Flagged);
                st.deliver(&Mailbox::Inbox, Bytes::from_static(b"new\r\n"), vec![]);
            })),
            // Nothing is sent while no command is in progress.
            S(b""),
            C(b"c FETCH 1:* FLAGS\r\n"),
            // Message 1 (expunged elsewhere) is still message 1 here: no data for it (the
            // store no longer has it), its expunge is held, the flag changes and the new
            // message are reported.
            S(b"* 2 FETCH (FLAGS (\\Flagged))\r\n* 1 FETCH (FLAGS (\\Deleted))\r\n* 2 FETCH (FLAGS (\\Flagged))\r\n* 3 EXISTS\r\nc OK done\r\n"),
            C(b"d UID FETCH 1:* FLAGS\r\n"),
            S(b"* 2 FETCH (UID 2 FLAGS (\\Flagged))\r\n* 3 FETCH (UID 3 FLAGS ())\r\n* 1 EXPUNGE\r\nd OK done\r\n"),
            C(b"e FETCH 2 UID\r\n"),
            S(b"* 2 FETCH (UID 3)\r\ne OK done\r\n"),
        ],
    );
}

#[test]
fn idle_delivers_updates_at_once() {
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(b"b SELECT INBOX\r\n"),
            S(SELECT_INBOX),
            C(b"c IDLE\r\n"),
            S(b"+ idling\r\n"),
            Other(Box::new(|st, _| {
                st.deliver(&Mailbox::Inbox, Bytes::from_static(b"new\r\n"), vec![]);
            })),
            S(b"* 3 EXISTS\r\n"),
            // The other session sets \Deleted, then expunges.
            Other(Box::new(|st, sid| other_expunges(st, sid, 2))),
            S(b"* 2 FETCH (FLAGS (\\Deleted))\r\n* 2 EXPUNGE\r\n"),
            C(b"DONE\r\n"),
            S(b"c OK IDLE terminated\r\n"),
            C(b"d FETCH 2 UID\r\n"),
            S(b"* 2 FETCH (UID 3)\r\nd OK done\r\n"),
        ],
    );
}

/// Another session renames INBOX.
fn other_renames_inbox(store: &mut MemoryStore, sid: SessionId) {
    let r = store.handle(
        sid,
        Request::Command(CommandBody::Rename {
            from: Mailbox::Inbox,
            to: Mailbox::try_from("Old").unwrap(),
        }),
    );
    assert_eq!(r.status, Status::Ok, "{r:?}");
}

/// RENAME INBOX moves INBOX's messages out (RFC 9051 §6.3.6): a session with INBOX selected
/// is told they are gone like after an expunge elsewhere, at once in IDLE, at its next
/// command otherwise, as VANISHED with QRESYNC; the renaming session, when INBOX is
/// selected there, in RENAME's own reply. Before, only the store's change log knew.
#[test]
fn rename_inbox_expunges_in_every_session_with_inbox_selected() {
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(b"b SELECT INBOX\r\n"),
            S(SELECT_INBOX),
            C(b"c IDLE\r\n"),
            S(b"+ idling\r\n"),
            Other(Box::new(other_renames_inbox)),
            S(b"* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n"),
            C(b"DONE\r\n"),
            S(b"c OK IDLE terminated\r\n"),
            C(b"d STATUS Old (MESSAGES UIDNEXT)\r\n"),
            S(b"* STATUS Old (MESSAGES 2 UIDNEXT 3)\r\nd OK done\r\n"),
            // Delivered to the empty INBOX, then renamed away by this session.
            Other(Box::new(|st, _| {
                st.deliver(&Mailbox::Inbox, Bytes::from_static(b"new\r\n"), vec![]);
            })),
            C(b"e NOOP\r\n"),
            S(b"* 1 EXISTS\r\ne OK done\r\n"),
            C(b"f RENAME INBOX Older\r\n"),
            S(b"* 1 EXPUNGE\r\nf OK done\r\n"),
            C(b"g NOOP\r\n"),
            S(b"g OK done\r\n"),
        ],
    );
    let c = tls().with_extensions(vec![Capability::CondStore, Capability::QResync]);
    run(
        &c,
        &[
            SHas(b"IMAP server ready"),
            C(b"a LOGIN joe secret\r\n"),
            SHas(b"authenticated"),
            C(b"b ENABLE QRESYNC\r\n"),
            S(b"* ENABLED QRESYNC\r\nb OK done\r\n"),
            C(b"c SELECT INBOX\r\n"),
            SHas(b"c OK [READ-WRITE] done\r\n"),
            Other(Box::new(other_renames_inbox)),
            S(b""),
            C(b"d NOOP\r\n"),
            S(b"* VANISHED 1\r\n* VANISHED 2\r\nd OK done\r\n"),
            // A client resynchronizing from before learns the same.
            C(b"e SELECT INBOX (QRESYNC (1 1))\r\n"),
            SHas(b"* VANISHED (EARLIER) 1:2\r\n"),
            // Renamed by this session: VANISHED, and the new HIGHESTMODSEQ in the tagged
            // OK as EXPUNGE's (RFC 7162 §3.2.7); a resync from it learns nothing more.
            Other(Box::new(|st, _| {
                st.deliver(&Mailbox::Inbox, Bytes::from_static(b"new\r\n"), vec![]);
            })),
            C(b"f NOOP\r\n"),
            S(b"* 1 EXISTS\r\nf OK done\r\n"),
            C(b"g RENAME INBOX Older\r\n"),
            S(b"* VANISHED 3\r\ng OK [HIGHESTMODSEQ 6] done\r\n"),
            C(b"h SELECT INBOX (QRESYNC (1 6))\r\n"),
            S(b"* OK [CLOSED] previous mailbox closed\r\n\
                * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n\
                * 0 EXISTS\r\n\
                * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] \
                flags permitted\r\n\
                * OK [UIDVALIDITY 1] UIDs valid\r\n\
                * OK [UIDNEXT 4] predicted next UID\r\n\
                * OK [HIGHESTMODSEQ 6] highest\r\n\
                h OK [READ-WRITE] done\r\n"),
        ],
    );
}

#[test]
fn condstore_and_qresync_answers() {
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(b"b ENABLE CONDSTORE\r\n"),
            S(b"* ENABLED CONDSTORE\r\nb OK done\r\n"),
            C(b"b SELECT INBOX\r\n"),
            SHas(b"* OK [HIGHESTMODSEQ 3] highest\r\nb OK [READ-WRITE] done\r\n"),
            C(b"c STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)\r\n"),
            S(b"c OK [MODIFIED 1] done\r\n"),
            C(b"d STORE 1 (UNCHANGEDSINCE 2) +FLAGS (\\Seen)\r\n"),
            // RFC 7162 §3.2.4: UID and MODSEQ in every FETCH a STORE or another session
            // causes once CONDSTORE is enabled.
            S(b"* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (4))\r\nd OK done\r\n"),
            C(b"e FETCH 1:* (FLAGS) (CHANGEDSINCE 3)\r\n"),
            // RFC 7162 §3.1.4.1: "When the CHANGEDSINCE FETCH modifier is specified, it
            // implicitly adds the MODSEQ FETCH message data item"; and (§3.2.4) a FETCH
            // that includes MODSEQ carries UID too once CONDSTORE is enabled.
            S(b"* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (4))\r\ne OK done\r\n"),
            Other(Box::new(|st, sid| {
                other_stores_flag(st, sid, 2, Flag::Answered)
            })),
            C(b"f NOOP\r\n"),
            S(b"* 2 FETCH (UID 2 FLAGS (\\Answered) MODSEQ (5))\r\nf OK done\r\n"),
            // .SILENT with UNCHANGEDSINCE still reports the new MODSEQ (§3.1.3).
            C(b"g STORE 2 (UNCHANGEDSINCE 5) +FLAGS.SILENT (\\Deleted)\r\n"),
            S(b"* 2 FETCH (UID 2 MODSEQ (6))\r\ng OK done\r\n"),
            // The new HIGHESTMODSEQ in EXPUNGE's tagged OK (§3.2.7; optional without QRESYNC).
            C(b"h EXPUNGE\r\n"),
            S(b"* 2 EXPUNGE\r\nh OK [HIGHESTMODSEQ 7] done\r\n"),
            // SEARCH reports the highest MODSEQ of the result when MODSEQ is a criterion
            // (§3.1.5), not otherwise.
            C(b"i SEARCH MODSEQ 2\r\nj SEARCH ALL\r\n"),
            S(b"* SEARCH 1 (MODSEQ 4)\r\ni OK done\r\n* SEARCH 1\r\nj OK done\r\n"),
        ],
    );
}

/// RFC 7162 §3.1: a FETCH naming MODSEQ, a FETCH with CHANGEDSINCE, a SEARCH with MODSEQ, a
/// STORE with UNCHANGEDSINCE and STATUS (HIGHESTMODSEQ) are CONDSTORE enabling commands: "A
/// first CONDSTORE enabling command executed in the session with a mailbox selected MUST
/// cause the server to return HIGHESTMODSEQ", and every later untagged FETCH carries MODSEQ.
#[test]
fn condstore_enabling_commands() {
    let start = || -> Vec<Step> {
        vec![
            S(GREETING_TLS),
            C(b"a LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(b"b SELECT INBOX\r\n"),
            S(SELECT_INBOX),
        ]
    };
    let cases: [(&'static [u8], &'static [u8], &'static [u8]); 5] = [
        (
            b"c FETCH 1 (FLAGS MODSEQ)\r\n",
            b"* OK [HIGHESTMODSEQ 3] highest\r\n* 1 FETCH (UID 1 FLAGS () MODSEQ (2))\r\nc OK done\r\n",
            b"* 2 FETCH (UID 2 MODSEQ (4))\r\ne OK done\r\n",
        ),
        (
            b"c FETCH 1:* (FLAGS) (CHANGEDSINCE 2)\r\n",
            b"* OK [HIGHESTMODSEQ 3] highest\r\n* 2 FETCH (UID 2 FLAGS () MODSEQ (3))\r\nc OK done\r\n",
            b"* 2 FETCH (UID 2 MODSEQ (4))\r\ne OK done\r\n",
        ),
        (
            b"c SEARCH MODSEQ 3\r\n",
            b"* OK [HIGHESTMODSEQ 3] highest\r\n* SEARCH 2 (MODSEQ 3)\r\nc OK done\r\n",
            b"* 2 FETCH (UID 2 MODSEQ (4))\r\ne OK done\r\n",
        ),
        (
            b"c STORE 1 (UNCHANGEDSINCE 5) +FLAGS.SILENT (\\Seen)\r\n",
            b"* OK [HIGHESTMODSEQ 3] highest\r\n* 1 FETCH (UID 1 MODSEQ (4))\r\nc OK done\r\n",
            b"* 2 FETCH (UID 2 MODSEQ (5))\r\ne OK done\r\n",
        ),
        (
            b"c STATUS INBOX (HIGHESTMODSEQ)\r\n",
            b"* OK [HIGHESTMODSEQ 3] highest\r\n* STATUS INBOX (HIGHESTMODSEQ 3)\r\nc OK done\r\n",
            b"* 2 FETCH (UID 2 MODSEQ (4))\r\ne OK done\r\n",
        ),
    ];
    for (cmd, answer, again) in cases {
        let mut steps = start();
        steps.extend([
            C(cmd),
            S(answer),
            // Enabled: another session's flag change now carries UID and MODSEQ, and a
            // second enabling command reports no HIGHESTMODSEQ again.
            Other(Box::new(|st, sid| {
                other_stores_flag(st, sid, 2, Flag::Answered)
            })),
            C(b"d NOOP\r\n"),
            SHas(b"* 2 FETCH (UID 2 FLAGS (\\Answered) MODSEQ ("),
            C(b"e FETCH 2 (MODSEQ)\r\n"),
            S(again),
        ]);
        let _ = run_with(&tls(), &steps, Feed::Whole);
    }
    // Without an enabling command: no MODSEQ, no HIGHESTMODSEQ.
    let mut steps = start();
    steps.extend([
        Other(Box::new(|st, sid| {
            other_stores_flag(st, sid, 2, Flag::Answered)
        })),
        C(b"c NOOP\r\nd SEARCH ALL\r\n"),
        S(b"* 2 FETCH (FLAGS (\\Answered))\r\nc OK done\r\n* SEARCH 1 2\r\nd OK done\r\n"),
    ]);
    run(&tls(), &steps);
}

/// RFC 7162 §3.2.3, §3.2.5, §3.2.6: the QRESYNC parameter and the VANISHED modifier are BAD
/// before ENABLE QRESYNC, VANISHED is BAD with FETCH or without CHANGEDSINCE.
#[test]
fn qresync_parameters_need_enable() {
    let c = tls().with_extensions(vec![Capability::CondStore, Capability::QResync]);
    run(
        &c,
        &[
            SHas(b"IMAP server ready"),
            C(b"a LOGIN joe secret\r\n"),
            SHas(b"authenticated"),
            C(b"b SELECT INBOX (QRESYNC (1 3))\r\n"),
            S(b"b BAD QRESYNC needs ENABLE QRESYNC\r\n"),
            C(b"c SELECT INBOX\r\n"),
            SHas(b"c OK [READ-WRITE] done\r\n"),
            C(b"d UID FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)\r\n"),
            S(b"d BAD VANISHED needs ENABLE QRESYNC\r\n"),
        ],
    );
    run(
        &c,
        &[
            SHas(b"IMAP server ready"),
            C(b"a LOGIN joe secret\r\n"),
            SHas(b"authenticated"),
            C(b"b ENABLE QRESYNC\r\n"),
            S(b"* ENABLED QRESYNC\r\nb OK done\r\n"),
            C(b"c SELECT INBOX\r\n"),
            SHas(b"c OK [READ-WRITE] done\r\n"),
            C(b"d UID FETCH 1:* FLAGS (VANISHED)\r\n"),
            S(b"d BAD VANISHED needs CHANGEDSINCE\r\n"),
            C(b"e FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)\r\n"),
            SHas(b"e BAD "),
        ],
    );
}

/// RFC 9051 §6.3.12 (and §6.4.7, RFC 6851 for COPY/MOVE): new messages of the selected
/// mailbox that a command of this session adds are reported with EXISTS before its tagged
/// OK, so a UID SEARCH right after finds them; the store's later notification of the same
/// messages adds nothing.
#[test]
fn append_copy_move_into_selected_send_exists_first() {
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(b"b SELECT INBOX\r\n"),
            S(SELECT_INBOX),
            C(b"c APPEND INBOX {5+}\r\nhello\r\n"),
            S(b"* 3 EXISTS\r\nc OK [APPENDUID 1 3] done\r\n"),
            C(b"d UID SEARCH ALL\r\n"),
            S(b"* SEARCH 1 2 3\r\nd OK done\r\n"),
            C(b"e COPY 1:2 INBOX\r\n"),
            S(b"* 5 EXISTS\r\ne OK [COPYUID 1 1:2 4:5] done\r\n"),
            C(b"f MOVE 1 INBOX\r\n"),
            S(b"* OK [COPYUID 1 1 6] moved\r\n* 1 EXPUNGE\r\n* 5 EXISTS\r\nf OK done\r\n"),
            C(b"g UID COPY 6 INBOX\r\n"),
            S(b"* 6 EXISTS\r\ng OK [COPYUID 1 6 7] done\r\n"),
            C(b"h UID MOVE 2 INBOX\r\n"),
            S(b"* OK [COPYUID 1 2 8] moved\r\n* 1 EXPUNGE\r\n* 6 EXISTS\r\nh OK done\r\n"),
            C(b"i UID SEARCH ALL\r\nj FETCH 6 UID\r\nk NOOP\r\n"),
            S(b"* SEARCH 3 4 5 6 7 8\r\ni OK done\r\n* 6 FETCH (UID 8)\r\nj OK done\r\nk OK done\r\n"),
            // Into another mailbox: no EXISTS here.
            C(b"l CREATE Other\r\nm APPEND Other {1+}\r\nx\r\nn COPY 1 Other\r\n"),
            S(b"l OK done\r\nm OK [APPENDUID 2 1] done\r\nn OK [COPYUID 2 3 2] done\r\n"),
        ],
    );
}

/// The messages another session added before this session's APPEND, whose notifications
/// are still on their way, come in the same EXISTS (a view that skipped them could never
/// take them in after the newer UID); their notifications, when they arrive, add nothing;
/// an expunge among them is sent when allowed.
#[test]
fn own_append_overtakes_notifications_in_flight() {
    run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(b"b SELECT INBOX\r\n"),
            S(SELECT_INBOX),
            Held(Box::new(|st, sid| {
                st.deliver(&Mailbox::Inbox, Bytes::from_static(b"new\r\n"), vec![]);
                other_expunges(st, sid, 1);
            })),
            C(b"c APPEND INBOX {5+}\r\nhello\r\n"),
            S(b"* 4 EXISTS\r\nc OK [APPENDUID 1 4] done\r\n"),
            Release,
            C(b"d NOOP\r\n"),
            S(b"* 1 FETCH (FLAGS (\\Deleted))\r\n* 1 EXPUNGE\r\nd OK done\r\n"),
            C(b"e UID SEARCH ALL\r\n"),
            S(b"* SEARCH 2 3 4\r\ne OK done\r\n"),
            C(b"f FETCH 3 UID\r\n"),
            S(b"* 3 FETCH (UID 4)\r\nf OK done\r\n"),
        ],
    );
}

#[test]
fn esearch_searchres_and_unauthenticate() {
    let events = run(
        &tls(),
        &[
            S(GREETING_TLS),
            C(b"a LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
            C(b"b SELECT INBOX\r\n"),
            S(SELECT_INBOX),
            C(b"c SEARCH RETURN (MIN MAX COUNT ALL) ALL\r\n"),
            S(b"* ESEARCH (TAG \"c\") MIN 1 MAX 2 ALL 1:2 COUNT 2\r\nc OK done\r\n"),
            C(b"d UID SEARCH RETURN () ALL\r\n"),
            S(b"* ESEARCH (TAG \"d\") UID ALL 1:2\r\nd OK done\r\n"),
            C(b"e SEARCH RETURN (COUNT MIN) DELETED\r\n"),
            S(b"* ESEARCH (TAG \"e\") COUNT 0\r\ne OK done\r\n"),
            C(b"f SEARCH RETURN (SAVE) SUBJECT two\r\n"),
            S(b"f OK done\r\n"),
            C(b"g FETCH $ (UID)\r\n"),
            S(b"* 2 FETCH (UID 2)\r\ng OK done\r\n"),
            C(b"h UID SEARCH UID $\r\n"),
            S(b"* SEARCH 2\r\nh OK done\r\n"),
            C(b"i SEARCH RETURN (SAVE MIN) ALL\r\n"),
            S(b"* ESEARCH (TAG \"i\") MIN 1\r\ni OK done\r\n"),
            C(b"j UID FETCH $ (FLAGS)\r\n"),
            S(b"* 1 FETCH (UID 1 FLAGS ())\r\nj OK done\r\n"),
            C(b"k SEARCH RETURN (PARTIAL 1:5) ALL\r\n"),
            S(b"k BAD unsupported SEARCH RETURN option\r\n"),
            C(b"l UNAUTHENTICATE\r\n"),
            S(b"l OK unauthenticated\r\n"),
            C(b"m FETCH $ (UID)\r\n"),
            S(b"m BAD FETCH not valid before authentication\r\n"),
            C(b"n LOGIN joe secret\r\n"),
            SHas(AUTHED_CAPS),
        ],
    );
    assert!(events.iter().any(|e| e == "Unauthenticated"), "{events:?}");
}

#[test]
fn qresync_select_reports_vanished_and_changed() {
    let c = tls().with_extensions(vec![Capability::CondStore, Capability::QResync]);
    run(
        &c,
        &[
            SHas(b"IMAP server ready"),
            C(b"a LOGIN joe secret\r\n"),
            SHas(b"authenticated"),
            C(b"b ENABLE QRESYNC\r\n"),
            S(b"* ENABLED QRESYNC\r\nb OK done\r\n"),
            Other(Box::new(|st, sid| other_expunges(st, sid, 1))),
            Other(Box::new(|st, sid| {
                other_stores_flag(st, sid, 2, Flag::Answered)
            })),
            C(b"c SELECT INBOX (QRESYNC (1 3))\r\n"),
            SHas(b"* VANISHED (EARLIER) 1\r\n* 1 FETCH (UID 2 FLAGS (\\Answered) MODSEQ (6))\r\nc OK [READ-WRITE] done\r\n"),
            // RFC 7162 §3.2.6: UID FETCH (CHANGEDSINCE n VANISHED) reports the UIDs of its set
            // expunged since n, before the FETCH responses.
            C(b"e UID FETCH 1:* FLAGS (CHANGEDSINCE 4 VANISHED)\r\n"),
            S(b"* VANISHED (EARLIER) 1\r\n* 1 FETCH (UID 2 FLAGS (\\Answered) MODSEQ (6))\r\ne OK done\r\n"),
            C(b"f UID FETCH 2:* FLAGS (CHANGEDSINCE 4 VANISHED)\r\n"),
            S(b"* 1 FETCH (UID 2 FLAGS (\\Answered) MODSEQ (6))\r\nf OK done\r\n"),
            C(b"g UID FETCH 1:* FLAGS (CHANGEDSINCE 6 VANISHED)\r\n"),
            S(b"g OK done\r\n"),
            // With QRESYNC, MOVE and EXPUNGE send VANISHED and the new HIGHESTMODSEQ in the
            // tagged OK (RFC 6851 §4.4, RFC 7162 §3.2.7); a MOVE within the mailbox adds
            // the message at the end before the tagged OK.
            C(b"h UID MOVE 2 INBOX\r\n"),
            S(b"* VANISHED 2\r\n* 1 EXISTS\r\nh OK [HIGHESTMODSEQ 8] done\r\n"),
            C(b"i UID STORE 3 +FLAGS.SILENT (\\Deleted)\r\nj EXPUNGE\r\n"),
            S(b"i OK done\r\n* VANISHED 3\r\nj OK [HIGHESTMODSEQ 10] done\r\n"),
            C(b"k EXPUNGE\r\n"),
            S(b"k OK done\r\n"),
            C(b"d SELECT INBOX (QRESYNC (99 3))\r\n"),
            SHas(b"* OK [CLOSED] previous mailbox closed\r\n* FLAGS"),
        ],
    );
}

#[test]
fn compress_deflate_both_ways() {
    use crate::compress::Deflate;
    let t0 = Instant::now();
    let mut s = Server::new(tls(), t0);
    let mut plain_out = Vec::new();
    while let Some(b) = s.poll_transmit(t0) {
        plain_out.extend_from_slice(&b);
    }
    // The compressed NOOP arrives in the same read as the COMPRESS command.
    let mut client = Deflate::new();
    let mut input = b"a LOGIN joe secret\r\nb COMPRESS DEFLATE\r\n".to_vec();
    let compressed = client
        .compress(b"c NOOP\r\nd COMPRESS DEFLATE\r\n")
        .unwrap();
    input.extend_from_slice(&compressed);
    let mut rest = &input[..];
    while !rest.is_empty() {
        let n = s.handle_input(t0, rest);
        rest = &rest[n..];
        while s.poll_event().is_some() {}
        assert!(n > 0 || rest.is_empty());
    }
    let mut wire = Vec::new();
    while let Some(b) = s.poll_transmit(t0) {
        wire.extend_from_slice(&b);
    }
    let text = String::from_utf8_lossy(&wire).into_owned();
    let ok = "b OK DEFLATE active\r\n";
    let at = text.find(ok).expect("COMPRESS answered in the clear") + ok.len();
    let mut inflated = Vec::new();
    Deflate::new()
        .decompress(&wire[at..], &mut inflated)
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&inflated),
        "c OK done\r\nd NO [COMPRESSIONACTIVE] compression is already active\r\n"
    );
    // Garbage instead of compressed data ends the session, and the close reason says what
    // failed and after how many compressed octets.
    let _ = s.handle_input(t0, &[0xff; 32]);
    assert!(s.is_closed());
    let reason = std::iter::from_fn(|| s.poll_event())
        .find_map(|e| match e {
            Event::Closed(r) => Some(r),
            _ => None,
        })
        .expect("a Closed event");
    let CloseReason::Protocol(ProtocolFault::Inflate { detail, offset }) = &reason else {
        panic!("{reason:?}");
    };
    assert!(!detail.is_empty());
    // The good octets, and perhaps the bad one the inflater read.
    let good = compressed.len() as u64;
    assert!(
        (good..=good + 1).contains(offset),
        "{reason:?} after {good}"
    );
    let shown = format!("{reason:?}");
    assert!(
        shown.contains("Inflate") && shown.contains(detail.as_str()),
        "{shown}"
    );
    let fault = ProtocolFault::Inflate {
        detail: detail.clone(),
        offset: *offset,
    };
    assert_eq!(
        fault.to_string(),
        format!("invalid compressed data from the client at compressed octet {offset}: {detail}")
    );
}

#[test]
fn overlong_line_gets_bad_and_the_connection_goes_on() {
    let t0 = Instant::now();
    let mut s = Server::new(tls(), t0);
    let mut input = b"a LOGIN joe secret\r\nb SEARCH SUBJECT ".to_vec();
    input.extend(std::iter::repeat_n(b'x', 300_000));
    input.extend_from_slice(b"\r\nc NOOP\r\n");
    let mut out = Vec::new();
    let mut rest = &input[..];
    for _ in 0..10_000 {
        let n = s.handle_input(t0, rest);
        rest = &rest[n..];
        while let Some(b) = s.poll_transmit(t0) {
            out.extend_from_slice(&b);
        }
        while s.poll_event().is_some() {}
        if rest.is_empty() {
            break;
        }
    }
    assert!(
        rest.is_empty(),
        "input not taken: {} bytes left",
        rest.len()
    );
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("\r\nb BAD") || text.contains("\r\n* BAD"),
        "{text}"
    );
    assert!(text.ends_with("c OK done\r\n"), "{text}");
}

/// A server with `cfg` and a fresh [`MemoryStore`] session, logged in as joe (the LOGIN is
/// answered OK), with an empty event log for [`feed_append`].
fn logged_in_for_append(cfg: ServerConfig) -> (Server, MemoryStore, SessionId, Vec<String>) {
    let mut s = Server::new(cfg, Instant::now());
    let mut store = MemoryStore::new();
    let sid = store.open_session();
    let mut log = Vec::new();
    let out = feed_append(&mut s, &mut store, sid, b"a LOGIN joe secret\r\n", &mut log);
    assert!(out.contains("a OK"), "{out}");
    (s, store, sid, log)
}

/// Feeds `input` (all of it must be taken) and answers the session's events from `store`;
/// returns the output. Chunk sizes and aborted streams go to `log`.
fn feed_append(
    s: &mut Server,
    store: &mut MemoryStore,
    sid: SessionId,
    input: &[u8],
    log: &mut Vec<String>,
) -> String {
    let now = Instant::now();
    assert_eq!(s.handle_input(now, input), input.len());
    let mut out = Vec::new();
    let mut note = |e: &Event| match e {
        Event::Request {
            request: Request::Append { messages, .. },
            ..
        } => {
            let lens: Vec<String> = messages
                .iter()
                .map(|m| format!("{}:{}", m.stream, m.length))
                .collect();
            log.push(format!("append {}", lens.join(",")));
        }
        Event::AppendChunk { stream, data } => log.push(format!("chunk {stream} {}", data.len())),
        Event::AppendAborted { stream } => log.push(format!("aborted {stream}")),
        _ => {}
    };
    serve(s, store, sid, now, &mut out, &mut note, &mut |_| {});
    String::from_utf8(out).unwrap()
}

/// APPEND messages reach the backend as chunks of at most one read, never whole: an 8 MiB
/// message fed in 16 KiB reads never has more than one read's worth in the session; a
/// MULTIAPPEND mixes streamed and inline messages in order; a LITERAL+ message over the
/// limit, a syntax error after a streamed message and an overlong mailbox name abort the
/// streams and get NO/BAD, and the connection goes on.
#[test]
fn append_streams_messages_in_chunks() {
    const READ: usize = 16 * 1024;
    let cfg = tls()
        .with_max_literal(64 << 20)
        .with_append_limit(Some(32 << 20))
        .with_non_sync_literals(NonSyncLiterals::Plus);
    let (mut s, mut store, sid, mut log) = logged_in_for_append(cfg);
    // 8 MiB, synchronizing.
    let big: Vec<u8> = (0..8u32 << 20)
        .map(|i| b"abcdefghijklmnopqrstuvwxyz\r\n"[(i % 28) as usize])
        .collect();
    let out = feed_append(
        &mut s,
        &mut store,
        sid,
        format!("b APPEND INBOX (\\Seen) {{{}}}\r\n", big.len()).as_bytes(),
        &mut log,
    );
    assert_eq!(out, "+ ready for literal data\r\n");
    let mut most = 0;
    for piece in big.chunks(READ) {
        let out = feed_append(&mut s, &mut store, sid, piece, &mut log);
        assert_eq!(out, "");
        most = most.max(s.rx.buffered());
    }
    assert!(most <= READ, "the session held {most} bytes of the message");
    let chunks: Vec<usize> = log
        .iter()
        .filter_map(|l| l.strip_prefix("chunk A0 "))
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(chunks.iter().sum::<usize>(), big.len());
    assert!(chunks.len() >= big.len() / READ && chunks.iter().all(|&n| n <= READ));
    assert!(
        !log.iter().any(|l| l.starts_with("append")),
        "no request before the end"
    );
    let out = feed_append(&mut s, &mut store, sid, b"\r\n", &mut log);
    assert!(out.starts_with("b OK [APPENDUID "), "{out}");
    assert_eq!(log.last().unwrap(), &format!("append A0:{}", big.len()));
    let stored = store.messages(b"INBOX");
    assert_eq!(stored.len(), 1);
    assert!(stored[0].2 == big, "stored message differs");
    assert_eq!(stored[0].1, vec![Flag::Seen]);
    // MULTIAPPEND with LITERAL+: a short message inline, a long one streamed, in order.
    log.clear();
    let long = vec![b'y'; 3000];
    let mut cmd = b"c APPEND INBOX {5+}\r\nsmall {3000+}\r\n".to_vec();
    cmd.extend_from_slice(&long);
    cmd.extend_from_slice(b"\r\n");
    let out = feed_append(&mut s, &mut store, sid, &cmd, &mut log);
    assert!(out.starts_with("c OK [APPENDUID "), "{out}");
    assert_eq!(log, ["chunk A1 3000", "chunk A2 5", "append A2:5,A1:3000"]);
    let stored = store.messages(b"INBOX");
    assert_eq!(&stored[1].2[..], b"small");
    assert_eq!(&stored[2].2[..], &long[..]);
    // A syntax error after a streamed message: BAD, the stream aborted, nothing stored.
    log.clear();
    let mut cmd = b"d APPEND INBOX {3000+}\r\n".to_vec();
    cmd.extend_from_slice(&long);
    cmd.extend_from_slice(b" junk\r\ne NOOP\r\n");
    let out = feed_append(&mut s, &mut store, sid, &cmd, &mut log);
    assert!(out.starts_with("d BAD"), "{out}");
    assert!(out.ends_with("e OK done\r\n"), "{out}");
    assert_eq!(log, ["chunk A3 3000", "aborted A3"]);
    // A mailbox name over INLINE_APPEND_MAX is a name, not a streamed message.
    log.clear();
    let mut cmd = b"f APPEND {1100+}\r\n".to_vec();
    cmd.extend_from_slice(&[b'm'; 1100]);
    cmd.extend_from_slice(b" {3+}\r\nabc\r\n");
    let out = feed_append(&mut s, &mut store, sid, &cmd, &mut log);
    assert!(out.starts_with("f NO [TRYCREATE] "), "{out}");
    assert_eq!(log, ["chunk A4 3", "append A4:3"]);
    assert_eq!(store.messages(b"INBOX").len(), 3);
    // Over APPENDLIMIT with LITERAL+: the data is dropped as it arrives, NO [TOOBIG].
    let cfg = tls()
        .with_append_limit(Some(2000))
        .with_non_sync_literals(NonSyncLiterals::Plus);
    let mut s = Server::new(cfg, Instant::now());
    let sid = store.open_session();
    log.clear();
    feed_append(&mut s, &mut store, sid, b"a LOGIN joe secret\r\n", &mut log);
    let mut cmd = b"g APPEND INBOX {3000+}\r\n".to_vec();
    cmd.extend_from_slice(&long);
    cmd.extend_from_slice(b"\r\nh NOOP\r\n");
    let out = feed_append(&mut s, &mut store, sid, &cmd, &mut log);
    assert_eq!(out, "g NO [TOOBIG] message too large\r\nh OK done\r\n");
    assert_eq!(log, ["aborted A0"]);
    assert_eq!(store.messages(b"INBOX").len(), 3);
}

/// Which APPEND messages were streamed is what the session did with each literal, not a
/// guess from the decoded command: a MULTIAPPEND of a streamed message and an empty `{0}`
/// one (either order, synchronizing or not) stores both. A synchronizing message refused
/// after a streamed one aborts that stream at once, and the next APPEND maps its own streams.
#[test]
fn multiappend_streamed_and_empty_messages() {
    let cfg = tls().with_non_sync_literals(NonSyncLiterals::Plus);
    let (mut s, mut store, sid, mut log) = logged_in_for_append(cfg);
    let long = vec![b'y'; 3000];
    // Streamed, then empty (LITERAL+).
    let mut cmd = b"b APPEND INBOX {3000+}\r\n".to_vec();
    cmd.extend_from_slice(&long);
    cmd.extend_from_slice(b" {0+}\r\n\r\n");
    let out = feed_append(&mut s, &mut store, sid, &cmd, &mut log);
    assert!(out.starts_with("b OK [APPENDUID "), "{out}");
    assert_eq!(log, ["chunk A0 3000", "append A0:3000,A1:0"]);
    // Empty, then streamed (synchronizing).
    log.clear();
    let out = feed_append(&mut s, &mut store, sid, b"c APPEND INBOX {0}\r\n", &mut log);
    assert_eq!(out, "+ ready for literal data\r\n");
    let out = feed_append(&mut s, &mut store, sid, b" {3000}\r\n", &mut log);
    assert_eq!(out, "+ ready for literal data\r\n");
    let mut rest = long.clone();
    rest.extend_from_slice(b"\r\n");
    let out = feed_append(&mut s, &mut store, sid, &rest, &mut log);
    assert!(out.starts_with("c OK [APPENDUID "), "{out}");
    assert_eq!(log, ["chunk A2 3000", "append A3:0,A2:3000"]);
    let stored = store.messages(b"INBOX");
    let lens: Vec<usize> = stored.iter().map(|m| m.2.len()).collect();
    assert_eq!(lens, [3000, 0, 0, 3000]);
    assert!(stored[0].2 == long && stored[3].2 == long);
    // A streamed message, then a synchronizing one over the limit: NO [TOOBIG] and the
    // stream aborted with the command; the next APPEND is not confused by it.
    log.clear();
    let mut cmd = b"d APPEND INBOX {3000+}\r\n".to_vec();
    cmd.extend_from_slice(&long);
    cmd.extend_from_slice(format!(" {{{}}}\r\n", 40u64 << 20).as_bytes());
    let out = feed_append(&mut s, &mut store, sid, &cmd, &mut log);
    assert_eq!(out, "d NO [TOOBIG] literal too large\r\n");
    assert_eq!(log, ["chunk A4 3000", "aborted A4"]);
    log.clear();
    let mut cmd = b"e APPEND INBOX {3000+}\r\n".to_vec();
    cmd.extend_from_slice(&long);
    cmd.extend_from_slice(b"\r\n");
    let out = feed_append(&mut s, &mut store, sid, &cmd, &mut log);
    assert!(out.starts_with("e OK [APPENDUID "), "{out}");
    assert_eq!(log, ["chunk A5 3000", "append A5:3000"]);
    assert_eq!(store.messages(b"INBOX").len(), 5);
}

/// Only APPEND messages are streamed: the mailbox name, even a long one, is kept in the
/// command like any other literal, and a literal too large to keep (the command must fit in
/// the input window) is refused with NO [TOOBIG], before its data when it is synchronizing,
/// dropped as it arrives otherwise; the connection goes on.
#[test]
fn append_mailbox_name_is_not_streamed() {
    let cfg = tls().with_non_sync_literals(NonSyncLiterals::Plus);
    let (mut s, mut store, sid, mut log) = logged_in_for_append(cfg);
    let name = "n".repeat(2000);
    let out = feed_append(
        &mut s,
        &mut store,
        sid,
        format!("b CREATE {name}\r\n").as_bytes(),
        &mut log,
    );
    assert!(out.starts_with("b OK"), "{out}");
    // Synchronizing name literal, then the message.
    let out = feed_append(&mut s, &mut store, sid, b"c APPEND {2000}\r\n", &mut log);
    assert_eq!(out, "+ ready for literal data\r\n");
    let out = feed_append(
        &mut s,
        &mut store,
        sid,
        format!("{name} (\\Seen) {{3000}}\r\n").as_bytes(),
        &mut log,
    );
    assert_eq!(out, "+ ready for literal data\r\n");
    let msg = vec![b'q'; 3000];
    let mut rest = msg.clone();
    rest.extend_from_slice(b"\r\n");
    let out = feed_append(&mut s, &mut store, sid, &rest, &mut log);
    assert!(out.starts_with("c OK [APPENDUID "), "{out}");
    assert_eq!(log, ["chunk A0 3000", "append A0:3000"]);
    // LITERAL+ name and message in one read.
    log.clear();
    let mut cmd = format!("d APPEND {{2000+}}\r\n{name} {{3000+}}\r\n").into_bytes();
    cmd.extend_from_slice(&msg);
    cmd.extend_from_slice(b"\r\n");
    let out = feed_append(&mut s, &mut store, sid, &cmd, &mut log);
    assert!(out.starts_with("d OK [APPENDUID "), "{out}");
    assert_eq!(log, ["chunk A1 3000", "append A1:3000"]);
    let stored = store.messages(name.as_bytes());
    assert!(stored.len() == 2 && stored.iter().all(|m| m.2 == msg));
    // A name too large to keep: refused before its data (synchronizing) ...
    log.clear();
    let out = feed_append(&mut s, &mut store, sid, b"e APPEND {70000}\r\n", &mut log);
    assert_eq!(out, "e NO [TOOBIG] literal too large\r\n");
    // ... or dropped as it arrives (LITERAL+), with nothing streamed; the same for any
    // command.
    for cmd in ["f APPEND {70000+}\r\n", "g CREATE {70000+}\r\n"] {
        let mut input = cmd.as_bytes().to_vec();
        input.extend(std::iter::repeat_n(b'n', 70_000));
        if cmd.contains("APPEND") {
            input.extend_from_slice(b" {3+}\r\nabc");
        }
        input.extend_from_slice(b"\r\nh NOOP\r\n");
        let out = feed_append(&mut s, &mut store, sid, &input, &mut log);
        let tag = &cmd[..1];
        assert_eq!(
            out,
            format!("{tag} NO [TOOBIG] literal too large\r\nh OK done\r\n")
        );
    }
    assert!(log.is_empty(), "{log:?}");
    assert_eq!(store.messages(name.as_bytes()).len(), 2);
}

/// Back-pressure on queued APPEND data: a 1 MiB LITERAL+ APPEND fed in one call is not
/// queued whole. The session takes input only while the queued data is under the event
/// window (64 KiB by default), never queues more than that, and goes on as the application
/// takes events; all the bytes arrive in order and the message is stored.
#[test]
fn append_data_queued_is_bounded() {
    const BOUND: usize = 64 * 1024;
    assert_eq!(ServerConfig::default().event_window, BOUND);
    let cfg = tls().with_non_sync_literals(NonSyncLiterals::Plus);
    let (mut s, mut store, sid, _) = logged_in_for_append(cfg);
    let now = Instant::now();
    let body: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    let mut input = format!("b APPEND INBOX {{{}+}}\r\n", body.len()).into_bytes();
    input.extend_from_slice(&body);
    input.extend_from_slice(b"\r\n");
    let mut rest = &input[..];
    let mut got = Vec::new();
    let mut out = Vec::new();
    let mut calls = 0;
    let mut most = 0;
    loop {
        let n = s.handle_input(now, rest);
        rest = &rest[n..];
        calls += 1;
        assert!(n > 0, "no progress");
        // Take the events queued so far (taking them processes nothing), then let
        // poll_transmit resume processing, until there is neither output nor event.
        loop {
            let at_start = s.queued_event_bytes();
            let mut queued = 0;
            let mut any = false;
            while let Some(e) = s.poll_event() {
                any = true;
                match e {
                    Event::AppendChunk { stream, data } => {
                        queued += data.len();
                        got.extend_from_slice(&data);
                        store.append_chunk(sid, stream, &data);
                    }
                    Event::Request { id, request, .. } => {
                        let r = store.handle(sid, request);
                        s.reply(now, id, r).unwrap();
                    }
                    e => panic!("unexpected {e:?}"),
                }
            }
            assert_eq!(queued, at_start, "queued_event_bytes");
            most = most.max(queued);
            let mut sent = false;
            while let Some(b) = s.poll_transmit(now) {
                out.extend_from_slice(&b);
                sent = true;
            }
            if !any && !sent {
                break;
            }
        }
        if rest.is_empty() {
            break;
        }
    }
    assert!(most <= BOUND, "{most} bytes of APPEND data were queued");
    assert!(calls > 1, "the first call took all the input");
    assert!(got == body, "the data arrived changed or out of order");
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with("b OK [APPENDUID "), "{out}");
    let stored = store.messages(b"INBOX");
    assert!(stored.len() == 1 && stored[0].2 == body);
}

/// Bad input pipelined with good commands in one read: each command gets exactly one tagged
/// answer, in order, with the status RFC 9051 §7.1 asks for (BAD for a syntax error or a
/// command not valid in the state, NO [TRYCREATE] for a missing mailbox); lines whose tag
/// cannot be recovered get an untagged BAD; nothing after a bad command is lost.
#[test]
fn bad_input_pipelined_nothing_lost() {
    let mut s = Server::new(tls(), Instant::now());
    let mut store = MemoryStore::new();
    store.deliver(
        &Mailbox::Inbox,
        Bytes::from_static(b"Subject: one\r\n\r\nbody\r\n"),
        vec![],
    );
    let sid = store.open_session();
    let mut log = Vec::new();
    let input: &[u8] = b"a1 FROB\r\n\xff\xfe garbage\r\na2 SELECT\r\n\r\na3 SELECT INBOX\r\n\
        a4 LOGIN joe secret\r\na5 FETCH 1 FLAGS\r\na6 LOGIN joe secret\r\na7 SELECT INBOX\r\n\
        a8 FETCH 1:* (FLAGS\r\na9 STORE 1 +FLAGS (\\Seen)\r\nb1 APPEND NOSUCH {3+}\r\nabc\r\n\
        b2 FETCH 2 FLAGS\r\nb3 UID FETCH 1 (FLAGS)\r\nb4 NOOP\r\n";
    let out = feed_append(&mut s, &mut store, sid, input, &mut log);
    let tagged: Vec<(&str, &str)> = out
        .lines()
        .filter(|l| !l.starts_with("* "))
        .map(|l| {
            let mut w = l.splitn(3, ' ');
            (w.next().unwrap(), w.next().unwrap_or(""))
        })
        .collect();
    assert_eq!(
        tagged,
        [
            ("a1", "BAD"),
            ("a2", "BAD"),
            ("a3", "BAD"),
            ("a4", "OK"),
            ("a5", "BAD"),
            ("a6", "BAD"),
            ("a7", "OK"),
            ("a8", "BAD"),
            ("a9", "OK"),
            ("b1", "NO"),
            ("b2", "BAD"),
            ("b3", "OK"),
            ("b4", "OK"),
        ],
        "{out}"
    );
    assert_eq!(out.matches("\r\n* BAD ").count(), 2, "{out}");
    assert!(out.contains("b1 NO [TRYCREATE]"), "{out}");
    assert!(out.contains("* 1 FETCH (FLAGS (\\Seen))"), "{out}");
    assert!(
        out.contains("* 1 FETCH (FLAGS (\\Seen) UID 1)")
            || out.contains("* 1 FETCH (UID 1 FLAGS (\\Seen))"),
        "{out}"
    );
    assert_eq!(
        *s.state(),
        State::Selected {
            mailbox: Mailbox::Inbox,
            read_only: false
        }
    );
}

// ---- COMPRESS: input inflated in bounded pieces ----

use sha2::{Digest as _, Sha256};

/// What the server holds of received data: its receiver's buffer, a streamed chunk waiting
/// for room in the event window, and the APPEND chunks queued as events. (Besides: the
/// inflater's piece buffer and window, both fixed.)
fn held(s: &Server) -> usize {
    let chunks: usize = s
        .events
        .iter()
        .map(|e| match e {
            Event::AppendChunk { data, .. } => data.len(),
            _ => 0,
        })
        .sum();
    s.held_input() + chunks
}

/// LOGIN, COMPRESS when `compressed`, then `APPEND INBOX {n}` with `body` and a NOOP, all in
/// ONE read, offered again as the calling contract says. Returns the SHA-256 of the APPEND
/// chunks, their count, the stored message's SHA-256, the server's answers (inflated) and the
/// most the server held after any call.
fn append_under(compressed: bool, body: &[u8]) -> (Vec<u8>, usize, Vec<u8>, String, usize) {
    use crate::compress::Deflate;
    let t = Instant::now();
    let mut s = Server::new(tls(), t);
    let mut store = MemoryStore::new();
    let sid = store.open_session();
    let mut input = b"a LOGIN joe secret\r\n".to_vec();
    let mut rest = format!("c APPEND INBOX {{{}}}\r\n", body.len()).into_bytes();
    rest.extend_from_slice(body);
    rest.extend_from_slice(b"\r\nd NOOP\r\n");
    if compressed {
        input.extend_from_slice(b"b COMPRESS DEFLATE\r\n");
        input.extend(Deflate::new().compress(&rest).unwrap());
    } else {
        input.extend(rest);
    }
    let (mut wire, mut hash, mut chunks, mut peak) = (Vec::new(), Sha256::new(), 0, 0);
    let mut left = &input[..];
    let mut calls = 0;
    loop {
        calls += 1;
        assert!(calls < 100_000, "no progress");
        let n = s.handle_input(t, left);
        left = &left[n..];
        peak = peak.max(held(&s));
        loop {
            while let Some(b) = s.poll_transmit(t) {
                wire.extend_from_slice(&b);
            }
            peak = peak.max(held(&s));
            let Some(e) = s.poll_event() else { break };
            peak = peak.max(held(&s));
            match e {
                Event::Request { id, request, .. } => {
                    let r = store.handle(sid, request);
                    s.reply(t, id, r).unwrap();
                }
                Event::AppendChunk { stream, data } => {
                    hash.update(&data);
                    chunks += 1;
                    store.append_chunk(sid, stream, &data);
                }
                _ => {}
            }
        }
        if left.is_empty() {
            break;
        }
    }
    let text = String::from_utf8_lossy(&wire).into_owned();
    let answers = match text.find("b OK DEFLATE active\r\n") {
        Some(at) => {
            let at = at + "b OK DEFLATE active\r\n".len();
            let mut inflated = Vec::new();
            Deflate::new()
                .decompress(&wire[at..], &mut inflated)
                .unwrap();
            String::from_utf8_lossy(&inflated).into_owned()
        }
        None => text,
    };
    let stored = store
        .messages(b"INBOX")
        .last()
        .map(|(_, _, data)| Sha256::digest(data).to_vec())
        .unwrap_or_default();
    (hash.finalize().to_vec(), chunks, stored, answers, peak)
}

#[test]
fn compressed_append_is_streamed_in_bounded_pieces() {
    // INLINE_APPEND_MAX (the most kept whole) + the 64 KiB window + one inflate piece.
    let bound = INLINE_APPEND_MAX as usize + 64 * 1024 + crate::compress::INFLATE_PIECE;
    assert_eq!(bound, 82_944);
    let mut text = Vec::new();
    let mut i = 0u32;
    while text.len() < 8 << 20 {
        text.extend_from_slice(format!("Line {:05} of an appended report.\r\n", i / 64).as_bytes());
        i += 1;
    }
    text.truncate(8 << 20);
    // 8 MiB of text, and a bomb: 30 MiB of one byte (tens of kB on the wire).
    for body in [text, vec![b'a'; 30 << 20]] {
        let want = Sha256::digest(&body).to_vec();
        let (z, z_chunks, z_stored, z_answers, z_peak) = append_under(true, &body);
        let (p, _, p_stored, _, _) = append_under(false, &body);
        assert_eq!(z, want);
        assert_eq!(p, want, "the same bytes as without COMPRESS");
        assert_eq!((z_stored, p_stored), (want.clone(), want));
        assert!(z_answers.contains("c OK [APPENDUID"), "{z_answers}");
        assert!(z_answers.ends_with("d OK done\r\n"), "{z_answers}");
        assert!(
            z_chunks >= body.len() / crate::compress::INFLATE_PIECE,
            "{z_chunks} chunks"
        );
        assert!(z_peak <= bound, "held {z_peak} > {bound}");
        println!(
            "APPEND of {} bytes under COMPRESS: {z_chunks} chunks, held at most {z_peak} (bound {bound})",
            body.len()
        );
    }
}

// ---- every command ends: oversize text after literals ----

/// What a client that follows RFC 9051 §4.3 gets for one command sent as `segments`: each
/// segment but the last ends with a synchronizing literal's announcement, and the next one
/// is sent only after a `+`; once the command's tagged answer came, the rest is not sent.
/// Reads are at most 16 KiB, and what the session did not take is offered again. Returns
/// the output and the most input the session held at any time.
fn converse(
    s: &mut Server,
    store: &mut MemoryStore,
    sid: SessionId,
    tag: &str,
    segments: &[Vec<u8>],
) -> (String, usize) {
    let now = Instant::now();
    let mut out = Vec::new();
    let mut most = 0;
    let tagged = format!("{tag} ");
    let answered = |out: &[u8]| {
        let text = String::from_utf8_lossy(out);
        text.starts_with(&tagged) || text.contains(&format!("\r\n{tagged}"))
    };
    for (i, seg) in segments.iter().enumerate() {
        let mut left = &seg[..];
        let mut calls = 0;
        while !left.is_empty() {
            calls += 1;
            assert!(
                calls < 100_000,
                "{tag}: the session takes no more input (stalled)"
            );
            let n = s.handle_input(now, &left[..left.len().min(16 * 1024)]);
            left = &left[n..];
            most = most.max(s.held_input());
            serve(s, store, sid, now, &mut out, &mut |_| {}, &mut |_| {});
        }
        if i + 1 < segments.len() {
            // The client waits for '+' (or the command's end) before the literal's data.
            let text = String::from_utf8_lossy(&out);
            if answered(&out) {
                break;
            }
            assert!(
                text.ends_with("+ ready for literal data\r\n"),
                "{tag}: neither '+' nor an answer after segment {i}: {text:?}"
            );
        }
    }
    (String::from_utf8(out).unwrap(), most)
}

/// Every command ends, whatever follows its literals: text after an inline literal that
/// pushes the command past the input window, text after a streamed APPEND message
/// (MULTIAPPEND), an oversize quoted string with no literal and with a literal after it,
/// each synchronizing and LITERAL+. Each gets one tagged NO or BAD [TOOBIG] with its tag,
/// the NOOP after it is answered, nothing is stored, and the session never holds more than
/// its input window.
#[test]
fn oversize_commands_end_and_the_connection_goes_on() {
    let window = 64 * 1024;
    let quoted = |n: usize| {
        let mut q = b"\"".to_vec();
        q.extend(std::iter::repeat_n(b'q', n));
        q.push(b'"');
        q
    };
    let keywords = |n: usize| {
        let mut k = b"(".to_vec();
        while k.len() < n {
            k.extend_from_slice(b"kw ");
        }
        k.extend_from_slice(b"kw)");
        k
    };
    let data = |n: usize| vec![b'x'; n];
    let cat = |parts: &[&[u8]]| parts.concat();
    for plus in [false, true] {
        let lit = |n: usize| {
            if plus {
                format!("{{{n}+}}\r\n").into_bytes()
            } else {
                format!("{{{n}}}\r\n").into_bytes()
            }
        };
        // Segments: split after each synchronizing announcement.
        let split = |parts: Vec<Vec<u8>>| -> Vec<Vec<u8>> {
            let mut segs = vec![Vec::new()];
            for p in parts {
                let ends_sync = !plus && p.ends_with(b"}\r\n");
                segs.last_mut().unwrap().extend_from_slice(&p);
                if ends_sync {
                    segs.push(Vec::new());
                }
            }
            segs.retain(|s| !s.is_empty());
            segs
        };
        let cases: Vec<(&str, Vec<Vec<u8>>)> = vec![
            (
                "inline literal, then 10 KB of quoted text",
                split(vec![
                    cat(&[b"a SEARCH TEXT ", &lit(60_000)]),
                    cat(&[&data(60_000), b" TEXT ", &quoted(10_000), b"\r\n"]),
                ]),
            ),
            (
                "inline literal, then text and a literal",
                split(vec![
                    cat(&[b"a SEARCH TEXT ", &lit(60_000)]),
                    cat(&[
                        &data(60_000),
                        b" TEXT ",
                        &quoted(10_000),
                        b" TEXT ",
                        &lit(5),
                    ]),
                    b"abcde\r\n".to_vec(),
                ]),
            ),
            (
                "streamed APPEND message, then an inline one, then 64 KB of flags",
                split(vec![
                    cat(&[b"a APPEND INBOX ", &lit(100_000)]),
                    cat(&[&data(100_000), b" ", &lit(500)]),
                    cat(&[&data(500), b" ", &keywords(65_000), b" ", &lit(500)]),
                    cat(&[&data(500), b"\r\n"]),
                ]),
            ),
            (
                "streamed APPEND message, then 70 KB of flags",
                split(vec![
                    cat(&[b"a APPEND INBOX ", &lit(100_000)]),
                    cat(&[&data(100_000), b" ", &keywords(70_000), b" ", &lit(5)]),
                    b"abcde\r\n".to_vec(),
                ]),
            ),
            (
                "MULTIAPPEND whose text without the streamed messages outgrows the window",
                split(vec![
                    cat(&[b"a APPEND INBOX ", &keywords(20_000), b" ", &lit(2000)]),
                    cat(&[&data(2000), b" ", &keywords(20_000), b" ", &lit(2000)]),
                    cat(&[&data(2000), b" ", &keywords(20_000), b" ", &lit(2000)]),
                    cat(&[&data(2000), b" ", &keywords(20_000), b" ", &lit(2000)]),
                    cat(&[&data(2000), b"\r\n"]),
                ]),
            ),
            (
                "100 KB quoted string, no literal",
                split(vec![cat(&[b"a SEARCH TEXT ", &quoted(100_000), b"\r\n"])]),
            ),
            (
                "100 KB quoted string, then a literal",
                split(vec![
                    cat(&[b"a SEARCH TEXT ", &quoted(100_000), b" TEXT ", &lit(5)]),
                    b"abcde\r\n".to_vec(),
                ]),
            ),
        ];
        for (name, segments) in cases {
            let cfg = tls()
                .with_non_sync_literals(if plus {
                    NonSyncLiterals::Plus
                } else {
                    NonSyncLiterals::Minus
                })
                .with_max_literal(1 << 20);
            assert_eq!(cfg.input_window, window);
            let (mut s, mut store, sid, _) = logged_in_for_append(cfg);
            let (out, most) = converse(&mut s, &mut store, sid, "a", &segments);
            let what = format!("{name} ({}):", if plus { "LITERAL+" } else { "sync" });
            let answers: Vec<&str> = out.lines().filter(|l| l.starts_with("a ")).collect();
            assert_eq!(answers.len(), 1, "{what} {out:?}");
            assert!(
                answers[0].starts_with("a NO [TOOBIG]") || answers[0].starts_with("a BAD [TOOBIG]"),
                "{what} {out:?}"
            );
            assert!(most <= window, "{what} held {most} > {window}");
            let (out, _) = converse(&mut s, &mut store, sid, "n", &[b"n NOOP\r\n".to_vec()]);
            assert_eq!(out, "n OK done\r\n", "{what} after the refusal");
            assert!(
                store.messages(b"INBOX").is_empty(),
                "{what} stored something"
            );
            println!("{what} {}", answers[0]);
        }
    }
}

/// Everything the session queued for the client, as text.
fn sent(s: &mut Server, now: Instant) -> String {
    let mut out = Vec::new();
    while let Some(b) = s.poll_transmit(now) {
        out.extend_from_slice(&b);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The next request the session asks of the application (other events dropped).
fn next_request(s: &mut Server) -> Option<(RequestId, Request)> {
    while let Some(e) = s.poll_event() {
        if let Event::Request { id, request, .. } = e {
            return Some((id, request));
        }
    }
    None
}

/// RFC 7162 §3.1.2.2: a mailbox without mod-sequences is opened with NOMODSEQ (once
/// CONDSTORE is enabled); FETCH MODSEQ or CHANGEDSINCE, SEARCH MODSEQ and STORE
/// UNCHANGEDSINCE are then BAD, and (§3.2.3) expunges are sent as EXPUNGE, not VANISHED,
/// even with QRESYNC.
#[test]
fn nomodseq_mailbox_refuses_modseq_commands() {
    let now = Instant::now();
    let c = tls().with_extensions(vec![Capability::CondStore, Capability::QResync]);
    let mut s = Server::new(c, now);
    let _ = sent(&mut s, now);
    let _ = s.handle_input(
        now,
        b"a LOGIN joe secret\r\nb ENABLE QRESYNC\r\nc SELECT INBOX\r\n",
    );
    let _ = sent(&mut s, now);
    let (id, r) = next_request(&mut s).expect("select");
    assert!(matches!(r, Request::Select { .. }), "{r:?}");
    s.reply(
        now,
        id,
        Reply::ok(vec![ReplyData::Selected(Selected::new(vec![1, 2], 7, 3))]),
    )
    .unwrap();
    let out = sent(&mut s, now);
    assert!(
        out.contains("* OK [NOMODSEQ] no mod-sequences\r\nc OK [READ-WRITE] done\r\n"),
        "{out}"
    );
    for cmd in [
        "d FETCH 1 (MODSEQ)",
        "d UID FETCH 1:* FLAGS (CHANGEDSINCE 1)",
        "d SEARCH MODSEQ 1",
        "d STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)",
    ] {
        let _ = s.handle_input(now, format!("{cmd}\r\n").as_bytes());
        assert_eq!(
            sent(&mut s, now),
            "d BAD the mailbox keeps no mod-sequences (NOMODSEQ)\r\n",
            "{cmd}"
        );
        assert!(next_request(&mut s).is_none(), "{cmd}");
    }
    let _ = s.handle_input(now, b"e EXPUNGE\r\n");
    let (id, r) = next_request(&mut s).expect("expunge");
    assert!(matches!(r, Request::Expunge { uids: None }), "{r:?}");
    s.reply(now, id, Reply::ok(vec![ReplyData::Expunged(1)]))
        .unwrap();
    assert_eq!(sent(&mut s, now), "* 1 EXPUNGE\r\ne OK done\r\n");
}
