//! Validation of server-side values built through the public API (`Response::validate`,
//! `Greeting::validate` and the nested types' `validate`): a value that passes encodes to
//! valid protocol that decodes (strictly) to an equal value.
//!
//! What is rejected, by family:
//! * known names in `Other`/`Extension`/`Unknown` variants (they decode as the typed
//!   variant): capabilities, response codes, flags, mailbox attributes, status items, quota
//!   resources, FETCH items, untagged keywords, ESEARCH return data, LIST extended items;
//! * numbers out of range: 63-bit values (`RFC822.SIZE`, `MODSEQ`, `X-GM-MSGID`, quota,
//!   `HIGHESTMODSEQ`, ...) above 2^63-1, zero where the grammar needs a non-zero number;
//! * `BodyPart::Invalid` and multiparts without children (they encode to a stand-in);
//! * empty lists where the grammar needs at least one element and the decoder requires one
//!   (FETCH items, uid sets, sequence sets, CHILDINFO, ...; an empty CAPABILITY list is
//!   accepted by the strict decoder and therefore valid);
//! * raw parts of unknown items that are not one protocol value (checked by asking the
//!   parser, `encode::reparses`), text that starts like a response code.

use crate::body::BodyStructure;
use crate::capability::Capability;
use crate::encode::reparses;
use crate::error::{Rule, ValidationError, ValueKind};
use crate::fetch::MessageDataItem;
use crate::flag::FlagFetch;
use crate::sequence::UidSet;
use crate::status::StatusItem;

use super::code::{self, ResponseCode};
use super::data::{
    Data, ListExtendedItem, ListItem, MetadataEntries, SearchReturnData, TaggedExtVal, Thread,
};
use super::{Continuation, Greeting, Response, ResponseText, StatusResponse};

/// Largest number a 63-bit grammar position (`number64`, `mod-sequence-value`) takes.
const MAX63: u64 = i64::MAX as u64;

fn fail(what: &'static str, reason: &'static str) -> Result<(), ValidationError> {
    Err(ValidationError::grammar(what, reason))
}

/// `what` (a grammar item) is above 2^63-1.
fn num63(n: u64, what: &'static str) -> Result<(), ValidationError> {
    if n > MAX63 {
        return Err(ValidationError::new(
            ValueKind::Grammar(what),
            Rule::OutOfRange,
        ));
    }
    Ok(())
}

/// `what` is an empty list where the grammar needs one element or more.
fn non_empty<T>(v: &[T], what: &'static str) -> Result<(), ValidationError> {
    if v.is_empty() {
        return Err(ValidationError::new(ValueKind::Grammar(what), Rule::Empty));
    }
    Ok(())
}

/// Valid by construction (private contents: non-empty, non-zero).
fn uid_set(_: &UidSet) -> Result<(), ValidationError> {
    Ok(())
}

/// `objectid` (RFC 8474): 1*255 of ALPHA, DIGIT, `_`, `-`.
fn objectid(a: &crate::core::Atom) -> Result<(), ValidationError> {
    crate::fetch::ObjectId::new(bytes::Bytes::copy_from_slice(a.as_bytes())).map(|_| ())
}

fn each<T>(v: &[T], f: impl Fn(&T) -> Result<(), ValidationError>) -> Result<(), ValidationError> {
    v.iter().try_for_each(f)
}

impl Greeting {
    /// Checks every nested value (see [`Response::validate`]); decoding the encoding of a
    /// greeting that passes gives an equal greeting.
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.text.validate()
    }
}

impl ResponseText {
    /// Fails when the text without a code starts like a response code, or the code fails
    /// [`ResponseCode::validate`].
    pub fn validate(&self) -> Result<(), ValidationError> {
        match &self.code {
            Some(c) => c.validate(),
            None => {
                if self.text.as_bytes().first() == Some(&b'[')
                    && code::code_shape(self.text.as_bytes())
                {
                    return fail(
                        "resp-text",
                        "text without a code starts like a response code",
                    );
                }
                Ok(())
            }
        }
    }
}

impl Response {
    /// Checks every nested value the public API lets you build but the protocol cannot
    /// carry (or that would decode as another value): known names in `Other`, `Extension`
    /// and `Unknown` variants, numbers out of range (above 2^63-1, zero where non-zero is
    /// required), [`BodyPart::Invalid`](crate::body::BodyPart::Invalid) and multiparts without children, empty lists
    /// where the grammar needs an element, unknown raw values that are not one protocol
    /// value, text that starts like a response code. Encoding a response that fails is the
    /// caller's bug; responses decoded in the strict profile always pass.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Response::Status(s) => match s {
                StatusResponse::Tagged { text, .. } | StatusResponse::Untagged { text, .. } => {
                    text.validate()
                }
                StatusResponse::PreAuth(t) | StatusResponse::Bye(t) => t.validate(),
            },
            Response::Data(d) => {
                d.validate()?;
                if let Data::Unknown(_) = d {
                    // The raw part must be read back as itself (one protocol value).
                    if !reparses(self, Response::parse_response) {
                        return fail("untagged response", "raw part does not read back as itself");
                    }
                }
                Ok(())
            }
            Response::Continuation(Continuation::Text(t)) => t.get().validate(),
            Response::Continuation(Continuation::Base64(_)) => Ok(()),
        }
    }
}

impl ResponseCode {
    /// Fails for an `Other` code with a known name, invalid nested values (capabilities,
    /// flags, empty sets, 63-bit numbers), or a code that does not read back as itself.
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            ResponseCode::Other { name, .. } if code::is_known_code(name.as_bytes()) => {
                return fail("response code", "name of a known code: use its variant");
            }
            // `[CAPABILITY]` without capabilities decodes (strict profile) and round-trips.
            ResponseCode::Capability(v) => each(v, Capability::validate)?,
            ResponseCode::PermanentFlags(v) => each(v, |f| match f {
                crate::flag::FlagPerm::Flag(f) => f.validate(),
                crate::flag::FlagPerm::Asterisk => Ok(()),
            })?,
            ResponseCode::AppendUid { uids, .. } => uid_set(uids)?,
            ResponseCode::CopyUid {
                source,
                destination,
                ..
            } => {
                uid_set(source)?;
                uid_set(destination)?;
            }
            ResponseCode::NewName { old, new } => {
                old.validate()?;
                new.validate()?;
            }
            ResponseCode::MailboxId(a) => objectid(a)?,
            ResponseCode::HighestModSeq(n) => num63(*n, "HIGHESTMODSEQ")?,
            ResponseCode::Modified(s) => s.validate()?,
            ResponseCode::BadEvent(v) => non_empty(v, "BADEVENT")?,
            ResponseCode::UrlMech(v) => non_empty(v, "URLMECH")?,
            _ => {}
        }
        // Codes carry free text, literals and lists whose shape only the parser knows.
        if !reparses(self, ResponseCode::parse) {
            return fail("response code", "does not read back as itself");
        }
        Ok(())
    }
}

fn thread(t: &Thread) -> Result<(), ValidationError> {
    // The constructor checks the shape; nothing else can be wrong but the depth.
    each(t.children(), thread)
}

fn list_item(l: &ListItem) -> Result<(), ValidationError> {
    l.attributes.iter().try_for_each(|a| a.validate())?;
    l.mailbox.validate()?;
    each(&l.extended, |e| match e {
        ListExtendedItem::ChildInfo(v) => non_empty(v, "CHILDINFO"),
        ListExtendedItem::OldName(m) => m.validate(),
        ListExtendedItem::Other { tag, value } => {
            let t = tag.as_bytes();
            if t.eq_ignore_ascii_case(b"CHILDINFO") || t.eq_ignore_ascii_case(b"OLDNAME") {
                return fail("mbox-list-extended-item", "tag of a typed item");
            }
            tagged_ext_val(value)
        }
    })
}

fn tagged_ext_val(v: &TaggedExtVal) -> Result<(), ValidationError> {
    if let TaggedExtVal::SequenceSet(s) = v {
        s.validate()?;
    }
    if !reparses(v, TaggedExtVal::parse_response) {
        return fail("tagged-ext-val", "does not read back as itself");
    }
    Ok(())
}

fn search_return(d: &SearchReturnData) -> Result<(), ValidationError> {
    match d {
        SearchReturnData::All(s) => uid_set(s),
        SearchReturnData::ModSeq(n) => num63(*n, "MODSEQ"),
        SearchReturnData::Partial {
            results: Some(s), ..
        } => uid_set(s),
        SearchReturnData::AddTo(v) | SearchReturnData::RemoveFrom(v) => {
            non_empty(v, "ADDTO/REMOVEFROM")?;
            each(v, |(_, s)| uid_set(s))
        }
        SearchReturnData::Other { name, value } => {
            const KNOWN: &[&[u8]] = &[
                b"ALL",
                b"COUNT",
                b"MIN",
                b"MAX",
                b"MODSEQ",
                b"PARTIAL",
                b"ADDTO",
                b"REMOVEFROM",
            ];
            if KNOWN.iter().any(|k| name.eq_ignore_case(k)) {
                return fail("search-return-data", "name of a typed item");
            }
            tagged_ext_val(value)
        }
        _ => Ok(()),
    }
}

impl Data {
    /// Checks every nested value (see [`Response::validate`]).
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            // An empty CAPABILITY list decodes (strict profile) and round-trips.
            Data::Capability(v) | Data::Enabled(v) => each(v, Capability::validate),
            Data::Flags(v) => each(v, |f| f.validate()),
            Data::List(l) | Data::Lsub(l) | Data::XList(l) => list_item(l),
            Data::Namespace(_) => Ok(()),
            Data::Status { mailbox, items } => {
                mailbox.validate()?;
                each(items, status_item)
            }
            Data::ESearch(e) => {
                if let Some(c) = &e.correlator {
                    if let Some((m, _)) = &c.mailbox {
                        m.validate()?;
                    }
                }
                // Without the UID indicator, a first item named `UID` would be read as it.
                if let (false, Some(SearchReturnData::Other { name, .. })) = (e.uid, e.data.first())
                {
                    if crate::parse::shadows(name.as_bytes(), [&b"UID"[..]]) {
                        return fail(
                            "esearch-response",
                            "first item named UID reads as the UID indicator",
                        );
                    }
                }
                each(&e.data, search_return)
            }
            Data::Search { modseq, .. } | Data::Sort { modseq, .. } => {
                modseq.map_or(Ok(()), |n| num63(n, "MODSEQ"))
            }
            Data::Thread(v) => each(v, thread),
            Data::Fetch { items, .. } | Data::UidFetch { items, .. } => {
                non_empty(items, "msg-att")?;
                each(items, MessageDataItem::validate)
            }
            Data::GenUrlAuth(v) => non_empty(v, "GENURLAUTH"),
            Data::UrlFetch(v) => non_empty(v, "URLFETCH"),
            Data::Vanished { uids, .. } => uid_set(uids),
            Data::Quota { resources, .. } => each(resources, |r| {
                let n = r.name.clone();
                let again = crate::capability::QuotaResourceName::from_atom(
                    crate::core::Atom::new(bytes::Bytes::copy_from_slice(n.name())).map_err(
                        |e| ValidationError::new(ValueKind::Grammar("quota resource"), e.rule()),
                    )?,
                );
                if again != n {
                    return Err(ValidationError::new(
                        ValueKind::Grammar("quota resource"),
                        Rule::KnownName,
                    ));
                }
                num63(r.usage, "quota usage")?;
                num63(r.limit, "quota limit")
            }),
            Data::QuotaRoot { mailbox, .. }
            | Data::Acl { mailbox, .. }
            | Data::ListRights { mailbox, .. }
            | Data::MyRights { mailbox, .. } => mailbox.validate(),
            Data::Metadata { mailbox, entries } => {
                mailbox.validate()?;
                match entries {
                    MetadataEntries::Values(v) => non_empty(v, "entry-values"),
                    MetadataEntries::List(v) => non_empty(v, "entry-list"),
                }
            }
            _ => Ok(()),
        }
    }
}

fn status_item(i: &StatusItem) -> Result<(), ValidationError> {
    match i {
        StatusItem::Size(n) | StatusItem::DeletedStorage(n) => num63(*n, "status-att-val"),
        StatusItem::HighestModSeq(n) => num63(*n, "HIGHESTMODSEQ"),
        StatusItem::AppendLimit(Some(n)) => num63(*n, "APPENDLIMIT"),
        StatusItem::MailboxId(a) => objectid(a),
        StatusItem::Other(name, n) => {
            crate::status::StatusAttribute::Other(name.clone()).validate()?;
            num63(*n, "status-att-val")
        }
        _ => Ok(()),
    }
}

impl MessageDataItem {
    /// Fails for values the protocol cannot carry: numbers above 2^63-1, `\Recent` as an
    /// extension flag, a system flag's name in [`Flag::Extension`](crate::flag::Flag),
    /// invalid body structures (see [`BodyStructure::validate`]), an `Unknown` item whose
    /// name is a known item or whose raw value is not one protocol value, and an `Invalid`
    /// item (kept raw by the lenient profile).
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            MessageDataItem::Flags(v) => v.iter().try_for_each(|f| match f {
                // The decoder matches `\Recent` as a keyword (also before `<`, `[`, `.`).
                FlagFetch::Flag(crate::flag::Flag::Extension(a))
                    if crate::parse::shadows(a.as_bytes(), [&b"Recent"[..]]) =>
                {
                    fail("flag-fetch", "\\Recent is FlagFetch::Recent")
                }
                FlagFetch::Flag(f) => f.validate(),
                FlagFetch::Recent => Ok(()),
            }),
            MessageDataItem::Rfc822Size(n) => num63(*n, "RFC822.SIZE"),
            MessageDataItem::ModSeq(n) => {
                if *n == 0 {
                    return fail("MODSEQ", "zero (mod-sequence-value is positive)");
                }
                num63(*n, "MODSEQ")
            }
            MessageDataItem::GmailMsgId(n) => num63(*n, "X-GM-MSGID"),
            MessageDataItem::GmailThrId(n) => num63(*n, "X-GM-THRID"),
            MessageDataItem::Body(b) | MessageDataItem::BodyStructure(b) => b.validate(),
            MessageDataItem::Invalid { .. } => fail(
                "msg-att",
                "an item kept raw by the lenient profile (its value does not fit its grammar)",
            ),
            MessageDataItem::Unknown { .. } => {
                if !reparses(self, MessageDataItem::parse) {
                    return fail(
                        "msg-att",
                        "unknown item with a known name or a raw value that is not one value",
                    );
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

impl BodyStructure {
    /// Fails for [`BodyPart::Invalid`](crate::body::BodyPart::Invalid), multiparts without children and empty
    /// `body-extension` lists anywhere in the tree (they encode to a stand-in, which decodes
    /// as another value), and for line counts and extension numbers above 2^63-1.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_body(self.root())
    }
}

fn validate_body(b: crate::body::BodyRef<'_>) -> Result<(), ValidationError> {
    use crate::body::PartKind;
    match b.kind() {
        PartKind::Invalid => return fail("body", "invalid body structure (kept raw)"),
        PartKind::Multi => {
            if b.children().next().is_none() {
                non_empty::<()>(&[], "body-type-mpart")?;
            }
            b.children().try_for_each(validate_body)?;
        }
        PartKind::Text => num63(b.lines().unwrap_or(0), "body-fld-lines")?,
        PartKind::Message(_) => {
            num63(b.lines().unwrap_or(0), "body-fld-lines")?;
            if let Some(body) = b.message_body() {
                validate_body(body)?;
            }
        }
        _ => {}
    }
    // the `body-extension`s after the location
    each(&b.extensions(), body_ext)
}

/// `body-extension`: a list needs an element (an empty one is sent as NIL, which decodes
/// as another value); numbers are `number64`.
fn body_ext(e: &crate::body::BodyExtension) -> Result<(), ValidationError> {
    use crate::body::BodyExtension;
    match e {
        BodyExtension::List(v) => {
            non_empty(v, "body-extension")?;
            each(v, body_ext)
        }
        BodyExtension::Number(n) => num63(*n, "body-extension"),
        BodyExtension::NString(_) => Ok(()),
    }
}
