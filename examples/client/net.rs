//! The actions that talk to the server, on `imapwire_tokio::Connection`.

use std::time::Duration;

use imapwire_session::client::ReceivedTap;
use imapwire_session::sasl::{Credentials as SaslCredentials, Mechanism, Secret};
use imapwire_tokio::record::FileTap;
use imapwire_tokio::{AuthMethod, Config, Connection, IdleEvent, Security, Timeouts, TlsConfig};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::args::{Action, Args, Auth, Tls};
use crate::{Credentials, Failure, out, replica, sync};

/// Runs a server action on a current-thread runtime.
pub fn run(args: &Args, creds: Credentials) -> Result<(), Failure> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(run_async(args, creds))
}

/// Runs `local`, `mark` or `delete`: the replica only, no network.
pub fn run_local(args: &Args) -> Result<(), Failure> {
    sync::run_local(&args.action)
}

/// The connection settings the options ask for.
fn config(args: &Args) -> Result<Config, Failure> {
    let security = match args.tls {
        Tls::Implicit => Security::ImplicitTls,
        Tls::Starttls => Security::StartTls,
        Tls::None => Security::InsecurePlaintext,
    };
    let mut tls = TlsConfig::default();
    for ca in &args.ca {
        let pem = std::fs::read(ca)
            .map_err(|e| Failure::Failed(format!("--ca {}: {e}", ca.display())))?;
        let n = tls
            .add_roots_pem(&pem)
            .map_err(|e| Failure::Failed(format!("--ca {}: {e}", ca.display())))?;
        if n == 0 {
            return Err(Failure::Failed(format!(
                "--ca {}: no PEM certificate in it",
                ca.display()
            )));
        }
    }
    for pin in &args.pins {
        let fp = pin
            .parse()
            .map_err(|e| Failure::Usage(format!("--pin {pin}: {e}")))?;
        tls.dangerous().pin(fp);
    }
    let mut cfg = Config::new(&args.host, args.port)
        .with_security(security)
        .with_tls(tls)
        .with_timeouts(Timeouts::all(args.timeout));
    if let Some(path) = &args.record {
        cfg.session.received_tap = Some(record_to(path)?);
    }
    Ok(cfg)
}

/// `--record FILE`: a tap writing the server's bytes to FILE as they are consumed. A write
/// error is reported once on stderr; the recording stops (the file keeps what came before)
/// and the session goes on.
fn record_to(path: &std::path::Path) -> Result<ReceivedTap, Failure> {
    let rec = FileTap::create(path)
        .map_err(|e| Failure::Failed(format!("--record {}: {e}", path.display())))?
        .on_failure(|path, e| eprintln!("--record {}: {e}; recording stopped", path.display()));
    Ok(rec.tap())
}

/// An authenticated connection.
pub struct Session {
    pub conn: Connection,
    /// The mechanism for the output: the `--auth` name, or with `auto` the one chosen
    /// (lowercase).
    pub mechanism: String,
}

/// Connects and authenticates.
pub async fn open(args: &Args, creds: &Credentials) -> Result<Session, Failure> {
    let cfg = config(args)?;
    let conn = Connection::connect(cfg)
        .await
        .map_err(|e| Failure::Failed(format!("connecting to {}:{}: {e}", args.host, args.port)))?;
    let mut sasl = SaslCredentials::default();
    sasl.user = creds.user.clone();
    sasl.password = creds.password.clone().map(Secret::new);
    sasl.token = creds.token.clone().map(Secret::new);
    sasl.host = Some(args.host.clone());
    sasl.port = Some(args.port);
    let method = match args.auth {
        Auth::Auto => AuthMethod::Auto,
        Auth::Login => AuthMethod::Login,
        Auth::Plain => AuthMethod::Mechanism(Mechanism::Plain),
        Auth::ScramSha256 => AuthMethod::Mechanism(Mechanism::ScramSha256),
        Auth::ScramSha1 => AuthMethod::Mechanism(Mechanism::ScramSha1),
        Auth::CramMd5 => AuthMethod::Mechanism(Mechanism::CramMd5),
        Auth::XOAuth2 => AuthMethod::Mechanism(Mechanism::XOAuth2),
        Auth::OAuthBearer => AuthMethod::Mechanism(Mechanism::OAuthBearer),
    };
    if args.auth.uses_token() {
        sasl.password = None;
    } else if args.auth != Auth::Auto {
        sasl.token = None;
    }
    let used = conn.authenticate(sasl, method).await.map_err(|e| {
        Failure::Failed(format!(
            "authenticating as {} ({}): {e}",
            creds.user,
            args.auth.name()
        ))
    })?;
    // The contract prints the `--auth` name used: with `auto`, the one that names what was
    // chosen (`SCRAM-SHA-256-PLUS` is printed as `scram-sha-256`, the LOGIN command as
    // `login`).
    // Mailbox names go out as UTF-8 once UTF8=ACCEPT is enabled (RFC 6855 §3; required by a
    // UTF8=ONLY server), else in modified UTF-7: `Connection::mailbox` follows what is
    // enabled.
    if conn.has_capability("ENABLE")
        && (conn.has_capability("UTF8=ACCEPT") || conn.has_capability("UTF8=ONLY"))
    {
        conn.raw_command("ENABLE UTF8=ACCEPT")
            .await
            .map_err(|e| Failure::Failed(format!("ENABLE UTF8=ACCEPT: {e}")))?;
    }
    let mechanism = match args.auth {
        Auth::Auto => Auth::for_mechanism(&used)
            .map(|a| a.name().to_owned())
            .ok_or_else(|| {
                Failure::Failed(format!(
                    "authenticated with {used}, which has no --auth name"
                ))
            })?,
        named => named.name().to_owned(),
    };
    Ok(Session { conn, mechanism })
}

async fn run_async(args: &Args, creds: Credentials) -> Result<(), Failure> {
    let session = open(args, &creds).await?;
    let conn = session.conn.clone();
    let result = action(args, &session).await;
    // LOGOUT whatever happened; its failure matters only when the action succeeded.
    let logout = conn.logout().await;
    result?;
    logout.map_err(|e| Failure::Failed(format!("logout: {e}")))
}

async fn action(args: &Args, session: &Session) -> Result<(), Failure> {
    let conn = &session.conn;
    let mechanism = &session.mechanism;
    match &args.action {
        Action::Capabilities => out::line(json!({
            "capabilities": conn.capabilities(),
            "mechanism": mechanism,
        })),
        Action::List => {
            let list = conn
                .list("", "*")
                .await
                .map_err(|e| Failure::Failed(format!("LIST: {e}")))?;
            for m in list {
                out::line(json!({
                    "mailbox": m.name,
                    "delimiter": m.delimiter.map(|d| d.to_string()),
                    "attributes": m.attributes,
                    "special_use": m.special_use.map(imapwire_tokio::types::role_attribute),
                }))?;
            }
            Ok(())
        }
        Action::Select { mailbox } => {
            // HIGHESTMODSEQ comes once CONDSTORE is enabled (RFC 7162 §3.1.8; Dovecot sends
            // it only then).
            if conn.has_capability("CONDSTORE") {
                conn.raw_command("ENABLE CONDSTORE")
                    .await
                    .map_err(|e| Failure::Failed(format!("ENABLE CONDSTORE: {e}")))?;
            }
            let info = conn
                .select(mailbox)
                .await
                .map_err(|e| Failure::Failed(format!("SELECT {mailbox}: {e}")))?;
            out::line(json!({
                "exists": info.exists,
                "uidvalidity": info.uidvalidity,
                "uidnext": info.uidnext,
                "highestmodseq": info.highestmodseq,
            }))
        }
        Action::Fetch { mailbox, uids } => {
            conn.examine(mailbox)
                .await
                .map_err(|e| Failure::Failed(format!("EXAMINE {mailbox}: {e}")))?;
            let failed = |e: imapwire_tokio::Error| Failure::Failed(format!("FETCH {uids}: {e}"));
            let mut stream = conn
                .fetch(uids, "(UID FLAGS BODY.PEEK[])", true)
                .await
                .map_err(failed)?;
            while let Some(mut msg) = stream.next().await.map_err(failed)? {
                let mut hash = Sha256::new();
                let mut size = 0u64;
                while let Some(chunk) = msg.next_chunk().await.map_err(failed)? {
                    hash.update(&chunk);
                    size += chunk.len() as u64;
                }
                let data = msg.finish().await.map_err(failed)?;
                let Some(uid) = data.uid else {
                    return Err(Failure::Failed(format!(
                        "FETCH {uids}: the server sent message {} without its UID",
                        data.seq
                    )));
                };
                let digest: [u8; 32] = hash.finalize().into();
                out::line(out::message(uid, &data.flag_strings(), size, &digest))?;
            }
            Ok(())
        }
        Action::Append {
            mailbox,
            file,
            flags,
        } => {
            let f = tokio::fs::File::open(file)
                .await
                .map_err(|e| Failure::Failed(format!("{}: {e}", file.display())))?;
            let len = f.metadata().await?.len();
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            let uid = conn
                .append(mailbox, &flags, len, f)
                .await
                .map_err(|e| Failure::Failed(format!("APPEND {mailbox}: {e}")))?;
            out::line(json!({ "uid": uid }))
        }
        Action::Idle { mailbox, seconds } => {
            // With QRESYNC enabled the server reports expunges as VANISHED with their UIDs
            // (RFC 7162 §3.2.10) and puts the UID in every flag change (§3.2.4): the
            // contract's `vanished` event and `flags` with a UID. Without it: `expunge` with
            // a sequence number and `flags` whose UID is null unless the server sends it.
            if conn.has_capability("QRESYNC") && conn.has_capability("ENABLE") {
                conn.raw_command("ENABLE QRESYNC")
                    .await
                    .map_err(|e| Failure::Failed(format!("ENABLE QRESYNC: {e}")))?;
            }
            conn.select(mailbox)
                .await
                .map_err(|e| Failure::Failed(format!("SELECT {mailbox}: {e}")))?;
            let failed = |e: imapwire_tokio::Error| Failure::Failed(format!("IDLE: {e}"));
            let mut idle = conn.idle().await.map_err(failed)?;
            let until = tokio::time::Instant::now() + Duration::from_secs(*seconds);
            loop {
                let ev = tokio::select! {
                    ev = idle.next() => ev.map_err(failed)?,
                    _ = tokio::time::sleep_until(until) => break,
                };
                let Some(ev) = ev else {
                    return Err(Failure::Failed("IDLE: the server ended it".into()));
                };
                out::line(match ev {
                    IdleEvent::Exists { exists } => json!({"event": "exists", "exists": exists}),
                    IdleEvent::Expunge { seq } => json!({"event": "expunge", "seq": seq}),
                    IdleEvent::Vanished { uids, .. } => json!({"event": "vanished", "uids": uids}),
                    IdleEvent::Flags { seq, uid, flags } => json!({
                        "event": "flags", "seq": seq, "uid": uid, "flags": out::flags(&flags),
                    }),
                    other => {
                        eprintln!("client: IDLE event not reported: {other:?}");
                        continue;
                    }
                })?;
            }
            idle.done().await.map_err(failed)
        }
        Action::Sync { mailbox, dir } => {
            let replica = replica::Replica::new(dir);
            let report = sync::sync(conn, mailbox, &replica).await?;
            out::line(report)
        }
        Action::Local { .. } | Action::Mark { .. } | Action::Delete { .. } => {
            unreachable!("local actions do not connect")
        }
    }
}
