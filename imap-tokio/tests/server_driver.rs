//! The connection driver ([`serve_connection`]) with a backend that breaks its contract: a
//! streamed FETCH chunk longer than asked for, an update channel that closes. Plain TCP on
//! 127.0.0.1, a PREAUTH greeting, a raw client.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use imapwire_codec::mailbox::Mailbox;
use imapwire_session::server::memory::{MemoryStore, SessionId};
use imapwire_session::server::{
    AppendStream, BodyStream, CloseReason, GreetingPolicy, Reply, Request, ServerConfig, Update,
};
use imapwire_tokio::server::{
    Backend, BackendSession, ConnectionEnd, DriverOptions, serve_connection,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

const MSG: &[u8] = b"Subject: one\r\n\r\nthe body of message one\r\n";

/// A memory store that streams FETCH values over 10 octets.
struct Mem {
    store: Arc<Mutex<MemoryStore>>,
    /// Extra octets added to every body chunk (a contract breach when non-zero).
    overshoot: usize,
    /// Drop the update channel's sender at once (a closed channel).
    close_updates: bool,
    /// Calls of `updates()`.
    polls: Arc<AtomicUsize>,
}

struct MemSession {
    store: Arc<Mutex<MemoryStore>>,
    sid: SessionId,
    overshoot: usize,
    polls: Arc<AtomicUsize>,
    rx: mpsc::UnboundedReceiver<(Mailbox, Update)>,
    _tx: Option<mpsc::UnboundedSender<(Mailbox, Update)>>,
}

impl Backend for Mem {
    type Session = MemSession;

    fn open(&self, _user: &str) -> io::Result<MemSession> {
        let sid = self.store.lock().unwrap().open_session();
        let (tx, rx) = mpsc::unbounded_channel();
        Ok(MemSession {
            store: self.store.clone(),
            sid,
            overshoot: self.overshoot,
            polls: self.polls.clone(),
            rx,
            _tx: (!self.close_updates).then_some(tx),
        })
    }
}

impl BackendSession for MemSession {
    fn handle(&mut self, request: Request) -> Reply {
        self.store.lock().unwrap().handle(self.sid, request)
    }

    fn append_chunk(&mut self, stream: AppendStream, data: Bytes) {
        self.store
            .lock()
            .unwrap()
            .append_chunk(self.sid, stream, &data);
    }

    fn append_aborted(&mut self, stream: AppendStream) {
        self.store.lock().unwrap().append_aborted(self.sid, stream);
    }

    fn updates(&mut self) -> &mut mpsc::UnboundedReceiver<(Mailbox, Update)> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        &mut self.rx
    }

    fn body_chunk(&mut self, stream: BodyStream, max: usize) -> io::Result<Bytes> {
        let b = self.store.lock().unwrap().body_chunk(self.sid, stream, max);
        if self.overshoot == 0 || b.is_empty() {
            return Ok(b);
        }
        let mut v = b.to_vec();
        v.resize(v.len() + self.overshoot, b'x');
        Ok(Bytes::from(v))
    }

    fn body_dropped(&mut self, stream: BodyStream) {
        self.store.lock().unwrap().body_dropped(self.sid, stream);
    }
}

/// Serves one connection of `backend` (PREAUTH as `joe`); returns the client's socket and
/// the driver's task.
async fn serve(backend: Mem) -> (TcpStream, tokio::task::JoinHandle<ConnectionEnd>) {
    let config = ServerConfig::default().with_body_chunk(8);
    serve_with(backend, config, DriverOptions::default()).await
}

/// [`serve`] with `config` (made PREAUTH) and `opts`.
async fn serve_with(
    backend: impl Backend,
    config: ServerConfig,
    opts: DriverOptions,
) -> (TcpStream, tokio::task::JoinHandle<ConnectionEnd>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_stop_tx, stop) = watch::channel(false);
    let task = tokio::spawn(async move {
        let _keep = _stop_tx;
        let (tcp, _) = listener.accept().await.unwrap();
        let config = config.with_greeting(GreetingPolicy::PreAuth("joe".to_owned()));
        serve_connection(tcp, config, None, Arc::new(backend), stop, opts).await
    });
    (TcpStream::connect(addr).await.unwrap(), task)
}

fn backend(overshoot: usize, close_updates: bool) -> (Mem, Arc<AtomicUsize>) {
    backend_with(Bytes::from_static(MSG), Some(10), overshoot, close_updates)
}

/// A backend whose INBOX holds `msg`, streaming FETCH values over `stream_over` octets.
fn backend_with(
    msg: Bytes,
    stream_over: Option<u64>,
    overshoot: usize,
    close_updates: bool,
) -> (Mem, Arc<AtomicUsize>) {
    let mut store = MemoryStore::new();
    store.deliver(&Mailbox::Inbox, msg, Vec::new());
    store.stream_bodies_over(stream_over);
    let polls = Arc::new(AtomicUsize::new(0));
    let m = Mem {
        store: Arc::new(Mutex::new(store)),
        overshoot,
        close_updates,
        polls: polls.clone(),
    };
    (m, polls)
}

/// Reads until `want` has been seen (or the connection ends); what was read.
async fn read_until(tcp: &mut TcpStream, want: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(want) {
        let n = tcp.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn a_body_chunk_longer_than_asked_ends_the_connection() {
    // The backend gives more than `max`: the session refuses the chunk; the driver must
    // fail the literal (its length was sent) instead of waiting for a chunk that never
    // comes.
    let (b, _) = backend(3, false);
    let (mut tcp, task) = serve(b).await;
    read_until(&mut tcp, "PREAUTH").await;
    tcp.write_all(b"a SELECT INBOX\r\nb FETCH 1 BODY.PEEK[]\r\n")
        .await
        .unwrap();
    let text = tokio::time::timeout(Duration::from_secs(10), read_until(&mut tcp, "\u{0}"))
        .await
        .expect("the connection hangs inside the literal");
    assert!(
        text.ends_with(&format!("* 1 FETCH (BODY[] {{{}}}\r\n", MSG.len())),
        "{text}"
    );
    let end = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(
            end,
            ConnectionEnd::Closed(CloseReason::BodyFailed { sent: 0, .. })
        ),
        "{end:?}"
    );
}

#[tokio::test]
async fn a_closed_update_channel_is_not_polled_in_a_loop() {
    // A backend session whose update channel has no sender: `recv` is ready at once with
    // `None`, every time. The driver must stop asking, not spin on it.
    let (b, polls) = backend(0, true);
    let (mut tcp, task) = serve(b).await;
    read_until(&mut tcp, "PREAUTH").await;
    tcp.write_all(b"a SELECT INBOX\r\n").await.unwrap();
    read_until(&mut tcp, "a OK").await;
    // The driver is idle now, with nothing to do until the client speaks.
    tokio::time::sleep(Duration::from_millis(300)).await;
    tcp.write_all(b"z LOGOUT\r\n").await.unwrap();
    read_until(&mut tcp, "z OK").await;
    let end = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(end, ConnectionEnd::Closed(CloseReason::Logout)),
        "{end:?}"
    );
    // A handful of loop turns (one per read and write), not one per scheduler turn.
    let n = polls.load(Ordering::Relaxed);
    assert!(n < 50, "updates() asked {n} times: the driver spun");
}

#[tokio::test]
async fn a_client_that_does_not_read_cannot_hold_the_end_of_a_session() {
    // A large answer and the LOGOUT that ends the session are queued in one go (the output
    // bound is high): what is left is written after the session ended. A client that reads
    // nothing must not keep the connection (and its task) open beyond the write timeout.
    let big = Bytes::from(vec![b'x'; 32 << 20]);
    let (b, _) = backend_with(big, None, 0, false);
    let config = ServerConfig::default().with_max_output(256 << 20);
    let mut opts = DriverOptions::default();
    opts.write_timeout = Duration::from_millis(500);
    let (mut tcp, task) = serve_with(b, config, opts).await;
    read_until(&mut tcp, "PREAUTH").await;
    tcp.write_all(b"a SELECT INBOX\r\nb FETCH 1 BODY.PEEK[]\r\nc LOGOUT\r\n")
        .await
        .unwrap();
    // Nothing more is read: the server's writes stop once the socket buffers are full.
    let end = tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .expect("the connection is held open by a client that does not read")
        .unwrap();
    assert!(
        matches!(end, ConnectionEnd::Closed(CloseReason::Logout)),
        "{end:?}"
    );
    drop(tcp);
}

/// A [`Mem`] whose `open` blocks its thread until it is told to go (at most 5 s; then it
/// fails).
struct SlowOpen {
    mem: Mem,
    go: Mutex<std::sync::mpsc::Receiver<()>>,
}

impl Backend for SlowOpen {
    type Session = MemSession;

    fn open(&self, user: &str) -> io::Result<MemSession> {
        let go = self.go.lock().unwrap().recv_timeout(Duration::from_secs(5));
        go.map_err(|_| io::Error::other("not told to go"))?;
        self.mem.open(user)
    }
}

/// Opening the store blocks (a Maildir scans its directories): it must not block the
/// runtime. On this current-thread runtime the task that says "go" can run only while the
/// open waits elsewhere; before, the open blocked the one thread, timed out, and the
/// session ended with "the mail store is not available".
#[tokio::test]
async fn opening_the_store_does_not_block_the_runtime() {
    let (mem, _) = backend(0, false);
    let (go_tx, go_rx) = std::sync::mpsc::channel();
    let slow = SlowOpen {
        mem,
        go: Mutex::new(go_rx),
    };
    let (mut tcp, task) = serve_with(slow, ServerConfig::default(), DriverOptions::default()).await;
    let go = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        go_tx.send(()).unwrap();
    });
    tcp.write_all(b"a SELECT INBOX\r\n").await.unwrap();
    let text = read_until(&mut tcp, "a OK").await;
    assert!(text.contains("* 1 EXISTS"), "{text}");
    assert!(text.contains("a OK"), "{text}");
    go.await.unwrap();
    tcp.write_all(b"b LOGOUT\r\n").await.unwrap();
    read_until(&mut tcp, "b OK").await;
    assert!(matches!(
        task.await.unwrap(),
        ConnectionEnd::Closed(CloseReason::Logout) | ConnectionEnd::PeerGone
    ));
}
