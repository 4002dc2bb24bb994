//! `tracing` output at TRACE level (client driver, session and the test server together)
//! never contains a password or a token, neither in clear nor base64-encoded at any
//! alignment; neither does the `Debug` form of the configuration types that hold them.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use common::{Mode, TestServer, ca_signed};
use imapwire_session::sasl::{Credentials, Mechanism, Secret};
use imapwire_tokio::account::TokenFuture;
use imapwire_tokio::{Account, AccountConfig, AuthMethod, Connection, Login, Security};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const SECRETS: [&str; 3] = ["secret", "good-token", "stale-token"];

/// Every form in which `secret` could show up: itself, and the base64 of its bytes at each of
/// the three alignments it can have inside a longer base64 string (a SASL message).
fn forms(secret: &str) -> Vec<String> {
    let b = secret.as_bytes();
    let mut out = vec![secret.to_owned()];
    for skip in 0..3 {
        let rest = &b[skip..];
        let whole = &rest[..rest.len() / 3 * 3];
        let enc = base64::engine::general_purpose::STANDARD_NO_PAD.encode(whole);
        // Shorter needles could match random base64 (SCRAM nonces) by chance.
        if enc.len() >= 8 {
            out.push(enc);
        }
    }
    out
}

/// The SASL messages that carry the secrets, base64-encoded as sent.
fn sasl_messages() -> Vec<String> {
    let b64 = |m: &str| base64::engine::general_purpose::STANDARD.encode(m);
    let mut v = vec![b64("\0joe\0secret"), b64("secret")];
    for t in ["good-token", "stale-token"] {
        v.push(b64(&format!("user=joe\x01auth=Bearer {t}\x01\x01")));
        v.push(b64(&format!("n,a=joe,\x01auth=Bearer {t}\x01\x01")));
    }
    v
}

fn assert_clean(text: &str, what: &str) {
    for s in SECRETS {
        for f in forms(s) {
            assert!(!text.contains(&f), "{f:?} (from {s:?}) appears in {what}");
        }
    }
    for m in sasl_messages() {
        assert!(
            !text.contains(&m),
            "the SASL message {m:?} appears in {what}"
        );
    }
}

#[tokio::test]
async fn traces_hold_no_secrets() {
    let buf = Buf::default();
    let b2 = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || b2.clone())
        .finish();
    let _g = tracing::subscriber::set_default(subscriber);

    let cert = ca_signed(&["127.0.0.1"]);
    let server = TestServer::start(Mode::Implicit, cert.clone()).await;
    let cfg = common::client_config(&server, Security::ImplicitTls, &cert);
    let pw = common::joe;
    let tok = |t: &str| Credentials::token("joe", Secret::new(t.into()));
    let mut tried = Vec::new();
    for (creds, method) in [
        (pw(), AuthMethod::Mechanism(Mechanism::Plain)),
        (pw(), AuthMethod::Mechanism(Mechanism::Login)),
        (pw(), AuthMethod::LoginCommand),
        (pw(), AuthMethod::Auto),
        (tok("good-token"), AuthMethod::Mechanism(Mechanism::XOAuth2)),
        (
            tok("good-token"),
            AuthMethod::Mechanism(Mechanism::OAuthBearer),
        ),
    ] {
        let conn = Connection::connect(cfg.clone()).await.unwrap();
        tried.push(conn.authenticate(creds, method).await.unwrap());
        conn.select("INBOX").await.unwrap();
        conn.logout().await.unwrap();
    }
    assert_eq!(
        tried,
        [
            "PLAIN",
            "LOGIN",
            "LOGIN",
            "SCRAM-SHA-256",
            "XOAUTH2",
            "OAUTHBEARER"
        ]
    );

    // Refused tokens (the server's error challenge and NO), then an account whose provider
    // refreshes a stale token.
    for m in [Mechanism::XOAuth2, Mechanism::OAuthBearer] {
        let conn = Connection::connect(cfg.clone()).await.unwrap();
        let err = conn
            .authenticate(tok("stale-token"), AuthMethod::Mechanism(m))
            .await
            .unwrap_err();
        assert!(err.is_auth_failure(), "{err:?}");
        assert_clean(&format!("{err:?} {err}"), "the error");
        let _ = conn.logout().await;
    }
    let provider = |refresh: bool| -> TokenFuture {
        Box::pin(async move {
            Ok(Secret::new(
                if refresh { "good-token" } else { "stale-token" }.to_owned(),
            ))
        })
    };
    let acct_cfg = AccountConfig::new(
        cfg.clone(),
        Login::OAuth {
            user: "joe".into(),
            provider: Arc::new(provider),
        },
    );
    let acct = Account::new(acct_cfg.clone());
    acct.connection().await.unwrap();
    acct.logout().await.unwrap();

    let text = String::from_utf8_lossy(&buf.0.lock().unwrap()).into_owned();
    // The trace did record the exchanges whose secrets it must leave out.
    for word in [
        "AUTHENTICATE",
        "LOGIN",
        "XOAUTH2",
        "OAUTHBEARER",
        "token refused",
    ] {
        assert!(text.contains(word), "{word:?} was not traced");
    }
    assert_clean(&text, "the trace");

    // Debug forms of what holds the secrets.
    let pw_login = Login::Password {
        user: "joe".into(),
        password: Secret::new("secret".into()),
    };
    let debug = format!(
        "{:?} {:?} {:?} {:?} {:?} {:?}",
        pw(),
        tok("good-token"),
        pw_login,
        AccountConfig::new(cfg.clone(), pw_login.clone()),
        acct_cfg,
        acct,
    );
    assert!(debug.contains("joe"), "{debug}");
    assert_clean(&debug, "a Debug form");
}

#[test]
fn the_check_finds_secrets_in_every_form() {
    use base64::Engine as _;
    let plain = base64::engine::general_purpose::STANDARD.encode("\0joe\0secret");
    let bearer = base64::engine::general_purpose::STANDARD
        .encode("n,a=joe,\x01auth=Bearer good-token\x01\x01");
    let shifted = base64::engine::general_purpose::STANDARD.encode("xy good-token");
    for probe in [
        "password secret here".to_owned(),
        format!("AUTHENTICATE PLAIN {plain}"),
        format!("AUTHENTICATE OAUTHBEARER {bearer}"),
        format!("data {shifted}"),
    ] {
        let r = std::panic::catch_unwind(|| assert_clean(&probe, "a probe"));
        assert!(r.is_err(), "not found in {probe:?}");
    }
    assert_clean("AUTHENTICATE SCRAM-SHA-256 biwsbj1qb2Us", "a clean probe");
}
