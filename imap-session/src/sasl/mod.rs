//! SASL mechanisms for AUTHENTICATE (RFC 9051 §6.2.2, RFC 4422) as sans-IO step machines,
//! client and server side.
//!
//! Everything here works on *decoded* bytes: the session base64-decodes each server
//! challenge (`+ <base64>`) before handing it to [`ClientMechanism::step`], and base64-encodes
//! each response before sending it (an empty response is sent as an empty line, or as `=` when
//! it is the initial response of AUTHENTICATE with SASL-IR, RFC 4959).
//!
//! # Client side
//!
//! | mechanism | type | notes |
//! | --- | --- | --- |
//! | PLAIN (RFC 4616) | [`plain::PlainClient`] | password in the clear: TLS only |
//! | LOGIN (draft-murchison-sasl-login) | [`login::LoginClient`] | legacy, password in the clear |
//! | XOAUTH2 (Google, Microsoft) | [`oauth::XOAuth2Client`] | bearer token |
//! | OAUTHBEARER (RFC 7628) | [`oauth::OAuthBearerClient`] | bearer token; typed error status |
//! | SCRAM-SHA-1, SCRAM-SHA-256 (RFC 5802, RFC 7677) | [`scram::ScramClient`] | password never sent; server authenticated |
//! | SCRAM-SHA-1-PLUS, SCRAM-SHA-256-PLUS | [`scram::ScramClient::with_channel_binding`] | bound to the TLS channel |
//! | CRAM-MD5 (RFC 2195) | [`cram_md5::CramMd5Client`] | **weak**: only when asked for explicitly |
//!
//! Every client mechanism implements [`ClientMechanism`]. The calling contract:
//!
//! 1. If the server advertises SASL-IR, call [`ClientMechanism::initial_response`] and send
//!    `AUTHENTICATE <name> <base64 or "=">` (`None` means: send no initial response).
//!    Otherwise send `AUTHENTICATE <name>`; a client-first mechanism then answers the first
//!    (empty) challenge with its initial response from [`ClientMechanism::step`].
//! 2. For each `+ <challenge>`: call [`ClientMechanism::step`] and send its response. On
//!    `Err`, cancel the exchange by sending `*` (the server answers with a tagged BAD or NO).
//! 3. On the tagged completion, call [`ClientMechanism::finish`] with whether it was OK. It
//!    returns `Err` when the server said NO/BAD (with the server's reason where the mechanism
//!    carries one, e.g. [`oauth::OAuthError`]), and also when the server said OK but the
//!    mechanism could not authenticate the *server* (SCRAM without a valid `v=`): the caller
//!    must then treat the connection as untrusted and close it.
//!
//! [`choose`] picks the strongest offered mechanism the credentials allow, and
//! [`new_client_for`] (or [`new_client`], which does not know what the server offered) builds
//! its step machine from [`Credentials`].
//!
//! # The SCRAM GS2 channel-binding flag
//!
//! Every SCRAM exchange starts with a flag (RFC 5802 §7 `gs2-cbind-flag`): `p=<type>` (the
//! client binds to the channel: the `-PLUS` mechanisms), `n` (the client does not support
//! channel binding) or `y` (the client supports it but thinks the server does not). §6 makes a
//! server that supports channel binding fail a `y` exchange, since the client then must have
//! been kept from seeing `-PLUS` (a downgrade), and forbids `n` to a client that supports
//! binding and did not see `-PLUS`. The client here "supports channel binding" on a connection
//! exactly when the caller supplied binding data ([`Credentials::channel_binding`]: the TLS
//! layer knows it). A plain SCRAM mechanism built by [`new_client_for`] then sends:
//!
//! | binding data | server offers a `-PLUS` mechanism | flag | why |
//! | --- | --- | --- | --- |
//! | none (no TLS, or the adapter has none) | any | `n` | the client cannot bind |
//! | yes | no | `y` | §6: must not be `n`; a server that does support binding, with `-PLUS` stripped from its capabilities by an attacker, detects the downgrade |
//! | yes | yes, but not used (the [server profile](crate::profile) says no type both sides know exists, e.g. Cyrus up to 3.12 over TLS 1.3; or the caller named the plain mechanism) | `n` | see below |
//!
//! The last row departs from §6, which wants `p=` whenever `-PLUS` is offered. `y` would be
//! false there (the client saw `-PLUS` and does not think the server lacks binding) and the
//! server would, rightly, fail the exchange as a downgrade (Cyrus does). `p=` with a type the
//! server cannot verify fails after the whole exchange. What is true is that no channel
//! binding this client can produce is usable with this server on this connection: for the
//! exchange, the client does not support channel binding, which is what `n` says. The server
//! is still authenticated by SCRAM's signature (`v=`) and the channel by the TLS certificate
//! verification. "Offers a `-PLUS` mechanism" means any of them (SCRAM-SHA-1-PLUS or
//! SCRAM-SHA-256-PLUS), not only the `-PLUS` form of the chosen hash: a server that
//! verifies binding for one SCRAM hash verifies it for the other, so `y` would be taken for a
//! downgrade there too.
//!
//! # Server side
//!
//! [`plain::parse_plain`], [`login::LoginServer`] and [`scram::ScramServer`] (which verifies a
//! client against [`scram::StoredKeys`], without the plaintext password).
//!
//! # Secrets
//!
//! Passwords, tokens, derived keys and every message that contains them are wrapped in
//! [`Secret`], whose `Debug` prints `[redacted]`. They are not zeroized.

use std::fmt;

use bytes::Bytes;
pub use imapwire_codec::core::Secret;

pub mod cram_md5;
pub mod login;
pub mod oauth;
pub mod plain;
pub mod scram;

/// A SASL mechanism this module implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mechanism {
    /// `PLAIN` (RFC 4616).
    Plain,
    /// `LOGIN` (legacy).
    Login,
    /// `XOAUTH2` (Google/Microsoft).
    XOAuth2,
    /// `OAUTHBEARER` (RFC 7628).
    OAuthBearer,
    /// `SCRAM-SHA-1` (RFC 5802).
    ScramSha1,
    /// `SCRAM-SHA-1-PLUS` (RFC 5802, with channel binding).
    ScramSha1Plus,
    /// `SCRAM-SHA-256` (RFC 7677).
    ScramSha256,
    /// `SCRAM-SHA-256-PLUS` (RFC 7677, with channel binding).
    ScramSha256Plus,
    /// `CRAM-MD5` (RFC 2195). Weak (MD5, server stores the password); never chosen
    /// automatically.
    CramMd5,
}

impl Mechanism {
    /// Every mechanism.
    pub const ALL: [Mechanism; 9] = [
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::XOAuth2,
        Mechanism::OAuthBearer,
        Mechanism::ScramSha1,
        Mechanism::ScramSha1Plus,
        Mechanism::ScramSha256,
        Mechanism::ScramSha256Plus,
        Mechanism::CramMd5,
    ];

    /// The registered name, as in `AUTH=<name>` and `AUTHENTICATE <name>`.
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::ScramSha1 => "SCRAM-SHA-1",
            Mechanism::ScramSha1Plus => "SCRAM-SHA-1-PLUS",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha256Plus => "SCRAM-SHA-256-PLUS",
            Mechanism::CramMd5 => "CRAM-MD5",
        }
    }

    /// The mechanism with this name (case-insensitive), if it is one of ours.
    pub fn from_name(name: &str) -> Option<Mechanism> {
        Self::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The mechanism named by a codec capability `AUTH=<name>`.
    pub fn from_auth(m: &imapwire_codec::capability::AuthMechanism) -> Option<Mechanism> {
        use imapwire_codec::capability::AuthMechanism as A;
        Some(match m {
            A::Plain => Mechanism::Plain,
            A::Login => Mechanism::Login,
            A::XOAuth2 => Mechanism::XOAuth2,
            A::OAuthBearer => Mechanism::OAuthBearer,
            A::ScramSha1 => Mechanism::ScramSha1,
            A::ScramSha1Plus => Mechanism::ScramSha1Plus,
            A::ScramSha256 => Mechanism::ScramSha256,
            A::ScramSha256Plus => Mechanism::ScramSha256Plus,
            A::CramMd5 => Mechanism::CramMd5,
            A::Other(a) => return Self::from_name(a.as_str()),
            _ => return None,
        })
    }

    /// Whether the mechanism sends a replayable secret (a password or a bearer token) that a
    /// passive eavesdropper could reuse: PLAIN, LOGIN, XOAUTH2, OAUTHBEARER.
    pub fn exposes_secret(&self) -> bool {
        matches!(
            self,
            Mechanism::Plain | Mechanism::Login | Mechanism::XOAuth2 | Mechanism::OAuthBearer
        )
    }

    /// Whether the client speaks first (has an initial response).
    pub fn client_first(&self) -> bool {
        !matches!(self, Mechanism::Login | Mechanism::CramMd5)
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What credentials the caller holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialKind {
    /// A user name and password.
    Password,
    /// A user name and an OAuth 2.0 access token.
    OAuthToken,
    /// Both.
    Both,
}

/// What the connection offers, for [`choose`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// Not encrypted.
    Cleartext,
    /// TLS, without channel-binding data available to the caller.
    Tls,
    /// TLS, and the caller can supply channel-binding data (`tls-exporter` or
    /// `tls-server-end-point`) for the `-PLUS` mechanisms.
    TlsWithChannelBinding,
}

/// The strongest mechanism among `offered` (names as in `AUTH=<name>`, any case) that the
/// credentials allow, or `None`.
///
/// Order for passwords: SCRAM-SHA-256-PLUS (only with [`Transport::TlsWithChannelBinding`]) >
/// SCRAM-SHA-256 > SCRAM-SHA-1-PLUS (with channel binding) > SCRAM-SHA-1 > PLAIN > LOGIN.
/// For tokens: OAUTHBEARER > XOAUTH2. With both kinds: the SCRAM family first (the password
/// never crosses the wire and the server is authenticated), then OAUTHBEARER, XOAUTH2 (a
/// scoped, expiring token is a smaller loss than a password), then PLAIN, LOGIN.
///
/// Mechanisms that send a replayable secret (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER; see
/// [`Mechanism::exposes_secret`]) are refused on [`Transport::Cleartext`] unless
/// `allow_plaintext_mechs` is set. CRAM-MD5 is never chosen: build a
/// [`cram_md5::CramMd5Client`] explicitly.
pub fn choose(
    offered: &[&str],
    credentials: CredentialKind,
    allow_plaintext_mechs: bool,
    transport: Transport,
) -> Option<Mechanism> {
    use Mechanism as M;
    const PASSWORD: &[Mechanism] = &[
        M::ScramSha256Plus,
        M::ScramSha256,
        M::ScramSha1Plus,
        M::ScramSha1,
        M::Plain,
        M::Login,
    ];
    const TOKEN: &[Mechanism] = &[M::OAuthBearer, M::XOAuth2];
    const BOTH: &[Mechanism] = &[
        M::ScramSha256Plus,
        M::ScramSha256,
        M::ScramSha1Plus,
        M::ScramSha1,
        M::OAuthBearer,
        M::XOAuth2,
        M::Plain,
        M::Login,
    ];
    let order = match credentials {
        CredentialKind::Password => PASSWORD,
        CredentialKind::OAuthToken => TOKEN,
        CredentialKind::Both => BOTH,
    };
    let binding = transport == Transport::TlsWithChannelBinding;
    let encrypted = transport != Transport::Cleartext;
    order.iter().copied().find(|m| {
        let is_plus = matches!(m, M::ScramSha256Plus | M::ScramSha1Plus);
        (!is_plus || binding)
            && (!m.exposes_secret() || encrypted || allow_plaintext_mechs)
            && offered
                .iter()
                .any(|o| o.trim().eq_ignore_ascii_case(m.name()))
    })
}

/// A client-side SASL mechanism as a step machine (see the module docs for the calling
/// contract).
pub trait ClientMechanism: Send {
    /// Which mechanism this is.
    fn mechanism(&self) -> Mechanism;

    /// The initial response for AUTHENTICATE with SASL-IR, or `None` for mechanisms where the
    /// server speaks first. Calling it moves a client-first mechanism past its first step.
    fn initial_response(&mut self) -> Result<Option<Secret<Bytes>>, SaslError>;

    /// The response to one decoded server challenge.
    fn step(&mut self, challenge: &[u8]) -> Result<Secret<Bytes>, SaslError>;

    /// The tagged completion arrived: `success` is true for OK. Returns `Ok` only when the
    /// exchange succeeded *and* the mechanism's own checks passed.
    fn finish(&mut self, success: bool) -> Result<(), SaslError>;
}

/// Everything a client may hold to authenticate, for [`new_client`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Credentials {
    /// The user name (authentication identity).
    pub user: String,
    /// The identity to act as, if different (PLAIN, SCRAM and OAUTHBEARER carry it).
    pub authzid: Option<String>,
    /// The password, for PLAIN, LOGIN, SCRAM and CRAM-MD5.
    pub password: Option<Secret<String>>,
    /// The OAuth 2.0 access token, for XOAUTH2 and OAUTHBEARER.
    pub token: Option<Secret<String>>,
    /// The server host name, sent by OAUTHBEARER.
    pub host: Option<String>,
    /// The server port, sent by OAUTHBEARER.
    pub port: Option<u16>,
    /// Channel-binding data, needed by the `-PLUS` mechanisms.
    pub channel_binding: Option<scram::ChannelBinding>,
}

impl Credentials {
    /// A user name and password.
    pub fn password(user: &str, password: Secret<String>) -> Self {
        Credentials {
            user: user.to_owned(),
            password: Some(password),
            ..Default::default()
        }
    }

    /// A user name and OAuth access token.
    pub fn token(user: &str, token: Secret<String>) -> Self {
        Credentials {
            user: user.to_owned(),
            token: Some(token),
            ..Default::default()
        }
    }

    /// What kind of credentials these are, for [`choose`]; `None` when there is neither a
    /// password nor a token.
    pub fn kind(&self) -> Option<CredentialKind> {
        match (self.password.is_some(), self.token.is_some()) {
            (true, true) => Some(CredentialKind::Both),
            (true, false) => Some(CredentialKind::Password),
            (false, true) => Some(CredentialKind::OAuthToken),
            (false, false) => None,
        }
    }
}

/// Whether `offered` (names as in `AUTH=<name>`, any case) includes a SCRAM `-PLUS`
/// mechanism, i.e. the server says it supports channel binding.
pub fn offers_channel_binding(offered: &[&str]) -> bool {
    offered.iter().any(|o| {
        matches!(
            Mechanism::from_name(o),
            Some(Mechanism::ScramSha1Plus | Mechanism::ScramSha256Plus)
        )
    })
}

/// The client step machine for `mechanism` with these credentials, for a server that
/// offers the mechanisms `offered` (names as in `AUTH=<name>`). Like [`new_client`], except
/// for the GS2 flag of plain SCRAM: `y` when the credentials carry channel-binding data and
/// the server offers no `-PLUS` mechanism, `n` otherwise (see the
/// [module docs](self#the-scram-gs2-channel-binding-flag)).
pub fn new_client_for(
    mechanism: Mechanism,
    credentials: &Credentials,
    offered: &[&str],
) -> Result<Box<dyn ClientMechanism>, SaslError> {
    let supports = credentials.channel_binding.is_some() && !offers_channel_binding(offered);
    build_client(mechanism, credentials, supports)
}

/// The client step machine for `mechanism` with these credentials (SCRAM with the default
/// nonce source and limits). Fails with [`SaslError::InvalidCredentials`] when the
/// credentials lack what the mechanism needs (a password, a token, channel-binding data).
///
/// Plain SCRAM gets the GS2 flag `n`: without knowing what the server offered, the client
/// cannot say `y` truthfully. When the mechanisms the server offered are known (they are
/// after the greeting or CAPABILITY), use [`new_client_for`].
pub fn new_client(
    mechanism: Mechanism,
    credentials: &Credentials,
) -> Result<Box<dyn ClientMechanism>, SaslError> {
    build_client(mechanism, credentials, false)
}

/// [`new_client`] with the GS2 flag `y` for plain SCRAM when `client_supports_binding`.
fn build_client(
    mechanism: Mechanism,
    credentials: &Credentials,
    client_supports_binding: bool,
) -> Result<Box<dyn ClientMechanism>, SaslError> {
    let missing = |reason| SaslError::InvalidCredentials { mechanism, reason };
    let password = || credentials.password.as_ref().ok_or(missing("no password"));
    let token = || credentials.token.as_ref().ok_or(missing("no OAuth token"));
    let user = credentials.user.as_str();
    let authzid = credentials.authzid.as_deref().unwrap_or("");
    let scram = |hash, plus: bool| -> Result<Box<dyn ClientMechanism>, SaslError> {
        let c = scram::ScramClient::new(hash, user, password()?)?.with_authzid(authzid);
        if plus {
            let cb = credentials
                .channel_binding
                .clone()
                .ok_or(missing("no channel-binding data"))?;
            Ok(Box::new(c.with_channel_binding(cb)))
        } else {
            Ok(Box::new(c.with_client_supports_channel_binding(
                client_supports_binding,
            )))
        }
    };
    Ok(match mechanism {
        Mechanism::Plain => Box::new(plain::PlainClient::with_authzid(
            authzid,
            user,
            password()?,
        )?),
        Mechanism::Login => Box::new(login::LoginClient::new(user, password()?)?),
        Mechanism::XOAuth2 => Box::new(oauth::XOAuth2Client::new(user, token()?)?),
        Mechanism::OAuthBearer => Box::new(oauth::OAuthBearerClient::new(
            if authzid.is_empty() { user } else { authzid },
            token()?,
            credentials.host.as_deref(),
            credentials.port,
        )?),
        Mechanism::ScramSha1 => scram(scram::ScramHash::Sha1, false)?,
        Mechanism::ScramSha1Plus => scram(scram::ScramHash::Sha1, true)?,
        Mechanism::ScramSha256 => scram(scram::ScramHash::Sha256, false)?,
        Mechanism::ScramSha256Plus => scram(scram::ScramHash::Sha256, true)?,
        Mechanism::CramMd5 => Box::new(cram_md5::CramMd5Client::new(user, password()?)?),
    })
}

/// The error `e=` a SCRAM server sent (RFC 5802 §7 `server-error-value`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScramServerError {
    /// `invalid-encoding`
    InvalidEncoding,
    /// `extensions-not-supported`
    ExtensionsNotSupported,
    /// `invalid-proof`
    InvalidProof,
    /// `channel-bindings-dont-match`
    ChannelBindingsDontMatch,
    /// `server-does-support-channel-binding`
    ServerDoesSupportChannelBinding,
    /// `channel-binding-not-supported`
    ChannelBindingNotSupported,
    /// `unsupported-channel-binding-type`
    UnsupportedChannelBindingType,
    /// `unknown-user`
    UnknownUser,
    /// `invalid-username-encoding`
    InvalidUsernameEncoding,
    /// `no-resources`
    NoResources,
    /// `other-error`
    OtherError,
    /// Any other value (RFC 5802 allows extensions; unknown values mean `other-error`).
    Other(String),
}

impl ScramServerError {
    /// From the value after `e=`.
    pub fn from_value(v: &str) -> Self {
        use ScramServerError as E;
        match v {
            "invalid-encoding" => E::InvalidEncoding,
            "extensions-not-supported" => E::ExtensionsNotSupported,
            "invalid-proof" => E::InvalidProof,
            "channel-bindings-dont-match" => E::ChannelBindingsDontMatch,
            "server-does-support-channel-binding" => E::ServerDoesSupportChannelBinding,
            "channel-binding-not-supported" => E::ChannelBindingNotSupported,
            "unsupported-channel-binding-type" => E::UnsupportedChannelBindingType,
            "unknown-user" => E::UnknownUser,
            "invalid-username-encoding" => E::InvalidUsernameEncoding,
            "no-resources" => E::NoResources,
            "other-error" => E::OtherError,
            other => E::Other(other.to_owned()),
        }
    }

    /// The value as sent after `e=`.
    pub fn value(&self) -> &str {
        use ScramServerError as E;
        match self {
            E::InvalidEncoding => "invalid-encoding",
            E::ExtensionsNotSupported => "extensions-not-supported",
            E::InvalidProof => "invalid-proof",
            E::ChannelBindingsDontMatch => "channel-bindings-dont-match",
            E::ServerDoesSupportChannelBinding => "server-does-support-channel-binding",
            E::ChannelBindingNotSupported => "channel-binding-not-supported",
            E::UnsupportedChannelBindingType => "unsupported-channel-binding-type",
            E::UnknownUser => "unknown-user",
            E::InvalidUsernameEncoding => "invalid-username-encoding",
            E::NoResources => "no-resources",
            E::OtherError => "other-error",
            E::Other(s) => s,
        }
    }
}

impl fmt::Display for ScramServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.value())
    }
}

/// Why a SASL exchange failed. Sorted by whose fault it is, as in rustls: bad bytes from the
/// peer, legal bytes but a refusal or misbehaviour of the peer, and the caller's input or
/// misuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaslError {
    // --- bad bytes from the peer ---
    /// A challenge (or, server side, a response) does not follow the mechanism's syntax.
    #[error("{mechanism}: malformed message: expected {expected}")]
    Malformed {
        /// The mechanism.
        mechanism: Mechanism,
        /// What was expected, e.g. `"r=<nonce> in server-first-message"`.
        expected: &'static str,
    },
    /// A challenge arrived when the mechanism expected none (the exchange is over, or a
    /// client-first mechanism got a non-empty first challenge).
    #[error("{mechanism}: unexpected challenge {state}")]
    UnexpectedChallenge {
        /// The mechanism.
        mechanism: Mechanism,
        /// Where in the exchange it arrived.
        state: &'static str,
    },

    // --- the peer refused or misbehaved ---
    /// The server completed AUTHENTICATE with NO or BAD.
    #[error("{mechanism}: the server rejected the authentication")]
    Rejected {
        /// The mechanism.
        mechanism: Mechanism,
    },
    /// The server rejected an OAuth token and said why (XOAUTH2 and OAUTHBEARER error
    /// challenge). The caller may refresh its token and try again.
    #[error("{mechanism}: token rejected: {error}")]
    OAuth {
        /// The mechanism.
        mechanism: Mechanism,
        /// The server's JSON error.
        error: Box<oauth::OAuthError>,
    },
    /// The SCRAM server sent `e=<error>`.
    #[error("SCRAM server error: {0}")]
    ScramServer(ScramServerError),
    /// The SCRAM server's signature `v=` does not match: the server does not know the
    /// password (or a man in the middle). Fatal even if the server then says OK.
    #[error("SCRAM server signature does not match: the server is not authenticated")]
    ServerSignatureMismatch,
    /// The server said OK before proving its identity with `v=` (SCRAM). Fatal.
    #[error("{mechanism}: the server completed without proving its identity")]
    ServerNotAuthenticated {
        /// The mechanism.
        mechanism: Mechanism,
    },
    /// The SCRAM server nonce does not start with the client nonce.
    #[error("SCRAM server nonce does not extend the client nonce")]
    NonceMismatch,
    /// The SCRAM iteration count is below the configured minimum (RFC 5802 §5.1: at least
    /// 4096 is recommended).
    #[error("SCRAM iteration count {got} is below the minimum {min}")]
    IterationsTooLow {
        /// What the server asked for.
        got: u32,
        /// The configured minimum.
        min: u32,
    },
    /// The SCRAM iteration count is above the configured maximum (a denial-of-service guard).
    #[error("SCRAM iteration count {got} is above the maximum {max}")]
    IterationsTooHigh {
        /// What the server asked for.
        got: u32,
        /// The configured maximum.
        max: u32,
    },
    /// The server asked for a mandatory extension (`m=`) this implementation does not know.
    #[error("SCRAM mandatory extension not supported")]
    UnsupportedExtension,
    /// Server side: the client's channel-binding data or flag does not match this channel.
    #[error("SCRAM channel binding does not match: {0}")]
    ChannelBinding(&'static str),
    /// Server side: the client's SCRAM proof is wrong (wrong password).
    #[error("SCRAM client proof does not match")]
    InvalidProof,

    // --- the caller's input or misuse ---
    /// A user name, password or token cannot be used with this mechanism (it contains a
    /// forbidden character, is empty where it must not be, or fails SASLprep).
    #[error("{mechanism}: unusable credentials: {reason}")]
    InvalidCredentials {
        /// The mechanism.
        mechanism: Mechanism,
        /// What is wrong (never the secret itself).
        reason: &'static str,
    },
    /// The random source failed.
    #[error("random source failed: {0}")]
    Random(String),
    /// The API was called out of order (e.g. `step` after `finish`).
    #[error("{mechanism}: API misuse: {what}")]
    Misuse {
        /// The mechanism.
        mechanism: Mechanism,
        /// What was wrong.
        what: &'static str,
    },
}

/// The shared "client speaks first" bookkeeping: the initial response is produced once, either
/// through `initial_response` or as the answer to an empty first challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstStep {
    Pending,
    Sent,
}

impl FirstStep {
    /// Whether this challenge should be answered with the initial response; errors for a
    /// non-empty first challenge.
    fn take(&mut self, mechanism: Mechanism, challenge: &[u8]) -> Result<bool, SaslError> {
        match self {
            FirstStep::Pending if challenge.is_empty() => {
                *self = FirstStep::Sent;
                Ok(true)
            }
            FirstStep::Pending => Err(SaslError::UnexpectedChallenge {
                mechanism,
                state: "before the initial response",
            }),
            FirstStep::Sent => Ok(false),
        }
    }
}

/// The default finish for mechanisms without server authentication.
fn plain_finish(mechanism: Mechanism, success: bool) -> Result<(), SaslError> {
    if success {
        Ok(())
    } else {
        Err(SaslError::Rejected { mechanism })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in Mechanism::ALL {
            assert_eq!(Mechanism::from_name(m.name()), Some(m));
            assert_eq!(Mechanism::from_name(&m.name().to_lowercase()), Some(m));
        }
        assert_eq!(Mechanism::from_name("GSSAPI"), None);
    }

    #[test]
    fn from_codec_capability() {
        use imapwire_codec::capability::AuthMechanism as A;
        assert_eq!(
            Mechanism::from_auth(&A::ScramSha256Plus),
            Some(Mechanism::ScramSha256Plus)
        );
        assert_eq!(Mechanism::from_auth(&A::Gssapi), None);
    }

    const ALL_OFFERED: &[&str] = &[
        "PLAIN",
        "LOGIN",
        "XOAUTH2",
        "OAUTHBEARER",
        "SCRAM-SHA-1",
        "SCRAM-SHA-256",
        "SCRAM-SHA-256-PLUS",
        "CRAM-MD5",
    ];

    #[test]
    fn choose_password_order() {
        use CredentialKind::Password as P;
        let c = |offered: &[&str], t| choose(offered, P, false, t);
        assert_eq!(
            c(ALL_OFFERED, Transport::TlsWithChannelBinding),
            Some(Mechanism::ScramSha256Plus)
        );
        assert_eq!(c(ALL_OFFERED, Transport::Tls), Some(Mechanism::ScramSha256));
        assert_eq!(
            c(&["scram-sha-1", "plain"], Transport::Tls),
            Some(Mechanism::ScramSha1)
        );
        assert_eq!(
            c(
                &["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"],
                Transport::TlsWithChannelBinding
            ),
            Some(Mechanism::ScramSha1Plus)
        );
        assert_eq!(
            c(&["LOGIN", "PLAIN"], Transport::Tls),
            Some(Mechanism::Plain)
        );
        assert_eq!(c(&["LOGIN"], Transport::Tls), Some(Mechanism::Login));
        // -PLUS needs channel-binding data.
        assert_eq!(c(&["SCRAM-SHA-256-PLUS"], Transport::Tls), None);
    }

    #[test]
    fn choose_refuses_plaintext_mechs_on_cleartext_unless_opted_in() {
        use CredentialKind::*;
        assert_eq!(
            choose(&["PLAIN", "LOGIN"], Password, false, Transport::Cleartext),
            None
        );
        assert_eq!(
            choose(&["PLAIN", "LOGIN"], Password, true, Transport::Cleartext),
            Some(Mechanism::Plain)
        );
        // SCRAM does not expose the password: allowed in cleartext.
        assert_eq!(
            choose(
                &["PLAIN", "SCRAM-SHA-1"],
                Password,
                false,
                Transport::Cleartext
            ),
            Some(Mechanism::ScramSha1)
        );
        // Bearer tokens are replayable too.
        assert_eq!(
            choose(&["XOAUTH2"], OAuthToken, false, Transport::Cleartext),
            None
        );
        assert_eq!(
            choose(&["XOAUTH2"], OAuthToken, true, Transport::Cleartext),
            Some(Mechanism::XOAuth2)
        );
    }

    #[test]
    fn choose_tokens_and_both() {
        use CredentialKind::*;
        assert_eq!(
            choose(ALL_OFFERED, OAuthToken, false, Transport::Tls),
            Some(Mechanism::OAuthBearer)
        );
        assert_eq!(
            choose(&["XOAUTH2", "PLAIN"], OAuthToken, false, Transport::Tls),
            Some(Mechanism::XOAuth2)
        );
        // A token cannot be used with password mechanisms.
        assert_eq!(
            choose(
                &["PLAIN", "SCRAM-SHA-256"],
                OAuthToken,
                false,
                Transport::Tls
            ),
            None
        );
        // A password cannot be used with token mechanisms.
        assert_eq!(
            choose(&["XOAUTH2", "OAUTHBEARER"], Password, false, Transport::Tls),
            None
        );
        assert_eq!(
            choose(ALL_OFFERED, Both, false, Transport::Tls),
            Some(Mechanism::ScramSha256)
        );
        assert_eq!(
            choose(&["PLAIN", "XOAUTH2"], Both, false, Transport::Tls),
            Some(Mechanism::XOAuth2)
        );
    }

    #[test]
    fn cram_md5_is_never_automatic() {
        use CredentialKind::*;
        for t in [
            Transport::Cleartext,
            Transport::Tls,
            Transport::TlsWithChannelBinding,
        ] {
            for c in [Password, Both] {
                assert_eq!(choose(&["CRAM-MD5"], c, true, t), None);
            }
        }
        assert_eq!(choose(&[], Both, true, Transport::Tls), None);
    }

    #[test]
    fn scram_error_values_round_trip() {
        for v in [
            "invalid-encoding",
            "extensions-not-supported",
            "invalid-proof",
            "channel-bindings-dont-match",
            "server-does-support-channel-binding",
            "channel-binding-not-supported",
            "unsupported-channel-binding-type",
            "unknown-user",
            "invalid-username-encoding",
            "no-resources",
            "other-error",
            "x-new-error",
        ] {
            assert_eq!(ScramServerError::from_value(v).value(), v);
        }
        assert_eq!(
            ScramServerError::from_value("x-new-error"),
            ScramServerError::Other("x-new-error".into())
        );
    }

    #[test]
    fn new_client_builds_each_mechanism_from_credentials() {
        let mut both = Credentials::password("user", Secret::new("pencil".into()));
        both.token = Some(Secret::new("tok".into()));
        assert_eq!(both.kind(), Some(CredentialKind::Both));
        assert_eq!(Credentials::default().kind(), None);
        for m in Mechanism::ALL {
            let r = new_client(m, &both);
            let plus = matches!(m, Mechanism::ScramSha1Plus | Mechanism::ScramSha256Plus);
            match r {
                Ok(c) => {
                    assert!(!plus, "{m} without channel binding");
                    assert_eq!(c.mechanism(), m);
                }
                Err(e) => assert!(
                    plus && matches!(e, SaslError::InvalidCredentials { .. }),
                    "{m}: {e:?}"
                ),
            }
        }
        let mut with_cb = both.clone();
        with_cb.channel_binding = Some(scram::ChannelBinding {
            kind: scram::ChannelBindingType::TlsExporter,
            data: Bytes::from_static(&[7; 32]),
        });
        let c = new_client(Mechanism::ScramSha256Plus, &with_cb).unwrap();
        assert_eq!(c.mechanism(), Mechanism::ScramSha256Plus);

        let pw_only = Credentials::password("user", Secret::new("pencil".into()));
        assert!(matches!(
            new_client(Mechanism::XOAuth2, &pw_only),
            Err(SaslError::InvalidCredentials {
                reason: "no OAuth token",
                ..
            })
        ));
        let tok_only = Credentials::token("user", Secret::new("t".into()));
        assert!(matches!(
            new_client(Mechanism::Plain, &tok_only),
            Err(SaslError::InvalidCredentials {
                reason: "no password",
                ..
            })
        ));
    }

    /// The GS2 flag of each SCRAM mechanism `new_client_for` builds, per binding data and
    /// offer (the table in the module docs).
    #[test]
    fn gs2_flag_follows_binding_data_and_offer() {
        let pw = Credentials::password("user", Secret::new("pencil".into()));
        let mut cb = pw.clone();
        cb.channel_binding = Some(scram::ChannelBinding {
            kind: scram::ChannelBindingType::TlsExporter,
            data: Bytes::from_static(&[7; 32]),
        });
        let first = |m, creds: &Credentials, offered: &[&str]| {
            let mut c = new_client_for(m, creds, offered).unwrap();
            let ir = c.initial_response().unwrap().unwrap();
            let ir = String::from_utf8(ir.expose().to_vec()).unwrap();
            ir.split(",n=").next().unwrap().to_owned()
        };
        use Mechanism::{ScramSha1, ScramSha256, ScramSha256Plus};
        let plain_only: &[&str] = &["PLAIN", "SCRAM-SHA-1", "scram-sha-256"];
        let with_plus: &[&str] = &["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"];
        let sha1_plus: &[&str] = &["SCRAM-SHA-256", " scram-sha-1-plus "];
        for m in [ScramSha1, ScramSha256] {
            // No binding data: `n` whatever the server offers.
            assert_eq!(first(m, &pw, plain_only), "n,");
            assert_eq!(first(m, &pw, with_plus), "n,");
            // Binding data, no -PLUS offered: `y`.
            assert_eq!(first(m, &cb, plain_only), "y,");
            assert_eq!(first(m, &cb, &[]), "y,");
            // Binding data, -PLUS offered but not used: `n`, never `y`.
            assert_eq!(first(m, &cb, with_plus), "n,");
            assert_eq!(first(m, &cb, sha1_plus), "n,");
            // Without the offer, `new_client` cannot say `y`.
            let ir = new_client(m, &cb)
                .unwrap()
                .initial_response()
                .unwrap()
                .unwrap();
            assert!(ir.expose().starts_with(b"n,,"));
        }
        assert_eq!(first(ScramSha256Plus, &cb, with_plus), "p=tls-exporter,");
        assert_eq!(first(ScramSha256Plus, &cb, plain_only), "p=tls-exporter,");
        assert!(offers_channel_binding(sha1_plus));
        assert!(!offers_channel_binding(plain_only));
    }

    #[test]
    fn chooser_and_factory_agree() {
        let creds = Credentials::password("user", Secret::new("pencil".into()));
        let m = choose(ALL_OFFERED, creds.kind().unwrap(), false, Transport::Tls).unwrap();
        let mut c = new_client(m, &creds).unwrap();
        assert_eq!(c.mechanism(), Mechanism::ScramSha256);
        let first = c.initial_response().unwrap().unwrap();
        assert!(first.expose().starts_with(b"n,,n=user,r="));
    }
}
