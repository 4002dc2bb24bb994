//! The async client (`imapwire_tokio::Connection`) and the sync engine against real servers on
//! 127.0.0.1: Dovecot, Cyrus and Courier, each with what it offers (issue 14's last section,
//! issue 15's interop matrix). One body per test group, one test per server
//! (`group::dovecot`, `group::cyrus`, `group::courier`); the table of servers, what they offer
//! and the groups each skips (with the reason, checked) is `tests/common/servers.rs`. The
//! servers are started by `.ci/{dovecot,cyrus,courier}.sh`, which write the files named by
//! `IMAPWIRE_DOVECOT`, `IMAPWIRE_CYRUS` and `IMAPWIRE_COURIER`; without one, its tests say why
//! and pass, unless `IMAPWIRE_REQUIRE_INTEROP=1` (CI), where that is a failure. With
//! `IMAPWIRE_RECORD_DIR` set, what each connection receives is recorded there.

mod common;

use std::io::Cursor;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use common::servers::{Run, Server};
use common::unique;
use imapwire_session::sasl::{Credentials, Mechanism, Secret};
use imapwire_session::sync::{Journal, LocalChange, ReplicaState, SyncConfig, SyncMode};
use imapwire_tokio::backoff::Backoff;
use imapwire_tokio::{
    Account, AccountConfig, AccountEvent, AccountIdle, AccountState, AuthMethod, CertificateReason,
    Config, Connection, Error, FetchedMessage, Fingerprint, IdleEvent, Login, Security, Timeouts,
    TlsConfig,
};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

// Dovecot only (after the matrix's groups): the account client while `.ci/dovecot.sh` stops
// and restarts an instance of its own, and a sync with a mailbox selected (QRESYNC).

crate::matrix!(async;
    mechanisms => Mechanisms,
    wrong_password => WrongPassword,
    expired_token => ExpiredToken,
    starttls => StartTls,
    self_signed_pinning => SelfSignedPinning,
    special_use => SpecialUse,
    list_and_select => ListAndSelect,
    streamed_fetch => StreamedFetch,
    move_messages => Move,
    idle => Idle,
    sync_round_trips => Sync,
    cancel => Cancel,
    append_50_mb => Append50Mb,
);

/// The server to run a group against: `None` when it is absent (not required) or the group
/// is skipped for it, after checking the skip's reason on a logged-in connection.
async fn go(run: Run) -> Option<Server> {
    match run {
        Run::Go(s) => Some(s),
        Run::Absent => None,
        Run::Skip(s, skip) => {
            let conn = login(&s, "alice").await;
            let has = |c: &str| conn.has_capability(c);
            s.check_skip(skip, Some(&has));
            conn.logout().await.unwrap();
            None
        }
    }
}

/// A configuration for the port `port_key` of `s` with the test CA, recording what the
/// connection receives when `IMAPWIRE_RECORD_DIR` is set.
fn ca_config(s: &Server, port_key: &str, security: Security) -> Config {
    let mut tls = TlsConfig::default();
    let pem = std::fs::read(s.ca()).expect("the test CA");
    tls.add_roots_pem(&pem).expect("a PEM CA");
    let mut cfg = Config::new(s.host(), s.port(port_key))
        .with_security(security)
        .with_tls(tls)
        .with_timeouts(Timeouts::all(Duration::from_secs(20)));
    cfg.session.received_tap = s.tap();
    cfg
}

fn password(s: &Server, user: &str) -> Credentials {
    Credentials::password(user, Secret::new(s.password().to_owned()))
}

/// A connection to the implicit-TLS port, verified with the test CA.
async fn imaps(s: &Server) -> Connection {
    Connection::connect(ca_config(s, "IMAPS_PORT", Security::ImplicitTls))
        .await
        .unwrap_or_else(|e| panic!("{}: connect: {e}", s.test))
}

/// Logged in as `user` (`AuthMethod::Auto`, or the table's `login_with` where the server
/// refuses what auto picks), the capabilities checked against the table.
async fn login(s: &Server, user: &str) -> Connection {
    let conn = imaps(s).await;
    let method = match s.spec.login_with {
        Some(m) => AuthMethod::Mechanism(Mechanism::from_name(m).unwrap()),
        None => AuthMethod::Auto,
    };
    conn.authenticate(password(s, user), method)
        .await
        .unwrap_or_else(|e| panic!("{}: authenticate: {e}", s.test));
    s.check_capabilities(|c| conn.has_capability(c));
    conn
}

/// `n` octets of pseudo-random letters in lines of 76, which deflate cannot shrink much.
fn noise(n: usize) -> String {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut s = String::with_capacity(n);
    while s.len() < n {
        if s.len() % 78 == 76 {
            s.push_str("\r\n");
            continue;
        }
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        s.push(char::from(b'a' + (state % 26) as u8));
    }
    s.truncate(n);
    s
}

fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: t@example.org\r\nSubject: {subject}\r\nMessage-ID: <{}@example.org>\r\n\r\n{body}\r\n",
        unique("m")
    )
    .into_bytes()
}

async fn append(conn: &Connection, mailbox: &str, flags: &[&str], msg: Vec<u8>) -> u32 {
    let len = msg.len() as u64;
    conn.append(mailbox, flags, len, Cursor::new(msg))
        .await
        .expect("APPEND")
        .expect("every server of the matrix has UIDPLUS")
}

/// A mailbox of our own (in the server's personal namespace): the tests share accounts and
/// run in parallel.
async fn fresh_mailbox(s: &Server, conn: &Connection, prefix: &str) -> String {
    let name = s.mailbox(&unique(prefix));
    conn.raw_command(&format!("CREATE {name}"))
        .await
        .unwrap_or_else(|e| panic!("{}: CREATE {name}: {e}", s.test));
    name
}

/// Reads a fetched message's body to its end: (chunks, octets, SHA-256).
async fn read_body(m: &mut FetchedMessage<'_>) -> (u64, u64, Vec<u8>) {
    let (mut chunks, mut size, mut hash) = (0, 0, Sha256::new());
    while let Some(c) = m.next_chunk().await.unwrap() {
        chunks += 1;
        size += c.len() as u64;
        hash.update(&c);
    }
    (chunks, size, hash.finalize().to_vec())
}

async fn mechanisms(run: Run) {
    let Some(s) = go(run).await else {
        return;
    };
    for name in s.mechanisms() {
        let Some(mech) = Mechanism::from_name(&name) else {
            let why = s
                .spec
                .unimplemented
                .iter()
                .find(|(m, _)| *m == name)
                .map(|(_, why)| *why)
                .unwrap_or_else(|| panic!("{}: {name} is offered and not in the table", s.test));
            eprintln!("{}: {name} skipped: {why}", s.test);
            continue;
        };
        let creds = match mech {
            Mechanism::XOAuth2 | Mechanism::OAuthBearer => {
                let mut c = Credentials::token("alice", Secret::new(s.var("TOKEN_ALICE").into()));
                c.host = Some(s.host().to_owned());
                c.port = Some(s.port("IMAPS_PORT"));
                c
            }
            _ => password(&s, "alice"),
        };
        let conn = imaps(&s).await;
        let result = conn.authenticate(creds, AuthMethod::Mechanism(mech)).await;
        if let Some(why) = s.refused(&name) {
            let e = result.expect_err("refused by the table, but it worked: update the table");
            assert!(e.is_auth_failure(), "{}: {name}: {e:?}", s.test);
            eprintln!("{}: {name} refused as expected: {why}", s.test);
            continue;
        }
        let used = result.unwrap_or_else(|e| panic!("{}: {name}: {e}", s.test));
        assert!(used.eq_ignore_ascii_case(&name), "{name}: used {used}");
        s.check_capabilities(|c| conn.has_capability(c));
        conn.logout().await.unwrap();
    }
    // Passwords stored as hashes: the mechanism that works with each.
    for (user, mech) in s.spec.hashed_users {
        let mech = Mechanism::from_name(mech).unwrap();
        let conn = imaps(&s).await;
        conn.authenticate(password(&s, user), AuthMethod::Mechanism(mech))
            .await
            .unwrap_or_else(|e| panic!("{}: {user} {mech:?}: {e}", s.test));
        conn.logout().await.unwrap();
    }
    // The LOGIN command, and auto (the strongest mechanism the server offers).
    let conn = imaps(&s).await;
    conn.authenticate(password(&s, "alice"), AuthMethod::LoginCommand)
        .await
        .unwrap();
    conn.logout().await.unwrap();
    let conn = imaps(&s).await;
    let result = conn
        .authenticate(password(&s, "alice"), AuthMethod::Auto)
        .await;
    if let Some(why) = s.refused(s.spec.auto) {
        // Auto picks a mechanism the server then refuses: a known gap (see the table).
        let e = result.expect_err("auto's choice is refused by the table, but it worked");
        assert!(e.is_auth_failure(), "{}: auto: {e:?}", s.test);
        eprintln!(
            "{}: auto picks {} and is refused: {why}",
            s.test, s.spec.auto
        );
        return;
    }
    let used = result.unwrap();
    assert_eq!(used.to_ascii_uppercase(), s.spec.auto, "{}", s.test);
    conn.logout().await.unwrap();
}

async fn wrong_password(run: Run) {
    let Some(s) = go(run).await else {
        return;
    };
    let mut tried = 0;
    for name in s.mechanisms() {
        let Some(mech) = Mechanism::from_name(&name) else {
            continue;
        };
        if matches!(mech, Mechanism::XOAuth2 | Mechanism::OAuthBearer) {
            continue;
        }
        let conn = imaps(&s).await;
        let bad = Credentials::password("alice", Secret::new("not-the-password".into()));
        let e = conn
            .authenticate(bad, AuthMethod::Mechanism(mech))
            .await
            .unwrap_err();
        assert!(
            e.is_auth_failure() && !e.is_transient(),
            "{}: {mech:?}: {e:?}",
            s.test
        );
        tried += 1;
    }
    assert!(tried >= 2, "{}: {tried} password mechanisms", s.test);
}

async fn expired_token(run: Run) {
    let Some(s) = go(run).await else {
        return;
    };
    let conn = imaps(&s).await;
    let expired = Credentials::token("alice", Secret::new(s.var("TOKEN_EXPIRED_ALICE").into()));
    let e = conn
        .authenticate(expired, AuthMethod::Mechanism(Mechanism::OAuthBearer))
        .await
        .unwrap_err();
    assert!(e.is_auth_failure(), "{e:?}");
}

async fn starttls(run: Run) {
    let Some(s) = go(run).await else {
        return;
    };
    let conn = Connection::connect(ca_config(&s, "IMAP_PORT", Security::StartTls))
        .await
        .unwrap_or_else(|e| panic!("{}: STARTTLS: {e}", s.test));
    conn.authenticate(
        password(&s, "alice"),
        AuthMethod::Mechanism(Mechanism::Plain),
    )
    .await
    .unwrap();
    s.check_capabilities(|c| conn.has_capability(c));
    assert!(
        conn.list("", "*")
            .await
            .unwrap()
            .iter()
            .any(|m| m.name == "INBOX")
    );
    conn.logout().await.unwrap();
}

async fn self_signed_pinning(run: Run) {
    let Some(s) = go(run).await else {
        return;
    };
    let expected: Fingerprint = s.var("SELFSIGNED_FINGERPRINT").parse().unwrap();
    // Refused on both listeners, even with the test CA among the roots.
    for (port, security) in [
        ("SELFSIGNED_PORT", Security::ImplicitTls),
        ("SELFSIGNED_STARTTLS_PORT", Security::StartTls),
    ] {
        match Connection::connect(ca_config(&s, port, security)).await {
            Err(Error::Certificate(c)) => {
                assert_eq!(c.reason, CertificateReason::SelfSigned, "{port}");
                assert_eq!(c.fingerprint, expected, "{port}");
                assert_eq!(c.fingerprint.to_string(), s.var("SELFSIGNED_FINGERPRINT"));
                assert!(c.subject.contains("imapwire self-signed"), "{}", c.subject);
            }
            other => panic!("{port}: expected a certificate refusal, got {other:?}"),
        }
    }
    // Pinned: accepted; a pin of another certificate does not help.
    let mut cfg = ca_config(&s, "SELFSIGNED_PORT", Security::ImplicitTls);
    cfg.tls.dangerous().pin(Fingerprint([7; 32]));
    assert!(matches!(
        Connection::connect(cfg.clone()).await,
        Err(Error::Certificate(_))
    ));
    cfg.tls.dangerous().pin(expected);
    let conn = Connection::connect(cfg).await.expect("pinned");
    conn.authenticate(password(&s, "alice"), AuthMethod::Auto)
        .await
        .unwrap();
    conn.logout().await.unwrap();
    // The pin for the self-signed certificate does not weaken verification of main's.
    let mut cfg = Config::new(s.host(), s.port("IMAPS_PORT"));
    cfg.tls.dangerous().pin(expected);
    match Connection::connect(cfg).await {
        Err(Error::Certificate(c)) => assert_eq!(c.reason, CertificateReason::UnknownIssuer),
        other => panic!("main's certificate without its CA: {other:?}"),
    }
}

async fn special_use(run: Run) {
    let Some(s) = go(run).await else {
        return;
    };
    let conn = login(&s, "alice").await;
    let list = conn.list("", "*").await.unwrap();
    for (name, role) in [
        ("Sent", "\\Sent"),
        ("Drafts", "\\Drafts"),
        ("Trash", "\\Trash"),
    ] {
        let name = s.mailbox(name);
        let m = list
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("{}: no {name} in {list:?}", s.test));
        assert_eq!(
            m.special_use.map(imapwire_tokio::types::role_attribute),
            Some(role),
            "{}",
            s.test
        );
    }
    conn.logout().await.unwrap();
}

async fn list_and_select(run: Run) {
    let Some(s) = go(run).await else {
        return;
    };
    let conn = login(&s, "alice").await;
    // A mailbox with a non-ASCII name goes out in modified UTF-7 and comes back as Unicode.
    let name = s.mailbox(&format!("Entwürfe-{}", unique("x")));
    let wire = conn.mailbox(&name).unwrap();
    conn.raw_command(&format!(
        "CREATE \"{}\"",
        String::from_utf8_lossy(wire.as_bytes())
    ))
    .await
    .unwrap();
    let list = conn.list("", "*").await.unwrap();
    assert!(
        list.iter().any(|m| m.name == name),
        "{}: no {name} in {list:?}",
        s.test
    );

    if s.offers("QRESYNC") {
        conn.raw_command("ENABLE QRESYNC").await.unwrap();
    }
    let mailbox = fresh_mailbox(&s, &conn, "sel").await;
    append(&conn, &mailbox, &[], message("a", "x")).await;
    let info = conn.select(&mailbox).await.unwrap();
    assert_eq!(info.exists, 1, "{}", s.test);
    assert!(info.uidvalidity.is_some(), "{}: {info:?}", s.test);
    if s.spec.select_uidnext {
        assert_eq!(info.uidnext, Some(2), "{}: {info:?}", s.test);
    } else {
        assert_eq!(
            info.uidnext, None,
            "{}: UIDNEXT sent now: update the table",
            s.test
        );
    }
    if s.offers("CONDSTORE") {
        assert!(info.highestmodseq.is_some_and(|m| m > 0), "{info:?}");
    } else {
        assert_eq!(info.highestmodseq, None, "{}: {info:?}", s.test);
    }
    conn.logout().await.unwrap();
}

async fn streamed_fetch(run: Run) {
    let Some(s) = go(run).await else {
        return;
    };
    let conn = login(&s, "alice").await;
    let mailbox = fresh_mailbox(&s, &conn, "fetch").await;
    // 2 MiB that do not compress: with COMPRESS=DEFLATE a repetitive body arrives as a few
    // KiB that inflate to the whole message in one piece.
    let big = message("big", &noise(2 * 1024 * 1024));
    let small = message("small", "tiny");
    let uid_big = append(&conn, &mailbox, &["\\Flagged"], big.clone()).await;
    let uid_small = append(&conn, &mailbox, &[], small.clone()).await;
    conn.select(&mailbox).await.unwrap();

    let mut fetch = conn
        .fetch("1:*", "(UID FLAGS BODY.PEEK[])", true)
        .await
        .unwrap();
    let mut seen = Vec::new();
    while let Some(mut m) = fetch.next().await.unwrap() {
        let (chunks, size, digest) = read_body(&mut m).await;
        let data = m.finish().await.unwrap();
        let flags = data.flags().unwrap().to_strings();
        seen.push((data.uid.unwrap(), chunks, size, digest, flags));
    }
    assert_eq!(seen.len(), 2, "{}", s.test);
    let b = seen.iter().find(|x| x.0 == uid_big).unwrap();
    assert!(
        b.1 > 1,
        "{}: a 2 MiB body came in {} chunk(s): not streamed",
        s.test,
        b.1
    );
    assert_eq!(
        (b.2, b.3.clone()),
        (big.len() as u64, Sha256::digest(&big).to_vec())
    );
    assert!(b.4.iter().any(|f| f == "\\Flagged") && b.4.iter().all(|f| f != "\\Recent"));
    let m = seen.iter().find(|x| x.0 == uid_small).unwrap();
    assert_eq!(m.3, Sha256::digest(&small).to_vec());
    conn.logout().await.unwrap();
}

async fn move_messages(run: Run) {
    let Some(s) = go(run).await else {
        return;
    };
    let conn = login(&s, "alice").await;
    let mailbox = fresh_mailbox(&s, &conn, "from").await;
    let target = fresh_mailbox(&s, &conn, "moved").await;
    let keep = append(&conn, &mailbox, &[], message("keep", "k")).await;
    let moved = append(&conn, &mailbox, &[], message("move", "m")).await;
    conn.select(&mailbox).await.unwrap();
    conn.move_messages(&moved.to_string(), &target, true)
        .await
        .unwrap();
    let found = conn.search("ALL", true).await.unwrap();
    assert_eq!(found.ids, vec![keep], "{}", s.test);
    let info = conn.examine(&target).await.unwrap();
    assert_eq!(info.exists, 1, "{}", s.test);
    conn.logout().await.unwrap();
}

async fn idle(run: Run) {
    let Some(s) = go(run).await else {
        return;
    };
    let conn = login(&s, "alice").await;
    let mailbox = fresh_mailbox(&s, &conn, "idle").await;
    append(&conn, &mailbox, &[], message("before idle", "x")).await;
    // IDLE on the mailbox while a second connection appends.
    conn.select(&mailbox).await.unwrap();
    let mut idle = conn.idle().await.unwrap();
    let other = login(&s, "alice").await;
    append(&other, &mailbox, &[], message("during idle", "x")).await;
    // Cyrus and Courier poll the mailbox in IDLE (every 5 s in their fixtures).
    let limit = 15 + 2 * s.spec.idle_poll_seconds;
    let ev = tokio::time::timeout(Duration::from_secs(limit), idle.next())
        .await
        .unwrap_or_else(|_| panic!("{}: no IDLE event within {limit} s", s.test))
        .unwrap();
    assert_eq!(ev, Some(IdleEvent::Exists { exists: 2 }), "{}", s.test);
    idle.done().await.unwrap();
    // The connection is usable after DONE.
    assert_eq!(conn.search("ALL", true).await.unwrap().ids.len(), 2);
    other.logout().await.unwrap();
    conn.logout().await.unwrap();
}

/// Sync round trips with changes from a second client in between: new mail, flag changes,
/// expunges, local changes uploaded, a conflict merged. QRESYNC where the server offers it,
/// else the RFC 4549 fallback (a full sync each time).
async fn sync_round_trips(run: Run) {
    let Some(s) = go(run).await else {
        return;
    };
    let resync = if s.offers("QRESYNC") {
        SyncMode::Qresync
    } else {
        SyncMode::Full
    };
    let other = login(&s, "bob").await;
    let mailbox = fresh_mailbox(&s, &other, "sync").await;
    let u1 = append(&other, &mailbox, &[], message("one", "1")).await;
    let u2 = append(&other, &mailbox, &["\\Seen"], message("two", "2")).await;
    let u3 = append(&other, &mailbox, &[], message("three", "3")).await;

    let wire = other.mailbox(&mailbox).unwrap();
    // Each sync on a connection of its own, as a mail application's next start would.
    let run = |state: ReplicaState, journal: Journal| {
        let s = &s;
        let wire = wire.clone();
        async move {
            let conn = login(s, "bob").await;
            let outcome = conn
                .sync(SyncConfig::new(wire), state, journal, |_| Ok(()))
                .await
                .expect("the sync connection")
                .expect("the sync");
            conn.logout().await.unwrap();
            outcome
        }
    };

    let first = run(ReplicaState::default(), Journal::new()).await;
    assert_eq!(first.report.mode, Some(SyncMode::Full));
    assert_eq!(first.report.downloaded, 3);
    assert_eq!(first.state.messages.len(), 3);
    assert!(first.changes.new_messages.iter().all(|m| m.body.is_some()));

    // Nothing changed: a sync with nothing to do.
    let again = run(first.state.clone(), first.journal.clone()).await;
    assert_eq!(again.report.mode, Some(resync), "{}", s.test);
    assert_eq!(
        (
            again.report.downloaded,
            again.report.flags_changed,
            again.report.expunged
        ),
        (0, 0, 0),
        "{}",
        s.test
    );

    // The other client: a new message, \Flagged on u1, u3 expunged.
    other.select(&mailbox).await.unwrap();
    let u4 = append(&other, &mailbox, &[], message("four", "4")).await;
    other
        .store(&u1.to_string(), "+FLAGS (\\Flagged)", true)
        .await
        .unwrap();
    other
        .store(&u3.to_string(), "+FLAGS (\\Deleted)", true)
        .await
        .unwrap();
    other.expunge(Some(&u3.to_string())).await.unwrap();
    let third = run(again.state.clone(), again.journal.clone()).await;
    assert_eq!(third.report.mode, Some(resync), "{}", s.test);
    assert_eq!(third.report.downloaded, 1, "{}: {:?}", s.test, third.report);
    assert_eq!(
        third.report.flags_changed, 1,
        "{}: {:?}",
        s.test, third.report
    );
    assert_eq!(third.report.expunged, 1, "{}: {:?}", s.test, third.report);
    assert_eq!(third.changes.expunged, vec![u3]);
    assert!(third.state.messages.contains_key(&u4) && !third.state.messages.contains_key(&u3));
    assert!(third.state.messages[&u1].flags.contains("\\Flagged"));

    // Both sides change u2: locally +\Flagged, on the server +\Answered; and a local
    // deletion of u4. Merged: u2 ends with \Seen \Flagged \Answered on both sides.
    let mut journal = third.journal.clone();
    let mut add = imapwire_session::sync::FlagSet::new();
    add.insert("\\Flagged");
    journal.record(LocalChange::Flags {
        uid: u2,
        add,
        remove: Default::default(),
    });
    journal.record(LocalChange::Delete { uid: u4 });
    other
        .store(&u2.to_string(), "+FLAGS (\\Answered)", true)
        .await
        .unwrap();
    let fourth = run(third.state.clone(), journal).await;
    assert_eq!(fourth.report.uploaded, 2, "{}: {:?}", s.test, fourth.report);
    assert_eq!(
        fourth.report.conflicts, 1,
        "{}: {:?}",
        s.test, fourth.report
    );
    assert!(fourth.journal.is_empty());
    // Courier shows another session's flag changes and expunges only when it looks at the
    // mailbox again (SELECT, NOOP), not on FETCH.
    other.select(&mailbox).await.unwrap();
    let server = other.fetch(&format!("{u2}"), "(UID FLAGS)", true).await;
    let mut server = server.unwrap();
    let m = server
        .next()
        .await
        .unwrap()
        .unwrap()
        .finish()
        .await
        .unwrap();
    let flags = m.flags().unwrap().to_strings();
    for f in ["\\Seen", "\\Flagged", "\\Answered"] {
        assert!(
            flags.iter().any(|x| x == f),
            "{}: {f} missing on the server: {flags:?}",
            s.test
        );
    }
    drop(server);
    assert_eq!(other.search("ALL", true).await.unwrap().ids, vec![u1, u2]);
    let state = &fourth.state.messages;
    assert!(!state.contains_key(&u4));
    for f in ["\\Seen", "\\Flagged", "\\Answered"] {
        assert!(state[&u2].flags.contains(f), "{f} missing in the replica");
    }
    other.logout().await.unwrap();
}

/// Dropping futures at (pseudo-)random points never corrupts the connection: afterwards
/// every command still works and returns the right data.
async fn cancel(run: Run) {
    let Some(s) = go(run).await else {
        return;
    };
    let conn = login(&s, "alice").await;
    let mailbox = fresh_mailbox(&s, &conn, "cancel").await;
    let body = message("big", &"x".repeat(3 * 1024 * 1024));
    let uid = append(&conn, &mailbox, &[], body.clone()).await;
    let digest = Sha256::digest(&body).to_vec();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..12 {
        let cut = Duration::from_micros(next() % 20_000);
        match round % 4 {
            0 => {
                let _ = tokio::time::timeout(cut, conn.select(&mailbox)).await;
            }
            1 => {
                // A fetch dropped in the middle of the body.
                let _ = tokio::time::timeout(cut, async {
                    let mut f = conn.fetch("1:*", "(UID BODY.PEEK[])", true).await?;
                    while let Some(mut m) = f.next().await? {
                        while m.next_chunk().await?.is_some() {}
                    }
                    Ok::<_, Error>(())
                })
                .await;
            }
            2 => {
                let _ = tokio::time::timeout(cut, conn.list("", "*")).await;
            }
            _ => {
                let _ = tokio::time::timeout(cut, async {
                    let idle = conn.idle().await?;
                    drop(idle);
                    Ok::<_, Error>(())
                })
                .await;
            }
        }
        // Whatever was dropped: the connection answers, with the right data.
        let info = conn
            .select(&mailbox)
            .await
            .unwrap_or_else(|e| panic!("{}: round {round}: {e}", s.test));
        assert_eq!(info.exists, 1, "round {round}");
        let mut f = conn
            .fetch(&uid.to_string(), "(UID BODY.PEEK[])", true)
            .await
            .unwrap();
        let mut m = f.next().await.unwrap().expect("the message");
        assert_eq!(read_body(&mut m).await.2, digest, "round {round}");
        m.finish().await.unwrap();
        assert!(f.next().await.unwrap().is_none());
    }
    conn.logout().await.unwrap();
}

/// An `AsyncRead` of `left` pseudo-random bytes generated as it is read (nothing buffered);
/// the same `state` gives the same bytes.
struct Generated {
    left: u64,
    state: u64,
    /// Octets produced so far (the line structure runs across reads).
    pos: u64,
}

impl AsyncRead for Generated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = (buf.remaining() as u64).min(self.left).min(64 * 1024) as usize;
        let mut chunk = vec![0u8; n];
        for b in chunk.iter_mut() {
            let i = self.pos;
            self.pos += 1;
            if i % 8 == 0 {
                self.state = self.state.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            // Printable, with CRLF after every 76 octets: a plausible message body.
            *b = match i % 78 {
                76 => b'\r',
                77 => b'\n',
                _ => b'a' + ((self.state >> ((i % 8) * 8)) as u8 % 26),
            };
        }
        self.left -= n as u64;
        buf.put_slice(&chunk);
        Poll::Ready(Ok(()))
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// APPEND of a 50 MB message read from a stream, then fetched back streamed: the process's
/// peak memory grows by far less than the message.
async fn append_50_mb(run: Run) {
    let Some(s) = go(run).await else {
        return;
    };
    // One at a time: the measure is the process's peak, which the servers' tests share.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one = ONE_AT_A_TIME.lock().await;
    let conn = login(&s, "dave").await;
    let mailbox = fresh_mailbox(&s, &conn, "big").await;
    let header = b"From: t@example.org\r\nSubject: 50 MB\r\n\r\n".to_vec();
    // 641,026 lines of 78 octets (50 MB), ending with CRLF: Courier's Maildir ends a message
    // that does not end with one with a line break of its own (the size then differs).
    let body_len: u64 = 78 * 641_026;
    let before = peak_rss_kib();
    let generated = Generated {
        left: body_len,
        state: 1,
        pos: 0,
    };
    // The header, then the generated body: one AsyncRead.
    let reader = tokio::io::AsyncReadExt::chain(Cursor::new(header.clone()), generated);
    let total = header.len() as u64 + body_len;
    let uid = conn
        .append(&mailbox, &[], total, reader)
        .await
        .expect("APPEND 50 MB")
        .expect("UIDPLUS");
    conn.select(&mailbox).await.unwrap();
    let mut f = conn
        .fetch(&uid.to_string(), "(UID RFC822.SIZE BODY.PEEK[])", true)
        .await
        .unwrap();
    let mut m = f.next().await.unwrap().expect("the message");
    let (chunks, size, got) = read_body(&mut m).await;
    let data = m.finish().await.unwrap();
    assert_eq!(size, total);
    assert_eq!(data.size, Some(total));
    assert!(chunks > 10, "{chunks} chunks: not streamed");
    // Expected: sha256(header || body) recomputed in one pass.
    let mut expect = Sha256::new();
    expect.update(&header);
    let mut again = Generated {
        left: body_len,
        state: 1,
        pos: 0,
    };
    let mut sink = vec![0u8; 64 * 1024];
    loop {
        let mut rb = ReadBuf::new(&mut sink);
        if futures_poll(&mut again, &mut rb) == 0 {
            break;
        }
        expect.update(rb.filled());
    }
    assert_eq!(
        got,
        expect.finalize().to_vec(),
        "the message came back different"
    );
    let grown_mib = peak_rss_kib().saturating_sub(before) / 1024;
    eprintln!(
        "{}: peak memory grew by {grown_mib} MiB for a 50 MB APPEND and FETCH",
        s.test
    );
    assert!(
        grown_mib < 40,
        "{}: peak memory grew by {grown_mib} MiB: the message was buffered",
        s.test
    );
    conn.logout().await.unwrap();
}

/// Polls a `Generated` once (it is always ready); returns how many bytes it wrote.
fn futures_poll(g: &mut Generated, rb: &mut ReadBuf<'_>) -> usize {
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    let before = rb.filled().len();
    match Pin::new(g).poll_read(&mut cx, rb) {
        Poll::Ready(Ok(())) => rb.filled().len() - before,
        other => panic!("{other:?}"),
    }
}

/// An account of `user` on the Dovecot instance listening on `port_key` (implicit TLS, the
/// test CA), with quick retries: 100 ms doubling to 800 ms.
fn account_on(d: &Server, port_key: &str, user: &str, give_up_after: Duration) -> Account {
    let login = Login::Password {
        user: user.to_owned(),
        password: Secret::new(d.password().to_owned()),
    };
    let mut connect = ca_config(d, port_key, Security::ImplicitTls);
    connect.timeouts = Timeouts::all(Duration::from_secs(10));
    let cfg = AccountConfig::new(connect, login)
        .with_give_up_after(give_up_after)
        .with_backoff(Backoff::new(
            Duration::from_millis(100),
            Duration::from_millis(800),
        ));
    Account::new(cfg)
}

/// `.ci/dovecot.sh VERB-instance NAME` off the runtime's thread (the connection drivers keep
/// running meanwhile).
async fn ctl(d: &Server, verb: &'static str, instance: &'static str) {
    let d = d.clone();
    tokio::task::spawn_blocking(move || d.ctl(verb, instance))
        .await
        .expect("the control script's thread");
}

/// Waits (at most 30 s) until `conn` has ended.
async fn wait_closed(conn: &Connection) {
    let t = std::time::Instant::now();
    while !conn.is_closed() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the connection outlived its server by 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts the instance again when dropped (a failed test must not leave it stopped for the
/// next run or the next test).
struct StartOnDrop(Server, &'static str);

impl Drop for StartOnDrop {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let (d, name) = (self.0.clone(), self.1);
            // Its own thread: a failure there must not panic during this panic.
            let _ = std::thread::spawn(move || d.ctl("start-instance", name)).join();
        }
    }
}

/// The next event of `idle` after a second connection appends to `mailbox` on the instance
/// at `port_key`: the IDLE is given 500 ms to start (no event may come meanwhile), then the
/// event must come within 15 s.
async fn appended_while_idling(
    d: &Server,
    port_key: &str,
    idle: &mut AccountIdle,
    mailbox: &str,
) -> AccountEvent {
    let next = idle.next();
    tokio::pin!(next);
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        r = &mut next => panic!("an event before anything was appended: {r:?}"),
    }
    let other = Connection::connect(ca_config(d, port_key, Security::ImplicitTls))
        .await
        .expect("the second connection");
    other
        .authenticate(password(d, "alice"), AuthMethod::Auto)
        .await
        .unwrap();
    append(&other, mailbox, &[], message("while idling", "x")).await;
    other.logout().await.unwrap();
    tokio::time::timeout(Duration::from_secs(15), next)
        .await
        .expect("the IDLE event within 15 s")
        .expect("the IDLE event")
}

/// The account client against a Dovecot that restarts while it idles: Dovecot says `* BYE
/// Server shutting down.` (no response code: not a policy refusal), the account retries
/// while the port refuses connections, reconnects once the server is back, authenticates,
/// selects the mailbox again, resumes IDLE, and an append after the restart is reported.
#[tokio::test]
async fn account_resumes_idle_after_dovecot_restarts() {
    let Some(d) = Server::dovecot_only("account_resumes_idle_after_dovecot_restarts") else {
        return;
    };
    const PORT: &str = "RESTART_PORT";
    let acct = account_on(&d, PORT, "alice", Duration::from_secs(120));
    let conn = acct.connection().await.expect("the first connection");
    let mailbox = fresh_mailbox(&d, &conn, "restart").await;
    assert_eq!(acct.select(&mailbox).await.unwrap().exists, 0);
    let mut idle = acct.idle();
    let ev = appended_while_idling(&d, PORT, &mut idle, &mailbox).await;
    assert_eq!(ev, AccountEvent::Mailbox(IdleEvent::Exists { exists: 1 }));
    assert_eq!(acct.connections_made(), 1);

    // Watch the account's state while the server is away.
    let watcher = {
        let acct = acct.clone();
        tokio::spawn(async move {
            let mut attempts_seen = 0;
            loop {
                match acct.state() {
                    AccountState::Reconnecting { attempts } => {
                        attempts_seen = attempts_seen.max(attempts)
                    }
                    AccountState::Connected if acct.connections_made() >= 2 => {
                        return attempts_seen;
                    }
                    _ => {}
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let _restart_guard = StartOnDrop(d.clone(), "restart");
    ctl(&d, "stop-instance", "restart").await;
    // Dovecot's imap process ends its connection (`BYE`) up to ~10 s after the master.
    wait_closed(&conn).await;
    // Back after 2 s; meanwhile the account's attempts are refused.
    let back = {
        let d = d.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            ctl(&d, "start-instance", "restart").await;
        })
    };
    let ev = tokio::time::timeout(Duration::from_secs(60), idle.next())
        .await
        .expect("reconnected within 60 s")
        .expect("reconnected");
    back.await.unwrap();
    match ev {
        AccountEvent::Reconnected(Some(info)) => {
            assert_eq!(info.exists, 1, "the mailbox selected again: {info:?}");
            assert!(!info.read_only);
        }
        other => panic!("expected Reconnected, got {other:?}"),
    }
    assert_eq!(acct.state(), AccountState::Connected);
    assert_eq!(acct.connections_made(), 2);
    let attempts = tokio::time::timeout(Duration::from_secs(5), watcher)
        .await
        .expect("the watcher saw the reconnection")
        .unwrap();
    assert!(attempts >= 1, "no failed attempt while the server was down");
    // IDLE runs again on the new connection: an append is reported.
    let ev = appended_while_idling(&d, PORT, &mut idle, &mailbox).await;
    assert_eq!(ev, AccountEvent::Mailbox(IdleEvent::Exists { exists: 2 }));
    idle.done().await.unwrap();
    acct.logout().await.unwrap();
}

/// The account client against a Dovecot that stops for good: it retries until the give-up
/// window (3 s here, 30 min by default) has passed, then reports the terminal disconnected
/// state and fails at once without trying; once the server is back, an explicit reconnect
/// leaves that state.
#[tokio::test]
async fn account_gives_up_when_dovecot_stays_down() {
    let Some(d) = Server::dovecot_only("account_gives_up_when_dovecot_stays_down") else {
        return;
    };
    const PORT: &str = "DOOMED_PORT";
    let window = Duration::from_secs(3);
    let acct = account_on(&d, PORT, "alice", window);
    let conn = acct.connection().await.expect("the first connection");
    let mailbox = fresh_mailbox(&d, &conn, "doomed").await;
    acct.select(&mailbox).await.unwrap();
    let mut idle = acct.idle();
    let _doomed_guard = StartOnDrop(d.clone(), "doomed");
    let (err, took) = {
        let next = idle.next();
        tokio::pin!(next);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            r = &mut next => panic!("an event before the server stopped: {r:?}"),
        }

        ctl(&d, "stop-instance", "doomed").await;
        // The window counts from the first failed attempt, made when the account finds the
        // connection gone: Dovecot's imap process ends it up to ~10 s after the master.
        wait_closed(&conn).await;
        let closed_at = std::time::Instant::now();
        let err = tokio::time::timeout(Duration::from_secs(30), next)
            .await
            .expect("gave up within 30 s")
            .expect_err("the server is gone");
        (err, closed_at.elapsed())
    };
    let Error::Disconnected(reason) = &err else {
        panic!("expected the terminal disconnected error, got {err:?}");
    };
    assert!(reason.contains("gave up"), "{reason}");
    assert!(
        took >= window && took < window + Duration::from_secs(5),
        "gave up {took:?} after the connection was lost, with a window of {window:?}"
    );
    match acct.state() {
        AccountState::Disconnected { reason } => assert!(reason.contains("gave up"), "{reason}"),
        other => panic!("expected Disconnected, got {other:?}"),
    }
    // Terminal: no attempt, an immediate failure, even with the server back.
    ctl(&d, "start-instance", "doomed").await;
    let t = std::time::Instant::now();
    assert!(matches!(
        acct.connection().await,
        Err(Error::Disconnected(_))
    ));
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );
    assert!(matches!(idle.next().await, Err(Error::Disconnected(_))));
    assert_eq!(acct.connections_made(), 1);

    // An explicit reconnect: connected again, the mailbox selected again, IDLE resumes.
    let conn = acct.reconnect().await.expect("the explicit reconnect");
    assert_eq!(acct.state(), AccountState::Connected);
    assert_eq!(acct.connections_made(), 2);
    conn.noop().await.unwrap();
    match idle.next().await.unwrap() {
        AccountEvent::Reconnected(Some(info)) => assert_eq!(info.exists, 0),
        other => panic!("expected Reconnected, got {other:?}"),
    }
    let ev = appended_while_idling(&d, PORT, &mut idle, &mailbox).await;
    assert_eq!(ev, AccountEvent::Mailbox(IdleEvent::Exists { exists: 1 }));
    idle.done().await.unwrap();
    acct.logout().await.unwrap();
}

/// `Connection::sync` on a connection where a mailbox is selected: QRESYNC can only be
/// enabled in the authenticated state (RFC 5161), so the sync leaves the mailbox with
/// UNSELECT first and still synchronises with QRESYNC; UNSELECT (unlike CLOSE) leaves the
/// `\Deleted` message of the mailbox that was selected in place.
#[tokio::test]
async fn sync_with_a_mailbox_selected_still_uses_qresync() {
    let Some(d) = Server::dovecot_only("sync_with_a_mailbox_selected_still_uses_qresync") else {
        return;
    };
    let first_conn = login(&d, "dave").await;
    let mailbox = fresh_mailbox(&d, &first_conn, "qrsel").await;
    let kept = fresh_mailbox(&d, &first_conn, "kept").await;
    let u1 = append(&first_conn, &mailbox, &[], message("one", "1")).await;
    append(&first_conn, &kept, &["\\Deleted"], message("deleted", "x")).await;
    let wire = first_conn.mailbox(&mailbox).unwrap();
    let first = first_conn
        .sync(
            SyncConfig::new(wire.clone()),
            ReplicaState::default(),
            Journal::new(),
            |_| Ok(()),
        )
        .await
        .unwrap()
        .unwrap_or_else(|f| panic!("the first sync: {}", f.error));
    assert_eq!(first.report.downloaded, 1);
    // A change for the second sync to find.
    first_conn
        .store(&u1.to_string(), "+FLAGS (\\Flagged)", true)
        .await
        .unwrap();
    first_conn.logout().await.unwrap();

    let conn = login(&d, "dave").await;
    let info = conn.select(&kept).await.unwrap();
    assert_eq!(info.exists, 1);
    let second = conn
        .sync(
            SyncConfig::new(wire),
            first.state,
            first.journal,
            |_| Ok(()),
        )
        .await
        .unwrap()
        .unwrap_or_else(|f| panic!("the sync after SELECT: {}", f.error));
    assert_eq!(second.report.mode, Some(SyncMode::Qresync));
    assert_eq!(second.report.flags_changed, 1, "{:?}", second.report);
    assert!(second.state.messages[&u1].flags.contains("\\Flagged"));
    assert_eq!(
        conn.examine(&kept).await.unwrap().exists,
        1,
        "the \\Deleted message of the mailbox selected before was expunged"
    );
    conn.logout().await.unwrap();
}
