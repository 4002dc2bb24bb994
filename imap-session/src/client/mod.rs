//! The sans-IO IMAP client (RFC 9051 §3 states, §5.5 pipelining, §6 commands, §7 responses).
//!
//! A [`Client`] is one connection's protocol state. It reads no socket and no clock: the
//! caller feeds it received bytes and the current time, and takes out bytes to send, events
//! and the next deadline.
//!
//! # Calling contract
//!
//! The four kinds of methods (after quinn-proto):
//!
//! - **inputs**: [`handle_input`](Client::handle_input) (received bytes; or
//!   [`handle_input_buf`](Client::handle_input_buf) with the caller's read buffer, taken
//!   without a copy, or [`handle_input_lent`](Client::handle_input_lent), which also lends a
//!   streamed body's data to a closure instead of queuing it as events; or the room lane:
//!   [`read_room`](Client::read_room) lends the session's own receive buffer to read into,
//!   [`handle_input_room`](Client::handle_input_room) or
//!   [`handle_input_room_lent`](Client::handle_input_room_lent) takes it back with the read,
//!   so that no message is copied to be contiguous),
//!   [`handle_eof`](Client::handle_eof) (the peer closed), [`handle_timeout`](Client::handle_timeout)
//!   (a deadline passed; a spurious call is a no-op);
//! - **commands**: [`submit`](Client::submit) and the dedicated methods
//!   ([`login`](Client::login), [`idle`](Client::idle), [`starttls`](Client::starttls), ...);
//! - **outputs**: [`poll_transmit`](Client::poll_transmit) (bytes to write),
//!   [`poll_event`](Client::poll_event), [`poll_timeout`](Client::poll_timeout);
//! - **getters**: [`state`](Client::state), [`capabilities`](Client::capabilities), ...
//!
//! After any input or command, call `poll_transmit` until it returns `None` and write what it
//! returns, in order; then drain `poll_event`; then arm one timer at `poll_timeout()` and call
//! `handle_timeout(now)` when it fires. Times passed in must not go backwards.
//!
//! Every submitted command is completed exactly once, by an [`Event::Completed`]: with the
//! server's tagged response, or with a typed local error ([`CommandError::Refused`],
//! [`CommandError::ConnectionLost`], [`CommandError::TimedOut`]). A connection that ends while
//! commands are pending completes each of them with `ConnectionLost` before
//! [`Event::Closed`]; never as a success.
//!
//! # Pipelining (RFC 9051 §5.5)
//!
//! Up to [`PipelineRules::max_in_flight`](crate::pipeline::PipelineRules) commands are sent
//! without waiting. Nothing is sent past a synchronizing literal waiting for `+`, nor past a
//! command that changes the connection state (LOGIN, AUTHENTICATE, SELECT, EXAMINE, CLOSE,
//! UNSELECT, ENABLE, STARTTLS, COMPRESS, LOGOUT) or IDLE until it completes; a command that
//! uses sequence numbers waits while a command during which the server may expunge is in
//! flight (the rules are data: [`crate::pipeline`]). Commands after a state change are checked
//! against the state it leaves, when they are about to be sent.
//!
//! # Hand-offs
//!
//! STARTTLS: on the tagged OK the session emits [`Event::HandOff`] and stops reading and
//! writing; bytes that arrived after the OK line are an injection attempt and close the
//! session ([`CloseReason::StartTlsInjection`]). After the TLS handshake, call
//! [`transport_upgraded`](Client::transport_upgraded): the capabilities are forgotten and asked
//! again. COMPRESS=DEFLATE needs nothing from the caller: after the OK, the session inflates
//! what it receives (bytes already received after the OK line included) and deflates what it
//! sends, with a sync flush at the end of every transmit. Input is inflated in pieces of at
//! most 16 KiB, each decoded before the next is inflated, and inflating stops once the queued
//! events hold [`ClientConfig::inflate_window`] bytes of it: [`handle_input`](Client::handle_input)
//! then returns how much of its input it took (offer the rest again after draining
//! [`poll_event`](Client::poll_event), which also inflates what the session kept back), so a
//! small compressed read never becomes a large buffer and bodies are streamed as with plain
//! input.
//!
//! # Timers
//!
//! Greeting timeout; response timeout (the oldest command in flight with no byte received for
//! [`ClientConfig::response_timeout`]); keep-alive NOOP after [`ClientConfig::keepalive`] of
//! silence; IDLE refresh. A dead connection is reported within `response_timeout` while a
//! command is in flight, within `keepalive + response_timeout` otherwise, and within
//! `idle_refresh + response_timeout` during IDLE.
//!
//! # Tracing
//!
//! With the feature `tracing`, every command has a span `imap_command` (debug level) from
//! submission to completion, with the fields `id`, `command` (its name), `internal` (issued
//! by the session itself) and `tag` (recorded when it is sent), and debug events "command
//! started" and "command completed" (`ok`, and the error's kind) inside it. Arguments,
//! responses and SASL data are never recorded: they may hold passwords and tokens.
//!
//! # Passwords
//!
//! App passwords are passwords: use [`login`](Client::login) like any other. LOGIN is refused
//! on a connection not declared encrypted unless
//! [`ClientConfig::allow_plaintext_login`] is set, and always under `LOGINDISABLED`.

mod config;
mod event;
mod profile_apply;
mod rules;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use imapwire_codec::capability::{Capability, CapabilitySet};
use imapwire_codec::codec::{AnyMessage, Decoded, Expect, Receiver, StreamError, StreamEvent};
use imapwire_codec::command::{Command, CommandBody, StateSet};
use imapwire_codec::core::{AString, Atom, Secret, Tag};
use imapwire_codec::framer::{FramerConfig, LiteralMode};
use imapwire_codec::response::{
    Continuation, Data, Greeting, GreetingKind, ListItem, Response, ResponseCode, ResponseText,
    Status, StatusResponse,
};
use imapwire_codec::{DecodeOptions, Encode, EncodeBuf, EncodeOptions, Fragment};

pub use self::config::{ClientConfig, ReceivedTap, TagStyle};
pub use self::event::{
    CloseReason, CommandError, CommandId, Completion, Event, HandOff, MailboxEvent, Malformed,
    ProtocolError,
};
pub use self::rules::State;

use self::rules::{Rule, rule};
use crate::compress::{self, Deflate, Inflating};
use crate::mailbox::SeqMap;
use crate::pipeline::CommandClass;
use crate::profile::ServerProfile;
use crate::sasl::{ClientMechanism, SaslError};
use crate::tag::TagGenerator;
use crate::timer::{Timer, TimerTable};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

/// Literal payloads at least this long are handed out by [`Client::poll_transmit`] as they
/// are (no copy); shorter ones are gathered with the command lines.
const GATHER_MAX: usize = 16 * 1024;

fn memchr_nul(b: &[u8]) -> bool {
    b.contains(&0)
}

/// One entry of the event queue: an event, or a message the receiver decoded in place
/// ([`Receiver::next_into`]); only untagged data stays queued in that form.
#[derive(Debug)]
enum Queued {
    Ev(Event),
    Rx(Option<StreamEvent<AnyMessage>>),
}

/// The pattern of a [`Queued::Rx`] entry that holds untagged data, binding the [`Data`] to
/// `$d`: the one test of "is this queued entry an event" ([`EventQueue::skip_stale`],
/// [`EventQueue::front_data`] and [`EventQueue::pop_front`] use it).
macro_rules! rx_data {
    ($d:pat) => {
        Queued::Rx(Some(StreamEvent::Message(Decoded {
            message: AnyMessage::Response(Response::Data($d)),
            ..
        })))
    };
}

/// The events not yet taken by [`Client::poll_event`].
#[derive(Debug, Default)]
struct EventQueue {
    q: VecDeque<Queued>,
}

impl EventQueue {
    fn push_back(&mut self, e: Event) {
        self.q.push_back(Queued::Ev(e));
    }

    fn len(&self) -> usize {
        self.q.len()
    }

    fn is_empty(&self) -> bool {
        self.q.is_empty()
    }

    /// A new last entry for the receiver to decode into.
    fn slot(&mut self) -> &mut Option<StreamEvent<AnyMessage>> {
        self.q.push_back(Queued::Rx(None));
        match self.q.back_mut() {
            Some(Queued::Rx(slot)) => slot,
            // just pushed
            _ => unreachable!(),
        }
    }

    /// Removes the last entry, an empty [`slot`](Self::slot).
    fn drop_slot(&mut self) {
        self.q.pop_back();
    }

    /// Removes the last entry, a filled [`slot`](Self::slot), and returns what it holds.
    fn take_slot(&mut self) -> Option<StreamEvent<AnyMessage>> {
        match self.q.pop_back() {
            Some(Queued::Rx(ev)) => ev,
            Some(other) => {
                self.q.push_back(other);
                None
            }
            None => None,
        }
    }

    /// Removes the entries at the head that are no event ([`pop_front`](Self::pop_front)
    /// skips them too).
    fn skip_stale(&mut self) {
        while let Some(q @ Queued::Rx(_)) = self.q.front() {
            if matches!(q, rx_data!(_)) {
                return;
            }
            self.q.pop_front();
        }
    }

    /// The untagged data at the head of the queue, where it was decoded.
    fn front_data(&mut self) -> Option<&mut Data> {
        self.skip_stale();
        match self.q.front_mut()? {
            rx_data!(d) => Some(d),
            Queued::Ev(Event::Data(d)) => Some(d),
            _ => None,
        }
    }

    /// Drops the head of the queue where it lies (no move out of the queue).
    fn drop_front(&mut self) {
        self.skip_stale();
        self.q.drain(..self.q.len().min(1));
    }

    fn pop_front(&mut self) -> Option<Event> {
        loop {
            match self.q.pop_front()? {
                Queued::Ev(e) => return Some(e),
                rx_data!(d) => return Some(Event::Data(d)),
                // Only untagged data stays queued as decoded.
                Queued::Rx(_) => {}
            }
        }
    }
}

/// The kind of a command error, for a `tracing` field.
#[cfg(feature = "tracing")]
fn error_kind(e: &CommandError) -> &'static str {
    match e {
        CommandError::No { .. } => "NO",
        CommandError::Bad { .. } => "BAD",
        CommandError::Refused(_) => "refused",
        CommandError::Auth(_) => "authentication failed",
        CommandError::AuthRejected { .. } => "authentication refused",
        CommandError::ConnectionLost => "connection lost",
        CommandError::TimedOut => "timed out",
    }
}

/// The session's part of a LIST response: the hierarchy delimiter it names.
fn note_list(delimiter: &mut Option<u8>, item: &ListItem) {
    if let Some(d) = item.delimiter.map(|d| d.get()) {
        *delimiter = Some(d);
    }
}

/// Notes the UID of a FETCH response in the selected mailbox's map; returns the
/// contradiction it finds, if any.
#[inline]
fn note_fetch(
    selected: &mut Option<Selected>,
    seq: imapwire_codec::sequence::SeqNum,
    items: &[imapwire_codec::fetch::MessageDataItem],
) -> Option<crate::mailbox::SeqMapError> {
    let sel = selected.as_mut()?;
    let Some(uid) = items.iter().find_map(|it| match it {
        imapwire_codec::fetch::MessageDataItem::Uid(u) => Some(*u),
        _ => None,
    }) else {
        // Without a UID there is nothing to record, but a message that does not exist is
        // still a protocol error (with a UID, `set_uid` says so).
        let len = sel.map.len();
        return (seq.get() > len).then_some(crate::mailbox::SeqMapError::NoSuchMessage {
            seq: seq.get(),
            len,
        });
    };
    sel.map.set_uid(seq, uid).err()
}

/// Why a command was not accepted (caller misuse, or a policy of the session).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// The session has ended.
    #[error("the session is closed")]
    Closed,
    /// The command is not valid in the connection's state (RFC 9051 §3).
    #[error("{command} is not valid in state {state:?}")]
    InvalidState {
        /// The command name.
        command: String,
        /// The state it would have been sent in.
        state: State,
    },
    /// The server does not advertise a capability the command needs.
    #[error("the server does not offer {0:?}")]
    NotAdvertised(Capability),
    /// A password would cross a connection that is not encrypted, and plaintext login was
    /// not allowed.
    #[error("refusing to send a password over an unencrypted connection")]
    PlaintextForbidden,
    /// The server advertises LOGINDISABLED.
    #[error("the server disabled LOGIN (LOGINDISABLED)")]
    LoginDisabled,
    /// The command has a dedicated method (AUTHENTICATE, IDLE, STARTTLS, COMPRESS, LOGIN,
    /// APPEND with a streamed body).
    #[error("use the dedicated method for {0}")]
    UseDedicatedMethod(&'static str),
    /// The command is invalid as built.
    #[error("invalid command: {0}")]
    Invalid(String),
    /// Too many commands pending ([`ClientConfig::max_commands`]).
    #[error("too many commands pending")]
    TooManyCommands,
    /// No IDLE with this id is running.
    #[error("no IDLE {0} is running")]
    NotIdling(CommandId),
    /// No streamed APPEND with this id wants data, or the chunk is longer than announced.
    #[error("APPEND {0} does not take this chunk")]
    UnexpectedChunk(CommandId),
    /// A tag could not be made.
    #[error("tag: {0}")]
    Tag(String),
    /// No offered SASL mechanism fits the credentials and the connection (or the
    /// capabilities are not known yet).
    #[error("no offered authentication mechanism fits the credentials")]
    NoMechanism,
    /// The server profile says this server mishandles the command (see
    /// [`crate::profile`]); it was not sent.
    #[error("not sent to this server: {0}")]
    AvoidedByProfile(String),
    /// The data needs a literal8 (it holds NUL bytes) and the server does not offer BINARY.
    #[error("binary data needs the BINARY extension")]
    BinaryNotOffered,
}

/// The body of an APPEND.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AppendBody {
    /// The whole message (sent as it is, never copied into another buffer).
    Bytes(Bytes),
    /// A message of known length supplied in pieces with [`Client::append_chunk`] when the
    /// session asks ([`Event::AppendDataWanted`]).
    Stream {
        /// Total length in octets.
        len: u64,
    },
}

/// Outgoing bytes (they may hold passwords and SASL responses: `Debug` shows lengths only).
enum Part {
    Line(Bytes),
    /// A literal payload; `wait`: a `+` must arrive first.
    Literal {
        data: Bytes,
        wait: bool,
    },
    /// A streamed literal: `remaining` bytes to come from the caller.
    Stream {
        remaining: u64,
        wait: bool,
        asked: bool,
    },
    /// Chunks of a streamed literal supplied by the caller, ready to send.
    Chunk(Bytes),
}

impl std::fmt::Debug for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::Line(b) => write!(f, "Line({} bytes)", b.len()),
            Part::Literal { data, wait } => f
                .debug_struct("Literal")
                .field("len", &data.len())
                .field("wait", wait)
                .finish(),
            Part::Stream {
                remaining,
                wait,
                asked,
            } => f
                .debug_struct("Stream")
                .field("remaining", remaining)
                .field("wait", wait)
                .field("asked", asked)
                .finish(),
            Part::Chunk(b) => write!(f, "Chunk({} bytes)", b.len()),
        }
    }
}

/// Bytes ready to be handed out by [`Client::poll_transmit`] (`Debug` shows lengths only:
/// they may hold secrets).
#[derive(Default)]
struct Outgoing(VecDeque<Bytes>);

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|b| b.len()))
            .finish()
    }
}

/// A SASL mechanism in use by an AUTHENTICATE command.
struct Mech {
    m: Box<dyn ClientMechanism>,
    /// The first error of the exchange on our side (the exchange was cancelled with `*`).
    failed: Option<SaslError>,
    /// The caller asked to cancel.
    cancel: bool,
}

impl std::fmt::Debug for Mech {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mech")
            .field("mechanism", &self.m.mechanism())
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
enum Kind {
    Plain,
    Login,
    Authenticate(Box<Mech>),
    Select {
        read_only: bool,
    },
    Deselect,
    Logout,
    StartTls,
    Compress,
    Capability,
    Idle(IdlePhase),
    /// Polling with NOOP because IDLE is not offered (never sent itself).
    IdlePoll,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdlePhase {
    /// `IDLE` sent (or to be sent), waiting for `+`.
    Starting,
    /// Idling.
    Running,
    /// `DONE` sent for a refresh; IDLE is issued again after the tagged OK.
    Refreshing,
    /// `DONE` sent on request; the tagged OK completes the command.
    Ending,
}

#[derive(Debug)]
struct Cmd {
    id: CommandId,
    /// Session-issued (CAPABILITY, keep-alive NOOP): completion is not reported.
    internal: bool,
    name: &'static str,
    kind: Kind,
    rule: Rule,
    /// The command to encode when it starts (tags are given at that point).
    body: Option<CommandBody>,
    /// Extra parts after the encoded command (APPEND's body).
    tail: Vec<Part>,
    tag: Option<Tag>,
    parts: VecDeque<Part>,
    sent_at: Option<Instant>,
    /// IDLE: [`Event::IdleStarted`] was emitted.
    idle_announced: bool,
    /// IDLE: the `+` for the current issuance arrived.
    plus: bool,
    /// The command's span (feature `tracing`), open from submission until the command is
    /// completed: fields `id`, `command` (its name), `internal`, `tag` (recorded when the
    /// command starts; a refreshed IDLE records its new tag). Never arguments.
    #[cfg(feature = "tracing")]
    span: tracing::Span,
}

impl Cmd {
    fn started(&self) -> bool {
        self.tag.is_some()
    }

    /// Waits for a `+`: a synchronizing literal after its announcement, or IDLE.
    fn wants_continuation(&self) -> bool {
        if !self.started() {
            return false;
        }
        if let Kind::Idle(_) = self.kind {
            return self.parts.is_empty() && !self.plus;
        }
        if let Kind::Authenticate(_) = self.kind {
            return self.parts.is_empty();
        }
        matches!(
            self.parts.front(),
            Some(Part::Literal { wait: true, .. } | Part::Stream { wait: true, .. })
        )
    }
}

#[derive(Debug, Default)]
struct Selected {
    map: SeqMap,
    uidvalidity: Option<u32>,
    uidnext: Option<u32>,
    highestmodseq: Option<u64>,
    nomodseq: bool,
    read_only: bool,
    flags: Vec<imapwire_codec::flag::Flag>,
    permanent_flags: Option<Vec<imapwire_codec::flag::FlagPerm>>,
}

/// The mailbox selected on the connection, as the server has reported it.
#[derive(Debug)]
pub struct MailboxView<'a> {
    sel: &'a Selected,
}

impl MailboxView<'_> {
    /// Messages in the mailbox (`EXISTS`, less expunges since).
    pub fn exists(&self) -> u32 {
        self.sel.map.len()
    }
    /// `UIDVALIDITY`, when the server sent it.
    pub fn uidvalidity(&self) -> Option<u32> {
        self.sel.uidvalidity
    }
    /// `UIDNEXT`, when the server sent it.
    pub fn uidnext(&self) -> Option<u32> {
        self.sel.uidnext
    }
    /// `HIGHESTMODSEQ` (RFC 7162 §3.1.2.1), when the server sent one that means something:
    /// `None` when it was not sent, after `[NOMODSEQ]`, and for 0 (unknown, never a position
    /// to resynchronise from).
    pub fn highestmodseq(&self) -> Option<u64> {
        self.sel
            .highestmodseq
            .filter(|&m| m > 0 && !self.sel.nomodseq)
    }
    /// The server said `[NOMODSEQ]`: the mailbox keeps no mod-sequences.
    pub fn nomodseq(&self) -> bool {
        self.sel.nomodseq
    }
    /// Selected with EXAMINE or reported `[READ-ONLY]` (a later `[READ-WRITE]` clears it).
    pub fn read_only(&self) -> bool {
        self.sel.read_only
    }
    /// The flags defined in the mailbox (`* FLAGS`, RFC 9051 §7.3.5).
    pub fn flags(&self) -> &[imapwire_codec::flag::Flag] {
        &self.sel.flags
    }
    /// `[PERMANENTFLAGS]`: the flags that can be changed permanently (`\*`: new keywords
    /// too); `None` when the server did not say (then all flags of [`flags`](Self::flags)
    /// are, RFC 9051 §7.1).
    pub fn permanent_flags(&self) -> Option<&[imapwire_codec::flag::FlagPerm]> {
        self.sel.permanent_flags.as_deref()
    }
    /// The sequence-number/UID map.
    pub fn map(&self) -> &SeqMap {
        &self.sel.map
    }
}

/// One IMAP client connection; see the [module documentation](self).
#[derive(Debug)]
pub struct Client {
    cfg: ClientConfig,
    state: State,
    /// Why the session closed, once it has (also reported as [`Event::Closed`]); `Some` is
    /// the session being closed.
    close_reason: Option<CloseReason>,
    handoff: Option<HandOff>,
    caps: Option<CapabilitySet>,
    enabled: Vec<Capability>,
    encrypted: bool,
    deflate: Option<Deflate>,
    tags: TagGenerator,
    timers: TimerTable,
    cmds: VecDeque<Cmd>,
    next_id: u64,
    events: EventQueue,
    rx: Receiver,
    /// With a received tap: the bytes given to `rx` that the tap has not had yet, which are
    /// the receiver's unconsumed tail (the tap gets bytes once consumed, so a compressed rest
    /// taken back after COMPRESS never reaches it as if it were plaintext).
    tap_pending: Vec<u8>,
    /// Transmitted bytes not yet handed out (after compression when active).
    pending_out: Outgoing,
    now: Instant,
    last_rx: Instant,
    bye: Option<ResponseText>,
    selected: Option<Selected>,
    /// Messages decoded (each exactly once; tests check it).
    decoded: u64,
    /// Decoding stopped at a full event queue; [`Client::poll_event`] resumes it.
    held_back: bool,
    /// An AUTHENTICATE was submitted and has not completed (a cheap first test for the
    /// decoder's SASL context).
    authenticating: bool,
    profile: ServerProfile,
    /// The caller chose the profile: no detection.
    profile_fixed: bool,
    greeting_text: String,
    /// The hierarchy delimiter from LIST responses.
    delimiter: Option<u8>,
}

impl Client {
    /// A client on a connection that was just opened at `now`: it waits for the greeting.
    pub fn new(config: ClientConfig, now: Instant) -> Result<Self, SubmitError> {
        let tags = match &config.tags {
            TagStyle::Sequential(p) => TagGenerator::sequential(p),
            TagStyle::Unpredictable(n) => TagGenerator::unpredictable(*n),
        }
        .map_err(|e| SubmitError::Tag(e.to_string()))?;
        let mut timers = TimerTable::new();
        timers.set(Timer::Greeting, now, config.greeting_timeout);
        // UTF-8 in quoted strings only once the server enabled it (UTF8=ACCEPT or IMAP4rev2);
        // before that the lenient profile still reads 8-bit text, with a warning.
        let mut opts = DecodeOptions::lenient();
        opts.utf8 = false;
        // Framer settings added later keep their defaults here.
        let fc = FramerConfig::default()
            .with_limits(config.limits)
            // Client side: the server never waits for a `+` before literal data.
            .with_await_sync_literals(false)
            .with_stream_literals_over(config.stream_bodies_over)
            // the session has nothing to decide on a buffered literal: no announcements
            .with_quiet_literals(true);
        let rx = Receiver::new(fc, opts, Expect::Greeting);
        Ok(Client {
            encrypted: config.encrypted,
            cfg: config,
            state: State::Greeting,
            close_reason: None,
            handoff: None,
            caps: None,
            enabled: Vec::new(),
            deflate: None,
            tags,
            timers,
            cmds: VecDeque::new(),
            next_id: 1,
            events: EventQueue::default(),
            rx,
            tap_pending: Vec::new(),
            pending_out: Outgoing::default(),
            now,
            last_rx: now,
            bye: None,
            selected: None,
            decoded: 0,
            held_back: false,
            authenticating: false,
            profile: ServerProfile::standard(),
            profile_fixed: false,
            greeting_text: String::new(),
            delimiter: None,
        })
    }

    // ---- getters ----

    /// The connection state (RFC 9051 §3).
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.close_reason.is_some()
    }

    /// Why the session ended, once it has: the reason [`Event::Closed`] carries. It is set
    /// before the commands still pending complete (their [`Event::Completed`] events come
    /// before [`Event::Closed`]), so an adapter can tell a lost connection from one the
    /// session closed because of the server's protocol violation while it handles them.
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.close_reason.as_ref()
    }

    /// The server's capabilities, when known.
    pub fn capabilities(&self) -> Option<&CapabilitySet> {
        self.caps.as_ref()
    }

    /// Whether the server offers `cap`, advertised or implied ([`CapabilitySet::has`]);
    /// false while the capabilities are unknown.
    pub fn has(&self, cap: &Capability) -> bool {
        self.caps.as_ref().is_some_and(|c| c.has(cap))
    }

    /// What the server confirmed with `* ENABLED`.
    pub fn enabled(&self) -> &[Capability] {
        &self.enabled
    }

    /// Whether the connection is encrypted (declared at creation or after STARTTLS).
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// Whether COMPRESS=DEFLATE is active.
    pub fn is_compressed(&self) -> bool {
        self.deflate.is_some()
    }

    /// The server profile in force: detected from the greeting, the capabilities and
    /// [`ClientConfig::host`], or set by [`set_profile`](Self::set_profile).
    pub fn profile(&self) -> &ServerProfile {
        &self.profile
    }

    /// Overrides the server profile (no detection from then on).
    pub fn set_profile(&mut self, profile: ServerProfile) {
        self.profile = profile;
        self.profile_fixed = true;
    }

    /// The selected mailbox.
    pub fn mailbox(&self) -> Option<MailboxView<'_>> {
        self.selected.as_ref().map(|sel| MailboxView { sel })
    }

    /// How many messages were decoded so far (each message is parsed exactly once).
    pub fn messages_decoded(&self) -> u64 {
        self.decoded
    }

    /// How many times the parser ran on received bytes
    /// ([`Receiver::parses`](imapwire_codec::codec::Receiver::parses)): once per message,
    /// however its bytes arrived ([`Event::BodyBegin`]'s FETCH context is read only when the
    /// caller asks for it).
    pub fn parser_invocations(&self) -> u64 {
        self.rx.parses()
    }

    /// Events queued and not yet taken with [`poll_event`](Self::poll_event). Decoding stops
    /// at [`ClientConfig::max_events`]; one message adds at most two events, and the end of
    /// the session one completion per pending command and [`Event::Closed`].
    pub fn queued_events(&self) -> usize {
        self.events.len()
    }

    /// Received bytes not yet decoded: at most one input handed to
    /// [`handle_input`](Self::handle_input) while events were below the bound (under
    /// COMPRESS: less than [`ClientConfig::inflate_window`] plus one 16 KiB piece of inflated
    /// input), plus the unfinished message (bounded by [`ClientConfig::limits`]).
    pub fn buffered_input(&self) -> usize {
        self.rx.buffered()
    }

    // ---- commands ----

    /// Submits a command. Refuses at once what is invalid now; what depends on capabilities
    /// not known yet, or on the state a pending command leaves, is checked when the command
    /// is about to be sent and refused then with [`CommandError::Refused`].
    pub fn submit(&mut self, now: Instant, body: CommandBody) -> Result<CommandId, SubmitError> {
        self.now = now;
        use CommandBody as C;
        let dedicated = match &body {
            C::Authenticate { .. } => Some("AUTHENTICATE"),
            C::Idle => Some("IDLE"),
            C::StartTls => Some("STARTTLS"),
            C::Compress(_) => Some("COMPRESS"),
            C::Login { .. } => Some("LOGIN"),
            _ => None,
        };
        if let Some(d) = dedicated {
            return Err(SubmitError::UseDedicatedMethod(d));
        }
        let kind = match &body {
            C::Select { .. } => Kind::Select { read_only: false },
            C::Examine { .. } => Kind::Select { read_only: true },
            C::Close | C::Unselect => Kind::Deselect,
            C::Logout => Kind::Logout,
            C::Capability => Kind::Capability,
            _ => Kind::Plain,
        };
        self.enqueue(body, kind, false, Vec::new())
    }

    /// `LOGIN user password` (RFC 9051 §6.2.3). Refused over an unencrypted connection unless
    /// allowed, and under LOGINDISABLED.
    pub fn login(
        &mut self,
        now: Instant,
        user: &str,
        password: Secret<Bytes>,
    ) -> Result<CommandId, SubmitError> {
        self.now = now;
        if !self.encrypted && !self.cfg.allow_plaintext_login {
            return Err(SubmitError::PlaintextForbidden);
        }
        if self.has(&Capability::LoginDisabled) {
            return Err(SubmitError::LoginDisabled);
        }
        let username = AString::new(Bytes::copy_from_slice(user.as_bytes()))
            .map_err(|e| SubmitError::Invalid(e.to_string()))?;
        let password = Secret::new(
            AString::new(password.expose().clone())
                .map_err(|e| SubmitError::Invalid(e.to_string()))?,
        );
        let body = CommandBody::Login { username, password };
        self.enqueue(body, Kind::Login, false, Vec::new())
    }

    /// `STARTTLS` (RFC 9051 §6.2.1): fails (refused, never sent) when the server does not
    /// offer it; on success [`Event::HandOff`] asks for the TLS handshake.
    pub fn starttls(&mut self, now: Instant) -> Result<CommandId, SubmitError> {
        self.now = now;
        if self.encrypted {
            return Err(SubmitError::InvalidState {
                command: "STARTTLS".into(),
                state: self.state,
            });
        }
        self.enqueue(CommandBody::StartTls, Kind::StartTls, false, Vec::new())
    }

    /// Call when the TLS handshake that [`Event::HandOff`] asked for has completed: the
    /// session resumes, forgets the capabilities and asks for them again (RFC 9051 §6.2.1).
    pub fn transport_upgraded(&mut self, now: Instant) {
        self.now = now;
        if self.handoff.take().is_some() {
            self.encrypted = true;
            self.caps = None;
            self.last_rx = now;
            self.request_capabilities();
            self.update_timers();
        }
    }

    /// `COMPRESS DEFLATE` (RFC 4978).
    pub fn compress(&mut self, now: Instant) -> Result<CommandId, SubmitError> {
        self.now = now;
        let atom = Atom::new(Bytes::from_static(b"DEFLATE"))
            .map_err(|e| SubmitError::Invalid(e.to_string()))?;
        self.enqueue(
            CommandBody::Compress(atom),
            Kind::Compress,
            false,
            Vec::new(),
        )
    }

    /// `IDLE` (RFC 2177 / RFC 9051 §6.3.13), refreshed by the session before
    /// [`ClientConfig::idle_refresh`]; without the IDLE capability, polls with NOOP at
    /// [`ClientConfig::noop_poll_interval`]. Ends with [`idle_done`](Self::idle_done).
    pub fn idle(&mut self, now: Instant) -> Result<CommandId, SubmitError> {
        self.now = now;
        if self.caps.is_some() && !self.has(&Capability::Idle) {
            let r = rule(&CommandBody::Noop);
            // What every submission is checked for (closed, too many commands), then the
            // state IDLE needs.
            self.check_submit("IDLE", &r)?;
            if !rules::allows(StateSet::AUTHENTICATED, self.projected_state()) {
                return Err(SubmitError::InvalidState {
                    command: "IDLE".into(),
                    state: self.projected_state(),
                });
            }
            let id = self.push_cmd("IDLE", Kind::IdlePoll, r, None, Vec::new(), false);
            self.timers
                .set(Timer::KeepAlive, now, self.cfg.noop_poll_interval);
            self.events.push_back(Event::IdleStarted { id });
            return Ok(id);
        }
        self.enqueue(
            CommandBody::Idle,
            Kind::Idle(IdlePhase::Starting),
            false,
            Vec::new(),
        )
    }

    /// Ends the IDLE `id` (sends `DONE`); its tagged OK completes it.
    pub fn idle_done(&mut self, now: Instant, id: CommandId) -> Result<(), SubmitError> {
        self.now = now;
        let Some(i) = self.cmds.iter().position(|c| c.id == id) else {
            return Err(SubmitError::NotIdling(id));
        };
        match self.cmds[i].kind {
            Kind::Idle(IdlePhase::Running) => {
                let c = &mut self.cmds[i];
                c.kind = Kind::Idle(IdlePhase::Ending);
                c.parts
                    .push_back(Part::Line(Bytes::from_static(b"DONE\r\n")));
                c.sent_at = Some(now);
                self.timers.stop(Timer::IdleRefresh);
                self.update_timers();
                Ok(())
            }
            Kind::Idle(IdlePhase::Refreshing) | Kind::Idle(IdlePhase::Starting) => {
                // Ends when the refresh completes, or with a DONE right after the `+`.
                self.cmds[i].kind = Kind::Idle(IdlePhase::Ending);
                Ok(())
            }
            Kind::IdlePoll => {
                let Some(c) = self.cmds.remove(i) else {
                    return Err(SubmitError::NotIdling(id));
                };
                self.timers.stop(Timer::KeepAlive);
                self.complete(
                    c,
                    Ok(Completion {
                        code: None,
                        text: Default::default(),
                    }),
                );
                self.update_timers();
                Ok(())
            }
            _ => Err(SubmitError::NotIdling(id)),
        }
    }

    /// `APPEND mailbox [flags] [date] literal` with a body that is never copied: a whole
    /// [`Bytes`], or chunks supplied with [`append_chunk`](Self::append_chunk).
    pub fn append(
        &mut self,
        now: Instant,
        mailbox: imapwire_codec::mailbox::Mailbox,
        flags: Vec<imapwire_codec::flag::Flag>,
        date: Option<imapwire_codec::datetime::DateTime>,
        body: AppendBody,
    ) -> Result<CommandId, SubmitError> {
        self.now = now;
        // The command line is encoded when the command starts; its literal announcement is
        // written here by hand, so that the body itself is never copied.
        let len = match &body {
            AppendBody::Bytes(b) => b.len() as u64,
            AppendBody::Stream { len } => *len,
        };
        let mut head = EncodeBuf::with_options(self.encode_options());
        head.out.extend_from_slice(b" APPEND ");
        mailbox.encode(&mut head);
        if !flags.is_empty() || self.profile.append_always_flag_list {
            head.out.extend_from_slice(b" (");
            for (i, f) in flags.iter().enumerate() {
                if i > 0 {
                    head.out.push(b' ');
                }
                f.encode(&mut head);
            }
            head.out.push(b')');
        }
        if let Some(d) = &date {
            head.out.push(b' ');
            d.encode(&mut head);
        }
        // NUL bytes need literal8 (RFC 3516 §4.3, RFC 9051 §4.3.1): only with BINARY.
        let binary = matches!(&body, AppendBody::Bytes(b) if memchr_nul(b));
        if binary && !self.has(&Capability::Binary) {
            return Err(SubmitError::BinaryNotOffered);
        }
        let sync = !self.literal_nonsync_allowed(len);
        head.out.extend_from_slice(
            format!(
                " {}{{{len}{}}}\r\n",
                if binary { "~" } else { "" },
                if sync { "" } else { "+" }
            )
            .as_bytes(),
        );
        if !head.literals.is_empty() {
            // The mailbox itself needed a literal: use the general encoder instead.
            return Err(SubmitError::Invalid(
                "mailbox names that need a literal are not supported by streamed APPEND".into(),
            ));
        }
        let tail = vec![
            Part::Line(Bytes::from(head.out)),
            match body {
                AppendBody::Bytes(data) => Part::Literal { data, wait: sync },
                AppendBody::Stream { len } => Part::Stream {
                    remaining: len,
                    wait: sync,
                    asked: false,
                },
            },
            Part::Line(Bytes::from_static(b"\r\n")),
        ];
        let r = Rule {
            valid: StateSet::AUTHENTICATED,
            needs: None,
            class: CommandClass::ORDINARY,
            changes_state: false,
        };
        self.check_submit("APPEND", &r)?;
        let id = self.push_cmd("APPEND", Kind::Plain, r, None, tail, false);
        self.update_timers();
        Ok(id)
    }

    /// The next piece of the streamed APPEND `id` (after [`Event::AppendDataWanted`]).
    pub fn append_chunk(&mut self, id: CommandId, chunk: Bytes) -> Result<(), SubmitError> {
        let Some(c) = self.cmds.iter_mut().find(|c| c.id == id) else {
            return Err(SubmitError::UnexpectedChunk(id));
        };
        let Some(pos) = c
            .parts
            .iter()
            .position(|p| matches!(p, Part::Stream { .. }))
        else {
            return Err(SubmitError::UnexpectedChunk(id));
        };
        let Part::Stream {
            remaining, asked, ..
        } = &mut c.parts[pos]
        else {
            return Err(SubmitError::UnexpectedChunk(id));
        };
        if chunk.len() as u64 > *remaining {
            return Err(SubmitError::UnexpectedChunk(id));
        }
        *remaining -= chunk.len() as u64;
        *asked = false;
        let done = *remaining == 0;
        c.parts.insert(pos, Part::Chunk(chunk));
        if done {
            c.parts.remove(pos + 1);
        }
        Ok(())
    }

    /// `AUTHENTICATE` with a SASL mechanism from [`crate::sasl`] (RFC 9051 §6.2.2). The
    /// initial response is sent with the command when the server offers SASL-IR (RFC 4959).
    /// Mechanisms that expose the password or token (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER) are
    /// refused over a connection that is not encrypted unless
    /// [`ClientConfig::allow_plaintext_login`]. On the tagged OK the mechanism must have
    /// authenticated the server too (SCRAM's `v=`); if not, the command fails with
    /// [`CommandError::Auth`] and the session closes.
    pub fn authenticate(
        &mut self,
        now: Instant,
        mechanism: Box<dyn ClientMechanism>,
    ) -> Result<CommandId, SubmitError> {
        self.now = now;
        let mech = mechanism.mechanism();
        if mech.exposes_secret() && !self.encrypted && !self.cfg.allow_plaintext_login {
            return Err(SubmitError::PlaintextForbidden);
        }
        let r = Rule {
            valid: StateSet::NOT_AUTHENTICATED,
            needs: Some(Capability::Auth(
                imapwire_codec::capability::AuthMechanism::from_atom(
                    Atom::new(Bytes::from_static(mech.name().as_bytes()))
                        .map_err(|e| SubmitError::Invalid(e.to_string()))?,
                ),
            )),
            class: CommandClass::BARRIER,
            changes_state: true,
        };
        self.check_submit("AUTHENTICATE", &r)?;
        self.authenticating = true;
        let kind = Kind::Authenticate(Box::new(Mech {
            m: mechanism,
            failed: None,
            cancel: false,
        }));
        let id = self.push_cmd("AUTHENTICATE", kind, r, None, Vec::new(), false);
        self.update_timers();
        Ok(id)
    }

    /// AUTHENTICATE with the strongest mechanism the server offers that `creds` allow
    /// ([`crate::sasl::choose`]: SCRAM-SHA-256(-PLUS) > SCRAM-SHA-1(-PLUS) > PLAIN > LOGIN for
    /// passwords, OAUTHBEARER > XOAUTH2 for tokens; CRAM-MD5 never). Mechanisms that expose
    /// the secret are only chosen on an encrypted connection (or with plaintext allowed).
    /// Needs the capabilities: [`SubmitError::NotAdvertised`] with the offered `AUTH=` list
    /// empty when none fits.
    ///
    /// A `-PLUS` mechanism is chosen only when `creds` carry channel-binding data of a type the
    /// server profile says the server can verify ([`sasl_transport`](Self::sasl_transport));
    /// otherwise plain SCRAM, with the GS2 flag `y` when `creds` carry binding data and the
    /// server offers no `-PLUS`, else `n` ([`crate::sasl::new_client_for`]; see
    /// [the flag's table](crate::sasl#the-scram-gs2-channel-binding-flag) for why not `y` when
    /// `-PLUS` is offered but skipped).
    pub fn authenticate_auto(
        &mut self,
        now: Instant,
        creds: &crate::sasl::Credentials,
    ) -> Result<CommandId, SubmitError> {
        use crate::sasl::Mechanism as M;
        let offered: Vec<&str> = self
            .caps
            .iter()
            .flat_map(|c| c.auth_mechanisms())
            .filter_map(|m| M::from_auth(m).map(|m| m.name()))
            .collect();
        let Some(kind) = creds.kind() else {
            return Err(SubmitError::Invalid("no password or token".into()));
        };
        let transport = self.sasl_transport(creds.channel_binding.as_ref());
        let Some(mech) =
            crate::sasl::choose(&offered, kind, self.cfg.allow_plaintext_login, transport)
        else {
            return Err(SubmitError::NoMechanism);
        };
        let m = crate::sasl::new_client_for(mech, creds, &offered)
            .map_err(|e| SubmitError::Invalid(e.to_string()))?;
        self.authenticate(now, m)
    }

    /// What this connection offers for the automatic mechanism choice
    /// ([`crate::sasl::choose`]): [`Transport::Cleartext`](crate::sasl::Transport::Cleartext)
    /// unless encrypted;
    /// [`TlsWithChannelBinding`](crate::sasl::Transport::TlsWithChannelBinding) when
    /// `channel_binding` is supplied and the [server profile](Self::profile) says the server's
    /// `-PLUS` mechanisms can verify its type
    /// ([`ServerProfile::can_verify_binding`]); [`Tls`](crate::sasl::Transport::Tls)
    /// otherwise, so that a server known to verify only other types (Cyrus IMAP: `tls-unique`,
    /// which TLS 1.3 does not have) gets plain SCRAM instead of a `-PLUS` exchange it would
    /// refuse. For adapters that make the choice themselves.
    pub fn sasl_transport(
        &self,
        channel_binding: Option<&crate::sasl::scram::ChannelBinding>,
    ) -> crate::sasl::Transport {
        use crate::sasl::Transport;
        match channel_binding {
            _ if !self.encrypted => Transport::Cleartext,
            Some(b) if self.profile.can_verify_binding(b.kind) => Transport::TlsWithChannelBinding,
            _ => Transport::Tls,
        }
    }

    /// Cancels the AUTHENTICATE `id`: the next challenge is answered with `*` (RFC 9051
    /// §6.2.2); the server then fails the command.
    pub fn authenticate_cancel(&mut self, id: CommandId) -> Result<(), SubmitError> {
        match self
            .cmds
            .iter_mut()
            .find(|c| c.id == id)
            .map(|c| &mut c.kind)
        {
            Some(Kind::Authenticate(m)) => {
                m.cancel = true;
                Ok(())
            }
            _ => Err(SubmitError::Invalid(format!(
                "no AUTHENTICATE {id} in progress"
            ))),
        }
    }

    /// `LOGOUT`.
    pub fn logout(&mut self, now: Instant) -> Result<CommandId, SubmitError> {
        self.submit(now, CommandBody::Logout)
    }

    /// Ends the session locally: pending commands complete with `ConnectionLost`.
    pub fn close(&mut self, now: Instant) {
        self.now = now;
        self.shutdown(CloseReason::Local, CommandError::ConnectionLost);
    }

    // ---- inputs ----

    /// Bytes received from the server. Returns how many were consumed: all of them, except
    /// when the session is closed or handed over (0), when the event queue is full (0), or
    /// under COMPRESS=DEFLATE when the queued events hold [`ClientConfig::inflate_window`]
    /// bytes of inflated input (then part of `data`). In the last two cases drain
    /// [`poll_event`](Self::poll_event) and offer the rest again.
    ///
    /// Under COMPRESS the session may keep back inflated input of bytes it took (at most the
    /// inflater's 32 KiB window): it is decoded when [`poll_event`](Self::poll_event) finds
    /// the queue empty, so drain `poll_event` until `None` before waiting for more input.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) -> usize {
        self.now = now;
        if !self.takes_input() {
            return 0;
        }
        if !data.is_empty() {
            self.last_rx = now;
        }
        let taken = if self.deflate.is_some() {
            compress::feed(self, data)
        } else {
            self.rx_push(data);
            self.process_plain();
            data.len()
        };
        self.update_timers();
        taken
    }

    /// Bytes received from the server, read into `buf` (a buffer the caller reads into and
    /// keeps using): like [`handle_input`](Self::handle_input), but what is consumed is split
    /// off `buf` and kept without a copy (decoded values and body chunks share it), and
    /// `buf` keeps its spare capacity for the next read, so that a message straddling two
    /// reads into one allocation is joined without a copy either. Returns how many bytes
    /// were consumed (taken off the front of `buf`): all of them or 0, as `handle_input`.
    pub fn handle_input_buf(&mut self, now: Instant, buf: &mut BytesMut) -> usize {
        self.take_queued(now, buf, false)
    }

    /// Whether input is copied anyway (inflated under COMPRESS=DEFLATE, or kept for the
    /// received tap): then the lanes that take a buffer are [`handle_input`](Self::handle_input)
    /// of its bytes.
    #[inline]
    fn copies_input(&self) -> bool {
        self.deflate.is_some() || self.cfg.received_tap.is_some()
    }

    /// [`handle_input_buf`](Self::handle_input_buf) (`room` false: `buf` is split) and
    /// [`handle_input_room`](Self::handle_input_room) (`room` true: `buf` is a room, taken
    /// whole): a read inside a streamed body comes back as its chunk, queued.
    #[inline]
    fn take_queued(&mut self, now: Instant, buf: &mut BytesMut, room: bool) -> usize {
        if self.copies_input() {
            let n = self.handle_input(now, &buf[..]);
            bytes::Buf::advance(buf, n);
            return n;
        }
        self.take_read(now, buf, |c, buf| {
            // A read inside a streamed body comes straight back as its chunk (the receiver's
            // fast lane: the chunk its next event would carry, with no frame or event made);
            // the event queue has room (`takes_input`).
            let chunk = if room {
                c.rx.push_room_chunk(std::mem::take(buf))
            } else {
                c.rx.push_bytes_mut_chunk(buf.split())
            };
            if let Some(chunk) = chunk {
                c.body_chunk(chunk);
            }
            true
        })
    }

    /// [`handle_input_lent`](Self::handle_input_lent) (`room` false) and
    /// [`handle_input_room_lent`](Self::handle_input_room_lent) (`room` true).
    #[inline]
    fn take_lent(
        &mut self,
        now: Instant,
        buf: &mut BytesMut,
        room: bool,
        body_chunk: impl FnOnce(&[u8]),
    ) -> usize {
        if self.copies_input() || !self.events.is_empty() {
            // Copied input, or events queued before the body's next bytes: the general path.
            return self.take_queued(now, buf, room);
        }
        self.take_read(now, buf, |c, buf| {
            // Nothing queued: a chunk lent now comes right after every event taken so far
            // (and the body's end, when it completes the body, before anything after it).
            let n = buf.len();
            let mut lent = 0;
            let lend = |d: &[u8]| {
                lent = d.len();
                body_chunk(d);
            };
            let _ = if room {
                c.rx.push_room(std::mem::take(buf), lend)
            } else {
                c.rx.push_read(buf, n, lend)
            };
            if lent > 0 {
                c.body_piece();
            }
            lent < n
        })
    }

    /// The plaintext path of [`handle_input_buf`](Self::handle_input_buf) and
    /// [`handle_input_lent`](Self::handle_input_lent): `push` hands the read (not empty) to
    /// the receiver and says whether it may hold anything to decode (not after a read lent
    /// whole), then what it holds is decoded. Returns how many bytes were consumed.
    #[inline]
    fn take_read(
        &mut self,
        now: Instant,
        buf: &mut BytesMut,
        push: impl FnOnce(&mut Self, &mut BytesMut) -> bool,
    ) -> usize {
        self.now = now;
        if !self.takes_input() {
            return 0;
        }
        let n = buf.len();
        if n > 0 {
            self.last_rx = now;
            if !push(self, buf) {
                // all of the read lent: the receiver was given nothing, so it has no event
                // (`Receiver::push_read`'s contract); only the timers see the read
                self.update_timers();
                return n;
            }
        }
        self.process_plain();
        self.update_timers();
        n
    }

    /// [`handle_input_buf`](Self::handle_input_buf) with a streamed body's data lent instead
    /// of queued, for a caller that passes body data on as it arrives (to a file, a hash, a
    /// socket) and keeps none of it. When a streamed body is in progress
    /// ([`Event::BodyBegin`] came, its [`Event::BodyEnd`] has not), every event has been
    /// taken ([`poll_event`](Self::poll_event) gave `None`) and the session holds no
    /// received byte, the part of `buf` that belongs to the body is passed to `body_chunk`
    /// (called at most once, before this returns) and removed from `buf` with no `Bytes`
    /// made: no split, no reference count, and when it was all of `buf`, `buf` is cleared
    /// and its memory takes the next read. That is the data the next [`Event::BodyChunk`]
    /// would have carried; it is not queued. The rest of `buf` is taken as by
    /// `handle_input_buf`. So a body's data arrives, in stream order, through `body_chunk`
    /// or as `BodyChunk` events (the first piece of a body, read with its FETCH line, always
    /// in the `BodyBegin` event; a piece read while events were still queued as a
    /// `BodyChunk`): handle both. [`Event::BodyEnd`] follows the piece that completes the
    /// body, lent or queued. Under
    /// COMPRESS=DEFLATE, or with a [received tap](ClientConfig::received_tap), the input is
    /// copied anyway and this is `handle_input_buf` (`body_chunk` is not called). Returns how
    /// many bytes were consumed, as `handle_input_buf`.
    ///
    /// A caller that forwards chunks elsewhere (a channel, another task) needs them as
    /// `Bytes`: `handle_input_buf` gives them without a copy, this would force one.
    pub fn handle_input_lent(
        &mut self,
        now: Instant,
        buf: &mut BytesMut,
        body_chunk: impl FnOnce(&[u8]),
    ) -> usize {
        self.take_lent(now, buf, false, body_chunk)
    }

    /// Room to read the next input into, in the session's own receive buffer (the room
    /// lane, see [`Receiver::read_room`](imapwire_codec::codec::Receiver::read_room)): an
    /// empty `BytesMut` with at least `at_least` bytes of spare capacity, right after the
    /// bytes the session holds of a message not complete yet. Read into its spare capacity
    /// and hand it to [`handle_input_room`](Self::handle_input_room) (or
    /// [`handle_input_room_lent`](Self::handle_input_room_lent)): the read is joined to the
    /// held bytes in place, so no message is copied to be contiguous, not even one held
    /// whole (a body at or under [`ClientConfig::stream_bodies_over`]) that straddles many
    /// reads: once its literal's header has arrived, the room is made for the rest of it.
    ///
    /// The room is an owned buffer, not a borrow: hold it across `await` points and
    /// `select!` branches. If a read into it is cancelled (its future dropped), the room
    /// keeps whatever the read appended (tokio's `read_buf` appends nothing unless it
    /// completes): hand it in as it is, or keep it for the next read. A room with no bytes
    /// can be kept for any number of reads; take a new one after each room handed in. A
    /// room never handed in costs only its memory: the session's held bytes stay in the
    /// session. Under COMPRESS=DEFLATE, or with a [received tap](ClientConfig::received_tap),
    /// the input is copied anyway and the room is a buffer of its own.
    pub fn read_room(&mut self, at_least: usize) -> BytesMut {
        if self.copies_input() {
            return BytesMut::with_capacity(at_least);
        }
        self.rx.read_room(at_least)
    }

    /// Bytes received from the server, read into a room from [`read_room`](Self::read_room):
    /// the events [`handle_input_buf`](Self::handle_input_buf) gives for the same reads
    /// (a read inside a streamed body comes back as its [`Event::BodyChunk`], no copy),
    /// without a split or a join per read. Returns how many bytes were consumed: all of
    /// them (the room is then taken, `room` left empty with no capacity: take the next with
    /// `read_room`) or 0, as [`handle_input`](Self::handle_input) (closed, handed over, or
    /// the event queue full: `room` keeps its bytes; offer it again after draining
    /// [`poll_event`](Self::poll_event), more reads may be appended to it meanwhile). Any
    /// other `BytesMut` is accepted too (taken like `handle_input_buf` takes its buffer).
    /// Under COMPRESS=DEFLATE, or with a received tap, the input is copied as by
    /// `handle_input` and consumed off the front of `room`.
    pub fn handle_input_room(&mut self, now: Instant, room: &mut BytesMut) -> usize {
        self.take_queued(now, room, true)
    }

    /// [`handle_input_room`](Self::handle_input_room) with a streamed body's data lent
    /// instead of queued, as [`handle_input_lent`](Self::handle_input_lent) lends it (the
    /// same conditions: a body in progress, every event taken, nothing held; `body_chunk`
    /// called at most once, before this returns, with what the next [`Event::BodyChunk`]
    /// would have carried); when it was all of the room's bytes, the room's memory takes
    /// the next read at the same address. Otherwise (events queued, COMPRESS, a received
    /// tap) this is `handle_input_room`. Returns how many bytes were consumed, as
    /// `handle_input_room`.
    pub fn handle_input_room_lent(
        &mut self,
        now: Instant,
        room: &mut BytesMut,
        body_chunk: impl FnOnce(&[u8]),
    ) -> usize {
        self.take_lent(now, room, true, body_chunk)
    }

    /// The next piece of the streamed body in progress, queued as [`Event::BodyChunk`] (and
    /// [`Event::BodyEnd`] after it when it completes the body).
    fn body_chunk(&mut self, chunk: Bytes) {
        self.events.push_back(Event::BodyChunk(chunk));
        self.body_piece();
    }

    /// A piece of the streamed body in progress has just been handed over (in its
    /// `BodyBegin`, queued or lent): [`Event::BodyEnd`] is queued when it completed the body,
    /// which the receiver says (its streamed literal is over with the piece that ends it).
    fn body_piece(&mut self) {
        if self.rx.streamed_literal_left() == 0 {
            self.events.push_back(Event::BodyEnd);
        }
    }

    /// Decodes plaintext input the receiver holds (not inflated: no COMPRESS yet) and hands
    /// the tap what was consumed; if COMPRESS took effect, what followed its OK in this read
    /// is compressed and goes to the inflater.
    fn process_plain(&mut self) {
        self.process();
        self.flush_tap();
        if self.deflate.as_ref().is_some_and(Deflate::has_input) {
            let _ = compress::feed(self, &[]);
        }
    }

    /// Input for the receiver (plaintext), kept for the received tap when there is one.
    fn rx_push(&mut self, data: &[u8]) {
        if self.cfg.received_tap.is_some() {
            self.tap_pending.extend_from_slice(data);
        }
        self.rx.push(data);
    }

    /// Hands the received tap the bytes the receiver has consumed since the last call.
    fn flush_tap(&mut self) {
        if let Some(tap) = &self.cfg.received_tap {
            let n = self.tap_pending.len().saturating_sub(self.rx.buffered());
            if n > 0 {
                tap.record(&self.tap_pending[..n]);
                self.tap_pending.drain(..n);
            }
        }
    }

    /// The server closed the connection (or reading failed).
    pub fn handle_eof(&mut self, now: Instant) {
        self.now = now;
        if self.is_closed() {
            return;
        }
        let bye = self.bye.take();
        self.shutdown(
            CloseReason::PeerClosed { bye },
            CommandError::ConnectionLost,
        );
    }

    /// A deadline from [`poll_timeout`](Self::poll_timeout) passed. Calling it early, or
    /// twice, does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if self.is_closed() {
            return;
        }
        let due: Vec<Timer> = self.timers.expired(now).collect();
        for t in due {
            match t {
                Timer::Greeting | Timer::Response | Timer::Liveness => {
                    self.shutdown(CloseReason::TimedOut, CommandError::TimedOut);
                    return;
                }
                Timer::IdleRefresh => {
                    if let Some(c) = self
                        .cmds
                        .iter_mut()
                        .find(|c| matches!(c.kind, Kind::Idle(IdlePhase::Running)))
                    {
                        c.kind = Kind::Idle(IdlePhase::Refreshing);
                        c.parts
                            .push_back(Part::Line(Bytes::from_static(b"DONE\r\n")));
                        c.sent_at = Some(now);
                    }
                }
                Timer::KeepAlive => {
                    let polling = self.cmds.iter().any(|c| matches!(c.kind, Kind::IdlePoll));
                    let busy = self.cmds.iter().any(|c| !matches!(c.kind, Kind::IdlePoll));
                    if !busy
                        && matches!(
                            self.state,
                            State::NotAuthenticated | State::Authenticated | State::Selected
                        )
                    {
                        let _ = self.enqueue(CommandBody::Noop, Kind::Plain, true, Vec::new());
                    }
                    if polling {
                        self.timers
                            .set(Timer::KeepAlive, now, self.cfg.noop_poll_interval);
                    }
                }
                _ => {}
            }
        }
        self.update_timers();
    }

    // ---- outputs ----

    /// The next bytes to write, in order; `None` when nothing can be sent now. Large literal
    /// payloads (APPEND bodies) are returned as they were given, without a copy (unless
    /// COMPRESS is active, which must recompress them).
    #[must_use = "the returned bytes must be written to the connection"]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Bytes> {
        self.now = now;
        if let Some(b) = self.pending_out.0.pop_front() {
            return Some(b);
        }
        if self.is_closed() || self.handoff.is_some() {
            return None;
        }
        let mut buf = BytesMut::new();
        let mut big: Option<Bytes> = None;
        self.gather(&mut buf, &mut big);
        self.update_timers();
        let mut chunks = Vec::new();
        if !buf.is_empty() {
            chunks.push(buf.freeze());
        }
        if let Some(b) = big {
            chunks.push(b);
        }
        if chunks.is_empty() {
            return None;
        }
        if let Some(d) = &mut self.deflate {
            let mut all = Vec::new();
            for c in &chunks {
                all.extend_from_slice(c);
            }
            match d.compress(&all) {
                Ok(z) => return Some(Bytes::from(z)),
                Err(e) => {
                    self.shutdown(CloseReason::Compression(e), CommandError::ConnectionLost);
                    return None;
                }
            }
        }
        let mut it = chunks.into_iter();
        let first = it.next();
        self.pending_out.0.extend(it);
        first
    }

    /// The next event. When the queue is empty, input held back (by a full queue, or
    /// inflated input kept back under COMPRESS) is decoded first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.refill_events();
        self.events.pop_front()
    }

    /// When the next event is untagged data ([`Event::Data`]: `* n FETCH`, `* LIST`, ...),
    /// that data where it lies in the event queue, lent instead of moved out (a FETCH
    /// response is a few hundred bytes: a client that takes its items out of it here saves
    /// the copies that [`poll_event`](Self::poll_event) makes); `None` when the next event is
    /// anything else, or when there is none. The event stays queued: remove it with
    /// [`skip_event`](Self::skip_event) (or take what is left of it with `poll_event`).
    /// Held-back input is decoded first, as by `poll_event`.
    pub fn peek_data(&mut self) -> Option<&mut Data> {
        self.refill_events();
        self.events.front_data()
    }

    /// Removes the next event without returning it (dropped in the queue); nothing when
    /// there is none. After [`peek_data`](Self::peek_data), this is what completes taking
    /// the data.
    pub fn skip_event(&mut self) {
        self.events.drop_front();
    }

    /// Decodes input held back (by a full queue, or inflated input kept back under
    /// COMPRESS) when the event queue is empty.
    fn refill_events(&mut self) {
        if self.events.is_empty() && !self.is_closed() && self.handoff.is_none() {
            let mut progress = false;
            if self.held_back && self.rx.buffered() > 0 {
                // Messages held back by a full event queue: decode more now that it is empty.
                self.held_back = false;
                self.process();
                progress = true;
            }
            if self.events.is_empty() && self.deflate.as_ref().is_some_and(Deflate::has_input) {
                let _ = compress::feed(self, &[]);
                progress = true;
            }
            if progress {
                self.update_timers();
            }
        }
    }

    /// The earliest deadline at which [`handle_timeout`](Self::handle_timeout) must be
    /// called, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_closed() {
            return None;
        }
        self.timers.next_deadline().map(|(t, _)| t)
    }

    // ---- internals: submission ----

    /// Queues a command (not started: no tag, nothing encoded yet) and returns its id.
    fn push_cmd(
        &mut self,
        name: &'static str,
        kind: Kind,
        rule: Rule,
        body: Option<CommandBody>,
        tail: Vec<Part>,
        internal: bool,
    ) -> CommandId {
        let id = CommandId(self.next_id);
        self.next_id += 1;
        self.cmds.push_back(Cmd {
            id,
            internal,
            name,
            kind,
            rule,
            body,
            tail,
            tag: None,
            parts: VecDeque::new(),
            sent_at: None,
            idle_announced: false,
            plus: false,
            #[cfg(feature = "tracing")]
            span: tracing::debug_span!(
                "imap_command",
                id = id.0,
                command = name,
                internal,
                tag = tracing::field::Empty
            ),
        });
        id
    }

    /// The state once every pending state-changing command has succeeded.
    fn projected_state(&self) -> State {
        let mut s = self.state;
        for c in &self.cmds {
            s = match c.kind {
                Kind::Login | Kind::Authenticate(_) => State::Authenticated,
                Kind::Select { .. } => State::Selected,
                Kind::Deselect => State::Authenticated,
                Kind::Logout => State::Logout,
                _ => s,
            };
        }
        s
    }

    fn check_submit(&self, name: &str, r: &Rule) -> Result<(), SubmitError> {
        if self.is_closed() {
            return Err(SubmitError::Closed);
        }
        if self.cmds.len() >= self.cfg.max_commands {
            return Err(SubmitError::TooManyCommands);
        }
        let s = self.projected_state();
        if s != State::Greeting && !rules::allows(r.valid, s) {
            return Err(SubmitError::InvalidState {
                command: name.to_owned(),
                state: s,
            });
        }
        if let (Some(need), Some(_)) = (&r.needs, &self.caps) {
            if !self.has(need) {
                return Err(SubmitError::NotAdvertised(need.clone()));
            }
        }
        Ok(())
    }

    fn enqueue(
        &mut self,
        body: CommandBody,
        kind: Kind,
        internal: bool,
        tail: Vec<Part>,
    ) -> Result<CommandId, SubmitError> {
        let r = rule(&body);
        // A command the codec does not know: its own name is not static; say so instead.
        let name: &'static str = match body.name().as_str() {
            "" => "(unknown command)",
            n => n,
        };
        if !internal {
            self.check_submit(body.wire_name(), &r)?;
        }
        let id = self.push_cmd(name, kind, r, Some(body), tail, internal);
        self.update_timers();
        Ok(id)
    }

    fn request_capabilities(&mut self) {
        let asked = self
            .cmds
            .iter()
            .any(|c| matches!(c.kind, Kind::Capability) && c.internal);
        if !asked && self.caps.is_none() && !self.is_closed() && self.state != State::Logout {
            // Internal, so it goes first among what has not started yet.
            let _ = self.enqueue(CommandBody::Capability, Kind::Capability, true, Vec::new());
            if let Some(c) = self.cmds.pop_back() {
                let at = self
                    .cmds
                    .iter()
                    .position(|c| !c.started() && !matches!(c.kind, Kind::IdlePoll))
                    .unwrap_or(self.cmds.len());
                self.cmds.insert(at, c);
            }
        }
    }

    fn encode_options(&self) -> EncodeOptions {
        let mut o = EncodeOptions::default();
        if self.has(&Capability::LiteralPlus) {
            o.literal_mode = LiteralMode::NonSync;
            o.max_non_sync = None;
        } else if self.has(&Capability::LiteralMinus) {
            o.literal_mode = LiteralMode::NonSync;
            o.max_non_sync = Some(4096);
        }
        o.utf8_quoted =
            self.has(&Capability::Imap4Rev2) || self.enabled.contains(&Capability::Utf8Accept);
        o
    }

    fn literal_nonsync_allowed(&self, len: u64) -> bool {
        self.has(&Capability::LiteralPlus) || (self.has(&Capability::LiteralMinus) && len <= 4096)
    }

    // ---- internals: transmit ----

    fn in_flight_classes(&self) -> Vec<CommandClass> {
        self.cmds
            .iter()
            .filter(|c| c.started())
            .map(|c| c.rule.class)
            .collect()
    }

    /// Gathers what may be sent now into `buf`; a large literal ends the gathering in `big`.
    fn gather(&mut self, buf: &mut BytesMut, big: &mut Option<Bytes>) {
        if self.state == State::Greeting {
            // Commands submitted early wait for the greeting (it decides the state).
            return;
        }
        let mut i = 0;
        while i < self.cmds.len() {
            if matches!(self.cmds[i].kind, Kind::IdlePoll) {
                i += 1;
                continue;
            }
            if !self.cmds[i].started() {
                // Commands start in order; one that must wait holds back all after it.
                if self.caps.is_none() && self.cmds[i].rule.needs.is_some() {
                    // Capabilities first: ask for them (once) and wait.
                    let before = self.cmds.len();
                    self.request_capabilities();
                    if self.cmds.len() > before {
                        continue;
                    }
                    return;
                }
                if self.cmds[i].rule.changes_state && self.cmds.iter().any(Cmd::started) {
                    // A state change waits for everything before it: their responses belong
                    // to the old state (a FETCH's data to the old mailbox).
                    return;
                }
                let classes = self.in_flight_classes();
                if self
                    .cfg
                    .pipeline
                    .check(&self.cmds[i].rule.class, classes.iter())
                    .is_err()
                {
                    return;
                }
                if let Err(e) = self.start(i) {
                    if let Some(c) = self.cmds.remove(i) {
                        self.complete(c, Err(CommandError::Refused(e)));
                    }
                    continue;
                }
            }
            // Send what this command has ready.
            let now = self.now;
            let c = &mut self.cmds[i];
            while let Some(p) = c.parts.front_mut() {
                match p {
                    Part::Line(b) | Part::Chunk(b) => {
                        buf.extend_from_slice(b);
                        c.parts.pop_front();
                    }
                    Part::Literal { wait: true, .. } | Part::Stream { wait: true, .. } => {
                        // Waiting for `+`: nothing after this may be sent.
                        return;
                    }
                    Part::Literal { data, .. } => {
                        if data.len() >= GATHER_MAX {
                            let data = std::mem::take(data);
                            c.parts.pop_front();
                            *big = Some(data);
                            if c.parts.is_empty() && c.sent_at.is_none() {
                                c.sent_at = Some(now);
                            }
                            return;
                        }
                        buf.extend_from_slice(data);
                        c.parts.pop_front();
                    }
                    Part::Stream {
                        remaining, asked, ..
                    } => {
                        if !*asked {
                            *asked = true;
                            let ev = Event::AppendDataWanted {
                                id: c.id,
                                remaining: *remaining,
                            };
                            self.events.push_back(ev);
                        }
                        return;
                    }
                }
            }
            if c.sent_at.is_none() {
                c.sent_at = Some(now);
            }
            if matches!(c.kind, Kind::Idle(IdlePhase::Starting)) {
                // Nothing after IDLE until it ends.
                return;
            }
            if buf.len() >= GATHER_MAX {
                return;
            }
            i += 1;
        }
    }

    /// Gives command `i` its tag and encodes it. Checks the state and capabilities it needs.
    fn start(&mut self, i: usize) -> Result<(), SubmitError> {
        let c = &self.cmds[i];
        if !c.internal {
            if !rules::allows(c.rule.valid, self.state) {
                return Err(SubmitError::InvalidState {
                    command: c.name.to_owned(),
                    state: self.state,
                });
            }
            if let Some(need) = &c.rule.needs {
                if !self.has(need) {
                    return Err(SubmitError::NotAdvertised(need.clone()));
                }
            }
            if matches!(c.kind, Kind::Login) {
                if self.has(&Capability::LoginDisabled) {
                    return Err(SubmitError::LoginDisabled);
                }
                if !self.encrypted && !self.cfg.allow_plaintext_login {
                    return Err(SubmitError::PlaintextForbidden);
                }
            }
        }
        let tag = self
            .tags
            .next_tag()
            .map_err(|e| SubmitError::Tag(e.to_string()))?;
        let opts = self.encode_options();
        let sasl_ir = self.has(&Capability::SaslIr);
        let known = profile_apply::Known {
            exists: self.selected.as_ref().map(|s| s.map.len()),
            last_uid: self
                .selected
                .as_ref()
                .and_then(|s| s.map.last_uid())
                .map(|u| u.get()),
            delimiter: self.delimiter,
        };
        let c = &mut self.cmds[i];
        let mut parts = VecDeque::new();
        if let Some(body) = c.body.take() {
            let keep = matches!(c.kind, Kind::Idle(_)).then(|| body.clone());
            let body = profile_apply::apply(&self.profile, body, &known)?;
            let cmd =
                Command::new(tag.clone(), body).map_err(|e| SubmitError::Invalid(e.to_string()))?;
            let mut eb = EncodeBuf::with_options(opts);
            cmd.encode(&mut eb);
            for f in eb.fragments() {
                match f {
                    Fragment::Line(l) => parts.push_back(Part::Line(Bytes::copy_from_slice(l))),
                    Fragment::Literal { data, mode } => parts.push_back(Part::Literal {
                        data: Bytes::copy_from_slice(data),
                        wait: mode == LiteralMode::Sync,
                    }),
                }
            }
            // IDLE is issued again on refresh: keep its body.
            if let Some(b) = keep {
                c.body = Some(b);
            }
        } else if let Kind::Authenticate(m) = &mut c.kind {
            let mut line = format!("{} AUTHENTICATE {}", tag.as_str(), m.m.mechanism().name());
            if sasl_ir {
                match m.m.initial_response() {
                    Ok(Some(ir)) if ir.expose().is_empty() => line.push_str(" ="),
                    Ok(Some(ir)) => {
                        line.push(' ');
                        line.push_str(&B64.encode(ir.expose()));
                    }
                    Ok(None) => {}
                    Err(e) => return Err(SubmitError::Invalid(e.to_string())),
                }
            }
            line.push_str("\r\n");
            parts.push_back(Part::Line(Bytes::from(line)));
        } else {
            // APPEND: tag, then the hand-encoded line and the body.
            let mut t = BytesMut::with_capacity(tag.as_str().len());
            t.extend_from_slice(tag.as_str().as_bytes());
            parts.push_back(Part::Line(t.freeze()));
            parts.extend(std::mem::take(&mut c.tail));
        }
        #[cfg(feature = "tracing")]
        {
            c.span.record("tag", tag.as_str());
            c.span.in_scope(|| tracing::debug!("command started"));
        }
        c.tag = Some(tag);
        c.parts = parts;
        // Its first line goes out in the same transmit: the response timer covers the wait
        // for a `+` as well as for the completion.
        c.sent_at = Some(self.now);
        if matches!(c.kind, Kind::Select { .. }) {
            // The server deselects the current mailbox as soon as it reads SELECT (RFC 9051
            // §6.3.2): what follows describes the new one.
            self.selected = Some(Selected::default());
        }
        Ok(())
    }

    // ---- internals: receive ----

    fn process(&mut self) {
        while !self.is_closed() && self.handoff.is_none() {
            if self.events.len() >= self.cfg.max_events {
                self.held_back = true;
                return;
            }
            // A `+` is a SASL challenge exactly while AUTHENTICATE waits for one (only
            // looked for while an AUTHENTICATE is pending at all).
            let sasl = self.authenticating
                && self
                    .cmds
                    .iter()
                    .any(|c| matches!(c.kind, Kind::Authenticate(_)) && c.started());
            let want = match self.state {
                State::Greeting => Expect::Greeting,
                _ if sasl => Expect::SaslChallenge,
                _ => Expect::Response,
            };
            if self.rx.expect() != want {
                self.rx.set_expect(want);
            }
            // Decoded straight into the event queue: untagged FETCH data, the bulk of the
            // traffic, stays where it was decoded until `poll_event` hands it out (a FETCH
            // with its inline items is a few hundred bytes, and each move is a copy).
            let slot = self.events.slot();
            if !self.rx.next_into(slot) {
                self.events.drop_slot();
                return;
            }
            // So does LIST data (a LIST of a large account is thousands of them).
            if let Some(StreamEvent::Message(Decoded {
                message: AnyMessage::Response(Response::Data(d)),
                ..
            })) = slot
            {
                match d {
                    Data::Fetch { seq, items } => {
                        self.decoded += 1;
                        if let Some(e) = note_fetch(&mut self.selected, *seq, items) {
                            self.events
                                .push_back(Event::ProtocolError(ProtocolError::Mailbox(e)));
                        }
                        continue;
                    }
                    Data::List(item) => {
                        self.decoded += 1;
                        note_list(&mut self.delimiter, item);
                        continue;
                    }
                    _ => {}
                }
            }
            let Some(ev) = self.events.take_slot() else {
                return;
            };
            match ev {
                StreamEvent::LiteralAnnounced(_) => {}
                StreamEvent::LiteralBegin(b) => {
                    self.events.push_back(Event::BodyBegin(b));
                    self.body_piece();
                }
                StreamEvent::LiteralChunk(c) => self.body_chunk(c),
                StreamEvent::Error(error) => {
                    let bad_challenge = sasl
                        && matches!(&error, StreamError::Decode { raw, .. } if raw.first() == Some(&b'+'));
                    if matches!(error, StreamError::Decode { .. }) {
                        self.decoded += 1;
                    }
                    self.events.push_back(Event::Malformed(Malformed { error }));
                    if bad_challenge {
                        // A challenge that is not base64: cancel the exchange with `*`.
                        self.on_bad_challenge();
                    }
                }
                // Untagged data, the bulk of the traffic, goes to the queue in one move.
                StreamEvent::Message(Decoded {
                    message: AnyMessage::Response(Response::Data(d)),
                    ..
                }) => {
                    self.decoded += 1;
                    self.push_data(d);
                }
                StreamEvent::Message(Decoded { message, .. }) => {
                    self.decoded += 1;
                    match message {
                        AnyMessage::Greeting(g) => self.on_greeting(g),
                        AnyMessage::Response(r) => self.on_response(r),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }

    fn on_greeting(&mut self, g: Greeting) {
        self.timers.stop(Timer::Greeting);
        if let Some(c) = g.text.code().and_then(CapabilitySet::from_code) {
            self.caps = Some(c);
        }
        self.greeting_text = String::from_utf8_lossy(g.text.text().as_bytes()).into_owned();
        self.detect_profile();
        match g.kind {
            GreetingKind::Ok => self.state = State::NotAuthenticated,
            GreetingKind::PreAuth => self.state = State::Authenticated,
            GreetingKind::Bye => {
                let text = g.text.clone();
                self.events.push_back(Event::Greeting {
                    kind: g.kind,
                    text: g.text,
                });
                self.shutdown(CloseReason::Rejected(text), CommandError::ConnectionLost);
                return;
            }
        }
        self.events.push_back(Event::Greeting {
            kind: g.kind,
            text: g.text,
        });
        if self.caps.is_none() {
            self.request_capabilities();
        }
    }

    /// Recognises the server (greeting text, capabilities, host) unless the caller chose the
    /// profile; again whenever the capabilities change (some switches depend on them).
    fn detect_profile(&mut self) {
        if self.profile_fixed {
            return;
        }
        let caps = self.caps.as_ref().map_or(&[][..], |c| c.advertised());
        self.profile = match &self.cfg.host {
            Some(h) => ServerProfile::detect_with_host(h, &self.greeting_text, caps),
            None => ServerProfile::detect(&self.greeting_text, caps),
        };
    }

    fn on_response(&mut self, r: Response) {
        match r {
            Response::Status(StatusResponse::Tagged { tag, status, text }) => {
                self.on_tagged(tag, status, text)
            }
            Response::Status(StatusResponse::Untagged { status, text }) => {
                self.on_code(text.code());
                self.events.push_back(Event::Status { status, text });
            }
            Response::Status(StatusResponse::Bye(text)) => {
                self.bye = Some(text.clone());
                self.events.push_back(Event::Bye(text));
            }
            Response::Status(StatusResponse::PreAuth(_)) => self
                .events
                .push_back(Event::ProtocolError(ProtocolError::UnexpectedGreeting)),
            Response::Continuation(c) => self.on_continuation(c),
            Response::Data(d) => self.push_data(d),
            _ => {}
        }
    }

    fn on_continuation(&mut self, c: Continuation) {
        let Some(i) = self.cmds.iter().position(Cmd::wants_continuation) else {
            self.events
                .push_back(Event::ProtocolError(ProtocolError::UnexpectedContinuation));
            return;
        };
        let cmd = &mut self.cmds[i];
        if let Kind::Idle(phase) = cmd.kind {
            let id = cmd.id;
            cmd.plus = true;
            let first = !cmd.idle_announced;
            cmd.idle_announced = true;
            match phase {
                IdlePhase::Ending => {
                    // DONE was asked for before the `+`.
                    cmd.parts
                        .push_back(Part::Line(Bytes::from_static(b"DONE\r\n")));
                    cmd.sent_at = Some(self.now);
                }
                _ => {
                    cmd.kind = Kind::Idle(IdlePhase::Running);
                    self.timers
                        .set(Timer::IdleRefresh, self.now, self.cfg.idle_refresh);
                }
            }
            if first {
                self.events.push_back(Event::IdleStarted { id });
            }
            return;
        }
        if let Kind::Authenticate(m) = &mut cmd.kind {
            let reply = if m.cancel || m.failed.is_some() {
                Bytes::from_static(b"*\r\n")
            } else {
                // The receiver reads `+` lines as SASL challenges while AUTHENTICATE is in
                // flight (Expect::SaslChallenge): base64, or a decode error (see `process`).
                let challenge = match &c {
                    Continuation::Base64(challenge) => Some(challenge.clone()),
                    _ => None,
                };
                let step = match challenge {
                    Some(challenge) => m.m.step(&challenge),
                    // Not base64: the exchange cannot go on.
                    None => Err(SaslError::Malformed {
                        mechanism: m.m.mechanism(),
                        expected: "a base64 challenge",
                    }),
                };
                match step {
                    Ok(resp) => {
                        let mut l = B64.encode(resp.expose()).into_bytes();
                        l.extend_from_slice(b"\r\n");
                        Bytes::from(l)
                    }
                    Err(e) => {
                        m.failed = Some(e);
                        Bytes::from_static(b"*\r\n")
                    }
                }
            };
            cmd.parts.push_back(Part::Line(reply));
            cmd.sent_at = Some(self.now);
            return;
        }
        if let Some(Part::Literal { wait, .. } | Part::Stream { wait, .. }) = cmd.parts.front_mut()
        {
            *wait = false;
        }
    }

    fn on_bad_challenge(&mut self) {
        let now = self.now;
        if let Some(cmd) = self.cmds.iter_mut().find(|c| c.wants_continuation()) {
            if let Kind::Authenticate(m) = &mut cmd.kind {
                if m.failed.is_none() {
                    m.failed = Some(SaslError::Malformed {
                        mechanism: m.m.mechanism(),
                        expected: "a base64 challenge",
                    });
                }
                cmd.parts
                    .push_back(Part::Line(Bytes::from_static(b"*\r\n")));
                cmd.sent_at = Some(now);
            }
        }
    }

    fn on_tagged(&mut self, tag: Tag, status: Status, text: ResponseText) {
        let Some(i) = self.cmds.iter().position(|c| c.tag.as_ref() == Some(&tag)) else {
            self.events
                .push_back(Event::ProtocolError(ProtocolError::UnknownTag(
                    Bytes::copy_from_slice(tag.as_str().as_bytes()),
                )));
            return;
        };
        self.on_code(text.code());
        let Some(mut c) = self.cmds.remove(i) else {
            return;
        };
        self.tags.release(&tag);
        let ok = status == Status::Ok;
        match (&mut c.kind, ok) {
            (Kind::Authenticate(m), _) => {
                let fin = m.m.finish(ok);
                let failed = m.failed.clone();
                let (code, txt) = text.clone().into_parts();
                match (ok, fin) {
                    (true, Ok(())) => {
                        self.state = State::Authenticated;
                        if !matches!(text.code(), Some(ResponseCode::Capability(_))) {
                            self.caps = None;
                            self.request_capabilities();
                        }
                        self.complete(c, Ok(Completion::from_text(text)));
                    }
                    (true, Err(e)) => {
                        // The server said OK but did not prove itself: not our server.
                        self.complete(c, Err(CommandError::Auth(e.clone())));
                        self.shutdown(
                            CloseReason::Protocol(format!("server not authenticated: {e}")),
                            CommandError::ConnectionLost,
                        );
                    }
                    (false, fin) => {
                        let reason = failed.or(fin.err()).unwrap_or(SaslError::Rejected {
                            mechanism: m.m.mechanism(),
                        });
                        self.complete(
                            c,
                            Err(CommandError::AuthRejected {
                                code,
                                text: txt,
                                reason,
                            }),
                        );
                    }
                }
                return;
            }
            (Kind::Login, true) => {
                self.state = State::Authenticated;
                if !matches!(text.code(), Some(ResponseCode::Capability(_))) {
                    self.caps = None;
                    self.request_capabilities();
                }
            }
            (Kind::Select { read_only }, _) => {
                if ok {
                    self.state = State::Selected;
                    let ro = *read_only || matches!(text.code(), Some(ResponseCode::ReadOnly));
                    if let Some(s) = &mut self.selected {
                        s.read_only = ro;
                    }
                } else {
                    self.state = State::Authenticated;
                    self.selected = None;
                }
            }
            (Kind::Deselect, true) => {
                self.state = State::Authenticated;
                self.selected = None;
            }
            (Kind::Logout, true) => {
                self.state = State::Logout;
                self.complete(c, Ok(Completion::from_text(text)));
                self.shutdown(CloseReason::LoggedOut, CommandError::ConnectionLost);
                return;
            }
            (Kind::StartTls, true) => {
                let left = self.rx.buffered();
                self.complete(c, Ok(Completion::from_text(text)));
                if left > 0 {
                    let _ = self.rx.take_buffered();
                    self.shutdown(
                        CloseReason::StartTlsInjection { bytes: left },
                        CommandError::ConnectionLost,
                    );
                } else {
                    self.handoff = Some(HandOff::StartTls);
                    self.events.push_back(Event::HandOff(HandOff::StartTls));
                }
                return;
            }
            (Kind::Compress, true) => {
                // The tap gets what came before the compressed rest, then the rest inflated.
                self.flush_tap();
                let left = self.rx.take_buffered();
                self.tap_pending.clear();
                // What followed the OK is compressed: inflated by the caller of `process`.
                self.deflate = Some(Deflate::with_backlog(left));
                self.complete(c, Ok(Completion::from_text(text)));
                return;
            }
            (Kind::Idle(IdlePhase::Refreshing), true) => {
                // Issue IDLE again under a new tag; the caller's command goes on.
                c.kind = Kind::Idle(IdlePhase::Starting);
                c.tag = None;
                c.plus = false;
                c.parts.clear();
                c.sent_at = None;
                self.cmds.insert(i, c);
                return;
            }
            _ => {}
        }
        let result = match status {
            Status::Ok => Ok(Completion::from_text(text)),
            Status::No => {
                let (code, text) = text.into_parts();
                Err(CommandError::No { code, text })
            }
            Status::Bad => {
                let (code, text) = text.into_parts();
                Err(CommandError::Bad { code, text })
            }
        };
        self.complete(c, result);
    }

    fn on_code(&mut self, code: Option<&ResponseCode>) {
        let Some(code) = code else { return };
        match code {
            ResponseCode::Capability(c) => {
                self.caps = Some(c.iter().cloned().collect());
                self.detect_profile();
            }
            ResponseCode::UidValidity(v) => {
                let v = v.get();
                let sel = self.selected.get_or_insert_with(Selected::default);
                if let Some(old) = sel.uidvalidity.filter(|&o| o != v) {
                    self.events
                        .push_back(Event::Mailbox(MailboxEvent::UidValidityChanged {
                            old,
                            new: v,
                        }));
                }
                sel.uidvalidity = Some(v);
            }
            ResponseCode::UidNext(u) => {
                self.selected.get_or_insert_with(Selected::default).uidnext = Some(u.get())
            }
            ResponseCode::HighestModSeq(m) => {
                self.selected
                    .get_or_insert_with(Selected::default)
                    .highestmodseq = Some(*m)
            }
            ResponseCode::ReadOnly => {
                self.selected
                    .get_or_insert_with(Selected::default)
                    .read_only = true
            }
            ResponseCode::ReadWrite => {
                self.selected
                    .get_or_insert_with(Selected::default)
                    .read_only = false
            }
            ResponseCode::NoModSeq => {
                self.selected.get_or_insert_with(Selected::default).nomodseq = true
            }
            ResponseCode::PermanentFlags(p) => {
                self.selected
                    .get_or_insert_with(Selected::default)
                    .permanent_flags = Some(p.clone())
            }
            ResponseCode::Closed => {
                // RFC 7162 §3.2.11: the previous mailbox is closed; what follows is the new one.
                self.selected = Some(Selected::default());
            }
            _ => {}
        }
    }

    /// Queues untagged data after updating the session from it (and the mailbox event it
    /// causes after it).
    #[inline(always)]
    fn push_data(&mut self, d: Data) {
        let extra = self.note_data(&d);
        self.events.push_back(Event::Data(d));
        if let Some(e) = extra {
            self.events.push_back(e);
        }
    }

    /// Updates the session from untagged data; returns the mailbox event it causes. Takes
    /// the data by reference: the caller moves it into the event queue once (a FETCH with its
    /// inline items is a few hundred bytes, and each move is a copy).
    fn note_data(&mut self, d: &Data) -> Option<Event> {
        let mut extra = None;
        match d {
            Data::Capability(c) => {
                self.caps = Some(c.iter().cloned().collect());
                self.detect_profile();
            }
            Data::List(item) => note_list(&mut self.delimiter, item),
            Data::Enabled(c) => {
                for cap in c {
                    if !self.enabled.contains(cap) {
                        self.enabled.push(cap.clone());
                    }
                    // RFC 6855 §3 / RFC 9051: the server may now send UTF-8 in quoted strings
                    // and mailbox names; the decoder accepts them only from here on.
                    if matches!(cap, Capability::Utf8Accept | Capability::Imap4Rev2) {
                        let mut o = self.rx.options().clone();
                        o.utf8 = true;
                        self.rx.set_options(o);
                    }
                }
            }
            Data::Flags(f) => {
                self.selected.get_or_insert_with(Selected::default).flags = f.clone();
            }
            Data::Exists(n) => {
                let sel = self.selected.get_or_insert_with(Selected::default);
                extra = Some(match sel.map.set_exists(*n) {
                    Ok(()) => Event::Mailbox(MailboxEvent::Exists { exists: *n }),
                    Err(e) => Event::ProtocolError(ProtocolError::Mailbox(e)),
                });
            }
            Data::Expunge(seq) => {
                let sel = self.selected.get_or_insert_with(Selected::default);
                extra = Some(match sel.map.expunge(*seq) {
                    Ok(uid) => Event::Mailbox(MailboxEvent::Expunged {
                        seq: seq.get(),
                        uid: uid.map(|u| u.get()),
                    }),
                    Err(e) => Event::ProtocolError(ProtocolError::Mailbox(e)),
                });
            }
            Data::Fetch { seq, items } => {
                if let Some(e) = note_fetch(&mut self.selected, *seq, items) {
                    extra = Some(Event::ProtocolError(ProtocolError::Mailbox(e)));
                }
            }
            Data::Vanished { earlier, uids } => {
                let mut count = 0u64;
                if let Some(sel) = self.selected.as_mut() {
                    for r in uids.ranges() {
                        let (a, b) = (r.start().get(), r.end().get());
                        let (lo, hi) = (a.min(b), a.max(b));
                        count += u64::from(hi - lo) + 1;
                        if !*earlier {
                            let _ = sel.map.remove_uid_range(lo, hi);
                        }
                    }
                }
                extra = Some(Event::Mailbox(MailboxEvent::Vanished {
                    earlier: *earlier,
                    count,
                }));
            }
            _ => {}
        }
        extra
    }

    // ---- internals: completion and shutdown ----

    fn complete(&mut self, c: Cmd, result: Result<Completion, CommandError>) {
        if let Some(t) = &c.tag {
            self.tags.release(t);
        }
        if matches!(c.kind, Kind::Authenticate(_)) {
            self.authenticating = self
                .cmds
                .iter()
                .any(|o| matches!(o.kind, Kind::Authenticate(_)));
        }
        #[cfg(feature = "tracing")]
        c.span.in_scope(|| match &result {
            Ok(_) => tracing::debug!(ok = true, "command completed"),
            // The error's kind only: its text may echo what the server was sent.
            Err(e) => tracing::debug!(ok = false, error = error_kind(e), "command completed"),
        });
        if !c.internal {
            self.events.push_back(Event::Completed { id: c.id, result });
        }
    }

    fn shutdown(&mut self, reason: CloseReason, err: CommandError) {
        if self.is_closed() {
            return;
        }
        self.close_reason = Some(reason.clone());
        while let Some(c) = self.cmds.pop_front() {
            let e = match (&c.kind, &reason) {
                // A refused STARTTLS upgrade must not read as a lost connection.
                (_, CloseReason::TimedOut) => CommandError::TimedOut,
                _ => err.clone(),
            };
            self.complete(c, Err(e));
        }
        self.timers.stop_all();
        self.pending_out.0.clear();
        self.events.push_back(Event::Closed(reason));
    }

    fn update_timers(&mut self) {
        if self.is_closed() {
            return;
        }
        // Response: the oldest command sent and not completed, idling excluded.
        let waiting = self.cmds.iter().filter(|c| c.started()).any(|c| {
            !matches!(c.kind, Kind::Idle(IdlePhase::Running) | Kind::IdlePoll)
                && c.sent_at.is_some()
        });
        if waiting && self.handoff.is_none() {
            let since = self
                .cmds
                .iter()
                .filter_map(|c| c.sent_at)
                .min()
                .map_or(self.last_rx, |s| s.max(self.last_rx));
            self.timers
                .set(Timer::Response, since, self.cfg.response_timeout);
        } else {
            self.timers.stop(Timer::Response);
        }
        // Keep-alive: nothing at all in progress.
        let polling = self.cmds.iter().any(|c| matches!(c.kind, Kind::IdlePoll));
        if !polling {
            let idle_running = self.cmds.iter().any(|c| matches!(c.kind, Kind::Idle(_)));
            match self.cfg.keepalive {
                Some(k)
                    if self.cmds.is_empty()
                        && !idle_running
                        && self.handoff.is_none()
                        && matches!(
                            self.state,
                            State::NotAuthenticated | State::Authenticated | State::Selected
                        ) =>
                {
                    let from = self.last_rx;
                    if !self.timers.is_armed(Timer::KeepAlive) {
                        self.timers.set(Timer::KeepAlive, from, k);
                    }
                }
                _ => self.timers.stop(Timer::KeepAlive),
            }
        }
    }
}

impl Inflating for Client {
    fn inflater(&mut self) -> Option<&mut Deflate> {
        self.deflate.as_mut()
    }

    fn takes_input(&self) -> bool {
        !self.is_closed() && self.handoff.is_none() && self.events.len() < self.cfg.max_events
    }

    fn holds_events(&self) -> bool {
        !self.events.is_empty()
    }

    fn inflate_window(&self) -> usize {
        self.cfg.inflate_window
    }

    fn take_piece(&mut self, piece: &[u8]) {
        self.rx_push(piece);
        self.process();
        self.flush_tap();
    }

    fn inflate_failed(&mut self, error: String) {
        self.shutdown(
            CloseReason::Compression(error),
            CommandError::ConnectionLost,
        );
    }
}
