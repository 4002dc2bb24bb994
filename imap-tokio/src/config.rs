//! Connection settings: transport security (RFC 8314 implicit TLS, RFC 9051 §6.2.1
//! STARTTLS), timeouts, COMPRESS (RFC 4978).

use std::time::Duration;

use imapwire_session::client::ClientConfig;

use crate::tls::TlsConfig;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Security {
    /// TLS from the first byte (RFC 8314; port 993).
    ImplicitTls,
    /// Plaintext until STARTTLS (port 143). Required: if the server does not offer STARTTLS,
    /// or refuses it, the connection fails ([`Error::StartTlsNotOffered`](crate::Error)); it
    /// never goes on in plaintext.
    StartTls,
    /// No encryption at all: passwords and mail cross the network readable by anyone on the
    /// path. Only for tests and loopback. Password mechanisms are allowed on it.
    InsecurePlaintext,
}

impl Security {
    /// The usual port: 993 for implicit TLS, 143 otherwise.
    pub fn default_port(self) -> u16 {
        match self {
            Security::ImplicitTls => 993,
            _ => 143,
        }
    }
}

/// Time limits of one connection. Every wait on the network is bounded by one of them, so a
/// connection whose packets are silently dropped is found dead within a bounded time: within
/// `connect`, `handshake` or `greeting` while connecting, within `command` while a command is
/// in flight, within `keepalive + command` otherwise, and within `idle_refresh + command`
/// during IDLE (the refresh's `DONE` must be answered). With the defaults: at most 6 min
/// outside IDLE and 30 min in IDLE; shorten `idle_refresh` for faster detection in IDLE
/// (each refresh costs one exchange).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// TCP connect (per address tried). Default 30 s.
    pub connect: Duration,
    /// TLS handshake. Default 30 s.
    pub handshake: Duration,
    /// The server's greeting after connecting. Default 30 s.
    pub greeting: Duration,
    /// Silence from the server while a command is in flight (any byte received restarts
    /// it). Default 60 s.
    pub command: Duration,
    /// Silence after which a NOOP is sent to check that the server is still there, while no
    /// command is in flight and IDLE is not running. Default 5 min; `None`: never.
    pub keepalive: Option<Duration>,
    /// How long one IDLE runs before the session ends it with `DONE` and starts it again
    /// (RFC 2177 §3: servers may log out a client idle for 30 min). Default 29 min.
    pub idle_refresh: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(30),
            handshake: Duration::from_secs(30),
            greeting: Duration::from_secs(30),
            command: Duration::from_secs(60),
            keepalive: Some(Duration::from_secs(5 * 60)),
            idle_refresh: Duration::from_secs(29 * 60),
        }
    }
}

impl Timeouts {
    /// Every limit (connect, handshake, greeting, each command) set to `d`; keep-alive and
    /// IDLE refresh stay.
    pub fn all(d: Duration) -> Self {
        Timeouts {
            connect: d,
            handshake: d,
            greeting: d,
            command: d,
            ..Timeouts::default()
        }
    }
}

/// Where and how to connect. Build with [`Config::new`] and the `with_*` methods.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Host name or IP address to connect to; also the TLS server name that the certificate
    /// must name.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Transport security.
    pub security: Security,
    /// Trust anchors and pins.
    pub tls: TlsConfig,
    /// Time limits.
    pub timeouts: Timeouts,
    /// Negotiate COMPRESS=DEFLATE after authentication when the server offers it. Default on.
    pub compress: bool,
    /// Settings of the sans-IO session (pipelining, limits, body streaming threshold). Its
    /// timers and `encrypted` flag are set from the fields above at connect time.
    pub session: ClientConfig,
}

impl Config {
    /// Implicit TLS to `host:port` with verification on and the default roots.
    pub fn new(host: &str, port: u16) -> Self {
        Config {
            host: host.to_owned(),
            port,
            security: Security::ImplicitTls,
            tls: TlsConfig::default(),
            timeouts: Timeouts::default(),
            compress: true,
            session: ClientConfig::default(),
        }
    }

    /// Sets the transport security.
    pub fn with_security(mut self, security: Security) -> Self {
        self.security = security;
        self
    }

    /// Sets the TLS settings.
    pub fn with_tls(mut self, tls: TlsConfig) -> Self {
        self.tls = tls;
        self
    }

    /// Sets the time limits.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Enables or disables COMPRESS=DEFLATE.
    pub fn with_compress(mut self, compress: bool) -> Self {
        self.compress = compress;
        self
    }

    /// Sets the session settings.
    pub fn with_session(mut self, session: ClientConfig) -> Self {
        self.session = session;
        self
    }
}
