//! Mailbox names (RFC 9051 §5.1, §9 `mailbox`, `list-mailbox`) and the modified UTF-7
//! encoding of IMAP4rev1 (RFC 3501 §5.1.3, RFC 9051 Appendix A.1).

use std::fmt;

use bytes::Bytes;

use crate::core::IString;
use crate::encode::{Encode, EncodeBuf};
use crate::error::{Rule, ValidationError, ValueKind};
use crate::parse::{PResult, Parser, class};

/// A mailbox name (`mailbox` = "INBOX" / astring). `INBOX` is case-insensitive and is
/// always decoded to [`Mailbox::Inbox`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Mailbox {
    /// `INBOX`, in any case.
    Inbox,
    /// Any other name, as sent (UTF-8 under IMAP4rev2, or modified UTF-7 under IMAP4rev1:
    /// see [`decode_utf7`] / [`encode_utf7`]).
    Other(IString),
}

impl Mailbox {
    /// A mailbox from its wire name; `inbox` in any case becomes [`Mailbox::Inbox`].
    pub fn new(name: impl Into<Bytes>) -> Result<Self, ValidationError> {
        let b = name.into();
        if b.eq_ignore_ascii_case(b"INBOX") {
            return Ok(Mailbox::Inbox);
        }
        Ok(Mailbox::Other(IString::new(b)?))
    }

    /// A mailbox from a Unicode name, converted to modified UTF-7 (for IMAP4rev1 servers).
    pub fn from_utf8_as_utf7(name: &str) -> Result<Self, ValidationError> {
        Self::new(encode_utf7(name))
    }

    /// The wire name.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Mailbox::Inbox => b"INBOX",
            Mailbox::Other(s) => s.as_bytes(),
        }
    }

    /// Fails for [`Mailbox::Other`] holding `INBOX` in any case (it decodes as
    /// [`Mailbox::Inbox`]; [`Mailbox::new`] normalises it).
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            // INBOX must be Mailbox::Inbox (use Mailbox::new)
            Mailbox::Other(s) if s.as_bytes().eq_ignore_ascii_case(b"INBOX") => {
                Err(ValidationError::new(ValueKind::Mailbox, Rule::KnownName))
            }
            _ => Ok(()),
        }
    }

    /// Whether this is INBOX.
    pub fn is_inbox(&self) -> bool {
        matches!(self, Mailbox::Inbox)
    }

    pub(crate) fn from_istring(s: IString) -> Self {
        if s.as_bytes().eq_ignore_ascii_case(b"INBOX") {
            Mailbox::Inbox
        } else {
            Mailbox::Other(s)
        }
    }

    #[inline]
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        IString::parse_astring(p).map(Self::from_istring)
    }

    /// [`parse`](Self::parse) with the astring reader inlined (a LIST response's mailbox).
    #[inline(always)]
    pub(crate) fn parse_inline(p: &mut Parser<'_>) -> PResult<Self> {
        p.astring_inline()
            .map(|b| Self::from_istring(IString::unchecked(b)))
    }
}

impl TryFrom<&str> for Mailbox {
    type Error = ValidationError;
    fn try_from(s: &str) -> Result<Self, ValidationError> {
        Self::new(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mailbox::Inbox => f.write_str("Inbox"),
            Mailbox::Other(s) => write!(f, "Mailbox({})", crate::error::Excerpt(s.as_bytes())),
        }
    }
}

impl Encode for Mailbox {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            Mailbox::Inbox => buf.raw(b"INBOX"),
            Mailbox::Other(s) => s.encode_astring(buf),
        }
    }
}

/// A LIST/LSUB pattern (`list-mailbox` = 1*list-char / string): may contain `%` and `*`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ListMailbox(Bytes);

impl ListMailbox {
    /// Validates a pattern (no NUL).
    pub fn new(b: impl Into<Bytes>) -> Result<Self, ValidationError> {
        let b = b.into();
        if let Some(position) = memchr::memchr(0, &b) {
            return Err(ValidationError::new(
                ValueKind::ListMailbox,
                Rule::ForbiddenByte { byte: 0, position },
            ));
        }
        Ok(ListMailbox(b))
    }

    /// The pattern bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        match p.peek() {
            Some(b'"') | Some(b'{') => p.string().map(ListMailbox),
            _ => {
                let s = p.take_while(class::is_list_char);
                if s.is_empty() {
                    return Err(p.fail("list-mailbox"));
                }
                Ok(ListMailbox(s))
            }
        }
    }
}

impl TryFrom<&str> for ListMailbox {
    type Error = ValidationError;
    fn try_from(s: &str) -> Result<Self, ValidationError> {
        Self::new(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl fmt::Debug for ListMailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ListMailbox({})", crate::error::Excerpt(&self.0))
    }
}

impl Encode for ListMailbox {
    fn encode(&self, buf: &mut EncodeBuf) {
        if !self.0.is_empty() && self.0.iter().all(|&c| class::is_list_char(c)) {
            buf.raw(&self.0);
        } else {
            buf.string(&self.0);
        }
    }
}

/// Modified UTF-7 decoding failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid modified UTF-7 at byte {offset}")]
pub struct Utf7Error {
    /// Offset of the offending byte or shift sequence.
    pub offset: usize,
}

/// The base64 of modified UTF-7 (RFC 3501 §5.1.3): the alphabet of RFC 2152 with `,` for `/`,
/// no padding, unused bits zero.
const MUTF7: ::base64::engine::GeneralPurpose = ::base64::engine::GeneralPurpose::new(
    &::base64::alphabet::IMAP_MUTF7,
    ::base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(::base64::engine::DecodePaddingMode::RequireNone),
);

/// Encodes a Unicode mailbox name in modified UTF-7 (RFC 3501 §5.1.3).
pub fn encode_utf7(s: &str) -> String {
    use ::base64::Engine as _;
    let mut out = String::with_capacity(s.len());
    // UTF-16BE of the run of characters outside printable ASCII not yet written
    let mut pending: Vec<u8> = Vec::new();
    let flush = |out: &mut String, pending: &mut Vec<u8>| {
        if !pending.is_empty() {
            out.push('&');
            MUTF7.encode_string(&*pending, out);
            out.push('-');
            pending.clear();
        }
    };
    for ch in s.chars() {
        if (' '..='~').contains(&ch) {
            flush(&mut out, &mut pending);
            if ch == '&' {
                out.push_str("&-");
            } else {
                out.push(ch);
            }
        } else {
            let mut units = [0u16; 2];
            for u in ch.encode_utf16(&mut units) {
                pending.extend_from_slice(&u.to_be_bytes());
            }
        }
    }
    flush(&mut out, &mut pending);
    out
}

/// Decodes a modified UTF-7 mailbox name to Unicode. Rejects non-canonical forms
/// (unterminated shifts, printable ASCII inside a shift, leftover bits, 8-bit bytes).
pub fn decode_utf7(b: &[u8]) -> Result<String, Utf7Error> {
    use ::base64::Engine as _;
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'&' {
            let start = i;
            let Some(len) = b[i + 1..].iter().position(|&c| c == b'-') else {
                return Err(Utf7Error { offset: start }); // unterminated shift
            };
            let run = &b[i + 1..i + 1 + len];
            i += len + 2;
            if run.is_empty() {
                out.push('&'); // `&-`
                continue;
            }
            // the first byte outside the alphabet, else the shift, is the fault
            if let Some(at) = run
                .iter()
                .position(|&c| !(c.is_ascii_alphanumeric() || c == b'+' || c == b','))
            {
                return Err(Utf7Error {
                    offset: start + 1 + at,
                });
            }
            let bytes = MUTF7.decode(run).map_err(|_| Utf7Error { offset: start })?;
            if bytes.len() % 2 != 0 {
                return Err(Utf7Error { offset: start }); // half a UTF-16 unit left over
            }
            let units = bytes
                .chunks_exact(2)
                .map(|u| u16::from_be_bytes([u[0], u[1]]));
            let s: String = char::decode_utf16(units)
                .collect::<Result<_, _>>()
                .map_err(|_| Utf7Error { offset: start })?;
            if s.chars().all(|c| (' '..='~').contains(&c)) {
                // printable ASCII must not be shifted
                return Err(Utf7Error { offset: start });
            }
            out.push_str(&s);
        } else if (0x20..=0x7e).contains(&c) {
            out.push(c as char);
            i += 1;
        } else {
            return Err(Utf7Error { offset: i });
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies.
    use super::*;
    use crate::core::strategies::istring;
    use proptest::prelude::*;

    /// Mailboxes.
    pub(crate) fn mailbox() -> impl Strategy<Value = Mailbox> {
        prop_oneof![
            Just(Mailbox::Inbox),
            istring().prop_map(Mailbox::from_istring),
        ]
    }

    /// LIST patterns.
    pub(crate) fn list_mailbox() -> impl Strategy<Value = ListMailbox> {
        prop_oneof!["[A-Za-z%*/.]{0,10}", "[ -~]{0,10}"]
            .prop_map(|s| ListMailbox::try_from(s.as_str()).unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc3501_example() {
        // RFC 3501 §5.1.3: "~peter/mail/台北/日本語"
        let enc = "~peter/mail/&U,BTFw-/&ZeVnLIqe-";
        assert_eq!(
            decode_utf7(enc.as_bytes()).unwrap(),
            "~peter/mail/台北/日本語"
        );
        assert_eq!(encode_utf7("~peter/mail/台北/日本語"), enc);
        assert_eq!(encode_utf7("a&b"), "a&-b");
        assert!(decode_utf7(b"&Jjo!").is_err());
        assert!(decode_utf7(b"&AGE-").is_err()); // shifted ASCII 'a'
    }

    /// The edge cases of RFC 3501 §5.1.3: `&-` is `&`, characters beyond the BMP go as
    /// surrogate pairs, and malformed shifts are rejected with the offset of the fault.
    #[test]
    fn utf7_edge_cases() {
        // `&-` alone, repeated, and next to a shift
        assert_eq!(decode_utf7(b"&-").unwrap(), "&");
        assert_eq!(decode_utf7(b"&-&-").unwrap(), "&&");
        assert_eq!(encode_utf7("&&"), "&-&-");
        assert_eq!(encode_utf7("&\u{e9}&"), "&-&AOk-&-");
        assert_eq!(decode_utf7(b"&-&AOk-&-").unwrap(), "&\u{e9}&");
        assert_eq!(encode_utf7(""), "");
        assert_eq!(decode_utf7(b"").unwrap(), "");
        // an astral character: one surrogate pair, 4 bytes, 6 base64 characters
        assert_eq!(encode_utf7("\u{1F600}"), "&2D3eAA-");
        assert_eq!(decode_utf7(b"&2D3eAA-").unwrap(), "\u{1F600}");
        assert_eq!(encode_utf7("a\u{1F600}\u{e9}b"), "a&2D3eAADp-b");
        assert_eq!(decode_utf7(b"a&2D3eAADp-b").unwrap(), "a\u{1F600}\u{e9}b");
        // `,` stands for `/` of base64: U+FFFF is `//8` in base64, `,,8` here
        assert_eq!(encode_utf7("\u{ffff}"), "&,,8-");
        assert_eq!(decode_utf7(b"&,,8-").unwrap(), "\u{ffff}");
        // malformed shifts, each with the offset of the fault
        for (bad, at) in [
            (&b"ab&AOk"[..], 2), // unterminated
            (b"&", 0),           // unterminated, empty
            (b"&AOk=-", 4),      // padding
            (b"x&A/k-", 3),      // `/` is not in the alphabet
            (b"&AOl-", 0),       // unused bits not zero
            (b"&AO-", 0),        // one byte: half a UTF-16 unit
            (b"&AOkA-", 0),      // three bytes
            (b"&2D0-", 0),       // a lone high surrogate
            (b"&3gA-", 0),       // a lone low surrogate
            (b"&AGEAYg-", 0),    // shifted printable ASCII ("ab")
            (b"&AOk \xc3-", 4),  // space inside a shift
            (b"\xc3\xa9", 0),    // 8-bit byte outside a shift
            (b"a\x7fb", 1),      // DEL
        ] {
            assert_eq!(decode_utf7(bad), Err(Utf7Error { offset: at }), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn utf7_roundtrip(s in "\\PC{0,20}") {
            let e = encode_utf7(&s);
            prop_assert!(e.bytes().all(|c| (0x20..0x7f).contains(&c)));
            prop_assert_eq!(decode_utf7(e.as_bytes()).unwrap(), s);
        }
    }
}
