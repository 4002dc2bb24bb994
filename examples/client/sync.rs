//! `sync`, `local`, `mark`, `delete`: a local replica kept with the sync engine
//! (`imapwire_session::sync`), stored as files by [`crate::replica`].

use std::path::Path;
use std::sync::{Arc, Mutex};

use imapwire_session::sync::{FlagSet, Journal, LocalChange, SyncConfig, SyncMode, SyncOutcome};
use imapwire_tokio::Connection;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::args::Action;
use crate::replica::{Replica, Stored, local_flags};
use crate::{Failure, out};

/// Synchronises `mailbox` into the replica over `conn` ([`Connection::sync`]); returns the
/// report line.
pub async fn sync(conn: &Connection, mailbox: &str, replica: &Replica) -> Result<Value, Failure> {
    let stored = replica.load_or_new(mailbox)?;
    let wire = conn
        .mailbox(mailbox)
        .map_err(|e| Failure::Failed(format!("sync {mailbox}: {e}")))?;
    let cfg = SyncConfig::new(wire);
    let journal_before = stored.journal.clone();
    // The engine is about to send an upload that must not be repeated: the journal with its
    // `attempted` mark goes to disk first. A failed save stops the synchronisation (the
    // driver closes the connection); its error is reported instead of the closed connection.
    let persist_error = Arc::new(Mutex::new(None));
    let persist = {
        let (replica, persist_error) = (replica.clone(), Arc::clone(&persist_error));
        let mut saved = Stored {
            mailbox: mailbox.to_owned(),
            state: stored.state.clone(),
            journal: Journal::new(),
        };
        move |journal: &Journal| {
            saved.journal = journal.clone();
            replica
                .save(&saved)
                .map_err(|(Failure::Failed(e) | Failure::Usage(e))| {
                    let mut first = persist_error.lock().unwrap_or_else(|p| p.into_inner());
                    first.get_or_insert(e.clone());
                    e
                })
        }
    };
    let result = conn
        .sync(cfg, stored.state.clone(), stored.journal.clone(), persist)
        .await;
    if let Some(e) = persist_error
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    {
        return Err(Failure::Failed(format!("saving the journal: {e}")));
    }
    let result = result.map_err(|e| Failure::Failed(format!("sync {mailbox}: {e}")))?;
    let outcome: SyncOutcome = match result {
        Ok(o) => o,
        Err(fail) => {
            // Keep the journal the engine handed back (it may carry attempted marks).
            if fail.journal != journal_before {
                replica.save(&Stored {
                    mailbox: mailbox.to_owned(),
                    state: stored.state.clone(),
                    journal: fail.journal.clone(),
                })?;
            }
            return Err(Failure::Failed(format!("sync {mailbox}: {}", fail.error)));
        }
    };

    // Apply the change set to the files, then persist the state that covers it.
    let changes = &outcome.changes;
    if changes.uidvalidity_reset.is_some() {
        replica.remove_all_messages()?;
    }
    for uid in &changes.expunged {
        replica.remove_message(*uid)?;
    }
    for m in &changes.new_messages {
        let Some(body) = &m.body else {
            return Err(Failure::Failed(format!(
                "sync {mailbox}: message {} came without its contents",
                m.uid
            )));
        };
        replica.save_message(m.uid, body)?;
    }
    replica.save(&Stored {
        mailbox: mailbox.to_owned(),
        state: outcome.state.clone(),
        journal: outcome.journal.clone(),
    })?;
    let r = &outcome.report;
    if r.upload_failures > 0 {
        eprintln!(
            "client: {} local change(s) refused by the server, kept for the next sync",
            r.upload_failures
        );
    }
    Ok(json!({
        "mode": r.mode.unwrap_or(SyncMode::Full).as_str(),
        "downloaded": r.downloaded,
        "flags_changed": r.flags_changed,
        "expunged": r.expunged,
        "uploaded": r.uploaded,
        "conflicts": r.conflicts,
        "uidvalidity_reset": r.uidvalidity_reset,
    }))
}

/// `local DIR`, `mark DIR UID CHANGE...`, `delete DIR UID`.
pub fn run_local(action: &Action) -> Result<(), Failure> {
    match action {
        Action::Local { dir } => {
            let replica = Replica::new(dir);
            let stored = replica.load()?;
            for &uid in stored.state.messages.keys() {
                let Some(flags) = local_flags(&stored, uid) else {
                    continue;
                };
                let path = replica.message_path(uid);
                let bytes = std::fs::read(&path)
                    .map_err(|e| Failure::Failed(format!("{}: {e}", path.display())))?;
                let digest: [u8; 32] = Sha256::digest(&bytes).into();
                let flags: Vec<String> = flags.iter().map(str::to_owned).collect();
                out::line(out::message(uid, &flags, bytes.len() as u64, &digest))?;
            }
            Ok(())
        }
        Action::Mark { dir, uid, changes } => {
            let (replica, mut stored) = load_holding(dir, *uid)?;
            let mut add = FlagSet::new();
            let mut remove = FlagSet::new();
            for c in changes {
                if c.add {
                    remove.remove(&c.flag);
                    add.insert(&c.flag);
                } else {
                    add.remove(&c.flag);
                    remove.insert(&c.flag);
                }
            }
            stored.journal.record(LocalChange::Flags {
                uid: *uid,
                add,
                remove,
            });
            replica.save(&stored)
        }
        Action::Delete { dir, uid } => {
            let (replica, mut stored) = load_holding(dir, *uid)?;
            stored.journal.record(LocalChange::Delete { uid: *uid });
            replica.save(&stored)
        }
        _ => unreachable!("server actions connect"),
    }
}

/// The replica in `dir`, which must hold `uid` (and not have deleted it locally).
fn load_holding(dir: &Path, uid: u32) -> Result<(Replica, Stored), Failure> {
    let replica = Replica::new(dir);
    let stored = replica.load()?;
    if local_flags(&stored, uid).is_none() {
        return Err(Failure::Failed(format!(
            "UID {uid} is not in the replica (or was deleted locally)"
        )));
    }
    Ok((replica, stored))
}
