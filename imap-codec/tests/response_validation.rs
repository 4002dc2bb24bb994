//! What `Response::validate` / `Greeting::validate` reject: values the public API lets you
//! build that are not valid protocol, or that decode as another value. Each family has an
//! example next to a close value that passes.

use bytes::Bytes;
use imapwire_codec::body::{BodyFields, BodyStructure, MultiPart, SinglePart, SinglePartKind};
use imapwire_codec::capability::Capability;
use imapwire_codec::codec::Message;
use imapwire_codec::core::{Atom, IString, Text};
use imapwire_codec::fetch::{MessageDataItem, RawItem};
use imapwire_codec::flag::{Flag, FlagFetch, MailboxAttribute};
use imapwire_codec::mailbox::Mailbox;
use imapwire_codec::response::{
    CodeText, Data, Greeting, GreetingKind, ListItem, Response, ResponseCode, ResponseText, Status,
    StatusResponse,
};
use imapwire_codec::sequence::{SeqNum, UidSet};
use imapwire_codec::status::StatusItem;
use imapwire_codec::{DecodeOptions, Encode};

fn atom(s: &str) -> Atom {
    Atom::try_from(s).unwrap()
}

fn fetch(items: Vec<MessageDataItem>) -> Response {
    Response::Data(Data::Fetch {
        seq: SeqNum::new(1).unwrap(),
        items: items.into(),
    })
}

fn ok_with(code: ResponseCode) -> Response {
    Response::Status(StatusResponse::Untagged {
        status: Status::Ok,
        text: ResponseText::with_code(code, Text::try_from("x").unwrap()),
    })
}

/// A value that passes also round-trips (the property the checks protect).
fn passes(r: &Response) {
    r.validate().unwrap_or_else(|e| panic!("{r:?}: {e}"));
    let enc = r.to_bytes_inline_literals();
    let d = Response::decode(&enc, &DecodeOptions::strict()).unwrap();
    assert_eq!(&d.message, r);
}

fn text_single() -> BodyStructure {
    BodyStructure::single(SinglePart {
        kind: SinglePartKind::Text {
            subtype: IString::try_from("PLAIN").unwrap(),
            lines: 1,
        },
        fields: BodyFields {
            encoding: IString::try_from("7BIT").unwrap(),
            ..BodyFields::default()
        },
        extension: None,
    })
    .unwrap()
}

#[test]
fn known_names_in_other_variants() {
    // Capability
    let caps = |c: Capability| Response::Data(Data::Capability(vec![c]));
    assert!(
        caps(Capability::Other(atom("IMAP4rev1")))
            .validate()
            .is_err()
    );
    assert!(caps(Capability::Other(atom("idle"))).validate().is_err());
    passes(&caps(Capability::Other(atom("X-SOMETHING"))));
    passes(&caps(Capability::from_atom(atom("idle"))));
    // ResponseCode::Other
    let other = |n: &str| ResponseCode::Other {
        name: atom(n),
        text: None,
    };
    assert!(ok_with(other("ALERT")).validate().is_err());
    assert!(ok_with(other("uidnext")).validate().is_err());
    passes(&ok_with(other("X-CODE")));
    // Flags and attributes
    let flags = |f: Flag| {
        fetch(vec![MessageDataItem::Flags(
            vec![FlagFetch::Flag(f)].into(),
        )])
    };
    assert!(flags(Flag::Extension(atom("Recent"))).validate().is_err());
    assert!(flags(Flag::Extension(atom("Seen"))).validate().is_err());
    passes(&flags(Flag::Extension(atom("Junk"))));
    let list = |a: MailboxAttribute| {
        Response::Data(Data::List(ListItem {
            attributes: vec![a].into(),
            delimiter: None,
            mailbox: Mailbox::try_from("x").unwrap(),
            extended: vec![],
        }))
    };
    assert!(
        list(MailboxAttribute::Extension(atom("Noselect")))
            .validate()
            .is_err()
    );
    passes(&list(MailboxAttribute::from_name(atom("Noselect"))));
    // STATUS
    let status = |i: StatusItem| {
        Response::Data(Data::Status {
            mailbox: Mailbox::try_from("x").unwrap(),
            items: vec![i],
        })
    };
    assert!(
        status(StatusItem::Other(atom("MESSAGES"), 1))
            .validate()
            .is_err()
    );
    passes(&status(StatusItem::Other(atom("X-COUNT"), 1)));
    // FETCH items
    let unknown = |n: &str, raw: &'static [u8]| {
        MessageDataItem::Unknown(RawItem::boxed(atom(n), Bytes::from_static(raw)))
    };
    assert!(fetch(vec![unknown("UID", b"5")]).validate().is_err());
    passes(&fetch(vec![unknown("X-ITEM", b"5")]));
}

#[test]
fn numbers_out_of_range() {
    let big = 1u64 << 63;
    assert!(
        fetch(vec![MessageDataItem::Rfc822Size(big)])
            .validate()
            .is_err()
    );
    assert!(
        fetch(vec![MessageDataItem::ModSeq(big)])
            .validate()
            .is_err()
    );
    assert!(fetch(vec![MessageDataItem::ModSeq(0)]).validate().is_err());
    assert!(
        fetch(vec![MessageDataItem::GmailMsgId(big)])
            .validate()
            .is_err()
    );
    assert!(
        ok_with(ResponseCode::HighestModSeq(big))
            .validate()
            .is_err()
    );
    passes(&fetch(vec![MessageDataItem::ModSeq(big - 1)]));
    passes(&fetch(vec![MessageDataItem::Rfc822Size(big - 1)]));
}

#[test]
fn body_structures_with_stand_ins() {
    let b = |s: BodyStructure| fetch(vec![MessageDataItem::BodyStructure(s)]);
    assert!(
        b(BodyStructure::invalid(Bytes::from_static(b"(")).unwrap())
            .validate()
            .is_err()
    );
    let multi = |bodies: Vec<BodyStructure>| {
        BodyStructure::multi(
            MultiPart {
                subtype: IString::try_from("MIXED").unwrap(),
                extension: None,
            },
            bodies,
        )
        .unwrap()
    };
    assert!(b(multi(vec![])).validate().is_err());
    assert!(b(multi(vec![multi(vec![])])).validate().is_err());
    passes(&b(multi(vec![text_single()])));
}

#[test]
fn empty_lists() {
    assert!(fetch(vec![]).validate().is_err());
    // `* CAPABILITY` and `[CAPABILITY]` without capabilities are accepted by the strict
    // decoder (and must therefore validate).
    passes(&Response::Data(Data::Capability(vec![])));
    passes(&ok_with(ResponseCode::Capability(vec![])));
    // an empty uid-set cannot be built (its contents are private and validated)
    assert!(UidSet::new(vec![]).is_err());
}

#[test]
fn text_and_raw_values() {
    // Unknown raw values that are not one value (a stray `)`), code text
    let bad_raw = fetch(vec![MessageDataItem::Unknown(RawItem::boxed(
        atom("X-ITEM"),
        Bytes::from_static(b"1 2"),
    ))]);
    assert!(bad_raw.validate().is_err());
    // A greeting validates its code.
    let g = Greeting {
        kind: GreetingKind::Ok,
        text: ResponseText::with_code(
            ResponseCode::Other {
                name: atom("CAPABILITY"),
                text: Some(CodeText::new("IMAP4rev1").unwrap()),
            },
            Text::default(),
        ),
    };
    assert!(g.validate().is_err());
    let g = Greeting {
        kind: GreetingKind::Ok,
        text: ResponseText::new(None, Text::try_from("ready").unwrap()).unwrap(),
    };
    assert!(g.validate().is_ok());
    // Text that starts like a code cannot be built without one.
    assert!(ResponseText::new(None, Text::try_from("[ALERT] x").unwrap()).is_err());
}

/// roundtrip_response fuzz crash (CI run): unknown data whose raw part ends like a literal
/// announcement (`~{4}`) encoded to a line a receiver's framer waits on forever.
#[test]
fn unknown_raw_ending_like_a_literal_announcement_is_rejected() {
    let name = Atom::try_from("X").unwrap();
    for raw in [&b"~{4}"[..], b"a {12}", b"{0+}", b"x {3}\r\nabc y {5}"] {
        assert!(
            imapwire_codec::response::UnknownData::new(
                None,
                name.clone(),
                Bytes::copy_from_slice(raw)
            )
            .is_err(),
            "{raw:?}"
        );
    }
    // a literal whose data ends the raw part is fine
    assert!(
        imapwire_codec::response::UnknownData::new(None, name, Bytes::from_static(b"~{4}\r\nabcd"))
            .is_ok()
    );
    let line = Bytes::from_static(b"* X ~{4}\r\n");
    assert!(Response::decode(&line, &imapwire_codec::options::DecodeOptions::strict()).is_err());
}
