//! Keyword words for dispatch (RFC 9051 §9 `atom`-shaped command and item names): one scan of
//! the word at the cursor instead of one keyword test per candidate.

use super::Parser;
use crate::options::Quirk;

/// Longest word [`Word`] holds; longer words match no keyword.
const WORD_MAX: usize = 24;
// `peek_letters` reads the word eight bytes at a time within its buffer.
const _: () = assert!(WORD_MAX % 8 == 0);

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
    #[inline(always)]
    pub(crate) fn peek(p: &Parser<'_>) -> Word {
        let r = p.rest();
        match Self::peek_letters(r) {
            Some(w) => w,
            None => Self::peek_general(r),
        }
    }

    /// [`peek_general`](Self::peek_general) for the usual keyword, ASCII letters only and
    /// ended by a byte that is not a word byte or by the end of `r`, read eight bytes at a
    /// time; `None` (the general loop decides) for anything else.
    #[inline(always)]
    fn peek_letters(r: &[u8]) -> Option<Word> {
        const CASE: u64 = 0x2020_2020_2020_2020;
        const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        const FROM_A: u64 = 0x1f1f_1f1f_1f1f_1f1f; // 0x61 + 0x1f = 0x80
        const PAST_Z: u64 = 0x0505_0505_0505_0505; // 0x7b + 0x05 = 0x80
        let mut buf = [0u8; WORD_MAX];
        let mut i = 0;
        while i < WORD_MAX {
            let mut a = [0u8; 8];
            match r.get(i..i + 8) {
                Some(chunk) => a.copy_from_slice(chunk),
                // the end of the input: zeros, which are not word bytes, end the word there
                None => {
                    let tail = r.get(i..)?;
                    a.get_mut(..tail.len())?.copy_from_slice(tail);
                }
            }
            let w = u64::from_le_bytes(a);
            // per byte, no carries between bytes (each below 0x80 before adding): the high
            // bit is set where the case-folded byte is in 'a'..='z' and the byte is ASCII
            let low = (w | CASE) & LOW7;
            let letter = low.wrapping_add(FROM_A) & !low.wrapping_add(PAST_Z) & !w & HIGH;
            let k = ((!letter & HIGH).trailing_zeros() / 8) as usize;
            // upper case: bit 0x20 cleared in the letters (bytes from k on are not read)
            buf[i..i + 8].copy_from_slice(&(w & !(letter >> 2)).to_le_bytes());
            if k < 8 {
                if WORD_CHAR[a[k] as usize] {
                    return None;
                }
                return Some(Word { buf, len: i + k });
            }
            i += 8;
        }
        None
    }

    /// The word at the start of `r`, byte by byte.
    #[cold]
    #[inline(never)]
    fn peek_general(r: &[u8]) -> Word {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(r: &[u8]) -> bool {
        let general = Word::peek_general(r);
        match Word::peek_letters(r) {
            Some(fast) => {
                assert_eq!(
                    fast.as_bytes(),
                    general.as_bytes(),
                    "{:?}",
                    String::from_utf8_lossy(r)
                );
                true
            }
            None => false,
        }
    }

    /// The eight-bytes-at-a-time word gives the byte loop's word whenever it answers.
    #[test]
    fn peek_letters_matches_general() {
        for s in [
            "SEARCH UNSEEN",
            "search ",
            "Fetch 1:* (UID)",
            "UID STORE",
            "NOT OR (SEEN)",
            "X-GM-RAW \"a\"",
            "SENTSINCE 1-Jan-2020",
            "ABCDEFGHIJKLMNOPQRSTUVWX ",
            "ABCDEFGHIJKLMNOPQRSTUVWXY ",
            "ABCDEFGHIJKLMNOPQRSTUVW ",
            "ABCDEFGH ",
            "ABCDEFG ",
            "ABCDEFGH1 ",
            "BODY[TEXT] ",
            "BODY.PEEK[] ",
            "@[`{ \u{e9}",
            "LIST \"\" *",
            "a\u{c1}bcdefgh ",
            " NOOP   ",
        ] {
            check(s.as_bytes());
        }
        // the usual command and search-key words take the fast path
        for s in [
            "SEARCH UNSEEN",
            "uNsEeN 1:*\r\n",
            "SENTSINCE 1-Jan",
            "ABCDEFGHIJKLMNOPQRSTUVW ",
            "NOOP",
            "NOOP\r\n",
            "",
            "SENTSINCE",
        ] {
            assert!(check(s.as_bytes()), "{s}");
        }
    }

    proptest! {
        #[test]
        fn peek_letters_matches_general_random(
            r in proptest::collection::vec(
                prop_oneof![
                    6 => proptest::sample::select(b"AZaz@[`{GhQx".to_vec()),
                    1 => any::<u8>(),
                    1 => proptest::sample::select(b" ()[<.-_0\r\n\"".to_vec()),
                ],
                0..40,
            ),
        ) {
            check(&r);
        }
    }
}
