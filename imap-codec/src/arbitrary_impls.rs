//! `arbitrary::Arbitrary` for the leaf value types (feature `arbitrary`), generating only
//! values the constructors accept, so that fuzzers can check that every value the API lets
//! you build encodes to valid protocol that decodes to the same value.
//!
//! Derived impls (on the types themselves, behind `cfg_attr`) may produce values that the
//! top-level constructors reject (e.g. an empty sequence set): that is intended, validation
//! must catch them. The helpers here supply the fields a derive cannot: `Bytes`, depth-bounded
//! recursion, and types with private fields (through their validating constructors).
//!
//! The server side (`response/*.rs`, `capability.rs`) derives `Arbitrary` the same way;
//! its types with private fields (`ResponseText`, `ContinuationText`, `CodeText`,
//! `Delimiter`, `NamespaceExtension`, `Thread`, `UnknownData`) are built here through their
//! constructors. `Response::validate`/`Greeting::validate` reject the invalid derived values
//! (`tests/arbitrary_roundtrip.rs`, fuzz target `roundtrip_response`). ENABLE's capabilities
//! are built from atoms as `Capability::Other` (`capabilities`), which validation must
//! normalise or reject.

use arbitrary::{Arbitrary, Result, Unstructured};
use bytes::Bytes;

use std::num::NonZeroU32;

use crate::arbitrary_util::{bytes_from, nested, raw_args};
use crate::body::MediaType;
use crate::command::{Command, CommandBody};
use crate::core::{Atom, Charset, IString, Secret, Tag, Text};
use crate::datetime::{Date, DateTime};
use crate::fetch::{FetchAttribute, FetchAttributes, HeaderList, ObjectId, Part};
use crate::mailbox::{ListMailbox, Mailbox};
use crate::response::{
    CodeText, ContinuationText, Delimiter, NamespaceExtension, ResponseCode, ResponseText, Thread,
    UnknownData,
};
use crate::sequence::{SeqNum, Uid, UidRange, UidSet, UidValidity};

/// Protocol words: names of typed variants, keywords and macros. Generated atoms and strings
/// are sometimes one of these (in any case, possibly continued by a character the decoder's
/// keyword matching treats as a boundary), so that `Other`/`Extension` variants holding a
/// known name, and strings that look like keywords, are generated and must be rejected by
/// validation or encoded so that they decode as themselves.
const WORDS: &[&str] = &[
    "INBOX",
    "NIL",
    "NONE",
    "RETURN",
    "CHARSET",
    "IN",
    "UID",
    "DONE",
    "ALL",
    "FAST",
    "FULL",
    "ENVELOPE",
    "FLAGS",
    "INTERNALDATE",
    "RFC822",
    "RFC822.SIZE",
    "RFC822.HEADER",
    "RFC822.TEXT",
    "BODY",
    "BODY.PEEK",
    "BODYSTRUCTURE",
    "BINARY",
    "BINARY.PEEK",
    "BINARY.SIZE",
    "MODSEQ",
    "X-GM-MSGID",
    "X-GM-THRID",
    "X-GM-LABELS",
    "PREVIEW",
    "LAZY",
    "EMAILID",
    "THREADID",
    "SAVEDATE",
    "HEADER",
    "HEADER.FIELDS",
    "HEADER.FIELDS.NOT",
    "TEXT",
    "MIME",
    "MESSAGES",
    "RECENT",
    "UIDNEXT",
    "UIDVALIDITY",
    "UNSEEN",
    "DELETED",
    "SIZE",
    "HIGHESTMODSEQ",
    "APPENDLIMIT",
    "MAILBOXID",
    "DELETED-STORAGE",
    "Answered",
    "Flagged",
    "Deleted",
    "Seen",
    "Draft",
    "Recent",
    "Noinferiors",
    "Noselect",
    "Marked",
    "Unmarked",
    "NonExistent",
    "Subscribed",
    "Remote",
    "HasChildren",
    "HasNoChildren",
    "Archive",
    "Drafts",
    "Junk",
    "Sent",
    "Trash",
    "Important",
    "CONDSTORE",
    "QRESYNC",
    "USE",
    "SUBSCRIBED",
    "REMOTE",
    "RECURSIVEMATCH",
    "SPECIAL-USE",
    "CHILDREN",
    "STATUS",
    "MYRIGHTS",
    "METADATA",
    "CATENATE",
    "UTF8",
    "URL",
    "CHANGEDSINCE",
    "VANISHED",
    "PARTIAL",
    "UNCHANGEDSINCE",
    "MAXSIZE",
    "DEPTH",
    "infinity",
    "STORAGE",
    "MESSAGE",
    "MAILBOX",
    "ANNOTATION-STORAGE",
    "selected",
    "selected-delayed",
    "inboxes",
    "personal",
    "subscribed",
    "subtree",
    "mailboxes",
    "subtree-one",
    "MessageNew",
    "MessageExpunge",
    "FlagChange",
    "AnnotationChange",
    "MailboxName",
    "SubscriptionChange",
    "MailboxMetadataChange",
    "ServerMetadataChange",
    "MIN",
    "MAX",
    "COUNT",
    "SAVE",
    "CONTEXT",
    "UPDATE",
    "ARRIVAL",
    "CC",
    "DATE",
    "FROM",
    "SUBJECT",
    "TO",
    "DISPLAYFROM",
    "DISPLAYTO",
    "REVERSE",
    "ORDEREDSUBJECT",
    "REFERENCES",
    "INTERNAL",
    "SEARCH",
    "FETCH",
    "STORE",
    "COPY",
    "MOVE",
    "SORT",
    "THREAD",
    "LOGIN",
    "SELECT",
    "EXPUNGE",
    "APPEND",
    "priv",
    "shared",
    "NOT",
    "OR",
    "KEYWORD",
    "LARGER",
    "FUZZY",
    "SET",
];

/// Sometimes (1 in 8) a protocol word, with random case and an optional continuation.
fn word(u: &mut Unstructured<'_>) -> Result<Option<Vec<u8>>> {
    if u.ratio(7u8, 8u8).unwrap_or(true) {
        return Ok(None);
    }
    let w = u.choose(WORDS)?;
    let mask: u64 = u.arbitrary()?;
    let mut v: Vec<u8> = w
        .bytes()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    v.extend_from_slice(u.choose(&[
        &b""[..],
        b"",
        b"",
        b".x",
        b"[",
        b"<",
        b"X",
        b".PEEK",
        b"1",
    ])?);
    Ok(Some(v))
}

impl<'a> Arbitrary<'a> for Atom {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if let Some(w) = word(u)? {
            return Ok(Atom::new(Bytes::from(w)).expect("protocol words are atoms"));
        }
        let mut v = bytes_from(u, 16, crate::parse::class::is_atom_char, b'x')?;
        if v.is_empty() {
            v.push(b'a');
        }
        Ok(Atom::new(Bytes::from(v)).expect("valid atom"))
    }
}

impl<'a> Arbitrary<'a> for Tag {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut v = bytes_from(u, 8, crate::parse::class::is_tag_char, b't')?;
        if v.is_empty() {
            v.push(b'A');
        }
        Ok(Tag::new(Bytes::from(v)).expect("valid tag"))
    }
}

impl<'a> Arbitrary<'a> for IString {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if let Some(w) = word(u)? {
            return Ok(IString::new(Bytes::from(w)).expect("protocol words are strings"));
        }
        let v = bytes_from(u, 40, |b| b != 0, b'_')?;
        Ok(IString::new(Bytes::from(v)).expect("valid string"))
    }
}

impl<'a> Arbitrary<'a> for Text {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut v = bytes_from(u, 40, crate::parse::class::is_text_char, b' ')?;
        // Text right after a status keyword must not look like a response code.
        if v.first() == Some(&b'[') {
            v[0] = b'T';
        }
        // nor end like a literal announcement `{n}`
        if v.last() == Some(&b'}') {
            let n = v.len();
            v[n - 1] = b'.';
        }
        Ok(Text::new(Bytes::from(v)).expect("valid text"))
    }
}

impl<'a> Arbitrary<'a> for Charset {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut v = bytes_from(
            u,
            12,
            |b| crate::parse::class::is_text_char(b) && b < 0x80,
            b'8',
        )?;
        if v.is_empty() {
            v.extend_from_slice(b"UTF-8");
        }
        Ok(Charset::new(Bytes::from(v)).expect("valid charset"))
    }
}

impl<'a, T: Arbitrary<'a>> Arbitrary<'a> for Secret<T> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Secret::new(T::arbitrary(u)?))
    }
}

impl<'a> Arbitrary<'a> for Mailbox {
    /// Mostly through [`Mailbox::new`] (which normalises `INBOX`), sometimes the raw
    /// variant, which the API lets you build and validation must check.
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let s = IString::arbitrary(u)?;
        if u.ratio(1u8, 8u8)? {
            return Ok(Mailbox::Other(s));
        }
        Ok(Mailbox::new(s.to_bytes()).expect("valid mailbox"))
    }
}

impl<'a> Arbitrary<'a> for ListMailbox {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let v = bytes_from(u, 20, |b| b != 0, b'%')?;
        Ok(ListMailbox::new(Bytes::from(v)).expect("valid pattern"))
    }
}

macro_rules! nz_arbitrary {
    ($($t:ty),*) => {$(
        impl<'a> Arbitrary<'a> for $t {
            fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
                let v: u32 = u.arbitrary()?;
                Ok(<$t>::new(v.max(1)).expect("non-zero"))
            }
        }
    )*};
}
nz_arbitrary!(SeqNum, Uid, UidValidity);

impl<'a> Arbitrary<'a> for Date {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let y = u.int_in_range(0..=9999)?;
        let m = u.int_in_range(1..=12)?;
        let d = u.int_in_range(1..=28)?;
        Ok(Date::new(y, m, d).expect("valid date"))
    }
}

impl<'a> Arbitrary<'a> for DateTime {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let d = Date::arbitrary(u)?;
        let h = u.int_in_range(0..=23)?;
        let mi = u.int_in_range(0..=59)?;
        let s = u.int_in_range(0..=60)?;
        let z = u.int_in_range(-5999..=5999)?;
        Ok(DateTime::new(d, h, mi, s, z).expect("valid date-time"))
    }
}

// ---------------------------------------------------------------------------------------
// Recursion bound
// ---------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------
// Foreign types
// ---------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------
// Types with private fields: through their validating constructors
// ---------------------------------------------------------------------------------------

impl<'a> Arbitrary<'a> for Part {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let n = u.int_in_range(1..=4)?;
        let v = (0..n)
            .map(|_| {
                let small: bool = u.arbitrary()?;
                let x: u32 = if small {
                    u.int_in_range(1..=12)?
                } else {
                    u.arbitrary()?
                };
                Ok(NonZeroU32::new(x).unwrap_or(NonZeroU32::MIN))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Part::new(&v).expect("non-empty part"))
    }
}

impl<'a> Arbitrary<'a> for UidSet {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let first: UidRange = u.arbitrary()?;
        let mut v = vec![first];
        let more = u.int_in_range(0..=4)?;
        for _ in 0..more {
            v.push(u.arbitrary()?);
        }
        Ok(UidSet::new(v).expect("non-empty uid-set"))
    }
}

impl<'a> Arbitrary<'a> for HeaderList {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut v: Vec<IString> = u.arbitrary()?;
        v.retain(|s| !s.is_empty());
        if v.is_empty() {
            v.push(IString::new(Bytes::from_static(b"Subject")).expect("valid"));
        }
        Ok(HeaderList::new(v).expect("non-empty header names"))
    }
}

impl<'a> Arbitrary<'a> for FetchAttributes {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut v: Vec<FetchAttribute> = u.arbitrary()?;
        if v.is_empty() {
            v.push(FetchAttribute::arbitrary(u)?);
        }
        Ok(FetchAttributes::new(v).expect("non-empty"))
    }
}

impl<'a> Arbitrary<'a> for ObjectId {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut v = bytes_from(
            u,
            24,
            |c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-',
            b'M',
        )?;
        if v.is_empty() {
            v.push(b'0');
        }
        Ok(ObjectId::new(Bytes::from(v)).expect("valid objectid"))
    }
}

impl<'a> Arbitrary<'a> for MediaType {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let t = IString::arbitrary(u)?;
        let s = IString::arbitrary(u)?;
        Ok(MediaType::new(t, s).unwrap_or_else(|_| {
            MediaType::new(
                IString::new(Bytes::from_static(b"APPLICATION")).expect("valid"),
                IString::new(Bytes::from_static(b"OCTET-STREAM")).expect("valid"),
            )
            .expect("valid media type")
        }))
    }
}

impl<'a> Arbitrary<'a> for Command {
    /// Only commands [`Command::new`] accepts (others are `IncorrectFormat`).
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let tag = Tag::arbitrary(u)?;
        let body = CommandBody::arbitrary(u)?;
        Command::new(tag, body).map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

// ---------------------------------------------------------------------------------------
// Server side
// ---------------------------------------------------------------------------------------

impl<'a> Arbitrary<'a> for CodeText {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if let Some(w) = word(u)? {
            if let Ok(t) = CodeText::new(Bytes::from(w)) {
                return Ok(t);
            }
        }
        let mut v = bytes_from(
            u,
            24,
            |c| crate::parse::class::is_text_char(c) && c != b']',
            b'x',
        )?;
        if v.is_empty() {
            v.push(b'x');
        }
        Ok(CodeText::new(Bytes::from(v)).expect("valid code text"))
    }
}

impl<'a> Arbitrary<'a> for Delimiter {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let c: u8 = u.arbitrary()?;
        Ok(Delimiter::new(c).unwrap_or_else(|_| Delimiter::new(b'/').expect("valid")))
    }
}

impl<'a> Arbitrary<'a> for NamespaceExtension {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let name = IString::arbitrary(u)?;
        let mut values: Vec<IString> = u.arbitrary()?;
        if values.is_empty() {
            values.push(IString::arbitrary(u)?);
        }
        Ok(NamespaceExtension::new(name, values).expect("non-empty values"))
    }
}

impl<'a> Arbitrary<'a> for Thread {
    /// Through [`Thread::new`]; shapes it rejects become a one-message thread.
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let leaf = || Thread::new(vec![NonZeroU32::MIN], Vec::new()).expect("valid thread");
        nested(u, leaf, |u| {
            let n = u.int_in_range(0..=4)?;
            let messages = (0..n)
                .map(|_| Ok(NonZeroU32::new(u.arbitrary::<u32>()?).unwrap_or(NonZeroU32::MIN)))
                .collect::<Result<Vec<_>>>()?;
            let children: Vec<Thread> = if u.ratio(1u8, 3u8)? {
                u.arbitrary()?
            } else {
                Vec::new()
            };
            Ok(Thread::new(messages, children).unwrap_or_else(|_| leaf()))
        })
    }
}

impl<'a> Arbitrary<'a> for UnknownData {
    /// Through [`UnknownData::new`]; rejected names become `X-UNKNOWN`.
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let number: Option<u32> = u.arbitrary()?;
        let name = Atom::arbitrary(u)?;
        let raw = raw_args(u)?;
        UnknownData::new(number, name, raw.clone()).or_else(|_| {
            UnknownData::new(number, Atom::from_static("X-UNKNOWN"), raw)
                .map_err(|_| arbitrary::Error::IncorrectFormat)
        })
    }
}

impl<'a> Arbitrary<'a> for ResponseText {
    /// Through [`ResponseText::new`]; text it rejects (looks like a code) loses its `[`.
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let code: Option<ResponseCode> = u.arbitrary()?;
        let mut text = Text::arbitrary(u)?;
        if u.ratio(1u8, 8u8)? {
            // Text that starts like a code (the `Text` generator never does).
            let w = word(u)?.unwrap_or_else(|| b"ALERT".to_vec());
            let mut v = b"[".to_vec();
            v.extend_from_slice(&w);
            v.extend_from_slice(u.choose(&[&b"]"[..], b" x]", b""])?);
            v.extend_from_slice(text.as_bytes());
            text = Text::new(Bytes::from(v)).unwrap_or(text);
        }
        match ResponseText::new(code.clone(), text) {
            Ok(t) => Ok(t),
            Err(_) => Ok(ResponseText::new(code, Text::default()).expect("empty text")),
        }
    }
}

impl<'a> Arbitrary<'a> for ContinuationText {
    /// Through [`ContinuationText::new`].
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(ContinuationText::new(ResponseText::arbitrary(u)?))
    }
}
