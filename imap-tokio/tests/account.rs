//! The account client: reconnect after a server restart (IDLE resumed), give-up window,
//! failures that are not retried, the OAuth token provider.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::scripted::{Act, Scripted, scripted, send};
use common::{Cert, Mode, TestServer, ca_signed, self_signed};
use imapwire_session::sasl::{Mechanism, Secret};
use imapwire_tokio::account::TokenFuture;
use imapwire_tokio::backoff::Backoff;
use imapwire_tokio::{
    Account, AccountConfig, AccountEvent, AccountIdle, AccountState, AuthMethod, Config, Error,
    IdleEvent, Login, Security, Timeouts,
};

fn account(
    port: u16,
    ca: Option<&rustls_pki_types::CertificateDer<'static>>,
    login: Login,
) -> AccountConfig {
    let mut c = Config::new("127.0.0.1", port)
        .with_security(Security::ImplicitTls)
        .with_timeouts(Timeouts::all(Duration::from_secs(5)));
    if let Some(ca) = ca {
        c.tls.add_root_der(ca.to_vec());
    }
    AccountConfig::new(c, login).with_backoff(Backoff::new(
        Duration::from_millis(50),
        Duration::from_millis(400),
    ))
}

fn joe() -> Login {
    Login::Password {
        user: "joe".into(),
        password: Secret::new("secret".into()),
    }
}

/// The event of `idle` after `server` delivers `msg`: the IDLE is given 300 ms to start
/// (no event may come meanwhile), then the delivery's event must come within 10 s.
async fn delivered_while_idling(
    idle: &mut AccountIdle,
    server: &TestServer,
    msg: &[u8],
) -> AccountEvent {
    let next = idle.next();
    tokio::pin!(next);
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(300)) => {}
        r = &mut next => panic!("early event {r:?}"),
    }
    server.deliver(msg);
    tokio::time::timeout(Duration::from_secs(10), next)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn reconnects_after_server_restart_and_resumes_idle() {
    let cert = ca_signed(&["127.0.0.1"]);
    let server = TestServer::start(Mode::Implicit, cert.clone()).await;
    let addr = server.addr;
    let store = server.store.clone();
    let acct = Account::new(account(addr.port(), cert.ca_der.as_ref(), joe()));
    assert_eq!(acct.select("INBOX").await.unwrap().exists, 3);
    let mut idle = acct.idle();
    // The first event: a delivery while idling.
    let first = delivered_while_idling(&mut idle, &server, b"Subject: four\r\n\r\n4\r\n").await;
    assert_eq!(
        first,
        AccountEvent::Mailbox(IdleEvent::Exists { exists: 4 })
    );

    // The server goes away; mail arrives meanwhile; it comes back on the same port.
    server.stop();
    drop(server);
    store.lock().unwrap().deliver(
        &imapwire_codec::mailbox::Mailbox::Inbox,
        bytes::Bytes::from_static(b"Subject: five\r\n\r\n5\r\n"),
        vec![],
    );
    let _ = store.lock().unwrap().take_notifications();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let server = TestServer::restart_on(addr, Mode::Implicit, cert.clone(), store.clone()).await;

    let ev = tokio::time::timeout(Duration::from_secs(20), idle.next())
        .await
        .expect("reconnected within 20 s")
        .unwrap();
    match ev {
        AccountEvent::Reconnected(Some(info)) => assert_eq!(info.exists, 5),
        other => panic!("expected Reconnected, got {other:?}"),
    }
    assert_eq!(acct.state(), AccountState::Connected);
    assert_eq!(acct.connections_made(), 2);
    // IDLE runs again: a new delivery is seen.
    let ev = delivered_while_idling(&mut idle, &server, b"Subject: six\r\n\r\n6\r\n").await;
    assert_eq!(ev, AccountEvent::Mailbox(IdleEvent::Exists { exists: 6 }));
    idle.done().await.unwrap();
    acct.logout().await.unwrap();
}

#[tokio::test]
async fn gives_up_after_the_window_and_reconnect_leaves_the_terminal_state() {
    let cert = ca_signed(&["127.0.0.1"]);
    let server = TestServer::start(Mode::Implicit, cert.clone()).await;
    let addr = server.addr;
    let store = server.store.clone();
    let cfg = account(addr.port(), cert.ca_der.as_ref(), joe())
        .with_give_up_after(Duration::from_millis(1500));
    let acct = Account::new(cfg);
    acct.connection().await.unwrap();
    server.stop();
    drop(server);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    let err = acct.connection().await.unwrap_err();
    let took = t.elapsed();
    assert!(matches!(err, Error::Disconnected(_)), "{err:?}");
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_secs(6),
        "{took:?}"
    );
    assert!(matches!(acct.state(), AccountState::Disconnected { .. }));
    // Terminal: fails at once without trying.
    let t = Instant::now();
    assert!(matches!(
        acct.connection().await,
        Err(Error::Disconnected(_))
    ));
    assert!(t.elapsed() < Duration::from_millis(100));
    // The server is back; an explicit reconnect leaves the state.
    let _server = TestServer::restart_on(addr, Mode::Implicit, cert, store).await;
    let conn = acct.reconnect().await.unwrap();
    conn.noop().await.unwrap();
    assert_eq!(acct.state(), AccountState::Connected);
}

#[tokio::test]
async fn auth_failures_and_certificate_refusals_are_not_retried() {
    let cert = ca_signed(&["127.0.0.1"]);
    let server = TestServer::start(Mode::Implicit, cert.clone()).await;
    let bad = Login::Password {
        user: "joe".into(),
        password: Secret::new("wrong".into()),
    };
    let acct = Account::new(account(server.addr.port(), cert.ca_der.as_ref(), bad));
    let t = Instant::now();
    let err = acct.connection().await.unwrap_err();
    assert!(err.is_auth_failure(), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(3));
    assert!(matches!(acct.state(), AccountState::Disconnected { .. }));
    assert_eq!(acct.connections_made(), 0);

    let other = self_signed();
    let server2 = TestServer::start(Mode::Implicit, other).await;
    let acct = Account::new(account(server2.addr.port(), None, joe()));
    let err = acct.connection().await.unwrap_err();
    assert!(matches!(err, Error::Certificate(_)), "{err:?}");
    assert!(matches!(acct.state(), AccountState::Disconnected { .. }));
}

/// A provider that counts its calls and hands out `first` then `refreshed`.
fn provider(
    first: &'static str,
    refreshed: &'static str,
) -> (
    Arc<dyn imapwire_tokio::TokenProvider>,
    Arc<AtomicU32>,
    Arc<AtomicU32>,
) {
    let calls = Arc::new(AtomicU32::new(0));
    let refreshes = Arc::new(AtomicU32::new(0));
    let (c2, r2) = (calls.clone(), refreshes.clone());
    let f = move |refresh: bool| -> TokenFuture {
        c2.fetch_add(1, Ordering::SeqCst);
        if refresh {
            r2.fetch_add(1, Ordering::SeqCst);
        }
        Box::pin(async move {
            Ok(Secret::new(
                if refresh { refreshed } else { first }.to_owned(),
            ))
        })
    };
    (Arc::new(f), calls, refreshes)
}

/// An account of `joe` authenticating as `method` with tokens from a [`provider`] handing
/// out `first` then `refreshed`; with the provider's call and refresh counters.
fn oauth_account(
    server: &TestServer,
    cert: &Cert,
    (first, refreshed): (&'static str, &'static str),
    method: AuthMethod,
) -> (Account, Arc<AtomicU32>, Arc<AtomicU32>) {
    let (p, calls, refreshes) = provider(first, refreshed);
    let login = Login::OAuth {
        user: "joe".into(),
        provider: p,
    };
    let cfg = account(server.addr.port(), cert.ca_der.as_ref(), login).with_method(method);
    (Account::new(cfg), calls, refreshes)
}

#[tokio::test]
async fn oauth_provider_called_at_connect_and_once_more_after_expiry() {
    let cert = ca_signed(&["127.0.0.1"]);
    let server = TestServer::start(Mode::Implicit, cert.clone()).await;
    for method in [
        AuthMethod::Auto,
        AuthMethod::Mechanism(Mechanism::XOAuth2),
        AuthMethod::Mechanism(Mechanism::OAuthBearer),
    ] {
        // A stale token first: refused with the error challenge, refreshed once, accepted.
        let (acct, calls, refreshes) =
            oauth_account(&server, &cert, ("stale-token", "good-token"), method);
        let conn = acct.connection().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2, "{method:?}");
        assert_eq!(refreshes.load(Ordering::SeqCst), 1, "{method:?}");
        conn.select("INBOX").await.unwrap();
        // A reconnect asks the provider again (not for a refresh first).
        let conn = acct.reconnect().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 4, "{method:?}");
        conn.noop().await.unwrap();
        acct.logout().await.unwrap();

        // A good token: one call, no refresh.
        let (acct, calls, refreshes) =
            oauth_account(&server, &cert, ("good-token", "good-token"), method);
        acct.connection().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1, "{method:?}");
        assert_eq!(refreshes.load(Ordering::SeqCst), 0, "{method:?}");
        acct.logout().await.unwrap();

        // A token refused even fresh: exactly one refresh, then an authentication failure
        // that is not retried.
        let (acct, calls, refreshes) =
            oauth_account(&server, &cert, ("stale-token", "revoked-token"), method);
        let err = acct.connection().await.unwrap_err();
        assert!(err.is_auth_failure(), "{method:?}: {err:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 2, "{method:?}");
        assert_eq!(refreshes.load(Ordering::SeqCst), 1, "{method:?}");
        assert!(matches!(acct.state(), AccountState::Disconnected { .. }));
    }
}

/// A scripted plaintext server that answers a refused XOAUTH2 token the way Microsoft does:
/// a bare `NO AUTHENTICATE failed.` with no error challenge, then it closes the connection.
/// Accepts only `good-token`; returns the tokens it saw.
async fn bare_no_server() -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    use base64::Engine as _;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let seen = seen2.clone();
            tokio::spawn(async move {
                let (rd, mut wr) = tcp.into_split();
                let mut rd = BufReader::new(rd);
                wr.write_all(b"* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR] ready\r\n")
                    .await
                    .unwrap();
                let mut line = String::new();
                loop {
                    line.clear();
                    if rd.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut words = line.split_whitespace();
                    let tag = words.next().unwrap_or("*").to_owned();
                    let cmd = words.next().unwrap_or("").to_ascii_uppercase();
                    let reply = match cmd.as_str() {
                        "AUTHENTICATE" => {
                            let ir = words.nth(1).unwrap_or("");
                            let raw = base64::engine::general_purpose::STANDARD
                                .decode(ir)
                                .unwrap_or_default();
                            let raw = String::from_utf8_lossy(&raw).into_owned();
                            let token = raw
                                .split('\x01')
                                .find_map(|p| p.strip_prefix("auth=Bearer "))
                                .unwrap_or("")
                                .to_owned();
                            seen.lock().unwrap().push(token.clone());
                            if token == "good-token" {
                                format!("{tag} OK [CAPABILITY IMAP4rev1 IDLE] authenticated\r\n")
                            } else {
                                let _ = wr
                                    .write_all(
                                        format!("{tag} NO AUTHENTICATE failed.\r\n").as_bytes(),
                                    )
                                    .await;
                                return;
                            }
                        }
                        "CAPABILITY" => {
                            format!("* CAPABILITY IMAP4rev1 IDLE\r\n{tag} OK done\r\n")
                        }
                        "LOGOUT" => {
                            let _ = wr
                                .write_all(format!("* BYE bye\r\n{tag} OK done\r\n").as_bytes())
                                .await;
                            return;
                        }
                        _ => format!("{tag} OK done\r\n"),
                    };
                    if wr.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, seen)
}

#[tokio::test]
async fn oauth_refresh_after_a_bare_no_and_a_closed_connection() {
    let (port, seen) = bare_no_server().await;
    let (p, calls, refreshes) = provider("stale-token", "good-token");
    let login = Login::OAuth {
        user: "joe".into(),
        provider: p,
    };
    let c = Config::new("127.0.0.1", port)
        .with_security(Security::InsecurePlaintext)
        .with_timeouts(Timeouts::all(Duration::from_secs(5)));
    let cfg = AccountConfig::new(c, login).with_method(AuthMethod::Mechanism(Mechanism::XOAuth2));
    let acct = Account::new(cfg);
    let conn = acct.connection().await.unwrap();
    conn.noop().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(*seen.lock().unwrap(), ["stale-token", "good-token"]);
    acct.logout().await.unwrap();
}

/// A scripted plaintext server whose first connection ends its IDLE after 300 ms with
/// `* BYE {bye}`; later connections report a new message (`* 3 EXISTS`) during IDLE instead.
async fn bye_during_idle_server(bye: &'static str) -> Scripted {
    let idle_tags = Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    scripted(
        "* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n",
        move |conn, tag, cmd| {
            let word = cmd.split(' ').next().unwrap_or("");
            match word {
                "LOGIN" => vec![send(format!("{tag} OK [CAPABILITY IMAP4rev1 IDLE] in\r\n"))],
                "SELECT" => vec![send(format!(
                    "* 2 EXISTS\r\n* OK [UIDVALIDITY 1] v\r\n* OK [UIDNEXT 3] n\r\n\
                     {tag} OK [READ-WRITE] selected\r\n"
                ))],
                "IDLE" if conn == 0 => vec![
                    send("+ idling\r\n"),
                    Act::Sleep(Duration::from_millis(300)),
                    send(format!("* BYE {bye}\r\n")),
                    Act::Close,
                ],
                "IDLE" => {
                    idle_tags.lock().unwrap().insert(conn, tag.to_owned());
                    vec![
                        send("+ idling\r\n"),
                        Act::Sleep(Duration::from_millis(300)),
                        send("* 3 EXISTS\r\n"),
                    ]
                }
                "DONE" => {
                    let t = idle_tags.lock().unwrap().remove(&conn).unwrap_or_default();
                    vec![send(format!("{t} OK idle done\r\n"))]
                }
                "LOGOUT" => vec![send(format!("* BYE bye\r\n{tag} OK out\r\n")), Act::Close],
                _ => vec![send(format!("{tag} OK done\r\n"))],
            }
        },
    )
    .await
}

/// An account config for joe on 127.0.0.1:`port` over plaintext with the LOGIN command,
/// every timeout `timeout` and a short backoff (50 to 200 ms).
fn plaintext_config(port: u16, timeout: Duration) -> AccountConfig {
    let c = Config::new("127.0.0.1", port)
        .with_security(Security::InsecurePlaintext)
        .with_timeouts(Timeouts::all(timeout));
    AccountConfig::new(c, joe())
        .with_method(AuthMethod::LoginCommand)
        .with_backoff(Backoff::new(
            Duration::from_millis(50),
            Duration::from_millis(200),
        ))
}

fn plaintext_account(port: u16) -> Account {
    Account::new(plaintext_config(port, Duration::from_secs(5)))
}

/// A `BYE` for policy reasons (a response code that needs the user: `[ALERT]`,
/// `[CONTACTADMIN]`, `[EXPIRED]`) ends the account in the terminal disconnected state with
/// the server's words, and no new connection is tried; an explicit reconnect is.
#[tokio::test]
async fn a_bye_for_policy_reasons_is_not_retried() {
    for bye in [
        "[ALERT] Your account is suspended",
        "[CONTACTADMIN] Too many connections from your host",
        "[EXPIRED] Your password has expired",
    ] {
        let server = bye_during_idle_server(bye).await;
        let acct = plaintext_account(server.port);
        assert_eq!(acct.select("INBOX").await.unwrap().exists, 2);
        let mut idle = acct.idle();
        let err = tokio::time::timeout(Duration::from_secs(10), idle.next())
            .await
            .expect("the BYE ends the IDLE")
            .expect_err("a policy BYE is an error");
        let Error::Disconnected(reason) = &err else {
            panic!("{bye}: expected Disconnected, got {err:?}");
        };
        let text = bye.split_once("] ").unwrap().1;
        assert!(reason.contains(text), "{bye}: {reason}");
        assert!(
            matches!(acct.state(), AccountState::Disconnected { .. }),
            "{bye}: {:?}",
            acct.state()
        );
        // Time enough for several attempts at the configured backoff: none is made.
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(server.connections.load(Ordering::SeqCst), 1, "{bye}");
        assert!(matches!(idle.next().await, Err(Error::Disconnected(_))));
        assert!(matches!(
            acct.connection().await,
            Err(Error::Disconnected(_))
        ));
        assert_eq!(server.connections.load(Ordering::SeqCst), 1, "{bye}");
        assert_eq!(acct.connections_made(), 1);

        // The user's explicit reconnect is made, the mailbox selected again, IDLE resumed.
        acct.reconnect().await.unwrap();
        assert_eq!(server.connections.load(Ordering::SeqCst), 2, "{bye}");
        match idle.next().await.unwrap() {
            AccountEvent::Reconnected(Some(info)) => assert_eq!(info.exists, 2),
            other => panic!("{bye}: expected Reconnected, got {other:?}"),
        }
        let ev = tokio::time::timeout(Duration::from_secs(10), idle.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ev, AccountEvent::Mailbox(IdleEvent::Exists { exists: 3 }));
        idle.done().await.unwrap();
        acct.logout().await.unwrap();
    }
}

/// The contrast: a `BYE` without a code that needs the user (a server shutting down, or
/// `[UNAVAILABLE]`) is a network event: the account reconnects by itself and IDLE resumes.
#[tokio::test]
async fn a_bye_without_a_policy_code_is_retried() {
    for bye in ["Server shutting down.", "[UNAVAILABLE] Back end restarting"] {
        let server = bye_during_idle_server(bye).await;
        let acct = plaintext_account(server.port);
        acct.select("INBOX").await.unwrap();
        let mut idle = acct.idle();
        let ev = tokio::time::timeout(Duration::from_secs(10), idle.next())
            .await
            .expect("reconnected within 10 s")
            .unwrap_or_else(|e| panic!("{bye}: {e}"));
        match ev {
            AccountEvent::Reconnected(Some(info)) => assert_eq!(info.exists, 2),
            other => panic!("{bye}: expected Reconnected, got {other:?}"),
        }
        assert_eq!(server.connections.load(Ordering::SeqCst), 2, "{bye}");
        assert_eq!(acct.state(), AccountState::Connected);
        let ev = tokio::time::timeout(Duration::from_secs(10), idle.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(ev, AccountEvent::Mailbox(IdleEvent::Exists { exists: 3 }));
        // The second connection's SELECT is the re-selection.
        assert!(
            server
                .lines_of(1)
                .iter()
                .any(|l| l.ends_with("SELECT INBOX")),
            "{:?}",
            server.lines_of(1)
        );
        idle.done().await.unwrap();
        acct.logout().await.unwrap();
    }
}

/// An account on 127.0.0.1:`port` over plaintext with the LOGIN command, every timeout 10 s,
/// short backoff and the give-up window `window`.
fn slow_account(port: u16, window: Duration) -> Account {
    Account::new(plaintext_config(port, Duration::from_secs(10)).with_give_up_after(window))
}

/// The give-up window bounds each attempt, not only the time between attempts: a server that
/// accepts connections and never greets, with a 10 s greeting timeout and a 1 s window, is
/// given up on after about 1 s (it was 10 s: the first attempt ran its whole greeting
/// timeout).
#[tokio::test]
async fn the_window_bounds_an_attempt_stuck_before_the_greeting() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut socks = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            socks.push(s);
        }
    });
    let acct = slow_account(port, Duration::from_secs(1));
    let t = Instant::now();
    let err = acct.connection().await.unwrap_err();
    let took = t.elapsed();
    assert!(matches!(err, Error::Disconnected(_)), "{err:?}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    held.abort();
}

/// The same for an attempt stuck after the greeting (a LOGIN never answered: the command
/// timeout is 10 s): the attempt in progress is abandoned when the window ends.
#[tokio::test]
async fn the_window_bounds_an_attempt_stuck_in_login() {
    let server = scripted("* OK [CAPABILITY IMAP4rev1] ready\r\n", |_, _, cmd| {
        if cmd.starts_with("LOGIN") {
            vec![Act::Sleep(Duration::from_secs(30))]
        } else {
            vec![Act::Close]
        }
    })
    .await;
    let acct = slow_account(server.port, Duration::from_secs(1));
    let t = Instant::now();
    let err = acct.connection().await.unwrap_err();
    let took = t.elapsed();
    let Error::Disconnected(reason) = &err else {
        panic!("expected Disconnected, got {err:?}");
    };
    assert!(reason.contains("within the window"), "{reason}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    assert!(matches!(acct.state(), AccountState::Disconnected { .. }));
}

/// A server that negotiates COMPRESS=DEFLATE and then sends bytes that do not inflate
/// (`0x07`: a final block of the reserved type 3).
async fn corrupt_deflate_server() -> Scripted {
    scripted("* OK [CAPABILITY IMAP4rev1] ready\r\n", |_, tag, cmd| {
        let word = cmd.split(' ').next().unwrap_or("");
        match word {
            "LOGIN" => vec![send(format!(
                "{tag} OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] in\r\n"
            ))],
            "COMPRESS" => vec![
                send(format!("{tag} OK deflating\r\n")),
                Act::Sleep(Duration::from_millis(20)),
                send("\u{7}\u{7}\u{7}\u{7}"),
            ],
            _ => vec![send(format!("{tag} OK done\r\n"))],
        }
    })
    .await
}

/// A close caused by a protocol violation (here a COMPRESS stream that does not inflate) is
/// `Error::ProtocolViolation`, not a transient `Closed`: the account retries it once, after a
/// backoff delay, and gives up on the second (two connections in all, well within the 5 s
/// window that a network failure would have been retried for).
#[tokio::test]
async fn a_protocol_violation_is_retried_once_then_the_account_gives_up() {
    let server = corrupt_deflate_server().await;
    let acct = slow_account(server.port, Duration::from_secs(5));
    let t = Instant::now();
    let err = acct.select("INBOX").await.unwrap_err();
    let Error::Disconnected(reason) = &err else {
        panic!("expected Disconnected, got {err:?}");
    };
    assert!(
        reason.contains("2 connections in a row") && reason.contains("broke the protocol"),
        "{reason}"
    );
    assert!(reason.contains("COMPRESS=DEFLATE"), "{reason}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(
        server.connections.load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    assert!(matches!(acct.state(), AccountState::Disconnected { .. }));
    // A connection on its own reports the violation, typed and not transient.
    let c = Config::new("127.0.0.1", server.port)
        .with_security(Security::InsecurePlaintext)
        .with_timeouts(Timeouts::all(Duration::from_secs(5)));
    let conn = imapwire_tokio::Connection::connect(c).await.unwrap();
    conn.login("joe", Secret::new("pw".into())).await.unwrap();
    let e = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match conn.noop().await {
                Ok(()) => tokio::time::sleep(Duration::from_millis(10)).await,
                Err(e) => break e,
            }
        }
    })
    .await
    .expect("the corrupt stream closes the connection");
    assert!(matches!(e, Error::ProtocolViolation(_)), "{e:?}");
    assert!(!e.is_transient());
    assert!(conn.closed_by_protocol_violation());
}
