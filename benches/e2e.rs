//! End-to-end client throughput (issue 15): the same FETCH answers, over loopback TLS, read by
//! our async client (`imapwire-tokio`), by `async-imap` and by `imap-next` (both crates.io),
//! one after the other in one run.
//!
//! The server is a replay server in this process (its own thread and runtime): it greets,
//! answers LOGIN/SELECT/anything with `OK`, and answers a FETCH with a prerecorded corpus
//! stream (`gen.py`: `fetch-flags` 200,000 × `(UID FLAGS MODSEQ)`, `fetch-headers` 20,000 ×
//! `ENVELOPE BODYSTRUCTURE`, `fetch-bodies` 2,000 whole messages of 2–300 KiB) followed by its
//! own tagged `OK`, so the server costs the same for every client. A last case streams one
//! message of `IMAP_E2E_BIG_MB` MiB (default 500) generated on the fly, and records the
//! process's peak heap growth during the fetch (a counting allocator).
//!
//! With `IMAP_E2E_DOVECOT=<env file of .ci/dovecot.sh>` the same three corpora are then served
//! by that Dovecot (implicit TLS, its CA, its last user): one scratch mailbox per corpus
//! (`imapwire-e2e-fetch-flags` and so on), filled once with APPEND and reused while its
//! message count is right: `fetch-flags` the corpus's first `IMAP_E2E_DOVECOT_FLAGS` (20,000)
//! flag sets on small messages, `fetch-headers` 20,000 messages made from the `fetch-bodies`
//! messages (header kept, a short body shaped like the corpus's structures; Dovecot computes
//! ENVELOPE and BODYSTRUCTURE),
//! `fetch-bodies` the 2,000 messages themselves. One unmeasured fetch warms Dovecot's caches
//! first. `IMAP_E2E_REPLAY=0` skips the replay server.
//!
//! Figures per client and corpus: messages per second (wall clock, best of
//! `IMAP_E2E_RUNS`, default 3, the clients taking turns) and CPU time per message of the
//! client's thread (least of the runs; the client runs on a current-thread runtime of its
//! own: for our client that includes its driver task), with both as ratios to ours.
//!
//! ```sh
//! cargo run --release -p imapwire-benches --example e2e            # all corpora
//! IMAP_E2E_ONLY=fetch-flags IMAP_E2E_RUNS=1 cargo run --release -p imapwire-benches --example e2e
//! IMAP_E2E_DOVECOT=/tmp/imapwire-dovecot/env cargo run --release -p imapwire-benches --example e2e
//! ```
//! A last row per corpus is the floor ([`null_client`]): the peers' TLS transport sending the
//! same commands and dropping what comes back until the tagged line, with no IMAP at all: what
//! no client reading over that transport can go under.
//!
//! `IMAP_E2E_PEERS=0` measures our client alone; the big message is fetched by the peers only
//! with `IMAP_E2E_BIG_PEERS=1` (both hold the message whole). `IMAP_E2E_CLIENTS` picks the
//! clients by name, in order (`ours,async-imap,imap-next,null`; for profiles).

#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

// ---------------------------------------------------------------------------------------------
// Heap accounting

#[global_allocator]
static GLOBAL: imapwire_testalloc::Peak = imapwire_testalloc::Peak;

/// CPU time of the calling thread: the run time in nanoseconds from
/// `/proc/thread-self/schedstat` (what `CLOCK_THREAD_CPUTIME_ID` reports), else user + system
/// time from `/proc/thread-self/stat` (clock ticks of 10 ms).
fn thread_cpu() -> Duration {
    if let Some(ns) = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .filter(|&ns| ns > 0)
    {
        return Duration::from_nanos(ns);
    }
    let Ok(s) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

// ---------------------------------------------------------------------------------------------
// The replay server

#[derive(Clone)]
enum Answer {
    /// A recorded stream (its own final tagged line removed).
    Recorded(Bytes),
    /// One message of this many bytes, generated while it is sent.
    Big(u64),
}

struct Tls {
    acceptor: tokio_rustls::TlsAcceptor,
    ca: CertificateDer<'static>,
}

fn tls_material() -> Tls {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "e2e bench CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone(), ca_cert.der().clone()], key)
        .unwrap();
    Tls {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(cfg)),
        ca: ca_cert.der().clone(),
    }
}

/// Serves every connection on `listener` with `answer` for FETCH.
async fn serve(listener: TcpListener, acceptor: tokio_rustls::TlsAcceptor, answer: Answer) {
    while let Ok((tcp, _)) = listener.accept().await {
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let answer = answer.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let _ = session(tls, answer).await;
        });
    }
}

async fn session(
    tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    answer: Answer,
) -> std::io::Result<()> {
    let (rd, mut wr) = tokio::io::split(tls);
    let mut rd = BufReader::new(rd);
    const CAPS: &str = "IMAP4rev1 LITERAL+ IDLE UIDPLUS";
    wr.write_all(format!("* OK [CAPABILITY {CAPS}] replay server ready\r\n").as_bytes())
        .await?;
    wr.flush().await?;
    let mut line = String::new();
    loop {
        line.clear();
        if rd.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut words = line.split_whitespace();
        let tag = words.next().unwrap_or("*").to_owned();
        let mut cmd = words.next().unwrap_or("").to_ascii_uppercase();
        if cmd == "UID" {
            cmd = words.next().unwrap_or("").to_ascii_uppercase();
        }
        match cmd.as_str() {
            "CAPABILITY" => {
                wr.write_all(format!("* CAPABILITY {CAPS}\r\n{tag} OK done\r\n").as_bytes())
                    .await?
            }
            "SELECT" | "EXAMINE" => {
                let r = format!(
                    "* 200000 EXISTS\r\n* OK [UIDVALIDITY 1] x\r\n* OK [UIDNEXT 600000] x\r\n\
                     * FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)\r\n\
                     {tag} OK [READ-WRITE] selected\r\n"
                );
                wr.write_all(r.as_bytes()).await?
            }
            "FETCH" => {
                match &answer {
                    Answer::Recorded(b) => wr.write_all(b).await?,
                    Answer::Big(n) => {
                        wr.write_all(format!("* 1 FETCH (UID 1 BODY[] {{{n}}}\r\n").as_bytes())
                            .await?;
                        let mut chunk = vec![b'x'; 64 * 1024];
                        for (i, b) in chunk.iter_mut().enumerate() {
                            if i % 78 == 76 {
                                *b = b'\r';
                            } else if i % 78 == 77 {
                                *b = b'\n';
                            }
                        }
                        let mut left = *n;
                        while left > 0 {
                            let k = left.min(chunk.len() as u64) as usize;
                            wr.write_all(&chunk[..k]).await?;
                            left -= k as u64;
                        }
                        wr.write_all(b")\r\n").await?;
                    }
                }
                wr.write_all(format!("{tag} OK fetch done\r\n").as_bytes())
                    .await?
            }
            "LOGOUT" => {
                wr.write_all(format!("* BYE bye\r\n{tag} OK done\r\n").as_bytes())
                    .await?;
                wr.flush().await?;
                return Ok(());
            }
            _ => {
                wr.write_all(format!("{tag} OK done\r\n").as_bytes())
                    .await?
            }
        }
        wr.flush().await?;
    }
}

/// A recorded corpus stream without its final tagged line.
fn recorded(data: &[u8]) -> Bytes {
    let body = data.strip_suffix(b"\r\n").unwrap_or(data);
    let cut = memchr::memrchr(b'\n', body).map(|i| i + 1).unwrap_or(0);
    Bytes::copy_from_slice(&data[..cut])
}

// ---------------------------------------------------------------------------------------------
// The clients

/// What one client run saw.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    messages: u64,
    body_bytes: u64,
}

/// Where a client connects and what it selects: the replay server (any login works) or Dovecot.
#[derive(Clone)]
struct Target {
    port: u16,
    /// Trust anchors for the server's certificate.
    roots: Vec<CertificateDer<'static>>,
    user: String,
    password: String,
    mailbox: String,
}

/// TCP (no Nagle) and TLS to 127.0.0.1 with the target's roots: the peers' transport.
async fn tls_connect(
    t: &Target,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, String> {
    let mut roots = rustls::RootCertStore::empty();
    for r in &t.roots {
        roots.add(r.clone()).map_err(|e| e.to_string())?;
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", t.port))
        .await
        .map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let name = ServerName::try_from("127.0.0.1").map_err(|e| e.to_string())?;
    connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())
}

/// Our client; `compress`: negotiate COMPRESS=DEFLATE if offered (its default; the peers do
/// not, so the measured rows have it off).
async fn ours(t: &Target, items: &str, compress: bool) -> Result<Seen, String> {
    use imapwire_tokio::{Config, Connection, Security};
    let mut cfg = Config::new("127.0.0.1", t.port)
        .with_security(Security::ImplicitTls)
        .with_compress(compress);
    for r in &t.roots {
        cfg.tls.add_root_der(r.to_vec());
    }
    let conn = Connection::connect(cfg).await.map_err(|e| e.to_string())?;
    conn.login(
        &t.user,
        imapwire_codec::core::Secret::new(t.password.clone()),
    )
    .await
    .map_err(|e| e.to_string())?;
    conn.select(&t.mailbox).await.map_err(|e| e.to_string())?;
    let mut seen = Seen::default();
    let mut fetch = conn
        .fetch("1:*", items, true)
        .await
        .map_err(|e| e.to_string())?;
    while let Some(mut m) = fetch.next().await.map_err(|e| e.to_string())? {
        while let Some(c) = m.next_chunk().await.map_err(|e| e.to_string())? {
            seen.body_bytes += c.len() as u64;
        }
        let d = m.finish().await.map_err(|e| e.to_string())?;
        std::hint::black_box(&d);
        seen.messages += 1;
    }
    drop(fetch);
    conn.logout().await.map_err(|e| e.to_string())?;
    Ok(seen)
}

async fn async_imap_client(t: &Target, items: &str) -> Result<Seen, String> {
    let tls = tls_connect(t).await?;
    let mut client = async_imap::Client::new(tls);
    client
        .read_response()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no greeting")?;
    let mut session = client
        .login(&t.user, &t.password)
        .await
        .map_err(|(e, _)| e.to_string())?;
    session
        .select(&t.mailbox)
        .await
        .map_err(|e| e.to_string())?;
    let mut seen = Seen::default();
    {
        let mut stream = session
            .uid_fetch("1:*", items)
            .await
            .map_err(|e| e.to_string())?;
        while let Some(f) = stream.next().await {
            let f = f.map_err(|e| e.to_string())?;
            if let Some(b) = f.body() {
                seen.body_bytes += b.len() as u64;
            }
            std::hint::black_box(f.flags().count());
            seen.messages += 1;
        }
    }
    session.logout().await.map_err(|e| e.to_string())?;
    Ok(seen)
}

/// imap-next: its `Stream` (tokio + rustls, taken over from the `TlsStream`) drives its
/// `Client` state machine; each command is enqueued and the events are taken until the
/// command's tagged status. The FETCH command is the same text as the others send, decoded
/// into imap-types' `Command` by crates.io imap-codec (the codec imap-next sends with).
async fn imap_next_client(t: &Target, items: &str) -> Result<Seen, String> {
    use imap_next::client::{Client as NextClient, Event, Options};
    use imap_next::imap_types::IntoStatic as _;
    use imap_next::imap_types::command::{Command, CommandBody};
    use imap_next::imap_types::core::Tag;
    use imap_next::imap_types::fetch::MessageDataItem;
    use imap_next::imap_types::response::{Data, Status, StatusKind};
    use imap_next::stream::Stream;
    use peer_imap_codec::decode::Decoder as _;

    /// Sends one command and takes events until its tagged status; returns the FETCH data
    /// it counted.
    async fn command(
        stream: &mut Stream,
        client: &mut NextClient,
        command: Command<'static>,
    ) -> Result<Seen, String> {
        let mut seen = Seen::default();
        let tag = command.tag.clone();
        let logout = matches!(command.body, CommandBody::Logout);
        client.enqueue_command(command);
        loop {
            let event = match stream.next(&mut *client).await {
                Ok(event) => event,
                // imap-next 0.3.4 drops the plaintext that arrives with the TLS close_notify
                // (`decrypt` returns `Closed` first): Dovecot sends the LOGOUT's BYE and tagged
                // OK together with it, so neither may show. A close ends LOGOUT.
                Err(imap_next::stream::Error::Closed) if logout => return Ok(seen),
                Err(e) => return Err(format!("{}: {e}", tag.as_ref())),
            };
            match event {
                Event::DataReceived {
                    data: Data::Fetch { items, .. },
                } => {
                    for item in items.as_ref() {
                        match item {
                            MessageDataItem::BodyExt { data, .. } => {
                                if let Some(b) = &data.0 {
                                    seen.body_bytes += AsRef::<[u8]>::as_ref(b).len() as u64;
                                }
                            }
                            MessageDataItem::Flags(f) => {
                                std::hint::black_box(f.len());
                            }
                            _ => {}
                        }
                    }
                    std::hint::black_box(&items);
                    seen.messages += 1;
                }
                Event::StatusReceived {
                    status: Status::Tagged(s),
                } if s.tag == tag => {
                    return match s.body.kind {
                        StatusKind::Ok => Ok(seen),
                        _ => Err(format!("{} failed: {:?}", tag.as_ref(), s.body)),
                    };
                }
                Event::CommandRejected { status, .. } => {
                    return Err(format!("{} rejected: {status:?}", tag.as_ref()));
                }
                _ => {}
            }
        }
    }

    let tls = tls_connect(t).await?;
    let mut stream = Stream::tls(tokio_rustls::TlsStream::Client(tls));
    let mut options = Options::default();
    // Its default (100 MiB) refuses the big message; the others have no such limit.
    options.max_response_size = u32::MAX;
    let mut client = NextClient::new(options);
    loop {
        if let Event::GreetingReceived { .. } =
            stream.next(&mut client).await.map_err(|e| e.to_string())?
        {
            break;
        }
    }
    let tagged = |tag: &'static str, body: CommandBody<'static>| {
        Command::new(Tag::try_from(tag).map_err(|e| e.to_string())?, body)
            .map_err(|e| e.to_string())
    };
    let login =
        CommandBody::login(t.user.clone(), t.password.clone()).map_err(|e| format!("{e:?}"))?;
    command(&mut stream, &mut client, tagged("A1", login)?).await?;
    let select = CommandBody::select(t.mailbox.clone()).map_err(|e| format!("{e:?}"))?;
    command(&mut stream, &mut client, tagged("A2", select)?).await?;
    let text = format!("A3 UID FETCH 1:* {items}\r\n");
    let (_, fetch) = peer_imap_codec::CommandCodec::default()
        .decode(text.as_bytes())
        .map_err(|e| format!("{e:?}"))?;
    let seen = command(&mut stream, &mut client, fetch.into_static()).await?;
    command(&mut stream, &mut client, tagged("A4", CommandBody::Logout)?).await?;
    Ok(seen)
}

/// The floor: the peers' transport (tokio-rustls over TCP without Nagle) and the least any
/// IMAP client must do over it: send LOGIN, SELECT, `UID FETCH 1:* <items>` and LOGOUT, one at
/// a time, and read and drop what comes back until a read ends with the command's tagged line
/// (the server sends nothing after it). No framing, no parsing, no message seen: it counts the
/// FETCH answer's bytes (`Seen::body_bytes`), which every run must repeat (and on the replay
/// server equal the recorded answer and the tagged line).
async fn null_client(t: &Target, items: &str) -> Result<Seen, String> {
    use tokio::io::AsyncReadExt as _;
    let mut tls = tls_connect(t).await?;
    let mut buf = vec![0u8; 64 * 1024];
    // The last line seen so far, while it is short (a tagged line is, Dovecot's with its
    // CAPABILITY code too); `None` once it is not.
    let mut line: Option<Vec<u8>> = Some(Vec::with_capacity(LINE_MAX));
    const LINE_MAX: usize = 4096;
    /// Reads until a read ends with a line that starts with `tag` (`*` for the greeting);
    /// returns how many bytes came and whether that line was an OK.
    async fn answer(
        tls: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
        buf: &mut [u8],
        line: &mut Option<Vec<u8>>,
        tag: &[u8],
    ) -> Result<(u64, bool), String> {
        let mut total = 0u64;
        let mut at_line_start = true;
        let mut l = line.take().unwrap_or_default();
        l.clear();
        *line = Some(l);
        loop {
            let n = tls.read(buf).await.map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("connection closed".into());
            }
            total += n as u64;
            let got = &buf[..n];
            // A line starts after the last LF before the read's final byte, or with the read
            // when the one before it ended with a LF.
            let (start, tail) = match memchr::memrchr(b'\n', &got[..n - 1]) {
                Some(i) => (true, &got[i + 1..]),
                None => (at_line_start, got),
            };
            at_line_start = got[n - 1] == b'\n';
            let mut l = match line.take() {
                Some(mut l) if !start => {
                    l.extend_from_slice(tail);
                    Some(l)
                }
                None if !start => None,
                l => {
                    let mut l = l.unwrap_or_default();
                    l.clear();
                    l.extend_from_slice(&tail[..tail.len().min(LINE_MAX + 1)]);
                    Some(l)
                }
            };
            if l.as_ref().is_some_and(|l| l.len() > LINE_MAX) {
                l = None;
            }
            *line = l;
            if let Some(l) = line.as_ref().filter(|l| {
                l.ends_with(b"\r\n") && l.starts_with(tag) && l.get(tag.len()) == Some(&b' ')
            }) {
                let ok = l[tag.len() + 1..].starts_with(b"OK");
                return Ok((total, ok));
            }
        }
    }
    answer(&mut tls, &mut buf, &mut line, b"*").await?;
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let commands = [
        (
            "N1",
            format!("LOGIN {} {}", quote(&t.user), quote(&t.password)),
        ),
        ("N2", format!("SELECT {}", quote(&t.mailbox))),
        ("N3", format!("UID FETCH 1:* {items}")),
        ("N4", "LOGOUT".to_owned()),
    ];
    let mut seen = Seen::default();
    for (tag, text) in commands {
        tls.write_all(format!("{tag} {text}\r\n").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        tls.flush().await.map_err(|e| e.to_string())?;
        let (bytes, ok) = answer(&mut tls, &mut buf, &mut line, tag.as_bytes()).await?;
        if !ok {
            return Err(format!("{tag} {text}: not OK"));
        }
        if tag == "N3" {
            seen.body_bytes = bytes;
        }
    }
    Ok(seen)
}

/// AES-256-GCM alone (the suite the replay server and Dovecot negotiate with these clients,
/// `TLS13_AES_256_GCM_SHA384`, through rustls's own *ring* record decrypter): CPU time on this
/// thread to open `len` bytes of plaintext sent as full TLS 1.3 records (16 KiB each), in
/// place, one after the other, least of `reps` (the records are restored between the
/// repetitions, untimed). What no client can go under on this machine, whatever it does with
/// the plaintext and however it reads the socket (the kernel's receive path not counted; the
/// records come from memory, not from a cache just filled by the kernel: a little more than a
/// client pays).
fn decrypt_only(len: u64, reps: usize) -> Duration {
    use rustls::crypto::cipher::{
        AeadKey, InboundOpaqueMessage, Iv, OutboundChunks, OutboundPlainMessage,
    };
    use rustls::{ContentType, ProtocolVersion};
    let Some(suite) = rustls::crypto::ring::cipher_suite::TLS13_AES_256_GCM_SHA384.tls13() else {
        return Duration::ZERO;
    };
    let key = [7u8; 32];
    let iv = [9u8; 12];
    let mut enc = suite.aead_alg.encrypter(AeadKey::from(key), Iv::new(iv));
    const RECORD: usize = 16 * 1024;
    let plain = vec![b'x'; RECORD];
    // The records one after the other, each its 5-byte header and payload; their ends.
    let mut records: Vec<u8> = Vec::new();
    let mut ends = Vec::new();
    let mut left = len as usize;
    let mut seq = 0u64;
    while left > 0 {
        let n = left.min(RECORD);
        let msg = OutboundPlainMessage {
            typ: ContentType::ApplicationData,
            version: ProtocolVersion::TLSv1_2,
            payload: OutboundChunks::Single(&plain[..n]),
        };
        let Ok(sealed) = enc.encrypt(msg, seq) else {
            return Duration::ZERO;
        };
        records.extend_from_slice(&sealed.encode());
        ends.push(records.len());
        seq += 1;
        left -= n;
    }
    let mut work = records.clone();
    let mut least = Duration::MAX;
    for _ in 0..reps {
        work.copy_from_slice(&records);
        let mut dec = suite.aead_alg.decrypter(AeadKey::from(key), Iv::new(iv));
        let cpu0 = thread_cpu();
        let mut start = 0;
        let mut opened = 0;
        for (seq, &end) in ends.iter().enumerate() {
            let m = InboundOpaqueMessage::new(
                ContentType::ApplicationData,
                ProtocolVersion::TLSv1_2,
                &mut work[start + 5..end],
            );
            opened += dec.decrypt(m, seq as u64).map_or(0, |m| m.payload.len());
            start = end;
        }
        least = least.min(thread_cpu().saturating_sub(cpu0));
        if opened as u64 != len {
            eprintln!("decrypt_only: opened {opened} of {len} bytes");
            return Duration::ZERO;
        }
    }
    least
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Client {
    Ours,
    /// Ours with COMPRESS=DEFLATE (its default), where the server offers it (Dovecot).
    OursDeflate,
    AsyncImap,
    ImapNext,
    /// The floor ([`null_client`]).
    Null,
}

impl Client {
    fn name(self) -> &'static str {
        match self {
            Client::Ours => "imapwire-tokio",
            Client::OursDeflate => "imapwire-tokio, COMPRESS=DEFLATE",
            Client::AsyncImap => "async-imap",
            Client::ImapNext => "imap-next",
            Client::Null => "floor (TLS, no IMAP)",
        }
    }
}

/// One client run on a fresh thread with a current-thread runtime: (what it saw, wall time,
/// the thread's CPU time, peak heap growth).
fn run(
    client: Client,
    target: Target,
    items: String,
) -> (Result<Seen, String>, Duration, Duration, usize) {
    // Named, so that a profile (`perf report --comm e2e-client`) can tell it apart.
    std::thread::Builder::new()
        .name("e2e-client".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let base = imapwire_testalloc::Peak::reset();
            let cpu0 = thread_cpu();
            let t0 = Instant::now();
            let r = rt.block_on(async {
                match client {
                    Client::Ours => ours(&target, &items, false).await,
                    Client::OursDeflate => ours(&target, &items, true).await,
                    Client::AsyncImap => async_imap_client(&target, &items).await,
                    Client::ImapNext => imap_next_client(&target, &items).await,
                    Client::Null => null_client(&target, &items).await,
                }
            });
            let wall = t0.elapsed();
            let cpu = thread_cpu().saturating_sub(cpu0);
            let peak = imapwire_testalloc::Peak::peak().saturating_sub(base);
            (r, wall, cpu, peak)
        })
        .unwrap()
        .join()
        .unwrap()
}

/// The FETCH items of each corpus, as every client sends them.
const CORPORA: [(&str, &str); 3] = [
    ("fetch-flags", "(UID FLAGS MODSEQ)"),
    (
        "fetch-headers",
        "(UID RFC822.SIZE INTERNALDATE FLAGS ENVELOPE BODYSTRUCTURE)",
    ),
    ("fetch-bodies", "(UID BODY.PEEK[])"),
];

/// Best wall time, least CPU time and largest peak heap of one client over its runs.
type Best = Option<(Duration, Duration, usize)>;

/// Sizes every run of a case must repeat, when known before the first run (else taken from it).
#[derive(Clone, Copy, Default)]
struct Sizes {
    /// The body bytes the clients see.
    body_bytes: Option<u64>,
    /// The bytes of the FETCH answer, tagged line included (what the floor reads).
    answer_bytes: Option<u64>,
}

/// Runs `clients` against `target`, `runs` times in turns (ours, peer, peer, ours, ...: a
/// change in the machine's load falls on all), checks that every run saw `expected` messages
/// and the same sizes (`sizes`), and prints one row per client. `row` is the first cells of
/// each row (`server | corpus`).
fn measure(
    row: &str,
    clients: &[Client],
    target: &Target,
    items: &str,
    expected: u64,
    runs: usize,
    sizes: Sizes,
) -> Vec<Best> {
    let Sizes {
        mut body_bytes,
        mut answer_bytes,
    } = sizes;
    let mut best: Vec<Best> = vec![None; clients.len()];
    let mut failure: Vec<Option<String>> = vec![None; clients.len()];
    for _ in 0..runs {
        for (i, &client) in clients.iter().enumerate() {
            let (r, wall, cpu, peak) = run(client, target.clone(), items.to_owned());
            // The floor sees no messages: it is checked by the FETCH answer's size instead.
            let r = match r {
                Ok(seen) if client == Client::Null => {
                    match *answer_bytes.get_or_insert(seen.body_bytes) {
                        n if n == seen.body_bytes => Ok(Seen {
                            messages: expected,
                            body_bytes: 0,
                        }),
                        n => Err(format!(
                            "FETCH answer of {} bytes, expected {n}",
                            seen.body_bytes
                        )),
                    }
                }
                r => r,
            };
            match r {
                Ok(seen)
                    if seen.messages == expected
                        && client != Client::Null
                        && *body_bytes.get_or_insert(seen.body_bytes) != seen.body_bytes =>
                {
                    failure[i] = Some(format!(
                        "saw {} body bytes, another run {}",
                        seen.body_bytes,
                        body_bytes.unwrap_or(0)
                    ))
                }
                Ok(seen) if seen.messages == expected => {
                    best[i] = Some(match best[i] {
                        None => (wall, cpu, peak),
                        Some((w, c, p)) => (w.min(wall), c.min(cpu), p.max(peak)),
                    });
                }
                Ok(seen) => {
                    failure[i] = Some(format!("saw {} messages of {expected}", seen.messages))
                }
                Err(e) => failure[i] = Some(e),
            }
        }
    }
    // Ratios are to our client's figures when it runs first (as it does unless
    // `IMAP_E2E_CLIENTS` says otherwise).
    let ours = best[0].filter(|_| clients.first() == Some(&Client::Ours));
    for (i, &client) in clients.iter().enumerate() {
        match best[i] {
            Some((wall, cpu, peak)) => {
                let rate = expected as f64 / wall.as_secs_f64();
                let cpu_us = cpu.as_secs_f64() * 1e6 / expected as f64;
                let (ratio, cpu_ratio) = match ours {
                    Some((ow, oc, _)) => (
                        format!("{:.2}", wall.as_secs_f64() / ow.as_secs_f64()),
                        format!("{:.2}", cpu.as_secs_f64() / oc.as_secs_f64().max(1e-9)),
                    ),
                    None => ("-".to_owned(), "-".to_owned()),
                };
                let rate_text = if rate < 100.0 {
                    format!("{rate:.2}")
                } else {
                    format!("{rate:.0}")
                };
                println!(
                    "| {row} | {} | {rate_text} | {cpu_us:.2} | {:.1} | {ratio} | {cpu_ratio} |",
                    client.name(),
                    peak as f64 / (1024.0 * 1024.0),
                );
            }
            None => println!(
                "| {row} | {} | failed: {} | | | | |",
                client.name(),
                failure[i].take().unwrap_or_default()
            ),
        }
    }
    best
}

fn main() {
    let runs = common::env_or("IMAP_E2E_RUNS", 3usize).max(1);
    let peers = common::env_or("IMAP_E2E_PEERS", 1u32) != 0;
    let big_peers = common::env_or("IMAP_E2E_BIG_PEERS", 0u32) != 0;
    let big_mb = common::env_or("IMAP_E2E_BIG_MB", 500u64);
    let replay = common::env_or("IMAP_E2E_REPLAY", 1u32) != 0;
    let dovecot_env = std::env::var("IMAP_E2E_DOVECOT")
        .ok()
        .filter(|v| !v.is_empty());
    let only: Option<Vec<String>> = std::env::var("IMAP_E2E_ONLY")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect());
    let wanted = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));

    let corpora = common::load_corpora();
    let corpus = |name: &str| {
        let c = corpora.iter().find(|c| c.name == name);
        if c.is_none() {
            eprintln!("corpus {name} missing");
        }
        c
    };
    let mut clients = vec![Client::Ours];
    if peers {
        clients.extend([Client::AsyncImap, Client::ImapNext, Client::Null]);
    }
    if let Ok(list) = std::env::var("IMAP_E2E_CLIENTS") {
        clients = list
            .split(',')
            .filter_map(|name| match name.trim() {
                "ours" => Some(Client::Ours),
                "async-imap" => Some(Client::AsyncImap),
                "imap-next" => Some(Client::ImapNext),
                "null" | "floor" => Some(Client::Null),
                "" => None,
                other => {
                    eprintln!("warning: IMAP_E2E_CLIENTS: unknown client {other:?}");
                    None
                }
            })
            .collect();
    }

    println!(
        "| server | corpus | client | messages/s | CPU µs/message | peak heap MiB | ours ÷ this (msg/s) | this ÷ ours (CPU) |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    let mut over_bound = false;
    if replay {
        over_bound = replay_cases(runs, &clients, big_peers, big_mb, &wanted, &corpus);
    }
    if let Some(env) = dovecot_env {
        if let Err(e) = dovecot_cases(&env, runs, &clients, &wanted, &corpus) {
            eprintln!("dovecot: {e}");
            std::process::exit(1);
        }
    }
    if over_bound {
        eprintln!("our client's peak heap on the big message was over {BIG_HEAP_BOUND_MIB} MiB");
        std::process::exit(1);
    }
}

/// The replay server's cases; returns whether our client went over the heap bound on the big
/// message.
fn replay_cases<'c>(
    runs: usize,
    clients: &[Client],
    big_peers: bool,
    big_mb: u64,
    wanted: &dyn Fn(&str) -> bool,
    corpus: &dyn Fn(&str) -> Option<&'c common::Corpus>,
) -> bool {
    let tls = tls_material();
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();

    let mut cases: Vec<(String, Answer, String, u64)> = Vec::new();
    for (name, items) in CORPORA {
        if !wanted(name) {
            continue;
        }
        let Some(c) = corpus(name) else {
            continue;
        };
        // The corpus counts its tagged completion as a message.
        let messages = c.messages.saturating_sub(1);
        cases.push((
            name.to_owned(),
            Answer::Recorded(recorded(&c.data)),
            items.to_owned(),
            messages,
        ));
    }
    if wanted("big") && big_mb > 0 {
        cases.push((
            format!("big-{big_mb}MiB"),
            Answer::Big(big_mb * 1024 * 1024),
            "(UID BODY.PEEK[])".to_owned(),
            1,
        ));
    }

    let mut over_bound = false;
    for (name, answer, items, expected) in cases {
        let big = matches!(answer, Answer::Big(_));
        let big_len = match &answer {
            Answer::Big(n) => Some(*n),
            Answer::Recorded(_) => None,
        };
        // What the floor must read of the FETCH answer: the server's bytes and its tagged line.
        let answer_len = match &answer {
            Answer::Big(n) => n + format!("* 1 FETCH (UID 1 BODY[] {{{n}}}\r\n").len() as u64 + 3,
            Answer::Recorded(b) => b.len() as u64,
        } + b"N3 OK fetch done\r\n".len() as u64;
        let listener = server_rt
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = server_rt.spawn(serve(listener, tls.acceptor.clone(), answer));
        let target = Target {
            port,
            roots: vec![tls.ca.clone()],
            user: "bench".to_owned(),
            password: "pw".to_owned(),
            mailbox: "INBOX".to_owned(),
        };
        let these = if big && !big_peers {
            &clients[..1]
        } else {
            clients
        };
        let best = measure(
            &format!("replay | {name}"),
            these,
            &target,
            &items,
            expected,
            if big { 1 } else { runs },
            Sizes {
                body_bytes: big_len,
                answer_bytes: Some(answer_len),
            },
        );
        if big && client_bound_exceeded(these, &best) {
            over_bound = true;
        }
        if !big && these.first() == Some(&Client::Ours) && these.contains(&Client::Null) {
            let d = decrypt_only(answer_len, runs.max(3));
            println!(
                "| replay | {name} | AES-256-GCM only (no socket, no copy) | | {:.3} | | | {:.2} |",
                d.as_secs_f64() * 1e6 / expected as f64,
                d.as_secs_f64() / best[0].map_or(f64::NAN, |b| b.1.as_secs_f64()),
            );
        }
        server.abort();
        // Wait until the aborted server has dropped its answer, so that no free of the
        // previous case's buffers lowers the heap during the next measurement.
        let _ = server_rt.block_on(server);
    }
    over_bound
}

// ---------------------------------------------------------------------------------------------
// Dovecot

/// Default number of messages in the Dovecot mailbox of `fetch-flags` (`IMAP_E2E_DOVECOT_FLAGS`):
/// the corpus's first 20,000 of 200,000. Dovecot (maildir, a file and an fsync per message)
/// took 190 s to APPEND 20,000 small messages on the loaded 2-core VM: all 200,000 would be
/// about half an hour.
const DOVECOT_FLAGS_DEFAULT: usize = 20_000;

/// The same corpora served by Dovecot (env file of `.ci/dovecot.sh`; its last user, a spare
/// account): one scratch mailbox per corpus (`imapwire-e2e-<corpus>`), loaded once with
/// APPEND and kept; reloaded only if its message count is not the expected one.
fn dovecot_cases<'c>(
    env_path: &str,
    runs: usize,
    clients: &[Client],
    wanted: &dyn Fn(&str) -> bool,
    corpus: &dyn Fn(&str) -> Option<&'c common::Corpus>,
) -> Result<(), String> {
    use rustls_pki_types::pem::PemObject as _;
    let text = std::fs::read_to_string(env_path).map_err(|e| format!("{env_path}: {e}"))?;
    let env: std::collections::HashMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    let get = |k: &str| {
        env.get(k)
            .map(|v| v.to_string())
            .ok_or_else(|| format!("{k} missing in {env_path}"))
    };
    let ca = get("DOVECOT_CA")?;
    let roots = CertificateDer::pem_file_iter(&ca)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{ca}: {e}"))?;
    let base = Target {
        port: get("DOVECOT_IMAPS_PORT")?
            .parse()
            .map_err(|e| format!("DOVECOT_IMAPS_PORT: {e}"))?,
        roots,
        user: get("DOVECOT_USERS")?
            .rsplit(',')
            .next()
            .unwrap_or_default()
            .to_owned(),
        password: get("DOVECOT_PASSWORD")?,
        mailbox: String::new(),
    };
    let flags_count = common::env_or("IMAP_E2E_DOVECOT_FLAGS", DOVECOT_FLAGS_DEFAULT);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    for (name, items) in CORPORA {
        if !wanted(name) {
            continue;
        }
        let (Some(flags), Some(bodies)) = (corpus("fetch-flags"), corpus("fetch-bodies")) else {
            return Err("the fetch-flags and fetch-bodies corpora are needed".into());
        };
        let messages: Vec<(String, Vec<u8>)> = match name {
            // Small messages with the corpus's flags; MODSEQ is Dovecot's.
            "fetch-flags" => corpus_flags(flags, flags_count)
                .into_iter()
                .enumerate()
                .map(|(i, f)| {
                    let m = format!(
                        "From: e2e <e2e@example.org>\r\nSubject: flags {i}\r\n\
                         Message-ID: <{i}.flags@e2e.example>\r\n\r\nx\r\n"
                    );
                    (f, m.into_bytes())
                })
                .collect(),
            // The corpus's 20,000 messages' count; envelopes from the fetch-bodies messages'
            // headers (cycled), bodies shaped like the corpus's structures.
            "fetch-headers" => {
                let n = corpus(name).map_or(0, |c| c.messages.saturating_sub(1)) as usize;
                let b = corpus_bodies(bodies);
                corpus_flags(flags, n)
                    .into_iter()
                    .enumerate()
                    .map(|(i, f)| (f, short_message(b[i % b.len()], i)))
                    .collect()
            }
            _ => corpus_bodies(bodies)
                .into_iter()
                .map(|m| ("()".to_owned(), m.to_vec()))
                .collect(),
        };
        let target = Target {
            mailbox: format!("imapwire-e2e-{name}"),
            ..base.clone()
        };
        let t0 = Instant::now();
        let appended = rt.block_on(ensure_mailbox(&target, &messages))?;
        eprintln!(
            "dovecot {}: {} messages {} ({:.1} s)",
            target.mailbox,
            messages.len(),
            if appended {
                "appended"
            } else {
                "already there"
            },
            t0.elapsed().as_secs_f64()
        );
        let expected = messages.len() as u64;
        drop(messages);
        // One unmeasured fetch first, so that Dovecot's caches are warm for every client.
        let (r, ..) = run(Client::Ours, target.clone(), items.to_owned());
        r.map_err(|e| format!("warm-up fetch: {e}"))?;
        let row = format!("dovecot | {name} ({expected})");
        // Our client as configured by default (COMPRESS=DEFLATE, which Dovecot offers) too.
        let mut these = clients.to_vec();
        if these.contains(&Client::Ours) {
            these.push(Client::OursDeflate);
        }
        measure(
            &row,
            &these,
            &target,
            items,
            expected,
            runs,
            Sizes::default(),
        );
    }
    Ok(())
}

/// The `FLAGS (...)` lists of the first `n` FETCH lines of a corpus.
fn corpus_flags(c: &common::Corpus, n: usize) -> Vec<String> {
    c.data
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let at = memchr::memmem::find(line, b"FLAGS (")? + 6;
            let end = at + memchr::memchr(b')', &line[at..])?;
            Some(String::from_utf8_lossy(&line[at..=end]).into_owned())
        })
        .take(n)
        .collect()
}

/// The messages of the `fetch-bodies` corpus (its `BODY[] {n}` literals).
fn corpus_bodies(c: &common::Corpus) -> Vec<&[u8]> {
    let data = &c.data[..];
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = memchr::memmem::find(&data[at..], b"BODY[] {") {
        let start = at + i + 8;
        let Some(close) = memchr::memchr(b'}', &data[start..]) else {
            break;
        };
        let Ok(len) = std::str::from_utf8(&data[start..start + close])
            .unwrap_or("")
            .parse::<usize>()
        else {
            break;
        };
        let body = start + close + 3; // "}\r\n"
        let Some(m) = data.get(body..body + len) else {
            break;
        };
        out.push(m);
        at = body + len;
    }
    out
}

/// A message for the `fetch-headers` mailbox from a `fetch-bodies` message (number `i`): its
/// header (with a Cc field added) over a short body shaped like the replay corpus's body
/// structures: multipart/mixed of multipart/alternative (text/plain with at most about
/// 1.5 KiB of the message's text, text/html) and one attachment with the extension fields the
/// corpus uses (name, Content-ID, description, disposition with filename and size, language,
/// location); 4 lines of base64 per encoded part.
fn short_message(m: &[u8], i: usize) -> Vec<u8> {
    const B64: &[u8] =
        b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    let Some(h) = memchr::memmem::find(m, b"\r\n\r\n") else {
        return m.to_vec();
    };
    let header = &m[..h + 2];
    let boundary = memchr::memmem::find(header, b"boundary=\"")
        .map(|i| &header[i + 10..])
        .and_then(|b| memchr::memchr(b'"', b).map(|e| &b[..e]))
        .unwrap_or(b"b");
    let boundary = String::from_utf8_lossy(boundary).into_owned();
    let text_start = memchr::memmem::find(m, b"8bit\r\n\r\n").map_or(h + 4, |i| i + 8);
    let text = &m[text_start..m.len().min(text_start + 1536)];
    // Up to the original's next boundary line (a short text part ends before 1.5 KiB).
    let text = &text[..memchr::memmem::find(text, format!("\r\n--{boundary}").as_bytes())
        .unwrap_or(text.len())];
    let text = &text[..memchr::memrchr(b'\n', text).map_or(0, |i| i + 1)];
    let mut out = header.to_vec();
    out.extend_from_slice(
        format!(
            "Cc: \"Walter Quinn\" <wquinn{}@shop.example>, Zoe Rossi <zrossi@corp.example.com>\r\n",
            i % 97
        )
        .as_bytes(),
    );
    let alt = format!("{boundary}_alt");
    out.extend_from_slice(
        format!(
            "\r\nThis is a multi-part message in MIME format.\r\n\r\n--{boundary}\r\n\
             Content-Type: multipart/alternative; boundary=\"{alt}\"\r\n\r\n--{alt}\r\n\
             Content-Type: text/plain; charset=utf-8; format=flowed\r\n\
             Content-Transfer-Encoding: 8bit\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(text);
    out.extend_from_slice(
        format!(
            "\r\n--{alt}\r\nContent-Type: text/html; charset=utf-8\r\n\
             Content-Transfer-Encoding: base64\r\nContent-Disposition: inline\r\n\
             Content-Language: en, de\r\n\r\n"
        )
        .as_bytes(),
    );
    for _ in 0..4 {
        out.extend_from_slice(B64);
    }
    let name = format!("Q{} report {}.pdf", i % 4 + 1, 2019 + i % 7);
    out.extend_from_slice(
        format!(
            "\r\n--{alt}--\r\n\r\n--{boundary}\r\n\
             Content-Type: application/pdf; name=\"{name}\"\r\n\
             Content-ID: <part1.{i:08x}@corp.example.com>\r\n\
             Content-Description: Attachment 1\r\n\
             Content-Transfer-Encoding: base64\r\n\
             Content-Disposition: attachment; filename=\"{name}\"; size={}\r\n\
             Content-Language: en\r\n\
             Content-Location: https://files.example.com/{i}/{}\r\n\r\n",
            3 * 76 * 4 / 4,
            name.replace(' ', "%20")
        )
        .as_bytes(),
    );
    for _ in 0..4 {
        out.extend_from_slice(B64);
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

/// A plain IMAP connection for loading mailboxes: one command at a time.
struct Raw {
    rd: BufReader<tokio::io::ReadHalf<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>>,
    wr: tokio::io::WriteHalf<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
    tag: u32,
}

impl Raw {
    /// Connects and reads the greeting.
    async fn connect(t: &Target) -> Result<Raw, String> {
        let (rd, wr) = tokio::io::split(tls_connect(t).await?);
        let mut raw = Raw {
            rd: BufReader::new(rd),
            wr,
            tag: 0,
        };
        raw.line().await?;
        Ok(raw)
    }

    async fn line(&mut self) -> Result<String, String> {
        let mut l = Vec::new();
        if self
            .rd
            .read_until(b'\n', &mut l)
            .await
            .map_err(|e| e.to_string())?
            == 0
        {
            return Err("connection closed".into());
        }
        Ok(String::from_utf8_lossy(&l).trim_end().to_owned())
    }

    /// Sends one command (without tag and final CRLF); returns its untagged lines, or an
    /// error if it did not end in OK.
    async fn cmd(&mut self, text: &[u8]) -> Result<Vec<String>, String> {
        self.tag += 1;
        let tag = format!("L{} ", self.tag);
        let mut c = tag.clone().into_bytes();
        c.extend_from_slice(text);
        c.extend_from_slice(b"\r\n");
        self.wr.write_all(&c).await.map_err(|e| e.to_string())?;
        self.wr.flush().await.map_err(|e| e.to_string())?;
        let mut untagged = Vec::new();
        loop {
            let l = self.line().await?;
            if let Some(rest) = l.strip_prefix(&tag) {
                if rest.starts_with("OK") {
                    return Ok(untagged);
                }
                let shown = String::from_utf8_lossy(&text[..text.len().min(60)]).into_owned();
                return Err(format!("{shown}...: {rest}"));
            }
            untagged.push(l);
        }
    }

    /// The mailbox's message count, `None` if STATUS fails (no such mailbox).
    async fn count(&mut self, mbox: &str) -> Result<Option<usize>, String> {
        let Ok(lines) = self
            .cmd(format!("STATUS {mbox} (MESSAGES)").as_bytes())
            .await
        else {
            return Ok(None);
        };
        Ok(lines.iter().find_map(|l| {
            let n = &l[l.find("MESSAGES ")? + 9..];
            n[..n.find(|c: char| !c.is_ascii_digit())?].parse().ok()
        }))
    }
}

/// Makes `t.mailbox` hold `messages` (flags, message): kept if it has that many already, else
/// (re)created and filled with MULTIAPPEND (LITERAL+, 500 messages per command). Returns
/// whether it appended.
async fn ensure_mailbox(t: &Target, messages: &[(String, Vec<u8>)]) -> Result<bool, String> {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mbox = quote(&t.mailbox);
    let mut raw = Raw::connect(t).await?;
    raw.cmd(format!("LOGIN {} {}", quote(&t.user), quote(&t.password)).as_bytes())
        .await?;
    let have = raw.count(&mbox).await?;
    if have == Some(messages.len()) {
        raw.cmd(b"LOGOUT").await?;
        return Ok(false);
    }
    if have.is_some() {
        raw.cmd(format!("DELETE {mbox}").as_bytes()).await?;
    }
    raw.cmd(format!("CREATE {mbox}").as_bytes()).await?;
    for batch in messages.chunks(500) {
        let mut c = format!("APPEND {mbox}").into_bytes();
        for (flags, m) in batch {
            c.extend_from_slice(format!(" {flags} {{{}+}}\r\n", m.len()).as_bytes());
            c.extend_from_slice(m);
        }
        raw.cmd(&c).await?;
    }
    let have = raw.count(&mbox).await?;
    if have != Some(messages.len()) {
        return Err(format!(
            "{mbox} holds {have:?} messages after APPEND of {}",
            messages.len()
        ));
    }
    raw.cmd(b"LOGOUT").await?;
    Ok(true)
}

/// The issue's bound on our client's peak heap while it fetches the big message.
const BIG_HEAP_BOUND_MIB: usize = 64;

/// Whether our client (the first) went over the heap bound on the big message.
fn client_bound_exceeded(clients: &[Client], best: &[Best]) -> bool {
    clients.first() == Some(&Client::Ours)
        && best
            .first()
            .copied()
            .flatten()
            .is_some_and(|(_, _, peak)| peak >= BIG_HEAP_BOUND_MIB * 1024 * 1024)
}
