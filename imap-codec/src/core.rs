//! Core string types of RFC 9051 §4.3 and §9: `atom`, `tag`, `astring`/`string`/`nstring`,
//! `text`, plus [`Secret`] for values that must never be logged.
//!
//! Every type is backed by [`Bytes`], is validated on construction, and holds only its content:
//! the wire form (atom, quoted or literal) is chosen by the encoder.

use std::fmt;

use bytes::Bytes;

use crate::encode::{Encode, EncodeBuf};
use crate::error::{Rule, ValidationError, ValueKind, forbidden_byte};
use crate::parse::{PResult, Parser, class};

macro_rules! bytes_newtype_common {
    ($t:ident) => {
        impl $t {
            /// The content bytes.
            #[inline]
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }
            /// The content as a shared buffer.
            #[inline]
            pub fn to_bytes(&self) -> Bytes {
                self.0.clone()
            }
            /// The content as text, replacing invalid UTF-8.
            pub fn to_str_lossy(&self) -> std::borrow::Cow<'_, str> {
                String::from_utf8_lossy(&self.0)
            }
        }
        impl AsRef<[u8]> for $t {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($t), crate::error::Excerpt(&self.0))
            }
        }
        impl TryFrom<&str> for $t {
            type Error = ValidationError;
            fn try_from(s: &str) -> Result<Self, ValidationError> {
                Self::new(Bytes::copy_from_slice(s.as_bytes()))
            }
        }
        impl TryFrom<String> for $t {
            type Error = ValidationError;
            fn try_from(s: String) -> Result<Self, ValidationError> {
                Self::new(Bytes::from(s))
            }
        }
        impl TryFrom<&[u8]> for $t {
            type Error = ValidationError;
            fn try_from(s: &[u8]) -> Result<Self, ValidationError> {
                Self::new(Bytes::copy_from_slice(s))
            }
        }
        impl TryFrom<Vec<u8>> for $t {
            type Error = ValidationError;
            fn try_from(s: Vec<u8>) -> Result<Self, ValidationError> {
                Self::new(Bytes::from(s))
            }
        }
        impl TryFrom<Bytes> for $t {
            type Error = ValidationError;
            fn try_from(s: Bytes) -> Result<Self, ValidationError> {
                Self::new(s)
            }
        }
    };
}

/// `atom` = 1*ATOM-CHAR. Compared case-sensitively; use [`Atom::eq_ignore_case`] for keywords.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Atom(Bytes);

bytes_newtype_common!(Atom);

impl Atom {
    /// Validates `b` as an atom.
    pub fn new(b: impl Into<Bytes>) -> Result<Self, ValidationError> {
        let b = b.into();
        if b.is_empty() {
            return Err(ValidationError::new(ValueKind::Atom, Rule::Empty));
        }
        // an atom-special, SP, CTL or 8-bit byte
        if let Some(rule) = forbidden_byte(&b, class::is_atom_char) {
            return Err(ValidationError::new(ValueKind::Atom, rule));
        }
        Ok(Atom(b))
    }

    /// An atom from a static string that is known to be valid (checked in debug builds).
    pub(crate) fn from_static(s: &'static str) -> Self {
        debug_assert!(!s.is_empty() && s.bytes().all(class::is_atom_char));
        Atom(Bytes::from_static(s.as_bytes()))
    }

    /// Wraps bytes the parser has already validated.
    #[inline]
    pub(crate) fn unchecked(b: Bytes) -> Self {
        Atom(b)
    }

    /// ASCII case-insensitive comparison.
    pub fn eq_ignore_case(&self, other: &[u8]) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }

    /// The atom as `&str` (atoms are ASCII).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        p.atom().map(Atom)
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Encode for Atom {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.raw(&self.0);
    }
}

/// `tag` = 1*<any ASTRING-CHAR except "+">.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(Bytes);

/// [`class::is_tag_char`] as a table.
const TAG_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = class::is_tag_char(i as u8);
        i += 1;
    }
    t
};

/// Length of the leading run of tag bytes of `r` (`take_while(class::is_tag_char)`): whole
/// words while eight bytes are left, then byte by byte. In a word, the bytes that may end the
/// run are flagged with a few operations: below 0x2c (`+`, SP, CTL, `"`, `%`, `(`, `)`, `*`:
/// a borrow only follows a flagged byte and only adds flags), above 0x7a (a carry likewise),
/// 8-bit, or the backslash. That is every byte that is not a tag byte and a few that are (`!`,
/// `#`, `|`, ...), which the table confirms and passes over.
#[inline]
fn tag_run(r: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(w) = r.get(i..i + 8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let x = u64::from_le_bytes(a);
        let low = x.wrapping_sub(ONES * 0x2c) & !x;
        let high = x.wrapping_add(ONES * (0x80 - 0x7b)) | x;
        let v = x ^ (ONES * b'\\' as u64);
        let bs = v.wrapping_sub(ONES) & !v;
        let mut bad = (low | high | bs) & HIGH;
        while bad != 0 {
            let k = (bad.trailing_zeros() / 8) as usize;
            if !TAG_CHAR[a[k] as usize] {
                return i + k;
            }
            bad &= bad - 1;
        }
        i += 8;
    }
    let tail = r.get(i..).unwrap_or_default();
    i + tail
        .iter()
        .position(|&c| !TAG_CHAR[c as usize])
        .unwrap_or(tail.len())
}

bytes_newtype_common!(Tag);

impl Tag {
    /// Validates `b` as a tag.
    pub fn new(b: impl Into<Bytes>) -> Result<Self, ValidationError> {
        let b = b.into();
        if b.is_empty() {
            return Err(ValidationError::new(ValueKind::Tag, Rule::Empty));
        }
        // '+', an atom-special, SP or CTL
        if let Some(rule) = forbidden_byte(&b, class::is_tag_char) {
            return Err(ValidationError::new(ValueKind::Tag, rule));
        }
        Ok(Tag(b))
    }

    /// The tag as `&str` (tags are ASCII).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// An empty tag, only for a value about to be overwritten (see `Command::parse_into`).
    pub(crate) fn placeholder() -> Self {
        Tag(Bytes::new())
    }

    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        Self::parse_inline(p)
    }

    /// Writes `t` over `self`. An empty tag is only ever [`placeholder`](Self::placeholder)'s
    /// (every other constructor refuses one), whose static empty buffer owns nothing: it is
    /// overwritten without the call to the buffer's drop; any other tag is dropped as by
    /// `*self = t`.
    #[inline(always)]
    pub(crate) fn put(&mut self, t: Tag) {
        if self.0.is_empty() {
            std::mem::forget(std::mem::replace(self, t));
        } else {
            *self = t;
        }
    }

    /// [`parse`](Self::parse), inlined where every command starts (`Command::parse_into`).
    #[inline(always)]
    pub(crate) fn parse_inline(p: &mut Parser<'_>) -> PResult<Self> {
        // `take_while(class::is_tag_char)`, eight bytes at a time
        let start = p.pos;
        let n = tag_run(p.rest());
        if n == 0 {
            return Err(p.fail("tag"));
        }
        p.pos = start + n;
        Ok(Tag(p.slice(start, start + n)))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Encode for Tag {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.raw(&self.0);
    }
}

/// A string value: the content of an `astring`, `string` or non-NIL `nstring` (RFC 9051 §4.3).
///
/// Any bytes except NUL. The encoder sends it as an atom (where the grammar allows one),
/// quoted string or literal, whichever is valid and shortest.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct IString(Bytes);

bytes_newtype_common!(IString);

/// `astring`: the same value type as [`IString`]; the grammar position decides the wire form.
pub type AString = IString;

/// `nstring`: a string or NIL.
pub type NString = Option<IString>;

impl IString {
    /// Validates `b` (no NUL byte).
    pub fn new(b: impl Into<Bytes>) -> Result<Self, ValidationError> {
        let b = b.into();
        if let Some(position) = memchr::memchr(0, &b) {
            return Err(ValidationError::new(
                ValueKind::String,
                Rule::ForbiddenByte { byte: 0, position },
            ));
        }
        Ok(IString(b))
    }

    /// Wraps bytes the parser has already validated.
    #[inline]
    pub(crate) fn unchecked(b: Bytes) -> Self {
        IString(b)
    }

    /// Whether the content is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parses an `astring`.
    #[inline]
    pub(crate) fn parse_astring(p: &mut Parser<'_>) -> PResult<Self> {
        p.astring().map(IString)
    }

    /// Parses a `string`.
    pub(crate) fn parse_string(p: &mut Parser<'_>) -> PResult<Self> {
        p.string().map(IString)
    }

    /// Parses an `nstring`.
    #[inline]
    pub(crate) fn parse_nstring(p: &mut Parser<'_>) -> PResult<Option<Self>> {
        p.nstring().map(|o| o.map(IString))
    }

    /// Encodes as `astring`.
    pub(crate) fn encode_astring(&self, buf: &mut EncodeBuf) {
        buf.astring(&self.0);
    }

    /// Encodes as `string`.
    pub(crate) fn encode_string(&self, buf: &mut EncodeBuf) {
        buf.string(&self.0);
    }

    /// Encodes an `nstring`.
    pub(crate) fn encode_nstring(v: &Option<Self>, buf: &mut EncodeBuf) {
        buf.nstring(v.as_ref().map(|s| &s.0[..]));
    }
}

impl From<Atom> for IString {
    fn from(a: Atom) -> Self {
        IString(a.0)
    }
}

/// `text` = 1*TEXT-CHAR: human-readable text at the end of a response (may be empty when
/// the grammar allows it to be absent).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text(Bytes);

bytes_newtype_common!(Text);

impl Text {
    /// Validates `b`: no CR, LF or NUL, and not ending like a literal announcement (`{5}`,
    /// `{5+}`): text comes last on its line, and a receiver's framer would wait for a literal.
    pub fn new(b: impl Into<Bytes>) -> Result<Self, ValidationError> {
        let b = b.into();
        // CR, LF or NUL
        if let Some(rule) = forbidden_byte(&b, class::is_text_char) {
            return Err(ValidationError::new(ValueKind::Text, rule));
        }
        if crate::framer::parse_announcement(&b) != Ok(None) {
            return Err(ValidationError::new(
                ValueKind::Text,
                Rule::Constraint(
                    "ends like a literal announcement ({n}), which a receiver would wait for",
                ),
            ));
        }
        Ok(Text(b))
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parses the rest of the line as text (possibly empty). NUL bytes fail.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let start = p.pos;
        let t = p.text();
        if let Some(i) = memchr::memchr(0, &t) {
            let at = start + i;
            if !p.tolerate(crate::options::Quirk::EightBit, at) {
                return Err(p.fail_at(at, "TEXT-CHAR"));
            }
            let cleaned: Vec<u8> = t.iter().copied().filter(|&c| c != 0).collect();
            return Ok(Text(Bytes::from(cleaned)));
        }
        Ok(Text(t))
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_str_lossy())
    }
}

impl Encode for Text {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.raw(&self.0);
    }
}

/// A value that must not appear in logs: `Debug` prints `[redacted]`.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret.
    pub fn new(v: T) -> Self {
        Secret(v)
    }

    /// Gives access to the secret. Named so that it stands out in review.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> From<T> for Secret<T> {
    fn from(v: T) -> Self {
        Secret(v)
    }
}

/// A charset name (`charset` = atom / quoted), e.g. in `SEARCH CHARSET`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Charset(Bytes);

bytes_newtype_common!(Charset);

impl Charset {
    /// Validates a charset name (non-empty, no CR/LF/NUL, 7-bit).
    pub fn new(b: impl Into<Bytes>) -> Result<Self, ValidationError> {
        let b = b.into();
        if b.is_empty() {
            return Err(ValidationError::new(ValueKind::Charset, Rule::Empty));
        }
        // 8-bit, CR, LF or NUL
        if let Some(rule) = forbidden_byte(&b, |c| class::is_text_char(c) && c < 0x80) {
            return Err(ValidationError::new(ValueKind::Charset, rule));
        }
        Ok(Charset(b))
    }

    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let start = p.pos;
        let v = if p.peek() == Some(b'"') {
            p.quoted()?
        } else {
            p.atom()?
        };
        // Charset names are registered US-ASCII names (RFC 2978); 8-bit bytes cannot be one
        // and could not be sent back quoted under IMAP4rev1.
        if v.is_empty() || v.iter().any(|&c| c >= 0x80 || !class::is_text_char(c)) {
            return Err(p.fail_at(start, "7-bit charset name"));
        }
        Ok(Charset(v))
    }
}

impl Encode for Charset {
    fn encode(&self, buf: &mut EncodeBuf) {
        // `charset` = atom / quoted: never a literal, whatever its length.
        if self.0.iter().all(|&c| class::is_atom_char(c)) {
            buf.raw(&self.0);
        } else {
            buf.quoted(&self.0);
        }
    }
}

/// Secret bytes.
#[cfg(feature = "arbitrary")]
pub(crate) fn secret_bytes(
    u: &mut arbitrary::Unstructured<'_>,
) -> arbitrary::Result<Secret<Bytes>> {
    crate::arbitrary_util::bytes(u).map(Secret::new)
}

/// Optional secret bytes.
#[cfg(feature = "arbitrary")]
pub(crate) fn opt_secret_bytes(
    u: &mut arbitrary::Unstructured<'_>,
) -> arbitrary::Result<Option<Secret<Bytes>>> {
    Ok(if u.arbitrary()? {
        Some(secret_bytes(u)?)
    } else {
        None
    })
}

/// Strings with optional data (URLFETCH results, METADATA values, SETMETADATA entries).
#[cfg(feature = "arbitrary")]
pub(crate) fn strings_opt_bytes(
    u: &mut arbitrary::Unstructured<'_>,
) -> arbitrary::Result<Vec<(IString, Option<Bytes>)>> {
    let n = u.arbitrary_len::<(IString, u8)>()?;
    (0..n)
        .map(|_| Ok((u.arbitrary()?, crate::arbitrary_util::opt_bytes(u)?)))
        .collect()
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies for the core types.
    use super::*;
    use proptest::prelude::*;

    /// Atoms from the atom character class.
    pub(crate) fn atom() -> impl Strategy<Value = Atom> {
        "[A-Za-z0-9_.!#&'+,\\-/:;<=>?@^`|~$]{1,12}".prop_map(|s| Atom::try_from(s).unwrap())
    }

    /// Tags.
    pub(crate) fn tag() -> impl Strategy<Value = Tag> {
        "[A-Za-z0-9.]{1,8}".prop_map(|s| Tag::try_from(s).unwrap())
    }

    /// Any string content: atom-like, quotable, and literal-only bytes.
    pub(crate) fn istring() -> impl Strategy<Value = IString> {
        prop_oneof![
            "[A-Za-z0-9]{1,10}".prop_map(|s| IString::try_from(s).unwrap()),
            "[ -~]{0,20}".prop_map(|s| IString::try_from(s).unwrap()),
            proptest::collection::vec(1u8..=255, 0..30).prop_map(|v| IString::try_from(v).unwrap()),
        ]
    }

    /// Text without CR/LF, not starting with '[' and not ending like `{n}`.
    pub(crate) fn text() -> impl Strategy<Value = Text> {
        "[A-Za-z0-9][ -~]{0,30}".prop_filter_map("ends like a literal announcement", |s| {
            Text::try_from(s).ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::DecodeOptions;

    /// `Tag::put` gives what `*slot = t` gives over the placeholder and over a parsed tag,
    /// and the parsed tag it replaces lets go of its buffer (only the placeholder's drop is
    /// skipped).
    #[test]
    fn tag_put_is_assignment() {
        let o = DecodeOptions::strict();
        let src = Bytes::from(b"A17 NOOP\r\nB2 NOOP\r\n".to_vec());
        let (mut p, mut q) = (Parser::new(&src, &o), Parser::new(&src, &o));
        let mut slot = Tag::placeholder();
        slot.put(Tag::parse(&mut p).unwrap());
        let want = Tag::parse(&mut q).unwrap();
        assert_eq!((slot.as_bytes(), p.pos), (want.as_bytes(), q.pos));
        assert_eq!(slot.as_bytes(), b"A17");
        drop((want, p, q));
        // a tag over a tag: the old one's buffer is released
        let other = Bytes::from(b"C3 NOOP\r\n".to_vec());
        let mut r = Parser::new(&other, &o);
        let c3 = Tag::parse(&mut r).unwrap();
        drop(r);
        assert!(!other.is_unique());
        let mut held = c3;
        held.put(Tag::try_from("D4").unwrap());
        assert_eq!(held.as_bytes(), b"D4");
        assert!(
            other.is_unique(),
            "the replaced tag's buffer was not released"
        );
        drop(slot);
        assert!(src.is_unique());
    }

    /// The tag table scan gives what `take_while(class::is_tag_char)` gave: every byte as
    /// the first, second and a later tag byte, both profiles.
    #[test]
    fn tag_parse_matches_take_while() {
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for c in 0..=255u8 {
                for input in [
                    vec![c],
                    vec![c, b'1'],
                    vec![b'A', c],
                    vec![b'A', b'0', b'0', c, b' '],
                    vec![],
                ]
                .into_iter()
                // every place of the word scan's first two words and of the byte tail
                .chain((0..19).map(|at| {
                    let mut v = b"A0123456789abcdefgh X".to_vec();
                    v[at] = c;
                    v
                }))
                .chain((0..17).map(|len| {
                    let mut v = vec![b'T'; len];
                    v.push(c);
                    v
                })) {
                    let b = Bytes::from(input);
                    let mut p = Parser::new(&b, &o);
                    let r = Tag::parse(&mut p);
                    let mut q = Parser::new(&b, &o);
                    let t = q.take_while(class::is_tag_char);
                    if t.is_empty() {
                        assert!(r.is_err(), "{b:?}");
                        let _ = q.fail("tag");
                        assert_eq!(p.error(), q.error(), "{b:?}");
                    } else {
                        assert_eq!(r.map(|t| t.0), Ok(t), "{b:?}");
                    }
                    assert_eq!(p.pos, q.pos, "{b:?}");
                }
            }
        }
    }

    proptest::proptest! {
        /// The word scan against the table, byte by byte, on runs of tag bytes (mostly the
        /// ones the word test flags and passes over) with any byte among them.
        #[test]
        fn tag_run_matches_table(
            v in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(b"!#&'-/]^_`|}~A0aZz,.:;<=>?@[".to_vec()),
                    proptest::num::u8::ANY,
                ],
                0..40,
            )
        ) {
            let table = v.iter().position(|&c| !TAG_CHAR[c as usize]).unwrap_or(v.len());
            proptest::prop_assert_eq!(tag_run(&v), table);
        }
    }
}
