//! What the client session reports (RFC 9051 §7: server responses, and the completion of each
//! command exactly once).

use std::fmt;

use bytes::Bytes;
use imapwire_codec::codec::StreamError;
use imapwire_codec::core::Text;
use imapwire_codec::response::{Data, GreetingKind, ResponseCode, ResponseText, Status};

use crate::mailbox::SeqMapError;

/// Identifies a command submitted to a [`Client`](super::Client), for the whole life of the
/// session (tags are the wire identity; ids are the caller's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommandId(pub(crate) u64);

impl CommandId {
    /// The number (ids count up from 1 in submission order).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for CommandId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A tagged `OK`: the command succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The response code of the tagged OK (`[APPENDUID ...]`, `[READ-WRITE]`, ...).
    pub code: Option<ResponseCode>,
    /// The human-readable text.
    pub text: Text,
}

impl Completion {
    pub(crate) fn from_text(t: ResponseText) -> Self {
        let (code, text) = t.into_parts();
        Completion { code, text }
    }
}

/// Why a command did not succeed. Sorted by fault: the server refused it (`No`, `Bad`), the
/// session refused it before sending (`Refused`), authentication failed on our side of the
/// exchange (`Auth`), or the connection failed (`ConnectionLost`, `TimedOut`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The server answered `NO`.
    #[error("server said NO: {}", text_of(.code, .text))]
    No {
        /// Its response code.
        code: Option<ResponseCode>,
        /// Its text.
        text: Text,
    },
    /// The server answered `BAD`.
    #[error("server said BAD: {}", text_of(.code, .text))]
    Bad {
        /// Its response code.
        code: Option<ResponseCode>,
        /// Its text.
        text: Text,
    },
    /// The session did not send the command (it became invalid in the connection's state, or
    /// the server does not offer what it needs).
    #[error("not sent: {0}")]
    Refused(super::SubmitError),
    /// Authentication failed on the client's side of the exchange: a SCRAM server signature
    /// that does not verify (even if the server then said OK; the session then closes the
    /// connection), or a challenge the mechanism could not answer (the exchange was cancelled
    /// with `*`).
    #[error("authentication failed: {0}")]
    Auth(crate::sasl::SaslError),
    /// AUTHENTICATE was refused by the server (`NO` or `BAD`), with what the mechanism learned
    /// from the exchange: for OAUTHBEARER/XOAUTH2, the server's error status (an expired token
    /// says so there), so the caller can refresh its token and try again.
    #[error("authentication refused: {reason} ({})", text_of(.code, .text))]
    AuthRejected {
        /// The response code (`[AUTHENTICATIONFAILED]`, ...).
        code: Option<ResponseCode>,
        /// The server's text.
        text: Text,
        /// The mechanism's reading of the failure.
        reason: crate::sasl::SaslError,
    },
    /// The connection ended before the command completed. The command may or may not have
    /// taken effect on the server.
    #[error("connection lost before the command completed")]
    ConnectionLost,
    /// No answer within the configured time; the connection is considered dead.
    #[error("timed out waiting for the server")]
    TimedOut,
}

fn text_of(code: &Option<ResponseCode>, text: &Text) -> String {
    let t = String::from_utf8_lossy(text.as_bytes());
    match code {
        Some(c) => format!("[{c:?}] {t}"),
        None => t.into_owned(),
    }
}

/// Why the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The server closed the connection (end of input), after a `BYE` when `bye` is set.
    PeerClosed {
        /// The `BYE` received before, if any.
        bye: Option<ResponseText>,
    },
    /// The greeting was `BYE`.
    Rejected(ResponseText),
    /// LOGOUT completed.
    LoggedOut,
    /// A timer expired (greeting, response, liveness): the peer is considered gone.
    TimedOut,
    /// Bytes followed the tagged OK of STARTTLS in the same plaintext read: an injection
    /// attempt (the bytes are dropped, never interpreted).
    StartTlsInjection {
        /// How many bytes followed.
        bytes: usize,
    },
    /// The compressed stream could not be inflated.
    Compression(String),
    /// The caller asked to close.
    Local,
    /// The server violated the protocol in a way the session cannot go on from.
    Protocol(String),
}

/// The stream is handed over to the caller (RFC 9051 §6.2.1 STARTTLS). Nothing more is read
/// or written by the session until [`Client::transport_upgraded`](super::Client::transport_upgraded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandOff {
    /// Run the TLS handshake on the socket now.
    StartTls,
}

/// The server said something that contradicts the protocol or the session's state, but the
/// session goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A tagged response whose tag belongs to no command in flight.
    UnknownTag(Bytes),
    /// A continuation request while no command waits for one.
    UnexpectedContinuation,
    /// Data about messages that contradicts the selected mailbox (sequence number past the
    /// end, UID out of order, ...).
    Mailbox(SeqMapError),
    /// A second greeting, or a greeting-only response in the middle of the session.
    UnexpectedGreeting,
}

/// A message the decoder could not decode; the session goes on with the next one.
#[derive(Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The error (what was expected, where).
    pub error: StreamError,
}

impl Malformed {
    /// The raw bytes of the message, when the framer delivered it whole.
    pub fn raw(&self) -> Option<&Bytes> {
        match &self.error {
            StreamError::Decode { raw, .. } => Some(raw),
            _ => None,
        }
    }
}

impl fmt::Debug for Malformed {
    /// Prints the error position and the size of the message, not its bytes (a server may
    /// echo credentials; see [`raw`](Self::raw) for the bytes themselves).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            StreamError::Decode {
                error,
                raw,
                stream_offset,
                ..
            } => f
                .debug_struct("Malformed")
                .field("stream_offset", stream_offset)
                .field("len", &raw.len())
                .field("offset", &error.offset)
                .field("expected", &error.expected)
                .finish_non_exhaustive(),
            other => f.debug_struct("Malformed").field("error", other).finish(),
        }
    }
}

/// An event of the selected mailbox (RFC 9051 §7.4, §7.5; RFC 7162 §3.2.10).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MailboxEvent {
    /// `EXISTS`: the number of messages grew to `exists`.
    Exists {
        /// The new number of messages.
        exists: u32,
    },
    /// `EXPUNGE`: message `seq` was removed; later messages move down by one.
    Expunged {
        /// Its sequence number before the removal.
        seq: u32,
        /// Its UID, when it was known.
        uid: Option<u32>,
    },
    /// `VANISHED`: messages removed by UID. `earlier` (RFC 7162 `(EARLIER)`): they were
    /// removed before this session learned about them; no sequence numbers change.
    Vanished {
        /// Whether the response said `(EARLIER)`.
        earlier: bool,
        /// How many UIDs the response named.
        count: u64,
    },
    /// `UIDVALIDITY` differs from the value seen for this mailbox before: every cached UID is
    /// void.
    UidValidityChanged {
        /// The value seen before.
        old: u32,
        /// The new value.
        new: u32,
    },
}

/// One output of the client session; see [`Client::poll_event`](super::Client::poll_event).
///
/// Untagged data is carried by value (not boxed): one allocation per message would cost more
/// than moving the value into and out of the queue.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The server's greeting (`OK`, `PREAUTH` or `BYE`).
    Greeting {
        /// Which of the three.
        kind: GreetingKind,
        /// Code and text.
        text: ResponseText,
    },
    /// A command completed: the one and only report for `id`.
    Completed {
        /// The command.
        id: CommandId,
        /// The server's OK, or why not.
        result: Result<Completion, CommandError>,
    },
    /// Untagged data (`* CAPABILITY`, `* LIST`, `* n FETCH`, ...). Mailbox data also updates
    /// the selected-mailbox state and may produce a [`Event::Mailbox`] after it.
    Data(Data),
    /// An untagged `OK`, `NO` or `BAD` (`[ALERT]` ones must be shown to the user,
    /// RFC 9051 §7.1).
    Status {
        /// Which status.
        status: Status,
        /// Code and text.
        text: ResponseText,
    },
    /// `* BYE`: the server is closing the connection.
    Bye(ResponseText),
    /// The server accepted IDLE (`+`): events now arrive until [`Client::idle_done`](super::Client::idle_done).
    IdleStarted {
        /// The IDLE command.
        id: CommandId,
    },
    /// The session needs the next chunk of a streamed APPEND body
    /// ([`Client::append_chunk`](super::Client::append_chunk)).
    AppendDataWanted {
        /// The APPEND command.
        id: CommandId,
        /// Bytes of the body still to come.
        remaining: u64,
    },
    /// A large literal (a message body in a FETCH response) starts, with the bytes of it that
    /// arrived with its FETCH line ([`LiteralBegin::data`](imapwire_codec::codec::LiteralBegin::data),
    /// possibly none, possibly all). The rest follows as [`Event::BodyChunk`]s
    /// ([`LiteralBegin::remaining`](imapwire_codec::codec::LiteralBegin::remaining) bytes in
    /// all), then [`Event::BodyEnd`] (right after this event when it carries the whole
    /// body), then the [`Event::Data`] of the whole response, in which that item's value is
    /// empty (see [`ClientConfig::stream_bodies_over`](super::ClientConfig::stream_bodies_over)).
    /// [`LiteralBegin::fetch`](imapwire_codec::codec::LiteralBegin::fetch) names the message
    /// number, the UID when it came before the body, and the item (section, origin); it is
    /// read from the message's start when first asked for. Held in the event itself (no
    /// allocation per body): it is smaller than [`Data`].
    BodyBegin(imapwire_codec::codec::LiteralBegin),
    /// The next piece of a streamed body, as it arrived.
    BodyChunk(Bytes),
    /// The streamed body is complete (its announced length has arrived). A connection that
    /// ends first ends it with [`Event::Closed`] instead: the body is then incomplete.
    BodyEnd,
    /// The stream must be handed over (STARTTLS).
    HandOff(HandOff),
    /// Something changed in the selected mailbox.
    Mailbox(MailboxEvent),
    /// The server broke a rule; the session goes on.
    ProtocolError(ProtocolError),
    /// A message could not be decoded; the session goes on.
    Malformed(Malformed),
    /// The session ended; every command in flight has been completed before this event.
    Closed(CloseReason),
}

// `Event::BodyBegin` holds the start unboxed: it must not make every event larger.
const _: () = assert!(
    std::mem::size_of::<imapwire_codec::codec::LiteralBegin>() <= std::mem::size_of::<Data>()
);
