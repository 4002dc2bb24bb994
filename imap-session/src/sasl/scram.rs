//! SCRAM (RFC 5802; SCRAM-SHA-256 RFC 7677; channel binding RFC 5929, RFC 9266) on both
//! sides: [`ScramClient`] authenticates with a password, never sends it, and authenticates
//! the server in turn; [`ScramServer`] verifies a client against [`StoredKeys`] without
//! knowing the password.
//!
//! The exchange (client first):
//!
//! ```text
//! C: n,,n=user,r=<client nonce>                          client-first-message
//! S: r=<client nonce><server nonce>,s=<salt>,i=<count>   server-first-message
//! C: c=biws,r=<nonce>,p=<proof>                          client-final-message
//! S: v=<server signature>   (or e=<error>)               server-final-message
//! C: (empty response)
//! S: <tag> OK
//! ```
//!
//! Crypto is RustCrypto's (`pbkdf2`, `hmac`, `sha1`, `sha2`); user names and passwords are
//! prepared with SASLprep (RFC 4013, `stringprep` crate). The client checks the iteration
//! count against [`ScramLimits`] (at least 4096 by default, RFC 5802 §5.1 and RFC 7677 §4; at
//! most 1,000,000 by default, so a hostile server cannot make the client burn CPU).
//!
//! Nonces come from a [`NonceSource`]; the default ([`os_nonce`]) takes 18 bytes from the
//! operating system (`getrandom`) and base64-encodes them. Tests pass a fixed source.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::{ClientMechanism, Mechanism, SaslError, ScramServerError, Secret};
use crate::tag::RandomError;

/// The hash function of a SCRAM mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScramHash {
    /// SHA-1 (SCRAM-SHA-1, RFC 5802).
    Sha1,
    /// SHA-256 (SCRAM-SHA-256, RFC 7677).
    Sha256,
}

impl ScramHash {
    /// The mechanism name with or without `-PLUS`.
    pub fn mechanism(self, plus: bool) -> Mechanism {
        match (self, plus) {
            (ScramHash::Sha1, false) => Mechanism::ScramSha1,
            (ScramHash::Sha1, true) => Mechanism::ScramSha1Plus,
            (ScramHash::Sha256, false) => Mechanism::ScramSha256,
            (ScramHash::Sha256, true) => Mechanism::ScramSha256Plus,
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        fn run<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
            // HMAC accepts keys of any length (longer keys are hashed), so this cannot fail;
            // an empty output would make every later comparison fail rather than panic.
            match <M as KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(data);
                    m.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            ScramHash::Sha1 => run::<Hmac<Sha1>>(key, data),
            ScramHash::Sha256 => run::<Hmac<Sha256>>(key, data),
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => Sha1::digest(data).to_vec(),
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    fn output_len(self) -> usize {
        match self {
            ScramHash::Sha1 => 20,
            ScramHash::Sha256 => 32,
        }
    }

    /// `Hi(Normalize(password), salt, i)`: PBKDF2 with HMAC of this hash.
    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        let mut out = vec![0u8; self.output_len()];
        match self {
            ScramHash::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out),
            ScramHash::Sha256 => {
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out)
            }
        }
        out
    }
}

/// A channel-binding type (RFC 5056) for the `-PLUS` mechanisms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelBindingType {
    /// `tls-exporter` (RFC 9266): the TLS exporter value with label
    /// `EXPORTER-Channel-Binding`, empty context, 32 bytes. Use with TLS 1.3.
    TlsExporter,
    /// `tls-server-end-point` (RFC 5929 §4): the hash of the server certificate.
    TlsServerEndPoint,
    /// `tls-unique` (RFC 5929 §3): the first Finished message of the TLS handshake. Defined
    /// for TLS 1.2 and earlier only (RFC 9266 §3: not for TLS 1.3); some servers verify only
    /// this type (see [`crate::profile::ServerProfile::scram_plus_bindings`]).
    TlsUnique,
}

impl ChannelBindingType {
    /// The name used in `p=<name>`.
    pub fn name(self) -> &'static str {
        match self {
            ChannelBindingType::TlsExporter => "tls-exporter",
            ChannelBindingType::TlsServerEndPoint => "tls-server-end-point",
            ChannelBindingType::TlsUnique => "tls-unique",
        }
    }
}

/// Channel-binding type and data, supplied by whoever owns the TLS connection.
#[derive(Clone, PartialEq, Eq)]
pub struct ChannelBinding {
    /// The type.
    pub kind: ChannelBindingType,
    /// The data of that type for this connection.
    pub data: Bytes,
}

impl fmt::Debug for ChannelBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelBinding")
            .field("kind", &self.kind)
            .field("data_len", &self.data.len())
            .finish()
    }
}

/// Bounds on the server's iteration count (client side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScramLimits {
    /// Counts below are refused ([`SaslError::IterationsTooLow`]); default 4096. Lower it
    /// only for legacy servers you trust.
    pub min_iterations: u32,
    /// Counts above are refused ([`SaslError::IterationsTooHigh`]); default 1,000,000.
    pub max_iterations: u32,
}

impl Default for ScramLimits {
    fn default() -> Self {
        ScramLimits {
            min_iterations: 4096,
            max_iterations: 1_000_000,
        }
    }
}

impl ScramLimits {
    /// Limits with these bounds.
    pub fn new(min_iterations: u32, max_iterations: u32) -> Self {
        ScramLimits {
            min_iterations,
            max_iterations,
        }
    }
}

/// Produces a nonce: printable ASCII without `,` (RFC 5802 `printable`). Called once per
/// exchange.
pub type NonceSource = Box<dyn FnMut() -> Result<String, RandomError> + Send>;

/// The default nonce: 18 random bytes from the operating system, base64-encoded (24
/// characters, 144 bits).
pub fn os_nonce() -> Result<String, RandomError> {
    let mut b = [0u8; 18];
    getrandom::fill(&mut b).map_err(|e| RandomError(e.to_string()))?;
    Ok(B64.encode(b))
}

fn is_printable(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

fn take_nonce(source: &mut NonceSource, mechanism: Mechanism) -> Result<String, SaslError> {
    let n = source().map_err(|e| SaslError::Random(e.0))?;
    if !is_printable(&n) {
        return Err(SaslError::Misuse {
            mechanism,
            what: "nonce source returned a nonce that is empty or not printable without ','",
        });
    }
    Ok(n)
}

/// SASLprep (RFC 4013) of a user name or password.
fn prep(s: &str, mechanism: Mechanism, reason: &'static str) -> Result<String, SaslError> {
    stringprep::saslprep(s)
        .map(|c| c.into_owned())
        .map_err(|_| SaslError::InvalidCredentials { mechanism, reason })
}

/// RFC 5802 `saslname` decoding: `=2C` → `,`, `=3D` → `=`; any other `=` is an error.
fn unescape_saslname(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(rest.get(..i)?);
        let code = rest.get(i..i + 3)?;
        out.push(match code {
            "=2C" => ',',
            "=3D" => '=',
            _ => return None,
        });
        rest = rest.get(i + 3..)?;
    }
    out.push_str(rest);
    Some(out)
}

fn escape_saslname(s: &str) -> String {
    s.replace('=', "=3D").replace(',', "=2C")
}

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// Equality in time independent of where the inputs differ.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Splits `key=value` attributes of a SCRAM message.
fn attributes(msg: &str) -> impl Iterator<Item = (u8, &str)> {
    msg.split(',').map(|a| {
        let b = a.as_bytes();
        match (b.first(), b.get(1)) {
            (Some(&k), Some(b'=')) if k.is_ascii_alphabetic() => (k, a.get(2..).unwrap_or("")),
            _ => (0, a),
        }
    })
}

#[derive(Debug)]
enum ClientState {
    Initial,
    SentFirst {
        nonce: String,
        client_first_bare: String,
    },
    SentFinal {
        server_key: Secret<Vec<u8>>,
        auth_message: Secret<String>,
    },
    Verified,
    Failed,
    Finished,
}

/// The client side of SCRAM-SHA-1, SCRAM-SHA-256 and their `-PLUS` variants.
pub struct ScramClient {
    hash: ScramHash,
    binding: Option<ChannelBinding>,
    client_supports_binding: bool,
    authzid: Option<String>,
    username: String,
    password: Secret<String>,
    nonce_source: NonceSource,
    limits: ScramLimits,
    state: ClientState,
}

impl fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramClient")
            .field("mechanism", &self.mechanism())
            .field("username", &self.username)
            .field("password", &self.password)
            .field("binding", &self.binding)
            .field("limits", &self.limits)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl ScramClient {
    /// SCRAM with `hash` for `username` and `password` (both SASLprep'd here), without
    /// channel binding (gs2 flag `n`), nonces from [`os_nonce`], default [`ScramLimits`].
    pub fn new(
        hash: ScramHash,
        username: &str,
        password: &Secret<String>,
    ) -> Result<Self, SaslError> {
        let m = hash.mechanism(false);
        let username = prep(username, m, "user name fails SASLprep")?;
        let password = prep(password.expose(), m, "password fails SASLprep")?;
        if username.is_empty() || password.is_empty() {
            return Err(SaslError::InvalidCredentials {
                mechanism: m,
                reason: "empty user name or password",
            });
        }
        Ok(ScramClient {
            hash,
            binding: None,
            client_supports_binding: false,
            authzid: None,
            username,
            password: Secret::new(password),
            nonce_source: Box::new(os_nonce),
            limits: ScramLimits::default(),
            state: ClientState::Initial,
        })
    }

    /// The `-PLUS` mechanism, bound to the TLS channel with `binding` (gs2 flag
    /// `p=<type>`; `c=` carries the gs2 header and the data).
    pub fn with_channel_binding(mut self, binding: ChannelBinding) -> Self {
        self.binding = Some(binding);
        self
    }

    /// For the non-`PLUS` mechanism: declare that the client supports channel binding but
    /// the server did not offer `-PLUS` (gs2 flag `y`), which lets a server that does support
    /// it detect a downgrade (RFC 5802 §6). Ignored with [`with_channel_binding`](Self::with_channel_binding).
    pub fn with_client_supports_channel_binding(mut self, yes: bool) -> Self {
        self.client_supports_binding = yes;
        self
    }

    /// Act as `authzid` (gs2 `a=`).
    pub fn with_authzid(mut self, authzid: &str) -> Self {
        self.authzid = Some(authzid.to_owned()).filter(|a| !a.is_empty());
        self
    }

    /// Take nonces from `source` (tests; a hardware RNG).
    pub fn with_nonce_source(mut self, source: NonceSource) -> Self {
        self.nonce_source = source;
        self
    }

    /// Iteration-count bounds.
    pub fn with_limits(mut self, limits: ScramLimits) -> Self {
        self.limits = limits;
        self
    }

    fn gs2_header(&self) -> String {
        let flag = match (&self.binding, self.client_supports_binding) {
            (Some(b), _) => format!("p={}", b.kind.name()),
            (None, true) => "y".to_owned(),
            (None, false) => "n".to_owned(),
        };
        match &self.authzid {
            Some(a) => format!("{flag},a={},", escape_saslname(a)),
            None => format!("{flag},,"),
        }
    }

    fn malformed(&self, expected: &'static str) -> SaslError {
        SaslError::Malformed {
            mechanism: self.mechanism(),
            expected,
        }
    }

    fn client_first(&mut self) -> Result<Secret<Bytes>, SaslError> {
        let m = self.mechanism();
        let nonce = take_nonce(&mut self.nonce_source, m)?;
        let bare = format!("n={},r={nonce}", escape_saslname(&self.username));
        let msg = format!("{}{bare}", self.gs2_header());
        self.state = ClientState::SentFirst {
            nonce,
            client_first_bare: bare,
        };
        Ok(Secret::new(Bytes::from(msg)))
    }

    fn client_final(
        &mut self,
        server_first: &[u8],
        nonce: &str,
        client_first_bare: &str,
    ) -> Result<Secret<Bytes>, SaslError> {
        let server_first = std::str::from_utf8(server_first)
            .map_err(|_| self.malformed("UTF-8 server-first-message"))?;
        let mut attrs = attributes(server_first);
        let (combined, salt, iterations) = match (attrs.next(), attrs.next(), attrs.next()) {
            (Some((b'm', _)), _, _) => return Err(SaslError::UnsupportedExtension),
            (Some((b'r', r)), Some((b's', s)), Some((b'i', i))) => (r, s, i),
            _ => return Err(self.malformed("r=<nonce>,s=<salt>,i=<count> in server-first-message")),
        };
        if !is_printable(combined) {
            return Err(self.malformed("a printable server nonce"));
        }
        if !combined.starts_with(nonce) || combined.len() == nonce.len() {
            return Err(SaslError::NonceMismatch);
        }
        let salt = B64
            .decode(salt)
            .ok()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.malformed("a non-empty base64 salt"))?;
        if iterations.is_empty() || !iterations.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.malformed("a decimal iteration count"));
        }
        // Digits only: a parse failure means the number is too large for u32.
        let got = iterations.parse::<u32>().unwrap_or(u32::MAX);
        if got < self.limits.min_iterations || got == 0 {
            return Err(SaslError::IterationsTooLow {
                got,
                min: self.limits.min_iterations,
            });
        }
        if got > self.limits.max_iterations {
            return Err(SaslError::IterationsTooHigh {
                got,
                max: self.limits.max_iterations,
            });
        }

        let h = self.hash;
        let mut cbind = self.gs2_header().into_bytes();
        if let Some(b) = &self.binding {
            cbind.extend_from_slice(&b.data);
        }
        let without_proof = format!("c={},r={combined}", B64.encode(&cbind));
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let salted = h.salted_password(self.password.expose().as_bytes(), &salt, got);
        let client_key = h.hmac(&salted, b"Client Key");
        let stored_key = h.hash(&client_key);
        let client_signature = h.hmac(&stored_key, auth_message.as_bytes());
        let proof = xor(&client_key, &client_signature);
        let server_key = h.hmac(&salted, b"Server Key");
        self.state = ClientState::SentFinal {
            server_key: Secret::new(server_key),
            auth_message: Secret::new(auth_message),
        };
        Ok(Secret::new(Bytes::from(format!(
            "{without_proof},p={}",
            B64.encode(proof)
        ))))
    }

    fn verify_server_final(
        &mut self,
        msg: &[u8],
        server_key: &[u8],
        auth_message: &str,
    ) -> Result<Secret<Bytes>, SaslError> {
        let msg =
            std::str::from_utf8(msg).map_err(|_| self.malformed("UTF-8 server-final-message"))?;
        match attributes(msg).next() {
            Some((b'e', e)) => Err(SaslError::ScramServer(ScramServerError::from_value(e))),
            Some((b'v', v)) => {
                let got = B64
                    .decode(v)
                    .map_err(|_| SaslError::ServerSignatureMismatch)?;
                let want = self.hash.hmac(server_key, auth_message.as_bytes());
                if ct_eq(&got, &want) {
                    self.state = ClientState::Verified;
                    Ok(Secret::new(Bytes::new()))
                } else {
                    Err(SaslError::ServerSignatureMismatch)
                }
            }
            _ => Err(self.malformed("v=<signature> or e=<error> in server-final-message")),
        }
    }
}

impl ClientMechanism for ScramClient {
    fn mechanism(&self) -> Mechanism {
        self.hash.mechanism(self.binding.is_some())
    }

    fn initial_response(&mut self) -> Result<Option<Secret<Bytes>>, SaslError> {
        match self.state {
            ClientState::Initial => self.client_first().map(Some),
            _ => Err(SaslError::Misuse {
                mechanism: self.mechanism(),
                what: "initial response already sent",
            }),
        }
    }

    fn step(&mut self, challenge: &[u8]) -> Result<Secret<Bytes>, SaslError> {
        let terminal = match self.state {
            ClientState::Verified => Some("after the server-final-message"),
            ClientState::Finished => Some("after finish"),
            ClientState::Failed => Some("after a failed step"),
            _ => None,
        };
        if let Some(state) = terminal {
            return Err(SaslError::UnexpectedChallenge {
                mechanism: self.mechanism(),
                state,
            });
        }
        let result = match std::mem::replace(&mut self.state, ClientState::Failed) {
            ClientState::Initial if challenge.is_empty() => self.client_first(),
            ClientState::SentFirst {
                nonce,
                client_first_bare,
            } => self.client_final(challenge, &nonce, &client_first_bare),
            ClientState::SentFinal {
                server_key,
                auth_message,
            } => self.verify_server_final(challenge, server_key.expose(), auth_message.expose()),
            _ => Err(SaslError::UnexpectedChallenge {
                mechanism: self.mechanism(),
                state: "before the client-first-message",
            }),
        };
        if result.is_err() {
            self.state = ClientState::Failed;
        }
        result
    }

    fn finish(&mut self, success: bool) -> Result<(), SaslError> {
        let m = self.mechanism();
        match std::mem::replace(&mut self.state, ClientState::Finished) {
            ClientState::Finished => Err(SaslError::Misuse {
                mechanism: m,
                what: "finish called twice",
            }),
            ClientState::Verified if success => Ok(()),
            _ if success => Err(SaslError::ServerNotAuthenticated { mechanism: m }),
            _ => Err(SaslError::Rejected { mechanism: m }),
        }
    }
}

/// What a server stores per user for SCRAM (RFC 5802 §3): enough to verify a client, not
/// enough to impersonate one to another server... nor to recover the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKeys {
    /// The hash function.
    pub hash: ScramHash,
    /// The salt.
    pub salt: Bytes,
    /// The iteration count.
    pub iterations: u32,
    /// `StoredKey = H(HMAC(SaltedPassword, "Client Key"))` (redacted in `Debug`).
    pub stored_key: Secret<Bytes>,
    /// `ServerKey = HMAC(SaltedPassword, "Server Key")` (redacted in `Debug`).
    pub server_key: Secret<Bytes>,
}

impl StoredKeys {
    /// Derives the stored keys from a password (SASLprep'd here), a salt (16 random bytes or
    /// more are customary) and an iteration count (at least 1).
    pub fn derive(
        hash: ScramHash,
        password: &Secret<String>,
        salt: &[u8],
        iterations: u32,
    ) -> Result<Self, SaslError> {
        let m = hash.mechanism(false);
        let pw = prep(password.expose(), m, "password fails SASLprep")?;
        if salt.is_empty() || iterations == 0 {
            return Err(SaslError::Misuse {
                mechanism: m,
                what: "salt must be non-empty and iterations at least 1",
            });
        }
        let salted = hash.salted_password(pw.as_bytes(), salt, iterations);
        let client_key = hash.hmac(&salted, b"Client Key");
        Ok(StoredKeys {
            hash,
            salt: Bytes::copy_from_slice(salt),
            iterations,
            stored_key: Secret::new(hash.hash(&client_key).into()),
            server_key: Secret::new(hash.hmac(&salted, b"Server Key").into()),
        })
    }
}

/// What the client said in its client-first-message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFirst {
    /// The user name (unescaped; not SASLprep'd — compare it with the prepared form of the
    /// stored name).
    pub username: String,
    /// The identity to act as, if any.
    pub authzid: Option<String>,
}

#[derive(Debug)]
enum ServerState {
    Initial,
    GotFirst {
        gs2_header: String,
        client_nonce: String,
        client_first_bare: String,
    },
    SentFirst {
        gs2_header: String,
        nonce: String,
        auth_prefix: String,
        keys: StoredKeys,
    },
    Done,
}

/// The server side of SCRAM.
///
/// 1. [`client_first`](Self::client_first) with the client's first message gives the user
///    name. Look up the user's [`StoredKeys`] (for an unknown user, continue with keys
///    derived from a random password so as not to reveal which users exist).
/// 2. [`server_first`](Self::server_first) gives the challenge to send.
/// 3. [`client_final`](Self::client_final) verifies the proof and gives the
///    server-final-message (`v=...`) to send as the last challenge; the client answers it
///    with an empty response, and the server completes with OK. On error, send
///    [`failure_message`](Self::failure_message) as the last challenge (or complete with NO).
pub struct ScramServer {
    hash: ScramHash,
    binding: Option<ChannelBinding>,
    plus: bool,
    plus_advertised: bool,
    nonce_source: NonceSource,
    state: ServerState,
}

impl fmt::Debug for ScramServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramServer")
            .field("mechanism", &self.hash.mechanism(self.plus))
            .field("plus_advertised", &self.plus_advertised)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl ScramServer {
    /// The server of the non-`PLUS` mechanism.
    pub fn new(hash: ScramHash) -> Self {
        ScramServer {
            hash,
            binding: None,
            plus: false,
            plus_advertised: false,
            nonce_source: Box::new(os_nonce),
            state: ServerState::Initial,
        }
    }

    /// The server of the `-PLUS` mechanism on a channel whose binding data is `binding`: the
    /// client must use `p=<that type>` and send matching data.
    pub fn new_plus(hash: ScramHash, binding: ChannelBinding) -> Self {
        ScramServer {
            binding: Some(binding),
            plus: true,
            plus_advertised: true,
            ..Self::new(hash)
        }
    }

    /// For the non-`PLUS` server: the server also advertised the `-PLUS` mechanism, so a
    /// client flag `y` ("I support channel binding, you don't seem to") means a downgrade.
    pub fn with_plus_advertised(mut self, yes: bool) -> Self {
        self.plus_advertised = yes;
        self
    }

    /// Take nonces from `source`.
    pub fn with_nonce_source(mut self, source: NonceSource) -> Self {
        self.nonce_source = source;
        self
    }

    fn mechanism(&self) -> Mechanism {
        self.hash.mechanism(self.plus)
    }

    fn malformed(&self, expected: &'static str) -> SaslError {
        SaslError::Malformed {
            mechanism: self.mechanism(),
            expected,
        }
    }

    fn misuse(&self, what: &'static str) -> SaslError {
        SaslError::Misuse {
            mechanism: self.mechanism(),
            what,
        }
    }

    /// Parses the client-first-message.
    pub fn client_first(&mut self, msg: &[u8]) -> Result<ClientFirst, SaslError> {
        if !matches!(self.state, ServerState::Initial) {
            return Err(self.misuse("client_first called twice"));
        }
        let msg = std::str::from_utf8(msg).map_err(|_| self.malformed("UTF-8"))?;
        // gs2-header = flag "," [authzid] ","
        let mut parts = msg.splitn(3, ',');
        let (Some(flag), Some(authz), Some(bare)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(self.malformed("gs2-header followed by client-first-message-bare"));
        };
        match (flag, &self.binding) {
            ("n", _) if self.plus => {
                return Err(SaslError::ChannelBinding("the -PLUS mechanism needs p="));
            }
            ("n", _) => {}
            ("y", _) if self.plus_advertised => {
                return Err(SaslError::ChannelBinding(
                    "client flag y but the server supports channel binding (downgrade)",
                ));
            }
            ("y", _) => {}
            (f, Some(b)) if self.plus && f.strip_prefix("p=") == Some(b.kind.name()) => {}
            (f, _) if f.starts_with("p=") => {
                return Err(SaslError::ChannelBinding(
                    "unsupported channel binding type or not the -PLUS mechanism",
                ));
            }
            _ => return Err(self.malformed("gs2-cbind-flag n, y or p=<type>")),
        }
        let authzid = match authz {
            "" => None,
            a => Some(
                a.strip_prefix("a=")
                    .and_then(unescape_saslname)
                    .ok_or_else(|| self.malformed("a=<saslname> authzid"))?,
            ),
        };
        let mut attrs = attributes(bare);
        let (user, nonce) = match (attrs.next(), attrs.next()) {
            (Some((b'm', _)), _) => return Err(SaslError::UnsupportedExtension),
            (Some((b'n', u)), Some((b'r', r))) => (u, r),
            _ => return Err(self.malformed("n=<user>,r=<nonce>")),
        };
        let username = unescape_saslname(user)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| self.malformed("a non-empty saslname user name"))?;
        if !is_printable(nonce) {
            return Err(self.malformed("a printable client nonce"));
        }
        let gs2_len = flag.len() + authz.len() + 2;
        self.state = ServerState::GotFirst {
            gs2_header: msg.get(..gs2_len).unwrap_or("").to_owned(),
            client_nonce: nonce.to_owned(),
            client_first_bare: bare.to_owned(),
        };
        Ok(ClientFirst { username, authzid })
    }

    /// The server-first-message for the user's keys.
    pub fn server_first(&mut self, keys: StoredKeys) -> Result<Bytes, SaslError> {
        let ServerState::GotFirst {
            gs2_header,
            client_nonce,
            client_first_bare,
        } = std::mem::replace(&mut self.state, ServerState::Done)
        else {
            return Err(self.misuse("server_first before client_first"));
        };
        if keys.hash != self.hash {
            return Err(self.misuse("stored keys are for another hash"));
        }
        let m = self.mechanism();
        let server_nonce = take_nonce(&mut self.nonce_source, m)?;
        let nonce = format!("{client_nonce}{server_nonce}");
        let msg = format!(
            "r={nonce},s={},i={}",
            B64.encode(&keys.salt),
            keys.iterations
        );
        self.state = ServerState::SentFirst {
            gs2_header,
            nonce,
            auth_prefix: format!("{client_first_bare},{msg}"),
            keys,
        };
        Ok(Bytes::from(msg))
    }

    /// Verifies the client-final-message; on success returns the server-final-message
    /// (`v=<signature>`).
    pub fn client_final(&mut self, msg: &[u8]) -> Result<Bytes, SaslError> {
        let ServerState::SentFirst {
            gs2_header,
            nonce,
            auth_prefix,
            keys,
        } = std::mem::replace(&mut self.state, ServerState::Done)
        else {
            return Err(self.misuse("client_final before server_first"));
        };
        let msg = std::str::from_utf8(msg).map_err(|_| self.malformed("UTF-8"))?;
        let Some(proof_at) = msg.rfind(",p=") else {
            return Err(self.malformed("c=...,r=...,p=<proof>"));
        };
        let without_proof = msg.get(..proof_at).unwrap_or("");
        let proof_b64 = msg.get(proof_at + 3..).unwrap_or("");
        let mut attrs = attributes(without_proof);
        let (c, r) = match (attrs.next(), attrs.next()) {
            (Some((b'c', c)), Some((b'r', r))) => (c, r),
            _ => return Err(self.malformed("c=<binding>,r=<nonce>")),
        };
        let cbind = B64
            .decode(c)
            .map_err(|_| self.malformed("base64 channel binding"))?;
        let mut want_cbind = gs2_header.into_bytes();
        if let Some(b) = self.binding.as_ref().filter(|_| self.plus) {
            want_cbind.extend_from_slice(&b.data);
        }
        if cbind != want_cbind {
            return Err(SaslError::ChannelBinding("c= does not match"));
        }
        if r != nonce {
            return Err(SaslError::NonceMismatch);
        }
        let proof = B64
            .decode(proof_b64)
            .map_err(|_| self.malformed("base64 proof"))?;
        let h = self.hash;
        let auth_message = format!("{auth_prefix},{without_proof}");
        let client_signature = h.hmac(keys.stored_key.expose(), auth_message.as_bytes());
        if proof.len() != client_signature.len() {
            return Err(SaslError::InvalidProof);
        }
        let client_key = xor(&proof, &client_signature);
        if !ct_eq(&h.hash(&client_key), keys.stored_key.expose()) {
            return Err(SaslError::InvalidProof);
        }
        let server_signature = h.hmac(keys.server_key.expose(), auth_message.as_bytes());
        Ok(Bytes::from(format!("v={}", B64.encode(server_signature))))
    }

    /// The server-final-message `e=<value>` for an error from this server's methods.
    pub fn failure_message(err: &SaslError) -> Bytes {
        use ScramServerError as E;
        let e = match err {
            SaslError::InvalidProof => E::InvalidProof,
            SaslError::UnsupportedExtension => E::ExtensionsNotSupported,
            SaslError::ChannelBinding(_) => E::ChannelBindingsDontMatch,
            SaslError::Malformed { .. } => E::InvalidEncoding,
            _ => E::OtherError,
        };
        Bytes::from(format!("e={}", e.value()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(n: &'static str) -> NonceSource {
        Box::new(move || Ok(n.to_owned()))
    }

    fn pw(s: &str) -> Secret<String> {
        Secret::new(s.to_owned())
    }

    /// Runs a client exchange against scripted server messages; returns the client's
    /// messages.
    fn script(c: &mut ScramClient, server: &[&str]) -> Vec<String> {
        let mut out = vec![
            String::from_utf8(c.initial_response().unwrap().unwrap().expose().to_vec()).unwrap(),
        ];
        for s in server {
            let r = c.step(s.as_bytes()).unwrap();
            out.push(String::from_utf8(r.expose().to_vec()).unwrap());
        }
        out
    }

    const SHA1_SERVER_FIRST: &str =
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
    const SHA1_CLIENT_FINAL: &str =
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
    const SHA1_SERVER_FINAL: &str = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";

    const SHA256_SERVER_FIRST: &str =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const SHA256_CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const SHA256_SERVER_FINAL: &str = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    fn sha1_client() -> ScramClient {
        ScramClient::new(ScramHash::Sha1, "user", &pw("pencil"))
            .unwrap()
            .with_nonce_source(fixed("fyko+d2lbbFgONRv9qkxdawL"))
    }

    fn sha256_client() -> ScramClient {
        ScramClient::new(ScramHash::Sha256, "user", &pw("pencil"))
            .unwrap()
            .with_nonce_source(fixed("rOprNGfwEbeRWgbNEkqO"))
    }

    /// RFC 5802 §5, client side.
    #[test]
    fn rfc5802_sha1_client() {
        let mut c = sha1_client();
        let msgs = script(&mut c, &[SHA1_SERVER_FIRST, SHA1_SERVER_FINAL]);
        assert_eq!(
            msgs,
            [
                "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
                SHA1_CLIENT_FINAL,
                ""
            ]
        );
        assert_eq!(c.finish(true), Ok(()));
    }

    /// RFC 7677 §3, client side.
    #[test]
    fn rfc7677_sha256_client() {
        let mut c = sha256_client();
        let msgs = script(&mut c, &[SHA256_SERVER_FIRST, SHA256_SERVER_FINAL]);
        assert_eq!(
            msgs,
            ["n,,n=user,r=rOprNGfwEbeRWgbNEkqO", SHA256_CLIENT_FINAL, ""]
        );
        assert_eq!(c.finish(true), Ok(()));
    }

    fn server_kat(
        hash: ScramHash,
        salt_b64: &str,
        server_nonce: &'static str,
        client_first: &str,
        server_first: &str,
        client_final: &str,
        server_final: &str,
    ) {
        let keys =
            StoredKeys::derive(hash, &pw("pencil"), &B64.decode(salt_b64).unwrap(), 4096).unwrap();
        let mut s = ScramServer::new(hash).with_nonce_source(fixed(server_nonce));
        let first = s.client_first(client_first.as_bytes()).unwrap();
        assert_eq!(
            first,
            ClientFirst {
                username: "user".into(),
                authzid: None
            }
        );
        assert_eq!(s.server_first(keys).unwrap(), server_first.as_bytes());
        assert_eq!(
            s.client_final(client_final.as_bytes()).unwrap(),
            server_final.as_bytes()
        );
    }

    /// RFC 5802 §5, server side (the server holds only the stored keys).
    #[test]
    fn rfc5802_sha1_server() {
        server_kat(
            ScramHash::Sha1,
            "QSXCR+Q6sek8bf92",
            "3rfcNHYJY1ZVvWVs7j",
            "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
            SHA1_SERVER_FIRST,
            SHA1_CLIENT_FINAL,
            SHA1_SERVER_FINAL,
        );
    }

    /// RFC 7677 §3, server side.
    #[test]
    fn rfc7677_sha256_server() {
        server_kat(
            ScramHash::Sha256,
            "W22ZaJ0SNY7soEsUEjb6gQ==",
            "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
            "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            SHA256_SERVER_FIRST,
            SHA256_CLIENT_FINAL,
            SHA256_SERVER_FINAL,
        );
    }

    #[test]
    fn server_rejects_a_wrong_password() {
        let keys =
            StoredKeys::derive(ScramHash::Sha256, &pw("pencil"), b"salt-salt", 4096).unwrap();
        let mut c = ScramClient::new(ScramHash::Sha256, "user", &pw("crayon")).unwrap();
        let mut s = ScramServer::new(ScramHash::Sha256);
        let cf = c.initial_response().unwrap().unwrap();
        s.client_first(cf.expose()).unwrap();
        let sf = s.server_first(keys).unwrap();
        let cfin = c.step(&sf).unwrap();
        let err = s.client_final(cfin.expose()).unwrap_err();
        assert_eq!(err, SaslError::InvalidProof);
        let e = ScramServer::failure_message(&err);
        assert_eq!(&e[..], b"e=invalid-proof");
        // The client sees the typed server error.
        assert_eq!(
            c.step(&e),
            Err(SaslError::ScramServer(ScramServerError::InvalidProof))
        );
        assert_eq!(
            c.finish(false),
            Err(SaslError::Rejected {
                mechanism: Mechanism::ScramSha256
            })
        );
    }

    #[test]
    fn bad_server_signature_fails_even_if_the_server_says_ok() {
        let mut c = sha1_client();
        let _ = c.initial_response().unwrap();
        let _ = c.step(SHA1_SERVER_FIRST.as_bytes()).unwrap();
        assert_eq!(
            c.step(b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            Err(SaslError::ServerSignatureMismatch)
        );
        assert_eq!(
            c.finish(true),
            Err(SaslError::ServerNotAuthenticated {
                mechanism: Mechanism::ScramSha1
            })
        );
    }

    #[test]
    fn missing_server_final_fails_even_if_the_server_says_ok() {
        let mut c = sha1_client();
        let _ = c.initial_response().unwrap();
        let _ = c.step(SHA1_SERVER_FIRST.as_bytes()).unwrap();
        assert_eq!(
            c.finish(true),
            Err(SaslError::ServerNotAuthenticated {
                mechanism: Mechanism::ScramSha1
            })
        );
        // A server-final-message without v= is malformed, and the exchange is failed.
        let mut c = sha1_client();
        let _ = c.initial_response().unwrap();
        let _ = c.step(SHA1_SERVER_FIRST.as_bytes()).unwrap();
        assert!(matches!(c.step(b"x=1"), Err(SaslError::Malformed { .. })));
        assert!(matches!(
            c.step(SHA1_SERVER_FINAL.as_bytes()),
            Err(SaslError::UnexpectedChallenge { .. })
        ));
        assert!(c.finish(true).is_err());
    }

    #[test]
    fn server_error_values_are_typed() {
        let mut c = sha1_client();
        let _ = c.initial_response().unwrap();
        let _ = c.step(SHA1_SERVER_FIRST.as_bytes()).unwrap();
        assert_eq!(
            c.step(b"e=unknown-user"),
            Err(SaslError::ScramServer(ScramServerError::UnknownUser))
        );
    }

    #[test]
    fn iteration_count_limits() {
        let first = |i: &str| format!("r=fyko+d2lbbFgONRv9qkxdawLxyz,s=QSXCR+Q6sek8bf92,i={i}");
        let run = |c: &mut ScramClient, i: &str| {
            let _ = c.initial_response().unwrap();
            c.step(first(i).as_bytes()).map(|_| ())
        };
        assert_eq!(
            run(&mut sha1_client(), "4095"),
            Err(SaslError::IterationsTooLow {
                got: 4095,
                min: 4096
            })
        );
        assert_eq!(
            run(&mut sha1_client(), "0"),
            Err(SaslError::IterationsTooLow { got: 0, min: 4096 })
        );
        assert_eq!(
            run(&mut sha1_client(), "1000001"),
            Err(SaslError::IterationsTooHigh {
                got: 1_000_001,
                max: 1_000_000
            })
        );
        assert_eq!(
            run(&mut sha1_client(), "99999999999999999999"),
            Err(SaslError::IterationsTooHigh {
                got: u32::MAX,
                max: 1_000_000
            })
        );
        assert!(matches!(
            run(&mut sha1_client(), "-5"),
            Err(SaslError::Malformed { .. })
        ));
        // Allowed when configured.
        let mut c = sha1_client().with_limits(ScramLimits::new(1, 10));
        assert_eq!(run(&mut c, "2"), Ok(()));
        let mut c = sha1_client().with_limits(ScramLimits::new(1, 10));
        assert_eq!(
            run(&mut c, "11"),
            Err(SaslError::IterationsTooHigh { got: 11, max: 10 })
        );
    }

    #[test]
    fn malformed_server_first_messages() {
        for (msg, want) in [
            ("", "malformed"),
            ("s=abc,r=fyko+d2lbbFgONRv9qkxdawLx,i=4096", "malformed"),
            ("r=fyko+d2lbbFgONRv9qkxdawLx,s=,i=4096", "malformed"),
            ("r=fyko+d2lbbFgONRv9qkxdawLx,s=!!!,i=4096", "malformed"),
            (
                "r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92",
                "malformed",
            ),
            ("r=other,s=QSXCR+Q6sek8bf92,i=4096", "nonce"),
            (
                "r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096",
                "nonce",
            ),
            (
                "m=ext,r=fyko+d2lbbFgONRv9qkxdawLx,s=QSXCR+Q6sek8bf92,i=4096",
                "ext",
            ),
        ] {
            let mut c = sha1_client();
            let _ = c.initial_response().unwrap();
            let got = c.step(msg.as_bytes());
            let ok = match want {
                "malformed" => matches!(got, Err(SaslError::Malformed { .. })),
                "nonce" => got == Err(SaslError::NonceMismatch),
                _ => got == Err(SaslError::UnsupportedExtension),
            };
            assert!(ok, "{msg:?}: {got:?}");
        }
        let mut c = sha1_client();
        let _ = c.initial_response().unwrap();
        assert!(matches!(
            c.step(b"r=\xff"),
            Err(SaslError::Malformed { .. })
        ));
        // Extensions after i= are ignored.
        let mut c = sha1_client();
        let _ = c.initial_response().unwrap();
        let r = c
            .step(format!("{SHA1_SERVER_FIRST},x=ext").as_bytes())
            .unwrap();
        assert!(r.expose().starts_with(b"c=biws,r="));
    }

    #[test]
    fn gs2_header_forms() {
        let mut c = sha1_client().with_authzid("adm,in=1");
        assert_eq!(
            c.initial_response().unwrap().unwrap().expose().as_ref(),
            b"n,a=adm=2Cin=3D1,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
        );
        let mut c = sha1_client().with_client_supports_channel_binding(true);
        assert!(
            c.initial_response()
                .unwrap()
                .unwrap()
                .expose()
                .starts_with(b"y,,n=user")
        );
        // User names are escaped.
        let mut c = ScramClient::new(ScramHash::Sha1, "a=b,c", &pw("p"))
            .unwrap()
            .with_nonce_source(fixed("N"));
        assert_eq!(
            c.initial_response().unwrap().unwrap().expose().as_ref(),
            b"n,,n=a=3Db=2Cc,r=N"
        );
    }

    #[test]
    fn saslprep_is_applied() {
        // RFC 4013 §3 examples: SOFT HYPHEN maps to nothing, NO-BREAK SPACE to SPACE... and a
        // prohibited character (U+0007) is refused.
        let mut a = ScramClient::new(ScramHash::Sha256, "user", &pw("I\u{ad}X")).unwrap();
        let b = ScramClient::new(ScramHash::Sha256, "user", &pw("IX")).unwrap();
        assert_eq!(a.password, b.password);
        assert_eq!(
            ScramClient::new(ScramHash::Sha256, "u\u{7}", &pw("x")).unwrap_err(),
            SaslError::InvalidCredentials {
                mechanism: Mechanism::ScramSha256,
                reason: "user name fails SASLprep"
            }
        );
        assert!(ScramClient::new(ScramHash::Sha256, "user", &pw("")).is_err());
        let _ = a.initial_response();
        // Stored keys from a password and its SASLprep'd form agree.
        let k1 = StoredKeys::derive(ScramHash::Sha1, &pw("I\u{ad}X"), b"s", 4096).unwrap();
        let k2 = StoredKeys::derive(ScramHash::Sha1, &pw("IX"), b"s", 4096).unwrap();
        assert_eq!(k1, k2);
    }

    fn binding(kind: ChannelBindingType, data: &'static [u8]) -> ChannelBinding {
        ChannelBinding {
            kind,
            data: Bytes::from_static(data),
        }
    }

    #[test]
    fn plus_round_trip_with_tls_exporter_and_server_end_point() {
        for kind in [
            ChannelBindingType::TlsExporter,
            ChannelBindingType::TlsServerEndPoint,
        ] {
            let cb = binding(kind, b"\x01\x02\x03channel-data");
            let keys =
                StoredKeys::derive(ScramHash::Sha256, &pw("pencil"), b"0123456789abcdef", 4096)
                    .unwrap();
            let mut c = ScramClient::new(ScramHash::Sha256, "user", &pw("pencil"))
                .unwrap()
                .with_channel_binding(cb.clone())
                .with_nonce_source(fixed("cnonce"));
            assert_eq!(c.mechanism(), Mechanism::ScramSha256Plus);
            let mut s = ScramServer::new_plus(ScramHash::Sha256, cb.clone())
                .with_nonce_source(fixed("snonce"));
            let cf = c.initial_response().unwrap().unwrap();
            let header = format!("p={},,", kind.name());
            assert!(cf.expose().starts_with(header.as_bytes()));
            s.client_first(cf.expose()).unwrap();
            let sf = s.server_first(keys).unwrap();
            let cfin = c.step(&sf).unwrap();
            let mut cbind = header.into_bytes();
            cbind.extend_from_slice(&cb.data);
            let want_c = format!("c={},", B64.encode(&cbind));
            assert!(cfin.expose().starts_with(want_c.as_bytes()));
            let sfin = s.client_final(cfin.expose()).unwrap();
            assert!(c.step(&sfin).unwrap().expose().is_empty());
            assert_eq!(c.finish(true), Ok(()));
        }
    }

    #[test]
    fn plus_server_rejects_other_channel_data_and_flags() {
        let cb = binding(ChannelBindingType::TlsExporter, b"real");
        let keys = || StoredKeys::derive(ScramHash::Sha256, &pw("pencil"), b"salt", 4096).unwrap();
        // Client bound to a different channel (a man in the middle).
        let mut c = ScramClient::new(ScramHash::Sha256, "user", &pw("pencil"))
            .unwrap()
            .with_channel_binding(binding(ChannelBindingType::TlsExporter, b"mitm"));
        let mut s = ScramServer::new_plus(ScramHash::Sha256, cb.clone());
        s.client_first(c.initial_response().unwrap().unwrap().expose())
            .unwrap();
        let sf = s.server_first(keys()).unwrap();
        let cfin = c.step(&sf).unwrap();
        assert!(matches!(
            s.client_final(cfin.expose()),
            Err(SaslError::ChannelBinding(_))
        ));
        // Wrong type, or no binding, against the -PLUS server.
        let mut s = ScramServer::new_plus(ScramHash::Sha256, cb.clone());
        assert!(matches!(
            s.client_first(b"p=tls-server-end-point,,n=user,r=abc"),
            Err(SaslError::ChannelBinding(_))
        ));
        let mut s = ScramServer::new_plus(ScramHash::Sha256, cb);
        assert!(matches!(
            s.client_first(b"n,,n=user,r=abc"),
            Err(SaslError::ChannelBinding(_))
        ));
        // Downgrade: flag y while the server advertised -PLUS.
        let mut s = ScramServer::new(ScramHash::Sha256).with_plus_advertised(true);
        assert!(matches!(
            s.client_first(b"y,,n=user,r=abc"),
            Err(SaslError::ChannelBinding(_))
        ));
        let mut s = ScramServer::new(ScramHash::Sha256);
        assert!(s.client_first(b"y,,n=user,r=abc").is_ok());
        // p= against the non-PLUS server.
        let mut s = ScramServer::new(ScramHash::Sha256);
        assert!(matches!(
            s.client_first(b"p=tls-exporter,,n=user,r=abc"),
            Err(SaslError::ChannelBinding(_))
        ));
    }

    #[test]
    fn server_parses_authzid_and_escapes() {
        let mut s = ScramServer::new(ScramHash::Sha1);
        let f = s.client_first(b"n,a=adm=2Cin,n=a=3Db,r=xyz").unwrap();
        assert_eq!(f.username, "a=b");
        assert_eq!(f.authzid.as_deref(), Some("adm,in"));
        for bad in [
            &b"n,,n=a=4Db,r=xyz"[..],
            b"n,,n=,r=xyz",
            b"n,,r=xyz,n=user",
            b"n,,n=user,r=",
            b"n,,n=user,r=a\x01b",
            b"x,,n=user,r=abc",
            b"n,b=x,n=user,r=abc",
            b"n,,",
            b"n",
        ] {
            assert!(
                matches!(
                    ScramServer::new(ScramHash::Sha1).client_first(bad),
                    Err(SaslError::Malformed { .. })
                ),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(
            ScramServer::new(ScramHash::Sha1).client_first(b"n,,m=x,n=user,r=abc"),
            Err(SaslError::UnsupportedExtension)
        );
    }

    #[test]
    fn server_rejects_tampered_final_messages() {
        let run = |final_msg: &str| {
            let keys = StoredKeys::derive(
                ScramHash::Sha1,
                &pw("pencil"),
                &B64.decode("QSXCR+Q6sek8bf92").unwrap(),
                4096,
            )
            .unwrap();
            let mut s =
                ScramServer::new(ScramHash::Sha1).with_nonce_source(fixed("3rfcNHYJY1ZVvWVs7j"));
            s.client_first(b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL")
                .unwrap();
            s.server_first(keys).unwrap();
            s.client_final(final_msg.as_bytes())
        };
        assert_eq!(
            run(
                "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v1X8v3Bz2T0CJGbJQyF0X+HI4Ts="
            ),
            Err(SaslError::InvalidProof)
        );
        assert_eq!(
            run("c=biws,r=fyko+d2lbbFgONRv9qkxdawLXXXX,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="),
            Err(SaslError::NonceMismatch)
        );
        assert!(matches!(
            run(
                "c=eSws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
            ),
            Err(SaslError::ChannelBinding(_))
        ));
        assert_eq!(
            run("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=AAAA"),
            Err(SaslError::InvalidProof)
        );
        assert!(matches!(
            run("c=biws,r=fyko"),
            Err(SaslError::Malformed { .. })
        ));
        assert!(matches!(run("p=abc"), Err(SaslError::Malformed { .. })));
        assert_eq!(
            run(SHA1_CLIENT_FINAL).unwrap(),
            SHA1_SERVER_FINAL.as_bytes()
        );
    }

    #[test]
    fn server_call_order_is_checked() {
        let keys = StoredKeys::derive(ScramHash::Sha1, &pw("p"), b"s", 4096).unwrap();
        let mut s = ScramServer::new(ScramHash::Sha1);
        assert!(matches!(
            s.server_first(keys.clone()),
            Err(SaslError::Misuse { .. })
        ));
        let mut s = ScramServer::new(ScramHash::Sha256);
        s.client_first(b"n,,n=u,r=abc").unwrap();
        assert!(
            matches!(s.server_first(keys), Err(SaslError::Misuse { .. })),
            "hash mismatch"
        );
        let mut s = ScramServer::new(ScramHash::Sha1);
        assert!(matches!(
            s.client_final(b"c=biws,r=x,p=y"),
            Err(SaslError::Misuse { .. })
        ));
    }

    #[test]
    fn without_sasl_ir_and_misuse() {
        let mut c = sha1_client();
        assert!(matches!(
            c.step(b"nonempty"),
            Err(SaslError::UnexpectedChallenge { .. })
        ));
        let mut c = sha1_client();
        let first = c.step(b"").unwrap();
        assert_eq!(
            first.expose().as_ref(),
            b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
        );
        assert!(matches!(
            c.initial_response(),
            Err(SaslError::Misuse { .. })
        ));
        let mut c = ScramClient::new(ScramHash::Sha1, "u", &pw("p"))
            .unwrap()
            .with_nonce_source(fixed("bad,nonce"));
        assert!(matches!(
            c.initial_response(),
            Err(SaslError::Misuse { .. })
        ));
        let mut c = ScramClient::new(ScramHash::Sha1, "u", &pw("p"))
            .unwrap()
            .with_nonce_source(Box::new(|| Err(RandomError("down".into()))));
        assert_eq!(c.initial_response(), Err(SaslError::Random("down".into())));
    }

    #[test]
    fn os_nonces_are_printable_and_distinct() {
        let a = os_nonce().unwrap();
        let b = os_nonce().unwrap();
        assert!(is_printable(&a) && a.len() == 24);
        assert_ne!(a, b);
    }

    #[test]
    fn secrets_are_redacted() {
        let mut c = sha1_client();
        let _ = c.initial_response().unwrap();
        let _ = c.step(SHA1_SERVER_FIRST.as_bytes()).unwrap();
        let s = format!("{c:?}");
        assert!(!s.contains("pencil"), "{s}");
        assert!(
            !s.contains("fyko+d2lbbFgONRv9qkxdawL3rfc"),
            "auth message leaked: {s}"
        );
        let keys = StoredKeys::derive(ScramHash::Sha1, &pw("pencil"), b"s", 4096).unwrap();
        let k = format!("{keys:?}");
        assert!(k.contains("[redacted]"), "{k}");
        assert!(!k.contains(&format!("{:?}", keys.stored_key.expose())));
    }
}
