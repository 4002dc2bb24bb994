//! The synchronisation step machine (RFC 4549 §4, RFC 7162 §3.1, §3.2, §4).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::num::NonZeroU32;

use bytes::{Bytes, BytesMut};
use imapwire_codec::capability::Capability;
use imapwire_codec::command::{
    AppendData, AppendMessage, CommandBody, FetchModifier, SelectParam, StoreData, StoreModifier,
    StoreType,
};
use imapwire_codec::core::IString;
use imapwire_codec::fetch::{FetchAttribute, FetchAttributes, FetchItems, MessageDataItem};
use imapwire_codec::flag::Flag;
use imapwire_codec::mailbox::Mailbox;
use imapwire_codec::response::{Data, ResponseCode, SearchReturnData, Status};
use imapwire_codec::search::{SearchKey, SearchReturnOption};
use imapwire_codec::sequence::{SeqOrUid, Sequence, SequenceSet, Sequences, UidValidity};

use super::state::{FlagSet, Journal, JournalEntry, LocalChange, MessageState, ReplicaState};
use crate::client::{CommandError, CommandId, Completion, Event, MailboxEvent, SubmitError};

/// The largest MODSEQ value (RFC 7162 §7: `mod-sequence-value` is 63-bit).
pub const MAX_MODSEQ: u64 = i64::MAX as u64;

/// How a synchronisation is done, chosen from what the server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum SyncMode {
    /// RFC 7162 QRESYNC: `SELECT ... (QRESYNC (...))` reports changes and expunges since the
    /// last synchronisation.
    Qresync,
    /// RFC 7162 CONDSTORE: flag changes by `CHANGEDSINCE`, expunges by a UID search.
    Condstore,
    /// RFC 4549: the flags of every known message, expunges by UID difference (also the mode
    /// of a first synchronisation and after a UIDVALIDITY change).
    Full,
}

impl SyncMode {
    /// `qresync`, `condstore` or `full`.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncMode::Qresync => "qresync",
            SyncMode::Condstore => "condstore",
            SyncMode::Full => "full",
        }
    }
}

impl fmt::Display for SyncMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the engine may use and how it fetches.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncConfig {
    /// The mailbox to synchronise.
    pub mailbox: Mailbox,
    /// Fetch the contents of new messages (`BODY.PEEK[]`) and hand them over in
    /// [`NewMessage::body`]. Off: only UIDs and flags; the application fetches bodies itself.
    /// The bodies of one synchronisation are held in memory until its outcome: for the first
    /// synchronisation of a large mailbox, turn this off and fetch bodies in batches.
    pub fetch_bodies: bool,
    /// Use QRESYNC when the server offers it.
    pub use_qresync: bool,
    /// Use CONDSTORE when the server offers it.
    pub use_condstore: bool,
    /// Upper bound for command lines the engine builds (RFC 7162 §4: about 8192 octets);
    /// longer UID sets are split over several commands, or replaced by a range.
    pub max_line: usize,
}

impl SyncConfig {
    /// Defaults: bodies fetched, QRESYNC and CONDSTORE used when offered, lines under 8000
    /// octets.
    pub fn new(mailbox: Mailbox) -> Self {
        SyncConfig {
            mailbox,
            fetch_bodies: true,
            use_qresync: true,
            use_condstore: true,
            max_line: 8000,
        }
    }

    /// Sets [`fetch_bodies`](Self::fetch_bodies).
    pub fn with_fetch_bodies(mut self, on: bool) -> Self {
        self.fetch_bodies = on;
        self
    }

    /// Sets [`use_qresync`](Self::use_qresync) and [`use_condstore`](Self::use_condstore).
    pub fn with_extensions(mut self, qresync: bool, condstore: bool) -> Self {
        self.use_qresync = qresync;
        self.use_condstore = condstore;
        self
    }
}

/// What the application must do next; see [`SyncEngine::poll`].
#[must_use]
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Step {
    /// Submit this command to the client session ([`Client::submit`](crate::client::Client::submit))
    /// and report the result with [`SyncEngine::submitted`] before polling again.
    Submit(CommandBody),
    /// Persist [`SyncEngine::journal`] now (atomically), then poll again: an upload that
    /// must not be repeated after a crash is about to be sent.
    PersistJournal,
    /// Nothing to send until more events arrive: feed them with
    /// [`SyncEngine::handle_event`].
    Wait,
    /// The synchronisation ended: call [`SyncEngine::finish`].
    Done,
}

/// Why a synchronisation failed. The replica state given to the engine is unchanged; the
/// next synchronisation starts from it again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// A command the synchronisation depends on failed (SELECT, a FETCH cut short by an
    /// error, a search).
    #[error("{command} failed: {error}")]
    Command {
        /// Which command.
        command: &'static str,
        /// How.
        error: CommandError,
    },
    /// The session refused a command.
    #[error("command not sent: {0}")]
    Refused(SubmitError),
    /// The connection ended before the synchronisation completed.
    #[error("connection closed during synchronisation")]
    ConnectionLost,
    /// The server broke a rule the synchronisation depends on.
    #[error("server protocol violation: {0}")]
    Protocol(String),
    /// The engine was finished before it said [`Step::Done`].
    #[error("synchronisation not complete")]
    Incomplete,
}

/// A failed synchronisation, with the inputs handed back (the journal may have entries
/// marked [`attempted`](JournalEntry::attempted): keep that version).
#[derive(Debug, Clone)]
pub struct SyncFailure {
    /// What went wrong.
    pub error: SyncError,
    /// The replica state, unchanged.
    pub state: ReplicaState,
    /// The journal, to persist and use next time.
    pub journal: Journal,
}

/// A new message on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Its UID.
    pub uid: u32,
    /// Its flags.
    pub flags: FlagSet,
    /// Its MODSEQ (0: unknown).
    pub modseq: u64,
    /// Its contents, when [`SyncConfig::fetch_bodies`] is set.
    pub body: Option<Bytes>,
}

/// A message whose flags are now different.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagChange {
    /// Its UID.
    pub uid: u32,
    /// The flags now (the new base).
    pub flags: FlagSet,
    /// Its MODSEQ now (0: unknown).
    pub modseq: u64,
}

/// What became of one journal entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resolution {
    /// Applied on the server as recorded.
    Applied,
    /// The server had changed the same message: applied by the merge rule (flags the local
    /// change set or cleared take its value, the others the server's).
    Merged,
    /// The message was gone from the server already: counts as done.
    AlreadyGone,
    /// An append: the message has this UID on the server (`None`: stored, UID not found).
    Appended(Option<u32>),
}

/// The replica's UIDs are void: `UIDVALIDITY` changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UidValidityReset {
    /// The value of the replica.
    pub old: u32,
    /// The server's.
    pub new: u32,
    /// The pending local changes that named UIDs of the old mailbox, removed from the
    /// journal (local appends are kept and uploaded).
    pub discarded: Vec<JournalEntry>,
}

/// The changes the application applies to its local copy, in this order: a reset (discard
/// everything), expunged UIDs, changed flags, new messages, appended-message UIDs. Every
/// change is a plain "set" (idempotent): applying a change set twice is harmless, which is
/// what makes a crash between applying it and saving the state safe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// The UIDVALIDITY the UIDs below belong to (key the local copy by it and the UID).
    pub uidvalidity: Option<u32>,
    /// Discard the replica first.
    pub uidvalidity_reset: Option<UidValidityReset>,
    /// UIDs that no longer exist (expunged by others, or by this synchronisation's uploads).
    pub expunged: Vec<u32>,
    /// Messages whose flags (or MODSEQ) changed.
    pub flags_changed: Vec<FlagChange>,
    /// Messages to add.
    pub new_messages: Vec<NewMessage>,
    /// Journal entries done or resolved, by entry id.
    pub resolved: Vec<(u64, Resolution)>,
}

/// Counts for the user (the example client prints these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SyncReport {
    /// The mode used (`None` when the sync stopped before choosing one).
    pub mode: Option<SyncMode>,
    /// New messages from the server.
    pub downloaded: u64,
    /// Messages whose flags were changed on the server by others.
    pub flags_changed: u64,
    /// Messages expunged on the server by others.
    pub expunged: u64,
    /// Local changes uploaded: each message flagged, deleted, moved or appended counts one.
    pub uploaded: u64,
    /// Messages changed on both sides (merged by the rule of [`Resolution::Merged`]).
    pub conflicts: u64,
    /// The replica was discarded (UIDVALIDITY changed).
    pub uidvalidity_reset: bool,
    /// Uploads the server refused (kept in the journal).
    pub upload_failures: u64,
}

/// The result of a completed synchronisation: apply [`changes`](Self::changes), then
/// persist [`state`](Self::state) and [`journal`](Self::journal) together, atomically.
#[derive(Debug, Clone)]
pub struct SyncOutcome {
    /// What to apply to the local copy.
    pub changes: ChangeSet,
    /// Counts.
    pub report: SyncReport,
    /// The new replica state.
    pub state: ReplicaState,
    /// The journal with the uploaded entries removed.
    pub journal: Journal,
}

/// What the server offers, as the client session knows it.
#[derive(Debug, Clone, Default)]
pub struct ServerInfo {
    /// Advertised capabilities.
    pub capabilities: Vec<Capability>,
    /// Extensions already enabled on the connection (`ENABLE`).
    pub enabled: Vec<Capability>,
}

impl ServerInfo {
    /// From the client session's getters.
    pub fn from_client(client: &crate::client::Client) -> Self {
        ServerInfo {
            capabilities: client
                .capabilities()
                .map(|c| c.advertised().to_vec())
                .unwrap_or_default(),
            enabled: client.enabled().to_vec(),
        }
    }

    fn has(&self, c: &Capability) -> bool {
        self.capabilities.contains(c)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Enable,
    Select,
    /// Looking for an appended message by Message-ID (before a re-append, or for its UID).
    FindAppended {
        entry: u64,
        then_append: bool,
    },
    Append {
        entry: u64,
    },
    /// A flag upload; `conditional`: with UNCHANGEDSINCE.
    Store {
        uid: u32,
        conditional: bool,
    },
    /// The `+FLAGS (\Deleted)` of a deletion.
    DeleteMark {
        uid: u32,
    },
    UidExpunge {
        uids: Vec<u32>,
    },
    Move {
        uid: u32,
    },
    /// UID FETCH of flags (listing: every UID answering is alive).
    FetchFlags {
        listing: bool,
    },
    /// UID SEARCH of the UIDs still there.
    SearchAlive,
    NewMail,
}

impl Pending {
    fn name(&self) -> &'static str {
        match self {
            Pending::Enable => "ENABLE",
            Pending::Select => "SELECT",
            Pending::FindAppended { .. } | Pending::SearchAlive => "UID SEARCH",
            Pending::Append { .. } => "APPEND",
            Pending::Store { .. } | Pending::DeleteMark { .. } => "UID STORE",
            Pending::UidExpunge { .. } => "UID EXPUNGE",
            Pending::Move { .. } => "UID MOVE",
            Pending::FetchFlags { .. } | Pending::NewMail => "UID FETCH",
        }
    }
}

#[derive(Debug)]
enum Item {
    Cmd(CommandBody, Pending),
    Persist,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    Enabling,
    Selecting,
    Uploading,
    Fetching,
    NewMail,
    Done,
}

#[derive(Debug, Default)]
struct Selected {
    uidvalidity: Option<u32>,
    uidnext: Option<u32>,
    highestmodseq: Option<u64>,
    nomodseq: bool,
    exists: u32,
    read_only: bool,
}

/// Per-UID net flag change of the journal.
#[derive(Debug, Clone, Default)]
struct NetFlags {
    add: FlagSet,
    remove: FlagSet,
    entries: Vec<u64>,
}

/// The synchronisation engine for one mailbox: a step machine over a client session; see
/// the [module documentation](super).
#[derive(Debug)]
pub struct SyncEngine {
    cfg: SyncConfig,
    server: ServerInfo,
    state: ReplicaState,
    journal: Journal,
    phase: Phase,
    queue: VecDeque<Item>,
    awaiting: Option<Pending>,
    inflight: Vec<(CommandId, Pending)>,
    error: Option<SyncError>,
    qresync_on: bool,
    condstore_on: bool,
    /// QRESYNC parameters were sent with SELECT.
    qresync_select: bool,
    sel: Selected,
    mode: Option<SyncMode>,
    reset: Option<UidValidityReset>,
    /// UIDs the server reported gone.
    gone: BTreeSet<u32>,
    /// Server-reported flags/MODSEQ of known messages.
    upd: BTreeMap<u32, MessageState>,
    /// New messages (UID above `last_uid`) with what was fetched.
    downloads: BTreeMap<u32, NewMessage>,
    /// UIDs seen in a listing (full FETCH or SEARCH), when one was made.
    alive: Option<BTreeSet<u32>>,
    /// An EXPUNGE whose UID the session could not name arrived: a listing is needed.
    unmapped_expunge: bool,
    /// UIDs changed or removed by this synchronisation's uploads, with the flags expected.
    own_flags: HashMap<u32, FlagSet>,
    own_removed: BTreeSet<u32>,
    /// Appended UIDs (from APPENDUID or the Message-ID search).
    appended: BTreeMap<u32, u64>,
    resolved: Vec<(u64, Resolution)>,
    conflicts: u64,
    upload_failures: u64,
    search_hits: Vec<u32>,
    pending_deletes: Vec<u32>,
    streamed: Option<BytesMut>,
    streamed_done: Option<Bytes>,
    /// The additions and removals of a conditional STORE, for the merge after [MODIFIED].
    merge_sets: HashMap<u32, (FlagSet, FlagSet)>,
    /// UIDs whose upload met a server-side change ([MODIFIED]) and was merged.
    merged: BTreeSet<u32>,
    /// The UID of each UID-based journal entry.
    entry_uids: HashMap<u64, u32>,
    /// UIDs whose upload the server refused (their entries stay in the journal).
    failed_uids: BTreeSet<u32>,
    /// Appends the server refused.
    failed_entries: BTreeSet<u64>,
    /// The state as given, while a UIDVALIDITY reset replaced it (handed back on failure).
    original: Option<ReplicaState>,
    /// Journal entries a UIDVALIDITY reset discards (removed from the journal only with the
    /// outcome: a journal persisted during the sync still holds them).
    discard_ids: BTreeSet<u64>,
}

fn nz(v: u32) -> NonZeroU32 {
    NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN)
}

/// A UID set from sorted UIDs, runs compressed, split so each encodes in at most `budget`
/// octets.
pub(crate) fn uid_sets(uids: &[u32], budget: usize) -> Vec<SequenceSet> {
    let mut out = Vec::new();
    let mut cur: Vec<Sequence> = Vec::new();
    let mut len = 0usize;
    let mut i = 0;
    while i < uids.len() {
        let a = uids[i];
        let mut b = a;
        while i + 1 < uids.len() && uids[i + 1] == b.wrapping_add(1) {
            b = uids[i + 1];
            i += 1;
        }
        i += 1;
        if a == 0 {
            continue;
        }
        let item_len = 11 + if a == b { 0 } else { 11 };
        if len + item_len > budget && !cur.is_empty() {
            out.push(SequenceSet::Set(std::mem::take(&mut cur).into()));
            len = 0;
        }
        len += item_len;
        cur.push(if a == b {
            Sequence::Single(SeqOrUid::Value(nz(a)))
        } else {
            Sequence::Range(SeqOrUid::Value(nz(a)), SeqOrUid::Value(nz(b)))
        });
    }
    if !cur.is_empty() {
        out.push(SequenceSet::Set(cur.into()));
    }
    out
}

fn range_from(a: u32) -> SequenceSet {
    SequenceSet::Set(Sequences::one(Sequence::Range(
        SeqOrUid::Value(nz(a)),
        SeqOrUid::Asterisk,
    )))
}

fn attrs(v: Vec<FetchAttribute>) -> FetchItems {
    FetchItems::Attributes(FetchAttributes::new(v).unwrap_or_else(|_| {
        FetchAttributes::new(vec![FetchAttribute::Uid]).expect("one attribute")
    }))
}

fn modseq_valid(m: Option<u64>) -> Option<u64> {
    m.filter(|&m| m > 0 && m <= MAX_MODSEQ)
}

impl SyncEngine {
    /// An engine for one synchronisation of `cfg.mailbox`, from the persisted `state` and
    /// `journal`. Start it in the authenticated state (or with any mailbox selected: the
    /// engine selects its own).
    pub fn new(cfg: SyncConfig, server: ServerInfo, state: ReplicaState, journal: Journal) -> Self {
        SyncEngine {
            cfg,
            server,
            state,
            journal,
            phase: Phase::Start,
            queue: VecDeque::new(),
            awaiting: None,
            inflight: Vec::new(),
            error: None,
            qresync_on: false,
            condstore_on: false,
            qresync_select: false,
            sel: Selected::default(),
            mode: None,
            reset: None,
            gone: BTreeSet::new(),
            upd: BTreeMap::new(),
            downloads: BTreeMap::new(),
            alive: None,
            unmapped_expunge: false,
            own_flags: HashMap::new(),
            own_removed: BTreeSet::new(),
            appended: BTreeMap::new(),
            resolved: Vec::new(),
            conflicts: 0,
            upload_failures: 0,
            search_hits: Vec::new(),
            pending_deletes: Vec::new(),
            streamed: None,
            streamed_done: None,
            merge_sets: HashMap::new(),
            merged: BTreeSet::new(),
            entry_uids: HashMap::new(),
            failed_uids: BTreeSet::new(),
            failed_entries: BTreeSet::new(),
            original: None,
            discard_ids: BTreeSet::new(),
        }
    }

    /// The journal as it must be persisted at a [`Step::PersistJournal`].
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The mode chosen, once the mailbox is selected.
    pub fn mode(&self) -> Option<SyncMode> {
        self.mode
    }

    /// The next thing to do. Call it after [`new`](Self::new), after every
    /// [`submitted`](Self::submitted), and after feeding events, until it says
    /// [`Step::Wait`] or [`Step::Done`].
    pub fn poll(&mut self) -> Step {
        loop {
            if self.error.is_some() || self.phase == Phase::Done {
                return Step::Done;
            }
            if self.awaiting.is_some() {
                // `submitted` was not called: nothing else can go out before it.
                return Step::Wait;
            }
            if let Some(item) = self.queue.pop_front() {
                return match item {
                    Item::Persist => Step::PersistJournal,
                    Item::Cmd(body, p) => {
                        self.awaiting = Some(p);
                        Step::Submit(body)
                    }
                };
            }
            if !self.inflight.is_empty() {
                return Step::Wait;
            }
            self.advance();
        }
    }

    /// Reports what [`Client::submit`](crate::client::Client::submit) returned for the
    /// command of the last [`Step::Submit`].
    pub fn submitted(&mut self, result: Result<CommandId, SubmitError>) {
        let Some(p) = self.awaiting.take() else {
            return;
        };
        match result {
            Ok(id) => self.inflight.push((id, p)),
            Err(e) if p == Pending::Enable => {
                // ENABLE is refused outside the authenticated state: go on without QRESYNC.
                let _ = e;
            }
            Err(e) => self.fail(SyncError::Refused(e)),
        }
    }

    /// Feeds one event of the client session (every event, in order; the engine ignores
    /// what is not its business, and the application may use the same events).
    pub fn handle_event(&mut self, event: &Event) {
        match event {
            Event::Data(d) => self.on_data(d),
            Event::Status { status, text } if *status == Status::Ok => self.on_code(text.code()),
            Event::Completed { id, result } => self.on_completed(*id, result),
            Event::Mailbox(MailboxEvent::Expunged { uid, .. }) => {
                self.sel.exists = self.sel.exists.saturating_sub(1);
                match uid {
                    Some(u) => {
                        self.gone.insert(*u);
                    }
                    None => self.unmapped_expunge = true,
                }
            }
            Event::BodyBegin(b) => self.streamed = Some(BytesMut::from(&b.data[..])),
            Event::BodyChunk(c) => {
                if let Some(b) = &mut self.streamed {
                    b.extend_from_slice(c);
                }
            }
            Event::BodyEnd => self.streamed_done = self.streamed.take().map(|b| b.freeze()),
            Event::Closed(_) if self.phase != Phase::Done => self.fail(SyncError::ConnectionLost),
            _ => {}
        }
    }

    /// Ends the synchronisation: the outcome to apply and persist, or the failure with the
    /// inputs handed back.
    pub fn finish(mut self) -> Result<SyncOutcome, Box<SyncFailure>> {
        let error = match self.error.take() {
            Some(e) => Some(e),
            None if self.phase != Phase::Done => Some(SyncError::Incomplete),
            None => None,
        };
        if let Some(error) = error {
            let state = self.original.take().unwrap_or(self.state);
            return Err(Box::new(SyncFailure {
                error,
                state,
                journal: self.journal,
            }));
        }
        Ok(self.apply())
    }

    // ---- planning ----

    fn fail(&mut self, e: SyncError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    fn push(&mut self, body: CommandBody, p: Pending) {
        self.queue.push_back(Item::Cmd(body, p));
    }

    /// Queues `UID STORE uid +FLAGS.SILENT (\Deleted)`.
    fn mark_deleted(&mut self, uid: u32) {
        self.push(
            CommandBody::Store {
                sequence_set: SequenceSet::single(nz(uid)),
                modifiers: Vec::new(),
                kind: StoreType::Add,
                silent: true,
                data: StoreData::Flags(vec![Flag::Deleted].into()),
                uid: true,
            },
            Pending::DeleteMark { uid },
        );
    }

    fn advance(&mut self) {
        match self.phase {
            Phase::Start => {
                let want_qresync = self.cfg.use_qresync && self.server.has(&Capability::QResync);
                if want_qresync && self.server.enabled.contains(&Capability::QResync) {
                    self.qresync_on = true;
                }
                if want_qresync && !self.qresync_on {
                    self.phase = Phase::Enabling;
                    self.push(
                        CommandBody::Enable(vec![Capability::QResync]),
                        Pending::Enable,
                    );
                } else {
                    self.plan_select();
                }
            }
            Phase::Enabling => self.plan_select(),
            Phase::Selecting => self.plan_uploads(),
            Phase::Uploading => self.plan_fetch(),
            Phase::Fetching => self.plan_new_mail(),
            Phase::NewMail | Phase::Done => self.phase = Phase::Done,
        }
    }

    fn plan_select(&mut self) {
        self.phase = Phase::Selecting;
        let condstore_offered =
            self.cfg.use_condstore && (self.server.has(&Capability::CondStore) || self.qresync_on);
        let mut params = Vec::new();
        if self.qresync_on {
            self.condstore_on = true;
            if let (Some(uv), Some(m)) = (
                self.state
                    .uidvalidity
                    .and_then(|v| UidValidity::new(v).ok()),
                modseq_valid(self.state.highestmodseq),
            ) {
                // known-uids: exact when short, else `1:last` (a superset: the server may
                // name UIDs never known, which are ignored).
                let budget = self
                    .cfg
                    .max_line
                    .saturating_sub(100 + self.cfg.mailbox.as_bytes().len());
                let known = self.known_uids(budget).or_else(|| {
                    (self.state.last_uid > 0)
                        .then(|| SequenceSet::range(NonZeroU32::MIN, nz(self.state.last_uid)))
                });
                params.push(SelectParam::QResync {
                    uidvalidity: uv,
                    modseq: m,
                    known_uids: known,
                    seq_match_data: None,
                });
                self.qresync_select = true;
            }
        } else if condstore_offered {
            self.condstore_on = true;
            params.push(SelectParam::CondStore);
        }
        self.push(
            CommandBody::Select {
                mailbox: self.cfg.mailbox.clone(),
                params,
            },
            Pending::Select,
        );
    }

    /// The replica's UIDs as one set encoding in at most `budget` octets; `None` when they
    /// do not fit (or there are none). A dense replica is one range, found without walking it.
    fn known_uids(&self, budget: usize) -> Option<SequenceSet> {
        let m = &self.state.messages;
        let (&first, &last) = (m.keys().next()?, m.keys().next_back()?);
        if first == last {
            return Some(SequenceSet::single(nz(first)));
        }
        if (last - first) as usize + 1 == m.len() {
            return Some(SequenceSet::range(nz(first), nz(last)));
        }
        let mut seqs = Vec::new();
        let mut len = 0usize;
        let mut run: Option<(u32, u32)> = None;
        let close = |a: u32, b: u32, seqs: &mut Vec<Sequence>, len: &mut usize| {
            *len += 11 + if a == b { 0 } else { 11 };
            seqs.push(if a == b {
                Sequence::Single(SeqOrUid::Value(nz(a)))
            } else {
                Sequence::Range(SeqOrUid::Value(nz(a)), SeqOrUid::Value(nz(b)))
            });
        };
        for &u in m.keys() {
            run = match run {
                Some((a, b)) if u == b + 1 => Some((a, u)),
                Some((a, b)) => {
                    close(a, b, &mut seqs, &mut len);
                    if len > budget {
                        return None;
                    }
                    Some((u, u))
                }
                None => Some((u, u)),
            };
        }
        if let Some((a, b)) = run {
            close(a, b, &mut seqs, &mut len);
        }
        (len <= budget).then_some(SequenceSet::Set(seqs.into()))
    }

    /// After SELECT: UIDVALIDITY, mode, then the uploads.
    fn plan_uploads(&mut self) {
        self.phase = Phase::Uploading;
        let Some(uv) = self.sel.uidvalidity else {
            self.fail(SyncError::Protocol("SELECT reported no UIDVALIDITY".into()));
            return;
        };
        let sel_hms = if self.sel.nomodseq || !self.condstore_on {
            None
        } else {
            modseq_valid(self.sel.highestmodseq)
        };
        self.sel.highestmodseq = sel_hms;
        if let Some(old) = self.state.uidvalidity.filter(|&o| o != uv) {
            // Discard the replica and the UID-based journal entries; keep the appends.
            let discarded: Vec<JournalEntry> = self
                .journal
                .entries()
                .iter()
                .filter(|e| e.change.uid().is_some())
                .cloned()
                .collect();
            self.discard_ids = discarded.iter().map(|e| e.id).collect();
            self.reset = Some(UidValidityReset {
                old,
                new: uv,
                discarded,
            });
            self.original = Some(std::mem::take(&mut self.state));
            // Data that came with the SELECT described the new mailbox in terms the
            // replica no longer has.
            self.gone.clear();
            self.upd.clear();
        }
        let state_hms = modseq_valid(self.state.highestmodseq);
        self.mode = Some(match (sel_hms, state_hms) {
            (Some(s), Some(o)) if s >= o && self.reset.is_none() => {
                if self.qresync_select {
                    SyncMode::Qresync
                } else {
                    SyncMode::Condstore
                }
            }
            _ => SyncMode::Full,
        });
        if self.mode != Some(SyncMode::Qresync) {
            // VANISHED/FETCH data a QRESYNC SELECT sent is only trusted in QRESYNC mode.
            self.upd.clear();
            self.gone.clear();
        }
        if self.sel.read_only {
            return;
        }
        self.plan_journal();
    }

    fn plan_journal(&mut self) {
        let conditional = matches!(self.mode, Some(SyncMode::Qresync | SyncMode::Condstore));
        let mut net: BTreeMap<u32, NetFlags> = BTreeMap::new();
        let mut removed: BTreeSet<u32> = BTreeSet::new();
        let entries: Vec<JournalEntry> = self
            .journal
            .entries()
            .iter()
            .filter(|e| !self.discard_ids.contains(&e.id))
            .cloned()
            .collect();
        for e in &entries {
            match &e.change {
                LocalChange::Append {
                    message,
                    flags,
                    message_id,
                } => {
                    if e.attempted {
                        self.push(
                            self.find_by_message_id(message_id),
                            Pending::FindAppended {
                                entry: e.id,
                                then_append: true,
                            },
                        );
                    } else {
                        self.queue_append(e.id, message.clone(), flags);
                    }
                }
                change => {
                    let uid = change.uid().unwrap_or(0);
                    let known = self.state.messages.contains_key(&uid)
                        && !self.gone.contains(&uid)
                        && !removed.contains(&uid);
                    if !known {
                        self.resolved.push((e.id, Resolution::AlreadyGone));
                        continue;
                    }
                    match change {
                        LocalChange::Flags { add, remove, .. } => {
                            self.entry_uids.insert(e.id, uid);
                            let n = net.entry(uid).or_default();
                            n.add.subtract(remove);
                            n.remove.subtract(add);
                            n.add.union_with(add);
                            n.remove.union_with(remove);
                            n.entries.push(e.id);
                        }
                        LocalChange::Delete { .. } => {
                            self.entry_uids.insert(e.id, uid);
                            removed.insert(uid);
                            self.resolve_net(&mut net, uid);
                            self.mark_deleted(uid);
                            self.resolved.push((e.id, Resolution::Applied));
                            self.own_removed.insert(uid);
                        }
                        LocalChange::Move { to, .. } => {
                            self.entry_uids.insert(e.id, uid);
                            removed.insert(uid);
                            self.resolve_net(&mut net, uid);
                            let mailbox = Mailbox::from_utf8_as_utf7(to)
                                .unwrap_or_else(|_| self.cfg.mailbox.clone());
                            if self.server.has(&Capability::Move) {
                                self.push(
                                    CommandBody::Move {
                                        sequence_set: SequenceSet::single(nz(uid)),
                                        mailbox,
                                        uid: true,
                                    },
                                    Pending::Move { uid },
                                );
                            } else {
                                self.push(
                                    CommandBody::Copy {
                                        sequence_set: SequenceSet::single(nz(uid)),
                                        mailbox,
                                        uid: true,
                                    },
                                    Pending::Move { uid },
                                );
                                self.mark_deleted(uid);
                            }
                            self.resolved.push((e.id, Resolution::Applied));
                            self.own_removed.insert(uid);
                        }
                        _ => {}
                    }
                }
            }
        }
        for (uid, n) in net {
            let Some(base) = self.state.messages.get(&uid) else {
                continue;
            };
            let mut want = base.flags.clone();
            want.union_with(&n.add);
            want.subtract(&n.remove);
            for id in &n.entries {
                self.resolved.push((*id, Resolution::Applied));
            }
            if n.add.is_empty() && n.remove.is_empty() {
                continue;
            }
            let modseq = base.modseq;
            self.own_flags.insert(uid, want.clone());
            if conditional && modseq > 0 && modseq <= MAX_MODSEQ {
                self.push(
                    CommandBody::Store {
                        sequence_set: SequenceSet::single(nz(uid)),
                        modifiers: vec![StoreModifier::UnchangedSince(modseq)],
                        kind: StoreType::Replace,
                        silent: false,
                        data: StoreData::Flags(want.to_flags().into()),
                        uid: true,
                    },
                    Pending::Store {
                        uid,
                        conditional: true,
                    },
                );
                // The add/remove sets for a merge after [MODIFIED].
                self.merge_sets.insert(uid, (n.add, n.remove));
            } else {
                self.push_unconditional(uid, &n.add, &n.remove);
            }
        }
        if !self.own_removed.is_empty() && self.server.has(&Capability::UidPlus) {
            self.pending_deletes = self.own_removed.iter().copied().collect();
        }
    }

    fn resolve_net(&mut self, net: &mut BTreeMap<u32, NetFlags>, uid: u32) {
        if let Some(n) = net.remove(&uid) {
            for id in n.entries {
                self.resolved.push((id, Resolution::Applied));
            }
        }
    }

    fn push_unconditional(&mut self, uid: u32, add: &FlagSet, remove: &FlagSet) {
        for (kind, set) in [(StoreType::Add, add), (StoreType::Remove, remove)] {
            if set.is_empty() {
                continue;
            }
            self.push(
                CommandBody::Store {
                    sequence_set: SequenceSet::single(nz(uid)),
                    modifiers: Vec::new(),
                    kind,
                    silent: false,
                    data: StoreData::Flags(set.to_flags().into()),
                    uid: true,
                },
                Pending::Store {
                    uid,
                    conditional: false,
                },
            );
        }
    }

    fn find_by_message_id(&self, message_id: &str) -> CommandBody {
        let name = IString::new(Bytes::from_static(b"Message-ID")).expect("valid");
        let value = IString::new(Bytes::copy_from_slice(message_id.as_bytes()))
            .unwrap_or_else(|_| IString::new(Bytes::from_static(b"<>")).expect("valid"));
        CommandBody::Search {
            return_opts: None,
            charset: None,
            criteria: vec![SearchKey::Header(name, value)],
            uid: true,
        }
    }

    fn queue_append(&mut self, entry: u64, message: Bytes, flags: &FlagSet) {
        if let Some(e) = self
            .journal
            .entries_mut()
            .iter_mut()
            .find(|e| e.id == entry)
        {
            e.attempted = true;
        }
        self.queue.push_back(Item::Persist);
        self.push(
            CommandBody::Append {
                mailbox: self.cfg.mailbox.clone(),
                messages: vec![AppendMessage {
                    flags: flags.to_flags(),
                    date: None,
                    extensions: Vec::new(),
                    data: AppendData::Literal {
                        data: message,
                        binary: false,
                    },
                }],
            },
            Pending::Append { entry },
        );
    }

    /// After the uploads: the flags and expunges the mode needs.
    fn plan_fetch(&mut self) {
        self.phase = Phase::Fetching;
        if !self.pending_deletes.is_empty() {
            // UID EXPUNGE of our own UIDs only (UIDPLUS); it ran before the flag fetch so
            // the listing does not see them.
            let uids = std::mem::take(&mut self.pending_deletes);
            for chunk in uids.chunks(500) {
                for set in uid_sets(chunk, self.cfg.max_line.saturating_sub(40)) {
                    self.push(
                        CommandBody::UidExpunge(set),
                        Pending::UidExpunge {
                            uids: chunk.to_vec(),
                        },
                    );
                }
            }
            self.phase = Phase::Uploading;
            return;
        }
        let last = self.state.last_uid;
        let with_modseq = self.condstore_on && self.sel.highestmodseq.is_some();
        let mut items = vec![FetchAttribute::Uid, FetchAttribute::Flags];
        if with_modseq {
            items.push(FetchAttribute::ModSeq);
        }
        let known = !self.state.messages.is_empty() && last > 0;
        match self.mode {
            Some(SyncMode::Full) if known => {
                self.alive = Some(BTreeSet::new());
                if self.sel.exists > 0 {
                    self.push(
                        CommandBody::Fetch {
                            sequence_set: SequenceSet::range(NonZeroU32::MIN, nz(last)),
                            items: attrs(items),
                            modifiers: Vec::new(),
                            uid: true,
                        },
                        Pending::FetchFlags { listing: true },
                    );
                }
            }
            Some(SyncMode::Condstore) if known => {
                let since = self.state.highestmodseq.unwrap_or(1);
                if self.sel.exists > 0 {
                    self.push(
                        CommandBody::Fetch {
                            sequence_set: SequenceSet::range(NonZeroU32::MIN, nz(last)),
                            items: attrs(items),
                            modifiers: vec![FetchModifier::ChangedSince(since)],
                            uid: true,
                        },
                        Pending::FetchFlags { listing: false },
                    );
                }
                self.plan_listing(last);
            }
            Some(SyncMode::Qresync) if known => {
                // Our own uploads: their flags and MODSEQs now.
                let mut mine: Vec<u32> = self
                    .own_flags
                    .keys()
                    .copied()
                    .filter(|u| !self.gone.contains(u))
                    .collect();
                mine.sort_unstable();
                if self.sel.exists > 0 {
                    for set in uid_sets(&mine, self.cfg.max_line.saturating_sub(80)) {
                        self.push(
                            CommandBody::Fetch {
                                sequence_set: set,
                                items: attrs(items.clone()),
                                modifiers: Vec::new(),
                                uid: true,
                            },
                            Pending::FetchFlags { listing: false },
                        );
                    }
                }
                if self.unmapped_expunge {
                    self.plan_listing(last);
                }
            }
            _ => {}
        }
    }

    fn plan_listing(&mut self, last: u32) {
        self.alive = Some(BTreeSet::new());
        if self.sel.exists == 0 {
            return;
        }
        let esearch =
            self.server.has(&Capability::ESearch) || self.server.has(&Capability::Imap4Rev2);
        self.push(
            CommandBody::Search {
                return_opts: esearch.then(|| vec![SearchReturnOption::All]),
                charset: None,
                criteria: vec![SearchKey::Uid(SequenceSet::range(
                    NonZeroU32::MIN,
                    nz(last),
                ))],
                uid: true,
            },
            Pending::SearchAlive,
        );
    }

    fn plan_new_mail(&mut self) {
        self.phase = Phase::NewMail;
        let last = self.state.last_uid;
        // Cross-check UIDNEXT (never HIGHESTMODSEQ alone): new mail exists iff UIDNEXT
        // moved past last+1, or our own appends may have added some.
        let maybe_new = match self.sel.uidnext {
            Some(n) => n > last.saturating_add(1) || !self.appended.is_empty(),
            None => true,
        } || self.reset.is_some()
            || self
                .resolved
                .iter()
                .any(|(_, r)| matches!(r, Resolution::Appended(_)));
        if !maybe_new || self.sel.exists == 0 || last == u32::MAX {
            return;
        }
        let mut items = vec![FetchAttribute::Uid, FetchAttribute::Flags];
        if self.condstore_on && self.sel.highestmodseq.is_some() {
            items.push(FetchAttribute::ModSeq);
        }
        if self.cfg.fetch_bodies {
            items.push(FetchAttribute::BodySection {
                section: None,
                partial: None,
                peek: true,
            });
        }
        self.push(
            CommandBody::Fetch {
                sequence_set: range_from(last + 1),
                items: attrs(items),
                modifiers: Vec::new(),
                uid: true,
            },
            Pending::NewMail,
        );
    }

    // ---- input ----

    fn on_code(&mut self, code: Option<&ResponseCode>) {
        let Some(code) = code else { return };
        if self.phase != Phase::Selecting {
            // Codes after the SELECT do not change what this synchronisation stands on,
            // except HIGHESTMODSEQ (kept at its SELECT value, see the docs) and UIDNEXT.
            return;
        }
        match code {
            ResponseCode::UidValidity(v) => self.sel.uidvalidity = Some(v.get()),
            ResponseCode::UidNext(u) => self.sel.uidnext = Some(u.get()),
            ResponseCode::HighestModSeq(m) => self.sel.highestmodseq = Some(*m),
            ResponseCode::NoModSeq => self.sel.nomodseq = true,
            ResponseCode::ReadOnly => self.sel.read_only = true,
            ResponseCode::Closed => {
                // RFC 7162 §3.2.11: what came before was about the previous mailbox.
                self.sel = Selected::default();
                self.gone.clear();
                self.upd.clear();
            }
            _ => {}
        }
    }

    fn on_data(&mut self, d: &Data) {
        match d {
            Data::Enabled(c) if c.contains(&Capability::QResync) => self.qresync_on = true,
            Data::Exists(n) => self.sel.exists = *n,
            Data::Vanished { earlier, uids } => {
                if !earlier {
                    let n = u32::try_from(uids.len()).unwrap_or(u32::MAX);
                    self.sel.exists = self.sel.exists.saturating_sub(n);
                }
                // Bounded by what the replica knows: a range may name UIDs never seen.
                for r in uids.ranges() {
                    let (lo, hi) = r.bounds();
                    let known: Vec<u32> = self
                        .state
                        .messages
                        .range(lo.get()..=hi.get())
                        .map(|(u, _)| *u)
                        .chain(self.downloads.range(lo.get()..=hi.get()).map(|(u, _)| *u))
                        .chain(self.appended.range(lo.get()..=hi.get()).map(|(u, _)| *u))
                        .collect();
                    self.gone.extend(known);
                }
            }
            Data::Fetch { items, .. } => self.on_fetch(items),
            Data::UidFetch { uid, items } => {
                let u = uid.get();
                self.on_fetch_uid(u, items);
            }
            Data::Search { ids, .. } => {
                self.search_hits.extend(ids.iter().map(|n| n.get()));
            }
            Data::ESearch(e) if e.uid => {
                for item in &e.data {
                    if let SearchReturnData::All(set) = item {
                        // Bounded by the UIDs that can exist: a hostile `1:4294967295` must
                        // not become four billion entries.
                        let bound = self
                            .state
                            .last_uid
                            .max(self.sel.uidnext.unwrap_or(0))
                            .saturating_add(self.journal.entries().len() as u32 + 1024);
                        for r in set.ranges() {
                            let (lo, hi) = r.bounds();
                            if lo.get() > bound {
                                continue;
                            }
                            self.search_hits.extend(lo.get()..=hi.get().min(bound));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn on_fetch(&mut self, items: &[MessageDataItem]) {
        let Some(uid) = items.iter().find_map(|i| match i {
            MessageDataItem::Uid(u) => Some(u.get()),
            _ => None,
        }) else {
            // Without a UID the data cannot be tied to a message (with QRESYNC enabled
            // the server must send it, RFC 7162 §3.2.4); listings ask for it.
            return;
        };
        self.on_fetch_uid(uid, items);
    }

    fn on_fetch_uid(&mut self, uid: u32, items: &[MessageDataItem]) {
        let mut flags = None;
        let mut modseq = None;
        let mut body = None;
        for i in items {
            match i {
                MessageDataItem::Flags(f) => flags = Some(FlagSet::from_fetch(f.iter())),
                MessageDataItem::ModSeq(m) => modseq = Some(*m),
                MessageDataItem::BodySection {
                    section: None,
                    data,
                    ..
                } => {
                    let b = data.as_ref().map(|s| s.to_bytes()).unwrap_or_default();
                    body = Some(match self.streamed_done.take() {
                        Some(s) if b.is_empty() => s,
                        _ => b,
                    });
                }
                _ => {}
            }
        }
        let listing = self
            .inflight
            .iter()
            .any(|(_, p)| *p == Pending::FetchFlags { listing: true });
        if listing {
            if let Some(a) = &mut self.alive {
                a.insert(uid);
            }
        }
        let last = self.state.last_uid;
        if uid <= last {
            // Known message (a `n:*` range always returns the top message: never a new one).
            if !self.state.messages.contains_key(&uid) {
                return;
            }
            let base = self.upd.get(&uid).or_else(|| self.state.messages.get(&uid));
            let mut m = base.cloned().unwrap_or_default();
            if let Some(f) = flags {
                m.flags = f;
            }
            if let Some(ms) = modseq {
                m.modseq = ms.min(MAX_MODSEQ);
            }
            self.upd.insert(uid, m);
            return;
        }
        let in_new_mail = self.inflight.iter().any(|(_, p)| *p == Pending::NewMail);
        if !in_new_mail {
            // New messages are taken from the new-mail fetch only (it asks for all items).
            return;
        }
        let entry = self.downloads.entry(uid).or_insert(NewMessage {
            uid,
            flags: FlagSet::new(),
            modseq: 0,
            body: None,
        });
        if let Some(f) = flags {
            entry.flags = f;
        }
        if let Some(ms) = modseq {
            entry.modseq = ms.min(MAX_MODSEQ);
        }
        if body.is_some() {
            entry.body = body;
        }
    }

    fn on_completed(&mut self, id: CommandId, result: &Result<Completion, CommandError>) {
        let Some(i) = self.inflight.iter().position(|(c, _)| *c == id) else {
            return;
        };
        let (_, p) = self.inflight.remove(i);
        let code = match result {
            Ok(c) => c.code.as_ref(),
            Err(CommandError::No { code, .. } | CommandError::Bad { code, .. }) => code.as_ref(),
            Err(_) => None,
        };
        match (&p, result) {
            (Pending::Enable, _) => {}
            (Pending::Select, Ok(c)) => {
                if matches!(c.code, Some(ResponseCode::ReadOnly)) {
                    self.sel.read_only = true;
                }
            }
            (Pending::Store { uid, conditional }, _) => {
                if let Some(ResponseCode::Modified(set)) = code {
                    let hit = match set {
                        SequenceSet::Set(_) => set.contains(*uid, u32::MAX),
                        SequenceSet::LastResult => true,
                    };
                    if hit && *conditional {
                        // Changed on both sides: merge by applying our additions and
                        // removals to whatever the server has now.
                        self.conflicts += 1;
                        if let Some((add, remove)) = self.merge_sets.remove(uid) {
                            self.push_unconditional(*uid, &add, &remove);
                        }
                        self.merged.insert(*uid);
                        return;
                    }
                }
                if result.is_err() {
                    self.failed_uids.insert(*uid);
                    self.upload_failed(result);
                }
            }
            (Pending::DeleteMark { uid } | Pending::Move { uid }, Err(_)) => {
                self.failed_uids.insert(*uid);
                self.upload_failed(result);
            }
            (Pending::UidExpunge { uids }, Err(_)) => {
                self.failed_uids.extend(uids.iter().copied());
                self.upload_failed(result);
            }
            (Pending::DeleteMark { .. } | Pending::Move { .. } | Pending::UidExpunge { .. }, _) => {
            }
            (Pending::Append { entry }, Ok(c)) => {
                let entry = *entry;
                let uid = match &c.code {
                    Some(ResponseCode::AppendUid { uid_validity, uids })
                        if Some(uid_validity.get()) == self.sel.uidvalidity =>
                    {
                        uids.iter().next()
                    }
                    _ => None,
                };
                match uid {
                    Some(u) => self.appended_as(entry, Some(u)),
                    None => {
                        // No UIDPLUS: find it by Message-ID.
                        let mid = self.journal.entries().iter().find_map(|e| match &e.change {
                            LocalChange::Append { message_id, .. } if e.id == entry => {
                                Some(message_id.clone())
                            }
                            _ => None,
                        });
                        match mid {
                            Some(m) => {
                                self.search_hits.clear();
                                self.push(
                                    self.find_by_message_id(&m),
                                    Pending::FindAppended {
                                        entry,
                                        then_append: false,
                                    },
                                );
                            }
                            None => self.appended_as(entry, None),
                        }
                    }
                }
            }
            (Pending::Append { entry }, Err(_)) => {
                self.failed_entries.insert(*entry);
                self.upload_failed(result);
            }
            (Pending::FindAppended { entry, then_append }, Ok(_)) => {
                let (entry, then_append) = (*entry, *then_append);
                let hits = std::mem::take(&mut self.search_hits);
                // The newest copy above what the replica knew (older ones are someone
                // else's message with the same Message-ID, or were downloaded already).
                let found = hits
                    .into_iter()
                    .filter(|u| *u > self.state.last_uid && !self.appended.contains_key(u))
                    .max();
                match found {
                    Some(u) => self.appended_as(entry, Some(u)),
                    None if then_append => {
                        let e = self
                            .journal
                            .entries()
                            .iter()
                            .find(|e| e.id == entry)
                            .cloned();
                        if let Some(JournalEntry {
                            change: LocalChange::Append { message, flags, .. },
                            ..
                        }) = e
                        {
                            self.queue_append(entry, message, &flags);
                        }
                    }
                    None => self.appended_as(entry, None),
                }
            }
            (Pending::FindAppended { entry, .. }, Err(_)) => {
                self.failed_entries.insert(*entry);
                self.upload_failed(result);
            }
            (Pending::SearchAlive, Ok(_)) => {
                let hits = std::mem::take(&mut self.search_hits);
                if let Some(a) = &mut self.alive {
                    a.extend(hits);
                }
            }
            (_, Err(e)) => {
                let e = e.clone();
                self.fail(match e {
                    CommandError::ConnectionLost => SyncError::ConnectionLost,
                    error => SyncError::Command {
                        command: p.name(),
                        error,
                    },
                });
            }
            _ => {}
        }
    }

    fn upload_failed(&mut self, result: &Result<Completion, CommandError>) {
        match result {
            Err(CommandError::No { .. } | CommandError::Bad { .. }) => self.upload_failures += 1,
            Err(CommandError::ConnectionLost) => self.fail(SyncError::ConnectionLost),
            Err(e) => self.fail(SyncError::Command {
                command: "upload",
                error: e.clone(),
            }),
            Ok(_) => {}
        }
    }

    fn appended_as(&mut self, entry: u64, uid: Option<u32>) {
        self.resolved.push((entry, Resolution::Appended(uid)));
        if let Some(u) = uid {
            self.appended.insert(u, entry);
        }
    }

    // ---- the outcome ----

    fn apply(mut self) -> SyncOutcome {
        let mut changes = ChangeSet {
            uidvalidity: self.sel.uidvalidity,
            uidvalidity_reset: self.reset.take(),
            ..ChangeSet::default()
        };
        let mut report = SyncReport {
            mode: self.mode,
            uidvalidity_reset: changes.uidvalidity_reset.is_some(),
            conflicts: self.conflicts,
            upload_failures: self.upload_failures,
            ..SyncReport::default()
        };
        let mut st = std::mem::take(&mut self.state);
        let last_before = st.last_uid;
        // The journal: entries whose upload failed stay (and are not resolved).
        let failed_uids = std::mem::take(&mut self.failed_uids);
        let failed_entries = std::mem::take(&mut self.failed_entries);
        let entry_uids = std::mem::take(&mut self.entry_uids);
        let merged = std::mem::take(&mut self.merged);
        let mut resolved = std::mem::take(&mut self.resolved);
        resolved.retain(|(id, _)| {
            !failed_entries.contains(id)
                && entry_uids.get(id).is_none_or(|u| !failed_uids.contains(u))
        });
        for (id, r) in &mut resolved {
            if *r == Resolution::Applied && entry_uids.get(id).is_some_and(|u| merged.contains(u)) {
                *r = Resolution::Merged;
            }
        }
        // Expunges found by a listing of 1:last (the levels without QRESYNC find them only
        // after the uploads): reported gone like the others.
        if let Some(alive) = &self.alive {
            let missing: Vec<u32> = st
                .messages
                .keys()
                .copied()
                .filter(|u| *u <= last_before && !alive.contains(u))
                .collect();
            self.gone.extend(missing);
        }
        // A flag change sent to a message another client had expunged (the server answers
        // `OK` to a UID STORE of a UID that no longer exists) was not applied: the message
        // was already gone.
        for (id, r) in &mut resolved {
            if matches!(r, Resolution::Applied | Resolution::Merged)
                && entry_uids
                    .get(id)
                    .is_some_and(|u| self.gone.contains(u) && !self.own_removed.contains(u))
            {
                *r = Resolution::AlreadyGone;
            }
        }
        // Uploaded: each message flagged, deleted or moved, and each append, once.
        let mut up: BTreeSet<u32> = BTreeSet::new();
        for (id, r) in &resolved {
            match r {
                Resolution::Applied | Resolution::Merged => {
                    if let Some(u) = entry_uids.get(id) {
                        up.insert(*u);
                    }
                }
                Resolution::Appended(_) => report.uploaded += 1,
                _ => {}
            }
        }
        report.uploaded += up.len() as u64;
        let appends: HashMap<u64, (Bytes, FlagSet)> = self
            .journal
            .entries()
            .iter()
            .filter_map(|e| match &e.change {
                LocalChange::Append { message, flags, .. } => {
                    Some((e.id, (message.clone(), flags.clone())))
                }
                _ => None,
            })
            .collect();
        let done: BTreeSet<u64> = resolved.iter().map(|(id, _)| *id).collect();
        let discard = std::mem::take(&mut self.discard_ids);
        self.journal
            .entries_mut()
            .retain(|e| !done.contains(&e.id) && !discard.contains(&e.id));

        // 1. Expunges: reported gone, or missing from the listing (added above).
        for uid in std::mem::take(&mut self.gone) {
            let had = st.messages.remove(&uid).is_some();
            let had_new = self.downloads.remove(&uid).is_some();
            let had_app = self.appended.remove(&uid).is_some();
            self.upd.remove(&uid);
            if had || had_new || had_app {
                if had {
                    changes.expunged.push(uid);
                }
                if had && !self.own_removed.contains(&uid) {
                    report.expunged += 1;
                }
            }
        }
        // 2. Flags of known messages.
        for (uid, m) in std::mem::take(&mut self.upd) {
            let Some(cur) = st.messages.get_mut(&uid) else {
                continue;
            };
            if *cur == m {
                continue;
            }
            let own = self.own_flags.get(&uid);
            if cur.flags != m.flags && own != Some(&m.flags) {
                report.flags_changed += 1;
                if own.is_some() && !merged.contains(&uid) {
                    // Changed on both sides, seen by comparison (no UNCHANGEDSINCE used).
                    report.conflicts += 1;
                }
            }
            *cur = m.clone();
            changes.flags_changed.push(FlagChange {
                uid,
                flags: m.flags,
                modseq: m.modseq,
            });
        }
        // 3. New messages, our appends among them (known locally: never downloaded as
        // someone else's, never twice).
        let mut last = last_before;
        let mut appended = std::mem::take(&mut self.appended);
        for (uid, mut n) in std::mem::take(&mut self.downloads) {
            last = last.max(uid);
            match appended.remove(&uid) {
                Some(entry) => {
                    if n.body.is_none() {
                        n.body = appends.get(&entry).map(|(b, _)| b.clone());
                    }
                }
                None => report.downloaded += 1,
            }
            st.messages.insert(
                uid,
                MessageState {
                    flags: n.flags.clone(),
                    modseq: n.modseq,
                },
            );
            changes.new_messages.push(n);
        }
        // Appends the new-mail fetch did not return (it did not run, or raced).
        for (uid, entry) in appended {
            let Some((body, flags)) = appends.get(&entry) else {
                continue;
            };
            last = last.max(uid);
            st.messages.insert(
                uid,
                MessageState {
                    flags: flags.clone(),
                    modseq: 0,
                },
            );
            changes.new_messages.push(NewMessage {
                uid,
                flags: flags.clone(),
                modseq: 0,
                body: Some(body.clone()),
            });
        }
        // 4. Only now the new position: UIDVALIDITY, HIGHESTMODSEQ of the SELECT (every
        // change up to it is applied above), UIDNEXT.
        st.last_uid = last;
        st.uidvalidity = self.sel.uidvalidity;
        st.highestmodseq = self.sel.highestmodseq;
        st.uidnext = self.sel.uidnext;
        changes.resolved = resolved;
        SyncOutcome {
            changes,
            report,
            state: st,
            journal: self.journal,
        }
    }
}
