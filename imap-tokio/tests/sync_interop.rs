//! The synchronisation engine (`imapwire_session::sync`) against real servers on 127.0.0.1:
//! Dovecot (QRESYNC), Cyrus (QRESYNC, and CONDSTORE when QRESYNC is switched off) and
//! Courier (no CONDSTORE: the RFC 4549 fallback). One `imapwire_tokio::Connection` runs the
//! engine (`Connection::sync`) over implicit TLS; a second one changes the mailbox between
//! synchronisations. After every synchronisation the local copy the change sets built must
//! equal what the second client reads from the server (UIDs, flags, contents).
//!
//! The servers come from `.ci/dovecot.sh`, `.ci/cyrus.sh` and `.ci/courier.sh`, found through
//! the env files named by IMAPWIRE_DOVECOT, IMAPWIRE_CYRUS and IMAPWIRE_COURIER. Missing: the
//! test is skipped, or fails under IMAPWIRE_REQUIRE_INTEROP=1.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bytes::Bytes;
use imapwire_codec::mailbox::Mailbox;
use imapwire_session::client::ReceivedTap;
use imapwire_session::sasl::Secret;
use imapwire_session::sasl::{Credentials, Mechanism};
use imapwire_session::sync::{
    ChangeSet, FlagSet, Journal, LocalChange, ReplicaState, Resolution, SyncConfig, SyncMode,
    SyncOutcome,
};
use imapwire_tokio::record::FileTap;
use imapwire_tokio::{AuthMethod, Config, Connection, Security, TlsConfig};

/// One server under test, from its env file.
struct Server {
    name: &'static str,
    host: String,
    port: u16,
    ca: Vec<u8>,
    user: String,
    password: String,
    /// Prefix of personal mailboxes (Courier's namespace is `INBOX.`).
    prefix: &'static str,
}

/// Reads the env file named by `var` (KEY=VALUE lines); `None` when the variable is unset
/// (a panic under IMAPWIRE_REQUIRE_INTEROP=1).
fn env_file(var: &str) -> Option<HashMap<String, String>> {
    let require = std::env::var("IMAPWIRE_REQUIRE_INTEROP").is_ok_and(|v| v == "1");
    let path = match std::env::var(var) {
        Ok(p) if !p.is_empty() => p,
        _ => {
            assert!(!require, "IMAPWIRE_REQUIRE_INTEROP=1 but {var} is not set");
            eprintln!("skipping: {var} is not set");
            return None;
        }
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{var}={path}: {e}"));
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    )
}

fn server(var: &str, key: &str, name: &'static str, prefix: &'static str) -> Option<Server> {
    let env = env_file(var)?;
    let get = |k: &str| {
        env.get(&format!("{key}_{k}"))
            .unwrap_or_else(|| panic!("{var}: no {key}_{k}"))
            .clone()
    };
    // The last of the users: the first ones are the interop tests' main accounts.
    let user = get("USERS")
        .rsplit(',')
        .next()
        .unwrap_or("alice")
        .to_owned();
    Some(Server {
        name,
        host: get("HOST"),
        port: get("IMAPS_PORT").parse().unwrap(),
        ca: std::fs::read(get("CA")).unwrap(),
        user,
        password: get("PASSWORD"),
        prefix,
    })
}

impl Server {
    fn tls(&self) -> TlsConfig {
        let mut tls = TlsConfig::default();
        assert_eq!(tls.add_roots_pem(&self.ca).unwrap(), 1);
        tls
    }

    /// A client logged in over implicit TLS (the synchronising one, and the second one).
    /// With `IMAPWIRE_RECORD_DIR` set, what it receives is written to
    /// `DIR/<server>/sync_interop-....imap` (decoded by `.ci/recordings.sh`).
    async fn client(&self) -> Connection {
        let mut cfg = Config::new(&self.host, self.port)
            .with_security(Security::ImplicitTls)
            .with_tls(self.tls());
        cfg.session.received_tap = record(self.name);
        let c = Connection::connect(cfg).await.unwrap();
        c.login(&self.user, Secret::new(self.password.clone()))
            .await
            .unwrap();
        c
    }
}

/// A tap writing what a connection receives to a fresh file under
/// `$IMAPWIRE_RECORD_DIR/<server>/`, when the variable is set.
fn record(server: &str) -> Option<ReceivedTap> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::path::PathBuf::from(std::env::var_os("IMAPWIRE_RECORD_DIR")?).join(server);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {dir:?}: {e}"));
    let path = dir.join(format!(
        "sync_interop-{}-{}.imap",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let rec = FileTap::create(&path)
        .unwrap_or_else(|e| panic!("{path:?}: {e}"))
        .remove_on_failure(true)
        .on_failure(|path, e| eprintln!("recording {path:?}: {e}; removed"));
    Some(rec.tap())
}

/// One synchronisation on `a` ([`Connection::sync`]; the test keeps the journal in memory:
/// nothing to persist), which must succeed.
async fn sync(
    a: &Connection,
    s: &Server,
    what: &str,
    cfg: SyncConfig,
    state: ReplicaState,
    journal: Journal,
) -> SyncOutcome {
    a.sync(cfg, state, journal, |_| Ok(()))
        .await
        .unwrap_or_else(|e| panic!("{}: {what} sync: {e}", s.name))
        .unwrap_or_else(|f| panic!("{}: {what} sync: {}", s.name, f.error))
}

/// The application's local copy: flags and contents by UID.
#[derive(Default)]
struct Local {
    uidvalidity: Option<u32>,
    messages: BTreeMap<u32, (FlagSet, Bytes)>,
}

impl Local {
    /// Applies a change set as the docs say: reset, expunges, flags, new messages.
    fn apply(&mut self, c: &ChangeSet) {
        if c.uidvalidity_reset.is_some() || c.uidvalidity != self.uidvalidity {
            self.messages.clear();
        }
        self.uidvalidity = c.uidvalidity;
        for u in &c.expunged {
            self.messages.remove(u);
        }
        for f in &c.flags_changed {
            let m = self
                .messages
                .get_mut(&f.uid)
                .expect("flag change of an unknown UID");
            m.0 = f.flags.clone();
        }
        for n in &c.new_messages {
            let body = n.body.clone().expect("bodies are fetched");
            let old = self.messages.insert(n.uid, (n.flags.clone(), body));
            assert!(old.is_none(), "UID {} downloaded twice", n.uid);
        }
    }
}

fn message(n: &str) -> Vec<u8> {
    format!(
        "From: sync-test@example.com\r\nTo: sync-test@example.com\r\nSubject: message {n}\r\n\
         Message-ID: <{n}.{}@imapwire.test>\r\n\r\nbody of message {n}\r\n",
        std::process::id()
    )
    .into_bytes()
}

/// Records a message's contents by Message-ID (for the comparison) and returns it.
fn add(bodies: &mut HashMap<String, Vec<u8>>, body: Vec<u8>) -> Vec<u8> {
    bodies.insert(message_id(&body), body.clone());
    body
}

fn message_id(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text
        .lines()
        .find(|l| l.starts_with("Message-ID: "))
        .expect("message without Message-ID");
    line["Message-ID: ".len()..].to_owned()
}

async fn append(c: &Connection, mbox: &str, flags: &[&str], body: Vec<u8>) -> u32 {
    let len = body.len() as u64;
    c.append(mbox, flags, len, std::io::Cursor::new(body))
        .await
        .unwrap()
        .expect("APPENDUID (all three servers have UIDPLUS)")
}

/// The replica (state and local copy) equals the server as the second client reads it.
async fn check_equal(
    s: &Server,
    other: &Connection,
    mbox: &str,
    state: &ReplicaState,
    local: &Local,
    bodies: &HashMap<String, Vec<u8>>,
) {
    let info = other.select(mbox).await.unwrap();
    assert_eq!(
        info.uidvalidity, state.uidvalidity,
        "{}: UIDVALIDITY",
        s.name
    );
    let server: BTreeMap<u32, FlagSet> = if info.exists == 0 {
        BTreeMap::new()
    } else {
        other
            .raw_command("UID FETCH 1:* (UID FLAGS)")
            .await
            .unwrap()
            .into_iter()
            .map(|d| {
                let flags = d.flag_strings();
                (
                    d.uid.unwrap(),
                    FlagSet::from_names(flags.iter().map(String::as_str)),
                )
            })
            .collect()
    };
    let replica: BTreeMap<u32, FlagSet> = state
        .messages
        .iter()
        .map(|(u, m)| (*u, m.flags.clone()))
        .collect();
    assert_eq!(
        replica, server,
        "{}: the state differs from the server",
        s.name
    );
    let copy: BTreeMap<u32, FlagSet> = local
        .messages
        .iter()
        .map(|(u, m)| (*u, m.0.clone()))
        .collect();
    assert_eq!(
        copy, server,
        "{}: the local copy differs from the server",
        s.name
    );
    for (uid, (_, body)) in &local.messages {
        let want = &bodies[&message_id(body)];
        assert_eq!(&body[..], &want[..], "{}: contents of UID {uid}", s.name);
    }
}

fn resolution(c: &ChangeSet, entry: u64) -> Resolution {
    c.resolved
        .iter()
        .find(|(id, _)| *id == entry)
        .map(|(_, r)| *r)
        .unwrap_or_else(|| panic!("journal entry {entry} not resolved: {:?}", c.resolved))
}

/// The round trips, on one server. `levels`: the mode of a resync with everything the
/// server offers, and whether it offers CONDSTORE.
async fn round_trips(s: Server, resync_mode: SyncMode, condstore: bool) {
    let other = s.client().await;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mbox = format!("{}sync-{}-{stamp}", s.prefix, std::process::id());
    other.raw_command(&format!("CREATE {mbox}")).await.unwrap();
    let mailbox = Mailbox::try_from(mbox.as_str()).unwrap();
    let cfg = || SyncConfig::new(mailbox.clone());
    let mut bodies = HashMap::new();

    // Three messages, then the first synchronisation downloads them all.
    let m1 = add(&mut bodies, message("1"));
    let m2 = add(&mut bodies, message("2"));
    let m3 = add(&mut bodies, message("3"));
    let u1 = append(&other, &mbox, &[], m1).await;
    let u2 = append(&other, &mbox, &["\\Flagged"], m2).await;
    let u3 = append(&other, &mbox, &["$Work"], m3).await;
    let a = s.client().await;
    let out = sync(
        &a,
        &s,
        "first",
        cfg(),
        ReplicaState::default(),
        Journal::new(),
    )
    .await;
    assert_eq!(out.report.mode, Some(SyncMode::Full), "{}", s.name);
    let got: Vec<u32> = out.changes.new_messages.iter().map(|m| m.uid).collect();
    assert_eq!(got, vec![u1, u2, u3], "{}", s.name);
    let mut local = Local::default();
    local.apply(&out.changes);
    check_equal(&s, &other, &mbox, &out.state, &local, &bodies).await;
    let mut state = out.state;

    // Changes by the second client, and local ones, some on the same messages.
    let m4 = add(&mut bodies, message("4"));
    let m5 = add(&mut bodies, message("5"));
    let u4 = append(&other, &mbox, &[], m4).await;
    let u5 = append(&other, &mbox, &["\\Flagged"], m5).await;
    other.select(&mbox).await.unwrap();
    other
        .store(&u1.to_string(), "+FLAGS (\\Answered)", true)
        .await
        .unwrap();
    other
        .store(&u2.to_string(), "+FLAGS (\\Deleted)", true)
        .await
        .unwrap();
    other.expunge(Some(&u2.to_string())).await.unwrap();
    let mut journal = Journal::new();
    // Both sides changed message 1: merged (\Answered from the server, \Seen from here).
    let j1 = journal.record(LocalChange::Flags {
        uid: u1,
        add: FlagSet::from_names(["\\Seen"]),
        remove: FlagSet::new(),
    });
    // Message 2 is gone from the server: done.
    let j2 = journal.record(LocalChange::Flags {
        uid: u2,
        add: FlagSet::from_names(["\\Seen"]),
        remove: FlagSet::new(),
    });
    let j3 = journal.record(LocalChange::Flags {
        uid: u3,
        add: FlagSet::from_names(["\\Seen"]),
        remove: FlagSet::from_names(["$Work"]),
    });
    let m6 = add(&mut bodies, message("6"));
    let j4 = journal.record(LocalChange::Append {
        message_id: message_id(&m6),
        message: Bytes::from(m6),
        flags: FlagSet::from_names(["\\Draft"]),
    });
    let out = sync(&a, &s, "second", cfg(), state, journal).await;
    assert_eq!(out.report.mode, Some(resync_mode), "{}", s.name);
    assert!(out.journal.is_empty(), "{}: {:?}", s.name, out.journal);
    assert!(
        matches!(
            resolution(&out.changes, j1),
            Resolution::Merged | Resolution::Applied
        ),
        "{}",
        s.name
    );
    assert_eq!(
        resolution(&out.changes, j2),
        Resolution::AlreadyGone,
        "{}",
        s.name
    );
    assert_eq!(
        resolution(&out.changes, j3),
        Resolution::Applied,
        "{}",
        s.name
    );
    let Resolution::Appended(Some(u6)) = resolution(&out.changes, j4) else {
        panic!("{}: the append has no UID", s.name)
    };
    assert!(out.changes.expunged.contains(&u2), "{}", s.name);
    let mut new: Vec<u32> = out.changes.new_messages.iter().map(|m| m.uid).collect();
    new.sort_unstable();
    assert_eq!(new, vec![u4, u5, u6], "{}", s.name);
    local.apply(&out.changes);
    let f1 = &local.messages[&u1].0;
    assert!(
        f1.contains("\\Seen") && f1.contains("\\Answered"),
        "{}: {f1:?}",
        s.name
    );
    check_equal(&s, &other, &mbox, &out.state, &local, &bodies).await;
    state = out.state;

    // One more change by the second client; with CONDSTORE alone where the server has it.
    other
        .store(&u4.to_string(), "+FLAGS (\\Seen)", true)
        .await
        .unwrap();
    let (cfg3, mode3) = if condstore {
        (cfg().with_extensions(false, true), SyncMode::Condstore)
    } else {
        (cfg(), SyncMode::Full)
    };
    let out = sync(&a, &s, "third", cfg3, state, Journal::new()).await;
    assert_eq!(out.report.mode, Some(mode3), "{}", s.name);
    let changed: Vec<u32> = out.changes.flags_changed.iter().map(|f| f.uid).collect();
    assert!(changed.contains(&u4), "{}: {changed:?}", s.name);
    assert!(out.changes.new_messages.is_empty() && out.changes.expunged.is_empty());
    local.apply(&out.changes);
    check_equal(&s, &other, &mbox, &out.state, &local, &bodies).await;

    // Nothing changed: an empty change set.
    let out = sync(&a, &s, "fourth", cfg(), out.state, Journal::new()).await;
    assert_eq!(out.report.mode, Some(resync_mode), "{}", s.name);
    assert!(
        out.changes.new_messages.is_empty()
            && out.changes.expunged.is_empty()
            && out.changes.flags_changed.is_empty(),
        "{}: {:?}",
        s.name,
        out.changes
    );
    local.apply(&out.changes);
    check_equal(&s, &other, &mbox, &out.state, &local, &bodies).await;

    // Clean up (best effort: a leftover mailbox harms no other test).
    let _ = other.select("INBOX").await;
    let _ = other.raw_command(&format!("DELETE {mbox}")).await;
    let _ = other.logout().await;
    let _ = a.logout().await;
}

async fn with_limit(f: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("the round trips took more than 60 s");
}

#[tokio::test]
async fn dovecot_qresync_round_trips() {
    let Some(s) = server("IMAPWIRE_DOVECOT", "DOVECOT", "dovecot", "") else {
        return;
    };
    with_limit(round_trips(s, SyncMode::Qresync, true)).await;
}

#[tokio::test]
async fn cyrus_qresync_and_condstore_round_trips() {
    let Some(s) = server("IMAPWIRE_CYRUS", "CYRUS", "cyrus", "") else {
        return;
    };
    with_limit(round_trips(s, SyncMode::Qresync, true)).await;
}

/// Cyrus (3.6 in CI) advertises SCRAM-SHA-256-PLUS over TLS 1.3 but verifies only the
/// `tls-unique` binding, which TLS 1.3 lacks; the connection offers `tls-exporter`. The
/// automatic choice must log in with SCRAM-SHA-256 (the server profile routes around -PLUS);
/// an explicitly requested SCRAM-SHA-256-PLUS is still attempted, and Cyrus refuses it.
#[tokio::test]
async fn cyrus_auto_authentication_skips_the_plus_it_cannot_verify() {
    let Some(s) = server("IMAPWIRE_CYRUS", "CYRUS", "cyrus", "") else {
        return;
    };
    with_limit(async {
        let connect = || async {
            let cfg = Config::new(&s.host, s.port)
                .with_security(Security::ImplicitTls)
                .with_tls(s.tls());
            Connection::connect(cfg).await.unwrap()
        };
        let creds = || Credentials::password(&s.user, Secret::new(s.password.clone()));
        let c = connect().await;
        let used = c.authenticate(creds(), AuthMethod::Auto).await.unwrap();
        assert_eq!(used, "SCRAM-SHA-256");
        c.logout().await.unwrap();
        let c = connect().await;
        let err = c
            .authenticate(creds(), AuthMethod::Mechanism(Mechanism::ScramSha256Plus))
            .await
            .expect_err("Cyrus verifies no binding this connection can offer");
        assert!(err.is_auth_failure(), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn courier_rfc4549_fallback_round_trips() {
    let Some(s) = server("IMAPWIRE_COURIER", "COURIER", "courier", "INBOX.") else {
        return;
    };
    with_limit(round_trips(s, SyncMode::Full, false)).await;
}
