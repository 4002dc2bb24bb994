//! Known-answer tests for the extensions whose RFC has no `C:`/`S:` example in the RFC example
//! corpus (`tests/data/rfc-examples/`), either because the RFC has none or because its text is
//! not in `shared/rfc/`: at least one command and one response per extension, each decoded in
//! the strict profile to an expected typed value and round-tripped (encode, decode again, same
//! value). Examples are taken from the RFC text where it has them (RFC 2088, 3348, 5032, 7377,
//! 8440, 8457, 8508 in `shared/rfc/extra/`), otherwise written from the RFC's ABNF.
//!
//! A few tests go beyond that: the encoder side of LITERAL- (`literal_minus_encoding`), and
//! typed checks of items the corpus only round-trips (`jmapaccess_rfc9698`: GETJMAPACCESS;
//! `binary_rfc3516`: the origin of a partial BINARY response).
//!
//! The extension table in `imap-codec/README.md` links here.

use std::num::{NonZeroU32, NonZeroU64};

use bytes::Bytes;
use imapwire_codec::capability::Capability;
use imapwire_codec::codec::encode;
use imapwire_codec::codec::{AnyMessage, Expect};
use imapwire_codec::command::{
    AppendData, AppendMessage, CatPart, Command, CommandBody, CreateParam, ESearchSource,
    GmailLabel as StoreLabel, ListReturnOption, MailboxFilter, StoreData, StoreType,
};
use imapwire_codec::core::{Atom, IString, Secret, Tag, Text};
use imapwire_codec::encode::LiteralMode;
use imapwire_codec::fetch::{
    FetchAttribute, FetchAttributes, FetchItems, GmailLabel, MessageDataItem, Part, Partial,
};
use imapwire_codec::flag::{Flag, MailboxAttribute};
use imapwire_codec::mailbox::{ListMailbox, Mailbox};
use imapwire_codec::options::DecodeOptions;
use imapwire_codec::response::{
    CodeText, Data, Delimiter, ESearch, Greeting, GreetingKind, ListExtendedItem, ListItem,
    Response, ResponseCode, ResponseText, SearchCorrelator, SearchReturnData, Status,
    StatusResponse,
};
use imapwire_codec::search::SearchKey;
use imapwire_codec::sequence::{
    SeqNum, SeqOrUid, Sequence, SequenceSet, Uid, UidRange, UidSet, UidValidity,
};
use imapwire_codec::{Encode, EncodeOptions};

// ---------------------------------------------------------------------------------------------
// helpers

/// Decodes `bytes` strictly as `expect`, checks that the encoding decodes to the same value,
/// and returns the value.
fn decode_rt(bytes: &[u8], expect: Expect) -> AnyMessage {
    let opts = DecodeOptions::strict();
    let d = AnyMessage::decode(&Bytes::copy_from_slice(bytes), expect, &opts)
        .unwrap_or_else(|e| panic!("{:?} does not decode: {e}", String::from_utf8_lossy(bytes)));
    // Strictly decoded values pass validation.
    let valid = match &d.message {
        AnyMessage::Command(c) => c.validate(),
        AnyMessage::Response(m) => m.validate(),
        AnyMessage::Greeting(g) => g.validate(),
        _ => Ok(()),
    };
    if let Err(e) = valid {
        panic!("decoded {:?} does not validate: {e}", d.message);
    }
    let enc = d.message.to_vec_inline_literals();
    let again = AnyMessage::decode(&Bytes::from(enc.clone()), expect, &opts).unwrap_or_else(|e| {
        panic!(
            "re-encoding {:?} does not decode: {e}",
            String::from_utf8_lossy(&enc)
        )
    });
    assert_eq!(
        again.message,
        d.message,
        "round trip of {:?}",
        String::from_utf8_lossy(bytes)
    );
    d.message
}

fn cmd(bytes: &[u8]) -> Command {
    match decode_rt(bytes, Expect::Command) {
        AnyMessage::Command(c) => c,
        m => panic!("not a command: {m:?}"),
    }
}

/// The command body, after checking the tag.
fn body(tag: &str, bytes: &[u8]) -> CommandBody {
    let c = cmd(bytes);
    assert_eq!(c.tag(), &Tag::try_from(tag).unwrap());
    c.into_parts().1
}

fn resp(bytes: &[u8]) -> Response {
    match decode_rt(bytes, Expect::Response) {
        AnyMessage::Response(r) => r,
        m => panic!("not a response: {m:?}"),
    }
}

fn data(bytes: &[u8]) -> Data {
    match resp(bytes) {
        Response::Data(d) => d,
        r => panic!("not untagged data: {r:?}"),
    }
}

fn greeting(bytes: &[u8]) -> Greeting {
    match decode_rt(bytes, Expect::Greeting) {
        AnyMessage::Greeting(g) => g,
        m => panic!("not a greeting: {m:?}"),
    }
}

fn strict_rejects(bytes: &[u8], expect: Expect) {
    let r = AnyMessage::decode(
        &Bytes::copy_from_slice(bytes),
        expect,
        &DecodeOptions::strict(),
    );
    assert!(
        r.is_err(),
        "{:?} decodes: {r:?}",
        String::from_utf8_lossy(bytes)
    );
}

fn tagged(tag: &str, status: Status, code: Option<ResponseCode>, text: &str) -> Response {
    Response::Status(StatusResponse::Tagged {
        tag: Tag::try_from(tag).unwrap(),
        status,
        text: rtext(code, text),
    })
}

fn rtext(code: Option<ResponseCode>, text: &str) -> ResponseText {
    ResponseText::new(code, Text::try_from(text).unwrap()).unwrap()
}

fn caps(line: &[u8]) -> Vec<Capability> {
    match data(line) {
        Data::Capability(c) => c,
        d => panic!("not CAPABILITY: {d:?}"),
    }
}

fn atom(s: &str) -> Atom {
    Atom::try_from(s).unwrap()
}

fn is(s: &str) -> IString {
    IString::try_from(s).unwrap()
}

fn mbx(s: &str) -> Mailbox {
    Mailbox::try_from(s).unwrap()
}

fn pat(s: &str) -> ListMailbox {
    ListMailbox::try_from(s).unwrap()
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn uids(ranges: &[(u32, u32)]) -> UidSet {
    UidSet::new(
        ranges
            .iter()
            .map(|&(a, b)| UidRange::from_nonzero(nz(a), nz(b)))
            .collect(),
    )
    .unwrap()
}

fn list_item(attrs: Vec<MailboxAttribute>, delim: u8, mailbox: &str) -> ListItem {
    ListItem {
        attributes: attrs.into(),
        delimiter: Some(Delimiter::new(delim).unwrap()),
        mailbox: mbx(mailbox),
        extended: vec![],
    }
}

fn attrs(v: Vec<FetchAttribute>) -> FetchItems {
    FetchItems::Attributes(FetchAttributes::new(v).unwrap())
}

fn literal(data: &[u8], binary: bool) -> AppendMessage {
    AppendMessage {
        flags: vec![],
        date: None,
        extensions: vec![],
        data: AppendData::Literal {
            data: Bytes::copy_from_slice(data),
            binary,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// LITERAL+ (RFC 2088, the predecessor of RFC 7888) and LITERAL- (RFC 7888)

#[test]
fn literal_plus_rfc2088_and_literal_minus() {
    // RFC 2088 section 4: both literals non-synchronizing.
    assert_eq!(
        body(
            "A001",
            b"A001 LOGIN {11+}\r\nFRED FOOBAR {7+}\r\nfat man\r\n"
        ),
        CommandBody::Login {
            username: is("FRED FOOBAR"),
            password: Secret::new(is("fat man")),
        }
    );
    // LITERAL-: `{n+}` only up to 4096 octets; the form is not part of the value.
    let msg = b"Subject: small\r\n\r\nhi\r\n";
    let mut line = b"A002 APPEND INBOX {22+}\r\n".to_vec();
    line.extend_from_slice(msg);
    line.extend_from_slice(b"\r\n");
    assert_eq!(
        body("A002", &line),
        CommandBody::Append {
            mailbox: Mailbox::Inbox,
            messages: vec![literal(msg, false)],
        }
    );
    assert_eq!(
        caps(b"* CAPABILITY IMAP4rev2 LITERAL- LITERAL+\r\n"),
        vec![
            Capability::Imap4Rev2,
            Capability::LiteralMinus,
            Capability::LiteralPlus
        ]
    );
    assert_eq!(
        resp(b"A001 OK LOGIN completed\r\n"),
        tagged("A001", Status::Ok, None, "LOGIN completed")
    );
}

/// The encoder side of LITERAL-: with `max_non_sync: Some(4096)`, literals up to 4096 octets
/// are sent `{n+}` and longer ones `{n}` (the client waits for `+`); LITERAL+ has no limit.
#[test]
fn literal_minus_encoding() {
    let append = |n: usize| {
        Command::new(
            Tag::try_from("a").unwrap(),
            CommandBody::Append {
                mailbox: Mailbox::Inbox,
                messages: vec![literal(&vec![b'x'; n], false)],
            },
        )
        .unwrap()
    };
    let nonsync = |max| {
        EncodeOptions::default()
            .with_literal_mode(LiteralMode::NonSync)
            .with_max_non_sync(max)
    };
    for (n, max, head, mode) in [
        (
            4096,
            Some(4096),
            "a APPEND INBOX {4096+}\r\n",
            LiteralMode::NonSync,
        ),
        (
            4097,
            Some(4096),
            "a APPEND INBOX {4097}\r\n",
            LiteralMode::Sync,
        ),
        (
            5000,
            None,
            "a APPEND INBOX {5000+}\r\n",
            LiteralMode::NonSync,
        ),
    ] {
        let c = append(n);
        let buf = encode(&c, nonsync(max));
        assert!(
            buf.out.starts_with(head.as_bytes()),
            "{:?}",
            String::from_utf8_lossy(&buf.out[..30])
        );
        assert_eq!(buf.literals.len(), 1);
        assert_eq!(buf.literals[0].mode, mode);
        assert_eq!(buf.literals[0].len, n);
        assert_eq!(cmd(&buf.out), c);
    }
}

// ---------------------------------------------------------------------------------------------
// CHILDREN (RFC 3348 section 4)

#[test]
fn children_rfc3348() {
    assert_eq!(
        body("A001", b"A001 LIST \"\" *\r\n"),
        CommandBody::List {
            selection: None,
            reference: mbx(""),
            patterns: vec![pat("*")],
            return_opts: None,
        }
    );
    assert_eq!(
        data(b"* LIST (\\HasChildren) \"/\" ITEM_1\r\n"),
        Data::List(list_item(
            vec![MailboxAttribute::HasChildren],
            b'/',
            "ITEM_1"
        ))
    );
    assert_eq!(
        data(b"* LIST (\\HasNoChildren) \"/\" ITEM_1/ITEM_1A\r\n"),
        Data::List(list_item(
            vec![MailboxAttribute::HasNoChildren],
            b'/',
            "ITEM_1/ITEM_1A"
        ))
    );
    assert_eq!(
        caps(b"* CAPABILITY CHILDREN\r\n"),
        vec![Capability::Children]
    );
}

// ---------------------------------------------------------------------------------------------
// BINARY (RFC 3516; from the ABNF of section 5 and the prose of 4.3)

#[test]
fn binary_rfc3516() {
    let part = |v: &[u32]| Part::new(&v.iter().map(|&n| nz(n)).collect::<Vec<_>>()).unwrap();
    assert_eq!(
        body(
            "a2",
            b"a2 UID FETCH 17 (BINARY.PEEK[1.2]<0.1024> BINARY[] BINARY.SIZE[1])\r\n"
        ),
        CommandBody::Fetch {
            sequence_set: SequenceSet::single(nz(17)),
            items: attrs(vec![
                FetchAttribute::Binary {
                    section: Some(part(&[1, 2])),
                    partial: Some(Partial {
                        offset: 0,
                        length: NonZeroU64::new(1024).unwrap(),
                    }),
                    peek: true,
                },
                FetchAttribute::Binary {
                    section: None,
                    partial: None,
                    peek: false,
                },
                FetchAttribute::BinarySize {
                    section: Some(part(&[1])),
                },
            ]),
            modifiers: vec![],
            uid: true,
        }
    );
    // APPEND with a literal8 (NUL allowed).
    let bin = b"\x00\x01binary\xffdata\r\n";
    let mut line = format!("a3 APPEND INBOX ~{{{}}}\r\n", bin.len()).into_bytes();
    line.extend_from_slice(bin);
    line.extend_from_slice(b"\r\n");
    assert_eq!(
        body("a3", &line),
        CommandBody::Append {
            mailbox: Mailbox::Inbox,
            messages: vec![literal(bin, true)],
        }
    );

    let mut line = format!("* 1 FETCH (BINARY[1] ~{{{}}}\r\n", bin.len()).into_bytes();
    line.extend_from_slice(bin);
    line.extend_from_slice(b" BINARY.SIZE[1] 15)\r\n");
    assert_eq!(
        data(&line),
        Data::Fetch {
            seq: SeqNum::new(1).unwrap(),
            items: vec![
                MessageDataItem::Binary {
                    section: Some(Box::new(part(&[1]))),
                    origin: None,
                    data: Some(Bytes::copy_from_slice(bin)),
                },
                MessageDataItem::BinarySize {
                    section: Some(part(&[1])),
                    size: 15,
                },
            ]
            .into(),
        }
    );
    // The origin octet of a partial fetch (`BINARY[<section-binary>]<<number>>` in the prose
    // of RFC 3516 §4.3 and RFC 9051 §7.5.2) and NIL.
    assert_eq!(
        data(b"* 2 FETCH (BINARY[1.2]<0> \"abc\" BINARY[3] NIL)\r\n"),
        Data::Fetch {
            seq: SeqNum::new(2).unwrap(),
            items: vec![
                MessageDataItem::Binary {
                    section: Some(Box::new(part(&[1, 2]))),
                    origin: Some(0),
                    data: Some(Bytes::from_static(b"abc")),
                },
                MessageDataItem::Binary {
                    section: Some(Box::new(part(&[3]))),
                    origin: None,
                    data: None,
                },
            ]
            .into(),
        }
    );
    assert_eq!(
        resp(b"a2 NO [UNKNOWN-CTE] cannot decode x-uuencode\r\n"),
        tagged(
            "a2",
            Status::No,
            Some(ResponseCode::UnknownCte),
            "cannot decode x-uuencode"
        )
    );
    assert_eq!(caps(b"* CAPABILITY BINARY\r\n"), vec![Capability::Binary]);
}

// ---------------------------------------------------------------------------------------------
// UTF8=ACCEPT / UTF8=ONLY (RFC 6855; from its ABNF)

#[test]
fn utf8_rfc6855() {
    assert_eq!(
        body("a1", b"a1 ENABLE UTF8=ACCEPT\r\n"),
        CommandBody::Enable(vec![Capability::Utf8Accept])
    );
    let msg = "From: Jöran <j@example.org>\r\nSubject: Grüße\r\n\r\nHallo\r\n".as_bytes();
    let mut line = format!("a3 APPEND INBOX UTF8 (~{{{}}}\r\n", msg.len()).into_bytes();
    line.extend_from_slice(msg);
    line.extend_from_slice(b")\r\n");
    assert_eq!(
        body("a3", &line),
        CommandBody::Append {
            mailbox: Mailbox::Inbox,
            messages: vec![AppendMessage {
                flags: vec![],
                date: None,
                extensions: vec![],
                data: AppendData::Utf8(Bytes::copy_from_slice(msg)),
            }],
        }
    );
    // UTF8 inside CATENATE (RFC 6855 §4 extends cat-part).
    let mut line = format!("a4 APPEND Drafts CATENATE (UTF8 (~{{{}}}\r\n", msg.len()).into_bytes();
    line.extend_from_slice(msg);
    line.extend_from_slice(b"))\r\n");
    assert_eq!(
        body("a4", &line),
        CommandBody::Append {
            mailbox: mbx("Drafts"),
            messages: vec![AppendMessage {
                flags: vec![],
                date: None,
                extensions: vec![],
                data: AppendData::Catenate(vec![CatPart::Utf8(Bytes::copy_from_slice(msg))]),
            }],
        }
    );
    assert_eq!(
        body("a2", "a2 SELECT \"Entwürfe\"\r\n".as_bytes()),
        CommandBody::Select {
            mailbox: mbx("Entwürfe"),
            params: vec![],
        }
    );
    assert_eq!(
        data(b"* ENABLED UTF8=ACCEPT\r\n"),
        Data::Enabled(vec![Capability::Utf8Accept])
    );
    assert_eq!(
        data("* LIST () \"/\" \"Привет\"\r\n".as_bytes()),
        Data::List(list_item(vec![], b'/', "Привет"))
    );
    assert_eq!(
        caps(b"* CAPABILITY UTF8=ACCEPT UTF8=ONLY\r\n"),
        vec![Capability::Utf8Accept, Capability::Utf8Only]
    );
}

// ---------------------------------------------------------------------------------------------
// WITHIN (RFC 5032 section 4)

#[test]
fn within_rfc5032() {
    assert_eq!(
        body("a1", b"a1 SEARCH UNSEEN YOUNGER 259200\r\n"),
        CommandBody::Search {
            return_opts: None,
            charset: None,
            criteria: vec![SearchKey::Unseen, SearchKey::Younger(nz(259200))],
            uid: false,
        }
    );
    assert_eq!(
        body("a2", b"a2 UID SEARCH OLDER 86400\r\n"),
        CommandBody::Search {
            return_opts: None,
            charset: None,
            criteria: vec![SearchKey::Older(nz(86400))],
            uid: true,
        }
    );
    // OLDER/YOUNGER take nz-number.
    strict_rejects(b"a3 SEARCH OLDER 0\r\n", Expect::Command);
    // The RFC writes "S: a1 * SEARCH ..." (typo); the response is "* SEARCH ...".
    assert_eq!(
        data(b"* SEARCH 4 8 15 16 23 42\r\n"),
        Data::Search {
            ids: [4, 8, 15, 16, 23, 42].into_iter().map(nz).collect(),
            modseq: None,
        }
    );
    assert_eq!(caps(b"* CAPABILITY WITHIN\r\n"), vec![Capability::Within]);
}

// ---------------------------------------------------------------------------------------------
// MULTISEARCH (RFC 7377 sections 2 and 4)

#[test]
fn multisearch_rfc7377() {
    assert_eq!(
        body(
            "tag2",
            b"tag2 ESEARCH IN (mailboxes \"folder1\" subtree-one \"folder2\") unseen\r\n"
        ),
        CommandBody::ESearch {
            source: Some(ESearchSource {
                filters: vec![
                    MailboxFilter::Mailboxes(vec![mbx("folder1")]),
                    MailboxFilter::SubtreeOne(vec![mbx("folder2")]),
                ],
                scope_options: vec![],
            }),
            return_opts: None,
            charset: None,
            criteria: vec![SearchKey::Unseen],
        }
    );
    let from_frobozz = |n: u32| CommandBody::ESearch {
        source: None,
        return_opts: None,
        charset: None,
        criteria: vec![
            SearchKey::From(is("frobozz")),
            SearchKey::SequenceSet(SequenceSet::range(nz(n), nz(n + 99))),
        ],
    };
    assert_eq!(
        body("tag1", b"tag1 ESEARCH FROM \"frobozz\" 1:100\r\n"),
        from_frobozz(1)
    );
    // RFC 7377 §2 writes "tag1 UID ESEARCH ...", but its ABNF has no UID form of ESEARCH
    // (esearch = "ESEARCH" ...; the results are always UIDs): an erratum of the RFC.
    strict_rejects(
        b"tag1 UID ESEARCH FROM \"frobozz\" 1:100\r\n",
        Expect::Command,
    );
    assert_eq!(
        data(b"* ESEARCH (TAG \"tag1\" MAILBOX \"folder2/banana\" UIDVALIDITY 503) UID ALL 3002,4004\r\n"),
        Data::ESearch(ESearch {
            correlator: Some(SearchCorrelator {
                tag: is("tag1"),
                mailbox: Some((mbx("folder2/banana"), UidValidity::new(503).unwrap())),
            }),
            uid: true,
            data: vec![SearchReturnData::All(uids(&[(3002, 3002), (4004, 4004)]))],
        })
    );
    assert_eq!(
        data(b"* ESEARCH (TAG \"tag2\" MAILBOX \"folder1\" UIDVALIDITY 1) UID ALL 3001:3004,3788\r\n"),
        Data::ESearch(ESearch {
            correlator: Some(SearchCorrelator {
                tag: is("tag2"),
                mailbox: Some((mbx("folder1"), UidValidity::new(1).unwrap())),
            }),
            uid: true,
            data: vec![SearchReturnData::All(uids(&[(3001, 3004), (3788, 3788)]))],
        })
    );
    assert_eq!(
        caps(b"* CAPABILITY MULTISEARCH\r\n"),
        vec![Capability::MultiSearch]
    );
}

// ---------------------------------------------------------------------------------------------
// LIST-MYRIGHTS (RFC 8440 section 3)

#[test]
fn list_myrights_rfc8440() {
    assert_eq!(
        body("A01", b"A01 LIST \"\" % RETURN (MYRIGHTS)\r\n"),
        CommandBody::List {
            selection: None,
            reference: mbx(""),
            patterns: vec![pat("%")],
            return_opts: Some(vec![ListReturnOption::MyRights]),
        }
    );
    assert_eq!(
        data(b"* MYRIGHTS \"INBOX\" lrswipkxtecda\r\n"),
        Data::MyRights {
            mailbox: Mailbox::Inbox,
            rights: is("lrswipkxtecda"),
        }
    );
    assert_eq!(
        data(b"* LIST () \".\" \"foo\" (CHILDINFO (\"SUBSCRIBED\"))\r\n"),
        Data::List(ListItem {
            extended: vec![ListExtendedItem::ChildInfo(vec![is("SUBSCRIBED")])],
            ..list_item(vec![], b'.', "foo")
        })
    );
    assert_eq!(
        caps(b"* CAPABILITY LIST-MYRIGHTS\r\n"),
        vec![Capability::ListMyRights]
    );
}

// ---------------------------------------------------------------------------------------------
// \Important (RFC 8457 section 3), with SPECIAL-USE / CREATE-SPECIAL-USE (RFC 6154)

#[test]
fn important_rfc8457() {
    assert_eq!(
        body(
            "t1",
            b"t1 CREATE \"Important Messages\" (USE (\\Important))\r\n"
        ),
        CommandBody::Create {
            mailbox: mbx("Important Messages"),
            params: vec![CreateParam::SpecialUse(vec![MailboxAttribute::Important])],
        }
    );
    assert_eq!(
        data(b"* LIST (\\HasNoChildren \\Important) \"/\" \"Important Messages\"\r\n"),
        Data::List(list_item(
            vec![MailboxAttribute::HasNoChildren, MailboxAttribute::Important],
            b'/',
            "Important Messages"
        ))
    );
    assert_eq!(
        resp(b"t1 NO [USEATTR] An \\Important mailbox already exists\r\n"),
        tagged(
            "t1",
            Status::No,
            Some(ResponseCode::UseAttr),
            "An \\Important mailbox already exists"
        )
    );
}

// ---------------------------------------------------------------------------------------------
// REPLACE (RFC 8508 section 4)

#[test]
fn replace_rfc8508() {
    let msg: &[u8] = b"Date: Thu, 1 Jan 2015 00:05:00 -0500 (EST)\r\n\
From: Fritz Schmidt <fritz.ze@example.org>\r\n\
Subject: happy new year !!\r\n\
To: miss.mitzy@example.org\r\n\
Message-Id: <B238822388-0100000@example.org>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\
\r\n\
Just saw the best fireworks show. Wish you were here.\r\n";
    for (line, number, uid) in [
        (
            format!(
                "A003 REPLACE 4 Drafts (\\Seen \\Draft) {{{}}}\r\n",
                msg.len()
            ),
            4,
            false,
        ),
        (
            format!(
                "A003 UID REPLACE 2000 Drafts (\\Seen \\Draft) {{{}}}\r\n",
                msg.len()
            ),
            2000,
            true,
        ),
    ] {
        let mut line = line.into_bytes();
        line.extend_from_slice(msg);
        line.extend_from_slice(b"\r\n");
        assert_eq!(
            body("A003", &line),
            CommandBody::Replace {
                number: nz(number),
                mailbox: mbx("Drafts"),
                message: AppendMessage {
                    flags: vec![Flag::Seen, Flag::Draft],
                    ..literal(msg, false)
                },
                uid,
            }
        );
    }
    // A011: UID REPLACE with CATENATE.
    let text = b"To: Mitzy <miss.mitzy@example.org>\r\nSubject: My view of the fireworks\r\n";
    let mut line = b"A011 UID REPLACE 3002 Drafts CATENATE (TEXT {71}\r\n".to_vec();
    line.extend_from_slice(text);
    line.extend_from_slice(b" URL \"/Drafts/;UID=3002\")\r\n");
    assert_eq!(
        body("A011", &line),
        CommandBody::Replace {
            number: nz(3002),
            mailbox: mbx("Drafts"),
            message: AppendMessage {
                flags: vec![],
                date: None,
                extensions: vec![],
                data: AppendData::Catenate(vec![
                    CatPart::Text {
                        data: Bytes::copy_from_slice(text),
                        binary: false,
                    },
                    CatPart::Url(is("/Drafts/;UID=3002")),
                ]),
            },
            uid: true,
        }
    );
    assert_eq!(
        resp(b"* OK [APPENDUID 1 2000] Replacement Message ready\r\n"),
        Response::Status(StatusResponse::Untagged {
            status: Status::Ok,
            text: rtext(
                Some(ResponseCode::AppendUid {
                    uid_validity: UidValidity::new(1).unwrap(),
                    uids: uids(&[(2000, 2000)]),
                }),
                "Replacement Message ready"
            ),
        })
    );
    assert_eq!(
        data(b"* 4 EXPUNGE\r\n"),
        Data::Expunge(SeqNum::new(4).unwrap())
    );
    assert_eq!(caps(b"* CAPABILITY REPLACE\r\n"), vec![Capability::Replace]);
}

// ---------------------------------------------------------------------------------------------
// MESSAGELIMIT (RFC 9738; its text is not in shared/rfc: capability `MESSAGELIMIT=<n>` and
// response code `MESSAGELIMIT <n>` as published)

#[test]
fn messagelimit_rfc9738() {
    assert_eq!(
        caps(b"* CAPABILITY IMAP4rev2 MESSAGELIMIT=1000\r\n"),
        vec![Capability::Imap4Rev2, Capability::MessageLimit(1000)]
    );
    // Leading zeros are not a number of the grammar: kept as an unknown capability.
    assert!(matches!(
        caps(b"* CAPABILITY MESSAGELIMIT=01\r\n")[..],
        [Capability::Other(_)]
    ));
    assert_eq!(
        resp(b"a1 OK [MESSAGELIMIT 1000] FETCH completed with 1000 partial results\r\n"),
        tagged(
            "a1",
            Status::Ok,
            Some(ResponseCode::MessageLimit(nz(1000))),
            "FETCH completed with 1000 partial results"
        )
    );
    assert_eq!(
        resp(b"a2 NO [MESSAGELIMIT 1000] too many messages\r\n"),
        tagged(
            "a2",
            Status::No,
            Some(ResponseCode::MessageLimit(nz(1000))),
            "too many messages"
        )
    );
    // The extension adds no command; it limits UID FETCH/SEARCH/STORE/COPY/MOVE ranges.
    assert_eq!(
        body("a1", b"a1 UID FETCH 1:* (FLAGS)\r\n"),
        CommandBody::Fetch {
            sequence_set: SequenceSet::new(vec![Sequence::Range(
                SeqOrUid::value(1).unwrap(),
                SeqOrUid::Asterisk
            )])
            .unwrap(),
            items: attrs(vec![FetchAttribute::Flags]),
            modifiers: vec![],
            uid: true,
        }
    );
}

// ---------------------------------------------------------------------------------------------
// UNAUTHENTICATE (RFC 8437; from its ABNF)

#[test]
fn unauthenticate_rfc8437() {
    assert_eq!(
        body("a1", b"a1 UNAUTHENTICATE\r\n"),
        CommandBody::Unauthenticate
    );
    strict_rejects(b"a1 UNAUTHENTICATE now\r\n", Expect::Command);
    assert_eq!(
        resp(b"a1 OK [CAPABILITY IMAP4rev1 UNAUTHENTICATE] unauthenticated\r\n"),
        tagged(
            "a1",
            Status::Ok,
            Some(ResponseCode::Capability(vec![
                Capability::Imap4Rev1,
                Capability::Unauthenticate
            ])),
            "unauthenticated"
        )
    );
}

// ---------------------------------------------------------------------------------------------
// LOGIN-REFERRALS (RFC 2221) and MAILBOX-REFERRALS (RFC 2193); texts not in shared/rfc,
// examples as in those RFCs

#[test]
fn referrals_rfc2221_rfc2193() {
    let referral = |url: &str| ResponseCode::Referral(CodeText::new(url.to_string()).unwrap());
    assert_eq!(
        resp(b"A001 NO [REFERRAL IMAP://user;AUTH=*@SERVER2/] Specified user is invalid on this server. Try SERVER2.\r\n"),
        tagged(
            "A001",
            Status::No,
            Some(referral("IMAP://user;AUTH=*@SERVER2/")),
            "Specified user is invalid on this server. Try SERVER2."
        )
    );
    assert_eq!(
        greeting(b"* BYE [REFERRAL IMAP://user;AUTH=GSSAPI@SERVER2/] Server not accepting connections.  Try SERVER2\r\n"),
        Greeting {
            kind: GreetingKind::Bye,
            text: rtext(
                Some(referral("IMAP://user;AUTH=GSSAPI@SERVER2/")),
                "Server not accepting connections.  Try SERVER2"
            ),
        }
    );
    assert_eq!(
        resp(b"A001 NO [REFERRAL IMAP://user;AUTH=*@SERVER2/SHARED/FOO] Remote mailbox. Try SERVER2.\r\n"),
        tagged(
            "A001",
            Status::No,
            Some(referral("IMAP://user;AUTH=*@SERVER2/SHARED/FOO")),
            "Remote mailbox. Try SERVER2."
        )
    );
    // RLIST / RLSUB (RFC 2193 §4.1, §4.2).
    assert_eq!(
        body("A001", b"A001 RLIST \"\" #news.comp.mail.misc\r\n"),
        CommandBody::RList {
            reference: mbx(""),
            pattern: pat("#news.comp.mail.misc"),
        }
    );
    assert_eq!(
        body("A002", b"A002 RLSUB \"#news.\" \"comp.mail.*\"\r\n"),
        CommandBody::RLsub {
            reference: mbx("#news."),
            pattern: pat("comp.mail.*"),
        }
    );
    assert_eq!(
        caps(b"* CAPABILITY LOGIN-REFERRALS MAILBOX-REFERRALS\r\n"),
        vec![Capability::LoginReferrals, Capability::MailboxReferrals]
    );
}

// ---------------------------------------------------------------------------------------------
// IMAP URLs (RFC 5092) in CATENATE (RFC 4469) and BADURL

#[test]
fn imap_urls_rfc5092_in_catenate() {
    let url = "imap://fred@example.com/INBOX;UIDVALIDITY=385759045/;UID=20/;SECTION=1.2";
    let line = format!(
        "a1 APPEND Drafts CATENATE (URL \"{url}\" URL \"/INBOX/;UID=20/;PARTIAL=0.1024\" TEXT {{2}}\r\nhi)\r\n"
    );
    assert_eq!(
        body("a1", line.as_bytes()),
        CommandBody::Append {
            mailbox: mbx("Drafts"),
            messages: vec![AppendMessage {
                flags: vec![],
                date: None,
                extensions: vec![],
                data: AppendData::Catenate(vec![
                    CatPart::Url(is(url)),
                    CatPart::Url(is("/INBOX/;UID=20/;PARTIAL=0.1024")),
                    CatPart::Text {
                        data: Bytes::from_static(b"hi"),
                        binary: false,
                    },
                ]),
            }],
        }
    );
    assert_eq!(
        resp(format!("a1 NO [BADURL {url}] no such part\r\n").as_bytes()),
        tagged(
            "a1",
            Status::No,
            Some(ResponseCode::BadUrl(
                CodeText::new(url.to_string()).unwrap()
            )),
            "no such part"
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Gmail X-GM-EXT-1 (https://developers.google.com/gmail/imap/imap-extensions)

#[test]
fn gmail_x_gm_ext_1() {
    assert_eq!(
        body(
            "a1",
            b"a1 FETCH 1:4 (X-GM-MSGID X-GM-THRID X-GM-LABELS)\r\n"
        ),
        CommandBody::Fetch {
            sequence_set: SequenceSet::range(nz(1), nz(4)),
            items: attrs(vec![
                FetchAttribute::GmailMsgId,
                FetchAttribute::GmailThrId,
                FetchAttribute::GmailLabels,
            ]),
            modifiers: vec![],
            uid: false,
        }
    );
    let search = |criteria, uid| CommandBody::Search {
        return_opts: None,
        charset: None,
        criteria: vec![criteria],
        uid,
    };
    assert_eq!(
        body(
            "a2",
            b"a2 UID SEARCH X-GM-RAW \"has:attachment in:unread\"\r\n"
        ),
        search(SearchKey::GmailRaw(is("has:attachment in:unread")), true)
    );
    assert_eq!(
        body("a3", b"a3 SEARCH X-GM-MSGID 1278455344230334865\r\n"),
        search(SearchKey::GmailMsgId(1278455344230334865), false)
    );
    assert_eq!(
        body("a4", b"a4 SEARCH X-GM-THRID 1266894439832287888\r\n"),
        search(SearchKey::GmailThrId(1266894439832287888), false)
    );
    assert_eq!(
        body("a5", b"a5 SEARCH X-GM-LABELS foo\r\n"),
        search(SearchKey::GmailLabels(is("foo")), false)
    );
    assert_eq!(
        body(
            "a6",
            b"a6 STORE 1 +X-GM-LABELS (\\Inbox \"Muy Importante\" foo)\r\n"
        ),
        CommandBody::Store {
            sequence_set: SequenceSet::single(nz(1)),
            modifiers: vec![],
            kind: StoreType::Add,
            silent: false,
            data: StoreData::GmailLabels(vec![
                StoreLabel::System(atom("Inbox")),
                StoreLabel::Label(is("Muy Importante")),
                StoreLabel::Label(is("foo")),
            ]),
            uid: false,
        }
    );
    assert_eq!(
        body("a7", b"a7 UID STORE 100 -X-GM-LABELS.SILENT (foo)\r\n"),
        CommandBody::Store {
            sequence_set: SequenceSet::single(nz(100)),
            modifiers: vec![],
            kind: StoreType::Remove,
            silent: true,
            data: StoreData::GmailLabels(vec![StoreLabel::Label(is("foo"))]),
            uid: true,
        }
    );
    assert_eq!(
        data(b"* 1 FETCH (X-GM-THRID 1278455344230334865 X-GM-MSGID 1278455344230334865 X-GM-LABELS (\\Inbox \\Sent Important \"Muy Importante\") UID 7)\r\n"),
        Data::Fetch {
            seq: SeqNum::new(1).unwrap(),
            items: vec![
                MessageDataItem::GmailThrId(1278455344230334865),
                MessageDataItem::GmailMsgId(1278455344230334865),
                MessageDataItem::GmailLabels(vec![
                    GmailLabel::System(atom("Inbox")),
                    GmailLabel::System(atom("Sent")),
                    GmailLabel::Label(is("Important")),
                    GmailLabel::Label(is("Muy Importante")),
                ]),
                MessageDataItem::Uid(Uid::new(7).unwrap()),
            ].into(),
        }
    );
    assert_eq!(
        data(b"* 3 FETCH (X-GM-LABELS ())\r\n"),
        Data::Fetch {
            seq: SeqNum::new(3).unwrap(),
            items: vec![MessageDataItem::GmailLabels(vec![])].into(),
        }
    );
    assert_eq!(
        caps(b"* CAPABILITY IMAP4rev1 X-GM-EXT-1 XLIST\r\n"),
        vec![
            Capability::Imap4Rev1,
            Capability::XGmExt1,
            Capability::XList
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// XLIST (Gmail legacy, superseded by SPECIAL-USE)

#[test]
fn xlist_gmail_legacy() {
    assert_eq!(
        body("a1", b"a1 XLIST \"\" \"*\"\r\n"),
        CommandBody::XList {
            reference: mbx(""),
            pattern: pat("*"),
        }
    );
    assert_eq!(
        data(b"* XLIST (\\HasNoChildren \\AllMail) \"/\" \"[Gmail]/All Mail\"\r\n"),
        Data::XList(list_item(
            vec![
                MailboxAttribute::HasNoChildren,
                MailboxAttribute::Extension(atom("AllMail"))
            ],
            b'/',
            "[Gmail]/All Mail"
        ))
    );
    // XLIST's \Inbox attribute and its localised INBOX name.
    assert_eq!(
        data(b"* XLIST (\\HasNoChildren \\Inbox) \"/\" \"Inbox\"\r\n"),
        Data::XList(list_item(
            vec![
                MailboxAttribute::HasNoChildren,
                MailboxAttribute::Extension(atom("Inbox"))
            ],
            b'/',
            "INBOX"
        ))
    );
    assert_eq!(
        data(b"* XLIST (\\HasNoChildren \\Important) \"/\" \"[Gmail]/Important\"\r\n"),
        Data::XList(list_item(
            vec![MailboxAttribute::HasNoChildren, MailboxAttribute::Important],
            b'/',
            "[Gmail]/Important"
        ))
    );
}

// ---------------------------------------------------------------------------------------------
// JMAPACCESS (RFC 9698; the corpus has its examples, from the draft): the GETJMAPACCESS command
// is typed (the corpus test only checks that it decodes and round-trips).

#[test]
fn jmapaccess_rfc9698() {
    assert_eq!(
        body("1b", b"1b GETJMAPACCESS\r\n"),
        CommandBody::GetJmapAccess
    );
    strict_rejects(b"1b GETJMAPACCESS now\r\n", Expect::Command);
    assert_eq!(
        data(b"* JMAPACCESS \"https://example.com/.well-known/jmap\"\r\n"),
        Data::JmapAccess(is("https://example.com/.well-known/jmap"))
    );
    assert_eq!(
        caps(b"* CAPABILITY JMAPACCESS\r\n"),
        vec![Capability::JmapAccess]
    );
}
