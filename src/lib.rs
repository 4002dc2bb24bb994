//! Workbench for the imapwire workspace: the home of the workspace examples (`dissect`,
//! `profile_decode`). Not published; it re-exports the codec for them. The criterion
//! benchmarks are the package `imapwire-benches` (`benches/`).
//!
//! ```
//! use imap_workbench::imapwire_codec::codec::Message;
//! use imap_workbench::imapwire_codec::response::Response;
//!
//! let msg = bytes::Bytes::from_static(b"* 23 EXISTS\r\n");
//! let decoded = Response::decode(&msg, &Default::default()).unwrap();
//! assert!(decoded.warnings.is_empty());
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use imapwire_codec;

/// The repository README, so that its Rust examples are compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[allow(dead_code)]
mod readme {}
