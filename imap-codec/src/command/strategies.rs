//! proptest strategies.
use super::*;
use crate::capability::strategies::capability;
use crate::core::strategies::{atom, istring, tag};
use crate::datetime::strategies::date_time;
use crate::ext::strategies::{comp, label, tagged_ext_val};
use crate::fetch::strategies::fetch_items;
use crate::flag::strategies::{flag, mailbox_attribute};
use crate::mailbox::strategies::{list_mailbox, mailbox};
use crate::search::strategies::{
    partial_range, search_keys, search_return_options, sort_criteria, thread_algorithm,
};
use crate::sequence::strategies::{nz_u32, sequence_set};
use crate::status::strategies::status_attribute;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Union};

fn n64() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..1000, 0u64..=i64::MAX as u64]
}

fn modseq() -> impl Strategy<Value = u64> {
    prop_oneof![1u64..1000, 1u64..=i64::MAX as u64]
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
        (label(), option_value()).prop_map(|(name, value)| ListReturnOption::Other { name, value }),
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
        proptest::sample::select(NotifyEvent::named()),
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
        vec(flag(), 0..10).prop_map(|v| StoreData::Flags(v.into())),
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
                mechanism: AuthMechanism::from_atom(mechanism),
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
                .prop_map(|(selection, reference, patterns, return_opts)| C::List {
                    selection,
                    reference,
                    patterns,
                    return_opts,
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
                                QuotaResourceName::NAMES
                                    .iter()
                                    .map(|n| QuotaResourceName::from_known_name(n).unwrap())
                                    .collect::<Vec<_>>()
                            ),
                            "X[A-Z]{1,6}"
                                .prop_map(|s| QuotaResourceName::Other(Atom::try_from(s).unwrap())),
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
                .prop_map(|(source, return_opts, charset, criteria)| C::ESearch {
                    source: source.map(|(filters, scope_options)| ESearchSource {
                        filters,
                        scope_options,
                    }),
                    return_opts,
                    charset,
                    criteria,
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
                .prop_map(|(sequence_set, modifiers, kind, silent, data, uid)| {
                    C::Store {
                        sequence_set,
                        modifiers,
                        kind,
                        silent,
                        data,
                        uid,
                    }
                }),
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
                .prop_map(|(return_opts, criteria, charset, search, uid)| C::Sort {
                    return_opts,
                    criteria,
                    charset,
                    search,
                    uid,
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
                .prop_map(|(n, raw)| CommandBody::other(Atom::try_from(n).unwrap(), raw).unwrap()),
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
