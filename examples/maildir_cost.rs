//! The CPU cost of the Maildir store's write commands on a large mailbox, without a session,
//! sockets or a runtime: [`MaildirStore::handle`] called in a loop, so that instruction
//! counts are repeatable on a busy machine (where `server_bench`'s commands per second are
//! not):
//!
//! ```text
//! cargo build --release --example maildir_cost
//! valgrind --tool=callgrind --toggle-collect='*maildir_cost*measure*' \
//!     target/release/examples/maildir_cost WORKLOAD [ITERATIONS] [MESSAGES]
//! ```
//!
//! The store is made fresh in a temporary directory with MESSAGES (default 20,000) messages
//! of 2-6 KiB written straight into INBOX's `cur/` (picked up when the store is opened), and
//! INBOX is selected; only `measure` (the loop) is counted with `--toggle-collect`.
//! WORKLOAD is one of
//!
//! - `store-one`: `UID STORE k +FLAGS (\Flagged)` (`-FLAGS` on the next round), `k` cycling:
//!   every command changes one message;
//! - `store-all`: `UID STORE 1:* +FLAGS (\Flagged)` and `-FLAGS` in turn: every command
//!   changes every message;
//! - `append`: APPEND of a 4 KiB message;
//! - `move`: `UID MOVE k Archive`, `k` cycling from 1: every command moves one message
//!   out of INBOX (ITERATIONS at most MESSAGES);
//! - `copy`: `UID COPY k:k+99 Archive`, `k` stepping by 100 through INBOX and starting
//!   over: every command copies 100 messages (fewer in the last window when MESSAGES is
//!   not a multiple of 100; Archive grows by each copy).
//!
//! Prints the wall time per command.

use std::time::Instant;

use bytes::Bytes;
use imapwire_codec::command::{StoreData, StoreType};
use imapwire_codec::flag::Flag;
use imapwire_codec::mailbox::Mailbox;
use imapwire_codec::response::Status;
use imapwire_session::server::Request;
use imapwire_session::server::maildir::MaildirStore;
use imapwire_session::server::memory::SessionId;

fn message(i: usize, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Sender {i} <sender{i}@example.org>\r\nTo: bench@example.org\r\n\
         Subject: message {i}\r\nMessage-ID: <{i}.bench@example.org>\r\n\r\n"
    )
    .into_bytes();
    while m.len() < size {
        m.extend_from_slice(b"Some text of the body, long enough to matter.\r\n");
    }
    m
}

fn store(uids: Vec<u32>, add: bool) -> Request {
    Request::Store {
        uids,
        kind: if add {
            StoreType::Add
        } else {
            StoreType::Remove
        },
        silent: false,
        data: StoreData::Flags(vec![Flag::Flagged].into()),
        modifiers: vec![],
    }
}

/// The measured loop: `iterations` commands of `workload`; the number that succeeded.
#[inline(never)]
fn measure(
    st: &mut MaildirStore,
    sid: SessionId,
    workload: &str,
    iterations: usize,
    messages: usize,
) -> usize {
    let body = Bytes::from(message(100_000, 4096));
    let archive = Mailbox::try_from("Archive").unwrap_or(Mailbox::Inbox);
    let all: Vec<u32> = (1..=messages as u32).collect();
    let mut ok = 0;
    for k in 0..iterations {
        let status = match workload {
            "store-one" => {
                let uid = (k % messages) as u32 + 1;
                let add = (k / messages) % 2 == 0;
                st.handle(sid, store(vec![uid], add)).status
            }
            "store-all" => st.handle(sid, store(all.clone(), k % 2 == 0)).status,
            "append" => {
                st.append_messages(&Mailbox::Inbox, vec![(body.clone(), vec![], 0)])
                    .status
            }
            "move" => {
                let uid = k as u32 + 1;
                let r = st.handle(
                    sid,
                    Request::Move {
                        uids: vec![uid],
                        mailbox: archive.clone(),
                        last_uid: messages as u32,
                    },
                );
                r.status
            }
            "copy" => {
                let first = (k * 100) % messages.max(1) + 1;
                let uids: Vec<u32> = (first..first + 100)
                    .filter(|&u| u <= messages)
                    .map(|u| u as u32)
                    .collect();
                let r = st.handle(
                    sid,
                    Request::Copy {
                        uids,
                        mailbox: archive.clone(),
                        last_uid: messages as u32,
                    },
                );
                r.status
            }
            _ => Status::Bad,
        };
        ok += usize::from(status == Status::Ok);
    }
    ok
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workload = args.first().map_or("store-one", String::as_str).to_owned();
    let iterations: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let messages: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    if !["store-one", "store-all", "append", "move", "copy"].contains(&workload.as_str()) {
        eprintln!("unknown workload {workload}");
        std::process::exit(2);
    }
    if workload == "move" && iterations > messages {
        eprintln!("move: at most {messages} iterations (one message each)");
        std::process::exit(2);
    }
    let dir = std::env::temp_dir().join(format!("imapwire-maildir-cost-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cur = dir.join("cur");
    if let Err(e) = std::fs::create_dir_all(&cur) {
        eprintln!("{}: {e}", cur.display());
        std::process::exit(1);
    }
    for i in 0..messages {
        let name = format!("1700000000.M{i:06}P1.bench:2,S");
        if let Err(e) = std::fs::write(cur.join(name), message(i, 2048 + (i * 997) % 4096)) {
            eprintln!("{}: {e}", cur.display());
            std::process::exit(1);
        }
    }
    let mut st = match MaildirStore::open(&dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {e}", dir.display());
            std::process::exit(1);
        }
    };
    if let Err(e) = st.create_special(
        &Mailbox::try_from("Archive").unwrap_or(Mailbox::Inbox),
        None,
    ) {
        eprintln!("CREATE Archive: {e}");
        std::process::exit(1);
    }
    let sid = st.open_session();
    let r = st.handle(
        sid,
        Request::Select {
            mailbox: Mailbox::Inbox,
            read_only: false,
            params: vec![],
        },
    );
    if r.status != Status::Ok {
        eprintln!("SELECT: {r:?}");
        std::process::exit(1);
    }
    let start = Instant::now();
    let ok = measure(&mut st, sid, &workload, iterations, messages);
    let elapsed = start.elapsed();
    println!(
        "{workload}: {ok}/{iterations} OK on {messages} messages, {:.1} us per command",
        elapsed.as_secs_f64() * 1e6 / iterations as f64
    );
    drop(st);
    let _ = std::fs::remove_dir_all(&dir);
    if ok != iterations {
        std::process::exit(1);
    }
}
