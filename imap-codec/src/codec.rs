//! Decoders and encoders per message kind (RFC 9051 §2.2: client commands, server responses,
//! the greeting, AUTHENTICATE continuation data and the IDLE `DONE` line), one-shot and
//! streaming.
//!
//! One-shot: [`Message::decode`] (or [`AnyMessage::decode`] with an [`Expect`]) parses one
//! complete framed message.
//!
//! Streaming: one [`Receiver`] with one buffer serves a whole connection. It frames the bytes
//! fed to it in any chunks and decodes each message as the kind its [`Expect`] names, which
//! the caller switches as the conversation moves on. The calling contract:
//!
//! 1. [`Receiver::push`] (or [`Receiver::push_bytes`], [`Receiver::push_bytes_mut`]) what
//!    was read. Or read into the receiver's own buffer (the room lane): take a room with
//!    [`Receiver::read_room`] (an empty `BytesMut` with spare capacity right after the bytes
//!    held, an owned buffer that may be held across `await`), read into it, and hand it back
//!    with [`Receiver::push_room`] or [`Receiver::push_room_chunk`]; the read is joined to
//!    the held bytes without a copy. One room out at a time, handed back in read order; a
//!    room not handed back costs only its memory, another buffer handed back is input too.
//! 2. Take events ([`Receiver`] is an [`Iterator`]) until `None`, which means "more input
//!    needed" (more events may come after the next push).
//! 3. After each event, before taking the next one, update the expectation with
//!    [`Receiver::set_expect`] if that event changes what comes next (a message is decoded
//!    when it is taken, so the expectation in force then applies; buffered bytes are not
//!    decoded ahead of time).
//! 4. Server side: after [`StreamEvent::LiteralAnnounced`] for a synchronizing literal, the
//!    receiver yields nothing until [`Receiver::accept_literal`] (the server sends `+`) or
//!    [`Receiver::reject_literal`] (the server sends a tagged `NO`/`BAD`).
//! 5. At a STARTTLS/COMPRESS hand-off, [`Receiver::take_buffered`] takes the bytes that
//!    belong to the next layer.
//! 6. A literal streamed in pieces ([`FramerConfig::stream_literals_over`]) comes as
//!    [`StreamEvent::LiteralBegin`], which carries the data that arrived with it
//!    ([`LiteralBegin::data`]), then [`StreamEvent::LiteralChunk`]s with the rest
//!    ([`LiteralBegin::remaining`] bytes in all; none when it is 0), then the events of what
//!    follows (usually the [`StreamEvent::Message`] the literal belongs to). There is no end
//!    event: a caller that writes a body to a file counts down `remaining` and closes the
//!    file at 0. The lanes [`Receiver::push_bytes_chunk`], [`Receiver::push_bytes_mut_chunk`],
//!    [`Receiver::push_read`], [`Receiver::push_room`] and [`Receiver::push_room_chunk`]
//!    hand some chunks out directly instead of as events; they count the same.
//!
//! [`StreamDecoder`] (aliases [`ResponseDecoder`], [`CommandDecoder`]) is the same receiver
//! fixed to one message kind, for streams of one kind (benches, captures, tests).
//!
//! Outputs that must not be dropped are `#[must_use]`: the bytes [`Receiver::take_buffered`]
//! hands over at a hand-off, the partial message [`Receiver::reject_literal`] returns, the
//! result of [`Receiver::accept_literal`], and every event ([`StreamEvent`], and the
//! `Option` that [`Receiver::next`], [`StreamDecoder::next`] and
//! [`Framer::next_frame`](crate::framer::Framer::next_frame) return). Dropping one is a
//! warning (an error under `deny(warnings)`):
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! let mut rx = imapwire_codec::codec::Receiver::server(Default::default());
//! rx.take_buffered(); // error: unused return value
//! ```
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! let mut rx = imapwire_codec::codec::Receiver::server(Default::default());
//! rx.next(); // error: unused return value
//! ```
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! let mut rx = imapwire_codec::codec::Receiver::server(Default::default());
//! rx.reject_literal(); // error: unused return value
//! ```
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! use imapwire_codec::codec::CommandDecoder;
//! let mut rx = CommandDecoder::new(Default::default(), Default::default());
//! rx.next(); // error: unused return value
//! ```
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! let mut f = imapwire_codec::framer::Framer::new(Default::default());
//! f.next_frame(); // error: unused return value
//! ```
//!
//! The same calls with their results used compile under the same lint level (so the
//! examples above fail for the dropped value only):
//!
//! ```
//! #![deny(unused_must_use)]
//! let mut rx = imapwire_codec::codec::Receiver::server(Default::default());
//! let _rest = rx.take_buffered();
//! let _event = rx.next();
//! let _partial = rx.reject_literal();
//! use imapwire_codec::codec::CommandDecoder;
//! let mut rx = CommandDecoder::new(Default::default(), Default::default());
//! let _event = rx.next();
//! let mut f = imapwire_codec::framer::Framer::new(Default::default());
//! let _frame = f.next_frame();
//! ```

use bytes::Bytes;

use crate::command::{AuthenticateData, Command, IdleDone};
use crate::encode::{Encode, EncodeBuf};
use crate::error::{DecodeError, FrameError, NoLiteralPending};
use crate::framer::{Frame, Framer, FramerConfig, LiteralAnnouncement};
use crate::options::{DecodeOptions, Limits, Warning};
use crate::parse::Parser;
use crate::response::{Greeting, Response};

/// A decoded message with the defects tolerated while decoding it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decoded<T> {
    /// The value.
    pub message: T,
    /// Defects the lenient profile tolerated (always empty in the strict profile).
    pub warnings: Vec<Warning>,
    /// The literals of this message that were handed over in pieces
    /// ([`FramerConfig::stream_literals_over`]), in order. Each one's value in `message` is
    /// empty (its header was `{0}` in the decoded bytes); this list is what tells it from a
    /// literal that really was empty. Always empty without streaming.
    pub streamed_literals: StreamedLiterals,
}

/// The streamed literals of a message ([`Decoded::streamed_literals`]): a slice. The usual
/// one literal is held inline (no allocation per streamed message); several are stored out
/// of line.
#[derive(Debug, Clone, Default)]
pub struct StreamedLiterals(StreamedRepr);

/// How [`StreamedLiterals`] holds its list.
#[derive(Debug, Clone, Default)]
enum StreamedRepr {
    /// No literal was streamed (every message without streaming: nothing allocated).
    #[default]
    None,
    /// One literal (the usual streamed FETCH body), inline.
    One(StreamedLiteral),
    /// Two or more.
    Many(Box<StreamedList>),
}

/// The list behind [`StreamedLiterals`] (and the receiver's list of the current message).
type StreamedList = smallvec::SmallVec<[StreamedLiteral; 1]>;

impl StreamedLiterals {
    /// Whether dropping this list frees nothing (no literal or one, held inline).
    #[inline]
    fn owns_nothing(&self) -> bool {
        const { assert!(!std::mem::needs_drop::<StreamedLiteral>()) };
        !matches!(self.0, StreamedRepr::Many(_))
    }

    /// The literals of `list` (emptied).
    fn take(list: &mut StreamedList) -> Self {
        StreamedLiterals(match list.len() {
            0 => StreamedRepr::None,
            1 => list.pop().map_or(StreamedRepr::None, StreamedRepr::One),
            _ => StreamedRepr::Many(Box::new(std::mem::take(list))),
        })
    }
}

impl std::ops::Deref for StreamedLiterals {
    type Target = [StreamedLiteral];
    fn deref(&self) -> &[StreamedLiteral] {
        match &self.0 {
            StreamedRepr::None => &[],
            StreamedRepr::One(l) => std::slice::from_ref(l),
            StreamedRepr::Many(v) => v.as_slice(),
        }
    }
}

/// Equal when they list the same literals.
impl PartialEq for StreamedLiterals {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for StreamedLiterals {}

impl<T> Decoded<T> {
    /// A value without warnings or streamed literals.
    pub fn new(message: T) -> Self {
        Decoded {
            message,
            warnings: Vec::new(),
            streamed_literals: StreamedLiterals::default(),
        }
    }
}

/// A literal of a decoded message that was streamed ([`StreamEvent::LiteralBegin`] and
/// [`StreamEvent::LiteralChunk`]s) instead of being kept in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamedLiteral {
    /// Offset of its `{0}` stand-in header in the decoded message bytes.
    pub offset: usize,
    /// Its real length (the bytes handed over as chunks).
    pub length: u64,
}

/// The start of a streamed literal ([`StreamEvent::LiteralBegin`]).
///
/// Its FETCH context ([`fetch`](Self::fetch)) is read from [`prefix`](Self::prefix) when it
/// is first asked for, not when the event is made: a caller that knows what it fetched (or
/// only stores the body) does not pay for a second parse of the message's start.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LiteralBegin {
    /// The announcement (real length, mode, kind).
    pub announcement: LiteralAnnouncement,
    /// The message before the literal's data, as received (this literal's header as
    /// announced); any earlier streamed literals' part as the final message holds it (their
    /// headers as `{0}`, their data absent). The header's `{` is at
    /// [`announcement.offset`](LiteralAnnouncement::offset), here and in the final message
    /// (where it reads `{0}`). Not a copy unless an earlier literal was streamed: a slice of
    /// the pushed `Bytes` or of the receiver's buffer, which stays allocated while this is
    /// held.
    pub prefix: Bytes,
    /// The first piece of the literal's data: what had arrived with its announcement (as a
    /// [`StreamEvent::LiteralChunk`] would carry it, no copy). Empty when none had; all of
    /// it when the whole literal had (then no chunk follows). Always empty from
    /// [`Receiver::stream_literal`]: there all data comes as chunks.
    pub data: Bytes,
    /// Decode options of the response the literal is part of; `None` when the receiver did
    /// not expect a response (no FETCH context).
    opts: Option<DecodeOptions>,
    /// [`fetch`](Self::fetch), once read (boxed: the start is held unboxed in events, and
    /// must stay smaller than a decoded message).
    fetch: std::sync::OnceLock<Option<Box<FetchPrefix>>>,
}

/// Equal when announcement, prefix and data (and the options they are read with) are: the FETCH
/// context is a function of them, whether it was read yet or not.
impl PartialEq for LiteralBegin {
    fn eq(&self, other: &Self) -> bool {
        self.announcement == other.announcement
            && self.prefix == other.prefix
            && self.data == other.data
            && self.opts == other.opts
    }
}

impl Eq for LiteralBegin {}

impl LiteralBegin {
    /// How many bytes of the literal's data follow as chunks: the announced length less
    /// [`data`](Self::data). The literal is complete when the chunks have carried that many
    /// (at once when this is 0).
    pub fn remaining(&self) -> u64 {
        self.announcement
            .length
            .saturating_sub(self.data.len() as u64)
    }

    /// For a FETCH response whose literal is an item's whole value (`BODY[...]`,
    /// `BINARY[...]`, `RFC822...`): the message number, the UID if it came before, and that
    /// item with an empty value (its section and origin). `None` for any other literal.
    ///
    /// Read from [`prefix`](Self::prefix) on the first call (one parse of the message's start,
    /// a few thousand instructions), kept for the next ones.
    pub fn fetch(&self) -> Option<&FetchPrefix> {
        self.fetch
            .get_or_init(|| {
                self.opts
                    .as_ref()
                    .and_then(|o| FetchPrefix::parse(&self.prefix, self.announcement.offset, o))
                    .map(Box::new)
            })
            .as_deref()
    }
}

// `StreamEvent::LiteralBegin` holds the start unboxed: it must not make the event (of every
// message) larger than a decoded message does.
const _: () = assert!(
    std::mem::size_of::<LiteralBegin>() <= std::mem::size_of::<Decoded<AnyMessage>>()
        && std::mem::size_of::<LiteralBegin>() <= std::mem::size_of::<Decoded<Response>>()
        && std::mem::size_of::<LiteralBegin>() <= std::mem::size_of::<Decoded<Command>>()
);

/// What a streamed FETCH literal belongs to (see [`LiteralBegin::fetch`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchPrefix {
    /// The message sequence number (`None` for a UIDONLY `UIDFETCH`).
    pub seq: Option<crate::sequence::SeqNum>,
    /// The UID, when a `UID` item came before the literal (or the response is `UIDFETCH`).
    pub uid: Option<crate::sequence::Uid>,
    /// The item whose value the literal is, with an empty value.
    pub item: crate::fetch::MessageDataItem,
}

impl FetchPrefix {
    /// Reads the FETCH context of a literal from the message prefix: the prefix, with the
    /// literal's header (its `{` at `open`) read as `{0}` and closed with `)` CRLF, must
    /// decode as a FETCH response.
    fn parse(prefix: &[u8], open: usize, opts: &DecodeOptions) -> Option<Self> {
        use crate::fetch::MessageDataItem;
        use crate::response::Data;
        let close = open + prefix.get(open..)?.iter().position(|&c| c == b'}')?;
        let mut b = Vec::with_capacity(prefix.len() + 3);
        b.extend_from_slice(&prefix[..open]);
        b.extend_from_slice(b"{0");
        b.extend_from_slice(&prefix[close..]);
        b.extend_from_slice(b")\r\n");
        let b = Bytes::from(b);
        let Ok(d) = Response::decode(&b, opts) else {
            return None;
        };
        let (seq, uid0, items) = match d.message {
            Response::Data(Data::Fetch { seq, items }) => (Some(seq), None, items),
            Response::Data(Data::UidFetch { uid, items }) => (None, Some(uid), items),
            _ => return None,
        };
        let uid = uid0.or_else(|| {
            items.iter().find_map(|i| match i {
                MessageDataItem::Uid(u) => Some(*u),
                _ => None,
            })
        });
        let item = items.last()?.clone();
        matches!(
            item,
            MessageDataItem::BodySection { .. }
                | MessageDataItem::Binary { .. }
                | MessageDataItem::Rfc822(_)
                | MessageDataItem::Rfc822Header(_)
                | MessageDataItem::Rfc822Text(_)
        )
        .then_some(FetchPrefix { seq, uid, item })
    }
}

/// A kind of protocol message with one decoder and one encoder.
pub trait Message: Encode + Sized {
    /// Human-readable kind (`"command"`, `"response"`, ...).
    const KIND: &'static str;

    /// Decodes one complete message (including its CRLF and literals).
    fn decode(msg: &Bytes, opts: &DecodeOptions) -> Result<Decoded<Self>, DecodeError>;

    /// Stores in `out` what [`StreamDecoder::next`] returns for the framed message `msg`
    /// (found at `stream_offset`): [`decode`](Self::decode)'s result as a [`StreamEvent`].
    /// Kinds whose values are large override it to build the value in place.
    #[doc(hidden)]
    #[inline]
    fn decode_event_into(
        msg: Bytes,
        opts: &DecodeOptions,
        stream_offset: u64,
        out: &mut Option<StreamEvent<Self>>,
    ) {
        *out = Some(match Self::decode(&msg, opts) {
            Ok(d) => StreamEvent::Message(d),
            Err(mut error) => {
                error.message_offset = Some(stream_offset);
                StreamEvent::Error(StreamError::Decode {
                    error,
                    raw: msg,
                    stream_offset,
                })
            }
        });
    }

    /// [`decode_event_into`](Self::decode_event_into) for the message that is the first
    /// `len` bytes of `src` (at most all of them). Kinds parsed in place read it where it is
    /// and cut only their values (and, on an error, the raw message) out of `src`; the
    /// others get it cut.
    #[doc(hidden)]
    #[inline]
    fn decode_event_in(
        src: &Bytes,
        len: usize,
        opts: &DecodeOptions,
        stream_offset: u64,
        out: &mut Option<StreamEvent<Self>>,
    ) {
        Self::decode_event_into(front(src, len), opts, stream_offset, out)
    }

    /// Empties `out` (what [`StreamDecoder::next_into`] does with the event it held):
    /// `*out = None`. Kinds whose usual values own little override it to drop them for less.
    #[doc(hidden)]
    #[inline]
    fn clear_event(out: &mut Option<StreamEvent<Self>>) {
        *out = None;
    }
}

/// Empties `out`: `*out = None`, except that a decoded response whose parts that own
/// something are dropped by [`Response::shed`] (the usual FETCH and LIST shapes) is then
/// forgotten instead of going through the whole drop glue of the event (~170 instructions
/// for a FETCH of three items). Forgetting it leaks nothing: what is left owns nothing.
#[inline]
fn clear_response_event(out: &mut Option<StreamEvent<Response>>) {
    if let Some(StreamEvent::Message(d)) = out {
        let Decoded {
            message,
            warnings,
            streamed_literals,
        } = d;
        if warnings.capacity() == 0 && streamed_literals.owns_nothing() && message.shed() {
            std::mem::forget(out.take());
            return;
        }
    }
    *out = None;
}

fn run<T>(
    msg: &Bytes,
    opts: &DecodeOptions,
    f: impl FnOnce(&mut Parser<'_>) -> crate::parse::PResult<T>,
) -> Result<Decoded<T>, DecodeError> {
    let mut p = Parser::new(msg, opts);
    match f(&mut p) {
        Ok(message) => Ok(Decoded {
            message,
            warnings: std::mem::take(&mut p.warnings),
            streamed_literals: StreamedLiterals::default(),
        }),
        Err(_) => Err(p.error()),
    }
}

/// The first `len` bytes of `src` (all of it when it is not longer) as a buffer of their own.
#[inline]
fn front(src: &Bytes, len: usize) -> Bytes {
    if len >= src.len() {
        src.clone()
    } else {
        src.slice(..len)
    }
}

/// [`Message::decode_event_in`] for kinds parsed in place: `out` first receives a
/// `placeholder()` message, which `parse_into` fills where it lives (no moves of the value
/// through `Result`/`Decoded`); on failure `out` becomes the error event. The message is the
/// first `len` bytes of `src`, read where it is (only the raw message of an error is cut).
/// Inline in the receiver's loop (the parser is set up in its frame, no call between the
/// loop and `parse_into`); warnings and errors are finished out of line.
#[inline(always)]
fn decode_event_in_place<T>(
    src: &Bytes,
    len: usize,
    opts: &DecodeOptions,
    stream_offset: u64,
    out: &mut Option<StreamEvent<T>>,
    placeholder: impl FnOnce() -> T,
    parse_into: impl FnOnce(&mut Parser<'_>, &mut T) -> crate::parse::PResult<()>,
) {
    *out = Some(StreamEvent::Message(Decoded::new(placeholder())));
    let mut p = Parser::new_in(src, len, opts);
    let r = match out {
        Some(StreamEvent::Message(d)) => parse_into(&mut p, &mut d.message),
        _ => Ok(()),
    };
    if r.is_err() || !p.warnings.is_empty() {
        finish_in_place(p, r.is_err(), src, len, stream_offset, out);
    }
}

/// The end of [`decode_event_in_place`] for a message that failed (`failed`: `out` becomes
/// the error event) or was decoded with warnings (moved into its event).
#[cold]
#[inline(never)]
fn finish_in_place<T>(
    mut p: Parser<'_>,
    failed: bool,
    src: &Bytes,
    len: usize,
    stream_offset: u64,
    out: &mut Option<StreamEvent<T>>,
) {
    if failed {
        let mut error = p.error();
        error.message_offset = Some(stream_offset);
        *out = Some(StreamEvent::Error(StreamError::Decode {
            error,
            raw: front(src, len),
            stream_offset,
        }));
    } else if let Some(StreamEvent::Message(d)) = out {
        d.warnings = std::mem::take(&mut p.warnings);
    }
}

macro_rules! message_kind {
    ($t:ty, $kind:literal) => {
        impl Message for $t {
            const KIND: &'static str = $kind;
            fn decode(msg: &Bytes, opts: &DecodeOptions) -> Result<Decoded<Self>, DecodeError> {
                run(msg, opts, <$t>::parse)
            }
        }
    };
    // Parsed straight into the returned event: a command or a FETCH response with its inline
    // items is a few hundred bytes, and moving it through every parser level and the
    // `Result`/`Decoded` wrappers cost more than parsing it.
    ($t:ty, $kind:literal, in_place) => {
        message_kind!($t, $kind, in_place, |out: &mut Option<StreamEvent<$t>>| {
            *out = None
        });
    };
    ($t:ty, $kind:literal, in_place, $clear:expr) => {
        impl Message for $t {
            const KIND: &'static str = $kind;
            fn decode(msg: &Bytes, opts: &DecodeOptions) -> Result<Decoded<Self>, DecodeError> {
                run(msg, opts, <$t>::parse)
            }

            #[inline]
            fn decode_event_into(
                msg: Bytes,
                opts: &DecodeOptions,
                stream_offset: u64,
                out: &mut Option<StreamEvent<Self>>,
            ) {
                Self::decode_event_in(&msg, msg.len(), opts, stream_offset, out)
            }

            #[inline(always)]
            fn decode_event_in(
                src: &Bytes,
                len: usize,
                opts: &DecodeOptions,
                stream_offset: u64,
                out: &mut Option<StreamEvent<Self>>,
            ) {
                decode_event_in_place(
                    src,
                    len,
                    opts,
                    stream_offset,
                    out,
                    <$t>::placeholder,
                    <$t>::parse_into,
                );
            }

            #[inline]
            fn clear_event(out: &mut Option<StreamEvent<Self>>) {
                ($clear)(out)
            }
        }
    };
}

message_kind!(Greeting, "greeting");
message_kind!(Command, "command", in_place);
message_kind!(AuthenticateData, "authenticate-data");
message_kind!(IdleDone, "idle-done");
message_kind!(Response, "response", in_place, clear_response_event);

/// Encodes `msg` into a fresh buffer with `opts`; see [`EncodeBuf::fragments`] for where a
/// client must wait for continuation requests.
pub fn encode<M: Encode>(msg: &M, opts: crate::EncodeOptions) -> EncodeBuf {
    let mut b = EncodeBuf::with_options(opts);
    msg.encode(&mut b);
    b
}

/// A message the stream decoder could not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The message was framed but does not parse. `raw` is the whole message; `error`
    /// carries the offset in the message and in the stream.
    #[error("{error}")]
    Decode {
        /// Where and what.
        error: DecodeError,
        /// The message bytes (nothing received is lost).
        raw: Bytes,
        /// Offset of the message in the stream.
        stream_offset: u64,
    },
    /// A limit was exceeded; the message was skipped.
    #[error("{0}")]
    Frame(FrameError),
}

impl StreamError {
    /// The tag of the failed message when it could be recovered.
    pub fn tag(&self) -> Option<Bytes> {
        match self {
            StreamError::Frame(e) => e.tag().cloned(),
            StreamError::Decode { raw, .. } => {
                let end = raw
                    .iter()
                    .position(|&c| !crate::parse::class::is_tag_char(c))
                    .unwrap_or(raw.len());
                (end > 0 && raw.get(end) == Some(&b' ')).then(|| raw.slice(..end))
            }
        }
    }
}

/// Output of a [`Receiver`] (with `T` = [`AnyMessage`]) or a [`StreamDecoder`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use = "an event reports a message, a literal that may need a decision, or an error"]
pub enum StreamEvent<T> {
    /// A decoded message.
    Message(Decoded<T>),
    /// A literal was announced (see [`Framer`]). On a server receiver
    /// ([`FramerConfig::await_sync_literals`]) a synchronizing one pauses the receiver until
    /// [`Receiver::accept_literal`] or [`Receiver::reject_literal`].
    LiteralAnnounced(LiteralAnnouncement),
    /// A message failed; decoding goes on with the next one.
    Error(StreamError),
    /// With [`FramerConfig::stream_literals_over`]: a literal longer than the threshold
    /// starts, with the part of its data that arrived with it
    /// ([`LiteralBegin::data`]). The rest follows as
    /// [`LiteralChunk`](StreamEvent::LiteralChunk)s; the literal is complete when its
    /// announced length has been handed out ([`LiteralBegin::remaining`] counts down to 0
    /// with the chunks; there is no end event). Then the message decodes as usual with that
    /// literal's value empty and listed in [`Decoded::streamed_literals`]. Held in the event
    /// itself (no allocation per streamed literal): it is smaller than a decoded response or
    /// command, so their events are no larger for it.
    LiteralBegin(LiteralBegin),
    /// The next piece of a streamed literal's data, as it arrived (boundaries follow the
    /// input; no copy when the input came with `push_bytes`). The pieces after the begin
    /// event's [`data`](LiteralBegin::data) add up to [`LiteralBegin::remaining`].
    LiteralChunk(Bytes),
}

/// What a [`Receiver`] expects next; decides which parser a framed message goes to (and, for
/// responses, how a continuation request's text is read).
///
/// A server expects [`Command`](Expect::Command) and switches to
/// [`AuthenticateData`](Expect::AuthenticateData) after answering AUTHENTICATE with `+`, to
/// [`IdleDone`](Expect::IdleDone) after answering IDLE with `+`, and back to
/// [`Command`](Expect::Command) after the exchange. A client expects
/// [`Greeting`](Expect::Greeting) first, then [`Response`](Expect::Response), and
/// [`SaslChallenge`](Expect::SaslChallenge) from sending AUTHENTICATE until its tagged
/// completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expect {
    /// Server side: a command ([`AnyMessage::Command`]).
    Command,
    /// Server side: a line of AUTHENTICATE data, base64 or `*` (RFC 9051 §6.2.2;
    /// [`AnyMessage::AuthenticateData`]).
    AuthenticateData,
    /// Server side: the `DONE` that ends IDLE (RFC 9051 §6.3.13; [`AnyMessage::IdleDone`]).
    IdleDone,
    /// Client side: the greeting ([`AnyMessage::Greeting`]).
    Greeting,
    /// Client side: a response ([`AnyMessage::Response`]). The text of a continuation
    /// request (`+ Ready`, `+ Okay`, `+ `) is human text:
    /// [`Continuation::Text`](crate::response::Continuation::Text).
    Response,
    /// Client side, from sending AUTHENTICATE until its tagged completion: a response
    /// ([`AnyMessage::Response`]) in which a continuation request is a SASL challenge,
    /// [`Continuation::Base64`](crate::response::Continuation::Base64) (`+ ` is the empty
    /// challenge); a `+` line whose text is not base64 is a decode error. Tagged and
    /// untagged responses decode as with [`Response`](Expect::Response).
    SaslChallenge,
}

/// A decoded message of either direction, as produced by a [`Receiver`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnyMessage {
    /// A command.
    Command(Command),
    /// An AUTHENTICATE data line.
    AuthenticateData(AuthenticateData),
    /// `DONE`.
    IdleDone(IdleDone),
    /// The greeting.
    Greeting(Greeting),
    /// A response (after [`Expect::Response`] or [`Expect::SaslChallenge`]).
    Response(Response),
}

impl Encode for AnyMessage {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            AnyMessage::Command(m) => m.encode(buf),
            AnyMessage::AuthenticateData(m) => m.encode(buf),
            AnyMessage::IdleDone(m) => m.encode(buf),
            AnyMessage::Greeting(m) => m.encode(buf),
            AnyMessage::Response(m) => m.encode(buf),
        }
    }
}

impl AnyMessage {
    /// Decodes `msg` as the kind `expect` says.
    pub fn decode(
        msg: &Bytes,
        expect: Expect,
        opts: &DecodeOptions,
    ) -> Result<Decoded<AnyMessage>, DecodeError> {
        fn map<T>(
            r: Result<Decoded<T>, DecodeError>,
            f: fn(T) -> AnyMessage,
        ) -> Result<Decoded<AnyMessage>, DecodeError> {
            r.map(|d| Decoded {
                message: f(d.message),
                warnings: d.warnings,
                streamed_literals: d.streamed_literals,
            })
        }
        match expect {
            Expect::Command => map(Command::decode(msg, opts), AnyMessage::Command),
            Expect::AuthenticateData => map(
                AuthenticateData::decode(msg, opts),
                AnyMessage::AuthenticateData,
            ),
            Expect::IdleDone => map(IdleDone::decode(msg, opts), AnyMessage::IdleDone),
            Expect::Greeting => map(Greeting::decode(msg, opts), AnyMessage::Greeting),
            Expect::Response => map(Response::decode(msg, opts), AnyMessage::Response),
            Expect::SaslChallenge => map(
                run(msg, opts, |p| {
                    let mut r = Response::placeholder();
                    Response::parse_into_in(p, &mut r, true).map(|()| r)
                }),
                AnyMessage::Response,
            ),
        }
    }

    /// A short name of the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            AnyMessage::Command(_) => Command::KIND,
            AnyMessage::AuthenticateData(_) => AuthenticateData::KIND,
            AnyMessage::IdleDone(_) => IdleDone::KIND,
            AnyMessage::Greeting(_) => Greeting::KIND,
            AnyMessage::Response(_) => Response::KIND,
        }
    }

    /// Stores in `out` the event for the framed message, the first `len` bytes of `src`,
    /// decoded as `expect`. Commands and responses are parsed in place into the event (as by
    /// the typed [`StreamDecoder`]): the switching receiver costs one `match` more, no move
    /// of the value.
    #[inline]
    fn decode_event_in(
        src: &Bytes,
        len: usize,
        expect: Expect,
        opts: &DecodeOptions,
        stream_offset: u64,
        out: &mut Option<StreamEvent<AnyMessage>>,
    ) {
        match expect {
            Expect::Response | Expect::SaslChallenge => {
                let sasl = expect == Expect::SaslChallenge;
                decode_event_in_place(
                    src,
                    len,
                    opts,
                    stream_offset,
                    out,
                    || AnyMessage::Response(Response::placeholder()),
                    |p, m| match m {
                        AnyMessage::Response(r) => Response::parse_into_in(p, r, sasl),
                        _ => Err(p.fail("response")),
                    },
                )
            }
            Expect::Command => decode_event_in_place(
                src,
                len,
                opts,
                stream_offset,
                out,
                || AnyMessage::Command(Command::placeholder()),
                |p, m| match m {
                    AnyMessage::Command(c) => Command::parse_into(p, c),
                    _ => Err(p.fail("command")),
                },
            ),
            _ => {
                let msg = front(src, len);
                *out = Some(match AnyMessage::decode(&msg, expect, opts) {
                    Ok(d) => StreamEvent::Message(d),
                    Err(mut error) => {
                        error.message_offset = Some(stream_offset);
                        StreamEvent::Error(StreamError::Decode {
                            error,
                            raw: msg,
                            stream_offset,
                        })
                    }
                })
            }
        }
    }
}

/// The stream decoder of one connection: frames the bytes it is fed and decodes each message
/// as the kind the current [`Expect`] names (see the [module docs](self) for the calling
/// contract).
///
/// It is an [`Iterator`] over [`StreamEvent`]s: `None` means that more input is needed, and
/// events may come again after the next [`push`](Self::push) (so it is not fused). So
/// `for ev in rx.by_ref()` drains what the input so far holds; a loop that must call the
/// receiver between events (to [`set_expect`](Self::set_expect) or decide on a literal)
/// cannot hold that borrow and uses `while let Some(ev) = rx.next()` (the inherent
/// [`next`](Self::next)).
///
/// Each byte is scanned once by the framer and each message is parsed once, whatever the
/// chunking of the input; decoded values share the received buffers ([`Bytes`]).
///
/// ```
/// use imapwire_codec::codec::{AnyMessage, Expect, Receiver, StreamEvent};
/// use imapwire_codec::response::{Continuation, Response};
/// use imapwire_codec::DecodeOptions;
///
/// let mut rx = Receiver::client(DecodeOptions::default());
/// rx.push(b"* OK ready\r\n");
/// let Some(StreamEvent::Message(g)) = rx.next() else { panic!() };
/// assert!(matches!(g.message, AnyMessage::Greeting(_)));
/// rx.set_expect(Expect::SaslChallenge); // the client sent AUTHENTICATE
/// rx.push(b"+ \r\n");
/// let Some(StreamEvent::Message(c)) = rx.next() else { panic!() };
/// assert!(matches!(c.message, AnyMessage::Response(Response::Continuation(Continuation::Base64(ref b))) if b.is_empty()));
/// ```
#[derive(Debug)]
pub struct Receiver {
    framer: Framer,
    opts: DecodeOptions,
    expect: Expect,
    /// Literals of the current message streamed so far.
    streamed: StreamedList,
    /// Parser invocations so far (see [`Receiver::parses`]).
    parses: u64,
    /// Of them, one-line messages read where the framer holds them (the tests check that
    /// the shared-buffer feeds take this path).
    #[cfg(test)]
    pub(crate) read_in_place: u64,
    /// Every one-line message cut first, as from the framer's own buffer (the general path
    /// the tests pin reading in place to).
    #[cfg(test)]
    pub(crate) always_cut: bool,
}

impl Receiver {
    /// A receiver with framing configuration, decode options and the first expectation.
    pub fn new(framer: FramerConfig, opts: DecodeOptions, expect: Expect) -> Self {
        Receiver {
            framer: Framer::new(framer),
            opts,
            expect,
            streamed: StreamedList::new(),
            parses: 0,
            #[cfg(test)]
            read_in_place: 0,
            #[cfg(test)]
            always_cut: false,
        }
    }

    /// Client side: expects the greeting; literal data follows its announcement
    /// ([`FramerConfig::default`]).
    pub fn client(opts: DecodeOptions) -> Self {
        Self::new(FramerConfig::default(), opts, Expect::Greeting)
    }

    /// Server side: expects a command and pauses at every synchronizing literal for the
    /// application's decision ([`FramerConfig::server`]).
    pub fn server(opts: DecodeOptions) -> Self {
        Self::new(FramerConfig::server(), opts, Expect::Command)
    }

    /// What the next message is expected to be.
    pub fn expect(&self) -> Expect {
        self.expect
    }

    /// Sets what the next message is expected to be; applies to every message taken from now
    /// on (also one already buffered).
    pub fn set_expect(&mut self, expect: Expect) {
        self.expect = expect;
    }

    /// Appends received bytes (copied into the receiver's buffer).
    pub fn push(&mut self, data: &[u8]) {
        self.framer.push(data);
    }

    /// Appends received bytes without copying them when nothing is buffered (see
    /// [`Framer::push_bytes`]): decoded values then share `data`, literal payloads included.
    pub fn push_bytes(&mut self, data: Bytes) {
        self.framer.push_bytes(data);
    }

    /// Appends received bytes read into a [`BytesMut`](bytes::BytesMut) and split off it (see
    /// [`Framer::push_bytes_mut`]): consecutive reads in one allocation are joined without a
    /// copy, so no message is copied, not even one that straddles two reads.
    #[inline]
    pub fn push_bytes_mut(&mut self, data: bytes::BytesMut) {
        self.framer.push_bytes_mut(data);
    }

    /// [`push_bytes`](Self::push_bytes) with a fast lane for reads inside a streamed literal
    /// (see [`Framer::push_bytes_chunk`]): when the receiver is handing out a streamed
    /// literal's data and holds no byte, the literal's part of `data` is returned at once as
    /// the chunk (what the next [`StreamEvent::LiteralChunk`] would carry: the same bytes,
    /// the same boundaries) and only the rest is buffered. `None`: pushed as by `push_bytes`.
    /// Either way the events that follow are those `push_bytes` would give; take every event
    /// before each push, as usual.
    ///
    /// ```
    /// use imapwire_codec::codec::{Expect, Receiver, StreamEvent};
    /// use imapwire_codec::framer::FramerConfig;
    /// use imapwire_codec::DecodeOptions;
    /// let cfg = FramerConfig::default().with_stream_literals_over(Some(4));
    /// let mut rx = Receiver::new(cfg, DecodeOptions::default(), Expect::Response);
    /// assert_eq!(rx.push_bytes_chunk("* 1 FETCH (BODY[] {10}\r\n0123".into()), None);
    /// // the begin event carries the data that came with the announcement
    /// assert!(matches!(rx.next(), Some(StreamEvent::LiteralBegin(b)) if b.data == "0123"));
    /// assert!(rx.next().is_none());
    /// // the next read continues the literal: it comes straight back
    /// assert_eq!(rx.push_bytes_chunk("4567".into()).as_deref(), Some(&b"4567"[..]));
    /// // the end of the literal (its 10th byte) and what follows: the chunk, then the rest
    /// // as events
    /// assert_eq!(rx.push_bytes_chunk("89)\r\n".into()).as_deref(), Some(&b"89"[..]));
    /// assert!(matches!(rx.next(), Some(StreamEvent::Message(_))));
    /// ```
    #[inline]
    pub fn push_bytes_chunk(&mut self, data: Bytes) -> Option<Bytes> {
        self.framer.push_bytes_chunk(data)
    }

    /// [`push_bytes_mut`](Self::push_bytes_mut) with the fast lane of
    /// [`push_bytes_chunk`](Self::push_bytes_chunk) (see [`Framer::push_bytes_mut_chunk`]).
    #[inline]
    pub fn push_bytes_mut_chunk(&mut self, data: bytes::BytesMut) -> Option<Bytes> {
        self.framer.push_bytes_mut_chunk(data)
    }

    /// The fast lane with the chunk lent, for a caller that reads into its own reusable
    /// [`BytesMut`](bytes::BytesMut) (see [`Framer::push_read`]): the first `n` bytes of
    /// `buf` (at most `buf.len()`; usually all of them) are the input offered now. Inside a
    /// streamed literal, with nothing buffered, the literal's part of them is lent to `chunk`
    /// (at most one call, before this returns: what the next
    /// [`StreamEvent::LiteralChunk`] would carry, the same bytes and boundaries as
    /// [`push_bytes_mut_chunk`](Self::push_bytes_mut_chunk)) and removed from `buf` with no
    /// `Bytes` made; when it was all of `buf`, `buf` is cleared and its memory takes the next
    /// read. The rest of the `n` bytes is split off `buf` and pushed as by
    /// [`push_bytes_mut`](Self::push_bytes_mut). Returns how many bytes were lent (0:
    /// `chunk` was not called).
    ///
    /// Calling contract: take every event (until [`next`](Self::next) gives `None`) before
    /// each call, so that the lent chunk comes in stream order right after them; the events
    /// that follow the call are those `push_bytes_mut` of the same bytes would give, less the
    /// lent chunk. When all of the offered bytes were lent (the result is `n.min(buf.len())`,
    /// not 0), nothing was pushed and no event follows: `next` would give `None`, so the
    /// caller may skip it until its next push. For a caller that passes body data on as it
    /// comes (writes it to a file, a hash, a socket) and keeps none of it: a caller that
    /// wants to keep the chunk needs `Bytes` ([`push_bytes_mut_chunk`](Self::push_bytes_mut_chunk),
    /// no copy).
    ///
    /// ```
    /// use bytes::{BufMut, BytesMut};
    /// use imapwire_codec::codec::{Expect, Receiver, StreamEvent};
    /// use imapwire_codec::framer::FramerConfig;
    /// use imapwire_codec::DecodeOptions;
    /// let cfg = FramerConfig::default().with_stream_literals_over(Some(4));
    /// let mut rx = Receiver::new(cfg, DecodeOptions::default(), Expect::Response);
    /// let mut body = Vec::new();
    /// let mut buf = BytesMut::with_capacity(64); // the caller's read buffer
    /// buf.put_slice(b"* 1 FETCH (BODY[] {10}\r\n0123");
    /// assert_eq!(rx.push_read(&mut buf, usize::MAX, |c| body.extend_from_slice(c)), 0);
    /// match rx.next() {
    ///     Some(StreamEvent::LiteralBegin(b)) => body.extend_from_slice(&b.data), // "0123"
    ///     _ => unreachable!(),
    /// }
    /// assert!(rx.next().is_none());
    /// // the next read continues the literal: lent, and the buffer is free again
    /// buf.put_slice(b"4567");
    /// assert_eq!(rx.push_read(&mut buf, usize::MAX, |c| body.extend_from_slice(c)), 4);
    /// // all of it lent: no event follows (asking is not needed)
    /// assert!(buf.is_empty() && rx.next().is_none());
    /// // the end of the literal and what follows: the chunk lent, the rest as events
    /// buf.put_slice(b"89)\r\n");
    /// assert_eq!(rx.push_read(&mut buf, usize::MAX, |c| body.extend_from_slice(c)), 2);
    /// assert_eq!(body, b"0123456789");
    /// assert!(matches!(rx.next(), Some(StreamEvent::Message(_))));
    /// ```
    #[inline]
    pub fn push_read(
        &mut self,
        buf: &mut bytes::BytesMut,
        n: usize,
        chunk: impl FnOnce(&[u8]),
    ) -> usize {
        self.framer.push_read(buf, n, chunk)
    }

    /// Room to read the next input into, in the receiver's own buffer (the room lane; see
    /// [`Framer::read_room`]): an empty [`BytesMut`](bytes::BytesMut) with at least
    /// `at_least` bytes of spare capacity, right after the bytes the receiver holds. Read
    /// into it and hand it back with [`push_room`](Self::push_room) (a streamed literal's
    /// part lent) or [`push_room_chunk`](Self::push_room_chunk) (that part as `Bytes`): the
    /// read is joined to the held bytes in place, so no message is copied to be contiguous,
    /// not even one that straddles reads; while a held literal arrives, the room is made for
    /// the rest of its message. The room is an owned buffer, not a borrow: it may be held
    /// across `await` points, and the receiver answers every call meanwhile as before
    /// (its held bytes stay in it). A room never handed back costs only its memory; another
    /// buffer handed back instead is taken as the next input (copied when joined). Take
    /// every event before handing a room back, as for [`push_read`](Self::push_read).
    ///
    /// ```
    /// use bytes::BufMut;
    /// use imapwire_codec::codec::{Expect, Receiver, StreamEvent};
    /// use imapwire_codec::framer::FramerConfig;
    /// use imapwire_codec::DecodeOptions;
    /// let cfg = FramerConfig::default().with_stream_literals_over(Some(4));
    /// let mut rx = Receiver::new(cfg, DecodeOptions::default(), Expect::Response);
    /// let mut body = Vec::new();
    /// let mut room = rx.read_room(64);
    /// room.put_slice(b"* 1 FETCH (BODY[] {10}\r\n0123"); // a read
    /// assert_eq!(rx.push_room(room, |c| body.extend_from_slice(c)), 0);
    /// match rx.next() {
    ///     Some(StreamEvent::LiteralBegin(b)) => body.extend_from_slice(&b.data), // "0123"
    ///     _ => unreachable!(),
    /// }
    /// assert!(rx.next().is_none());
    /// // the next read continues the literal: lent, and no event follows
    /// let mut room = rx.read_room(64);
    /// room.put_slice(b"4567");
    /// assert_eq!(rx.push_room(room, |c| body.extend_from_slice(c)), 4);
    /// assert!(rx.next().is_none());
    /// // the end of the literal and what follows: the chunk lent, the rest as events
    /// let mut room = rx.read_room(64);
    /// room.put_slice(b"89)\r\n* 2 FETCH (FLAGS ())\r\n");
    /// assert_eq!(rx.push_room(room, |c| body.extend_from_slice(c)), 2);
    /// assert_eq!(body, b"0123456789");
    /// assert!(matches!(rx.next(), Some(StreamEvent::Message(_))));
    /// assert!(matches!(rx.next(), Some(StreamEvent::Message(_))));
    /// ```
    #[inline]
    pub fn read_room(&mut self, at_least: usize) -> bytes::BytesMut {
        self.framer.read_room(at_least)
    }

    /// Hands back a room from [`read_room`](Self::read_room) with what was read into it
    /// (see [`Framer::push_room`]): inside a streamed literal, with nothing buffered, the
    /// literal's part of it is lent to `chunk` (at most one call, before this returns: what
    /// the next [`StreamEvent::LiteralChunk`] would carry) and the rest is decoded by
    /// [`next`](Self::next) from the buffer it was read into. Returns how many bytes were
    /// lent; when that was all of the room's bytes (and not 0), no event follows. Calling
    /// contract as for [`push_read`](Self::push_read).
    #[inline]
    pub fn push_room(&mut self, room: bytes::BytesMut, chunk: impl FnOnce(&[u8])) -> usize {
        self.framer.push_room(room, chunk)
    }

    /// [`push_room`](Self::push_room) with the streamed literal's part handed out as its
    /// chunk (no copy) instead of lent (see [`Framer::push_room_chunk`]); `None`: nothing of
    /// the room was a streamed literal's. The events that follow are those
    /// [`push_bytes_mut`](Self::push_bytes_mut) of the same bytes would give, less the chunk.
    #[inline]
    pub fn push_room_chunk(&mut self, room: bytes::BytesMut) -> Option<Bytes> {
        self.framer.push_room_chunk(room)
    }

    /// Whether a synchronizing literal awaits [`accept_literal`](Self::accept_literal) or
    /// [`reject_literal`](Self::reject_literal) (the receiver yields nothing until then).
    pub fn awaiting_decision(&self) -> bool {
        self.framer.awaiting_decision()
    }

    /// The announcement of the synchronizing literal awaiting a decision, or `None` (see
    /// [`awaiting_decision`](Self::awaiting_decision)).
    pub fn pending_literal(&self) -> Option<&LiteralAnnouncement> {
        self.framer.pending_literal()
    }

    /// Lets the announced synchronizing literal through (the server sends `+`). An error when
    /// no literal awaits a decision.
    pub fn accept_literal(&mut self) -> Result<(), NoLiteralPending> {
        self.framer.accept_literal()
    }

    /// Refuses the announced synchronizing literal (the server answers with a tagged `NO` or
    /// `BAD`): the message ends there and is dropped; returns its bytes so far. An error when
    /// no literal awaits a decision.
    #[must_use = "the dropped partial message is returned (e.g. to log it)"]
    pub fn reject_literal(&mut self) -> Result<Bytes, NoLiteralPending> {
        self.framer.reject_literal()
    }

    /// Takes the bytes received but not yet framed, and starts afresh (STARTTLS/COMPRESS
    /// hand-off: they belong to the next layer, or are an injection attempt).
    #[must_use = "the bytes belong to the next layer (or are an injection attempt)"]
    pub fn take_buffered(&mut self) -> Bytes {
        self.framer.take_buffered()
    }

    /// Gives up the message being received (see [`Framer::abandon_message`]): for a server
    /// whose input window of `limit` bytes is full while the message has not ended. Returns
    /// the error to answer, or `None` when no message is being received.
    pub fn abandon_message(&mut self, limit: u64) -> Option<StreamError> {
        let e = self.framer.abandon_message(limit)?;
        self.streamed.clear();
        Some(StreamError::Frame(e))
    }

    /// Whether the receiver sits between messages with nothing buffered.
    pub fn is_idle(&self) -> bool {
        self.framer.is_idle()
    }

    /// Bytes received but not yet handed out.
    pub fn buffered(&self) -> usize {
        self.framer.buffered()
    }

    /// Bytes of the streamed literal in progress still to come: 0 when none is in progress.
    /// It turns 0 with the piece that completes a body (its begin event's data, a chunk
    /// event or a lent chunk), so a caller that hands a body on piece by piece can close it
    /// there without counting (see [`Framer::streamed_literal_left`]).
    pub fn streamed_literal_left(&self) -> u64 {
        self.framer.streamed_literal_left()
    }

    /// Bytes of the stream consumed so far (handed out or discarded).
    pub fn stream_offset(&self) -> u64 {
        self.framer.stream_offset()
    }

    /// How many times the receiver has run the parser: once per framed message, whatever
    /// pieces its bytes arrived in (the framer finds message boundaries without parsing, so
    /// nothing is parsed again when more bytes arrive). A streamed literal's FETCH context is
    /// not counted: it is read by [`LiteralBegin::fetch`], at most once, when asked for.
    pub fn parses(&self) -> u64 {
        self.parses
    }

    /// The framer.
    pub fn framer(&self) -> &Framer {
        &self.framer
    }

    /// The framer (to change limits or look at its state).
    pub fn framer_mut(&mut self) -> &mut Framer {
        &mut self.framer
    }

    /// Decode options in use.
    pub fn options(&self) -> &DecodeOptions {
        &self.opts
    }

    /// Changes the decode options (e.g. after ENABLE UTF8=ACCEPT).
    pub fn set_options(&mut self, opts: DecodeOptions) {
        self.opts = opts;
    }

    /// Changes the framing limits.
    pub fn set_limits(&mut self, limits: Limits) {
        self.framer.set_limits(limits);
    }

    /// The next event with messages decoded by `decode`.
    ///
    /// Only a message is built in a local and moved out (its value is parsed in place into
    /// it); `None` and the other events, small ones in a large enum, are returned directly,
    /// without copying a whole event (a streamed body makes about one chunk event and one
    /// `None` per read).
    #[inline]
    fn next_with<T>(
        &mut self,
        decode: impl FnOnce(&Bytes, usize, Expect, &DecodeOptions, u64, &mut Option<StreamEvent<T>>),
    ) -> Option<StreamEvent<T>> {
        let start = self.framer.stream_offset();
        // the usual message, one line: decoded without a `Frame` around it
        if let Some(n) = self.framer.one_line_len() {
            let mut out = None;
            self.decode_one_line(n, start, decode, &mut out);
            return out;
        }
        match self.framer.next_frame_after_one_line()? {
            Frame::Message(msg) => {
                let mut out = None;
                self.decode_message(msg, start, decode, &mut out);
                out
            }
            Frame::LiteralChunk(b) => Some(StreamEvent::LiteralChunk(b)),
            Frame::LiteralAnnounced(a) => Some(StreamEvent::LiteralAnnounced(a)),
            Frame::Error(e) => Some(self.frame_error(e)),
            Frame::LiteralBegin(start) => Some(self.begin_event(start)),
        }
    }

    /// Stores the next event in `out` (left as it is when there is none), with messages
    /// decoded by `decode` straight into `out`.
    #[inline]
    fn fill_with<T>(
        &mut self,
        decode: impl FnOnce(&Bytes, usize, Expect, &DecodeOptions, u64, &mut Option<StreamEvent<T>>),
        out: &mut Option<StreamEvent<T>>,
    ) {
        let start = self.framer.stream_offset();
        if let Some(n) = self.framer.one_line_len() {
            self.decode_one_line(n, start, decode, out);
            return;
        }
        let Some(frame) = self.framer.next_frame_after_one_line() else {
            return;
        };
        match frame {
            Frame::Message(msg) => self.decode_message(msg, start, decode, out),
            Frame::LiteralChunk(b) => *out = Some(StreamEvent::LiteralChunk(b)),
            Frame::LiteralAnnounced(a) => *out = Some(StreamEvent::LiteralAnnounced(a)),
            Frame::Error(e) => *out = Some(self.frame_error(e)),
            Frame::LiteralBegin(start) => *out = Some(self.begin_event(start)),
        }
    }

    /// Decodes the one-line message of `n` bytes at the front of the framer's buffer (found
    /// at `start`) into `out`: read where it is when the buffer is shared (its values cut out
    /// of the buffer, the message then dropped off its front, never cut as a whole),
    /// otherwise cut first.
    #[inline(always)]
    fn decode_one_line<T>(
        &mut self,
        n: usize,
        start: u64,
        decode: impl FnOnce(&Bytes, usize, Expect, &DecodeOptions, u64, &mut Option<StreamEvent<T>>),
        out: &mut Option<StreamEvent<T>>,
    ) {
        #[cfg(test)]
        let src = if self.always_cut {
            None
        } else {
            self.framer.shared_front_or_freeze()
        };
        #[cfg(not(test))]
        let src = self.framer.shared_front_or_freeze();
        match src {
            Some(src) => {
                self.parses += 1;
                #[cfg(test)]
                {
                    self.read_in_place += 1;
                }
                decode(src, n, self.expect, &self.opts, start, out);
                self.framer.skip_one_line(n);
                if !self.streamed.is_empty() {
                    self.attach_streamed(out);
                }
            }
            None => {
                let msg = self.framer.take_one_line(n);
                self.decode_message(msg, start, decode, out);
            }
        }
    }

    /// Decodes the framed message `msg` (found at `start`) into `out`.
    #[inline(always)]
    fn decode_message<T>(
        &mut self,
        msg: Bytes,
        start: u64,
        decode: impl FnOnce(&Bytes, usize, Expect, &DecodeOptions, u64, &mut Option<StreamEvent<T>>),
        out: &mut Option<StreamEvent<T>>,
    ) {
        self.parses += 1;
        decode(&msg, msg.len(), self.expect, &self.opts, start, out);
        if !self.streamed.is_empty() {
            self.attach_streamed(out);
        }
    }

    /// The event of a framing error (the message's streamed literals are forgotten).
    #[cold]
    fn frame_error<T>(&mut self, e: FrameError) -> StreamEvent<T> {
        self.streamed.clear();
        StreamEvent::Error(StreamError::Frame(e))
    }

    /// The event that starts a streamed literal.
    #[cold]
    fn begin_event<T>(&mut self, start: crate::framer::StreamStart) -> StreamEvent<T> {
        // the data that came with the announcement: in this event, not in a chunk event
        let data = self.framer.stream_first();
        StreamEvent::LiteralBegin(self.literal_begin(start, data))
    }

    /// Moves the streamed literals of the message just decoded into its event.
    #[cold]
    fn attach_streamed<T>(&mut self, out: &mut Option<StreamEvent<T>>) {
        match out {
            Some(StreamEvent::Message(d)) => {
                d.streamed_literals = StreamedLiterals::take(&mut self.streamed)
            }
            _ => self.streamed.clear(),
        }
    }

    /// Streams the literal just announced (the [`StreamEvent::LiteralAnnounced`] that carried
    /// `announcement`) instead of buffering it; a paused synchronizing literal is accepted by
    /// it. Returns what [`StreamEvent::LiteralBegin`] would carry, with
    /// [`data`](LiteralBegin::data) empty: all of the literal's data follows as
    /// [`LiteralChunk`](StreamEvent::LiteralChunk)s (its announced length in all), and the
    /// message's value of the literal is empty (see [`Framer::stream_literal`]). An error
    /// when no such literal is waiting.
    pub fn stream_literal(
        &mut self,
        announcement: LiteralAnnouncement,
    ) -> Result<LiteralBegin, NoLiteralPending> {
        let start = self.framer.stream_literal(announcement)?;
        Ok(self.literal_begin(start, Bytes::new()))
    }

    /// What the event that starts a streamed literal carries, `data` its first piece.
    #[cold]
    fn literal_begin(&mut self, start: crate::framer::StreamStart, data: Bytes) -> LiteralBegin {
        let crate::framer::StreamStart {
            announcement,
            prefix,
            offset,
            ..
        } = start;
        self.streamed.push(StreamedLiteral {
            offset,
            length: announcement.length,
        });
        let opts = match self.expect {
            Expect::Response | Expect::SaslChallenge => Some(self.opts.clone()),
            _ => None,
        };
        LiteralBegin {
            announcement,
            prefix,
            data,
            opts,
            fetch: std::sync::OnceLock::new(),
        }
    }
}

impl Receiver {
    /// The next event, or `None` when more input is needed (more may come after the next
    /// push). The same as [`Iterator::next`]; being inherent, it also serves
    /// `while let Some(ev) = rx.next()` loops that call the receiver between events.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    #[must_use = "a dropped event is a lost message, literal decision or error"]
    pub fn next(&mut self) -> Option<StreamEvent<AnyMessage>> {
        // the `None` after each read inside a large body (streamed, or held whole), without
        // the message machinery
        if self.framer.waits() {
            return None;
        }
        self.next_with(AnyMessage::decode_event_in)
    }

    /// [`next`](Self::next) into a place the caller owns: stores the next event in `out`
    /// and returns `true`, or sets `out` to `None` and returns `false` when more input is
    /// needed. A decoded message is built where `out` lives (no move of the value), so a
    /// session that queues events can decode straight into its queue.
    #[inline]
    pub fn next_into(&mut self, out: &mut Option<StreamEvent<AnyMessage>>) -> bool {
        if out.is_some() {
            *out = None;
        }
        if self.framer.waits() {
            return false;
        }
        self.fill_with(AnyMessage::decode_event_in, out);
        out.is_some()
    }
}

/// Events of a whole connection; `None` = more input needed (see [`Receiver`]).
impl Iterator for Receiver {
    type Item = StreamEvent<AnyMessage>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        Receiver::next(self)
    }
}

/// A [`Receiver`] fixed to one message kind `M`, yielding typed events (for streams of one
/// kind: benches, captures, tests). Same calling contract and speed as the receiver.
#[derive(Debug)]
pub struct StreamDecoder<M> {
    rx: Receiver,
    _m: std::marker::PhantomData<fn() -> M>,
}

/// Client side: decodes server responses (after the greeting).
pub type ResponseDecoder = StreamDecoder<Response>;
/// Server side: decodes client commands.
pub type CommandDecoder = StreamDecoder<Command>;

impl<M: Message> Default for StreamDecoder<M> {
    fn default() -> Self {
        Self::new(FramerConfig::default(), DecodeOptions::default())
    }
}

impl<M: Message> StreamDecoder<M> {
    /// A decoder with framing configuration and decode options.
    pub fn new(framer: FramerConfig, opts: DecodeOptions) -> Self {
        StreamDecoder {
            // the expectation is not used: `M` decides
            rx: Receiver::new(framer, opts, Expect::Response),
            _m: std::marker::PhantomData,
        }
    }

    /// Appends received bytes (see [`Receiver::push`]).
    pub fn push(&mut self, data: &[u8]) {
        self.rx.push(data);
    }

    /// Appends received bytes without copying them when possible (see
    /// [`Receiver::push_bytes`]).
    pub fn push_bytes(&mut self, data: Bytes) {
        self.rx.push_bytes(data);
    }

    /// Appends received bytes read into a [`BytesMut`](bytes::BytesMut) (see [`Receiver::push_bytes_mut`]).
    pub fn push_bytes_mut(&mut self, data: bytes::BytesMut) {
        self.rx.push_bytes_mut(data);
    }

    /// See [`Receiver::accept_literal`].
    pub fn accept_literal(&mut self) -> Result<(), NoLiteralPending> {
        self.rx.accept_literal()
    }

    /// See [`Receiver::reject_literal`].
    #[must_use = "the dropped partial message is returned (e.g. to log it)"]
    pub fn reject_literal(&mut self) -> Result<Bytes, NoLiteralPending> {
        self.rx.reject_literal()
    }

    /// See [`Receiver::take_buffered`].
    #[must_use = "the bytes belong to the next layer (or are an injection attempt)"]
    pub fn take_buffered(&mut self) -> Bytes {
        self.rx.take_buffered()
    }

    /// The framer (to change limits or look at its state).
    pub fn framer_mut(&mut self) -> &mut Framer {
        self.rx.framer_mut()
    }

    /// Decode options in use.
    pub fn options(&self) -> &DecodeOptions {
        self.rx.options()
    }

    /// Changes the decode options (e.g. after ENABLE UTF8=ACCEPT).
    pub fn set_options(&mut self, opts: DecodeOptions) {
        self.rx.set_options(opts);
    }

    /// Changes the framing limits.
    pub fn set_limits(&mut self, limits: Limits) {
        self.rx.set_limits(limits);
    }

    /// The receiver inside (to switch to other message kinds, use it directly).
    pub fn into_receiver(self) -> Receiver {
        self.rx
    }
}

impl<M: Message> StreamDecoder<M> {
    /// The next event, or `None` when more input is needed (see [`Receiver::next`]).
    #[allow(clippy::should_implement_trait)]
    #[inline]
    #[must_use = "a dropped event is a lost message, literal decision or error"]
    pub fn next(&mut self) -> Option<StreamEvent<M>> {
        self.rx.next_with(
            #[inline(always)]
            |src, n, _, opts, off, out| M::decode_event_in(src, n, opts, off, out),
        )
    }

    /// [`next`](Self::next) into a place the caller owns (as [`Receiver::next_into`]):
    /// drops what `out` held, stores the next event in it and returns `true`, or leaves it
    /// `None` and returns `false` when more input is needed. A decoded message is built
    /// where `out` lives, so the event is never moved: a loop that reads each message where
    /// it was decoded (and lets the next call drop it) moves nothing, where
    /// [`next`](Self::next) returns the whole event by value (with `Response`, 256 bytes).
    /// The usual FETCH and LIST responses are dropped here for less than their drop glue
    /// costs: what they own (a LIST name, keywords) is released in place and the rest, which
    /// owns nothing, is forgotten.
    ///
    /// ```
    /// use imapwire_codec::codec::{ResponseDecoder, StreamEvent};
    ///
    /// let mut dec = ResponseDecoder::default();
    /// dec.push(b"* 2 EXISTS\r\n* 1 RECENT\r\n");
    /// let mut ev = None;
    /// let mut n = 0;
    /// while dec.next_into(&mut ev) {
    ///     if let Some(StreamEvent::Message(m)) = &ev {
    ///         n += 1;
    ///         let _data = &m.message; // read in place, or `ev.take()` to keep it
    ///     }
    /// }
    /// assert_eq!(n, 2);
    /// assert!(ev.is_none());
    /// ```
    #[inline]
    pub fn next_into(&mut self, out: &mut Option<StreamEvent<M>>) -> bool {
        if out.is_some() {
            M::clear_event(out);
        }
        self.rx.fill_with(
            #[inline(always)]
            |src, n, _, opts, off, out| M::decode_event_in(src, n, opts, off, out),
            out,
        );
        out.is_some()
    }
}

/// Typed events; `None` = more input needed (see [`Receiver`]).
impl<M: Message> Iterator for StreamDecoder<M> {
    type Item = StreamEvent<M>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        StreamDecoder::next(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages copied in by `push` are read in place (the framer's own buffer frozen), and
    /// what is left of a frozen buffer is copied once: a long line trickling in byte by
    /// byte after complete messages is not copied again at each push. The events are those
    /// of a receiver that cuts every message (`always_cut`), and a room lane never freezes.
    #[test]
    fn copied_input_read_in_place_copies_each_byte_once() {
        let mut input = Vec::new();
        for i in 0..50 {
            input.extend_from_slice(format!("* {i} FETCH (FLAGS (\\Seen) UID {i})\r\n").as_bytes());
        }
        let long = format!("* OK [ALERT] {}\r\n", "x".repeat(20_000));
        input.extend_from_slice(long.as_bytes());
        input.extend_from_slice(b"* 3 EXISTS\r\nA1 OK done\r\n");
        let opts = DecodeOptions::default();
        for piece in [1usize, 7, 4096] {
            let mut rx = Receiver::new(FramerConfig::default(), opts.clone(), Expect::Response);
            let mut cut = Receiver::new(FramerConfig::default(), opts.clone(), Expect::Response);
            cut.always_cut = true;
            let (mut got, mut want) = (Vec::new(), Vec::new());
            for c in input.chunks(piece) {
                rx.push(c);
                cut.push(c);
                got.extend(rx.by_ref());
                want.extend(cut.by_ref());
            }
            assert_eq!(got, want, "pieces of {piece}");
            assert_eq!(got.len(), 53);
            assert!(
                rx.read_in_place > 50,
                "pieces of {piece}: {}",
                rx.read_in_place
            );
            let unfrozen = rx.framer.unfrozen();
            assert!(
                unfrozen <= input.len(),
                "pieces of {piece}: {unfrozen} copied again"
            );
            assert_eq!(cut.framer.unfrozen(), 0);
        }
        // the room lane: rooms handed back, never frozen
        let mut rx = Receiver::new(FramerConfig::default(), opts, Expect::Response);
        let mut n = 0;
        for c in input.chunks(4096) {
            let mut room = rx.read_room(4096);
            room.extend_from_slice(c);
            rx.push_room(room, |_| {});
            n += rx.by_ref().count();
        }
        assert_eq!(n, 53);
        assert_eq!(rx.read_in_place, 0);
    }

    /// `Command::decode_event_into` (in place) gives the events of the default
    /// implementation (`decode` wrapped in an event): same values, warnings, errors and
    /// offsets, for valid, lenient-only and broken commands, in both profiles.
    #[test]
    fn command_events_in_place_match_decode() {
        let lines: &[&[u8]] = &[
            b"A000002 UID FETCH 13061,13072,13081,13095:13278 (BODY.PEEK[HEADER] BODY.PEEK[TEXT]<0.16384>)\r\n",
            b"A000003 LIST \"\" \"*\"\r\n",
            b"A000004 SEARCH NOT OR (SEEN) OR ANSWERED BEFORE 15-Feb-2018 SUBJECT \"report \\\"Q3\\\"\"\r\n",
            b"A000005 UID FETCH 1:*,5,9:12 (UID FLAGS) (CHANGEDSINCE 12345)\r\n",
            b"A000007 UID STORE 24251,24270:24382 +FLAGS (\\Seen $Junk)\r\n",
            b"A8 APPEND INBOX (\\Seen) {5+}\r\nhello\r\n",
            b"A9 NOOP\r\n",
            b"A10 NOOP \r\n",
            b"A11  NOOP\r\n",
            b"A12 FETCH 1 (FLAGS \r\n",
            b"A13 FROB\r\n",
            b"A14 UID\r\n",
            b"A15 SELECT\r\n",
            b"+ NOOP\r\n",
            b"\r\n",
            b"A16 fetch 1:2 (uid  flags)\r\n",
            b"A17 SEARCH UNDELETED \r\n",
            b"A18 LOGIN a b c\r\n",
        ];
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            let mut offset = 0u64;
            let mut d = StreamDecoder::<Command>::new(FramerConfig::default(), o.clone());
            for l in lines {
                d.push(l);
                let mut got = None;
                while let Some(ev) = d.next() {
                    if !matches!(ev, StreamEvent::LiteralAnnounced(_)) {
                        assert!(got.is_none());
                        got = Some(ev);
                    }
                }
                let msg = Bytes::copy_from_slice(l);
                let want = match Command::decode(&msg, &o) {
                    Ok(d) => StreamEvent::Message(d),
                    Err(mut error) => {
                        error.message_offset = Some(offset);
                        StreamEvent::Error(StreamError::Decode {
                            error,
                            raw: msg,
                            stream_offset: offset,
                        })
                    }
                };
                assert_eq!(got, Some(want), "{}", String::from_utf8_lossy(l));
                offset += l.len() as u64;
            }
        }
    }
}
