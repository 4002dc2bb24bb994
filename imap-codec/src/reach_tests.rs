//! The corpus the lenient-profile table is checked on (`tests/defect_injection.rs`,
//! `every_cell_at_every_position`) reaches every response code, untagged response kind and
//! FETCH item the codec has, so that every cell meets each where it applies.
//!
//! The kinds expected are derived from the codec's enums, not written out by hand: each
//! `kinds!` below is a `match` without a wildcard over [`ResponseCode`], [`Data`] and
//! [`MessageDataItem`] (inside the crate their `#[non_exhaustive]` does not apply), and the
//! list of expected kinds is made from the same arms. A new variant fails to compile here
//! until it gets an arm, and then the corpus must reach it (`tests/data/inject-extra.imap`
//! holds our own messages for what the RFC examples and the benchmark sample lack). An arm
//! whose variant cannot occur in valid input says so with `None` and why.

use std::collections::BTreeSet;

use bytes::Bytes;

use crate::codec::Message;
use crate::fetch::MessageDataItem;
use crate::options::DecodeOptions;
use crate::response::{Data, Response, ResponseCode};

#[allow(unreachable_pub)]
#[path = "../tests/support/corpus.rs"]
mod corpus;
#[allow(unreachable_pub, missing_docs)]
#[path = "../tests/support/inject.rs"]
mod inject;

/// `kinds!(fn_name, Type, ALL_NAME, { pattern => Some("kind") | None, ... })`: a function
/// naming the kind of a value by an exhaustive `match`, and the list of the kinds its arms
/// name (in arm order).
macro_rules! kinds {
    ($f:ident, $t:ty, $all:ident, { $($pat:pat => $kind:expr,)* }) => {
        const $all: &[Option<&str>] = &[$($kind),*];
        fn $f(v: &$t) -> Option<&'static str> {
            match v {
                $($pat => $kind,)*
            }
        }
    };
}

kinds!(code_kind, ResponseCode, CODE_KINDS, {
    ResponseCode::Alert => Some("ALERT"),
    ResponseCode::AlreadyExists => Some("ALREADYEXISTS"),
    ResponseCode::AuthenticationFailed => Some("AUTHENTICATIONFAILED"),
    ResponseCode::AuthorizationFailed => Some("AUTHORIZATIONFAILED"),
    ResponseCode::Cannot => Some("CANNOT"),
    ResponseCode::ClientBug => Some("CLIENTBUG"),
    ResponseCode::Closed => Some("CLOSED"),
    ResponseCode::ContactAdmin => Some("CONTACTADMIN"),
    ResponseCode::Corruption => Some("CORRUPTION"),
    ResponseCode::Expired => Some("EXPIRED"),
    ResponseCode::ExpungeIssued => Some("EXPUNGEISSUED"),
    ResponseCode::HasChildren => Some("HASCHILDREN"),
    ResponseCode::InUse => Some("INUSE"),
    ResponseCode::Limit => Some("LIMIT"),
    ResponseCode::NonExistent => Some("NONEXISTENT"),
    ResponseCode::NoPerm => Some("NOPERM"),
    ResponseCode::OverQuota => Some("OVERQUOTA"),
    ResponseCode::Parse => Some("PARSE"),
    ResponseCode::PrivacyRequired => Some("PRIVACYREQUIRED"),
    ResponseCode::ReadOnly => Some("READ-ONLY"),
    ResponseCode::ReadWrite => Some("READ-WRITE"),
    ResponseCode::ServerBug => Some("SERVERBUG"),
    ResponseCode::TryCreate => Some("TRYCREATE"),
    ResponseCode::UidNotSticky => Some("UIDNOTSTICKY"),
    ResponseCode::Unavailable => Some("UNAVAILABLE"),
    ResponseCode::UnknownCte => Some("UNKNOWN-CTE"),
    ResponseCode::NoModSeq => Some("NOMODSEQ"),
    ResponseCode::BadComparator => Some("BADCOMPARATOR"),
    ResponseCode::TooBig => Some("TOOBIG"),
    ResponseCode::NotSaved => Some("NOTSAVED"),
    ResponseCode::UseAttr => Some("USEATTR"),
    ResponseCode::CompressionActive => Some("COMPRESSIONACTIVE"),
    ResponseCode::UidRequired => Some("UIDREQUIRED"),
    ResponseCode::NotificationOverflow => Some("NOTIFICATIONOVERFLOW"),
    ResponseCode::AppendUid { .. } => Some("APPENDUID"),
    ResponseCode::BadCharset(_) => Some("BADCHARSET"),
    ResponseCode::Capability(_) => Some("CAPABILITY"),
    ResponseCode::CopyUid { .. } => Some("COPYUID"),
    ResponseCode::PermanentFlags(_) => Some("PERMANENTFLAGS"),
    ResponseCode::UidNext(_) => Some("UIDNEXT"),
    ResponseCode::UidValidity(_) => Some("UIDVALIDITY"),
    ResponseCode::Unseen(_) => Some("UNSEEN"),
    ResponseCode::NewName { .. } => Some("NEWNAME"),
    ResponseCode::HighestModSeq(_) => Some("HIGHESTMODSEQ"),
    ResponseCode::Modified(_) => Some("MODIFIED"),
    ResponseCode::BadUrl(_) => Some("BADURL"),
    ResponseCode::Metadata(_) => Some("METADATA"),
    ResponseCode::Annotate(_) => Some("ANNOTATE"),
    ResponseCode::MailboxId(_) => Some("MAILBOXID"),
    ResponseCode::Referral(_) => Some("REFERRAL"),
    ResponseCode::NoUpdate(_) => Some("NOUPDATE"),
    ResponseCode::InProgress(_) => Some("INPROGRESS"),
    ResponseCode::MessageLimit(_) => Some("MESSAGELIMIT"),
    ResponseCode::BadEvent(_) => Some("BADEVENT"),
    ResponseCode::UrlMech(_) => Some("URLMECH"),
    ResponseCode::Other { .. } => Some("other code"),
});

kinds!(data_kind, Data, DATA_KINDS, {
    Data::Capability(_) => Some("CAPABILITY"),
    Data::Enabled(_) => Some("ENABLED"),
    Data::Flags(_) => Some("FLAGS"),
    Data::List(_) => Some("LIST"),
    Data::Lsub(_) => Some("LSUB"),
    Data::XList(_) => Some("XLIST"),
    Data::Namespace(_) => Some("NAMESPACE"),
    Data::Status { .. } => Some("STATUS"),
    Data::ESearch(_) => Some("ESEARCH"),
    Data::Search { .. } => Some("SEARCH"),
    Data::Sort { .. } => Some("SORT"),
    Data::Thread(_) => Some("THREAD"),
    Data::Exists(_) => Some("EXISTS"),
    Data::Recent(_) => Some("RECENT"),
    Data::Expunge(_) => Some("EXPUNGE"),
    Data::Fetch { .. } => Some("FETCH"),
    Data::UidFetch { .. } => Some("UIDFETCH"),
    Data::JmapAccess(_) => Some("JMAPACCESS"),
    Data::GenUrlAuth(_) => Some("GENURLAUTH"),
    Data::UrlFetch(_) => Some("URLFETCH"),
    Data::Vanished { .. } => Some("VANISHED"),
    Data::Id(_) => Some("ID"),
    Data::Quota { .. } => Some("QUOTA"),
    Data::QuotaRoot { .. } => Some("QUOTAROOT"),
    Data::Acl { .. } => Some("ACL"),
    Data::ListRights { .. } => Some("LISTRIGHTS"),
    Data::MyRights { .. } => Some("MYRIGHTS"),
    Data::Metadata { .. } => Some("METADATA"),
    Data::Unknown(_) => Some("unknown data"),
});

kinds!(item_kind, MessageDataItem, ITEM_KINDS, {
    MessageDataItem::Flags(_) => Some("FLAGS"),
    MessageDataItem::Envelope(_) => Some("ENVELOPE"),
    MessageDataItem::InternalDate(_) => Some("INTERNALDATE"),
    MessageDataItem::Rfc822Size(_) => Some("RFC822.SIZE"),
    MessageDataItem::Body(_) => Some("BODY"),
    MessageDataItem::BodyStructure(_) => Some("BODYSTRUCTURE"),
    MessageDataItem::BodySection { .. } => Some("BODY[]"),
    MessageDataItem::Binary { .. } => Some("BINARY[]"),
    MessageDataItem::BinarySize { .. } => Some("BINARY.SIZE[]"),
    MessageDataItem::Uid(_) => Some("UID"),
    MessageDataItem::Rfc822(_) => Some("RFC822"),
    MessageDataItem::Rfc822Header(_) => Some("RFC822.HEADER"),
    MessageDataItem::Rfc822Text(_) => Some("RFC822.TEXT"),
    MessageDataItem::ModSeq(_) => Some("MODSEQ"),
    MessageDataItem::GmailMsgId(_) => Some("X-GM-MSGID"),
    MessageDataItem::GmailThrId(_) => Some("X-GM-THRID"),
    MessageDataItem::GmailLabels(_) => Some("X-GM-LABELS"),
    MessageDataItem::Preview(_) => Some("PREVIEW"),
    MessageDataItem::EmailId(_) => Some("EMAILID"),
    MessageDataItem::ThreadId(_) => Some("THREADID"),
    MessageDataItem::SaveDate(_) => Some("SAVEDATE"),
    MessageDataItem::Unknown { .. } => Some("unknown item"),
    // made by the lenient profile from an item that does not fit its grammar: never in the
    // valid (strictly decoded) corpus
    MessageDataItem::Invalid { .. } => None,
});

/// The kinds a decoded response reaches: its code, its untagged kind, its FETCH items.
fn reached(r: &Response, out: &mut BTreeSet<String>) {
    match r {
        Response::Status(st) => {
            if let Some(k) = st.code().and_then(code_kind) {
                out.insert(format!("code {k}"));
            }
        }
        Response::Data(d) => {
            out.extend(data_kind(d).map(|k| format!("data {k}")));
            if let Data::Fetch { items, .. } | Data::UidFetch { items, .. } = d {
                for it in items.iter() {
                    out.extend(item_kind(it).map(|k| format!("item {k}")));
                }
            }
        }
        _ => {}
    }
}

#[test]
fn corpus_reaches_every_code_data_and_item_kind() {
    let mut seen = BTreeSet::new();
    let mut n = 0;
    for m in corpus::responses() {
        let msg = Bytes::copy_from_slice(&m);
        // the same filter as the injection test's corpus
        let Ok(d) = Response::decode(&msg, &DecodeOptions::strict()) else {
            continue;
        };
        if inject::sites(&m).is_none() {
            continue;
        }
        n += 1;
        reached(&d.message, &mut seen);
    }
    assert!(n > 300, "corpus too small: {n}");
    let want: Vec<String> = (CODE_KINDS.iter().flatten().map(|k| format!("code {k}")))
        .chain(DATA_KINDS.iter().flatten().map(|k| format!("data {k}")))
        .chain(ITEM_KINDS.iter().flatten().map(|k| format!("item {k}")))
        .collect();
    // every unit response code is among the arms (the names come from the enum's own list)
    for c in ResponseCode::named() {
        assert_eq!(
            code_kind(&c),
            c.known_name(),
            "the arm of {c:?} names another code"
        );
    }
    assert!(want.len() > 100, "{want:?}");
    let missing: Vec<&String> = want.iter().filter(|k| !seen.contains(*k)).collect();
    assert!(missing.is_empty(), "not in the corpus: {missing:?}");
}
