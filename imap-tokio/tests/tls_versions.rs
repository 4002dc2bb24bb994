//! TLS 1.2 or newer only: the ClientHello offers TLS 1.3 and 1.2 and nothing older, and a
//! server that speaks only TLS 1.2 is reached (with tls-server-end-point channel binding).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::ca_signed;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use imapwire_tokio::{Config, Connection, Error, Security, Timeouts};

fn cfg(port: u16) -> Config {
    Config::new("127.0.0.1", port)
        .with_security(Security::ImplicitTls)
        .with_timeouts(Timeouts::all(Duration::from_secs(5)))
}

/// The `supported_versions` extension (RFC 8446 §4.2.1) of a ClientHello record, and the
/// hello's legacy_version.
fn versions_of(hello: &[u8]) -> (u16, Vec<u16>) {
    let be16 = |b: &[u8], i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    assert_eq!(hello[0], 22, "not a handshake record");
    assert_eq!(hello[5], 1, "not a ClientHello");
    let body = &hello[9..];
    let legacy = be16(body, 0);
    let mut i = 2 + 32; // version, random
    i += 1 + body[i] as usize; // session id
    i += 2 + be16(body, i) as usize; // cipher suites
    i += 1 + body[i] as usize; // compression methods
    let end = i + 2 + be16(body, i) as usize;
    i += 2;
    while i < end {
        let (kind, len) = (be16(body, i), be16(body, i + 2) as usize);
        let data = &body[i + 4..i + 4 + len];
        if kind == 43 {
            let n = data[0] as usize;
            return (
                legacy,
                data[1..1 + n].chunks(2).map(|c| be16(c, 0)).collect(),
            );
        }
        i += 4 + len;
    }
    (legacy, Vec::new())
}

#[tokio::test]
async fn client_hello_offers_tls13_and_tls12_only() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut head = [0u8; 5];
        tcp.read_exact(&mut head).await.unwrap();
        let len = u16::from_be_bytes([head[3], head[4]]) as usize;
        let mut rest = vec![0u8; len];
        tcp.read_exact(&mut rest).await.unwrap();
        let mut hello = head.to_vec();
        hello.extend_from_slice(&rest);
        // A protocol_version alert: the client gives up.
        let _ = tcp.write_all(&[21, 3, 3, 0, 2, 2, 70]).await;
        hello
    });
    let err = Connection::connect(cfg(port)).await.unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
    let hello = server.await.unwrap();
    let (legacy, versions) = versions_of(&hello);
    assert_eq!(legacy, 0x0303, "legacy_version must say TLS 1.2");
    let mut v = versions;
    v.retain(|x| x & 0x0f0f != 0x0a0a); // GREASE values
    v.sort_unstable();
    assert_eq!(v, [0x0303, 0x0304], "offered versions");
}

#[tokio::test]
async fn a_tls12_only_server_is_reached_with_end_point_binding() {
    let cert = ca_signed(&["127.0.0.1"]);
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key.as_ref().clone()));
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der.clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.unwrap();
        let version = tls.get_ref().1.protocol_version();
        tls.write_all(b"* OK [CAPABILITY IMAP4rev1 AUTH=SCRAM-SHA-256-PLUS] hi\r\n")
            .await
            .unwrap();
        tls.flush().await.unwrap();
        // Answer the client's LOGOUT (sent when the last handle is dropped), then hang up.
        let mut rd = tokio::io::BufReader::new(tls);
        let mut line = String::new();
        while matches!(rd.read_line(&mut line).await, Ok(n) if n > 0) {
            let tag = line.split(' ').next().unwrap_or("*").to_owned();
            let bye = format!("* BYE bye\r\n{tag} OK done\r\n");
            rd.get_mut().write_all(bye.as_bytes()).await.unwrap();
            rd.get_mut().flush().await.unwrap();
            line.clear();
        }
        version
    });
    let mut c = cfg(port);
    c.tls.add_root_der(cert.ca_der.clone().unwrap().to_vec());
    let conn = Connection::connect(c).await.unwrap();
    assert!(conn.has_capability("IMAP4rev1"));
    assert!(conn.has_channel_binding());
    let t = std::time::Instant::now();
    conn.logout().await.unwrap();
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(
        server.await.unwrap(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
}
