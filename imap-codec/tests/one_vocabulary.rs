//! One type per concept, used in both directions (issue 9 §2): the THREAD algorithm, the
//! partial range, the quota resource, the RFC 4466 tagged-extension value and the SASL
//! mechanism each have one type, which a command, a response and a capability decode to. Each
//! test takes the value out of one direction and compares it with the value of the other
//! (which compiles only because the types are the same), and names the type under each path
//! it is exported from.

use bytes::Bytes;
use imapwire_codec::capability::Capability;
use imapwire_codec::codec::Message;
use imapwire_codec::command::{Command, CommandBody};
use imapwire_codec::options::DecodeOptions;
use imapwire_codec::response::{Data, Response, SearchReturnData};
use imapwire_codec::search::SearchReturnOption;

fn body(b: &[u8]) -> CommandBody {
    let d = Command::decode(&Bytes::copy_from_slice(b), &DecodeOptions::strict()).unwrap();
    d.message.into_parts().1
}

fn data(b: &[u8]) -> Data {
    match Response::decode(&Bytes::copy_from_slice(b), &DecodeOptions::strict())
        .unwrap()
        .message
    {
        Response::Data(d) => d,
        r => panic!("not data: {r:?}"),
    }
}

fn capabilities(b: &[u8]) -> Vec<Capability> {
    match data(b) {
        Data::Capability(v) => v,
        d => panic!("not CAPABILITY: {d:?}"),
    }
}

#[test]
fn thread_algorithm() {
    let CommandBody::Thread { algorithm, .. } = body(b"a THREAD refs UTF-8 ALL\r\n") else {
        panic!("not THREAD")
    };
    let caps = capabilities(b"* CAPABILITY IMAP4rev1 THREAD=REFS THREAD=REFERENCES\r\n");
    assert_eq!(caps[1], Capability::Thread(algorithm.clone()));
    let same: [imapwire_codec::vocab::ThreadAlgorithm; 3] = [
        imapwire_codec::search::ThreadAlgorithm::Refs,
        imapwire_codec::capability::ThreadAlgorithm::Refs,
        imapwire_codec::command::ThreadAlgorithm::Refs,
    ];
    assert!(same.iter().all(|a| *a == algorithm));
}

#[test]
fn quota_resource() {
    let CommandBody::SetQuota { limits, .. } = body(b"a SETQUOTA \"\" (storage 512)\r\n") else {
        panic!("not SETQUOTA")
    };
    let Data::Quota { resources, .. } = data(b"* QUOTA \"\" (STORAGE 10 512)\r\n") else {
        panic!("not QUOTA")
    };
    assert_eq!(limits[0].resource, resources[0].name);
    let caps = capabilities(b"* CAPABILITY IMAP4rev1 QUOTA=RES-STORAGE\r\n");
    assert_eq!(caps[1], Capability::QuotaRes(resources[0].name.clone()));
    let same: [imapwire_codec::vocab::QuotaResourceName; 2] = [
        imapwire_codec::capability::QuotaResourceName::Storage,
        imapwire_codec::command::QuotaResourceName::Storage,
    ];
    assert!(same.iter().all(|r| *r == limits[0].resource));
}

#[test]
fn partial_range() {
    let CommandBody::Search { return_opts, .. } =
        body(b"a SEARCH RETURN (PARTIAL -1:-100) ALL\r\n")
    else {
        panic!("not SEARCH")
    };
    let Some([SearchReturnOption::Partial(asked)]) = return_opts.as_deref() else {
        panic!("no PARTIAL")
    };
    let Data::ESearch(e) = data(b"* ESEARCH (TAG \"a\") PARTIAL (-1:-100 NIL)\r\n") else {
        panic!("not ESEARCH")
    };
    let [
        SearchReturnData::Partial {
            range,
            results: None,
        },
    ] = e.data.as_slice()
    else {
        panic!("no PARTIAL data: {e:?}")
    };
    assert_eq!(asked, range);
    let _: &imapwire_codec::response::PartialRange = range;
}

#[test]
fn tagged_extension_value() {
    let CommandBody::Search { return_opts, .. } = body(b"a SEARCH RETURN (X-FOO 1:5) ALL\r\n")
    else {
        panic!("not SEARCH")
    };
    let Some(
        [
            SearchReturnOption::Other {
                name,
                value: Some(asked),
            },
        ],
    ) = return_opts.as_deref()
    else {
        panic!("no X-FOO: {return_opts:?}")
    };
    let Data::ESearch(e) = data(b"* ESEARCH (TAG \"a\") X-FOO 1:5\r\n") else {
        panic!("not ESEARCH")
    };
    let [SearchReturnData::Other { name: n2, value }] = e.data.as_slice() else {
        panic!("no X-FOO data: {e:?}")
    };
    assert_eq!((name, asked), (n2, value));
    let _: &imapwire_codec::command::TaggedExtVal = value;
}

#[test]
fn sasl_mechanism() {
    let CommandBody::Authenticate { mechanism, .. } = body(b"a AUTHENTICATE scram-sha-256\r\n")
    else {
        panic!("not AUTHENTICATE")
    };
    let caps = capabilities(b"* CAPABILITY IMAP4rev1 AUTH=SCRAM-SHA-256\r\n");
    assert_eq!(caps[1], Capability::Auth(mechanism));
}
