//! Mailbox command arguments: SELECT/EXAMINE parameters (RFC 4466, RFC 7162), CREATE
//! parameters (RFC 4466, RFC 6154) and LIST options (RFC 5258, RFC 5819, RFC 6154).

use super::*;

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
    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
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

pub(super) fn encode_named(buf: &mut EncodeBuf, name: &Atom, value: Option<&TaggedExtVal>) {
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
    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
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

pub(super) fn parse_option_ext(p: &mut Parser<'_>) -> PResult<(Atom, Option<Vec<TaggedExtComp>>)> {
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

pub(super) fn encode_option_ext(
    buf: &mut EncodeBuf,
    name: &Atom,
    value: &Option<Vec<TaggedExtComp>>,
) {
    name.encode(buf);
    if let Some(v) = value {
        buf.sp();
        encode_comps(v, buf);
    }
}

impl ListSelectOption {
    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
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
    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
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
