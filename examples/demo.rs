//! The README's first command: `cargo run --release --example demo`.
//!
//! No outside server: the example server (`imapwire_tokio::server`) starts in this process on
//! 127.0.0.1 with a freshly generated self-signed certificate and a small sample mailbox, and
//! the async client (`imapwire_tokio::Connection`) walks through what a mail application
//! does, printing a trace a newcomer can follow:
//!
//! 1. connect with certificate verification on: the self-signed certificate is refused, with
//!    its fingerprint;
//! 2. pin that fingerprint (for this account only) and connect again;
//! 3. authenticate with SCRAM-SHA-256 (the password never crosses the wire);
//! 4. list the mailboxes with their special-use roles;
//! 5. enable CONDSTORE and QRESYNC, select INBOX;
//! 6. fetch every message with its body streamed in chunks (never buffered whole);
//! 7. IDLE, while a second connection appends a message: the new message is announced;
//! 8. sync INBOX into a temporary directory with the sync engine (`Connection::sync`, on the
//!    same connection), twice: the second time only the change made in between travels;
//! 9. log out.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use imapwire_session::sasl::{Credentials, Mechanism, Secret};
use imapwire_session::sync::{Journal, ReplicaState, SyncConfig};
use imapwire_tokio::server::{ServeOptions, start};
use imapwire_tokio::types::role_attribute;
use imapwire_tokio::{AuthMethod, Config, Connection, Error, Fingerprint, IdleEvent, TlsConfig};
use sha2::{Digest, Sha256};

const USER: &str = "demo";
const PASSWORD: &str = "correct horse battery staple";

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn step(n: u32, what: &str) {
    println!("\n== {n}. {what}");
}

fn sample(n: u32, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Ada <ada@example.org>\r\nTo: Demo <demo@example.org>\r\nSubject: {subject}\r\n\
         Date: Sat, 5 Dec 2026 09:0{n}:00 +0000\r\nMessage-ID: <demo-{n}@example.org>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn subject_of(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    text.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or("(no subject)")
        .to_owned()
}

fn hex8(d: &[u8]) -> String {
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

async fn login(cfg: Config) -> Res<Connection> {
    let conn = Connection::connect(cfg).await?;
    conn.authenticate(
        Credentials::password(USER, Secret::new(PASSWORD.into())),
        AuthMethod::Mechanism(Mechanism::ScramSha256),
    )
    .await?;
    Ok(conn)
}

async fn append(
    conn: &Connection,
    mailbox: &str,
    flags: &[&str],
    msg: Vec<u8>,
) -> Res<Option<u32>> {
    let len = msg.len() as u64;
    Ok(conn
        .append(mailbox, flags, len, std::io::Cursor::new(msg))
        .await?)
}

/// One sync of `dir`'s replica of INBOX over `conn`; returns the report's counts as a line of
/// text.
async fn sync_into(conn: &Connection, dir: &Path) -> Res<String> {
    let state_path = dir.join("state.json");
    let (state, journal): (ReplicaState, Journal) = match std::fs::read(&state_path) {
        Ok(b) => serde_json::from_slice(&b)?,
        Err(_) => Default::default(),
    };
    let mailbox = imapwire_codec::mailbox::Mailbox::Inbox;
    let outcome = conn
        .sync(SyncConfig::new(mailbox), state, journal, |_| Ok(()))
        .await?
        .map_err(|f| format!("sync failed: {}", f.error))?;
    // Apply the change set to the files, then persist the state that covers it.
    for uid in &outcome.changes.expunged {
        let _ = std::fs::remove_file(dir.join(format!("{uid}.eml")));
    }
    for m in &outcome.changes.new_messages {
        if let Some(body) = &m.body {
            std::fs::write(dir.join(format!("{}.eml", m.uid)), body)?;
        }
    }
    std::fs::write(
        &state_path,
        serde_json::to_vec(&(&outcome.state, &outcome.journal))?,
    )?;
    let r = outcome.report;
    let mode = r.mode.map(|m| m.as_str()).unwrap_or("full");
    Ok(format!(
        "mode {mode}: {} downloaded, {} with changed flags, {} expunged, {} uploaded",
        r.downloaded, r.flags_changed, r.expunged, r.uploaded
    ))
}

#[tokio::main]
async fn main() -> Res<()> {
    let started = Instant::now();
    let work: PathBuf = std::env::temp_dir().join(format!("imapwire-demo-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = demo(&work).await;
    let _ = std::fs::remove_dir_all(&work);
    result?;
    println!("\ndone in {:.2} s", started.elapsed().as_secs_f64());
    Ok(())
}

async fn demo(work: &Path) -> Res<()> {
    // The server: one account, a Maildir store, implicit TLS on a free port of 127.0.0.1.
    let users = work.join("users");
    std::fs::write(&users, format!("{USER}:{PASSWORD}\n"))?;
    let mut opts = ServeOptions::new(&users, work.join("store"));
    opts.tls_listen = vec!["127.0.0.1:0".parse()?];
    let server = start(opts).await?;
    let addr = server.addresses[0].1;
    println!("example server on {addr} (imaps), self-signed certificate generated just now");

    // The sample mailbox, put there by a connection that trusts the certificate.
    let mut trusted = TlsConfig::default();
    trusted.dangerous().pin(server.fingerprint);
    let pinned_cfg = Config::new("127.0.0.1", addr.port()).with_tls(trusted);
    {
        let seed = login(pinned_cfg.clone()).await?;
        append(
            &seed,
            "INBOX",
            &["\\Seen"],
            sample(1, "Welcome to imapwire", "Hello!"),
        )
        .await?;
        let long = "Shall we meet at the usual place, at noon or a little later?\r\n".repeat(800);
        append(&seed, "INBOX", &[], sample(2, "Lunch on Friday?", &long)).await?;
        append(
            &seed,
            "INBOX",
            &["\\Flagged"],
            sample(3, "Your invoice", "Total: 42 EUR"),
        )
        .await?;
        append(&seed, "Sent", &["\\Seen"], sample(4, "Re: Lunch", "Yes!")).await?;
        seed.logout().await?;
    }
    println!("sample mailbox: 3 messages in INBOX (one of 50 kB), 1 in Sent");

    step(1, "connect with certificate verification on (the default)");
    let cfg = Config::new("127.0.0.1", addr.port());
    let fingerprint: Fingerprint = match Connection::connect(cfg.clone()).await {
        Err(Error::Certificate(c)) => {
            println!("refused: {}", c.reason);
            println!("  fingerprint {}", c.fingerprint);
            println!("  subject     {}", c.subject);
            println!("  issuer      {}", c.issuer);
            c.fingerprint
        }
        Ok(_) => return Err("a self-signed certificate was accepted without a pin".into()),
        Err(e) => return Err(e.into()),
    };

    step(2, "pin that fingerprint for this account, connect again");
    let mut tls = TlsConfig::default();
    tls.dangerous().pin(fingerprint);
    let mut cfg = cfg.with_tls(tls);
    // Bodies above this size are handed over in pieces as they arrive (the default threshold
    // is 256 KiB; lowered here so that the 50 kB sample shows it).
    cfg.session.stream_bodies_over = Some(8 * 1024);
    let conn = Connection::connect(cfg.clone()).await?;
    println!("connected; handshake signatures verified with the pinned certificate's key");

    step(3, "authenticate with SCRAM-SHA-256");
    let used = conn
        .authenticate(
            Credentials::password(USER, Secret::new(PASSWORD.into())),
            AuthMethod::Mechanism(Mechanism::ScramSha256),
        )
        .await?;
    println!("authenticated as {USER} with {used}; the server proved it knows the password too");
    let caps = conn.capabilities();
    println!("capabilities: {}", caps.join(" "));

    step(4, "list mailboxes with their roles (RFC 6154)");
    let list = conn.list("", "*").await?;
    for m in &list {
        let role = m.special_use.map(role_attribute).unwrap_or("-");
        println!("  {:<10} role {role}", m.name);
    }
    let roles: BTreeSet<&str> = list
        .iter()
        .filter_map(|m| m.special_use.map(role_attribute))
        .collect();
    for wanted in ["\\Sent", "\\Drafts", "\\Trash"] {
        if !roles.contains(wanted) {
            println!("  missing role: {wanted}");
        }
    }

    step(
        5,
        "select INBOX (CONDSTORE enabled, for HIGHESTMODSEQ; QRESYNC, for the sync of step 8)",
    );
    // ENABLE is valid only before a mailbox is selected (RFC 5161 §3.1): the sync engine,
    // running on this connection later, finds QRESYNC already on.
    conn.raw_command("ENABLE CONDSTORE QRESYNC").await?;
    let info = conn.select("INBOX").await?;
    println!(
        "  {} messages, UIDVALIDITY {:?}, UIDNEXT {:?}, HIGHESTMODSEQ {:?}",
        info.exists, info.uidvalidity, info.uidnext, info.highestmodseq
    );

    step(
        6,
        "fetch every message; bodies come as a stream of chunks, never buffered whole",
    );
    let mut fetch = conn.fetch("1:*", "(UID FLAGS BODY.PEEK[])", true).await?;
    while let Some(mut msg) = fetch.next().await? {
        let (mut chunks, mut size, mut hash, mut head) = (0, 0usize, Sha256::new(), Vec::new());
        while let Some(chunk) = msg.next_chunk().await? {
            chunks += 1;
            size += chunk.len();
            hash.update(&chunk);
            if head.len() < 1024 {
                head.extend_from_slice(&chunk[..chunk.len().min(1024)]);
            }
        }
        let data = msg.finish().await?;
        println!(
            "  UID {} {:?}: {:?}, {size} bytes in {chunks} chunk(s), sha256 {}...",
            data.uid.unwrap_or(0),
            data.flag_strings(),
            subject_of(&head),
            hex8(&hash.finalize())
        );
    }

    step(7, "IDLE; a second connection appends a message");
    let mut idle = conn.idle().await?;
    println!("  IDLE accepted; waiting for mailbox events");
    let other = login(cfg.clone()).await?;
    let uid = append(
        &other,
        "INBOX",
        &[],
        sample(5, "Breaking news", "Arrived during IDLE."),
    )
    .await?;
    println!("  second connection: APPEND done, new UID {uid:?}");
    let event = tokio::time::timeout(Duration::from_secs(10), idle.next()).await;
    match event {
        Ok(Ok(Some(IdleEvent::Exists { exists }))) => {
            println!("  IDLE event: the mailbox has {exists} messages now")
        }
        Ok(Ok(Some(other))) => println!("  IDLE event: {other:?}"),
        Ok(Ok(None)) => return Err("IDLE ended without an event".into()),
        Ok(Err(e)) => return Err(e.into()),
        Err(_) => return Err("no IDLE event within 10 s".into()),
    }
    idle.done().await?;
    println!("  IDLE ended (DONE)");

    step(8, "sync INBOX into a local replica, twice");
    let replica = work.join("replica");
    std::fs::create_dir_all(&replica)?;
    println!("  first sync:  {}", sync_into(&conn, &replica).await?);
    other.select("INBOX").await?;
    other.store("1", "+FLAGS (\\Answered)", true).await?;
    println!("  (the second connection marks UID 1 \\Answered)");
    println!("  second sync: {}", sync_into(&conn, &replica).await?);
    let files = std::fs::read_dir(&replica)?.filter(|e| {
        e.as_ref()
            .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
    });
    println!("  the replica holds {} message files", files.count());
    other.logout().await?;

    step(9, "log out");
    conn.logout().await?;
    println!("  logged out");
    server.shutdown(Duration::from_secs(2)).await;
    Ok(())
}
