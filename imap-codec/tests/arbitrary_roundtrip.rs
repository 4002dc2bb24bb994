//! Misuse resistance: every command the API lets you build ([`Command::new`] accepts), and
//! every response and greeting that passes `validate()`, encodes to valid protocol that
//! decodes, strictly, to an equal value, both in one piece and through the streaming decoder
//! (so the framing agrees with the encoder's literal marks).
//!
//! Values come from `arbitrary` over byte buffers of a deterministic PRNG, so CI exercises the
//! property without a fuzzer (`fuzz/fuzz_targets/roundtrip_command.rs` is the fuzzer's
//! version; `roundtrip_response` for the server side; both check with `support/roundtrip.rs`). Run with `cargo test -p imap-codec --features arbitrary --test arbitrary_roundtrip`.
#![cfg(feature = "arbitrary")]

#[path = "support/roundtrip.rs"]
mod roundtrip;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use imapwire_codec::codec::Message;
use imapwire_codec::command::{AuthenticateData, Command, CommandBody};
use imapwire_codec::core::Tag;
use imapwire_codec::response::{Greeting, Response};
use imapwire_codec::{DecodeOptions, Encode};
use roundtrip::{check_command, check_response, check_server};

/// xorshift64*: small, deterministic, good enough to drive `arbitrary`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn fill(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn check_authenticate_data(d: &AuthenticateData) {
    let enc = d.to_bytes_inline_literals();
    let again = AuthenticateData::decode(&enc, &DecodeOptions::strict())
        .unwrap_or_else(|e| panic!("{enc:?}: {e}"));
    assert_eq!(&again.message, d);
}

/// Builds a command from `data` as the fuzz target does; `None` when the bytes run out or
/// [`Command::new`] rejects the body.
fn build(data: &[u8]) -> Option<Command> {
    let mut u = Unstructured::new(data);
    let tag = Tag::arbitrary(&mut u).ok()?;
    let body = CommandBody::arbitrary(&mut u).ok()?;
    Command::new(tag, body).ok()
}

#[test]
fn built_commands_roundtrip() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut built, mut tried) = (0u32, 0u32);
    for _ in 0..20_000 {
        let n = (rng.next() % 600) as usize;
        let data = rng.fill(n);
        tried += 1;
        if let Some(cmd) = build(&data) {
            built += 1;
            check_command(&cmd);
        }
    }
    // The generators are tuned so that most bodies are valid; a drop here means validation
    // got stricter than it needs to be, or a generator broke.
    eprintln!("built {built} of {tried}");
    assert!(built * 4 > tried, "only {built} of {tried} bodies accepted");
}

#[test]
fn authenticate_data_roundtrips() {
    let mut rng = Rng(7);
    for _ in 0..2_000 {
        let n = (rng.next() % 200) as usize;
        let data = rng.fill(n);
        let mut u = Unstructured::new(&data);
        if let Ok(d) = AuthenticateData::arbitrary(&mut u) {
            check_authenticate_data(&d);
        }
    }
}

/// Long inputs must not overflow the stack while generating, validating, encoding, comparing
/// or dropping (recursive types bound their depth).
#[test]
fn long_inputs_do_not_overflow() {
    let mut rng = Rng(42);
    for i in 0..40 {
        let data = if i % 2 == 0 {
            rng.fill(1 << 16)
        } else {
            // Mostly bytes that pick the first (often recursive) variants.
            (0..1 << 16).map(|_| (rng.next() % 4) as u8).collect()
        };
        if let Some(cmd) = build(&data) {
            check_command(&cmd);
        }
    }
}

/// Values the generators (PRNG or fuzzer) found that did not roundtrip, fixed in the codec.
#[test]
fn regressions() {
    use imapwire_codec::core::Charset;
    use imapwire_codec::search::SearchKey;
    use imapwire_codec::sequence::SequenceSet;
    let tag = Tag::try_from("t").unwrap();
    // A charset that is not an atom was sent as a literal when longer than `max_quoted`
    // (`charset` = atom / quoted).
    let cmd = Command::new(
        tag.clone(),
        CommandBody::Search {
            return_opts: None,
            charset: Some(Charset::try_from("888P\x1b8hy").unwrap()),
            criteria: vec![SearchKey::SequenceSet(SequenceSet::single(
                std::num::NonZeroU32::new(492104506).unwrap(),
            ))],
            uid: false,
        },
    )
    .unwrap();
    check_command(&cmd);
    // An unknown command whose name continues a known one with `[`, `<` or `.` decodes as
    // the known command (the decoder's keyword matching stops there): rejected.
    let name = imapwire_codec::core::Atom::try_from("SElecT[").unwrap();
    assert!(CommandBody::other(name.clone(), "Y1").is_err());
    let raw = Bytes::from_static(b"Y1");
    assert!(Command::new(tag.clone(), CommandBody::Other { name, raw }).is_err());
}

/// Builds a response from `data` as the fuzz target does: `None` when the bytes run out
/// (`Some(Err)` when validation rejects it).
fn build_response(data: &[u8]) -> Option<Result<Response, Response>> {
    let mut u = Unstructured::new(data);
    let r = Response::arbitrary(&mut u).ok()?;
    Some(if r.validate().is_ok() { Ok(r) } else { Err(r) })
}

fn build_greeting(data: &[u8]) -> Option<Result<Greeting, Greeting>> {
    let mut u = Unstructured::new(data);
    let g = Greeting::arbitrary(&mut u).ok()?;
    Some(if g.validate().is_ok() { Ok(g) } else { Err(g) })
}

#[test]
fn built_responses_roundtrip() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut valid, mut built, mut tried) = (0u32, 0u32, 0u32);
    for _ in 0..20_000 {
        let n = (rng.next() % 800) as usize;
        let data = rng.fill(n);
        tried += 1;
        match build_response(&data) {
            Some(Ok(r)) => {
                built += 1;
                valid += 1;
                check_response(&r);
            }
            Some(Err(_)) => built += 1,
            None => {}
        }
    }
    // Validation must leave enough values for the property to mean something.
    eprintln!("responses: {valid} valid of {built} built ({tried} inputs)");
    assert!(
        valid * 2 > built,
        "only {valid} of {built} responses validate"
    );
}

#[test]
fn built_greetings_roundtrip() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let (mut valid, mut built) = (0u32, 0u32);
    for _ in 0..5_000 {
        let n = (rng.next() % 300) as usize;
        let data = rng.fill(n);
        match build_greeting(&data) {
            Some(Ok(g)) => {
                built += 1;
                valid += 1;
                check_server(&g);
            }
            Some(Err(_)) => built += 1,
            None => {}
        }
    }
    eprintln!("greetings: {valid} valid of {built} built");
    assert!(
        valid * 2 > built,
        "only {valid} of {built} greetings validate"
    );
}

/// Long inputs on the server side: bounded recursion (THREAD, tagged-ext, body structures).
#[test]
fn long_response_inputs_do_not_overflow() {
    let mut rng = Rng(4242);
    for i in 0..40 {
        let data = if i % 2 == 0 {
            rng.fill(1 << 16)
        } else {
            (0..1 << 16).map(|_| (rng.next() % 4) as u8).collect()
        };
        if let Some(Ok(r)) = build_response(&data) {
            check_response(&r);
        }
    }
}

/// Server-side values the fuzzer (`roundtrip_response`) found that did not roundtrip.
#[test]
fn response_regressions() {
    use imapwire_codec::core::Atom;
    use imapwire_codec::response::{Data, UnknownData};
    // Crash 1: an unknown response whose raw part has a literal `{1}\r\n{` followed by
    // `1}\r\n`: the `{` inside the literal's data announces nothing to the framer (which
    // ends the message there), but the raw check and the one-shot parser read a second
    // literal. Both now look for the announcement only after the previous literal's data.
    let raw = Bytes::from_static(b"\xff\x14{1}\r\n{1}\r\n\xff    ");
    assert!(UnknownData::new(Some(1093730457), Atom::try_from("a").unwrap(), raw).is_err());
    let enc = Bytes::from_static(b"* 1093730457 a \xff\x14{1}\r\n{1}\r\n\xff    \r\n");
    assert!(Response::decode(&enc, &DecodeOptions::strict()).is_err());
    // The same shape with the announcement in the text is fine.
    let raw = Bytes::from_static(b"x {1}\r\n{ y {2}\r\nab z");
    let d = UnknownData::new(Some(7), Atom::try_from("a").unwrap(), raw).unwrap();
    check_response(&Response::Data(Data::Unknown(d)));
}

/// Crash 2 (`roundtrip_response`): `\RECENT<` as an extension flag in FETCH FLAGS reads as
/// `\Recent` followed by garbage (the decoder matches `Recent` as a keyword): rejected.
#[test]
fn recent_prefix_flag_is_rejected() {
    use imapwire_codec::fetch::MessageDataItem;
    use imapwire_codec::flag::{Flag, FlagFetch};
    use imapwire_codec::response::Data;
    for name in ["RECENT<", "recent", "Recent.x", "Recent["] {
        let r = Response::Data(Data::UidFetch {
            uid: imapwire_codec::sequence::Uid::new(4294967146).unwrap(),
            items: vec![MessageDataItem::Flags(
                vec![
                    FlagFetch::Recent,
                    FlagFetch::Flag(Flag::Extension(
                        imapwire_codec::core::Atom::try_from(name).unwrap(),
                    )),
                ]
                .into(),
            )]
            .into(),
        });
        assert!(r.validate().is_err(), "{name}");
    }
}

/// Crash 3 (`roundtrip_response`): an ESEARCH return item named `UID` first, without the
/// UID indicator, reads as the indicator: rejected; after the indicator it is fine.
#[test]
fn esearch_item_named_uid() {
    use imapwire_codec::core::Atom;
    use imapwire_codec::response::{Data, ESearch, SearchReturnData, TaggedExtComp, TaggedExtVal};
    let item = SearchReturnData::Other {
        name: Atom::try_from("UID").unwrap(),
        value: TaggedExtVal::Comp(vec![TaggedExtComp::List(vec![])]),
    };
    let mut e = ESearch {
        correlator: None,
        uid: false,
        data: vec![item],
    };
    assert!(Response::Data(Data::ESearch(e.clone())).validate().is_err());
    e.uid = true;
    let r = Response::Data(Data::ESearch(e));
    r.validate().unwrap();
    check_response(&r);
}

/// Crash 4 (`roundtrip_response`): an empty `body-extension` list is sent as NIL (the grammar
/// needs an element), which decodes as `NString(None)`: rejected.
#[test]
fn empty_body_extension_list() {
    use imapwire_codec::body::{
        BodyExtension, BodyFields, BodyStructure, DispositionExt, LanguageExt, LocationExt,
        MediaType, SinglePart, SinglePartExtension, SinglePartKind,
    };
    use imapwire_codec::core::IString;
    use imapwire_codec::fetch::MessageDataItem;
    use imapwire_codec::response::Data;
    let body = |ext: BodyExtension| {
        Response::Data(Data::Fetch {
            seq: imapwire_codec::sequence::SeqNum::new(2268528639).unwrap(),
            items: vec![MessageDataItem::Body(
                BodyStructure::single(SinglePart {
                    kind: SinglePartKind::Basic(
                        MediaType::new(IString::default(), IString::default()).unwrap(),
                    ),
                    fields: BodyFields {
                        octets: 1560315648,
                        ..BodyFields::default()
                    },
                    extension: Some(SinglePartExtension {
                        md5: None,
                        disposition: Some(DispositionExt {
                            disposition: None,
                            language: Some(LanguageExt {
                                language: vec![].into(),
                                location: Some(LocationExt {
                                    location: Some(IString::default()),
                                    extensions: vec![ext],
                                }),
                            }),
                        }),
                    }),
                })
                .unwrap(),
            )]
            .into(),
        })
    };
    assert!(body(BodyExtension::List(vec![])).validate().is_err());
    let nested = BodyExtension::List(vec![BodyExtension::List(vec![])]);
    assert!(body(nested).validate().is_err());
    let ok = body(BodyExtension::List(vec![BodyExtension::NString(None)]));
    ok.validate().unwrap();
    check_response(&ok);
}
