//! The message sequence number to UID map of a selected mailbox (RFC 9051 §2.3.1.1,
//! §2.3.1.2, §7.5.1 EXPUNGE; RFC 7162 §3.2.10 VANISHED).
//!
//! A client learns the number of messages from `EXISTS` and the UIDs from `FETCH` data, in any
//! order; an `EXPUNGE n` renumbers every later message. [`SeqMap`] keeps, for every sequence
//! number from 1 to [`len`](SeqMap::len), the message's UID if it is known, and answers both
//! directions quickly for mailboxes of millions of messages.
//!
//! # Representation
//!
//! The messages are cut into blocks, in sequence order:
//!
//! - a *run*: `len` messages whose UIDs are `first, first+1, ...` (a dense range costs one
//!   block, whatever its length: 1,000,000 consecutive UIDs take a few dozen bytes);
//! - a *list*: up to [`LIST_MAX`] explicit UIDs (4 bytes per message);
//! - an *unknown* stretch: `len` messages whose UIDs have not been reported yet (after
//!   `EXISTS`, before the `FETCH (UID)` that names them).
//!
//! UIDs strictly increase with sequence numbers (RFC 9051 §2.3.1.1), so the blocks are sorted
//! by UID as well, and a UID is found by binary search over the blocks, then inside one block.
//! A Fenwick tree over the block lengths turns a sequence number into a block and back in
//! O(log b) for b blocks. Changing a message count (an expunge, a UID learned at a block's
//! edge) updates the tree in O(log b); adding or removing block i recomputes the tree from i
//! on, O((b - i) log b): a few entries for UIDs learned near the end (where an EXISTS adds
//! messages), at most O(b log b) once per a few hundred operations on lists or per expunge
//! inside a long run; b stays near n / 512 for sparse UIDs.
//!
//! # Errors
//!
//! Every operation that the server's data drives returns a typed [`SeqMapError`] for data that
//! contradicts the map (a sequence number past the end, a UID out of order, a UID that changed),
//! and leaves the map unchanged: a misbehaving server is reported, never a panic.

use std::fmt;

use imapwire_codec::sequence::{SeqNum, Uid};

/// Most UIDs one list block holds; a full list splits in two.
pub const LIST_MAX: usize = 1024;
/// Lists shorter than this merge with a neighbouring list when the two fit in one.
const LIST_MIN: usize = LIST_MAX / 4;
/// Runs shorter than this are kept as lists (a run block costs as much as eight UIDs in a
/// list, and short runs would multiply the blocks).
const RUN_MIN: u32 = 64;

/// Data from the server that contradicts what the map holds. The map is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SeqMapError {
    /// The sequence number is larger than the number of messages.
    #[error("message {seq} does not exist (the mailbox has {len} messages)")]
    NoSuchMessage {
        /// The sequence number received.
        seq: u32,
        /// The number of messages known.
        len: u32,
    },
    /// The UID would not lie strictly between its neighbours' UIDs (RFC 9051 §2.3.1.1: UIDs
    /// ascend with sequence numbers).
    #[error("UID {uid} for message {seq} is out of order")]
    OutOfOrder {
        /// The sequence number.
        seq: u32,
        /// The UID reported for it.
        uid: u32,
    },
    /// The message already has another UID (a UID never changes while a mailbox is selected).
    #[error("message {seq} has UID {known}, the server now says {uid}")]
    UidChanged {
        /// The sequence number.
        seq: u32,
        /// The UID known before.
        known: u32,
        /// The UID reported now.
        uid: u32,
    },
    /// `EXISTS` reported fewer messages than known without expunges (RFC 9051 §7.4.1: the
    /// number never decreases except by EXPUNGE/VANISHED).
    #[error("EXISTS {exists} is below the {len} messages known")]
    ExistsDecreased {
        /// The value received.
        exists: u32,
        /// The number of messages known.
        len: u32,
    },
    /// The map already holds 2^32 - 1 messages.
    #[error("the mailbox cannot hold more messages")]
    Full,
    /// A new message's UID is not above every known UID.
    #[error("appended UID {uid} is not above the last known UID {last}")]
    AppendOutOfOrder {
        /// The UID appended.
        uid: u32,
        /// The highest known UID.
        last: u32,
    },
}

#[derive(Clone, PartialEq, Eq)]
enum Block {
    Run { first: u32, len: u32 },
    List(Vec<u32>),
    Unknown { len: u32 },
}

impl Block {
    #[inline]
    fn len(&self) -> u32 {
        match self {
            Block::Run { len, .. } | Block::Unknown { len } => *len,
            Block::List(v) => v.len() as u32,
        }
    }

    /// The UID at `off`, `None` for an unknown stretch.
    fn get(&self, off: u32) -> Option<u32> {
        match self {
            Block::Run { first, .. } => Some(first + off),
            Block::List(v) => v.get(off as usize).copied(),
            Block::Unknown { .. } => None,
        }
    }

    fn first_uid(&self) -> Option<u32> {
        match self {
            Block::Run { first, .. } => Some(*first),
            Block::List(v) => v.first().copied(),
            Block::Unknown { .. } => None,
        }
    }

    fn last_uid(&self) -> Option<u32> {
        match self {
            Block::Run { first, len } => Some(first + len - 1),
            Block::List(v) => v.last().copied(),
            Block::Unknown { .. } => None,
        }
    }

    /// Offset of `uid` inside a known block.
    fn position(&self, uid: u32) -> Option<u32> {
        match self {
            Block::Run { first, len } => (uid >= *first && uid - first < *len).then(|| uid - first),
            Block::List(v) => v.binary_search(&uid).ok().map(|i| i as u32),
            Block::Unknown { .. } => None,
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Block::List(v) => v.capacity() * 4,
            _ => 0,
        }
    }
}

/// A Fenwick (binary indexed) tree of block lengths.
#[derive(Clone)]
struct Fenwick {
    /// 1-based; `t[0]` unused (always present).
    t: Vec<u32>,
}

impl Default for Fenwick {
    fn default() -> Self {
        Fenwick { t: vec![0] }
    }
}

impl Fenwick {
    fn len(&self) -> usize {
        self.t.len() - 1
    }

    /// Sum of blocks `0..i`.
    fn prefix(&self, mut i: usize) -> u32 {
        let mut s = 0;
        while i > 0 {
            s += self.t[i];
            i &= i - 1;
        }
        s
    }

    fn add(&mut self, i: usize, delta: i64) {
        let mut j = i + 1;
        while j < self.t.len() {
            self.t[j] = (i64::from(self.t[j]) + delta) as u32;
            j += j & j.wrapping_neg();
        }
    }

    /// Keeps the first `n` blocks (their entries do not depend on later ones).
    fn truncate(&mut self, n: usize) {
        self.t.truncate(n + 1);
    }

    /// Appends a block of length `v`.
    fn push(&mut self, v: u32) {
        let i = self.t.len();
        let low = i & i.wrapping_neg();
        let node = v + self.prefix(i - 1) - self.prefix(i - low);
        self.t.push(node);
    }

    /// The block holding the message at 0-based position `k` (`k` < total) and the number of
    /// messages before that block.
    fn find(&self, mut k: u32) -> (usize, u32) {
        let n = self.len();
        let mut pos = 0usize;
        let mut before = 0u32;
        let mut step = if n == 0 {
            0
        } else {
            1usize << (usize::BITS - 1 - n.leading_zeros())
        };
        while step > 0 {
            let next = pos + step;
            if next <= n && self.t[next] <= k {
                pos = next;
                k -= self.t[next];
                before += self.t[next];
            }
            step >>= 1;
        }
        (pos, before)
    }
}

/// Sequence numbers to UIDs and back for one selected mailbox; see the [module
/// documentation](self).
#[derive(Clone, Default)]
pub struct SeqMap {
    blocks: Vec<Block>,
    index: Fenwick,
    len: u32,
}

impl fmt::Debug for SeqMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeqMap")
            .field("len", &self.len)
            .field("blocks", &self.blocks.len())
            .field("unknown", &self.unknown())
            .finish()
    }
}

impl SeqMap {
    /// An empty map (a mailbox with no messages).
    pub fn new() -> Self {
        SeqMap {
            blocks: Vec::new(),
            index: Fenwick::default(),
            len: 0,
        }
    }

    /// A map of messages whose UIDs are all known, in ascending order.
    pub fn from_uids(uids: impl IntoIterator<Item = Uid>) -> Result<Self, SeqMapError> {
        let mut m = SeqMap::new();
        for u in uids {
            m.push(u)?;
        }
        Ok(m)
    }

    /// The number of messages (the last `EXISTS`, less expunges since).
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the mailbox is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many messages have no known UID yet.
    pub fn unknown(&self) -> u32 {
        self.blocks
            .iter()
            .map(|b| match b {
                Block::Unknown { len } => *len,
                _ => 0,
            })
            .sum()
    }

    /// The highest known UID.
    pub fn last_uid(&self) -> Option<Uid> {
        self.blocks
            .iter()
            .rev()
            .find_map(Block::last_uid)
            .and_then(|u| Uid::new(u).ok())
    }

    /// Heap memory held, in bytes (for the benchmarks' bytes-per-message figures).
    pub fn heap_bytes(&self) -> usize {
        self.blocks.capacity() * std::mem::size_of::<Block>()
            + self.blocks.iter().map(Block::heap_bytes).sum::<usize>()
            + self.index.t.capacity() * 4
    }

    /// The UID of message `seq`: `Ok(None)` while it is unknown.
    pub fn uid(&self, seq: SeqNum) -> Result<Option<Uid>, SeqMapError> {
        let (b, off) = self.locate(seq.get())?;
        Ok(self.blocks[b].get(off).and_then(|u| Uid::new(u).ok()))
    }

    /// The sequence number of the message with `uid`, if it is in the map.
    pub fn seq(&self, uid: Uid) -> Option<SeqNum> {
        let uid = uid.get();
        let b = self.block_of_uid(uid)?;
        let off = self.blocks[b].position(uid)?;
        SeqNum::new(self.index.prefix(b) + off + 1).ok()
    }

    /// `EXISTS n`: the mailbox now has `n` messages; the new ones have unknown UIDs.
    pub fn set_exists(&mut self, n: u32) -> Result<(), SeqMapError> {
        if n < self.len {
            return Err(SeqMapError::ExistsDecreased {
                exists: n,
                len: self.len,
            });
        }
        let add = n - self.len;
        if add == 0 {
            return Ok(());
        }
        let last = self.blocks.len().wrapping_sub(1);
        if let Some(Block::Unknown { len }) = self.blocks.last_mut() {
            *len += add;
            self.index.add(last, i64::from(add));
        } else {
            self.blocks.push(Block::Unknown { len: add });
            self.index.push(add);
        }
        self.len = n;
        Ok(())
    }

    /// Appends a message with a known UID above every known UID (a message that arrived with
    /// its UID, or a replica rebuilt from stored UIDs).
    pub fn push(&mut self, uid: Uid) -> Result<SeqNum, SeqMapError> {
        let uid = uid.get();
        if let Some(last) = self.blocks.iter().rev().find_map(Block::last_uid) {
            if uid <= last {
                return Err(SeqMapError::AppendOutOfOrder { uid, last });
            }
        }
        if self.len == u32::MAX {
            return Err(SeqMapError::Full);
        }
        let n = self.blocks.len();
        // A short run at the end that `uid` does not continue can no longer grow: keep it as
        // a list, which `uid` can join.
        if let Some(Block::Run { first, len }) = self.blocks.last() {
            if *first + *len != uid && *len < RUN_MIN {
                let (f, l) = (*first, *len);
                let mut v = Vec::with_capacity(16.max(l as usize + 1));
                v.extend(f..f + l);
                self.blocks[n - 1] = Block::List(v);
            }
        }
        let appended = match self.blocks.last_mut() {
            Some(Block::Run { first, len }) if *first + *len == uid => {
                *len += 1;
                true
            }
            Some(Block::List(v)) if v.len() < LIST_MAX => {
                push_list(v, uid);
                true
            }
            _ => false,
        };
        self.len += 1;
        if appended {
            self.index.add(n - 1, 1);
        } else {
            self.blocks.push(Block::Run { first: uid, len: 1 });
            self.index.push(1);
        }
        Ok(SeqNum::new(self.len).unwrap_or(SeqNum::MAX))
    }

    /// `FETCH` data named the UID of message `seq`. Returns whether it was new information.
    pub fn set_uid(&mut self, seq: SeqNum, uid: Uid) -> Result<bool, SeqMapError> {
        let (s, u) = (seq.get(), uid.get());
        if let Some(done) = self.set_uid_at_fill_point(s, u) {
            return Ok(done);
        }
        let (b, off) = self.locate(s)?;
        if let Some(known) = self.blocks[b].get(off) {
            return if known == u {
                Ok(false)
            } else {
                Err(SeqMapError::UidChanged {
                    seq: s,
                    known,
                    uid: u,
                })
            };
        }
        // Order against the nearest known neighbours (unknown stretches are merged, so the
        // neighbour blocks of an unknown stretch are known).
        let prev = self.blocks[..b].iter().rev().find_map(Block::last_uid);
        let next = self.blocks[b + 1..].iter().find_map(Block::first_uid);
        let gap_before = off;
        let gap_after = self.blocks[b].len() - off - 1;
        // Each unknown message before needs a UID of its own below `u`, and so on.
        let low_ok = match prev {
            Some(p) => u64::from(u) > u64::from(p) + u64::from(gap_before),
            None => u64::from(u) > u64::from(gap_before),
        };
        let high_ok = match next {
            Some(nx) => u64::from(u) + u64::from(gap_after) < u64::from(nx),
            None => u64::from(u) + u64::from(gap_after) <= u64::from(u32::MAX),
        };
        if !low_ok || !high_ok {
            return Err(SeqMapError::OutOfOrder { seq: s, uid: u });
        }
        // `get` is `None` only inside an unknown stretch: block `b` is one.
        let len = self.blocks[b].len();
        // Common case: UIDs learned in order, each at the front of the unknown stretch and
        // right after a known block that can take it.
        if off == 0 && b > 0 {
            let took = match &mut self.blocks[b - 1] {
                Block::Run { first, len } if *first + *len == u => {
                    *len += 1;
                    true
                }
                Block::List(v) if v.len() < LIST_MAX => {
                    push_list(v, u);
                    true
                }
                _ => false,
            };
            if took {
                self.index.add(b - 1, 1);
                if len == 1 {
                    self.blocks.remove(b);
                    self.rebuild_from(b);
                    self.normalize_at(b - 1);
                } else {
                    self.blocks[b] = Block::Unknown { len: len - 1 };
                    self.index.add(b, -1);
                    // The block that grew can only need work when it is short (a merge
                    // with its neighbour) or a list that became one contiguous range;
                    // the common case (a long list growing by one) needs none.
                    let grown = &self.blocks[b - 1];
                    // Short, and its other neighbour (the one after is unknown) is a list it
                    // fits in with.
                    let short = (grown.len() as usize) < LIST_MIN
                        && b >= 2
                        && matches!(&self.blocks[b - 2], Block::List(w)
                            if w.len() + grown.len() as usize <= LIST_MAX);
                    let contiguous = matches!(grown, Block::List(v)
                        if v.len() == RUN_MIN as usize
                            && v[v.len() - 1] - v[0] == (v.len() - 1) as u32);
                    if short || contiguous {
                        self.normalize_at(b - 1);
                    }
                }
                return Ok(true);
            }
        }
        // Otherwise split the unknown stretch around the new UID.
        let mut repl = Vec::with_capacity(3);
        if off > 0 {
            repl.push(Block::Unknown { len: off });
        }
        repl.push(Block::Run { first: u, len: 1 });
        if len - off - 1 > 0 {
            repl.push(Block::Unknown { len: len - off - 1 });
        }
        let at = b + usize::from(off > 0);
        self.blocks.splice(b..=b, repl);
        self.rebuild_from(b);
        self.normalize_at(at);
        Ok(true)
    }

    /// The common case of [`set_uid`](Self::set_uid), in O(1): UIDs reported in order for
    /// the messages an `EXISTS` added, i.e. `seq` is the first message of an unknown stretch
    /// at the end, right after a known block that `uid` extends. `None`: not that case (the
    /// general path decides, errors included).
    #[inline]
    fn set_uid_at_fill_point(&mut self, s: u32, u: u32) -> Option<bool> {
        let n = self.blocks.len();
        if n < 2 {
            return None;
        }
        let Block::Unknown { len } = self.blocks[n - 1] else {
            return None;
        };
        if s != self.len - len + 1 || u64::from(u) + u64::from(len - 1) > u64::from(u32::MAX) {
            return None;
        }
        match &mut self.blocks[n - 2] {
            Block::Run { first, len: rl } if *first + *rl == u => *rl += 1,
            Block::List(v) if v.len() < LIST_MAX && v.last().is_some_and(|&l| l < u) => {
                push_list(v, u)
            }
            _ => return None,
        }
        if len == 1 {
            self.blocks.pop();
            self.rebuild_from(n - 2);
            self.normalize_at(n - 2);
        } else {
            if let Block::Unknown { len } = &mut self.blocks[n - 1] {
                *len -= 1;
            }
            self.index.add(n - 2, 1);
            self.index.add(n - 1, -1);
            let grown = &self.blocks[n - 2];
            let short = (grown.len() as usize) < LIST_MIN
                && n >= 3
                && matches!(&self.blocks[n - 3], Block::List(w)
                    if w.len() + grown.len() as usize <= LIST_MAX);
            // A list can only become one contiguous range while it grows to RUN_MIN (after
            // that, one gap stays a gap): checked at that length only.
            let contiguous = matches!(grown, Block::List(v)
                if v.len() == RUN_MIN as usize
                    && v[v.len() - 1] - v[0] == (v.len() - 1) as u32);
            if short || contiguous {
                self.normalize_at(n - 2);
            }
        }
        Some(true)
    }

    /// `EXPUNGE seq`: removes the message; every later message's number drops by one.
    /// Returns its UID when it was known.
    pub fn expunge(&mut self, seq: SeqNum) -> Result<Option<Uid>, SeqMapError> {
        let (b, off) = self.locate(seq.get())?;
        let uid = self.blocks[b].get(off);
        self.remove_at(b, off);
        Ok(uid.and_then(|u| Uid::new(u).ok()))
    }

    /// A live `VANISHED` (RFC 7162 §3.2.10) for one UID: removes the message and returns the
    /// sequence number it had, or `None` when no message with that UID is in the map (UIDs of
    /// messages whose UID is not known yet cannot be matched: see [`unknown`](Self::unknown)).
    pub fn remove_uid(&mut self, uid: Uid) -> Option<SeqNum> {
        let u = uid.get();
        let b = self.block_of_uid(u)?;
        let off = self.blocks[b].position(u)?;
        let seq = self.index.prefix(b) + off + 1;
        self.remove_at(b, off);
        SeqNum::new(seq).ok()
    }

    /// A live `VANISHED` for the UIDs `lo..=hi` (either order): removes every message of the
    /// map in that range, however large the range is (the cost depends on the messages
    /// removed, not on the range). Returns the sequence numbers they had, each as it was at
    /// its own removal (the order EXPUNGE responses would have given).
    pub fn remove_uid_range(&mut self, lo: u32, hi: u32) -> Vec<SeqNum> {
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        let mut out = Vec::new();
        while let Some((b, off, uid)) = self.first_known_at_or_above(lo) {
            if uid > hi {
                break;
            }
            let seq = self.index.prefix(b) + off + 1;
            self.remove_at(b, off);
            if let Ok(s) = SeqNum::new(seq) {
                out.push(s);
            }
        }
        out
    }

    /// The first known UID at or above `uid`: block, offset and the UID.
    fn first_known_at_or_above(&self, uid: u32) -> Option<(usize, u32, u32)> {
        let b = self.block_of_uid(uid)?;
        match &self.blocks[b] {
            Block::Run { first, len } => {
                let u = uid.max(*first);
                (u - first < *len).then_some((b, u - first, u))
            }
            Block::List(v) => {
                let i = v.partition_point(|&x| x < uid);
                v.get(i).map(|&u| (b, i as u32, u))
            }
            Block::Unknown { .. } => None,
        }
    }

    /// All messages in sequence order: `(seq, uid)`.
    pub fn iter(&self) -> impl Iterator<Item = (SeqNum, Option<Uid>)> + '_ {
        self.blocks
            .iter()
            .flat_map(|b| (0..b.len()).map(move |o| b.get(o)))
            .enumerate()
            .filter_map(|(i, u)| {
                let s = SeqNum::new(u32::try_from(i + 1).ok()?).ok()?;
                Some((s, u.and_then(|u| Uid::new(u).ok())))
            })
    }

    // ---- internals ----

    /// Block index and offset of sequence number `seq`.
    fn locate(&self, seq: u32) -> Result<(usize, u32), SeqMapError> {
        if seq == 0 || seq > self.len {
            return Err(SeqMapError::NoSuchMessage { seq, len: self.len });
        }
        // The last block first: UIDs are mostly learned for the newest messages (the
        // unknown stretch an EXISTS added at the end).
        if let Some(last) = self.blocks.last() {
            let start = self.len - last.len();
            if seq > start {
                return Ok((self.blocks.len() - 1, seq - 1 - start));
            }
        }
        let (b, before) = self.index.find(seq - 1);
        Ok((b, seq - 1 - before))
    }

    /// The known block that could hold `uid`.
    fn block_of_uid(&self, uid: u32) -> Option<usize> {
        // `last_known(i)`: the highest known UID in blocks 0..=i; non-decreasing in i.
        // Unknown stretches never touch each other, so the block before one is known.
        let last_known = |i: usize| -> u32 {
            match self.blocks[i].last_uid() {
                Some(u) => u,
                None => i
                    .checked_sub(1)
                    .and_then(|j| self.blocks[j].last_uid())
                    .unwrap_or(0),
            }
        };
        let mut lo = 0usize;
        let mut hi = self.blocks.len();
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if last_known(mid) < uid {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (lo < self.blocks.len()).then_some(lo)
    }

    fn remove_at(&mut self, b: usize, off: u32) {
        self.len -= 1;
        match &mut self.blocks[b] {
            Block::Unknown { len } | Block::Run { len, .. } if *len == 1 => {
                self.blocks.remove(b);
                self.rebuild_from(b);
                self.normalize_around(b);
                return;
            }
            Block::Unknown { len } => *len -= 1,
            Block::Run { first, len } => {
                if off == 0 {
                    *first += 1;
                    *len -= 1;
                } else if off == *len - 1 {
                    *len -= 1;
                } else {
                    let (f, l) = (*first, *len);
                    let left = Block::Run { first: f, len: off };
                    let right = Block::Run {
                        first: f + off + 1,
                        len: l - off - 1,
                    };
                    self.blocks.splice(b..=b, [left, right]);
                    self.rebuild_from(b);
                    self.normalize_at(b + 1);
                    self.normalize_at(b);
                    return;
                }
            }
            Block::List(v) => {
                v.remove(off as usize);
                if v.is_empty() {
                    self.blocks.remove(b);
                    self.rebuild_from(b);
                    self.normalize_around(b);
                    return;
                }
            }
        }
        self.index.add(b, -1);
        self.normalize_at(b);
    }

    /// Brings the index up to date after the blocks from `from` on changed (added, removed,
    /// resized) and the ones before did not: O((b - from) log b). UIDs are mostly learned,
    /// and blocks split, near the end of the map (the messages an EXISTS added), so this is
    /// usually a few entries where a full rebuild would be O(b) per split.
    fn rebuild_from(&mut self, from: usize) {
        let keep = from.min(self.index.len()).min(self.blocks.len());
        self.index.truncate(keep);
        for b in &self.blocks[keep..] {
            self.index.push(b.len());
        }
    }

    /// After removing a block at `b`: the blocks now at `b - 1` and `b` may have to merge.
    fn normalize_around(&mut self, b: usize) {
        if b < self.blocks.len() {
            self.normalize_at(b);
        }
        if b > 0 && b - 1 < self.blocks.len() {
            self.normalize_at(b - 1);
        }
    }

    /// Restores the block invariants at `b` (and its neighbours): adjacent unknown stretches
    /// merged; runs below `RUN_MIN` kept as lists; small lists merged; full lists split; a list
    /// that has become one contiguous range turned into a run.
    fn normalize_at(&mut self, b: usize) {
        if b >= self.blocks.len() {
            return;
        }
        let mut changed = false;
        // Short run -> list.
        if let Block::Run { first, len } = self.blocks[b] {
            if len < RUN_MIN && !self.run_is_growing_tail(b) {
                self.blocks[b] = Block::List((first..first + len).collect());
                changed = true;
            }
        }
        // A full list that is one contiguous range -> run.
        if let Block::List(v) = &self.blocks[b] {
            let n = v.len();
            if n >= RUN_MIN as usize && v[n - 1] - v[0] == (n - 1) as u32 {
                self.blocks[b] = Block::Run {
                    first: v[0],
                    len: n as u32,
                };
                changed = true;
            }
        }
        // Merge with the next block, then with the previous one.
        if b + 1 < self.blocks.len() && self.try_merge(b) {
            changed = true;
        }
        let mut at = b;
        if b > 0 && self.try_merge(b - 1) {
            changed = true;
            at = b - 1;
        }
        // Split a list that grew past its maximum.
        if let Some(Block::List(v)) = self.blocks.get_mut(at) {
            if v.len() > LIST_MAX {
                let tail = v.split_off(v.len() / 2);
                v.shrink_to_fit();
                self.blocks.insert(at + 1, Block::List(tail));
                changed = true;
            }
        }
        if changed {
            // Blocks `b - 1`, `b` and `b + 1` may have changed; the ones before did not.
            self.rebuild_from(b.saturating_sub(1));
        }
    }

    /// A run at the end of the map that new UIDs may still extend is left as a run (so a dense
    /// mailbox built message by message stays one block).
    fn run_is_growing_tail(&self, b: usize) -> bool {
        b + 1 == self.blocks.len()
    }

    /// Merges blocks `a` and `a + 1` when they can be one block. Returns whether it did.
    fn try_merge(&mut self, a: usize) -> bool {
        let merged = match (&self.blocks[a], &self.blocks[a + 1]) {
            (Block::Unknown { len: x }, Block::Unknown { len: y }) => {
                Some(Block::Unknown { len: x + y })
            }
            (Block::Run { first: f, len: x }, Block::Run { first: g, len: y }) if f + x == *g => {
                Some(Block::Run {
                    first: *f,
                    len: x + y,
                })
            }
            (Block::List(v), Block::List(w))
                if (v.len() < LIST_MIN || w.len() < LIST_MIN) && v.len() + w.len() <= LIST_MAX =>
            {
                let mut m = Vec::with_capacity(v.len() + w.len());
                m.extend_from_slice(v);
                m.extend_from_slice(w);
                Some(Block::List(m))
            }
            // A short run next to a short list: one list.
            (Block::List(v), Block::Run { first, len })
                if *len < RUN_MIN && v.len() + *len as usize <= LIST_MAX =>
            {
                let mut m = Vec::with_capacity(v.len() + *len as usize);
                m.extend_from_slice(v);
                m.extend(*first..*first + *len);
                Some(Block::List(m))
            }
            (Block::Run { first, len }, Block::List(w))
                if *len < RUN_MIN && w.len() + *len as usize <= LIST_MAX =>
            {
                let mut m = Vec::with_capacity(w.len() + *len as usize);
                m.extend(*first..*first + *len);
                m.extend_from_slice(w);
                Some(Block::List(m))
            }
            _ => None,
        };
        match merged {
            Some(m) => {
                self.blocks.splice(a..=a + 1, [m]);
                true
            }
            None => false,
        }
    }
}

/// Appends to a list block, growing its allocation by at most half (the memory target is
/// about 4 bytes per message, so capacity doubling is too generous).
#[inline(always)]
fn push_list(v: &mut Vec<u32>, uid: u32) {
    if v.len() == v.capacity() {
        grow_list(v);
    }
    v.push(uid);
}

#[cold]
#[inline(never)]
fn grow_list(v: &mut Vec<u32>) {
    v.reserve_exact((v.len() / 2).max(8).min(LIST_MAX - v.len()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seq(n: u32) -> SeqNum {
        SeqNum::new(n).unwrap()
    }
    fn uid(n: u32) -> Uid {
        Uid::new(n).unwrap()
    }

    /// The whole map as a vector (the reference representation).
    fn flat(m: &SeqMap) -> Vec<Option<u32>> {
        m.iter().map(|(_, u)| u.map(Uid::get)).collect()
    }

    fn check_invariants(m: &SeqMap) {
        let total: u32 = m.blocks.iter().map(Block::len).sum();
        assert_eq!(total, m.len);
        assert_eq!(m.index.len(), m.blocks.len());
        for (i, b) in m.blocks.iter().enumerate() {
            assert!(b.len() > 0, "empty block");
            assert_eq!(
                m.index.prefix(i),
                m.blocks[..i].iter().map(Block::len).sum::<u32>()
            );
            if let Block::List(v) = b {
                assert!(v.len() <= LIST_MAX);
                assert!(v.windows(2).all(|w| w[0] < w[1]));
            }
            if i > 0 {
                let both_unknown = matches!(
                    (&m.blocks[i - 1], b),
                    (Block::Unknown { .. }, Block::Unknown { .. })
                );
                assert!(!both_unknown, "adjacent unknown stretches");
            }
        }
        let known: Vec<u32> = flat(m).into_iter().flatten().collect();
        assert!(known.windows(2).all(|w| w[0] < w[1]), "UIDs not ascending");
    }

    #[test]
    fn default_is_the_empty_map() {
        let mut m = SeqMap::default();
        m.set_exists(2).unwrap();
        m.set_uid(seq(2), uid(4)).unwrap();
        assert_eq!(flat(&m), vec![None, Some(4)]);
        check_invariants(&m);
    }

    #[test]
    fn exists_then_uids_in_order() {
        let mut m = SeqMap::new();
        m.set_exists(5).unwrap();
        assert_eq!(m.unknown(), 5);
        for (s, u) in [(1, 10), (2, 11), (3, 12), (4, 20), (5, 21)] {
            assert!(m.set_uid(seq(s), uid(u)).unwrap());
        }
        assert_eq!(m.unknown(), 0);
        assert_eq!(flat(&m), [10, 11, 12, 20, 21].map(Some));
        assert_eq!(m.seq(uid(20)), Some(seq(4)));
        assert_eq!(m.seq(uid(13)), None);
        // Repeating what is known is not news; contradicting it is an error.
        assert!(!m.set_uid(seq(4), uid(20)).unwrap());
        assert_eq!(
            m.set_uid(seq(4), uid(19)),
            Err(SeqMapError::UidChanged {
                seq: 4,
                known: 20,
                uid: 19
            })
        );
        check_invariants(&m);
    }

    #[test]
    fn uids_learned_out_of_order_and_checked_against_neighbours() {
        let mut m = SeqMap::new();
        m.set_exists(4).unwrap();
        m.set_uid(seq(3), uid(30)).unwrap();
        // Message 1 and 2 need two distinct UIDs below 30; 29 leaves room for one only.
        assert_eq!(
            m.set_uid(seq(2), uid(30)),
            Err(SeqMapError::OutOfOrder { seq: 2, uid: 30 })
        );
        assert_eq!(
            m.set_uid(seq(1), uid(29)),
            Err(SeqMapError::OutOfOrder { seq: 1, uid: 29 })
        );
        assert_eq!(
            m.set_uid(seq(4), uid(30)),
            Err(SeqMapError::OutOfOrder { seq: 4, uid: 30 })
        );
        m.set_uid(seq(1), uid(28)).unwrap();
        m.set_uid(seq(4), uid(31)).unwrap();
        assert_eq!(flat(&m), vec![Some(28), None, Some(30), Some(31)]);
        assert_eq!(m.uid(seq(2)), Ok(None));
        m.set_uid(seq(2), uid(29)).unwrap();
        assert_eq!(flat(&m), [28, 29, 30, 31].map(Some));
        check_invariants(&m);
    }

    #[test]
    fn expunge_renumbers() {
        let mut m = SeqMap::from_uids((1..=10).map(uid)).unwrap();
        assert_eq!(m.expunge(seq(3)), Ok(Some(uid(3))));
        assert_eq!(m.len(), 9);
        assert_eq!(m.uid(seq(3)), Ok(Some(uid(4))));
        assert_eq!(m.seq(uid(10)), Some(seq(9)));
        assert_eq!(m.seq(uid(3)), None);
        check_invariants(&m);
    }

    #[test]
    fn nonexistent_message_is_an_error_not_a_panic() {
        let mut m = SeqMap::from_uids([uid(5)]).unwrap();
        assert_eq!(
            m.expunge(seq(2)),
            Err(SeqMapError::NoSuchMessage { seq: 2, len: 1 })
        );
        assert_eq!(
            m.set_uid(seq(9), uid(9)),
            Err(SeqMapError::NoSuchMessage { seq: 9, len: 1 })
        );
        assert_eq!(
            m.uid(seq(2)),
            Err(SeqMapError::NoSuchMessage { seq: 2, len: 1 })
        );
        assert_eq!(
            m.set_exists(0),
            Err(SeqMapError::ExistsDecreased { exists: 0, len: 1 })
        );
        assert_eq!(
            m.push(uid(5)),
            Err(SeqMapError::AppendOutOfOrder { uid: 5, last: 5 })
        );
        assert_eq!(flat(&m), vec![Some(5)]);
    }

    #[test]
    fn vanished_removes_by_uid_and_ignores_unknown_uids() {
        let mut m = SeqMap::from_uids([2, 4, 6, 8].map(uid)).unwrap();
        assert_eq!(m.remove_uid(uid(4)), Some(seq(2)));
        assert_eq!(m.remove_uid(uid(5)), None);
        assert_eq!(m.remove_uid(uid(100)), None);
        assert_eq!(flat(&m), [2, 6, 8].map(Some));
        check_invariants(&m);
    }

    #[test]
    fn vanished_range_removes_only_what_is_there() {
        let mut m = SeqMap::from_uids([2, 4, 6, 8, 10].map(uid)).unwrap();
        m.set_exists(6).unwrap();
        // A huge range costs what it removes: 4, 6 and 8, then nothing else.
        let got = m.remove_uid_range(u32::MAX, 3);
        assert_eq!(got, vec![seq(2), seq(2), seq(2), seq(2)]);
        assert_eq!(flat(&m), vec![Some(2), None]);
        assert!(m.remove_uid_range(1, 1).is_empty());
        check_invariants(&m);
    }

    #[test]
    fn dense_million_is_one_block() {
        let m = SeqMap::from_uids((1..=1_000_000).map(uid)).unwrap();
        assert_eq!(m.blocks.len(), 1);
        assert!(m.heap_bytes() < 100_000 / 10, "{} bytes", m.heap_bytes());
        assert_eq!(m.seq(uid(777_777)), Some(seq(777_777)));
    }

    #[test]
    fn sparse_uids_cost_about_four_bytes() {
        let m = SeqMap::from_uids((1..=200_000u32).map(|i| uid(i * 3))).unwrap();
        let per = m.heap_bytes() as f64 / 200_000.0;
        assert!(per <= 4.5, "{per} bytes per message");
        check_invariants(&m);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Exists(u32),
        SetUid(u32, u32),
        Expunge(u32),
        Push(u32),
        RemoveUid(u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u32..40).prop_map(Op::Exists),
            (1u32..200, 1u32..3000).prop_map(|(s, u)| Op::SetUid(s, u)),
            (1u32..200).prop_map(Op::Expunge),
            (1u32..3000).prop_map(Op::Push),
            (1u32..3000).prop_map(Op::RemoveUid),
        ]
    }

    /// Reference model: a vector of optional UIDs, with the same validity rules.
    fn model_apply(v: &mut Vec<Option<u32>>, op: &Op) -> bool {
        match *op {
            Op::Exists(add) => {
                v.extend(std::iter::repeat_n(None, add as usize));
                true
            }
            Op::SetUid(s, u) => {
                let i = s as usize - 1;
                if i >= v.len() {
                    return false;
                }
                if let Some(k) = v[i] {
                    return k == u;
                }
                // Room for the unknown ones around it.
                let prev = v[..i].iter().rposition(|x| x.is_some());
                let next = v[i + 1..]
                    .iter()
                    .position(|x| x.is_some())
                    .map(|p| p + i + 1);
                let low = prev.map_or(0, |p| v[p].unwrap() as u64 + (i - p - 1) as u64);
                let low_ok = if prev.is_some() {
                    u as u64 > low
                } else {
                    u as u64 > i as u64
                };
                let high_ok =
                    next.is_none_or(|n| (u as u64) + ((n - i - 1) as u64) < v[n].unwrap() as u64);
                if low_ok && high_ok {
                    v[i] = Some(u);
                    true
                } else {
                    false
                }
            }
            Op::Expunge(s) => {
                if (s as usize) <= v.len() {
                    v.remove(s as usize - 1);
                    true
                } else {
                    false
                }
            }
            Op::Push(u) => {
                let last = v.iter().rev().find_map(|x| *x).unwrap_or(0);
                if u > last {
                    v.push(Some(u));
                    true
                } else {
                    false
                }
            }
            Op::RemoveUid(u) => {
                if let Some(i) = v.iter().position(|x| *x == Some(u)) {
                    v.remove(i);
                }
                true
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// Every operation agrees with the flat reference model, errors leave the map
        /// unchanged, and both lookups agree with the model after every step.
        #[test]
        fn matches_reference_model(ops in proptest::collection::vec(op(), 1..300)) {
            let mut m = SeqMap::new();
            let mut v: Vec<Option<u32>> = Vec::new();
            for op in &ops {
                let before = flat(&m);
                let ok = match *op {
                    Op::Exists(add) => m.set_exists(m.len() + add).is_ok(),
                    Op::SetUid(s, u) => m.set_uid(seq(s), uid(u)).is_ok(),
                    Op::Expunge(s) => m.expunge(seq(s)).is_ok(),
                    Op::Push(u) => m.push(uid(u)).is_ok(),
                    Op::RemoveUid(u) => { m.remove_uid(uid(u)); true }
                };
                let want = model_apply(&mut v, op);
                prop_assert_eq!(ok, want, "{:?}", op);
                if !ok {
                    prop_assert_eq!(&flat(&m), &before);
                }
                prop_assert_eq!(&flat(&m), &v);
                check_invariants(&m);
                for (i, x) in v.iter().enumerate() {
                    let s = seq(i as u32 + 1);
                    prop_assert_eq!(m.uid(s).unwrap().map(Uid::get), *x);
                    if let Some(u) = x {
                        prop_assert_eq!(m.seq(uid(*u)), Some(s));
                    }
                }
            }
        }

        /// Large blocks: dense runs and sparse lists of a few thousand messages, with random
        /// expunges, against the model (exercises list splits, run splits and merges).
        #[test]
        fn big_blocks_match_model(
            dense in 1u32..5000,
            gaps in proptest::collection::vec(1u32..5, 1..3000),
            expunges in proptest::collection::vec(any::<prop::sample::Index>(), 0..200),
        ) {
            let mut v: Vec<u32> = (1..=dense).collect();
            let mut last = dense;
            for g in &gaps {
                last += g;
                v.push(last);
            }
            let mut m = SeqMap::from_uids(v.iter().map(|&u| uid(u))).unwrap();
            check_invariants(&m);
            for e in &expunges {
                if v.is_empty() { break; }
                let i = e.index(v.len());
                prop_assert_eq!(m.expunge(seq(i as u32 + 1)).unwrap(), Some(uid(v[i])));
                v.remove(i);
                check_invariants(&m);
            }
            let got: Vec<u32> = flat(&m).into_iter().map(|x| x.unwrap()).collect();
            prop_assert_eq!(&got, &v);
            for (i, u) in v.iter().enumerate().step_by(97) {
                prop_assert_eq!(m.seq(uid(*u)), Some(seq(i as u32 + 1)));
            }
        }
    }
}
