//! The example server in-process for tests against real clients (127.0.0.1 only): a test CA
//! and a server certificate for 127.0.0.1/localhost, a users file, a Maildir root.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use imapwire_tokio::server::{CertSource, ListenKind, RunningServer, ServeOptions, start};

pub const USER: &str = "alice";
pub const PASSWORD: &str = "s3cret pass";

/// Where an outside program is, from environment variable `var`; `None` (with a note) when
/// it is not set, a panic when `IMAPWIRE_REQUIRE_INTEROP=1`.
pub fn program(var: &str) -> Option<PathBuf> {
    let require = std::env::var("IMAPWIRE_REQUIRE_INTEROP").is_ok_and(|v| v == "1");
    match std::env::var_os(var) {
        Some(p) if !p.is_empty() && Path::new(&p).exists() => Some(PathBuf::from(p)),
        other => {
            let why = match other {
                None => format!("{var} is not set (source .ci/real-clients.sh)"),
                Some(p) => format!("{var}={p:?} does not exist"),
            };
            assert!(!require, "IMAPWIRE_REQUIRE_INTEROP=1 but {why}");
            eprintln!("skipping: {why}");
            None
        }
    }
}

/// A scratch directory removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("imapwire-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The example server running on its own runtime.
pub struct TestServer {
    pub rt: tokio::runtime::Runtime,
    pub running: Option<RunningServer>,
    pub plain: SocketAddr,
    pub tls: SocketAddr,
    pub ca: PathBuf,
    pub store: PathBuf,
    pub dir: PathBuf,
}

/// Writes a test CA and a server certificate signed by it; returns (ca, cert, key) paths.
pub fn test_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "imapwire test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    let cert = params.signed_by(&key, &ca).unwrap();
    let (ca_p, cert_p, key_p) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&ca_p, ca.pem()).unwrap();
    std::fs::write(&cert_p, cert.pem()).unwrap();
    std::fs::write(&key_p, key.serialize_pem()).unwrap();
    (ca_p, cert_p, key_p)
}

impl TestServer {
    /// Starts the server with a fresh CA and store under `dir`.
    pub fn start(dir: &Path) -> TestServer {
        let (ca, cert, key) = test_ca(dir);
        let users = dir.join("users");
        std::fs::write(&users, format!("{USER}:{PASSWORD}\nbob:other\n")).unwrap();
        let store = dir.join("store");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut s = TestServer {
            rt,
            running: None,
            plain: "127.0.0.1:0".parse().unwrap(),
            tls: "127.0.0.1:0".parse().unwrap(),
            ca,
            store,
            dir: dir.to_path_buf(),
        };
        s.restart_with(CertSource::Files { cert, key });
        s
    }

    fn restart_with(&mut self, cert: CertSource) {
        let mut o = ServeOptions::new(self.dir.join("users"), &self.store);
        o.listen = vec!["127.0.0.1:0".parse().unwrap()];
        o.tls_listen = vec!["127.0.0.1:0".parse().unwrap()];
        o.cert = cert;
        let running = self.rt.block_on(start(o)).unwrap();
        for (k, a) in &running.addresses {
            match k {
                ListenKind::Tls => self.tls = *a,
                _ => self.plain = *a,
            }
        }
        self.running = Some(running);
    }

    /// Stops the server (every session gets BYE).
    pub fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            self.rt.block_on(r.shutdown(Duration::from_secs(5)));
        }
    }

    /// Stops and starts again on new ports with the same store and certificate.
    pub fn restart(&mut self) {
        self.stop();
        let cert = CertSource::Files {
            cert: self.dir.join("cert.pem"),
            key: self.dir.join("key.pem"),
        };
        self.restart_with(cert);
    }

    /// The user's store directory.
    pub fn user_store(&self) -> PathBuf {
        self.store.join(USER)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The messages of a mailbox in a (stopped server's) store: `(uid, flags, data)`.
pub fn stored(user_store: &Path, mailbox: &str) -> Vec<(u32, Vec<String>, Bytes)> {
    let st = imapwire_session::server::maildir::MaildirStore::open(user_store).unwrap();
    st.memory()
        .messages(mailbox.as_bytes())
        .into_iter()
        .map(|(u, f, d)| (u, f.iter().map(flag_name).collect(), d))
        .collect()
}

pub fn flag_name(f: &imapwire_codec::flag::Flag) -> String {
    use imapwire_codec::flag::Flag;
    match f {
        Flag::Seen => "\\Seen".into(),
        Flag::Answered => "\\Answered".into(),
        Flag::Flagged => "\\Flagged".into(),
        Flag::Deleted => "\\Deleted".into(),
        Flag::Draft => "\\Draft".into(),
        Flag::Keyword(a) => String::from_utf8_lossy(a.as_bytes()).into_owned(),
        other => format!("{other:?}"),
    }
}

/// The mailboxes of a (stopped server's) store.
pub fn mailboxes(user_store: &Path) -> Vec<String> {
    let st = imapwire_session::server::maildir::MaildirStore::open(user_store).unwrap();
    st.memory()
        .mailboxes()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .collect()
}

/// Runs a program; panics with its output when it fails.
pub fn run(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    stdout
}

/// A test message.
pub fn message(n: usize, subject: &str) -> String {
    format!(
        "From: Tester <tester@example.com>\r\nTo: {USER}@example.com\r\nSubject: {subject}\r\n\
Message-ID: <m{n}-{subject}@example.com>\r\nDate: Thu, 04 Dec 2026 10:00:00 +0000\r\n\r\n\
Body of message {n}: {subject}\r\nsecond line\r\n"
    )
}
