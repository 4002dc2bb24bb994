//! Which commands are valid in which connection state (RFC 9051 §3, §6.1-§6.4 and the
//! extensions' RFCs), which capability each needs, and how each one pipelines (§5.5).

use imapwire_codec::capability::Capability;
use imapwire_codec::command::CommandBody;

use crate::pipeline::CommandClass;

/// The connection states of RFC 9051 §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Before the greeting.
    Greeting,
    /// Not Authenticated (§3.1).
    NotAuthenticated,
    /// Authenticated (§3.2).
    Authenticated,
    /// Selected (§3.3).
    Selected,
    /// Logout (§3.4).
    Logout,
}

/// In which states a command is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Valid {
    /// Any state (CAPABILITY, NOOP, LOGOUT, ID).
    Any,
    /// Not Authenticated only (STARTTLS, AUTHENTICATE, LOGIN).
    NotAuthenticated,
    /// Authenticated or Selected.
    Authenticated,
    /// Authenticated only (ENABLE, RFC 5161 §3.1).
    AuthenticatedOnly,
    /// Selected only.
    Selected,
}

impl Valid {
    pub(crate) fn allows(self, s: State) -> bool {
        match self {
            Valid::Any => matches!(
                s,
                State::NotAuthenticated | State::Authenticated | State::Selected
            ),
            Valid::NotAuthenticated => s == State::NotAuthenticated,
            Valid::Authenticated => matches!(s, State::Authenticated | State::Selected),
            Valid::AuthenticatedOnly => s == State::Authenticated,
            Valid::Selected => s == State::Selected,
        }
    }
}

/// What the session needs to know about a command before sending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) valid: Valid,
    /// A capability the server must advertise (checked when the command is sent).
    pub(crate) needs: Option<Capability>,
    pub(crate) class: CommandClass,
    /// The command changes the connection state; commands after it wait for its completion
    /// and are checked against the state it leaves.
    pub(crate) changes_state: bool,
}

pub(crate) fn rule(body: &CommandBody) -> Rule {
    use CommandBody as C;
    let name = body.wire_name();
    let mut class = CommandClass::from_name(name);
    let (valid, needs, changes_state) = match body {
        C::Capability | C::Noop | C::Logout => (Valid::Any, None, matches!(body, C::Logout)),
        C::Id(_) => (Valid::Any, Some(Capability::Id), false),
        C::StartTls => (Valid::NotAuthenticated, Some(Capability::StartTls), true),
        C::Authenticate { .. } | C::Login { .. } => (Valid::NotAuthenticated, None, true),
        C::Enable(_) => (Valid::AuthenticatedOnly, Some(Capability::Enable), true),
        C::Select { .. } | C::Examine { .. } => (Valid::Authenticated, None, true),
        C::Namespace => (Valid::Authenticated, Some(Capability::Namespace), false),
        C::Idle => (Valid::Authenticated, Some(Capability::Idle), false),
        C::Compress(_) => (
            Valid::Authenticated,
            Some(Capability::CompressDeflate),
            true,
        ),
        C::Unselect => (Valid::Selected, Some(Capability::Unselect), true),
        C::Close => (Valid::Selected, None, true),
        C::Check | C::Expunge => (Valid::Selected, None, false),
        C::UidExpunge(_) => (Valid::Selected, Some(Capability::UidPlus), false),
        C::Move { .. } => (Valid::Selected, Some(Capability::Move), false),
        C::Search { .. }
        | C::Fetch { .. }
        | C::Store { .. }
        | C::Copy { .. }
        | C::Sort { .. }
        | C::Thread { .. } => (Valid::Selected, None, false),
        _ => (Valid::Authenticated, None, false),
    };
    if let C::Search { uid: true, .. } | C::Sort { uid: true, .. } | C::Thread { uid: true, .. } =
        body
    {
        // UID forms return UIDs; their criteria may still hold sequence numbers, which the
        // conservative class below covers.
        class = CommandClass::ORDINARY;
    }
    if changes_state {
        class = CommandClass::BARRIER;
    }
    Rule {
        valid,
        needs,
        class,
        changes_state,
    }
}
