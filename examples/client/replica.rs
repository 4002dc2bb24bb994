//! The local replica kept by `sync`, `local`, `mark` and `delete`: one directory with
//!
//! - `replica.json`: the mailbox name, the sync engine's persisted state and its journal of
//!   local changes (serde, `imapwire_session::sync`);
//! - `messages/<uid>.eml`: each message as the server sent it.
//!
//! Every file is written atomically (a temporary file in the same directory, synced, then
//! renamed over the old one), so a killed client leaves either the old or the new version.
//! Message files are written before the state that names them, so the state never refers to
//! a message that is not on disk.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use imapwire_session::sync::{FlagSet, Journal, LocalChange, ReplicaState};
use serde::{Deserialize, Serialize};

use crate::Failure;

const STATE: &str = "replica.json";

/// What `replica.json` holds.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Stored {
    /// The mailbox this directory replicates (UTF-8).
    pub mailbox: String,
    /// The engine's state as of the last completed sync.
    pub state: ReplicaState,
    /// Local changes not yet uploaded.
    pub journal: Journal,
}

/// A replica directory.
#[derive(Clone)]
pub struct Replica {
    dir: PathBuf,
}

impl Replica {
    pub fn new(dir: &Path) -> Replica {
        Replica {
            dir: dir.to_path_buf(),
        }
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join(STATE)
    }

    pub fn message_path(&self, uid: u32) -> PathBuf {
        self.dir.join("messages").join(format!("{uid}.eml"))
    }

    /// Reads `replica.json`; a directory without one is not a replica (an error).
    pub fn load(&self) -> Result<Stored, Failure> {
        let path = self.state_path();
        let text = fs::read(&path).map_err(|e| {
            Failure::Failed(format!(
                "{}: not a replica (no readable {STATE}: {e}); create one with `sync MAILBOX DIR`",
                self.dir.display()
            ))
        })?;
        serde_json::from_slice(&text)
            .map_err(|e| Failure::Failed(format!("{}: {e}", path.display())))
    }

    /// Reads `replica.json`, or a fresh state for `mailbox` when the directory has none yet.
    /// A replica of another mailbox is refused.
    pub fn load_or_new(&self, mailbox: &str) -> Result<Stored, Failure> {
        if !self.state_path().exists() {
            fs::create_dir_all(self.dir.join("messages"))?;
            return Ok(Stored {
                mailbox: mailbox.to_owned(),
                ..Stored::default()
            });
        }
        let s = self.load()?;
        if s.mailbox != mailbox {
            return Err(Failure::Failed(format!(
                "{} replicates {:?}, not {mailbox:?}",
                self.dir.display(),
                s.mailbox
            )));
        }
        Ok(s)
    }

    /// Writes `replica.json` atomically.
    pub fn save(&self, stored: &Stored) -> Result<(), Failure> {
        let bytes = serde_json::to_vec(stored).map_err(|e| Failure::Failed(e.to_string()))?;
        write_atomic(&self.state_path(), &bytes)
    }

    /// Writes a message file atomically.
    pub fn save_message(&self, uid: u32, bytes: &[u8]) -> Result<(), Failure> {
        fs::create_dir_all(self.dir.join("messages"))?;
        write_atomic(&self.message_path(uid), bytes)
    }

    /// Removes a message file (absent is fine).
    pub fn remove_message(&self, uid: u32) -> Result<(), Failure> {
        match fs::remove_file(self.message_path(uid)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Removes every message file (the replica is being rebuilt).
    pub fn remove_all_messages(&self) -> Result<(), Failure> {
        let dir = self.dir.join("messages");
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        Ok(())
    }
}

/// The flags a message has locally: its base flags with the journal's changes applied, or
/// `None` when it was deleted or moved locally.
pub fn local_flags(stored: &Stored, uid: u32) -> Option<FlagSet> {
    let mut flags = stored.state.messages.get(&uid)?.flags.clone();
    for e in stored.journal.entries() {
        match &e.change {
            LocalChange::Flags {
                uid: u,
                add,
                remove,
            } if *u == uid => {
                flags.subtract(remove);
                flags.union_with(add);
            }
            LocalChange::Delete { uid: u } | LocalChange::Move { uid: u, .. } if *u == uid => {
                return None;
            }
            _ => {}
        }
    }
    Some(flags)
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced, renamed over.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let mut f = fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)?;
    // The rename itself is durable once the directory is synced.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
