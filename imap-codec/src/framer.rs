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
use std::num::NonZeroU64;

use crate::error::{FrameError, LimitKind, NoLiteralPending};
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

/// A literal header, `["~"] "{" 1*20DIGIT ["+"] "}"` (RFC 9051 §9 `literal`, RFC 3516
/// `literal8`, RFC 7888 `{n+}`), as read by the one parser of it, which the framer and the
/// grammar share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LiteralHeader {
    /// Announced length.
    pub length: u64,
    /// Synchronizing or not.
    pub mode: LiteralMode,
    /// `~{n}` (literal8, RFC 3516).
    pub binary: bool,
}

/// Most digits a literal length may have (`u64::MAX` has 20). A longer run, leading zeros
/// included, is an overflow: an announcement is therefore at most 24 bytes long (25 with the CR), the window
/// in which the framer looks for one at the end of a line it is discarding.
pub const MAX_LITERAL_DIGITS: usize = 20;

/// Why [`literal_header`] found no literal header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// Not a literal header; `at` is the offset of the byte that does not fit.
    Invalid {
        /// Offset of the first byte that does not fit.
        at: usize,
        /// What was expected there.
        expected: &'static str,
    },
    /// A well-formed header whose length has more than [`MAX_LITERAL_DIGITS`] digits or does
    /// not fit in 64 bits; `at` is the offset of the first digit.
    Overflow {
        /// Offset of the first digit.
        at: usize,
    },
}

/// The one parser of literal headers, used by the framer (to find where a message ends) and by
/// the grammar (to read the literal): both accept and reject exactly the same announcements,
/// so the framer's idea of where a literal ends is always the parser's.
///
/// Reads `["~"] "{" 1*DIGIT ["+"] "}"` at the start of `s` and returns the header and its
/// length in bytes. Leading zeros are allowed (`number` is `1*DIGIT`); more than
/// [`MAX_LITERAL_DIGITS`] digits, or a value above `u64::MAX`, is
/// [`HeaderError::Overflow`] (reported only for an otherwise complete header).
#[inline]
pub(crate) fn literal_header(s: &[u8]) -> Result<(LiteralHeader, usize), HeaderError> {
    let binary = s.first() == Some(&b'~');
    let mut i = binary as usize;
    if s.get(i) != Some(&b'{') {
        return Err(HeaderError::Invalid {
            at: i,
            expected: "{",
        });
    }
    i += 1;
    let ds = i;
    // wrapping: up to 19 digits fit in 64 bits (below 10^19 < 2^64); 20 are checked again
    // below, more are an overflow
    let mut v: u64 = 0;
    while let Some(&c @ b'0'..=b'9') = s.get(i) {
        v = v.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
        i += 1;
    }
    let digits = i - ds;
    if digits == 0 {
        return Err(HeaderError::Invalid {
            at: i,
            expected: "literal length",
        });
    }
    let mode = if s.get(i) == Some(&b'+') {
        i += 1;
        LiteralMode::NonSync
    } else {
        LiteralMode::Sync
    };
    if s.get(i) != Some(&b'}') {
        return Err(HeaderError::Invalid {
            at: i,
            expected: if mode == LiteralMode::Sync {
                "\"}\" or \"+\""
            } else {
                "\"}\""
            },
        });
    }
    if digits >= MAX_LITERAL_DIGITS && !fits_u64(&s[ds..ds + digits]) {
        return Err(HeaderError::Overflow { at: ds });
    }
    Ok((
        LiteralHeader {
            length: v,
            mode,
            binary,
        },
        i + 1,
    ))
}

/// Whether a literal's length of [`MAX_LITERAL_DIGITS`] digits or more fits in 64 bits (no
/// more digits than that, and no overflow).
#[cold]
fn fits_u64(digits: &[u8]) -> bool {
    digits.len() <= MAX_LITERAL_DIGITS
        && digits
            .iter()
            .try_fold(0u64, |v, &c| {
                v.checked_mul(10)?.checked_add(u64::from(c - b'0'))
            })
            .is_some()
}

/// A literal announcement seen at the end of a line, with what a server needs to decide on
/// it without parsing the line again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiteralAnnouncement {
    /// The tag of the message, when its first token is a valid tag followed by SP.
    pub tag: Option<Bytes>,
    /// The command name, when the message has a tag: the word after the tag in upper case,
    /// and for `UID` the two words (`b"UID FETCH"`, distinct from `b"FETCH"`). At most
    /// [`MAX_COMMAND_NAME`] bytes per word; `None` for an untagged or `+` line (responses).
    pub command: Option<Bytes>,
    /// Announced length.
    pub length: u64,
    /// Synchronizing or not.
    pub mode: LiteralMode,
    /// `~{n}` (literal8, RFC 3516).
    pub binary: bool,
    /// Offset of the `{` of its header in its message (as the final [`Frame::Message`] will
    /// hold it: earlier streamed literals' headers as `{0}`, the same offsets as
    /// [`StreamStart::offset`]). With [`tag`](Self::tag) and [`command`](Self::command) it
    /// tells which argument the literal is: `offset == tag.len() + 1 + command.len() + 1`
    /// for the first (a server that streams APPEND messages keeps the mailbox name).
    pub offset: usize,
}

/// Longest command-name word the framer copies into [`LiteralAnnouncement::command`].
pub const MAX_COMMAND_NAME: usize = 32;

/// One output of the framer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frame {
    /// A complete message: its line(s), CRLFs and literal payloads, as one buffer.
    Message(Bytes),
    /// A line ended with a literal announcement. With [`FramerConfig::await_sync_literals`], a
    /// synchronizing literal pauses the framer until [`Framer::accept_literal`] or
    /// [`Framer::reject_literal`].
    LiteralAnnounced(LiteralAnnouncement),
    /// A message was given up; it is skipped and framing goes on with the next one.
    Error(FrameError),
    /// With [`FramerConfig::stream_literals_over`]: a literal longer than the threshold
    /// starts; its data follows as [`LiteralChunk`](Frame::LiteralChunk)s, and the literal
    /// ends with the chunk that completes its announced length (there is no end frame).
    /// The rest of the message then arrives in the [`Message`](Frame::Message), in which
    /// this literal's header reads `{0}` (or `~{0}`) and its data is absent.
    LiteralBegin(StreamStart),
    /// A piece of a streamed literal's data: the bytes of one push, as they arrived (no copy
    /// when they came with [`Framer::push_bytes`]). Boundaries follow the input; the chunks
    /// of a literal add up to its announced length.
    LiteralChunk(Bytes),
}

/// The start of a streamed literal ([`Frame::LiteralBegin`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamStart {
    /// The announcement (with the real length).
    pub announcement: LiteralAnnouncement,
    /// The message up to and including the announcement line, as received (this literal's
    /// header as announced); any earlier streamed literals' part as the final
    /// [`Frame::Message`] holds it (their headers as `{0}`, their data absent). Without an
    /// earlier streamed literal it is a slice of what was received, not a copy: of the
    /// pushed `Bytes`, or of the framer's buffer, which then stays allocated while the
    /// prefix is held; with one, a copy.
    pub prefix: Bytes,
    /// Offset of the `{` of this literal's header, in [`prefix`](Self::prefix) and in the
    /// final message (where the header reads `{0}`).
    pub offset: usize,
}

/// Framer settings. The default suits a client (or a captured stream): literal data is
/// assumed to follow its announcement; [`FramerConfig::server`] suits a server. Settings
/// are added as the protocol needs them: build it from [`FramerConfig::default`] or
/// [`FramerConfig::server`] and the `with_*` methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct FramerConfig {
    /// Size limits.
    pub limits: Limits,
    /// Server side: pause at each synchronizing literal until the caller accepts or rejects it
    /// (the client does not send the data before the `+`). When false (client side, or a
    /// captured stream), literal data is assumed to follow.
    pub await_sync_literals: bool,
    /// Server side, LITERAL- (RFC 7888 §4): the largest non-synchronizing literal accepted
    /// ([`LITERAL_MINUS_MAX`] under LITERAL-). A larger one is a
    /// [`FrameError::LimitExceeded`] with [`LimitKind::NonSyncLiteral`] and the tag (the
    /// server answers `BAD [TOOBIG]`); its data is dropped as it streams past and the next
    /// command decodes. `None`: only [`Limits`] apply.
    pub max_nonsync_literal: Option<u64>,
    /// Client side: literals longer than this are handed over in pieces as they arrive
    /// ([`Frame::LiteralBegin`], then [`Frame::LiteralChunk`]s up to its length) instead of
    /// being buffered, so memory stays bounded by the threshold plus one read whatever the
    /// literal's length; such literals are exempt from [`Limits::max_literal`] and
    /// [`Limits::max_message`] (they still count towards [`Limits::max_literals`]). Not
    /// applied to a synchronizing literal the framer pauses at. `None` (the default): every
    /// literal is part of its message.
    pub stream_literals_over: Option<u64>,
    /// Client side: a literal the caller has nothing to decide on (not paused at, not
    /// streamed) is framed without a [`Frame::LiteralAnnounced`]; its message comes whole
    /// as a [`Frame::Message`], as it would after the announcement. Limits apply as before
    /// (a literal over one is still a [`Frame::Error`]), and paused or streamed literals are
    /// still announced. For a receiver that ignores these announcements (a client session,
    /// a reader of captured streams): a message with literals then costs one frame, not
    /// one per literal plus one. `false` (the default): every literal is announced.
    pub quiet_literals: bool,
}

/// What the framer does with one announced literal: the single decision behind both the
/// general path ([`Framer::announced`]) and the complete-message fast path
/// ([`Framer::literal_message_len`], which takes a message only when every literal in it is
/// [`Quiet`](LiteralFate::Quiet)), so the two cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LiteralFate {
    /// A limit is exceeded: kind, limit, actual. A streamed literal is not buffered, so
    /// only the literal count applies to it.
    Over(LimitKind, u64, u64),
    /// A synchronizing literal the caller decides on ([`FramerConfig::await_sync_literals`]).
    Paused,
    /// Longer than [`FramerConfig::stream_literals_over`]: handed out in chunks.
    Streamed,
    /// Framed inside its message without a frame of its own ([`FramerConfig::quiet_literals`]).
    Quiet,
    /// Framed inside its message after a [`Frame::LiteralAnnounced`].
    Announced,
}

/// The fate of literal `h` under `config`, when it is the message's `literals`-th literal
/// and the message is `total` bytes long with it (its lines so far and its literals).
#[inline(always)]
fn literal_fate(
    config: &FramerConfig,
    literals: usize,
    total: u64,
    h: LiteralHeader,
) -> LiteralFate {
    let lim = &config.limits;
    let length = h.length;
    let paused = h.mode == LiteralMode::Sync && config.await_sync_literals;
    let stream = !paused && config.stream_literals_over.is_some_and(|t| length > t);
    let count_over = literals > lim.max_literals;
    let count = (
        LimitKind::LiteralCount,
        lim.max_literals as u64,
        literals as u64,
    );
    if stream {
        return if count_over {
            LiteralFate::Over(count.0, count.1, count.2)
        } else {
            LiteralFate::Streamed
        };
    }
    let over = if length > lim.max_literal {
        Some((LimitKind::Literal, lim.max_literal, length))
    } else if let Some(m) = config
        .max_nonsync_literal
        .filter(|&m| h.mode == LiteralMode::NonSync && length > m)
    {
        Some((LimitKind::NonSyncLiteral, m, length))
    } else if total > lim.max_message {
        Some((LimitKind::Message, lim.max_message, total))
    } else if count_over {
        Some(count)
    } else {
        None
    };
    match over {
        Some((kind, limit, actual)) => LiteralFate::Over(kind, limit, actual),
        None if paused => LiteralFate::Paused,
        None if config.quiet_literals => LiteralFate::Quiet,
        None => LiteralFate::Announced,
    }
}

/// The largest non-synchronizing literal a LITERAL- server accepts (RFC 7888 §4).
pub const LITERAL_MINUS_MAX: u64 = 4096;

impl FramerConfig {
    field_builders! {
        /// With these size limits ([`limits`](Self::limits)).
        with_limits(limits: Limits);

        /// Pausing at synchronizing literals or not
        /// ([`await_sync_literals`](Self::await_sync_literals)).
        with_await_sync_literals(await_sync_literals: bool);

        /// With this bound on non-synchronizing literals
        /// ([`max_nonsync_literal`](Self::max_nonsync_literal)).
        with_max_nonsync_literal(max_nonsync_literal: Option<u64>);

        /// Streaming literals longer than this
        /// ([`stream_literals_over`](Self::stream_literals_over)).
        with_stream_literals_over(stream_literals_over: Option<u64>);

        /// Announcing only the literals that pause or stream, or all
        /// ([`quiet_literals`](Self::quiet_literals)).
        with_quiet_literals(quiet_literals: bool);
    }

    /// Server side: pause at every synchronizing literal
    /// ([`await_sync_literals`](Self::await_sync_literals)), default limits, no LITERAL-
    /// bound.
    pub fn server() -> Self {
        FramerConfig {
            await_sync_literals: true,
            ..FramerConfig::default()
        }
    }
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
    DiscardLine { tail: [u8; WINDOW], tail_len: u8 },
    /// Dropping `remaining` literal bytes of a rejected message.
    DiscardLiteral { remaining: u64 },
    /// Handing out `remaining` more bytes of a streamed literal (the framer moves on to the
    /// rest of the message with the literal's last byte).
    Stream { remaining: NonZeroU64 },
}

impl State {
    /// At the start of a line (of a new message, or of the rest of one).
    const LINE: State = State::Line {
        line_start: 0,
        scan: 0,
    };

    /// Handing out `remaining` bytes of a streamed literal; with none, on to the rest of
    /// the message.
    #[inline(always)]
    fn stream(remaining: u64) -> State {
        NonZeroU64::new(remaining).map_or(State::LINE, |remaining| State::Stream { remaining })
    }
}

/// Room made after a literal joined across buffers for the rest of its message (a FETCH
/// answer's `)` and CRLF, or a few more items).
pub const LITERAL_TAIL: usize = 256;

/// How many reads of the size asked for a new buffer made by [`Framer::read_room`] has
/// room for (at least): a buffer is replaced when its spare capacity runs out, which copies
/// the start of the message that straddles its end, so it should hold several reads.
pub const ROOM_READS: usize = 4;

/// With nothing held, a room asked for when the buffer has spare capacity for fewer reads
/// of the size asked for than this is made from renewed memory (the buffer's reclaimed, or
/// a new one): nothing is copied then, where running out in the middle of a message would
/// copy its start.
const RENEW_READS: usize = 3;

/// The largest rest of a held literal [`Framer::read_room`] makes room for ahead of its
/// bytes (unless three times what is held is more), and the least size of a new buffer
/// while held literals arrive: 1 MiB. Ahead: a held literal up to this size (the
/// client streams bodies over 256 KiB by default) is read into room made for all of it
/// once its header has arrived, and no announced length makes the framer allocate more
/// than this before the bytes come (far below the default [`Limits`]). The buffer size:
/// each time a buffer is replaced the start of one message is copied (up to a read), so a
/// buffer of 1 MiB copies about 1% of what it receives at most, at a memory cost of 1 MiB
/// per connection while it receives bodies: the block is let go at the first read that
/// finds nothing held between messages, so an idle connection keeps [`ROOM_READS`] reads'
/// room.
pub const HELD_ROOM: usize = 1 << 20;

/// The room [`Framer::read_room`] makes while the held literal that ends at `end` arrives
/// and `len` bytes are held: the rest of it, [`LITERAL_TAIL`] and `at_least` for the read,
/// when the rest and the tail are at most [`HELD_ROOM`] or three times `len`; otherwise
/// `at_least` (the buffer then grows 4x at a time, until the rest fits that bound). Once
/// made, the room for the rest stays enough: each read into the message takes from the
/// spare capacity what it takes from the rest.
#[inline]
fn held_room(end: usize, len: usize, at_least: usize) -> usize {
    let rest = end.saturating_sub(len).saturating_add(LITERAL_TAIL);
    if rest <= HELD_ROOM.max(len.saturating_mul(3)) {
        rest.saturating_add(at_least)
    } else {
        at_least
    }
}

/// The framer's input buffer: a contiguous part the framer works on, and the buffers pushed
/// after it that it has not needed yet.
///
/// The contiguous part holds bytes the framer owns (copied in by [`Framer::push`]), or a
/// buffer handed over by [`Framer::push_bytes`], from which frames are cut without copying.
/// A buffer pushed with `push_bytes` while bytes are pending waits in `more`, uncopied; the
/// framer takes bytes from it only when the contiguous part ends inside a frame
/// ([`Input::pull`]): then the pending part and the bytes of the new buffer up to the end of
/// the line (or of the literal) are copied, once, and the rest of the new buffer is adopted
/// without a copy as soon as the contiguous part is used up. Streamed literal data is
/// handed out as slices of the pushed buffers.
#[derive(Debug, Default)]
struct Input {
    owned: BytesMut,
    /// When set, `owned` is empty and these are the buffered bytes.
    shared: Option<Bytes>,
    /// Buffers pushed after the contiguous part, in order, none of them empty.
    more: std::collections::VecDeque<Bytes>,
    /// Total length of `more`.
    more_len: usize,
    /// `owned` holds only bytes copied in by [`Framer::push`]: no room or caller's buffer
    /// is joined to it, so it may be frozen into `shared` for reading messages in place
    /// ([`Framer::shared_front_or_freeze`]).
    copied: bool,
    /// Bytes copied out of a frozen buffer into a new one by `append` (what was left of it:
    /// the partial message at its end), for the test that bounds them.
    #[cfg(test)]
    unfrozen: usize,
}

impl std::ops::Deref for Input {
    type Target = [u8];
    #[inline(always)]
    fn deref(&self) -> &[u8] {
        match &self.shared {
            Some(b) => b,
            None => &self.owned,
        }
    }
}

impl Input {
    /// Appends copied bytes (after any buffers waiting in `more`).
    #[inline]
    fn extend_from_slice(&mut self, data: &[u8]) {
        if !self.more.is_empty() {
            self.queue(Bytes::copy_from_slice(data));
            return;
        }
        self.append(data);
    }

    /// Appends to the contiguous part, copying.
    #[inline]
    fn append(&mut self, data: &[u8]) {
        self.append_expecting(data, 0);
    }

    /// Appends to the contiguous part, copying, where `expect` more bytes are known to follow
    /// (the rest of a literal): room for them is made now, so that they are copied once, not
    /// again at each growth. The room made up front is at most what growing would allocate
    /// next (4x), so an announced length alone never allocates more than arriving bytes would.
    #[inline]
    fn append_expecting(&mut self, data: &[u8], expect: usize) {
        // What growing by 4x would add for `len` bytes held: the most made up front.
        let step = |len: usize| data.len().max((len + data.len()) * 3);
        if let Some(b) = self.shared.take() {
            #[cfg(test)]
            {
                self.unfrozen += b.len();
            }
            let ahead = expect.min(step(b.len()));
            self.owned.reserve(b.len() + data.len() + ahead);
            self.owned.extend_from_slice(&b);
        }
        if self.owned.capacity() - self.owned.len() < data.len() {
            // A long line arriving in chunks: grow 4x instead of 2x (half the reallocations
            // and copies for a multi-megabyte SEARCH line fed in 16 KiB pieces); the rest of
            // a literal: room for all of it when that is less.
            let len = self.owned.len();
            let grow = match expect {
                0 => step(len),
                e => data.len() + e.min(step(len)),
            };
            self.owned.reserve(grow);
        }
        self.owned.extend_from_slice(data);
    }

    fn push_bytes(&mut self, data: Bytes) {
        if self.is_empty() && self.more.is_empty() {
            if !data.is_empty() {
                self.owned.clear();
                self.shared = Some(data);
            }
        } else {
            self.queue(data);
        }
    }

    /// Appends a buffer the caller read into (see [`Framer::push_bytes_mut`]): as
    /// [`put_room`](Self::put_room), except that an empty one is ignored (its memory does
    /// not replace the contiguous part's).
    #[inline]
    fn push_bytes_mut(&mut self, data: BytesMut) {
        if !data.is_empty() {
            self.put_room(data);
        }
    }

    /// Takes back a room lent by [`Framer::read_room`] (or any buffer the caller read into)
    /// with what was read into it: joined to the contiguous part without a copy
    /// ([`BytesMut::unsplit`]) when it continues it in the same allocation (empty or not:
    /// its spare capacity takes the next read), or adopted when the contiguous part is
    /// empty; any other buffer waits in `more` like a `push_bytes` one.
    #[inline]
    fn put_room(&mut self, room: BytesMut) {
        self.copied = false;
        if self.more.is_empty() && self.shared.is_none() {
            if self.owned.is_empty() {
                self.owned = room;
                return;
            }
            // `unsplit` is O(1) only for the adjacent part of the same allocation (it copies
            // otherwise): adjacency is checked here, the allocation by `unsplit` itself.
            if self.owned.as_ptr().wrapping_add(self.owned.len()) == room.as_ptr() {
                self.owned.unsplit(room);
                return;
            }
        }
        self.queue(room.freeze());
    }

    #[cold]
    fn queue(&mut self, data: Bytes) {
        if !data.is_empty() {
            self.more_len += data.len();
            self.more.push_back(data);
        }
    }

    /// All buffered bytes, the contiguous part and `more`.
    #[inline]
    fn total(&self) -> usize {
        self.len() + self.more_len
    }

    /// Nothing buffered at all.
    #[inline]
    fn is_drained(&self) -> bool {
        self.is_empty() && self.more.is_empty()
    }

    /// Moves bytes of the next waiting buffer into the contiguous part: the whole buffer,
    /// without a copy, when the contiguous part is empty; otherwise (the contiguous part ends
    /// inside a frame) the bytes up to and including its first LF (`want` `None`: a line is
    /// being scanned) or at most `want` bytes (a literal), copied. `false` when no buffer
    /// waits.
    #[inline]
    fn pull(&mut self, want: Option<usize>) -> bool {
        // no buffer waits (the usual case): decided here, without a call
        !self.more.is_empty() && self.pull_more(want)
    }

    /// [`pull`](Self::pull) when a buffer waits in `more`.
    #[inline(never)]
    fn pull_more(&mut self, want: Option<usize>) -> bool {
        let empty = match &self.shared {
            Some(b) => b.is_empty(),
            None => self.owned.is_empty(),
        };
        if empty {
            let Some(seg) = self.more.pop_front() else {
                return false;
            };
            self.more_len -= seg.len();
            self.owned.clear();
            self.shared = Some(seg);
            return true;
        }
        let Some(seg) = self.more.front() else {
            return false;
        };
        // A literal's bytes: what follows it is known too (its rest, and the line after it).
        let (k, expect) = match want {
            Some(n) => {
                let k = n.min(seg.len());
                (k, n - k + LITERAL_TAIL)
            }
            None => (memchr::memchr(b'\n', seg).map_or(seg.len(), |i| i + 1), 0),
        };
        let seg = match self.more.pop_front() {
            Some(seg) => seg,
            None => return false,
        };
        self.append_expecting(&seg[..k], expect);
        self.more_len -= k;
        if k < seg.len() {
            self.more.push_front(seg.slice(k..));
        }
        true
    }

    /// The first `n` bytes, removed.
    #[inline(always)]
    fn split_to(&mut self, n: usize) -> Bytes {
        match &mut self.shared {
            // all of a shared buffer: handed over as it is (no reference count taken)
            Some(b) if n == b.len() => self.shared.take().unwrap_or_default(),
            Some(b) => b.split_to(n),
            // all of an adopted read without spare capacity (a `push_bytes_mut` buffer, in
            // particular one read inside a streamed literal): handed over as it is, no
            // reference count taken; a buffer with spare capacity (bytes copied in by
            // `push`) keeps it for the next bytes
            None if n == self.owned.len() && n == self.owned.capacity() => {
                std::mem::take(&mut self.owned).freeze()
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

    /// Empties the contiguous part (buffers waiting in `more` stay).
    fn clear(&mut self) {
        self.shared = None;
        self.owned.clear();
    }

    /// Everything, removed (waiting buffers included).
    fn take(&mut self) -> Bytes {
        let head = match self.shared.take() {
            Some(b) => b,
            None => self.owned.split().freeze(),
        };
        if self.more.is_empty() {
            return head;
        }
        let mut all = BytesMut::with_capacity(head.len() + self.more_len);
        all.extend_from_slice(&head);
        for seg in self.more.drain(..) {
            all.extend_from_slice(&seg);
        }
        self.more_len = 0;
        all.freeze()
    }

    /// `buf[..n]` as a shared slice when that costs no copy.
    #[inline]
    fn shared_prefix(&self, n: usize) -> Option<Bytes> {
        self.shared.as_ref().map(|b| b.slice(..n))
    }
}

/// Lends the first `k` bytes of `buf` (at most all of them) to `chunk` and drops them from
/// it; when they were all of it, `buf` is cleared instead, so that its memory takes the next
/// read at the same address.
#[inline(always)]
fn lend_front(buf: &mut BytesMut, k: usize, chunk: impl FnOnce(&[u8])) {
    let k = k.min(buf.len());
    chunk(&buf[..k]);
    if k == buf.len() {
        buf.clear();
    } else {
        buf.advance(k);
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
    /// The current message's bytes moved out of `buf` when its literal was streamed (headers
    /// rewritten to `{0}`; `buf` then holds what follows); empty exactly when no literal of
    /// the current message was streamed (see [`streamed`](Self::streamed)). The framer's own
    /// buffer, kept between messages (no allocation per streamed literal;
    /// [`StreamStart::prefix`] is cut from the input); the final message is split off it, so
    /// once that message is dropped its memory takes the next head (no allocation per
    /// message either).
    partial: BytesMut,
    /// The least size of a new buffer made by [`read_room`](Self::read_room): 0, or
    /// [`HELD_ROOM`] once a held literal needed room (0 again when that block is let go
    /// between messages, see [`release_room`](Self::release_room)).
    room_block: usize,
}

impl Framer {
    /// A framer with the given configuration.
    pub fn new(config: FramerConfig) -> Self {
        Framer {
            buf: Input::default(),
            state: State::LINE,
            config,
            offset: 0,
            literals: 0,
            msg_offset: 0,
            pending: None,
            partial: BytesMut::new(),
            room_block: 0,
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
        let n = self.drop_discarded(data.len());
        // the framer's own buffer empty: after this it holds copies only (the rest of a
        // frozen buffer included), until a room or a caller's buffer is joined to it
        let fresh = self.buf.owned.is_empty() && self.buf.more.is_empty();
        self.buf.extend_from_slice(&data[n..]);
        if fresh {
            self.buf.copied = true;
        }
    }

    /// While literal data is being discarded and nothing is buffered, the first of `len` new
    /// bytes that belong to it are dropped right away instead of buffered: how many (counted
    /// as consumed). 0 otherwise.
    #[inline]
    fn drop_discarded(&mut self, len: usize) -> usize {
        match &mut self.state {
            State::DiscardLiteral { remaining } if self.buf.is_drained() => {
                let n = (*remaining).min(len as u64) as usize;
                *remaining -= n as u64;
                self.offset += n as u64;
                n
            }
            _ => 0,
        }
    }

    /// [`drop_discarded`](Self::drop_discarded) for a buffer about to be taken: its first
    /// bytes that belong to a literal being discarded are dropped off its front.
    #[inline]
    fn skip_discarded(&mut self, data: &mut impl Buf) {
        let n = self.drop_discarded(data.remaining());
        if n > 0 {
            data.advance(n);
        }
    }

    /// Appends received bytes held in a shared buffer. When nothing is buffered (the usual
    /// case between reads, and always for a whole capture), the framer keeps `data` itself
    /// and cuts the frames out of it: no byte is copied, and literal payloads are never
    /// touched. Otherwise the bytes are appended like [`push`](Self::push).
    pub fn push_bytes(&mut self, mut data: Bytes) {
        self.skip_discarded(&mut data);
        self.buf.push_bytes(data);
    }

    /// Appends received bytes that the caller read into a [`BytesMut`] and split off
    /// (`buf.split()` after each read into `buf`'s spare capacity). Consecutive reads that
    /// lie one after the other in the same allocation are joined without a copy, so a
    /// message that straddles two reads is cut out of them as one slice, like from a single
    /// buffer; frames and streamed literal chunks share the allocation. A buffer that does
    /// not continue the pending bytes is taken like [`push_bytes`](Self::push_bytes).
    #[inline]
    pub fn push_bytes_mut(&mut self, mut data: BytesMut) {
        self.skip_discarded(&mut data);
        self.buf.push_bytes_mut(data);
    }

    /// [`push_bytes`](Self::push_bytes) with a fast lane for reads inside a streamed
    /// literal: when the framer is handing out a streamed literal's data and holds no byte,
    /// the part of `data` that belongs to the literal is returned at once, as the chunk
    /// itself (the [`Frame::LiteralChunk`] that [`next_frame`](Self::next_frame) would give
    /// next: the same bytes, the same boundaries), and only the rest of `data`, if any, is
    /// buffered. A read that lies wholly inside a large literal is handed back as it is, with
    /// no frame made and no reference count taken. `None`: `data` was pushed as by
    /// `push_bytes` (the framer was not streaming, or held bytes); its frames come from
    /// `next_frame`. Either way the frames that follow are those `push_bytes` would give.
    /// Take every frame before each push, as usual: the fast lane applies only then.
    #[inline]
    pub fn push_bytes_chunk(&mut self, mut data: Bytes) -> Option<Bytes> {
        let Some((remaining, n)) = self.fast_chunk_len(data.len()) else {
            self.push_bytes(data);
            return None;
        };
        if n == data.len() {
            self.advance_streamed(remaining, n);
            return Some(data);
        }
        let chunk = data.split_to(n);
        self.advance_streamed(remaining, n);
        self.buf.push_bytes(data);
        Some(chunk)
    }

    /// [`push_bytes_mut`](Self::push_bytes_mut) with the fast lane of
    /// [`push_bytes_chunk`](Self::push_bytes_chunk): inside a streamed literal, with no byte
    /// held, the literal's part of `data` is returned at once as its chunk (frozen, no copy)
    /// and only the rest is buffered. `None`: pushed as by `push_bytes_mut`.
    #[inline]
    pub fn push_bytes_mut_chunk(&mut self, mut data: BytesMut) -> Option<Bytes> {
        let Some((remaining, n)) = self.fast_chunk_len(data.len()) else {
            self.push_bytes_mut(data);
            return None;
        };
        if n == data.len() {
            self.advance_streamed(remaining, n);
            return Some(data.freeze());
        }
        let chunk = data.split_to(n).freeze();
        self.advance_streamed(remaining, n);
        self.buf.push_bytes_mut(data);
        Some(chunk)
    }

    /// The fast lane with the chunk lent instead of handed out, for a caller that reads into
    /// its own reusable buffer: `buf` is that buffer and its first `n` bytes (at most
    /// `buf.len()`; usually all of them) are the input offered now. When the framer is
    /// handing out a streamed literal's data and holds no byte, the literal's part of those
    /// bytes is lent to `chunk` (called at most once, before this returns: the bytes the next
    /// [`Frame::LiteralChunk`] would carry, the same boundaries as
    /// [`push_bytes_mut_chunk`](Self::push_bytes_mut_chunk)) and removed from `buf` without
    /// being split off or frozen: no `Bytes`, no reference count, and when it was all of
    /// `buf`, `buf` is cleared and its memory takes the next read. What is left of the `n`
    /// bytes is split off `buf` and pushed as by [`push_bytes_mut`](Self::push_bytes_mut)
    /// (frames cut from it share the allocation; `buf` keeps its spare capacity). Returns
    /// how many bytes were lent (0: none, `chunk` not called). Either way the frames that
    /// follow are those `push_bytes_mut` of the same bytes would give, less the lent chunk.
    /// Take every frame before each call, as usual: the lane applies only then. When all of
    /// the offered bytes were lent (the result is `n.min(buf.len())`, not 0), nothing was
    /// pushed and no frame follows: the caller need not ask for frames until its next push.
    #[inline]
    pub fn push_read(&mut self, buf: &mut BytesMut, n: usize, chunk: impl FnOnce(&[u8])) -> usize {
        let n = n.min(buf.len());
        let Some((remaining, k)) = self.fast_chunk_len(n) else {
            self.push_bytes_mut(buf.split_to(n));
            return 0;
        };
        self.advance_streamed(remaining, k);
        lend_front(buf, k, chunk);
        if k < n {
            self.push_bytes_mut(buf.split_to(n - k));
        }
        k
    }

    /// Room to read the next input into, in the framer's own buffer (the room lane): a
    /// [`BytesMut`] with no bytes and at least `at_least` bytes of spare capacity, split off
    /// the framer's buffer right after the bytes it holds. The caller reads into its spare
    /// capacity (e.g. with `BufMut` or tokio's `read_buf`) and hands it back with
    /// [`push_room`](Self::push_room), [`push_room_chunk`](Self::push_room_chunk) or any
    /// `push_bytes_mut*`: the read then continues the held bytes in the same allocation and
    /// is joined to them without a copy, so a message that straddles reads is cut from the
    /// buffer it was read into. The room is the caller's own `BytesMut` meanwhile (no borrow
    /// of the framer: it may be held across `await` points and `select!` branches), and the
    /// framer keeps its held bytes: it frames, and answers every call, as before.
    ///
    /// While a held (not streamed) literal is arriving, the room is also made for the rest of
    /// its message (the literal, [`LITERAL_TAIL`] bytes after it, and `at_least`), so the
    /// reads that complete it land after the bytes held and nothing is copied (when that
    /// rest is at most [`HELD_ROOM`], or three times what is held: an announced length alone
    /// never allocates more than that, and the [`Limits`] bound the literal itself; a larger
    /// rest is read into a buffer that grows 4x at a time until it fits). When the
    /// buffer has too little spare capacity, its memory is reused if no frame or room holds
    /// it any more (the held bytes moved to its front), or a new buffer gets the held bytes
    /// (the start of one message, usually at most what one read brought) copied into it; a
    /// new buffer has room for [`ROOM_READS`] reads of `at_least`, and, while held literals
    /// arrive, at least [`HELD_ROOM`] bytes, so that the next messages usually fit too (see
    /// those constants). A room asked for between messages with nothing held, when the
    /// buffer has more spare capacity than `ROOM_READS` reads need, comes from a new buffer
    /// of that size (nothing to copy): a connection idle after a burst of bodies keeps no
    /// large block.
    ///
    /// With nothing held (between messages, or inside a streamed literal whose data so far
    /// was handed out), the room is the framer's whole buffer, taken (no split, no reference
    /// count): the framer keeps an empty buffer meanwhile, consistent as it is, and adopts the
    /// room when it comes back. When it then has spare capacity for fewer than three reads of
    /// `at_least`, its memory is renewed first (reused if nothing holds it, else a new
    /// buffer), which copies nothing, rather than running out later inside a message, which
    /// would copy that message's start.
    ///
    /// Misuse the framer survives without losing its own data: a room that is never handed
    /// back costs only its memory (the held bytes stay in the framer, the next room is made
    /// afresh), and a buffer handed back that is not the room lent last (another buffer, or
    /// a room whose front bytes the caller removed) is taken as the next input like any
    /// `push_bytes_mut` buffer (copied when it must be joined). What is handed back is input
    /// in the order handed back: the caller must not reorder its reads. While bytes pushed
    /// as `Bytes` are still buffered, the room is a new buffer of its own (joined by one copy
    /// later).
    #[inline]
    pub fn read_room(&mut self, at_least: usize) -> BytesMut {
        let at_least = at_least.max(1);
        self.buf.copied = false;
        if self.buf.shared.is_some() || !self.buf.more.is_empty() {
            return BytesMut::with_capacity(at_least);
        }
        let want = match self.state {
            State::Literal { end } => held_room(end, self.buf.owned.len(), at_least),
            _ => at_least,
        };
        let b = &mut self.buf.owned;
        let spare = b.capacity() - b.len();
        if spare < want {
            self.make_room(want, at_least);
        } else if b.is_empty() {
            if spare > at_least.saturating_mul(ROOM_READS)
                && !matches!(self.state, State::Stream { .. })
            {
                self.release_room(at_least);
            } else if spare < at_least.saturating_mul(RENEW_READS) {
                // little room left and nothing held: renewed now, with nothing to copy
                self.make_room(at_least.saturating_mul(RENEW_READS), at_least);
            }
        }
        let b = &mut self.buf.owned;
        if b.is_empty() {
            // nothing held: the whole buffer is the room (no split, no reference count); the
            // framer keeps an empty one, consistent as it is, and adopts the room when it
            // comes back (`Input::put_room`)
            return std::mem::take(b);
        }
        b.split_off(b.len())
    }

    /// [`read_room`](Self::read_room) between messages with nothing held and more spare
    /// capacity than [`ROOM_READS`] reads need (the rest of a block made for held bodies):
    /// the block is let go for a buffer of that size, and new buffers are sized by the reads
    /// again until a held literal needs room, so that a connection idle after a burst of
    /// bodies keeps no more than [`ROOM_READS`] reads' room, not [`HELD_ROOM`]. Nothing is
    /// copied (nothing is held).
    #[cold]
    #[inline(never)]
    fn release_room(&mut self, at_least: usize) {
        self.room_block = 0;
        self.buf.owned = BytesMut::with_capacity(at_least.saturating_mul(ROOM_READS));
    }

    /// [`read_room`](Self::read_room) when the buffer's spare capacity is less than `want`.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self, want: usize, at_least: usize) {
        let b = &mut self.buf.owned;
        if b.try_reclaim(want) {
            return;
        }
        if matches!(self.state, State::Literal { .. }) {
            self.room_block = HELD_ROOM;
        }
        // at least 4x what is held: a long line (or a held literal larger than the room
        // made ahead of it) arriving in many reads is copied O(log n) times, not once a read
        let size = b
            .len()
            .saturating_add(want)
            .max(b.len().saturating_mul(4))
            .max(at_least.saturating_mul(ROOM_READS))
            .max(self.room_block);
        let mut fresh = BytesMut::with_capacity(size);
        fresh.extend_from_slice(b);
        *b = fresh;
    }

    /// Hands back a room from [`read_room`](Self::read_room) with the bytes read into it,
    /// lending a streamed literal's part of them as [`push_read`](Self::push_read) does:
    /// when the framer is handing out a streamed literal's data and holds no byte, the
    /// literal's part of the room's bytes is lent to `chunk` (at most one call, before this
    /// returns: the bytes the next [`Frame::LiteralChunk`] would carry, the same boundaries
    /// as [`push_bytes_mut_chunk`](Self::push_bytes_mut_chunk)) and dropped from the room
    /// with no `Bytes` made (when it was all of the room, its memory takes the next read at
    /// the same address). The rest is joined to the held bytes (in place: no copy) and
    /// framed by [`next_frame`](Self::next_frame); the room's spare capacity stays the
    /// framer's for the next room. Returns how many bytes were lent (0: `chunk` was not
    /// called); when that was all of the room's bytes (and not 0), no frame follows.
    /// Calling contract as for `push_read`: take every frame before, so that the lent chunk
    /// comes in stream order. A room with no bytes only gives its memory back.
    #[inline]
    pub fn push_room(&mut self, mut room: BytesMut, chunk: impl FnOnce(&[u8])) -> usize {
        let k = match self.fast_chunk_len(room.len()) {
            Some((remaining, n)) => {
                self.advance_streamed(remaining, n);
                lend_front(&mut room, n, chunk);
                n
            }
            None => {
                self.skip_discarded(&mut room);
                0
            }
        };
        self.buf.put_room(room);
        k
    }

    /// [`push_room`](Self::push_room) with the streamed literal's part of the room handed
    /// out as its chunk (split off the room and frozen: no copy) instead of lent, as
    /// [`push_bytes_mut_chunk`](Self::push_bytes_mut_chunk) does for a `push_bytes_mut`
    /// buffer; `None`: no part of the room was a streamed literal's (its bytes are framed by
    /// [`next_frame`](Self::next_frame)). Either way the frames that follow are those
    /// `push_bytes_mut` of the same bytes would give.
    #[inline]
    pub fn push_room_chunk(&mut self, mut room: BytesMut) -> Option<Bytes> {
        let Some((remaining, n)) = self.fast_chunk_len(room.len()) else {
            self.skip_discarded(&mut room);
            self.buf.put_room(room);
            return None;
        };
        let chunk = room.split_to(n).freeze();
        self.advance_streamed(remaining, n);
        self.buf.put_room(room);
        Some(chunk)
    }

    /// How many of `len` new bytes the fast lane hands out as a chunk at once (with the
    /// streamed literal's `remaining` before them): `None` unless a streamed literal has
    /// data to come and nothing is buffered (then its next chunk would start with the new
    /// bytes).
    #[inline(always)]
    fn fast_chunk_len(&self, len: usize) -> Option<(NonZeroU64, usize)> {
        match self.state {
            State::Stream { remaining } if len > 0 && self.buf.is_drained() => {
                Some((remaining, remaining.get().min(len as u64) as usize))
            }
            _ => None,
        }
    }

    /// The next frame is `None`, known from the state alone: inside a streamed literal with
    /// more of its data to come and nothing buffered (the usual state after each read of a
    /// large body), or inside a held literal whose bytes have not all arrived and no buffer
    /// waits (after each read into a body held whole). Exactly what
    /// [`next_frame`](Self::next_frame) would find there (it changes nothing in those
    /// states); `false` promises no frame. Checked by the receiver before its message
    /// machinery, so that the `None` after such a read costs a few instructions.
    #[inline(always)]
    pub(crate) fn waits(&self) -> bool {
        match self.state {
            // the usual state between events: one test
            State::Line { .. } => false,
            State::Stream { .. } => self.buf.is_drained(),
            State::Literal { end } => self.buf.more.is_empty() && self.buf.len() < end,
            _ => false,
        }
    }

    /// `n` (at most `remaining`) bytes of the streamed literal with `remaining` to go were
    /// handed out: with its last byte the framer moves on to the rest of the message.
    #[inline(always)]
    fn advance_streamed(&mut self, remaining: NonZeroU64, n: usize) {
        self.state = State::stream(remaining.get() - n as u64);
        self.offset += n as u64;
    }

    /// Bytes of the streamed literal in progress still to come: 0 when none is in progress
    /// (with a literal's last byte handed out, as a chunk, lent or in its begin event, the
    /// framer moves on to the rest of its message). A caller that hands a body on piece by
    /// piece can tell the piece that completes it by this turning 0.
    pub fn streamed_literal_left(&self) -> u64 {
        match self.state {
            State::Stream { remaining } => remaining.get(),
            _ => 0,
        }
    }

    /// Bytes received but not yet handed out as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.total()
    }

    /// Whether the framer sits between messages with nothing buffered (nor the start of a
    /// message held after a streamed literal).
    pub fn is_idle(&self) -> bool {
        self.buf.is_drained()
            && matches!(self.state, State::Line { line_start: 0, .. })
            && !self.streamed()
    }

    /// Whether the framer is paused at a synchronizing literal awaiting a decision.
    pub fn awaiting_decision(&self) -> bool {
        matches!(self.state, State::Decision { .. })
    }

    /// The announcement of the synchronizing literal the framer is paused at (the one
    /// [`accept_literal`](Self::accept_literal), [`reject_literal`](Self::reject_literal) or
    /// [`stream_literal`](Self::stream_literal) decides on), or `None`.
    pub fn pending_literal(&self) -> Option<&LiteralAnnouncement> {
        match self.state {
            State::Decision { .. } => self.pending.as_ref(),
            _ => None,
        }
    }

    /// Total bytes consumed from the stream so far (framed or discarded).
    pub fn stream_offset(&self) -> u64 {
        self.offset
    }

    /// Lets the paused synchronizing literal through (the server sends `+`); framing goes
    /// on with the literal data. An error when no literal awaits a decision.
    pub fn accept_literal(&mut self) -> Result<(), NoLiteralPending> {
        let State::Decision { end } = self.state else {
            return Err(NoLiteralPending);
        };
        self.state = State::Literal { end };
        self.pending = None;
        Ok(())
    }

    /// Refuses the paused synchronizing literal (the server answers with a tagged `NO` or
    /// `BAD`): the client will not send it, so the message ends here and is dropped.
    /// Returns the dropped partial message; an error when no literal awaits a decision.
    #[must_use = "the dropped partial message is returned (e.g. to log it)"]
    pub fn reject_literal(&mut self) -> Result<Bytes, NoLiteralPending> {
        let State::Decision { end } = self.state else {
            return Err(NoLiteralPending);
        };
        let len = self.current_line_end(end);
        let dropped = self.buf.split_to(len);
        self.offset += len as u64;
        self.reset_message();
        self.pending = None;
        Ok(dropped)
    }

    /// Gives up the message being received, for a caller that cannot hold more of it (a
    /// server whose input window of `limit` bytes is full while the message has not ended):
    /// what is buffered of it is dropped, and the rest is dropped as it streams past (the
    /// rest of its current line or literal, then its further lines and the literals they
    /// announce, as after any [`FrameError`]); the next message frames normally. Returns
    /// the error to report ([`LimitKind::Message`] with `limit` and the message's tag), or
    /// `None` when no message is being received (between messages, or one already being
    /// dropped). A synchronizing literal awaiting a decision is refused with the message.
    pub fn abandon_message(&mut self, limit: u64) -> Option<FrameError> {
        let stream_offset = self.msg_offset;
        let tag = match self.state {
            State::Line { line_start, .. } => {
                if self.buf.is_drained() && !self.streamed() {
                    return None;
                }
                let tag = self.recover_tag();
                // The part of the current line already here is kept for the announcement
                // check at its end.
                self.discard_from_line(line_start);
                tag
            }
            State::Literal { end } => {
                let tag = self.recover_tag();
                let have = self.buf.len().min(end);
                self.buf.advance(have);
                self.offset += have as u64;
                self.state = State::DiscardLiteral {
                    remaining: (end - have) as u64,
                };
                tag
            }
            State::Stream { remaining } => {
                let tag = self.recover_tag();
                self.state = State::DiscardLiteral {
                    remaining: remaining.get(),
                };
                tag
            }
            State::Decision { end } => {
                let tag = self.recover_tag();
                let len = self.current_line_end(end);
                self.buf.advance(len);
                self.offset += len as u64;
                self.pending = None;
                self.reset_message();
                tag
            }
            State::DiscardLine { .. } | State::DiscardLiteral { .. } => return None,
        };
        if self.streamed() {
            self.drop_partial();
        }
        Some(FrameError::LimitExceeded {
            kind: LimitKind::Message,
            limit,
            actual: over(limit),
            tag,
            stream_offset,
        })
    }

    /// After a dropped line that ended with the announcement `ann`: its literal is dropped
    /// too, unless it is synchronizing and the framer pauses at those (a server): then the
    /// client waits for a `+` it will not get (the command was answered), so no data follows
    /// and the message ends with the line.
    fn discard_announced(&mut self, ann: Result<Option<LiteralHeader>, ()>) {
        match ann {
            Ok(Some(h)) if !(h.mode == LiteralMode::Sync && self.config.await_sync_literals) => {
                self.state = State::DiscardLiteral {
                    remaining: h.length,
                };
            }
            _ => self.reset_message(),
        }
    }

    /// Takes the bytes that were received but not framed (for a STARTTLS/COMPRESS hand-off:
    /// they belong to the next layer, or are an injection attempt).
    #[must_use = "the bytes belong to the next layer (or are an injection attempt)"]
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

    #[inline]
    fn reset_message(&mut self) {
        self.state = State::LINE;
        self.literals = 0;
        self.msg_offset = self.offset;
        if self.streamed() {
            self.drop_partial();
        }
    }

    /// Forgets the kept start of a message whose literal was streamed (its buffer stays for
    /// the next one unless a long message made it large).
    #[cold]
    fn drop_partial(&mut self) {
        self.partial.clear();
        if self.partial.capacity() > KEEP_PARTIAL {
            self.partial = BytesMut::new();
        }
    }

    /// The line that ends at `lf` (the message is `size` bytes so far) announces literal `h`.
    /// `None`: the literal is framed quietly ([`FramerConfig::quiet_literals`]); the framer
    /// goes on with the message (state [`State::Literal`]).
    #[inline(never)]
    fn announced(&mut self, lf: usize, size: u64, h: LiteralHeader) -> Option<Frame> {
        let LiteralHeader {
            length,
            mode,
            binary,
        } = h;
        self.literals += 1;
        // saturating: a length near 2^64 is over any limit, not an overflow
        let total = size.saturating_add(length);
        let fate = literal_fate(&self.config, self.literals, total, h);
        if let LiteralFate::Over(kind, limit, actual) = fate {
            let tag = self.recover_tag();
            let err = self.limit_error(kind, limit, actual, tag);
            let n = lf + 1;
            self.buf.advance(n);
            self.offset += n as u64;
            if mode == LiteralMode::Sync && self.config.await_sync_literals {
                // The client waits for '+', which it will not get: the
                // message ends here.
                self.reset_message();
            } else {
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
        if fate == LiteralFate::Quiet {
            self.state = State::Literal { end };
            return None;
        }
        let tag = self.recover_tag();
        // the header is the last `{` of the line (parse_announcement found it there)
        let open = self.buf[..lf]
            .iter()
            .rposition(|&c| c == b'{')
            .unwrap_or(lf);
        let ann = LiteralAnnouncement {
            command: tag.as_ref().and_then(|_| command_name(self.message_head())),
            tag,
            length,
            mode,
            binary,
            offset: self.partial_len() + open,
        };
        if fate == LiteralFate::Streamed {
            return Some(Frame::LiteralBegin(self.begin_stream(lf, Some(open), ann)));
        }
        if fate == LiteralFate::Paused {
            self.pending = Some(ann.clone());
            self.state = State::Decision { end };
        } else {
            self.state = State::Literal { end };
        }
        Some(Frame::LiteralAnnounced(ann))
    }

    /// The next frame of a streamed literal with `remaining` bytes to go.
    #[inline(never)]
    fn stream_frame(&mut self, remaining: NonZeroU64) -> Option<Frame> {
        if self.buf.is_empty() && !self.buf.pull(None) {
            // the read is used up (the usual end of each read inside a streamed literal)
            return None;
        }
        Some(Frame::LiteralChunk(self.cut_streamed(remaining)))
    }

    /// Right after [`Frame::LiteralBegin`]: the streamed literal's data already in the
    /// contiguous buffer (the first piece, the [`Frame::LiteralChunk`] that would come next
    /// without a waiting buffer pulled in; empty when none is there). For the receiver's
    /// begin event.
    #[inline]
    pub(crate) fn stream_first(&mut self) -> Bytes {
        match self.state {
            State::Stream { remaining } if !self.buf.is_empty() => self.cut_streamed(remaining),
            _ => Bytes::new(),
        }
    }

    /// A chunk of the streamed literal with `remaining` bytes to go, from a contiguous buffer
    /// that is not empty: as much of it as belongs to the literal.
    #[inline(always)]
    fn cut_streamed(&mut self, remaining: NonZeroU64) -> Bytes {
        let n = (self.buf.len() as u64).min(remaining.get()) as usize;
        let chunk = self.buf.split_to(n);
        self.advance_streamed(remaining, n);
        chunk
    }

    /// After a streamed literal: the rest of the message (`rest`, the first bytes of the
    /// contiguous buffer) joins the kept head, and the whole is split off the framer's
    /// buffer: it shares that buffer's memory, which takes the next head once the message is
    /// dropped (a buffer grown over [`KEEP_PARTIAL`] is handed over instead).
    #[cold]
    #[inline(never)]
    fn join_partial(&mut self, rest: &[u8]) -> Bytes {
        self.partial.extend_from_slice(rest);
        if self.partial.capacity() > KEEP_PARTIAL {
            return std::mem::take(&mut self.partial).freeze();
        }
        self.partial.split().freeze()
    }

    /// Whether a literal of the current message was streamed: its bytes so far are then in
    /// `partial` (never empty then: it holds at least the rewritten header `{0}`).
    #[inline(always)]
    fn streamed(&self) -> bool {
        !self.partial.is_empty()
    }

    /// Bytes of the current message held outside `buf` (after a streamed literal).
    #[inline]
    fn partial_len(&self) -> usize {
        self.partial.len()
    }

    /// The start of the current message (for its tag and command name).
    fn message_head(&self) -> &[u8] {
        if self.streamed() {
            &self.partial
        } else {
            &self.buf
        }
    }

    /// Streams the literal of `announcement` instead of buffering it, as
    /// [`FramerConfig::stream_literals_over`] would (a server that passes a large APPEND
    /// message on in chunks decides per command): call it right after the
    /// [`Frame::LiteralAnnounced`] that carried `announcement`, before asking for the next
    /// frame. A paused synchronizing literal is accepted by it. The data then comes as
    /// [`Frame::LiteralChunk`]s up to its length; the returned start is what a
    /// [`Frame::LiteralBegin`] would carry. An error when no literal of that length is
    /// waiting.
    pub fn stream_literal(
        &mut self,
        announcement: LiteralAnnouncement,
    ) -> Result<StreamStart, NoLiteralPending> {
        let (State::Decision { end } | State::Literal { end }) = self.state else {
            return Err(NoLiteralPending);
        };
        let lf = (end as u64)
            .checked_sub(announcement.length + 1)
            .ok_or(NoLiteralPending)? as usize;
        if self.buf.get(lf) != Some(&b'\n') {
            return Err(NoLiteralPending);
        }
        self.pending = None;
        Ok(self.begin_stream(lf, None, announcement))
    }

    /// Starts streaming the literal announced by the line that ends at `lf` (its header's
    /// `{` at `open` when the caller knows it): the message so far moves to `partial` with
    /// the header rewritten to `{0}`.
    #[cold]
    fn begin_stream(
        &mut self,
        lf: usize,
        open: Option<usize>,
        mut announcement: LiteralAnnouncement,
    ) -> StreamStart {
        let n = lf + 1;
        let plen = self.partial_len();
        // The prefix handed out: the buffered bytes of the message as received, cut out
        // without a copy, after any earlier streamed part (then one exact copy of both).
        let prefix = if plen == 0 {
            self.buf.split_to(n)
        } else {
            let mut v = Vec::with_capacity(plen + n);
            v.extend_from_slice(&self.partial);
            v.extend_from_slice(&self.buf[..n]);
            self.buf.advance(n);
            Bytes::from(v)
        };
        let head = &prefix[plen..];
        // the header is the last `{` .. `}` of the line (parse_announcement found it there)
        let close = head.iter().rposition(|&c| c == b'}').unwrap_or(n);
        let open = open.unwrap_or_else(|| {
            head[..close]
                .iter()
                .rposition(|&c| c == b'{')
                .unwrap_or(close)
        });
        // The message so far (any earlier streamed part, then this line with the header
        // rewritten) in the framer's own buffer, for the final message.
        self.partial.extend_from_slice(&head[..open]);
        self.partial.extend_from_slice(b"{0");
        self.partial.extend_from_slice(&head[close..]);
        self.offset += n as u64;
        // where the framer found the header (a caller of `stream_literal` passes the
        // announcement back: its offset is not taken on trust)
        announcement.offset = plen + open;
        // (an empty literal streamed on request: nothing to hand out)
        self.state = State::stream(announcement.length);
        StreamStart {
            announcement,
            prefix,
            offset: plen + open,
        }
    }

    /// The tag of a message: its first token, if it is a valid tag followed by SP within the
    /// first [`MAX_TAG`] bytes (a bound that keeps the result independent of how much of an
    /// oversized line had arrived).
    ///
    /// The tag is a slice of the input when the framer holds a shared buffer
    /// ([`push_bytes`](Self::push_bytes)), else a copy of at most [`MAX_TAG`] bytes.
    fn recover_tag(&self) -> Option<Bytes> {
        let head = self.message_head();
        let line = &head[..head.len().min(MAX_TAG + 1)];
        let end = line
            .iter()
            .position(|&c| !class::is_tag_char(c))
            .unwrap_or(line.len());
        if end == 0 || line.get(end) != Some(&b' ') {
            return None;
        }
        let shared = if self.streamed() {
            None
        } else {
            self.buf.shared_prefix(end)
        };
        Some(shared.unwrap_or_else(|| Bytes::copy_from_slice(&line[..end])))
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
        let mut tail = [0u8; WINDOW];
        let keep = (n - line_start.min(n)).min(WINDOW);
        tail[..keep].copy_from_slice(&self.buf[n - keep..]);
        self.buf.clear();
        self.offset += n as u64;
        self.state = State::DiscardLine {
            tail,
            tail_len: keep as u8,
        };
    }

    /// Produces the next frame, or `None` when more bytes are needed (or a decision is pending).
    #[must_use = "a dropped frame is a lost message, literal decision or error"]
    #[inline(always)]
    pub fn next_frame(&mut self) -> Option<Frame> {
        // inside a streamed literal (a chunk, its end, or `None` after each read): straight
        // to the small function that makes them, not through the message loop's
        if let State::Stream { remaining } = self.state {
            return self.stream_frame(remaining);
        }
        if let Some(msg) = self.one_line_message() {
            return Some(Frame::Message(msg));
        }
        self.next_message_frame()
    }

    /// [`next_frame`](Self::next_frame) after [`one_line_message`](Self::one_line_message)
    /// returned `None` (for the receiver, which takes a one-line message straight from
    /// `one_line_message`, without a [`Frame`] around it).
    #[inline(always)]
    pub(crate) fn next_frame_after_one_line(&mut self) -> Option<Frame> {
        if let State::Stream { remaining } = self.state {
            return self.stream_frame(remaining);
        }
        self.next_message_frame()
    }

    /// [`next_frame`](Self::next_frame) by the general path only (what the fast path is
    /// pinned to in the tests).
    #[cfg(test)]
    fn next_frame_general(&mut self) -> Option<Frame> {
        if let State::Stream { remaining } = self.state {
            return self.stream_frame(remaining);
        }
        self.next_message_frame()
    }

    /// The usual frame, inline in the caller: a message of one line, complete in the
    /// contiguous part, within the limits and announcing no literal (or announcing only
    /// quiet literals within the limits, the whole message complete in the contiguous part:
    /// [`literal_message_len`](Self::literal_message_len)). What the general path
    /// ([`next_message_frame`](Self::next_message_frame)) returns for it, with the same
    /// state changes; `None` for anything else, which the general path then takes (its scan
    /// for the LF starting where this one found it).
    #[inline(always)]
    pub(crate) fn one_line_message(&mut self) -> Option<Bytes> {
        let n = self.one_line_len()?;
        Some(self.take_one_line(n))
    }

    /// The length (LF included) of the message [`one_line_message`](Self::one_line_message)
    /// would return (a message of one line, or one whose literals are all quiet and which is
    /// complete in the contiguous part: [`literal_message_len`](Self::literal_message_len)),
    /// left where it is: the caller takes it with
    /// [`take_one_line`](Self::take_one_line) or, after reading it where it is (in
    /// [`shared_front_or_freeze`](Self::shared_front_or_freeze)), drops it with
    /// [`skip_one_line`](Self::skip_one_line). `None` as `one_line_message` (with the same
    /// state change: the general path's scan starts at the LF found).
    #[inline(always)]
    pub(crate) fn one_line_len(&mut self) -> Option<usize> {
        let State::Line {
            line_start: 0,
            scan,
        } = self.state
        else {
            return None;
        };
        if self.streamed() {
            return None;
        }
        let lf = scan + find_lf(self.buf.get(scan..)?)?;
        let lim = &self.config.limits;
        // `parse_announcement` of the line is `Ok(None)` unless it ends in `}` (before CR)
        let line = &self.buf[..lf];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if lf >= lim.max_line || (lf + 1) as u64 > lim.max_message || line.last() == Some(&b'}') {
            if lf < lim.max_line && (lf + 1) as u64 <= lim.max_message {
                // a line ending in `}`: a message with quiet literals, complete in the
                // contiguous part, is taken whole like a one-line one
                if let Some(n) = self.literal_message_len(lf) {
                    return Some(n);
                }
            }
            // the general path's scan starts at the LF found
            self.state = State::Line {
                line_start: 0,
                scan: lf,
            };
            return None;
        }
        Some(lf + 1)
    }

    /// The length of the message whose first line, within the limits, ends at `lf` in `}`
    /// (usually a literal's header), when it is complete in the contiguous part and the
    /// general path ([`next_message_frame`](Self::next_message_frame)) would return it as
    /// one [`Frame::Message`] without any other frame first: every literal it announces is
    /// quiet ([`FramerConfig::quiet_literals`], neither paused at nor streamed) and within
    /// the limits, every line within the limits. `None` for anything else (an overflowing
    /// header, a limit exceeded, a literal announced or paused at, a message not complete
    /// in the contiguous part), which the general path then takes from the start, nothing
    /// changed. Each line's LF is searched for once here (the literal skipped by its
    /// length), as the general path does; the parser then reads the message where it is.
    #[inline(never)]
    fn literal_message_len(&self, mut lf: usize) -> Option<usize> {
        let config = &self.config;
        if !config.quiet_literals {
            return None;
        }
        let lim = &config.limits;
        let mut literals = self.literals;
        let mut start = 0;
        loop {
            let h = match parse_announcement(&self.buf[start..lf]) {
                Ok(Some(h)) => h,
                Ok(None) => return Some(lf + 1),
                Err(()) => return None,
            };
            let length = h.length;
            literals += 1;
            let total = ((lf + 1) as u64).saturating_add(length);
            if literal_fate(config, literals, total, h) != LiteralFate::Quiet {
                return None;
            }
            // the literal and the next line, in the contiguous part
            start = (lf + 1).checked_add(usize::try_from(length).ok()?)?;
            lf = start + find_lf(self.buf.get(start..)?)?;
            if lf + 1 - start > lim.max_line || (lf + 1) as u64 > lim.max_message {
                return None;
            }
        }
    }

    /// Bytes copied out of frozen buffers into new ones so far (see
    /// [`shared_front_or_freeze`](Self::shared_front_or_freeze)).
    #[cfg(test)]
    pub(crate) fn unfrozen(&self) -> usize {
        self.buf.unfrozen
    }

    /// The contiguous part as one shared buffer, for reading a message at its front where it
    /// is and cutting only its values out of it: a `push_bytes` buffer as it is (the usual
    /// case for a whole capture and for reads handed over as [`Bytes`]), or the framer's own
    /// buffer frozen into a shared one when it holds only bytes copied in by
    /// [`push`](Self::push) (no room and no caller's buffer joined to it), so that messages
    /// copied in are read in place too (a room, lent and handed back, is never frozen: each
    /// room would be a new allocation then).
    ///
    /// Called with a complete message at the front (one line, or with quiet literals). The
    /// frozen buffer's memory is not reused: the next `push` copies what is left of it (the
    /// partial message at its end) into a new buffer. Each byte is copied that way at most once: a buffer is frozen
    /// only with a complete message at its front, and a partial message left at the end
    /// is at the front of the new buffer until it is complete. `None`: the message is cut.
    #[inline(always)]
    pub(crate) fn shared_front_or_freeze(&mut self) -> Option<&Bytes> {
        if self.buf.shared.is_none() && self.buf.copied && self.buf.more.is_empty() {
            self.buf.shared = Some(std::mem::take(&mut self.buf.owned).freeze());
        }
        self.buf.shared.as_ref()
    }

    /// The one-line message of `n` bytes ([`one_line_len`](Self::one_line_len)), cut off
    /// the front.
    #[inline(always)]
    pub(crate) fn take_one_line(&mut self, n: usize) -> Bytes {
        let msg = self.buf.split_to(n);
        self.one_line_taken(n);
        msg
    }

    /// The one-line message of `n` bytes ([`one_line_len`](Self::one_line_len)), dropped
    /// off the front (it was read where it was): the state
    /// [`take_one_line`](Self::take_one_line) leaves, without a cut.
    #[inline(always)]
    pub(crate) fn skip_one_line(&mut self, n: usize) {
        self.buf.advance(n);
        self.one_line_taken(n);
    }

    /// The state after the one-line message of `n` bytes left the buffer.
    #[inline(always)]
    fn one_line_taken(&mut self, n: usize) {
        self.offset += n as u64;
        self.state = State::LINE;
        self.literals = 0;
        self.msg_offset = self.offset;
    }

    /// [`next_frame`](Self::next_frame) outside a streamed literal.
    #[inline(never)]
    fn next_message_frame(&mut self) -> Option<Frame> {
        loop {
            match self.state {
                State::Line { line_start, scan } => {
                    let lim = self.config.limits;
                    let found = find_lf(&self.buf[scan..]).map(|i| scan + i);
                    let Some(lf) = found else {
                        let line_len = self.buf.len() - line_start;
                        if line_len > lim.max_line {
                            let tag = self.recover_tag();
                            let max = lim.max_line as u64;
                            let err = self.limit_error(LimitKind::Line, max, over(max), tag);
                            self.discard_from_line(line_start);
                            return Some(err);
                        }
                        let size = (self.partial_len() + self.buf.len()) as u64;
                        if size > lim.max_message {
                            let tag = self.recover_tag();
                            let max = lim.max_message;
                            let err = self.limit_error(LimitKind::Message, max, over(max), tag);
                            self.discard_from_line(line_start);
                            return Some(err);
                        }
                        self.state = State::Line {
                            line_start,
                            scan: self.buf.len(),
                        };
                        if self.buf.pull(None) {
                            continue;
                        }
                        return None;
                    };
                    let line_len = lf + 1 - line_start;
                    let size = (lf + 1) as u64 + self.partial_len() as u64;
                    if line_len > lim.max_line || size > lim.max_message {
                        let tag = self.recover_tag();
                        let (kind, limit) = if line_len > lim.max_line {
                            (LimitKind::Line, lim.max_line as u64)
                        } else {
                            (LimitKind::Message, lim.max_message)
                        };
                        let actual = over(limit);
                        let err = self.limit_error(kind, limit, actual, tag);
                        // The line is complete: drop it, then any literal it announces (looked
                        // for in the same tail window as when the line arrives in pieces).
                        let ann = parse_announcement(line_tail(&self.buf[line_start..lf]));
                        let n = lf + 1;
                        self.buf.advance(n);
                        self.offset += n as u64;
                        self.discard_announced(ann);
                        return Some(err);
                    }
                    match parse_announcement(&self.buf[line_start..lf]) {
                        Ok(None) => {
                            let mut msg = self.buf.split_to(lf + 1);
                            self.offset += msg.len() as u64;
                            if self.streamed() {
                                msg = self.join_partial(&msg);
                            }
                            self.state = State::LINE;
                            self.literals = 0;
                            self.msg_offset = self.offset;
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
                        Ok(Some(h)) => {
                            if let Some(frame) = self.announced(lf, size, h) {
                                return Some(frame);
                            }
                        }
                    }
                }
                State::Decision { .. } => return None,
                State::Stream { remaining } => return self.stream_frame(remaining),
                State::Literal { end } => {
                    if self.buf.len() < end {
                        if self.buf.pull(Some(end - self.buf.len())) {
                            continue;
                        }
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
                        if self.buf.pull(None) {
                            continue;
                        }
                        return None;
                    }
                    self.state = State::DiscardLine {
                        tail: [0; WINDOW],
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
                            for &c in &self.buf[n.saturating_sub(WINDOW)..] {
                                if tl == WINDOW {
                                    t.copy_within(1..WINDOW, 0);
                                    tl = WINDOW - 1;
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
                            if self.buf.pull(None) {
                                continue;
                            }
                            return None;
                        }
                        Some(lf) => {
                            let mut line = Vec::with_capacity(48);
                            line.extend_from_slice(&tail[..tail_len as usize]);
                            line.extend_from_slice(&self.buf[lf.saturating_sub(WINDOW)..lf]);
                            self.buf.advance(lf + 1);
                            self.offset += (lf + 1) as u64;
                            self.discard_announced(parse_announcement(line_tail(&line)));
                        }
                    }
                }
            }
        }
    }
}

/// How far [`find_lf`] scans 16 bytes at a time before it hands the rest of a line to
/// `memchr` (whose set-up costs more than a short line's scan; a long line's scan it does
/// faster).
const SHORT_LINE: usize = 128;

/// The offset of the first LF in `s`: the first [`SHORT_LINE`] bytes in 16-byte blocks
/// (whether a block holds an LF compiles to a vector compare, a mask move and a test, about
/// seven instructions a block, where `memchr` spends about 70 on a 70-byte line; the LF's
/// place in the block that holds one by a word-at-a-time search of its low half, then of its
/// high half: a word of 64 bits, where one of 128 takes pairs of registers and twice the
/// instructions), the rest (a long line, or a short rest of the buffer) by `memchr`. The
/// same answer as `memchr::memchr(b'\n', s)` (pinned by `find_lf_equals_memchr`).
#[inline(always)]
fn find_lf(s: &[u8]) -> Option<usize> {
    const W: usize = 16;
    let mut i = 0;
    while i < SHORT_LINE {
        let Some(block) = s.get(i..).and_then(|r| r.first_chunk::<W>()) else {
            break;
        };
        if block.iter().fold(false, |a, &c| a | (c == b'\n')) {
            let (lo, hi) = block.split_at(W / 2);
            return Some(match lf_in_word(lo) {
                Some(k) => i + k,
                None => i + W / 2 + lf_in_word(hi).unwrap_or(W / 2),
            });
        }
        i += W;
    }
    memchr::memchr(b'\n', s.get(i..)?).map(|k| i + k)
}

/// The offset of the first LF in `w` (8 bytes; `None` when it holds none, or is not 8 bytes
/// long) by a word-at-a-time search: the bytes equal to LF become zero; the lowest high bit
/// of `t` is the first of them (a borrow only carries upwards from a zero byte, so a false
/// hit is always above a true one).
#[inline(always)]
fn lf_in_word(w: &[u8]) -> Option<usize> {
    const LF: u64 = u64::from_le_bytes([b'\n'; 8]);
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let x = u64::from_le_bytes(*w.first_chunk::<8>()?) ^ LF;
    let t = x.wrapping_sub(ONES) & !x & HIGH;
    (t != 0).then_some((t.trailing_zeros() / 8) as usize)
}

/// The size reported for a line or message that grew past its limit `max`: `max + 1`. How
/// much of it had arrived when the framer noticed depends on how the input was cut, and the
/// error must not (the message is dropped as it streams past; its full size is never known).
#[inline]
fn over(max: u64) -> u64 {
    max.saturating_add(1)
}

/// The largest capacity the framer's buffer for the start of a message with a streamed
/// literal keeps between messages (a larger one is freed when its message ends).
const KEEP_PARTIAL: usize = 4096;

/// How many bytes at the end of a line can hold a literal announcement: the longest header
/// (`~{` 20 digits `+}`) and the CR.
const WINDOW: usize = MAX_LITERAL_DIGITS + 5;

/// The last bytes of a discarded line, where a literal announcement is looked for.
fn line_tail(line: &[u8]) -> &[u8] {
    &line[line.len().saturating_sub(WINDOW)..]
}

/// Checks whether a line (without its LF) ends with a literal announcement: finds where the
/// header would start (the `{`, and a `~` before it, before the run of digits and `+` that
/// ends the line) and reads it with [`literal_header`], which must consume the rest of the
/// line. `Ok(None)`: no literal; `Err(())`: a length that overflows (see
/// [`MAX_LITERAL_DIGITS`]).
#[inline]
pub(crate) fn parse_announcement(line: &[u8]) -> Result<Option<LiteralHeader>, ()> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match line.last() {
        Some(b'}') => announcement_at_end(line),
        _ => Ok(None),
    }
}

/// [`parse_announcement`] for a line (without CR LF) that ends with `}`.
#[inline(never)]
fn announcement_at_end(line: &[u8]) -> Result<Option<LiteralHeader>, ()> {
    let body = &line[..line.len() - 1];
    // back over the run of digits and `+` to the `{` before it (a byte loop: the iterator
    // chain of `rev().take_while().count()` cost ~100 instructions for two digits)
    let mut open = body.len();
    loop {
        let Some(k) = open.checked_sub(1) else {
            return Ok(None);
        };
        open = k;
        match body[k] {
            b'0'..=b'9' | b'+' => {}
            b'{' => break,
            _ => return Ok(None),
        }
    }
    let start = if open > 0 && body[open - 1] == b'~' {
        open - 1
    } else {
        open
    };
    match literal_header(&line[start..]) {
        Ok((h, n)) if n == line.len() - start => Ok(Some(h)),
        Ok(_) | Err(HeaderError::Invalid { .. }) => Ok(None),
        Err(HeaderError::Overflow { .. }) => Err(()),
    }
}

/// The command name of a tagged line `tag SP name [SP name2]...` for
/// [`LiteralAnnouncement::command`]: `name` upper-cased, and `UID name2` for `UID`.
fn command_name(msg: &[u8]) -> Option<Bytes> {
    let tag_end = msg.iter().position(|&c| !class::is_tag_char(c))?;
    if tag_end == 0 || tag_end > MAX_TAG || msg.get(tag_end) != Some(&b' ') {
        return None;
    }
    let word = |from: usize| -> &[u8] {
        let rest = msg.get(from..).unwrap_or_default();
        let n = rest
            .iter()
            .take(MAX_COMMAND_NAME)
            .take_while(|&&c| class::is_atom_char(c))
            .count();
        &rest[..n]
    };
    let first = word(tag_end + 1);
    if first.is_empty() {
        return None;
    }
    let mut name = first.to_ascii_uppercase();
    let after = tag_end + 1 + first.len();
    if name == b"UID" && msg.get(after) == Some(&b' ') {
        let second = word(after + 1);
        if !second.is_empty() {
            name.push(b' ');
            name.extend(second.iter().map(u8::to_ascii_uppercase));
        }
    }
    Some(Bytes::from(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every frame `f` gives now; each time `waits` said none could come, none came.
    fn frames(f: &mut Framer) -> Vec<Frame> {
        std::iter::from_fn(|| {
            let waits = f.waits();
            let frame = f.next_frame();
            assert!(!waits || frame.is_none(), "waits(), yet {frame:?}");
            frame
        })
        .collect()
    }

    /// Frames with consecutive streamed chunks joined (chunk boundaries follow the input).
    fn joined(frames: Vec<Frame>) -> Vec<Frame> {
        let mut out: Vec<Frame> = Vec::new();
        for f in frames {
            match (out.last_mut(), f) {
                (Some(Frame::LiteralChunk(a)), Frame::LiteralChunk(b)) => {
                    let mut v = a.to_vec();
                    v.extend_from_slice(&b);
                    *a = Bytes::from(v);
                }
                (_, f) => out.push(f),
            }
        }
        out
    }

    /// Buffers pushed while bytes are pending wait uncopied (`Input::more`): any mix of
    /// `push_bytes` and `push` in any pieces, frames taken after every push or only at the
    /// end, gives the frames of the whole stream (streamed literals, limit errors and their
    /// discarding included).
    /// The paused literal's announcement is kept until the decision, whichever it is.
    #[test]
    fn pending_literal_until_decided() {
        let mut f = Framer::new(FramerConfig::server());
        f.push(b"a LOGIN {3}\r\n");
        let Some(Frame::LiteralAnnounced(a)) = f.next_frame() else {
            panic!()
        };
        assert_eq!(f.pending_literal(), Some(&a));
        assert_eq!(f.next_frame(), None);
        f.accept_literal().unwrap();
        assert_eq!(f.pending_literal(), None);
        f.push(b"joe {6}\r\n");
        assert!(matches!(f.next_frame(), Some(Frame::LiteralAnnounced(_))));
        assert!(
            f.pending_literal()
                .is_some_and(|p| p.length == 6 && p.offset == 17)
        );
        let _ = f.reject_literal().unwrap();
        assert_eq!(f.pending_literal(), None);
        f.push(b"b APPEND x {5}\r\n");
        let Some(Frame::LiteralAnnounced(a)) = f.next_frame() else {
            panic!()
        };
        assert_eq!(f.stream_literal(a).map(|s| s.offset), Ok(11));
        assert_eq!(f.pending_literal(), None);
        // A literal the framer does not pause at is not pending.
        f.push(b"hello\r\nc LOGIN {3+}\r\n");
        while let Some(fr) = f.next_frame() {
            if let Frame::LiteralAnnounced(a) = fr {
                assert_eq!(a.mode, LiteralMode::NonSync);
            }
            assert_eq!(f.pending_literal(), None);
        }
    }

    /// An announcement's offset is where its header's `{` is in the message the framer
    /// hands out (after an earlier streamed literal too, whose header reads `{0}` there), so
    /// a server can tell the first argument from the others.
    #[test]
    fn announcement_offset_is_the_header_in_the_message() {
        let mut f = Framer::new(FramerConfig::default());
        f.push(b"a APPEND {5}\r\nINBOX ~{3+}\r\nabc\r\n");
        let fr = frames(&mut f);
        let Frame::Message(msg) = &fr[2] else {
            panic!("{fr:?}")
        };
        let offsets: Vec<usize> = fr
            .iter()
            .filter_map(|f| match f {
                Frame::LiteralAnnounced(a) => Some(a.offset),
                _ => None,
            })
            .collect();
        assert_eq!(offsets, [9, 21]);
        assert_eq!(offsets[0], "a".len() + 1 + "APPEND".len() + 1);
        assert!(offsets.iter().all(|&o| msg[o] == b'{'), "{msg:?}");
        // After a streamed literal.
        let mut f = Framer::new(FramerConfig::default().with_stream_literals_over(Some(2)));
        f.push(b"* 1 FETCH (BODY[] {3}\r\nabc BODY[1] {1}\r\nx)\r\n");
        let fr = joined(frames(&mut f));
        let (Frame::LiteralBegin(start), Frame::LiteralAnnounced(a), Some(Frame::Message(msg))) =
            (&fr[0], &fr[2], fr.last())
        else {
            panic!("{fr:?}")
        };
        assert_eq!(&msg[..], b"* 1 FETCH (BODY[] {0}\r\n BODY[1] {1}\r\nx)\r\n");
        assert_eq!((start.offset, a.offset), (18, 32));
        assert_eq!((msg[start.offset], msg[a.offset]), (b'{', b'{'));
    }

    #[test]
    fn queued_buffers_frame_like_one_buffer() {
        let input = Bytes::from_static(
            b"* OK hi\r\n* 1 FETCH (UID 4 BODY[] {12}\r\nhello world!)\r\n\
              * 2 FETCH (BODY[1] {3}\r\nabc BODY[2] {2}\r\nde)\r\n\
              * 3 FETCH (BODY[] {40}\r\n0123456789012345678901234567890123456789)\r\n\
              * 4 A-LINE-THAT-IS-FAR-TOO-LONG-FOR-THE-LIMIT-OF-THIS-FRAMER-xxxxxxxxxxxxxxxxxxxx\r\n\
              * 5 FETCH (BODY[] {3}\r\nxyz)\r\n\
              a1 OK done\r\n",
        );
        let config = FramerConfig {
            limits: Limits::default().with_max_line(60),
            stream_literals_over: Some(20),
            ..FramerConfig::default()
        };
        let mut whole = Framer::new(config);
        whole.push_bytes(input.clone());
        let expected = joined(frames(&mut whole));
        assert!(expected.iter().any(|f| matches!(f, Frame::Error(_))));
        assert!(expected.iter().any(|f| matches!(f, Frame::LiteralBegin(_))));
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for round in 0..600 {
            let mut f = Framer::new(config);
            let mut got = Vec::new();
            let mut at = 0;
            let eager = round % 2 == 0;
            // reads into one buffer, split off one after the other (`push_bytes_mut`)
            let mut rd = BytesMut::from(&input[..]);
            while at < input.len() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let n = 1 + (x % 23) as usize;
                let end = (at + n).min(input.len());
                let read = rd.split_to(end - at);
                if round % 3 == 2 && x % 11 != 0 {
                    f.push_bytes_mut(read);
                } else if x % 5 == 0 {
                    f.push(&input[at..end]);
                } else {
                    f.push_bytes(input.slice(at..end));
                }
                at = end;
                if eager || x % 7 == 0 {
                    got.extend(frames(&mut f));
                }
            }
            got.extend(frames(&mut f));
            assert_eq!(joined(got), expected, "round {round}");
            assert_eq!(f.buffered(), 0);
            assert!(f.is_idle());
            assert_eq!(f.stream_offset(), input.len() as u64);
        }
    }

    /// Reads split off one buffer (`push_bytes_mut`) are joined without a copy: every frame
    /// and streamed chunk lies in the reads' allocation, also a message (line, literal or
    /// both) that straddles two reads; the frames are those of the whole stream.
    #[test]
    fn contiguous_reads_are_joined_without_a_copy() {
        let input: &[u8] = b"* 1 FETCH (UID 4 BODY[] {12}\r\nhello world!)\r\n\
              * 2 FETCH (BODY[] {40}\r\n0123456789012345678901234567890123456789)\r\n\
              * 3 FETCH (BODY[1] {3}\r\nabc BODY[2] {2}\r\nde)\r\n\
              a1 OK done\r\n";
        let config = FramerConfig {
            stream_literals_over: Some(20),
            ..FramerConfig::default()
        };
        let mut whole = Framer::new(config);
        whole.push_bytes(Bytes::copy_from_slice(input));
        let expected = joined(frames(&mut whole));
        for read in 1..input.len() {
            let mut rd = BytesMut::with_capacity(input.len());
            rd.extend_from_slice(input);
            let (lo, hi) = (rd.as_ptr() as usize, rd.as_ptr() as usize + input.len());
            let mut f = Framer::new(config);
            let mut got = Vec::new();
            while !rd.is_empty() {
                let n = read.min(rd.len());
                f.push_bytes_mut(rd.split_to(n));
                for fr in frames(&mut f) {
                    let b = match &fr {
                        Frame::Message(b) | Frame::LiteralChunk(b) => Some(b),
                        _ => None,
                    };
                    // a message after a streamed literal is joined to its kept head (a copy
                    // by design); every other frame is a slice of the reads
                    let joined_head = matches!(&fr, Frame::Message(m) if m.starts_with(b"* 2"));
                    if let Some(b) = b.filter(|_| !joined_head) {
                        let p = b.as_ptr() as usize;
                        assert!(p >= lo && p + b.len() <= hi, "read {read}: copied {b:?}");
                    }
                    got.push(fr);
                }
            }
            assert_eq!(joined(got), expected, "read {read}");
            assert!(f.is_idle());
        }
    }

    /// The final message after a streamed literal is split off the framer's own buffer: one
    /// that is kept keeps its bytes while later heads are written (the buffer is shared, not
    /// overwritten), and one that is dropped at once lets its memory take the next heads;
    /// either way each final message holds exactly its own message, as when it was a copy.
    #[test]
    fn final_messages_split_off_the_framer_buffer_keep_their_bytes() {
        let config = FramerConfig::default().with_stream_literals_over(Some(8));
        let mut f = Framer::new(config);
        let mut kept = Vec::new();
        for i in 1..=40usize {
            // heads of varying length, so the buffer both fills up and is taken again
            let pad = "x".repeat(i * 7 % 50);
            let input =
                format!("* {i} FETCH (UID {i} BODY[{pad}] {{12}}\r\nhello world! UID {i})\r\n");
            let expected = format!("* {i} FETCH (UID {i} BODY[{pad}] {{0}}\r\n UID {i})\r\n");
            // pushed whole for even messages, in two reads (the rest after the literal
            // arriving later) for odd ones
            let cut = if i % 2 == 0 {
                input.len()
            } else {
                input.len() - 5
            };
            f.push(&input.as_bytes()[..cut]);
            let mut got = frames(&mut f);
            f.push(&input.as_bytes()[cut..]);
            got.extend(frames(&mut f));
            let msg = got
                .into_iter()
                .find_map(|fr| match fr {
                    Frame::Message(m) => Some(m),
                    _ => None,
                })
                .expect("the final message");
            assert_eq!(&msg[..], expected.as_bytes(), "message {i}");
            if i % 3 == 0 {
                kept.push((expected, msg));
            }
        }
        assert!(f.is_idle());
        for (expected, msg) in &kept {
            assert_eq!(&msg[..], expected.as_bytes());
        }
    }

    /// Messages with streamed literals one after the other (two in one message, a long
    /// message head that the framer's kept buffer outgrows, an error in between): each
    /// prefix and final message holds only its own message's bytes, whether the input comes
    /// whole, byte by byte, copied in reads of every size or in reads split off one buffer
    /// (where a read inside a literal is handed over whole as the chunk).
    #[test]
    fn consecutive_streamed_messages_keep_their_own_heads() {
        let long = "x".repeat(KEEP_PARTIAL + 10);
        let input = format!(
            "* 1 FETCH (UID 7 BODY[1] {{12}}\r\nhello world! BODY[2] {{10}}\r\n0123456789)\r\n\
             * 2 FETCH (BODY[] {{11}}\r\nabcdefghijk)\r\n\
             * 3 FETCH (BODY[HEADER.FIELDS ({long})] {{9}}\r\n123456789)\r\n\
             * 4 FETCH (BODY[] {{99999999999999999999999}}\r\n\
             * 5 FETCH (BODY[] {{9}}\r\nzyxwvutsr UID 9)\r\n\
             a1 OK done\r\n"
        );
        let input = input.as_bytes();
        let config = FramerConfig::default()
            .with_stream_literals_over(Some(8))
            .with_limits(Limits::default().with_max_line(8192));
        let mut whole = Framer::new(config);
        whole.push_bytes(Bytes::copy_from_slice(input));
        let expected = joined(frames(&mut whole));
        let prefixes: Vec<&[u8]> = expected
            .iter()
            .filter_map(|f| match f {
                Frame::LiteralBegin(s) => Some(&s.prefix[..]),
                _ => None,
            })
            .collect();
        let messages: Vec<&[u8]> = expected
            .iter()
            .filter_map(|f| match f {
                Frame::Message(m) => Some(&m[..]),
                _ => None,
            })
            .collect();
        let head3 = format!("* 3 FETCH (BODY[HEADER.FIELDS ({long})] {{0}}\r\n");
        let prefix3 = format!("* 3 FETCH (BODY[HEADER.FIELDS ({long})] {{9}}\r\n");
        // each prefix as received, earlier streamed literals' headers as `{0}`
        assert_eq!(
            prefixes,
            [
                &b"* 1 FETCH (UID 7 BODY[1] {12}\r\n"[..],
                b"* 1 FETCH (UID 7 BODY[1] {0}\r\n BODY[2] {10}\r\n",
                b"* 2 FETCH (BODY[] {11}\r\n",
                prefix3.as_bytes(),
                b"* 5 FETCH (BODY[] {9}\r\n",
            ]
        );
        let msg3 = format!("{head3})\r\n");
        assert_eq!(
            messages,
            [
                &b"* 1 FETCH (UID 7 BODY[1] {0}\r\n BODY[2] {0}\r\n)\r\n"[..],
                b"* 2 FETCH (BODY[] {0}\r\n)\r\n",
                msg3.as_bytes(),
                b"* 5 FETCH (BODY[] {0}\r\n UID 9)\r\n",
                b"a1 OK done\r\n",
            ]
        );
        assert!(expected.iter().any(|f| matches!(f, Frame::Error(_))));
        // the same frames whatever the input path and read size
        let mut bytewise = Framer::new(config);
        let mut got = Vec::new();
        for b in input {
            bytewise.push(std::slice::from_ref(b));
            got.extend(frames(&mut bytewise));
        }
        assert_eq!(joined(got), expected, "byte by byte");
        for read in [1, 2, 3, 5, 8, 13, 64, 4096, input.len()] {
            let mut copied = Framer::new(config);
            let mut got = Vec::new();
            for piece in input.chunks(read) {
                copied.push(piece);
                got.extend(frames(&mut copied));
            }
            assert_eq!(joined(got), expected, "copied reads of {read}");
            let mut rd = BytesMut::from(input);
            let mut split = Framer::new(config);
            let mut got = Vec::new();
            while !rd.is_empty() {
                split.push_bytes_mut(rd.split_to(read.min(rd.len())));
                got.extend(frames(&mut split));
            }
            assert_eq!(joined(got), expected, "split reads of {read}");
            assert!(copied.is_idle() && split.is_idle());
        }
    }

    /// A stream with streamed literals of several sizes (two in one message, one after an
    /// error), for the fast lane's tests.
    fn fast_lane_input() -> Vec<u8> {
        let body: String = (0..300)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        format!(
            "* 1 FETCH (UID 7 BODY[1] {{40}}\r\n{} BODY[2] {{300}}\r\n{body})\r\n\
             * 2 FETCH (BODY[] {{9}}\r\n123456789)\r\n\
             * 3 FETCH (BODY[] {{99999999999999999999999}}\r\n\
             * 4 FETCH (BODY[] {{17}}\r\nzyxwvutsrqponmlkj UID 9)\r\n\
             a1 OK done\r\n",
            &body[..40]
        )
        .into_bytes()
    }

    /// Feeds `input` in reads of the given sizes (cycled) through `push_bytes` or
    /// `push_bytes_mut` (reads split off one buffer), with or without the fast lane (a
    /// chunk it returns recorded as the `Frame::LiteralChunk` it stands for), taking every
    /// frame after each read. Returns the frames and how many reads the fast lane took.
    fn feed_reads(input: &[u8], sizes: &[usize], mutable: bool, fast: bool) -> (Vec<Frame>, usize) {
        let config = FramerConfig::default()
            .with_stream_literals_over(Some(8))
            .with_limits(Limits::default().with_max_line(8192));
        let mut f = Framer::new(config);
        let mut rd = BytesMut::from(input);
        let mut got = Vec::new();
        let mut lane = 0;
        for &size in sizes.iter().cycle() {
            if rd.is_empty() {
                break;
            }
            let read = rd.split_to(size.clamp(1, rd.len()));
            let chunk = match (mutable, fast) {
                (false, false) => {
                    f.push_bytes(read.freeze());
                    None
                }
                (true, false) => {
                    f.push_bytes_mut(read);
                    None
                }
                (false, true) => f.push_bytes_chunk(read.freeze()),
                (true, true) => f.push_bytes_mut_chunk(read),
            };
            if let Some(c) = chunk {
                lane += 1;
                got.push(Frame::LiteralChunk(c));
            }
            got.extend(frames(&mut f));
        }
        assert!(f.is_idle());
        (got, lane)
    }

    /// Feeds `input` through the lent lane (`push_read`) in reads of the given sizes (cycled),
    /// a lent chunk recorded as the `Frame::LiteralChunk` it stands for, every frame taken
    /// after each read. `window`: each read is the front of one buffer holding the rest of
    /// the input (`n` < `buf.len()`); otherwise each read is appended to a reused read buffer
    /// and offered whole. Returns the frames and how many bytes were lent.
    fn feed_reads_lent(input: &[u8], sizes: &[usize], window: bool) -> (Vec<Frame>, usize) {
        let config = FramerConfig::default()
            .with_stream_literals_over(Some(8))
            .with_limits(Limits::default().with_max_line(8192));
        let mut f = Framer::new(config);
        let mut got = Vec::new();
        let mut lent = 0;
        let mut record = |f: &mut Framer, buf: &mut BytesMut, n: usize| {
            let mut chunk = None;
            let k = f.push_read(buf, n, |c| chunk = Some(Bytes::copy_from_slice(c)));
            assert_eq!(k, chunk.as_ref().map_or(0, |c| c.len()));
            if let Some(c) = chunk {
                lent += k;
                got.push(Frame::LiteralChunk(c));
            }
            let next = frames(f);
            // all of the read lent: nothing was pushed, so no frame follows (a caller may
            // skip asking)
            assert!(k != n || next.is_empty(), "{next:?}");
            got.extend(next);
        };
        if window {
            let mut rd = BytesMut::from(input);
            for &size in sizes.iter().cycle() {
                if rd.is_empty() {
                    break;
                }
                let before = rd.len();
                let n = size.clamp(1, rd.len());
                record(&mut f, &mut rd, n);
                assert_eq!(rd.len(), before - n, "the read is consumed, the rest stays");
            }
        } else {
            let mut buf = BytesMut::with_capacity(64);
            let mut at = 0;
            for &size in sizes.iter().cycle() {
                if at == input.len() {
                    break;
                }
                let end = (at + size.max(1)).min(input.len());
                buf.reserve(end - at);
                buf.extend_from_slice(&input[at..end]);
                at = end;
                let n = buf.len();
                record(&mut f, &mut buf, n);
                assert!(buf.is_empty(), "every byte offered is consumed");
            }
        }
        assert!(f.is_idle());
        (got, lent)
    }

    /// `streamed_literal_left` is the streamed literal's length less the data handed out so
    /// far (by chunk frames, the fast lane or the lent lane), 0 outside one, and turns 0
    /// exactly with the literal's last byte.
    #[test]
    fn streamed_literal_left_counts_down_to_the_literal_end() {
        let input =
            b"* 1 FETCH (BODY[] {20}\r\n01234567890123456789 UID 5)\r\n* 2 FETCH (UID 6)\r\n";
        for lane in 0..3 {
            for size in [1, 3, 7, 25, 100] {
                let config = FramerConfig::default().with_stream_literals_over(Some(8));
                let mut f = Framer::new(config);
                let mut rd = BytesMut::from(&input[..]);
                let (mut begun, mut handed, mut messages) = (false, 0u64, 0);
                while !rd.is_empty() {
                    let n = size.min(rd.len());
                    let k = match lane {
                        0 => {
                            f.push_bytes_mut(rd.split_to(n));
                            0
                        }
                        1 => f
                            .push_bytes_mut_chunk(rd.split_to(n))
                            .map_or(0, |c| c.len()),
                        _ => f.push_read(&mut rd, n, |_| {}),
                    };
                    handed += k as u64;
                    if begun {
                        assert_eq!(f.streamed_literal_left(), 20 - handed, "{lane} {size}");
                    }
                    while let Some(frame) = f.next_frame() {
                        match frame {
                            Frame::LiteralBegin(s) => {
                                assert_eq!(s.announcement.length, 20);
                                begun = true;
                            }
                            Frame::LiteralChunk(c) => handed += c.len() as u64,
                            Frame::Message(_) => messages += 1,
                            other => panic!("{other:?}"),
                        }
                        let left = if begun { 20 - handed } else { 0 };
                        assert_eq!(f.streamed_literal_left(), left, "{lane} {size}");
                    }
                }
                assert_eq!((handed, messages), (20, 2), "{lane} {size}");
                assert_eq!(f.streamed_literal_left(), 0);
                assert!(f.is_idle());
            }
        }
    }

    /// The lent lane (`push_read`) gives exactly the frames of the general path, its chunks
    /// standing for the `LiteralChunk` frames with the same bytes and boundaries, and a read
    /// buffer whose whole content was lent takes the next read in the same memory.
    #[test]
    fn lent_lane_equals_general_path() {
        let input = fast_lane_input();
        let (expected, _) = feed_reads(&input, &[input.len()], false, false);
        for sizes in [&[4][..], &[1], &[16], &[7, 13, 64], &[100, 3]] {
            let (general, _) = feed_reads(&input, sizes, true, false);
            for window in [false, true] {
                let (got, lent) = feed_reads_lent(&input, sizes, window);
                assert_eq!(got, general, "reads {sizes:?}, window {window}");
                assert_eq!(joined(got), expected, "reads {sizes:?}, window {window}");
                assert!(lent > 0, "reads {sizes:?}: the lane was never taken");
            }
        }
        let mut f = Framer::new(FramerConfig::default().with_stream_literals_over(Some(4)));
        let mut buf = BytesMut::with_capacity(64);
        buf.extend_from_slice(b"* 1 FETCH (BODY[] {20}\r\n");
        let n = buf.len();
        assert_eq!(f.push_read(&mut buf, n, |_| panic!("nothing to lend")), 0);
        assert!(matches!(frames(&mut f)[..], [Frame::LiteralBegin(_)]));
        buf.reserve(16);
        let at = buf.as_ptr();
        buf.extend_from_slice(b"0123456789");
        let mut seen = Vec::new();
        assert_eq!(f.push_read(&mut buf, 10, |c| seen.extend_from_slice(c)), 10);
        assert!(buf.is_empty() && frames(&mut f).is_empty());
        // the next read lands where the lent one was
        buf.extend_from_slice(b"abcdefghijk)\r\n");
        assert_eq!(buf.as_ptr(), at);
        let n = buf.len();
        assert_eq!(f.push_read(&mut buf, n, |c| seen.extend_from_slice(c)), 10);
        assert_eq!(seen, b"0123456789abcdefghij");
        assert!(buf.is_empty());
        assert_eq!(
            frames(&mut f),
            [Frame::Message(Bytes::from_static(
                b"* 1 FETCH (BODY[] {0}\r\nk)\r\n"
            ))]
        );
        // bytes held: not lent, pushed as usual
        let mut buf = BytesMut::from(&b"* 2 FETCH (BODY[] {9}\r\n1"[..]);
        let n = buf.len();
        assert_eq!(f.push_read(&mut buf, n, |_| panic!()), 0);
        let mut more = BytesMut::from(&b"2345678)\r\n"[..]);
        // a frame not taken yet: the framer holds bytes, nothing is lent
        assert_eq!(f.push_read(&mut more, 3, |_| panic!("frames not taken")), 0);
        assert_eq!(&more[..], b"5678)\r\n");
    }

    /// The room lane's inputs: [`fast_lane_input`] (streamed literals, two in a message, an
    /// overflowing length) and messages with literals of 0 to 2,500 bytes between one-line
    /// ones.
    fn room_input() -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..24 {
            let n = (i * 397 + 1000) % 2500;
            v.extend_from_slice(format!("* {i} FETCH (UID {i} BODY[] {{{n}}}\r\n").as_bytes());
            v.extend((0..n).map(|k| b'a' + (k % 26) as u8));
            v.extend_from_slice(b" FLAGS (\\Seen))\r\n* OK x\r\n");
        }
        v.extend_from_slice(&fast_lane_input());
        v
    }

    /// The room tests' framer settings: streaming over 8 bytes (every literal but the
    /// empty ones), over 1,000 (held literals straddle reads), none, none with literals
    /// over 1,500 or messages over 1,800 bytes refused (errors, then discarding), lines
    /// over 40 refused; literals announced or quiet.
    fn room_config(i: usize) -> FramerConfig {
        let lim = Limits::default().with_max_line(8192);
        let c = FramerConfig::default().with_quiet_literals(i % 2 == 1);
        match i / 2 % 6 {
            0 => c.with_stream_literals_over(Some(8)).with_limits(lim),
            1 => c.with_stream_literals_over(Some(1000)).with_limits(lim),
            2 => c.with_limits(lim),
            3 => c.with_limits(lim.with_max_literal(1500)),
            4 => c.with_limits(Limits {
                max_message: 1800,
                ..lim
            }),
            _ => c
                .with_stream_literals_over(Some(100))
                .with_limits(lim.with_max_line(40)),
        }
    }

    /// Frames as text (so that they can be compared after their buffers were dropped).
    fn shown(frames: Vec<Frame>) -> Vec<String> {
        frames.into_iter().map(|f| format!("{f:?}")).collect()
    }

    /// `input` through the room lane: each read (at most the next of `sizes`, cycled, and
    /// at most the room's capacity) appended to a room of `at_least` from `read_room` and
    /// handed back by `push_room` (lent) or, with `chunk`, `push_room_chunk`; every frame
    /// taken after each read, shown and dropped (so that the buffer's memory can be
    /// reclaimed), a lent or handed-out chunk shown as the `LiteralChunk` it stands for.
    /// Returns the frames, the read sizes and how many bytes the lane handed out.
    fn feed_reads_room(
        config: FramerConfig,
        input: &[u8],
        sizes: &[usize],
        at_least: usize,
        chunk: bool,
    ) -> (Vec<String>, Vec<usize>, usize) {
        let mut f = Framer::new(config);
        let (mut got, mut reads, mut lane, mut at) = (Vec::new(), Vec::new(), 0, 0);
        for &size in sizes.iter().cycle() {
            if at == input.len() {
                break;
            }
            let held = !f.buf.is_drained();
            let mut room = f.read_room(at_least);
            assert!(room.is_empty() && room.capacity() >= at_least.max(1));
            // nothing held: the room is the framer's whole buffer, taken (not split off it:
            // the framer is left a new empty buffer, not a handle on the room's allocation)
            assert!(
                held || f.buf.owned.as_ptr() == BytesMut::new().as_ptr(),
                "the whole buffer was not lent"
            );
            let n = size.max(1).min(room.capacity()).min(input.len() - at);
            room.extend_from_slice(&input[at..at + n]);
            at += n;
            reads.push(n);
            let k = if chunk {
                let c = f.push_room_chunk(room);
                let k = c.as_ref().map_or(0, |c| c.len());
                got.extend(c.map(|c| format!("{:?}", Frame::LiteralChunk(c))));
                k
            } else {
                let mut c = None;
                let k = f.push_room(room, |b| c = Some(Bytes::copy_from_slice(b)));
                assert_eq!(k, c.as_ref().map_or(0, |c| c.len()));
                got.extend(c.map(|c| format!("{:?}", Frame::LiteralChunk(c))));
                k
            };
            lane += k;
            let next = shown(frames(&mut f));
            assert!(
                k != n || next.is_empty(),
                "all of the read lent, yet {next:?}"
            );
            got.extend(next);
        }
        assert!(f.is_idle());
        (got, reads, lane)
    }

    /// The general path of [`feed_reads_room`]: the same reads split off one buffer and
    /// pushed with `push_bytes_mut`, every frame taken after each.
    fn general_frames(config: FramerConfig, input: &[u8], reads: &[usize]) -> Vec<String> {
        let mut f = Framer::new(config);
        let mut rd = BytesMut::from(input);
        let mut got = Vec::new();
        for &n in reads {
            f.push_bytes_mut(rd.split_to(n));
            got.extend(shown(frames(&mut f)));
        }
        assert!(rd.is_empty() && f.is_idle());
        got
    }

    /// The room lane (`read_room`, `push_room`, `push_room_chunk`) gives exactly the frames
    /// of the general path (`push_bytes_mut` of the same reads), chunk boundaries included:
    /// streamed and held literals, held ones straddling reads at thresholds above the read
    /// size, limits exceeded, announced and quiet literals, rooms from 1 byte up.
    #[test]
    fn room_lane_equals_general_path() {
        let input = room_input();
        for cfg in 0..12 {
            let config = room_config(cfg);
            for sizes in [
                &[4][..],
                &[1],
                &[16],
                &[7, 13, 64],
                &[100, 3],
                &[1000, 4096],
            ] {
                for at_least in [1, 16, 100, 4096] {
                    for chunk in [false, true] {
                        let (got, reads, lane) =
                            feed_reads_room(config, &input, sizes, at_least, chunk);
                        let general = general_frames(config, &input, &reads);
                        assert_eq!(got, general, "{cfg} {sizes:?} {at_least} {chunk}");
                        if cfg / 2 == 0 {
                            assert!(lane > 0, "{cfg} {sizes:?}: the lane was never taken");
                        }
                    }
                }
            }
        }
    }

    /// Held (not streamed) literals that straddle reads are cut from the memory they were
    /// read into: once a literal's header has arrived, the room is made for the rest of
    /// its message, so every later read lands after the bytes held. Only the message whose
    /// header made the first large buffer had its start (one read) copied, and the first
    /// after each read that ended between messages (the block is let go there: here once);
    /// the lent chunk of a streamed body takes the next read at the same address.
    #[test]
    fn held_messages_are_cut_where_they_were_read() {
        let mut input = Vec::new();
        for i in 0..40 {
            let n = (i * 397 + 1000) % 3000;
            input.extend_from_slice(format!("* {i} FETCH (BODY[] {{{n}}}\r\n").as_bytes());
            input.extend((0..n).map(|k| b'a' + (k % 26) as u8));
            input.extend_from_slice(b")\r\n* OK x\r\n");
        }
        for quiet in [false, true] {
            for over in [None, Some(100_000)] {
                let config = FramerConfig::default()
                    .with_quiet_literals(quiet)
                    .with_stream_literals_over(over);
                let mut f = Framer::new(config);
                // the stream offset and address of every read
                let mut reads: Vec<(u64, usize, usize)> = Vec::new();
                let (mut at, mut copied, mut messages, mut idle) = (0, 0, 0, 0);
                while at < input.len() {
                    if at > 0 && f.is_idle() {
                        // a read ended between messages: the block is let go
                        idle += 1;
                    }
                    let mut room = f.read_room(100);
                    let n = 100.min(input.len() - at);
                    room.extend_from_slice(&input[at..at + n]);
                    reads.push((at as u64, room.as_ptr() as usize, n));
                    at += n;
                    assert_eq!(f.push_room(room, |_| panic!("nothing streamed")), 0);
                    loop {
                        let start = f.stream_offset();
                        let Some(frame) = f.next_frame() else { break };
                        let Frame::Message(m) = frame else { continue };
                        let &(off, addr, _) =
                            reads.iter().rev().find(|r| r.0 <= start).expect("a read");
                        messages += 1;
                        if m.as_ptr() as usize != addr + (start - off) as usize {
                            copied += 1;
                        }
                    }
                }
                assert_eq!(messages, 80);
                assert_eq!(copied, 1 + idle, "quiet {quiet}, over {over:?}");
            }
        }
        // a streamed body's lent chunks take the next read at the same address
        let mut f = Framer::new(FramerConfig::default().with_stream_literals_over(Some(4)));
        let mut r = f.read_room(64);
        r.extend_from_slice(b"* 1 FETCH (BODY[] {20}\r\n");
        assert_eq!(f.push_room(r, |_| panic!("nothing to lend")), 0);
        assert!(matches!(frames(&mut f)[..], [Frame::LiteralBegin(_)]));
        let mut r = f.read_room(16);
        let at = r.as_ptr();
        r.extend_from_slice(b"0123456789");
        let mut seen = Vec::new();
        assert_eq!(f.push_room(r, |c| seen.extend_from_slice(c)), 10);
        assert!(frames(&mut f).is_empty());
        let mut r = f.read_room(16);
        assert_eq!(r.as_ptr(), at);
        r.extend_from_slice(b"abcdefghijk)\r\n");
        assert_eq!(f.push_room(r, |c| seen.extend_from_slice(c)), 10);
        assert_eq!(seen, b"0123456789abcdefghij");
        assert_eq!(
            frames(&mut f),
            [Frame::Message(Bytes::from_static(
                b"* 1 FETCH (BODY[] {0}\r\nk)\r\n"
            ))]
        );
    }

    /// A long line, or a held literal larger than the room made ahead of it, arriving in
    /// many small reads: new buffers grow geometrically, so the held bytes move a few times,
    /// not once a read.
    #[test]
    fn rooms_grow_geometrically() {
        let limits = Limits::default().with_max_line(1 << 20);
        let long = |n: usize| {
            let mut v = b"* SEARCH".to_vec();
            while v.len() < n {
                v.extend_from_slice(b" 1234567");
            }
            v.extend_from_slice(b"\r\n");
            v
        };
        let literal = |n: usize| {
            let mut v = format!("* 1 FETCH (BODY[] {{{n}}}\r\n").into_bytes();
            v.resize(v.len() + n, b'x');
            v.extend_from_slice(b")\r\n");
            v
        };
        let unlimited = Limits {
            max_literal: u64::MAX,
            max_message: u64::MAX,
            ..limits
        };
        for (input, limits) in [(long(300_000), limits), (literal(5 << 20), unlimited)] {
            let mut f = Framer::new(FramerConfig::default().with_limits(limits));
            let (mut at, mut moves, mut end) = (0, 0, 0usize);
            let mut got = Vec::new();
            while at < input.len() {
                let mut r = f.read_room(1000);
                if r.as_ptr() as usize != end {
                    moves += 1;
                }
                let n = 1000.min(input.len() - at);
                r.extend_from_slice(&input[at..at + n]);
                end = r.as_ptr() as usize + n;
                at += n;
                f.push_room(r, |_| panic!("nothing streamed"));
                got.extend(frames(&mut f));
            }
            assert!(moves <= 12, "{moves} moves for {} bytes", input.len());
            let Some(Frame::Message(m)) = got.last() else {
                panic!("{:?}", got.len())
            };
            assert_eq!(&m[..], &input[..]);
        }
    }

    /// A connection idle after a held body keeps no [`HELD_ROOM`] block: the first room
    /// asked for between messages with nothing held is [`ROOM_READS`] reads; a body
    /// streamed meanwhile keeps its buffer (its reads are lent at the same address).
    #[test]
    fn rooms_let_the_block_go_between_messages() {
        let mut input = b"* 1 FETCH (BODY[] {300000}\r\n".to_vec();
        input.resize(input.len() + 300_000, b'x');
        input.extend_from_slice(b")\r\n* OK done\r\n");
        for over in [None, Some(100_000)] {
            let config = FramerConfig::default().with_stream_literals_over(over);
            let mut f = Framer::new(config);
            let (mut at, mut most, mut lent) = (0, 0, 0);
            while at < input.len() {
                let mut r = f.read_room(1000);
                most = most.max(r.capacity());
                let n = 1000.min(input.len() - at);
                r.extend_from_slice(&input[at..at + n]);
                at += n;
                lent += f.push_room(r, |_| {});
                let fr = frames(&mut f);
                assert!(fr.iter().all(|f| !matches!(f, Frame::Error(_))), "{fr:?}");
            }
            assert!(f.is_idle());
            if over.is_none() {
                // the held body had room made for it
                assert!(most >= 300_000, "{most}");
            } else {
                assert!(lent > 0);
            }
            let r = f.read_room(1000);
            assert!(
                r.capacity() >= 1000 && r.capacity() <= 1000 * ROOM_READS,
                "{over:?}: an idle room of {}",
                r.capacity()
            );
        }
    }

    /// An announced length makes room for at most [`HELD_ROOM`] ahead, whatever the limits
    /// allow; over the limits, none.
    #[test]
    fn room_ahead_of_a_literal_is_bounded() {
        let unlimited = Limits {
            max_literal: u64::MAX,
            max_message: u64::MAX,
            ..Limits::default()
        };
        for (limits, most) in [(unlimited, HELD_ROOM + 4096), (Limits::default(), 4096)] {
            let mut f = Framer::new(FramerConfig::default().with_limits(limits));
            let mut r = f.read_room(16);
            r.extend_from_slice(b"* 1 FETCH (BODY[] {4000000000}\r\nab");
            assert_eq!(f.push_room(r, |_| panic!()), 0);
            // the announcement, or the error
            let fr = frames(&mut f);
            assert!(matches!(
                fr[..],
                [Frame::LiteralAnnounced(_)] | [Frame::Error(_)]
            ));
            let r = f.read_room(16);
            assert!(
                r.capacity() >= 16 && r.capacity() <= most,
                "{}",
                r.capacity()
            );
        }
    }

    /// With nothing held and spare capacity for fewer than `RENEW_READS` reads left, the
    /// room comes from renewed memory (here the buffer's own, reclaimed: its frames were
    /// dropped), not from the little left at its end; frames as before.
    #[test]
    fn rooms_are_renewed_when_nothing_is_held() {
        let mut f = Framer::new(FramerConfig::default());
        let mut r = f.read_room(1000);
        let (base, cap) = (r.as_ptr(), r.capacity());
        assert!(cap >= 1000 * ROOM_READS);
        let msgs = b"* 1 EXISTS\r\n".repeat((cap - 2500) / 12);
        r.extend_from_slice(&msgs);
        assert_eq!(f.push_room(r, |_| panic!()), 0);
        assert_eq!(frames(&mut f).len(), msgs.len() / 12);
        // nothing held, less than 3 reads of 1000 left at the end of the buffer
        let mut r = f.read_room(1000);
        assert_eq!((r.as_ptr(), r.capacity()), (base, cap), "renewed in place");
        r.extend_from_slice(b"* 2 EXISTS\r\n* 3 EXI");
        assert_eq!(f.push_room(r, |_| panic!()), 0);
        assert_eq!(frames(&mut f).len(), 1);
        // something held: no renewal while the room lasts
        let r = f.read_room(1000);
        assert_eq!(r.as_ptr(), base.wrapping_add(19));
        f.push_room(r, |_| panic!());
        let mut r = f.read_room(1000);
        r.extend_from_slice(b"STS\r\n");
        f.push_room(r, |_| panic!());
        assert_eq!(
            frames(&mut f),
            [Frame::Message(Bytes::from_static(b"* 3 EXISTS\r\n"))]
        );
    }

    /// `waits` (the receiver's cheap `None`) holds inside a held literal until its last byte
    /// arrives, inside a streamed one while nothing is buffered, and nowhere else; the
    /// frames come as without it (`frames` checks it before every `next_frame` in these
    /// tests).
    #[test]
    fn waits_until_a_literal_has_arrived() {
        let cfg = FramerConfig::default().with_quiet_literals(true);
        let mut f = Framer::new(cfg.with_stream_literals_over(Some(8)));
        assert!(!f.waits());
        f.push(b"* 1 FETCH (BODY[] {6}\r\nab");
        assert!(frames(&mut f).is_empty());
        assert!(f.waits(), "held literal, 2 of 6 bytes");
        f.push(b"cd");
        assert!(f.waits(), "held literal, 4 of 6 bytes");
        f.push(b"ef");
        assert!(!f.waits(), "held literal complete");
        assert!(frames(&mut f).is_empty(), "the message's end has not come");
        f.push(b")\r\n* 2 FETCH (BODY[] {10}\r\n01");
        assert!(!f.waits(), "a message to give");
        let got = frames(&mut f);
        assert!(
            matches!(
                got[..],
                [
                    Frame::Message(_),
                    Frame::LiteralBegin(_),
                    Frame::LiteralChunk(_)
                ]
            ),
            "{got:?}"
        );
        assert!(f.waits(), "streamed literal, nothing buffered");
        // a buffer waiting in `more` (pushed as `Bytes` after copied bytes): not known
        let mut f = Framer::new(cfg);
        f.push(b"* 1 FETCH (BODY[] {6}\r\nab");
        assert!(frames(&mut f).is_empty() && f.waits());
        f.push_bytes(Bytes::from_static(b"cdef)\r\n"));
        assert!(!f.waits());
        assert_eq!(frames(&mut f).len(), 1);
    }

    /// Rooms misused: a room never handed back, another buffer handed back, two rooms out
    /// at once (handed back in read order), a room whose front the caller removed, a
    /// hand-off (`take_buffered`) while a room is out: no panic, no byte of the framer's
    /// lost, the frames those inputs make.
    #[test]
    fn rooms_misused_lose_nothing_held() {
        let msg = |m: &'static [u8]| Frame::Message(Bytes::from_static(m));
        let mut f = Framer::new(FramerConfig::default());
        let mut r = f.read_room(8);
        r.extend_from_slice(b"* 1 EXI");
        assert_eq!(f.push_room(r, |_| panic!()), 0);
        assert!(frames(&mut f).is_empty());
        // never handed back: its bytes were never given; the held bytes stay
        let mut r = f.read_room(8);
        r.extend_from_slice(b"lost");
        drop(r);
        let mut r = f.read_room(8);
        r.extend_from_slice(b"STS\r\n");
        assert_eq!(f.push_room(r, |_| panic!()), 0);
        assert_eq!(frames(&mut f), [msg(b"* 1 EXISTS\r\n")]);
        // another buffer handed back: the next input
        let mut r = f.read_room(8);
        r.extend_from_slice(b"* 2 ");
        f.push_room(r, |_| panic!());
        f.push_room(BytesMut::from(&b"EXISTS\r\n* 3 "[..]), |_| panic!());
        assert_eq!(frames(&mut f), [msg(b"* 2 EXISTS\r\n")]);
        // two rooms out: handed back in read order
        let mut r1 = f.read_room(8);
        let mut r2 = f.read_room(8);
        r1.extend_from_slice(b"EXI");
        r2.extend_from_slice(b"STS\r\n");
        f.push_room(r1, |_| panic!());
        f.push_room(r2, |_| panic!());
        assert_eq!(frames(&mut f), [msg(b"* 3 EXISTS\r\n")]);
        // the caller removed the front of its own read: the rest is the input
        let mut r = f.read_room(16);
        r.extend_from_slice(b"xx* 4 EXISTS\r\n");
        r.advance(2);
        f.push_room(r, |_| panic!());
        assert_eq!(frames(&mut f), [msg(b"* 4 EXISTS\r\n")]);
        // a hand-off with a room out: the held bytes go to the next layer, the room's read
        // is framed afresh after them
        let mut r = f.read_room(16);
        r.extend_from_slice(b"a OK begin\r\nleft");
        f.push_room(r, |_| panic!());
        assert_eq!(frames(&mut f), [msg(b"a OK begin\r\n")]);
        let mut r = f.read_room(16);
        assert_eq!(&f.take_buffered()[..], b"left");
        r.extend_from_slice(b"* OK tls\r\n");
        f.push_room(r, |_| panic!());
        assert_eq!(frames(&mut f), [msg(b"* OK tls\r\n")]);
        assert!(f.is_idle());
        // inside a streamed literal, a room not handed back and a foreign buffer
        let mut f = Framer::new(FramerConfig::default().with_stream_literals_over(Some(4)));
        f.push(b"* 1 FETCH (BODY[] {8}\r\n");
        assert!(matches!(frames(&mut f)[..], [Frame::LiteralBegin(_)]));
        drop(f.read_room(4));
        let mut lent = Vec::new();
        let k = f.push_room(BytesMut::from(&b"0123"[..]), |c| lent.extend_from_slice(c));
        assert_eq!(k, 4);
        let mut r = f.read_room(4);
        r.extend_from_slice(b"4567)\r\n");
        assert_eq!(f.push_room(r, |c| lent.extend_from_slice(c)), 4);
        assert_eq!(lent, b"01234567");
        assert_eq!(frames(&mut f), [msg(b"* 1 FETCH (BODY[] {0}\r\n)\r\n")]);
        // bytes pushed as `Bytes` still buffered: the room is a buffer of its own
        f.push_bytes(Bytes::from_static(b"* 5 EXI"));
        assert!(frames(&mut f).is_empty());
        let mut r = f.read_room(8);
        r.extend_from_slice(b"STS\r\n");
        f.push_room(r, |_| panic!());
        assert_eq!(frames(&mut f), [msg(b"* 5 EXISTS\r\n")]);
    }

    /// The fast lane (`push_bytes_chunk`, `push_bytes_mut_chunk`) gives exactly the frames of
    /// the general path, chunk boundaries included, and hands a read that lies inside a
    /// literal back as the same buffer.
    #[test]
    fn fast_lane_equals_general_path() {
        let input = fast_lane_input();
        let (expected, _) = feed_reads(&input, &[input.len()], false, false);
        for sizes in [&[4][..], &[1], &[16], &[7, 13, 64], &[100, 3]] {
            for mutable in [false, true] {
                let (general, none) = feed_reads(&input, sizes, mutable, false);
                let (fast, lane) = feed_reads(&input, sizes, mutable, true);
                assert_eq!(none, 0);
                assert_eq!(fast, general, "reads {sizes:?}, mutable {mutable}");
                assert_eq!(joined(fast), expected, "reads {sizes:?}, mutable {mutable}");
                assert!(lane > 0, "reads {sizes:?}: the fast lane was never taken");
            }
        }
        // a read inside a literal comes back as the buffer it was
        let mut f = Framer::new(FramerConfig::default().with_stream_literals_over(Some(4)));
        f.push_bytes(Bytes::from_static(b"* 1 FETCH (BODY[] {20}\r\n"));
        assert!(matches!(frames(&mut f)[..], [Frame::LiteralBegin(_)]));
        let read = Bytes::from(b"0123456789".to_vec());
        let back = f.push_bytes_chunk(read.clone()).expect("fast lane");
        assert_eq!(back.as_ptr(), read.as_ptr());
        assert_eq!(back.len(), 10);
        let mut rd = BytesMut::from(&b"abcdefghijk)\r\n"[..]);
        let ptr = rd.as_ptr();
        let read = rd.split();
        let back = f.push_bytes_mut_chunk(read).expect("fast lane");
        assert_eq!((back.as_ptr(), &back[..]), (ptr, &b"abcdefghij"[..]));
        assert_eq!(
            frames(&mut f),
            [Frame::Message(Bytes::from_static(
                b"* 1 FETCH (BODY[] {0}\r\nk)\r\n"
            ))]
        );
        // not streaming: pushed as usual
        assert_eq!(
            f.push_bytes_chunk(Bytes::from_static(b"* 2 EXISTS\r\n")),
            None
        );
        assert_eq!(
            frames(&mut f),
            [Frame::Message(Bytes::from_static(b"* 2 EXISTS\r\n"))]
        );
    }

    /// `find_lf` (16-byte blocks, then `memchr`) finds the LF `memchr` finds: every length
    /// up to past the block scan, the LF at every place (none, one, or two next to each
    /// other), among bytes that tempt a word-at-a-time search (a LF with its high bit set,
    /// the bytes next to LF, zero, 0xFF).
    #[test]
    fn find_lf_equals_memchr() {
        for fill in [0u8, 0x01, 0x09, 0x0b, 0x0d, 0x8a, 0x7f, 0xff, b'a'] {
            for len in 0..SHORT_LINE + 40 {
                let mut s = vec![fill; len];
                assert_eq!(find_lf(&s), memchr::memchr(b'\n', &s), "{fill} {len}");
                for p in 0..len {
                    s.fill(fill);
                    s[p] = b'\n';
                    assert_eq!(find_lf(&s), Some(p), "{fill} {len} {p}");
                    if p + 1 < len {
                        s[p + 1] = b'\n';
                        assert_eq!(find_lf(&s), Some(p), "{fill} {len} {p}+1");
                    }
                    if p > 0 {
                        s[p - 1] = 0x0b; // one above LF: the borrow's case
                        assert_eq!(find_lf(&s), Some(p), "{fill} {len} {p}-1");
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// `find_lf` against `memchr` on any bytes, LFs rare or frequent.
        #[test]
        fn find_lf_equals_memchr_on_any_bytes(
            s in proptest::collection::vec(
                proptest::prop_oneof![8 => proptest::num::u8::ANY, 1 => proptest::strategy::Just(b'\n')],
                0..400,
            ),
        ) {
            proptest::prop_assert_eq!(find_lf(&s), memchr::memchr(b'\n', &s));
        }
    }

    proptest::proptest! {
        /// The fast lane against the general path over random read sizes.
        #[test]
        fn fast_lane_equals_general_path_at_any_split(
            sizes in proptest::collection::vec(1usize..80, 1..12),
            mutable in proptest::bool::ANY,
        ) {
            let input = fast_lane_input();
            let (general, _) = feed_reads(&input, &sizes, mutable, false);
            let (fast, _) = feed_reads(&input, &sizes, mutable, true);
            proptest::prop_assert_eq!(fast, general);
        }

        /// The room lane against the general path over random read sizes, rooms, settings
        /// and both hand-backs.
        #[test]
        fn room_lane_equals_general_path_at_any_split(
            sizes in proptest::collection::vec(1usize..3000, 1..12),
            at_least in 1usize..3000,
            cfg in 0usize..12,
            chunk in proptest::bool::ANY,
        ) {
            let input = room_input();
            let config = room_config(cfg);
            let (got, reads, _) = feed_reads_room(config, &input, &sizes, at_least, chunk);
            proptest::prop_assert_eq!(got, general_frames(config, &input, &reads));
        }

        /// The lent lane against the general path over random read sizes.
        #[test]
        fn lent_lane_equals_general_path_at_any_split(
            sizes in proptest::collection::vec(1usize..80, 1..12),
            window in proptest::bool::ANY,
        ) {
            let input = fast_lane_input();
            let (general, _) = feed_reads(&input, &sizes, true, false);
            let (lent, _) = feed_reads_lent(&input, &sizes, window);
            proptest::prop_assert_eq!(lent, general);
        }
    }

    /// `input` pushed into `f` in reads of `sizes` (cycled) by `push` (`how` 0),
    /// `push_bytes` (1) or `push_bytes_mut` (else), `take` called after each read.
    fn feed_pieces(
        f: &mut Framer,
        input: &[u8],
        sizes: &[usize],
        how: usize,
        mut take: impl FnMut(&mut Framer),
    ) {
        let mut rd = BytesMut::from(input);
        for &size in sizes.iter().cycle() {
            if rd.is_empty() {
                break;
            }
            let read = rd.split_to(size.clamp(1, rd.len()));
            match how {
                0 => f.push(&read),
                1 => f.push_bytes(read.freeze()),
                _ => f.push_bytes_mut(read),
            }
            take(f);
        }
    }

    proptest::proptest! {
        /// The one-line fast path of `next_frame` (with the whole message of quiet literals
        /// it takes too, `literal_message_len`) against the general path alone: any mix of
        /// lines (with and without CR, ending in `}`, announcing literals of either kind,
        /// several, overflowing, over the line, message, literal, literal count or LITERAL-
        /// limit), read whole or in any pieces by `push`, `push_bytes` or `push_bytes_mut`, with
        /// literals announced or quiet, buffered or streamed and synchronizing ones awaited
        /// or not, gives the same frames, offsets and buffered byte counts.
        #[test]
        fn one_line_fast_path_equals_general_path(
            pieces in proptest::collection::vec(0usize..20, 1..16),
            sizes in proptest::collection::vec(1usize..40, 1..8),
            how in 0usize..3,
            stream in proptest::bool::ANY,
            await_sync in proptest::bool::ANY,
            quiet in proptest::bool::ANY,
            nonsync_max in proptest::option::of(0u64..16),
            max_line in 12usize..60,
            max_literal in 8u64..48,
            max_literals in 1usize..4,
            max_message in 24u64..100,
            whole in proptest::bool::ANY,
        ) {
            const PIECES: &[&str] = &[
                "* 1 EXISTS\r\n",
                "a1 OK done\r\n",
                "* LIST () \"/\" {5}\r\nab}cd\r\n",
                "* 2 FETCH (BODY[] {12+}\r\nhello world!)\r\n",
                "* OK [ALERT] braces }\r\n",
                "bare lf line\n",
                "* 3 FETCH (FLAGS (\\Seen) UID 9 MODSEQ (12345678901234))\r\n",
                "x {99999999999999999999999}\r\n",
                "\r\n",
                "* SEARCH 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\r\n",
                "y LOGIN {3}\r\nabc {2}\r\nde\r\n",
                "z }\n",
                "* 4 FETCH (BODY[1] {2}\r\nab BODY[2] ~{3}\r\nc\0d)\r\n",
                "bare lf {1}\nx\n",
                "t2 APPEND box {40}\r\n0123456789012345678901234567890123456789\r\n",
                "w {4}\r\n{1}\r\n{0}\r\n{2}\r\nxy}\r\n",
                "v {0}\r\n\r\n",
                "u {18446744073709551615}\r\n",
                "* LIST () \"/\" {01}\r\n{ {3+}\r\nab\n\r\n",
                "* 5 FETCH (BODY[] {1}\r\nx FLAGS (\\Seen \\Answered \\Flagged \\Draft))\r\n",
            ];
            let input: Vec<u8> = pieces.iter().flat_map(|&i| PIECES[i].bytes()).collect();
            // in one read, each message is complete when first looked at (the only way the
            // fast path takes a message with literals)
            let sizes = if whole { vec![input.len()] } else { sizes };
            let config = FramerConfig::default()
                .with_stream_literals_over(stream.then_some(4))
                .with_await_sync_literals(await_sync)
                .with_quiet_literals(quiet)
                .with_max_nonsync_literal(nonsync_max)
                .with_limits(
                    Limits::default()
                        .with_max_line(max_line)
                        .with_max_message(max_message)
                        .with_max_literal(max_literal)
                        .with_max_literals(max_literals),
                );
            let run = |fast: bool| {
                let mut f = Framer::new(config);
                let mut got = Vec::new();
                feed_pieces(&mut f, &input, &sizes, how, |f| loop {
                    let fr = if fast { f.next_frame() } else { f.next_frame_general() };
                    let Some(fr) = fr else { break };
                    if matches!(fr, Frame::LiteralAnnounced(_)) && f.awaiting_decision() {
                        let _ = f.accept_literal();
                    }
                    got.push((fr, f.stream_offset(), f.buffered()));
                });
                got
            };
            proptest::prop_assert_eq!(run(true), run(false));
        }
    }

    /// With quiet literals, a message with a literal comes as one frame; one over a limit is
    /// still an error, and a synchronizing literal a server pauses at is still announced.
    #[test]
    fn quiet_literals_frame_whole_messages() {
        let mut f = Framer::new(FramerConfig::default().with_quiet_literals(true));
        f.push(b"* LIST () \"/\" {5}\r\nab}cd\r\n* 1 FETCH (BODY[] {3}\r\nab");
        assert_eq!(
            frames(&mut f),
            [Frame::Message(Bytes::from_static(
                b"* LIST () \"/\" {5}\r\nab}cd\r\n"
            ))]
        );
        f.push(b"c)\r\n");
        assert_eq!(
            frames(&mut f),
            [Frame::Message(Bytes::from_static(
                b"* 1 FETCH (BODY[] {3}\r\nabc)\r\n"
            ))]
        );
        let mut f = Framer::new(
            FramerConfig::default()
                .with_quiet_literals(true)
                .with_limits(Limits::default().with_max_literal(2)),
        );
        f.push(b"* 1 FETCH (BODY[] {3}\r\nabc)\r\n* 2 EXISTS\r\n");
        let got = frames(&mut f);
        assert!(matches!(
            got[0],
            Frame::Error(FrameError::LimitExceeded { .. })
        ));
        assert_eq!(
            got[1..],
            [Frame::Message(Bytes::from_static(b"* 2 EXISTS\r\n"))]
        );
        let mut f = Framer::new(FramerConfig::server().with_quiet_literals(true));
        f.push(b"a APPEND box {3}\r\n");
        assert!(matches!(f.next_frame(), Some(Frame::LiteralAnnounced(_))));
        assert!(f.awaiting_decision());
    }

    proptest::proptest! {
        /// Quiet literals ([`FramerConfig::quiet_literals`]) against the announced ones: the
        /// same frames, offsets and buffered byte counts, less the announcements that neither
        /// paused nor streamed, for any mix of lines and literals (over the limits or not,
        /// overflowing, streamed, awaited or not) read in any pieces.
        #[test]
        fn quiet_literals_equal_announced_ones_less_the_announcements(
            pieces in proptest::collection::vec(0usize..12, 1..16),
            sizes in proptest::collection::vec(1usize..40, 1..8),
            how in 0usize..3,
            stream in proptest::bool::ANY,
            await_sync in proptest::bool::ANY,
            max_line in 12usize..60,
        ) {
            const PIECES: &[&str] = &[
                "* 1 EXISTS\r\n",
                "a1 OK done\r\n",
                "* LIST () \"/\" {5}\r\nab}cd\r\n",
                "* 2 FETCH (BODY[] {12+}\r\nhello world!)\r\n",
                "* 3 FETCH (BODY[1] {2}\r\nab BODY[2] ~{3}\r\nc\0d)\r\n",
                "bare lf {1}\nx\n",
                "t2 APPEND box {40}\r\n0123456789012345678901234567890123456789\r\n",
                "x {99999999999999999999999}\r\n",
                "\r\n",
                "y LOGIN {3}\r\nabc {2}\r\nde\r\n",
                "z {0}\r\n\r\n",
                "w {999}\r\nshort",
            ];
            let input: Vec<u8> = pieces.iter().flat_map(|&i| PIECES[i].bytes()).collect();
            let config = FramerConfig::default()
                .with_stream_literals_over(stream.then_some(4))
                .with_await_sync_literals(await_sync)
                .with_limits(
                    Limits::default()
                        .with_max_line(max_line)
                        .with_max_message(90)
                        .with_max_literal(64)
                        .with_max_literals(2),
                );
            let run = |quiet: bool| {
                let mut f = Framer::new(config.with_quiet_literals(quiet));
                let mut got = Vec::new();
                feed_pieces(&mut f, &input, &sizes, how, |f| {
                    while let Some(fr) = f.next_frame() {
                        let paused = f.awaiting_decision();
                        if paused {
                            let _ = f.accept_literal();
                        }
                        if quiet || paused || !matches!(fr, Frame::LiteralAnnounced(_)) {
                            got.push((fr, f.stream_offset(), f.buffered()));
                        }
                    }
                });
                (got, f.buffered(), f.stream_offset())
            };
            proptest::prop_assert_eq!(run(true), run(false));
        }
    }

    /// A server streams one literal it chose (a synchronizing one after its decision, a
    /// non-synchronizing one at once) while others of the same message are buffered.
    #[test]
    fn stream_literal_on_request() {
        let mut f = Framer::new(FramerConfig::server());
        f.push(b"a APPEND {3}\r\n");
        let Some(Frame::LiteralAnnounced(a)) = f.next_frame() else {
            panic!("announcement expected")
        };
        // Not streamed: the mailbox name stays in the message.
        f.accept_literal().unwrap();
        f.push(b"box (\\Seen) {10}\r\n01234");
        assert_eq!(a.length, 3);
        let Some(Frame::LiteralAnnounced(b)) = f.next_frame() else {
            panic!("second announcement expected")
        };
        assert_eq!(b.length, 10);
        assert!(
            f.stream_literal(a.clone()).is_err(),
            "not the waiting literal"
        );
        // the header's offset is the framer's, whatever the announcement passed back says
        let mut lied = b.clone();
        lied.offset = 1;
        let start = f.stream_literal(lied).unwrap();
        assert_eq!(start.offset, b.offset);
        assert_eq!(start.announcement, b);
        assert_eq!(&start.prefix[..], b"a APPEND {3}\r\nbox (\\Seen) {10}\r\n");
        assert_eq!(&start.prefix[start.offset..start.offset + 4], b"{10}");
        let mut got = frames(&mut f);
        f.push(b"56789 {4+}\r\nabcd\r\nb NOOP\r\n");
        got.extend(frames(&mut f));
        let Frame::LiteralAnnounced(c) = &got[2] else {
            panic!("{got:?}")
        };
        let c = c.clone();
        // The third literal (non-synchronizing) was framed already: too late to stream it.
        assert!(f.stream_literal(c).is_err());
        assert!(matches!(&got[0], Frame::LiteralChunk(x) if &x[..] == b"01234"));
        assert!(matches!(&got[1], Frame::LiteralChunk(x) if &x[..] == b"56789"));
        // no end frame: the chunks add up to the length, then the message goes on
        assert!(
            matches!(&got[3], Frame::Message(m) if &m[..] == b"a APPEND {3}\r\nbox (\\Seen) {0}\r\n {4+}\r\nabcd\r\n"),
            "{got:?}"
        );
        assert!(matches!(&got[4], Frame::Message(m) if &m[..] == b"b NOOP\r\n"));
        // A non-synchronizing literal streamed right after its announcement.
        f.push(b"c APPEND x {5+}\r\nhello\r\n");
        let Some(Frame::LiteralAnnounced(d)) = f.next_frame() else {
            panic!("announcement expected")
        };
        f.stream_literal(d).unwrap();
        let got = frames(&mut f);
        assert!(matches!(&got[0], Frame::LiteralChunk(x) if &x[..] == b"hello"));
        assert!(matches!(&got[1], Frame::Message(m) if &m[..] == b"c APPEND x {0}\r\n\r\n"));
        assert!(f.is_idle());
    }

    /// Streamed literal data is handed out as slices of the buffers pushed with
    /// `push_bytes`, also after a line that straddled two of them; only that line is copied.
    #[test]
    fn streamed_chunks_are_slices_of_pushed_buffers() {
        let config = FramerConfig {
            stream_literals_over: Some(4),
            ..FramerConfig::default()
        };
        let mut f = Framer::new(config);
        let a = Bytes::from_static(b"* 1 FETCH (BODY[] {10}\r\n01234");
        let b = Bytes::from_static(b"56789)\r\n* 2 FETCH (BO");
        let c = Bytes::from_static(b"DY[] {8}\r\nabcdefgh)\r\n");
        let within = |chunk: &Bytes, buf: &Bytes| {
            let (p, q) = (chunk.as_ptr() as usize, buf.as_ptr() as usize);
            p >= q && p + chunk.len() <= q + buf.len()
        };
        f.push_bytes(a.clone());
        f.push_bytes(b.clone());
        f.push_bytes(c.clone());
        let fr = frames(&mut f);
        let chunks: Vec<&Bytes> = fr
            .iter()
            .filter_map(|x| match x {
                Frame::LiteralChunk(b) => Some(b),
                _ => None,
            })
            .collect();
        assert_eq!(chunks.len(), 3, "{fr:?}");
        assert!(within(chunks[0], &a) && &chunks[0][..] == b"01234");
        assert!(within(chunks[1], &b) && &chunks[1][..] == b"56789");
        assert!(within(chunks[2], &c) && &chunks[2][..] == b"abcdefgh");
        let msgs: Vec<&Bytes> = fr
            .iter()
            .filter_map(|x| match x {
                Frame::Message(m) => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(
            msgs,
            [
                &b"* 1 FETCH (BODY[] {0}\r\n)\r\n"[..],
                &b"* 2 FETCH (BODY[] {0}\r\n)\r\n"[..]
            ]
        );
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn announcement_forms() {
        assert_eq!(
            parse_announcement(b"a {5}\r"),
            Ok(Some(LiteralHeader {
                length: 5,
                mode: LiteralMode::Sync,
                binary: false
            }))
        );
        assert_eq!(
            parse_announcement(b"a ~{5+}"),
            Ok(Some(LiteralHeader {
                length: 5,
                mode: LiteralMode::NonSync,
                binary: true
            }))
        );
        assert_eq!(parse_announcement(b"a {}"), Ok(None));
        assert_eq!(parse_announcement(b"a 5}"), Ok(None));
        assert_eq!(parse_announcement(b"a {99999999999999999999999}"), Err(()));
    }

    /// `literal_header` and `parse_announcement` (their digit loop without checks up to 19
    /// digits, the backward scan to the `{`) against the checked forms they replaced (s14):
    /// every header of up to 22 digits around the 64-bit edge, zero-padded, with `+`, `~`,
    /// junk before and after, and every string over a small alphabet up to 6 bytes.
    #[test]
    fn literal_header_equals_checked_reference() {
        fn header_ref(s: &[u8]) -> Result<(LiteralHeader, usize), HeaderError> {
            let binary = s.first() == Some(&b'~');
            let mut i = binary as usize;
            if s.get(i) != Some(&b'{') {
                return Err(HeaderError::Invalid {
                    at: i,
                    expected: "{",
                });
            }
            i += 1;
            let ds = i;
            let (mut v, mut overflow) = (0u64, false);
            while let Some(&c @ b'0'..=b'9') = s.get(i) {
                match v
                    .checked_mul(10)
                    .and_then(|v| v.checked_add((c - b'0') as u64))
                {
                    Some(x) => v = x,
                    None => overflow = true,
                }
                i += 1;
            }
            if i == ds {
                return Err(HeaderError::Invalid {
                    at: i,
                    expected: "literal length",
                });
            }
            let mode = if s.get(i) == Some(&b'+') {
                i += 1;
                LiteralMode::NonSync
            } else {
                LiteralMode::Sync
            };
            if s.get(i) != Some(&b'}') {
                let expected = if mode == LiteralMode::Sync {
                    "\"}\" or \"+\""
                } else {
                    "\"}\""
                };
                return Err(HeaderError::Invalid { at: i, expected });
            }
            if overflow || i - ds - (mode == LiteralMode::NonSync) as usize > MAX_LITERAL_DIGITS {
                return Err(HeaderError::Overflow { at: ds });
            }
            Ok((
                LiteralHeader {
                    length: v,
                    mode,
                    binary,
                },
                i + 1,
            ))
        }
        fn announcement_ref(line: &[u8]) -> Result<Option<LiteralHeader>, ()> {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.last() != Some(&b'}') {
                return Ok(None);
            }
            let body = &line[..line.len() - 1];
            let run = body
                .iter()
                .rev()
                .take_while(|&&c| c.is_ascii_digit() || c == b'+')
                .count();
            let Some(open) = (body.len() - run).checked_sub(1) else {
                return Ok(None);
            };
            if body[open] != b'{' {
                return Ok(None);
            }
            let start = if open > 0 && body[open - 1] == b'~' {
                open - 1
            } else {
                open
            };
            match header_ref(&line[start..]) {
                Ok((h, n)) if n == line.len() - start => Ok(Some(h)),
                Ok(_) | Err(HeaderError::Invalid { .. }) => Ok(None),
                Err(HeaderError::Overflow { .. }) => Err(()),
            }
        }
        let check = |s: &[u8]| {
            assert_eq!(
                literal_header(s),
                header_ref(s),
                "{:?}",
                String::from_utf8_lossy(s)
            );
            assert_eq!(
                parse_announcement(s),
                announcement_ref(s),
                "{:?}",
                String::from_utf8_lossy(s)
            );
        };
        let mut numbers = vec![String::new()];
        for d in 1..=22 {
            numbers.push("9".repeat(d));
            numbers.push(format!("1{}", "0".repeat(d - 1)));
            numbers.push(format!("{:0>d$}", 7));
        }
        for n in [u64::MAX - 1, u64::MAX] {
            numbers.push(n.to_string());
            numbers.push(format!("0{n}"));
        }
        numbers.push("18446744073709551616".into());
        numbers.push("99999999999999999990".into());
        for n in &numbers {
            for pre in ["", "~", "a ", "a ~", "x{1}"] {
                for close in ["}", "+}", "", "+", "++}", "}x", "}\r"] {
                    check(format!("{pre}{{{n}{close}").as_bytes());
                }
            }
        }
        // every string over a small alphabet up to 6 bytes
        const A: &[u8] = b"{}+~9 \r";
        let mut s = Vec::new();
        for len in 0..=6u32 {
            for k in 0..A.len().pow(len) {
                s.clear();
                let mut k = k;
                for _ in 0..len {
                    s.push(A[k % A.len()]);
                    k /= A.len();
                }
                check(&s);
            }
        }
    }

    /// The framer (end of line) and the grammar (`Parser::literal_announcement`) accept and
    /// reject exactly the same literal headers, with the same length, mode and kind: a
    /// disagreement would let a literal's data be read as protocol.
    #[test]
    fn framer_and_grammar_agree_on_announcements() {
        use crate::options::DecodeOptions;
        use crate::parse::Parser;
        let mut cases: Vec<Vec<u8>> = [
            &b"{5}"[..],
            b"{5+}",
            b"~{5}",
            b"~{5+}",
            b"{0}",
            b"{00005}",
            b"{00000000000000000005}",  // 20 digits
            b"{000000000000000000005}", // 21 digits: overflow
            b"{4294967295}",
            b"{4294967296}",           // > u32
            b"{18446744073709551615}", // u64::MAX
            b"{18446744073709551616}", // > u64
            b"{99999999999999999999999}",
            b"{}",
            b"{+}",
            b"{ 5}",
            b"{5 }",
            b"{5++}",
            b"{+5}",
            b"{-5}",
            b"{5",
            b"5}",
            b"{5}}",
            b"{5}x",
            b"{0x5}",
            b"{\xd9\xa5}",
        ]
        .iter()
        .map(|c| c.to_vec())
        .collect();
        cases.push("{\u{0665}}".as_bytes().to_vec()); // a non-ASCII digit
        let o = DecodeOptions::strict();
        for c in &cases {
            // the framer: the header at the end of a command line
            let mut line = b"a1 APPEND INBOX ".to_vec();
            line.extend_from_slice(c);
            line.extend_from_slice(b"\r");
            let framer = match parse_announcement(&line) {
                Ok(Some(h)) => Ok(Some(h)),
                Ok(None) => Ok(None),
                Err(()) => Err("overflow"),
            };
            // the grammar: the header at the cursor
            let mut msg = c.clone();
            msg.extend_from_slice(b"\r\n");
            let msg = Bytes::from(msg);
            let mut p = Parser::new(&msg, &o);
            let grammar = match p.literal_announcement(true) {
                Ok((binary, length)) if p.at_end() => Ok(Some(LiteralHeader {
                    length,
                    mode: if c.contains(&b'+') {
                        LiteralMode::NonSync
                    } else {
                        LiteralMode::Sync
                    },
                    binary,
                })),
                Ok(_) => Ok(None),
                Err(_) if p.error().expected.starts_with("literal length (") => Err("overflow"),
                Err(_) => Ok(None),
            };
            assert_eq!(framer, grammar, "{:?}", crate::error::Excerpt(c));
            // and the shared parser says the same about the header alone
            let direct = match literal_header(c) {
                Ok((h, n)) if n == c.len() => Ok(Some(h)),
                Ok(_) | Err(HeaderError::Invalid { .. }) => Ok(None),
                Err(HeaderError::Overflow { .. }) => Err("overflow"),
            };
            assert_eq!(framer, direct, "{:?}", crate::error::Excerpt(c));
        }
        // Bytes before the header belong to another token: the framer reads the header that
        // ends the line, the grammar fails on the token before it (the message is then an
        // error; it never reads another length).
        assert_eq!(
            parse_announcement(b"a {{5}").map(|h| h.map(|h| h.length)),
            Ok(Some(5))
        );
        // spot checks of the verdicts
        let verdict = |c: &[u8]| parse_announcement(c).map(|h| h.map(|h| h.length));
        assert_eq!(verdict(b"{00005}"), Ok(Some(5)));
        assert_eq!(verdict(b"{00000000000000000005}"), Ok(Some(5)));
        assert_eq!(verdict(b"{000000000000000000005}"), Err(()));
        assert_eq!(verdict(b"{4294967296}"), Ok(Some(1 << 32)));
        assert_eq!(verdict(b"{18446744073709551615}"), Ok(Some(u64::MAX)));
        assert_eq!(verdict(b"{18446744073709551616}"), Err(()));
        assert_eq!(verdict(b"{+}"), Ok(None));
        assert_eq!(verdict(b"{ 5}"), Ok(None));
    }

    /// A header at the end of a discarded line is found in the framer's window even at its
    /// longest (20 digits, `~`, `+`), so the data of a dropped message's literal is dropped too.
    #[test]
    fn longest_announcement_fits_the_discard_window() {
        let mut f = Framer::new(FramerConfig {
            limits: Limits {
                max_line: 40,
                ..Default::default()
            },
            ..Default::default()
        });
        f.push(b"a1 APPEND INBOX ");
        f.push(&[b'x'; 100]);
        f.push(b" ~{00000000000000000003+}\r\nabc\r\na2 NOOP\r\n");
        let out = frames(&mut f);
        assert!(matches!(out[0], Frame::Error(_)), "{out:?}");
        assert_eq!(
            out[1..],
            [Frame::Message(Bytes::from_static(b"a2 NOOP\r\n"))]
        );
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

    /// A literal joined across buffers (`push_bytes`, as the client's driver pushes its reads)
    /// is copied into room made once for the rest of it: the joined buffer does not move while
    /// the literal's pieces arrive (when the 4x cap allows it), and the frames are those of
    /// one `push`, whatever the pieces.
    #[test]
    fn literal_across_buffers_is_joined_in_one_allocation() {
        let mut input = b"* 1 FETCH (UID 7 BODY[] {200000}\r\n".to_vec();
        input.extend((0..200_000u32).map(|i| b'a' + (i % 26) as u8));
        input.extend_from_slice(b")\r\n* 2 FETCH (UID 8)\r\n");
        let input = Bytes::from(input);
        let mut whole = Framer::new(Default::default());
        whole.push(&input);
        let a = frames(&mut whole);
        let messages = |frames: &[Frame]| {
            frames
                .iter()
                .filter(|f| matches!(f, Frame::Message(_)))
                .count()
        };
        assert_eq!(messages(&a), 2);
        for (piece, one_allocation) in [(7_000, false), (40_000, true), (65_536, true)] {
            let mut f = Framer::new(Default::default());
            let mut got = Vec::new();
            let mut joined = std::collections::BTreeSet::new();
            for chunk in input.chunks(piece) {
                f.push_bytes(input.slice_ref(chunk));
                got.extend(frames(&mut f));
                if messages(&got) == 0 && !f.buf.owned.is_empty() {
                    joined.insert(f.buf.owned.as_ptr() as usize);
                }
            }
            assert_eq!(got, a, "pieces of {piece}");
            assert!(!joined.is_empty(), "pieces of {piece}: joined");
            if one_allocation {
                assert_eq!(joined.len(), 1, "pieces of {piece}: one allocation");
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
        assert_eq!(
            f.reject_literal(),
            Ok(Bytes::from_static(b"a1 LOGIN {4}\r\n"))
        );
        assert_eq!(f.reject_literal(), Err(NoLiteralPending));
        assert_eq!(f.accept_literal(), Err(NoLiteralPending));
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

    /// A line dropped for its length that ends with a synchronizing literal, on a framer
    /// that pauses at those: the client waits for a `+` that does not come, so nothing of
    /// the literal follows and the next bytes are the next command. Without pausing (or for
    /// `{n+}`) the literal's data follows and is dropped.
    #[test]
    fn dropped_line_with_sync_literal_ends_there_on_a_server() {
        let lim = Limits::default().with_max_line(40);
        for (await_sync, header, data) in [
            (true, "{5}", ""),
            (true, "{5+}", "abcde\r\n"),
            (false, "{5}", "abcde\r\n"),
        ] {
            let mut f = Framer::new(
                FramerConfig::default()
                    .with_limits(lim)
                    .with_await_sync_literals(await_sync),
            );
            let line = format!("a1 SEARCH TEXT \"{}\" TEXT {header}\r\n", "x".repeat(60));
            for piece in [&line[..20], &line[20..]] {
                f.push(piece.as_bytes());
            }
            f.push(data.as_bytes());
            f.push(b"a2 NOOP\r\n");
            let out = frames(&mut f);
            assert!(
                matches!(&out[0], Frame::Error(e) if e.tag().map(|t| &t[..]) == Some(b"a1")),
                "{out:?}"
            );
            assert_eq!(
                out[1..],
                [Frame::Message(Bytes::from_static(b"a2 NOOP\r\n"))],
                "{await_sync} {header}"
            );
        }
    }

    /// `abandon_message` gives up the message being received in each state: its buffered
    /// bytes go, its rest is dropped as it arrives (the rest of the line, of the literal,
    /// later lines and their literals), the error carries its tag, and the next message
    /// frames; between messages there is nothing to give up.
    #[test]
    fn abandoned_message_is_dropped_and_next_frames() {
        let server = FramerConfig::server().with_stream_literals_over(Some(100));
        let err_tag = |e: Option<FrameError>| {
            let e = e.expect("an error");
            assert!(matches!(
                e,
                FrameError::LimitExceeded {
                    kind: LimitKind::Message,
                    limit: 7,
                    actual: 8,
                    ..
                }
            ));
            e.tag().cloned()
        };
        // the frames from here on are the one message `m`
        let only_message = |f: &mut Framer, m: &'static [u8]| {
            assert_eq!(frames(f), [Frame::Message(Bytes::from_static(m))]);
        };
        // Mid-line after an inline literal; the rest of the line, a LITERAL+ literal at
        // its end and the line after it are dropped.
        let mut f = Framer::new(server);
        f.push(b"a1 SEARCH TEXT {3+}\r\nabc TEXT \"xx");
        assert!(matches!(f.next_frame(), Some(Frame::LiteralAnnounced(_))));
        assert!(f.next_frame().is_none());
        assert_eq!(err_tag(f.abandon_message(7)).as_deref(), Some(&b"a1"[..]));
        assert_eq!(f.buffered(), 0);
        assert!(f.abandon_message(7).is_none(), "already dropping");
        f.push(b"yy\" TEXT {4+}\r\nabcd more\r\na2 NOOP\r\n");
        only_message(&mut f, b"a2 NOOP\r\n");
        assert!(f.abandon_message(7).is_none(), "between messages");
        // In a literal's data.
        let mut f = Framer::new(server);
        f.push(b"b1 SEARCH TEXT {10+}\r\nabc");
        assert!(matches!(f.next_frame(), Some(Frame::LiteralAnnounced(_))));
        assert_eq!(err_tag(f.abandon_message(7)).as_deref(), Some(&b"b1"[..]));
        f.push(b"defghij\r\nb2 NOOP\r\n");
        only_message(&mut f, b"b2 NOOP\r\n");
        // Paused at a synchronizing literal: refused, nothing of it follows.
        let mut f = Framer::new(server);
        f.push(b"c1 SEARCH TEXT {10}\r\n");
        assert!(matches!(f.next_frame(), Some(Frame::LiteralAnnounced(_))));
        assert_eq!(err_tag(f.abandon_message(7)).as_deref(), Some(&b"c1"[..]));
        assert!(!f.awaiting_decision());
        f.push(b"c2 NOOP\r\n");
        only_message(&mut f, b"c2 NOOP\r\n");
        // While a literal streams, and after one streamed (the tag is in the kept head).
        let mut f = Framer::new(server);
        f.push(b"d1 APPEND x {200+}\r\n");
        f.push(&[b'm'; 50]);
        let got = frames(&mut f);
        assert!(matches!(got[0], Frame::LiteralBegin(_)), "{got:?}");
        assert_eq!(err_tag(f.abandon_message(7)).as_deref(), Some(&b"d1"[..]));
        f.push(&[b'm'; 150]);
        f.push(b" {5+}\r\nhello\r\nd2 NOOP\r\n");
        only_message(&mut f, b"d2 NOOP\r\n");
        let mut f = Framer::new(server);
        f.push(b"e1 APPEND x {200+}\r\n");
        f.push(&[b'm'; 200]);
        f.push(b" (\\Seen");
        let got = joined(frames(&mut f));
        // the literal complete (all 200 bytes handed out), its message not
        assert!(
            matches!(got.last(), Some(Frame::LiteralChunk(c)) if c.len() == 200),
            "{got:?}"
        );
        assert_eq!(err_tag(f.abandon_message(7)).as_deref(), Some(&b"e1"[..]));
        f.push(b") {3+}\r\nabc\r\ne2 NOOP\r\n");
        only_message(&mut f, b"e2 NOOP\r\n");
    }
}
