//! Validation of hand-built commands (RFC 9051 §9 grammar rules the types cannot express).

use super::*;
use crate::error::{Rule, ValueKind};

// ---------------------------------------------------------------------------------------
// Validation of values built by hand
// ---------------------------------------------------------------------------------------

pub(super) const MAX63: u64 = i64::MAX as u64;

pub(super) fn check(
    ok: bool,
    what: &'static str,
    reason: &'static str,
) -> Result<(), ValidationError> {
    if ok {
        Ok(())
    } else {
        Err(ValidationError::grammar(what, reason))
    }
}

pub(super) fn non_empty<T>(v: &[T], what: &'static str) -> Result<(), ValidationError> {
    if v.is_empty() {
        return Err(ValidationError::new(ValueKind::Grammar(what), Rule::Empty));
    }
    Ok(())
}

pub(super) fn is_label(a: &Atom) -> bool {
    let b = a.as_bytes();
    b.first()
        .is_some_and(|&c| c.is_ascii_alphabetic() || matches!(c, b'-' | b'_' | b'.'))
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
}

pub(super) fn check_label(a: &Atom, known: &[&[u8]]) -> Result<(), ValidationError> {
    check(is_label(a), "extension name", "not a tagged-ext-label")?;
    check(
        !crate::parse::shadows(a.as_bytes(), known.iter().copied()),
        "extension name",
        "is (or starts like) the name of a typed option",
    )
}

/// Nesting depth the decoder accepts by default.
pub(super) fn max_depth() -> u32 {
    crate::options::DecodeOptions::strict().max_depth
}

pub(super) fn check_comps(
    v: &[TaggedExtComp],
    allow_empty: bool,
    depth: u32,
) -> Result<(), ValidationError> {
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

pub(super) fn check_ext_val(v: &TaggedExtVal) -> Result<(), ValidationError> {
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
        TaggedExtVal::String(_) => Err(ValidationError::grammar(
            "tagged-ext-val",
            "a string is not a command's tagged-ext-val (RFC 4466)",
        )),
    }
}

pub(super) fn check_opt_ext(
    name: &Atom,
    value: &Option<TaggedExtVal>,
    known: &[&[u8]],
) -> Result<(), ValidationError> {
    check_label(name, known)?;
    value.as_ref().map_or(Ok(()), check_ext_val)
}

/// `option-extension` (LIST options): any atom name, parenthesised non-empty value.
pub(super) fn check_option_ext(
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
pub(super) fn check_fetch_att_list(f: &FetchItems) -> Result<(), ValidationError> {
    check(
        matches!(f, FetchItems::Attributes(_)),
        "fetch-att list",
        "the ALL/FAST/FULL macros are not allowed here",
    )?;
    f.validate()
}

pub(super) fn check_return_opts(
    v: &Option<Vec<SearchReturnOption>>,
) -> Result<(), ValidationError> {
    const KNOWN_RET: &[&[u8]] = &[
        b"MIN", b"MAX", b"ALL", b"COUNT", b"SAVE", b"CONTEXT", b"UPDATE", b"PARTIAL",
    ];
    v.iter().flatten().try_for_each(|o| match o {
        SearchReturnOption::Other { name, value } => check_opt_ext(name, value, KNOWN_RET),
        SearchReturnOption::UpdateFetch(f) => check_fetch_att_list(f),
        _ => Ok(()),
    })
}

pub(super) fn check_literal_data(data: &[u8], binary: bool) -> Result<(), ValidationError> {
    check(
        binary || memchr::memchr(0, data).is_none(),
        "literal",
        "data containing NUL must be sent as binary (literal8)",
    )
}

pub(super) fn check_message(m: &AppendMessage) -> Result<(), ValidationError> {
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

pub(super) fn check_mailboxes(v: &[Mailbox]) -> Result<(), ValidationError> {
    v.iter().try_for_each(Mailbox::validate)
}

pub(super) fn check_filter(f: &MailboxFilter) -> Result<(), ValidationError> {
    match f {
        MailboxFilter::Subtree(v) | MailboxFilter::Mailboxes(v) | MailboxFilter::SubtreeOne(v) => {
            non_empty(v, "mailbox filter")?;
            check_mailboxes(v)
        }
        _ => Ok(()),
    }
}

pub(super) fn check_event(e: &NotifyEvent) -> Result<(), ValidationError> {
    match e {
        NotifyEvent::MessageNew(Some(f)) => check_fetch_att_list(f),
        NotifyEvent::Other(a) => check(
            !crate::parse::shadows(
                a.as_bytes(),
                NotifyEvent::NAMES
                    .iter()
                    .copied()
                    .chain([&b"MessageNew"[..]]),
            ),
            "NOTIFY event",
            "other event holds a known event name",
        ),
        _ => Ok(()),
    }
}

/// `mechanism` of URLAUTH: 1*(ALPHA / DIGIT / "-" / ".").
pub(super) fn check_url_mech(a: &Atom) -> Result<(), ValidationError> {
    check(
        a.as_bytes()
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.'),
        "URLAUTH mechanism",
        "not 1*(ALPHA / DIGIT / \"-\" / \".\")",
    )
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
            | C::Login { .. }
            | C::GetQuota(_)
            | C::GetJmapAccess
            | C::Compress(_) => Ok(()),
            C::Authenticate { mechanism, .. } => mechanism.validate(),
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
                l.resource.validate()
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
