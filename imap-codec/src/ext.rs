//! Generic extension values of RFC 4466 §2.1 (RFC 9051 §9 `tagged-ext-val`, `tagged-ext-comp`,
//! `tagged-ext-label`): one type for commands and responses.

use crate::core::{AString, Atom, IString, NString};
use crate::encode::{Encode, EncodeBuf};
use crate::parse::{Fail, PResult, Parser, class};
use crate::sequence::SequenceSet;

/// `tagged-ext-val`: the value of an extension parameter or item, in commands (select, fetch,
/// store, search return, append, create, scope options) and in responses (LIST extended
/// items, ESEARCH return data).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaggedExtVal {
    /// A `number` / `number64` (63-bit).
    Number(u64),
    /// A `sequence-set` that is not a plain number (a plain number decodes as
    /// [`TaggedExtVal::Number`]).
    SequenceSet(SequenceSet),
    /// `"(" [tagged-ext-comp] ")"`: the items of the compound value (possibly none).
    Comp(#[cfg_attr(feature = "arbitrary", arbitrary(with = comps))] Vec<TaggedExtComp>),
    /// A string: not in the RFC 4466 ABNF, but servers send it (the RFC 9051 §7.3.1 LIST
    /// example `Sample "text"`). Decoded in responses only; a command holding it fails
    /// validation. Encoded quoted (or literal) when it would otherwise read as a number or a
    /// sequence set.
    String(IString),
}

/// One element of a `tagged-ext-comp`: an `astring` or a parenthesised non-empty list.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaggedExtComp {
    /// An astring.
    AString(AString),
    /// `"(" tagged-ext-comp ")"`: a nested non-empty list.
    List(#[cfg_attr(feature = "arbitrary", arbitrary(with = comps))] Vec<TaggedExtComp>),
}

impl TaggedExtVal {
    /// Parses a `tagged-ext-val` of a command (RFC 4466 §2.1; no `String`).
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.eat_open() {
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
    /// Parses a `tagged-ext-val` of a response, where servers also send strings
    /// ([`TaggedExtVal::String`]) and empty nested lists.
    pub(crate) fn parse_response(p: &mut Parser<'_>) -> PResult<Self> {
        if p.peek() == Some(b'(') {
            return Ok(TaggedExtVal::Comp(parse_comp_list(p)?));
        }
        let r = p.rest();
        match r.first() {
            Some(b'0'..=b'9') | Some(b'*') | Some(b'$') => {}
            _ => return Ok(TaggedExtVal::String(IString::parse_astring(p)?)),
        }
        let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
        if n > 0 && !matches!(r.get(n), Some(b':') | Some(b',')) {
            return Ok(TaggedExtVal::Number(p.number64()?));
        }
        Ok(TaggedExtVal::SequenceSet(SequenceSet::parse(p)?))
    }
}

/// Parses a response's `"(" [tagged-ext-comp] ")"`, nested lists possibly empty.
fn parse_comp_list(p: &mut Parser<'_>) -> PResult<Vec<TaggedExtComp>> {
    p.enter()?;
    p.expect(b'(', "(")?;
    let mut v = Vec::new();
    p.skip_trailing_sp();
    if !p.eat(b')') {
        loop {
            if p.peek() == Some(b'(') {
                v.push(TaggedExtComp::List(parse_comp_list(p)?));
            } else {
                v.push(TaggedExtComp::AString(IString::parse_astring(p)?));
            }
            p.check_items(v.len())?;
            p.skip_trailing_sp();
            if p.eat(b')') {
                break;
            }
            p.sp()?;
        }
    }
    p.leave();
    Ok(v)
}

/// Parses `tagged-ext-comp` items after the opening `(`, up to and including `)`.
/// Each parenthesised level is one nesting level.
pub(crate) fn parse_comps(p: &mut Parser<'_>, allow_empty: bool) -> PResult<Vec<TaggedExtComp>> {
    p.enter()?;
    let r = parse_comps_inner(p, allow_empty);
    p.leave();
    r
}

fn parse_comps_inner(p: &mut Parser<'_>, allow_empty: bool) -> PResult<Vec<TaggedExtComp>> {
    let mut v = Vec::new();
    if allow_empty && p.eat(b')') {
        return Ok(v);
    }
    loop {
        if p.eat_open() {
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

pub(crate) fn encode_comps(v: &[TaggedExtComp], buf: &mut EncodeBuf) {
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
            TaggedExtVal::String(s) => match s.as_bytes().first() {
                Some(b'0'..=b'9' | b'*' | b'$') => s.encode_string(buf),
                _ => s.encode_astring(buf),
            },
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

/// `tagged-ext-comp` items (bounded nesting).
#[cfg(feature = "arbitrary")]
pub(crate) fn comps(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Vec<TaggedExtComp>> {
    crate::arbitrary_util::nested(
        u,
        || vec![TaggedExtComp::AString(IString::default())],
        |u| u.arbitrary(),
    )
}

/// The parameters of ID (RFC 2971 §4 `id-params-list`): field and value pairs, the one type
/// of the command and the response (`None` around it is `NIL`).
pub type IdParams = Vec<(IString, NString)>;

/// Parses `"(" [string SP nstring *(SP string SP nstring)] ")" / nil` (RFC 2971 §4).
/// The lenient profile also reads `""` for NIL.
pub(crate) fn parse_id_params(p: &mut Parser<'_>) -> PResult<Option<IdParams>> {
    if p.nil_or_empty_string() {
        return Ok(None);
    }
    p.expect(b'(', "( or NIL")?;
    let mut v = Vec::new();
    p.skip_trailing_sp();
    if p.eat(b')') {
        return Ok(Some(v));
    }
    loop {
        let k = IString::parse_string(p)?;
        p.sp()?;
        let val = IString::parse_nstring(p)?;
        v.push((k, val));
        p.check_items(v.len())?;
        p.skip_trailing_sp();
        if p.eat(b')') {
            return Ok(Some(v));
        }
        p.sp()?;
    }
}

/// Encodes what [`parse_id_params`] reads.
pub(crate) fn encode_id_params(buf: &mut EncodeBuf, params: &Option<IdParams>) {
    match params {
        None => buf.raw(b"NIL"),
        Some(v) => buf.list(v, |b, (k, val)| {
            k.encode_string(b);
            b.sp();
            IString::encode_nstring(val, b);
        }),
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies.
    use super::*;
    use crate::core::strategies::istring;
    use crate::sequence::strategies::sequence_set;
    use crate::sequence::{SeqOrUid, Sequence};
    use proptest::collection::vec;
    use proptest::prelude::*;

    /// Extension labels that no known name uses.
    pub(crate) fn label() -> impl Strategy<Value = Atom> {
        "X-Q[A-Z0-9.:]{0,5}".prop_map(|s| Atom::try_from(s).unwrap())
    }

    fn n64() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..1000, 0u64..=i64::MAX as u64]
    }

    pub(crate) fn comp() -> impl Strategy<Value = TaggedExtComp> {
        istring()
            .prop_map(TaggedExtComp::AString)
            .prop_recursive(3, 12, 3, |inner| {
                vec(inner, 1..3).prop_map(TaggedExtComp::List)
            })
    }

    /// Command `tagged-ext-val` values in their canonical form.
    pub(crate) fn tagged_ext_val() -> impl Strategy<Value = TaggedExtVal> {
        prop_oneof![
            n64().prop_map(TaggedExtVal::Number),
            sequence_set()
                .prop_filter("a plain number decodes as Number", |s| !matches!(
                    s,
                    SequenceSet::Set(v) if matches!(v.as_slice(), [Sequence::Single(SeqOrUid::Value(_))])
                ))
                .prop_map(TaggedExtVal::SequenceSet),
            vec(comp(), 0..3).prop_map(TaggedExtVal::Comp),
        ]
    }
}
