//! Load test of the example server (`imapwire_tokio::server::start`) on 127.0.0.1: 500
//! connections at once (most idling in IDLE, some fetching, appending and searching) for a
//! bounded time, a client that sends one byte per second, and malformed and oversized input.
//! Checks: no connection fails, every command is answered, the slow client does not hold up
//! the others, bad input gets BAD/NO and the connection goes on. Prints the memory per idle
//! connection and the commands served per second (`cargo test --release -p imapwire-tokio
//! --test load -- --nocapture`).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use support::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

const CONNECTIONS: usize = 500;
const ACTIVE: usize = 40;
const ACTIVE_FOR: Duration = Duration::from_secs(6);

struct Client {
    rd: BufReader<OwnedReadHalf>,
    wr: OwnedWriteHalf,
    n: u64,
}

impl Client {
    async fn connect(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (r, w) = s.into_split();
        let mut c = Client {
            rd: BufReader::with_capacity(4096, r),
            wr: w,
            n: 0,
        };
        let g = c.line().await;
        assert!(g.starts_with("* OK"), "greeting {g:?}");
        c
    }

    async fn line(&mut self) -> String {
        let mut l = String::new();
        let n = tokio::time::timeout(Duration::from_secs(30), self.rd.read_line(&mut l))
            .await
            .expect("no answer within 30 s")
            .unwrap();
        assert!(n > 0, "connection closed");
        l
    }

    /// Sends `raw` (a whole command with its tag `t`) and reads to the tagged answer.
    async fn raw(&mut self, t: &str, raw: &[u8]) -> (Vec<String>, String) {
        self.wr.write_all(raw).await.unwrap();
        let mut untagged = Vec::new();
        loop {
            let l = self.line().await;
            if let Some(rest) = l.strip_prefix(t).and_then(|r| r.strip_prefix(' ')) {
                return (untagged, rest.trim_end().to_owned());
            }
            // A literal in the answer: skip its bytes.
            if let Some(n) = l
                .trim_end()
                .strip_suffix('}')
                .and_then(|x| x.rsplit_once('{'))
                .and_then(|(_, n)| n.parse::<usize>().ok())
            {
                let mut buf = vec![0u8; n];
                self.rd.read_exact(&mut buf).await.unwrap();
            }
            untagged.push(l);
        }
    }

    async fn cmd(&mut self, c: &str) -> (Vec<String>, String) {
        self.n += 1;
        let t = format!("T{}", self.n);
        let line = format!("{t} {c}\r\n");
        self.raw(&t, line.as_bytes()).await
    }

    async fn ok(&mut self, c: &str) -> Vec<String> {
        let (u, done) = self.cmd(c).await;
        assert!(done.starts_with("OK"), "{c}: {done}");
        u
    }

    async fn login(&mut self) {
        self.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
        self.ok("SELECT INBOX").await;
    }
}

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn five_hundred_connections() {
    let scratch = Scratch::new("load");
    let srv = TestServer::start(&scratch.0);
    let port = srv.plain.port();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        // Some messages to fetch.
        let mut seed = Client::connect(port).await;
        seed.login().await;
        for i in 0..20 {
            let m = message(i, "load");
            let (_, done) = seed
                .raw(
                    "S",
                    format!("S APPEND INBOX {{{}+}}\r\n{m}\r\n", m.len()).as_bytes(),
                )
                .await;
            assert!(done.starts_with("OK"), "{done}");
        }

        // Idle connections: logged in, INBOX selected, in IDLE.
        let before = rss_kib();
        let idle_n = CONNECTIONS - ACTIVE - 2;
        let mut idlers = Vec::with_capacity(idle_n);
        for _ in 0..idle_n {
            let mut c = Client::connect(port).await;
            c.login().await;
            c.wr.write_all(b"I IDLE\r\n").await.unwrap();
            let l = c.line().await;
            assert!(l.starts_with('+'), "{l}");
            idlers.push(c);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let after = rss_kib();
        let per_idle = (after.saturating_sub(before)) as f64 * 1024.0 / idle_n as f64;
        println!(
            "idle connections: {idle_n}, RSS {before} KiB -> {after} KiB: {:.1} KiB per idle \
             connection (server and client side together, in one process)",
            per_idle / 1024.0
        );

        // A client that sends one byte per second.
        let mut slow = Client::connect(port).await;
        slow.login().await;
        let slow_task = tokio::spawn(async move {
            for b in b"SL NOOP\r\n" {
                slow.wr.write_all(std::slice::from_ref(b)).await.unwrap();
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            // Untagged EXISTS may come first (others append to INBOX).
            loop {
                let l = slow.line().await;
                if l.starts_with("SL ") {
                    assert!(l.starts_with("SL OK"), "{l}");
                    break;
                }
                assert!(l.starts_with("* "), "{l}");
            }
            slow
        });

        // Active clients: FETCH flags, FETCH bodies, APPEND, SEARCH, for a bounded time.
        let served = Arc::new(AtomicU64::new(0));
        let worst = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for k in 0..ACTIVE {
            let served = served.clone();
            let worst = worst.clone();
            tasks.push(tokio::spawn(async move {
                let mut c = Client::connect(port).await;
                c.login().await;
                let mut i = 0usize;
                while start.elapsed() < ACTIVE_FOR {
                    let t0 = Instant::now();
                    match i % 4 {
                        0 => {
                            let u = c.ok("FETCH 1:* (FLAGS)").await;
                            assert!(u.len() >= 20);
                        }
                        1 => {
                            c.ok("FETCH 1:5 (BODY.PEEK[])").await;
                        }
                        2 => {
                            let m = message(1000 + k * 100_000 + i, "appended");
                            let t = format!("A{i}");
                            // A few clients append to INBOX, which the idlers watch.
                            let to = if k % 8 == 0 { "INBOX" } else { "Archive" };
                            let (_, done) = c
                                .raw(
                                    &t,
                                    format!("{t} APPEND {to} {{{}+}}\r\n{m}\r\n", m.len())
                                        .as_bytes(),
                                )
                                .await;
                            assert!(done.starts_with("OK [APPENDUID"), "{done}");
                        }
                        _ => {
                            let u = c.ok("SEARCH SUBJECT load").await;
                            assert!(u.iter().any(|l| l.starts_with("* SEARCH")));
                        }
                    }
                    worst.fetch_max(t0.elapsed().as_micros() as u64, Ordering::Relaxed);
                    served.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
                c.ok("LOGOUT").await;
            }));
        }

        // Malformed and oversized input: BAD/NO, and the connection goes on.
        let mut bad = Client::connect(port).await;
        // Not INBOX: no unilateral EXISTS between the answers checked line by line below.
        bad.ok(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
        bad.ok("SELECT Drafts").await;
        let (_, d) = bad.cmd("FETCH ((((").await;
        assert!(d.starts_with("BAD"), "{d}");
        let (_, d) = bad.raw("X1", b"X1 \x01\x02 junk\r\n").await;
        assert!(d.starts_with("BAD"), "{d}");
        let (u, _) = bad
            .raw("*", b"\x00\x00garbage without tag\r\nX2 NOOP\r\n")
            .await;
        assert!(u.is_empty(), "{u:?}");
        let l = bad.line().await;
        assert!(l.starts_with("X2 OK"), "{l}");
        // A line far over the limit.
        let mut long = b"X3 SEARCH SUBJECT ".to_vec();
        long.extend(std::iter::repeat_n(b'a', 200_000));
        long.extend_from_slice(b"\r\n");
        let (_, d) = bad.raw("X3", &long).await;
        assert!(d.starts_with("BAD") || d.starts_with("NO"), "{d}");
        // A literal over APPENDLIMIT: refused before its data is sent.
        let (_, d) = bad.raw("X4", b"X4 APPEND INBOX {999999999}\r\n").await;
        assert!(d.starts_with("NO [TOOBIG]"), "{d}");
        let (_, d) = bad.cmd("NOOP").await;
        assert!(d.starts_with("OK"), "{d}");

        for t in tasks {
            t.await.unwrap();
        }
        let secs = start.elapsed().as_secs_f64();
        let n = served.load(Ordering::Relaxed);
        let worst_ms = worst.load(Ordering::Relaxed) as f64 / 1000.0;
        println!(
            "active clients: {ACTIVE}, {n} commands in {secs:.1} s = {:.0} commands/s \
             (FETCH flags, FETCH bodies, APPEND, SEARCH in turn); slowest answer {worst_ms:.1} ms \
             while a client trickled one byte per second",
            n as f64 / secs
        );
        assert!(n > 0);
        assert!(worst_ms < 5_000.0, "a command took {worst_ms} ms");

        // The idlers saw the appends (EXISTS) and end their IDLE cleanly.
        let mut saw_exists = 0;
        for c in idlers.iter_mut() {
            c.wr.write_all(b"DONE\r\n").await.unwrap();
            let mut got = false;
            loop {
                let l = c.line().await;
                got |= l.contains(" EXISTS");
                if got && l.starts_with("I OK") {
                    saw_exists += 1;
                }
                if l.starts_with("I OK") {
                    break;
                }
            }
        }
        println!("idlers that received EXISTS during IDLE: {saw_exists}/{idle_n}");
        assert_eq!(
            saw_exists, idle_n,
            "every idler is told about new INBOX messages"
        );
        for c in idlers.iter_mut() {
            let (_, d) = c.cmd("LOGOUT").await;
            assert!(d.starts_with("OK"), "{d}");
        }
        let mut slow = slow_task.await.unwrap();
        slow.ok("LOGOUT").await;
    });
    drop(srv);
}
