//! `imapwire-session`: sans-IO IMAP state machines (RFC 9051 §3, §5, §6) built on
//! `imapwire-codec`.
//!
//! This crate does no networking, reads no clock and spawns nothing: bytes and the current
//! time go in; bytes, events and the next deadline come out. It is therefore fully
//! deterministic, and every flow can be tested without sockets.
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
#![forbid(unsafe_code, unused_must_use)]
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

pub mod client;
pub mod mailbox;
pub mod pipeline;
pub mod profile;
pub mod sasl;
pub mod special_use;
pub mod tag;
pub mod timer;
