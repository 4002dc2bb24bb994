//! The legacy LOGIN mechanism (draft-murchison-sasl-login): the server prompts with
//! `Username:` and `Password:`, the client answers each. The password crosses the wire in the
//! clear: use it only over TLS, and prefer PLAIN or SCRAM when offered.

use bytes::Bytes;

use super::{ClientMechanism, Mechanism, SaslError, Secret, plain_finish};

/// The prompts a LOGIN server sends.
pub const USERNAME_PROMPT: &[u8] = b"Username:";
/// See [`USERNAME_PROMPT`].
pub const PASSWORD_PROMPT: &[u8] = b"Password:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientState {
    WantUser,
    WantPassword,
    Sent,
    Finished,
}

/// The client side of LOGIN.
///
/// The answer to each challenge is picked from the prompt: a prompt containing "pass"
/// (any case) gets the password, one containing "user" the user name; any other prompt
/// (servers send `User Name`, empty prompts, localized text) gets the user name first and the
/// password second. More than two challenges are an error.
#[derive(Debug, Clone)]
pub struct LoginClient {
    user: Secret<Bytes>,
    password: Secret<Bytes>,
    state: ClientState,
}

impl LoginClient {
    /// LOGIN for `user` with `password`. Neither may be empty or contain CR, LF or NUL.
    pub fn new(user: &str, password: &Secret<String>) -> Result<Self, SaslError> {
        let bad = |reason| SaslError::InvalidCredentials {
            mechanism: Mechanism::Login,
            reason,
        };
        let pw = password.expose();
        if user.is_empty() || pw.is_empty() {
            return Err(bad("empty user name or password"));
        }
        if [user, pw.as_str()]
            .iter()
            .any(|s| s.bytes().any(|b| matches!(b, 0 | b'\r' | b'\n')))
        {
            return Err(bad("contains NUL, CR or LF"));
        }
        Ok(LoginClient {
            user: Secret::new(Bytes::copy_from_slice(user.as_bytes())),
            password: Secret::new(Bytes::copy_from_slice(pw.as_bytes())),
            state: ClientState::WantUser,
        })
    }
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

impl ClientMechanism for LoginClient {
    fn mechanism(&self) -> Mechanism {
        Mechanism::Login
    }

    fn initial_response(&mut self) -> Result<Option<Secret<Bytes>>, SaslError> {
        Ok(None)
    }

    fn step(&mut self, challenge: &[u8]) -> Result<Secret<Bytes>, SaslError> {
        let asks_password = contains_ignore_case(challenge, b"pass");
        let asks_user = !asks_password && contains_ignore_case(challenge, b"user");
        match (self.state, asks_password, asks_user) {
            (ClientState::WantUser, false, _) => {
                self.state = ClientState::WantPassword;
                Ok(self.user.clone())
            }
            // A server that asks for the password first (seen with some appliances).
            (ClientState::WantUser, true, _) | (ClientState::WantPassword, _, false) => {
                self.state = ClientState::Sent;
                Ok(self.password.clone())
            }
            (ClientState::WantPassword, _, true) => Err(SaslError::UnexpectedChallenge {
                mechanism: Mechanism::Login,
                state: "user name prompt repeated",
            }),
            (ClientState::Sent | ClientState::Finished, _, _) => {
                Err(SaslError::UnexpectedChallenge {
                    mechanism: Mechanism::Login,
                    state: "after the password was sent",
                })
            }
        }
    }

    fn finish(&mut self, success: bool) -> Result<(), SaslError> {
        if std::mem::replace(&mut self.state, ClientState::Finished) == ClientState::Finished {
            return Err(SaslError::Misuse {
                mechanism: Mechanism::Login,
                what: "finish called twice",
            });
        }
        plain_finish(Mechanism::Login, success)
    }
}

/// What the server side of LOGIN wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum LoginStep {
    /// Send this challenge.
    Challenge(&'static [u8]),
    /// The exchange is complete: verify these credentials.
    Done {
        /// The user name.
        user: String,
        /// The password (redacted in `Debug`).
        password: Secret<String>,
    },
}

/// The server side of LOGIN: prompts `Username:` then `Password:`.
#[derive(Debug, Clone, Default)]
pub struct LoginServer {
    user: Option<String>,
    done: bool,
}

/// Longest user name or password accepted (octets).
pub const MAX_FIELD: usize = 1024;

impl LoginServer {
    /// A new exchange.
    pub fn new() -> Self {
        Self::default()
    }

    /// The first step: with an initial response (some clients send the user name as the
    /// SASL-IR), it is taken as the user name; otherwise the `Username:` prompt is sent.
    pub fn start(&mut self, initial_response: Option<&[u8]>) -> Result<LoginStep, SaslError> {
        match initial_response {
            None => Ok(LoginStep::Challenge(USERNAME_PROMPT)),
            Some(r) => self.respond(r),
        }
    }

    /// Handles the client's response to the last challenge.
    pub fn respond(&mut self, response: &[u8]) -> Result<LoginStep, SaslError> {
        let bad = |expected| SaslError::Malformed {
            mechanism: Mechanism::Login,
            expected,
        };
        if self.done {
            return Err(SaslError::Misuse {
                mechanism: Mechanism::Login,
                what: "response after the exchange completed",
            });
        }
        if response.is_empty() || response.len() > MAX_FIELD {
            return Err(bad("a non-empty field of at most 1024 octets"));
        }
        let s = std::str::from_utf8(response)
            .map_err(|_| bad("UTF-8"))?
            .to_owned();
        if s.bytes().any(|b| matches!(b, 0 | b'\r' | b'\n')) {
            return Err(bad("no NUL, CR or LF"));
        }
        match self.user.take() {
            None => {
                self.user = Some(s);
                Ok(LoginStep::Challenge(PASSWORD_PROMPT))
            }
            Some(user) => {
                self.done = true;
                Ok(LoginStep::Done {
                    user,
                    password: Secret::new(s),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Secret<String> {
        Secret::new(s.to_owned())
    }

    #[test]
    fn classic_exchange() {
        let mut c = LoginClient::new("tim", &pw("secret")).unwrap();
        assert_eq!(c.initial_response().unwrap(), None);
        assert_eq!(c.step(b"Username:").unwrap().expose().as_ref(), b"tim");
        assert_eq!(c.step(b"Password:").unwrap().expose().as_ref(), b"secret");
        assert!(matches!(
            c.step(b"Password:"),
            Err(SaslError::UnexpectedChallenge { .. })
        ));
        assert_eq!(c.finish(true), Ok(()));
        assert!(matches!(c.finish(true), Err(SaslError::Misuse { .. })));
    }

    #[test]
    fn unusual_prompts_go_by_order_or_keyword() {
        let mut c = LoginClient::new("tim", &pw("secret")).unwrap();
        assert_eq!(c.step(b"").unwrap().expose().as_ref(), b"tim");
        assert_eq!(c.step(b"").unwrap().expose().as_ref(), b"secret");

        let mut c = LoginClient::new("tim", &pw("secret")).unwrap();
        assert_eq!(c.step(b"User Name").unwrap().expose().as_ref(), b"tim");
        assert_eq!(c.step(b"PASSWORD").unwrap().expose().as_ref(), b"secret");

        let mut c = LoginClient::new("tim", &pw("secret")).unwrap();
        assert!(c.step(b"Username:").is_ok());
        assert!(matches!(
            c.step(b"Username:"),
            Err(SaslError::UnexpectedChallenge { .. })
        ));
    }

    #[test]
    fn rejected_and_invalid_credentials() {
        let mut c = LoginClient::new("tim", &pw("secret")).unwrap();
        let _ = c.step(b"Username:").unwrap();
        let _ = c.step(b"Password:").unwrap();
        assert_eq!(
            c.finish(false),
            Err(SaslError::Rejected {
                mechanism: Mechanism::Login
            })
        );
        assert!(LoginClient::new("", &pw("x")).is_err());
        assert!(LoginClient::new("u", &pw("a\r\nb")).is_err());
    }

    #[test]
    fn server_exchange_and_client_against_it() {
        let mut s = LoginServer::new();
        let mut c = LoginClient::new("tim", &pw("secret")).unwrap();
        let LoginStep::Challenge(p) = s.start(None).unwrap() else {
            panic!()
        };
        assert_eq!(p, USERNAME_PROMPT);
        let r = c.step(p).unwrap();
        let LoginStep::Challenge(p) = s.respond(r.expose()).unwrap() else {
            panic!()
        };
        assert_eq!(p, PASSWORD_PROMPT);
        let r = c.step(p).unwrap();
        match s.respond(r.expose()).unwrap() {
            LoginStep::Done { user, password } => {
                assert_eq!(user, "tim");
                assert_eq!(password.expose(), "secret");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(s.respond(b"x"), Err(SaslError::Misuse { .. })));
    }

    #[test]
    fn server_takes_the_initial_response_as_user_name() {
        let mut s = LoginServer::new();
        assert_eq!(
            s.start(Some(b"tim")).unwrap(),
            LoginStep::Challenge(PASSWORD_PROMPT)
        );
        assert!(matches!(s.respond(b"pw").unwrap(), LoginStep::Done { .. }));
    }

    #[test]
    fn server_rejects_bad_fields() {
        for r in [&b""[..], b"\xff", b"a\0b"] {
            assert!(
                matches!(
                    LoginServer::new().respond(r),
                    Err(SaslError::Malformed { .. })
                ),
                "{r:?}"
            );
        }
        assert!(LoginServer::new().respond(&[b'a'; MAX_FIELD + 1]).is_err());
    }

    #[test]
    fn debug_redacts() {
        let c = LoginClient::new("tim", &pw("hunter2")).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        let mut s = LoginServer::new();
        let _ = s.respond(b"tim").unwrap();
        let done = s.respond(b"hunter2").unwrap();
        assert!(!format!("{done:?}").contains("hunter2"));
    }
}
