//! The accept side: serving IMAP (RFC 9051 §2–§7; RFC 8314 implicit TLS, §6.2.1 STARTTLS)
//! over tokio sockets with the sans-IO [`imapwire_session::server::Server`].
//!
//! [`serve_connection`] drives one connection: it reads the socket into the session, writes
//! what the session queues, answers the session's [`Request`]s from a [`BackendSession`]
//! (synchronous stores answer at once), passes changes made by other sessions to
//! [`Server::notify`], arms the session's timer, performs the STARTTLS hand-off and ends
//! the session with `BYE` when the shutdown signal fires.
//!
//! Back-pressure: the session takes no more input while its output queue is over
//! [`ServerConfig::max_output`](imapwire_session::server::ServerConfig); the driver then
//! stops reading the socket until the client has read what was written. A write that does
//! not progress for [`DriverOptions::write_timeout`] ends the connection.
//!
//! [`start`] is the example server's core (and the demo's): it opens listening sockets for
//! plain and implicit-TLS IMAP, answers from a [`MaildirBackend`] (one Maildir++ store per
//! user, special-use mailboxes created) and returns the bound addresses with a
//! [`RunningServer`] handle that stops everything cleanly.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use imapwire_codec::capability::Capability;
use imapwire_codec::core::Secret;
use imapwire_codec::flag::MailboxAttribute;
use imapwire_codec::mailbox::Mailbox;
use imapwire_session::sasl::scram::{ScramHash, StoredKeys};
use imapwire_session::server::maildir::MaildirStore;
use imapwire_session::server::memory::SessionId;
use imapwire_session::server::{
    AppendStream, BodyStream, CredentialStore, Event, HandOff, NonSyncLiterals, Reply, Request,
    Server, ServerConfig, Update,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::tls::Fingerprint;

/// What answers the mailbox requests of authenticated sessions.
pub trait Backend: Send + Sync + 'static {
    /// The per-connection handle.
    type Session: BackendSession;

    /// A session for `user` (called once the connection has authenticated). Called on
    /// tokio's blocking pool ([`tokio::task::spawn_blocking`]), not on a runtime worker:
    /// opening a store may read and write files for long (a [`MaildirStore`] scans its
    /// directories and rewrites its logs), and a worker blocked that long stalls every
    /// connection it serves. The blocking pool works on every runtime flavour (unlike
    /// `block_in_place`, which panics on a current-thread runtime), and the cost of the
    /// hand-over is once per login.
    fn open(&self, user: &str) -> io::Result<Self::Session>;
}

/// One authenticated connection's access to a [`Backend`].
///
/// Its methods are called on the connection's task (a runtime worker), one at a time: they
/// should not block for long. [`MaildirBackend`]'s do file I/O bounded by one message (a
/// FETCH section or SEARCH reads a message whole; a streamed chunk or an APPEND chunk
/// reads or writes at most one chunk) under the user's store lock.
pub trait BackendSession: Send + 'static {
    /// Answers a request.
    fn handle(&mut self, request: Request) -> Reply;

    /// Keeps a piece of an APPEND message ([`Event::AppendChunk`]) until the
    /// [`Request::Append`] that names its stream (a store that writes messages to disk
    /// writes it out here).
    fn append_chunk(&mut self, stream: AppendStream, data: Bytes);

    /// Drops the data of an APPEND message that will not be stored
    /// ([`Event::AppendAborted`]).
    fn append_aborted(&mut self, stream: AppendStream);

    /// The channel on which changes made elsewhere arrive, for [`Server::notify`]. Once it
    /// is closed (every sender dropped) the driver stops polling it for this session.
    fn updates(&mut self) -> &mut mpsc::UnboundedReceiver<(Mailbox, Update)>;

    /// The next 1 to `max` octets of a streamed FETCH value ([`Event::BodyWanted`]; a
    /// store that answers FETCH with
    /// [`ReplyData::StreamedMessage`](imapwire_session::server::ReplyData::StreamedMessage)
    /// reads them here, e.g. from the message's file). An error, no data or more than `max`
    /// octets means the store cannot deliver what it announced: the connection is then closed
    /// ([`CloseReason::BodyFailed`](imapwire_session::server::CloseReason::BodyFailed)).
    /// The default has no streams.
    fn body_chunk(&mut self, stream: BodyStream, max: usize) -> io::Result<Bytes> {
        let _ = (stream, max);
        Err(io::Error::other("this backend streams no FETCH values"))
    }

    /// A streamed FETCH value will not be asked for any more ([`Event::BodyDropped`], or
    /// after [`body_chunk`](Self::body_chunk) failed): release what was kept for it.
    fn body_dropped(&mut self, stream: BodyStream) {
        let _ = stream;
    }
}

/// Settings of the connection driver.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DriverOptions {
    /// The longest a write may make no progress before the connection is dropped.
    pub write_timeout: Duration,
    /// Size of one socket read.
    pub read_size: usize,
    /// The server's certificate (DER), for the RFC 5929 `tls-server-end-point` channel
    /// binding on TLS 1.2 connections; without it the SCRAM `-PLUS` mechanisms are offered
    /// on TLS 1.3 connections only (RFC 9266 `tls-exporter`).
    pub certificate: Option<CertificateDer<'static>>,
}

impl DriverOptions {
    /// Sets [`certificate`](Self::certificate).
    pub fn with_certificate(mut self, der: CertificateDer<'static>) -> Self {
        self.certificate = Some(der);
        self
    }
}

impl Default for DriverOptions {
    fn default() -> Self {
        DriverOptions {
            write_timeout: Duration::from_secs(120),
            read_size: 16 * 1024,
            certificate: None,
        }
    }
}

/// A plain TCP or TLS stream (STARTTLS turns one into the other).
enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    /// During the hand-off.
    Gone,
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Conn::Gone => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Conn::Gone => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Conn::Gone => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Conn::Gone => Poll::Ready(Ok(())),
        }
    }
}

/// How a connection ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConnectionEnd {
    /// The session ended (LOGOUT, autologout, shutdown, ...).
    Closed(imapwire_session::server::CloseReason),
    /// The client went away without LOGOUT.
    PeerGone,
    /// A socket or TLS error.
    Io(io::Error),
    /// A write made no progress for [`DriverOptions::write_timeout`].
    WriteTimeout,
}

/// Serves one accepted TCP connection: TLS first when `tls` is `Some` and `implicit`,
/// STARTTLS on request when `tls` is `Some` and not `implicit`.
///
/// Dropped before it completes: the socket closes at once, without `BYE`; what earlier
/// commands stored stays stored.
pub async fn serve_connection<B: Backend>(
    tcp: TcpStream,
    config: ServerConfig,
    tls: Option<(TlsAcceptor, bool)>,
    backend: Arc<B>,
    mut shutdown: watch::Receiver<bool>,
    opts: DriverOptions,
) -> ConnectionEnd {
    let _ = tcp.set_nodelay(true);
    let (conn, config, binding) = match &tls {
        Some((acceptor, true)) => match acceptor.accept(tcp).await {
            Ok(s) => {
                let b = channel_binding(s.get_ref().1, opts.certificate.as_deref());
                (Conn::Tls(Box::new(s)), config.with_encrypted(true), b)
            }
            Err(e) => return ConnectionEnd::Io(e),
        },
        Some((_, false)) => (Conn::Plain(tcp), config.with_starttls(true), None),
        None => (Conn::Plain(tcp), config.with_starttls(false), None),
    };
    let mut d = Driver {
        conn,
        server: Server::with_channel_binding(config, binding, Instant::now()),
        session: None,
        updates_open: true,
        backend,
        pending: BytesMut::new(),
        opts,
        acceptor: tls.map(|(a, _)| a),
    };
    d.run(&mut shutdown).await
}

struct Driver<B: Backend> {
    conn: Conn,
    server: Server,
    session: Option<B::Session>,
    /// Whether `session`'s update channel may still deliver (a closed one is not polled).
    updates_open: bool,
    backend: Arc<B>,
    /// Input the session has not taken yet.
    pending: BytesMut,
    opts: DriverOptions,
    acceptor: Option<TlsAcceptor>,
}

/// What the event loop must do after draining the session.
enum Step {
    Go,
    StartTls,
    End(imapwire_session::server::CloseReason),
}

impl<B: Backend> Driver<B> {
    async fn run(&mut self, shutdown: &mut watch::Receiver<bool>) -> ConnectionEnd {
        let mut buf = vec![0u8; self.opts.read_size];
        let mut shutting_down = *shutdown.borrow();
        if shutting_down {
            self.server.close("server shutting down");
        }
        loop {
            match self.drain().await {
                Ok(Step::Go) => {}
                Ok(Step::StartTls) => {
                    if let Err(e) = self.start_tls().await {
                        return ConnectionEnd::Io(e);
                    }
                    continue;
                }
                Ok(Step::End(r)) => {
                    // A TLS close_notify is a write too: bounded like the others.
                    let limit = self.opts.write_timeout;
                    let _ = tokio::time::timeout(limit, self.conn.shutdown()).await;
                    return ConnectionEnd::Closed(r);
                }
                Err(e) => return e,
            }
            // Offer held input again first: the session may have room now.
            if !self.pending.is_empty() {
                let taken = self.server.handle_input(Instant::now(), &self.pending);
                self.pending.advance(taken);
                if taken > 0 {
                    continue;
                }
            }
            let deadline = self.server.poll_timeout();
            let want_read = self.pending.is_empty();
            let sleep = async {
                match deadline {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending().await,
                }
            };
            let updates = async {
                match self.session.as_mut() {
                    Some(s) if self.updates_open => s.updates().recv().await,
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                r = self.conn.read(&mut buf), if want_read => {
                    let now = Instant::now();
                    match r {
                        Ok(0) => {
                            self.server.handle_eof(now);
                            let _ = self.drain().await;
                            return ConnectionEnd::PeerGone;
                        }
                        Ok(n) => {
                            let taken = self.server.handle_input(now, &buf[..n]);
                            if taken < n {
                                self.pending.extend_from_slice(&buf[taken..n]);
                            }
                        }
                        Err(e) => return ConnectionEnd::Io(e),
                    }
                }
                u = updates => {
                    // A closed channel is ready at once with `None`, every time: stop
                    // asking it (until the next session).
                    self.updates_open = u.is_some();
                    if let Some((mailbox, update)) = u {
                        self.server.notify(Instant::now(), &mailbox, update);
                        // Take whatever else is queued in one go.
                        if let Some(s) = self.session.as_mut() {
                            while let Ok((m, u)) = s.updates().try_recv() {
                                self.server.notify(Instant::now(), &m, u);
                            }
                        }
                    }
                }
                _ = sleep => self.server.handle_timeout(Instant::now()),
                r = shutdown.changed(), if !shutting_down => {
                    shutting_down = true;
                    if r.is_err() || *shutdown.borrow() {
                        self.server.close("server shutting down");
                    }
                }
            }
        }
    }

    /// Writes the session's output and handles its events until it has neither.
    async fn drain(&mut self) -> Result<Step, ConnectionEnd> {
        loop {
            let mut progressed = self.write_out().await?;
            let mut step = Step::Go;
            while let Some(ev) = self.server.poll_event() {
                progressed = true;
                match ev {
                    Event::Authenticated { user } => {
                        // Off the runtime's workers: see `Backend::open`.
                        let backend = self.backend.clone();
                        match tokio::task::spawn_blocking(move || backend.open(&user)).await {
                            Ok(Ok(s)) => {
                                self.session = Some(s);
                                self.updates_open = true;
                            }
                            // The open failed or panicked.
                            Ok(Err(_)) | Err(_) => {
                                self.server.close("the mail store is not available")
                            }
                        }
                    }
                    Event::Unauthenticated => self.session = None,
                    Event::Request { id, request, .. } => {
                        let reply = match self.session.as_mut() {
                            Some(s) => s.handle(request),
                            None => Reply::no(None, "not authenticated"),
                        };
                        let _ = self.server.reply(Instant::now(), id, reply);
                    }
                    Event::AppendChunk { stream, data } => {
                        if let Some(s) = self.session.as_mut() {
                            s.append_chunk(stream, data);
                        }
                    }
                    Event::AppendAborted { stream } => {
                        if let Some(s) = self.session.as_mut() {
                            s.append_aborted(stream);
                        }
                    }
                    Event::BodyWanted { stream, max } => {
                        let chunk = match self.session.as_mut() {
                            Some(s) => s.body_chunk(stream, max),
                            None => Err(io::Error::other("not authenticated")),
                        };
                        let now = Instant::now();
                        // An error, no data, or more than `max` (refused by the session):
                        // the store cannot deliver what it announced. Not answering would
                        // leave the client waiting inside the literal.
                        let delivered = match chunk {
                            Ok(b) if !b.is_empty() => {
                                self.server.body_chunk(now, stream, b).is_ok()
                            }
                            _ => false,
                        };
                        if !delivered {
                            if let Some(s) = self.session.as_mut() {
                                s.body_dropped(stream);
                            }
                            let _ = self.server.body_failed(now, stream);
                        }
                    }
                    Event::BodyDropped { stream } => {
                        if let Some(s) = self.session.as_mut() {
                            s.body_dropped(stream);
                        }
                    }
                    Event::LiteralAnnounced { .. } => {
                        // Only with LiteralDecisions::Application; the policy decides here.
                        let _ = self.server.accept_literal(Instant::now());
                    }
                    Event::HandOff(HandOff::StartTls { .. }) => step = Step::StartTls,
                    Event::Closed(r) => step = Step::End(r),
                    _ => {}
                }
            }
            match step {
                Step::Go if progressed => continue,
                Step::Go => return Ok(Step::Go),
                Step::StartTls => {
                    // Write the tagged OK (already queued) before the handshake.
                    self.write_out().await?;
                    return Ok(Step::StartTls);
                }
                Step::End(r) => {
                    // What is left (the BYE, the LOGOUT completion), as far as the client
                    // takes it: the session has ended either way.
                    let _ = self.write_out().await;
                    return Ok(Step::End(r));
                }
            }
        }
    }

    /// Writes everything the session has queued, then flushes; whether anything was
    /// written. Every write and the flush must progress within
    /// [`DriverOptions::write_timeout`]: a client that does not read cannot hold the
    /// connection (and its task) open.
    async fn write_out(&mut self) -> Result<bool, ConnectionEnd> {
        let limit = self.opts.write_timeout;
        let mut wrote = false;
        while let Some(b) = self.server.poll_transmit(Instant::now()) {
            wrote = true;
            within(limit, self.conn.write_all(&b)).await?;
        }
        if wrote {
            within(limit, self.conn.flush()).await?;
        }
        Ok(wrote)
    }

    async fn start_tls(&mut self) -> io::Result<()> {
        let Some(acceptor) = self.acceptor.clone() else {
            return Err(io::Error::other("STARTTLS without a TLS configuration"));
        };
        // Plaintext that followed the command is discarded (never executed).
        self.pending.clear();
        let Conn::Plain(tcp) = std::mem::replace(&mut self.conn, Conn::Gone) else {
            return Err(io::Error::other("STARTTLS on a TLS connection"));
        };
        let tls = tokio::time::timeout(Duration::from_secs(60), acceptor.accept(tcp))
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
        let binding = channel_binding(tls.get_ref().1, self.opts.certificate.as_deref());
        self.conn = Conn::Tls(Box::new(tls));
        let _ = self
            .server
            .transport_upgraded(Instant::now())
            .map_err(io::Error::other)?;
        self.server.set_channel_binding(binding);
        Ok(())
    }
}

/// The SCRAM channel binding of an accepted TLS connection: RFC 9266 `tls-exporter` on
/// TLS 1.3; on TLS 1.2 (where the exporter is unsafe without extended master secret)
/// RFC 5929 `tls-server-end-point`, the hash of `certificate` (the leaf the server
/// presents), or `None` when it is not given.
pub fn channel_binding(
    conn: &rustls::ServerConnection,
    certificate: Option<&[u8]>,
) -> Option<imapwire_session::sasl::scram::ChannelBinding> {
    use imapwire_session::sasl::scram::{ChannelBinding, ChannelBindingType};
    match conn.protocol_version()? {
        rustls::ProtocolVersion::TLSv1_3 => crate::tls::tls_exporter(conn),
        rustls::ProtocolVersion::TLSv1_2 => Some(ChannelBinding {
            kind: ChannelBindingType::TlsServerEndPoint,
            data: crate::tls::server_end_point(certificate?),
        }),
        _ => None,
    }
}

// ------------------------------------------------------------------------------------------
// The example server: users file, Maildir backend, listeners.

/// Users and their SCRAM keys, read from a `user:password` file (the passwords are not
/// kept).
pub struct Users {
    keys: HashMap<String, (StoredKeys, StoredKeys)>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users")
            .field("users", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// SCRAM iterations of the stored keys.
pub const SCRAM_ITERATIONS: u32 = 4096;

impl Users {
    /// Reads `user:password` lines (empty lines and lines starting with `#` are skipped).
    pub fn from_file(path: &Path) -> io::Result<Users> {
        Users::parse(&std::fs::read_to_string(path)?)
    }

    /// Reads `user:password` lines.
    pub fn parse(text: &str) -> io::Result<Users> {
        let mut keys = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((user, pw)) = line.split_once(':') else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("line {}: expected user:password", n + 1),
                ));
            };
            if user.is_empty() || user.contains(['/', '\\', '.']) || user.contains('\0') {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "line {}: a user name must be non-empty without / \\ .",
                        n + 1
                    ),
                ));
            }
            let mut salt = [0u8; 16];
            getrandom::fill(&mut salt).map_err(|e| io::Error::other(e.to_string()))?;
            let pw = Secret::new(pw.to_owned());
            let derive = |h| {
                StoredKeys::derive(h, &pw, &salt, SCRAM_ITERATIONS)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
            };
            keys.insert(
                user.to_owned(),
                (derive(ScramHash::Sha256)?, derive(ScramHash::Sha1)?),
            );
        }
        Ok(Users { keys })
    }

    /// The user names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }
}

impl CredentialStore for Users {
    fn scram_keys(&self, user: &str, hash: ScramHash) -> Option<StoredKeys> {
        let (a, b) = self.keys.get(user)?;
        Some(if hash == ScramHash::Sha1 { b } else { a }.clone())
    }
}

/// The special-use mailboxes created for every user (RFC 6154).
pub const SPECIAL_USE: [(&str, MailboxAttribute); 5] = [
    ("Sent", MailboxAttribute::Sent),
    ("Drafts", MailboxAttribute::Drafts),
    ("Trash", MailboxAttribute::Trash),
    ("Junk", MailboxAttribute::Junk),
    ("Archive", MailboxAttribute::Archive),
];

/// One user's store shared by the user's connections, with their update channels.
struct UserStore {
    store: MaildirStore,
    sessions: HashMap<SessionId, mpsc::UnboundedSender<(Mailbox, Update)>>,
}

impl UserStore {
    fn fan_out(&mut self) {
        for (origin, mailbox, update) in self.store.take_notifications() {
            self.sessions.retain(|sid, tx| {
                if Some(*sid) == origin {
                    return true;
                }
                tx.send((mailbox.clone(), update.clone())).is_ok()
            });
        }
    }
}

/// A [`Backend`] with one [`MaildirStore`] per user under a directory (`DIR/user/`).
#[derive(Debug)]
pub struct MaildirBackend {
    root: PathBuf,
    stores: Mutex<HashMap<String, Arc<Mutex<UserStoreHandle>>>>,
}

/// Opaque wrapper so the map's values are `Debug`.
struct UserStoreHandle(UserStore);

impl std::fmt::Debug for UserStoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserStore")
            .field("root", &self.0.store.root())
            .finish_non_exhaustive()
    }
}

impl MaildirBackend {
    /// A backend storing under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        MaildirBackend {
            root: root.into(),
            stores: Mutex::new(HashMap::new()),
        }
    }

    /// Opens (creating when needed) `user`'s store with its special-use mailboxes.
    pub fn prepare(&self, user: &str) -> io::Result<()> {
        self.store(user).map(|_| ())
    }

    fn store(&self, user: &str) -> io::Result<Arc<Mutex<UserStoreHandle>>> {
        let mut map = self
            .stores
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?;
        if let Some(s) = map.get(user) {
            return Ok(s.clone());
        }
        let mut store = MaildirStore::open(self.root.join(user))?;
        for (name, role) in SPECIAL_USE {
            let m = Mailbox::new(Bytes::from_static(name.as_bytes()))
                .map_err(|e| io::Error::other(e.to_string()))?;
            store.create_special(&m, Some(role))?;
        }
        let s = Arc::new(Mutex::new(UserStoreHandle(UserStore {
            store,
            sessions: HashMap::new(),
        })));
        map.insert(user.to_owned(), s.clone());
        Ok(s)
    }
}

/// A connection's handle on a user's Maildir store.
#[derive(Debug)]
pub struct MaildirSession {
    store: Arc<Mutex<UserStoreHandle>>,
    sid: SessionId,
    rx: mpsc::UnboundedReceiver<(Mailbox, Update)>,
}

impl Backend for MaildirBackend {
    type Session = MaildirSession;

    fn open(&self, user: &str) -> io::Result<MaildirSession> {
        let store = self.store(user)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let sid = {
            let mut s = store.lock().map_err(|_| io::Error::other("poisoned"))?;
            let sid = s.0.store.open_session();
            s.0.sessions.insert(sid, tx);
            sid
        };
        Ok(MaildirSession { store, sid, rx })
    }
}

impl BackendSession for MaildirSession {
    fn handle(&mut self, request: Request) -> Reply {
        let Ok(mut s) = self.store.lock() else {
            return Reply::no(None, "the store is unavailable");
        };
        let r = s.0.store.handle(self.sid, request);
        s.0.fan_out();
        r
    }

    fn append_chunk(&mut self, stream: AppendStream, data: Bytes) {
        if let Ok(mut s) = self.store.lock() {
            s.0.store.append_chunk(self.sid, stream, &data);
        }
    }

    fn append_aborted(&mut self, stream: AppendStream) {
        if let Ok(mut s) = self.store.lock() {
            s.0.store.append_aborted(self.sid, stream);
        }
    }

    fn updates(&mut self) -> &mut mpsc::UnboundedReceiver<(Mailbox, Update)> {
        &mut self.rx
    }

    fn body_chunk(&mut self, stream: BodyStream, max: usize) -> io::Result<Bytes> {
        let mut s = self
            .store
            .lock()
            .map_err(|_| io::Error::other("the store is unavailable"))?;
        s.0.store.body_chunk(self.sid, stream, max)
    }

    fn body_dropped(&mut self, stream: BodyStream) {
        if let Ok(mut s) = self.store.lock() {
            s.0.store.body_dropped(self.sid, stream);
        }
    }
}

impl Drop for MaildirSession {
    fn drop(&mut self) {
        if let Ok(mut s) = self.store.lock() {
            s.0.sessions.remove(&self.sid);
            s.0.store.close_session(self.sid);
        }
    }
}

/// Where the certificate comes from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CertSource {
    /// PEM files: the certificate chain and the private key.
    Files {
        /// The certificate chain (PEM).
        cert: PathBuf,
        /// The private key (PEM).
        key: PathBuf,
    },
    /// A self-signed certificate for `localhost` and `127.0.0.1`, generated at start.
    SelfSigned,
}

/// The example server's settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// Plain (STARTTLS-capable) listening addresses.
    pub listen: Vec<SocketAddr>,
    /// Implicit-TLS listening addresses.
    pub tls_listen: Vec<SocketAddr>,
    /// The certificate.
    pub cert: CertSource,
    /// The `user:password` file.
    pub users: PathBuf,
    /// The store's root directory.
    pub store: PathBuf,
    /// The largest message APPEND accepts.
    pub append_limit: u64,
    /// Most connections served at once (more are closed at once with BYE).
    pub max_connections: usize,
}

impl ServeOptions {
    /// Options with a self-signed certificate and no listeners yet.
    pub fn new(users: impl Into<PathBuf>, store: impl Into<PathBuf>) -> Self {
        ServeOptions {
            listen: Vec::new(),
            tls_listen: Vec::new(),
            cert: CertSource::SelfSigned,
            users: users.into(),
            store: store.into(),
            append_limit: 64 * 1024 * 1024,
            max_connections: 10_000,
        }
    }
}

/// What a listening address serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListenKind {
    /// Plain IMAP with STARTTLS.
    Plain,
    /// Implicit TLS.
    Tls,
}

/// A started server: its addresses and how to stop it.
#[derive(Debug)]
pub struct RunningServer {
    /// The bound addresses, in the order given.
    pub addresses: Vec<(ListenKind, SocketAddr)>,
    /// The certificate's fingerprint.
    pub fingerprint: Fingerprint,
    /// The certificate (DER), e.g. for a client to trust.
    pub certificate: CertificateDer<'static>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl RunningServer {
    /// Stops accepting, ends every session with `BYE` and waits for the connections to close
    /// (at most `grace`).
    ///
    /// Dropped before it completes: the server stops at once; the connection tasks are
    /// aborted and their sockets closed without waiting for the grace period.
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.shutdown.send(true);
        let _ = tokio::time::timeout(grace, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        self.tasks.abort_all();
    }
}

/// The capabilities the example server advertises besides those the session derives
/// (IMAP4rev2, IMAP4rev1, STARTTLS, AUTH=, LITERAL+, APPENDLIMIT).
pub fn example_extensions() -> Vec<Capability> {
    vec![
        Capability::Idle,
        Capability::UidPlus,
        Capability::Move,
        Capability::CondStore,
        Capability::QResync,
        Capability::ESearch,
        Capability::SearchRes,
        Capability::ListExtended,
        Capability::ListStatus,
        Capability::SpecialUse,
        Capability::Namespace,
        Capability::Enable,
        Capability::Unselect,
        Capability::Id,
        Capability::SaslIr,
        Capability::StatusSize,
        Capability::CompressDeflate,
        Capability::Children,
        Capability::Unauthenticate,
    ]
}

fn tls_material(
    src: &CertSource,
) -> io::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    use rustls_pki_types::pem::PemObject;
    match src {
        CertSource::Files { cert, key } => {
            let certs = CertificateDer::pem_file_iter(cert)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            if certs.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "no certificate in the PEM file",
                ));
            }
            Ok((certs, key))
        }
        CertSource::SelfSigned => {
            let ck = rcgen::generate_simple_self_signed(vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
            ])
            .map_err(|e| io::Error::other(e.to_string()))?;
            let der = ck.cert.der().clone();
            let key = PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
            Ok((vec![der], key))
        }
    }
}

/// Starts the example server: binds every address, opens every user's store (creating the
/// special-use mailboxes), and serves until [`RunningServer::shutdown`].
///
/// Dropped before it completes: the listeners bound so far are closed; nothing is served.
pub async fn start(opts: ServeOptions) -> io::Result<RunningServer> {
    let users = Arc::new(Users::from_file(&opts.users)?);
    let backend = Arc::new(MaildirBackend::new(&opts.store));
    std::fs::create_dir_all(&opts.store)?;
    for u in users.names() {
        backend.prepare(u)?;
    }
    let (certs, key) = tls_material(&opts.cert)?;
    let fingerprint = Fingerprint::of_der(&certs[0]);
    let certificate = certs[0].clone();
    let provider = crate::tls::provider();
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| io::Error::other(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let creds: Arc<dyn CredentialStore> = users;
    let base = ServerConfig::default()
        .with_credentials(creds)
        .with_scram_unknown_iterations(SCRAM_ITERATIONS)
        .with_non_sync_literals(NonSyncLiterals::Plus)
        .with_max_literal(opts.append_limit)
        .with_append_limit(Some(opts.append_limit))
        .with_extensions(example_extensions());
    let (tx, rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut addresses = Vec::new();
    let live = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let all = opts
        .listen
        .iter()
        .map(|a| (ListenKind::Plain, *a))
        .chain(opts.tls_listen.iter().map(|a| (ListenKind::Tls, *a)));
    // Every address is bound before any is served: dropped (or failing) half-way, this
    // future has served nothing.
    let mut listeners = Vec::new();
    for (kind, addr) in all {
        let listener = TcpListener::bind(addr).await?;
        addresses.push((kind, listener.local_addr()?));
        listeners.push((kind, listener));
    }
    for (kind, listener) in listeners {
        let ctx = AcceptCtx {
            listener,
            kind,
            base: base.clone(),
            acceptor: acceptor.clone(),
            backend: backend.clone(),
            shutdown: rx.clone(),
            live: live.clone(),
            max: opts.max_connections,
            certificate: certificate.clone(),
        };
        tasks.spawn(accept_loop(ctx));
    }
    Ok(RunningServer {
        addresses,
        fingerprint,
        certificate,
        shutdown: tx,
        tasks,
    })
}

struct AcceptCtx {
    listener: TcpListener,
    kind: ListenKind,
    base: ServerConfig,
    acceptor: TlsAcceptor,
    backend: Arc<MaildirBackend>,
    shutdown: watch::Receiver<bool>,
    live: Arc<std::sync::atomic::AtomicUsize>,
    max: usize,
    certificate: CertificateDer<'static>,
}

async fn accept_loop(mut c: AcceptCtx) {
    use std::sync::atomic::Ordering;
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            r = c.listener.accept() => {
                let Ok((tcp, peer)) = r else {
                    // Out of descriptors and the like: back off briefly.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                // Reap finished connections so the set stays small.
                while conns.try_join_next().is_some() {}
                let mut cfg = c.base.clone();
                // As Dovecot does: loopback counts as secure for passwords.
                if peer.ip().is_loopback() {
                    cfg = cfg.with_plaintext_auth(true);
                }
                if c.live.load(Ordering::Relaxed) >= c.max {
                    cfg = cfg.with_greeting(imapwire_session::server::GreetingPolicy::Bye(
                        "too many connections".to_owned(),
                    ));
                }
                let tls = Some((c.acceptor.clone(), c.kind == ListenKind::Tls));
                let opts = DriverOptions::default().with_certificate(c.certificate.clone());
                let backend = c.backend.clone();
                let shutdown = c.shutdown.clone();
                let live = c.live.clone();
                live.fetch_add(1, Ordering::Relaxed);
                conns.spawn(async move {
                    let end = serve_connection(tcp, cfg, tls, backend, shutdown, opts).await;
                    if let ConnectionEnd::Closed(
                        imapwire_session::server::CloseReason::Protocol(fault),
                    ) = &end
                    {
                        tracing::info!(%peer, %fault, "connection closed");
                    }
                    live.fetch_sub(1, Ordering::Relaxed);
                });
            }
            _ = c.shutdown.changed() => break,
        }
    }
    drop(c.listener);
    while conns.join_next().await.is_some() {}
}

/// `io` (a write or a flush) within `limit`: its error as [`ConnectionEnd::Io`], no progress
/// in time as [`ConnectionEnd::WriteTimeout`].
async fn within(
    limit: std::time::Duration,
    io: impl std::future::Future<Output = std::io::Result<()>>,
) -> Result<(), ConnectionEnd> {
    match tokio::time::timeout(limit, io).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(ConnectionEnd::Io(e)),
        Err(_) => Err(ConnectionEnd::WriteTimeout),
    }
}
