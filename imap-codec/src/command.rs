//! Client commands (RFC 9051 §6, §9 `command`; RFC 3501 §6 for the IMAP4rev1 commands LSUB,
//! CHECK and SEARCH CHARSET), the AUTHENTICATE continuation line (RFC 9051 §6.2.2) and the
//! IDLE `DONE` line (RFC 9051 §6.3.13), with the generic extension grammar of RFC 4466 and
//! the command extensions real clients send: SASL-IR (RFC 4959), CONDSTORE/QRESYNC
//! (RFC 7162), SPECIAL-USE (RFC 6154), LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
//! LIST-MYRIGHTS (RFC 8440), LIST-METADATA (RFC 9590), BINARY (RFC 3516), MULTIAPPEND
//! (RFC 3502), CATENATE (RFC 4469), UTF8=ACCEPT (RFC 6855), ESEARCH (RFC 4731), CONTEXT
//! (RFC 5267), PARTIAL (RFC 9394), ID (RFC 2971), QUOTA (RFC 9208), ACL (RFC 4314),
//! METADATA (RFC 5464), NOTIFY (RFC 5465), SORT/THREAD (RFC 5256), MULTISEARCH (RFC 7377),
//! REPLACE (RFC 8508), UNAUTHENTICATE (RFC 8437), COMPRESS (RFC 4978), URLAUTH (RFC 4467),
//! and Gmail's XLIST and X-GM-LABELS.
//!
//! Unknown command names decode to [`CommandBody::Other`] with their raw arguments; a known
//! name with arguments that do not follow its grammar is a decode error. Hand-built values
//! can be checked with [`CommandBody::validate`] before encoding.
//!
//! ```
//! use bytes::Bytes;
//! use imapwire_codec::DecodeOptions;
//! use imapwire_codec::codec::Message;
//! use imapwire_codec::command::{Command, CommandBody};
//!
//! let msg = Bytes::from_static(b"a1 LOGIN alice {6}\r\nsecret\r\n");
//! let cmd = Command::decode(&msg, &DecodeOptions::strict()).unwrap().message;
//! assert!(matches!(cmd.body(), CommandBody::Login { .. }));
//! assert!(!format!("{cmd:?}").contains("secret"));
//! ```

use std::num::NonZeroU32;

use bytes::Bytes;

use crate::capability::Capability;
use crate::core::{AString, Atom, Charset, IString, NString, Secret, Tag};
use crate::datetime::DateTime;
use crate::encode::{Encode, EncodeBuf, LiteralMode};
use crate::error::ValidationError;
use crate::fetch::FetchItems;
use crate::flag::{Flag, MailboxAttribute, parse_flag_list};
use crate::mailbox::{ListMailbox, Mailbox};
use crate::options::Quirk;
use crate::parse::{Fail, PResult, Parser, class};
use crate::search::{PartialRange, SearchKey, SearchReturnOption, SortCriterion, ThreadAlgorithm};
use crate::sequence::{SequenceSet, UidValidity};
use crate::status::StatusAttribute;

// ---------------------------------------------------------------------------------------
// Generic extension values (RFC 4466 §2.1, RFC 9051 §9 `tagged-ext-*`)
// ---------------------------------------------------------------------------------------

/// `tagged-ext-val`: the value of an extension parameter (select, fetch, store, search
/// return, append, create, scope options).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaggedExtVal {
    /// A `number` / `number64` (63-bit).
    Number(u64),
    /// A `sequence-set` that is not a plain number (a plain number decodes as
    /// [`TaggedExtVal::Number`]).
    SequenceSet(SequenceSet),
    /// `"(" [tagged-ext-comp] ")"`: the items of the compound value (possibly none).
    Comp(
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_impls::comps))]
        Vec<TaggedExtComp>,
    ),
}

/// One element of a `tagged-ext-comp`: an `astring` or a parenthesised non-empty list.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaggedExtComp {
    /// An astring.
    AString(AString),
    /// `"(" tagged-ext-comp ")"`: a nested non-empty list.
    List(
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_impls::comps))]
        Vec<TaggedExtComp>,
    ),
}

impl TaggedExtVal {
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.eat(b'(') {
            return parse_comps(p, true).map(TaggedExtVal::Comp);
        }
        let number = p.opt(|p| {
            let n = p.number64()?;
            if matches!(p.peek(), None | Some(b' ' | b')' | b'\r' | b'\n')) {
                Ok(n)
            } else {
                Err(Fail)
            }
        });
        match number {
            Some(n) => Ok(TaggedExtVal::Number(n)),
            None => SequenceSet::parse(p).map(TaggedExtVal::SequenceSet),
        }
    }

    /// `[SP tagged-ext-val]` after an extension name: a value follows only if the next token
    /// can start one (digit, `*`, `$` or `(`).
    pub(crate) fn parse_opt_param(p: &mut Parser<'_>) -> PResult<Option<Self>> {
        if p.peek() == Some(b' ') && matches!(p.peek_at(1), Some(b'0'..=b'9' | b'*' | b'$' | b'('))
        {
            p.sp()?;
            return Self::parse(p).map(Some);
        }
        Ok(None)
    }
}

/// Parses `tagged-ext-comp` items after the opening `(`, up to and including `)`.
/// Each parenthesised level is one nesting level.
fn parse_comps(p: &mut Parser<'_>, allow_empty: bool) -> PResult<Vec<TaggedExtComp>> {
    p.enter()?;
    let r = parse_comps_inner(p, allow_empty);
    p.leave();
    r
}

fn parse_comps_inner(p: &mut Parser<'_>, allow_empty: bool) -> PResult<Vec<TaggedExtComp>> {
    let mut v = Vec::new();
    if allow_empty && p.eat(b')') {
        return Ok(v);
    }
    loop {
        if p.eat(b'(') {
            v.push(TaggedExtComp::List(parse_comps(p, false)?));
        } else {
            v.push(TaggedExtComp::AString(IString::parse_astring(p)?));
        }
        p.check_items(v.len())?;
        p.skip_trailing_sp();
        if p.eat(b')') {
            return Ok(v);
        }
        p.sp()?;
    }
}

fn encode_comps(v: &[TaggedExtComp], buf: &mut EncodeBuf) {
    buf.list(v, |b, c| c.encode(b));
}

impl Encode for TaggedExtComp {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            TaggedExtComp::AString(s) => s.encode_astring(buf),
            TaggedExtComp::List(v) => encode_comps(v, buf),
        }
    }
}

impl Encode for TaggedExtVal {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            TaggedExtVal::Number(n) => buf.num(*n),
            TaggedExtVal::SequenceSet(s) => s.encode(buf),
            TaggedExtVal::Comp(v) => encode_comps(v, buf),
        }
    }
}

/// `tagged-ext-label` = tagged-label-fchar *tagged-label-char.
pub(crate) fn tagged_label(p: &mut Parser<'_>) -> PResult<Atom> {
    let start = p.pos;
    match p.peek() {
        Some(c) if c.is_ascii_alphabetic() || matches!(c, b'-' | b'_' | b'.') => {}
        _ => return Err(p.fail("tagged-ext-label")),
    }
    let b = p.take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'));
    if p.peek().is_some_and(class::is_atom_char) {
        return Err(p.fail_at(start, "tagged-ext-label"));
    }
    Ok(Atom::unchecked(b))
}

/// Parses `"(" item *(SP item) ")"` (non-empty unless `allow_empty`).
fn paren_list<T>(
    p: &mut Parser<'_>,
    allow_empty: bool,
    mut item: impl FnMut(&mut Parser<'_>) -> PResult<T>,
) -> PResult<Vec<T>> {
    p.expect(b'(', "(")?;
    let mut v = Vec::new();
    if allow_empty && p.eat(b')') {
        return Ok(v);
    }
    loop {
        v.push(item(p)?);
        p.check_items(v.len())?;
        p.skip_trailing_sp();
        if p.eat(b')') {
            return Ok(v);
        }
        p.sp()?;
    }
}

/// Longest word [`Word`] holds; longer words match no keyword.
const WORD_MAX: usize = 24;

/// Bytes of a keyword-shaped word: ATOM-CHARs other than `[`, `<` and `.` (the bytes after
/// which [`Parser::keyword`] refuses to match).
static WORD_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = crate::parse::class::is_atom_char(i as u8) && !matches!(i as u8, b'[' | b'<' | b'.');
        i += 1;
    }
    t
};

/// The word at a parser position, ASCII-uppercased, for keyword dispatch with one scan
/// instead of one [`Parser::keyword`] call per candidate.
///
/// For a keyword `kw` made of word bytes only, `p.keyword(kw)` matches exactly when the word
/// at `p.pos` equals `kw` ignoring ASCII case: `keyword` requires `kw` to be followed by a byte
/// that is not a word byte, i.e. the word ends right after `kw`.
#[derive(Clone, Copy)]
pub(crate) struct Word {
    buf: [u8; WORD_MAX],
    len: usize,
}

impl Word {
    /// The word at `p.pos` (empty when none, or when longer than [`WORD_MAX`]).
    #[inline]
    pub(crate) fn peek(p: &Parser<'_>) -> Word {
        let r = p.rest();
        let mut buf = [0u8; WORD_MAX];
        let mut len = 0;
        while let Some(&c) = r.get(len) {
            if !WORD_CHAR[c as usize] {
                break;
            }
            if len == WORD_MAX {
                return Word {
                    buf: [0; WORD_MAX],
                    len: 0,
                };
            }
            buf[len] = c.to_ascii_uppercase();
            len += 1;
        }
        Word { buf, len }
    }

    /// The uppercased word.
    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Consumes the word if it is `kw` (uppercase word bytes): [`Parser::keyword`] for a word
    /// peeked at `p.pos`.
    #[inline(always)]
    pub(crate) fn is(&self, p: &mut Parser<'_>, kw: &[u8]) -> bool {
        debug_assert!(
            kw.iter()
                .all(|&c| WORD_CHAR[c as usize] && !c.is_ascii_lowercase())
        );
        if self.as_bytes() == kw {
            p.pos += kw.len();
            true
        } else {
            false
        }
    }
}

/// Whether only the line end (or, with `close`, a `)`) follows, looking past the spaces the
/// lenient profile would skip. Consumes nothing and records nothing.
pub(crate) fn end_ahead(p: &Parser<'_>, close: bool) -> bool {
    let r = p.rest();
    let mut i = 0;
    if p.allows(Quirk::ExtraSpaces) {
        while r.get(i) == Some(&b' ') {
            i += 1;
        }
    }
    match r.get(i) {
        None | Some(b'\r' | b'\n') => true,
        Some(b')') => close,
        _ => false,
    }
}

/// Parses `*(SP item)` until the end of the line (at least one when `!allow_empty`).
fn sp_items<T>(
    p: &mut Parser<'_>,
    allow_empty: bool,
    mut item: impl FnMut(&mut Parser<'_>) -> PResult<T>,
) -> PResult<Vec<T>> {
    let mut v = Vec::new();
    loop {
        if end_ahead(p, false) && (allow_empty || !v.is_empty()) {
            return Ok(v);
        }
        p.sp()?;
        v.push(item(p)?);
        p.check_items(v.len())?;
    }
}

fn nz(p: &mut Parser<'_>) -> PResult<NonZeroU32> {
    let start = p.pos;
    let v = p.number()?;
    NonZeroU32::new(v).ok_or_else(|| p.fail_at(start, "nz-number"))
}

/// `mod-sequence-value` (1..2^63-1); the lenient profile maps 0 to 1.
fn modseq_value(p: &mut Parser<'_>) -> PResult<u64> {
    let start = p.pos;
    let v = p.number64()?;
    if v == 0 {
        if p.tolerate(Quirk::ZeroModSeq, start) {
            return Ok(1);
        }
        return Err(p.fail_at(start, "mod-sequence-value"));
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------
// Command argument types
// ---------------------------------------------------------------------------------------

/// A SELECT/EXAMINE parameter (`select-param`, RFC 4466; CONDSTORE/QRESYNC RFC 7162).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SelectParam {
    /// `CONDSTORE`
    CondStore,
    /// `QRESYNC (uidvalidity modseq [known-uids] [(known-seqs known-uids)])`
    QResync {
        /// The last known UIDVALIDITY.
        uidvalidity: UidValidity,
        /// The last known mod-sequence (`mod-sequence-value`, not zero).
        modseq: u64,
        /// UIDs the client knows.
        known_uids: Option<SequenceSet>,
        /// `seq-match-data`: (message numbers, corresponding UIDs).
        seq_match_data: Option<(SequenceSet, SequenceSet)>,
    },
    /// Another parameter.
    Other {
        /// `tagged-ext-label`.
        name: Atom,
        /// Value.
        value: Option<TaggedExtVal>,
    },
}

impl SelectParam {
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.keyword(b"CONDSTORE") {
            return Ok(SelectParam::CondStore);
        }
        if p.keyword(b"QRESYNC") {
            p.sp()?;
            p.expect(b'(', "(")?;
            let uidvalidity = UidValidity::parse(p)?;
            p.sp()?;
            let modseq = modseq_value(p)?;
            let mut known_uids = None;
            let mut seq_match_data = None;
            if p.peek() == Some(b' ') && p.peek_at(1) != Some(b'(') {
                p.sp()?;
                known_uids = Some(SequenceSet::parse(p)?);
            }
            if p.peek() == Some(b' ') {
                p.sp()?;
                p.expect(b'(', "(")?;
                let a = SequenceSet::parse(p)?;
                p.sp()?;
                let b = SequenceSet::parse(p)?;
                p.expect(b')', ")")?;
                seq_match_data = Some((a, b));
            }
            p.expect(b')', ")")?;
            return Ok(SelectParam::QResync {
                uidvalidity,
                modseq,
                known_uids,
                seq_match_data,
            });
        }
        let name = tagged_label(p)?;
        let value = TaggedExtVal::parse_opt_param(p)?;
        Ok(SelectParam::Other { name, value })
    }
}

impl Encode for SelectParam {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            SelectParam::CondStore => buf.raw(b"CONDSTORE"),
            SelectParam::QResync {
                uidvalidity,
                modseq,
                known_uids,
                seq_match_data,
            } => {
                buf.raw(b"QRESYNC (");
                uidvalidity.encode(buf);
                buf.sp();
                buf.num(*modseq);
                if let Some(k) = known_uids {
                    buf.sp();
                    k.encode(buf);
                }
                if let Some((a, b)) = seq_match_data {
                    buf.raw(b" (");
                    a.encode(buf);
                    buf.sp();
                    b.encode(buf);
                    buf.byte(b')');
                }
                buf.byte(b')');
            }
            SelectParam::Other { name, value } => encode_named(buf, name, value.as_ref()),
        }
    }
}

fn encode_named(buf: &mut EncodeBuf, name: &Atom, value: Option<&TaggedExtVal>) {
    name.encode(buf);
    if let Some(v) = value {
        buf.sp();
        v.encode(buf);
    }
}

/// A CREATE parameter (`create-param`, RFC 4466; USE RFC 6154).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CreateParam {
    /// `USE (attr ...)`: special-use attributes of the new mailbox.
    SpecialUse(Vec<MailboxAttribute>),
    /// Another parameter.
    Other {
        /// `create-param-name`.
        name: Atom,
        /// Value.
        value: Option<TaggedExtVal>,
    },
}

impl CreateParam {
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.keyword(b"USE") {
            p.sp()?;
            return paren_list(p, true, MailboxAttribute::parse).map(CreateParam::SpecialUse);
        }
        let name = tagged_label(p)?;
        let value = TaggedExtVal::parse_opt_param(p)?;
        Ok(CreateParam::Other { name, value })
    }
}

impl Encode for CreateParam {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            CreateParam::SpecialUse(v) => {
                buf.raw(b"USE ");
                buf.list(v, |b, a| a.encode(b));
            }
            CreateParam::Other { name, value } => encode_named(buf, name, value.as_ref()),
        }
    }
}

/// A LIST selection option (`list-select-opt`, RFC 5258; SPECIAL-USE RFC 6154).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListSelectOption {
    /// `SUBSCRIBED`
    Subscribed,
    /// `REMOTE`
    Remote,
    /// `RECURSIVEMATCH`
    RecursiveMatch,
    /// `SPECIAL-USE`
    SpecialUse,
    /// Another option (`option-extension`).
    Other {
        /// `option-standard-tag` / `option-vendor-tag`.
        name: Atom,
        /// `option-value` = "(" option-val-comp ")" (the items, non-empty).
        value: Option<Vec<TaggedExtComp>>,
    },
}

fn parse_option_ext(p: &mut Parser<'_>) -> PResult<(Atom, Option<Vec<TaggedExtComp>>)> {
    let name = Atom::parse(p)?;
    let value = if p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(') {
        p.sp()?;
        p.expect(b'(', "(")?;
        Some(parse_comps(p, false)?)
    } else {
        None
    };
    Ok((name, value))
}

fn encode_option_ext(buf: &mut EncodeBuf, name: &Atom, value: &Option<Vec<TaggedExtComp>>) {
    name.encode(buf);
    if let Some(v) = value {
        buf.sp();
        encode_comps(v, buf);
    }
}

impl ListSelectOption {
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        Ok(if p.keyword(b"SUBSCRIBED") {
            ListSelectOption::Subscribed
        } else if p.keyword(b"REMOTE") {
            ListSelectOption::Remote
        } else if p.keyword(b"RECURSIVEMATCH") {
            ListSelectOption::RecursiveMatch
        } else if p.keyword(b"SPECIAL-USE") {
            ListSelectOption::SpecialUse
        } else {
            let (name, value) = parse_option_ext(p)?;
            ListSelectOption::Other { name, value }
        })
    }
}

impl Encode for ListSelectOption {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            ListSelectOption::Subscribed => buf.raw(b"SUBSCRIBED"),
            ListSelectOption::Remote => buf.raw(b"REMOTE"),
            ListSelectOption::RecursiveMatch => buf.raw(b"RECURSIVEMATCH"),
            ListSelectOption::SpecialUse => buf.raw(b"SPECIAL-USE"),
            ListSelectOption::Other { name, value } => encode_option_ext(buf, name, value),
        }
    }
}

/// A LIST return option (`return-option`, RFC 5258; STATUS RFC 5819; SPECIAL-USE RFC 6154;
/// MYRIGHTS RFC 8440; METADATA RFC 9590).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListReturnOption {
    /// `SUBSCRIBED`
    Subscribed,
    /// `CHILDREN`
    Children,
    /// `STATUS (att ...)` (non-empty).
    Status(Vec<StatusAttribute>),
    /// `SPECIAL-USE`
    SpecialUse,
    /// `MYRIGHTS`
    MyRights,
    /// `METADATA (entry ...)` (non-empty).
    Metadata(Vec<AString>),
    /// Another option (`option-extension`).
    Other {
        /// Option name.
        name: Atom,
        /// `option-value` items (non-empty).
        value: Option<Vec<TaggedExtComp>>,
    },
}

impl ListReturnOption {
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        Ok(if p.keyword(b"SUBSCRIBED") {
            ListReturnOption::Subscribed
        } else if p.keyword(b"CHILDREN") {
            ListReturnOption::Children
        } else if p.keyword(b"STATUS") {
            p.sp()?;
            ListReturnOption::Status(paren_list(p, false, StatusAttribute::parse)?)
        } else if p.keyword(b"SPECIAL-USE") {
            ListReturnOption::SpecialUse
        } else if p.keyword(b"MYRIGHTS") {
            ListReturnOption::MyRights
        } else if p.keyword(b"METADATA") {
            p.sp()?;
            ListReturnOption::Metadata(paren_list(p, false, IString::parse_astring)?)
        } else {
            let (name, value) = parse_option_ext(p)?;
            ListReturnOption::Other { name, value }
        })
    }
}

impl Encode for ListReturnOption {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            ListReturnOption::Subscribed => buf.raw(b"SUBSCRIBED"),
            ListReturnOption::Children => buf.raw(b"CHILDREN"),
            ListReturnOption::Status(v) => {
                buf.raw(b"STATUS ");
                buf.list(v, |b, a| a.encode(b));
            }
            ListReturnOption::SpecialUse => buf.raw(b"SPECIAL-USE"),
            ListReturnOption::MyRights => buf.raw(b"MYRIGHTS"),
            ListReturnOption::Metadata(v) => {
                buf.raw(b"METADATA ");
                buf.list(v, |b, e| e.encode_astring(b));
            }
            ListReturnOption::Other { name, value } => encode_option_ext(buf, name, value),
        }
    }
}

/// One message of APPEND (`append-message` of RFC 3502 / RFC 4466).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppendMessage {
    /// Flags to set (an empty list is sent as nothing).
    pub flags: Vec<Flag>,
    /// INTERNALDATE to set.
    pub date: Option<DateTime>,
    /// `append-ext` items (name must not be `CATENATE` or `UTF8`).
    pub extensions: Vec<(Atom, TaggedExtVal)>,
    /// The message.
    pub data: AppendData,
}

/// The message content of APPEND/REPLACE (`append-data`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AppendData {
    /// A `literal` (or `literal8` when `binary`, RFC 3516). `data` is a slice of the
    /// received message.
    Literal {
        /// The message bytes.
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_impls::bytes))]
        data: Bytes,
        /// Sent as `~{n}` (may contain NUL).
        binary: bool,
    },
    /// `CATENATE (part ...)` (RFC 4469), non-empty.
    Catenate(Vec<CatPart>),
    /// `UTF8 (~{n}...)` (RFC 6855).
    Utf8(#[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_impls::bytes))] Bytes),
}

/// A CATENATE part (`cat-part`, RFC 4469; UTF8 RFC 6855).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CatPart {
    /// `TEXT literal` (or literal8 when `binary`).
    Text {
        /// Bytes.
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_impls::bytes))]
        data: Bytes,
        /// Sent as `~{n}`.
        binary: bool,
    },
    /// `URL astring`: an IMAP URL.
    Url(AString),
    /// `UTF8 (~{n}...)`.
    Utf8(#[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_impls::bytes))] Bytes),
}

fn utf8_literal(p: &mut Parser<'_>) -> PResult<Bytes> {
    p.sp()?;
    p.expect(b'(', "(")?;
    let (d, _) = p.literal_any(true)?;
    p.expect(b')', ")")?;
    Ok(d)
}

fn encode_data_literal(buf: &mut EncodeBuf, data: &[u8], binary: bool) {
    let binary = binary || memchr::memchr(0, data).is_some();
    buf.literal(data, binary);
}

impl CatPart {
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.keyword(b"TEXT") {
            p.sp()?;
            let (data, binary) = p.literal_any(true)?;
            Ok(CatPart::Text { data, binary })
        } else if p.keyword(b"URL") {
            p.sp()?;
            IString::parse_astring(p).map(CatPart::Url)
        } else if p.keyword(b"UTF8") {
            utf8_literal(p).map(CatPart::Utf8)
        } else {
            Err(p.fail("cat-part"))
        }
    }
}

impl Encode for CatPart {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            CatPart::Text { data, binary } => {
                buf.raw(b"TEXT ");
                encode_data_literal(buf, data, *binary);
            }
            CatPart::Url(u) => {
                buf.raw(b"URL ");
                u.encode_astring(buf);
            }
            CatPart::Utf8(d) => {
                buf.raw(b"UTF8 (");
                buf.literal(d, true);
                buf.byte(b')');
            }
        }
    }
}

impl AppendData {
    fn starts(p: &Parser<'_>) -> bool {
        matches!(p.peek(), Some(b'{' | b'~'))
            || p.looking_at_ci(b"CATENATE ")
            || p.looking_at_ci(b"UTF8 ")
    }

    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.keyword(b"CATENATE") {
            p.sp()?;
            paren_list(p, false, CatPart::parse).map(AppendData::Catenate)
        } else if p.keyword(b"UTF8") {
            utf8_literal(p).map(AppendData::Utf8)
        } else {
            let (data, binary) = p.literal_any(true)?;
            Ok(AppendData::Literal { data, binary })
        }
    }
}

impl Encode for AppendData {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            AppendData::Literal { data, binary } => encode_data_literal(buf, data, *binary),
            AppendData::Catenate(v) => {
                buf.raw(b"CATENATE ");
                buf.list(v, |b, c| c.encode(b));
            }
            AppendData::Utf8(d) => {
                buf.raw(b"UTF8 (");
                buf.literal(d, true);
                buf.byte(b')');
            }
        }
    }
}

impl AppendMessage {
    /// A message from a literal, without flags or date.
    pub fn literal(data: impl Into<Bytes>) -> Self {
        let data = data.into();
        let binary = memchr::memchr(0, &data).is_some();
        AppendMessage {
            flags: Vec::new(),
            date: None,
            extensions: Vec::new(),
            data: AppendData::Literal { data, binary },
        }
    }

    /// Parses `append-opts SP append-data` (starting at the SP before the options).
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        p.sp()?;
        let mut flags = Vec::new();
        let mut date = None;
        let mut extensions = Vec::new();
        if p.peek() == Some(b'(') {
            flags = parse_flag_list(p, Flag::parse)?;
            p.sp()?;
        }
        if p.peek() == Some(b'"') {
            date = Some(DateTime::parse(p)?);
            p.sp()?;
        }
        while !AppendData::starts(p) {
            let name = tagged_label(p)?;
            p.sp()?;
            let v = TaggedExtVal::parse(p)?;
            extensions.push((name, v));
            p.check_items(extensions.len())?;
            p.sp()?;
        }
        let data = AppendData::parse(p)?;
        Ok(AppendMessage {
            flags,
            date,
            extensions,
            data,
        })
    }
}

impl Encode for AppendMessage {
    /// Writes ` [flags] [date] *ext data` including the leading SP.
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.sp();
        if !self.flags.is_empty() {
            buf.list(&self.flags, |b, f| f.encode(b));
            buf.sp();
        }
        if let Some(d) = &self.date {
            d.encode(buf);
            buf.sp();
        }
        for (n, v) in &self.extensions {
            n.encode(buf);
            buf.sp();
            v.encode(buf);
            buf.sp();
        }
        self.data.encode(buf);
    }
}

/// A FETCH modifier (`fetch-modifier`, RFC 4466; CHANGEDSINCE/VANISHED RFC 7162; PARTIAL
/// RFC 9394).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FetchModifier {
    /// `CHANGEDSINCE modseq`
    ChangedSince(u64),
    /// `VANISHED` (UID FETCH only)
    Vanished,
    /// `PARTIAL range`
    Partial(PartialRange),
    /// Another modifier.
    Other {
        /// Name.
        name: Atom,
        /// Value.
        value: Option<TaggedExtVal>,
    },
}

impl FetchModifier {
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.keyword(b"CHANGEDSINCE") {
            p.sp()?;
            return modseq_value(p).map(FetchModifier::ChangedSince);
        }
        if p.keyword(b"VANISHED") {
            return Ok(FetchModifier::Vanished);
        }
        if p.keyword(b"PARTIAL") {
            p.sp()?;
            return PartialRange::parse(p).map(FetchModifier::Partial);
        }
        let name = tagged_label(p)?;
        let value = TaggedExtVal::parse_opt_param(p)?;
        Ok(FetchModifier::Other { name, value })
    }
}

impl Encode for FetchModifier {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            FetchModifier::ChangedSince(n) => {
                buf.raw(b"CHANGEDSINCE ");
                buf.num(*n);
            }
            FetchModifier::Vanished => buf.raw(b"VANISHED"),
            FetchModifier::Partial(r) => {
                buf.raw(b"PARTIAL ");
                r.encode(buf);
            }
            FetchModifier::Other { name, value } => encode_named(buf, name, value.as_ref()),
        }
    }
}

/// A STORE modifier (`store-modifier`, RFC 4466; UNCHANGEDSINCE RFC 7162).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreModifier {
    /// `UNCHANGEDSINCE modseq` (`mod-sequence-valzer`).
    UnchangedSince(u64),
    /// Another modifier.
    Other {
        /// Name.
        name: Atom,
        /// Value.
        value: Option<TaggedExtVal>,
    },
}

impl StoreModifier {
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.keyword(b"UNCHANGEDSINCE") {
            p.sp()?;
            return p.number64().map(StoreModifier::UnchangedSince);
        }
        let name = tagged_label(p)?;
        let value = TaggedExtVal::parse_opt_param(p)?;
        Ok(StoreModifier::Other { name, value })
    }
}

impl Encode for StoreModifier {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            StoreModifier::UnchangedSince(n) => {
                buf.raw(b"UNCHANGEDSINCE ");
                buf.num(*n);
            }
            StoreModifier::Other { name, value } => encode_named(buf, name, value.as_ref()),
        }
    }
}

/// How STORE changes the stored values.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreType {
    /// `FLAGS`: replace.
    Replace,
    /// `+FLAGS`: add.
    Add,
    /// `-FLAGS`: remove.
    Remove,
}

/// A Gmail label (X-GM-LABELS), the same value type as in FETCH responses.
pub use crate::fetch::GmailLabel;

/// What STORE changes.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreData {
    /// `FLAGS (...)`
    Flags(Vec<Flag>),
    /// `X-GM-LABELS (...)` (Gmail).
    GmailLabels(Vec<GmailLabel>),
}

/// A resource of QUOTA (RFC 9208 §9 `resource-name`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QuotaResource {
    /// `STORAGE` (in 1024-octet units)
    Storage,
    /// `MESSAGE`
    Message,
    /// `MAILBOX`
    Mailbox,
    /// `ANNOTATION-STORAGE`
    AnnotationStorage,
    /// Another resource.
    Other(Atom),
}

const QUOTA_RES: &[(&[u8], QuotaResource)] = &[
    (b"STORAGE", QuotaResource::Storage),
    (b"MESSAGE", QuotaResource::Message),
    (b"MAILBOX", QuotaResource::Mailbox),
    (b"ANNOTATION-STORAGE", QuotaResource::AnnotationStorage),
];

impl QuotaResource {
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        for (n, r) in QUOTA_RES {
            if p.keyword(n) {
                return Ok(r.clone());
            }
        }
        Atom::parse(p).map(QuotaResource::Other)
    }
}

impl Encode for QuotaResource {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            QuotaResource::Other(a) => a.encode(buf),
            r => buf.raw(
                QUOTA_RES
                    .iter()
                    .find(|(_, x)| x == r)
                    .map(|(n, _)| *n)
                    .unwrap_or(b"STORAGE"),
            ),
        }
    }
}

/// A SETQUOTA limit (`setquota-resource`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuotaLimit {
    /// The resource.
    pub resource: QuotaResource,
    /// The limit (`number64`).
    pub limit: u64,
}

/// How SETACL changes the rights (`mod-rights`, RFC 4314).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AclModification {
    /// Replace the rights.
    Replace,
    /// `+rights`: add.
    Add,
    /// `-rights`: remove.
    Remove,
}

/// An option of GETMETADATA (RFC 5464 `getmetadata-option`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GetMetadataOption {
    /// `MAXSIZE n`
    MaxSize(u32),
    /// `DEPTH 0 / 1 / infinity`
    Depth(MetadataDepth),
    /// Another option.
    Other {
        /// Name.
        name: Atom,
        /// Value.
        value: Option<TaggedExtVal>,
    },
}

/// GETMETADATA `DEPTH`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetadataDepth {
    /// `0`
    Zero,
    /// `1`
    One,
    /// `infinity`
    Infinity,
}

impl GetMetadataOption {
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.keyword(b"MAXSIZE") {
            p.sp()?;
            return p.number().map(GetMetadataOption::MaxSize);
        }
        if p.keyword(b"DEPTH") {
            p.sp()?;
            let d = if p.keyword(b"0") {
                MetadataDepth::Zero
            } else if p.keyword(b"1") {
                MetadataDepth::One
            } else if p.keyword(b"infinity") {
                MetadataDepth::Infinity
            } else {
                return Err(p.fail("0, 1 or infinity"));
            };
            return Ok(GetMetadataOption::Depth(d));
        }
        let name = tagged_label(p)?;
        let value = TaggedExtVal::parse_opt_param(p)?;
        Ok(GetMetadataOption::Other { name, value })
    }
}

impl Encode for GetMetadataOption {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            GetMetadataOption::MaxSize(n) => {
                buf.raw(b"MAXSIZE ");
                buf.num(*n);
            }
            GetMetadataOption::Depth(d) => buf.raw(match d {
                MetadataDepth::Zero => b"DEPTH 0",
                MetadataDepth::One => b"DEPTH 1",
                MetadataDepth::Infinity => b"DEPTH infinity",
            }),
            GetMetadataOption::Other { name, value } => encode_named(buf, name, value.as_ref()),
        }
    }
}

/// A SETMETADATA entry value: NIL (remove), or bytes (a string, or literal8 when they
/// contain NUL).
pub type MetadataValue = Option<Bytes>;

/// A NOTIFY mailbox filter (`filter-mailboxes`, RFC 5465; `subtree-one` RFC 7377).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MailboxFilter {
    /// `selected`
    Selected,
    /// `selected-delayed`
    SelectedDelayed,
    /// `inboxes`
    Inboxes,
    /// `personal`
    Personal,
    /// `subscribed`
    Subscribed,
    /// `subtree mailbox / (mailbox ...)`
    Subtree(Vec<Mailbox>),
    /// `mailboxes mailbox / (mailbox ...)`
    Mailboxes(Vec<Mailbox>),
    /// `subtree-one mailbox / (mailbox ...)` (RFC 7377)
    SubtreeOne(Vec<Mailbox>),
}

fn one_or_more_mailbox(p: &mut Parser<'_>) -> PResult<Vec<Mailbox>> {
    p.sp()?;
    if p.peek() == Some(b'(') {
        paren_list(p, false, Mailbox::parse)
    } else {
        Ok(vec![Mailbox::parse(p)?])
    }
}

fn encode_mailboxes(buf: &mut EncodeBuf, v: &[Mailbox]) {
    buf.sp();
    if v.len() == 1 {
        v[0].encode(buf);
    } else {
        buf.list(v, |b, m| m.encode(b));
    }
}

impl MailboxFilter {
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        Ok(if p.keyword(b"selected") {
            MailboxFilter::Selected
        } else if p.keyword(b"selected-delayed") {
            MailboxFilter::SelectedDelayed
        } else if p.keyword(b"inboxes") {
            MailboxFilter::Inboxes
        } else if p.keyword(b"personal") {
            MailboxFilter::Personal
        } else if p.keyword(b"subscribed") {
            MailboxFilter::Subscribed
        } else if p.keyword(b"subtree") {
            MailboxFilter::Subtree(one_or_more_mailbox(p)?)
        } else if p.keyword(b"mailboxes") {
            MailboxFilter::Mailboxes(one_or_more_mailbox(p)?)
        } else if p.keyword(b"subtree-one") {
            MailboxFilter::SubtreeOne(one_or_more_mailbox(p)?)
        } else {
            return Err(p.fail("filter-mailboxes"));
        })
    }
}

impl Encode for MailboxFilter {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            MailboxFilter::Selected => buf.raw(b"selected"),
            MailboxFilter::SelectedDelayed => buf.raw(b"selected-delayed"),
            MailboxFilter::Inboxes => buf.raw(b"inboxes"),
            MailboxFilter::Personal => buf.raw(b"personal"),
            MailboxFilter::Subscribed => buf.raw(b"subscribed"),
            MailboxFilter::Subtree(v) => {
                buf.raw(b"subtree");
                encode_mailboxes(buf, v);
            }
            MailboxFilter::Mailboxes(v) => {
                buf.raw(b"mailboxes");
                encode_mailboxes(buf, v);
            }
            MailboxFilter::SubtreeOne(v) => {
                buf.raw(b"subtree-one");
                encode_mailboxes(buf, v);
            }
        }
    }
}

/// A NOTIFY event (RFC 5465 `event`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotifyEvent {
    /// `MessageNew [(fetch-att ...)]`
    MessageNew(Option<FetchItems>),
    /// `MessageExpunge`
    MessageExpunge,
    /// `FlagChange`
    FlagChange,
    /// `AnnotationChange`
    AnnotationChange,
    /// `MailboxName`
    MailboxName,
    /// `SubscriptionChange`
    SubscriptionChange,
    /// `MailboxMetadataChange`
    MailboxMetadataChange,
    /// `ServerMetadataChange`
    ServerMetadataChange,
    /// Another event (`event-ext`).
    Other(Atom),
}

const EVENTS: &[(&[u8], NotifyEvent)] = &[
    (b"MessageExpunge", NotifyEvent::MessageExpunge),
    (b"FlagChange", NotifyEvent::FlagChange),
    (b"AnnotationChange", NotifyEvent::AnnotationChange),
    (b"MailboxName", NotifyEvent::MailboxName),
    (b"SubscriptionChange", NotifyEvent::SubscriptionChange),
    (b"MailboxMetadataChange", NotifyEvent::MailboxMetadataChange),
    (b"ServerMetadataChange", NotifyEvent::ServerMetadataChange),
];

impl NotifyEvent {
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.keyword(b"MessageNew") {
            if p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(') {
                p.sp()?;
                return FetchItems::parse(p).map(|f| NotifyEvent::MessageNew(Some(f)));
            }
            return Ok(NotifyEvent::MessageNew(None));
        }
        for (n, e) in EVENTS {
            if p.keyword(n) {
                return Ok(e.clone());
            }
        }
        Atom::parse(p).map(NotifyEvent::Other)
    }
}

impl Encode for NotifyEvent {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            NotifyEvent::MessageNew(f) => {
                buf.raw(b"MessageNew");
                if let Some(f) = f {
                    buf.sp();
                    encode_fetch_att_list(buf, f);
                }
            }
            NotifyEvent::Other(a) => a.encode(buf),
            e => buf.raw(
                EVENTS
                    .iter()
                    .find(|(_, x)| x == e)
                    .map(|(n, _)| *n)
                    .unwrap_or(b"MessageExpunge"),
            ),
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

/// A NOTIFY event group: `"(" filter-mailboxes SP events ")"`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventGroup {
    /// Which mailboxes.
    pub filter: MailboxFilter,
    /// Which events; empty means `NONE`.
    pub events: Vec<NotifyEvent>,
}

impl EventGroup {
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        p.expect(b'(', "(")?;
        let filter = MailboxFilter::parse(p)?;
        p.sp()?;
        let events = if p.keyword(b"NONE") {
            Vec::new()
        } else {
            paren_list(p, false, NotifyEvent::parse)?
        };
        p.expect(b')', ")")?;
        Ok(EventGroup { filter, events })
    }
}

impl Encode for EventGroup {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.byte(b'(');
        self.filter.encode(buf);
        buf.sp();
        if self.events.is_empty() {
            buf.raw(b"NONE");
        } else {
            buf.list(&self.events, |b, e| e.encode(b));
        }
        buf.byte(b')');
    }
}

/// NOTIFY arguments.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notify {
    /// `NONE`
    None,
    /// `SET [STATUS] group ...`
    Set {
        /// `STATUS` indicator.
        status: bool,
        /// Event groups (non-empty).
        groups: Vec<EventGroup>,
    },
}

/// The `IN (...)` source options of ESEARCH (RFC 7377 `esearch-source-opts`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ESearchSource {
    /// Mailbox filters (non-empty).
    pub filters: Vec<MailboxFilter>,
    /// `scope-options` (empty: absent).
    pub scope_options: Vec<(Atom, Option<TaggedExtVal>)>,
}

/// A URLAUTH mechanism (`INTERNAL` or another atom, RFC 4467).
pub type UrlAuthMechanism = Atom;

// ---------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------

/// A tagged command (`command`).
///
/// Built with [`Command::new`], which validates the body, or decoded: every `Command` value
/// encodes to valid protocol that decodes to an equal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    tag: Tag,
    body: CommandBody,
}

impl Command {
    /// A command with the given tag; fails when the body cannot be encoded as valid protocol
    /// that decodes to the same value (see [`CommandBody::validate`]).
    pub fn new(tag: Tag, body: CommandBody) -> Result<Self, ValidationError> {
        body.validate()?;
        Ok(Command { tag, body })
    }

    /// The tag.
    pub fn tag(&self) -> &Tag {
        &self.tag
    }

    /// The command without its tag.
    pub fn body(&self) -> &CommandBody {
        &self.body
    }

    /// The tag and the body.
    pub fn into_parts(self) -> (Tag, CommandBody) {
        (self.tag, self.body)
    }
}

/// The command without its tag.
///
/// Variants with `uid: bool` are the `UID` forms when it is set (the sequence set then holds
/// UIDs). Lists documented as non-empty must not be empty to encode valid protocol.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandBody {
    // ---- any state ----
    /// `CAPABILITY`
    Capability,
    /// `NOOP`
    Noop,
    /// `LOGOUT`
    Logout,
    /// `ID NIL / ("field" value ...)` (RFC 2971); `None` is `NIL`.
    Id(Option<Vec<(IString, NString)>>),

    // ---- not authenticated ----
    /// `STARTTLS`
    StartTls,
    /// `AUTHENTICATE mechanism [initial-response]` (SASL-IR RFC 4959; an empty initial
    /// response is sent as `=`).
    Authenticate {
        /// SASL mechanism name.
        mechanism: Atom,
        /// Decoded initial response.
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_impls::opt_secret_bytes))]
        initial_response: Option<Secret<Bytes>>,
    },
    /// `LOGIN userid password`
    Login {
        /// User name.
        username: AString,
        /// Password.
        password: Secret<AString>,
    },

    // ---- authenticated ----
    /// `ENABLE capability ...` (non-empty).
    Enable(
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_impls::capabilities))]
        Vec<Capability>,
    ),
    /// `SELECT mailbox [(params)]`
    Select {
        /// Mailbox.
        mailbox: Mailbox,
        /// Parameters (empty: none sent).
        params: Vec<SelectParam>,
    },
    /// `EXAMINE mailbox [(params)]`
    Examine {
        /// Mailbox.
        mailbox: Mailbox,
        /// Parameters (empty: none sent).
        params: Vec<SelectParam>,
    },
    /// `CREATE mailbox [(params)]`
    Create {
        /// Mailbox.
        mailbox: Mailbox,
        /// Parameters (empty: none sent).
        params: Vec<CreateParam>,
    },
    /// `DELETE mailbox`
    Delete(Mailbox),
    /// `RENAME from to`
    Rename {
        /// Existing name.
        from: Mailbox,
        /// New name.
        to: Mailbox,
    },
    /// `SUBSCRIBE mailbox`
    Subscribe(Mailbox),
    /// `UNSUBSCRIBE mailbox`
    Unsubscribe(Mailbox),
    /// `LIST [(select-opts)] reference pattern(s) [RETURN (opts)]` (RFC 5258).
    List {
        /// Selection options; `None` sends none, `Some(vec![])` sends `()`.
        selection: Option<Vec<ListSelectOption>>,
        /// Reference name.
        reference: Mailbox,
        /// Patterns (non-empty; more than one are sent parenthesised).
        patterns: Vec<ListMailbox>,
        /// Return options; `None` sends none, `Some(vec![])` sends `RETURN ()`.
        return_opts: Option<Vec<ListReturnOption>>,
    },
    /// `LSUB reference pattern` (IMAP4rev1).
    Lsub {
        /// Reference name.
        reference: Mailbox,
        /// Pattern.
        pattern: ListMailbox,
    },
    /// `XLIST reference pattern` (Gmail legacy).
    XList {
        /// Reference name.
        reference: Mailbox,
        /// Pattern.
        pattern: ListMailbox,
    },
    /// `RLIST reference pattern` (MAILBOX-REFERRALS, RFC 2193): LIST that may also return
    /// remote mailboxes.
    RList {
        /// Reference name.
        reference: Mailbox,
        /// Pattern.
        pattern: ListMailbox,
    },
    /// `RLSUB reference pattern` (MAILBOX-REFERRALS, RFC 2193): LSUB that may also return
    /// remote mailboxes.
    RLsub {
        /// Reference name.
        reference: Mailbox,
        /// Pattern.
        pattern: ListMailbox,
    },
    /// `NAMESPACE`
    Namespace,
    /// `STATUS mailbox (att ...)` (non-empty).
    Status {
        /// Mailbox.
        mailbox: Mailbox,
        /// Requested attributes.
        attributes: Vec<StatusAttribute>,
    },
    /// `APPEND mailbox message...` (MULTIAPPEND: more than one message; non-empty).
    Append {
        /// Target mailbox.
        mailbox: Mailbox,
        /// Messages.
        messages: Vec<AppendMessage>,
    },
    /// `IDLE`
    Idle,
    /// `GETQUOTA root` (RFC 9208)
    GetQuota(AString),
    /// `GETQUOTAROOT mailbox`
    GetQuotaRoot(Mailbox),
    /// `SETQUOTA root (resource limit ...)`
    SetQuota {
        /// Quota root.
        root: AString,
        /// Limits (may be empty).
        limits: Vec<QuotaLimit>,
    },
    /// `GETACL mailbox` (RFC 4314)
    GetAcl(Mailbox),
    /// `SETACL mailbox identifier [+/-]rights`
    SetAcl {
        /// Mailbox.
        mailbox: Mailbox,
        /// Identifier.
        identifier: AString,
        /// Replace, add or remove.
        modification: AclModification,
        /// Rights letters (without the `+`/`-`).
        rights: AString,
    },
    /// `DELETEACL mailbox identifier`
    DeleteAcl {
        /// Mailbox.
        mailbox: Mailbox,
        /// Identifier.
        identifier: AString,
    },
    /// `LISTRIGHTS mailbox identifier`
    ListRights {
        /// Mailbox.
        mailbox: Mailbox,
        /// Identifier.
        identifier: AString,
    },
    /// `MYRIGHTS mailbox`
    MyRights(Mailbox),
    /// `GETMETADATA [(options)] mailbox entries` (RFC 5464); the empty mailbox name means
    /// server metadata.
    GetMetadata {
        /// Options (empty: none sent).
        options: Vec<GetMetadataOption>,
        /// Mailbox.
        mailbox: Mailbox,
        /// Entry names (non-empty).
        entries: Vec<AString>,
    },
    /// `SETMETADATA mailbox (entry value ...)`
    SetMetadata {
        /// Mailbox.
        mailbox: Mailbox,
        /// Entries and values (non-empty).
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_impls::metadata_entries))]
        entries: Vec<(AString, MetadataValue)>,
    },
    /// `NOTIFY NONE / SET ...` (RFC 5465)
    Notify(Notify),
    /// `COMPRESS mechanism` (RFC 4978; `DEFLATE`).
    Compress(Atom),
    /// `UNAUTHENTICATE` (RFC 8437)
    Unauthenticate,
    /// `GETJMAPACCESS` (RFC 9698): asks for the untagged `JMAPACCESS` URL.
    GetJmapAccess,
    /// `ESEARCH [IN (...)] [RETURN (...)] [CHARSET c] keys` (MULTISEARCH, RFC 7377).
    ESearch {
        /// Source mailboxes.
        source: Option<ESearchSource>,
        /// Return options.
        return_opts: Option<Vec<SearchReturnOption>>,
        /// Charset.
        charset: Option<Charset>,
        /// Keys (non-empty).
        criteria: Vec<SearchKey>,
    },
    /// `GENURLAUTH url mechanism ...` (RFC 4467; non-empty).
    GenUrlAuth(Vec<(AString, UrlAuthMechanism)>),
    /// `RESETKEY [mailbox mechanism...]` (RFC 4467).
    ResetKey(Option<(Mailbox, Vec<UrlAuthMechanism>)>),
    /// `URLFETCH url ...` (RFC 4467; non-empty).
    UrlFetch(Vec<AString>),

    // ---- selected ----
    /// `CHECK` (IMAP4rev1)
    Check,
    /// `CLOSE`
    Close,
    /// `UNSELECT`
    Unselect,
    /// `EXPUNGE`
    Expunge,
    /// `UID EXPUNGE uids` (UIDPLUS)
    UidExpunge(SequenceSet),
    /// `[UID] SEARCH [RETURN (...)] [CHARSET c] keys`
    Search {
        /// Return options (ESEARCH); `Some(vec![])` is `RETURN ()`.
        return_opts: Option<Vec<SearchReturnOption>>,
        /// Charset.
        charset: Option<Charset>,
        /// Keys (non-empty).
        criteria: Vec<SearchKey>,
        /// UID SEARCH.
        uid: bool,
    },
    /// `[UID] FETCH set items [(modifiers)]`
    Fetch {
        /// Messages.
        sequence_set: SequenceSet,
        /// What to fetch.
        items: FetchItems,
        /// Modifiers (empty: none sent).
        modifiers: Vec<FetchModifier>,
        /// UID FETCH.
        uid: bool,
    },
    /// `[UID] STORE set [(modifiers)] [+/-]FLAGS[.SILENT] (...)`
    Store {
        /// Messages.
        sequence_set: SequenceSet,
        /// Modifiers (empty: none sent).
        modifiers: Vec<StoreModifier>,
        /// Replace, add or remove.
        kind: StoreType,
        /// `.SILENT`
        silent: bool,
        /// Flags or Gmail labels.
        data: StoreData,
        /// UID STORE.
        uid: bool,
    },
    /// `[UID] COPY set mailbox`
    Copy {
        /// Messages.
        sequence_set: SequenceSet,
        /// Target.
        mailbox: Mailbox,
        /// UID COPY.
        uid: bool,
    },
    /// `[UID] MOVE set mailbox` (RFC 6851)
    Move {
        /// Messages.
        sequence_set: SequenceSet,
        /// Target.
        mailbox: Mailbox,
        /// UID MOVE.
        uid: bool,
    },
    /// `[UID] SORT [RETURN (...)] (criteria) charset keys` (RFC 5256, ESORT RFC 5267)
    Sort {
        /// Return options (ESORT).
        return_opts: Option<Vec<SearchReturnOption>>,
        /// Sort criteria (non-empty).
        criteria: Vec<SortCriterion>,
        /// Charset.
        charset: Charset,
        /// Search keys (non-empty).
        search: Vec<SearchKey>,
        /// UID SORT.
        uid: bool,
    },
    /// `[UID] THREAD algorithm charset keys` (RFC 5256)
    Thread {
        /// Algorithm.
        algorithm: ThreadAlgorithm,
        /// Charset.
        charset: Charset,
        /// Search keys (non-empty).
        search: Vec<SearchKey>,
        /// UID THREAD.
        uid: bool,
    },
    /// `CANCELUPDATE "tag" ...` (RFC 5267; non-empty).
    CancelUpdate(Vec<Tag>),
    /// `[UID] REPLACE n mailbox message` (RFC 8508)
    Replace {
        /// Message sequence number, or UID when `uid`.
        number: NonZeroU32,
        /// Target mailbox.
        mailbox: Mailbox,
        /// The new message.
        message: AppendMessage,
        /// UID REPLACE.
        uid: bool,
    },

    /// A command this codec does not know: its name and the raw argument bytes after the
    /// SP that follows the name (up to, excluding, the final CRLF; may contain literals).
    Other {
        /// Command name (never a known command's name).
        name: Atom,
        /// Raw arguments (may be empty).
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_impls::raw_args))]
        raw: Bytes,
    },
}

/// Every command name this module parses (used to keep `Other` for unknown names only).
const KNOWN: &[&[u8]] = &[
    b"CAPABILITY",
    b"NOOP",
    b"LOGOUT",
    b"ID",
    b"STARTTLS",
    b"AUTHENTICATE",
    b"LOGIN",
    b"ENABLE",
    b"SELECT",
    b"EXAMINE",
    b"CREATE",
    b"DELETE",
    b"RENAME",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"LIST",
    b"LSUB",
    b"XLIST",
    b"RLIST",
    b"RLSUB",
    b"NAMESPACE",
    b"STATUS",
    b"APPEND",
    b"IDLE",
    b"GETQUOTA",
    b"GETQUOTAROOT",
    b"SETQUOTA",
    b"GETACL",
    b"SETACL",
    b"DELETEACL",
    b"LISTRIGHTS",
    b"MYRIGHTS",
    b"GETMETADATA",
    b"SETMETADATA",
    b"NOTIFY",
    b"COMPRESS",
    b"UNAUTHENTICATE",
    b"GETJMAPACCESS",
    b"ESEARCH",
    b"GENURLAUTH",
    b"RESETKEY",
    b"URLFETCH",
    b"CHECK",
    b"CLOSE",
    b"UNSELECT",
    b"EXPUNGE",
    b"UID",
    b"SEARCH",
    b"FETCH",
    b"STORE",
    b"COPY",
    b"MOVE",
    b"SORT",
    b"THREAD",
    b"CANCELUPDATE",
    b"REPLACE",
];

impl CommandBody {
    /// An unknown command with raw arguments. Fails for a known command name (or a name the
    /// decoder reads as one, such as `SELECT[` or `UID.x`), and for arguments that are not
    /// lines without NUL joined by literals (`... {n}\r\n<n bytes>...`), or that end in a
    /// literal announcement. Literals in `raw` are encoded as announced there (their
    /// [`LiteralMark`](crate::encode::LiteralMark)s are recorded).
    pub fn other(name: Atom, raw: impl Into<Bytes>) -> Result<Self, ValidationError> {
        let raw = raw.into();
        if crate::parse::shadows(name.as_bytes(), KNOWN.iter().copied()) {
            return Err(ValidationError::new("command", "name of a known command"));
        }
        check_raw_args(&raw)?;
        Ok(CommandBody::Other { name, raw })
    }

    /// LOGIN with a password.
    pub fn login(username: AString, password: AString) -> Self {
        CommandBody::Login {
            username,
            password: Secret::new(password),
        }
    }

    /// The command name as sent (`UID` forms give `UID`).
    pub fn name(&self) -> &str {
        use CommandBody as C;
        let uid = matches!(
            self,
            C::Search { uid: true, .. }
                | C::Fetch { uid: true, .. }
                | C::Store { uid: true, .. }
                | C::Copy { uid: true, .. }
                | C::Move { uid: true, .. }
                | C::Sort { uid: true, .. }
                | C::Thread { uid: true, .. }
                | C::Replace { uid: true, .. }
                | C::UidExpunge(_)
        );
        if uid {
            return "UID";
        }
        match self {
            C::Capability => "CAPABILITY",
            C::Noop => "NOOP",
            C::Logout => "LOGOUT",
            C::Id(_) => "ID",
            C::StartTls => "STARTTLS",
            C::Authenticate { .. } => "AUTHENTICATE",
            C::Login { .. } => "LOGIN",
            C::Enable(_) => "ENABLE",
            C::Select { .. } => "SELECT",
            C::Examine { .. } => "EXAMINE",
            C::Create { .. } => "CREATE",
            C::Delete(_) => "DELETE",
            C::Rename { .. } => "RENAME",
            C::Subscribe(_) => "SUBSCRIBE",
            C::Unsubscribe(_) => "UNSUBSCRIBE",
            C::List { .. } => "LIST",
            C::Lsub { .. } => "LSUB",
            C::XList { .. } => "XLIST",
            C::RList { .. } => "RLIST",
            C::RLsub { .. } => "RLSUB",
            C::Namespace => "NAMESPACE",
            C::Status { .. } => "STATUS",
            C::Append { .. } => "APPEND",
            C::Idle => "IDLE",
            C::GetQuota(_) => "GETQUOTA",
            C::GetQuotaRoot(_) => "GETQUOTAROOT",
            C::SetQuota { .. } => "SETQUOTA",
            C::GetAcl(_) => "GETACL",
            C::SetAcl { .. } => "SETACL",
            C::DeleteAcl { .. } => "DELETEACL",
            C::ListRights { .. } => "LISTRIGHTS",
            C::MyRights(_) => "MYRIGHTS",
            C::GetMetadata { .. } => "GETMETADATA",
            C::SetMetadata { .. } => "SETMETADATA",
            C::Notify(_) => "NOTIFY",
            C::Compress(_) => "COMPRESS",
            C::Unauthenticate => "UNAUTHENTICATE",
            C::GetJmapAccess => "GETJMAPACCESS",
            C::ESearch { .. } => "ESEARCH",
            C::GenUrlAuth(_) => "GENURLAUTH",
            C::ResetKey(_) => "RESETKEY",
            C::UrlFetch(_) => "URLFETCH",
            C::Check => "CHECK",
            C::Close => "CLOSE",
            C::Unselect => "UNSELECT",
            C::Expunge => "EXPUNGE",
            C::UidExpunge(_) => "UID",
            C::Search { .. } => "SEARCH",
            C::Fetch { .. } => "FETCH",
            C::Store { .. } => "STORE",
            C::Copy { .. } => "COPY",
            C::Move { .. } => "MOVE",
            C::Sort { .. } => "SORT",
            C::Thread { .. } => "THREAD",
            C::CancelUpdate(_) => "CANCELUPDATE",
            C::Replace { .. } => "REPLACE",
            C::Other { name, .. } => name.as_str(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Validation of values built by hand
// ---------------------------------------------------------------------------------------

const MAX63: u64 = i64::MAX as u64;

fn check(ok: bool, what: &'static str, reason: &'static str) -> Result<(), ValidationError> {
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(what, reason))
    }
}

fn non_empty<T>(v: &[T], what: &'static str) -> Result<(), ValidationError> {
    check(!v.is_empty(), what, "must not be empty")
}

fn is_label(a: &Atom) -> bool {
    let b = a.as_bytes();
    b.first()
        .is_some_and(|&c| c.is_ascii_alphabetic() || matches!(c, b'-' | b'_' | b'.'))
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
}

fn check_label(a: &Atom, known: &[&[u8]]) -> Result<(), ValidationError> {
    check(is_label(a), "extension name", "not a tagged-ext-label")?;
    check(
        !crate::parse::shadows(a.as_bytes(), known.iter().copied()),
        "extension name",
        "is (or starts like) the name of a typed option",
    )
}

/// Nesting depth the decoder accepts by default.
fn max_depth() -> u32 {
    crate::options::DecodeOptions::strict().max_depth
}

fn check_comps(v: &[TaggedExtComp], allow_empty: bool, depth: u32) -> Result<(), ValidationError> {
    check(
        depth <= max_depth(),
        "tagged-ext-comp",
        "nested deeper than the decoder's limit",
    )?;
    check(
        allow_empty || !v.is_empty(),
        "tagged-ext-comp",
        "nested list must not be empty",
    )?;
    v.iter().try_for_each(|c| match c {
        TaggedExtComp::AString(_) => Ok(()),
        TaggedExtComp::List(l) => check_comps(l, false, depth + 1),
    })
}

fn check_ext_val(v: &TaggedExtVal) -> Result<(), ValidationError> {
    match v {
        TaggedExtVal::Number(n) => check(*n <= MAX63, "tagged-ext-val", "number above 2^63-1"),
        TaggedExtVal::SequenceSet(s) => {
            s.validate()?;
            check(
                !matches!(s, SequenceSet::Set(v) if matches!(v.as_slice(),
                    [crate::sequence::Sequence::Single(crate::sequence::SeqOrUid::Value(_))])),
                "tagged-ext-val",
                "a single number is TaggedExtVal::Number",
            )
        }
        TaggedExtVal::Comp(c) => check_comps(c, true, 1),
    }
}

fn check_opt_ext(
    name: &Atom,
    value: &Option<TaggedExtVal>,
    known: &[&[u8]],
) -> Result<(), ValidationError> {
    check_label(name, known)?;
    value.as_ref().map_or(Ok(()), check_ext_val)
}

/// `option-extension` (LIST options): any atom name, parenthesised non-empty value.
fn check_option_ext(
    name: &Atom,
    value: &Option<Vec<TaggedExtComp>>,
    known: &[&[u8]],
) -> Result<(), ValidationError> {
    check(
        !crate::parse::shadows(name.as_bytes(), known.iter().copied()),
        "LIST option",
        "is (or starts like) the name of a typed option",
    )?;
    value
        .as_deref()
        .map_or(Ok(()), |v| check_comps(v, false, 1))
}

/// FETCH items sent as `"(" fetch-att *(SP fetch-att) ")"` (NOTIFY, SEARCH RETURN UPDATE):
/// the macros `ALL`/`FAST`/`FULL` cannot be sent there.
fn check_fetch_att_list(f: &FetchItems) -> Result<(), ValidationError> {
    check(
        matches!(f, FetchItems::Attributes(_)),
        "fetch-att list",
        "the ALL/FAST/FULL macros are not allowed here",
    )?;
    f.validate()
}

fn check_return_opts(v: &Option<Vec<SearchReturnOption>>) -> Result<(), ValidationError> {
    const KNOWN_RET: &[&[u8]] = &[
        b"MIN", b"MAX", b"ALL", b"COUNT", b"SAVE", b"CONTEXT", b"UPDATE", b"PARTIAL",
    ];
    v.iter().flatten().try_for_each(|o| match o {
        SearchReturnOption::Other { name, value } => check_opt_ext(name, value, KNOWN_RET),
        SearchReturnOption::UpdateFetch(f) => check_fetch_att_list(f),
        _ => Ok(()),
    })
}

fn check_literal_data(data: &[u8], binary: bool) -> Result<(), ValidationError> {
    check(
        binary || memchr::memchr(0, data).is_none(),
        "literal",
        "data containing NUL must be sent as binary (literal8)",
    )
}

fn check_message(m: &AppendMessage) -> Result<(), ValidationError> {
    m.flags.iter().try_for_each(Flag::validate)?;
    for (n, v) in &m.extensions {
        check_label(n, &[])?;
        check(
            !n.eq_ignore_case(b"CATENATE") && !n.eq_ignore_case(b"UTF8"),
            "append-ext",
            "CATENATE and UTF8 are append-data",
        )?;
        check_ext_val(v)?;
    }
    match &m.data {
        AppendData::Literal { data, binary } => check_literal_data(data, *binary),
        AppendData::Catenate(v) => {
            non_empty(v, "CATENATE parts")?;
            v.iter().try_for_each(|p| match p {
                CatPart::Text { data, binary } => check_literal_data(data, *binary),
                _ => Ok(()),
            })
        }
        AppendData::Utf8(_) => Ok(()),
    }
}

fn check_mailboxes(v: &[Mailbox]) -> Result<(), ValidationError> {
    v.iter().try_for_each(Mailbox::validate)
}

fn check_filter(f: &MailboxFilter) -> Result<(), ValidationError> {
    match f {
        MailboxFilter::Subtree(v) | MailboxFilter::Mailboxes(v) | MailboxFilter::SubtreeOne(v) => {
            non_empty(v, "mailbox filter")?;
            check_mailboxes(v)
        }
        _ => Ok(()),
    }
}

fn check_event(e: &NotifyEvent) -> Result<(), ValidationError> {
    match e {
        NotifyEvent::MessageNew(Some(f)) => check_fetch_att_list(f),
        NotifyEvent::Other(a) => check(
            !crate::parse::shadows(
                a.as_bytes(),
                EVENTS.iter().map(|(n, _)| *n).chain([&b"MessageNew"[..]]),
            ),
            "NOTIFY event",
            "other event holds a known event name",
        ),
        _ => Ok(()),
    }
}

/// `mechanism` of URLAUTH: 1*(ALPHA / DIGIT / "-" / ".").
fn check_url_mech(a: &Atom) -> Result<(), ValidationError> {
    check(
        a.as_bytes()
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.'),
        "URLAUTH mechanism",
        "not 1*(ALPHA / DIGIT / \"-\" / \".\")",
    )
}

/// A literal inside the raw arguments of an unknown command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RawLiteral {
    /// Offset of the payload in the raw arguments.
    start: usize,
    /// Payload length.
    len: usize,
    /// `{n}` or `{n+}`.
    mode: LiteralMode,
}

/// A defect of raw arguments: offset and what was expected.
type RawDefect = (usize, &'static str);

/// Checks the raw arguments of an unknown command, which may carry literals: lines without
/// CR, LF or NUL, each but the last ending in a literal announcement (`{n}`, `{n+}`,
/// `~{n}`, `~{n+}`) followed by CRLF (or a bare LF when `bare_lf`) and the `n` payload
/// bytes (NUL only in `literal8`); the last line does not end in an announcement (a
/// receiver would wait for literal data). Returns the literals.
fn scan_raw_args(raw: &[u8], bare_lf: bool) -> Result<Vec<RawLiteral>, RawDefect> {
    let mut lits = Vec::new();
    let mut pos = 0;
    loop {
        let rest = &raw[pos..];
        let lf = memchr::memchr(b'\n', rest);
        let line_end = match lf {
            Some(i) if i > 0 && rest[i - 1] == b'\r' => i - 1,
            Some(i) if bare_lf => i,
            Some(i) => return Err((pos + i, "CRLF")),
            None => rest.len(),
        };
        let line = &rest[..line_end];
        if let Some(i) = line.iter().position(|&c| matches!(c, b'\r' | b'\n' | 0)) {
            return Err((pos + i, "a byte other than CR, LF or NUL"));
        }
        let announced = literal_announcement(line);
        let Some(lf) = lf else {
            return match announced {
                Some(_) => Err((pos + line.len(), "no literal announcement at the end")),
                None => Ok(lits),
            };
        };
        let Some((len, mode, binary)) = announced else {
            return Err((
                pos + line_end,
                "a literal announcement before the line break",
            ));
        };
        let start = pos + lf + 1;
        let end = usize::try_from(len)
            .ok()
            .and_then(|n| start.checked_add(n))
            .filter(|&e| e <= raw.len())
            .ok_or((start, "literal data"))?;
        if !binary {
            if let Some(i) = memchr::memchr(0, &raw[start..end]) {
                return Err((start + i, "a literal without NUL (or literal8)"));
            }
        }
        lits.push(RawLiteral {
            start,
            len: end - start,
            mode,
        });
        pos = end;
    }
}

/// The literal announced at the end of `line`: length, mode, literal8.
fn literal_announcement(line: &[u8]) -> Option<(u64, LiteralMode, bool)> {
    let r = line.strip_suffix(b"}")?;
    let (r, mode) = match r.strip_suffix(b"+") {
        Some(r) => (r, LiteralMode::NonSync),
        None => (r, LiteralMode::Sync),
    };
    let digits = r.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let r = r[..r.len() - digits].strip_suffix(b"{")?;
    if digits == 0 || digits > 19 {
        return None;
    }
    let n = line[r.len() + 1..r.len() + 1 + digits]
        .iter()
        .fold(0u64, |n, &c| n * 10 + u64::from(c - b'0'));
    Some((n, mode, r.ends_with(b"~")))
}

/// `raw` with the NUL bytes of its lines removed and its line breaks made CRLF (the nearest
/// valid value, for the lenient profile), when that makes it well-formed.
fn normalise_raw_args(raw: &Bytes) -> Option<Bytes> {
    let mut out = Vec::with_capacity(raw.len() + 4);
    let mut pos = 0;
    loop {
        let rest = &raw[pos..];
        let lf = memchr::memchr(b'\n', rest);
        let line = &rest[..lf.unwrap_or(rest.len())];
        let line = line
            .strip_suffix(b"\r")
            .filter(|_| lf.is_some())
            .unwrap_or(line);
        let start_line = out.len();
        out.extend(line.iter().copied().filter(|&c| c != 0));
        let Some(lf) = lf else { break };
        let (n, _, _) = literal_announcement(&out[start_line..])?;
        out.extend_from_slice(b"\r\n");
        let start = pos + lf + 1;
        let end = start.checked_add(usize::try_from(n).ok()?)?.min(raw.len());
        out.extend_from_slice(&raw[start..end]);
        pos = end;
    }
    let out = Bytes::from(out);
    scan_raw_args(&out, false).ok().map(|_| out)
}

fn check_raw_args(raw: &[u8]) -> Result<(), ValidationError> {
    scan_raw_args(raw, false)
        .map(|_| ())
        .map_err(|(_, what)| ValidationError::new("command arguments", what))
}

impl CommandBody {
    /// Checks the invariants the types cannot express (non-empty lists and sets, 63-bit
    /// numbers, extension names that do not shadow typed ones, `Other`/`Extension` variants
    /// that do not hold a known name, nesting within the decoder's default depth, ...).
    ///
    /// A body that passes encodes to valid protocol that decodes (strictly) to an equal
    /// value. Values decoded by this crate in the strict profile pass. [`Command::new`]
    /// calls this.
    pub fn validate(&self) -> Result<(), ValidationError> {
        use CommandBody as C;
        match self {
            C::Capability
            | C::Noop
            | C::Logout
            | C::StartTls
            | C::Idle
            | C::Namespace
            | C::Unauthenticate
            | C::Check
            | C::Close
            | C::Unselect
            | C::Expunge
            | C::Id(_)
            | C::Authenticate { .. }
            | C::Login { .. }
            | C::GetQuota(_)
            | C::GetJmapAccess
            | C::Compress(_) => Ok(()),
            C::Enable(v) => {
                v.iter().try_for_each(Capability::validate)?;
                non_empty(v, "ENABLE capabilities")
            }
            C::Select { mailbox, params } | C::Examine { mailbox, params } => {
                mailbox.validate()?;
                params.iter().try_for_each(|p| match p {
                    SelectParam::QResync {
                        modseq,
                        known_uids,
                        seq_match_data,
                        ..
                    } => {
                        check(
                            (1..=MAX63).contains(modseq),
                            "QRESYNC",
                            "mod-sequence out of range",
                        )?;
                        known_uids.as_ref().map_or(Ok(()), SequenceSet::validate)?;
                        seq_match_data.as_ref().map_or(Ok(()), |(a, b)| {
                            a.validate()?;
                            b.validate()
                        })
                    }
                    SelectParam::Other { name, value } => {
                        check_opt_ext(name, value, &[b"CONDSTORE", b"QRESYNC"])
                    }
                    SelectParam::CondStore => Ok(()),
                })
            }
            C::Create { mailbox, params } => {
                mailbox.validate()?;
                params.iter().try_for_each(|p| match p {
                    CreateParam::Other { name, value } => check_opt_ext(name, value, &[b"USE"]),
                    CreateParam::SpecialUse(v) => v.iter().try_for_each(MailboxAttribute::validate),
                })
            }
            C::Delete(m)
            | C::Subscribe(m)
            | C::Unsubscribe(m)
            | C::GetQuotaRoot(m)
            | C::GetAcl(m)
            | C::MyRights(m)
            | C::DeleteAcl { mailbox: m, .. }
            | C::ListRights { mailbox: m, .. } => m.validate(),
            C::Rename { from, to } => {
                from.validate()?;
                to.validate()
            }
            C::List {
                selection,
                reference,
                patterns,
                return_opts,
            } => {
                reference.validate()?;
                non_empty(patterns, "LIST patterns")?;
                for o in selection.iter().flatten() {
                    if let ListSelectOption::Other { name, value } = o {
                        check_option_ext(
                            name,
                            value,
                            &[b"SUBSCRIBED", b"REMOTE", b"RECURSIVEMATCH", b"SPECIAL-USE"],
                        )?;
                    }
                }
                for o in return_opts.iter().flatten() {
                    match o {
                        ListReturnOption::Status(v) => {
                            non_empty(v, "STATUS return option")?;
                            v.iter().try_for_each(StatusAttribute::validate)?;
                        }
                        ListReturnOption::Metadata(v) => non_empty(v, "METADATA return option")?,
                        ListReturnOption::Other { name, value } => check_option_ext(
                            name,
                            value,
                            &[
                                b"SUBSCRIBED",
                                b"CHILDREN",
                                b"STATUS",
                                b"SPECIAL-USE",
                                b"MYRIGHTS",
                                b"METADATA",
                            ],
                        )?,
                        _ => {}
                    }
                }
                Ok(())
            }
            C::Lsub { reference, .. }
            | C::XList { reference, .. }
            | C::RList { reference, .. }
            | C::RLsub { reference, .. } => reference.validate(),
            C::Status {
                mailbox,
                attributes,
            } => {
                mailbox.validate()?;
                non_empty(attributes, "STATUS attributes")?;
                attributes.iter().try_for_each(StatusAttribute::validate)
            }
            C::Append { mailbox, messages } => {
                mailbox.validate()?;
                non_empty(messages, "APPEND messages")?;
                messages.iter().try_for_each(check_message)
            }
            C::Replace {
                mailbox, message, ..
            } => {
                mailbox.validate()?;
                check_message(message)
            }
            C::SetQuota { limits, .. } => limits.iter().try_for_each(|l| {
                check(l.limit <= MAX63, "SETQUOTA", "limit above 2^63-1")?;
                match &l.resource {
                    QuotaResource::Other(a) => check(
                        !crate::parse::shadows(a.as_bytes(), QUOTA_RES.iter().map(|(n, _)| *n)),
                        "resource-name",
                        "other resource holds a known name",
                    ),
                    _ => Ok(()),
                }
            }),
            C::SetAcl {
                mailbox,
                modification,
                rights,
                ..
            } => {
                mailbox.validate()?;
                check(
                    *modification != AclModification::Replace
                        || !matches!(rights.as_bytes().first(), Some(b'+' | b'-')),
                    "SETACL rights",
                    "start with + or - (use the modification)",
                )
            }
            C::GetMetadata {
                options,
                mailbox,
                entries,
            } => {
                mailbox.validate()?;
                non_empty(entries, "GETMETADATA entries")?;
                options.iter().try_for_each(|o| match o {
                    GetMetadataOption::Other { name, value } => {
                        check_opt_ext(name, value, &[b"MAXSIZE", b"DEPTH"])
                    }
                    _ => Ok(()),
                })
            }
            C::SetMetadata { mailbox, entries } => {
                mailbox.validate()?;
                non_empty(entries, "SETMETADATA entries")
            }
            C::Notify(Notify::None) => Ok(()),
            C::Notify(Notify::Set { groups, .. }) => {
                non_empty(groups, "NOTIFY event groups")?;
                groups.iter().try_for_each(|g| {
                    check_filter(&g.filter)?;
                    g.events.iter().try_for_each(check_event)
                })
            }
            C::ESearch {
                source,
                return_opts,
                criteria,
                ..
            } => {
                if let Some(s) = source {
                    non_empty(&s.filters, "ESEARCH source mailboxes")?;
                    s.filters.iter().try_for_each(check_filter)?;
                    for (n, v) in &s.scope_options {
                        check_opt_ext(n, v, &[])?;
                    }
                }
                check_return_opts(return_opts)?;
                SearchKey::validate_many(criteria)
            }
            C::GenUrlAuth(v) => {
                non_empty(v, "GENURLAUTH arguments")?;
                v.iter().try_for_each(|(_, m)| check_url_mech(m))
            }
            C::ResetKey(None) => Ok(()),
            C::ResetKey(Some((m, mechs))) => {
                m.validate()?;
                mechs.iter().try_for_each(check_url_mech)
            }
            C::UrlFetch(v) => non_empty(v, "URLFETCH URLs"),
            C::UidExpunge(s) => s.validate(),
            C::Search {
                return_opts,
                criteria,
                ..
            } => {
                check_return_opts(return_opts)?;
                SearchKey::validate_many(criteria)
            }
            C::Fetch {
                sequence_set,
                items,
                modifiers,
                ..
            } => {
                sequence_set.validate()?;
                items.validate()?;
                modifiers.iter().try_for_each(|m| match m {
                    FetchModifier::ChangedSince(n) => check(
                        (1..=MAX63).contains(n),
                        "CHANGEDSINCE",
                        "mod-sequence out of range",
                    ),
                    FetchModifier::Other { name, value } => {
                        check_opt_ext(name, value, &[b"CHANGEDSINCE", b"VANISHED", b"PARTIAL"])
                    }
                    _ => Ok(()),
                })
            }
            C::Store {
                sequence_set,
                modifiers,
                data,
                ..
            } => {
                sequence_set.validate()?;
                modifiers.iter().try_for_each(|m| match m {
                    StoreModifier::UnchangedSince(n) => {
                        check(*n <= MAX63, "UNCHANGEDSINCE", "mod-sequence above 2^63-1")
                    }
                    StoreModifier::Other { name, value } => {
                        check_opt_ext(name, value, &[b"UNCHANGEDSINCE"])
                    }
                })?;
                match data {
                    StoreData::Flags(v) => v.iter().try_for_each(Flag::validate),
                    StoreData::GmailLabels(_) => Ok(()),
                }
            }
            C::Copy {
                sequence_set,
                mailbox,
                ..
            }
            | C::Move {
                sequence_set,
                mailbox,
                ..
            } => {
                sequence_set.validate()?;
                mailbox.validate()
            }
            C::Sort {
                return_opts,
                criteria,
                search,
                ..
            } => {
                non_empty(criteria, "sort criteria")?;
                criteria.iter().try_for_each(SortCriterion::validate)?;
                check_return_opts(return_opts)?;
                SearchKey::validate_many(search)
            }
            C::Thread {
                algorithm, search, ..
            } => {
                algorithm.validate()?;
                SearchKey::validate_many(search)
            }
            C::CancelUpdate(v) => non_empty(v, "CANCELUPDATE tags"),
            C::Other { name, raw } => {
                check(
                    !crate::parse::shadows(name.as_bytes(), KNOWN.iter().copied()),
                    "command",
                    "name of a known command",
                )?;
                check_raw_args(raw)
            }
        }
    }
}

impl Command {
    /// Validates the body (see [`CommandBody::validate`]). Always succeeds for values built
    /// with [`Command::new`] or decoded.
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.body.validate()
    }
}

fn sp_mailbox(p: &mut Parser<'_>) -> PResult<Mailbox> {
    p.sp()?;
    Mailbox::parse(p)
}

fn sp_astring(p: &mut Parser<'_>) -> PResult<AString> {
    p.sp()?;
    IString::parse_astring(p)
}

fn sp_seq(p: &mut Parser<'_>) -> PResult<SequenceSet> {
    p.sp()?;
    SequenceSet::parse(p)
}

/// `[SP "(" item *(SP item) ")"]`.
fn opt_params<T>(
    p: &mut Parser<'_>,
    item: impl FnMut(&mut Parser<'_>) -> PResult<T>,
) -> PResult<Vec<T>> {
    if p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(') {
        p.sp()?;
        paren_list(p, false, item)
    } else {
        Ok(Vec::new())
    }
}

/// `[SP "RETURN" SP "(" ... ")"]`.
fn opt_return(p: &mut Parser<'_>) -> PResult<Option<Vec<SearchReturnOption>>> {
    if p.peek() != Some(b' ') {
        return Ok(None);
    }
    let found = p.opt(|p| {
        p.sp()?;
        if p.looking_at_ci(b"RETURN ") {
            Ok(())
        } else {
            Err(Fail)
        }
    });
    match found {
        Some(()) => SearchReturnOption::parse_return(p).map(Some),
        None => Ok(None),
    }
}

/// `[CHARSET charset SP] search-key *(SP search-key)` after the SP.
fn search_program(p: &mut Parser<'_>) -> PResult<(Option<Charset>, Vec<SearchKey>)> {
    let charset = if p.keyword(b"CHARSET") {
        p.sp()?;
        let c = Charset::parse(p)?;
        p.sp()?;
        Some(c)
    } else {
        None
    };
    Ok((charset, SearchKey::parse_many(p)?))
}

fn store_args(p: &mut Parser<'_>) -> PResult<(StoreType, bool, StoreData)> {
    let kind = if p.eat(b'+') {
        StoreType::Add
    } else if p.eat(b'-') {
        StoreType::Remove
    } else {
        StoreType::Replace
    };
    let labels = if p.keyword(b"FLAGS") {
        false
    } else if p.keyword(b"X-GM-LABELS") {
        true
    } else {
        return Err(p.fail("FLAGS"));
    };
    let silent = p.eat_ci(b".SILENT");
    p.sp()?;
    let data = if labels {
        if p.peek() == Some(b'(') {
            StoreData::GmailLabels(paren_list(p, true, GmailLabel::parse)?)
        } else {
            let mut v = vec![GmailLabel::parse(p)?];
            v.extend(sp_items(p, true, GmailLabel::parse)?);
            StoreData::GmailLabels(v)
        }
    } else if p.peek() == Some(b'(') {
        StoreData::Flags(parse_flag_list(p, Flag::parse)?)
    } else {
        let mut v = vec![Flag::parse(p)?];
        v.extend(sp_items(p, true, Flag::parse)?);
        StoreData::Flags(v)
    };
    Ok((kind, silent, data))
}

/// The arguments of `[UID] REPLACE`.
fn replace_args(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let number = nz(p)?;
    let mailbox = sp_mailbox(p)?;
    let message = AppendMessage::parse(p)?;
    Ok(CommandBody::Replace {
        number,
        mailbox,
        message,
        uid,
    })
}

/// Commands that exist with and without `UID`.
fn uid_capable(p: &mut Parser<'_>, w: Word, uid: bool) -> PResult<Option<CommandBody>> {
    use CommandBody as C;
    Ok(Some(if w.is(p, b"SEARCH") {
        let return_opts = opt_return(p)?;
        p.sp()?;
        let (charset, criteria) = search_program(p)?;
        C::Search {
            return_opts,
            charset,
            criteria,
            uid,
        }
    } else if w.is(p, b"FETCH") {
        let sequence_set = sp_seq(p)?;
        p.sp()?;
        let items = FetchItems::parse(p)?;
        let modifiers = opt_params(p, FetchModifier::parse)?;
        C::Fetch {
            sequence_set,
            items,
            modifiers,
            uid,
        }
    } else if w.is(p, b"STORE") {
        let sequence_set = sp_seq(p)?;
        let modifiers = opt_params(p, StoreModifier::parse)?;
        p.sp()?;
        let (kind, silent, data) = store_args(p)?;
        C::Store {
            sequence_set,
            modifiers,
            kind,
            silent,
            data,
            uid,
        }
    } else if w.is(p, b"COPY") {
        let sequence_set = sp_seq(p)?;
        C::Copy {
            sequence_set,
            mailbox: sp_mailbox(p)?,
            uid,
        }
    } else if w.is(p, b"MOVE") {
        let sequence_set = sp_seq(p)?;
        C::Move {
            sequence_set,
            mailbox: sp_mailbox(p)?,
            uid,
        }
    } else if w.is(p, b"SORT") {
        let return_opts = opt_return(p)?;
        p.sp()?;
        let criteria = SortCriterion::parse_list(p)?;
        p.sp()?;
        let charset = Charset::parse(p)?;
        p.sp()?;
        let search = SearchKey::parse_many(p)?;
        C::Sort {
            return_opts,
            criteria,
            charset,
            search,
            uid,
        }
    } else if w.is(p, b"THREAD") {
        p.sp()?;
        let algorithm = ThreadAlgorithm::parse(p)?;
        p.sp()?;
        let charset = Charset::parse(p)?;
        p.sp()?;
        let search = SearchKey::parse_many(p)?;
        C::Thread {
            algorithm,
            charset,
            search,
            uid,
        }
    } else if w.is(p, b"REPLACE") {
        replace_args(p, uid)?
    } else {
        return Ok(None);
    }))
}

fn initial_response(p: &mut Parser<'_>) -> PResult<Bytes> {
    if p.eat(b'=') {
        return Ok(Bytes::new());
    }
    base64_data(p, false)
}

/// Base64 data up to the line end (empty allowed when `allow_empty`).
fn base64_data(p: &mut Parser<'_>, allow_empty: bool) -> PResult<Bytes> {
    let start = p.pos;
    let s = p.take_while(|c| crate::base64::is_base64_char(c) || c == b'=');
    if s.is_empty() && !allow_empty {
        return Err(p.fail("base64"));
    }
    match crate::base64::decode(&s) {
        Ok(v) => Ok(Bytes::from(v)),
        Err(e) => Err(p.fail_at(start + e.offset, "base64")),
    }
}

fn id_params(p: &mut Parser<'_>) -> PResult<Option<Vec<(IString, NString)>>> {
    if p.nil() {
        return Ok(None);
    }
    p.expect(b'(', "( or NIL")?;
    let mut v = Vec::new();
    p.skip_trailing_sp();
    if p.eat(b')') {
        return Ok(Some(v));
    }
    loop {
        let k = IString::parse_string(p)?;
        p.sp()?;
        let val = IString::parse_nstring(p)?;
        v.push((k, val));
        p.check_items(v.len())?;
        p.skip_trailing_sp();
        if p.eat(b')') {
            return Ok(Some(v));
        }
        p.sp()?;
    }
}

fn metadata_value(p: &mut Parser<'_>) -> PResult<MetadataValue> {
    if p.peek() == Some(b'~') {
        return p.literal_any(true).map(|(b, _)| Some(b));
    }
    p.nstring()
}

fn url_mechanism(p: &mut Parser<'_>) -> PResult<Atom> {
    let b = p.take_while(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.');
    if b.is_empty() {
        return Err(p.fail("URLAUTH mechanism"));
    }
    Ok(Atom::unchecked(b))
}

fn esearch_source(p: &mut Parser<'_>) -> PResult<ESearchSource> {
    p.expect(b'(', "(")?;
    let mut filters = vec![MailboxFilter::parse(p)?];
    let mut scope_options = Vec::new();
    loop {
        if p.eat(b')') {
            break;
        }
        p.sp()?;
        if p.eat(b'(') {
            loop {
                let name = tagged_label(p)?;
                let value = TaggedExtVal::parse_opt_param(p)?;
                scope_options.push((name, value));
                p.check_items(scope_options.len())?;
                if p.eat(b')') {
                    break;
                }
                p.sp()?;
            }
            p.expect(b')', ")")?;
            break;
        }
        filters.push(MailboxFilter::parse(p)?);
        p.check_items(filters.len())?;
    }
    Ok(ESearchSource {
        filters,
        scope_options,
    })
}

impl CommandBody {
    /// Parses the command after `tag SP`, up to (excluding) the final CRLF.
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let mut out = CommandBody::Noop;
        Self::parse_into(p, &mut out)?;
        Ok(out)
    }

    /// Like [`parse`](Self::parse), writing the body into `out` (one move of the value fewer
    /// for the stream decoder). On failure `out` holds some value that the caller discards.
    fn parse_into(p: &mut Parser<'_>, out: &mut Self) -> PResult<()> {
        use CommandBody as C;
        let w = Word::peek(p);
        if w.is(p, b"UID") {
            p.sp()?;
            if p.keyword(b"EXPUNGE") {
                *out = C::UidExpunge(sp_seq(p)?);
                return Ok(());
            }
            return match uid_capable(p, Word::peek(p), true)? {
                Some(c) => {
                    *out = c;
                    Ok(())
                }
                None => Err(p.fail("UID command")),
            };
        }
        if let Some(c) = uid_capable(p, w, false)? {
            *out = c;
            return Ok(());
        }
        *out = Self::parse_rest(p, w)?;
        Ok(())
    }

    /// The commands [`uid_capable`] does not know, named by the word `w` at the cursor.
    fn parse_rest(p: &mut Parser<'_>, w: Word) -> PResult<Self> {
        use CommandBody as C;
        Ok(if w.is(p, b"CAPABILITY") {
            C::Capability
        } else if w.is(p, b"NOOP") {
            C::Noop
        } else if w.is(p, b"LOGOUT") {
            C::Logout
        } else if w.is(p, b"ID") {
            p.sp()?;
            C::Id(id_params(p)?)
        } else if w.is(p, b"STARTTLS") {
            C::StartTls
        } else if w.is(p, b"AUTHENTICATE") {
            p.sp()?;
            let mechanism = Atom::parse(p)?;
            let initial_response = if end_ahead(p, false) {
                None
            } else {
                p.sp()?;
                Some(Secret::new(initial_response(p)?))
            };
            C::Authenticate {
                mechanism,
                initial_response,
            }
        } else if w.is(p, b"LOGIN") {
            let username = sp_astring(p)?;
            let password = Secret::new(sp_astring(p)?);
            C::Login { username, password }
        } else if w.is(p, b"ENABLE") {
            C::Enable(sp_items(p, false, Capability::parse)?)
        } else if w.is(p, b"SELECT") {
            let mailbox = sp_mailbox(p)?;
            let params = opt_params(p, SelectParam::parse)?;
            C::Select { mailbox, params }
        } else if w.is(p, b"EXAMINE") {
            let mailbox = sp_mailbox(p)?;
            let params = opt_params(p, SelectParam::parse)?;
            C::Examine { mailbox, params }
        } else if w.is(p, b"CREATE") {
            let mailbox = sp_mailbox(p)?;
            let params = opt_params(p, CreateParam::parse)?;
            C::Create { mailbox, params }
        } else if w.is(p, b"DELETE") {
            C::Delete(sp_mailbox(p)?)
        } else if w.is(p, b"RENAME") {
            let from = sp_mailbox(p)?;
            C::Rename {
                from,
                to: sp_mailbox(p)?,
            }
        } else if w.is(p, b"SUBSCRIBE") {
            C::Subscribe(sp_mailbox(p)?)
        } else if w.is(p, b"UNSUBSCRIBE") {
            C::Unsubscribe(sp_mailbox(p)?)
        } else if w.is(p, b"LIST") {
            p.sp()?;
            let selection = if p.peek() == Some(b'(') {
                let v = paren_list(p, true, ListSelectOption::parse)?;
                p.sp()?;
                Some(v)
            } else {
                None
            };
            let reference = Mailbox::parse(p)?;
            p.sp()?;
            let patterns = if p.peek() == Some(b'(') {
                paren_list(p, false, ListMailbox::parse)?
            } else {
                vec![ListMailbox::parse(p)?]
            };
            let return_opts = if end_ahead(p, false) {
                None
            } else {
                p.sp()?;
                p.expect_keyword(b"RETURN", "RETURN")?;
                p.sp()?;
                Some(paren_list(p, true, ListReturnOption::parse)?)
            };
            C::List {
                selection,
                reference,
                patterns,
                return_opts,
            }
        } else if w.is(p, b"LSUB") {
            let reference = sp_mailbox(p)?;
            p.sp()?;
            C::Lsub {
                reference,
                pattern: ListMailbox::parse(p)?,
            }
        } else if w.is(p, b"XLIST") {
            let reference = sp_mailbox(p)?;
            p.sp()?;
            C::XList {
                reference,
                pattern: ListMailbox::parse(p)?,
            }
        } else if w.is(p, b"RLIST") {
            let reference = sp_mailbox(p)?;
            p.sp()?;
            C::RList {
                reference,
                pattern: ListMailbox::parse(p)?,
            }
        } else if w.is(p, b"RLSUB") {
            let reference = sp_mailbox(p)?;
            p.sp()?;
            C::RLsub {
                reference,
                pattern: ListMailbox::parse(p)?,
            }
        } else if w.is(p, b"NAMESPACE") {
            C::Namespace
        } else if w.is(p, b"STATUS") {
            let mailbox = sp_mailbox(p)?;
            p.sp()?;
            C::Status {
                mailbox,
                attributes: paren_list(p, false, StatusAttribute::parse)?,
            }
        } else if w.is(p, b"APPEND") {
            let mailbox = sp_mailbox(p)?;
            let mut messages = vec![AppendMessage::parse(p)?];
            while !end_ahead(p, false) {
                messages.push(AppendMessage::parse(p)?);
                p.check_items(messages.len())?;
            }
            C::Append { mailbox, messages }
        } else if w.is(p, b"IDLE") {
            C::Idle
        } else if w.is(p, b"GETQUOTA") {
            C::GetQuota(sp_astring(p)?)
        } else if w.is(p, b"GETQUOTAROOT") {
            C::GetQuotaRoot(sp_mailbox(p)?)
        } else if w.is(p, b"SETQUOTA") {
            let root = sp_astring(p)?;
            p.sp()?;
            let limits = paren_list(p, true, |p| {
                let resource = QuotaResource::parse(p)?;
                p.sp()?;
                let limit = p.number64()?;
                Ok(QuotaLimit { resource, limit })
            })?;
            C::SetQuota { root, limits }
        } else if w.is(p, b"GETACL") {
            C::GetAcl(sp_mailbox(p)?)
        } else if w.is(p, b"SETACL") {
            let mailbox = sp_mailbox(p)?;
            let identifier = sp_astring(p)?;
            let r = sp_astring(p)?;
            let (modification, rights) = match r.as_bytes().first() {
                Some(b'+') => (
                    AclModification::Add,
                    IString::unchecked(r.to_bytes().slice(1..)),
                ),
                Some(b'-') => (
                    AclModification::Remove,
                    IString::unchecked(r.to_bytes().slice(1..)),
                ),
                _ => (AclModification::Replace, r),
            };
            C::SetAcl {
                mailbox,
                identifier,
                modification,
                rights,
            }
        } else if w.is(p, b"DELETEACL") {
            let mailbox = sp_mailbox(p)?;
            C::DeleteAcl {
                mailbox,
                identifier: sp_astring(p)?,
            }
        } else if w.is(p, b"LISTRIGHTS") {
            let mailbox = sp_mailbox(p)?;
            C::ListRights {
                mailbox,
                identifier: sp_astring(p)?,
            }
        } else if w.is(p, b"MYRIGHTS") {
            C::MyRights(sp_mailbox(p)?)
        } else if w.is(p, b"GETMETADATA") {
            p.sp()?;
            let options = if p.peek() == Some(b'(') {
                let v = paren_list(p, false, GetMetadataOption::parse)?;
                p.sp()?;
                v
            } else {
                Vec::new()
            };
            let mailbox = Mailbox::parse(p)?;
            p.sp()?;
            let entries = if p.peek() == Some(b'(') {
                paren_list(p, false, IString::parse_astring)?
            } else {
                vec![IString::parse_astring(p)?]
            };
            C::GetMetadata {
                options,
                mailbox,
                entries,
            }
        } else if w.is(p, b"SETMETADATA") {
            let mailbox = sp_mailbox(p)?;
            p.sp()?;
            let entries = paren_list(p, false, |p| {
                let e = IString::parse_astring(p)?;
                p.sp()?;
                Ok((e, metadata_value(p)?))
            })?;
            C::SetMetadata { mailbox, entries }
        } else if w.is(p, b"NOTIFY") {
            p.sp()?;
            if p.keyword(b"NONE") {
                C::Notify(Notify::None)
            } else {
                p.expect_keyword(b"SET", "SET or NONE")?;
                p.sp()?;
                let status = if p.keyword(b"STATUS") {
                    p.sp()?;
                    true
                } else {
                    false
                };
                let mut groups = vec![EventGroup::parse(p)?];
                groups.extend(sp_items(p, true, EventGroup::parse)?);
                C::Notify(Notify::Set { status, groups })
            }
        } else if w.is(p, b"COMPRESS") {
            p.sp()?;
            C::Compress(Atom::parse(p)?)
        } else if w.is(p, b"UNAUTHENTICATE") {
            C::Unauthenticate
        } else if w.is(p, b"GETJMAPACCESS") {
            C::GetJmapAccess
        } else if w.is(p, b"ESEARCH") {
            p.sp()?;
            let source = if p.keyword(b"IN") {
                p.sp()?;
                let s = esearch_source(p)?;
                p.sp()?;
                Some(s)
            } else {
                None
            };
            let return_opts = if p.looking_at_ci(b"RETURN ") {
                let r = SearchReturnOption::parse_return(p)?;
                p.sp()?;
                Some(r)
            } else {
                None
            };
            let (charset, criteria) = search_program(p)?;
            C::ESearch {
                source,
                return_opts,
                charset,
                criteria,
            }
        } else if w.is(p, b"GENURLAUTH") {
            C::GenUrlAuth(sp_items(p, false, |p| {
                let url = IString::parse_astring(p)?;
                p.sp()?;
                Ok((url, url_mechanism(p)?))
            })?)
        } else if w.is(p, b"RESETKEY") {
            if end_ahead(p, false) {
                C::ResetKey(None)
            } else {
                let mailbox = sp_mailbox(p)?;
                let mechs = sp_items(p, true, url_mechanism)?;
                C::ResetKey(Some((mailbox, mechs)))
            }
        } else if w.is(p, b"URLFETCH") {
            C::UrlFetch(sp_items(p, false, IString::parse_astring)?)
        } else if w.is(p, b"CHECK") {
            C::Check
        } else if w.is(p, b"CLOSE") {
            C::Close
        } else if w.is(p, b"UNSELECT") {
            C::Unselect
        } else if w.is(p, b"EXPUNGE") {
            C::Expunge
        } else if w.is(p, b"CANCELUPDATE") {
            C::CancelUpdate(sp_items(p, false, |p| {
                let start = p.pos;
                let q = p.quoted()?;
                Tag::new(q).map_err(|_| p.fail_at(start, "quoted tag"))
            })?)
        } else {
            let start = p.pos;
            let name = Atom::parse(p)?;
            if KNOWN.iter().any(|k| name.eq_ignore_case(k)) {
                return Err(p.fail_at(start, "command"));
            }
            let raw = if p.at_crlf() {
                Bytes::new()
            } else {
                p.sp()?;
                let rest = p.rest();
                let end = if rest.ends_with(b"\r\n") {
                    rest.len() - 2
                } else if rest.ends_with(b"\n") {
                    rest.len() - 1
                } else {
                    return Err(p.fail_at(p.pos + rest.len(), "CRLF"));
                };
                let mut raw = p.slice(p.pos, p.pos + end);
                if raw.is_empty() && !p.tolerate(Quirk::ExtraSpaces, p.pos) {
                    return Err(p.fail("command arguments"));
                }
                if let Err((at, what)) = scan_raw_args(&raw, false) {
                    // Lenient: NUL in the lines is dropped and bare LFs become CRLF (the
                    // nearest valid value).
                    let quirk = if memchr::memchr(0, &raw).is_some() {
                        Quirk::EightBit
                    } else {
                        Quirk::BareLf
                    };
                    match normalise_raw_args(&raw) {
                        Some(c) if p.tolerate(quirk, p.pos + at) => raw = c,
                        _ => return Err(p.fail_at(p.pos + at, what)),
                    }
                }
                p.pos += end;
                raw
            };
            C::Other { name, raw }
        })
    }
}

impl Command {
    /// Parses a whole command message including its final CRLF.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let tag = Tag::parse(p)?;
        p.sp()?;
        let body = CommandBody::parse(p)?;
        p.crlf_end()?;
        Ok(Command { tag, body })
    }

    /// A value for [`parse_into`](Self::parse_into) to overwrite.
    pub(crate) fn placeholder() -> Command {
        Command {
            tag: Tag::placeholder(),
            body: CommandBody::Noop,
        }
    }

    /// Like [`parse`](Self::parse), writing the command into `out` (what the stream decoder
    /// returns) instead of moving it through the `Result`/`Decoded`/event wrappers.
    /// On failure `out` holds some value that the caller discards.
    pub(crate) fn parse_into(p: &mut Parser<'_>, out: &mut Self) -> PResult<()> {
        out.tag = Tag::parse(p)?;
        p.sp()?;
        CommandBody::parse_into(p, &mut out.body)?;
        p.crlf_end()
    }
}

fn encode_mailbox_pair(buf: &mut EncodeBuf, kw: &[u8], a: &Mailbox, b: &Mailbox) {
    buf.raw(kw);
    buf.sp();
    a.encode(buf);
    buf.sp();
    b.encode(buf);
}

fn encode_params<T: Encode>(buf: &mut EncodeBuf, v: &[T]) {
    if !v.is_empty() {
        buf.sp();
        buf.list(v, |b, x| x.encode(b));
    }
}

fn encode_search_tail(
    buf: &mut EncodeBuf,
    return_opts: &Option<Vec<SearchReturnOption>>,
    charset: &Option<Charset>,
    criteria: &[SearchKey],
) {
    if let Some(r) = return_opts {
        buf.sp();
        SearchReturnOption::encode_return(r, buf);
    }
    buf.sp();
    if let Some(c) = charset {
        buf.raw(b"CHARSET ");
        c.encode(buf);
        buf.sp();
    }
    SearchKey::encode_many(criteria, buf);
}

impl Encode for CommandBody {
    fn encode(&self, buf: &mut EncodeBuf) {
        use CommandBody as C;
        let uid_prefix = |buf: &mut EncodeBuf, uid: bool| {
            if uid {
                buf.raw(b"UID ");
            }
        };
        match self {
            C::Capability => buf.raw(b"CAPABILITY"),
            C::Noop => buf.raw(b"NOOP"),
            C::Logout => buf.raw(b"LOGOUT"),
            C::Id(params) => {
                buf.raw(b"ID ");
                match params {
                    None => buf.raw(b"NIL"),
                    Some(v) => buf.list(v, |b, (k, val)| {
                        k.encode_string(b);
                        b.sp();
                        IString::encode_nstring(val, b);
                    }),
                }
            }
            C::StartTls => buf.raw(b"STARTTLS"),
            C::Authenticate {
                mechanism,
                initial_response,
            } => {
                buf.raw(b"AUTHENTICATE ");
                mechanism.encode(buf);
                if let Some(ir) = initial_response {
                    buf.sp();
                    if ir.expose().is_empty() {
                        buf.byte(b'=');
                    } else {
                        buf.raw(crate::base64::encode(ir.expose()).as_bytes());
                    }
                }
            }
            C::Login { username, password } => {
                buf.raw(b"LOGIN ");
                username.encode_astring(buf);
                buf.sp();
                password.expose().encode_astring(buf);
            }
            C::Enable(caps) => {
                buf.raw(b"ENABLE");
                for c in caps {
                    buf.sp();
                    c.encode(buf);
                }
            }
            C::Select { mailbox, params } | C::Examine { mailbox, params } => {
                buf.raw(if matches!(self, C::Select { .. }) {
                    b"SELECT "
                } else {
                    b"EXAMINE "
                });
                mailbox.encode(buf);
                encode_params(buf, params);
            }
            C::Create { mailbox, params } => {
                buf.raw(b"CREATE ");
                mailbox.encode(buf);
                encode_params(buf, params);
            }
            C::Delete(m) => {
                buf.raw(b"DELETE ");
                m.encode(buf);
            }
            C::Rename { from, to } => encode_mailbox_pair(buf, b"RENAME", from, to),
            C::Subscribe(m) => {
                buf.raw(b"SUBSCRIBE ");
                m.encode(buf);
            }
            C::Unsubscribe(m) => {
                buf.raw(b"UNSUBSCRIBE ");
                m.encode(buf);
            }
            C::List {
                selection,
                reference,
                patterns,
                return_opts,
            } => {
                buf.raw(b"LIST ");
                if let Some(s) = selection {
                    buf.list(s, |b, o| o.encode(b));
                    buf.sp();
                }
                reference.encode(buf);
                buf.sp();
                if patterns.len() == 1 {
                    patterns[0].encode(buf);
                } else {
                    buf.list(patterns, |b, m| m.encode(b));
                }
                if let Some(r) = return_opts {
                    buf.raw(b" RETURN ");
                    buf.list(r, |b, o| o.encode(b));
                }
            }
            C::Lsub { reference, pattern }
            | C::XList { reference, pattern }
            | C::RList { reference, pattern }
            | C::RLsub { reference, pattern } => {
                buf.raw(match self {
                    C::Lsub { .. } => b"LSUB ",
                    C::XList { .. } => b"XLIST ",
                    C::RList { .. } => b"RLIST ",
                    _ => b"RLSUB ",
                });
                reference.encode(buf);
                buf.sp();
                pattern.encode(buf);
            }
            C::Namespace => buf.raw(b"NAMESPACE"),
            C::Status {
                mailbox,
                attributes,
            } => {
                buf.raw(b"STATUS ");
                mailbox.encode(buf);
                buf.sp();
                buf.list(attributes, |b, a| a.encode(b));
            }
            C::Append { mailbox, messages } => {
                buf.raw(b"APPEND ");
                mailbox.encode(buf);
                for m in messages {
                    m.encode(buf);
                }
            }
            C::Idle => buf.raw(b"IDLE"),
            C::GetQuota(root) => {
                buf.raw(b"GETQUOTA ");
                root.encode_astring(buf);
            }
            C::GetQuotaRoot(m) => {
                buf.raw(b"GETQUOTAROOT ");
                m.encode(buf);
            }
            C::SetQuota { root, limits } => {
                buf.raw(b"SETQUOTA ");
                root.encode_astring(buf);
                buf.sp();
                buf.list(limits, |b, l| {
                    l.resource.encode(b);
                    b.sp();
                    b.num(l.limit);
                });
            }
            C::GetAcl(m) => {
                buf.raw(b"GETACL ");
                m.encode(buf);
            }
            C::SetAcl {
                mailbox,
                identifier,
                modification,
                rights,
            } => {
                buf.raw(b"SETACL ");
                mailbox.encode(buf);
                buf.sp();
                identifier.encode_astring(buf);
                buf.sp();
                let mut r = Vec::with_capacity(rights.as_bytes().len() + 1);
                match modification {
                    AclModification::Add => r.push(b'+'),
                    AclModification::Remove => r.push(b'-'),
                    AclModification::Replace => {}
                }
                r.extend_from_slice(rights.as_bytes());
                buf.astring(&r);
            }
            C::DeleteAcl {
                mailbox,
                identifier,
            }
            | C::ListRights {
                mailbox,
                identifier,
            } => {
                buf.raw(if matches!(self, C::DeleteAcl { .. }) {
                    b"DELETEACL "
                } else {
                    b"LISTRIGHTS "
                });
                mailbox.encode(buf);
                buf.sp();
                identifier.encode_astring(buf);
            }
            C::MyRights(m) => {
                buf.raw(b"MYRIGHTS ");
                m.encode(buf);
            }
            C::GetMetadata {
                options,
                mailbox,
                entries,
            } => {
                buf.raw(b"GETMETADATA ");
                if !options.is_empty() {
                    buf.list(options, |b, o| o.encode(b));
                    buf.sp();
                }
                mailbox.encode(buf);
                buf.sp();
                if entries.len() == 1 {
                    entries[0].encode_astring(buf);
                } else {
                    buf.list(entries, |b, e| e.encode_astring(b));
                }
            }
            C::SetMetadata { mailbox, entries } => {
                buf.raw(b"SETMETADATA ");
                mailbox.encode(buf);
                buf.sp();
                buf.list(entries, |b, (e, v)| {
                    e.encode_astring(b);
                    b.sp();
                    match v {
                        None => b.raw(b"NIL"),
                        Some(v) if memchr::memchr(0, v).is_some() => b.literal(v, true),
                        Some(v) => b.string(v),
                    }
                });
            }
            C::Notify(n) => match n {
                Notify::None => buf.raw(b"NOTIFY NONE"),
                Notify::Set { status, groups } => {
                    buf.raw(b"NOTIFY SET");
                    if *status {
                        buf.raw(b" STATUS");
                    }
                    for g in groups {
                        buf.sp();
                        g.encode(buf);
                    }
                }
            },
            C::Compress(a) => {
                buf.raw(b"COMPRESS ");
                a.encode(buf);
            }
            C::Unauthenticate => buf.raw(b"UNAUTHENTICATE"),
            C::GetJmapAccess => buf.raw(b"GETJMAPACCESS"),
            C::ESearch {
                source,
                return_opts,
                charset,
                criteria,
            } => {
                buf.raw(b"ESEARCH");
                if let Some(s) = source {
                    buf.raw(b" IN (");
                    buf.sep(&s.filters, b" ", &mut |b, f| f.encode(b));
                    if !s.scope_options.is_empty() {
                        buf.sp();
                        buf.list(&s.scope_options, |b, (n, v)| encode_named(b, n, v.as_ref()));
                    }
                    buf.byte(b')');
                }
                encode_search_tail(buf, return_opts, charset, criteria);
            }
            C::GenUrlAuth(v) => {
                buf.raw(b"GENURLAUTH");
                for (u, m) in v {
                    buf.sp();
                    u.encode_astring(buf);
                    buf.sp();
                    m.encode(buf);
                }
            }
            C::ResetKey(v) => {
                buf.raw(b"RESETKEY");
                if let Some((m, mechs)) = v {
                    buf.sp();
                    m.encode(buf);
                    for a in mechs {
                        buf.sp();
                        a.encode(buf);
                    }
                }
            }
            C::UrlFetch(v) => {
                buf.raw(b"URLFETCH");
                for u in v {
                    buf.sp();
                    u.encode_astring(buf);
                }
            }
            C::Check => buf.raw(b"CHECK"),
            C::Close => buf.raw(b"CLOSE"),
            C::Unselect => buf.raw(b"UNSELECT"),
            C::Expunge => buf.raw(b"EXPUNGE"),
            C::UidExpunge(s) => {
                buf.raw(b"UID EXPUNGE ");
                s.encode(buf);
            }
            C::Search {
                return_opts,
                charset,
                criteria,
                uid,
            } => {
                uid_prefix(buf, *uid);
                buf.raw(b"SEARCH");
                encode_search_tail(buf, return_opts, charset, criteria);
            }
            C::Fetch {
                sequence_set,
                items,
                modifiers,
                uid,
            } => {
                uid_prefix(buf, *uid);
                buf.raw(b"FETCH ");
                sequence_set.encode(buf);
                buf.sp();
                items.encode(buf);
                encode_params(buf, modifiers);
            }
            C::Store {
                sequence_set,
                modifiers,
                kind,
                silent,
                data,
                uid,
            } => {
                uid_prefix(buf, *uid);
                buf.raw(b"STORE ");
                sequence_set.encode(buf);
                encode_params(buf, modifiers);
                buf.sp();
                match kind {
                    StoreType::Replace => {}
                    StoreType::Add => buf.byte(b'+'),
                    StoreType::Remove => buf.byte(b'-'),
                }
                match data {
                    StoreData::Flags(_) => buf.raw(b"FLAGS"),
                    StoreData::GmailLabels(_) => buf.raw(b"X-GM-LABELS"),
                }
                if *silent {
                    buf.raw(b".SILENT");
                }
                buf.sp();
                match data {
                    StoreData::Flags(v) => buf.list(v, |b, f| f.encode(b)),
                    StoreData::GmailLabels(v) => buf.list(v, |b, l| l.encode(b)),
                }
            }
            C::Copy {
                sequence_set,
                mailbox,
                uid,
            }
            | C::Move {
                sequence_set,
                mailbox,
                uid,
            } => {
                uid_prefix(buf, *uid);
                buf.raw(if matches!(self, C::Copy { .. }) {
                    b"COPY "
                } else {
                    b"MOVE "
                });
                sequence_set.encode(buf);
                buf.sp();
                mailbox.encode(buf);
            }
            C::Sort {
                return_opts,
                criteria,
                charset,
                search,
                uid,
            } => {
                uid_prefix(buf, *uid);
                buf.raw(b"SORT");
                if let Some(r) = return_opts {
                    buf.sp();
                    SearchReturnOption::encode_return(r, buf);
                }
                buf.sp();
                buf.list(criteria, |b, c| c.encode(b));
                buf.sp();
                charset.encode(buf);
                buf.sp();
                SearchKey::encode_many(search, buf);
            }
            C::Thread {
                algorithm,
                charset,
                search,
                uid,
            } => {
                uid_prefix(buf, *uid);
                buf.raw(b"THREAD ");
                algorithm.encode(buf);
                buf.sp();
                charset.encode(buf);
                buf.sp();
                SearchKey::encode_many(search, buf);
            }
            C::CancelUpdate(tags) => {
                buf.raw(b"CANCELUPDATE");
                for t in tags {
                    buf.raw(b" \"");
                    t.encode(buf);
                    buf.byte(b'"');
                }
            }
            C::Replace {
                number,
                mailbox,
                message,
                uid,
            } => {
                uid_prefix(buf, *uid);
                buf.raw(b"REPLACE ");
                buf.num(number.get());
                buf.sp();
                mailbox.encode(buf);
                message.encode(buf);
            }
            C::Other { name, raw } => {
                name.encode(buf);
                if !raw.is_empty() {
                    buf.sp();
                    let at = buf.out.len();
                    buf.raw(raw);
                    // Literals inside the raw arguments, as announced there.
                    for l in scan_raw_args(raw, true).unwrap_or_default() {
                        buf.literals.push(crate::encode::LiteralMark {
                            start: at + l.start,
                            len: l.len,
                            mode: l.mode,
                        });
                    }
                }
            }
        }
    }
}

impl Encode for Command {
    fn encode(&self, buf: &mut EncodeBuf) {
        self.tag.encode(buf);
        buf.sp();
        self.body.encode(buf);
        buf.crlf();
    }
}

// ---------------------------------------------------------------------------------------
// AUTHENTICATE data and IDLE DONE
// ---------------------------------------------------------------------------------------

/// A line of AUTHENTICATE continuation data (RFC 9051 §6.2.2 `authenticate` /
/// `base64` CRLF): decoded SASL data (possibly empty), or `*` (cancel).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthenticateData {
    /// Decoded SASL response; empty for an empty line.
    Continue(
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_impls::secret_bytes))]
        Secret<Bytes>,
    ),
    /// `*`: the client cancels the exchange.
    Cancel,
}

impl AuthenticateData {
    /// A response with the given (decoded) data.
    pub fn data(b: impl Into<Bytes>) -> Self {
        AuthenticateData::Continue(Secret::new(b.into()))
    }

    /// Parses a whole line including CRLF.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.eat(b'*') {
            p.crlf_end()?;
            return Ok(AuthenticateData::Cancel);
        }
        let d = base64_data(p, true)?;
        p.crlf_end()?;
        Ok(AuthenticateData::Continue(Secret::new(d)))
    }
}

impl Encode for AuthenticateData {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            AuthenticateData::Continue(d) => buf.raw(crate::base64::encode(d.expose()).as_bytes()),
            AuthenticateData::Cancel => buf.byte(b'*'),
        }
        buf.crlf();
    }
}

/// The `DONE` line that ends IDLE (case-insensitive).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleDone;

impl IdleDone {
    /// Parses `DONE` CRLF.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        p.expect_keyword(b"DONE", "DONE")?;
        p.crlf_end()?;
        Ok(IdleDone)
    }
}

impl Encode for IdleDone {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.raw(b"DONE\r\n");
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies.
    use super::*;
    use crate::capability::strategies::capability;
    use crate::core::strategies::{atom, istring, tag};
    use crate::datetime::strategies::date_time;
    use crate::fetch::strategies::fetch_items;
    use crate::flag::strategies::{flag, mailbox_attribute};
    use crate::mailbox::strategies::{list_mailbox, mailbox};
    use crate::search::strategies::{
        partial_range, search_keys, search_return_options, sort_criteria, thread_algorithm,
    };
    use crate::sequence::Sequence;
    use crate::sequence::strategies::{nz_u32, sequence_set};
    use crate::status::strategies::status_attribute;
    use proptest::collection::vec;
    use proptest::option::of;
    use proptest::prelude::*;
    use proptest::strategy::{BoxedStrategy, Union};

    /// Extension labels that no known name uses.
    pub(crate) fn label() -> impl Strategy<Value = Atom> {
        "X-Q[A-Z0-9.:]{0,5}".prop_map(|s| Atom::try_from(s).unwrap())
    }

    fn n64() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..1000, 0u64..=i64::MAX as u64]
    }

    fn modseq() -> impl Strategy<Value = u64> {
        prop_oneof![1u64..1000, 1u64..=i64::MAX as u64]
    }

    fn comp() -> impl Strategy<Value = TaggedExtComp> {
        istring()
            .prop_map(TaggedExtComp::AString)
            .prop_recursive(3, 12, 3, |inner| {
                vec(inner, 1..3).prop_map(TaggedExtComp::List)
            })
    }

    /// `tagged-ext-val` values in their canonical form.
    pub(crate) fn tagged_ext_val() -> impl Strategy<Value = TaggedExtVal> {
        prop_oneof![
            n64().prop_map(TaggedExtVal::Number),
            sequence_set()
                .prop_filter("a plain number decodes as Number", |s| !matches!(
                    s,
                    SequenceSet::Set(v) if matches!(v.as_slice(), [Sequence::Single(crate::sequence::SeqOrUid::Value(_))])
                ))
                .prop_map(TaggedExtVal::SequenceSet),
            vec(comp(), 0..3).prop_map(TaggedExtVal::Comp),
        ]
    }

    fn charset() -> impl Strategy<Value = Charset> {
        prop_oneof![
            "UTF-8",
            "US-ASCII",
            "[A-Za-z0-9-]{1,10}",
            "[a-z]{1,4} [a-z]{1,4}"
        ]
        .prop_map(|s| Charset::try_from(s).unwrap())
    }

    fn select_params() -> impl Strategy<Value = Vec<SelectParam>> {
        vec(
            prop_oneof![
                Just(SelectParam::CondStore),
                (
                    nz_u32(),
                    modseq(),
                    of(sequence_set()),
                    of((sequence_set(), sequence_set()))
                )
                    .prop_map(|(v, modseq, known_uids, seq_match_data)| {
                        SelectParam::QResync {
                            uidvalidity: UidValidity::new(v.get()).unwrap(),
                            modseq,
                            known_uids,
                            seq_match_data,
                        }
                    }),
                (label(), of(tagged_ext_val()))
                    .prop_map(|(name, value)| SelectParam::Other { name, value }),
            ],
            0..3,
        )
    }

    fn option_value() -> impl Strategy<Value = Option<Vec<TaggedExtComp>>> {
        of(vec(comp(), 1..3))
    }

    fn list_select() -> impl Strategy<Value = ListSelectOption> {
        prop_oneof![
            Just(ListSelectOption::Subscribed),
            Just(ListSelectOption::Remote),
            Just(ListSelectOption::RecursiveMatch),
            Just(ListSelectOption::SpecialUse),
            (
                prop_oneof![
                    label(),
                    "vendor\\.x-[a-z]{1,5}".prop_map(|s| Atom::try_from(s).unwrap())
                ],
                option_value()
            )
                .prop_map(|(name, value)| ListSelectOption::Other { name, value }),
        ]
    }

    fn list_return() -> impl Strategy<Value = ListReturnOption> {
        prop_oneof![
            Just(ListReturnOption::Subscribed),
            Just(ListReturnOption::Children),
            vec(status_attribute(), 1..4).prop_map(ListReturnOption::Status),
            Just(ListReturnOption::SpecialUse),
            Just(ListReturnOption::MyRights),
            vec(istring(), 1..3).prop_map(ListReturnOption::Metadata),
            (label(), option_value())
                .prop_map(|(name, value)| ListReturnOption::Other { name, value }),
        ]
    }

    fn text_bytes() -> impl Strategy<Value = Bytes> {
        vec(1u8..=255, 0..40).prop_map(Bytes::from)
    }

    fn any_bytes() -> impl Strategy<Value = Bytes> {
        vec(any::<u8>(), 0..40).prop_map(Bytes::from)
    }

    fn append_data() -> impl Strategy<Value = AppendData> {
        prop_oneof![
            text_bytes().prop_map(|data| AppendData::Literal {
                data,
                binary: false
            }),
            any_bytes().prop_map(|data| AppendData::Literal { data, binary: true }),
            vec(
                prop_oneof![
                    text_bytes().prop_map(|data| CatPart::Text {
                        data,
                        binary: false
                    }),
                    any_bytes().prop_map(|data| CatPart::Text { data, binary: true }),
                    istring().prop_map(CatPart::Url),
                    any_bytes().prop_map(CatPart::Utf8),
                ],
                1..3
            )
            .prop_map(AppendData::Catenate),
            any_bytes().prop_map(AppendData::Utf8),
        ]
    }

    /// APPEND messages.
    pub(crate) fn append_message() -> impl Strategy<Value = AppendMessage> {
        (
            vec(flag(), 0..3),
            of(date_time()),
            vec((label(), tagged_ext_val()), 0..2),
            append_data(),
        )
            .prop_map(|(flags, date, extensions, data)| AppendMessage {
                flags,
                date,
                extensions,
                data,
            })
    }

    fn mailbox_filter() -> impl Strategy<Value = MailboxFilter> {
        prop_oneof![
            Just(MailboxFilter::Selected),
            Just(MailboxFilter::SelectedDelayed),
            Just(MailboxFilter::Inboxes),
            Just(MailboxFilter::Personal),
            Just(MailboxFilter::Subscribed),
            vec(mailbox(), 1..3).prop_map(MailboxFilter::Subtree),
            vec(mailbox(), 1..3).prop_map(MailboxFilter::Mailboxes),
            vec(mailbox(), 1..3).prop_map(MailboxFilter::SubtreeOne),
        ]
    }

    fn notify_event() -> impl Strategy<Value = NotifyEvent> {
        prop_oneof![
            Just(NotifyEvent::MessageNew(None)),
            proptest::sample::select(EVENTS.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>()),
            "X[A-Za-z]{1,6}".prop_map(|s| NotifyEvent::Other(Atom::try_from(s).unwrap())),
        ]
    }

    fn notify() -> impl Strategy<Value = Notify> {
        prop_oneof![
            Just(Notify::None),
            (
                any::<bool>(),
                vec(
                    (mailbox_filter(), vec(notify_event(), 0..3))
                        .prop_map(|(filter, events)| EventGroup { filter, events }),
                    1..3
                )
            )
                .prop_map(|(status, groups)| Notify::Set { status, groups }),
        ]
    }

    fn mech() -> impl Strategy<Value = Atom> {
        prop_oneof![
            Just("INTERNAL".to_string()),
            "[A-Za-z0-9.-]{1,8}".prop_map(|s| s)
        ]
        .prop_map(|s| Atom::try_from(s).unwrap())
    }

    fn fetch_modifiers() -> impl Strategy<Value = Vec<FetchModifier>> {
        vec(
            prop_oneof![
                modseq().prop_map(FetchModifier::ChangedSince),
                Just(FetchModifier::Vanished),
                partial_range().prop_map(FetchModifier::Partial),
                (label(), of(tagged_ext_val()))
                    .prop_map(|(name, value)| FetchModifier::Other { name, value }),
            ],
            0..3,
        )
    }

    fn store_modifiers() -> impl Strategy<Value = Vec<StoreModifier>> {
        vec(
            prop_oneof![
                n64().prop_map(StoreModifier::UnchangedSince),
                (label(), of(tagged_ext_val()))
                    .prop_map(|(name, value)| StoreModifier::Other { name, value }),
            ],
            0..2,
        )
    }

    fn store_data() -> impl Strategy<Value = StoreData> {
        prop_oneof![
            vec(flag(), 0..3).prop_map(StoreData::Flags),
            vec(
                prop_oneof![
                    atom().prop_map(GmailLabel::System),
                    istring().prop_map(GmailLabel::Label)
                ],
                0..3
            )
            .prop_map(StoreData::GmailLabels),
        ]
    }

    fn store_type() -> impl Strategy<Value = StoreType> {
        prop_oneof![
            Just(StoreType::Replace),
            Just(StoreType::Add),
            Just(StoreType::Remove)
        ]
    }

    fn boxed<S>(s: S) -> BoxedStrategy<CommandBody>
    where
        S: Strategy<Value = CommandBody> + 'static,
    {
        s.boxed()
    }

    /// Every command body variant.
    pub(crate) fn command_body() -> impl Strategy<Value = CommandBody> {
        use CommandBody as C;
        let mbox_opts = || prop_oneof![Just(None), of(vec(list_select(), 0..3)).prop_map(|v| v)];
        Union::new(vec![
            boxed(Just(C::Capability)),
            boxed(Just(C::Noop)),
            boxed(Just(C::Logout)),
            boxed(of(vec((istring(), of(istring())), 0..3)).prop_map(C::Id)),
            boxed(Just(C::StartTls)),
            boxed(
                (atom(), of(any_bytes())).prop_map(|(mechanism, ir)| C::Authenticate {
                    mechanism,
                    initial_response: ir.map(Secret::new),
                }),
            ),
            boxed((istring(), istring()).prop_map(|(u, p)| C::login(u, p))),
            boxed(vec(capability(), 1..4).prop_map(C::Enable)),
            boxed(
                (mailbox(), select_params())
                    .prop_map(|(mailbox, params)| C::Select { mailbox, params }),
            ),
            boxed(
                (mailbox(), select_params())
                    .prop_map(|(mailbox, params)| C::Examine { mailbox, params }),
            ),
            boxed(
                (
                    mailbox(),
                    vec(
                        prop_oneof![
                            vec(mailbox_attribute(), 0..3).prop_map(CreateParam::SpecialUse),
                            (label(), of(tagged_ext_val()))
                                .prop_map(|(name, value)| CreateParam::Other { name, value }),
                        ],
                        0..3,
                    ),
                )
                    .prop_map(|(mailbox, params)| C::Create { mailbox, params }),
            ),
            boxed(mailbox().prop_map(C::Delete)),
            boxed((mailbox(), mailbox()).prop_map(|(from, to)| C::Rename { from, to })),
            boxed(mailbox().prop_map(C::Subscribe)),
            boxed(mailbox().prop_map(C::Unsubscribe)),
            boxed(
                (
                    mbox_opts(),
                    mailbox(),
                    vec(list_mailbox(), 1..3),
                    of(vec(list_return(), 0..3)),
                )
                    .prop_map(|(selection, reference, patterns, return_opts)| {
                        C::List {
                            selection,
                            reference,
                            patterns,
                            return_opts,
                        }
                    }),
            ),
            boxed(
                (mailbox(), list_mailbox())
                    .prop_map(|(reference, pattern)| C::Lsub { reference, pattern }),
            ),
            boxed(
                (mailbox(), list_mailbox())
                    .prop_map(|(reference, pattern)| C::XList { reference, pattern }),
            ),
            boxed(
                (mailbox(), list_mailbox())
                    .prop_map(|(reference, pattern)| C::RList { reference, pattern }),
            ),
            boxed(
                (mailbox(), list_mailbox())
                    .prop_map(|(reference, pattern)| C::RLsub { reference, pattern }),
            ),
            boxed(Just(C::Namespace)),
            boxed(
                (mailbox(), vec(status_attribute(), 1..4)).prop_map(|(mailbox, attributes)| {
                    C::Status {
                        mailbox,
                        attributes,
                    }
                }),
            ),
            boxed(
                (mailbox(), vec(append_message(), 1..3))
                    .prop_map(|(mailbox, messages)| C::Append { mailbox, messages }),
            ),
            boxed(Just(C::Idle)),
            boxed(istring().prop_map(C::GetQuota)),
            boxed(mailbox().prop_map(C::GetQuotaRoot)),
            boxed(
                (
                    istring(),
                    vec(
                        (
                            prop_oneof![
                                proptest::sample::select(
                                    QUOTA_RES.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>()
                                ),
                                "X[A-Z]{1,6}"
                                    .prop_map(|s| QuotaResource::Other(Atom::try_from(s).unwrap())),
                            ],
                            n64(),
                        )
                            .prop_map(|(resource, limit)| QuotaLimit { resource, limit }),
                        0..3,
                    ),
                )
                    .prop_map(|(root, limits)| C::SetQuota { root, limits }),
            ),
            boxed(mailbox().prop_map(C::GetAcl)),
            boxed(
                (
                    mailbox(),
                    istring(),
                    prop_oneof![
                        Just(AclModification::Replace),
                        Just(AclModification::Add),
                        Just(AclModification::Remove)
                    ],
                    "[a-z0-9]{1,8}",
                )
                    .prop_map(|(mailbox, identifier, modification, r)| C::SetAcl {
                        mailbox,
                        identifier,
                        modification,
                        rights: IString::try_from(r).unwrap(),
                    }),
            ),
            boxed(
                (mailbox(), istring()).prop_map(|(mailbox, identifier)| C::DeleteAcl {
                    mailbox,
                    identifier,
                }),
            ),
            boxed(
                (mailbox(), istring()).prop_map(|(mailbox, identifier)| C::ListRights {
                    mailbox,
                    identifier,
                }),
            ),
            boxed(mailbox().prop_map(C::MyRights)),
            boxed(
                (
                    vec(
                        prop_oneof![
                            any::<u32>().prop_map(GetMetadataOption::MaxSize),
                            prop_oneof![
                                Just(MetadataDepth::Zero),
                                Just(MetadataDepth::One),
                                Just(MetadataDepth::Infinity)
                            ]
                            .prop_map(GetMetadataOption::Depth),
                            (label(), of(tagged_ext_val()))
                                .prop_map(|(name, value)| GetMetadataOption::Other { name, value }),
                        ],
                        0..3,
                    ),
                    mailbox(),
                    vec(istring(), 1..3),
                )
                    .prop_map(|(options, mailbox, entries)| C::GetMetadata {
                        options,
                        mailbox,
                        entries,
                    }),
            ),
            boxed(
                (mailbox(), vec((istring(), of(any_bytes())), 1..3))
                    .prop_map(|(mailbox, entries)| C::SetMetadata { mailbox, entries }),
            ),
            boxed(notify().prop_map(C::Notify)),
            boxed(prop_oneof![Just(Atom::from_static("DEFLATE")), atom()].prop_map(C::Compress)),
            boxed(Just(C::Unauthenticate)),
            boxed(Just(C::GetJmapAccess)),
            boxed(
                (
                    of((
                        vec(mailbox_filter(), 1..3),
                        vec((label(), of(tagged_ext_val())), 0..2),
                    )),
                    of(search_return_options()),
                    of(charset()),
                    search_keys(),
                )
                    .prop_map(|(source, return_opts, charset, criteria)| {
                        C::ESearch {
                            source: source.map(|(filters, scope_options)| ESearchSource {
                                filters,
                                scope_options,
                            }),
                            return_opts,
                            charset,
                            criteria,
                        }
                    }),
            ),
            boxed(vec((istring(), mech()), 1..3).prop_map(C::GenUrlAuth)),
            boxed(of((mailbox(), vec(mech(), 0..3))).prop_map(C::ResetKey)),
            boxed(vec(istring(), 1..3).prop_map(C::UrlFetch)),
            boxed(Just(C::Check)),
            boxed(Just(C::Close)),
            boxed(Just(C::Unselect)),
            boxed(Just(C::Expunge)),
            boxed(sequence_set().prop_map(C::UidExpunge)),
            boxed(
                (
                    of(search_return_options()),
                    of(charset()),
                    search_keys(),
                    any::<bool>(),
                )
                    .prop_map(|(return_opts, charset, criteria, uid)| C::Search {
                        return_opts,
                        charset,
                        criteria,
                        uid,
                    }),
            ),
            boxed(
                (
                    sequence_set(),
                    fetch_items(),
                    fetch_modifiers(),
                    any::<bool>(),
                )
                    .prop_map(|(sequence_set, items, modifiers, uid)| C::Fetch {
                        sequence_set,
                        items,
                        modifiers,
                        uid,
                    }),
            ),
            boxed(
                (
                    sequence_set(),
                    store_modifiers(),
                    store_type(),
                    any::<bool>(),
                    store_data(),
                    any::<bool>(),
                )
                    .prop_map(
                        |(sequence_set, modifiers, kind, silent, data, uid)| C::Store {
                            sequence_set,
                            modifiers,
                            kind,
                            silent,
                            data,
                            uid,
                        },
                    ),
            ),
            boxed((sequence_set(), mailbox(), any::<bool>()).prop_map(
                |(sequence_set, mailbox, uid)| C::Copy {
                    sequence_set,
                    mailbox,
                    uid,
                },
            )),
            boxed((sequence_set(), mailbox(), any::<bool>()).prop_map(
                |(sequence_set, mailbox, uid)| C::Move {
                    sequence_set,
                    mailbox,
                    uid,
                },
            )),
            boxed(
                (
                    of(search_return_options()),
                    sort_criteria(),
                    charset(),
                    search_keys(),
                    any::<bool>(),
                )
                    .prop_map(|(return_opts, criteria, charset, search, uid)| {
                        C::Sort {
                            return_opts,
                            criteria,
                            charset,
                            search,
                            uid,
                        }
                    }),
            ),
            boxed(
                (thread_algorithm(), charset(), search_keys(), any::<bool>()).prop_map(
                    |(algorithm, charset, search, uid)| C::Thread {
                        algorithm,
                        charset,
                        search,
                        uid,
                    },
                ),
            ),
            boxed(vec(tag(), 1..3).prop_map(C::CancelUpdate)),
            boxed(
                (nz_u32(), mailbox(), append_message(), any::<bool>()).prop_map(
                    |(number, mailbox, message, uid)| C::Replace {
                        number,
                        mailbox,
                        message,
                        uid,
                    },
                ),
            ),
            boxed(
                (
                    "XX[A-Z]{1,6}",
                    prop_oneof![Just(String::new()), "[!-z|~][ -z|~]{0,20}"],
                )
                    .prop_map(|(n, raw)| {
                        CommandBody::other(Atom::try_from(n).unwrap(), raw).unwrap()
                    }),
            ),
        ])
    }

    /// Whole commands.
    pub(crate) fn command() -> impl Strategy<Value = Command> {
        (tag(), command_body()).prop_map(|(tag, body)| Command { tag, body })
    }

    /// AUTHENTICATE continuation lines.
    pub(crate) fn authenticate_data() -> impl Strategy<Value = AuthenticateData> {
        prop_oneof![
            Just(AuthenticateData::Cancel),
            any_bytes().prop_map(AuthenticateData::data),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Message;
    use crate::options::DecodeOptions;
    use crate::sequence::{SeqOrUid, Sequence};
    use proptest::prelude::*;

    fn decode(s: &[u8]) -> Result<Command, crate::DecodeError> {
        Command::decode(&Bytes::copy_from_slice(s), &DecodeOptions::strict()).map(|d| d.message)
    }

    fn enc<T: Encode>(v: &T) -> Vec<u8> {
        let mut b = EncodeBuf::new();
        v.encode(&mut b);
        b.out
    }

    /// Decodes `s`, compares the body, encodes, and decodes again to the same value.
    fn kat(s: &[u8], body: CommandBody) -> Command {
        let c = decode(s).unwrap_or_else(|e| panic!("{e} in {:?}", String::from_utf8_lossy(s)));
        assert_eq!(c.body, body, "{}", String::from_utf8_lossy(s));
        let out = enc(&c);
        let again =
            decode(&out).unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&out)));
        assert_eq!(again, c);
        c
    }

    /// Like [`kat`], and the encoding is exactly the input.
    fn kat_exact(s: &[u8], body: CommandBody) {
        let c = kat(s, body);
        assert_eq!(
            String::from_utf8_lossy(&enc(&c)),
            String::from_utf8_lossy(s)
        );
    }

    fn mb(s: &str) -> Mailbox {
        Mailbox::try_from(s).unwrap()
    }
    fn is(s: &str) -> IString {
        IString::try_from(s).unwrap()
    }
    fn at(s: &str) -> Atom {
        Atom::try_from(s).unwrap()
    }
    fn lm(s: &str) -> ListMailbox {
        ListMailbox::try_from(s).unwrap()
    }
    fn nz(v: u32) -> NonZeroU32 {
        NonZeroU32::new(v).unwrap()
    }
    fn range(a: u32, b: u32) -> SequenceSet {
        SequenceSet::range(nz(a), nz(b))
    }
    fn date(y: u16, m: u8, d: u8) -> crate::datetime::Date {
        crate::datetime::Date::new(y, m, d).unwrap()
    }
    fn cs(s: &str) -> Charset {
        Charset::try_from(s).unwrap()
    }

    /// Whether the FETCH items implementation can decode its own output (false while
    /// `fetch.rs` is a stub).
    fn fetch_items_work(items: &FetchItems) -> bool {
        let b = Bytes::from(enc(items));
        let o = DecodeOptions::strict();
        let mut p = Parser::new(&b, &o);
        matches!(FetchItems::parse(&mut p), Ok(ref v) if v == items && p.at_end())
    }

    fn uses_stubbed_fetch(c: &CommandBody) -> bool {
        match c {
            CommandBody::Fetch { items, .. } => !fetch_items_work(items),
            _ => false,
        }
    }

    #[test]
    fn rfc9051_any_state_and_auth() {
        kat_exact(b"abcd CAPABILITY\r\n", CommandBody::Capability);
        kat_exact(b"a002 NOOP\r\n", CommandBody::Noop);
        kat_exact(b"A023 LOGOUT\r\n", CommandBody::Logout);
        kat_exact(b"a002 STARTTLS\r\n", CommandBody::StartTls);
        kat_exact(
            b"A001 AUTHENTICATE GSSAPI\r\n",
            CommandBody::Authenticate {
                mechanism: at("GSSAPI"),
                initial_response: None,
            },
        );
        kat_exact(
            b"a001 LOGIN SMITH SESAME\r\n",
            CommandBody::login(is("SMITH"), is("SESAME")),
        );
        kat_exact(
            b"t2 ENABLE CONDSTORE QRESYNC\r\n",
            CommandBody::Enable(vec![
                Capability::parse(&mut Parser::new(
                    &Bytes::from_static(b"CONDSTORE"),
                    &DecodeOptions::strict(),
                ))
                .unwrap(),
                Capability::parse(&mut Parser::new(
                    &Bytes::from_static(b"QRESYNC"),
                    &DecodeOptions::strict(),
                ))
                .unwrap(),
            ]),
        );
        // case-insensitive command names
        kat(b"a1 noop\r\n", CommandBody::Noop);
        kat(
            b"a1 login \"fred\" {6}\r\nfoobar\r\n",
            CommandBody::login(is("fred"), is("foobar")),
        );
    }

    #[test]
    fn rfc9051_authenticated() {
        kat_exact(
            b"A142 SELECT INBOX\r\n",
            CommandBody::Select {
                mailbox: Mailbox::Inbox,
                params: vec![],
            },
        );
        kat_exact(
            b"A932 EXAMINE blurdybloop\r\n",
            CommandBody::Examine {
                mailbox: mb("blurdybloop"),
                params: vec![],
            },
        );
        kat_exact(
            b"A003 CREATE owatagusiam/\r\n",
            CommandBody::Create {
                mailbox: mb("owatagusiam/"),
                params: vec![],
            },
        );
        kat_exact(
            b"A682 DELETE blurdybloop\r\n",
            CommandBody::Delete(mb("blurdybloop")),
        );
        kat_exact(
            b"A683 RENAME blurdybloop sarasoop\r\n",
            CommandBody::Rename {
                from: mb("blurdybloop"),
                to: mb("sarasoop"),
            },
        );
        kat_exact(
            b"A002 SUBSCRIBE #news.comp.mail.mime\r\n",
            CommandBody::Subscribe(mb("#news.comp.mail.mime")),
        );
        kat_exact(
            b"A002 UNSUBSCRIBE #news.comp.mail.mime\r\n",
            CommandBody::Unsubscribe(mb("#news.comp.mail.mime")),
        );
        let list = |r: &str, pat: &str| CommandBody::List {
            selection: None,
            reference: mb(r),
            patterns: vec![lm(pat)],
            return_opts: None,
        };
        kat_exact(b"A101 LIST \"\" \"\"\r\n", list("", ""));
        kat_exact(
            b"A102 LIST #news.comp.mail.misc \"\"\r\n",
            list("#news.comp.mail.misc", ""),
        );
        kat_exact(b"A202 LIST ~/Mail/ %\r\n", list("~/Mail/", "%"));
        kat(b"A202 LIST ~/Mail/ \"%\"\r\n", list("~/Mail/", "%"));
        kat_exact(b"A002 NAMESPACE\r\n", CommandBody::Namespace);
        kat_exact(
            b"A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n",
            CommandBody::Status {
                mailbox: mb("blurdybloop"),
                attributes: vec![StatusAttribute::UidNext, StatusAttribute::Messages],
            },
        );
        let msg = b"Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\nSubject: afternoon meeting\r\n\r\nHello Joe\r\n";
        let mut s =
            format!("A003 APPEND saved-messages (\\Seen) {{{}}}\r\n", msg.len()).into_bytes();
        s.extend_from_slice(msg);
        s.extend_from_slice(b"\r\n");
        let c = kat(
            &s,
            CommandBody::Append {
                mailbox: mb("saved-messages"),
                messages: vec![AppendMessage {
                    flags: vec![Flag::Seen],
                    ..AppendMessage::literal(Bytes::from_static(msg))
                }],
            },
        );
        assert_eq!(enc(&c), s);
        kat_exact(b"a1 IDLE\r\n", CommandBody::Idle);
        kat_exact(
            b"A003 APPEND Drafts (\\Seen) \"07-Feb-1994 21:52:25 -0800\" {5}\r\nhello\r\n",
            CommandBody::Append {
                mailbox: mb("Drafts"),
                messages: vec![AppendMessage {
                    flags: vec![Flag::Seen],
                    date: Some(DateTime::new(date(1994, 2, 7), 21, 52, 25, -480).unwrap()),
                    extensions: vec![],
                    data: AppendData::Literal {
                        data: Bytes::from_static(b"hello"),
                        binary: false,
                    },
                }],
            },
        );
    }

    #[test]
    fn append_literal_is_a_slice_of_the_input() {
        let input = Bytes::from_static(b"a APPEND INBOX {5}\r\nhello\r\n");
        let c = Command::decode(&input, &DecodeOptions::strict())
            .unwrap()
            .message;
        let CommandBody::Append { messages, .. } = c.body else {
            panic!()
        };
        let AppendData::Literal { data, .. } = &messages[0].data else {
            panic!()
        };
        let start = input.as_ptr() as usize;
        let p = data.as_ptr() as usize;
        assert!(p >= start && p < start + input.len());
    }

    #[test]
    fn rfc9051_selected() {
        kat_exact(b"A341 CLOSE\r\n", CommandBody::Close);
        kat_exact(b"A342 UNSELECT\r\n", CommandBody::Unselect);
        kat_exact(b"A202 EXPUNGE\r\n", CommandBody::Expunge);
        kat_exact(
            b"A003 UID EXPUNGE 3000:3002\r\n",
            CommandBody::UidExpunge(range(3000, 3002)),
        );
        let not_from = SearchKey::Not(Box::new(SearchKey::From(is("Smith"))));
        kat(
            b"A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
            CommandBody::Search {
                return_opts: Some(vec![SearchReturnOption::Min, SearchReturnOption::Count]),
                charset: None,
                criteria: vec![
                    SearchKey::Flagged,
                    SearchKey::Since(date(1994, 2, 1)),
                    not_from.clone(),
                ],
                uid: false,
            },
        );
        kat(
            b"A283 SEARCH RETURN () FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
            CommandBody::Search {
                return_opts: Some(vec![]),
                charset: None,
                criteria: vec![
                    SearchKey::Flagged,
                    SearchKey::Since(date(1994, 2, 1)),
                    not_from,
                ],
                uid: false,
            },
        );
        kat_exact(
            b"A284 SEARCH TEXT \"string not in mailbox\"\r\n",
            CommandBody::Search {
                return_opts: None,
                charset: None,
                criteria: vec![SearchKey::Text(is("string not in mailbox"))],
                uid: false,
            },
        );
        kat(
            b"A285 SEARCH CHARSET UTF-8 TEXT {12}\r\n\xd0\x9b\xd0\xb5\xd0\xb1\xd0\xb5\xd0\xb4\xd1\x8c\r\n",
            CommandBody::Search {
                return_opts: None,
                charset: Some(cs("UTF-8")),
                criteria: vec![SearchKey::Text(is("Лебедь"))],
                uid: false,
            },
        );
        kat_exact(
            b"A003 STORE 2:4 +FLAGS (\\Deleted)\r\n",
            CommandBody::Store {
                sequence_set: range(2, 4),
                modifiers: vec![],
                kind: StoreType::Add,
                silent: false,
                data: StoreData::Flags(vec![Flag::Deleted]),
                uid: false,
            },
        );
        kat(
            b"A003 STORE 2:4 -flags.silent \\Deleted \\Seen\r\n",
            CommandBody::Store {
                sequence_set: range(2, 4),
                modifiers: vec![],
                kind: StoreType::Remove,
                silent: true,
                data: StoreData::Flags(vec![Flag::Deleted, Flag::Seen]),
                uid: false,
            },
        );
        kat_exact(
            b"A003 COPY 2:4 MEETING\r\n",
            CommandBody::Copy {
                sequence_set: range(2, 4),
                mailbox: mb("MEETING"),
                uid: false,
            },
        );
        kat_exact(
            b"a UID MOVE 42:69 foo\r\n",
            CommandBody::Move {
                sequence_set: range(42, 69),
                mailbox: mb("foo"),
                uid: true,
            },
        );
        kat_exact(
            b"A004 UID COPY 4827313:4828442 MEETING\r\n",
            CommandBody::Copy {
                sequence_set: range(4827313, 4828442),
                mailbox: mb("MEETING"),
                uid: true,
            },
        );
    }

    #[test]
    fn fetch_encoding_and_decoding() {
        let c = Command {
            tag: Tag::try_from("A654").unwrap(),
            body: CommandBody::Fetch {
                sequence_set: range(2, 4),
                items: FetchItems::All,
                modifiers: vec![
                    FetchModifier::ChangedSince(12345),
                    FetchModifier::Vanished,
                    FetchModifier::Partial(PartialRange::Last(nz(1), nz(3))),
                ],
                uid: true,
            },
        };
        assert_eq!(
            enc(&c),
            b"A654 UID FETCH 2:4 ALL (CHANGEDSINCE 12345 VANISHED PARTIAL -1:-3)\r\n"
        );
        let u = CommandBody::Search {
            return_opts: Some(vec![
                SearchReturnOption::Count,
                SearchReturnOption::UpdateFetch(FetchItems::All),
            ]),
            charset: None,
            criteria: vec![SearchKey::From(is("boss"))],
            uid: false,
        };
        let e = enc(&u);
        assert!(e.starts_with(b"SEARCH RETURN (COUNT UPDATE ("), "{e:?}");
        assert!(e.ends_with(b")) FROM boss"), "{e:?}");
        let n = CommandBody::Notify(Notify::Set {
            status: false,
            groups: vec![EventGroup {
                filter: MailboxFilter::Selected,
                events: vec![NotifyEvent::MessageNew(Some(FetchItems::All))],
            }],
        });
        assert!(enc(&n).starts_with(b"NOTIFY SET (selected (MessageNew ("));
        if fetch_items_work(&FetchItems::All) {
            assert_eq!(decode(&enc(&c)).unwrap(), c);
            for s in [
                &b"a00 SEARCH RETURN (COUNT UPDATE (UID BODY[HEADER.FIELDS (TO FROM SUBJECT)])) FROM \"boss\"\r\n"[..],
                b"a notify set (selected (Messagenew (uid flags) messageExpunge))\r\n",
                b"10 UID FETCH 25900:26600 (UID FLAGS) (PARTIAL -1:-3)\r\n",
            ] {
                let c = decode(s).unwrap();
                assert_eq!(decode(&enc(&c)).unwrap(), c);
            }
            let c = decode(b"s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)\r\n").unwrap();
            assert!(matches!(c.body, CommandBody::Fetch { uid: true, .. }));
        }
    }

    /// More RFC 9051 examples: decode, re-encode, decode again.
    #[test]
    fn rfc9051_more_examples() {
        for s in [
            &b"t2 ENABLE CONDSTORE X-GOOD-IDEA\r\n"[..],
            b"A01 AUTHENTICATE PLAIN\r\n",
            b"A143 SELECT Drafts\r\n",
            b"A005 CREATE NonNormalized\r\n",
            b"A002 CREATE \"INBOX.Sent Mail\"\r\n",
            b"Z433 RENAME INBOX old-mail\r\n",
            b"1001 RENAME X Y\r\n",
            b"A003 LIST (SPECIAL-USE) \"#mh/\" \"*\"\r\n",
            b"D03 LIST (RECURSIVEMATCH SUBSCRIBED) \"\" \"*2\"\r\n",
            b"a1 LIST \"\" (\"foo\")\r\n",
            b"a3 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" foo RETURN (CHILDREN)\r\n",
            b"A02 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (STATUS (MESSAGES))\r\n",
            b"A002 LIST \"\" \"~mark/%\"\r\n",
            b"A003 APPEND saved-messages (\\Seen) {5+}\r\nHello\r\n",
            b"A005 UID COPY 305:310 meeting\r\n",
            b"A285 UID SEARCH RETURN (MIN MAX) 1:5000\r\n",
            b"A286 SEARCH RETURN (COUNT) DELETED\r\n",
            b"A301 UID SEARCH UID $ SMALLER 4096\r\n",
            b"A301 UID SEARCH $ SMALLER 4096\r\n",
            b"P283 SEARCH CHARSET UTF-8 (OR $ 1,3000:3021) TEXT {8+}\r\nmy\xc3\xa9 txt\r\n",
            b"C286 SEARCH RETURN (MAX SAVE MIN COUNT) SINCE 12-Feb-2006\r\n",
            b"F284 STORE $ +FLAGS.SILENT (\\Deleted)\r\n",
            b"F283 COPY $ Archive\r\n",
            b"m STORE 1:* +FLAGS (\\Seen)\r\n",
        ] {
            let c = decode(s).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                decode(&enc(&c)).unwrap(),
                c,
                "{}",
                String::from_utf8_lossy(s)
            );
        }
        kat_exact(
            b"FRED FOOBAR\r\n",
            CommandBody::Other {
                name: at("FOOBAR"),
                raw: Bytes::new(),
            },
        );
        kat(
            b"P283 SEARCH CHARSET UTF-8 (OR $ 1,3000:3021) TEXT {4+}\r\ntext\r\n",
            CommandBody::Search {
                return_opts: None,
                charset: Some(cs("UTF-8")),
                criteria: vec![
                    SearchKey::And(vec![SearchKey::Or(
                        Box::new(SearchKey::SequenceSet(SequenceSet::LastResult)),
                        Box::new(SearchKey::SequenceSet(SequenceSet::Set(vec![
                            Sequence::Single(SeqOrUid::Value(nz(1))),
                            Sequence::Range(SeqOrUid::Value(nz(3000)), SeqOrUid::Value(nz(3021))),
                        ]))),
                    )]),
                    SearchKey::Text(is("text")),
                ],
                uid: false,
            },
        );
    }

    #[test]
    fn rfc3501_rev1_commands() {
        kat_exact(b"FXXZ CHECK\r\n", CommandBody::Check);
        kat(
            b"A002 LSUB \"#news.\" \"comp.mail.*\"\r\n",
            CommandBody::Lsub {
                reference: mb("#news."),
                pattern: lm("comp.mail.*"),
            },
        );
        kat(
            b"A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
            CommandBody::Search {
                return_opts: None,
                charset: None,
                criteria: vec![
                    SearchKey::Flagged,
                    SearchKey::Since(date(1994, 2, 1)),
                    SearchKey::Not(Box::new(SearchKey::From(is("Smith")))),
                ],
                uid: false,
            },
        );
        kat(
            b"A285 SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX\r\n",
            CommandBody::Search {
                return_opts: None,
                charset: Some(cs("UTF-8")),
                criteria: vec![SearchKey::Text(is("XXXXXX"))],
                uid: false,
            },
        );
        kat(
            b"A1 SEARCH NEW OLD RECENT OR UNSEEN (DRAFT UNDRAFT) 1:3,4 UID * HEADER X-Foo bar\r\n",
            CommandBody::Search {
                return_opts: None,
                charset: None,
                criteria: vec![
                    SearchKey::New,
                    SearchKey::Old,
                    SearchKey::Recent,
                    SearchKey::Or(
                        Box::new(SearchKey::Unseen),
                        Box::new(SearchKey::And(vec![SearchKey::Draft, SearchKey::Undraft])),
                    ),
                    SearchKey::SequenceSet(SequenceSet::Set(vec![
                        Sequence::Range(SeqOrUid::Value(nz(1)), SeqOrUid::Value(nz(3))),
                        Sequence::Single(SeqOrUid::Value(nz(4))),
                    ])),
                    SearchKey::Uid(SequenceSet::Set(vec![Sequence::Single(SeqOrUid::Asterisk)])),
                    SearchKey::Header(is("X-Foo"), is("bar")),
                ],
                uid: false,
            },
        );
    }

    #[test]
    fn extension_examples() {
        // SASL-IR (RFC 4959)
        kat_exact(
            b"a01 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n",
            CommandBody::Authenticate {
                mechanism: at("PLAIN"),
                initial_response: Some(Secret::new(Bytes::from_static(b"test\0test\0test"))),
            },
        );
        kat_exact(
            b"a02 AUTHENTICATE EXTERNAL =\r\n",
            CommandBody::Authenticate {
                mechanism: at("EXTERNAL"),
                initial_response: Some(Secret::new(Bytes::new())),
            },
        );
        // CONDSTORE / QRESYNC (RFC 7162)
        kat_exact(
            b"a SELECT INBOX (CONDSTORE)\r\n",
            CommandBody::Select {
                mailbox: Mailbox::Inbox,
                params: vec![SelectParam::CondStore],
            },
        );
        let qr = kat(
            b"A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n",
            CommandBody::Select {
                mailbox: Mailbox::Inbox,
                params: vec![SelectParam::QResync {
                    uidvalidity: UidValidity::new(67890007).unwrap(),
                    modseq: 20050715194045000,
                    known_uids: Some(SequenceSet::Set(vec![
                        Sequence::Single(SeqOrUid::Value(nz(41))),
                        Sequence::Range(SeqOrUid::Value(nz(43)), SeqOrUid::Value(nz(211))),
                        Sequence::Range(SeqOrUid::Value(nz(214)), SeqOrUid::Value(nz(541))),
                    ])),
                    seq_match_data: None,
                }],
            },
        );
        assert_eq!(
            enc(&qr),
            b"A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n"
        );
        let c = decode(
            b"B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))\r\n",
        )
        .unwrap();
        assert!(matches!(
            &c.body,
            CommandBody::Select { params, .. } if matches!(&params[0], SelectParam::QResync { seq_match_data: Some(_), known_uids: Some(_), .. })
        ));
        assert_eq!(decode(&enc(&c)).unwrap(), c);
        kat_exact(
            b"a103 UID STORE 6,4,8 (UNCHANGEDSINCE 12121230045) +FLAGS.SILENT (\\Deleted)\r\n",
            CommandBody::Store {
                sequence_set: SequenceSet::Set(vec![
                    Sequence::Single(SeqOrUid::Value(nz(6))),
                    Sequence::Single(SeqOrUid::Value(nz(4))),
                    Sequence::Single(SeqOrUid::Value(nz(8))),
                ]),
                modifiers: vec![StoreModifier::UnchangedSince(12121230045)],
                kind: StoreType::Add,
                silent: true,
                data: StoreData::Flags(vec![Flag::Deleted]),
                uid: true,
            },
        );
        assert!(decode(b"a SELECT INBOX (QRESYNC (1 0))\r\n").is_err());
        // SPECIAL-USE (RFC 6154)
        kat_exact(
            b"t2 CREATE MySpecial (USE (\\Drafts \\Sent))\r\n",
            CommandBody::Create {
                mailbox: mb("MySpecial"),
                params: vec![CreateParam::SpecialUse(vec![
                    MailboxAttribute::Drafts,
                    MailboxAttribute::Sent,
                ])],
            },
        );
        kat_exact(
            b"t3 LIST (SPECIAL-USE) \"\" *\r\n",
            CommandBody::List {
                selection: Some(vec![ListSelectOption::SpecialUse]),
                reference: mb(""),
                patterns: vec![lm("*")],
                return_opts: None,
            },
        );
        // LIST-EXTENDED (RFC 5258)
        kat_exact(
            b"A03 LIST () \"\" % RETURN (CHILDREN)\r\n",
            CommandBody::List {
                selection: Some(vec![]),
                reference: mb(""),
                patterns: vec![lm("%")],
                return_opts: Some(vec![ListReturnOption::Children]),
            },
        );
        kat(
            b"BBB LIST \"\" (\"INBOX\" \"Drafts\" \"Sent/%\")\r\n",
            CommandBody::List {
                selection: None,
                reference: mb(""),
                patterns: vec![lm("INBOX"), lm("Drafts"), lm("Sent/%")],
                return_opts: None,
            },
        );
        kat(
            b"C04 LIST (SUBSCRIBED RECURSIVEMATCH REMOTE) \"\" \"%\" RETURN (SUBSCRIBED)\r\n",
            CommandBody::List {
                selection: Some(vec![
                    ListSelectOption::Subscribed,
                    ListSelectOption::RecursiveMatch,
                    ListSelectOption::Remote,
                ]),
                reference: mb(""),
                patterns: vec![lm("%")],
                return_opts: Some(vec![ListReturnOption::Subscribed]),
            },
        );
        // LIST-STATUS (RFC 5819), LIST-MYRIGHTS (RFC 8440), LIST-METADATA (RFC 9590)
        kat_exact(
            b"A01 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN) MYRIGHTS SPECIAL-USE)\r\n",
            CommandBody::List {
                selection: None,
                reference: mb(""),
                patterns: vec![lm("%")],
                return_opts: Some(vec![
                    ListReturnOption::Status(vec![
                        StatusAttribute::Messages,
                        StatusAttribute::Unseen,
                    ]),
                    ListReturnOption::MyRights,
                    ListReturnOption::SpecialUse,
                ]),
            },
        );
        kat(
            b"A01 LIST \"\" % RETURN (METADATA (\"/shared/vendor/cmu/cyrus-imapd/color\"))\r\n",
            CommandBody::List {
                selection: None,
                reference: mb(""),
                patterns: vec![lm("%")],
                return_opts: Some(vec![ListReturnOption::Metadata(vec![is(
                    "/shared/vendor/cmu/cyrus-imapd/color",
                )])]),
            },
        );
        // MULTIAPPEND (RFC 3502)
        kat(
            b"A003 APPEND saved-messages (\\Seen) {3}\r\nabc (\\Seen) \" 7-Feb-1994 22:43:04 -0800\" {2}\r\nde\r\n",
            CommandBody::Append {
                mailbox: mb("saved-messages"),
                messages: vec![
                    AppendMessage {
                        flags: vec![Flag::Seen],
                        ..AppendMessage::literal(Bytes::from_static(b"abc"))
                    },
                    AppendMessage {
                        flags: vec![Flag::Seen],
                        date: Some(DateTime::new(date(1994, 2, 7), 22, 43, 4, -480).unwrap()),
                        ..AppendMessage::literal(Bytes::from_static(b"de"))
                    },
                ],
            },
        );
        // CATENATE (RFC 4469)
        kat(
            b"A003 APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER\" TEXT {4}\r\n\r\n\r\n URL \"/Drafts;UIDVALIDITY=385759045/;UID=30\")\r\n",
            CommandBody::Append {
                mailbox: mb("Drafts"),
                messages: vec![AppendMessage {
                    flags: vec![Flag::Seen, Flag::Draft, Flag::Keyword(at("$MDNSent"))],
                    date: None,
                    extensions: vec![],
                    data: AppendData::Catenate(vec![
                        CatPart::Url(is("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER")),
                        CatPart::Text {
                            data: Bytes::from_static(b"\r\n\r\n"),
                            binary: false,
                        },
                        CatPart::Url(is("/Drafts;UIDVALIDITY=385759045/;UID=30")),
                    ]),
                }],
            },
        );
        // UTF8=ACCEPT (RFC 6855) and BINARY (RFC 3516)
        kat_exact(
            b"A APPEND INBOX UTF8 (~{5}\r\nh\xc3\xa9lo)\r\n",
            CommandBody::Append {
                mailbox: Mailbox::Inbox,
                messages: vec![AppendMessage {
                    data: AppendData::Utf8(Bytes::from_static(b"h\xc3\xa9lo")),
                    ..AppendMessage::literal(Bytes::new())
                }],
            },
        );
        kat_exact(
            b"A APPEND INBOX ~{3}\r\na\0b\r\n",
            CommandBody::Append {
                mailbox: Mailbox::Inbox,
                messages: vec![AppendMessage::literal(Bytes::from_static(b"a\0b"))],
            },
        );
        assert!(decode(b"A APPEND INBOX {3}\r\na\0b\r\n").is_err());
        // ESEARCH/CONTEXT/PARTIAL (RFC 4731, 5267, 9394)
        kat_exact(
            b"A01 UID SEARCH RETURN (PARTIAL -1:-100) UNDELETED\r\n",
            CommandBody::Search {
                return_opts: Some(vec![SearchReturnOption::Partial(PartialRange::Last(
                    nz(1),
                    nz(100),
                ))]),
                charset: None,
                criteria: vec![SearchKey::Undeleted],
                uid: true,
            },
        );
        kat_exact(
            b"B01 UID SEARCH RETURN (UPDATE CONTEXT SAVE ALL MAX PARTIAL 1:500) DELETED\r\n",
            CommandBody::Search {
                return_opts: Some(vec![
                    SearchReturnOption::Update,
                    SearchReturnOption::Context,
                    SearchReturnOption::Save,
                    SearchReturnOption::All,
                    SearchReturnOption::Max,
                    SearchReturnOption::Partial(PartialRange::First(nz(1), nz(500))),
                ]),
                charset: None,
                criteria: vec![SearchKey::Deleted],
                uid: true,
            },
        );
        kat_exact(
            b"B04 CANCELUPDATE \"B01\" \"B02\"\r\n",
            CommandBody::CancelUpdate(vec![
                Tag::try_from("B01").unwrap(),
                Tag::try_from("B02").unwrap(),
            ]),
        );
        // ID (RFC 2971)
        kat_exact(
            b"a023 ID (\"name\" \"sodr\" \"version\" \"19.34\" \"vendor\" \"Pink Floyd Music Limited\" \"os\" NIL)\r\n",
            CommandBody::Id(Some(vec![
                (is("name"), Some(is("sodr"))),
                (is("version"), Some(is("19.34"))),
                (is("vendor"), Some(is("Pink Floyd Music Limited"))),
                (is("os"), None),
            ])),
        );
        kat_exact(b"a ID NIL\r\n", CommandBody::Id(None));
        // QUOTA (RFC 9208)
        kat(
            b"G0001 GETQUOTA \"!partition/sda4\"\r\n",
            CommandBody::GetQuota(is("!partition/sda4")),
        );
        kat_exact(
            b"G0002 GETQUOTAROOT INBOX\r\n",
            CommandBody::GetQuotaRoot(Mailbox::Inbox),
        );
        kat_exact(
            b"S0000 SETQUOTA #user/alice (STORAGE 510 MESSAGE 1000 X-THING 5)\r\n",
            CommandBody::SetQuota {
                root: is("#user/alice"),
                limits: vec![
                    QuotaLimit {
                        resource: QuotaResource::Storage,
                        limit: 510,
                    },
                    QuotaLimit {
                        resource: QuotaResource::Message,
                        limit: 1000,
                    },
                    QuotaLimit {
                        resource: QuotaResource::Other(at("X-THING")),
                        limit: 5,
                    },
                ],
            },
        );
        // ACL (RFC 4314)
        kat_exact(
            b"A001 GETACL INBOX\r\n",
            CommandBody::GetAcl(Mailbox::Inbox),
        );
        kat_exact(
            b"A002 SETACL INBOX/Drafts Chris +cda\r\n",
            CommandBody::SetAcl {
                mailbox: mb("INBOX/Drafts"),
                identifier: is("Chris"),
                modification: AclModification::Add,
                rights: is("cda"),
            },
        );
        kat_exact(
            b"A035 SETACL INBOX/Drafts John lrQswicda\r\n",
            CommandBody::SetAcl {
                mailbox: mb("INBOX/Drafts"),
                identifier: is("John"),
                modification: AclModification::Replace,
                rights: is("lrQswicda"),
            },
        );
        kat_exact(
            b"A003 DELETEACL ~/Mail/saved smith\r\n",
            CommandBody::DeleteAcl {
                mailbox: mb("~/Mail/saved"),
                identifier: is("smith"),
            },
        );
        kat_exact(
            b"a LISTRIGHTS ~/Mail/saved smith\r\n",
            CommandBody::ListRights {
                mailbox: mb("~/Mail/saved"),
                identifier: is("smith"),
            },
        );
        kat_exact(
            b"A003 MYRIGHTS INBOX\r\n",
            CommandBody::MyRights(Mailbox::Inbox),
        );
        // METADATA (RFC 5464)
        kat(
            b"a GETMETADATA \"\" /shared/comment\r\n",
            CommandBody::GetMetadata {
                options: vec![],
                mailbox: mb(""),
                entries: vec![is("/shared/comment")],
            },
        );
        kat_exact(
            b"a GETMETADATA (MAXSIZE 1024 DEPTH infinity) INBOX (/shared/comment /private/comment)\r\n",
            CommandBody::GetMetadata {
                options: vec![
                    GetMetadataOption::MaxSize(1024),
                    GetMetadataOption::Depth(MetadataDepth::Infinity),
                ],
                mailbox: Mailbox::Inbox,
                entries: vec![is("/shared/comment"), is("/private/comment")],
            },
        );
        kat(
            b"a SETMETADATA INBOX (/private/comment {9}\r\nMy commnt /shared/x NIL /shared/b ~{2}\r\n\0\x01)\r\n",
            CommandBody::SetMetadata {
                mailbox: Mailbox::Inbox,
                entries: vec![
                    (is("/private/comment"), Some(Bytes::from_static(b"My commnt"))),
                    (is("/shared/x"), None),
                    (is("/shared/b"), Some(Bytes::from_static(b"\0\x01"))),
                ],
            },
        );
        // NOTIFY (RFC 5465)
        kat(
            b"a notify set (mailboxes INBOX (Messagenew messageExpunge))\r\n",
            CommandBody::Notify(Notify::Set {
                status: false,
                groups: vec![EventGroup {
                    filter: MailboxFilter::Mailboxes(vec![Mailbox::Inbox]),
                    events: vec![NotifyEvent::MessageNew(None), NotifyEvent::MessageExpunge],
                }],
            }),
        );
        kat_exact(
            b"b NOTIFY SET STATUS (selected (MessageNew MessageExpunge FlagChange)) (subtree (Lists Other) NONE)\r\n",
            CommandBody::Notify(Notify::Set {
                status: true,
                groups: vec![
                    EventGroup {
                        filter: MailboxFilter::Selected,
                        events: vec![
                            NotifyEvent::MessageNew(None),
                            NotifyEvent::MessageExpunge,
                            NotifyEvent::FlagChange,
                        ],
                    },
                    EventGroup {
                        filter: MailboxFilter::Subtree(vec![mb("Lists"), mb("Other")]),
                        events: vec![],
                    },
                ],
            }),
        );
        kat_exact(b"c NOTIFY NONE\r\n", CommandBody::Notify(Notify::None));
        // SORT / THREAD (RFC 5256), DISPLAY (RFC 5957), ESORT (RFC 5267)
        let sc = |reverse, key| SortCriterion { reverse, key };
        kat_exact(
            b"A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL\r\n",
            CommandBody::Sort {
                return_opts: None,
                criteria: vec![
                    sc(false, crate::search::SortKey::Subject),
                    sc(true, crate::search::SortKey::Date),
                ],
                charset: cs("UTF-8"),
                search: vec![SearchKey::All],
                uid: false,
            },
        );
        kat_exact(
            b"A01 UID SORT RETURN (MIN) (DISPLAYFROM) UTF-8 UNDELETED UNKEYWORD $Junk\r\n",
            CommandBody::Sort {
                return_opts: Some(vec![SearchReturnOption::Min]),
                criteria: vec![sc(false, crate::search::SortKey::DisplayFrom)],
                charset: cs("UTF-8"),
                search: vec![SearchKey::Undeleted, SearchKey::Unkeyword(at("$Junk"))],
                uid: true,
            },
        );
        kat(
            b"A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000\r\n",
            CommandBody::Thread {
                algorithm: ThreadAlgorithm::OrderedSubject,
                charset: cs("UTF-8"),
                search: vec![SearchKey::Since(date(2000, 3, 5))],
                uid: false,
            },
        );
        kat_exact(
            b"A284 THREAD REFERENCES US-ASCII TEXT gewp\r\n",
            CommandBody::Thread {
                algorithm: ThreadAlgorithm::References,
                charset: cs("US-ASCII"),
                search: vec![SearchKey::Text(is("gewp"))],
                uid: false,
            },
        );
        // MULTISEARCH (RFC 7377)
        kat(
            b"tag1 ESEARCH IN (mailboxes \"folder1\" subtree-one \"folder2\") subject \"chad\"\r\n",
            CommandBody::ESearch {
                source: Some(ESearchSource {
                    filters: vec![
                        MailboxFilter::Mailboxes(vec![mb("folder1")]),
                        MailboxFilter::SubtreeOne(vec![mb("folder2")]),
                    ],
                    scope_options: vec![],
                }),
                return_opts: None,
                charset: None,
                criteria: vec![SearchKey::Subject(is("chad"))],
            },
        );
        kat_exact(
            b"t ESEARCH IN (personal (X-Q 5)) RETURN (COUNT) CHARSET UTF-8 ALL\r\n",
            CommandBody::ESearch {
                source: Some(ESearchSource {
                    filters: vec![MailboxFilter::Personal],
                    scope_options: vec![(at("X-Q"), Some(TaggedExtVal::Number(5)))],
                }),
                return_opts: Some(vec![SearchReturnOption::Count]),
                charset: Some(cs("UTF-8")),
                criteria: vec![SearchKey::All],
            },
        );
        // REPLACE (RFC 8508)
        kat_exact(
            b"A003 REPLACE 4 Drafts (\\Seen \\Draft) {3}\r\nabc\r\n",
            CommandBody::Replace {
                number: nz(4),
                mailbox: mb("Drafts"),
                message: AppendMessage {
                    flags: vec![Flag::Seen, Flag::Draft],
                    ..AppendMessage::literal(Bytes::from_static(b"abc"))
                },
                uid: false,
            },
        );
        kat_exact(
            b"A004 UID REPLACE 2000 Drafts {3}\r\nabc\r\n",
            CommandBody::Replace {
                number: nz(2000),
                mailbox: mb("Drafts"),
                message: AppendMessage::literal(Bytes::from_static(b"abc")),
                uid: true,
            },
        );
        // UNAUTHENTICATE (RFC 8437), COMPRESS (RFC 4978), XLIST, X-GM-LABELS
        kat_exact(b"a UNAUTHENTICATE\r\n", CommandBody::Unauthenticate);
        kat_exact(
            b"a COMPRESS DEFLATE\r\n",
            CommandBody::Compress(at("DEFLATE")),
        );
        kat_exact(
            b"a XLIST \"\" *\r\n",
            CommandBody::XList {
                reference: mb(""),
                pattern: lm("*"),
            },
        );
        kat_exact(
            b"a011 STORE 1 +X-GM-LABELS (\\Inbox \"My label\" foo)\r\n",
            CommandBody::Store {
                sequence_set: SequenceSet::single(nz(1)),
                modifiers: vec![],
                kind: StoreType::Add,
                silent: false,
                data: StoreData::GmailLabels(vec![
                    GmailLabel::System(at("Inbox")),
                    GmailLabel::Label(is("My label")),
                    GmailLabel::Label(is("foo")),
                ]),
                uid: false,
            },
        );
        kat_exact(
            b"a SEARCH X-GM-RAW \"has:attachment in:unread\"\r\n",
            CommandBody::Search {
                return_opts: None,
                charset: None,
                criteria: vec![SearchKey::GmailRaw(is("has:attachment in:unread"))],
                uid: false,
            },
        );
        // URLAUTH (RFC 4467)
        kat(
            b"a GENURLAUTH \"imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred\" INTERNAL\r\n",
            CommandBody::GenUrlAuth(vec![(
                is("imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred"),
                at("INTERNAL"),
            )]),
        );
        kat_exact(b"a RESETKEY\r\n", CommandBody::ResetKey(None));
        kat_exact(
            b"a RESETKEY INBOX INTERNAL\r\n",
            CommandBody::ResetKey(Some((Mailbox::Inbox, vec![at("INTERNAL")]))),
        );
        kat(
            b"a URLFETCH \"imap://joe@example.com/INBOX/;uid=20\"\r\n",
            CommandBody::UrlFetch(vec![is("imap://joe@example.com/INBOX/;uid=20")]),
        );
        // generic select parameters (RFC 4466)
        kat_exact(
            b"a EXAMINE INBOX (X-Q1 (a (b c) \"d e\") X-Q2 1:5 X-Q3 7 X-Q4)\r\n",
            CommandBody::Examine {
                mailbox: Mailbox::Inbox,
                params: vec![
                    SelectParam::Other {
                        name: at("X-Q1"),
                        value: Some(TaggedExtVal::Comp(vec![
                            TaggedExtComp::AString(is("a")),
                            TaggedExtComp::List(vec![
                                TaggedExtComp::AString(is("b")),
                                TaggedExtComp::AString(is("c")),
                            ]),
                            TaggedExtComp::AString(is("d e")),
                        ])),
                    },
                    SelectParam::Other {
                        name: at("X-Q2"),
                        value: Some(TaggedExtVal::SequenceSet(range(1, 5))),
                    },
                    SelectParam::Other {
                        name: at("X-Q3"),
                        value: Some(TaggedExtVal::Number(7)),
                    },
                    SelectParam::Other {
                        name: at("X-Q4"),
                        value: None,
                    },
                ],
            },
        );
    }

    #[test]
    fn validation_catches_what_types_cannot() {
        let empty_search = CommandBody::Search {
            return_opts: None,
            charset: None,
            criteria: vec![],
            uid: false,
        };
        assert!(empty_search.validate().is_err());
        let bad_label = CommandBody::Select {
            mailbox: Mailbox::Inbox,
            params: vec![SelectParam::Other {
                name: at("CONDSTORE"),
                value: None,
            }],
        };
        assert!(bad_label.validate().is_err());
        let deep_and = CommandBody::Search {
            return_opts: None,
            charset: None,
            criteria: vec![SearchKey::Not(Box::new(SearchKey::And(vec![])))],
            uid: true,
        };
        assert!(deep_and.validate().is_err());
        assert!(
            CommandBody::Append {
                mailbox: Mailbox::Inbox,
                messages: vec![AppendMessage {
                    extensions: vec![(at("CATENATE"), TaggedExtVal::Number(1))],
                    ..AppendMessage::literal(Bytes::from_static(b"x"))
                }],
            }
            .validate()
            .is_err()
        );
        assert!(CommandBody::Noop.validate().is_ok());
    }

    /// Unknown commands may carry literals in their raw arguments: validation accepts
    /// well-formed ones, the encoder records where the client must wait, and the decoder
    /// rejects NUL outside literal8 (strict) or drops it (lenient).
    #[test]
    fn unknown_command_literals() {
        use crate::encode::Fragment;
        let body = CommandBody::other(at("XFOO"), "x {3}\r\nabc y {2+}\r\nde").unwrap();
        let cmd = Command::new(Tag::try_from("a").unwrap(), body).unwrap();
        let mut b = EncodeBuf::new();
        cmd.encode(&mut b);
        let frags: Vec<_> = b.fragments().collect();
        assert_eq!(
            frags,
            vec![
                Fragment::Line(b"a XFOO x {3}\r\n"),
                Fragment::Literal {
                    data: b"abc",
                    mode: crate::encode::LiteralMode::Sync
                },
                Fragment::Line(b" y {2+}\r\n"),
                Fragment::Literal {
                    data: b"de",
                    mode: crate::encode::LiteralMode::NonSync
                },
                Fragment::Line(b"\r\n"),
            ]
        );
        assert_eq!(decode(&b.out).unwrap(), cmd);
        assert!(decode(b"a XFOO a\0b\r\n").is_err());
        let lenient = Command::decode(
            &Bytes::from_static(b"a XFOO a\0b {1}\r\n\0 c\0\r\n"),
            &DecodeOptions::lenient(),
        );
        // NUL in the plain literal cannot be fixed by dropping line NULs: an error.
        assert!(lenient.is_err());
        let lenient = Command::decode(
            &Bytes::from_static(b"a XFOO a\0b ~{1}\r\n\0 c\0\r\n"),
            &DecodeOptions::lenient(),
        )
        .unwrap();
        assert_eq!(
            lenient.message.body(),
            &CommandBody::other(at("XFOO"), &b"ab ~{1}\r\n\0 c"[..]).unwrap()
        );
        assert!(lenient.message.validate().is_ok());
        // decode_command fuzz crash: a leniently decoded unknown command kept NUL bytes in
        // its raw arguments and did not validate.
        let msg = Bytes::from_static(b": a1: :a\x06\0\0 a\0\r\n");
        assert!(Command::decode(&msg, &DecodeOptions::strict()).is_err());
        let d = Command::decode(&msg, &DecodeOptions::lenient()).unwrap();
        assert_eq!(
            d.message.body(),
            &CommandBody::other(at("a1:"), &b":a\x06 a"[..]).unwrap()
        );
        assert!(d.message.validate().is_ok());
        assert!(!d.warnings.is_empty());
        // decode_command fuzz crash: a bare LF after a literal announcement in the raw
        // arguments was kept by the lenient profile and the re-encoding did not decode.
        let msg = Bytes::from_static(b"1 : ; {0}\0\n:0}\n");
        assert!(Command::decode(&msg, &DecodeOptions::strict()).is_err());
        let d = Command::decode(&msg, &DecodeOptions::lenient()).unwrap();
        assert_eq!(
            d.message.body(),
            &CommandBody::other(at(":"), &b"; {0}\r\n:0}"[..]).unwrap()
        );
        assert_eq!(decode(&enc(&d.message)).unwrap(), d.message);
    }

    /// Values that construct fine but would re-decode differently: validation rejects them,
    /// and the normalising constructors build the value that decodes as itself.
    #[test]
    fn values_that_would_decode_differently_are_rejected() {
        use crate::fetch::{FetchAttribute, FetchAttributes, Partial};
        use crate::flag::MailboxAttribute;
        use crate::search::{SortCriterion, SortKey, ThreadAlgorithm};
        use crate::status::StatusAttribute;
        let t = Tag::try_from("a").unwrap();
        let rejected = |body: CommandBody| {
            assert!(
                Command::new(t.clone(), body.clone()).is_err(),
                "accepted {body:?}"
            );
        };
        let store = |f: Flag| CommandBody::Store {
            sequence_set: range(1, 2),
            modifiers: vec![],
            kind: StoreType::Add,
            silent: false,
            data: StoreData::Flags(vec![f]),
            uid: false,
        };
        // `\Seen` decodes as Flag::Seen.
        rejected(store(Flag::Extension(at("Seen"))));
        assert_eq!(Flag::system(at("sEEN")), Flag::Seen);
        assert!(Command::new(t.clone(), store(Flag::system(at("Seen")))).is_ok());
        assert!(Command::new(t.clone(), store(Flag::Extension(at("Foo")))).is_ok());
        // `inbox` decodes as Mailbox::Inbox.
        rejected(CommandBody::Delete(Mailbox::Other(is("inbox"))));
        assert_eq!(mb("inbox"), Mailbox::Inbox);
        // An empty set encodes as nothing.
        rejected(CommandBody::UidExpunge(SequenceSet::Set(vec![])));
        rejected(CommandBody::Search {
            return_opts: None,
            charset: None,
            criteria: vec![SearchKey::Uid(SequenceSet::Set(vec![]))],
            uid: false,
        });
        // Known names in Other/Extension variants.
        rejected(CommandBody::Create {
            mailbox: mb("x"),
            params: vec![CreateParam::SpecialUse(vec![MailboxAttribute::Extension(
                at("Noselect"),
            )])],
        });
        for name in ["MESSAGES", "messages", "UIDNEXT.x", "SIZE[", "DELETED"] {
            rejected(CommandBody::Status {
                mailbox: mb("x"),
                attributes: vec![StatusAttribute::Other(at(name))],
            });
        }
        assert_eq!(
            StatusAttribute::from_name(at("messages")),
            StatusAttribute::Messages
        );
        let fetch = |a: FetchAttribute| CommandBody::Fetch {
            sequence_set: range(1, 2),
            items: FetchItems::Attributes(FetchAttributes::from(a)),
            modifiers: vec![],
            uid: false,
        };
        for name in [
            "ENVELOPE",
            "BODY[",
            "body.peek",
            "UID.x",
            "BINARY<",
            "PREVIEW",
        ] {
            rejected(fetch(FetchAttribute::Other(at(name))));
        }
        assert!(Command::new(t.clone(), fetch(FetchAttribute::Other(at("X-FOO")))).is_ok());
        // A partial range the encoder would saturate.
        rejected(fetch(FetchAttribute::BodySection {
            section: None,
            partial: Some(Partial {
                offset: u64::MAX,
                length: std::num::NonZeroU64::MIN,
            }),
            peek: false,
        }));
        // Macros cannot be sent where only fetch-att lists are allowed.
        rejected(CommandBody::Notify(Notify::Set {
            status: false,
            groups: vec![EventGroup {
                filter: MailboxFilter::Selected,
                events: vec![NotifyEvent::MessageNew(Some(FetchItems::All))],
            }],
        }));
        rejected(CommandBody::Notify(Notify::Set {
            status: false,
            groups: vec![EventGroup {
                filter: MailboxFilter::Selected,
                events: vec![NotifyEvent::Other(at("FlagChange"))],
            }],
        }));
        rejected(CommandBody::Sort {
            return_opts: None,
            criteria: vec![SortCriterion {
                reverse: false,
                key: SortKey::Other(at("date")),
            }],
            charset: cs("UTF-8"),
            search: vec![SearchKey::All],
            uid: false,
        });
        rejected(CommandBody::Thread {
            algorithm: ThreadAlgorithm::Other(at("REFERENCES")),
            charset: cs("UTF-8"),
            search: vec![SearchKey::All],
            uid: false,
        });
        rejected(CommandBody::SetQuota {
            root: is(""),
            limits: vec![QuotaLimit {
                resource: QuotaResource::Other(at("STORAGE")),
                limit: 1,
            }],
        });
        // A select parameter that continues a known name with '.'.
        rejected(CommandBody::Select {
            mailbox: Mailbox::Inbox,
            params: vec![SelectParam::Other {
                name: at("CONDSTORE.x"),
                value: None,
            }],
        });
        // A one-number sequence set decodes as TaggedExtVal::Number.
        rejected(CommandBody::Select {
            mailbox: Mailbox::Inbox,
            params: vec![SelectParam::Other {
                name: at("X-A"),
                value: Some(TaggedExtVal::SequenceSet(SequenceSet::single(nz(5)))),
            }],
        });
        // NUL in a literal that is not literal8.
        rejected(CommandBody::Append {
            mailbox: Mailbox::Inbox,
            messages: vec![AppendMessage {
                data: AppendData::Literal {
                    data: Bytes::from_static(b"a\0b"),
                    binary: false,
                },
                ..AppendMessage::literal(Bytes::new())
            }],
        });
        // URLAUTH mechanisms are 1*(ALPHA / DIGIT / "-" / ".").
        rejected(CommandBody::GenUrlAuth(vec![(is("imap://x"), at("A_B"))]));
        // Raw arguments that are not one line, or that announce a literal.
        for raw in [&b"a\r\nb"[..], b"x {3}", b"x {3+}", b"x ~{3}"] {
            rejected(CommandBody::Other {
                name: at("XFOO"),
                raw: Bytes::copy_from_slice(raw),
            });
        }
        assert!(CommandBody::other(at("XFOO"), "x {3}").is_err());
        assert!(CommandBody::other(at("XFOO"), "{3} x").is_ok());
        assert!(CommandBody::other(at("XFOO"), "x {3}\r\nab").is_err());
        assert!(CommandBody::other(at("XFOO"), "x {3}\r\na\0b").is_err());
        assert!(CommandBody::other(at("XFOO"), "x ~{3}\r\na\0b").is_ok());
        assert!(CommandBody::other(at("XFOO"), "a\0b").is_err());
        // Deeper than the decoder's nesting limit.
        let mut k = SearchKey::All;
        for _ in 0..64 {
            k = SearchKey::Not(Box::new(k));
        }
        rejected(CommandBody::Search {
            return_opts: None,
            charset: None,
            criteria: vec![k],
            uid: false,
        });
        // At the limit: accepted, and decodes.
        let mut k = SearchKey::All;
        for _ in 0..63 {
            k = SearchKey::Not(Box::new(k));
        }
        let at_limit = Command::new(
            t.clone(),
            CommandBody::Search {
                return_opts: None,
                charset: None,
                criteria: vec![k],
                uid: false,
            },
        )
        .unwrap();
        assert_eq!(decode(&enc(&at_limit)).unwrap(), at_limit);
        let mut c = TaggedExtComp::AString(is("x"));
        for _ in 0..63 {
            c = TaggedExtComp::List(vec![c]);
        }
        let at_limit = Command::new(
            t.clone(),
            CommandBody::Select {
                mailbox: Mailbox::Inbox,
                params: vec![SelectParam::Other {
                    name: at("X-A"),
                    value: Some(TaggedExtVal::Comp(vec![c.clone()])),
                }],
            },
        )
        .unwrap();
        assert_eq!(decode(&enc(&at_limit)).unwrap(), at_limit);
        // One level more: rejected.
        let c = TaggedExtComp::List(vec![c]);
        rejected(CommandBody::Select {
            mailbox: Mailbox::Inbox,
            params: vec![SelectParam::Other {
                name: at("X-A"),
                value: Some(TaggedExtVal::Comp(vec![c])),
            }],
        });
    }

    /// The client-to-server samples of `shared/quirks/server-quirks.jsonl` are valid commands
    /// (servers mishandle them); they decode strictly, except the bare LF and
    /// `CHANGEDSINCE 0`, which only the lenient profile takes.
    #[test]
    fn client_quirk_samples() {
        for s in [
            &b"A ID ()\r\n"[..],
            b"A00000003 NAMESPACE\r\n",
            b"A1 LIST (SPECIAL-USE) \"\" \"*\"\r\n",
            b"A1 LIST \"\" \"INBOX\" RETURN (SUBSCRIBED CHILDREN)\r\n",
            b"A010 SELECT \"INBOX/ &AAk-Example \"\r\n",
            b"0009 APPEND \"Gesendete Elemente\" {3}\r\nabc\r\n",
            b"A1 LSUB \"\" \"*\"\r\n",
            b"A1 SELECT INBOX (CONDSTORE ANNOTATE)\r\n",
            b"A1 CREATE \"Parent/\"\r\n",
        ] {
            let c = decode(s).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(decode(&enc(&c)).unwrap(), c);
        }
        assert_eq!(
            decode(b"A ID ()\r\n").unwrap().body,
            CommandBody::Id(Some(vec![]))
        );
        let l = DecodeOptions::lenient();
        assert!(decode(b"A1 NOOP\n").is_err());
        let d = Command::decode(&Bytes::from_static(b"A1 NOOP\n"), &l).unwrap();
        assert_eq!(d.message.body, CommandBody::Noop);
        assert_eq!(enc(&d.message), b"A1 NOOP\r\n");
        if fetch_items_work(&FetchItems::All) {
            for s in [
                &b"A1 UID FETCH 10:1 (UID FLAGS)\r\n"[..],
                b"A1 FETCH * (UID)\r\n",
            ] {
                let c = decode(s).unwrap();
                assert_eq!(decode(&enc(&c)).unwrap(), c);
            }
            assert!(decode(b"A1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 0)\r\n").is_err());
            let d = Command::decode(
                &Bytes::from_static(b"A1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 0)\r\n"),
                &l,
            )
            .unwrap();
            assert_eq!(d.warnings.len(), 1);
        }
        // the same tolerance without FETCH items
        assert!(decode(b"A1 SELECT INBOX (QRESYNC (1 0))\r\n").is_err());
        let d = Command::decode(
            &Bytes::from_static(b"A1 SELECT INBOX (QRESYNC (1 0))\r\n"),
            &l,
        )
        .unwrap();
        assert_eq!(d.warnings[0].quirk, Quirk::ZeroModSeq);
    }

    #[test]
    fn unknown_commands_keep_raw_arguments() {
        let c = kat(
            b"a XYZZY foo {3}\r\nbar baz\r\n",
            CommandBody::Other {
                name: at("XYZZY"),
                raw: Bytes::from_static(b"foo {3}\r\nbar baz"),
            },
        );
        assert_eq!(c.body.name(), "XYZZY");
        kat_exact(
            b"a XYZZY\r\n",
            CommandBody::Other {
                name: at("XYZZY"),
                raw: Bytes::new(),
            },
        );
        // known names with bad arguments are errors, not Other
        assert!(decode(b"a SELECT\r\n").is_err());
        assert!(decode(b"a NOOP x\r\n").is_err());
        assert!(decode(b"a UID XYZZY 1\r\n").is_err());
        assert!(decode(b"a XYZZY \r\n").is_err());
        assert!(CommandBody::other(at("noop"), "").is_err());
        assert!(CommandBody::other(at("FOO"), "a\r\nb").is_err());
    }

    #[test]
    fn secrets_are_redacted() {
        let c = decode(b"a001 LOGIN SMITH SESAME\r\n").unwrap();
        let d = format!("{c:?}");
        assert!(d.contains("SMITH") && !d.contains("SESAME"), "{d}");
        let c = decode(b"a01 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n").unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("test") && !d.contains("dGVzd"), "{d}");
        let a = AuthenticateData::decode(
            &Bytes::from_static(b"dGVzdAB0ZXN0AHRlc3Q=\r\n"),
            &DecodeOptions::strict(),
        )
        .unwrap()
        .message;
        let d = format!("{a:?}");
        assert!(!d.contains("test"), "{d}");
    }

    #[test]
    fn authenticate_data_and_idle_done() {
        let o = DecodeOptions::strict();
        let dec = |s: &'static [u8]| AuthenticateData::decode(&Bytes::from_static(s), &o);
        assert_eq!(dec(b"*\r\n").unwrap().message, AuthenticateData::Cancel);
        assert_eq!(
            dec(b"\r\n").unwrap().message,
            AuthenticateData::data(Bytes::new())
        );
        assert_eq!(
            dec(b"dGVzdAB0ZXN0AHRlc3Q=\r\n").unwrap().message,
            AuthenticateData::data(Bytes::from_static(b"test\0test\0test"))
        );
        assert!(dec(b"dGVzd\r\n").is_err());
        assert!(dec(b"* \r\n").is_err());
        assert_eq!(enc(&AuthenticateData::data(Bytes::new())), b"\r\n");
        assert_eq!(enc(&AuthenticateData::Cancel), b"*\r\n");
        for s in [&b"DONE\r\n"[..], b"done\r\n", b"Done\r\n"] {
            assert_eq!(
                IdleDone::decode(&Bytes::from_static(s), &o)
                    .unwrap()
                    .message,
                IdleDone
            );
        }
        assert!(IdleDone::decode(&Bytes::from_static(b"DONEX\r\n"), &o).is_err());
        assert_eq!(enc(&IdleDone), b"DONE\r\n");
    }

    #[test]
    fn deep_nesting_in_commands_is_bounded() {
        let mut s = b"a SEARCH ".to_vec();
        s.extend(std::iter::repeat_n(b'(', 10_000));
        s.extend_from_slice(b"ALL");
        s.extend(std::iter::repeat_n(b')', 10_000));
        s.extend_from_slice(b"\r\n");
        assert_eq!(
            decode(&s).unwrap_err().expected,
            "nesting within the depth limit"
        );
        let mut s = b"a UID SORT (DATE) UTF-8 ".to_vec();
        s.extend(b"NOT ".repeat(10_000));
        s.extend_from_slice(b"ALL\r\n");
        assert!(decode(&s).is_err());
        let mut s = b"a SELECT INBOX (X-Q ".to_vec();
        s.extend(std::iter::repeat_n(b'(', 10_000));
        s.extend_from_slice(b"a");
        s.extend(std::iter::repeat_n(b')', 10_001));
        s.extend_from_slice(b"\r\n");
        assert!(decode(&s).is_err());
        // the deepest value the default limit accepts encodes and drops fine
        let mut s = b"a SEARCH ".to_vec();
        s.extend(b"NOT ".repeat(63));
        s.extend_from_slice(b"ALL\r\n");
        let c = decode(&s).unwrap();
        assert_eq!(enc(&c), s);
    }

    #[test]
    fn lenient_profile_tolerates_spaces_and_zero_modseq() {
        let o = DecodeOptions::lenient();
        let d = Command::decode(&Bytes::from_static(b"a  SEARCH  ALL  UNSEEN \r\n"), &o).unwrap();
        assert!(!d.warnings.is_empty());
        let d = Command::decode(
            &Bytes::from_static(b"a UID FETCH 1:* ALL (CHANGEDSINCE 0)\r\n"),
            &o,
        );
        if fetch_items_work(&FetchItems::All) {
            assert!(d.is_ok());
        }
        let d = Command::decode(&Bytes::from_static(b"a SEARCH ALL \r\n"), &o).unwrap();
        assert_eq!(d.warnings.len(), 1);
        assert!(decode(b"a SEARCH ALL \r\n").is_err());
        let d = Command::decode(&Bytes::from_static(b"a STATUS INBOX (MESSAGES ) \r\n"), &o);
        assert!(d.is_ok());
        assert!(decode(b"a  NOOP\r\n").is_err());
        assert!(Command::decode(&Bytes::from_static(b"a  NOOP\r\n"), &o).is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn command_roundtrip(c in strategies::command()) {
            prop_assume!(!uses_stubbed_fetch(&c.body));
            prop_assert!(c.validate().is_ok(), "{:?}", c.validate());
            let mut buf = EncodeBuf::new();
            c.encode(&mut buf);
            let d = Command::decode(&Bytes::from(buf.out.clone()), &DecodeOptions::strict());
            match d {
                Ok(d) => prop_assert_eq!(d.message, c),
                Err(e) => prop_assert!(false, "{} in {:?}", e, String::from_utf8_lossy(&buf.out)),
            }
        }

        #[test]
        fn command_roundtrip_nonsync_literals(c in strategies::command()) {
            prop_assume!(!uses_stubbed_fetch(&c.body));
            let mut buf = EncodeBuf::with_options(crate::EncodeOptions {
                literal_mode: crate::encode::LiteralMode::NonSync,
                ..Default::default()
            });
            c.encode(&mut buf);
            let d = Command::decode(&Bytes::from(buf.out.clone()), &DecodeOptions::strict())
                .map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(d.message, c);
        }

        #[test]
        fn command_stream_roundtrip(
            cs in proptest::collection::vec(strategies::command(), 1..4),
            chunk in 1usize..64,
        ) {
            prop_assume!(cs.iter().all(|c| !uses_stubbed_fetch(&c.body)));
            let mut out = Vec::new();
            for c in &cs {
                out.extend(enc(c));
            }
            let mut dec = crate::codec::CommandDecoder::default();
            let mut got = Vec::new();
            for part in out.chunks(chunk) {
                dec.push(part);
                while let Some(ev) = dec.next() {
                    match ev {
                        crate::codec::StreamEvent::Message(m) => got.push(m.message),
                        crate::codec::StreamEvent::LiteralAnnounced(_) => {}
                        crate::codec::StreamEvent::Error(e) => prop_assert!(false, "{}", e),
                    }
                }
            }
            prop_assert_eq!(got, cs);
        }

        #[test]
        fn mutated_commands_never_panic(
            c in strategies::command(),
            pos in any::<proptest::sample::Index>(),
            byte in any::<u8>(),
            cut in any::<bool>(),
        ) {
            let mut out = enc(&c);
            let i = pos.index(out.len());
            if cut {
                out.truncate(i);
            } else {
                out[i] = byte;
            }
            let lenient = Command::decode(&Bytes::from(out.clone()), &DecodeOptions::lenient());
            drop(lenient);
            {
                let o = DecodeOptions::strict();
                if let Ok(d) = Command::decode(&Bytes::from(out.clone()), &o) {
                    // whatever strict decoding accepted encodes to something that decodes to
                    // the same value (lenient decoding of a NUL in a literal keeps the NUL:
                    // see parse.rs `literal_any`)
                    if !uses_stubbed_fetch(&d.message.body) {
                        let again = enc(&d.message);
                        let d2 = Command::decode(&Bytes::from(again), &DecodeOptions::strict());
                        prop_assert_eq!(d2.map(|d| d.message).ok(), Some(d.message));
                    }
                }
            }
        }

        #[test]
        fn authenticate_data_roundtrip(a in strategies::authenticate_data()) {
            let mut buf = EncodeBuf::new();
            a.encode(&mut buf);
            let d = AuthenticateData::decode(&Bytes::from(buf.out), &DecodeOptions::strict()).unwrap();
            prop_assert_eq!(d.message, a);
        }
    }
}
