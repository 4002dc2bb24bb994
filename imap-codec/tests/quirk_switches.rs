//! Each quirk family is its own switch (RFC 9051 §9 grammar plus the tolerances of
//! `options::Quirk`): for every family there is a sample that decodes with only that family
//! switched on (with one warning, for that family) and fails with every family but that one;
//! for [`Quirk::BadAtoms`], whose defects are also valid atoms, the sample decodes to another
//! value instead.

use bytes::Bytes;
use imapwire_codec::codec::Message;
use imapwire_codec::command::Command;
use imapwire_codec::response::Response;
use imapwire_codec::{DecodeOptions, Quirk, QuirkSet};

/// Which decoder a sample is for.
#[derive(Clone, Copy, Debug)]
enum Side {
    Server,
    Client,
}

/// One sample per family: what a real peer sent (see examples/captures/quirks.server.imap
/// and shared/quirks).
const SAMPLES: &[(Quirk, Side, &[u8])] = &[
    (Quirk::ExtraSpaces, Side::Server, b"* SEARCH 1  2\r\n"),
    // (not a status response: a status response decodes leniently with any other quirk
    // too, its text kept raw under `MalformedCode`)
    (Quirk::MissingText, Side::Server, b"+\r\n"),
    (
        Quirk::NilOrEmpty,
        Side::Server,
        b"* NAMESPACE () NIL NIL\r\n",
    ),
    (
        Quirk::BadNumbers,
        Side::Server,
        b"* STATUS INBOX (MESSAGES -1)\r\n",
    ),
    (
        Quirk::MalformedBodyStructure,
        Side::Server,
        b"* 1 FETCH (BODYSTRUCTURE (\"RELATED\" NIL (\"ATTACHMENT\" NIL) NIL))\r\n",
    ),
    (
        Quirk::MalformedEnvelope,
        Side::Server,
        b"* 2 FETCH (UID 14935 (ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)))\r\n",
    ),
    (
        Quirk::UnescapedQuotes,
        Side::Server,
        b"* LIST () \"/\" \"a\"b\"\r\n",
    ),
    (
        Quirk::BadEscapes,
        Side::Server,
        b"* LIST () \"/\" \"a\\b\"\r\n",
    ),
    (
        Quirk::EightBit,
        Side::Server,
        b"* LIST () \"/\" \"a\0b\"\r\n",
    ),
    (
        Quirk::OddFlags,
        Side::Server,
        b"* FLAGS (OIB-Seen-[Gmail]/All)\r\n",
    ),
    (
        Quirk::CodeWithoutStatus,
        Side::Server,
        b"* [ALERT] hello\r\n",
    ),
    (Quirk::NonImapLine, Side::Server, b"\0\0\0* OK ready\r\n"),
    (Quirk::BareLf, Side::Server, b"* OK ready\n"),
    (
        Quirk::BadAtoms,
        Side::Server,
        b"* CAPABILITY IMAP4rev1 LITERAL +\r\n",
    ),
    (
        Quirk::ZeroModSeq,
        Side::Client,
        b"A1 SELECT INBOX (QRESYNC (1 0))\r\n",
    ),
    (
        Quirk::MalformedCode,
        Side::Server,
        b"* OK [UIDNEXT abc] done\r\n",
    ),
];

/// The warnings of a successful decode, with the value's debug form.
fn decode(
    side: Side,
    msg: &'static [u8],
    opts: &DecodeOptions,
) -> Result<(Vec<Quirk>, String), String> {
    let msg = Bytes::from_static(msg);
    let r = match side {
        Side::Server => {
            Response::decode(&msg, opts).map(|d| (d.warnings, format!("{:?}", d.message)))
        }
        Side::Client => {
            Command::decode(&msg, opts).map(|d| (d.warnings, format!("{:?}", d.message)))
        }
    };
    r.map(|(w, v)| (w.iter().map(|w| w.quirk).collect(), v))
        .map_err(|e| e.to_string())
}

fn decodes(side: Side, msg: &'static [u8], opts: &DecodeOptions) -> Result<Vec<Quirk>, String> {
    decode(side, msg, opts).map(|(w, _)| w)
}

#[test]
fn every_family_has_a_sample() {
    for q in Quirk::ALL {
        assert!(SAMPLES.iter().any(|(s, ..)| s == q), "{q:?}");
    }
    assert_eq!(SAMPLES.len(), Quirk::ALL.len());
}

#[test]
fn each_quirk_switches_individually() {
    for &(q, side, msg) in SAMPLES {
        let show = String::from_utf8_lossy(msg);
        let only = DecodeOptions::strict().with_quirk(q);
        assert_eq!(
            decodes(side, msg, &only),
            Ok(vec![q]),
            "{q:?}: only this quirk on, {show:?}"
        );
        let all_but = DecodeOptions::lenient().without_quirk(q);
        if q == Quirk::BadAtoms {
            // `LITERAL +` is also two valid atoms: off, it decodes as written
            let (w, off) = decode(side, msg, &all_but).unwrap();
            let (_, on) = decode(side, msg, &only).unwrap();
            assert!(w.is_empty() && off != on, "{off} / {on}");
            assert_eq!(decode(side, msg, &DecodeOptions::strict()).unwrap().1, off);
            continue;
        }
        assert!(
            decodes(side, msg, &DecodeOptions::strict()).is_err(),
            "{q:?}: strict accepted {show:?}"
        );
        assert!(
            decodes(side, msg, &all_but).is_err(),
            "{q:?}: every other quirk on accepted {show:?}"
        );
        assert!(decodes(side, msg, &DecodeOptions::lenient()).is_ok());
    }
}

#[test]
fn quirk_set_operations() {
    assert!(QuirkSet::none().is_empty());
    assert_eq!(QuirkSet::all().iter().collect::<Vec<_>>(), Quirk::ALL);
    for &q in Quirk::ALL {
        let one = QuirkSet::none().with(q);
        assert_eq!(one.iter().collect::<Vec<_>>(), vec![q]);
        assert!(!QuirkSet::all().without(q).contains(q));
        assert_eq!(
            QuirkSet::all().without(q).iter().count(),
            Quirk::ALL.len() - 1
        );
        assert_eq!(one.without(q), QuirkSet::none());
        assert!(DecodeOptions::lenient().allows(q));
        assert!(!DecodeOptions::strict().allows(q));
    }
    let s: QuirkSet = [Quirk::BareLf, Quirk::EightBit].into_iter().collect();
    assert_eq!(
        s,
        QuirkSet::none().with(Quirk::EightBit).with(Quirk::BareLf)
    );
    assert_eq!(format!("{s:?}"), "{EightBit, BareLf}");
    assert_eq!(
        DecodeOptions::strict().with_quirks(QuirkSet::all()),
        DecodeOptions::lenient()
    );
}
