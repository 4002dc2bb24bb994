//! The adapter against our own sans-IO server on 127.0.0.1: TLS modes, certificate refusal
//! and pinning, authentication, LIST, SELECT/EXAMINE, streamed FETCH, COPY, EXPUNGE, IDLE,
//! cancelled futures; scripted servers for the STARTTLS and COMPRESS hand-offs.

mod common;

use std::time::Duration;

use common::{
    Mode, TestServer, ca_signed, ca_signed_valid, client_config, connect_joe, joe, self_signed,
};
use imapwire_session::sasl::Mechanism;
use imapwire_tokio::{
    AuthMethod, CertificateReason, Config, Connection, Error, Fingerprint, IdleEvent, Security,
    Timeouts,
};
use sha2::{Digest, Sha256};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn fetch_all(conn: &Connection) -> Vec<(u32, Vec<String>, u64, String)> {
    let mut out = Vec::new();
    let mut s = conn
        .fetch("1:*", "(UID FLAGS RFC822.SIZE BODY.PEEK[])", true)
        .await
        .unwrap();
    while let Some(mut m) = s.next().await.unwrap() {
        let mut h = Sha256::new();
        let mut n = 0u64;
        while let Some(c) = m.next_chunk().await.unwrap() {
            n += c.len() as u64;
            h.update(&c);
        }
        let d = m.finish().await.unwrap();
        assert_eq!(d.size, Some(n), "streamed bytes match RFC822.SIZE");
        out.push((d.uid.unwrap(), d.flag_strings(), n, hex(&h.finalize())));
    }
    out
}

#[tokio::test]
async fn implicit_tls_verified_with_extra_root_full_session() {
    common::log();
    let cert = ca_signed(&["127.0.0.1"]);
    let server = TestServer::start(Mode::Implicit, cert.clone()).await;
    let conn = Connection::connect(client_config(&server, Security::ImplicitTls, &cert))
        .await
        .unwrap();
    assert!(conn.has_channel_binding());
    let mech = conn.authenticate(joe(), AuthMethod::Auto).await.unwrap();
    assert!(mech.starts_with("SCRAM-SHA-256"), "{mech}");
    // The server offers COMPRESS=DEFLATE: negotiated after authentication.
    assert!(conn.is_compressed());
    let list = conn.list("", "*").await.unwrap();
    assert!(list.iter().any(|m| m.name == "INBOX"), "{list:?}");
    let info = conn.select("INBOX").await.unwrap();
    assert_eq!(info.exists, 3);
    assert!(info.uidvalidity.is_some());
    let msgs = fetch_all(&conn).await;
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs.iter().map(|m| m.0).collect::<Vec<_>>(), [1, 2, 3]);
    let body = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: message 2\r\n\r\nBody of message 2.\r\n";
    assert_eq!(msgs[1].3, hex(&Sha256::digest(body)));
    conn.logout().await.unwrap();
    assert!(conn.noop().await.is_err());
}

#[tokio::test]
async fn starttls_upgrades_and_authenticates() {
    common::log();
    let cert = ca_signed(&["127.0.0.1"]);
    let server = TestServer::start(Mode::StartTls, cert.clone()).await;
    // COMPRESS switched off: not negotiated although offered.
    let conn =
        Connection::connect(client_config(&server, Security::StartTls, &cert).with_compress(false))
            .await
            .unwrap();
    assert!(
        !conn.has_capability("STARTTLS"),
        "capabilities asked again after TLS"
    );
    assert!(conn.has_channel_binding());
    let m = conn
        .authenticate(joe(), AuthMethod::Mechanism(Mechanism::Plain))
        .await
        .unwrap();
    assert_eq!(m, "PLAIN");
    assert!(
        conn.has_capability("COMPRESS=DEFLATE"),
        "{:?}",
        conn.capabilities()
    );
    assert!(!conn.is_compressed());
    assert_eq!(conn.select("INBOX").await.unwrap().exists, 3);
    conn.logout().await.unwrap();
}

#[tokio::test]
async fn starttls_not_offered_fails() {
    let cert = self_signed();
    let server = TestServer::start(Mode::Plain, cert.clone()).await;
    let err = Connection::connect(client_config(&server, Security::StartTls, &cert))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::StartTlsNotOffered), "{err:?}");
}

#[tokio::test]
async fn plaintext_only_with_the_insecure_option() {
    let cert = self_signed();
    let server = TestServer::start(Mode::Plain, cert.clone()).await;
    // TLS expected: a plaintext server fails the handshake.
    let err = Connection::connect(client_config(&server, Security::ImplicitTls, &cert))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Tls(_) | Error::Io(_) | Error::Timeout(_)),
        "{err:?}"
    );
    // Explicitly insecure: works, and a password mechanism is allowed.
    let conn = Connection::connect(client_config(&server, Security::InsecurePlaintext, &cert))
        .await
        .unwrap();
    assert!(!conn.has_channel_binding());
    let m = conn.authenticate(joe(), AuthMethod::Auto).await.unwrap();
    assert_eq!(m, "SCRAM-SHA-256");
    conn.logout().await.unwrap();
}

#[tokio::test]
async fn self_signed_refused_with_details_then_pinned() {
    let cert = self_signed();
    let server = TestServer::start(Mode::Implicit, cert.clone()).await;
    let err = Connection::connect(client_config(&server, Security::ImplicitTls, &cert))
        .await
        .unwrap_err();
    let Error::Certificate(c) = err else {
        panic!("expected a certificate error, got {err:?}")
    };
    assert_eq!(c.reason, CertificateReason::SelfSigned);
    let fp = Fingerprint::of_der(&cert.der);
    assert_eq!(c.fingerprint, fp);
    let shown = c.to_string();
    assert!(
        shown.contains(&fp.to_string()) && shown.contains("self-signed"),
        "{shown}"
    );
    assert!(fp.to_string().starts_with("sha256:") && fp.to_string().len() == 71);
    assert!(c.not_before.is_some() && c.not_after.is_some());
    assert!(!c.subject.is_empty() && c.subject == c.issuer, "{c:?}");

    // Pinned: accepted.
    let mut pinned = client_config(&server, Security::ImplicitTls, &cert);
    pinned.tls.dangerous().pin(c.fingerprint);
    let conn = Connection::connect(pinned.clone()).await.unwrap();
    conn.authenticate(joe(), AuthMethod::Auto).await.unwrap();
    conn.logout().await.unwrap();

    // Another self-signed certificate is still refused with that pin set.
    let other = self_signed();
    let server2 = TestServer::start(Mode::Implicit, other.clone()).await;
    let mut c2 = pinned;
    c2.port = server2.addr.port();
    let err = Connection::connect(c2).await.unwrap_err();
    match err {
        Error::Certificate(c) => {
            assert_eq!(c.reason, CertificateReason::SelfSigned);
            assert_eq!(c.fingerprint, Fingerprint::of_der(&other.der));
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
}

#[tokio::test]
async fn wrong_host_name_and_unknown_issuer_are_typed() {
    let cert = ca_signed(&["mail.example.org"]);
    let server = TestServer::start(Mode::Implicit, cert.clone()).await;
    let err = Connection::connect(client_config(&server, Security::ImplicitTls, &cert))
        .await
        .unwrap_err();
    match err {
        Error::Certificate(c) => assert_eq!(c.reason, CertificateReason::WrongHostName),
        other => panic!("{other:?}"),
    }
    // Without the CA as a root: unknown issuer (not self-signed: the CA signed it).
    let mut c = client_config(&server, Security::ImplicitTls, &self_signed());
    c.tls = Default::default();
    let err = Connection::connect(c).await.unwrap_err();
    match err {
        Error::Certificate(c) => {
            assert_eq!(c.reason, CertificateReason::UnknownIssuer);
            assert!(c.issuer.contains("imapwire test CA"), "{c:?}");
        }
        other => panic!("{other:?}"),
    }
}

/// UIDs and flags of every message of the selected mailbox.
async fn uids_and_flags(conn: &Connection) -> Vec<(u32, Vec<String>)> {
    let mut f = conn.fetch("1:*", "(UID FLAGS)", false).await.unwrap();
    let mut out = Vec::new();
    while let Some(m) = f.next().await.unwrap() {
        let d = m.finish().await.unwrap();
        out.push((d.uid.unwrap(), d.flags().unwrap().to_strings()));
    }
    out
}

/// COPY (by UID and by sequence number; a missing target is the server's `NO [TRYCREATE]`),
/// EXAMINE (read-only, the mailbox's state, a STORE refused), EXPUNGE and UID EXPUNGE (only
/// the named UIDs among the `\Deleted` ones).
#[tokio::test]
async fn copy_expunge_and_examine() {
    let cert = ca_signed(&["127.0.0.1"]);
    let server = TestServer::start(Mode::Implicit, cert.clone()).await;
    let conn = connect_joe(&server, &cert).await;
    conn.raw_command("CREATE Kept").await.unwrap();
    let inbox = conn.select("INBOX").await.unwrap();
    assert_eq!((inbox.exists, inbox.read_only), (3, false));
    let before = fetch_all(&conn).await;

    conn.copy("1:2", "Kept", true).await.unwrap();
    conn.copy("3", "Kept", false).await.unwrap();
    match conn.copy("1", "Nowhere", true).await {
        Err(Error::Command(e)) => assert!(
            matches!(
                *e,
                imapwire_session::client::CommandError::No {
                    code: Some(imapwire_codec::response::ResponseCode::TryCreate),
                    ..
                }
            ),
            "{e:?}"
        ),
        other => panic!("COPY to a missing mailbox: {other:?}"),
    }
    // The source is unchanged.
    assert_eq!(conn.search("ALL", true).await.unwrap().ids, vec![1, 2, 3]);

    // EXAMINE: read-only, the copies there with the same contents.
    let kept = conn.examine("Kept").await.unwrap();
    assert_eq!((kept.exists, kept.read_only), (3, true));
    assert_eq!(kept.uidnext, Some(4));
    let copies = fetch_all(&conn).await;
    let contents = |v: &[(u32, Vec<String>, u64, String)]| {
        v.iter().map(|m| (m.2, m.3.clone())).collect::<Vec<_>>()
    };
    assert_eq!(contents(&copies), contents(&before));
    assert!(
        conn.store("1", "+FLAGS (\\Deleted)", false).await.is_err(),
        "STORE in a mailbox opened with EXAMINE"
    );
    assert!(
        uids_and_flags(&conn)
            .await
            .iter()
            .all(|(_, f)| f.is_empty())
    );

    // EXPUNGE removes every \Deleted message.
    assert!(!conn.select("Kept").await.unwrap().read_only);
    conn.store("1,3", "+FLAGS.SILENT (\\Deleted)", false)
        .await
        .unwrap();
    conn.expunge(None).await.unwrap();
    assert_eq!(uids_and_flags(&conn).await, vec![(2, vec![])]);

    // UID EXPUNGE removes only the named ones among them.
    // (a copy of the one left, UID 2, into its own mailbox: UID 4)
    conn.copy("1", "Kept", false).await.unwrap();
    conn.noop().await.unwrap();
    assert_eq!(uids_and_flags(&conn).await, vec![(2, vec![]), (4, vec![])]);
    conn.store("2,4", "+FLAGS.SILENT (\\Deleted)", true)
        .await
        .unwrap();
    conn.expunge(Some("4")).await.unwrap();
    assert_eq!(
        uids_and_flags(&conn).await,
        vec![(2, vec!["\\Deleted".to_owned()])]
    );
    assert_eq!(conn.examine("Kept").await.unwrap().exists, 1);
    conn.logout().await.unwrap();
}

/// A certificate outside its validity period is refused with the typed error, whose details
/// are those of the certificate (reason, `sha256:` fingerprint, subject, issuer, validity);
/// pinning its fingerprint accepts it (the pin is the user's decision for that certificate,
/// `DangerousTlsConfig::pin`), and a pin of another certificate does not.
#[tokio::test]
async fn expired_and_not_yet_valid_refused_with_details_then_pinned() {
    use std::time::{SystemTime, UNIX_EPOCH};
    let at = |secs: u64| Some(UNIX_EPOCH + Duration::from_secs(secs));
    // 2020-01-01 to 2021-01-01, and 2090-01-01 to 2091-01-01 (midnight UTC).
    let cases = [
        (
            "imapwire expired",
            (2020, 1, 1),
            (2021, 1, 1),
            1577836800,
            1609459200,
        ),
        (
            "imapwire future",
            (2090, 1, 1),
            (2091, 1, 1),
            3786912000,
            3818448000,
        ),
    ];
    for (subject, from, to, from_unix, to_unix) in cases {
        let cert = ca_signed_valid(&["127.0.0.1"], subject, from, to);
        let server = TestServer::start(Mode::Implicit, cert.clone()).await;
        let cfg = client_config(&server, Security::ImplicitTls, &cert);
        let err = Connection::connect(cfg.clone()).await.unwrap_err();
        let Error::Certificate(c) = err else {
            panic!("{subject}: expected a certificate error, got {err:?}")
        };
        let (reason, word) = if to_unix < 2_000_000_000 {
            (CertificateReason::Expired, "expired")
        } else {
            (CertificateReason::NotValidYet, "not yet valid")
        };
        assert_eq!(c.reason, reason, "{subject}");
        let fp = Fingerprint::of_der(&cert.der);
        assert_eq!(c.fingerprint, fp, "{subject}");
        assert_eq!(
            fp.to_string(),
            format!("sha256:{}", hex(&Sha256::digest(&cert.der)))
        );
        assert_eq!(c.subject, format!("CN={subject}"));
        assert_eq!(c.issuer, "CN=imapwire test CA");
        assert_eq!((c.not_before, c.not_after), (at(from_unix), at(to_unix)));
        let now = SystemTime::now();
        assert!(c.not_after < Some(now) || c.not_before > Some(now), "{c:?}");
        let shown = c.to_string();
        for part in [
            word,
            &fp.to_string(),
            &c.subject,
            &c.issuer,
            &format!("{from_unix} to {to_unix}"),
        ] {
            assert!(shown.contains(part), "{part:?} missing from {shown:?}");
        }

        // A pin of another certificate: still refused for the same reason.
        let mut other_pin = cfg.clone();
        other_pin
            .tls
            .dangerous()
            .pin(Fingerprint::of_der(&self_signed().der));
        match Connection::connect(other_pin).await {
            Err(Error::Certificate(c)) => assert_eq!(c.reason, reason, "{subject}"),
            other => panic!("{subject} with another pin: {other:?}"),
        }
        // Its own pin: accepted, and the connection works.
        let mut pinned = cfg;
        pinned.tls.dangerous().pin(fp);
        let conn = Connection::connect(pinned).await.unwrap();
        conn.authenticate(joe(), AuthMethod::Auto).await.unwrap();
        assert_eq!(conn.select("INBOX").await.unwrap().exists, 3);
        conn.logout().await.unwrap();
    }
}

#[tokio::test]
async fn idle_sees_a_message_appended_by_a_second_connection() {
    let cert = ca_signed(&["127.0.0.1"]);
    let server = TestServer::start(Mode::Implicit, cert.clone()).await;
    let a = connect_joe(&server, &cert).await;
    assert_eq!(a.select("INBOX").await.unwrap().exists, 3);
    let mut idle = a.idle().await.unwrap();

    let b = connect_joe(&server, &cert).await;
    let msg = b"Subject: new\r\n\r\nhello\r\n";
    let uid = b
        .append("INBOX", &["\\Seen"], msg.len() as u64, &msg[..])
        .await
        .unwrap();
    assert_eq!(uid, Some(4));

    let ev = tokio::time::timeout(Duration::from_secs(10), idle.next())
        .await
        .expect("an event within 10 s")
        .unwrap();
    assert_eq!(ev, Some(IdleEvent::Exists { exists: 4 }));
    idle.done().await.unwrap();
    // The connection is usable after IDLE.
    let msgs = fetch_all(&a).await;
    assert_eq!(msgs.len(), 4);
    assert_eq!(msgs[3].1, vec!["\\Seen".to_string()]);
    a.logout().await.unwrap();
    b.logout().await.unwrap();
}

/// A server that accepts and then says nothing more after `greeting`.
async fn silent_server(greeting: &'static [u8]) -> u16 {
    use tokio::io::AsyncWriteExt;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut s, _)) = l.accept().await {
            let _ = s.write_all(greeting).await;
            held.push(s);
        }
    });
    port
}

#[tokio::test]
async fn silent_servers_are_detected_within_the_timeouts() {
    let t = |port| {
        let mut to = Timeouts::all(Duration::from_millis(600));
        to.keepalive = Some(Duration::from_millis(300));
        Config::new("127.0.0.1", port)
            .with_security(Security::InsecurePlaintext)
            .with_timeouts(to)
    };
    // No greeting.
    let port = silent_server(b"").await;
    let start = std::time::Instant::now();
    let err = Connection::connect(t(port)).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout(imapwire_tokio::Phase::Greeting)),
        "{err:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(3));
    // A greeting, then silence: a command times out.
    let port = silent_server(b"* OK [CAPABILITY IMAP4rev1] hi\r\n").await;
    let conn = Connection::connect(t(port)).await.unwrap();
    let start = std::time::Instant::now();
    let err = conn.noop().await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(3));
    assert!(conn.is_closed());
    // Idle and silent: the keep-alive NOOP finds the dead peer without any command.
    let conn = Connection::connect(t(port)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        conn.is_closed(),
        "keep-alive should have found the silent server"
    );
}

/// A server that greets, answers CAPABILITY/NOOP, accepts IDLE with a continuation and then
/// says nothing more, as if every later packet were dropped.
async fn mute_in_idle_server() -> u16 {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            let (rd, mut wr) = s.into_split();
            let mut rd = BufReader::new(rd);
            let _ = wr
                .write_all(b"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
                .await;
            let mut line = String::new();
            loop {
                line.clear();
                if rd.read_line(&mut line).await.unwrap_or(0) == 0 {
                    break;
                }
                let mut w = line.split_whitespace();
                let tag = w.next().unwrap_or("*").to_owned();
                match w.next().map(|c| c.to_ascii_uppercase()).as_deref() {
                    Some("IDLE") => {
                        let _ = wr.write_all(b"+ idling\r\n").await;
                        break;
                    }
                    Some("SELECT") => {
                        let r = format!(
                            "* 0 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n{tag} OK [READ-WRITE] done\r\n"
                        );
                        let _ = wr.write_all(r.as_bytes()).await;
                    }
                    _ => {
                        let _ = wr.write_all(format!("{tag} OK done\r\n").as_bytes()).await;
                    }
                }
            }
            held.push((rd, wr));
        }
    });
    port
}

#[tokio::test]
async fn silent_handshake_and_dead_peer_in_idle_are_detected() {
    let mut to = Timeouts::all(Duration::from_millis(600));
    to.idle_refresh = Duration::from_millis(400);
    // TLS: the server never answers the ClientHello.
    let port = silent_server(b"").await;
    let c = Config::new("127.0.0.1", port)
        .with_security(Security::ImplicitTls)
        .with_timeouts(to);
    let start = std::time::Instant::now();
    let err = Connection::connect(c).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout(imapwire_tokio::Phase::Handshake)),
        "{err:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(3));

    // IDLE accepted, then silence: the refresh's DONE goes unanswered and the stream ends
    // with an error within idle_refresh + command.
    let port = mute_in_idle_server().await;
    let c = Config::new("127.0.0.1", port)
        .with_security(Security::InsecurePlaintext)
        .with_timeouts(to);
    let conn = Connection::connect(c).await.unwrap();
    conn.select("INBOX").await.unwrap();
    let mut idle = conn.idle().await.unwrap();
    let start = std::time::Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(5), idle.next())
        .await
        .expect("the dead peer was not detected during IDLE");
    let err = r.expect_err("IDLE on a dead peer must fail");
    assert!(err.is_transient(), "{err:?}");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert!(conn.is_closed());
}

#[tokio::test]
async fn connect_timeout_when_syns_go_unanswered() {
    // A listener that never accepts, with its queue full: the kernel drops further SYNs, so
    // the TCP connect hangs as it would behind a firewall that drops packets.
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = sock.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    let mut hanging = false;
    for _ in 0..8 {
        match tokio::time::timeout(
            Duration::from_millis(300),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(s)) => fillers.push(s),
            _ => {
                hanging = true;
                break;
            }
        }
    }
    assert!(hanging, "the accept queue never filled");
    let mut to = Timeouts::all(Duration::from_secs(10));
    to.connect = Duration::from_millis(500);
    let c = Config::new("127.0.0.1", addr.port())
        .with_security(Security::InsecurePlaintext)
        .with_timeouts(to);
    let start = std::time::Instant::now();
    let err = Connection::connect(c).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout(imapwire_tokio::Phase::Connect)),
        "{err:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(3));
    drop(listener);
}

/// Reads one CRLF-terminated line (plaintext) from `tcp`, byte by byte: the test servers
/// below must not read ahead either.
async fn read_line(tcp: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut line = Vec::new();
    while !line.ends_with(b"\r\n") {
        let b = tcp.read_u8().await.expect("a command line");
        line.push(b);
    }
    String::from_utf8_lossy(&line).trim_end().to_owned()
}

/// A server that answers STARTTLS with its OK and, in the same write, `extra` (when
/// `separate`, 200 ms later in a write of its own); returns what the client sent after the
/// STARTTLS line.
async fn starttls_then(
    extra: &'static [u8],
    separate: bool,
) -> (u16, tokio::task::JoinHandle<Vec<u8>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        tcp.set_nodelay(true).unwrap();
        tcp.write_all(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n")
            .await
            .unwrap();
        let line = read_line(&mut tcp).await;
        let tag = line.split(' ').next().unwrap().to_owned();
        assert!(line.ends_with(" STARTTLS"), "{line}");
        let ok = format!("{tag} OK Begin TLS negotiation now\r\n").into_bytes();
        if separate {
            tcp.write_all(&ok).await.unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            tcp.write_all(extra).await.unwrap();
        } else {
            tcp.write_all(&[ok, extra.to_vec()].concat()).await.unwrap();
        }
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut rest)).await;
        rest
    });
    (port, task)
}

/// STARTTLS hand-off: bytes after the server's OK are never read as plaintext. In the same
/// packet as the OK (a TLS record before the client's ClientHello, or an injected plaintext
/// response) they are an attack: the connection fails before the handshake and nothing more
/// is sent. Arriving later they are read by the TLS handshake, which fails on them.
#[tokio::test]
async fn bytes_after_the_starttls_ok_are_never_plaintext() {
    // A TLS handshake record header (ServerHello) and an IMAP response a plaintext reader
    // would take (dropping LOGINDISABLED).
    let tls_record: &[u8] = b"\x16\x03\x03\x00\x31\x02\x00\x00\x2d\x03\x03";
    let injected: &[u8] = b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n";
    for extra in [tls_record, injected] {
        let (port, server) = starttls_then(extra, false).await;
        let cfg = Config::new("127.0.0.1", port)
            .with_security(Security::StartTls)
            .with_timeouts(Timeouts::all(Duration::from_secs(5)));
        let err = Connection::connect(cfg).await.unwrap_err();
        match &err {
            Error::Protocol(m) => assert!(m.contains("after the STARTTLS OK"), "{m}"),
            other => panic!("{extra:?} in the OK's packet: expected a refusal, got {other:?}"),
        }
        assert!(!err.is_transient(), "an attack is not retried: {err:?}");
        let sent = server.await.unwrap();
        assert!(sent.is_empty(), "the client went on and sent {sent:?}");
    }
    // Later, on their own: the handshake reads them as TLS and fails; no IMAP is sent.
    let (port, server) = starttls_then(injected, true).await;
    let cfg = Config::new("127.0.0.1", port)
        .with_security(Security::StartTls)
        .with_timeouts(Timeouts::all(Duration::from_secs(5)));
    let err = Connection::connect(cfg).await.unwrap_err();
    assert!(matches!(err, Error::Tls(_) | Error::Io(_)), "{err:?}");
    let sent = server.await.unwrap();
    assert_eq!(sent.first(), Some(&0x16), "a ClientHello first: {sent:?}");
    assert!(
        !sent.windows(5).any(|w| w.eq_ignore_ascii_case(b"LOGIN")),
        "IMAP after a failed handshake: {sent:?}"
    );
}

/// Raw DEFLATE with a sync flush (RFC 4978), as a server sends it.
fn deflate(c: &mut flate2::Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 64);
    c.compress_vec(data, &mut out, flate2::FlushCompress::Sync)
        .unwrap();
    out
}

/// COMPRESS hand-off: a server that sends compressed data in the same packet as its
/// `COMPRESS` OK. The adapter inflates everything after the OK (an untagged CAPABILITY that
/// it then knows) and compresses what it sends from then on.
#[tokio::test]
async fn deflate_bytes_in_the_compress_ok_packet_are_inflated() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let caps = "IMAP4rev1 COMPRESS=DEFLATE";
        tcp.write_all(format!("* OK [CAPABILITY {caps}] hi\r\n").as_bytes())
            .await
            .unwrap();
        let login = read_line(&mut tcp).await;
        let tag = login.split(' ').next().unwrap().to_owned();
        tcp.write_all(format!("{tag} OK [CAPABILITY {caps}] in\r\n").as_bytes())
            .await
            .unwrap();
        let compress = read_line(&mut tcp).await;
        assert!(compress.ends_with(" COMPRESS DEFLATE"), "{compress}");
        let tag = compress.split(' ').next().unwrap().to_owned();
        let mut out = flate2::Compress::new(flate2::Compression::default(), false);
        let mut packet = format!("{tag} OK DEFLATE active\r\n").into_bytes();
        packet.extend(deflate(
            &mut out,
            format!("* CAPABILITY {caps} X-SQUEEZED\r\n").as_bytes(),
        ));
        tcp.write_all(&packet).await.unwrap();
        // From here on both directions are compressed.
        let mut inflate = flate2::Decompress::new(false);
        let mut text = Vec::new();
        let mut buf = vec![0u8; 4096];
        let mut commands = Vec::new();
        loop {
            let n = tcp.read(&mut buf).await.unwrap();
            if n == 0 {
                return commands;
            }
            let mut plain = Vec::with_capacity(64 * 1024);
            inflate
                .decompress_vec(&buf[..n], &mut plain, flate2::FlushDecompress::Sync)
                .unwrap();
            text.extend(plain);
            while let Some(at) = text.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = text.drain(..at + 2).collect();
                let line = String::from_utf8_lossy(&line).trim_end().to_owned();
                let (tag, cmd) = line.split_once(' ').unwrap();
                let reply = match cmd {
                    "NOOP" => format!("* 4 EXISTS\r\n{tag} OK noop\r\n"),
                    "LOGOUT" => format!("* BYE bye\r\n{tag} OK out\r\n"),
                    _ => format!("{tag} BAD what\r\n"),
                };
                commands.push(cmd.to_owned());
                tcp.write_all(&deflate(&mut out, reply.as_bytes()))
                    .await
                    .unwrap();
                if cmd == "LOGOUT" {
                    return commands;
                }
            }
        }
    });
    let cfg = Config::new("127.0.0.1", port)
        .with_security(Security::InsecurePlaintext)
        .with_timeouts(Timeouts::all(Duration::from_secs(5)));
    let conn = Connection::connect(cfg).await.unwrap();
    conn.login("joe", imapwire_session::sasl::Secret::new("pw".into()))
        .await
        .unwrap();
    assert!(conn.is_compressed());
    // The untagged CAPABILITY came deflated right behind the OK.
    conn.noop().await.unwrap();
    assert!(
        conn.has_capability("X-SQUEEZED"),
        "{:?}",
        conn.capabilities()
    );
    conn.logout().await.unwrap();
    let commands = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(commands, ["NOOP", "LOGOUT"]);
}

/// `connect` dropped while it waits for the server (here: the answer to CAPABILITY): the
/// socket is closed at once, as its documentation says, with nothing more sent (no LOGOUT
/// to a connection nobody uses, waiting for the response timeout).
#[tokio::test]
async fn connect_dropped_during_setup_closes_the_socket() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let (asked_tx, asked_rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(async move {
        let (s, _) = l.accept().await.unwrap();
        let (rd, mut wr) = s.into_split();
        wr.write_all(b"* OK hi\r\n").await.unwrap();
        let mut rd = BufReader::new(rd);
        let mut line = String::new();
        rd.read_line(&mut line).await.unwrap();
        assert!(line.contains("CAPABILITY"), "{line}");
        let _ = asked_tx.send(());
        // Everything the client sends until it closes (never answered).
        let mut rest = Vec::new();
        rd.read_to_end(&mut rest).await.unwrap();
        drop(wr);
        String::from_utf8_lossy(&rest).into_owned()
    });
    let cfg = Config::new("127.0.0.1", port)
        .with_security(Security::InsecurePlaintext)
        .with_timeouts(Timeouts::all(Duration::from_secs(30)));
    let connect = Connection::connect(cfg);
    tokio::select! {
        r = connect => panic!("connected without an answer to CAPABILITY: {:?}", r.err()),
        _ = asked_rx => {}
    }
    // Well within the 30 s timeouts: the client closes because its future was dropped.
    let rest = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the socket stays open after connect was dropped")
        .unwrap();
    assert!(rest.is_empty(), "sent after the drop: {rest:?}");
}
