//! Mailbox synchronisation (RFC 4549 §3–§6 disconnected clients, RFC 7162 §3.1 CONDSTORE,
//! §3.2 and §4 QRESYNC): keeps a local replica of one mailbox in step with the server, never
//! losing or duplicating mail.
//!
//! Sans-IO like the rest of the crate: [`SyncEngine`] is a step machine over a
//! [`crate::client::Client`] session. It says which command to submit next, reads the
//! session's events, and at the end hands over a [`ChangeSet`] to apply to the local copy and
//! the new [`ReplicaState`] to persist.
//!
//! # Driving it
//!
//! ```text
//! let mut engine = SyncEngine::new(SyncConfig::new(mailbox), ServerInfo::from_client(&client),
//!                                  state, journal);
//! loop {
//!     match engine.poll() {
//!         Step::Submit(cmd)    => engine.submitted(client.submit(now, cmd)),
//!         Step::PersistJournal => save_journal_atomically(engine.journal()),
//!         Step::Wait           => { /* transmit; read; feed every event:
//!                                      engine.handle_event(&event) */ }
//!         Step::Done           => break,
//!     }
//! }
//! match engine.finish() {
//!     Ok(outcome) => { apply(&outcome.changes); save(outcome.state, outcome.journal); }
//!     Err(failure) => { save_journal(failure.journal); /* state unchanged; retry later */ }
//! }
//! ```
//!
//! [`run`] does exactly this over an in-memory transport (tests, examples). The engine may
//! submit several commands before it waits (uploads are pipelined); every event of the
//! session goes to [`SyncEngine::handle_event`], in order (the application may look at the
//! same events).
//!
//! # Levels
//!
//! Chosen from what the server offers ([`SyncMode`]):
//!
//! - **QRESYNC** (RFC 7162 §3.2): `ENABLE QRESYNC`, and only after `* ENABLED QRESYNC`,
//!   `SELECT mailbox (QRESYNC (uidvalidity modseq known-uids))`. The known UIDs are sent
//!   exactly when they fit in [`SyncConfig::max_line`] (about 8192 octets, §4), else as the
//!   range `1:last` (a superset; `VANISHED (EARLIER)` for UIDs never known is ignored).
//! - **CONDSTORE** (§3.1): `SELECT mailbox (CONDSTORE)`, flags by
//!   `UID FETCH 1:last (UID FLAGS MODSEQ) (CHANGEDSINCE modseq)`, expunges by
//!   `UID SEARCH [RETURN (ALL)] UID 1:last` (ESEARCH when offered).
//! - **Full** (RFC 4549 §6.1): `UID FETCH 1:last (UID FLAGS)` of every known message; a known
//!   UID that does not answer is expunged. Also the mode of a first synchronisation, after a
//!   UIDVALIDITY change, and whenever the MODSEQ position is unknown.
//!
//! New mail, at every level: `UID FETCH last+1:* (UID FLAGS [MODSEQ] [BODY.PEEK[]])`, where
//! `last` is [`ReplicaState::last_uid`].
//!
//! # Uploads first, journalled
//!
//! Local changes are [`LocalChange`]s in a [`Journal`], uploaded right after SELECT and
//! before anything is downloaded:
//!
//! - **Flags**: the journal's additions and removals per message are combined, then sent as
//!   `UID STORE uid (UNCHANGEDSINCE base-modseq) FLAGS (base + added - removed)` when the
//!   MODSEQ of the base is known. When the server answers `[MODIFIED uid]` (changed on both
//!   sides), the **merge rule**: flags the local change added or removed take the local
//!   value, every other flag keeps the server's value; it is applied with `UID STORE +FLAGS`
//!   / `-FLAGS` of the local additions and removals (so local `+\Seen` and a server-side
//!   `+\Answered` end with both), and counted in [`SyncReport::conflicts`]. Without
//!   CONDSTORE the same `+FLAGS`/`-FLAGS` are sent at once, and a conflict is counted when
//!   the server's flags afterwards differ from base + local change.
//! - **Deletions**: `UID STORE uid +FLAGS.SILENT (\Deleted)`, then `UID EXPUNGE` of the
//!   replica's own UIDs only (UIDPLUS). *Fallback without UIDPLUS*: the message is only
//!   marked `\Deleted` (a plain EXPUNGE would also remove messages other clients marked and
//!   did not mean to expunge yet); it stays on the server, and in the replica, with
//!   `\Deleted` until someone expunges the mailbox: the cost is the space, and the message
//!   still being listed.
//! - **Moves**: `UID MOVE uid target` (RFC 6851); without MOVE, `UID COPY` then the deletion
//!   above (a crash between the two can leave a second copy in the target).
//! - **Appends**: the entry is marked [`attempted`](JournalEntry::attempted), the engine asks
//!   the application to persist the journal ([`Step::PersistJournal`]), then sends `APPEND`.
//!   The UID comes from `[APPENDUID]`; without UIDPLUS, and for any entry already attempted
//!   (a crash may have hit after the server stored it), the engine first looks for the
//!   message with `UID SEARCH HEADER Message-ID <id>` above `last`, and appends only when it
//!   is not there. So an append is never applied twice. (When another client expunged the
//!   first copy before the search, it is appended again: the engine cannot tell that from
//!   an APPEND that never arrived, and losing mail is the worse error.)
//! - A change to a UID the server has already removed counts as done
//!   ([`Resolution::AlreadyGone`]); a change the server refuses (`NO`) stays in the journal
//!   ([`SyncReport::upload_failures`]).
//!
//! # The rules
//!
//! - A HIGHESTMODSEQ of 0, above 2^63-1, lower than the replica's, or a `NOMODSEQ` mailbox
//!   means "unknown": the engine falls back to the full mode and never sends a MODSEQ of 0.
//! - `VANISHED (EARLIER)` and FETCH data are applied before the new HIGHESTMODSEQ is taken;
//!   the HIGHESTMODSEQ persisted is the one of the SELECT, which every change applied in
//!   this synchronisation covers (changes made after it, our uploads included, are seen
//!   again next time, harmlessly).
//! - New mail is `UID FETCH last+1:*`, and every UID at or below `last` in the answer is
//!   dropped from the new messages (`n:*` always returns the top message).
//! - New mail is looked for when UIDNEXT moved past `last+1`, not on HIGHESTMODSEQ alone.
//! - MODSEQ values are 63-bit and kept as `u64`.
//! - A FETCH cut short by a closed connection or an error fails the synchronisation: no
//!   state is handed over, the input state stays valid.
//! - The new state is handed over in the same [`SyncOutcome`] as every change it covers.
//!
//! # What to persist, and when
//!
//! The [`ReplicaState`] and the [`Journal`] are plain values (serde with the feature
//! `serde`). The application:
//!
//! 1. records each local change in the journal and persists it before showing the change
//!    as done;
//! 2. at [`Step::PersistJournal`], persists [`SyncEngine::journal`] before polling again;
//! 3. on success, applies [`SyncOutcome::changes`] to its local copy (every change is an
//!    idempotent "set", keyed by UID), **then** persists [`SyncOutcome::state`] and
//!    [`SyncOutcome::journal`] together, atomically;
//! 4. on failure, persists [`SyncFailure::journal`] (it may carry `attempted` marks) and
//!    keeps its old state;
//! 5. keys its local copy by ([`ChangeSet::uidvalidity`], UID), and after a restart treats
//!    the persisted state as the truth: local messages of another UIDVALIDITY, or whose UID
//!    the state does not list, came from a change set whose state was never saved, and are
//!    dropped (the next synchronisation downloads them again if they still exist).
//!
//! Killed at any point (between two commands, in the middle of a FETCH, between applying
//! the change set and saving the state), the next synchronisation from what was persisted
//! converges: a change set applied twice sets the same values; an upload repeated is a
//! flag `STORE` to the same merged value, an operation on a UID already gone (done), or an
//! append found by its Message-ID.
//!
//! # UIDVALIDITY
//!
//! When the server's UIDVALIDITY differs from the replica's, the change set starts with
//! [`ChangeSet::uidvalidity_reset`]: discard the replica. The journal entries that named
//! old UIDs are removed and reported there ([`UidValidityReset::discarded`]); appends are
//! kept and uploaded; the replica is then rebuilt by a full download.

mod engine;
mod state;

pub use self::engine::{
    ChangeSet, FlagChange, MAX_MODSEQ, NewMessage, Resolution, ServerInfo, Step, SyncConfig,
    SyncEngine, SyncError, SyncFailure, SyncMode, SyncOutcome, SyncReport, UidValidityReset,
};
pub use self::state::{FlagSet, Journal, JournalEntry, LocalChange, MessageState, ReplicaState};

use std::time::Instant;

use crate::client::{Client, Event};

/// Drives `engine` to the end over `client` and an in-memory transport: `peer` receives
/// what the client sends and returns what the server answers (`None`: the server closed the
/// connection). `persist` is called at every [`Step::PersistJournal`]; `on_event` sees every
/// event of the session. For tests and examples; an async driver does the same with a
/// socket.
pub fn run(
    mut engine: SyncEngine,
    client: &mut Client,
    now: Instant,
    peer: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>,
    persist: &mut dyn FnMut(&Journal),
    on_event: &mut dyn FnMut(&Event),
) -> Result<SyncOutcome, Box<SyncFailure>> {
    // Bounded: a peer that never answers ends the drive instead of spinning.
    let mut idle_rounds = 0u32;
    loop {
        match engine.poll() {
            Step::Submit(cmd) => {
                engine.submitted(client.submit(now, cmd));
                continue;
            }
            Step::PersistJournal => {
                persist(engine.journal());
                continue;
            }
            Step::Done => break,
            Step::Wait => {}
        }
        let mut out = Vec::new();
        while let Some(b) = client.poll_transmit(now) {
            out.extend_from_slice(&b);
        }
        let mut progressed = false;
        while let Some(ev) = client.poll_event() {
            engine.handle_event(&ev);
            on_event(&ev);
            progressed = true;
        }
        if progressed {
            continue;
        }
        if client.is_closed() {
            break;
        }
        match peer(&out) {
            Some(bytes) if bytes.is_empty() && out.is_empty() => {
                idle_rounds += 1;
                if idle_rounds > 16 {
                    break;
                }
            }
            Some(bytes) => {
                idle_rounds = 0;
                let mut rest = &bytes[..];
                while !rest.is_empty() {
                    let n = client.handle_input(now, rest);
                    rest = &rest[n..];
                    let mut drained = false;
                    while let Some(ev) = client.poll_event() {
                        engine.handle_event(&ev);
                        on_event(&ev);
                        drained = true;
                    }
                    if n == 0 && !drained {
                        break;
                    }
                }
            }
            None => client.handle_eof(now),
        }
    }
    engine.finish()
}
