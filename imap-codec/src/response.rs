//! Server responses (RFC 9051 §7). STUB: replaced by the response work.
use crate::core::Text;
use crate::encode::{Encode, EncodeBuf};
use crate::parse::{PResult, Parser};

/// The server greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// Text.
    pub text: Text,
}

impl Greeting {
    /// Parses a whole greeting including CRLF.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        p.expect(b'*', "*")?;
        p.sp()?;
        p.expect_keyword(b"OK", "OK")?;
        p.sp()?;
        let text = Text::parse(p)?;
        p.crlf_end()?;
        Ok(Greeting { text })
    }
}

impl Encode for Greeting {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.raw(b"* OK ");
        self.text.encode(buf);
        buf.crlf();
    }
}

/// Any server response after the greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Response {
    /// Stub.
    Status(Text),
    /// Stub.
    Data(Text),
}

impl Response {
    /// Parses a whole response including CRLF.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        p.expect(b'*', "*")?;
        p.sp()?;
        let text = Text::parse(p)?;
        p.crlf_end()?;
        Ok(Response::Data(text))
    }
}

impl Encode for Response {
    fn encode(&self, buf: &mut EncodeBuf) {
        let (Response::Status(t) | Response::Data(t)) = self;
        buf.raw(b"* ");
        t.encode(buf);
        buf.crlf();
    }
}
