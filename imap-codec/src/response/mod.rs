//! Server responses (RFC 9051 §7, §9 `greeting`, `response-data`, `response-tagged`,
//! `continue-req`, `resp-text`; RFC 3501 §7 for the IMAP4rev1 responses). Response codes
//! are [`ResponseCode`], untagged data is [`Data`].
//!
//! Dispatch is on the first bytes: `+` continuation, `*` untagged (a digit starts
//! `message-data`/EXISTS/RECENT, a keyword selects the data or status parser), anything else
//! a tag.
//!
//! Decisions where the grammar is ambiguous:
//! * `resp-text`: text starting with `[` is a response code when it has the shape of one
//!   (`"[" atom "]"` or `"[" atom SP 1*<non-"]" char> ... "]"`); then the code's own grammar
//!   applies. `[CODE]` directly followed by CRLF is a code with empty text in both profiles
//!   (the RFC examples do this; by the letter of the ABNF it would be text). Otherwise
//!   (e.g. `[Error="..." ...]`) the whole line is plain text. A known code whose arguments
//!   do not follow its grammar is an error in the strict profile; the lenient one repairs
//!   the tolerated families (zero numbers, extra spaces, odd flags, `LITERAL +`, ...) and
//!   otherwise keeps the status response with its code and text as plain text
//!   ([`Quirk::MalformedCode`]): a completion is
//!   never lost.
//! * `BADCHARSET` also accepts a charset list without parentheses (RFC 9051 §6.4.4 example
//!   `[BADCHARSET UTF-8]`); it is encoded with parentheses.
//! * `tagged-ext-val` also accepts a string (RFC 9051 §7.3.1 example `Sample "text"`).
//! * `continue-req`: whether the text after `+ ` is base64 or human text is decided by the
//!   context the caller gives, never guessed from the text (`+ Okay` is valid base64 and
//!   plain English). In a SASL exchange ([`Expect::SaslChallenge`](crate::codec::Expect))
//!   it is [`Continuation::Base64`] (an empty `+ ` is the empty challenge), and text that is
//!   not canonical base64 is an error ("base64 (SASL challenge)") in both profiles.
//!   Elsewhere ([`Expect::Response`](crate::codec::Expect), and the one-shot
//!   `Response::decode`) it is [`Continuation::Text`] (`+ Ready`, and `+ ` with empty text).
//! * `* PREAUTH` is accepted after the greeting too (the greeting may go through a response
//!   decoder); unknown untagged keywords are [`Data::Unknown`] in both profiles (RFC 9051 §7:
//!   clients ignore responses they do not understand).

mod code;
mod data;
#[cfg(test)]
pub(crate) mod strategies;
#[cfg(test)]
mod tests;
mod validate;

use bytes::Bytes;

pub use self::code::{AnnotateCode, CodeText, InProgress, MetadataCode, ResponseCode};
pub use self::data::{
    AclEntry, Data, Delimiter, ESearch, IdParams, ListExtendedItem, ListItem, MetadataEntries,
    Namespace, NamespaceData, NamespaceExtension, PartialRange, QuotaResource, SearchCorrelator,
    SearchReturnData, TaggedExtComp, TaggedExtVal, Thread, UnknownData,
};

use crate::core::{Tag, Text};
use crate::encode::{Encode, EncodeBuf};
use crate::error::{Rule, ValidationError, ValueKind};
use crate::options::Quirk;
use crate::parse::{PResult, Parser, class};

/// `resp-text`: an optional response code and human-readable text (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResponseText {
    code: Option<ResponseCode>,
    text: Text,
}

impl ResponseText {
    /// Validates: without a code, the text must not itself look like a response code
    /// (it would be decoded as one).
    pub fn new(code: Option<ResponseCode>, text: Text) -> Result<Self, ValidationError> {
        if code.is_none()
            && text.as_bytes().first() == Some(&b'[')
            && code::code_shape(text.as_bytes())
        {
            return Err(ValidationError::new(
                ValueKind::ResponseText,
                Rule::Constraint("text without a code starts like a response code"),
            ));
        }
        Ok(ResponseText { code, text })
    }

    /// Text with a code.
    pub fn with_code(code: ResponseCode, text: Text) -> Self {
        ResponseText {
            code: Some(code),
            text,
        }
    }

    /// The response code.
    pub fn code(&self) -> Option<&ResponseCode> {
        self.code.as_ref()
    }

    /// The text.
    pub fn text(&self) -> &Text {
        &self.text
    }

    /// Splits into code and text.
    pub fn into_parts(self) -> (Option<ResponseCode>, Text) {
        (self.code, self.text)
    }

    /// Parses `resp-text` at the cursor (after the SP that follows the status word).
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.peek() == Some(b'[') && code::code_shape(p.rest()) {
            p.pos += 1;
            let code = ResponseCode::parse(p)?;
            p.skip_sp_before_bracket();
            p.expect(b']', "]")?;
            let text = if p.eat(b' ') {
                Text::parse(p)?
            } else if p.at_crlf() {
                // `[CODE]` CRLF: servers (and some RFC examples, listed as errata in the
                // tests) mean a code without text, but the ABNF requires SP after `]` (read
                // literally it would make the whole `[...]` text). The strict profile rejects
                // it; the lenient one keeps the code with empty text.
                let at = p.pos;
                if !p.tolerate(Quirk::MissingText, at) {
                    return Err(p.fail("SP after response code"));
                }
                Text::default()
            } else {
                let at = p.pos;
                if !p.tolerate(Quirk::ExtraSpaces, at) {
                    return Err(p.fail("SP after response code"));
                }
                Text::parse(p)?
            };
            return Ok(ResponseText {
                code: Some(code),
                text,
            });
        }
        let text = Text::parse(p)?;
        Self::from_plain_text(p, text)
    }

    /// Text without a code. Only when the lenient profile removed NUL bytes can it look
    /// like a code; it is then read as one, so that re-encoding keeps the meaning.
    fn from_plain_text(p: &mut Parser<'_>, text: Text) -> PResult<Self> {
        if text.as_bytes().first() == Some(&b'[') && code::code_shape(text.as_bytes()) {
            let src = text.to_bytes();
            let opts = p.opts;
            let mut sub = Parser::new(&src, opts);
            return match ResponseText::parse(&mut sub) {
                Ok(t) if sub.at_end() => {
                    let at = p.pos;
                    p.warn(Quirk::EightBit, at);
                    Ok(t)
                }
                _ => Err(p.fail("response code")),
            };
        }
        Ok(ResponseText { code: None, text })
    }

    /// `SP resp-text CRLF` after the status word of a status response or greeting, to the
    /// end of the message. A completion is never lost: when the code or text does not parse,
    /// the lenient profile keeps the rest of the line as text ([`Quirk::MalformedCode`], at
    /// the furthest failure): NUL, CR and LF dropped, and a space put in front if the text
    /// would read as a response code again (so the value re-encodes to the same response).
    pub(crate) fn parse_status_rest(p: &mut Parser<'_>) -> PResult<Self> {
        let start = p.pos;
        let wlen = p.warnings.len();
        match Self::parse_after_word(p).and_then(|t| p.crlf_end().map(|()| t)) {
            Ok(t) => Ok(t),
            Err(e) => {
                if !p.allows(Quirk::MalformedCode) {
                    return Err(e);
                }
                Self::keep_raw(p, start, wlen).ok_or(e)
            }
        }
    }

    /// The rest of a status line from `start` as plain text (see
    /// [`parse_status_rest`](Self::parse_status_rest)).
    #[cold]
    #[inline(never)]
    fn keep_raw(p: &mut Parser<'_>, start: usize, wlen: usize) -> Option<Self> {
        let at = p.furthest_failure().max(start);
        let b = p.bytes();
        let mut end = b.len();
        if b[start..end].ends_with(b"\r\n") {
            end -= 2;
        } else if b[start..end].ends_with(b"\n") && p.allows(Quirk::BareLf) {
            end -= 1;
        } else {
            return None;
        }
        let mut raw = &b[start..end];
        if raw.first() == Some(&b' ') {
            raw = &raw[1..];
        }
        let mut t: Vec<u8> = raw
            .iter()
            .copied()
            .filter(|&c| !matches!(c, 0 | b'\r' | b'\n'))
            .collect();
        if t.first() == Some(&b'[') && code::code_shape(&t) {
            t.insert(0, b' ');
        }
        let text = Text::new(t).ok()?;
        p.warnings.truncate(wlen);
        p.warn(Quirk::MalformedCode, at);
        p.pos = b.len();
        Some(ResponseText { code: None, text })
    }

    /// `SP resp-text` after a status word; the lenient profile accepts a missing SP and text.
    fn parse_after_word(p: &mut Parser<'_>) -> PResult<Self> {
        if p.eat(b' ') {
            return Self::parse(p);
        }
        let at = p.pos;
        if p.at_crlf() && p.tolerate(Quirk::MissingText, at) {
            return Ok(ResponseText::default());
        }
        if p.peek() == Some(b'[') && p.tolerate(Quirk::ExtraSpaces, at) {
            return Self::parse(p);
        }
        Err(p.fail("SP"))
    }
}

impl Encode for ResponseText {
    fn encode(&self, buf: &mut EncodeBuf) {
        if let Some(c) = &self.code {
            buf.byte(b'[');
            c.encode(buf);
            buf.raw(b"] ");
        }
        self.text.encode(buf);
    }
}

/// The kind of greeting (`resp-cond-auth` / `resp-cond-bye`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GreetingKind {
    /// `OK`: not authenticated yet.
    Ok,
    /// `PREAUTH`: already authenticated.
    PreAuth,
    /// `BYE`: the server refuses the connection.
    Bye,
}

/// The server greeting (`greeting`, RFC 9051 §7.1.1, §7.1.4, §7.1.5).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// OK, PREAUTH or BYE.
    pub kind: GreetingKind,
    /// Code and text.
    pub text: ResponseText,
}

/// Whether SP (or several, for the lenient `sp()`) and then `c` follow.
#[inline]
pub(crate) fn sp_then(p: &Parser<'_>, c: u8) -> bool {
    let r = p.rest();
    let n = r.iter().take_while(|&&b| b == b' ').count();
    n > 0 && r.get(n) == Some(&c)
}

/// Whether an optional list follows: SP and `(` ([`sp_then`]), or in the lenient profile a
/// `(` without the SP (which `sp()` then takes, with its [`Quirk::ExtraSpaces`] warning).
#[inline]
pub(crate) fn list_follows(p: &Parser<'_>) -> bool {
    sp_then(p, b'(') || (p.peek() == Some(b'(') && p.allows(Quirk::ExtraSpaces))
}

/// Skips NUL padding before a line (lenient only). Inline: every response pays the test
/// of its first byte, the padding is skipped out of line.
#[inline(always)]
fn skip_nul_padding(p: &mut Parser<'_>) {
    if p.peek() == Some(0) {
        skip_nuls(p);
    }
}

/// [`skip_nul_padding`] at a NUL.
#[cold]
#[inline(never)]
fn skip_nuls(p: &mut Parser<'_>) {
    let at = p.pos;
    if p.tolerate(Quirk::NonImapLine, at) {
        while p.eat(0) {}
    }
}

/// Length of the atom (up to any `[`) at the cursor.
#[inline]
fn word_len(p: &Parser<'_>) -> usize {
    p.rest()
        .iter()
        .take_while(|&&c| class::is_atom_char(c) && c != b'[')
        .count()
}

impl Greeting {
    /// Parses a whole greeting including CRLF.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        skip_nul_padding(p);
        p.expect(b'*', "*")?;
        p.sp()?;
        let n = word_len(p);
        let w = &p.rest()[..n];
        let kind = if w.eq_ignore_ascii_case(b"OK") {
            GreetingKind::Ok
        } else if w.eq_ignore_ascii_case(b"PREAUTH") {
            GreetingKind::PreAuth
        } else if w.eq_ignore_ascii_case(b"BYE") {
            GreetingKind::Bye
        } else {
            return Err(p.fail("OK, PREAUTH or BYE"));
        };
        p.pos += n;
        let text = ResponseText::parse_status_rest(p)?;
        Ok(Greeting { kind, text })
    }
}

impl Encode for Greeting {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.raw(match self.kind {
            GreetingKind::Ok => b"* OK ",
            GreetingKind::PreAuth => b"* PREAUTH ",
            GreetingKind::Bye => b"* BYE ",
        });
        self.text.encode(buf);
        buf.crlf();
    }
}

/// `OK`, `NO` or `BAD`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `OK`
    Ok,
    /// `NO`
    No,
    /// `BAD`
    Bad,
}

impl Status {
    fn name(self) -> &'static [u8] {
        match self {
            Status::Ok => b"OK",
            Status::No => b"NO",
            Status::Bad => b"BAD",
        }
    }

    fn from_word(w: &[u8]) -> Option<Self> {
        match w.len() {
            2 if w.eq_ignore_ascii_case(b"OK") => Some(Status::Ok),
            2 if w.eq_ignore_ascii_case(b"NO") => Some(Status::No),
            3 if w.eq_ignore_ascii_case(b"BAD") => Some(Status::Bad),
            _ => None,
        }
    }
}

/// A status response (RFC 9051 §7.1).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusResponse {
    /// `tag OK|NO|BAD resp-text`: completion of a command.
    Tagged {
        /// The command's tag.
        tag: Tag,
        /// The status.
        status: Status,
        /// Code and text.
        text: ResponseText,
    },
    /// `* OK|NO|BAD resp-text`.
    Untagged {
        /// The status.
        status: Status,
        /// Code and text.
        text: ResponseText,
    },
    /// `* PREAUTH resp-text` (normally only in the greeting).
    PreAuth(ResponseText),
    /// `* BYE resp-text`.
    Bye(ResponseText),
}

impl StatusResponse {
    /// The code and text.
    pub fn text(&self) -> &ResponseText {
        match self {
            StatusResponse::Tagged { text, .. } | StatusResponse::Untagged { text, .. } => text,
            StatusResponse::PreAuth(t) | StatusResponse::Bye(t) => t,
        }
    }

    /// The response code, if any.
    pub fn code(&self) -> Option<&ResponseCode> {
        self.text().code()
    }
}

impl Encode for StatusResponse {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            StatusResponse::Tagged { tag, status, text } => {
                tag.encode(buf);
                buf.sp();
                buf.raw(status.name());
                buf.sp();
                text.encode(buf);
            }
            StatusResponse::Untagged { status, text } => {
                buf.raw(b"* ");
                buf.raw(status.name());
                buf.sp();
                text.encode(buf);
            }
            StatusResponse::PreAuth(t) => {
                buf.raw(b"* PREAUTH ");
                t.encode(buf);
            }
            StatusResponse::Bye(t) => {
                buf.raw(b"* BYE ");
                t.encode(buf);
            }
        }
        buf.crlf();
    }
}

/// Text of a continuation request outside a SASL exchange (any `resp-text`, also one that
/// happens to be valid base64: the decoder's context decides, see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContinuationText(ResponseText);

impl ContinuationText {
    /// Wraps `t`.
    pub fn new(t: ResponseText) -> Self {
        ContinuationText(t)
    }

    /// The code and text.
    pub fn get(&self) -> &ResponseText {
        &self.0
    }
}

/// A continuation request (`continue-req`, RFC 9051 §7.6).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Continuation {
    /// `+ resp-text` (e.g. `+ Ready for literal data`).
    Text(ContinuationText),
    /// `+ base64`: a SASL challenge, decoded.
    Base64(
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_util::bytes))] Bytes,
    ),
}

impl Continuation {
    /// Parses a whole continuation request including CRLF: a SASL challenge (base64) when
    /// `sasl`, else human text (see the module docs).
    pub(crate) fn parse(p: &mut Parser<'_>, sasl: bool) -> PResult<Self> {
        p.expect(b'+', "+")?;
        let c = if p.eat(b' ') {
            if sasl {
                let at = p.pos;
                let text = Text::parse(p)?;
                let t = text.as_bytes();
                match crate::base64::decode(t) {
                    Ok(v) if v.is_empty() => Continuation::Base64(Bytes::new()),
                    Ok(v) => Continuation::Base64(Bytes::from(v)),
                    Err(e) => {
                        // the first byte outside the alphabet, else where the decoder stopped
                        let bad = t
                            .iter()
                            .position(|&c| !(c.is_ascii_alphanumeric() || b"+/=".contains(&c)))
                            .unwrap_or(e.offset);
                        return Err(p.fail_at(at + bad, "base64 (SASL challenge)"));
                    }
                }
            } else {
                Continuation::Text(ContinuationText(ResponseText::parse(p)?))
            }
        } else {
            let at = p.pos;
            if !(p.at_crlf() && p.tolerate(Quirk::MissingText, at)) {
                return Err(p.fail("SP"));
            }
            if sasl {
                Continuation::Base64(Bytes::new())
            } else {
                Continuation::Text(ContinuationText(ResponseText {
                    code: None,
                    text: Text::default(),
                }))
            }
        };
        p.crlf_end()?;
        Ok(c)
    }
}

/// Appends padded base64 of `data`.
fn encode_base64(data: &[u8], buf: &mut EncodeBuf) {
    buf.raw(crate::base64::encode(data).as_bytes());
}

impl Encode for Continuation {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.raw(b"+ ");
        match self {
            Continuation::Text(t) => t.0.encode(buf),
            Continuation::Base64(d) => encode_base64(d, buf),
        }
        buf.crlf();
    }
}

/// Any server response after the greeting.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Response {
    /// A status response (tagged or untagged OK/NO/BAD, PREAUTH, BYE).
    Status(StatusResponse),
    /// Untagged data.
    Data(Data),
    /// A continuation request.
    Continuation(Continuation),
}

impl Response {
    /// Parses a whole response including CRLF. The lenient profile keeps a line that is no
    /// response at all (a non-IMAP line) as [`Data::Unknown`], named by its first word.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let mut r = Response::placeholder();
        Self::parse_into(p, &mut r)?;
        Ok(r)
    }

    /// A cheap value that [`parse_into`](Self::parse_into) overwrites.
    #[inline]
    pub(crate) fn placeholder() -> Response {
        Response::Data(Data::Exists(0))
    }

    /// Like [`parse`](Self::parse), writing the response into `out` (what the stream decoder
    /// returns): FETCH items are parsed in place instead of being moved through every level.
    /// On failure `out` holds some value that the caller discards.
    #[inline]
    pub(crate) fn parse_into(p: &mut Parser<'_>, out: &mut Self) -> PResult<()> {
        Self::parse_into_in(p, out, false)
    }

    /// [`parse_into`](Self::parse_into) in a SASL exchange (`sasl`: a `+` line is a base64
    /// challenge) or not (human text).
    ///
    /// Inline in the decoder: a message pays one call (into `parse_response_into`) between
    /// the receiver and its keyword, the lenient fallback is out of line.
    #[inline(always)]
    pub(crate) fn parse_into_in(p: &mut Parser<'_>, out: &mut Self, sasl: bool) -> PResult<()> {
        let start = p.pos;
        let r = Self::parse_response_into(p, out, sasl);
        if r.is_err() {
            return Self::non_imap_fallback(p, out, start, r);
        }
        r
    }

    /// After `parse_response_into` failed (`failed`) on the message at `start`: in the
    /// lenient profile, the line as a non-IMAP line if it reads as one, otherwise `failed`.
    #[cold]
    #[inline(never)]
    fn non_imap_fallback(
        p: &mut Parser<'_>,
        out: &mut Self,
        start: usize,
        failed: PResult<()>,
    ) -> PResult<()> {
        if !p.allows(Quirk::NonImapLine) {
            return failed;
        }
        p.pos = start;
        match p.opt(Self::non_imap_line) {
            Some(r) => {
                *out = r;
                Ok(())
            }
            None => failed,
        }
    }

    /// A non-IMAP line as unknown untagged data: first word (an atom) and the rest raw.
    fn non_imap_line(p: &mut Parser<'_>) -> PResult<Self> {
        skip_nul_padding(p);
        let at = p.pos;
        // `*`, `+` and a leading number would make the kept line read as another response
        if matches!(p.peek(), Some(b'*' | b'+' | b'0'..=b'9') | None) {
            return Err(p.fail("non-IMAP line"));
        }
        let name = crate::core::Atom::parse(p)?;
        let raw = if p.eat(b' ') { p.text() } else { Bytes::new() };
        let data = UnknownData::new(None, name, raw).map_err(|_| p.fail_at(at, "non-IMAP line"))?;
        p.crlf_end()?;
        // Kept only if it reads back as itself in the strict profile (e.g. a first word that
        // starts like a response code would not).
        let r = Response::Data(Data::Unknown(data));
        let enc = crate::Encode::to_bytes_inline_literals(&r);
        let strict = crate::options::DecodeOptions::strict();
        let mut sub = Parser::new(&enc, &strict);
        let mut again = Response::placeholder();
        match Response::parse_response_into(&mut sub, &mut again, false) {
            Ok(()) if again == r => {}
            _ => return Err(p.fail_at(at, "non-IMAP line")),
        }
        p.warn(Quirk::NonImapLine, at);
        Ok(r)
    }

    /// A response without the lenient non-IMAP-line fallback.
    pub(crate) fn parse_response(p: &mut Parser<'_>) -> PResult<Self> {
        let mut r = Response::placeholder();
        Self::parse_response_into(p, &mut r, false)?;
        Ok(r)
    }

    #[inline]
    fn parse_response_into(p: &mut Parser<'_>, out: &mut Self, sasl: bool) -> PResult<()> {
        skip_nul_padding(p);
        match p.peek() {
            Some(b'*') => {
                p.pos += 1;
                p.sp()?;
                if Self::parse_untagged_into(p, out)? {
                    // a status response: its CRLF is read
                    return Ok(());
                }
            }
            Some(b'+') => {
                *out = Response::Continuation(Continuation::parse(p, sasl)?);
                return Ok(());
            }
            Some(b'[') if p.allows(Quirk::CodeWithoutStatus) => {
                // A tag may start with `[`: the line is a tagged status response whenever it
                // reads as one, by the same parse as any tagged line (so that a lookahead
                // cannot disagree with it, e.g. about the spaces after the tag); otherwise it
                // is a bare `[CODE] text` line (Exchange after UID MOVE).
                if let Some(r) = p.opt(Self::parse_tagged) {
                    *out = r;
                    return Ok(());
                }
                let at = p.pos;
                p.warn(Quirk::CodeWithoutStatus, at);
                *out = Response::Status(StatusResponse::Untagged {
                    status: Status::Ok,
                    text: ResponseText::parse(p)?,
                });
            }
            _ => {
                *out = Self::parse_tagged(p)?;
                return Ok(());
            }
        }
        p.crlf_end()
    }

    /// `tag SP OK/NO/BAD SP resp-text CRLF`.
    #[inline]
    fn parse_tagged(p: &mut Parser<'_>) -> PResult<Self> {
        let tag = Tag::parse(p)?;
        p.sp()?;
        let n = word_len(p);
        let status = match Status::from_word(&p.rest()[..n]) {
            Some(s) => s,
            None => return Err(p.fail("OK, NO or BAD")),
        };
        p.pos += n;
        let text = ResponseText::parse_status_rest(p)?;
        Ok(Response::Status(StatusResponse::Tagged {
            tag,
            status,
            text,
        }))
    }

    /// Untagged data or status; returns whether it was a status response (which has read its
    /// CRLF already).
    #[inline]
    fn parse_untagged_into(p: &mut Parser<'_>, out: &mut Self) -> PResult<bool> {
        match p.peek() {
            Some(b'0'..=b'9') => return data::parse_numbered_into(p, out).map(|()| false),
            Some(b'[') => {
                let at = p.pos;
                if p.tolerate(Quirk::CodeWithoutStatus, at) {
                    *out = Response::Status(StatusResponse::Untagged {
                        status: Status::Ok,
                        text: ResponseText::parse(p)?,
                    });
                    return Ok(false);
                }
                return Err(p.fail("response keyword"));
            }
            _ => {}
        }
        let n = word_len(p);
        let w = &p.rest()[..n];
        if n <= 3 {
            if let Some(status) = Status::from_word(w) {
                p.pos += n;
                let text = ResponseText::parse_status_rest(p)?;
                *out = Response::Status(StatusResponse::Untagged { status, text });
                return Ok(true);
            }
            if w.eq_ignore_ascii_case(b"BYE") {
                p.pos += n;
                *out = Response::Status(StatusResponse::Bye(ResponseText::parse_status_rest(p)?));
                return Ok(true);
            }
        } else if w.eq_ignore_ascii_case(b"PREAUTH") {
            p.pos += n;
            *out = Response::Status(StatusResponse::PreAuth(ResponseText::parse_status_rest(p)?));
            return Ok(true);
        }
        if n == 0 {
            return Err(p.fail("response keyword"));
        }
        data::parse_keyword_into(p, w, out).map(|()| false)
    }
}

impl Encode for Response {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            Response::Status(s) => s.encode(buf),
            Response::Data(d) => {
                buf.raw(b"* ");
                d.encode(buf);
                buf.crlf();
            }
            Response::Continuation(c) => c.encode(buf),
        }
    }
}

/// Capability sets from responses (here rather than in `capability`, which is below the
/// messages in the module layers).
impl crate::capability::CapabilitySet {
    /// The set a `CAPABILITY` response advertises; `None` for other untagged data.
    pub fn from_data(data: &Data) -> Option<Self> {
        match data {
            Data::Capability(v) => Some(v.iter().cloned().collect()),
            _ => None,
        }
    }

    /// The set a `[CAPABILITY ...]` response code advertises; `None` for other codes.
    pub fn from_code(code: &ResponseCode) -> Option<Self> {
        match code {
            ResponseCode::Capability(v) => Some(v.iter().cloned().collect()),
            _ => None,
        }
    }
}
