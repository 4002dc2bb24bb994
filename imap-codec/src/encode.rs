//! The encoder (RFC 9051 §4, §9): appends valid protocol to a caller-owned buffer and records
//! where literals start, so a client knows where it must wait for a `+` continuation.
//!
//! Strings are encoded in the cheapest valid form the encoder may use: atom where the grammar
//! allows an atom and the content is atom-safe, else quoted, else literal.

use bytes::Bytes;

pub use crate::framer::LiteralMode;
use crate::parse::class::plain_quoted_len;

/// Encoding settings of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
        EncodeOptions {
            literal_mode: LiteralMode::Sync,
            max_non_sync: None,
            utf8_quoted: false,
            max_quoted: 1024,
        }
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

    /// Decimal number (two digits per step).
    #[inline]
    pub(crate) fn num(&mut self, v: impl Into<u64>) {
        let mut v: u64 = v.into();
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        while v >= 100 {
            let r = (v % 100) as usize * 2;
            v /= 100;
            i -= 2;
            tmp[i..i + 2].copy_from_slice(&DIGIT_PAIRS[r..r + 2]);
        }
        if v >= 10 {
            let r = v as usize * 2;
            i -= 2;
            tmp[i..i + 2].copy_from_slice(&DIGIT_PAIRS[r..r + 2]);
        } else {
            i -= 1;
            tmp[i] = b'0' + v as u8;
        }
        self.out.extend_from_slice(&tmp[i..]);
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
        // Fast path: short 7-bit text without CR, LF, NUL, DQUOTE or backslash is written as
        // is between quotes (one table lookup per byte, one copy).
        if s.len() <= self.options.max_quoted && plain_quoted_len(s) == s.len() {
            self.out.reserve(s.len() + 2);
            self.byte(b'"');
            self.raw(s);
            self.byte(b'"');
            return;
        }
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

    /// A parenthesised, space-separated list.
    pub(crate) fn list<T>(&mut self, items: &[T], mut f: impl FnMut(&mut Self, &T)) {
        self.byte(b'(');
        self.sep(items, b" ", &mut f);
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

    /// Encodes into a fresh `Vec` with default options.
    fn to_bytes(&self) -> Vec<u8> {
        let mut b = EncodeBuf::new();
        self.encode(&mut b);
        b.out
    }

    /// Encodes into a fresh [`Bytes`] with default options.
    fn to_frozen(&self) -> Bytes {
        Bytes::from(self.to_bytes())
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
