//! Untagged data responses (RFC 9051 §7.2-7.5 `mailbox-data`, `message-data`,
//! `capability-data`, `enable-data`; RFC 3501 LSUB, SEARCH, RECENT; XLIST; NAMESPACE RFC 2342;
//! ESEARCH RFC 4731/7377/9394/5267; SORT/THREAD RFC 5256; CONDSTORE/QRESYNC RFC 7162;
//! ID RFC 2971; QUOTA RFC 9208; ACL RFC 4314; METADATA RFC 5464; LIST-EXTENDED RFC 5258;
//! tagged-ext-val RFC 4466).

use std::fmt;
use std::num::NonZeroU32;

use bytes::Bytes;

use crate::capability::{Capability, QuotaResourceName};
use crate::core::{Atom, IString};
use crate::encode::{Encode, EncodeBuf};
use crate::error::{Rule, ValidationError, ValueKind};
use crate::fetch::MessageDataItem;
use crate::flag::{Flag, MailboxAttributes, parse_attributes_into, parse_flag_list};
use crate::list::SmallList;
use crate::mailbox::Mailbox;
use crate::options::Quirk;
use crate::parse::{PResult, Parser, class};
use crate::response::Response;
pub use crate::search::PartialRange;
use crate::sequence::{SeqNum, UidSet, UidValidity};
use crate::status::StatusItem;

/// Untagged data (`* ...` other than a status response).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Data {
    /// `CAPABILITY ...` (RFC 9051 §7.2.2)
    Capability(Vec<Capability>),
    /// `ENABLED ...` (RFC 5161 / 9051 §7.2.1)
    Enabled(Vec<Capability>),
    /// `FLAGS (...)` (§7.3.5)
    Flags(Vec<Flag>),
    /// `LIST ...` (§7.3.1, RFC 5258)
    List(ListItem),
    /// `LSUB ...` (RFC 3501 §7.2.3)
    Lsub(ListItem),
    /// `XLIST ...` (Gmail)
    XList(ListItem),
    /// `NAMESPACE personal other shared` (RFC 2342, §7.3.2)
    Namespace(NamespaceData),
    /// `STATUS mailbox (...)` (§7.3.3)
    Status {
        /// The mailbox.
        mailbox: Mailbox,
        /// The items.
        items: Vec<StatusItem>,
    },
    /// `ESEARCH ...` (§7.3.4, RFC 4731)
    ESearch(ESearch),
    /// `SEARCH n...` (RFC 3501 §7.2.5) with CONDSTORE's `(MODSEQ n)`.
    Search {
        /// Matching numbers.
        ids: Vec<NonZeroU32>,
        /// Highest mod-sequence of the matches (RFC 7162).
        modseq: Option<u64>,
    },
    /// `SORT n...` (RFC 5256) with CONDSTORE's `(MODSEQ n)`.
    Sort {
        /// Sorted numbers.
        ids: Vec<NonZeroU32>,
        /// Highest mod-sequence (RFC 7162).
        modseq: Option<u64>,
    },
    /// `THREAD (...)...` (RFC 5256)
    Thread(Vec<Thread>),
    /// `n EXISTS`
    Exists(u32),
    /// `n RECENT` (RFC 3501)
    Recent(u32),
    /// `n EXPUNGE`
    Expunge(SeqNum),
    /// `n FETCH (...)`
    Fetch {
        /// The message sequence number.
        seq: SeqNum,
        /// The data items (never empty; up to three inline).
        items: SmallList<MessageDataItem, 3>,
    },
    /// `uid UIDFETCH (...)` (RFC 9586 UIDONLY)
    UidFetch {
        /// The message's UID.
        uid: crate::sequence::Uid,
        /// The data items (never empty; up to three inline).
        items: SmallList<MessageDataItem, 3>,
    },
    /// `JMAPACCESS url` (RFC 9698)
    JmapAccess(IString),
    /// `GENURLAUTH url...` (RFC 4467); never empty.
    GenUrlAuth(Vec<IString>),
    /// `URLFETCH (url data)...` (RFC 4467): each URL with its data (`None` is NIL);
    /// never empty.
    UrlFetch(
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::core::strings_opt_bytes))]
        Vec<(IString, Option<Bytes>)>,
    ),
    /// `VANISHED [(EARLIER)] uids` (RFC 7162)
    Vanished {
        /// `(EARLIER)`: a reply to a FETCH/SELECT, not an expunge notification.
        earlier: bool,
        /// The UIDs.
        uids: UidSet,
    },
    /// `ID (...)` / `ID NIL` (RFC 2971): field/value pairs.
    Id(Option<IdParams>),
    /// `QUOTA root (resource usage limit ...)` (RFC 9208)
    Quota {
        /// Quota root name.
        root: IString,
        /// Resources.
        resources: Vec<QuotaResource>,
    },
    /// `QUOTAROOT mailbox root...` (RFC 9208)
    QuotaRoot {
        /// The mailbox.
        mailbox: Mailbox,
        /// Its quota roots.
        roots: Vec<IString>,
    },
    /// `ACL mailbox (identifier rights)...` (RFC 4314)
    Acl {
        /// The mailbox.
        mailbox: Mailbox,
        /// Identifier / rights pairs.
        entries: Vec<AclEntry>,
    },
    /// `LISTRIGHTS mailbox identifier required optional...` (RFC 4314)
    ListRights {
        /// The mailbox.
        mailbox: Mailbox,
        /// The identifier.
        identifier: IString,
        /// Rights always granted.
        required: IString,
        /// Groups of rights that may be granted.
        optional: Vec<IString>,
    },
    /// `MYRIGHTS mailbox rights` (RFC 4314)
    MyRights {
        /// The mailbox.
        mailbox: Mailbox,
        /// The rights.
        rights: IString,
    },
    /// `METADATA mailbox ...` (RFC 5464)
    Metadata {
        /// The mailbox (empty for server metadata).
        mailbox: Mailbox,
        /// Entries with values, or an unsolicited list of changed entries.
        entries: MetadataEntries,
    },
    /// An untagged response with a keyword this codec does not know.
    Unknown(UnknownData),
}

/// One `ACL` identifier and its rights.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclEntry {
    /// The identifier (user or group).
    pub identifier: IString,
    /// The rights.
    pub rights: IString,
}

/// One quota resource (`quota-resource`, RFC 9208).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaResource {
    /// Resource name.
    pub name: QuotaResourceName,
    /// Current usage (number64).
    pub usage: u64,
    /// Limit (number64).
    pub limit: u64,
}

/// The body of a METADATA response (RFC 5464 §4.4).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataEntries {
    /// `(entry value ...)`: values (`None` is NIL; values with NUL are sent as literal8).
    /// Never empty.
    Values(
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::core::strings_opt_bytes))]
        Vec<(IString, Option<Bytes>)>,
    ),
    /// `entry ...`: unsolicited list of changed entries. Never empty.
    List(Vec<IString>),
}

/// A hierarchy delimiter (`DQUOTE QUOTED-CHAR DQUOTE`): one 7-bit character other than NUL,
/// CR or LF.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Delimiter(u8);

impl Delimiter {
    /// Validates a delimiter.
    pub fn new(c: u8) -> Result<Self, ValidationError> {
        // 7-bit, not NUL, CR or LF
        if c == 0 || c == b'\r' || c == b'\n' || c >= 0x80 {
            return Err(ValidationError::new(
                ValueKind::Delimiter,
                Rule::ForbiddenByte {
                    byte: c,
                    position: 0,
                },
            ));
        }
        Ok(Delimiter(c))
    }

    /// The character.
    pub fn get(self) -> u8 {
        self.0
    }

    #[inline]
    fn parse(p: &mut Parser<'_>) -> PResult<Option<Self>> {
        // The usual `"/" ` or `"." `: a plain character between quotes, then SP (what
        // `quoted` returns for it in both profiles), without slicing the message; inline in
        // the caller, the rest out of line.
        if let Some(&[b'"', c, b'"', b' ']) = p.rest().get(..4) {
            if crate::parse::class::is_plain_quoted(c) {
                p.pos += 3;
                return Ok(Some(Delimiter(c)));
            }
        }
        Self::parse_general(p)
    }

    /// [`parse`](Self::parse) past its fast path: NIL or any quoted form.
    #[inline(never)]
    fn parse_general(p: &mut Parser<'_>) -> PResult<Option<Self>> {
        // (lenient: `""` or `()` for NIL)
        if p.nil_or_empty_string() || p.empty_list_for_nil() {
            return Ok(None);
        }
        let start = p.pos;
        let q = p.quoted()?;
        match q.as_ref() {
            [c] if *c != 0 && *c < 0x80 => Ok(Some(Delimiter(*c))),
            _ => Err(p.fail_at(start, "one-character delimiter")),
        }
    }

    fn encode_opt(d: Option<Self>, buf: &mut EncodeBuf) {
        match d {
            None => buf.raw(b"NIL"),
            Some(Delimiter(c)) => {
                buf.byte(b'"');
                if c == b'"' || c == b'\\' {
                    buf.byte(b'\\');
                }
                buf.byte(c);
                buf.byte(b'"');
            }
        }
    }
}

impl fmt::Debug for Delimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Delimiter({:?})", self.0 as char)
    }
}

/// The body of a LIST / LSUB / XLIST response (`mailbox-list`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    /// Mailbox attributes, in wire order (the known ones one byte each, no allocation for
    /// up to seven).
    pub attributes: MailboxAttributes,
    /// Hierarchy delimiter, `None` for NIL (flat).
    pub delimiter: Option<Delimiter>,
    /// The mailbox.
    pub mailbox: Mailbox,
    /// LIST-EXTENDED items (`mbox-list-extended`); empty when absent.
    pub extended: Vec<ListExtendedItem>,
}

/// An `mbox-list-extended-item` (RFC 5258 §9, RFC 9051).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListExtendedItem {
    /// `CHILDINFO ("SUBSCRIBED" ...)` (RFC 5258 §4); never empty.
    ChildInfo(Vec<IString>),
    /// `OLDNAME (mailbox)` (RFC 9051 §6.3.9).
    OldName(Mailbox),
    /// Any other item (the tag is never CHILDINFO or OLDNAME).
    Other {
        /// The item tag.
        tag: IString,
        /// Its value.
        value: TaggedExtVal,
    },
}

pub use crate::ext::{IdParams, TaggedExtComp, TaggedExtVal};

/// One namespace (`namespace-descr`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// The prefix.
    pub prefix: IString,
    /// The hierarchy delimiter, `None` for NIL.
    pub delimiter: Option<Delimiter>,
    /// Namespace response extensions.
    pub extensions: Vec<NamespaceExtension>,
}

/// A `namespace-response-extension`: a name and a non-empty list of values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceExtension {
    name: IString,
    values: Vec<IString>,
}

impl NamespaceExtension {
    /// Validates (at least one value).
    pub fn new(name: IString, values: Vec<IString>) -> Result<Self, ValidationError> {
        if values.is_empty() {
            return Err(ValidationError::new(
                ValueKind::Grammar("namespace-response-extension"),
                Rule::Empty,
            ));
        }
        Ok(NamespaceExtension { name, values })
    }
    /// The name.
    pub fn name(&self) -> &IString {
        &self.name
    }
    /// The values (never empty).
    pub fn values(&self) -> &[IString] {
        &self.values
    }
}

/// The three namespace lists of a NAMESPACE response; an empty list is NIL.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NamespaceData {
    /// Personal namespaces.
    pub personal: Vec<Namespace>,
    /// Other users' namespaces.
    pub other: Vec<Namespace>,
    /// Shared namespaces.
    pub shared: Vec<Namespace>,
}

/// An ESEARCH response (`esearch-response`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ESearch {
    /// `(TAG ...)` correlator.
    pub correlator: Option<SearchCorrelator>,
    /// `UID`: the numbers are UIDs.
    pub uid: bool,
    /// Return data.
    pub data: Vec<SearchReturnData>,
}

/// `search-correlator` (RFC 4731; MULTISEARCH RFC 7377 adds mailbox and UIDVALIDITY).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchCorrelator {
    /// The command tag (`tag-string`).
    pub tag: IString,
    /// `MAILBOX m UIDVALIDITY n` (RFC 7377).
    pub mailbox: Option<(Mailbox, UidValidity)>,
}

/// One `search-return-data` item.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchReturnData {
    /// `MIN n`
    Min(NonZeroU32),
    /// `MAX n`
    Max(NonZeroU32),
    /// `ALL set`
    All(UidSet),
    /// `COUNT n`
    Count(u32),
    /// `MODSEQ n` (RFC 7162)
    ModSeq(u64),
    /// `PARTIAL (range set/NIL)` (RFC 9394 / 5267)
    Partial {
        /// The requested range.
        range: PartialRange,
        /// The results, `None` for NIL.
        results: Option<UidSet>,
    },
    /// `ADDTO (position set ...)` (RFC 5267); never empty.
    AddTo(Vec<(u32, UidSet)>),
    /// `REMOVEFROM (position set ...)` (RFC 5267); never empty.
    RemoveFrom(Vec<(u32, UidSet)>),
    /// Any other item (`search-ret-data-ext`); the name is never one of the above.
    Other {
        /// Item name.
        name: Atom,
        /// Its value.
        value: TaggedExtVal,
    },
}

/// One thread (`thread-list`, RFC 5256): a chain of messages followed by either nothing or
/// at least two sub-threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    messages: Vec<NonZeroU32>,
    children: Vec<Thread>,
}

impl Thread {
    /// Validates: `children` is empty or has two or more threads; with no messages there
    /// must be two or more children.
    pub fn new(messages: Vec<NonZeroU32>, children: Vec<Thread>) -> Result<Self, ValidationError> {
        if children.len() == 1 || (messages.is_empty() && children.len() < 2) {
            return Err(ValidationError::grammar(
                "thread-list",
                "a thread needs messages and 0 or 2+ sub-threads, or 2+ sub-threads",
            ));
        }
        Ok(Thread { messages, children })
    }
    /// The chain of messages (parent first).
    pub fn messages(&self) -> &[NonZeroU32] {
        &self.messages
    }
    /// The sub-threads answering the last message.
    pub fn children(&self) -> &[Thread] {
        &self.children
    }

    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        p.enter()?;
        let start = p.pos;
        p.expect(b'(', "(")?;
        let mut messages = Vec::new();
        let mut children = Vec::new();
        loop {
            match p.peek() {
                Some(b'(') => {
                    children.push(Thread::parse(p)?);
                    p.check_items(children.len())?;
                }
                Some(b')') => break,
                Some(b'0'..=b'9') if children.is_empty() => {
                    messages.push(nz(p)?);
                    p.check_items(messages.len())?;
                    if p.peek() == Some(b' ') {
                        p.sp()?;
                        if p.peek() == Some(b')') {
                            // lenient: SP before `)`
                            let at = p.pos - 1;
                            if !p.tolerate(Quirk::ExtraSpaces, at) {
                                return Err(p.fail("thread member"));
                            }
                        }
                    }
                }
                Some(b' ') if super::sp_then(p, b')') && p.allows(Quirk::ExtraSpaces) => {
                    let at = p.pos;
                    p.warn(Quirk::ExtraSpaces, at);
                    while p.eat(b' ') {}
                }
                _ => return Err(p.fail("thread member, ( or )")),
            }
        }
        p.pos += 1;
        p.leave();
        if children.len() == 1 || (messages.is_empty() && children.len() < 2) {
            return Err(p.fail_at(start, "thread-list with 0 or 2+ nested threads"));
        }
        Ok(Thread { messages, children })
    }
}

impl Encode for Thread {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.byte(b'(');
        for (i, m) in self.messages.iter().enumerate() {
            if i > 0 {
                buf.sp();
            }
            buf.num(m.get());
        }
        if !self.children.is_empty() && !self.messages.is_empty() {
            buf.sp();
        }
        for c in &self.children {
            c.encode(buf);
        }
        buf.byte(b')');
    }
}

/// An untagged response with an unknown keyword: `* [number SP] name [SP raw]`, with the
/// rest of the message kept raw (literals included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownData {
    number: Option<u32>,
    name: Atom,
    raw: Bytes,
}

/// Untagged keywords this module parses (never an [`UnknownData`] name).
const KEYWORDS: &[&[u8]] = &[
    b"OK",
    b"NO",
    b"BAD",
    b"BYE",
    b"PREAUTH",
    b"CAPABILITY",
    b"ENABLED",
    b"FLAGS",
    b"LIST",
    b"LSUB",
    b"XLIST",
    b"NAMESPACE",
    b"STATUS",
    b"ESEARCH",
    b"SEARCH",
    b"SORT",
    b"THREAD",
    b"VANISHED",
    b"ID",
    b"QUOTA",
    b"QUOTAROOT",
    b"ACL",
    b"LISTRIGHTS",
    b"MYRIGHTS",
    b"METADATA",
    b"JMAPACCESS",
    b"GENURLAUTH",
    b"URLFETCH",
];
const NUMBERED: &[&[u8]] = &[b"EXISTS", b"RECENT", b"EXPUNGE", b"FETCH", b"UIDFETCH"];

impl UnknownData {
    /// Validates: `name` is not a keyword this codec parses (EXISTS, RECENT, EXPUNGE, FETCH
    /// and UIDFETCH are excluded with or without a number), and `raw` has no NUL and no CR/LF other than
    /// inside a well-formed literal (`{n}` CRLF n bytes).
    pub fn new(number: Option<u32>, name: Atom, raw: Bytes) -> Result<Self, ValidationError> {
        if NUMBERED.iter().any(|k| name.eq_ignore_case(k))
            || (number.is_none() && KEYWORDS.iter().any(|k| name.eq_ignore_case(k)))
        {
            return Err(ValidationError::new(ValueKind::Response, Rule::KnownName));
        }
        if !valid_raw(&raw) {
            return Err(ValidationError::new(
                ValueKind::Response,
                Rule::Constraint("raw part contains NUL, CR or LF outside a literal"),
            ));
        }
        Ok(UnknownData { number, name, raw })
    }
    /// The number before the keyword (`* 86 NOOP`).
    pub fn number(&self) -> Option<u32> {
        self.number
    }
    /// The keyword.
    pub fn name(&self) -> &Atom {
        &self.name
    }
    /// Everything after `keyword SP` up to the final CRLF.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }
}

fn valid_raw(b: &[u8]) -> bool {
    let mut i = 0;
    // start of the current line segment (after the last literal's data)
    let mut seg = 0;
    while i < b.len() {
        match b[i] {
            0 => return false,
            b'\r' | b'\n' => {
                // must end a literal announcement `{n}` / `{n+}` / `~{n}`
                if b[i] != b'\r' || b.get(i + 1) != Some(&b'\n') || i == 0 || b[i - 1] != b'}' {
                    return false;
                }
                // the announcement is in the text after the previous literal's data (a `{`
                // inside that data announces nothing: the framer does not look there)
                let open = match b[seg..i].iter().rposition(|&c| c == b'{') {
                    Some(o) => seg + o,
                    None => return false,
                };
                let digits = &b[open + 1..i - 1];
                let digits = digits.strip_suffix(b"+").unwrap_or(digits);
                if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit)
                {
                    return false;
                }
                let n: usize = digits.iter().fold(0, |a, &c| a * 10 + (c - b'0') as usize);
                i += 2;
                if b.len() - i < n {
                    return false;
                }
                i += n;
                seg = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    // The raw part ends its line: if its last segment ends like a literal announcement
    // (`{n}`, `~{n}`), a receiver's framer would wait for literal data that is not there.
    crate::framer::parse_announcement(&b[seg..]) == Ok(None)
}

// ---------------------------------------------------------------------------------------
// parsing
// ---------------------------------------------------------------------------------------

#[inline]
fn nz(p: &mut Parser<'_>) -> PResult<NonZeroU32> {
    let start = p.pos;
    let v = p.number()?;
    match NonZeroU32::new(v) {
        Some(v) => Ok(v),
        // lenient: 0 (or a negative number read as 0) is taken as the nearest valid, 1
        None if p.tolerate(Quirk::BadNumbers, start) => Ok(NonZeroU32::MIN),
        None => Err(p.fail_at(start, "nz-number")),
    }
}

/// Whether another item of a line-level list follows: consumes the SP and returns true, or
/// returns false at the line end (trailing spaces are left for `crlf_end`, which accepts them
/// in the lenient profile only).
#[inline]
pub(crate) fn more(p: &mut Parser<'_>) -> PResult<bool> {
    more_until(p, false)
}

/// Like [`more`] inside parentheses: also stops before `)`.
#[inline]
fn more_in(p: &mut Parser<'_>) -> PResult<bool> {
    more_until(p, true)
}

/// Whether another item follows on the line (without consuming anything).
#[inline]
fn more_peek(p: &Parser<'_>) -> bool {
    let b = p.rest();
    let n = b.iter().take_while(|&&c| c == b' ').count();
    n > 0 && !matches!(b.get(n), None | Some(b'\r') | Some(b'\n'))
}

#[inline]
fn more_until(p: &mut Parser<'_>, paren: bool) -> PResult<bool> {
    if p.peek() != Some(b' ') {
        // lenient: the next item right after a list's `)`, or a `(` right after an item
        // (no SP)
        let prev = p.bytes().get(p.pos.wrapping_sub(1)).copied();
        let glued = match p.peek() {
            Some(b'(') => prev.is_some_and(class::is_atom_char),
            Some(c) => class::is_atom_char(c) && prev == Some(b')'),
            None => false,
        };
        if glued {
            let at = p.pos;
            return Ok(p.tolerate(Quirk::ExtraSpaces, at));
        }
        return Ok(false);
    }
    let end = |c: Option<&u8>| match c {
        None | Some(b'\r') | Some(b'\n') => true,
        Some(b')') => paren,
        _ => false,
    };
    let b = p.bytes();
    match b.get(p.pos + 1) {
        Some(b' ') => {
            let mut q = p.pos;
            while b.get(q) == Some(&b' ') {
                q += 1;
            }
            if end(b.get(q)) {
                return Ok(false);
            }
            p.sp()?;
            Ok(true)
        }
        c if end(c) => Ok(false),
        _ => {
            p.pos += 1;
            Ok(true)
        }
    }
}

fn seq_from(p: &mut Parser<'_>, n: u32, at: usize) -> PResult<SeqNum> {
    match SeqNum::new(n) {
        Ok(s) => Ok(s),
        Err(_) => {
            if p.tolerate(Quirk::BadNumbers, at) {
                Ok(SeqNum::MIN)
            } else {
                Err(p.fail_at(at, "nz-number"))
            }
        }
    }
}

impl Response {
    /// Drops in place what the usual FETCH and LIST responses own (a LIST item's name,
    /// keywords and other attributes not held as codes) and returns whether what is left
    /// owns nothing, so that forgetting it leaks nothing (`codec::clear_response_event`).
    /// `false` says nothing: the value is then dropped as usual. Only for a value about to
    /// be dropped (what is left may be inconsistent). The patterns name every field, so a
    /// field added to these shapes fails to compile here until it is accounted for.
    #[inline]
    pub(crate) fn shed(&mut self) -> bool {
        const {
            assert!(
                !std::mem::needs_drop::<SeqNum>()
                    && !std::mem::needs_drop::<crate::sequence::Uid>()
                    && !std::mem::needs_drop::<u32>()
                    && !std::mem::needs_drop::<Option<Delimiter>>()
            )
        };
        match self {
            Response::Data(Data::Fetch { seq: _, items } | Data::UidFetch { uid: _, items }) => {
                !items.spilled() && items.iter_mut().all(MessageDataItem::shed)
            }
            Response::Data(Data::List(item) | Data::Lsub(item) | Data::XList(item)) => {
                let ListItem {
                    attributes,
                    delimiter: _,
                    mailbox,
                    extended,
                } = item;
                if !mailbox.is_inbox() {
                    // the name's reference count or copy, released here
                    *mailbox = Mailbox::Inbox;
                }
                attributes.shed() && extended.capacity() == 0
            }
            Response::Data(Data::Exists(_) | Data::Recent(_) | Data::Expunge(_)) => true,
            _ => false,
        }
    }
}

/// `*out = new` for the value parsed in place next. `out` is usually
/// [`Response::placeholder`] (`EXISTS`, nothing to drop): that one is overwritten without the
/// call of the response's drop glue; any other value is dropped as by `*out = new`.
#[inline(always)]
fn set_placeholder(out: &mut Response, new: Response) {
    if matches!(out, Response::Data(Data::Exists(_))) {
        // holds no heap data: forgetting it leaks nothing
        std::mem::forget(std::mem::replace(out, new));
    } else {
        *out = new;
    }
}

/// Parses `number SP keyword ...` (after `* `) into `out`. FETCH items are parsed in place,
/// into the response being returned (no move of the inline item list).
#[inline]
pub(crate) fn parse_numbered_into(p: &mut Parser<'_>, out: &mut Response) -> PResult<()> {
    let at = p.pos;
    let n = p.number()?;
    p.sp()?;
    match p.peek() {
        Some(b'F' | b'f') if p.keyword(b"FETCH") => {
            let seq = seq_from(p, n, at)?;
            p.sp()?;
            set_placeholder(
                out,
                Response::Data(Data::Fetch {
                    seq,
                    items: SmallList::new(),
                }),
            );
            if let Response::Data(Data::Fetch { items, .. }) = out {
                MessageDataItem::parse_list_into(p, items)?;
            }
            return Ok(());
        }
        Some(b'E' | b'e') => {
            if p.keyword(b"EXISTS") {
                *out = Response::Data(Data::Exists(n));
                return Ok(());
            }
            if p.keyword(b"EXPUNGE") {
                *out = Response::Data(Data::Expunge(seq_from(p, n, at)?));
                return Ok(());
            }
        }
        Some(b'R' | b'r') if p.keyword(b"RECENT") => {
            *out = Response::Data(Data::Recent(n));
            return Ok(());
        }
        Some(b'U' | b'u') if p.keyword(b"UIDFETCH") => {
            let uid = crate::sequence::Uid::new(n).map_err(|_| p.fail_at(at, "nz-number"))?;
            p.sp()?;
            set_placeholder(
                out,
                Response::Data(Data::UidFetch {
                    uid,
                    items: SmallList::new(),
                }),
            );
            if let Response::Data(Data::UidFetch { items, .. }) = out {
                MessageDataItem::parse_list_into(p, items)?;
            }
            return Ok(());
        }
        _ => {}
    }
    *out = Response::Data(parse_unknown(p, Some(n))?);
    Ok(())
}

fn message_end(p: &Parser<'_>) -> usize {
    let b = p.bytes();
    let end = if b.ends_with(b"\r\n") {
        b.len() - 2
    } else if b.ends_with(b"\n") {
        b.len() - 1
    } else {
        b.len()
    };
    end.max(p.pos)
}

fn parse_unknown(p: &mut Parser<'_>, number: Option<u32>) -> PResult<Data> {
    let start = p.pos;
    let name = Atom::parse(p)?;
    if number.is_none() && NUMBERED.iter().any(|k| name.eq_ignore_case(k)) {
        // `* EXISTS 93`: a known response without its number
        return Err(p.fail_at(start, "number before EXISTS/RECENT/EXPUNGE/FETCH"));
    }
    let raw = if p.eat(b' ') {
        let end = message_end(p);
        let r = p.slice(p.pos, end);
        p.pos = end;
        r
    } else {
        Bytes::new()
    };
    if !valid_raw(&raw) {
        // e.g. a `{n}` whose `{` is the last byte of the previous literal's data: the framer
        // ends the message there, this parser would read on
        return Err(p.fail_at(start, "untagged response (literals in the raw part)"));
    }
    Ok(Data::Unknown(UnknownData { number, name, raw }))
}

/// Like [`parse_keyword`], writing into `out`; LIST, LSUB, XLIST and ESEARCH are parsed in
/// place.
#[inline]
pub(crate) fn parse_keyword_into(
    p: &mut Parser<'_>,
    word: &[u8],
    out: &mut Response,
) -> PResult<()> {
    if word.len() == 7 && word.eq_ignore_ascii_case(b"ESEARCH") {
        p.pos += 7;
        *out = Response::Data(Data::ESearch(ESearch {
            correlator: None,
            uid: false,
            data: Vec::new(),
        }));
        if let Response::Data(Data::ESearch(e)) = out {
            parse_esearch_into(p, e)?;
        }
        return Ok(());
    }
    let kind = match word.len() {
        4 if word.eq_ignore_ascii_case(b"LIST") => 0,
        4 if word.eq_ignore_ascii_case(b"LSUB") => 1,
        5 if word.eq_ignore_ascii_case(b"XLIST") => 2,
        _ => {
            *out = Response::Data(parse_keyword(p, word)?);
            return Ok(());
        }
    };
    p.pos += word.len();
    p.sp()?;
    let item = ListItem::placeholder();
    set_placeholder(
        out,
        Response::Data(match kind {
            0 => Data::List(item),
            1 => Data::Lsub(item),
            _ => Data::XList(item),
        }),
    );
    if let Response::Data(Data::List(item) | Data::Lsub(item) | Data::XList(item)) = out {
        parse_list_item_into(p, item)?;
    }
    Ok(())
}

/// Parses the keyword data responses (after `* `; `word` is the keyword at the cursor).
pub(crate) fn parse_keyword(p: &mut Parser<'_>, word: &[u8]) -> PResult<Data> {
    let eq = |k: &[u8]| word.eq_ignore_ascii_case(k);
    let first = word.first().map(|c| c.to_ascii_uppercase()).unwrap_or(0);
    let d = match (first, word.len()) {
        (b'S', 6) if eq(b"SEARCH") => {
            p.pos += 6;
            let (ids, modseq) = parse_ids_modseq(p)?;
            Data::Search { ids, modseq }
        }
        (b'L', 4) if eq(b"LIST") => {
            p.pos += 4;
            p.sp()?;
            Data::List(parse_list_item(p)?)
        }
        (b'E', 7) if eq(b"ESEARCH") => {
            p.pos += 7;
            Data::ESearch(parse_esearch(p)?)
        }
        (b'C', 10) if eq(b"CAPABILITY") => {
            p.pos += 10;
            let mut v = Vec::new();
            Capability::parse_list(p, &mut v)?;
            Data::Capability(v)
        }
        (b'E', 7) if eq(b"ENABLED") => {
            p.pos += 7;
            let mut v = Vec::new();
            Capability::parse_list(p, &mut v)?;
            Data::Enabled(v)
        }
        (b'F', 5) if eq(b"FLAGS") => {
            p.pos += 5;
            // (lenient: the list absent altogether is the empty list)
            let listed = p.sp_before_list()?;
            let v: Vec<Option<Flag>> = if !listed {
                Vec::new()
            } else {
                parse_flag_list(p, |p| {
                    if p.peek() == Some(b'\\') && p.peek_at(1) == Some(b'*') {
                        let at = p.pos;
                        if p.tolerate(Quirk::OddFlags, at) {
                            p.pos += 2;
                            return Ok(None);
                        }
                    }
                    Flag::parse(p).map(Some)
                })?
            };
            Data::Flags(v.into_iter().flatten().collect())
        }
        (b'L', 4) if eq(b"LSUB") => {
            p.pos += 4;
            p.sp()?;
            Data::Lsub(parse_list_item(p)?)
        }
        (b'X', 5) if eq(b"XLIST") => {
            p.pos += 5;
            p.sp()?;
            Data::XList(parse_list_item(p)?)
        }
        (b'S', 6) if eq(b"STATUS") => {
            p.pos += 6;
            p.sp()?;
            let mailbox = Mailbox::parse(p)?;
            // (lenient: the list absent altogether is the empty list)
            let items = if p.sp_before_list()? {
                StatusItem::parse_list(p)?
            } else {
                Vec::new()
            };
            Data::Status { mailbox, items }
        }
        (b'N', 9) if eq(b"NAMESPACE") => {
            p.pos += 9;
            p.sp()?;
            let personal = parse_ns_list(p)?;
            p.sp()?;
            let other = parse_ns_list(p)?;
            p.sp()?;
            let shared = parse_ns_list(p)?;
            Data::Namespace(NamespaceData {
                personal,
                other,
                shared,
            })
        }
        (b'S', 4) if eq(b"SORT") => {
            p.pos += 4;
            let (ids, modseq) = parse_ids_modseq(p)?;
            Data::Sort { ids, modseq }
        }
        (b'T', 6) if eq(b"THREAD") => {
            p.pos += 6;
            let mut v = Vec::new();
            // (lenient: no SP before the `(`, taken by `sp()`)
            if super::list_follows(p) {
                p.sp()?;
                while p.peek() == Some(b'(') {
                    v.push(Thread::parse(p)?);
                    p.check_items(v.len())?;
                }
            }
            Data::Thread(v)
        }
        (b'V', 8) if eq(b"VANISHED") => {
            p.pos += 8;
            p.sp()?;
            let earlier = if p.eat_open() {
                p.expect_keyword(b"EARLIER", "EARLIER")?;
                p.expect(b')', ")")?;
                p.sp()?;
                true
            } else {
                false
            };
            Data::Vanished {
                earlier,
                uids: UidSet::parse(p)?,
            }
        }
        (b'J', 10) if eq(b"JMAPACCESS") => {
            p.pos += 10;
            p.sp()?;
            Data::JmapAccess(IString::parse_string(p)?)
        }
        (b'G', 10) if eq(b"GENURLAUTH") => {
            p.pos += 10;
            p.sp()?;
            let mut v = vec![IString::parse_astring(p)?];
            while more(p)? {
                v.push(IString::parse_astring(p)?);
                p.check_items(v.len())?;
            }
            Data::GenUrlAuth(v)
        }
        (b'U', 8) if eq(b"URLFETCH") => {
            p.pos += 8;
            let mut v = Vec::new();
            loop {
                p.sp()?;
                let url = IString::parse_astring(p)?;
                p.sp()?;
                let data = if p.peek() == Some(b'~') {
                    Some(p.literal_any(true)?.0)
                } else {
                    p.nstring()?
                };
                v.push((url, data));
                p.check_items(v.len())?;
                if !more_peek(p) {
                    break;
                }
            }
            Data::UrlFetch(v)
        }
        (b'I', 2) if eq(b"ID") => {
            p.pos += 2;
            p.sp()?;
            Data::Id(crate::ext::parse_id_params(p)?)
        }
        (b'Q', 5) if eq(b"QUOTA") => {
            p.pos += 5;
            p.sp()?;
            let root = IString::parse_astring(p)?;
            let mut resources = Vec::new();
            // (lenient: NIL for the empty list, or the list absent altogether)
            let open = p.sp_before_list()? && p.open_list("(")?;
            p.skip_trailing_sp();
            if open && !p.eat(b')') {
                loop {
                    let name = QuotaResourceName::parse(p)?;
                    p.sp()?;
                    let usage = p.number64()?;
                    p.sp()?;
                    let limit = p.number64()?;
                    resources.push(QuotaResource { name, usage, limit });
                    p.check_items(resources.len())?;
                    p.skip_trailing_sp();
                    if p.eat(b')') {
                        break;
                    }
                    p.sp()?;
                }
            }
            Data::Quota { root, resources }
        }
        (b'Q', 9) if eq(b"QUOTAROOT") => {
            p.pos += 9;
            p.sp()?;
            let mailbox = Mailbox::parse(p)?;
            let mut roots = Vec::new();
            while more(p)? {
                roots.push(IString::parse_astring(p)?);
                p.check_items(roots.len())?;
            }
            Data::QuotaRoot { mailbox, roots }
        }
        (b'A', 3) if eq(b"ACL") => {
            p.pos += 3;
            p.sp()?;
            let mailbox = Mailbox::parse(p)?;
            let mut entries = Vec::new();
            while more(p)? {
                let identifier = IString::parse_astring(p)?;
                p.sp()?;
                let rights = IString::parse_astring(p)?;
                entries.push(AclEntry { identifier, rights });
                p.check_items(entries.len())?;
            }
            Data::Acl { mailbox, entries }
        }
        (b'L', 10) if eq(b"LISTRIGHTS") => {
            p.pos += 10;
            p.sp()?;
            let mailbox = Mailbox::parse(p)?;
            p.sp()?;
            let identifier = IString::parse_astring(p)?;
            p.sp()?;
            let required = IString::parse_astring(p)?;
            let mut optional = Vec::new();
            while more(p)? {
                optional.push(IString::parse_astring(p)?);
                p.check_items(optional.len())?;
            }
            Data::ListRights {
                mailbox,
                identifier,
                required,
                optional,
            }
        }
        (b'M', 8) if eq(b"MYRIGHTS") => {
            p.pos += 8;
            p.sp()?;
            let mailbox = Mailbox::parse(p)?;
            p.sp()?;
            Data::MyRights {
                mailbox,
                rights: IString::parse_astring(p)?,
            }
        }
        (b'M', 8) if eq(b"METADATA") => {
            p.pos += 8;
            p.sp()?;
            let mailbox = Mailbox::parse(p)?;
            p.sp()?;
            // `()` is not an entry-values list (it needs one entry): left to the entry list,
            // where the lenient profile reads it as an empty entry name (NilOrEmpty).
            let entries = if p.peek_at(1) != Some(b')') && p.eat_open() {
                let mut v = Vec::new();
                loop {
                    let e = IString::parse_astring(p)?;
                    p.sp()?;
                    let val = if p.peek() == Some(b'~') {
                        Some(p.literal_any(true)?.0)
                    } else {
                        p.nstring()?
                    };
                    v.push((e, val));
                    p.check_items(v.len())?;
                    p.skip_trailing_sp();
                    if p.eat(b')') {
                        break;
                    }
                    p.sp()?;
                }
                MetadataEntries::Values(v)
            } else {
                let mut v = vec![IString::parse_astring(p)?];
                while more(p)? {
                    v.push(IString::parse_astring(p)?);
                    p.check_items(v.len())?;
                }
                MetadataEntries::List(v)
            };
            Data::Metadata { mailbox, entries }
        }
        _ => return parse_unknown(p, None),
    };
    Ok(d)
}

fn parse_ids_modseq(p: &mut Parser<'_>) -> PResult<(Vec<NonZeroU32>, Option<u64>)> {
    // One allocation: at most one number per SP of the line (a SEARCH line can hold
    // hundreds of thousands of numbers; growing the Vec would reallocate ~20 times).
    let hint = memchr::memchr_iter(b' ', p.rest()).count();
    let mut ids = Vec::with_capacity(hint.min(p.opts.max_list_items.saturating_add(1)));
    let mut modseq = None;
    loop {
        ids_fast(p, &mut ids);
        if !more(p)? {
            break;
        }
        if p.eat_open() {
            p.expect_keyword(b"MODSEQ", "MODSEQ")?;
            p.sp()?;
            modseq = Some(p.number64()?);
            p.expect(b')', ")")?;
            break;
        }
        ids.push(nz(p)?);
        p.check_items(ids.len())?;
    }
    Ok((ids, modseq))
}

/// The common run of `SP nz-number` items (one SP, 1-10 digits without a leading zero,
/// within `u32` and the item limit), read in one tight loop. Stops, with the cursor before
/// the SP, at anything else, which the general loop of [`parse_ids_modseq`] then handles
/// (extra spaces, leading zeros, `(MODSEQ ...)`, errors), so the result is the same.
#[inline]
fn ids_fast(p: &mut Parser<'_>, ids: &mut Vec<NonZeroU32>) {
    let limit = p.opts.max_list_items;
    // eight digits at a time while at least 12 bytes are left; the loop below finishes
    p.pos += crate::sequence::sp_nz_run(p.rest(), ids, limit);
    crate::sequence::sp_nz_items(p, ids, limit);
}

fn parse_list_item(p: &mut Parser<'_>) -> PResult<ListItem> {
    let mut item = ListItem::placeholder();
    parse_list_item_into(p, &mut item)?;
    Ok(item)
}

impl ListItem {
    /// An empty item that [`parse_list_item_into`] fills.
    #[inline]
    fn placeholder() -> Self {
        ListItem {
            attributes: MailboxAttributes::new(),
            delimiter: None,
            mailbox: Mailbox::Inbox,
            extended: Vec::new(),
        }
    }
}

/// Parses `mailbox-list` into `item` (a placeholder on entry) in place. Out of line: inlined
/// into the response dispatch, its loops changed the code of every other response's path
/// there (+0.6% on fetch-flags when the attribute lookup grew).
#[inline(never)]
fn parse_list_item_into(p: &mut Parser<'_>, item: &mut ListItem) -> PResult<()> {
    parse_attributes_into(p, &mut item.attributes)?;
    p.sp()?;
    item.delimiter = Delimiter::parse(p)?;
    p.sp()?;
    item.mailbox = Mailbox::parse_inline(p)?;
    // the usual line ends here; extended data out of line
    if p.peek() != Some(b'\r') {
        parse_list_extended(p, &mut item.extended)?;
    }
    Ok(())
}

/// `[SP "(" mbox-list-extended ")"]` after the mailbox name (RFC 5258); lenient: no SP before
/// the `(` (taken by `sp()`).
#[inline(never)]
fn parse_list_extended(p: &mut Parser<'_>, extended: &mut Vec<ListExtendedItem>) -> PResult<()> {
    if super::list_follows(p) {
        p.sp()?;
        p.expect(b'(', "(")?;
        p.skip_trailing_sp();
        if !p.eat(b')') {
            loop {
                extended.push(parse_list_ext_item(p)?);
                p.check_items(extended.len())?;
                p.skip_trailing_sp();
                if p.eat(b')') {
                    break;
                }
                p.sp()?;
            }
        }
    }
    Ok(())
}

fn parse_list_ext_item(p: &mut Parser<'_>) -> PResult<ListExtendedItem> {
    let tag = IString::parse_astring(p)?;
    p.sp()?;
    if tag.as_bytes().eq_ignore_ascii_case(b"CHILDINFO") {
        p.expect(b'(', "(")?;
        let mut v = vec![IString::parse_string(p)?];
        while more_in(p)? {
            v.push(IString::parse_string(p)?);
            p.check_items(v.len())?;
        }
        p.skip_trailing_sp();
        p.expect(b')', ")")?;
        return Ok(ListExtendedItem::ChildInfo(v));
    }
    if tag.as_bytes().eq_ignore_ascii_case(b"OLDNAME") {
        p.expect(b'(', "(")?;
        let m = Mailbox::parse(p)?;
        p.expect(b')', ")")?;
        return Ok(ListExtendedItem::OldName(m));
    }
    Ok(ListExtendedItem::Other {
        tag,
        value: TaggedExtVal::parse_response(p)?,
    })
}

fn parse_ns_list(p: &mut Parser<'_>) -> PResult<Vec<Namespace>> {
    if p.nil_or_empty_string() {
        return Ok(Vec::new());
    }
    p.expect(b'(', "( or NIL")?;
    let mut v = Vec::new();
    if p.peek() == Some(b')') {
        let at = p.pos;
        if p.tolerate(Quirk::NilOrEmpty, at) {
            p.pos += 1;
            return Ok(v);
        }
        return Err(p.fail("namespace-descr"));
    }
    loop {
        p.expect(b'(', "(")?;
        let prefix = IString::parse_string(p)?;
        p.sp()?;
        let delimiter = Delimiter::parse(p)?;
        let mut extensions = Vec::new();
        while more_in(p)? {
            let name = IString::parse_string(p)?;
            p.sp()?;
            p.expect(b'(', "(")?;
            let mut values = vec![IString::parse_string(p)?];
            while more_in(p)? {
                values.push(IString::parse_string(p)?);
                p.check_items(values.len())?;
            }
            p.skip_trailing_sp();
            p.expect(b')', ")")?;
            extensions.push(NamespaceExtension { name, values });
            p.check_items(extensions.len())?;
        }
        p.skip_trailing_sp();
        p.expect(b')', ")")?;
        v.push(Namespace {
            prefix,
            delimiter,
            extensions,
        });
        p.check_items(v.len())?;
        p.skip_trailing_sp();
        if p.eat(b')') {
            return Ok(v);
        }
    }
}

fn parse_esearch(p: &mut Parser<'_>) -> PResult<ESearch> {
    let mut e = ESearch {
        correlator: None,
        uid: false,
        data: Vec::new(),
    };
    parse_esearch_into(p, &mut e)?;
    Ok(e)
}

/// Parses the ESEARCH data into `e` (empty on entry) in place.
#[inline]
fn parse_esearch_into(p: &mut Parser<'_>, e: &mut ESearch) -> PResult<()> {
    let correlator = &mut e.correlator;
    // (lenient: `ESEARCH(TAG ...` without the SP, taken by `sp()`)
    if super::list_follows(p) {
        p.sp()?;
        p.expect(b'(', "(")?;
        p.expect_keyword(b"TAG", "TAG")?;
        p.sp()?;
        // tag-string = astring (RFC 9051); string in RFC 4466. Encoded as a string.
        let tag = IString::parse_astring(p)?;
        let mut mailbox = None;
        if p.peek() == Some(b' ') && !super::sp_then(p, b')') {
            p.sp()?;
            p.expect_keyword(b"MAILBOX", "MAILBOX")?;
            p.sp()?;
            let m = Mailbox::parse(p)?;
            p.sp()?;
            p.expect_keyword(b"UIDVALIDITY", "UIDVALIDITY")?;
            p.sp()?;
            mailbox = Some((m, UidValidity::parse(p)?));
        }
        p.expect(b')', ")")?;
        *correlator = Some(SearchCorrelator { tag, mailbox });
    }
    // lenient: no SP between the correlator's `)` and what follows
    let glued = p.bytes().get(p.pos.wrapping_sub(1)) == Some(&b')')
        && p.peek().is_some_and(class::is_atom_char)
        && {
            let at = p.pos;
            p.tolerate(Quirk::ExtraSpaces, at)
        };
    let mut first = false;
    if glued || p.peek() == Some(b' ') {
        let save = p.pos;
        let wlen = p.warnings.len();
        if !glued {
            p.sp()?;
        }
        if p.keyword(b"UID") {
            e.uid = true;
        } else if glued {
            first = true;
        } else {
            p.pos = save;
            p.warnings.truncate(wlen);
        }
    }
    let data = &mut e.data;
    if first {
        data.push(parse_return_data(p)?);
    }
    while more(p)? {
        data.push(parse_return_data(p)?);
        p.check_items(data.len())?;
    }
    Ok(())
}

fn parse_pos_sets(p: &mut Parser<'_>) -> PResult<Vec<(u32, UidSet)>> {
    p.expect(b'(', "(")?;
    let mut v = Vec::new();
    loop {
        let n = p.number()?;
        p.sp()?;
        v.push((n, UidSet::parse(p)?));
        p.check_items(v.len())?;
        if !more_in(p)? {
            break;
        }
    }
    p.skip_trailing_sp();
    p.expect(b')', ")")?;
    Ok(v)
}

fn parse_return_data(p: &mut Parser<'_>) -> PResult<SearchReturnData> {
    let name = Atom::parse(p)?;
    p.sp()?;
    let n = name.as_bytes();
    let eq = |k: &[u8]| n.eq_ignore_ascii_case(k);
    Ok(if eq(b"ALL") {
        SearchReturnData::All(UidSet::parse(p)?)
    } else if eq(b"COUNT") {
        SearchReturnData::Count(p.number()?)
    } else if eq(b"MIN") {
        SearchReturnData::Min(nz(p)?)
    } else if eq(b"MAX") {
        SearchReturnData::Max(nz(p)?)
    } else if eq(b"MODSEQ") {
        SearchReturnData::ModSeq(p.number64()?)
    } else if eq(b"PARTIAL") {
        p.expect(b'(', "(")?;
        let range = PartialRange::parse(p)?;
        p.sp()?;
        let results = if p.nil() || p.nil_or_empty_string() || p.empty_list_for_nil() {
            None
        } else {
            Some(UidSet::parse(p)?)
        };
        p.expect(b')', ")")?;
        SearchReturnData::Partial { range, results }
    } else if eq(b"ADDTO") {
        SearchReturnData::AddTo(parse_pos_sets(p)?)
    } else if eq(b"REMOVEFROM") {
        SearchReturnData::RemoveFrom(parse_pos_sets(p)?)
    } else {
        SearchReturnData::Other {
            name,
            value: TaggedExtVal::parse_response(p)?,
        }
    })
}

// ---------------------------------------------------------------------------------------
// encoding
// ---------------------------------------------------------------------------------------

/// `nstring / literal8`: NIL, a string, or a literal8 when the data contains NUL.
fn encode_value(v: Option<&[u8]>, buf: &mut EncodeBuf) {
    match v {
        None => buf.raw(b"NIL"),
        Some(d) if memchr::memchr(0, d).is_some() => buf.literal(d, true),
        Some(d) => buf.string(d),
    }
}

fn encode_ids(buf: &mut EncodeBuf, ids: &[NonZeroU32], modseq: Option<u64>) {
    for id in ids {
        buf.sp();
        buf.num(id.get());
    }
    if let Some(m) = modseq {
        buf.raw(b" (MODSEQ ");
        buf.num(m);
        buf.byte(b')');
    }
}

impl Encode for ListItem {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.list(&self.attributes, |b, a| a.encode(b));
        buf.sp();
        Delimiter::encode_opt(self.delimiter, buf);
        buf.sp();
        self.mailbox.encode(buf);
        if !self.extended.is_empty() {
            buf.sp();
            buf.list(&self.extended, |b, it| match it {
                ListExtendedItem::ChildInfo(v) => {
                    b.raw(b"CHILDINFO ");
                    b.list(v, |b, s| s.encode_string(b));
                }
                ListExtendedItem::OldName(m) => {
                    b.raw(b"OLDNAME (");
                    m.encode(b);
                    b.byte(b')');
                }
                ListExtendedItem::Other { tag, value } => {
                    tag.encode_astring(b);
                    b.sp();
                    value.encode(b);
                }
            });
        }
    }
}

fn encode_ns(v: &[Namespace], buf: &mut EncodeBuf) {
    if v.is_empty() {
        buf.raw(b"NIL");
        return;
    }
    buf.byte(b'(');
    for ns in v {
        buf.byte(b'(');
        ns.prefix.encode_string(buf);
        buf.sp();
        Delimiter::encode_opt(ns.delimiter, buf);
        for e in &ns.extensions {
            buf.sp();
            e.name.encode_string(buf);
            buf.sp();
            buf.list(&e.values, |b, s| s.encode_string(b));
        }
        buf.byte(b')');
    }
    buf.byte(b')');
}

fn encode_return_data(d: &SearchReturnData, buf: &mut EncodeBuf) {
    match d {
        SearchReturnData::Min(n) => {
            buf.raw(b"MIN ");
            buf.num(n.get());
        }
        SearchReturnData::Max(n) => {
            buf.raw(b"MAX ");
            buf.num(n.get());
        }
        SearchReturnData::All(s) => {
            buf.raw(b"ALL ");
            s.encode(buf);
        }
        SearchReturnData::Count(n) => {
            buf.raw(b"COUNT ");
            buf.num(*n);
        }
        SearchReturnData::ModSeq(n) => {
            buf.raw(b"MODSEQ ");
            buf.num(*n);
        }
        SearchReturnData::Partial { range, results } => {
            buf.raw(b"PARTIAL (");
            range.encode(buf);
            buf.sp();
            match results {
                Some(s) => s.encode(buf),
                None => buf.raw(b"NIL"),
            }
            buf.byte(b')');
        }
        SearchReturnData::AddTo(v) | SearchReturnData::RemoveFrom(v) => {
            buf.raw(if matches!(d, SearchReturnData::AddTo(_)) {
                b"ADDTO "
            } else {
                b"REMOVEFROM "
            });
            buf.list(v, |b, (n, s)| {
                b.num(*n);
                b.sp();
                s.encode(b);
            });
        }
        SearchReturnData::Other { name, value } => {
            name.encode(buf);
            buf.sp();
            value.encode(buf);
        }
    }
}

impl Encode for Data {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            Data::Capability(v) | Data::Enabled(v) => {
                buf.raw(if matches!(self, Data::Capability(_)) {
                    b"CAPABILITY"
                } else {
                    b"ENABLED"
                });
                for c in v {
                    buf.sp();
                    c.encode(buf);
                }
            }
            Data::Flags(v) => {
                buf.raw(b"FLAGS ");
                buf.list(v, |b, f| f.encode(b));
            }
            Data::List(l) => {
                buf.raw(b"LIST ");
                l.encode(buf);
            }
            Data::Lsub(l) => {
                buf.raw(b"LSUB ");
                l.encode(buf);
            }
            Data::XList(l) => {
                buf.raw(b"XLIST ");
                l.encode(buf);
            }
            Data::Namespace(n) => {
                buf.raw(b"NAMESPACE ");
                encode_ns(&n.personal, buf);
                buf.sp();
                encode_ns(&n.other, buf);
                buf.sp();
                encode_ns(&n.shared, buf);
            }
            Data::Status { mailbox, items } => {
                buf.raw(b"STATUS ");
                mailbox.encode(buf);
                buf.sp();
                buf.list(items, |b, i| i.encode(b));
            }
            Data::ESearch(e) => {
                buf.raw(b"ESEARCH");
                if let Some(c) = &e.correlator {
                    buf.raw(b" (TAG ");
                    c.tag.encode_string(buf);
                    if let Some((m, uv)) = &c.mailbox {
                        buf.raw(b" MAILBOX ");
                        m.encode(buf);
                        buf.raw(b" UIDVALIDITY ");
                        uv.encode(buf);
                    }
                    buf.byte(b')');
                }
                if e.uid {
                    buf.raw(b" UID");
                }
                for d in &e.data {
                    buf.sp();
                    encode_return_data(d, buf);
                }
            }
            Data::Search { ids, modseq } => {
                buf.raw(b"SEARCH");
                encode_ids(buf, ids, *modseq);
            }
            Data::Sort { ids, modseq } => {
                buf.raw(b"SORT");
                encode_ids(buf, ids, *modseq);
            }
            Data::Thread(v) => {
                buf.raw(b"THREAD");
                if !v.is_empty() {
                    buf.sp();
                    for t in v {
                        t.encode(buf);
                    }
                }
            }
            Data::Exists(n) => {
                buf.num(*n);
                buf.raw(b" EXISTS");
            }
            Data::Recent(n) => {
                buf.num(*n);
                buf.raw(b" RECENT");
            }
            Data::Expunge(n) => {
                n.encode(buf);
                buf.raw(b" EXPUNGE");
            }
            Data::Fetch { seq, items } => {
                seq.encode(buf);
                buf.raw(b" FETCH ");
                MessageDataItem::encode_list(items, buf);
            }
            Data::UidFetch { uid, items } => {
                uid.encode(buf);
                buf.raw(b" UIDFETCH ");
                MessageDataItem::encode_list(items, buf);
            }
            Data::JmapAccess(u) => {
                buf.raw(b"JMAPACCESS ");
                u.encode_string(buf);
            }
            Data::GenUrlAuth(v) => {
                buf.raw(b"GENURLAUTH");
                for u in v {
                    buf.sp();
                    u.encode_astring(buf);
                }
            }
            Data::UrlFetch(v) => {
                buf.raw(b"URLFETCH");
                for (u, d) in v {
                    buf.sp();
                    u.encode_astring(buf);
                    buf.sp();
                    encode_value(d.as_deref(), buf);
                }
            }
            Data::Vanished { earlier, uids } => {
                buf.raw(if *earlier {
                    b"VANISHED (EARLIER) "
                } else {
                    b"VANISHED "
                });
                uids.encode(buf);
            }
            Data::Id(v) => {
                buf.raw(b"ID ");
                crate::ext::encode_id_params(buf, v);
            }
            Data::Quota { root, resources } => {
                buf.raw(b"QUOTA ");
                root.encode_astring(buf);
                buf.sp();
                buf.list(resources, |b, r| {
                    r.name.encode(b);
                    b.sp();
                    b.num(r.usage);
                    b.sp();
                    b.num(r.limit);
                });
            }
            Data::QuotaRoot { mailbox, roots } => {
                buf.raw(b"QUOTAROOT ");
                mailbox.encode(buf);
                for r in roots {
                    buf.sp();
                    r.encode_astring(buf);
                }
            }
            Data::Acl { mailbox, entries } => {
                buf.raw(b"ACL ");
                mailbox.encode(buf);
                for e in entries {
                    buf.sp();
                    e.identifier.encode_astring(buf);
                    buf.sp();
                    e.rights.encode_astring(buf);
                }
            }
            Data::ListRights {
                mailbox,
                identifier,
                required,
                optional,
            } => {
                buf.raw(b"LISTRIGHTS ");
                mailbox.encode(buf);
                buf.sp();
                identifier.encode_astring(buf);
                buf.sp();
                required.encode_astring(buf);
                for o in optional {
                    buf.sp();
                    o.encode_astring(buf);
                }
            }
            Data::MyRights { mailbox, rights } => {
                buf.raw(b"MYRIGHTS ");
                mailbox.encode(buf);
                buf.sp();
                rights.encode_astring(buf);
            }
            Data::Metadata { mailbox, entries } => {
                buf.raw(b"METADATA ");
                mailbox.encode(buf);
                buf.sp();
                match entries {
                    MetadataEntries::Values(v) => buf.list(v, |b, (e, val)| {
                        e.encode_astring(b);
                        b.sp();
                        encode_value(val.as_deref(), b);
                    }),
                    MetadataEntries::List(v) => {
                        buf.sep(v, b" ", &mut |b, e| e.encode_astring(b));
                    }
                }
            }
            Data::Unknown(u) => {
                if let Some(n) = u.number {
                    buf.num(n);
                    buf.sp();
                }
                u.name.encode(buf);
                if !u.raw.is_empty() {
                    buf.sp();
                    buf.raw(&u.raw);
                }
            }
        }
    }
}

#[cfg(test)]
mod delimiter_tests {
    use super::*;
    use crate::options::DecodeOptions;

    #[test]
    fn fast_path_matches_quoted() {
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for c in 0..=255u8 {
                for tail in [&b" "[..], b"x", b")", b"\r\n", b"", b"\" "] {
                    let b = Bytes::from([&[b'"', c, b'"'][..], tail].concat());
                    let (mut p1, mut p2) = (Parser::new(&b, &o), Parser::new(&b, &o));
                    let (r1, r2) = (Delimiter::parse(&mut p1), Delimiter::parse_general(&mut p2));
                    assert_eq!(r1, r2, "{b:?}");
                    if r1.is_ok() {
                        assert_eq!(p1.pos, p2.pos, "{b:?}");
                        assert_eq!(p1.warnings, p2.warnings, "{b:?}");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod set_placeholder_tests {
    use super::*;
    use crate::flag::MailboxAttribute;

    /// The LIST item stays small: its attributes are one byte each, not 40-byte values
    /// (what the placeholder write and the drop of every LIST response cost).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn list_item_is_small() {
        assert_eq!(std::mem::size_of::<MailboxAttributes>(), 32);
        // FETCH's FLAGS (the same container with one keyword inline; docs/DESIGN.md and
        // benches/README.md give these sizes)
        assert_eq!(std::mem::size_of::<crate::flag::FetchFlags>(), 56);
        assert!(
            std::mem::size_of::<ListItem>() <= 96,
            "{}",
            std::mem::size_of::<ListItem>()
        );
    }

    /// A FETCH item is 64 bytes, so that a FETCH response with its three inline items is
    /// 208 and the event that carries it 256: what glibc's `memcpy` copies on its cheapest
    /// path (29 instructions up to 256 bytes, 63 from 304), and the event is moved about three
    /// times per message in the codec, more in the client. What keeps each variant within it
    /// (docs/DESIGN.md): the envelope's list ends in its spans' allocation (48 bytes), the
    /// body structure's slots a boxed slice (56), the flags one byte each (56), and the rare
    /// large parts boxed (a body section's `Section`, `Binary`'s part, `Unknown`/`Invalid`).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn fetch_item_and_event_are_small() {
        use crate::codec::{Decoded, StreamEvent};
        use crate::fetch::MessageDataItem;
        use std::mem::size_of;
        assert_eq!(size_of::<crate::envelope::Envelope>(), 48);
        assert_eq!(size_of::<crate::body::BodyStructure>(), 56);
        assert_eq!(size_of::<MessageDataItem>(), 64);
        assert_eq!(size_of::<Data>(), 208);
        assert_eq!(size_of::<Response>(), 208);
        assert!(size_of::<Decoded<Response>>() <= 256);
        assert!(size_of::<Option<StreamEvent<Response>>>() <= 256);
    }

    /// `set_placeholder` leaves exactly the new value, over the placeholder and over any
    /// other response (which it drops as an assignment does).
    #[test]
    fn leaves_the_new_value() {
        let list = |name: &str| {
            Response::Data(Data::List(ListItem {
                attributes: vec![MailboxAttribute::HasNoChildren].into(),
                delimiter: Delimiter::new(b'/').ok(),
                mailbox: Mailbox::try_from(name).unwrap(),
                extended: Vec::new(),
            }))
        };
        for old in [
            Response::placeholder(),
            list("a"),
            Response::Data(Data::Exists(7)),
        ] {
            let mut out = old;
            set_placeholder(&mut out, list("b"));
            assert_eq!(out, list("b"));
            set_placeholder(&mut out, Response::placeholder());
            assert_eq!(out, Response::placeholder());
        }
    }
}
