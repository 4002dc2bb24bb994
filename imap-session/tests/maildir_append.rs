//! A 64 MiB APPEND into a [`MaildirStore`] through a server session, then FETCH BODY[] of
//! it after reopening the store, with the heap measured by a counting global allocator
//! (this test binary only): while the message arrives the store writes each chunk to its
//! `tmp/` file; when the APPEND completes the message is renamed into `cur/`, not read
//! back; reopening the store reads no message (its index holds file names and sizes); and
//! FETCH BODY[] streams the file to the output in pieces as the session asks. Each step's
//! peak heap is asserted bounded (4 MiB) whatever the message's size, and the bytes are
//! checked (SHA-256 of the file and of the FETCH literal, the response's text exactly).

use std::sync::Arc;
use std::time::Instant;

use imapwire_session::sasl::scram::{ScramHash, StoredKeys};
use imapwire_session::server::maildir::MaildirStore;
use imapwire_session::server::memory::SessionId;
use imapwire_session::server::{CredentialStore, Event, Server, ServerConfig};
use sha2::{Digest, Sha256};

#[global_allocator]
static GLOBAL: imapwire_testalloc::Peak = imapwire_testalloc::Peak;

/// Held by each test: the allocator's count is global, so tests run one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The most bytes live during `f`, above what was live before it.
fn peak_during<R>(f: impl FnOnce() -> R) -> (R, usize) {
    imapwire_testalloc::Peak::during(f)
}

struct User(StoredKeys);

impl CredentialStore for User {
    fn scram_keys(&self, user: &str, hash: ScramHash) -> Option<StoredKeys> {
        (user == "joe" && hash == ScramHash::Sha256).then(|| self.0.clone())
    }
}

/// The message: 64 MiB of numbered lines (`IMAPWIRE_BIG_MIB` overrides the size).
fn line(i: usize) -> [u8; 64] {
    let mut l = [b'.'; 64];
    let s = format!("Subject-less line {i:012} of a large appended message");
    l[..s.len()].copy_from_slice(s.as_bytes());
    l[62] = b'\r';
    l[63] = b'\n';
    l
}

/// Feeds `input` in reads of at most 16 KiB and answers the session from `store`;
/// returns the output. Each chunk of the client's data is made just before it is fed
/// (the test holds no copy of the message).
fn feed(s: &mut Server, store: &mut MaildirStore, sid: SessionId, input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    feed_into(s, store, sid, input, &mut |b| out.extend_from_slice(b));
    out
}

/// [`feed`], the output going to `sink` as it is taken (nothing kept).
fn feed_into(
    s: &mut Server,
    store: &mut MaildirStore,
    sid: SessionId,
    input: &[u8],
    sink: &mut dyn FnMut(&[u8]),
) {
    let now = Instant::now();
    let mut left = input;
    loop {
        let n = s.handle_input(now, &left[..left.len().min(16 * 1024)]);
        left = &left[n..];
        drain_into(s, store, sid, now, sink);
        if left.is_empty() {
            return;
        }
    }
}

/// Takes the session's output into `sink` and answers its events from `store` (as session
/// `sid`) until it has neither.
fn drain_into(
    s: &mut Server,
    store: &mut MaildirStore,
    sid: SessionId,
    now: Instant,
    sink: &mut dyn FnMut(&[u8]),
) {
    loop {
        while let Some(b) = s.poll_transmit(now) {
            sink(&b);
        }
        let Some(e) = s.poll_event() else { break };
        match e {
            Event::Request { id, request, .. } => {
                let r = store.handle(sid, request);
                s.reply(now, id, r).unwrap();
            }
            Event::AppendChunk { stream, data } => store.append_chunk(sid, stream, &data),
            Event::AppendAborted { stream } => store.append_aborted(sid, stream),
            Event::BodyWanted { stream, max } => match store.body_chunk(sid, stream, max) {
                Ok(b) => s.body_chunk(now, stream, b).unwrap(),
                Err(_) => s.body_failed(now, stream).unwrap(),
            },
            Event::BodyDropped { stream } => store.body_dropped(sid, stream),
            _ => {}
        }
    }
}

/// The SCRAM keys of the test user ("secret", salt "salt", 16 iterations).
fn user_keys() -> StoredKeys {
    StoredKeys::derive(
        ScramHash::Sha256,
        &imapwire_codec::core::Secret::new("secret".to_owned()),
        b"salt",
        16,
    )
    .unwrap()
}

#[test]
fn big_append_into_maildir_is_written_as_it_arrives() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mib: usize = std::env::var("IMAPWIRE_BIG_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let lines = mib * (1 << 20) / 64;
    let size = lines * 64;
    let dir = std::env::temp_dir().join(format!("imapwire-big-append-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let keys = user_keys();
    let cfg = ServerConfig::default()
        .with_encrypted(true)
        .with_credentials(Arc::new(User(keys)))
        .with_max_literal(128 << 20);
    let mut store = MaildirStore::open(&dir).unwrap();
    let sid = store.open_session();
    let mut s = Server::new(cfg.clone(), Instant::now());
    drain_into(&mut s, &mut store, sid, Instant::now(), &mut |_| {});
    let out = feed(&mut s, &mut store, sid, b"a LOGIN joe secret\r\n");
    assert!(String::from_utf8_lossy(&out).contains("a OK"), "{out:?}");
    // An APPEND that fails after its message arrived: the tmp/ file is deleted.
    let tmp_files = || std::fs::read_dir(dir.join("tmp")).unwrap().count();
    let mut aborted = b"x APPEND INBOX {3000+}\r\n".to_vec();
    aborted.extend_from_slice(&[b'm'; 2000]);
    assert!(feed(&mut s, &mut store, sid, &aborted).is_empty());
    assert_eq!(tmp_files(), 1, "written as it arrives");
    let mut rest = vec![b'm'; 1000];
    rest.extend_from_slice(b" junk\r\n");
    let out = feed(&mut s, &mut store, sid, &rest);
    assert!(
        out.starts_with(b"x BAD"),
        "{:?}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(tmp_files(), 0, "deleted when the APPEND failed");
    let out = feed(
        &mut s,
        &mut store,
        sid,
        format!("b APPEND INBOX (\\Seen) {{{size}}}\r\n").as_bytes(),
    );
    assert_eq!(out, b"+ ready for literal data\r\n");

    // The message arrives in 16 KiB reads.
    let mut want = Sha256::new();
    let ((), arriving) = peak_during(|| {
        let mut piece = Vec::with_capacity(16 * 1024);
        for i in 0..lines {
            piece.extend_from_slice(&line(i));
            if piece.len() == 16 * 1024 || i + 1 == lines {
                want.update(&piece);
                let out = feed(&mut s, &mut store, sid, &piece);
                assert!(out.is_empty(), "{:?}", String::from_utf8_lossy(&out));
                piece.clear();
            }
        }
    });
    let want = want.finalize().to_vec();
    let (out, completing) = peak_during(|| feed(&mut s, &mut store, sid, b"\r\n"));
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("b OK [APPENDUID "), "{text}");
    println!(
        "APPEND of {mib} MiB into MaildirStore: peak heap while it arrived {} KiB, when it completed {} KiB",
        arriving >> 10,
        completing >> 10
    );
    assert!(
        arriving <= 4 << 20,
        "the heap grew by {arriving} bytes while the message arrived"
    );
    assert!(
        completing <= 4 << 20,
        "the heap grew by {completing} bytes when the APPEND completed"
    );
    // The tmp/ file was renamed into cur/ (nothing left behind).
    let tmp: Vec<_> = std::fs::read_dir(dir.join("tmp")).unwrap().collect();
    assert!(tmp.is_empty(), "{tmp:?}");
    let cur: Vec<_> = std::fs::read_dir(dir.join("cur"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(cur.len(), 1);
    assert!(cur[0].to_string_lossy().ends_with(":2,S"), "{cur:?}");
    let on_disk = Sha256::digest(std::fs::read(&cur[0]).unwrap()).to_vec();
    assert_eq!(on_disk, want, "the file holds the message");
    drop(s);
    drop(store);

    // Reopen the store (no message is read); FETCH BODY[] gives the same bytes.
    let (store, opening) = peak_during(|| MaildirStore::open(&dir).unwrap());
    let mut store = store;
    let sid = store.open_session();
    let mut s = Server::new(cfg, Instant::now());
    drain_into(&mut s, &mut store, sid, Instant::now(), &mut |_| {});
    feed(
        &mut s,
        &mut store,
        sid,
        b"a LOGIN joe secret\r\nb SELECT INBOX\r\n",
    );
    // The output is hashed as it is taken (the test keeps no copy of the body): the
    // literal's header, its data, then the rest.
    let head = format!("* 1 FETCH (BODY[] {{{size}}}\r\n").into_bytes();
    let (mut before, mut after, mut got, mut seen) = (Vec::new(), Vec::new(), Sha256::new(), 0);
    let ((), fetching) = peak_during(|| {
        let mut sink = |b: &[u8]| {
            for (from, to) in [(0, head.len()), (head.len(), head.len() + size)] {
                let (lo, hi) = (seen.max(from), (seen + b.len()).min(to));
                let part = if lo < hi {
                    &b[lo - seen..hi - seen]
                } else {
                    &[][..]
                };
                if from == 0 {
                    before.extend_from_slice(part);
                } else {
                    got.update(part);
                }
            }
            let tail = (head.len() + size).clamp(seen, seen + b.len()) - seen;
            after.extend_from_slice(&b[tail..]);
            seen += b.len();
        };
        feed_into(
            &mut s,
            &mut store,
            sid,
            b"c FETCH 1 BODY.PEEK[]\r\n",
            &mut sink,
        );
    });
    assert_eq!(before, head, "{:?}", String::from_utf8_lossy(&before));
    assert_eq!(got.finalize().to_vec(), want, "FETCH after reopening");
    assert_eq!(after, b")\r\nc OK done\r\n");
    println!(
        "reopening the store: peak heap {} KiB; FETCH BODY[] of it: peak heap {} KiB",
        opening >> 10,
        fetching >> 10
    );
    assert!(
        opening <= 4 << 20,
        "the heap grew by {opening} bytes while the store was opened"
    );
    assert!(
        fetching <= 4 << 20,
        "the heap grew by {fetching} bytes while FETCH BODY[] was answered"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A message file cut short while FETCH streams it (another tool truncated it): the
/// literal's length was sent, so the session ends with `CloseReason::BodyFailed` after the
/// octets the file still had; no completion and no BYE follow.
#[test]
fn file_cut_short_mid_fetch_closes_with_body_failed() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    use imapwire_session::server::CloseReason;
    let dir = std::env::temp_dir().join(format!("imapwire-cut-short-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let keys = user_keys();
    let cfg = ServerConfig::default()
        .with_encrypted(true)
        .with_credentials(Arc::new(User(keys)));
    let size = 256 << 10;
    let mut store = MaildirStore::open(&dir).unwrap();
    let msg: Vec<u8> = (0..size / 64).flat_map(line).collect();
    let r = store.append_messages(
        &imapwire_codec::mailbox::Mailbox::Inbox,
        vec![(msg.clone().into(), vec![], 0)],
    );
    assert_eq!(r.status, imapwire_codec::response::Status::Ok, "{r:?}");
    let sid = store.open_session();
    let mut s = Server::new(cfg, Instant::now());
    drain_into(&mut s, &mut store, sid, Instant::now(), &mut |_| {});
    feed(
        &mut s,
        &mut store,
        sid,
        b"a LOGIN joe secret\r\nb SELECT INBOX\r\n",
    );
    let file = std::fs::read_dir(dir.join("cur"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let now = Instant::now();
    let mut out = Vec::new();
    let mut closed = None;
    let mut chunks = 0;
    assert_eq!(s.handle_input(now, b"c FETCH 1 BODY.PEEK[]\r\n"), 23);
    loop {
        while let Some(b) = s.poll_transmit(now) {
            out.extend_from_slice(&b);
        }
        let Some(e) = s.poll_event() else { break };
        match e {
            Event::Request { id, request, .. } => {
                let r = store.handle(sid, request);
                s.reply(now, id, r).unwrap();
            }
            Event::BodyWanted { stream, max } => {
                let chunk = store.body_chunk(sid, stream, max).unwrap();
                chunks += 1;
                if chunks == 1 {
                    // The file loses its tail after the first piece was read.
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(&file)
                        .unwrap()
                        .set_len(100 * 1024)
                        .unwrap();
                }
                s.body_chunk(now, stream, chunk).unwrap();
            }
            Event::BodyDropped { stream } => store.body_dropped(sid, stream),
            Event::Closed(r) => closed = Some(r),
            _ => {}
        }
    }
    let head = format!("* 1 FETCH (BODY[] {{{size}}}\r\n").into_bytes();
    assert!(
        matches!(
            closed,
            Some(CloseReason::BodyFailed { promised, sent, .. })
                if promised == size as u64 && sent == 100 * 1024
        ),
        "{closed:?}"
    );
    assert_eq!(out.len(), head.len() + 100 * 1024);
    assert_eq!(&out[..head.len()], &head[..]);
    assert_eq!(&out[head.len()..], &msg[..100 * 1024]);
    assert!(s.is_closed());
    let _ = std::fs::remove_dir_all(&dir);
}
