//! An IMAP4rev2/IMAP4rev1 server that stock mail clients can use (RFC 9051; RFC 8314 implicit
//! TLS), on the tokio adapter with a Maildir++ store per user.
//!
//! ```text
//! cargo run --release --example server -- --listen 127.0.0.1:PORT [--tls-listen 127.0.0.1:PORT]
//!     [--cert FILE --key FILE] --users FILE --store DIR
//! ```
//!
//! `--users` names a file of `user:password` lines. Without `--cert` a self-signed
//! certificate for `localhost`/`127.0.0.1` is generated and its SHA-256 fingerprint printed.
//! One line is printed per listening address; Ctrl-C stops the server cleanly (every session
//! gets `BYE`). The core is `imapwire_tokio::server::start`, which the demo calls in-process.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use imapwire_tokio::server::{CertSource, ListenKind, ServeOptions, start};

const USAGE: &str = "usage: server --listen ADDR [--listen ADDR ...] [--tls-listen ADDR ...] \
[--cert FILE --key FILE] --users FILE --store DIR";

fn parse(args: &[String]) -> Result<ServeOptions, String> {
    let mut listen: Vec<SocketAddr> = Vec::new();
    let mut tls_listen: Vec<SocketAddr> = Vec::new();
    let (mut cert, mut key, mut users, mut store) = (None, None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--listen" => listen.push(value()?.parse().map_err(|e| format!("--listen: {e}"))?),
            "--tls-listen" => {
                tls_listen.push(value()?.parse().map_err(|e| format!("--tls-listen: {e}"))?)
            }
            "--cert" => cert = Some(PathBuf::from(value()?)),
            "--key" => key = Some(PathBuf::from(value()?)),
            "--users" => users = Some(PathBuf::from(value()?)),
            "--store" => store = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let (Some(users), Some(store)) = (users, store) else {
        return Err(format!("--users and --store are required\n{USAGE}"));
    };
    if listen.is_empty() && tls_listen.is_empty() {
        return Err(format!(
            "give at least one --listen or --tls-listen\n{USAGE}"
        ));
    }
    let mut o = ServeOptions::new(users, store);
    o.listen = listen;
    o.tls_listen = tls_listen;
    o.cert = match (cert, key) {
        (Some(cert), Some(key)) => CertSource::Files { cert, key },
        (None, None) => CertSource::SelfSigned,
        _ => return Err("--cert and --key go together".to_owned()),
    };
    Ok(o)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let self_signed = matches!(opts.cert, CertSource::SelfSigned);
    let server = match start(opts).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("server: {e}");
            return ExitCode::FAILURE;
        }
    };
    if self_signed {
        println!("self-signed certificate {}", server.fingerprint);
    }
    for (kind, addr) in &server.addresses {
        match kind {
            ListenKind::Tls => println!("listening on {addr} (imaps, implicit TLS)"),
            _ => println!("listening on {addr} (imap, STARTTLS)"),
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        eprintln!("server: cannot wait for Ctrl-C");
    }
    println!("shutting down");
    server.shutdown(Duration::from_secs(5)).await;
    ExitCode::SUCCESS
}
