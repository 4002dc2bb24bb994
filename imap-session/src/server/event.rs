//! What the server reports to the application and what the application answers (RFC 9051
//! §6 commands as requests, §7 responses as replies, §7.5.1 unilateral updates).

use bytes::Bytes;
use imapwire_codec::command::{
    CommandBody, FetchModifier, SelectParam, StoreData, StoreModifier, StoreType,
};
use imapwire_codec::core::{Charset, Tag};
use imapwire_codec::datetime::DateTime;
use imapwire_codec::fetch::{FetchItems, MessageDataItem, Part, Section};
use imapwire_codec::flag::{Flag, FlagPerm};
use imapwire_codec::framer::LiteralMode;
use imapwire_codec::mailbox::Mailbox;
use imapwire_codec::response::{Data, ResponseCode, Status};
use imapwire_codec::search::SearchKey;
use imapwire_codec::sequence::{SequenceSet, UidSet};

/// Identifies one [`Request`] until it is answered with [`Server::reply`](super::Server::reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub(crate) u64);

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "R{}", self.0)
    }
}

/// Identifies the data of one APPEND message ([`Event::AppendChunk`], [`AppendedMessage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppendStream(pub(crate) u64);

impl std::fmt::Display for AppendStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "A{}", self.0)
    }
}

/// Identifies the data of one streamed FETCH literal ([`FetchPart::Streamed`],
/// [`Event::BodyWanted`]). The backend chooses it: it must be unique among the streams of
/// one session that have not ended (been sent whole, failed or dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BodyStream(pub u64);

impl std::fmt::Display for BodyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "B{}", self.0)
    }
}

/// An output of the server for the application.
#[derive(Debug)]
#[non_exhaustive]
#[must_use = "events carry requests that must be answered and hand-offs that must be acted on"]
pub enum Event {
    /// A client authenticated (LOGIN, AUTHENTICATE, or the PREAUTH greeting).
    Authenticated {
        /// The user name (the authorization identity when one was given and allowed).
        user: String,
    },
    /// UNAUTHENTICATE (RFC 8437) succeeded: the connection is back in the not-authenticated
    /// state; the application drops what it holds for the user.
    Unauthenticated,
    /// A mailbox operation for the backend. Nothing more is read until it is answered with
    /// [`Server::reply`](super::Server::reply).
    Request {
        /// Answer with this id.
        id: RequestId,
        /// The command's tag (for logging).
        tag: Tag,
        /// What to do.
        request: Request,
    },
    /// A synchronizing literal awaits a decision
    /// ([`LiteralDecisions::Application`](super::LiteralDecisions::Application)): call
    /// [`Server::accept_literal`](super::Server::accept_literal) or
    /// [`Server::reject_literal`](super::Server::reject_literal).
    LiteralAnnounced {
        /// The command's tag, when it could be recovered.
        tag: Option<Bytes>,
        /// The command name in upper case (`b"UID FETCH"` for UID commands), when known.
        command: Option<Bytes>,
        /// The announced length.
        length: u64,
        /// Synchronizing or not (always synchronizing here).
        mode: LiteralMode,
        /// `~{n}` (literal8).
        binary: bool,
    },
    /// A piece of an APPEND message's data, in order (RFC 9051 §6.3.12). A message longer
    /// than [`INLINE_APPEND_MAX`](super::INLINE_APPEND_MAX) arrives in pieces as the client
    /// sends it (each at most one read's worth), a shorter one in one piece; the
    /// [`Request::Append`] that names the stream comes after its last piece. Keep the data
    /// where the message will be stored (a Maildir `tmp/` file, say): the session never
    /// holds a whole message.
    AppendChunk {
        /// The message the data belongs to.
        stream: AppendStream,
        /// The data.
        data: Bytes,
    },
    /// The data of `stream` will not be used (the APPEND failed before it reached the
    /// backend: a syntax error after the literal, a message over the limit, the session
    /// ended): drop what was kept of it.
    AppendAborted {
        /// The message.
        stream: AppendStream,
    },
    /// The session is sending the literal of a [`FetchPart::Streamed`] item and has room
    /// for more of it: answer with [`Server::body_chunk`](super::Server::body_chunk) (at
    /// most `max` octets, at least one) or, when the store cannot deliver,
    /// [`Server::body_failed`](super::Server::body_failed). At most one is outstanding;
    /// the next comes once the chunk was queued and the output queue has room again
    /// ([`ServerConfig::max_output`](super::ServerConfig::max_output)).
    BodyWanted {
        /// The stream.
        stream: BodyStream,
        /// The most octets wanted (never more than what is left of the literal).
        max: usize,
    },
    /// The data of `stream` will not be asked for any more (the session ended before the
    /// literal was sent whole, or the message was not in the session's view): release
    /// what was kept for it (an open file, say). Not reported for a stream sent whole or
    /// failed with [`Server::body_failed`](super::Server::body_failed), except one of
    /// length 0, which is never asked for: it is reported when its (empty) literal is sent.
    BodyDropped {
        /// The stream.
        stream: BodyStream,
    },
    /// A malformed command was answered with BAD (for logging).
    Malformed {
        /// The tag, when it could be recovered.
        tag: Option<Tag>,
        /// What was wrong.
        reason: String,
    },
    /// The session stops reading and writing plaintext: see [`HandOff`].
    HandOff(HandOff),
    /// The session has ended; write what [`Server::poll_transmit`](super::Server::poll_transmit)
    /// still returns, then close the connection.
    Closed(CloseReason),
}

/// A transport hand-off.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandOff {
    /// STARTTLS was accepted: write the queued output (the tagged OK), run the TLS handshake,
    /// then call [`Server::transport_upgraded`](super::Server::transport_upgraded).
    StartTls {
        /// Bytes that followed the STARTTLS command in the plaintext stream (the same read, or
        /// later plaintext reads). They are never executed (the plaintext-injection defence,
        /// RFC 9051 §11.1); non-empty means an attack or a broken client.
        discarded: Bytes,
    },
}

/// Why the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client sent LOGOUT.
    Logout,
    /// The client closed the connection.
    PeerClosed,
    /// No command for longer than the autologout time (RFC 9051 §5.4).
    Autologout,
    /// An IDLE was held longer than the configured limit.
    IdleHold,
    /// Too many failed authentication attempts.
    TooManyAuthFailures,
    /// The greeting was BYE.
    Refused,
    /// More unilateral updates were pending than allowed.
    TooManyUpdates,
    /// The application closed the session.
    Application,
    /// The connection broke beyond recovery: what failed and where.
    Protocol(ProtocolFault),
    /// The store could not deliver the data of a streamed FETCH literal whose length was
    /// already sent ([`Server::body_failed`](super::Server::body_failed), or an empty
    /// [`Server::body_chunk`](super::Server::body_chunk)): a literal cannot be taken back,
    /// so the connection is closed after the octets sent so far (the client sees the
    /// connection end inside the literal).
    BodyFailed {
        /// The stream.
        stream: BodyStream,
        /// The literal's announced length.
        promised: u64,
        /// The octets of it that were sent.
        sent: u64,
    },
}

/// What ended a session with [`CloseReason::Protocol`], and where in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolFault {
    /// The client's COMPRESS=DEFLATE input (RFC 4978) could not be inflated: invalid
    /// compressed data, or data after a final DEFLATE block.
    Inflate {
        /// The inflater's words.
        detail: String,
        /// Compressed octets from the client the inflater had read when it failed, counted
        /// from the first after the COMPRESS command line (the last may be the bad one).
        offset: u64,
    },
    /// The session's output could not be compressed.
    Deflate {
        /// The compressor's words.
        detail: String,
        /// Octets of output compressed before the failure.
        offset: u64,
    },
}

impl std::fmt::Display for ProtocolFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProtocolFault::Inflate { detail, offset } => write!(
                f,
                "invalid compressed data from the client at compressed octet {offset}: {detail}"
            ),
            ProtocolFault::Deflate { detail, offset } => write!(
                f,
                "compressing output failed after {offset} octets: {detail}"
            ),
        }
    }
}

/// A mailbox operation for the backend.
///
/// Message numbers are UIDs throughout: the server keeps each session's sequence-number view
/// and translates. The `uids` are those of the session's view that the command's set
/// names, ascending; the backend answers for those it still has.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// SELECT (`read_only` false) or EXAMINE: answer with [`ReplyData::Selected`].
    Select {
        /// The mailbox.
        mailbox: Mailbox,
        /// EXAMINE.
        read_only: bool,
        /// Parameters (CONDSTORE, QRESYNC).
        params: Vec<SelectParam>,
    },
    /// `[UID] FETCH`: answer with [`ReplyData::Message`] per message.
    Fetch {
        /// The messages.
        uids: Vec<u32>,
        /// What to fetch.
        items: FetchItems,
        /// Modifiers (CHANGEDSINCE, VANISHED).
        modifiers: Vec<FetchModifier>,
        /// With the VANISHED modifier (`UID FETCH set items (CHANGEDSINCE n VANISHED)`,
        /// QRESYNC, RFC 7162 §3.2.6): the UID set as the client sent it (`$` replaced by the
        /// saved result; `*` is the highest UID of the mailbox). Answer first with
        /// `ReplyData::Data(Data::Vanished { earlier: true, .. })` naming the UIDs of this set
        /// expunged with a mod-sequence above `n`, then the messages.
        vanished: Option<SequenceSet>,
    },
    /// `[UID] STORE`: answer with [`ReplyData::Message`] (FLAGS, MODSEQ) per changed message
    /// unless `silent`, and [`ReplyData::Modified`] for UNCHANGEDSINCE failures.
    Store {
        /// The messages.
        uids: Vec<u32>,
        /// Replace, add or remove.
        kind: StoreType,
        /// `.SILENT`.
        silent: bool,
        /// The flags.
        data: StoreData,
        /// Modifiers (UNCHANGEDSINCE).
        modifiers: Vec<StoreModifier>,
    },
    /// `[UID] SEARCH`: answer with [`ReplyData::Matches`].
    Search {
        /// The criteria; sequence-number keys refer to `view`.
        criteria: Vec<SearchKey>,
        /// The charset.
        charset: Option<Charset>,
        /// The session's view: `view[n - 1]` is the UID of message `n`.
        view: Vec<u32>,
    },
    /// `[UID] COPY`: answer with [`ReplyData::Copied`], and [`ReplyData::NewMessages`] when
    /// the target is the selected mailbox.
    Copy {
        /// The messages.
        uids: Vec<u32>,
        /// The target.
        mailbox: Mailbox,
        /// The highest UID of the session's view of its selected mailbox (see
        /// [`ReplyData::NewMessages`]).
        last_uid: u32,
    },
    /// `[UID] MOVE`: answer with [`ReplyData::Copied`] (sent as an untagged `OK [COPYUID]`
    /// before the expunges, RFC 6851 §4.3), [`ReplyData::Expunged`] per message removed,
    /// [`ReplyData::NewMessages`] when the target is the selected mailbox, and the new
    /// HIGHESTMODSEQ as the reply's code when any message was removed (RFC 6851 §4.4).
    Move {
        /// The messages.
        uids: Vec<u32>,
        /// The target.
        mailbox: Mailbox,
        /// The highest UID of the session's view of its selected mailbox (see
        /// [`ReplyData::NewMessages`]).
        last_uid: u32,
    },
    /// EXPUNGE (`uids` `None`) or UID EXPUNGE: answer with [`ReplyData::Expunged`] per
    /// message removed, and the mailbox's new HIGHESTMODSEQ as the reply's code when any
    /// was (RFC 7162 §3.2.7; the session sends it only to CONDSTORE-aware clients).
    Expunge {
        /// UID EXPUNGE's messages.
        uids: Option<Vec<u32>>,
    },
    /// CLOSE: expunge silently (unless the mailbox is read-only) and deselect.
    Close,
    /// APPEND (MULTIAPPEND: several messages): store the messages whose data came as
    /// [`Event::AppendChunk`]s, all or none; answer `OK` (with `APPENDUID`, UIDPLUS) or
    /// `NO [TRYCREATE]` when the mailbox does not exist, with [`ReplyData::NewMessages`] when
    /// the target is the selected mailbox. Whatever the answer, the streams are done with.
    Append {
        /// The target.
        mailbox: Mailbox,
        /// The messages, in order.
        messages: Vec<AppendedMessage>,
        /// While a mailbox is selected, the highest UID of the session's view of it (0 when
        /// it is empty); `None` in the authenticated state (see [`ReplyData::NewMessages`]).
        last_uid: Option<u32>,
    },
    /// Any other command valid in the authenticated or selected state that does not use
    /// sequence numbers (LIST, LSUB, STATUS, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
    /// NAMESPACE, extensions): answer with [`ReplyData::Data`] items, sent as they are.
    Command(CommandBody),
}

/// One message of a [`Request::Append`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppendedMessage {
    /// Its data: the [`Event::AppendChunk`]s of this stream.
    pub stream: AppendStream,
    /// The length the client announced (the sum of the chunks).
    pub length: u64,
    /// Flags to set.
    pub flags: Vec<Flag>,
    /// The INTERNALDATE to set.
    pub date: Option<DateTime>,
    /// Sent as `literal8` (RFC 3516; may contain NUL).
    pub binary: bool,
}

/// The backend's answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reply {
    /// Untagged data, sent in order before the completion.
    pub data: Vec<ReplyData>,
    /// The completion status.
    pub status: Status,
    /// The completion's response code.
    pub code: Option<ResponseCode>,
    /// The completion's text.
    pub text: String,
}

impl Reply {
    /// `OK` with `data`.
    pub fn ok(data: Vec<ReplyData>) -> Self {
        Reply {
            data,
            status: Status::Ok,
            code: None,
            text: "done".to_owned(),
        }
    }

    /// `NO [code] text`.
    pub fn no(code: Option<ResponseCode>, text: &str) -> Self {
        Reply {
            data: Vec::new(),
            status: Status::No,
            code,
            text: text.to_owned(),
        }
    }

    /// `BAD text`.
    pub fn bad(text: &str) -> Self {
        Reply {
            data: Vec::new(),
            status: Status::Bad,
            code: None,
            text: text.to_owned(),
        }
    }

    /// Sets the completion's response code.
    pub fn with_code(mut self, code: ResponseCode) -> Self {
        self.code = Some(code);
        self
    }
}

/// One piece of a [`Reply`].
// `Data` is the common case (LIST, STATUS): boxing it would allocate once per response line.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyData {
    /// Untagged data without message numbers, sent as it is (LIST, STATUS, NAMESPACE, ...).
    Data(Data),
    /// FETCH data of the message with this UID; sent with the message's sequence number in
    /// this session (and its UID for UID commands), dropped when the session does not know
    /// the message.
    Message {
        /// The UID.
        uid: u32,
        /// The data items.
        items: Vec<MessageDataItem>,
    },
    /// FETCH data of the message with this UID of which some items are streamed: like
    /// [`ReplyData::Message`], with literals whose data the session asks for in chunks
    /// ([`Event::BodyWanted`]) as the client reads, so a large body is never held whole
    /// (see [the module docs](super#streamed-fetch-bodies)).
    StreamedMessage {
        /// The UID.
        uid: u32,
        /// The data items, in order.
        parts: Vec<FetchPart>,
    },
    /// The message was removed by this command (EXPUNGE, MOVE): sent as `EXPUNGE n`, or
    /// `VANISHED` once QRESYNC is enabled.
    Expunged(u32),
    /// SEARCH results as UIDs (sent as sequence numbers for SEARCH).
    Matches {
        /// The matching UIDs.
        uids: Vec<u32>,
        /// The highest MODSEQ among them (CONDSTORE).
        modseq: Option<u64>,
    },
    /// COPY/MOVE result: `COPYUID` (UIDPLUS) in COPY's completion, in an untagged OK before
    /// the expunges for MOVE.
    Copied {
        /// The target's UIDVALIDITY.
        uid_validity: u32,
        /// The source UIDs.
        source: Vec<u32>,
        /// The new UIDs, in the order of `source`.
        target: Vec<u32>,
    },
    /// The command added messages to the session's selected mailbox (APPEND, COPY or MOVE
    /// into it; RFC 9051 §6.3.12 and §6.4.7): every UID of that mailbox above the request's
    /// `last_uid`, ascending, including those other sessions added that this one may not have
    /// been notified of yet. Sent as `* n EXISTS` before the completion, so the client sees the
    /// new messages before the tagged OK and a `UID SEARCH` right after finds them. Ignored in
    /// the reply to a request that has no `last_uid` (and when no mailbox is selected).
    NewMessages(Vec<u32>),
    /// STORE with UNCHANGEDSINCE: these messages were not changed (`MODIFIED` code).
    Modified(Vec<u32>),
    /// The answer to SELECT/EXAMINE.
    Selected(Selected),
}

/// One item of a [`ReplyData::StreamedMessage`].
// An item is the common case: boxing it would allocate per item.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchPart {
    /// An item sent as it is.
    Item(MessageDataItem),
    /// An item whose literal of `length` octets is streamed.
    Streamed(StreamedItem),
}

/// The name of a streamed FETCH item, whose value is a literal sent in chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamedName {
    /// `RFC822` (the whole message).
    Rfc822,
    /// `RFC822.TEXT`.
    Rfc822Text,
    /// `BODY[section]<origin>` (`section` `None` is `BODY[]`, the whole message).
    BodySection {
        /// The section.
        section: Option<Section>,
        /// The origin octet of a partial fetch.
        origin: Option<u32>,
    },
    /// `BINARY[part]<origin>`, sent as `literal8` (`~{n}`, RFC 3516).
    Binary {
        /// The part (`None` is `BINARY[]`).
        section: Option<Part>,
        /// The origin octet of a partial fetch.
        origin: Option<u32>,
    },
}

/// A FETCH item whose literal is streamed: its length is known up front (sent as `{length}`),
/// its data comes from the application as [`Event::BodyWanted`] asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamedItem {
    /// What the item is.
    pub name: StreamedName,
    /// The literal's length: exactly this many octets must be delivered.
    pub length: u64,
    /// The stream the data is asked for by.
    pub stream: BodyStream,
}

impl StreamedItem {
    /// An item `name` whose `length` octets come from `stream`.
    pub fn new(name: StreamedName, length: u64, stream: BodyStream) -> Self {
        StreamedItem {
            name,
            length,
            stream,
        }
    }
}

/// A mailbox as SELECT/EXAMINE opens it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Selected {
    /// UIDs of the messages, ascending (become sequence numbers 1..).
    pub uids: Vec<u32>,
    /// The flags defined in the mailbox.
    pub flags: Vec<Flag>,
    /// The flags the client can change permanently.
    pub permanent_flags: Vec<FlagPerm>,
    /// UIDVALIDITY.
    pub uid_validity: u32,
    /// UIDNEXT.
    pub uid_next: u32,
    /// HIGHESTMODSEQ (CONDSTORE), if the mailbox keeps mod-sequences.
    pub highest_modseq: Option<u64>,
    /// Opened read-only (also for SELECT, when the user may not write).
    pub read_only: bool,
    /// QRESYNC (RFC 7162 §3.2.5): UIDs expunged since the client's mod-sequence, sent as
    /// `VANISHED (EARLIER)` (`None`: none).
    pub vanished: Option<UidSet>,
    /// QRESYNC: messages changed since the client's mod-sequence, `(uid, flags, modseq)`,
    /// sent as FETCH responses.
    pub changed: Vec<(u32, Vec<Flag>, u64)>,
}

impl Selected {
    /// A mailbox with these UIDs, UIDVALIDITY and UIDNEXT.
    pub fn new(uids: Vec<u32>, uid_validity: u32, uid_next: u32) -> Self {
        Selected {
            uids,
            uid_validity,
            uid_next,
            ..Selected::default()
        }
    }
}

/// A change made by another session (or by delivery) to a mailbox, for
/// [`Server::notify`](super::Server::notify). The server ignores changes to mailboxes it does
/// not have selected and sends the rest where RFC 9051 §7.5.1 allows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Update {
    /// A new message (`EXISTS`).
    Exists {
        /// The UID (higher than every UID before it).
        uid: u32,
    },
    /// A message was expunged (`EXPUNGE` / `VANISHED`).
    Expunged {
        /// The UID.
        uid: u32,
    },
    /// A message's flags changed (`FETCH (FLAGS ...)`).
    Flags {
        /// The UID.
        uid: u32,
        /// The new flags.
        flags: Vec<Flag>,
        /// The new MODSEQ (CONDSTORE).
        modseq: Option<u64>,
    },
}

/// A call the session could not honour (a mistake of the caller).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The session has ended.
    #[error("the session is closed")]
    Closed,
    /// No request with this id is waiting for a reply.
    #[error("no request {0} is waiting for a reply")]
    UnknownRequest(RequestId),
    /// No literal awaits a decision.
    #[error("no literal awaits a decision")]
    NoLiteralPending,
    /// No hand-off is in progress.
    #[error("no transport hand-off is in progress")]
    NoHandOff,
    /// The data of this stream is not wanted now (no [`Event::BodyWanted`] for it is
    /// outstanding).
    #[error("no data of body stream {0} is wanted now")]
    BodyNotWanted(BodyStream),
    /// A body chunk longer than the [`Event::BodyWanted`] asked for (nothing was taken).
    #[error("a body chunk of {got} octets where at most {max} were wanted")]
    BodyChunkTooLong {
        /// The chunk's length.
        got: usize,
        /// What was asked for.
        max: usize,
    },
}
