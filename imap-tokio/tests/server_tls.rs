//! The accept side's TLS with our own client over real TLS on 127.0.0.1: SCRAM `-PLUS`
//! channel binding with `tls-exporter` (TLS 1.3, implicit TLS and STARTTLS, through the
//! example server's [`start`]) and `tls-server-end-point` (TLS 1.2, through
//! [`serve_connection`] with a TLS 1.2-only acceptor), and a binding that does not match the
//! channel refused.

mod support;

use std::sync::Arc;
use std::time::Duration;

use imapwire_session::sasl::scram::{ChannelBinding, ChannelBindingType};
use imapwire_session::sasl::{Credentials, Mechanism, Secret};
use imapwire_session::server::ServerConfig;
use imapwire_tokio::server::{
    DriverOptions, ListenKind, MaildirBackend, ServeOptions, Users, serve_connection, start,
};
use imapwire_tokio::{AuthMethod, Config, Connection, Error, Security, Timeouts};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;

fn joe() -> Credentials {
    Credentials::password("joe", Secret::new("secret".into()))
}

fn client(port: u16, security: Security, cert: &CertificateDer<'static>) -> Config {
    let mut c = Config::new("127.0.0.1", port)
        .with_security(security)
        .with_timeouts(Timeouts::all(Duration::from_secs(20)));
    c.tls
        .dangerous()
        .pin(imapwire_tokio::Fingerprint::of_der(cert));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_plus_tls13_exporter_implicit_and_starttls() {
    let dir = support::Scratch::new("scram-plus-13");
    let users = dir.0.join("users");
    std::fs::write(&users, "joe:secret\n").unwrap();
    let mut opts = ServeOptions::new(&users, dir.0.join("store"));
    opts.listen = vec!["127.0.0.1:0".parse().unwrap()];
    opts.tls_listen = vec!["127.0.0.1:0".parse().unwrap()];
    let server = start(opts).await.unwrap();
    let port = |k| {
        server
            .addresses
            .iter()
            .find(|(kind, _)| *kind == k)
            .unwrap()
            .1
            .port()
    };
    for (security, p) in [
        (Security::ImplicitTls, port(ListenKind::Tls)),
        (Security::StartTls, port(ListenKind::Plain)),
    ] {
        let conn = Connection::connect(client(p, security, &server.certificate))
            .await
            .unwrap();
        assert!(conn.has_channel_binding(), "{security:?}");
        // The client picks the strongest mechanism: -PLUS, offered only with a binding.
        let mech = conn.authenticate(joe(), AuthMethod::Auto).await.unwrap();
        assert_eq!(mech, "SCRAM-SHA-256-PLUS", "{security:?}");
        let info = conn.select("INBOX").await.unwrap();
        assert_eq!(info.exists, 0);
        conn.logout().await.unwrap();
        // SCRAM-SHA-1-PLUS, named.
        let conn = Connection::connect(client(p, security, &server.certificate))
            .await
            .unwrap();
        let mech = conn
            .authenticate(joe(), AuthMethod::Mechanism(Mechanism::ScramSha1Plus))
            .await
            .unwrap();
        assert_eq!(mech, "SCRAM-SHA-1-PLUS");
        conn.logout().await.unwrap();
        // A binding of another channel (what a man in the middle would have) is refused.
        let conn = Connection::connect(client(p, security, &server.certificate))
            .await
            .unwrap();
        let mut forged = joe();
        forged.channel_binding = Some(ChannelBinding {
            kind: ChannelBindingType::TlsExporter,
            data: bytes::Bytes::from_static(&[7u8; 32]),
        });
        let r = conn.authenticate(forged, AuthMethod::Auto).await;
        assert!(matches!(r, Err(Error::Command(_))), "{security:?}: {r:?}");
        // Same channel, right binding: still accepted afterwards.
        let mech = conn.authenticate(joe(), AuthMethod::Auto).await.unwrap();
        assert_eq!(mech, "SCRAM-SHA-256-PLUS");
        conn.logout().await.unwrap();
    }
    server.shutdown(Duration::from_secs(5)).await;
}

/// The *ring* provider (as the crate's own TLS uses).
#[allow(deprecated)]
fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_plus_tls12_server_end_point() {
    let dir = support::Scratch::new("scram-plus-12");
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let der = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let tls12 = rustls::ServerConfig::builder_with_provider(ring_provider())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls12));
    let users = Arc::new(Users::parse("joe:secret\n").unwrap());
    let backend = Arc::new(MaildirBackend::new(&dir.0));
    backend.prepare("joe").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (_stop, stop_rx) = watch::channel(false);
    // Two connections: with the certificate given (end-point binding) and without it.
    let server = {
        let der = der.clone();
        tokio::spawn(async move {
            for with_cert in [true, false] {
                let (tcp, _) = listener.accept().await.unwrap();
                let mut opts = DriverOptions::default();
                if with_cert {
                    opts = opts.with_certificate(der.clone());
                }
                let config = ServerConfig::default().with_credentials(users.clone());
                serve_connection(
                    tcp,
                    config,
                    Some((acceptor.clone(), true)),
                    backend.clone(),
                    stop_rx.clone(),
                    opts,
                )
                .await;
            }
        })
    };
    let conn = Connection::connect(client(port, Security::ImplicitTls, &der))
        .await
        .unwrap();
    assert!(conn.has_channel_binding());
    let mech = conn.authenticate(joe(), AuthMethod::Auto).await.unwrap();
    assert_eq!(mech, "SCRAM-SHA-256-PLUS");
    conn.select("INBOX").await.unwrap();
    conn.logout().await.unwrap();
    // Without the certificate the server cannot bind TLS 1.2: no -PLUS, plain SCRAM.
    let conn = Connection::connect(client(port, Security::ImplicitTls, &der))
        .await
        .unwrap();
    let mech = conn.authenticate(joe(), AuthMethod::Auto).await.unwrap();
    assert_eq!(mech, "SCRAM-SHA-256");
    conn.logout().await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap();
}
