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
    #[cfg(test)]
    pub(crate) fn new(msg: &Bytes, offset: usize, expected: &'static str) -> Self {
        Self::new_in(msg, msg.len(), offset, expected)
    }

    /// [`new`](Self::new) for the message that is the first `len` bytes of `src` (at most
    /// all of them): the same error, its excerpt cut out of `src`.
    pub(crate) fn new_in(src: &Bytes, len: usize, offset: usize, expected: &'static str) -> Self {
        let len = len.min(src.len());
        let msg = src;
        let offset = offset.min(len);
        let start = offset.saturating_sub(8);
        let end = (start + 32).min(len);
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
///
/// Says what kind of value it was ([`ValueKind`]), which rule it broke ([`Rule`]) and, where
/// it applies, at which byte of the value ([`ValidationError::position`]). Callers can match:
///
/// ```
/// use imapwire_codec::core::Atom;
/// use imapwire_codec::error::{Rule, ValueKind};
///
/// let e = Atom::try_from("INBOX(1)").unwrap_err();
/// assert_eq!(e.kind(), ValueKind::Atom);
/// assert_eq!(e.rule(), Rule::ForbiddenByte { byte: b'(', position: 5 });
/// assert_eq!(e.position(), Some(5));
/// assert_eq!(e.to_string(), "invalid atom: forbidden byte 0x28 ('(') at byte 5");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("invalid {kind}: {rule}")]
#[non_exhaustive]
pub struct ValidationError {
    kind: ValueKind,
    rule: Rule,
}

impl ValidationError {
    /// An error: a value of `kind` broke `rule`.
    pub const fn new(kind: ValueKind, rule: Rule) -> Self {
        ValidationError { kind, rule }
    }

    /// A composite value (named by its ABNF rule or item, e.g. `"tagged-ext-comp"`) broke a
    /// rule described in words.
    pub(crate) const fn grammar(what: &'static str, reason: &'static str) -> Self {
        Self::new(ValueKind::Grammar(what), Rule::Constraint(reason))
    }

    /// The kind of value rejected.
    pub const fn kind(&self) -> ValueKind {
        self.kind
    }

    /// The rule it broke.
    pub const fn rule(&self) -> Rule {
        self.rule
    }

    /// The byte offset inside the value where it broke the rule, if the rule has one.
    pub const fn position(&self) -> Option<usize> {
        match self.rule {
            Rule::ForbiddenByte { position, .. } | Rule::Expected { position, .. } => {
                Some(position)
            }
            _ => None,
        }
    }
}

/// The kind of value a [`ValidationError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueKind {
    /// `atom`
    Atom,
    /// `tag`
    Tag,
    /// `string` (quoted or literal)
    String,
    /// `text` (the rest of a line)
    Text,
    /// `charset`
    Charset,
    /// `mailbox`
    Mailbox,
    /// `list-mailbox`
    ListMailbox,
    /// The hierarchy delimiter of a LIST response.
    Delimiter,
    /// `seq-number` (a number or `*`)
    SeqNumber,
    /// `uniqueid`
    Uid,
    /// UIDVALIDITY (`nz-number`)
    UidValidity,
    /// `sequence-set`
    SequenceSet,
    /// `uid-set` (responses)
    UidSet,
    /// `date` (a date that does not exist, e.g. 30 February)
    Date,
    /// `date-year`
    Year,
    /// `date-month`
    Month,
    /// `date-day`
    Day,
    /// `time`
    Time,
    /// `zone`
    Zone,
    /// `capability`
    Capability,
    /// `auth-type` (a SASL mechanism)
    AuthMechanism,
    /// `flag` / `flag-keyword`
    Flag,
    /// `mbx-list-flags` item
    MailboxAttribute,
    /// `status-att`
    StatusAttribute,
    /// `fetch-att`
    FetchAttribute,
    /// The list of `fetch-att` of a FETCH command.
    FetchAttributeList,
    /// `section-part`
    SectionPart,
    /// `header-list`
    HeaderList,
    /// `header-fld-name`
    HeaderFieldName,
    /// `objectid` (RFC 8474)
    ObjectId,
    /// `partial` (`<offset.length>`)
    Partial,
    /// `media-basic` of a body structure
    MediaType,
    /// `resp-text-code`
    ResponseCode,
    /// The text inside a response code's brackets.
    CodeText,
    /// `resp-text`
    ResponseText,
    /// The text of a continuation request.
    ContinuationText,
    /// An untagged response.
    Response,
    /// `command` (e.g. the name of an unknown command)
    Command,
    /// The raw arguments of an unknown command.
    CommandArguments,
    /// `search-key`
    SearchKey,
    /// A part of a composite value, named by its ABNF rule or protocol item (e.g.
    /// `"tagged-ext-comp"`, `"MODSEQ"`).
    Grammar(&'static str),
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueKind::Atom => "atom",
            ValueKind::Tag => "tag",
            ValueKind::String => "string",
            ValueKind::Text => "text",
            ValueKind::Charset => "charset",
            ValueKind::Mailbox => "mailbox",
            ValueKind::ListMailbox => "list-mailbox",
            ValueKind::Delimiter => "delimiter",
            ValueKind::SeqNumber => "sequence number",
            ValueKind::Uid => "UID",
            ValueKind::UidValidity => "UIDVALIDITY",
            ValueKind::SequenceSet => "sequence-set",
            ValueKind::UidSet => "uid-set",
            ValueKind::Date => "date",
            ValueKind::Year => "date-year",
            ValueKind::Month => "date-month",
            ValueKind::Day => "date-day",
            ValueKind::Time => "time",
            ValueKind::Zone => "zone",
            ValueKind::Capability => "capability",
            ValueKind::AuthMechanism => "SASL mechanism",
            ValueKind::Flag => "flag",
            ValueKind::MailboxAttribute => "mailbox attribute",
            ValueKind::StatusAttribute => "status-att",
            ValueKind::FetchAttribute => "fetch-att",
            ValueKind::FetchAttributeList => "fetch-att list",
            ValueKind::SectionPart => "section-part",
            ValueKind::HeaderList => "header-list",
            ValueKind::HeaderFieldName => "header-fld-name",
            ValueKind::ObjectId => "objectid",
            ValueKind::Partial => "partial",
            ValueKind::MediaType => "media-basic",
            ValueKind::ResponseCode => "response code",
            ValueKind::CodeText => "resp-text-code text",
            ValueKind::ResponseText => "resp-text",
            ValueKind::ContinuationText => "continue-req text",
            ValueKind::Response => "untagged response",
            ValueKind::Command => "command",
            ValueKind::CommandArguments => "command arguments",
            ValueKind::SearchKey => "search-key",
            ValueKind::Grammar(what) => what,
        })
    }
}

/// The rule a [`ValidationError`] reports as broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// The value (or a list the grammar needs one element in) is empty.
    Empty,
    /// A byte the grammar does not allow here.
    ForbiddenByte {
        /// The byte.
        byte: u8,
        /// Its offset inside the value.
        position: usize,
    },
    /// Longer than the grammar allows.
    TooLong {
        /// The largest length allowed (bytes, or items for a list).
        max: usize,
    },
    /// Zero where the grammar needs a positive number.
    Zero,
    /// A number (or a date, time or zone field) outside the range the grammar allows, e.g.
    /// above 2^63-1 where the grammar has `number64`.
    OutOfRange,
    /// An "other" variant holds the name of a typed one (or text that starts like it), so it
    /// would decode as that one: use the typed variant (or the type's `from_*` constructor,
    /// which normalises).
    KnownName,
    /// The grammar expected something else at a byte of the value.
    Expected {
        /// What the grammar expected (e.g. `"CRLF after literal announcement"`).
        expected: &'static str,
        /// The offset inside the value.
        position: usize,
    },
    /// Another rule, described in words.
    Constraint(&'static str),
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Empty => f.write_str("empty"),
            Rule::ForbiddenByte { byte, position } => {
                write!(f, "forbidden byte 0x{byte:02x}")?;
                if byte.is_ascii_graphic() {
                    write!(f, " ('{}')", *byte as char)?;
                }
                write!(f, " at byte {position}")
            }
            Rule::TooLong { max } => write!(f, "longer than {max}"),
            Rule::Zero => f.write_str("must not be zero"),
            Rule::OutOfRange => f.write_str("out of range"),
            Rule::KnownName => f.write_str("holds a known name (use its typed variant)"),
            Rule::Expected { expected, position } => {
                write!(f, "expected {expected} at byte {position}")
            }
            Rule::Constraint(reason) => f.write_str(reason),
        }
    }
}

/// The first byte of `b` that `ok` rejects, as a [`Rule::ForbiddenByte`].
pub(crate) fn forbidden_byte(b: &[u8], ok: impl Fn(u8) -> bool) -> Option<Rule> {
    b.iter()
        .position(|&c| !ok(c))
        .map(|position| Rule::ForbiddenByte {
            byte: b[position],
            position,
        })
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
        /// The size announced (a literal, or a message with its literals), or `limit + 1`
        /// for a line or message that grew past the limit as it arrived (how much of it had
        /// arrived depends on how the input was cut; the report does not).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Atom, Charset, IString, Tag, Text};

    fn parts<T: fmt::Debug>(r: Result<T, ValidationError>) -> (ValueKind, Rule) {
        let e = r.unwrap_err();
        (e.kind(), e.rule())
    }

    #[test]
    fn leaf_types_say_kind_rule_and_position() {
        assert_eq!(parts(Atom::try_from("")), (ValueKind::Atom, Rule::Empty));
        assert_eq!(
            parts(Atom::try_from("ab cd")),
            (
                ValueKind::Atom,
                Rule::ForbiddenByte {
                    byte: b' ',
                    position: 2
                }
            )
        );
        assert_eq!(
            parts(Tag::try_from("a+")),
            (
                ValueKind::Tag,
                Rule::ForbiddenByte {
                    byte: b'+',
                    position: 1
                }
            )
        );
        assert_eq!(
            parts(IString::new(Bytes::from_static(b"ab\0"))),
            (
                ValueKind::String,
                Rule::ForbiddenByte {
                    byte: 0,
                    position: 2
                }
            )
        );
        assert_eq!(
            parts(Text::new(Bytes::from_static(b"x\ry"))),
            (
                ValueKind::Text,
                Rule::ForbiddenByte {
                    byte: b'\r',
                    position: 1
                }
            )
        );
        assert!(matches!(
            parts(Text::new(Bytes::from_static(b"see {5}"))),
            (ValueKind::Text, Rule::Constraint(_))
        ));
        assert_eq!(
            parts(Charset::new(Bytes::from_static(b"utf\xff"))),
            (
                ValueKind::Charset,
                Rule::ForbiddenByte {
                    byte: 0xff,
                    position: 3
                }
            )
        );
        assert_eq!(
            parts(crate::fetch::ObjectId::new(Bytes::from(vec![b'a'; 256]))),
            (ValueKind::ObjectId, Rule::TooLong { max: 255 })
        );
        assert_eq!(
            parts(crate::sequence::Uid::new(0)),
            (ValueKind::Uid, Rule::Zero)
        );
        assert_eq!(
            parts(crate::sequence::SeqNum::new(0)),
            (ValueKind::SeqNumber, Rule::Zero)
        );
        assert_eq!(
            parts(crate::datetime::Date::new(2024, 2, 30)),
            (ValueKind::Day, Rule::OutOfRange)
        );
        assert_eq!(
            parts(crate::datetime::Date::new(2024, 13, 1)),
            (ValueKind::Month, Rule::OutOfRange)
        );
        assert_eq!(
            parts(crate::sequence::SequenceSet::new(vec![])),
            (ValueKind::SequenceSet, Rule::Empty)
        );
        assert_eq!(
            parts(crate::mailbox::Mailbox::Other(IString::try_from("inbox").unwrap()).validate()),
            (ValueKind::Mailbox, Rule::KnownName)
        );
        assert_eq!(
            parts(
                crate::capability::AuthMechanism::Other(Atom::try_from("plain").unwrap())
                    .validate()
            ),
            (ValueKind::AuthMechanism, Rule::KnownName)
        );
    }

    #[test]
    fn position_accessor() {
        let e = Atom::try_from("a(b").unwrap_err();
        assert_eq!(e.position(), Some(1));
        assert_eq!(Atom::try_from("").unwrap_err().position(), None);
        let e = ValidationError::new(
            ValueKind::CommandArguments,
            Rule::Expected {
                expected: "CRLF",
                position: 7,
            },
        );
        assert_eq!(e.position(), Some(7));
    }

    #[test]
    fn display_is_readable() {
        assert_eq!(
            Atom::try_from("").unwrap_err().to_string(),
            "invalid atom: empty"
        );
        assert_eq!(
            Tag::try_from("a\x01").unwrap_err().to_string(),
            "invalid tag: forbidden byte 0x01 at byte 1"
        );
        assert_eq!(
            crate::sequence::Uid::new(0).unwrap_err().to_string(),
            "invalid UID: must not be zero"
        );
        assert_eq!(
            ValidationError::grammar("tagged-ext-comp", "nested list must not be empty")
                .to_string(),
            "invalid tagged-ext-comp: nested list must not be empty"
        );
        assert_eq!(
            ValidationError::new(ValueKind::Grammar("MODSEQ"), Rule::OutOfRange).to_string(),
            "invalid MODSEQ: out of range"
        );
    }
}
