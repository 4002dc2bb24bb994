//! `imapwire-tokio`: the tokio + rustls adapter of the imapwire sans-IO IMAP sessions
//! (RFC 9051 §6.2.1 STARTTLS, RFC 8314 implicit TLS, RFC 2177 IDLE, RFC 4978 COMPRESS).
//!
//! This crate owns the sockets, the TLS state and the clock; the protocol lives in
//! `imapwire-session`. One driver task per connection owns the socket, the TLS session, the
//! [`imapwire_session::client::Client`] state machine and the buffers; the `Connection`
//! handle talks to it over channels.
#![forbid(unsafe_code, unused_must_use)]
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

pub mod backoff;
pub mod config;
pub mod error;
pub mod server;
pub mod tls;

pub use config::{Config, Security, Timeouts};
pub use error::{CertificateError, CertificateReason, Error};
pub use tls::{Fingerprint, TlsConfig};
