//! `imapwire-session`: sans-IO IMAP state machines (RFC 9051 §3, §5, §6) built on
//! `imapwire-codec`.
//!
//! This crate does no networking, reads no clock and spawns nothing: bytes and the current
//! time go in; bytes, events and the next deadline come out. It is therefore fully
//! deterministic, and every flow can be tested without sockets.
//!
//! # The client
//!
//! [`client::Client`] is one connection's client state machine; its module documentation
//! gives the calling contract (inputs, commands, outputs, getters; transmit, then events, then
//! the timer). A complete exchange, with the server's bytes written by hand:
//!
//! ```
//! use std::time::Instant;
//! use imapwire_session::client::{Client, ClientConfig, Event};
//! use imapwire_codec::command::CommandBody;
//! use imapwire_codec::core::Secret;
//! use imapwire_codec::bytes::Bytes;
//!
//! let now = Instant::now();
//! // Implicit TLS: the caller declares the connection encrypted (LOGIN is allowed then).
//! let mut client = Client::new(ClientConfig::default().with_encrypted(true), now).unwrap();
//! let n = client.handle_input(now, b"* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n");
//! assert_eq!(n, 40);
//! let login = client.login(now, "joe", Secret::new(Bytes::from_static(b"secret"))).unwrap();
//! let noop = client.submit(now, CommandBody::Noop).unwrap();
//!
//! // Write what the session wants to send, in order.
//! let mut wire = Vec::new();
//! while let Some(bytes) = client.poll_transmit(now) {
//!     wire.extend_from_slice(&bytes);
//! }
//! // NOOP waits: LOGIN changes the state, commands after it are checked against the new one.
//! assert_eq!(wire, b"A0001 LOGIN joe secret\r\n");
//!
//! let _ = client.handle_input(now, b"A0001 OK [CAPABILITY IMAP4rev1 IDLE] welcome\r\n");
//! let wire = client.poll_transmit(now).unwrap();
//! assert_eq!(&wire[..], b"A0002 NOOP\r\n");
//! let _ = client.handle_input(now, b"* 3 EXISTS\r\nA0002 OK done\r\n");
//!
//! // Each command completes exactly once.
//! let mut completed = Vec::new();
//! while let Some(event) = client.poll_event() {
//!     if let Event::Completed { id, result } = event {
//!         assert!(result.is_ok());
//!         completed.push(id);
//!     }
//! }
//! assert_eq!(completed, [login, noop]);
//! // The next deadline the caller must wake up for (here: the keep-alive NOOP).
//! assert!(client.poll_timeout().is_some());
//! ```
//!
//! # The server
//!
//! [`server::Server`] is one connection's server state machine, with the same calling
//! contract; mailbox operations leave it as events ([`server::Event::Request`]) that the
//! application answers with typed replies (UIDs only: the session keeps each client's
//! sequence numbers), and [`server::memory::MemoryStore`] is an in-memory backend answering
//! them.
//!
//! # Building blocks
//!
//! Self-contained units the client and server state machines are built from:
//!
//! - [`timer`]: one table of deadlines per connection ([`timer::TimerTable`]).
//! - [`tag`]: command tags, sequential or unpredictable, never reused while in flight.
//! - [`pipeline`]: which command may be sent while others are in flight (RFC 9051 §5.5).
//! - [`sasl`]: SASL mechanisms for AUTHENTICATE, client and server side, and the mechanism
//!   chooser.
//! - [`profile`]: server profiles, one switch per known server behaviour to route around,
//!   recognised from the greeting and capabilities.
//! - [`special_use`]: the Sent/Drafts/Trash/Junk/Archive/All/Flagged mailboxes from LIST
//!   responses.
//! - [`mailbox`]: the state of a selected mailbox (the sequence-number/UID map).
//! - [`client`]: the client state machine built from them.
//! - [`server`]: the server state machine built from them.
//! - [`sync`]: the synchronisation engine keeping a local replica of a mailbox in step
//!   (RFC 4549, RFC 7162 CONDSTORE/QRESYNC), on top of the client.
#![forbid(unsafe_code, unused_must_use)]
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

pub mod client;
mod compress;
pub mod mailbox;
pub mod pipeline;
pub mod profile;
pub mod sasl;
pub mod server;
pub mod special_use;
pub mod sync;
pub mod tag;
pub mod timer;
