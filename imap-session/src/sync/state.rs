//! The persisted replica of one mailbox and the journal of local changes (RFC 4549 §3,
//! RFC 7162 §3.1, §3.2): plain values the application stores between synchronisations.

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;
use imapwire_codec::core::Atom;
use imapwire_codec::flag::{Flag, FlagFetch};

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// The five system flags of RFC 9051 §2.3.2, one bit each in [`FlagSet`].
const SYSTEM: [(&str, u8); 5] = [
    ("\\Answered", 1),
    ("\\Flagged", 2),
    ("\\Deleted", 4),
    ("\\Seen", 8),
    ("\\Draft", 16),
];

/// A set of message flags (RFC 9051 §2.3.2): the system flags as bits, other flags
/// (keywords, `\Extension` flags) by name. Compact: a message with system flags only costs
/// one byte and an empty `Vec`. `\Recent` is never stored (it is session state).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct FlagSet {
    system: u8,
    /// Sorted, no duplicates; keywords compared byte for byte (servers echo them as stored).
    others: Vec<Box<str>>,
}

impl FlagSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set from flag names (`\Seen`, `$Forwarded`, ...); system flag names in any case.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut s = FlagSet::new();
        for n in names {
            s.insert(n);
        }
        s
    }

    /// Adds a flag by name.
    pub fn insert(&mut self, name: &str) {
        if let Some(bit) = system_bit(name) {
            self.system |= bit;
        } else if let Err(i) = self.others.binary_search_by(|o| (**o).cmp(name)) {
            self.others.insert(i, name.into());
        }
    }

    /// Removes a flag by name.
    pub fn remove(&mut self, name: &str) {
        if let Some(bit) = system_bit(name) {
            self.system &= !bit;
        } else if let Ok(i) = self.others.binary_search_by(|o| (**o).cmp(name)) {
            self.others.remove(i);
        }
    }

    /// Whether the set holds `name`.
    pub fn contains(&self, name: &str) -> bool {
        match system_bit(name) {
            Some(bit) => self.system & bit != 0,
            None => self.others.binary_search_by(|o| (**o).cmp(name)).is_ok(),
        }
    }

    /// No flags.
    pub fn is_empty(&self) -> bool {
        self.system == 0 && self.others.is_empty()
    }

    /// The flag names, system flags first.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        SYSTEM
            .iter()
            .filter(|(_, b)| self.system & b != 0)
            .map(|(n, _)| *n)
            .chain(self.others.iter().map(|s| &**s))
    }

    /// The flags in `self` and not in `other`.
    pub fn difference(&self, other: &FlagSet) -> FlagSet {
        FlagSet {
            system: self.system & !other.system,
            others: self
                .others
                .iter()
                .filter(|o| !other.others.contains(o))
                .cloned()
                .collect(),
        }
    }

    /// Adds every flag of `other`.
    pub fn union_with(&mut self, other: &FlagSet) {
        self.system |= other.system;
        for o in &other.others {
            self.insert(o);
        }
    }

    /// Removes every flag of `other`.
    pub fn subtract(&mut self, other: &FlagSet) {
        self.system &= !other.system;
        self.others.retain(|o| !other.others.contains(o));
    }

    /// From a FETCH `FLAGS` list (`\Recent` dropped).
    pub fn from_fetch<'a>(flags: impl IntoIterator<Item = &'a FlagFetch>) -> Self {
        let mut s = FlagSet::new();
        for f in flags {
            if let FlagFetch::Flag(f) = f {
                s.insert_flag(f);
            }
        }
        s
    }

    /// Adds a codec flag.
    pub fn insert_flag(&mut self, f: &Flag) {
        let bit = match f {
            Flag::Answered => 1,
            Flag::Flagged => 2,
            Flag::Deleted => 4,
            Flag::Seen => 8,
            Flag::Draft => 16,
            Flag::Keyword(a) => return self.insert(&String::from_utf8_lossy(a.as_bytes())),
            Flag::Extension(a) => {
                return self.insert(&format!("\\{}", String::from_utf8_lossy(a.as_bytes())));
            }
            _ => return,
        };
        self.system |= bit;
    }

    /// The flags as codec values (names that are not valid flags are left out).
    pub fn to_flags(&self) -> Vec<Flag> {
        self.iter().filter_map(flag_from_name).collect()
    }
}

impl fmt::Debug for FlagSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

fn system_bit(name: &str) -> Option<u8> {
    SYSTEM
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, b)| *b)
}

fn flag_from_name(name: &str) -> Option<Flag> {
    match name.strip_prefix('\\') {
        Some(sys) => Atom::new(Bytes::copy_from_slice(sys.as_bytes()))
            .ok()
            .map(Flag::system),
        None => Flag::keyword(name).ok(),
    }
}

/// What the replica knows of one message: its flags as of the last synchronisation (the
/// *base* of the three-way merge) and its MODSEQ then.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct MessageState {
    /// The flags the server reported at the last synchronisation.
    pub flags: FlagSet,
    /// Its MODSEQ then (RFC 7162, 63-bit); 0 when unknown.
    pub modseq: u64,
}

/// The persisted state of a local replica of one mailbox: what the server said at the end
/// of the last completed synchronisation. [`ReplicaState::default`] is the state of a
/// replica that was never synchronised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ReplicaState {
    /// `UIDVALIDITY` of the mailbox the UIDs belong to; `None` before the first sync.
    pub uidvalidity: Option<u32>,
    /// `HIGHESTMODSEQ` (RFC 7162) up to which every change is in the replica; `None` when
    /// unknown (never synchronised, `NOMODSEQ`, or a server that said 0).
    pub highestmodseq: Option<u64>,
    /// `UIDNEXT` as reported at the last synchronisation, for the cross-check.
    pub uidnext: Option<u32>,
    /// The highest UID whose message the replica has (or had): new mail is `last_uid+1:*`.
    pub last_uid: u32,
    /// The messages, by UID.
    pub messages: BTreeMap<u32, MessageState>,
}

/// One local change, made while offline or between synchronisations, to be uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[non_exhaustive]
pub enum LocalChange {
    /// Flags added and removed on message `uid`, relative to the replica's base flags.
    Flags {
        /// The message.
        uid: u32,
        /// Flags set locally.
        add: FlagSet,
        /// Flags cleared locally.
        remove: FlagSet,
    },
    /// Message `uid` deleted locally (`\Deleted`, then `UID EXPUNGE` of this UID only).
    Delete {
        /// The message.
        uid: u32,
    },
    /// Message `uid` moved locally to another mailbox (`UID MOVE`).
    Move {
        /// The message.
        uid: u32,
        /// The target mailbox name (UTF-8; sent modified-UTF-7 encoded where needed).
        to: String,
    },
    /// A message added locally (`APPEND`). It must carry a `Message-ID` header: after a
    /// crash, or without UIDPLUS, the engine finds the appended copy by it and never
    /// appends twice.
    Append {
        /// The whole message (RFC 5322).
        #[cfg_attr(feature = "serde", serde(with = "bytes_serde"))]
        message: Bytes,
        /// Its flags.
        flags: FlagSet,
        /// The value of its `Message-ID` header, with the angle brackets.
        message_id: String,
    },
}

impl LocalChange {
    /// The UID the change is about (`None` for an append).
    pub fn uid(&self) -> Option<u32> {
        match self {
            LocalChange::Flags { uid, .. }
            | LocalChange::Delete { uid }
            | LocalChange::Move { uid, .. } => Some(*uid),
            LocalChange::Append { .. } => None,
        }
    }
}

#[cfg(feature = "serde")]
mod bytes_serde {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(b)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        Vec::<u8>::deserialize(d).map(Bytes::from)
    }
}

/// A journal entry: a local change and whether an upload of it may have reached the server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct JournalEntry {
    /// Its number in the journal (unique, increasing).
    pub id: u64,
    /// The change.
    pub change: LocalChange,
    /// An upload was started (set, and persisted, before an APPEND is sent: the next
    /// attempt looks for the message by `Message-ID` first).
    pub attempted: bool,
}

/// The local changes not yet uploaded, in the order they were made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Journal {
    next_id: u64,
    entries: Vec<JournalEntry>,
}

impl Journal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a local change; returns its entry id.
    pub fn record(&mut self, change: LocalChange) -> u64 {
        self.next_id += 1;
        self.entries.push(JournalEntry {
            id: self.next_id,
            change,
            attempted: false,
        });
        self.next_id
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> &[JournalEntry] {
        &self.entries
    }

    /// No pending change.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn entries_mut(&mut self) -> &mut Vec<JournalEntry> {
        &mut self.entries
    }
}
