//! STATUS attributes (RFC 9051 §6.3.11, §7.5.2 `status-att`, `status-att-val`; RFC 3501
//! RECENT; CONDSTORE HIGHESTMODSEQ RFC 7162; STATUS=SIZE RFC 8438; APPENDLIMIT RFC 7889;
//! OBJECTID MAILBOXID RFC 8474; QUOTA DELETED-STORAGE RFC 9208).

use crate::core::Atom;
use crate::encode::{Encode, EncodeBuf};
use crate::error::{Rule, ValidationError, ValueKind};
use crate::names::name_enum;
use crate::parse::{PResult, Parser, Word};

name_enum! {
    /// A STATUS data item name (`status-att`), as requested in STATUS or LIST RETURN (STATUS).
    #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum StatusAttribute {
        /// `MESSAGES`
        Messages = b"MESSAGES",
        /// `RECENT` (IMAP4rev1)
        Recent = b"RECENT",
        /// `UIDNEXT`
        UidNext = b"UIDNEXT",
        /// `UIDVALIDITY`
        UidValidity = b"UIDVALIDITY",
        /// `UNSEEN`
        Unseen = b"UNSEEN",
        /// `DELETED`
        Deleted = b"DELETED",
        /// `SIZE` (RFC 8438)
        Size = b"SIZE",
        /// `HIGHESTMODSEQ` (RFC 7162)
        HighestModSeq = b"HIGHESTMODSEQ",
        /// `APPENDLIMIT` (RFC 7889)
        AppendLimit = b"APPENDLIMIT",
        /// `MAILBOXID` (RFC 8474)
        MailboxId = b"MAILBOXID",
        /// `DELETED-STORAGE` (RFC 9208)
        DeletedStorage = b"DELETED-STORAGE",
    }
    others {
        /// Any other attribute name.
        Other(Atom),
    }
    name {
        StatusAttribute::Other(a) => a.as_str(),
    }
}

impl StatusAttribute {
    /// The wire name.
    pub fn name(&self) -> &[u8] {
        self.as_str().as_bytes()
    }

    /// The attribute with this name: a known name (in any case) gives its variant.
    pub fn from_name(name: Atom) -> Self {
        Self::from_known_name(name.as_bytes()).unwrap_or(StatusAttribute::Other(name))
    }

    /// Fails for [`StatusAttribute::Other`] holding a name the decoder reads as (or as the
    /// start of) a known attribute (build it with [`StatusAttribute::from_name`]).
    pub fn validate(&self) -> Result<(), ValidationError> {
        if let StatusAttribute::Other(a) = self {
            if crate::parse::shadows(a.as_bytes(), Self::NAMES) {
                // use StatusAttribute::from_name
                return Err(ValidationError::new(
                    ValueKind::StatusAttribute,
                    Rule::KnownName,
                ));
            }
        }
        Ok(())
    }

    /// Parses a `status-att`: a known name is the whole word at the cursor, looked up at once
    /// (one scan of the word, then a compare per name of its length) instead of a
    /// [`Parser::keyword`] test per name; anything else is an atom. Reads what
    /// [`parse_general`](Self::parse_general) reads (test `parse_matches_general`).
    #[inline]
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if let Some(a) = Self::parse_upper(p) {
            return Ok(a);
        }
        let w = Word::peek(p);
        if let Some(a) = Self::from_known_name(w.as_bytes()) {
            p.pos += w.as_bytes().len();
            return Ok(a);
        }
        Atom::parse(p).map(StatusAttribute::Other)
    }

    /// The usual attribute, a known name in upper case followed by SP or `)`, compared where
    /// it stands (one name or two per first byte); anything else is `None` with nothing
    /// consumed, for the word lookup, which reads the same from every input this takes
    /// (test `parse_matches_general`).
    #[inline(always)]
    fn parse_upper(p: &mut Parser<'_>) -> Option<Self> {
        use StatusAttribute as A;
        let r = p.rest();
        let (a, n) = match r.first()? {
            b'M' if r.starts_with(b"MESSAGES") => (A::Messages, 8),
            b'U' if r.starts_with(b"UIDNEXT") => (A::UidNext, 7),
            b'U' if r.starts_with(b"UIDVALIDITY") => (A::UidValidity, 11),
            b'U' if r.starts_with(b"UNSEEN") => (A::Unseen, 6),
            b'R' if r.starts_with(b"RECENT") => (A::Recent, 6),
            b'D' if r.starts_with(b"DELETED") => (A::Deleted, 7),
            b'S' if r.starts_with(b"SIZE") => (A::Size, 4),
            b'H' if r.starts_with(b"HIGHESTMODSEQ") => (A::HighestModSeq, 13),
            _ => return None,
        };
        if !matches!(r.get(n), Some(b' ' | b')')) {
            return None;
        }
        p.pos += n;
        Some(a)
    }

    /// [`parse`](Self::parse) name by name: the first name [`Parser::keyword`] takes, else an
    /// atom.
    #[cfg(test)]
    fn parse_general(p: &mut Parser<'_>) -> PResult<Self> {
        if let Some(a) = Self::parse_known_name(p) {
            return Ok(a);
        }
        Atom::parse(p).map(StatusAttribute::Other)
    }
}

impl Encode for StatusAttribute {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.raw(self.name());
    }
}

/// A STATUS data item with its value (`status-att-val`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusItem {
    /// `MESSAGES n`
    Messages(u32),
    /// `RECENT n`
    Recent(u32),
    /// `UIDNEXT n`
    UidNext(u32),
    /// `UIDVALIDITY n`
    UidValidity(u32),
    /// `UNSEEN n`
    Unseen(u32),
    /// `DELETED n`
    Deleted(u32),
    /// `SIZE n` (number64)
    Size(u64),
    /// `HIGHESTMODSEQ n` (mod-sequence-valzer)
    HighestModSeq(u64),
    /// `APPENDLIMIT n` or `APPENDLIMIT NIL` (no limit)
    AppendLimit(Option<u64>),
    /// `MAILBOXID (id)`
    MailboxId(Atom),
    /// `DELETED-STORAGE n`
    DeletedStorage(u64),
    /// Any other attribute with a number value.
    Other(Atom, u64),
}

impl StatusItem {
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        let name = StatusAttribute::parse(p)?;
        p.sp()?;
        Ok(match name {
            StatusAttribute::Messages => StatusItem::Messages(p.number()?),
            StatusAttribute::Recent => StatusItem::Recent(p.number()?),
            StatusAttribute::UidNext => StatusItem::UidNext(p.number()?),
            StatusAttribute::UidValidity => StatusItem::UidValidity(p.number()?),
            StatusAttribute::Unseen => StatusItem::Unseen(p.number()?),
            StatusAttribute::Deleted => StatusItem::Deleted(p.number()?),
            StatusAttribute::Size => StatusItem::Size(p.number64()?),
            StatusAttribute::HighestModSeq => StatusItem::HighestModSeq(p.number64()?),
            StatusAttribute::AppendLimit => {
                if p.nil_scalar() {
                    StatusItem::AppendLimit(None)
                } else {
                    StatusItem::AppendLimit(Some(p.number64()?))
                }
            }
            StatusAttribute::MailboxId => {
                p.expect(b'(', "(")?;
                let id = objectid(p)?;
                p.expect(b')', ")")?;
                StatusItem::MailboxId(id)
            }
            StatusAttribute::DeletedStorage => StatusItem::DeletedStorage(p.number64()?),
            StatusAttribute::Other(a) => StatusItem::Other(a, p.number64()?),
        })
    }

    /// Parses `[status-att-val *(SP status-att-val)]` inside parentheses.
    pub(crate) fn parse_list(p: &mut Parser<'_>) -> PResult<Vec<Self>> {
        let mut v = Vec::new();
        if !p.open_list("(")? {
            return Ok(v);
        }
        p.skip_trailing_sp();
        if p.eat(b')') {
            return Ok(v);
        }
        loop {
            v.push(Self::parse(p)?);
            p.check_items(v.len())?;
            p.skip_trailing_sp();
            if p.eat(b')') {
                return Ok(v);
            }
            p.sp()?;
        }
    }
}

/// `objectid` = 1*255(ALPHA / DIGIT / "_" / "-") (RFC 8474).
pub(crate) fn objectid(p: &mut Parser<'_>) -> PResult<Atom> {
    let start = p.pos;
    let b = p.take_while(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    if b.is_empty() || b.len() > 255 {
        return Err(p.fail_at(start, "objectid"));
    }
    Ok(Atom::unchecked(b))
}

impl StatusItem {
    /// The attribute this item is the value of (its name is the item's name).
    pub fn attribute(&self) -> StatusAttribute {
        match self {
            StatusItem::Messages(_) => StatusAttribute::Messages,
            StatusItem::Recent(_) => StatusAttribute::Recent,
            StatusItem::UidNext(_) => StatusAttribute::UidNext,
            StatusItem::UidValidity(_) => StatusAttribute::UidValidity,
            StatusItem::Unseen(_) => StatusAttribute::Unseen,
            StatusItem::Deleted(_) => StatusAttribute::Deleted,
            StatusItem::Size(_) => StatusAttribute::Size,
            StatusItem::HighestModSeq(_) => StatusAttribute::HighestModSeq,
            StatusItem::AppendLimit(_) => StatusAttribute::AppendLimit,
            StatusItem::MailboxId(_) => StatusAttribute::MailboxId,
            StatusItem::DeletedStorage(_) => StatusAttribute::DeletedStorage,
            StatusItem::Other(a, _) => StatusAttribute::Other(a.clone()),
        }
    }
}

impl Encode for StatusItem {
    /// The name from [`StatusAttribute`]'s table, then the value.
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            StatusItem::Other(a, _) => buf.raw(a.as_bytes()),
            item => buf.raw(item.attribute().name()),
        }
        buf.sp();
        match self {
            StatusItem::Messages(n)
            | StatusItem::Recent(n)
            | StatusItem::UidNext(n)
            | StatusItem::UidValidity(n)
            | StatusItem::Unseen(n)
            | StatusItem::Deleted(n) => buf.num(*n),
            StatusItem::Size(n)
            | StatusItem::HighestModSeq(n)
            | StatusItem::DeletedStorage(n)
            | StatusItem::Other(_, n) => buf.num(*n),
            StatusItem::AppendLimit(Some(n)) => buf.num(*n),
            StatusItem::AppendLimit(None) => buf.raw(b"NIL"),
            StatusItem::MailboxId(id) => {
                buf.byte(b'(');
                buf.raw(id.as_bytes());
                buf.byte(b')');
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies.
    use super::*;
    use proptest::prelude::*;

    /// Attribute names.
    pub(crate) fn status_attribute() -> impl Strategy<Value = StatusAttribute> {
        prop_oneof![
            proptest::sample::select(
                StatusAttribute::NAMES
                    .iter()
                    .map(|n| StatusAttribute::from_known_name(n).unwrap())
                    .collect::<Vec<_>>()
            ),
            "X[A-Z]{1,6}".prop_map(|s| StatusAttribute::Other(Atom::try_from(s).unwrap())),
        ]
    }

    /// Items with values.
    pub(crate) fn status_item() -> impl Strategy<Value = StatusItem> {
        let n64 = 0u64..=i64::MAX as u64;
        prop_oneof![
            any::<u32>().prop_map(StatusItem::Messages),
            any::<u32>().prop_map(StatusItem::Recent),
            any::<u32>().prop_map(StatusItem::UidNext),
            any::<u32>().prop_map(StatusItem::UidValidity),
            any::<u32>().prop_map(StatusItem::Unseen),
            any::<u32>().prop_map(StatusItem::Deleted),
            n64.clone().prop_map(StatusItem::Size),
            n64.clone().prop_map(StatusItem::HighestModSeq),
            proptest::option::of(n64.clone()).prop_map(StatusItem::AppendLimit),
            "[A-Za-z0-9_-]{1,20}".prop_map(|s| StatusItem::MailboxId(Atom::try_from(s).unwrap())),
            n64.clone().prop_map(StatusItem::DeletedStorage),
            ("X[A-Z]{1,6}", n64)
                .prop_map(|(s, n)| StatusItem::Other(Atom::try_from(s).unwrap(), n)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word lookup of [`StatusAttribute::parse`] reads what the keyword tests name by
    /// name read (value, position, failure): every name in three cases, cut, lengthened and
    /// with each byte changed, followed by each byte that may end an attribute or go on, in
    /// both profiles; and words past [`Word`]'s length.
    #[test]
    fn parse_matches_general() {
        use crate::options::DecodeOptions;
        use bytes::Bytes;
        let mut words = Vec::new();
        crate::names::name_variants(&StatusAttribute::NAMES, &mut words);
        words.push(b"DELETED-STORAGE-AND-MORE-WORDS".to_vec());
        words.push(b"MESSAGESMESSAGESMESSAGESM".to_vec());
        words.push(Vec::new());
        let mut known = 0;
        let mut upper = 0;
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for w in &words {
                for end in [
                    &b""[..],
                    b" ",
                    b")",
                    b"\r\n",
                    b"[",
                    b"<",
                    b".",
                    b"-",
                    b"x",
                    b"\"",
                    b"{",
                ] {
                    let msg = Bytes::from([&w[..], end].concat());
                    let mut f = Parser::new(&msg, &o);
                    let mut g = Parser::new(&msg, &o);
                    let mut u = Parser::new(&msg, &o);
                    if let Some(a) = StatusAttribute::parse_upper(&mut u) {
                        upper += 1;
                        let mut g = Parser::new(&msg, &o);
                        assert_eq!(Ok(a), StatusAttribute::parse_general(&mut g), "{msg:?}");
                        assert_eq!(u.pos, g.pos, "{msg:?}");
                    } else {
                        assert_eq!(u.pos, 0, "{msg:?}");
                    }
                    let fast = StatusAttribute::parse(&mut f);
                    let general = StatusAttribute::parse_general(&mut g);
                    assert_eq!(fast, general, "{msg:?}");
                    assert_eq!(f.pos, g.pos, "{msg:?}");
                    if fast.is_err() {
                        assert_eq!(f.error(), g.error(), "{msg:?}");
                    }
                    known += usize::from(matches!(fast, Ok(ref a) if a.known_name().is_some()));
                }
            }
        }
        assert!(known > 500, "{known}");
        assert!(upper >= 2 * 2 * 8, "{upper}");
    }

    /// Every STATUS attribute name goes name -> value -> name, in any case.
    #[test]
    fn status_attribute_names_round_trip() {
        crate::names::check_names(crate::names::Table {
            named: StatusAttribute::named(),
            names: &StatusAttribute::NAMES,
            known_name: StatusAttribute::known_name,
            from_known_name: StatusAttribute::from_known_name,
            parse: &|b: &[u8]| crate::names::parse_whole(b, StatusAttribute::parse),
            encode: &|v: &StatusAttribute| {
                crate::encode::Encode::to_bytes_inline_literals(v).to_vec()
            },
            wire: |n: &[u8]| n.to_vec(),
        });
        // every item encodes with its attribute's name and decodes back
        let items = [
            StatusItem::Messages(1),
            StatusItem::Recent(2),
            StatusItem::UidNext(3),
            StatusItem::UidValidity(4),
            StatusItem::Unseen(5),
            StatusItem::Deleted(6),
            StatusItem::Size(7),
            StatusItem::HighestModSeq(8),
            StatusItem::AppendLimit(None),
            StatusItem::AppendLimit(Some(9)),
            StatusItem::MailboxId(Atom::try_from("F2212ea87-6097").unwrap()),
            StatusItem::DeletedStorage(10),
            StatusItem::Other(Atom::try_from("X-FOO").unwrap(), 11),
        ];
        for item in items {
            let b = crate::encode::Encode::to_bytes_inline_literals(&item);
            assert!(b.starts_with(item.attribute().name()), "{b:?}");
            assert_eq!(
                crate::names::parse_whole(&b, StatusItem::parse).as_ref(),
                Some(&item)
            );
            // known names in any case (an `Other` keeps its spelling, an id is case-sensitive)
            let lower = b.to_ascii_lowercase();
            if !matches!(item, StatusItem::MailboxId(_) | StatusItem::Other(..)) {
                assert_eq!(
                    crate::names::parse_whole(&lower, StatusItem::parse).as_ref(),
                    Some(&item),
                    "{lower:?}"
                );
            }
        }
        // `DELETED-STORAGE` is not `DELETED` followed by more
        assert_eq!(
            crate::names::parse_whole(b"deleted-storage", StatusAttribute::parse),
            Some(StatusAttribute::DeletedStorage)
        );
    }
}
