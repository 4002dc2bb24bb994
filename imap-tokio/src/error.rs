//! Errors of the adapter, sorted by fault: the network, TLS and certificates, the server's
//! refusals (RFC 9051 §7.1 NO/BAD/BYE), and the caller's configuration.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use imapwire_session::client::{CommandError, SubmitError};

use crate::tls::Fingerprint;

/// Which wait timed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// TCP connect.
    Connect,
    /// TLS handshake.
    Handshake,
    /// The server's greeting.
    Greeting,
    /// A command's response, or a liveness check.
    Response,
}

/// Why a certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateReason {
    /// The certificate signed itself and no trusted root vouches for it.
    SelfSigned,
    /// It does not chain to a trusted root.
    UnknownIssuer,
    /// Its validity period has ended.
    Expired,
    /// Its validity period has not started.
    NotValidYet,
    /// It does not name the host connected to.
    WrongHostName,
    /// It was revoked.
    Revoked,
    /// Another defect, as rustls described it.
    Other(String),
}

impl fmt::Display for CertificateReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateReason::SelfSigned => f.write_str("self-signed"),
            CertificateReason::UnknownIssuer => f.write_str("unknown issuer"),
            CertificateReason::Expired => f.write_str("expired"),
            CertificateReason::NotValidYet => f.write_str("not yet valid"),
            CertificateReason::WrongHostName => f.write_str("wrong host name"),
            CertificateReason::Revoked => f.write_str("revoked"),
            CertificateReason::Other(s) => write!(f, "invalid ({s})"),
        }
    }
}

/// A refused server certificate, with what a user needs to decide whether to pin it
/// ([`TlsConfig::dangerous`](crate::TlsConfig::dangerous)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateError {
    /// Why it was refused.
    pub reason: CertificateReason,
    /// SHA-256 of the leaf certificate's DER (`sha256:` + lowercase hex when displayed).
    pub fingerprint: Fingerprint,
    /// The subject's distinguished name (RFC 4514 form), empty when it could not be read.
    pub subject: String,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// Start of the validity period.
    pub not_before: Option<SystemTime>,
    /// End of the validity period.
    pub not_after: Option<SystemTime>,
}

impl CertificateError {
    /// Reads the details of `der`; `reason` as the verifier said, refined to
    /// [`CertificateReason::SelfSigned`] when the issuer is unknown and the certificate names
    /// itself as its issuer.
    pub fn describe(der: &[u8], reason: CertificateReason, fingerprint: Fingerprint) -> Self {
        use x509_parser::prelude::*;
        let mut e = CertificateError {
            reason,
            fingerprint,
            subject: String::new(),
            issuer: String::new(),
            not_before: None,
            not_after: None,
        };
        if let Ok((_, c)) = X509Certificate::from_der(der) {
            e.subject = c.subject().to_string();
            e.issuer = c.issuer().to_string();
            let t = |ts: i64| UNIX_EPOCH.checked_add(Duration::from_secs(ts.max(0) as u64));
            e.not_before = t(c.validity().not_before.timestamp());
            e.not_after = t(c.validity().not_after.timestamp());
            // A self-issued certificate no root vouches for is self-signed, whichever check
            // webpki failed first: `openssl req -x509` marks its certificates CA:TRUE, which
            // webpki reports as a CA used as an end entity before it looks for an issuer.
            let vouched_for_by_nobody = matches!(
                e.reason,
                CertificateReason::UnknownIssuer | CertificateReason::Other(_)
            );
            if vouched_for_by_nobody && c.subject() == c.issuer() {
                e.reason = CertificateReason::SelfSigned;
            }
        }
        e
    }
}

fn unix(t: Option<SystemTime>) -> String {
    match t.and_then(|t| t.duration_since(UNIX_EPOCH).ok()) {
        Some(d) => format!("{}", d.as_secs()),
        None => "?".into(),
    }
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "certificate refused: {}; {}; subject: {}; issuer: {}; valid (unix time) {} to {}",
            self.reason,
            self.fingerprint,
            self.subject,
            self.issuer,
            unix(self.not_before),
            unix(self.not_after)
        )
    }
}

impl std::error::Error for CertificateError {}

/// Errors of connections and commands.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A socket operation failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// A wait took longer than its [`Timeouts`](crate::Timeouts) limit.
    #[error("timed out ({0:?})")]
    Timeout(Phase),
    /// The server's certificate was refused; pin its fingerprint to accept it.
    #[error("{0}")]
    Certificate(Box<CertificateError>),
    /// The TLS handshake failed for another reason.
    #[error("TLS: {0}")]
    Tls(String),
    /// STARTTLS was required and the server did not offer it or refused it.
    #[error("the server does not offer STARTTLS (plaintext refused)")]
    StartTlsNotOffered,
    /// The server refused the connection in its greeting (`* BYE`).
    #[error("the server refused the connection: {0}")]
    Rejected(String),
    /// A command failed (the server said NO or BAD, authentication failed, the connection
    /// was lost while it was in flight, ...).
    #[error("{0}")]
    Command(Box<CommandError>),
    /// The session refused to send a command.
    #[error("{0}")]
    Submit(Box<SubmitError>),
    /// The connection ended; later calls on the handle fail with this.
    #[error("connection closed: {0}")]
    Closed(String),
    /// The session closed the connection because the server broke the protocol in a way it
    /// cannot go on from, or sent a COMPRESS=DEFLATE stream that does not inflate; commands in
    /// flight then fail with this too, and so do later calls on the handle. Not
    /// [transient](Self::is_transient): unlike a dropped connection, a server (or a box in
    /// between) that corrupts the stream usually does it again, so retrying it for the whole
    /// give-up window only hammers it and hides the fault. The account client retries it once
    /// (see [`crate::account`]).
    #[error("the server broke the protocol: {0}")]
    ProtocolViolation(String),
    /// The account client is in its terminal disconnected state (it gave up, or a failure
    /// needs the user); [`Account::reconnect`](crate::account::Account::reconnect) leaves it.
    #[error("disconnected: {0}")]
    Disconnected(String),
    /// A setting is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The server said something the adapter cannot use for this command.
    #[error("unexpected response: {0}")]
    Protocol(String),
}

impl Error {
    /// Whether trying again later, on a new connection, may succeed without the user doing
    /// anything: network failures and timeouts. Not for refused certificates, failed
    /// authentication, or a server that rejected us.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Io(_) | Error::Timeout(_) | Error::Closed(_) => true,
            Error::Command(c) => {
                matches!(**c, CommandError::ConnectionLost | CommandError::TimedOut)
            }
            _ => false,
        }
    }

    /// Whether this is an authentication failure (the server refused the credentials).
    pub fn is_auth_failure(&self) -> bool {
        match self {
            Error::Command(c) => matches!(
                **c,
                CommandError::AuthRejected { .. } | CommandError::Auth(_)
            ),
            _ => false,
        }
    }
}

impl From<CommandError> for Error {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::Refused(s) => Error::Submit(Box::new(s)),
            other => Error::Command(Box::new(other)),
        }
    }
}

impl From<SubmitError> for Error {
    fn from(e: SubmitError) -> Self {
        Error::Submit(Box::new(e))
    }
}
