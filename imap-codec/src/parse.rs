//! The byte cursor every decoder is written against (RFC 9051 §9 lexical rules: SP, CRLF,
//! atoms, numbers, strings).
//!
//! Parsing happens once per complete framed message (see [`crate::framer`]); the parser
//! therefore never has to deal with partial input: running out of bytes is an error.
//! Values are cut out of the message [`Bytes`] with `slice`, so decoding copies nothing.

use bytes::{Bytes, BytesMut};

use crate::error::DecodeError;
use crate::options::{DecodeOptions, Quirk, Warning};

mod words;
pub(crate) use self::words::{Word, end_ahead};

/// Result type used inside the parsers. The failure details live in the [`Parser`].
pub(crate) type PResult<T> = Result<T, Fail>;

/// A parse failure marker; the furthest failure position and expectation are kept in the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fail;

/// Lexical classes of RFC 9051 §9.
pub(crate) mod class {
    /// `ATOM-CHAR`: any CHAR except atom-specials.
    #[inline]
    pub(crate) const fn is_atom_char(b: u8) -> bool {
        ATOM[b as usize]
    }
    /// `ASTRING-CHAR`: ATOM-CHAR / resp-specials (`]`).
    #[inline]
    pub(crate) const fn is_astring_char(b: u8) -> bool {
        ASTRING[b as usize]
    }
    /// `TAG`: ASTRING-CHAR except `+`.
    #[inline]
    pub(crate) const fn is_tag_char(b: u8) -> bool {
        is_astring_char(b) && b != b'+'
    }
    /// `TEXT-CHAR` (7-bit): any CHAR except CR and LF.
    #[inline]
    pub(crate) const fn is_text_char(b: u8) -> bool {
        b != b'\r' && b != b'\n' && b != 0
    }
    /// `list-char`: ATOM-CHAR / list-wildcards / resp-specials.
    #[inline]
    pub(crate) const fn is_list_char(b: u8) -> bool {
        is_astring_char(b) || b == b'%' || b == b'*'
    }

    const fn atom_table() -> [bool; 256] {
        let mut t = [false; 256];
        let mut i = 0x21;
        while i < 0x7f {
            t[i] = !matches!(
                i as u8,
                b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']'
            );
            i += 1;
        }
        t
    }
    static ATOM: [bool; 256] = atom_table();

    const fn astring_table() -> [bool; 256] {
        let mut t = atom_table();
        t[b']' as usize] = true;
        t
    }
    static ASTRING: [bool; 256] = astring_table();

    /// A byte a quoted string holds as it is on both sides of the codec: 7-bit, not a
    /// control character, not DQUOTE or backslash (anything else needs a closer look: an
    /// escape, the end of the string, a literal, or an error).
    #[inline(always)]
    pub(crate) const fn is_plain_quoted(c: u8) -> bool {
        c >= 0x20 && c < 0x80 && c != b'"' && c != b'\\'
    }

    /// [`is_plain_quoted`] for eight bytes at once (`x` little-endian): the high bit of each
    /// byte that is *not* plain is set, so `0` means all eight are plain and
    /// `trailing_zeros() / 8` is the index of the first one that is not. A borrow between
    /// bytes only follows a flagged byte, so the lowest flagged byte is always a true one.
    ///
    /// Three tests, each a byte's high bit: `x` itself (8-bit bytes); `(x ^ 0x02) - 0x21`,
    /// which borrows for the control bytes and DQUOTE at once (XOR with 2 maps 0x00..=0x1f
    /// onto itself and DQUOTE, 0x22, onto 0x20: exactly the bytes below 0x21 afterwards);
    /// `(x ^ 0x5c) - 1`, which borrows for the backslash. Past a 7-bit byte's own borrow the
    /// differences set no high bit (an 8-bit byte is flagged by `x` anyway), so no
    /// `& !v` term is needed.
    #[inline(always)]
    pub(crate) const fn quoted_specials(x: u64) -> u64 {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let ctl_or_quote = (x ^ (ONES * 0x02)).wrapping_sub(ONES * 0x21);
        let backslash = (x ^ (ONES * b'\\' as u64)).wrapping_sub(ONES);
        (ctl_or_quote | backslash | x) & HIGH
    }
}

/// Whether [`Parser::keyword`] would match one of `known` at the start of `name` (an atom):
/// `name` equals a known word, or continues it with `[`, `<` or `.`. Such a name cannot be
/// held by an "other" variant: the decoder reads it as the known word.
pub(crate) fn shadows<'k>(name: &[u8], known: impl IntoIterator<Item = &'k [u8]>) -> bool {
    known.into_iter().any(|k| {
        name.len() >= k.len()
            && name[..k.len()].eq_ignore_ascii_case(k)
            && matches!(name.get(k.len()), None | Some(b'[' | b'<' | b'.'))
    })
}

/// Eight bytes as digit values (each byte minus `'0'`, little-endian: a digit is a byte
/// 0..=9) and how many of them, from the first, are digits (8 when all are). Borrows and
/// carries only move towards later bytes, so everything up to the first non-digit is exact.
/// The one SWAR digit test of the parsers (`Parser::digits`, sequence sets, SEARCH results).
#[inline(always)]
pub(crate) fn digit_run8(a: [u8; 8]) -> (u64, usize) {
    let x = u64::from_le_bytes(a).wrapping_sub(0x3030_3030_3030_3030);
    let bad = (x | x.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080;
    (x, (bad.trailing_zeros() / 8) as usize)
}

/// The value of eight decimal digits held as byte values 0..=9 in `x`, the first (most
/// significant) digit in the lowest byte; leading zero bytes are leading zeros.
#[inline]
pub(crate) fn swar_digits(x: u64) -> u64 {
    let x = (x.wrapping_mul(10) + (x >> 8)) & 0x00FF_00FF_00FF_00FF;
    let x = (x.wrapping_mul(100) + (x >> 16)) & 0x0000_FFFF_0000_FFFF;
    (x.wrapping_mul(10_000) + (x >> 32)) & 0x0000_0000_FFFF_FFFF
}

/// Length of the leading run of printable 7-bit bytes of `s` other than DQUOTE and backslash
/// (0x20..=0x7f): what a quoted string's fast scan passes over. Eight bytes at a time while
/// eight are left (the lowest flagged byte of a word is exact); any other byte ends the run
/// and is looked at by the caller. (The last-word tail of [`astring_run`] measured dearer
/// here: +2.4% on fetch-headers' short strings.)
#[inline(always)]
pub(crate) fn quoted_run(s: &[u8]) -> usize {
    let mut i = 0;
    while let Some(w) = s.get(i..i + 8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let bad = class::quoted_specials(u64::from_le_bytes(a));
        if bad != 0 {
            return i + (bad.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = s.get(i) {
        if !class::is_plain_quoted(c) {
            break;
        }
        i += 1;
    }
    i
}

/// Whether `n` can follow a quoted string (lenient profile: a DQUOTE followed by anything
/// else is taken as an unescaped quote inside the string, [`Quirk::UnescapedQuotes`]).
#[inline(always)]
fn may_follow_quoted(n: u8) -> bool {
    matches!(n, b' ' | b')' | b'\r' | b'\n' | b']' | b'(')
}

/// Length of the leading run of ASTRING-CHARs of `s` (0x21..=0x7e except `(){%*"\\`): eight
/// bytes at a time, each word tested for bytes outside 0x2b..=0x7a and the backslash (a few
/// operations; they include every byte that is not an ASTRING-CHAR, and the rare ones that
/// are, such as `&`, `!` or `~`, are confirmed by the table and passed over). Whole words
/// while eight bytes are left; then, when `s` has eight bytes, its last eight as one word, the
/// bytes already passed masked off; a shorter `s` byte by byte. So a run up to the end of a
/// message (its CRLF at least two bytes on) never goes byte by byte.
#[inline]
fn astring_run(s: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    /// The word at `at`, its bytes that may end the run flagged (high bit): below 0x2b (a
    /// borrow only follows a flagged byte, and only adds flags), above 0x7a (a carry
    /// likewise), 8-bit, or the backslash.
    #[inline(always)]
    fn suspects(s: &[u8], at: usize) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&s[at..at + 8]);
        let x = u64::from_le_bytes(a);
        let low = x.wrapping_sub(ONES * 0x2b) & !x;
        let high = x.wrapping_add(ONES * (0x80 - 0x7b)) | x;
        let v = x ^ (ONES * b'\\' as u64);
        let bs = v.wrapping_sub(ONES) & !v;
        (low | high | bs) & HIGH
    }
    /// The first byte flagged in `bad` (of the word at `at`) that the table confirms is no
    /// ASTRING-CHAR.
    #[inline(always)]
    fn first_end(s: &[u8], at: usize, mut bad: u64) -> Option<usize> {
        while bad != 0 {
            let j = at + (bad.trailing_zeros() / 8) as usize;
            if !class::is_astring_char(s[j]) {
                return Some(j);
            }
            bad &= bad - 1;
        }
        None
    }
    let n = s.len();
    let mut i = 0;
    while i + 8 <= n {
        if let Some(j) = first_end(s, i, suspects(s, i)) {
            return j;
        }
        i += 8;
    }
    if i == n {
        return n;
    }
    if n >= 8 {
        // the last eight bytes, of which the first `8 - (n - i)` were passed already
        let at = n - 8;
        return first_end(s, at, suspects(s, at) & (u64::MAX << (8 * (i - at)))).unwrap_or(n);
    }
    s[i..]
        .iter()
        .position(|&c| !class::is_astring_char(c))
        .map_or(n, |k| i + k)
}

/// The value of a quoted string's raw content `raw` (between the DQUOTEs) without its NUL
/// bytes (lenient only), unescaped when `escapes`.
#[cold]
fn unescape_dropping_nul(raw: &[u8], escapes: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c == b'\\' && escapes && i + 1 < raw.len() {
            out.push(raw[i + 1]);
            i += 2;
            continue;
        }
        if c != 0 {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// Where the content of an `nstring` is ([`Parser::nstring_at`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StrAt {
    /// `NIL`.
    Nil,
    /// Bytes `start..end` of the message are the content, as they stand.
    In(usize, usize),
    /// Bytes `start..end` of the message are the raw content of a quoted string with
    /// backslash escapes (and no NUL): the value is them unescaped, which
    /// [`unescape_in_place`] does in a copy of them (the value is never longer).
    Escaped(usize, usize),
    /// The content is not a run of the message (NUL dropped leniently).
    Owned(Bytes),
}

/// Unescapes the raw content of a quoted string in place, as [`Parser::quoted`] does (each
/// backslash dropped and the byte after it kept; a lenient unescaped quote stays as it is),
/// and returns the value's length: the value is `raw[..n]`. Every byte moves to the front or
/// stays, so a copy of a value's raw bytes becomes the value where it stands. The plain bytes
/// before the first backslash stay where they are ([`quoted_run`]); the rest goes byte by
/// byte: the usual escaped strings are short (a display name with a quoted nickname, 20-40
/// bytes), where a `memchr` and a `copy_within` call per backslash measured ~330
/// instructions a string against ~200 this way (test `unescape_matches_reference`).
pub(crate) fn unescape_in_place(raw: &mut [u8]) -> usize {
    let n = raw.len();
    let mut r = quoted_run(raw);
    let mut w = r;
    while r < n {
        let mut c = raw[r];
        // (a backslash that ends the content is kept as it is, as `quoted_slow` keeps it)
        if c == b'\\' && r + 1 < n {
            r += 1;
            c = raw[r];
        }
        // (`w <= r`: in bounds)
        raw[w] = c;
        w += 1;
        r += 1;
    }
    w
}

/// What [`Parser::quoted_scan`] found: where the content ends, whether it has escapes
/// (backslashes or lenient unescaped quotes) or NUL bytes (lenient), and by how many bytes the
/// value is shorter than the raw content (backslashes).
struct QuotedScan {
    end: usize,
    escapes: bool,
    nul: bool,
    removed: usize,
}

/// Where one string of a decoded value (an envelope, a body structure) is in the value's
/// buffer: `len` bytes from `off`; NIL when `len` is `u32::MAX`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Span {
    pub(crate) off: u32,
    pub(crate) len: u32,
}

impl Span {
    pub(crate) const NIL: Span = Span {
        off: 0,
        len: u32::MAX,
    };
    pub(crate) const EMPTY: Span = Span { off: 0, len: 0 };

    /// `start..end` of the buffer, when both fit (the last length is NIL's).
    #[inline]
    pub(crate) fn new(start: usize, end: usize) -> Option<Span> {
        let off = u32::try_from(start).ok()?;
        let len = u32::try_from(end - start).ok().filter(|&l| l != u32::MAX)?;
        Some(Span { off, len })
    }

    /// The string in `buf`, `None` for NIL.
    #[inline]
    pub(crate) fn get(self, buf: &[u8]) -> Option<&[u8]> {
        if self.len == u32::MAX {
            return None;
        }
        let start = self.off as usize;
        // always in range (spans are made for their buffer); out of range would read as NIL
        buf.get(start..start + self.len as usize)
    }

    /// The string in `buf`, empty for NIL.
    #[inline]
    pub(crate) fn str(self, buf: &[u8]) -> &[u8] {
        self.get(buf).unwrap_or_default()
    }
}

/// The buffer of a value parsed in place (an envelope, a body structure) when some of its
/// strings are not runs of the message as they stand: a copy of the value's raw bytes, in
/// which each escaped quoted string is unescaped where it stands ([`OwnBuf::escaped`]),
/// followed by the side buffer of the strings copied whole ([`OwnBuf::side`] moves their
/// offsets behind the raw bytes). Both values finish their strings through this.
pub(crate) struct OwnBuf {
    buf: Vec<u8>,
    /// The raw bytes' length: where the side buffer starts.
    shift: u32,
}

impl OwnBuf {
    /// `raw` then `side`; `None` when that is not below 4 GiB.
    pub(crate) fn new(raw: &[u8], side: &[u8]) -> Option<OwnBuf> {
        let total = raw.len().checked_add(side.len())?;
        if total >= u32::MAX as usize {
            return None;
        }
        let mut buf = Vec::with_capacity(total);
        buf.extend_from_slice(raw);
        buf.extend_from_slice(side);
        Some(OwnBuf {
            buf,
            shift: raw.len() as u32,
        })
    }

    /// The offset in this buffer of offset `off` of the side buffer.
    #[inline]
    pub(crate) fn side(&self, off: u32) -> u32 {
        off + self.shift
    }

    /// Unescapes the escaped string whose raw content is `len` bytes at `off` where it stands;
    /// the value's length (never longer, so never NIL's).
    pub(crate) fn escaped(&mut self, off: u32, len: u32) -> u32 {
        let start = off as usize;
        self.buf
            .get_mut(start..start + len as usize)
            .map_or(0, unescape_in_place) as u32
    }

    /// The finished buffer.
    pub(crate) fn into_bytes(self) -> Bytes {
        Bytes::from(self.buf)
    }
}

/// The least block of [`NAMES`]: the usual escaped strings (a LIST sample's escaped
/// mailbox names, 20-40 bytes) share it, and once no value holds it any more its memory
/// takes the next ones (`BytesMut::reserve` reclaims it).
const NAMES_BLOCK: usize = 4096;

/// The longest string unescaped into [`NAMES`] (a longer one gets a buffer of its own), so
/// that the block never grows past [`NAMES_BLOCK`]: a thread keeps at most that much.
const NAMES_MAX: usize = 256;

thread_local! {
    /// Where `Parser::quoted_escaped` unescapes the usual escaped quoted strings, each value
    /// split off it: no allocation and `free` per string (~130 instructions a LIST name),
    /// the same values (test `quoted_escaped_matches_general_path`). A value keeps its block
    /// ([`NAMES_BLOCK`] bytes) alive, as a value cut out of the input keeps the input's;
    /// the thread keeps one block (reclaimed by `BytesMut::reserve` once no value holds it,
    /// else a new one). Strings over [`NAMES_MAX`] bytes get a buffer each.
    static NAMES: std::cell::RefCell<BytesMut> = std::cell::RefCell::new(BytesMut::new());
}

/// Cursor over one complete message.
pub(crate) struct Parser<'a> {
    src: &'a Bytes,
    b: &'a [u8],
    pub(crate) pos: usize,
    depth: u32,
    pub(crate) opts: &'a DecodeOptions,
    err_pos: usize,
    err_expected: &'static str,
    /// Another expectation that failed at `err_pos` ("" when none).
    err_alt: &'static str,
    pub(crate) warnings: Vec<Warning>,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a Bytes, opts: &'a DecodeOptions) -> Self {
        Self::new_in(src, src.len(), opts)
    }

    /// A parser of the message that is the first `len` bytes of `src` (all of `src` when it
    /// is shorter): what [`new`](Self::new) of `src.slice(..len)` gives, without the cut;
    /// values are cut out of `src` (the receiver parses a one-line message where the
    /// framer holds it, see `Receiver::fill_with`).
    #[inline]
    pub(crate) fn new_in(src: &'a Bytes, len: usize, opts: &'a DecodeOptions) -> Self {
        Parser {
            src,
            b: src.get(..len).unwrap_or(src),
            pos: 0,
            depth: 0,
            opts,
            err_pos: 0,
            err_expected: "",
            err_alt: "",
            warnings: Vec::new(),
        }
    }

    /// The decode error for the furthest failure seen.
    pub(crate) fn error(&self) -> DecodeError {
        let expected = if self.err_expected.is_empty() {
            "valid input"
        } else {
            self.err_expected
        };
        let mut e = DecodeError::new_in(self.src, self.b.len(), self.err_pos, expected);
        if !self.err_alt.is_empty() && self.err_alt != expected {
            e.alternatives.push(self.err_alt);
        }
        e
    }

    /// Records a failure at the current position and returns the marker.
    #[cold]
    pub(crate) fn fail(&mut self, expected: &'static str) -> Fail {
        self.fail_at(self.pos, expected)
    }

    /// Records a failure at `pos`.
    #[cold]
    #[inline(never)]
    pub(crate) fn fail_at(&mut self, pos: usize, expected: &'static str) -> Fail {
        if pos > self.err_pos || self.err_expected.is_empty() {
            self.err_pos = pos;
            self.err_expected = expected;
            self.err_alt = "";
        } else if pos == self.err_pos {
            // another alternative that fails at the same byte: keep the previous one too
            if self.err_expected != expected {
                self.err_alt = self.err_expected;
            }
            self.err_expected = expected;
        }
        Fail
    }

    /// Whether the lenient profile is active for `quirk`.
    #[inline]
    pub(crate) fn allows(&self, quirk: Quirk) -> bool {
        self.opts.allows(quirk)
    }

    /// Most warnings kept per message (the rest are not recorded).
    pub(crate) const MAX_WARNINGS: usize = 64;

    /// Records a tolerated defect at `pos`.
    pub(crate) fn warn(&mut self, quirk: Quirk, pos: usize) {
        if self.warnings.len() < Self::MAX_WARNINGS {
            self.warnings.push(Warning { quirk, offset: pos });
        }
    }

    /// Tolerates `quirk` if allowed, recording a warning; returns whether it was allowed.
    pub(crate) fn tolerate(&mut self, quirk: Quirk, pos: usize) -> bool {
        if self.allows(quirk) {
            self.warn(quirk, pos);
            true
        } else {
            false
        }
    }

    // ----- raw access -----

    #[inline]
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.b
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    #[inline]
    pub(crate) fn peek_at(&self, off: usize) -> Option<u8> {
        self.b.get(self.pos + off).copied()
    }

    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.b[self.pos.min(self.b.len())..]
    }

    #[inline]
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    #[inline]
    pub(crate) fn slice(&self, start: usize, end: usize) -> Bytes {
        self.src.slice(start..end)
    }

    /// Consumes `c` if it is next.
    #[inline]
    pub(crate) fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `c` or fails with `expected`. The lenient profile also takes spaces after a
    /// list's `(` and before its `)` ([`Quirk::ExtraSpaces`]; both on the slow path). Always
    /// inlined: `c` is a constant at every call, so the `(` test folds away for the others.
    #[inline(always)]
    pub(crate) fn expect(&mut self, c: u8, expected: &'static str) -> PResult<()> {
        if self.eat(c) {
            if c == b'(' && self.peek() == Some(b' ') {
                self.lenient_space_after_open();
            }
            Ok(())
        } else {
            self.expect_slow(c, expected)
        }
    }

    /// Consumes a list's `(` if it is next (the lenient profile also takes spaces after it,
    /// as [`expect`](Self::expect) does).
    #[inline(always)]
    pub(crate) fn eat_open(&mut self) -> bool {
        if self.eat(b'(') {
            if self.peek() == Some(b' ') {
                self.lenient_space_after_open();
            }
            true
        } else {
            false
        }
    }

    /// `( ` in the lenient profile: the spaces are skipped with a warning.
    #[cold]
    #[inline(never)]
    fn lenient_space_after_open(&mut self) {
        let at = self.pos;
        if self.tolerate(Quirk::ExtraSpaces, at) {
            while self.eat(b' ') {}
        }
    }

    /// [`expect`](Self::expect) when `c` is not next: spaces before a `)` in the lenient
    /// profile, else the failure.
    #[cold]
    #[inline(never)]
    fn expect_slow(&mut self, c: u8, expected: &'static str) -> PResult<()> {
        if c == b')' && self.peek() == Some(b' ') && self.allows(Quirk::ExtraSpaces) {
            let n = self.rest().iter().take_while(|&&b| b == b' ').count();
            if self.peek_at(n) == Some(b')') {
                let at = self.pos;
                self.warn(Quirk::ExtraSpaces, at);
                self.pos += n + 1;
                return Ok(());
            }
        }
        Err(self.fail(expected))
    }

    /// Where `(` was expected: `NIL` read as the empty list in the lenient profile
    /// ([`Quirk::NilOrEmpty`]); else the failure stands.
    #[cold]
    #[inline(never)]
    pub(crate) fn nil_for_empty_list(&mut self, expected: &'static str) -> PResult<()> {
        let at = self.pos;
        if self.allows(Quirk::NilOrEmpty) && self.nil() {
            self.warn(Quirk::NilOrEmpty, at);
            return Ok(());
        }
        Err(self.fail(expected))
    }

    /// The SP before a list that may be empty: `Ok(true)` when it was read (the list
    /// follows), `Ok(false)` when the lenient profile finds the list absent altogether at the
    /// end of its response or item list (CRLF or `)` next): the empty list, with a
    /// [`Quirk::NilOrEmpty`] warning there.
    #[inline]
    pub(crate) fn sp_before_list(&mut self) -> PResult<bool> {
        if self.peek() == Some(b' ') && self.peek_at(1) == Some(b'(') {
            self.pos += 1;
            return Ok(true);
        }
        self.sp_before_list_slow()
    }

    #[cold]
    #[inline(never)]
    fn sp_before_list_slow(&mut self) -> PResult<bool> {
        let at = self.pos;
        let n = self.rest().iter().take_while(|&&c| c == b' ').count();
        if matches!(self.peek_at(n), Some(b'\r' | b'\n' | b')'))
            && self.tolerate(Quirk::NilOrEmpty, at)
        {
            self.pos += n;
            return Ok(false);
        }
        self.sp().map(|()| true)
    }

    /// The `(` of a list that may be empty: `Ok(true)` when it was read (the items and `)`
    /// follow), `Ok(false)` when the lenient profile read `NIL` as the empty list instead
    /// ([`Quirk::NilOrEmpty`]).
    #[inline]
    pub(crate) fn open_list(&mut self, expected: &'static str) -> PResult<bool> {
        if self.eat_open() {
            return Ok(true);
        }
        self.nil_for_empty_list(expected).map(|()| false)
    }

    /// `NIL`, or in the lenient profile `""` (followed by a delimiter) standing for it where
    /// NIL or a list may come ([`Quirk::NilOrEmpty`]).
    #[inline]
    pub(crate) fn nil_or_empty_string(&mut self) -> bool {
        if self.nil() {
            return true;
        }
        if self.peek() == Some(b'"')
            && self.peek_at(1) == Some(b'"')
            && matches!(self.peek_at(2), None | Some(b' ' | b')' | b'\r' | b'\n'))
        {
            let at = self.pos;
            if self.tolerate(Quirk::NilOrEmpty, at) {
                self.pos += 2;
                return true;
            }
        }
        false
    }

    /// `NIL` where it stands for an absent scalar (a number, a date, an object id), or in the
    /// lenient profile `""` or `()` standing for it ([`Quirk::NilOrEmpty`]).
    #[inline]
    pub(crate) fn nil_scalar(&mut self) -> bool {
        self.nil_or_empty_string() || self.empty_list_for_nil()
    }

    /// `()` standing for NIL where a list is not allowed (lenient, [`Quirk::NilOrEmpty`]).
    #[inline]
    pub(crate) fn empty_list_for_nil(&mut self) -> bool {
        if self.peek() == Some(b'(') && self.peek_at(1) == Some(b')') {
            let at = self.pos;
            if self.tolerate(Quirk::NilOrEmpty, at) {
                self.pos += 2;
                return true;
            }
        }
        false
    }

    /// The offset of the furthest failure recorded so far (where a lenient fallback says the
    /// defect is).
    pub(crate) fn furthest_failure(&self) -> usize {
        self.err_pos
    }

    /// Whether the input at the cursor starts with `lit` (ASCII case-insensitive).
    #[inline]
    pub(crate) fn looking_at_ci(&self, lit: &[u8]) -> bool {
        let r = self.rest();
        // The first byte decides most mismatches (keyword dispatch chains) cheaply.
        match (r.first(), lit.first()) {
            (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b) => return false,
            _ => {}
        }
        r.len() >= lit.len() && r[..lit.len()].eq_ignore_ascii_case(lit)
    }

    /// Consumes `lit` (case-insensitive) if it is next, without a word-boundary check.
    #[inline]
    pub(crate) fn eat_ci(&mut self, lit: &[u8]) -> bool {
        if self.looking_at_ci(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    /// Consumes the keyword `kw` (case-insensitive) if it is next and is not followed by
    /// another atom character (so `UID` does not match `UIDNEXT`).
    #[inline]
    pub(crate) fn keyword(&mut self, kw: &[u8]) -> bool {
        let r = self.rest();
        let Some(head) = r.get(..kw.len()) else {
            return false;
        };
        // One pass, byte by byte (no memcmp call for these few bytes): equal, or equal
        // ignoring ASCII case. The first byte rejects most misses (keyword dispatch chains).
        let same = head
            .iter()
            .zip(kw)
            .all(|(a, b)| a == b || a.eq_ignore_ascii_case(b));
        if same {
            match r.get(kw.len()) {
                Some(&c) if class::is_atom_char(c) && c != b'[' && c != b'<' && c != b'.' => false,
                _ => {
                    self.pos += kw.len();
                    true
                }
            }
        } else {
            false
        }
    }

    /// Like [`keyword`](Self::keyword) but fails with `expected`.
    pub(crate) fn expect_keyword(&mut self, kw: &[u8], expected: &'static str) -> PResult<()> {
        if self.keyword(kw) {
            Ok(())
        } else {
            Err(self.fail(expected))
        }
    }

    /// Runs `f`; on failure restores the position and returns `None`.
    #[inline]
    pub(crate) fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> Option<T> {
        let save = self.pos;
        let wlen = self.warnings.len();
        match f(self) {
            Ok(v) => Some(v),
            Err(Fail) => {
                self.pos = save;
                self.warnings.truncate(wlen);
                None
            }
        }
    }

    /// Enters one level of nesting (parenthesised list); fails past the configured depth.
    #[inline]
    pub(crate) fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > self.opts.max_depth {
            return Err(self.fail("nesting within the depth limit"));
        }
        Ok(())
    }

    /// Leaves one level of nesting.
    #[inline]
    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// The byte before the current position (`None` at the start).
    #[inline]
    pub(crate) fn prev(&self) -> Option<u8> {
        self.pos.checked_sub(1).and_then(|i| self.b.get(i)).copied()
    }

    /// Checks a list item count against the configured bound.
    #[inline]
    pub(crate) fn check_items(&mut self, n: usize) -> PResult<()> {
        if n > self.opts.max_list_items {
            return Err(self.fail("list within the item-count limit"));
        }
        Ok(())
    }

    // ----- separators -----

    /// `SP`. The lenient profile also accepts several spaces, and a missing SP where the
    /// token boundary cannot be mistaken: after a list's `)`, or between an atom and a `(`.
    #[inline]
    pub(crate) fn sp(&mut self) -> PResult<()> {
        if self.eat(b' ') {
            if self.peek() == Some(b' ') {
                let at = self.pos;
                if self.tolerate(Quirk::ExtraSpaces, at) {
                    while self.eat(b' ') {}
                }
            }
            Ok(())
        } else {
            self.sp_missing()
        }
    }

    /// [`sp`](Self::sp) without a space: tolerated (lenient) after `)` when an atom, `\`, `"`
    /// or `(` follows, and before `(` after an atom character; a failure otherwise.
    #[cold]
    #[inline(never)]
    fn sp_missing(&mut self) -> PResult<()> {
        let boundary = match (self.prev(), self.peek()) {
            (Some(b')'), Some(n)) => class::is_atom_char(n) || matches!(n, b'\\' | b'"' | b'('),
            (Some(p), Some(b'(')) => class::is_atom_char(p) || p == b'"',
            _ => false,
        };
        if boundary {
            let at = self.pos;
            if self.tolerate(Quirk::ExtraSpaces, at) {
                return Ok(());
            }
        }
        Err(self.fail("SP"))
    }

    /// Skips spaces before a closing `)` or line end when the lenient profile allows it.
    ///
    /// A `]` after the spaces is never taken for a closer here: inside a parenthesised list
    /// a `]` starts the next element (an astring such as a header field name or a label,
    /// `( ] x)`, or, leniently, a flag), since a code or a section cannot close before its
    /// lists do. Where a `]` does close (the end of a response code), the caller uses
    /// [`skip_sp_before_bracket`](Self::skip_sp_before_bracket).
    #[inline]
    pub(crate) fn skip_trailing_sp(&mut self) {
        // Fast exit for the usual cases: no space, or one space before the next item.
        match self.b.get(self.pos..self.pos + 2) {
            Some([b' ', c]) if !matches!(c, b' ' | b')' | b'\r' | b'\n') => return,
            Some([c, _]) if *c != b' ' => return,
            _ => {}
        }
        self.skip_trailing_sp_slow(false);
    }

    /// [`skip_trailing_sp`](Self::skip_trailing_sp) where a `]` may close what is being read
    /// (a response code's arguments): spaces are skipped before a `]` that a token cannot go
    /// on after (`[UIDNEXT 5 ] text`; not `]+x`).
    #[inline]
    pub(crate) fn skip_sp_before_bracket(&mut self) {
        if self.peek() == Some(b' ') {
            self.skip_trailing_sp_slow(true);
        }
    }

    #[cold]
    fn skip_trailing_sp_slow(&mut self, bracket_closes: bool) {
        if self.peek() == Some(b' ') {
            let save = self.pos;
            let mut p = self.pos;
            while self.b.get(p) == Some(&b' ') {
                p += 1;
            }
            // a `]` closes a code only where a token cannot go on after it (else it starts
            // an element: an astring or atom such as `]+x`)
            let closer = match self.b.get(p) {
                Some(b')') | Some(b'\r') | Some(b'\n') | None => true,
                Some(b']') => {
                    bracket_closes
                        && matches!(
                            self.b.get(p + 1),
                            None | Some(b' ' | b'\r' | b'\n' | b'<' | b')')
                        )
                }
                _ => false,
            };
            if closer && self.tolerate(Quirk::ExtraSpaces, save) {
                self.pos = p;
            }
        }
    }

    /// `CRLF` at the end of a message; the message must end there. The usual case, the
    /// last two bytes are the CRLF, in one compare; anything else in
    /// [`crlf_end_general`](Self::crlf_end_general) (test `crlf_end_matches_general_path`).
    #[inline]
    pub(crate) fn crlf_end(&mut self) -> PResult<()> {
        if self.b.get(self.pos..) == Some(&b"\r\n"[..]) {
            self.pos += 2;
            return Ok(());
        }
        self.crlf_end_general()
    }

    /// [`crlf_end`](Self::crlf_end) without its usual-case compare.
    #[inline(never)]
    fn crlf_end_general(&mut self) -> PResult<()> {
        self.skip_trailing_sp();
        if self.eat(b'\r') {
            self.expect(b'\n', "LF")?;
        } else if self.peek() == Some(b'\n') {
            let at = self.pos;
            if !self.tolerate(Quirk::BareLf, at) {
                return Err(self.fail("CRLF"));
            }
            self.pos += 1;
        } else {
            return Err(self.fail("CRLF"));
        }
        if !self.at_end() {
            return Err(self.fail("end of message after CRLF"));
        }
        Ok(())
    }

    /// Whether the cursor is at the final CRLF (or bare LF).
    #[inline]
    pub(crate) fn at_crlf(&self) -> bool {
        matches!(self.peek(), Some(b'\r') | Some(b'\n') | None)
    }

    // ----- numbers -----

    /// Digits as u64 without overflow; `None` if no digit or overflow (the cursor then
    /// stays put).
    #[inline]
    pub(crate) fn digits(&mut self) -> Option<u64> {
        const POW10: [u64; 9] = [
            1,
            10,
            100,
            1_000,
            10_000,
            100_000,
            1_000_000,
            10_000_000,
            100_000_000,
        ];
        let start = self.pos;
        let rest = self.rest();
        let mut v: u64 = 0;
        let mut n = 0;
        // Eight bytes at a time (SWAR) for the first 16 digits: 16 digits never overflow.
        while n < 16 {
            let Some(chunk) = rest.get(n..n + 8) else {
                break;
            };
            let mut a = [0u8; 8];
            a.copy_from_slice(chunk);
            let (x, k) = digit_run8(a); // k: 8 when all are digits
            if k > 0 {
                v = v * POW10[k] + swar_digits(x << (8 * (8 - k)));
                n += k;
            }
            if k < 8 {
                self.pos = start + n;
                return (n > 0).then_some(v);
            }
        }
        // The tail: fewer than eight bytes left, or a number of more than 16 digits.
        while let Some(&c) = rest.get(n) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = if n < 19 {
                v * 10 + d as u64
            } else {
                v.checked_mul(10)?.checked_add(d as u64)?
            };
            n += 1;
        }
        self.pos = start + n;
        if n == 0 { None } else { Some(v) }
    }

    /// The usual `number` of a body structure (`body-fld-octets`, `body-fld-lines`) in one
    /// step: one to seven digits followed by SP or `)`, read from one eight-byte word (with
    /// what follows them, [`number`](Self::number) and [`number64`](Self::number64) give
    /// this value there in either profile). Anything else (`None`, nothing consumed) is left
    /// to them: pinned by `quick_number_matches_general`.
    #[inline(always)]
    pub(crate) fn quick_number(&mut self) -> Option<u64> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.rest().get(..8)?);
        let (x, k) = digit_run8(a);
        if k == 0 || k == 8 || !matches!(a[k], b' ' | b')') {
            return None;
        }
        self.pos += k;
        Some(swar_digits(x << (8 * (8 - k))))
    }

    /// `number`: 32-bit unsigned. Always inlined: out of line it costs FETCH responses about
    /// 2% of their instructions (callgrind fetch-flags), and LLVM's choice flips with
    /// unrelated changes elsewhere.
    #[inline(always)]
    pub(crate) fn number(&mut self) -> PResult<u32> {
        let start = self.pos;
        match self.digits() {
            Some(v) if v <= u32::MAX as u64 && !self.odd_number_follows() => Ok(v as u32),
            _ => {
                self.pos = start;
                if let Some(v) = self.lenient_number(start) {
                    return Ok(v.min(u32::MAX as u64) as u32);
                }
                Err(self.fail_at(start, "number"))
            }
        }
    }

    /// `nz-number`: 32-bit unsigned, not zero. The lenient profile maps 0 to 1? No: it keeps
    /// the call site's decision; this returns the raw value and callers decide.
    #[cfg(test)]
    pub(crate) fn nz_number(&mut self) -> PResult<u32> {
        let start = self.pos;
        let v = self.number()?;
        if v == 0 {
            self.pos = start;
            return Err(self.fail("nz-number"));
        }
        Ok(v)
    }

    /// `number64`: 63-bit unsigned.
    #[inline]
    pub(crate) fn number64(&mut self) -> PResult<u64> {
        let start = self.pos;
        match self.digits() {
            Some(v) if v <= i64::MAX as u64 && !self.odd_number_follows() => Ok(v),
            _ => {
                self.pos = start;
                if let Some(v) = self.lenient_number(start) {
                    return Ok(v.min(i64::MAX as u64));
                }
                Err(self.fail_at(start, "number64"))
            }
        }
    }

    /// `nz-number64`.
    pub(crate) fn nz_number64(&mut self) -> PResult<u64> {
        let start = self.pos;
        let v = self.number64()?;
        if v == 0 {
            self.pos = start;
            return Err(self.fail("nz-number64"));
        }
        Ok(v)
    }

    /// Whether a decimal point or exponent follows the digits just read (lenient only).
    #[inline]
    fn odd_number_follows(&self) -> bool {
        matches!(self.peek(), Some(b'.' | b'e' | b'E')) && self.allows(Quirk::BadNumbers)
    }

    /// Lenient numbers: negative (→ 0), exponent/decimal notation (→ rounded), overflow
    /// (→ saturated). Only in the lenient profile, with a warning.
    #[cold]
    fn lenient_number(&mut self, start: usize) -> Option<u64> {
        if !self.allows(Quirk::BadNumbers) {
            return None;
        }
        let b = self.b;
        let mut p = start;
        let neg = b.get(p) == Some(&b'-');
        if neg || b.get(p) == Some(&b'+') {
            p += 1;
        }
        let ds = p;
        while p < b.len() && (b[p].is_ascii_digit() || matches!(b[p], b'.' | b'e' | b'E' | b'+')) {
            // a '+' is only part of the number right after an exponent marker
            if b[p] == b'+' && !(p > ds && matches!(b[p - 1], b'e' | b'E')) {
                break;
            }
            p += 1;
        }
        if p == ds || !b[ds].is_ascii_digit() {
            return None;
        }
        // must end at a delimiter
        if let Some(&c) = b.get(p) {
            if class::is_atom_char(c) {
                return None;
            }
        }
        let text = std::str::from_utf8(&b[ds..p]).ok()?;
        let v = if neg {
            0
        } else if let Ok(v) = text.parse::<u64>() {
            v
        } else {
            let f: f64 = text.parse().ok()?;
            if !f.is_finite() || f < 0.0 {
                0
            } else if f >= u64::MAX as f64 {
                u64::MAX
            } else {
                f.round() as u64
            }
        };
        self.warn(Quirk::BadNumbers, start);
        self.pos = p;
        Some(v)
    }

    // ----- atoms and strings -----

    /// `atom`: 1*ATOM-CHAR, returned as a slice.
    #[inline]
    pub(crate) fn atom(&mut self) -> PResult<Bytes> {
        let start = self.pos;
        let b = self.b;
        let mut p = start;
        while p < b.len() && class::is_atom_char(b[p]) {
            p += 1;
        }
        if p == start {
            return Err(self.fail("atom"));
        }
        self.pos = p;
        Ok(self.slice(start, p))
    }

    /// A run of bytes matching `pred` (possibly empty), as a slice.
    #[inline]
    pub(crate) fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> Bytes {
        let start = self.pos;
        let b = self.b;
        let mut p = start;
        while p < b.len() && pred(b[p]) {
            p += 1;
        }
        self.pos = p;
        self.slice(start, p)
    }

    /// `quoted`: returns the unescaped content (a slice when there is no escape).
    #[inline(always)]
    pub(crate) fn quoted(&mut self) -> PResult<Bytes> {
        self.quoted_known(|_| None)
    }

    /// [`quoted`](Self::quoted) for a string that is often one of a few known words: when the
    /// content is plain (the fast path) and `known` gives it back as a `'static` slice (byte
    /// for byte the same), the value is that static slice, which holds no reference to the
    /// message (no reference count touched when it is made nor when it is dropped). Anything
    /// else is exactly what `quoted` returns.
    #[inline(always)]
    pub(crate) fn quoted_known(
        &mut self,
        known: impl FnOnce(&[u8]) -> Option<&'static [u8]>,
    ) -> PResult<Bytes> {
        self.expect(b'"', "DQUOTE")?;
        let start = self.pos;
        let b = self.b;
        let p = start + quoted_run(&b[start..]);
        // The usual case: plain 7-bit text up to the closing quote (in both profiles).
        if b.get(p) == Some(&b'"') && self.quote_closes(p) {
            self.pos = p + 1;
            if let Some(w) = known(&b[start..p]) {
                return Ok(Bytes::from_static(w));
            }
            return Ok(self.slice(start, p));
        }
        self.quoted_slow(start, p)
    }

    /// Whether the DQUOTE at `p` ends the quoted string it is in: always, except that the
    /// lenient profile ([`Quirk::UnescapedQuotes`]) reads one followed by a byte that cannot
    /// follow a string as part of the content (what [`quoted_slow`](Self::quoted_slow)
    /// decides there). So a plain string followed by a space, `)` or the line's end takes
    /// the fast path in the lenient profile too (the client's).
    #[inline(always)]
    fn quote_closes(&self, p: usize) -> bool {
        !self.allows(Quirk::UnescapedQuotes)
            || self.b.get(p + 1).is_none_or(|&n| may_follow_quoted(n))
    }

    /// The rest of [`quoted`](Self::quoted) from `first`, the first byte its fast scan stopped at:
    /// escapes, control and 8-bit bytes, errors, the lenient unescaped quote.
    #[inline(never)]
    fn quoted_slow(&mut self, start: usize, first: usize) -> PResult<Bytes> {
        if let Some(v) = self.quoted_escaped(start, first) {
            return Ok(v);
        }
        self.quoted_general(start, first)
    }

    /// The usual escaped string, from `first` (a byte [`quoted_run`] stopped at): up to
    /// eight `\\` and `\"` escapes between runs of plain bytes, and a DQUOTE that closes it.
    /// The scan notes where the escapes are, so the value is copied run by run (each run
    /// starts with the byte an escape kept) into the thread's block ([`NAMES`], split off
    /// it) or, over [`NAMES_MAX`] bytes, one exactly sized buffer. Anything else
    /// (`None`, nothing consumed) is left to [`quoted_general`](Self::quoted_general), which
    /// gives the same value for these (test `quoted_escaped_matches_general_path`).
    #[inline(always)]
    fn quoted_escaped(&mut self, start: usize, first: usize) -> Option<Bytes> {
        let b = self.b;
        let mut esc = [0usize; 8];
        let mut n = 0;
        let mut p = first;
        loop {
            match b.get(p) {
                Some(b'\\') if n < esc.len() && matches!(b.get(p + 1), Some(b'\\' | b'"')) => {
                    esc[n] = p;
                    n += 1;
                    p += 2;
                    p += quoted_run(&b[p..]);
                }
                Some(b'"') if n > 0 && self.quote_closes(p) => break,
                _ => return None,
            }
        }
        self.pos = p + 1;
        let len = p - start - n;
        let runs = |out: &mut BytesMut| {
            let mut from = start;
            for &e in &esc[..n] {
                out.extend_from_slice(&b[from..e]);
                from = e + 1;
            }
            out.extend_from_slice(&b[from..p]);
        };
        if len > NAMES_MAX {
            let mut out = BytesMut::with_capacity(len);
            runs(&mut out);
            return Some(out.freeze());
        }
        Some(
            NAMES
                .try_with(|names| {
                    let mut names = names.try_borrow_mut().ok()?;
                    if names.capacity() == 0 {
                        *names = BytesMut::with_capacity(NAMES_BLOCK);
                    }
                    // (`split` leaves it empty) room in its block, the block reclaimed
                    // when no value holds it any more, or a new one
                    names.reserve(len);
                    // (the runs copied inline: as the closure's call, ~30 instructions)
                    let mut from = start;
                    for &e in &esc[..n] {
                        names.extend_from_slice(&b[from..e]);
                        from = e + 1;
                    }
                    names.extend_from_slice(&b[from..p]);
                    Some(names.split().freeze())
                })
                .ok()
                .flatten()
                .unwrap_or_else(|| {
                    let mut out = BytesMut::with_capacity(len);
                    runs(&mut out);
                    out.freeze()
                }),
        )
    }

    /// [`quoted_slow`](Self::quoted_slow) without its usual-case path: every form.
    #[inline(never)]
    fn quoted_general(&mut self, start: usize, first: usize) -> PResult<Bytes> {
        let QuotedScan {
            end: p,
            escapes,
            nul,
            removed,
        } = self.quoted_scan(first)?;
        let b = self.b;
        if nul {
            return Ok(Bytes::from(unescape_dropping_nul(&b[start..p], escapes)));
        }
        if !escapes {
            return Ok(self.slice(start, p));
        }
        // Exactly sized, so `Bytes::from` adopts the buffer without a second allocation.
        // The plain run before `first` (where the fast scan stopped) is copied whole; then
        // each backslash is dropped and the byte after it kept (a lenient unescaped quote is
        // copied as it is). A short rest goes byte by byte (a `memchr` call per backslash
        // cost more than that on LIST names such as `back\\slash`), a long one run by run.
        let mut out = Vec::with_capacity(p - start - removed);
        out.extend_from_slice(&b[start..first]);
        let mut rest = &b[first..p];
        if rest.len() > 32 {
            while let Some(k) = memchr::memchr(b'\\', rest) {
                out.extend_from_slice(&rest[..k]);
                match rest.get(k + 1) {
                    Some(&e) => {
                        out.push(e);
                        rest = &rest[k + 2..];
                    }
                    None => {
                        out.push(b'\\');
                        rest = &[];
                    }
                }
            }
            out.extend_from_slice(rest);
        } else {
            while let [c, tail @ ..] = rest {
                match (c, tail) {
                    (b'\\', [e, after @ ..]) => {
                        out.push(*e);
                        rest = after;
                    }
                    _ => {
                        out.push(*c);
                        rest = tail;
                    }
                }
            }
        }
        debug_assert_eq!(out.len(), out.capacity());
        Ok(Bytes::from(out))
    }

    /// [`quoted_slow`](Self::quoted_slow) for the `*_at` readers: where the value is, without
    /// copying an escaped one ([`StrAt::Escaped`]).
    #[inline(never)]
    fn quoted_at_slow(&mut self, start: usize, p: usize) -> PResult<StrAt> {
        let s = self.quoted_scan(p)?;
        if s.nul {
            let v = unescape_dropping_nul(&self.b[start..s.end], s.escapes);
            return Ok(StrAt::Owned(Bytes::from(v)));
        }
        if s.removed == 0 {
            // no backslash: the value is the raw content (a lenient unescaped quote included)
            return Ok(StrAt::In(start, s.end));
        }
        Ok(StrAt::Escaped(start, s.end))
    }

    /// The scan of a quoted string from `p`, the first byte its fast scan stopped at, to the
    /// closing DQUOTE (the position is left after it): escapes, control and 8-bit bytes,
    /// errors, the lenient unescaped quote.
    #[inline(always)]
    fn quoted_scan(&mut self, mut p: usize) -> PResult<QuotedScan> {
        let b = self.b;
        let mut escapes = false;
        let mut nul = false;
        // bytes the unescaped value is shorter than the raw one
        let mut removed = 0;
        loop {
            match b.get(p) {
                None => return Err(self.fail_at(p, "closing DQUOTE")),
                Some(b'"') => {
                    // lenient: an unescaped quote inside the string ("""") when the byte
                    // after it cannot follow a string
                    if self.allows(Quirk::UnescapedQuotes) {
                        if let Some(&n) = b.get(p + 1) {
                            if !may_follow_quoted(n) {
                                self.warn(Quirk::UnescapedQuotes, p);
                                escapes = true;
                                p += 1;
                                p += quoted_run(&b[p..]);
                                continue;
                            }
                        }
                    }
                    break;
                }
                Some(b'\\') => {
                    match b.get(p + 1) {
                        Some(b'"') | Some(b'\\') => {}
                        // Not even the lenient profile takes these as escaped bytes: the
                        // string would hold NUL, CR or LF, which no string can encode.
                        Some(0 | b'\r' | b'\n') | None => {
                            return Err(self.fail_at(p + 1, "quoted-specials after \\"));
                        }
                        _ => {
                            if !self.tolerate(Quirk::BadEscapes, p) {
                                return Err(self.fail_at(p + 1, "quoted-specials after \\"));
                            }
                        }
                    }
                    escapes = true;
                    removed += 1;
                    p += 2;
                }
                Some(b'\r') | Some(b'\n') => {
                    return Err(self.fail_at(p, "closing DQUOTE"));
                }
                Some(&c) => {
                    if c == 0 {
                        // lenient: NUL is dropped (no string can hold it)
                        if !self.tolerate(Quirk::EightBit, p) {
                            return Err(self.fail_at(p, "QUOTED-CHAR"));
                        }
                        nul = true;
                    }
                    if c >= 0x80 && !self.opts.utf8 && !self.tolerate(Quirk::EightBit, p) {
                        return Err(self.fail_at(p, "7-bit QUOTED-CHAR"));
                    }
                    p += 1;
                }
            }
            p += quoted_run(&b[p..]);
        }
        self.pos = p + 1;
        Ok(QuotedScan {
            end: p,
            escapes,
            nul,
            removed,
        })
    }

    /// `literal` / `literal8`: `{n}` or `{n+}` (or `~{n}` when `allow8`), CRLF, n bytes.
    /// Returns the payload slice and whether it was a literal8.
    pub(crate) fn literal_any(&mut self, allow8: bool) -> PResult<(Bytes, bool)> {
        let (is8, n) = self.literal_announcement(allow8)?;
        let dstart = self.pos;
        let avail = (self.b.len() - dstart) as u64;
        if n > avail {
            return Err(self.fail_at(self.b.len(), "literal data"));
        }
        let end = dstart + n as usize;
        if !is8 && has_nul(&self.b[dstart..end]) {
            // NUL is not allowed in a plain literal (CHAR8); the lenient profile drops it, so
            // the value stays encodable.
            let at = dstart;
            if !self.tolerate(Quirk::EightBit, at) {
                return Err(self.fail_at(at, "CHAR8 (no NUL) in literal"));
            }
            let cleaned: Vec<u8> = self.b[dstart..end]
                .iter()
                .copied()
                .filter(|&c| c != 0)
                .collect();
            self.pos = end;
            return Ok((Bytes::from(cleaned), is8));
        }
        self.pos = end;
        Ok((self.slice(dstart, end), is8))
    }

    /// A literal's header and its CRLF (`{n}` or `{n+}`, or `~{n}` when `allow8`), read with
    /// [`crate::framer::literal_header`], the parser the framer uses too. Returns whether it
    /// is a literal8 and the length; the position is then at the literal data.
    #[inline]
    pub(crate) fn literal_announcement(&mut self, allow8: bool) -> PResult<(bool, u64)> {
        use crate::framer::{HeaderError, literal_header};
        let start = self.pos;
        let h = match literal_header(self.rest()) {
            Ok((h, len)) if !h.binary || allow8 => {
                self.pos += len;
                h
            }
            Ok(_) => return Err(self.fail("literal")),
            Err(HeaderError::Invalid { at, expected }) => {
                return Err(self.fail_at(start + at, expected));
            }
            Err(HeaderError::Overflow { at }) => {
                return Err(
                    self.fail_at(start + at, "literal length (at most 20 digits, below 2^64)")
                );
            }
        };
        if !self.eat(b'\r') {
            let at = self.pos;
            if !(self.peek() == Some(b'\n') && self.tolerate(Quirk::BareLf, at)) {
                return Err(self.fail("CRLF after literal announcement"));
            }
        }
        self.expect(b'\n', "LF")?;
        Ok((h.binary, h.length))
    }

    /// `literal`.
    #[inline]
    pub(crate) fn literal(&mut self) -> PResult<Bytes> {
        self.literal_any(false).map(|(b, _)| b)
    }

    /// `string` = quoted / literal. The lenient profile reads `NIL` and `()` there as the
    /// empty string ([`Quirk::NilOrEmpty`]).
    #[inline]
    pub(crate) fn string(&mut self) -> PResult<Bytes> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal(),
            _ => self.string_slow(),
        }
    }

    #[cold]
    #[inline(never)]
    fn string_slow(&mut self) -> PResult<Bytes> {
        let at = self.pos;
        if self.allows(Quirk::NilOrEmpty) && (self.nil() || self.eat_ci(b"()")) {
            self.warn(Quirk::NilOrEmpty, at);
            return Ok(Bytes::new());
        }
        Err(self.fail("string"))
    }

    /// `astring` = 1*ASTRING-CHAR / string.
    #[inline]
    pub(crate) fn astring(&mut self) -> PResult<Bytes> {
        self.astring_inline()
    }

    /// [`astring`](Self::astring), always inlined: for the one caller where a name is most of
    /// the message (a LIST response's mailbox), which then saves the call and the move of
    /// the result.
    #[inline(always)]
    pub(crate) fn astring_inline(&mut self) -> PResult<Bytes> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => self.literal(),
            _ => {
                let start = self.pos;
                let end = start + astring_run(&self.b[start..]);
                if end == start {
                    self.astring_slow()
                } else {
                    self.pos = end;
                    Ok(self.slice(start, end))
                }
            }
        }
    }

    /// `()` for the empty string where an astring is required (lenient,
    /// [`Quirk::NilOrEmpty`]; `NIL` there is the atom NIL).
    #[cold]
    #[inline(never)]
    fn astring_slow(&mut self) -> PResult<Bytes> {
        if self.empty_list_for_nil() {
            return Ok(Bytes::new());
        }
        Err(self.fail("astring"))
    }

    /// `nil`.
    #[inline]
    pub(crate) fn nil(&mut self) -> bool {
        self.keyword(b"NIL")
    }

    /// `NIL` in upper case followed by a byte that ends it (what [`nil`](Self::nil) takes,
    /// tested in one 4-byte load): consumed, `true`. `false` leaves everything else, including
    /// `NIL` in other cases and at the very end of the input, to `nil`.
    #[inline(always)]
    pub(crate) fn nil_upper(&mut self) -> bool {
        let r = self.rest();
        if let Some(w) = r.get(..4) {
            let mut a = [0u8; 4];
            a.copy_from_slice(w);
            let w = u32::from_le_bytes(a);
            let c = a[3];
            if w & 0x00ff_ffff == u32::from_le_bytes(*b"NIL\0")
                && !(class::is_atom_char(c) && c != b'[' && c != b'<' && c != b'.')
            {
                self.pos += 3;
                return true;
            }
        }
        false
    }

    /// The usual `nstring` of an envelope or a body structure, read in one step and given as
    /// its [`Span`] relative to `base` (the start of the value being parsed): an upper-case
    /// `NIL`, or a quoted string of plain bytes ([`quoted_run`]), either followed by SP or
    /// `)`. With `sp`, one SP before it is taken too (the byte after that SP being `N` or a
    /// DQUOTE, this is what [`sp`](Self::sp) takes in either profile). The span's end must
    /// be below `limit` bytes from `base` (at most `u32::MAX`, NIL's length). Anything else
    /// is `None` with nothing consumed, for the general readers
    /// ([`nstring_at`](Self::nstring_at), [`string_at`](Self::string_at)), which give the
    /// same value for every input this takes (test `quick_nstring_matches_general`). `NIL` is
    /// not taken when `string_only` (a `string`).
    #[inline(always)]
    pub(crate) fn quick_string(
        &mut self,
        base: usize,
        limit: usize,
        sp: bool,
        string_only: bool,
    ) -> Option<Span> {
        let b = self.b;
        let at = self.pos + usize::from(sp);
        if sp && b.get(self.pos) != Some(&b' ') {
            return None;
        }
        match b.get(at..at + 4) {
            Some([b'N', b'I', b'L', b' ' | b')']) if !string_only => {
                self.pos = at + 3;
                return Some(Span::NIL);
            }
            Some([b'"', ..]) => {}
            _ => return None,
        }
        let start = at + 1;
        let end = start + quoted_run(&b[start..]);
        if b.get(end) != Some(&b'"')
            || !matches!(b.get(end + 1), Some(b' ' | b')'))
            || end - base >= limit
        {
            return None;
        }
        self.pos = end + 1;
        Some(Span {
            off: (start - base) as u32,
            len: (end - start) as u32,
        })
    }

    /// The usual `body-fld-enc` after its SP, `"BASE64"` and `"QUOTED-PRINTABLE"` in any case
    /// and followed by SP, told in one or two eight-byte words (the letters' case bit set)
    /// rather than scanned: the span is what [`quick_string`](Self::quick_string) gives there
    /// (relative to `base`, its end below `limit`), and the cursor is after the closing
    /// DQUOTE. Anything else is `None`
    /// with nothing consumed. Pinned by `quick_encoding_matches_quick_string`.
    #[inline(always)]
    pub(crate) fn quick_encoding(&mut self, base: usize, limit: usize) -> Option<Span> {
        const fn case(b: &[u8; 8]) -> u64 {
            u64::from_le_bytes(*b)
        }
        let at = self.pos;
        let w: &[u8; 20] = self.b.get(at..)?.first_chunk()?;
        let (x, y) = (
            u64::from_le_bytes(w[1..9].try_into().ok()?),
            u64::from_le_bytes(w[9..17].try_into().ok()?),
        );
        let len = if w[0] != b' ' {
            return None;
        } else if x | case(b"\0    \0\0\0") == case(b"\"base64\"") && w[9] == b' ' {
            6
        } else if x | case(b"\0      \0") == case(b"\"quoted-")
            && y | case(b"        ") == case(b"printabl")
            && w[17] | 0x20 == b'e'
            && w[18] == b'"'
            && w[19] == b' '
        {
            16
        } else {
            return None;
        };
        let start = at + 2;
        if start + len - base >= limit {
            return None;
        }
        self.pos = start + len + 1;
        Some(Span {
            off: (start - base) as u32,
            len: len as u32,
        })
    }

    /// `nstring` = string / nil. An upper-case `NIL`, the usual one, is taken right here
    /// (inlined at every caller); everything else, `NIL` included, in
    /// [`nstring_general`](Self::nstring_general).
    #[inline(always)]
    pub(crate) fn nstring(&mut self) -> PResult<Option<Bytes>> {
        if self.nil_upper() {
            return Ok(None);
        }
        self.nstring_general()
    }

    /// [`nstring`](Self::nstring) without its inlined `NIL` test.
    #[inline(never)]
    pub(crate) fn nstring_general(&mut self) -> PResult<Option<Bytes>> {
        match self.peek() {
            Some(b'"') => self.quoted().map(Some),
            Some(b'{') => self.literal().map(Some),
            Some(b'n') | Some(b'N') if self.nil() => Ok(None),
            _ => self.nstring_slow(),
        }
    }

    /// [`nstring`](Self::nstring), giving where the content is rather than a [`Bytes`] of it:
    /// no reference to the message is taken for NIL nor for a string whose content is a run
    /// of the message as it stands (a quoted string without escapes, a literal without NUL).
    /// The value is always what `nstring` gives (pinned by the test
    /// `nstring_at_matches_nstring`).
    #[inline(always)]
    pub(crate) fn nstring_at(&mut self) -> PResult<StrAt> {
        if self.nil_upper() {
            return Ok(StrAt::Nil);
        }
        let b = self.b;
        if b.get(self.pos) != Some(&b'"') {
            return self.nstring_at_general();
        }
        let start = self.pos + 1;
        let p = start + quoted_run(&b[start..]);
        // The usual case: plain 7-bit text up to the closing quote (as in `quoted_known`).
        if b.get(p) == Some(&b'"') && self.quote_closes(p) {
            self.pos = p + 1;
            return Ok(StrAt::In(start, p));
        }
        self.pos = start;
        self.quoted_at_slow(start, p)
    }

    /// [`nstring_at`](Self::nstring_at) for everything but NIL and a quoted string.
    #[inline(never)]
    fn nstring_at_general(&mut self) -> PResult<StrAt> {
        Ok(match self.nstring_general()? {
            None => StrAt::Nil,
            Some(v) => self.str_at(v),
        })
    }

    /// `string`, giving where the content is (as [`nstring_at`](Self::nstring_at) does):
    /// the value is always what [`string`](Self::string) gives (pinned by the test
    /// `string_at_matches_string`), lenient `NIL`/`()` for the empty string included.
    #[inline(always)]
    pub(crate) fn string_at(&mut self) -> PResult<StrAt> {
        let b = self.b;
        if b.get(self.pos) != Some(&b'"') {
            return self.string_at_general();
        }
        let start = self.pos + 1;
        let p = start + quoted_run(&b[start..]);
        // The usual case: plain 7-bit text up to the closing quote, as in `nstring_at`. Written
        // out again on purpose: sharing it through an `#[inline(always)]` helper taking the
        // fallback measured +1.6% on fetch-headers (callgrind.sh, 2026-12-06), +0.6% before.
        if b.get(p) == Some(&b'"') && self.quote_closes(p) {
            self.pos = p + 1;
            return Ok(StrAt::In(start, p));
        }
        self.pos = start;
        self.quoted_at_slow(start, p)
    }

    /// [`string_at`](Self::string_at) for everything but a quoted string.
    #[inline(never)]
    fn string_at_general(&mut self) -> PResult<StrAt> {
        let v = self.string()?;
        Ok(self.str_at(v))
    }

    /// Where `v` lies in the message, when it is a slice of it; else `v` itself.
    fn str_at(&self, v: Bytes) -> StrAt {
        // A value whose bytes lie inside the message's memory is those bytes of the message,
        // whatever made it; an unescaped copy is a separate allocation, never inside.
        let at = (v.as_ptr() as usize).wrapping_sub(self.b.as_ptr() as usize);
        if at <= self.b.len() && v.len() <= self.b.len() - at {
            StrAt::In(at, at + v.len())
        } else {
            StrAt::Owned(v)
        }
    }

    /// `()` for NIL in the lenient profile ([`Quirk::NilOrEmpty`]).
    #[cold]
    #[inline(never)]
    fn nstring_slow(&mut self) -> PResult<Option<Bytes>> {
        if self.empty_list_for_nil() {
            return Ok(None);
        }
        Err(self.fail("nstring"))
    }

    /// `text` = 1*TEXT-CHAR up to CR/LF (possibly empty; callers decide).
    pub(crate) fn text(&mut self) -> Bytes {
        let start = self.pos;
        let rest = self.rest();
        let n = memchr::memchr2(b'\r', b'\n', rest).unwrap_or(rest.len());
        self.pos = start + n;
        self.slice(start, start + n)
    }
}

/// Whether `s` holds a NUL (a literal's check for CHAR8): a short literal (a mailbox name, a
/// subject: up to 64 bytes) in 16-byte blocks, the last one overlapping the one before (a
/// vector compare each, where `memchr`'s set-up costs ~50 instructions), under 16 bytes byte
/// by byte, a longer one by `memchr`. The same answer as `memchr::memchr(0, s).is_some()`
/// (pinned by `has_nul_equals_memchr`).
#[inline]
fn has_nul(s: &[u8]) -> bool {
    const W: usize = 16;
    let nul = |b: &[u8; W]| b.iter().fold(false, |a, &c| a | (c == 0));
    match s.len() {
        0..W => s.iter().fold(false, |a, &c| a | (c == 0)),
        W..=64 => {
            let mut i = 0;
            while let Some(b) = s.get(i..).and_then(|r| r.first_chunk::<W>()) {
                if nul(b) {
                    return true;
                }
                i += W;
            }
            i < s.len() && s.last_chunk::<W>().is_some_and(nul)
        }
        _ => memchr::memchr(0, s).is_some(),
    }
}

#[cfg(test)]
mod tests {
    /// The literal's NUL check against `memchr`: every length up to 100 (byte by byte,
    /// blocks, the overlapping last block, `memchr`), no NUL or one at each place, with
    /// other bytes 1 and 0xFF around it.
    #[test]
    fn has_nul_equals_memchr() {
        for len in 0..=100usize {
            for fill in [1u8, 0xFF] {
                let mut v = vec![fill; len];
                assert!(!super::has_nul(&v), "{len}");
                for at in 0..len {
                    v[at] = 0;
                    assert_eq!(super::has_nul(&v), memchr::memchr(0, &v).is_some());
                    assert!(super::has_nul(&v), "{len} {at}");
                    v[at] = fill;
                }
            }
        }
    }

    use super::*;

    fn p(s: &'static [u8]) -> (Bytes, DecodeOptions) {
        (Bytes::from_static(s), DecodeOptions::strict())
    }

    /// The run-copying unescape gives what a byte-by-byte unescape of the raw content gives,
    /// escapes at the start, the end, side by side and between runs of any length.
    #[test]
    fn quoted_unescape_matches_bytewise() {
        fn bytewise(raw: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            let mut i = 0;
            while i < raw.len() {
                if raw[i] == b'\\' && i + 1 < raw.len() {
                    out.push(raw[i + 1]);
                    i += 2;
                } else {
                    out.push(raw[i]);
                    i += 1;
                }
            }
            out
        }
        // (up to 120 bytes after the first escape: the copy goes byte by byte up to 32 bytes
        // after it, run by run beyond)
        let parts: [&[u8]; 7] = [
            b"",
            b"a",
            b"back",
            b"0123456789abcdefghij",
            b"0123456789abcdefghij0123456789abcdefghij",
            b"\\\\",
            b"\\\"",
        ];
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for x in parts {
                for y in parts {
                    for z in parts {
                        let raw = [x, y, z].concat();
                        let msg = Bytes::from([&b"\""[..], &raw, b"\" x"].concat());
                        let mut ps = Parser::new(&msg, &o);
                        assert_eq!(&ps.quoted().unwrap()[..], &bytewise(&raw)[..], "{raw:?}");
                        assert_eq!(ps.pos, raw.len() + 2);
                        assert_eq!(in_place(&raw), bytewise(&raw), "{raw:?}");
                    }
                }
            }
            // lenient: an unescaped quote inside is kept as it is
            let msg = Bytes::from_static(b"\"a\"b\\\\c\" x");
            let mut ps = Parser::new(&msg, &o);
            let r = ps.quoted();
            if o.allows(Quirk::UnescapedQuotes) {
                assert_eq!(&r.unwrap()[..], b"a\"b\\c");
            }
        }
    }

    /// The value [`unescape_in_place`] leaves in a copy of `raw`.
    fn in_place(raw: &[u8]) -> Vec<u8> {
        let mut v = raw.to_vec();
        let n = unescape_in_place(&mut v);
        v.truncate(n);
        v
    }

    /// The inlined upper-case `NIL` of [`Parser::nstring`] reads what the general path reads
    /// (value and position), in both profiles, for `NIL` in any case, before every byte, and
    /// at the end of the input.
    #[test]
    fn nstring_nil_matches_general_path() {
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for head in [
            &b"NIL"[..],
            b"nil",
            b"Nil",
            b"NIl",
            b"NI",
            b"\"NIL\"",
            b"NILNIL",
        ] {
            inputs.push(head.to_vec());
            for c in 0..=255u8 {
                let mut v = head.to_vec();
                v.push(c);
                v.extend_from_slice(b" x");
                inputs.push(v);
            }
        }
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for i in &inputs {
                let msg = Bytes::copy_from_slice(i);
                let mut fast = Parser::new(&msg, &o);
                let mut general = Parser::new(&msg, &o);
                let a = fast.nstring();
                let b = general.nstring_general();
                assert_eq!(a, b, "{i:?}");
                assert_eq!(fast.pos, general.pos, "{i:?}");
            }
        }
        // the fast path is taken for the usual NIL
        let msg = Bytes::from_static(b"NIL)");
        let o = DecodeOptions::strict();
        let mut ps = Parser::new(&msg, &o);
        assert!(ps.nil_upper());
        assert_eq!(ps.pos, 3);
    }

    /// Two reads of the same input agree: value, where each parser stopped, its warnings,
    /// and on failure its error (`input` names the case).
    fn assert_same_read<T: PartialEq + std::fmt::Debug>(
        a: &PResult<T>,
        b: &PResult<T>,
        pa: &Parser<'_>,
        pb: &Parser<'_>,
        input: &dyn std::fmt::Debug,
    ) {
        assert_eq!(a, b, "{input:?}");
        assert_eq!(pa.pos, pb.pos, "{input:?}");
        assert_eq!(pa.warnings, pb.warnings, "{input:?}");
        if a.is_err() {
            assert_eq!(pa.error(), pb.error(), "{input:?}");
        }
    }

    /// [`Parser::nstring_at`] gives the value `nstring` gives (and stops where it stops), in
    /// both profiles, for every form: NIL in any case, quoted with and without escapes,
    /// 8-bit and NUL bytes, unescaped quotes, literals with and without NUL, `()`, errors.
    #[test]
    fn nstring_at_matches_nstring() {
        let mut inputs: Vec<Vec<u8>> = vec![
            b"NIL ".to_vec(),
            b"nil)".to_vec(),
            b"NIL".to_vec(),
            b"\"\" ".to_vec(),
            b"\"plain text\")".to_vec(),
            b"\"a\\\"b\\\\c\" ".to_vec(),
            b"\"a\\xb\" ".to_vec(),
            b"\"8bit \xc3\xa9\")".to_vec(),
            b"\"nul\0in\" ".to_vec(),
            b"\"un\"escaped\" x".to_vec(),
            b"\"unterminated".to_vec(),
            b"{3}\r\nabc)".to_vec(),
            b"{0}\r\n)".to_vec(),
            b"{4}\r\na\0bc)".to_vec(),
            b"{3}\nabc)".to_vec(),
            b"{9}\r\nabc".to_vec(),
            b"() ".to_vec(),
            b"atom ".to_vec(),
            b"".to_vec(),
        ];
        for c in 0..=255u8 {
            inputs.push(vec![b'"', b'x', c, b'y', b'"', b' ']);
            inputs.push(vec![b'"', c, b'"', b')']);
        }
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for i in &inputs {
                let msg = Bytes::copy_from_slice(i);
                let mut at = Parser::new(&msg, &o);
                let mut general = Parser::new(&msg, &o);
                let a = at.nstring_at().map(|s| match s {
                    StrAt::Nil => None,
                    StrAt::In(s, e) => {
                        assert!(s <= e && e <= msg.len());
                        Some(msg.slice(s..e))
                    }
                    StrAt::Escaped(s, e) => {
                        assert!(s <= e && e <= msg.len());
                        Some(Bytes::from(in_place(&msg[s..e])))
                    }
                    StrAt::Owned(v) => Some(v),
                });
                let b = general.nstring();
                assert_same_read(&a, &b, &at, &general, i);
            }
        }
        // runs of the message are found as such, escaped ones too (their raw bytes); values
        // that are not unescaped bytes of the message (NUL dropped) are copies
        for (input, o, want) in [
            (&b"\"abc\" "[..], DecodeOptions::strict(), StrAt::In(1, 4)),
            (b"{3}\r\nabc)", DecodeOptions::strict(), StrAt::In(5, 8)),
            (
                b"\"a\\\\b\" ",
                DecodeOptions::strict(),
                StrAt::Escaped(1, 5),
            ),
            (b"\"a\"b\" x", DecodeOptions::lenient(), StrAt::In(1, 4)),
            (
                b"\"a\0b\" ",
                DecodeOptions::lenient(),
                StrAt::Owned(Bytes::from_static(b"ab")),
            ),
        ] {
            let msg = Bytes::copy_from_slice(input);
            let mut p = Parser::new(&msg, &o);
            assert_eq!(p.nstring_at().unwrap(), want, "{input:?}");
        }
    }

    /// [`Parser::string_at`] reads what [`Parser::string`] reads (value, position, warnings,
    /// error) for every string form, `NIL` and `()` (the lenient empty string) and non-strings,
    /// in both profiles; a run of the message is found as such.
    #[test]
    fn string_at_matches_string() {
        let mut inputs: Vec<Vec<u8>> = vec![
            b"NIL ".to_vec(),
            b"nil)".to_vec(),
            b"() ".to_vec(),
            b"\"\" ".to_vec(),
            b"\"plain text\")".to_vec(),
            b"\"a\\\"b\\\\c\" ".to_vec(),
            b"\"8bit \xc3\xa9\")".to_vec(),
            b"\"nul\0in\" ".to_vec(),
            b"\"un\"escaped\" x".to_vec(),
            b"\"unterminated".to_vec(),
            b"{3}\r\nabc)".to_vec(),
            b"{0}\r\n)".to_vec(),
            b"{4}\r\na\0bc)".to_vec(),
            b"~{3}\r\nabc)".to_vec(),
            b"atom ".to_vec(),
            b"".to_vec(),
        ];
        for c in 0..=255u8 {
            inputs.push(vec![b'"', b'x', c, b'y', b'"', b' ']);
            inputs.push(vec![b'"', c, b'"', b')']);
        }
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for i in &inputs {
                let msg = Bytes::copy_from_slice(i);
                let mut at = Parser::new(&msg, &o);
                let mut general = Parser::new(&msg, &o);
                let a = at.string_at().map(|s| match s {
                    StrAt::Nil => panic!("NIL is not a string"),
                    StrAt::In(s, e) => {
                        assert!(s <= e && e <= msg.len());
                        msg.slice(s..e)
                    }
                    StrAt::Escaped(s, e) => {
                        assert!(s <= e && e <= msg.len());
                        Bytes::from(in_place(&msg[s..e]))
                    }
                    StrAt::Owned(v) => v,
                });
                let b = general.string();
                assert_same_read(&a, &b, &at, &general, i);
            }
        }
        let o = DecodeOptions::strict();
        let msg = Bytes::from_static(b"\"abc\" ");
        assert!(matches!(
            Parser::new(&msg, &o).string_at(),
            Ok(StrAt::In(1, 4))
        ));
    }

    /// [`Parser::quick_string`] reads what the general readers read where it takes the
    /// input: `sp` then [`Parser::nstring_at`] (or [`Parser::string_at`] when `string_only`)
    /// give the same span (relative to the base), stop at the same byte and warn nothing;
    /// where it does not take the input, nothing is consumed. Every byte and pair of bytes
    /// around NIL and a quoted string (before, inside, after), with and without the SP, in
    /// both profiles, at several bases and limits (a limit the span reaches is not taken).
    #[test]
    fn quick_string_matches_general() {
        let mut inputs: Vec<Vec<u8>> = vec![
            b"NIL ".to_vec(),
            b"NIL)".to_vec(),
            b"NIL".to_vec(),
            b"nil ".to_vec(),
            b"NILx ".to_vec(),
            b"\"\" ".to_vec(),
            b"\"\")".to_vec(),
            b"\"\"".to_vec(),
            b"\"plain text, longer than eight\")".to_vec(),
            b"\"a\\\"b\" ".to_vec(),
            b"\"un\"escaped\" x".to_vec(),
            b"\"unterminated".to_vec(),
            b"{3}\r\nabc)".to_vec(),
            b"() ".to_vec(),
            b"".to_vec(),
        ];
        for c in 0..=255u8 {
            for d in [b' ', b')', b'"', b'x', b'\r', 0x80] {
                inputs.push(vec![b'"', b'x', c, b'y', b'"', d]);
                inputs.push(vec![b'"', c, b'"', d]);
                inputs.push(vec![b'"', b'x', b'"', c, d]);
                inputs.push(vec![b'N', b'I', b'L', c, d]);
                inputs.push(vec![c, b'"', b'x', b'"', d]);
                inputs.push(vec![b' ', c, b'x', b'"', d]);
            }
        }
        let mut n_taken = 0;
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for i in &inputs {
                for lead in [&b""[..], b" ", b"  ", b"x "] {
                    for sp in [false, true] {
                        for string_only in [false, true] {
                            for (base, limit) in [(0, u32::MAX as usize), (1, 1 << 31), (0, 5)] {
                                let msg = Bytes::from([lead, &i[..]].concat());
                                let at = if lead == b"x " { 1 } else { 0 };
                                let base = base.min(at);
                                let mut q = Parser::new(&msg, &o);
                                q.pos = at;
                                let got = q.quick_string(base, limit, sp, string_only);
                                let Some(span) = got else {
                                    assert_eq!(q.pos, at, "{msg:?}");
                                    continue;
                                };
                                n_taken += 1;
                                assert!(q.warnings.is_empty());
                                let mut g = Parser::new(&msg, &o);
                                g.pos = at;
                                if sp {
                                    g.sp().unwrap();
                                }
                                let want = if string_only {
                                    g.string_at()
                                } else {
                                    g.nstring_at()
                                };
                                let want = match want.unwrap() {
                                    StrAt::Nil => Span::NIL,
                                    StrAt::In(s, e) => {
                                        assert!(e - base < limit, "{msg:?}");
                                        Span::new(s - base, e - base).unwrap()
                                    }
                                    other => panic!("{msg:?}: {other:?}"),
                                };
                                assert_eq!(span, want, "{msg:?}");
                                assert_eq!(q.pos, g.pos, "{msg:?}");
                                assert!(g.warnings.is_empty(), "{msg:?}");
                            }
                        }
                    }
                }
            }
        }
        // the usual forms are taken
        assert!(n_taken > 10_000, "{n_taken}");
        let o = DecodeOptions::strict();
        let msg = Bytes::from_static(b"x \"abc\" NIL)");
        let mut q = Parser::new(&msg, &o);
        q.pos = 1;
        assert_eq!(
            q.quick_string(1, 1 << 31, true, false),
            Some(Span { off: 2, len: 3 })
        );
        assert_eq!(q.quick_string(1, 1 << 31, true, true), None);
        assert_eq!(q.quick_string(1, 1 << 31, true, false), Some(Span::NIL));
        assert_eq!(q.pos, 11);
    }

    /// `quick_encoding` reads what SP and the general `string` read where it takes the
    /// input (span, position, no warning), for every byte at every place of the usual
    /// encodings in several cases, in both profiles; it takes those, and nothing else
    /// consumed where it does not.
    #[test]
    fn quick_encoding_matches_quick_string() {
        let mut taken = 0;
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for base in [
                &b" \"base64\" 12345 67 NIL)"[..],
                b" \"BASE64\" 1 NIL NIL NIL)",
                b" \"Base64\" 1 NIL NIL NIL)",
                b" \"quoted-printable\" 1 2 NIL)",
                b" \"QUOTED-PRINTABLE\" 1 2 NIL)",
                b" \"Quoted-Printable\" 1 2 NIL)",
                b" \"7BIT\" 1 2 NIL NIL NIL NIL)",
            ] {
                for i in 0..base.len() {
                    for c in 0..=255u8 {
                        let mut v = base.to_vec();
                        v[i] = c;
                        let msg = Bytes::from(v);
                        let mut q = Parser::new(&msg, &o);
                        let Some(span) = q.quick_encoding(0, 1 << 31) else {
                            assert_eq!(q.pos, 0);
                            continue;
                        };
                        taken += 1;
                        let mut g = Parser::new(&msg, &o);
                        g.sp().unwrap();
                        let Ok(StrAt::In(s, e)) = g.string_at() else {
                            panic!("{msg:?}");
                        };
                        assert_eq!(span, Span::new(s, e).unwrap(), "{msg:?}");
                        assert_eq!(q.pos, g.pos, "{msg:?}");
                        assert_eq!(g.peek(), Some(b' '), "{msg:?}");
                        assert!(g.warnings.is_empty() && q.warnings.is_empty());
                    }
                }
                let msg = Bytes::copy_from_slice(base);
                let got = Parser::new(&msg, &o).quick_encoding(0, 1 << 31);
                assert_eq!(got.is_some(), !base.starts_with(b" \"7"), "{msg:?}");
            }
        }
        assert!(taken > 1000, "{taken}");
    }

    /// The fast path of [`Parser::quoted`] (a plain run up to a DQUOTE that closes it, in
    /// both profiles) reads what the general path ([`Parser::quoted_slow`] from the first
    /// byte) reads: value, position, warnings, error; for every byte after the DQUOTE and
    /// at the end of the input, so the lenient profile's unescaped quote is still found.
    #[test]
    fn quoted_fast_path_matches_general_path() {
        let contents: [&[u8]; 6] = [b"", b"plain text", b"a", b"a\\\"b", b"x\"y", b"8bit \xc3"];
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for c in contents {
                let mut tails: Vec<Vec<u8>> = (0..=255u8).map(|n| vec![n, b'"', b' ']).collect();
                tails.push(Vec::new());
                for t in tails {
                    let msg = Bytes::from([&b"\""[..], c, b"\"", &t].concat());
                    let mut fast = Parser::new(&msg, &o);
                    let mut general = Parser::new(&msg, &o);
                    let a = fast.quoted();
                    general.pos = 1;
                    let b = general.quoted_slow(1, 1);
                    assert_same_read(&a, &b, &fast, &general, &msg);
                }
            }
        }
        // lenient: a plain string before a space takes the fast path (a slice of the
        // message), one before a byte that cannot follow a string reads on
        let o = DecodeOptions::lenient();
        let msg = Bytes::from_static(b"\"ab\" x");
        let v = Parser::new(&msg, &o).quoted().unwrap();
        assert_eq!(v.as_ptr(), msg[1..].as_ptr());
        let msg = Bytes::from_static(b"\"ab\"c\" x");
        let mut ps = Parser::new(&msg, &o);
        assert_eq!(&ps.quoted().unwrap()[..], b"ab\"c");
        assert_eq!(ps.pos, 6);
    }

    /// An escaped quoted string read by [`Parser::quoted`] (whose escaped strings take
    /// `quoted_escaped` first) gives what the general path alone gives: value, position,
    /// warnings and error, in both profiles, for runs and escapes of every kind in every
    /// order (up to four parts: `\\`, `\"`, other escapes, unescaped quotes, 8-bit, NUL,
    /// control bytes, more escapes than the fast path notes), followed by every byte.
    #[test]
    fn quoted_escaped_matches_general_path() {
        // values the fast path unescaped into the thread's block, some held and some
        // dropped (blocks reclaimed and new ones made): intact whatever the block did since
        let mut kept: Vec<(Bytes, Vec<u8>)> = Vec::new();
        let parts: [&[u8]; 14] = [
            &[b'y'; NAMES_MAX],
            b"",
            b"a",
            b"plain text run",
            b"\\\\",
            b"\\\"",
            b"\\x",
            b"\"",
            b"\xc3\xa4",
            b"\0",
            b"\t",
            b"\\\\\\\\\\\\\\\\\\\\",
            b"\\\"\\\"\\\"\\\"",
            b"\\",
        ];
        let tails: Vec<Vec<u8>> = (0..=255u8)
            .map(|n| vec![n, b' '])
            .chain([Vec::new()])
            .collect();
        let mut raws: Vec<Vec<u8>> = Vec::new();
        for w in parts {
            for x in parts {
                for y in parts {
                    raws.push([&b"ab"[..], w, x, y].concat());
                    raws.push([w, x, y, &b"\\\\"[..]].concat());
                }
            }
        }
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for raw in &raws {
                for t in &tails {
                    let msg = Bytes::from([&b"\""[..], raw, b"\"", t].concat());
                    let mut fast = Parser::new(&msg, &o);
                    let mut general = Parser::new(&msg, &o);
                    let a = fast.quoted();
                    general.pos = 1;
                    let b = general.quoted_general(1, 1);
                    assert_same_read(&a, &b, &fast, &general, &msg);
                    if kept.len() > 300 {
                        assert!(kept.iter().all(|(v, copy)| v[..] == copy[..]));
                        kept.truncate(kept.len() % 7);
                    }
                    kept.extend(a.ok().map(|v| (v.clone(), v.to_vec())));
                }
            }
        }
    }

    /// [`Parser::crlf_end`] ends where its general path ends, with the same result,
    /// warnings and error, in both profiles, for every ending of up to three bytes made of
    /// CR, LF, SP, `)`, `x` and NUL, after a first byte.
    #[test]
    fn crlf_end_matches_general_path() {
        let bytes = [b'\r', b'\n', b' ', b')', b'x', 0];
        let mut ends: Vec<Vec<u8>> = vec![Vec::new()];
        for a in bytes {
            ends.push(vec![a]);
            for b in bytes {
                ends.push(vec![a, b]);
                for c in bytes {
                    ends.push(vec![a, b, c]);
                }
            }
        }
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for e in &ends {
                let msg = Bytes::from([&b"x"[..], e].concat());
                let mut fast = Parser::new(&msg, &o);
                let mut general = Parser::new(&msg, &o);
                fast.pos = 1;
                general.pos = 1;
                let a = fast.crlf_end();
                let b = general.crlf_end_general();
                assert_same_read(&a, &b, &fast, &general, &msg);
            }
        }
    }

    #[test]
    fn quoted_unescapes_and_slices() {
        let (b, o) = p(b"\"a\\\"b\" \"plain\"");
        let mut ps = Parser::new(&b, &o);
        assert_eq!(&ps.quoted().unwrap()[..], b"a\"b");
        ps.sp().unwrap();
        assert_eq!(&ps.quoted().unwrap()[..], b"plain");
        assert!(ps.at_end());
    }

    /// decode_command fuzz crash: the lenient profile took `\<NUL>` as an escaped NUL, so a
    /// decoded string held NUL and re-encoded to a literal the strict decoder rejects.
    #[test]
    fn escaped_nul_cr_lf_are_errors_even_leniently() {
        let o = DecodeOptions::lenient();
        for bad in [&b"\"a\\\0b\""[..], b"\"a\\\rb\"", b"\"a\\\nb\"", b"\"a\\"] {
            let b = Bytes::copy_from_slice(bad);
            assert!(Parser::new(&b, &o).quoted().is_err(), "{bad:?}");
        }
        let b = Bytes::from_static(b"\"a\\qb\"");
        assert_eq!(&Parser::new(&b, &o).quoted().unwrap()[..], b"aqb");
    }

    #[test]
    fn literal_bounds_checked() {
        let (b, o) = p(b"{5}\r\nabc");
        let mut ps = Parser::new(&b, &o);
        assert!(ps.literal().is_err());
        assert_eq!(ps.error().expected, "literal data");
    }

    #[test]
    fn keyword_boundary() {
        let (b, o) = p(b"UIDNEXT 5");
        let mut ps = Parser::new(&b, &o);
        assert!(!ps.keyword(b"UID"));
        assert!(ps.keyword(b"uidnext"));
    }

    /// `Parser::quick_number` takes only what `number` and `number64` read the same way, with the
    /// same value and position: runs of 0 to 10 digits (leading zeros, nines) followed by
    /// every byte, then by nothing or by enough to fill the eight-byte word, in both
    /// profiles; and it takes the usual counts.
    #[test]
    fn quick_number_matches_general() {
        let runs: [&[u8]; 12] = [
            b"",
            b"0",
            b"7",
            b"00",
            b"265",
            b"0042",
            b"15892",
            b"999999",
            b"2451703",
            b"9999999",
            b"12345678",
            b"4294967296",
        ];
        let mut taken = 0;
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for run in runs {
                for c in 0..=255u8 {
                    for tail in [&b""[..], b"x", b"x)\r\n456789"] {
                        let mut v = run.to_vec();
                        v.push(c);
                        v.extend_from_slice(tail);
                        let msg = Bytes::from(v);
                        let mut q = Parser::new(&msg, &o);
                        let Some(got) = q.quick_number() else {
                            assert_eq!(q.pos, 0, "{msg:?}");
                            continue;
                        };
                        taken += 1;
                        let mut g = Parser::new(&msg, &o);
                        assert_eq!(g.number64().ok(), Some(got), "{msg:?}");
                        assert_eq!(g.pos, q.pos, "{msg:?}");
                        let mut g = Parser::new(&msg, &o);
                        assert_eq!(g.number().ok().map(u64::from), Some(got), "{msg:?}");
                        assert_eq!(g.pos, q.pos, "{msg:?}");
                    }
                }
            }
        }
        // one to seven digits before SP or `)`, in a word: the nine such runs with the
        // long tail, the three of six or seven digits with `x`, the two of seven alone
        assert_eq!(taken, 2 * 2 * (9 + 3 + 2));
        let msg = Bytes::from_static(b"2451703 265 NIL NIL)\r\n");
        let o = DecodeOptions::strict();
        let mut q = Parser::new(&msg, &o);
        assert_eq!(q.quick_number(), Some(2_451_703));
        q.pos += 1;
        assert_eq!(q.quick_number(), Some(265));
        assert_eq!(q.pos, 11);
    }

    /// The byte-by-byte digit loop `digits` replaced.
    fn digits_reference(s: &[u8]) -> (Option<u64>, usize) {
        let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return (None, 0);
        }
        let mut v: u64 = 0;
        for &c in &s[..n] {
            match v
                .checked_mul(10)
                .and_then(|v| v.checked_add((c - b'0') as u64))
            {
                Some(x) => v = x,
                None => return (None, 0),
            }
        }
        (Some(v), n)
    }

    #[test]
    fn digits_match_the_reference() {
        let o = DecodeOptions::strict();
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..26usize {
            for tail in [
                &b""[..],
                b" ",
                b")",
                b"/",
                b":",
                b"a",
                b"\x7f",
                b"\xb0",
                b"\x00",
                b"12",
            ] {
                for _ in 0..20 {
                    let mut d = Vec::new();
                    for _ in 0..len {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        d.push(b'0' + (seed % 10) as u8);
                    }
                    d.extend_from_slice(tail);
                    d.extend_from_slice(b"  x");
                    inputs.push(d);
                }
                inputs.push([vec![b'9'; len], tail.to_vec()].concat());
                inputs.push([vec![b'0'; len], tail.to_vec()].concat());
            }
        }
        inputs.push(b"18446744073709551615 ".to_vec());
        inputs.push(b"18446744073709551616 ".to_vec());
        inputs.push(b"018446744073709551615".to_vec());
        inputs.push(b"99999999999999999999".to_vec());
        for i in inputs {
            let b = Bytes::from(i.clone());
            let mut p = Parser::new(&b, &o);
            let (want, n) = digits_reference(&i);
            assert_eq!(p.digits(), want, "{i:?}");
            assert_eq!(p.pos, n, "{i:?}");
        }
    }

    #[test]
    fn numbers_strict_and_lenient() {
        let (b, o) = p(b"4294967296");
        let mut ps = Parser::new(&b, &o);
        assert!(ps.number().is_err());
        let l = DecodeOptions::lenient();
        let b = Bytes::from_static(b"9.3736e+06 -1 ");
        let mut ps = Parser::new(&b, &l);
        assert_eq!(ps.number64().unwrap(), 9_373_600);
        ps.sp().unwrap();
        assert_eq!(ps.number().unwrap(), 0);
        assert_eq!(ps.warnings.len(), 2);
    }
}

#[cfg(test)]
mod quoted_run_tests {
    use super::quoted_run;

    /// [`unescape_in_place`](super::unescape_in_place) gives what the grammar's reading
    /// gives (each backslash dropped and the byte after it kept; one that ends the content
    /// kept), written out here the plain way, for every string of up to seven bytes made of
    /// `a`, an 8-bit byte, backslash and DQUOTE, and for a few long ones.
    #[test]
    fn unescape_matches_reference() {
        fn reference(raw: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            let mut it = raw.iter().peekable();
            while let Some(&c) = it.next() {
                match (c, it.peek()) {
                    (b'\\', Some(&&d)) => {
                        out.push(d);
                        it.next();
                    }
                    _ => out.push(c),
                }
            }
            out
        }
        let alphabet = [b'a', 0xe9, b'\\', b'"'];
        let mut inputs: Vec<Vec<u8>> = vec![
            b"Grace \\\"Al\\\" Nakamura".to_vec(),
            b"a long string without any escape in it at all".to_vec(),
            b"a long string with one escape at its very end\\\\".to_vec(),
            b"\\\\\\\\\\".to_vec(),
        ];
        for len in 0..=7u32 {
            for n in 0..4usize.pow(len) {
                inputs.push((0..len).map(|k| alphabet[n / 4usize.pow(k) % 4]).collect());
            }
        }
        for i in inputs {
            let mut v = i.clone();
            let n = super::unescape_in_place(&mut v);
            assert_eq!(v[..n], reference(&i)[..], "{i:?}");
        }
    }

    #[test]
    fn word_scan_matches_byte_scan() {
        let plain = |c: u8| (0x20..0x80).contains(&c) && c != b'"' && c != b'\\';
        let specials = [
            b'"', b'\\', b'\r', b'\n', 0, 0x1f, 0x20, 0x7f, 0x80, 0xff, b'a', 0x21, 0x5b, 0x5d,
        ];
        for len in 0..20usize {
            for pos in 0..len {
                for &c in &specials {
                    let mut s = vec![b'x'; len];
                    s[pos] = c;
                    let want = s.iter().position(|&b| !plain(b)).unwrap_or(len);
                    assert_eq!(quoted_run(&s), want, "{s:?}");
                    for &d in &specials {
                        for pos2 in pos + 1..len {
                            let mut t = s.clone();
                            t[pos2] = d;
                            let want = t.iter().position(|&b| !plain(b)).unwrap_or(len);
                            assert_eq!(quoted_run(&t), want, "{t:?}");
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod quoted_specials_tests {
    use super::class;

    /// Every byte value at every position of a word, with every byte value at every later
    /// position (the rest plain): the lowest flagged byte is the first byte that is not
    /// plain, and a word of plain bytes flags nothing.
    #[test]
    fn quoted_specials_flags_the_first_special() {
        let first = |w: &[u8; 8]| w.iter().position(|&c| !class::is_plain_quoted(c));
        let flagged = |w: &[u8; 8]| {
            let bad = class::quoted_specials(u64::from_le_bytes(*w));
            (bad != 0).then(|| (bad.trailing_zeros() / 8) as usize)
        };
        for i in 0..8 {
            for c in 0..=255u8 {
                let mut w = [b'x'; 8];
                w[i] = c;
                assert_eq!(flagged(&w), first(&w), "{w:?}");
                for j in i + 1..8 {
                    for d in 0..=255u8 {
                        let mut v = w;
                        v[j] = d;
                        assert_eq!(flagged(&v), first(&v), "{v:?}");
                    }
                }
            }
        }
        for c in 0x20..0x80u8 {
            let w = [c; 8];
            assert_eq!(flagged(&w), first(&w), "{w:?}");
        }
    }
}

#[cfg(test)]
mod astring_run_tests {
    use super::{astring_run, class};

    /// The run of ASTRING-CHARs byte by byte (what `astring_run` must find).
    fn byte_scan(s: &[u8]) -> usize {
        s.iter()
            .position(|&b| !class::is_astring_char(b))
            .unwrap_or(s.len())
    }

    /// Runs full of the bytes the word test flags although they are ASTRING-CHARs (`&`, `!`,
    /// `#`, `$`, `'`, `|`, `}`, `~`, `+`, `[`, `]`) and of bytes next to the edges of its
    /// ranges, several per word, at every length up to 40 (every word and tail position):
    /// the same end as a byte-by-byte scan.
    #[test]
    fn flagged_astring_chars_are_passed_over() {
        let want = byte_scan;
        let alphabet = [
            b'&', b'!', b'#', b'$', b'\'', b'|', b'}', b'~', b'+', b'[', b']', b'a', b'z', b'Z',
            b'0', b'-', b'/', b'{', b'*', b'(', b')', b'%', b'"', b'\\', b' ', 0x7f, 0x80, 0xfb,
            0xff, 0, b'\r',
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200_000 {
            let len = (next() % 41) as usize;
            // mostly bytes that pass, so that runs are long
            let s: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    let k = if r % 4 == 0 { alphabet.len() } else { 12 };
                    alphabet[(r >> 8) as usize % k]
                })
                .collect();
            assert_eq!(astring_run(&s), want(&s), "{s:?}");
        }
    }

    #[test]
    fn word_scan_matches_byte_scan() {
        let want = byte_scan;
        // every byte value at every position, with a second odd byte after it
        let seconds = [
            b' ', b'(', b')', b'{', b'"', 0x7f, 0x80, 0xff, 0, b']', b'a',
        ];
        for len in 0..20usize {
            for pos in 0..len {
                for c in 0..=255u8 {
                    let mut s = vec![b'x'; len];
                    s[pos] = c;
                    assert_eq!(astring_run(&s), want(&s), "{s:?}");
                    for &d in &seconds {
                        for pos2 in pos + 1..len {
                            let mut t = s.clone();
                            t[pos2] = d;
                            assert_eq!(astring_run(&t), want(&t), "{t:?}");
                        }
                    }
                }
            }
        }
    }
}
