//! `imapwire-session`: sans-IO IMAP state machines (RFC 9051 §3, §5, §6) built on
//! `imapwire-codec`.
//!
//! This crate does no networking, reads no clock and spawns nothing: bytes and the current
//! time go in; bytes, events and the next deadline come out. It is therefore fully
//! deterministic, and every flow can be tested without sockets.
#![forbid(unsafe_code, unused_must_use)]
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

pub mod mailbox;
