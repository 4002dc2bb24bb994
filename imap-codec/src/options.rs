//! Decoding options (RFC 9051 §9 grammar strictly, or with per-family tolerance of known peer
//! defects: [`QuirkSet`]), the quirk families, and the limits that bound memory.
//!
//! The option and limit structs (and [`FramerConfig`](crate::framer::FramerConfig)) will
//! grow: they are `#[non_exhaustive]`, so code outside this crate builds them from a
//! constructor and `with_*` builders, never with a struct expression (error E0639):
//!
//! ```compile_fail,E0639
//! let _ = imapwire_codec::Limits { max_line: 100, ..imapwire_codec::Limits::new() };
//! ```
//!
//! ```compile_fail,E0639
//! let _ = imapwire_codec::DecodeOptions {
//!     max_depth: 8,
//!     ..imapwire_codec::DecodeOptions::strict()
//! };
//! ```
//!
//! ```compile_fail,E0639
//! let _ = imapwire_codec::EncodeOptions {
//!     utf8_quoted: true,
//!     ..imapwire_codec::EncodeOptions::new()
//! };
//! ```
//!
//! ```compile_fail,E0639
//! let _ = imapwire_codec::framer::FramerConfig {
//!     await_sync_literals: true,
//!     ..imapwire_codec::framer::FramerConfig::default()
//! };
//! ```
//!
//! ```
//! use imapwire_codec::framer::FramerConfig;
//! let f = FramerConfig::default().with_await_sync_literals(true);
//! assert_eq!(f, FramerConfig::server());
//! let l = imapwire_codec::Limits::default().with_max_line(100);
//! assert_eq!(l.max_line, 100);
//! ```

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
    /// A status response whose response code or text does not parse: kept as text, so the
    /// completion is not lost.
    MalformedCode,
}

impl Quirk {
    /// Every family, in declaration order.
    pub const ALL: &'static [Quirk] = &[
        Quirk::ExtraSpaces,
        Quirk::MissingText,
        Quirk::NilOrEmpty,
        Quirk::BadNumbers,
        Quirk::MalformedBodyStructure,
        Quirk::MalformedEnvelope,
        Quirk::UnescapedQuotes,
        Quirk::BadEscapes,
        Quirk::EightBit,
        Quirk::OddFlags,
        Quirk::CodeWithoutStatus,
        Quirk::NonImapLine,
        Quirk::BareLf,
        Quirk::BadAtoms,
        Quirk::ZeroModSeq,
        Quirk::MalformedCode,
    ];

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
            Quirk::MalformedCode => "unparsable response code or status text (kept as text)",
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
#[non_exhaustive]
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

/// Which grammar the decoder applies: a named [`QuirkSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Profile {
    /// The RFC grammar exactly ([`QuirkSet::none`]).
    #[default]
    Strict,
    /// The RFC grammar plus every [`Quirk`] family ([`QuirkSet::all`]).
    Lenient,
}

impl Profile {
    /// The quirks this profile tolerates.
    pub const fn quirks(self) -> QuirkSet {
        match self {
            Profile::Strict => QuirkSet::none(),
            Profile::Lenient => QuirkSet::all(),
        }
    }
}

/// A set of [`Quirk`] families, one switch per family (as httparse's `ParserConfig` has one
/// switch per tolerance).
///
/// ```
/// use imapwire_codec::options::{Quirk, QuirkSet};
/// let q = QuirkSet::none().with(Quirk::BareLf).with(Quirk::ExtraSpaces);
/// assert!(q.contains(Quirk::BareLf) && !q.contains(Quirk::EightBit));
/// assert!(!QuirkSet::all().without(Quirk::BareLf).contains(Quirk::BareLf));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct QuirkSet(u32);

impl QuirkSet {
    /// No quirk tolerated (the strict profile).
    pub const fn none() -> Self {
        QuirkSet(0)
    }

    /// Every quirk tolerated (the lenient profile).
    pub const fn all() -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < Quirk::ALL.len() {
            bits |= Self::bit(Quirk::ALL[i]);
            i += 1;
        }
        QuirkSet(bits)
    }

    #[inline(always)]
    const fn bit(q: Quirk) -> u32 {
        1 << (q as u32)
    }

    /// This set with `quirk` added.
    #[must_use]
    pub const fn with(self, quirk: Quirk) -> Self {
        QuirkSet(self.0 | Self::bit(quirk))
    }

    /// This set with `quirk` removed.
    #[must_use]
    pub const fn without(self, quirk: Quirk) -> Self {
        QuirkSet(self.0 & !Self::bit(quirk))
    }

    /// Whether `quirk` is in the set.
    #[inline(always)]
    pub const fn contains(self, quirk: Quirk) -> bool {
        self.0 & Self::bit(quirk) != 0
    }

    /// Whether no quirk is in the set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The quirks in the set, in [`Quirk::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Quirk> {
        Quirk::ALL
            .iter()
            .copied()
            .filter(move |&q| self.contains(q))
    }
}

impl FromIterator<Quirk> for QuirkSet {
    fn from_iter<I: IntoIterator<Item = Quirk>>(iter: I) -> Self {
        iter.into_iter().fold(QuirkSet::none(), QuirkSet::with)
    }
}

impl fmt::Debug for QuirkSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Options for decoding one connection's messages.
///
/// Build with [`DecodeOptions::strict`], [`DecodeOptions::lenient`] or
/// [`DecodeOptions::profile`] and the `with_*` methods:
///
/// ```
/// use imapwire_codec::{DecodeOptions, Quirk};
/// let o = DecodeOptions::strict().with_quirk(Quirk::BareLf).with_max_depth(16);
/// assert!(o.allows(Quirk::BareLf) && !o.allows(Quirk::ExtraSpaces));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// The quirk families tolerated (see [`DecodeOptions::allows`]).
    pub quirks: QuirkSet,
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
            quirks: QuirkSet::none(),
            utf8: true,
            max_depth: 64,
            max_list_items: 1 << 20,
        }
    }

    /// The lenient profile with default bounds.
    pub const fn lenient() -> Self {
        Self::profile(Profile::Lenient)
    }

    /// A profile with default bounds.
    pub const fn profile(profile: Profile) -> Self {
        Self::strict().with_quirks(profile.quirks())
    }

    /// These options tolerating exactly `quirks`.
    #[must_use]
    pub const fn with_quirks(mut self, quirks: QuirkSet) -> Self {
        self.quirks = quirks;
        self
    }

    /// These options also tolerating `quirk`.
    #[must_use]
    pub const fn with_quirk(mut self, quirk: Quirk) -> Self {
        self.quirks = self.quirks.with(quirk);
        self
    }

    /// These options no longer tolerating `quirk`.
    #[must_use]
    pub const fn without_quirk(mut self, quirk: Quirk) -> Self {
        self.quirks = self.quirks.without(quirk);
        self
    }

    field_builders! {
        /// These options with `utf8` set.
        with_utf8(utf8: bool);

        /// These options with `max_depth` set.
        with_max_depth(max_depth: u32);

        /// These options with `max_list_items` set.
        with_max_list_items(max_list_items: usize);
    }

    /// Whether `quirk` is tolerated.
    #[inline]
    pub const fn allows(&self, quirk: Quirk) -> bool {
        self.quirks.contains(quirk)
    }
}

/// Bounds the framer enforces on every message (see [`crate::framer::Framer`]).
///
/// Build with [`Limits::default`] and the `with_*` methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
        Self::new()
    }
}

impl Limits {
    /// The default bounds: 1 MiB lines, 64 MiB literals, 80 MiB messages, 4096 literals.
    pub const fn new() -> Self {
        Limits {
            max_line: 1 << 20,
            max_literal: 64 << 20,
            max_message: 80 << 20,
            max_literals: 4096,
        }
    }

    field_builders! {
        /// These limits with `max_line` set.
        with_max_line(max_line: usize);

        /// These limits with `max_literal` set.
        with_max_literal(max_literal: u64);

        /// These limits with `max_message` set.
        with_max_message(max_message: u64);

        /// These limits with `max_literals` set.
        with_max_literals(max_literals: usize);
    }
}

// Every quirk has its own bit in a `u32`.
const _: () = assert!(Quirk::ALL.len() <= 32);

#[cfg(test)]
mod tests {
    use super::*;

    /// `Quirk::ALL` lists every variant once, at the index of its discriminant (the bit
    /// [`QuirkSet`] uses); the exhaustive match makes a new variant fail to compile here.
    #[test]
    fn all_lists_every_quirk_by_discriminant() {
        for (i, &q) in Quirk::ALL.iter().enumerate() {
            let listed = match q {
                Quirk::ExtraSpaces
                | Quirk::MissingText
                | Quirk::NilOrEmpty
                | Quirk::BadNumbers
                | Quirk::MalformedBodyStructure
                | Quirk::MalformedEnvelope
                | Quirk::UnescapedQuotes
                | Quirk::BadEscapes
                | Quirk::EightBit
                | Quirk::OddFlags
                | Quirk::CodeWithoutStatus
                | Quirk::NonImapLine
                | Quirk::BareLf
                | Quirk::BadAtoms
                | Quirk::ZeroModSeq
                | Quirk::MalformedCode => q as usize,
            };
            assert_eq!(listed, i, "{q:?}");
        }
        assert_eq!(Quirk::ALL.len(), Quirk::MalformedCode as usize + 1);
    }

    #[test]
    fn profiles_are_quirk_sets() {
        assert_eq!(Profile::Strict.quirks(), QuirkSet::none());
        assert_eq!(Profile::Lenient.quirks(), QuirkSet::all());
        assert_eq!(
            DecodeOptions::profile(Profile::Strict),
            DecodeOptions::strict()
        );
        assert_eq!(DecodeOptions::default(), DecodeOptions::strict());
        let o = DecodeOptions::strict()
            .with_utf8(false)
            .with_max_depth(3)
            .with_max_list_items(7);
        assert!(!o.utf8 && o.max_depth == 3 && o.max_list_items == 7);
    }

    #[test]
    fn limits_builders() {
        let l = Limits::default()
            .with_max_line(10)
            .with_max_literal(20)
            .with_max_message(30)
            .with_max_literals(2);
        assert_eq!(
            (l.max_line, l.max_literal, l.max_message, l.max_literals),
            (10, 20, 30, 2)
        );
        assert_eq!(Limits::new(), Limits::default());
        let d = Limits::default();
        assert_eq!(d.with_max_line(d.max_line), d);
    }

    #[test]
    fn encode_options_builders() {
        use crate::encode::{EncodeOptions, LiteralMode};
        let o = EncodeOptions::new()
            .with_literal_mode(LiteralMode::NonSync)
            .with_max_non_sync(Some(5))
            .with_utf8_quoted(true)
            .with_max_quoted(9);
        assert_eq!(o.literal_mode, LiteralMode::NonSync);
        assert_eq!(
            (o.max_non_sync, o.utf8_quoted, o.max_quoted),
            (Some(5), true, 9)
        );
        assert_eq!(EncodeOptions::new(), EncodeOptions::default());
    }
}
