//! The sans-IO IMAP server (RFC 9051 §3 states, §6 commands, §7 responses, §7.5.1 when
//! updates may be sent; RFC 2177 IDLE, RFC 4959 SASL-IR, RFC 5161 ENABLE, RFC 7888 literals).
//!
//! A [`Server`] is one connection's protocol state. Like the [client](crate::client) it reads
//! no socket and no clock: the caller feeds received bytes and the current time, and takes
//! out bytes to send, events and the next deadline.
//!
//! # Calling contract
//!
//! - **inputs**: [`handle_input`](Server::handle_input) (received bytes; returns how many it
//!   took: the rest must be offered again later, which is how a client that floods the server
//!   is held back), [`handle_eof`](Server::handle_eof), [`handle_timeout`](Server::handle_timeout)
//!   (a spurious call is a no-op);
//! - **application answers**: [`reply`](Server::reply) (to an [`Event::Request`]),
//!   [`accept_literal`](Server::accept_literal) / [`reject_literal`](Server::reject_literal)
//!   (to an [`Event::LiteralAnnounced`]), [`body_chunk`](Server::body_chunk) /
//!   [`body_failed`](Server::body_failed) (to an [`Event::BodyWanted`]),
//!   [`notify`](Server::notify) (a change made elsewhere),
//!   [`transport_upgraded`](Server::transport_upgraded) (after a STARTTLS hand-off),
//!   [`close`](Server::close);
//! - **outputs**: [`poll_transmit`](Server::poll_transmit), [`poll_event`](Server::poll_event),
//!   [`poll_timeout`](Server::poll_timeout);
//! - **getters**: [`state`](Server::state), [`capabilities`](Server::capabilities), ...
//!
//! After any input or answer, call `poll_transmit` until `None` and write its bytes in order,
//! then drain `poll_event`, then arm one timer at `poll_timeout()`. Times must not go
//! backwards. Taking events may let held input be processed (see
//! [`ServerConfig::event_window`]): after draining events call `poll_transmit` again (it
//! resumes processing, as `handle_input` does) until neither yields anything, and offer
//! input not taken again.
//!
//! Every tagged command gets exactly one tagged completion, unless the session ends first
//! (BYE). Commands are executed one at a time, in order; pipelined commands wait in the
//! receiver's buffer (bounded by [`ServerConfig::input_window`]).
//!
//! # Why an event API for the mailbox backend
//!
//! Mailbox operations leave the session as [`Event::Request`]s, answered with typed
//! [`Reply`]s, instead of calls into a backend trait. The session thus stays sans-IO and
//! synchronous while a backend may be asynchronous (a database, a directory on a slow disk,
//! another process): the driver awaits the backend and calls [`Server::reply`] when it has the
//! answer. A synchronous store just answers at once (see [`memory::MemoryStore`]). The
//! session keeps what is per connection: the state, the selected mailbox and its
//! sequence-number view (requests and replies speak UIDs only), the updates queued for the
//! client, and the rules of when they may be sent.
//!
//! Authentication is the exception: it goes through a [`CredentialStore`] callback, because
//! every mechanism needs the stored keys within one step and the lookup is a cheap read.
//!
//! # Unilateral updates (RFC 9051 §7.5.1)
//!
//! [`notify`](Server::notify) queues a change (new message, expunge, flags) for the selected
//! mailbox. Queued changes are sent before the completion of the next command, and at once
//! during IDLE; an expunge is held back while the command in progress is a FETCH, STORE or
//! SEARCH by sequence number, and is never sent while no command is in progress. The session
//! applies to its view exactly what it sends, so sequence numbers always match the client's.
//! With QRESYNC enabled expunges are sent as `VANISHED`; with CONDSTORE, flag changes carry
//! `MODSEQ`.
//!
//! ## The session's own changes
//!
//! What a command of this session changes reaches its client in the command's own reply,
//! before the tagged completion: the flags a STORE set ([`ReplyData::Message`]), the messages
//! an EXPUNGE or MOVE removed ([`ReplyData::Expunged`]), and the messages an APPEND, COPY or
//! MOVE added to the selected mailbox ([`ReplyData::NewMessages`], sent as `* n EXISTS`:
//! RFC 9051 §6.3.12 asks for it before the tagged OK, so that a `UID SEARCH` right after
//! sees the new message). A backend therefore answers [`Request::Append`],
//! [`Request::Copy`] and [`Request::Move`] whose target is the selected mailbox with
//! `NewMessages`, naming every UID of that mailbox above the request's `last_uid`.
//!
//! The new messages ride on the reply rather than on [`notify`](Server::notify) because
//! then every driver gets them right without special care: a driver that fans
//! notifications out after the reply (the natural order, and the only one an asynchronous
//! driver with a channel per session can promise) would otherwise send the tagged OK first.
//! Naming everything above `last_uid`, not just the command's own messages, keeps the view
//! whole when other sessions' new messages are still on their way: EXISTS can only append,
//! so a view that took UID 7 before UID 6 could never take 6 in.
//!
//! Calling contract for the driver:
//!
//! - pass a session the other sessions' changes (new messages, expunges, flags) with
//!   [`notify`](Server::notify), in the order the store made them;
//! - do not pass a session its own expunges and flag changes: they were in its reply (a
//!   repeated expunge of a UID already gone is ignored, a repeated flag change would be sent
//!   again);
//! - passing a session its own new messages is harmless: a UID the view already has is
//!   ignored.
//!
//! # Streamed FETCH bodies
//!
//! A FETCH reply may carry a value as a literal whose data comes later, in chunks:
//! [`ReplyData::StreamedMessage`] with a [`FetchPart::Streamed`] item (`BODY[section]<o>`,
//! `RFC822`, `RFC822.TEXT`, `BINARY[part]<o>`) whose length the store knows up front. The
//! session's memory for such a body is bounded by [`ServerConfig::max_output`] plus one
//! [`ServerConfig::body_chunk`], whatever its size. Calling contract:
//!
//! 1. the session queues the FETCH response up to the literal's `{length}\r\n` and reports
//!    [`Event::BodyWanted`] `{ stream, max }` while the output queue is at most
//!    [`ServerConfig::max_output`];
//! 2. the application answers with [`Server::body_chunk`] (1 to `max` octets, in order);
//!    the session queues them and asks again, at once while the queue has room, else from
//!    [`poll_transmit`](Server::poll_transmit) once the client has read (back-pressure: a
//!    client that does not read makes the session stop asking);
//! 3. after `length` octets the rest of the response follows (more streamed items of the
//!    same message, the next messages), then the completion. Until then the command is in
//!    progress: no other command is processed (pipelined input waits in the input
//!    window), no unilateral update is sent inside the response, and no EXPUNGE at all
//!    (RFC 9051 §7.5.1), as for a FETCH answered whole;
//! 4. a store that cannot deliver (a read error, a file shorter than the length it gave)
//!    calls [`Server::body_failed`] (or gives an empty chunk): the length was sent and a
//!    literal cannot be taken back, so the session ends with [`CloseReason::BodyFailed`]
//!    after the octets sent so far (no BYE: it would be read as literal data). A store
//!    must therefore give a length it can deliver (a file's size, not a guess);
//! 5. when the session ends before a stream was sent whole (the client went away, LOGOUT
//!    cannot happen meanwhile, [`close`](Server::close) or a timer did it), and for the
//!    streams of a message the session does not know, it reports [`Event::BodyDropped`]
//!    so the application releases what it kept (an open file). A session that ends while
//!    a literal is being sent sends no BYE (it would be read as literal data).
//!
//! Small values may stay whole ([`ReplyData::Message`]); the store decides (see
//! [`memory::MemoryStore::stream_bodies_over`]).
//!
//! # Hand-offs
//!
//! STARTTLS: after queuing the tagged OK the session reports [`HandOff::StartTls`] and reads
//! nothing more in plaintext. Bytes that followed the command line are discarded, never
//! executed (RFC 9051 §11.1), and reported: those of the same read in the hand-off event, any
//! fed later by [`transport_upgraded`](Server::transport_upgraded), which the caller calls
//! after the TLS handshake.
//!
//! COMPRESS=DEFLATE (RFC 4978) is done inside the session, as in the client: after the
//! tagged OK (sent in the clear) [`poll_transmit`](Server::poll_transmit) returns compressed
//! bytes (a sync flush each) and [`handle_input`](Server::handle_input) takes compressed
//! bytes; bytes that followed the command in the same read are inflated too. Input is
//! inflated in pieces of at most 16 KiB, each processed before the next is inflated, and
//! inflating stops while the session waits (for the application, for the client to read,
//! or for queued APPEND data to be taken: [`ServerConfig::event_window`]), while it holds
//! [`ServerConfig::input_window`] bytes of input, or once
//! [`ServerConfig::event_window`] bytes were inflated while events wait: one read cannot
//! inflate without bound. `handle_input` then reports how
//! much it took; inflated input it kept back from bytes it took is processed by
//! [`poll_transmit`](Server::poll_transmit) and by [`poll_event`](Server::poll_event) when
//! they find nothing queued. Invalid compressed data ends the session
//! ([`CloseReason::Protocol`]).
//!
//! # Searching
//!
//! `SEARCH RETURN (MIN MAX COUNT ALL)` is answered with ESEARCH (RFC 4731) and `SAVE` keeps
//! the result for `$` (RFC 5182 SEARCHRES) until the mailbox is closed; other return options
//! are answered BAD. Sequence sets are resolved by binary search in the session's view, in
//! time proportional to the set and the messages it names.
//!
//! UNAUTHENTICATE (RFC 8437) returns to the not-authenticated state and reports
//! [`Event::Unauthenticated`]; TLS and COMPRESS stay in effect.
//!
//! # Literals
//!
//! A synchronizing literal is decided on before its data is read: by the policy
//! ([`ServerConfig::max_literal`], [`ServerConfig::append_limit`]: refused with
//! `NO [TOOBIG]`) or by the application ([`LiteralDecisions::Application`]). Under LITERAL- a
//! non-synchronizing literal over 4096 octets is answered with `BAD [TOOBIG]` and its data is
//! dropped as it arrives (RFC 7888 §4).
//!
//! An APPEND message is never held whole: one longer than [`INLINE_APPEND_MAX`] is streamed
//! out of the receiver as it arrives ([`Event::AppendChunk`], each at most one read's worth,
//! and no more queued than [`ServerConfig::event_window`]) and the [`Request::Append`] that follows names the streams; a shorter one comes as one
//! chunk (or is streamed too when it would not fit in the input window with the command so
//! far). Only messages are streamed: the mailbox name stays in the command. A LITERAL+
//! message over the APPEND limit is dropped as it arrives and the command answered
//! `NO [TOOBIG]`; streams of an APPEND that fails before its request are reported with
//! [`Event::AppendAborted`].
//!
//! Every other literal is kept in its command, which is held in the input window until it
//! decodes: a literal that cannot fit there with what precedes it is refused with
//! `NO [TOOBIG]`, before its data when it is synchronizing (the application is not asked),
//! else its data is dropped as it arrives and the command answered `NO [TOOBIG]`.
//!
//! Every command ends: one that outgrows the input window anyway (text after an inline
//! literal, lines after streamed APPEND messages: the command without its streamed
//! messages must fit in the window) is given up as soon as that is known and answered
//! `BAD [TOOBIG]` with its tag; its rest is dropped as it arrives (a synchronizing literal
//! at the end of a dropped line is not waited for: the client got its answer instead of a
//! `+`), and the next command is read as usual.
//!
//! # Bounds
//!
//! Line and command size ([`ServerConfig::limits`]), literal size, the input held while
//! waiting ([`ServerConfig::input_window`]), queued output ([`ServerConfig::max_output`]:
//! past it no command is processed until the client reads), queued APPEND data
//! ([`ServerConfig::event_window`]: past it no input is processed until the application
//! takes events; a client that sends faster than the application stores is held back by
//! `handle_input` taking fewer bytes), queued updates
//! ([`ServerConfig::max_pending_updates`]) and failed authentications.

mod auth;
mod config;
mod event;
pub(crate) mod expunged;
pub mod maildir;
pub mod memory;
pub mod message;
#[cfg(test)]
mod stream_tests;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use imapwire_codec::capability::{AuthMechanism, Capability};
use imapwire_codec::codec::{AnyMessage, Expect, Receiver, StreamError, StreamEvent};
use imapwire_codec::command::{AuthenticateData, Command, CommandBody, SelectParam};
use imapwire_codec::core::{IString, Tag, Text};
use imapwire_codec::error::LimitKind;
use imapwire_codec::fetch::MessageDataItem;
use imapwire_codec::flag::{Flag, FlagFetch};
use imapwire_codec::framer::{FramerConfig, LITERAL_MINUS_MAX, LiteralAnnouncement, LiteralMode};
use imapwire_codec::mailbox::Mailbox;
use imapwire_codec::response::{
    Continuation, Data, Greeting, GreetingKind, Response, ResponseCode, ResponseText, Status,
    StatusResponse,
};
use imapwire_codec::search::{OrKeys, SearchKey, SearchReturnOption};
use imapwire_codec::sequence::{SeqNum, SequenceSet, Uid, UidRange, UidSet, UidValidity};
use imapwire_codec::{DecodeOptions, Encode, EncodeBuf, EncodeOptions, FrameError};

pub use self::config::{
    CredentialStore, GreetingPolicy, LiteralDecisions, MIN_AUTOLOGOUT, NonSyncLiterals,
    ServerConfig,
};
pub use self::event::{
    ApiError, AppendStream, AppendedMessage, BodyStream, CloseReason, Event, FetchPart, HandOff,
    ProtocolFault, Reply, ReplyData, Request, RequestId, Selected, StreamedItem, StreamedName,
    Update,
};

use self::auth::{AuthExchange, AuthStep};
use crate::compress::{self, Deflate, Inflating};
use crate::sasl::scram::ChannelBinding;
use crate::timer::{Timer, TimerTable};

/// The connection state (RFC 9051 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Before authentication.
    NotAuthenticated,
    /// Authenticated, no mailbox selected.
    Authenticated,
    /// A mailbox is selected.
    Selected {
        /// The mailbox.
        mailbox: Mailbox,
        /// Opened with EXAMINE (or read-only).
        read_only: bool,
    },
    /// The session has ended.
    Logout,
}

/// What the receiver is busy with.
#[derive(Debug)]
enum Mode {
    Commands,
    Authenticating {
        tag: Tag,
        ex: Box<AuthExchange>,
    },
    Idle {
        tag: Tag,
    },
    /// A request is with the application.
    Waiting {
        id: RequestId,
        tag: Tag,
        kind: Pending,
    },
    /// A reply with a streamed FETCH literal is being sent (see [`Sending`]).
    Sending(Box<Sending>),
    /// A literal is with the application.
    LiteralDecision,
    /// STARTTLS accepted: plaintext is over.
    HandedOff,
    Closed,
}

/// What to do with a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pending {
    Select {
        read_only: bool,
        mailbox: Mailbox,
    },
    /// FETCH/STORE (`uid`: the UID form), SEARCH, COPY, MOVE, EXPUNGE.
    Messages {
        uid: bool,
        numbers_in_use: bool,
    },
    /// `[UID] MOVE` (RFC 6851).
    Move {
        uid: bool,
    },
    Search {
        uid: bool,
        /// ESEARCH return options (RFC 4731), `None` for a plain SEARCH.
        ret: Option<Vec<SearchReturnOption>>,
        /// The criteria name MODSEQ: the result carries the highest mod-sequence (RFC 7162
        /// §3.1.5, §3.1.10).
        modseq: bool,
    },
    Close,
    Other,
}

/// What the data of a reply add up to, kept while the reply is sent.
#[derive(Debug)]
struct ReplyCtx {
    copyuid: Option<(u32, Vec<u32>, Vec<u32>)>,
    modified: Vec<u32>,
    selected: Option<Selected>,
    esearch: Option<Vec<SearchReturnOption>>,
    search_modseq: bool,
    uid_cmd: bool,
    numbers_in_use: bool,
    uidplus: bool,
    takes_new: bool,
}

/// A reply being sent. It is kept (as [`Mode::Sending`]) only while the literal of a
/// [`FetchPart::Streamed`] item is streamed: the data after it wait, and no command is
/// processed, until the application delivered every octet.
#[derive(Debug)]
struct Sending {
    tag: Tag,
    kind: Pending,
    ctx: ReplyCtx,
    /// The reply's data not sent yet.
    data: VecDeque<ReplyData>,
    status: Status,
    code: Option<ResponseCode>,
    text: String,
    /// The rest of the FETCH response being sent.
    body: VecDeque<Segment>,
    /// The literal being streamed.
    current: Option<BodyLiteral>,
}

/// A piece of a FETCH response with streamed literals.
#[derive(Debug)]
enum Segment {
    Raw(Bytes),
    Literal(BodyStream, u64),
}

/// The streamed literal in progress.
#[derive(Debug)]
struct BodyLiteral {
    stream: BodyStream,
    promised: u64,
    sent: u64,
    /// The octets asked for by the outstanding [`Event::BodyWanted`].
    asked: Option<usize>,
}

/// The selected mailbox as this session sees it.
#[derive(Debug, Default)]
struct View {
    /// `uids[n - 1]` is the UID of message `n`.
    uids: Vec<u32>,
    /// Queued changes, oldest first.
    pending: VecDeque<Update>,
    /// The highest mod-sequence known of the mailbox (RFC 7162 §3.1): its HIGHESTMODSEQ at
    /// SELECT, raised by every MODSEQ sent since; `None` when it keeps no mod-sequences
    /// (NOMODSEQ) or none is selected.
    modseq: Option<u64>,
}

impl View {
    fn seq_of(&self, uid: u32) -> Option<usize> {
        self.uids.binary_search(&uid).ok().map(|i| i + 1)
    }

    fn last_uid(&self) -> u32 {
        self.uids.last().copied().unwrap_or(0)
    }

    fn saw_modseq(&mut self, m: u64) {
        if let Some(h) = &mut self.modseq {
            *h = (*h).max(m);
        }
    }
}

/// One connection's server state machine. See the [module docs](self).
pub struct Server {
    config: ServerConfig,
    state: State,
    mode: Mode,
    rx: Receiver,
    encrypted: bool,
    out: VecDeque<Bytes>,
    /// Responses encoded after everything in `out`, gathered in one buffer (moved to `out`
    /// before anything else is queued or sent): one allocation for many small responses.
    open: Vec<u8>,
    /// Octets in `out` and `open`.
    out_len: usize,
    events: VecDeque<Event>,
    timers: TimerTable,
    next_request: u64,
    auth_failures: u32,
    user: Option<String>,
    condstore: bool,
    qresync: bool,
    utf8: bool,
    view: View,
    /// A STARTTLS hand-off is being reported: bytes discarded so far.
    handoff: Option<BytesMut>,
    /// Plaintext fed after the hand-off was reported.
    late_discard: BytesMut,
    /// COMPRESS=DEFLATE is active (RFC 4978).
    deflate: Option<Deflate>,
    /// The time of the last input or transmit call (for inflated input processed by
    /// [`Server::poll_event`], which is given none).
    now: Instant,
    /// Output chunks queued before COMPRESS took effect (sent as they are).
    raw_chunks: usize,
    /// The saved search result (RFC 5182 SEARCHRES), as UIDs.
    saved: Option<Vec<u32>>,
    /// The TLS channel binding for the SCRAM `-PLUS` mechanisms, from the application.
    binding: Option<ChannelBinding>,
    /// The literals of the command being received, in order, as the receiver announced
    /// them (at most the framer's literal count). The last one is the one whose data a
    /// [`StreamEvent::LiteralChunk`] carries (only [`start_stream`](Self::start_stream)
    /// makes the receiver stream a literal).
    literals: Vec<CmdLiteral>,
    /// APPEND data queued in [`Event::AppendChunk`]s (bounded by
    /// [`ServerConfig::event_window`]).
    event_bytes: usize,
    /// The part of a streamed chunk that did not fit in the event window: queued first when
    /// the application has taken events (counted as held input).
    held_chunk: Option<(AppendStream, Bytes)>,
    /// A streamed APPEND message is over the limit (LITERAL+): its data is dropped and the
    /// command refused.
    append_too_big: bool,
    next_stream: u64,
}

/// What became of one literal of the command being received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmdLiteral {
    /// Kept in the command (its value is in the decoded command).
    Inline,
    /// Streamed out as the data of an APPEND message: `(stream, length)`; its value in the
    /// decoded command is empty.
    Streamed(AppendStream, u64),
    /// Too large to keep in the command (non-synchronizing): its data is dropped as it
    /// arrives and the command answered `NO [TOOBIG]`.
    Dropped,
}

/// Room for a literal's header after its `{` and the CRLF after its data.
const LITERAL_FRAMING: u64 = 32;

/// APPEND messages up to this length arrive inside the command (and go to the application
/// as one [`Event::AppendChunk`]); longer ones are streamed as they arrive.
pub const INLINE_APPEND_MAX: u64 = 1024;

/// How much late plaintext after a STARTTLS hand-off is kept for the report.
const LATE_DISCARD_KEEP: usize = 64 * 1024;

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("state", &self.state)
            .field("mode", &self.mode)
            .field("encrypted", &self.encrypted)
            .field("out_len", &self.out_len)
            .finish_non_exhaustive()
    }
}

/// Text for a response: printable ASCII, at most 200 characters.
fn text(s: &str) -> Text {
    let clean: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(200)
        .collect();
    let clean = if clean.trim().is_empty() {
        "-".to_owned()
    } else {
        clean
    };
    Text::new(clean).unwrap_or_default()
}

fn resp_text(code: Option<ResponseCode>, s: &str) -> ResponseText {
    match code {
        Some(c) => ResponseText::with_code(c, text(s)),
        None => ResponseText::new(None, text(s))
            .unwrap_or_else(|_| ResponseText::new(None, text("-")).unwrap_or_default()),
    }
}

fn uid_set(uids: &[u32]) -> Option<UidSet> {
    let mut ranges: Vec<UidRange> = Vec::new();
    for &u in uids {
        let Some(n) = std::num::NonZeroU32::new(u) else {
            continue;
        };
        match ranges.last_mut() {
            Some(r) if r.end().get().checked_add(1) == Some(u) => {
                *r = UidRange::from_nonzero(r.start(), n)
            }
            _ => ranges.push(UidRange::from_nonzero(n, n)),
        }
    }
    UidSet::new(ranges).ok()
}

impl Server {
    /// A session for a new connection; queues the greeting.
    pub fn new(config: ServerConfig, now: Instant) -> Self {
        Self::with_channel_binding(config, None, now)
    }

    /// A session for a new connection whose TLS channel binding is known from the start
    /// (implicit TLS): the greeting then offers the SCRAM `-PLUS` mechanisms too. See
    /// [`set_channel_binding`](Self::set_channel_binding).
    pub fn with_channel_binding(
        config: ServerConfig,
        binding: Option<ChannelBinding>,
        now: Instant,
    ) -> Self {
        let mut limits = config.limits;
        limits.max_literal = limits.max_literal.max(config.max_literal);
        // A line must fit in the input window, or one longer than the window but shorter
        // than the limit would wait forever for room.
        limits.max_line = limits
            .max_line
            .min(config.input_window.saturating_sub(1).max(64));
        // An APPEND message is streamed, not held: the framer's message bound must not refuse
        // one the APPEND limit allows (what the session holds of a command is bounded by the
        // input window).
        limits.max_message = limits.max_message.max(
            config
                .max_literal
                .saturating_add(config.input_window as u64),
        );
        let framer = FramerConfig::server()
            .with_limits(limits)
            .with_max_nonsync_literal(match config.non_sync_literals {
                NonSyncLiterals::Minus => Some(LITERAL_MINUS_MAX),
                NonSyncLiterals::Plus => None,
                NonSyncLiterals::None => Some(0),
            });
        let rx = Receiver::new(framer, DecodeOptions::default(), Expect::Command);
        let encrypted = config.encrypted;
        let mut s = Server {
            config,
            state: State::NotAuthenticated,
            mode: Mode::Commands,
            rx,
            encrypted,
            out: VecDeque::new(),
            open: Vec::new(),
            out_len: 0,
            events: VecDeque::new(),
            timers: TimerTable::new(),
            next_request: 0,
            auth_failures: 0,
            user: None,
            condstore: false,
            qresync: false,
            utf8: false,
            view: View::default(),
            handoff: None,
            late_discard: BytesMut::new(),
            deflate: None,
            now,
            raw_chunks: 0,
            saved: None,
            binding,
            literals: Vec::new(),
            event_bytes: 0,
            held_chunk: None,
            append_too_big: false,
            next_stream: 0,
        };
        s.greet(now);
        s
    }

    fn greet(&mut self, now: Instant) {
        let (kind, code, t) = match self.config.greeting.clone() {
            GreetingPolicy::Bye(t) => (GreetingKind::Bye, None, t),
            GreetingPolicy::PreAuth(user) => {
                self.state = State::Authenticated;
                self.events
                    .push_back(Event::Authenticated { user: user.clone() });
                self.user = Some(user);
                let caps = self.capabilities();
                (
                    GreetingKind::PreAuth,
                    Some(ResponseCode::Capability(caps)),
                    self.config.greeting_text.clone(),
                )
            }
            _ => {
                let caps = self.capabilities();
                (
                    GreetingKind::Ok,
                    Some(ResponseCode::Capability(caps)),
                    self.config.greeting_text.clone(),
                )
            }
        };
        let g = Greeting {
            kind,
            text: resp_text(code, &t),
        };
        self.emit(&g);
        if kind == GreetingKind::Bye {
            self.close_with(CloseReason::Refused);
        } else {
            self.arm_autologout(now);
        }
    }

    // ---- getters ----

    /// The connection state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The authenticated user.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// Whether the transport is encrypted (implicit TLS, or after STARTTLS).
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        matches!(self.mode, Mode::Closed)
    }

    /// Whether CONDSTORE is enabled (by ENABLE, or by a CONDSTORE-aware command).
    pub fn condstore_enabled(&self) -> bool {
        self.condstore
    }

    /// Whether QRESYNC is enabled.
    pub fn qresync_enabled(&self) -> bool {
        self.qresync
    }

    /// The session's sequence-number view of the selected mailbox: element `n - 1` is the
    /// UID of message `n`.
    pub fn view(&self) -> &[u32] {
        &self.view.uids
    }

    /// Output bytes queued.
    pub fn queued_output(&self) -> usize {
        self.out_len
    }

    /// APPEND data queued in events not yet taken with [`poll_event`](Self::poll_event)
    /// (see [`ServerConfig::event_window`]).
    pub fn queued_event_bytes(&self) -> usize {
        self.event_bytes
    }

    /// The capabilities for the connection's current state (RFC 9051 §7.2.2): STARTTLS and
    /// LOGINDISABLED only before authentication on an unencrypted connection, the password
    /// mechanisms only where passwords may cross, no AUTH= after authentication.
    pub fn capabilities(&self) -> Vec<Capability> {
        let mut v = vec![Capability::Imap4Rev2, Capability::Imap4Rev1];
        let plaintext_ok = self.encrypted || self.config.allow_plaintext_auth;
        if self.state == State::NotAuthenticated {
            if !self.encrypted && self.config.starttls {
                v.push(Capability::StartTls);
            }
            if !plaintext_ok {
                v.push(Capability::LoginDisabled);
            }
            if self.config.credentials.is_some() {
                if plaintext_ok {
                    v.push(Capability::Auth(AuthMechanism::Plain));
                    v.push(Capability::Auth(AuthMechanism::Login));
                }
                if self.channel_binding().is_some() {
                    v.push(Capability::Auth(AuthMechanism::ScramSha256Plus));
                    v.push(Capability::Auth(AuthMechanism::ScramSha1Plus));
                }
                v.push(Capability::Auth(AuthMechanism::ScramSha256));
                v.push(Capability::Auth(AuthMechanism::ScramSha1));
                let oauth = self
                    .config
                    .credentials
                    .as_ref()
                    .is_some_and(|c| c.supports_oauth());
                if oauth && plaintext_ok {
                    v.push(Capability::Auth(AuthMechanism::OAuthBearer));
                    v.push(Capability::Auth(AuthMechanism::XOAuth2));
                }
            }
        }
        match self.config.non_sync_literals {
            NonSyncLiterals::Plus => v.push(Capability::LiteralPlus),
            NonSyncLiterals::Minus => v.push(Capability::LiteralMinus),
            NonSyncLiterals::None => {}
        }
        if self.config.append_limit.is_some() {
            // What the session accepts (never more than max_literal).
            v.push(Capability::AppendLimit(Some(self.append_limit())));
        }
        for c in &self.config.extensions {
            if !v.contains(c) {
                v.push(c.clone());
            }
        }
        v
    }

    // ---- outputs ----

    /// The next bytes to write, or `None`. Everything queued is returned in order. Once the
    /// queue is empty, commands held back by [`ServerConfig::max_output`] are processed again
    /// (so this may queue more output and events).
    #[must_use = "the returned bytes must be written to the connection"]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Bytes> {
        self.now = now;
        self.want_body();
        if self.out.is_empty()
            && self.open.is_empty()
            && !self.blocked()
            && self.deflate.as_ref().is_some_and(Deflate::has_input)
        {
            // Inflated input held back earlier: offer it again.
            let _ = self.handle_input(now, &[]);
        }
        if self.out.is_empty() && self.open.is_empty() && !self.blocked() && self.held_input() > 0 {
            self.process(now);
        }
        self.close_open();
        let first = self.out.pop_front()?;
        if self.out_len > self.config.max_output {
            // Output held back by `max_output` drains only as the client reads (the caller
            // asks for the next bytes once it wrote the last): a client reading a long whole
            // reply slowly is not inactive (RFC 9051 §5.4), like one reading a streamed
            // literal (see `body_chunk`); one that stops reading is logged out an
            // autologout time after the last bytes it took.
            self.arm_autologout(now);
        }
        let mut total = first.len();
        if self.raw_chunks > 0 || self.deflate.is_none() {
            if self.raw_chunks > 0 {
                // Queued before COMPRESS took effect: sent as it is, alone.
                self.raw_chunks -= 1;
                self.out_len -= first.len();
                return Some(first);
            }
            if self.out.is_empty() || first.len() >= 16 * 1024 {
                self.out_len -= first.len();
                return Some(first);
            }
        }
        let mut buf = BytesMut::from(&first[..]);
        while let Some(b) = self.out.front() {
            if total + b.len() > 64 * 1024 {
                break;
            }
            total += b.len();
            buf.extend_from_slice(b);
            self.out.pop_front();
        }
        self.out_len -= total;
        if let Some(d) = self.deflate.as_mut() {
            let offset = d.plain_out();
            return match d.compress(&buf) {
                Ok(c) => Some(Bytes::from(c)),
                Err(detail) => {
                    // The compressor failed: nothing more can be sent.
                    let fault = ProtocolFault::Deflate { detail, offset };
                    #[cfg(feature = "tracing")]
                    tracing::warn!(%fault, "closing");
                    self.out.clear();
                    self.open.clear();
                    self.out_len = 0;
                    self.close_with(CloseReason::Protocol(fault));
                    None
                }
            };
        }
        Some(buf.freeze())
    }

    /// The next event for the application. When none is queued, inflated input kept back
    /// under COMPRESS is processed first (which may also queue output: call
    /// [`poll_transmit`](Self::poll_transmit) after draining events).
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.events.is_empty()
            && !self.blocked()
            && self.deflate.as_ref().is_some_and(Deflate::has_input)
        {
            let now = self.now;
            let _ = self.handle_input(now, &[]);
        }
        let ev = self.events.pop_front()?;
        if let Event::AppendChunk { data, .. } = &ev {
            self.event_bytes -= data.len();
        }
        Some(ev)
    }

    /// The next deadline: call [`handle_timeout`](Self::handle_timeout) then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_closed() {
            return None;
        }
        self.timers.next_deadline().map(|(t, _)| t)
    }

    // ---- inputs ----

    /// Feeds received bytes; returns how many were taken. Bytes not taken (the session waits
    /// for the application, or for the client to read its output; under COMPRESS also once
    /// [`ServerConfig::event_window`] bytes were inflated while events wait) must be
    /// offered again after the next answer, `poll_transmit` or drained `poll_event`. After a
    /// STARTTLS hand-off every byte is taken and discarded (see [`HandOff::StartTls`]); after
    /// the end, none.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) -> usize {
        self.now = now;
        let mut taken = 0;
        loop {
            match self.mode {
                Mode::Closed => break,
                Mode::HandedOff => {
                    let rest = &data[taken..];
                    match self.handoff.as_mut() {
                        Some(d) => d.extend_from_slice(rest),
                        None => {
                            let room = LATE_DISCARD_KEEP.saturating_sub(self.late_discard.len());
                            self.late_discard
                                .extend_from_slice(&rest[..rest.len().min(room)]);
                        }
                    }
                    taken = data.len();
                    break;
                }
                _ => {}
            }
            self.process_inner(now);
            if matches!(self.mode, Mode::HandedOff | Mode::Closed) {
                continue;
            }
            if self.deflate.is_some() {
                taken += compress::feed(self, &data[taken..]);
                if matches!(self.mode, Mode::HandedOff | Mode::Closed) {
                    continue;
                }
                break;
            }
            if taken == data.len() {
                break;
            }
            let room = self.config.input_window.saturating_sub(self.held_input());
            if room == 0 {
                break;
            }
            let n = room.min(data.len() - taken).min(16 * 1024);
            self.rx.push(&data[taken..taken + n]);
            taken += n;
        }
        self.flush_handoff();
        taken
    }

    /// The client closed its side: the session ends.
    pub fn handle_eof(&mut self, _now: Instant) {
        if !self.is_closed() {
            self.state = State::Logout;
            self.close_with(CloseReason::PeerClosed);
        }
    }

    /// A deadline from [`poll_timeout`](Self::poll_timeout) passed (a spurious call is a
    /// no-op).
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<Timer> = self.timers.expired(now).collect();
        for t in due {
            if self.is_closed() {
                break;
            }
            match t {
                Timer::Autologout => {
                    self.bye(Some(ResponseCode::Unavailable), "autologout: idle too long");
                    self.close_with(CloseReason::Autologout);
                }
                Timer::IdleHold => {
                    self.bye(Some(ResponseCode::Unavailable), "IDLE held too long");
                    self.close_with(CloseReason::IdleHold);
                }
                _ => {}
            }
        }
    }

    // ---- application answers ----

    /// Answers the request `id`.
    pub fn reply(&mut self, now: Instant, id: RequestId, reply: Reply) -> Result<(), ApiError> {
        if self.is_closed() {
            return Err(ApiError::Closed);
        }
        let Mode::Waiting { id: want, .. } = &self.mode else {
            return Err(ApiError::UnknownRequest(id));
        };
        if *want != id {
            return Err(ApiError::UnknownRequest(id));
        }
        let Mode::Waiting { tag, kind, .. } = std::mem::replace(&mut self.mode, Mode::Commands)
        else {
            return Err(ApiError::UnknownRequest(id));
        };
        self.apply_reply(tag, kind, reply);
        self.arm_autologout(now);
        self.process(now);
        Ok(())
    }

    /// Delivers data of a streamed FETCH literal, as an [`Event::BodyWanted`] asked: at
    /// most its `max` octets (a longer chunk is refused and nothing taken). An empty chunk
    /// means the store has no more: the session ends as with
    /// [`body_failed`](Self::body_failed). Once the literal is complete the reply goes on
    /// (more of it may be asked for, or the command completes and the next is processed).
    pub fn body_chunk(
        &mut self,
        now: Instant,
        stream: BodyStream,
        data: Bytes,
    ) -> Result<(), ApiError> {
        if self.is_closed() {
            return Err(ApiError::Closed);
        }
        let Mode::Sending(s) = &mut self.mode else {
            return Err(ApiError::BodyNotWanted(stream));
        };
        let Some(l) = s.current.as_mut().filter(|l| l.stream == stream) else {
            return Err(ApiError::BodyNotWanted(stream));
        };
        let Some(max) = l.asked else {
            return Err(ApiError::BodyNotWanted(stream));
        };
        if data.is_empty() {
            self.body_failed(now, stream)?;
            return Ok(());
        }
        if data.len() > max {
            return Err(ApiError::BodyChunkTooLong {
                got: data.len(),
                max,
            });
        }
        l.asked = None;
        l.sent += data.len() as u64;
        self.queue_out(data);
        // Chunks are asked for only while the output queue has room, that is as the client
        // reads: one that reads is not inactive (RFC 9051 §5.4), however long the literal
        // takes; one that stops reading is logged out an autologout time after the last.
        self.arm_autologout(now);
        if let Mode::Sending(s) = std::mem::replace(&mut self.mode, Mode::Commands) {
            self.send_reply(s);
        }
        if !matches!(self.mode, Mode::Sending(_)) {
            self.process(now);
        }
        Ok(())
    }

    /// The store cannot deliver the rest of a streamed FETCH literal (a read failed, the
    /// file is shorter than the length it gave). The literal's length was sent and cannot
    /// be taken back, so the session ends with [`CloseReason::BodyFailed`] after the
    /// octets sent so far; no BYE follows (it would be read as literal data).
    pub fn body_failed(&mut self, now: Instant, stream: BodyStream) -> Result<(), ApiError> {
        let _ = now;
        if self.is_closed() {
            return Err(ApiError::Closed);
        }
        let Mode::Sending(s) = &mut self.mode else {
            return Err(ApiError::BodyNotWanted(stream));
        };
        let Some(l) = s.current.take_if(|l| l.stream == stream) else {
            return Err(ApiError::BodyNotWanted(stream));
        };
        self.close_with(CloseReason::BodyFailed {
            stream,
            promised: l.promised,
            sent: l.sent,
        });
        Ok(())
    }

    /// Accepts the literal of the last [`Event::LiteralAnnounced`] (sends `+`).
    pub fn accept_literal(&mut self, now: Instant) -> Result<(), ApiError> {
        if !matches!(self.mode, Mode::LiteralDecision) {
            return Err(ApiError::NoLiteralPending);
        }
        self.mode = Mode::Commands;
        // The announcement is the receiver's (paused at it until the decision).
        match self.rx.pending_literal().cloned() {
            Some(a) if self.should_stream(&a) => self.start_stream(a),
            _ => {
                if self.rx.accept_literal().is_err() {
                    self.mode = Mode::LiteralDecision;
                    return Err(ApiError::NoLiteralPending);
                }
                self.literals.push(CmdLiteral::Inline);
            }
        }
        self.continuation_text("ready for literal data");
        self.process(now);
        Ok(())
    }

    /// Refuses the literal of the last [`Event::LiteralAnnounced`] with a tagged
    /// `status` (`NO` or `BAD`), `code` (e.g. `TOOBIG`) and `text`; its data is never read.
    pub fn reject_literal(
        &mut self,
        now: Instant,
        status: Status,
        code: Option<ResponseCode>,
        text: &str,
    ) -> Result<(), ApiError> {
        if !matches!(self.mode, Mode::LiteralDecision) {
            return Err(ApiError::NoLiteralPending);
        }
        self.mode = Mode::Commands;
        let tag = self.rx.pending_literal().and_then(|a| a.tag.clone());
        self.refuse_literal(tag, status, code, text);
        self.process(now);
        Ok(())
    }

    /// Reports a change to `mailbox` made elsewhere (another session, delivery). Ignored
    /// unless that mailbox is selected here; sent where RFC 9051 §7.5.1 allows.
    pub fn notify(&mut self, now: Instant, mailbox: &Mailbox, update: Update) {
        let State::Selected { mailbox: sel, .. } = &self.state else {
            return;
        };
        if sel != mailbox || self.is_closed() {
            return;
        }
        if let Update::Flags { uid, .. } = &update {
            // Only the latest flags of a message matter.
            let u = *uid;
            self.view
                .pending
                .retain(|p| !matches!(p, Update::Flags { uid, .. } if *uid == u));
        }
        self.view.pending.push_back(update);
        if self.view.pending.len() > self.config.max_pending_updates {
            self.bye(Some(ResponseCode::Unavailable), "too many updates pending");
            self.close_with(CloseReason::TooManyUpdates);
            return;
        }
        if matches!(self.mode, Mode::Idle { .. }) {
            self.flush_updates(true);
        }
        let _ = now;
    }

    /// After [`HandOff::StartTls`]: the TLS handshake is done; commands are read again (from
    /// the decrypted stream), with the capabilities of an encrypted connection. Returns the
    /// plaintext bytes fed after the hand-off was reported (discarded; the first
    /// 64 KiB are kept for the report): non-empty means an injection attempt.
    pub fn transport_upgraded(&mut self, _now: Instant) -> Result<Bytes, ApiError> {
        if !matches!(self.mode, Mode::HandedOff) {
            return Err(ApiError::NoHandOff);
        }
        self.flush_handoff();
        self.encrypted = true;
        self.mode = Mode::Commands;
        let _ = self.rx.take_buffered();
        self.rx.set_expect(Expect::Command);
        self.arm_autologout(_now);
        Ok(std::mem::take(&mut self.late_discard).freeze())
    }

    /// Sets the TLS channel binding of this connection (RFC 9266 `tls-exporter` or RFC 5929
    /// `tls-server-end-point`, computed by whoever runs TLS), which enables
    /// `AUTH=SCRAM-SHA-256-PLUS` and `AUTH=SCRAM-SHA-1-PLUS` on an encrypted connection. Call
    /// it after [`transport_upgraded`](Self::transport_upgraded) for STARTTLS; for implicit
    /// TLS use [`with_channel_binding`](Self::with_channel_binding).
    pub fn set_channel_binding(&mut self, binding: Option<ChannelBinding>) {
        self.binding = binding;
    }

    /// The channel binding the SCRAM `-PLUS` mechanisms use: only on an encrypted connection.
    fn channel_binding(&self) -> Option<&ChannelBinding> {
        self.binding.as_ref().filter(|_| self.encrypted)
    }

    /// Ends the session with `* BYE text` (e.g. the server shuts down). While a streamed
    /// FETCH literal is being sent no BYE is sent (the client would read it as literal data):
    /// the session ends after the octets sent so far.
    pub fn close(&mut self, text: &str) {
        if !self.is_closed() {
            self.bye(None, text);
            self.close_with(CloseReason::Application);
        }
    }

    // ---- the machine ----

    /// Input received and not yet processed: in the receiver, and the part of a streamed
    /// chunk waiting for room in the event window.
    fn held_input(&self) -> usize {
        self.rx.buffered() + self.held_chunk.as_ref().map_or(0, |(_, d)| d.len())
    }

    fn blocked(&self) -> bool {
        self.out_len > self.config.max_output
            || self.event_bytes >= self.config.event_window.max(1)
            || matches!(
                self.mode,
                Mode::Waiting { .. }
                    | Mode::Sending(_)
                    | Mode::LiteralDecision
                    | Mode::HandedOff
                    | Mode::Closed
            )
    }

    fn process(&mut self, now: Instant) {
        self.process_inner(now);
        self.flush_handoff();
    }

    fn process_inner(&mut self, now: Instant) {
        while !self.blocked() {
            if let Some((stream, data)) = self.held_chunk.take() {
                self.queue_streamed(stream, data);
                continue;
            }
            let Some(ev) = self.rx.next() else {
                // The receiver needs more of a command than the input window can hold (text
                // after an inline literal that pushes it past the window): no more input
                // will be taken, so the command is given up, not waited for.
                if self.rx.buffered() >= self.config.input_window {
                    if let Some(e) = self.rx.abandon_message(self.config.input_window as u64) {
                        self.on_stream_error(e);
                        continue;
                    }
                }
                return;
            };
            match ev {
                StreamEvent::LiteralAnnounced(a) => self.on_literal(a),
                StreamEvent::Error(e) => self.on_stream_error(e),
                StreamEvent::LiteralChunk(data) => {
                    if let (Some(&CmdLiteral::Streamed(stream, _)), false) =
                        (self.literals.last(), self.append_too_big)
                    {
                        self.queue_streamed(stream, data);
                    }
                }
                StreamEvent::Message(d) => {
                    match d.message {
                        AnyMessage::Command(c) => self.on_command(now, c),
                        AnyMessage::AuthenticateData(a) => self.on_auth_data(now, a),
                        AnyMessage::IdleDone(_) => self.on_idle_done(now),
                        _ => {}
                    }
                    // Streams the message did not hand to the backend.
                    self.abort_appends();
                }
                _ => {}
            }
        }
    }

    /// Queues streamed APPEND data, as much as the event window has room for; the rest is
    /// held until the application has taken events.
    fn queue_streamed(&mut self, stream: AppendStream, mut data: Bytes) {
        let room = self
            .config
            .event_window
            .max(1)
            .saturating_sub(self.event_bytes);
        if data.len() > room {
            self.held_chunk = Some((stream, data.split_off(room)));
        }
        self.queue_chunk(stream, data);
    }

    /// Queues an [`Event::AppendChunk`] (counted in the event window).
    fn queue_chunk(&mut self, stream: AppendStream, data: Bytes) {
        if !data.is_empty() {
            self.event_bytes += data.len();
            self.events.push_back(Event::AppendChunk { stream, data });
        }
    }

    /// Whether the literal `a` is an APPEND message to stream.
    ///
    /// Only messages are: the mailbox name (the first argument) is kept in the command like
    /// any other literal. A message is streamed when it is long, or when it would not fit in
    /// the input window with the command so far (a MULTIAPPEND of many short messages).
    fn should_stream(&self, a: &LiteralAnnouncement) -> bool {
        a.command.as_deref() == Some(b"APPEND")
            && !is_first_argument(a)
            && (a.length > INLINE_APPEND_MAX || !self.fits_window(a))
            && matches!(self.mode, Mode::Commands)
            && matches!(self.state, State::Authenticated | State::Selected { .. })
    }

    /// Whether the literal `a`, kept in its command, fits in the input window with what
    /// came before it (the whole command is held there until it decodes: a larger one could
    /// never be decoded).
    fn fits_window(&self, a: &LiteralAnnouncement) -> bool {
        (a.offset as u64)
            .saturating_add(a.length)
            .saturating_add(LITERAL_FRAMING)
            <= self.config.input_window as u64
    }

    /// The largest APPEND message taken.
    fn append_limit(&self) -> u64 {
        match self.config.append_limit {
            Some(l) => l.min(self.config.max_literal),
            None => self.config.max_literal,
        }
    }

    /// Streams the literal just announced (accepting it when it is synchronizing).
    fn start_stream(&mut self, a: LiteralAnnouncement) {
        let length = a.length;
        if self.rx.stream_literal(a).is_ok() {
            let stream = AppendStream(self.next_stream);
            self.next_stream += 1;
            self.literals.push(CmdLiteral::Streamed(stream, length));
        } else {
            // Not reachable right after the announcement; buffer it as before.
            let _ = self.rx.accept_literal();
            self.literals.push(CmdLiteral::Inline);
        }
    }

    /// Lets the literal just announced into the command (accepting it when it is
    /// synchronizing).
    fn keep_literal(&mut self) {
        let _ = self.rx.accept_literal();
        self.literals.push(CmdLiteral::Inline);
    }

    /// The command being received has ended (decoded, refused or failed): reports the
    /// streams it did not hand to the backend as aborted.
    fn abort_appends(&mut self) {
        self.held_chunk = None;
        for l in std::mem::take(&mut self.literals) {
            if let CmdLiteral::Streamed(stream, _) = l {
                self.events.push_back(Event::AppendAborted { stream });
            }
        }
        self.append_too_big = false;
    }

    fn on_literal(&mut self, a: LiteralAnnouncement) {
        if (a.offset as u64).saturating_add(LITERAL_FRAMING) > self.config.input_window as u64 {
            // The command without its streamed messages (which the decoded command holds
            // whole) has outgrown the input window: it is given up, literal and all.
            if let Some(e) = self.rx.abandon_message(self.config.input_window as u64) {
                self.on_stream_error(e);
            }
            return;
        }
        let stream = self.should_stream(&a);
        // Any other literal is kept in its command, which must fit in the input window.
        let too_big = !stream && !self.fits_window(&a);
        if a.mode != LiteralMode::Sync {
            // LITERAL+: the data follows at once. An APPEND message is streamed; one over
            // the limit, or another literal too large to keep, is dropped as it arrives and
            // the command refused at its end (RFC 7888 §4).
            if stream {
                if a.length > self.append_limit() {
                    self.append_too_big = true;
                }
                self.start_stream(a);
            } else if too_big {
                let dropped = self.rx.stream_literal(a).is_ok();
                self.literals.push(if dropped {
                    CmdLiteral::Dropped
                } else {
                    CmdLiteral::Inline
                });
            } else {
                self.literals.push(CmdLiteral::Inline);
            }
            return;
        }
        if !matches!(self.mode, Mode::Commands) {
            // A literal where AUTHENTICATE data or DONE is expected: refuse it, and end the
            // exchange with BAD.
            self.abort_appends();
            let _ = self.rx.reject_literal();
            self.malformed_in_mode("a literal is not allowed here");
            return;
        }
        if too_big {
            // Neither streamed nor able to fit: refused before its data is sent, whoever
            // decides on literals.
            self.refuse_literal(
                a.tag,
                Status::No,
                Some(ResponseCode::TooBig),
                "literal too large",
            );
            return;
        }
        match self.config.literal_decisions {
            LiteralDecisions::Application => {
                self.mode = Mode::LiteralDecision;
                self.events.push_back(Event::LiteralAnnounced {
                    tag: a.tag,
                    command: a.command,
                    length: a.length,
                    mode: a.mode,
                    binary: a.binary,
                });
            }
            LiteralDecisions::Policy => {
                let limit = if a.command.as_deref() == Some(b"APPEND") {
                    self.append_limit()
                } else {
                    self.config.max_literal
                };
                if a.length > limit {
                    self.refuse_literal(
                        a.tag,
                        Status::No,
                        Some(ResponseCode::TooBig),
                        "literal too large",
                    );
                } else {
                    if self.should_stream(&a) {
                        self.start_stream(a);
                    } else {
                        self.keep_literal();
                    }
                    self.continuation_text("ready for literal data");
                }
            }
        }
    }

    /// Refuses the synchronizing literal awaiting a decision; `tag` is the announcement's
    /// (the dropped bytes hold only the last line once a literal of the command was streamed).
    fn refuse_literal(
        &mut self,
        tag: Option<Bytes>,
        status: Status,
        code: Option<ResponseCode>,
        t: &str,
    ) {
        // The command ends here: its earlier streamed messages are not used.
        self.abort_appends();
        let dropped = self.rx.reject_literal().unwrap_or_default();
        let tag = match tag {
            Some(t) => Tag::new(t).ok(),
            None => recover_tag(&dropped),
        };
        self.complete_raw(tag, status, code, t);
    }

    fn on_stream_error(&mut self, e: StreamError) {
        self.abort_appends();
        let tag = e.tag().and_then(|t| Tag::new(t).ok());
        // A literal over the size limit is refused with NO [TOOBIG] (RFC 9051 §7.1, RFC 7889:
        // nothing of it was read, so the command simply failed); a LITERAL- literal over 4096
        // octets with BAD [TOOBIG] (RFC 7888 §4).
        let mut status = Status::Bad;
        let (code, reason) = match &e {
            StreamError::Frame(FrameError::LimitExceeded {
                kind: LimitKind::Literal,
                ..
            }) => {
                status = Status::No;
                (Some(ResponseCode::TooBig), "literal too large".to_owned())
            }
            StreamError::Frame(FrameError::LimitExceeded {
                kind: LimitKind::NonSyncLiteral,
                ..
            }) => (Some(ResponseCode::TooBig), "literal too large".to_owned()),
            StreamError::Frame(f) => (Some(ResponseCode::TooBig), f.to_string()),
            StreamError::Decode { error, .. } => (None, format!("syntax error: {error}")),
            _ => (None, "malformed".to_owned()),
        };
        match self.mode {
            Mode::Authenticating { .. } | Mode::Idle { .. } => {
                self.malformed_in_mode(&reason);
            }
            _ => {
                self.events.push_back(Event::Malformed {
                    tag: tag.clone(),
                    reason: reason.clone(),
                });
                self.complete_raw(tag, status, code, &reason);
            }
        }
    }

    /// A line that is neither AUTHENTICATE data nor DONE where one was expected: the
    /// exchange ends with a tagged BAD.
    fn malformed_in_mode(&mut self, reason: &str) {
        match std::mem::replace(&mut self.mode, Mode::Commands) {
            Mode::Authenticating { tag, .. } => {
                self.rx.set_expect(Expect::Command);
                self.complete(&tag, Status::Bad, None, reason);
            }
            Mode::Idle { tag } => {
                self.rx.set_expect(Expect::Command);
                self.timers.stop(Timer::IdleHold);
                self.complete(&tag, Status::Bad, None, "expected DONE");
            }
            other => {
                self.mode = other;
                self.complete_raw(None, Status::Bad, None, reason);
            }
        }
    }

    fn on_command(&mut self, now: Instant, cmd: Command) {
        self.arm_autologout(now);
        let (tag, body) = cmd.into_parts();
        if self.literals.contains(&CmdLiteral::Dropped) {
            self.complete(
                &tag,
                Status::No,
                Some(ResponseCode::TooBig),
                "literal too large",
            );
            return;
        }
        use imapwire_codec::command::State as S;
        let ok = match &self.state {
            State::NotAuthenticated => body.is_valid_in(S::NotAuthenticated),
            State::Authenticated => body.is_valid_in(S::Authenticated),
            State::Selected { .. } => body.is_valid_in(S::Selected),
            State::Logout => false,
        };
        if let CommandBody::Other { name, .. } = &body {
            let msg = format!("unknown command {}", name.as_str());
            self.complete(&tag, Status::Bad, None, &msg);
            return;
        }
        if !ok {
            let t = if self.state == State::NotAuthenticated {
                "not valid before authentication"
            } else if body.is_valid_in(S::NotAuthenticated) {
                "already authenticated"
            } else if body.is_valid_in(S::Selected) && !body.is_valid_in(S::Authenticated) {
                "no mailbox selected"
            } else {
                "not valid in this state"
            };
            let msg = format!("{} {}", body.wire_name(), t);
            self.complete(&tag, Status::Bad, None, &msg);
            return;
        }
        use CommandBody as C;
        match body {
            C::Capability => {
                let caps = self.capabilities();
                self.emit(&Response::Data(Data::Capability(caps)));
                self.complete_with_updates(&tag, false);
            }
            C::Noop | C::Check => self.complete_with_updates(&tag, false),
            C::Id(_) => {
                self.emit(&Response::Data(Data::Id(None)));
                self.complete(&tag, Status::Ok, None, "done");
            }
            C::Logout => {
                self.bye(None, "logging out");
                self.complete(&tag, Status::Ok, None, "done");
                self.state = State::Logout;
                self.close_with(CloseReason::Logout);
            }
            C::StartTls => {
                if self.encrypted || !self.config.starttls {
                    self.complete(&tag, Status::Bad, None, "STARTTLS not available");
                    return;
                }
                self.complete(&tag, Status::Ok, None, "begin TLS negotiation now");
                let rest = self.rx.take_buffered();
                let mut d = BytesMut::new();
                d.extend_from_slice(&rest);
                self.handoff = Some(d);
                self.mode = Mode::HandedOff;
                self.timers.stop_all();
            }
            C::Login { username, password } => {
                if !(self.encrypted || self.config.allow_plaintext_auth) {
                    self.complete(
                        &tag,
                        Status::No,
                        Some(ResponseCode::PrivacyRequired),
                        "LOGIN needs an encrypted connection",
                    );
                    return;
                }
                let user = String::from_utf8_lossy(username.as_bytes()).into_owned();
                let pw = String::from_utf8_lossy(password.expose().as_bytes()).into_owned();
                let ok = auth::verify_password(&self.config, &user, &pw);
                self.finish_auth(now, &tag, ok.then_some(user));
            }
            C::Authenticate {
                mechanism,
                initial_response,
            } => self.start_authenticate(now, tag, mechanism.as_str(), initial_response),
            C::Enable(caps) => self.enable(&tag, caps),
            C::Idle => {
                self.mode = Mode::Idle { tag };
                self.rx.set_expect(Expect::IdleDone);
                self.continuation_text("idling");
                self.timers.stop(Timer::Autologout);
                self.timers.set(Timer::IdleHold, now, self.config.idle_hold);
                self.flush_updates(true);
            }
            C::Unselect => {
                self.deselect();
                self.state = State::Authenticated;
                self.complete(&tag, Status::Ok, None, "done");
            }
            C::Compress(alg) => self.compress(&tag, &alg),
            C::Unauthenticate => {
                // RFC 8437: back to the not-authenticated state; TLS and COMPRESS stay.
                self.deselect();
                self.saved = None;
                self.state = State::NotAuthenticated;
                self.user = None;
                self.condstore = false;
                self.qresync = false;
                self.utf8 = false;
                self.events.push_back(Event::Unauthenticated);
                self.complete(&tag, Status::Ok, None, "unauthenticated");
                self.arm_autologout(now);
            }
            C::Append { mailbox, messages } => self.append(tag, mailbox, messages),
            body => self.send_request(tag, body),
        }
    }

    /// APPEND: the messages as streams (RFC 9051 §6.3.12; RFC 3502 MULTIAPPEND).
    fn append(
        &mut self,
        tag: Tag,
        mailbox: Mailbox,
        messages: Vec<imapwire_codec::command::AppendMessage>,
    ) {
        use imapwire_codec::command::AppendData;
        if self.append_too_big {
            self.complete(
                &tag,
                Status::No,
                Some(ResponseCode::TooBig),
                "message too large",
            );
            return;
        }
        if messages
            .iter()
            .any(|m| !matches!(m.data, AppendData::Literal { .. } | AppendData::Utf8(_)))
        {
            self.complete(
                &tag,
                Status::No,
                Some(ResponseCode::Cannot),
                "CATENATE is not supported",
            );
            return;
        }
        // Each message is a literal, announced in order after the mailbox name's literal if
        // the name was one. A streamed message decodes with empty data: which ones were
        // streamed is what the session did with each announcement, not a guess from the
        // decoded values (a real `{0}` message is empty too).
        let name_ok = match self.literals.len().checked_sub(messages.len()) {
            Some(0) => true,
            Some(1) => self.literals[0] == CmdLiteral::Inline,
            _ => false,
        };
        if !name_ok {
            // The name was streamed, or not one literal per message after at most the name's
            // (not reachable: only CATENATE has other literals). The streams are aborted
            // after the command.
            self.complete(&tag, Status::Bad, None, "APPEND argument too long");
            return;
        }
        let literals = std::mem::take(&mut self.literals);
        let data_literals = &literals[literals.len() - messages.len()..];
        let mut out = Vec::with_capacity(messages.len());
        for (m, lit) in messages.into_iter().zip(data_literals) {
            let (data, binary) = match m.data {
                AppendData::Literal { data, binary } => (data, binary),
                AppendData::Utf8(data) => (data, true),
                _ => continue,
            };
            let (stream, length) = match *lit {
                CmdLiteral::Streamed(stream, length) => (stream, length),
                // (a command with a dropped literal was refused before this)
                CmdLiteral::Inline | CmdLiteral::Dropped => {
                    let stream = AppendStream(self.next_stream);
                    self.next_stream += 1;
                    let length = data.len() as u64;
                    self.queue_chunk(stream, data);
                    (stream, length)
                }
            };
            out.push(AppendedMessage {
                stream,
                length,
                flags: m.flags,
                date: m.date,
                binary,
            });
        }
        let last_uid = matches!(self.state, State::Selected { .. }).then(|| self.view.last_uid());
        self.request(
            tag,
            Request::Append {
                mailbox,
                messages: out,
                last_uid,
            },
            Pending::Other,
        );
    }

    fn send_request(&mut self, tag: Tag, body: CommandBody) {
        use CommandBody as C;
        let read_only = matches!(
            self.state,
            State::Selected {
                read_only: true,
                ..
            }
        );
        let examine = matches!(body, C::Examine { .. });
        let (request, kind) = match body {
            C::Select { mailbox, params } | C::Examine { mailbox, params } => {
                if !self.select_params(&tag, &params) {
                    return;
                }
                (
                    Request::Select {
                        mailbox: mailbox.clone(),
                        read_only: examine,
                        params,
                    },
                    Pending::Select {
                        read_only: examine,
                        mailbox,
                    },
                )
            }
            C::Fetch {
                sequence_set,
                items,
                modifiers,
                uid,
            } => {
                use imapwire_codec::command::FetchModifier as M;
                let changed_since = modifiers.iter().any(|m| matches!(m, M::ChangedSince(_)));
                let vanished_asked = modifiers.contains(&M::Vanished);
                if vanished_asked {
                    // RFC 7162 §3.2.6: UID FETCH only, after ENABLE QRESYNC, with
                    // CHANGEDSINCE; BAD otherwise.
                    let wrong = if !uid {
                        Some("VANISHED is valid with UID FETCH only")
                    } else if !self.qresync {
                        Some("VANISHED needs ENABLE QRESYNC")
                    } else if !changed_since {
                        Some("VANISHED needs CHANGEDSINCE")
                    } else {
                        None
                    };
                    if let Some(t) = wrong {
                        self.complete(&tag, Status::Bad, None, t);
                        return;
                    }
                }
                let names_modseq = fetch_names_modseq(&items);
                if (changed_since || names_modseq) && !self.modseq_command_allowed(&tag) {
                    return;
                }
                let Some(uids) = self.resolve(&tag, &sequence_set, uid) else {
                    return;
                };
                let vanished = vanished_asked.then(|| match sequence_set {
                    SequenceSet::LastResult => {
                        let saved = self.saved.as_deref().unwrap_or_default();
                        match uid_set(saved) {
                            Some(s) => uid_sequence_set(&s),
                            // No saved result: a set of no UID in use.
                            None => SequenceSet::single(std::num::NonZeroU32::MAX),
                        }
                    }
                    set => set,
                });
                // RFC 7162 §3.1.4.1: CHANGEDSINCE implicitly adds the MODSEQ item.
                let items = if changed_since && !names_modseq {
                    with_modseq(items)
                } else {
                    items
                };
                if changed_since || names_modseq {
                    self.condstore_enabling_command();
                }
                (
                    Request::Fetch {
                        uids,
                        items,
                        modifiers,
                        vanished,
                    },
                    Pending::Messages {
                        uid,
                        numbers_in_use: !uid,
                    },
                )
            }
            C::Store {
                sequence_set,
                modifiers,
                kind,
                silent,
                data,
                uid,
            } => {
                if read_only {
                    self.complete(&tag, Status::No, Some(ResponseCode::ReadOnly), "read-only");
                    return;
                }
                let unchanged_since = modifiers.iter().any(|m| {
                    matches!(m, imapwire_codec::command::StoreModifier::UnchangedSince(_))
                });
                if unchanged_since && !self.modseq_command_allowed(&tag) {
                    return;
                }
                let Some(uids) = self.resolve(&tag, &sequence_set, uid) else {
                    return;
                };
                if unchanged_since {
                    self.condstore_enabling_command();
                }
                (
                    Request::Store {
                        uids,
                        kind,
                        silent,
                        data,
                        modifiers,
                    },
                    Pending::Messages {
                        uid,
                        numbers_in_use: !uid,
                    },
                )
            }
            C::Search {
                return_opts,
                charset,
                criteria,
                uid,
            } => {
                let ret = return_opts.map(|mut r| {
                    // `RETURN ()` means `RETURN (ALL)` (RFC 4731 §3.1).
                    if r.is_empty() {
                        r.push(SearchReturnOption::All);
                    }
                    r
                });
                if let Some(r) = &ret {
                    let known = r.iter().all(|o| {
                        matches!(
                            o,
                            SearchReturnOption::Min
                                | SearchReturnOption::Max
                                | SearchReturnOption::All
                                | SearchReturnOption::Count
                                | SearchReturnOption::Save
                        )
                    });
                    if !known {
                        self.complete(&tag, Status::Bad, None, "unsupported SEARCH RETURN option");
                        return;
                    }
                }
                let names_modseq = criteria.iter().any(search_names_modseq);
                if names_modseq {
                    if !self.modseq_command_allowed(&tag) {
                        return;
                    }
                    self.condstore_enabling_command();
                }
                let criteria = self.substitute_saved(criteria);
                (
                    Request::Search {
                        criteria,
                        charset,
                        view: self.view.uids.clone(),
                    },
                    Pending::Search {
                        uid,
                        ret,
                        modseq: names_modseq,
                    },
                )
            }
            C::Copy {
                sequence_set,
                mailbox,
                uid,
            } => {
                let Some(uids) = self.resolve(&tag, &sequence_set, uid) else {
                    return;
                };
                (
                    Request::Copy {
                        uids,
                        mailbox,
                        last_uid: self.view.last_uid(),
                    },
                    Pending::Messages {
                        uid,
                        numbers_in_use: false,
                    },
                )
            }
            C::Move {
                sequence_set,
                mailbox,
                uid,
            } => {
                if read_only {
                    self.complete(&tag, Status::No, Some(ResponseCode::ReadOnly), "read-only");
                    return;
                }
                let Some(uids) = self.resolve(&tag, &sequence_set, uid) else {
                    return;
                };
                (
                    Request::Move {
                        uids,
                        mailbox,
                        last_uid: self.view.last_uid(),
                    },
                    Pending::Move { uid },
                )
            }
            C::Expunge | C::UidExpunge(_) if read_only => {
                self.complete(&tag, Status::No, Some(ResponseCode::ReadOnly), "read-only");
                return;
            }
            C::Expunge => (
                Request::Expunge { uids: None },
                Pending::Messages {
                    uid: false,
                    numbers_in_use: false,
                },
            ),
            C::UidExpunge(set) => {
                let Some(uids) = self.resolve(&tag, &set, true) else {
                    return;
                };
                (
                    Request::Expunge { uids: Some(uids) },
                    Pending::Messages {
                        uid: true,
                        numbers_in_use: false,
                    },
                )
            }
            C::Close => (Request::Close, Pending::Close),
            C::Sort { .. } | C::Thread { .. } | C::CancelUpdate(_) | C::Replace { .. } => {
                self.complete(&tag, Status::Bad, None, "not supported");
                return;
            }
            other => {
                if let C::Status { attributes, .. } = &other {
                    if attributes.contains(&imapwire_codec::status::StatusAttribute::HighestModSeq)
                    {
                        self.condstore_enabling_command();
                    }
                }
                (Request::Command(other), Pending::Other)
            }
        };
        self.request(tag, request, kind);
    }

    /// Hands `request` to the application and waits for its reply.
    fn request(&mut self, tag: Tag, request: Request, kind: Pending) {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        self.timers.stop(Timer::Autologout);
        self.events.push_back(Event::Request {
            id,
            tag: tag.clone(),
            request,
        });
        self.mode = Mode::Waiting { id, tag, kind };
    }

    /// SELECT/EXAMINE parameters: `QRESYNC` is BAD unless QRESYNC was enabled (RFC 7162
    /// §3.2.5): answers BAD and returns `false` then. `CONDSTORE` enables CONDSTORE.
    fn select_params(&mut self, tag: &Tag, params: &[SelectParam]) -> bool {
        let qresync = params
            .iter()
            .any(|p| matches!(p, SelectParam::QResync { .. }));
        if qresync && !self.qresync {
            self.complete(tag, Status::Bad, None, "QRESYNC needs ENABLE QRESYNC");
            return false;
        }
        if params.iter().any(|p| matches!(p, SelectParam::CondStore)) {
            self.condstore = true;
        }
        true
    }

    /// A command that names mod-sequences (FETCH MODSEQ or CHANGEDSINCE, SEARCH MODSEQ,
    /// STORE UNCHANGEDSINCE) on a mailbox without them is BAD (RFC 7162 §3.1.2.2); answers
    /// it and returns `false` then.
    fn modseq_command_allowed(&mut self, tag: &Tag) -> bool {
        if matches!(self.state, State::Selected { .. }) && self.view.modseq.is_none() {
            self.complete(
                tag,
                Status::Bad,
                None,
                "the mailbox keeps no mod-sequences (NOMODSEQ)",
            );
            return false;
        }
        true
    }

    /// A CONDSTORE enabling command (RFC 7162 §3.1): from now on every untagged FETCH
    /// carries MODSEQ. The first one run with a mailbox selected reports the mailbox's
    /// HIGHESTMODSEQ (queued now: before the command's responses).
    fn condstore_enabling_command(&mut self) {
        if self.condstore {
            return;
        }
        self.condstore = true;
        if let (State::Selected { .. }, Some(m)) = (&self.state, self.view.modseq) {
            self.untagged_ok(ResponseCode::HighestModSeq(m), "highest");
        }
    }

    /// The UIDs of the view that `set` names, ascending; BAD (and `None`) for an invalid
    /// sequence number. `$` is the saved search result (RFC 5182; empty when none). The cost
    /// is proportional to the set and the messages it names (binary searches in the view),
    /// not to the mailbox.
    fn resolve(&mut self, tag: &Tag, set: &SequenceSet, uid: bool) -> Option<Vec<u32>> {
        use imapwire_codec::sequence::{SeqOrUid, Sequence};
        let uids = &self.view.uids;
        let seqs = match set {
            SequenceSet::LastResult => {
                let saved = self.saved.as_deref().unwrap_or_default();
                return Some(
                    saved
                        .iter()
                        .copied()
                        .filter(|u| uids.binary_search(u).is_ok())
                        .collect(),
                );
            }
            SequenceSet::Set(seqs) => seqs,
        };
        let n = uids.len() as u32;
        let last = if uid { self.view.last_uid() } else { n };
        let value = |s: &SeqOrUid| match s {
            SeqOrUid::Value(v) => v.get(),
            SeqOrUid::Asterisk => last,
        };
        if !uid {
            let too_big = |s: &SeqOrUid| matches!(s, SeqOrUid::Value(v) if v.get() > n);
            let star_empty = |s: &SeqOrUid| matches!(s, SeqOrUid::Asterisk) && n == 0;
            let bad = seqs.iter().any(|s| match s {
                Sequence::Single(a) => too_big(a) || star_empty(a),
                Sequence::Range(a, b) => {
                    (too_big(a) && too_big(b)) || star_empty(a) || star_empty(b)
                }
            });
            if bad {
                self.complete(tag, Status::Bad, None, "invalid message sequence number");
                return None;
            }
        }
        // Index ranges of the view, merged.
        let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(seqs.len());
        for s in seqs {
            let (a, b) = match s {
                Sequence::Single(a) => (value(a), value(a)),
                Sequence::Range(a, b) => (value(a).min(value(b)), value(a).max(value(b))),
            };
            let (lo, hi) = if uid {
                (
                    uids.partition_point(|&u| u < a),
                    uids.partition_point(|&u| u <= b),
                )
            } else {
                ((a.max(1) - 1) as usize, (b as usize).min(uids.len()))
            };
            if lo < hi {
                ranges.push((lo, hi));
            }
        }
        ranges.sort_unstable();
        let mut out = Vec::new();
        let mut end = 0;
        for (lo, hi) in ranges {
            let lo = lo.max(end);
            if lo < hi {
                out.extend_from_slice(&uids[lo..hi]);
                end = hi;
            }
        }
        Some(out)
    }

    /// Replaces `$` in search keys with the saved result's UIDs (RFC 5182).
    fn substitute_saved(&self, keys: Vec<SearchKey>) -> Vec<SearchKey> {
        fn walk(k: SearchKey, saved: &Option<UidSet>) -> SearchKey {
            let set = || match saved {
                Some(s) => SearchKey::Uid(uid_sequence_set(s)),
                // No saved result: matches nothing.
                None => SearchKey::Not(Box::new(SearchKey::All)),
            };
            match k {
                SearchKey::SequenceSet(SequenceSet::LastResult)
                | SearchKey::Uid(SequenceSet::LastResult) => set(),
                SearchKey::Not(k) => SearchKey::Not(Box::new(walk(*k, saved))),
                SearchKey::Or(k) => {
                    let OrKeys(a, b) = *k;
                    SearchKey::or(walk(a, saved), walk(b, saved))
                }
                SearchKey::And(v) => {
                    SearchKey::And(v.into_iter().map(|k| walk(k, saved)).collect())
                }
                other => other,
            }
        }
        let saved = self
            .saved
            .as_deref()
            .map(|s| {
                s.iter()
                    .copied()
                    .filter(|u| self.view.seq_of(*u).is_some())
                    .collect::<Vec<_>>()
            })
            .and_then(|v| uid_set(&v));
        keys.into_iter().map(|k| walk(k, &saved)).collect()
    }

    /// `* ESEARCH (TAG "t") [UID] ...` for the return options (RFC 4731), saving the result
    /// when asked (RFC 5182).
    fn emit_esearch(
        &mut self,
        tag: &Tag,
        uid_cmd: bool,
        ret: &[SearchReturnOption],
        mut uids: Vec<u32>,
        modseq: Option<u64>,
    ) {
        use imapwire_codec::response::{ESearch, SearchCorrelator, SearchReturnData as D};
        uids.sort_unstable();
        uids.dedup();
        let has = |o: SearchReturnOption| ret.contains(&o);
        if has(SearchReturnOption::Save) {
            // With only MIN and/or MAX, only those are saved (RFC 5182 §2.4).
            let all = has(SearchReturnOption::All) || has(SearchReturnOption::Count);
            let only_minmax =
                !all && (has(SearchReturnOption::Min) || has(SearchReturnOption::Max));
            self.saved = Some(if only_minmax {
                let mut v = Vec::new();
                if has(SearchReturnOption::Min) {
                    v.extend(uids.first());
                }
                if has(SearchReturnOption::Max) {
                    v.extend(uids.last());
                }
                v.dedup();
                v
            } else {
                uids.clone()
            });
            if ret.iter().all(|o| *o == SearchReturnOption::Save) {
                return;
            }
        }
        let nums: Vec<u32> = if uid_cmd {
            uids
        } else {
            let mut v: Vec<u32> = uids
                .iter()
                .filter_map(|&u| self.view.seq_of(u).map(|n| n as u32))
                .collect();
            v.sort_unstable();
            v
        };
        let mut data = Vec::new();
        let nz = std::num::NonZeroU32::new;
        if has(SearchReturnOption::Min) {
            if let Some(m) = nums.first().copied().and_then(nz) {
                data.push(D::Min(m));
            }
        }
        if has(SearchReturnOption::Max) {
            if let Some(m) = nums.last().copied().and_then(nz) {
                data.push(D::Max(m));
            }
        }
        if has(SearchReturnOption::All) {
            if let Some(s) = uid_set(&nums) {
                data.push(D::All(s));
            }
        }
        if has(SearchReturnOption::Count) {
            data.push(D::Count(nums.len() as u32));
        }
        if let (true, Some(m), false) = (self.condstore, modseq, nums.is_empty()) {
            data.push(D::ModSeq(m));
        }
        let correlator = IString::new(Bytes::copy_from_slice(tag.as_bytes()))
            .ok()
            .map(|t| SearchCorrelator {
                tag: t,
                mailbox: None,
            });
        self.emit(&Response::Data(Data::ESearch(ESearch {
            correlator,
            uid: uid_cmd,
            data,
        })));
    }

    /// COMPRESS (RFC 4978): OK in the clear, then everything compressed both ways.
    fn compress(&mut self, tag: &Tag, alg: &imapwire_codec::core::Atom) {
        if self.deflate.is_some() {
            self.complete(
                tag,
                Status::No,
                Some(ResponseCode::CompressionActive),
                "compression is already active",
            );
            return;
        }
        if !alg.as_bytes().eq_ignore_ascii_case(b"DEFLATE") {
            self.complete(tag, Status::Bad, None, "unknown compression algorithm");
            return;
        }
        self.complete(tag, Status::Ok, None, "DEFLATE active");
        self.close_open();
        self.raw_chunks = self.out.len();
        // What followed the command line in the same read is already compressed: inflated
        // by `handle_input` (or `poll_transmit`) next.
        self.deflate = Some(Deflate::with_backlog(self.rx.take_buffered()));
    }

    fn invalid_compressed_data(&mut self, fault: ProtocolFault) {
        self.bye(None, "invalid compressed data");
        self.close_with(CloseReason::Protocol(fault));
    }

    fn deselect(&mut self) {
        self.view = View::default();
        self.saved = None;
    }

    fn apply_reply(&mut self, tag: Tag, kind: Pending, reply: Reply) {
        let esearch = match &kind {
            Pending::Search { ret, .. } => ret.clone(),
            _ => None,
        };
        let search_modseq = matches!(kind, Pending::Search { modseq: true, .. });
        let (uid_cmd, numbers_in_use) = match &kind {
            Pending::Messages {
                uid,
                numbers_in_use,
            } => (*uid, *numbers_in_use),
            Pending::Search { uid, .. } => (*uid, !*uid),
            Pending::Move { uid } => (*uid, false),
            _ => (false, false),
        };
        // UIDPLUS is offered only through the configured extensions (see `capabilities`).
        let uidplus = self.config.extensions.contains(&Capability::UidPlus);
        // Only the replies of commands run with a mailbox selected (and not closing it)
        // report new messages of it.
        let takes_new = matches!(self.state, State::Selected { .. })
            && !matches!(kind, Pending::Select { .. } | Pending::Close);
        let s = Sending {
            tag,
            kind,
            ctx: ReplyCtx {
                copyuid: None,
                modified: Vec::new(),
                selected: None,
                esearch,
                search_modseq,
                uid_cmd,
                numbers_in_use,
                uidplus,
                takes_new,
            },
            data: reply.data.into(),
            status: reply.status,
            code: reply.code,
            text: reply.text,
            body: VecDeque::new(),
            current: None,
        };
        self.send_reply(Box::new(s));
    }

    /// Sends the reply's data in order; stops at a streamed literal that is not complete
    /// (keeping the reply as [`Mode::Sending`]), else completes the command.
    fn send_reply(&mut self, mut s: Box<Sending>) {
        loop {
            if self.is_closed() {
                return;
            }
            if let Some(l) = &s.current {
                if l.sent < l.promised {
                    self.mode = Mode::Sending(s);
                    self.want_body();
                    return;
                }
                s.current = None;
            }
            if let Some(seg) = s.body.pop_front() {
                match seg {
                    Segment::Raw(b) => self.queue_out(b),
                    Segment::Literal(stream, 0) => {
                        // Complete already: never asked for, so released here.
                        self.events.push_back(Event::BodyDropped { stream });
                    }
                    Segment::Literal(stream, promised) => {
                        s.current = Some(BodyLiteral {
                            stream,
                            promised,
                            sent: 0,
                            asked: None,
                        })
                    }
                }
                continue;
            }
            let Some(d) = s.data.pop_front() else {
                break;
            };
            self.reply_data(&mut s, d);
        }
        self.finish_reply(*s);
    }

    /// Asks the application for more of the streamed literal in progress when none is
    /// asked for and the output queue has room.
    fn want_body(&mut self) {
        let room = self.out_len <= self.config.max_output;
        let chunk = self.config.body_chunk.max(1) as u64;
        let Mode::Sending(s) = &mut self.mode else {
            return;
        };
        let Some(l) = s.current.as_mut() else {
            return;
        };
        if l.asked.is_some() || !room || l.sent >= l.promised {
            return;
        }
        let max = (l.promised - l.sent).min(chunk) as usize;
        l.asked = Some(max);
        self.events.push_back(Event::BodyWanted {
            stream: l.stream,
            max,
        });
    }

    fn queue_out(&mut self, b: Bytes) {
        if self.is_closed() || b.is_empty() {
            return;
        }
        self.close_open();
        self.out_len += b.len();
        self.out.push_back(b);
    }

    /// Moves the responses gathered in `open` to the end of `out`.
    fn close_open(&mut self) {
        if !self.open.is_empty() {
            self.out
                .push_back(Bytes::from(std::mem::take(&mut self.open)));
        }
    }

    /// Sends one piece of a reply (or, for a FETCH response with streamed literals, queues
    /// its pieces in `s.body`).
    fn reply_data(&mut self, s: &mut Sending, d: ReplyData) {
        let c = &s.ctx;
        match d {
            ReplyData::Data(d) => self.emit(&Response::Data(d)),
            ReplyData::Message { uid, items } => {
                // After a CONDSTORE enabling command, a FETCH response that carries
                // MODSEQ (a STORE's, or a FETCH of MODSEQ) carries the UID too
                // (RFC 7162 §3.2.4).
                let with_uid = c.uid_cmd
                    || (self.condstore
                        && items
                            .iter()
                            .any(|i| matches!(i, MessageDataItem::ModSeq(_))));
                self.emit_message(uid, items, with_uid);
            }
            ReplyData::StreamedMessage { uid, parts } => {
                let with_uid = c.uid_cmd
                    || (self.condstore
                        && parts
                            .iter()
                            .any(|p| matches!(p, FetchPart::Item(MessageDataItem::ModSeq(_)))));
                self.emit_streamed(s, uid, parts, with_uid);
            }
            ReplyData::Expunged(uid) => self.emit_expunge(uid),
            ReplyData::Matches { uids, modseq } if c.esearch.is_some() => {
                let modseq = modseq.filter(|_| c.search_modseq);
                self.emit_esearch(
                    &s.tag,
                    c.uid_cmd,
                    c.esearch.as_deref().unwrap_or_default(),
                    uids,
                    modseq,
                );
            }
            ReplyData::Matches { uids, modseq } => {
                let ids = if c.uid_cmd {
                    uids.iter()
                        .filter_map(|&u| std::num::NonZeroU32::new(u))
                        .collect()
                } else {
                    uids.iter()
                        .filter_map(|&u| self.view.seq_of(u))
                        .filter_map(|n| std::num::NonZeroU32::new(n as u32))
                        .collect()
                };
                let modseq = modseq.filter(|_| c.search_modseq && self.condstore);
                self.emit(&Response::Data(Data::Search { ids, modseq }));
            }
            ReplyData::Copied {
                uid_validity,
                source,
                target,
            } if matches!(s.kind, Pending::Move { .. }) => {
                // RFC 6851 §4.3: COPYUID in an untagged OK before the expunges (the
                // tagged OK is left for HIGHESTMODSEQ, §4.4).
                if let (true, Ok(v), Some(s), Some(t)) = (
                    c.uidplus,
                    UidValidity::new(uid_validity),
                    uid_set(&source),
                    uid_set(&target),
                ) {
                    self.untagged_ok(
                        ResponseCode::CopyUid {
                            uid_validity: v,
                            source: s,
                            destination: t,
                        },
                        "moved",
                    );
                }
            }
            ReplyData::Copied {
                uid_validity,
                source,
                target,
            } => s.ctx.copyuid = Some((uid_validity, source, target)),
            ReplyData::NewMessages(mut uids) if c.takes_new => {
                // Before the completion (RFC 9051 §6.3.12: the client learns of an
                // APPEND into the selected mailbox before the tagged OK). UIDs the view
                // already has (a notification came first) are skipped, and so is the
                // notification of these messages when it comes later.
                uids.sort_unstable();
                let mut grew = false;
                for u in uids {
                    if u > self.view.last_uid() {
                        self.view.uids.push(u);
                        grew = true;
                    }
                }
                if grew {
                    self.emit_exists();
                }
            }
            ReplyData::NewMessages(_) => {}
            ReplyData::Modified(u) => s.ctx.modified.extend(u),
            ReplyData::Selected(sel) => s.ctx.selected = Some(sel),
        }
    }

    /// Completes the command of a reply whose data were all sent.
    fn finish_reply(&mut self, s: Sending) {
        let Sending {
            tag,
            kind,
            ctx:
                ReplyCtx {
                    copyuid,
                    modified,
                    selected,
                    uid_cmd,
                    numbers_in_use,
                    uidplus,
                    ..
                },
            status,
            code,
            text,
            ..
        } = s;
        let mut code = code;
        if let (Some((v, s, t)), Status::Ok, None) = (&copyuid, status, &code) {
            if let (Some(v), Some(s), Some(t)) = (UidValidity::new(*v).ok(), uid_set(s), uid_set(t))
            {
                code = Some(ResponseCode::CopyUid {
                    uid_validity: v,
                    source: s,
                    destination: t,
                });
            }
        }
        if !modified.is_empty() && code.is_none() {
            let set: Vec<u32> = if uid_cmd {
                modified
            } else {
                modified
                    .iter()
                    .filter_map(|&u| self.view.seq_of(u).map(|n| n as u32))
                    .collect()
            };
            if let Some(s) = uid_set(&set) {
                code = seq_set_code(&s);
            }
        }
        if let Some(ResponseCode::HighestModSeq(m)) = code {
            // EXPUNGE's and MOVE's tagged OK carry the new HIGHESTMODSEQ once QRESYNC is
            // enabled (RFC 7162 §3.2.7, RFC 6851 §4.4; optional with CONDSTORE alone),
            // CLOSE's never (RFC 7162 §3.2.8), and
            // a session that issued no CONDSTORE enabling command gets none.
            if self.condstore && !matches!(kind, Pending::Close) {
                self.view.saw_modseq(m);
            } else {
                code = None;
            }
        }
        if matches!(
            code,
            Some(ResponseCode::AppendUid { .. } | ResponseCode::CopyUid { .. })
        ) && !uidplus
        {
            // A response code of an extension the client was not offered is not sent
            // (RFC 9051 §7.1; APPENDUID and COPYUID are RFC 4315 UIDPLUS's).
            code = None;
        }
        match kind {
            Pending::Select { read_only, mailbox } => {
                let was_selected = matches!(self.state, State::Selected { .. });
                self.deselect();
                if was_selected {
                    self.emit(&Response::Status(StatusResponse::Untagged {
                        status: Status::Ok,
                        text: resp_text(Some(ResponseCode::Closed), "previous mailbox closed"),
                    }));
                }
                match (status, selected) {
                    (Status::Ok, Some(s)) => {
                        let ro = read_only || s.read_only;
                        self.emit_selected(&s);
                        self.view.modseq = s.highest_modseq;
                        let mut uids = s.uids;
                        uids.sort_unstable();
                        uids.dedup();
                        self.view.uids = uids;
                        if self.qresync {
                            self.emit_resync(s.vanished, s.changed);
                        }
                        self.state = State::Selected {
                            mailbox,
                            read_only: ro,
                        };
                        let c = if ro {
                            ResponseCode::ReadOnly
                        } else {
                            ResponseCode::ReadWrite
                        };
                        self.complete(&tag, Status::Ok, Some(c), &text);
                    }
                    (Status::Ok, None) => {
                        self.state = State::Authenticated;
                        self.complete(
                            &tag,
                            Status::No,
                            Some(ResponseCode::ServerBug),
                            "backend gave no mailbox",
                        );
                    }
                    (st, _) => {
                        self.state = State::Authenticated;
                        self.complete(&tag, st, code, &text);
                    }
                }
            }
            Pending::Close => {
                if status == Status::Ok {
                    self.deselect();
                    self.state = State::Authenticated;
                }
                self.complete(&tag, status, code, &text);
            }
            _ => {
                if matches!(self.state, State::Selected { .. }) {
                    self.flush_updates(!numbers_in_use);
                }
                self.complete(&tag, status, code, &text);
            }
        }
    }

    fn emit_selected(&mut self, s: &Selected) {
        let n = s.uids.len() as u32;
        self.emit(&Response::Data(Data::Flags(s.flags.clone())));
        self.emit(&Response::Data(Data::Exists(n)));
        if !s.permanent_flags.is_empty() {
            self.untagged_ok(
                ResponseCode::PermanentFlags(s.permanent_flags.clone()),
                "flags permitted",
            );
        }
        if let Ok(v) = UidValidity::new(s.uid_validity) {
            self.untagged_ok(ResponseCode::UidValidity(v), "UIDs valid");
        }
        if let Ok(u) = Uid::new(s.uid_next.max(1)) {
            self.untagged_ok(ResponseCode::UidNext(u), "predicted next UID");
        }
        match (self.condstore, s.highest_modseq) {
            (true, Some(m)) => self.untagged_ok(ResponseCode::HighestModSeq(m), "highest"),
            (true, None) => self.untagged_ok(ResponseCode::NoModSeq, "no mod-sequences"),
            _ => {}
        }
    }

    /// QRESYNC select (RFC 7162 §3.2.5.1): `VANISHED (EARLIER)` then the changed messages.
    fn emit_resync(&mut self, vanished: Option<UidSet>, changed: Vec<(u32, Vec<Flag>, u64)>) {
        if let Some(uids) = vanished {
            self.emit(&Response::Data(Data::Vanished {
                earlier: true,
                uids,
            }));
        }
        for (uid, flags, modseq) in changed {
            let mut items = vec![MessageDataItem::Flags(
                flags
                    .into_iter()
                    .map(FlagFetch::Flag)
                    .collect::<Vec<_>>()
                    .into(),
            )];
            items.push(MessageDataItem::ModSeq(modseq));
            self.emit_message(uid, items, true);
        }
    }

    fn untagged_ok(&mut self, code: ResponseCode, t: &str) {
        self.emit(&Response::Status(StatusResponse::Untagged {
            status: Status::Ok,
            text: resp_text(Some(code), t),
        }));
    }

    /// Sends `* n FETCH (items)` for message `uid`, with `UID` first if `with_uid` and the
    /// items have none.
    fn emit_message(&mut self, uid: u32, mut items: Vec<MessageDataItem>, with_uid: bool) {
        let Some(seq) = self.view.seq_of(uid) else {
            return;
        };
        let Ok(seq) = SeqNum::new(seq as u32) else {
            return;
        };
        if with_uid && !items.iter().any(|i| matches!(i, MessageDataItem::Uid(_))) {
            if let Ok(u) = Uid::new(uid) {
                items.insert(0, MessageDataItem::Uid(u));
            }
        }
        for i in &items {
            if let MessageDataItem::ModSeq(m) = i {
                self.view.saw_modseq(*m);
            }
        }
        if !self.condstore {
            items.retain(|i| !matches!(i, MessageDataItem::ModSeq(_)));
        }
        if items.is_empty() {
            return;
        }
        self.emit(&Response::Data(Data::Fetch {
            seq,
            items: items.into(),
        }));
    }

    /// Queues the pieces of `* n FETCH (parts)` in `s.body`: the text up to each streamed
    /// literal's `{length}\r\n`, the literal (asked for by [`Event::BodyWanted`]), the text
    /// after it. A message the session does not know is dropped with its streams.
    fn emit_streamed(
        &mut self,
        s: &mut Sending,
        uid: u32,
        mut parts: Vec<FetchPart>,
        with_uid: bool,
    ) {
        let seq = self
            .view
            .seq_of(uid)
            .and_then(|n| SeqNum::new(n as u32).ok());
        let Some(seq) = seq.filter(|_| !self.is_closed()) else {
            for p in parts {
                if let FetchPart::Streamed(i) = p {
                    self.events
                        .push_back(Event::BodyDropped { stream: i.stream });
                }
            }
            return;
        };
        if with_uid
            && !parts
                .iter()
                .any(|p| matches!(p, FetchPart::Item(MessageDataItem::Uid(_))))
        {
            if let Ok(u) = Uid::new(uid) {
                parts.insert(0, FetchPart::Item(MessageDataItem::Uid(u)));
            }
        }
        for p in &parts {
            if let FetchPart::Item(MessageDataItem::ModSeq(m)) = p {
                self.view.saw_modseq(*m);
            }
        }
        if !self.condstore {
            parts.retain(|p| !matches!(p, FetchPart::Item(MessageDataItem::ModSeq(_))));
        }
        parts.retain(|p| !matches!(p, FetchPart::Item(MessageDataItem::Invalid { .. })));
        if parts.is_empty() {
            // `msg-att` has at least one item (as in `emit_message`).
            return;
        }
        let mut line = BytesMut::with_capacity(128);
        line.extend_from_slice(format!("* {seq} FETCH (").as_bytes());
        for (i, p) in parts.into_iter().enumerate() {
            if i > 0 {
                line.extend_from_slice(b" ");
            }
            let mut b = EncodeBuf::with_options(EncodeOptions::default());
            match p {
                FetchPart::Item(item) => {
                    item.encode(&mut b);
                    line.extend_from_slice(&b.out);
                }
                FetchPart::Streamed(item) => {
                    let binary = matches!(item.name, StreamedName::Binary { .. });
                    streamed_name_item(item.name, None).encode(&mut b);
                    // The item with a NIL value: its name and the space before the value.
                    let head = b.out.strip_suffix(b"NIL").unwrap_or(&b.out);
                    line.extend_from_slice(head);
                    let lit = if binary { "~{" } else { "{" };
                    line.extend_from_slice(format!("{lit}{}}}\r\n", item.length).as_bytes());
                    s.body.push_back(Segment::Raw(line.split().freeze()));
                    s.body.push_back(Segment::Literal(item.stream, item.length));
                }
            }
        }
        line.extend_from_slice(b")\r\n");
        s.body.push_back(Segment::Raw(line.freeze()));
    }

    fn emit_expunge(&mut self, uid: u32) {
        let Some(seq) = self.view.seq_of(uid) else {
            return;
        };
        self.view.uids.remove(seq - 1);
        // VANISHED for mailboxes with mod-sequences only (RFC 7162 §3.2.3).
        if self.qresync && self.view.modseq.is_some() {
            if let Some(s) = uid_set(&[uid]) {
                self.emit(&Response::Data(Data::Vanished {
                    earlier: false,
                    uids: s,
                }));
            }
        } else if let Ok(n) = SeqNum::new(seq as u32) {
            self.emit(&Response::Data(Data::Expunge(n)));
        }
    }

    /// Sends queued updates; expunges only when `expunge_ok`, else they stay queued. Other
    /// updates may overtake a held expunge: the view still holds the message, so every
    /// sequence number sent is the one the client has.
    fn flush_updates(&mut self, expunge_ok: bool) {
        let mut new_messages = false;
        let mut held = VecDeque::new();
        while let Some(u) = self.view.pending.pop_front() {
            match u {
                Update::Expunged { uid } if !expunge_ok => {
                    held.push_back(Update::Expunged { uid });
                }
                Update::Expunged { uid } => self.emit_expunge(uid),
                Update::Exists { uid } => {
                    if uid > self.view.last_uid() {
                        self.view.uids.push(uid);
                        new_messages = true;
                    }
                }
                Update::Flags { uid, flags, modseq } => {
                    let mut items = vec![MessageDataItem::Flags(
                        flags
                            .into_iter()
                            .map(FlagFetch::Flag)
                            .collect::<Vec<_>>()
                            .into(),
                    )];
                    if let Some(m) = modseq {
                        items.push(MessageDataItem::ModSeq(m));
                    }
                    if new_messages {
                        self.emit_exists();
                        new_messages = false;
                    }
                    // RFC 7162 §3.2.4: once a CONDSTORE enabling command was issued, every
                    // untagged FETCH caused by a STORE or an external agent includes both
                    // UID and mod-sequence (CONDSTORE-only servers SHOULD, §3.1.4.2).
                    self.emit_message(uid, items, self.condstore);
                }
            }
        }
        if new_messages {
            self.emit_exists();
        }
        self.view.pending = held;
    }

    fn emit_exists(&mut self) {
        let n = self.view.uids.len() as u32;
        self.emit(&Response::Data(Data::Exists(n)));
    }

    fn enable(&mut self, tag: &Tag, caps: Vec<Capability>) {
        if matches!(self.state, State::Selected { .. }) {
            self.complete(
                tag,
                Status::Bad,
                None,
                "ENABLE is valid in the authenticated state only",
            );
            return;
        }
        let offered = self.capabilities();
        let mut enabled = Vec::new();
        for c in caps {
            let ok = match &c {
                Capability::CondStore => offered.contains(&c),
                Capability::QResync => offered.contains(&c),
                Capability::Utf8Accept => offered.contains(&c),
                Capability::Imap4Rev2 => true,
                _ => false,
            };
            if ok && !enabled.contains(&c) {
                match c {
                    Capability::CondStore => self.condstore = true,
                    Capability::QResync => {
                        self.qresync = true;
                        self.condstore = true;
                    }
                    Capability::Utf8Accept => self.utf8 = true,
                    _ => {}
                }
                enabled.push(c);
            }
        }
        self.emit(&Response::Data(Data::Enabled(enabled)));
        self.complete(tag, Status::Ok, None, "done");
    }

    fn on_idle_done(&mut self, now: Instant) {
        let Mode::Idle { tag } = std::mem::replace(&mut self.mode, Mode::Commands) else {
            return;
        };
        self.rx.set_expect(Expect::Command);
        self.timers.stop(Timer::IdleHold);
        self.flush_updates(true);
        self.complete(&tag, Status::Ok, None, "IDLE terminated");
        self.arm_autologout(now);
    }

    fn start_authenticate(
        &mut self,
        now: Instant,
        tag: Tag,
        mechanism: &str,
        ir: Option<imapwire_codec::core::Secret<Bytes>>,
    ) {
        let offered = self.capabilities();
        let binding = self.channel_binding();
        let ex = match auth::AuthExchange::new(mechanism, &offered, &self.config, binding) {
            Ok(ex) => ex,
            Err((code, t)) => {
                self.complete(&tag, Status::No, code, t);
                return;
            }
        };
        let mut ex = Box::new(ex);
        let step = ex.start(&self.config, ir.as_ref().map(|s| s.expose().as_ref()));
        self.auth_step(now, tag, ex, step);
    }

    fn auth_step(&mut self, now: Instant, tag: Tag, ex: Box<AuthExchange>, step: AuthStep) {
        match step {
            AuthStep::Challenge(c) => {
                self.emit(&Response::Continuation(Continuation::Base64(c)));
                self.rx.set_expect(Expect::AuthenticateData);
                self.mode = Mode::Authenticating { tag, ex };
            }
            AuthStep::Success(user) => {
                self.rx.set_expect(Expect::Command);
                self.finish_auth(now, &tag, Some(user));
            }
            AuthStep::Failure => {
                self.rx.set_expect(Expect::Command);
                self.finish_auth(now, &tag, None);
            }
            AuthStep::Malformed(reason) => {
                self.rx.set_expect(Expect::Command);
                self.complete(&tag, Status::Bad, None, reason);
            }
        }
    }

    fn on_auth_data(&mut self, now: Instant, data: AuthenticateData) {
        let Mode::Authenticating { tag, mut ex } =
            std::mem::replace(&mut self.mode, Mode::Commands)
        else {
            return;
        };
        match data {
            AuthenticateData::Cancel => {
                self.rx.set_expect(Expect::Command);
                self.complete(&tag, Status::Bad, None, "authentication cancelled");
            }
            AuthenticateData::Continue(d) => {
                let step = ex.respond(&self.config, d.expose());
                self.auth_step(now, tag, ex, step);
            }
        }
    }

    fn finish_auth(&mut self, now: Instant, tag: &Tag, user: Option<String>) {
        match user {
            Some(user) => {
                self.state = State::Authenticated;
                self.user = Some(user.clone());
                self.events.push_back(Event::Authenticated { user });
                let caps = self.capabilities();
                self.complete(
                    tag,
                    Status::Ok,
                    Some(ResponseCode::Capability(caps)),
                    "authenticated",
                );
                self.arm_autologout(now);
            }
            None => {
                self.auth_failures += 1;
                if self.auth_failures >= self.config.max_auth_failures {
                    self.bye(None, "too many failed authentication attempts");
                    self.close_with(CloseReason::TooManyAuthFailures);
                } else {
                    self.complete(
                        tag,
                        Status::No,
                        Some(ResponseCode::AuthenticationFailed),
                        "authentication failed",
                    );
                }
            }
        }
    }

    fn arm_autologout(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        let d = if self.state == State::NotAuthenticated {
            self.config.autologout_unauthenticated
        } else {
            self.config.autologout.max(MIN_AUTOLOGOUT)
        };
        self.timers.set(Timer::Autologout, now, d);
    }

    // ---- output helpers ----

    fn emit<M: Encode>(&mut self, m: &M) {
        if self.is_closed() {
            return;
        }
        // Appended to `open` (up to 16 KiB, then a new piece); `poll_transmit` sends a
        // piece of that size without copying it again.
        if self.open.len() >= 16 * 1024 {
            self.close_open();
        }
        let before = self.open.len();
        let mut b = EncodeBuf {
            out: std::mem::take(&mut self.open),
            ..EncodeBuf::with_options(EncodeOptions::default())
        };
        if before == 0 {
            // Room for a few dozen small responses before the first reallocation.
            b.out.reserve(4096);
        }
        m.encode(&mut b);
        self.out_len += b.out.len() - before;
        self.open = b.out;
    }

    fn continuation_text(&mut self, t: &str) {
        let c = Continuation::Text(imapwire_codec::response::ContinuationText::new(resp_text(
            None, t,
        )));
        self.emit(&Response::Continuation(c));
    }

    fn complete_with_updates(&mut self, tag: &Tag, numbers_in_use: bool) {
        if matches!(self.state, State::Selected { .. }) {
            self.flush_updates(!numbers_in_use);
        }
        self.complete(tag, Status::Ok, None, "done");
    }

    fn complete(&mut self, tag: &Tag, status: Status, code: Option<ResponseCode>, t: &str) {
        self.emit(&Response::Status(StatusResponse::Tagged {
            tag: tag.clone(),
            status,
            text: resp_text(code, t),
        }));
    }

    fn complete_raw(
        &mut self,
        tag: Option<Tag>,
        status: Status,
        code: Option<ResponseCode>,
        t: &str,
    ) {
        match tag {
            Some(tag) => self.complete(&tag, status, code, t),
            None => self.emit(&Response::Status(StatusResponse::Untagged {
                status,
                text: resp_text(code, t),
            })),
        }
    }

    /// Queues `* BYE`, except while a streamed FETCH literal is being sent: its length was
    /// sent, so the client would read the BYE as literal data (the session then ends after
    /// the octets sent so far, as with [`Server::body_failed`]).
    fn bye(&mut self, code: Option<ResponseCode>, t: &str) {
        if matches!(self.mode, Mode::Sending(_)) {
            return;
        }
        self.emit(&Response::Status(StatusResponse::Bye(resp_text(code, t))));
    }

    fn close_with(&mut self, reason: CloseReason) {
        if self.is_closed() {
            return;
        }
        self.flush_handoff();
        self.abort_appends();
        if let Mode::Sending(s) = std::mem::replace(&mut self.mode, Mode::Closed) {
            // Streams that will not be asked for any more.
            let mut dropped: Vec<BodyStream> = s.current.iter().map(|l| l.stream).collect();
            for seg in &s.body {
                if let Segment::Literal(b, _) = seg {
                    dropped.push(*b);
                }
            }
            for d in &s.data {
                if let ReplyData::StreamedMessage { parts, .. } = d {
                    for p in parts {
                        if let FetchPart::Streamed(i) = p {
                            dropped.push(i.stream);
                        }
                    }
                }
            }
            for stream in dropped {
                self.events.push_back(Event::BodyDropped { stream });
            }
        }
        self.mode = Mode::Closed;
        self.state = State::Logout;
        self.timers.stop_all();
        self.events.push_back(Event::Closed(reason));
    }

    fn flush_handoff(&mut self) {
        if let Some(d) = self.handoff.take() {
            self.events.push_back(Event::HandOff(HandOff::StartTls {
                discarded: d.freeze(),
            }));
        }
    }
}

/// The FETCH item `name` with the value `data`, NIL for `None` (the session encodes a NIL
/// one for its name; a store answers a short value whole with it).
fn streamed_name_item(name: StreamedName, data: Option<Bytes>) -> MessageDataItem {
    let string = |d: Option<Bytes>| d.and_then(|d| IString::new(d).ok());
    match name {
        StreamedName::Rfc822 => MessageDataItem::Rfc822(string(data)),
        StreamedName::Rfc822Text => MessageDataItem::Rfc822Text(string(data)),
        StreamedName::BodySection { section, origin } => MessageDataItem::BodySection {
            section: section.map(Box::new),
            origin,
            data: string(data),
        },
        StreamedName::Binary { section, origin } => MessageDataItem::Binary {
            section: section.map(Box::new),
            origin,
            data,
        },
    }
}

/// The FETCH items name MODSEQ (a CONDSTORE enabling command, RFC 7162 §3.1).
fn fetch_names_modseq(items: &imapwire_codec::fetch::FetchItems) -> bool {
    use imapwire_codec::fetch::{FetchAttribute, FetchItems};
    matches!(items, FetchItems::Attributes(a) if a.as_slice().contains(&FetchAttribute::ModSeq))
}

/// `items` with MODSEQ added (CHANGEDSINCE implies it, RFC 7162 §3.1.4.1); a macro becomes
/// its attributes.
fn with_modseq(items: imapwire_codec::fetch::FetchItems) -> imapwire_codec::fetch::FetchItems {
    use imapwire_codec::fetch::{FetchAttribute as A, FetchAttributes, FetchItems};
    let mut v = match items {
        FetchItems::Attributes(a) => a.into_vec(),
        FetchItems::Fast => vec![A::Flags, A::InternalDate, A::Rfc822Size],
        FetchItems::All => vec![A::Flags, A::InternalDate, A::Rfc822Size, A::Envelope],
        // FULL, and any macro a later codec adds (the memory store answers those as FULL).
        _ => vec![
            A::Flags,
            A::InternalDate,
            A::Rfc822Size,
            A::Envelope,
            A::Body,
        ],
    };
    if !v.contains(&A::ModSeq) {
        v.push(A::ModSeq);
    }
    match FetchAttributes::new(v) {
        Ok(a) => FetchItems::Attributes(a),
        // Not reachable: the list holds MODSEQ at least.
        Err(_) => FetchItems::Attributes(A::ModSeq.into()),
    }
}

/// A search key names MODSEQ, at any depth (a CONDSTORE enabling command, RFC 7162 §3.1).
fn search_names_modseq(k: &SearchKey) -> bool {
    match k {
        SearchKey::ModSeq { .. } => true,
        SearchKey::Not(k) => search_names_modseq(k),
        SearchKey::Or(k) => search_names_modseq(&k.0) || search_names_modseq(&k.1),
        SearchKey::And(v) => v.iter().any(search_names_modseq),
        _ => false,
    }
}

/// A UID set as a sequence set (for `UID` search keys).
fn uid_sequence_set(set: &UidSet) -> SequenceSet {
    use imapwire_codec::sequence::{SeqOrUid, Sequence};
    let seqs = set
        .ranges()
        .iter()
        .map(|r| {
            if r.start() == r.end() {
                Sequence::Single(SeqOrUid::Value(r.start()))
            } else {
                Sequence::Range(SeqOrUid::Value(r.start()), SeqOrUid::Value(r.end()))
            }
        })
        .collect();
    SequenceSet::new(seqs).unwrap_or(SequenceSet::LastResult)
}

/// The tag at the start of a (partial) command, if valid.
/// Whether the literal `a` is its command's first argument (`tag SP name SP {`).
fn is_first_argument(a: &LiteralAnnouncement) -> bool {
    match (&a.tag, &a.command) {
        (Some(t), Some(c)) => a.offset == t.len() + 1 + c.len() + 1,
        _ => false,
    }
}

fn recover_tag(msg: &[u8]) -> Option<Tag> {
    let end = msg.iter().position(|&c| c == b' ')?;
    Tag::new(Bytes::copy_from_slice(&msg[..end])).ok()
}

/// `MODIFIED` with the numbers of `set`.
fn seq_set_code(set: &UidSet) -> Option<ResponseCode> {
    Some(ResponseCode::Modified(uid_sequence_set(set)))
}

impl Inflating for Server {
    fn inflater(&mut self) -> Option<&mut Deflate> {
        self.deflate.as_mut()
    }

    fn takes_input(&self) -> bool {
        !self.blocked() && self.held_input() < self.config.input_window
    }

    fn holds_events(&self) -> bool {
        !self.events.is_empty()
    }

    fn inflate_window(&self) -> usize {
        self.config.event_window
    }

    fn take_piece(&mut self, piece: &[u8]) {
        self.rx.push(piece);
        let now = self.now;
        self.process_inner(now);
    }

    fn inflate_failed(&mut self, detail: String) {
        // The details are not sent to the client (a library's words): they are kept in the
        // close reason and logged.
        let offset = self.deflate.as_ref().map_or(0, Deflate::compressed_in);
        let fault = ProtocolFault::Inflate { detail, offset };
        #[cfg(feature = "tracing")]
        tracing::debug!(%fault, "closing");
        self.invalid_compressed_data(fault);
    }
}
