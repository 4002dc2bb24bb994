//! A directory-backed mailbox store in the Maildir++ layout (RFC 9051 §2.3.1 UIDs and
//! UIDVALIDITY kept across restarts; RFC 7162 mod-sequences; RFC 6154 special-use roles).
//!
//! The store answers requests like [`MemoryStore`] (its index: mailboxes, UIDs, flags,
//! mod-sequences, dates and each message's file name and size, built at
//! [`MaildirStore::open`] from the logs and one `stat` per file, no message read) and
//! writes every change through to the directory.
//!
//! Memory: no message is held whole for long.
//!
//! - APPEND: a message is written to a file in the root's `tmp/` chunk by chunk as it
//!   arrives ([`MaildirStore::append_chunk`]; deleted when the APPEND is aborted or fails,
//!   renamed into the mailbox's `cur/` when it is stored), and not read back;
//! - FETCH of the whole message (`BODY[]`, `BODY[]<o.n>`, `RFC822`) longer than
//!   [`STREAM_OVER`]: streamed from the file, opened at FETCH and read in pieces as the
//!   session asks ([`MaildirStore::body_chunk`], answering
//!   [`Event::BodyWanted`](super::Event::BodyWanted)); a message renamed or expunged
//!   meanwhile is still sent whole from the open file;
//! - what needs the message parsed or searched (sections such as `BODY[1.2]` or
//!   `BODY[HEADER]`, ENVELOPE, BODYSTRUCTURE, SEARCH by header or text) reads the message
//!   whole for the time of the request: bounded by the largest message, not by the
//!   mailbox. Reading only the needed part (the header, a part's byte range) is left to do.
//! - MOVE and RENAME INBOX (RFC 9051 §6.3.6: INBOX's messages move to the new mailbox,
//!   INBOX stays empty): the messages' files are renamed into the target mailbox (put back
//!   if the request fails), not read.
//! - COPY: each copy is a second hard link to the original's file (its own name, so its
//!   own flags; removed if the request fails), or a copy of the file where the file system
//!   cannot link; not read into memory, however many messages the request names.
//!
//! Layout:
//!
//! - `INBOX` is the root directory, every other mailbox a directory `.name` beside it
//!   (Maildir++), its hierarchy delimiter `/` written as `.`; `.` and `%` in a name, and bytes
//!   outside printable ASCII, are written `%XX`;
//! - each mailbox has `cur/`, `new/` and `tmp/`; a message is a file in `cur/` named
//!   `unique:2,FLAGS` with the standard flag letters (`D`raft, `F`lagged, `R`eplied/answered,
//!   `S`een, `T`rashed/deleted), written to `tmp/` first and renamed, so other Maildir tools
//!   can read the store;
//! - the file `imapwire-log` of each mailbox is an append-only record of UIDs, mod-sequences,
//!   internal dates and full flag lists (keywords included), compacted when the store is
//!   opened; `subscriptions` lists the subscribed mailboxes.
//!
//! Messages another tool put into `new/` or `cur/` are picked up (with new UIDs) when the
//! store is opened.
//!
//! A request whose changes cannot be written is answered `NO [SERVERBUG]` and did not
//! happen (RFC 9051: NO, the operation failed): the in-memory state is put back as it was
//! before the request (no other session is told of it), and what was already written is
//! taken back (message files renamed back, a new message's file removed; an expunged
//! message's file is only parked in its mailbox's `tmp/`, and a deleted mailbox in the
//! root's, until every log line is written, and logs with removals are written last). When
//! the process ends in the middle of a request, [`MaildirStore::open`] finishes the job the
//! same way: a file renamed for a flag change or parked for a removal that the log does not
//! record is put back, and what the store was making in `tmp/` is removed. One store (one
//! process) uses a directory at a time. Left: a removal written to one log
//! while a second log with removals fails (not made by one request today), and a log line
//! written in part.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use imapwire_codec::core::Atom;
use imapwire_codec::flag::{Flag, MailboxAttribute};
use imapwire_codec::mailbox::Mailbox;
use imapwire_codec::response::ResponseCode;

use super::event::{AppendStream, BodyStream, Reply, Request, Update};
use super::expunged::Expunged;
use super::memory::{Change, FolderMeta, MemoryStore, SessionId, StoredMessage, date_or_now};
#[cfg(test)]
use imapwire_codec::command::CommandBody;

const LOG: &str = "imapwire-log";

/// FETCH values longer than this are streamed ([`MaildirStore::body_chunk`]).
pub const STREAM_OVER: u64 = 64 * 1024;
const SUBSCRIPTIONS: &str = "subscriptions";

/// A Maildir++ store. See the [module docs](self).
#[derive(Debug)]
pub struct MaildirStore {
    root: PathBuf,
    mem: MemoryStore,
    /// The file name (in `cur/`) of each message, by mailbox and UID.
    files: Arc<Mutex<FileMap>>,
    counter: u64,
    /// APPEND messages being received: written to a file in the root's `tmp/` as their
    /// chunks arrive.
    staged: HashMap<(SessionId, AppendStream), Staged>,
    /// Files of the APPEND being stored, in message order: [`Change::Added`] renames the
    /// next one into `cur/` instead of writing the message again.
    arriving: std::collections::VecDeque<PathBuf>,
    /// Tests: the write that fails (after this many have succeeded; see
    /// [`injected`](Self::injected)).
    #[cfg(test)]
    fail_after: Option<usize>,
    /// Tests: renames of an expunged message's file that found no file.
    #[cfg(test)]
    removed_missing: usize,
    /// Tests: COPY copies files instead of linking them (as where the file system cannot
    /// link).
    #[cfg(test)]
    no_hard_links: bool,
    /// Tests: the log append that fails (after this many have succeeded).
    #[cfg(test)]
    fail_log: Option<usize>,
    /// Tests: called with the root before [`undo`](Self::undo) (to make it fail).
    #[cfg(test)]
    before_undo: Option<fn(&Path)>,
}

/// Where the file of a message being stored comes from ([`MaildirStore::add_file`]).
#[derive(Debug)]
enum Source {
    /// A file of another mailbox's, renamed (RENAME INBOX, MOVE; put back by
    /// [`undo`](MaildirStore::undo) when the request fails).
    Moved(MovedFrom),
    /// The file of the original of a copy (COPY): linked, or copied where the file
    /// system cannot link it; the original stays.
    Copied(PathBuf),
    /// An APPEND message's file, written to `tmp/` as it arrived.
    Staged(PathBuf),
    /// None: the message's data is written.
    Data,
}

/// Where a moved message's file was: its mailbox, UID and file name there.
#[derive(Debug)]
struct MovedFrom {
    mailbox: Vec<u8>,
    uid: u32,
    name: String,
    /// When the file was a symbolic link with a relative target, re-aimed for its new
    /// directory ([`relinked`]): the target it had, which [`undo`](MaildirStore::undo)
    /// gives it back.
    link: Option<PathBuf>,
}

/// An APPEND message being written to `tmp/`.
#[derive(Debug)]
struct Staged {
    path: PathBuf,
    /// `None` once a write failed (the APPEND is then answered `NO [SERVERBUG]`).
    file: Option<fs::File>,
    len: u64,
}

/// The data of a staged APPEND message announced as `length` bytes, read back from its
/// file once it is written out.
/// Checks a staged APPEND message announced as `length` bytes once it is written out; its
/// size.
fn staged_size(st: Staged, length: u64) -> Result<u64, &'static str> {
    if st.file.is_none_or(|f| f.sync_all().is_err()) {
        return Err("the store could not be written");
    }
    if st.len != length {
        return Err("message data incomplete");
    }
    Ok(st.len)
}

/// The file name (in `cur/`) of each message, by mailbox and UID; shared with the
/// [`MemoryStore`]'s reader of message files.
type FileMap = HashMap<Vec<u8>, HashMap<u32, String>>;

/// The directory of a mailbox, relative to the root.
fn dir_name(mailbox: &[u8]) -> String {
    if mailbox.eq_ignore_ascii_case(b"INBOX") {
        return String::new();
    }
    let mut s = String::from(".");
    for &c in mailbox {
        match c {
            b'/' => s.push('.'),
            b'.' | b'%' => s.push_str(&format!("%{c:02X}")),
            0x21..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("%{c:02X}")),
        }
    }
    s
}

/// The mailbox of a `.name` directory.
fn mailbox_name(dir: &str) -> Option<Vec<u8>> {
    let rest = dir.strip_prefix('.')?;
    if rest.is_empty() || rest == "." {
        return None;
    }
    let b = rest.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => out.push(b'/'),
            b'%' => {
                let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

fn flag_letters(flags: &[Flag]) -> String {
    let mut v: Vec<char> = flags
        .iter()
        .filter_map(|f| match f {
            Flag::Draft => Some('D'),
            Flag::Flagged => Some('F'),
            Flag::Answered => Some('R'),
            Flag::Seen => Some('S'),
            Flag::Deleted => Some('T'),
            _ => None,
        })
        .collect();
    v.sort_unstable();
    v.into_iter().collect()
}

fn flags_of_letters(info: &str) -> Vec<Flag> {
    info.chars()
        .filter_map(|c| match c {
            'D' => Some(Flag::Draft),
            'F' => Some(Flag::Flagged),
            'R' => Some(Flag::Answered),
            'S' => Some(Flag::Seen),
            'T' => Some(Flag::Deleted),
            _ => None,
        })
        .collect()
}

fn flag_text(f: &Flag) -> Option<String> {
    Some(match f {
        Flag::Answered => "\\Answered".into(),
        Flag::Flagged => "\\Flagged".into(),
        Flag::Deleted => "\\Deleted".into(),
        Flag::Seen => "\\Seen".into(),
        Flag::Draft => "\\Draft".into(),
        Flag::Keyword(a) => String::from_utf8_lossy(a.as_bytes()).into_owned(),
        _ => return None,
    })
}

fn flag_parse(s: &str) -> Option<Flag> {
    Some(match s {
        "\\Answered" => Flag::Answered,
        "\\Flagged" => Flag::Flagged,
        "\\Deleted" => Flag::Deleted,
        "\\Seen" => Flag::Seen,
        "\\Draft" => Flag::Draft,
        k if !k.starts_with('\\') => {
            Flag::Keyword(Atom::new(Bytes::copy_from_slice(k.as_bytes())).ok()?)
        }
        _ => return None,
    })
}

fn role_text(r: &Option<MailboxAttribute>) -> &'static str {
    match r {
        Some(MailboxAttribute::Sent) => "\\Sent",
        Some(MailboxAttribute::Drafts) => "\\Drafts",
        Some(MailboxAttribute::Trash) => "\\Trash",
        Some(MailboxAttribute::Junk) => "\\Junk",
        Some(MailboxAttribute::Archive) => "\\Archive",
        Some(MailboxAttribute::All) => "\\All",
        Some(MailboxAttribute::Flagged) => "\\Flagged",
        _ => "-",
    }
}

fn role_parse(s: &str) -> Option<MailboxAttribute> {
    Some(match s {
        "\\Sent" => MailboxAttribute::Sent,
        "\\Drafts" => MailboxAttribute::Drafts,
        "\\Trash" => MailboxAttribute::Trash,
        "\\Junk" => MailboxAttribute::Junk,
        "\\Archive" => MailboxAttribute::Archive,
        "\\All" => MailboxAttribute::All,
        "\\Flagged" => MailboxAttribute::Flagged,
        _ => return None,
    })
}

/// The base of a Maildir file name (before `:2,`).
fn base_of(name: &str) -> &str {
    name.split_once(':').map_or(name, |(b, _)| b)
}

/// One mailbox's state as read from its directory.
struct Loaded {
    meta: FolderMeta,
    messages: Vec<(StoredMessage, String)>,
    expunged: Expunged,
}

impl MaildirStore {
    /// Opens (creating when needed) the store at `root`: reads every mailbox, picks up
    /// messages added by other tools, and compacts the logs.
    pub fn open(root: impl AsRef<Path>) -> io::Result<Self> {
        let root = root.as_ref().to_path_buf();
        fs::create_dir_all(&root)?;
        let mut store = MaildirStore {
            root: root.clone(),
            mem: MemoryStore::new(),
            files: Arc::new(Mutex::new(HashMap::new())),
            counter: 0,
            staged: HashMap::new(),
            arriving: std::collections::VecDeque::new(),
            #[cfg(test)]
            fail_after: None,
            #[cfg(test)]
            removed_missing: 0,
            #[cfg(test)]
            no_hard_links: false,
            #[cfg(test)]
            fail_log: None,
            #[cfg(test)]
            before_undo: None,
        };
        let subscribed: Vec<Vec<u8>> = match fs::read(root.join(SUBSCRIPTIONS)) {
            Ok(b) => b
                .split(|&c| c == b'\n')
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec)
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut names: Vec<Vec<u8>> = vec![b"INBOX".to_vec()];
        for e in fs::read_dir(&root)? {
            let e = e?;
            if !e.file_type()?.is_dir() {
                continue;
            }
            if let Some(n) = e.file_name().to_str().and_then(mailbox_name) {
                names.push(n);
            }
        }
        let mut next_validity = 1u32;
        let mut loaded = Vec::new();
        for name in names {
            let l = store.load(&name, &mut next_validity)?;
            next_validity = next_validity.max(l.meta.uid_validity.saturating_add(1));
            loaded.push((name, l));
        }
        for (name, l) in loaded {
            let mem = &mut store.mem;
            mem.restore_mailbox(&name, l.meta.clone(), subscribed.contains(&name));
            let mut files = HashMap::new();
            for (m, file) in l.messages {
                files.insert(m.uid, file);
                mem.restore_message(&name, m);
            }
            mem.restore_expunged(&name, l.expunged);
            store.files().insert(name.clone(), files);
            store.compact(&name, &l.meta)?;
        }
        store.mem.record_changes();
        store.mem.persists_files = true;
        store.mem.stream_bodies_over(Some(STREAM_OVER));
        let (files, root) = (store.files.clone(), store.root.clone());
        store.mem.set_message_files(Box::new(move |mailbox, uid| {
            let name = files
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(mailbox)
                .and_then(|f| f.get(&uid))
                .cloned()
                .ok_or(io::ErrorKind::NotFound)?;
            fs::File::open(root.join(dir_name(mailbox)).join("cur").join(name))
        }));
        Ok(store)
    }

    fn files(&self) -> MutexGuard<'_, FileMap> {
        self.files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether COPY may make hard links (tests can make it copy instead).
    fn may_link(&self) -> bool {
        #[cfg(test)]
        {
            !self.no_hard_links
        }
        #[cfg(not(test))]
        {
            true
        }
    }

    /// The file name of message `uid` of `mailbox`, if it has a file.
    fn file_name(&self, mailbox: &[u8], uid: u32) -> Option<String> {
        self.files().get(mailbox).and_then(|f| f.get(&uid)).cloned()
    }

    fn dir(&self, mailbox: &[u8]) -> PathBuf {
        self.root.join(dir_name(mailbox))
    }

    /// Reads one mailbox's log and files.
    fn load(&mut self, name: &[u8], next_validity: &mut u32) -> io::Result<Loaded> {
        let dir = self.dir(name);
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(dir.join(sub))?;
        }
        let mut meta = None;
        let mut msgs: Vec<(StoredMessage, String)> = Vec::new();
        let mut index: HashMap<u32, usize> = HashMap::new();
        let limit = self.mem.expunged_limit();
        let mut expunged = Expunged::default();
        // The file names of the messages the log removes.
        let mut removed: HashSet<String> = HashSet::new();
        // The highest UID seen in A/X lines (A lines ascend), and the UIDNEXT of the V line.
        let mut max_uid = 0u32;
        let mut uid_floor = 0u32;
        let mut max_modseq = 1u64;
        let log = match fs::read_to_string(dir.join(LOG)) {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        for line in log.lines() {
            let f: Vec<&str> = line.split(' ').collect();
            let num = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok());
            match f.first().copied() {
                Some("V") => {
                    if let Some(v) = num(1).and_then(|v| u32::try_from(v).ok()) {
                        meta = Some(FolderMeta::new(v, role_parse(f.get(2).unwrap_or(&"-"))));
                    }
                    if let Some(n) = num(3).and_then(|v| u32::try_from(v).ok()) {
                        uid_floor = uid_floor.max(n.saturating_sub(1));
                    }
                    if let Some(n) = num(4) {
                        max_modseq = max_modseq.max(n);
                    }
                }
                Some("A") => {
                    let (Some(uid), Some(modseq), Some(date), Some(file)) = (
                        num(1),
                        num(2),
                        f.get(3).and_then(|s| s.parse::<i64>().ok()),
                        f.get(4),
                    ) else {
                        continue;
                    };
                    let Ok(uid) = u32::try_from(uid) else {
                        continue;
                    };
                    if uid <= max_uid {
                        continue;
                    }
                    max_uid = uid;
                    max_modseq = max_modseq.max(modseq);
                    index.insert(uid, msgs.len());
                    let flags = f[5..].iter().filter_map(|s| flag_parse(s)).collect();
                    msgs.push((
                        StoredMessage::new(uid, flags, modseq, date, Bytes::new()),
                        (*file).to_owned(),
                    ));
                }
                Some("F") => {
                    let (Some(uid), Some(modseq), Some(file)) = (num(1), num(2), f.get(3)) else {
                        continue;
                    };
                    let Some(&i) = u32::try_from(uid).ok().and_then(|u| index.get(&u)) else {
                        continue;
                    };
                    max_modseq = max_modseq.max(modseq);
                    msgs[i].0.modseq = modseq;
                    msgs[i].0.flags = f[4..].iter().filter_map(|s| flag_parse(s)).collect();
                    msgs[i].1 = (*file).to_owned();
                }
                Some("X") => {
                    // `X uid modseq [last]`: UIDs uid..=last removed at modseq.
                    let (Some(uid), Some(modseq)) = (num(1), num(2)) else {
                        continue;
                    };
                    let Ok(uid) = u32::try_from(uid) else {
                        continue;
                    };
                    let last = num(3)
                        .and_then(|v| u32::try_from(v).ok())
                        .map_or(uid, |l| l.max(uid));
                    max_uid = max_uid.max(last);
                    max_modseq = max_modseq.max(modseq);
                    // The A lines ascend, so the messages of the run are consecutive.
                    let from = msgs.partition_point(|m| m.0.uid < uid);
                    for m in msgs[from..].iter_mut().take_while(|m| m.0.uid <= last) {
                        if index.remove(&m.0.uid).is_some() {
                            removed.insert(std::mem::take(&mut m.1));
                        }
                    }
                    expunged.push_run(uid, last, modseq, limit);
                }
                Some("E") => {
                    // `E modseq`: removals at or below modseq were forgotten.
                    if let Some(modseq) = num(1) {
                        max_modseq = max_modseq.max(modseq);
                        expunged.forget_through(modseq);
                    }
                }
                _ => {}
            }
        }
        let mut meta = match meta {
            Some(m) => m,
            None => {
                let m = FolderMeta::new(*next_validity, None);
                *next_validity += 1;
                m
            }
        };
        max_uid = max_uid.max(uid_floor);
        // Read the messages. A file not where the log says may be where a request that a
        // run of the store did not finish (the process ended) left it: renamed for a flag
        // change whose log line was not written (the same unique part, other flags), or
        // parked in `tmp/` by an EXPUNGE whose removal was not written. Neither request was
        // answered OK, so neither happened: the file is put back. Any other file that is
        // gone counts as expunged.
        let (cur, tmp) = (dir.join("cur"), dir.join("tmp"));
        let mut in_cur: HashSet<String> = HashSet::new();
        for e in fs::read_dir(&cur)? {
            if let Some(n) = e?.file_name().to_str() {
                in_cur.insert(n.to_owned());
            }
        }
        // A file named back must be no other message's (nor replace a file: only a name
        // missing from `cur/` is restored).
        let live: HashSet<&str> = msgs.iter().map(|m| m.1.as_str()).collect();
        let unclaimed: HashMap<&str, &str> = in_cur
            .iter()
            .filter(|n| !live.contains(n.as_str()))
            .map(|n| (base_of(n), n.as_str()))
            .collect();
        let mut moved = Vec::new();
        for (_, file) in &msgs {
            if file.is_empty() || in_cur.contains(file) {
                continue;
            }
            let claimed = unclaimed.get(base_of(file)).copied();
            let from = match claimed {
                Some(n) => cur.join(n),
                None => tmp.join(file),
            };
            // Not there either: expunged by another tool (below).
            if fs::rename(from, cur.join(file)).is_ok() {
                moved.push((claimed.map(str::to_owned), file.clone()));
            }
        }
        // `cur/`'s names as they are now (read once, for the pick-up below as well).
        for (from, to) in moved {
            if let Some(from) = from {
                in_cur.remove(&from);
            }
            in_cur.insert(to);
        }
        let mut known: HashMap<String, ()> = HashMap::new();
        let mut kept = Vec::new();
        for (mut m, file) in msgs {
            if file.is_empty() {
                continue;
            }
            let path = cur.join(&file);
            match fs::metadata(&path) {
                Ok(meta) => {
                    m.size = meta.len();
                    known.insert(base_of(&file).to_owned(), ());
                    kept.push((m, file));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    max_modseq += 1;
                    expunged.push(m.uid, max_modseq, limit);
                }
                Err(e) => return Err(e),
            }
        }
        // Files other tools added.
        let mut new_names = Vec::new();
        for e in fs::read_dir(dir.join("new"))? {
            if let Some(n) = e?.file_name().to_str() {
                new_names.push(n.to_owned());
            }
        }
        for (sub, names) in [("cur", Vec::from_iter(in_cur)), ("new", new_names)] {
            let mut found: Vec<(String, i64)> = Vec::new();
            for n in names {
                if n.starts_with('.') || known.contains_key(base_of(&n)) {
                    continue;
                }
                // Followed if a link: a link to nothing is no message (left where it is).
                let meta = match fs::metadata(dir.join(sub).join(&n)) {
                    Ok(meta) => meta,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                let date = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs() as i64);
                found.push((n, date));
            }
            found.sort();
            for (n, date) in found {
                let info = n.split_once(":2,").map_or("", |(_, i)| i);
                let flags = flags_of_letters(info);
                let target = format!("{}:2,{}", base_of(&n), flag_letters(&flags));
                fs::rename(dir.join(sub).join(&n), cur.join(&target))?;
                let size = fs::metadata(cur.join(&target))?.len();
                max_uid += 1;
                max_modseq += 1;
                known.insert(base_of(&n).to_owned(), ());
                kept.push((
                    StoredMessage::in_file(max_uid, flags, max_modseq, date, size),
                    target,
                ));
            }
        }
        // The rest of what an unfinished run left in `tmp/`: the files of removals that were
        // written, and the store's own files being made (named `*.imapwire*`: an APPEND
        // being received, a copy, a mailbox being deleted, parked in the root's). No request
        // is in flight while the store opens. Other tools' files are left.
        for e in fs::read_dir(&tmp)? {
            let e = e?;
            let Some(n) = e.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if removed.contains(&n) || n.contains(".imapwire") {
                let _ = if e.file_type()?.is_dir() {
                    fs::remove_dir_all(e.path())
                } else {
                    fs::remove_file(e.path())
                };
            }
        }
        meta.uid_next = meta.uid_next.max(max_uid.saturating_add(1));
        meta.highest_modseq = meta.highest_modseq.max(max_modseq);
        Ok(Loaded {
            meta,
            messages: kept,
            expunged,
        })
    }

    /// Rewrites a mailbox's log from the store's state.
    fn compact(&self, name: &[u8], meta: &FolderMeta) -> io::Result<()> {
        let dir = self.dir(name);
        let mut s = format!(
            "V {} {} {} {}\n",
            meta.uid_validity,
            role_text(&meta.special_use),
            meta.uid_next,
            meta.highest_modseq
        );
        if let Some(files) = self.files().get(name) {
            let mut uids: Vec<&u32> = files.keys().collect();
            uids.sort_unstable();
            let stored: HashMap<u32, (Vec<Flag>, u64, i64)> = self
                .mem
                .stored(name)
                .into_iter()
                .map(|m| (m.uid, (m.flags, m.modseq, m.internal_date)))
                .collect();
            for uid in uids {
                let Some((flags, modseq, date)) = stored.get(uid) else {
                    continue;
                };
                s.push_str(&add_line(*uid, *modseq, *date, &files[uid], flags));
            }
        }
        // What the store remembers of removals (bounded; see MemoryStore::set_expunged_limit).
        if let Some(e) = self.mem.expunged(name) {
            if e.floor() > 0 {
                s.push_str(&format!("E {}\n", e.floor()));
            }
            for (first, last, m) in e.runs() {
                if first == last {
                    s.push_str(&format!("X {first} {m}\n"));
                } else {
                    s.push_str(&format!("X {first} {m} {last}\n"));
                }
            }
        }
        let tmp = dir.join(format!("{LOG}.tmp"));
        fs::write(&tmp, s)?;
        fs::rename(tmp, dir.join(LOG))
    }

    fn append_log(&self, name: &[u8], line: &str) -> io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir(name).join(LOG))?;
        f.write_all(line.as_bytes())
    }

    fn unique(&mut self) -> String {
        self.counter += 1;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        format!(
            "{}.M{}P{}Q{}.imapwire",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            self.counter
        )
    }

    /// Writes one change's files to the directory (a message file renamed, a mailbox
    /// directory made or moved); its log line is queued in `tx` and written by
    /// [`commit`](Self::commit), which takes every step back when a later one fails.
    fn persist(&mut self, c: Change, tx: &mut Tx) -> io::Result<()> {
        match c {
            Change::Created { mailbox, meta } => {
                let dir = self.dir(&mailbox);
                tx.done.push(Done::Created {
                    mailbox: mailbox.clone(),
                });
                for sub in ["cur", "new", "tmp"] {
                    fs::create_dir_all(dir.join(sub))?;
                }
                self.files().insert(mailbox.clone(), HashMap::new());
                self.compact(&mailbox, &meta)?;
            }
            Change::Deleted { mailbox } => {
                // Parked in the root's `tmp/` (not read as a mailbox) until the rest is
                // written, so that it can be put back.
                let parked = self
                    .root
                    .join("tmp")
                    .join(format!("deleted-{}", self.unique()));
                fs::create_dir_all(self.root.join("tmp"))?;
                fs::rename(self.dir(&mailbox), &parked)?;
                let files = self.files().remove(&mailbox);
                tx.done.push(Done::Deleted {
                    mailbox,
                    parked,
                    files,
                });
                tx.subscriptions = true;
            }
            Change::Renamed { from, to } => {
                fs::rename(self.dir(&from), self.dir(&to))?;
                let mut files = self.files();
                if let Some(f) = files.remove(&from) {
                    files.insert(to.clone(), f);
                }
                drop(files);
                tx.done.push(Done::Renamed { from, to });
                tx.subscriptions = true;
            }
            Change::Added { mailbox, message } => {
                // An APPEND message was written to a file as it arrived.
                let source = self
                    .arriving
                    .pop_front()
                    .map_or(Source::Data, Source::Staged);
                self.add_file(mailbox, message, source, tx)?;
            }
            // RENAME INBOX, MOVE: the message's file is renamed into the new mailbox (put
            // back if the request fails), not written again.
            Change::Moved {
                from,
                from_uid,
                to,
                message,
            } => {
                let source = self
                    .file_name(&from, from_uid)
                    .map_or(Source::Data, |name| {
                        Source::Moved(MovedFrom {
                            mailbox: from,
                            uid: from_uid,
                            name,
                            link: None,
                        })
                    });
                self.add_file(to, message, source, tx)?;
            }
            // COPY: the original's file is linked (Maildir names a message's flags in its
            // file name, so each link has its own), not read.
            Change::Copied {
                from,
                from_uid,
                to,
                message,
            } => {
                let original = self.file_name(&from, from_uid);
                let source = original.map_or(Source::Data, |name| {
                    Source::Copied(self.dir(&from).join("cur").join(name))
                });
                self.add_file(to, message, source, tx)?;
            }
            Change::Flags {
                mailbox,
                uid,
                flags,
                modseq,
            } => {
                let cur = self.dir(&mailbox).join("cur");
                let old = self.file_name(&mailbox, uid);
                let Some(old) = old else {
                    return Ok(());
                };
                let new = format!("{}:2,{}", base_of(&old), flag_letters(&flags));
                if new != old {
                    fs::rename(cur.join(&old), cur.join(&new))?;
                }
                tx.log(&mailbox, flags_line(uid, modseq, &new, &flags), false);
                if let Some(f) = self.files().get_mut(&mailbox) {
                    f.insert(uid, new.clone());
                }
                tx.done.push(Done::Flags {
                    mailbox,
                    uid,
                    old,
                    new,
                });
            }
            Change::Removed {
                mailbox,
                uid,
                modseq,
            } => {
                // Parked in its mailbox's `tmp/`, under its name, until the log says it is
                // gone (deleted then), so that it can be put back: by the undo of a request
                // that fails, or when the store is opened after a run that ended before
                // the removal was written ([`load`](Self::load)).
                let name = self.file_name(&mailbox, uid);
                let mut parked = None;
                if let Some(name) = &name {
                    let to = self.dir(&mailbox).join("tmp").join(name);
                    match fs::rename(self.dir(&mailbox).join("cur").join(name), &to) {
                        Ok(()) => parked = Some(to),
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {
                            #[cfg(test)]
                            {
                                self.removed_missing += 1;
                            }
                        }
                        Err(e) => return Err(e),
                    }
                }
                if let Some(f) = self.files().get_mut(&mailbox) {
                    f.remove(&uid);
                }
                tx.log(&mailbox, format!("X {uid} {modseq}\n"), true);
                tx.done.push(Done::Removed {
                    mailbox,
                    uid,
                    name,
                    parked,
                });
            }
            Change::Subscribed { .. } => tx.subscriptions = true,
        }
        Ok(())
    }

    /// Stores `message` of `mailbox` in a file of its own, from `source`; its log line
    /// queued in `tx`.
    fn add_file(
        &mut self,
        mailbox: Vec<u8>,
        message: StoredMessage,
        source: Source,
        tx: &mut Tx,
    ) -> io::Result<()> {
        let name = format!("{}:2,{}", self.unique(), flag_letters(&message.flags));
        let dir = self.dir(&mailbox);
        let mtime = u64::try_from(message.internal_date)
            .ok()
            .map(|secs| UNIX_EPOCH + Duration::from_secs(secs));
        let cur = dir.join("cur").join(&name);
        // Where the file came from, for the undo: a moved file goes back there.
        let from = match source {
            Source::Moved(mut from) => {
                let src = self.dir(&from.mailbox).join("cur").join(&from.name);
                match relinked(&src, &dir.join("cur"))? {
                    // A relative link would name another file (or none) from the new
                    // directory: a link to the same file is made there, and the old one
                    // removed.
                    Some((new, old)) => {
                        let tmp = made_in(dir.join("tmp").join(&name), |tmp| symlink(&new, tmp))?;
                        placed(&tmp, &cur)?;
                        if let Err(e) = fs::remove_file(&src) {
                            let _ = fs::remove_file(&cur);
                            return Err(e);
                        }
                        from.link = Some(old);
                    }
                    None => fs::rename(&src, &cur)?,
                }
                // The file is no longer there: the removal from `from` that follows finds
                // no file to park (and tries no rename that must fail).
                if let Some(f) = self.files().get_mut(&from.mailbox) {
                    f.remove(&from.uid);
                }
                Some(from)
            }
            source => {
                let tmp = match source {
                    // An APPEND message: already written as it arrived (and closed).
                    Source::Staged(path) => {
                        set_date(&path, mtime);
                        path
                    }
                    // A copy: a second link to the original's file (the same date), or
                    // where the file system cannot link, a copy of the file (read and
                    // written in pieces).
                    Source::Copied(original) => {
                        // A symbolic link is not linked (a hard link to it would be a link
                        // to the same relative path, one directory off): its target is
                        // copied.
                        let link = self.may_link()
                            && !fs::symlink_metadata(&original)?.file_type().is_symlink();
                        made_in(dir.join("tmp").join(&name), |tmp| {
                            let linked = if link {
                                fs::hard_link(&original, tmp)
                            } else {
                                Err(io::ErrorKind::Unsupported.into())
                            };
                            linked.or_else(|_| {
                                fs::copy(&original, tmp)?;
                                set_date(tmp, mtime);
                                Ok(())
                            })
                        })?
                    }
                    // A message not held in memory has no data to write here.
                    _ if message.data.len() as u64 != message.size => {
                        return Err(io::Error::other("message data not in memory"));
                    }
                    _ => made_in(dir.join("tmp").join(&name), |tmp| {
                        let mut f = fs::File::create(tmp)?;
                        f.write_all(&message.data)?;
                        if let Some(t) = mtime {
                            let _ = f.set_modified(t);
                        }
                        Ok(())
                    })?,
                };
                placed(&tmp, &cur)?;
                None
            }
        };
        tx.done.push(Done::Added {
            mailbox: mailbox.clone(),
            uid: message.uid,
            name: name.clone(),
            from,
        });
        tx.log(
            &mailbox,
            add_line(
                message.uid,
                message.modseq,
                message.internal_date,
                &name,
                &message.flags,
            ),
            false,
        );
        self.files()
            .entry(mailbox.clone())
            .or_default()
            .insert(message.uid, name);
        // The file holds it now.
        self.mem.release(&mailbox, message.uid);
        Ok(())
    }

    fn write_subscriptions(&self) -> io::Result<()> {
        let mut s = Vec::new();
        for m in self.mem.subscriptions() {
            s.extend_from_slice(m);
            s.push(b'\n');
        }
        let tmp = self.root.join(format!("{SUBSCRIPTIONS}.tmp"));
        fs::write(&tmp, s)?;
        fs::rename(tmp, self.root.join(SUBSCRIPTIONS))
    }

    /// Writes the changes the request made since [`MemoryStore::begin`]. When a write fails,
    /// the directory and the in-memory state are put back as they were before the request
    /// (the memory store's journal; the directory as far as it allows: see
    /// [`undo`](Self::undo)), so that the request's `NO [SERVERBUG]` tells the truth: it did
    /// not happen (RFC 9051 §7.1: NO, the operation failed).
    fn commit(&mut self) -> io::Result<()> {
        let mut tx = Tx::default();
        let mut failed = None;
        for c in self.mem.take_changes() {
            if let Err(e) = self.persist(c, &mut tx).and_then(|()| self.injected()) {
                failed = Some(e);
                break;
            }
        }
        if failed.is_none() {
            // Logs with removals last: a removal written down cannot be taken back.
            tx.logs.sort_by_key(|l| l.2);
            for i in 0..tx.logs.len() {
                let (mailbox, text, _) = &tx.logs[i];
                let appended = self
                    .log_injected()
                    .and_then(|()| self.append_log(mailbox, text));
                if let Err(e) = appended {
                    failed = Some(e);
                    break;
                }
                tx.logged.push(mailbox.clone());
            }
        }
        if failed.is_none() && tx.subscriptions {
            failed = self.write_subscriptions().err();
        }
        let Some(e) = failed else {
            self.mem.keep();
            for d in tx.done {
                match d {
                    Done::Removed {
                        parked: Some(p), ..
                    } => {
                        let _ = fs::remove_file(p);
                    }
                    Done::Deleted { parked, .. } => {
                        let _ = fs::remove_dir_all(parked);
                    }
                    _ => {}
                }
            }
            return Ok(());
        };
        self.mem.rollback();
        self.undo(tx);
        Err(e)
    }

    /// Tests: fails once as many changes as `fail_after` says have had their files written
    /// without failing (counted in [`commit`](Self::commit) after each change's files,
    /// before the logs): `Some(0)` fails the first.
    #[cfg(test)]
    fn injected(&mut self) -> io::Result<()> {
        countdown(&mut self.fail_after, "injected failure")
    }

    #[cfg(not(test))]
    #[inline(always)]
    fn injected(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Tests: fails the log append `fail_log` says (counted from 0 in
    /// [`commit`](Self::commit)'s log loop), before it writes anything.
    #[cfg(test)]
    fn log_injected(&mut self) -> io::Result<()> {
        countdown(&mut self.fail_log, "injected log failure")
    }

    #[cfg(not(test))]
    #[inline(always)]
    fn log_injected(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Takes back, newest first, the steps of a change written in part (the in-memory
    /// state already rolled back). Best effort: a step that cannot be taken back (a removal
    /// whose log line was written, which [`commit`](Self::commit) writes last) stays.
    fn undo(&mut self, tx: Tx) {
        #[cfg(test)]
        if let Some(f) = self.before_undo {
            f(&self.root);
        }
        let logged = |m: &[u8]| tx.logged.iter().any(|l| l == m);
        // Mailboxes holding a file that could not be moved back (RENAME INBOX, MOVE): the
        // only copy of that message, so their directory is not removed with their creation
        // (a MOVE's target existed before it, so only RENAME INBOX's can be created).
        let mut stranded: Vec<Vec<u8>> = Vec::new();
        for d in tx.done.into_iter().rev() {
            match d {
                Done::Added {
                    mailbox,
                    uid,
                    name,
                    from,
                } => {
                    let file = self.dir(&mailbox).join("cur").join(&name);
                    match from {
                        Some(from) => {
                            let back = self.dir(&from.mailbox).join("cur").join(&from.name);
                            let put_back = match &from.link {
                                // The link it was, made again (before the re-aimed one is
                                // removed: a failure leaves two links, not none).
                                Some(target) => {
                                    symlink(target, &back).and_then(|()| fs::remove_file(&file))
                                }
                                None => fs::rename(&file, &back),
                            };
                            if put_back.is_ok() {
                                self.files()
                                    .entry(from.mailbox)
                                    .or_default()
                                    .insert(from.uid, from.name);
                            } else if !stranded.contains(&mailbox) {
                                stranded.push(mailbox.clone());
                            }
                        }
                        None => {
                            let _ = fs::remove_file(file);
                        }
                    }
                    if let Some(f) = self.files().get_mut(&mailbox) {
                        f.remove(&uid);
                    }
                    if logged(&mailbox) {
                        // Its `A` line stays (read back as expunged: the file is gone); the
                        // UID is not given again.
                        self.mem.burn_uid(&mailbox, uid);
                    }
                }
                Done::Flags {
                    mailbox,
                    uid,
                    old,
                    new,
                } => {
                    let cur = self.dir(&mailbox).join("cur");
                    if old != new && fs::rename(cur.join(&new), cur.join(&old)).is_err() {
                        continue;
                    }
                    if let Some(f) = self.files().get_mut(&mailbox) {
                        f.insert(uid, old.clone());
                    }
                    if logged(&mailbox) {
                        if let Some((flags, modseq)) = self.mem.flags_of(&mailbox, uid) {
                            let _ =
                                self.append_log(&mailbox, &flags_line(uid, modseq, &old, &flags));
                        }
                    }
                }
                Done::Removed {
                    mailbox,
                    uid,
                    name,
                    parked,
                } => {
                    let Some(name) = name else {
                        continue;
                    };
                    if logged(&mailbox) {
                        continue;
                    }
                    // Not parked: the file was gone already.
                    if parked.is_none_or(|p| {
                        fs::rename(p, self.dir(&mailbox).join("cur").join(&name)).is_ok()
                    }) {
                        self.files().entry(mailbox).or_default().insert(uid, name);
                    }
                }
                Done::Created { mailbox } => {
                    self.files().remove(&mailbox);
                    if !stranded.contains(&mailbox) {
                        let _ = fs::remove_dir_all(self.dir(&mailbox));
                    }
                }
                Done::Deleted {
                    mailbox,
                    parked,
                    files,
                } => {
                    if fs::rename(&parked, self.dir(&mailbox)).is_ok() {
                        if let Some(f) = files {
                            self.files().insert(mailbox, f);
                        }
                    }
                }
                Done::Renamed { from, to } => {
                    if fs::rename(self.dir(&to), self.dir(&from)).is_ok() {
                        let mut files = self.files();
                        if let Some(f) = files.remove(&to) {
                            files.insert(from, f);
                        }
                    }
                }
            }
        }
        if tx.subscriptions {
            let _ = self.write_subscriptions();
        }
    }

    /// Creates a mailbox with a special-use role (RFC 6154), subscribed, unless one of that
    /// name exists.
    pub fn create_special(
        &mut self,
        mailbox: &Mailbox,
        role: Option<MailboxAttribute>,
    ) -> io::Result<bool> {
        self.mem.begin();
        let created = self.mem.create_special(mailbox, role);
        self.commit()?;
        Ok(created)
    }

    /// A new session.
    pub fn open_session(&mut self) -> SessionId {
        self.mem.open_session()
    }

    /// Forgets a session (and deletes the files of its unfinished APPEND messages).
    pub fn close_session(&mut self, sid: SessionId) {
        self.mem.close_session(sid);
        let gone: Vec<_> = self.staged.keys().filter(|k| k.0 == sid).copied().collect();
        for k in gone {
            self.discard_staged(k);
        }
    }

    /// Writes a piece of an APPEND message to its file in the root's `tmp/` (created at
    /// the first piece): the store never holds a message being received, whatever its
    /// size. A write that fails makes the APPEND fail (`NO [SERVERBUG]`).
    pub fn append_chunk(&mut self, sid: SessionId, stream: AppendStream, data: &[u8]) {
        if !self.staged.contains_key(&(sid, stream)) {
            let path = self.root.join("tmp").join(self.unique());
            let file = fs::File::create(&path).ok();
            self.staged
                .insert((sid, stream), Staged { path, file, len: 0 });
        }
        if let Some(st) = self.staged.get_mut(&(sid, stream)) {
            st.len += data.len() as u64;
            if let Some(f) = &mut st.file {
                if f.write_all(data).is_err() {
                    st.file = None;
                }
            }
        }
    }

    /// Drops an aborted APPEND message: its `tmp/` file is deleted.
    pub fn append_aborted(&mut self, sid: SessionId, stream: AppendStream) {
        self.discard_staged((sid, stream));
    }

    fn discard_staged(&mut self, key: (SessionId, AppendStream)) {
        if let Some(st) = self.staged.remove(&key) {
            drop(st.file);
            let _ = fs::remove_file(&st.path);
        }
    }

    /// APPEND: the messages' files in `tmp/` are renamed into the mailbox's `cur/` (all or
    /// none). The store's index keeps each message's data in memory as well (read back
    /// from the file once it is complete): see the module docs.
    fn append(
        &mut self,
        sid: SessionId,
        mailbox: &Mailbox,
        messages: Vec<super::event::AppendedMessage>,
    ) -> Reply {
        let mut files = Vec::with_capacity(messages.len());
        let mut bodies = Vec::with_capacity(messages.len());
        let mut failed = None;
        for m in messages {
            let data = match self.staged.remove(&(sid, m.stream)) {
                Some(st) => {
                    files.push(st.path.clone());
                    staged_size(st, m.length)
                }
                // An empty message sends no chunk.
                None if m.length == 0 => {
                    let path = self.root.join("tmp").join(self.unique());
                    let made = fs::File::create(&path)
                        .map(|_| 0)
                        .map_err(|_| "the store could not be written");
                    if made.is_ok() {
                        files.push(path);
                    }
                    made
                }
                None => Err("message data incomplete"),
            };
            match data {
                Ok(size) => {
                    bodies.push((size, Bytes::new(), m.flags, date_or_now(m.date.as_ref())))
                }
                Err(why) => failed = Some(why),
            }
        }
        if let Some(why) = failed {
            for f in files {
                let _ = fs::remove_file(f);
            }
            return Reply::no(Some(ResponseCode::ServerBug), why);
        }
        // Renamed by `persist` as the messages are added; whatever is left (no such
        // mailbox: NO [TRYCREATE]) is deleted.
        self.arriving = files.into();
        self.mem.begin();
        let r = self.mem.append_sized(mailbox, bodies);
        let r = self.committed(r);
        for f in std::mem::take(&mut self.arriving) {
            let _ = fs::remove_file(f);
        }
        r
    }

    /// Answers a request of session `sid` and writes its changes; `NO [SERVERBUG]` when they
    /// could not be written.
    pub fn handle(&mut self, sid: SessionId, request: Request) -> Reply {
        let request = match request {
            Request::Append {
                mailbox,
                messages,
                last_uid,
            } => {
                let r = self.append(sid, &mailbox, messages);
                // The new messages of the selected mailbox before the tagged OK (RFC 9051
                // §6.3.12; see the server's calling contract).
                return self.mem.with_new_messages(sid, &mailbox, last_uid, r);
            }
            r => r,
        };
        if !may_change(&request) {
            return self.mem.handle(sid, request);
        }
        self.mem.begin();
        let r = self.mem.handle(sid, request);
        self.committed(r)
    }

    /// `r` once the changes since [`MemoryStore::begin`] are written, else
    /// `NO [SERVERBUG]` with the changes undone ([`commit`](Self::commit)).
    fn committed(&mut self, r: Reply) -> Reply {
        match self.commit() {
            Ok(()) => r,
            Err(_) => Reply::no(
                Some(ResponseCode::ServerBug),
                "the store could not be written",
            ),
        }
    }

    /// Appends messages `(data, flags, internal date in Unix seconds)` to `mailbox` (for
    /// APPEND bodies received in chunks): `OK [APPENDUID ...]`.
    pub fn append_messages(
        &mut self,
        mailbox: &Mailbox,
        bodies: Vec<(Bytes, Vec<Flag>, i64)>,
    ) -> Reply {
        self.mem.begin();
        let r = self.mem.append_messages(mailbox, bodies);
        self.committed(r)
    }

    /// The next at most `max` octets of streamed FETCH value `stream` of session `sid`
    /// (answer to [`Event::BodyWanted`](super::Event::BodyWanted)); empty when the stream is
    /// unknown or was sent whole.
    pub fn body_chunk(
        &mut self,
        sid: SessionId,
        stream: BodyStream,
        max: usize,
    ) -> io::Result<Bytes> {
        Ok(self.mem.body_chunk(sid, stream, max))
    }

    /// Releases a streamed FETCH value that will not be asked for
    /// ([`Event::BodyDropped`](super::Event::BodyDropped)).
    pub fn body_dropped(&mut self, sid: SessionId, stream: BodyStream) {
        self.mem.body_dropped(sid, stream);
    }

    /// Changes for other sessions: see [`MemoryStore::take_notifications`].
    pub fn take_notifications(&mut self) -> Vec<(Option<SessionId>, Mailbox, Update)> {
        self.mem.take_notifications()
    }

    /// The in-memory view of the store (read-only).
    pub fn memory(&self) -> &MemoryStore {
        &self.mem
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

/// Whether `request` may change the store: not SELECT/EXAMINE, SEARCH, or a FETCH that sets
/// no `\\Seen` (answered without the memory store's journal and with nothing to write).
fn may_change(request: &Request) -> bool {
    use imapwire_codec::fetch::{FetchAttribute, FetchItems};
    match request {
        Request::Select { .. } | Request::Search { .. } => false,
        Request::Fetch {
            items: FetchItems::Attributes(a),
            ..
        } => a.as_slice().iter().any(|a| {
            matches!(
                a,
                FetchAttribute::Rfc822
                    | FetchAttribute::Rfc822Text
                    | FetchAttribute::BodySection { peek: false, .. }
            )
        }),
        Request::Fetch { .. } => false,
        _ => true,
    }
}

/// `tmp` once `make` has made the file there; on failure whatever it left there is
/// removed.
fn made_in(tmp: PathBuf, make: impl FnOnce(&Path) -> io::Result<()>) -> io::Result<PathBuf> {
    match make(&tmp) {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Moves the file made at `tmp` to `cur` (a mailbox's `cur/`, where readers look: the file
/// appears there whole); on failure the file at `tmp` is removed.
fn placed(tmp: &Path, cur: &Path) -> io::Result<()> {
    fs::rename(tmp, cur).inspect_err(|_| {
        let _ = fs::remove_file(tmp);
    })
}

/// A message file at `src` that is a symbolic link with a relative target (another tool's
/// way to keep one file for several mailboxes), about to move to the directory `to`:
/// `Some((new, old))` when the target, read from `to`, would name another file or none,
/// with `new` the relative target that names the same file from `to` (worked out from the
/// real paths of both) and `old` the link's target now. `None`: renaming it is enough (a
/// regular file, an absolute link, a relative one that names the same file from `to`, a
/// link to nothing, or a system without symbolic links).
fn relinked(src: &Path, to: &Path) -> io::Result<Option<(PathBuf, PathBuf)>> {
    if !cfg!(unix) || !fs::symlink_metadata(src)?.file_type().is_symlink() {
        return Ok(None);
    }
    let old = fs::read_link(src)?;
    if old.is_absolute() {
        return Ok(None);
    }
    let (Ok(file), Ok(to)) = (fs::canonicalize(src), fs::canonicalize(to)) else {
        return Ok(None);
    };
    let (file_parts, to_parts): (Vec<_>, Vec<_>) =
        (file.components().collect(), to.components().collect());
    let common = file_parts
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut new = PathBuf::new();
    for _ in common..to_parts.len() {
        new.push("..");
    }
    new.extend(&file_parts[common..]);
    Ok((new != old).then_some((new, old)))
}

/// Makes a symbolic link at `link` to `target`.
#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

/// Makes a symbolic link at `link` to `target`: never called where [`relinked`] finds no
/// links to re-aim.
#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Dates the file at `path` (its modification time: the internal date other Maildir tools
/// read), when `mtime` is known; a file that cannot be dated keeps its date (the log has
/// the store's).
fn set_date(path: &Path, mtime: Option<SystemTime>) {
    if let Some(t) = mtime {
        let _ = fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(t));
    }
}

fn flags_line(uid: u32, modseq: u64, file: &str, flags: &[Flag]) -> String {
    with_flags(format!("F {uid} {modseq} {file}"), flags)
}

/// `line` with ` flag` for each of `flags` and the line end.
fn with_flags(mut line: String, flags: &[Flag]) -> String {
    for f in flags.iter().filter_map(flag_text) {
        line.push(' ');
        line.push_str(&f);
    }
    line.push('\n');
    line
}

/// The steps of one request's changes written so far ([`MaildirStore::commit`]).
#[derive(Default)]
struct Tx {
    done: Vec<Done>,
    /// Log lines to append, by mailbox, and whether they remove a message.
    logs: Vec<(Vec<u8>, String, bool)>,
    /// The mailboxes whose lines were appended.
    logged: Vec<Vec<u8>>,
    /// The subscriptions file is to be written.
    subscriptions: bool,
}

impl Tx {
    fn log(&mut self, mailbox: &[u8], line: String, removal: bool) {
        match self.logs.iter_mut().find(|l| l.0 == mailbox) {
            Some(l) => {
                l.1.push_str(&line);
                l.2 |= removal;
            }
            None => self.logs.push((mailbox.to_vec(), line, removal)),
        }
    }
}

/// A step written to the directory, and what [`MaildirStore::undo`] needs to take it back.
enum Done {
    Added {
        mailbox: Vec<u8>,
        uid: u32,
        name: String,
        /// Where the file was moved from (RENAME INBOX, MOVE); `None`: written for this
        /// request.
        from: Option<MovedFrom>,
    },
    Flags {
        mailbox: Vec<u8>,
        uid: u32,
        old: String,
        new: String,
    },
    Removed {
        mailbox: Vec<u8>,
        uid: u32,
        name: Option<String>,
        parked: Option<PathBuf>,
    },
    Created {
        mailbox: Vec<u8>,
    },
    Deleted {
        mailbox: Vec<u8>,
        parked: PathBuf,
        files: Option<HashMap<u32, String>>,
    },
    Renamed {
        from: Vec<u8>,
        to: Vec<u8>,
    },
}

fn add_line(uid: u32, modseq: u64, date: i64, file: &str, flags: &[Flag]) -> String {
    with_flags(format!("A {uid} {modseq} {date} {file}"), flags)
}

/// Tests: the failure injection's count: `Some(n)` lets `n` more calls pass and fails the
/// next one (then `None`: it fails once).
#[cfg(test)]
fn countdown(left: &mut Option<usize>, what: &str) -> io::Result<()> {
    match left {
        Some(0) => {
            *left = None;
            Err(io::Error::other(what.to_owned()))
        }
        Some(n) => {
            *n -= 1;
            Ok(())
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SELECT (or EXAMINE, `read_only`) of INBOX by session `sid`.
    fn select_inbox(st: &mut MaildirStore, sid: SessionId, read_only: bool) -> Reply {
        st.handle(
            sid,
            Request::Select {
                mailbox: Mailbox::Inbox,
                read_only,
                params: vec![],
            },
        )
    }

    #[test]
    fn names_round_trip() {
        for n in [&b"Sent"[..], b"a/b.c", b"x%y", b"&AOQ-"] {
            let d = dir_name(n);
            assert!(d.starts_with('.') && !d[1..].contains('/'));
            assert_eq!(mailbox_name(&d).as_deref(), Some(n));
        }
        assert_eq!(dir_name(b"INBOX"), "");
        assert_eq!(dir_name(b"a/b"), ".a.b");
    }

    #[test]
    fn flag_letters_round_trip() {
        let f = vec![
            Flag::Seen,
            Flag::Deleted,
            Flag::Draft,
            Flag::Answered,
            Flag::Flagged,
        ];
        assert_eq!(flag_letters(&f), "DFRST");
        assert_eq!(flag_letters(&flags_of_letters("DFRST")), "DFRST");
    }

    fn cmd(s: &str) -> CommandBody {
        let line = format!("t {s}\r\n");
        use imapwire_codec::codec::Message as _;
        let b = Bytes::from(line.into_bytes());
        match imapwire_codec::command::Command::decode(&b, &imapwire_codec::DecodeOptions::strict())
        {
            Ok(c) => c.message.into_parts().1,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn uids(st: &MaildirStore, mailbox: &[u8]) -> Vec<(u32, Vec<Flag>, Bytes)> {
        st.memory().messages(mailbox)
    }

    /// The expunged UIDs read back from a log are bounded like the memory store's (RFC 7162
    /// §5.3), the forgotten part is kept as one mod-sequence (`E`), runs as `X first modseq
    /// last`, and QRESYNC answers from before the kept part report every UID not present.
    #[test]
    fn expunged_uids_in_the_log_are_bounded() {
        let dir = std::env::temp_dir().join(format!("imapwire-maildir-x-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir_all(dir.join(sub)).unwrap();
        }
        // 6,000 single removals (UIDs 1..=6000 at mod-sequences 2..=6001), then a run.
        let mut log = String::from("V 7 - 1 1\n");
        for u in 1..=6000u64 {
            log.push_str(&format!("X {u} {}\n", u + 1));
        }
        log.push_str("X 6001 6010 7000\n");
        fs::write(dir.join(LOG), &log).unwrap();
        let st = MaildirStore::open(&dir).unwrap();
        let limit = crate::server::expunged::DEFAULT_LIMIT;
        let e = st.memory().expunged(b"INBOX").unwrap();
        assert_eq!(e.runs().count(), limit);
        let floor = e.floor();
        assert_eq!(floor, (6000 - (limit - 1)) as u64 + 1);
        assert_eq!(
            e.runs().last(),
            Some((6001, 7000, 6010)),
            "first, last, modseq"
        );
        let qresync = |st: &mut MaildirStore, modseq: u64| {
            let sid = st.open_session();
            let r = st.handle(
                sid,
                Request::Select {
                    mailbox: Mailbox::Inbox,
                    read_only: true,
                    params: vec![imapwire_codec::command::SelectParam::QResync {
                        uidvalidity: imapwire_codec::sequence::UidValidity::new(7).unwrap(),
                        modseq,
                        known_uids: None,
                        seq_match_data: None,
                    }],
                },
            );
            match &r.data[0] {
                super::super::event::ReplyData::Selected(s) => s
                    .vanished
                    .as_ref()
                    .map(|v| v.iter().collect::<Vec<_>>())
                    .unwrap_or_default(),
                other => panic!("{other:?}"),
            }
        };
        // The compacted log keeps exactly that; reopening gives the same answers.
        let compacted = fs::read_to_string(dir.join(LOG)).unwrap();
        assert!(compacted.contains(&format!("E {floor}\n")), "{compacted}");
        assert!(compacted.contains("X 6001 6010 7000\n"), "{compacted}");
        assert_eq!(
            compacted.lines().filter(|l| l.starts_with('X')).count(),
            limit
        );
        drop(st);
        let mut st = MaildirStore::open(&dir).unwrap();
        assert_eq!(qresync(&mut st, 6005), (6001..=7000).collect::<Vec<_>>());
        assert_eq!(qresync(&mut st, 6000), (6000..=7000).collect::<Vec<_>>());
        // From before the floor: everything below UIDNEXT (none of it is present).
        assert_eq!(qresync(&mut st, 10), (1..=7000).collect::<Vec<_>>());
        let _ = fs::remove_dir_all(&dir);
    }

    /// A change whose log cannot be written is answered NO and did not happen: not in
    /// memory (this session, other sessions), not in the directory, not after reopening.
    /// Before, the change stayed in memory (and in part on disk) under the NO, so a client
    /// retrying an APPEND got the message twice.
    #[test]
    fn a_change_that_cannot_be_written_is_undone() {
        use imapwire_codec::response::Status;
        let dir = std::env::temp_dir().join(format!("imapwire-maildir-u-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let sent = Mailbox::new(Bytes::from_static(b"Sent")).unwrap();
        let mut st = MaildirStore::open(&dir).unwrap();
        st.create_special(&sent, None).unwrap();
        let sid = st.open_session();
        for m in [
            "APPEND INBOX {5}\r\nhello",
            "APPEND INBOX (\\Deleted) {3}\r\nbye",
        ] {
            assert_eq!(st.handle(sid, Request::Command(cmd(m))).status, Status::Ok);
        }
        let r = select_inbox(&mut st, sid, false);
        assert_eq!(r.status, Status::Ok);
        let cur = |d: &Path| {
            let mut v: Vec<String> = fs::read_dir(d.join("cur"))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            v.sort();
            v
        };
        let state = |st: &MaildirStore| (uids(st, b"INBOX"), uids(st, b"Sent"));
        let before = state(&st);
        let files = (cur(&dir), cur(&dir.join(".Sent")));
        let status = |st: &mut MaildirStore| {
            let r = st.handle(sid, Request::Command(cmd("STATUS Sent (UIDNEXT MESSAGES)")));
            format!("{:?}", r.data)
        };
        let sent_status = status(&mut st);
        st.take_notifications();
        // The INBOX log becomes unwritable (a directory in its place).
        fs::rename(dir.join(LOG), dir.join("log.aside")).unwrap();
        fs::create_dir(dir.join(LOG)).unwrap();
        let store = |kind| Request::Store {
            uids: vec![1, 2],
            kind,
            silent: false,
            data: imapwire_codec::command::StoreData::Flags(vec![Flag::Seen].into()),
            modifiers: vec![],
        };
        let tries = [
            ("STORE", store(imapwire_codec::command::StoreType::Add)),
            ("EXPUNGE", Request::Expunge { uids: None }),
            (
                "UID EXPUNGE",
                Request::Expunge {
                    uids: Some(vec![2]),
                },
            ),
            ("APPEND", Request::Command(cmd("APPEND INBOX {4}\r\nnew!"))),
            // The message is written to Sent (whose log works) before the INBOX log fails.
            (
                "MOVE",
                Request::Move {
                    uids: vec![1],
                    mailbox: sent.clone(),
                    last_uid: 2,
                },
            ),
        ];
        for (what, req) in tries {
            let r = st.handle(sid, req);
            assert_eq!(r.status, Status::No, "{what}: {r:?}");
            assert_eq!(r.code, Some(ResponseCode::ServerBug), "{what}");
            assert_eq!(state(&st), before, "{what}: changed in memory");
            assert_eq!(
                (cur(&dir), cur(&dir.join(".Sent"))),
                files,
                "{what}: on disk"
            );
            assert!(st.take_notifications().is_empty(), "{what}: others told");
        }
        // The UID the MOVE wrote down in Sent's log is not given again.
        assert_ne!(status(&mut st), sent_status);
        fs::remove_dir(dir.join(LOG)).unwrap();
        fs::rename(dir.join("log.aside"), dir.join(LOG)).unwrap();
        // Working again: the same requests succeed, once.
        let r = st.handle(sid, Request::Command(cmd("APPEND INBOX {4}\r\nnew!")));
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert_eq!(uids(&st, b"INBOX").len(), 3);
        let r = st.handle(
            sid,
            Request::Move {
                uids: vec![1],
                mailbox: sent.clone(),
                last_uid: 3,
            },
        );
        assert_eq!(r.status, Status::Ok, "{r:?}");
        let after = state(&st);
        drop(st);
        let st = MaildirStore::open(&dir).unwrap();
        assert_eq!(state(&st), after);
        assert_eq!(after.1.len(), 1);
        assert_eq!(
            after.1[0].0, 2,
            "UID 1 of Sent was written down by the failed MOVE"
        );
        let _ = fs::remove_dir_all(&dir);
    }

    /// A fresh directory for a test.
    fn fresh(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("imapwire-maildir-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    /// Every file and directory under `dir` (sorted), with the size of each file and the
    /// text of the logs and the subscriptions.
    fn disk(dir: &Path) -> Vec<(String, u64, String)> {
        fn walk(root: &Path, d: &Path, out: &mut Vec<(String, u64, String)>) {
            for e in fs::read_dir(d).unwrap() {
                let e = e.unwrap();
                let path = e.path();
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                if e.file_type().unwrap().is_dir() {
                    out.push((rel + "/", 0, String::new()));
                    walk(root, &path, out);
                } else {
                    let name = e.file_name().into_string().unwrap();
                    let text = if name == LOG || name == SUBSCRIPTIONS {
                        fs::read_to_string(&path).unwrap()
                    } else {
                        String::new()
                    };
                    out.push((rel, e.metadata().unwrap().len(), text));
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }

    /// The store in memory (every mailbox's index, removals, subscriptions, selections) and
    /// on disk.
    fn everything(st: &MaildirStore) -> (String, Vec<(String, u64, String)>) {
        (st.mem.dump(), disk(&st.root))
    }

    /// The store the journal tests start from: INBOX with 6 messages (4 `\Deleted`, one
    /// removal before), `Sent` (special-use), `a` and `a/b` (subscribed, a message in
    /// `a/b`), INBOX selected.
    fn journal_setup(dir: &Path) -> (MaildirStore, SessionId) {
        use imapwire_codec::response::Status;
        let mut st = MaildirStore::open(dir).unwrap();
        let sent = Mailbox::new(Bytes::from_static(b"Sent")).unwrap();
        st.create_special(&sent, Some(MailboxAttribute::Sent))
            .unwrap();
        let sid = st.open_session();
        for c in [
            "APPEND INBOX (\\Deleted) {5}\r\ngone!",
            "APPEND INBOX {5}\r\nfirst",
            "APPEND INBOX (\\Deleted) {6}\r\nsecond",
            "APPEND INBOX (\\Seen \\Deleted) {5}\r\nthird",
            "APPEND INBOX ($Work) {6}\r\nfourth",
            "APPEND INBOX (\\Deleted \\Flagged) {5}\r\nfifth",
            "APPEND INBOX {5}\r\nsixth",
            "CREATE a",
            "CREATE a/b",
            "SUBSCRIBE a",
            "SUBSCRIBE a/b",
            "APPEND a/b {7}\r\nchild's",
        ] {
            let r = st.handle(sid, Request::Command(cmd(c)));
            assert_eq!(r.status, Status::Ok, "{c}: {r:?}");
        }
        assert_eq!(select_inbox(&mut st, sid, false).status, Status::Ok);
        let r = st.handle(
            sid,
            Request::Expunge {
                uids: Some(vec![1]),
            },
        );
        assert_eq!(r.status, Status::Ok);
        let r = st.handle(
            sid,
            Request::Store {
                uids: vec![7],
                kind: imapwire_codec::command::StoreType::Add,
                silent: true,
                data: imapwire_codec::command::StoreData::Flags(vec![Flag::Deleted].into()),
                modifiers: vec![],
            },
        );
        assert_eq!(r.status, Status::Ok);
        st.take_notifications();
        (st, sid)
    }

    type Case = (
        &'static str,
        usize,
        fn(&mut MaildirStore, SessionId) -> Reply,
    );

    fn store_req(kind: imapwire_codec::command::StoreType, flags: Vec<Flag>) -> Request {
        Request::Store {
            uids: vec![2, 3, 4, 5, 6, 7],
            kind,
            silent: false,
            data: imapwire_codec::command::StoreData::Flags(flags.into()),
            modifiers: vec![],
        }
    }

    /// A request of each kind of change, with the least number of changes it writes (for
    /// the journal tests).
    fn journal_cases() -> [Case; 16] {
        use imapwire_codec::command::StoreType;
        [
            ("STORE +FLAGS", 6, |st, sid| {
                st.handle(
                    sid,
                    store_req(StoreType::Add, vec![Flag::Flagged, Flag::Answered]),
                )
            }),
            ("STORE -FLAGS", 4, |st, sid| {
                st.handle(sid, store_req(StoreType::Remove, vec![Flag::Deleted]))
            }),
            ("STORE FLAGS", 6, |st, sid| {
                st.handle(sid, store_req(StoreType::Replace, vec![Flag::Draft]))
            }),
            ("FETCH BODY[] (sets \\Seen)", 5, |st, sid| {
                let items = match cmd("FETCH 1 (FLAGS BODY[])") {
                    CommandBody::Fetch { items, .. } => items,
                    other => panic!("{other:?}"),
                };
                st.handle(
                    sid,
                    Request::Fetch {
                        uids: vec![2, 3, 4, 5, 6, 7],
                        items,
                        modifiers: vec![],
                        vanished: None,
                    },
                )
            }),
            ("EXPUNGE", 4, |st, sid| {
                st.handle(sid, Request::Expunge { uids: None })
            }),
            ("UID EXPUNGE", 2, |st, sid| {
                st.handle(
                    sid,
                    Request::Expunge {
                        uids: Some(vec![3, 4, 5]),
                    },
                )
            }),
            ("CLOSE", 4, |st, sid| st.handle(sid, Request::Close)),
            ("APPEND of 3", 3, |st, _| {
                st.append_messages(
                    &Mailbox::Inbox,
                    vec![
                        (Bytes::from_static(b"one"), vec![], 0),
                        (Bytes::from_static(b"two"), vec![Flag::Seen], 1),
                        (Bytes::from_static(b"three"), vec![], 2),
                    ],
                )
            }),
            ("MOVE", 6, |st, sid| {
                let sent = Mailbox::new(Bytes::from_static(b"Sent")).unwrap();
                st.handle(
                    sid,
                    Request::Move {
                        uids: vec![2, 3, 4],
                        mailbox: sent,
                        last_uid: 7,
                    },
                )
            }),
            ("COPY", 3, |st, sid| {
                let sent = Mailbox::new(Bytes::from_static(b"Sent")).unwrap();
                st.handle(
                    sid,
                    Request::Copy {
                        uids: vec![2, 3, 4],
                        mailbox: sent,
                        last_uid: 7,
                    },
                )
            }),
            ("CREATE", 1, |st, sid| {
                st.handle(sid, Request::Command(cmd("CREATE new/box")))
            }),
            ("DELETE", 1, |st, sid| {
                st.handle(sid, Request::Command(cmd("DELETE a/b")))
            }),
            ("RENAME with a child", 2, |st, sid| {
                st.handle(sid, Request::Command(cmd("RENAME a c")))
            }),
            ("RENAME INBOX", 13, |st, sid| {
                st.handle(sid, Request::Command(cmd("RENAME INBOX Old")))
            }),
            ("SUBSCRIBE", 1, |st, sid| {
                st.handle(sid, Request::Command(cmd("SUBSCRIBE other")))
            }),
            ("UNSUBSCRIBE", 1, |st, sid| {
                st.handle(sid, Request::Command(cmd("UNSUBSCRIBE a")))
            }),
        ]
    }

    /// Each kind of change a request makes, failing after each of its steps in turn (the
    /// files of 1, 2, ... of its changes written, then a failure injected): the reply is
    /// `NO [SERVERBUG]` and the store is as before, in memory (every mailbox's index,
    /// UIDNEXT, HIGHESTMODSEQ, removals kept for QRESYNC, subscriptions, selection) and on
    /// disk (every file, log and the subscriptions), no other session is told, and the
    /// same request then succeeds. The memory store's journal takes back flag changes,
    /// additions, removals, created, deleted and renamed mailboxes, subscriptions and
    /// selections; `steps` is the least number of changes the request writes (so that the
    /// failure lands in the middle of a multi-message STORE and EXPUNGE).
    #[test]
    fn the_journal_takes_back_a_request_failing_at_each_step() {
        use imapwire_codec::response::Status;
        let cases = journal_cases();
        let dir = fresh("journal");
        for (what, steps, run) in cases {
            let mut n = 1;
            loop {
                let _ = fs::remove_dir_all(&dir);
                let (mut st, sid) = journal_setup(&dir);
                let before = everything(&st);
                let contents = uids(&st, b"INBOX");
                st.fail_after = Some(n - 1);
                let r = run(&mut st, sid);
                if st.fail_after.is_some() {
                    // Fewer than n changes: nothing failed.
                    assert_eq!(r.status, Status::Ok, "{what}: {r:?}");
                    assert_ne!(everything(&st), before, "{what}: changed nothing");
                    break;
                }
                assert_eq!(r.status, Status::No, "{what} failing after {n}: {r:?}");
                assert_eq!(r.code, Some(ResponseCode::ServerBug), "{what}");
                let after = everything(&st);
                assert_eq!(after.0, before.0, "{what} failing after {n}: in memory");
                assert_eq!(after.1, before.1, "{what} failing after {n}: on disk");
                assert!(st.take_notifications().is_empty(), "{what}: others told");
                assert_eq!(uids(&st, b"INBOX"), contents, "{what}: the messages");
                // Reopened: the same messages and flags.
                drop(st);
                let st = MaildirStore::open(&dir).unwrap();
                assert_eq!(uids(&st, b"INBOX"), contents, "{what}: reopened");
                drop(st);
                // And again, without the failure: it succeeds.
                let (mut st, sid) = {
                    let _ = fs::remove_dir_all(&dir);
                    journal_setup(&dir)
                };
                let r = run(&mut st, sid);
                assert_eq!(r.status, Status::Ok, "{what}: {r:?}");
                n += 1;
            }
            assert!(n > steps, "{what}: only {} changes written", n - 1);
        }
        let _ = fs::remove_dir_all(&dir);
    }

    /// A mailbox's messages: UID, flags, data.
    type Messages = Vec<(u32, Vec<Flag>, Bytes)>;

    /// Every mailbox's messages.
    fn contents(st: &MaildirStore) -> Vec<(Vec<u8>, Messages)> {
        let names: Vec<Vec<u8>> = st.memory().mailboxes().map(<[u8]>::to_vec).collect();
        names
            .into_iter()
            .map(|n| {
                let m = uids(st, &n);
                (n, m)
            })
            .collect()
    }

    /// Each kind of change a request makes, its files written and one of its log appends
    /// failing in turn (the first, the second, ...): the reply is `NO [SERVERBUG]`, no other
    /// session is told, and every mailbox holds the same messages (UIDs, flags, data) as
    /// before, in memory and after reopening. (Less than the files-step test asks: a log
    /// line written stays, read back as what it undoes: an added message's UID is not
    /// given again.)
    #[test]
    fn a_failing_log_append_is_taken_back() {
        use imapwire_codec::response::Status;
        let dir = fresh("journal-log");
        for (what, _, run) in journal_cases() {
            let mut k = 0;
            loop {
                let _ = fs::remove_dir_all(&dir);
                let (mut st, sid) = journal_setup(&dir);
                let before = contents(&st);
                st.fail_log = Some(k);
                let r = run(&mut st, sid);
                if st.fail_log.is_some() {
                    // Fewer than k + 1 logs: nothing failed.
                    assert_eq!(r.status, Status::Ok, "{what}: {r:?}");
                    break;
                }
                assert_eq!(r.status, Status::No, "{what}, log {k} failing: {r:?}");
                assert_eq!(r.code, Some(ResponseCode::ServerBug), "{what}");
                assert!(st.take_notifications().is_empty(), "{what}: others told");
                assert_eq!(contents(&st), before, "{what}, log {k} failing: in memory");
                drop(st);
                let st = MaildirStore::open(&dir).unwrap();
                assert_eq!(contents(&st), before, "{what}, log {k} failing: reopened");
                k += 1;
            }
            // Every request here that changes messages appends to a log (the others write
            // a new log whole, or the subscriptions file).
            let no_log = [
                "CREATE",
                "DELETE",
                "RENAME with a child",
                "SUBSCRIBE",
                "UNSUBSCRIBE",
            ];
            assert_eq!(
                k > 0,
                !no_log.contains(&what),
                "{what}: {k} log appends failed"
            );
        }
        let _ = fs::remove_dir_all(&dir);
    }

    /// RENAME INBOX failing after two of its messages' files were moved, when they cannot
    /// be moved back (INBOX's `cur/` is replaced by a file before the undo): the new
    /// mailbox's directory is kept (it holds the only copy of those messages, "stranded"),
    /// and once INBOX's `cur/` is back, reopening finds every message, the stranded ones in
    /// the new mailbox (picked up as new files).
    #[test]
    fn messages_stranded_by_a_failed_undo_are_kept() {
        let dir = fresh("stranded");
        let (mut st, sid) = journal_setup(&dir);
        let mut want: Vec<Bytes> = uids(&st, b"INBOX").into_iter().map(|m| m.2).collect();
        want.sort();
        // Old created, two messages moved, then the failure.
        st.fail_after = Some(2);
        st.before_undo = Some(|root: &Path| {
            fs::rename(root.join("cur"), root.join("cur-away")).unwrap();
            fs::write(root.join("cur"), b"not a directory").unwrap();
        });
        let r = st.handle(sid, Request::Command(cmd("RENAME INBOX Old")));
        assert_eq!(r.code, Some(ResponseCode::ServerBug), "{r:?}");
        let stranded = fs::read_dir(dir.join(".Old").join("cur")).unwrap().count();
        assert_eq!(stranded, 2, "the moved files stay where they are");
        drop(st);
        fs::remove_file(dir.join("cur")).unwrap();
        fs::rename(dir.join("cur-away"), dir.join("cur")).unwrap();
        let st = MaildirStore::open(&dir).unwrap();
        let mut all: Vec<Bytes> = [&b"INBOX"[..], b"Old"]
            .iter()
            .flat_map(|m| uids(&st, m).into_iter().map(|m| m.2))
            .collect();
        all.sort();
        assert_eq!(all, want);
        assert_eq!(uids(&st, b"Old").len(), 2);
        let _ = fs::remove_dir_all(&dir);
    }

    /// The inode numbers of the files in `dir`'s `cur/`, sorted.
    fn inodes(dir: &Path) -> Vec<u64> {
        use std::os::unix::fs::MetadataExt;
        let mut v: Vec<u64> = fs::read_dir(dir.join("cur"))
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().ino())
            .collect();
        v.sort_unstable();
        v
    }

    /// MOVE (RFC 6851) renames the messages' files into the target mailbox (the same
    /// inodes), neither reading nor writing them, and the removals from the source find
    /// the files gone without a failing rename; the moved messages read back whole, so
    /// after reopening. MOVE within the selected mailbox likewise.
    #[test]
    fn move_renames_the_files() {
        use imapwire_codec::response::Status;
        let dir = fresh("move-files");
        let (mut st, sid) = journal_setup(&dir);
        let big = vec![b'y'; STREAM_OVER as usize + 10];
        let r = st.append_messages(&Mailbox::Inbox, vec![(Bytes::from(big), vec![], 7)]);
        assert_eq!(r.status, Status::Ok);
        let inbox = uids(&st, b"INBOX");
        let files = inodes(&dir);
        let sent = Mailbox::new(Bytes::from_static(b"Sent")).unwrap();
        let all: Vec<u32> = inbox.iter().map(|m| m.0).collect();
        let r = st.handle(
            sid,
            Request::Move {
                uids: all,
                mailbox: sent,
                last_uid: 8,
            },
        );
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert_eq!(st.removed_missing, 0);
        let check = |st: &MaildirStore| {
            assert!(uids(st, b"INBOX").is_empty());
            let moved = uids(st, b"Sent");
            assert_eq!(
                moved.iter().map(|m| (&m.1, &m.2)).collect::<Vec<_>>(),
                inbox.iter().map(|m| (&m.1, &m.2)).collect::<Vec<_>>()
            );
            assert_eq!(
                inodes(&dir.join(".Sent")),
                files,
                "moved, not written again"
            );
            assert!(inodes(&dir).is_empty(), "INBOX's files");
        };
        check(&st);
        // Within the mailbox: the file gets the new UID's name, the same inode.
        let r = st.append_messages(&Mailbox::Inbox, vec![(Bytes::from_static(b"m"), vec![], 1)]);
        assert_eq!(r.status, Status::Ok);
        let one = inodes(&dir);
        let r = st.handle(
            sid,
            Request::Move {
                uids: vec![9],
                mailbox: Mailbox::Inbox,
                last_uid: 9,
            },
        );
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert_eq!(st.removed_missing, 0);
        assert_eq!(inodes(&dir), one);
        assert_eq!(
            uids(&st, b"INBOX"),
            [(10, vec![], Bytes::from_static(b"m"))]
        );
        drop(st);
        let st = MaildirStore::open(&dir).unwrap();
        check_reopened(&st, &inbox);
        assert_eq!(
            uids(&st, b"INBOX"),
            [(10, vec![], Bytes::from_static(b"m"))]
        );
        let _ = fs::remove_dir_all(&dir);
    }

    /// COPY links each message's file into the target mailbox (the same inodes: not read
    /// and written again, one of them larger than [`STREAM_OVER`]) under a name of its
    /// own, so the copy's flags change apart from the original's, and expunging the
    /// original leaves the copy whole; so after reopening.
    #[test]
    fn copy_links_the_files() {
        copy_keeps_the_copies_apart(true);
    }

    /// Where the file system cannot link, COPY copies each file (new inodes, each dated
    /// with its message's internal date), with the same results otherwise.
    #[test]
    fn copy_copies_the_files_where_links_fail() {
        copy_keeps_the_copies_apart(false);
    }

    fn copy_keeps_the_copies_apart(links: bool) {
        use imapwire_codec::command::{StoreData, StoreType};
        use imapwire_codec::response::Status;
        use std::os::unix::fs::MetadataExt;
        let dir = fresh(if links { "copy-files" } else { "copy-no-links" });
        let (mut st, sid) = journal_setup(&dir);
        st.no_hard_links = !links;
        let big = vec![b'z'; STREAM_OVER as usize + 10];
        let r = st.append_messages(&Mailbox::Inbox, vec![(Bytes::from(big), vec![], 7)]);
        assert_eq!(r.status, Status::Ok);
        let inbox = uids(&st, b"INBOX");
        let files = inodes(&dir);
        let all: Vec<u32> = inbox.iter().map(|m| m.0).collect();
        let sent = Mailbox::new(Bytes::from_static(b"Sent")).unwrap();
        let r = st.handle(
            sid,
            Request::Copy {
                uids: all.clone(),
                mailbox: sent,
                last_uid: 8,
            },
        );
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert_eq!(uids(&st, b"INBOX"), inbox, "the originals stay");
        check_reopened(&st, &inbox);
        let copies = inodes(&dir.join(".Sent"));
        if links {
            assert_eq!(copies, files, "linked, not written again");
        } else {
            assert!(copies.iter().all(|i| !files.contains(i)), "copied");
            let cur = dir.join(".Sent").join("cur");
            let mut dates: Vec<i64> = fs::read_dir(&cur)
                .unwrap()
                .map(|e| e.unwrap().metadata().unwrap().mtime())
                .collect();
            let mut want: Vec<i64> = st
                .memory()
                .stored(b"Sent")
                .iter()
                .map(|m| m.internal_date)
                .collect();
            dates.sort_unstable();
            want.sort_unstable();
            assert_eq!(dates, want, "dated");
        }
        assert_eq!(inodes(&dir), files);
        // The originals' flags change; the copies' do not. Then the originals go.
        let r = st.handle(
            sid,
            Request::Store {
                uids: all.clone(),
                kind: StoreType::Add,
                silent: true,
                data: StoreData::Flags(vec![Flag::Answered, Flag::Deleted].into()),
                modifiers: vec![],
            },
        );
        assert_eq!(r.status, Status::Ok, "{r:?}");
        check_reopened(&st, &inbox);
        let r = st.handle(sid, Request::Expunge { uids: None });
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert!(uids(&st, b"INBOX").is_empty());
        check_reopened(&st, &inbox);
        drop(st);
        let st = MaildirStore::open(&dir).unwrap();
        check_reopened(&st, &inbox);
        assert!(uids(&st, b"INBOX").is_empty());
        let _ = fs::remove_dir_all(&dir);
    }

    /// A message whose file is a relative symbolic link (put there by another tool) is
    /// copied from the link's target, not linked (a hard link to a relative symlink one
    /// directory deeper would point nowhere); a link to nothing found when the store is
    /// opened is no message and does not stop the store from opening.
    #[test]
    fn copy_of_a_symlinked_message_copies_its_target() {
        use imapwire_codec::response::Status;
        let dir = fresh("copy-symlink");
        let (mut st, sid) = journal_setup(&dir);
        let inbox = uids(&st, b"INBOX");
        symlinked(&st, &dir);
        let sent = Mailbox::new(Bytes::from_static(b"Sent")).unwrap();
        let r = st.handle(
            sid,
            Request::Copy {
                uids: vec![2],
                mailbox: sent,
                last_uid: 7,
            },
        );
        assert_eq!(r.status, Status::Ok, "{r:?}");
        let want: Vec<_> = inbox.iter().filter(|m| m.0 == 2).collect();
        let check = |st: &MaildirStore| {
            let copied = uids(st, b"Sent");
            assert_eq!(copied.len(), 1);
            assert_eq!((&copied[0].1, &copied[0].2), (&want[0].1, &want[0].2));
        };
        check(&st);
        drop(st);
        // A dangling link another tool left in a mailbox.
        std::os::unix::fs::symlink("../nowhere", dir.join("cur").join("1.M1P1.x:2,S")).unwrap();
        let st = MaildirStore::open(&dir).unwrap();
        check(&st);
        assert_eq!(uids(&st, b"INBOX"), inbox);
        let _ = fs::remove_dir_all(&dir);
    }

    /// Makes the file of INBOX's message 2 in the store at `dir` a relative symbolic link
    /// (`../blobs/m2`) to where the file is moved, as another tool might; returns the
    /// link's path.
    fn symlinked(st: &MaildirStore, dir: &Path) -> PathBuf {
        let file = dir.join("cur").join(st.file_name(b"INBOX", 2).unwrap());
        fs::create_dir_all(dir.join("blobs")).unwrap();
        fs::rename(&file, dir.join("blobs").join("m2")).unwrap();
        std::os::unix::fs::symlink("../blobs/m2", &file).unwrap();
        file
    }

    /// MOVE of a message whose file is a relative symbolic link (another tool's): the link
    /// moved as it is would name a file one directory off (here nothing), so the store
    /// makes a link in the target mailbox that names the same file (and removes the old
    /// one); a MOVE failing after that step puts the original link back as it was. So for
    /// RENAME INBOX, which moves files by the same step.
    #[test]
    fn move_of_a_symlinked_message_keeps_its_target() {
        use imapwire_codec::response::Status;
        let dir = fresh("move-symlink");
        let (mut st, sid) = journal_setup(&dir);
        let inbox = uids(&st, b"INBOX");
        let file = symlinked(&st, &dir);
        let blob = fs::canonicalize(dir.join("blobs").join("m2")).unwrap();
        let mv = |st: &mut MaildirStore| {
            let sent = Mailbox::new(Bytes::from_static(b"Sent")).unwrap();
            st.handle(
                sid,
                Request::Move {
                    uids: vec![2],
                    mailbox: sent,
                    last_uid: 7,
                },
            )
        };
        // Failing after the file's step: the link is back, as it was.
        st.fail_after = Some(0);
        let r = mv(&mut st);
        assert_eq!(r.code, Some(ResponseCode::ServerBug), "{r:?}");
        assert_eq!(fs::read_link(&file).unwrap(), Path::new("../blobs/m2"));
        assert_eq!(uids(&st, b"INBOX"), inbox);
        assert_eq!(
            fs::read_dir(dir.join(".Sent").join("cur")).unwrap().count(),
            0
        );
        // Then without the failure.
        st.fail_after = None;
        let r = mv(&mut st);
        assert_eq!(r.status, Status::Ok, "{r:?}");
        let (two, want): (Vec<_>, Vec<_>) = inbox.iter().cloned().partition(|m| m.0 == 2);
        let two = &two[0];
        let check = |st: &MaildirStore| {
            assert_eq!(uids(st, b"INBOX"), want);
            let moved = uids(st, b"Sent");
            assert_eq!(moved.len(), 1);
            assert_eq!((&moved[0].1, &moved[0].2), (&two.1, &two.2));
            let link = dir
                .join(".Sent")
                .join("cur")
                .join(st.file_name(b"Sent", moved[0].0).unwrap());
            let target = fs::read_link(&link).unwrap();
            assert!(target.is_relative(), "{target:?}");
            assert_eq!(fs::canonicalize(&link).unwrap(), blob);
        };
        check(&st);
        assert!(fs::symlink_metadata(&file).is_err(), "the old link is gone");
        drop(st);
        let st = MaildirStore::open(&dir).unwrap();
        check(&st);
        let _ = fs::remove_dir_all(&dir);
    }

    /// The process ending in the middle of a request, after the request's files were
    /// renamed, linked or parked and before its log lines (emulated: the first log append
    /// fails and the undo panics before its first step): when the store is opened again,
    /// no message is lost (every message's data is in some mailbox's `cur/`), a STORE or
    /// EXPUNGE did not happen (every mailbox's UIDs, flags and data as before), and
    /// nothing of the store's is left in a `tmp/`. An addition (APPEND, COPY, MOVE,
    /// RENAME INBOX) may have happened: its files are picked up. A removal whose log line
    /// was written leaves no parked file behind either.
    #[test]
    fn a_request_cut_short_loses_nothing_when_the_store_opens_again() {
        use imapwire_codec::response::Status;
        let boxes: [&[u8]; 4] = [b"INBOX", b"Sent", b"a", b"a/b"];
        let state = |st: &MaildirStore| boxes.map(|m| uids(st, m));
        let dir = fresh("cut-short");
        let mut cut_short = 0;
        for (what, _, run) in journal_cases() {
            let _ = fs::remove_dir_all(&dir);
            let (mut st, sid) = journal_setup(&dir);
            let before = state(&st);
            let data = all_data(&dir);
            st.fail_log = Some(0);
            st.before_undo = Some(|_| panic!("the process ends here"));
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&mut st, sid)));
            drop(st);
            if let Ok(r) = r {
                // It wrote no log line: nothing cut short.
                assert_eq!(r.status, Status::Ok, "{what}: {r:?}");
                continue;
            }
            cut_short += 1;
            let st = MaildirStore::open(&dir).unwrap();
            let after = all_data(&dir);
            for d in &data {
                assert!(after.contains(d), "{what}: {d:?} lost");
            }
            if ["STORE", "EXPUNGE", "UID EXPUNGE", "CLOSE"]
                .iter()
                .any(|w| what.starts_with(w))
            {
                assert_eq!(state(&st), before, "{what}: happened");
                assert_eq!(after, data, "{what}");
            }
            let left: Vec<_> = disk(&dir)
                .into_iter()
                .filter(|f| f.0.contains("tmp/") && f.0.contains(".imapwire"))
                .collect();
            assert!(left.is_empty(), "{what}: {left:?}");
        }
        assert!(cut_short >= 10, "{cut_short}");
        // An EXPUNGE whose log line was written, cut short before its parked file was
        // deleted; another tool's file in `tmp/` stays.
        let _ = fs::remove_dir_all(&dir);
        let (mut st, sid) = journal_setup(&dir);
        let name = st.file_name(b"INBOX", 3).unwrap();
        let r = st.handle(sid, Request::Expunge { uids: None });
        assert_eq!(r.status, Status::Ok, "{r:?}");
        let want = state(&st);
        drop(st);
        fs::write(dir.join("tmp").join(&name), b"second").unwrap();
        fs::write(
            dir.join("tmp").join("1.M2P3.other-tool"),
            b"being delivered",
        )
        .unwrap();
        fs::write(dir.join("tmp").join("1.M2P3Q4.imapwire"), b"half an APPEND").unwrap();
        let st = MaildirStore::open(&dir).unwrap();
        assert_eq!(state(&st), want);
        assert!(!dir.join("tmp").join(&name).exists());
        assert!(!dir.join("tmp").join("1.M2P3Q4.imapwire").exists());
        assert!(dir.join("tmp").join("1.M2P3.other-tool").exists());
        let _ = fs::remove_dir_all(&dir);
    }

    /// The data of every message file in every mailbox's `cur/` under `root`, sorted.
    fn all_data(root: &Path) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        for d in fs::read_dir(root).unwrap() {
            let cur = d.unwrap().path().join("cur");
            if let Ok(files) = fs::read_dir(&cur) {
                v.extend(files.map(|f| fs::read(f.unwrap().path()).unwrap()));
            }
        }
        if let Ok(files) = fs::read_dir(root.join("cur")) {
            v.extend(files.map(|f| fs::read(f.unwrap().path()).unwrap()));
        }
        v.sort();
        v
    }

    /// `st`'s `Sent` holds `inbox`'s messages (flags and data).
    fn check_reopened(st: &MaildirStore, inbox: &[(u32, Vec<Flag>, Bytes)]) {
        let moved = uids(st, b"Sent");
        assert_eq!(
            moved.iter().map(|m| (&m.1, &m.2)).collect::<Vec<_>>(),
            inbox.iter().map(|m| (&m.1, &m.2)).collect::<Vec<_>>()
        );
    }

    /// RENAME INBOX (RFC 9051 §6.3.6): its messages move to the new mailbox (with their
    /// flags, dates and contents; new UIDs there) and INBOX stays, empty, its UIDs not
    /// given again; so after reopening. The messages' files are moved (the same inodes),
    /// not read into memory and written again (one of them is larger than
    /// [`STREAM_OVER`]).
    #[test]
    fn rename_inbox_moves_its_messages_and_leaves_it_empty() {
        use imapwire_codec::response::Status;
        let dir = fresh("rename-inbox");
        let (mut st, sid) = journal_setup(&dir);
        let big = vec![b'x'; STREAM_OVER as usize + 1000];
        let r = st.append_messages(&Mailbox::Inbox, vec![(Bytes::from(big), vec![], 7)]);
        assert_eq!(r.status, Status::Ok);
        let inbox = uids(&st, b"INBOX");
        assert_eq!(inbox.len(), 7);
        let files = inodes(&dir);
        let dates: Vec<i64> = st
            .memory()
            .stored(b"INBOX")
            .iter()
            .map(|m| m.internal_date)
            .collect();
        let r = st.handle(sid, Request::Command(cmd("RENAME INBOX Old")));
        assert_eq!(r.status, Status::Ok, "{r:?}");
        // Each removal from INBOX finds its file moved already (no rename that must fail).
        assert_eq!(st.removed_missing, 0);
        let check = |st: &MaildirStore| {
            assert!(uids(st, b"INBOX").is_empty());
            let old = uids(st, b"Old");
            assert_eq!(
                old.iter().map(|m| (&m.1, &m.2)).collect::<Vec<_>>(),
                inbox.iter().map(|m| (&m.1, &m.2)).collect::<Vec<_>>()
            );
            assert_eq!(
                old.iter().map(|m| m.0).collect::<Vec<_>>(),
                [1, 2, 3, 4, 5, 6, 7]
            );
            let d: Vec<i64> = st
                .memory()
                .stored(b"Old")
                .iter()
                .map(|m| m.internal_date)
                .collect();
            assert_eq!(d, dates);
            assert_eq!(
                fs::read_dir(dir.join("cur")).unwrap().count(),
                0,
                "INBOX's files"
            );
            assert_eq!(inodes(&dir.join(".Old")), files, "moved, not written again");
        };
        check(&st);
        drop(st);
        let mut st = MaildirStore::open(&dir).unwrap();
        check(&st);
        let sid = st.open_session();
        let r = st.handle(sid, Request::Command(cmd("APPEND INBOX {3}\r\nnew")));
        assert_eq!(r.status, Status::Ok);
        let new = uids(&st, b"INBOX");
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].0, 9, "INBOX's UIDs are not given again");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn survives_reopen_and_picks_up_foreign_files() {
        let dir = std::env::temp_dir().join(format!("imapwire-maildir-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let sent = Mailbox::new(Bytes::from_static(b"Sent")).unwrap();
        let (before, validity) = {
            let mut st = MaildirStore::open(&dir).unwrap();
            assert!(
                st.create_special(&sent, Some(MailboxAttribute::Sent))
                    .unwrap()
            );
            let sid = st.open_session();
            let r = st.handle(
                sid,
                Request::Command(cmd("APPEND INBOX (\\Seen $Work) {5}\r\nhello")),
            );
            assert_eq!(r.status, imapwire_codec::response::Status::Ok, "{r:?}");
            let r = st.handle(sid, Request::Command(cmd("APPEND INBOX {3}\r\nbye")));
            assert_eq!(r.status, imapwire_codec::response::Status::Ok);
            let r = st.handle(sid, Request::Command(cmd("CREATE a/b.c")));
            assert_eq!(r.status, imapwire_codec::response::Status::Ok);
            let r = st.handle(sid, Request::Command(cmd("RENAME a/b.c d")));
            assert_eq!(r.status, imapwire_codec::response::Status::Ok);
            let r = select_inbox(&mut st, sid, false);
            let validity = match &r.data[0] {
                super::super::event::ReplyData::Selected(s) => s.uid_validity,
                other => panic!("{other:?}"),
            };
            let r = st.handle(
                sid,
                Request::Store {
                    uids: vec![2],
                    kind: imapwire_codec::command::StoreType::Add,
                    silent: true,
                    data: imapwire_codec::command::StoreData::Flags(
                        vec![Flag::Deleted, Flag::Flagged].into(),
                    ),
                    modifiers: vec![],
                },
            );
            assert_eq!(r.status, imapwire_codec::response::Status::Ok);
            // A third message, expunged: UIDNEXT must stay above it after reopening.
            let _ = st.handle(
                sid,
                Request::Command(cmd("APPEND INBOX (\\Deleted) {1}\r\nx")),
            );
            let r = st.handle(
                sid,
                Request::Expunge {
                    uids: Some(vec![3]),
                },
            );
            assert_eq!(r.data.len(), 1);
            (uids(&st, b"INBOX"), validity)
        };
        // Flags are in the file names (other Maildir tools read them).
        let names: Vec<String> = fs::read_dir(dir.join("cur"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2);
        assert!(names.iter().any(|n| n.ends_with(":2,S")), "{names:?}");
        assert!(names.iter().any(|n| n.ends_with(":2,FT")), "{names:?}");
        // Another tool delivers a message.
        fs::write(
            dir.join("new").join("123.foreign"),
            b"Subject: x\r\n\r\nbody",
        )
        .unwrap();

        let mut st = MaildirStore::open(&dir).unwrap();
        let after = uids(&st, b"INBOX");
        assert_eq!(after[..2], before[..]);
        assert_eq!(after.len(), 3);
        assert_eq!(after[2].0, 4, "UIDs are never reused");
        assert_eq!(&after[2].2[..], b"Subject: x\r\n\r\nbody");
        assert!(after[0].1.contains(&Flag::Keyword(
            Atom::new(Bytes::from_static(b"$Work")).unwrap()
        )));
        let boxes: Vec<&[u8]> = st.memory().mailboxes().collect();
        assert_eq!(boxes, vec![&b"INBOX"[..], b"Sent", b"d"]);
        let sid = st.open_session();
        let r = select_inbox(&mut st, sid, true);
        match &r.data[0] {
            super::super::event::ReplyData::Selected(s) => {
                assert_eq!(s.uid_validity, validity);
                assert_eq!(s.uid_next, 5);
            }
            other => panic!("{other:?}"),
        }
        // Messages are read from their files (none is held after opening): SEARCH by
        // header and text, sizes, sections, COPY.
        let search = |st: &mut MaildirStore, criteria: &str| {
            let r = st.handle(
                sid,
                Request::Search {
                    criteria: match cmd(&format!("SEARCH {criteria}")) {
                        CommandBody::Search { criteria, .. } => criteria,
                        other => panic!("{other:?}"),
                    },
                    charset: None,
                    view: vec![1, 2, 4],
                },
            );
            match &r.data[..] {
                [super::super::event::ReplyData::Matches { uids, .. }] => uids.clone(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(search(&mut st, "SUBJECT x"), [4]);
        // Again, from the header the index kept.
        assert_eq!(search(&mut st, "SUBJECT x"), [4]);
        assert_eq!(search(&mut st, "HEADER Subject \"\""), [4]);
        assert_eq!(search(&mut st, "OR SUBJECT y FROM x"), Vec::<u32>::new());
        assert_eq!(search(&mut st, "TEXT hello"), [1]);
        assert_eq!(search(&mut st, "BODY body"), [4]);
        assert_eq!(search(&mut st, "LARGER 4"), [1, 4]);
        assert_eq!(search(&mut st, "SMALLER 5"), [2]);
        let r = st.handle(
            sid,
            Request::Fetch {
                uids: vec![1, 4],
                items: match cmd("FETCH 1 (RFC822.SIZE BODY.PEEK[HEADER] BODY.PEEK[])") {
                    CommandBody::Fetch { items, .. } => items,
                    other => panic!("{other:?}"),
                },
                modifiers: vec![],
                vanished: None,
            },
        );
        let text = format!("{r:?}");
        for want in [
            r#"Message { uid: 1, items: [Rfc822Size(5), BodySection { section: Some(Header(None)), origin: None, data: Some(IString("hello")) }, BodySection { section: None, origin: None, data: Some(IString("hello")) }] }"#,
            r#"Message { uid: 4, items: [Rfc822Size(18), BodySection { section: Some(Header(None)), origin: None, data: Some(IString("Subject: x\r\n\r\n")) }, BodySection { section: None, origin: None, data: Some(IString("Subject: x\r\n\r\nbody")) }] }"#,
        ] {
            assert!(text.contains(want), "{text}");
        }
        let r = st.handle(sid, Request::Command(cmd("STATUS INBOX (SIZE)")));
        assert!(format!("{r:?}").contains("Size(26)"), "{r:?}");
        // A second reopen (of a compacted log) keeps UIDs and keywords.
        let again = MaildirStore::open(&dir).unwrap();
        assert_eq!(uids(&again, b"INBOX"), after);
        drop(again);
        let r = st.handle(sid, Request::Command(cmd("LIST \"\" Sent")));
        assert!(format!("{r:?}").contains("Sent"), "{r:?}");
        assert!(format!("{r:?}").contains("Sent, Subscribed") || format!("{r:?}").contains("Sent"));
        let _ = fs::remove_dir_all(&dir);
    }
}
