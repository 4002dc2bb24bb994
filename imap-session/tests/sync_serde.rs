//! The synchronisation state and journal are plain serialisable values (feature `serde`):
//! what an application persists comes back equal, and a synchronisation started from the
//! restored values sends the same commands as one started from the originals.
#![cfg(feature = "serde")]

use std::time::Instant;

use bytes::Bytes;
use imapwire_codec::mailbox::Mailbox;
use imapwire_session::client::{Client, ClientConfig};
use imapwire_session::sync::{
    FlagSet, Journal, LocalChange, MessageState, ReplicaState, ServerInfo, Step, SyncConfig,
    SyncEngine, SyncMode,
};

fn sample() -> (ReplicaState, Journal) {
    let mut state = ReplicaState {
        uidvalidity: Some(1_700_000_001),
        highestmodseq: Some(i64::MAX as u64),
        uidnext: Some(42),
        last_uid: 41,
        ..ReplicaState::default()
    };
    for (uid, flags, modseq) in [
        (1, &["\\Seen", "$Work"][..], 7u64),
        (5, &["\\Flagged", "\\Answered", "$Label1"][..], 9),
        (41, &[][..], 0),
    ] {
        state.messages.insert(
            uid,
            MessageState {
                flags: FlagSet::from_names(flags.iter().copied()),
                modseq,
            },
        );
    }
    let mut journal = Journal::new();
    journal.record(LocalChange::Flags {
        uid: 1,
        add: FlagSet::from_names(["\\Answered", "$Urgent"]),
        remove: FlagSet::from_names(["$Work"]),
    });
    journal.record(LocalChange::Delete { uid: 5 });
    journal.record(LocalChange::Move {
        uid: 41,
        to: "Archiv/Übersicht".to_owned(),
    });
    journal.record(LocalChange::Append {
        // Not UTF-8: bytes must survive as bytes.
        message: Bytes::from_static(b"Message-ID: <x@y>\r\nSubject: \xff\xfe\r\n\r\nbody\r\n"),
        flags: FlagSet::from_names(["\\Draft"]),
        message_id: "<x@y>".to_owned(),
    });
    (state, journal)
}

#[test]
fn state_and_journal_round_trip_through_json() {
    let (state, journal) = sample();
    let s = serde_json::to_string(&state).unwrap();
    let j = serde_json::to_string(&journal).unwrap();
    let state2: ReplicaState = serde_json::from_str(&s).unwrap();
    let journal2: Journal = serde_json::from_str(&j).unwrap();
    assert_eq!(state2, state);
    assert_eq!(journal2, journal);
    // Recording continues with fresh ids after a restore.
    let mut journal3 = journal2.clone();
    let id = journal3.record(LocalChange::Delete { uid: 1 });
    assert!(journal.entries().iter().all(|e| e.id < id));
    // The mode is serialisable too (applications log or store it).
    let m: SyncMode =
        serde_json::from_str(&serde_json::to_string(&SyncMode::Qresync).unwrap()).unwrap();
    assert_eq!(m, SyncMode::Qresync);
}

/// The commands an engine asks for up to its first wait for an answer.
fn first_commands(state: ReplicaState, journal: Journal) -> Vec<String> {
    let now = Instant::now();
    let mut c = Client::new(ClientConfig::default().with_encrypted(true), now).unwrap();
    let greeting = b"* PREAUTH [CAPABILITY IMAP4rev1 UIDPLUS MOVE CONDSTORE] ready\r\n";
    assert_eq!(c.handle_input(now, greeting), greeting.len());
    while c.poll_event().is_some() {}
    let mut engine = SyncEngine::new(
        SyncConfig::new(Mailbox::try_from("INBOX").unwrap()),
        ServerInfo::from_client(&c),
        state,
        journal,
    );
    let mut out = Vec::new();
    loop {
        match engine.poll() {
            Step::Submit(cmd) => {
                out.push(format!("{cmd:?}"));
                engine.submitted(c.submit(now, cmd));
            }
            Step::PersistJournal => out.push("persist".to_owned()),
            _ => break,
        }
    }
    out
}

#[test]
fn a_sync_from_restored_values_starts_like_one_from_the_originals() {
    let (state, journal) = sample();
    let state2: ReplicaState =
        serde_json::from_slice(&serde_json::to_vec(&state).unwrap()).unwrap();
    let journal2: Journal = serde_json::from_slice(&serde_json::to_vec(&journal).unwrap()).unwrap();
    let a = first_commands(state, journal);
    assert!(!a.is_empty());
    assert_eq!(first_commands(state2, journal2), a);
}
