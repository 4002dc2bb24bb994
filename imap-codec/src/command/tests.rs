//! Unit tests of the command codec.

use super::*;
use crate::codec::Message;
use crate::options::DecodeOptions;
use crate::sequence::{SeqOrUid, Sequence};
use proptest::prelude::*;

fn decode(s: &[u8]) -> Result<Command, crate::DecodeError> {
    Command::decode(&Bytes::copy_from_slice(s), &DecodeOptions::strict()).map(|d| d.message)
}

fn enc<T: Encode>(v: &T) -> Vec<u8> {
    let mut b = EncodeBuf::new();
    v.encode(&mut b);
    b.out
}

/// Decodes `s`, compares the body, encodes, and decodes again to the same value.
fn kat(s: &[u8], body: CommandBody) -> Command {
    let c = decode(s).unwrap_or_else(|e| panic!("{e} in {:?}", String::from_utf8_lossy(s)));
    assert_eq!(c.body, body, "{}", String::from_utf8_lossy(s));
    let out = enc(&c);
    let again = decode(&out).unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&out)));
    assert_eq!(again, c);
    c
}

/// Like [`kat`], and the encoding is exactly the input.
fn kat_exact(s: &[u8], body: CommandBody) {
    let c = kat(s, body);
    assert_eq!(
        String::from_utf8_lossy(&enc(&c)),
        String::from_utf8_lossy(s)
    );
}

fn mb(s: &str) -> Mailbox {
    Mailbox::try_from(s).unwrap()
}
fn is(s: &str) -> IString {
    IString::try_from(s).unwrap()
}
fn at(s: &str) -> Atom {
    Atom::try_from(s).unwrap()
}
fn lm(s: &str) -> ListMailbox {
    ListMailbox::try_from(s).unwrap()
}
fn nz(v: u32) -> NonZeroU32 {
    NonZeroU32::new(v).unwrap()
}
fn range(a: u32, b: u32) -> SequenceSet {
    SequenceSet::range(nz(a), nz(b))
}
fn date(y: u16, m: u8, d: u8) -> crate::datetime::Date {
    crate::datetime::Date::new(y, m, d).unwrap()
}
fn cs(s: &str) -> Charset {
    Charset::try_from(s).unwrap()
}

/// Whether the FETCH items implementation can decode its own output (false while
/// `fetch.rs` is a stub).
fn fetch_items_work(items: &FetchItems) -> bool {
    let b = Bytes::from(enc(items));
    let o = DecodeOptions::strict();
    let mut p = Parser::new(&b, &o);
    matches!(FetchItems::parse(&mut p), Ok(ref v) if v == items && p.at_end())
}

fn uses_stubbed_fetch(c: &CommandBody) -> bool {
    match c {
        CommandBody::Fetch { items, .. } => !fetch_items_work(items),
        _ => false,
    }
}

#[test]
fn rfc9051_any_state_and_auth() {
    kat_exact(b"abcd CAPABILITY\r\n", CommandBody::Capability);
    kat_exact(b"a002 NOOP\r\n", CommandBody::Noop);
    kat_exact(b"A023 LOGOUT\r\n", CommandBody::Logout);
    kat_exact(b"a002 STARTTLS\r\n", CommandBody::StartTls);
    kat_exact(
        b"A001 AUTHENTICATE GSSAPI\r\n",
        CommandBody::Authenticate {
            mechanism: AuthMechanism::Gssapi,
            initial_response: None,
        },
    );
    kat_exact(
        b"a001 LOGIN SMITH SESAME\r\n",
        CommandBody::login(is("SMITH"), is("SESAME")),
    );
    kat_exact(
        b"t2 ENABLE CONDSTORE QRESYNC\r\n",
        CommandBody::Enable(vec![
            Capability::parse(&mut Parser::new(
                &Bytes::from_static(b"CONDSTORE"),
                &DecodeOptions::strict(),
            ))
            .unwrap(),
            Capability::parse(&mut Parser::new(
                &Bytes::from_static(b"QRESYNC"),
                &DecodeOptions::strict(),
            ))
            .unwrap(),
        ]),
    );
    // case-insensitive command names
    kat(b"a1 noop\r\n", CommandBody::Noop);
    kat(
        b"a1 login \"fred\" {6}\r\nfoobar\r\n",
        CommandBody::login(is("fred"), is("foobar")),
    );
}

#[test]
fn rfc9051_authenticated() {
    kat_exact(
        b"A142 SELECT INBOX\r\n",
        CommandBody::Select {
            mailbox: Mailbox::Inbox,
            params: vec![],
        },
    );
    kat_exact(
        b"A932 EXAMINE blurdybloop\r\n",
        CommandBody::Examine {
            mailbox: mb("blurdybloop"),
            params: vec![],
        },
    );
    kat_exact(
        b"A003 CREATE owatagusiam/\r\n",
        CommandBody::Create {
            mailbox: mb("owatagusiam/"),
            params: vec![],
        },
    );
    kat_exact(
        b"A682 DELETE blurdybloop\r\n",
        CommandBody::Delete(mb("blurdybloop")),
    );
    kat_exact(
        b"A683 RENAME blurdybloop sarasoop\r\n",
        CommandBody::Rename {
            from: mb("blurdybloop"),
            to: mb("sarasoop"),
        },
    );
    kat_exact(
        b"A002 SUBSCRIBE #news.comp.mail.mime\r\n",
        CommandBody::Subscribe(mb("#news.comp.mail.mime")),
    );
    kat_exact(
        b"A002 UNSUBSCRIBE #news.comp.mail.mime\r\n",
        CommandBody::Unsubscribe(mb("#news.comp.mail.mime")),
    );
    let list = |r: &str, pat: &str| CommandBody::List {
        selection: None,
        reference: mb(r),
        patterns: vec![lm(pat)],
        return_opts: None,
    };
    kat_exact(b"A101 LIST \"\" \"\"\r\n", list("", ""));
    kat_exact(
        b"A102 LIST #news.comp.mail.misc \"\"\r\n",
        list("#news.comp.mail.misc", ""),
    );
    kat_exact(b"A202 LIST ~/Mail/ %\r\n", list("~/Mail/", "%"));
    kat(b"A202 LIST ~/Mail/ \"%\"\r\n", list("~/Mail/", "%"));
    kat_exact(b"A002 NAMESPACE\r\n", CommandBody::Namespace);
    kat_exact(
        b"A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n",
        CommandBody::Status {
            mailbox: mb("blurdybloop"),
            attributes: vec![StatusAttribute::UidNext, StatusAttribute::Messages],
        },
    );
    let msg = b"Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\nSubject: afternoon meeting\r\n\r\nHello Joe\r\n";
    let mut s = format!("A003 APPEND saved-messages (\\Seen) {{{}}}\r\n", msg.len()).into_bytes();
    s.extend_from_slice(msg);
    s.extend_from_slice(b"\r\n");
    let c = kat(
        &s,
        CommandBody::Append {
            mailbox: mb("saved-messages"),
            messages: vec![AppendMessage {
                flags: vec![Flag::Seen],
                ..AppendMessage::literal(Bytes::from_static(msg))
            }],
        },
    );
    assert_eq!(enc(&c), s);
    kat_exact(b"a1 IDLE\r\n", CommandBody::Idle);
    kat_exact(
        b"A003 APPEND Drafts (\\Seen) \"07-Feb-1994 21:52:25 -0800\" {5}\r\nhello\r\n",
        CommandBody::Append {
            mailbox: mb("Drafts"),
            messages: vec![AppendMessage {
                flags: vec![Flag::Seen],
                date: Some(DateTime::new(date(1994, 2, 7), 21, 52, 25, -480).unwrap()),
                extensions: vec![],
                data: AppendData::Literal {
                    data: Bytes::from_static(b"hello"),
                    binary: false,
                },
            }],
        },
    );
}

#[test]
fn append_literal_is_a_slice_of_the_input() {
    let input = Bytes::from_static(b"a APPEND INBOX {5}\r\nhello\r\n");
    let c = Command::decode(&input, &DecodeOptions::strict())
        .unwrap()
        .message;
    let CommandBody::Append { messages, .. } = c.body else {
        panic!()
    };
    let AppendData::Literal { data, .. } = &messages[0].data else {
        panic!()
    };
    let start = input.as_ptr() as usize;
    let p = data.as_ptr() as usize;
    assert!(p >= start && p < start + input.len());
}

#[test]
fn rfc9051_selected() {
    kat_exact(b"A341 CLOSE\r\n", CommandBody::Close);
    kat_exact(b"A342 UNSELECT\r\n", CommandBody::Unselect);
    kat_exact(b"A202 EXPUNGE\r\n", CommandBody::Expunge);
    kat_exact(
        b"A003 UID EXPUNGE 3000:3002\r\n",
        CommandBody::UidExpunge(range(3000, 3002)),
    );
    let not_from = SearchKey::Not(Box::new(SearchKey::From(is("Smith"))));
    kat(
        b"A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
        CommandBody::Search {
            return_opts: Some(vec![SearchReturnOption::Min, SearchReturnOption::Count]),
            charset: None,
            criteria: vec![
                SearchKey::Flagged,
                SearchKey::Since(date(1994, 2, 1)),
                not_from.clone(),
            ],
            uid: false,
        },
    );
    kat(
        b"A283 SEARCH RETURN () FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
        CommandBody::Search {
            return_opts: Some(vec![]),
            charset: None,
            criteria: vec![
                SearchKey::Flagged,
                SearchKey::Since(date(1994, 2, 1)),
                not_from,
            ],
            uid: false,
        },
    );
    kat_exact(
        b"A284 SEARCH TEXT \"string not in mailbox\"\r\n",
        CommandBody::Search {
            return_opts: None,
            charset: None,
            criteria: vec![SearchKey::Text(is("string not in mailbox"))],
            uid: false,
        },
    );
    kat(
        b"A285 SEARCH CHARSET UTF-8 TEXT {12}\r\n\xd0\x9b\xd0\xb5\xd0\xb1\xd0\xb5\xd0\xb4\xd1\x8c\r\n",
        CommandBody::Search {
            return_opts: None,
            charset: Some(cs("UTF-8")),
            criteria: vec![SearchKey::Text(is("Лебедь"))],
            uid: false,
        },
    );
    kat_exact(
        b"A003 STORE 2:4 +FLAGS (\\Deleted)\r\n",
        CommandBody::Store {
            sequence_set: range(2, 4),
            modifiers: vec![],
            kind: StoreType::Add,
            silent: false,
            data: StoreData::Flags(vec![Flag::Deleted].into()),
            uid: false,
        },
    );
    kat(
        b"A003 STORE 2:4 -flags.silent \\Deleted \\Seen\r\n",
        CommandBody::Store {
            sequence_set: range(2, 4),
            modifiers: vec![],
            kind: StoreType::Remove,
            silent: true,
            data: StoreData::Flags(vec![Flag::Deleted, Flag::Seen].into()),
            uid: false,
        },
    );
    kat_exact(
        b"A003 COPY 2:4 MEETING\r\n",
        CommandBody::Copy {
            sequence_set: range(2, 4),
            mailbox: mb("MEETING"),
            uid: false,
        },
    );
    kat_exact(
        b"a UID MOVE 42:69 foo\r\n",
        CommandBody::Move {
            sequence_set: range(42, 69),
            mailbox: mb("foo"),
            uid: true,
        },
    );
    kat_exact(
        b"A004 UID COPY 4827313:4828442 MEETING\r\n",
        CommandBody::Copy {
            sequence_set: range(4827313, 4828442),
            mailbox: mb("MEETING"),
            uid: true,
        },
    );
}

#[test]
fn fetch_encoding_and_decoding() {
    let c = Command {
        tag: Tag::try_from("A654").unwrap(),
        body: CommandBody::Fetch {
            sequence_set: range(2, 4),
            items: FetchItems::All,
            modifiers: vec![
                FetchModifier::ChangedSince(12345),
                FetchModifier::Vanished,
                FetchModifier::Partial(PartialRange::Last(nz(1), nz(3))),
            ],
            uid: true,
        },
    };
    assert_eq!(
        enc(&c),
        b"A654 UID FETCH 2:4 ALL (CHANGEDSINCE 12345 VANISHED PARTIAL -1:-3)\r\n"
    );
    let u = CommandBody::Search {
        return_opts: Some(vec![
            SearchReturnOption::Count,
            SearchReturnOption::UpdateFetch(FetchItems::All),
        ]),
        charset: None,
        criteria: vec![SearchKey::From(is("boss"))],
        uid: false,
    };
    let e = enc(&u);
    assert!(e.starts_with(b"SEARCH RETURN (COUNT UPDATE ("), "{e:?}");
    assert!(e.ends_with(b")) FROM boss"), "{e:?}");
    let n = CommandBody::Notify(Notify::Set {
        status: false,
        groups: vec![EventGroup {
            filter: MailboxFilter::Selected,
            events: vec![NotifyEvent::MessageNew(Some(FetchItems::All))],
        }],
    });
    assert!(enc(&n).starts_with(b"NOTIFY SET (selected (MessageNew ("));
    if fetch_items_work(&FetchItems::All) {
        assert_eq!(decode(&enc(&c)).unwrap(), c);
        for s in [
            &b"a00 SEARCH RETURN (COUNT UPDATE (UID BODY[HEADER.FIELDS (TO FROM SUBJECT)])) FROM \"boss\"\r\n"[..],
            b"a notify set (selected (Messagenew (uid flags) messageExpunge))\r\n",
            b"10 UID FETCH 25900:26600 (UID FLAGS) (PARTIAL -1:-3)\r\n",
        ] {
            let c = decode(s).unwrap();
            assert_eq!(decode(&enc(&c)).unwrap(), c);
        }
        let c = decode(b"s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)\r\n").unwrap();
        assert!(matches!(c.body, CommandBody::Fetch { uid: true, .. }));
    }
}

/// More RFC 9051 examples: decode, re-encode, decode again.
#[test]
fn rfc9051_more_examples() {
    for s in [
        &b"t2 ENABLE CONDSTORE X-GOOD-IDEA\r\n"[..],
        b"A01 AUTHENTICATE PLAIN\r\n",
        b"A143 SELECT Drafts\r\n",
        b"A005 CREATE NonNormalized\r\n",
        b"A002 CREATE \"INBOX.Sent Mail\"\r\n",
        b"Z433 RENAME INBOX old-mail\r\n",
        b"1001 RENAME X Y\r\n",
        b"A003 LIST (SPECIAL-USE) \"#mh/\" \"*\"\r\n",
        b"D03 LIST (RECURSIVEMATCH SUBSCRIBED) \"\" \"*2\"\r\n",
        b"a1 LIST \"\" (\"foo\")\r\n",
        b"a3 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" foo RETURN (CHILDREN)\r\n",
        b"A02 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (STATUS (MESSAGES))\r\n",
        b"A002 LIST \"\" \"~mark/%\"\r\n",
        b"A003 APPEND saved-messages (\\Seen) {5+}\r\nHello\r\n",
        b"A005 UID COPY 305:310 meeting\r\n",
        b"A285 UID SEARCH RETURN (MIN MAX) 1:5000\r\n",
        b"A286 SEARCH RETURN (COUNT) DELETED\r\n",
        b"A301 UID SEARCH UID $ SMALLER 4096\r\n",
        b"A301 UID SEARCH $ SMALLER 4096\r\n",
        b"P283 SEARCH CHARSET UTF-8 (OR $ 1,3000:3021) TEXT {8+}\r\nmy\xc3\xa9 txt\r\n",
        b"C286 SEARCH RETURN (MAX SAVE MIN COUNT) SINCE 12-Feb-2006\r\n",
        b"F284 STORE $ +FLAGS.SILENT (\\Deleted)\r\n",
        b"F283 COPY $ Archive\r\n",
        b"m STORE 1:* +FLAGS (\\Seen)\r\n",
    ] {
        let c = decode(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            decode(&enc(&c)).unwrap(),
            c,
            "{}",
            String::from_utf8_lossy(s)
        );
    }
    kat_exact(
        b"FRED FOOBAR\r\n",
        CommandBody::Other {
            name: at("FOOBAR"),
            raw: Bytes::new(),
        },
    );
    kat(
        b"P283 SEARCH CHARSET UTF-8 (OR $ 1,3000:3021) TEXT {4+}\r\ntext\r\n",
        CommandBody::Search {
            return_opts: None,
            charset: Some(cs("UTF-8")),
            criteria: vec![
                SearchKey::And(vec![SearchKey::or(
                    SearchKey::SequenceSet(SequenceSet::LastResult),
                    SearchKey::SequenceSet(SequenceSet::Set(
                        vec![
                            Sequence::Single(SeqOrUid::Value(nz(1))),
                            Sequence::Range(SeqOrUid::Value(nz(3000)), SeqOrUid::Value(nz(3021))),
                        ]
                        .into(),
                    )),
                )]),
                SearchKey::Text(is("text")),
            ],
            uid: false,
        },
    );
}

#[test]
fn rfc3501_rev1_commands() {
    kat_exact(b"FXXZ CHECK\r\n", CommandBody::Check);
    kat(
        b"A002 LSUB \"#news.\" \"comp.mail.*\"\r\n",
        CommandBody::Lsub {
            reference: mb("#news."),
            pattern: lm("comp.mail.*"),
        },
    );
    kat(
        b"A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
        CommandBody::Search {
            return_opts: None,
            charset: None,
            criteria: vec![
                SearchKey::Flagged,
                SearchKey::Since(date(1994, 2, 1)),
                SearchKey::Not(Box::new(SearchKey::From(is("Smith")))),
            ],
            uid: false,
        },
    );
    kat(
        b"A285 SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX\r\n",
        CommandBody::Search {
            return_opts: None,
            charset: Some(cs("UTF-8")),
            criteria: vec![SearchKey::Text(is("XXXXXX"))],
            uid: false,
        },
    );
    kat(
        b"A1 SEARCH NEW OLD RECENT OR UNSEEN (DRAFT UNDRAFT) 1:3,4 UID * HEADER X-Foo bar\r\n",
        CommandBody::Search {
            return_opts: None,
            charset: None,
            criteria: vec![
                SearchKey::New,
                SearchKey::Old,
                SearchKey::Recent,
                SearchKey::or(
                    SearchKey::Unseen,
                    SearchKey::And(vec![SearchKey::Draft, SearchKey::Undraft]),
                ),
                SearchKey::SequenceSet(SequenceSet::Set(
                    vec![
                        Sequence::Range(SeqOrUid::Value(nz(1)), SeqOrUid::Value(nz(3))),
                        Sequence::Single(SeqOrUid::Value(nz(4))),
                    ]
                    .into(),
                )),
                SearchKey::Uid(SequenceSet::Set(
                    vec![Sequence::Single(SeqOrUid::Asterisk)].into(),
                )),
                SearchKey::Header(is("X-Foo"), is("bar")),
            ],
            uid: false,
        },
    );
}

#[test]
fn extension_examples() {
    // SASL-IR (RFC 4959)
    kat_exact(
        b"a01 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n",
        CommandBody::Authenticate {
            mechanism: AuthMechanism::Plain,
            initial_response: Some(Secret::new(Bytes::from_static(b"test\0test\0test"))),
        },
    );
    kat_exact(
        b"a02 AUTHENTICATE EXTERNAL =\r\n",
        CommandBody::Authenticate {
            mechanism: AuthMechanism::External,
            initial_response: Some(Secret::new(Bytes::new())),
        },
    );
    // CONDSTORE / QRESYNC (RFC 7162)
    kat_exact(
        b"a SELECT INBOX (CONDSTORE)\r\n",
        CommandBody::Select {
            mailbox: Mailbox::Inbox,
            params: vec![SelectParam::CondStore],
        },
    );
    let qr = kat(
        b"A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n",
        CommandBody::Select {
            mailbox: Mailbox::Inbox,
            params: vec![SelectParam::QResync {
                uidvalidity: UidValidity::new(67890007).unwrap(),
                modseq: 20050715194045000,
                known_uids: Some(SequenceSet::Set(
                    vec![
                        Sequence::Single(SeqOrUid::Value(nz(41))),
                        Sequence::Range(SeqOrUid::Value(nz(43)), SeqOrUid::Value(nz(211))),
                        Sequence::Range(SeqOrUid::Value(nz(214)), SeqOrUid::Value(nz(541))),
                    ]
                    .into(),
                )),
                seq_match_data: None,
            }],
        },
    );
    assert_eq!(
        enc(&qr),
        b"A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n"
    );
    let c = decode(
        b"B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))\r\n",
    )
    .unwrap();
    assert!(matches!(
        &c.body,
        CommandBody::Select { params, .. } if matches!(&params[0], SelectParam::QResync { seq_match_data: Some(_), known_uids: Some(_), .. })
    ));
    assert_eq!(decode(&enc(&c)).unwrap(), c);
    kat_exact(
        b"a103 UID STORE 6,4,8 (UNCHANGEDSINCE 12121230045) +FLAGS.SILENT (\\Deleted)\r\n",
        CommandBody::Store {
            sequence_set: SequenceSet::Set(
                vec![
                    Sequence::Single(SeqOrUid::Value(nz(6))),
                    Sequence::Single(SeqOrUid::Value(nz(4))),
                    Sequence::Single(SeqOrUid::Value(nz(8))),
                ]
                .into(),
            ),
            modifiers: vec![StoreModifier::UnchangedSince(12121230045)],
            kind: StoreType::Add,
            silent: true,
            data: StoreData::Flags(vec![Flag::Deleted].into()),
            uid: true,
        },
    );
    assert!(decode(b"a SELECT INBOX (QRESYNC (1 0))\r\n").is_err());
    // SPECIAL-USE (RFC 6154)
    kat_exact(
        b"t2 CREATE MySpecial (USE (\\Drafts \\Sent))\r\n",
        CommandBody::Create {
            mailbox: mb("MySpecial"),
            params: vec![CreateParam::SpecialUse(vec![
                MailboxAttribute::Drafts,
                MailboxAttribute::Sent,
            ])],
        },
    );
    kat_exact(
        b"t3 LIST (SPECIAL-USE) \"\" *\r\n",
        CommandBody::List {
            selection: Some(vec![ListSelectOption::SpecialUse]),
            reference: mb(""),
            patterns: vec![lm("*")],
            return_opts: None,
        },
    );
    // LIST-EXTENDED (RFC 5258)
    kat_exact(
        b"A03 LIST () \"\" % RETURN (CHILDREN)\r\n",
        CommandBody::List {
            selection: Some(vec![]),
            reference: mb(""),
            patterns: vec![lm("%")],
            return_opts: Some(vec![ListReturnOption::Children]),
        },
    );
    kat(
        b"BBB LIST \"\" (\"INBOX\" \"Drafts\" \"Sent/%\")\r\n",
        CommandBody::List {
            selection: None,
            reference: mb(""),
            patterns: vec![lm("INBOX"), lm("Drafts"), lm("Sent/%")],
            return_opts: None,
        },
    );
    kat(
        b"C04 LIST (SUBSCRIBED RECURSIVEMATCH REMOTE) \"\" \"%\" RETURN (SUBSCRIBED)\r\n",
        CommandBody::List {
            selection: Some(vec![
                ListSelectOption::Subscribed,
                ListSelectOption::RecursiveMatch,
                ListSelectOption::Remote,
            ]),
            reference: mb(""),
            patterns: vec![lm("%")],
            return_opts: Some(vec![ListReturnOption::Subscribed]),
        },
    );
    // LIST-STATUS (RFC 5819), LIST-MYRIGHTS (RFC 8440), LIST-METADATA (RFC 9590)
    kat_exact(
        b"A01 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN) MYRIGHTS SPECIAL-USE)\r\n",
        CommandBody::List {
            selection: None,
            reference: mb(""),
            patterns: vec![lm("%")],
            return_opts: Some(vec![
                ListReturnOption::Status(vec![StatusAttribute::Messages, StatusAttribute::Unseen]),
                ListReturnOption::MyRights,
                ListReturnOption::SpecialUse,
            ]),
        },
    );
    kat(
        b"A01 LIST \"\" % RETURN (METADATA (\"/shared/vendor/cmu/cyrus-imapd/color\"))\r\n",
        CommandBody::List {
            selection: None,
            reference: mb(""),
            patterns: vec![lm("%")],
            return_opts: Some(vec![ListReturnOption::Metadata(vec![is(
                "/shared/vendor/cmu/cyrus-imapd/color",
            )])]),
        },
    );
    // MULTIAPPEND (RFC 3502)
    kat(
        b"A003 APPEND saved-messages (\\Seen) {3}\r\nabc (\\Seen) \" 7-Feb-1994 22:43:04 -0800\" {2}\r\nde\r\n",
        CommandBody::Append {
            mailbox: mb("saved-messages"),
            messages: vec![
                AppendMessage {
                    flags: vec![Flag::Seen],
                    ..AppendMessage::literal(Bytes::from_static(b"abc"))
                },
                AppendMessage {
                    flags: vec![Flag::Seen],
                    date: Some(DateTime::new(date(1994, 2, 7), 22, 43, 4, -480).unwrap()),
                    ..AppendMessage::literal(Bytes::from_static(b"de"))
                },
            ],
        },
    );
    // CATENATE (RFC 4469)
    kat(
        b"A003 APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER\" TEXT {4}\r\n\r\n\r\n URL \"/Drafts;UIDVALIDITY=385759045/;UID=30\")\r\n",
        CommandBody::Append {
            mailbox: mb("Drafts"),
            messages: vec![AppendMessage {
                flags: vec![Flag::Seen, Flag::Draft, Flag::Keyword(at("$MDNSent"))],
                date: None,
                extensions: vec![],
                data: AppendData::Catenate(vec![
                    CatPart::Url(is("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER")),
                    CatPart::Text {
                        data: Bytes::from_static(b"\r\n\r\n"),
                        binary: false,
                    },
                    CatPart::Url(is("/Drafts;UIDVALIDITY=385759045/;UID=30")),
                ]),
            }],
        },
    );
    // UTF8=ACCEPT (RFC 6855) and BINARY (RFC 3516)
    kat_exact(
        b"A APPEND INBOX UTF8 (~{5}\r\nh\xc3\xa9lo)\r\n",
        CommandBody::Append {
            mailbox: Mailbox::Inbox,
            messages: vec![AppendMessage {
                data: AppendData::Utf8(Bytes::from_static(b"h\xc3\xa9lo")),
                ..AppendMessage::literal(Bytes::new())
            }],
        },
    );
    kat_exact(
        b"A APPEND INBOX ~{3}\r\na\0b\r\n",
        CommandBody::Append {
            mailbox: Mailbox::Inbox,
            messages: vec![AppendMessage::literal(Bytes::from_static(b"a\0b"))],
        },
    );
    assert!(decode(b"A APPEND INBOX {3}\r\na\0b\r\n").is_err());
    // ESEARCH/CONTEXT/PARTIAL (RFC 4731, 5267, 9394)
    kat_exact(
        b"A01 UID SEARCH RETURN (PARTIAL -1:-100) UNDELETED\r\n",
        CommandBody::Search {
            return_opts: Some(vec![SearchReturnOption::Partial(PartialRange::Last(
                nz(1),
                nz(100),
            ))]),
            charset: None,
            criteria: vec![SearchKey::Undeleted],
            uid: true,
        },
    );
    kat_exact(
        b"B01 UID SEARCH RETURN (UPDATE CONTEXT SAVE ALL MAX PARTIAL 1:500) DELETED\r\n",
        CommandBody::Search {
            return_opts: Some(vec![
                SearchReturnOption::Update,
                SearchReturnOption::Context,
                SearchReturnOption::Save,
                SearchReturnOption::All,
                SearchReturnOption::Max,
                SearchReturnOption::Partial(PartialRange::First(nz(1), nz(500))),
            ]),
            charset: None,
            criteria: vec![SearchKey::Deleted],
            uid: true,
        },
    );
    kat_exact(
        b"B04 CANCELUPDATE \"B01\" \"B02\"\r\n",
        CommandBody::CancelUpdate(vec![
            Tag::try_from("B01").unwrap(),
            Tag::try_from("B02").unwrap(),
        ]),
    );
    // ID (RFC 2971)
    kat_exact(
        b"a023 ID (\"name\" \"sodr\" \"version\" \"19.34\" \"vendor\" \"Pink Floyd Music Limited\" \"os\" NIL)\r\n",
        CommandBody::Id(Some(vec![
            (is("name"), Some(is("sodr"))),
            (is("version"), Some(is("19.34"))),
            (is("vendor"), Some(is("Pink Floyd Music Limited"))),
            (is("os"), None),
        ])),
    );
    kat_exact(b"a ID NIL\r\n", CommandBody::Id(None));
    // QUOTA (RFC 9208)
    kat(
        b"G0001 GETQUOTA \"!partition/sda4\"\r\n",
        CommandBody::GetQuota(is("!partition/sda4")),
    );
    kat_exact(
        b"G0002 GETQUOTAROOT INBOX\r\n",
        CommandBody::GetQuotaRoot(Mailbox::Inbox),
    );
    kat_exact(
        b"S0000 SETQUOTA #user/alice (STORAGE 510 MESSAGE 1000 X-THING 5)\r\n",
        CommandBody::SetQuota {
            root: is("#user/alice"),
            limits: vec![
                QuotaLimit {
                    resource: QuotaResourceName::Storage,
                    limit: 510,
                },
                QuotaLimit {
                    resource: QuotaResourceName::Message,
                    limit: 1000,
                },
                QuotaLimit {
                    resource: QuotaResourceName::Other(at("X-THING")),
                    limit: 5,
                },
            ],
        },
    );
    // ACL (RFC 4314)
    kat_exact(
        b"A001 GETACL INBOX\r\n",
        CommandBody::GetAcl(Mailbox::Inbox),
    );
    kat_exact(
        b"A002 SETACL INBOX/Drafts Chris +cda\r\n",
        CommandBody::SetAcl {
            mailbox: mb("INBOX/Drafts"),
            identifier: is("Chris"),
            modification: AclModification::Add,
            rights: is("cda"),
        },
    );
    kat_exact(
        b"A035 SETACL INBOX/Drafts John lrQswicda\r\n",
        CommandBody::SetAcl {
            mailbox: mb("INBOX/Drafts"),
            identifier: is("John"),
            modification: AclModification::Replace,
            rights: is("lrQswicda"),
        },
    );
    kat_exact(
        b"A003 DELETEACL ~/Mail/saved smith\r\n",
        CommandBody::DeleteAcl {
            mailbox: mb("~/Mail/saved"),
            identifier: is("smith"),
        },
    );
    kat_exact(
        b"a LISTRIGHTS ~/Mail/saved smith\r\n",
        CommandBody::ListRights {
            mailbox: mb("~/Mail/saved"),
            identifier: is("smith"),
        },
    );
    kat_exact(
        b"A003 MYRIGHTS INBOX\r\n",
        CommandBody::MyRights(Mailbox::Inbox),
    );
    // METADATA (RFC 5464)
    kat(
        b"a GETMETADATA \"\" /shared/comment\r\n",
        CommandBody::GetMetadata {
            options: vec![],
            mailbox: mb(""),
            entries: vec![is("/shared/comment")],
        },
    );
    kat_exact(
        b"a GETMETADATA (MAXSIZE 1024 DEPTH infinity) INBOX (/shared/comment /private/comment)\r\n",
        CommandBody::GetMetadata {
            options: vec![
                GetMetadataOption::MaxSize(1024),
                GetMetadataOption::Depth(MetadataDepth::Infinity),
            ],
            mailbox: Mailbox::Inbox,
            entries: vec![is("/shared/comment"), is("/private/comment")],
        },
    );
    kat(
        b"a SETMETADATA INBOX (/private/comment {9}\r\nMy commnt /shared/x NIL /shared/b ~{2}\r\n\0\x01)\r\n",
        CommandBody::SetMetadata {
            mailbox: Mailbox::Inbox,
            entries: vec![
                (is("/private/comment"), Some(Bytes::from_static(b"My commnt"))),
                (is("/shared/x"), None),
                (is("/shared/b"), Some(Bytes::from_static(b"\0\x01"))),
            ],
        },
    );
    // NOTIFY (RFC 5465)
    kat(
        b"a notify set (mailboxes INBOX (Messagenew messageExpunge))\r\n",
        CommandBody::Notify(Notify::Set {
            status: false,
            groups: vec![EventGroup {
                filter: MailboxFilter::Mailboxes(vec![Mailbox::Inbox]),
                events: vec![NotifyEvent::MessageNew(None), NotifyEvent::MessageExpunge],
            }],
        }),
    );
    kat_exact(
        b"b NOTIFY SET STATUS (selected (MessageNew MessageExpunge FlagChange)) (subtree (Lists Other) NONE)\r\n",
        CommandBody::Notify(Notify::Set {
            status: true,
            groups: vec![
                EventGroup {
                    filter: MailboxFilter::Selected,
                    events: vec![
                        NotifyEvent::MessageNew(None),
                        NotifyEvent::MessageExpunge,
                        NotifyEvent::FlagChange,
                    ],
                },
                EventGroup {
                    filter: MailboxFilter::Subtree(vec![mb("Lists"), mb("Other")]),
                    events: vec![],
                },
            ],
        }),
    );
    kat_exact(b"c NOTIFY NONE\r\n", CommandBody::Notify(Notify::None));
    // SORT / THREAD (RFC 5256), DISPLAY (RFC 5957), ESORT (RFC 5267)
    let sc = |reverse, key| SortCriterion { reverse, key };
    kat_exact(
        b"A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL\r\n",
        CommandBody::Sort {
            return_opts: None,
            criteria: vec![
                sc(false, crate::search::SortKey::Subject),
                sc(true, crate::search::SortKey::Date),
            ],
            charset: cs("UTF-8"),
            search: vec![SearchKey::All],
            uid: false,
        },
    );
    kat_exact(
        b"A01 UID SORT RETURN (MIN) (DISPLAYFROM) UTF-8 UNDELETED UNKEYWORD $Junk\r\n",
        CommandBody::Sort {
            return_opts: Some(vec![SearchReturnOption::Min]),
            criteria: vec![sc(false, crate::search::SortKey::DisplayFrom)],
            charset: cs("UTF-8"),
            search: vec![SearchKey::Undeleted, SearchKey::Unkeyword(at("$Junk"))],
            uid: true,
        },
    );
    kat(
        b"A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000\r\n",
        CommandBody::Thread {
            algorithm: ThreadAlgorithm::OrderedSubject,
            charset: cs("UTF-8"),
            search: vec![SearchKey::Since(date(2000, 3, 5))],
            uid: false,
        },
    );
    kat_exact(
        b"A284 THREAD REFERENCES US-ASCII TEXT gewp\r\n",
        CommandBody::Thread {
            algorithm: ThreadAlgorithm::References,
            charset: cs("US-ASCII"),
            search: vec![SearchKey::Text(is("gewp"))],
            uid: false,
        },
    );
    // MULTISEARCH (RFC 7377)
    kat(
        b"tag1 ESEARCH IN (mailboxes \"folder1\" subtree-one \"folder2\") subject \"chad\"\r\n",
        CommandBody::ESearch {
            source: Some(ESearchSource {
                filters: vec![
                    MailboxFilter::Mailboxes(vec![mb("folder1")]),
                    MailboxFilter::SubtreeOne(vec![mb("folder2")]),
                ],
                scope_options: vec![],
            }),
            return_opts: None,
            charset: None,
            criteria: vec![SearchKey::Subject(is("chad"))],
        },
    );
    kat_exact(
        b"t ESEARCH IN (personal (X-Q 5)) RETURN (COUNT) CHARSET UTF-8 ALL\r\n",
        CommandBody::ESearch {
            source: Some(ESearchSource {
                filters: vec![MailboxFilter::Personal],
                scope_options: vec![(at("X-Q"), Some(TaggedExtVal::Number(5)))],
            }),
            return_opts: Some(vec![SearchReturnOption::Count]),
            charset: Some(cs("UTF-8")),
            criteria: vec![SearchKey::All],
        },
    );
    // REPLACE (RFC 8508)
    kat_exact(
        b"A003 REPLACE 4 Drafts (\\Seen \\Draft) {3}\r\nabc\r\n",
        CommandBody::Replace {
            number: nz(4),
            mailbox: mb("Drafts"),
            message: AppendMessage {
                flags: vec![Flag::Seen, Flag::Draft],
                ..AppendMessage::literal(Bytes::from_static(b"abc"))
            },
            uid: false,
        },
    );
    kat_exact(
        b"A004 UID REPLACE 2000 Drafts {3}\r\nabc\r\n",
        CommandBody::Replace {
            number: nz(2000),
            mailbox: mb("Drafts"),
            message: AppendMessage::literal(Bytes::from_static(b"abc")),
            uid: true,
        },
    );
    // UNAUTHENTICATE (RFC 8437), COMPRESS (RFC 4978), XLIST, X-GM-LABELS
    kat_exact(b"a UNAUTHENTICATE\r\n", CommandBody::Unauthenticate);
    kat_exact(
        b"a COMPRESS DEFLATE\r\n",
        CommandBody::Compress(at("DEFLATE")),
    );
    kat_exact(
        b"a XLIST \"\" *\r\n",
        CommandBody::XList {
            reference: mb(""),
            pattern: lm("*"),
        },
    );
    kat_exact(
        b"a011 STORE 1 +X-GM-LABELS (\\Inbox \"My label\" foo)\r\n",
        CommandBody::Store {
            sequence_set: SequenceSet::single(nz(1)),
            modifiers: vec![],
            kind: StoreType::Add,
            silent: false,
            data: StoreData::GmailLabels(vec![
                GmailLabel::System(at("Inbox")),
                GmailLabel::Label(is("My label")),
                GmailLabel::Label(is("foo")),
            ]),
            uid: false,
        },
    );
    kat_exact(
        b"a SEARCH X-GM-RAW \"has:attachment in:unread\"\r\n",
        CommandBody::Search {
            return_opts: None,
            charset: None,
            criteria: vec![SearchKey::GmailRaw(is("has:attachment in:unread"))],
            uid: false,
        },
    );
    // URLAUTH (RFC 4467)
    kat(
        b"a GENURLAUTH \"imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred\" INTERNAL\r\n",
        CommandBody::GenUrlAuth(vec![(
            is("imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred"),
            at("INTERNAL"),
        )]),
    );
    kat_exact(b"a RESETKEY\r\n", CommandBody::ResetKey(None));
    kat_exact(
        b"a RESETKEY INBOX INTERNAL\r\n",
        CommandBody::ResetKey(Some((Mailbox::Inbox, vec![at("INTERNAL")]))),
    );
    kat(
        b"a URLFETCH \"imap://joe@example.com/INBOX/;uid=20\"\r\n",
        CommandBody::UrlFetch(vec![is("imap://joe@example.com/INBOX/;uid=20")]),
    );
    // generic select parameters (RFC 4466)
    kat_exact(
        b"a EXAMINE INBOX (X-Q1 (a (b c) \"d e\") X-Q2 1:5 X-Q3 7 X-Q4)\r\n",
        CommandBody::Examine {
            mailbox: Mailbox::Inbox,
            params: vec![
                SelectParam::Other {
                    name: at("X-Q1"),
                    value: Some(TaggedExtVal::Comp(vec![
                        TaggedExtComp::AString(is("a")),
                        TaggedExtComp::List(vec![
                            TaggedExtComp::AString(is("b")),
                            TaggedExtComp::AString(is("c")),
                        ]),
                        TaggedExtComp::AString(is("d e")),
                    ])),
                },
                SelectParam::Other {
                    name: at("X-Q2"),
                    value: Some(TaggedExtVal::SequenceSet(range(1, 5))),
                },
                SelectParam::Other {
                    name: at("X-Q3"),
                    value: Some(TaggedExtVal::Number(7)),
                },
                SelectParam::Other {
                    name: at("X-Q4"),
                    value: None,
                },
            ],
        },
    );
}

#[test]
fn validation_catches_what_types_cannot() {
    let empty_search = CommandBody::Search {
        return_opts: None,
        charset: None,
        criteria: vec![],
        uid: false,
    };
    assert!(empty_search.validate().is_err());
    let bad_label = CommandBody::Select {
        mailbox: Mailbox::Inbox,
        params: vec![SelectParam::Other {
            name: at("CONDSTORE"),
            value: None,
        }],
    };
    assert!(bad_label.validate().is_err());
    let deep_and = CommandBody::Search {
        return_opts: None,
        charset: None,
        criteria: vec![SearchKey::Not(Box::new(SearchKey::And(vec![])))],
        uid: true,
    };
    assert!(deep_and.validate().is_err());
    assert!(
        CommandBody::Append {
            mailbox: Mailbox::Inbox,
            messages: vec![AppendMessage {
                extensions: vec![(at("CATENATE"), TaggedExtVal::Number(1))],
                ..AppendMessage::literal(Bytes::from_static(b"x"))
            }],
        }
        .validate()
        .is_err()
    );
    assert!(CommandBody::Noop.validate().is_ok());
}

/// Unknown commands may carry literals in their raw arguments: validation accepts
/// well-formed ones, the encoder records where the client must wait, and the decoder
/// rejects NUL outside literal8 (strict) or drops it (lenient).
#[test]
fn unknown_command_literals() {
    use crate::encode::Fragment;
    let body = CommandBody::other(at("XFOO"), "x {3}\r\nabc y {2+}\r\nde").unwrap();
    let cmd = Command::new(Tag::try_from("a").unwrap(), body).unwrap();
    let mut b = EncodeBuf::new();
    cmd.encode(&mut b);
    let frags: Vec<_> = b.fragments().collect();
    assert_eq!(
        frags,
        vec![
            Fragment::Line(b"a XFOO x {3}\r\n"),
            Fragment::Literal {
                data: b"abc",
                mode: crate::encode::LiteralMode::Sync
            },
            Fragment::Line(b" y {2+}\r\n"),
            Fragment::Literal {
                data: b"de",
                mode: crate::encode::LiteralMode::NonSync
            },
            Fragment::Line(b"\r\n"),
        ]
    );
    assert_eq!(decode(&b.out).unwrap(), cmd);
    assert!(decode(b"a XFOO a\0b\r\n").is_err());
    let lenient = Command::decode(
        &Bytes::from_static(b"a XFOO a\0b {1}\r\n\0 c\0\r\n"),
        &DecodeOptions::lenient(),
    );
    // NUL in the plain literal cannot be fixed by dropping line NULs: an error.
    assert!(lenient.is_err());
    let lenient = Command::decode(
        &Bytes::from_static(b"a XFOO a\0b ~{1}\r\n\0 c\0\r\n"),
        &DecodeOptions::lenient(),
    )
    .unwrap();
    assert_eq!(
        lenient.message.body(),
        &CommandBody::other(at("XFOO"), &b"ab ~{1}\r\n\0 c"[..]).unwrap()
    );
    assert!(lenient.message.validate().is_ok());
    // decode_command fuzz crash: a leniently decoded unknown command kept NUL bytes in
    // its raw arguments and did not validate.
    let msg = Bytes::from_static(b": a1: :a\x06\0\0 a\0\r\n");
    assert!(Command::decode(&msg, &DecodeOptions::strict()).is_err());
    let d = Command::decode(&msg, &DecodeOptions::lenient()).unwrap();
    assert_eq!(
        d.message.body(),
        &CommandBody::other(at("a1:"), &b":a\x06 a"[..]).unwrap()
    );
    assert!(d.message.validate().is_ok());
    assert!(!d.warnings.is_empty());
    // decode_command fuzz crash: a bare LF after a literal announcement in the raw
    // arguments was kept by the lenient profile and the re-encoding did not decode.
    let msg = Bytes::from_static(b"1 : ; {0}\0\n:0}\n");
    assert!(Command::decode(&msg, &DecodeOptions::strict()).is_err());
    let d = Command::decode(&msg, &DecodeOptions::lenient()).unwrap();
    assert_eq!(
        d.message.body(),
        &CommandBody::other(at(":"), &b"; {0}\r\n:0}"[..]).unwrap()
    );
    assert_eq!(decode(&enc(&d.message)).unwrap(), d.message);
}

/// Values that construct fine but would re-decode differently: validation rejects them,
/// and the normalising constructors build the value that decodes as itself.
#[test]
fn values_that_would_decode_differently_are_rejected() {
    use crate::fetch::{FetchAttribute, FetchAttributes, Partial};
    use crate::flag::MailboxAttribute;
    use crate::search::{SortCriterion, SortKey, ThreadAlgorithm};
    use crate::status::StatusAttribute;
    let t = Tag::try_from("a").unwrap();
    let rejected = |body: CommandBody| {
        assert!(
            Command::new(t.clone(), body.clone()).is_err(),
            "accepted {body:?}"
        );
    };
    let store = |f: Flag| CommandBody::Store {
        sequence_set: range(1, 2),
        modifiers: vec![],
        kind: StoreType::Add,
        silent: false,
        data: StoreData::Flags(vec![f].into()),
        uid: false,
    };
    // `\Seen` decodes as Flag::Seen.
    rejected(store(Flag::Extension(at("Seen"))));
    assert_eq!(Flag::system(at("sEEN")), Flag::Seen);
    assert!(Command::new(t.clone(), store(Flag::system(at("Seen")))).is_ok());
    assert!(Command::new(t.clone(), store(Flag::Extension(at("Foo")))).is_ok());
    // `inbox` decodes as Mailbox::Inbox.
    rejected(CommandBody::Delete(Mailbox::Other(is("inbox"))));
    assert_eq!(mb("inbox"), Mailbox::Inbox);
    // An empty set encodes as nothing.
    rejected(CommandBody::UidExpunge(SequenceSet::Set(vec![].into())));
    rejected(CommandBody::Search {
        return_opts: None,
        charset: None,
        criteria: vec![SearchKey::Uid(SequenceSet::Set(vec![].into()))],
        uid: false,
    });
    // Known names in Other/Extension variants.
    rejected(CommandBody::Create {
        mailbox: mb("x"),
        params: vec![CreateParam::SpecialUse(vec![MailboxAttribute::Extension(
            at("Noselect"),
        )])],
    });
    for name in ["MESSAGES", "messages", "UIDNEXT.x", "SIZE[", "DELETED"] {
        rejected(CommandBody::Status {
            mailbox: mb("x"),
            attributes: vec![StatusAttribute::Other(at(name))],
        });
    }
    assert_eq!(
        StatusAttribute::from_name(at("messages")),
        StatusAttribute::Messages
    );
    let fetch = |a: FetchAttribute| CommandBody::Fetch {
        sequence_set: range(1, 2),
        items: FetchItems::Attributes(FetchAttributes::from(a)),
        modifiers: vec![],
        uid: false,
    };
    for name in [
        "ENVELOPE",
        "BODY[",
        "body.peek",
        "UID.x",
        "BINARY<",
        "PREVIEW",
    ] {
        rejected(fetch(FetchAttribute::Other(at(name))));
    }
    assert!(Command::new(t.clone(), fetch(FetchAttribute::Other(at("X-FOO")))).is_ok());
    // A partial range the encoder would saturate.
    rejected(fetch(FetchAttribute::BodySection {
        section: None,
        partial: Some(Partial {
            offset: u64::MAX,
            length: std::num::NonZeroU64::MIN,
        }),
        peek: false,
    }));
    // Macros cannot be sent where only fetch-att lists are allowed.
    rejected(CommandBody::Notify(Notify::Set {
        status: false,
        groups: vec![EventGroup {
            filter: MailboxFilter::Selected,
            events: vec![NotifyEvent::MessageNew(Some(FetchItems::All))],
        }],
    }));
    rejected(CommandBody::Notify(Notify::Set {
        status: false,
        groups: vec![EventGroup {
            filter: MailboxFilter::Selected,
            events: vec![NotifyEvent::Other(at("FlagChange"))],
        }],
    }));
    rejected(CommandBody::Sort {
        return_opts: None,
        criteria: vec![SortCriterion {
            reverse: false,
            key: SortKey::Other(at("date")),
        }],
        charset: cs("UTF-8"),
        search: vec![SearchKey::All],
        uid: false,
    });
    rejected(CommandBody::Thread {
        algorithm: ThreadAlgorithm::Other(at("REFERENCES")),
        charset: cs("UTF-8"),
        search: vec![SearchKey::All],
        uid: false,
    });
    rejected(CommandBody::SetQuota {
        root: is(""),
        limits: vec![QuotaLimit {
            resource: QuotaResourceName::Other(at("STORAGE")),
            limit: 1,
        }],
    });
    // A select parameter that continues a known name with '.'.
    rejected(CommandBody::Select {
        mailbox: Mailbox::Inbox,
        params: vec![SelectParam::Other {
            name: at("CONDSTORE.x"),
            value: None,
        }],
    });
    // A one-number sequence set decodes as TaggedExtVal::Number.
    rejected(CommandBody::Select {
        mailbox: Mailbox::Inbox,
        params: vec![SelectParam::Other {
            name: at("X-A"),
            value: Some(TaggedExtVal::SequenceSet(SequenceSet::single(nz(5)))),
        }],
    });
    // NUL in a literal that is not literal8.
    rejected(CommandBody::Append {
        mailbox: Mailbox::Inbox,
        messages: vec![AppendMessage {
            data: AppendData::Literal {
                data: Bytes::from_static(b"a\0b"),
                binary: false,
            },
            ..AppendMessage::literal(Bytes::new())
        }],
    });
    // URLAUTH mechanisms are 1*(ALPHA / DIGIT / "-" / ".").
    rejected(CommandBody::GenUrlAuth(vec![(is("imap://x"), at("A_B"))]));
    // Raw arguments that are not one line, or that announce a literal.
    for raw in [&b"a\r\nb"[..], b"x {3}", b"x {3+}", b"x ~{3}"] {
        rejected(CommandBody::Other {
            name: at("XFOO"),
            raw: Bytes::copy_from_slice(raw),
        });
    }
    assert!(CommandBody::other(at("XFOO"), "x {3}").is_err());
    assert!(CommandBody::other(at("XFOO"), "{3} x").is_ok());
    assert!(CommandBody::other(at("XFOO"), "x {3}\r\nab").is_err());
    assert!(CommandBody::other(at("XFOO"), "x {3}\r\na\0b").is_err());
    assert!(CommandBody::other(at("XFOO"), "x ~{3}\r\na\0b").is_ok());
    assert!(CommandBody::other(at("XFOO"), "a\0b").is_err());
    // Deeper than the decoder's nesting limit.
    let mut k = SearchKey::All;
    for _ in 0..64 {
        k = SearchKey::Not(Box::new(k));
    }
    rejected(CommandBody::Search {
        return_opts: None,
        charset: None,
        criteria: vec![k],
        uid: false,
    });
    // At the limit: accepted, and decodes.
    let mut k = SearchKey::All;
    for _ in 0..63 {
        k = SearchKey::Not(Box::new(k));
    }
    let at_limit = Command::new(
        t.clone(),
        CommandBody::Search {
            return_opts: None,
            charset: None,
            criteria: vec![k],
            uid: false,
        },
    )
    .unwrap();
    assert_eq!(decode(&enc(&at_limit)).unwrap(), at_limit);
    let mut c = TaggedExtComp::AString(is("x"));
    for _ in 0..63 {
        c = TaggedExtComp::List(vec![c]);
    }
    let at_limit = Command::new(
        t.clone(),
        CommandBody::Select {
            mailbox: Mailbox::Inbox,
            params: vec![SelectParam::Other {
                name: at("X-A"),
                value: Some(TaggedExtVal::Comp(vec![c.clone()])),
            }],
        },
    )
    .unwrap();
    assert_eq!(decode(&enc(&at_limit)).unwrap(), at_limit);
    // One level more: rejected.
    let c = TaggedExtComp::List(vec![c]);
    rejected(CommandBody::Select {
        mailbox: Mailbox::Inbox,
        params: vec![SelectParam::Other {
            name: at("X-A"),
            value: Some(TaggedExtVal::Comp(vec![c])),
        }],
    });
}

/// The client-to-server samples of `shared/quirks/server-quirks.jsonl` are valid commands
/// (servers mishandle them); they decode strictly, except the bare LF and
/// `CHANGEDSINCE 0`, which only the lenient profile takes.
#[test]
fn client_quirk_samples() {
    for s in [
        &b"A ID ()\r\n"[..],
        b"A00000003 NAMESPACE\r\n",
        b"A1 LIST (SPECIAL-USE) \"\" \"*\"\r\n",
        b"A1 LIST \"\" \"INBOX\" RETURN (SUBSCRIBED CHILDREN)\r\n",
        b"A010 SELECT \"INBOX/ &AAk-Example \"\r\n",
        b"0009 APPEND \"Gesendete Elemente\" {3}\r\nabc\r\n",
        b"A1 LSUB \"\" \"*\"\r\n",
        b"A1 SELECT INBOX (CONDSTORE ANNOTATE)\r\n",
        b"A1 CREATE \"Parent/\"\r\n",
    ] {
        let c = decode(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decode(&enc(&c)).unwrap(), c);
    }
    assert_eq!(
        decode(b"A ID ()\r\n").unwrap().body,
        CommandBody::Id(Some(vec![]))
    );
    let l = DecodeOptions::lenient();
    assert!(decode(b"A1 NOOP\n").is_err());
    let d = Command::decode(&Bytes::from_static(b"A1 NOOP\n"), &l).unwrap();
    assert_eq!(d.message.body, CommandBody::Noop);
    assert_eq!(enc(&d.message), b"A1 NOOP\r\n");
    if fetch_items_work(&FetchItems::All) {
        for s in [
            &b"A1 UID FETCH 10:1 (UID FLAGS)\r\n"[..],
            b"A1 FETCH * (UID)\r\n",
        ] {
            let c = decode(s).unwrap();
            assert_eq!(decode(&enc(&c)).unwrap(), c);
        }
        assert!(decode(b"A1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 0)\r\n").is_err());
        let d = Command::decode(
            &Bytes::from_static(b"A1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 0)\r\n"),
            &l,
        )
        .unwrap();
        assert_eq!(d.warnings.len(), 1);
    }
    // the same tolerance without FETCH items
    assert!(decode(b"A1 SELECT INBOX (QRESYNC (1 0))\r\n").is_err());
    let d = Command::decode(
        &Bytes::from_static(b"A1 SELECT INBOX (QRESYNC (1 0))\r\n"),
        &l,
    )
    .unwrap();
    assert_eq!(d.warnings[0].quirk, Quirk::ZeroModSeq);
}

#[test]
fn unknown_commands_keep_raw_arguments() {
    let c = kat(
        b"a XYZZY foo {3}\r\nbar baz\r\n",
        CommandBody::Other {
            name: at("XYZZY"),
            raw: Bytes::from_static(b"foo {3}\r\nbar baz"),
        },
    );
    assert_eq!(c.body.wire_name(), "XYZZY");
    kat_exact(
        b"a XYZZY\r\n",
        CommandBody::Other {
            name: at("XYZZY"),
            raw: Bytes::new(),
        },
    );
    // known names with bad arguments are errors, not Other
    assert!(decode(b"a SELECT\r\n").is_err());
    assert!(decode(b"a NOOP x\r\n").is_err());
    assert!(decode(b"a UID XYZZY 1\r\n").is_err());
    assert!(decode(b"a XYZZY \r\n").is_err());
    assert!(CommandBody::other(at("noop"), "").is_err());
    assert!(CommandBody::other(at("FOO"), "a\r\nb").is_err());
}

#[test]
fn secrets_are_redacted() {
    let c = decode(b"a001 LOGIN SMITH SESAME\r\n").unwrap();
    let d = format!("{c:?}");
    assert!(d.contains("SMITH") && !d.contains("SESAME"), "{d}");
    let c = decode(b"a01 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n").unwrap();
    let d = format!("{c:?}");
    assert!(!d.contains("test") && !d.contains("dGVzd"), "{d}");
    let a = AuthenticateData::decode(
        &Bytes::from_static(b"dGVzdAB0ZXN0AHRlc3Q=\r\n"),
        &DecodeOptions::strict(),
    )
    .unwrap()
    .message;
    let d = format!("{a:?}");
    assert!(!d.contains("test"), "{d}");
}

#[test]
fn authenticate_data_and_idle_done() {
    let o = DecodeOptions::strict();
    let dec = |s: &'static [u8]| AuthenticateData::decode(&Bytes::from_static(s), &o);
    assert_eq!(dec(b"*\r\n").unwrap().message, AuthenticateData::Cancel);
    assert_eq!(
        dec(b"\r\n").unwrap().message,
        AuthenticateData::data(Bytes::new())
    );
    assert_eq!(
        dec(b"dGVzdAB0ZXN0AHRlc3Q=\r\n").unwrap().message,
        AuthenticateData::data(Bytes::from_static(b"test\0test\0test"))
    );
    assert!(dec(b"dGVzd\r\n").is_err());
    assert!(dec(b"* \r\n").is_err());
    assert_eq!(enc(&AuthenticateData::data(Bytes::new())), b"\r\n");
    assert_eq!(enc(&AuthenticateData::Cancel), b"*\r\n");
    for s in [&b"DONE\r\n"[..], b"done\r\n", b"Done\r\n"] {
        assert_eq!(
            IdleDone::decode(&Bytes::from_static(s), &o)
                .unwrap()
                .message,
            IdleDone
        );
    }
    assert!(IdleDone::decode(&Bytes::from_static(b"DONEX\r\n"), &o).is_err());
    assert_eq!(enc(&IdleDone), b"DONE\r\n");
}

#[test]
fn deep_nesting_in_commands_is_bounded() {
    let mut s = b"a SEARCH ".to_vec();
    s.extend(std::iter::repeat_n(b'(', 10_000));
    s.extend_from_slice(b"ALL");
    s.extend(std::iter::repeat_n(b')', 10_000));
    s.extend_from_slice(b"\r\n");
    assert_eq!(
        decode(&s).unwrap_err().expected,
        "nesting within the depth limit"
    );
    let mut s = b"a UID SORT (DATE) UTF-8 ".to_vec();
    s.extend(b"NOT ".repeat(10_000));
    s.extend_from_slice(b"ALL\r\n");
    assert!(decode(&s).is_err());
    let mut s = b"a SELECT INBOX (X-Q ".to_vec();
    s.extend(std::iter::repeat_n(b'(', 10_000));
    s.extend_from_slice(b"a");
    s.extend(std::iter::repeat_n(b')', 10_001));
    s.extend_from_slice(b"\r\n");
    assert!(decode(&s).is_err());
    // the deepest value the default limit accepts encodes and drops fine
    let mut s = b"a SEARCH ".to_vec();
    s.extend(b"NOT ".repeat(63));
    s.extend_from_slice(b"ALL\r\n");
    let c = decode(&s).unwrap();
    assert_eq!(enc(&c), s);
}

#[test]
fn lenient_profile_tolerates_spaces_and_zero_modseq() {
    let o = DecodeOptions::lenient();
    let d = Command::decode(&Bytes::from_static(b"a  SEARCH  ALL  UNSEEN \r\n"), &o).unwrap();
    assert!(!d.warnings.is_empty());
    let d = Command::decode(
        &Bytes::from_static(b"a UID FETCH 1:* ALL (CHANGEDSINCE 0)\r\n"),
        &o,
    );
    if fetch_items_work(&FetchItems::All) {
        assert!(d.is_ok());
    }
    let d = Command::decode(&Bytes::from_static(b"a SEARCH ALL \r\n"), &o).unwrap();
    assert_eq!(d.warnings.len(), 1);
    assert!(decode(b"a SEARCH ALL \r\n").is_err());
    let d = Command::decode(&Bytes::from_static(b"a STATUS INBOX (MESSAGES ) \r\n"), &o);
    assert!(d.is_ok());
    assert!(decode(b"a  NOOP\r\n").is_err());
    assert!(Command::decode(&Bytes::from_static(b"a  NOOP\r\n"), &o).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn command_roundtrip(c in strategies::command()) {
        prop_assume!(!uses_stubbed_fetch(&c.body));
        prop_assert!(c.validate().is_ok(), "{:?}", c.validate());
        let mut buf = EncodeBuf::new();
        c.encode(&mut buf);
        let d = Command::decode(&Bytes::from(buf.out.clone()), &DecodeOptions::strict());
        match d {
            Ok(d) => prop_assert_eq!(d.message, c),
            Err(e) => prop_assert!(false, "{} in {:?}", e, String::from_utf8_lossy(&buf.out)),
        }
    }

    #[test]
    fn command_roundtrip_nonsync_literals(c in strategies::command()) {
        prop_assume!(!uses_stubbed_fetch(&c.body));
        let mut buf = EncodeBuf::with_options(crate::EncodeOptions {
            literal_mode: crate::encode::LiteralMode::NonSync,
            ..Default::default()
        });
        c.encode(&mut buf);
        let d = Command::decode(&Bytes::from(buf.out.clone()), &DecodeOptions::strict())
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(d.message, c);
    }

    #[test]
    fn command_stream_roundtrip(
        cs in proptest::collection::vec(strategies::command(), 1..4),
        chunk in 1usize..64,
    ) {
        prop_assume!(cs.iter().all(|c| !uses_stubbed_fetch(&c.body)));
        let mut out = Vec::new();
        for c in &cs {
            out.extend(enc(c));
        }
        let mut dec = crate::codec::CommandDecoder::default();
        let mut got = Vec::new();
        for part in out.chunks(chunk) {
            dec.push(part);
            while let Some(ev) = dec.next() {
                match ev {
                    crate::codec::StreamEvent::Message(m) => got.push(m.message),
                    crate::codec::StreamEvent::Error(e) => prop_assert!(false, "{}", e),
                    _ => {}
                }
            }
        }
        prop_assert_eq!(got, cs);
    }

    #[test]
    fn mutated_commands_never_panic(
        c in strategies::command(),
        pos in any::<proptest::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
    ) {
        let mut out = enc(&c);
        let i = pos.index(out.len());
        if cut {
            out.truncate(i);
        } else {
            out[i] = byte;
        }
        let lenient = Command::decode(&Bytes::from(out.clone()), &DecodeOptions::lenient());
        drop(lenient);
        {
            let o = DecodeOptions::strict();
            if let Ok(d) = Command::decode(&Bytes::from(out.clone()), &o) {
                // whatever strict decoding accepted encodes to something that decodes to
                // the same value (lenient decoding of a NUL in a literal keeps the NUL:
                // see parse.rs `literal_any`)
                if !uses_stubbed_fetch(&d.message.body) {
                    let again = enc(&d.message);
                    let d2 = Command::decode(&Bytes::from(again), &DecodeOptions::strict());
                    prop_assert_eq!(d2.map(|d| d.message).ok(), Some(d.message));
                }
            }
        }
    }

    #[test]
    fn authenticate_data_roundtrip(a in strategies::authenticate_data()) {
        let mut buf = EncodeBuf::new();
        a.encode(&mut buf);
        let d = AuthenticateData::decode(&Bytes::from(buf.out), &DecodeOptions::strict()).unwrap();
        prop_assert_eq!(d.message, a);
    }
}

/// Every NOTIFY event name goes name -> value -> name (decoder and encoder), in any case.
#[test]
fn notify_event_names_agree() {
    crate::names::check_names(crate::names::Table {
        named: NotifyEvent::named(),
        names: &NotifyEvent::NAMES,
        known_name: NotifyEvent::known_name,
        from_known_name: NotifyEvent::from_known_name,
        parse: &|b: &[u8]| crate::names::parse_whole(b, NotifyEvent::parse),
        encode: &|v: &NotifyEvent| crate::encode::Encode::to_bytes_inline_literals(v).to_vec(),
        wire: |n: &[u8]| n.to_vec(),
    });
}

/// `CommandBody::parse_into` writes over its slot without the drop glue only when the slot
/// is the placeholder `Noop`; over a slot holding anything else (owning lists, boxes and
/// strings) it gives the same body as over `Noop` and as `CommandBody::parse`, for every
/// branch that writes the slot (with and without UID).
#[test]
fn body_written_over_any_slot_is_the_parsed_body() {
    let lines: &[&[u8]] = &[
        b"NOOP",
        b"UID FETCH 1:*,5,9:12 (UID FLAGS) (CHANGEDSINCE 12345)",
        b"FETCH 7 FLAGS",
        b"UID STORE 1,2,3,4,5 +FLAGS.SILENT (\\Seen $label1 $label2)",
        b"SEARCH CHARSET UTF-8 OR (SEEN) NOT SUBJECT \"x\" UID 1:*,5,9:12,20",
        b"UID COPY 1:3 \"Sent Items\"",
        b"MOVE 4 Archive",
        b"UID SORT (DATE) UTF-8 ALL",
        b"THREAD REFERENCES UTF-8 SINCE 1-Jan-2020",
        b"UID EXPUNGE 1:9,11",
        b"UID REPLACE 5 INBOX {2+}\r\nhi",
        b"LIST \"\" \"*\"",
        b"STATUS Drafts (MESSAGES UIDNEXT)",
        b"X-FOO bar baz\r\n",
        b"CAPABILITY",
    ];
    let o = DecodeOptions::strict();
    let parse = |s: &[u8]| {
        let b = Bytes::copy_from_slice(s);
        let mut p = crate::parse::Parser::new(&b, &o);
        CommandBody::parse(&mut p).map(|c| (c, p.pos)).ok()
    };
    let held: Vec<CommandBody> = lines
        .iter()
        .map(|s| {
            parse(s)
                .unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(s)))
                .0
        })
        .collect();
    for s in lines {
        let want = parse(s).expect("parses");
        for slot in std::iter::once(CommandBody::Noop).chain(held.iter().cloned()) {
            let mut out = slot;
            let b = Bytes::copy_from_slice(s);
            let mut p = crate::parse::Parser::new(&b, &o);
            CommandBody::parse_into(&mut p, &mut out).expect("parses");
            assert_eq!(
                (&out, p.pos),
                (&want.0, want.1),
                "{}",
                String::from_utf8_lossy(s)
            );
        }
    }
}

/// The command word after `UID` is read once and `EXPUNGE` tested on it: the same bodies,
/// positions, errors and warnings as the `keyword(b"EXPUNGE")` try before the word was read
/// (kept here as the general path), for the usual words, other cases, words that run on and
/// words cut short, strictly and leniently.
#[test]
fn uid_word_read_once_matches_keyword_try() {
    use crate::parse::{Parser, Word};
    fn by_keyword(p: &mut Parser<'_>, out: &mut CommandBody) -> crate::parse::PResult<()> {
        let w = Word::peek(p);
        if w.is(p, b"UID") {
            p.sp()?;
            if p.keyword(b"EXPUNGE") {
                *out = CommandBody::UidExpunge(parse::sp_seq(p)?);
                return Ok(());
            }
            return match parse::uid_capable(p, Word::peek(p), true, out)? {
                true => Ok(()),
                false => Err(p.fail("UID command")),
            };
        }
        if parse::uid_capable(p, w, false, out)? {
            return Ok(());
        }
        CommandBody::parse_rest(p, w, out)
    }
    let mut lines: Vec<String> = Vec::new();
    for w in [
        "EXPUNGE",
        "expunge",
        "ExPuNgE",
        "EXPUNGEX",
        "EXPUNGE.",
        "EXPUNGE[",
        "EXPUNGE<",
        "EXPUNG",
        "EXPUNGE\u{e9}",
        "FETCH",
        "fetch",
        "STORE",
        "SEARCH",
        "COPY",
        "MOVE",
        "NOOP",
        "",
        "EXPUNGEEXPUNGEEXPUNGEEXPUNGE",
    ] {
        for tail in [
            "",
            " 1:9,11",
            " 4 FLAGS",
            " 1 +FLAGS (\\Seen)",
            " ALL",
            " 1 INBOX",
            "  1",
        ] {
            lines.push(format!("UID {w}{tail}"));
        }
    }
    lines.push("UID".to_string());
    lines.push("UID  EXPUNGE 1".to_string());
    for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
        for s in &lines {
            let b = Bytes::from(s.clone().into_bytes());
            let (mut p, mut q) = (Parser::new(&b, &o), Parser::new(&b, &o));
            let (mut a, mut g) = (CommandBody::Noop, CommandBody::Noop);
            let ra = CommandBody::parse_into(&mut p, &mut a);
            let rg = by_keyword(&mut q, &mut g);
            assert_eq!(ra.is_ok(), rg.is_ok(), "{s}");
            if ra.is_ok() {
                assert_eq!((&a, p.pos), (&g, q.pos), "{s}");
            } else {
                assert_eq!(p.error(), q.error(), "{s}");
            }
            assert_eq!(p.warnings, q.warnings, "{s}");
        }
    }
}
