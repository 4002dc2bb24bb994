//! Error types of the codec: decode errors (with byte offset, excerpt and expectation),
//! framing errors (limits), and validation errors raised by constructors.

use bytes::Bytes;
use std::fmt;

/// A message could not be decoded.
///
/// Carries the byte offset inside the message where decoding stopped, what the grammar
/// expected there, and a short excerpt of the input around that offset.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected} at byte {offset}: {}", Excerpt(&self.excerpt))]
pub struct DecodeError {
    /// Byte offset inside the message (0 = first byte of the message).
    pub offset: usize,
    /// What the grammar expected at `offset` (e.g. `"SP"`, `"nz-number"`, `"\")\""`).
    pub expected: &'static str,
    /// Up to 32 bytes of the message starting a few bytes before `offset`.
    pub excerpt: Bytes,
    /// Offset of `excerpt[0]` inside the message.
    pub excerpt_start: usize,
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("offset", &self.offset)
            .field("expected", &self.expected)
            .field("excerpt", &Excerpt(&self.excerpt))
            .finish()
    }
}

impl DecodeError {
    pub(crate) fn new(msg: &Bytes, offset: usize, expected: &'static str) -> Self {
        let offset = offset.min(msg.len());
        let start = offset.saturating_sub(8);
        let end = (start + 32).min(msg.len());
        DecodeError {
            offset,
            expected,
            excerpt: msg.slice(start..end),
            excerpt_start: start,
        }
    }
}

/// Formats bytes as an escaped, printable excerpt (`\r`, `\n`, `\xNN`).
pub struct Excerpt<'a>(pub &'a [u8]);

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for &b in self.0 {
            match b {
                b'\r' => f.write_str("\\r")?,
                b'\n' => f.write_str("\\n")?,
                b'\t' => f.write_str("\\t")?,
                b'"' => f.write_str("\\\"")?,
                b'\\' => f.write_str("\\\\")?,
                0x20..=0x7e => fmt::Write::write_char(f, b as char)?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        f.write_str("\"")
    }
}

impl fmt::Debug for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A value could not be constructed because it cannot be encoded as valid IMAP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {reason}")]
pub struct ValidationError {
    /// The kind of value (`"atom"`, `"tag"`, `"quoted"`, ...).
    pub what: &'static str,
    /// Why it was rejected.
    pub reason: &'static str,
}

impl ValidationError {
    pub(crate) const fn new(what: &'static str, reason: &'static str) -> Self {
        ValidationError { what, reason }
    }
}

/// Which configured limit a message exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitKind {
    /// One line (without its literals) is longer than [`Limits::max_line`](crate::Limits::max_line).
    Line,
    /// One literal is larger than [`Limits::max_literal`](crate::Limits::max_literal).
    Literal,
    /// Lines plus literals of one message exceed [`Limits::max_message`](crate::Limits::max_message).
    Message,
    /// Too many literals in one message.
    LiteralCount,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitKind::Line => "line length",
            LimitKind::Literal => "literal size",
            LimitKind::Message => "message size",
            LimitKind::LiteralCount => "literal count",
        })
    }
}

/// The framer had to give up on a message.
///
/// The offending message is skipped (without buffering it); the stream goes on with the next one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A configured limit was exceeded.
    #[error(
        "{kind} limit of {limit} bytes exceeded (at least {actual} bytes) at stream offset {stream_offset}"
    )]
    LimitExceeded {
        /// Which limit.
        kind: LimitKind,
        /// The configured limit.
        limit: u64,
        /// The size seen or announced.
        actual: u64,
        /// Tag of the message, if it could be recovered (for a tagged BAD).
        tag: Option<Bytes>,
        /// Offset in the whole stream where the message started.
        stream_offset: u64,
    },
    /// A literal announcement `{n}` whose length does not fit in 64 bits.
    #[error("literal length overflows 64 bits at stream offset {stream_offset}")]
    LiteralLengthOverflow {
        /// Tag of the message, if it could be recovered.
        tag: Option<Bytes>,
        /// Offset in the whole stream where the message started.
        stream_offset: u64,
    },
}

impl FrameError {
    /// The tag of the failed message, if it was recovered.
    pub fn tag(&self) -> Option<&Bytes> {
        match self {
            FrameError::LimitExceeded { tag, .. }
            | FrameError::LiteralLengthOverflow { tag, .. } => tag.as_ref(),
        }
    }
}
