//! SEARCH keys and programs (RFC 9051 §6.4.4, RFC 3501 §6.4.4), SEARCH return options
//! (RFC 9051 §6.4.4, ESEARCH RFC 4731, CONTEXT RFC 5267, PARTIAL RFC 9394), SORT criteria
//! and THREAD algorithms (RFC 5256, DISPLAY RFC 5957), plus the search-key extensions
//! MODSEQ (RFC 7162), OLDER/YOUNGER (RFC 5032), EMAILID/THREADID (RFC 8474),
//! SAVEDBEFORE/SAVEDON/SAVEDSINCE/SAVEDATESUPPORTED (RFC 8514), FUZZY (RFC 6203) and the
//! Gmail keys X-GM-RAW, X-GM-MSGID, X-GM-THRID, X-GM-LABELS.
//!
//! Nested keys (`NOT`, `OR`, `FUZZY`, parenthesised lists) are bounded by the decoder's
//! nesting limit, so hostile input cannot exhaust the stack; values built by decoding are as
//! deep as that limit at most, which also bounds encoding and dropping them.

use std::num::NonZeroU32;

use crate::core::{AString, Atom, IString};
use crate::datetime::Date;
use crate::encode::{Encode, EncodeBuf};
use crate::error::ValidationError;
use crate::ext::{TaggedExtVal, tagged_label};
use crate::fetch::FetchItems;
use crate::flag::Flag;
use crate::names::name_enum;
use crate::parse::{PResult, Parser, Word};
use crate::sequence::SequenceSet;

name_enum! {
    /// A search key (`search-key`).
    #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum SearchKey {
        /// `ALL`
        All = b"ALL",
        /// `ANSWERED`
        Answered = b"ANSWERED",
        /// `DELETED`
        Deleted = b"DELETED",
        /// `DRAFT`
        Draft = b"DRAFT",
        /// `FLAGGED`
        Flagged = b"FLAGGED",
        /// `NEW` (IMAP4rev1)
        New = b"NEW",
        /// `OLD` (IMAP4rev1)
        Old = b"OLD",
        /// `RECENT` (IMAP4rev1)
        Recent = b"RECENT",
        /// `SEEN`
        Seen = b"SEEN",
        /// `UNANSWERED`
        Unanswered = b"UNANSWERED",
        /// `UNDELETED`
        Undeleted = b"UNDELETED",
        /// `UNDRAFT`
        Undraft = b"UNDRAFT",
        /// `UNFLAGGED`
        Unflagged = b"UNFLAGGED",
        /// `UNSEEN`
        Unseen = b"UNSEEN",
        /// `SAVEDATESUPPORTED` (RFC 8514).
        SaveDateSupported = b"SAVEDATESUPPORTED",
    }
    others {
        /// `BCC string`
        Bcc(AString),
        /// `BEFORE date`
        Before(Date),
        /// `BODY string`
        Body(AString),
        /// `CC string`
        Cc(AString),
        /// `FROM string`
        From(AString),
        /// `HEADER field-name string`
        Header(AString, AString),
        /// `KEYWORD flag-keyword`
        Keyword(Atom),
        /// `LARGER n`
        Larger(u64),
        /// `NOT key`
        Not(#[cfg_attr(feature = "arbitrary", arbitrary(with = boxed_key))] Box<SearchKey>),
        /// `ON date`
        On(Date),
        /// `OR key1 key2`: both keys in one allocation (build it with [`SearchKey::or`]).
        Or(#[cfg_attr(feature = "arbitrary", arbitrary(with = boxed_or))] Box<OrKeys>),
        /// `SENTBEFORE date`
        SentBefore(Date),
        /// `SENTON date`
        SentOn(Date),
        /// `SENTSINCE date`
        SentSince(Date),
        /// `SINCE date`
        Since(Date),
        /// `SMALLER n`
        Smaller(u64),
        /// `SUBJECT string`
        Subject(AString),
        /// `TEXT string`
        Text(AString),
        /// `TO string`
        To(AString),
        /// `UID sequence-set`
        Uid(SequenceSet),
        /// `UNKEYWORD flag-keyword`
        Unkeyword(Atom),
        /// A bare `sequence-set` (message sequence numbers).
        SequenceSet(SequenceSet),
        /// `"(" search-key *(SP search-key) ")"`: all keys must match. Never empty.
        And(#[cfg_attr(feature = "arbitrary", arbitrary(with = keys))] Vec<SearchKey>),
        /// `MODSEQ [entry-name entry-type] modseq` (RFC 7162).
        ModSeq {
            /// The optional metadata entry (`"/flags/<flag>"` and its type).
            entry: Option<(Flag, EntryTypeReq)>,
            /// `mod-sequence-valzer`.
            modseq: u64,
        },
        /// `OLDER seconds` (RFC 5032).
        Older(NonZeroU32),
        /// `YOUNGER seconds` (RFC 5032).
        Younger(NonZeroU32),
        /// `X-GM-RAW string`: Gmail search syntax.
        GmailRaw(AString),
        /// `X-GM-MSGID n`.
        GmailMsgId(u64),
        /// `X-GM-THRID n`.
        GmailThrId(u64),
        /// `X-GM-LABELS label`.
        GmailLabels(AString),
        /// `EMAILID objectid` (RFC 8474).
        EmailId(Atom),
        /// `THREADID objectid` (RFC 8474).
        ThreadId(Atom),
        /// `SAVEDBEFORE date` (RFC 8514).
        SavedBefore(Date),
        /// `SAVEDON date` (RFC 8514).
        SavedOn(Date),
        /// `SAVEDSINCE date` (RFC 8514).
        SavedSince(Date),
        /// `FUZZY key` (RFC 6203).
        Fuzzy(#[cfg_attr(feature = "arbitrary", arbitrary(with = boxed_key))] Box<SearchKey>),
    }
    encode(buf) {
        SearchKey::Bcc(s) => kw_astr(buf, b"BCC", s),
        SearchKey::Before(d) => kw_date(buf, b"BEFORE", d),
        SearchKey::Body(s) => kw_astr(buf, b"BODY", s),
        SearchKey::Cc(s) => kw_astr(buf, b"CC", s),
        SearchKey::From(s) => kw_astr(buf, b"FROM", s),
        SearchKey::Header(n, v) => {
            kw_astr(buf, b"HEADER", n);
            buf.sp();
            v.encode_astring(buf);
        }
        SearchKey::Keyword(a) => {
            buf.raw(b"KEYWORD ");
            a.encode(buf);
        }
        SearchKey::Larger(n) => kw_num(buf, b"LARGER", *n),
        SearchKey::Not(k) => {
            buf.raw(b"NOT ");
            k.encode(buf);
        }
        SearchKey::On(d) => kw_date(buf, b"ON", d),
        SearchKey::Or(k) => {
            buf.raw(b"OR ");
            k.0.encode(buf);
            buf.sp();
            k.1.encode(buf);
        }
        SearchKey::SentBefore(d) => kw_date(buf, b"SENTBEFORE", d),
        SearchKey::SentOn(d) => kw_date(buf, b"SENTON", d),
        SearchKey::SentSince(d) => kw_date(buf, b"SENTSINCE", d),
        SearchKey::Since(d) => kw_date(buf, b"SINCE", d),
        SearchKey::Smaller(n) => kw_num(buf, b"SMALLER", *n),
        SearchKey::Subject(s) => kw_astr(buf, b"SUBJECT", s),
        SearchKey::Text(s) => kw_astr(buf, b"TEXT", s),
        SearchKey::To(s) => kw_astr(buf, b"TO", s),
        SearchKey::Uid(s) => {
            buf.raw(b"UID ");
            s.encode(buf);
        }
        SearchKey::Unkeyword(a) => {
            buf.raw(b"UNKEYWORD ");
            a.encode(buf);
        }
        SearchKey::SequenceSet(s) => s.encode(buf),
        SearchKey::And(v) => buf.list(v, |b, k| k.encode(b)),
        SearchKey::ModSeq { entry, modseq } => {
            buf.raw(b"MODSEQ ");
            if let Some((f, t)) = entry {
                let mut name = b"/flags/".to_vec();
                name.extend_from_slice(&f.to_vec_inline_literals());
                // `entry-flag-name` is DQUOTE-delimited only (flags are 7-bit atoms).
                buf.quoted(&name);
                buf.sp();
                t.encode(buf);
                buf.sp();
            }
            buf.num(*modseq);
        }
        SearchKey::Older(n) => kw_num(buf, b"OLDER", n.get().into()),
        SearchKey::Younger(n) => kw_num(buf, b"YOUNGER", n.get().into()),
        SearchKey::GmailRaw(s) => kw_astr(buf, b"X-GM-RAW", s),
        SearchKey::GmailMsgId(n) => kw_num(buf, b"X-GM-MSGID", *n),
        SearchKey::GmailThrId(n) => kw_num(buf, b"X-GM-THRID", *n),
        SearchKey::GmailLabels(s) => kw_astr(buf, b"X-GM-LABELS", s),
        SearchKey::EmailId(a) => {
            buf.raw(b"EMAILID ");
            a.encode(buf);
        }
        SearchKey::ThreadId(a) => {
            buf.raw(b"THREADID ");
            a.encode(buf);
        }
        SearchKey::SavedBefore(d) => kw_date(buf, b"SAVEDBEFORE", d),
        SearchKey::SavedOn(d) => kw_date(buf, b"SAVEDON", d),
        SearchKey::SavedSince(d) => kw_date(buf, b"SAVEDSINCE", d),
        SearchKey::Fuzzy(k) => {
            buf.raw(b"FUZZY ");
            k.encode(buf);
        }
    }
}

/// The two keys of [`SearchKey::Or`], in the order sent.
///
/// `Debug` prints the two keys as the fields of `Or` (`Or(Seen, Draft)`), as when `Or` held
/// them in two boxes.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OrKeys(pub SearchKey, pub SearchKey);

impl std::fmt::Debug for OrKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the two fields as a tuple variant prints them: `a, b`, or each on its line (the
        // enclosing `debug_tuple` indents them and ends the last)
        if f.alternate() {
            write!(f, "{:#?},\n{:#?}", self.0, self.1)
        } else {
            write!(f, "{:?}, {:?}", self.0, self.1)
        }
    }
}

/// `entry-type-req` of the MODSEQ search key (RFC 7162).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryTypeReq {
    /// `priv`
    Private,
    /// `shared`
    Shared,
    /// `all`
    All,
}

impl EntryTypeReq {
    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.keyword(b"priv") {
            Ok(EntryTypeReq::Private)
        } else if p.keyword(b"shared") {
            Ok(EntryTypeReq::Shared)
        } else if p.keyword(b"all") {
            Ok(EntryTypeReq::All)
        } else {
            Err(p.fail("entry-type-req"))
        }
    }
}

impl Encode for EntryTypeReq {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.raw(match self {
            EntryTypeReq::Private => b"priv",
            EntryTypeReq::Shared => b"shared",
            EntryTypeReq::All => b"all",
        })
    }
}

/// `NOT`/`FUZZY` operands.
#[cfg(feature = "arbitrary")]
pub(crate) fn boxed_key(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Box<SearchKey>> {
    crate::arbitrary_util::nested(
        u,
        || Box::new(SearchKey::All),
        |u| arbitrary::Arbitrary::arbitrary(u).map(Box::new),
    )
}

/// `OR` operands.
#[cfg(feature = "arbitrary")]
pub(crate) fn boxed_or(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Box<OrKeys>> {
    crate::arbitrary_util::nested(
        u,
        || Box::new(OrKeys(SearchKey::All, SearchKey::All)),
        |u| arbitrary::Arbitrary::arbitrary(u).map(Box::new),
    )
}

/// The keys of a parenthesised search key (possibly empty: the API allows building
/// `And(vec![])`, which validation must reject).
#[cfg(feature = "arbitrary")]
pub(crate) fn keys(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Vec<SearchKey>> {
    crate::arbitrary_util::nested(u, || vec![SearchKey::All], |u| u.arbitrary())
}

fn astr(p: &mut Parser<'_>) -> PResult<AString> {
    p.sp()?;
    IString::parse_astring(p)
}

fn date(p: &mut Parser<'_>) -> PResult<Date> {
    p.sp()?;
    Date::parse(p)
}

/// `SP search-key`.
fn spaced(p: &mut Parser<'_>) -> PResult<SearchKey> {
    p.sp()?;
    SearchKey::parse(p)
}

fn boxed(p: &mut Parser<'_>) -> PResult<Box<SearchKey>> {
    spaced(p).map(Box::new)
}

fn nz(p: &mut Parser<'_>) -> PResult<NonZeroU32> {
    p.sp()?;
    let start = p.pos;
    let v = p.number()?;
    NonZeroU32::new(v).ok_or_else(|| p.fail_at(start, "nz-number"))
}

fn n64(p: &mut Parser<'_>) -> PResult<u64> {
    p.sp()?;
    p.number64()
}

const MAX63: u64 = i64::MAX as u64;

fn check(ok: bool, what: &'static str, reason: &'static str) -> Result<(), ValidationError> {
    if ok {
        Ok(())
    } else {
        Err(ValidationError::grammar(what, reason))
    }
}

impl SearchKey {
    /// `OR a b`.
    pub fn or(a: SearchKey, b: SearchKey) -> SearchKey {
        SearchKey::Or(Box::new(OrKeys(a, b)))
    }

    /// Whether the key, or a key inside it, is a sequence set of message sequence numbers
    /// (RFC 9051 §6.4.4 `sequence-set` as a search key).
    pub fn uses_sequence_numbers(&self) -> bool {
        use SearchKey as K;
        match self {
            K::SequenceSet(_) => true,
            K::Not(k) | K::Fuzzy(k) => k.uses_sequence_numbers(),
            K::Or(k) => k.0.uses_sequence_numbers() || k.1.uses_sequence_numbers(),
            K::And(v) => v.iter().any(K::uses_sequence_numbers),
            _ => false,
        }
    }
}

impl SearchKey {
    /// Checks what the types cannot express: 63-bit numbers, `objectid` syntax, non-empty
    /// sets and lists, flags that decode as themselves, and a nesting depth within the
    /// decoder's default limit ([`DecodeOptions::max_depth`](crate::DecodeOptions)).
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.validate_at(1)
    }

    /// Validates the keys of a search program (non-empty).
    pub(crate) fn validate_many(keys: &[SearchKey]) -> Result<(), ValidationError> {
        check(!keys.is_empty(), "search criteria", "must not be empty")?;
        keys.iter().try_for_each(SearchKey::validate)
    }

    fn validate_at(&self, depth: u32) -> Result<(), ValidationError> {
        use SearchKey as K;
        check(
            depth <= crate::options::DecodeOptions::strict().max_depth,
            "search-key",
            "nested deeper than the decoder's limit",
        )?;
        match self {
            K::Larger(n) | K::Smaller(n) | K::GmailMsgId(n) | K::GmailThrId(n) => {
                check(*n <= MAX63, "search-key", "number above 2^63-1")
            }
            K::ModSeq { entry, modseq } => {
                check(*modseq <= MAX63, "search-key", "modseq above 2^63-1")?;
                entry.as_ref().map_or(Ok(()), |(f, _)| f.validate())
            }
            K::EmailId(a) | K::ThreadId(a) => check(
                a.as_bytes().len() <= 255
                    && a.as_bytes()
                        .iter()
                        .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-'),
                "objectid",
                "not 1-255 ALPHA / DIGIT / \"_\" / \"-\"",
            ),
            K::Uid(s) | K::SequenceSet(s) => s.validate(),
            K::Not(k) | K::Fuzzy(k) => k.validate_at(depth + 1),
            K::Or(k) => {
                k.0.validate_at(depth + 1)?;
                k.1.validate_at(depth + 1)
            }
            K::And(v) => {
                check(!v.is_empty(), "search-key list", "must not be empty")?;
                v.iter().try_for_each(|k| k.validate_at(depth + 1))
            }
            _ => Ok(()),
        }
    }

    /// Parses one `search-key`. Each key is one nesting level.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        p.enter()?;
        let r = Self::parse_inner(p);
        p.leave();
        r
    }

    fn parse_inner(p: &mut Parser<'_>) -> PResult<Self> {
        match p.peek() {
            Some(b'(') => {
                p.pos += 1;
                let mut v = Vec::with_capacity(4);
                v.push(SearchKey::parse(p)?);
                loop {
                    p.skip_trailing_sp();
                    if p.eat(b')') {
                        return Ok(SearchKey::And(v));
                    }
                    p.sp()?;
                    v.push(SearchKey::parse(p)?);
                    p.check_items(v.len())?;
                }
            }
            Some(b'0'..=b'9' | b'*' | b'$') => {
                return SequenceSet::parse(p).map(SearchKey::SequenceSet);
            }
            _ => {}
        }
        use SearchKey as K;
        let w = Word::peek(p);
        // the word is consumed for every arm; the default arm puts it back
        let save = p.pos;
        p.pos += w.as_bytes().len();
        Ok(match w.as_bytes() {
            b"BCC" => K::Bcc(astr(p)?),
            b"BEFORE" => K::Before(date(p)?),
            b"BODY" => K::Body(astr(p)?),
            b"CC" => K::Cc(astr(p)?),
            b"FROM" => K::From(astr(p)?),
            b"HEADER" => {
                let name = astr(p)?;
                K::Header(name, astr(p)?)
            }
            b"KEYWORD" => {
                p.sp()?;
                K::Keyword(Atom::parse(p)?)
            }
            b"LARGER" => K::Larger(n64(p)?),
            b"NOT" => K::Not(boxed(p)?),
            b"ON" => K::On(date(p)?),
            b"OR" => {
                let a = spaced(p)?;
                K::Or(Box::new(OrKeys(a, spaced(p)?)))
            }
            b"SENTBEFORE" => K::SentBefore(date(p)?),
            b"SENTON" => K::SentOn(date(p)?),
            b"SENTSINCE" => K::SentSince(date(p)?),
            b"SINCE" => K::Since(date(p)?),
            b"SMALLER" => K::Smaller(n64(p)?),
            b"SUBJECT" => K::Subject(astr(p)?),
            b"TEXT" => K::Text(astr(p)?),
            b"TO" => K::To(astr(p)?),
            b"UID" => {
                p.sp()?;
                K::Uid(SequenceSet::parse(p)?)
            }
            b"UNKEYWORD" => {
                p.sp()?;
                K::Unkeyword(Atom::parse(p)?)
            }
            b"MODSEQ" => {
                p.sp()?;
                let entry = if p.peek() == Some(b'"') {
                    let e = modseq_entry(p)?;
                    p.sp()?;
                    let t = EntryTypeReq::parse(p)?;
                    p.sp()?;
                    Some((e, t))
                } else {
                    None
                };
                let modseq = p.number64()?;
                K::ModSeq { entry, modseq }
            }
            b"OLDER" => K::Older(nz(p)?),
            b"YOUNGER" => K::Younger(nz(p)?),
            b"X-GM-RAW" => K::GmailRaw(astr(p)?),
            b"X-GM-MSGID" => K::GmailMsgId(n64(p)?),
            b"X-GM-THRID" => K::GmailThrId(n64(p)?),
            b"X-GM-LABELS" => K::GmailLabels(astr(p)?),
            b"EMAILID" => {
                p.sp()?;
                K::EmailId(crate::status::objectid(p)?)
            }
            b"THREADID" => {
                p.sp()?;
                K::ThreadId(crate::status::objectid(p)?)
            }
            b"SAVEDBEFORE" => K::SavedBefore(date(p)?),
            b"SAVEDON" => K::SavedOn(date(p)?),
            b"SAVEDSINCE" => K::SavedSince(date(p)?),
            b"FUZZY" => K::Fuzzy(boxed(p)?),
            other => match SearchKey::from_known_name(other) {
                Some(k) => k,
                None => {
                    p.pos = save;
                    return Err(p.fail("search-key"));
                }
            },
        })
    }

    /// Parses `search-key *(SP search-key)` (the keys of a search program), up to the end
    /// of the line or a closing parenthesis.
    pub(crate) fn parse_many(p: &mut Parser<'_>) -> PResult<Vec<Self>> {
        let mut v = Vec::with_capacity(4);
        v.push(SearchKey::parse(p)?);
        loop {
            if crate::parse::end_ahead(p, true) {
                return Ok(v);
            }
            p.sp()?;
            v.push(SearchKey::parse(p)?);
            p.check_items(v.len())?;
        }
    }

    /// Encodes keys separated by SP.
    pub(crate) fn encode_many(keys: &[Self], buf: &mut EncodeBuf) {
        buf.sep(keys, b" ", &mut |b, k| k.encode(b));
    }
}

/// `entry-flag-name` = DQUOTE "/flags/" attr-flag DQUOTE.
fn modseq_entry(p: &mut Parser<'_>) -> PResult<Flag> {
    let start = p.pos;
    let s = p.quoted()?;
    let rest = match s.get(..7) {
        Some(pre) if pre.eq_ignore_ascii_case(b"/flags/") => s.slice(7..),
        _ => return Err(p.fail_at(start, "\"/flags/\" entry name")),
    };
    let opts = p.opts.clone();
    let mut sub = Parser::new(&rest, &opts);
    match Flag::parse(&mut sub) {
        Ok(f) if sub.at_end() => Ok(f),
        _ => Err(p.fail_at(start, "\"/flags/<flag>\" entry name")),
    }
}

fn kw_astr(buf: &mut EncodeBuf, kw: &[u8], s: &IString) {
    buf.raw(kw);
    buf.sp();
    s.encode_astring(buf);
}

fn kw_date(buf: &mut EncodeBuf, kw: &[u8], d: &Date) {
    buf.raw(kw);
    buf.sp();
    d.encode(buf);
}

fn kw_num(buf: &mut EncodeBuf, kw: &[u8], n: u64) {
    buf.raw(kw);
    buf.sp();
    buf.num(n);
}

/// A PARTIAL range (RFC 9394 `partial-range`; RFC 5267 allows only the first form).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartialRange {
    /// `a:b`: the a-th to b-th result, counted from the first.
    First(NonZeroU32, NonZeroU32),
    /// `-a:-b`: counted from the last result.
    Last(NonZeroU32, NonZeroU32),
}

impl PartialRange {
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        fn one(p: &mut Parser<'_>) -> PResult<NonZeroU32> {
            let start = p.pos;
            let v = p.number()?;
            NonZeroU32::new(v).ok_or_else(|| p.fail_at(start, "nz-number"))
        }
        if p.eat(b'-') {
            let a = one(p)?;
            p.expect(b':', ":")?;
            p.expect(b'-', "-")?;
            Ok(PartialRange::Last(a, one(p)?))
        } else {
            let a = one(p)?;
            p.expect(b':', ":")?;
            Ok(PartialRange::First(a, one(p)?))
        }
    }
}

impl Encode for PartialRange {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            PartialRange::First(a, b) => {
                buf.num(a.get());
                buf.byte(b':');
                buf.num(b.get());
            }
            PartialRange::Last(a, b) => {
                buf.byte(b'-');
                buf.num(a.get());
                buf.raw(b":-");
                buf.num(b.get());
            }
        }
    }
}

name_enum! {
    /// A SEARCH/SORT return option (`search-return-opt`: RFC 9051, RFC 4731, RFC 5267, RFC 9394;
    /// `UPDATE (fetch-att ...)` of NOTIFY, RFC 5465 §7).
    #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum SearchReturnOption {
        /// `MIN`
        Min = b"MIN",
        /// `MAX`
        Max = b"MAX",
        /// `ALL`
        All = b"ALL",
        /// `COUNT`
        Count = b"COUNT",
        /// `SAVE` (RFC 5182)
        Save = b"SAVE",
        /// `CONTEXT` (RFC 5267)
        Context = b"CONTEXT",
        /// `UPDATE` (RFC 5267)
        Update = b"UPDATE",
    }
    others {
        /// `UPDATE (fetch-att ...)` (RFC 5465 §7): attributes to return for new results.
        UpdateFetch(FetchItems),
        /// `PARTIAL range` (RFC 5267, RFC 9394)
        Partial(PartialRange),
        /// Another option: `search-modifier-name [SP search-mod-params]`.
        Other {
            /// `tagged-ext-label`.
            name: Atom,
            /// Parameters.
            value: Option<TaggedExtVal>,
        },
    }
    encode(buf) {
        SearchReturnOption::UpdateFetch(f) => {
            buf.raw(b"UPDATE ");
            crate::fetch::encode_fetch_att_list(buf, f);
        }
        SearchReturnOption::Partial(r) => {
            buf.raw(b"PARTIAL ");
            r.encode(buf);
        }
        SearchReturnOption::Other { name, value } => {
            name.encode(buf);
            if let Some(v) = value {
                buf.sp();
                v.encode(buf);
            }
        }
    }
}

impl SearchReturnOption {
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        use SearchReturnOption as O;
        if let Some(o) = Self::parse_known_name(p) {
            if o == O::Update
                && (p.peek() == Some(b'(')
                    || (p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(')))
            {
                p.eat(b' ');
                return Ok(O::UpdateFetch(FetchItems::parse(p)?));
            }
            return Ok(o);
        }
        Ok(if p.keyword(b"PARTIAL") {
            p.sp()?;
            O::Partial(PartialRange::parse(p)?)
        } else {
            let name = tagged_label(p)?;
            let value = TaggedExtVal::parse_opt_param(p)?;
            O::Other { name, value }
        })
    }

    /// Parses `"RETURN" SP "(" [opt *(SP opt)] ")"` (after the leading SP).
    pub(crate) fn parse_return(p: &mut Parser<'_>) -> PResult<Vec<Self>> {
        p.expect_keyword(b"RETURN", "RETURN")?;
        p.sp()?;
        p.expect(b'(', "(")?;
        let mut v = Vec::new();
        if p.eat(b')') {
            return Ok(v);
        }
        loop {
            v.push(Self::parse(p)?);
            p.check_items(v.len())?;
            p.skip_trailing_sp();
            if p.eat(b')') {
                return Ok(v);
            }
            p.sp()?;
        }
    }

    /// Encodes `"RETURN" SP "(" ... ")"`.
    pub(crate) fn encode_return(opts: &[Self], buf: &mut EncodeBuf) {
        buf.raw(b"RETURN ");
        buf.list(opts, |b, o| o.encode(b));
    }
}

name_enum! {
    /// A SORT key (`sort-key`, RFC 5256; DISPLAYFROM/DISPLAYTO RFC 5957).
    #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum SortKey {
        /// `ARRIVAL`
        Arrival = b"ARRIVAL",
        /// `CC`
        Cc = b"CC",
        /// `DATE`
        Date = b"DATE",
        /// `FROM`
        From = b"FROM",
        /// `SIZE`
        Size = b"SIZE",
        /// `SUBJECT`
        Subject = b"SUBJECT",
        /// `TO`
        To = b"TO",
        /// `DISPLAYFROM` (RFC 5957)
        DisplayFrom = b"DISPLAYFROM",
        /// `DISPLAYTO` (RFC 5957)
        DisplayTo = b"DISPLAYTO",
    }
    others {
        /// Another sort key atom.
        Other(Atom),
    }
    name {
        SortKey::Other(a) => a.as_str(),
    }
}

/// One `sort-criterion`: `["REVERSE" SP] sort-key`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortCriterion {
    /// `REVERSE`
    pub reverse: bool,
    /// The key.
    pub key: SortKey,
}

impl SortCriterion {
    /// Fails for [`SortKey::Other`] holding `REVERSE` or a name the decoder reads as a known
    /// key.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if let SortKey::Other(a) = &self.key {
            check(
                !crate::parse::shadows(
                    a.as_bytes(),
                    SortKey::NAMES.iter().copied().chain([&b"REVERSE"[..]]),
                ),
                "sort-key",
                "other key holds REVERSE or a known key name",
            )?;
        }
        Ok(())
    }

    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let reverse = if p.keyword(b"REVERSE") {
            p.sp()?;
            true
        } else {
            false
        };
        if let Some(key) = SortKey::parse_known_name(p) {
            return Ok(SortCriterion { reverse, key });
        }
        let a = Atom::parse(p)?;
        if a.eq_ignore_case(b"REVERSE") {
            return Err(p.fail("sort-key"));
        }
        Ok(SortCriterion {
            reverse,
            key: SortKey::Other(a),
        })
    }

    /// Parses `"(" sort-criterion *(SP sort-criterion) ")"`.
    pub(crate) fn parse_list(p: &mut Parser<'_>) -> PResult<Vec<Self>> {
        p.expect(b'(', "(")?;
        let mut v = vec![Self::parse(p)?];
        loop {
            p.skip_trailing_sp();
            if p.eat(b')') {
                return Ok(v);
            }
            p.sp()?;
            v.push(Self::parse(p)?);
            p.check_items(v.len())?;
        }
    }
}

impl Encode for SortCriterion {
    fn encode(&self, buf: &mut EncodeBuf) {
        if self.reverse {
            buf.raw(b"REVERSE ");
        }
        buf.raw(self.key.as_str().as_bytes());
    }
}

pub use crate::vocab::ThreadAlgorithm;

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies.
    use super::*;
    use crate::core::strategies::istring;
    use crate::datetime::strategies::date;
    use crate::sequence::strategies::{nz_u32, sequence_set};
    use proptest::prelude::*;

    fn n64() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..1000, 0u64..=i64::MAX as u64]
    }

    fn keyword_atom() -> impl Strategy<Value = Atom> {
        "[A-Za-z$][A-Za-z0-9_]{0,8}".prop_map(|s| Atom::try_from(s).unwrap())
    }

    fn objectid() -> impl Strategy<Value = Atom> {
        "[A-Za-z0-9_-]{1,20}".prop_map(|s| Atom::try_from(s).unwrap())
    }

    fn leaf() -> impl Strategy<Value = SearchKey> {
        use SearchKey as K;
        prop_oneof![
            proptest::sample::select(SearchKey::named()),
            istring().prop_map(K::Bcc),
            date().prop_map(K::Before),
            istring().prop_map(K::Body),
            istring().prop_map(K::Cc),
            istring().prop_map(K::From),
            (istring(), istring()).prop_map(|(a, b)| K::Header(a, b)),
            keyword_atom().prop_map(K::Keyword),
            n64().prop_map(K::Larger),
            date().prop_map(K::On),
            date().prop_map(K::SentBefore),
            date().prop_map(K::SentOn),
            date().prop_map(K::SentSince),
            date().prop_map(K::Since),
            n64().prop_map(K::Smaller),
            istring().prop_map(K::Subject),
            istring().prop_map(K::Text),
            istring().prop_map(K::To),
            sequence_set().prop_map(K::Uid),
            keyword_atom().prop_map(K::Unkeyword),
            sequence_set().prop_map(K::SequenceSet),
            (
                proptest::option::of((
                    crate::flag::strategies::flag(),
                    prop_oneof![
                        Just(EntryTypeReq::Private),
                        Just(EntryTypeReq::Shared),
                        Just(EntryTypeReq::All)
                    ]
                )),
                n64()
            )
                .prop_map(|(entry, modseq)| K::ModSeq { entry, modseq }),
            nz_u32().prop_map(K::Older),
            nz_u32().prop_map(K::Younger),
            istring().prop_map(K::GmailRaw),
            n64().prop_map(K::GmailMsgId),
            n64().prop_map(K::GmailThrId),
            istring().prop_map(K::GmailLabels),
            objectid().prop_map(K::EmailId),
            objectid().prop_map(K::ThreadId),
            date().prop_map(K::SavedBefore),
            date().prop_map(K::SavedOn),
            date().prop_map(K::SavedSince),
        ]
    }

    /// Search keys, nested a few levels.
    pub(crate) fn search_key() -> impl Strategy<Value = SearchKey> {
        leaf().prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(|k| SearchKey::Not(Box::new(k))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| SearchKey::or(a, b)),
                inner.clone().prop_map(|k| SearchKey::Fuzzy(Box::new(k))),
                proptest::collection::vec(inner, 1..4).prop_map(SearchKey::And),
            ]
        })
    }

    /// A search program's keys.
    pub(crate) fn search_keys() -> impl Strategy<Value = Vec<SearchKey>> {
        proptest::collection::vec(search_key(), 1..4)
    }

    fn partial() -> impl Strategy<Value = PartialRange> {
        prop_oneof![
            (nz_u32(), nz_u32()).prop_map(|(a, b)| PartialRange::First(a, b)),
            (nz_u32(), nz_u32()).prop_map(|(a, b)| PartialRange::Last(a, b)),
        ]
    }

    /// PARTIAL ranges.
    pub(crate) fn partial_range() -> impl Strategy<Value = PartialRange> {
        partial()
    }

    /// Return options.
    pub(crate) fn search_return_options() -> impl Strategy<Value = Vec<SearchReturnOption>> {
        use SearchReturnOption as O;
        proptest::collection::vec(
            prop_oneof![
                Just(O::Min),
                Just(O::Max),
                Just(O::All),
                Just(O::Count),
                Just(O::Save),
                Just(O::Context),
                Just(O::Update),
                partial().prop_map(O::Partial),
                (
                    crate::ext::strategies::label(),
                    proptest::option::of(crate::ext::strategies::tagged_ext_val())
                )
                    .prop_map(|(name, value)| O::Other { name, value }),
            ],
            0..4,
        )
    }

    /// Sort criteria (non-empty).
    pub(crate) fn sort_criteria() -> impl Strategy<Value = Vec<SortCriterion>> {
        proptest::collection::vec(
            (
                any::<bool>(),
                prop_oneof![
                    proptest::sample::select(SortKey::named()),
                    "X[A-Z]{1,6}".prop_map(|s| SortKey::Other(Atom::try_from(s).unwrap())),
                ],
            )
                .prop_map(|(reverse, key)| SortCriterion { reverse, key }),
            1..4,
        )
    }

    /// Thread algorithms.
    pub(crate) fn thread_algorithm() -> impl Strategy<Value = ThreadAlgorithm> {
        prop_oneof![
            Just(ThreadAlgorithm::OrderedSubject),
            Just(ThreadAlgorithm::References),
            "X[A-Z]{1,6}".prop_map(|s| ThreadAlgorithm::Other(Atom::try_from(s).unwrap())),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sort key name goes name -> value -> name, in any case.
    #[test]
    fn sort_key_names_round_trip() {
        crate::names::check_names(crate::names::Table {
            named: SortKey::named(),
            names: &SortKey::NAMES,
            known_name: SortKey::known_name,
            from_known_name: SortKey::from_known_name,
            parse: &|b: &[u8]| crate::names::parse_whole(b, SortCriterion::parse).map(|c| c.key),
            encode: &|k: &SortKey| {
                crate::encode::Encode::to_bytes_inline_literals(&SortCriterion {
                    reverse: false,
                    key: k.clone(),
                })
                .to_vec()
            },
            wire: |n: &[u8]| n.to_vec(),
        });
    }

    /// Every search return option name goes name -> value -> name, in any case.
    #[test]
    fn return_option_names_round_trip() {
        crate::names::check_names(crate::names::Table {
            named: SearchReturnOption::named(),
            names: &SearchReturnOption::NAMES,
            known_name: SearchReturnOption::known_name,
            from_known_name: SearchReturnOption::from_known_name,
            parse: &|b: &[u8]| crate::names::parse_whole(b, SearchReturnOption::parse),
            encode: &|v: &SearchReturnOption| {
                crate::encode::Encode::to_bytes_inline_literals(v).to_vec()
            },
            wire: |n: &[u8]| n.to_vec(),
        });
    }
    use crate::options::DecodeOptions;
    use bytes::Bytes;
    use proptest::prelude::*;

    fn parse_keys(s: &[u8], o: &DecodeOptions) -> Result<Vec<SearchKey>, crate::DecodeError> {
        let b = Bytes::copy_from_slice(s);
        let mut p = Parser::new(&b, o);
        match SearchKey::parse_many(&mut p) {
            Ok(v) if p.at_end() => Ok(v),
            Ok(_) => Err(crate::DecodeError::new(&b, p.pos, "end")),
            Err(_) => Err(p.error()),
        }
    }

    #[test]
    fn rfc_examples() {
        let o = DecodeOptions::strict();
        let k = parse_keys(b"FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"", &o).unwrap();
        assert_eq!(
            k,
            vec![
                SearchKey::Flagged,
                SearchKey::Since(Date::new(1994, 2, 1).unwrap()),
                SearchKey::Not(Box::new(SearchKey::From(
                    IString::try_from("Smith").unwrap()
                ))),
            ]
        );
        let k = parse_keys(b"OR (TEXT \"x\" UID 1:5) DELETED", &o).unwrap();
        assert!(matches!(&k[0], SearchKey::Or(o) if matches!(o.0, SearchKey::And(_))));
        let k = parse_keys(br#"MODSEQ "/flags/\\draft" all 620162338"#, &o).unwrap();
        assert_eq!(
            k,
            vec![SearchKey::ModSeq {
                entry: Some((Flag::Draft, EntryTypeReq::All)),
                modseq: 620162338
            }]
        );
        let mut b = EncodeBuf::new();
        SearchKey::encode_many(&k, &mut b);
        assert_eq!(b.out, br#"MODSEQ "/flags/\\Draft" all 620162338"#);
        let k = parse_keys(
            b"YOUNGER 3600 X-GM-RAW \"has:attachment\" FUZZY SUBJECT x",
            &o,
        );
        assert_eq!(k.unwrap().len(), 3);
        let k = parse_keys(b"EMAILID M6d99ac3275bb4e SAVEDSINCE 1-Jan-2020", &o).unwrap();
        assert_eq!(k.len(), 2);
    }

    /// Every search key without arguments goes name -> value -> name, in any case.
    #[test]
    fn search_key_names_round_trip() {
        crate::names::check_names(crate::names::Table {
            named: SearchKey::named(),
            names: &SearchKey::NAMES,
            known_name: SearchKey::known_name,
            from_known_name: SearchKey::from_known_name,
            parse: &|b: &[u8]| crate::names::parse_whole(b, SearchKey::parse),
            encode: &|v: &SearchKey| crate::encode::Encode::to_bytes_inline_literals(v).to_vec(),
            wire: |n: &[u8]| n.to_vec(),
        });
    }

    /// Every key without argument parses, in any case, also followed by a `<` (where
    /// `Parser::keyword` stops too), and not as a prefix of a longer word.
    #[test]
    fn simple_keys_parse() {
        let o = DecodeOptions::strict();
        for (kw, k) in SearchKey::NAMES.iter().zip(SearchKey::named()) {
            let lower = kw.to_ascii_lowercase();
            for s in [kw.to_vec(), lower.clone()] {
                assert_eq!(parse_keys(&s, &o).unwrap(), vec![k.clone()], "{s:?}");
                let mut longer = s.clone();
                longer.push(b'X');
                assert!(parse_keys(&longer, &o).is_err(), "{longer:?}");
                let b = Bytes::from([&s[..], b"<"].concat());
                let mut p = Parser::new(&b, &o);
                assert_eq!(SearchKey::parse(&mut p).ok(), Some(k.clone()));
                assert_eq!(p.pos, s.len());
            }
        }
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let o = DecodeOptions::strict();
        let mut s = Vec::new();
        s.extend(std::iter::repeat_n(b'(', 10_000));
        s.extend_from_slice(b"ALL");
        s.extend(std::iter::repeat_n(b')', 10_000));
        let e = parse_keys(&s, &o).unwrap_err();
        assert_eq!(e.expected, "nesting within the depth limit");
        let mut s = b"NOT ".repeat(10_000);
        s.extend_from_slice(b"ALL");
        assert!(parse_keys(&s, &o).is_err());
        let mut s = b"OR ALL ".repeat(10_000);
        s.extend_from_slice(b"ALL");
        assert!(parse_keys(&s, &o).is_err());
        // just within the limit works
        let mut s = b"NOT ".repeat(63);
        s.extend_from_slice(b"ALL");
        assert!(parse_keys(&s, &o).is_ok());
    }

    proptest! {
        #[test]
        fn roundtrip(keys in strategies::search_keys()) {
            let mut b = EncodeBuf::new();
            SearchKey::encode_many(&keys, &mut b);
            let o = DecodeOptions::strict();
            prop_assert_eq!(parse_keys(&b.out, &o).unwrap(), keys);
        }

        /// `Or`'s one box prints as its two boxes did: a tuple variant of two fields, in
        /// both `Debug` forms (`dissect --json` reads the compact one). Each key's operands
        /// print the same way in turn, so this holds for every `Or` inside them too.
        #[test]
        fn or_prints_as_two_fields(a in strategies::search_key(), b in strategies::search_key()) {
            struct TwoFields<'a>(&'a SearchKey, &'a SearchKey);
            impl std::fmt::Debug for TwoFields<'_> {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.debug_tuple("Or").field(self.0).field(self.1).finish()
                }
            }
            let or = SearchKey::or(a.clone(), b.clone());
            let two = TwoFields(&a, &b);
            prop_assert_eq!(format!("{or:?}"), format!("{two:?}"));
            prop_assert_eq!(format!("{or:#?}"), format!("{two:#?}"));
            // and inside a list, where the pretty form is indented once more
            let list = vec![SearchKey::All, or];
            let inner = format!("{two:#?}").replace('\n', "\n    ");
            prop_assert_eq!(format!("{list:#?}"), format!("[\n    All,\n    {inner},\n]"));
        }
    }

    #[test]
    fn or_prints_as_two_fields_examples() {
        let k = SearchKey::or(SearchKey::Seen, SearchKey::Not(Box::new(SearchKey::Draft)));
        assert_eq!(format!("{k:?}"), "Or(Seen, Not(Draft))");
        assert_eq!(
            format!("{k:#?}"),
            "Or(\n    Seen,\n    Not(\n        Draft,\n    ),\n)"
        );
    }
}
