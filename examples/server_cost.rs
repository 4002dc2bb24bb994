//! The CPU cost of the server session and the in-memory store per command, without sockets or
//! a runtime: one [`Server`] answered by a [`MemoryStore`] in a loop, so that instruction
//! counts are repeatable on a busy machine (where `server_bench`'s commands per second are
//! not):
//!
//! ```text
//! cargo build --release --example server_cost
//! perf stat -e instructions:u target/release/examples/server_cost WORKLOAD [ITERATIONS]
//! ```
//!
//! WORKLOAD is one of `server_bench`'s: `fetch-flags` (`FETCH k (FLAGS)`), `fetch-flags-all`
//! (`FETCH 1:* (FLAGS)`), `fetch-body` (`FETCH k BODY.PEEK[]`) or `search`
//! (`SEARCH SUBJECT "message 1x"`), or `store-all` (`STORE 1:* +FLAGS.SILENT (\Flagged)`, then
//! `-FLAGS.SILENT`, in turn), over 200 messages of 2-6 KiB like `server_bench`'s.
//! `none` runs only the setup (login, APPEND of the messages, SELECT), to subtract. Prints
//! the octets sent and the wall time per command.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use imapwire_codec::core::Secret;
use imapwire_codec::mailbox::Mailbox;
use imapwire_session::sasl::scram::{ScramHash, StoredKeys};
use imapwire_session::server::memory::{MemoryStore, SessionId};
use imapwire_session::server::{CredentialStore, Event, Server, ServerConfig};

/// The one user, `bench` with password `pw` (few PBKDF2 iterations: setup stays cheap).
struct User(StoredKeys);

impl CredentialStore for User {
    fn scram_keys(&self, user: &str, hash: ScramHash) -> Option<StoredKeys> {
        (user == "bench" && hash == self.0.hash).then(|| self.0.clone())
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workload = args.first().map_or("fetch-flags-all", String::as_str);
    let iterations: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let command = |k: u32| -> Option<String> {
        Some(match workload {
            "fetch-flags" => format!("FETCH {} (FLAGS)", k % 200 + 1),
            "fetch-flags-all" => "FETCH 1:* (FLAGS)".to_owned(),
            "fetch-body" => format!("FETCH {} BODY.PEEK[]", k % 200 + 1),
            "search" => format!("SEARCH SUBJECT \"message 1{}\"", k % 10),
            "store-all" if k % 2 == 0 => "STORE 1:* +FLAGS.SILENT (\\Flagged)".to_owned(),
            "store-all" => "STORE 1:* -FLAGS.SILENT (\\Flagged)".to_owned(),
            _ => return None,
        })
    };
    if workload != "none" && command(0).is_none() {
        eprintln!("unknown workload {workload}");
        std::process::exit(2);
    }

    let mut store = MemoryStore::new();
    for i in 0..200u32 {
        // 2-6 KiB, as server_bench's messages.
        let size = 2048 + (i as usize * 977) % 4096;
        let mut m = format!(
            "From: bench <bench@example.com>\r\nTo: x@example.com\r\nSubject: message {i}\r\n\
             Message-ID: <{i}@bench>\r\n\r\n"
        )
        .into_bytes();
        while m.len() < size {
            m.extend_from_slice(b"Some text of the body, long enough to matter.\r\n");
        }
        store.deliver(&Mailbox::Inbox, Bytes::from(m), vec![]);
    }
    let _ = store.take_notifications();
    let sid = store.open_session();
    let t0 = Instant::now();
    let Ok(keys) = StoredKeys::derive(
        ScramHash::Sha256,
        &Secret::new("pw".to_owned()),
        b"salt",
        16,
    ) else {
        eprintln!("cannot derive keys");
        std::process::exit(1);
    };
    let config = ServerConfig::default()
        .with_encrypted(true)
        .with_credentials(Arc::new(User(keys)));
    let mut server = Server::new(config, t0);
    let sent = run(
        &mut server,
        &mut store,
        sid,
        t0,
        "a LOGIN bench pw\r\nb SELECT INBOX\r\n",
    );
    let setup = sent;
    let mut sent = 0;
    let start = Instant::now();
    let mut n = 0;
    for k in 0..iterations {
        let Some(c) = command(k) else { break };
        sent += run(&mut server, &mut store, sid, t0, &format!("t{k} {c}\r\n"));
        n += 1;
    }
    let took = start.elapsed();
    let per = if n > 0 { took / n } else { Duration::ZERO };
    println!(
        "{workload}: {n} commands, {} octets sent ({} in setup), {:?} per command",
        sent, setup, per
    );
}

/// Feeds `line` to the server, answers its requests from the store, and returns the octets
/// it sent.
fn run(
    server: &mut Server,
    store: &mut MemoryStore,
    sid: SessionId,
    t0: Instant,
    line: &str,
) -> usize {
    let mut sent = 0;
    let mut input = line.as_bytes();
    while !input.is_empty() {
        let n = server.handle_input(t0, input);
        input = &input[n..];
        while let Some(e) = server.poll_event() {
            if let Event::Request { id, request, .. } = e {
                let r = store.handle(sid, request);
                let _ = server.reply(t0, id, r);
            }
        }
        while let Some(b) = server.poll_transmit(t0) {
            sent += b.len();
        }
    }
    sent
}
