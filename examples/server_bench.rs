//! Commands served per second by the example server (`imapwire_tokio::server::start`, the
//! core of `examples/server.rs`) next to Dovecot on the same machine, measured in the same run
//! with the same client, on the same mailbox contents (reported in `benches/README.md`).
//!
//! ```text
//! IMAPWIRE_DOVECOT=/tmp/imapwire-dovecot/env \
//!     cargo run --release --example server_bench -- [--seconds S] [--connections C] \
//!     [--messages N] [--only WORKLOAD,...]
//! ```
//!
//! Without `IMAPWIRE_DOVECOT` only the example server is measured (the Dovecot column is
//! left empty).
//!
//! The client is a small raw IMAP client on tokio: `C` connections, one command in flight
//! each, over plain TCP on 127.0.0.1 (both servers count loopback as secure for LOGIN). Each
//! server gets a fresh mailbox with `N` messages (2–6 KiB, APPEND with LITERAL+); then each
//! workload runs for `S` seconds against one server, then the other:
//!
//! - `fetch-flags`: `FETCH k (FLAGS)`, `k` cycling over the messages;
//! - `fetch-flags-all`: `FETCH 1:* (FLAGS)` (one command, `N` responses);
//! - `fetch-body`: `FETCH k BODY.PEEK[]`;
//! - `search`: `SEARCH SUBJECT "message 1x"` (a header scan of the whole mailbox);
//! - `store-one`: `UID STORE k +FLAGS (\Flagged)`, then `-FLAGS` on the next round over the
//!   messages, so that every command changes one message (each connection takes its own
//!   messages: `k` cycles over those equal to the connection's number modulo `C`);
//! - `store-all`: `UID STORE 1:* +FLAGS (\Flagged)` and `-FLAGS` in turn, on one connection
//!   (from the second command on, every command changes every message; the example server
//!   answers with `N` FETCH responses, Dovecot with one per message changed);
//! - `append`: `APPEND` of a 4 KiB message.
//!
//! Dovecot comes from `.ci/dovecot.sh` (its env file: host, plain port, users, password);
//! the mailbox it creates there is deleted at the end.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use imapwire_tokio::server::{ListenKind, ServeOptions, start};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// A raw IMAP connection with one command in flight.
struct Conn {
    rd: BufReader<OwnedReadHalf>,
    wr: OwnedWriteHalf,
    n: u64,
    line: Vec<u8>,
}

impl Conn {
    async fn connect(addr: &str) -> io::Result<Conn> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let (r, w) = s.into_split();
        let mut c = Conn {
            rd: BufReader::with_capacity(64 * 1024, r),
            wr: w,
            n: 0,
            line: Vec::new(),
        };
        c.read_line().await?;
        if !c.line.starts_with(b"* OK") {
            return Err(io::Error::other(format!(
                "greeting: {}",
                String::from_utf8_lossy(&c.line)
            )));
        }
        Ok(c)
    }

    async fn read_line(&mut self) -> io::Result<()> {
        self.line.clear();
        if self.rd.read_until(b'\n', &mut self.line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// Sends `body` (with a literal's data already in it when `literal` is given) and reads
    /// to the tagged completion; an error unless it is OK. Returns the untagged lines.
    async fn cmd(&mut self, body: &[u8], literal: Option<&[u8]>) -> io::Result<Vec<String>> {
        self.n += 1;
        let tag = format!("b{}", self.n);
        let mut out = Vec::with_capacity(body.len() + 16 + literal.map_or(0, |l| l.len()));
        out.extend_from_slice(tag.as_bytes());
        out.push(b' ');
        out.extend_from_slice(body);
        if let Some(l) = literal {
            out.extend_from_slice(format!(" {{{}+}}\r\n", l.len()).as_bytes());
            out.extend_from_slice(l);
        }
        out.extend_from_slice(b"\r\n");
        self.wr.write_all(&out).await?;
        let mut untagged = Vec::new();
        loop {
            self.read_line().await?;
            if self.line.starts_with(tag.as_bytes()) && self.line.get(tag.len()) == Some(&b' ') {
                let rest = &self.line[tag.len() + 1..];
                if rest.starts_with(b"OK") {
                    return Ok(untagged);
                }
                return Err(io::Error::other(format!(
                    "{}: {}",
                    String::from_utf8_lossy(body),
                    String::from_utf8_lossy(rest).trim_end()
                )));
            }
            // Literals in the answer: read their bytes, then the rest of the line.
            let mut text = String::from_utf8_lossy(&self.line).into_owned();
            while let Some(n) = literal_len(&self.line) {
                let mut buf = vec![0u8; n];
                self.rd.read_exact(&mut buf).await?;
                self.read_line().await?;
                text.push_str(&String::from_utf8_lossy(&self.line));
            }
            untagged.push(text);
        }
    }
}

fn literal_len(line: &[u8]) -> Option<usize> {
    let l = line.strip_suffix(b"\r\n")?.strip_suffix(b"}")?;
    let open = l.iter().rposition(|&c| c == b'{')?;
    std::str::from_utf8(&l[open + 1..]).ok()?.parse().ok()
}

/// One message of the test mailbox.
fn message(i: usize, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Sender {i} <sender{i}@example.org>\r\nTo: bench@example.org\r\n\
         Subject: message {i}\r\nMessage-ID: <{i}.bench@example.org>\r\n\
         Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n"
    )
    .into_bytes();
    let mut k = 0;
    while m.len() < size {
        m.extend_from_slice(
            format!("line {k} of the body of message {i}, some text.\r\n").as_bytes(),
        );
        k += 1;
    }
    m
}

/// Where and as whom to log in.
#[derive(Clone)]
struct Target {
    name: &'static str,
    addr: String,
    user: String,
    password: String,
    mailbox: String,
}

impl Target {
    async fn login(&self) -> io::Result<Conn> {
        let mut c = Conn::connect(&self.addr).await?;
        c.cmd(
            format!("LOGIN \"{}\" \"{}\"", self.user, self.password).as_bytes(),
            None,
        )
        .await?;
        Ok(c)
    }

    async fn fill(&self, messages: usize) -> io::Result<()> {
        let mut c = self.login().await?;
        c.cmd(format!("CREATE \"{}\"", self.mailbox).as_bytes(), None)
            .await?;
        let append = format!("APPEND \"{}\" (\\Seen)", self.mailbox);
        for i in 0..messages {
            let m = message(i, 2048 + (i * 997) % 4096);
            c.cmd(append.as_bytes(), Some(&m)).await?;
        }
        c.cmd(b"LOGOUT", None).await?;
        Ok(())
    }

    async fn cleanup(&self) -> io::Result<()> {
        let mut c = self.login().await?;
        c.cmd(format!("DELETE \"{}\"", self.mailbox).as_bytes(), None)
            .await?;
        c.cmd(b"LOGOUT", None).await?;
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Workload {
    FetchFlags,
    FetchFlagsAll,
    FetchBody,
    Search,
    StoreOne,
    StoreAll,
    Append,
}

impl Workload {
    /// In the order run: the STOREs before APPEND, so that the UIDs are `1..=N`.
    const ALL: [Workload; 7] = [
        Workload::FetchFlags,
        Workload::FetchFlagsAll,
        Workload::FetchBody,
        Workload::Search,
        Workload::StoreOne,
        Workload::StoreAll,
        Workload::Append,
    ];

    fn name(self) -> &'static str {
        match self {
            Workload::FetchFlags => "fetch-flags",
            Workload::FetchFlagsAll => "fetch-flags-all",
            Workload::FetchBody => "fetch-body",
            Workload::Search => "search",
            Workload::StoreOne => "store-one",
            Workload::StoreAll => "store-all",
            Workload::Append => "append",
        }
    }
}

/// Runs `w` on `conns` connections for `secs`; commands completed per second.
async fn run(t: &Target, w: Workload, conns: usize, secs: f64, messages: usize) -> io::Result<f64> {
    // One connection changes the whole mailbox: with more, their STOREs would undo each
    // other's or change nothing.
    let conns = if matches!(w, Workload::StoreAll) {
        1
    } else {
        conns
    };
    let mut clients = Vec::new();
    for _ in 0..conns {
        let mut c = t.login().await?;
        c.cmd(format!("SELECT \"{}\"", t.mailbox).as_bytes(), None)
            .await?;
        clients.push(c);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (i, mut c) in clients.into_iter().enumerate() {
        let (stop, done, mailbox) = (stop.clone(), done.clone(), t.mailbox.clone());
        tasks.push(tokio::spawn(async move {
            let body = message(100_000 + i, 4096);
            let append = format!("APPEND \"{mailbox}\"");
            let mut k = i;
            // store-one: this connection's messages, i + 1, i + 1 + conns, ...
            let mine = messages.saturating_sub(i).div_ceil(conns).max(1);
            let mut round = 0usize;
            let sign = |round: usize| if round % 2 == 0 { '+' } else { '-' };
            while !stop.load(Ordering::Relaxed) {
                k = k % messages + 1;
                let cmd = match w {
                    Workload::StoreOne => {
                        let j = round % mine;
                        let uid = i + 1 + j * conns;
                        let s = sign(round / mine);
                        round += 1;
                        format!("UID STORE {uid} {s}FLAGS (\\Flagged)")
                    }
                    Workload::StoreAll => {
                        round += 1;
                        format!("UID STORE 1:* {}FLAGS (\\Flagged)", sign(round - 1))
                    }
                    Workload::FetchFlags => format!("FETCH {k} (FLAGS)"),
                    Workload::FetchFlagsAll => "FETCH 1:* (FLAGS)".to_owned(),
                    Workload::FetchBody => format!("FETCH {k} BODY.PEEK[]"),
                    Workload::Search => format!("SEARCH SUBJECT \"message 1{}\"", k % 10),
                    Workload::Append => append.clone(),
                };
                let lit = matches!(w, Workload::Append).then_some(&body[..]);
                let r = c.cmd(cmd.as_bytes(), lit).await?;
                if matches!(w, Workload::FetchFlagsAll) && r.len() < messages {
                    return Err(io::Error::other(format!("{cmd} gave {} lines", r.len())));
                }
                // Other connections' changes come as untagged FETCHes too; Dovecot answers
                // a STORE with the messages it changed only.
                if matches!(w, Workload::StoreOne | Workload::StoreAll) && r.is_empty() {
                    return Err(io::Error::other(format!("{cmd} gave no FETCH")));
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            c.cmd(b"LOGOUT", None).await?;
            Ok::<(), io::Error>(())
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let n = done.load(Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    for task in tasks {
        task.await.map_err(io::Error::other)??;
    }
    Ok(n as f64 / elapsed)
}

fn env_file(path: &str) -> io::Result<HashMap<String, String>> {
    Ok(std::fs::read_to_string(path)?
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut secs = 3.0;
    let mut conns = 4;
    let mut messages = 200;
    let mut only: Option<Vec<String>> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it
            .next()
            .ok_or_else(|| io::Error::other(format!("{a} needs a value")))?;
        let bad = |e: std::num::ParseIntError| io::Error::other(format!("{a}: {e}"));
        match a.as_str() {
            "--seconds" => secs = v.parse().map_err(|e| io::Error::other(format!("{e}")))?,
            "--connections" => conns = v.parse().map_err(bad)?,
            "--messages" => messages = v.parse().map_err(bad)?,
            "--only" => only = Some(v.split(',').map(str::to_owned).collect()),
            _ => return Err(io::Error::other(format!("unknown argument {a}"))),
        }
    }
    let mailbox = format!("imapwire-bench-{}", std::process::id());
    let dovecot = match std::env::var("IMAPWIRE_DOVECOT") {
        Ok(env_path) => {
            let env = env_file(&env_path)?;
            let get = |k: &str| {
                env.get(k)
                    .cloned()
                    .ok_or_else(|| io::Error::other(format!("{k} missing in {env_path}")))
            };
            Some(Target {
                name: "dovecot",
                addr: format!("{}:{}", get("DOVECOT_HOST")?, get("DOVECOT_IMAP_PORT")?),
                user: get("DOVECOT_USERS")?
                    .split(',')
                    .next_back()
                    .unwrap_or("erin")
                    .to_owned(),
                password: get("DOVECOT_PASSWORD")?,
                mailbox: mailbox.clone(),
            })
        }
        Err(_) => {
            eprintln!("IMAPWIRE_DOVECOT (the env file of .ci/dovecot.sh) is not set: ours only");
            None
        }
    };

    // The example server on its own runtime (two worker threads), so client and server do
    // not share a thread; Dovecot runs in its own processes.
    let dir = std::env::temp_dir().join(format!("imapwire-server-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("users"), "bench:bench-pw\n")?;
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut opts = ServeOptions::new(dir.join("users"), dir.join("store"));
    opts.listen = vec!["127.0.0.1:0".parse().map_err(io::Error::other)?];
    let running = server_rt.block_on(start(opts))?;
    let addr = running
        .addresses
        .iter()
        .find(|(k, _)| *k == ListenKind::Plain)
        .map(|a| a.1)
        .ok_or_else(|| io::Error::other("no plain listener"))?;
    let ours = Target {
        name: "imapwire",
        addr: addr.to_string(),
        user: "bench".to_owned(),
        password: "bench-pw".to_owned(),
        mailbox,
    };

    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let workloads: Vec<Workload> = match &only {
        None => Workload::ALL.to_vec(),
        Some(names) => {
            for n in names {
                if !Workload::ALL.iter().any(|w| w.name() == n) {
                    return Err(io::Error::other(format!("unknown workload {n}")));
                }
            }
            Workload::ALL
                .into_iter()
                .filter(|w| names.iter().any(|n| n == w.name()))
                .collect()
        }
    };
    let targets: Vec<Target> = std::iter::once(ours).chain(dovecot).collect();
    let result = client_rt.block_on(bench(&targets, &workloads, conns, secs, messages));
    server_rt.block_on(running.shutdown(Duration::from_secs(5)));
    drop(server_rt);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn bench(
    targets: &[Target],
    workloads: &[Workload],
    conns: usize,
    secs: f64,
    messages: usize,
) -> io::Result<()> {
    println!(
        "{conns} connections, {secs} s per workload and server, {messages} messages of 2-6 KiB"
    );
    for t in targets {
        let start = Instant::now();
        t.fill(messages).await?;
        println!(
            "{}: filled in {:.1} s",
            t.name,
            start.elapsed().as_secs_f64()
        );
    }
    let mut result = Ok(());
    println!(
        "{:<16} {:>12} {:>12} {:>8}",
        "workload", "imapwire/s", "dovecot/s", "ratio"
    );
    for &w in workloads {
        let mut rates = Vec::new();
        for t in targets {
            match run(t, w, conns, secs, messages).await {
                Ok(r) => rates.push(r),
                Err(e) => {
                    eprintln!("{} {}: {e}", t.name, w.name());
                    result = Err(e);
                    rates.push(f64::NAN);
                }
            }
        }
        println!(
            "{:<16} {:>12.1} {:>12.1} {:>8.2}",
            w.name(),
            rates[0],
            rates.get(1).copied().unwrap_or(f64::NAN),
            rates[0] / rates.get(1).copied().unwrap_or(f64::NAN)
        );
    }
    for t in targets {
        if let Err(e) = t.cleanup().await {
            eprintln!("{}: cleanup: {e}", t.name);
        }
    }
    result
}
