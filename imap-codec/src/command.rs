//! Client commands (RFC 9051 §6). STUB: replaced by the command/search work.
use crate::core::Tag;
use crate::encode::{Encode, EncodeBuf};
use crate::parse::{PResult, Parser};

/// A tagged command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The tag.
    pub tag: Tag,
    /// The command.
    pub body: CommandBody,
}

/// The command without its tag.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandBody {
    /// `NOOP`
    Noop,
}

impl Command {
    /// Parses a whole command message including its final CRLF.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let tag = Tag::parse(p)?;
        p.sp()?;
        p.expect_keyword(b"NOOP", "command")?;
        p.crlf_end()?;
        Ok(Command {
            tag,
            body: CommandBody::Noop,
        })
    }
}

impl Encode for Command {
    fn encode(&self, buf: &mut EncodeBuf) {
        self.tag.encode(buf);
        buf.raw(b" NOOP\r\n");
    }
}

/// A line of AUTHENTICATE continuation data (base64) or `*` (cancel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthenticateData {
    /// `*`
    Cancel,
}

impl AuthenticateData {
    /// Parses a whole line including CRLF.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        p.expect(b'*', "*")?;
        p.crlf_end()?;
        Ok(AuthenticateData::Cancel)
    }
}

impl Encode for AuthenticateData {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.raw(b"*\r\n");
    }
}

/// The `DONE` line that ends IDLE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleDone;

impl IdleDone {
    /// Parses `DONE` CRLF.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        p.expect_keyword(b"DONE", "DONE")?;
        p.crlf_end()?;
        Ok(IdleDone)
    }
}

impl Encode for IdleDone {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.raw(b"DONE\r\n");
    }
}
