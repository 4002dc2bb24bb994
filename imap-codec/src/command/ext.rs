//! Generic extension values of RFC 4466 §2.1 (RFC 9051 §9 `tagged-ext-val`, `tagged-ext-comp`,
//! `tagged-ext-label`).

use super::*;

// ---------------------------------------------------------------------------------------
// Generic extension values (RFC 4466 §2.1, RFC 9051 §9 `tagged-ext-*`)
// ---------------------------------------------------------------------------------------

/// `tagged-ext-val`: the value of an extension parameter (select, fetch, store, search
/// return, append, create, scope options).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaggedExtVal {
    /// A `number` / `number64` (63-bit).
    Number(u64),
    /// A `sequence-set` that is not a plain number (a plain number decodes as
    /// [`TaggedExtVal::Number`]).
    SequenceSet(SequenceSet),
    /// `"(" [tagged-ext-comp] ")"`: the items of the compound value (possibly none).
    Comp(
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_impls::comps))]
        Vec<TaggedExtComp>,
    ),
}

/// One element of a `tagged-ext-comp`: an `astring` or a parenthesised non-empty list.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaggedExtComp {
    /// An astring.
    AString(AString),
    /// `"(" tagged-ext-comp ")"`: a nested non-empty list.
    List(
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_impls::comps))]
        Vec<TaggedExtComp>,
    ),
}

impl TaggedExtVal {
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.eat(b'(') {
            return parse_comps(p, true).map(TaggedExtVal::Comp);
        }
        let number = p.opt(|p| {
            let n = p.number64()?;
            if matches!(p.peek(), None | Some(b' ' | b')' | b'\r' | b'\n')) {
                Ok(n)
            } else {
                Err(Fail)
            }
        });
        match number {
            Some(n) => Ok(TaggedExtVal::Number(n)),
            None => SequenceSet::parse(p).map(TaggedExtVal::SequenceSet),
        }
    }

    /// `[SP tagged-ext-val]` after an extension name: a value follows only if the next token
    /// can start one (digit, `*`, `$` or `(`).
    pub(crate) fn parse_opt_param(p: &mut Parser<'_>) -> PResult<Option<Self>> {
        if p.peek() == Some(b' ') && matches!(p.peek_at(1), Some(b'0'..=b'9' | b'*' | b'$' | b'('))
        {
            p.sp()?;
            return Self::parse(p).map(Some);
        }
        Ok(None)
    }
}

/// Parses `tagged-ext-comp` items after the opening `(`, up to and including `)`.
/// Each parenthesised level is one nesting level.
pub(super) fn parse_comps(p: &mut Parser<'_>, allow_empty: bool) -> PResult<Vec<TaggedExtComp>> {
    p.enter()?;
    let r = parse_comps_inner(p, allow_empty);
    p.leave();
    r
}

pub(super) fn parse_comps_inner(
    p: &mut Parser<'_>,
    allow_empty: bool,
) -> PResult<Vec<TaggedExtComp>> {
    let mut v = Vec::new();
    if allow_empty && p.eat(b')') {
        return Ok(v);
    }
    loop {
        if p.eat(b'(') {
            v.push(TaggedExtComp::List(parse_comps(p, false)?));
        } else {
            v.push(TaggedExtComp::AString(IString::parse_astring(p)?));
        }
        p.check_items(v.len())?;
        p.skip_trailing_sp();
        if p.eat(b')') {
            return Ok(v);
        }
        p.sp()?;
    }
}

pub(super) fn encode_comps(v: &[TaggedExtComp], buf: &mut EncodeBuf) {
    buf.list(v, |b, c| c.encode(b));
}

impl Encode for TaggedExtComp {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            TaggedExtComp::AString(s) => s.encode_astring(buf),
            TaggedExtComp::List(v) => encode_comps(v, buf),
        }
    }
}

impl Encode for TaggedExtVal {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            TaggedExtVal::Number(n) => buf.num(*n),
            TaggedExtVal::SequenceSet(s) => s.encode(buf),
            TaggedExtVal::Comp(v) => encode_comps(v, buf),
        }
    }
}

/// `tagged-ext-label` = tagged-label-fchar *tagged-label-char.
pub(crate) fn tagged_label(p: &mut Parser<'_>) -> PResult<Atom> {
    let start = p.pos;
    match p.peek() {
        Some(c) if c.is_ascii_alphabetic() || matches!(c, b'-' | b'_' | b'.') => {}
        _ => return Err(p.fail("tagged-ext-label")),
    }
    let b = p.take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'));
    if p.peek().is_some_and(class::is_atom_char) {
        return Err(p.fail_at(start, "tagged-ext-label"));
    }
    Ok(Atom::unchecked(b))
}
