//! The selected mailbox (RFC 9051 §3.3, §7.3, §7.4, §7.5): the state the server has reported
//! for it, and the map between message sequence numbers and UIDs.

pub mod seqmap;

pub use self::seqmap::{SeqMap, SeqMapError};
