//! Shared parsing helpers for the command grammar of RFC 9051 §9: parenthesised and
//! space-separated lists, `nz-number` and `mod-sequence-value` (RFC 7162).

use super::*;

/// Parses `"(" item *(SP item) ")"` (non-empty unless `allow_empty`).
pub(super) fn paren_list<T>(
    p: &mut Parser<'_>,
    allow_empty: bool,
    mut item: impl FnMut(&mut Parser<'_>) -> PResult<T>,
) -> PResult<Vec<T>> {
    p.expect(b'(', "(")?;
    let mut v = Vec::new();
    if allow_empty && p.eat(b')') {
        return Ok(v);
    }
    loop {
        v.push(item(p)?);
        p.check_items(v.len())?;
        p.skip_trailing_sp();
        if p.eat(b')') {
            return Ok(v);
        }
        p.sp()?;
    }
}

/// Parses `*(SP item)` until the end of the line (at least one when `!allow_empty`).
pub(super) fn sp_items<T>(
    p: &mut Parser<'_>,
    allow_empty: bool,
    mut item: impl FnMut(&mut Parser<'_>) -> PResult<T>,
) -> PResult<Vec<T>> {
    let mut v = Vec::new();
    loop {
        if end_ahead(p, false) && (allow_empty || !v.is_empty()) {
            return Ok(v);
        }
        p.sp()?;
        v.push(item(p)?);
        p.check_items(v.len())?;
    }
}

pub(super) fn nz(p: &mut Parser<'_>) -> PResult<NonZeroU32> {
    let start = p.pos;
    let v = p.number()?;
    NonZeroU32::new(v).ok_or_else(|| p.fail_at(start, "nz-number"))
}

/// `mod-sequence-value` (1..2^63-1); the lenient profile maps 0 to 1.
pub(super) fn modseq_value(p: &mut Parser<'_>) -> PResult<u64> {
    let start = p.pos;
    let v = p.number64()?;
    if v == 0 {
        if p.tolerate(Quirk::ZeroModSeq, start) {
            return Ok(1);
        }
        return Err(p.fail_at(start, "mod-sequence-value"));
    }
    Ok(v)
}
