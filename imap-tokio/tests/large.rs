//! 50 MB through APPEND (from an `AsyncRead`) and FETCH (streamed body) with bounded memory:
//! a counting allocator measures the peak heap of the whole test process while a minimal
//! scripted server on 127.0.0.1 reads and writes the bytes without keeping them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use imapwire_session::sasl::{Credentials, Secret};
use imapwire_tokio::{AuthMethod, Config, Connection, Security, Timeouts};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::TcpListener;

/// Not `imapwire_testalloc::Peak`: `realloc` is left to the default (a new block, a copy,
/// the old block freed), so a block that moves counts twice while both are live, a stricter
/// peak than `Peak`'s change of size that this test's bounds were set with.
struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        CURRENT.fetch_sub(l.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const SIZE: u64 = 50 * 1024 * 1024;

fn byte_at(i: u64) -> u8 {
    if i % 76 == 75 {
        b'\n'
    } else {
        b'A' + (i % 26) as u8
    }
}

/// A generated message of `len` bytes, read in whatever pieces the reader asks for.
struct Generated {
    pos: u64,
    len: u64,
}

impl AsyncRead for Generated {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = (buf.remaining() as u64).min(self.len - self.pos) as usize;
        let start = self.pos;
        let chunk: Vec<u8> = (0..n as u64).map(|i| byte_at(start + i)).collect();
        buf.put_slice(&chunk);
        self.pos += n as u64;
        Poll::Ready(Ok(()))
    }
}

fn expected_hash() -> String {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut pos = 0;
    while pos < SIZE {
        let n = (SIZE - pos).min(buf.len() as u64) as usize;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = byte_at(pos + i as u64);
        }
        h.update(&buf[..n]);
        pos += n as u64;
    }
    hex(&h.finalize())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Accepts one connection on `listener` and greets it with `* OK [CAPABILITY caps] ready`.
async fn accept_and_greet(
    listener: TcpListener,
    caps: &str,
) -> (
    BufReader<tokio::net::tcp::OwnedReadHalf>,
    tokio::net::tcp::OwnedWriteHalf,
) {
    let (tcp, _) = listener.accept().await.unwrap();
    let (rd, mut wr) = tcp.into_split();
    wr.write_all(format!("* OK [CAPABILITY {caps}] ready\r\n").as_bytes())
        .await
        .unwrap();
    (BufReader::new(rd), wr)
}

/// A scripted server: LOGIN, SELECT, APPEND (hashes and drops the literal), UID FETCH (sends
/// the generated message), LOGOUT. Returns the hash of what APPEND received.
async fn serve(listener: TcpListener) -> String {
    let (mut rd, mut wr) = accept_and_greet(listener, "IMAP4rev1 LITERAL+ UIDPLUS").await;
    let mut appended = String::new();
    loop {
        let mut line = String::new();
        if rd.read_line(&mut line).await.unwrap() == 0 {
            return appended;
        }
        let tag = line.split(' ').next().unwrap().to_owned();
        let upper = line.to_ascii_uppercase();
        if upper.contains(" LOGIN ") {
            wr.write_all(
                format!("{tag} OK [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] in\r\n").as_bytes(),
            )
            .await
            .unwrap();
        } else if upper.contains(" SELECT ") {
            wr.write_all(format!("* 0 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 1] n\r\n{tag} OK [READ-WRITE] sel\r\n").as_bytes()).await.unwrap();
        } else if upper.contains(" APPEND ") {
            let open = line.rfind('{').unwrap();
            let spec = &line[open + 1..line.rfind('}').unwrap()];
            let sync = !spec.ends_with('+');
            let n: u64 = spec.trim_end_matches('+').parse().unwrap();
            if sync {
                wr.write_all(b"+ go\r\n").await.unwrap();
            }
            let mut h = Sha256::new();
            let mut left = n;
            let mut buf = vec![0u8; 64 * 1024];
            while left > 0 {
                let k = (left as usize).min(buf.len());
                rd.read_exact(&mut buf[..k]).await.unwrap();
                h.update(&buf[..k]);
                left -= k as u64;
            }
            let mut crlf = String::new();
            rd.read_line(&mut crlf).await.unwrap();
            assert_eq!(crlf, "\r\n");
            appended = hex(&h.finalize());
            wr.write_all(format!("* 1 EXISTS\r\n{tag} OK [APPENDUID 7 1] stored\r\n").as_bytes())
                .await
                .unwrap();
        } else if upper.contains(" FETCH ") {
            wr.write_all(
                format!("* 1 FETCH (UID 1 RFC822.SIZE {SIZE} BODY[] {{{SIZE}}}\r\n").as_bytes(),
            )
            .await
            .unwrap();
            let mut buf = vec![0u8; 64 * 1024];
            let mut pos = 0;
            while pos < SIZE {
                let n = (SIZE - pos).min(buf.len() as u64) as usize;
                for (i, b) in buf[..n].iter_mut().enumerate() {
                    *b = byte_at(pos + i as u64);
                }
                wr.write_all(&buf[..n]).await.unwrap();
                pos += n as u64;
            }
            wr.write_all(format!(")\r\n{tag} OK fetched\r\n").as_bytes())
                .await
                .unwrap();
        } else if upper.contains(" LOGOUT") {
            wr.write_all(format!("* BYE bye\r\n{tag} OK out\r\n").as_bytes())
                .await
                .unwrap();
            return appended;
        } else {
            wr.write_all(format!("{tag} BAD what\r\n").as_bytes())
                .await
                .unwrap();
        }
    }
}

/// The tests measure the process's peak heap: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_megabytes_up_and_down_in_bounded_memory() {
    let _one_at_a_time = SERIAL.lock().await;
    let want = expected_hash();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(serve(listener));
    let cfg = Config::new("127.0.0.1", port)
        .with_security(Security::InsecurePlaintext)
        .with_timeouts(Timeouts::all(Duration::from_secs(30)));
    let conn = Connection::connect(cfg).await.unwrap();
    conn.authenticate(
        Credentials::password("joe", Secret::new("secret".into())),
        AuthMethod::LoginCommand,
    )
    .await
    .unwrap();
    conn.select("INBOX").await.unwrap();

    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let uid = conn
        .append("INBOX", &[], SIZE, Generated { pos: 0, len: SIZE })
        .await
        .unwrap();
    assert_eq!(uid, Some(1));
    let up_peak = PEAK.load(Ordering::Relaxed) - base;

    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut s = conn
        .fetch("1", "(UID RFC822.SIZE BODY.PEEK[])", true)
        .await
        .unwrap();
    let mut m = s.next().await.unwrap().expect("one message");
    let mut h = Sha256::new();
    let mut n = 0u64;
    while let Some(c) = m.next_chunk().await.unwrap() {
        n += c.len() as u64;
        h.update(&c);
    }
    let d = m.finish().await.unwrap();
    assert!(s.next().await.unwrap().is_none());
    let down_peak = PEAK.load(Ordering::Relaxed) - base;
    assert_eq!(n, SIZE);
    assert_eq!(d.size, Some(SIZE));
    assert_eq!(d.uid, Some(1));
    assert_eq!(hex(&h.finalize()), want);

    conn.logout().await.unwrap();
    let got = server.await.unwrap();
    assert_eq!(got, want, "the server received the message unchanged");
    eprintln!("peak heap above baseline: append {up_peak} B, fetch {down_peak} B");
    // 50 MB passed each way; the process never held more than a few MB of it.
    assert!(up_peak < 8 * 1024 * 1024, "append peak {up_peak}");
    assert!(down_peak < 8 * 1024 * 1024, "fetch peak {down_peak}");
}

/// Messages and body size of the COMPRESS=DEFLATE bomb: 400 x 200 kB = 80 MB inflated, from
/// about 100 kB on the wire (one read).
const BOMB_MESSAGES: u32 = 400;
const BOMB_BODY: usize = 200_000;

/// Reads one line the client sent compressed (inflating what arrives).
async fn inflated_line(
    rd: &mut tokio::net::tcp::OwnedReadHalf,
    z: &mut flate2::Decompress,
    plain: &mut Vec<u8>,
) -> String {
    loop {
        if let Some(end) = plain.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = plain.drain(..end + 2).collect();
            return String::from_utf8(line).unwrap();
        }
        let mut buf = vec![0u8; 4096];
        let n = rd.read(&mut buf).await.unwrap();
        assert!(n > 0, "the client closed");
        plain.reserve(64 * 1024);
        z.decompress_vec(&buf[..n], plain, flate2::FlushDecompress::Sync)
            .unwrap();
    }
}

/// Compresses all of `input` into `wire` (appending) with `flush` at the end.
fn deflate_into(
    z: &mut flate2::Compress,
    input: &[u8],
    wire: &mut Vec<u8>,
    flush: flate2::FlushCompress,
) {
    let mut input = input;
    loop {
        wire.reserve(64 * 1024);
        let before = z.total_in();
        z.compress_vec(input, wire, flush).unwrap();
        input = &input[(z.total_in() - before) as usize..];
        // Done when all input is taken and the output left room (nothing more to write).
        if input.is_empty() && wire.len() < wire.capacity() {
            return;
        }
    }
}

/// The compressor and the compressed [`BOMB_MESSAGES`] untagged FETCH responses of
/// [`BOMB_BODY`] repeated bytes each (made before the test measures: the 80 MB never exist
/// at once).
fn bomb() -> (flate2::Compress, Vec<u8>) {
    let mut z = flate2::Compress::new(flate2::Compression::default(), false);
    let mut wire = Vec::new();
    let body = vec![b'a'; BOMB_BODY];
    for i in 1..=BOMB_MESSAGES {
        let mut text = format!("* {i} FETCH (UID {i} BODY[] {{{BOMB_BODY}}}\r\n").into_bytes();
        text.extend_from_slice(&body);
        text.extend_from_slice(b")\r\n");
        deflate_into(&mut z, &text, &mut wire, flate2::FlushCompress::None);
    }
    (z, wire)
}

/// A server that negotiates COMPRESS=DEFLATE and answers the FETCH with the [`bomb`] (a
/// small compressed answer that inflates about 1000 times) and its tagged OK.
async fn deflate_bomb_server(
    listener: TcpListener,
    (mut deflate, mut wire): (flate2::Compress, Vec<u8>),
) {
    let (mut rd, mut wr) = accept_and_greet(listener, "IMAP4rev1 COMPRESS=DEFLATE").await;
    for _ in 0..2 {
        let mut line = String::new();
        rd.read_line(&mut line).await.unwrap();
        let tag = line.split(' ').next().unwrap().to_owned();
        let reply = if line.to_ascii_uppercase().contains(" LOGIN ") {
            format!("{tag} OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] in\r\n")
        } else {
            assert!(line.contains("COMPRESS DEFLATE"), "{line}");
            format!("{tag} OK deflating\r\n")
        };
        wr.write_all(reply.as_bytes()).await.unwrap();
    }
    let mut inflate = flate2::Decompress::new(false);
    let mut plain = Vec::with_capacity(64 * 1024);
    inflate
        .decompress_vec(rd.buffer(), &mut plain, flate2::FlushDecompress::Sync)
        .unwrap();
    let mut rd = rd.into_inner();
    // SELECT, answered by a compressor of its own: raw DEFLATE streams that end with a sync
    // flush (byte-aligned, no final block) may follow each other, and the bomb's was made
    // beforehand.
    let select = inflated_line(&mut rd, &mut inflate, &mut plain).await;
    assert!(select.contains("SELECT"), "{select}");
    let tag = select.split(' ').next().unwrap();
    let reply = format!(
        "* 0 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 1] n\r\n{tag} OK [READ-WRITE] sel\r\n"
    );
    let mut first = Vec::new();
    deflate_into(
        &mut flate2::Compress::new(flate2::Compression::default(), false),
        reply.as_bytes(),
        &mut first,
        flate2::FlushCompress::Sync,
    );
    wr.write_all(&first).await.unwrap();
    let fetch = inflated_line(&mut rd, &mut inflate, &mut plain).await;
    assert!(fetch.contains("FETCH"), "{fetch}");
    let tag = fetch.split(' ').next().unwrap().to_owned();
    let done = format!("{tag} OK fetched\r\n");
    deflate_into(
        &mut deflate,
        done.as_bytes(),
        &mut wire,
        flate2::FlushCompress::Sync,
    );
    assert!(wire.len() < 200 * 1024, "{} compressed bytes", wire.len());
    wr.write_all(&wire).await.unwrap();
    drop(wire);
    // Until the client leaves.
    let mut sink = vec![0u8; 4096];
    while rd.read(&mut sink).await.unwrap_or(0) > 0 {}
}

/// Under COMPRESS=DEFLATE a read buffer can inflate about 1000 times: while the consumer of a
/// FETCH stream does not read, the driver must not turn the compressed bytes it already read
/// into stream items behind the full channel. 80 MB arrive inflated from about 100 kB; the
/// consumer pauses after the first message; the peak heap stays a few MB (it was the whole
/// 80 MB: the driver inflated its entire read buffer into its backlog).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deflate_bomb_behind_a_slow_consumer_stays_bounded() {
    let _one_at_a_time = SERIAL.lock().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(deflate_bomb_server(listener, bomb()));
    let cfg = Config::new("127.0.0.1", port)
        .with_security(Security::InsecurePlaintext)
        .with_timeouts(Timeouts::all(Duration::from_secs(30)));
    let conn = Connection::connect(cfg).await.unwrap();
    // COMPRESS follows the login (the server insists on it).
    conn.login("joe", Secret::new("pw".into())).await.unwrap();
    conn.select("INBOX").await.unwrap();
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut s = conn.fetch("1:*", "(UID BODY.PEEK[])", true).await.unwrap();
    let first = s.next().await.unwrap().expect("a first message");
    let data = first.finish().await.unwrap();
    assert_eq!(data.uid, Some(1));
    // The consumer pauses: the driver fills the channel and its backlog, then waits.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let paused_peak = PEAK.load(Ordering::Relaxed) - base;
    let mut n = 1;
    while let Some(m) = s.next().await.unwrap() {
        let data = m.finish().await.unwrap();
        n += 1;
        assert_eq!(data.uid, Some(n));
    }
    let peak = PEAK.load(Ordering::Relaxed) - base;
    assert_eq!(n, BOMB_MESSAGES);
    eprintln!("peak heap above baseline: paused {paused_peak} B, whole fetch {peak} B");
    assert!(paused_peak < 16 * 1024 * 1024, "paused peak {paused_peak}");
    assert!(peak < 16 * 1024 * 1024, "peak {peak}");
    // The server answers nothing more (a LOGOUT would wait for its response timeout).
    drop(s);
    drop(conn);
    server.abort();
}
