//! Error types of the codec: decode errors (with byte offset, excerpt and expectation),
//! framing errors (limits), and validation errors raised by constructors.

use bytes::Bytes;
use std::fmt;

/// A message could not be decoded.
///
/// Carries the byte offset inside the message where decoding stopped, what the grammar
/// expected there (every alternative that failed at that byte), a short excerpt of the input
/// around that offset, and, when the message came from a stream decoder, where the message
/// starts in the stream. A message that is cut short reports the offset where the missing
/// bytes should be (its end) and what should have come there.
///
/// `Display` shows the excerpt with `‸` at the failing byte (excerpt bytes are escaped to
/// printable ASCII, so the mark cannot be confused with input):
/// `expected SP or ")" at byte 17 (stream offset 217): "1 (FLAGS‸\r\n"`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeError {
    /// Byte offset inside the message (0 = first byte of the message).
    pub offset: usize,
    /// What the grammar expected at `offset` (e.g. `"SP"`, `"nz-number"`, `"\")\""`): the
    /// last alternative tried there.
    pub expected: &'static str,
    /// Another alternative that failed at `offset` (empty when only one thing could come
    /// there; the parser keeps the last two it tried).
    pub alternatives: Vec<&'static str>,
    /// Up to 32 bytes of the message starting a few bytes before `offset`.
    pub excerpt: Bytes,
    /// Offset of `excerpt[0]` inside the message.
    pub excerpt_start: usize,
    /// Offset of the message's first byte in the stream, when it was decoded by a stream
    /// decoder ([`Receiver`](crate::codec::Receiver)); `None` for a one-shot decode.
    pub message_offset: Option<u64>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected ")?;
        for a in &self.alternatives {
            write!(f, "{a} or ")?;
        }
        write!(f, "{} at byte {}", self.expected, self.offset)?;
        if let Some(s) = self.stream_offset() {
            write!(f, " (stream offset {s})")?;
        }
        let mark = self
            .offset
            .saturating_sub(self.excerpt_start)
            .min(self.excerpt.len());
        write!(
            f,
            ": \"{}\u{2038}{}\"",
            Escaped(&self.excerpt[..mark]),
            Escaped(&self.excerpt[mark..])
        )
    }
}

impl std::error::Error for DecodeError {}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("DecodeError");
        d.field("offset", &self.offset)
            .field("expected", &self.expected);
        if !self.alternatives.is_empty() {
            d.field("alternatives", &self.alternatives);
        }
        if let Some(m) = self.message_offset {
            d.field("message_offset", &m);
        }
        d.field("excerpt", &Excerpt(&self.excerpt)).finish()
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
            alternatives: Vec::new(),
            excerpt: msg.slice(start..end),
            excerpt_start: start,
            message_offset: None,
        }
    }

    /// Offset of the failing byte in the stream (`message_offset + offset`), when the message
    /// came from a stream decoder.
    pub fn stream_offset(&self) -> Option<u64> {
        self.message_offset.map(|m| m + self.offset as u64)
    }
}

/// Escaped bytes without the quotes.
struct Escaped<'a>(&'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
        Ok(())
    }
}

/// Formats bytes as an escaped, printable excerpt (`\r`, `\n`, `\xNN`).
pub struct Excerpt<'a>(pub &'a [u8]);

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", Escaped(self.0))
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
    /// A non-synchronizing literal larger than
    /// [`FramerConfig::max_nonsync_literal`](crate::framer::FramerConfig::max_nonsync_literal)
    /// (LITERAL-, RFC 7888 §4: answer `BAD [TOOBIG]`).
    NonSyncLiteral,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitKind::Line => "line length",
            LimitKind::Literal => "literal size",
            LimitKind::Message => "message size",
            LimitKind::LiteralCount => "literal count",
            LimitKind::NonSyncLiteral => "non-synchronizing literal size",
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

/// [`accept_literal`](crate::codec::Receiver::accept_literal) or
/// [`reject_literal`](crate::codec::Receiver::reject_literal) was called while no
/// synchronizing literal awaited a decision (a bug in the caller's state machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no synchronizing literal awaits a decision")]
pub struct NoLiteralPending;
