//! BODY / BODYSTRUCTURE (RFC 9051 §7.5.2, §9 `body`, `body-type-1part`, `body-type-basic`,
//! `body-type-msg`, `body-type-text`, `body-type-mpart`, `body-fields`, `body-ext-1part`,
//! `body-ext-mpart`, `body-fld-dsp`, `body-fld-lang`, `body-fld-loc`, `body-extension`;
//! RFC 3501 §7.4.2).
//!
//! `BODY` (non-extensible) and `BODYSTRUCTURE` share one type: the extension data is kept in
//! `Option`s, absent for `BODY`. The optional trailing fields of the extension data nest
//! (`md5 [dsp [lang [loc *ext]]]`), and so do the types ([`DispositionExt`] →
//! [`LanguageExt`] → [`LocationExt`]), so what was sent round-trips exactly.
//!
//! Canonical forms (the wire form is never recorded): a parameter list is empty for `NIL`;
//! a language list is empty for `NIL`, and a single language is sent as a string.
//!
//! Lenient profile ([`Quirk::MalformedBodyStructure`], [`Quirk::NilOrEmpty`],
//! [`Quirk::ExtraSpaces`], [`Quirk::BadNumbers`]): `NIL` encoding (→ `"7BIT"`), `()` parameter
//! lists (→ empty), `NIL` parameter values (→ `""`), `NIL` media type/subtype
//! (→ `application/octet-stream`), text parts without a line count (→ 0), multiparts whose
//! child list is `NIL` or missing (→ no children), doubled spaces, bad numbers. Anything else
//! that does not parse becomes [`BodyPart::Invalid`] with the raw bytes, so the rest of
//! the FETCH response still decodes.

use std::fmt;

use bytes::Bytes;

use crate::core::{IString, NString};
use crate::encode::{Encode, EncodeBuf};
use crate::envelope::Envelope;
use crate::error::{Rule, ValidationError, ValueKind};
use crate::list::SmallList;
use crate::options::Quirk;
use crate::parse::{Fail, PResult, Parser};

/// A body parameter: (attribute, value), e.g. `("CHARSET", "UTF-8")`.
pub type BodyParam = (IString, IString);

/// A `body-fld-param` list: up to two parameters are stored inline (most parts have one or
/// two: a charset, a name, a boundary, a filename and size), more spill to the heap.
pub type BodyParams = SmallList<BodyParam, 2>;

/// A `body-fld-lang` list (Content-Language tags): up to two inline.
pub type Languages = SmallList<IString, 2>;

/// A `body`: the MIME structure of a message or body part.
///
/// Stored flat: every part of the tree in one list, in wire order (a multipart before its
/// children), so a decoded structure costs one allocation however many parts it has. Walk it
/// from [`root`](Self::root) ([`part`](BodyRef::part), [`children`](BodyRef::children)); build
/// one with [`single`](Self::single), [`multi`](Self::multi) and [`invalid`](Self::invalid):
///
/// ```
/// use imapwire_codec::body::{BodyFields, BodyPart, BodyStructure, MultiPart, SinglePart, SinglePartKind};
/// use imapwire_codec::core::IString;
///
/// let text = BodyStructure::single(SinglePart {
///     kind: SinglePartKind::Text { subtype: IString::try_from("PLAIN").unwrap(), lines: 1 },
///     fields: BodyFields::default(),
///     extension: None,
/// });
/// let mixed = MultiPart { subtype: IString::try_from("MIXED").unwrap(), extension: None };
/// let b = BodyStructure::multi(mixed, [text.clone(), text]);
/// assert!(matches!(b.part(), BodyPart::Multi(m) if m.subtype.as_bytes() == b"MIXED"));
/// assert_eq!(b.children().count(), 2);
/// assert!(b.children().all(|c| matches!(c.part(), BodyPart::Single(_))));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BodyStructure {
    /// Never empty; `nodes[0]` is the root, and every subtree is a contiguous run.
    nodes: Vec<Node>,
}

/// One part in a [`BodyStructure`]'s list, with the size of the subtree it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    part: BodyPart,
    /// Parts in the subtree rooted here, this one included (at least 1).
    len: u32,
}

/// One part of a [`BodyStructure`] (its children, for a multipart, are the following parts
/// of the structure: see [`BodyRef::children`]).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyPart {
    /// `body-type-1part`: a leaf part (or an encapsulated message).
    Single(SinglePart),
    /// `body-type-mpart`: a multipart.
    Multi(MultiPart),
    /// Lenient profile only: a structure that could not be decoded, as the raw bytes of the
    /// balanced parenthesised value (or `NIL`), kept for the user.
    ///
    /// Encoding cannot reproduce it (it is not valid protocol); it is encoded as the minimal
    /// valid structure `("TEXT" "PLAIN" NIL NIL NIL "7BIT" 0 0)` instead.
    Invalid(
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_util::bytes))] Bytes,
    ),
}

impl BodyStructure {
    /// A structure of one leaf part.
    pub fn single(part: SinglePart) -> Self {
        BodyStructure {
            nodes: vec![Node {
                part: BodyPart::Single(part),
                len: 1,
            }],
        }
    }

    /// A multipart with these children. The grammar requires at least one child: a
    /// childless multipart (decoded leniently from broken servers) is encoded with one
    /// placeholder child `("TEXT" "PLAIN" NIL NIL NIL "7BIT" 0 0)` so the output stays valid.
    pub fn multi(part: MultiPart, children: impl IntoIterator<Item = BodyStructure>) -> Self {
        let mut nodes = vec![Node {
            part: BodyPart::Multi(part),
            len: 1,
        }];
        for c in children {
            nodes.extend(c.nodes);
        }
        nodes[0].len = nodes.len() as u32;
        BodyStructure { nodes }
    }

    /// A structure kept raw (see [`BodyPart::Invalid`]).
    pub fn invalid(raw: Bytes) -> Self {
        BodyStructure {
            nodes: vec![Node {
                part: BodyPart::Invalid(raw),
                len: 1,
            }],
        }
    }

    /// The whole structure as a borrowed tree.
    pub fn root(&self) -> BodyRef<'_> {
        BodyRef { nodes: &self.nodes }
    }

    /// The root part.
    pub fn part(&self) -> &BodyPart {
        self.root().part()
    }

    /// The root's children (empty unless it is a multipart).
    pub fn children(&self) -> Children<'_> {
        self.root().children()
    }

    /// Every part, in wire order (each multipart before its children).
    pub fn parts(&self) -> impl ExactSizeIterator<Item = &BodyPart> + '_ {
        self.nodes.iter().map(|n| &n.part)
    }
}

impl fmt::Debug for BodyStructure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root().fmt(f)
    }
}

/// A borrowed subtree of a [`BodyStructure`]: one part and its descendants.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BodyRef<'a> {
    /// Never empty; `nodes[0]` is this subtree's root.
    nodes: &'a [Node],
}

impl<'a> BodyRef<'a> {
    /// This part.
    pub fn part(self) -> &'a BodyPart {
        &self.nodes[0].part
    }

    /// The direct children of this part, in order (none unless it is a multipart).
    pub fn children(self) -> Children<'a> {
        Children {
            rest: &self.nodes[1..],
        }
    }

    /// The `i`th direct child.
    pub fn child(self, i: usize) -> Option<BodyRef<'a>> {
        self.children().nth(i)
    }

    /// A copy of this subtree as a structure of its own.
    pub fn to_structure(self) -> BodyStructure {
        BodyStructure {
            nodes: self.nodes.to_vec(),
        }
    }
}

impl fmt::Debug for BodyRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Kids<'a>(BodyRef<'a>);
        impl fmt::Debug for Kids<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.0.children()).finish()
            }
        }
        match self.part() {
            BodyPart::Single(s) => f.debug_tuple("Single").field(s).finish(),
            BodyPart::Multi(m) => f
                .debug_struct("Multi")
                .field("bodies", &Kids(*self))
                .field("subtype", &m.subtype)
                .field("extension", &m.extension)
                .finish(),
            BodyPart::Invalid(b) => f.debug_tuple("Invalid").field(b).finish(),
        }
    }
}

/// The direct children of a part: see [`BodyRef::children`].
#[derive(Debug, Clone)]
pub struct Children<'a> {
    rest: &'a [Node],
}

impl<'a> Iterator for Children<'a> {
    type Item = BodyRef<'a>;
    fn next(&mut self) -> Option<BodyRef<'a>> {
        let first = self.rest.first()?;
        let n = (first.len as usize).clamp(1, self.rest.len());
        let (a, b) = self.rest.split_at(n);
        self.rest = b;
        Some(BodyRef { nodes: a })
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for BodyStructure {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        // the variant odds of the former derived enum (single, multi, invalid)
        Ok(match (u64::from(u32::arbitrary(u)?) * 3) >> 32 {
            0 => BodyStructure::single(u.arbitrary()?),
            1 => {
                let m: MultiPart = u.arbitrary()?;
                BodyStructure::multi(m, bodies(u)?)
            }
            _ => BodyStructure::invalid(crate::arbitrary_util::bytes(u)?),
        })
    }
}

/// `body-type-1part`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinglePart {
    /// Media type, and the fields specific to it.
    pub kind: SinglePartKind,
    /// `body-fields`.
    pub fields: BodyFields,
    /// `body-ext-1part`: present in BODYSTRUCTURE, absent in BODY.
    pub extension: Option<SinglePartExtension>,
}

/// The type-specific part of a [`SinglePart`].
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SinglePartKind {
    /// `body-type-basic`: any type except `TEXT/*` and `MESSAGE/RFC822`.
    Basic(MediaType),
    /// `body-type-text`: `TEXT/subtype` with its line count.
    Text {
        /// The subtype, e.g. `PLAIN`.
        subtype: IString,
        /// `body-fld-lines`.
        lines: u64,
    },
    /// `body-type-msg`: `MESSAGE/RFC822` or `MESSAGE/GLOBAL` with the encapsulated message.
    Message {
        /// The subtype.
        subtype: MessageSubtype,
        /// The encapsulated message's envelope.
        envelope: Box<Envelope>,
        /// The encapsulated message's structure.
        #[cfg_attr(feature = "arbitrary", arbitrary(with = inner_body))]
        body: BodyStructure,
        /// `body-fld-lines`.
        lines: u64,
    },
}

/// Subtypes of `body-type-msg`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageSubtype {
    /// `RFC822`
    Rfc822,
    /// `GLOBAL` (RFC 6532; IMAP4rev2)
    Global,
}

/// A media type/subtype pair of a `body-type-basic` part.
///
/// Cannot be `TEXT/*` or `MESSAGE/RFC822` (those have their own forms, which carry more
/// fields); `MESSAGE/GLOBAL` is allowed as a basic part for IMAP4rev1 servers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaType {
    media_type: IString,
    subtype: IString,
}

impl MediaType {
    /// Validates the pair (case-insensitive checks).
    pub fn new(media_type: IString, subtype: IString) -> Result<Self, ValidationError> {
        if media_type.as_bytes().eq_ignore_ascii_case(b"TEXT") {
            // TEXT is body-type-text (SinglePartKind::Text)
            return Err(ValidationError::new(ValueKind::MediaType, Rule::KnownName));
        }
        if media_type.as_bytes().eq_ignore_ascii_case(b"MESSAGE")
            && subtype.as_bytes().eq_ignore_ascii_case(b"RFC822")
        {
            // MESSAGE/RFC822 is body-type-msg (SinglePartKind::Message)
            return Err(ValidationError::new(ValueKind::MediaType, Rule::KnownName));
        }
        Ok(MediaType {
            media_type,
            subtype,
        })
    }

    /// The top-level type, e.g. `IMAGE`.
    pub fn media_type(&self) -> &IString {
        &self.media_type
    }

    /// The subtype, e.g. `PNG`.
    pub fn subtype(&self) -> &IString {
        &self.subtype
    }
}

/// `body-fields`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BodyFields {
    /// `body-fld-param`, in the order sent; empty for `NIL`.
    pub params: BodyParams,
    /// `body-fld-id` (Content-ID).
    pub id: NString,
    /// `body-fld-desc` (Content-Description).
    pub description: NString,
    /// `body-fld-enc` (Content-Transfer-Encoding), e.g. `BASE64`.
    pub encoding: IString,
    /// `body-fld-octets`: size in its transfer encoding.
    pub octets: u32,
}

/// `body-ext-1part`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SinglePartExtension {
    /// `body-fld-md5`.
    pub md5: NString,
    /// The following fields, if sent.
    pub disposition: Option<DispositionExt>,
}

/// `body-ext-mpart`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MultiPartExtension {
    /// `body-fld-param` of the multipart (e.g. the boundary); empty for `NIL`.
    pub params: BodyParams,
    /// The following fields, if sent.
    pub disposition: Option<DispositionExt>,
}

/// `body-fld-dsp [SP body-fld-lang [...]]`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DispositionExt {
    /// `body-fld-dsp`; `None` for `NIL`.
    pub disposition: Option<Disposition>,
    /// The following fields, if sent.
    pub language: Option<LanguageExt>,
}

/// A Content-Disposition: `"(" string SP body-fld-param ")"`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Disposition {
    /// The disposition type, e.g. `attachment`.
    pub kind: IString,
    /// Its parameters (e.g. `filename`); empty for `NIL`.
    pub params: BodyParams,
}

/// `body-fld-lang [SP body-fld-loc [...]]`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LanguageExt {
    /// `body-fld-lang` (Content-Language tags); empty for `NIL`.
    pub language: Languages,
    /// The following fields, if sent.
    pub location: Option<LocationExt>,
}

/// `body-fld-loc *(SP body-extension)`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocationExt {
    /// `body-fld-loc` (Content-Location).
    pub location: NString,
    /// Future extension values.
    pub extensions: Vec<BodyExtension>,
}

/// `body-extension`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyExtension {
    /// A string or `NIL`.
    NString(NString),
    /// A number (`number64`).
    Number(u64),
    /// A parenthesised list. The grammar requires at least one element: an empty list is
    /// encoded as `NIL`.
    List(#[cfg_attr(feature = "arbitrary", arbitrary(with = body_exts))] Vec<BodyExtension>),
}

/// The fields of a `multipart` (`1*body SP media-subtype [SP body-ext-mpart]`) other than
/// its children, which are the part's children in the [`BodyStructure`].
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiPart {
    /// The subtype, e.g. `MIXED`.
    pub subtype: IString,
    /// `body-ext-mpart`: present in BODYSTRUCTURE, absent in BODY.
    pub extension: Option<MultiPartExtension>,
}

// ------------------------------------------------------------------------------------------
// parsing

/// Runs `f` one nesting level deeper; the level is left whatever the outcome.
#[inline]
pub(crate) fn nested<T>(
    p: &mut Parser<'_>,
    f: impl FnOnce(&mut Parser<'_>) -> PResult<T>,
) -> PResult<T> {
    let r = match p.enter() {
        Ok(()) => f(p),
        Err(e) => Err(e),
    };
    p.leave();
    r
}

/// Whether an optional trailing field follows: consumes its SP and returns `true`, or returns
/// `false` at `)` (lenient: after skipping stray spaces).
#[inline(always)]
fn more(p: &mut Parser<'_>) -> PResult<bool> {
    // the usual cases: one SP before the next field, or the closing `)`
    match p.rest() {
        [b' ', c, ..] if !matches!(c, b' ' | b')' | b'\r' | b'\n' | b']') => {
            p.pos += 1;
            return Ok(true);
        }
        [b')', ..] => return Ok(false),
        _ => {}
    }
    p.skip_trailing_sp();
    if p.peek() == Some(b')') {
        return Ok(false);
    }
    p.sp()?;
    Ok(true)
}

/// Skips one balanced parenthesised value, honouring quoted strings and literals, without
/// recursion; the nesting limit still applies. The cursor must be at `(`.
pub(crate) fn skip_balanced(p: &mut Parser<'_>) -> PResult<()> {
    let mut opened = 0u32;
    let r = (|| loop {
        match p.peek() {
            None | Some(b'\r') | Some(b'\n') => return Err(p.fail("\")\"")),
            Some(b'(') => {
                opened += 1;
                p.enter()?;
                p.pos += 1;
            }
            Some(b')') => {
                p.pos += 1;
                opened -= 1;
                p.leave();
                if opened == 0 {
                    return Ok(());
                }
            }
            Some(b'"') => {
                p.quoted()?;
            }
            Some(b'{') => {
                p.literal_any(false)?;
            }
            Some(b'~') if p.peek_at(1) == Some(b'{') => {
                p.literal_any(true)?;
            }
            Some(_) => p.pos += 1,
        }
    })();
    if r.is_err() {
        for _ in 0..opened {
            p.leave();
        }
    }
    r
}

fn eq_ci(s: &IString, lit: &[u8]) -> bool {
    s.as_bytes().eq_ignore_ascii_case(lit)
}

/// The MIME words servers send again and again in body structures (media types and subtypes,
/// parameter names and common values, transfer encodings, dispositions, languages), upper
/// and lower case of each. [`body_word`] finds them by [`body_word_hash`] in
/// [`BODY_WORD_TABLE`].
static BODY_WORDS: [(&[u8], &[u8]); 38] = [
    (b"TEXT", b"text"),
    (b"PLAIN", b"plain"),
    (b"HTML", b"html"),
    (b"CHARSET", b"charset"),
    (b"UTF-8", b"utf-8"),
    (b"US-ASCII", b"us-ascii"),
    (b"ISO-8859-1", b"iso-8859-1"),
    (b"FORMAT", b"format"),
    (b"FLOWED", b"flowed"),
    (b"DELSP", b"delsp"),
    (b"YES", b"yes"),
    (b"QUOTED-PRINTABLE", b"quoted-printable"),
    (b"BASE64", b"base64"),
    (b"7BIT", b"7bit"),
    (b"8BIT", b"8bit"),
    (b"BINARY", b"binary"),
    (b"INLINE", b"inline"),
    (b"ATTACHMENT", b"attachment"),
    (b"ALTERNATIVE", b"alternative"),
    (b"MIXED", b"mixed"),
    (b"RELATED", b"related"),
    (b"BOUNDARY", b"boundary"),
    (b"NAME", b"name"),
    (b"FILENAME", b"filename"),
    (b"SIZE", b"size"),
    (b"APPLICATION", b"application"),
    (b"OCTET-STREAM", b"octet-stream"),
    (b"PDF", b"pdf"),
    (b"IMAGE", b"image"),
    (b"PNG", b"png"),
    (b"JPEG", b"jpeg"),
    (b"GIF", b"gif"),
    (b"MESSAGE", b"message"),
    (b"RFC822", b"rfc822"),
    (b"CALENDAR", b"calendar"),
    (b"EN", b"en"),
    (b"DE", b"de"),
    (b"FR", b"fr"),
];

/// A hash of a 2..=16-byte string that ignores ASCII case and tells the [`BODY_WORDS`] apart.
#[inline(always)]
const fn body_word_hash(first: u8, last: u8, len: usize) -> usize {
    ((first | 0x20) as usize + (last | 0x20) as usize + len * 14) & 127
}

/// [`ends`] of a 2..=16-byte `s`, at compile time.
const fn ends_const(s: &[u8]) -> (u64, u64) {
    let n = s.len();
    let w = if n >= 8 {
        8
    } else if n >= 4 {
        4
    } else {
        2
    };
    let (mut a, mut b) = (0u64, 0u64);
    let mut i = 0;
    while i < w {
        a |= (s[i] as u64) << (8 * i);
        b |= (s[n - w + i] as u64) << (8 * i);
        i += 1;
    }
    (a, b)
}

/// A [`BODY_WORDS`] entry as [`body_word`] compares it: the length and [`ends`] of the upper
/// and the lower case spelling.
struct BodyWord {
    len: usize,
    up: (u64, u64),
    low: (u64, u64),
    words: (&'static [u8], &'static [u8]),
}

/// The [`BODY_WORDS`] by [`body_word_hash`] (an empty entry: length 0); two words with the
/// same hash fail the build.
static BODY_WORD_TABLE: [BodyWord; 128] = {
    const NONE: BodyWord = BodyWord {
        len: 0,
        up: (0, 0),
        low: (0, 0),
        words: (b"", b""),
    };
    let mut t = [NONE; 128];
    let mut i = 0;
    while i < BODY_WORDS.len() {
        let (up, low) = BODY_WORDS[i];
        assert!(up.len() == low.len() && up.len() >= 2 && up.len() <= 16);
        let h = body_word_hash(up[0], up[up.len() - 1], up.len());
        assert!(t[h].len == 0, "two body words with the same hash");
        t[h] = BodyWord {
            len: up.len(),
            up: ends_const(up),
            low: ends_const(low),
            words: (up, low),
        };
        i += 1;
    }
    t
};

/// The first and the last up to eight bytes of a 2..=16-byte `s` (overlapping when shorter),
/// little-endian: two strings of the same such length are equal when these are.
#[inline(always)]
fn ends(s: &[u8]) -> (u64, u64) {
    let n = s.len();
    if n >= 8 {
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(&s[..8]);
        b.copy_from_slice(&s[n - 8..]);
        (u64::from_le_bytes(a), u64::from_le_bytes(b))
    } else if n >= 4 {
        let mut a = [0u8; 4];
        let mut b = [0u8; 4];
        a.copy_from_slice(&s[..4]);
        b.copy_from_slice(&s[n - 4..]);
        (u32::from_le_bytes(a).into(), u32::from_le_bytes(b).into())
    } else {
        let mut a = [0u8; 2];
        let mut b = [0u8; 2];
        a.copy_from_slice(&s[..2]);
        b.copy_from_slice(&s[n - 2..]);
        (u16::from_le_bytes(a).into(), u16::from_le_bytes(b).into())
    }
}

/// `s` itself as a `'static` slice when it is one of the [`BODY_WORDS`] in upper or in lower
/// case, byte for byte (not in mixed case). Such strings are then held without a reference to
/// the message (see [`Parser::quoted_known`]); the value is the same either way.
#[inline]
pub(crate) fn body_word(s: &[u8]) -> Option<&'static [u8]> {
    let n = s.len();
    if !(2..=16).contains(&n) {
        return None;
    }
    let w = &BODY_WORD_TABLE[body_word_hash(s[0], s[n - 1], n)];
    if w.len != n {
        return None;
    }
    let k = ends(s);
    if k == w.up {
        Some(w.words.0)
    } else if k == w.low {
        Some(w.words.1)
    } else {
        None
    }
}

/// `string`; lenient: `NIL` becomes `default` (with a warning).
fn string_or_nil(p: &mut Parser<'_>, default: &'static [u8]) -> PResult<IString> {
    match p.peek() {
        Some(b'"') => p.quoted_known(body_word).map(IString::unchecked),
        Some(b'{') => IString::parse_string(p),
        _ => {
            let at = p.pos;
            if p.allows(Quirk::NilOrEmpty) && p.nil() {
                p.warn(Quirk::NilOrEmpty, at);
                return Ok(IString::unchecked(Bytes::from_static(default)));
            }
            Err(p.fail("string"))
        }
    }
}

/// `body-fld-param`, into `out` (which must be empty). Lenient: `()`, NIL values.
fn parse_params(p: &mut Parser<'_>, out: &mut BodyParams) -> PResult<()> {
    if p.nil_or_empty_string() {
        return Ok(());
    }
    let open = p.pos;
    p.expect(b'(', "body-fld-param")?;
    p.skip_trailing_sp();
    if p.peek() == Some(b')') {
        if !p.tolerate(Quirk::NilOrEmpty, open) {
            return Err(p.fail("string"));
        }
        p.pos += 1;
        return Ok(());
    }
    loop {
        let k = string_or_nil(p, b"")?;
        p.sp()?;
        let val = string_or_nil(p, b"")?;
        out.push((k, val));
        p.check_items(out.len())?;
        if !more(p)? {
            p.pos += 1;
            return Ok(());
        }
    }
}

fn encode_params(v: &[BodyParam], buf: &mut EncodeBuf) {
    if v.is_empty() {
        buf.raw(b"NIL");
        return;
    }
    buf.byte(b'(');
    for (i, (k, val)) in v.iter().enumerate() {
        if i > 0 {
            buf.sp_string(k.as_bytes());
        } else {
            k.encode_string(buf);
        }
        buf.sp_string(val.as_bytes());
    }
    buf.byte(b')');
}

impl BodyFields {
    /// Parses `body-fields` into `self` (in place: the value is large).
    fn parse_into(&mut self, p: &mut Parser<'_>) -> PResult<()> {
        self.params.clear();
        parse_params(p, &mut self.params)?;
        p.sp()?;
        self.id = IString::parse_nstring(p)?;
        p.sp()?;
        self.description = IString::parse_nstring(p)?;
        p.sp()?;
        self.encoding = string_or_nil(p, b"7BIT")?;
        p.sp()?;
        self.octets = p.number()?;
        Ok(())
    }
}

impl Encode for BodyFields {
    fn encode(&self, buf: &mut EncodeBuf) {
        encode_params(&self.params, buf);
        buf.sp_nstring(self.id.as_ref().map(IString::as_bytes));
        buf.sp_nstring(self.description.as_ref().map(IString::as_bytes));
        buf.sp_string(self.encoding.as_bytes());
        buf.sp();
        buf.num(self.octets);
    }
}

/// `body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]`, into a fresh
/// `out`.
fn parse_dsp_ext(p: &mut Parser<'_>, out: &mut DispositionExt) -> PResult<()> {
    if !p.nil_or_empty_string() {
        p.expect(b'(', "body-fld-dsp")?;
        let d = out.disposition.insert(Disposition {
            kind: string_or_nil(p, b"")?,
            params: BodyParams::new(),
        });
        p.sp()?;
        parse_params(p, &mut d.params)?;
        p.skip_trailing_sp();
        p.expect(b')', ")")?;
    }
    if more(p)? {
        parse_lang_ext(p, out.language.insert(LanguageExt::default()))?;
    }
    Ok(())
}

/// One language tag (`string`), the usual ones held as [`body_word`]s.
#[inline]
fn language(p: &mut Parser<'_>) -> PResult<IString> {
    if p.peek() == Some(b'"') {
        p.quoted_known(body_word).map(IString::unchecked)
    } else {
        IString::parse_string(p)
    }
}

/// `body-fld-lang [SP body-fld-loc *(SP body-extension)]`, into a fresh `out`.
fn parse_lang_ext(p: &mut Parser<'_>, out: &mut LanguageExt) -> PResult<()> {
    let v = &mut out.language;
    if p.peek() == Some(b'(') {
        let open = p.pos;
        p.pos += 1;
        p.skip_trailing_sp();
        if p.peek() == Some(b')') {
            if !p.tolerate(Quirk::NilOrEmpty, open) {
                return Err(p.fail("string"));
            }
        } else {
            loop {
                v.push(language(p)?);
                p.check_items(v.len())?;
                if !more(p)? {
                    break;
                }
            }
        }
        p.pos += 1;
    } else if p.peek() == Some(b'"') {
        v.push(language(p)?);
    } else if let Some(s) = IString::parse_nstring(p)? {
        v.push(s);
    }
    if more(p)? {
        let location = IString::parse_nstring(p)?;
        let mut extensions = Vec::new();
        while more(p)? {
            extensions.push(BodyExtension::parse(p)?);
            p.check_items(extensions.len())?;
        }
        out.location = Some(LocationExt {
            location,
            extensions,
        });
    }
    Ok(())
}

impl BodyExtension {
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        match p.peek() {
            Some(b'(') => nested(p, |p| {
                p.pos += 1;
                let mut v = Vec::new();
                p.skip_trailing_sp();
                if p.peek() == Some(b')') {
                    let at = p.pos;
                    if !p.tolerate(Quirk::NilOrEmpty, at) {
                        return Err(p.fail("body-extension"));
                    }
                } else {
                    loop {
                        v.push(BodyExtension::parse(p)?);
                        p.check_items(v.len())?;
                        if !more(p)? {
                            break;
                        }
                    }
                }
                p.pos += 1;
                Ok(BodyExtension::List(v))
            }),
            Some(b'0'..=b'9') | Some(b'-') => p.number64().map(BodyExtension::Number),
            _ => IString::parse_nstring(p).map(BodyExtension::NString),
        }
    }
}

impl Encode for BodyExtension {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            BodyExtension::NString(s) => IString::encode_nstring(s, buf),
            BodyExtension::Number(n) => buf.num(*n),
            BodyExtension::List(v) if v.is_empty() => buf.raw(b"NIL"),
            BodyExtension::List(v) => buf.list(v, |b, e| e.encode(b)),
        }
    }
}

impl Encode for DispositionExt {
    fn encode(&self, buf: &mut EncodeBuf) {
        match &self.disposition {
            None => buf.raw(b"NIL"),
            Some(d) => {
                buf.byte(b'(');
                d.kind.encode_string(buf);
                buf.sp();
                encode_params(&d.params, buf);
                buf.byte(b')');
            }
        }
        if let Some(l) = &self.language {
            buf.sp();
            match l.language.as_slice() {
                [] => buf.raw(b"NIL"),
                [one] => one.encode_string(buf),
                many => buf.list(many, |b, s| s.encode_string(b)),
            }
            if let Some(loc) = &l.location {
                buf.sp_nstring(loc.location.as_ref().map(IString::as_bytes));
                for e in &loc.extensions {
                    buf.sp();
                    e.encode(buf);
                }
            }
        }
    }
}

impl BodyStructure {
    /// Parses `body`. In the lenient profile a structure that does not parse is skipped as a
    /// balanced value and returned as [`BodyPart::Invalid`].
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        // a multipart: room for a typical message's parts up front
        let multi = p.peek() == Some(b'(') && p.peek_at(1) == Some(b'(');
        let mut nodes = Vec::with_capacity(if multi { 8 } else { 1 });
        parse_into(p, &mut nodes)?;
        Ok(BodyStructure { nodes })
    }
}

/// An empty single part in `part` (whatever it held), to be filled in place.
fn reset_single(part: &mut BodyPart) -> &mut SinglePart {
    *part = BodyPart::Single(SinglePart {
        kind: SinglePartKind::Text {
            subtype: IString::default(),
            lines: 0,
        },
        fields: BodyFields::default(),
        extension: None,
    });
    match part {
        BodyPart::Single(s) => s,
        _ => unreachable!("just set"),
    }
}

/// A multipart with `subtype` in `part` (whatever it held), to be filled in place.
fn set_multi(part: &mut BodyPart, subtype: IString) -> &mut MultiPart {
    *part = BodyPart::Multi(MultiPart {
        subtype,
        extension: None,
    });
    match part {
        BodyPart::Multi(m) => m,
        _ => unreachable!("just set"),
    }
}

/// [`BodyStructure::parse`], appending the parsed subtree to `nodes`: every part is built in
/// place in the one list rather than returned and moved.
fn parse_into(p: &mut Parser<'_>, nodes: &mut Vec<Node>) -> PResult<()> {
    let start = p.pos;
    let wlen = p.warnings.len();
    let idx = nodes.len();
    if p.peek() != Some(b'(') && p.allows(Quirk::MalformedBodyStructure) && p.nil() {
        p.warn(Quirk::MalformedBodyStructure, start);
        nodes.push(Node {
            part: BodyPart::Invalid(p.slice(start, p.pos)),
            len: 1,
        });
        return Ok(());
    }
    nodes.push(Node {
        part: BodyPart::Invalid(Bytes::new()),
        len: 1,
    });
    match nested(p, |p| body_inner(p, nodes, idx)) {
        Ok(()) => {
            nodes[idx].len = (nodes.len() - idx) as u32;
            Ok(())
        }
        Err(Fail)
            if p.bytes().get(start) == Some(&b'(') && p.allows(Quirk::MalformedBodyStructure) =>
        {
            // the warning is where the part's grammar failed; the part is kept raw
            let at = p.furthest_failure().max(start);
            p.pos = start;
            p.warnings.truncate(wlen);
            nodes.truncate(idx + 1);
            skip_balanced(p)?;
            p.warn(Quirk::MalformedBodyStructure, at.min(p.pos));
            nodes[idx] = Node {
                part: BodyPart::Invalid(p.slice(start, p.pos)),
                len: 1,
            };
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The part at `nodes[idx]` (a placeholder), its children appended after it.
fn body_inner(p: &mut Parser<'_>, nodes: &mut Vec<Node>, idx: usize) -> PResult<()> {
    p.expect(b'(', "( body")?;
    if p.peek() == Some(b'(') {
        return multipart(p, nodes, idx);
    }
    let part = &mut nodes[idx].part;
    if !p.allows(Quirk::MalformedBodyStructure) {
        return onepart(p, reset_single(part));
    }
    if p.opt(|p| onepart(p, reset_single(part))).is_some() {
        return Ok(());
    }
    // A multipart without children: `(NIL "subtype" ...)` or `("subtype" ...)`. The
    // warning is where the one-part reading failed.
    let at = p.furthest_failure().max(p.pos);
    let m = p.opt(|p| {
        if p.nil() {
            p.sp()?;
        }
        let subtype = IString::parse_string(p)?;
        multipart_tail(p, set_multi(part, subtype))
    });
    match m {
        Some(()) => {
            p.warn(Quirk::MalformedBodyStructure, at);
            Ok(())
        }
        None => Err(p.fail("body")),
    }
}

/// After the opening `(`: `1*body SP media-subtype [SP body-ext-mpart] ")"`.
fn multipart(p: &mut Parser<'_>, nodes: &mut Vec<Node>, idx: usize) -> PResult<()> {
    let mut n = 0;
    loop {
        parse_into(p, nodes)?;
        n += 1;
        p.check_items(n)?;
        match p.peek() {
            Some(b'(') => continue,
            Some(b' ') if p.peek_at(1) == Some(b'(') || p.peek_at(1) == Some(b' ') => {
                // lenient: SP between the child parts
                let at = p.pos;
                let mut q = p.pos;
                while p.bytes().get(q) == Some(&b' ') {
                    q += 1;
                }
                if p.bytes().get(q) == Some(&b'(') {
                    if !p.tolerate(Quirk::ExtraSpaces, at) {
                        return Err(p.fail("body or SP media-subtype"));
                    }
                    p.pos = q;
                    continue;
                }
                break;
            }
            _ => break,
        }
    }
    p.sp()?;
    let subtype = string_or_nil(p, b"MIXED")?;
    multipart_tail(p, set_multi(&mut nodes[idx].part, subtype))
}

/// `[SP body-ext-mpart] ")"`.
fn multipart_tail(p: &mut Parser<'_>, m: &mut MultiPart) -> PResult<()> {
    if more(p)? {
        let ext = m.extension.insert(MultiPartExtension::default());
        parse_params(p, &mut ext.params)?;
        if more(p)? {
            parse_dsp_ext(p, ext.disposition.insert(DispositionExt::default()))?;
        }
    }
    p.expect(b')', ")")
}

/// After the opening `(`: `body-type-1part ")"`, into a fresh `sp`.
fn onepart(p: &mut Parser<'_>, sp: &mut SinglePart) -> PResult<()> {
    // `"TEXT" `, the usual media type, is not kept: no need to slice it out (the SP after it
    // makes it the whole string in either profile)
    let text = p
        .rest()
        .get(..7)
        .is_some_and(|r| r.eq_ignore_ascii_case(b"\"TEXT\" "));
    let media_type = if text {
        p.pos += 6;
        IString::default()
    } else {
        string_or_nil(p, b"APPLICATION")?
    };
    p.sp()?;
    let subtype = string_or_nil(p, b"OCTET-STREAM")?;
    p.sp()?;
    sp.fields.parse_into(p)?;
    sp.kind = if text || eq_ci(&media_type, b"TEXT") {
        SinglePartKind::Text {
            subtype,
            lines: lines(p)?,
        }
    } else if eq_ci(&media_type, b"MESSAGE")
        && (eq_ci(&subtype, b"RFC822") || eq_ci(&subtype, b"GLOBAL"))
    {
        let msg = p.opt(|p| {
            p.sp()?;
            let envelope = Envelope::parse(p)?;
            p.sp()?;
            let body = BodyStructure::parse(p)?;
            let lines = lines(p)?;
            Ok((envelope, body, lines))
        });
        match msg {
            Some((envelope, body, lines)) => SinglePartKind::Message {
                subtype: if eq_ci(&subtype, b"RFC822") {
                    MessageSubtype::Rfc822
                } else {
                    MessageSubtype::Global
                },
                envelope: Box::new(envelope),
                body,
                lines,
            },
            None if eq_ci(&subtype, b"GLOBAL") => SinglePartKind::Basic(MediaType {
                media_type,
                subtype,
            }),
            None => return Err(p.fail("SP envelope")),
        }
    } else {
        SinglePartKind::Basic(MediaType {
            media_type,
            subtype,
        })
    };
    if more(p)? {
        let ext = sp.extension.insert(SinglePartExtension {
            md5: IString::parse_nstring(p)?,
            disposition: None,
        });
        if more(p)? {
            parse_dsp_ext(p, ext.disposition.insert(DispositionExt::default()))?;
        }
    }
    p.expect(b')', ")")
}

/// `SP body-fld-lines`; lenient: missing (→ 0).
fn lines(p: &mut Parser<'_>) -> PResult<u64> {
    let at = p.pos;
    if p.peek() == Some(b')') && p.tolerate(Quirk::MalformedBodyStructure, at) {
        return Ok(0);
    }
    p.sp()?;
    p.number64()
}

// ------------------------------------------------------------------------------------------
// encoding

const PLACEHOLDER: &[u8] = b"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0)";

impl Encode for BodyStructure {
    fn encode(&self, buf: &mut EncodeBuf) {
        self.root().encode(buf);
    }
}

impl Encode for BodyRef<'_> {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self.part() {
            BodyPart::Single(s) => s.encode(buf),
            BodyPart::Multi(m) => encode_multi(m, self.children(), buf),
            BodyPart::Invalid(_) => buf.raw(PLACEHOLDER),
        }
    }
}

impl Encode for SinglePart {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.byte(b'(');
        match &self.kind {
            SinglePartKind::Basic(m) => {
                m.media_type.encode_string(buf);
                buf.sp_string(m.subtype.as_bytes());
                buf.sp();
                self.fields.encode(buf);
            }
            SinglePartKind::Text { subtype, lines } => {
                buf.raw(b"\"TEXT\"");
                buf.sp_string(subtype.as_bytes());
                buf.sp();
                self.fields.encode(buf);
                buf.sp();
                buf.num(*lines);
            }
            SinglePartKind::Message {
                subtype,
                envelope,
                body,
                lines,
            } => {
                buf.raw(match subtype {
                    MessageSubtype::Rfc822 => b"\"MESSAGE\" \"RFC822\" ",
                    MessageSubtype::Global => b"\"MESSAGE\" \"GLOBAL\" ",
                });
                self.fields.encode(buf);
                buf.sp();
                envelope.encode(buf);
                buf.sp();
                body.encode(buf);
                buf.sp();
                buf.num(*lines);
            }
        }
        if let Some(ext) = &self.extension {
            buf.sp_nstring(ext.md5.as_ref().map(IString::as_bytes));
            if let Some(d) = &ext.disposition {
                buf.sp();
                d.encode(buf);
            }
        }
        buf.byte(b')');
    }
}

fn encode_multi(m: &MultiPart, mut bodies: Children<'_>, buf: &mut EncodeBuf) {
    buf.byte(b'(');
    match bodies.next() {
        None => buf.raw(PLACEHOLDER),
        Some(first) => first.encode(buf),
    }
    for b in bodies {
        b.encode(buf);
    }
    buf.sp_string(m.subtype.as_bytes());
    if let Some(ext) = &m.extension {
        buf.sp();
        encode_params(&ext.params, buf);
        if let Some(d) = &ext.disposition {
            buf.sp();
            d.encode(buf);
        }
    }
    buf.byte(b')');
}

/// The encapsulated message's structure of a `MESSAGE/RFC822` part.
#[cfg(feature = "arbitrary")]
pub(crate) fn inner_body(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<BodyStructure> {
    crate::arbitrary_util::nested(
        u,
        || BodyStructure::invalid(Bytes::new()),
        <BodyStructure as arbitrary::Arbitrary>::arbitrary,
    )
}

/// Children of a multipart.
#[cfg(feature = "arbitrary")]
pub(crate) fn bodies(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Vec<BodyStructure>> {
    crate::arbitrary_util::nested(u, Vec::new, |u| u.arbitrary())
}

/// Nested body extensions.
#[cfg(feature = "arbitrary")]
pub(crate) fn body_exts(
    u: &mut arbitrary::Unstructured<'_>,
) -> arbitrary::Result<Vec<BodyExtension>> {
    crate::arbitrary_util::nested(u, Vec::new, |u| u.arbitrary())
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies.
    use super::*;
    use crate::core::strategies::istring;
    use crate::envelope::strategies::envelope;
    use proptest::prelude::*;

    fn nstring() -> impl Strategy<Value = NString> {
        proptest::option::of(istring())
    }

    fn params() -> impl Strategy<Value = BodyParams> {
        proptest::collection::vec((istring(), istring()), 0..4).prop_map(BodyParams::from)
    }

    fn extension() -> BoxedStrategy<BodyExtension> {
        let leaf = prop_oneof![
            nstring().prop_map(BodyExtension::NString),
            (0u64..=i64::MAX as u64).prop_map(BodyExtension::Number),
        ];
        leaf.prop_recursive(3, 12, 3, |inner| {
            proptest::collection::vec(inner, 1..3).prop_map(BodyExtension::List)
        })
        .boxed()
    }

    fn dsp_ext() -> BoxedStrategy<DispositionExt> {
        let loc = (nstring(), proptest::collection::vec(extension(), 0..3)).prop_map(
            |(location, extensions)| LocationExt {
                location,
                extensions,
            },
        );
        let lang = (
            proptest::collection::vec(istring(), 0..4).prop_map(Languages::from),
            proptest::option::of(loc),
        )
            .prop_map(|(language, location)| LanguageExt { language, location });
        (
            proptest::option::of(
                (istring(), params()).prop_map(|(kind, params)| Disposition { kind, params }),
            ),
            proptest::option::of(lang),
        )
            .prop_map(|(disposition, language)| DispositionExt {
                disposition,
                language,
            })
            .boxed()
    }

    fn fields() -> BoxedStrategy<BodyFields> {
        (params(), nstring(), nstring(), istring(), any::<u32>())
            .prop_map(|(params, id, description, encoding, octets)| BodyFields {
                params,
                id,
                description,
                encoding,
                octets,
            })
            .boxed()
    }

    fn single_ext() -> BoxedStrategy<Option<SinglePartExtension>> {
        proptest::option::of(
            (nstring(), proptest::option::of(dsp_ext()))
                .prop_map(|(md5, disposition)| SinglePartExtension { md5, disposition }),
        )
        .boxed()
    }

    fn media_type() -> impl Strategy<Value = MediaType> {
        prop_oneof![
            (istring(), istring()),
            Just((
                IString::try_from("MESSAGE").unwrap(),
                IString::try_from("GLOBAL").unwrap()
            )),
        ]
        .prop_filter_map("not text or message/rfc822", |(t, s)| {
            MediaType::new(t, s).ok()
        })
    }

    /// Body structures (with and without extension data), nested.
    pub(crate) fn body_structure() -> BoxedStrategy<BodyStructure> {
        let leaf = prop_oneof![
            (media_type(), fields(), single_ext())
                .prop_map(|(m, fields, extension)| {
                    BodyStructure::single(SinglePart {
                        kind: SinglePartKind::Basic(m),
                        fields,
                        extension,
                    })
                })
                .boxed(),
            (istring(), 0u64..=i64::MAX as u64, fields(), single_ext())
                .prop_map(|(subtype, lines, fields, extension)| {
                    BodyStructure::single(SinglePart {
                        kind: SinglePartKind::Text { subtype, lines },
                        fields,
                        extension,
                    })
                })
                .boxed(),
        ];
        leaf.prop_recursive(3, 10, 3, |inner| {
            let mext = proptest::option::of((params(), proptest::option::of(dsp_ext())).prop_map(
                |(params, disposition)| MultiPartExtension {
                    params,
                    disposition,
                },
            ));
            prop_oneof![
                (
                    proptest::collection::vec(inner.clone(), 1..3),
                    istring(),
                    mext
                )
                    .prop_map(|(bodies, subtype, extension)| BodyStructure::multi(
                        MultiPart { subtype, extension },
                        bodies
                    ))
                    .boxed(),
                (
                    prop_oneof![Just(MessageSubtype::Rfc822), Just(MessageSubtype::Global)],
                    fields(),
                    envelope().boxed(),
                    inner,
                    any::<u32>(),
                    single_ext()
                )
                    .prop_map(|(subtype, fields, env, body, lines, extension)| {
                        BodyStructure::single(SinglePart {
                            kind: SinglePartKind::Message {
                                subtype,
                                envelope: Box::new(env),
                                body,
                                lines: lines as u64,
                            },
                            fields,
                            extension,
                        })
                    })
                    .boxed(),
            ]
        })
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::DecodeOptions;
    use proptest::prelude::*;

    fn parse(
        s: &[u8],
        o: &DecodeOptions,
    ) -> Result<(BodyStructure, Vec<Quirk>), crate::DecodeError> {
        let b = Bytes::copy_from_slice(s);
        let mut p = Parser::new(&b, o);
        match BodyStructure::parse(&mut p) {
            Ok(e) if p.at_end() => Ok((e, p.warnings.iter().map(|w| w.quirk).collect())),
            _ => Err(p.error()),
        }
    }

    fn strict_ok(s: &[u8]) -> BodyStructure {
        let (b, w) = parse(s, &DecodeOptions::strict()).unwrap();
        assert!(w.is_empty());
        b
    }

    /// Lenient decodes with at least one warning, strict fails, and re-encoding is strict-valid.
    fn lenient_only(s: &[u8]) -> (BodyStructure, Vec<Quirk>) {
        assert!(
            parse(s, &DecodeOptions::strict()).is_err(),
            "strict accepted"
        );
        let (b, w) = parse(s, &DecodeOptions::lenient()).unwrap();
        assert!(!w.is_empty());
        let again = b.to_vec_inline_literals();
        parse(&again, &DecodeOptions::strict()).unwrap();
        (b, w)
    }

    /// Known MIME words, some in mixed case or one byte off, and a few other strings.
    fn word_like() -> impl Strategy<Value = Vec<u8>> {
        const WORDS: &[&str] = &[
            "TEXT",
            "text",
            "Text",
            "PLAIN",
            "plain",
            "HTML",
            "CHARSET",
            "charset",
            "UTF-8",
            "utf-8",
            "Utf-8",
            "ISO-8859-1",
            "FORMAT",
            "FLOWED",
            "QUOTED-PRINTABLE",
            "quoted-printable",
            "BASE64",
            "base64",
            "7BIT",
            "INLINE",
            "ATTACHMENT",
            "attachment",
            "ALTERNATIVE",
            "MIXED",
            "mixed",
            "BOUNDARY",
            "NAME",
            "FILENAME",
            "SIZE",
            "size",
            "APPLICATION",
            "OCTET-STREAM",
            "PDF",
            "IMAGE",
            "PNG",
            "MESSAGE",
            "RFC822",
            "EN",
            "en",
            "de",
            "fr",
            "e",
            "",
            "plainx",
            "xplain",
            "PLAIN ",
            "utf-16",
        ];
        prop_oneof![
            proptest::sample::select(WORDS).prop_map(|w| w.as_bytes().to_vec()),
            (
                proptest::sample::select(WORDS),
                any::<prop::sample::Index>(),
                0x20u8..0x7f
            )
                .prop_map(|(w, i, c)| {
                    let mut v = w.as_bytes().to_vec();
                    if !v.is_empty() {
                        let at = i.index(v.len());
                        v[at] = c;
                    }
                    v
                }),
            proptest::collection::vec(0x20u8..0x7f, 0..20),
        ]
    }

    /// Every body word is found in both spellings, and the compile-time [`ends_const`] the
    /// table holds is what [`ends`] computes at run time.
    #[test]
    fn body_word_table_is_complete() {
        for (up, low) in BODY_WORDS {
            assert_eq!(ends_const(up), ends(up));
            assert_eq!(ends_const(low), ends(low));
            assert_eq!(body_word(up), Some(up));
            assert_eq!(body_word(low), Some(low));
            assert_eq!(up.to_ascii_lowercase(), low);
        }
    }

    proptest! {
        /// The known-word path of body strings ([`body_word`], [`Parser::quoted_known`]) gives
        /// what the general quoted-string path gives, and is taken exactly for the known words
        /// (the value then lies outside the message).
        #[test]
        fn body_words_match_general_path(w in word_like()) {
            let mut wire = vec![b'"'];
            for &c in &w {
                if c == b'"' || c == b'\\' {
                    wire.push(b'\\');
                }
                wire.push(c);
            }
            wire.extend_from_slice(b"\" x");
            let msg = Bytes::from(wire);
            for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
                let mut general = Parser::new(&msg, &o);
                let want = general.string().unwrap();
                let mut fast = Parser::new(&msg, &o);
                let got = string_or_nil(&mut fast, b"").unwrap();
                prop_assert_eq!(got.as_bytes(), &want[..]);
                prop_assert_eq!(fast.pos, general.pos);
                let mut lang = Parser::new(&msg, &o);
                let l = language(&mut lang).unwrap();
                prop_assert_eq!(l.as_bytes(), &want[..]);
                prop_assert_eq!(lang.pos, general.pos);
                let range = msg.as_ptr() as usize..msg.as_ptr() as usize + msg.len();
                let inside = range.contains(&(got.as_bytes().as_ptr() as usize));
                let known = body_word(&w).is_some();
                prop_assert_eq!(known, body_word(&want).is_some());
                // a non-empty value without escapes is a slice of the message unless known
                // (the profile that reads unescaped quotes inside takes the general path)
                let plain = !w.is_empty() && !w.contains(&b'"') && !w.contains(&b'\\');
                if plain && !o.allows(Quirk::UnescapedQuotes) {
                    prop_assert_eq!(inside, !known, "{:?}", String::from_utf8_lossy(&w));
                }
            }
        }
    }

    #[test]
    fn rfc3501_example() {
        let s = br#"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) "MIXED")"#;
        let b = strict_ok(s);
        let BodyPart::Multi(m) = b.part() else {
            panic!()
        };
        assert_eq!(b.children().count(), 2);
        assert_eq!(m.subtype.as_bytes(), b"MIXED");
        assert!(m.extension.is_none());
        let BodyPart::Single(SinglePart {
            kind: SinglePartKind::Text { lines, .. },
            fields,
            ..
        }) = b.root().child(1).unwrap().part()
        else {
            panic!()
        };
        assert_eq!(*lines, 73);
        assert_eq!(fields.octets, 4554);
        assert_eq!(fields.params[1].1.as_bytes(), b"cc.diff");
        assert_eq!(b.to_vec_inline_literals(), s.to_vec());
    }

    #[test]
    fn message_rfc822_with_extensions() {
        let s = br#"("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 342 (NIL "hi" NIL NIL NIL NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" NIL NIL NIL "8BIT" 5 1 NIL NIL NIL NIL) 12 NIL ("inline" ("filename" "a.eml")) ("en" "de") "http://x" 5 ("x" (1 NIL)))"#;
        let b = strict_ok(s);
        assert_eq!(b.to_vec_inline_literals(), s.to_vec());
        let BodyPart::Single(SinglePart {
            kind: SinglePartKind::Message { body, lines, .. },
            extension: Some(ext),
            ..
        }) = b.part()
        else {
            panic!()
        };
        assert_eq!(*lines, 12);
        assert!(matches!(body.part(), BodyPart::Single(_)));
        let lang = ext.disposition.as_ref().unwrap().language.as_ref().unwrap();
        assert_eq!(lang.language.len(), 2);
        assert_eq!(lang.location.as_ref().unwrap().extensions.len(), 2);
    }

    #[test]
    fn quirk_nil_encoding_icloud() {
        let s = br#"((("text" "plain" ("CHARSET" "UTF-8") NIL NIL NIL 1423 44 NIL NIL NIL NIL)("text" "html" ("CHARSET" "UTF-8") NIL NIL "quoted-printable" 2524 34 NIL NIL NIL NIL) "alternative" ("BOUNDARY" "000000000000ccac3a05a5ef76c3") NIL NIL NIL)("text" "plain" ("CHARSET" "us-ascii") NIL NIL "7bit" 151 4 NIL NIL NIL NIL) "mixed" ("BOUNDARY" "===============5781602957316160403==") NIL NIL NIL)"#;
        let (b, w) = lenient_only(s);
        assert_eq!(w, vec![Quirk::NilOrEmpty]);
        assert!(matches!(b.part(), BodyPart::Multi(_)));
        let alt = b.root().child(0).unwrap();
        assert!(matches!(alt.part(), BodyPart::Multi(_)));
        let BodyPart::Single(t) = alt.child(0).unwrap().part() else {
            panic!()
        };
        assert_eq!(t.fields.encoding.as_bytes(), b"7BIT");
    }

    #[test]
    fn quirk_empty_params_and_nil_boundary_mailru() {
        let s = br#"(("text" "html" ("charset" "cp1251") NIL NIL "base64" 84056 0 NIL ("inline" NIL) NIL NIL)("image" "gif" () "25b2b55b5d97f04e9ea939fe32a46a65.gif" NIL "base64" 20776 NIL ("inline" NIL) NIL NIL) "related" ("boundary" NIL))"#;
        let (b, w) = lenient_only(s);
        assert_eq!(w.len(), 2);
        let BodyPart::Multi(m) = b.part() else {
            panic!()
        };
        let ext = m.extension.as_ref().unwrap();
        assert_eq!(ext.params[0].1.as_bytes(), b"");
        assert!(matches!(
            b.root().child(1).unwrap().part(),
            BodyPart::Single(SinglePart {
                kind: SinglePartKind::Basic(_),
                ..
            })
        ));
    }

    #[test]
    fn quirk_double_sp() {
        let s = br#"((("text" "plain"  ("charset" "UTF-8") NIL NIL "7bit" 409 7 NIL NIL NIL)("text" "html"  ("charset" "UTF-8") NIL NIL "7bit" 592 10 NIL NIL NIL) "alternative" ("boundary" "--==_mimepart_5277b641dcc3_57d5887e8325d8" "charset" "UTF-8") NIL NIL) "mixed" ("boundary" "--==_mimepart_5277b64110f79_57d5887e832634" "charset" "UTF-8") NIL NIL)"#;
        let (_, w) = lenient_only(s);
        assert_eq!(w, vec![Quirk::ExtraSpaces, Quirk::ExtraSpaces]);
    }

    #[test]
    fn quirk_latin1_literal_is_valid() {
        let s = b"(\"image\" \"png\" (\"name\" {8}\r\nG\xf6r\xfcnt\xfc1) \"<part1@example.com>\" NIL \"base64\" 15440 NIL NIL NIL NIL)";
        let b = strict_ok(s);
        let BodyPart::Single(sp) = b.part() else {
            panic!()
        };
        assert_eq!(sp.fields.params[0].1.as_bytes(), b"G\xf6r\xfcnt\xfc1");
    }

    #[test]
    fn quirk_mpart_nil_children() {
        let s = br#"(NIL "alternative" ("boundary" "Apple-Mail=_352FCEEC-EB15-428F-9D8B-D3B4259DD646") NIL NIL NIL)"#;
        let (b, _) = lenient_only(s);
        let BodyPart::Multi(m) = b.part() else {
            panic!()
        };
        assert!(b.children().next().is_none());
        assert_eq!(m.subtype.as_bytes(), b"alternative");
    }

    #[test]
    fn quirk_gmail_pseudo_part() {
        let s = br#"("RELATED" NIL ("ATTACHMENT" NIL) NIL)"#;
        let (b, _) = lenient_only(s);
        let BodyPart::Multi(m) = b.part() else {
            panic!()
        };
        assert!(b.children().next().is_none());
        let d = m
            .extension
            .as_ref()
            .unwrap()
            .disposition
            .as_ref()
            .unwrap()
            .disposition
            .as_ref()
            .unwrap();
        assert_eq!(d.kind.as_bytes(), b"ATTACHMENT");
    }

    #[test]
    fn quirk_bad_octets() {
        let (b, w) = lenient_only(
            br#"("multipart" "appledouble" ("boundary" "B_8145297380_164091") NIL NIL "7BIT" -1 NIL NIL NIL NIL)"#,
        );
        assert_eq!(w, vec![Quirk::BadNumbers]);
        let BodyPart::Single(sp) = b.part() else {
            panic!()
        };
        assert_eq!(sp.fields.octets, 0);
        let (b, _) = lenient_only(
            br#"("text" "html" ("charset" "utf-8") NIL NIL "base64" 9.3736e+06 0 NIL NIL NIL NIL)"#,
        );
        let BodyPart::Single(sp) = b.part() else {
            panic!()
        };
        assert_eq!(sp.fields.octets, 9_373_600);
        // the truncated SmarterMail fragment, completed
        lenient_only(br#"(("text" "plain" NIL NIL NIL "7bit" -2 0 NIL NIL NIL) "mixed")"#);
    }

    #[test]
    fn quirk_onepart_all_nil() {
        let (b, _) = lenient_only(br#"(NIL NIL NIL NIL NIL "7BIT" 0 NIL NIL NIL NIL)"#);
        let BodyPart::Single(SinglePart {
            kind: SinglePartKind::Basic(m),
            ..
        }) = b.part()
        else {
            panic!()
        };
        assert_eq!(m.media_type().as_bytes(), b"APPLICATION");
    }

    #[test]
    fn quirk_unescaped_dquote_163() {
        let s = br#"(("text" "html" ("charset" "UTF-8") NIL NIL "quoted-printable" 1224 16)("application" "octet-stream" ("name" "2154973550.pdf") NIL """" "base64" 65322) "MIXED")"#;
        let (b, w) = lenient_only(s);
        assert!(w.contains(&Quirk::UnescapedQuotes));
        assert!(matches!(b.part(), BodyPart::Multi(_)));
        let BodyPart::Single(sp) = b.root().child(1).unwrap().part() else {
            panic!()
        };
        assert_eq!(sp.fields.description.as_ref().unwrap().as_bytes(), b"\"\"");
    }

    #[test]
    fn invalid_becomes_raw_in_lenient() {
        let s = br#"(("text" "plain" NIL NIL NIL "7bit" 1 1) (garbage "with ) paren" {3}
)))) "mixed")"#;
        let s = s.to_vec();
        let s: Vec<u8> = String::from_utf8(s)
            .unwrap()
            .replace('\n', "\r\n")
            .into_bytes();
        let (b, w) = lenient_only(&s);
        assert!(w.contains(&Quirk::MalformedBodyStructure));
        assert!(matches!(b.part(), BodyPart::Multi(_)));
        let BodyPart::Invalid(raw) = b.root().child(1).unwrap().part() else {
            panic!("{b:?}")
        };
        assert!(raw.starts_with(b"(garbage"));
        assert!(raw.ends_with(b"))))"));
        // encodes the placeholder
        assert!(
            b.to_vec_inline_literals()
                .windows(PLACEHOLDER.len())
                .any(|w| w == PLACEHOLDER)
        );
    }

    #[test]
    fn nil_structure_is_invalid_in_lenient() {
        let (b, w) = lenient_only(b"NIL");
        assert_eq!(b, BodyStructure::invalid(Bytes::from_static(b"NIL")));
        assert_eq!(w, vec![Quirk::MalformedBodyStructure]);
        assert_eq!(b.to_vec_inline_literals(), PLACEHOLDER.to_vec());
    }

    #[test]
    fn flat_storage_matches_the_tree_built_by_hand() {
        let s = br#"((("TEXT" "PLAIN" NIL NIL NIL "7BIT" 1 1)("TEXT" "HTML" NIL NIL NIL "7BIT" 2 1) "ALTERNATIVE")("IMAGE" "PNG" NIL NIL NIL "BASE64" 3) "MIXED")"#;
        let b = strict_ok(s);
        let text = |sub: &str, octets| {
            BodyStructure::single(SinglePart {
                kind: SinglePartKind::Text {
                    subtype: IString::try_from(sub).unwrap(),
                    lines: 1,
                },
                fields: BodyFields {
                    encoding: IString::try_from("7BIT").unwrap(),
                    octets,
                    ..BodyFields::default()
                },
                extension: None,
            })
        };
        let multi = |sub: &str, kids: Vec<BodyStructure>| {
            BodyStructure::multi(
                MultiPart {
                    subtype: IString::try_from(sub).unwrap(),
                    extension: None,
                },
                kids,
            )
        };
        let png = BodyStructure::single(SinglePart {
            kind: SinglePartKind::Basic(
                MediaType::new(
                    IString::try_from("IMAGE").unwrap(),
                    IString::try_from("PNG").unwrap(),
                )
                .unwrap(),
            ),
            fields: BodyFields {
                encoding: IString::try_from("BASE64").unwrap(),
                octets: 3,
                ..BodyFields::default()
            },
            extension: None,
        });
        let alt = multi("ALTERNATIVE", vec![text("PLAIN", 1), text("HTML", 2)]);
        let want = multi("MIXED", vec![alt.clone(), png.clone()]);
        assert_eq!(b, want);
        assert_eq!(b.parts().len(), 5);
        let kids: Vec<_> = b.children().collect();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[0].to_structure(), alt);
        assert_eq!(kids[1].to_structure(), png);
        assert_eq!(kids[0].children().count(), 2);
        assert!(kids[1].children().next().is_none());
        assert!(b.root().child(2).is_none());
        // Debug shows the tree
        let d = format!("{b:?}");
        assert!(
            d.starts_with("Multi { bodies: [Multi { bodies: [Single("),
            "{d}"
        );
        assert_eq!(b.to_vec_inline_literals(), s.to_vec());
    }

    #[test]
    fn deep_nesting_is_bounded() {
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            let mut s = vec![b'('; 10_000];
            s.extend_from_slice(&[b')'; 10_000]);
            assert!(parse(&s, &o).is_err());
            let mut s = vec![b'('; 10_000];
            s.extend_from_slice(b"\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0");
            s.extend_from_slice(&[b')'; 10_000]);
            assert!(parse(&s, &o).is_err());
        }
    }

    proptest! {
        #[test]
        fn roundtrip(b in strategies::body_structure()) {
            let bytes = b.to_bytes_inline_literals();
            let o = DecodeOptions::strict();
            let mut p = Parser::new(&bytes, &o);
            let d = BodyStructure::parse(&mut p).unwrap();
            prop_assert!(p.at_end());
            prop_assert_eq!(d, b);
        }
    }
}
