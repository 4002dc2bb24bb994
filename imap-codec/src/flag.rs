//! Message flags and mailbox attributes (RFC 9051 §2.3.2, §7.3.1; `flag`, `flag-perm`,
//! `flag-fetch`, `mbx-list-flags`; SPECIAL-USE RFC 6154, \Important RFC 8457).

use std::fmt;

use bytes::Bytes;

use crate::core::Atom;
use crate::encode::{Encode, EncodeBuf};
use crate::error::{Rule, ValidationError, ValueKind};
use crate::list::ListSink;
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

    /// The five system flags (after the backslash), recognised on the raw bytes so that no
    /// slice of the message is taken for them. `None` leaves everything to the general path
    /// (which also handles the lenient profile's odd flags).
    #[inline]
    fn system_fast(p: &mut Parser<'_>) -> Option<Self> {
        let rest = p.rest();
        if let Some((f, n)) = Self::system_exact(rest) {
            p.pos += n;
            return Some(f);
        }
        let n = rest
            .iter()
            .position(|&c| !class::is_atom_char(c))
            .unwrap_or(rest.len());
        if matches!(rest.get(n), Some(&c) if c == b']' || c >= 0x80) {
            return None;
        }
        // the name with the backslash before the cursor
        let f = Self::from_known_name(p.bytes().get(p.pos.checked_sub(1)?..p.pos + n)?)?;
        p.pos += n;
        Some(f)
    }

    /// The five system flags in their usual spelling at the start of `rest` (after the
    /// backslash), followed by a byte that ends an atom and is neither `]` nor 8-bit: the
    /// flag and its length, what the scan of [`system_fast`](Self::system_fast) finds there,
    /// without scanning the run first. `None` leaves it to that scan.
    #[inline(always)]
    fn system_exact(rest: &[u8]) -> Option<(Self, usize)> {
        let (f, n) = match rest.first()? {
            b'S' if rest.starts_with(b"Seen") => (Flag::Seen, 4),
            b'A' if rest.starts_with(b"Answered") => (Flag::Answered, 8),
            b'F' if rest.starts_with(b"Flagged") => (Flag::Flagged, 7),
            b'D' if rest.starts_with(b"Deleted") => (Flag::Deleted, 7),
            b'D' if rest.starts_with(b"Draft") => (Flag::Draft, 5),
            _ => return None,
        };
        match rest.get(n) {
            Some(&c) if !class::is_atom_char(c) && c != b']' && c < 0x80 => Some((f, n)),
            _ => None,
        }
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

impl Encode for FlagFetch {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            FlagFetch::Flag(f) => f.encode(buf),
            FlagFetch::Recent => buf.raw(b"\\Recent"),
        }
    }
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

    /// [`known_at`](Self::known_at) as the attribute's place in `NAMES`. Only the names with
    /// `rest`'s first letter are compared, each in a few word-sized loads, so the atom is
    /// never scanned on its own.
    #[inline]
    fn known_index_at(rest: &[u8]) -> Option<(u8, usize)> {
        // every name is made of ASCII letters (test `attribute_names_round_trip`)
        for &i in Self::INDEX.starting_with(*rest.first()?) {
            let k = Self::NAMES[i as usize];
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

    /// The place of a known attribute in `NAMES` (`None` for [`MailboxAttribute::Extension`]).
    fn known_index(&self) -> Option<u8> {
        let name = self.known_name()?.as_bytes();
        Self::NAMES.iter().position(|n| *n == name).map(|i| i as u8)
    }
}

/// The known attributes in the order of `MailboxAttribute::NAMES` (what a
/// [`MailboxAttributes`] code refers to; test `known_attributes_follow_the_table`).
static KNOWN_ATTRIBUTES: [MailboxAttribute; MailboxAttribute::NAMES.len()] = {
    use MailboxAttribute as A;
    [
        A::NoInferiors,
        A::NoSelect,
        A::Marked,
        A::Unmarked,
        A::NonExistent,
        A::Subscribed,
        A::Remote,
        A::HasChildren,
        A::HasNoChildren,
        A::All,
        A::Archive,
        A::Drafts,
        A::Flagged,
        A::Junk,
        A::Sent,
        A::Trash,
        A::Important,
    ]
};

/// Attributes held inline by [`MailboxAttributes`].
const INLINE_ATTRIBUTES: usize = 7;
/// The code of an attribute held in [`MailboxAttributes`]' side list.
const OTHER_CODE: u8 = u8::MAX;
/// [`MailboxAttributes`]' length byte when every attribute is in its side list.
const SPILLED: u8 = u8::MAX;

/// The attributes of a LIST / LSUB / XLIST item (`mbx-list-flags`, RFC 9051 §7.3.1), in
/// wire order.
///
/// Held compactly: up to seven attributes one byte each (a known attribute such as
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
#[derive(Clone, Default)]
pub struct MailboxAttributes {
    /// `len` codes in order: a known attribute's index in `NAMES`, or `OTHER_CODE` for the
    /// next attribute of `other`.
    codes: [u8; INLINE_ATTRIBUTES],
    /// The number of codes, or `SPILLED`: every attribute is in `other`.
    len: u8,
    /// The attributes coded `OTHER_CODE`, in order; all of them when `len` is `SPILLED`.
    other: Vec<MailboxAttribute>,
}

impl MailboxAttributes {
    /// No attributes (no allocation).
    pub const fn new() -> Self {
        MailboxAttributes {
            codes: [0; INLINE_ATTRIBUTES],
            len: 0,
            other: Vec::new(),
        }
    }

    /// The number of attributes.
    #[inline]
    pub fn len(&self) -> usize {
        if self.len == SPILLED {
            self.other.len()
        } else {
            self.len as usize
        }
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The attributes in order.
    #[inline]
    pub fn iter(&self) -> AttributesIter<'_> {
        let spilled = self.len == SPILLED;
        let codes = if spilled {
            &[][..]
        } else {
            &self.codes[..(self.len as usize).min(INLINE_ATTRIBUTES)]
        };
        AttributesIter {
            codes: codes.iter(),
            other: self.other.iter(),
            spilled,
        }
    }

    /// The attribute at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&MailboxAttribute> {
        self.iter().nth(index)
    }

    /// Whether `a` is one of the attributes.
    pub fn contains(&self, a: &MailboxAttribute) -> bool {
        self.iter().any(|x| x == a)
    }

    /// Appends an attribute.
    pub fn push(&mut self, a: MailboxAttribute) {
        match a.known_index() {
            Some(i) => self.push_known(i),
            None => self.push_code(OTHER_CODE, Some(a)),
        }
    }

    /// The attributes as a `Vec`.
    pub fn to_vec(&self) -> Vec<MailboxAttribute> {
        self.iter().cloned().collect()
    }

    /// Appends the known attribute `NAMES[i]`.
    #[inline]
    fn push_known(&mut self, i: u8) {
        if (self.len as usize) < INLINE_ATTRIBUTES {
            self.codes[self.len as usize] = i;
            self.len += 1;
        } else {
            self.push_code(i, None);
        }
    }

    /// Appends `code` (`other`: the attribute of `OTHER_CODE`), moving every attribute to
    /// the side list when the codes are full.
    #[inline(never)]
    fn push_code(&mut self, code: u8, other: Option<MailboxAttribute>) {
        let a = match other {
            Some(a) => a,
            None => match KNOWN_ATTRIBUTES.get(code as usize) {
                Some(k) => k.clone(),
                None => return,
            },
        };
        if (self.len as usize) < INLINE_ATTRIBUTES {
            self.codes[self.len as usize] = OTHER_CODE;
            self.len += 1;
        } else if self.len != SPILLED {
            let mut all = Vec::with_capacity(INLINE_ATTRIBUTES * 2);
            all.extend(self.iter().cloned());
            self.other = all;
            self.len = SPILLED;
        }
        self.other.push(a);
    }
}

/// The iterator of [`MailboxAttributes::iter`].
#[derive(Debug, Clone)]
pub struct AttributesIter<'a> {
    codes: std::slice::Iter<'a, u8>,
    other: std::slice::Iter<'a, MailboxAttribute>,
    spilled: bool,
}

impl<'a> Iterator for AttributesIter<'a> {
    type Item = &'a MailboxAttribute;
    #[inline]
    fn next(&mut self) -> Option<&'a MailboxAttribute> {
        if self.spilled {
            return self.other.next();
        }
        match *self.codes.next()? {
            OTHER_CODE => self.other.next(),
            c => KNOWN_ATTRIBUTES.get(c as usize),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = if self.spilled {
            self.other.len()
        } else {
            self.codes.len()
        };
        (n, Some(n))
    }
}

impl DoubleEndedIterator for AttributesIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.spilled {
            return self.other.next_back();
        }
        match *self.codes.next_back()? {
            OTHER_CODE => self.other.next_back(),
            c => KNOWN_ATTRIBUTES.get(c as usize),
        }
    }
}

impl ExactSizeIterator for AttributesIter<'_> {}

impl<'a> IntoIterator for &'a MailboxAttributes {
    type Item = &'a MailboxAttribute;
    type IntoIter = AttributesIter<'a>;
    fn into_iter(self) -> AttributesIter<'a> {
        self.iter()
    }
}

impl PartialEq for MailboxAttributes {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for MailboxAttributes {}

impl std::hash::Hash for MailboxAttributes {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        for a in self {
            a.hash(state);
        }
    }
}

impl PartialEq<[MailboxAttribute]> for MailboxAttributes {
    fn eq(&self, other: &[MailboxAttribute]) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl PartialEq<Vec<MailboxAttribute>> for MailboxAttributes {
    fn eq(&self, other: &Vec<MailboxAttribute>) -> bool {
        *self == other[..]
    }
}

impl fmt::Debug for MailboxAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl FromIterator<MailboxAttribute> for MailboxAttributes {
    fn from_iter<I: IntoIterator<Item = MailboxAttribute>>(iter: I) -> Self {
        let mut v = MailboxAttributes::new();
        v.extend(iter);
        v
    }
}

impl Extend<MailboxAttribute> for MailboxAttributes {
    fn extend<I: IntoIterator<Item = MailboxAttribute>>(&mut self, iter: I) {
        for a in iter {
            self.push(a);
        }
    }
}

impl From<Vec<MailboxAttribute>> for MailboxAttributes {
    fn from(v: Vec<MailboxAttribute>) -> Self {
        v.into_iter().collect()
    }
}

impl<const M: usize> From<[MailboxAttribute; M]> for MailboxAttributes {
    fn from(a: [MailboxAttribute; M]) -> Self {
        a.into_iter().collect()
    }
}

impl From<&[MailboxAttribute]> for MailboxAttributes {
    fn from(s: &[MailboxAttribute]) -> Self {
        s.iter().cloned().collect()
    }
}

impl From<MailboxAttributes> for Vec<MailboxAttribute> {
    fn from(a: MailboxAttributes) -> Self {
        if a.len == SPILLED {
            a.other
        } else {
            a.to_vec()
        }
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for MailboxAttributes {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        u.arbitrary_iter()?.collect()
    }
}

/// Parses `mbx-list-flags` (a parenthesised list of `\Name`s, as [`parse_flag_list_into`]
/// with [`MailboxAttribute::parse`]) into `v` (empty on entry): a known name is stored as its
/// code straight from the message bytes; anything else takes `MailboxAttribute`'s general
/// path (test `attribute_list_matches_flag_list`).
#[inline]
pub(crate) fn parse_attributes_into(p: &mut Parser<'_>, v: &mut MailboxAttributes) -> PResult<()> {
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

impl ListSink<MailboxAttribute> for MailboxAttributes {
    #[inline]
    fn reserve_short_list(&mut self) {}
    #[inline]
    fn push_item(&mut self, item: MailboxAttribute) {
        self.push(item);
    }
    #[inline]
    fn item_count(&self) -> usize {
        self.len()
    }
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

    /// `KNOWN_ATTRIBUTES` lists the attributes of `NAMES` in table order (what the codes of
    /// `MailboxAttributes` index).
    #[test]
    fn known_attributes_follow_the_table() {
        assert_eq!(KNOWN_ATTRIBUTES.len(), MailboxAttribute::NAMES.len());
        for (i, a) in KNOWN_ATTRIBUTES.iter().enumerate() {
            assert_eq!(MailboxAttribute::by_index(i).as_ref(), Some(a));
            assert_eq!(a.known_index(), Some(i as u8));
        }
        assert!((KNOWN_ATTRIBUTES.len() as u8) < OTHER_CODE);
    }

    /// `MailboxAttributes` holds what it is given, in order, inline or spilled, and reads
    /// like the `Vec` of the same items.
    #[test]
    fn attributes_container_is_a_list() {
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
        for n in 0..20 {
            let v: Vec<MailboxAttribute> = (0..n)
                .map(|i| pool[(i * 7 + n) % pool.len()].clone())
                .collect();
            let mut a = MailboxAttributes::new();
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
            assert_eq!(MailboxAttributes::from(v.clone()), a);
            assert_eq!(Vec::from(a.clone()), v);
            // the same items from the other end of the pool are another list
            if n > 0 {
                let mut w = v.clone();
                w[0] = ext("Zzz");
                assert_ne!(MailboxAttributes::from(w), a);
            }
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
            use crate::options::DecodeOptions;
            const PIECES: &[&[u8]] = &[
                b"\\HasNoChildren", b"\\hasnochildren", b"\\HASCHILDREN", b"\\HasChildren",
                b"\\Noselect", b"\\NoSelect", b"\\Sent", b"\\Subscribed", b"\\Marked",
                b"\\Unmarked", b"\\Inbox", b"\\AllMail", b"\\X-Custom", b"\\All", b"\\Allx",
                b"\\Al", b"\\Important", b"\\NonExistent", b"\\Remote", b"\\Junk\xc3\xa9",
                b"\\Trash]", b"\\Drafts[x]", b"\\", b"\\*", b"Keyword", b"NIL", b"\"q\"",
                b"\\HasChildren(", b"\\Flagged{3}", b"\\Archive\\Sent", b"\\Noinferiors",
                b"(\\Sent)", b"\\Sent%", b"\\\x00", b"\\Sent\t", b"\\HasNoChildrenX",
            ];
            const SEPS: &[&[u8]] = &[b" ", b"  ", b"", b" \t", b"\t"];
            let mut line: Vec<u8> = [&b"("[..], b"( ", b"", b"NIL"][open].to_vec();
            for (i, (k, sep)) in pieces.iter().enumerate() {
                if i > 0 {
                    line.extend_from_slice(SEPS[*sep]);
                }
                line.extend_from_slice(PIECES[*k]);
            }
            line.extend_from_slice([&b")"[..], b" )", b"", b"))", b") x"][close]);
            let o = match opts {
                0 => DecodeOptions::strict(),
                1 => DecodeOptions::lenient(),
                _ => DecodeOptions::lenient().with_max_list_items(5),
            };
            let src = Bytes::from(line);
            let mut pg = Parser::new(&src, &o);
            let mut general: Vec<MailboxAttribute> = Vec::new();
            let rg = parse_flag_list_into(&mut pg, &mut general, MailboxAttribute::parse);
            let mut pf = Parser::new(&src, &o);
            let mut fast = MailboxAttributes::new();
            let rf = parse_attributes_into(&mut pf, &mut fast);
            proptest::prop_assert_eq!(rg.is_ok(), rf.is_ok());
            proptest::prop_assert_eq!(pg.pos, pf.pos);
            proptest::prop_assert_eq!(&pg.warnings, &pf.warnings);
            proptest::prop_assert_eq!(pg.error().to_string(), pf.error().to_string());
            proptest::prop_assert_eq!(fast.to_vec(), general);
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

    /// `Flag::parse`'s fast paths for the system flags (the usual spelling tested in place,
    /// then the scan and lookup) read what the general path reads (the flag's atom, then
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
