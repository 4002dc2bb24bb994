//! Arguments of extension commands: QUOTA (RFC 9208), ACL (RFC 4314), METADATA (RFC 5464),
//! NOTIFY (RFC 5465), ESEARCH source options (RFC 7377) and URLAUTH (RFC 4467).

use super::*;
use crate::names::name_enum;

/// A SETQUOTA limit (`setquota-resource`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuotaLimit {
    /// The resource.
    pub resource: QuotaResourceName,
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
    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
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

pub(super) fn one_or_more_mailbox(p: &mut Parser<'_>) -> PResult<Vec<Mailbox>> {
    p.sp()?;
    if p.peek() == Some(b'(') {
        paren_list(p, false, Mailbox::parse)
    } else {
        Ok(vec![Mailbox::parse(p)?])
    }
}

pub(super) fn encode_mailboxes(buf: &mut EncodeBuf, v: &[Mailbox]) {
    buf.sp();
    if v.len() == 1 {
        v[0].encode(buf);
    } else {
        buf.list(v, |b, m| m.encode(b));
    }
}

impl MailboxFilter {
    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
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

name_enum! {
    /// A NOTIFY event (RFC 5465 `event`).
    #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum NotifyEvent {
        /// `MessageExpunge`
        MessageExpunge = b"MessageExpunge",
        /// `FlagChange`
        FlagChange = b"FlagChange",
        /// `AnnotationChange`
        AnnotationChange = b"AnnotationChange",
        /// `MailboxName`
        MailboxName = b"MailboxName",
        /// `SubscriptionChange`
        SubscriptionChange = b"SubscriptionChange",
        /// `MailboxMetadataChange`
        MailboxMetadataChange = b"MailboxMetadataChange",
        /// `ServerMetadataChange`
        ServerMetadataChange = b"ServerMetadataChange",
    }
    others {
        /// `MessageNew [(fetch-att ...)]`
        MessageNew(Option<FetchItems>),
        /// Another event (`event-ext`).
        Other(Atom),
    }
    encode(buf) {
        NotifyEvent::MessageNew(f) => {
            buf.raw(b"MessageNew");
            if let Some(f) = f {
                buf.sp();
                encode_fetch_att_list(buf, f);
            }
        }
        NotifyEvent::Other(a) => a.encode(buf),
    }
}

impl NotifyEvent {
    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.keyword(b"MessageNew") {
            if p.peek() == Some(b' ') && p.peek_at(1) == Some(b'(') {
                p.sp()?;
                return FetchItems::parse(p).map(|f| NotifyEvent::MessageNew(Some(f)));
            }
            return Ok(NotifyEvent::MessageNew(None));
        }
        if let Some(e) = Self::parse_known_name(p) {
            return Ok(e);
        }
        Atom::parse(p).map(NotifyEvent::Other)
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
    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
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
