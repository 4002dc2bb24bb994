//! Response codes (RFC 9051 §7.1 `resp-text-code`; RFC 3501 UNSEEN; RFC 2060 NEWNAME; UIDPLUS
//! RFC 4315; RFC 5530 codes; CONDSTORE RFC 7162; CATENATE/URLAUTH RFC 4469/4467; SEARCHRES
//! RFC 5182; METADATA RFC 5464; ANNOTATE RFC 5257; OBJECTID RFC 8474; SPECIAL-USE RFC 6154;
//! COMPRESS RFC 4978; referrals RFC 2221/2193; CONTEXT RFC 5267; INPROGRESS RFC 9585;
//! MESSAGELIMIT RFC 9738; UIDONLY RFC 9586; NOTIFY RFC 5465; COMPARATOR RFC 5255).

use std::fmt;
use std::num::NonZeroU32;

use bytes::Bytes;

use crate::capability::Capability;
use crate::core::{Atom, Charset, IString};
use crate::encode::{Encode, EncodeBuf};
use crate::error::{Rule, ValidationError, ValueKind, forbidden_byte};
use crate::flag::{FlagPerm, parse_flag_list};
use crate::mailbox::Mailbox;
use crate::names::name_enum;
use crate::parse::{PResult, Parser, class};
use crate::sequence::{SeqNum, SequenceSet, Uid, UidSet, UidValidity};

/// Free text inside a response code: `1*<any TEXT-CHAR except "]">` (the argument of an
/// unknown code, a BADURL or REFERRAL URL).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CodeText(Bytes);

impl CodeText {
    /// Validates: non-empty, no `]`, CR, LF or NUL.
    pub fn new(b: impl Into<Bytes>) -> Result<Self, ValidationError> {
        let b = b.into();
        if b.is_empty() {
            return Err(ValidationError::new(ValueKind::CodeText, Rule::Empty));
        }
        // ], CR, LF or NUL
        if let Some(rule) = forbidden_byte(&b, is_code_text_char) {
            return Err(ValidationError::new(ValueKind::CodeText, rule));
        }
        Ok(CodeText(b))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let t = p.take_while(is_code_text_char);
        if t.is_empty() {
            return Err(p.fail("text in response code"));
        }
        Ok(CodeText(t))
    }
}

impl fmt::Debug for CodeText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeText({})", crate::error::Excerpt(&self.0))
    }
}

#[inline]
fn is_code_text_char(c: u8) -> bool {
    class::is_text_char(c) && c != b']'
}

/// `METADATA` response code details (RFC 5464 §4.2-4.3).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MetadataCode {
    /// `LONGENTRIES n`: entries longer than requested were omitted.
    LongEntries(u32),
    /// `MAXSIZE n`: the server's maximum entry size.
    MaxSize(u32),
    /// `TOOMANY`
    TooMany,
    /// `NOPRIVATE`
    NoPrivate,
}

/// `ANNOTATE` response code details (RFC 5257).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnnotateCode {
    /// `TOOBIG`
    TooBig,
    /// `TOOMANY`
    TooMany,
}

/// Details of an `INPROGRESS` code (RFC 9585 §4); each `None` is NIL.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InProgress {
    /// The tag of the long-running command.
    pub tag: Option<IString>,
    /// Items processed so far.
    pub progress: Option<u32>,
    /// Items to process in total.
    pub goal: Option<NonZeroU32>,
}

name_enum! {
    /// A response code (`resp-text-code`), the bracketed part before the text.
    #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum ResponseCode {
        /// `ALERT`
        Alert = b"ALERT",
        /// `ALREADYEXISTS`
        AlreadyExists = b"ALREADYEXISTS",
        /// `AUTHENTICATIONFAILED`
        AuthenticationFailed = b"AUTHENTICATIONFAILED",
        /// `AUTHORIZATIONFAILED`
        AuthorizationFailed = b"AUTHORIZATIONFAILED",
        /// `CANNOT`
        Cannot = b"CANNOT",
        /// `CLIENTBUG`
        ClientBug = b"CLIENTBUG",
        /// `CLOSED` (RFC 7162 / 9051)
        Closed = b"CLOSED",
        /// `CONTACTADMIN`
        ContactAdmin = b"CONTACTADMIN",
        /// `CORRUPTION`
        Corruption = b"CORRUPTION",
        /// `EXPIRED`
        Expired = b"EXPIRED",
        /// `EXPUNGEISSUED`
        ExpungeIssued = b"EXPUNGEISSUED",
        /// `HASCHILDREN`
        HasChildren = b"HASCHILDREN",
        /// `INUSE`
        InUse = b"INUSE",
        /// `LIMIT`
        Limit = b"LIMIT",
        /// `NONEXISTENT`
        NonExistent = b"NONEXISTENT",
        /// `NOPERM`
        NoPerm = b"NOPERM",
        /// `OVERQUOTA`
        OverQuota = b"OVERQUOTA",
        /// `PARSE`
        Parse = b"PARSE",
        /// `PRIVACYREQUIRED`
        PrivacyRequired = b"PRIVACYREQUIRED",
        /// `READ-ONLY`
        ReadOnly = b"READ-ONLY",
        /// `READ-WRITE`
        ReadWrite = b"READ-WRITE",
        /// `SERVERBUG`
        ServerBug = b"SERVERBUG",
        /// `TRYCREATE`
        TryCreate = b"TRYCREATE",
        /// `UIDNOTSTICKY`
        UidNotSticky = b"UIDNOTSTICKY",
        /// `UNAVAILABLE`
        Unavailable = b"UNAVAILABLE",
        /// `UNKNOWN-CTE`
        UnknownCte = b"UNKNOWN-CTE",
        /// `NOMODSEQ` (RFC 7162)
        NoModSeq = b"NOMODSEQ",
        /// `BADCOMPARATOR` (RFC 5255)
        BadComparator = b"BADCOMPARATOR",
        /// `TOOBIG` (RFC 4469)
        TooBig = b"TOOBIG",
        /// `NOTSAVED` (RFC 5182)
        NotSaved = b"NOTSAVED",
        /// `USEATTR` (RFC 6154)
        UseAttr = b"USEATTR",
        /// `COMPRESSIONACTIVE` (RFC 4978)
        CompressionActive = b"COMPRESSIONACTIVE",
        /// `UIDREQUIRED` (RFC 9586)
        UidRequired = b"UIDREQUIRED",
        /// `NOTIFICATIONOVERFLOW` (RFC 5465)
        NotificationOverflow = b"NOTIFICATIONOVERFLOW",
    }
    others {
        /// `APPENDUID uidvalidity uid-set` (UIDPLUS / MULTIAPPEND)
        AppendUid {
            /// UIDVALIDITY of the destination.
            uid_validity: UidValidity,
            /// UIDs of the appended messages.
            uids: UidSet,
        },
        /// `BADCHARSET [(charset ...)]`; empty when no list was given.
        BadCharset(Vec<Charset>),
        /// `CAPABILITY ...`
        Capability(Vec<Capability>),
        /// `COPYUID uidvalidity source-uids destination-uids`
        CopyUid {
            /// UIDVALIDITY of the destination.
            uid_validity: UidValidity,
            /// Source UIDs, in the order sent.
            source: UidSet,
            /// Destination UIDs, in the order sent.
            destination: UidSet,
        },
        /// `PERMANENTFLAGS (...)`
        PermanentFlags(Vec<FlagPerm>),
        /// `UIDNEXT n`
        UidNext(Uid),
        /// `UIDVALIDITY n`
        UidValidity(UidValidity),
        /// `UNSEEN n` (IMAP4rev1): first unseen message.
        Unseen(SeqNum),
        /// `NEWNAME old new` (RFC 2060)
        NewName {
            /// The old name.
            old: Mailbox,
            /// The new name.
            new: Mailbox,
        },
        /// `HIGHESTMODSEQ n` (RFC 7162)
        HighestModSeq(u64),
        /// `MODIFIED sequence-set` (RFC 7162)
        Modified(SequenceSet),
        /// `BADURL url` (RFC 4469)
        BadUrl(CodeText),
        /// `METADATA ...` (RFC 5464)
        Metadata(MetadataCode),
        /// `ANNOTATE TOOBIG|TOOMANY` (RFC 5257)
        Annotate(AnnotateCode),
        /// `MAILBOXID (id)` (RFC 8474)
        MailboxId(Atom),
        /// `REFERRAL url` (RFC 2221 / 2193)
        Referral(CodeText),
        /// `NOUPDATE "tag"` (RFC 5267)
        NoUpdate(IString),
        /// `INPROGRESS [(tag progress goal)]` (RFC 9585); `None` when no details were sent.
        InProgress(Option<InProgress>),
        /// `MESSAGELIMIT n` (RFC 9738)
        MessageLimit(NonZeroU32),
        /// `BADEVENT (event ...)` (RFC 5465)
        BadEvent(Vec<Atom>),
        /// `URLMECH INTERNAL *(mech[=base64])` (RFC 4467), the tokens after `URLMECH`.
        UrlMech(Vec<Atom>),
        /// Any other code: `atom [SP text]`. Build with [`ResponseCode::other`]; never holds a
        /// name known above.
        Other {
            /// The code name.
            name: Atom,
            /// Its argument text.
            text: Option<CodeText>,
        },
    }
    encode(buf) {
        ResponseCode::AppendUid { uid_validity, uids } => {
            buf.raw(b"APPENDUID ");
            uid_validity.encode(buf);
            buf.sp();
            uids.encode(buf);
        }
        ResponseCode::CopyUid {
            uid_validity,
            source,
            destination,
        } => {
            buf.raw(b"COPYUID ");
            uid_validity.encode(buf);
            buf.sp();
            source.encode(buf);
            buf.sp();
            destination.encode(buf);
        }
        ResponseCode::BadCharset(v) => {
            buf.raw(b"BADCHARSET");
            if !v.is_empty() {
                buf.sp();
                buf.list(v, |b, c| c.encode(b));
            }
        }
        ResponseCode::Capability(v) => {
            buf.raw(b"CAPABILITY");
            for c in v {
                buf.sp();
                c.encode(buf);
            }
        }
        ResponseCode::PermanentFlags(v) => {
            buf.raw(b"PERMANENTFLAGS ");
            buf.list(v, |b, f| f.encode(b));
        }
        ResponseCode::UidNext(u) => {
            buf.raw(b"UIDNEXT ");
            u.encode(buf);
        }
        ResponseCode::UidValidity(u) => {
            buf.raw(b"UIDVALIDITY ");
            u.encode(buf);
        }
        ResponseCode::Unseen(n) => {
            buf.raw(b"UNSEEN ");
            n.encode(buf);
        }
        ResponseCode::NewName { old, new } => {
            buf.raw(b"NEWNAME ");
            encode_mailbox_in_code(old, buf);
            buf.sp();
            encode_mailbox_in_code(new, buf);
        }
        ResponseCode::HighestModSeq(n) => {
            buf.raw(b"HIGHESTMODSEQ ");
            buf.num(*n);
        }
        ResponseCode::Modified(s) => {
            buf.raw(b"MODIFIED ");
            s.encode(buf);
        }
        ResponseCode::BadUrl(t) => {
            buf.raw(b"BADURL ");
            buf.raw(t.as_bytes());
        }
        ResponseCode::Referral(t) => {
            buf.raw(b"REFERRAL ");
            buf.raw(t.as_bytes());
        }
        ResponseCode::Metadata(m) => {
            buf.raw(b"METADATA ");
            match m {
                MetadataCode::LongEntries(n) => {
                    buf.raw(b"LONGENTRIES ");
                    buf.num(*n);
                }
                MetadataCode::MaxSize(n) => {
                    buf.raw(b"MAXSIZE ");
                    buf.num(*n);
                }
                MetadataCode::TooMany => buf.raw(b"TOOMANY"),
                MetadataCode::NoPrivate => buf.raw(b"NOPRIVATE"),
            }
        }
        ResponseCode::Annotate(a) => buf.raw(match a {
            AnnotateCode::TooBig => b"ANNOTATE TOOBIG",
            AnnotateCode::TooMany => b"ANNOTATE TOOMANY",
        }),
        ResponseCode::MailboxId(id) => {
            buf.raw(b"MAILBOXID (");
            buf.raw(id.as_bytes());
            buf.byte(b')');
        }
        ResponseCode::NoUpdate(t) => {
            buf.raw(b"NOUPDATE ");
            t.encode_string(buf);
        }
        ResponseCode::InProgress(d) => {
            buf.raw(b"INPROGRESS");
            if let Some(d) = d {
                buf.raw(b" (");
                IString::encode_nstring(&d.tag, buf);
                buf.sp();
                match d.progress {
                    Some(n) => buf.num(n),
                    None => buf.raw(b"NIL"),
                }
                buf.sp();
                match d.goal {
                    Some(n) => buf.num(n.get()),
                    None => buf.raw(b"NIL"),
                }
                buf.byte(b')');
            }
        }
        ResponseCode::MessageLimit(n) => {
            buf.raw(b"MESSAGELIMIT ");
            buf.num(n.get());
        }
        ResponseCode::BadEvent(v) => {
            buf.raw(b"BADEVENT ");
            buf.list(v, |b, a| a.encode(b));
        }
        ResponseCode::UrlMech(v) => {
            buf.raw(b"URLMECH");
            for a in v {
                buf.sp();
                a.encode(buf);
            }
        }
        ResponseCode::Other { name, text } => {
            name.encode(buf);
            if let Some(t) = text {
                buf.sp();
                buf.raw(t.as_bytes());
            }
        }
    }
}

/// Names of the codes that take arguments.
const WITH_ARGS: &[&[u8]] = &[
    b"APPENDUID",
    b"BADCHARSET",
    b"CAPABILITY",
    b"COPYUID",
    b"PERMANENTFLAGS",
    b"UIDNEXT",
    b"UIDVALIDITY",
    b"UNSEEN",
    b"NEWNAME",
    b"HIGHESTMODSEQ",
    b"MODIFIED",
    b"BADURL",
    b"METADATA",
    b"ANNOTATE",
    b"MAILBOXID",
    b"REFERRAL",
    b"NOUPDATE",
    b"INPROGRESS",
    b"MESSAGELIMIT",
    b"BADEVENT",
    b"URLMECH",
];

/// Whether `name` is a response code this module types (case-insensitive).
pub(crate) fn is_known_code(name: &[u8]) -> bool {
    ResponseCode::from_known_name(name).is_some()
        || WITH_ARGS.iter().any(|n| name.eq_ignore_ascii_case(n))
}

/// Whether the bytes at the start of `b` (which starts with `[`) have the shape of a response
/// code: `"[" atom ("]" / SP 1*<TEXT-CHAR except "]"> ... "]")`. Text starting with `[` that
/// does not have this shape is plain text (RFC 9051 §7.1: the code alternative fails).
pub(crate) fn code_shape(b: &[u8]) -> bool {
    let mut i = 1;
    while i < b.len() && class::is_atom_char(b[i]) {
        i += 1;
    }
    if i == 1 {
        return false;
    }
    match b.get(i) {
        Some(b']') => true,
        Some(b' ') => {
            i += 1;
            match b.get(i) {
                None | Some(b']') | Some(b'\r') | Some(b'\n') => false,
                // the `]` may follow a literal inside the code (NEWNAME, NOUPDATE)
                _ => memchr::memchr(b']', &b[i..]).is_some(),
            }
        }
        _ => false,
    }
}

impl ResponseCode {
    /// An unknown code; fails if `name` is a code this module types (use its variant).
    pub fn other(name: Atom, text: Option<CodeText>) -> Result<Self, ValidationError> {
        if is_known_code(name.as_bytes()) {
            return Err(ValidationError::new(
                ValueKind::ResponseCode,
                Rule::KnownName,
            ));
        }
        Ok(ResponseCode::Other { name, text })
    }

    /// Parses `resp-text-code` (between the brackets, not including them).
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let name = p.atom()?;
        let n: &[u8] = &name;
        if let Some(c) = Self::from_known_name(n) {
            return Ok(c);
        }
        let up = |k: &[u8]| n.eq_ignore_ascii_case(k);
        let code = if up(b"APPENDUID") {
            p.sp()?;
            let uid_validity = UidValidity::parse(p)?;
            p.sp()?;
            ResponseCode::AppendUid {
                uid_validity,
                uids: UidSet::parse(p)?,
            }
        } else if up(b"COPYUID") {
            p.sp()?;
            let uid_validity = UidValidity::parse(p)?;
            p.sp()?;
            let source = UidSet::parse(p)?;
            p.sp()?;
            ResponseCode::CopyUid {
                uid_validity,
                source,
                destination: UidSet::parse(p)?,
            }
        } else if up(b"UIDNEXT") {
            p.sp()?;
            ResponseCode::UidNext(Uid::parse(p)?)
        } else if up(b"UIDVALIDITY") {
            p.sp()?;
            ResponseCode::UidValidity(UidValidity::parse(p)?)
        } else if up(b"UNSEEN") {
            p.sp()?;
            ResponseCode::Unseen(SeqNum::parse(p)?)
        } else if up(b"PERMANENTFLAGS") {
            p.sp()?;
            ResponseCode::PermanentFlags(parse_flag_list(p, FlagPerm::parse)?)
        } else if up(b"CAPABILITY") {
            let mut v = Vec::new();
            Capability::parse_list(p, &mut v)?;
            ResponseCode::Capability(v)
        } else if up(b"BADCHARSET") {
            let mut v = Vec::new();
            if super::sp_then(p, b'(') {
                p.sp()?;
                p.expect(b'(', "(")?;
                loop {
                    v.push(Charset::parse(p)?);
                    p.check_items(v.len())?;
                    p.skip_trailing_sp();
                    if p.eat(b')') {
                        break;
                    }
                    p.sp()?;
                }
            } else {
                // `BADCHARSET UTF-8` without parentheses (RFC 5182 / 9051 §6.4.4 example)
                while p.peek() == Some(b' ') && !matches!(p.peek_at(1), Some(b']') | None) {
                    p.sp()?;
                    v.push(charset_in_code(p)?);
                    p.check_items(v.len())?;
                }
            }
            ResponseCode::BadCharset(v)
        } else if up(b"NEWNAME") {
            p.sp()?;
            let old = mailbox_in_code(p)?;
            p.sp()?;
            ResponseCode::NewName {
                old,
                new: mailbox_in_code(p)?,
            }
        } else if up(b"HIGHESTMODSEQ") {
            p.sp()?;
            ResponseCode::HighestModSeq(p.number64()?)
        } else if up(b"MODIFIED") {
            p.sp()?;
            ResponseCode::Modified(SequenceSet::parse(p)?)
        } else if up(b"BADURL") {
            // one SP exactly: further spaces belong to the text
            p.expect(b' ', "SP")?;
            ResponseCode::BadUrl(CodeText::parse(p)?)
        } else if up(b"REFERRAL") {
            // one SP exactly: further spaces belong to the text
            p.expect(b' ', "SP")?;
            ResponseCode::Referral(CodeText::parse(p)?)
        } else if up(b"METADATA") {
            p.sp()?;
            ResponseCode::Metadata(if p.keyword(b"LONGENTRIES") {
                p.sp()?;
                MetadataCode::LongEntries(p.number()?)
            } else if p.keyword(b"MAXSIZE") {
                p.sp()?;
                MetadataCode::MaxSize(p.number()?)
            } else if p.keyword(b"TOOMANY") {
                MetadataCode::TooMany
            } else if p.keyword(b"NOPRIVATE") {
                MetadataCode::NoPrivate
            } else {
                return Err(p.fail("LONGENTRIES, MAXSIZE, TOOMANY or NOPRIVATE"));
            })
        } else if up(b"ANNOTATE") {
            p.sp()?;
            ResponseCode::Annotate(if p.keyword(b"TOOBIG") {
                AnnotateCode::TooBig
            } else if p.keyword(b"TOOMANY") {
                AnnotateCode::TooMany
            } else {
                return Err(p.fail("TOOBIG or TOOMANY"));
            })
        } else if up(b"MAILBOXID") {
            p.sp()?;
            p.expect(b'(', "(")?;
            let id = crate::status::objectid(p)?;
            p.expect(b')', ")")?;
            ResponseCode::MailboxId(id)
        } else if up(b"NOUPDATE") {
            p.sp()?;
            ResponseCode::NoUpdate(IString::parse_string(p)?)
        } else if up(b"INPROGRESS") {
            if super::sp_then(p, b'(') {
                p.sp()?;
                p.expect(b'(', "(")?;
                let tag = IString::parse_nstring(p)?;
                p.sp()?;
                let progress = if p.nil_scalar() {
                    None
                } else {
                    Some(p.number()?)
                };
                p.sp()?;
                let goal = if p.nil_scalar() {
                    None
                } else {
                    let at = p.pos;
                    Some(NonZeroU32::new(p.number()?).ok_or_else(|| p.fail_at(at, "nz-number"))?)
                };
                p.expect(b')', ")")?;
                ResponseCode::InProgress(Some(InProgress {
                    tag,
                    progress,
                    goal,
                }))
            } else {
                ResponseCode::InProgress(None)
            }
        } else if up(b"MESSAGELIMIT") {
            p.sp()?;
            let at = p.pos;
            let v = p.number()?;
            ResponseCode::MessageLimit(
                NonZeroU32::new(v).ok_or_else(|| p.fail_at(at, "nz-number"))?,
            )
        } else if up(b"BADEVENT") {
            p.sp()?;
            p.expect(b'(', "(")?;
            let mut v = vec![Atom::parse(p)?];
            while p.peek() == Some(b' ') {
                p.sp()?;
                v.push(Atom::parse(p)?);
                p.check_items(v.len())?;
            }
            p.expect(b')', ")")?;
            ResponseCode::BadEvent(v)
        } else if up(b"URLMECH") {
            let mut v = Vec::new();
            while p.peek() == Some(b' ') && p.peek_at(1) != Some(b']') {
                p.sp()?;
                v.push(Atom::parse(p)?);
                p.check_items(v.len())?;
            }
            if v.is_empty() {
                return Err(p.fail("SP INTERNAL"));
            }
            ResponseCode::UrlMech(v)
        } else {
            let text = if p.eat(b' ') {
                Some(CodeText::parse(p)?)
            } else {
                None
            };
            ResponseCode::Other {
                name: Atom::unchecked(name),
                text,
            }
        };
        Ok(code)
    }
}

/// A charset inside a response code: an atom there ends at `]` (atoms exclude it anyway).
fn charset_in_code(p: &mut Parser<'_>) -> PResult<Charset> {
    Charset::parse(p)
}

/// A mailbox inside a response code: an atom there ends at `]`.
fn mailbox_in_code(p: &mut Parser<'_>) -> PResult<Mailbox> {
    match p.peek() {
        Some(b'"') | Some(b'{') => Mailbox::parse(p),
        _ => {
            let a = p.atom()?;
            Ok(Mailbox::from_istring(IString::unchecked(a)))
        }
    }
}

fn encode_mailbox_in_code(m: &Mailbox, buf: &mut EncodeBuf) {
    match m {
        Mailbox::Other(s) if s.as_bytes().contains(&b']') => s.encode_string(buf),
        m => m.encode(buf),
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies.
    use super::*;
    use crate::core::strategies::{atom, istring};
    use crate::flag::strategies::flag_perm;
    use crate::mailbox::strategies::mailbox;
    use crate::sequence::strategies::{nz_u32, sequence_set, uid_set};
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn code_text() -> impl Strategy<Value = CodeText> {
        "[!-\\\\^-~][ -\\\\^-~]{0,15}".prop_map(|s| CodeText::new(s).unwrap())
    }

    fn charset() -> impl Strategy<Value = Charset> {
        prop_oneof!["[A-Za-z0-9-]{1,10}", "[A-Za-z][ -~]{0,10}"]
            .prop_map(|s| Charset::new(s).unwrap())
    }

    /// Every response code.
    pub(crate) fn response_code() -> impl Strategy<Value = ResponseCode> {
        let simple = ResponseCode::named();
        let uv = || nz_u32().prop_map(|n| UidValidity::new(n.get()).unwrap());
        prop_oneof![
            proptest::sample::select(simple),
            (uv(), uid_set())
                .prop_map(|(uid_validity, uids)| ResponseCode::AppendUid { uid_validity, uids }),
            (uv(), uid_set(), uid_set()).prop_map(|(uid_validity, source, destination)| {
                ResponseCode::CopyUid {
                    uid_validity,
                    source,
                    destination,
                }
            }),
            vec(charset(), 0..3).prop_map(ResponseCode::BadCharset),
            vec(crate::capability::strategies::capability(), 0..4)
                .prop_map(ResponseCode::Capability),
            vec(flag_perm(), 0..4).prop_map(ResponseCode::PermanentFlags),
            nz_u32().prop_map(|n| ResponseCode::UidNext(Uid::new(n.get()).unwrap())),
            uv().prop_map(ResponseCode::UidValidity),
            nz_u32().prop_map(|n| ResponseCode::Unseen(SeqNum::new(n.get()).unwrap())),
            (mailbox(), mailbox()).prop_map(|(old, new)| ResponseCode::NewName { old, new }),
            (0..=i64::MAX as u64).prop_map(ResponseCode::HighestModSeq),
            sequence_set().prop_map(ResponseCode::Modified),
            code_text().prop_map(ResponseCode::BadUrl),
            code_text().prop_map(ResponseCode::Referral),
            prop_oneof![
                any::<u32>().prop_map(MetadataCode::LongEntries),
                any::<u32>().prop_map(MetadataCode::MaxSize),
                Just(MetadataCode::TooMany),
                Just(MetadataCode::NoPrivate),
            ]
            .prop_map(ResponseCode::Metadata),
            prop_oneof![Just(AnnotateCode::TooBig), Just(AnnotateCode::TooMany)]
                .prop_map(ResponseCode::Annotate),
            "[A-Za-z0-9_-]{1,20}".prop_map(|s| ResponseCode::MailboxId(Atom::try_from(s).unwrap())),
            istring().prop_map(ResponseCode::NoUpdate),
            proptest::option::of(
                (
                    proptest::option::of(istring()),
                    proptest::option::of(any::<u32>()),
                    proptest::option::of(nz_u32())
                )
                    .prop_map(|(tag, progress, goal)| InProgress {
                        tag,
                        progress,
                        goal
                    })
            )
            .prop_map(ResponseCode::InProgress),
            nz_u32().prop_map(ResponseCode::MessageLimit),
            vec(atom(), 1..3).prop_map(ResponseCode::BadEvent),
            vec(atom(), 1..3).prop_map(ResponseCode::UrlMech),
            ("X[A-Z]{1,8}", proptest::option::of(code_text())).prop_map(|(n, text)| {
                ResponseCode::other(Atom::try_from(n).unwrap(), text).unwrap()
            }),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every response code without arguments goes name -> value -> name, in any case, and
    /// is a known code (`ResponseCode::other` refuses it).
    #[test]
    fn code_names_round_trip() {
        crate::names::check_names(crate::names::Table {
            named: ResponseCode::named(),
            names: &ResponseCode::NAMES,
            known_name: ResponseCode::known_name,
            from_known_name: ResponseCode::from_known_name,
            parse: &|b: &[u8]| crate::names::parse_whole(b, ResponseCode::parse),
            encode: &|v: &ResponseCode| crate::encode::Encode::to_bytes_inline_literals(v).to_vec(),
            wire: |n: &[u8]| n.to_vec(),
        });
        for n in ResponseCode::NAMES.iter().chain(WITH_ARGS) {
            let a = Atom::new(bytes::Bytes::from_static(n)).unwrap();
            assert!(ResponseCode::other(a, None).is_err());
        }
    }
}
