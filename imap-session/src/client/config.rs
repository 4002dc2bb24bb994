//! Settings of one client connection (timers RFC 9051 §5.4 and RFC 2177, pipelining §5.5,
//! limits).

use std::sync::Arc;
use std::time::Duration;

use imapwire_codec::Limits;

use crate::pipeline::PipelineRules;

/// How command tags are made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TagStyle {
    /// `A0001`, `A0002`, ... with this prefix (letters only).
    Sequential(String),
    /// Random tags of this many characters (for connections where predictable tags help an
    /// attacker who can inject responses).
    Unpredictable(usize),
}

/// A copy of what the server sends, handed to a function as the session consumes it: after
/// TLS and after COMPRESS=DEFLATE is undone, so exactly the byte stream that the codec decodes
/// (and that `dissect --server` reads). Bytes are handed over once the receiver has taken
/// them (a message once it is framed, a streamed body chunk by chunk), so a message cut off
/// by the end of the connection is not. For recording sessions in tests and when debugging a
/// server; see [`ClientConfig::received_tap`].
///
/// The bytes include everything the server sends: message contents, mailbox names, SASL
/// challenges. Nothing the client sends (credentials) passes through it.
#[derive(Clone)]
pub struct ReceivedTap(Arc<TapFn>);

/// The function behind a [`ReceivedTap`].
type TapFn = dyn Fn(&[u8]) + Send + Sync;

impl ReceivedTap {
    /// A tap calling `f` with each piece of input, in order, as it is consumed.
    pub fn new(f: impl Fn(&[u8]) + Send + Sync + 'static) -> Self {
        ReceivedTap(Arc::new(f))
    }

    pub(crate) fn record(&self, data: &[u8]) {
        (self.0)(data)
    }
}

impl std::fmt::Debug for ReceivedTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceivedTap(..)")
    }
}

/// Settings of a [`Client`](super::Client). Build with [`ClientConfig::default`] and the
/// `with_*` methods.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The connection is already encrypted (implicit TLS, or after STARTTLS). Plaintext
    /// password mechanisms (LOGIN, AUTHENTICATE PLAIN/LOGIN) are refused on a connection
    /// that is not, unless [`allow_plaintext_login`](Self::allow_plaintext_login).
    pub encrypted: bool,
    /// Allows passwords over an unencrypted connection (explicit opt-in; off by default).
    pub allow_plaintext_login: bool,
    /// The host name connected to: the most reliable signal for recognising hosted services
    /// ([`crate::profile::ServerProfile::detect_with_host`]).
    pub host: Option<String>,
    /// Tag style.
    pub tags: TagStyle,
    /// Pipelining rules (commands in flight, RFC 9051 §5.5).
    pub pipeline: PipelineRules,
    /// Longest wait for the greeting after connecting.
    pub greeting_timeout: Duration,
    /// Longest silence from the server while a command is in flight (any byte received
    /// restarts it): then the connection is considered dead.
    pub response_timeout: Duration,
    /// While no command is in flight and IDLE is not running, a NOOP is sent after this much
    /// silence, so that a dead connection is found (within `keepalive + response_timeout`).
    /// `None`: never.
    pub keepalive: Option<Duration>,
    /// IDLE is ended with DONE and issued again after this long (RFC 2177 advises at most 29
    /// minutes; some servers drop IDLE after 10-25 minutes).
    pub idle_refresh: Duration,
    /// When the server does not offer IDLE, [`Client::idle`](super::Client::idle) polls with
    /// NOOP at this interval instead.
    pub noop_poll_interval: Duration,
    /// Framing limits for what the server sends.
    pub limits: Limits,
    /// Literals longer than this (message bodies in FETCH responses) are not kept in the
    /// decoded response but handed over in pieces as they arrive
    /// ([`Event::BodyBegin`](super::Event::BodyBegin) with the first piece,
    /// [`Event::BodyChunk`](super::Event::BodyChunk)s, [`Event::BodyEnd`](super::Event::BodyEnd)),
    /// so a message of any size needs memory
    /// bounded by this threshold and the read size. `None`: every literal is kept whole
    /// (bounded by [`Limits`]).
    pub stream_bodies_over: Option<u64>,
    /// Most events queued before [`Client::handle_input`](super::Client::handle_input)
    /// stops consuming input (the caller must drain [`Client::poll_event`](super::Client::poll_event)).
    pub max_events: usize,
    /// Under COMPRESS=DEFLATE, the most inflated bytes [`Client::handle_input`](super::Client::handle_input)
    /// hands to the decoder while events wait to be taken: past it the session stops
    /// inflating (and reports how much input it took) until
    /// [`Client::poll_event`](super::Client::poll_event) has been drained. It plays the part
    /// of the read size for compressed input, which DEFLATE can inflate about 1032 times
    /// (inflating goes in pieces of at most 16 KiB, so the events hold less than this plus
    /// one piece).
    pub inflate_window: usize,
    /// Most commands submitted and not yet completed. Output is bounded by it: a command is
    /// encoded only when it may be sent, and what [`Client::poll_transmit`](super::Client::poll_transmit)
    /// returns is at most one gathered batch of lines plus one literal.
    pub max_commands: usize,
    /// Called with the bytes the session consumes from the server (decompressed), in order:
    /// a recording of the session's input ([`ReceivedTap`]). `None` (the default): no copy
    /// is made or kept.
    pub received_tap: Option<ReceivedTap>,
}

impl Default for ClientConfig {
    /// Unencrypted, no plaintext login, sequential tags `A0001`..., 16 commands in flight,
    /// greeting 30 s, response 60 s, keep-alive NOOP after 5 min, IDLE refresh 29 min, NOOP
    /// polling every 2 min, the codec's default limits, bodies over 256 KiB streamed, 1024
    /// events, 4096 commands, a 64 KiB inflate window.
    fn default() -> Self {
        ClientConfig {
            encrypted: false,
            allow_plaintext_login: false,
            host: None,
            tags: TagStyle::Sequential("A".into()),
            pipeline: PipelineRules::default(),
            greeting_timeout: Duration::from_secs(30),
            response_timeout: Duration::from_secs(60),
            keepalive: Some(Duration::from_secs(5 * 60)),
            idle_refresh: Duration::from_secs(29 * 60),
            noop_poll_interval: Duration::from_secs(2 * 60),
            limits: Limits::default(),
            stream_bodies_over: Some(256 * 1024),
            max_events: 1024,
            inflate_window: 64 * 1024,
            max_commands: 4096,
            received_tap: None,
        }
    }
}

impl ClientConfig {
    /// Declares the connection encrypted (implicit TLS).
    pub fn with_encrypted(mut self, encrypted: bool) -> Self {
        self.encrypted = encrypted;
        self
    }

    /// Allows passwords over an unencrypted connection.
    pub fn with_plaintext_login(mut self, allow: bool) -> Self {
        self.allow_plaintext_login = allow;
        self
    }

    /// Sets the host name used to recognise the server.
    pub fn with_host(mut self, host: &str) -> Self {
        self.host = Some(host.to_owned());
        self
    }

    /// Sets the tag style.
    pub fn with_tags(mut self, tags: TagStyle) -> Self {
        self.tags = tags;
        self
    }

    /// Sets the pipelining rules.
    pub fn with_pipeline(mut self, rules: PipelineRules) -> Self {
        self.pipeline = rules;
        self
    }

    /// Sets the greeting timeout.
    pub fn with_greeting_timeout(mut self, d: Duration) -> Self {
        self.greeting_timeout = d;
        self
    }

    /// Sets the response timeout.
    pub fn with_response_timeout(mut self, d: Duration) -> Self {
        self.response_timeout = d;
        self
    }

    /// Sets the keep-alive interval (`None`: never).
    pub fn with_keepalive(mut self, d: Option<Duration>) -> Self {
        self.keepalive = d;
        self
    }

    /// Sets the IDLE refresh interval.
    pub fn with_idle_refresh(mut self, d: Duration) -> Self {
        self.idle_refresh = d;
        self
    }

    /// Sets the NOOP polling interval used when IDLE is not offered.
    pub fn with_noop_poll_interval(mut self, d: Duration) -> Self {
        self.noop_poll_interval = d;
        self
    }

    /// Sets the framing limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the bound on pending commands.
    pub fn with_max_commands(mut self, n: usize) -> Self {
        self.max_commands = n.max(1);
        self
    }

    /// Sets the size above which bodies are streamed (`None`: never).
    pub fn with_stream_bodies_over(mut self, n: Option<u64>) -> Self {
        self.stream_bodies_over = n;
        self
    }

    /// Sets the event queue bound.
    pub fn with_max_events(mut self, n: usize) -> Self {
        self.max_events = n.max(1);
        self
    }

    /// Sets the tap that receives a copy of the server's bytes ([`ReceivedTap`]).
    pub fn with_received_tap(mut self, tap: Option<ReceivedTap>) -> Self {
        self.received_tap = tap;
        self
    }

    /// Sets the inflate window (COMPRESS=DEFLATE).
    pub fn with_inflate_window(mut self, n: usize) -> Self {
        self.inflate_window = n;
        self
    }
}
