//! Server configuration (RFC 9051 §5.4 autologout, §6.2 plaintext policy, §7.1 capabilities;
//! RFC 7888 literal limits).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use imapwire_codec::Limits;
use imapwire_codec::capability::Capability;
use imapwire_codec::core::Secret;

use crate::sasl::scram::{ScramHash, StoredKeys};

/// Where the users' credentials live. The server never needs a plaintext password: PLAIN,
/// LOGIN and the LOGIN command derive SCRAM keys from the password the client sent with the
/// stored salt and iteration count and compare them with the stored key; SCRAM verifies the
/// client's proof against the stored key.
pub trait CredentialStore: Send + Sync {
    /// The stored SCRAM keys of `user` for `hash`, or `None` for an unknown user (the server
    /// then goes on with made-up keys so as not to reveal which users exist). For the
    /// password mechanisms the server asks for [`ScramHash::Sha256`] first, then
    /// [`ScramHash::Sha1`].
    fn scram_keys(&self, user: &str, hash: ScramHash) -> Option<StoredKeys>;

    /// Whether `authcid` may act as `authzid` (`None`: as itself). The default allows only
    /// acting as oneself.
    fn authorize(&self, authcid: &str, authzid: Option<&str>) -> bool {
        authzid.is_none_or(|z| z == authcid)
    }

    /// Verifies an OAuth 2.0 bearer token (OAUTHBEARER, XOAUTH2) sent for `user` (the user
    /// name the client claimed, if any). `Ok` holds the authenticated user name; `Err` holds
    /// the RFC 7628 §3.2.2 JSON error sent to the client in the error challenge. The default
    /// supports no tokens, and the mechanisms are then not offered
    /// ([`supports_oauth`](Self::supports_oauth)).
    fn verify_token(&self, user: Option<&str>, token: &Secret<String>) -> Result<String, String> {
        let _ = (user, token);
        Err(r#"{"status":"invalid_token"}"#.to_owned())
    }

    /// Whether [`verify_token`](Self::verify_token) is implemented (OAUTHBEARER and XOAUTH2
    /// are offered then).
    fn supports_oauth(&self) -> bool {
        false
    }
}

/// How synchronizing literals are decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LiteralDecisions {
    /// By the configured policy: a literal up to [`ServerConfig::max_literal`] (for APPEND:
    /// up to [`ServerConfig::append_limit`] when set) is accepted, a larger one refused with
    /// `NO [TOOBIG]`.
    #[default]
    Policy,
    /// By the application: every synchronizing literal is reported as
    /// [`Event::LiteralAnnounced`](super::Event::LiteralAnnounced) and nothing more is read
    /// until [`Server::accept_literal`](super::Server::accept_literal) or
    /// [`Server::reject_literal`](super::Server::reject_literal).
    Application,
}

/// What the server sends as its greeting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum GreetingPolicy {
    /// `* OK [CAPABILITY ...] ...`: the client must authenticate.
    #[default]
    Ok,
    /// `* PREAUTH [CAPABILITY ...] ...`: the connection is already authenticated as this user
    /// (e.g. by the transport).
    PreAuth(String),
    /// `* BYE ...`: the server refuses the connection with this text.
    Bye(String),
}

/// The non-literal extension `LITERAL+` or `LITERAL-` (RFC 7888) the server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NonSyncLiterals {
    /// Neither: every literal is synchronizing.
    None,
    /// `LITERAL+`: non-synchronizing literals up to [`ServerConfig::max_literal`].
    Plus,
    /// `LITERAL-`: non-synchronizing literals up to 4096 octets; a larger one is answered
    /// with `BAD [TOOBIG]` without buffering it (RFC 7888 §4).
    #[default]
    Minus,
}

/// The settings of one [`Server`](super::Server) connection.
#[derive(Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The greeting.
    pub greeting: GreetingPolicy,
    /// The human text of the greeting.
    pub greeting_text: String,
    /// The connection is encrypted from the start (implicit TLS, RFC 8314).
    pub encrypted: bool,
    /// Offer STARTTLS while the connection is not encrypted (the application must then be
    /// able to upgrade the transport).
    pub starttls: bool,
    /// Allow LOGIN, AUTH=PLAIN and AUTH=LOGIN over an unencrypted connection. Off by default:
    /// such connections advertise `LOGINDISABLED` and no password mechanisms (RFC 9051 §6.2.3).
    pub allow_plaintext_auth: bool,
    /// Capabilities advertised in every state besides IMAP4rev2/IMAP4rev1, the AUTH= list,
    /// STARTTLS, LOGINDISABLED, LITERAL+/- and APPENDLIMIT, which the server derives.
    pub extensions: Vec<Capability>,
    /// LITERAL+ or LITERAL-.
    pub non_sync_literals: NonSyncLiterals,
    /// The user credentials. Without a store, every authentication fails.
    pub credentials: Option<Arc<dyn CredentialStore>>,
    /// Who decides on synchronizing literals.
    pub literal_decisions: LiteralDecisions,
    /// The largest literal accepted (octets).
    pub max_literal: u64,
    /// The largest message APPEND accepts (octets; advertised as `APPENDLIMIT=n`). Capped at
    /// [`max_literal`](Self::max_literal): what is advertised and enforced is the smaller.
    pub append_limit: Option<u64>,
    /// Framing limits for commands (line length, message size, literals per command). Their
    /// `max_literal` is raised to [`max_literal`](Self::max_literal) and their `max_message`
    /// to `max_literal` plus [`input_window`](Self::input_window), so that they never refuse
    /// an APPEND message the limits above allow (it is streamed, not held); `max_line` is
    /// lowered to fit the input window.
    pub limits: Limits,
    /// How many input bytes the server holds unprocessed while it waits (for the
    /// application, or for the client to read its output) before
    /// [`Server::handle_input`](super::Server::handle_input) accepts no more.
    pub input_window: usize,
    /// APPEND data queued in [`Event::AppendChunk`](super::Event::AppendChunk)s the
    /// application has not taken yet, at most (octets): once it is reached the session
    /// processes no more input until [`Server::poll_event`](super::Server::poll_event) has
    /// taken some (a streamed message's data is cut to fit; the rest waits in the input
    /// window). Back-pressure for an application that stores slower than the client sends.
    /// At least 1.
    pub event_window: usize,
    /// Output bytes queued beyond which the server stops processing commands, and stops
    /// asking for the data of a streamed FETCH literal
    /// ([`Event::BodyWanted`](super::Event::BodyWanted)), until the caller has taken output
    /// with [`Server::poll_transmit`](super::Server::poll_transmit). Output taken while more
    /// than this is queued (the caller asks for the next bytes once it wrote the last) counts
    /// as the client's activity: it re-arms the autologout timer, like each streamed chunk.
    pub max_output: usize,
    /// The most octets of a streamed FETCH literal one
    /// [`Event::BodyWanted`](super::Event::BodyWanted) asks for. At least 1.
    pub body_chunk: usize,
    /// Failed authentication attempts (LOGIN or AUTHENTICATE) after which the server says BYE.
    pub max_auth_failures: u32,
    /// Autologout before authentication.
    pub autologout_unauthenticated: Duration,
    /// Autologout once authenticated; values under 30 minutes are raised to 30 minutes
    /// (RFC 9051 §5.4).
    pub autologout: Duration,
    /// The longest time an IDLE is held before the server ends the connection.
    pub idle_hold: Duration,
    /// Iterations of the made-up SCRAM keys used for unknown users (match the real ones).
    pub scram_unknown_iterations: u32,
    /// Most unilateral updates queued for a session before it is ended with BYE.
    pub max_pending_updates: usize,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("greeting", &self.greeting)
            .field("encrypted", &self.encrypted)
            .field("starttls", &self.starttls)
            .field("allow_plaintext_auth", &self.allow_plaintext_auth)
            .field("extensions", &self.extensions)
            .field("non_sync_literals", &self.non_sync_literals)
            .field("credentials", &self.credentials.is_some())
            .field("literal_decisions", &self.literal_decisions)
            .field("max_literal", &self.max_literal)
            .field("append_limit", &self.append_limit)
            .finish_non_exhaustive()
    }
}

/// At least this long once authenticated (RFC 9051 §5.4).
pub const MIN_AUTOLOGOUT: Duration = Duration::from_secs(30 * 60);

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            greeting: GreetingPolicy::Ok,
            greeting_text: "IMAP server ready".to_owned(),
            encrypted: false,
            starttls: false,
            allow_plaintext_auth: false,
            extensions: vec![
                Capability::Idle,
                Capability::Enable,
                Capability::SaslIr,
                Capability::Id,
                Capability::Namespace,
                Capability::UidPlus,
                Capability::Move,
                Capability::Unselect,
                Capability::CondStore,
            ],
            non_sync_literals: NonSyncLiterals::Minus,
            credentials: None,
            literal_decisions: LiteralDecisions::Policy,
            max_literal: 32 * 1024 * 1024,
            append_limit: None,
            limits: Limits::default(),
            input_window: 64 * 1024,
            event_window: 64 * 1024,
            max_output: 1024 * 1024,
            body_chunk: 64 * 1024,
            max_auth_failures: 3,
            autologout_unauthenticated: Duration::from_secs(120),
            autologout: MIN_AUTOLOGOUT,
            idle_hold: Duration::from_secs(30 * 60),
            scram_unknown_iterations: 4096,
            max_pending_updates: 100_000,
        }
    }
}

impl ServerConfig {
    /// Declares the connection encrypted from the start (implicit TLS).
    pub fn with_encrypted(mut self, yes: bool) -> Self {
        self.encrypted = yes;
        self
    }

    /// Offers STARTTLS on an unencrypted connection.
    pub fn with_starttls(mut self, yes: bool) -> Self {
        self.starttls = yes;
        self
    }

    /// Allows password authentication without encryption.
    pub fn with_plaintext_auth(mut self, yes: bool) -> Self {
        self.allow_plaintext_auth = yes;
        self
    }

    /// Sets the credential store.
    pub fn with_credentials(mut self, store: Arc<dyn CredentialStore>) -> Self {
        self.credentials = Some(store);
        self
    }

    /// Sets who decides on synchronizing literals.
    pub fn with_literal_decisions(mut self, d: LiteralDecisions) -> Self {
        self.literal_decisions = d;
        self
    }

    /// Sets the greeting.
    pub fn with_greeting(mut self, g: GreetingPolicy) -> Self {
        self.greeting = g;
        self
    }

    /// Sets the largest literal accepted.
    pub fn with_max_literal(mut self, n: u64) -> Self {
        self.max_literal = n;
        self
    }

    /// Sets APPENDLIMIT.
    pub fn with_append_limit(mut self, n: Option<u64>) -> Self {
        self.append_limit = n;
        self
    }

    /// Sets LITERAL+ / LITERAL- / neither.
    pub fn with_non_sync_literals(mut self, n: NonSyncLiterals) -> Self {
        self.non_sync_literals = n;
        self
    }

    /// Sets the autologout durations (before and after authentication).
    pub fn with_autologout(mut self, unauthenticated: Duration, authenticated: Duration) -> Self {
        self.autologout_unauthenticated = unauthenticated;
        self.autologout = authenticated;
        self
    }

    /// Sets the IDLE hold limit.
    pub fn with_idle_hold(mut self, d: Duration) -> Self {
        self.idle_hold = d;
        self
    }

    /// Sets the bound on queued APPEND data ([`event_window`](Self::event_window)).
    pub fn with_event_window(mut self, n: usize) -> Self {
        self.event_window = n.max(1);
        self
    }

    /// Sets [`body_chunk`](Self::body_chunk).
    pub fn with_body_chunk(mut self, n: usize) -> Self {
        self.body_chunk = n.max(1);
        self
    }

    /// Sets the output bound.
    pub fn with_max_output(mut self, n: usize) -> Self {
        self.max_output = n;
        self
    }

    /// Sets the failed-authentication limit.
    pub fn with_max_auth_failures(mut self, n: u32) -> Self {
        self.max_auth_failures = n;
        self
    }

    /// Sets the extension capabilities advertised (see [`ServerConfig::extensions`]).
    pub fn with_extensions(mut self, caps: Vec<Capability>) -> Self {
        self.extensions = caps;
        self
    }

    /// Sets the iterations of made-up SCRAM keys for unknown users.
    pub fn with_scram_unknown_iterations(mut self, n: u32) -> Self {
        self.scram_unknown_iterations = n.max(1);
        self
    }
}
