//! Keyword words for dispatch (RFC 9051 §9 `atom`-shaped command and item names): one scan of
//! the word at the cursor instead of one keyword test per candidate.

use super::Parser;
use crate::options::Quirk;

/// Longest word [`Word`] holds; longer words match no keyword.
const WORD_MAX: usize = 24;

/// Bytes of a keyword-shaped word: ATOM-CHARs other than `[`, `<` and `.` (the bytes after
/// which [`Parser::keyword`] refuses to match).
static WORD_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = super::class::is_atom_char(i as u8) && !matches!(i as u8, b'[' | b'<' | b'.');
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
