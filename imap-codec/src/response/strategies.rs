//! proptest strategies generating every response variant.

use std::num::NonZeroU32;

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::capability::QuotaResourceName;
use crate::capability::strategies::capability;
use crate::core::strategies::{istring, tag, text};
use crate::core::{Atom, IString, Text};
use crate::flag::strategies::{flag, mailbox_attribute};
use crate::mailbox::strategies::mailbox;
use crate::sequence::strategies::{nz_u32, sequence_set, uid_set};
use crate::sequence::{SeqNum, SequenceSet, UidValidity};
use crate::status::strategies::status_item;

pub(crate) use super::code::strategies::response_code;

/// Text that may be empty.
fn any_text() -> impl Strategy<Value = Text> {
    prop_oneof![Just(Text::default()), text()]
}

/// `resp-text` with or without code, including text that starts with `[` but is not a code.
pub(crate) fn response_text() -> impl Strategy<Value = ResponseText> {
    prop_oneof![
        4 => (proptest::option::of(response_code()), any_text())
            .prop_map(|(c, t)| ResponseText::new(c, t).unwrap()),
        1 => "\\[[ -~]{0,12}".prop_filter_map("looks like a code", |s| {
            Text::try_from(s)
                .ok()
                .and_then(|t| ResponseText::new(None, t).ok())
        }),
    ]
}

fn status() -> impl Strategy<Value = Status> {
    prop_oneof![Just(Status::Ok), Just(Status::No), Just(Status::Bad)]
}

/// Greetings of every kind.
pub(crate) fn greeting() -> impl Strategy<Value = Greeting> {
    (
        prop_oneof![
            Just(GreetingKind::Ok),
            Just(GreetingKind::PreAuth),
            Just(GreetingKind::Bye)
        ],
        response_text(),
    )
        .prop_map(|(kind, text)| Greeting { kind, text })
}

fn status_response() -> impl Strategy<Value = StatusResponse> {
    prop_oneof![
        (tag(), status(), response_text()).prop_map(|(tag, status, text)| StatusResponse::Tagged {
            tag,
            status,
            text
        }),
        (status(), response_text())
            .prop_map(|(status, text)| StatusResponse::Untagged { status, text }),
        response_text().prop_map(StatusResponse::PreAuth),
        response_text().prop_map(StatusResponse::Bye),
    ]
}

fn continuation() -> impl Strategy<Value = Continuation> {
    prop_oneof![
        vec(any::<u8>(), 0..40).prop_map(|v| Continuation::Base64(Bytes::from(v))),
        response_text().prop_map(|t| Continuation::Text(ContinuationText::new(t))),
    ]
}

fn delimiter() -> impl Strategy<Value = Option<Delimiter>> {
    proptest::option::of(prop_oneof![
        Just(b'/'),
        Just(b'.'),
        Just(b'"'),
        Just(b'\\'),
        0x20u8..0x7f
    ])
    .prop_map(|o| o.map(|c| Delimiter::new(c).unwrap()))
}

fn tagged_ext_comp() -> impl Strategy<Value = TaggedExtComp> {
    let leaf = istring().prop_map(TaggedExtComp::AString);
    leaf.prop_recursive(3, 12, 4, |inner| {
        vec(inner, 0..4).prop_map(TaggedExtComp::List)
    })
}

fn tagged_ext_val() -> impl Strategy<Value = TaggedExtVal> {
    prop_oneof![
        (0..=i64::MAX as u64).prop_map(TaggedExtVal::Number),
        sequence_set()
            .prop_filter("not a single number", |s| !matches!(
                s,
                SequenceSet::Set(v) if v.len() == 1
                    && matches!(v[0], crate::sequence::Sequence::Single(crate::sequence::SeqOrUid::Value(_)))
            ))
            .prop_map(TaggedExtVal::SequenceSet),
        vec(tagged_ext_comp(), 0..4).prop_map(TaggedExtVal::Comp),
        istring().prop_map(TaggedExtVal::String),
    ]
}

fn list_ext_item() -> impl Strategy<Value = ListExtendedItem> {
    prop_oneof![
        vec(istring(), 1..3).prop_map(ListExtendedItem::ChildInfo),
        mailbox().prop_map(ListExtendedItem::OldName),
        ("X[A-Z]{1,6}", tagged_ext_val()).prop_map(|(t, value)| ListExtendedItem::Other {
            tag: IString::try_from(t).unwrap(),
            value
        }),
    ]
}

fn list_item() -> impl Strategy<Value = ListItem> {
    (
        vec(mailbox_attribute(), 0..10),
        delimiter(),
        mailbox(),
        vec(list_ext_item(), 0..3),
    )
        .prop_map(|(attributes, delimiter, mailbox, extended)| ListItem {
            attributes: attributes.into(),
            delimiter,
            mailbox,
            extended,
        })
}

fn namespace() -> impl Strategy<Value = Namespace> {
    (
        istring(),
        delimiter(),
        vec((istring(), vec(istring(), 1..3)), 0..2),
    )
        .prop_map(|(prefix, delimiter, ext)| Namespace {
            prefix,
            delimiter,
            extensions: ext
                .into_iter()
                .map(|(n, v)| NamespaceExtension::new(n, v).unwrap())
                .collect(),
        })
}

fn nz() -> impl Strategy<Value = NonZeroU32> {
    nz_u32()
}

fn return_data() -> impl Strategy<Value = SearchReturnData> {
    let pos_sets = || vec((any::<u32>(), uid_set()), 1..3);
    prop_oneof![
        nz().prop_map(SearchReturnData::Min),
        nz().prop_map(SearchReturnData::Max),
        uid_set().prop_map(SearchReturnData::All),
        any::<u32>().prop_map(SearchReturnData::Count),
        (0..=i64::MAX as u64).prop_map(SearchReturnData::ModSeq),
        (
            prop_oneof![
                (nz(), nz()).prop_map(|(a, b)| PartialRange::First(a, b)),
                (nz(), nz()).prop_map(|(a, b)| PartialRange::Last(a, b)),
            ],
            proptest::option::of(uid_set())
        )
            .prop_map(|(range, results)| SearchReturnData::Partial { range, results }),
        pos_sets().prop_map(SearchReturnData::AddTo),
        pos_sets().prop_map(SearchReturnData::RemoveFrom),
        ("X[A-Z]{1,6}", tagged_ext_val()).prop_map(|(n, value)| SearchReturnData::Other {
            name: Atom::try_from(n).unwrap(),
            value
        }),
    ]
}

fn thread() -> impl Strategy<Value = Thread> {
    let leaf = vec(nz(), 1..4).prop_map(|m| Thread::new(m, vec![]).unwrap());
    leaf.prop_recursive(4, 24, 3, |inner| {
        (vec(nz(), 0..3), vec(inner, 2..4)).prop_map(|(m, c)| Thread::new(m, c).unwrap())
    })
}

fn modseq() -> impl Strategy<Value = Option<u64>> {
    proptest::option::of(0..=i64::MAX as u64)
}

fn metadata_value() -> impl Strategy<Value = Option<Bytes>> {
    proptest::option::of(prop_oneof![
        "[ -~]{0,12}".prop_map(Bytes::from),
        vec(any::<u8>(), 0..16).prop_map(Bytes::from),
    ])
}

fn unknown() -> impl Strategy<Value = UnknownData> {
    (
        proptest::option::of(any::<u32>()),
        "X[A-Z]{1,6}",
        "([!-~][ -~]{0,20})?",
    )
        .prop_map(|(n, name, raw)| {
            UnknownData::new(n, Atom::try_from(name).unwrap(), Bytes::from(raw)).unwrap()
        })
}

fn data() -> impl Strategy<Value = Data> {
    prop_oneof![
        vec(capability(), 0..5).prop_map(Data::Capability),
        vec(capability(), 0..3).prop_map(Data::Enabled),
        vec(flag(), 0..5).prop_map(Data::Flags),
        list_item().prop_map(Data::List),
        list_item().prop_map(Data::Lsub),
        list_item().prop_map(Data::XList),
        (
            vec(namespace(), 0..2),
            vec(namespace(), 0..2),
            vec(namespace(), 0..2)
        )
            .prop_map(|(personal, other, shared)| Data::Namespace(NamespaceData {
                personal,
                other,
                shared
            })),
        (mailbox(), vec(status_item(), 0..4))
            .prop_map(|(mailbox, items)| Data::Status { mailbox, items }),
        (
            proptest::option::of((
                istring(),
                proptest::option::of((
                    mailbox(),
                    nz().prop_map(|n| UidValidity::new(n.get()).unwrap())
                ))
            )),
            any::<bool>(),
            vec(return_data(), 0..4)
        )
            .prop_map(|(c, uid, data)| Data::ESearch(ESearch {
                correlator: c.map(|(tag, mailbox)| SearchCorrelator { tag, mailbox }),
                uid,
                data
            })),
        (vec(nz(), 0..8), modseq()).prop_map(|(ids, modseq)| Data::Search { ids, modseq }),
        (vec(nz(), 0..8), modseq()).prop_map(|(ids, modseq)| Data::Sort { ids, modseq }),
        vec(thread(), 0..3).prop_map(Data::Thread),
        any::<u32>().prop_map(Data::Exists),
        any::<u32>().prop_map(Data::Recent),
        nz().prop_map(|n| Data::Expunge(SeqNum::new(n.get()).unwrap())),
        (nz(), crate::fetch::strategies::message_data_items()).prop_map(|(n, items)| {
            Data::Fetch {
                seq: SeqNum::new(n.get()).unwrap(),
                items: items.into(),
            }
        }),
        (nz(), crate::fetch::strategies::message_data_items()).prop_map(|(n, items)| {
            Data::UidFetch {
                uid: crate::sequence::Uid::new(n.get()).unwrap(),
                items: items.into(),
            }
        }),
        istring().prop_map(Data::JmapAccess),
        vec(istring(), 1..3).prop_map(Data::GenUrlAuth),
        vec((istring(), metadata_value()), 1..3).prop_map(Data::UrlFetch),
        (any::<bool>(), uid_set()).prop_map(|(earlier, uids)| Data::Vanished { earlier, uids }),
        proptest::option::of(vec((istring(), proptest::option::of(istring())), 0..4))
            .prop_map(Data::Id),
        (
            istring(),
            vec(
                (
                    prop_oneof![
                        Just(QuotaResourceName::Storage),
                        Just(QuotaResourceName::Message),
                        Just(QuotaResourceName::Mailbox),
                        Just(QuotaResourceName::AnnotationStorage),
                        "X[A-Z]{1,5}"
                            .prop_map(|s| QuotaResourceName::from_atom(Atom::try_from(s).unwrap())),
                    ],
                    0..=i64::MAX as u64,
                    0..=i64::MAX as u64
                )
                    .prop_map(|(name, usage, limit)| QuotaResource {
                        name,
                        usage,
                        limit
                    }),
                0..3
            )
        )
            .prop_map(|(root, resources)| Data::Quota { root, resources }),
        (mailbox(), vec(istring(), 0..3))
            .prop_map(|(mailbox, roots)| Data::QuotaRoot { mailbox, roots }),
        (
            mailbox(),
            vec(
                (istring(), istring())
                    .prop_map(|(identifier, rights)| AclEntry { identifier, rights }),
                0..3
            )
        )
            .prop_map(|(mailbox, entries)| Data::Acl { mailbox, entries }),
        (mailbox(), istring(), istring(), vec(istring(), 0..3)).prop_map(
            |(mailbox, identifier, required, optional)| Data::ListRights {
                mailbox,
                identifier,
                required,
                optional
            }
        ),
        (mailbox(), istring()).prop_map(|(mailbox, rights)| Data::MyRights { mailbox, rights }),
        (
            mailbox(),
            prop_oneof![
                vec((istring(), metadata_value()), 1..3).prop_map(MetadataEntries::Values),
                vec(istring(), 1..3).prop_map(MetadataEntries::List),
            ]
        )
            .prop_map(|(mailbox, entries)| Data::Metadata { mailbox, entries }),
        unknown().prop_map(Data::Unknown),
    ]
}

/// Every response variant.
pub(crate) fn response() -> impl Strategy<Value = Response> {
    prop_oneof![
        status_response().prop_map(Response::Status),
        data().prop_map(Response::Data),
        continuation().prop_map(Response::Continuation),
    ]
}
