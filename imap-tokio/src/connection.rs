//! One IMAP connection (RFC 9051): the driver task that owns the socket, the TLS state and the
//! sans-IO session, and the [`Connection`] handle that talks to it over channels.
//!
//! # The driver
//!
//! [`Connection::connect`] spawns one task per connection. It owns the socket (plain or TLS),
//! the [`Client`] session and every buffer. After every step (bytes read, bytes written, a
//! request from a handle, a timer) it drains [`Client::poll_transmit`] into its write queue,
//! drains [`Client::poll_event`] and routes each event to the command it belongs to, and
//! re-arms its one timer from [`Client::poll_timeout`]. Reading and writing proceed
//! concurrently in one `select!` over cancel-safe branches, with the buffers and the
//! partial-write position kept in the driver, never inside a future. A read step takes what
//! has arrived (up to 256 KiB) into the read buffer: under TLS that is several reads of the
//! TLS layer, which hands out one record (at most 16 KiB) per read, and the socket under it
//! is read 256 KiB at a time ([`tls`]'s read-ahead; rustls alone reads one record's worth
//! per `recv`). The read buffer is a room of the session's own receive buffer
//! ([`Client::read_room`], at least 64 KiB, more while a body held whole arrives: room for
//! the rest of it), handed back with [`Client::handle_input_room`] after the read, so a
//! message that straddles reads is joined in place, never copied.
//!
//! # Cancel safety
//!
//! The room is kept in the driver, not in the read future: when another branch of the
//! `select!` wins, the read future is dropped and the room stays as it was (the reads into
//! it are cancel safe: `read_buf` appends nothing unless it completes, and a read step
//! returns as soon as it has bytes), empty, to take the next read; a room with bytes the
//! session did not take yet (its event queue full) is offered again, and later reads are
//! appended to it.
//!
//! A command, once its request reached the driver, runs to completion inside the session
//! whether or not anyone still waits for its answer. Dropping the future of any method
//! therefore never leaves the connection in the middle of a command: later commands work. What
//! is lost is only the answer. Streams ([`FetchStream`], [`IdleStream`]) work the same way: a
//! dropped fetch stream's remaining data is discarded as it arrives; a dropped IDLE stream
//! makes the driver end the IDLE (`DONE`).
//!
//! # Back-pressure
//!
//! Streamed data (fetched bodies, IDLE events) goes through bounded channels, in batches of at
//! most 64 items or about 64 KiB of body bytes (plus the item that crosses it). When a
//! consumer does not keep up, the driver keeps what does not fit in a backlog and stops both
//! reading the socket and handing what it already read to the session until the consumer has
//! made room. So memory stays bounded by the channel sizes, the session's body streaming
//! threshold and limits (`max_events`, `inflate_window`: what one input step can produce,
//! also under COMPRESS=DEFLATE), one read buffer and, under TLS, the 256 KiB read-ahead
//! buffer (held only while data streams in: released when the socket goes quiet after a
//! read of less than one TLS record, so an idle connection holds none).

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use imapwire_codec::capability::Capability;
use imapwire_codec::codec::Message as _;
use imapwire_codec::command::{Command, CommandBody};
use imapwire_codec::core::Secret;
use imapwire_codec::flag::Flag;
use imapwire_codec::mailbox::Mailbox;
use imapwire_codec::response::{Data, GreetingKind, SearchReturnData, Status};
use imapwire_codec::{DecodeOptions, Encode};
use imapwire_session::client::{
    AppendBody, Client, ClientConfig, CloseReason, CommandError, CommandId, Completion, Event,
    HandOff, MailboxEvent, State, SubmitError,
};
use imapwire_session::sasl::scram::ChannelBinding;
use imapwire_session::sasl::{self, Credentials, Mechanism};
use imapwire_session::special_use::{Role, SpecialUse};
use imapwire_session::sync::{
    Journal, ReplicaState, ServerInfo, Step, SyncConfig, SyncEngine, SyncError, SyncFailure,
    SyncOutcome,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_rustls::TlsConnector;
use tracing::Instrument;

use crate::config::{Config, Security};
use crate::error::{Error, Phase};
use crate::tls::{self, Verifier};
use crate::types::{IdleEvent, MailboxEntry, MailboxInfo, MessageData, SearchResult, wire};

/// Largest read buffer held before the session has consumed it.
const READ_MAX: usize = 256 * 1024;
/// Most bytes one read step takes before they are handed to the session.
const READ_STEP: usize = 256 * 1024;
/// The least room a read step reads into.
const READ_ROOM: usize = 64 * 1024;
/// Bytes queued for writing beyond which the session is not asked for more.
const WRITE_MAX: usize = 256 * 1024;
/// Largest chunk read from an APPEND source at a time.
const APPEND_CHUNK: usize = 64 * 1024;
/// Batches buffered per stream before the driver waits for the consumer.
const STREAM_DEPTH: usize = 4;
/// Most items in one batch of a stream.
const BATCH_ITEMS: usize = 64;
/// Body bytes (chunks and inline bodies) beyond which a batch is sent.
const BATCH_BYTES: usize = 64 * 1024;

/// The byte stream under the session: TCP, or TLS over TCP.
enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

/// TLS over the socket, read ahead (see [`tls::ReadAhead`]).
type TlsStream = tokio_rustls::client::TlsStream<tls::ReadAhead<TcpStream>>;

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// How to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMethod {
    /// The strongest mechanism the server offers that the credentials allow
    /// ([`sasl::choose`]; `-PLUS` with channel binding over TLS, unless the server profile says
    /// the server cannot verify this connection's binding type: then plain SCRAM, see
    /// [`imapwire_session::client::Client::sasl_transport`]).
    Auto,
    /// This SASL mechanism (fails if the server does not offer it).
    Mechanism(Mechanism),
    /// SASL LOGIN where offered, else the LOGIN command.
    Login,
    /// The LOGIN command (RFC 9051 §6.2.3).
    LoginCommand,
}

/// What a completed command returns, by kind.
#[derive(Debug)]
enum Reply {
    Done(Completion),
    List(Vec<MailboxEntry>),
    Search(SearchResult),
    Selected(MailboxInfo),
    Fetched(Vec<MessageData>),
    Authenticated(String),
    IdleStarted(CommandId),
}

type ReplyTx = oneshot::Sender<Result<Reply, Error>>;

/// What a handle asks the driver for.
enum Op {
    Command(CommandBody, Collect),
    Login {
        user: String,
        password: Secret<Bytes>,
    },
    Authenticate {
        creds: Box<Credentials>,
        method: AuthMethod,
    },
    Idle(mpsc::Sender<Batch>),
    IdleDone(CommandId),
    Append {
        mailbox: Mailbox,
        flags: Vec<Flag>,
        len: u64,
        reader: Box<dyn AsyncRead + Send + Unpin>,
    },
    Logout,
    Sync(Box<SyncRequest>),
}

/// What a synchronisation ends with (see [`Connection::sync`]).
type SyncResult = Result<SyncOutcome, Box<SyncFailure>>;

/// A synchronisation asked of the driver: the engine's inputs (the engine is made in the
/// driver, which knows the server), the journal saver, where the result goes.
struct SyncRequest {
    cfg: SyncConfig,
    state: ReplicaState,
    journal: Journal,
    persist: PersistFn,
    done: oneshot::Sender<SyncResult>,
}

/// A synchronisation run by the driver: the engine sees every session event.
struct SyncRun {
    engine: SyncEngine,
    persist: PersistFn,
    done: oneshot::Sender<SyncResult>,
    /// The UNSELECT sent to leave a selected mailbox before `ENABLE QRESYNC`, and that ENABLE:
    /// it is submitted only once the UNSELECT succeeded (see [`submit_for_sync`]).
    leaving: Option<(CommandId, CommandBody)>,
}

/// Saves the journal before an upload that must not be repeated (see
/// [`Connection::sync`]).
pub type PersistFn = Box<dyn FnMut(&Journal) -> Result<(), String> + Send>;

enum Request {
    Op(Op, ReplyTx),
}

/// What to collect from the untagged data of a command.
enum Collect {
    None,
    List,
    Search,
    Select,
    /// FETCH/STORE data kept and returned with the completion.
    Data,
    /// FETCH data streamed.
    Stream(mpsc::Sender<Batch>),
}

/// Stream items travel in batches: one channel send (and at most one wake-up of the
/// consumer) per batch instead of per message or chunk.
type Batch = Vec<Item>;

/// Items of the streams.
///
/// Message data is carried by value (not boxed), as the session's events carry it: one
/// allocation per message would cost more than moving the value into and out of a batch.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Item {
    BodyBegin,
    Chunk(Bytes),
    BodyEnd,
    Data(MessageData),
    Idle(IdleEvent),
    Done(Result<Completion, Error>),
}

impl Item {
    /// The body bytes it holds (a chunk, or a message's inline bodies): what bounds a
    /// batch's memory besides its item count.
    fn body_len(&self) -> usize {
        match self {
            Item::Chunk(b) => b.len(),
            Item::Data(d) => d.inline_body_len(),
            _ => 0,
        }
    }
}

/// The batch being filled for one stream channel.
struct Outbox {
    tx: mpsc::Sender<Batch>,
    items: Batch,
    bytes: usize,
}

struct Pending {
    reply: Option<ReplyTx>,
    collect: Collect,
    list: Vec<MailboxEntry>,
    search: SearchResult,
    data: Vec<MessageData>,
    mechanism: Option<String>,
    /// The IDLE command's event sink.
    idle: Option<mpsc::Sender<Batch>>,
    /// DONE was asked for.
    idle_ending: bool,
    /// An internal command (STARTTLS, COMPRESS) of the driver.
    internal: Internal,
    /// COMPRESS after authentication: the authentication's answer, sent when COMPRESS is
    /// done (so that the caller sees the connection as it will stay).
    deferred: Option<Result<Reply, Error>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Internal {
    No,
    StartTls,
    Compress,
}

impl Pending {
    fn new(reply: Option<ReplyTx>, collect: Collect) -> Self {
        Pending {
            reply,
            collect,
            list: Vec::new(),
            search: SearchResult::default(),
            data: Vec::new(),
            mechanism: None,
            idle: None,
            idle_ending: false,
            internal: Internal::No,
            deferred: None,
        }
    }
}

/// What handles can read without asking the driver.
#[derive(Debug, Default)]
struct Shared {
    capabilities: Vec<String>,
    utf8: bool,
    closed: Option<String>,
    /// Set with `closed` when the close was a protocol violation ([`fault_of`]).
    fault: Option<String>,
    bye: Option<String>,
    bye_policy: bool,
    channel_binding: bool,
    compressed: bool,
    mechanism: Option<String>,
}

/// A handle on one IMAP connection. Clone it freely: every clone talks to the same driver
/// task; the connection closes when the last handle and stream are dropped.
#[derive(Clone)]
pub struct Connection {
    tx: mpsc::Sender<Request>,
    shared: Arc<Mutex<Shared>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("closed", &self.closed_reason())
            .finish_non_exhaustive()
    }
}

/// Runs `fut` with a time limit.
async fn limit<T>(
    d: std::time::Duration,
    phase: Phase,
    fut: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match tokio::time::timeout(d, fut).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout(phase)),
    }
}

async fn handshake(
    tcp: TcpStream,
    cfg: &Config,
    connector: &TlsConnector,
    verifier: &Verifier,
) -> Result<TlsStream, Error> {
    let name = rustls_pki_types::ServerName::try_from(cfg.host.clone())
        .map_err(|e| Error::Config(format!("server name {:?}: {e}", cfg.host)))?;
    let r = limit(cfg.timeouts.handshake, Phase::Handshake, async {
        connector
            .connect(name, tls::ReadAhead::new(tcp))
            .await
            .map_err(|e| Error::Tls(e.to_string()))
    })
    .await;
    match r {
        Ok(s) => Ok(s),
        Err(e) => match verifier.take_refusal() {
            Some(c) => Err(Error::Certificate(Box::new(c))),
            None => Err(e),
        },
    }
}

impl Connection {
    /// Connects, secures the connection as `cfg.security` says, and waits for the greeting
    /// and the capabilities. With [`Security::StartTls`] it fails with
    /// [`Error::StartTlsNotOffered`] when the server does not offer STARTTLS. A refused
    /// certificate fails with [`Error::Certificate`], which carries its fingerprint.
    ///
    /// Dropped before it completes: the socket is closed; nothing else happens.
    pub async fn connect(cfg: Config) -> Result<Connection, Error> {
        let span = tracing::info_span!("imap", host = %cfg.host, port = cfg.port);
        Self::connect_inner(cfg).instrument(span).await
    }

    async fn connect_inner(cfg: Config) -> Result<Connection, Error> {
        let (tls_cfg, verifier) = tls::client_config(&cfg.tls)?;
        let connector = TlsConnector::from(tls_cfg);
        let addr = (cfg.host.as_str(), cfg.port);
        let tcp = limit(cfg.timeouts.connect, Phase::Connect, async {
            Ok(TcpStream::connect(addr).await?)
        })
        .await?;
        let _ = tcp.set_nodelay(true);
        tracing::debug!("connected");
        let mut cb = None;
        let transport = match cfg.security {
            Security::ImplicitTls => {
                let s = handshake(tcp, &cfg, &connector, &verifier).await?;
                cb = tls::channel_binding(s.get_ref().1);
                Transport::Tls(Box::new(s))
            }
            Security::StartTls | Security::InsecurePlaintext => Transport::Plain(tcp),
        };
        let mut scfg: ClientConfig = cfg.session.clone();
        scfg.encrypted = cfg.security == Security::ImplicitTls;
        scfg.allow_plaintext_login = cfg.security == Security::InsecurePlaintext;
        scfg.host = Some(cfg.host.clone());
        scfg.greeting_timeout = cfg.timeouts.greeting;
        scfg.response_timeout = cfg.timeouts.command;
        scfg.keepalive = cfg.timeouts.keepalive;
        scfg.idle_refresh = cfg.timeouts.idle_refresh;
        let now = Instant::now();
        let session = Client::new(scfg, now)?;
        let (tx, rx) = mpsc::channel(64);
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (ready_tx, ready_rx) = oneshot::channel();
        let (rd, wr) = tokio::io::split(transport);
        let driver = Driver {
            session,
            rd: Some(rd),
            wr: Some(wr),
            rbuf: BytesMut::new(),
            read_error: None,
            eof: false,
            wq: VecDeque::new(),
            wq_bytes: 0,
            need_flush: false,
            rx,
            rx_open: true,
            pending: HashMap::new(),
            order: VecDeque::new(),
            idle: None,
            backlog: VecDeque::new(),
            outbox: None,
            stream_to: None,
            dirty: true,
            append: HashMap::new(),
            wanted: None,
            chunk: BytesMut::new(),
            shared: shared.clone(),
            cfg,
            connector,
            verifier,
            channel_binding: cb,
            ready: Some(ready_tx),
            starttls_sent: false,
            handoff: false,
            closed: None,
            compress_tried: false,
            sync: None,
            await_caps: Vec::new(),
        };
        tokio::spawn(driver.run().in_current_span());
        match ready_rx.await {
            Ok(Ok(())) => Ok(Connection { tx, shared }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::Closed("the connection ended during setup".into())),
        }
    }

    fn closed_reason(&self) -> Option<String> {
        self.shared.lock().ok().and_then(|s| s.closed.clone())
    }

    /// The error calls fail with once the connection has ended.
    pub(crate) fn closed_error(&self) -> Error {
        if let Some(fault) = self.shared.lock().ok().and_then(|s| s.fault.clone()) {
            return Error::ProtocolViolation(fault);
        }
        Error::Closed(
            self.closed_reason()
                .unwrap_or_else(|| "the connection task ended".into()),
        )
    }

    async fn call(&self, op: Op) -> Result<Reply, Error> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Request::Op(op, tx))
            .await
            .map_err(|_| self.closed_error())?;
        match rx.await {
            Ok(r) => r,
            Err(_) => Err(self.closed_error()),
        }
    }

    async fn command(&self, body: CommandBody, collect: Collect) -> Result<Reply, Error> {
        self.call(Op::Command(body, collect)).await
    }

    /// The server's capabilities as last reported (after authentication, the new ones).
    pub fn capabilities(&self) -> Vec<String> {
        self.shared
            .lock()
            .map(|s| s.capabilities.clone())
            .unwrap_or_default()
    }

    /// Whether the server advertises `name` (`IDLE`, `AUTH=PLAIN`, ...; any case).
    pub fn has_capability(&self, name: &str) -> bool {
        self.capabilities()
            .iter()
            .any(|c| c.eq_ignore_ascii_case(name))
    }

    /// Whether channel-binding data is available (TLS), so that `-PLUS` mechanisms can run.
    pub fn has_channel_binding(&self) -> bool {
        self.shared.lock().is_ok_and(|s| s.channel_binding)
    }

    /// Whether COMPRESS=DEFLATE is active.
    pub fn is_compressed(&self) -> bool {
        self.shared.lock().is_ok_and(|s| s.compressed)
    }

    /// The text of the last `* BYE` the server sent, if any.
    pub fn last_bye(&self) -> Option<String> {
        self.shared.lock().ok().and_then(|s| s.bye.clone())
    }

    /// Whether the server ended the connection with a `BYE` that needs the user (a code
    /// such as `[ALERT]`, `[AUTHENTICATIONFAILED]`, `[EXPIRED]`, `[CONTACTADMIN]`): the
    /// account client does not reconnect after it.
    pub fn closed_by_policy(&self) -> bool {
        self.shared.lock().is_ok_and(|s| s.bye_policy)
    }

    /// Whether the session closed the connection because the server broke the protocol or
    /// its compressed stream ([`Error::ProtocolViolation`]).
    pub fn closed_by_protocol_violation(&self) -> bool {
        self.shared.lock().is_ok_and(|s| s.fault.is_some())
    }

    /// Whether the connection has ended (then every call fails with [`Error::Closed`], or
    /// [`Error::ProtocolViolation`] after a protocol violation).
    pub fn is_closed(&self) -> bool {
        self.closed_reason().is_some() || self.tx.is_closed()
    }

    /// Authenticates with `creds` (password or OAuth token) as `method` says; returns the
    /// mechanism used (`"SCRAM-SHA-256"`, `"LOGIN"` for the LOGIN command, ...). Afterwards
    /// negotiates COMPRESS=DEFLATE when offered and enabled in the [`Config`].
    ///
    /// Dropped before it completes: the exchange still runs to its end inside the session; the
    /// connection is then authenticated or not, as the server decided (see
    /// [`capabilities`](Self::capabilities)).
    pub async fn authenticate(
        &self,
        creds: Credentials,
        method: AuthMethod,
    ) -> Result<String, Error> {
        match self
            .call(Op::Authenticate {
                creds: Box::new(creds),
                method,
            })
            .await?
        {
            Reply::Authenticated(m) => Ok(m),
            other => Err(unexpected(other)),
        }
    }

    /// `LOGIN user password` (RFC 9051 §6.2.3).
    ///
    /// Dropped before it completes: as [`authenticate`](Self::authenticate).
    pub async fn login(&self, user: &str, password: Secret<String>) -> Result<(), Error> {
        self.call(Op::Login {
            user: user.to_owned(),
            password: Secret::new(Bytes::copy_from_slice(password.expose().as_bytes())),
        })
        .await
        .map(|_| ())
    }

    fn utf8(&self) -> bool {
        self.shared.lock().is_ok_and(|s| s.utf8)
    }

    /// A mailbox name for commands: UTF-8 when the server accepts it, else modified UTF-7.
    pub fn mailbox(&self, name: &str) -> Result<Mailbox, Error> {
        let r = if name.eq_ignore_ascii_case("INBOX") {
            Ok(Mailbox::Inbox)
        } else if self.utf8() {
            Mailbox::new(Bytes::copy_from_slice(name.as_bytes()))
        } else {
            Mailbox::from_utf8_as_utf7(name)
        };
        r.map_err(|e| Error::Config(format!("mailbox name {name:?}: {e}")))
    }

    /// `LIST reference pattern` (RFC 9051 §6.3.9), with each mailbox's special-use role.
    ///
    /// Dropped before it completes: the LIST completes inside the session, its answer is
    /// discarded.
    pub async fn list(&self, reference: &str, pattern: &str) -> Result<Vec<MailboxEntry>, Error> {
        let reference = if reference.is_empty() {
            Mailbox::new(Bytes::new()).map_err(|e| Error::Config(format!("reference: {e}")))?
        } else {
            self.mailbox(reference)?
        };
        let pattern = imapwire_codec::mailbox::ListMailbox::new(Bytes::copy_from_slice(
            if self.utf8() {
                pattern.to_owned()
            } else {
                imapwire_codec::mailbox::encode_utf7(pattern)
            }
            .as_bytes(),
        ))
        .map_err(|e| Error::Config(format!("pattern: {e}")))?;
        let body = CommandBody::List {
            selection: None,
            reference,
            patterns: vec![pattern],
            return_opts: None,
        };
        match self.command(body, Collect::List).await? {
            Reply::List(l) => Ok(l),
            other => Err(unexpected(other)),
        }
    }

    /// The special-use mailboxes (RFC 6154) from `LIST "" "*"`: the roles the server marks,
    /// and for roles it marks nowhere a guess from well-known names, flagged as such. Name
    /// the roles the application cannot work without with
    /// [`SpecialUse::missing`](imapwire_session::special_use::SpecialUse::missing) (and
    /// [`guessed`](imapwire_session::special_use::SpecialUse::guessed) for those only
    /// guessed); see [`missing_roles`](Self::missing_roles).
    ///
    /// Dropped before it completes: as [`list`](Self::list).
    pub async fn special_use(&self) -> Result<SpecialUse, Error> {
        let entries = self.list("", "*").await?;
        Ok(crate::types::special_use(&entries))
    }

    /// The roles of `required` that no mailbox has, neither marked by the server nor guessed
    /// from a well-known name (`LIST "" "*"`); empty when every role was found.
    ///
    /// Dropped before it completes: as [`list`](Self::list).
    pub async fn missing_roles(&self, required: &[Role]) -> Result<Vec<Role>, Error> {
        Ok(self.special_use().await?.missing(required))
    }

    /// `SELECT mailbox` (RFC 9051 §6.3.2).
    ///
    /// Dropped before it completes: the SELECT completes inside the session; the mailbox is
    /// then selected (or not) as the server decided.
    pub async fn select(&self, mailbox: &str) -> Result<MailboxInfo, Error> {
        let mailbox = self.mailbox(mailbox)?;
        self.selected(CommandBody::Select {
            mailbox,
            params: Vec::new(),
        })
        .await
    }

    /// `EXAMINE mailbox`: SELECT read-only.
    ///
    /// Dropped before it completes: as [`select`](Self::select).
    pub async fn examine(&self, mailbox: &str) -> Result<MailboxInfo, Error> {
        let mailbox = self.mailbox(mailbox)?;
        self.selected(CommandBody::Examine {
            mailbox,
            params: Vec::new(),
        })
        .await
    }

    async fn selected(&self, body: CommandBody) -> Result<MailboxInfo, Error> {
        match self.command(body, Collect::Select).await? {
            Reply::Selected(i) => Ok(i),
            other => Err(unexpected(other)),
        }
    }

    /// Sends a command written in IMAP syntax without its tag (`UID FETCH 1:* (FLAGS)`); the
    /// text is parsed and checked by the codec first, so nothing but one valid command is
    /// sent. Untagged FETCH data is returned; other untagged data goes where it always goes.
    ///
    /// Dropped before it completes: the command completes inside the session, its answer is
    /// discarded.
    pub async fn raw_command(&self, text: &str) -> Result<Vec<MessageData>, Error> {
        let body = parse_command(text)?;
        match self.command(body, Collect::Data).await? {
            Reply::Fetched(d) => Ok(d),
            Reply::Done(_) => Ok(Vec::new()),
            other => Err(unexpected(other)),
        }
    }

    /// `[UID] FETCH set items` (RFC 9051 §6.4.5) as a stream of messages whose bodies are
    /// streams: `set` and `items` in IMAP syntax (`1:*`, `(UID FLAGS RFC822.SIZE BODY.PEEK[])`).
    ///
    /// Dropped before it completes (the future or the stream): the FETCH completes inside the
    /// session and the rest of its data is discarded as it arrives.
    pub async fn fetch(&self, set: &str, items: &str, uid: bool) -> Result<FetchStream, Error> {
        let text = format!("{}FETCH {set} {items}", if uid { "UID " } else { "" });
        let body = parse_command(&text)?;
        let (tx, rx) = mpsc::channel(STREAM_DEPTH);
        let (rtx, _rrx) = oneshot::channel();
        self.tx
            .send(Request::Op(Op::Command(body, Collect::Stream(tx)), rtx))
            .await
            .map_err(|_| self.closed_error())?;
        Ok(FetchStream {
            rx: BatchRx::new(rx),
            done: false,
            partial: None,
            _keep: self.tx.clone(),
        })
    }

    /// `[UID] STORE set action` (RFC 9051 §6.4.6): `action` in IMAP syntax
    /// (`+FLAGS (\Seen)`, `-FLAGS.SILENT (\Flagged)`); returns the FETCH data sent back.
    ///
    /// Dropped before it completes: the STORE completes inside the session.
    pub async fn store(
        &self,
        set: &str,
        action: &str,
        uid: bool,
    ) -> Result<Vec<MessageData>, Error> {
        let text = format!("{}STORE {set} {action}", if uid { "UID " } else { "" });
        self.raw_command(&text).await
    }

    /// `[UID] SEARCH criteria` (RFC 9051 §6.4.4), `criteria` in IMAP syntax (`UNSEEN`,
    /// `SINCE 1-Jan-2024`); uses `RETURN (ALL)` (ESEARCH, RFC 4731) when the server advertises ESEARCH.
    ///
    /// Dropped before it completes: the SEARCH completes inside the session.
    pub async fn search(&self, criteria: &str, uid: bool) -> Result<SearchResult, Error> {
        // ESEARCH only when advertised by name: some IMAP4rev2 servers lack it.
        let esearch = self.has_capability("ESEARCH");
        let text = format!(
            "{}SEARCH {}{criteria}",
            if uid { "UID " } else { "" },
            if esearch { "RETURN (ALL) " } else { "" }
        );
        let body = parse_command(&text)?;
        match self.command(body, Collect::Search).await? {
            Reply::Search(s) => Ok(s),
            other => Err(unexpected(other)),
        }
    }

    /// `APPEND mailbox (flags) {len}` (RFC 9051 §6.3.12) with the message read from `reader`
    /// while it is sent, in chunks of 64 KiB: memory stays bounded whatever the size. `reader`
    /// must yield exactly `len` bytes; if it ends early or fails, the literal cannot be
    /// completed and the connection is closed. Returns the new message's UID when the server
    /// says (UIDPLUS).
    ///
    /// Dropped before it completes: the driver owns the reader; the APPEND is completed and
    /// the message stored as if the future were still there.
    pub async fn append(
        &self,
        mailbox: &str,
        flags: &[&str],
        len: u64,
        reader: impl AsyncRead + Send + Unpin + 'static,
    ) -> Result<Option<u32>, Error> {
        let mailbox = self.mailbox(mailbox)?;
        let flags = flags
            .iter()
            .map(|f| parse_flag(f))
            .collect::<Result<Vec<_>, _>>()?;
        match self
            .call(Op::Append {
                mailbox,
                flags,
                len,
                reader: Box::new(reader),
            })
            .await?
        {
            Reply::Done(c) => Ok(match c.code {
                Some(imapwire_codec::response::ResponseCode::AppendUid { uids, .. }) => {
                    Some(uid_first(&uids))
                }
                _ => None,
            }),
            other => Err(unexpected(other)),
        }
    }

    /// `[UID] COPY set mailbox` (RFC 9051 §6.4.7).
    ///
    /// Dropped before it completes: the COPY completes inside the session.
    pub async fn copy(&self, set: &str, mailbox: &str, uid: bool) -> Result<(), Error> {
        let body = self.transfer("COPY", set, mailbox, uid)?;
        self.command(body, Collect::None).await.map(|_| ())
    }

    /// `[UID] MOVE set mailbox` (RFC 9051 §6.4.8; needs MOVE or IMAP4rev2).
    ///
    /// Dropped before it completes: the MOVE completes inside the session.
    pub async fn move_messages(&self, set: &str, mailbox: &str, uid: bool) -> Result<(), Error> {
        let body = self.transfer("MOVE", set, mailbox, uid)?;
        self.command(body, Collect::Data).await.map(|_| ())
    }

    /// `[UID] verb set mailbox` for COPY and MOVE: the set is parsed with a stand-in
    /// mailbox, which is then replaced by `mailbox` in the server's encoding.
    fn transfer(
        &self,
        verb: &str,
        set: &str,
        mailbox: &str,
        uid: bool,
    ) -> Result<CommandBody, Error> {
        let m = self.mailbox(mailbox)?;
        let prefix = if uid { "UID " } else { "" };
        let mut body = parse_command(&format!("{prefix}{verb} {set} INBOX"))?;
        if let CommandBody::Copy { mailbox, .. } | CommandBody::Move { mailbox, .. } = &mut body {
            *mailbox = m;
        }
        Ok(body)
    }

    /// `EXPUNGE` (RFC 9051 §6.4.3), or `UID EXPUNGE set` (RFC 4315) when `uids` is given.
    ///
    /// Dropped before it completes: the EXPUNGE completes inside the session.
    pub async fn expunge(&self, uids: Option<&str>) -> Result<(), Error> {
        let body = match uids {
            Some(set) => parse_command(&format!("UID EXPUNGE {set}"))?,
            None => CommandBody::Expunge,
        };
        self.command(body, Collect::None).await.map(|_| ())
    }

    /// `NOOP`.
    ///
    /// Dropped before it completes: the NOOP completes inside the session.
    pub async fn noop(&self) -> Result<(), Error> {
        self.command(CommandBody::Noop, Collect::None)
            .await
            .map(|_| ())
    }

    /// `IDLE` (RFC 2177, RFC 9051 §6.3.13): returns once the server accepted it, with a
    /// stream of the selected mailbox's events. The session refreshes the IDLE before 29
    /// minutes by itself. End it with [`IdleStream::done`].
    ///
    /// Dropped before it completes, or the stream dropped: the driver ends the IDLE (`DONE`)
    /// and the connection is ready for the next command.
    pub async fn idle(&self) -> Result<IdleStream, Error> {
        let (tx, rx) = mpsc::channel(STREAM_DEPTH);
        match self.call(Op::Idle(tx)).await? {
            Reply::IdleStarted(id) => Ok(IdleStream {
                rx: BatchRx::new(rx),
                id,
                conn: self.clone(),
                done: false,
            }),
            other => Err(unexpected(other)),
        }
    }

    /// Synchronises one mailbox with the sync engine ([`imapwire_session::sync`]): uploads
    /// the journal's local changes, then downloads what changed on the server. `persist` is
    /// called (in the driver task, so keep it short: an atomic file write) whenever the
    /// journal must be saved before an upload that must not be repeated. The inner result is
    /// the engine's: the outcome to apply and persist, or the failure with the inputs handed
    /// back. One synchronisation at a time per connection. Afterwards the synchronised
    /// mailbox is selected.
    ///
    /// QRESYNC (RFC 7162) must be enabled before a mailbox is selected: `ENABLE` is valid only
    /// in the authenticated state (RFC 5161 §3.1). When the server offers QRESYNC, it is not
    /// enabled yet and a mailbox is selected on this connection, the synchronisation first
    /// leaves that mailbox with `UNSELECT` (RFC 3691), which expunges nothing (`CLOSE` would
    /// expunge its `\Deleted` messages), then enables QRESYNC and selects its own mailbox. If
    /// the server refuses the UNSELECT, the synchronisation fails with [`SyncError::Command`]
    /// for `"UNSELECT"` and sends nothing more (the mailbox stays selected). A
    /// server that offers QRESYNC but not UNSELECT (nor IMAP4rev2): the synchronisation
    /// sends nothing and fails with [`SyncError::Refused`] holding
    /// [`SubmitError::InvalidState`] for `ENABLE` in [`State::Selected`], the inputs handed
    /// back; synchronise on a connection where nothing is selected, or enable QRESYNC right
    /// after authenticating (`raw_command("ENABLE QRESYNC")`), which also saves the round
    /// trip. It never goes on without QRESYNC when the server offers it.
    ///
    /// Dropped before it completes: the synchronisation still runs to its end inside the
    /// driver (its journal saves included) and its outcome is discarded; the replica state
    /// given is then stale only in that the next synchronisation redoes the work (uploads
    /// are not repeated: the journal marks them).
    pub async fn sync(
        &self,
        cfg: SyncConfig,
        state: ReplicaState,
        journal: Journal,
        persist: impl FnMut(&Journal) -> Result<(), String> + Send + 'static,
    ) -> Result<SyncResult, Error> {
        let (tx, rx) = oneshot::channel();
        let request = SyncRequest {
            cfg,
            state,
            journal,
            persist: Box::new(persist),
            done: tx,
        };
        match self.call(Op::Sync(Box::new(request))).await? {
            Reply::Done(_) => {}
            other => return Err(unexpected(other)),
        }
        rx.await.map_err(|_| self.closed_error())
    }

    /// `LOGOUT` (RFC 9051 §6.1.3); the connection closes.
    ///
    /// Dropped before it completes: the LOGOUT still completes and the connection closes.
    pub async fn logout(&self) -> Result<(), Error> {
        match self.call(Op::Logout).await {
            Ok(_) => Ok(()),
            Err(Error::Closed(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// What [`submit_for_sync`] did with a command of the synchronisation engine.
enum SyncSubmit {
    /// Submitted (or refused by the session): hand the result to the engine.
    Submitted(Result<CommandId, SubmitError>),
    /// The ENABLE could not go out in the selected state: UNSELECT was sent first, and the
    /// ENABLE waits for its success.
    Leaving {
        unselect: CommandId,
        enable: CommandBody,
    },
}

/// Submits a command of the synchronisation engine. The engine sends `ENABLE QRESYNC` before
/// its SELECT when the server offers QRESYNC and it is not enabled yet; ENABLE is valid only
/// in the authenticated state (RFC 5161 §3.1), so when a mailbox is selected (or a SELECT is
/// queued) the session refuses it. Then the mailbox is left with UNSELECT (RFC 3691; unlike
/// CLOSE it expunges nothing), and the ENABLE is submitted only when the UNSELECT succeeded:
/// a failed UNSELECT stops the synchronisation with [`SyncError::Command`] and nothing more
/// is sent (an ENABLE in the selected state would be refused, and the synchronisation would
/// go on without QRESYNC). Without UNSELECT the refusal is the outer error: the
/// synchronisation stops instead of running without QRESYNC.
fn submit_for_sync(session: &mut Client, cmd: CommandBody) -> Result<SyncSubmit, SubmitError> {
    let now = Instant::now();
    let enable = matches!(cmd, CommandBody::Enable(_)).then(|| cmd.clone());
    match (enable, session.submit(now, cmd)) {
        (
            Some(enable),
            Err(SubmitError::InvalidState {
                command,
                state: State::Selected,
            }),
        ) => {
            if !session.has(&Capability::Unselect) {
                return Err(SubmitError::InvalidState {
                    command,
                    state: State::Selected,
                });
            }
            tracing::debug!("leaving the selected mailbox (UNSELECT) to enable QRESYNC");
            let unselect = session.submit(now, CommandBody::Unselect)?;
            Ok(SyncSubmit::Leaving { unselect, enable })
        }
        (_, r) => Ok(SyncSubmit::Submitted(r)),
    }
}

/// The description of a close caused by the server breaking the protocol or its compressed
/// stream, `None` for any other close.
fn fault_of(reason: &CloseReason) -> Option<String> {
    match reason {
        CloseReason::Protocol(t) => Some(t.clone()),
        CloseReason::Compression(t) => Some(format!("COMPRESS=DEFLATE stream: {t}")),
        _ => None,
    }
}

fn unexpected(r: Reply) -> Error {
    Error::Protocol(format!("unexpected reply {r:?}"))
}

fn uid_first(set: &imapwire_codec::sequence::UidSet) -> u32 {
    set.iter().next().unwrap_or(0)
}

/// Parses one command written in IMAP syntax (without tag and CRLF).
pub(crate) fn parse_command(text: &str) -> Result<CommandBody, Error> {
    if text.contains(['\r', '\n']) {
        return Err(Error::Config(format!(
            "command text with a line break: {text:?}"
        )));
    }
    let b = Bytes::from(format!("X {text}\r\n"));
    let d = Command::decode(&b, &DecodeOptions::default())
        .map_err(|e| Error::Config(format!("invalid command {text:?}: {e}")))?;
    Ok(d.message.into_parts().1)
}

fn parse_flag(f: &str) -> Result<Flag, Error> {
    let body = parse_command(&format!("STORE 1 +FLAGS ({f})"))?;
    if let CommandBody::Store {
        data: imapwire_codec::command::StoreData::Flags(v),
        ..
    } = body
    {
        if let (1, Some(f)) = (v.len(), v.iter().next()) {
            return Ok(f.clone());
        }
    }
    Err(Error::Config(format!("not a flag: {f:?}")))
}

/// The receiving end of a stream: the batches as they arrive, and the rest of the batch
/// being read.
#[derive(Debug)]
struct BatchRx {
    rx: mpsc::Receiver<Batch>,
    queue: VecDeque<Item>,
}

impl BatchRx {
    fn new(rx: mpsc::Receiver<Batch>) -> Self {
        BatchRx {
            rx,
            queue: VecDeque::new(),
        }
    }

    /// Waits until an item is there to read: true, or false when the driver dropped the
    /// channel.
    ///
    /// Cancel safety: `mpsc::Receiver::recv` is cancel-safe, and a batch received is stored
    /// before anything else can happen, so dropping this future loses nothing.
    async fn fill(&mut self) -> bool {
        while self.queue.is_empty() {
            // `VecDeque::from(Vec)` takes the vector's buffer as it is (no copy).
            match self.rx.recv().await {
                Some(batch) => self.queue = VecDeque::from(batch),
                None => return false,
            }
        }
        true
    }

    /// The next item; `None` when the driver dropped the channel. Cancel-safe as
    /// [`fill`](Self::fill).
    async fn recv(&mut self) -> Option<Item> {
        if !self.fill().await {
            return None;
        }
        self.queue.pop_front()
    }

    /// `f` applied to the message data that is the next item, where it lies (not moved out
    /// of the batch); `None` when the next item is something else or not there yet.
    fn with_data<R>(&mut self, f: impl FnOnce(&mut MessageData) -> R) -> Option<R> {
        match self.queue.front_mut() {
            Some(Item::Data(d)) => Some(f(d)),
            _ => None,
        }
    }

    /// The next item when it is message data (taken out of the batch), else `None` (the
    /// item stays).
    fn take_data(&mut self) -> Option<MessageData> {
        match self.queue.pop_front()? {
            Item::Data(d) => Some(d),
            other => {
                self.queue.push_front(other);
                None
            }
        }
    }
}

/// The messages of a FETCH, each with its body as a stream of chunks. Ends after the last
/// message, with `Ok(None)`, or with the error that ended the FETCH.
#[derive(Debug)]
pub struct FetchStream {
    rx: BatchRx,
    done: bool,
    /// A message was handed out whose data has not been taken ([`FetchedMessage::finish`]):
    /// the rest of it, up to and with its data, is skipped by the next
    /// [`next`](Self::next).
    partial: Option<()>,
    _keep: mpsc::Sender<Request>,
}

impl FetchStream {
    /// The next message, or `Ok(None)` when the FETCH completed.
    ///
    /// Cancel safety: dropping this future loses nothing (it holds no data); the message not
    /// yet returned is returned by the next call.
    pub async fn next(&mut self) -> Result<Option<FetchedMessage<'_>>, Error> {
        if self.done {
            return Ok(None);
        }
        if self.partial.take().is_some() {
            // Skip the rest of the previous message up to its data.
            loop {
                match self.rx.recv().await {
                    Some(Item::Data(_)) => break,
                    Some(Item::Done(r)) => {
                        self.done = true;
                        return r.map(|_| None);
                    }
                    Some(_) => {}
                    None => {
                        self.done = true;
                        return Err(Error::Closed("the connection ended".into()));
                    }
                }
            }
        }
        loop {
            // A message without a streamed body: its data stays in the batch (only its inline
            // bodies are taken out) until `finish` takes it, so that it is moved once.
            if self.rx.fill().await {
                if let Some(inline) = self.rx.with_data(|d| d.take_inline_bodies()) {
                    self.partial = Some(());
                    return Ok(Some(FetchedMessage {
                        stream: self,
                        inline: inline.into(),
                        at_data: true,
                    }));
                }
            }
            match self.rx.recv().await {
                Some(Item::BodyBegin) => {
                    self.partial = Some(());
                    return Ok(Some(FetchedMessage {
                        stream: self,
                        inline: VecDeque::new(),
                        at_data: false,
                    }));
                }
                Some(Item::Done(r)) => {
                    self.done = true;
                    return r.map(|_| None);
                }
                Some(_) => {}
                None => {
                    self.done = true;
                    return Err(Error::Closed("the connection ended".into()));
                }
            }
        }
    }
}

/// One fetched message: read its body with [`next_chunk`](Self::next_chunk), then its
/// attributes with [`finish`](Self::finish). Dropping it skips the rest of the message.
#[derive(Debug)]
pub struct FetchedMessage<'a> {
    stream: &'a mut FetchStream,
    /// Inline bodies not read yet.
    inline: VecDeque<Bytes>,
    /// The message's data is the stream's next item (the body has ended).
    at_data: bool,
}

impl FetchedMessage<'_> {
    /// The next piece of the message's body sections in order (streamed pieces as they
    /// arrived, or a small body whole), `Ok(None)` at the end. Pieces are not copied out of
    /// the connection's receive buffers (bodies under 16 KiB received whole are): keeping a
    /// piece keeps the buffer it lies in (up to a read's size) alive.
    ///
    /// Cancel safety: dropping this future loses no data already received by the stream.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            if let Some(b) = self.inline.pop_front() {
                return Ok(Some(b));
            }
            if self.at_data {
                return Ok(None);
            }
            if self.stream.rx.fill().await {
                if let Some(inline) = self.stream.rx.with_data(|d| d.take_inline_bodies()) {
                    self.inline = inline.into();
                    self.at_data = true;
                    continue;
                }
            }
            match self.stream.rx.recv().await {
                Some(Item::Chunk(b)) => return Ok(Some(b)),
                Some(Item::Done(r)) => {
                    self.stream.done = true;
                    self.stream.partial = None;
                    r?;
                    return Err(Error::Protocol(
                        "FETCH completed in the middle of a message".into(),
                    ));
                }
                Some(_) => {}
                None => {
                    self.stream.done = true;
                    return Err(Error::Closed("the connection ended".into()));
                }
            }
        }
    }

    /// Reads to the end of the message (discarding body pieces not read yet) and returns its
    /// attributes.
    ///
    /// Dropped before it completes: the message's remaining pieces are skipped by the next
    /// [`FetchStream::next`]; nothing else is lost.
    pub async fn finish(mut self) -> Result<MessageData, Error> {
        self.inline.clear();
        while self.next_chunk().await?.is_some() {
            self.inline.clear();
        }
        let d = self
            .stream
            .rx
            .take_data()
            .ok_or_else(|| Error::Protocol("message without data".into()))?;
        self.stream.partial = None;
        Ok(d)
    }
}

/// The events of the selected mailbox while IDLE runs.
#[derive(Debug)]
pub struct IdleStream {
    rx: BatchRx,
    id: CommandId,
    conn: Connection,
    done: bool,
}

impl IdleStream {
    /// The next event; `Ok(None)` when the IDLE ended (the server ended it, or the connection
    /// closed: see the error then).
    ///
    /// Cancel safety: dropping this future loses no event (use it in `select!` with a timer).
    pub async fn next(&mut self) -> Result<Option<IdleEvent>, Error> {
        if self.done {
            return Ok(None);
        }
        loop {
            match self.rx.recv().await {
                Some(Item::Idle(e)) => return Ok(Some(e)),
                Some(Item::Done(r)) => {
                    self.done = true;
                    return r.map(|_| None);
                }
                Some(_) => {}
                None => {
                    self.done = true;
                    return Err(self.conn.closed_error());
                }
            }
        }
    }

    /// Ends the IDLE (`DONE`) and waits for the server's OK.
    ///
    /// Dropped before it completes: the IDLE still ends; the connection is usable.
    pub async fn done(mut self) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        self.conn.call(Op::IdleDone(self.id)).await.map(|_| ())
    }
}

/// The driver task of one connection (see the module documentation).
struct Driver {
    session: Client,
    rd: Option<ReadHalf<Transport>>,
    wr: Option<WriteHalf<Transport>>,
    rbuf: BytesMut,
    /// A read error that followed bytes read in the same step, reported by the next read.
    read_error: Option<std::io::Error>,
    eof: bool,
    wq: VecDeque<Bytes>,
    wq_bytes: usize,
    need_flush: bool,
    rx: mpsc::Receiver<Request>,
    rx_open: bool,
    pending: HashMap<CommandId, Pending>,
    /// Commands in submission order, for routing untagged data.
    order: VecDeque<CommandId>,
    /// The running IDLE.
    idle: Option<CommandId>,
    /// Stream batches waiting for room in their channel (in order).
    backlog: VecDeque<(mpsc::Sender<Batch>, Batch)>,
    /// The batch being filled while events are routed (sent at the end of each step).
    outbox: Option<Outbox>,
    /// Where FETCH data is streamed: the channel of the first streaming command in flight
    /// (`Some(None)`: none), or `None` when not known since commands were added or
    /// completed (found again at the next FETCH data, not looked up per message).
    stream_to: Option<Option<mpsc::Sender<Batch>>>,
    /// Something other than FETCH data happened since the shared state was last published.
    dirty: bool,
    append: HashMap<CommandId, Box<dyn AsyncRead + Send + Unpin>>,
    /// The APPEND that wants its next chunk, and how much remains.
    wanted: Option<(CommandId, u64)>,
    chunk: BytesMut,
    shared: Arc<Mutex<Shared>>,
    cfg: Config,
    connector: TlsConnector,
    verifier: Arc<Verifier>,
    channel_binding: Option<ChannelBinding>,
    ready: Option<oneshot::Sender<Result<(), Error>>>,
    starttls_sent: bool,
    handoff: bool,
    closed: Option<CloseReason>,
    compress_tried: bool,
    sync: Option<Box<SyncRun>>,
    /// Answers held until the session knows the capabilities again (after authentication).
    await_caps: Vec<(Option<ReplyTx>, Result<Reply, Error>)>,
}

async fn read_opt(
    rd: &mut Option<ReadHalf<Transport>>,
    buf: &mut BytesMut,
    error: &mut Option<std::io::Error>,
) -> std::io::Result<usize> {
    match rd {
        Some(r) => read_many(r, buf, error).await,
        None => std::future::pending().await,
    }
}

/// Reads what `r` has ready into the spare capacity of `buf` (which must have some), up to
/// [`READ_STEP`] bytes: it waits for the first bytes, then reads again as long as more are
/// ready at once. TLS hands out at most one record (16 KiB) per read, so one driver step,
/// and one input call of the session, takes everything received so far instead of a record.
/// Returns how many bytes were read (0: the end of the stream). An error after some bytes
/// is kept in `error` and returned by the next call.
async fn read_many<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut BytesMut,
    error: &mut Option<std::io::Error>,
) -> std::io::Result<usize> {
    if let Some(e) = error.take() {
        return Err(e);
    }
    let mut total = 0;
    std::future::poll_fn(|cx| {
        loop {
            // A full `BytesMut` would grow by 64 bytes for the read: stop before.
            if total >= READ_STEP || buf.len() == buf.capacity() {
                return Poll::Ready(Ok(total));
            }
            let read = std::pin::pin!(r.read_buf(&mut *buf));
            match std::future::Future::poll(read, cx) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(total)),
                Poll::Ready(Ok(n)) => total += n,
                Poll::Ready(Err(e)) if total == 0 => return Poll::Ready(Err(e)),
                Poll::Ready(Err(e)) => {
                    *error = Some(e);
                    return Poll::Ready(Ok(total));
                }
                Poll::Pending if total == 0 => return Poll::Pending,
                Poll::Pending => return Poll::Ready(Ok(total)),
            }
        }
    })
    .await
}

/// Writes `data` when there is some (returns how much was taken), else flushes (returns 0).
async fn write_opt(wr: &mut Option<WriteHalf<Transport>>, data: &[u8]) -> std::io::Result<usize> {
    match wr {
        Some(w) if data.is_empty() => w.flush().await.map(|()| 0),
        Some(w) => match w.write(data).await {
            Ok(0) => Err(std::io::ErrorKind::WriteZero.into()),
            r => r,
        },
        None => std::future::pending().await,
    }
}

/// The message data of FETCH data (`None` for other data), its items taken out of `d`.
fn message_data(d: &mut Data) -> Option<MessageData> {
    match d {
        Data::Fetch { seq, items } => Some(MessageData::take_items(seq.get(), items)),
        Data::UidFetch { uid, items } => {
            let mut md = MessageData::take_items(0, items);
            md.uid = Some(uid.get());
            Some(md)
        }
        _ => None,
    }
}

/// Waits until the first backlogged batch's channel has room (true) or is closed (false).
/// The driver is the only sender on each stream channel, so the room is still there when it
/// sends.
async fn reserve_front(backlog: &VecDeque<(mpsc::Sender<Batch>, Batch)>) -> bool {
    match backlog.front() {
        Some((tx, _)) => tx.reserve().await.is_ok(),
        None => std::future::pending().await,
    }
}

async fn read_append(
    append: &mut HashMap<CommandId, Box<dyn AsyncRead + Send + Unpin>>,
    wanted: Option<(CommandId, u64)>,
    buf: &mut BytesMut,
) -> std::io::Result<usize> {
    match wanted.and_then(|(id, rem)| append.get_mut(&id).map(|r| (r, rem))) {
        Some((r, rem)) => {
            let n = (rem as usize).min(APPEND_CHUNK);
            // Room for the whole chunk: an empty `BytesMut` reads 64 octets at a time.
            buf.reserve(n);
            let mut lim = (&mut **r).take(n as u64);
            lim.read_buf(buf).await
        }
        None => std::future::pending().await,
    }
}

async fn idle_closed(tx: Option<mpsc::Sender<Batch>>) {
    match tx {
        Some(t) => t.closed().await,
        None => std::future::pending().await,
    }
}

impl Driver {
    async fn run(mut self) {
        loop {
            self.pump();
            if self.handoff {
                self.handoff = false;
                self.dirty = true;
                if let Err(e) = self.starttls_handshake().await {
                    self.fail_ready(e);
                    self.session.close(Instant::now());
                    self.pump();
                }
                continue;
            }
            if self.closed.is_some() && self.wq.is_empty() {
                break;
            }
            if self.closed.is_some() && self.wr.is_none() {
                break;
            }
            let deadline = self.session.poll_timeout();
            let can_read = self.rd.is_some()
                && !self.eof
                && self.backlog.is_empty()
                && self.rbuf.len() < READ_MAX
                && self.closed.is_none();
            if can_read && self.rbuf.is_empty() && self.rbuf.capacity() < 16 * 1024 {
                // The last room was handed in: the next read goes into the session's own
                // buffer, right after what it holds (a room with no bytes is kept for any
                // number of steps).
                self.rbuf = self.session.read_room(READ_ROOM);
            } else if can_read && self.rbuf.capacity() - self.rbuf.len() < 16 * 1024 {
                // Bytes the session has not taken yet: more reads are appended to them.
                self.rbuf.reserve(READ_ROOM);
            }
            let idle_tx = self
                .idle
                .and_then(|id| self.pending.get(&id))
                .filter(|p| !p.idle_ending)
                .and_then(|p| p.idle.clone());
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            let front: &[u8] = self.wq.front().map(|b| &b[..]).unwrap_or(&[]);
            let has_front = !front.is_empty();
            let flush = !has_front && self.need_flush;
            tokio::select! {
                r = read_opt(&mut self.rd, &mut self.rbuf, &mut self.read_error), if can_read => {
                    match r {
                        // The end of input reaches the session in `pump`, once what was
                        // read before it has been fed.
                        Ok(0) => {
                            self.eof = true;
                            self.dirty = true;
                            self.feed();
                        }
                        Ok(_) => self.feed(),
                        Err(e) => {
                            tracing::debug!(error = %e, "read failed");
                            self.eof = true;
                            self.dirty = true;
                        }
                    }
                }
                r = write_opt(&mut self.wr, front), if has_front || flush => {
                    match r {
                        Ok(0) => self.need_flush = false,
                        Ok(n) => self.advance_write(n),
                        Err(_) => self.write_failed(),
                    }
                }
                req = self.rx.recv(), if self.rx_open => {
                    self.dirty = true;
                    match req {
                        Some(r) => self.request(r),
                        None if self.ready.is_some() => {
                            // `connect` was dropped before the connection was set up: no
                            // handle exists, nobody is logged in; close at once.
                            self.rx_open = false;
                            tracing::debug!("connect dropped during setup: closing");
                            self.session.close(Instant::now());
                        }
                        None => {
                            self.rx_open = false;
                            if self.pending.is_empty() && self.backlog.is_empty() {
                                tracing::debug!("every handle dropped: closing");
                                let _ = self.session.logout(Instant::now());
                            }
                        }
                    }
                }
                open = reserve_front(&self.backlog), if !self.backlog.is_empty() => {
                    if !open {
                        self.backlog.pop_front();
                    }
                    // Every batch that fits now (the consumer may have made room for several).
                    while let Some((tx, batch)) = self.backlog.pop_front() {
                        match tx.try_send(batch) {
                            Ok(()) => {}
                            Err(mpsc::error::TrySendError::Full(batch)) => {
                                self.backlog.push_front((tx, batch));
                                break;
                            }
                            Err(mpsc::error::TrySendError::Closed(_)) => {}
                        }
                    }
                }
                r = read_append(&mut self.append, self.wanted, &mut self.chunk), if self.wanted.is_some() => {
                    self.append_read(r);
                }
                _ = idle_closed(idle_tx.clone()), if idle_tx.is_some() => {
                    if let Some(id) = self.idle {
                        tracing::debug!("IDLE stream dropped: DONE");
                        self.end_idle(id, None);
                    }
                }
                _ = sleep, if deadline.is_some() => {
                    self.dirty = true;
                    self.session.handle_timeout(Instant::now());
                }
            }
        }
        // Every request still queued fails; every stream ends.
        let reason = self
            .closed
            .as_ref()
            .map(|r| format!("{r:?}"))
            .unwrap_or_else(|| "closed".into());
        let fault = self.closed.as_ref().and_then(fault_of);
        if let Ok(mut s) = self.shared.lock() {
            s.closed = Some(reason.clone());
            s.fault = fault.clone();
        }
        self.fail_ready(match fault {
            Some(f) => Error::ProtocolViolation(f),
            None => Error::Closed(reason),
        });
        if let Some(mut w) = self.wr.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), w.shutdown()).await;
        }
        tracing::debug!("driver ended");
    }

    fn fail_ready(&mut self, e: Error) {
        if let Some(r) = self.ready.take() {
            let _ = r.send(Err(e));
        }
    }

    fn write_failed(&mut self) {
        self.dirty = true;
        self.wq.clear();
        self.wq_bytes = 0;
        self.wr = None;
        self.session.handle_eof(Instant::now());
    }

    fn advance_write(&mut self, n: usize) {
        self.need_flush = true;
        self.wq_bytes -= n;
        if let Some(front) = self.wq.front_mut() {
            if n >= front.len() {
                self.wq.pop_front();
            } else {
                let _ = front.split_to(n);
            }
        }
    }

    /// Hands the read buffer to the session (as much as it takes), routing the events after
    /// each call. Stops while stream batches wait for room in their channels (the backlog):
    /// what the session turns the rest of the buffer into would only pile up behind them, and
    /// under COMPRESS=DEFLATE one read buffer can inflate about 1032 times. So the backlog
    /// holds at most what one input call produces (bounded by the session's `inflate_window`
    /// and `max_events` under COMPRESS; without it, by the read buffer), and the rest waits in
    /// the read buffer, whose size is bounded.
    fn feed(&mut self) {
        while !self.rbuf.is_empty() && self.backlog.is_empty() {
            // The session takes the room back with its bytes (all of them, leaving `rbuf`
            // empty, or none): joined to what it holds in place.
            let n = self
                .session
                .handle_input_room(Instant::now(), &mut self.rbuf);
            self.drain_events();
            if n == 0 || self.handoff {
                break;
            }
        }
    }

    fn append_read(&mut self, r: std::io::Result<usize>) {
        let Some((id, rem)) = self.wanted else { return };
        match r {
            Ok(n) if n > 0 => {
                let chunk = self.chunk.split().freeze();
                self.wanted = None;
                let left = rem - n as u64;
                if left == 0 {
                    self.append.remove(&id);
                }
                if let Err(e) = self.session.append_chunk(id, chunk) {
                    tracing::warn!(error = %e, "append chunk refused");
                    self.session.close(Instant::now());
                }
            }
            _ => {
                tracing::warn!("APPEND source ended before its announced length: closing");
                self.wanted = None;
                self.append.remove(&id);
                self.session.close(Instant::now());
            }
        }
    }

    /// Transmits, events, shared state: run after every step.
    fn pump(&mut self) {
        loop {
            let mut progress = self.check_ready();
            while self.wq_bytes < WRITE_MAX {
                match self.session.poll_transmit(Instant::now()) {
                    Some(b) => {
                        self.wq_bytes += b.len();
                        self.wq.push_back(b);
                        progress = true;
                    }
                    None => break,
                }
            }
            if self.drain_events() {
                progress = true;
            }
            if !self.rbuf.is_empty()
                && !self.handoff
                && self.closed.is_none()
                && self.backlog.is_empty()
            {
                let before = self.rbuf.len();
                self.feed();
                if self.rbuf.len() != before {
                    progress = true;
                }
            }
            // The end of input (or a failed read), once everything read before it was fed;
            // with the backlog empty, what is left in the buffer cannot be fed any more.
            if self.eof
                && !self.session.is_closed()
                && (self.rbuf.is_empty() || self.backlog.is_empty())
            {
                self.session.handle_eof(Instant::now());
                progress = true;
            }
            if !progress {
                break;
            }
        }
        self.flush_outbox();
        if !self.await_caps.is_empty()
            && (self.session.capabilities().is_some() || self.closed.is_some())
        {
            self.publish();
            for (tx, r) in std::mem::take(&mut self.await_caps) {
                self.send_reply(tx, r);
            }
        }
        self.publish();
    }

    /// Copies what handles read without asking (capabilities, ...) into the shared state,
    /// when something other than FETCH data happened since the last time.
    fn publish(&mut self) {
        if !std::mem::take(&mut self.dirty) {
            return;
        }
        if let Ok(mut s) = self.shared.lock() {
            s.capabilities = self
                .session
                .capabilities()
                .map(|c| c.advertised().iter().map(wire).collect())
                .unwrap_or_default();
            s.utf8 =
                imapwire_codec::capability::CapabilitySet::enables_utf8(self.session.enabled());
            s.channel_binding = self.channel_binding.is_some();
            s.compressed = self.session.is_compressed();
            if let Some(r) = &self.closed {
                s.closed = Some(format!("{r:?}"));
                s.fault = fault_of(r);
            }
        }
    }

    /// Setup: after the greeting and capabilities, STARTTLS when required, then ready.
    /// True when it changed something.
    fn check_ready(&mut self) -> bool {
        if self.ready.is_none() || self.closed.is_some() {
            return false;
        }
        let Some(caps) = self.session.capabilities() else {
            return false;
        };
        if self.cfg.security == Security::StartTls && !self.session.is_encrypted() {
            if self.starttls_sent {
                return false;
            }
            if !caps.starttls() {
                self.fail_ready(Error::StartTlsNotOffered);
                self.session.close(Instant::now());
                return true;
            }
            match self.session.starttls(Instant::now()) {
                Ok(id) => {
                    self.starttls_sent = true;
                    let mut p = Pending::new(None, Collect::None);
                    p.internal = Internal::StartTls;
                    self.track(id, p);
                }
                Err(_) => {
                    self.fail_ready(Error::StartTlsNotOffered);
                    self.session.close(Instant::now());
                }
            }
            return true;
        }
        if let Some(r) = self.ready.take() {
            tracing::debug!("ready");
            let _ = r.send(Ok(()));
        }
        false
    }

    async fn starttls_handshake(&mut self) -> Result<(), Error> {
        if !self.rbuf.is_empty() {
            return Err(Error::Protocol(
                "bytes after the STARTTLS OK (plaintext injection)".into(),
            ));
        }
        // Flush what was queued (nothing should be: the session stops at the hand-off).
        while let Some(b) = self.wq.pop_front() {
            if let Some(w) = self.wr.as_mut() {
                w.write_all(&b).await?;
            }
        }
        self.wq_bytes = 0;
        let (Some(rd), Some(wr)) = (self.rd.take(), self.wr.take()) else {
            return Err(Error::Closed("socket gone before STARTTLS".into()));
        };
        let Transport::Plain(tcp) = rd.unsplit(wr) else {
            return Err(Error::Protocol("STARTTLS on a TLS connection".into()));
        };
        let s = handshake(tcp, &self.cfg, &self.connector, &self.verifier).await?;
        self.channel_binding = tls::channel_binding(s.get_ref().1);
        let (rd, wr) = tokio::io::split(Transport::Tls(Box::new(s)));
        self.rd = Some(rd);
        self.wr = Some(wr);
        tracing::debug!("STARTTLS handshake done");
        self.session.transport_upgraded(Instant::now());
        Ok(())
    }

    fn track(&mut self, id: CommandId, p: Pending) {
        self.pending.insert(id, p);
        self.order.push_back(id);
        self.stream_to = None;
    }

    fn request(&mut self, req: Request) {
        let Request::Op(op, reply) = req;
        let now = Instant::now();
        // After a protocol violation every call fails with it (the session would refuse the
        // command as on any closed connection, which reads as a local refusal).
        if let Some(f) = self.session.close_reason().and_then(fault_of) {
            let _ = reply.send(Err(Error::ProtocolViolation(f)));
            return;
        }
        // A new command ends a running IDLE first (the session would hold it back anyway).
        if !matches!(op, Op::IdleDone(_)) {
            if let Some(id) = self.idle {
                self.end_idle(id, None);
            }
        }
        match op {
            Op::Command(body, collect) => {
                let name = wire_name(&body);
                match self.session.submit(now, body) {
                    Ok(id) => {
                        tracing::debug!(command = name, id = id.get(), "submitted");
                        let reply = match collect {
                            Collect::Stream(_) => None,
                            _ => Some(reply),
                        };
                        self.track(id, Pending::new(reply, collect));
                    }
                    Err(e) => {
                        if let Collect::Stream(tx) = collect {
                            let _ = tx.try_send(vec![Item::Done(Err(e.clone().into()))]);
                        }
                        let _ = reply.send(Err(e.into()));
                    }
                }
            }
            Op::Login { user, password } => match self.session.login(now, &user, password) {
                Ok(id) => {
                    let mut p = Pending::new(Some(reply), Collect::None);
                    p.mechanism = Some("LOGIN".into());
                    self.track(id, p);
                }
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                }
            },
            Op::Authenticate { creds, method } => match self.start_auth(*creds, method) {
                Ok((id, mech)) => {
                    tracing::debug!(mechanism = %mech, "authenticating");
                    let mut p = Pending::new(Some(reply), Collect::None);
                    p.mechanism = Some(mech);
                    self.track(id, p);
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            Op::Idle(tx) => match self.session.idle(now) {
                Ok(id) => {
                    let mut p = Pending::new(Some(reply), Collect::None);
                    p.idle = Some(tx);
                    self.track(id, p);
                    self.idle = Some(id);
                }
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                }
            },
            Op::IdleDone(id) => {
                if self.pending.contains_key(&id) {
                    self.end_idle(id, Some(reply));
                } else {
                    let _ = reply.send(Ok(Reply::Done(Completion {
                        code: None,
                        text: Default::default(),
                    })));
                }
            }
            Op::Append {
                mailbox,
                flags,
                len,
                reader,
            } => match self
                .session
                .append(now, mailbox, flags, None, AppendBody::Stream { len })
            {
                Ok(id) => {
                    if len > 0 {
                        self.append.insert(id, reader);
                    }
                    self.track(id, Pending::new(Some(reply), Collect::None));
                }
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                }
            },
            Op::Sync(request) => {
                if self.sync.is_some() {
                    let _ = reply.send(Err(Error::Config(
                        "a synchronisation is already running on this connection".into(),
                    )));
                    return;
                }
                let SyncRequest {
                    cfg,
                    state,
                    journal,
                    persist,
                    done,
                } = *request;
                let info = ServerInfo::from_client(&self.session);
                self.sync = Some(Box::new(SyncRun {
                    engine: SyncEngine::new(cfg, info, state, journal),
                    persist,
                    done,
                    leaving: None,
                }));
                let _ = reply.send(Ok(Reply::Done(Completion {
                    code: None,
                    text: Default::default(),
                })));
            }
            Op::Logout => match self.session.logout(now) {
                Ok(id) => self.track(id, Pending::new(Some(reply), Collect::None)),
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                }
            },
        }
    }

    fn end_idle(&mut self, id: CommandId, reply: Option<ReplyTx>) {
        if let Some(p) = self.pending.get_mut(&id) {
            if !p.idle_ending {
                p.idle_ending = true;
                let _ = self.session.idle_done(Instant::now(), id);
            }
            if reply.is_some() {
                p.reply = reply;
            }
        }
        if self.idle == Some(id) {
            self.idle = None;
        }
    }

    fn start_auth(
        &mut self,
        mut creds: Credentials,
        method: AuthMethod,
    ) -> Result<(CommandId, String), Error> {
        let now = Instant::now();
        creds.host.get_or_insert_with(|| self.cfg.host.clone());
        creds.port.get_or_insert(self.cfg.port);
        if creds.channel_binding.is_none() {
            creds.channel_binding = self.channel_binding.clone();
        }
        // The mechanisms this crate knows that the server offers (`-PLUS` ones included: they
        // decide the GS2 flag of plain SCRAM, see `sasl::new_client_for`).
        let offered_names: Vec<&'static str> = self
            .session
            .capabilities()
            .map(|c| {
                c.auth_mechanisms()
                    .filter_map(|a| Mechanism::from_auth(a).map(|m| m.name()))
                    .collect()
            })
            .unwrap_or_default();
        let offered = |m: Mechanism| offered_names.contains(&m.name());
        let mech = match method {
            AuthMethod::LoginCommand => None,
            AuthMethod::Login if !offered(Mechanism::Login) => None,
            AuthMethod::Login => Some(Mechanism::Login),
            AuthMethod::Mechanism(m) => Some(m),
            AuthMethod::Auto => {
                let caps = self
                    .session
                    .capabilities()
                    .ok_or_else(|| Error::Protocol("capabilities unknown".into()))?;
                let kind = creds
                    .kind()
                    .ok_or_else(|| Error::Config("no password or token".into()))?;
                // -PLUS only with a binding type the server profile says it can verify.
                let transport = self.session.sasl_transport(creds.channel_binding.as_ref());
                let allow_plain = self.cfg.security == Security::InsecurePlaintext;
                match sasl::choose(&offered_names, kind, allow_plain, transport) {
                    Some(m) => Some(m),
                    // No SASL mechanism fits: the LOGIN command with a password.
                    None if creds.password.is_some() && !caps.login_disabled() => None,
                    None => {
                        return Err(Error::Submit(Box::new(
                            imapwire_session::client::SubmitError::NoMechanism,
                        )));
                    }
                }
            }
        };
        match mech {
            Some(m) => {
                let client = sasl::new_client_for(m, &creds, &offered_names)
                    .map_err(|e| Error::Config(format!("credentials: {e}")))?;
                let id = self.session.authenticate(now, client)?;
                Ok((id, m.name().to_owned()))
            }
            None => {
                let pw = creds
                    .password
                    .as_ref()
                    .ok_or_else(|| Error::Config("LOGIN needs a password".into()))?;
                let id = self.session.login(
                    now,
                    &creds.user,
                    Secret::new(Bytes::copy_from_slice(pw.expose().as_bytes())),
                )?;
                Ok((id, "LOGIN".to_owned()))
            }
        }
    }

    /// Delivers a stream item in order: into the batch being filled for its channel (the
    /// batch goes out when full, or at the end of the step).
    fn deliver(&mut self, tx: &mpsc::Sender<Batch>, item: Item) {
        let same = self.outbox.as_ref().is_some_and(|o| o.tx.same_channel(tx));
        if !same {
            self.flush_outbox();
            self.outbox = Some(Outbox {
                tx: tx.clone(),
                // Room for a full batch at once (no regrowth while it fills).
                items: Vec::with_capacity(BATCH_ITEMS),
                bytes: 0,
            });
        }
        self.push_outbox(item);
    }

    /// Adds an item to the batch being filled (sent when full).
    fn push_outbox(&mut self, item: Item) {
        let full = match self.outbox.as_mut() {
            Some(o) => {
                o.bytes += item.body_len();
                o.items.push(item);
                o.items.len() >= BATCH_ITEMS || o.bytes >= BATCH_BYTES
            }
            None => false,
        };
        if full {
            self.flush_outbox();
        }
    }

    /// Sends the batch being filled, or keeps it in the backlog when its channel is full (or
    /// when batches wait before it: order is kept).
    fn flush_outbox(&mut self) {
        let Some(o) = self.outbox.take() else {
            return;
        };
        if o.items.is_empty() || o.tx.is_closed() {
            return;
        }
        if !self.backlog.is_empty() {
            self.backlog.push_back((o.tx, o.items));
            return;
        }
        match o.tx.try_send(o.items) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(items)) => self.backlog.push_back((o.tx, items)),
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// The first command in flight whose collector takes `pred`.
    fn first(&self, pred: impl Fn(&Pending) -> bool) -> Option<CommandId> {
        self.order
            .iter()
            .copied()
            .find(|id| self.pending.get(id).is_some_and(&pred))
    }

    /// Delivers `item` to the first streaming command in flight; gives it back when there
    /// is none (by value: see [`Item`]).
    #[allow(clippy::result_large_err)]
    fn stream_item(&mut self, item: Item) -> Result<(), Item> {
        if self.stream_to.is_none() {
            let first = self.first(|p| matches!(p.collect, Collect::Stream(_)));
            let tx = first.and_then(|id| match self.pending.get(&id).map(|p| &p.collect) {
                Some(Collect::Stream(tx)) => Some(tx.clone()),
                _ => None,
            });
            self.stream_to = Some(tx);
        }
        let Some(Some(tx)) = &self.stream_to else {
            return Err(item);
        };
        // The usual case, one message after another of the same FETCH: no sender clone.
        if self.outbox.as_ref().is_some_and(|o| o.tx.same_channel(tx)) {
            self.push_outbox(item);
        } else {
            let tx = tx.clone();
            self.deliver(&tx, item);
        }
        Ok(())
    }

    fn idle_sink(&self) -> Option<mpsc::Sender<Batch>> {
        self.order
            .iter()
            .filter_map(|id| self.pending.get(id))
            .find_map(|p| p.idle.clone())
    }

    /// Routes every queued session event; true when there was one.
    fn drain_events(&mut self) -> bool {
        let mut any = false;
        loop {
            // FETCH data is read where the session decoded it (no move of the few hundred
            // bytes of the decoded response), except while a synchronisation, which sees
            // every event, runs.
            if self.sync.is_none() {
                if let Some(md) = self.session.peek_data().and_then(message_data) {
                    self.session.skip_event();
                    any = true;
                    self.fetch_data(md);
                    continue;
                }
            }
            let Some(ev) = self.session.poll_event() else {
                break;
            };
            any = true;
            // FETCH data and body pieces change nothing the handles read from the shared
            // state; anything else may (capabilities, ENABLED, COMPRESS, the close).
            if !matches!(
                ev,
                Event::Data(Data::Fetch { .. } | Data::UidFetch { .. })
                    | Event::BodyBegin(_)
                    | Event::BodyChunk(_)
                    | Event::BodyEnd
            ) {
                self.dirty = true;
            }
            if let Some(run) = self.sync.as_mut() {
                run.engine.handle_event(&ev);
                if let Event::Completed { id, result } = &ev {
                    if run.leaving.as_ref().is_some_and(|(u, _)| u == id) {
                        self.left_for_sync(result.clone());
                    }
                }
            }
            self.on_event(ev);
        }
        if self.drive_sync() {
            any = true;
        }
        any
    }

    /// The UNSELECT the synchronisation sent to leave a selected mailbox completed: on success
    /// the waiting `ENABLE QRESYNC` goes out; on failure the synchronisation stops with
    /// [`SyncError::Command`] for `UNSELECT` and nothing more is sent for it.
    fn left_for_sync(&mut self, result: Result<Completion, CommandError>) {
        let Some((_, enable)) = self.sync.as_mut().and_then(|run| run.leaving.take()) else {
            return;
        };
        match result {
            Ok(_) => {
                let r = self.session.submit(Instant::now(), enable);
                if let Some(run) = self.sync.as_mut() {
                    run.engine.submitted(r);
                }
            }
            Err(CommandError::ConnectionLost) => self.stop_sync(SyncError::ConnectionLost),
            Err(error) => {
                tracing::warn!(%error, "UNSELECT failed: synchronisation stopped");
                self.stop_sync(SyncError::Command {
                    command: "UNSELECT",
                    error,
                });
            }
        }
    }

    /// Ends the synchronisation with `error`, handing the inputs back.
    fn stop_sync(&mut self, error: SyncError) {
        if let Some(run) = self.sync.take() {
            let result = run.engine.finish().map_err(|mut f| {
                f.error = error;
                f
            });
            let _ = run.done.send(result);
        }
    }

    /// Runs the synchronisation engine until it waits; true when it submitted something.
    fn drive_sync(&mut self) -> bool {
        let mut progress = false;
        while let Some(run) = self.sync.as_mut() {
            if run.leaving.is_some() {
                // The engine waits for its ENABLE, which waits for the UNSELECT.
                return progress;
            }
            match run.engine.poll() {
                Step::Submit(cmd) => {
                    progress = true;
                    match submit_for_sync(&mut self.session, cmd) {
                        Ok(SyncSubmit::Submitted(r)) => run.engine.submitted(r),
                        Ok(SyncSubmit::Leaving { unselect, enable }) => {
                            run.leaving = Some((unselect, enable));
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "synchronisation stopped");
                            self.stop_sync(SyncError::Refused(e));
                            return true;
                        }
                    }
                }
                Step::PersistJournal => {
                    if let Err(e) = (run.persist)(run.engine.journal()) {
                        // Not saved: an upload could be repeated after a crash. Stop here;
                        // the engine hands the inputs back.
                        tracing::warn!(error = %e, "journal not saved: synchronisation stopped");
                        self.session.close(Instant::now());
                        return true;
                    }
                }
                Step::Wait => return progress,
                Step::Done => {
                    if let Some(run) = self.sync.take() {
                        let _ = run.done.send(run.engine.finish());
                    }
                    return true;
                }
                _ => return progress,
            }
        }
        progress
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Greeting { kind, text } => {
                tracing::debug!(?kind, "greeting");
                if kind == GreetingKind::Bye {
                    self.fail_ready(Error::Rejected(text_of(&text)));
                }
            }
            Event::Completed { id, result } => self.completed(id, result),
            Event::Data(d) => self.data(d),
            Event::Status { status, text } => {
                if matches!(
                    text.code(),
                    Some(imapwire_codec::response::ResponseCode::Alert)
                ) || status != Status::Ok
                {
                    tracing::warn!(?status, text = %text_of(&text), "server says");
                }
            }
            Event::Bye(text) => {
                use imapwire_codec::response::ResponseCode as R;
                let t = text_of(&text);
                tracing::info!(text = %t, "BYE");
                let policy = matches!(
                    text.code(),
                    Some(
                        R::Alert
                            | R::AuthenticationFailed
                            | R::AuthorizationFailed
                            | R::Expired
                            | R::ContactAdmin
                            | R::PrivacyRequired
                    )
                );
                if let Ok(mut s) = self.shared.lock() {
                    s.bye = Some(t);
                    s.bye_policy = policy;
                }
            }
            Event::IdleStarted { id } => {
                if let Some(p) = self.pending.get_mut(&id) {
                    if let Some(r) = p.reply.take() {
                        let _ = r.send(Ok(Reply::IdleStarted(id)));
                    }
                }
            }
            Event::AppendDataWanted { id, remaining } => {
                tracing::trace!(id = id.get(), remaining, "APPEND data wanted");
                if self.append.contains_key(&id) {
                    self.wanted = Some((id, remaining));
                }
            }
            // Without a streaming command, the body's pieces have nowhere to go.
            Event::BodyBegin(b) => {
                let _ = self.stream_item(Item::BodyBegin);
                if !b.data.is_empty() {
                    let _ = self.stream_item(Item::Chunk(b.data));
                }
            }
            Event::BodyChunk(b) => {
                let _ = self.stream_item(Item::Chunk(b));
            }
            Event::BodyEnd => {
                let _ = self.stream_item(Item::BodyEnd);
            }
            Event::HandOff(HandOff::StartTls) => self.handoff = true,
            Event::Mailbox(m) => {
                if let Some(tx) = self.idle_sink() {
                    let e = match m {
                        MailboxEvent::Exists { exists } => Some(IdleEvent::Exists { exists }),
                        MailboxEvent::Expunged { seq, .. } => Some(IdleEvent::Expunge { seq }),
                        _ => None,
                    };
                    if let Some(e) = e {
                        self.deliver(&tx, Item::Idle(e));
                    }
                }
            }
            Event::Closed(reason) => {
                tracing::debug!(?reason, "session closed");
                let err = match &reason {
                    CloseReason::Rejected(t) => Error::Rejected(text_of(t)),
                    // An attack, not a network failure: not to be retried.
                    CloseReason::StartTlsInjection { bytes } => Error::Protocol(format!(
                        "{bytes} bytes after the STARTTLS OK (plaintext injection)"
                    )),
                    CloseReason::TimedOut => Error::Timeout(if self.ready.is_some() {
                        Phase::Greeting
                    } else {
                        Phase::Response
                    }),
                    other => match fault_of(other) {
                        Some(f) => Error::ProtocolViolation(f),
                        None => Error::Closed(format!("{other:?}")),
                    },
                };
                self.fail_ready(err);
                self.closed = Some(reason);
                self.wanted = None;
                self.append.clear();
                // Streams still open end with the close.
                let ids: Vec<_> = self.pending.keys().copied().collect();
                for id in ids {
                    self.completed(id, Err(CommandError::ConnectionLost));
                }
            }
            Event::ProtocolError(e) => tracing::debug!(?e, "protocol error"),
            Event::Malformed(m) => tracing::debug!(?m, "malformed response"),
            other => tracing::trace!(?other, "event"),
        }
    }

    fn data(&mut self, d: Data) {
        match d {
            Data::List(item) | Data::XList(item) | Data::Lsub(item) => {
                let utf8 =
                    imapwire_codec::capability::CapabilitySet::enables_utf8(self.session.enabled());
                if let Some(id) = self.first(|p| matches!(p.collect, Collect::List)) {
                    if let Some(p) = self.pending.get_mut(&id) {
                        p.list.push(MailboxEntry::new(item, utf8));
                    }
                }
            }
            Data::Search { ids, modseq } => {
                if let Some(id) = self.first(|p| matches!(p.collect, Collect::Search)) {
                    if let Some(p) = self.pending.get_mut(&id) {
                        p.search.ids.extend(ids.iter().map(|n| n.get()));
                        p.search.modseq = modseq.or(p.search.modseq);
                    }
                }
            }
            Data::ESearch(es) => {
                if let Some(id) = self.first(|p| matches!(p.collect, Collect::Search)) {
                    if let Some(p) = self.pending.get_mut(&id) {
                        for r in es.data {
                            match r {
                                SearchReturnData::All(set) => p.search.ids.extend(set.iter()),
                                SearchReturnData::ModSeq(m) => p.search.modseq = Some(m),
                                _ => {}
                            }
                        }
                    }
                }
            }
            mut d @ (Data::Fetch { .. } | Data::UidFetch { .. }) => {
                if let Some(md) = message_data(&mut d) {
                    self.fetch_data(md);
                }
            }
            Data::Vanished { earlier, uids } => {
                if let Some(tx) = self.idle_sink() {
                    let e = IdleEvent::Vanished {
                        uids: wire(&uids),
                        earlier,
                    };
                    self.deliver(&tx, Item::Idle(e));
                }
            }
            _ => {}
        }
    }

    fn fetch_data(&mut self, md: MessageData) {
        // Streamed when a streaming command is in flight; else `stream_item` gives it back.
        let Err(Item::Data(md)) = self.stream_item(Item::Data(md)) else {
            return;
        };
        if let Some(id) = self.first(|p| matches!(p.collect, Collect::Data)) {
            if let Some(p) = self.pending.get_mut(&id) {
                p.data.push(md);
                return;
            }
        }
        if let Some(tx) = self.idle_sink() {
            if let Some(flags) = md.flags().map(|f| f.to_strings()) {
                let e = IdleEvent::Flags {
                    seq: md.seq,
                    uid: md.uid,
                    flags,
                };
                self.deliver(&tx, Item::Idle(e));
            }
        }
    }

    /// A command's failure as the caller sees it: "connection lost" after a protocol
    /// violation is that violation ([`Error::ProtocolViolation`]), so that it is not taken for
    /// a network failure and retried.
    fn command_error(&self, e: CommandError) -> Error {
        match (&e, self.session.close_reason().and_then(fault_of)) {
            (CommandError::ConnectionLost, Some(f)) => Error::ProtocolViolation(f),
            _ => Error::from(e),
        }
    }

    fn completed(&mut self, id: CommandId, result: Result<Completion, CommandError>) {
        self.order.retain(|x| *x != id);
        self.stream_to = None;
        self.append.remove(&id);
        if self.wanted.is_some_and(|(w, _)| w == id) {
            self.wanted = None;
        }
        if self.idle == Some(id) {
            self.idle = None;
        }
        let Some(mut p) = self.pending.remove(&id) else {
            return;
        };
        tracing::debug!(id = id.get(), ok = result.is_ok(), "completed");
        match p.internal {
            Internal::StartTls => {
                if result.is_err() {
                    self.fail_ready(Error::StartTlsNotOffered);
                    self.session.close(Instant::now());
                }
                return;
            }
            Internal::Compress => {
                tracing::debug!(ok = result.is_ok(), "COMPRESS");
                if let Some(r) = p.deferred.take() {
                    self.send_reply(p.reply.take(), r);
                }
                return;
            }
            Internal::No => {}
        }
        if let Some(tx) = p.idle.take() {
            let r = result.clone().map_err(|e| self.command_error(e));
            self.deliver(&tx, Item::Done(r));
        }
        if let Collect::Stream(tx) = &p.collect {
            let tx = tx.clone();
            let r = result.clone().map_err(|e| self.command_error(e));
            self.deliver(&tx, Item::Done(r));
        }
        let authenticated = p.mechanism.is_some() && result.is_ok();
        let reply = match result {
            Err(e) => Err(self.command_error(e)),
            Ok(c) => Ok(match p.collect {
                Collect::List => Reply::List(std::mem::take(&mut p.list)),
                Collect::Search => {
                    let mut s = std::mem::take(&mut p.search);
                    s.ids.sort_unstable();
                    s.ids.dedup();
                    Reply::Search(s)
                }
                Collect::Select => Reply::Selected(match self.session.mailbox() {
                    Some(m) => MailboxInfo {
                        exists: m.exists(),
                        uidvalidity: m.uidvalidity(),
                        uidnext: m.uidnext(),
                        highestmodseq: m.highestmodseq(),
                        read_only: m.read_only(),
                    },
                    None => {
                        return self.send_reply(
                            p.reply,
                            Err(Error::Protocol("SELECT OK without a mailbox".into())),
                        );
                    }
                }),
                Collect::Data => Reply::Fetched(std::mem::take(&mut p.data)),
                _ => match p.mechanism.take() {
                    Some(m) if authenticated => Reply::Authenticated(m),
                    _ => Reply::Done(c),
                },
            }),
        };
        if authenticated {
            if let Ok(mut s) = self.shared.lock() {
                s.mechanism = match &reply {
                    Ok(Reply::Authenticated(m)) => Some(m.clone()),
                    _ => None,
                };
            }
            if let Some(cid) = self.maybe_compress() {
                if let Some(cp) = self.pending.get_mut(&cid) {
                    cp.reply = p.reply.take();
                    cp.deferred = Some(reply);
                    return;
                }
            }
            if self.session.capabilities().is_none() {
                self.await_caps.push((p.reply.take(), reply));
                return;
            }
        }
        self.send_reply(p.reply, reply);
    }

    fn send_reply(&mut self, tx: Option<ReplyTx>, r: Result<Reply, Error>) {
        if let Some(tx) = tx {
            let _ = tx.send(r);
        }
    }

    /// Submits COMPRESS DEFLATE when wanted and not excluded; its id.
    fn maybe_compress(&mut self) -> Option<CommandId> {
        if !self.cfg.compress || self.compress_tried || self.session.is_compressed() {
            return None;
        }
        // Only when the capabilities are known and offer it (the session asks for them after
        // authentication when the OK did not carry them; checked again when it is sent).
        let offered = self
            .session
            .capabilities()
            .is_none_or(|c| c.has(&Capability::CompressDeflate));
        if !offered {
            return None;
        }
        self.compress_tried = true;
        let id = self.session.compress(Instant::now()).ok()?;
        let mut p = Pending::new(None, Collect::None);
        p.internal = Internal::Compress;
        self.track(id, p);
        Some(id)
    }
}

fn wire_name(b: &CommandBody) -> &'static str {
    match b {
        CommandBody::Fetch { .. } => "FETCH",
        CommandBody::Store { .. } => "STORE",
        CommandBody::Search { .. } => "SEARCH",
        CommandBody::Select { .. } => "SELECT",
        CommandBody::Examine { .. } => "EXAMINE",
        CommandBody::List { .. } => "LIST",
        _ => "command",
    }
}

fn text_of(t: &imapwire_codec::response::ResponseText) -> String {
    String::from_utf8_lossy(&t.to_vec_inline_literals()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that answers reads from a script: bytes, an error, or nothing ready yet.
    struct Script(VecDeque<Poll<std::io::Result<Vec<u8>>>>);

    impl AsyncRead for Script {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            out: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            let script = &mut self.get_mut().0;
            match script.pop_front() {
                Some(Poll::Ready(Ok(mut b))) => {
                    let n = out.remaining().min(b.len());
                    out.put_slice(&b[..n]);
                    if n < b.len() {
                        script.push_front(Poll::Ready(Ok(b.split_off(n))));
                    }
                    Poll::Ready(Ok(()))
                }
                Some(Poll::Ready(Err(e))) => Poll::Ready(Err(e)),
                Some(Poll::Pending) | None => Poll::Pending,
            }
        }
    }

    fn poll_read_many(
        r: &mut Script,
        buf: &mut BytesMut,
        error: &mut Option<std::io::Error>,
    ) -> Poll<std::io::Result<usize>> {
        let fut = std::pin::pin!(read_many(r, buf, error));
        std::future::Future::poll(fut, &mut Context::from_waker(std::task::Waker::noop()))
    }

    /// One read step takes every piece that is ready (TLS hands out one record per read),
    /// stops at the buffer's capacity without growing it, reports an error that follows
    /// bytes at the next step, and the end of the stream as 0.
    #[test]
    fn a_read_step_takes_what_is_ready() {
        let piece = |n: usize, b: u8| Poll::Ready(Ok(vec![b; n]));
        let mut s = Script(VecDeque::from([
            piece(16_384, 1),
            piece(16_384, 2),
            piece(100, 3),
            Poll::Pending,
            piece(10, 4),
        ]));
        let mut buf = BytesMut::with_capacity(64 * 1024);
        let mut error = None;
        let r = poll_read_many(&mut s, &mut buf, &mut error);
        assert!(matches!(r, Poll::Ready(Ok(32_868))), "{r:?}");
        assert_eq!(buf.len(), 32_868);
        assert_eq!((buf[0], buf[16_384], buf[32_867]), (1, 2, 3));
        // next step: the piece after the pause
        let r = poll_read_many(&mut s, &mut buf, &mut error);
        assert!(matches!(r, Poll::Ready(Ok(10))), "{r:?}");
        // nothing ready: pending, nothing read
        let r = poll_read_many(&mut s, &mut buf, &mut error);
        assert!(r.is_pending());
        assert_eq!(buf.len(), 32_878);

        // the buffer's capacity bounds a step; the rest stays for the next one
        let mut s = Script(VecDeque::from([piece(600, 5), piece(600, 6)]));
        let mut buf = BytesMut::with_capacity(1000);
        let cap = buf.capacity();
        let r = poll_read_many(&mut s, &mut buf, &mut error);
        assert!(
            matches!(r, Poll::Ready(Ok(n)) if n == cap.min(1200)),
            "{r:?}"
        );
        assert_eq!(buf.capacity(), cap, "the buffer did not grow");
        buf.clear();
        let r = poll_read_many(&mut s, &mut buf, &mut error);
        assert!(
            matches!(r, Poll::Ready(Ok(n)) if n == 1200 - cap.min(1200)),
            "{r:?}"
        );

        // an error after bytes: the bytes now, the error next, then the end
        let mut s = Script(VecDeque::from([
            piece(50, 7),
            Poll::Ready(Err(std::io::ErrorKind::ConnectionReset.into())),
            piece(0, 0),
        ]));
        let mut buf = BytesMut::with_capacity(1024);
        let r = poll_read_many(&mut s, &mut buf, &mut error);
        assert!(matches!(r, Poll::Ready(Ok(50))), "{r:?}");
        assert!(error.is_some());
        let r = poll_read_many(&mut s, &mut buf, &mut error);
        assert!(
            matches!(&r, Poll::Ready(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset),
            "{r:?}"
        );
        let r = poll_read_many(&mut s, &mut buf, &mut error);
        assert!(matches!(r, Poll::Ready(Ok(0))), "{r:?}");
    }

    #[test]
    fn parse_command_checks_the_text() {
        let b = parse_command("UID SEARCH ALL").unwrap();
        assert!(
            matches!(
                b,
                CommandBody::Search {
                    uid: true,
                    return_opts: None,
                    ..
                }
            ),
            "{b:?}"
        );
        assert!(parse_command("NOOP\r\nA1 LOGOUT").is_err());
        assert!(parse_command("FETCH 1:* (FLAGS").is_err());
        assert!(matches!(parse_flag("\\Seen"), Ok(Flag::Seen)));
        assert!(parse_flag("\\Seen \\Draft").is_err());
    }
}
