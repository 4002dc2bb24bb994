//! Which commands are valid in which connection state (RFC 9051 §3, §6.1-§6.4 and the
//! extensions' RFCs), which capability each needs, and how each one pipelines (§5.5).

use imapwire_codec::capability::Capability;
use imapwire_codec::command::{CommandBody, State as CodecState, StateSet};

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

/// The codec's state for a session state (`None` before the greeting: nothing is valid then,
/// commands wait for it).
fn codec_state(s: State) -> Option<CodecState> {
    match s {
        State::Greeting => None,
        State::NotAuthenticated => Some(CodecState::NotAuthenticated),
        State::Authenticated => Some(CodecState::Authenticated),
        State::Selected => Some(CodecState::Selected),
        State::Logout => Some(CodecState::Logout),
    }
}

/// Whether a command valid in `valid` (the codec's table, RFC 9051 §3 and §6 and the
/// extensions) may be sent in session state `s`.
pub(crate) fn allows(valid: StateSet, s: State) -> bool {
    codec_state(s).is_some_and(|c| valid.contains(c))
}

/// What the session needs to know about a command before sending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// The states it is valid in ([`CommandBody::valid_in`]).
    pub(crate) valid: StateSet,
    /// A capability the server must advertise (checked when the command is sent).
    pub(crate) needs: Option<Capability>,
    /// How it pipelines ([`CommandClass::of`]).
    pub(crate) class: CommandClass,
    /// The command changes the connection state; commands after it wait for its completion
    /// and are checked against the state it leaves.
    pub(crate) changes_state: bool,
}

pub(crate) fn rule(body: &CommandBody) -> Rule {
    use CommandBody as C;
    // The capability a command needs (RFC 9051 commands need none; IMAP4rev2 implies
    // several of these, which `CapabilitySet::has` knows).
    let needs = match body {
        C::Id(_) => Some(Capability::Id),
        C::StartTls => Some(Capability::StartTls),
        C::Enable(_) => Some(Capability::Enable),
        C::Namespace => Some(Capability::Namespace),
        C::Idle => Some(Capability::Idle),
        C::Compress(_) => Some(Capability::CompressDeflate),
        C::Unselect => Some(Capability::Unselect),
        C::UidExpunge(_) => Some(Capability::UidPlus),
        C::Move { .. } => Some(Capability::Move),
        _ => None,
    };
    let changes_state = matches!(
        body,
        C::StartTls
            | C::Authenticate { .. }
            | C::Login { .. }
            | C::Enable(_)
            | C::Select { .. }
            | C::Examine { .. }
            | C::Compress(_)
            | C::Unselect
            | C::Close
            | C::Logout
            | C::Unauthenticate
    );
    let class = if changes_state {
        CommandClass::BARRIER
    } else {
        CommandClass::of(body)
    };
    Rule {
        valid: body.valid_in(),
        needs,
        class,
        changes_state,
    }
}
