//! The PLAIN mechanism (RFC 4616): `[authzid] NUL authcid NUL passwd`, sent as the initial
//! response. The password crosses the wire in the clear: use it only over TLS.

use bytes::Bytes;

use super::{ClientMechanism, FirstStep, Mechanism, SaslError, Secret, plain_finish};

/// RFC 4616 §2: each of authzid, authcid and passwd is at most 255 octets.
pub const MAX_FIELD: usize = 255;

/// The client side of PLAIN.
#[derive(Debug, Clone)]
pub struct PlainClient {
    message: Secret<Bytes>,
    first: FirstStep,
    done: bool,
}

impl PlainClient {
    /// PLAIN for `authcid` with `password`, no authorization identity.
    pub fn new(authcid: &str, password: &Secret<String>) -> Result<Self, SaslError> {
        Self::build(None, authcid, password)
    }

    /// PLAIN acting as `authzid` (RFC 4616 §2: the identity to act as; an empty `authzid` is
    /// the same as none).
    pub fn with_authzid(
        authzid: &str,
        authcid: &str,
        password: &Secret<String>,
    ) -> Result<Self, SaslError> {
        Self::build(Some(authzid), authcid, password)
    }

    fn build(
        authzid: Option<&str>,
        authcid: &str,
        password: &Secret<String>,
    ) -> Result<Self, SaslError> {
        let bad = |reason| SaslError::InvalidCredentials {
            mechanism: Mechanism::Plain,
            reason,
        };
        let authzid = authzid.unwrap_or("");
        let pw = password.expose();
        if authcid.is_empty() {
            return Err(bad("empty user name"));
        }
        if pw.is_empty() {
            return Err(bad("empty password"));
        }
        if [authzid, authcid, pw.as_str()]
            .iter()
            .any(|s| s.contains('\0'))
        {
            return Err(bad("contains NUL"));
        }
        if [authzid, authcid, pw.as_str()]
            .iter()
            .any(|s| s.len() > MAX_FIELD)
        {
            return Err(bad("a field is longer than 255 octets"));
        }
        let mut m = Vec::with_capacity(authzid.len() + authcid.len() + pw.len() + 2);
        m.extend_from_slice(authzid.as_bytes());
        m.push(0);
        m.extend_from_slice(authcid.as_bytes());
        m.push(0);
        m.extend_from_slice(pw.as_bytes());
        Ok(PlainClient {
            message: Secret::new(Bytes::from(m)),
            first: FirstStep::Pending,
            done: false,
        })
    }
}

impl ClientMechanism for PlainClient {
    fn mechanism(&self) -> Mechanism {
        Mechanism::Plain
    }

    fn initial_response(&mut self) -> Result<Option<Secret<Bytes>>, SaslError> {
        match self.first.take(Mechanism::Plain, b"")? {
            true => Ok(Some(self.message.clone())),
            false => Err(SaslError::Misuse {
                mechanism: Mechanism::Plain,
                what: "initial response already sent",
            }),
        }
    }

    fn step(&mut self, challenge: &[u8]) -> Result<Secret<Bytes>, SaslError> {
        if self.first.take(Mechanism::Plain, challenge)? {
            return Ok(self.message.clone());
        }
        Err(SaslError::UnexpectedChallenge {
            mechanism: Mechanism::Plain,
            state: "after the credentials were sent",
        })
    }

    fn finish(&mut self, success: bool) -> Result<(), SaslError> {
        if std::mem::replace(&mut self.done, true) {
            return Err(SaslError::Misuse {
                mechanism: Mechanism::Plain,
                what: "finish called twice",
            });
        }
        plain_finish(Mechanism::Plain, success)
    }
}

/// What a PLAIN client sent, parsed on the server side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainCredentials {
    /// The identity to act as; `None` when empty (RFC 4616: act as `authcid`).
    pub authzid: Option<String>,
    /// The authentication identity.
    pub authcid: String,
    /// The password (redacted in `Debug`). Not SASLprep'd: the verifier prepares it as its
    /// password store requires.
    pub password: Secret<String>,
}

/// Server side: parses a PLAIN response `[authzid] NUL authcid NUL passwd` (RFC 4616 §2):
/// exactly two NULs, authcid and passwd non-empty, every field UTF-8 and at most 255 octets.
pub fn parse_plain(message: &[u8]) -> Result<PlainCredentials, SaslError> {
    let bad = |expected| SaslError::Malformed {
        mechanism: Mechanism::Plain,
        expected,
    };
    let mut parts = message.splitn(3, |&b| b == 0);
    let (Some(z), Some(c), Some(p)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("[authzid] NUL authcid NUL passwd"));
    };
    if p.contains(&0) {
        return Err(bad("exactly two NUL separators"));
    }
    if c.is_empty() || p.is_empty() {
        return Err(bad("non-empty authcid and passwd"));
    }
    if z.len() > MAX_FIELD || c.len() > MAX_FIELD || p.len() > MAX_FIELD {
        return Err(bad("fields of at most 255 octets"));
    }
    let utf8 = |b: &[u8]| {
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| bad("UTF-8"))
    };
    let authzid = utf8(z)?;
    Ok(PlainCredentials {
        authzid: (!authzid.is_empty()).then_some(authzid),
        authcid: utf8(c)?,
        password: Secret::new(utf8(p)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Secret<String> {
        Secret::new(s.to_owned())
    }

    /// RFC 4616 §4, first example: "\0tim\0tanstaaftanstaaf".
    #[test]
    fn rfc4616_example_tim() {
        let mut c = PlainClient::new("tim", &pw("tanstaaftanstaaf")).unwrap();
        let ir = c.initial_response().unwrap().unwrap();
        assert_eq!(ir.expose().as_ref(), b"\0tim\0tanstaaftanstaaf");
        let parsed = parse_plain(ir.expose()).unwrap();
        assert_eq!(parsed.authzid, None);
        assert_eq!(parsed.authcid, "tim");
        assert_eq!(parsed.password.expose(), "tanstaaftanstaaf");
        assert_eq!(c.finish(true), Ok(()));
    }

    /// RFC 4616 §4, second example: "Ursel\0Kurt\0xipj3plmq" (Kurt acting as Ursel).
    #[test]
    fn rfc4616_example_ursel() {
        let mut c = PlainClient::with_authzid("Ursel", "Kurt", &pw("xipj3plmq")).unwrap();
        let ir = c.initial_response().unwrap().unwrap();
        assert_eq!(ir.expose().as_ref(), b"Ursel\0Kurt\0xipj3plmq");
        let parsed = parse_plain(ir.expose()).unwrap();
        assert_eq!(parsed.authzid.as_deref(), Some("Ursel"));
        assert_eq!(parsed.authcid, "Kurt");
    }

    #[test]
    fn without_sasl_ir_the_empty_challenge_gets_the_credentials() {
        let mut c = PlainClient::new("tim", &pw("x")).unwrap();
        assert_eq!(c.step(b"").unwrap().expose().as_ref(), b"\0tim\0x");
        assert!(matches!(
            c.step(b""),
            Err(SaslError::UnexpectedChallenge { .. })
        ));
        assert!(matches!(
            c.initial_response(),
            Err(SaslError::Misuse { .. })
        ));
    }

    #[test]
    fn non_empty_first_challenge_is_rejected() {
        let mut c = PlainClient::new("tim", &pw("x")).unwrap();
        assert!(matches!(
            c.step(b"hello"),
            Err(SaslError::UnexpectedChallenge { .. })
        ));
    }

    #[test]
    fn rejection_is_typed() {
        let mut c = PlainClient::new("tim", &pw("x")).unwrap();
        let _ = c.initial_response().unwrap();
        assert_eq!(
            c.finish(false),
            Err(SaslError::Rejected {
                mechanism: Mechanism::Plain
            })
        );
    }

    #[test]
    fn client_refuses_unusable_credentials() {
        for (z, c, p) in [
            ("", "", "pw"),
            ("", "u", ""),
            ("", "u\0", "pw"),
            ("a\0", "u", "pw"),
            ("", "u", "p\0w"),
        ] {
            assert!(
                matches!(
                    PlainClient::with_authzid(z, c, &pw(p)),
                    Err(SaslError::InvalidCredentials { .. })
                ),
                "{z:?} {c:?}"
            );
        }
        let long = "x".repeat(256);
        assert!(PlainClient::new(&long, &pw("p")).is_err());
        assert!(PlainClient::new("u", &pw(&"y".repeat(255))).is_ok());
    }

    #[test]
    fn server_rejects_malformed_messages() {
        for m in [
            &b""[..],
            b"\0tim",
            b"tim",
            b"\0\0pw",
            b"\0tim\0",
            b"\0tim\0pw\0extra",
            b"\0ti\xffm\0pw",
        ] {
            assert!(
                matches!(parse_plain(m), Err(SaslError::Malformed { .. })),
                "{m:?}"
            );
        }
        let mut long = b"\0".to_vec();
        long.extend(std::iter::repeat_n(b'u', 256));
        long.extend(b"\0pw");
        assert!(parse_plain(&long).is_err());
    }

    #[test]
    fn debug_redacts_the_password() {
        let c = PlainClient::new("tim", &pw("tanstaaftanstaaf")).unwrap();
        let parsed = parse_plain(b"\0tim\0tanstaaftanstaaf").unwrap();
        for s in [format!("{c:?}"), format!("{parsed:?}")] {
            assert!(!s.contains("tanstaaf"), "{s}");
        }
    }
}
