//! FETCH data items (RFC 9051 §6.4.5 `fetch-att`, §7.5.2 `msg-att`, §9 `section`,
//! `section-binary`, `partial`; RFC 3501 `RFC822*` items; BINARY RFC 3516; CONDSTORE MODSEQ
//! RFC 7162; PREVIEW RFC 8970; OBJECTID EMAILID/THREADID RFC 8474; SAVEDATE RFC 8514;
//! Gmail `X-GM-MSGID`, `X-GM-THRID`, `X-GM-LABELS`).
//!
//! Command side: [`FetchItems`] (macro or list of [`FetchAttribute`]). Response side:
//! [`MessageDataItem`] (one `msg-att` item). Body section contents are slices of the
//! received message: a `BODY[]` literal is neither copied nor scanned.
//!
//! Numbers that are `number64` on the wire are `u64` here; values above 2^63-1 cannot be sent
//! and are encoded saturated to 2^63-1.

use std::fmt;
use std::num::{NonZeroU32, NonZeroU64};

use bytes::Bytes;

use crate::body::BodyStructure;
use crate::core::{AString, Atom, IString, NString};
use crate::datetime::DateTime;
use crate::encode::{Encode, EncodeBuf, LiteralMark, LiteralMode};
use crate::envelope::Envelope;
use crate::error::{Rule, ValidationError, ValueKind, forbidden_byte};
use crate::flag::{FetchFlags, FlagFetch, parse_fetch_flags_into, parse_flag_list};
use crate::list::SmallList;
use crate::names::name_enum;
use crate::options::{DecodeOptions, Quirk};
use crate::parse::{PResult, Parser};
use crate::sequence::Uid;

const MAX_NUMBER64: u64 = i64::MAX as u64;

/// Writes a `number64`, saturating at 2^63-1.
#[inline]
fn num64(buf: &mut EncodeBuf, v: u64) {
    buf.num(v.min(MAX_NUMBER64));
}

// ------------------------------------------------------------------------------------------
// sections

/// `section-part`: a body part number path such as `1.2.3` (never empty, no zero).
///
/// Kept as the wire bytes (which are canonical: `nz-number` has no leading zeros), so decoding
/// does not allocate; [`Part::numbers`] iterates the numbers.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Part(Bytes);

impl Part {
    /// A part path from its numbers; fails when empty.
    pub fn new(numbers: &[NonZeroU32]) -> Result<Self, ValidationError> {
        if numbers.is_empty() {
            return Err(ValidationError::new(ValueKind::SectionPart, Rule::Empty));
        }
        let mut b = EncodeBuf::new();
        for (i, n) in numbers.iter().enumerate() {
            if i > 0 {
                b.byte(b'.');
            }
            b.num(n.get());
        }
        Ok(Part(Bytes::from(b.out)))
    }

    /// The part numbers, outermost first.
    pub fn numbers(&self) -> impl Iterator<Item = NonZeroU32> + '_ {
        self.0.split(|&c| c == b'.').map(|d| {
            let v = d.iter().fold(0u32, |v, &c| {
                v.wrapping_mul(10).wrapping_add((c - b'0') as u32)
            });
            NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN)
        })
    }

    /// The wire form, e.g. `b"1.2"`.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// `nz-number *("." nz-number)`; a `.` not followed by a digit is left alone.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let start = p.pos;
        loop {
            if !matches!(p.peek(), Some(b'1'..=b'9')) {
                return Err(p.fail("nz-number"));
            }
            let ns = p.pos;
            let mut v: u64 = 0;
            while let Some(c @ b'0'..=b'9') = p.peek() {
                v = v * 10 + (c - b'0') as u64;
                if v > u32::MAX as u64 {
                    return Err(p.fail_at(ns, "nz-number (32-bit)"));
                }
                p.pos += 1;
            }
            if p.peek() == Some(b'.') && matches!(p.peek_at(1), Some(b'0'..=b'9')) {
                p.pos += 1;
                continue;
            }
            return Ok(Part(p.slice(start, p.pos)));
        }
    }
}

impl std::fmt::Debug for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Part({})", String::from_utf8_lossy(&self.0))
    }
}

impl Encode for Part {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.raw(&self.0);
    }
}

/// `header-list`: the header field names of `HEADER.FIELDS [.NOT]` (non-empty list of
/// non-empty names).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HeaderList(Vec<AString>);

impl HeaderList {
    /// Validates a non-empty list of non-empty field names.
    pub fn new(names: Vec<AString>) -> Result<Self, ValidationError> {
        if names.is_empty() {
            return Err(ValidationError::new(ValueKind::HeaderList, Rule::Empty));
        }
        if names.iter().any(|n| n.is_empty()) {
            return Err(ValidationError::new(
                ValueKind::HeaderFieldName,
                Rule::Empty,
            ));
        }
        Ok(HeaderList(names))
    }

    /// The field names.
    pub fn names(&self) -> &[AString] {
        &self.0
    }

    /// One more than the spaces before the first `)` or LF of `rest` (the names' end found
    /// by `memchr2`, the spaces counted over that slice without an early exit: what a byte
    /// loop finds, in fewer steps; test `names_hint_matches_byte_loop`).
    #[inline]
    fn names_hint(rest: &[u8]) -> usize {
        let names = &rest[..memchr::memchr2(b')', b'\n', rest).unwrap_or(rest.len())];
        names.iter().filter(|&&c| c == b' ').count() + 1
    }

    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        p.expect(b'(', "( header-list")?;
        // one allocation for the usual list: at most one name per SP before the `)`, and at
        // most 16 reserved ahead (a run of spaces must not reserve a slot each; a longer
        // list grows as it is parsed)
        let hint = Self::names_hint(p.rest());
        let mut v = Vec::with_capacity(hint.min(16).min(p.opts.max_list_items.saturating_add(1)));
        loop {
            v.push(IString::parse_astring(p)?);
            p.check_items(v.len())?;
            p.skip_trailing_sp();
            if p.eat(b')') {
                return Ok(HeaderList(v));
            }
            p.sp()?;
        }
    }
}

impl Encode for HeaderList {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.list(&self.0, |b, n| n.encode_astring(b));
    }
}

/// `section-spec` (the inside of a non-empty `section`; `BODY[]` has no section).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Section {
    /// `[1.2]`: a body part.
    Part(Part),
    /// `[HEADER]` / `[1.2.HEADER]`: the header of the message or of an encapsulated message.
    Header(Option<Part>),
    /// `[HEADER.FIELDS (...)]`: only the listed header fields.
    HeaderFields(Option<Part>, HeaderList),
    /// `[HEADER.FIELDS.NOT (...)]`: all but the listed header fields.
    HeaderFieldsNot(Option<Part>, HeaderList),
    /// `[TEXT]` / `[1.TEXT]`: the body of the message or of an encapsulated message.
    Text(Option<Part>),
    /// `[1.MIME]`: the MIME header of a part.
    Mime(Part),
}

impl Section {
    /// Parses `section` (`"[" [section-spec] "]"`); `None` for `[]`.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Option<Self>> {
        p.expect(b'[', "[")?;
        if p.eat(b']') {
            return Ok(None);
        }
        let s = if matches!(p.peek(), Some(b'0'..=b'9')) {
            let part = Part::parse(p)?;
            if p.eat(b'.') {
                Self::msgtext(p, Some(part), true)?
            } else {
                Section::Part(part)
            }
        } else {
            Self::msgtext(p, None, false)?
        };
        p.expect(b']', "]")?;
        Ok(Some(s))
    }

    fn msgtext(p: &mut Parser<'_>, part: Option<Part>, mime: bool) -> PResult<Self> {
        // `keyword` only matches at the name's first letter: `TEXT` skips the HEADER tries.
        if matches!(p.peek(), Some(b'T' | b't')) && p.keyword(b"TEXT") {
            return Ok(Section::Text(part));
        }
        // `HEADER.FIELDS[.NOT]` has its dots at 6 and 13: where a dot is missing, `keyword`
        // could not match, so the try is skipped (the tries keep their order)
        let r = p.rest();
        let (dot6, dot13) = (r.get(6) == Some(&b'.'), r.get(13) == Some(&b'.'));
        if dot13 && p.keyword(b"HEADER.FIELDS.NOT") {
            p.sp()?;
            return Ok(Section::HeaderFieldsNot(part, HeaderList::parse(p)?));
        }
        if dot6 && p.keyword(b"HEADER.FIELDS") {
            p.sp()?;
            return Ok(Section::HeaderFields(part, HeaderList::parse(p)?));
        }
        if p.keyword(b"HEADER") {
            return Ok(Section::Header(part));
        }
        if p.keyword(b"TEXT") {
            return Ok(Section::Text(part));
        }
        if mime && p.keyword(b"MIME") {
            if let Some(part) = part {
                return Ok(Section::Mime(part));
            }
        }
        Err(p.fail("section-text"))
    }

    fn encode_part_dot(part: &Option<Part>, buf: &mut EncodeBuf) {
        if let Some(pt) = part {
            pt.encode(buf);
            buf.byte(b'.');
        }
    }

    /// Encodes `"[" [section-spec] "]"`.
    pub(crate) fn encode_section(s: Option<&Self>, buf: &mut EncodeBuf) {
        buf.byte(b'[');
        if let Some(s) = s {
            s.encode(buf);
        }
        buf.byte(b']');
    }
}

impl Encode for Section {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            Section::Part(pt) => pt.encode(buf),
            Section::Header(pt) => {
                Self::encode_part_dot(pt, buf);
                buf.raw(b"HEADER");
            }
            Section::HeaderFields(pt, l) => {
                Self::encode_part_dot(pt, buf);
                buf.raw(b"HEADER.FIELDS ");
                l.encode(buf);
            }
            Section::HeaderFieldsNot(pt, l) => {
                Self::encode_part_dot(pt, buf);
                buf.raw(b"HEADER.FIELDS.NOT ");
                l.encode(buf);
            }
            Section::Text(pt) => {
                Self::encode_part_dot(pt, buf);
                buf.raw(b"TEXT");
            }
            Section::Mime(pt) => {
                pt.encode(buf);
                buf.raw(b".MIME");
            }
        }
    }
}

/// `section-binary` = `"[" [section-part] "]"`.
fn parse_section_binary(p: &mut Parser<'_>) -> PResult<Option<Part>> {
    p.expect(b'[', "[")?;
    if p.eat(b']') {
        return Ok(None);
    }
    let part = Part::parse(p)?;
    p.expect(b']', "]")?;
    Ok(Some(part))
}

fn encode_section_binary(part: Option<&Part>, buf: &mut EncodeBuf) {
    buf.byte(b'[');
    if let Some(pt) = part {
        pt.encode(buf);
    }
    buf.byte(b']');
}

/// `partial` = `"<" number64 "." nz-number64 ">"`: a byte range of a section.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partial {
    /// 0-based offset of the first octet.
    pub offset: u64,
    /// Number of octets.
    pub length: NonZeroU64,
}

impl Partial {
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        p.expect(b'<', "<")?;
        let offset = p.number64()?;
        p.expect(b'.', ".")?;
        let length = p.nz_number64()?;
        p.expect(b'>', ">")?;
        Ok(Partial {
            offset,
            length: NonZeroU64::new(length).unwrap_or(NonZeroU64::MIN),
        })
    }
}

impl Encode for Partial {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.byte(b'<');
        num64(buf, self.offset);
        buf.byte(b'.');
        num64(buf, self.length.get());
        buf.byte(b'>');
    }
}

// ------------------------------------------------------------------------------------------
// command side

/// What a FETCH command asks for.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchItems {
    /// `ALL` = `(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)`.
    All,
    /// `FAST` = `(FLAGS INTERNALDATE RFC822.SIZE)`.
    Fast,
    /// `FULL` = `(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY)`.
    Full,
    /// One or more attributes.
    Attributes(FetchAttributes),
}

/// A non-empty list of [`FetchAttribute`]s. A list of one attribute (a third of the
/// commands corpus' FETCHes: `FLAGS`, `(BODY.PEEK[]<0.2048>)`) is held without an allocation.
#[derive(Clone, PartialEq, Eq)]
pub struct FetchAttributes(AttrRepr);

/// The representation of [`FetchAttributes`]: one attribute inline, two or more in a `Vec`
/// (never `Many` of fewer than two, so that the derived equality compares the lists).
#[derive(Clone, PartialEq, Eq)]
enum AttrRepr {
    One(FetchAttribute),
    Many(Vec<FetchAttribute>),
}

impl FetchAttributes {
    /// Validates a non-empty list.
    pub fn new(mut v: Vec<FetchAttribute>) -> Result<Self, ValidationError> {
        if v.len() >= 2 {
            return Ok(FetchAttributes(AttrRepr::Many(v)));
        }
        match v.pop() {
            Some(a) => Ok(FetchAttributes(AttrRepr::One(a))),
            None => Err(ValidationError::new(
                ValueKind::FetchAttributeList,
                Rule::Empty,
            )),
        }
    }

    /// The attributes.
    pub fn as_slice(&self) -> &[FetchAttribute] {
        match &self.0 {
            AttrRepr::One(a) => std::slice::from_ref(a),
            AttrRepr::Many(v) => v,
        }
    }

    /// The attributes, by value.
    pub fn into_vec(self) -> Vec<FetchAttribute> {
        match self.0 {
            AttrRepr::One(a) => vec![a],
            AttrRepr::Many(v) => v,
        }
    }
}

/// Printed as the `Vec` it held before one attribute was kept inline (`dissect --json` is
/// made from `Debug`): `FetchAttributes([..])`.
impl std::fmt::Debug for FetchAttributes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("FetchAttributes")
            .field(&self.as_slice())
            .finish()
    }
}

impl From<FetchAttribute> for FetchAttributes {
    fn from(a: FetchAttribute) -> Self {
        FetchAttributes(AttrRepr::One(a))
    }
}

impl From<FetchAttribute> for FetchItems {
    fn from(a: FetchAttribute) -> Self {
        FetchItems::Attributes(a.into())
    }
}

name_enum! {
    /// One `fetch-att`.
    #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum FetchAttribute {
        /// `ENVELOPE`
        Envelope = b"ENVELOPE",
        /// `EMAILID` (RFC 8474)
        EmailId = b"EMAILID",
        /// `FLAGS`
        Flags = b"FLAGS",
        /// `INTERNALDATE`
        InternalDate = b"INTERNALDATE",
        /// `RFC822.SIZE`
        Rfc822Size = b"RFC822.SIZE",
        /// `RFC822.HEADER` (IMAP4rev1; = `BODY.PEEK[HEADER]`)
        Rfc822Header = b"RFC822.HEADER",
        /// `RFC822.TEXT` (IMAP4rev1; = `BODY[TEXT]`)
        Rfc822Text = b"RFC822.TEXT",
        /// `RFC822` (IMAP4rev1; = `BODY[]`)
        Rfc822 = b"RFC822",
        /// `BODYSTRUCTURE`
        BodyStructure = b"BODYSTRUCTURE",
        /// `BODY` (structure without extension data)
        Body = b"BODY",
        /// `UID`
        Uid = b"UID",
        /// `MODSEQ` (RFC 7162)
        ModSeq = b"MODSEQ",
        /// `X-GM-MSGID` (Gmail)
        GmailMsgId = b"X-GM-MSGID",
        /// `X-GM-THRID` (Gmail)
        GmailThrId = b"X-GM-THRID",
        /// `X-GM-LABELS` (Gmail)
        GmailLabels = b"X-GM-LABELS",
        /// `THREADID` (RFC 8474)
        ThreadId = b"THREADID",
        /// `SAVEDATE` (RFC 8514)
        SaveDate = b"SAVEDATE",
    }
    others {
        /// `BODY[section]<partial>` or, with `peek`, `BODY.PEEK[section]<partial>`
        /// (`section` `None` is `[]`: the whole message).
        BodySection {
            /// The section.
            section: Option<Section>,
            /// A byte range.
            partial: Option<Partial>,
            /// `.PEEK`: do not set `\Seen`.
            peek: bool,
        },
        /// `BINARY[part]<partial>` / `BINARY.PEEK[...]` (RFC 3516).
        Binary {
            /// The part (`None` is `[]`).
            section: Option<Part>,
            /// A byte range.
            partial: Option<Partial>,
            /// `.PEEK`.
            peek: bool,
        },
        /// `BINARY.SIZE[part]` (RFC 3516).
        BinarySize {
            /// The part (`None` is `[]`).
            section: Option<Part>,
        },
        /// `PREVIEW` / `PREVIEW (LAZY)` (RFC 8970)
        Preview {
            /// `LAZY`: only return a preview the server has at hand.
            lazy: bool,
        },
        /// Any other attribute name (no arguments).
        Other(Atom),
    }
    encode(buf) {
        FetchAttribute::Preview { lazy: false } => buf.raw(b"PREVIEW"),
        FetchAttribute::Preview { lazy: true } => buf.raw(b"PREVIEW (LAZY)"),
        FetchAttribute::Other(a) => buf.raw(a.as_bytes()),
        FetchAttribute::BodySection {
            section,
            partial,
            peek,
        } => {
            buf.raw(if *peek { b"BODY.PEEK" } else { b"BODY" });
            Section::encode_section(section.as_ref(), buf);
            if let Some(pa) = partial {
                pa.encode(buf);
            }
        }
        FetchAttribute::Binary {
            section,
            partial,
            peek,
        } => {
            buf.raw(if *peek { b"BINARY.PEEK" } else { b"BINARY" });
            encode_section_binary(section.as_ref(), buf);
            if let Some(pa) = partial {
                pa.encode(buf);
            }
        }
        FetchAttribute::BinarySize { section } => {
            buf.raw(b"BINARY.SIZE");
            encode_section_binary(section.as_ref(), buf);
        }
    }
}

/// [`FetchAttribute::fast`]'s code for `BODY.PEEK[` (the `[` not read).
const FAST_BODY_PEEK: u8 = 254;
/// [`FetchAttribute::fast`]'s code for `BODY[` (the `[` not read).
const FAST_BODY: u8 = 255;

/// Eight bytes with their ASCII letters uppercased (the other bytes unchanged).
#[inline(always)]
fn upper8(w: u64) -> u64 {
    const CASE: u64 = 0x2020_2020_2020_2020;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const FROM_A: u64 = 0x1f1f_1f1f_1f1f_1f1f; // 0x61 + 0x1f = 0x80
    const PAST_Z: u64 = 0x0505_0505_0505_0505; // 0x7b + 0x05 = 0x80
    // per byte, no carries between bytes (each below 0x80 before adding): the high bit is
    // set where the case-folded byte is in 'a'..='z' and the byte is ASCII
    let low = (w | CASE) & LOW7;
    let letter = low.wrapping_add(FROM_A) & !low.wrapping_add(PAST_Z) & !w & HIGH;
    w & !(letter >> 2)
}

/// An uppercase name of at most sixteen bytes as two little-endian words and the masks of
/// its bytes, for a compare with sixteen uppercased input bytes.
struct NameKey {
    key: [u64; 2],
    mask: [u64; 2],
    len: usize,
}

impl NameKey {
    const fn new(name: &[u8]) -> Self {
        assert!(name.len() <= 16);
        let mut key = [0u64; 2];
        let mut mask = [0u64; 2];
        let mut i = 0;
        while i < name.len() {
            key[i / 8] |= (name[i] as u64) << (8 * (i % 8));
            mask[i / 8] |= 0xff << (8 * (i % 8));
            i += 1;
        }
        NameKey {
            key,
            mask,
            len: name.len(),
        }
    }

    /// Whether the uppercased bytes `h` start with the name.
    #[inline(always)]
    fn eq(&self, h: [u64; 2]) -> bool {
        (h[0] & self.mask[0]) == self.key[0]
            && (self.mask[1] == 0 || (h[1] & self.mask[1]) == self.key[1])
    }
}

const BODY_PEEK_OPEN: NameKey = NameKey::new(b"BODY.PEEK[");
const BODY_OPEN: NameKey = NameKey::new(b"BODY[");

/// The place of `name` in [`FetchAttribute::NAMES`] (fails to compile when it is not there).
const fn name_index(name: &[u8]) -> u8 {
    let names = &FetchAttribute::NAMES;
    let mut i = 0;
    while i < names.len() {
        let n = names[i];
        if n.len() == name.len() {
            let mut j = 0;
            while j < n.len() && n[j] == name[j] {
                j += 1;
            }
            if j == n.len() {
                return i as u8;
            }
        }
        i += 1;
    }
    panic!("not a FetchAttribute name")
}

impl FetchAttribute {
    /// See [`FetchItems::validate`].
    pub fn validate(&self) -> Result<(), ValidationError> {
        let partial_ok = |p: &Option<Partial>| {
            p.is_none_or(|p| p.offset <= MAX_NUMBER64 && p.length.get() <= MAX_NUMBER64)
        };
        match self {
            FetchAttribute::Other(_) if !crate::encode::reparses(self, FetchAttribute::parse) => {
                Err(ValidationError::new(
                    ValueKind::FetchAttribute,
                    Rule::KnownName,
                ))
            }
            FetchAttribute::BodySection { partial, .. }
            | FetchAttribute::Binary { partial, .. }
                if !partial_ok(partial) =>
            {
                // a number above 2^63-1
                Err(ValidationError::new(ValueKind::Partial, Rule::OutOfRange))
            }
            _ => Ok(()),
        }
    }

    /// Parses one `fetch-att`: the usual names through [`fast`](Self::fast), the rest
    /// through [`parse_general`](Self::parse_general).
    #[inline]
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if let Some((code, n)) = Self::fast(p.rest()) {
            p.pos += n;
            return match code {
                FAST_BODY_PEEK => Self::body_section(p, true),
                FAST_BODY => Self::body_section(p, false),
                i => Self::by_index(i as usize).ok_or_else(|| p.fail("fetch-att")),
            };
        }
        Self::parse_general(p)
    }

    /// The usual `fetch-att` at the start of `r`, read from its first sixteen bytes (eight
    /// when fewer are left) ASCII-uppercased at once: a name of the table followed by SP or
    /// `)` (its place in [`NAMES`](Self::NAMES)), or `BODY` / `BODY.PEEK` followed by `[`
    /// ([`FAST_BODY`], [`FAST_BODY_PEEK`]), with the name's length. `None` (the general path
    /// decides) for anything else. Gives what [`parse_general`](Self::parse_general) gives
    /// (test `fetch_att_dispatch_matches_the_keyword_chain`): a whole name followed by one of
    /// these bytes is what `keyword` takes, and no name tried before it there is a prefix of
    /// it followed by a byte `keyword` accepts (`BODY.PEEK` is tried before `BODY`, the
    /// `RFC822.*` names before `RFC822`).
    #[inline(always)]
    fn fast(r: &[u8]) -> Option<(u8, usize)> {
        let word = |c: &[u8]| c.try_into().ok().map(u64::from_le_bytes);
        let h = match r.get(..16) {
            Some(c) => [upper8(word(&c[..8])?), upper8(word(&c[8..])?)],
            // zeros, which end no name, past the eight bytes
            None => [upper8(word(r.get(..8)?)?), 0],
        };
        // the byte at `i` (SP, `)` and `[` are not changed by `upper8`)
        let at = |i: usize| (h[i / 8] >> (8 * (i % 8))) as u8;
        // a name of the table: `n` (at most 15 bytes) then SP or `)`
        macro_rules! plain {
            ($name:literal) => {{
                // the byte after the name is within the sixteen
                const K: NameKey = {
                    let k = NameKey::new($name);
                    assert!(k.len < 16);
                    k
                };
                const I: u8 = name_index($name);
                if K.eq(h) && matches!(at(K.len), b' ' | b')') {
                    return Some((I, K.len));
                }
            }};
        }
        match h[0] as u8 {
            b'B' => {
                if BODY_PEEK_OPEN.eq(h) {
                    return Some((FAST_BODY_PEEK, 9));
                }
                if BODY_OPEN.eq(h) {
                    return Some((FAST_BODY, 4));
                }
                plain!(b"BODYSTRUCTURE");
                plain!(b"BODY");
            }
            b'F' => plain!(b"FLAGS"),
            b'U' => plain!(b"UID"),
            b'R' => {
                plain!(b"RFC822.SIZE");
                plain!(b"RFC822.HEADER");
                plain!(b"RFC822.TEXT");
                plain!(b"RFC822");
            }
            b'I' => plain!(b"INTERNALDATE"),
            b'E' => {
                plain!(b"ENVELOPE");
                plain!(b"EMAILID");
            }
            b'M' => plain!(b"MODSEQ"),
            b'X' => {
                plain!(b"X-GM-MSGID");
                plain!(b"X-GM-THRID");
                plain!(b"X-GM-LABELS");
            }
            b'T' => plain!(b"THREADID"),
            b'S' => plain!(b"SAVEDATE"),
            _ => {}
        }
        None
    }

    /// [`parse`](Self::parse) past its fast path.
    ///
    /// The forms with arguments (`BODY[`, `BODY.PEEK`, `BINARY*`, `PREVIEW`) first, then the
    /// names of the table (only those with the next byte's first letter are tried), then any
    /// other atom.
    #[inline(never)]
    fn parse_general(p: &mut Parser<'_>) -> PResult<Self> {
        match p.peek().map(|c| c.to_ascii_uppercase()) {
            Some(b'B') => {
                if p.keyword(b"BODY.PEEK") {
                    return Self::body_section(p, true);
                }
                if p.keyword(b"BINARY.SIZE") {
                    let section = parse_section_binary(p)?;
                    return Ok(FetchAttribute::BinarySize { section });
                }
                if p.keyword(b"BINARY.PEEK") {
                    return Self::binary(p, true);
                }
                if p.keyword(b"BINARY") {
                    return Self::binary(p, false);
                }
                if p.keyword(b"BODY") {
                    if p.peek() == Some(b'[') {
                        return Self::body_section(p, false);
                    }
                    return Ok(FetchAttribute::Body);
                }
            }
            Some(b'P') if p.keyword(b"PREVIEW") => return Self::preview(p),
            _ => {}
        }
        if let Some(a) = Self::parse_known_name(p) {
            return Ok(a);
        }
        Atom::parse(p).map(FetchAttribute::Other)
    }

    /// After `PREVIEW`: the optional ` (LAZY ...)`.
    fn preview(p: &mut Parser<'_>) -> PResult<Self> {
        let mut lazy = false;
        if p.looking_at_ci(b" (LAZY") {
            p.sp()?;
            p.pos += 1;
            loop {
                p.expect_keyword(b"LAZY", "preview-mod")?;
                lazy = true;
                if p.eat(b')') {
                    break;
                }
                p.sp()?;
            }
        }
        Ok(FetchAttribute::Preview { lazy })
    }

    fn body_section(p: &mut Parser<'_>, peek: bool) -> PResult<Self> {
        let section = Section::parse(p)?;
        let partial = if p.peek() == Some(b'<') {
            Some(Partial::parse(p)?)
        } else {
            None
        };
        Ok(FetchAttribute::BodySection {
            section,
            partial,
            peek,
        })
    }

    fn binary(p: &mut Parser<'_>, peek: bool) -> PResult<Self> {
        let section = parse_section_binary(p)?;
        let partial = if p.peek() == Some(b'<') {
            Some(Partial::parse(p)?)
        } else {
            None
        };
        Ok(FetchAttribute::Binary {
            section,
            partial,
            peek,
        })
    }
}

impl FetchItems {
    /// Checks what the types cannot express: [`FetchAttribute::Other`] must not hold a name
    /// the decoder reads as a known item (e.g. `ENVELOPE`, `BODY[`, `UID.x`), and partial
    /// ranges must fit in 63 bits (the encoder would saturate them).
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            FetchItems::Attributes(a) => a.as_slice().iter().try_for_each(FetchAttribute::validate),
            _ => Ok(()),
        }
    }

    /// Parses `"ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")"`.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        // The keywords cannot match at `(` (the usual case), so it is tested first.
        if !p.eat(b'(') {
            if p.keyword(b"ALL") {
                return Ok(FetchItems::All);
            }
            if p.keyword(b"FAST") {
                return Ok(FetchItems::Fast);
            }
            if p.keyword(b"FULL") {
                return Ok(FetchItems::Full);
            }
            return FetchAttribute::parse(p).map(|a| FetchItems::Attributes(a.into()));
        }
        // the first attribute alone when the list ends after it (no allocation)
        let first = FetchAttribute::parse(p)?;
        p.check_items(1)?;
        p.skip_trailing_sp();
        if p.eat(b')') {
            return Ok(FetchItems::Attributes(first.into()));
        }
        let mut v = Vec::with_capacity(4);
        v.push(first);
        loop {
            if p.peek() != Some(b' ') {
                // cut short: either would do here
                let _ = p.fail("\")\"");
            }
            p.sp()?;
            v.push(FetchAttribute::parse(p)?);
            p.check_items(v.len())?;
            p.skip_trailing_sp();
            if p.eat(b')') {
                return Ok(FetchItems::Attributes(FetchAttributes(AttrRepr::Many(v))));
            }
        }
    }
}

impl Encode for FetchItems {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            FetchItems::All => buf.raw(b"ALL"),
            FetchItems::Fast => buf.raw(b"FAST"),
            FetchItems::Full => buf.raw(b"FULL"),
            FetchItems::Attributes(a) => buf.list(a.as_slice(), |b, x| x.encode(b)),
        }
    }
}

// ------------------------------------------------------------------------------------------
// response side

/// `objectid` = 1*255(ALPHA / DIGIT / "_" / "-") (RFC 8474), case-sensitive.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ObjectId(Bytes);

impl ObjectId {
    /// Validates an object id.
    pub fn new(b: impl Into<Bytes>) -> Result<Self, ValidationError> {
        let b = b.into();
        if b.is_empty() {
            return Err(ValidationError::new(ValueKind::ObjectId, Rule::Empty));
        }
        if b.len() > 255 {
            return Err(ValidationError::new(
                ValueKind::ObjectId,
                Rule::TooLong { max: 255 },
            ));
        }
        // ALPHA, DIGIT, _ or - only
        if let Some(rule) =
            forbidden_byte(&b, |c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            return Err(ValidationError::new(ValueKind::ObjectId, rule));
        }
        Ok(ObjectId(b))
    }

    /// The id.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The id as `&str` (object ids are ASCII).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        crate::status::objectid(p).map(|a| ObjectId(a.to_bytes()))
    }

    fn parse_paren(p: &mut Parser<'_>) -> PResult<Self> {
        p.expect(b'(', "( objectid")?;
        let id = Self::parse(p)?;
        p.expect(b')', ")")?;
        Ok(id)
    }

    fn encode_paren(&self, buf: &mut EncodeBuf) {
        buf.byte(b'(');
        buf.raw(&self.0);
        buf.byte(b')');
    }
}

impl std::fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ObjectId({})", self.as_str())
    }
}

/// A Gmail label in `X-GM-LABELS`: a system label (`\Inbox`, `\Important`, ...) or a user
/// label (`astring`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GmailLabel {
    /// `\Name`: holds the name without the backslash.
    System(Atom),
    /// A user label.
    Label(AString),
}

impl GmailLabel {
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.eat(b'\\') {
            // (lenient: 8-bit bytes in the name, as in a flag)
            crate::flag::flag_atom(p).map(GmailLabel::System)
        } else {
            IString::parse_astring(p).map(GmailLabel::Label)
        }
    }
}

impl Encode for GmailLabel {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            GmailLabel::System(a) => {
                buf.byte(b'\\');
                buf.raw(a.as_bytes());
            }
            GmailLabel::Label(s) => s.encode_astring(buf),
        }
    }
}

/// One data item of a FETCH response (`msg-att`).
///
/// 64 bytes (pinned by `fetch_item_and_event_are_small`): a FETCH response holds three
/// inline, and the event that carries it is copied several times per message, so the rare
/// large parts are boxed. `Debug` prints what it printed before they were (the boxes do not
/// show; `Unknown`/`Invalid` as a struct variant with `name` and `raw`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageDataItem {
    /// `FLAGS (...)`: the system flags one byte each and one keyword inline (the usual
    /// list decodes without allocating; see [`FetchFlags`]).
    Flags(FetchFlags),
    /// `ENVELOPE (...)`. Not boxed: an [`Envelope`] is one buffer and one allocation of its
    /// string ranges (48 bytes).
    Envelope(Envelope),
    /// `INTERNALDATE "..."`
    InternalDate(DateTime),
    /// `RFC822.SIZE n` (`number64` in IMAP4rev2)
    Rfc822Size(u64),
    /// `BODY (...)`: the structure without extension data (normally). Not boxed: a
    /// [`BodyStructure`] is one allocation of its parts (56 bytes).
    Body(BodyStructure),
    /// `BODYSTRUCTURE (...)`
    BodyStructure(BodyStructure),
    /// `BODY[section]<origin> nstring`. `data` is a slice of the received message.
    BodySection {
        /// The section (`None` is `[]`). Boxed: a [`Section`] is 64 bytes, which would make
        /// every item (and every FETCH response, holding three inline) larger; `BODY[]`
        /// allocates nothing.
        section: Option<Box<Section>>,
        /// The origin octet of a partial fetch.
        origin: Option<u32>,
        /// The content, or NIL.
        data: NString,
    },
    /// `BINARY[part]<<origin>> (nstring / literal8)` (RFC 3516 §4.3, RFC 9051 §7.5.2).
    /// Encoded as `literal8` (or NIL).
    ///
    /// The origin octet of a partial fetch is described by the prose of both RFCs
    /// (`BINARY[<section-binary>]<<number>>`) although their ABNF leaves it out; servers send
    /// it in reply to `BINARY[...]<offset.length>`.
    Binary {
        /// The part (`None` is `[]`). Boxed, as [`BodySection`](Self::BodySection)'s section
        /// is, to keep an item at 64 bytes.
        section: Option<Box<Part>>,
        /// The origin octet (in the decoded data) of a partial fetch.
        origin: Option<u32>,
        /// The decoded content (may contain NUL), or NIL.
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_util::opt_bytes))]
        data: Option<Bytes>,
    },
    /// `BINARY.SIZE[part] n` (RFC 3516).
    BinarySize {
        /// The part (`None` is `[]`).
        section: Option<Part>,
        /// Decoded size.
        size: u32,
    },
    /// `UID n`
    Uid(Uid),
    /// `RFC822 nstring` (IMAP4rev1)
    Rfc822(NString),
    /// `RFC822.HEADER nstring` (IMAP4rev1)
    Rfc822Header(NString),
    /// `RFC822.TEXT nstring` (IMAP4rev1)
    Rfc822Text(NString),
    /// `MODSEQ (n)` (RFC 7162): positive, at most 2^63-1 (0 is encoded as 1).
    ModSeq(u64),
    /// `X-GM-MSGID n` (Gmail)
    GmailMsgId(u64),
    /// `X-GM-THRID n` (Gmail)
    GmailThrId(u64),
    /// `X-GM-LABELS (...)` (Gmail)
    GmailLabels(Vec<GmailLabel>),
    /// `PREVIEW nstring` (RFC 8970)
    Preview(NString),
    /// `EMAILID (id)` (RFC 8474)
    EmailId(ObjectId),
    /// `THREADID (id)` / `THREADID NIL` (RFC 8474)
    ThreadId(Option<ObjectId>),
    /// `SAVEDATE "..."` / `SAVEDATE NIL` (RFC 8514)
    SaveDate(Option<DateTime>),
    /// Any other item: its name and its value as framed on the wire (an atom, number,
    /// string, literal, or a parenthesised list of those). Boxed (rare; two strings would
    /// make every item larger).
    ///
    /// When encoding, a `raw` that is not such a value is replaced by `NIL`, so the output
    /// stays valid.
    Unknown(Box<RawItem>),
    /// Lenient profile only: an item whose value does not fit its grammar (`UID x`,
    /// `INTERNALDATE NIL`), kept with its name as it came (`UID`, `INTERNALDATE`, ...) and
    /// its value's bytes as they came (a balanced value: an atom, number, string, literal, or
    /// a parenthesised list of those), with a warning at the defect, so that the data is not
    /// lost. Boxed, as [`Unknown`](Self::Unknown) is.
    ///
    /// It is not valid protocol: encoding leaves it out (an item list of a FETCH response
    /// skips it; encoded alone it writes nothing), and validation rejects it.
    #[cfg_attr(feature = "arbitrary", arbitrary(skip))]
    Invalid(Box<RawItem>),
}

impl fmt::Debug for MessageDataItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        type I = MessageDataItem;
        let tuple = |f: &mut fmt::Formatter<'_>, name: &str, v: &dyn fmt::Debug| {
            f.debug_tuple(name).field(v).finish()
        };
        match self {
            I::Flags(v) => tuple(f, "Flags", v),
            I::Envelope(v) => tuple(f, "Envelope", v),
            I::InternalDate(v) => tuple(f, "InternalDate", v),
            I::Rfc822Size(v) => tuple(f, "Rfc822Size", v),
            I::Body(v) => tuple(f, "Body", v),
            I::BodyStructure(v) => tuple(f, "BodyStructure", v),
            I::BodySection {
                section,
                origin,
                data,
            } => f
                .debug_struct("BodySection")
                .field("section", section)
                .field("origin", origin)
                .field("data", data)
                .finish(),
            I::Binary {
                section,
                origin,
                data,
            } => f
                .debug_struct("Binary")
                .field("section", section)
                .field("origin", origin)
                .field("data", data)
                .finish(),
            I::BinarySize { section, size } => f
                .debug_struct("BinarySize")
                .field("section", section)
                .field("size", size)
                .finish(),
            I::Uid(v) => tuple(f, "Uid", v),
            I::Rfc822(v) => tuple(f, "Rfc822", v),
            I::Rfc822Header(v) => tuple(f, "Rfc822Header", v),
            I::Rfc822Text(v) => tuple(f, "Rfc822Text", v),
            I::ModSeq(v) => tuple(f, "ModSeq", v),
            I::GmailMsgId(v) => tuple(f, "GmailMsgId", v),
            I::GmailThrId(v) => tuple(f, "GmailThrId", v),
            I::GmailLabels(v) => tuple(f, "GmailLabels", v),
            I::Preview(v) => tuple(f, "Preview", v),
            I::EmailId(v) => tuple(f, "EmailId", v),
            I::ThreadId(v) => tuple(f, "ThreadId", v),
            I::SaveDate(v) => tuple(f, "SaveDate", v),
            I::Unknown(u) | I::Invalid(u) => f
                .debug_struct(if matches!(self, I::Unknown(_)) {
                    "Unknown"
                } else {
                    "Invalid"
                })
                .field("name", &u.name)
                .field("raw", &u.raw)
                .finish(),
        }
    }
}

/// A FETCH item kept as its name and its value's bytes: [`MessageDataItem::Unknown`] and
/// [`MessageDataItem::Invalid`].
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawItem {
    /// The item name.
    pub name: Atom,
    /// The value's bytes.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_util::bytes))]
    pub raw: Bytes,
}

impl RawItem {
    /// The item `name` with the value `raw` (boxed, as the variants hold it).
    pub fn boxed(name: Atom, raw: Bytes) -> Box<Self> {
        Box::new(RawItem { name, raw })
    }
}

/// `SP uniqueid` after the name `UID` (the general path and the FETCH item loop's fast path
/// for `UID `).
#[inline(always)]
fn uid_value(p: &mut Parser<'_>) -> PResult<Uid> {
    p.sp()?;
    Uid::parse(p)
}

/// `SP "(" permsg-modsequence ")"` after the name `MODSEQ` (RFC 7162 §7; the general path
/// and the FETCH item loop's fast path for `MODSEQ (`).
#[inline(always)]
fn modseq_value(p: &mut Parser<'_>) -> PResult<u64> {
    p.sp()?;
    p.expect(b'(', "( mod-sequence-value")?;
    let at = p.pos;
    let mut n = p.number64()?;
    if n == 0 {
        // permsg-modsequence is a positive 63-bit number (RFC 7162 §7)
        if !p.tolerate(Quirk::ZeroModSeq, at) {
            return Err(p.fail_at(at, "non-zero mod-sequence-value"));
        }
        n = 1;
    }
    p.expect(b')', ")")?;
    Ok(n)
}

/// A literal's payload without looking at its bytes (`{n}` / `{n+}` / with `allow8` also
/// `~{n}`); returns the slice and whether it was a literal8.
fn literal_payload(p: &mut Parser<'_>, allow8: bool) -> PResult<(Bytes, bool)> {
    let (is8, n) = p.literal_announcement(allow8)?;
    let d = p.pos;
    let avail = (p.bytes().len() - d) as u64;
    if n > avail {
        return Err(p.fail_at(p.bytes().len(), "literal data"));
    }
    p.pos = d + n as usize;
    Ok((p.slice(d, p.pos), is8))
}

/// An `nstring` whose literal payload is sliced without being scanned.
fn nstring_payload(p: &mut Parser<'_>) -> PResult<NString> {
    match p.peek() {
        Some(b'{') => literal_payload(p, false).map(|(b, _)| Some(IString::unchecked(b))),
        _ => IString::parse_nstring(p),
    }
}

#[inline]
fn token_char(c: u8) -> bool {
    (0x21..0x7f).contains(&c) && !matches!(c, b'(' | b')' | b'"' | b'{')
}

/// What [`generic_value`] meets as it reads a value, in order (each method does nothing by
/// default).
trait ValueSink {
    /// A list's `(`.
    fn open(&mut self) {}
    /// A list's `)`.
    fn close(&mut self) {}
    /// The separator between two elements of a list.
    fn sp(&mut self) {}
    /// A quoted string's content (unescaped).
    fn quoted(&mut self, _s: &[u8]) {}
    /// A literal: its payload's offset in the input, the payload, whether it is a literal8
    /// and whether it was announced non-synchronizing.
    fn literal(&mut self, _start: usize, _data: &[u8], _binary: bool, _mode: LiteralMode) {}
    /// An atom (a token of atom characters, in the lenient profile also 8-bit bytes).
    fn atom(&mut self, _a: &[u8]) {}
}

/// Reads and forgets.
impl ValueSink for () {}

/// The literal payloads (offset, length) of a value, for [`encode_unknown_raw`].
impl ValueSink for Vec<LiteralMark> {
    fn literal(&mut self, start: usize, data: &[u8], _binary: bool, mode: LiteralMode) {
        self.push(LiteralMark {
            start,
            len: data.len(),
            mode,
        });
    }
}

/// The value written the way the strict profile reads it: one SP between elements, none
/// inside a list's boundaries, strings quoted or as literals by [`EncodeBuf::string`], an
/// atom with 8-bit bytes as a string (what the lenient profile repaired, kept).
impl ValueSink for EncodeBuf {
    fn open(&mut self) {
        self.byte(b'(');
    }
    fn close(&mut self) {
        self.byte(b')');
    }
    fn sp(&mut self) {
        EncodeBuf::sp(self);
    }
    fn quoted(&mut self, s: &[u8]) {
        self.string(s);
    }
    fn literal(&mut self, _start: usize, data: &[u8], binary: bool, mode: LiteralMode) {
        self.literal_with_mode(data, binary, mode);
    }
    fn atom(&mut self, a: &[u8]) {
        if a.is_ascii() {
            self.raw(a);
        } else {
            self.string(a);
        }
    }
}

/// Whether the literal whose payload starts at `data` was announced `{n+}`.
fn literal_mode_before(b: &[u8], data: usize) -> LiteralMode {
    // `...+}` CRLF (or a bare LF, tolerated by the lenient profile) then the payload
    let brace = b[..data]
        .iter()
        .rposition(|&c| c == b'}')
        .unwrap_or_default();
    if brace > 0 && b[brace - 1] == b'+' {
        LiteralMode::NonSync
    } else {
        LiteralMode::Sync
    }
}

/// A generic value (atom/number/NIL/flag-like token, quoted string, literal or literal8, or a
/// parenthesised list of those, possibly empty), without recursion but within the nesting
/// limit, told to `sink` as it is read.
fn generic_value(p: &mut Parser<'_>, sink: &mut impl ValueSink) -> PResult<()> {
    let mut opened = 0u32;
    let r = (|| loop {
        match p.peek() {
            Some(b'(') => {
                opened += 1;
                p.enter()?;
                // `(` is next (lenient: `( x`)
                let _ = p.eat_open();
                sink.open();
                p.skip_trailing_sp();
                if p.peek() != Some(b')') {
                    continue;
                }
            }
            Some(b'"') => {
                let q = p.quoted()?;
                sink.quoted(&q);
            }
            Some(b'{') => {
                let (d, _) = literal_payload(p, false)?;
                let start = p.pos - d.len();
                sink.literal(start, &d, false, literal_mode_before(p.bytes(), start));
            }
            Some(b'~') if p.peek_at(1) == Some(b'{') => {
                let (d, _) = literal_payload(p, true)?;
                let start = p.pos - d.len();
                sink.literal(start, &d, true, literal_mode_before(p.bytes(), start));
            }
            Some(c) if token_char(c) || (c >= 0x80 && p.allows(Quirk::EightBit)) => {
                // The warning points at the first 8-bit byte, not at the atom's start.
                let start = p.pos;
                let mut eight = None;
                while let Some(c) = p.peek() {
                    if token_char(c) {
                    } else if c >= 0x80 && p.allows(Quirk::EightBit) {
                        eight.get_or_insert(p.pos);
                    } else {
                        break;
                    }
                    p.pos += 1;
                }
                if let Some(at) = eight {
                    p.warn(Quirk::EightBit, at);
                }
                sink.atom(&p.bytes()[start..p.pos]);
            }
            _ => return Err(p.fail("value")),
        }
        loop {
            if opened == 0 {
                return Ok(());
            }
            p.skip_trailing_sp();
            if p.eat(b')') {
                opened -= 1;
                p.leave();
                sink.close();
                continue;
            }
            p.sp()?;
            sink.sp();
            break;
        }
    })();
    if r.is_err() {
        for _ in 0..opened {
            p.leave();
        }
    }
    r
}

/// The raw value of an unknown item read by [`generic_value`] from `start`: the bytes as they
/// came, or, when the lenient profile repaired something in them (a warning since `wlen`),
/// the value written the way the strict profile reads it, so that it survives re-encoding
/// (which replaces a value the strict profile does not read by `NIL`).
fn unknown_raw(p: &Parser<'_>, start: usize, wlen: usize) -> Bytes {
    let raw = p.slice(start, p.pos);
    // (once the warnings are full, a repair leaves no trace: assume one)
    if p.warnings.len() == wlen && wlen < Parser::MAX_WARNINGS {
        return raw;
    }
    repaired_raw(&raw, p.opts).unwrap_or(raw)
}

/// See [`unknown_raw`].
#[cold]
#[inline(never)]
fn repaired_raw(raw: &Bytes, opts: &DecodeOptions) -> Option<Bytes> {
    let mut q = Parser::new(raw, opts);
    let mut out = EncodeBuf::new();
    generic_value(&mut q, &mut out).ok()?;
    Some(Bytes::from(out.out))
}

impl MessageDataItem {
    /// Drops in place what a FLAGS item owns (its keywords) and returns whether what is
    /// left of this item owns nothing (numbers, dates, flags not on the heap); `false` says
    /// nothing (see `Response::shed`; the item is to be dropped next).
    #[inline]
    pub(crate) fn shed(&mut self) -> bool {
        const {
            assert!(
                !std::mem::needs_drop::<Uid>()
                    && !std::mem::needs_drop::<u64>()
                    && !std::mem::needs_drop::<DateTime>()
                    && !std::mem::needs_drop::<Option<DateTime>>()
            )
        };
        match self {
            MessageDataItem::Uid(_)
            | MessageDataItem::ModSeq(_)
            | MessageDataItem::Rfc822Size(_)
            | MessageDataItem::InternalDate(_)
            | MessageDataItem::GmailMsgId(_)
            | MessageDataItem::GmailThrId(_)
            | MessageDataItem::SaveDate(_) => true,
            MessageDataItem::Flags(f) => f.shed(),
            _ => false,
        }
    }

    /// Parses `"(" msg-att *(SP msg-att) ")"`.
    #[cfg(test)]
    pub(crate) fn parse_list(p: &mut Parser<'_>) -> PResult<SmallList<Self, 3>> {
        let mut v = SmallList::new();
        Self::parse_list_into(p, &mut v)?;
        Ok(v)
    }

    /// Like [`parse_list`](Self::parse_list), filling `v` (empty on entry) in place: the
    /// stream decoder parses the items straight into the response it returns, so the inline
    /// list is never moved.
    pub(crate) fn parse_list_into(p: &mut Parser<'_>, v: &mut SmallList<Self, 3>) -> PResult<()> {
        p.expect(b'(', "( msg-att")?;
        // Past the inline three, room for eight at once (one allocation for the usual longer
        // lists, e.g. UID RFC822.SIZE INTERNALDATE FLAGS ENVELOPE BODYSTRUCTURE).
        #[inline(always)]
        fn push_item(v: &mut SmallList<MessageDataItem, 3>, item: MessageDataItem) {
            if v.len() == 3 {
                v.reserve(5);
            }
            v.push(item);
        }
        // whether an item was kept raw (`Invalid`, lenient)
        let mut kept_raw = false;
        if p.peek() == Some(b' ') {
            // lenient: `( UID 7)`
            let at = p.pos;
            if p.tolerate(Quirk::ExtraSpaces, at) {
                while p.eat(b' ') {}
            }
        }
        loop {
            if p.peek() == Some(b'(') {
                // lenient: an item wrapped in parentheses, e.g. `(ENVELOPE (...))` (Domino)
                let at = p.pos;
                if !p.tolerate(Quirk::MalformedEnvelope, at) {
                    return Err(p.fail("msg-att"));
                }
                p.pos += 1;
                loop {
                    push_item(v, Self::parse(p)?);
                    p.check_items(v.len())?;
                    p.skip_trailing_sp();
                    if p.eat(b')') {
                        break;
                    }
                    p.sp()?;
                }
            } else if p.allows(Quirk::NilOrEmpty) {
                // lenient: a known item whose value does not fit its grammar (e.g.
                // `INTERNALDATE NIL`) is skipped with a warning; the others still decode.
                let start = p.pos;
                // `UID n`, `MODSEQ (n)` and `FLAGS (...)` in exact case written straight into
                // their slot, as in the strict loop below (the same steps as `parse` after the
                // name; each item pushed where it is made: an `Option` of the item moved into
                // the list would be copied whole)
                let parsed = if p.rest().starts_with(b"UID ") {
                    let uid = p.opt(|p| {
                        p.pos += b"UID".len();
                        uid_value(p)
                    });
                    uid.map(|u| push_item(v, MessageDataItem::Uid(u)))
                } else if p.rest().starts_with(b"MODSEQ (") {
                    let n = p.opt(|p| {
                        p.pos += b"MODSEQ".len();
                        modseq_value(p)
                    });
                    n.map(|n| push_item(v, MessageDataItem::ModSeq(n)))
                } else if p.rest().starts_with(b"FLAGS (") {
                    // parsed into its slot as in the strict loop; on failure the slot is
                    // removed and the parser put back as `opt` does
                    let (save, wlen) = (p.pos, p.warnings.len());
                    p.pos += b"FLAGS ".len();
                    push_item(v, MessageDataItem::Flags(FetchFlags::new()));
                    let ok = match v.last_mut() {
                        Some(MessageDataItem::Flags(flags)) => {
                            parse_fetch_flags_into(p, flags).is_ok()
                        }
                        _ => false,
                    };
                    if ok {
                        Some(())
                    } else {
                        v.pop();
                        p.pos = save;
                        p.warnings.truncate(wlen);
                        None
                    }
                } else {
                    p.opt(Self::parse).map(|item| push_item(v, item))
                };
                match parsed {
                    Some(()) => {}
                    None => {
                        // the warning is where the item's own grammar failed; the item is
                        // kept raw, its name and value as they came
                        let at = p.furthest_failure().max(start);
                        p.pos = start;
                        let name = Atom::parse(p)?;
                        p.sp()?;
                        let value = p.pos;
                        generic_value(p, &mut ())?;
                        p.warn(Quirk::NilOrEmpty, at);
                        kept_raw = true;
                        push_item(
                            v,
                            MessageDataItem::Invalid(RawItem::boxed(name, p.slice(value, p.pos))),
                        );
                    }
                }
            } else if p.rest().starts_with(b"FLAGS (") {
                // the usual `FLAGS (...)`: the list is parsed straight into its slot instead
                // of being built, returned and moved twice (what `parse` does for it)
                p.pos += b"FLAGS ".len();
                push_item(v, MessageDataItem::Flags(FetchFlags::new()));
                if let Some(MessageDataItem::Flags(flags)) = v.last_mut() {
                    parse_fetch_flags_into(p, flags)?;
                }
            } else if p.rest().starts_with(b"UID ") {
                // the usual `UID n` and `MODSEQ (n)`: the item's few bytes are written
                // straight into its slot (the general path returns the whole item, which is
                // then copied in), by the same steps as `parse` takes after the name
                p.pos += b"UID".len();
                let uid = uid_value(p)?;
                push_item(v, MessageDataItem::Uid(uid));
            } else if p.rest().starts_with(b"MODSEQ (") {
                p.pos += b"MODSEQ".len();
                let n = modseq_value(p)?;
                push_item(v, MessageDataItem::ModSeq(n));
            } else {
                push_item(v, Self::parse(p)?);
            }
            p.check_items(v.len())?;
            p.skip_trailing_sp();
            if p.eat(b')') {
                // (`kept_raw`: the list holds an `Invalid`; without one, and the list is
                // never empty here, not every item is one)
                if kept_raw && v.iter().all(|it| matches!(it, MessageDataItem::Invalid(_))) {
                    // no item fits its grammar (every item was dropped or kept raw): nothing
                    // valid is left to report (the stream decoders hand the raw message over
                    // with the error)
                    return Err(p.fail("msg-att"));
                }
                return Ok(());
            }
            // lenient: no SP between a literal (ending in LF) and the next item (Office 365)
            if p.peek().is_some_and(|c| c.is_ascii_alphabetic())
                && p.pos > 0
                && p.bytes().get(p.pos - 1) == Some(&b'\n')
            {
                let at = p.pos;
                if p.tolerate(Quirk::ExtraSpaces, at) {
                    continue;
                }
            }
            p.sp()?;
        }
    }

    /// Parses one `msg-att` item.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let item = match p.peek().map(|c| c.to_ascii_uppercase()) {
            Some(b'B') => {
                if p.keyword(b"BODYSTRUCTURE") {
                    p.sp()?;
                    Some(MessageDataItem::BodyStructure(BodyStructure::parse(p)?))
                } else if p.keyword(b"BODY") {
                    if p.peek() == Some(b'[') {
                        let section = Section::parse(p)?.map(Box::new);
                        let origin = if p.eat(b'<') {
                            let o = p.number()?;
                            p.expect(b'>', ">")?;
                            Some(o)
                        } else {
                            None
                        };
                        p.sp()?;
                        let data = nstring_payload(p)?;
                        Some(MessageDataItem::BodySection {
                            section,
                            origin,
                            data,
                        })
                    } else {
                        p.sp()?;
                        Some(MessageDataItem::Body(BodyStructure::parse(p)?))
                    }
                } else if p.keyword(b"BINARY.SIZE") {
                    let section = parse_section_binary(p)?;
                    p.sp()?;
                    let size = p.number()?;
                    Some(MessageDataItem::BinarySize { section, size })
                } else if p.keyword(b"BINARY") {
                    let section = parse_section_binary(p)?.map(Box::new);
                    let origin = if p.eat(b'<') {
                        let o = p.number()?;
                        p.expect(b'>', ">")?;
                        Some(o)
                    } else {
                        None
                    };
                    p.sp()?;
                    let data = match p.peek() {
                        Some(b'{') | Some(b'~') => Some(literal_payload(p, true)?.0),
                        _ => p.nstring()?,
                    };
                    Some(MessageDataItem::Binary {
                        section,
                        origin,
                        data,
                    })
                } else {
                    None
                }
            }
            Some(b'E') => {
                if p.keyword(b"ENVELOPE") {
                    p.sp()?;
                    Some(MessageDataItem::Envelope(Envelope::parse(p)?))
                } else if p.keyword(b"EMAILID") {
                    p.sp()?;
                    Some(MessageDataItem::EmailId(ObjectId::parse_paren(p)?))
                } else {
                    None
                }
            }
            Some(b'F') if p.keyword(b"FLAGS") => {
                // (lenient: the list absent altogether is the empty list)
                if p.sp_before_list()? {
                    Some(MessageDataItem::Flags(parse_flag_list(
                        p,
                        FlagFetch::parse,
                    )?))
                } else {
                    Some(MessageDataItem::Flags(Default::default()))
                }
            }
            Some(b'I') if p.keyword(b"INTERNALDATE") => {
                p.sp()?;
                Some(MessageDataItem::InternalDate(DateTime::parse(p)?))
            }
            Some(b'M') if p.keyword(b"MODSEQ") => Some(MessageDataItem::ModSeq(modseq_value(p)?)),
            Some(b'P') if p.keyword(b"PREVIEW") => {
                p.sp()?;
                Some(MessageDataItem::Preview(IString::parse_nstring(p)?))
            }
            Some(b'R') => {
                if p.keyword(b"RFC822.SIZE") {
                    p.sp()?;
                    Some(MessageDataItem::Rfc822Size(p.number64()?))
                } else if p.keyword(b"RFC822.HEADER") {
                    p.sp()?;
                    Some(MessageDataItem::Rfc822Header(nstring_payload(p)?))
                } else if p.keyword(b"RFC822.TEXT") {
                    p.sp()?;
                    Some(MessageDataItem::Rfc822Text(nstring_payload(p)?))
                } else if p.keyword(b"RFC822") {
                    p.sp()?;
                    Some(MessageDataItem::Rfc822(nstring_payload(p)?))
                } else {
                    None
                }
            }
            Some(b'S') if p.keyword(b"SAVEDATE") => {
                p.sp()?;
                if p.nil_scalar() {
                    Some(MessageDataItem::SaveDate(None))
                } else {
                    Some(MessageDataItem::SaveDate(Some(DateTime::parse(p)?)))
                }
            }
            Some(b'T') if p.keyword(b"THREADID") => {
                p.sp()?;
                if p.nil_scalar() {
                    Some(MessageDataItem::ThreadId(None))
                } else {
                    Some(MessageDataItem::ThreadId(Some(ObjectId::parse_paren(p)?)))
                }
            }
            Some(b'U') if p.keyword(b"UID") => Some(MessageDataItem::Uid(uid_value(p)?)),
            Some(b'X') => {
                if p.keyword(b"X-GM-MSGID") {
                    p.sp()?;
                    Some(MessageDataItem::GmailMsgId(p.number64()?))
                } else if p.keyword(b"X-GM-THRID") {
                    p.sp()?;
                    Some(MessageDataItem::GmailThrId(p.number64()?))
                } else if p.keyword(b"X-GM-LABELS") {
                    p.sp()?;
                    Some(MessageDataItem::GmailLabels(parse_flag_list(
                        p,
                        GmailLabel::parse,
                    )?))
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some(item) = item {
            return Ok(item);
        }
        let name = Atom::parse(p)?;
        p.sp()?;
        let start = p.pos;
        let wlen = p.warnings.len();
        generic_value(p, &mut ())?;
        Ok(MessageDataItem::Unknown(RawItem::boxed(
            name,
            unknown_raw(p, start, wlen),
        )))
    }

    /// Encodes `"(" msg-att *(SP msg-att) ")"`.
    /// Items kept raw ([`MessageDataItem::Invalid`]) are left out.
    pub(crate) fn encode_list(items: &[Self], buf: &mut EncodeBuf) {
        if items
            .iter()
            .any(|it| matches!(it, MessageDataItem::Invalid(_)))
        {
            return Self::encode_valid_list(items, buf);
        }
        buf.list(items, |b, it| it.encode(b));
    }

    #[cold]
    #[inline(never)]
    fn encode_valid_list(items: &[Self], buf: &mut EncodeBuf) {
        let mut valid = items
            .iter()
            .filter(|it| !matches!(it, MessageDataItem::Invalid(_)));
        buf.byte(b'(');
        if let Some(first) = valid.next() {
            first.encode(buf);
        }
        for it in valid {
            buf.sp();
            it.encode(buf);
        }
        buf.byte(b')');
    }
}

fn encode_unknown_raw(raw: &Bytes, buf: &mut EncodeBuf) {
    let o = DecodeOptions::strict();
    let mut p = Parser::new(raw, &o);
    let mut lits: Vec<LiteralMark> = Vec::new();
    let ok = generic_value(&mut p, &mut lits).is_ok() && p.at_end();
    if !ok {
        buf.raw(b"NIL");
        return;
    }
    let base = buf.out.len();
    buf.raw(raw);
    for mut m in lits {
        m.start += base;
        buf.literals.push(m);
    }
}

impl Encode for MessageDataItem {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            MessageDataItem::Flags(f) => {
                buf.raw(b"FLAGS ");
                buf.list(f, |b, x| x.encode(b));
            }
            MessageDataItem::Envelope(e) => {
                buf.raw(b"ENVELOPE ");
                e.encode(buf);
            }
            MessageDataItem::InternalDate(d) => {
                buf.raw(b"INTERNALDATE ");
                d.encode(buf);
            }
            MessageDataItem::Rfc822Size(n) => {
                buf.raw(b"RFC822.SIZE ");
                num64(buf, *n);
            }
            MessageDataItem::Body(b) => {
                buf.raw(b"BODY ");
                b.encode(buf);
            }
            MessageDataItem::BodyStructure(b) => {
                buf.raw(b"BODYSTRUCTURE ");
                b.encode(buf);
            }
            MessageDataItem::BodySection {
                section,
                origin,
                data,
            } => {
                buf.raw(b"BODY");
                Section::encode_section(section.as_deref(), buf);
                if let Some(o) = origin {
                    buf.byte(b'<');
                    buf.num(*o);
                    buf.byte(b'>');
                }
                buf.sp();
                IString::encode_nstring(data, buf);
            }
            MessageDataItem::Binary {
                section,
                origin,
                data,
            } => {
                buf.raw(b"BINARY");
                encode_section_binary(section.as_deref(), buf);
                if let Some(o) = origin {
                    buf.byte(b'<');
                    buf.num(*o);
                    buf.byte(b'>');
                }
                buf.sp();
                match data {
                    Some(d) => buf.literal(d, true),
                    None => buf.raw(b"NIL"),
                }
            }
            MessageDataItem::BinarySize { section, size } => {
                buf.raw(b"BINARY.SIZE");
                encode_section_binary(section.as_ref(), buf);
                buf.sp();
                buf.num(*size);
            }
            MessageDataItem::Uid(u) => {
                buf.raw(b"UID ");
                u.encode(buf);
            }
            MessageDataItem::Rfc822(s) => {
                buf.raw(b"RFC822 ");
                IString::encode_nstring(s, buf);
            }
            MessageDataItem::Rfc822Header(s) => {
                buf.raw(b"RFC822.HEADER ");
                IString::encode_nstring(s, buf);
            }
            MessageDataItem::Rfc822Text(s) => {
                buf.raw(b"RFC822.TEXT ");
                IString::encode_nstring(s, buf);
            }
            MessageDataItem::ModSeq(n) => {
                buf.raw(b"MODSEQ (");
                // a mod-sequence is positive: 0 cannot be sent and is written as 1
                num64(buf, (*n).max(1));
                buf.byte(b')');
            }
            MessageDataItem::GmailMsgId(n) => {
                buf.raw(b"X-GM-MSGID ");
                num64(buf, *n);
            }
            MessageDataItem::GmailThrId(n) => {
                buf.raw(b"X-GM-THRID ");
                num64(buf, *n);
            }
            MessageDataItem::GmailLabels(l) => {
                buf.raw(b"X-GM-LABELS ");
                buf.list(l, |b, x| x.encode(b));
            }
            MessageDataItem::Preview(s) => {
                buf.raw(b"PREVIEW ");
                IString::encode_nstring(s, buf);
            }
            MessageDataItem::EmailId(id) => {
                buf.raw(b"EMAILID ");
                id.encode_paren(buf);
            }
            MessageDataItem::ThreadId(id) => {
                buf.raw(b"THREADID ");
                match id {
                    Some(id) => id.encode_paren(buf),
                    None => buf.raw(b"NIL"),
                }
            }
            MessageDataItem::SaveDate(d) => {
                buf.raw(b"SAVEDATE ");
                match d {
                    Some(d) => d.encode(buf),
                    None => buf.raw(b"NIL"),
                }
            }
            MessageDataItem::Unknown(u) => {
                buf.raw(u.name.as_bytes());
                buf.sp();
                encode_unknown_raw(&u.raw, buf);
            }
            // not valid protocol (see the variant): left out
            MessageDataItem::Invalid(_) => {}
        }
    }
}

/// Encodes `"(" fetch-att *(SP fetch-att) ")"`: FETCH items that do not encode as a list
/// are wrapped in parentheses (literal marks are moved along).
pub(crate) fn encode_fetch_att_list(buf: &mut EncodeBuf, f: &FetchItems) {
    let at = buf.out.len();
    let marks = buf.literals.len();
    f.encode(buf);
    if buf.out.get(at) != Some(&b'(') {
        buf.out.insert(at, b'(');
        for m in &mut buf.literals[marks..] {
            m.start += 1;
        }
        buf.byte(b')');
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies.
    use super::*;
    use crate::body::strategies::body_structure;
    use crate::core::strategies::{atom, istring};
    use crate::datetime::strategies::date_time;
    use crate::envelope::strategies::envelope;
    use crate::flag::strategies::flag_fetch;
    use crate::sequence::strategies::nz_u32;
    use proptest::prelude::*;

    fn n64() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..1000, 0u64..=MAX_NUMBER64]
    }

    fn nstring() -> impl Strategy<Value = NString> {
        proptest::option::of(istring())
    }

    /// Part paths.
    pub(crate) fn part() -> impl Strategy<Value = Part> {
        proptest::collection::vec(nz_u32(), 1..4).prop_map(|v| Part::new(&v).unwrap())
    }

    fn header_list() -> impl Strategy<Value = HeaderList> {
        proptest::collection::vec(istring().prop_filter("non-empty", |s| !s.is_empty()), 1..4)
            .prop_map(|v| HeaderList::new(v).unwrap())
    }

    /// Sections, including `[]` (`None`).
    pub(crate) fn section() -> BoxedStrategy<Option<Section>> {
        let opt_part = || proptest::option::of(part());
        proptest::option::of(prop_oneof![
            part().prop_map(Section::Part),
            opt_part().prop_map(Section::Header),
            (opt_part(), header_list()).prop_map(|(p, l)| Section::HeaderFields(p, l)),
            (opt_part(), header_list()).prop_map(|(p, l)| Section::HeaderFieldsNot(p, l)),
            opt_part().prop_map(Section::Text),
            part().prop_map(Section::Mime),
        ])
        .boxed()
    }

    fn partial() -> impl Strategy<Value = Option<Partial>> {
        proptest::option::of(
            (n64(), 1u64..=MAX_NUMBER64).prop_map(|(offset, l)| Partial {
                offset,
                length: NonZeroU64::new(l).unwrap(),
            }),
        )
    }

    /// Every `fetch-att`.
    pub(crate) fn fetch_attribute() -> BoxedStrategy<FetchAttribute> {
        prop_oneof![
            proptest::sample::select(FetchAttribute::named()),
            Just(FetchAttribute::Body),
            any::<bool>().prop_map(|lazy| FetchAttribute::Preview { lazy }),
            (section(), partial(), any::<bool>()).prop_map(|(section, partial, peek)| {
                FetchAttribute::BodySection {
                    section,
                    partial,
                    peek,
                }
            }),
            (proptest::option::of(part()), partial(), any::<bool>()).prop_map(
                |(section, partial, peek)| FetchAttribute::Binary {
                    section,
                    partial,
                    peek,
                }
            ),
            proptest::option::of(part()).prop_map(|section| FetchAttribute::BinarySize { section }),
            "X-[A-Z]{1,6}".prop_map(|s| FetchAttribute::Other(Atom::try_from(s).unwrap())),
        ]
        .boxed()
    }

    /// FETCH command items.
    pub(crate) fn fetch_items() -> impl Strategy<Value = FetchItems> {
        prop_oneof![
            Just(FetchItems::All),
            Just(FetchItems::Fast),
            Just(FetchItems::Full),
            proptest::collection::vec(fetch_attribute(), 1..5)
                .prop_map(|v| FetchItems::Attributes(FetchAttributes::new(v).unwrap())),
        ]
    }

    fn object_id() -> impl Strategy<Value = ObjectId> {
        "[A-Za-z0-9_-]{1,24}".prop_map(|s| ObjectId::new(Bytes::from(s)).unwrap())
    }

    /// A generic value as an unknown item would carry it.
    fn raw_value() -> impl Strategy<Value = Bytes> {
        let leaf = prop_oneof![
            "[A-Za-z0-9\\\\.]{1,6}".prop_map(String::into_bytes),
            "[a-z ]{0,6}".prop_map(|s| format!("\"{s}\"").into_bytes()),
            "[a-z]{0,6}".prop_map(|s| format!("{{{}}}\r\n{s}", s.len()).into_bytes()),
        ];
        leaf.prop_recursive(3, 12, 4, |inner| {
            proptest::collection::vec(inner, 0..4).prop_map(|v| {
                let mut out = vec![b'('];
                out.extend_from_slice(&v.join(&b' '));
                out.push(b')');
                out
            })
        })
        .prop_map(Bytes::from)
    }

    fn gmail_label() -> impl Strategy<Value = GmailLabel> {
        prop_oneof![
            atom().prop_map(GmailLabel::System),
            istring().prop_map(GmailLabel::Label),
        ]
    }

    /// Every `msg-att` item.
    pub(crate) fn message_data_item() -> BoxedStrategy<MessageDataItem> {
        prop_oneof![
            proptest::collection::vec(flag_fetch(), 0..4)
                .prop_map(|v| MessageDataItem::Flags(v.into())),
            envelope().prop_map(MessageDataItem::Envelope),
            date_time().prop_map(MessageDataItem::InternalDate),
            n64().prop_map(MessageDataItem::Rfc822Size),
            body_structure().prop_map(MessageDataItem::Body),
            body_structure().prop_map(MessageDataItem::BodyStructure),
            (section(), proptest::option::of(any::<u32>()), nstring()).prop_map(
                |(section, origin, data)| MessageDataItem::BodySection {
                    section: section.map(Box::new),
                    origin,
                    data,
                }
            ),
            (
                proptest::option::of(part()),
                proptest::option::of(any::<u32>()),
                proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20))
            )
                .prop_map(|(section, origin, data)| MessageDataItem::Binary {
                    section: section.map(Box::new),
                    origin,
                    data: data.map(Bytes::from),
                }),
            (proptest::option::of(part()), any::<u32>())
                .prop_map(|(section, size)| MessageDataItem::BinarySize { section, size }),
            nz_u32().prop_map(|n| MessageDataItem::Uid(Uid::new(n.get()).unwrap())),
            nstring().prop_map(MessageDataItem::Rfc822),
            nstring().prop_map(MessageDataItem::Rfc822Header),
            nstring().prop_map(MessageDataItem::Rfc822Text),
            n64().prop_map(|n| MessageDataItem::ModSeq(n.max(1))),
            n64().prop_map(MessageDataItem::GmailMsgId),
            n64().prop_map(MessageDataItem::GmailThrId),
            proptest::collection::vec(gmail_label(), 0..4).prop_map(MessageDataItem::GmailLabels),
            nstring().prop_map(MessageDataItem::Preview),
            object_id().prop_map(MessageDataItem::EmailId),
            proptest::option::of(object_id()).prop_map(MessageDataItem::ThreadId),
            proptest::option::of(date_time()).prop_map(MessageDataItem::SaveDate),
            ("X-[A-Z]{1,6}", raw_value()).prop_map(|(n, raw)| MessageDataItem::Unknown(
                RawItem::boxed(Atom::try_from(n).unwrap(), raw)
            )),
        ]
        .boxed()
    }

    /// A FETCH response's item list (non-empty).
    pub(crate) fn message_data_items() -> impl Strategy<Value = Vec<MessageDataItem>> {
        proptest::collection::vec(message_data_item(), 1..5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::{BodyPart, SinglePart, SinglePartKind};
    use crate::flag::Flag;
    use crate::options::Warning;
    use crate::sequence::SequenceSet;
    use proptest::prelude::*;

    type Decoded = Result<(Vec<MessageDataItem>, Vec<Warning>), crate::DecodeError>;

    /// Decodes a whole `* n FETCH (...)` CRLF line.
    fn fetch_line_bytes(b: &Bytes, o: &DecodeOptions) -> Decoded {
        let mut p = Parser::new(b, o);
        let r = (|| -> PResult<Vec<MessageDataItem>> {
            p.expect(b'*', "*")?;
            p.sp()?;
            p.nz_number()?;
            p.sp()?;
            p.expect_keyword(b"FETCH", "FETCH")?;
            p.sp()?;
            let v = MessageDataItem::parse_list(&mut p)?;
            p.crlf_end()?;
            Ok(v.into_vec())
        })();
        match r {
            Ok(v) => Ok((v, p.warnings.clone())),
            Err(_) => Err(p.error()),
        }
    }

    fn fetch_line(s: &[u8], o: &DecodeOptions) -> Decoded {
        fetch_line_bytes(&Bytes::copy_from_slice(s), o)
    }

    fn strict(s: &[u8]) -> Vec<MessageDataItem> {
        let (v, w) = fetch_line(s, &DecodeOptions::strict()).unwrap();
        assert!(w.is_empty());
        v
    }

    fn encode_items(v: &[MessageDataItem]) -> Vec<u8> {
        let mut b = EncodeBuf::new();
        MessageDataItem::encode_list(v, &mut b);
        b.out
    }

    fn encode_line(v: &[MessageDataItem]) -> Vec<u8> {
        let mut b = EncodeBuf::new();
        b.raw(b"* 1 FETCH ");
        MessageDataItem::encode_list(v, &mut b);
        b.crlf();
        b.out
    }

    /// Lenient decodes with warnings, strict fails, and the re-encoding is strictly valid.
    fn lenient_only(s: &[u8]) -> (Vec<MessageDataItem>, Vec<Quirk>) {
        assert!(
            fetch_line(s, &DecodeOptions::strict()).is_err(),
            "strict accepted {}",
            String::from_utf8_lossy(s)
        );
        let (v, w) = fetch_line(s, &DecodeOptions::lenient()).unwrap();
        assert!(!w.is_empty());
        let again = encode_line(&v);
        fetch_line(&again, &DecodeOptions::strict()).unwrap();
        (v, w.iter().map(|w| w.quirk).collect())
    }

    // ---- the RFC example corpus (JSON lines) ----

    use crate::test_corpus::str_field as json_field;

    fn corpus() -> Vec<(String, Vec<u8>)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rfc-examples");
        let mut out = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        files.sort();
        for f in files {
            for line in std::fs::read_to_string(&f).unwrap().lines() {
                if line.contains("\"note\": \"elided") || line.contains("\"note\": \"invalid") {
                    continue;
                }
                let kind = json_field(line, "kind").unwrap_or_default();
                let kind = String::from_utf8(kind).unwrap();
                if let Some(b) = json_field(line, "bytes") {
                    out.push((kind, b));
                }
            }
        }
        out
    }

    #[test]
    fn rfc_example_fetch_responses_decode_and_roundtrip() {
        let mut n = 0;
        for (kind, b) in corpus() {
            if kind != "untagged:FETCH" {
                continue;
            }
            let v = match fetch_line(&b, &DecodeOptions::strict()) {
                Ok((v, _)) => v,
                Err(e) => panic!("{e} in {}", String::from_utf8_lossy(&b)),
            };
            let again = encode_line(&v);
            let (v2, _) = fetch_line(&again, &DecodeOptions::strict()).unwrap();
            assert_eq!(v, v2);
            n += 1;
        }
        assert!(n > 100, "only {n} examples");
    }

    /// Every fetch attribute name without arguments goes name -> value -> name, in any case.
    #[test]
    fn fetch_attribute_names_round_trip() {
        crate::names::check_names(crate::names::Table {
            named: FetchAttribute::named(),
            names: &FetchAttribute::NAMES,
            known_name: FetchAttribute::known_name,
            from_known_name: FetchAttribute::from_known_name,
            parse: &|b: &[u8]| crate::names::parse_whole(b, FetchAttribute::parse),
            encode: &|v: &FetchAttribute| {
                crate::encode::Encode::to_bytes_inline_literals(v).to_vec()
            },
            wire: |n: &[u8]| n.to_vec(),
        });
    }

    /// The plain keyword chain `FetchAttribute::parse` replaced.
    fn parse_reference(p: &mut Parser<'_>) -> PResult<FetchAttribute> {
        if p.keyword(b"BODY.PEEK") {
            return FetchAttribute::body_section(p, true);
        }
        if p.keyword(b"BINARY.SIZE") {
            let section = parse_section_binary(p)?;
            return Ok(FetchAttribute::BinarySize { section });
        }
        if p.keyword(b"BINARY.PEEK") {
            return FetchAttribute::binary(p, true);
        }
        if p.keyword(b"BINARY") {
            return FetchAttribute::binary(p, false);
        }
        if p.keyword(b"PREVIEW") {
            let mut lazy = false;
            if p.looking_at_ci(b" (LAZY") {
                p.sp()?;
                p.pos += 1;
                loop {
                    p.expect_keyword(b"LAZY", "preview-mod")?;
                    lazy = true;
                    if p.eat(b')') {
                        break;
                    }
                    p.sp()?;
                }
            }
            return Ok(FetchAttribute::Preview { lazy });
        }
        for (i, n) in FetchAttribute::NAMES.iter().enumerate() {
            if *n != b"BODY" && p.keyword(n) {
                return Ok(FetchAttribute::by_index(i).unwrap());
            }
        }
        if p.keyword(b"BODY") {
            if p.peek() == Some(b'[') {
                return FetchAttribute::body_section(p, false);
            }
            return Ok(FetchAttribute::Body);
        }
        Atom::parse(p).map(FetchAttribute::Other)
    }

    #[test]
    fn fetch_att_dispatch_matches_the_keyword_chain() {
        let names: &[&[u8]] = &[
            b"BODY.PEEK",
            b"BINARY.SIZE",
            b"BINARY.PEEK",
            b"BINARY",
            b"PREVIEW",
            b"ENVELOPE",
            b"EMAILID",
            b"FLAGS",
            b"INTERNALDATE",
            b"RFC822.SIZE",
            b"RFC822.HEADER",
            b"RFC822.TEXT",
            b"RFC822",
            b"BODYSTRUCTURE",
            b"UID",
            b"MODSEQ",
            b"X-GM-MSGID",
            b"X-GM-THRID",
            b"X-GM-LABELS",
            b"THREADID",
            b"SAVEDATE",
            b"BODY",
            b"BOD",
            b"UIDX",
            b"FLAG",
            b"RFC822.",
            b"XYZ",
            b"E",
            b"",
            b"%",
            b"\\Seen",
            b"\xc3\x89",
            b"BODY.PEEKX",
            b"BODY.PEE",
            b"BODYSTRUCTUR",
            b"RFC822.SIZES",
            b"X-GM-LABEL",
            b"INTERNALDATE1",
            b"ENVELOP",
            b"FLAGS.",
        ];
        let followers: &[&[u8]] = &[
            b"",
            b" ",
            b")",
            b"[]",
            b"[HEADER]<0.16384>",
            b"[1.2.MIME]",
            b"[TEXT",
            b"[1]<5.0>",
            b"X",
            b".",
            b".PEEK[]",
            b".SIZE[2]",
            b"<1.2>",
            b" (LAZY)",
            b" (lazy LAZY)",
            b" (LAZY",
            b"\r\n",
            b"[HEADER.FIELDS (A B)]",
            b"[",
            b"-",
            b"(",
            b"]",
            b"\0",
        ];
        let tails: &[&[u8]] = &[b"", b")\r\n", b" FLAGS)\r\n", b"0123456789abcdef"];
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for n in names {
                for case in 0..3 {
                    let n: Vec<u8> = match case {
                        0 => n.to_vec(),
                        1 => n.to_ascii_lowercase(),
                        _ => n
                            .iter()
                            .enumerate()
                            .map(|(i, c)| {
                                if i % 2 == 1 {
                                    c.to_ascii_lowercase()
                                } else {
                                    *c
                                }
                            })
                            .collect(),
                    };
                    // without a tail most of these are under eight bytes (the general
                    // path); the tails put them through the fast path's 8- and 16-byte reads
                    for (f, t) in followers
                        .iter()
                        .flat_map(|f| tails.iter().map(move |t| (f, t)))
                    {
                        let b = Bytes::from([&n[..], f, t].concat());
                        let mut p = Parser::new(&b, &o);
                        let r = FetchAttribute::parse(&mut p);
                        let mut q = Parser::new(&b, &o);
                        let s = parse_reference(&mut q);
                        let what = String::from_utf8_lossy(&b);
                        assert_eq!(r.is_ok(), s.is_ok(), "{what}");
                        match (r, s) {
                            (Ok(r), Ok(s)) => assert_eq!(r, s, "{what}"),
                            _ => assert_eq!(p.error(), q.error(), "{what}"),
                        }
                        assert_eq!(p.pos, q.pos, "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn rfc_example_fetch_commands_decode() {
        let mut n = 0;
        for (kind, b) in corpus() {
            if kind != "command:FETCH" && kind != "command:UID FETCH" {
                continue;
            }
            let b = Bytes::from(b);
            let o = DecodeOptions::strict();
            let mut p = Parser::new(&b, &o);
            let r = (|| -> PResult<FetchItems> {
                crate::core::Tag::parse(&mut p)?;
                p.sp()?;
                if p.keyword(b"UID") {
                    p.sp()?;
                }
                p.expect_keyword(b"FETCH", "FETCH")?;
                p.sp()?;
                SequenceSet::parse(&mut p)?;
                p.sp()?;
                let items = FetchItems::parse(&mut p)?;
                // fetch-modifiers are the command module's business
                if !p.looking_at_ci(b" (") {
                    p.crlf_end()?;
                }
                Ok(items)
            })();
            let items =
                r.unwrap_or_else(|_| panic!("{} in {}", p.error(), String::from_utf8_lossy(&b)));
            let enc = items.to_bytes_inline_literals();
            let mut q = Parser::new(&enc, &o);
            assert_eq!(FetchItems::parse(&mut q).unwrap(), items);
            assert!(q.at_end());
            n += 1;
        }
        assert!(n > 30, "only {n} examples");
    }

    #[test]
    fn rfc9051_section8_example() {
        let s = b"* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev2 WG mtg summary and minutes\" ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \"<B27397-0100000@cac.washington.edu>\") BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n";
        let v = strict(s);
        assert_eq!(v.len(), 5);
        assert_eq!(
            v[0],
            MessageDataItem::Flags(vec![FlagFetch::Flag(Flag::Seen)].into())
        );
        let MessageDataItem::InternalDate(d) = &v[1] else {
            panic!()
        };
        assert_eq!((d.date().day(), d.hour(), d.zone_minutes()), (17, 2, -420));
        assert_eq!(v[2], MessageDataItem::Rfc822Size(4286));
        let MessageDataItem::Envelope(e) = &v[3] else {
            panic!()
        };
        assert_eq!(
            e.from().get(0).unwrap().host().unwrap(),
            b"cac.washington.edu"
        );
        let MessageDataItem::Body(b) = &v[4] else {
            panic!()
        };
        let BodyPart::Single(SinglePart {
            kind: SinglePartKind::Text { subtype, lines },
            fields,
            extension: None,
        }) = &b.to_part()
        else {
            panic!()
        };
        assert_eq!(
            (subtype.as_bytes(), *lines, fields.octets),
            (&b"PLAIN"[..], 92, 3028)
        );
        assert_eq!(
            encode_items(&v),
            s[b"* 12 FETCH ".len()..s.len() - 2].to_vec()
        );
    }

    #[test]
    fn body_section_literal_and_partial() {
        let s = b"* 12 FETCH (BODY[HEADER.FIELDS (DATE FROM)]<0> {11}\r\nDate: x\r\n\r\n UID 7 BODY[1.2.MIME] NIL BINARY[1] ~{3}\r\na\x00b BINARY.SIZE[] 3 RFC822.TEXT \"t\")\r\n";
        let v = strict(s);
        let MessageDataItem::BodySection {
            section: Some(section),
            origin: Some(0),
            data: Some(d),
        } = &v[0]
        else {
            panic!("{v:?}")
        };
        let Section::HeaderFields(None, l) = &**section else {
            panic!("{v:?}")
        };
        assert_eq!(l.names().len(), 2);
        assert_eq!(d.as_bytes(), b"Date: x\r\n\r\n");
        assert_eq!(v[1], MessageDataItem::Uid(Uid::new(7).unwrap()));
        let MessageDataItem::BodySection {
            section: Some(section),
            data: None,
            ..
        } = &v[2]
        else {
            panic!()
        };
        let Section::Mime(pt) = &**section else {
            panic!("{v:?}")
        };
        assert_eq!(
            pt.numbers().map(|n| n.get()).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(
            v[3],
            MessageDataItem::Binary {
                section: Some(Box::new(Part::new(&[NonZeroU32::MIN]).unwrap())),
                origin: None,
                data: Some(Bytes::from_static(b"a\x00b"))
            }
        );
        assert_eq!(
            v[4],
            MessageDataItem::BinarySize {
                section: None,
                size: 3
            }
        );
    }

    /// `Debug` prints the boxed variants as the derived `Debug` printed them before they
    /// were boxed (`dissect --json` is made from it): the boxes do not show, `Unknown` and
    /// `Invalid` are struct variants with `name` and `raw`.
    #[test]
    fn debug_as_before_boxing() {
        let s = b"* 1 FETCH (BODY[1.MIME] NIL BINARY[2]<3> \"ab\" BINARY.SIZE[] 4 X-FOO (1 2) UID x)\r\n";
        let (v, _) = lenient_only(s);
        let name = |n: &str| Atom::try_from(n).unwrap();
        let raw = |r: &'static [u8]| Bytes::from_static(r);
        let want = [
            "BodySection { section: Some(Mime(Part(1))), origin: None, data: None }".to_string(),
            "Binary { section: Some(Part(2)), origin: Some(3), data: Some(b\"ab\") }".to_string(),
            "BinarySize { section: None, size: 4 }".to_string(),
            format!(
                "Unknown {{ name: {:?}, raw: {:?} }}",
                name("X-FOO"),
                raw(b"(1 2)")
            ),
            format!(
                "Invalid {{ name: {:?}, raw: {:?} }}",
                name("UID"),
                raw(b"x")
            ),
        ];
        let got: Vec<String> = v.iter().map(|it| format!("{it:?}")).collect();
        assert_eq!(got, want);
        // the alternate form too
        assert_eq!(
            format!("{:#?}", v[3]),
            format!(
                "Unknown {{\n    name: {:#?},\n    raw: {:#?},\n}}",
                name("X-FOO"),
                raw(b"(1 2)")
            )
        );
        assert_eq!(
            format!("{:?}", MessageDataItem::Uid(Uid::new(7).unwrap())),
            format!("Uid({:?})", Uid::new(7).unwrap())
        );
    }

    #[test]
    fn body_literal_is_zero_copy() {
        let msg = Bytes::from_static(b"* 1 FETCH (BODY[] {5}\r\nhello UID 3)\r\n");
        let (v, _) = fetch_line_bytes(&msg, &DecodeOptions::strict()).unwrap();
        let MessageDataItem::BodySection { data: Some(d), .. } = &v[0] else {
            panic!()
        };
        let range = msg.as_ptr() as usize..msg.as_ptr() as usize + msg.len();
        assert!(range.contains(&(d.as_bytes().as_ptr() as usize)));
        assert_eq!(d.as_bytes(), b"hello");
    }

    #[test]
    fn gmail_and_extension_items() {
        let s = b"* 1 FETCH (X-GM-THRID 1278455344230334865 X-GM-MSGID 1278455344230334865 X-GM-LABELS (\\Inbox \\Sent Important \"Muy Importante\") MODSEQ (624140003) EMAILID (M6d99ac3275bb4e) THREADID NIL SAVEDATE NIL PREVIEW \"Hi\")\r\n";
        let v = strict(s);
        assert_eq!(v[0], MessageDataItem::GmailThrId(1278455344230334865));
        let MessageDataItem::GmailLabels(l) = &v[2] else {
            panic!()
        };
        assert_eq!(l.len(), 4);
        assert_eq!(l[0], GmailLabel::System(Atom::try_from("Inbox").unwrap()));
        assert_eq!(v[3], MessageDataItem::ModSeq(624140003));
        assert_eq!(
            v[4],
            MessageDataItem::EmailId(
                ObjectId::new(Bytes::from_static(b"M6d99ac3275bb4e")).unwrap()
            )
        );
        assert_eq!(v[5], MessageDataItem::ThreadId(None));
        assert_eq!(v[6], MessageDataItem::SaveDate(None));
        assert_eq!(encode_line(&v), s.to_vec());
    }

    #[test]
    fn unknown_items_keep_raw_value() {
        let s = b"* 1 FETCH (X-FOO (1 \"a b\" (NIL \\Seen) {3}\r\nx)y ()) UID 5 X-BAR 12)\r\n";
        let v = strict(s);
        let MessageDataItem::Unknown(u) = &v[0] else {
            panic!()
        };
        let RawItem { name, raw } = &**u;
        assert_eq!(name.as_bytes(), b"X-FOO");
        assert_eq!(&raw[..], b"(1 \"a b\" (NIL \\Seen) {3}\r\nx)y ())");
        assert_eq!(encode_line(&v), s.to_vec());
        let mut b = EncodeBuf::new();
        MessageDataItem::encode_list(&v, &mut b);
        assert_eq!(b.literals.len(), 1);
        // an invalid raw value is encoded as NIL
        let bad = MessageDataItem::Unknown(RawItem::boxed(
            Atom::try_from("X-A").unwrap(),
            Bytes::from_static(b"(unbalanced"),
        ));
        assert_eq!(bad.to_vec_inline_literals(), b"X-A NIL");
    }

    /// An unknown item's value the lenient profile repaired keeps the repaired value through
    /// re-encoding (not `NIL`): spaces made single, an unescaped DQUOTE escaped, an atom with
    /// 8-bit bytes and a literal announced with a bare LF written as literals.
    #[test]
    fn unknown_items_keep_repaired_raw_value() {
        let s = b"* 1 FETCH (X-FOO ( 1  \"5\"x\" (NIL)y t\xc3\xa9 {2}\nab ) UID 5)\r\n";
        let (v, w) = lenient_only(s);
        assert!(w.contains(&Quirk::ExtraSpaces), "{w:?}");
        assert!(w.contains(&Quirk::UnescapedQuotes), "{w:?}");
        assert!(w.contains(&Quirk::EightBit), "{w:?}");
        assert!(w.contains(&Quirk::BareLf), "{w:?}");
        let MessageDataItem::Unknown(u) = &v[0] else {
            panic!("{v:?}")
        };
        let RawItem { name, raw } = &**u;
        assert_eq!(name.as_bytes(), b"X-FOO");
        let want: &[u8] = b"(1 \"5\\\"x\" (NIL) y {3}\r\nt\xc3\xa9 {2}\r\nab)";
        assert_eq!(&raw[..], want, "{}", String::from_utf8_lossy(raw));
        let mut line = b"* 1 FETCH (X-FOO ".to_vec();
        line.extend_from_slice(want);
        line.extend_from_slice(b" UID 5)\r\n");
        assert_eq!(encode_line(&v), line);
        // a value without defects is kept byte for byte, also in the lenient profile
        let ok = b"* 1 FETCH (X-FOO (1 {2+}\r\nab) UID 5)\r\n";
        let (v, w) = fetch_line(ok, &DecodeOptions::lenient()).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(encode_line(&v), ok.to_vec());
    }

    /// The names' count hint is what the byte loop it replaced counts.
    #[test]
    fn names_hint_matches_byte_loop() {
        let by_bytes = |r: &[u8]| {
            r.iter()
                .take_while(|&&c| c != b')' && c != b'\n')
                .filter(|&&c| c == b' ')
                .count()
                + 1
        };
        for s in [
            "",
            ")",
            "FROM)",
            "FROM TO CC DATE SUBJECT MESSAGE-ID)] BODY[HEADER.FIELDS (A B)]\r\n",
            "A  B   C)",
            "A B\nC D)",
            "A B C",
            " ",
            "(A B) C)",
            "\"A B\" C)",
        ] {
            assert_eq!(
                HeaderList::names_hint(s.as_bytes()),
                by_bytes(s.as_bytes()),
                "{s:?}"
            );
        }
    }

    /// `Section::msgtext` skips the `HEADER.FIELDS[.NOT]` tries where their dot is missing:
    /// the same sections, positions, errors and warnings as the keyword tries in a row (the
    /// general path, kept here).
    #[test]
    fn section_dot_checks_match_keyword_tries() {
        fn msgtext_by_keywords(
            p: &mut Parser<'_>,
            part: Option<Part>,
            mime: bool,
        ) -> PResult<Section> {
            if matches!(p.peek(), Some(b'T' | b't')) && p.keyword(b"TEXT") {
                return Ok(Section::Text(part));
            }
            if p.keyword(b"HEADER.FIELDS.NOT") {
                p.sp()?;
                return Ok(Section::HeaderFieldsNot(part, HeaderList::parse(p)?));
            }
            if p.keyword(b"HEADER.FIELDS") {
                p.sp()?;
                return Ok(Section::HeaderFields(part, HeaderList::parse(p)?));
            }
            if p.keyword(b"HEADER") {
                return Ok(Section::Header(part));
            }
            if p.keyword(b"TEXT") {
                return Ok(Section::Text(part));
            }
            if mime && p.keyword(b"MIME") {
                if let Some(part) = part {
                    return Ok(Section::Mime(part));
                }
            }
            Err(p.fail("section-text"))
        }
        let mut inputs = Vec::new();
        for spec in [
            "HEADER",
            "header",
            "HEADER.FIELDS (FROM TO)",
            "header.fields (FROM)",
            "HEADER.FIELDS.NOT (X-A X-B)",
            "Header.Fields.Not (A)",
            "HEADER.FIELDS.NOTX (A)",
            "HEADER.FIELDSX (A)",
            "HEADER.FIELD (A)",
            "HEADER.FIELDS",
            "HEADER.FIELDS.",
            "HEADER.FIELDS.NOT",
            "HEADER.X",
            "HEADERX",
            "HEADER.",
            "HEADER..",
            "HEADER.FIELDS..NOT (A)",
            "HEADER.FIELDS.NO (A)",
            "TEXT",
            "text",
            "MIME",
            "HEAD",
            "H",
            "",
            "HEADER.FIELDS  (A)",
            "HEADER.FIELDS (A )",
            "HEADER.FIELDS ()",
        ] {
            for part in ["", "1.", "1.2."] {
                for end in ["]", "", "]<0.5>"] {
                    inputs.push(format!("{part}{spec}{end}"));
                }
            }
        }
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for s in &inputs {
                let b = Bytes::from(s.clone().into_bytes());
                let (mut fast, mut general) = (Parser::new(&b, &o), Parser::new(&b, &o));
                let (part, mime) = if matches!(fast.peek(), Some(b'0'..=b'9')) {
                    let a = Part::parse(&mut fast).unwrap();
                    assert_eq!(Part::parse(&mut general).unwrap(), a);
                    assert!(fast.eat(b'.') && general.eat(b'.'));
                    (Some(a), true)
                } else {
                    (None, false)
                };
                let rf = Section::msgtext(&mut fast, part.clone(), mime);
                let rg = msgtext_by_keywords(&mut general, part, mime);
                assert_eq!(rf.is_ok(), rg.is_ok(), "{s}");
                match (rf, rg) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a, b, "{s}");
                        assert_eq!(fast.pos, general.pos, "{s}");
                    }
                    _ => assert_eq!(fast.error(), general.error(), "{s}"),
                }
                assert_eq!(fast.warnings, general.warnings, "{s}");
            }
        }
    }

    /// The general path of a parenthesised FETCH item list, as it was before one attribute
    /// was kept inline: every attribute pushed to a `Vec`, then `FetchAttributes::new`.
    fn fetch_items_by_vec(p: &mut Parser<'_>) -> PResult<FetchItems> {
        if !p.eat(b'(') {
            return FetchItems::parse(p);
        }
        let mut v = Vec::with_capacity(4);
        loop {
            v.push(FetchAttribute::parse(p)?);
            p.check_items(v.len())?;
            p.skip_trailing_sp();
            if p.eat(b')') {
                return Ok(FetchItems::Attributes(FetchAttributes::new(v).unwrap()));
            }
            if p.peek() != Some(b' ') {
                let _ = p.fail("\")\"");
            }
            p.sp()?;
        }
    }

    /// A list of one attribute (held inline) decodes as the `Vec` path decodes it: the same
    /// items, position, warnings and error, strictly, leniently and with low item limits;
    /// and it is equal to, prints as and converts like the same list in a `Vec`.
    #[test]
    fn one_attribute_inline_matches_vec() {
        let items = [
            "FLAGS",
            "UID",
            "BODY.PEEK[]<0.2048>",
            "BODY[HEADER.FIELDS (FROM TO)]",
            "BODY.PEEK[1.2.MIME]",
            "BINARY.PEEK[1]<0.5>",
            "BINARY.SIZE[]",
            "PREVIEW (LAZY)",
            "X-FOO",
            "RFC822.SIZE",
            "BODY",
        ];
        let mut inputs = vec![
            "(".to_string(),
            "()".to_string(),
            "( FLAGS)".to_string(),
            "(FLAGS".to_string(),
            "(FLAGS ".to_string(),
            "(FLAGS  UID)".to_string(),
            "(FLAGS )".to_string(),
            "(FLAGS)x".to_string(),
            "(FLAGS\tUID)".to_string(),
            "(BODY[".to_string(),
            "(0)".to_string(),
        ];
        for a in items {
            inputs.push(format!("({a})"));
            inputs.push(format!("({a} )"));
            inputs.push(format!("({a} UID)"));
            inputs.push(format!("(UID {a})"));
            inputs.push(format!("({a}"));
            inputs.push(format!("({a} {a} {a} {a} {a})"));
        }
        let opts = [
            DecodeOptions::strict(),
            DecodeOptions::lenient(),
            DecodeOptions::strict().with_max_list_items(1),
            DecodeOptions::lenient().with_max_list_items(0),
        ];
        for o in &opts {
            for s in &inputs {
                let b = Bytes::from(s.clone().into_bytes());
                let (mut fast, mut general) = (Parser::new(&b, o), Parser::new(&b, o));
                let rf = FetchItems::parse(&mut fast);
                let rg = fetch_items_by_vec(&mut general);
                assert_eq!(rf.is_ok(), rg.is_ok(), "{s}");
                match (rf, rg) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a, b, "{s}");
                        assert_eq!(format!("{a:?}"), format!("{b:?}"), "{s}");
                        assert_eq!(fast.pos, general.pos, "{s}");
                    }
                    _ => assert_eq!(fast.error(), general.error(), "{s}"),
                }
                assert_eq!(fast.warnings, general.warnings, "{s}");
            }
        }
        for a in [
            FetchAttribute::Flags,
            FetchAttribute::Other(Atom::try_from("X-FOO").unwrap()),
            FetchAttribute::BodySection {
                section: None,
                partial: None,
                peek: true,
            },
        ] {
            let one = FetchAttributes::from(a.clone());
            let by_new = FetchAttributes::new(vec![a.clone()]).unwrap();
            assert_eq!(one, by_new);
            assert_eq!(one.as_slice(), std::slice::from_ref(&a));
            assert_eq!(one.clone().into_vec(), vec![a.clone()]);
            for (x, y) in [(&one, vec![a.clone()]), (&by_new, vec![a.clone()])] {
                let vec_form = |f: &mut std::fmt::Formatter<'_>| {
                    f.debug_tuple("FetchAttributes").field(&y).finish()
                };
                struct D<F>(F);
                impl<F: Fn(&mut std::fmt::Formatter<'_>) -> std::fmt::Result> std::fmt::Debug for D<F> {
                    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        (self.0)(f)
                    }
                }
                assert_eq!(format!("{x:?}"), format!("{:?}", D(vec_form)));
                assert_eq!(format!("{x:#?}"), format!("{:#?}", D(vec_form)));
            }
            let two = FetchAttributes::new(vec![a.clone(), FetchAttribute::Uid]).unwrap();
            assert_ne!(one, two);
            assert_eq!(two.as_slice(), &[a.clone(), FetchAttribute::Uid]);
            assert_eq!(
                format!("{two:?}"),
                format!("FetchAttributes({:?})", vec![a, FetchAttribute::Uid])
            );
        }
        assert!(FetchAttributes::new(Vec::new()).is_err());
    }

    #[test]
    fn fetch_items_forms() {
        let parse = |s: &'static [u8]| {
            let b = Bytes::from_static(s);
            let o = DecodeOptions::strict();
            let mut p = Parser::new(&b, &o);
            let r = FetchItems::parse(&mut p).map_err(|_| p.error());
            (r, p.at_end())
        };
        assert_eq!(parse(b"all").0.unwrap(), FetchItems::All);
        assert_eq!(parse(b"FAST").0.unwrap(), FetchItems::Fast);
        assert_eq!(
            parse(b"BODY.PEEK[1.2.HEADER.FIELDS.NOT (X-Y \"a b\")]<10.20>")
                .0
                .unwrap(),
            FetchItems::Attributes(
                FetchAttribute::BodySection {
                    section: Some(Section::HeaderFieldsNot(
                        Some(Part::new(&[NonZeroU32::MIN, NonZeroU32::new(2).unwrap()]).unwrap()),
                        HeaderList::new(vec![
                            IString::try_from("X-Y").unwrap(),
                            IString::try_from("a b").unwrap()
                        ])
                        .unwrap()
                    )),
                    partial: Some(Partial {
                        offset: 10,
                        length: NonZeroU64::new(20).unwrap()
                    }),
                    peek: true,
                }
                .into()
            )
        );
        let (r, end) =
            parse(b"(UID PREVIEW (LAZY) BINARY.PEEK[1]<0.5> BINARY.SIZE[] X-FOO RFC822.HEADER)");
        assert!(end);
        let FetchItems::Attributes(a) = r.unwrap() else {
            panic!()
        };
        assert_eq!(
            a.as_slice(),
            &[
                FetchAttribute::Uid,
                FetchAttribute::Preview { lazy: true },
                FetchAttribute::Binary {
                    section: Some(Part::new(&[NonZeroU32::MIN]).unwrap()),
                    partial: Some(Partial {
                        offset: 0,
                        length: NonZeroU64::new(5).unwrap()
                    }),
                    peek: true
                },
                FetchAttribute::BinarySize { section: None },
                FetchAttribute::Other(Atom::try_from("X-FOO").unwrap()),
                FetchAttribute::Rfc822Header,
            ]
        );
        // PREVIEW followed by fetch modifiers: the modifiers are not preview-mods
        let (r, end) = parse(b"PREVIEW (CHANGEDSINCE 5)");
        assert_eq!(r.unwrap(), FetchAttribute::Preview { lazy: false }.into());
        assert!(!end);
        for bad in [
            &b"BODY[0]"[..],
            b"BODY[1.MIME.TEXT]",
            b"BODY[MIME]",
            b"()",
            b"BODY[HEADER.FIELDS ()]",
            b"BODY[01]",
        ] {
            let b = Bytes::copy_from_slice(bad);
            let o = DecodeOptions::strict();
            let mut p = Parser::new(&b, &o);
            let ok = FetchItems::parse(&mut p).is_ok() && p.at_end();
            assert!(!ok, "{}", String::from_utf8_lossy(bad));
        }
        assert!(HeaderList::new(vec![]).is_err());
        assert!(HeaderList::new(vec![IString::default()]).is_err());
        assert!(Part::new(&[]).is_err());
        assert!(FetchAttributes::new(vec![]).is_err());
        assert!(ObjectId::new(Bytes::from_static(b"a.b")).is_err());
    }

    #[test]
    fn quirks_bodystructure_lines() {
        let (v, w) = lenient_only(b"* 2114 FETCH (UID 2114 MODSEQ (3143) RFC822.SIZE 11867 BODYSTRUCTURE (((\"text\" \"plain\" (\"CHARSET\" \"UTF-8\") NIL NIL NIL 1423 44 NIL NIL NIL NIL)(\"text\" \"html\" (\"CHARSET\" \"UTF-8\") NIL NIL \"quoted-printable\" 2524 34 NIL NIL NIL NIL) \"alternative\" (\"BOUNDARY\" \"000000000000ccac3a05a5ef76c3\") NIL NIL NIL)(\"text\" \"plain\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7bit\" 151 4 NIL NIL NIL NIL) \"mixed\" (\"BOUNDARY\" \"===============5781602957316160403==\") NIL NIL NIL))\r\n");
        assert_eq!(v.len(), 4);
        assert_eq!(w, vec![Quirk::NilOrEmpty]);
        let (v, _) = lenient_only(b"* 13 FETCH (BODYSTRUCTURE ((\"text\" \"html\" (\"charset\" \"cp1251\") NIL NIL \"base64\" 84056 0 NIL (\"inline\" NIL) NIL NIL)(\"image\" \"gif\" () \"25b2b55b5d97f04e9ea939fe32a46a65.gif\" NIL \"base64\" 20776 NIL (\"inline\" NIL) NIL NIL) \"related\" (\"boundary\" NIL)))\r\n");
        assert!(matches!(
            &v[0],
            MessageDataItem::BodyStructure(b) if matches!(b.to_part(), BodyPart::Multi(_))
        ));
        let (_, w) = lenient_only(b"* 1 FETCH (UID 1 BODYSTRUCTURE (((\"text\" \"plain\"  (\"charset\" \"UTF-8\") NIL NIL \"7bit\" 409 7 NIL NIL NIL)(\"text\" \"html\"  (\"charset\" \"UTF-8\") NIL NIL \"7bit\" 592 10 NIL NIL NIL) \"alternative\" (\"boundary\" \"--==_mimepart_5277b641dcc3_57d5887e8325d8\" \"charset\" \"UTF-8\") NIL NIL) \"mixed\" (\"boundary\" \"--==_mimepart_5277b64110f79_57d5887e832634\" \"charset\" \"UTF-8\") NIL NIL))\r\n");
        assert!(w.iter().all(|q| *q == Quirk::ExtraSpaces));
        // 8-bit bytes inside a literal are valid
        let v = strict(b"* 15 FETCH (BODYSTRUCTURE (\"image\" \"png\" (\"name\" {8}\r\nG\xf6r\xfcnt\xfc1) \"<part1@example.com>\" NIL \"base64\" 15440 NIL NIL NIL NIL))\r\n");
        assert_eq!(v.len(), 1);
        let (v, w) = lenient_only(b"* 1 FETCH (BODY ((\"text\" \"html\" (\"charset\" \"UTF-8\") NIL NIL \"quoted-printable\" 1224 16)(\"application\" \"octet-stream\" (\"name\" \"2154973550.pdf\") NIL \"\"\"\" \"base64\" 65322) \"MIXED\"))\r\n");
        assert!(w.contains(&Quirk::UnescapedQuotes));
        assert!(matches!(
            &v[0],
            MessageDataItem::Body(b) if matches!(b.to_part(), BodyPart::Multi(_))
        ));
    }

    #[test]
    fn quirk_unparseable_bodystructure_keeps_rest() {
        let (v, w) = lenient_only(b"* 1 FETCH (UID 4 BODYSTRUCTURE (\"text\" 12 (\"x\" \")\") {2}\r\n)) junk) FLAGS (\\Seen))\r\n");
        assert!(w.contains(&Quirk::MalformedBodyStructure));
        assert_eq!(v.len(), 3);
        let MessageDataItem::BodyStructure(b) = &v[1] else {
            panic!("{v:?}")
        };
        let BodyPart::Invalid(raw) = &b.to_part() else {
            panic!("{v:?}")
        };
        assert_eq!(&raw[..], b"(\"text\" 12 (\"x\" \")\") {2}\r\n)) junk)");
        assert_eq!(
            v[2],
            MessageDataItem::Flags(vec![FlagFetch::Flag(Flag::Seen)].into())
        );
    }

    #[test]
    fn quirks_envelope_lines() {
        let (v, w) = lenient_only(b"* 2 FETCH (UID 14935 (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)) BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0 NIL))\r\n");
        assert_eq!(w, vec![Quirk::MalformedEnvelope]);
        assert_eq!(v.len(), 3);
        assert_eq!(v[1], MessageDataItem::Envelope(Envelope::default()));
        let (v, w) = lenient_only(b"* 24 FETCH (UID 60 INTERNALDATE \"24-May-2021 11:47:51 +0200\" RFC822.SIZE 49051 ENVELOPE (\"Mon, 24 May 20 21 09:47:50 +0000\" \"Zoooom Zoom\" ((\"Augustina Gleason\" NIL \"augustina\" \"oberbrunner.test\")) NIL NIL ((\"risa@harvey-lemke.test\" NIL \"risa\" \"harvey-lemke.test\") (\"shella@kilback-renner.test\" NIL \"shella\" \"kilback-renner.test\") (\"jana.kiehn@bradtke-considine.example\" NIL \"jana.kiehn\" \"bradtke-considine.example\") (\"frank@hartmann.test\" NIL \"frank\" \"hartmann.test\") (\"numbers.ryan@satterfield.test\" NIL \"numbers.ryan\" \"satterfield.test\") (\"keneth_feeney@will-walter.test\" NIL \"keneth_feeney\" \"will-walter.test\")) NIL NIL NIL \"<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@bbbbbbbbbbbbb.ccccccc.PROD.OUTLOOK.COM>\"))\r\n");
        assert_eq!(w, vec![Quirk::ExtraSpaces; 5]);
        let MessageDataItem::Envelope(e) = &v[3] else {
            panic!()
        };
        assert_eq!(e.to().len(), 6);
        let (v, _) = lenient_only(b"* 3 FETCH (ENVELOPE (\"Wed, 11 Oct 2023 03:11:07 +0000\" \"some subject\" ((\"Tn\" NIL \"info\" \"e.example.com\")) NIL NIL () NIL NIL \"<426119111385110898173554@bar.example.com>\" \"<foo@example.com>\"))\r\n");
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn quirks_fetch_lines() {
        let (v, w) = lenient_only(
            b"* 11784 FETCH (UID 87567 INTERNALDATE \"06-May-2023 18:48:30 +0200\" RFC822.SIZE 5799845 )\r\n",
        );
        assert_eq!((v.len(), w), (3, vec![Quirk::ExtraSpaces]));
        let (v, _) = lenient_only(b"* 11487 FETCH (UID 19436 )\r\n");
        assert_eq!(v, vec![MessageDataItem::Uid(Uid::new(19436).unwrap())]);
        let (v, w) = lenient_only(b"* 40 FETCH (MODSEQ (-1) FLAGS (\\Recent \\Seen) UID 336)\r\n");
        assert_eq!(w, vec![Quirk::BadNumbers, Quirk::ZeroModSeq]);
        assert_eq!(v[0], MessageDataItem::ModSeq(1));
        assert_eq!(
            v[1],
            MessageDataItem::Flags(vec![FlagFetch::Recent, FlagFetch::Flag(Flag::Seen)].into())
        );
        // a literal length beyond 64 bits fails cleanly in both profiles
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            assert!(
                fetch_line(
                    b"* 20367 FETCH (BODY[] {99999999999999999999}\r\nwon't parse this)\r\n",
                    &o
                )
                .is_err()
            );
            assert!(fetch_line(b"* 1 FETCH (BODY[] {999}\r\nshort)\r\n", &o).is_err());
        }
        // Office 365: no SP between the end of a literal and the next item
        let (v, w) = lenient_only(b"* 12 FETCH (BODY[HEADER] {47}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nUID 12 FLAGS (\\Seen))\r\n");
        assert_eq!((v.len(), w), (3, vec![Quirk::ExtraSpaces]));
        // [VALID edge] more items after a literal that ends in CRLF
        let v = strict(b"* 12 FETCH (BODY[HEADER] {47}\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n UID 12 FLAGS (\\Seen))\r\n");
        assert_eq!(v.len(), 3);
        assert_eq!(v[1], MessageDataItem::Uid(Uid::new(12).unwrap()));
    }

    #[test]
    fn deep_nesting_is_bounded() {
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for name in [&b"BODYSTRUCTURE"[..], b"BODY", b"X-DEEP", b"ENVELOPE"] {
                let mut s = b"* 1 FETCH (".to_vec();
                s.extend_from_slice(name);
                s.push(b' ');
                s.extend_from_slice(&[b'('; 10_000]);
                s.extend_from_slice(&[b')'; 10_001]);
                s.extend_from_slice(b"\r\n");
                assert!(fetch_line(&s, &o).is_err());
            }
            let mut s = b"* 1 FETCH ".to_vec();
            s.extend_from_slice(&[b'('; 10_000]);
            s.extend_from_slice(b"UID 1");
            s.extend_from_slice(&[b')'; 10_000]);
            s.extend_from_slice(b"\r\n");
            assert!(fetch_line(&s, &o).is_err());
        }
    }

    /// Mutations of valid input: whatever the lenient profile accepts must re-encode as valid
    /// (strict) protocol, and nothing panics. (NUL bytes are left out: the core string types
    /// keep a NUL the lenient profile accepted in a quoted string or literal.)
    fn mutate(mut b: Vec<u8>, edits: &[(usize, u8)]) -> Vec<u8> {
        const INSERTS: &[&[u8]] = &[
            b" ",
            b"  ",
            b"NIL",
            b"()",
            b"-1",
            b"(",
            b")",
            b"\"",
            b"{2}\r\nab",
            b"1.5e3",
            b"\\",
            b"\xe9",
            b"~{1}\r\n\x00",
        ];
        for &(at, what) in edits {
            if b.is_empty() {
                break;
            }
            let at = at % b.len();
            match what % 3 {
                0 => {
                    b.remove(at);
                }
                _ => {
                    let ins = INSERTS[what as usize % INSERTS.len()];
                    b.splice(at..at, ins.iter().copied());
                }
            }
        }
        b
    }

    proptest! {
        #[test]
        fn lenient_output_is_valid(
            v in strategies::message_data_items(),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)
        ) {
            let mut b = EncodeBuf::new();
            MessageDataItem::encode_list(&v, &mut b);
            let bytes = Bytes::from(mutate(b.out, &edits));
            let o = DecodeOptions::lenient();
            let mut p = Parser::new(&bytes, &o);
            if let Ok(d) = MessageDataItem::parse_list(&mut p) {
                let mut b = EncodeBuf::new();
                MessageDataItem::encode_list(&d, &mut b);
                let again = Bytes::from(b.out);
                let s = DecodeOptions::strict();
                let mut q = Parser::new(&again, &s);
                let r = MessageDataItem::parse_list(&mut q);
                prop_assert!(r.is_ok(), "{} in {:?} (from {:?})", q.error(), again, bytes);
                prop_assert!(q.at_end());
            }
            let s = DecodeOptions::strict();
            let mut p = Parser::new(&bytes, &s);
            let _ = MessageDataItem::parse_list(&mut p);
        }

        #[test]
        fn fetch_items_roundtrip(v in strategies::fetch_items()) {
            let bytes = v.to_bytes_inline_literals();
            let o = DecodeOptions::strict();
            let mut p = Parser::new(&bytes, &o);
            let d = FetchItems::parse(&mut p).unwrap();
            prop_assert!(p.at_end());
            prop_assert_eq!(d, v);
        }

        #[test]
        fn message_data_items_roundtrip(v in strategies::message_data_items()) {
            let mut b = EncodeBuf::new();
            MessageDataItem::encode_list(&v, &mut b);
            let bytes = Bytes::from(b.out);
            let o = DecodeOptions::strict();
            let mut p = Parser::new(&bytes, &o);
            let d = MessageDataItem::parse_list(&mut p);
            prop_assert!(d.is_ok(), "{} in {:?}", p.error(), bytes);
            prop_assert!(p.at_end());
            prop_assert_eq!(d.unwrap(), v);
        }
    }
}
