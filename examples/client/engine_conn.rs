//! A second, minimal driver for the sync engine: the engine steps over the sans-IO client
//! session (`imapwire_session::sync::SyncEngine` needs every session event and submits its
//! own commands), which `imapwire_tokio::Connection` does not expose yet. So `sync` opens
//! its own connection here, with the same TLS settings (roots, extra CA, pins) as the
//! `Connection` that already verified the server and the credentials, and drives
//! `imapwire_session::client::Client` directly: socket reads and writes, timers, STARTTLS,
//! authentication, the engine's steps, LOGOUT.
//!
//! Used by the example client (`sync`) and the demo. When `imapwire-tokio` gains a sync
//! method, this file goes.

use std::time::Duration;

use bytes::Bytes;
use imapwire_codec::command::CommandBody;
use imapwire_session::client::{Client, ClientConfig, CommandId, Event};
use imapwire_session::sasl::{self, Credentials, Mechanism, Secret};
use imapwire_session::sync::{
    Journal, ReplicaState, ServerInfo, Step, SyncConfig, SyncEngine, SyncFailure, SyncOutcome,
};
use imapwire_tokio::{Config, Security};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Io {
    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Io::Plain(s) => s.read(buf).await,
            Io::Tls(s) => s.read(buf).await,
        }
    }

    async fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Io::Plain(s) => s.write_all(b).await,
            Io::Tls(s) => s.write_all(b).await,
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Io::Plain(s) => s.flush().await,
            Io::Tls(s) => s.flush().await,
        }
    }
}

struct Drive {
    io: Option<Io>,
    client: Client,
    buf: Vec<u8>,
    timeout: Duration,
}

fn failed(what: &str, e: impl std::fmt::Display) -> String {
    format!("sync connection: {what}: {e}")
}

async fn tls(tcp: TcpStream, cfg: &Config) -> Result<Io, String> {
    let rustls = cfg
        .tls
        .rustls_client_config()
        .map_err(|e| failed("TLS", e))?;
    let name = rustls_pki_types::ServerName::try_from(cfg.host.clone())
        .map_err(|e| failed("server name", e))?;
    let s = tokio::time::timeout(
        cfg.timeouts.handshake,
        TlsConnector::from(rustls).connect(name, tcp),
    )
    .await
    .map_err(|_| failed("TLS handshake", "timed out"))?
    .map_err(|e| failed("TLS handshake", e))?;
    Ok(Io::Tls(Box::new(s)))
}

impl Drive {
    /// Writes what the session has to send; then, unless `events_pending`, waits for input
    /// (or the session's next deadline) and feeds it. Returns the events.
    async fn round(&mut self) -> Result<Vec<Event>, String> {
        let now = std::time::Instant::now();
        let io = self.io.as_mut().ok_or_else(|| failed("socket", "closed"))?;
        while let Some(b) = self.client.poll_transmit(now) {
            io.write_all(&b).await.map_err(|e| failed("write", e))?;
        }
        io.flush().await.map_err(|e| failed("write", e))?;
        let mut events = Vec::new();
        while let Some(ev) = self.client.poll_event() {
            events.push(ev);
        }
        if !events.is_empty() || self.client.is_closed() {
            return Ok(events);
        }
        let deadline = self
            .client
            .poll_timeout()
            .map(Instant::from_std)
            .unwrap_or_else(|| Instant::now() + self.timeout);
        tokio::select! {
            r = io.read(&mut self.buf) => {
                let n = r.map_err(|e| failed("read", e))?;
                let now = std::time::Instant::now();
                if n == 0 {
                    self.client.handle_eof(now);
                } else {
                    let mut rest = &self.buf[..n];
                    while !rest.is_empty() {
                        let used = self.client.handle_input(now, rest);
                        rest = &rest[used..];
                        while let Some(ev) = self.client.poll_event() {
                            events.push(ev);
                        }
                        if used == 0 && self.client.is_closed() {
                            break;
                        }
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                self.client.handle_timeout(std::time::Instant::now());
            }
        }
        while let Some(ev) = self.client.poll_event() {
            events.push(ev);
        }
        Ok(events)
    }

    /// Runs rounds until `id` completes; returns whether it succeeded (with the error text).
    async fn wait(&mut self, id: CommandId, what: &str) -> Result<Vec<Event>, String> {
        let mut seen = Vec::new();
        loop {
            for ev in self.round().await? {
                match ev {
                    Event::Completed { id: done, result } if done == id => {
                        return result.map(|_| seen).map_err(|e| failed(what, e));
                    }
                    Event::Closed(r) => return Err(failed(what, format!("closed: {r:?}"))),
                    other => seen.push(other),
                }
            }
        }
    }
}

/// Connects like `cfg` says, authenticates with `mechanism` (the name the `Connection`
/// used), runs the engine to its end, logs out.
pub async fn sync(
    cfg: &Config,
    mut creds: Credentials,
    mechanism: &str,
    sync_cfg: SyncConfig,
    state: ReplicaState,
    journal: Journal,
    mut persist: impl FnMut(&Journal),
) -> Result<Result<SyncOutcome, Box<SyncFailure>>, String> {
    let tcp = tokio::time::timeout(
        cfg.timeouts.connect,
        TcpStream::connect((cfg.host.as_str(), cfg.port)),
    )
    .await
    .map_err(|_| failed("connect", "timed out"))?
    .map_err(|e| failed("connect", e))?;
    let _ = tcp.set_nodelay(true);
    let io = match cfg.security {
        Security::ImplicitTls => tls(tcp, cfg).await?,
        _ => Io::Plain(tcp),
    };
    let mut scfg = ClientConfig::default();
    scfg.encrypted = cfg.security == Security::ImplicitTls;
    scfg.allow_plaintext_login = cfg.security == Security::InsecurePlaintext;
    scfg.host = Some(cfg.host.clone());
    scfg.greeting_timeout = cfg.timeouts.greeting;
    scfg.response_timeout = cfg.timeouts.command;
    let client = Client::new(scfg, std::time::Instant::now()).map_err(|e| failed("session", e))?;
    let mut d = Drive {
        io: Some(io),
        client,
        buf: vec![0; 64 * 1024],
        timeout: cfg.timeouts.command,
    };

    // Greeting.
    'greeting: loop {
        for ev in d.round().await? {
            match ev {
                Event::Greeting { .. } => break 'greeting,
                Event::Closed(r) => return Err(failed("greeting", format!("{r:?}"))),
                _ => {}
            }
        }
    }
    let caps = |d: &mut Drive| d.client.capabilities().is_none();
    if caps(&mut d) {
        let id = d
            .client
            .submit(std::time::Instant::now(), CommandBody::Capability)
            .map_err(|e| failed("CAPABILITY", e))?;
        d.wait(id, "CAPABILITY").await?;
    }
    if cfg.security == Security::StartTls {
        let id = d
            .client
            .starttls(std::time::Instant::now())
            .map_err(|e| failed("STARTTLS", e))?;
        'handoff: loop {
            for ev in d.round().await? {
                match ev {
                    Event::HandOff(_) => break 'handoff,
                    Event::Completed {
                        id: done,
                        result: Err(e),
                    } if done == id => {
                        return Err(failed("STARTTLS", e));
                    }
                    Event::Closed(r) => return Err(failed("STARTTLS", format!("{r:?}"))),
                    _ => {}
                }
            }
        }
        let Some(Io::Plain(tcp)) = d.io.take() else {
            return Err(failed("STARTTLS", "not a plain socket"));
        };
        d.io = Some(tls(tcp, cfg).await?);
        d.client.transport_upgraded(std::time::Instant::now());
        if caps(&mut d) {
            let id = d
                .client
                .submit(std::time::Instant::now(), CommandBody::Capability)
                .map_err(|e| failed("CAPABILITY", e))?;
            d.wait(id, "CAPABILITY").await?;
        }
    }

    // Authentication, with the mechanism the first connection used (SCRAM-*-PLUS binds to
    // this connection's TLS channel, RFC 9266 / RFC 5929).
    if let Some(Io::Tls(s)) = &d.io {
        creds.channel_binding = imapwire_tokio::tls::channel_binding(s.get_ref().1);
    }
    let now = std::time::Instant::now();
    let id = match Mechanism::from_name(mechanism) {
        Some(m) if m != Mechanism::Login || offers_sasl_login(&d.client) => {
            let m = sasl::new_client(m, &creds).map_err(|e| failed("authenticate", e))?;
            d.client.authenticate(now, m)
        }
        _ => {
            let pw = creds
                .password
                .as_ref()
                .ok_or_else(|| failed("LOGIN", "no password"))?;
            d.client.login(
                now,
                &creds.user,
                Secret::new(Bytes::copy_from_slice(pw.expose().as_bytes())),
            )
        }
    }
    .map_err(|e| failed("authenticate", e))?;
    d.wait(id, "authenticate").await?;
    if caps(&mut d) {
        let id = d
            .client
            .submit(std::time::Instant::now(), CommandBody::Capability)
            .map_err(|e| failed("CAPABILITY", e))?;
        d.wait(id, "CAPABILITY").await?;
    }

    // The engine.
    let mut engine = SyncEngine::new(sync_cfg, ServerInfo::from_client(&d.client), state, journal);
    loop {
        match engine.poll() {
            Step::Submit(cmd) => {
                let r = d.client.submit(std::time::Instant::now(), cmd);
                engine.submitted(r);
            }
            Step::PersistJournal => persist(engine.journal()),
            Step::Done => break,
            Step::Wait => {
                if d.client.is_closed() {
                    break;
                }
                for ev in d.round().await? {
                    engine.handle_event(&ev);
                }
            }
            _ => return Err(failed("sync", "unknown engine step")),
        }
    }
    let outcome = engine.finish();
    if !d.client.is_closed() {
        if let Ok(id) = d.client.logout(std::time::Instant::now()) {
            let _ = d.wait(id, "LOGOUT").await;
        }
    }
    Ok(outcome)
}

fn offers_sasl_login(client: &Client) -> bool {
    client.capabilities().is_some_and(|c| {
        c.auth_mechanisms()
            .any(|m| matches!(m, imapwire_codec::capability::AuthMechanism::Login))
    })
}
