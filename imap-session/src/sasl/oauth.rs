//! Bearer-token mechanisms: OAUTHBEARER (RFC 7628 §3) and Google's/Microsoft's XOAUTH2.
//!
//! Both send the token in the initial response. When the server rejects the token it sends
//! one challenge holding a JSON error; the client must answer it (OAUTHBEARER: with `%x01`,
//! RFC 7628 §3.2.3; XOAUTH2: with an empty response), after which the server completes with
//! NO. [`ClientMechanism::finish`] then returns [`SaslError::OAuth`] with the parsed
//! [`OAuthError`], so that the caller can refresh its token (and ask for the `scope` the
//! server named).
//!
//! Tokens are replayable secrets: use these mechanisms over TLS only.

use bytes::Bytes;

use super::{ClientMechanism, FirstStep, Mechanism, SaslError, Secret};

/// The error a server reports in the JSON challenge (RFC 7628 §3.2.2; Google's XOAUTH2 uses
/// the same keys plus `schemes`). Fields are `None` when absent or not a string or number.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct OAuthError {
    /// `status`: an OAuth error code such as `invalid_token` (RFC 7628), or an HTTP status
    /// such as `"401"` (XOAUTH2).
    pub status: Option<String>,
    /// `scope`: the scope the token needs.
    pub scope: Option<String>,
    /// `openid-configuration`: where to discover the authorization server.
    pub openid_configuration: Option<String>,
    /// `schemes` (XOAUTH2): e.g. `Bearer`.
    pub schemes: Option<String>,
    /// The challenge as received (lossy UTF-8), also when it is not valid JSON.
    pub raw: String,
}

impl OAuthError {
    /// Parses the decoded error challenge. Invalid JSON still gives a value, with only
    /// [`raw`](Self::raw) set.
    pub fn parse(challenge: &[u8]) -> Self {
        let raw = String::from_utf8_lossy(challenge).into_owned();
        let Ok(serde_json::Value::Object(map)) =
            serde_json::from_slice::<serde_json::Value>(challenge)
        else {
            return OAuthError {
                raw,
                ..Default::default()
            };
        };
        let field = |k: &str| match map.get(k) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        OAuthError {
            status: field("status"),
            scope: field("scope"),
            openid_configuration: field("openid-configuration"),
            schemes: field("schemes"),
            raw,
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "status {}", self.status.as_deref().unwrap_or("(none)"))?;
        if let Some(s) = &self.scope {
            write!(f, ", scope {s}")?;
        }
        Ok(())
    }
}

/// Checks a token: non-empty, no control characters (which would break the `%x01`-separated
/// message) and no spaces.
fn check_token(mechanism: Mechanism, token: &str) -> Result<(), SaslError> {
    if token.is_empty() {
        return Err(SaslError::InvalidCredentials {
            mechanism,
            reason: "empty token",
        });
    }
    if token.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(SaslError::InvalidCredentials {
            mechanism,
            reason: "token contains a control character or space",
        });
    }
    Ok(())
}

fn check_field(mechanism: Mechanism, s: &str, reason: &'static str) -> Result<(), SaslError> {
    if s.bytes().any(|b| b.is_ascii_control()) {
        return Err(SaslError::InvalidCredentials { mechanism, reason });
    }
    Ok(())
}

/// The shared client state of both mechanisms.
#[derive(Debug, Clone)]
struct TokenExchange {
    mechanism: Mechanism,
    message: Secret<Bytes>,
    first: FirstStep,
    /// The response to the error challenge.
    error_ack: &'static [u8],
    error: Option<OAuthError>,
    finished: bool,
}

impl TokenExchange {
    /// A new exchange sending `message` (the token in it), answering an error challenge
    /// with `error_ack`.
    fn new(mechanism: Mechanism, message: Vec<u8>, error_ack: &'static [u8]) -> Self {
        TokenExchange {
            mechanism,
            message: Secret::new(message.into()),
            first: FirstStep::Pending,
            error_ack,
            error: None,
            finished: false,
        }
    }

    fn initial_response(&mut self) -> Result<Option<Secret<Bytes>>, SaslError> {
        if self.first.take(self.mechanism, b"")? {
            Ok(Some(self.message.clone()))
        } else {
            Err(SaslError::Misuse {
                mechanism: self.mechanism,
                what: "initial response already sent",
            })
        }
    }

    fn step(&mut self, challenge: &[u8]) -> Result<Secret<Bytes>, SaslError> {
        if self.first.take(self.mechanism, challenge)? {
            return Ok(self.message.clone());
        }
        if self.error.is_some() || self.finished {
            return Err(SaslError::UnexpectedChallenge {
                mechanism: self.mechanism,
                state: "after the error challenge",
            });
        }
        self.error = Some(OAuthError::parse(challenge));
        Ok(Secret::new(Bytes::from_static(self.error_ack)))
    }

    fn finish(&mut self, success: bool) -> Result<(), SaslError> {
        if std::mem::replace(&mut self.finished, true) {
            return Err(SaslError::Misuse {
                mechanism: self.mechanism,
                what: "finish called twice",
            });
        }
        match (success, self.error.take()) {
            (true, _) => Ok(()),
            (false, Some(error)) => Err(SaslError::OAuth {
                mechanism: self.mechanism,
                error: Box::new(error),
            }),
            (false, None) => Err(SaslError::Rejected {
                mechanism: self.mechanism,
            }),
        }
    }
}

/// [`ClientMechanism`] for a newtype over [`TokenExchange`], which does the whole exchange
/// (both OAuth mechanisms differ only in the message and the error acknowledgement).
macro_rules! token_exchange_client {
    ($t:ty) => {
        impl ClientMechanism for $t {
            fn mechanism(&self) -> Mechanism {
                self.0.mechanism
            }
            fn initial_response(&mut self) -> Result<Option<Secret<Bytes>>, SaslError> {
                self.0.initial_response()
            }
            fn step(&mut self, challenge: &[u8]) -> Result<Secret<Bytes>, SaslError> {
                self.0.step(challenge)
            }
            fn finish(&mut self, success: bool) -> Result<(), SaslError> {
                self.0.finish(success)
            }
        }
    };
}

/// The client side of XOAUTH2: `user=<user>^Aauth=Bearer <token>^A^A`.
#[derive(Debug, Clone)]
pub struct XOAuth2Client(TokenExchange);

impl XOAuth2Client {
    /// XOAUTH2 for `user` with the access token.
    pub fn new(user: &str, token: &Secret<String>) -> Result<Self, SaslError> {
        let m = Mechanism::XOAuth2;
        check_token(m, token.expose())?;
        check_field(m, user, "user name contains a control character")?;
        let mut msg = Vec::new();
        msg.extend_from_slice(b"user=");
        msg.extend_from_slice(user.as_bytes());
        msg.extend_from_slice(b"\x01auth=Bearer ");
        msg.extend_from_slice(token.expose().as_bytes());
        msg.extend_from_slice(b"\x01\x01");
        Ok(XOAuth2Client(TokenExchange::new(m, msg, b"")))
    }
}

token_exchange_client!(XOAuth2Client);

/// The client side of OAUTHBEARER (RFC 7628 §3.1):
/// `n,a=<user>,^Ahost=<host>^Aport=<port>^Aauth=Bearer <token>^A^A`.
#[derive(Debug, Clone)]
pub struct OAuthBearerClient(TokenExchange);

impl OAuthBearerClient {
    /// OAUTHBEARER for `user` (the gs2 authzid; may be empty to let the token name the user)
    /// with the access token. `host` and `port` are the server the client connected to
    /// (optional; RFC 7628 §3.1 says they SHOULD be sent).
    pub fn new(
        user: &str,
        token: &Secret<String>,
        host: Option<&str>,
        port: Option<u16>,
    ) -> Result<Self, SaslError> {
        check_token(Mechanism::OAuthBearer, token.expose())?;
        Self::build(user, Some(token.expose()), host, port)
    }

    /// The discovery request of RFC 7628 §4.3: `auth=` without a token. The server answers
    /// with the error challenge naming the `scope` and `openid-configuration`, which
    /// [`ClientMechanism::finish`] returns.
    pub fn discovery(user: &str, host: Option<&str>, port: Option<u16>) -> Result<Self, SaslError> {
        Self::build(user, None, host, port)
    }

    fn build(
        user: &str,
        token: Option<&str>,
        host: Option<&str>,
        port: Option<u16>,
    ) -> Result<Self, SaslError> {
        let m = Mechanism::OAuthBearer;
        check_field(m, user, "user name contains a control character")?;
        check_field(m, host.unwrap_or(""), "host contains a control character")?;
        let mut msg = Vec::new();
        msg.extend_from_slice(b"n,");
        if !user.is_empty() {
            msg.extend_from_slice(b"a=");
            push_saslname(&mut msg, user);
        }
        msg.push(b',');
        msg.push(1);
        if let Some(h) = host {
            msg.extend_from_slice(b"host=");
            msg.extend_from_slice(h.as_bytes());
            msg.push(1);
        }
        if let Some(p) = port {
            msg.extend_from_slice(format!("port={p}").as_bytes());
            msg.push(1);
        }
        msg.extend_from_slice(b"auth=");
        if let Some(t) = token {
            msg.extend_from_slice(b"Bearer ");
            msg.extend_from_slice(t.as_bytes());
        }
        msg.extend_from_slice(b"\x01\x01");
        Ok(OAuthBearerClient(TokenExchange::new(m, msg, b"\x01")))
    }
}

token_exchange_client!(OAuthBearerClient);

/// RFC 5801 `saslname`: `,` as `=2C` and `=` as `=3D`.
pub(crate) fn push_saslname(out: &mut Vec<u8>, s: &str) {
    for b in s.bytes() {
        match b {
            b',' => out.extend_from_slice(b"=2C"),
            b'=' => out.extend_from_slice(b"=3D"),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    fn tok(s: &str) -> Secret<String> {
        Secret::new(s.to_owned())
    }

    /// RFC 7628 §4.1: the IMAP initial response, base64 as in the RFC (line breaks removed).
    #[test]
    fn rfc7628_successful_exchange() {
        let mut c = OAuthBearerClient::new(
            "user@example.com",
            &tok("vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="),
            Some("server.example.com"),
            Some(143),
        )
        .unwrap();
        let ir = c.initial_response().unwrap().unwrap();
        assert_eq!(
            STANDARD.encode(ir.expose()),
            concat!(
                "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhv",
                "c3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyI",
                "HZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQ",
                "EB"
            )
        );
        assert_eq!(c.finish(true), Ok(()));
    }

    const RFC7628_ERROR: &str = concat!(
        "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxl",
        "X3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4",
        "YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9u",
        "In0="
    );

    /// RFC 7628 §4.3: discovery request, JSON error challenge, `AQ==` (0x01), NO.
    #[test]
    fn rfc7628_failed_exchange() {
        let mut c =
            OAuthBearerClient::discovery("user@example.com", Some("server.example.com"), Some(143))
                .unwrap();
        let ir = c.initial_response().unwrap().unwrap();
        assert_eq!(
            STANDARD.encode(ir.expose()),
            "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9AQE="
        );
        let challenge = STANDARD.decode(RFC7628_ERROR).unwrap();
        let r = c.step(&challenge).unwrap();
        assert_eq!(STANDARD.encode(r.expose()), "AQ==");
        assert!(matches!(
            c.step(b"{}"),
            Err(SaslError::UnexpectedChallenge { .. })
        ));
        let Err(SaslError::OAuth { mechanism, error }) = c.finish(false) else {
            panic!("expected a typed OAuth failure")
        };
        assert_eq!(mechanism, Mechanism::OAuthBearer);
        assert_eq!(error.status.as_deref(), Some("invalid_token"));
        assert_eq!(error.scope.as_deref(), Some("example_scope"));
        assert_eq!(
            error.openid_configuration.as_deref(),
            Some("https://example.com/.well-known/openid-configuration")
        );
    }

    #[test]
    fn oauthbearer_without_host_port_and_user() {
        let mut c = OAuthBearerClient::new("", &tok("abc"), None, None).unwrap();
        assert_eq!(
            c.step(b"").unwrap().expose().as_ref(),
            b"n,,\x01auth=Bearer abc\x01\x01"
        );
        let mut c = OAuthBearerClient::new("a,b=c", &tok("abc"), None, Some(993)).unwrap();
        assert_eq!(
            c.initial_response().unwrap().unwrap().expose().as_ref(),
            b"n,a=a=2Cb=3Dc,\x01port=993\x01auth=Bearer abc\x01\x01"
        );
        // A plain NO without an error challenge.
        assert_eq!(
            c.finish(false),
            Err(SaslError::Rejected {
                mechanism: Mechanism::OAuthBearer
            })
        );
    }

    #[test]
    fn xoauth2_message_and_error_flow() {
        let mut c = XOAuth2Client::new(
            "someuser@example.com",
            &tok("ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg"),
        )
        .unwrap();
        let ir = c.initial_response().unwrap().unwrap();
        assert_eq!(
            ir.expose().as_ref(),
            &b"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg\x01\x01"[..]
        );
        // Google's documented error challenge.
        let err = br#"{"status":"401","schemes":"bearer mac","scope":"https://mail.google.com/"}"#;
        let r = c.step(err).unwrap();
        assert!(
            r.expose().is_empty(),
            "XOAUTH2 answers the error with an empty response"
        );
        let Err(SaslError::OAuth { error, .. }) = c.finish(false) else {
            panic!()
        };
        assert_eq!(error.status.as_deref(), Some("401"));
        assert_eq!(error.schemes.as_deref(), Some("bearer mac"));
        assert_eq!(error.scope.as_deref(), Some("https://mail.google.com/"));
    }

    #[test]
    fn error_json_variants() {
        let e = OAuthError::parse(br#"{"status":400,"scope":["x"]}"#);
        assert_eq!(e.status.as_deref(), Some("400"));
        assert_eq!(e.scope, None);
        let e = OAuthError::parse(b"not json \xff");
        assert_eq!(e.status, None);
        assert!(e.raw.starts_with("not json"));
        let e = OAuthError::parse(b"[1,2]");
        assert_eq!(
            e,
            OAuthError {
                raw: "[1,2]".into(),
                ..Default::default()
            }
        );
        // Deep nesting does not overflow the stack (serde_json's recursion limit).
        let deep = "[".repeat(100_000);
        assert_eq!(OAuthError::parse(deep.as_bytes()).status, None);
    }

    #[test]
    fn tokens_are_checked_and_redacted() {
        for bad in ["", "a\x01b", "a b", "a\r\n"] {
            assert!(XOAuth2Client::new("u", &tok(bad)).is_err(), "{bad:?}");
            assert!(
                OAuthBearerClient::new("u", &tok(bad), None, None).is_err(),
                "{bad:?}"
            );
        }
        assert!(OAuthBearerClient::new("u", &tok("t"), Some("h\x01"), None).is_err());
        let c = XOAuth2Client::new("u", &tok("sekrit-token")).unwrap();
        assert!(!format!("{c:?}").contains("sekrit"));
        let c = OAuthBearerClient::new("u", &tok("sekrit-token"), None, None).unwrap();
        assert!(!format!("{c:?}").contains("sekrit"));
    }

    #[test]
    fn success_after_initial_response() {
        let mut c = XOAuth2Client::new("u", &tok("t")).unwrap();
        let _ = c.step(b"").unwrap();
        assert_eq!(c.finish(true), Ok(()));
        assert!(matches!(c.finish(true), Err(SaslError::Misuse { .. })));
    }
}
