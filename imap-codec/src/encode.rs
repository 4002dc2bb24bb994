//! The encoder (RFC 9051 §4, §9): appends valid protocol to a caller-owned buffer and records
//! where literals start, so a client knows where it must wait for a `+` continuation.
//!
//! Strings are encoded in the cheapest valid form the encoder may use: atom where the grammar
//! allows an atom and the content is atom-safe, else quoted, else literal.

use bytes::Bytes;

use crate::parse::{PResult, Parser, class};

pub use crate::framer::LiteralMode;

/// Encoding settings of one connection.
///
/// Build with [`EncodeOptions::default`] and the `with_*` methods, or derive them from what the
/// server advertised with [`CapabilitySet::encode_options`](crate::capability::CapabilitySet::encode_options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncodeOptions {
    /// Mode for literals the encoder has to emit: [`LiteralMode::Sync`] always works;
    /// [`LiteralMode::NonSync`] needs LITERAL+, or LITERAL- together with
    /// `max_non_sync: Some(4096)`.
    pub literal_mode: LiteralMode,
    /// Longest literal sent non-synchronizing in [`LiteralMode::NonSync`]; longer ones are
    /// sent synchronizing. `None`: no limit (LITERAL+); `Some(4096)` for a server that only
    /// announces LITERAL- (RFC 7888 §4).
    pub max_non_sync: Option<usize>,
    /// UTF-8 may be sent in quoted strings (IMAP4rev2, or UTF8=ACCEPT enabled).
    pub utf8_quoted: bool,
    /// Longest string sent quoted; longer strings become literals.
    pub max_quoted: usize,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl EncodeOptions {
    /// The defaults: synchronizing literals, no UTF-8 in quoted strings, strings up to 1024
    /// bytes quoted.
    pub const fn new() -> Self {
        EncodeOptions {
            literal_mode: LiteralMode::Sync,
            max_non_sync: None,
            utf8_quoted: false,
            max_quoted: 1024,
        }
    }

    /// The largest non-synchronizing literal a LITERAL- server accepts (RFC 7888 §5).
    pub const LITERAL_MINUS_MAX: usize = 4096;

    field_builders! {
        /// These options with `literal_mode` set.
        with_literal_mode(literal_mode: LiteralMode);

        /// These options with `max_non_sync` set.
        with_max_non_sync(max_non_sync: Option<usize>);

        /// These options with `utf8_quoted` set.
        with_utf8_quoted(utf8_quoted: bool);

        /// These options with `max_quoted` set.
        with_max_quoted(max_quoted: usize);
    }
}

/// Where a literal sits in the encoded output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiteralMark {
    /// Offset of the first payload byte (right after `{n}\r\n`).
    pub start: usize,
    /// Payload length.
    pub len: usize,
    /// Whether the sender must wait for `+` before the payload.
    pub mode: LiteralMode,
}

/// One piece of encoded output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fragment<'a> {
    /// Protocol text up to and including a CRLF (a line, or a line ending in `{n}\r\n`).
    Line(&'a [u8]),
    /// A literal payload.
    Literal {
        /// The payload.
        data: &'a [u8],
        /// Whether a `+` must be awaited before sending it.
        mode: LiteralMode,
    },
}

/// "00" "01" … "99".
static DIGIT_PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Whether all eight bytes of `x` can be written between quotes as they are
/// ([`class::quoted_specials`]).
#[inline(always)]
const fn plain_word(x: u64) -> bool {
    class::quoted_specials(x) == 0
}

/// Longest string (plus its leading space, for `sp_string`) that [`EncodeBuf::string`]
/// assembles in a fixed-size array.
const SMALL: usize = 62;

#[inline(always)]
fn word8(s: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(&s[..8]);
    a
}

#[inline(always)]
fn word4(s: &[u8]) -> [u8; 4] {
    let mut a = [0u8; 4];
    a.copy_from_slice(&s[..4]);
    a
}

/// 10^0 … 10^19.
static POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// An output buffer being encoded into.
#[derive(Debug, Default, Clone)]
pub struct EncodeBuf {
    /// The encoded bytes.
    pub out: Vec<u8>,
    /// Literal positions in `out`.
    pub literals: Vec<LiteralMark>,
    /// Settings.
    pub options: EncodeOptions,
}

impl EncodeBuf {
    /// An empty buffer with default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty buffer with the given options.
    pub fn with_options(options: EncodeOptions) -> Self {
        EncodeBuf {
            out: Vec::new(),
            literals: Vec::new(),
            options,
        }
    }

    /// Clears output and marks, keeping the allocation and the options.
    pub fn clear(&mut self) {
        self.out.clear();
        self.literals.clear();
    }

    /// The output split into lines and literals.
    pub fn fragments(&self) -> Fragments<'_> {
        Fragments {
            out: &self.out,
            marks: &self.literals,
            pos: 0,
            next: 0,
        }
    }

    // ---- low level writers, used by the `Encode` impls ----

    /// Appends raw bytes (the caller guarantees validity).
    #[inline]
    pub(crate) fn raw(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    #[inline]
    pub(crate) fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    #[inline]
    pub(crate) fn sp(&mut self) {
        self.out.push(b' ');
    }

    #[inline]
    pub(crate) fn crlf(&mut self) {
        self.out.extend_from_slice(b"\r\n");
    }

    /// Decimal number (two digits per step), written into a fixed-size array that is
    /// appended whole and cut back (no `memcpy` call).
    #[inline]
    pub(crate) fn num(&mut self, v: impl Into<u64>) {
        let mut v: u64 = v.into();
        if v < 10 {
            self.out.push(b'0' + v as u8);
            return;
        }
        let mut n = 2;
        while n < 20 && v >= POW10[n] {
            n += 1;
        }
        let mut tmp = [0u8; 20];
        let mut i = n;
        while v >= 100 {
            let r = (v % 100) as usize * 2;
            v /= 100;
            i -= 2;
            tmp[i..i + 2].copy_from_slice(&DIGIT_PAIRS[r..r + 2]);
        }
        if v >= 10 {
            let r = v as usize * 2;
            tmp[0..2].copy_from_slice(&DIGIT_PAIRS[r..r + 2]);
        } else {
            tmp[0] = b'0' + v as u8;
        }
        let end = self.out.len() + n;
        self.out.extend_from_slice(&tmp);
        self.out.truncate(end);
    }

    /// A literal `{n}` CRLF payload (or `~{n}` when `binary`), in the configured mode.
    pub(crate) fn literal(&mut self, data: &[u8], binary: bool) {
        let mode = match (self.options.literal_mode, self.options.max_non_sync) {
            (LiteralMode::NonSync, Some(max)) if data.len() > max => LiteralMode::Sync,
            (mode, _) => mode,
        };
        self.literal_with_mode(data, binary, mode);
    }

    /// A literal in an explicit mode.
    pub(crate) fn literal_with_mode(&mut self, data: &[u8], binary: bool, mode: LiteralMode) {
        if binary {
            self.byte(b'~');
        }
        self.byte(b'{');
        self.num(data.len() as u64);
        if mode == LiteralMode::NonSync {
            self.byte(b'+');
        }
        self.raw(b"}\r\n");
        let start = self.out.len();
        self.raw(data);
        self.literals.push(LiteralMark {
            start,
            len: data.len(),
            mode,
        });
    }

    fn quotable(&self, s: &[u8]) -> bool {
        if s.len() > self.options.max_quoted {
            return false;
        }
        if memchr::memchr3(b'\r', b'\n', 0, s).is_some() {
            return false;
        }
        s.is_ascii() || (self.options.utf8_quoted && std::str::from_utf8(s).is_ok())
    }

    /// A quoted string; the caller has checked [`quotable`](Self::quotable).
    fn quoted_unchecked(&mut self, s: &[u8]) {
        self.out.reserve(s.len() + 2);
        self.byte(b'"');
        let mut last = 0;
        for i in memchr::memchr2_iter(b'"', b'\\', s) {
            self.raw(&s[last..i]);
            self.byte(b'\\');
            last = i;
        }
        self.raw(&s[last..]);
        self.byte(b'"');
    }

    /// A quoted string regardless of length, for grammar positions that allow no literal;
    /// the caller guarantees the content is 7-bit TEXT-CHARs.
    pub(crate) fn quoted(&mut self, s: &[u8]) {
        debug_assert!(
            s.iter()
                .all(|&c| c != b'\r' && c != b'\n' && c != 0 && c < 0x80)
        );
        self.quoted_unchecked(s);
    }

    /// `string`: quoted when possible, else literal.
    #[inline]
    pub(crate) fn string(&mut self, s: &[u8]) {
        // Fast path: 7-bit text without controls, DQUOTE or backslash, short enough to be
        // quoted, is written as is between quotes. Checked and copied eight bytes at a time
        // (the last, partial word overlaps the previous one: the output is cut back and the
        // overlapping bytes written again, identical); on any other byte the output is rolled
        // back and the general path decides.
        if s.len() > self.options.max_quoted || !self.plain_quoted::<false>(s) {
            self.string_general(s);
        }
    }

    /// `SP string`: one append for both on the fast path.
    #[inline]
    pub(crate) fn sp_string(&mut self, s: &[u8]) {
        if s.len() > self.options.max_quoted || !self.plain_quoted::<true>(s) {
            self.sp();
            self.string_general(s);
        }
    }

    /// `SP nstring`.
    #[inline]
    pub(crate) fn sp_nstring(&mut self, s: Option<&[u8]>) {
        match s {
            Some(s) => self.sp_string(s),
            None => self.raw(b" NIL"),
        }
    }

    /// Writes `"s"` when every byte of `s` is plain (see [`plain_word`]) and returns `true`;
    /// otherwise leaves the output as it was and returns `false`.
    ///
    /// Up to [`SMALL`] bytes, the quoted string is assembled in a fixed-size array (eight-byte
    /// words; the last partial word overlaps the previous one) that is appended whole and cut
    /// back to length: fixed-size copies, no `memcpy` call and no growth check per word. The
    /// array is the smallest of 16, 32 or 64 bytes that holds the string.
    ///
    /// With `SP`, a space is written first (in the same append; the output is unchanged on
    /// `false`).
    #[inline]
    fn plain_quoted<const SP: bool>(&mut self, s: &[u8]) -> bool {
        match s.len() + SP as usize {
            0..=14 => self.plain_quoted_in::<16, SP>(s),
            15..=30 => self.plain_quoted_in::<32, SP>(s),
            31..=SMALL => self.plain_quoted_in::<64, SP>(s),
            _ => self.plain_quoted_long::<SP>(s),
        }
    }

    /// [`plain_quoted`](Self::plain_quoted) through an `N`-byte array
    /// (`s.len() + 2 + SP <= N`).
    #[inline(always)]
    fn plain_quoted_in<const N: usize, const SP: bool>(&mut self, s: &[u8]) -> bool {
        let n = s.len();
        let mut tmp = [0u8; N];
        let o = SP as usize;
        if n >= 8 {
            let mut i = 0;
            while i + 8 <= n {
                let w = word8(&s[i..]);
                if !plain_word(u64::from_le_bytes(w)) {
                    return false;
                }
                tmp[o + 1 + i..o + 9 + i].copy_from_slice(&w);
                i += 8;
            }
            if i < n {
                let w = word8(&s[n - 8..]);
                if !plain_word(u64::from_le_bytes(w)) {
                    return false;
                }
                tmp[o + n - 7..o + n + 1].copy_from_slice(&w);
            }
        } else if n >= 4 {
            let lo = word4(s);
            let hi = word4(&s[n - 4..]);
            let x = u64::from(u32::from_le_bytes(lo)) | u64::from(u32::from_le_bytes(hi)) << 32;
            if !plain_word(x) {
                return false;
            }
            tmp[o + 1..o + 5].copy_from_slice(&lo);
            tmp[o + n - 3..o + n + 1].copy_from_slice(&hi);
        } else if n > 0 {
            // bytes 0, n/2 and n-1 cover a string of 1 to 3 bytes
            let (a, b, c) = (s[0], s[n / 2], s[n - 1]);
            if !plain_word(u64::from_le_bytes([a, b, c, b'a', b'a', b'a', b'a', b'a'])) {
                return false;
            }
            tmp[o + 1] = a;
            tmp[o + n] = c;
            tmp[o + 1 + n / 2] = b;
        }
        if SP {
            tmp[0] = b' ';
        }
        tmp[o] = b'"';
        tmp[o + n + 1] = b'"';
        let end = self.out.len() + o + n + 2;
        self.out.extend_from_slice(&tmp);
        self.out.truncate(end);
        true
    }

    /// [`plain_quoted`](Self::plain_quoted) for strings longer than [`SMALL`].
    #[inline(never)]
    fn plain_quoted_long<const SP: bool>(&mut self, s: &[u8]) -> bool {
        let n = s.len();
        let mut words = s.chunks_exact(8);
        for w in &mut words {
            if !plain_word(u64::from_le_bytes(word8(w))) {
                return false;
            }
        }
        if !words.remainder().is_empty() && !plain_word(u64::from_le_bytes(word8(&s[n - 8..]))) {
            return false;
        }
        self.out.reserve(n + 3);
        if SP {
            self.out.push(b' ');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(s);
        self.out.push(b'"');
        true
    }

    /// `string` when the fast path does not apply: quoted (escaped) when possible, else
    /// literal.
    #[cold]
    #[inline(never)]
    fn string_general(&mut self, s: &[u8]) {
        if self.quotable(s) {
            self.quoted_unchecked(s);
        } else {
            self.literal(s, false);
        }
    }

    /// `astring`: atom when possible, else quoted, else literal.
    pub(crate) fn astring(&mut self, s: &[u8]) {
        if !s.is_empty() && s.iter().all(|&c| crate::parse::class::is_astring_char(c)) {
            self.raw(s);
        } else {
            self.string(s);
        }
    }

    /// `nstring`.
    pub(crate) fn nstring(&mut self, s: Option<&[u8]>) {
        match s {
            Some(s) => self.string(s),
            None => self.raw(b"NIL"),
        }
    }

    /// A parenthesised, space-separated list (of a slice, a `Vec`, or any list that
    /// iterates by reference).
    pub(crate) fn list<I: IntoIterator>(
        &mut self,
        items: I,
        mut f: impl FnMut(&mut Self, I::Item),
    ) {
        self.byte(b'(');
        for (i, it) in items.into_iter().enumerate() {
            if i > 0 {
                self.byte(b' ');
            }
            f(self, it);
        }
        self.byte(b')');
    }

    /// Items separated by `sep`.
    pub(crate) fn sep<T>(&mut self, items: &[T], sep: &[u8], f: &mut impl FnMut(&mut Self, &T)) {
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                self.raw(sep);
            }
            f(self, it);
        }
    }
}

/// Iterator over [`Fragment`]s of an [`EncodeBuf`].
#[derive(Debug, Clone)]
pub struct Fragments<'a> {
    out: &'a [u8],
    marks: &'a [LiteralMark],
    pos: usize,
    next: usize,
}

impl<'a> Iterator for Fragments<'a> {
    type Item = Fragment<'a>;

    fn next(&mut self) -> Option<Fragment<'a>> {
        if self.pos >= self.out.len() {
            return None;
        }
        if let Some(m) = self.marks.get(self.next) {
            if self.pos == m.start {
                self.next += 1;
                self.pos = m.start + m.len;
                return Some(Fragment::Literal {
                    data: &self.out[m.start..m.start + m.len],
                    mode: m.mode,
                });
            }
            let line = &self.out[self.pos..m.start];
            self.pos = m.start;
            return Some(Fragment::Line(line));
        }
        let line = &self.out[self.pos..];
        self.pos = self.out.len();
        Some(Fragment::Line(line))
    }
}

/// A value that can be written as valid IMAP.
pub trait Encode {
    /// Appends the wire form of `self` to `buf`.
    fn encode(&self, buf: &mut EncodeBuf);

    /// Encodes into a fresh `Vec` with default options, **every literal written inline**
    /// right after its `{n}` announcement.
    ///
    /// With the default options literals are synchronizing (`{n}`): a client must not send
    /// this output in one write when it holds a literal, because the server must answer `+`
    /// after each `{n}` line before the payload may follow (RFC 9051 §4.3). A client encodes
    /// with [`encode`](Self::encode) into an [`EncodeBuf`] and sends
    /// [`EncodeBuf::fragments`] one by one instead (see the crate documentation). This method
    /// suits servers (a server's literals are not synchronizing), tests and logs.
    fn to_vec_inline_literals(&self) -> Vec<u8> {
        let mut b = EncodeBuf::new();
        self.encode(&mut b);
        b.out
    }

    /// [`to_vec_inline_literals`](Self::to_vec_inline_literals) as [`Bytes`]: the whole
    /// wire form with every literal inline, which a client must not send in one write when
    /// it holds a synchronizing literal.
    fn to_bytes_inline_literals(&self) -> Bytes {
        Bytes::from(self.to_vec_inline_literals())
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode(&self, buf: &mut EncodeBuf) {
        (**self).encode(buf)
    }
}

impl<T: Encode + ?Sized> Encode for Box<T> {
    fn encode(&self, buf: &mut EncodeBuf) {
        (**self).encode(buf)
    }
}

/// Whether `v` encodes to bytes that `parse` (strict profile) reads back, entirely, as an
/// equal value: the check for values whose validity is defined by the grammar.
pub(crate) fn reparses<T: Encode + PartialEq>(
    v: &T,
    parse: impl FnOnce(&mut Parser<'_>) -> PResult<T>,
) -> bool {
    let b = v.to_bytes_inline_literals();
    let o = crate::options::DecodeOptions::strict();
    let mut p = Parser::new(&b, &o);
    matches!(parse(&mut p), Ok(ref x) if x == v && p.at_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_pick_form() {
        let mut b = EncodeBuf::new();
        b.astring(b"INBOX");
        b.sp();
        b.astring(b"a b\"c");
        b.sp();
        b.astring(b"line\r\nbreak");
        assert_eq!(b.out, b"INBOX \"a b\\\"c\" {11}\r\nline\r\nbreak");
        let f: Vec<_> = b.fragments().collect();
        assert_eq!(
            f,
            vec![
                Fragment::Line(b"INBOX \"a b\\\"c\" {11}\r\n"),
                Fragment::Literal {
                    data: b"line\r\nbreak",
                    mode: LiteralMode::Sync
                }
            ]
        );
    }

    /// `string` (word-at-a-time fast path) writes exactly what the general memchr-based
    /// algorithm writes (quoted, escaped or literal), after other output, for every length up to 70 (all array
    /// sizes and the long path) with special bytes at every position, whatever `max_quoted`
    /// and `utf8_quoted`.
    #[test]
    fn string_fast_path_matches_general() {
        let specials = [
            b'"', b'\\', b'\r', b'\n', 0, 1, b'\t', 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xc3, 0xff, b'a',
        ];
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for len in 0..=70usize {
            cases.push(vec![b'x'; len]);
            for pos in 0..len {
                for &c in &specials {
                    let mut s = vec![b'x'; len];
                    s[pos] = c;
                    cases.push(s.clone());
                    let step = if len <= 24 { 3 } else { 17 };
                    for pos2 in (pos + 1..len).step_by(step) {
                        let mut t = s.clone();
                        t[pos2] = b'"';
                        cases.push(t);
                    }
                }
            }
        }
        cases.push("é".repeat(9).into_bytes());
        for max_quoted in [0, 3, 7, 8, 16, 1024] {
            for utf8_quoted in [false, true] {
                let options = EncodeOptions {
                    max_quoted,
                    utf8_quoted,
                    ..EncodeOptions::default()
                };
                for s in &cases {
                    let mut fast = EncodeBuf::with_options(options);
                    let mut general = EncodeBuf::with_options(options);
                    for b in [&mut fast, &mut general] {
                        b.raw(b"A1 ");
                    }
                    fast.string(s);
                    // the original algorithm: memchr checks, escaping copy, else literal
                    if general.quotable(s) {
                        general.quoted_unchecked(s);
                    } else {
                        general.literal(s, false);
                    }
                    assert_eq!(fast.out, general.out, "{s:?} {options:?}");
                    assert_eq!(fast.literals, general.literals, "{s:?} {options:?}");
                    // SP string, in one append
                    fast.sp_string(s);
                    general.sp();
                    if general.quotable(s) {
                        general.quoted_unchecked(s);
                    } else {
                        general.literal(s, false);
                    }
                    assert_eq!(fast.out, general.out, "SP {s:?} {options:?}");
                    assert_eq!(fast.literals, general.literals, "SP {s:?} {options:?}");
                }
            }
        }
    }

    /// `plain_word` against the byte-wise definition: every byte value at every position,
    /// among plain bytes at the edges of the plain range, and after a bad byte.
    #[test]
    fn plain_word_is_exact() {
        let plain = |b: u8| (0x20..0x80).contains(&b) && b != b'"' && b != b'\\';
        for fill in [b'x', 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f] {
            for pos in 0..8 {
                for b in 0..=255u8 {
                    let mut w = [fill; 8];
                    w[pos] = b;
                    assert_eq!(plain_word(u64::from_le_bytes(w)), plain(b), "{w:?}");
                    for b2 in [0u8, 0x1f, b'"', b'\\', 0x80, 0xff] {
                        for pos2 in 0..8 {
                            if pos2 != pos {
                                let mut v = w;
                                v[pos2] = b2;
                                assert!(!plain_word(u64::from_le_bytes(v)), "{v:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn numbers() {
        let mut b = EncodeBuf::new();
        b.num(0u32);
        b.sp();
        b.num(u64::MAX);
        assert_eq!(b.out, b"0 18446744073709551615");
    }

    #[test]
    fn numbers_match_display() {
        let mut vals: Vec<u64> = (0..=12_345).collect();
        for k in 0..20 {
            let p = 10u64.pow(k);
            vals.extend([p - 1, p, p + 1, p.saturating_mul(7).saturating_add(3)]);
        }
        vals.extend([u32::MAX as u64, u64::MAX - 1, u64::MAX]);
        let mut b = EncodeBuf::new();
        for v in vals {
            b.clear();
            b.num(v);
            assert_eq!(b.out, v.to_string().into_bytes());
        }
    }
}
