//! BODY / BODYSTRUCTURE (RFC 9051 §7.5.2, §9 `body`, `body-type-1part`, `body-type-basic`,
//! `body-type-msg`, `body-type-text`, `body-type-mpart`, `body-fields`, `body-ext-1part`,
//! `body-ext-mpart`, `body-fld-dsp`, `body-fld-lang`, `body-fld-loc`, `body-extension`;
//! RFC 3501 §7.4.2).
//!
//! `BODY` (non-extensible) and `BODYSTRUCTURE` share one type: the extension data is absent
//! for `BODY`. The optional trailing fields of the extension data nest
//! (`md5 [dsp [lang [loc *ext]]]`), and so do the owned types ([`DispositionExt`] →
//! [`LanguageExt`] → [`LocationExt`]); a [`BodyStructure`] records how many of them were
//! sent ([`BodyRef::extension_fields`]), so what was sent round-trips exactly.
//!
//! Representation: a [`BodyStructure`] holds one buffer and, for each of its strings, where
//! the string is in it (a decoded structure's buffer is the part of the message it was read
//! from, so decoding takes one reference to the message, not one per string), and its parts
//! in one list in wire order. Read a structure with [`BodyStructure::root`] and the
//! accessors of [`BodyRef`] ([`subtype`](BodyRef::subtype), [`params`](BodyRef::params),
//! [`children`](BodyRef::children), ...); the owned types ([`BodyPart`], [`SinglePart`],
//! [`MultiPart`], ...) are what a structure is built from ([`BodyStructure::single`],
//! [`BodyStructure::multi`]) and what [`BodyRef::to_part`] gives back.
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

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;

use crate::core::{IString, NString};
use crate::encode::{Encode, EncodeBuf};
use crate::envelope::Envelope;
use crate::error::{Rule, ValidationError, ValueKind};
use crate::list::SmallList;
use crate::options::Quirk;
use crate::parse::{Fail, OwnBuf, PResult, Parser, Span, StrAt, unescape_in_place};

mod extension;
use self::extension::{parse_dsp_ext, parse_params};

/// A body parameter: (attribute, value), e.g. `("CHARSET", "UTF-8")`.
pub type BodyParam = (IString, IString);

/// A `body-fld-param` list: up to two parameters are stored inline (most parts have one or
/// two: a charset, a name, a boundary, a filename and size), more spill to the heap.
pub type BodyParams = SmallList<BodyParam, 2>;

/// A `body-fld-lang` list (Content-Language tags): up to two inline.
pub type Languages = SmallList<IString, 2>;

// ------------------------------------------------------------------------------------------
// storage

/// A run of entries of one of a structure's side lists: `len` entries from `start`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
struct Run {
    start: u32,
    len: u32,
}

impl Run {
    #[inline]
    fn of<T>(self, v: &[T]) -> &[T] {
        let s = self.start as usize;
        v.get(s..s + self.len as usize).unwrap_or_default()
    }
}

/// What a part is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Tag {
    Text,
    Basic,
    Rfc822,
    Global,
    Multi,
    Invalid,
}

/// One part of a [`BodyStructure`], with the size of the subtree it starts, as read from
/// (and written to) the structure's slots ([`Node::load`], [`Node::store`]): the strings are
/// [`Span`]s of the structure's buffer, the lists [`Run`]s of slots. The runs into the slots
/// (`params`, `dsp_params`, `langs`, `kids`) are absolute here and stored relative to the
/// node's own slot, so a subtree's slots can be copied anywhere as they are.
#[derive(Clone, Copy, Debug)]
struct Node {
    /// Slots of the subtree rooted here: this node's [`NODE`] slots, its lists and the
    /// subtrees of its children (a multipart) or of its encapsulated message (a message
    /// part), in the order they were sent.
    len: u32,
    tag: Tag,
    /// Fields of the extension data sent (0: none, as in BODY; up to 4: md5 or the
    /// multipart's parameters, disposition, language, location and extensions).
    ext: u8,
    /// `body-fld-octets`.
    octets: u32,
    /// The media type of a basic part; the raw bytes of an invalid one.
    media_type: Span,
    /// The subtype of a basic, text or multipart part.
    subtype: Span,
    id: Span,
    description: Span,
    encoding: Span,
    md5: Span,
    /// The disposition type; NIL for a `NIL` disposition.
    dsp: Span,
    loc: Span,
    /// `body-fld-param` (a multipart's in its extension data), two spans per parameter, in
    /// the structure's `slots`.
    params: Run,
    /// The disposition's parameters, in `slots`.
    dsp_params: Run,
    /// The languages, in `slots`.
    langs: Run,
    /// The `body-extension`s after the location, in the structure's `exts`.
    exts: Run,
    /// `body-fld-lines` of a text or message part.
    lines: u64,
    /// The envelope of a message part, in the structure's `envelopes`.
    env: u32,
    /// The slots of the children of a multipart, or of the encapsulated message's structure
    /// of a message part (a run of whole subtrees).
    kids: Run,
}

/// Slots a [`Node`] takes.
const NODE: usize = 16;

/// [`Node::EMPTY`] stored (pinned by `body::tests::empty_slots_are_the_empty_node`).
const EMPTY_SLOTS: [Span; NODE] = {
    let (e, nil) = (Span::EMPTY, Span::NIL);
    let head = Span {
        off: NODE as u32,
        len: Tag::Invalid as u32,
    };
    [head, e, e, e, nil, nil, e, nil, nil, nil, e, e, e, e, e, e]
};

/// Room for a node at the end of `slots` (the empty node, written when the part is complete
/// by [`close_node`]); its slot. Shared by the parser ([`Acc`]) and the builder from owned
/// values ([`Builder`]).
#[inline(always)]
fn open_node(slots: &mut Vec<Span>) -> usize {
    let idx = slots.len();
    slots.extend_from_slice(&EMPTY_SLOTS);
    idx
}

/// Writes `n` at `idx` (opened by [`open_node`]), its subtree being the slots from there on.
/// False when the subtree's size or the slot count does not fit 32 bits (the node then
/// claims only itself); only a structure built from owned values can get there.
#[inline(always)]
fn close_node(slots: &mut [Span], idx: usize, mut n: Node) -> bool {
    let len = slots.len() - idx;
    let fits = len <= u32::MAX as usize && slots.len() < u32::MAX as usize;
    n.len = if fits { len as u32 } else { NODE as u32 };
    n.put(slots, idx);
    fits
}

impl Node {
    const EMPTY: Node = Node {
        len: NODE as u32,
        tag: Tag::Invalid,
        ext: 0,
        octets: 0,
        media_type: Span::EMPTY,
        subtype: Span::EMPTY,
        id: Span::NIL,
        description: Span::NIL,
        encoding: Span::EMPTY,
        md5: Span::NIL,
        dsp: Span::NIL,
        loc: Span::NIL,
        params: Run { start: 0, len: 0 },
        dsp_params: Run { start: 0, len: 0 },
        langs: Run { start: 0, len: 0 },
        exts: Run { start: 0, len: 0 },
        lines: 0,
        env: 0,
        kids: Run { start: 0, len: 0 },
    };

    /// The node stored at slot `at` of `slots` ([`Node::EMPTY`] if there is none).
    #[inline(always)]
    fn load(slots: &[Span], at: usize) -> Node {
        let Some(s) = slots.get(at..at + NODE) else {
            return Node::EMPTY;
        };
        let run = |x: Span| Run {
            start: x.off.wrapping_add(at as u32),
            len: x.len,
        };
        Node {
            len: s[0].off,
            tag: match s[0].len & 0xff {
                0 => Tag::Text,
                1 => Tag::Basic,
                2 => Tag::Rfc822,
                3 => Tag::Global,
                4 => Tag::Multi,
                _ => Tag::Invalid,
            },
            ext: (s[0].len >> 8) as u8,
            octets: s[1].off,
            env: s[1].len,
            media_type: s[2],
            subtype: s[3],
            id: s[4],
            description: s[5],
            encoding: s[6],
            md5: s[7],
            dsp: s[8],
            loc: s[9],
            params: run(s[10]),
            dsp_params: run(s[11]),
            langs: run(s[12]),
            kids: run(s[13]),
            exts: Run {
                start: s[14].off,
                len: s[14].len,
            },
            lines: u64::from(s[15].off) | (u64::from(s[15].len) << 32),
        }
    }

    /// The slots of this node when stored at slot `at`.
    #[inline(always)]
    fn store(&self, at: usize) -> [Span; NODE] {
        let run = |r: Run| {
            if r.len == 0 {
                Span::EMPTY
            } else {
                Span {
                    off: r.start.wrapping_sub(at as u32),
                    len: r.len,
                }
            }
        };
        [
            Span {
                off: self.len,
                len: self.tag as u32 | u32::from(self.ext) << 8,
            },
            Span {
                off: self.octets,
                len: self.env,
            },
            self.media_type,
            self.subtype,
            self.id,
            self.description,
            self.encoding,
            self.md5,
            self.dsp,
            self.loc,
            run(self.params),
            run(self.dsp_params),
            run(self.langs),
            run(self.kids),
            Span {
                off: self.exts.start,
                len: self.exts.len,
            },
            Span {
                off: self.lines as u32,
                len: (self.lines >> 32) as u32,
            },
        ]
    }

    /// Writes this node at slot `at` of `slots` (which must hold it).
    #[inline(always)]
    fn put(&self, slots: &mut [Span], at: usize) {
        if let Some(s) = slots.get_mut(at..at + NODE) {
            s.copy_from_slice(&self.store(at));
        }
    }

    /// The slots of the subtree's parts, in wire order.
    fn parts(slots: &[Span], at: usize) -> Vec<usize> {
        let mut out = Vec::new();
        // runs of sibling subtrees still to visit
        let mut todo = vec![(at, at + 1)];
        while let Some((c, end)) = todo.pop() {
            if c >= end || c + NODE > slots.len() {
                continue;
            }
            let n = Node::load(slots, c);
            let len = (n.len as usize).max(NODE);
            out.push(c);
            todo.push((c + len, end));
            let (k, kl) = (n.kids.start as usize, n.kids.len as usize);
            if kl > 0 && k >= c + NODE && k + kl <= c + len {
                todo.push((k, k + kl));
            }
        }
        out
    }

    /// The span fields, for rebasing and comparing.
    fn spans_mut(&mut self) -> [&mut Span; 8] {
        [
            &mut self.media_type,
            &mut self.subtype,
            &mut self.id,
            &mut self.description,
            &mut self.encoding,
            &mut self.md5,
            &mut self.dsp,
            &mut self.loc,
        ]
    }

    fn spans(&self) -> [Span; 8] {
        [
            self.media_type,
            self.subtype,
            self.id,
            self.description,
            self.encoding,
            self.md5,
            self.dsp,
            self.loc,
        ]
    }
}

/// One `body-extension` in a structure's flat list (pre-order: a list is followed by its
/// items).
#[derive(Clone, Copy, Debug)]
enum Ext {
    /// A string or NIL.
    Str(Span),
    /// A number.
    Num(u64),
    /// A list of the next this many entries (all its items, nested ones included).
    List(u32),
}

/// What few structures have: body extensions and encapsulated messages' envelopes.
#[derive(Clone, Default)]
struct Rare {
    exts: Vec<Ext>,
    envelopes: Vec<Envelope>,
}

/// A `body`: the MIME structure of a message or body part.
///
/// Stored flat: every part of the tree in one list, in wire order (a multipart before its
/// children, a message part before the structure of the message it holds), the strings as
/// ranges of one buffer (for a decoded structure, the part of the message it was read from:
/// one reference to the message however many strings it has). Walk it from
/// [`root`](Self::root) ([`BodyRef::children`], [`BodyRef::subtype`], ...); build one from
/// owned values with [`single`](Self::single), [`multi`](Self::multi) and
/// [`invalid`](Self::invalid), and get a part back as owned values with
/// [`BodyRef::to_part`]. `PartialEq` and `Debug` go by content.
///
/// ```
/// use imapwire_codec::body::{BodyFields, BodyPart, BodyStructure, MultiPart, PartKind, SinglePart, SinglePartKind};
/// use imapwire_codec::core::IString;
///
/// let text = BodyStructure::single(SinglePart {
///     kind: SinglePartKind::Text { subtype: IString::try_from("PLAIN").unwrap(), lines: 1 },
///     fields: BodyFields::default(),
///     extension: None,
/// })
/// .unwrap();
/// let mixed = MultiPart { subtype: IString::try_from("MIXED").unwrap(), extension: None };
/// let b = BodyStructure::multi(mixed, [text.clone(), text]).unwrap();
/// assert_eq!(b.root().kind(), PartKind::Multi);
/// assert_eq!(b.root().subtype(), b"MIXED");
/// assert!(matches!(b.to_part(), BodyPart::Multi(m) if m.subtype.as_bytes() == b"MIXED"));
/// assert_eq!(b.children().count(), 2);
/// assert!(b.children().all(|c| c.kind() == PartKind::Text && c.lines() == Some(1)));
/// ```
#[derive(Clone)]
pub struct BodyStructure {
    /// Every string of the structure is a run of this buffer.
    buf: Bytes,
    /// The parts ([`NODE`] slots each) and their parameter (two spans each) and language
    /// lists, in one allocation: the root's subtree from slot 0, every subtree a contiguous
    /// run (see [`Node::len`]); a parsed structure keeps the room its slots were parsed into,
    /// unused slots after the root's subtree (see [`into_slots`]). (A boxed slice, not a
    /// `Vec`, so that a structure is 56 bytes, which keeps a FETCH item at 64.)
    slots: Box<[Span]>,
    /// Body extensions and envelopes, when there are any.
    rare: Option<Box<Rare>>,
}

/// What a part of a [`BodyStructure`] is: see [`BodyRef::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PartKind {
    /// `body-type-text`: `TEXT/subtype` with a line count.
    Text,
    /// `body-type-basic`: any other leaf part.
    Basic,
    /// `body-type-msg`: an encapsulated message ([`BodyRef::envelope`],
    /// [`BodyRef::message_body`]).
    Message(MessageSubtype),
    /// `body-type-mpart`: a multipart ([`BodyRef::children`]).
    Multi,
    /// Lenient profile only: a structure that could not be decoded ([`BodyRef::raw`]).
    Invalid,
}

/// One part of a [`BodyStructure`] as owned values (its children, for a multipart, are the
/// following parts of the structure: see [`BodyRef::children`]). What
/// [`BodyRef::to_part`] gives.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// the owned form, built and taken apart one part at a time: not worth a box per part
#[allow(clippy::large_enum_variant)]
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

/// A structure's buffer would reach 4 GiB.
fn too_long() -> ValidationError {
    ValidationError::new(
        ValueKind::Grammar("body"),
        Rule::TooLong {
            max: (u32::MAX - 1) as usize,
        },
    )
}

impl BodyStructure {
    /// The parameter list `r` of [`slots`](Self::slots) (two spans a pair).
    #[inline]
    fn params_in(&self, r: Run) -> Params<'_> {
        Params {
            buf: &self.buf,
            spans: r.of(&self.slots),
        }
    }

    /// The string list `r` of [`slots`](Self::slots).
    #[inline]
    fn strings_in(&self, r: Run) -> Strings<'_> {
        Strings {
            buf: &self.buf,
            spans: r.of(&self.slots),
        }
    }

    /// One part, [`Node::EMPTY`] but for `n`'s fields, and nothing else.
    fn of_node(buf: Bytes, n: Node) -> BodyStructure {
        BodyStructure {
            buf,
            slots: Box::from(n.store(0)),
            rare: None,
        }
    }

    /// A structure of one leaf part. Copies its strings into the structure's buffer; fails
    /// only when they come to 4 GiB (a structure addresses its buffer with 32-bit offsets).
    pub fn single(part: SinglePart) -> Result<Self, ValidationError> {
        let mut b = Builder::default();
        b.single(&part);
        b.finish()
    }

    /// A multipart with these children. The grammar requires at least one child: a
    /// childless multipart (decoded leniently from broken servers) is encoded with one
    /// placeholder child `("TEXT" "PLAIN" NIL NIL NIL "7BIT" 0 0)` so the output stays valid.
    /// Fails only when the strings come to 4 GiB.
    pub fn multi(
        part: MultiPart,
        children: impl IntoIterator<Item = BodyStructure>,
    ) -> Result<Self, ValidationError> {
        let mut b = Builder::default();
        let idx = b.node();
        let mut n = Node {
            tag: Tag::Multi,
            subtype: b.put(part.subtype.as_bytes()),
            ..Node::EMPTY
        };
        if let Some(e) = &part.extension {
            n.ext = 1;
            n.params = b.params(&e.params);
            if let Some(d) = &e.disposition {
                b.dsp_ext(&mut n, d);
            }
        }
        let kids = b.slots.len();
        for c in children {
            b.copy(c.root());
        }
        n.kids = b.run(kids, b.slots.len() - kids);
        b.close(idx, n);
        b.finish()
    }

    /// A structure kept raw (see [`BodyPart::Invalid`]). Fails only for 4 GiB of bytes.
    pub fn invalid(raw: Bytes) -> Result<Self, ValidationError> {
        let span = Span::new(0, raw.len()).ok_or_else(too_long)?;
        Ok(BodyStructure::of_node(
            raw,
            Node {
                media_type: span,
                ..Node::EMPTY
            },
        ))
    }

    /// The whole structure as a borrowed tree.
    #[inline]
    pub fn root(&self) -> BodyRef<'_> {
        BodyRef { s: self, at: 0 }
    }

    /// The root part as owned values (see [`BodyRef::to_part`]).
    pub fn to_part(&self) -> BodyPart {
        self.root().to_part()
    }

    /// The root's children (empty unless it is a multipart).
    pub fn children(&self) -> Children<'_> {
        self.root().children()
    }

    /// Every part, in wire order (each multipart before its children, each message part
    /// before the structure of the message it holds), each with its subtree.
    pub fn parts(&self) -> impl ExactSizeIterator<Item = BodyRef<'_>> + '_ {
        Node::parts(&self.slots, 0)
            .into_iter()
            .map(move |at| BodyRef { s: self, at })
    }

    #[inline]
    fn exts(&self) -> &[Ext] {
        self.rare.as_ref().map_or(&[], |r| &r.exts)
    }
}

impl fmt::Debug for BodyStructure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root().fmt(f)
    }
}

impl PartialEq for BodyStructure {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.parts(), other.parts());
        a.len() == b.len() && a.zip(b).all(|(a, b)| a.same_part(b))
    }
}

impl Eq for BodyStructure {}

/// A borrowed subtree of a [`BodyStructure`]: one part and its descendants, read in place.
#[derive(Clone, Copy)]
pub struct BodyRef<'a> {
    s: &'a BodyStructure,
    /// The slot of this subtree's root.
    at: usize,
}

impl<'a> BodyRef<'a> {
    #[inline]
    fn node(self) -> Node {
        Node::load(&self.s.slots, self.at)
    }

    #[inline]
    fn get(self, s: Span) -> Option<&'a [u8]> {
        s.get(&self.s.buf)
    }

    #[inline]
    fn str(self, s: Span) -> &'a [u8] {
        s.str(&self.s.buf)
    }

    /// What this part is.
    #[inline]
    pub fn kind(self) -> PartKind {
        match self.node().tag {
            Tag::Text => PartKind::Text,
            Tag::Basic => PartKind::Basic,
            Tag::Rfc822 => PartKind::Message(MessageSubtype::Rfc822),
            Tag::Global => PartKind::Message(MessageSubtype::Global),
            Tag::Multi => PartKind::Multi,
            Tag::Invalid => PartKind::Invalid,
        }
    }

    /// The media type: as sent for a basic part; `TEXT`, `MESSAGE` and `MULTIPART` for the
    /// others (text, message and multipart parts do not keep theirs); empty for an invalid
    /// part.
    pub fn media_type(self) -> &'a [u8] {
        match self.node().tag {
            Tag::Text => b"TEXT",
            Tag::Basic => self.str(self.node().media_type),
            Tag::Rfc822 | Tag::Global => b"MESSAGE",
            Tag::Multi => b"MULTIPART",
            Tag::Invalid => b"",
        }
    }

    /// The subtype, e.g. `PLAIN` or `MIXED` (`RFC822` or `GLOBAL` for a message part); empty
    /// for an invalid part.
    pub fn subtype(self) -> &'a [u8] {
        match self.node().tag {
            Tag::Rfc822 => b"RFC822",
            Tag::Global => b"GLOBAL",
            Tag::Invalid => b"",
            _ => self.str(self.node().subtype),
        }
    }

    /// `body-fld-param` of a leaf part; of a multipart, the parameters of its extension data
    /// (empty when not sent). Empty for `NIL`.
    #[inline]
    pub fn params(self) -> Params<'a> {
        self.s.params_in(self.node().params)
    }

    /// `body-fld-id` (Content-ID) of a leaf part; `None` for NIL and other parts.
    pub fn id(self) -> Option<&'a [u8]> {
        self.get(self.node().id)
    }

    /// `body-fld-desc` (Content-Description) of a leaf part; `None` for NIL and other parts.
    pub fn description(self) -> Option<&'a [u8]> {
        self.get(self.node().description)
    }

    /// `body-fld-enc` (Content-Transfer-Encoding) of a leaf part, e.g. `BASE64`; empty for
    /// other parts.
    pub fn encoding(self) -> &'a [u8] {
        self.str(self.node().encoding)
    }

    /// `body-fld-octets` of a leaf part: its size in its transfer encoding; 0 for others.
    pub fn octets(self) -> u32 {
        self.node().octets
    }

    /// `body-fld-lines` of a text or message part; `None` for others.
    pub fn lines(self) -> Option<u64> {
        match self.node().tag {
            Tag::Text | Tag::Rfc822 | Tag::Global => Some(self.node().lines),
            _ => None,
        }
    }

    /// The envelope of the message a message part holds.
    pub fn envelope(self) -> Option<&'a Envelope> {
        match self.node().tag {
            Tag::Rfc822 | Tag::Global => {
                let r = self.s.rare.as_ref()?;
                r.envelopes.get(self.node().env as usize)
            }
            _ => None,
        }
    }

    /// The structure of the message a message part holds.
    pub fn message_body(self) -> Option<BodyRef<'a>> {
        match self.node().tag {
            Tag::Rfc822 | Tag::Global => {
                let k = self.node().kids;
                (k.len > 0).then_some(BodyRef {
                    s: self.s,
                    at: k.start as usize,
                })
            }
            _ => None,
        }
    }

    /// The raw bytes of an invalid part (see [`BodyPart::Invalid`]).
    pub fn raw(self) -> Option<&'a [u8]> {
        match self.node().tag {
            Tag::Invalid => Some(self.str(self.node().media_type)),
            _ => None,
        }
    }

    /// How many fields of the extension data (`body-ext-1part`, `body-ext-mpart`) were sent:
    /// 0 for none (as in BODY); 1 with the MD5 of a leaf part or the parameters of a
    /// multipart; 2 with the disposition; 3 with the language; 4 with the location and any
    /// further extensions.
    pub fn extension_fields(self) -> usize {
        self.node().ext.into()
    }

    /// `body-fld-md5` of a leaf part; `None` for NIL or when not sent.
    pub fn md5(self) -> Option<&'a [u8]> {
        self.get(self.node().md5)
    }

    /// `body-fld-dsp`: the disposition type (e.g. `attachment`) and its parameters; `None`
    /// for NIL or when not sent.
    pub fn disposition(self) -> Option<(&'a [u8], Params<'a>)> {
        let kind = self.get(self.node().dsp)?;
        Some((kind, self.s.params_in(self.node().dsp_params)))
    }

    /// `body-fld-lang` (Content-Language tags); empty for NIL or when not sent.
    pub fn languages(self) -> Strings<'a> {
        self.s.strings_in(self.node().langs)
    }

    /// `body-fld-loc` (Content-Location); `None` for NIL or when not sent.
    pub fn location(self) -> Option<&'a [u8]> {
        self.get(self.node().loc)
    }

    /// The `body-extension`s after the location, as owned values (empty when none).
    pub fn extensions(self) -> Vec<BodyExtension> {
        let mut out = Vec::new();
        let mut items = self.node().exts.of(self.s.exts());
        while !items.is_empty() {
            out.push(self.ext_of(&mut items));
        }
        out
    }

    /// The first extension of `items` as an owned value; `items` is left after it.
    fn ext_of(self, items: &mut &'a [Ext]) -> BodyExtension {
        let Some((first, rest)) = items.split_first() else {
            return BodyExtension::List(Vec::new());
        };
        *items = rest;
        match *first {
            Ext::Str(s) => BodyExtension::NString(self.nstring(s)),
            Ext::Num(n) => BodyExtension::Number(n),
            Ext::List(n) => {
                let n = (n as usize).min(items.len());
                let (mut inner, rest) = items.split_at(n);
                *items = rest;
                let mut v = Vec::new();
                while !inner.is_empty() {
                    v.push(self.ext_of(&mut inner));
                }
                BodyExtension::List(v)
            }
        }
    }

    /// The direct children of this part, in order (none unless it is a multipart).
    pub fn children(self) -> Children<'a> {
        let n = self.node();
        let (at, end) = if n.tag == Tag::Multi {
            let k = n.kids.start as usize;
            (k, k + n.kids.len as usize)
        } else {
            (0, 0)
        };
        Children { s: self.s, at, end }
    }

    /// The `i`th direct child.
    pub fn child(self, i: usize) -> Option<BodyRef<'a>> {
        self.children().nth(i)
    }

    /// A copy of this subtree as a structure of its own (sharing the buffer).
    pub fn to_structure(self) -> BodyStructure {
        let len = self.node().len as usize;
        match self.s.slots.get(self.at..self.at + len) {
            Some(slots) if len >= NODE => BodyStructure {
                buf: self.s.buf.clone(),
                slots: Box::from(slots),
                rare: self.s.rare.clone(),
            },
            _ => BodyStructure::of_node(Bytes::new(), Node::EMPTY),
        }
    }

    /// The string at `s` as an owned value sharing the structure's buffer.
    fn istring(self, s: Span) -> IString {
        // a sub-slice of the buffer (`slice_ref` does not copy); strings hold no NUL
        IString::unchecked(self.s.buf.slice_ref(self.str(s)))
    }

    fn nstring(self, s: Span) -> NString {
        self.get(s)
            .map(|v| IString::unchecked(self.s.buf.slice_ref(v)))
    }

    fn params_of(self, r: Run) -> BodyParams {
        r.of(&self.s.slots)
            .chunks_exact(2)
            .map(|kv| (self.istring(kv[0]), self.istring(kv[1])))
            .collect()
    }

    /// The disposition and what follows it, as owned values (extension level 2 and up).
    fn dsp_ext(self) -> Option<DispositionExt> {
        let n = self.node();
        if n.ext < 2 {
            return None;
        }
        Some(DispositionExt {
            disposition: self.get(n.dsp).map(|_| Disposition {
                kind: self.istring(n.dsp),
                params: self.params_of(n.dsp_params),
            }),
            language: (n.ext >= 3).then(|| LanguageExt {
                language: n
                    .langs
                    .of(&self.s.slots)
                    .iter()
                    .map(|&s| self.istring(s))
                    .collect(),
                location: (n.ext >= 4).then(|| LocationExt {
                    location: self.nstring(n.loc),
                    extensions: self.extensions(),
                }),
            }),
        })
    }

    /// This part as owned values (strings sharing the structure's buffer; a message part's
    /// structure copied); a multipart's children are not part of it.
    pub fn to_part(self) -> BodyPart {
        let n = self.node();
        let fields = || BodyFields {
            params: self.params_of(n.params),
            id: self.nstring(n.id),
            description: self.nstring(n.description),
            encoding: self.istring(n.encoding),
            octets: n.octets,
        };
        let extension = || {
            (n.ext >= 1).then(|| SinglePartExtension {
                md5: self.nstring(n.md5),
                disposition: self.dsp_ext(),
            })
        };
        let single = |kind| {
            BodyPart::Single(SinglePart {
                kind,
                fields: fields(),
                extension: extension(),
            })
        };
        match n.tag {
            Tag::Invalid => BodyPart::Invalid(self.s.buf.slice_ref(self.str(n.media_type))),
            Tag::Multi => BodyPart::Multi(MultiPart {
                subtype: self.istring(n.subtype),
                extension: (n.ext >= 1).then(|| MultiPartExtension {
                    params: self.params_of(n.params),
                    disposition: self.dsp_ext(),
                }),
            }),
            Tag::Text => single(SinglePartKind::Text {
                subtype: self.istring(n.subtype),
                lines: n.lines,
            }),
            Tag::Basic => single(SinglePartKind::Basic(MediaType {
                media_type: self.istring(n.media_type),
                subtype: self.istring(n.subtype),
            })),
            Tag::Rfc822 | Tag::Global => single(SinglePartKind::Message {
                subtype: if n.tag == Tag::Rfc822 {
                    MessageSubtype::Rfc822
                } else {
                    MessageSubtype::Global
                },
                envelope: Box::new(self.envelope().cloned().unwrap_or_default()),
                body: self.message_body().map_or_else(
                    || BodyStructure::of_node(Bytes::new(), Node::EMPTY),
                    BodyRef::to_structure,
                ),
                lines: n.lines,
            }),
        }
    }

    /// Whether this part (not its subtree) equals `o`'s by content, with as many children
    /// and a message body or not alike (so that comparing parts in turn compares shapes).
    fn same_part(self, o: BodyRef<'_>) -> bool {
        let (a, b) = (self.node(), o.node());
        a.tag == b.tag
            && self.children().len() == o.children().len()
            && self.message_body().is_some() == o.message_body().is_some()
            && a.ext == b.ext
            && a.octets == b.octets
            && a.lines == b.lines
            && a.spans()
                .iter()
                .zip(b.spans())
                .all(|(x, y)| self.get(*x) == o.get(y))
            && self.params() == o.params()
            && self.disposition().map(|d| d.1) == o.disposition().map(|d| d.1)
            && self.languages() == o.languages()
            && self.extensions() == o.extensions()
            && self.envelope() == o.envelope()
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
        match self.to_part() {
            BodyPart::Single(s) => f.debug_tuple("Single").field(&s).finish(),
            BodyPart::Multi(m) => f
                .debug_struct("Multi")
                .field("bodies", &Kids(*self))
                .field("subtype", &m.subtype)
                .field("extension", &m.extension)
                .finish(),
            BodyPart::Invalid(b) => f.debug_tuple("Invalid").field(&b).finish(),
        }
    }
}

/// The direct children of a part: see [`BodyRef::children`].
#[derive(Clone)]
pub struct Children<'a> {
    s: &'a BodyStructure,
    /// The slot of the next child.
    at: usize,
    /// Where the children end.
    end: usize,
}

impl<'a> Children<'a> {
    /// The number of children left.
    fn len(&self) -> usize {
        self.clone().count()
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = BodyRef<'a>;
    fn next(&mut self) -> Option<BodyRef<'a>> {
        if self.at >= self.end {
            return None;
        }
        let r = BodyRef {
            s: self.s,
            at: self.at,
        };
        self.at += (r.node().len as usize).max(NODE);
        Some(r)
    }
}

impl fmt::Debug for Children<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// A parameter list of a part (`body-fld-param`), read in place: (attribute, value) pairs.
#[derive(Clone, Copy)]
pub struct Params<'a> {
    buf: &'a [u8],
    /// Two per parameter.
    spans: &'a [Span],
}

impl<'a> Params<'a> {
    /// The number of parameters.
    pub fn len(&self) -> usize {
        self.spans.len() / 2
    }

    /// Whether there are none (NIL).
    pub fn is_empty(&self) -> bool {
        self.spans.len() < 2
    }

    /// The `i`th parameter.
    pub fn get(&self, i: usize) -> Option<(&'a [u8], &'a [u8])> {
        let kv = self.spans.get(2 * i..2 * i + 2)?;
        Some((kv[0].str(self.buf), kv[1].str(self.buf)))
    }

    /// The value of the first parameter named `name` (ASCII case-insensitive).
    pub fn value_of(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The parameters in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let buf = self.buf;
        self.spans
            .chunks_exact(2)
            .map(move |kv| (kv[0].str(buf), kv[1].str(buf)))
    }
}

impl fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(k, v)| {
                (
                    crate::error::Excerpt(k).to_string(),
                    crate::error::Excerpt(v).to_string(),
                )
            }))
            .finish()
    }
}

impl PartialEq for Params<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Params<'_> {}

/// A list of strings of a part (the languages), read in place.
#[derive(Clone, Copy)]
pub struct Strings<'a> {
    buf: &'a [u8],
    spans: &'a [Span],
}

impl<'a> Strings<'a> {
    /// The number of strings.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The `i`th string.
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        Some(self.spans.get(i)?.str(self.buf))
    }

    /// The strings in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + 'a {
        let buf = self.buf;
        self.spans.iter().map(move |s| s.str(buf))
    }
}

impl fmt::Debug for Strings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|s| crate::error::Excerpt(s).to_string()))
            .finish()
    }
}

impl PartialEq for Strings<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Strings<'_> {}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for BodyStructure {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        // the variant odds of the former derived enum (single, multi, invalid)
        let r = match (u64::from(u32::arbitrary(u)?) * 3) >> 32 {
            0 => BodyStructure::single(u.arbitrary()?),
            1 => {
                let m: MultiPart = u.arbitrary()?;
                BodyStructure::multi(m, bodies(u)?)
            }
            _ => BodyStructure::invalid(crate::arbitrary_util::bytes(u)?),
        };
        r.map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

// ------------------------------------------------------------------------------------------
// building from owned values

/// A structure while it is built from owned values: every string is copied into `buf`.
#[derive(Default)]
struct Builder {
    buf: Vec<u8>,
    slots: Vec<Span>,
    rare: Rare,
    /// A string did not fit below 4 GiB.
    over: bool,
}

impl Builder {
    fn put(&mut self, s: &[u8]) -> Span {
        let start = self.buf.len();
        self.buf.extend_from_slice(s);
        Span::new(start, self.buf.len()).unwrap_or_else(|| {
            self.over = true;
            Span::NIL
        })
    }

    fn nput(&mut self, s: Option<&[u8]>) -> Span {
        s.map_or(Span::NIL, |s| self.put(s))
    }

    fn run(&mut self, start: usize, len: usize) -> Run {
        match (u32::try_from(start), u32::try_from(len)) {
            (Ok(start), Ok(len)) => Run { start, len },
            _ => {
                self.over = true;
                Run::default()
            }
        }
    }

    fn pairs<'x>(&mut self, it: impl Iterator<Item = (&'x [u8], &'x [u8])>) -> Run {
        let start = self.slots.len();
        for (k, v) in it {
            let (k, v) = (self.put(k), self.put(v));
            self.slots.push(k);
            self.slots.push(v);
        }
        self.run(start, self.slots.len() - start)
    }

    fn params(&mut self, p: &[BodyParam]) -> Run {
        self.pairs(p.iter().map(|(k, v)| (k.as_bytes(), v.as_bytes())))
    }

    fn strings<'x>(&mut self, it: impl Iterator<Item = &'x [u8]>) -> Run {
        let start = self.slots.len();
        for s in it {
            let s = self.put(s);
            self.slots.push(s);
        }
        self.run(start, self.slots.len() - start)
    }

    fn ext(&mut self, e: &BodyExtension) {
        match e {
            BodyExtension::NString(s) => {
                let s = self.nput(s.as_ref().map(IString::as_bytes));
                self.rare.exts.push(Ext::Str(s));
            }
            BodyExtension::Number(n) => self.rare.exts.push(Ext::Num(*n)),
            BodyExtension::List(v) => {
                let at = self.rare.exts.len();
                self.rare.exts.push(Ext::List(0));
                for e in v {
                    self.ext(e);
                }
                let n = self.rare.exts.len() - at - 1;
                self.rare.exts[at] = Ext::List(u32::try_from(n).unwrap_or_else(|_| {
                    self.over = true;
                    0
                }));
            }
        }
    }

    /// The disposition and what follows it into `n` (extension level 2 and up).
    fn dsp_ext(&mut self, n: &mut Node, d: &DispositionExt) {
        n.ext = 2;
        if let Some(d) = &d.disposition {
            n.dsp = self.put(d.kind.as_bytes());
            n.dsp_params = self.params(&d.params);
        }
        let Some(l) = &d.language else { return };
        n.ext = 3;
        n.langs = self.strings(l.language.iter().map(IString::as_bytes));
        let Some(loc) = &l.location else { return };
        n.ext = 4;
        n.loc = self.nput(loc.location.as_ref().map(IString::as_bytes));
        let start = self.rare.exts.len();
        for e in &loc.extensions {
            self.ext(e);
        }
        n.exts = self.run(start, self.rare.exts.len() - start);
    }

    /// Room for a node; its slot.
    fn node(&mut self) -> usize {
        open_node(&mut self.slots)
    }

    /// Writes `n` at `idx`, its subtree being the slots from there on.
    fn close(&mut self, idx: usize, n: Node) {
        if !close_node(&mut self.slots, idx, n) {
            self.over = true;
        }
    }

    /// Appends a leaf part (and, for a message part, the structure it holds).
    fn single(&mut self, sp: &SinglePart) {
        let idx = self.node();
        let mut n = Node::EMPTY;
        let mut body = None;
        match &sp.kind {
            SinglePartKind::Text { subtype, lines } => {
                n.tag = Tag::Text;
                n.subtype = self.put(subtype.as_bytes());
                n.lines = *lines;
            }
            SinglePartKind::Basic(m) => {
                n.tag = Tag::Basic;
                n.media_type = self.put(m.media_type.as_bytes());
                n.subtype = self.put(m.subtype.as_bytes());
            }
            SinglePartKind::Message {
                subtype,
                envelope,
                body: b,
                lines,
            } => {
                n.tag = match subtype {
                    MessageSubtype::Rfc822 => Tag::Rfc822,
                    MessageSubtype::Global => Tag::Global,
                };
                n.env = u32::try_from(self.rare.envelopes.len()).unwrap_or(u32::MAX);
                self.rare.envelopes.push((**envelope).clone());
                n.lines = *lines;
                body = Some(b);
            }
        }
        let f = &sp.fields;
        n.params = self.params(&f.params);
        n.id = self.nput(f.id.as_ref().map(IString::as_bytes));
        n.description = self.nput(f.description.as_ref().map(IString::as_bytes));
        n.encoding = self.put(f.encoding.as_bytes());
        n.octets = f.octets;
        if let Some(e) = &sp.extension {
            n.ext = 1;
            n.md5 = self.nput(e.md5.as_ref().map(IString::as_bytes));
            if let Some(d) = &e.disposition {
                self.dsp_ext(&mut n, d);
            }
        }
        if let Some(b) = body {
            let kids = self.slots.len();
            self.copy(b.root());
            n.kids = self.run(kids, self.slots.len() - kids);
        }
        self.close(idx, n);
    }

    /// Appends a copy of the subtree `r` (its strings copied into this buffer).
    fn copy(&mut self, r: BodyRef<'_>) {
        let src = r.s;
        let base = self.slots.len();
        let len = r.node().len as usize;
        let Some(slots) = src.slots.get(r.at..r.at + len).filter(|_| len >= NODE) else {
            let idx = self.node();
            self.close(idx, Node::EMPTY);
            return;
        };
        // the slots as they are (runs into them are relative), then every string copied
        self.slots.extend_from_slice(slots);
        for at in Node::parts(slots, 0) {
            let node = Node::load(slots, at);
            let mut n = node;
            for s in n.spans_mut() {
                *s = self.nput(s.get(&src.buf));
            }
            for r in [node.params, node.dsp_params, node.langs] {
                for (i, s) in r.of(slots).iter().enumerate() {
                    let v = self.nput(s.get(&src.buf));
                    if let Some(d) = self.slots.get_mut(base + r.start as usize + i) {
                        *d = v;
                    }
                }
            }
            let start = self.rare.exts.len();
            for &e in node.exts.of(src.exts()) {
                let e = match e {
                    Ext::Str(s) => Ext::Str(self.nput(s.get(&src.buf))),
                    other => other,
                };
                self.rare.exts.push(e);
            }
            n.exts = self.run(start, self.rare.exts.len() - start);
            if matches!(n.tag, Tag::Rfc822 | Tag::Global) {
                let env = src
                    .rare
                    .as_ref()
                    .and_then(|r| r.envelopes.get(node.env as usize))
                    .cloned()
                    .unwrap_or_default();
                n.env = u32::try_from(self.rare.envelopes.len()).unwrap_or(u32::MAX);
                self.rare.envelopes.push(env);
            }
            // (the node's runs are relative to it: stored at its new place, they point to
            // its copied lists)
            let to = base + at;
            let shift = |r: Run| Run {
                start: r.start.wrapping_add(base as u32),
                ..r
            };
            n.params = shift(n.params);
            n.dsp_params = shift(n.dsp_params);
            n.langs = shift(n.langs);
            n.kids = shift(n.kids);
            n.put(&mut self.slots, to);
        }
        if self.slots.len() >= u32::MAX as usize {
            self.over = true;
        }
    }

    fn finish(self) -> Result<BodyStructure, ValidationError> {
        if self.over || self.buf.len() >= u32::MAX as usize {
            return Err(too_long());
        }
        let rare = (!self.rare.exts.is_empty() || !self.rare.envelopes.is_empty())
            .then(|| Box::new(self.rare));
        Ok(BodyStructure {
            buf: Bytes::from(self.buf),
            slots: self.slots.into_boxed_slice(),
            rare,
        })
    }
}

/// `body-type-1part`, as owned values.
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

/// Marks a span of the side buffer while parsing (message spans stay below it).
const SIDE: u32 = 1 << 31;

/// Marks the length of a span of the message that is an escaped quoted string's raw content
/// while parsing (unescaped where it stands when the structure is finished).
const ESC: u32 = 1 << 31;

/// A structure while it is parsed: where it starts in the message, its parts and lists so
/// far, and the strings that are not runs of the message (unescaped, lenient defaults),
/// which end up after the structure's bytes in a buffer of its own.
struct Acc {
    /// Where the structure starts in the message; spans are relative to it.
    start: usize,
    /// The structure's slots so far (see [`BodyStructure::slots`]).
    slots: Vec<Span>,
    exts: Vec<Ext>,
    envelopes: Vec<Envelope>,
    /// Content of the strings that are not runs of the message; their spans' offsets are
    /// into it, marked with [`SIDE`].
    side: Vec<u8>,
    /// Whether a span is marked with [`ESC`].
    escapes: bool,
}

/// The lengths of an [`Acc`]'s lists, to go back to after a failed attempt.
#[derive(Clone, Copy)]
struct Mark {
    slots: usize,
    exts: usize,
    envelopes: usize,
}

impl Acc {
    /// Bytes `s..e` of the message.
    #[inline(always)]
    fn span_in(&self, p: &mut Parser<'_>, s: usize, e: usize) -> PResult<Span> {
        let off = s - self.start;
        if e - self.start < SIDE as usize {
            Ok(Span {
                off: off as u32,
                len: (e - s) as u32,
            })
        } else {
            Err(p.fail_at(s, "body structure smaller than 2 GiB"))
        }
    }

    /// The span of a string read by `*_at`.
    #[inline(always)]
    fn span(&mut self, p: &mut Parser<'_>, at: StrAt) -> PResult<Span> {
        match at {
            StrAt::Nil => Ok(Span::NIL),
            StrAt::In(s, e) => self.span_in(p, s, e),
            StrAt::Escaped(s, e) => self.escaped(p, s, e),
            StrAt::Owned(v) => self.side(p, &v),
        }
    }

    /// The escaped raw content at `s..e` of the message, marked to be unescaped.
    #[cold]
    #[inline(never)]
    fn escaped(&mut self, p: &mut Parser<'_>, s: usize, e: usize) -> PResult<Span> {
        let span = self.span_in(p, s, e)?;
        if span.len >= ESC - 1 {
            return Err(p.fail_at(s, "body structure smaller than 2 GiB"));
        }
        self.escapes = true;
        Ok(Span {
            off: span.off,
            len: span.len | ESC,
        })
    }

    /// `v` in the side buffer.
    #[cold]
    #[inline(never)]
    fn side(&mut self, p: &mut Parser<'_>, v: &[u8]) -> PResult<Span> {
        if v.is_empty() {
            return Ok(Span::EMPTY);
        }
        let at = self.side.len();
        self.side.extend_from_slice(v);
        if self.side.len() >= SIDE as usize {
            return Err(p.fail("body structure smaller than 2 GiB"));
        }
        Ok(Span {
            off: at as u32 | SIDE,
            len: v.len() as u32,
        })
    }

    /// The content of `s` while parsing.
    fn bytes<'m>(&'m self, msg: &'m [u8], s: Span) -> Cow<'m, [u8]> {
        if s.len == u32::MAX {
            return Cow::Borrowed(b"");
        }
        if s.off & SIDE != 0 {
            return Cow::Borrowed(
                Span {
                    off: s.off & !SIDE,
                    len: s.len,
                }
                .str(&self.side),
            );
        }
        let msg = msg.get(self.start..).unwrap_or_default();
        if s.len & ESC == 0 {
            return Cow::Borrowed(s.str(msg));
        }
        let mut v = Span {
            off: s.off,
            len: s.len & !ESC,
        }
        .str(msg)
        .to_vec();
        let n = unescape_in_place(&mut v);
        v.truncate(n);
        Cow::Owned(v)
    }

    /// Room for a node; its slot.
    #[inline(always)]
    fn node(&mut self) -> usize {
        open_node(&mut self.slots)
    }

    /// Writes `n` at `idx`, its subtree being the slots from there on. (The structure is
    /// below 2 GiB of message here, so its slots always fit the counts.)
    #[inline(always)]
    fn close(&mut self, idx: usize, n: Node) {
        close_node(&mut self.slots, idx, n);
    }

    fn run(&self, start: usize, len: usize) -> Run {
        // below the message's size, itself below 2 GiB here
        Run {
            start: start as u32,
            len: len as u32,
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            slots: self.slots.len(),
            exts: self.exts.len(),
            envelopes: self.envelopes.len(),
        }
    }

    /// Drops what was added since `m` (a failed attempt).
    fn reset(&mut self, m: Mark) {
        self.slots.truncate(m.slots);
        self.exts.truncate(m.exts);
        self.envelopes.truncate(m.envelopes);
    }

    /// The structure, its bytes being the message's `self.start..p.pos`.
    fn finish(mut self, p: &mut Parser<'_>) -> PResult<BodyStructure> {
        let end = p.pos;
        let rare = (!self.exts.is_empty() || !self.envelopes.is_empty()).then(|| {
            Box::new(Rare {
                exts: std::mem::take(&mut self.exts),
                envelopes: std::mem::take(&mut self.envelopes),
            })
        });
        if self.side.is_empty() && !self.escapes {
            return Ok(BodyStructure {
                buf: p.slice(self.start, end),
                slots: into_slots(self.slots),
                rare,
            });
        }
        // Some strings are not runs of the message as they stand: the buffer is a copy of the
        // structure's bytes, the escaped strings unescaped where they stand, followed by the
        // strings copied whole.
        let Some(mut buf) = OwnBuf::new(&p.bytes()[self.start..end], &self.side) else {
            return Err(p.fail_at(self.start, "body structure smaller than 2 GiB"));
        };
        let mut fix = |s: &mut Span| {
            if s.len == u32::MAX {
            } else if s.off & SIDE != 0 {
                s.off = buf.side(s.off & !SIDE);
            } else if s.len & ESC != 0 {
                // no longer than the raw content, so below ESC
                s.len = buf.escaped(s.off, s.len & !ESC);
            }
        };
        for at in Node::parts(&self.slots, 0) {
            let mut n = Node::load(&self.slots, at);
            n.spans_mut().into_iter().for_each(&mut fix);
            for r in [n.params, n.dsp_params, n.langs] {
                let s = r.start as usize;
                if let Some(list) = self.slots.get_mut(s..s + r.len as usize) {
                    list.iter_mut().for_each(&mut fix);
                }
            }
            n.put(&mut self.slots, at);
        }
        let mut rare = rare;
        if let Some(r) = &mut rare {
            for e in &mut r.exts {
                if let Ext::Str(s) = e {
                    fix(s);
                }
            }
        }
        Ok(BodyStructure {
            buf: buf.into_bytes(),
            slots: into_slots(self.slots),
            rare,
        })
    }
}

/// A parsed structure's slots as the boxed slice it keeps, in the allocation they were parsed
/// into: the room left is filled with empty slots, which no node's runs reach (a
/// [`BodyStructure`] reads its slots from the root's subtree on), instead of shrinking the
/// allocation (`realloc` splitting a chunk, and the next allocation of its size class taking
/// the slow path, measured ~190 instructions per message on fetch-headers).
fn into_slots(mut v: Vec<Span>) -> Box<[Span]> {
    v.resize(v.capacity(), Span::EMPTY);
    v.into_boxed_slice()
}

/// `string`; lenient: `NIL` becomes `default` (with a warning).
#[inline(always)]
fn string_or_nil(p: &mut Parser<'_>, acc: &mut Acc, default: &'static [u8]) -> PResult<Span> {
    match p.peek() {
        Some(b'"') | Some(b'{') => {
            let at = p.string_at()?;
            acc.span(p, at)
        }
        _ => {
            let at = p.pos;
            if p.allows(Quirk::NilOrEmpty) && p.nil() {
                p.warn(Quirk::NilOrEmpty, at);
                return acc.side(p, default);
            }
            Err(p.fail("string"))
        }
    }
}

/// `nstring`.
#[inline]
fn nstring(p: &mut Parser<'_>, acc: &mut Acc) -> PResult<Span> {
    let at = p.nstring_at()?;
    acc.span(p, at)
}

/// The next `string` (lenient `NIL` as `default`, as [`string_or_nil`]), after one SP when
/// `sp`: the usual forms in one step ([`Parser::quick_string`]), the rest by
/// [`sp_string_general`].
#[inline(always)]
fn quick_string(
    p: &mut Parser<'_>,
    acc: &mut Acc,
    sp: bool,
    default: &'static [u8],
) -> PResult<Span> {
    match p.quick_string(acc.start, SIDE as usize, sp, true) {
        Some(s) => Ok(s),
        None => sp_string_general(p, acc, sp, default),
    }
}

/// [`quick_string`] for every input.
#[inline(never)]
fn sp_string_general(
    p: &mut Parser<'_>,
    acc: &mut Acc,
    sp: bool,
    default: &'static [u8],
) -> PResult<Span> {
    if sp {
        p.sp()?;
    }
    string_or_nil(p, acc, default)
}

/// The next `nstring`, after one SP when `sp`: the usual forms in one step
/// ([`Parser::quick_string`]), the rest by [`sp_nstring_general`].
#[inline(always)]
fn quick_nstring(p: &mut Parser<'_>, acc: &mut Acc, sp: bool) -> PResult<Span> {
    match p.quick_string(acc.start, SIDE as usize, sp, false) {
        Some(s) => Ok(s),
        None => sp_nstring_general(p, acc, sp),
    }
}

/// [`quick_nstring`] for every input.
#[inline(never)]
fn sp_nstring_general(p: &mut Parser<'_>, acc: &mut Acc, sp: bool) -> PResult<Span> {
    if sp {
        p.sp()?;
    }
    nstring(p, acc)
}

/// `body-fields` into `n`.
#[inline]
fn parse_fields(p: &mut Parser<'_>, acc: &mut Acc, n: &mut Node) -> PResult<()> {
    n.params = parse_params(p, acc)?;
    n.id = quick_nstring(p, acc, true)?;
    n.description = quick_nstring(p, acc, true)?;
    n.encoding = match p.quick_encoding(acc.start, SIDE as usize) {
        Some(s) => s,
        None => quick_string(p, acc, true, b"7BIT")?,
    };
    p.sp()?;
    n.octets = match p.quick_number() {
        // (seven digits at most: below `u32::MAX`)
        Some(v) => v as u32,
        None => p.number()?,
    };
    Ok(())
}

impl BodyStructure {
    /// Parses `body`. In the lenient profile a structure that does not parse is skipped as a
    /// balanced value and returned as [`BodyPart::Invalid`].
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        // a multipart: room for a typical message's parts and lists up front (128 slots,
        // 1 KiB: a larger first allocation measured dearer, past the allocator's small sizes)
        let multi = p.peek() == Some(b'(') && p.peek_at(1) == Some(b'(');
        let mut acc = Acc {
            start: p.pos,
            slots: Vec::with_capacity(if multi { 128 } else { NODE + 4 }),
            exts: Vec::new(),
            envelopes: Vec::new(),
            side: Vec::new(),
            escapes: false,
        };
        parse_into(p, &mut acc)?;
        acc.finish(p)
    }
}

/// [`BodyStructure::parse`], appending the parsed subtree to `acc.slots`.
fn parse_into(p: &mut Parser<'_>, acc: &mut Acc) -> PResult<()> {
    let start = p.pos;
    let wlen = p.warnings.len();
    if p.peek() != Some(b'(') && p.allows(Quirk::MalformedBodyStructure) && p.nil() {
        p.warn(Quirk::MalformedBodyStructure, start);
        let raw = acc.span_in(p, start, p.pos)?;
        let idx = acc.node();
        acc.close(
            idx,
            Node {
                media_type: raw,
                ..Node::EMPTY
            },
        );
        return Ok(());
    }
    let mark = acc.mark();
    let idx = acc.node();
    match nested(p, |p| body_inner(p, acc, idx)) {
        Ok(()) => {
            // (the node is in place: its subtree's size is all it lacks)
            let len = (acc.slots.len() - idx) as u32;
            if let Some(s) = acc.slots.get_mut(idx) {
                s.off = len;
            }
            Ok(())
        }
        Err(Fail)
            if p.bytes().get(start) == Some(&b'(') && p.allows(Quirk::MalformedBodyStructure) =>
        {
            // the warning is where the part's grammar failed; the part is kept raw
            let at = p.furthest_failure().max(start);
            p.pos = start;
            p.warnings.truncate(wlen);
            acc.reset(mark);
            skip_balanced(p)?;
            p.warn(Quirk::MalformedBodyStructure, at.min(p.pos));
            let raw = acc.span_in(p, start, p.pos)?;
            let idx = acc.node();
            acc.close(
                idx,
                Node {
                    media_type: raw,
                    ..Node::EMPTY
                },
            );
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The part at slot `idx` (a placeholder), its children appended after it.
fn body_inner(p: &mut Parser<'_>, acc: &mut Acc, idx: usize) -> PResult<()> {
    p.expect(b'(', "( body")?;
    if p.peek() == Some(b'(') {
        return multipart(p, acc, idx);
    }
    if !p.allows(Quirk::MalformedBodyStructure) {
        return onepart(p, acc, idx);
    }
    let mark = acc.mark();
    if p.opt(|p| onepart(p, acc, idx)).is_some() {
        return Ok(());
    }
    acc.reset(mark);
    // A multipart without children: `(NIL "subtype" ...)` or `("subtype" ...)`. The
    // warning is where the one-part reading failed.
    let at = p.furthest_failure().max(p.pos);
    let m = p.opt(|p| {
        if p.nil() {
            p.sp()?;
        }
        let at = p.string_at()?;
        let mut n = Node {
            tag: Tag::Multi,
            subtype: acc.span(p, at)?,
            ..Node::EMPTY
        };
        multipart_tail(p, acc, &mut n)?;
        n.put(&mut acc.slots, idx);
        Ok(())
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
fn multipart(p: &mut Parser<'_>, acc: &mut Acc, idx: usize) -> PResult<()> {
    let mut count = 0;
    loop {
        parse_into(p, acc)?;
        count += 1;
        p.check_items(count)?;
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
    let kids = acc.run(idx + NODE, acc.slots.len() - idx - NODE);
    let mut n = Node {
        tag: Tag::Multi,
        subtype: quick_string(p, acc, true, b"MIXED")?,
        kids,
        ..Node::EMPTY
    };
    multipart_tail(p, acc, &mut n)?;
    n.put(&mut acc.slots, idx);
    Ok(())
}

/// `[SP body-ext-mpart] ")"` into `n`.
fn multipart_tail(p: &mut Parser<'_>, acc: &mut Acc, n: &mut Node) -> PResult<()> {
    if more(p)? {
        n.ext = 1;
        n.params = parse_params(p, acc)?;
        if more(p)? {
            parse_dsp_ext(p, acc, n)?;
        }
    }
    p.expect(b')', ")")
}

fn eq_ci(s: &[u8], lit: &[u8]) -> bool {
    s.eq_ignore_ascii_case(lit)
}

/// Whether `w` starts with `"TEXT" ` (ASCII case-insensitive): the letters' case bit set,
/// the eighth byte masked off.
#[inline(always)]
fn is_text_sp(w: [u8; 8]) -> bool {
    let x = u64::from_le_bytes(w) | u64::from_le_bytes(*b"\0    \0\0\0");
    x & 0x00ff_ffff_ffff_ffff == u64::from_le_bytes(*b"\"text\" \0")
}

/// After the opening `(`: `body-type-1part ")"`, into slot `idx` (an encapsulated
/// message's structure appended after it).
fn onepart(p: &mut Parser<'_>, acc: &mut Acc, idx: usize) -> PResult<()> {
    let mut n = Node::EMPTY;
    // `"TEXT" `, the usual media type, is not kept (the SP after it makes it the whole
    // string in either profile)
    let text = p.rest().first_chunk::<8>().is_some_and(|w| is_text_sp(*w));
    let media_type = if text {
        p.pos += 6;
        Span::EMPTY
    } else {
        quick_string(p, acc, false, b"APPLICATION")?
    };
    let subtype = quick_string(p, acc, true, b"OCTET-STREAM")?;
    p.sp()?;
    parse_fields(p, acc, &mut n)?;
    let msg = p.bytes();
    // (the subtype is only looked at for a message part)
    let (mut is_text, mut is_message, mut rfc822, mut global) = (text, false, false, false);
    // (only a span of four or seven bytes can be `TEXT` or `MESSAGE`: an escaped string's
    // length is marked with `ESC`, and its content holds a backslash or a DQUOTE)
    if !text && (media_type.len == 4 || media_type.len == 7) {
        let mt = acc.bytes(msg, media_type);
        is_text = eq_ci(&mt, b"TEXT");
        is_message = eq_ci(&mt, b"MESSAGE");
        if is_message {
            let sub = acc.bytes(msg, subtype);
            (rfc822, global) = (eq_ci(&sub, b"RFC822"), eq_ci(&sub, b"GLOBAL"));
        }
    }
    if is_text {
        n.tag = Tag::Text;
        n.subtype = subtype;
        n.lines = lines(p)?;
    } else if is_message && (rfc822 || global) {
        let mark = acc.mark();
        let m = p.opt(|p| {
            p.sp()?;
            let envelope = Envelope::parse(p)?;
            p.sp()?;
            // (before the structure's own message parts, if any)
            acc.envelopes.push(envelope);
            parse_into(p, acc)?;
            lines(p)
        });
        match m {
            Some(l) => {
                n.tag = if rfc822 { Tag::Rfc822 } else { Tag::Global };
                n.env = mark.envelopes as u32;
                n.lines = l;
                // (the envelope takes no slots: the structure starts where the mark is)
                n.kids = acc.run(mark.slots, acc.slots.len() - mark.slots);
            }
            None if global => {
                acc.reset(mark);
                n.tag = Tag::Basic;
                n.media_type = media_type;
                n.subtype = subtype;
            }
            None => return Err(p.fail("SP envelope")),
        }
    } else {
        n.tag = Tag::Basic;
        n.media_type = media_type;
        n.subtype = subtype;
    }
    // (a string after one SP is what `more` takes first)
    let md5 = p.quick_string(acc.start, SIDE as usize, true, false);
    if md5.is_some() || more(p)? {
        n.ext = 1;
        n.md5 = match md5 {
            Some(s) => s,
            None => nstring(p, acc)?,
        };
        if more(p)? {
            parse_dsp_ext(p, acc, &mut n)?;
        }
    }
    p.expect(b')', ")")?;
    n.put(&mut acc.slots, idx);
    Ok(())
}

/// `SP body-fld-lines`; lenient: missing (→ 0).
fn lines(p: &mut Parser<'_>) -> PResult<u64> {
    let at = p.pos;
    if p.peek() == Some(b')') && p.tolerate(Quirk::MalformedBodyStructure, at) {
        return Ok(0);
    }
    p.sp()?;
    match p.quick_number() {
        Some(v) => Ok(v),
        None => p.number64(),
    }
}

// ------------------------------------------------------------------------------------------
// encoding

const PLACEHOLDER: &[u8] = b"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0)";

impl Encode for BodyStructure {
    fn encode(&self, buf: &mut EncodeBuf) {
        self.root().encode(buf);
    }
}

fn encode_params(v: Params<'_>, buf: &mut EncodeBuf) {
    if v.is_empty() {
        buf.raw(b"NIL");
        return;
    }
    buf.byte(b'(');
    for (i, (k, val)) in v.iter().enumerate() {
        if i > 0 {
            buf.sp_string(k);
        } else {
            buf.string(k);
        }
        buf.sp_string(val);
    }
    buf.byte(b')');
}

/// The disposition and what follows it (extension level 2 and up).
fn encode_dsp_ext(r: BodyRef<'_>, buf: &mut EncodeBuf) {
    match r.disposition() {
        None => buf.raw(b"NIL"),
        Some((kind, params)) => {
            buf.byte(b'(');
            buf.string(kind);
            buf.sp();
            encode_params(params, buf);
            buf.byte(b')');
        }
    }
    let n = r.node();
    if n.ext < 3 {
        return;
    }
    buf.sp();
    let langs = r.languages();
    match langs.len() {
        0 => buf.raw(b"NIL"),
        1 => buf.string(langs.get(0).unwrap_or_default()),
        _ => {
            buf.byte(b'(');
            for (i, l) in langs.iter().enumerate() {
                if i > 0 {
                    buf.sp();
                }
                buf.string(l);
            }
            buf.byte(b')');
        }
    }
    if n.ext < 4 {
        return;
    }
    buf.sp_nstring(r.location());
    for e in r.extensions() {
        buf.sp();
        e.encode(buf);
    }
}

impl Encode for BodyRef<'_> {
    fn encode(&self, buf: &mut EncodeBuf) {
        let r = *self;
        let n = r.node();
        match n.tag {
            Tag::Invalid => buf.raw(PLACEHOLDER),
            Tag::Multi => {
                buf.byte(b'(');
                let mut bodies = r.children();
                match bodies.next() {
                    None => buf.raw(PLACEHOLDER),
                    Some(first) => first.encode(buf),
                }
                for b in bodies {
                    b.encode(buf);
                }
                buf.sp_string(r.subtype());
                if n.ext >= 1 {
                    buf.sp();
                    encode_params(r.params(), buf);
                    if n.ext >= 2 {
                        buf.sp();
                        encode_dsp_ext(r, buf);
                    }
                }
                buf.byte(b')');
            }
            Tag::Text | Tag::Basic | Tag::Rfc822 | Tag::Global => {
                buf.byte(b'(');
                match n.tag {
                    Tag::Basic => {
                        buf.string(r.media_type());
                        buf.sp_string(r.subtype());
                    }
                    Tag::Text => {
                        buf.raw(b"\"TEXT\"");
                        buf.sp_string(r.subtype());
                    }
                    Tag::Rfc822 => buf.raw(b"\"MESSAGE\" \"RFC822\""),
                    _ => buf.raw(b"\"MESSAGE\" \"GLOBAL\""),
                }
                buf.sp();
                encode_params(r.params(), buf);
                buf.sp_nstring(r.id());
                buf.sp_nstring(r.description());
                buf.sp_string(r.encoding());
                buf.sp();
                buf.num(n.octets);
                if matches!(n.tag, Tag::Rfc822 | Tag::Global) {
                    buf.sp();
                    match r.envelope() {
                        Some(e) => e.encode(buf),
                        None => Envelope::default().encode(buf),
                    }
                    buf.sp();
                    match r.message_body() {
                        Some(b) => b.encode(buf),
                        None => buf.raw(PLACEHOLDER),
                    }
                }
                if n.tag != Tag::Basic {
                    buf.sp();
                    buf.num(n.lines);
                }
                if n.ext >= 1 {
                    buf.sp_nstring(r.md5());
                    if n.ext >= 2 {
                        buf.sp();
                        encode_dsp_ext(r, buf);
                    }
                }
                buf.byte(b')');
            }
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

/// The encapsulated message's structure of a `MESSAGE/RFC822` part.
#[cfg(feature = "arbitrary")]
pub(crate) fn inner_body(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<BodyStructure> {
    crate::arbitrary_util::nested(
        u,
        || {
            BodyStructure::invalid(Bytes::new())
                .unwrap_or_else(|_| BodyStructure::of_node(Bytes::new(), Node::EMPTY))
        },
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
                    .unwrap()
                })
                .boxed(),
            (istring(), 0u64..=i64::MAX as u64, fields(), single_ext())
                .prop_map(|(subtype, lines, fields, extension)| {
                    BodyStructure::single(SinglePart {
                        kind: SinglePartKind::Text { subtype, lines },
                        fields,
                        extension,
                    })
                    .unwrap()
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
                    )
                    .unwrap())
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
                        .unwrap()
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

    #[test]
    fn rfc3501_example() {
        let s = br#"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) "MIXED")"#;
        let b = strict_ok(s);
        let BodyPart::Multi(m) = &b.to_part() else {
            panic!()
        };
        assert_eq!(b.children().count(), 2);
        assert_eq!(m.subtype.as_bytes(), b"MIXED");
        assert!(m.extension.is_none());
        let BodyPart::Single(SinglePart {
            kind: SinglePartKind::Text { lines, .. },
            fields,
            ..
        }) = &b.root().child(1).unwrap().to_part()
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
        }) = &b.to_part()
        else {
            panic!()
        };
        assert_eq!(*lines, 12);
        assert!(matches!(body.to_part(), BodyPart::Single(_)));
        let lang = ext.disposition.as_ref().unwrap().language.as_ref().unwrap();
        assert_eq!(lang.language.len(), 2);
        assert_eq!(lang.location.as_ref().unwrap().extensions.len(), 2);
    }

    #[test]
    fn quirk_nil_encoding_icloud() {
        let s = br#"((("text" "plain" ("CHARSET" "UTF-8") NIL NIL NIL 1423 44 NIL NIL NIL NIL)("text" "html" ("CHARSET" "UTF-8") NIL NIL "quoted-printable" 2524 34 NIL NIL NIL NIL) "alternative" ("BOUNDARY" "000000000000ccac3a05a5ef76c3") NIL NIL NIL)("text" "plain" ("CHARSET" "us-ascii") NIL NIL "7bit" 151 4 NIL NIL NIL NIL) "mixed" ("BOUNDARY" "===============5781602957316160403==") NIL NIL NIL)"#;
        let (b, w) = lenient_only(s);
        assert_eq!(w, vec![Quirk::NilOrEmpty]);
        assert!(matches!(b.to_part(), BodyPart::Multi(_)));
        let alt = b.root().child(0).unwrap();
        assert!(matches!(alt.to_part(), BodyPart::Multi(_)));
        let BodyPart::Single(t) = &alt.child(0).unwrap().to_part() else {
            panic!()
        };
        assert_eq!(t.fields.encoding.as_bytes(), b"7BIT");
    }

    #[test]
    fn quirk_empty_params_and_nil_boundary_mailru() {
        let s = br#"(("text" "html" ("charset" "cp1251") NIL NIL "base64" 84056 0 NIL ("inline" NIL) NIL NIL)("image" "gif" () "25b2b55b5d97f04e9ea939fe32a46a65.gif" NIL "base64" 20776 NIL ("inline" NIL) NIL NIL) "related" ("boundary" NIL))"#;
        let (b, w) = lenient_only(s);
        assert_eq!(w.len(), 2);
        let BodyPart::Multi(m) = &b.to_part() else {
            panic!()
        };
        let ext = m.extension.as_ref().unwrap();
        assert_eq!(ext.params[0].1.as_bytes(), b"");
        assert!(matches!(
            b.root().child(1).unwrap().to_part(),
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
        let BodyPart::Single(sp) = &b.to_part() else {
            panic!()
        };
        assert_eq!(sp.fields.params[0].1.as_bytes(), b"G\xf6r\xfcnt\xfc1");
    }

    #[test]
    fn quirk_mpart_nil_children() {
        let s = br#"(NIL "alternative" ("boundary" "Apple-Mail=_352FCEEC-EB15-428F-9D8B-D3B4259DD646") NIL NIL NIL)"#;
        let (b, _) = lenient_only(s);
        let BodyPart::Multi(m) = &b.to_part() else {
            panic!()
        };
        assert!(b.children().next().is_none());
        assert_eq!(m.subtype.as_bytes(), b"alternative");
    }

    #[test]
    fn quirk_gmail_pseudo_part() {
        let s = br#"("RELATED" NIL ("ATTACHMENT" NIL) NIL)"#;
        let (b, _) = lenient_only(s);
        let BodyPart::Multi(m) = &b.to_part() else {
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
        let BodyPart::Single(sp) = &b.to_part() else {
            panic!()
        };
        assert_eq!(sp.fields.octets, 0);
        let (b, _) = lenient_only(
            br#"("text" "html" ("charset" "utf-8") NIL NIL "base64" 9.3736e+06 0 NIL NIL NIL NIL)"#,
        );
        let BodyPart::Single(sp) = &b.to_part() else {
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
        }) = &b.to_part()
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
        assert!(matches!(b.to_part(), BodyPart::Multi(_)));
        let BodyPart::Single(sp) = &b.root().child(1).unwrap().to_part() else {
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
        assert!(matches!(b.to_part(), BodyPart::Multi(_)));
        let BodyPart::Invalid(raw) = &b.root().child(1).unwrap().to_part() else {
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
        assert_eq!(
            b,
            BodyStructure::invalid(Bytes::from_static(b"NIL")).unwrap()
        );
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
            .unwrap()
        };
        let multi = |sub: &str, kids: Vec<BodyStructure>| {
            BodyStructure::multi(
                MultiPart {
                    subtype: IString::try_from(sub).unwrap(),
                    extension: None,
                },
                kids,
            )
            .unwrap()
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
        })
        .unwrap();
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

    fn is(s: &str) -> IString {
        IString::try_from(s).unwrap()
    }

    /// Whether the structure's buffer is a slice of `msg` (no copy made).
    fn shares(b: &BodyStructure, msg: &[u8]) -> bool {
        let r = msg.as_ptr() as usize..msg.as_ptr() as usize + msg.len();
        r.contains(&(b.buf.as_ptr() as usize))
    }

    /// Parses `s` (one structure, nothing after it) and also gives the message it was read
    /// from.
    fn parse_in(s: &[u8], o: &DecodeOptions) -> (Bytes, BodyStructure) {
        let msg = Bytes::copy_from_slice(s);
        let mut p = Parser::new(&msg, o);
        let b = BodyStructure::parse(&mut p).unwrap();
        assert!(p.at_end());
        (msg, b)
    }

    /// Every kind of string a structure holds, in every form the grammar allows (escaped
    /// quoted strings, literals, empty strings, NIL), in every field: the accessors give the
    /// values, the structure equals the one built from owned values, encoding round-trips,
    /// and the copies (escaped strings, literals are runs) sit after the structure's bytes.
    #[test]
    fn strings_of_every_form() {
        let s = b"(\"APPLICATION\" \"X\\\"Y\" (\"N\\\\AME\" {3}\r\nv\"1 \"\" \"e\") \"<id>\" {0}\r\n \"BASE64\" 10 \"md\\\"5\" (\"ATTACH\\\\MENT\" (\"FILE\" \"a\\\"b\")) (\"en\" {2}\r\nde) \"loc\\\"x\" \"e\\\"1\" 5 NIL ({1}\r\nz (7)))";
        let (msg, b) = parse_in(s, &DecodeOptions::strict());
        let r = b.root();
        assert_eq!(r.kind(), PartKind::Basic);
        assert_eq!(r.media_type(), b"APPLICATION");
        assert_eq!(r.subtype(), b"X\"Y");
        let params: Vec<_> = r.params().iter().collect();
        assert_eq!(
            params,
            [(&b"N\\AME"[..], &b"v\"1"[..]), (&b""[..], &b"e"[..])]
        );
        assert_eq!(r.params().value_of(b"n\\ame"), Some(&b"v\"1"[..]));
        assert_eq!(r.id(), Some(&b"<id>"[..]));
        assert_eq!(r.description(), Some(&b""[..]));
        assert_eq!(r.encoding(), b"BASE64");
        assert_eq!(r.octets(), 10);
        assert_eq!(r.lines(), None);
        assert_eq!(r.extension_fields(), 4);
        assert_eq!(r.md5(), Some(&b"md\"5"[..]));
        let (kind, dp) = r.disposition().unwrap();
        assert_eq!(kind, b"ATTACH\\MENT");
        assert_eq!(dp.get(0), Some((&b"FILE"[..], &b"a\"b"[..])));
        assert_eq!(r.languages().iter().collect::<Vec<_>>(), [b"en", b"de"]);
        assert_eq!(r.location(), Some(&b"loc\"x"[..]));
        let nstr = |v: &str| BodyExtension::NString(Some(is(v)));
        let exts = vec![
            nstr("e\"1"),
            BodyExtension::Number(5),
            BodyExtension::NString(None),
            BodyExtension::List(vec![
                nstr("z"),
                BodyExtension::List(vec![BodyExtension::Number(7)]),
            ]),
        ];
        assert_eq!(r.extensions(), exts);
        let want = BodyStructure::single(SinglePart {
            kind: SinglePartKind::Basic(MediaType::new(is("APPLICATION"), is("X\"Y")).unwrap()),
            fields: BodyFields {
                params: vec![(is("N\\AME"), is("v\"1")), (is(""), is("e"))].into(),
                id: Some(is("<id>")),
                description: Some(is("")),
                encoding: is("BASE64"),
                octets: 10,
            },
            extension: Some(SinglePartExtension {
                md5: Some(is("md\"5")),
                disposition: Some(DispositionExt {
                    disposition: Some(Disposition {
                        kind: is("ATTACH\\MENT"),
                        params: vec![(is("FILE"), is("a\"b"))].into(),
                    }),
                    language: Some(LanguageExt {
                        language: vec![is("en"), is("de")].into(),
                        location: Some(LocationExt {
                            location: Some(is("loc\"x")),
                            extensions: exts,
                        }),
                    }),
                }),
            }),
        })
        .unwrap();
        assert_eq!(b, want);
        assert_eq!(b.to_part(), want.to_part());
        assert_eq!(format!("{b:?}"), format!("{want:?}"));
        // the buffer is a copy of the structure's bytes in which the escaped strings are
        // unescaped where they stand (nothing after them); the rest are runs of it
        assert!(!shares(&b, &msg));
        assert_eq!(b.buf.len(), s.len());
        let n = b.root().node();
        let raw_subtype = s.windows(4).position(|w| w == b"X\\\"Y").unwrap();
        assert_eq!(n.subtype.off as usize, raw_subtype);
        assert_eq!(&b.buf[..raw_subtype], &s[..raw_subtype]);
        assert_eq!(&b.buf[n.id.off as usize..][..4], b"<id>");
        assert_eq!(&s[n.id.off as usize..][..4], b"<id>");
        // the literals `v"1` and `de` are runs of the message
        assert!((b.slots[n.params.start as usize + 1].off as usize) < s.len());
        // encoding gives a structure equal to it
        let again = b.to_vec_inline_literals();
        assert_eq!(strict_ok(&again), b);
    }

    /// A structure whose strings are all runs of the message holds a slice of it and no
    /// copy; the strings are where the message has them.
    #[test]
    fn plain_structure_shares_the_message() {
        let s = br#"(("TEXT" "PLAIN" ("CHARSET" "UTF-8" "FORMAT" "flowed") NIL NIL "QUOTED-PRINTABLE" 1 1 NIL NIL NIL NIL)("image" "png" ("name" "a b.png") "<p1@x>" "Shot" "base64" 5 NIL ("attachment" ("filename" "a b.png")) ("en" "fr") "https://x/a") "mixed" ("boundary" "b1_x") NIL "en")"#;
        let (msg, b) = parse_in(s, &DecodeOptions::strict());
        assert!(shares(&b, &msg));
        assert_eq!(b.buf.len(), s.len());
        assert!(b.rare.is_none());
        let img = b.root().child(1).unwrap();
        assert_eq!(img.media_type(), b"image");
        let name = img.params().get(0).unwrap().1;
        let at = name.as_ptr() as usize - msg.as_ptr() as usize;
        assert_eq!(&s[at..at + name.len()], b"a b.png");
        assert_eq!(b.root().languages().get(0), Some(&b"en"[..]));
        assert_eq!(b.root().extension_fields(), 3);
        assert_eq!(b.root().disposition(), None);
        assert_eq!(b.root().params().value_of(b"BOUNDARY"), Some(&b"b1_x"[..]));
        assert_eq!(b.to_vec_inline_literals(), s.to_vec());
    }

    /// The lenient profile's stand-ins (NIL encoding, media type, subtype and parameter
    /// values, a NUL dropped from a literal) are strings the message does not hold: they are
    /// copies, equal to what the owned form says.
    #[test]
    fn lenient_stand_ins_are_copies() {
        let s = b"(NIL NIL (\"a\" NIL) NIL {4}\r\nd\0sc NIL 3 NIL NIL NIL NIL)";
        let o = DecodeOptions::lenient();
        let (msg, b) = parse_in(s, &o);
        assert!(!shares(&b, &msg));
        let r = b.root();
        assert_eq!(r.kind(), PartKind::Basic);
        assert_eq!(
            (r.media_type(), r.subtype()),
            (&b"APPLICATION"[..], &b"OCTET-STREAM"[..])
        );
        assert_eq!(r.params().get(0), Some((&b"a"[..], &b""[..])));
        assert_eq!(r.description(), Some(&b"dsc"[..]));
        assert_eq!(r.encoding(), b"7BIT");
        let BodyPart::Single(sp) = b.to_part() else {
            panic!()
        };
        assert_eq!(sp.fields.encoding.as_bytes(), b"7BIT");
        assert_eq!(BodyStructure::single(sp).unwrap(), b);
        // a NIL multipart subtype
        let (_, b) = parse_in(br#"(("TEXT" "PLAIN" NIL NIL NIL "7BIT" 1 1) NIL)"#, &o);
        assert_eq!(b.root().subtype(), b"MIXED");
    }

    /// A part the lenient profile keeps raw leaves nothing of its failed reading behind: the
    /// parts after it have their own parameters and extension data.
    #[test]
    fn raw_part_leaves_no_lists_behind() {
        let s = br#"(("text" "plain" ("a" "b") NIL NIL "7bit" 1 1)("x" "y" ("c" "d") NIL NIL "7bit" 1 NIL ("i" ("j" "k")) "en" NIL "e" bad)("text" "html" ("e" "f") NIL NIL "7bit" 1 1 NIL ("inline" ("g" "h")) ("de" "fr") NIL ("l" 2)) "mixed")"#;
        let (b, w) = lenient_only(s);
        assert!(w.contains(&Quirk::MalformedBodyStructure));
        let kids: Vec<_> = b.children().collect();
        assert_eq!(kids[1].kind(), PartKind::Invalid);
        assert!(kids[1].raw().unwrap().starts_with(b"(\"x\""));
        let h = kids[2];
        assert_eq!(
            h.params().iter().collect::<Vec<_>>(),
            [(&b"e"[..], &b"f"[..])]
        );
        let (kind, dp) = h.disposition().unwrap();
        assert_eq!(
            (kind, dp.get(0)),
            (&b"inline"[..], Some((&b"g"[..], &b"h"[..])))
        );
        assert_eq!(h.languages().iter().collect::<Vec<_>>(), [b"de", b"fr"]);
        assert_eq!(
            h.extensions(),
            [BodyExtension::List(vec![
                BodyExtension::NString(Some(is("l"))),
                BodyExtension::Number(2)
            ])]
        );
        assert_eq!(b.rare.as_ref().unwrap().exts.len(), 3);
        // the lists of the parts kept, none of the raw one's
        assert_eq!(
            b.root().node().len as usize - NODE * b.parts().len(),
            2 + 2 + 2 + 2
        );
    }

    /// Message parts inside multiparts inside message parts: each has its own envelope and
    /// structure; a message part has no children (its structure is
    /// [`BodyRef::message_body`]); subtrees copy out whole.
    #[test]
    fn nested_message_parts() {
        let env = |subj: &str| format!("(NIL \"{subj}\" NIL NIL NIL NIL NIL NIL NIL NIL)");
        let s = format!(
            "((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 9 {} ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 2 1)(\"MESSAGE\" \"GLOBAL\" NIL NIL NIL \"8BIT\" 3 {} (\"TEXT\" \"HTML\" NIL NIL NIL \"7BIT\" 4 1) 5) \"MIXED\") 6) \"MIXED\")",
            env("outer"),
            env("inner")
        );
        let b = strict_ok(s.as_bytes());
        assert_eq!(b.parts().len(), 7);
        let outer = b.root().child(1).unwrap();
        assert_eq!(outer.kind(), PartKind::Message(MessageSubtype::Rfc822));
        assert_eq!(outer.subtype(), b"RFC822");
        assert_eq!(outer.envelope().unwrap().subject(), Some(&b"outer"[..]));
        assert_eq!(outer.lines(), Some(6));
        assert!(outer.children().next().is_none());
        let inner_mixed = outer.message_body().unwrap();
        assert_eq!(inner_mixed.kind(), PartKind::Multi);
        let inner = inner_mixed.child(1).unwrap();
        assert_eq!(inner.kind(), PartKind::Message(MessageSubtype::Global));
        assert_eq!(inner.envelope().unwrap().subject(), Some(&b"inner"[..]));
        assert_eq!(inner.message_body().unwrap().subtype(), b"HTML");
        assert!(b.root().child(2).is_none());
        let copy = outer.to_structure();
        assert_eq!(
            copy.root()
                .message_body()
                .unwrap()
                .child(1)
                .unwrap()
                .lines(),
            Some(5)
        );
        // the owned form of the outer message part holds its structure; built again from
        // it, the part is the same
        let BodyPart::Single(sp) = outer.to_part() else {
            panic!()
        };
        assert_eq!(BodyStructure::single(sp).unwrap(), copy);
        assert_eq!(b.to_vec_inline_literals(), s.as_bytes().to_vec());
    }

    /// Nesting is bounded in body extensions and in message parts as in multiparts.
    #[test]
    fn deep_extensions_and_messages_are_bounded() {
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            let mut s = b"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL ".to_vec();
            s.extend_from_slice(&[b'('; 10_000]);
            s.push(b'1');
            s.extend_from_slice(&[b')'; 10_001]);
            assert!(parse(&s, &o).is_err());
            let part = "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 0 NIL ";
            let mut s = part.repeat(5_000).into_bytes();
            s.extend_from_slice(b"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0)");
            s.extend_from_slice(&b" 0)".repeat(5_000));
            assert!(parse(&s, &o).is_err());
        }
    }

    /// `Debug` of the structure in `debug_as_before`, as printed by main 9273370 (the
    /// strings in `IString` fields).
    const DEBUG_BEFORE: &str = r#"Multi { bodies: [Single(SinglePart { kind: Text { subtype: IString("PLAIN"), lines: 1 }, fields: BodyFields { params: [(IString("CHARSET"), IString("UTF-8"))], id: None, description: None, encoding: IString("7BIT"), octets: 1 }, extension: None }), Single(SinglePart { kind: Basic(MediaType { media_type: IString("IMAGE"), subtype: IString("PNG") }), fields: BodyFields { params: [], id: Some(IString("<i>")), description: None, encoding: IString("BASE64"), octets: 3 }, extension: Some(SinglePartExtension { md5: None, disposition: Some(DispositionExt { disposition: Some(Disposition { kind: IString("INLINE"), params: [] }), language: Some(LanguageExt { language: [IString("en")], location: Some(LocationExt { location: None, extensions: [List([Number(1), NString(Some(IString("x")))])] }) }) }) }) })], subtype: IString("MIXED"), extension: Some(MultiPartExtension { params: [(IString("BOUNDARY"), IString("b"))], disposition: Some(DispositionExt { disposition: None, language: Some(LanguageExt { language: [], location: None }) }) }) }"#;

    /// `onepart`'s test for `"TEXT" ` in one word is the case-insensitive comparison of the
    /// first seven bytes, for every byte at every place; and a media type read the general
    /// way (a literal, mixed case, an escape) is told apart as before, `TEXT` and `MESSAGE`
    /// by their length first.
    #[test]
    fn text_media_type_word_matches_general() {
        for base in [*b"\"TEXT\" \"", *b"\"text\" \"", *b"\"tExT\" x"] {
            for i in 0..8 {
                for c in 0..=255u8 {
                    let mut w = base;
                    w[i] = c;
                    assert_eq!(
                        is_text_sp(w),
                        w[..7].eq_ignore_ascii_case(b"\"TEXT\" "),
                        "{w:?}"
                    );
                }
            }
        }
        let kind = |s: &[u8]| strict_ok(s).root().kind();
        for (s, k) in [
            (&b"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 2)"[..], PartKind::Text),
            (b"({4}\r\nText \"PLAIN\" NIL NIL NIL \"7BIT\" 1 2)", PartKind::Text),
            (b"(\"TE\\\\XT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1)", PartKind::Basic),
            (b"(\"TEXTS\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1)", PartKind::Basic),
            (b"(\"TEX\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1)", PartKind::Basic),
            (b"(\"message\" \"global\" NIL NIL NIL \"7BIT\" 1)", PartKind::Basic),
            (
                b"(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 1 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 2) 3)",
                PartKind::Message(MessageSubtype::Rfc822),
            ),
        ] {
            assert_eq!(kind(s), k, "{}", String::from_utf8_lossy(s));
        }
    }

    /// A structure is its buffer, one `Vec` of slots and the pointer to its rare part.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn structure_is_small() {
        assert_eq!(std::mem::size_of::<BodyStructure>(), 56);
        assert_eq!(
            std::mem::size_of::<Node>(),
            NODE * std::mem::size_of::<Span>()
        );
    }

    /// A parsed structure keeps the room its slots were parsed into ([`into_slots`]): the
    /// slots after the root's subtree are unused, and the structure is equal to, and encodes
    /// as, its exactly sized copy.
    #[test]
    fn parsed_slots_keep_their_room() {
        let s = b"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 1 1)(\"IMAGE\" \"PNG\" NIL NIL NIL \"BASE64\" 3) \"MIXED\")";
        let b = strict_ok(s);
        let used = b.root().node().len as usize;
        assert_eq!(b.slots.len(), 128);
        assert!(used < b.slots.len());
        assert!(b.slots[used..].iter().all(|&x| x == Span::EMPTY));
        let exact = b.root().to_structure();
        assert_eq!(exact.slots.len(), used);
        assert_eq!(exact, b);
        assert_eq!(exact.to_vec_inline_literals(), b.to_vec_inline_literals());
        assert_eq!(b.to_vec_inline_literals(), s.to_vec());
    }

    /// The placeholder slots are the empty node stored, and a node reads back as it was
    /// stored, wherever it is (its runs into the slots are kept relative to it).
    #[test]
    fn empty_slots_are_the_empty_node() {
        assert_eq!(EMPTY_SLOTS, Node::EMPTY.store(0));
        assert_eq!(EMPTY_SLOTS, Node::EMPTY.store(1234));
        let n = Node {
            len: 40,
            tag: Tag::Rfc822,
            ext: 4,
            octets: 7,
            media_type: Span { off: 1, len: 2 },
            subtype: Span { off: 3, len: 4 },
            id: Span::NIL,
            description: Span { off: 5, len: 0 },
            encoding: Span { off: 6, len: 1 },
            md5: Span { off: 9, len: 9 },
            dsp: Span { off: 10, len: 3 },
            loc: Span::NIL,
            params: Run { start: 116, len: 4 },
            dsp_params: Run { start: 120, len: 2 },
            langs: Run { start: 122, len: 1 },
            exts: Run { start: 3, len: 5 },
            lines: u64::MAX - 5,
            env: 2,
            kids: Run {
                start: 123,
                len: 17,
            },
        };
        for at in [0, 100, 5000] {
            let mut slots = vec![Span::EMPTY; at + NODE];
            let mut m = n;
            let shift = |r: Run| Run {
                start: r.start + at as u32,
                ..r
            };
            (m.params, m.dsp_params, m.langs, m.kids) = (
                shift(n.params),
                shift(n.dsp_params),
                shift(n.langs),
                shift(n.kids),
            );
            m.put(&mut slots, at);
            let back = Node::load(&slots, at);
            assert_eq!(format!("{back:?}"), format!("{m:?}"));
            // stored relative: the same slots wherever it is
            assert_eq!(slots[at..], n.store(0));
        }
        // empty runs are stored as nothing
        assert_eq!(Node::EMPTY.store(77)[10..15], [Span::EMPTY; 5]);
        // out of range reads as the empty node
        assert_eq!(Node::load(&[], 0).store(0), EMPTY_SLOTS);
    }

    /// Every subtree copied out as a structure of its own (slots copied as they are, runs
    /// relative) and rebuilt from owned values equals the subtree it came from.
    #[test]
    fn subtrees_copy_out_whole() {
        let env = "(NIL \"s\" NIL NIL NIL NIL NIL NIL NIL NIL)";
        let s = format!(
            "((\"TEXT\" \"PLAIN\" (\"A\" \"1\") NIL NIL \"7BIT\" 1 1 NIL (\"inline\" (\"f\" \"g\")) (\"en\" \"de\") NIL)(\"MESSAGE\" \"RFC822\" (\"B\" \"2\") NIL NIL \"7BIT\" 9 {env} ((\"TEXT\" \"PLAIN\" (\"C\" \"3\") NIL NIL \"7BIT\" 2 1)(\"IMAGE\" \"PNG\" NIL NIL NIL \"BASE64\" 4) \"MIXED\" (\"boundary\" \"x\")) 6 NIL (\"attachment\" (\"filename\" \"m.eml\")) \"fr\" NIL) \"MIXED\" (\"boundary\" \"y\") NIL \"en\")"
        );
        let b = strict_ok(s.as_bytes());
        assert_eq!(b.parts().len(), 6);
        let kinds: Vec<_> = b.parts().map(|r| r.kind()).collect();
        assert_eq!(
            kinds,
            [
                PartKind::Multi,
                PartKind::Text,
                PartKind::Message(MessageSubtype::Rfc822),
                PartKind::Multi,
                PartKind::Text,
                PartKind::Basic
            ]
        );
        for r in b.parts() {
            let sub = r.to_structure();
            assert_eq!(sub.root().to_part(), r.to_part());
            assert_eq!(format!("{:?}", sub.root()), format!("{r:?}"));
            assert_eq!(sub.parts().len(), r.to_structure().parts().len());
            // rebuilt from owned values: the same by content
            let rebuilt = match r.to_part() {
                BodyPart::Single(sp) => BodyStructure::single(sp).unwrap(),
                BodyPart::Multi(m) => {
                    BodyStructure::multi(m, r.children().map(BodyRef::to_structure)).unwrap()
                }
                BodyPart::Invalid(raw) => BodyStructure::invalid(raw).unwrap(),
            };
            assert_eq!(rebuilt, sub);
        }
        let m = b.root().child(1).unwrap();
        let inner = m.message_body().unwrap();
        assert_eq!(inner.children().count(), 2);
        assert_eq!(inner.params().value_of(b"BOUNDARY"), Some(&b"x"[..]));
        assert_eq!(m.params().value_of(b"b"), Some(&b"2"[..]));
        assert_eq!(m.languages().iter().collect::<Vec<_>>(), [b"fr"]);
        assert_eq!(b.root().params().value_of(b"boundary"), Some(&b"y"[..]));
        assert_eq!(
            b.root().child(0).unwrap().disposition().unwrap().1.get(0),
            Some((&b"f"[..], &b"g"[..]))
        );
    }

    /// What `Debug` prints (and `dissect` shows) is what it printed when the strings were
    /// `IString` fields.
    #[test]
    fn debug_as_before() {
        let b = strict_ok(br#"(("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "7BIT" 1 1)("IMAGE" "PNG" NIL "<i>" NIL "BASE64" 3 NIL ("INLINE" NIL) "en" NIL (1 "x")) "MIXED" ("BOUNDARY" "b") NIL NIL)"#);
        assert_eq!(format!("{b:?}"), DEBUG_BEFORE);
    }

    /// Rebuilt from its owned parts ([`BodyRef::to_part`], [`BodyStructure::single`],
    /// [`BodyStructure::multi`]), a structure is equal to itself and encodes the same.
    fn rebuild(r: BodyRef<'_>) -> BodyStructure {
        match r.to_part() {
            BodyPart::Single(sp) => BodyStructure::single(sp).unwrap(),
            BodyPart::Multi(m) => BodyStructure::multi(m, r.children().map(rebuild)).unwrap(),
            BodyPart::Invalid(raw) => BodyStructure::invalid(raw).unwrap(),
        }
    }

    proptest! {
        #[test]
        fn owned_form_round_trips(b in strategies::body_structure()) {
            let again = rebuild(b.root());
            prop_assert_eq!(&again, &b);
            prop_assert_eq!(again.to_vec_inline_literals(), b.to_vec_inline_literals());
            prop_assert_eq!(format!("{again:?}"), format!("{b:?}"));
            let bytes = b.to_bytes_inline_literals();
            let o = DecodeOptions::strict();
            let mut p = Parser::new(&bytes, &o);
            let d = BodyStructure::parse(&mut p).unwrap();
            prop_assert_eq!(rebuild(d.root()), b);
        }
    }
}
