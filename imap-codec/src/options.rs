//! Decoding profiles (strict RFC 9051 §9 grammar, or lenient towards known server defects),
//! the quirk families the lenient profile tolerates, and the limits that bound memory.

use std::fmt;

/// A family of protocol defects that real peers are known to send (see `shared/quirks`).
///
/// The lenient profile tolerates each family and maps the input to the nearest valid value;
/// every tolerated instance is reported as a [`Warning`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Quirk {
    /// Doubled, stray or trailing spaces (e.g. `SEARCH 1 2 \r\n`, `FLAGS (\Seen )`).
    ExtraSpaces,
    /// Missing text after a status or response code (`* BYE\r\n`, `+\r\n`).
    MissingText,
    /// `NIL` or `()` where a string or a non-empty list is required.
    NilOrEmpty,
    /// Zero, negative, decimal or exponent numbers where a number is required.
    BadNumbers,
    /// A BODY/BODYSTRUCTURE that does not follow the grammar (kept raw).
    MalformedBodyStructure,
    /// An ENVELOPE with extra parentheses or missing/odd fields.
    MalformedEnvelope,
    /// A DQUOTE inside a quoted string without its backslash.
    UnescapedQuotes,
    /// A backslash escaping something else than `"` or `\`.
    BadEscapes,
    /// Raw 8-bit bytes (or NUL) where only 7-bit text is allowed.
    EightBit,
    /// Flags or keywords outside the atom grammar (`\`, `]`, spaces from mailbox names).
    OddFlags,
    /// A response code without the status word before it (`* [CODE] text`).
    CodeWithoutStatus,
    /// Lines that are not IMAP at all, and NUL padding before a line.
    NonImapLine,
    /// A bare LF instead of CRLF.
    BareLf,
    /// Atoms with characters the grammar forbids (e.g. capability `LITERAL +`).
    BadAtoms,
    /// `CHANGEDSINCE 0` and similar zero values in client commands (server side).
    ZeroModSeq,
}

impl Quirk {
    /// A short human description of the family.
    pub fn description(self) -> &'static str {
        match self {
            Quirk::ExtraSpaces => "extra or trailing spaces",
            Quirk::MissingText => "missing text",
            Quirk::NilOrEmpty => "NIL or () where a value is required",
            Quirk::BadNumbers => "zero, negative or non-decimal number",
            Quirk::MalformedBodyStructure => "malformed body structure",
            Quirk::MalformedEnvelope => "malformed envelope",
            Quirk::UnescapedQuotes => "unescaped DQUOTE in quoted string",
            Quirk::BadEscapes => "invalid backslash escape",
            Quirk::EightBit => "8-bit or NUL byte in 7-bit text",
            Quirk::OddFlags => "flag or keyword outside the atom grammar",
            Quirk::CodeWithoutStatus => "response code without status word",
            Quirk::NonImapLine => "non-IMAP line or NUL padding",
            Quirk::BareLf => "bare LF line ending",
            Quirk::BadAtoms => "atom with forbidden characters",
            Quirk::ZeroModSeq => "zero mod-sequence",
        }
    }
}

impl fmt::Display for Quirk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// One tolerated defect: which family, and where in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warning {
    /// The family of the defect.
    pub quirk: Quirk,
    /// Byte offset inside the message.
    pub offset: usize,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.quirk, self.offset)
    }
}

/// Which grammar the decoder applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Profile {
    /// The RFC grammar exactly.
    #[default]
    Strict,
    /// The RFC grammar plus every [`Quirk`] family.
    Lenient,
}

/// Options for decoding one connection's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Strict or lenient.
    pub profile: Profile,
    /// UTF-8 allowed in quoted strings and mailbox names (`UTF8=ACCEPT` enabled, or IMAP4rev2).
    pub utf8: bool,
    /// Maximum nesting depth of parenthesised lists (body structures, search keys).
    pub max_depth: u32,
    /// Maximum number of items in one list (flags, sequence set parts, search results...).
    pub max_list_items: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self::strict()
    }
}

impl DecodeOptions {
    /// The strict profile with default bounds.
    pub const fn strict() -> Self {
        DecodeOptions {
            profile: Profile::Strict,
            utf8: true,
            max_depth: 64,
            max_list_items: 1 << 20,
        }
    }

    /// The lenient profile with default bounds.
    pub const fn lenient() -> Self {
        DecodeOptions {
            profile: Profile::Lenient,
            ..Self::strict()
        }
    }

    /// Whether `quirk` is tolerated.
    #[inline]
    pub fn allows(&self, _quirk: Quirk) -> bool {
        matches!(self.profile, Profile::Lenient)
    }
}

/// Bounds the framer enforces on every message (see [`crate::framer::Framer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line (without literal data), CRLF included.
    pub max_line: usize,
    /// Largest single literal.
    pub max_literal: u64,
    /// Largest whole message (lines plus literals).
    pub max_message: u64,
    /// Most literals in one message.
    pub max_literals: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 1 << 20,
            max_literal: 64 << 20,
            max_message: 80 << 20,
            max_literals: 4096,
        }
    }
}
