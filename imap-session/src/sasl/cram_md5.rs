//! CRAM-MD5 (RFC 2195): the server sends a challenge, the client answers
//! `<user> SP <lowercase hex of HMAC-MD5(password, challenge)>`.
//!
//! **Weak; use only when explicitly requested.** MD5 is broken as a hash, the exchange
//! does not authenticate the server, an eavesdropper can run an offline dictionary attack on
//! the response, and the server must store the plaintext password (or an equivalent). RFC 2195
//! is obsolete in practice; [`choose`](super::choose) never picks it.

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;

use super::{ClientMechanism, Mechanism, SaslError, Secret, plain_finish};

/// The client side of CRAM-MD5.
#[derive(Debug, Clone)]
pub struct CramMd5Client {
    user: String,
    password: Secret<String>,
    answered: bool,
    finished: bool,
}

impl CramMd5Client {
    /// CRAM-MD5 for `user` with `password`. The user name must not be empty or contain
    /// spaces or control characters.
    pub fn new(user: &str, password: &Secret<String>) -> Result<Self, SaslError> {
        if user.is_empty() || user.bytes().any(|b| b == b' ' || b.is_ascii_control()) {
            return Err(SaslError::InvalidCredentials {
                mechanism: Mechanism::CramMd5,
                reason: "user name empty or contains a space or control character",
            });
        }
        Ok(CramMd5Client {
            user: user.to_owned(),
            password: password.clone(),
            answered: false,
            finished: false,
        })
    }
}

impl ClientMechanism for CramMd5Client {
    fn mechanism(&self) -> Mechanism {
        Mechanism::CramMd5
    }

    fn initial_response(&mut self) -> Result<Option<Secret<Bytes>>, SaslError> {
        Ok(None)
    }

    fn step(&mut self, challenge: &[u8]) -> Result<Secret<Bytes>, SaslError> {
        if self.answered {
            return Err(SaslError::UnexpectedChallenge {
                mechanism: Mechanism::CramMd5,
                state: "after the response was sent",
            });
        }
        if challenge.is_empty() {
            return Err(SaslError::Malformed {
                mechanism: Mechanism::CramMd5,
                expected: "a non-empty challenge",
            });
        }
        let mut mac = <Hmac<Md5> as KeyInit>::new_from_slice(self.password.expose().as_bytes())
            .map_err(|_| SaslError::InvalidCredentials {
                mechanism: Mechanism::CramMd5,
                reason: "HMAC key rejected",
            })?;
        mac.update(challenge);
        let digest = mac.finalize().into_bytes();
        let mut out = Vec::with_capacity(self.user.len() + 1 + 32);
        out.extend_from_slice(self.user.as_bytes());
        out.push(b' ');
        for b in digest.iter() {
            out.extend_from_slice(format!("{b:02x}").as_bytes());
        }
        self.answered = true;
        Ok(Secret::new(out.into()))
    }

    fn finish(&mut self, success: bool) -> Result<(), SaslError> {
        if std::mem::replace(&mut self.finished, true) {
            return Err(SaslError::Misuse {
                mechanism: Mechanism::CramMd5,
                what: "finish called twice",
            });
        }
        plain_finish(Mechanism::CramMd5, success)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2195 §2: user "tim", password "tanstaaftanstaaf".
    #[test]
    fn rfc2195_example() {
        let mut c = CramMd5Client::new("tim", &Secret::new("tanstaaftanstaaf".to_owned())).unwrap();
        assert_eq!(c.initial_response().unwrap(), None);
        let r = c
            .step(b"<1896.697170952@postoffice.reston.mci.net>")
            .unwrap();
        assert_eq!(r.expose().as_ref(), b"tim b913a602c7eda7a495b4e6e7334d3890");
        assert!(matches!(
            c.step(b"<again>"),
            Err(SaslError::UnexpectedChallenge { .. })
        ));
        assert_eq!(c.finish(true), Ok(()));
    }

    #[test]
    fn bad_input() {
        let pw = Secret::new("x".to_owned());
        assert!(CramMd5Client::new("a b", &pw).is_err());
        assert!(CramMd5Client::new("", &pw).is_err());
        let mut c = CramMd5Client::new("tim", &pw).unwrap();
        assert!(matches!(c.step(b""), Err(SaslError::Malformed { .. })));
        assert!(!format!("{c:?}").contains("\"x\""));
    }
}
