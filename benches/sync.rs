//! The synchronisation engine (issue 12): planning and applying a QRESYNC resync of a
//! 1,000,000-message mailbox with 10,000 changes (3,000 expunged as `VANISHED (EARLIER)`,
//! 7,000 flag changes as FETCH with MODSEQ), through the real client session and codec:
//! time and peak memory.
//!
//! ```sh
//! cargo bench -p imapwire-benches --bench sync
//! ```
//!
//! `plan`: building the engine from the persisted state and producing the SELECT (QRESYNC
//! with the known UIDs). `resync`: the whole synchronisation, from the persisted state to
//! the outcome (SELECT answer decoded by the client, events fed to the engine, change set
//! and new state built). Peak memory is measured by a counting global allocator: the live
//! heap at its highest during one resync, above what was live before it (the replica
//! state itself, and the server's answer bytes, are counted apart).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion};
use imapwire_codec::capability::Capability;
use imapwire_codec::mailbox::Mailbox;
use imapwire_session::client::{Client, ClientConfig};
use imapwire_session::sync::{
    FlagSet, Journal, MessageState, ReplicaState, ServerInfo, Step, SyncConfig, SyncEngine,
    SyncMode,
};
use imapwire_testalloc::Peak;

#[global_allocator]
static GLOBAL: imapwire_testalloc::Peak = imapwire_testalloc::Peak;

const MESSAGES: u32 = 1_000_000;
const VANISHED: u32 = 3_000;
const CHANGED: u32 = 7_000;
const HMS: u64 = 5_000_000;

fn replica() -> ReplicaState {
    let mut s = ReplicaState {
        uidvalidity: Some(1),
        highestmodseq: Some(HMS),
        uidnext: Some(MESSAGES + 1),
        last_uid: MESSAGES,
        ..ReplicaState::default()
    };
    let seen = FlagSet::from_names(["\\Seen"]);
    for uid in 1..=MESSAGES {
        let flags = if uid % 10 == 0 {
            FlagSet::new()
        } else {
            seen.clone()
        };
        s.messages.insert(
            uid,
            MessageState {
                flags,
                modseq: u64::from(uid) * 4,
            },
        );
    }
    s
}

/// The server's answer to the SELECT: 3,000 UIDs spread over the mailbox vanished, 7,000
/// others flagged.
fn select_answer() -> Vec<u8> {
    let mut out = Vec::new();
    let exists = MESSAGES - VANISHED;
    out.extend_from_slice(
        format!(
            "* {exists} EXISTS\r\n* OK [UIDVALIDITY 1] v\r\n* OK [UIDNEXT {}] n\r\n* OK [HIGHESTMODSEQ {}] m\r\n",
            MESSAGES + 1,
            HMS + u64::from(VANISHED + CHANGED)
        )
        .as_bytes(),
    );
    let step = MESSAGES / VANISHED;
    let gone: Vec<String> = (0..VANISHED).map(|i| (i * step + 7).to_string()).collect();
    out.extend_from_slice(format!("* VANISHED (EARLIER) {}\r\n", gone.join(",")).as_bytes());
    let step = MESSAGES / CHANGED;
    for i in 0..CHANGED {
        let mut uid = i * step + 3;
        if uid >= 7 && (uid - 7) % (MESSAGES / VANISHED) == 0 {
            // Not one of the vanished UIDs.
            uid += 1;
        }
        // Sequence numbers after the 3,000 vanished (approximate: the map has no UIDs
        // yet, any number within EXISTS is valid).
        let seq = (uid - uid / (MESSAGES / VANISHED)).clamp(1, exists);
        out.extend_from_slice(
            format!(
                "* {seq} FETCH (UID {uid} FLAGS (\\Seen \\Flagged) MODSEQ ({}))\r\n",
                HMS + u64::from(i) + 1
            )
            .as_bytes(),
        );
    }
    out.extend_from_slice(b"A0001 OK [READ-WRITE] done\r\n");
    out
}

fn server() -> ServerInfo {
    ServerInfo {
        capabilities: vec![Capability::QResync, Capability::CondStore],
        enabled: vec![Capability::QResync],
    }
}

fn config() -> SyncConfig {
    SyncConfig::new(Mailbox::try_from("INBOX").unwrap())
}

fn client() -> Client {
    let now = Instant::now();
    let mut c = Client::new(ClientConfig::default().with_encrypted(true), now).unwrap();
    let g = b"* PREAUTH [CAPABILITY IMAP4rev1 QRESYNC CONDSTORE] hi\r\n";
    let _ = c.handle_input(now, g);
    while c.poll_event().is_some() {}
    c
}

fn resync(state: ReplicaState, answer: &[u8]) -> imapwire_session::sync::SyncOutcome {
    let mut c = client();
    let engine = SyncEngine::new(config(), server(), state, Journal::new());
    let mut sent = false;
    imapwire_session::sync::run(
        engine,
        &mut c,
        Instant::now(),
        &mut |_| {
            if sent {
                Some(Vec::new())
            } else {
                sent = true;
                Some(answer.to_vec())
            }
        },
        &mut |_| {},
        &mut |_| {},
    )
    .expect("resync")
}

fn main() {
    let answer = select_answer();
    let base = replica();

    // Peak memory of one resync, above what is live before it.
    let state = base.clone();
    let before = Peak::reset();
    let t = Instant::now();
    let out = resync(state, &answer);
    let elapsed = t.elapsed();
    let peak = Peak::peak() - before;
    assert_eq!(out.report.mode, Some(SyncMode::Qresync));
    assert_eq!(out.report.expunged, u64::from(VANISHED));
    assert_eq!(out.report.flags_changed, u64::from(CHANGED));
    assert_eq!(out.state.messages.len(), (MESSAGES - VANISHED) as usize);
    drop(out);
    let state_bytes = {
        let b = Peak::live();
        let s = replica();
        let a = Peak::live();
        drop(s);
        a - b
    };
    println!(
        "sync: 1M-message QRESYNC resync, 10k changes: one run {:.1} ms; peak heap above the input {:.1} MiB; replica state {:.1} MiB ({:.1} bytes/message); SELECT answer {:.2} MiB",
        elapsed.as_secs_f64() * 1e3,
        peak as f64 / (1 << 20) as f64,
        state_bytes as f64 / (1 << 20) as f64,
        state_bytes as f64 / f64::from(MESSAGES),
        answer.len() as f64 / (1 << 20) as f64,
    );

    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(2))
        .configure_from_args();
    let mut g = c.benchmark_group("sync");
    g.bench_function("plan_qresync_1M", |b| {
        b.iter_batched(
            || base.clone(),
            |state| {
                let mut e = SyncEngine::new(config(), server(), state, Journal::new());
                let step = e.poll();
                assert!(matches!(step, Step::Submit(_)));
                black_box((step, e))
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("resync_qresync_1M_10k_changes", |b| {
        b.iter_batched(
            || base.clone(),
            |state| black_box(resync(state, &answer)),
            BatchSize::LargeInput,
        )
    });
    g.finish();
    c.final_summary();
}
