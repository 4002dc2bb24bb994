//! Client commands (RFC 9051 §6, §9 `command`; RFC 3501 §6 for the IMAP4rev1 commands LSUB,
//! CHECK and SEARCH CHARSET), the AUTHENTICATE continuation line (RFC 9051 §6.2.2) and the
//! IDLE `DONE` line (RFC 9051 §6.3.13), with the generic extension grammar of RFC 4466 and
//! the command extensions real clients send: SASL-IR (RFC 4959), CONDSTORE/QRESYNC
//! (RFC 7162), SPECIAL-USE (RFC 6154), LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
//! LIST-MYRIGHTS (RFC 8440), LIST-METADATA (RFC 9590), BINARY (RFC 3516), MULTIAPPEND
//! (RFC 3502), CATENATE (RFC 4469), UTF8=ACCEPT (RFC 6855), ESEARCH (RFC 4731), CONTEXT
//! (RFC 5267), PARTIAL (RFC 9394), ID (RFC 2971), QUOTA (RFC 9208), ACL (RFC 4314),
//! METADATA (RFC 5464), NOTIFY (RFC 5465), SORT/THREAD (RFC 5256), MULTISEARCH (RFC 7377),
//! REPLACE (RFC 8508), UNAUTHENTICATE (RFC 8437), COMPRESS (RFC 4978), URLAUTH (RFC 4467),
//! and Gmail's XLIST and X-GM-LABELS.
//!
//! Unknown command names decode to [`CommandBody::Other`] with their raw arguments; a known
//! name with arguments that do not follow its grammar is a decode error. Hand-built values
//! can be checked with [`CommandBody::validate`] before encoding.
//!
//! ```
//! use bytes::Bytes;
//! use imapwire_codec::DecodeOptions;
//! use imapwire_codec::codec::Message;
//! use imapwire_codec::command::{Command, CommandBody};
//!
//! let msg = Bytes::from_static(b"a1 LOGIN alice {6}\r\nsecret\r\n");
//! let cmd = Command::decode(&msg, &DecodeOptions::strict()).unwrap().message;
//! assert!(matches!(cmd.body(), CommandBody::Login { .. }));
//! assert!(!format!("{cmd:?}").contains("secret"));
//! ```

use std::num::NonZeroU32;

use bytes::Bytes;

use crate::capability::{AuthMechanism, Capability};
use crate::core::{AString, Atom, Charset, IString, Secret, Tag};
use crate::datetime::DateTime;
use crate::encode::{Encode, EncodeBuf, LiteralMode};
use crate::error::ValidationError;
use crate::fetch::{FetchItems, encode_fetch_att_list};
use crate::flag::{Flag, MailboxAttribute, parse_flag_list};
use crate::mailbox::{ListMailbox, Mailbox};
use crate::options::Quirk;
use crate::parse::{Fail, PResult, Parser};
use crate::search::{PartialRange, SearchKey, SearchReturnOption, SortCriterion};
use crate::sequence::{SequenceSet, UidValidity};
use crate::status::StatusAttribute;
pub use crate::vocab::{QuotaResourceName, ThreadAlgorithm};

mod encode;
mod extension_args;
mod grammar;
mod kind;
mod lines;
mod mailbox_args;
mod message_args;
mod parse;
mod raw;
mod validate;

#[cfg(test)]
pub(crate) mod strategies;
#[cfg(test)]
mod tests;

pub use self::extension_args::*;
use self::grammar::*;
pub use self::kind::{CommandName, HandOff, State, StateSet};
pub use self::lines::{AuthenticateData, IdleDone};
pub use self::mailbox_args::*;
pub use self::message_args::*;
use self::parse::*;
use self::raw::*;
pub use crate::ext::{TaggedExtComp, TaggedExtVal};
use crate::ext::{encode_comps, parse_comps, tagged_label};
use crate::parse::{Word, end_ahead};

// ---------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------

/// A tagged command (`command`).
///
/// Built with [`Command::new`], which validates the body, or decoded: every `Command` value
/// encodes to valid protocol that decodes to an equal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    tag: Tag,
    body: CommandBody,
}

impl Command {
    /// A command with the given tag; fails when the body cannot be encoded as valid protocol
    /// that decodes to the same value (see [`CommandBody::validate`]).
    pub fn new(tag: Tag, body: CommandBody) -> Result<Self, ValidationError> {
        body.validate()?;
        Ok(Command { tag, body })
    }

    /// The tag.
    pub fn tag(&self) -> &Tag {
        &self.tag
    }

    /// The command without its tag.
    pub fn body(&self) -> &CommandBody {
        &self.body
    }

    /// The tag and the body.
    pub fn into_parts(self) -> (Tag, CommandBody) {
        (self.tag, self.body)
    }
}

/// The command without its tag.
///
/// Variants with `uid: bool` are the `UID` forms when it is set (the sequence set then holds
/// UIDs). Lists documented as non-empty must not be empty to encode valid protocol.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandBody {
    // ---- any state ----
    /// `CAPABILITY`
    Capability,
    /// `NOOP`
    Noop,
    /// `LOGOUT`
    Logout,
    /// `ID NIL / ("field" value ...)` (RFC 2971); `None` is `NIL`.
    Id(Option<crate::ext::IdParams>),

    // ---- not authenticated ----
    /// `STARTTLS`
    StartTls,
    /// `AUTHENTICATE mechanism [initial-response]` (SASL-IR RFC 4959; an empty initial
    /// response is sent as `=`).
    Authenticate {
        /// SASL mechanism (the type of [`Capability::Auth`]).
        mechanism: AuthMechanism,
        /// Decoded initial response.
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::core::opt_secret_bytes))]
        initial_response: Option<Secret<Bytes>>,
    },
    /// `LOGIN userid password`
    Login {
        /// User name.
        username: AString,
        /// Password.
        password: Secret<AString>,
    },

    // ---- authenticated ----
    /// `ENABLE capability ...` (non-empty).
    Enable(#[cfg_attr(feature = "arbitrary", arbitrary(with = capabilities))] Vec<Capability>),
    /// `SELECT mailbox [(params)]`
    Select {
        /// Mailbox.
        mailbox: Mailbox,
        /// Parameters (empty: none sent).
        params: Vec<SelectParam>,
    },
    /// `EXAMINE mailbox [(params)]`
    Examine {
        /// Mailbox.
        mailbox: Mailbox,
        /// Parameters (empty: none sent).
        params: Vec<SelectParam>,
    },
    /// `CREATE mailbox [(params)]`
    Create {
        /// Mailbox.
        mailbox: Mailbox,
        /// Parameters (empty: none sent).
        params: Vec<CreateParam>,
    },
    /// `DELETE mailbox`
    Delete(Mailbox),
    /// `RENAME from to`
    Rename {
        /// Existing name.
        from: Mailbox,
        /// New name.
        to: Mailbox,
    },
    /// `SUBSCRIBE mailbox`
    Subscribe(Mailbox),
    /// `UNSUBSCRIBE mailbox`
    Unsubscribe(Mailbox),
    /// `LIST [(select-opts)] reference pattern(s) [RETURN (opts)]` (RFC 5258).
    List {
        /// Selection options; `None` sends none, `Some(vec![])` sends `()`.
        selection: Option<Vec<ListSelectOption>>,
        /// Reference name.
        reference: Mailbox,
        /// Patterns (non-empty; more than one are sent parenthesised).
        patterns: Vec<ListMailbox>,
        /// Return options; `None` sends none, `Some(vec![])` sends `RETURN ()`.
        return_opts: Option<Vec<ListReturnOption>>,
    },
    /// `LSUB reference pattern` (IMAP4rev1).
    Lsub {
        /// Reference name.
        reference: Mailbox,
        /// Pattern.
        pattern: ListMailbox,
    },
    /// `XLIST reference pattern` (Gmail legacy).
    XList {
        /// Reference name.
        reference: Mailbox,
        /// Pattern.
        pattern: ListMailbox,
    },
    /// `RLIST reference pattern` (MAILBOX-REFERRALS, RFC 2193): LIST that may also return
    /// remote mailboxes.
    RList {
        /// Reference name.
        reference: Mailbox,
        /// Pattern.
        pattern: ListMailbox,
    },
    /// `RLSUB reference pattern` (MAILBOX-REFERRALS, RFC 2193): LSUB that may also return
    /// remote mailboxes.
    RLsub {
        /// Reference name.
        reference: Mailbox,
        /// Pattern.
        pattern: ListMailbox,
    },
    /// `NAMESPACE`
    Namespace,
    /// `STATUS mailbox (att ...)` (non-empty).
    Status {
        /// Mailbox.
        mailbox: Mailbox,
        /// Requested attributes.
        attributes: Vec<StatusAttribute>,
    },
    /// `APPEND mailbox message...` (MULTIAPPEND: more than one message; non-empty).
    Append {
        /// Target mailbox.
        mailbox: Mailbox,
        /// Messages.
        messages: Vec<AppendMessage>,
    },
    /// `IDLE`
    Idle,
    /// `GETQUOTA root` (RFC 9208)
    GetQuota(AString),
    /// `GETQUOTAROOT mailbox`
    GetQuotaRoot(Mailbox),
    /// `SETQUOTA root (resource limit ...)`
    SetQuota {
        /// Quota root.
        root: AString,
        /// Limits (may be empty).
        limits: Vec<QuotaLimit>,
    },
    /// `GETACL mailbox` (RFC 4314)
    GetAcl(Mailbox),
    /// `SETACL mailbox identifier [+/-]rights`
    SetAcl {
        /// Mailbox.
        mailbox: Mailbox,
        /// Identifier.
        identifier: AString,
        /// Replace, add or remove.
        modification: AclModification,
        /// Rights letters (without the `+`/`-`).
        rights: AString,
    },
    /// `DELETEACL mailbox identifier`
    DeleteAcl {
        /// Mailbox.
        mailbox: Mailbox,
        /// Identifier.
        identifier: AString,
    },
    /// `LISTRIGHTS mailbox identifier`
    ListRights {
        /// Mailbox.
        mailbox: Mailbox,
        /// Identifier.
        identifier: AString,
    },
    /// `MYRIGHTS mailbox`
    MyRights(Mailbox),
    /// `GETMETADATA [(options)] mailbox entries` (RFC 5464); the empty mailbox name means
    /// server metadata.
    GetMetadata {
        /// Options (empty: none sent).
        options: Vec<GetMetadataOption>,
        /// Mailbox.
        mailbox: Mailbox,
        /// Entry names (non-empty).
        entries: Vec<AString>,
    },
    /// `SETMETADATA mailbox (entry value ...)`
    SetMetadata {
        /// Mailbox.
        mailbox: Mailbox,
        /// Entries and values (non-empty).
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::core::strings_opt_bytes))]
        entries: Vec<(AString, MetadataValue)>,
    },
    /// `NOTIFY NONE / SET ...` (RFC 5465)
    Notify(Notify),
    /// `COMPRESS mechanism` (RFC 4978; `DEFLATE`).
    Compress(Atom),
    /// `UNAUTHENTICATE` (RFC 8437)
    Unauthenticate,
    /// `GETJMAPACCESS` (RFC 9698): asks for the untagged `JMAPACCESS` URL.
    GetJmapAccess,
    /// `ESEARCH [IN (...)] [RETURN (...)] [CHARSET c] keys` (MULTISEARCH, RFC 7377).
    ESearch {
        /// Source mailboxes.
        source: Option<ESearchSource>,
        /// Return options.
        return_opts: Option<Vec<SearchReturnOption>>,
        /// Charset.
        charset: Option<Charset>,
        /// Keys (non-empty).
        criteria: Vec<SearchKey>,
    },
    /// `GENURLAUTH url mechanism ...` (RFC 4467; non-empty).
    GenUrlAuth(Vec<(AString, UrlAuthMechanism)>),
    /// `RESETKEY [mailbox mechanism...]` (RFC 4467).
    ResetKey(Option<(Mailbox, Vec<UrlAuthMechanism>)>),
    /// `URLFETCH url ...` (RFC 4467; non-empty).
    UrlFetch(Vec<AString>),

    // ---- selected ----
    /// `CHECK` (IMAP4rev1)
    Check,
    /// `CLOSE`
    Close,
    /// `UNSELECT`
    Unselect,
    /// `EXPUNGE`
    Expunge,
    /// `UID EXPUNGE uids` (UIDPLUS)
    UidExpunge(SequenceSet),
    /// `[UID] SEARCH [RETURN (...)] [CHARSET c] keys`
    Search {
        /// Return options (ESEARCH); `Some(vec![])` is `RETURN ()`.
        return_opts: Option<Vec<SearchReturnOption>>,
        /// Charset.
        charset: Option<Charset>,
        /// Keys (non-empty).
        criteria: Vec<SearchKey>,
        /// UID SEARCH.
        uid: bool,
    },
    /// `[UID] FETCH set items [(modifiers)]`
    Fetch {
        /// Messages.
        sequence_set: SequenceSet,
        /// What to fetch.
        items: FetchItems,
        /// Modifiers (empty: none sent).
        modifiers: Vec<FetchModifier>,
        /// UID FETCH.
        uid: bool,
    },
    /// `[UID] STORE set [(modifiers)] [+/-]FLAGS[.SILENT] (...)`
    Store {
        /// Messages.
        sequence_set: SequenceSet,
        /// Modifiers (empty: none sent).
        modifiers: Vec<StoreModifier>,
        /// Replace, add or remove.
        kind: StoreType,
        /// `.SILENT`
        silent: bool,
        /// Flags or Gmail labels.
        data: StoreData,
        /// UID STORE.
        uid: bool,
    },
    /// `[UID] COPY set mailbox`
    Copy {
        /// Messages.
        sequence_set: SequenceSet,
        /// Target.
        mailbox: Mailbox,
        /// UID COPY.
        uid: bool,
    },
    /// `[UID] MOVE set mailbox` (RFC 6851)
    Move {
        /// Messages.
        sequence_set: SequenceSet,
        /// Target.
        mailbox: Mailbox,
        /// UID MOVE.
        uid: bool,
    },
    /// `[UID] SORT [RETURN (...)] (criteria) charset keys` (RFC 5256, ESORT RFC 5267)
    Sort {
        /// Return options (ESORT).
        return_opts: Option<Vec<SearchReturnOption>>,
        /// Sort criteria (non-empty).
        criteria: Vec<SortCriterion>,
        /// Charset.
        charset: Charset,
        /// Search keys (non-empty).
        search: Vec<SearchKey>,
        /// UID SORT.
        uid: bool,
    },
    /// `[UID] THREAD algorithm charset keys` (RFC 5256)
    Thread {
        /// Algorithm.
        algorithm: ThreadAlgorithm,
        /// Charset.
        charset: Charset,
        /// Search keys (non-empty).
        search: Vec<SearchKey>,
        /// UID THREAD.
        uid: bool,
    },
    /// `CANCELUPDATE "tag" ...` (RFC 5267; non-empty).
    CancelUpdate(Vec<Tag>),
    /// `[UID] REPLACE n mailbox message` (RFC 8508)
    Replace {
        /// Message sequence number, or UID when `uid`.
        number: NonZeroU32,
        /// Target mailbox.
        mailbox: Mailbox,
        /// The new message.
        message: AppendMessage,
        /// UID REPLACE.
        uid: bool,
    },

    /// A command this codec does not know: its name and the raw argument bytes after the
    /// SP that follows the name (up to, excluding, the final CRLF; may contain literals).
    Other {
        /// Command name (never a known command's name).
        name: Atom,
        /// Raw arguments (may be empty).
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_util::raw_args))]
        raw: Bytes,
    },
}

/// Every command name this module parses (used to keep `Other` for unknown names only).
pub(super) const KNOWN: &[&[u8]] = &[
    b"CAPABILITY",
    b"NOOP",
    b"LOGOUT",
    b"ID",
    b"STARTTLS",
    b"AUTHENTICATE",
    b"LOGIN",
    b"ENABLE",
    b"SELECT",
    b"EXAMINE",
    b"CREATE",
    b"DELETE",
    b"RENAME",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"LIST",
    b"LSUB",
    b"XLIST",
    b"RLIST",
    b"RLSUB",
    b"NAMESPACE",
    b"STATUS",
    b"APPEND",
    b"IDLE",
    b"GETQUOTA",
    b"GETQUOTAROOT",
    b"SETQUOTA",
    b"GETACL",
    b"SETACL",
    b"DELETEACL",
    b"LISTRIGHTS",
    b"MYRIGHTS",
    b"GETMETADATA",
    b"SETMETADATA",
    b"NOTIFY",
    b"COMPRESS",
    b"UNAUTHENTICATE",
    b"GETJMAPACCESS",
    b"ESEARCH",
    b"GENURLAUTH",
    b"RESETKEY",
    b"URLFETCH",
    b"CHECK",
    b"CLOSE",
    b"UNSELECT",
    b"EXPUNGE",
    b"UID",
    b"SEARCH",
    b"FETCH",
    b"STORE",
    b"COPY",
    b"MOVE",
    b"SORT",
    b"THREAD",
    b"CANCELUPDATE",
    b"REPLACE",
];

impl CommandBody {
    /// An unknown command with raw arguments. Fails for a known command name (or a name the
    /// decoder reads as one, such as `SELECT[` or `UID.x`), and for arguments that are not
    /// lines without NUL joined by literals (`... {n}\r\n<n bytes>...`), or that end in a
    /// literal announcement. Literals in `raw` are encoded as announced there (their
    /// [`LiteralMark`](crate::encode::LiteralMark)s are recorded).
    pub fn other(name: Atom, raw: impl Into<Bytes>) -> Result<Self, ValidationError> {
        let raw = raw.into();
        if crate::parse::shadows(name.as_bytes(), KNOWN.iter().copied()) {
            return Err(ValidationError::new(
                crate::error::ValueKind::Command,
                crate::error::Rule::KnownName,
            ));
        }
        check_raw_args(&raw)?;
        Ok(CommandBody::Other { name, raw })
    }

    /// LOGIN with a password.
    pub fn login(username: AString, password: AString) -> Self {
        CommandBody::Login {
            username,
            password: Secret::new(password),
        }
    }
}

/// ENABLE arguments for `arbitrary`: built from atoms as `Capability::Other`, which validation
/// must normalise or reject.
#[cfg(feature = "arbitrary")]
pub(crate) fn capabilities(
    u: &mut arbitrary::Unstructured<'_>,
) -> arbitrary::Result<Vec<Capability>> {
    let n = u.arbitrary_len::<Atom>()?;
    (0..n)
        .map(|_| <Atom as arbitrary::Arbitrary>::arbitrary(u).map(Capability::Other))
        .collect()
}
