//! Shared parsing helpers for the command grammar of RFC 9051 §9: keyword words, parenthesised
//! and space-separated lists, `nz-number` and `mod-sequence-value` (RFC 7162).

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

/// Longest word [`Word`] holds; longer words match no keyword.
pub(super) const WORD_MAX: usize = 24;

/// Bytes of a keyword-shaped word: ATOM-CHARs other than `[`, `<` and `.` (the bytes after
/// which [`Parser::keyword`] refuses to match).
pub(super) static WORD_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = crate::parse::class::is_atom_char(i as u8) && !matches!(i as u8, b'[' | b'<' | b'.');
        i += 1;
    }
    t
};

/// The word at a parser position, ASCII-uppercased, for keyword dispatch with one scan
/// instead of one [`Parser::keyword`] call per candidate.
///
/// For a keyword `kw` made of word bytes only, `p.keyword(kw)` matches exactly when the word
/// at `p.pos` equals `kw` ignoring ASCII case: `keyword` requires `kw` to be followed by a byte
/// that is not a word byte, i.e. the word ends right after `kw`.
#[derive(Clone, Copy)]
pub(crate) struct Word {
    buf: [u8; WORD_MAX],
    len: usize,
}

impl Word {
    /// The word at `p.pos` (empty when none, or when longer than [`WORD_MAX`]).
    #[inline]
    pub(crate) fn peek(p: &Parser<'_>) -> Word {
        let r = p.rest();
        let mut buf = [0u8; WORD_MAX];
        let mut len = 0;
        while let Some(&c) = r.get(len) {
            if !WORD_CHAR[c as usize] {
                break;
            }
            if len == WORD_MAX {
                return Word {
                    buf: [0; WORD_MAX],
                    len: 0,
                };
            }
            buf[len] = c.to_ascii_uppercase();
            len += 1;
        }
        Word { buf, len }
    }

    /// The uppercased word.
    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Consumes the word if it is `kw` (uppercase word bytes): [`Parser::keyword`] for a word
    /// peeked at `p.pos`.
    #[inline(always)]
    pub(crate) fn is(&self, p: &mut Parser<'_>, kw: &[u8]) -> bool {
        debug_assert!(
            kw.iter()
                .all(|&c| WORD_CHAR[c as usize] && !c.is_ascii_lowercase())
        );
        if self.as_bytes() == kw {
            p.pos += kw.len();
            true
        } else {
            false
        }
    }
}

/// Whether only the line end (or, with `close`, a `)`) follows, looking past the spaces the
/// lenient profile would skip. Consumes nothing and records nothing.
pub(crate) fn end_ahead(p: &Parser<'_>, close: bool) -> bool {
    let r = p.rest();
    let mut i = 0;
    if p.allows(Quirk::ExtraSpaces) {
        while r.get(i) == Some(&b' ') {
            i += 1;
        }
    }
    match r.get(i) {
        None | Some(b'\r' | b'\n') => true,
        Some(b')') => close,
        _ => false,
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
