//! Name tables: the keywords of RFC 9051 §9 (and the extension RFCs) that map one to one onto
//! enum variants, case-insensitive as RFC 9051 §9 says of the grammar's strings ("case-
//! insensitive"). [`name_enum!`](crate::names::name_enum) builds from one definition the enum,
//! its table of names, the decoder's lookups and the encoder's names, so that the three cannot
//! disagree: a variant either has a name in the table or is listed as taking arguments, and
//! the encoder's `match` is generated from the same list. The lookups use an index the
//! compiler builds from the table ([`Index`]); building it fails to compile when a name is
//! there twice or is shadowed by an earlier one.

use crate::parse::class;

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
            i += 1;
        }
        let (by_first, first_starts) = sort_by_bucket::<N, 33>(&first);
        let (by_word, word_starts) = sort_by_bucket::<N, 257>(&word);
        Index {
            by_first,
            first_starts,
            by_word,
            word_starts,
        }
    }

    /// The entries whose name starts with `c` (ignoring case), possibly with others, in
    /// table order.
    #[inline]
    pub(crate) fn starting_with(&self, c: u8) -> &[u8] {
        let b = first_bucket(c);
        &self.by_first[self.first_starts[b] as usize..self.first_starts[b + 1] as usize]
    }

    /// The entry whose name is `w` (ignoring case), if any.
    #[inline]
    pub(crate) fn word(&self, names: &[&[u8]; N], w: &[u8]) -> Option<usize> {
        let b = word_bucket(*w.first()?, w.len());
        let cands = &self.by_word[self.word_starts[b] as usize..self.word_starts[b + 1] as usize];
        cands.iter().map(|&i| i as usize).find(|&i| {
            let n = names[i];
            n.len() == w.len() && (n == w || n.eq_ignore_ascii_case(w))
        })
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
            pub(crate) const NAMES: [&'static [u8]; [$($name),*].len()] =
                [$($name.as_bytes()),*];
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
            /// The lookups of `NAMES` (built, and checked, at compile time).
            const INDEX: $crate::names::Index<{ [$($name),*].len() }> =
                $crate::names::Index::new(&Self::NAMES);

            /// The name of a variant without arguments (`None` for the variants that take
            /// arguments or hold their own name).
            pub const fn known_name(&self) -> Option<&'static str> {
                match self {
                    $( $ty::$v => Some($name), )*
                    $( $ty::$o { .. } => None, )*
                }
            }

            /// The variant without arguments named `w` (ignoring ASCII case).
            #[inline]
            pub(crate) fn from_known_name(w: &[u8]) -> Option<Self> {
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
                    $( $ty::$v => $name, )*
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
                    $( $ty::$v => $buf.raw($name.as_bytes()), )*
                    $($arms)*
                }
            }
        }
    };
}

pub(crate) use name_enum;

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
