//! Name tables: the keywords of RFC 9051 §9 (and the extension RFCs) that map one to one onto
//! enum variants, case-insensitive as RFC 9051 §9 says of the grammar's strings ("case-
//! insensitive"). [`name_enum!`](crate::names::name_enum) builds from one definition the enum,
//! its table of names, the decoder's lookups and the encoder's names, so that the three cannot
//! disagree: a variant either has a name in the table or is listed as taking arguments, and
//! the encoder's `match` is generated from the same list. The lookups use an index the
//! compiler builds from the table ([`Index`]); building it fails to compile when a name is
//! there twice or is shadowed by an earlier one.

use crate::parse::class;

/// `h == k` ignoring ASCII case, for `k` made of ASCII letters only and `h` as long as `k`:
/// setting bit 5 of every byte maps a letter to its lower case and no other byte onto a
/// letter's lower case, so one OR per word folds both sides. Up to 16 bytes in two
/// (overlapping) word loads.
#[inline]
fn eq_letters_fold(h: &[u8], k: &[u8]) -> bool {
    #[inline]
    fn w8(s: &[u8], i: usize) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&s[i..i + 8]);
        u64::from_le_bytes(a) | 0x2020_2020_2020_2020
    }
    #[inline]
    fn w4(s: &[u8], i: usize) -> u32 {
        let mut a = [0u8; 4];
        a.copy_from_slice(&s[i..i + 4]);
        u32::from_le_bytes(a) | 0x2020_2020
    }
    let n = k.len();
    if h.len() != n {
        return false;
    }
    match n {
        8..=16 => w8(h, 0) == w8(k, 0) && w8(h, n - 8) == w8(k, n - 8),
        4..=7 => w4(h, 0) == w4(k, 0) && w4(h, n - 4) == w4(k, n - 4),
        _ => h.eq_ignore_ascii_case(k),
    }
}

/// Bucket of a name by its first byte, ASCII case folded (32 buckets: letters are apart).
#[inline]
const fn first_bucket(c: u8) -> usize {
    ((c | 0x20) & 0x1f) as usize
}

/// Bucket of a whole word by its first byte (case folded) and its length (256 buckets).
#[inline]
const fn word_bucket(c: u8, len: usize) -> usize {
    first_bucket(c) | ((len & 7) << 5)
}

/// `a` equals `b` ignoring ASCII case (a `const` [`<[u8]>::eq_ignore_ascii_case`]).
const fn eq_ci(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !a[i].eq_ignore_ascii_case(&b[i]) {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether the keyword `k`, matched at the start of `name` the way
/// [`Parser::keyword`](crate::parse::Parser::keyword) matches, would take `name`: `name` starts
/// with `k` (ignoring case) and ends there or goes on with a byte that ends a keyword.
const fn takes(k: &[u8], name: &[u8]) -> bool {
    if name.len() < k.len() {
        return false;
    }
    let mut i = 0;
    while i < k.len() {
        if !k[i].eq_ignore_ascii_case(&name[i]) {
            return false;
        }
        i += 1;
    }
    if name.len() == k.len() {
        return true;
    }
    let c = name[k.len()];
    !class::is_atom_char(c) || c == b'[' || c == b'<' || c == b'.'
}

/// The entries `0..N` sorted by `bucket` (stable: table order within a bucket), and where
/// each bucket starts in that order (`starts[b]..starts[b + 1]`).
const fn sort_by_bucket<const N: usize, const B: usize>(bucket: &[usize; N]) -> ([u8; N], [u8; B]) {
    let mut order = [0u8; N];
    let mut starts = [0u8; B];
    let mut at = 0;
    let mut b = 0;
    while b + 1 < B {
        starts[b] = at as u8;
        let mut i = 0;
        while i < N {
            if bucket[i] == b {
                order[at] = i as u8;
                at += 1;
            }
            i += 1;
        }
        b += 1;
    }
    starts[B - 1] = at as u8;
    (order, starts)
}

/// The lookups of a table of `N` names, built at compile time by [`Index::new`].
pub(crate) struct Index<const N: usize> {
    /// Entries by first byte, table order kept within a bucket.
    by_first: [u8; N],
    /// Where each first-byte bucket starts in `by_first` (33 bounds).
    first_starts: [u8; 33],
    /// Entries by first byte and length.
    by_word: [u8; N],
    /// Where each word bucket starts in `by_word` (257 bounds).
    word_starts: [u8; 257],
    /// The [`key`] of each name, in table order.
    keys: [[u64; 2]; N],
    /// Each name's first eight bytes (fewer for a shorter name) with bit 5 of each set, and
    /// the mask of those bytes ([`head`]): one test of a word of the input rejects a name
    /// in [`word_at`](Self::word_at).
    heads: [[u64; 2]; N],
}

/// Bit 5 of each byte of a word: set, it folds an ASCII letter to its lower case (see
/// [`eq_letters_fold`]).
const FOLD: u64 = 0x2020_2020_2020_2020;

/// `[mask, head]` of a name for [`Index::word_at`]: the mask of its first `min(len, 8)`
/// bytes, and those bytes (little-endian) with bit 5 set.
const fn head(s: &[u8]) -> [u64; 2] {
    let n = if s.len() < 8 { s.len() } else { 8 };
    let mask = if n == 8 {
        u64::MAX
    } else {
        (1u64 << (8 * n)) - 1
    };
    [mask, (le(s, 0, n) | FOLD) & mask]
}

/// Up to eight bytes of `s` from `at`, little-endian (`const`, for the index).
const fn le(s: &[u8], at: usize, n: usize) -> u64 {
    let mut v = 0u64;
    let mut i = 0;
    while i < n {
        v |= (s[at + i] as u64) << (8 * i);
        i += 1;
    }
    v
}

/// Two words that, with the length, tell a name of up to 16 bytes exactly: its first and last
/// eight bytes (overlapping) from eight bytes on, its first and last four from four on, its
/// bytes below four; `[0, 0]` for a longer name (compared byte by byte).
const fn key(s: &[u8]) -> [u64; 2] {
    let l = s.len();
    if l >= 8 && l <= 16 {
        [le(s, 0, 8), le(s, l - 8, 8)]
    } else if l >= 4 && l < 8 {
        [le(s, 0, 4), le(s, l - 4, 4)]
    } else if l < 4 {
        [le(s, 0, l), 0]
    } else {
        [0, 0]
    }
}

/// [`key`] at run time, in word loads.
#[inline]
fn key_of(s: &[u8]) -> [u64; 2] {
    #[inline]
    fn w8(s: &[u8], i: usize) -> u64 {
        let mut x = [0u8; 8];
        x.copy_from_slice(&s[i..i + 8]);
        u64::from_le_bytes(x)
    }
    #[inline]
    fn w4(s: &[u8], i: usize) -> u64 {
        let mut x = [0u8; 4];
        x.copy_from_slice(&s[i..i + 4]);
        u32::from_le_bytes(x) as u64
    }
    let l = s.len();
    match l {
        8..=16 => [w8(s, 0), w8(s, l - 8)],
        4..=7 => [w4(s, 0), w4(s, l - 4)],
        0..=3 => [le(s, 0, l), 0],
        _ => [0, 0],
    }
}

impl<const N: usize> Index<N> {
    /// Builds the index; panics (a compile error in the `const` that calls it) when a name is
    /// empty, when two names are equal ignoring case, or when a name would be taken by an
    /// earlier one that [`Parser::keyword`](crate::parse::Parser::keyword) matches first
    /// (`RFC822` before `RFC822.SIZE`: the longer must come first).
    pub(crate) const fn new(names: &[&[u8]; N]) -> Self {
        assert!(N < 255, "name table: more than 254 names");
        let mut first = [0usize; N];
        let mut word = [0usize; N];
        let mut keys = [[0u64; 2]; N];
        let mut heads = [[0u64; 2]; N];
        let mut i = 0;
        while i < N {
            assert!(!names[i].is_empty(), "name table: an empty name");
            let mut j = 0;
            while j < i {
                assert!(
                    !eq_ci(names[j], names[i]),
                    "name table: a name is there twice"
                );
                assert!(
                    !takes(names[j], names[i]),
                    "name table: a name is taken by an earlier one (put the longer first)"
                );
                j += 1;
            }
            first[i] = first_bucket(names[i][0]);
            word[i] = word_bucket(names[i][0], names[i].len());
            keys[i] = key(names[i]);
            heads[i] = head(names[i]);
            i += 1;
        }
        let (by_first, first_starts) = sort_by_bucket::<N, 33>(&first);
        let (by_word, word_starts) = sort_by_bucket::<N, 257>(&word);
        Index {
            by_first,
            first_starts,
            by_word,
            word_starts,
            keys,
            heads,
        }
    }

    /// The entries whose name starts with `c` (ignoring case), possibly with others, in
    /// table order.
    #[inline]
    pub(crate) fn starting_with(&self, c: u8) -> &[u8] {
        let b = first_bucket(c);
        &self.by_first[self.first_starts[b] as usize..self.first_starts[b + 1] as usize]
    }

    /// The entry whose name (ignoring case) starts `rest` and is followed by its end or a
    /// byte that ends an atom and is neither `]` nor 8-bit (those are left to the callers'
    /// general paths), with the name's length. Only the names with `rest`'s first letter are
    /// compared, each in a few word-sized loads, so the atom is never scanned on its own.
    /// For tables of ASCII letters only (tests `attribute_names_round_trip`,
    /// `flag_names_round_trip`).
    ///
    /// With eight bytes of `rest` at hand, each candidate is first tested against them in
    /// one masked compare (its [`head`]), so a name that differs early costs a few
    /// instructions; fewer than eight bytes take [`word_at_general`](Self::word_at_general),
    /// which gives the same for all (test `word_at_matches_general_path`).
    #[inline]
    pub(crate) fn word_at(&self, names: &[&[u8]; N], rest: &[u8]) -> Option<(u8, usize)> {
        let Some(w) = rest.get(..8) else {
            return self.word_at_general(names, rest);
        };
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let w = u64::from_le_bytes(a) | FOLD;
        for &i in self.starting_with(rest[0]) {
            let [mask, head] = self.heads[i as usize];
            if w & mask != head {
                continue;
            }
            let k = names[i as usize];
            let n = k.len();
            let ends = match rest.get(n) {
                None => true,
                Some(&c) => !class::is_atom_char(c) && c != b']' && c < 0x80,
            };
            // the head compare was the whole name up to eight bytes
            if ends && (n <= 8 || rest.get(..n).is_some_and(|h| eq_letters_fold(h, k))) {
                return Some((i, n));
            }
        }
        None
    }

    /// [`word_at`](Self::word_at) for any `rest`: each name with its first letter in turn.
    #[inline(never)]
    pub(crate) fn word_at_general(&self, names: &[&[u8]; N], rest: &[u8]) -> Option<(u8, usize)> {
        for &i in self.starting_with(*rest.first()?) {
            let k = names[i as usize];
            let n = k.len();
            let Some(h) = rest.get(..n) else { continue };
            let ends = match rest.get(n) {
                None => true,
                Some(&c) => !class::is_atom_char(c) && c != b']' && c < 0x80,
            };
            if ends && eq_letters_fold(h, k) {
                return Some((i, n));
            }
        }
        None
    }

    /// The entry whose name is `w` (ignoring case), if any.
    #[inline]
    pub(crate) fn word(&self, names: &[&[u8]; N], w: &[u8]) -> Option<usize> {
        let b = word_bucket(*w.first()?, w.len());
        let cands = &self.by_word[self.word_starts[b] as usize..self.word_starts[b + 1] as usize];
        // the exact spelling (what peers send) in two word compares, then any case
        let k = key_of(w);
        for &i in cands {
            let n = names[i as usize];
            if n.len() == w.len()
                && (if w.len() <= 16 {
                    self.keys[i as usize] == k
                } else {
                    n == w
                })
            {
                return Some(i as usize);
            }
        }
        cands
            .iter()
            .map(|&i| i as usize)
            .find(|&i| names[i].eq_ignore_ascii_case(w))
    }
}

/// One slot of a [`Prefix4`] table.
#[derive(Clone, Copy)]
struct Slot {
    /// The first four bytes of the name (a three-byte name: and the byte after it), each
    /// with bit 5 set, little-endian; `0` for an empty slot (no folded input is `0`).
    key: u32,
    /// The entry's place in the table.
    idx: u8,
    /// The name's length.
    len: u8,
    /// The mask of the name's first `min(len, 8)` bytes and those bytes folded ([`head`]).
    mask: u64,
    head: u64,
    /// A name over eight bytes: its last eight bytes, folded.
    tail: u64,
}

const EMPTY_SLOT: Slot = Slot {
    key: 0,
    idx: 0,
    len: 0,
    mask: 0,
    head: 0,
    tail: 0,
};

/// Slots of a [`Prefix4`] table (a power of two).
const PREFIX_SLOTS: usize = 64;

/// A perfect hash of a table of letter-only names (three to sixteen letters) by their first
/// four bytes, ASCII case folded (a three-letter name is there twice: followed by SP and by
/// `)`), for the lists whose names are followed by SP or `)` (a LIST response's attributes):
/// one multiply picks the one name the input can be, checked in two or three word compares.
/// [`at`](Self::at) gives what [`Index::word_at`] gives when the name is followed by SP or
/// `)`, and `None` otherwise (test `prefix4_matches_word_at`). Built at compile time: a
/// table whose names share four letters, or have other bytes than letters, fails to
/// compile.
pub(crate) struct Prefix4 {
    /// The multiplier of the hash (`key * mul >> 26`), the first found that sends each key
    /// to a slot of its own.
    mul: u32,
    slots: [Slot; PREFIX_SLOTS],
}

/// The folded key of `s`: its first four bytes, `term` standing in for a missing fourth.
const fn key4(s: &[u8], term: u8) -> u32 {
    let mut k = 0u32;
    let mut i = 0;
    while i < 4 {
        let c = if i < s.len() { s[i] } else { term };
        k |= ((c | 0x20) as u32) << (8 * i);
        i += 1;
    }
    k
}

impl Prefix4 {
    /// Builds the table (see the type's doc for what fails to compile).
    pub(crate) const fn new<const N: usize>(names: &[&[u8]; N]) -> Self {
        assert!(N < 255, "prefix table: more than 254 names");
        // every key: a name's, twice for a three-letter name
        let mut keys = [0u32; 64];
        let mut owner = [0usize; 64];
        let mut nk = 0;
        let mut i = 0;
        while i < N {
            let s = names[i];
            assert!(
                s.len() >= 3 && s.len() <= 16,
                "prefix table: 3 to 16 letters"
            );
            let mut j = 0;
            while j < s.len() {
                assert!(s[j].is_ascii_alphabetic(), "prefix table: letters only");
                j += 1;
            }
            if s.len() == 3 {
                keys[nk] = key4(s, b' ');
                owner[nk] = i;
                keys[nk + 1] = key4(s, b')');
                owner[nk + 1] = i;
                nk += 2;
            } else {
                keys[nk] = key4(s, 0);
                owner[nk] = i;
                nk += 1;
            }
            assert!(nk + 2 <= keys.len(), "prefix table: too many names");
            i += 1;
        }
        // the keys are distinct (else two names share their first four letters)
        let mut a = 0;
        while a < nk {
            let mut b = a + 1;
            while b < nk {
                assert!(keys[a] != keys[b], "prefix table: names share four letters");
                b += 1;
            }
            a += 1;
        }
        // the first odd multiplier (of a fixed sequence) without a collision
        let mut seed = 0x9e37_79b9u32;
        let mut tries = 0;
        loop {
            assert!(tries < 100_000, "prefix table: no perfect hash found");
            tries += 1;
            seed = seed.wrapping_mul(0x0019_660d).wrapping_add(0x3c6e_f35f);
            let mul = seed | 1;
            let mut used = [false; PREFIX_SLOTS];
            let mut ok = true;
            let mut k = 0;
            while k < nk {
                let h = (keys[k].wrapping_mul(mul) >> 26) as usize;
                if used[h] {
                    ok = false;
                    break;
                }
                used[h] = true;
                k += 1;
            }
            if !ok {
                continue;
            }
            let mut slots = [EMPTY_SLOT; PREFIX_SLOTS];
            let mut k = 0;
            while k < nk {
                let s = names[owner[k]];
                let n = s.len();
                let [mask, head] = head(s);
                slots[(keys[k].wrapping_mul(mul) >> 26) as usize] = Slot {
                    key: keys[k],
                    idx: owner[k] as u8,
                    len: n as u8,
                    mask,
                    head,
                    tail: if n > 8 { le(s, n - 8, 8) | FOLD } else { 0 },
                };
                k += 1;
            }
            return Prefix4 { mul, slots };
        }
    }

    /// The entry whose name (ignoring case) starts `rest` and is followed by SP or `)`, with
    /// the name's length; `None` for anything else. With eight bytes of `rest` at hand: one
    /// slot, picked by the first four bytes, compared; fewer take `index`'s
    /// [`word_at_general`](Index::word_at_general).
    #[inline(always)]
    pub(crate) fn at<const N: usize>(
        &self,
        index: &Index<N>,
        names: &[&[u8]; N],
        rest: &[u8],
    ) -> Option<(u8, usize)> {
        let Some(w) = rest.get(..8) else {
            return index
                .word_at_general(names, rest)
                .filter(|&(_, n)| matches!(rest.get(n), Some(b' ' | b')')));
        };
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let w = u64::from_le_bytes(a) | FOLD;
        let k = w as u32;
        let s = &self.slots[(k.wrapping_mul(self.mul) >> 26) as usize % PREFIX_SLOTS];
        if s.key != k || w & s.mask != s.head {
            return None;
        }
        let n = s.len as usize;
        if n > 8 {
            let t = rest.get(n - 8..n)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(t);
            if u64::from_le_bytes(a) | FOLD != s.tail {
                return None;
            }
        }
        match rest.get(n) {
            Some(b' ' | b')') => Some((s.idx, n)),
            _ => None,
        }
    }
}

/// Defines an enum whose variants without arguments each have one name (a keyword matched
/// ignoring ASCII case), from one list. Generates:
///
/// - the enum: the named variants, then the variants that take arguments (`others`);
/// - `known_name(&self) -> Option<&'static str>`: the name of a named variant (`None` for
///   the others), an exhaustive `match` without a wildcard;
/// - `pub(crate) const NAMES: [&[u8]; N]` and `INDEX` (see [`Index`]; checked at compile
///   time), with `from_known_name(&[u8]) -> Option<Self>` (a whole word) and
///   `parse_known_name(&mut Parser) -> Option<Self>` (the first name
///   [`Parser::keyword`](crate::parse::Parser::keyword) takes, in table order);
/// - either `as_str(&self) -> &str` (`name { arms }`: arms for the others give their name) or
///   the `Encode` impl (`encode(buf) { arms }`: named variants write their name, arms for the
///   others write themselves). Either way the compiler checks the `match` covers every
///   variant, so no variant can be left out or fall back to another's name.
macro_rules! name_enum {
    // The shared part.
    (@common
        [$(#[$meta:meta])*] $vis:vis $ty:ident
        [$( [$(#[$vm:meta])*] $v:ident $name:literal )*]
        [$( [$(#[$om:meta])*] $o:ident [$($tuple:tt)*] [$($fields:tt)*] )*]
    ) => {
        $(#[$meta])*
        $vis enum $ty {
            $( $(#[$vm])* $v, )*
            $( $(#[$om])* $o $($tuple)* $($fields)*, )*
        }

        #[allow(dead_code)]
        impl $ty {
            /// The names of the variants without arguments, in table order (the order the
            /// decoder tries them in).
            pub(crate) const NAMES: [&'static [u8]; [$(stringify!($v)),*].len()] =
                [$($name as &'static [u8]),*];
            /// The variant of `NAMES[i]`.
            #[inline]
            fn by_index(i: usize) -> Option<Self> {
                let mut k = 0usize;
                $(
                    if i == k {
                        return Some($ty::$v);
                    }
                    k += 1;
                )*
                let _ = k;
                None
            }
            /// The variants without arguments, in table order (`KNOWN[i]` is named
            /// `NAMES[i]`).
            pub(crate) const KNOWN: [Self; [$(stringify!($v)),*].len()] = [$($ty::$v),*];
            /// The place of a variant without arguments in `NAMES` (`None` for the others).
            #[inline]
            pub(crate) const fn known_index(&self) -> Option<u8> {
                let mut k = 0u8;
                $(
                    if matches!(self, $ty::$v) {
                        return Some(k);
                    }
                    k += 1;
                )*
                let _ = k;
                None
            }
            /// The lookups of `NAMES` (built, and checked, at compile time).
            pub(crate) const INDEX: $crate::names::Index<{ [$(stringify!($v)),*].len() }> =
                $crate::names::Index::new(&Self::NAMES);

            /// Every variant without arguments, in table order.
            #[cfg(test)]
            pub(crate) fn named() -> Vec<Self> {
                vec![$($ty::$v),*]
            }

            /// The name of a variant without arguments (`None` for the variants that take
            /// arguments or hold their own name).
            pub const fn known_name(&self) -> Option<&'static str> {
                match self {
                    $( $ty::$v => Some(const { $crate::names::utf8($name) }), )*
                    $( $ty::$o { .. } => None, )*
                }
            }

            /// The variant without arguments named `w` (ignoring ASCII case).
            #[inline(always)]
            pub(crate) fn from_known_name(w: &[u8]) -> Option<Self> {
                // the exact spelling (what peers send): a length test, then a compare of
                // known length, per name
                $(
                    if w == $name {
                        return Some($ty::$v);
                    }
                )*
                Self::from_name_any_case(w)
            }

            /// [`from_known_name`](Self::from_known_name) past the exact spellings.
            #[inline(never)]
            fn from_name_any_case(w: &[u8]) -> Option<Self> {
                Self::INDEX.word(&Self::NAMES, w).and_then(Self::by_index)
            }

            /// The first variant without arguments whose name `Parser::keyword` takes at
            /// the cursor, in table order, if any (the cursor moves past it).
            #[inline]
            pub(crate) fn parse_known_name(p: &mut $crate::parse::Parser<'_>) -> Option<Self> {
                let c = p.peek()?;
                for &i in Self::INDEX.starting_with(c) {
                    if p.keyword(Self::NAMES[i as usize]) {
                        return Self::by_index(i as usize);
                    }
                }
                None
            }
        }
    };
    // Entry: with `name { arms }`.
    (
        $(#[$meta:meta])*
        $vis:vis enum $ty:ident {
            $( $(#[$vm:meta])* $v:ident = $name:literal, )*
        }
        others {
            $( $(#[$om:meta])* $o:ident $( ( $($t:tt)* ) )? $( { $($f:tt)* } )?, )*
        }
        name { $($arms:tt)* }
    ) => {
        $crate::names::name_enum!(@common [$(#[$meta])*] $vis $ty
            [$( [$(#[$vm])*] $v $name )*]
            [$( [$(#[$om])*] $o [$( ( $($t)* ) )?] [$( { $($f)* } )?] )*]);

        impl $ty {
            /// The name as sent: the canonical spelling of a known name, or the name held.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $ty::$v => const { $crate::names::utf8($name) }, )*
                    $($arms)*
                }
            }
        }
    };
    // Entry: with `encode(buf) { arms }`.
    (
        $(#[$meta:meta])*
        $vis:vis enum $ty:ident {
            $( $(#[$vm:meta])* $v:ident = $name:literal, )*
        }
        others {
            $( $(#[$om:meta])* $o:ident $( ( $($t:tt)* ) )? $( { $($f:tt)* } )?, )*
        }
        encode($buf:ident) { $($arms:tt)* }
    ) => {
        $crate::names::name_enum!(@common [$(#[$meta])*] $vis $ty
            [$( [$(#[$vm])*] $v $name )*]
            [$( [$(#[$om])*] $o [$( ( $($t)* ) )?] [$( { $($f)* } )?] )*]);

        impl $crate::encode::Encode for $ty {
            fn encode(&self, $buf: &mut $crate::encode::EncodeBuf) {
                match self {
                    $( $ty::$v => $buf.raw($name), )*
                    $($arms)*
                }
            }
        }
    };
}

pub(crate) use name_enum;

/// A table name as `&str` (evaluated at compile time by the macro; the names are ASCII).
pub(crate) const fn utf8(b: &'static [u8]) -> &'static str {
    match std::str::from_utf8(b) {
        Ok(s) => s,
        Err(_) => panic!("name table: a name that is not UTF-8"),
    }
}

/// Parses all of `input` with `f` (strict profile): `None` when it fails or leaves bytes.
#[cfg(test)]
pub(crate) fn parse_whole<T>(
    input: &[u8],
    f: impl Fn(&mut crate::parse::Parser<'_>) -> crate::parse::PResult<T>,
) -> Option<T> {
    let b = bytes::Bytes::copy_from_slice(input);
    let o = crate::options::DecodeOptions::strict();
    let mut p = crate::parse::Parser::new(&b, &o);
    let v = f(&mut p).ok()?;
    p.at_end().then_some(v)
}

/// What one table's test checks ([`check_names`]).
#[cfg(test)]
pub(crate) struct Table<'a, T> {
    /// `named()`
    pub(crate) named: Vec<T>,
    /// `NAMES`
    pub(crate) names: &'a [&'static [u8]],
    /// `known_name`
    pub(crate) known_name: fn(&T) -> Option<&'static str>,
    /// `from_known_name`
    pub(crate) from_known_name: fn(&[u8]) -> Option<T>,
    /// The type's decoder on the wire form of a name, to the end of the input.
    pub(crate) parse: &'a dyn Fn(&[u8]) -> Option<T>,
    /// The type's encoder.
    pub(crate) encode: &'a dyn Fn(&T) -> Vec<u8>,
    /// The wire form of a name (e.g. with a backslash before it).
    pub(crate) wire: fn(&[u8]) -> Vec<u8>,
}

/// Every named variant goes name -> value -> name: the table's name is the variant's
/// `known_name`, the encoder writes the wire form of it, and the whole-word lookup and the
/// type's decoder give the variant back from the name as written, in lower case, in upper
/// case and in alternating case (names are case-insensitive, RFC 9051 §9). A name with a
/// letter added is not looked up as the variant.
#[cfg(test)]
pub(crate) fn check_names<T: PartialEq + std::fmt::Debug>(t: Table<'_, T>) {
    assert_eq!(t.named.len(), t.names.len());
    assert!(!t.names.is_empty());
    for (v, &n) in t.named.iter().zip(t.names) {
        let shown = String::from_utf8_lossy(n);
        assert_eq!((t.known_name)(v).map(str::as_bytes), Some(n), "{shown}");
        assert_eq!((t.encode)(v), (t.wire)(n), "{shown}");
        let alternating: Vec<u8> = n
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        for case in [
            n.to_vec(),
            n.to_ascii_lowercase(),
            n.to_ascii_uppercase(),
            alternating,
        ] {
            let shown = String::from_utf8_lossy(&case);
            assert_eq!((t.from_known_name)(&case).as_ref(), Some(v), "{shown}");
            assert_eq!((t.parse)(&(t.wire)(&case)).as_ref(), Some(v), "{shown}");
        }
        let longer = [n, b"Q"].concat();
        if !t.names.contains(&&longer[..]) {
            assert_eq!((t.from_known_name)(&longer), None, "{shown}Q");
        }
    }
}

/// Test words near each of `names`, appended to `words`: the name in three cases (as written,
/// upper, lower) and, of each, the name cut short by a byte, lengthened by `s`, and with each
/// byte changed (bit 0 flipped, or `@`). Shared by the tests of the lookups' fast paths.
#[cfg(test)]
pub(crate) fn name_variants(names: &[&[u8]], words: &mut Vec<Vec<u8>>) {
    for n in names {
        for v in [n.to_vec(), n.to_ascii_uppercase(), n.to_ascii_lowercase()] {
            words.push(v[..v.len() - 1].to_vec());
            words.push([&v[..], b"s"].concat());
            for j in 0..v.len() {
                let mut w = v.clone();
                w[j] ^= 0x01;
                words.push(w.clone());
                w[j] = b'@';
                words.push(w);
            }
            words.push(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_follows_keyword() {
        assert!(takes(b"RFC822", b"RFC822"));
        assert!(takes(b"RFC822", b"rfc822.SIZE"));
        assert!(takes(b"BODY", b"BODY[TEXT]"));
        assert!(!takes(b"UID", b"UIDNEXT"));
        assert!(!takes(b"DELETED", b"DELETED-STORAGE"));
        assert!(!takes(b"SIZE", b"SIZ"));
    }

    #[test]
    fn key_at_run_time_is_the_const_key() {
        let s = b"abcdefghijklmnopqrstuvwxyz";
        for a in 0..s.len() {
            for b in a..=s.len() {
                assert_eq!(key_of(&s[a..b]), key(&s[a..b]), "{a}..{b}");
            }
        }
        // equal keys and lengths mean equal names (up to 16 bytes)
        assert_ne!(key(b"Flagged"), key(b"Deleted"));
        assert_ne!(key(b"abcdefghij"), key(b"abcdefghiJ"));
    }

    /// [`Index::word_at`] (a masked compare of the input's first word per name) gives what
    /// [`Index::word_at_general`] gives, for the system flags' and the mailbox attributes'
    /// tables: every name in three cases, cut short, lengthened by a letter, with a letter
    /// changed, followed by every byte and then by nothing or by enough bytes for a word.
    #[test]
    fn word_at_matches_general_path() {
        fn check<const N: usize>(ix: &Index<N>, names: &[&[u8]; N]) {
            let mut words: Vec<Vec<u8>> = vec![Vec::new(), b"x".to_vec()];
            name_variants(names, &mut words);
            for w in &words {
                for c in 0..=255u8 {
                    for tail in [&b""[..], b" \\Seen)\r\n"] {
                        let rest = [&w[..], &[c], tail].concat();
                        for cut in [rest.len(), w.len(), w.len() + 1] {
                            let r = &rest[..cut.min(rest.len())];
                            assert_eq!(ix.word_at(names, r), ix.word_at_general(names, r), "{r:?}");
                        }
                    }
                }
            }
        }
        check(
            &crate::flag::MailboxAttribute::INDEX,
            &crate::flag::MailboxAttribute::NAMES,
        );
        check(&crate::flag::SYSTEM_INDEX, &crate::flag::SYSTEM_NAMES);
    }

    #[test]
    fn index_finds_each_name_once() {
        const NAMES: [&[u8]; 6] = [
            b"All",
            b"Archive",
            b"Noinferiors",
            b"NonExistent",
            b"a",
            b"B",
        ];
        const IX: Index<6> = Index::new(&NAMES);
        for (i, n) in NAMES.iter().enumerate() {
            assert_eq!(IX.word(&NAMES, n), Some(i));
            assert_eq!(IX.word(&NAMES, &n.to_ascii_uppercase()), Some(i));
            assert_eq!(IX.word(&NAMES, &n.to_ascii_lowercase()), Some(i));
            assert!(IX.starting_with(n[0]).contains(&(i as u8)));
            assert!(IX.starting_with(n[0] ^ 0x20).contains(&(i as u8)));
        }
        assert_eq!(IX.word(&NAMES, b""), None);
        assert_eq!(IX.word(&NAMES, b"Al"), None);
        assert_eq!(IX.word(&NAMES, b"NonExistenT "), None);
        // table order within a bucket
        assert_eq!(IX.starting_with(b'a'), &[0, 1, 4]);
    }
}
