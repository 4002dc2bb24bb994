//! Command kinds (RFC 9051 §3 connection states, §6 commands by state, §7.5.1 on when EXPUNGE
//! may be sent): what a command is, independently of its arguments, from one table.

use super::CommandBody;

/// A connection state (RFC 9051 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Not authenticated: after a greeting without PREAUTH, or after UNAUTHENTICATE.
    NotAuthenticated,
    /// Authenticated, no mailbox selected.
    Authenticated,
    /// A mailbox is selected.
    Selected,
    /// The connection is being terminated (no command is valid).
    Logout,
}

/// A set of [`State`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StateSet(u8);

impl StateSet {
    /// No state.
    pub const NONE: StateSet = StateSet(0);
    /// Not authenticated only (`command-nonauth`).
    pub const NOT_AUTHENTICATED: StateSet = StateSet(1);
    /// Authenticated only, before a mailbox is selected (ENABLE, RFC 9051 §6.3.1).
    pub const AUTHENTICATED_ONLY: StateSet = StateSet(2);
    /// Selected only (`command-select`).
    pub const SELECTED: StateSet = StateSet(4);
    /// Authenticated or selected (`command-auth`).
    pub const AUTHENTICATED: StateSet = StateSet(2 | 4);
    /// Any state but logout (`command-any`).
    pub const ANY: StateSet = StateSet(1 | 2 | 4);

    const fn bit(s: State) -> u8 {
        match s {
            State::NotAuthenticated => 1,
            State::Authenticated => 2,
            State::Selected => 4,
            State::Logout => 8,
        }
    }

    /// Whether `s` is in the set.
    pub const fn contains(self, s: State) -> bool {
        self.0 & Self::bit(s) != 0
    }

    /// The set with `s` added.
    #[must_use]
    pub const fn with(self, s: State) -> StateSet {
        StateSet(self.0 | Self::bit(s))
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// What happens to the byte stream when a command completes successfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandOff {
    /// STARTTLS (RFC 9051 §6.2.1): the TLS handshake starts after the tagged OK.
    StartTls,
    /// COMPRESS (RFC 4978): both directions are compressed after the tagged OK.
    Compress,
}

/// What a command does to the connection besides its responses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// Nothing.
    Keep,
    /// The stream is handed over (TLS, compression).
    HandOff(HandOff),
    /// The server closes the connection (LOGOUT).
    End,
}

macro_rules! command_names {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $states:ident, $flow:expr; )*) => {
        /// The name of a command as sent, `UID` forms distinct (`UID FETCH` is not `FETCH`):
        /// see [`CommandBody::name`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum CommandName {
            $( $(#[$doc])* $variant, )*
            /// A command this codec does not know ([`CommandBody::Other`], whose name it holds).
            Other,
        }

        impl CommandName {
            /// Every known command name (not [`CommandName::Other`]).
            pub const ALL: &'static [CommandName] = &[$(CommandName::$variant),*];

            /// The name as sent, e.g. `"UID FETCH"`; `""` for [`CommandName::Other`] (the
            /// name is in [`CommandBody::Other`]; [`CommandBody::wire_name`] gives it).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( CommandName::$variant => $name, )*
                    CommandName::Other => "",
                }
            }

            /// The connection states the command is valid in (RFC 9051 §6 and the ABNF
            /// `command-any` / `command-nonauth` / `command-auth` / `command-select` of each
            /// extension). [`CommandName::Other`]: every state but logout (only the server
            /// knows).
            pub const fn valid_in(self) -> StateSet {
                match self {
                    $( CommandName::$variant => StateSet::$states, )*
                    CommandName::Other => StateSet::ANY,
                }
            }

            const fn flow(self) -> Flow {
                match self {
                    $( CommandName::$variant => $flow, )*
                    CommandName::Other => Flow::Keep,
                }
            }
        }
    };
}

use Flow::{End, HandOff as Hand, Keep};

command_names! {
    /// `CAPABILITY` (RFC 9051 §6.1.1).
    Capability = "CAPABILITY", ANY, Keep;
    /// `NOOP` (RFC 9051 §6.1.2).
    Noop = "NOOP", ANY, Keep;
    /// `LOGOUT` (RFC 9051 §6.1.3).
    Logout = "LOGOUT", ANY, End;
    /// `ID` (RFC 2971 §3.1: any state).
    Id = "ID", ANY, Keep;
    /// `STARTTLS` (RFC 9051 §6.2.1).
    StartTls = "STARTTLS", NOT_AUTHENTICATED, Hand(HandOff::StartTls);
    /// `AUTHENTICATE` (RFC 9051 §6.2.2).
    Authenticate = "AUTHENTICATE", NOT_AUTHENTICATED, Keep;
    /// `LOGIN` (RFC 9051 §6.2.3).
    Login = "LOGIN", NOT_AUTHENTICATED, Keep;
    /// `ENABLE` (RFC 9051 §6.3.1, RFC 5161 §3.1: authenticated state only).
    Enable = "ENABLE", AUTHENTICATED_ONLY, Keep;
    /// `SELECT` (RFC 9051 §6.3.2).
    Select = "SELECT", AUTHENTICATED, Keep;
    /// `EXAMINE` (RFC 9051 §6.3.3).
    Examine = "EXAMINE", AUTHENTICATED, Keep;
    /// `CREATE` (RFC 9051 §6.3.4).
    Create = "CREATE", AUTHENTICATED, Keep;
    /// `DELETE` (RFC 9051 §6.3.5).
    Delete = "DELETE", AUTHENTICATED, Keep;
    /// `RENAME` (RFC 9051 §6.3.6).
    Rename = "RENAME", AUTHENTICATED, Keep;
    /// `SUBSCRIBE` (RFC 9051 §6.3.7).
    Subscribe = "SUBSCRIBE", AUTHENTICATED, Keep;
    /// `UNSUBSCRIBE` (RFC 9051 §6.3.8).
    Unsubscribe = "UNSUBSCRIBE", AUTHENTICATED, Keep;
    /// `LIST` (RFC 9051 §6.3.9).
    List = "LIST", AUTHENTICATED, Keep;
    /// `LSUB` (RFC 3501 §6.3.9).
    Lsub = "LSUB", AUTHENTICATED, Keep;
    /// `XLIST` (Gmail).
    XList = "XLIST", AUTHENTICATED, Keep;
    /// `RLIST` (RFC 2193).
    RList = "RLIST", AUTHENTICATED, Keep;
    /// `RLSUB` (RFC 2193).
    RLsub = "RLSUB", AUTHENTICATED, Keep;
    /// `NAMESPACE` (RFC 9051 §6.3.10).
    Namespace = "NAMESPACE", AUTHENTICATED, Keep;
    /// `STATUS` (RFC 9051 §6.3.11).
    Status = "STATUS", AUTHENTICATED, Keep;
    /// `APPEND` (RFC 9051 §6.3.12).
    Append = "APPEND", AUTHENTICATED, Keep;
    /// `IDLE` (RFC 9051 §6.3.13).
    Idle = "IDLE", AUTHENTICATED, Keep;
    /// `GETQUOTA` (RFC 9208 §4.2).
    GetQuota = "GETQUOTA", AUTHENTICATED, Keep;
    /// `GETQUOTAROOT` (RFC 9208 §4.3).
    GetQuotaRoot = "GETQUOTAROOT", AUTHENTICATED, Keep;
    /// `SETQUOTA` (RFC 9208 §4.4).
    SetQuota = "SETQUOTA", AUTHENTICATED, Keep;
    /// `GETACL` (RFC 4314 §3.3).
    GetAcl = "GETACL", AUTHENTICATED, Keep;
    /// `SETACL` (RFC 4314 §3.1).
    SetAcl = "SETACL", AUTHENTICATED, Keep;
    /// `DELETEACL` (RFC 4314 §3.2).
    DeleteAcl = "DELETEACL", AUTHENTICATED, Keep;
    /// `LISTRIGHTS` (RFC 4314 §3.4).
    ListRights = "LISTRIGHTS", AUTHENTICATED, Keep;
    /// `MYRIGHTS` (RFC 4314 §3.5).
    MyRights = "MYRIGHTS", AUTHENTICATED, Keep;
    /// `GETMETADATA` (RFC 5464 §4.2).
    GetMetadata = "GETMETADATA", AUTHENTICATED, Keep;
    /// `SETMETADATA` (RFC 5464 §4.3).
    SetMetadata = "SETMETADATA", AUTHENTICATED, Keep;
    /// `NOTIFY` (RFC 5465 §8: `command-auth`).
    Notify = "NOTIFY", AUTHENTICATED, Keep;
    /// `COMPRESS` (RFC 4978 §5: `command-auth`).
    Compress = "COMPRESS", AUTHENTICATED, Hand(HandOff::Compress);
    /// `UNAUTHENTICATE` (RFC 8437 §5).
    Unauthenticate = "UNAUTHENTICATE", AUTHENTICATED, Keep;
    /// `GETJMAPACCESS` (RFC 9698).
    GetJmapAccess = "GETJMAPACCESS", AUTHENTICATED, Keep;
    /// `ESEARCH` (RFC 7377 §6: `command-auth` and `command-select`).
    ESearch = "ESEARCH", AUTHENTICATED, Keep;
    /// `GENURLAUTH` (RFC 4467).
    GenUrlAuth = "GENURLAUTH", AUTHENTICATED, Keep;
    /// `RESETKEY` (RFC 4467).
    ResetKey = "RESETKEY", AUTHENTICATED, Keep;
    /// `URLFETCH` (RFC 4467).
    UrlFetch = "URLFETCH", AUTHENTICATED, Keep;
    /// `CHECK` (RFC 3501 §6.4.1).
    Check = "CHECK", SELECTED, Keep;
    /// `CLOSE` (RFC 9051 §6.4.1).
    Close = "CLOSE", SELECTED, Keep;
    /// `UNSELECT` (RFC 9051 §6.4.2).
    Unselect = "UNSELECT", SELECTED, Keep;
    /// `EXPUNGE` (RFC 9051 §6.4.3).
    Expunge = "EXPUNGE", SELECTED, Keep;
    /// `UID EXPUNGE` (RFC 9051 §6.4.9, RFC 4315).
    UidExpunge = "UID EXPUNGE", SELECTED, Keep;
    /// `SEARCH` (RFC 9051 §6.4.4).
    Search = "SEARCH", SELECTED, Keep;
    /// `UID SEARCH` (RFC 9051 §6.4.9).
    UidSearch = "UID SEARCH", SELECTED, Keep;
    /// `FETCH` (RFC 9051 §6.4.5).
    Fetch = "FETCH", SELECTED, Keep;
    /// `UID FETCH` (RFC 9051 §6.4.9).
    UidFetch = "UID FETCH", SELECTED, Keep;
    /// `STORE` (RFC 9051 §6.4.6).
    Store = "STORE", SELECTED, Keep;
    /// `UID STORE` (RFC 9051 §6.4.9).
    UidStore = "UID STORE", SELECTED, Keep;
    /// `COPY` (RFC 9051 §6.4.7).
    Copy = "COPY", SELECTED, Keep;
    /// `UID COPY` (RFC 9051 §6.4.9).
    UidCopy = "UID COPY", SELECTED, Keep;
    /// `MOVE` (RFC 9051 §6.4.8).
    Move = "MOVE", SELECTED, Keep;
    /// `UID MOVE` (RFC 9051 §6.4.9).
    UidMove = "UID MOVE", SELECTED, Keep;
    /// `SORT` (RFC 5256 §3).
    Sort = "SORT", SELECTED, Keep;
    /// `UID SORT` (RFC 5256 §3).
    UidSort = "UID SORT", SELECTED, Keep;
    /// `THREAD` (RFC 5256 §3).
    Thread = "THREAD", SELECTED, Keep;
    /// `UID THREAD` (RFC 5256 §3).
    UidThread = "UID THREAD", SELECTED, Keep;
    /// `CANCELUPDATE` (RFC 5267 §4.3.5: `command-select`).
    CancelUpdate = "CANCELUPDATE", SELECTED, Keep;
    /// `REPLACE` (RFC 8508 §3: selected state only).
    Replace = "REPLACE", SELECTED, Keep;
    /// `UID REPLACE` (RFC 8508 §3).
    UidReplace = "UID REPLACE", SELECTED, Keep;
}

impl CommandName {
    /// Whether the command is valid in state `s`.
    pub const fn is_valid_in(self, s: State) -> bool {
        self.valid_in().contains(s)
    }

    /// Whether a successful completion hands the byte stream over to another layer.
    pub const fn hands_over_stream(self) -> Option<HandOff> {
        match self.flow() {
            Flow::HandOff(h) => Some(h),
            Flow::Keep | Flow::End => None,
        }
    }

    /// Whether the command ends the connection (LOGOUT).
    pub const fn ends_connection(self) -> bool {
        matches!(self.flow(), Flow::End)
    }
}

impl CommandBody {
    /// The command's name, `UID` forms distinct.
    pub fn name(&self) -> CommandName {
        use CommandBody as C;
        use CommandName as N;
        let pick = |uid: bool, plain: N, with_uid: N| if uid { with_uid } else { plain };
        match self {
            C::Capability => N::Capability,
            C::Noop => N::Noop,
            C::Logout => N::Logout,
            C::Id(_) => N::Id,
            C::StartTls => N::StartTls,
            C::Authenticate { .. } => N::Authenticate,
            C::Login { .. } => N::Login,
            C::Enable(_) => N::Enable,
            C::Select { .. } => N::Select,
            C::Examine { .. } => N::Examine,
            C::Create { .. } => N::Create,
            C::Delete(_) => N::Delete,
            C::Rename { .. } => N::Rename,
            C::Subscribe(_) => N::Subscribe,
            C::Unsubscribe(_) => N::Unsubscribe,
            C::List { .. } => N::List,
            C::Lsub { .. } => N::Lsub,
            C::XList { .. } => N::XList,
            C::RList { .. } => N::RList,
            C::RLsub { .. } => N::RLsub,
            C::Namespace => N::Namespace,
            C::Status { .. } => N::Status,
            C::Append { .. } => N::Append,
            C::Idle => N::Idle,
            C::GetQuota(_) => N::GetQuota,
            C::GetQuotaRoot(_) => N::GetQuotaRoot,
            C::SetQuota { .. } => N::SetQuota,
            C::GetAcl(_) => N::GetAcl,
            C::SetAcl { .. } => N::SetAcl,
            C::DeleteAcl { .. } => N::DeleteAcl,
            C::ListRights { .. } => N::ListRights,
            C::MyRights(_) => N::MyRights,
            C::GetMetadata { .. } => N::GetMetadata,
            C::SetMetadata { .. } => N::SetMetadata,
            C::Notify(_) => N::Notify,
            C::Compress(_) => N::Compress,
            C::Unauthenticate => N::Unauthenticate,
            C::GetJmapAccess => N::GetJmapAccess,
            C::ESearch { .. } => N::ESearch,
            C::GenUrlAuth(_) => N::GenUrlAuth,
            C::ResetKey(_) => N::ResetKey,
            C::UrlFetch(_) => N::UrlFetch,
            C::Check => N::Check,
            C::Close => N::Close,
            C::Unselect => N::Unselect,
            C::Expunge => N::Expunge,
            C::UidExpunge(_) => N::UidExpunge,
            C::Search { uid, .. } => pick(*uid, N::Search, N::UidSearch),
            C::Fetch { uid, .. } => pick(*uid, N::Fetch, N::UidFetch),
            C::Store { uid, .. } => pick(*uid, N::Store, N::UidStore),
            C::Copy { uid, .. } => pick(*uid, N::Copy, N::UidCopy),
            C::Move { uid, .. } => pick(*uid, N::Move, N::UidMove),
            C::Sort { uid, .. } => pick(*uid, N::Sort, N::UidSort),
            C::Thread { uid, .. } => pick(*uid, N::Thread, N::UidThread),
            C::CancelUpdate(_) => N::CancelUpdate,
            C::Replace { uid, .. } => pick(*uid, N::Replace, N::UidReplace),
            C::Other { .. } => N::Other,
        }
    }

    /// The name as sent: `"UID FETCH"`, or the name an unknown command holds.
    pub fn wire_name(&self) -> &str {
        match self {
            CommandBody::Other { name, .. } => name.as_str(),
            _ => self.name().as_str(),
        }
    }

    /// The connection states the command is valid in (see [`CommandName::valid_in`]).
    pub fn valid_in(&self) -> StateSet {
        self.name().valid_in()
    }

    /// Whether the command is valid in state `s`.
    pub fn is_valid_in(&self, s: State) -> bool {
        self.name().is_valid_in(s)
    }

    /// STARTTLS and COMPRESS: the stream is handed over after the tagged OK.
    pub fn hands_over_stream(&self) -> Option<HandOff> {
        self.name().hands_over_stream()
    }

    /// LOGOUT: the server closes the connection after the tagged OK.
    pub fn ends_connection(&self) -> bool {
        self.name().ends_connection()
    }

    /// Whether the command refers to messages by sequence number: FETCH, STORE, COPY, MOVE,
    /// REPLACE, SEARCH, SORT and THREAD in their non-UID forms, and UID SEARCH, UID SORT,
    /// UID THREAD and ESEARCH when a search key is a sequence set. While such a command is in
    /// progress a server must not send EXPUNGE (RFC 9051 §7.5.1). Unknown commands answer
    /// `true`, the safe answer for that rule.
    pub fn uses_sequence_numbers(&self) -> bool {
        use CommandBody as C;
        match self {
            C::Fetch { uid, .. }
            | C::Store { uid, .. }
            | C::Copy { uid, .. }
            | C::Move { uid, .. }
            | C::Replace { uid, .. } => !uid,
            C::Search {
                uid,
                criteria: keys,
                ..
            }
            | C::Sort {
                uid, search: keys, ..
            }
            | C::Thread {
                uid, search: keys, ..
            } => {
                !uid || keys
                    .iter()
                    .any(crate::search::SearchKey::uses_sequence_numbers)
            }
            C::ESearch { criteria, .. } => criteria
                .iter()
                .any(crate::search::SearchKey::uses_sequence_numbers),
            C::Other { .. } => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Message;
    use crate::command::Command;
    use crate::encode::Encode;
    use crate::options::DecodeOptions;
    use bytes::Bytes;
    use std::collections::HashSet;

    fn decode(line: &str) -> CommandBody {
        let b = Bytes::from(format!("a {line}\r\n"));
        let c = Command::decode(&b, &DecodeOptions::strict())
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .message;
        let out = c.to_vec_inline_literals();
        let text = String::from_utf8_lossy(&out);
        let name = c.body().wire_name();
        assert!(
            text.starts_with(&format!("a {name} ")) || text.starts_with(&format!("a {name}\r\n")),
            "{line}: encoded as {text:?}, name {name}"
        );
        c.into_parts().1
    }

    const ANY: &[(&str, &str)] = &[
        ("CAPABILITY", "CAPABILITY"),
        ("NOOP", "NOOP"),
        ("LOGOUT", "LOGOUT"),
        ("ID", "ID NIL"),
    ];
    const NOT_AUTHENTICATED: &[(&str, &str)] = &[
        ("STARTTLS", "STARTTLS"),
        ("AUTHENTICATE", "AUTHENTICATE PLAIN"),
        ("LOGIN", "LOGIN alice secret"),
    ];
    const AUTHENTICATED_ONLY: &[(&str, &str)] = &[("ENABLE", "ENABLE CONDSTORE")];
    const AUTHENTICATED: &[(&str, &str)] = &[
        ("SELECT", "SELECT INBOX"),
        ("EXAMINE", "EXAMINE INBOX"),
        ("CREATE", "CREATE x"),
        ("DELETE", "DELETE x"),
        ("RENAME", "RENAME x y"),
        ("SUBSCRIBE", "SUBSCRIBE x"),
        ("UNSUBSCRIBE", "UNSUBSCRIBE x"),
        ("LIST", "LIST \"\" *"),
        ("LSUB", "LSUB \"\" *"),
        ("XLIST", "XLIST \"\" *"),
        ("RLIST", "RLIST \"\" *"),
        ("RLSUB", "RLSUB \"\" *"),
        ("NAMESPACE", "NAMESPACE"),
        ("STATUS", "STATUS INBOX (MESSAGES)"),
        ("APPEND", "APPEND INBOX {5}\r\nhello"),
        ("IDLE", "IDLE"),
        ("GETQUOTA", "GETQUOTA \"\""),
        ("GETQUOTAROOT", "GETQUOTAROOT INBOX"),
        ("SETQUOTA", "SETQUOTA \"\" (STORAGE 512)"),
        ("GETACL", "GETACL INBOX"),
        ("SETACL", "SETACL INBOX smith +r"),
        ("DELETEACL", "DELETEACL INBOX smith"),
        ("LISTRIGHTS", "LISTRIGHTS INBOX smith"),
        ("MYRIGHTS", "MYRIGHTS INBOX"),
        ("GETMETADATA", "GETMETADATA INBOX /private/comment"),
        ("SETMETADATA", "SETMETADATA INBOX (/private/comment NIL)"),
        ("NOTIFY", "NOTIFY NONE"),
        ("COMPRESS", "COMPRESS DEFLATE"),
        ("UNAUTHENTICATE", "UNAUTHENTICATE"),
        ("GETJMAPACCESS", "GETJMAPACCESS"),
        ("ESEARCH", "ESEARCH IN (mailboxes \"folder1\") UNSEEN"),
        (
            "GENURLAUTH",
            "GENURLAUTH \"imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred\" INTERNAL",
        ),
        ("RESETKEY", "RESETKEY"),
        (
            "URLFETCH",
            "URLFETCH \"imap://joe@example.com/INBOX/;uid=20\"",
        ),
    ];
    const SELECTED: &[(&str, &str)] = &[
        ("CHECK", "CHECK"),
        ("CLOSE", "CLOSE"),
        ("UNSELECT", "UNSELECT"),
        ("EXPUNGE", "EXPUNGE"),
        ("UID EXPUNGE", "UID EXPUNGE 1:3"),
        ("SEARCH", "SEARCH ALL"),
        ("UID SEARCH", "UID SEARCH ALL"),
        ("FETCH", "FETCH 1 FLAGS"),
        ("UID FETCH", "UID FETCH 1 FLAGS"),
        ("STORE", "STORE 1 +FLAGS (\\Seen)"),
        ("UID STORE", "UID STORE 1 +FLAGS (\\Seen)"),
        ("COPY", "COPY 1 x"),
        ("UID COPY", "UID COPY 1 x"),
        ("MOVE", "MOVE 1 x"),
        ("UID MOVE", "UID MOVE 1 x"),
        ("SORT", "SORT (DATE) UTF-8 ALL"),
        ("UID SORT", "UID SORT (DATE) UTF-8 ALL"),
        ("THREAD", "THREAD REFERENCES UTF-8 ALL"),
        ("UID THREAD", "UID THREAD REFERENCES UTF-8 ALL"),
        ("CANCELUPDATE", "CANCELUPDATE \"B01\""),
        ("REPLACE", "REPLACE 4 Drafts {3}\r\nabc"),
        ("UID REPLACE", "UID REPLACE 2000 Drafts {3}\r\nabc"),
    ];

    #[test]
    fn every_command_has_its_name_and_states() {
        let mut seen = HashSet::new();
        for (group, states) in [
            (ANY, [true, true, true]),
            (NOT_AUTHENTICATED, [true, false, false]),
            (AUTHENTICATED_ONLY, [false, true, false]),
            (AUTHENTICATED, [false, true, true]),
            (SELECTED, [false, false, true]),
        ] {
            for (name, line) in group {
                let body = decode(line);
                let n = body.name();
                assert_eq!(n.as_str(), *name, "{line}");
                assert_eq!(body.wire_name(), *name, "{line}");
                assert_ne!(n, CommandName::Other, "{line}");
                let got = [
                    body.is_valid_in(State::NotAuthenticated),
                    body.is_valid_in(State::Authenticated),
                    body.is_valid_in(State::Selected),
                ];
                assert_eq!(got, states, "{line}");
                assert!(!body.is_valid_in(State::Logout), "{line}");
                assert_eq!(body.ends_connection(), *name == "LOGOUT", "{line}");
                let hand = match *name {
                    "STARTTLS" => Some(HandOff::StartTls),
                    "COMPRESS" => Some(HandOff::Compress),
                    _ => None,
                };
                assert_eq!(body.hands_over_stream(), hand, "{line}");
                assert!(seen.insert(n), "{line}: {n:?} twice");
            }
        }
        let all: HashSet<_> = CommandName::ALL.iter().copied().collect();
        assert_eq!(seen, all, "every known command name is tested once");
        assert_eq!(all.len(), CommandName::ALL.len());

        let other = decode("XYZZY foo");
        assert_eq!(other.name(), CommandName::Other);
        assert_eq!(other.wire_name(), "XYZZY");
        assert_eq!(other.valid_in(), StateSet::ANY);
        assert_eq!(other.hands_over_stream(), None);
        assert!(!other.ends_connection());
    }

    #[test]
    fn the_decoder_knows_exactly_the_names_of_the_table() {
        let table: HashSet<&[u8]> = CommandName::ALL
            .iter()
            .map(|n| n.as_str().split(' ').next().unwrap().as_bytes())
            .collect();
        let known: HashSet<&[u8]> = super::super::KNOWN.iter().copied().collect();
        assert_eq!(table, known);
    }

    #[test]
    fn sequence_number_commands() {
        for (line, uses) in [
            ("FETCH 1 FLAGS", true),
            ("UID FETCH 1 FLAGS", false),
            ("STORE 1 FLAGS (\\Seen)", true),
            ("UID STORE 1 FLAGS (\\Seen)", false),
            ("COPY 1:2 x", true),
            ("UID COPY 1:2 x", false),
            ("MOVE 1 x", true),
            ("UID MOVE 1 x", false),
            ("REPLACE 4 Drafts {3}\r\nabc", true),
            ("UID REPLACE 4 Drafts {3}\r\nabc", false),
            ("SEARCH UID 1:5", true),
            ("UID SEARCH UID 1:5", false),
            ("UID SEARCH 1:5", true),
            ("UID SEARCH NOT (SEEN OR UID 3 2:4)", true),
            ("UID SEARCH FUZZY SUBJECT x", false),
            ("SORT (DATE) UTF-8 ALL", true),
            ("UID SORT (DATE) UTF-8 ALL", false),
            ("UID THREAD REFERENCES UTF-8 1", true),
            ("ESEARCH IN (mailboxes x) UNSEEN", false),
            ("UID EXPUNGE 1:3", false),
            ("EXPUNGE", false),
            ("NOOP", false),
            ("XYZZY 1", true),
        ] {
            assert_eq!(decode(line).uses_sequence_numbers(), uses, "{line}");
        }
    }

    #[test]
    fn state_sets() {
        assert!(StateSet::NONE.is_empty());
        assert_eq!(
            StateSet::NONE
                .with(State::NotAuthenticated)
                .with(State::Authenticated)
                .with(State::Selected),
            StateSet::ANY
        );
        assert!(StateSet::NONE.with(State::Logout).contains(State::Logout));
        assert!(!StateSet::ANY.contains(State::Logout));
        assert_eq!(
            StateSet::AUTHENTICATED_ONLY.with(State::Selected),
            StateSet::AUTHENTICATED
        );
    }
}
