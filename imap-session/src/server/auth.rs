//! Server side of AUTHENTICATE and LOGIN (RFC 9051 §6.2.2–§6.2.3; RFC 4616 PLAIN, the LOGIN
//! mechanism, RFC 5802/7677 SCRAM, RFC 7628 OAUTHBEARER and XOAUTH2), verified against stored
//! SCRAM keys.

use std::sync::OnceLock;

use bytes::Bytes;
use imapwire_codec::capability::{AuthMechanism, Capability};
use imapwire_codec::core::Secret;
use imapwire_codec::response::ResponseCode;

use super::config::ServerConfig;
use crate::sasl::login::{LoginServer, LoginStep};
use crate::sasl::plain::parse_plain;
use crate::sasl::scram::{ChannelBinding, ScramHash, ScramServer, StoredKeys};

/// What the exchange does next.
#[derive(Debug)]
pub(super) enum AuthStep {
    /// Send this challenge (`+ base64`).
    Challenge(Bytes),
    /// Authenticated as this user.
    Success(String),
    /// Credentials rejected (`NO [AUTHENTICATIONFAILED]`).
    Failure,
    /// The exchange broke the protocol (`BAD`).
    #[allow(dead_code)]
    Malformed(&'static str),
}

#[derive(Debug)]
pub(super) enum ScramStage {
    First,
    Final {
        user: String,
        authzid: Option<String>,
    },
    Verified {
        user: String,
        authzid: Option<String>,
    },
}

#[derive(Debug)]
pub(super) enum OAuthKind {
    Bearer,
    XOAuth2,
}

/// One AUTHENTICATE exchange.
#[derive(Debug)]
pub(super) enum AuthExchange {
    Plain,
    Login(LoginServer),
    Scram(Box<ScramServer>, ScramHash, ScramStage),
    OAuth { kind: OAuthKind, error_sent: bool },
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `password` is `user`'s: SCRAM keys derived from it with the stored salt and
/// iteration count match the stored ones.
pub(super) fn verify_password(config: &ServerConfig, user: &str, password: &str) -> bool {
    let Some(store) = &config.credentials else {
        return false;
    };
    let Some(keys) = store
        .scram_keys(user, ScramHash::Sha256)
        .or_else(|| store.scram_keys(user, ScramHash::Sha1))
    else {
        return false;
    };
    let pw = Secret::new(password.to_owned());
    match StoredKeys::derive(keys.hash, &pw, &keys.salt, keys.iterations) {
        Ok(k) => ct_eq(k.stored_key.expose(), keys.stored_key.expose()),
        Err(_) => false,
    }
}

/// Keys for a user who does not exist: a salt that is stable per user name (so repeated
/// attempts look alike) and a random password nobody knows.
fn unknown_user_keys(config: &ServerConfig, user: &str, hash: ScramHash) -> Option<StoredKeys> {
    static KEY: OnceLock<[u8; 16]> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let mut k = [0u8; 16];
        let _ = getrandom::fill(&mut k);
        k
    });
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(key);
    h.update(user.as_bytes());
    let salt = h.finalize();
    let pw = crate::sasl::scram::os_nonce().unwrap_or_else(|_| "x".repeat(24));
    StoredKeys::derive(
        hash,
        &Secret::new(pw),
        &salt[..16],
        config.scram_unknown_iterations.max(1),
    )
    .ok()
}

impl AuthExchange {
    /// The exchange for `mechanism`, if it is offered now.
    pub(super) fn new(
        mechanism: &str,
        offered: &[Capability],
        config: &ServerConfig,
        binding: Option<&ChannelBinding>,
    ) -> Result<Self, (Option<ResponseCode>, &'static str)> {
        let m = mechanism.to_ascii_uppercase();
        // One construction for the four SCRAM mechanisms. The non-PLUS server knows whether
        // PLUS was offered (a client's `y` flag then means a downgrade, RFC 5802 §6).
        let scram = |h, plus: bool| {
            let server = match (plus, binding) {
                (false, _) => ScramServer::new(h).with_plus_advertised(binding.is_some()),
                (true, Some(b)) => ScramServer::new_plus(h, b.clone()),
                (true, None) => {
                    return Err((
                        Some(ResponseCode::Cannot),
                        "channel binding is not available on this connection",
                    ));
                }
            };
            Ok(AuthExchange::Scram(Box::new(server), h, ScramStage::First))
        };
        let (auth, ex) = match m.as_str() {
            "SCRAM-SHA-256-PLUS" => (
                AuthMechanism::ScramSha256Plus,
                scram(ScramHash::Sha256, true)?,
            ),
            "SCRAM-SHA-1-PLUS" => (AuthMechanism::ScramSha1Plus, scram(ScramHash::Sha1, true)?),
            "PLAIN" => (AuthMechanism::Plain, AuthExchange::Plain),
            "LOGIN" => (
                AuthMechanism::Login,
                AuthExchange::Login(LoginServer::new()),
            ),
            "SCRAM-SHA-256" => (AuthMechanism::ScramSha256, scram(ScramHash::Sha256, false)?),
            "SCRAM-SHA-1" => (AuthMechanism::ScramSha1, scram(ScramHash::Sha1, false)?),
            "OAUTHBEARER" => (
                AuthMechanism::OAuthBearer,
                AuthExchange::OAuth {
                    kind: OAuthKind::Bearer,
                    error_sent: false,
                },
            ),
            "XOAUTH2" => (
                AuthMechanism::XOAuth2,
                AuthExchange::OAuth {
                    kind: OAuthKind::XOAuth2,
                    error_sent: false,
                },
            ),
            _ => return Err((Some(ResponseCode::Cannot), "unsupported mechanism")),
        };
        if offered.contains(&Capability::Auth(auth)) {
            return Ok(ex);
        }
        let password_like = matches!(
            ex,
            AuthExchange::Plain | AuthExchange::Login(_) | AuthExchange::OAuth { .. }
        );
        if password_like && !config.encrypted && config.credentials.is_some() {
            Err((
                Some(ResponseCode::PrivacyRequired),
                "mechanism needs an encrypted connection",
            ))
        } else {
            Err((Some(ResponseCode::Cannot), "mechanism not available"))
        }
    }

    /// The first step, with the SASL-IR initial response if one was sent.
    pub(super) fn start(&mut self, config: &ServerConfig, ir: Option<&[u8]>) -> AuthStep {
        match (self, ir) {
            (AuthExchange::Login(l), ir) => match l.start(ir) {
                Ok(LoginStep::Challenge(c)) => AuthStep::Challenge(Bytes::from_static(c)),
                Ok(LoginStep::Done { user, password }) => {
                    password_step(config, user, None, password.expose())
                }
                Err(_) => AuthStep::Failure,
            },
            (_, None) => AuthStep::Challenge(Bytes::new()),
            (ex, Some(d)) => ex.respond(config, d),
        }
    }

    /// The client's response to the last challenge.
    pub(super) fn respond(&mut self, config: &ServerConfig, d: &[u8]) -> AuthStep {
        match self {
            AuthExchange::Plain => match parse_plain(d) {
                Ok(c) => password_step(config, c.authcid, c.authzid, c.password.expose()),
                Err(_) => AuthStep::Failure,
            },
            AuthExchange::Login(l) => match l.respond(d) {
                Ok(LoginStep::Challenge(c)) => AuthStep::Challenge(Bytes::from_static(c)),
                Ok(LoginStep::Done { user, password }) => {
                    password_step(config, user, None, password.expose())
                }
                Err(_) => AuthStep::Failure,
            },
            AuthExchange::Scram(server, hash, stage) => scram_step(config, server, *hash, stage, d),
            AuthExchange::OAuth { kind, error_sent } => {
                if *error_sent {
                    // The client's dummy response to the error challenge (RFC 7628 §3.2.3).
                    return AuthStep::Failure;
                }
                let Some((user, token)) = parse_oauth(kind, d) else {
                    return AuthStep::Failure;
                };
                let Some(store) = &config.credentials else {
                    return AuthStep::Failure;
                };
                match store.verify_token(user.as_deref(), &Secret::new(token)) {
                    Ok(u) => AuthStep::Success(u),
                    Err(json) => {
                        *error_sent = true;
                        AuthStep::Challenge(Bytes::from(json))
                    }
                }
            }
        }
    }
}

fn password_step(
    config: &ServerConfig,
    user: String,
    authzid: Option<String>,
    password: &str,
) -> AuthStep {
    if !verify_password(config, &user, password) {
        return AuthStep::Failure;
    }
    authorize(config, user, authzid)
}

fn authorize(config: &ServerConfig, user: String, authzid: Option<String>) -> AuthStep {
    let Some(store) = &config.credentials else {
        return AuthStep::Failure;
    };
    if !store.authorize(&user, authzid.as_deref()) {
        return AuthStep::Failure;
    }
    AuthStep::Success(authzid.unwrap_or(user))
}

fn scram_step(
    config: &ServerConfig,
    server: &mut ScramServer,
    hash: ScramHash,
    stage: &mut ScramStage,
    d: &[u8],
) -> AuthStep {
    match std::mem::replace(stage, ScramStage::First) {
        ScramStage::First => {
            let Ok(first) = server.client_first(d) else {
                return AuthStep::Failure;
            };
            let keys = config
                .credentials
                .as_ref()
                .and_then(|s| s.scram_keys(&first.username, hash))
                .or_else(|| unknown_user_keys(config, &first.username, hash));
            let Some(keys) = keys else {
                return AuthStep::Failure;
            };
            match server.server_first(keys) {
                Ok(c) => {
                    *stage = ScramStage::Final {
                        user: first.username,
                        authzid: first.authzid,
                    };
                    AuthStep::Challenge(c)
                }
                Err(_) => AuthStep::Failure,
            }
        }
        ScramStage::Final { user, authzid } => match server.client_final(d) {
            Ok(v) => {
                *stage = ScramStage::Verified { user, authzid };
                AuthStep::Challenge(v)
            }
            Err(_) => AuthStep::Failure,
        },
        ScramStage::Verified { user, authzid } => {
            if !d.is_empty() {
                return AuthStep::Failure;
            }
            authorize(config, user, authzid)
        }
    }
}

/// `(user, token)` from an OAUTHBEARER (`n,a=user,^Aauth=Bearer tok^A^A`) or XOAUTH2
/// (`user=u^Aauth=Bearer tok^A^A`) initial response.
fn parse_oauth(kind: &OAuthKind, d: &[u8]) -> Option<(Option<String>, String)> {
    let s = std::str::from_utf8(d).ok()?;
    let mut user = None;
    let mut token = None;
    let rest = match kind {
        OAuthKind::Bearer => {
            let (gs2, rest) = s.split_once('\x01')?;
            let mut parts = gs2.split(',');
            let flag = parts.next()?;
            if !matches!(flag, "n" | "y") {
                return None;
            }
            if let Some(a) = parts.next().and_then(|a| a.strip_prefix("a=")) {
                if !a.is_empty() {
                    user = Some(a.replace("=2C", ",").replace("=3D", "="));
                }
            }
            rest
        }
        OAuthKind::XOAuth2 => s,
    };
    for kv in rest.split('\x01') {
        if let Some(u) = kv.strip_prefix("user=") {
            user = Some(u.to_owned());
        } else if let Some(a) = kv.strip_prefix("auth=") {
            let t = a
                .strip_prefix("Bearer ")
                .or_else(|| a.strip_prefix("bearer "))?;
            token = Some(t.to_owned());
        }
    }
    Some((user, token?))
}
