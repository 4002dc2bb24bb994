//! Message framing (RFC 9051 §2.2, §4.3): finds complete messages, lines plus the literals
//! they announce, in a byte stream that arrives in arbitrary chunks.
//!
//! The framer remembers where its scan stopped, so every byte is looked at once no matter how
//! the input is chunked, and literal payloads are skipped by length, never scanned. It enforces
//! [`Limits`]: a message that exceeds one is reported as a [`FrameError`] and then dropped as it
//! streams past, without being buffered; the next message frames normally.
//!
//! ```
//! use imapwire_codec::framer::{Framer, Frame};
//!
//! let mut f = Framer::new(Default::default());
//! f.push(b"* 1 FETCH (BODY[] {5}\r\nhel");
//! assert!(matches!(f.next_frame(), Some(Frame::LiteralAnnounced(_))));
//! assert!(f.next_frame().is_none()); // waiting for the rest of the literal
//! f.push(b"lo)\r\n* OK done\r\n");
//! let Some(Frame::Message(m)) = f.next_frame() else { panic!() };
//! assert_eq!(&m[..], b"* 1 FETCH (BODY[] {5}\r\nhello)\r\n");
//! ```

use bytes::{Buf, Bytes, BytesMut};

use crate::error::{FrameError, LimitKind};
use crate::options::Limits;
use crate::parse::class;

/// Longest tag the framer recovers for error reports.
pub const MAX_TAG: usize = 63;

/// Whether a literal requires the receiver's go-ahead (RFC 9051 §4.3, RFC 7888).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LiteralMode {
    /// `{n}`: the sender waits for a `+` continuation request.
    Sync,
    /// `{n+}`: the sender does not wait (LITERAL+ / LITERAL-).
    NonSync,
}

/// A literal announcement seen at the end of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteralAnnouncement {
    /// The tag of the message, when its first token is a valid tag.
    pub tag: Option<Bytes>,
    /// Announced length.
    pub length: u64,
    /// Synchronizing or not.
    pub mode: LiteralMode,
    /// `~{n}` (literal8, RFC 3516).
    pub binary: bool,
}

/// One output of the framer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete message: its line(s), CRLFs and literal payloads, as one buffer.
    Message(Bytes),
    /// A line ended with a literal announcement. With [`FramerConfig::await_sync_literals`], a
    /// synchronizing literal pauses the framer until [`Framer::accept_literal`] or
    /// [`Framer::reject_literal`].
    LiteralAnnounced(LiteralAnnouncement),
    /// A message was given up; it is skipped and framing goes on with the next one.
    Error(FrameError),
}

/// Framer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FramerConfig {
    /// Size limits.
    pub limits: Limits,
    /// Server side: pause at each synchronizing literal until the caller accepts or rejects it
    /// (the client does not send the data before the `+`). When false (client side, or a
    /// captured stream), literal data is assumed to follow.
    pub await_sync_literals: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Scanning the line that starts at `line_start` for its LF, from `scan`.
    Line { line_start: usize, scan: usize },
    /// Waiting until the buffer holds the literal up to `end`.
    Literal { end: usize },
    /// Paused after a synchronizing literal announcement; the literal ends at `end`.
    Decision { end: usize },
    /// Dropping the rest of a line of a rejected message; `tail` holds its last bytes so a
    /// literal announcement at its end is still recognised.
    DiscardLine { tail: [u8; 24], tail_len: u8 },
    /// Dropping `remaining` literal bytes of a rejected message.
    DiscardLiteral { remaining: u64 },
}

/// The framer's input buffer: bytes it owns (copied in by [`Framer::push`]), or a buffer
/// handed over whole by [`Framer::push_bytes`] while nothing else was pending, from which
/// frames are cut without copying. Adopted bytes move into the owned part only when more
/// input arrives while part of them is still unframed (that part is copied, once).
#[derive(Debug, Default)]
struct Input {
    owned: BytesMut,
    /// When set, `owned` is empty and these are the buffered bytes.
    shared: Option<Bytes>,
}

impl std::ops::Deref for Input {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match &self.shared {
            Some(b) => b,
            None => &self.owned,
        }
    }
}

impl Input {
    #[inline]
    fn extend_from_slice(&mut self, data: &[u8]) {
        if let Some(b) = self.shared.take() {
            self.owned.reserve(b.len() + data.len());
            self.owned.extend_from_slice(&b);
        }
        if self.owned.capacity() - self.owned.len() < data.len() {
            // A long line arriving in chunks: grow 4x instead of 2x (half the reallocations
            // and copies for a multi-megabyte SEARCH line fed in 16 KiB pieces).
            self.owned.reserve(data.len().max(self.owned.len() * 3));
        }
        self.owned.extend_from_slice(data);
    }

    fn push_bytes(&mut self, data: Bytes) {
        if self.is_empty() {
            if !data.is_empty() {
                self.shared = Some(data);
            }
        } else {
            self.extend_from_slice(&data);
        }
    }

    /// The first `n` bytes, removed.
    #[inline]
    fn split_to(&mut self, n: usize) -> Bytes {
        match &mut self.shared {
            Some(b) => {
                let head = b.split_to(n);
                if b.is_empty() {
                    self.shared = None;
                }
                head
            }
            None => self.owned.split_to(n).freeze(),
        }
    }

    #[inline]
    fn advance(&mut self, n: usize) {
        match &mut self.shared {
            Some(b) => {
                b.advance(n);
                if b.is_empty() {
                    self.shared = None;
                }
            }
            None => self.owned.advance(n),
        }
    }

    fn clear(&mut self) {
        self.shared = None;
        self.owned.clear();
    }

    /// Everything, removed.
    fn take(&mut self) -> Bytes {
        match self.shared.take() {
            Some(b) => b,
            None => self.owned.split().freeze(),
        }
    }

    /// `buf[..n]` as a shared slice when that costs no copy.
    #[inline]
    fn shared_prefix(&self, n: usize) -> Option<Bytes> {
        self.shared.as_ref().map(|b| b.slice(..n))
    }
}

/// The streaming framer. Push bytes with [`push`](Self::push), take frames with
/// [`next_frame`](Self::next_frame) until it returns `None`, repeat.
#[derive(Debug)]
pub struct Framer {
    buf: Input,
    state: State,
    config: FramerConfig,
    /// Stream offset of `buf[0]`.
    offset: u64,
    /// Number of literals in the current message.
    literals: usize,
    /// Stream offset where the current message started.
    msg_offset: u64,
    /// Tag of a message being discarded (for a sync literal rejected in Decision).
    pending: Option<LiteralAnnouncement>,
}

impl Framer {
    /// A framer with the given configuration.
    pub fn new(config: FramerConfig) -> Self {
        Framer {
            buf: Input::default(),
            state: State::Line {
                line_start: 0,
                scan: 0,
            },
            config,
            offset: 0,
            literals: 0,
            msg_offset: 0,
            pending: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &FramerConfig {
        &self.config
    }

    /// Changes the limits (takes effect for the next bytes examined).
    pub fn set_limits(&mut self, limits: Limits) {
        self.config.limits = limits;
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        match &mut self.state {
            // While discarding literal data, drop it right away instead of buffering it.
            State::DiscardLiteral { remaining } if self.buf.is_empty() => {
                let n = (*remaining).min(data.len() as u64) as usize;
                *remaining -= n as u64;
                self.offset += n as u64;
                self.buf.extend_from_slice(&data[n..]);
            }
            _ => self.buf.extend_from_slice(data),
        }
    }

    /// Appends received bytes held in a shared buffer. When nothing is buffered (the usual
    /// case between reads, and always for a whole capture), the framer keeps `data` itself
    /// and cuts the frames out of it: no byte is copied, and literal payloads are never
    /// touched. Otherwise the bytes are appended like [`push`](Self::push).
    pub fn push_bytes(&mut self, mut data: Bytes) {
        if let State::DiscardLiteral { remaining } = &mut self.state {
            if self.buf.is_empty() {
                let n = (*remaining).min(data.len() as u64) as usize;
                *remaining -= n as u64;
                self.offset += n as u64;
                data.advance(n);
            }
        }
        self.buf.push_bytes(data);
    }

    /// Bytes received but not yet handed out as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Whether the framer sits between messages with nothing buffered.
    pub fn is_idle(&self) -> bool {
        self.buf.is_empty() && matches!(self.state, State::Line { line_start: 0, .. })
    }

    /// Whether the framer is paused at a synchronizing literal awaiting a decision.
    pub fn awaiting_decision(&self) -> bool {
        matches!(self.state, State::Decision { .. })
    }

    /// Total bytes consumed from the stream so far (framed or discarded).
    pub fn stream_offset(&self) -> u64 {
        self.offset
    }

    /// Lets the paused synchronizing literal through (the server has sent `+`).
    pub fn accept_literal(&mut self) {
        if let State::Decision { end } = self.state {
            self.state = State::Literal { end };
            self.pending = None;
        }
    }

    /// Refuses the paused synchronizing literal: the client will not send it, so the message
    /// ends here and is dropped. Returns the dropped partial message.
    pub fn reject_literal(&mut self) -> Option<Bytes> {
        if let State::Decision { end } = self.state {
            let len = self.current_line_end(end);
            let dropped = self.buf.split_to(len);
            self.offset += len as u64;
            self.reset_message();
            self.pending = None;
            return Some(dropped);
        }
        None
    }

    /// Takes the bytes that were received but not framed (for a STARTTLS/COMPRESS hand-off:
    /// they belong to the next layer, or are an injection attempt).
    pub fn take_buffered(&mut self) -> Bytes {
        let b = self.buf.take();
        self.offset += b.len() as u64;
        self.reset_message();
        b
    }

    /// In state Decision with literal ending at `end`: the announcement line ends where the
    /// literal data starts, which is `end - length`.
    fn current_line_end(&self, end: usize) -> usize {
        let len = self
            .pending
            .as_ref()
            .map(|p| p.length as usize)
            .unwrap_or(0);
        end.saturating_sub(len).min(self.buf.len())
    }

    fn reset_message(&mut self) {
        self.state = State::Line {
            line_start: 0,
            scan: 0,
        };
        self.literals = 0;
        self.msg_offset = self.offset;
    }

    /// The tag of a message: its first token, if it is a valid tag followed by SP within the
    /// first [`MAX_TAG`] bytes (a bound that keeps the result independent of how much of an
    /// oversized line had arrived).
    ///
    /// The tag is a slice of the input when the framer holds a shared buffer
    /// ([`push_bytes`](Self::push_bytes)), else a copy of at most [`MAX_TAG`] bytes.
    fn recover_tag(&self) -> Option<Bytes> {
        let line = &self.buf[..self.buf.len().min(MAX_TAG + 1)];
        let end = line
            .iter()
            .position(|&c| !class::is_tag_char(c))
            .unwrap_or(line.len());
        if end == 0 || line.get(end) != Some(&b' ') {
            return None;
        }
        Some(
            self.buf
                .shared_prefix(end)
                .unwrap_or_else(|| Bytes::copy_from_slice(&line[..end])),
        )
    }

    fn limit_error(&self, kind: LimitKind, limit: u64, actual: u64, tag: Option<Bytes>) -> Frame {
        Frame::Error(FrameError::LimitExceeded {
            kind,
            limit,
            actual,
            tag,
            stream_offset: self.msg_offset,
        })
    }

    /// Drops the whole buffered message and starts discarding the rest of its current line.
    /// `line_start` is where the current line starts in the buffer: only its bytes are kept
    /// for the announcement check, as when the line arrives whole.
    fn discard_from_line(&mut self, line_start: usize) {
        let n = self.buf.len();
        let mut tail = [0u8; 24];
        let keep = (n - line_start.min(n)).min(24);
        tail[..keep].copy_from_slice(&self.buf[n - keep..]);
        self.buf.clear();
        self.offset += n as u64;
        self.state = State::DiscardLine {
            tail,
            tail_len: keep as u8,
        };
    }

    /// Produces the next frame, or `None` when more bytes are needed (or a decision is pending).
    pub fn next_frame(&mut self) -> Option<Frame> {
        loop {
            match self.state {
                State::Line { line_start, scan } => {
                    let lim = self.config.limits;
                    let found = memchr::memchr(b'\n', &self.buf[scan..]).map(|i| scan + i);
                    let Some(lf) = found else {
                        let line_len = self.buf.len() - line_start;
                        if line_len > lim.max_line {
                            let tag = self.recover_tag();
                            let err = self.limit_error(
                                LimitKind::Line,
                                lim.max_line as u64,
                                line_len as u64,
                                tag,
                            );
                            self.discard_from_line(line_start);
                            return Some(err);
                        }
                        if self.buf.len() as u64 > lim.max_message {
                            let tag = self.recover_tag();
                            let err = self.limit_error(
                                LimitKind::Message,
                                lim.max_message,
                                self.buf.len() as u64,
                                tag,
                            );
                            self.discard_from_line(line_start);
                            return Some(err);
                        }
                        self.state = State::Line {
                            line_start,
                            scan: self.buf.len(),
                        };
                        return None;
                    };
                    let line_len = lf + 1 - line_start;
                    if line_len > lim.max_line || (lf + 1) as u64 > lim.max_message {
                        let tag = self.recover_tag();
                        let (kind, limit, actual) = if line_len > lim.max_line {
                            (LimitKind::Line, lim.max_line as u64, line_len as u64)
                        } else {
                            (LimitKind::Message, lim.max_message, (lf + 1) as u64)
                        };
                        let err = self.limit_error(kind, limit, actual, tag);
                        // The line is complete: drop it, then any literal it announces (looked
                        // for in the same tail window as when the line arrives in pieces).
                        let ann = parse_announcement(line_tail(&self.buf[line_start..lf]));
                        let n = lf + 1;
                        self.buf.advance(n);
                        self.offset += n as u64;
                        match ann {
                            Ok(Some((len, _, _))) => {
                                self.state = State::DiscardLiteral { remaining: len };
                            }
                            _ => self.reset_message(),
                        }
                        return Some(err);
                    }
                    match parse_announcement(&self.buf[line_start..lf]) {
                        Ok(None) => {
                            let msg = self.buf.split_to(lf + 1);
                            self.offset += msg.len() as u64;
                            self.reset_message();
                            return Some(Frame::Message(msg));
                        }
                        Err(()) => {
                            let tag = self.recover_tag();
                            let n = lf + 1;
                            self.buf.advance(n);
                            self.offset += n as u64;
                            let err = FrameError::LiteralLengthOverflow {
                                tag,
                                stream_offset: self.msg_offset,
                            };
                            self.reset_message();
                            return Some(Frame::Error(err));
                        }
                        Ok(Some((length, mode, binary))) => {
                            let tag = self.recover_tag();
                            self.literals += 1;
                            let total = (lf + 1) as u64 + length;
                            let over = if length > lim.max_literal {
                                Some((LimitKind::Literal, lim.max_literal, length))
                            } else if total > lim.max_message {
                                Some((LimitKind::Message, lim.max_message, total))
                            } else if self.literals > lim.max_literals {
                                Some((
                                    LimitKind::LiteralCount,
                                    lim.max_literals as u64,
                                    self.literals as u64,
                                ))
                            } else {
                                None
                            };
                            if let Some((kind, limit, actual)) = over {
                                let err = self.limit_error(kind, limit, actual, tag);
                                let n = lf + 1;
                                self.buf.advance(n);
                                self.offset += n as u64;
                                if mode == LiteralMode::Sync && self.config.await_sync_literals {
                                    // The client waits for '+', which it will not get: the
                                    // message ends here.
                                    self.reset_message();
                                } else {
                                    self.state = State::DiscardLiteral { remaining: length };
                                    // drop what is already buffered of it
                                    let have = (self.buf.len() as u64).min(length) as usize;
                                    self.buf.advance(have);
                                    self.offset += have as u64;
                                    self.state = State::DiscardLiteral {
                                        remaining: length - have as u64,
                                    };
                                }
                                return Some(err);
                            }
                            let end = lf + 1 + length as usize;
                            let ann = LiteralAnnouncement {
                                tag,
                                length,
                                mode,
                                binary,
                            };
                            if mode == LiteralMode::Sync && self.config.await_sync_literals {
                                self.pending = Some(ann.clone());
                                self.state = State::Decision { end };
                            } else {
                                self.state = State::Literal { end };
                            }
                            return Some(Frame::LiteralAnnounced(ann));
                        }
                    }
                }
                State::Decision { .. } => return None,
                State::Literal { end } => {
                    if self.buf.len() < end {
                        return None;
                    }
                    self.state = State::Line {
                        line_start: end,
                        scan: end,
                    };
                }
                State::DiscardLiteral { remaining } => {
                    let have = (self.buf.len() as u64).min(remaining) as usize;
                    self.buf.advance(have);
                    self.offset += have as u64;
                    let remaining = remaining - have as u64;
                    if remaining > 0 {
                        self.state = State::DiscardLiteral { remaining };
                        return None;
                    }
                    self.state = State::DiscardLine {
                        tail: [0; 24],
                        tail_len: 0,
                    };
                }
                State::DiscardLine { tail, tail_len } => {
                    match memchr::memchr(b'\n', &self.buf) {
                        None => {
                            // keep only the last bytes for literal detection
                            let n = self.buf.len();
                            let mut t = tail;
                            let mut tl = tail_len as usize;
                            for &c in &self.buf[n.saturating_sub(24)..] {
                                if tl == 24 {
                                    t.copy_within(1..24, 0);
                                    tl = 23;
                                }
                                t[tl] = c;
                                tl += 1;
                            }
                            self.buf.clear();
                            self.offset += n as u64;
                            self.state = State::DiscardLine {
                                tail: t,
                                tail_len: tl as u8,
                            };
                            return None;
                        }
                        Some(lf) => {
                            let mut line = Vec::with_capacity(48);
                            line.extend_from_slice(&tail[..tail_len as usize]);
                            line.extend_from_slice(&self.buf[lf.saturating_sub(24)..lf]);
                            self.buf.advance(lf + 1);
                            self.offset += (lf + 1) as u64;
                            match parse_announcement(line_tail(&line)) {
                                Ok(Some((len, _, _))) => {
                                    self.state = State::DiscardLiteral { remaining: len };
                                }
                                _ => self.reset_message(),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The last bytes of a discarded line, where a literal announcement is looked for.
fn line_tail(line: &[u8]) -> &[u8] {
    &line[line.len().saturating_sub(24)..]
}

/// Checks whether a line (without its LF) ends with a literal announcement.
/// `Ok(None)`: no literal; `Err(())`: a length that overflows u64.
pub(crate) fn parse_announcement(line: &[u8]) -> Result<Option<(u64, LiteralMode, bool)>, ()> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Some(rest) = line.strip_suffix(b"}") else {
        return Ok(None);
    };
    let (rest, mode) = match rest.strip_suffix(b"+") {
        Some(r) => (r, LiteralMode::NonSync),
        None => (rest, LiteralMode::Sync),
    };
    let ndigits = rest.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    if ndigits == 0 {
        return Ok(None);
    }
    let (rest, digits) = rest.split_at(rest.len() - ndigits);
    let Some(rest) = rest.strip_suffix(b"{") else {
        return Ok(None);
    };
    let binary = rest.ends_with(b"~");
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as u64))
            .ok_or(())?;
    }
    Ok(Some((v, mode, binary)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(f: &mut Framer) -> Vec<Frame> {
        std::iter::from_fn(|| f.next_frame()).collect()
    }

    #[test]
    fn announcement_forms() {
        assert_eq!(
            parse_announcement(b"a {5}\r"),
            Ok(Some((5, LiteralMode::Sync, false)))
        );
        assert_eq!(
            parse_announcement(b"a ~{5+}"),
            Ok(Some((5, LiteralMode::NonSync, true)))
        );
        assert_eq!(parse_announcement(b"a {}"), Ok(None));
        assert_eq!(parse_announcement(b"a 5}"), Ok(None));
        assert_eq!(parse_announcement(b"a {99999999999999999999999}"), Err(()));
    }

    #[test]
    fn byte_by_byte_equals_whole() {
        let input: &[u8] = b"* OK hi\r\n* 1 FETCH (BODY[] {3}\r\nabc FLAGS ())\r\na1 OK x\r\n";
        let mut whole = Framer::new(Default::default());
        whole.push(input);
        let a = frames(&mut whole);
        let mut split = Framer::new(Default::default());
        let mut b = Vec::new();
        for c in input.chunks(1) {
            split.push(c);
            b.extend(frames(&mut split));
        }
        assert_eq!(a, b);
        assert_eq!(a.len(), 4);
    }

    #[test]
    fn push_bytes_equals_push() {
        let input = Bytes::from_static(
            b"* OK hi\r\n* 1 FETCH (BODY[] {3}\r\nabc FLAGS ())\r\na1 OK x\r\nA2 APPEND x {2+}\r\nhi\r\n",
        );
        let mut whole = Framer::new(Default::default());
        whole.push(&input);
        let a = frames(&mut whole);
        assert_eq!(a.len(), 6);
        // whole buffer shared
        let mut shared = Framer::new(Default::default());
        shared.push_bytes(input.clone());
        assert_eq!(frames(&mut shared), a);
        assert_eq!(shared.buffered(), 0);
        // every split point, shared then copied / shared then shared
        for cut in 0..=input.len() {
            for second_shared in [false, true] {
                let mut f = Framer::new(Default::default());
                f.push_bytes(input.slice(..cut));
                let mut b = frames(&mut f);
                if second_shared {
                    f.push_bytes(input.slice(cut..));
                } else {
                    f.push(&input[cut..]);
                }
                b.extend(frames(&mut f));
                assert_eq!(b, a, "cut at {cut}");
                assert_eq!(f.stream_offset(), input.len() as u64);
            }
        }
    }

    #[test]
    fn sync_literal_await_and_reject() {
        let mut f = Framer::new(FramerConfig {
            await_sync_literals: true,
            ..Default::default()
        });
        f.push(b"a1 LOGIN {4}\r\n");
        let Some(Frame::LiteralAnnounced(a)) = f.next_frame() else {
            panic!()
        };
        assert_eq!(a.tag.as_deref(), Some(&b"a1"[..]));
        assert!(f.next_frame().is_none());
        assert!(f.reject_literal().is_some());
        f.push(b"a2 NOOP\r\n");
        assert_eq!(
            frames(&mut f),
            vec![Frame::Message(Bytes::from_static(b"a2 NOOP\r\n"))]
        );
    }

    #[test]
    fn oversized_line_is_dropped_and_next_decodes() {
        let mut f = Framer::new(FramerConfig {
            limits: Limits {
                max_line: 100,
                ..Default::default()
            },
            ..Default::default()
        });
        f.push(b"a1 ");
        for _ in 0..1000 {
            f.push(&[b'x'; 64]);
            let _ = frames(&mut f);
            assert!(f.buffered() <= 200);
        }
        f.push(b"\r\na2 NOOP\r\n");
        let out = frames(&mut f);
        assert_eq!(
            out,
            vec![Frame::Message(Bytes::from_static(b"a2 NOOP\r\n"))]
        );
    }
}
