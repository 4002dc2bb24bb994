//! Decoders and encoders per message kind (RFC 9051 §2.2: client commands, server responses,
//! the greeting, AUTHENTICATE continuation data and the IDLE `DONE` line), one-shot and
//! streaming.
//!
//! One-shot: [`Message::decode`] parses one complete framed message. Streaming:
//! [`StreamDecoder`] (aliases [`ResponseDecoder`], [`CommandDecoder`], ...) frames a byte
//! stream fed in any chunks and decodes each message once.

use bytes::Bytes;

use crate::command::{AuthenticateData, Command, IdleDone};
use crate::encode::{Encode, EncodeBuf};
use crate::error::{DecodeError, FrameError};
use crate::framer::{Frame, Framer, FramerConfig, LiteralAnnouncement};
use crate::options::{DecodeOptions, Limits, Warning};
use crate::parse::Parser;
use crate::response::{Greeting, Response};

/// A decoded message with the defects tolerated while decoding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<T> {
    /// The value.
    pub message: T,
    /// Defects the lenient profile tolerated (always empty in the strict profile).
    pub warnings: Vec<Warning>,
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
            Err(error) => StreamEvent::Error(StreamError::Decode {
                error,
                raw: msg,
                stream_offset,
            }),
        });
    }
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
        }),
        Err(_) => Err(p.error()),
    }
}

/// [`Message::decode_event_into`] for kinds parsed in place: `out` first receives a
/// `placeholder()` message, which `parse_into` fills where it lives (no moves of the value
/// through `Result`/`Decoded`); on failure `out` becomes the error event.
#[inline]
fn decode_event_in_place<T>(
    msg: Bytes,
    opts: &DecodeOptions,
    stream_offset: u64,
    out: &mut Option<StreamEvent<T>>,
    placeholder: impl FnOnce() -> T,
    parse_into: impl FnOnce(&mut Parser<'_>, &mut T) -> crate::parse::PResult<()>,
) {
    *out = Some(StreamEvent::Message(Decoded {
        message: placeholder(),
        warnings: Vec::new(),
    }));
    let mut p = Parser::new(&msg, opts);
    let r = match out {
        Some(StreamEvent::Message(d)) => parse_into(&mut p, &mut d.message),
        _ => Ok(()),
    };
    match r {
        Ok(()) => {
            if !p.warnings.is_empty() {
                if let Some(StreamEvent::Message(d)) = out {
                    d.warnings = std::mem::take(&mut p.warnings);
                }
            }
        }
        Err(_) => {
            let error = p.error();
            *out = Some(StreamEvent::Error(StreamError::Decode {
                error,
                raw: msg,
                stream_offset,
            }));
        }
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
}

message_kind!(Greeting, "greeting");
impl Message for Command {
    const KIND: &'static str = "command";

    fn decode(msg: &Bytes, opts: &DecodeOptions) -> Result<Decoded<Self>, DecodeError> {
        run(msg, opts, Command::parse)
    }

    /// The command is parsed straight into the returned event (as for [`Response`]): moving
    /// the value through the `Result`/`Decoded` wrappers costs several copies of it.
    #[inline]
    fn decode_event_into(
        msg: Bytes,
        opts: &DecodeOptions,
        stream_offset: u64,
        out: &mut Option<StreamEvent<Self>>,
    ) {
        decode_event_in_place(
            msg,
            opts,
            stream_offset,
            out,
            Command::placeholder,
            Command::parse_into,
        );
    }
}
message_kind!(AuthenticateData, "authenticate-data");
message_kind!(IdleDone, "idle-done");

impl Message for Response {
    const KIND: &'static str = "response";

    fn decode(msg: &Bytes, opts: &DecodeOptions) -> Result<Decoded<Self>, DecodeError> {
        run(msg, opts, Response::parse)
    }

    /// The response is parsed straight into the returned event (a FETCH response with its
    /// inline items is a few hundred bytes: moving it through every parser level and the
    /// `Result`/`Decoded` wrappers cost more than parsing it).
    #[inline]
    fn decode_event_into(
        msg: Bytes,
        opts: &DecodeOptions,
        stream_offset: u64,
        out: &mut Option<StreamEvent<Self>>,
    ) {
        decode_event_in_place(
            msg,
            opts,
            stream_offset,
            out,
            Response::placeholder,
            Response::parse_into,
        );
    }
}
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
    /// The message was framed but does not parse. `raw` is the whole message.
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

/// Output of a [`StreamDecoder`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent<T> {
    /// A decoded message.
    Message(Decoded<T>),
    /// A literal was announced (see [`Framer`]).
    LiteralAnnounced(LiteralAnnouncement),
    /// A message failed; decoding goes on with the next one.
    Error(StreamError),
}

/// What a [`StreamDecoder`] expects next; decides which parser a framed message goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expect {
    /// Server side: a command.
    Command,
    /// Server side: an AUTHENTICATE continuation line.
    AuthenticateData,
    /// Server side: the `DONE` that ends IDLE.
    IdleDone,
    /// Client side: the greeting.
    Greeting,
    /// Client side: a response.
    Response,
}

/// A decoded message of either direction, as produced by [`StreamDecoder`].
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
    /// A response.
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
}

/// Frames a byte stream and decodes each complete message as type `M`.
///
/// Feed bytes with [`push`](Self::push), then call [`next`](Self::next) until it returns
/// `None`. Each byte is scanned once by the framer, and each message is parsed once.
#[derive(Debug)]
pub struct StreamDecoder<M> {
    framer: Framer,
    opts: DecodeOptions,
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
            framer: Framer::new(framer),
            opts,
            _m: std::marker::PhantomData,
        }
    }

    /// Appends received bytes (copied into the decoder's buffer).
    pub fn push(&mut self, data: &[u8]) {
        self.framer.push(data);
    }

    /// Appends received bytes without copying them when nothing is buffered (see
    /// [`Framer::push_bytes`]): decoded values then share `data`, literal payloads included.
    /// Use it when the input already is a [`Bytes`] (a whole capture, a read buffer that was
    /// frozen).
    pub fn push_bytes(&mut self, data: Bytes) {
        self.framer.push_bytes(data);
    }

    /// The framer (to accept or reject literals, change limits, take leftover bytes).
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

    /// The next event, or `None` when more bytes are needed.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next(&mut self) -> Option<StreamEvent<M>> {
        let start = self.framer.stream_offset();
        // One return value, filled in place (a decoded message can be large; see
        // `Message::decode_event_into`).
        let mut out = None;
        match self.framer.next_frame()? {
            Frame::Message(msg) => M::decode_event_into(msg, &self.opts, start, &mut out),
            Frame::LiteralAnnounced(a) => out = Some(StreamEvent::LiteralAnnounced(a)),
            Frame::Error(e) => out = Some(StreamEvent::Error(StreamError::Frame(e))),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                    Err(error) => StreamEvent::Error(StreamError::Decode {
                        error,
                        raw: msg,
                        stream_offset: offset,
                    }),
                };
                assert_eq!(got, Some(want), "{}", String::from_utf8_lossy(l));
                offset += l.len() as u64;
            }
        }
    }
}
