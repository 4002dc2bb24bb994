//! `imapwire-codec`: a sans-IO codec for IMAP4rev2 (RFC 9051) that still speaks IMAP4rev1
//! (RFC 3501) and the extensions real servers advertise.
//!
//! Bytes go in, typed values come out; typed values go in, valid protocol comes out. There is
//! no I/O here: the caller owns sockets, buffers and clocks.
//!
//! - [`framer`]: finds complete messages (lines plus literals) in a stream fed in any chunks,
//!   bounded by [`Limits`], reporting literal announcements as soon as they are seen.
//! - [`codec`]: decoders and encoders per message kind (greeting, command, response,
//!   AUTHENTICATE data, IDLE `DONE`), and streaming decoders that combine framing and parsing.
//! - Typed values: [`command`], [`response`], [`fetch`], [`body`], [`envelope`], [`search`],
//!   [`sequence`], [`flag`], [`list`], [`mailbox`], [`datetime`], [`capability`], [`status`], [`core`].
//!
//! Decoded values hold [`bytes::Bytes`] slices of the received message: nothing is copied,
//! and the values are owned and `'static`. The crate re-exports [`bytes`], so the version
//! that matches is always at hand as `imapwire_codec::bytes`.
//!
//! Every value the API lets you build encodes to valid protocol: leaf types validate on
//! construction, and whole commands are built with [`command::Command::new`], which checks
//! what the types cannot express; on the server side, [`response::Response::validate`] and
//! [`response::Greeting::validate`] do the same for responses built from public fields
//! (encoding a value that fails is the caller's bug). With the feature `arbitrary`, the
//! value types implement `arbitrary::Arbitrary` (for fuzzing that property).
//!
//! A connection is read through one [`codec::Receiver`], told what the next message is
//! expected to be ([`codec::Expect`]) as the conversation goes (see the [`codec`] docs for the
//! calling contract):
//!
//! ```
//! use imapwire_codec::codec::{AnyMessage, Expect, Receiver, StreamEvent};
//! use imapwire_codec::response::Response;
//!
//! let mut rx = Receiver::client(Default::default());
//! rx.push(b"* OK ready\r\n* 3 EXISTS\r\na1 OK [READ-WRITE] SELECT completed\r\n");
//! let mut n = 0;
//! while let Some(ev) = rx.next() {
//!     let StreamEvent::Message(m) = ev else { panic!("{ev:?}") };
//!     match m.message {
//!         AnyMessage::Greeting(_) => rx.set_expect(Expect::Response),
//!         AnyMessage::Response(Response::Data(_) | Response::Status(_)) => n += 1,
//!         other => panic!("{other:?}"),
//!     }
//! }
//! assert_eq!(n, 2);
//! ```
//!
//! # Encoding, and where a client waits for `+`
//!
//! [`Encode::encode`] appends a value to an [`EncodeBuf`] and records where each literal
//! starts; [`EncodeBuf::fragments`] then hands the output back as lines and literal payloads.
//! A client sends each [`Fragment::Line`] as it comes; before a [`Fragment::Literal`] in
//! [`LiteralMode::Sync`](encode::LiteralMode::Sync) (a line ending in `{n}`, the default), it
//! must wait for the server's `+` continuation request (or a tagged `NO`/`BAD` refusing the
//! command; RFC 9051 §4.3, §7.5). With LITERAL+ enabled
//! ([`EncodeOptions::literal_mode`] = `NonSync`) literals are sent `{n+}` without waiting.
//! [`Encode::to_vec_inline_literals`] writes the whole wire form at once, literals inline:
//! fine for a server, a test or a log, not for a client's socket.
//!
//! ```
//! use imapwire_codec::bytes::Bytes;
//! use imapwire_codec::command::{AppendMessage, Command, CommandBody};
//! use imapwire_codec::core::{AString, Tag};
//! use imapwire_codec::encode::LiteralMode;
//! use imapwire_codec::mailbox::Mailbox;
//! use imapwire_codec::{Encode, EncodeBuf, Fragment};
//!
//! let login = Command::new(
//!     Tag::new("a1")?,
//!     CommandBody::login(AString::new("alice")?, AString::new("hunter 2")?),
//! )?;
//! let message = Bytes::from_static(b"Subject: hi\r\n\r\nHello\r\n");
//! let append = Command::new(
//!     Tag::new("a2")?,
//!     CommandBody::Append {
//!         mailbox: Mailbox::new("Sent")?,
//!         messages: vec![AppendMessage::literal(message)],
//!     },
//! )?;
//!
//! // What a client does with each fragment, written down instead of a socket.
//! let mut transcript: Vec<String> = Vec::new();
//! let mut buf = EncodeBuf::new(); // default options: synchronizing literals `{n}`
//! for cmd in [&login, &append] {
//!     buf.clear();
//!     cmd.encode(&mut buf);
//!     for fragment in buf.fragments() {
//!         match fragment {
//!             Fragment::Line(line) => {
//!                 transcript.push(format!("send {:?}", String::from_utf8_lossy(line)));
//!             }
//!             Fragment::Literal { data, mode } => {
//!                 if mode == LiteralMode::Sync {
//!                     // The line just sent ends in `{n}`: read responses until the server
//!                     // sends `+ ...` (go on) or the tagged NO/BAD (the command is refused).
//!                     transcript.push("wait for +".to_string());
//!                 }
//!                 transcript.push(format!("send {} literal bytes", data.len()));
//!             }
//!         }
//!     }
//! }
//! assert_eq!(
//!     transcript,
//!     [
//!         r#"send "a1 LOGIN alice \"hunter 2\"\r\n""#,
//!         r#"send "a2 APPEND Sent {22}\r\n""#,
//!         "wait for +",
//!         "send 22 literal bytes",
//!         r#"send "\r\n""#,
//!     ]
//! );
//!
//! // The same command in one piece, the literal inline: not what a client may write at once.
//! assert_eq!(
//!     append.to_vec_inline_literals(),
//!     b"a2 APPEND Sent {22}\r\nSubject: hi\r\n\r\nHello\r\n\r\n"
//! );
//! # Ok::<(), imapwire_codec::ValidationError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

/// The `with_*` builders of a settings struct, inside its `impl`: each
/// `/// doc` `with_x(field: Type);` is a `const fn` returning the value with `field` set.
macro_rules! field_builders {
    ($($(#[$attr:meta])* $name:ident($field:ident: $ty:ty);)*) => {$(
        $(#[$attr])*
        #[must_use]
        pub const fn $name(mut self, $field: $ty) -> Self {
            self.$field = $field;
            self
        }
    )*};
}

#[cfg(feature = "arbitrary")]
mod arbitrary_impls;
#[cfg(feature = "arbitrary")]
mod arbitrary_util;
pub mod base64;
pub mod body;
pub mod capability;
pub mod codec;
pub mod command;
pub mod core;
pub mod datetime;
pub mod encode;
pub mod envelope;
pub mod error;
pub mod ext;
pub mod fetch;
pub mod flag;
pub mod framer;
pub mod list;
pub mod mailbox;
mod names;
pub mod options;
pub(crate) mod parse;
pub mod response;
pub mod search;
pub mod sequence;
pub mod status;
pub mod vocab;

#[cfg(test)]
mod layers;
#[cfg(test)]
mod proptests;
/// The reader of the JSON-lines test corpora, shared with the integration tests.
#[cfg(test)]
#[allow(unreachable_pub)]
#[path = "../tests/support/mod.rs"]
mod test_corpus;

/// The lenient-profile table's corpus reaches every code, data and item kind (shares the
/// injection harness of the integration tests, which names this crate `imapwire_codec`).
#[cfg(test)]
extern crate self as imapwire_codec;
#[cfg(test)]
mod reach_tests;

/// The [`bytes`](https://docs.rs/bytes) crate, whose [`Bytes`](bytes::Bytes) holds every
/// payload of the decoded and encoded values.
pub use bytes;

pub use crate::encode::{Encode, EncodeBuf, EncodeOptions, Fragment};
pub use crate::error::{DecodeError, FrameError, ValidationError};
pub use crate::options::{DecodeOptions, Limits, Profile, Quirk, QuirkSet, Warning};
