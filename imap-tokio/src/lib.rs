//! `imapwire-tokio`: the tokio + rustls adapter of the imapwire sans-IO IMAP sessions
//! (RFC 9051 §6.2.1 STARTTLS, RFC 8314 implicit TLS, RFC 2177 IDLE, RFC 4978 COMPRESS).
//!
//! This crate owns the sockets, the TLS state and the clock; the protocol lives in
//! `imapwire-session`. One driver task per connection owns the socket, the TLS session, the
//! [`imapwire_session::client::Client`] state machine and the buffers; the [`Connection`]
//! handle talks to it over channels (see [`connection`] for the driver and cancel safety).
//!
//! ```no_run
//! # async fn demo() -> Result<(), imapwire_tokio::Error> {
//! use imapwire_tokio::{AuthMethod, Config, Connection, Security};
//! use imapwire_session::sasl::{Credentials, Secret};
//!
//! let cfg = Config::new("imap.example.org", 993).with_security(Security::ImplicitTls);
//! let conn = Connection::connect(cfg).await?;
//! conn.authenticate(Credentials::password("joe", Secret::new("pw".into())), AuthMethod::Auto)
//!     .await?;
//! let inbox = conn.select("INBOX").await?;
//! let mut fetch = conn.fetch("1:*", "(UID FLAGS BODY.PEEK[])", true).await?;
//! while let Some(mut msg) = fetch.next().await? {
//!     while let Some(chunk) = msg.next_chunk().await? {
//!         let _ = chunk; // hash or store it: bodies are never buffered whole
//!     }
//!     let data = msg.finish().await?;
//!     println!("{:?} {:?}", data.uid, data.flags());
//! }
//! conn.logout().await?;
//! # let _ = inbox; Ok(()) }
//! ```
#![forbid(unsafe_code, unused_must_use)]
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

pub mod account;
pub mod backoff;
pub mod config;
pub mod connection;
pub mod error;
pub mod record;
pub mod server;
pub mod tls;
pub mod types;

pub use account::{
    Account, AccountConfig, AccountEvent, AccountIdle, AccountState, Login, TokenProvider,
};
pub use config::{Config, Security, Timeouts};
pub use connection::{AuthMethod, Connection, FetchStream, FetchedMessage, IdleStream};
pub use error::{CertificateError, CertificateReason, Error, Phase};
pub use imapwire_session::special_use::{Role, SpecialUse};
pub use tls::{Fingerprint, TlsConfig};
pub use types::{FlagIter, Flags, IdleEvent, MailboxEntry, MailboxInfo, MessageData, SearchResult};
