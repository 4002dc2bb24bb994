//! The AUTHENTICATE continuation line (RFC 9051 §6.2.2) and the IDLE `DONE` line (RFC 9051
//! §6.3.13).

use super::*;

// ---------------------------------------------------------------------------------------
// AUTHENTICATE data and IDLE DONE
// ---------------------------------------------------------------------------------------

/// A line of AUTHENTICATE continuation data (RFC 9051 §6.2.2 `authenticate` /
/// `base64` CRLF): decoded SASL data (possibly empty), or `*` (cancel).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthenticateData {
    /// Decoded SASL response; empty for an empty line.
    Continue(
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::core::secret_bytes))]
        Secret<Bytes>,
    ),
    /// `*`: the client cancels the exchange.
    Cancel,
}

impl AuthenticateData {
    /// A response with the given (decoded) data.
    pub fn data(b: impl Into<Bytes>) -> Self {
        AuthenticateData::Continue(Secret::new(b.into()))
    }

    /// Parses a whole line including CRLF.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.eat(b'*') {
            p.crlf_end()?;
            return Ok(AuthenticateData::Cancel);
        }
        let d = base64_data(p, true)?;
        p.crlf_end()?;
        Ok(AuthenticateData::Continue(Secret::new(d)))
    }
}

impl Encode for AuthenticateData {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            AuthenticateData::Continue(d) => buf.raw(crate::base64::encode(d.expose()).as_bytes()),
            AuthenticateData::Cancel => buf.byte(b'*'),
        }
        buf.crlf();
    }
}

/// The `DONE` line that ends IDLE (case-insensitive).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
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
