//! `imap-codec`: a sans-IO codec for IMAP4rev2 (RFC 9051) that still speaks IMAP4rev1
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
//! and the values are owned and `'static`.
//!
//! Every value the API lets you build encodes to valid protocol: leaf types validate on
//! construction, and whole commands are built with [`command::Command::new`], which checks
//! what the types cannot express; on the server side, [`response::Response::validate`] and
//! [`response::Greeting::validate`] do the same for responses built from public fields
//! (encoding a value that fails is the caller's bug). With the feature `arbitrary`, the
//! value types implement `arbitrary::Arbitrary` (for fuzzing that property).
//!
//! ```
//! use imapwire_codec::codec::{ResponseDecoder, StreamEvent};
//! use imapwire_codec::response::Response;
//!
//! let mut dec = ResponseDecoder::default();
//! dec.push(b"* 3 EXISTS\r\na1 OK [READ-WRITE] SELECT completed\r\n");
//! let mut n = 0;
//! while let Some(ev) = dec.next() {
//!     let StreamEvent::Message(m) = ev else { panic!("{ev:?}") };
//!     assert!(matches!(m.message, Response::Data(_) | Response::Status(_)));
//!     n += 1;
//! }
//! assert_eq!(n, 2);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

#[cfg(feature = "arbitrary")]
mod arbitrary_impls;
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
pub mod fetch;
pub mod flag;
pub mod framer;
pub mod list;
pub mod mailbox;
pub mod options;
pub(crate) mod parse;
pub mod response;
pub mod search;
pub mod sequence;
pub mod status;

#[cfg(test)]
mod proptests;

pub use crate::encode::{Encode, EncodeBuf, EncodeOptions, Fragment};
pub use crate::error::{DecodeError, FrameError, ValidationError};
pub use crate::options::{DecodeOptions, Limits, Profile, Quirk, Warning};
