//! Message flags and mailbox attributes (RFC 9051 §2.3.2, §7.3.1; `flag`, `flag-perm`,
//! `flag-fetch`, `mbx-list-flags`; SPECIAL-USE RFC 6154, \Important RFC 8457).

use std::fmt;

use bytes::Bytes;

use crate::core::Atom;
use crate::encode::{Encode, EncodeBuf};
use crate::error::{Rule, ValidationError, ValueKind};
use crate::list::{CodedIter, CodedList, ListSink};
use crate::names::name_enum;
use crate::options::Quirk;
use crate::parse::{PResult, Parser, class};

name_enum! {
    /// A message flag (`flag`). The system flags' names include the backslash.
    #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum Flag {
        /// `\Answered`
        Answered = b"\\Answered",
        /// `\Flagged`
        Flagged = b"\\Flagged",
        /// `\Deleted`
        Deleted = b"\\Deleted",
        /// `\Seen`
        Seen = b"\\Seen",
        /// `\Draft`
        Draft = b"\\Draft",
    }
    others {
        /// A keyword (`flag-keyword` = atom), e.g. `$Forwarded`, `$Junk`.
        Keyword(Atom),
        /// Another system flag `\Foo` (`flag-extension`); holds the name without the backslash.
        Extension(Atom),
    }
    encode(buf) {
        Flag::Keyword(a) => a.encode(buf),
        Flag::Extension(a) => {
            buf.byte(b'\\');
            a.encode(buf)
        }
    }
}

impl Flag {
    /// A keyword flag.
    pub fn keyword(s: &str) -> Result<Self, ValidationError> {
        Atom::try_from(s).map(Flag::Keyword)
    }

    /// A system flag `\name` from its name without the backslash: the five flags of
    /// RFC 9051 (in any case) become their variants, anything else [`Flag::Extension`].
    pub fn system(name: Atom) -> Self {
        Self::from_system(name)
    }

    /// Fails for [`Flag::Extension`] holding the name of one of the five system flags (it
    /// would decode as that flag; build it with [`Flag::system`]).
    pub fn validate(&self) -> Result<(), ValidationError> {
        if let Flag::Extension(a) = self {
            if !matches!(Flag::from_system(a.clone()), Flag::Extension(_)) {
                // the name of a system flag (use Flag::system)
                return Err(ValidationError::new(ValueKind::Flag, Rule::KnownName));
            }
        }
        Ok(())
    }

    fn from_system(name: Atom) -> Self {
        // the known names are `\` and at most 8 letters
        let b = name.as_bytes();
        let mut w = [b'\\'; 16];
        if let Some(rest) = w.get_mut(1..=b.len()) {
            rest.copy_from_slice(b);
            if let Some(f) = Self::from_known_name(&w[..=b.len()]) {
                return f;
            }
        }
        Flag::Extension(name)
    }

    /// The five system flags (after the backslash) in any case, recognised on the raw bytes
    /// by the name table (`SYSTEM_NAMES`) so that no slice of the message is taken for them.
    /// `None` leaves everything to the general path (which also handles the lenient
    /// profile's odd flags; test `flag_parse_matches_general_path`).
    #[inline]
    fn system_fast(p: &mut Parser<'_>) -> Option<Self> {
        let (i, n) = system_at(p.rest())?;
        let f = Self::by_index(i as usize)?;
        p.pos += n;
        Some(f)
    }

    /// Parses a `flag`; `\Recent` and `\*` are handled by the callers that allow them.
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.eat(b'\\') {
            if let Some(f) = Self::system_fast(p) {
                return Ok(f);
            }
            Ok(Flag::from_system(flag_atom(p)?))
        } else {
            Ok(Flag::Keyword(flag_atom(p)?))
        }
    }
}

/// `Flag::NAMES` without their backslash (what follows the `\\` of a system flag).
pub(crate) const SYSTEM_NAMES: [&[u8]; Flag::NAMES.len()] = {
    let mut v: [&[u8]; Flag::NAMES.len()] = [&[]; Flag::NAMES.len()];
    let mut i = 0;
    while i < v.len() {
        if let Some((_, name)) = Flag::NAMES[i].split_first() {
            v[i] = name;
        }
        i += 1;
    }
    v
};

/// The lookups of [`SYSTEM_NAMES`].
pub(crate) const SYSTEM_INDEX: crate::names::Index<{ Flag::NAMES.len() }> =
    crate::names::Index::new(&SYSTEM_NAMES);

/// The system flag (its place in `Flag::NAMES`) whose name without the backslash starts
/// `rest`, in any case, followed by the end or a byte that ends an atom (not `]`, not
/// 8-bit), with the name's length.
#[inline(always)]
fn system_at(rest: &[u8]) -> Option<(u8, usize)> {
    SYSTEM_INDEX.word_at(&SYSTEM_NAMES, rest)
}

/// The atom of a flag (or of a Gmail system label); the lenient profile also takes `]` and
/// 8-bit bytes inside keywords and an empty system flag name (`\`), which become a sanitised
/// atom.
pub(crate) fn flag_atom(p: &mut Parser<'_>) -> PResult<Atom> {
    let start = p.pos;
    if p.allows(Quirk::OddFlags) {
        let b = p.take_while(|c| class::is_atom_char(c) || c == b']' || c >= 0x80);
        if b.is_empty() {
            if p.prev() != Some(b'\\') {
                // An empty keyword is no flag in any profile (and an item that reads nothing
                // would let a list of them go on without consuming input).
                return Atom::parse(p);
            }
            // bare backslash: `\` followed by SP or ')'
            p.warn(Quirk::OddFlags, start);
            return Ok(Atom::from_static("_"));
        }
        if b.iter().any(|&c| !class::is_atom_char(c)) {
            p.warn(Quirk::OddFlags, start);
            let v: Vec<u8> = b
                .iter()
                .map(|&c| if class::is_atom_char(c) { c } else { b'_' })
                .collect();
            return Ok(Atom::unchecked(Bytes::from(v)));
        }
        return Ok(Atom::unchecked(b));
    }
    Atom::parse(p)
}

impl fmt::Display for Flag {
    /// The flag as sent (`\Seen`, `$Forwarded`, `\Foo`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::Keyword(a) => write!(f, "{a}"),
            Flag::Extension(a) => write!(f, "\\{a}"),
            system => f.write_str(&String::from_utf8_lossy(&system.to_bytes_inline_literals())),
        }
    }
}

/// `flag-perm` (PERMANENTFLAGS): a flag, or `\*` (new keywords may be created).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FlagPerm {
    /// A flag.
    Flag(Flag),
    /// `\*`.
    Asterisk,
}

impl FlagPerm {
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.peek() == Some(b'\\') && p.peek_at(1) == Some(b'*') {
            p.pos += 2;
            return Ok(FlagPerm::Asterisk);
        }
        Flag::parse(p).map(FlagPerm::Flag)
    }
}

impl Encode for FlagPerm {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            FlagPerm::Flag(f) => f.encode(buf),
            FlagPerm::Asterisk => buf.raw(b"\\*"),
        }
    }
}

/// `flag-fetch` (FETCH FLAGS, FLAGS response): a flag, or `\Recent` (IMAP4rev1 only).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FlagFetch {
    /// A flag.
    Flag(Flag),
    /// `\Recent` (RFC 3501).
    Recent,
}

impl FlagFetch {
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.peek() == Some(b'\\') && matches!(p.peek_at(1), Some(b'R' | b'r')) {
            let save = p.pos;
            p.pos += 1;
            if p.keyword(b"Recent") {
                return Ok(FlagFetch::Recent);
            }
            p.pos = save;
        }
        if p.peek() == Some(b'\\') && p.peek_at(1) == Some(b'*') {
            // `\*` in FLAGS (GreenMail): not a flag-fetch; lenient keeps it as an extension.
            let at = p.pos;
            if p.tolerate(Quirk::OddFlags, at) {
                p.pos += 2;
                return Ok(FlagFetch::Flag(Flag::Extension(Atom::from_static("_"))));
            }
        }
        Flag::parse(p).map(FlagFetch::Flag)
    }
}

/// The values of `flag-fetch` a [`FetchFlags`] holds as codes: the system flags in the order
/// of `Flag::NAMES`, then `\Recent`.
static KNOWN_FETCH_FLAGS: [FlagFetch; Flag::NAMES.len() + 1] = {
    let [a, b, c, d, e] = Flag::KNOWN;
    [
        FlagFetch::Flag(a),
        FlagFetch::Flag(b),
        FlagFetch::Flag(c),
        FlagFetch::Flag(d),
        FlagFetch::Flag(e),
        FlagFetch::Recent,
    ]
};

/// The code of `\Recent` in [`KNOWN_FETCH_FLAGS`].
const RECENT_CODE: u8 = Flag::NAMES.len() as u8;

impl crate::list::private::Known for FlagFetch {
    #[inline]
    fn known() -> &'static [Self] {
        &KNOWN_FETCH_FLAGS
    }
    #[inline]
    fn code(&self) -> Option<u8> {
        match self {
            FlagFetch::Flag(f) => f.known_index(),
            FlagFetch::Recent => Some(RECENT_CODE),
        }
    }
}

impl crate::list::Coded for FlagFetch {}

/// The flags of a FETCH `FLAGS` item (`flag-fetch` list, RFC 9051 §7.5.2), in wire order.
///
/// Held compactly (a [`CodedList`]): up to seven flags one byte each (`\Seen`,
/// `\Answered`, `\Flagged`, `\Deleted`, `\Draft` and `\Recent` by their place in a
/// static table), keywords and other flags in a side list of which the first is held inline,
/// so the usual list (system flags and at most one keyword) decodes without allocating and
/// moves as a few words. Read it like a slice ([`iter`](CodedList::iter) gives
/// `&FlagFetch` in order).
///
/// ```
/// use imapwire_codec::flag::{FetchFlags, Flag, FlagFetch};
///
/// let f: FetchFlags = vec![FlagFetch::Flag(Flag::Seen), FlagFetch::Recent].into();
/// assert_eq!(f.len(), 2);
/// assert!(f.contains(&FlagFetch::Flag(Flag::Seen)));
/// assert_eq!(f.get(1), Some(&FlagFetch::Recent));
/// assert_eq!(format!("{f:?}"), "[Flag(Seen), Recent]");
/// ```
pub type FetchFlags = CodedList<FlagFetch, 1>;

/// Parses a FETCH `FLAGS` list (as [`parse_flag_list_into`] with [`FlagFetch::parse`]) into
/// `v` (empty on entry): a system flag is stored as its code straight from the message
/// bytes; anything else takes `FlagFetch`'s general path (test
/// `flag_list_codes_match_flag_list`).
#[inline]
pub(crate) fn parse_fetch_flags_into(p: &mut Parser<'_>, v: &mut FetchFlags) -> PResult<()> {
    coded_flags_into(p, v, FlagFetch::parse)
}

/// A parenthesised flag list into the coded list `v` (empty on entry): a system flag is
/// stored as its code (its place in `Flag::NAMES`, which is also its code in `T::known()`)
/// straight from the message bytes, anything else is read by `parse` (`T`'s general path).
#[inline(always)]
fn coded_flags_into<T: crate::list::Coded>(
    p: &mut Parser<'_>,
    v: &mut CodedList<T, 1>,
    parse: impl Fn(&mut Parser<'_>) -> PResult<T>,
) -> PResult<()> {
    paren_list_into::<_, T>(p, v, |p, v| {
        if let Some((b'\\', rest)) = p.rest().split_first() {
            if let Some((i, n)) = system_at(rest) {
                p.pos += 1 + n;
                v.push_known(i);
                return Ok(v.len());
            }
        }
        v.push(parse(p)?);
        Ok(v.len())
    })
}

impl Encode for FlagFetch {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            FlagFetch::Flag(f) => f.encode(buf),
            FlagFetch::Recent => buf.raw(b"\\Recent"),
        }
    }
}

/// Makes `$t` a [`CodedList`] item whose known values are `$table`, each coded by its place
/// there (`known_index`).
macro_rules! coded_by_place {
    ($t:ty, $table:ident) => {
        impl crate::list::private::Known for $t {
            #[inline]
            fn known() -> &'static [Self] {
                &$table
            }
            #[inline]
            fn code(&self) -> Option<u8> {
                self.known_index()
            }
        }

        impl crate::list::Coded for $t {}
    };
}

/// The system flags in the order of `Flag::NAMES` (what a [`FlagList`] code refers to).
static KNOWN_FLAGS: [Flag; Flag::NAMES.len()] = Flag::KNOWN;

coded_by_place!(Flag, KNOWN_FLAGS);

/// The flags a STORE command sets, adds or removes (`flag-list`, RFC 9051 §6.4.6), in wire
/// order.
///
/// Held compactly (a [`CodedList`]): up to seven flags one byte each (the five system flags
/// by their place in a static table), keywords and other flags in a side list of which the
/// first is held inline, so the usual list (system flags and at most one keyword) decodes
/// without allocating and moves as a few words. Read it like a slice
/// ([`iter`](CodedList::iter) gives `&Flag` in order); build it with `From<Vec<_>>`,
/// `From<[_; N]>`, `collect()` or [`push`](CodedList::push).
///
/// ```
/// use imapwire_codec::flag::{Flag, FlagList};
///
/// let f = FlagList::from([Flag::Seen, Flag::keyword("$Junk").unwrap()]);
/// assert_eq!(f.len(), 2);
/// assert!(f.contains(&Flag::Seen));
/// assert_eq!(format!("{f:?}"), r#"[Seen, Keyword(Atom("$Junk"))]"#);
/// ```
pub type FlagList = CodedList<Flag, 1>;

/// Parses a `flag-list` (as [`parse_flag_list_into`] with [`Flag::parse`]) into `v` (empty
/// on entry): a system flag is stored as its code straight from the message bytes; anything
/// else takes `Flag`'s general path (test `flag_list_codes_match_flag_list`).
#[inline]
pub(crate) fn parse_flags_into(p: &mut Parser<'_>, v: &mut FlagList) -> PResult<()> {
    coded_flags_into(p, v, Flag::parse)
}

/// Parses a parenthesised flag list with `item` for each element, into a `Vec` or a
/// [`SmallList`](crate::list::SmallList).
#[inline]
pub(crate) fn parse_flag_list<T, L: ListSink<T> + Default>(
    p: &mut Parser<'_>,
    item: impl FnMut(&mut Parser<'_>) -> PResult<T>,
) -> PResult<L> {
    let mut v = L::default();
    parse_flag_list_into(p, &mut v, item)?;
    Ok(v)
}

/// Like [`parse_flag_list`], appending to `v` (empty on entry) in place.
pub(crate) fn parse_flag_list_into<T, L: ListSink<T>>(
    p: &mut Parser<'_>,
    v: &mut L,
    mut item: impl FnMut(&mut Parser<'_>) -> PResult<T>,
) -> PResult<()> {
    paren_list_into(p, v, |p, v| {
        v.push_item(item(p)?);
        Ok(v.item_count())
    })
}

/// The steps of a parenthesised flag list (`(a b c)`, lenient forms included), `push` reading
/// one element into `v` and returning the number of elements now in it.
#[inline(always)]
fn paren_list_into<L: ListSink<T>, T>(
    p: &mut Parser<'_>,
    v: &mut L,
    mut push: impl FnMut(&mut Parser<'_>, &mut L) -> PResult<usize>,
) -> PResult<()> {
    // (lenient: `( \Seen)`, `( )`)
    if !p.eat_open() {
        // lenient: NIL for the empty list
        return p.nil_for_empty_list("(");
    }
    if p.eat(b')') {
        return Ok(());
    }
    v.reserve_short_list();
    loop {
        let n = push(p, v)?;
        p.check_items(n)?;
        // `)` right after the item: what the general steps below do for it, in one test
        if p.eat(b')') {
            return Ok(());
        }
        p.skip_trailing_sp();
        if p.eat(b')') {
            return Ok(());
        }
        if p.peek() == Some(b' ') {
            p.sp()?;
            continue;
        }
        // lenient: a keyword split by spaces/brackets (Gmail labels as flags) is kept
        // as separate atoms by the loop above; anything else fails here.
        return Err(p.fail("SP or \")\" in flag list"));
    }
}

name_enum! {
    /// A mailbox attribute in LIST/LSUB/XLIST responses (`mbx-list-flags`, RFC 9051 §7.3.1;
    /// SPECIAL-USE RFC 6154; LIST-EXTENDED RFC 5258; CHILDREN RFC 3348; \Important RFC 8457).
    /// The names are without the backslash.
    #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum MailboxAttribute {
        /// `\Noinferiors`
        NoInferiors = b"Noinferiors",
        /// `\Noselect`
        NoSelect = b"Noselect",
        /// `\Marked`
        Marked = b"Marked",
        /// `\Unmarked`
        Unmarked = b"Unmarked",
        /// `\NonExistent`
        NonExistent = b"NonExistent",
        /// `\Subscribed`
        Subscribed = b"Subscribed",
        /// `\Remote`
        Remote = b"Remote",
        /// `\HasChildren`
        HasChildren = b"HasChildren",
        /// `\HasNoChildren`
        HasNoChildren = b"HasNoChildren",
        /// `\All`
        All = b"All",
        /// `\Archive`
        Archive = b"Archive",
        /// `\Drafts`
        Drafts = b"Drafts",
        /// `\Flagged`
        Flagged = b"Flagged",
        /// `\Junk`
        Junk = b"Junk",
        /// `\Sent`
        Sent = b"Sent",
        /// `\Trash`
        Trash = b"Trash",
        /// `\Important` (RFC 8457)
        Important = b"Important",
    }
    others {
        /// Any other `\Name` (without the backslash), e.g. XLIST's `\Inbox`, `\AllMail`, `\Spam`.
        Extension(Atom),
    }
    name {
        MailboxAttribute::Extension(a) => a.as_str(),
    }
}

impl MailboxAttribute {
    /// The name without the backslash.
    pub fn name(&self) -> &[u8] {
        self.as_str().as_bytes()
    }

    /// From a name without the backslash (case-insensitive for the known ones).
    pub fn from_name(name: Atom) -> Self {
        Self::from_known_name(name.as_bytes()).unwrap_or(MailboxAttribute::Extension(name))
    }

    /// Fails for [`MailboxAttribute::Extension`] holding a name that has its own variant
    /// (it would decode as that variant; build it with [`MailboxAttribute::from_name`]).
    pub fn validate(&self) -> Result<(), ValidationError> {
        if let MailboxAttribute::Extension(a) = self {
            if !matches!(Self::from_name(a.clone()), MailboxAttribute::Extension(_)) {
                // use MailboxAttribute::from_name
                return Err(ValidationError::new(
                    ValueKind::MailboxAttribute,
                    Rule::KnownName,
                ));
            }
        }
        Ok(())
    }

    /// Parses `\Name`. Keywords without backslash are kept as extensions only leniently.
    #[inline]
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        // Known names are recognised on the raw bytes (no slice of the message taken), inline
        // in the caller's loop; the general path handles the rest, including the lenient
        // profile's odd names.
        if let Some((b'\\', rest)) = p.rest().split_first() {
            if let Some((a, n)) = Self::known_at(rest) {
                p.pos += 1 + n;
                return Ok(a);
            }
        }
        Self::parse_general(p)
    }

    /// [`parse`](Self::parse) for anything but a known name after the backslash.
    #[inline(never)]
    fn parse_general(p: &mut Parser<'_>) -> PResult<Self> {
        p.expect(b'\\', "\\ mailbox attribute")?;
        Ok(Self::from_name(flag_atom(p)?))
    }

    /// The known attribute whose name (case-insensitive) starts `rest` and is followed by its
    /// end or a byte that ends an atom (not `]`, not 8-bit: those take the general path), with
    /// the name's length.
    #[inline]
    fn known_at(rest: &[u8]) -> Option<(Self, usize)> {
        let (i, n) = Self::known_index_at(rest)?;
        Self::by_index(i as usize).map(|a| (a, n))
    }

    /// [`known_at`](Self::known_at) as the attribute's place in `NAMES`.
    #[inline]
    fn known_index_at(rest: &[u8]) -> Option<(u8, usize)> {
        Self::INDEX.word_at(&Self::NAMES, rest)
    }

    /// [`known_index_at`](Self::known_index_at) for a name followed by SP or `)` (`None`
    /// for any other), by the perfect hash of the names' first four letters
    /// ([`ATTRIBUTE_PREFIXES`]; test `prefix4_matches_word_at`).
    #[inline(always)]
    fn known_index_before_sp_or_close(rest: &[u8]) -> Option<(u8, usize)> {
        ATTRIBUTE_PREFIXES.at(&Self::INDEX, &Self::NAMES, rest)
    }
}

/// The attributes' names by their first four letters (see
/// [`Prefix4`](crate::names::Prefix4)).
static ATTRIBUTE_PREFIXES: crate::names::Prefix4 =
    crate::names::Prefix4::new(&MailboxAttribute::NAMES);

/// The known attributes in the order of `MailboxAttribute::NAMES` (what a
/// [`MailboxAttributes`] code refers to; test `known_attributes_follow_the_table`).
static KNOWN_ATTRIBUTES: [MailboxAttribute; MailboxAttribute::NAMES.len()] =
    MailboxAttribute::KNOWN;

coded_by_place!(MailboxAttribute, KNOWN_ATTRIBUTES);

/// The attributes of a LIST / LSUB / XLIST item (`mbx-list-flags`, RFC 9051 §7.3.1), in
/// wire order.
///
/// Held compactly (a [`CodedList`]): up to seven attributes one byte each (a known attribute such as
/// `\HasNoChildren` by its place in the name table), [`MailboxAttribute::Extension`]s in a
/// side list that stays unallocated when there are none, so the usual item moves and drops as
/// a few words. Longer lists keep every attribute in the side list. Read it like a slice:
/// [`iter`](Self::iter) (`&MailboxAttribute` in order), [`len`](Self::len),
/// [`get`](Self::get), [`contains`](Self::contains); build it with [`push`](Self::push),
/// `From<Vec<_>>`, `From<[_; N]>` or `collect()`. Equality is by the items in order,
/// whichever way they are held; `Debug` prints the list.
///
/// ```
/// use imapwire_codec::flag::{MailboxAttribute, MailboxAttributes};
///
/// let a = MailboxAttributes::from(vec![MailboxAttribute::HasNoChildren, MailboxAttribute::Sent]);
/// assert_eq!(a.len(), 2);
/// assert!(a.contains(&MailboxAttribute::Sent));
/// assert_eq!(a.get(0), Some(&MailboxAttribute::HasNoChildren));
/// assert_eq!(format!("{a:?}"), "[HasNoChildren, Sent]");
/// ```
pub type MailboxAttributes = CodedList<MailboxAttribute, 0>;

/// The iterator of [`MailboxAttributes::iter`](CodedList::iter).
pub type AttributesIter<'a> = CodedIter<'a, MailboxAttribute>;

/// Parses `mbx-list-flags` (a parenthesised list of `\Name`s, as [`parse_flag_list_into`]
/// with [`MailboxAttribute::parse`]) into `v` (empty on entry): a known name is stored as its
/// code straight from the message bytes; anything else takes `MailboxAttribute`'s general
/// path (test `attribute_list_matches_flag_list`).
///
/// The usual list, `(`, known attributes each after one space, `)`, is read in one loop over
/// the message bytes ([`known_attributes`]); anything else starts again on the general steps.
#[inline]
pub(crate) fn parse_attributes_into(p: &mut Parser<'_>, v: &mut MailboxAttributes) -> PResult<()> {
    if let Some(end) = known_attributes(p.bytes(), p.pos, v, p.opts.max_list_items) {
        p.pos = end;
        return Ok(());
    }
    *v = MailboxAttributes::new();
    parse_attributes_general(p, v)
}

/// `(\A \B ...)` at `at` in `b` of known attributes only (each followed by `)` or by one
/// space and a backslash), at most `max` of them: pushed to `v` as codes, and the position
/// after the `)`. `None` for anything else (`v` then holds part of the list).
#[inline(always)]
fn known_attributes(b: &[u8], at: usize, v: &mut MailboxAttributes, max: usize) -> Option<usize> {
    let mut q = at;
    if b.get(q) != Some(&b'(') {
        return None;
    }
    q += 1;
    if b.get(q) == Some(&b')') {
        return Some(q + 1);
    }
    debug_assert_eq!(v.len(), 0);
    // `v.len()`, counted here
    let mut len = 0;
    loop {
        if b.get(q) != Some(&b'\\') {
            return None;
        }
        // the name is followed by SP or `)`
        let (i, n) = MailboxAttribute::known_index_before_sp_or_close(b.get(q + 1..)?)?;
        v.push_known(i);
        len += 1;
        if len > max {
            return None;
        }
        q += 1 + n;
        match b.get(q..q + 2) {
            Some([b')', _]) => return Some(q + 1),
            Some([b' ', b'\\']) => q += 1,
            _ => return None,
        }
    }
}

/// [`parse_attributes_into`] without its usual-case loop.
#[inline(never)]
fn parse_attributes_general(p: &mut Parser<'_>, v: &mut MailboxAttributes) -> PResult<()> {
    paren_list_into::<_, MailboxAttribute>(p, v, |p, v| {
        if let Some((b'\\', rest)) = p.rest().split_first() {
            if let Some((i, n)) = MailboxAttribute::known_index_at(rest) {
                p.pos += 1 + n;
                v.push_known(i);
                return Ok(v.len());
            }
        }
        v.push(MailboxAttribute::parse_general(p)?);
        Ok(v.len())
    })
}

impl Encode for MailboxAttribute {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.byte(b'\\');
        buf.raw(self.name());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every system flag name goes name -> value -> name (with its backslash), in any case.
    #[test]
    fn flag_names_round_trip() {
        crate::names::check_names(crate::names::Table {
            named: Flag::named(),
            names: &Flag::NAMES,
            known_name: Flag::known_name,
            from_known_name: Flag::from_known_name,
            parse: &|b: &[u8]| crate::names::parse_whole(b, Flag::parse),
            encode: &|v: &Flag| crate::encode::Encode::to_bytes_inline_literals(v).to_vec(),
            wire: |n: &[u8]| n.to_vec(),
        });
        // `Flag::system` takes the name without the backslash
        for f in Flag::named() {
            let n = &f.known_name().unwrap()[1..];
            assert_eq!(Flag::system(Atom::try_from(n).unwrap()), f);
            assert_eq!(f.to_string(), format!("\\{n}"));
        }
        assert_eq!(
            Flag::system(Atom::try_from("Seenx").unwrap()),
            Flag::Extension(Atom::try_from("Seenx").unwrap())
        );
    }

    /// A keyword is never empty, in either profile: the lenient profile takes a missing SP
    /// between an atom and `(`, so an empty keyword before a `(` let a flag list go on
    /// without reading anything, up to the item-count limit (a fuzzer's out-of-memory, from
    /// a 35-byte STORE). Such a list now fails where the keyword is missing; a bare `\` still
    /// reads as the quirk's placeholder.
    #[test]
    fn empty_keyword_is_no_flag() {
        use crate::codec::Message;
        use crate::command::Command;
        use crate::options::DecodeOptions;
        use crate::response::Response;
        let lenient = DecodeOptions::lenient();
        for (opts, expected) in [(DecodeOptions::strict(), "SP"), (lenient.clone(), "atom")] {
            let c = Bytes::from_static(b"A003 STORE 2:4 +FLAGS gtel(D\\ed)\r\n");
            let e = Command::decode(&c, &opts).unwrap_err();
            assert_eq!((e.offset, e.expected), (26, expected), "{e}");
        }
        let r = Bytes::from_static(b"* FLAGS (\\ a)\r\n");
        let d = Response::decode(&r, &lenient).unwrap();
        assert_eq!(
            d.message.to_bytes_inline_literals().as_ref(),
            b"* FLAGS (\\_ a)\r\n"
        );
    }

    /// The attributes' perfect hash ([`ATTRIBUTE_PREFIXES`]) gives what the general lookup
    /// ([`Index::word_at_general`](crate::names::Index::word_at_general)) gives for a name
    /// followed by SP or `)`, and nothing otherwise: every name in three cases, cut short,
    /// lengthened by a letter, with a letter changed, with its fourth letter or the byte
    /// after it any byte, followed by every byte and then by nothing or a list's rest.
    #[test]
    fn prefix4_matches_word_at() {
        let names = &MailboxAttribute::NAMES;
        let mut words: Vec<Vec<u8>> = vec![Vec::new(), b"x".to_vec(), b"all".to_vec()];
        crate::names::name_variants(names, &mut words);
        for n in names {
            for v in [n.to_vec(), n.to_ascii_uppercase(), n.to_ascii_lowercase()] {
                for c in 0..=255u8 {
                    for j in [3, v.len()] {
                        let mut w = v.clone();
                        if j < w.len() {
                            w[j] = c;
                        } else {
                            w.push(c);
                        }
                        words.push(w);
                    }
                }
            }
        }
        let mut hits = 0;
        for w in &words {
            for c in 0..=255u8 {
                for tail in [&b""[..], b"\\Seen) \"/\" INBOX\r\n"] {
                    let rest = [&w[..], &[c], tail].concat();
                    for cut in [rest.len(), w.len(), w.len() + 1] {
                        let r = &rest[..cut.min(rest.len())];
                        let general = MailboxAttribute::INDEX
                            .word_at_general(names, r)
                            .filter(|&(_, n)| matches!(r.get(n), Some(b' ' | b')')));
                        hits += usize::from(general.is_some());
                        assert_eq!(
                            MailboxAttribute::known_index_before_sp_or_close(r),
                            general,
                            "{r:?}"
                        );
                    }
                }
            }
        }
        assert!(hits > 1000, "{hits}");
    }

    /// Every mailbox attribute name goes name -> value -> name (with its backslash), in any
    /// case; the names are letters only (what `known_at`'s word compare needs).
    #[test]
    fn attribute_names_round_trip() {
        crate::names::check_names(crate::names::Table {
            named: MailboxAttribute::named(),
            names: &MailboxAttribute::NAMES,
            known_name: MailboxAttribute::known_name,
            from_known_name: MailboxAttribute::from_known_name,
            parse: &|b: &[u8]| crate::names::parse_whole(b, MailboxAttribute::parse),
            encode: &|v: &MailboxAttribute| {
                crate::encode::Encode::to_bytes_inline_literals(v).to_vec()
            },
            wire: |n: &[u8]| [&b"\\"[..], n].concat(),
        });
        for n in MailboxAttribute::NAMES {
            assert!(n.iter().all(u8::is_ascii_alphabetic), "{n:?}");
        }
    }

    /// `KNOWN_ATTRIBUTES` lists the attributes of `NAMES` in table order, and
    /// `KNOWN_FETCH_FLAGS` the system flags of `Flag::NAMES` then `\Recent` (what the codes
    /// of `MailboxAttributes` and `FetchFlags` index); the codes of the macro's `known_index`
    /// and of `Known::code` are those places, and the others have none.
    #[test]
    fn known_values_follow_the_tables() {
        use crate::list::OTHER_CODE;
        use crate::list::private::Known;
        assert_eq!(KNOWN_ATTRIBUTES.len(), MailboxAttribute::NAMES.len());
        for (i, a) in KNOWN_ATTRIBUTES.iter().enumerate() {
            assert_eq!(MailboxAttribute::by_index(i).as_ref(), Some(a));
            assert_eq!(a.known_index(), Some(i as u8));
            assert_eq!(a.code(), Some(i as u8));
        }
        assert!((KNOWN_ATTRIBUTES.len() as u8) < OTHER_CODE);
        let ext = MailboxAttribute::Extension(Atom::try_from("Sent").unwrap());
        assert_eq!((ext.known_index(), ext.code()), (None, None));
        assert_eq!(KNOWN_FETCH_FLAGS.len(), Flag::NAMES.len() + 1);
        for (i, f) in KNOWN_FETCH_FLAGS.iter().enumerate() {
            match Flag::by_index(i) {
                Some(g) => {
                    assert_eq!(f, &FlagFetch::Flag(g.clone()));
                    assert_eq!(g.known_index(), Some(i as u8));
                }
                None => assert_eq!(f, &FlagFetch::Recent),
            }
            assert_eq!(f.code(), Some(i as u8));
        }
        for f in [
            Flag::Keyword(Atom::try_from("Seen").unwrap()),
            Flag::Extension(Atom::try_from("Seen").unwrap()),
        ] {
            assert_eq!(f.known_index(), None);
            assert_eq!(FlagFetch::Flag(f).code(), None);
        }
        for (i, n) in SYSTEM_NAMES.iter().enumerate() {
            assert_eq!([&b"\\"[..], n].concat(), Flag::NAMES[i]);
        }
    }

    /// A `CodedList` built from `v` item by item holds them in order, inline or spilled,
    /// and reads like `v`.
    fn check_coded_list<T, const K: usize>(v: &[T], other: T)
    where
        T: crate::list::Coded + Clone + PartialEq + fmt::Debug,
    {
        let v = v.to_vec();
        let n = v.len();
        let mut a = CodedList::<T, K>::new();
        for x in &v {
            a.push(x.clone());
        }
        assert_eq!(a.len(), v.len());
        assert_eq!(a.is_empty(), v.is_empty());
        assert_eq!(a.to_vec(), v);
        assert_eq!(a, v);
        assert_eq!(
            a.iter().rev().cloned().collect::<Vec<_>>(),
            v.iter().rev().cloned().collect::<Vec<_>>()
        );
        assert_eq!(a.iter().len(), v.len());
        for (i, x) in v.iter().enumerate() {
            assert_eq!(a.get(i), Some(x));
            assert!(a.contains(x));
        }
        assert_eq!(a.get(v.len()), None);
        assert_eq!(format!("{a:?}"), format!("{v:?}"));
        assert_eq!(CodedList::<T, K>::from(v.clone()), a);
        assert_eq!(Vec::from(a.clone()), v);
        // another first item is another list
        if n > 0 {
            let mut w = v.clone();
            w[0] = other;
            assert_ne!(CodedList::<T, K>::from(w), a);
        }
    }

    /// `MailboxAttributes` and `FetchFlags` hold what they are given, in order, inline or
    /// spilled, and read like the `Vec` of the same items.
    #[test]
    fn coded_lists_are_lists() {
        let ext = |s: &str| MailboxAttribute::Extension(Atom::try_from(s).unwrap());
        let pool = [
            MailboxAttribute::HasNoChildren,
            ext("Inbox"),
            MailboxAttribute::Sent,
            ext("AllMail"),
            MailboxAttribute::Important,
            // an extension spelling a known name is kept as it is (validate() refuses it)
            ext("HasChildren"),
        ];
        let kw = |s: &str| FlagFetch::Flag(Flag::keyword(s).unwrap());
        let flags = [
            FlagFetch::Flag(Flag::Seen),
            kw("$Junk"),
            FlagFetch::Recent,
            FlagFetch::Flag(Flag::Draft),
            kw("$Forwarded"),
            FlagFetch::Flag(Flag::Extension(Atom::try_from("Seen").unwrap())),
            FlagFetch::Flag(Flag::Extension(Atom::try_from("X").unwrap())),
            FlagFetch::Flag(Flag::Answered),
        ];
        for n in 0..20 {
            let v: Vec<MailboxAttribute> = (0..n)
                .map(|i| pool[(i * 7 + n) % pool.len()].clone())
                .collect();
            check_coded_list::<_, 0>(&v, ext("Zzz"));
            let f: Vec<FlagFetch> = (0..n)
                .map(|i| flags[(i * 5 + n) % flags.len()].clone())
                .collect();
            check_coded_list::<_, 1>(&f, kw("Zzz"));
            check_coded_list::<_, 0>(&f, kw("Zzz"));
            // system flags only, past the inline codes
            let s: Vec<FlagFetch> = (0..n)
                .map(|i| KNOWN_FETCH_FLAGS[(i + n) % KNOWN_FETCH_FLAGS.len()].clone())
                .collect();
            check_coded_list::<_, 1>(&s, kw("Zzz"));
            // the `Flag` lists of STORE (`FlagList`): the same items without `\Recent`
            let g: Vec<Flag> = f
                .iter()
                .filter_map(|x| match x {
                    FlagFetch::Flag(g) => Some(g.clone()),
                    FlagFetch::Recent => None,
                })
                .collect();
            check_coded_list::<_, 1>(&g, Flag::keyword("Zzz").unwrap());
            let s: Vec<Flag> = (0..n).map(|i| Flag::KNOWN[(i + n) % 5].clone()).collect();
            check_coded_list::<_, 1>(&s, Flag::keyword("Zzz").unwrap());
        }
        // an iterator mixing ends: codes and the side list stay in step
        let v = vec![
            ext("A"),
            MailboxAttribute::Sent,
            ext("B"),
            MailboxAttribute::Junk,
        ];
        let a = MailboxAttributes::from(v.clone());
        let mut it = a.iter();
        assert_eq!(it.next_back(), Some(&MailboxAttribute::Junk));
        assert_eq!(it.next(), Some(&ext("A")));
        assert_eq!(it.next_back(), Some(&ext("B")));
        assert_eq!(it.next(), Some(&MailboxAttribute::Sent));
        assert_eq!(it.next(), None);
        assert!(!a.contains(&MailboxAttribute::HasChildren));
    }

    /// The harness of the two list proptests below: a list of `table`'s pieces (`pieces`:
    /// index and separator) with one of four openings and five closings, read in one of
    /// three option sets by the general `parse_flag_list_into` of `item` and by `fast`
    /// (its result and its items): the same success, position, warnings, error and items.
    fn list_fast_path_matches<T: PartialEq + std::fmt::Debug>(
        table: &[&[u8]],
        pieces: &[(usize, usize)],
        (open, close, opts): (usize, usize, usize),
        item: fn(&mut Parser<'_>) -> PResult<T>,
        fast: impl FnOnce(&mut Parser<'_>) -> (PResult<()>, Vec<T>),
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        use crate::options::DecodeOptions;
        const SEPS: &[&[u8]] = &[b" ", b"  ", b"", b" \t", b"\t"];
        let mut line: Vec<u8> = [&b"("[..], b"( ", b"", b"NIL"][open].to_vec();
        for (i, (k, sep)) in pieces.iter().enumerate() {
            if i > 0 {
                line.extend_from_slice(SEPS[*sep]);
            }
            line.extend_from_slice(table[*k]);
        }
        line.extend_from_slice([&b")"[..], b" )", b"", b"))", b") x"][close]);
        let o = match opts {
            0 => DecodeOptions::strict(),
            1 => DecodeOptions::lenient(),
            _ => DecodeOptions::lenient().with_max_list_items(5),
        };
        let src = Bytes::from(line);
        let mut pg = Parser::new(&src, &o);
        let mut general: Vec<T> = Vec::new();
        let rg = parse_flag_list_into(&mut pg, &mut general, item);
        let mut pf = Parser::new(&src, &o);
        let (rf, fast) = fast(&mut pf);
        proptest::prop_assert_eq!(rg.is_ok(), rf.is_ok());
        proptest::prop_assert_eq!(pg.pos, pf.pos);
        proptest::prop_assert_eq!(&pg.warnings, &pf.warnings);
        proptest::prop_assert_eq!(pg.error().to_string(), pf.error().to_string());
        proptest::prop_assert_eq!(fast, general);
        Ok(())
    }

    proptest::proptest! {
        /// `parse_attributes_into` (known names stored as codes from the message bytes)
        /// agrees with the general `parse_flag_list_into` of `MailboxAttribute::parse` on
        /// lists of known, odd-case, extension, malformed and non-attribute items with odd
        /// separators, short and long (past the inline codes), strict and lenient, and with
        /// a low item limit: the same items, position, error and warnings.
        #[test]
        fn attribute_list_matches_flag_list(
            pieces in proptest::collection::vec((0usize..36, 0usize..5), 0..12),
            open in 0usize..4,
            close in 0usize..5,
            opts in 0usize..3,
        ) {
            const PIECES: &[&[u8]] = &[
                b"\\HasNoChildren", b"\\hasnochildren", b"\\HASCHILDREN", b"\\HasChildren",
                b"\\Noselect", b"\\NoSelect", b"\\Sent", b"\\Subscribed", b"\\Marked",
                b"\\Unmarked", b"\\Inbox", b"\\AllMail", b"\\X-Custom", b"\\All", b"\\Allx",
                b"\\Al", b"\\Important", b"\\NonExistent", b"\\Remote", b"\\Junk\xc3\xa9",
                b"\\Trash]", b"\\Drafts[x]", b"\\", b"\\*", b"Keyword", b"NIL", b"\"q\"",
                b"\\HasChildren(", b"\\Flagged{3}", b"\\Archive\\Sent", b"\\Noinferiors",
                b"(\\Sent)", b"\\Sent%", b"\\\x00", b"\\Sent\t", b"\\HasNoChildrenX",
            ];
            list_fast_path_matches(PIECES, &pieces, (open, close, opts), MailboxAttribute::parse, |p| {
                let mut fast = MailboxAttributes::new();
                (parse_attributes_into(p, &mut fast), fast.to_vec())
            })?;
        }
    }

    /// The items of the flag-list proptests below: system flags in several cases, `\\Recent`,
    /// keywords, extensions, malformed and odd items.
    const FLAG_PIECES: &[&[u8]] = &[
        b"\\Seen",
        b"\\seen",
        b"\\SEEN",
        b"\\Answered",
        b"\\Flagged",
        b"\\Deleted",
        b"\\Draft",
        b"\\draft",
        b"\\Drafts",
        b"\\Dr",
        b"\\Recent",
        b"\\recent",
        b"$Forwarded",
        b"$NotJunk",
        b"Seen",
        b"\\Seenx",
        b"\\Junk",
        b"\\",
        b"\\*",
        b"NIL",
        b"\"q\"",
        b"\\Seen(",
        b"\\Seen]",
        b"\\Seen\xc3\xa9",
        b"$a]b",
        b"\\Flagged{3}",
        b"\\Seen\\Draft",
        b"(\\Seen)",
        b"\\Seen%",
        b"\\\x00",
        b"\\Seen\t",
        b"\\Seen*",
        b"k\xe9",
        b"\\Recentx",
        b"\\Answeredx",
    ];

    proptest::proptest! {
        /// `parse_fetch_flags_into` (FETCH `FLAGS`) and `parse_flags_into` (STORE's
        /// `FlagList`), which store system flags as codes from the message bytes, agree with
        /// the general `parse_flag_list_into` of `FlagFetch::parse` and `Flag::parse` on lists
        /// of system flags in several cases, `\\Recent`, keywords, extensions, malformed and
        /// odd items with odd separators, short and long (past the inline codes and the
        /// inline keyword), strict and lenient, and with a low item limit: the same items,
        /// position, error and warnings.
        #[test]
        fn flag_list_codes_match_flag_list(
            pieces in proptest::collection::vec((0usize..FLAG_PIECES.len(), 0usize..5), 0..12),
            open in 0usize..4,
            close in 0usize..5,
            opts in 0usize..3,
        ) {
            let how = (open, close, opts);
            list_fast_path_matches(FLAG_PIECES, &pieces, how, FlagFetch::parse, |p| {
                let mut fast = FetchFlags::new();
                (parse_fetch_flags_into(p, &mut fast), fast.to_vec())
            })?;
            list_fast_path_matches(FLAG_PIECES, &pieces, how, Flag::parse, |p| {
                let mut fast = FlagList::new();
                (parse_flags_into(p, &mut fast), fast.to_vec())
            })?;
        }
    }

    /// Every system flag, in every case, with every byte after it, and cut short: the
    /// `FlagList` fast path and the general flag list agree (exhaustive next to the proptest).
    #[test]
    fn flag_list_codes_match_flag_list_every_next_byte() {
        use crate::options::DecodeOptions;
        for name in Flag::NAMES {
            let lower = name.to_ascii_lowercase();
            let upper = name.to_ascii_uppercase();
            let short = &name[..name.len() - 1];
            for n in [name, &lower[..], &upper[..], short] {
                for c in 0..=255u8 {
                    let mut line = b"(".to_vec();
                    line.extend_from_slice(n);
                    line.push(c);
                    line.extend_from_slice(b" \\Seen)");
                    for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
                        let src = Bytes::from(line.clone());
                        let mut pg = Parser::new(&src, &o);
                        let mut general: Vec<Flag> = Vec::new();
                        let rg = parse_flag_list_into(&mut pg, &mut general, Flag::parse);
                        let mut pf = Parser::new(&src, &o);
                        let mut fast = FlagList::new();
                        let rf = parse_flags_into(&mut pf, &mut fast);
                        let what = String::from_utf8_lossy(&line);
                        assert_eq!(rg.is_ok(), rf.is_ok(), "{what}");
                        assert_eq!(pg.pos, pf.pos, "{what}");
                        assert_eq!(pg.warnings, pf.warnings, "{what}");
                        assert_eq!(pg.error().to_string(), pf.error().to_string(), "{what}");
                        assert_eq!(fast.to_vec(), general, "{what}");
                    }
                }
            }
        }
    }

    /// A plain scan of the table, what the index must agree with.
    fn known_by_table(name: &[u8]) -> Option<MailboxAttribute> {
        MailboxAttribute::NAMES
            .iter()
            .position(|n| n.len() == name.len() && name.eq_ignore_ascii_case(n))
            .and_then(MailboxAttribute::by_index)
    }

    /// `known_at` (names compared in place) agrees with scanning the atom and looking it up,
    /// for every known name in several cases, cut short, lengthened, altered and followed by
    /// every byte.
    #[test]
    fn known_at_matches_scan_and_lookup() {
        fn by_scan(rest: &[u8]) -> Option<(MailboxAttribute, usize)> {
            let n = rest
                .iter()
                .position(|&c| !class::is_atom_char(c))
                .unwrap_or(rest.len());
            if matches!(rest.get(n), Some(&c) if c == b']' || c >= 0x80) {
                return None;
            }
            known_by_table(&rest[..n]).map(|a| (a, n))
        }
        let mut names: Vec<Vec<u8>> = vec![b"".to_vec(), b"X".to_vec(), b"Inbox".to_vec()];
        for n in MailboxAttribute::NAMES {
            names.push(n.to_vec());
            names.push(n.to_ascii_uppercase());
            names.push(n.to_ascii_lowercase());
            names.push([n, &b"s"[..]].concat());
            names.push(n[..n.len() - 1].to_vec());
            for i in 0..n.len() {
                for c in [
                    b'x',
                    b'N',
                    b'_',
                    b'i',
                    b'e',
                    b'@',
                    b'`',
                    b'{',
                    b'[',
                    0x80 | n[i],
                ] {
                    let mut m = n.to_vec();
                    m[i] = c;
                    names.push(m);
                }
            }
        }
        for n in &names {
            assert_eq!(MailboxAttribute::known_at(n), by_scan(n), "{n:?}");
            for c in 0..=255u8 {
                let r = [&n[..], &[c], b" x"].concat();
                assert_eq!(MailboxAttribute::known_at(&r), by_scan(&r), "{r:?}");
            }
        }
    }

    /// `Flag::parse`'s fast path for the system flags (the name after the `\` looked up in
    /// `Flag::NAMES` by its index, in any case) reads what the general path reads (the flag's atom, then
    /// `from_system`): value, position, warnings, success; for every spelling of interest
    /// followed by every byte and by the end of the input, in both profiles.
    #[test]
    fn flag_parse_matches_general_path() {
        use crate::options::DecodeOptions;
        fn general(p: &mut Parser<'_>) -> PResult<Flag> {
            if p.eat(b'\\') {
                Ok(Flag::from_system(flag_atom(p)?))
            } else {
                Ok(Flag::Keyword(flag_atom(p)?))
            }
        }
        let names: &[&[u8]] = &[
            b"",
            b"Seen",
            b"seen",
            b"SEEN",
            b"Seen2",
            b"See",
            b"Answered",
            b"answered",
            b"Answere",
            b"AnsweredX",
            b"Flagged",
            b"FLAGGED",
            b"Deleted",
            b"deleted",
            b"Draft",
            b"draft",
            b"Drafts",
            b"Dr",
            b"Recent",
            b"Junk",
            b"$Seen",
            b"Seen]x",
        ];
        let mut inputs = Vec::new();
        for n in names {
            for pre in [&b"\\"[..], b""] {
                inputs.push([pre, n].concat());
                for c in 0..=255u8 {
                    inputs.push([pre, n, &[c], b" x)"].concat());
                }
            }
        }
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for i in &inputs {
                let b = Bytes::copy_from_slice(i);
                let (mut p1, mut p2) = (Parser::new(&b, &o), Parser::new(&b, &o));
                let (r1, r2) = (Flag::parse(&mut p1), general(&mut p2));
                assert_eq!(r1.is_ok(), r2.is_ok(), "{i:?}");
                if let (Ok(a1), Ok(a2)) = (&r1, &r2) {
                    assert_eq!(a1, a2, "{i:?}");
                    assert_eq!(p1.pos, p2.pos, "{i:?}");
                    assert_eq!(p1.warnings, p2.warnings, "{i:?}");
                } else {
                    assert_eq!(p1.error(), p2.error(), "{i:?}");
                }
            }
        }
    }

    /// `parse` (known names inline, the rest out of line) gives the result and position of
    /// the single-path parse it replaced, in both profiles.
    #[test]
    fn parse_matches_single_path() {
        use crate::options::DecodeOptions;
        fn single(p: &mut Parser<'_>) -> PResult<MailboxAttribute> {
            p.expect(b'\\', "\\ mailbox attribute")?;
            if let Some((a, n)) = MailboxAttribute::known_at(p.rest()) {
                p.pos += n;
                return Ok(a);
            }
            Ok(MailboxAttribute::from_name(flag_atom(p)?))
        }
        let inputs: &[&[u8]] = &[
            b"",
            b"\\",
            b"\\ ",
            b"\\)",
            b"\\Noselect",
            b"\\noselect)",
            b"\\Noselect]",
            b"\\HasNoChildren \\Sent)",
            b"\\HasChildrenX)",
            b"\\Inbox)",
            b"\\All*",
            b"\\Sent\xc3\xa9)",
            b"Noselect)",
            b"\\*",
            b"\\Junk[x])",
            b"\\\\Sent",
        ];
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for i in inputs {
                let b = Bytes::copy_from_slice(i);
                let (mut p1, mut p2) = (Parser::new(&b, &o), Parser::new(&b, &o));
                let (r1, r2) = (MailboxAttribute::parse(&mut p1), single(&mut p2));
                assert_eq!(r1.is_ok(), r2.is_ok(), "{i:?}");
                if let (Ok(a1), Ok(a2)) = (&r1, &r2) {
                    assert_eq!(a1, a2, "{i:?}");
                    assert_eq!(p1.pos, p2.pos, "{i:?}");
                }
            }
        }
    }

    #[test]
    fn known_attributes_match_the_table() {
        let mut names: Vec<Vec<u8>> = vec![b"".to_vec(), b"X".to_vec(), b"Inbox".to_vec()];
        for n in MailboxAttribute::NAMES {
            names.push(n.to_vec());
            names.push(n.to_ascii_uppercase());
            names.push(n.to_ascii_lowercase());
            names.push([n, &b"s"[..]].concat());
            names.push(n[..n.len() - 1].to_vec());
            for i in 0..n.len() {
                for c in [b'x', b'N', b'_', b'i', b'e'] {
                    let mut m = n.to_vec();
                    m[i] = c;
                    names.push(m);
                }
            }
        }
        for n in &names {
            assert_eq!(
                MailboxAttribute::from_known_name(n),
                known_by_table(n),
                "{n:?}"
            );
        }
        for (i, n) in MailboxAttribute::NAMES.iter().enumerate() {
            assert_eq!(
                MailboxAttribute::from_known_name(n),
                MailboxAttribute::by_index(i)
            );
        }
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies.
    use super::*;
    use crate::core::strategies::atom;
    use proptest::prelude::*;

    /// Flags.
    pub(crate) fn flag() -> impl Strategy<Value = Flag> {
        prop_oneof![
            Just(Flag::Answered),
            Just(Flag::Flagged),
            Just(Flag::Deleted),
            Just(Flag::Seen),
            Just(Flag::Draft),
            atom()
                .prop_filter("not a system name", |a| !a.as_bytes().starts_with(b"\\"))
                .prop_map(Flag::Keyword),
            "X[a-z]{1,6}".prop_map(|s| Flag::Extension(Atom::try_from(s).unwrap())),
        ]
    }

    /// flag-fetch.
    pub(crate) fn flag_fetch() -> impl Strategy<Value = FlagFetch> {
        prop_oneof![flag().prop_map(FlagFetch::Flag), Just(FlagFetch::Recent)]
    }

    /// flag-perm.
    pub(crate) fn flag_perm() -> impl Strategy<Value = FlagPerm> {
        prop_oneof![flag().prop_map(FlagPerm::Flag), Just(FlagPerm::Asterisk)]
    }

    /// Mailbox attributes.
    pub(crate) fn mailbox_attribute() -> impl Strategy<Value = MailboxAttribute> {
        prop_oneof![
            proptest::sample::select(MailboxAttribute::named()),
            "X[a-z]{1,6}".prop_map(|s| MailboxAttribute::Extension(Atom::try_from(s).unwrap())),
        ]
    }
}
