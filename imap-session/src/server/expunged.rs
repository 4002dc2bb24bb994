//! What a store remembers of expunged messages for QRESYNC (RFC 7162 §3.2.5, §3.2.6, §5.3):
//! a bounded queue of runs of UIDs expunged together with the mod-sequence of their removal,
//! and one mod-sequence for every run that fell off the queue.
//!
//! RFC 7162 §5.3 warns that keeping every expunged UID can take unbounded space (in the worst
//! case a run per UID for four billion UIDs), and suggests this shape: when the queue is full
//! the oldest runs are dropped and only the highest mod-sequence among them (the floor) is
//! kept. A client asking about expunges since a mod-sequence below the floor then gets every
//! UID of its set below UIDNEXT that is not in the mailbox (RFC 7162 §3.2.6: "MUST behave as
//! if it was requested to report all expunged messages from the provided UID set"); UIDs that
//! never existed may be among them, which a client treats like any other UID it does not
//! know. Message sequence match data (§3.2.5.2) narrows such answers.

use std::collections::VecDeque;

use imapwire_codec::sequence::{SeqOrUid, Sequence, SequenceSet, UidRange, UidSet};

/// How many runs a mailbox keeps by default (16 octets each: 64 KiB).
pub(super) const DEFAULT_LIMIT: usize = 4096;

/// What one push changed ([`Expunged::unpush`] takes it back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Pushed {
    /// The last run was extended; its last UID before.
    Extended(u32),
    /// A run was added; the runs dropped from the front to keep the bound (oldest first),
    /// and the floor before.
    Added {
        dropped: Vec<(u32, u32, u64)>,
        floor: u64,
    },
}

/// Expunged UIDs of one mailbox with the mod-sequences of their removal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Expunged {
    /// `(first, last, modseq)`: UIDs `first..=last` removed at `modseq`, oldest first.
    runs: VecDeque<(u32, u32, u64)>,
    /// Every removal at or below this mod-sequence may be forgotten (0: nothing forgotten).
    floor: u64,
}

impl Expunged {
    /// Notes that `uid` was removed at `modseq`, keeping at most `limit` runs (at least one).
    /// UIDs removed together (one EXPUNGE, ascending) extend the last run.
    pub(super) fn push(&mut self, uid: u32, modseq: u64, limit: usize) {
        self.push_run(uid, uid, modseq, limit);
    }

    /// Notes that UIDs `first..=last` were removed at `modseq` (see [`push`](Self::push)).
    pub(super) fn push_run(&mut self, first: u32, last: u32, modseq: u64, limit: usize) {
        let _ = self.push_run_undoable(first, last, modseq, limit);
    }

    /// [`push_run`](Self::push_run), returning what it changed for [`unpush`](Self::unpush).
    pub(super) fn push_run_undoable(
        &mut self,
        first: u32,
        last: u32,
        modseq: u64,
        limit: usize,
    ) -> Pushed {
        if let Some(run) = self.runs.back_mut() {
            if run.2 == modseq && run.1.checked_add(1) == Some(first) {
                let before = run.1;
                run.1 = last;
                return Pushed::Extended(before);
            }
        }
        let floor = self.floor;
        let mut dropped = Vec::new();
        self.runs.push_back((first, last, modseq));
        while self.runs.len() > limit.max(1) {
            if let Some(run) = self.runs.pop_front() {
                self.floor = self.floor.max(run.2);
                dropped.push(run);
            }
        }
        Pushed::Added { dropped, floor }
    }

    /// Takes back a push (the pushes since it taken back first, newest first).
    pub(super) fn unpush(&mut self, p: Pushed) {
        match p {
            Pushed::Extended(before) => {
                if let Some(run) = self.runs.back_mut() {
                    run.1 = before;
                }
            }
            Pushed::Added { dropped, floor } => {
                for run in dropped.into_iter().rev() {
                    self.runs.push_front(run);
                }
                self.floor = floor;
                self.runs.pop_back();
            }
        }
    }

    /// Notes that removals at or below `modseq` may have been forgotten (a restored store
    /// whose older records were dropped).
    pub(super) fn forget_through(&mut self, modseq: u64) {
        self.floor = self.floor.max(modseq);
        self.runs.retain(|r| r.2 > modseq);
    }

    /// The mod-sequence at or below which removals may be forgotten (0: none).
    pub(super) fn floor(&self) -> u64 {
        self.floor
    }

    /// The runs kept, oldest first: `(first, last, modseq)`.
    pub(super) fn runs(&self) -> impl Iterator<Item = (u32, u32, u64)> + '_ {
        self.runs.iter().copied()
    }

    /// The UIDs expunged after mod-sequence `since` as ascending disjoint ranges, given the
    /// UIDs present (ascending) and UIDNEXT: the runs above `since` when the queue reaches
    /// back that far, else every UID below `uid_next` not present.
    pub(super) fn since(
        &self,
        since: u64,
        present: impl Iterator<Item = u32>,
        uid_next: u32,
    ) -> Vec<(u32, u32)> {
        if since >= self.floor {
            return merge(
                self.runs
                    .iter()
                    .filter(|r| r.2 > since)
                    .map(|r| (r.0, r.1))
                    .collect(),
            );
        }
        let mut gaps = Vec::new();
        let mut next = 1u32;
        for u in present {
            if u > next {
                gaps.push((next, u - 1));
            }
            next = next.max(u.saturating_add(1));
        }
        if uid_next > next {
            gaps.push((next, uid_next - 1));
        }
        gaps
    }
}

/// `v` sorted, with overlapping and adjacent ranges joined.
pub(super) fn merge(mut v: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    v.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// The numbers of `set` as ascending disjoint ranges, `*` standing for `largest` (`$`: none).
pub(super) fn set_ranges(set: &SequenceSet, largest: u32) -> Vec<(u32, u32)> {
    let val = |s: &SeqOrUid| match s {
        SeqOrUid::Value(v) => v.get(),
        SeqOrUid::Asterisk => largest,
    };
    match set {
        SequenceSet::LastResult => Vec::new(),
        SequenceSet::Set(v) => merge(
            v.iter()
                .map(|s| match s {
                    Sequence::Single(a) => (val(a), val(a)),
                    Sequence::Range(a, b) => (val(a).min(val(b)), val(a).max(val(b))),
                })
                .filter(|r| r.1 > 0)
                .map(|r| (r.0.max(1), r.1))
                .collect(),
        ),
    }
}

/// The common part of two lists of ascending disjoint ranges.
pub(super) fn intersect(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let lo = a[i].0.max(b[j].0);
        let hi = a[i].1.min(b[j].1);
        if lo <= hi {
            out.push((lo, hi));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// The numbers of ascending ranges as a set (`None` when empty); zero is left out.
pub(super) fn uid_set_of(ranges: &[(u32, u32)]) -> Option<UidSet> {
    let v: Vec<UidRange> = ranges
        .iter()
        .filter(|r| r.1 > 0)
        .filter_map(|r| UidRange::new(r.0.max(1), r.1).ok())
        .collect();
    UidSet::new(v).ok()
}

/// RFC 7162 §3.2.5.2: the lowest UID a QRESYNC answer may report as vanished, from the
/// message sequence match data `(seqs, uids)` and the mailbox's UIDs (ascending, its
/// sequence numbers). Pairs are taken in order; each whose message number holds that UID
/// proves the client knows every expunge up to it, and the first that does not ends the
/// walk. 1 when no pair matches (or the two sets differ in length).
pub(super) fn seq_match_floor(seqs: &SequenceSet, uids: &SequenceSet, mailbox: &[u32]) -> u32 {
    let largest_seq = u32::try_from(mailbox.len()).unwrap_or(u32::MAX);
    let largest_uid = mailbox.last().copied().unwrap_or(0);
    let (Some(s), Some(u)) = (
        ordered(seqs, largest_seq, mailbox.len()),
        ordered(uids, largest_uid, mailbox.len()),
    ) else {
        return 1;
    };
    if s.len() != u.len() {
        return 1;
    }
    let mut floor = 1;
    for (seq, uid) in s.into_iter().zip(u) {
        let at = usize::try_from(seq)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| mailbox.get(i));
        if at != Some(&uid) {
            break;
        }
        floor = uid.saturating_add(1);
    }
    floor
}

/// The numbers of `set` in the order given, ranges expanded; `None` when `$` or when there
/// are more than `most` of them (more pairs than messages cannot all match).
fn ordered(set: &SequenceSet, largest: u32, most: usize) -> Option<Vec<u32>> {
    let SequenceSet::Set(v) = set else {
        return None;
    };
    let val = |s: &SeqOrUid| match s {
        SeqOrUid::Value(v) => v.get(),
        SeqOrUid::Asterisk => largest,
    };
    let mut out = Vec::new();
    for s in v {
        let (a, b) = match s {
            Sequence::Single(a) => (val(a), val(a)),
            Sequence::Range(a, b) => (val(a), val(b)),
        };
        let n = usize::try_from(a.abs_diff(b)).ok()?.checked_add(1)?;
        if out.len().checked_add(n)? > most {
            return None;
        }
        if a <= b {
            out.extend(a..=b);
        } else {
            out.extend((b..=a).rev());
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn set(s: &[(u32, u32)]) -> SequenceSet {
        SequenceSet::new(
            s.iter()
                .map(|&(a, b)| {
                    let v = |x: u32| SeqOrUid::Value(NonZeroU32::new(x).unwrap());
                    if a == b {
                        Sequence::Single(v(a))
                    } else {
                        Sequence::Range(v(a), v(b))
                    }
                })
                .collect(),
        )
        .unwrap()
    }

    /// Undoing pushes newest first gives back the state before them exactly: extensions,
    /// new runs, and runs dropped from the front (with the floor) to keep the bound.
    #[test]
    fn unpush_takes_back_each_kind_of_push() {
        let mut e = Expunged::default();
        for (u, m) in [(1, 2), (2, 2), (5, 3), (9, 4)] {
            e.push(u, m, 3);
        }
        let before = e.clone();
        let mut pushed = Vec::new();
        // Extends (9, 9, 4), adds two runs (dropping the two oldest), extends the last.
        for (u, m) in [(10, 4), (20, 6), (30, 7), (31, 7)] {
            pushed.push(e.push_run_undoable(u, u, m, 3));
        }
        assert_eq!(
            e.runs().collect::<Vec<_>>(),
            [(9, 10, 4), (20, 20, 6), (30, 31, 7)]
        );
        assert_eq!(e.floor(), 3);
        assert!(matches!(pushed[0], Pushed::Extended(9)));
        assert!(
            matches!(&pushed[2], Pushed::Added { dropped, floor: 2 } if dropped == &[(5, 5, 3)])
        );
        for p in pushed.into_iter().rev() {
            e.unpush(p);
        }
        assert_eq!(e, before);
        // A bound of one: the new run pushes out the only one, and comes back.
        let pushed = e.push_run_undoable(40, 40, 9, 1);
        assert_eq!(e.runs().collect::<Vec<_>>(), [(40, 40, 9)]);
        e.unpush(pushed);
        assert_eq!(e, before);
    }

    #[test]
    fn runs_coalesce_and_stay_bounded() {
        let mut e = Expunged::default();
        // One EXPUNGE of 1:1000 is one run.
        for u in 1..=1000 {
            e.push(u, 5, 8);
        }
        assert_eq!(e.runs().collect::<Vec<_>>(), [(1, 1000, 5)]);
        // 10 000 single expunges at rising mod-sequences: at most 8 runs stay.
        for i in 0..10_000u32 {
            e.push(2000 + 2 * i, 6 + u64::from(i), 8);
        }
        assert_eq!(e.runs().count(), 8);
        assert_eq!(e.floor(), 6 + 9991);
        // The last 8 are answered exactly.
        let last = e.since(6 + 9991, std::iter::empty(), 30_000);
        assert_eq!(last.len(), 8);
        assert_eq!(last[0], (2000 + 2 * 9992, 2000 + 2 * 9992));
        // Anything older: every UID not present.
        let present = [1500u32, 1501, 25_000];
        assert_eq!(
            e.since(6, present.iter().copied(), 30_000),
            [(1, 1499), (1502, 24_999), (25_001, 29_999)]
        );
    }

    #[test]
    fn ranges_intersect() {
        let a = set_ranges(&set(&[(5, 1), (3, 9), (20, 20)]), 30);
        assert_eq!(a, [(1, 9), (20, 20)]);
        assert_eq!(intersect(&a, &[(4, 25)]), [(4, 9), (20, 20)]);
        assert_eq!(set_ranges(&SequenceSet::all(), 7), [(1, 7)]);
        assert!(uid_set_of(&[]).is_none());
    }

    /// RFC 7162 §3.2.5.2's text: pair (4, 8) matches, the next pair (12, 24) does not (the
    /// twelfth message has UID 25): the lowest UID reported is 9.
    #[test]
    fn seq_match_stops_at_the_first_mismatch() {
        let mailbox = [1, 2, 5, 8, 10, 11, 15, 16, 18, 20, 22, 25, 26];
        assert_eq!(
            seq_match_floor(
                &set(&[(4, 4), (12, 12)]),
                &set(&[(8, 8), (24, 24)]),
                &mailbox
            ),
            9
        );
        // Both match: nothing up to 25.
        assert_eq!(
            seq_match_floor(
                &set(&[(4, 4), (12, 12)]),
                &set(&[(8, 8), (25, 25)]),
                &mailbox
            ),
            26
        );
        // Different lengths, or a number past the end: no narrowing.
        assert_eq!(
            seq_match_floor(&set(&[(4, 5)]), &set(&[(8, 8)]), &mailbox),
            1
        );
        assert_eq!(
            seq_match_floor(&set(&[(99, 99)]), &set(&[(8, 8)]), &mailbox),
            1
        );
    }
}
