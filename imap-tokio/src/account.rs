//! The account-level client: one logical connection to a mailbox server that reconnects on
//! its own (RFC 9051 says nothing about reconnecting; the policy lives here). It reconnects
//! with exponential backoff and jitter, authenticates again (asking the OAuth token provider
//! each time), selects the mailbox again and resumes IDLE. It gives up after a window without
//! reaching the server (30 minutes by default) and then stays disconnected until
//! [`Account::reconnect`]. Failures that need the user are never retried: refused
//! certificates, failed authentication, a `BYE` for policy reasons.
//!
//! # The give-up window
//!
//! The window ([`AccountConfig::give_up_after`]) counts from the call that found the
//! connection gone. It bounds every attempt, not only the time between them: an attempt's
//! connect, TLS handshake and greeting limits are cut to what is left of the window, and an
//! attempt still running (authenticating, selecting) when the window ends is abandoned. So
//! [`Account::connection`] gives up at most a few milliseconds after the window, not a
//! connect + handshake + greeting timeout later.
//!
//! # Protocol violations
//!
//! A connection the session closed because the server broke the protocol or its
//! COMPRESS=DEFLATE stream ([`Error::ProtocolViolation`]) is not a network failure. It may be
//! a one-off (a middlebox that mangled one stream), so it gets **one** more attempt, after a
//! backoff delay; a second protocol violation in a row (on the attempt, or on the connection
//! that attempt made) ends in the terminal disconnected state with the server's fault as the
//! reason: a server that corrupts its stream again is broken, and reconnecting for the whole
//! window would only hammer it and hide the fault. The count of violations in a row starts
//! again after a connection that ends or fails in any other way, and at
//! [`Account::reconnect`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use imapwire_codec::response::ResponseCode;
use imapwire_session::client::CommandError;
use imapwire_session::sasl::{Credentials, Mechanism, SaslError, Secret};

use crate::backoff::Backoff;
use crate::config::Config;
use crate::connection::{AuthMethod, Connection, IdleStream};
use crate::error::Error;
use crate::types::{IdleEvent, MailboxInfo};

/// The future a [`TokenProvider`] returns: an access token, or why there is none.
pub type TokenFuture = Pin<Box<dyn Future<Output = Result<Secret<String>, String>> + Send>>;

/// Supplies OAuth 2.0 access tokens: called at each (re)connect with `refresh` false, and once
/// more with `refresh` true after the server refused the token (XOAUTH2 or OAUTHBEARER error
/// challenge, or a bare `NO` to those mechanisms); a second refusal is an authentication
/// failure, which is not retried. An `Err` from the provider fails the attempt as a
/// configuration error.
pub trait TokenProvider: Send + Sync {
    /// A token (fresh from the authorization server when `refresh`).
    fn token(&self, refresh: bool) -> TokenFuture;
}

impl<F> TokenProvider for F
where
    F: Fn(bool) -> TokenFuture + Send + Sync,
{
    fn token(&self, refresh: bool) -> TokenFuture {
        self(refresh)
    }
}

/// How the account authenticates.
#[derive(Clone)]
#[non_exhaustive]
pub enum Login {
    /// A user name and a password (or app password).
    Password {
        /// User name.
        user: String,
        /// Password.
        password: Secret<String>,
    },
    /// A user name and OAuth 2.0 tokens from a provider (XOAUTH2, OAUTHBEARER).
    OAuth {
        /// User name.
        user: String,
        /// Where tokens come from.
        provider: Arc<dyn TokenProvider>,
    },
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Login::Password { user, .. } => f
                .debug_struct("Password")
                .field("user", user)
                .field("password", &"[redacted]")
                .finish(),
            Login::OAuth { user, .. } => f
                .debug_struct("OAuth")
                .field("user", user)
                .finish_non_exhaustive(),
        }
    }
}

/// Settings of an [`Account`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AccountConfig {
    /// Where and how to connect.
    pub connect: Config,
    /// Credentials.
    pub login: Login,
    /// Mechanism choice.
    pub method: AuthMethod,
    /// How long to keep trying without reaching the server before giving up. Default 30 min.
    pub give_up_after: Duration,
    /// Delays between attempts. Default: 1 s doubling to 60 s, with jitter.
    pub backoff: Backoff,
}

impl AccountConfig {
    /// Defaults around `connect` and `login`.
    pub fn new(connect: Config, login: Login) -> Self {
        AccountConfig {
            connect,
            login,
            method: AuthMethod::Auto,
            give_up_after: Duration::from_secs(30 * 60),
            backoff: Backoff::default(),
        }
    }

    /// Sets the give-up window.
    pub fn with_give_up_after(mut self, d: Duration) -> Self {
        self.give_up_after = d;
        self
    }

    /// Sets the backoff.
    pub fn with_backoff(mut self, b: Backoff) -> Self {
        self.backoff = b;
        self
    }

    /// Sets the mechanism choice.
    pub fn with_method(mut self, m: AuthMethod) -> Self {
        self.method = m;
        self
    }
}

/// Where an account stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountState {
    /// No connection attempted yet.
    New,
    /// Connected and authenticated.
    Connected,
    /// Trying to reach the server again.
    Reconnecting {
        /// Failed attempts so far.
        attempts: u32,
    },
    /// Terminal until [`Account::reconnect`]: gave up, or a failure that needs the user.
    Disconnected {
        /// Why.
        reason: String,
    },
}

struct Inner {
    cfg: AccountConfig,
    state: Mutex<AccountState>,
    conn: tokio::sync::Mutex<Option<Connection>>,
    selected: Mutex<Option<(String, bool)>>,
    info: Mutex<Option<MailboxInfo>>,
    generation: AtomicU64,
    /// Connections in a row that ended in a protocol violation (see the module docs).
    violations: AtomicU32,
}

/// Protocol violations in a row after which the account gives up (the first is retried).
const MAX_VIOLATIONS: u32 = 2;

/// A reconnecting client for one account; clones share the connection.
#[derive(Clone)]
pub struct Account {
    inner: Arc<Inner>,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("host", &self.inner.cfg.connect.host)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// The server's refusal of an authentication: its response code and the mechanism's reading.
fn auth_rejected(e: &Error) -> Option<(Option<&ResponseCode>, &SaslError)> {
    match e {
        Error::Command(c) => match &**c {
            CommandError::AuthRejected { code, reason, .. } => Some((code.as_ref(), reason)),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a failure is worth another attempt without the user.
fn retryable(e: &Error, conn: Option<&Connection>) -> bool {
    if conn.is_some_and(|c| c.closed_by_policy()) {
        return false;
    }
    // `NO [UNAVAILABLE]` to authentication: the server's back end is down, not the user's
    // credentials wrong (RFC 5530 §3).
    matches!(auth_rejected(e), Some((Some(ResponseCode::Unavailable), _))) || e.is_transient()
}

/// Whether a failure of a live connection makes [`AccountIdle`] go back to
/// [`Account::connection`], which then retries it or gives up: network failures, and protocol
/// violations (retried once).
fn reconnects(e: &Error) -> bool {
    e.is_transient() || matches!(e, Error::ProtocolViolation(_))
}

/// Whether the server refused an OAuth token in a way a fresh token may cure: the
/// XOAUTH2/OAUTHBEARER error challenge (RFC 7628 §3.2.2; Gmail, Dovecot), or a bare `NO` to
/// one of those mechanisms (Microsoft answers an expired token with `NO AUTHENTICATE
/// failed.` and no challenge). A `NO [UNAVAILABLE]` is a server problem, not the token's.
fn token_refused(e: &Error) -> bool {
    match auth_rejected(e) {
        Some((Some(ResponseCode::Unavailable), _)) | None => false,
        Some((_, reason)) => matches!(
            reason,
            SaslError::OAuth { .. }
                | SaslError::Rejected {
                    mechanism: Mechanism::XOAuth2 | Mechanism::OAuthBearer
                }
        ),
    }
}

impl Account {
    /// An account; nothing happens until the first call that needs the server.
    pub fn new(cfg: AccountConfig) -> Self {
        Account {
            inner: Arc::new(Inner {
                cfg,
                state: Mutex::new(AccountState::New),
                conn: tokio::sync::Mutex::new(None),
                selected: Mutex::new(None),
                info: Mutex::new(None),
                generation: AtomicU64::new(0),
                violations: AtomicU32::new(0),
            }),
        }
    }

    /// The current state.
    pub fn state(&self) -> AccountState {
        self.inner
            .state
            .lock()
            .map(|s| s.clone())
            .unwrap_or(AccountState::New)
    }

    fn set_state(&self, s: AccountState) {
        if let Ok(mut g) = self.inner.state.lock() {
            *g = s;
        }
    }

    /// How many times a connection was established.
    pub fn connections_made(&self) -> u64 {
        self.inner.generation.load(Ordering::SeqCst)
    }

    /// The live connection, connecting (and reconnecting, with backoff) as needed. Fails at
    /// once in the terminal disconnected state, after the give-up window, and on failures
    /// that need the user.
    ///
    /// Dropped before it completes: the attempt in progress is abandoned; the next call
    /// starts again (the give-up window counts from that call).
    pub async fn connection(&self) -> Result<Connection, Error> {
        let mut guard = self.inner.conn.lock().await;
        if let AccountState::Disconnected { reason } = self.state() {
            return Err(Error::Disconnected(reason));
        }
        let mut after_violation = None;
        if let Some(c) = guard.as_ref() {
            if !c.is_closed() {
                return Ok(c.clone());
            }
            if c.closed_by_policy() {
                let reason = format!(
                    "the server closed the connection: {}",
                    c.last_bye().unwrap_or_default()
                );
                *guard = None;
                return Err(self.give_up(reason));
            }
            if c.closed_by_protocol_violation() {
                after_violation = Some(c.closed_error());
            } else {
                self.inner.violations.store(0, Ordering::SeqCst);
            }
        }
        *guard = None;
        let start = Instant::now();
        let window = self.inner.cfg.give_up_after;
        let mut backoff = self.inner.cfg.backoff.clone();
        backoff.reset();
        if let Some(e) = after_violation {
            // The live connection ended in a protocol violation: it counts as a failed
            // attempt, and the next one waits a backoff delay.
            if let Some(reason) = self.violation(&e) {
                return Err(self.give_up(reason));
            }
            let delay = backoff.next_delay().min(window);
            tracing::info!(error = %e, ?delay, "reconnecting after a protocol violation");
            tokio::time::sleep(delay).await;
        }
        loop {
            let remaining = window.saturating_sub(start.elapsed());
            let attempt = tokio::time::timeout(remaining, self.connect_once(remaining)).await;
            let (e, conn) = match attempt {
                Ok(Ok(c)) => {
                    self.inner.generation.fetch_add(1, Ordering::SeqCst);
                    self.set_state(AccountState::Connected);
                    *guard = Some(c.clone());
                    return Ok(c);
                }
                Ok(Err(failure)) => failure,
                Err(_) => {
                    return Err(self.give_up(format!(
                        "gave up after {window:?} without reaching the server: the attempt \
                         in progress did not complete within the window"
                    )));
                }
            };
            if matches!(e, Error::ProtocolViolation(_)) {
                if let Some(reason) = self.violation(&e) {
                    return Err(self.give_up(reason));
                }
            } else {
                self.inner.violations.store(0, Ordering::SeqCst);
                if !retryable(&e, conn.as_ref()) {
                    tracing::warn!(error = %e, "not retried: needs the user");
                    self.set_state(AccountState::Disconnected {
                        reason: e.to_string(),
                    });
                    return Err(e);
                }
            }
            let elapsed = start.elapsed();
            if elapsed >= window {
                return Err(self.give_up(format!(
                    "gave up after {window:?} without reaching the server: {e}"
                )));
            }
            let delay = backoff.next_delay().min(window - elapsed);
            tracing::info!(error = %e, attempt = backoff.attempts(), ?delay, "reconnecting");
            self.set_state(AccountState::Reconnecting {
                attempts: backoff.attempts(),
            });
            tokio::time::sleep(delay).await;
        }
    }

    /// Counts a protocol violation in a row; the reason to give up when it is one too many.
    fn violation(&self, e: &Error) -> Option<String> {
        let n = self.inner.violations.fetch_add(1, Ordering::SeqCst) + 1;
        (n >= MAX_VIOLATIONS).then(|| format!("{n} connections in a row ended because {e}"))
    }

    /// Enters the terminal disconnected state with `reason`; the error to return.
    fn give_up(&self, reason: String) -> Error {
        tracing::warn!(%reason, "giving up");
        self.set_state(AccountState::Disconnected {
            reason: reason.clone(),
        });
        Error::Disconnected(reason)
    }

    /// Leaves the terminal disconnected state (or drops a live connection) and connects
    /// again.
    ///
    /// Dropped before it completes: as [`connection`](Self::connection).
    pub async fn reconnect(&self) -> Result<Connection, Error> {
        {
            let mut guard = self.inner.conn.lock().await;
            *guard = None;
            self.inner.violations.store(0, Ordering::SeqCst);
            self.set_state(AccountState::New);
        }
        self.connection().await
    }

    /// One attempt: connect, authenticate, select again. The connect, handshake and greeting
    /// limits are cut to `remaining` (what is left of the give-up window); the caller bounds
    /// the whole attempt by it too.
    async fn connect_once(
        &self,
        remaining: Duration,
    ) -> Result<Connection, (Error, Option<Connection>)> {
        let cfg = &self.inner.cfg;
        let mut connect = cfg.connect.clone();
        let t = &mut connect.timeouts;
        t.connect = t.connect.min(remaining);
        t.handshake = t.handshake.min(remaining);
        t.greeting = t.greeting.min(remaining);
        let mut conn = Connection::connect(connect.clone())
            .await
            .map_err(|e| (e, None))?;
        match self.authenticate(&conn, false).await {
            Ok(_) => {}
            Err(e) if matches!(cfg.login, Login::OAuth { .. }) && token_refused(&e) => {
                // Once: a fresh token from the provider, on this connection if the server
                // kept it open, else on a new one.
                tracing::info!(error = %e, "token refused: asking the provider for a fresh one");
                if conn.is_closed() {
                    conn = Connection::connect(connect).await.map_err(|e| (e, None))?;
                }
                if let Err(e) = self.authenticate(&conn, true).await {
                    return Err((e, Some(conn)));
                }
            }
            Err(e) => return Err((e, Some(conn))),
        }
        let sel = self.inner.selected.lock().ok().and_then(|s| s.clone());
        if let Some((mailbox, read_only)) = sel {
            let r = if read_only {
                conn.examine(&mailbox).await
            } else {
                conn.select(&mailbox).await
            };
            match r {
                Ok(info) => {
                    if let Ok(mut g) = self.inner.info.lock() {
                        *g = Some(info);
                    }
                }
                Err(e) => return Err((e, Some(conn))),
            }
        }
        Ok(conn)
    }

    /// Authenticates with the configured login; an OAuth token comes from the provider,
    /// asked for a fresh one when `refresh`.
    async fn authenticate(&self, conn: &Connection, refresh: bool) -> Result<String, Error> {
        let cfg = &self.inner.cfg;
        let creds = match &cfg.login {
            Login::Password { user, password } => Credentials::password(user, password.clone()),
            Login::OAuth { user, provider } => {
                let token = provider.token(refresh).await.map_err(Error::Config)?;
                Credentials::token(user, token)
            }
        };
        conn.authenticate(creds, cfg.method).await
    }

    /// `SELECT mailbox`, remembered: it is selected again after every reconnect.
    ///
    /// Dropped before it completes: the SELECT completes inside the connection.
    pub async fn select(&self, mailbox: &str) -> Result<MailboxInfo, Error> {
        if let Ok(mut g) = self.inner.selected.lock() {
            *g = Some((mailbox.to_owned(), false));
        }
        let conn = self.connection().await?;
        let info = conn.select(mailbox).await?;
        if let Ok(mut g) = self.inner.info.lock() {
            *g = Some(info.clone());
        }
        Ok(info)
    }

    /// IDLE on the selected mailbox that survives reconnects (see [`AccountIdle`]).
    pub fn idle(&self) -> AccountIdle {
        AccountIdle {
            account: self.clone(),
            stream: None,
            generation: self.connections_made(),
        }
    }

    /// Logs out and leaves the account in the disconnected state.
    ///
    /// Dropped before it completes: the LOGOUT still completes if it was sent.
    pub async fn logout(&self) -> Result<(), Error> {
        let conn = self.inner.conn.lock().await.take();
        self.set_state(AccountState::Disconnected {
            reason: "logged out".into(),
        });
        match conn {
            Some(c) => c.logout().await,
            None => Ok(()),
        }
    }
}

/// What an [`AccountIdle`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountEvent {
    /// A mailbox event.
    Mailbox(IdleEvent),
    /// The connection was lost and made again; the mailbox was selected again (its state
    /// now) and IDLE resumed. Events during the gap are not reported: compare with what you
    /// knew (or sync).
    Reconnected(Option<MailboxInfo>),
}

/// IDLE that resumes after reconnects.
#[derive(Debug)]
pub struct AccountIdle {
    account: Account,
    stream: Option<IdleStream>,
    generation: u64,
}

impl AccountIdle {
    /// The next event; reconnects (with the account's backoff and give-up window) when the
    /// connection is lost. Fails when the account gives up or needs the user.
    ///
    /// Cancel safety: dropping this future loses no event; a reconnect in progress is
    /// abandoned and started again by the next call.
    pub async fn next(&mut self) -> Result<AccountEvent, Error> {
        loop {
            if self.stream.is_none() {
                let conn = self.account.connection().await?;
                let generation = self.account.connections_made();
                match conn.idle().await {
                    Ok(s) => self.stream = Some(s),
                    // The account decides: a network failure is retried, a protocol
                    // violation once (see the module docs).
                    Err(e) if reconnects(&e) => continue,
                    Err(e) => return Err(e),
                }
                if generation != self.generation {
                    let first = self.generation == 0;
                    self.generation = generation;
                    if !first {
                        let info = self.account.inner.info.lock().ok().and_then(|g| g.clone());
                        return Ok(AccountEvent::Reconnected(info));
                    }
                }
            }
            let Some(s) = self.stream.as_mut() else {
                continue;
            };
            match s.next().await {
                Ok(Some(e)) => return Ok(AccountEvent::Mailbox(e)),
                Ok(None) => {
                    tracing::debug!("IDLE ended: resuming");
                    self.stream = None;
                }
                Err(e) if reconnects(&e) => {
                    tracing::info!(error = %e, "connection lost during IDLE");
                    self.stream = None;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Ends the IDLE.
    ///
    /// Dropped before it completes: the IDLE still ends (as [`IdleStream::done`]).
    pub async fn done(mut self) -> Result<(), Error> {
        match self.stream.take() {
            Some(s) => s.done().await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imapwire_codec::core::Text;

    fn rejected(code: Option<ResponseCode>, mechanism: Mechanism) -> Error {
        Error::Command(Box::new(CommandError::AuthRejected {
            code,
            text: Text::new("no").unwrap(),
            reason: SaslError::Rejected { mechanism },
        }))
    }

    #[test]
    fn unavailable_is_retried_and_not_a_token_refusal() {
        let bare = rejected(None, Mechanism::XOAuth2);
        assert!(token_refused(&bare) && !retryable(&bare, None));
        assert!(token_refused(&rejected(None, Mechanism::OAuthBearer)));
        let failed = rejected(Some(ResponseCode::AuthenticationFailed), Mechanism::XOAuth2);
        assert!(token_refused(&failed) && !retryable(&failed, None));
        let plain = rejected(None, Mechanism::Plain);
        assert!(!token_refused(&plain) && !retryable(&plain, None));
        let down = rejected(Some(ResponseCode::Unavailable), Mechanism::XOAuth2);
        assert!(!token_refused(&down) && retryable(&down, None));
        let lost = Error::Command(Box::new(CommandError::ConnectionLost));
        assert!(!token_refused(&lost) && retryable(&lost, None));
        assert!(!token_refused(&Error::Config("x".into())));
        assert!(!retryable(&Error::Config("x".into()), None));
    }
}
