//! Client command pipelining (RFC 9051 §5.5, §6.4.4.2; RFC 3501 §5.5), written as data: a
//! [`CommandClass`] per command and one function, [`PipelineRules::check`], that says whether
//! a command may be sent now given the classes of the commands in flight.
//!
//! # The rules (each a [`Wait`] variant)
//!
//! 1. [`Wait::MaxInFlight`]: at most [`PipelineRules::max_in_flight`] commands in flight
//!    (a local bound, pitfall "growth driven by the peer").
//! 2. [`Wait::Barrier`]: nothing is sent after STARTTLS, COMPRESS, AUTHENTICATE, IDLE or
//!    LOGOUT until that command completes. After STARTTLS/COMPRESS the bytes that follow
//!    belong to another layer (RFC 9051 §6.2.1, RFC 4978 §3); AUTHENTICATE and IDLE use
//!    continuation requests that must be negotiated before any other command starts (§5.5,
//!    first paragraph); LOGOUT ends the connection.
//! 3. [`Wait::SequenceNumbersAfterExpunge`]: a command that uses message sequence numbers
//!    waits while any command is in flight during which the server may send an untagged
//!    EXPUNGE — every command other than (non-UID) FETCH, STORE and SEARCH (§5.5 and §7.5.1),
//!    plus SORT and THREAD (RFC 5256 §3 forbids EXPUNGE during them too). This includes the
//!    UID forms of FETCH, STORE and SEARCH (the note in §5.5) and NOOP, CHECK, EXPUNGE,
//!    CLOSE, MOVE, COPY, ...
//! 4. [`Wait::ExpungeAfterSequenceNumbers`] — **off by default**: a command that may cause
//!    an expunge waits while a command with sequence numbers is in flight. §5.5 does *not*
//!    require this: it lists `STORE + COPY + EXPUNGE` as a valid non-waiting sequence, since
//!    the server must execute such commands in order. It is offered as a conservative switch
//!    ([`PipelineRules::expunge_waits_for_sequence_numbers`]) for servers that do not.
//!
//! # Not decided here
//!
//! - Synchronizing literals: a command whose `{n}` literal waits for the server's `+` is not
//!   completely sent, and nothing else may be sent until it is (§5.5: "command continuation
//!   requests ... MUST be negotiated before any subsequent command is initiated"). That is
//!   the transmit side's job: it stops after `{n}\r\n` and this check is never asked while a
//!   command is half-sent.
//! - Order: the session sends in submission order; when the head of the queue waits, the
//!   commands behind it wait too (reordering would change the meaning of a pipeline).
//! - Commands whose *results* depend on each other (a FETCH setting `\Seen` and a
//!   `SEARCH UNSEEN`; SEARCH RETURN (SAVE) followed by a command using `$`, §6.4.4.2) may be
//!   pipelined: the server must execute them in order.
//!
//! # Mapping commands to classes
//!
//! [`CommandClass::from_name`] is a table keyed by the command name as sent, with the UID
//! forms as two words (`"UID FETCH"`); [`CommandClass::of`] applies it to a codec
//! `CommandBody` (whose `name()` is `"UID"` for every UID form: all of them share one class).
//! When a UID SEARCH/SORT/THREAD contains sequence numbers in its criteria (§5.5: "this may
//! include UID SEARCH"), the session marks it with [`CommandClass::with_sequence_numbers`].
//!
//! ```
//! use imapwire_session::pipeline::{CommandClass, PipelineRules, Wait};
//!
//! let rules = PipelineRules::default();
//! let fetch = CommandClass::from_name("FETCH");
//! let noop = CommandClass::from_name("NOOP");
//! let store = CommandClass::from_name("STORE");
//! // FETCH + NOOP + STORE is invalid: the STORE waits for the NOOP.
//! assert_eq!(rules.check(&noop, [&fetch]), Ok(()));
//! assert_eq!(rules.check(&store, [&fetch, &noop]), Err(Wait::SequenceNumbersAfterExpunge));
//! ```

/// What matters about a command for pipelining. Build it with [`CommandClass::from_name`] or
/// the constructors; the flags are read through the getters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CommandClass {
    barrier: bool,
    uses_sequence_numbers: bool,
    allows_expunge: bool,
}

impl CommandClass {
    /// A command that may cause untagged EXPUNGE responses and uses no sequence numbers
    /// (NOOP, SELECT, LIST, UID FETCH, EXPUNGE, ...): the class of most commands.
    pub const ORDINARY: CommandClass = CommandClass {
        barrier: false,
        uses_sequence_numbers: false,
        allows_expunge: true,
    };

    /// A barrier: nothing is sent after it until it completes (STARTTLS, COMPRESS,
    /// AUTHENTICATE, IDLE, LOGOUT). It also allows EXPUNGE (IDLE reports them).
    pub const BARRIER: CommandClass = CommandClass {
        barrier: true,
        uses_sequence_numbers: false,
        allows_expunge: true,
    };

    /// FETCH, STORE, SEARCH, SORT, THREAD: sequence numbers, and the server may not send
    /// EXPUNGE while they run.
    pub const SEQUENCE_SHIELDED: CommandClass = CommandClass {
        barrier: false,
        uses_sequence_numbers: true,
        allows_expunge: false,
    };

    /// COPY, MOVE and REPLACE (RFC 8508): sequence numbers, and EXPUNGE responses are allowed
    /// (MOVE and REPLACE send them).
    pub const SEQUENCE_EXPUNGING: CommandClass = CommandClass {
        barrier: false,
        uses_sequence_numbers: true,
        allows_expunge: true,
    };

    /// The class of a command by its name as sent, case-insensitive; UID forms are two words
    /// separated by one space (`"UID FETCH"`). Unknown names (extensions) get
    /// [`ORDINARY`](Self::ORDINARY), the safe default: they are assumed to allow EXPUNGE, so
    /// no sequence-number command is pipelined behind them.
    pub fn from_name(name: &str) -> CommandClass {
        let upper = name.trim().to_ascii_uppercase();
        match upper.as_str() {
            "STARTTLS" | "COMPRESS" | "AUTHENTICATE" | "IDLE" | "LOGOUT" => Self::BARRIER,
            "FETCH" | "STORE" | "SEARCH" | "SORT" | "THREAD" => Self::SEQUENCE_SHIELDED,
            "COPY" | "MOVE" | "REPLACE" => Self::SEQUENCE_EXPUNGING,
            // Everything else, including the UID forms (EXPUNGE may arrive during UID FETCH,
            // UID STORE and UID SEARCH; §5.5 note), EXPUNGE, CLOSE, UNSELECT, SELECT, NOOP.
            _ => Self::ORDINARY,
        }
    }

    /// The class of a codec command, from [`CommandBody::wire_name`]. UID forms
    /// (`"UID FETCH"`, ...) map to [`ORDINARY`](Self::ORDINARY) — right for all of them
    /// except a UID SEARCH/SORT/THREAD whose criteria contain sequence numbers: mark those
    /// with [`with_sequence_numbers`](Self::with_sequence_numbers) (the codec tells with
    /// `CommandBody::uses_sequence_numbers`).
    ///
    /// [`CommandBody::wire_name`]: imapwire_codec::command::CommandBody::wire_name
    pub fn of(body: &imapwire_codec::command::CommandBody) -> CommandClass {
        let c = Self::from_name(body.wire_name());
        // UID SEARCH/SORT/THREAD whose criteria hold sequence numbers (RFC 9051 §7.5.1).
        if body.uses_sequence_numbers() {
            c.with_sequence_numbers()
        } else {
            c
        }
    }

    /// The same class, marked as using sequence numbers (for UID SEARCH/SORT/THREAD whose
    /// criteria contain message sequence numbers, or an extension command that does).
    pub fn with_sequence_numbers(self) -> CommandClass {
        CommandClass {
            uses_sequence_numbers: true,
            ..self
        }
    }

    /// Whether nothing may be sent after this command until it completes.
    pub fn is_barrier(&self) -> bool {
        self.barrier
    }

    /// Whether the command's arguments or results contain message sequence numbers.
    pub fn uses_sequence_numbers(&self) -> bool {
        self.uses_sequence_numbers
    }

    /// Whether the server may send untagged EXPUNGE while the command is in progress.
    pub fn allows_expunge(&self) -> bool {
        self.allows_expunge
    }
}

/// Why a command may not be sent yet. Each variant is one rule (see the module docs); the
/// command can be sent once the in-flight command that caused the wait completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Wait {
    /// Rule 1: the number of commands in flight is at the configured maximum.
    MaxInFlight {
        /// The maximum.
        limit: usize,
    },
    /// Rule 2: a barrier command (STARTTLS, COMPRESS, AUTHENTICATE, IDLE, LOGOUT) is in
    /// flight.
    Barrier,
    /// Rule 3: this command uses sequence numbers and a command during which EXPUNGE may
    /// arrive is in flight.
    SequenceNumbersAfterExpunge,
    /// Rule 4 (opt-in): this command may expunge and a command with sequence numbers is in
    /// flight.
    ExpungeAfterSequenceNumbers,
}

/// The pipelining policy of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PipelineRules {
    /// Commands in flight at most; values below 1 are treated as 1.
    pub max_in_flight: usize,
    /// Rule 4: hold back commands that may expunge while sequence-number commands are in
    /// flight. Not required by RFC 9051 §5.5; off by default.
    pub expunge_waits_for_sequence_numbers: bool,
}

impl Default for PipelineRules {
    /// 16 commands in flight, rule 4 off.
    fn default() -> Self {
        PipelineRules {
            max_in_flight: 16,
            expunge_waits_for_sequence_numbers: false,
        }
    }
}

impl PipelineRules {
    /// Rules with `max_in_flight` commands in flight and the defaults otherwise.
    pub fn with_max_in_flight(max_in_flight: usize) -> Self {
        PipelineRules {
            max_in_flight,
            ..Self::default()
        }
    }

    /// Whether `next` may be sent now, given the classes of the commands in flight (sent and
    /// not yet completed, in any order). `Ok(())` means send; `Err` names the first rule that
    /// holds it back (rules are checked in the order 2, 1, 3, 4).
    pub fn check<'a>(
        &self,
        next: &CommandClass,
        in_flight: impl IntoIterator<Item = &'a CommandClass>,
    ) -> Result<(), Wait> {
        let mut count = 0usize;
        let mut barrier = false;
        let mut expunge_possible = false;
        let mut seqnums = false;
        for c in in_flight {
            count += 1;
            barrier |= c.barrier;
            expunge_possible |= c.allows_expunge;
            seqnums |= c.uses_sequence_numbers;
        }
        if barrier {
            return Err(Wait::Barrier);
        }
        let limit = self.max_in_flight.max(1);
        if count >= limit {
            return Err(Wait::MaxInFlight { limit });
        }
        if next.uses_sequence_numbers && expunge_possible {
            return Err(Wait::SequenceNumbersAfterExpunge);
        }
        if self.expunge_waits_for_sequence_numbers && next.allows_expunge && seqnums {
            return Err(Wait::ExpungeAfterSequenceNumbers);
        }
        Ok(())
    }

    /// Whether the commands `classes`, sent back to back without waiting for any
    /// completion, obeys the rules. Returns the index of the first command that would have
    /// to wait and why. A convenience for tests and for checking a planned batch.
    pub fn check_sequence(&self, classes: &[CommandClass]) -> Result<(), (usize, Wait)> {
        for (i, c) in classes.iter().enumerate() {
            let before = classes.get(..i).unwrap_or(&[]);
            self.check(c, before).map_err(|w| (i, w))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(names: &str) -> Vec<CommandClass> {
        names
            .split('+')
            .map(|n| CommandClass::from_name(n.trim()))
            .collect()
    }

    /// (rule, sequence sent without waiting, expected outcome). Sequences are written as in
    /// RFC 9051 §5.5.
    type Outcome = Result<(), (usize, Wait)>;

    const TABLE: &[(&str, &str, Outcome)] = &[
        // RFC 9051 §5.5: the invalid examples...
        (
            "rfc: FETCH + NOOP + STORE",
            "FETCH + NOOP + STORE",
            Err((2, Wait::SequenceNumbersAfterExpunge)),
        ),
        (
            "rfc: STORE + COPY + FETCH",
            "STORE + COPY + FETCH",
            Err((2, Wait::SequenceNumbersAfterExpunge)),
        ),
        (
            "rfc: COPY + COPY",
            "COPY + COPY",
            Err((1, Wait::SequenceNumbersAfterExpunge)),
        ),
        // ...and the valid ones.
        (
            "rfc: FETCH + STORE + SEARCH + NOOP",
            "FETCH + STORE + SEARCH + NOOP",
            Ok(()),
        ),
        (
            "rfc: STORE + COPY + EXPUNGE",
            "STORE + COPY + EXPUNGE",
            Ok(()),
        ),
        // Rule 3, the UID note: EXPUNGE may arrive during UID FETCH/STORE/SEARCH.
        (
            "uid fetch then seqnums",
            "UID FETCH + FETCH",
            Err((1, Wait::SequenceNumbersAfterExpunge)),
        ),
        (
            "uid store then seqnums",
            "UID STORE + SEARCH",
            Err((1, Wait::SequenceNumbersAfterExpunge)),
        ),
        (
            "uid search then seqnums",
            "UID SEARCH + STORE",
            Err((1, Wait::SequenceNumbersAfterExpunge)),
        ),
        (
            "uid commands pipeline freely",
            "UID FETCH + UID STORE + UID SEARCH + UID MOVE + UID EXPUNGE",
            Ok(()),
        ),
        (
            "expunge then seqnums",
            "EXPUNGE + FETCH",
            Err((1, Wait::SequenceNumbersAfterExpunge)),
        ),
        (
            "move then seqnums",
            "MOVE + FETCH",
            Err((1, Wait::SequenceNumbersAfterExpunge)),
        ),
        (
            "close then seqnums",
            "CLOSE + FETCH",
            Err((1, Wait::SequenceNumbersAfterExpunge)),
        ),
        (
            "select then seqnums",
            "SELECT + FETCH",
            Err((1, Wait::SequenceNumbersAfterExpunge)),
        ),
        (
            "check then seqnums",
            "CHECK + STORE",
            Err((1, Wait::SequenceNumbersAfterExpunge)),
        ),
        (
            "unknown command then seqnums",
            "XAPPLEPUSHSERVICE + FETCH",
            Err((1, Wait::SequenceNumbersAfterExpunge)),
        ),
        (
            "sort and thread are shielded",
            "SORT + THREAD + FETCH",
            Ok(()),
        ),
        (
            "uid sort then seqnums",
            "UID SORT + FETCH",
            Err((1, Wait::SequenceNumbersAfterExpunge)),
        ),
        ("seqnums after seqnums", "FETCH + FETCH + STORE", Ok(())),
        ("select then uid", "SELECT + UID FETCH + UID STORE", Ok(())),
        (
            "case-insensitive",
            "noop + fetch",
            Err((1, Wait::SequenceNumbersAfterExpunge)),
        ),
        // Rule 2: barriers.
        (
            "barrier: starttls",
            "STARTTLS + CAPABILITY",
            Err((1, Wait::Barrier)),
        ),
        (
            "barrier: compress",
            "COMPRESS + NOOP",
            Err((1, Wait::Barrier)),
        ),
        (
            "barrier: authenticate",
            "AUTHENTICATE + CAPABILITY",
            Err((1, Wait::Barrier)),
        ),
        ("barrier: idle", "IDLE + NOOP", Err((1, Wait::Barrier))),
        ("barrier: logout", "LOGOUT + NOOP", Err((1, Wait::Barrier))),
        (
            "barrier after others is fine",
            "NOOP + LIST + STARTTLS",
            Ok(()),
        ),
        (
            "barrier beats seqnum rule",
            "FETCH + IDLE + FETCH",
            Err((2, Wait::Barrier)),
        ),
        ("login pipelines", "LOGIN + CAPABILITY + SELECT", Ok(())),
    ];

    #[test]
    fn rule_table() {
        let rules = PipelineRules::default();
        for (name, seq, want) in TABLE {
            assert_eq!(
                rules.check_sequence(&classes(seq)),
                *want,
                "rule {name}: {seq}"
            );
        }
    }

    #[test]
    fn rule_1_max_in_flight() {
        let rules = PipelineRules::with_max_in_flight(3);
        let seq = classes("NOOP + NOOP + NOOP + NOOP");
        assert_eq!(
            rules.check_sequence(&seq),
            Err((3, Wait::MaxInFlight { limit: 3 }))
        );
        // Zero is treated as one: a single command can always be sent when nothing is in flight.
        let rules = PipelineRules::with_max_in_flight(0);
        assert_eq!(rules.check(&CommandClass::ORDINARY, []), Ok(()));
        assert_eq!(
            rules.check(&CommandClass::ORDINARY, [&CommandClass::ORDINARY]),
            Err(Wait::MaxInFlight { limit: 1 })
        );
    }

    #[test]
    fn rule_2_barrier_alone_can_be_sent_and_blocks_everything() {
        let rules = PipelineRules::default();
        assert_eq!(rules.check(&CommandClass::BARRIER, []), Ok(()));
        for next in [
            CommandClass::ORDINARY,
            CommandClass::BARRIER,
            CommandClass::SEQUENCE_SHIELDED,
            CommandClass::SEQUENCE_EXPUNGING,
        ] {
            assert_eq!(
                rules.check(&next, [&CommandClass::BARRIER]),
                Err(Wait::Barrier)
            );
        }
    }

    #[test]
    fn rule_3_uid_search_with_sequence_numbers() {
        // RFC 9051 §5.5: "UID SEARCH + UID SEARCH may be valid or invalid ... depending upon
        // whether or not the second UID SEARCH contains message sequence numbers."
        let rules = PipelineRules::default();
        let uid_search = CommandClass::from_name("UID SEARCH");
        assert_eq!(rules.check(&uid_search, [&uid_search]), Ok(()));
        let with_seq = uid_search.with_sequence_numbers();
        assert!(with_seq.allows_expunge() && with_seq.uses_sequence_numbers());
        assert_eq!(
            rules.check(&with_seq, [&uid_search]),
            Err(Wait::SequenceNumbersAfterExpunge)
        );
    }

    #[test]
    fn rule_4_is_opt_in() {
        let seq = classes("STORE + COPY + EXPUNGE");
        assert_eq!(PipelineRules::default().check_sequence(&seq), Ok(()));
        let strict = PipelineRules {
            expunge_waits_for_sequence_numbers: true,
            ..PipelineRules::default()
        };
        // COPY itself allows EXPUNGE, so under rule 4 it waits for the STORE.
        assert_eq!(
            strict.check_sequence(&seq),
            Err((1, Wait::ExpungeAfterSequenceNumbers))
        );
        assert_eq!(
            strict.check_sequence(&classes("FETCH + STORE + SEARCH")),
            Ok(())
        );
        assert_eq!(
            strict.check_sequence(&classes("FETCH + NOOP")),
            Err((1, Wait::ExpungeAfterSequenceNumbers))
        );
    }

    #[test]
    fn classes_of_codec_commands() {
        use imapwire_codec::codec::{CommandDecoder, StreamEvent};
        let mut dec = CommandDecoder::default();
        dec.push(
            &b"a1 FETCH 1:* (FLAGS)\r\na2 UID FETCH 1:* (FLAGS)\r\na3 IDLE\r\na4 COPY 1 x\r\n\
               a5 NOOP\r\na6 UID EXPUNGE 1:3\r\na7 STARTTLS\r\na8 SEARCH UNSEEN\r\n"[..],
        );
        let mut got = Vec::new();
        while let Some(ev) = dec.next() {
            let StreamEvent::Message(m) = ev else {
                panic!("{ev:?}")
            };
            got.push(CommandClass::of(m.message.body()));
        }
        assert_eq!(
            got,
            [
                CommandClass::SEQUENCE_SHIELDED,
                CommandClass::ORDINARY,
                CommandClass::BARRIER,
                CommandClass::SEQUENCE_EXPUNGING,
                CommandClass::ORDINARY,
                CommandClass::ORDINARY,
                CommandClass::BARRIER,
                CommandClass::SEQUENCE_SHIELDED,
            ]
        );
    }

    #[test]
    fn classes_of_the_table() {
        for n in ["STARTTLS", "COMPRESS", "AUTHENTICATE", "IDLE", "LOGOUT"] {
            assert!(CommandClass::from_name(n).is_barrier(), "{n}");
        }
        for n in ["FETCH", "STORE", "SEARCH", "SORT", "THREAD"] {
            let c = CommandClass::from_name(n);
            assert!(c.uses_sequence_numbers() && !c.allows_expunge(), "{n}");
        }
        for n in ["COPY", "MOVE", "REPLACE"] {
            let c = CommandClass::from_name(n);
            assert!(c.uses_sequence_numbers() && c.allows_expunge(), "{n}");
        }
        for n in [
            "UID FETCH",
            "UID STORE",
            "UID SEARCH",
            "UID COPY",
            "UID MOVE",
            "UID EXPUNGE",
            "EXPUNGE",
            "CLOSE",
            "NOOP",
            "SELECT",
            "ENABLE",
            "APPEND",
            "X-UNKNOWN",
        ] {
            assert_eq!(CommandClass::from_name(n), CommandClass::ORDINARY, "{n}");
        }
    }
}
