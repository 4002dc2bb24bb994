//! Every sample of `shared/quirks/server-quirks.jsonl` (copied to `tests/data/`):
//! - lenient: decodes (fragments wrapped in a response that carries them), reports at least
//!   one warning unless the sample is valid, and re-encodes to protocol the strict profile
//!   accepts;
//! - strict: the samples outside the grammar fail with a typed error at the defect (the
//!   offset of the anchor below, or up to two bytes after it, where the token that cannot
//!   continue starts); the grammatical ones decode. Where the grammar reads a defect as
//!   something else first (a bare `[COPYUID ...]` line starts with a valid tag, `[COPYUID`),
//!   the anchor is where that reading fails. `copyuid-reversed-order` is marked "VALID
//!   syntax" in the samples, but like `highestmodseq-no-text-gmail` it lacks the SP the ABNF
//!   requires after `]`; both fail strict decoding there and decode leniently.

mod support;

use bytes::Bytes;
use imapwire_codec::Encode;
use imapwire_codec::codec::{AnyMessage, Expect, ResponseDecoder, StreamError, StreamEvent};
use imapwire_codec::error::FrameError;
use imapwire_codec::options::DecodeOptions;
use support::{get_str, latin1, load};

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/server-quirks.jsonl"
);

enum Strict {
    /// Grammatical: must decode in the strict profile too. The reason says why.
    Valid(&'static str),
    /// Must fail at the first occurrence of `anchor` plus `delta` (window of 2 bytes).
    FailAt(&'static str, usize),
}

struct Case {
    id: &'static str,
    /// Wraps the sample bytes into a whole response.
    wrap: fn(&[u8]) -> Vec<u8>,
    strict: Strict,
    /// Substrings the lenient re-encoding must contain.
    reencoded_contains: &'static [&'static str],
}

fn whole(b: &[u8]) -> Vec<u8> {
    b.to_vec()
}
fn envelope(b: &[u8]) -> Vec<u8> {
    [b"* 1 FETCH (ENVELOPE ".as_slice(), b, b")\r\n"].concat()
}
fn bodystructure(b: &[u8]) -> Vec<u8> {
    [b"* 1 FETCH (BODYSTRUCTURE ".as_slice(), b, b")\r\n"].concat()
}
fn fetch_items(b: &[u8]) -> Vec<u8> {
    [b"* 1 FETCH (".as_slice(), b, b")\r\n"].concat()
}
fn untagged(b: &[u8]) -> Vec<u8> {
    [b"* ".as_slice(), b, b"\r\n"].concat()
}
fn capability(b: &[u8]) -> Vec<u8> {
    [b"* CAPABILITY IMAP4rev1 ".as_slice(), b, b"\r\n"].concat()
}
/// The sample ends inside a multipart: close it.
fn truncated_bodystructure(b: &[u8]) -> Vec<u8> {
    [b"* 1 FETCH (".as_slice(), b, b") \"mixed\"))\r\n"].concat()
}
/// The sample is the tail of a BODY[] literal followed by more items and the tagged OK;
/// put a literal head in front. (The sample has no SP between the literal and `UID`; the
/// grammar needs one, so the literal is taken to end with the `\r\n\r\n` and the SP is added.)
fn after_literal(b: &[u8]) -> Vec<u8> {
    let split = b.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let (lit_tail, rest) = b.split_at(split);
    let mut data = b"Subject: test".to_vec();
    data.extend_from_slice(lit_tail);
    let mut out = format!("* 12 FETCH (BODY[] {{{}}}\r\n", data.len()).into_bytes();
    out.extend_from_slice(&data);
    out.push(b' ');
    let end = rest.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    out.extend_from_slice(&rest[..end]);
    out
}

const CASES: &[Case] = &[
    Case {
        id: "addrlist-empty-parens-mailru",
        wrap: envelope,
        strict: Strict::FailAt("() NIL NIL \"<", 0),
        reencoded_contains: &["\"some subject\"", "NIL NIL NIL NIL \"<4261"],
    },
    Case {
        id: "body-enc-nil-icloud",
        wrap: whole,
        strict: Strict::FailAt("NIL 1423", 0),
        reencoded_contains: &["1423 44", "\"alternative\""],
    },
    Case {
        id: "body-param-empty-list-mailru",
        wrap: whole,
        strict: Strict::FailAt("() \"25b2b", 0),
        reencoded_contains: &["84056", "\"related\""],
    },
    Case {
        id: "bodystructure-double-sp",
        wrap: whole,
        strict: Strict::FailAt("  (\"charset\"", 1),
        reencoded_contains: &["\"plain\" (\"charset\" \"UTF-8\")"],
    },
    Case {
        id: "bye-no-text-icloud",
        wrap: whole,
        strict: Strict::FailAt("\r\n", 0),
        reencoded_contains: &["* BYE"],
    },
    Case {
        id: "capability-literal-space-plus",
        wrap: whole,
        strict: Strict::Valid("'+' is an ATOM-CHAR, so `LITERAL + IDLE` is three capability atoms"),
        reencoded_contains: &["IDLE"],
    },
    Case {
        id: "capability-trailing-sp-icloud",
        wrap: whole,
        strict: Strict::FailAt(" \r\n", 0),
        reencoded_contains: &["AUTH=PLAIN", "XAPPLEPUSHSERVICE"],
    },
    Case {
        id: "continue-no-sp-yandex",
        wrap: whole,
        strict: Strict::FailAt("\r\n", 0),
        reencoded_contains: &["+"],
    },
    Case {
        id: "copyuid-reversed-order",
        wrap: whole,
        strict: Strict::FailAt("22:23]\r\n", 6),
        reencoded_contains: &["COPYUID 1657263256 186:187 22:23"],
    },
    Case {
        id: "envelope-extra-parens-domino",
        wrap: whole,
        strict: Strict::FailAt("(ENVELOPE", 0),
        reencoded_contains: &[
            "ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
            "UID 14935",
        ],
    },
    Case {
        id: "envelope-sp-between-addresses-outlook",
        wrap: whole,
        strict: Strict::FailAt(") (\"shella", 1),
        reencoded_contains: &["\"shella\" \"kilback-renner.test\")(\""],
    },
    Case {
        id: "fetch-items-after-literal-valid",
        wrap: after_literal,
        strict: Strict::Valid("valid: more items follow the literal"),
        reencoded_contains: &["UID 12", "FLAGS (\\Seen)"],
    },
    Case {
        id: "fetch-sp-before-paren",
        wrap: whole,
        strict: Strict::FailAt(" )\r\n", 0),
        reencoded_contains: &["RFC822.SIZE 5799845)"],
    },
    Case {
        id: "fetch-sp-before-paren-qq",
        wrap: untagged,
        strict: Strict::FailAt(" )", 0),
        reencoded_contains: &["UID 19436)"],
    },
    Case {
        id: "flag-with-bracket",
        wrap: whole,
        strict: Strict::FailAt("]/All", 0),
        reencoded_contains: &["* FLAGS ("],
    },
    Case {
        id: "flags-star-greenmail",
        wrap: whole,
        strict: Strict::FailAt("\\*)", 0),
        reencoded_contains: &["\\Seen"],
    },
    Case {
        id: "flags-with-space-gmail",
        wrap: whole,
        strict: Strict::FailAt("]/Alle", 0),
        reencoded_contains: &["$NotPhishing"],
    },
    Case {
        id: "gmail-related-pseudo-part",
        wrap: bodystructure,
        strict: Strict::FailAt(" NIL (\"ATTACHMENT\"", 1),
        reencoded_contains: &["BODYSTRUCTURE ("],
    },
    Case {
        id: "greeting-base64-trailer-valid",
        wrap: whole,
        strict: Strict::Valid("`[` inside text after the start is a TEXT-CHAR"),
        reencoded_contains: &["[TQBOADIA"],
    },
    Case {
        id: "highestmodseq-no-text-gmail",
        wrap: whole,
        strict: Strict::FailAt("\r\n", 0),
        reencoded_contains: &["[HIGHESTMODSEQ 123456]"],
    },
    Case {
        id: "id-trailing-sp-archiveopteryx",
        wrap: untagged,
        strict: Strict::FailAt(" )", 0),
        reencoded_contains: &["\"release-url\" \"http://archiveopteryx.org/3.2.0\")"],
    },
    Case {
        id: "latin1-literal-bodystructure",
        wrap: whole,
        strict: Strict::Valid("8-bit bytes are CHAR8, allowed in literals"),
        reencoded_contains: &["15440"],
    },
    Case {
        id: "leading-nul-bytes",
        wrap: whole,
        strict: Strict::FailAt("\0", 0),
        reencoded_contains: &["* OK ready"],
    },
    Case {
        id: "list-quoted-tab-o365",
        wrap: whole,
        strict: Strict::Valid("TAB is a CHAR and so a TEXT-CHAR and QUOTED-CHAR in the ABNF"),
        reencoded_contains: &["\\HasNoChildren"],
    },
    Case {
        id: "modseq-negative-zoho",
        wrap: whole,
        strict: Strict::FailAt("-1)", 0),
        reencoded_contains: &["UID 336", "\\Recent"],
    },
    Case {
        id: "mpart-nil-children",
        wrap: bodystructure,
        strict: Strict::FailAt("NIL \"alternative\"", 0),
        reencoded_contains: &["BODYSTRUCTURE ("],
    },
    Case {
        id: "negative-octets-smartermail",
        wrap: truncated_bodystructure,
        strict: Strict::FailAt("-2 0", 0),
        reencoded_contains: &["\"plain\""],
    },
    Case {
        id: "negative-octets-appledouble",
        wrap: bodystructure,
        strict: Strict::FailAt("-1 NIL", 0),
        reencoded_contains: &["\"appledouble\""],
    },
    Case {
        id: "number-exponent-mailru",
        wrap: bodystructure,
        strict: Strict::FailAt("9.3736e+06", 1),
        reencoded_contains: &["9373600"],
    },
    Case {
        id: "onepart-all-nil-o365",
        wrap: bodystructure,
        strict: Strict::FailAt("NIL NIL NIL NIL NIL", 0),
        reencoded_contains: &["\"7BIT\""],
    },
    Case {
        id: "quota-64bit-gmail",
        wrap: whole,
        strict: Strict::Valid("RFC 9208 numbers are number64"),
        reencoded_contains: &["16106127360"],
    },
    Case {
        id: "quota-set-capability-stalwart",
        wrap: capability,
        strict: Strict::Valid("`QUOTA=SET` is a valid atom"),
        reencoded_contains: &["* CAPABILITY IMAP4rev1 "],
    },
    Case {
        id: "respcode-quoted-junk-exchange",
        wrap: whole,
        strict: Strict::Valid(
            "a `[` that does not start a resp-text-code is text (resp-text's code is optional)",
        ),
        reencoded_contains: &["RUBY0001 OK ", "AUTHENTICATE completed."],
    },
    Case {
        id: "respcode-without-ok-exchange2013",
        wrap: whole,
        strict: Strict::FailAt("124 10", 0),
        reencoded_contains: &["[COPYUID 124 10 233]"],
    },
    Case {
        id: "search-empty-trailing-sp",
        wrap: whole,
        strict: Strict::FailAt(" \r\n", 0),
        reencoded_contains: &["* SEARCH\r\n"],
    },
    Case {
        id: "search-trailing-sp-yahoo",
        wrap: whole,
        strict: Strict::FailAt(" \r\n", 0),
        reencoded_contains: &["169663\r\n"],
    },
    Case {
        id: "status-trailing-sp-outlook",
        wrap: whole,
        strict: Strict::FailAt(" \r\n", 0),
        reencoded_contains: &["(UIDNEXT 107)\r\n"],
    },
    Case {
        id: "status-trailing-sp-exchange",
        wrap: whole,
        strict: Strict::FailAt(" \r\n", 0),
        reencoded_contains: &["(MESSAGES 100 UNSEEN 0)\r\n"],
    },
    Case {
        id: "text-unbalanced-dquote-valid",
        wrap: whole,
        strict: Strict::Valid("DQUOTE is a TEXT-CHAR"),
        reencoded_contains: &["Hello \" foo"],
    },
    Case {
        id: "uidnext-zero",
        wrap: whole,
        strict: Strict::FailAt("0]", 0),
        reencoded_contains: &["[UIDNEXT "],
    },
    Case {
        id: "unescaped-dquote-163",
        wrap: fetch_items,
        strict: Strict::FailAt("\"\"\"\" \"base64\"", 2),
        reencoded_contains: &["65322"],
    },
    Case {
        id: "xlist-empty-flag-homepl",
        wrap: whole,
        strict: Strict::FailAt("\\) \".\"", 1),
        reencoded_contains: &["Argos"],
    },
];

/// Samples that are not single responses and are tested on their own below.
const SPECIAL: &[&str] = &["literal-len-overflow", "untagged-noop"];

fn decode(
    b: &[u8],
    opts: &DecodeOptions,
) -> Result<imapwire_codec::codec::Decoded<AnyMessage>, imapwire_codec::DecodeError> {
    AnyMessage::decode(&Bytes::copy_from_slice(b), Expect::Response, opts)
}

#[test]
fn every_sample_has_a_case() {
    let recs = load(FILE);
    for r in &recs {
        let id = get_str(r, "id");
        assert!(
            CASES.iter().any(|c| c.id == id) || SPECIAL.contains(&id),
            "sample {id} has no test case"
        );
    }
    assert_eq!(recs.len(), CASES.len() + SPECIAL.len());
}

#[test]
fn lenient_decodes_every_sample_to_valid_protocol() {
    let recs = load(FILE);
    let mut failures = Vec::new();
    for case in CASES {
        let r = recs.iter().find(|r| get_str(r, "id") == case.id).unwrap();
        let msg = (case.wrap)(&latin1(get_str(r, "bytes")));
        let d = match decode(&msg, &DecodeOptions::lenient()) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{}: lenient decode failed: {e}", case.id));
                continue;
            }
        };
        if matches!(case.strict, Strict::FailAt(..)) && d.warnings.is_empty() {
            failures.push(format!("{}: no warning reported", case.id));
        }
        let enc = d.message.to_vec_inline_literals();
        if let Err(e) = decode(&enc, &DecodeOptions::strict()) {
            failures.push(format!(
                "{}: re-encoding is not valid protocol: {e}\n  {:?}",
                case.id,
                String::from_utf8_lossy(&enc)
            ));
            continue;
        }
        let s = String::from_utf8_lossy(&enc);
        for want in case.reencoded_contains {
            if !s.contains(want) {
                failures.push(format!("{}: re-encoding lacks {want:?}:\n  {s:?}", case.id));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn strict_rejects_defects_at_their_offset_and_accepts_valid_edges() {
    let recs = load(FILE);
    let mut failures = Vec::new();
    for case in CASES {
        let r = recs.iter().find(|r| get_str(r, "id") == case.id).unwrap();
        let msg = (case.wrap)(&latin1(get_str(r, "bytes")));
        let res = decode(&msg, &DecodeOptions::strict());
        match (&case.strict, res) {
            (Strict::Valid(_), Ok(_)) => {}
            (Strict::Valid(why), Err(e)) => {
                failures.push(format!("{}: valid ({why}) but strict failed: {e}", case.id))
            }
            (Strict::FailAt(..), Ok(d)) => failures.push(format!(
                "{}: strict accepted a defect: {:?}",
                case.id, d.message
            )),
            (Strict::FailAt(anchor, delta), Err(e)) => {
                let at = msg
                    .windows(anchor.len())
                    .position(|w| w == anchor.as_bytes())
                    .unwrap_or_else(|| panic!("{}: anchor {anchor:?} not found", case.id))
                    + delta;
                if !(at..=at + 2).contains(&e.offset) {
                    failures.push(format!(
                        "{}: error at {} (expected {at}..={}): {e}",
                        case.id,
                        e.offset,
                        at + 2
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn literal_length_overflow_fails_cleanly_and_stream_goes_on() {
    let recs = load(FILE);
    let r = recs
        .iter()
        .find(|r| get_str(r, "id") == "literal-len-overflow")
        .unwrap();
    for opts in [DecodeOptions::strict(), DecodeOptions::lenient()] {
        let mut d = ResponseDecoder::new(Default::default(), opts);
        d.push(&latin1(get_str(r, "bytes")));
        d.push(b"* 2 EXISTS\r\n");
        let ev: Vec<_> = std::iter::from_fn(|| d.next()).collect();
        assert!(
            matches!(
                ev[0],
                StreamEvent::Error(StreamError::Frame(FrameError::LiteralLengthOverflow { .. }))
            ),
            "{ev:?}"
        );
        // the rest of the bad line ("won't parse this)") is its own garbage line, then EXISTS
        assert!(matches!(ev.last(), Some(StreamEvent::Message(_))), "{ev:?}");
    }
}

#[test]
fn unknown_untagged_keywords_are_kept() {
    let recs = load(FILE);
    let r = recs
        .iter()
        .find(|r| get_str(r, "id") == "untagged-noop")
        .unwrap();
    for opts in [DecodeOptions::strict(), DecodeOptions::lenient()] {
        let mut d = ResponseDecoder::new(Default::default(), opts);
        d.push(&latin1(get_str(r, "bytes")));
        let ev: Vec<_> = std::iter::from_fn(|| d.next()).collect();
        assert_eq!(ev.len(), 2, "{ev:?}");
        for e in ev {
            let StreamEvent::Message(m) = e else {
                panic!("{e:?}")
            };
            let enc = String::from_utf8(m.message.to_vec_inline_literals()).unwrap();
            assert!(enc.contains("NOOP"), "{enc}");
        }
    }
}
