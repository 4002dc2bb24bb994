//! Message numbers and sets (RFC 9051 §2.3.1, §9 `sequence-set`, `uid-set`; RFC 5182 `$`).
//!
//! Sequence numbers and UIDs are different types, so one cannot be passed for the other.

use std::fmt;
use std::num::NonZeroU32;

use crate::encode::{Encode, EncodeBuf};
use crate::error::{Rule, ValidationError, ValueKind};
use crate::parse::{PResult, Parser};

macro_rules! nz_type {
    ($(#[$m:meta])* $t:ident, $what:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $t(NonZeroU32);

        impl $t {
            /// Validates a non-zero value.
            pub const fn new(v: u32) -> Result<Self, ValidationError> {
                match NonZeroU32::new(v) {
                    Some(n) => Ok($t(n)),
                    None => Err(ValidationError::new(ValueKind::$what, Rule::Zero)),
                }
            }
            /// The numeric value.
            #[inline]
            pub const fn get(self) -> u32 {
                self.0.get()
            }
            /// The smallest value, 1.
            pub const MIN: $t = $t(NonZeroU32::MIN);
            /// The largest value.
            pub const MAX: $t = $t(NonZeroU32::MAX);

            pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
                let start = p.pos;
                let v = p.number()?;
                match NonZeroU32::new(v) {
                    Some(n) => Ok($t(n)),
                    None => {
                        if p.tolerate(crate::options::Quirk::BadNumbers, start) {
                            Ok($t(NonZeroU32::MIN))
                        } else {
                            Err(p.fail_at(start, "nz-number"))
                        }
                    }
                }
            }
        }

        impl TryFrom<u32> for $t {
            type Error = ValidationError;
            fn try_from(v: u32) -> Result<Self, ValidationError> {
                Self::new(v)
            }
        }

        impl From<$t> for u32 {
            fn from(v: $t) -> u32 {
                v.get()
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($t), self.get())
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.get())
            }
        }

        impl Encode for $t {
            fn encode(&self, buf: &mut EncodeBuf) {
                buf.num(self.get());
            }
        }
    };
}

nz_type!(
    /// A message sequence number (`seq-number` value, RFC 9051 §2.3.1.2).
    SeqNum,
    SeqNumber
);
nz_type!(
    /// A unique identifier (`uniqueid`, RFC 9051 §2.3.1.1).
    Uid,
    Uid
);
nz_type!(
    /// A UIDVALIDITY value (`nz-number`, RFC 9051 §2.3.1.1).
    UidValidity,
    UidValidity
);

/// One end of a sequence range: a number or `*` (the largest number in use).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqOrUid {
    /// A number (sequence number or UID, depending on the command).
    Value(NonZeroU32),
    /// `*`.
    Asterisk,
}

impl SeqOrUid {
    /// A number, rejecting 0.
    pub fn value(v: u32) -> Result<Self, ValidationError> {
        NonZeroU32::new(v)
            .map(SeqOrUid::Value)
            .ok_or(ValidationError::new(ValueKind::SeqNumber, Rule::Zero))
    }

    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.eat(b'*') {
            return Ok(SeqOrUid::Asterisk);
        }
        let start = p.pos;
        let v = p.number()?;
        match NonZeroU32::new(v) {
            Some(n) => Ok(SeqOrUid::Value(n)),
            None => Err(p.fail_at(start, "seq-number")),
        }
    }
}

impl Encode for SeqOrUid {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            SeqOrUid::Value(v) => buf.num(v.get()),
            SeqOrUid::Asterisk => buf.byte(b'*'),
        }
    }
}

/// One element of a sequence set: a number or a range (either order is allowed on the wire).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sequence {
    /// A single number or `*`.
    Single(SeqOrUid),
    /// `a:b`, kept in the order sent.
    Range(SeqOrUid, SeqOrUid),
}

impl Encode for Sequence {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            Sequence::Single(s) => s.encode(buf),
            Sequence::Range(a, b) => {
                a.encode(buf);
                buf.byte(b':');
                b.encode(buf);
            }
        }
    }
}

/// `sequence-set`: non-empty list of numbers and ranges, or `$` (the saved search result,
/// RFC 5182 / RFC 9051 §6.4.4.2).
///
/// ```
/// use std::num::NonZeroU32;
/// use imapwire_codec::sequence::{SeqOrUid, Sequence, SequenceSet, Sequences};
/// let five = NonZeroU32::new(5).unwrap();
/// let set = SequenceSet::single(five);
/// // a list of up to three elements is held inline; it derefs to a slice like a `Vec` does
/// let SequenceSet::Set(items) = &set else { unreachable!() };
/// assert_eq!(items.as_slice(), [Sequence::Single(SeqOrUid::Value(five))]);
/// // equal to the same list built as a `Vec`
/// let built = SequenceSet::Set(Sequences::from(vec![Sequence::Single(SeqOrUid::Value(five))]));
/// assert_eq!(set, built);
/// ```
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SequenceSet {
    /// Explicit numbers and ranges (never empty).
    Set(Sequences),
    /// `$`.
    LastResult,
}

/// The numbers and ranges of a [`SequenceSet::Set`], in the order sent: a list that holds up
/// to three elements inline (`5`, `1:*`, `4:9`, `1:*,5,9:12`: no allocation) and longer lists
/// in a `Vec`.
///
/// It dereferences to `[Sequence]` (`iter`, `len`, indexing, slice patterns through
/// [`as_slice`](Self::as_slice)); equality, hashing and `Debug` are those of the slice, so
/// a short list is the same value whichever way it is held. Build it from a `Vec`
/// (`.into()`, kept as it is), from one [`Sequence`], by [`push`](Self::push) or by
/// collecting an iterator (both hold up to three elements inline).
#[derive(Clone)]
pub struct Sequences(SeqRepr);

/// How many elements a [`Sequences`] holds inline.
const INLINE: usize = 3;

/// A filler for the unused inline places.
const FILL: Sequence = Sequence::Single(SeqOrUid::Asterisk);

#[derive(Clone)]
enum SeqRepr {
    /// Up to [`INLINE`] elements: the first `len` of the array (the rest are `FILL`).
    Inline(u8, [Sequence; INLINE]),
    /// Any number of elements.
    Many(Vec<Sequence>),
}

impl Sequences {
    /// An empty list (not a valid set on its own: [`SequenceSet::validate`] rejects it).
    pub const fn new() -> Self {
        Sequences(SeqRepr::Inline(0, [FILL; INLINE]))
    }

    /// A list of one element, held inline.
    pub const fn one(s: Sequence) -> Self {
        Sequences(SeqRepr::Inline(1, [s, FILL, FILL]))
    }

    /// The elements.
    #[inline]
    pub fn as_slice(&self) -> &[Sequence] {
        match &self.0 {
            SeqRepr::Inline(n, a) => a.get(..*n as usize).unwrap_or(&[]),
            SeqRepr::Many(v) => v,
        }
    }

    /// The elements, mutably.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [Sequence] {
        match &mut self.0 {
            SeqRepr::Inline(n, a) => a.get_mut(..*n as usize).unwrap_or(&mut []),
            SeqRepr::Many(v) => v,
        }
    }

    /// Appends an element (a list held inline moves to a `Vec` when it is full).
    pub fn push(&mut self, s: Sequence) {
        match &mut self.0 {
            SeqRepr::Inline(n, a) => match a.get_mut(*n as usize) {
                Some(slot) => {
                    *slot = s;
                    *n += 1;
                }
                None => {
                    let mut v = Vec::with_capacity(2 * INLINE);
                    v.extend_from_slice(a);
                    v.push(s);
                    self.0 = SeqRepr::Many(v);
                }
            },
            SeqRepr::Many(v) => v.push(s),
        }
    }

    /// The elements as a `Vec` (allocates for a list held inline).
    pub fn into_vec(self) -> Vec<Sequence> {
        match self.0 {
            SeqRepr::Inline(..) => self.as_slice().to_vec(),
            SeqRepr::Many(v) => v,
        }
    }

    /// Whether the list is held inline (for tests of the two representations).
    #[cfg(test)]
    fn is_inline(&self) -> bool {
        matches!(self.0, SeqRepr::Inline(..))
    }
}

impl Default for Sequences {
    fn default() -> Self {
        Self::new()
    }
}

impl std::ops::Deref for Sequences {
    type Target = [Sequence];
    #[inline]
    fn deref(&self) -> &[Sequence] {
        self.as_slice()
    }
}

impl std::ops::DerefMut for Sequences {
    #[inline]
    fn deref_mut(&mut self) -> &mut [Sequence] {
        self.as_mut_slice()
    }
}

impl AsRef<[Sequence]> for Sequences {
    fn as_ref(&self) -> &[Sequence] {
        self.as_slice()
    }
}

impl PartialEq for Sequences {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Sequences {}

impl std::hash::Hash for Sequences {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl fmt::Debug for Sequences {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_slice().fmt(f)
    }
}

impl From<Vec<Sequence>> for Sequences {
    /// Keeps the `Vec` as it is, whatever its length.
    fn from(v: Vec<Sequence>) -> Self {
        Sequences(SeqRepr::Many(v))
    }
}

impl From<Sequence> for Sequences {
    fn from(s: Sequence) -> Self {
        Sequences::one(s)
    }
}

impl From<Sequences> for Vec<Sequence> {
    fn from(s: Sequences) -> Self {
        s.into_vec()
    }
}

impl FromIterator<Sequence> for Sequences {
    /// Up to three elements are held inline, more go to a `Vec`.
    fn from_iter<I: IntoIterator<Item = Sequence>>(iter: I) -> Self {
        let mut s = Sequences::new();
        s.extend(iter);
        s
    }
}

impl Extend<Sequence> for Sequences {
    fn extend<I: IntoIterator<Item = Sequence>>(&mut self, iter: I) {
        for s in iter {
            self.push(s);
        }
    }
}

impl IntoIterator for Sequences {
    type Item = Sequence;
    type IntoIter = SequencesIntoIter;
    /// The elements in order (no allocation either way).
    fn into_iter(self) -> SequencesIntoIter {
        SequencesIntoIter(match self.0 {
            SeqRepr::Inline(n, a) => a.into_iter().take(n as usize).chain(Vec::new()),
            SeqRepr::Many(v) => [FILL; INLINE].into_iter().take(0).chain(v),
        })
    }
}

/// The iterator of `Sequences::into_iter`: its elements by value, in order.
#[derive(Debug, Clone)]
pub struct SequencesIntoIter(
    std::iter::Chain<
        std::iter::Take<std::array::IntoIter<Sequence, INLINE>>,
        std::vec::IntoIter<Sequence>,
    >,
);

impl Iterator for SequencesIntoIter {
    type Item = Sequence;
    #[inline]
    fn next(&mut self) -> Option<Sequence> {
        self.0.next()
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for SequencesIntoIter {
    #[inline]
    fn next_back(&mut self) -> Option<Sequence> {
        self.0.next_back()
    }
}

impl ExactSizeIterator for SequencesIntoIter {}

impl std::iter::FusedIterator for SequencesIntoIter {}

impl PartialEq<[Sequence]> for Sequences {
    fn eq(&self, other: &[Sequence]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<Vec<Sequence>> for Sequences {
    fn eq(&self, other: &Vec<Sequence>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<'a> IntoIterator for &'a Sequences {
    type Item = &'a Sequence;
    type IntoIter = std::slice::Iter<'a, Sequence>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Sequences {
    /// Either representation, with any number of elements (empty too, which validation
    /// rejects), as the derived `Vec` would give.
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        if u.ratio(1, 2)? {
            Ok(Sequences::one(u.arbitrary()?))
        } else {
            Ok(Sequences::from(u.arbitrary::<Vec<Sequence>>()?))
        }
    }
}

impl SequenceSet {
    /// A set of explicit sequences; fails when empty.
    pub fn new(seqs: Vec<Sequence>) -> Result<Self, ValidationError> {
        if seqs.is_empty() {
            return Err(ValidationError::new(ValueKind::SequenceSet, Rule::Empty));
        }
        Ok(SequenceSet::Set(seqs.into()))
    }

    /// Fails for an empty [`SequenceSet::Set`] (use [`SequenceSet::new`]).
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            SequenceSet::Set(v) if v.is_empty() => {
                Err(ValidationError::new(ValueKind::SequenceSet, Rule::Empty))
            }
            _ => Ok(()),
        }
    }

    /// A single number.
    pub fn single(v: NonZeroU32) -> Self {
        SequenceSet::Set(Sequences::one(Sequence::Single(SeqOrUid::Value(v))))
    }

    /// `1:*`: everything.
    pub fn all() -> Self {
        SequenceSet::Set(Sequences::one(Sequence::Range(
            SeqOrUid::Value(NonZeroU32::MIN),
            SeqOrUid::Asterisk,
        )))
    }

    /// A range `a:b`.
    pub fn range(a: NonZeroU32, b: NonZeroU32) -> Self {
        SequenceSet::Set(Sequences::one(Sequence::Range(
            SeqOrUid::Value(a),
            SeqOrUid::Value(b),
        )))
    }

    /// Parses a `sequence-set`.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.eat(b'$') {
            return Ok(SequenceSet::LastResult);
        }
        if let Some((v, len)) = fast_set(p.rest(), p.opts.max_list_items) {
            p.pos += len;
            return Ok(SequenceSet::Set(v));
        }
        Self::parse_general(p)
    }

    /// [`parse`](Self::parse) after `$`, for anything [`fast_set`] leaves alone.
    #[cold]
    #[inline(never)]
    fn parse_general(p: &mut Parser<'_>) -> PResult<Self> {
        let mut v = Vec::with_capacity(set_len_hint(p));
        loop {
            let a = SeqOrUid::parse(p)?;
            if p.eat(b':') {
                let b = SeqOrUid::parse(p)?;
                v.push(Sequence::Range(a, b));
            } else {
                v.push(Sequence::Single(a));
            }
            if !p.eat(b',') {
                break;
            }
            p.check_items(v.len())?;
        }
        Ok(SequenceSet::Set(v.into()))
    }

    /// Whether `n` is in the set, given the largest number in use (for `*`).
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        let val = |s: &SeqOrUid| match s {
            SeqOrUid::Value(v) => v.get(),
            SeqOrUid::Asterisk => largest,
        };
        match self {
            SequenceSet::LastResult => false,
            SequenceSet::Set(v) => v.iter().any(|s| match s {
                Sequence::Single(a) => val(a) == n,
                Sequence::Range(a, b) => {
                    let (lo, hi) = (val(a).min(val(b)), val(a).max(val(b)));
                    lo <= n && n <= hi
                }
            }),
        }
    }
}

impl Encode for SequenceSet {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            SequenceSet::LastResult => buf.byte(b'$'),
            SequenceSet::Set(v) => buf.sep(v, b",", &mut |b, s| s.encode(b)),
        }
    }
}

/// `uid-set` / `sequence-set` without `*` or `$`, as servers send it in responses
/// (RFC 4315 §4 COPYUID/APPENDUID `uid-set`, RFC 7162 §3.2.10 VANISHED `known-uids`,
/// RFC 4731 §3.1 ESEARCH `ALL`). Ranges keep the order sent.
///
/// The contents are private and valid by construction: at least one range, every number
/// non-zero, no `*`.
///
/// ```
/// use imapwire_codec::sequence::{UidRange, UidSet};
/// let s = UidSet::new(vec![UidRange::new(5, 3)?, UidRange::single(9)?])?;
/// assert_eq!(s.iter().collect::<Vec<_>>(), [5, 4, 3, 9]);
/// assert!(UidSet::new(vec![]).is_err());
/// assert!(UidRange::new(0, 3).is_err());
/// # Ok::<(), imapwire_codec::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UidSet(Vec<UidRange>);

/// One element of a [`UidSet`]: `start..=end` as sent (a single value has `start == end`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UidRange {
    start: NonZeroU32,
    end: NonZeroU32,
}

impl UidRange {
    /// `start:end` (either order); fails if either is zero.
    pub const fn new(start: u32, end: u32) -> Result<Self, ValidationError> {
        match (NonZeroU32::new(start), NonZeroU32::new(end)) {
            (Some(start), Some(end)) => Ok(UidRange { start, end }),
            _ => Err(ValidationError::new(ValueKind::UidSet, Rule::Zero)),
        }
    }

    /// A single value; fails if zero.
    pub const fn single(v: u32) -> Result<Self, ValidationError> {
        Self::new(v, v)
    }

    /// `start:end` from non-zero values.
    pub const fn from_nonzero(start: NonZeroU32, end: NonZeroU32) -> Self {
        UidRange { start, end }
    }

    /// First value as sent.
    pub const fn start(&self) -> NonZeroU32 {
        self.start
    }

    /// Last value as sent (may be lower than `start`).
    pub const fn end(&self) -> NonZeroU32 {
        self.end
    }

    /// The smallest and largest value.
    pub fn bounds(&self) -> (NonZeroU32, NonZeroU32) {
        (self.start.min(self.end), self.start.max(self.end))
    }

    /// Whether `v` is in the range.
    pub fn contains(&self, v: u32) -> bool {
        let (lo, hi) = self.bounds();
        lo.get() <= v && v <= hi.get()
    }
}

impl UidSet {
    /// A set of ranges; fails when empty.
    pub fn new(v: Vec<UidRange>) -> Result<Self, ValidationError> {
        if v.is_empty() {
            return Err(ValidationError::new(ValueKind::UidSet, Rule::Empty));
        }
        Ok(UidSet(v))
    }

    /// A set of one range.
    pub fn from_range(r: UidRange) -> Self {
        UidSet(vec![r])
    }

    /// The ranges, in the order sent (never empty).
    pub fn ranges(&self) -> &[UidRange] {
        &self.0
    }

    /// The ranges, in the order sent.
    pub fn into_ranges(self) -> Vec<UidRange> {
        self.0
    }

    /// Whether `v` is in the set.
    pub fn contains(&self, v: u32) -> bool {
        self.0.iter().any(|r| r.contains(v))
    }

    /// Iterates the values, expanding ranges in the order sent (e.g. `5:3` gives 5, 4, 3).
    /// Beware: ranges can be large.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().flat_map(|r| {
            let (a, b) = (r.start.get(), r.end.get());
            let up = a <= b;
            let (lo, hi) = (a.min(b), a.max(b));
            (lo..=hi).map(move |i| if up { i } else { hi - (i - lo) })
        })
    }

    /// Number of values, saturating.
    pub fn len(&self) -> u64 {
        self.0
            .iter()
            .map(|r| (r.start.get().abs_diff(r.end.get()) as u64) + 1)
            .sum()
    }

    /// Always false: a set holds at least one range.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let mut v = Vec::with_capacity(set_len_hint(p));
        loop {
            let a = nz(p)?;
            let b = if p.eat(b':') { nz(p)? } else { a };
            v.push(UidRange { start: a, end: b });
            if !p.eat(b',') {
                break;
            }
            p.check_items(v.len())?;
        }
        Ok(UidSet(v))
    }
}

/// `SP nz-number` items at the cursor (SEARCH/SORT results), one at a time, appended to `out`
/// while it holds fewer than `limit`: one SP, then digits without a leading zero, a value
/// within `u32`, not followed by `.`, `e` or `E`. Stops with the cursor before the SP of
/// anything else, for the caller's general loop. [`sp_nz_run`] reads the same items faster
/// and leaves the rest to this.
#[inline]
pub(crate) fn sp_nz_items(p: &mut Parser<'_>, out: &mut Vec<NonZeroU32>, limit: usize) {
    while out.len() < limit && p.peek() == Some(b' ') {
        let save = p.pos;
        p.pos += 1;
        let n = match p.peek() {
            Some(b'1'..=b'9') => p.digits().and_then(|v| u32::try_from(v).ok()),
            _ => None,
        };
        match n.and_then(NonZeroU32::new) {
            Some(n) if !matches!(p.peek(), Some(b'.' | b'e' | b'E')) => out.push(n),
            _ => {
                p.pos = save;
                break;
            }
        }
    }
}

/// The leading run of `SP nz-number` items of `b` (SEARCH/SORT results: one SP, then 1 to 10
/// digits without a leading zero, a value within `u32`, followed by neither a digit nor `.`,
/// `e`, `E`), appended to `out` while it holds fewer than `limit`; returns the bytes consumed.
/// Eight digits are read at once. It stops before the SP of anything else and where fewer
/// than 12 bytes are left (the end of the line), so [`sp_nz_items`] takes over from there:
/// what this accepts, that loop accepts with the same values (test
/// `sp_nz_run_matches_per_item_loop`).
#[inline]
pub(crate) fn sp_nz_run(b: &[u8], out: &mut Vec<NonZeroU32>, limit: usize) -> usize {
    let mut i = 0;
    while out.len() < limit {
        // SP, then up to ten digits and the byte after them: one 12-byte window
        let Some(w) = b.get(i..i + 12) else { break };
        if w[0] != b' ' {
            break;
        }
        let mut a = [0u8; 8];
        a.copy_from_slice(&w[1..9]);
        let (x, k) = crate::parse::digit_run8(a); // digits among the eight
        // no digit, or a leading zero: the per-item loop decides
        if k == 0 || x & 0xff == 0 {
            break;
        }
        let (v, len) = if k < 8 {
            (crate::parse::swar_digits(x << (8 * (8 - k))), k)
        } else {
            let (mut v, mut len) = (crate::parse::swar_digits(x), 8);
            while len < 10 {
                let d = w[1 + len].wrapping_sub(b'0');
                if d > 9 {
                    break;
                }
                v = v * 10 + d as u64;
                len += 1;
            }
            if v > u32::MAX as u64 || w[1 + len].is_ascii_digit() {
                break;
            }
            (v, len)
        };
        if matches!(w[1 + len], b'.' | b'e' | b'E') {
            break;
        }
        let Some(n) = NonZeroU32::new(v as u32) else {
            break;
        };
        out.push(n);
        i += 1 + len;
    }
    i
}

/// One `seq-number` of [`fast_set`] at the start of `*r`: `*`, or 1 to 10 digits with a
/// value in 1..=u32::MAX not followed by another digit. Returns it with the byte after it (0
/// at the end of the input, which no caller takes for a separator) and moves `*r` past it;
/// `None` for anything else, which the general parser decides. The caller refuses a number
/// followed by `.`, `e` or `E` (lenient number notation) where the set ends.
///
/// Where eight bytes are left, one load gives the digits and the byte after them (up to seven
/// digits: every number of the commands corpus), so the caller's `:` and `,` tests need no
/// second load and bounds check. Eight digits or more, or fewer than eight bytes left, go a
/// byte at a time, with the same answers (test `fast_set_matches_reference_random`).
#[inline(always)]
fn fast_item(r: &mut &[u8]) -> Option<(SeqOrUid, u8)> {
    if let Some(w) = r.get(..8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let (x, k) = crate::parse::digit_run8(a); // digits among the eight
        if k == 0 {
            // `*`, or no number: the general parser decides
            if a[0] != b'*' {
                return None;
            }
            *r = r.get(1..)?;
            return Some((SeqOrUid::Asterisk, a[1]));
        }
        if let Some(&t) = a.get(k) {
            // one to seven digits, then `t`
            let n = NonZeroU32::new(crate::parse::swar_digits(x << (8 * (8 - k))) as u32)?;
            *r = r.get(k..)?;
            return Some((SeqOrUid::Value(n), t));
        }
    }
    // a byte at a time
    let at = |j: usize| r.get(j).copied().unwrap_or(0);
    if at(0) == b'*' {
        let t = at(1);
        *r = r.get(1..)?;
        return Some((SeqOrUid::Asterisk, t));
    }
    let mut v: u64 = 0;
    let mut j = 0;
    while let Some(d) = r.get(j).map(|c| c.wrapping_sub(b'0')).filter(|&d| d <= 9) {
        v = v * 10 + d as u64;
        j += 1;
        if j > 10 {
            return None;
        }
    }
    if v > u32::MAX as u64 {
        return None;
    }
    let n = NonZeroU32::new(v as u32)?;
    let t = at(j);
    *r = r.get(j..)?;
    Some((SeqOrUid::Value(n), t))
}

/// One element of [`fast_set`] at the start of `*r`: a number, `*` or a range; with the byte
/// after it as [`fast_item`] gives it.
#[inline(always)]
fn fast_seq(r: &mut &[u8]) -> Option<(Sequence, u8)> {
    let (a, t) = fast_item(r)?;
    if t != b':' {
        return Some((Sequence::Single(a), t));
    }
    *r = r.get(1..)?;
    let (z, t) = fast_item(r)?;
    Some((Sequence::Range(a, z), t))
}

/// How many elements [`fast_set`] holds in its stack buffer before [`fast_set_long`] takes
/// over.
const STACK: usize = 16;

/// A `sequence-set` at the start of `b` in one pass, for the plain cases: returns the set and
/// its length in bytes, or `None` when anything needs the general parser (zero, out-of-range
/// or oddly written numbers, a missing number, more items than `max_items` allows), which then
/// decides (errors, lenient fixes) from the same position. Items go to a stack buffer first,
/// so that up to three items are held inline and the `Vec` of up to [`STACK`] is allocated
/// once at its final size; longer sets go on in [`fast_set_long`] (out of line, so that its
/// `Vec` takes no registers from this loop).
#[inline(always)]
fn fast_set(b: &[u8], max_items: usize) -> Option<(Sequences, usize)> {
    let mut stack = [FILL; STACK];
    let mut n = 0;
    let mut r = b;
    let t = loop {
        let (s, t) = fast_seq(&mut r)?;
        *stack.get_mut(n)? = s; // n < STACK: the loop leaves at STACK
        n += 1;
        if t != b',' {
            break t;
        }
        // the general parser's item limit, checked at the same point
        if n > max_items {
            return None;
        }
        r = r.get(1..)?;
        if n == STACK {
            let (v, r) = fast_set_long(&stack, r, max_items)?;
            return Some((Sequences::from(v), b.len() - r.len()));
        }
    };
    // the last number: one followed by `.`, `e` or `E` is lenient notation (`*` too, for
    // simplicity), which the general parser decides; `:` and `,` are neither
    if matches!(t, b'.' | b'e' | b'E') {
        return None;
    }
    let v = if n <= INLINE {
        // up to three elements (three sets in five of the commands corpus): held inline; the
        // first three places of the buffer whatever `n` (a fixed-size copy, no `memcpy`
        // call), the places past `n` hold `FILL`, as `Inline` wants
        Sequences(SeqRepr::Inline(n as u8, [stack[0], stack[1], stack[2]]))
    } else {
        Sequences::from(stack.get(..n)?.to_vec())
    };
    Some((v, b.len() - r.len()))
}

/// [`fast_set`] after the [`STACK`] elements of `stack` and their trailing comma, with the
/// rest of the input `r`: the elements and what is left of `r` after them.
#[cold]
#[inline(never)]
fn fast_set_long<'a>(
    stack: &[Sequence; STACK],
    mut r: &'a [u8],
    max_items: usize,
) -> Option<(Vec<Sequence>, &'a [u8])> {
    let mut v = Vec::with_capacity(2 * STACK);
    v.extend_from_slice(stack);
    loop {
        let (s, t) = fast_seq(&mut r)?;
        v.push(s);
        if t != b',' {
            if matches!(t, b'.' | b'e' | b'E') {
                return None;
            }
            return Some((v, r));
        }
        if v.len() > max_items {
            return None;
        }
        r = r.get(1..)?;
    }
}

/// The number of elements of the set at the cursor (commas + 1, counted over the set's
/// characters), so that its `Vec` is allocated once. Bounded by the list-item limit.
#[inline]
fn set_len_hint(p: &Parser<'_>) -> usize {
    let commas = p
        .rest()
        .iter()
        .take_while(|&&c| c.is_ascii_digit() || matches!(c, b',' | b':' | b'*'))
        .filter(|&&c| c == b',')
        .count();
    (commas + 1).min(p.opts.max_list_items.saturating_add(1))
}

fn nz(p: &mut Parser<'_>) -> PResult<NonZeroU32> {
    let start = p.pos;
    let v = p.number()?;
    NonZeroU32::new(v).ok_or_else(|| p.fail_at(start, "nz-number"))
}

impl Encode for UidSet {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.sep(&self.0, b",", &mut |b, r| {
            b.num(r.start.get());
            if r.start != r.end {
                b.byte(b':');
                b.num(r.end.get());
            }
        });
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies.
    use super::*;
    use proptest::prelude::*;

    fn nz() -> impl Strategy<Value = NonZeroU32> {
        prop_oneof![1u32..100, 1u32..=u32::MAX].prop_map(|v| NonZeroU32::new(v).unwrap())
    }

    fn sou() -> impl Strategy<Value = SeqOrUid> {
        prop_oneof![nz().prop_map(SeqOrUid::Value), Just(SeqOrUid::Asterisk)]
    }

    /// Sequence sets, including `$`.
    pub(crate) fn sequence_set() -> impl Strategy<Value = SequenceSet> {
        prop_oneof![
            Just(SequenceSet::LastResult),
            (
                proptest::collection::vec(
                    prop_oneof![
                        sou().prop_map(Sequence::Single),
                        (sou(), sou()).prop_map(|(a, b)| Sequence::Range(a, b))
                    ],
                    1..5
                ),
                proptest::bool::ANY
            )
                // either representation of a one-element list: inline (as decoded) or a Vec
                .prop_map(|(v, inline)| SequenceSet::Set(if inline {
                    v.into_iter().collect()
                } else {
                    v.into()
                }))
        ]
    }

    /// UID sets (as in responses).
    pub(crate) fn uid_set() -> impl Strategy<Value = UidSet> {
        // private contents: built here, inside the module
        proptest::collection::vec(
            (nz(), nz()).prop_map(|(start, end)| UidRange { start, end }),
            1..5,
        )
        .prop_map(UidSet)
    }

    /// Non-zero numbers.
    pub(crate) fn nz_u32() -> impl Strategy<Value = NonZeroU32> {
        nz()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::DecodeOptions;
    use bytes::Bytes;
    use proptest::strategy::Strategy;

    #[test]
    fn parse_and_encode() {
        let b = Bytes::from_static(b"1:*,5,9:3");
        let o = DecodeOptions::strict();
        let mut p = Parser::new(&b, &o);
        let s = SequenceSet::parse(&mut p).unwrap();
        assert_eq!(s.to_vec_inline_literals(), b"1:*,5,9:3");
        assert!(s.contains(4, 4));
        assert!(!s.contains(10, 8));
    }

    /// The one-pass parser gives what the general one gives (value, consumed length, error
    /// position, warnings) on plain and odd sets, strictly and leniently.
    #[test]
    fn fast_set_matches_general() {
        let mut inputs: Vec<String> = [
            "1", "*", "1:*", "*:1", "0", "0:5", "5:0", "4294967295", "4294967296", "00000000001",
            "0000000001", "12345678901", "1,", "1,,2", ",1", ":1", "1:", "1::2", "1.5", "1e3",
            "1E3", "-1", "1,-2", "2:1.", "3 4", "3)", "3,4:5,*:6 X", "$", "1,$", "12:*,5,9:12",
            "99999999999999999999", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20",
            "1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16,17:18,19:20,21:22,23:24,25:26,27:28,29:30,31:32,33:34",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for n in [15, 16, 17, 40] {
            inputs.push((1..=n).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
        }
        let limited = DecodeOptions::strict().with_max_list_items(3);
        for o in [DecodeOptions::strict(), DecodeOptions::lenient(), limited] {
            for s in &inputs {
                let b = Bytes::from(s.clone().into_bytes());
                let mut fast = Parser::new(&b, &o);
                let mut general = Parser::new(&b, &o);
                let rf = SequenceSet::parse(&mut fast);
                let rg = if general.eat(b'$') {
                    Ok(SequenceSet::LastResult)
                } else {
                    SequenceSet::parse_general(&mut general)
                };
                assert_eq!(rf.is_ok(), rg.is_ok(), "{s}");
                match (rf, rg) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a, b, "{s}");
                        assert_eq!(fast.pos, general.pos, "{s}");
                    }
                    _ => assert_eq!(fast.error(), general.error(), "{s}"),
                }
                assert_eq!(fast.warnings, general.warnings, "{s}");
            }
        }
    }

    fn check_sp_nz_run(s: &[u8], limit: usize) -> usize {
        let b = Bytes::copy_from_slice(s);
        let o = DecodeOptions::strict();
        let (mut p, mut q) = (Parser::new(&b, &o), Parser::new(&b, &o));
        let (mut fast, mut general) = (Vec::new(), Vec::new());
        p.pos += sp_nz_run(p.rest(), &mut fast, limit);
        let run = fast.len();
        sp_nz_items(&mut p, &mut fast, limit);
        sp_nz_items(&mut q, &mut general, limit);
        assert_eq!(
            (&fast, p.pos),
            (&general, q.pos),
            "{:?}",
            String::from_utf8_lossy(s)
        );
        assert!(run <= general.len());
        run
    }

    /// The eight-digit run of SEARCH results gives what the per-item loop gives alone, on
    /// the edge cases and on random lines of digits, spaces and the bytes that stop it.
    #[test]
    fn sp_nz_run_matches_per_item_loop() {
        for s in [
            " 1 22 333 4444 55555 666666 7777777 88888888 999999999 1234567890 4294967295\r\n",
            " 4294967296 1\r\n              ",
            " 9999999999 1\r\n              ",
            " 12345678901 1\r\n              ",
            " 12345678 1234567890 99999999 0 1\r\n ",
            " 01 1 2 3 4 5 6 7 8 9 10\r\n",
            " 1.5 1 2 3 4 5 6 7 8 9 10\r\n",
            " 12345678e 12345678E 1234567890. 1 2 3 4 5\r\n",
            " 1  2 3 4 5 6 7 8 9 10 11 12\r\n",
            " 10000025 10000026 10000027 10000037 (MODSEQ 5)\r\n",
        ] {
            for limit in [0, 1, 3, usize::MAX] {
                check_sp_nz_run(s.as_bytes(), limit);
            }
        }
        // the run itself takes every item (the last one has 12 bytes with its CRLF)
        let s = b" 1 22 333 4444 55555 666666 7777777 88888888 999999999 1234567890 4294967295\r\n";
        assert_eq!(check_sp_nz_run(s, usize::MAX), 11);
        assert_eq!(check_sp_nz_run(s, 3), 3);
    }

    proptest::proptest! {
        #[test]
        fn sp_nz_run_matches_per_item_loop_random(
            items in proptest::collection::vec(
                (proptest::sample::select(vec![" ", "  ", " 0", ""]),
                 proptest::string::string_regex("[0-9]{1,12}").unwrap(),
                 proptest::sample::select(vec!["", "", "", ".", "e", "E", "x", "("])),
                0..20),
            tail in proptest::sample::select(vec!["", "\r\n", "\r\n            "]),
            limit in proptest::sample::select(vec![2usize, 5, usize::MAX]),
        ) {
            let mut s = String::new();
            for (sp, digits, after) in &items {
                s.push_str(sp);
                s.push_str(digits);
                s.push_str(after);
            }
            s.push_str(tail);
            check_sp_nz_run(s.as_bytes(), limit);
        }
    }

    proptest::proptest! {
        /// [`fast_set_matches_general`] on random sets: numbers of 1-12 digits (the 8-byte
        /// digit load and the byte loop after it), `*`, and the separators and bytes that
        /// stop a number, strictly and leniently.
        #[test]
        fn fast_set_matches_general_random(
            items in proptest::collection::vec(
                (proptest::string::string_regex("[0-9]{1,12}|\\*").unwrap(),
                 proptest::sample::select(vec![",", ",", ":", ".", "e", " ", ",,", ""])),
                1..20),
            lenient in proptest::bool::ANY,
        ) {
            let s: String = items.iter().map(|(a, b)| format!("{a}{b}")).collect();
            let o = if lenient { DecodeOptions::lenient() } else { DecodeOptions::strict() };
            let b = Bytes::from(s.clone().into_bytes());
            let (mut fast, mut general) = (Parser::new(&b, &o), Parser::new(&b, &o));
            let rf = SequenceSet::parse(&mut fast);
            let rg = SequenceSet::parse_general(&mut general);
            match (rf, rg) {
                (Ok(a), Ok(b)) => {
                    proptest::prop_assert_eq!(a, b, "{}", s);
                    proptest::prop_assert_eq!(fast.pos, general.pos, "{}", s);
                }
                (Err(_), Err(_)) => proptest::prop_assert_eq!(fast.error(), general.error()),
                (a, b) => proptest::prop_assert!(false, "{s}: {a:?} / {b:?}"),
            }
            proptest::prop_assert_eq!(&fast.warnings, &general.warnings);
        }
    }

    /// A straightforward reader of what the strict profile accepts as a `sequence-set`
    /// (RFC 9051 §9, as this crate reads it: `$`, or items of a number or `*`, optionally
    /// `:` and another, separated by `,`; a number is a run of digits, leading zeros allowed,
    /// with a value in 1..=u32::MAX): the elements and the bytes consumed, `None` where the
    /// strict parser fails.
    fn reference_set(b: &[u8]) -> Option<(SequenceSet, usize)> {
        if b.first() == Some(&b'$') {
            return Some((SequenceSet::LastResult, 1));
        }
        let num = |i: &mut usize| -> Option<SeqOrUid> {
            if b.get(*i) == Some(&b'*') {
                *i += 1;
                return Some(SeqOrUid::Asterisk);
            }
            let start = *i;
            let mut v: u128 = 0;
            while let Some(c) = b.get(*i).filter(|c| c.is_ascii_digit()) {
                v = (v * 10 + (c - b'0') as u128).min(1 << 40);
                *i += 1;
            }
            if *i == start || v > u32::MAX as u128 {
                return None;
            }
            NonZeroU32::new(v as u32).map(SeqOrUid::Value)
        };
        let mut items = Vec::new();
        let mut i = 0;
        loop {
            let a = num(&mut i)?;
            if b.get(i) == Some(&b':') {
                i += 1;
                items.push(Sequence::Range(a, num(&mut i)?));
            } else {
                items.push(Sequence::Single(a));
            }
            if b.get(i) != Some(&b',') {
                break;
            }
            i += 1;
        }
        Some((SequenceSet::Set(items.into()), i))
    }

    proptest::proptest! {
        /// The one-pass reader (`SequenceSet::parse`, with [`fast_item`]'s word and byte
        /// paths and [`fast_set_long`] past 16 elements) against the general parser (value,
        /// consumed length, error, warnings; strictly, leniently and with item limits at and
        /// around the stack buffer's size) and, strictly, against [`reference_set`]: on any
        /// mix of numbers (0, leading zeros, u32::MAX and one more, 1 to 12 digits), `*`, `$`
        /// and the bytes around and between them (`,,`, `1:`, `:1`, a trailing comma,
        /// lenient number notation, the end of the input and what ends a set).
        #[test]
        fn fast_set_matches_reference_random(
            items in proptest::collection::vec(
                (proptest::prop_oneof![
                    proptest::string::string_regex("[1-9][0-9]{0,6}").unwrap(),
                    proptest::string::string_regex("[0-9]{1,12}").unwrap(),
                    proptest::sample::select(vec![
                        "0", "00", "01", "0000000", "00000001", "4294967295", "4294967296",
                        "04294967295", "*", "$", "",
                    ]).prop_map(String::from),
                ],
                 proptest::sample::select(vec![
                    ",", ",", ",", ":", ":", ",,", "::", "", ".", "e", "E", " ", ")", "-",
                    "\r\n", "\0", "x", "$",
                 ])),
                1..40),
            tail in proptest::sample::select(vec!["", "", " ", ")", "\r\n", "        "]),
            opts in 0..5usize,
            clean in proptest::collection::vec((1u32..=u32::MAX, proptest::bool::ANY), 1..40),
            use_clean in proptest::bool::weighted(0.3),
        ) {
            // a third of the cases: a plain list of numbers and ranges (up to 39 elements:
            // the stack buffer, its end and the item limits around it)
            let s: String = if use_clean {
                clean.iter().map(|(v, r)| if *r { format!("{v}:*") } else { v.to_string() })
                    .collect::<Vec<_>>().join(",") + tail
            } else {
                items.iter().map(|(a, b)| format!("{a}{b}")).chain([tail.to_string()]).collect()
            };
            let o = match opts {
                0 => DecodeOptions::strict(),
                1 => DecodeOptions::lenient(),
                2 => DecodeOptions::strict().with_max_list_items(3),
                3 => DecodeOptions::strict().with_max_list_items(15),
                _ => DecodeOptions::lenient().with_max_list_items(16),
            };
            let b = Bytes::from(s.clone().into_bytes());
            let (mut fast, mut general) = (Parser::new(&b, &o), Parser::new(&b, &o));
            let rf = SequenceSet::parse(&mut fast);
            let rg = if general.eat(b'$') {
                Ok(SequenceSet::LastResult)
            } else {
                SequenceSet::parse_general(&mut general)
            };
            match (&rf, rg) {
                (Ok(a), Ok(b)) => {
                    proptest::prop_assert_eq!(a, &b, "{:?}", s);
                    proptest::prop_assert_eq!(fast.pos, general.pos, "{:?}", s);
                }
                (Err(_), Err(_)) => proptest::prop_assert_eq!(fast.error(), general.error()),
                (a, b) => proptest::prop_assert!(false, "{s:?}: {a:?} / {b:?}"),
            }
            proptest::prop_assert_eq!(&fast.warnings, &general.warnings);
            if opts == 0 {
                let want = reference_set(s.as_bytes());
                let got = rf.ok().map(|v| (v, fast.pos));
                proptest::prop_assert_eq!(got, want, "{:?}", s);
            }
        }
    }

    fn hash_of(s: &SequenceSet) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        s.hash(&mut h);
        h.finish()
    }

    /// A list of one to three elements held inline and the same list in a `Vec` are the same
    /// value: same encoding, elements, `contains`, equality (with each other and with other
    /// sets), hash and `Debug`; and a decoded set of up to three elements is held inline.
    #[track_caller]
    fn check_inline_matches_vec(items: &[Sequence], other: &SequenceSet) {
        assert!((1..=INLINE).contains(&items.len()));
        let inline = SequenceSet::Set(match items {
            [one] => Sequences::one(*one),
            _ => items.iter().copied().collect(),
        });
        let general = SequenceSet::Set(Sequences::from(items.to_vec()));
        let (SequenceSet::Set(a), SequenceSet::Set(b)) = (&inline, &general) else {
            unreachable!()
        };
        assert!(a.is_inline() && !b.is_inline());
        assert_eq!(a.as_slice(), b.as_slice());
        assert_eq!(a.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>());
        assert_eq!((a.len(), a.is_empty()), (b.len(), b.is_empty()));
        assert_eq!(
            inline.to_vec_inline_literals(),
            general.to_vec_inline_literals()
        );
        assert_eq!(inline, general);
        assert_eq!(general, inline);
        assert_eq!(hash_of(&inline), hash_of(&general));
        assert_eq!(format!("{inline:?}"), format!("{general:?}"));
        assert_eq!(
            format!("{inline:?}"),
            format!("Set({:?})", items.to_vec()),
            "Debug as the Vec printed"
        );
        assert_eq!(inline == *other, general == *other);
        assert_eq!(*other == inline, *other == general);
        for largest in [1, 2, 5, 7, 100, u32::MAX] {
            for n in [0, 1, 2, 3, 4, 5, 6, 7, 8, 99, 100, 101, u32::MAX] {
                assert_eq!(inline.contains(n, largest), general.contains(n, largest));
            }
        }
        assert_eq!(a.clone().into_vec(), b.clone().into_vec());
        assert_eq!(
            a.clone().into_iter().collect::<Vec<_>>(),
            b.clone().into_iter().collect::<Vec<_>>()
        );
        assert_eq!(
            a.clone().into_iter().rev().collect::<Vec<_>>(),
            b.clone().into_iter().rev().collect::<Vec<_>>()
        );
        assert_eq!(a.clone().into_iter().len(), b.clone().into_iter().len());
        assert!(*a == items.to_vec() && *b == items.to_vec() && *a == *items && *b == *items);
        // decoding the encoding gives the inline form back
        let enc = Bytes::from(general.to_vec_inline_literals());
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            let mut p = Parser::new(&enc, &o);
            let back = SequenceSet::parse(&mut p).unwrap();
            assert_eq!(back, inline);
            let SequenceSet::Set(d) = &back else {
                unreachable!()
            };
            assert!(d.is_inline());
        }
    }

    #[test]
    fn inline_set_matches_vec() {
        // Three elements inline make a set 40 bytes (the `Vec` alone was 24); the commands
        // that hold one stay as large as before.
        assert_eq!(std::mem::size_of::<SequenceSet>(), 40);
        assert_eq!(std::mem::size_of::<Option<SequenceSet>>(), 40);
        assert_eq!(std::mem::size_of::<crate::command::CommandBody>(), 160);
        let v = |n: u32| SeqOrUid::Value(NonZeroU32::new(n).unwrap());
        let items = [
            Sequence::Single(v(5)),
            Sequence::Single(SeqOrUid::Asterisk),
            Sequence::Range(v(1), SeqOrUid::Asterisk),
            Sequence::Range(SeqOrUid::Asterisk, v(1)),
            Sequence::Range(v(4), v(9)),
            Sequence::Range(v(9), v(4)),
            Sequence::Range(v(5), v(5)),
            Sequence::Single(v(u32::MAX)),
        ];
        let mut others = vec![SequenceSet::LastResult, SequenceSet::Set(Sequences::new())];
        for &a in &items {
            others.push(SequenceSet::Set(Sequences::one(a)));
            others.push(SequenceSet::Set(vec![a].into()));
            others.push(SequenceSet::Set(vec![a, a].into()));
        }
        for (i, &a) in items.iter().enumerate() {
            let b = items[(i + 3) % items.len()];
            let c = items[(i + 5) % items.len()];
            for other in &others {
                check_inline_matches_vec(&[a], other);
                check_inline_matches_vec(&[a, b], other);
                check_inline_matches_vec(&[a, b, c], other);
            }
        }
        // the constructors and the ways of building a list
        assert_eq!(
            SequenceSet::single(NonZeroU32::new(5).unwrap()),
            SequenceSet::Set(vec![items[0]].into())
        );
        assert_eq!(SequenceSet::all(), SequenceSet::Set(vec![items[2]].into()));
        assert_eq!(
            SequenceSet::range(NonZeroU32::new(4).unwrap(), NonZeroU32::new(9).unwrap()),
            SequenceSet::Set(vec![items[4]].into())
        );
        assert!(Sequences::from_iter([items[0]]).is_inline());
        let two: Sequences = items[..2].iter().copied().collect();
        assert_eq!(two.as_slice(), &items[..2]);
        let mut built = Sequences::new();
        assert!(built.is_empty() && SequenceSet::Set(built.clone()).validate().is_err());
        for (i, &s) in items.iter().enumerate() {
            built.push(s);
            assert_eq!(built.as_slice(), &items[..=i]);
            assert_eq!(built.is_inline(), i < INLINE);
        }
        let mut ext = Sequences::one(items[0]);
        ext.extend(items[1..].iter().copied());
        assert_eq!(ext, built);
        assert_eq!(Vec::from(ext), items.to_vec());
        let mut m = Sequences::one(items[0]);
        m[0] = items[1];
        assert_eq!(m.as_slice(), [items[1]]);
    }

    proptest::proptest! {
        /// Sets of one element, inline or in a `Vec`, compared with random sets.
        #[test]
        fn inline_set_matches_vec_random(
            a in strategies::sequence_set(),
            b in strategies::sequence_set(),
        ) {
            for s in [&a, &b] {
                if let SequenceSet::Set(v) = s {
                    // every run of one to three elements, against the other set
                    let other = if std::ptr::eq(s, &a) { &b } else { &a };
                    for k in 1..=INLINE {
                        for run in v.windows(k) {
                            check_inline_matches_vec(run, other);
                        }
                    }
                    // a decoded set equals its source whatever the representation
                    let enc = Bytes::from(s.to_vec_inline_literals());
                    let o = DecodeOptions::strict();
                    let mut p = Parser::new(&enc, &o);
                    let back = SequenceSet::parse(&mut p).unwrap();
                    proptest::prop_assert_eq!(&back, s);
                    proptest::prop_assert_eq!(hash_of(&back), hash_of(s));
                    let SequenceSet::Set(d) = &back else { unreachable!() };
                    proptest::prop_assert_eq!(d.is_inline(), v.len() <= INLINE);
                    // taken apart by value: the same elements in order
                    proptest::prop_assert_eq!(v.clone().into_iter().collect::<Vec<_>>(), v.to_vec());
                }
            }
        }
    }

    #[test]
    fn uid_set_constructors_validate() {
        assert_eq!(
            UidSet::new(vec![]).unwrap_err().rule(),
            crate::error::Rule::Empty
        );
        let e = UidRange::new(0, 4).unwrap_err();
        assert_eq!(
            (e.kind(), e.rule()),
            (ValueKind::UidSet, crate::error::Rule::Zero)
        );
        assert!(UidRange::new(4, 0).is_err() && UidRange::single(0).is_err());
        let r = UidRange::new(9, 4).unwrap();
        assert_eq!((r.start().get(), r.end().get()), (9, 4));
        assert_eq!((r.bounds().0.get(), r.bounds().1.get()), (4, 9));
        let s = UidSet::new(vec![r, UidRange::single(20).unwrap()]).unwrap();
        assert!(s.contains(4) && s.contains(9) && s.contains(20));
        assert!(!s.contains(3) && !s.contains(10) && !s.contains(0));
        assert_eq!(s.ranges().len(), 2);
        assert!(!s.is_empty());
        assert_eq!(s.len(), 7);
        assert_eq!(s.to_vec_inline_literals(), b"9:4,20");
        assert_eq!(UidSet::from_range(r).into_ranges(), vec![r]);
    }

    /// A decoded `uid-set` has no `*` and no zero, as the grammar says.
    #[test]
    fn uid_set_grammar() {
        let o = DecodeOptions::strict();
        for bad in ["*", "1:*", "0", "3:0", "", ","] {
            let b = Bytes::from(bad);
            let mut p = Parser::new(&b, &o);
            assert!(UidSet::parse(&mut p).is_err(), "{bad}");
        }
    }

    #[test]
    fn uid_set_iterates_in_sent_order() {
        let b = Bytes::from_static(b"187:186,3");
        let o = DecodeOptions::strict();
        let mut p = Parser::new(&b, &o);
        let s = UidSet::parse(&mut p).unwrap();
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![187, 186, 3]);
        assert_eq!(s.len(), 3);
    }
}
