//! An in-memory mailbox store answering the server's [`Request`]s (RFC 9051 §6.3–§6.4 mailbox
//! and message operations, RFC 4315 UIDPLUS codes, RFC 6851 MOVE, RFC 7162 MODSEQ), for
//! tests and examples.
//!
//! One [`MemoryStore`] serves many sessions: each [`Server`](super::Server) connection gets a
//! [`SessionId`] from [`MemoryStore::open_session`], and its requests are answered with
//! [`MemoryStore::handle`]. Changes a session makes are queued as notifications for the other
//! sessions ([`MemoryStore::take_notifications`]); the driver passes each to the session's
//! [`Server::notify`](super::Server::notify), which sends it where RFC 9051 §7.5.1 allows.
//! What a session changes itself comes back in its reply: STORE's flags, EXPUNGE's and
//! MOVE's removals, and the messages APPEND, COPY and MOVE add to its selected mailbox
//! ([`ReplyData::NewMessages`]), so no driver has to hurry a session's own notifications
//! ahead of its reply (see [the server's calling contract](super#the-sessions-own-changes)).
//!
//! Supported: SELECT/EXAMINE (with QRESYNC's VANISHED, narrowed by known UIDs and sequence
//! match data, and changed messages), LIST/LSUB (`*` and `%` patterns,
//! `\\HasChildren`/`\\HasNoChildren`, special-use roles, the SUBSCRIBED and SPECIAL-USE
//! selections, RETURN (SUBSCRIBED STATUS)), STATUS, CREATE, DELETE, RENAME,
//! SUBSCRIBE, UNSUBSCRIBE, NAMESPACE, APPEND (literal data, INTERNALDATE), FETCH of FLAGS,
//! UID, INTERNALDATE, RFC822.SIZE, MODSEQ, ENVELOPE, BODY, BODYSTRUCTURE, RFC822,
//! RFC822.HEADER, RFC822.TEXT and `BODY[section]<partial>` (read by
//! [`message`](super::message)), STORE (with UNCHANGEDSINCE), SEARCH (flags, sizes, dates,
//! header and text keys, MODSEQ, sequence and UID sets, NOT/OR/AND), COPY, MOVE, EXPUNGE,
//! UID EXPUNGE, CLOSE. Anything else is answered with `NO [CANNOT]`.
//!
//! With [`MemoryStore::record_changes`] every change is also recorded as a [`Change`] for a
//! persistence layer (see [`maildir`](super::maildir)).
//!
//! Memory: it is the in-memory store by definition. Every message is held whole in RAM,
//! APPEND data too while it arrives ([`MemoryStore::append_chunk`] keeps the chunks until
//! the [`Request::Append`]), and FETCH answers carry values whole unless
//! [`MemoryStore::stream_bodies_over`] sets a threshold (longer values are then streamed
//! from the stored message, without a copy). Use it for tests and small mailboxes; sizes
//! are bounded only by the server's APPEND limit. A persistence layer may keep messages
//! in files instead ([`StoredMessage::in_file`], [`MemoryStore::set_message_files`]: see
//! [`maildir`](super::maildir)).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bytes::Bytes;
use imapwire_codec::command::{
    AppendData, CommandBody, ListReturnOption, ListSelectOption, SelectParam, StoreData,
    StoreModifier, StoreType,
};
use imapwire_codec::core::IString;
use imapwire_codec::fetch::{FetchAttribute, FetchItems, MessageDataItem, Section};
use imapwire_codec::flag::{Flag, FlagFetch, FlagPerm, MailboxAttribute};
use imapwire_codec::mailbox::{ListMailbox, Mailbox};
use imapwire_codec::response::{Data, Delimiter, ListItem, Namespace, NamespaceData, ResponseCode};
use imapwire_codec::search::SearchKey;
use imapwire_codec::sequence::UidValidity;
use imapwire_codec::status::{StatusAttribute, StatusItem};

use super::event::{
    AppendStream, AppendedMessage, BodyStream, FetchPart, Reply, ReplyData, Request, Selected,
    StreamedItem, StreamedName, Update,
};
use super::expunged::{self, Expunged};
use super::message::{ParsedMessage, epoch_seconds, internal_date};

/// A session of a [`MemoryStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(u32);

/// A stored message (what [`Change::Added`] carries).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredMessage {
    /// The UID.
    pub uid: u32,
    /// The flags.
    pub flags: Vec<Flag>,
    /// The MODSEQ of the last change.
    pub modseq: u64,
    /// INTERNALDATE, in seconds since the Unix epoch.
    pub internal_date: i64,
    /// The message; empty when it is not held in memory (see [`size`](Self::size)).
    pub data: Bytes,
    /// The message's length. When it differs from `data`'s, the message is not held in
    /// memory: its data is read from its file when needed (see
    /// [`MemoryStore::set_message_files`]).
    pub size: u64,
}

type Message = StoredMessage;

impl StoredMessage {
    /// A message.
    pub fn new(uid: u32, flags: Vec<Flag>, modseq: u64, internal_date: i64, data: Bytes) -> Self {
        StoredMessage {
            uid,
            flags,
            modseq,
            internal_date,
            size: data.len() as u64,
            data,
        }
    }

    /// A message of `size` octets not held in memory (read from its file when needed).
    pub fn in_file(uid: u32, flags: Vec<Flag>, modseq: u64, internal_date: i64, size: u64) -> Self {
        StoredMessage {
            uid,
            flags,
            modseq,
            internal_date,
            data: Bytes::new(),
            size,
        }
    }

    /// Whether the data is held in memory.
    fn held(&self) -> bool {
        self.data.len() as u64 == self.size
    }
}

impl FolderMeta {
    /// A new mailbox's state: UIDNEXT 1, HIGHESTMODSEQ 1.
    pub fn new(uid_validity: u32, special_use: Option<MailboxAttribute>) -> Self {
        FolderMeta {
            uid_validity,
            uid_next: 1,
            highest_modseq: 1,
            special_use,
        }
    }
}

/// The state of one mailbox (what [`Change::Created`] and a restore carry).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FolderMeta {
    /// UIDVALIDITY.
    pub uid_validity: u32,
    /// UIDNEXT.
    pub uid_next: u32,
    /// HIGHESTMODSEQ.
    pub highest_modseq: u64,
    /// The special-use role (RFC 6154), e.g. [`MailboxAttribute::Sent`].
    pub special_use: Option<MailboxAttribute>,
}

#[derive(Debug, Clone)]
struct Folder {
    meta: FolderMeta,
    messages: Vec<Message>,
    /// Expunged UIDs with the MODSEQ of their removal (for QRESYNC), bounded.
    expunged: Expunged,
}

/// A change of the store's contents, for a persistence layer
/// ([`MemoryStore::take_changes`], recorded once [`MemoryStore::record_changes`] is on).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A mailbox was created (by its wire name, `INBOX` upper case).
    Created {
        /// The name.
        mailbox: Vec<u8>,
        /// Its state.
        meta: FolderMeta,
    },
    /// A mailbox was deleted with its messages.
    Deleted {
        /// The name.
        mailbox: Vec<u8>,
    },
    /// A mailbox was renamed (with its messages and state).
    Renamed {
        /// The old name.
        from: Vec<u8>,
        /// The new name.
        to: Vec<u8>,
    },
    /// A message was added.
    Added {
        /// The mailbox.
        mailbox: Vec<u8>,
        /// The message.
        message: StoredMessage,
    },
    /// A message was added to `to` by moving it out of `from` (MOVE, RFC 6851; RENAME
    /// INBOX, RFC 9051 §6.3.6: INBOX's messages move to the new mailbox): what
    /// [`Added`](Change::Added) says, plus where the message came from, so that a
    /// persistence layer can move the stored copy (a file) instead of writing the message
    /// again. Its removal from `from` follows as a [`Removed`](Change::Removed) of
    /// `from_uid`. When the store's messages are in files
    /// ([`MemoryStore::set_message_files`]) the message may not be held in memory
    /// ([`StoredMessage::size`] differs from its data's length): then moving the file is the
    /// only way to keep it. A persistence layer written before this variant
    /// existed (matching `Added` and ignoring the rest) would lose these messages: handle it
    /// at least as an `Added` to `to`.
    Moved {
        /// The mailbox it left.
        from: Vec<u8>,
        /// Its UID there.
        from_uid: u32,
        /// The mailbox it went to.
        to: Vec<u8>,
        /// The message as stored in `to` (its new UID).
        message: StoredMessage,
    },
    /// A message was added to `to` as a copy of message `from_uid` of `from` (COPY,
    /// RFC 9051 §6.4.7), which stays where it is: what [`Added`](Change::Added) says, plus
    /// where the original is, so that the persistence layer copies (or links) the stored
    /// original instead of writing the message again. Recorded only for the persistence
    /// layer of [`MaildirStore`](super::maildir::MaildirStore), which copies message files
    /// itself: the message is not read for COPY and may not be held in memory
    /// ([`StoredMessage::size`] differs from its data's length). Other stores record a
    /// COPY as [`Added`](Change::Added), with the data.
    Copied {
        /// The mailbox of the original.
        from: Vec<u8>,
        /// The original's UID there.
        from_uid: u32,
        /// The mailbox of the copy.
        to: Vec<u8>,
        /// The copy as stored in `to` (its new UID).
        message: StoredMessage,
    },
    /// A message's flags changed.
    Flags {
        /// The mailbox.
        mailbox: Vec<u8>,
        /// The UID.
        uid: u32,
        /// The new flags.
        flags: Vec<Flag>,
        /// The new MODSEQ.
        modseq: u64,
    },
    /// A message was expunged.
    Removed {
        /// The mailbox.
        mailbox: Vec<u8>,
        /// The UID.
        uid: u32,
        /// The MODSEQ of the removal.
        modseq: u64,
    },
    /// A subscription was added (`true`) or removed.
    Subscribed {
        /// The mailbox.
        mailbox: Vec<u8>,
        /// Subscribed.
        on: bool,
    },
}

impl Folder {
    fn new(uid_validity: u32) -> Self {
        Folder {
            meta: FolderMeta {
                uid_validity,
                uid_next: 1,
                highest_modseq: 1,
                special_use: None,
            },
            messages: Vec::new(),
            expunged: Expunged::default(),
        }
    }

    fn index(&self, uid: u32) -> Option<usize> {
        self.messages.binary_search_by_key(&uid, |m| m.uid).ok()
    }

    /// The positions of the messages `uids` names, each once, ascending (found by binary
    /// search, so that a few messages of a large mailbox cost no visit of every message;
    /// a UID named twice or out of order counts once).
    fn positions(&self, uids: &[u32]) -> Vec<usize> {
        let mut at: Vec<usize> = uids.iter().filter_map(|&u| self.index(u)).collect();
        if !at.is_sorted() {
            at.sort_unstable();
        }
        at.dedup();
        at
    }

    fn add(&mut self, data: Bytes, size: u64, flags: Vec<Flag>, internal_date: i64) -> u32 {
        let uid = self.meta.uid_next;
        self.meta.uid_next += 1;
        self.meta.highest_modseq += 1;
        self.messages.push(Message {
            uid,
            flags,
            modseq: self.meta.highest_modseq,
            internal_date,
            data,
            size,
        });
        uid
    }
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// An APPEND message's internal date: the one the client gave, else now.
pub(super) fn date_or_now(date: Option<&imapwire_codec::datetime::DateTime>) -> i64 {
    date.map_or_else(now_seconds, epoch_seconds)
}

/// Mailboxes, messages and subscriptions in memory, shared by sessions.
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// By the mailbox's wire name (`INBOX` upper case).
    folders: BTreeMap<Vec<u8>, Folder>,
    subscribed: BTreeSet<Vec<u8>>,
    next_validity: u32,
    next_session: u32,
    selected: HashMap<SessionId, (Vec<u8>, bool)>,
    notifications: Vec<(Option<SessionId>, Mailbox, Update)>,
    /// `Some` once changes are recorded for a persistence layer.
    changes: Option<Vec<Change>>,
    /// `Some` while a request's changes are recorded to be taken back
    /// ([`begin`](MemoryStore::begin)).
    journal: Option<Journal>,
    /// APPEND data received so far, by session and stream.
    staged: HashMap<(SessionId, AppendStream), Vec<u8>>,
    /// How many runs of expunged UIDs a mailbox keeps (`None`: the default).
    expunged_limit: Option<usize>,
    /// FETCH values longer than this are streamed ([`MemoryStore::stream_bodies_over`]).
    stream_over: Option<u64>,
    /// The rest of each streamed FETCH value, by session and stream.
    bodies: HashMap<(SessionId, BodyStream), BodyData>,
    next_body: u64,
    /// Opens the file of a message not held in memory.
    files: Option<MessageFiles>,
    /// Headers of messages not held in memory, read by SEARCH.
    headers: HeaderCache,
    /// COPY, MOVE and RENAME INBOX leave the data of messages not held in memory unread:
    /// the persistence layer copies or moves their files, told by each [`Change::Copied`]
    /// and [`Change::Moved`] (set by [`MaildirStore`](super::maildir::MaildirStore)). Off,
    /// they are read and the new mailbox holds them.
    pub(crate) persists_files: bool,
}

/// The changes of one request to the in-memory state, newest last, with what
/// [`MemoryStore::rollback`] needs to take each back: its cost is that of what the request
/// changed, not of the mailboxes it touched ([`MemoryStore::begin`]).
#[derive(Debug)]
struct Journal {
    steps: Vec<Undo>,
    /// The mailboxes whose [`Undo::Meta`] is in `steps` (one each: the first is restored
    /// last, after everything since).
    metas: Vec<Vec<u8>>,
    next_validity: u32,
    notifications: usize,
    next_body: u64,
}

/// One step of a [`Journal`]: the state it changed, as it was.
#[derive(Debug)]
enum Undo {
    /// A mailbox's UIDNEXT, HIGHESTMODSEQ and role before the request changed them.
    Meta { mailbox: Vec<u8>, meta: FolderMeta },
    /// Messages' flags and MODSEQs before a change, by UID.
    Flags {
        mailbox: Vec<u8>,
        old: Vec<(u32, Vec<Flag>, u64)>,
    },
    /// `count` messages added at the end of a mailbox.
    Added { mailbox: Vec<u8>, count: usize },
    /// Messages removed, with their positions before the removal (ascending).
    Removed {
        mailbox: Vec<u8>,
        messages: Vec<(usize, Message)>,
    },
    /// Removals noted for QRESYNC, oldest first.
    Expunged {
        mailbox: Vec<u8>,
        pushes: Vec<expunged::Pushed>,
    },
    /// A mailbox created.
    Created { mailbox: Vec<u8> },
    /// A mailbox deleted, with what it held.
    Deleted { mailbox: Vec<u8>, folder: Folder },
    /// A mailbox renamed (onto a free name: RENAME refuses an existing one).
    Renamed { from: Vec<u8>, to: Vec<u8> },
    /// A subscription changed; `was`, whether the mailbox was subscribed before.
    Subscribed { mailbox: Vec<u8>, was: bool },
    /// A session's selection before the request changed it.
    Selected {
        sid: SessionId,
        was: Option<(Vec<u8>, bool)>,
    },
}

impl Journal {
    /// Notes `meta` as mailbox `k`'s state before the request, unless noted already.
    fn meta(&mut self, k: &[u8], meta: &FolderMeta) {
        if self.metas.iter().any(|m| m == k) {
            return;
        }
        self.metas.push(k.to_vec());
        self.steps.push(Undo::Meta {
            mailbox: k.to_vec(),
            meta: meta.clone(),
        });
    }

    /// Notes a message added at the end of mailbox `k`.
    fn added(&mut self, k: &[u8]) {
        if let Some(Undo::Added { mailbox, count }) = self.steps.last_mut() {
            if mailbox == k {
                *count += 1;
                return;
            }
        }
        self.steps.push(Undo::Added {
            mailbox: k.to_vec(),
            count: 1,
        });
    }
}

/// The headers SEARCH read from message files, by (UIDVALIDITY, UID), at most
/// [`HEADER_CACHE_BYTES`] octets in all (emptied when full). A message's file never changes
/// and a UID is never reused under one UIDVALIDITY, so an entry never goes stale; an
/// expunged message's lingers until the cache is emptied.
#[derive(Debug, Default)]
struct HeaderCache {
    map: HashMap<(u32, u32), Bytes>,
    bytes: usize,
}

/// The size bound of a store's [`HeaderCache`].
const HEADER_CACHE_BYTES: usize = 8 * 1024 * 1024;

impl HeaderCache {
    /// The header of message `m` of mailbox `k` (UIDVALIDITY `validity`): from the cache,
    /// else read with [`load_header`] and kept.
    fn get(&mut self, files: Option<&MessageFiles>, k: &[u8], validity: u32, m: &Message) -> Bytes {
        if let Some(h) = self.map.get(&(validity, m.uid)) {
            return h.clone();
        }
        let read = load_header(files, k, m);
        let (h, _) = super::message::split_header_of(&read);
        let h = Bytes::copy_from_slice(h);
        if self.bytes + h.len() > HEADER_CACHE_BYTES {
            self.map.clear();
            self.bytes = 0;
        }
        self.bytes += h.len();
        self.map.insert((validity, m.uid), h.clone());
        h
    }
}

/// Opens the file of message `uid` of mailbox `mailbox` (wire name), for
/// [`MemoryStore::set_message_files`].
pub type OpenMessage = dyn Fn(&[u8], u32) -> std::io::Result<std::fs::File> + Send;

struct MessageFiles(Box<OpenMessage>);

impl std::fmt::Debug for MessageFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MessageFiles")
    }
}

/// The rest of a streamed FETCH value.
#[derive(Debug)]
enum BodyData {
    Held(Bytes),
    /// `left` octets of an open file, from its current position.
    File {
        file: std::fs::File,
        left: u64,
    },
}

/// Bumps the HIGHESTMODSEQ of `f` (mailbox `k`) and notes `uids`, just removed, as expunged
/// at the new mod-sequence (what VANISHED answers, RFC 7162 §3.2.10); with a journal, its
/// meta step (the first for `k`) and the undo step of the expunged record. Returns the new
/// mod-sequence.
fn expunged_at_new_modseq(
    f: &mut Folder,
    k: &[u8],
    uids: &[u32],
    limit: usize,
    journal: Option<&mut Journal>,
) -> u64 {
    let modseq = f.meta.highest_modseq + 1;
    match journal {
        Some(j) => {
            j.meta(k, &f.meta);
            let pushes: Vec<_> = uids
                .iter()
                .map(|&u| f.expunged.push_run_undoable(u, u, modseq, limit))
                .collect();
            j.steps.push(Undo::Expunged {
                mailbox: k.to_vec(),
                pushes,
            });
        }
        None => {
            for &u in uids {
                f.expunged.push(u, modseq, limit);
            }
        }
    }
    f.meta.highest_modseq = modseq;
    modseq
}

/// Takes the messages at positions `at` (ascending, distinct) out of `messages`, moved
/// (never cloned: an empty message is left in the place of each until the pass drops it),
/// with their positions, in one pass that compares each position with the next one taken.
fn take_out(messages: &mut Vec<Message>, at: &[usize]) -> Vec<(usize, Message)> {
    let mut out = Vec::with_capacity(at.len());
    let mut next = at.iter().copied().peekable();
    let mut i = 0;
    messages.retain_mut(|m| {
        let hit = next.next_if_eq(&i).is_some();
        if hit {
            out.push((
                i,
                std::mem::replace(m, Message::new(0, Vec::new(), 0, 0, Bytes::new())),
            ));
        }
        i += 1;
        !hit
    });
    out
}

/// The data of `m` of mailbox `k`: held, or read from its file (empty when it cannot be
/// read).
fn load(files: Option<&MessageFiles>, k: &[u8], m: &Message) -> Bytes {
    try_load(files, k, m).unwrap_or_default()
}

/// The data of `m` of mailbox `k`: held, or read from its file; `None` when it is in a file
/// that cannot be read whole (missing, shorter than its index entry, no opener). COPY and
/// MOVE (unless the persistence layer copies or moves the files: `persists_files`) and
/// FETCH use this, so that they never store or answer an empty message in its place.
fn try_load(files: Option<&MessageFiles>, k: &[u8], m: &Message) -> Option<Bytes> {
    if m.held() {
        return Some(m.data.clone());
    }
    let files = files?;
    // One read of the known size.
    let size = usize::try_from(m.size).ok()?;
    let mut v = vec![0u8; size];
    let read = (files.0)(k, m.uid).and_then(|mut f| {
        use std::io::Read;
        f.read_exact(&mut v)
    });
    read.ok().map(|()| Bytes::from(v))
}

/// The header of message `m` of mailbox `k` (with the blank line after it, or the whole
/// message when it has none): for messages not held in memory only the file's first pieces
/// are read (SEARCH's header keys).
fn load_header(files: Option<&MessageFiles>, k: &[u8], m: &Message) -> Bytes {
    if m.held() {
        return m.data.clone();
    }
    let Some(files) = files else {
        return Bytes::new();
    };
    let Ok(f) = (files.0)(k, m.uid) else {
        return Bytes::new();
    };
    use std::io::Read;
    let mut f = f.take(m.size);
    let mut v: Vec<u8> = Vec::new();
    loop {
        let from = v.len().saturating_sub(2);
        let at = v.len();
        v.resize(at + 4096, 0);
        let n = match f.read(&mut v[at..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => 0,
            Err(_) => {
                v.truncate(at);
                return Bytes::from(v);
            }
        };
        v.truncate(at + n);
        let ended = v.starts_with(b"\r\n")
            || v.starts_with(b"\n")
            || memchr::memmem::find(&v[from..], b"\n\r\n").is_some()
            || memchr::memmem::find(&v[from..], b"\n\n").is_some();
        if n == 0 || ended {
            return Bytes::from(v);
        }
    }
}

const DELIM: u8 = b'/';

pub(crate) fn key(m: &Mailbox) -> Vec<u8> {
    match m {
        Mailbox::Inbox => b"INBOX".to_vec(),
        other => other.as_bytes().to_vec(),
    }
}

fn mailbox_of(k: &[u8]) -> Mailbox {
    Mailbox::new(Bytes::copy_from_slice(k)).unwrap_or(Mailbox::Inbox)
}

fn cannot(what: &str) -> Reply {
    Reply::no(Some(ResponseCode::Cannot), what)
}

fn nonexistent() -> Reply {
    Reply::no(Some(ResponseCode::NonExistent), "no such mailbox")
}

/// `*` matches anything, `%` anything but the delimiter.
fn glob(pat: &[u8], name: &[u8]) -> bool {
    match pat.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| glob(rest, &name[i..])),
        Some((b'%', rest)) => (0..=name.len())
            .take_while(|&i| i == 0 || name[i - 1] != DELIM)
            .any(|i| glob(rest, &name[i..])),
        Some((c, rest)) => name
            .split_first()
            .is_some_and(|(n, nr)| n.eq_ignore_ascii_case(c) && glob(rest, nr)),
    }
}

impl MemoryStore {
    /// A store with an empty `INBOX`.
    pub fn new() -> Self {
        let mut s = MemoryStore {
            next_validity: 1,
            ..MemoryStore::default()
        };
        s.create(&Mailbox::Inbox);
        s
    }

    /// Records every change from now on for [`take_changes`](Self::take_changes) (a
    /// persistence layer writes them out).
    pub fn record_changes(&mut self) {
        self.changes.get_or_insert_with(Vec::new);
    }

    /// The changes recorded since the last call, oldest first.
    pub fn take_changes(&mut self) -> Vec<Change> {
        self.changes
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Records from now on what a request changes so that a persistence layer whose write
    /// failed can take it back ([`rollback`](Self::rollback)), until
    /// [`keep`](Self::keep): each change notes the state it replaced (a message's flags,
    /// a removed message, a deleted mailbox, ...), so that the cost is that of what the
    /// request changed, not of the mailboxes it touched.
    pub(crate) fn begin(&mut self) {
        self.journal = Some(Journal {
            steps: Vec::new(),
            metas: Vec::new(),
            next_validity: self.next_validity,
            notifications: self.notifications.len(),
            next_body: self.next_body,
        });
    }

    /// The whole in-memory state (mailboxes with their messages, removals and state,
    /// subscriptions, selections, the next UIDVALIDITY), for tests that compare it.
    #[cfg(test)]
    pub(super) fn dump(&self) -> String {
        let mut selected: Vec<_> = self.selected.iter().collect();
        selected.sort();
        format!(
            "{:#?}\n{:?}\n{:?}\n{}",
            self.folders, self.subscribed, selected, self.next_validity
        )
    }

    /// Keeps the changes since [`begin`](Self::begin) (they were written).
    pub(crate) fn keep(&mut self) {
        self.journal = None;
    }

    /// Puts back the state of [`begin`](Self::begin): the request since is undone as if it
    /// had not run (its notifications to other sessions dropped, the FETCH streams it
    /// opened released, its recorded changes discarded).
    pub(crate) fn rollback(&mut self) {
        let Some(j) = self.journal.take() else {
            return;
        };
        for step in j.steps.into_iter().rev() {
            self.undo(step);
        }
        self.next_validity = j.next_validity;
        self.notifications.truncate(j.notifications);
        self.bodies.retain(|(_, s), _| s.0 < j.next_body);
        if let Some(c) = self.changes.as_mut() {
            c.clear();
        }
    }

    /// Takes back one step of a [`Journal`] (the steps after it taken back already).
    fn undo(&mut self, step: Undo) {
        match step {
            Undo::Meta { mailbox, meta } => {
                if let Some(f) = self.folders.get_mut(&mailbox) {
                    f.meta = meta;
                }
            }
            Undo::Flags { mailbox, old } => {
                let Some(f) = self.folders.get_mut(&mailbox) else {
                    return;
                };
                for (uid, flags, modseq) in old.into_iter().rev() {
                    if let Some(i) = f.index(uid) {
                        f.messages[i].flags = flags;
                        f.messages[i].modseq = modseq;
                    }
                }
            }
            Undo::Added { mailbox, count } => {
                if let Some(f) = self.folders.get_mut(&mailbox) {
                    let keep = f.messages.len().saturating_sub(count);
                    f.messages.truncate(keep);
                }
            }
            Undo::Removed { mailbox, messages } => {
                let Some(f) = self.folders.get_mut(&mailbox) else {
                    return;
                };
                // One merge: the kept messages in order, each removed one at its place.
                let kept = std::mem::take(&mut f.messages);
                let mut all = Vec::with_capacity(kept.len() + messages.len());
                let mut kept = kept.into_iter();
                for (at, m) in messages {
                    while all.len() < at {
                        let Some(k) = kept.next() else { break };
                        all.push(k);
                    }
                    all.push(m);
                }
                all.extend(kept);
                f.messages = all;
            }
            Undo::Expunged { mailbox, pushes } => {
                if let Some(f) = self.folders.get_mut(&mailbox) {
                    for p in pushes.into_iter().rev() {
                        f.expunged.unpush(p);
                    }
                }
            }
            Undo::Created { mailbox } => {
                self.folders.remove(&mailbox);
            }
            Undo::Deleted { mailbox, folder } => {
                self.folders.insert(mailbox, folder);
            }
            Undo::Renamed { from, to } => {
                if let Some(f) = self.folders.remove(&to) {
                    self.folders.insert(from, f);
                }
            }
            Undo::Subscribed { mailbox, was } => {
                if was {
                    self.subscribed.insert(mailbox);
                } else {
                    self.subscribed.remove(&mailbox);
                }
            }
            Undo::Selected { sid, was } => match was {
                Some(s) => {
                    self.selected.insert(sid, s);
                }
                None => {
                    self.selected.remove(&sid);
                }
            },
        }
    }

    /// Keeps UIDs up to `uid` unused in `mailbox` (a rolled-back message whose UID a
    /// persistence layer already wrote down).
    pub(crate) fn burn_uid(&mut self, mailbox: &[u8], uid: u32) {
        if let Some(f) = self.folders.get_mut(mailbox) {
            f.meta.uid_next = f.meta.uid_next.max(uid.saturating_add(1));
        }
    }

    /// The flags and MODSEQ of message `uid` of `mailbox`.
    pub(crate) fn flags_of(&self, mailbox: &[u8], uid: u32) -> Option<(Vec<Flag>, u64)> {
        let f = self.folders.get(mailbox)?;
        let i = f.messages.binary_search_by_key(&uid, |m| m.uid).ok()?;
        Some((f.messages[i].flags.clone(), f.messages[i].modseq))
    }

    fn record(&mut self, c: impl FnOnce() -> Change) {
        if let Some(v) = self.changes.as_mut() {
            v.push(c());
        }
    }

    /// Adds a mailbox in the given state (restoring a store); replaces one of that name.
    pub fn restore_mailbox(&mut self, name: &[u8], meta: FolderMeta, subscribed: bool) {
        self.next_validity = self.next_validity.max(meta.uid_validity.saturating_add(1));
        let name = if name.eq_ignore_ascii_case(b"INBOX") {
            b"INBOX".to_vec()
        } else {
            name.to_vec()
        };
        if subscribed {
            self.subscribed.insert(name.clone());
        }
        self.folders.insert(
            name,
            Folder {
                meta,
                messages: Vec::new(),
                expunged: Expunged::default(),
            },
        );
    }

    /// Adds a message to a restored mailbox (ascending UIDs; UIDNEXT and HIGHESTMODSEQ are
    /// raised to fit). Returns `false` when the mailbox does not exist or the UID is not
    /// above the last one.
    pub fn restore_message(&mut self, mailbox: &[u8], message: StoredMessage) -> bool {
        let Some(f) = self.folders.get_mut(mailbox) else {
            return false;
        };
        if f.messages.last().is_some_and(|m| m.uid >= message.uid) || message.uid == 0 {
            return false;
        }
        f.meta.uid_next = f.meta.uid_next.max(message.uid.saturating_add(1));
        f.meta.highest_modseq = f.meta.highest_modseq.max(message.modseq);
        f.messages.push(message);
        true
    }

    /// Notes an expunged UID of a restored mailbox (for QRESYNC); call in the order of
    /// removal.
    pub fn restore_vanished(&mut self, mailbox: &[u8], uid: u32, modseq: u64) {
        let limit = self.expunged_limit();
        if let Some(f) = self.folders.get_mut(mailbox) {
            f.meta.highest_modseq = f.meta.highest_modseq.max(modseq);
            f.expunged.push(uid, modseq, limit);
        }
    }

    /// Notes that a restored mailbox no longer knows which UIDs were expunged at or below
    /// mod-sequence `modseq` (its older records were dropped): QRESYNC answers about changes
    /// since an older mod-sequence then report every UID below UIDNEXT that is not in the
    /// mailbox (RFC 7162 §3.2.6, §5.3).
    pub fn restore_forgotten(&mut self, mailbox: &[u8], modseq: u64) {
        if let Some(f) = self.folders.get_mut(mailbox) {
            f.expunged.forget_through(modseq);
        }
    }

    /// Bounds what each mailbox remembers of its expunged messages for QRESYNC to `runs`
    /// runs of UIDs expunged together (at least one; default 4096, 16 octets each). Older
    /// runs are dropped, keeping only their highest mod-sequence (RFC 7162 §5.3): a client
    /// resynchronizing from before it gets every UID it names that is not in the mailbox.
    pub fn set_expunged_limit(&mut self, runs: usize) {
        self.expunged_limit = Some(runs.max(1));
    }

    pub(super) fn expunged_limit(&self) -> usize {
        self.expunged_limit.unwrap_or(expunged::DEFAULT_LIMIT)
    }

    /// What mailbox `mailbox` remembers of its expunged messages (for a persistence layer).
    pub(super) fn expunged(&self, mailbox: &[u8]) -> Option<&Expunged> {
        self.folders.get(mailbox).map(|f| &f.expunged)
    }

    /// Sets what a restored mailbox remembers of its expunged messages.
    pub(super) fn restore_expunged(&mut self, mailbox: &[u8], e: Expunged) {
        if let Some(f) = self.folders.get_mut(mailbox) {
            let top = e.runs().map(|r| r.2).max().unwrap_or(0).max(e.floor());
            f.meta.highest_modseq = f.meta.highest_modseq.max(top);
            f.expunged = e;
        }
    }

    /// Creates a mailbox with a special-use role (RFC 6154) unless one of that name exists;
    /// returns whether it was created.
    pub fn create_special(&mut self, mailbox: &Mailbox, role: Option<MailboxAttribute>) -> bool {
        let k = key(mailbox);
        if self.folders.contains_key(&k) {
            return false;
        }
        let mut f = Folder::new(self.next_validity);
        self.next_validity += 1;
        f.meta.special_use = role;
        let meta = f.meta.clone();
        self.folders.insert(k.clone(), f);
        let was = !self.subscribed.insert(k.clone());
        if let Some(j) = self.journal.as_mut() {
            j.steps.push(Undo::Created { mailbox: k.clone() });
            j.steps.push(Undo::Subscribed {
                mailbox: k.clone(),
                was,
            });
        }
        self.record(|| Change::Created {
            mailbox: k.clone(),
            meta,
        });
        self.record(|| Change::Subscribed {
            mailbox: k,
            on: true,
        });
        true
    }

    fn create(&mut self, m: &Mailbox) -> bool {
        let k = key(m);
        if self.folders.contains_key(&k) {
            return false;
        }
        let f = Folder::new(self.next_validity);
        self.next_validity += 1;
        let meta = f.meta.clone();
        self.folders.insert(k.clone(), f);
        if let Some(j) = self.journal.as_mut() {
            j.steps.push(Undo::Created { mailbox: k.clone() });
        }
        self.record(|| Change::Created { mailbox: k, meta });
        true
    }

    /// The mailboxes' wire names.
    pub fn mailboxes(&self) -> impl Iterator<Item = &[u8]> {
        self.folders.keys().map(Vec::as_slice)
    }

    /// The messages of a mailbox as `(uid, flags, data)`, ascending by UID (messages not held
    /// in memory are read from their files).
    pub fn messages(&self, mailbox: &[u8]) -> Vec<(u32, Vec<Flag>, Bytes)> {
        self.folders
            .get(mailbox)
            .map(|f| {
                f.messages
                    .iter()
                    .map(|m| {
                        let d = load(self.files.as_ref(), mailbox, m);
                        (m.uid, m.flags.clone(), d)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Messages not held in memory ([`StoredMessage::in_file`]) are read with `open`
    /// when their data is needed: FETCH of a section, ENVELOPE or BODYSTRUCTURE and SEARCH
    /// by content read the message whole for the time of the request; FETCH values of the
    /// whole message (`BODY[]`, `BODY[]<o.n>`, `RFC822`) longer than
    /// [`stream_bodies_over`](Self::stream_bodies_over)'s threshold are streamed from the
    /// file opened once at FETCH ([`body_chunk`](Self::body_chunk)), so a message that
    /// is renamed or expunged meanwhile is still sent whole.
    pub fn set_message_files(&mut self, open: Box<OpenMessage>) {
        self.files = Some(MessageFiles(open));
    }

    /// Drops the data of message `uid` of `mailbox` from memory (its file holds it: see
    /// [`set_message_files`](Self::set_message_files)).
    pub fn release(&mut self, mailbox: &[u8], uid: u32) {
        if self.files.is_none() {
            return;
        }
        if let Some(f) = self.folders.get_mut(mailbox) {
            if let Some(i) = f.index(uid) {
                f.messages[i].data = Bytes::new();
            }
        }
    }

    /// The messages of a mailbox, ascending by UID.
    pub fn stored(&self, mailbox: &[u8]) -> Vec<StoredMessage> {
        self.folders
            .get(mailbox)
            .map(|f| f.messages.clone())
            .unwrap_or_default()
    }

    /// The subscribed mailboxes' wire names.
    pub fn subscriptions(&self) -> impl Iterator<Item = &[u8]> {
        self.subscribed.iter().map(Vec::as_slice)
    }

    /// A new session.
    pub fn open_session(&mut self) -> SessionId {
        self.next_session += 1;
        SessionId(self.next_session)
    }

    /// Forgets a session (its selected mailbox, its APPEND data, its FETCH streams).
    pub fn close_session(&mut self, sid: SessionId) {
        self.selected.remove(&sid);
        self.staged.retain(|(s, _), _| *s != sid);
        self.bodies.retain(|(s, _), _| *s != sid);
    }

    /// FETCH values (`BODY[...]`, `RFC822`, `RFC822.TEXT`) longer than `threshold` octets are
    /// answered as streamed literals ([`FetchPart::Streamed`]) whose data the driver takes
    /// with [`body_chunk`](Self::body_chunk) when the session asks
    /// ([`Event::BodyWanted`](super::Event::BodyWanted)); `None` (the default) answers
    /// every value whole. The data is a slice of the stored message (no copy is made).
    pub fn stream_bodies_over(&mut self, threshold: Option<u64>) {
        self.stream_over = threshold;
    }

    /// The next at most `max` octets of streamed FETCH value `stream` of session `sid`
    /// (answer to [`Event::BodyWanted`](super::Event::BodyWanted)); empty when the stream is
    /// unknown or sent whole. The stream is forgotten once sent whole.
    pub fn body_chunk(&mut self, sid: SessionId, stream: BodyStream, max: usize) -> Bytes {
        let Some(rest) = self.bodies.get_mut(&(sid, stream)) else {
            return Bytes::new();
        };
        let (chunk, done) = match rest {
            BodyData::Held(b) => {
                let c = b.split_to(max.min(b.len()));
                (c, b.is_empty())
            }
            BodyData::File { file, left } => {
                use std::io::Read;
                let want = (*left).min(max as u64) as usize;
                let mut buf = bytes::BytesMut::zeroed(want);
                let mut got = 0;
                while got < want {
                    match file.read(&mut buf[got..]) {
                        Ok(0) => break,
                        Ok(n) => got += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                buf.truncate(got);
                *left -= got as u64;
                // A short read (the file shrank, an I/O error) ends the stream: the caller
                // gets what was read, then nothing (and fails the literal).
                (buf.freeze(), *left == 0 || got < want)
            }
        };
        if done {
            self.bodies.remove(&(sid, stream));
        }
        chunk
    }

    /// Forgets a streamed FETCH value that will not be asked for
    /// ([`Event::BodyDropped`](super::Event::BodyDropped), or after
    /// [`Server::body_failed`](super::Server::body_failed)).
    pub fn body_dropped(&mut self, sid: SessionId, stream: BodyStream) {
        self.bodies.remove(&(sid, stream));
    }

    /// Keeps a piece of an APPEND message of session `sid` (an
    /// [`Event::AppendChunk`](super::Event::AppendChunk)) until the
    /// [`Request::Append`] that names its stream.
    pub fn append_chunk(&mut self, sid: SessionId, stream: AppendStream, data: &[u8]) {
        self.staged
            .entry((sid, stream))
            .or_default()
            .extend_from_slice(data);
    }

    /// Drops the data of an APPEND message that will not be stored (an
    /// [`Event::AppendAborted`](super::Event::AppendAborted)).
    pub fn append_aborted(&mut self, sid: SessionId, stream: AppendStream) {
        self.staged.remove(&(sid, stream));
    }

    /// APPEND of the messages whose data was kept by [`append_chunk`](Self::append_chunk).
    fn append(
        &mut self,
        sid: SessionId,
        mailbox: Mailbox,
        messages: Vec<AppendedMessage>,
    ) -> Reply {
        let mut bodies = Vec::with_capacity(messages.len());
        let mut incomplete = false;
        for m in messages {
            let data = self.staged.remove(&(sid, m.stream)).unwrap_or_default();
            incomplete |= data.len() as u64 != m.length;
            let date = date_or_now(m.date.as_ref());
            bodies.push((Bytes::from(data), m.flags, date));
        }
        if incomplete {
            return Reply::no(Some(ResponseCode::ServerBug), "message data incomplete");
        }
        self.append_messages(&mailbox, bodies)
    }

    /// Delivers a message (from outside any session); returns its UID, or `None` when the
    /// mailbox does not exist. Every session is notified.
    pub fn deliver(&mut self, mailbox: &Mailbox, data: Bytes, flags: Vec<Flag>) -> Option<u32> {
        let k = key(mailbox);
        let uid = self.add_message(&k, data, flags, now_seconds())?;
        self.notifications
            .push((None, mailbox.clone(), Update::Exists { uid }));
        Some(uid)
    }

    fn add_message(&mut self, k: &[u8], data: Bytes, flags: Vec<Flag>, date: i64) -> Option<u32> {
        let size = data.len() as u64;
        self.add_sized(k, data, size, flags, date)
    }

    fn add_sized(
        &mut self,
        k: &[u8],
        data: Bytes,
        size: u64,
        flags: Vec<Flag>,
        date: i64,
    ) -> Option<u32> {
        self.insert(k, data, size, flags, date, |mailbox, message| {
            Change::Added { mailbox, message }
        })
    }

    /// Adds a message to mailbox `k` (journaled), recorded as the [`Change`] `change` makes
    /// of the mailbox and the message as stored: its UID.
    fn insert(
        &mut self,
        k: &[u8],
        data: Bytes,
        size: u64,
        flags: Vec<Flag>,
        date: i64,
        change: impl FnOnce(Vec<u8>, StoredMessage) -> Change,
    ) -> Option<u32> {
        let f = self.folders.get_mut(k)?;
        if let Some(j) = self.journal.as_mut() {
            j.meta(k, &f.meta);
            j.added(k);
        }
        let uid = f.add(data, size, flags, date);
        if self.changes.is_some() {
            // The message just added (the highest UID).
            let message = f.messages.last().cloned()?;
            self.record(|| change(k.to_vec(), message));
        }
        Some(uid)
    }

    /// Changes queued for sessions since the last call: `(origin, mailbox, update)`; deliver
    /// each to every session except `origin` (`None`: to all).
    pub fn take_notifications(&mut self) -> Vec<(Option<SessionId>, Mailbox, Update)> {
        std::mem::take(&mut self.notifications)
    }

    /// Answers a request of session `sid`.
    pub fn handle(&mut self, sid: SessionId, request: Request) -> Reply {
        match request {
            Request::Select {
                mailbox,
                read_only,
                params,
            } => self.select(sid, mailbox, read_only, &params),
            Request::Fetch {
                uids,
                items,
                modifiers,
                vanished,
            } => self.fetch(sid, &uids, &items, &modifiers, vanished.as_ref()),
            Request::Store {
                uids,
                kind,
                silent,
                data,
                modifiers,
            } => self.store(sid, &uids, kind, silent, data, &modifiers),
            Request::Search { criteria, view, .. } => {
                let Some(sel_key) = self.selected.get(&sid).map(|s| &s.0[..]) else {
                    return nonexistent();
                };
                let Some(f) = self.folders.get(sel_key) else {
                    return nonexistent();
                };
                let headers = &mut self.headers;
                let mut out = Vec::new();
                let mut modseq = 0;
                for (i, &uid) in view.iter().enumerate() {
                    let Some(ix) = f.index(uid) else { continue };
                    let m = &f.messages[ix];
                    let ctx = Ctx {
                        seq: i as u32 + 1,
                        max_seq: view.len() as u32,
                        max_uid: view.last().copied().unwrap_or(0),
                        parsed: None,
                        data: None,
                        header: None,
                        mailbox: sel_key,
                        validity: f.meta.uid_validity,
                        files: self.files.as_ref(),
                        headers: &mut *headers,
                    };
                    let mut ctx = ctx;
                    match criteria
                        .iter()
                        .try_fold(true, |acc, k| Ok::<_, ()>(acc && matches(k, m, &mut ctx)?))
                    {
                        Ok(true) => {
                            modseq = modseq.max(m.modseq);
                            out.push(uid);
                        }
                        Ok(false) => {}
                        Err(()) => return cannot("search key not supported by the memory store"),
                    }
                }
                Reply::ok(vec![ReplyData::Matches {
                    uids: out,
                    modseq: (modseq > 0).then_some(modseq),
                }])
            }
            Request::Copy {
                uids,
                mailbox,
                last_uid,
            } => {
                let r = self.copy(sid, &uids, &mailbox, false);
                self.with_new_messages(sid, &mailbox, Some(last_uid), r)
            }
            Request::Move {
                uids,
                mailbox,
                last_uid,
            } => {
                let r = self.copy(sid, &uids, &mailbox, true);
                let r = self.with_highest_modseq(sid, r);
                self.with_new_messages(sid, &mailbox, Some(last_uid), r)
            }
            Request::Expunge { uids } => {
                let gone = self.expunge(sid, uids.as_deref());
                let r = Reply::ok(gone.into_iter().map(ReplyData::Expunged).collect());
                self.with_highest_modseq(sid, r)
            }
            Request::Close => {
                if let Some((_, false)) = self.selected.get(&sid) {
                    let _ = self.expunge(sid, None);
                }
                self.journal_selected(sid);
                self.selected.remove(&sid);
                Reply::ok(vec![])
            }
            Request::Append {
                mailbox,
                messages,
                last_uid,
            } => {
                let r = self.append(sid, mailbox.clone(), messages);
                self.with_new_messages(sid, &mailbox, last_uid, r)
            }
            Request::Command(body) => self.command(sid, body),
        }
    }

    /// `r` with the selected mailbox's new HIGHESTMODSEQ as its code when it expunged
    /// messages (EXPUNGE: RFC 7162 §3.2.7; MOVE: RFC 6851 §4.4; RENAME INBOX with INBOX
    /// selected, likewise). The session sends it to CONDSTORE-aware clients only.
    fn with_highest_modseq(&self, sid: SessionId, mut r: Reply) -> Reply {
        if r.data.iter().any(|d| matches!(d, ReplyData::Expunged(_))) {
            if let Some(f) = self.selected_folder(sid) {
                r.code = Some(ResponseCode::HighestModSeq(f.meta.highest_modseq));
            }
        }
        r
    }

    /// Adds [`ReplyData::NewMessages`] to a successful reply when `target` is the mailbox
    /// session `sid` has selected: every UID of it above `last_uid`, the highest the session
    /// knows of.
    pub(super) fn with_new_messages(
        &self,
        sid: SessionId,
        target: &Mailbox,
        last_uid: Option<u32>,
        mut r: Reply,
    ) -> Reply {
        let Some(last) = last_uid else { return r };
        if r.status != imapwire_codec::response::Status::Ok {
            return r;
        }
        let Some((k, _)) = self.selected.get(&sid) else {
            return r;
        };
        if *k != key(target) {
            return r;
        }
        let Some(f) = self.folders.get(k) else {
            return r;
        };
        let from = f.messages.partition_point(|m| m.uid <= last);
        let uids: Vec<u32> = f.messages[from..].iter().map(|m| m.uid).collect();
        if !uids.is_empty() {
            r.data.push(ReplyData::NewMessages(uids));
        }
        r
    }

    fn select(
        &mut self,
        sid: SessionId,
        mailbox: Mailbox,
        read_only: bool,
        params: &[SelectParam],
    ) -> Reply {
        let k = key(&mailbox);
        self.journal_selected(sid);
        let Some(f) = self.folders.get(&k) else {
            self.selected.remove(&sid);
            return nonexistent();
        };
        let mut s = Selected::new(
            f.messages.iter().map(|m| m.uid).collect(),
            f.meta.uid_validity,
            f.meta.uid_next,
        );
        s.flags = vec![
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Seen,
            Flag::Draft,
        ];
        s.permanent_flags = s
            .flags
            .iter()
            .cloned()
            .map(FlagPerm::Flag)
            .chain([FlagPerm::Asterisk])
            .collect();
        s.highest_modseq = Some(f.meta.highest_modseq);
        s.read_only = read_only;
        for p in params {
            if let SelectParam::QResync {
                uidvalidity,
                modseq,
                known_uids,
                seq_match_data,
            } = p
            {
                if uidvalidity.get() != f.meta.uid_validity {
                    continue;
                }
                let max = f.meta.uid_next.saturating_sub(1);
                let known = |u: u32| known_uids.as_ref().is_none_or(|k| k.contains(u, max));
                // RFC 7162 §3.2.5.1: without known UIDs, 1:<UIDNEXT-1>.
                let window = match known_uids {
                    Some(k) => expunged::set_ranges(k, max),
                    None if max > 0 => vec![(1, max)],
                    None => Vec::new(),
                };
                // §3.2.5.2: pairs of message number and UID that still match prove the
                // client knows every expunge up to that UID.
                let window = match seq_match_data {
                    Some((seqs, uids)) => {
                        let present = &s.uids;
                        let lowest = expunged::seq_match_floor(seqs, uids, present);
                        expunged::intersect(&window, &[(lowest, u32::MAX)])
                    }
                    None => window,
                };
                let gone =
                    f.expunged
                        .since(*modseq, f.messages.iter().map(|m| m.uid), f.meta.uid_next);
                s.vanished = expunged::uid_set_of(&expunged::intersect(&gone, &window));
                s.changed = f
                    .messages
                    .iter()
                    .filter(|m| m.modseq > *modseq && known(m.uid))
                    .map(|m| (m.uid, m.flags.clone(), m.modseq))
                    .collect();
            }
        }
        self.selected.insert(sid, (k, read_only));
        Reply::ok(vec![ReplyData::Selected(s)])
    }

    fn selected_folder(&self, sid: SessionId) -> Option<&Folder> {
        self.folders.get(&self.selected.get(&sid)?.0)
    }

    fn fetch(
        &mut self,
        sid: SessionId,
        uids: &[u32],
        items: &FetchItems,
        modifiers: &[imapwire_codec::command::FetchModifier],
        vanished: Option<&imapwire_codec::sequence::SequenceSet>,
    ) -> Reply {
        use imapwire_codec::command::FetchModifier;
        let attrs: Vec<FetchAttribute> = match items {
            FetchItems::Attributes(a) => a.as_slice().to_vec(),
            FetchItems::Fast => vec![
                FetchAttribute::Flags,
                FetchAttribute::InternalDate,
                FetchAttribute::Rfc822Size,
            ],
            FetchItems::All => vec![
                FetchAttribute::Flags,
                FetchAttribute::InternalDate,
                FetchAttribute::Rfc822Size,
                FetchAttribute::Envelope,
            ],
            _ => vec![
                FetchAttribute::Flags,
                FetchAttribute::InternalDate,
                FetchAttribute::Rfc822Size,
                FetchAttribute::Envelope,
                FetchAttribute::Body,
            ],
        };
        let changed_since = modifiers.iter().find_map(|m| match m {
            FetchModifier::ChangedSince(n) => Some(*n),
            _ => None,
        });
        let Some((k, read_only)) = self.selected.get(&sid).cloned() else {
            return nonexistent();
        };
        let stream_over = self.stream_over;
        let Some(f) = self.folders.get_mut(&k) else {
            return nonexistent();
        };
        let needs_parse = attrs.iter().any(|a| {
            matches!(
                a,
                FetchAttribute::Envelope
                    | FetchAttribute::Body
                    | FetchAttribute::BodyStructure
                    | FetchAttribute::BodySection {
                        section: Some(_),
                        ..
                    }
                    | FetchAttribute::Rfc822Header
                    | FetchAttribute::Rfc822Text
            )
        });
        // One answer per message (and a VANISHED): no regrowing of a long list.
        let mut data = Vec::with_capacity(uids.len() + 1);
        let mut changed = Vec::new();
        // The flags before (for the journal, and to set them back when the request fails).
        let mut old = Vec::new();
        if let (Some(set), Some(since)) = (vanished, changed_since) {
            // RFC 7162 §3.2.6: the UIDs of the set expunged since `since`, before any FETCH.
            let max = f.meta.uid_next.saturating_sub(1);
            let gone = f
                .expunged
                .since(since, f.messages.iter().map(|m| m.uid), f.meta.uid_next);
            let gone = expunged::intersect(&gone, &expunged::set_ranges(set, max));
            if let Some(uids) = expunged::uid_set_of(&gone) {
                data.push(ReplyData::Data(Data::Vanished {
                    earlier: true,
                    uids,
                }));
            }
        }
        // A message that fails the request (NO) after earlier ones got `\Seen`: those are
        // set back, so that a FETCH that answered nothing marks nothing read.
        let modseq_before = f.meta.highest_modseq;
        let mut failed = None;
        'messages: for &uid in uids {
            let Some(ix) = f.index(uid) else { continue };
            if changed_since.is_some_and(|c| f.messages[ix].modseq <= c) {
                continue;
            }
            let mut out: Vec<FetchPart> = Vec::with_capacity(attrs.len() + 1);
            let mut set_seen = false;
            let m = &f.messages[ix];
            let files = self.files.as_ref();
            // A message whose file cannot be read fails the request (NO), never answers an
            // empty value.
            let parsed = match needs_parse.then(|| try_load(files, &k, m)) {
                None => None,
                Some(Some(d)) => Some(ParsedMessage::new(d)),
                Some(None) => {
                    failed = Some(unreadable());
                    break 'messages;
                }
            };
            // A value of the whole message (`start..end` of it) longer than the threshold,
            // of a message not held in memory: streamed from its file.
            let from_file = |start: u64, end: u64| {
                !m.held() && stream_over.is_some_and(|t| end.saturating_sub(start) > t)
            };
            let section = |s: Option<&Section>| {
                parsed
                    .as_ref()
                    .and_then(|p| p.section(s))
                    .unwrap_or_default()
            };
            // The whole message: the parsed one's when it was read for another item (a
            // file-held message is not read twice).
            let load_whole = || match &parsed {
                Some(p) => Some(p.data().clone()),
                None => try_load(files, &k, m),
            };
            for a in &attrs {
                match a {
                    FetchAttribute::Flags => push(&mut out, flags_item(&m.flags)),
                    FetchAttribute::Uid => {
                        if let Ok(u) = imapwire_codec::sequence::Uid::new(m.uid) {
                            push(&mut out, MessageDataItem::Uid(u));
                        }
                    }
                    FetchAttribute::Rfc822Size => {
                        push(&mut out, MessageDataItem::Rfc822Size(m.size))
                    }
                    FetchAttribute::InternalDate => push(
                        &mut out,
                        MessageDataItem::InternalDate(internal_date(m.internal_date)),
                    ),
                    FetchAttribute::ModSeq => push(&mut out, MessageDataItem::ModSeq(m.modseq)),
                    FetchAttribute::Envelope => {
                        if let Some(p) = &parsed {
                            push(&mut out, MessageDataItem::Envelope(p.envelope()));
                        }
                    }
                    FetchAttribute::Body | FetchAttribute::BodyStructure => {
                        if let Some(p) = &parsed {
                            let ext = *a == FetchAttribute::BodyStructure;
                            let b = p.body_structure(ext);
                            push(
                                &mut out,
                                if ext {
                                    MessageDataItem::BodyStructure(b)
                                } else {
                                    MessageDataItem::Body(b)
                                },
                            );
                        }
                    }
                    FetchAttribute::Rfc822 if from_file(0, m.size) => {
                        set_seen = true;
                        let name = StreamedName::Rfc822;
                        let at = (sid, k.as_slice(), m.uid, 0, m.size);
                        match streamed_file(&mut self.next_body, &mut self.bodies, files, at, name)
                        {
                            Some(p) => out.push(p),
                            None => {
                                failed = Some(unreadable());
                                break 'messages;
                            }
                        }
                    }
                    FetchAttribute::Rfc822 => {
                        set_seen = true;
                        let Some(v) = load_whole() else {
                            failed = Some(unreadable());
                            break 'messages;
                        };
                        out.push(value_part(
                            &mut self.next_body,
                            &mut self.bodies,
                            stream_over,
                            (sid, v),
                            StreamedName::Rfc822,
                        ));
                    }
                    FetchAttribute::Rfc822Header => push(
                        &mut out,
                        MessageDataItem::Rfc822Header(
                            IString::new(section(Some(&Section::Header(None)))).ok(),
                        ),
                    ),
                    FetchAttribute::Rfc822Text => {
                        set_seen = true;
                        let v = section(Some(&Section::Text(None)));
                        out.push(value_part(
                            &mut self.next_body,
                            &mut self.bodies,
                            stream_over,
                            (sid, v),
                            StreamedName::Rfc822Text,
                        ));
                    }
                    FetchAttribute::BodySection {
                        section: sec,
                        partial,
                        peek,
                    } => {
                        set_seen |= !peek;
                        if sec.is_none() {
                            let (start, end) = match partial {
                                Some(p) => {
                                    let start = p.offset.min(m.size);
                                    (start, start.saturating_add(p.length.get()).min(m.size))
                                }
                                None => (0, m.size),
                            };
                            if from_file(start, end) {
                                let origin = partial.and_then(|p| u32::try_from(p.offset).ok());
                                let name = StreamedName::BodySection {
                                    section: None,
                                    origin,
                                };
                                let at = (sid, k.as_slice(), m.uid, start, end - start);
                                let files = self.files.as_ref();
                                match streamed_file(
                                    &mut self.next_body,
                                    &mut self.bodies,
                                    files,
                                    at,
                                    name,
                                ) {
                                    Some(p) => out.push(p),
                                    None => {
                                        failed = Some(unreadable());
                                        break 'messages;
                                    }
                                }
                                continue;
                            }
                        }
                        let whole = match sec {
                            None => match load_whole() {
                                Some(v) => v,
                                None => {
                                    failed = Some(unreadable());
                                    break 'messages;
                                }
                            },
                            Some(s) => section(Some(s)),
                        };
                        let (origin, bytes) = match partial {
                            Some(p) => {
                                let start = usize::try_from(p.offset)
                                    .unwrap_or(usize::MAX)
                                    .min(whole.len());
                                let len = usize::try_from(p.length.get()).unwrap_or(usize::MAX);
                                let end = start.saturating_add(len).min(whole.len());
                                (u32::try_from(p.offset).ok(), whole.slice(start..end))
                            }
                            None => (None, whole),
                        };
                        let name = StreamedName::BodySection {
                            section: sec.clone(),
                            origin,
                        };
                        out.push(value_part(
                            &mut self.next_body,
                            &mut self.bodies,
                            stream_over,
                            (sid, bytes),
                            name,
                        ));
                    }
                    _ => {
                        failed = Some(cannot("fetch item not supported by the memory store"));
                        break 'messages;
                    }
                }
            }
            if set_seen && !read_only && !f.messages[ix].flags.contains(&Flag::Seen) {
                if let Some(j) = self.journal.as_mut() {
                    j.meta(&k, &f.meta);
                }
                let m = &f.messages[ix];
                old.push((m.uid, m.flags.clone(), m.modseq));
                f.meta.highest_modseq += 1;
                let m = &mut f.messages[ix];
                m.flags.push(Flag::Seen);
                m.modseq = f.meta.highest_modseq;
                if !attrs.contains(&FetchAttribute::Flags) {
                    push(&mut out, flags_item(&m.flags));
                }
                // The new MODSEQ too (sent once CONDSTORE is enabled, RFC 7162 §3.2.4).
                out.retain(|i| !matches!(i, FetchPart::Item(MessageDataItem::ModSeq(_))));
                push(&mut out, MessageDataItem::ModSeq(m.modseq));
                changed.push((m.uid, m.flags.clone(), m.modseq));
            }
            if !out.iter().any(|p| matches!(p, FetchPart::Streamed(_))) {
                let items = out
                    .into_iter()
                    .filter_map(|p| match p {
                        FetchPart::Item(i) => Some(i),
                        _ => None,
                    })
                    .collect();
                data.push(ReplyData::Message { uid, items });
            } else {
                data.push(ReplyData::StreamedMessage { uid, parts: out });
            }
        }
        if let Some(r) = failed {
            for (uid, flags, modseq) in old {
                if let Some(ix) = f.index(uid) {
                    let m = &mut f.messages[ix];
                    (m.flags, m.modseq) = (flags, modseq);
                }
            }
            f.meta.highest_modseq = modseq_before;
            return r;
        }
        self.journal_flags(&k, old);
        self.flags_changed(sid, &k, changed);
        Reply::ok(data)
    }

    /// Notes flags changed by the request (`(uid, flags, modseq)` before) in the journal.
    fn journal_flags(&mut self, k: &[u8], old: Vec<(u32, Vec<Flag>, u64)>) {
        if let (Some(j), false) = (self.journal.as_mut(), old.is_empty()) {
            j.steps.push(Undo::Flags {
                mailbox: k.to_vec(),
                old,
            });
        }
    }

    /// Records and notifies flag changes made by session `sid`.
    fn flags_changed(&mut self, sid: SessionId, k: &[u8], changed: Vec<(u32, Vec<Flag>, u64)>) {
        let mailbox = mailbox_of(k);
        for (uid, flags, modseq) in changed {
            self.record(|| Change::Flags {
                mailbox: k.to_vec(),
                uid,
                flags: flags.clone(),
                modseq,
            });
            self.notifications.push((
                Some(sid),
                mailbox.clone(),
                Update::Flags {
                    uid,
                    flags,
                    modseq: Some(modseq),
                },
            ));
        }
    }

    fn store(
        &mut self,
        sid: SessionId,
        uids: &[u32],
        kind: StoreType,
        silent: bool,
        data: StoreData,
        modifiers: &[StoreModifier],
    ) -> Reply {
        let StoreData::Flags(flags) = data else {
            return cannot("labels not supported by the memory store");
        };
        let unchanged_since = modifiers.iter().find_map(|m| match m {
            StoreModifier::UnchangedSince(n) => Some(*n),
            _ => None,
        });
        let Some((k, _)) = self.selected.get(&sid).cloned() else {
            return nonexistent();
        };
        let Some(f) = self.folders.get_mut(&k) else {
            return nonexistent();
        };
        let mut out = Vec::new();
        let mut modified = Vec::new();
        let mut changed = Vec::new();
        // The flags before, for the journal.
        let mut old = Vec::new();
        // The state before, noted once (not per changed message); a request that changes
        // nothing restores it unchanged.
        let journaled = match self.journal.as_mut() {
            Some(j) => {
                j.meta(&k, &f.meta);
                true
            }
            None => false,
        };
        // REPLACE's list without repeats.
        let mut replace: Vec<Flag> = Vec::new();
        if kind == StoreType::Replace {
            for fl in &flags {
                if !replace.contains(fl) {
                    replace.push(fl.clone());
                }
            }
        }
        for &uid in uids {
            let Some(ix) = f.index(uid) else { continue };
            if unchanged_since.is_some_and(|u| f.messages[ix].modseq > u) {
                modified.push(uid);
                continue;
            }
            let m = &mut f.messages[ix];
            // The flags before when they change (kept for the journal only): a message
            // that keeps its flags costs no copy of them.
            let before: Option<Vec<Flag>> = match kind {
                StoreType::Replace if m.flags != replace => {
                    Some(std::mem::replace(&mut m.flags, replace.clone()))
                }
                StoreType::Add if flags.iter().any(|fl| !m.flags.contains(fl)) => {
                    let before = if journaled {
                        m.flags.clone()
                    } else {
                        Vec::new()
                    };
                    for fl in &flags {
                        if !m.flags.contains(fl) {
                            m.flags.push(fl.clone());
                        }
                    }
                    Some(before)
                }
                StoreType::Remove if m.flags.iter().any(|fl| flags.contains(fl)) => {
                    let before = if journaled {
                        m.flags.clone()
                    } else {
                        Vec::new()
                    };
                    m.flags.retain(|fl| !flags.contains(fl));
                    Some(before)
                }
                _ => None,
            };
            if let Some(before) = before {
                if journaled {
                    old.push((uid, before, m.modseq));
                }
                f.meta.highest_modseq += 1;
                m.modseq = f.meta.highest_modseq;
                changed.push((uid, m.flags.clone(), m.modseq));
            }
            if !silent {
                out.push(ReplyData::Message {
                    uid,
                    items: vec![flags_item(&m.flags), MessageDataItem::ModSeq(m.modseq)],
                });
            } else if unchanged_since.is_some() {
                // RFC 7162 §3.1.3: with UNCHANGEDSINCE a FETCH with MODSEQ is sent even for
                // .SILENT.
                out.push(ReplyData::Message {
                    uid,
                    items: vec![MessageDataItem::ModSeq(m.modseq)],
                });
            }
        }
        if !modified.is_empty() {
            out.push(ReplyData::Modified(modified));
        }
        self.journal_flags(&k, old);
        self.flags_changed(sid, &k, changed);
        Reply::ok(out)
    }

    fn copy(&mut self, sid: SessionId, uids: &[u32], target: &Mailbox, remove: bool) -> Reply {
        let Some((k, _)) = self.selected.get(&sid).cloned() else {
            return nonexistent();
        };
        let tk = key(target);
        if !self.folders.contains_key(&tk) {
            return Reply::no(Some(ResponseCode::TryCreate), "no such target mailbox");
        }
        let Some(src) = self.folders.get(&k) else {
            return nonexistent();
        };
        // Each message once, in UID order, as `remove` takes it out (a MOVE of a file-held
        // message must not move its file twice).
        let msgs: Vec<Message> = src
            .positions(uids)
            .into_iter()
            .map(|i| src.messages[i].clone())
            .collect();
        // With `persists_files` a message held in its file is not read: the persistence
        // layer moves (MOVE, told by `Change::Moved`) or copies (COPY, `Change::Copied`) the
        // file, and a file it cannot move or copy fails the request there. So a COPY of
        // many large messages holds none of them in memory.
        // Else every message is read before anything changes: one that cannot be read fails
        // the whole request (RFC 9051 §6.4.7: COPY is all or nothing) instead of being
        // copied as an empty message (and, for MOVE, removed from the source).
        let mut loaded = Vec::with_capacity(msgs.len());
        for m in msgs {
            if self.persists_files {
                let (data, size) = (m.data.clone(), m.size);
                loaded.push((m, data, size));
                continue;
            }
            match try_load(self.files.as_ref(), &k, &m) {
                Some(data) => {
                    let size = data.len() as u64;
                    loaded.push((m, data, size));
                }
                None => {
                    return Reply::no(
                        Some(ResponseCode::ServerBug),
                        "a message's data cannot be read",
                    );
                }
            }
        }
        let mut source = Vec::new();
        let mut new = Vec::new();
        for (m, data, size) in loaded {
            source.push(m.uid);
            let (flags, date) = (m.flags, m.internal_date);
            // MOVE: recorded as moved out of the source (RFC 6851), its removal follows;
            // COPY: as copied from it when the persistence layer copies files (else as
            // added, with the data, for a layer that knows only `Added`).
            let (from, from_uid) = (k.clone(), m.uid);
            let copies_files = self.persists_files;
            let added = self.insert(&tk, data, size, flags, date, |to, message| {
                if remove {
                    Change::Moved {
                        from,
                        from_uid,
                        to,
                        message,
                    }
                } else if copies_files {
                    Change::Copied {
                        from,
                        from_uid,
                        to,
                        message,
                    }
                } else {
                    Change::Added {
                        mailbox: to,
                        message,
                    }
                }
            });
            if let Some(u) = added {
                new.push(u);
            }
        }
        let validity = self.folders.get(&tk).map_or(0, |f| f.meta.uid_validity);
        for &uid in &new {
            self.notifications
                .push((None, target.clone(), Update::Exists { uid }));
        }
        let mut data = Vec::new();
        if !source.is_empty() {
            data.push(ReplyData::Copied {
                uid_validity: validity,
                source: source.clone(),
                target: new,
            });
        }
        if remove {
            let gone = self.remove(sid, &k, &source);
            data.extend(gone.into_iter().map(ReplyData::Expunged));
        }
        Reply::ok(data)
    }

    /// Removes `\Deleted` messages (among `only` when given) of the session's mailbox.
    fn expunge(&mut self, sid: SessionId, only: Option<&[u32]>) -> Vec<u32> {
        let Some((k, _)) = self.selected.get(&sid).cloned() else {
            return Vec::new();
        };
        let Some(f) = self.folders.get(&k) else {
            return Vec::new();
        };
        let victims: Vec<u32> = f
            .messages
            .iter()
            .filter(|m| m.flags.contains(&Flag::Deleted))
            .filter(|m| only.is_none_or(|o| o.binary_search(&m.uid).is_ok()))
            .map(|m| m.uid)
            .collect();
        self.remove(sid, &k, &victims)
    }

    /// Removes the messages `uids` of mailbox `k`; the UIDs removed, ascending.
    fn remove(&mut self, sid: SessionId, k: &[u8], uids: &[u32]) -> Vec<u32> {
        let limit = self.expunged_limit();
        let Some(f) = self.folders.get_mut(k) else {
            return Vec::new();
        };
        let at = f.positions(uids);
        if at.is_empty() {
            return Vec::new();
        }
        let removed = take_out(&mut f.messages, &at);
        let gone: Vec<u32> = removed.iter().map(|(_, m)| m.uid).collect();
        let mut journal = self.journal.as_mut();
        if let Some(j) = journal.as_deref_mut() {
            j.meta(k, &f.meta);
            j.steps.push(Undo::Removed {
                mailbox: k.to_vec(),
                messages: removed,
            });
        }
        let modseq = expunged_at_new_modseq(f, k, &gone, limit, journal);
        let mailbox = mailbox_of(k);
        if let Some(c) = self.changes.as_mut() {
            c.extend(gone.iter().map(|&uid| Change::Removed {
                mailbox: k.to_vec(),
                uid,
                modseq,
            }));
        }
        self.notifications.extend(
            gone.iter()
                .map(|&uid| (Some(sid), mailbox.clone(), Update::Expunged { uid })),
        );
        gone
    }

    /// Notes in the journal that mailbox `k`'s subscription changed (`was`: before).
    fn journal_subscribed(&mut self, k: &[u8], was: bool) {
        if let Some(j) = self.journal.as_mut() {
            j.steps.push(Undo::Subscribed {
                mailbox: k.to_vec(),
                was,
            });
        }
    }

    /// Notes in the journal session `sid`'s selection before a change.
    fn journal_selected(&mut self, sid: SessionId) {
        if let Some(j) = self.journal.as_mut() {
            let was = self.selected.get(&sid).cloned();
            j.steps.push(Undo::Selected { sid, was });
        }
    }

    fn command(&mut self, sid: SessionId, body: CommandBody) -> Reply {
        use CommandBody as C;
        match body {
            C::Namespace => Reply::ok(vec![ReplyData::Data(Data::Namespace(NamespaceData {
                personal: vec![Namespace {
                    prefix: IString::default(),
                    delimiter: Delimiter::new(DELIM).ok(),
                    extensions: vec![],
                }],
                other: vec![],
                shared: vec![],
            }))]),
            C::Create { mailbox, .. } => {
                if mailbox.as_bytes().is_empty() {
                    return Reply::no(Some(ResponseCode::Cannot), "empty mailbox name");
                }
                if self.create(&mailbox) {
                    Reply::ok(vec![])
                } else {
                    Reply::no(Some(ResponseCode::AlreadyExists), "mailbox exists")
                }
            }
            C::Delete(m) => {
                if m == Mailbox::Inbox {
                    return Reply::no(Some(ResponseCode::Cannot), "INBOX cannot be deleted");
                }
                let k = key(&m);
                if let Some(folder) = self.folders.remove(&k) {
                    if let Some(j) = self.journal.as_mut() {
                        j.steps.push(Undo::Deleted {
                            mailbox: k.clone(),
                            folder,
                        });
                    }
                    self.record(|| Change::Deleted { mailbox: k });
                    Reply::ok(vec![])
                } else {
                    nonexistent()
                }
            }
            C::Rename { from, to } => self.rename(sid, &from, &to),
            C::Subscribe(m) => {
                let k = key(&m);
                let was = !self.subscribed.insert(k.clone());
                self.journal_subscribed(&k, was);
                self.record(|| Change::Subscribed {
                    mailbox: k,
                    on: true,
                });
                Reply::ok(vec![])
            }
            C::Unsubscribe(m) => {
                let k = key(&m);
                let was = self.subscribed.remove(&k);
                self.journal_subscribed(&k, was);
                self.record(|| Change::Subscribed {
                    mailbox: k,
                    on: false,
                });
                Reply::ok(vec![])
            }
            C::List {
                reference,
                patterns,
                selection,
                return_opts,
            } => {
                let opts = ListOpts::new(selection.as_deref(), return_opts.as_deref());
                Reply::ok(self.list(&reference, &patterns, &opts))
            }
            C::Lsub { reference, pattern } => {
                let opts = ListOpts {
                    lsub: true,
                    ..ListOpts::default()
                };
                Reply::ok(self.list(&reference, std::slice::from_ref(&pattern), &opts))
            }
            C::Status {
                mailbox,
                attributes,
            } => match self.status(&mailbox, &attributes) {
                Ok(items) => Reply::ok(vec![ReplyData::Data(Data::Status { mailbox, items })]),
                Err(r) => *r,
            },
            C::Append { mailbox, messages } => {
                let k = key(&mailbox);
                if !self.folders.contains_key(&k) {
                    return Reply::no(Some(ResponseCode::TryCreate), "no such mailbox");
                }
                let mut bodies = Vec::new();
                for m in messages {
                    let date = date_or_now(m.date.as_ref());
                    match m.data {
                        AppendData::Literal { data, .. } => bodies.push((data, m.flags, date)),
                        _ => return cannot("CATENATE/UTF8 not supported by the memory store"),
                    }
                }
                self.append_messages(&mailbox, bodies)
            }
            _ => cannot("not supported by the memory store"),
        }
    }

    /// Appends messages `(data, flags, internal date)` to `mailbox`: `OK [APPENDUID ...]`.
    pub fn append_messages(
        &mut self,
        mailbox: &Mailbox,
        bodies: Vec<(Bytes, Vec<Flag>, i64)>,
    ) -> Reply {
        let sized = bodies
            .into_iter()
            .map(|(d, fl, date)| (d.len() as u64, d, fl, date))
            .collect();
        self.append_sized(mailbox, sized)
    }

    /// Appends messages `(size, data, flags, internal date)`: `data` empty for a message
    /// held in its file ([`StoredMessage::in_file`]).
    pub(super) fn append_sized(
        &mut self,
        mailbox: &Mailbox,
        bodies: Vec<(u64, Bytes, Vec<Flag>, i64)>,
    ) -> Reply {
        let k = key(mailbox);
        let Some(validity) = self.folders.get(&k).map(|f| f.meta.uid_validity) else {
            return Reply::no(Some(ResponseCode::TryCreate), "no such mailbox");
        };
        let mut uids = Vec::new();
        for (size, d, fl, date) in bodies {
            if let Some(u) = self.add_sized(&k, d, size, fl, date) {
                uids.push(u);
            }
        }
        for &uid in &uids {
            self.notifications
                .push((None, mailbox.clone(), Update::Exists { uid }));
        }
        let mut r = Reply::ok(vec![]);
        if let (Ok(v), Some(set)) = (UidValidity::new(validity), super::uid_set(&uids)) {
            r.code = Some(ResponseCode::AppendUid {
                uid_validity: v,
                uids: set,
            });
        }
        r
    }

    fn rename(&mut self, sid: SessionId, from: &Mailbox, to: &Mailbox) -> Reply {
        let (fk, tk) = (key(from), key(to));
        if self.folders.contains_key(&tk) {
            return Reply::no(Some(ResponseCode::AlreadyExists), "target exists");
        }
        if !self.folders.contains_key(&fk) {
            return nonexistent();
        }
        // Into its own subtree (`a` to `a/b`) or onto an ancestor's name (`a/b` to `a`): the
        // old and new names of the moving mailboxes would overlap, and moving them one by one
        // could replace one of them (RFC 9051 §6.3.6 leaves this to the server; refused, as
        // other servers do).
        let below =
            |a: &[u8], b: &[u8]| a.len() > b.len() && a.starts_with(b) && a[b.len()] == DELIM;
        if *from != Mailbox::Inbox && (below(&tk, &fk) || below(&fk, &tk)) {
            return Reply::no(
                Some(ResponseCode::Cannot),
                "a mailbox cannot be renamed into its own subtree or onto an ancestor",
            );
        }
        if *from == Mailbox::Inbox {
            // RFC 9051 §6.3.6: INBOX's messages move, INBOX stays (empty). Their removal
            // from INBOX is an expunge like any other: journaled, recorded, noted for
            // QRESYNC and told to every session that has INBOX selected (this one in its
            // reply).
            self.create(to);
            let msgs = self
                .folders
                .get_mut(&fk)
                .map(|f| std::mem::take(&mut f.messages))
                .unwrap_or_default();
            for m in &msgs {
                // Not read when `persists_files`: a message held in its file moves with
                // the file (the persistence layer renames it, told by `Change::Moved`).
                let (data, size) = if self.persists_files {
                    (m.data.clone(), m.size)
                } else {
                    let data = load(self.files.as_ref(), &fk, m);
                    let size = data.len() as u64;
                    (data, size)
                };
                let _ = self.insert(
                    &tk,
                    data,
                    size,
                    m.flags.clone(),
                    m.internal_date,
                    |to, message| Change::Moved {
                        from: fk.clone(),
                        from_uid: m.uid,
                        to,
                        message,
                    },
                );
            }
            let uids: Vec<u32> = msgs.iter().map(|m| m.uid).collect();
            if let Some(f) = self.folders.get_mut(&fk) {
                f.messages = msgs;
            }
            let gone = self.remove(sid, &fk, &uids);
            let mine = self.selected.get(&sid).is_some_and(|(k, _)| *k == fk);
            let data = if mine {
                gone.into_iter().map(ReplyData::Expunged).collect()
            } else {
                Vec::new()
            };
            // With INBOX selected, its new HIGHESTMODSEQ as EXPUNGE's reply carries it.
            return self.with_highest_modseq(sid, Reply::ok(data));
        }
        // Children move with their parent.
        let mut prefix = fk.clone();
        prefix.push(DELIM);
        let moving: Vec<Vec<u8>> = self
            .folders
            .keys()
            .filter(|k| **k == fk || k.starts_with(&prefix))
            .cloned()
            .collect();
        // A mailbox that moves must not land on one that stays (renaming `a` with a child
        // `a/x` to `b` while `b/x` exists): RFC 9051 §6.3.6 makes renaming onto an existing
        // name an error, and going on would replace `b/x` and its messages. (The old and new
        // names do not overlap: neither name is below the other, checked above.)
        let moving: Vec<(Vec<u8>, Vec<u8>)> = moving
            .into_iter()
            .map(|old| {
                let mut new = tk.clone();
                new.extend_from_slice(&old[fk.len()..]);
                (old, new)
            })
            .collect();
        if moving.iter().any(|(_, new)| self.folders.contains_key(new)) {
            return Reply::no(
                Some(ResponseCode::AlreadyExists),
                "an inferior of the target exists",
            );
        }
        for (old, new) in moving {
            if let Some(f) = self.folders.remove(&old) {
                // onto a free name (checked above): nothing is replaced
                let _ = self.folders.insert(new.clone(), f);
                if let Some(j) = self.journal.as_mut() {
                    j.steps.push(Undo::Renamed {
                        from: old.clone(),
                        to: new.clone(),
                    });
                }
                if self.subscribed.remove(&old) {
                    self.journal_subscribed(&old, true);
                    let was = !self.subscribed.insert(new.clone());
                    self.journal_subscribed(&new, was);
                }
                self.record(|| Change::Renamed { from: old, to: new });
            }
        }
        Reply::ok(vec![])
    }

    fn status(
        &self,
        mailbox: &Mailbox,
        attributes: &[StatusAttribute],
    ) -> Result<Vec<StatusItem>, Box<Reply>> {
        let Some(f) = self.folders.get(&key(mailbox)) else {
            return Err(Box::new(nonexistent()));
        };
        let mut items = Vec::new();
        for a in attributes {
            items.push(match a {
                StatusAttribute::Messages => StatusItem::Messages(f.messages.len() as u32),
                StatusAttribute::UidNext => StatusItem::UidNext(f.meta.uid_next),
                StatusAttribute::UidValidity => StatusItem::UidValidity(f.meta.uid_validity),
                StatusAttribute::Unseen => StatusItem::Unseen(
                    f.messages
                        .iter()
                        .filter(|m| !m.flags.contains(&Flag::Seen))
                        .count() as u32,
                ),
                StatusAttribute::Deleted => StatusItem::Deleted(
                    f.messages
                        .iter()
                        .filter(|m| m.flags.contains(&Flag::Deleted))
                        .count() as u32,
                ),
                StatusAttribute::Size => StatusItem::Size(f.messages.iter().map(|m| m.size).sum()),
                StatusAttribute::HighestModSeq => StatusItem::HighestModSeq(f.meta.highest_modseq),
                StatusAttribute::Recent => StatusItem::Recent(0),
                _ => {
                    return Err(Box::new(cannot(
                        "status item not supported by the memory store",
                    )));
                }
            });
        }
        Ok(items)
    }

    fn list(&self, reference: &Mailbox, patterns: &[ListMailbox], o: &ListOpts) -> Vec<ReplyData> {
        let mut out = Vec::new();
        let r = if reference.as_bytes().is_empty() {
            Vec::new()
        } else {
            key(reference)
        };
        let mut seen = BTreeSet::new();
        for p in patterns {
            let full = [r.as_slice(), p.as_bytes()].concat();
            if full.is_empty() {
                out.push(ReplyData::Data(Data::List(ListItem {
                    attributes: vec![MailboxAttribute::NoSelect].into(),
                    delimiter: Delimiter::new(DELIM).ok(),
                    mailbox: Mailbox::new(Bytes::new()).unwrap_or(Mailbox::Inbox),
                    extended: vec![],
                })));
                continue;
            }
            for (name, f) in &self.folders {
                let subscribed = self.subscribed.contains(name);
                if ((o.lsub || o.subscribed_only) && !subscribed)
                    || (o.special_use_only && f.meta.special_use.is_none())
                    || !glob(&full, name)
                    || !seen.insert(name.clone())
                {
                    continue;
                }
                let mut attributes = Vec::<MailboxAttribute>::new();
                if !o.lsub {
                    let mut prefix = name.clone();
                    prefix.push(DELIM);
                    let children = self
                        .folders
                        .range(prefix.clone()..)
                        .next()
                        .is_some_and(|(k, _)| k.starts_with(&prefix));
                    attributes.push(if children {
                        MailboxAttribute::HasChildren
                    } else {
                        MailboxAttribute::HasNoChildren
                    });
                    if let Some(su) = &f.meta.special_use {
                        attributes.push(su.clone());
                    }
                    if (o.subscribed_only || o.return_subscribed) && subscribed {
                        attributes.push(MailboxAttribute::Subscribed);
                    }
                }
                let item = ListItem {
                    attributes: attributes.into(),
                    delimiter: Delimiter::new(DELIM).ok(),
                    mailbox: mailbox_of(name),
                    extended: vec![],
                };
                out.push(ReplyData::Data(if o.lsub {
                    Data::Lsub(item)
                } else {
                    Data::List(item)
                }));
                if let Some(attrs) = &o.status {
                    let mailbox = mailbox_of(name);
                    if let Ok(items) = self.status(&mailbox, attrs) {
                        out.push(ReplyData::Data(Data::Status { mailbox, items }));
                    }
                }
            }
        }
        out
    }
}

/// What LIST was asked for (RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154).
#[derive(Default)]
struct ListOpts {
    lsub: bool,
    subscribed_only: bool,
    special_use_only: bool,
    return_subscribed: bool,
    status: Option<Vec<StatusAttribute>>,
}

impl ListOpts {
    fn new(sel: Option<&[ListSelectOption]>, ret: Option<&[ListReturnOption]>) -> Self {
        let mut o = ListOpts::default();
        for s in sel.unwrap_or_default() {
            match s {
                ListSelectOption::Subscribed => o.subscribed_only = true,
                ListSelectOption::SpecialUse => o.special_use_only = true,
                _ => {}
            }
        }
        for r in ret.unwrap_or_default() {
            match r {
                ListReturnOption::Subscribed => o.return_subscribed = true,
                ListReturnOption::Status(a) => o.status = Some(a.clone()),
                _ => {}
            }
        }
        o
    }
}

/// A streamed FETCH value: kept in `bodies` under a new stream id.
fn streamed(
    next: &mut u64,
    bodies: &mut HashMap<(SessionId, BodyStream), BodyData>,
    (sid, value): (SessionId, Bytes),
    name: StreamedName,
) -> FetchPart {
    *next += 1;
    let stream = BodyStream(*next);
    let length = value.len() as u64;
    bodies.insert((sid, stream), BodyData::Held(value));
    FetchPart::Streamed(StreamedItem::new(name, length, stream))
}

/// The FETCH value `value` of item `name`: streamed ([`streamed`]) when it is longer than
/// `over` octets, else whole.
fn value_part(
    next: &mut u64,
    bodies: &mut HashMap<(SessionId, BodyStream), BodyData>,
    over: Option<u64>,
    (sid, value): (SessionId, Bytes),
    name: StreamedName,
) -> FetchPart {
    if over.is_some_and(|t| value.len() as u64 > t) {
        streamed(next, bodies, (sid, value), name)
    } else {
        FetchPart::Item(super::streamed_name_item(name, Some(value)))
    }
}

/// A FETCH value streamed from octets `start..start + len` of the file of message `uid`
/// of `mailbox`, opened now; `None` when it cannot be opened.
fn streamed_file(
    next: &mut u64,
    bodies: &mut HashMap<(SessionId, BodyStream), BodyData>,
    files: Option<&MessageFiles>,
    (sid, mailbox, uid, start, len): (SessionId, &[u8], u32, u64, u64),
    name: StreamedName,
) -> Option<FetchPart> {
    use std::io::{Seek, SeekFrom};
    let mut file = (files?.0)(mailbox, uid).ok()?;
    file.seek(SeekFrom::Start(start)).ok()?;
    *next += 1;
    let stream = BodyStream(*next);
    bodies.insert((sid, stream), BodyData::File { file, left: len });
    Some(FetchPart::Streamed(StreamedItem::new(name, len, stream)))
}

fn unreadable() -> Reply {
    Reply::no(
        Some(ResponseCode::ServerBug),
        "a message file could not be read",
    )
}

fn push(out: &mut Vec<FetchPart>, item: MessageDataItem) {
    out.push(FetchPart::Item(item));
}

fn flags_item(flags: &[Flag]) -> MessageDataItem {
    MessageDataItem::Flags(
        flags
            .iter()
            .cloned()
            .map(FlagFetch::Flag)
            .collect::<Vec<_>>()
            .into(),
    )
}

struct Ctx<'a> {
    seq: u32,
    max_seq: u32,
    max_uid: u32,
    parsed: Option<ParsedMessage>,
    /// The message's data once read (for messages not held in memory).
    data: Option<Bytes>,
    /// The message's header once read (for messages not held in memory).
    header: Option<Bytes>,
    /// The mailbox, its UIDVALIDITY and its message files.
    mailbox: &'a [u8],
    validity: u32,
    files: Option<&'a MessageFiles>,
    /// Headers read from files before.
    headers: &'a mut HeaderCache,
}

impl Ctx<'_> {
    fn data(&mut self, m: &Message) -> &Bytes {
        let (files, mailbox) = (self.files, self.mailbox);
        self.data.get_or_insert_with(|| load(files, mailbox, m))
    }

    fn parsed(&mut self, m: &Message) -> &ParsedMessage {
        if self.parsed.is_none() {
            let d = self.data(m).clone();
            self.parsed = Some(ParsedMessage::new(d));
        }
        self.parsed
            .get_or_insert_with(|| ParsedMessage::new(Bytes::new()))
    }

    /// Whether header field `name` of `m` contains `needle` (ASCII case-insensitive; an
    /// empty `needle` matches the field's presence). Reads only the header of a message not
    /// held in memory (unless the whole message was read already).
    fn header_has(&mut self, m: &Message, name: &[u8], needle: &[u8]) -> bool {
        if self.data.is_none() && self.header.is_none() {
            self.header = Some(if m.held() {
                m.data.clone()
            } else {
                self.headers.get(self.files, self.mailbox, self.validity, m)
            });
        }
        let d = match (&self.data, &self.header) {
            (Some(d), _) | (None, Some(d)) => d,
            (None, None) => return false,
        };
        super::message::header_contains(d, name, needle)
    }
}

use super::message::contains_ci;

fn day_of(seconds: i64, zone_minutes: i64) -> i64 {
    (seconds + zone_minutes * 60).div_euclid(86_400)
}

fn date_day(d: &imapwire_codec::datetime::Date) -> i64 {
    let dt = imapwire_codec::datetime::DateTime::new(*d, 0, 0, 0, 0);
    dt.map_or(0, |dt| epoch_seconds(&dt).div_euclid(86_400))
}

/// Whether `m` matches `k`; `Err` for a key the store does not evaluate.
fn matches(k: &SearchKey, m: &Message, c: &mut Ctx<'_>) -> Result<bool, ()> {
    let has = |f: Flag| m.flags.contains(&f);
    Ok(match k {
        SearchKey::All => true,
        SearchKey::Uid(set) => set.contains(m.uid, c.max_uid),
        SearchKey::SequenceSet(set) => set.contains(c.seq, c.max_seq),
        SearchKey::Seen => has(Flag::Seen),
        SearchKey::Unseen => !has(Flag::Seen),
        SearchKey::Flagged => has(Flag::Flagged),
        SearchKey::Unflagged => !has(Flag::Flagged),
        SearchKey::Deleted => has(Flag::Deleted),
        SearchKey::Undeleted => !has(Flag::Deleted),
        SearchKey::Answered => has(Flag::Answered),
        SearchKey::Unanswered => !has(Flag::Answered),
        SearchKey::Draft => has(Flag::Draft),
        SearchKey::Undraft => !has(Flag::Draft),
        SearchKey::Recent | SearchKey::New => false,
        SearchKey::Old => true,
        SearchKey::Keyword(a) => has(Flag::Keyword(a.clone())),
        SearchKey::Unkeyword(a) => !has(Flag::Keyword(a.clone())),
        SearchKey::Larger(n) => m.size > *n,
        SearchKey::Smaller(n) => m.size < *n,
        SearchKey::ModSeq { modseq, .. } => m.modseq >= *modseq,
        SearchKey::Before(d) => day_of(m.internal_date, 0) < date_day(d),
        SearchKey::On(d) => day_of(m.internal_date, 0) == date_day(d),
        SearchKey::Since(d) => day_of(m.internal_date, 0) >= date_day(d),
        SearchKey::Subject(s) => c.header_has(m, b"Subject", s.as_bytes()),
        SearchKey::From(s) => c.header_has(m, b"From", s.as_bytes()),
        SearchKey::To(s) => c.header_has(m, b"To", s.as_bytes()),
        SearchKey::Cc(s) => c.header_has(m, b"Cc", s.as_bytes()),
        SearchKey::Bcc(s) => c.header_has(m, b"Bcc", s.as_bytes()),
        SearchKey::Header(n, s) => c.header_has(m, n.as_bytes(), s.as_bytes()),
        SearchKey::Body(s) => {
            let body = c.parsed(m).section(Some(&Section::Text(None)));
            contains_ci(&body.unwrap_or_default(), s.as_bytes())
        }
        SearchKey::Text(s) => contains_ci(c.data(m), s.as_bytes()),
        SearchKey::Not(k) => !matches(k, m, c)?,
        SearchKey::Or(k) => matches(&k.0, m, c)? || matches(&k.1, m, c)?,
        SearchKey::And(v) => {
            let mut all = true;
            for k in v {
                all &= matches(k, m, c)?;
            }
            all
        }
        _ => return Err(()),
    })
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use imapwire_codec::sequence::{SeqOrUid, Sequence, SequenceSet};

    use super::*;

    fn qresync(modseq: u64, known: Option<SequenceSet>) -> Request {
        Request::Select {
            mailbox: Mailbox::Inbox,
            read_only: true,
            params: vec![SelectParam::QResync {
                uidvalidity: UidValidity::new(1).unwrap(),
                modseq,
                known_uids: known,
                seq_match_data: None,
            }],
        }
    }

    fn vanished_of(r: Reply) -> Vec<u32> {
        match r.data.as_slice() {
            [ReplyData::Selected(s)] => s.vanished.iter().flat_map(|v| v.iter()).collect(),
            other => panic!("{other:?}"),
        }
    }

    fn fetch_vanished(
        st: &mut MemoryStore,
        sid: SessionId,
        since: u64,
        set: SequenceSet,
    ) -> Vec<u32> {
        let r = st.handle(
            sid,
            Request::Fetch {
                uids: Vec::new(),
                items: FetchItems::Attributes(FetchAttribute::Flags.into()),
                modifiers: vec![imapwire_codec::command::FetchModifier::ChangedSince(since)],
                vanished: Some(set),
            },
        );
        r.data
            .iter()
            .filter_map(|d| match d {
                ReplyData::Data(Data::Vanished {
                    earlier: true,
                    uids,
                }) => Some(uids.iter()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// RFC 7162 §5.3: the expunged UIDs kept for QRESYNC are bounded (the default, 4096 runs,
    /// after 9,000 single expunges), and VANISHED (EARLIER) answers stay right: exact for
    /// mod-sequences the queue reaches back to, every UID not in the mailbox for older ones.
    #[test]
    fn expunged_uids_are_bounded_and_vanished_stays_right() {
        let mut st = MemoryStore::new();
        for _ in 0..10_000 {
            st.deliver(&Mailbox::Inbox, Bytes::from_static(b"x\r\n"), vec![]);
        }
        let sid = st.open_session();
        let _ = st.handle(sid, qresync(1, None));
        let base = st.folders[&b"INBOX"[..]].meta.highest_modseq;
        // Remove UIDs 1..=9000 one at a time, all but every tenth (8,100 expunges).
        let mut gone = Vec::new();
        for u in 1..=9000u32 {
            if u % 10 != 0 {
                assert_eq!(st.remove(sid, b"INBOX", &[u]), [u]);
                gone.push(u);
            }
        }
        let f = &st.folders[&b"INBOX"[..]];
        assert_eq!(f.expunged.runs().count(), expunged::DEFAULT_LIMIT);
        let top = f.meta.highest_modseq;
        assert_eq!(top, base + gone.len() as u64);
        // The last 100 expunges, exactly.
        let recent = vanished_of(st.handle(sid, qresync(top - 100, None)));
        assert_eq!(recent, gone[gone.len() - 100..]);
        // From before the queue: every UID not present, which here is what was expunged.
        assert_eq!(vanished_of(st.handle(sid, qresync(base, None))), gone);
        // Known UIDs narrow both answers.
        let known = SequenceSet::range(
            NonZeroU32::new(8000).unwrap(),
            NonZeroU32::new(8010).unwrap(),
        );
        let want: Vec<u32> = (8000..=8010).filter(|u| u % 10 != 0).collect();
        assert_eq!(
            vanished_of(st.handle(sid, qresync(base, Some(known.clone())))),
            want
        );
        assert_eq!(fetch_vanished(&mut st, sid, base, known.clone()), want);
        assert_eq!(
            fetch_vanished(&mut st, sid, top - 1, known),
            Vec::<u32>::new()
        );
        assert_eq!(
            fetch_vanished(&mut st, sid, top - 1, SequenceSet::all()),
            [8999]
        );
        // Nothing since the last expunge.
        assert!(vanished_of(st.handle(sid, qresync(top, None))).is_empty());
    }

    /// RFC 7162 §3.2.5.2's examples A04 and B04: a server that remembers no expunges, a
    /// mailbox of 10,003 messages whose UIDs are the multiples of three (UIDNEXT 30013).
    /// Without sequence match data every other UID of 1:29997 is reported vanished; with the
    /// example's pairs, all of which match, none is.
    #[test]
    fn qresync_sequence_match_data_narrows_vanished() {
        let mut st = MemoryStore::new();
        let mut meta = FolderMeta::new(67890007, None);
        meta.uid_next = 30013;
        meta.highest_modseq = 90060115205545359;
        st.restore_mailbox(b"INBOX", meta, true);
        for k in 1..=10003u32 {
            let m = StoredMessage::new(3 * k, vec![], 90060115194045000, 0, Bytes::new());
            assert!(st.restore_message(b"INBOX", m));
        }
        st.restore_forgotten(b"INBOX", 90060115205545359);
        let sid = st.open_session();
        let n = |v: u32| SeqOrUid::Value(NonZeroU32::new(v).unwrap());
        let set = |v: &[(u32, u32)]| {
            SequenceSet::new(
                v.iter()
                    .map(|&(a, b)| {
                        if a == b {
                            Sequence::Single(n(a))
                        } else {
                            Sequence::Range(n(a), n(b))
                        }
                    })
                    .collect(),
            )
            .unwrap()
        };
        let select = |seq_match_data| Request::Select {
            mailbox: Mailbox::Inbox,
            read_only: false,
            params: vec![SelectParam::QResync {
                uidvalidity: UidValidity::new(67890007).unwrap(),
                modseq: 90060115194045000,
                known_uids: Some(set(&[(1, 29997)])),
                seq_match_data,
            }],
        };
        // A04.
        let a04 = vanished_of(st.handle(sid, select(None)));
        assert_eq!(a04, (1..=29997).filter(|u| u % 3 != 0).collect::<Vec<_>>());
        // B04: (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,...,29997).
        let seqs = set(&[(5000, 5000), (7500, 7500), (9000, 9000), (9990, 9999)]);
        let mut uids = vec![(15000, 15000), (22500, 22500), (27000, 27000)];
        uids.extend((29970..=29997).step_by(3).map(|u| (u, u)));
        let b04 = vanished_of(st.handle(sid, select(Some((seqs, set(&uids))))));
        assert!(b04.is_empty(), "{b04:?}");
        // A pair that no longer matches ends the walk: the 9990th message has UID 29970,
        // not 29971, so only 27000 and below are known.
        let seqs = set(&[(9000, 9000), (9990, 9990), (9999, 9999)]);
        let uids = set(&[(27000, 27000), (29971, 29971), (29997, 29997)]);
        let narrowed = vanished_of(st.handle(sid, select(Some((seqs, uids)))));
        assert_eq!(
            narrowed,
            (27001..=29997).filter(|u| u % 3 != 0).collect::<Vec<_>>()
        );
    }

    /// SEARCH's header keys read only the header of a message kept in a file: the first 4 KiB
    /// piece when the blank line is in it, more pieces for a longer header, the whole file
    /// when there is no blank line.
    #[test]
    fn header_keys_read_only_the_header_from_files() {
        let dir = std::env::temp_dir().join(format!("imapwire-load-header-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let short = [&b"Subject: hello\r\n\r\n"[..], &[b'x'; 20_000]].concat();
        let mut long_header = Vec::new();
        for i in 0..300 {
            long_header.extend_from_slice(format!("X-Pad-{i}: padding padding\r\n").as_bytes());
        }
        let long = [&long_header[..], b"Subject: late\r\n\r\n", &[b'y'; 9000]].concat();
        let bare = [&b"Subject: none\r\n"[..], &[b'z'; 5000]].concat();
        for (uid, d) in [(1u32, &short), (2, &long), (3, &bare)] {
            std::fs::write(dir.join(uid.to_string()), d).unwrap();
        }
        let root = dir.clone();
        let files = MessageFiles(Box::new(move |_k: &[u8], uid: u32| {
            std::fs::File::open(root.join(uid.to_string()))
        }));
        let msg = |uid: u32, d: &Vec<u8>| StoredMessage::in_file(uid, vec![], 1, 0, d.len() as u64);
        let h = load_header(Some(&files), b"INBOX", &msg(1, &short));
        assert_eq!(h.len(), 4096);
        assert!(super::super::message::header_contains(
            &h, b"Subject", b"HELLO"
        ));
        let h = load_header(Some(&files), b"INBOX", &msg(2, &long));
        assert!(
            h.len() > long_header.len() && h.len() < long.len(),
            "{}",
            h.len()
        );
        assert!(super::super::message::header_contains(
            &h, b"subject", b"late"
        ));
        let h = load_header(Some(&files), b"INBOX", &msg(3, &bare));
        assert_eq!(h.len(), bare.len());
        assert!(super::super::message::header_contains(
            &h, b"Subject", b"none"
        ));

        // Through SEARCH: the headers read are kept, so a second SEARCH reads no file (the
        // files are gone by then and it still matches).
        let mut st = MemoryStore::new();
        st.restore_mailbox(b"INBOX", FolderMeta::new(9, None), true);
        for (uid, d) in [(1u32, &short), (2, &long), (3, &bare)] {
            assert!(st.restore_message(b"INBOX", msg(uid, d)));
        }
        let root = dir.clone();
        st.set_message_files(Box::new(move |_k: &[u8], uid: u32| {
            std::fs::File::open(root.join(uid.to_string()))
        }));
        let sid = st.open_session();
        let _ = st.handle(
            sid,
            Request::Select {
                mailbox: Mailbox::Inbox,
                read_only: true,
                params: vec![],
            },
        );
        let search = |st: &mut MemoryStore, word: &str| {
            let r = st.handle(
                sid,
                Request::Search {
                    criteria: vec![SearchKey::Subject(
                        imapwire_codec::core::AString::new(word.to_owned()).unwrap(),
                    )],
                    charset: None,
                    view: vec![1, 2, 3],
                },
            );
            match r.data.as_slice() {
                [ReplyData::Matches { uids, .. }] => uids.clone(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(search(&mut st, "LATE"), [2]);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(search(&mut st, "hello"), [1]);
        assert_eq!(search(&mut st, "e"), [1, 2, 3]);
        assert!(st.headers.bytes < short.len() + long.len() + bare.len());
    }

    /// One EXPUNGE of many messages is one run.
    #[test]
    fn one_expunge_is_one_run() {
        let mut st = MemoryStore::new();
        st.set_expunged_limit(2);
        for _ in 0..100 {
            st.deliver(&Mailbox::Inbox, Bytes::from_static(b"x\r\n"), vec![]);
        }
        let sid = st.open_session();
        let _ = st.handle(sid, qresync(1, None));
        let all: Vec<u32> = (1..=50).collect();
        assert_eq!(st.remove(sid, b"INBOX", &all), all);
        let f = &st.folders[&b"INBOX"[..]];
        let m = f.meta.highest_modseq;
        assert_eq!(f.expunged.runs().collect::<Vec<_>>(), [(1, 50, m)]);
        assert_eq!(vanished_of(st.handle(sid, qresync(100, None))), all);
    }

    /// A store whose INBOX holds messages `(uid, data, written)` in files of a new temporary
    /// directory `name` (only those `written` exist: the others cannot be read), opened by
    /// mailbox and UID; the directory is returned for the test to remove.
    fn store_with_files(
        name: &str,
        msgs: &[(u32, &str, bool)],
    ) -> (MemoryStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("imapwire-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut st = MemoryStore::new();
        st.restore_mailbox(b"INBOX", FolderMeta::new(9, None), true);
        for &(uid, d, written) in msgs {
            if written {
                std::fs::write(dir.join(format!("INBOX-{uid}")), d).unwrap();
            }
            let m = StoredMessage::in_file(uid, vec![], 1, 0, d.len() as u64);
            assert!(st.restore_message(b"INBOX", m));
        }
        let root = dir.clone();
        st.set_message_files(Box::new(move |k: &[u8], uid: u32| {
            std::fs::File::open(root.join(format!("{}-{uid}", String::from_utf8_lossy(k))))
        }));
        (st, dir)
    }

    /// `st` with a new session that has INBOX selected read-write.
    fn inbox_session(st: &mut MemoryStore) -> SessionId {
        let sid = st.open_session();
        let _ = st.handle(
            sid,
            Request::Select {
                mailbox: Mailbox::Inbox,
                read_only: false,
                params: vec![],
            },
        );
        sid
    }

    /// COPY and MOVE take a UID named twice (or out of order) once, in UID order, as the
    /// removal does (before, COPY copied it twice and MOVE moved it twice; the maildir store,
    /// which renames a MOVEd file, failed the second rename). The server's own requests
    /// are ascending and unique; a caller building `Request`s may not be.
    #[test]
    fn copy_and_move_take_each_uid_once() {
        let texts: Vec<String> = (1..=3)
            .map(|uid| format!("Subject: {uid}\r\n\r\nbody {uid}\r\n"))
            .collect();
        let msgs: Vec<(u32, &str, bool)> = (1..=3u32)
            .map(|uid| (uid, texts[uid as usize - 1].as_str(), true))
            .collect();
        let (mut st, dir) = store_with_files("copy-twice", &msgs);
        let target = Mailbox::try_from("b").unwrap();
        st.create(&target);
        let sid = inbox_session(&mut st);
        let (uids, mailbox) = (vec![3, 2, 3, 2], target.clone());
        let r = st.handle(
            sid,
            Request::Copy {
                uids: uids.clone(),
                mailbox: mailbox.clone(),
                last_uid: 3,
            },
        );
        assert_eq!(r.status, imapwire_codec::response::Status::Ok, "{r:?}");
        let copied: Vec<Bytes> = st.messages(b"b").into_iter().map(|(_, _, d)| d).collect();
        assert_eq!(
            copied,
            [&texts[1], &texts[2]].map(|t| Bytes::from(t.clone()))
        );
        let r = st.handle(
            sid,
            Request::Move {
                uids,
                mailbox,
                last_uid: 3,
            },
        );
        assert_eq!(r.status, imapwire_codec::response::Status::Ok, "{r:?}");
        assert_eq!(st.messages(b"b").len(), 4);
        let left: Vec<u32> = st.folders[&b"INBOX"[..]]
            .messages
            .iter()
            .map(|m| m.uid)
            .collect();
        assert_eq!(left, [1]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// COPY and MOVE of messages one of which is in a file that cannot be read: refused with
    /// SERVERBUG and nothing changes (before, the unreadable one was copied as an empty
    /// message and MOVE removed it from the source); with the file back both succeed.
    #[test]
    fn copy_never_stores_an_unreadable_message_as_empty() {
        let texts: Vec<String> = (1..=3)
            .map(|uid| format!("Subject: {uid}\r\n\r\nbody {uid}\r\n"))
            .collect();
        let msgs: Vec<(u32, &str, bool)> = (1..=3u32)
            .map(|uid| (uid, texts[uid as usize - 1].as_str(), uid != 2))
            .collect();
        let (mut st, dir) = store_with_files("copy-unreadable", &msgs);
        let target = Mailbox::try_from("b").unwrap();
        st.create(&target);
        let sid = inbox_session(&mut st);
        let copy = |st: &mut MemoryStore, remove: bool| {
            let (uids, mailbox, last_uid) = (vec![1, 2, 3], target.clone(), 3);
            st.handle(
                sid,
                if remove {
                    Request::Move {
                        uids,
                        mailbox,
                        last_uid,
                    }
                } else {
                    Request::Copy {
                        uids,
                        mailbox,
                        last_uid,
                    }
                },
            )
        };
        for remove in [false, true] {
            let r = copy(&mut st, remove);
            assert_eq!(r.code, Some(ResponseCode::ServerBug), "{r:?}");
            assert!(st.messages(b"b").is_empty());
            assert_eq!(st.folders[&b"INBOX"[..]].messages.len(), 3);
        }
        std::fs::write(dir.join("INBOX-2"), &texts[1]).unwrap();
        let r = copy(&mut st, true);
        assert_eq!(r.status, imapwire_codec::response::Status::Ok, "{r:?}");
        let moved: Vec<Bytes> = st.messages(b"b").into_iter().map(|(_, _, d)| d).collect();
        assert_eq!(moved.len(), 3);
        assert_eq!(&moved[1][..], b"Subject: 2\r\n\r\nbody 2\r\n");
        assert!(st.folders[&b"INBOX"[..]].messages.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// RENAME INBOX on a store whose messages are in files it only reads (no persistence
    /// layer moving them): the new mailbox holds the messages' data, read from the files.
    #[test]
    fn rename_inbox_reads_messages_held_in_files() {
        let d = "Subject: kept\r\n\r\nbody\r\n";
        let (mut st, dir) = store_with_files("rename-inbox", &[(1, d, true)]);
        let r = st.rename(
            SessionId(0),
            &Mailbox::Inbox,
            &Mailbox::try_from("Old").unwrap(),
        );
        assert_eq!(r.status, imapwire_codec::response::Status::Ok, "{r:?}");
        assert!(st.messages(b"INBOX").is_empty());
        let old = st.messages(b"Old");
        assert_eq!(old.len(), 1);
        assert_eq!(&old[0].2[..], d.as_bytes());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The `Change::Moved` (`moved`) or `Change::Copied` records of `changes`, each from
    /// INBOX to `Old` with a message of `size` octets: `(from_uid, new uid, data empty)`.
    fn arrivals(changes: &[Change], moved: bool, size: usize) -> Vec<(u32, u32, bool)> {
        changes
            .iter()
            .filter_map(|c| match c {
                Change::Moved {
                    from,
                    from_uid,
                    to,
                    message,
                } if moved => Some((from, from_uid, to, message)),
                Change::Copied {
                    from,
                    from_uid,
                    to,
                    message,
                } if !moved => Some((from, from_uid, to, message)),
                _ => None,
            })
            .map(|(from, from_uid, to, message)| {
                assert_eq!((&from[..], &to[..]), (&b"INBOX"[..], &b"Old"[..]));
                assert_eq!(message.size, size as u64);
                (*from_uid, message.uid, message.data.is_empty())
            })
            .collect()
    }

    /// RENAME INBOX records each message's arrival in the new mailbox as `Change::Moved`
    /// (its UID in INBOX and its new one; no `Added`), then each removal from INBOX: a
    /// persistence layer can move what it stored instead of writing it again. Held in
    /// memory, the moved message carries its data; held in a file and left unread
    /// (`persists_files`), its size only.
    #[test]
    fn rename_inbox_records_moves() {
        for moves_files in [false, true] {
            let d = "Subject: kept\r\n\r\nbody\r\n";
            let (mut st, dir) = store_with_files("rename-moved", &[(3, d, true), (8, d, true)]);
            st.persists_files = moves_files;
            st.record_changes();
            let r = st.rename(
                SessionId(0),
                &Mailbox::Inbox,
                &Mailbox::try_from("Old").unwrap(),
            );
            assert_eq!(r.status, imapwire_codec::response::Status::Ok, "{r:?}");
            let changes = st.take_changes();
            let moved = arrivals(&changes, true, d.len());
            // Read into memory unless the files move.
            assert_eq!(
                moved,
                [(3, 1, moves_files), (8, 2, moves_files)],
                "{changes:?}"
            );
            let removed: Vec<u32> = changes
                .iter()
                .filter_map(|c| match c {
                    Change::Removed { mailbox, uid, .. } if mailbox == b"INBOX" => Some(*uid),
                    _ => None,
                })
                .collect();
            assert_eq!(removed, [3, 8], "{changes:?}");
            assert!(
                !changes.iter().any(|c| matches!(c, Change::Added { .. })),
                "{changes:?}"
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    /// With `persists_files` COPY records each copy as `Change::Copied` (the original's
    /// mailbox and UID, the copy's new UID; no `Added`, nothing removed), the file is not
    /// opened (message 8's file does not even exist: a read would fail the request) and the
    /// copy carries its size only, for the persistence layer to copy the file. Without it,
    /// every message is read first (an unreadable one fails the COPY) and each copy is
    /// recorded as `Change::Added` with its data.
    #[test]
    fn copy_records_copies_and_reads_nothing_when_files_persist() {
        for persists_files in [false, true] {
            let d = "Subject: kept\r\n\r\nbody\r\n";
            let (mut st, dir) = store_with_files("copy-copied", &[(3, d, true), (8, d, false)]);
            st.persists_files = persists_files;
            let _ = st.create(&Mailbox::try_from("Old").unwrap());
            let sid = inbox_session(&mut st);
            st.record_changes();
            let r = st.handle(
                sid,
                Request::Copy {
                    uids: vec![3, 8],
                    mailbox: Mailbox::try_from("Old").unwrap(),
                    last_uid: 8,
                },
            );
            let changes = st.take_changes();
            if !persists_files {
                // Message 8 cannot be read: the whole COPY fails, nothing is added.
                assert_eq!(r.status, imapwire_codec::response::Status::No, "{r:?}");
                assert!(changes.is_empty(), "{changes:?}");
                let _ = std::fs::remove_dir_all(&dir);
                continue;
            }
            assert_eq!(r.status, imapwire_codec::response::Status::Ok, "{r:?}");
            let copied = arrivals(&changes, false, d.len());
            assert_eq!(copied, [(3, 1, true), (8, 2, true)], "{changes:?}");
            assert_eq!(changes.len(), 2, "only the copies: {changes:?}");
            assert_eq!(st.folders[&b"INBOX"[..]].messages.len(), 2);
            let _ = std::fs::remove_dir_all(&dir);
        }
        // Without `persists_files` (any store but the Maildir one) the copy is recorded as
        // added, with its data read from the file.
        let d = "Subject: kept\r\n\r\nbody\r\n";
        let (mut st, dir) = store_with_files("copy-copied-read", &[(3, d, true)]);
        let _ = st.create(&Mailbox::try_from("Old").unwrap());
        let sid = inbox_session(&mut st);
        st.record_changes();
        let r = st.handle(
            sid,
            Request::Copy {
                uids: vec![3],
                mailbox: Mailbox::try_from("Old").unwrap(),
                last_uid: 3,
            },
        );
        assert_eq!(r.status, imapwire_codec::response::Status::Ok, "{r:?}");
        match &st.take_changes()[..] {
            [Change::Added { mailbox, message }] => {
                assert_eq!(&mailbox[..], b"Old");
                assert_eq!(&message.data[..], d.as_bytes());
            }
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A FETCH that sets `\Seen` and fails on a later message (its file cannot be read),
    /// streamed or not: NO [SERVERBUG] (never an empty value), and the earlier messages are
    /// not marked read (nothing was answered), HIGHESTMODSEQ as before.
    #[test]
    fn failed_fetch_marks_nothing_seen() {
        let d = "Subject: x\r\n\r\nbody body body\r\n";
        let (mut st, dir) = store_with_files("fetch-unreadable", &[(1, d, true), (2, d, false)]);
        let sid = inbox_session(&mut st);
        let modseq = st.folders[&b"INBOX"[..]].meta.highest_modseq;
        // Streamed from the file (over the threshold) and read whole (no threshold); the
        // whole message and a header section (parsed).
        let header = FetchAttribute::Rfc822Header;
        for (over, item) in [
            (Some(4), FetchAttribute::Rfc822),
            (None, FetchAttribute::Rfc822),
            (None, header),
        ] {
            st.stream_bodies_over(over);
            let r = st.handle(
                sid,
                Request::Fetch {
                    uids: vec![1, 2],
                    items: FetchItems::Attributes(item.clone().into()),
                    modifiers: vec![],
                    vanished: None,
                },
            );
            assert_eq!(
                r.code,
                Some(ResponseCode::ServerBug),
                "{over:?} {item:?}: {r:?}"
            );
            let f = &st.folders[&b"INBOX"[..]];
            assert!(
                f.messages.iter().all(|m| m.flags.is_empty()),
                "{:?}",
                f.messages
            );
            assert_eq!(f.meta.highest_modseq, modseq);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// RENAME `a` (with child `a/x`) to `b` while `b/x` exists: refused with ALREADYEXISTS
    /// and nothing moves (going on would replace `b/x` and its messages); without the clash
    /// the child moves with its parent.
    #[test]
    fn rename_never_lands_on_an_existing_inferior() {
        let mut st = MemoryStore::new();
        for name in ["a", "a/x", "b/x"] {
            st.create(&Mailbox::try_from(name).unwrap());
        }
        let bx = Mailbox::try_from("b/x").unwrap();
        st.deliver(&bx, Bytes::from_static(b"kept\r\n"), vec![]);
        let names = |st: &MemoryStore| st.folders.keys().cloned().collect::<Vec<_>>();
        let before = names(&st);
        let from = Mailbox::try_from("a").unwrap();
        let r = st.rename(SessionId(0), &from, &Mailbox::try_from("b").unwrap());
        assert_eq!(r.code, Some(ResponseCode::AlreadyExists), "{r:?}");
        assert_eq!(names(&st), before);
        assert_eq!(st.folders[&b"b/x"[..]].messages.len(), 1);
        // Into its own subtree, or onto an ancestor's name: refused, nothing moves (moving
        // one by one, `a/b/b/b/z` would land on `a/b/b/z` before that one moved).
        for (f, t) in [("a", "a/b"), ("a", "a/x/y")] {
            let r = st.rename(
                SessionId(0),
                &Mailbox::try_from(f).unwrap(),
                &Mailbox::try_from(t).unwrap(),
            );
            assert_eq!(r.code, Some(ResponseCode::Cannot), "{f} -> {t}: {r:?}");
            assert_eq!(names(&st), before);
        }
        let mut deep = MemoryStore::new();
        for name in ["a/b", "a/b/b/z", "a/b/b/b/z"] {
            deep.create(&Mailbox::try_from(name).unwrap());
            let m = Mailbox::try_from(name).unwrap();
            deep.deliver(&m, Bytes::from(format!("{name}\r\n")), vec![]);
        }
        let deep_before = names(&deep);
        let r = deep.rename(
            SessionId(0),
            &Mailbox::try_from("a/b").unwrap(),
            &Mailbox::try_from("a").unwrap(),
        );
        assert_eq!(r.code, Some(ResponseCode::Cannot), "{r:?}");
        assert_eq!(names(&deep), deep_before);
        assert_eq!(deep.messages(b"a/b/b/z")[0].2, Bytes::from("a/b/b/z\r\n"));
        let r = st.rename(SessionId(0), &from, &Mailbox::try_from("c").unwrap());
        assert_eq!(r.status, imapwire_codec::response::Status::Ok, "{r:?}");
        assert_eq!(
            names(&st),
            [
                b"INBOX".to_vec(),
                b"b/x".to_vec(),
                b"c".to_vec(),
                b"c/x".to_vec()
            ]
        );
    }

    /// `take_out` gives what a plain filter gives: the messages left in order, the ones
    /// taken with their positions, for position sets of every size (empty, one, the first,
    /// the last, all, runs, scattered) of a 40-message mailbox.
    #[test]
    fn take_out_is_a_filter() {
        let all: Vec<Message> = (1..=40u32)
            .map(|u| Message::new(u * 3, vec![], u64::from(u), 0, Bytes::from(vec![u as u8])))
            .collect();
        let mut seed = 0x9e37_79b9_u32;
        let mut sets: Vec<Vec<usize>> = vec![vec![], vec![0], vec![39], (0..40).collect()];
        sets.push((10..20).collect());
        for n in 1..=40 {
            // xorshift: a scattered set of about n positions
            let mut v: Vec<usize> = (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as usize % 40
                })
                .collect();
            v.sort_unstable();
            v.dedup();
            sets.push(v);
        }
        for at in &sets {
            let want_left: Vec<Message> = all
                .iter()
                .enumerate()
                .filter(|(i, _)| !at.contains(i))
                .map(|(_, m)| m.clone())
                .collect();
            let want_taken: Vec<(usize, Message)> =
                at.iter().map(|&p| (p, all[p].clone())).collect();
            let mut left = all.clone();
            let taken = take_out(&mut left, at);
            assert_eq!(left, want_left, "{at:?}");
            assert_eq!(taken, want_taken, "{at:?}");
        }
    }

    /// Removing one, few and many messages, with a journal and without, unsorted, repeated
    /// and unknown UIDs: the same mailbox left, the same
    /// expunges (ascending), and with a journal a rollback gives back the state before.
    #[test]
    fn remove_few_and_many_with_and_without_journal() {
        for uids in [
            vec![5u32],
            vec![9, 2, 2, 40],
            (1..=40).rev().collect::<Vec<_>>(),
            (3..=30).step_by(2).collect(),
            vec![41, 0],
        ] {
            let mut want: Option<(Vec<u32>, String)> = None;
            for journal in [false, true] {
                let mut st = MemoryStore::new();
                for i in 0..40 {
                    st.deliver(&Mailbox::Inbox, Bytes::from(format!("m{i}\r\n")), vec![]);
                }
                let sid = inbox_session(&mut st);
                let before = st.dump();
                if journal {
                    st.begin();
                }
                let gone = st.remove(sid, b"INBOX", &uids);
                let mut sorted: Vec<u32> = uids
                    .iter()
                    .copied()
                    .filter(|u| (1..=40).contains(u))
                    .collect();
                sorted.sort_unstable();
                sorted.dedup();
                assert_eq!(gone, sorted, "{uids:?}");
                let left: Vec<u32> = st.folders[&b"INBOX"[..]]
                    .messages
                    .iter()
                    .map(|m| m.uid)
                    .collect();
                let want_left: Vec<u32> = (1..=40).filter(|u| !sorted.contains(u)).collect();
                assert_eq!(left, want_left, "{uids:?}");
                let after = st.dump();
                if let Some(w) = &want {
                    assert_eq!(w, &(gone.clone(), after.clone()), "{uids:?}");
                }
                want = Some((gone, after));
                if journal {
                    st.rollback();
                    assert_eq!(st.dump(), before, "{uids:?}");
                }
            }
        }
    }

    #[test]
    fn glob_patterns() {
        assert!(glob(b"*", b"a/b"));
        assert!(!glob(b"%", b"a/b"));
        assert!(glob(b"a/%", b"a/b"));
        assert!(glob(b"inbox", b"INBOX"));
        assert!(!glob(b"a", b"ab"));
    }
}
