//! A small tokio IMAP server for the tests: the sans-IO `Server` with the in-memory store,
//! implicit TLS or STARTTLS (or neither) with an rcgen certificate, on 127.0.0.1; and the
//! client set-up the tests share (configuration, `joe`'s credentials, an authenticated
//! connection).
#![allow(dead_code)]

pub mod scripted;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use imapwire_codec::mailbox::Mailbox;
use imapwire_session::sasl::scram::{ScramHash, StoredKeys};
use imapwire_session::sasl::{Credentials, Secret};
use imapwire_session::server::memory::{MemoryStore, SessionId};
use imapwire_session::server::{CredentialStore, Event, HandOff, Server, ServerConfig, Update};
use imapwire_tokio::{AuthMethod, Config, Connection, Security, Timeouts};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// Logs to the test output when `RUST_LOG` is set.
pub fn log() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// The SCRAM iterations of the users' keys (those of the example server's users file).
pub const ITER: u32 = imapwire_tokio::server::SCRAM_ITERATIONS;

/// Users `joe`/`secret` and `ann`/`pw2` (the example server's users, keys derived by it);
/// token `good-token`.
pub struct Users(imapwire_tokio::server::Users);

impl Users {
    pub fn new() -> Arc<Self> {
        let users = imapwire_tokio::server::Users::parse("joe:secret\nann:pw2\n").unwrap();
        Arc::new(Users(users))
    }
}

impl CredentialStore for Users {
    fn scram_keys(&self, user: &str, hash: ScramHash) -> Option<StoredKeys> {
        self.0.scram_keys(user, hash)
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

/// `joe`'s password credentials.
pub fn joe() -> Credentials {
    Credentials::password("joe", Secret::new("secret".into()))
}

/// A client configuration for `server`: `security`, every time limit 10 s, and the CA of
/// `cert` (when it has one) as an extra root.
pub fn client_config(server: &TestServer, security: Security, cert: &Cert) -> Config {
    let mut c = Config::new("127.0.0.1", server.addr.port())
        .with_security(security)
        .with_timeouts(Timeouts::all(Duration::from_secs(10)));
    if let Some(ca) = &cert.ca_der {
        c.tls.add_root_der(ca.to_vec());
    }
    c
}

/// A connection to `server` over implicit TLS (trusting `cert`'s CA), authenticated as
/// `joe` ([`AuthMethod::Auto`]).
pub async fn connect_joe(server: &TestServer, cert: &Cert) -> Connection {
    let conn = Connection::connect(client_config(server, Security::ImplicitTls, cert))
        .await
        .unwrap();
    conn.authenticate(joe(), AuthMethod::Auto).await.unwrap();
    conn
}

/// A certificate and its key.
#[derive(Clone)]
pub struct Cert {
    pub der: CertificateDer<'static>,
    pub key: Arc<Vec<u8>>,
    pub pem: String,
    /// The CA certificate that signed it (DER), when not self-signed.
    pub ca_der: Option<CertificateDer<'static>>,
}

/// A self-signed certificate for `localhost` and 127.0.0.1.
pub fn self_signed() -> Cert {
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    Cert {
        der: ck.cert.der().clone(),
        pem: ck.cert.pem(),
        key: Arc::new(ck.signing_key.serialize_der()),
        ca_der: None,
    }
}

/// A certificate for `names` signed by a fresh CA.
pub fn ca_signed(names: &[&str]) -> Cert {
    ca_signed_with(names, |_| {})
}

/// A certificate for `names` signed by a fresh CA (`CN=imapwire test CA`), with subject
/// `CN=subject`, valid from `not_before` to `not_after` (year, month, day; midnight UTC).
pub fn ca_signed_valid(
    names: &[&str],
    subject: &str,
    not_before: (i32, u8, u8),
    not_after: (i32, u8, u8),
) -> Cert {
    ca_signed_with(names, |p| {
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, subject);
        p.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
        p.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    })
}

/// A certificate for `names` signed by a fresh CA, its parameters changed by `edit` first.
pub fn ca_signed_with(names: &[&str], edit: impl FnOnce(&mut rcgen::CertificateParams)) -> Cert {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "imapwire test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
    edit(&mut params);
    let cert = params.signed_by(&key, &issuer).unwrap();
    Cert {
        der: cert.der().clone(),
        pem: ca_cert.pem(),
        key: Arc::new(key.serialize_der()),
        ca_der: Some(ca_cert.der().clone()),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Implicit,
    StartTls,
    /// Plaintext, STARTTLS not offered.
    Plain,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub store: Arc<Mutex<MemoryStore>>,
    task: JoinHandle<()>,
    notify: broadcast::Sender<(Option<SessionId>, Mailbox, Update)>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl TestServer {
    /// Starts a server on 127.0.0.1 (port 0: any free one).
    pub async fn start(mode: Mode, cert: Cert) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::with_listener(listener, mode, cert, Arc::new(Mutex::new(sample_store())))
    }

    /// Starts on a given address with a given store (a restart keeps both).
    pub async fn restart_on(
        addr: SocketAddr,
        mode: Mode,
        cert: Cert,
        store: Arc<Mutex<MemoryStore>>,
    ) -> TestServer {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("bind {addr}: {e}"),
            }
        };
        Self::with_listener(listener, mode, cert, store)
    }

    fn with_listener(
        listener: TcpListener,
        mode: Mode,
        cert: Cert,
        store: Arc<Mutex<MemoryStore>>,
    ) -> TestServer {
        let addr = listener.local_addr().unwrap();
        let (notify, _) = broadcast::channel(1024);
        let conns = Arc::new(Mutex::new(Vec::new()));
        let tls = {
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key.as_ref().clone()));
            let mut chain = vec![cert.der.clone()];
            if let Some(ca) = &cert.ca_der {
                chain.push(ca.clone());
            }
            #[allow(deprecated)]
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let cfg = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .unwrap();
            tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
        };
        let st = store.clone();
        let nt = notify.clone();
        let cs = conns.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let h = tokio::spawn(serve(tcp, mode, tls.clone(), st.clone(), nt.clone()));
                cs.lock().unwrap().push(h);
            }
        });
        TestServer {
            addr,
            store,
            task,
            notify,
            conns,
        }
    }

    /// Stops listening and drops every connection (as a crashed server would).
    pub fn stop(&self) {
        self.task.abort();
        for h in self.conns.lock().unwrap().drain(..) {
            h.abort();
        }
    }

    /// Delivers a message to INBOX from outside and tells every session.
    pub fn deliver(&self, data: &[u8]) -> u32 {
        let mut st = self.store.lock().unwrap();
        let uid = st
            .deliver(&Mailbox::Inbox, Bytes::copy_from_slice(data), Vec::new())
            .unwrap();
        for n in st.take_notifications() {
            let _ = self.notify.send(n);
        }
        uid
    }
}

/// A store whose INBOX holds three small messages.
pub fn sample_store() -> MemoryStore {
    let mut s = MemoryStore::new();
    for i in 1..=3 {
        let msg = format!(
            "From: a@example.org\r\nTo: b@example.org\r\nSubject: message {i}\r\n\r\nBody of message {i}.\r\n"
        );
        s.deliver(&Mailbox::Inbox, Bytes::from(msg), Vec::new());
    }
    let _ = s.take_notifications();
    s
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

async fn serve(
    tcp: TcpStream,
    mode: Mode,
    tls: tokio_rustls::TlsAcceptor,
    store: Arc<Mutex<MemoryStore>>,
    notify: broadcast::Sender<(Option<SessionId>, Mailbox, Update)>,
) {
    let mut cfg = ServerConfig::default()
        .with_credentials(Users::new())
        .with_scram_unknown_iterations(ITER);
    // APPEND data is held whole by the session (the codec hands over whole commands).
    cfg.input_window = 64 * 1024 * 1024;
    if std::env::var_os("IMAPWIRE_TEST_NO_COMPRESS").is_none() {
        cfg.extensions
            .push(imapwire_codec::capability::Capability::CompressDeflate);
    }
    cfg.extensions
        .push(imapwire_codec::capability::Capability::ESearch);
    let mut io: Box<dyn Io> = match mode {
        Mode::Implicit => {
            cfg = cfg.with_encrypted(true);
            match tls.accept(tcp).await {
                Ok(s) => Box::new(s),
                Err(_) => return,
            }
        }
        Mode::StartTls => {
            cfg = cfg.with_starttls(true);
            Box::new(tcp)
        }
        Mode::Plain => {
            cfg = cfg.with_starttls(false).with_plaintext_auth(true);
            Box::new(tcp)
        }
    };
    let sid = store.lock().unwrap().open_session();
    let mut rx = notify.subscribe();
    let mut server = Server::new(cfg, Instant::now());
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending_in: Vec<u8> = Vec::new();
    loop {
        // Output first.
        while let Some(b) = server.poll_transmit(Instant::now()) {
            if io.write_all(&b).await.is_err() {
                return;
            }
        }
        let _ = io.flush().await;
        let mut handoff = false;
        let mut closed = false;
        let mut any = false;
        while let Some(ev) = server.poll_event() {
            any = true;
            tracing::debug!(?ev, "server event");
            match ev {
                Event::Request { id, request, .. } => {
                    let reply = {
                        let mut st = store.lock().unwrap();
                        let r = st.handle(sid, request);
                        for n in st.take_notifications() {
                            let _ = notify.send(n);
                        }
                        r
                    };
                    let _ = server.reply(Instant::now(), id, reply);
                }
                Event::AppendChunk { stream, data } => {
                    store.lock().unwrap().append_chunk(sid, stream, &data)
                }
                Event::AppendAborted { stream } => {
                    store.lock().unwrap().append_aborted(sid, stream)
                }
                Event::HandOff(HandOff::StartTls { .. }) => handoff = true,
                Event::Closed(_) => closed = true,
                _ => {}
            }
        }
        if handoff {
            while let Some(b) = server.poll_transmit(Instant::now()) {
                let _ = io.write_all(&b).await;
            }
            let _ = io.flush().await;
            let upgraded = match upgrade(io, &tls).await {
                Some(s) => s,
                None => return,
            };
            io = upgraded;
            let _ = server.transport_upgraded(Instant::now());
            continue;
        }
        if closed {
            while let Some(b) = server.poll_transmit(Instant::now()) {
                let _ = io.write_all(&b).await;
            }
            let _ = io.shutdown().await;
            return;
        }
        if any {
            continue;
        }
        if !pending_in.is_empty() {
            let n = server.handle_input(Instant::now(), &pending_in);
            pending_in.drain(..n);
            if n > 0 {
                continue;
            }
        }
        let deadline = server.poll_timeout();
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = io.read(&mut buf) => {
                match r {
                    Ok(0) | Err(_) => {
                        server.handle_eof(Instant::now());
                        return;
                    }
                    Ok(n) => {
                        pending_in.extend_from_slice(&buf[..n]);
                        let k = server.handle_input(Instant::now(), &pending_in);
                        pending_in.drain(..k);
                    }
                }
            }
            n = rx.recv() => {
                if let Ok((origin, mailbox, update)) = n {
                    if origin != Some(sid) {
                        server.notify(Instant::now(), &mailbox, update);
                    }
                }
            }
            _ = sleep => server.handle_timeout(Instant::now()),
        }
    }
}

/// STARTTLS on the server side: TLS over the plaintext stream.
async fn upgrade(io: Box<dyn Io>, tls: &tokio_rustls::TlsAcceptor) -> Option<Box<dyn Io>> {
    let s = tls.accept(io).await.ok()?;
    Some(Box::new(s))
}
