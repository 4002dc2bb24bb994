//! Known-answer tests of the synchronisation engine (imapwire_session::sync): one test per
//! rule of issue 12's list, each against a scripted server.

use std::time::Instant;

use imapwire_codec::mailbox::Mailbox;
use imapwire_session::client::{Client, ClientConfig, Event};
use imapwire_session::sync::{
    FlagSet, Journal, LocalChange, MessageState, ReplicaState, Resolution, ServerInfo, SyncConfig,
    SyncEngine, SyncError, SyncFailure, SyncMode, SyncOutcome,
};

/// A scripted server: each client command (matched by a substring of its line, literals
/// shown as `{n}`) gets a canned answer, `{tag}` replaced by the command's tag. Records
/// every command the client sent.
struct Script {
    steps: Vec<(String, String)>,
    next: usize,
    buf: Vec<u8>,
    /// A command line waiting for its literal: the text so far and the literal's size.
    partial: Option<(String, usize)>,
    sent: Vec<String>,
    /// Close the connection when this step is reached (instead of answering it), after
    /// sending this much of its answer.
    close_at: Option<(usize, usize)>,
    closed: bool,
}

impl Script {
    fn new(steps: &[(&str, &str)]) -> Self {
        Script {
            steps: steps
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            next: 0,
            buf: Vec::new(),
            partial: None,
            sent: Vec::new(),
            close_at: None,
            closed: false,
        }
    }

    fn exchange(&mut self, out: &[u8]) -> Option<Vec<u8>> {
        if self.closed {
            return None;
        }
        self.buf.extend_from_slice(out);
        let mut reply = Vec::new();
        loop {
            if let Some((_, need)) = &self.partial {
                if self.buf.len() < *need {
                    break;
                }
                let need = *need;
                self.buf.drain(..need);
                let (acc, _) = self.partial.take().unwrap();
                self.partial = Some((acc, 0));
            }
            let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") else {
                break;
            };
            let raw: Vec<u8> = self.buf.drain(..pos + 2).collect();
            let piece = String::from_utf8_lossy(&raw[..raw.len() - 2]).into_owned();
            let line = match self.partial.take() {
                Some((acc, _)) => acc + &piece,
                None => piece.clone(),
            };
            if let Some(n) = literal_len(&piece) {
                if !piece.ends_with("+}") {
                    reply.extend_from_slice(b"+ go\r\n");
                }
                self.partial = Some((line, n));
                continue;
            }
            let tag = line.split(' ').next().unwrap_or("").to_string();
            self.sent.push(line.clone());
            let Some((want, answer)) = self.steps.get(self.next) else {
                panic!("unexpected command: {line}");
            };
            assert!(
                line.contains(want.as_str()),
                "step {}: expected a command containing {want:?}, got {line:?}",
                self.next
            );
            let answer = answer.replace("{tag}", &tag);
            if let Some((at, keep)) = self.close_at {
                if at == self.next {
                    self.closed = true;
                    reply.extend_from_slice(&answer.as_bytes()[..keep.min(answer.len())]);
                    return if reply.is_empty() { None } else { Some(reply) };
                }
            }
            self.next += 1;
            reply.extend_from_slice(answer.as_bytes());
        }
        Some(reply)
    }

    fn done(&self) {
        assert_eq!(
            self.next,
            self.steps.len(),
            "not every step ran: {:?}",
            self.sent
        );
    }
}

fn literal_len(line: &str) -> Option<usize> {
    let open = line.rfind('{')?;
    let inner = line[open + 1..].strip_suffix('}')?;
    inner.trim_end_matches('+').parse().ok()
}

fn client(caps: &str) -> Client {
    let now = Instant::now();
    let mut c = Client::new(ClientConfig::default().with_encrypted(true), now).unwrap();
    let greeting = format!("* PREAUTH [CAPABILITY IMAP4rev1 {caps}] ready\r\n");
    let n = c.handle_input(now, greeting.as_bytes());
    assert_eq!(n, greeting.len());
    while c.poll_event().is_some() {}
    c
}

fn sync(
    caps: &str,
    script: &mut Script,
    state: ReplicaState,
    journal: Journal,
    cfg: impl FnOnce(SyncConfig) -> SyncConfig,
) -> Result<SyncOutcome, Box<SyncFailure>> {
    let mut c = client(caps);
    let engine = SyncEngine::new(
        cfg(SyncConfig::new(Mailbox::try_from("INBOX").unwrap())),
        ServerInfo::from_client(&c),
        state,
        journal,
    );
    imapwire_session::sync::run(
        engine,
        &mut c,
        Instant::now(),
        &mut |out| script.exchange(out),
        &mut |_| {},
        &mut |_: &Event| {},
    )
}

fn msg(flags: &[&str], modseq: u64) -> MessageState {
    MessageState {
        flags: FlagSet::from_names(flags.iter().copied()),
        modseq,
    }
}

fn replica(uv: u32, hms: Option<u64>, msgs: &[(u32, &[&str], u64)]) -> ReplicaState {
    let mut s = ReplicaState {
        uidvalidity: Some(uv),
        highestmodseq: hms,
        uidnext: Some(msgs.iter().map(|m| m.0).max().unwrap_or(0) + 1),
        last_uid: msgs.iter().map(|m| m.0).max().unwrap_or(0),
        ..ReplicaState::default()
    };
    for (u, f, m) in msgs {
        s.messages.insert(*u, msg(f, *m));
    }
    s
}

#[test]
fn first_sync_plain_downloads_everything() {
    let mut s = Script::new(&[
        (
            "SELECT INBOX",
            "* 2 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 5] n\r\n{tag} OK [READ-WRITE] done\r\n",
        ),
        (
            "UID FETCH 1:* (UID FLAGS BODY.PEEK[])",
            "* 1 FETCH (UID 3 FLAGS (\\Seen) BODY[] {5}\r\nhello)\r\n* 2 FETCH (UID 4 FLAGS () BODY[] {5}\r\nworld)\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync("", &mut s, ReplicaState::default(), Journal::new(), |c| c).unwrap();
    assert_eq!(out.report.mode, Some(SyncMode::Full));
    assert_eq!(out.report.downloaded, 2);
    assert_eq!(out.changes.new_messages.len(), 2);
    assert_eq!(out.changes.new_messages[0].uid, 3);
    assert_eq!(
        out.changes.new_messages[0].body.as_deref(),
        Some(&b"hello"[..])
    );
    assert!(out.changes.new_messages[0].flags.contains("\\Seen"));
    assert_eq!(out.state.uidvalidity, Some(7));
    assert_eq!(out.state.last_uid, 4);
    assert_eq!(out.state.highestmodseq, None);
    assert_eq!(out.state.messages.len(), 2);
}

#[test]
fn plain_resync_flags_and_expunges_by_uid_difference() {
    let state = replica(7, None, &[(3, &["\\Seen"], 0), (4, &[], 0), (6, &[], 0)]);
    let mut s = Script::new(&[
        (
            "SELECT INBOX",
            "* 3 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 8] n\r\n{tag} OK [READ-WRITE] done\r\n",
        ),
        (
            "UID FETCH 1:6 (UID FLAGS)",
            "* 1 FETCH (UID 3 FLAGS ())\r\n* 2 FETCH (UID 6 FLAGS ())\r\n{tag} OK done\r\n",
        ),
        (
            "UID FETCH 7:* (UID FLAGS BODY.PEEK[])",
            "* 3 FETCH (UID 7 FLAGS () BODY[] {3}\r\nnew)\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync("", &mut s, state, Journal::new(), |c| c).unwrap();
    assert_eq!(out.report.mode, Some(SyncMode::Full));
    assert_eq!(out.changes.expunged, vec![4]);
    assert_eq!(out.report.expunged, 1);
    assert_eq!(out.report.flags_changed, 1);
    assert_eq!(out.report.downloaded, 1);
    assert_eq!(
        out.state.messages.keys().copied().collect::<Vec<_>>(),
        vec![3, 6, 7]
    );
    assert!(out.state.messages[&3].flags.is_empty());
}

#[test]
fn uploads_go_first_and_local_flags_merge_with_server_flags() {
    // Local +\Seen on 3; the server meanwhile set \Answered: both end up set.
    let state = replica(7, None, &[(3, &[], 0)]);
    let mut j = Journal::new();
    let id = j.record(LocalChange::Flags {
        uid: 3,
        add: FlagSet::from_names(["\\Seen"]),
        remove: FlagSet::new(),
    });
    let mut s = Script::new(&[
        (
            "SELECT INBOX",
            "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 4] n\r\n{tag} OK [READ-WRITE] done\r\n",
        ),
        (
            "UID STORE 3 +FLAGS (\\Seen)",
            "* 1 FETCH (UID 3 FLAGS (\\Seen \\Answered))\r\n{tag} OK done\r\n",
        ),
        (
            "UID FETCH 1:3 (UID FLAGS)",
            "* 1 FETCH (UID 3 FLAGS (\\Seen \\Answered))\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync("", &mut s, state, j, |c| c).unwrap();
    assert_eq!(out.report.uploaded, 1);
    assert_eq!(out.report.conflicts, 1);
    assert!(out.journal.is_empty());
    assert_eq!(out.changes.resolved, vec![(id, Resolution::Applied)]);
    let f = &out.state.messages[&3].flags;
    assert!(f.contains("\\Seen") && f.contains("\\Answered"));
}

const QR: &str = "QRESYNC CONDSTORE ENABLE UIDPLUS";

fn select_ok(uv: u32, uidnext: u32, exists: u32, hms: &str) -> String {
    format!(
        "* {exists} EXISTS\r\n* OK [UIDVALIDITY {uv}] v\r\n* OK [UIDNEXT {uidnext}] n\r\n{hms}{{tag}} OK [READ-WRITE] done\r\n"
    )
}

// ---- the rules that others broke (issue 12), one test each ----

#[test]
fn highestmodseq_zero_means_unknown_and_no_modseq_0_is_sent() {
    // The server says HIGHESTMODSEQ 0: the engine falls back to the full mode and keeps
    // the position unknown; the next sync then never sends a MODSEQ of 0.
    let state = replica(7, Some(40), &[(3, &["\\Seen"], 30)]);
    let mut s = Script::new(&[
        ("ENABLE QRESYNC", "* ENABLED QRESYNC\r\n{tag} OK done\r\n"),
        (
            "SELECT INBOX (QRESYNC (7 40",
            &select_ok(7, 4, 1, "* OK [HIGHESTMODSEQ 0] m\r\n"),
        ),
        (
            "UID FETCH 1:3 (UID FLAGS)",
            "* 1 FETCH (UID 3 FLAGS (\\Seen))\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync(QR, &mut s, state, Journal::new(), |c| c).unwrap();
    s.done();
    assert_eq!(out.report.mode, Some(SyncMode::Full));
    assert_eq!(out.state.highestmodseq, None);
    // Next time: no QRESYNC parameters (there is no MODSEQ to send), no CHANGEDSINCE.
    let mut s = Script::new(&[
        ("ENABLE QRESYNC", "* ENABLED QRESYNC\r\n{tag} OK done\r\n"),
        (
            "SELECT INBOX",
            &select_ok(7, 4, 1, "* OK [HIGHESTMODSEQ 0] m\r\n"),
        ),
        (
            "UID FETCH 1:3 (UID FLAGS)",
            "* 1 FETCH (UID 3 FLAGS (\\Seen))\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync(QR, &mut s, out.state, Journal::new(), |c| c).unwrap();
    s.done();
    assert!(
        s.sent
            .iter()
            .all(|l| !l.contains("QRESYNC (") && !l.contains("CHANGEDSINCE"))
    );
    assert!(
        s.sent
            .iter()
            .all(|l| !l.contains(" 0)") && !l.contains("(UNCHANGEDSINCE 0)"))
    );
    assert_eq!(out.report.mode, Some(SyncMode::Full));
}

#[test]
fn nomodseq_mailbox_means_unknown() {
    let state = replica(7, Some(40), &[(3, &[], 30)]);
    let mut j = Journal::new();
    j.record(LocalChange::Flags {
        uid: 3,
        add: FlagSet::from_names(["\\Flagged"]),
        remove: FlagSet::new(),
    });
    let mut s = Script::new(&[
        (
            "SELECT INBOX (CONDSTORE)",
            &select_ok(7, 4, 1, "* OK [NOMODSEQ] none\r\n"),
        ),
        // No UNCHANGEDSINCE: there is no MODSEQ to compare with.
        (
            "UID STORE 3 +FLAGS (\\Flagged)",
            "* 1 FETCH (UID 3 FLAGS (\\Flagged))\r\n{tag} OK done\r\n",
        ),
        (
            "UID FETCH 1:3 (UID FLAGS)",
            "* 1 FETCH (UID 3 FLAGS (\\Flagged))\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync("CONDSTORE", &mut s, state, j, |c| c).unwrap();
    s.done();
    assert_eq!(out.report.mode, Some(SyncMode::Full));
    assert_eq!(out.state.highestmodseq, None);
    assert_eq!(out.report.uploaded, 1);
}

#[test]
fn vanished_earlier_and_fetch_applied_before_taking_the_new_highestmodseq() {
    let state = replica(7, Some(40), &[(3, &[], 30), (4, &[], 31), (5, &[], 32)]);
    let select = select_ok(
        7,
        6,
        2,
        "* OK [HIGHESTMODSEQ 50] m\r\n* VANISHED (EARLIER) 4\r\n* 2 FETCH (UID 5 FLAGS (\\Seen) MODSEQ (45))\r\n",
    );
    let steps: [(&str, &str); 2] = [
        ("ENABLE QRESYNC", "* ENABLED QRESYNC\r\n{tag} OK done\r\n"),
        ("SELECT INBOX (QRESYNC (7 40 3:5))", &select),
    ];
    // Cut right after the SELECT's data, before its completion: the sync fails and the old
    // position stays (the data was not handed over).
    let mut s = Script::new(&steps);
    s.close_at = Some((1, select.find("{tag}").unwrap()));
    let fail = sync(QR, &mut s, state.clone(), Journal::new(), |c| c).unwrap_err();
    assert_eq!(fail.error, SyncError::ConnectionLost);
    assert_eq!(fail.state, state);
    assert_eq!(fail.state.highestmodseq, Some(40));
    // Whole: both applied, and only then HIGHESTMODSEQ 50.
    let mut s = Script::new(&steps);
    let out = sync(QR, &mut s, state, Journal::new(), |c| c).unwrap();
    s.done();
    assert_eq!(out.report.mode, Some(SyncMode::Qresync));
    assert_eq!(out.changes.expunged, vec![4]);
    assert_eq!(out.changes.flags_changed.len(), 1);
    assert_eq!(out.state.highestmodseq, Some(50));
    assert_eq!(
        out.state.messages.keys().copied().collect::<Vec<_>>(),
        vec![3, 5]
    );
    assert_eq!(out.state.messages[&5], msg(&["\\Seen"], 45));
}

#[test]
fn new_mail_is_last_plus_one_star_and_uids_at_or_below_last_are_dropped() {
    // UIDNEXT says there may be new mail, but it was expunged: `5:*` returns the top
    // message, UID 4, which is not new.
    let state = replica(7, None, &[(3, &[], 0), (4, &[], 0)]);
    let mut s = Script::new(&[
        ("SELECT INBOX", &select_ok(7, 9, 2, "")),
        (
            "UID FETCH 1:4 (UID FLAGS)",
            "* 1 FETCH (UID 3 FLAGS ())\r\n* 2 FETCH (UID 4 FLAGS ())\r\n{tag} OK done\r\n",
        ),
        (
            "UID FETCH 5:* (UID FLAGS BODY.PEEK[])",
            "* 2 FETCH (UID 4 FLAGS () BODY[] {3}\r\nold)\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync("", &mut s, state, Journal::new(), |c| c).unwrap();
    s.done();
    assert_eq!(out.report.downloaded, 0);
    assert!(out.changes.new_messages.is_empty());
    assert_eq!(out.state.last_uid, 4);
}

#[test]
fn uidnext_is_cross_checked_not_highestmodseq_alone() {
    // HIGHESTMODSEQ did not move (a server that does not count appends), UIDNEXT did:
    // new mail is fetched anyway.
    let state = replica(7, Some(40), &[(3, &[], 30)]);
    let mut s = Script::new(&[
        ("ENABLE QRESYNC", "* ENABLED QRESYNC\r\n{tag} OK done\r\n"),
        (
            "SELECT INBOX (QRESYNC",
            &select_ok(7, 5, 2, "* OK [HIGHESTMODSEQ 40] m\r\n"),
        ),
        (
            "UID FETCH 4:* (UID FLAGS MODSEQ BODY.PEEK[])",
            "* 2 FETCH (UID 4 FLAGS () MODSEQ (40) BODY[] {3}\r\nnew)\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync(QR, &mut s, state, Journal::new(), |c| c).unwrap();
    s.done();
    assert_eq!(out.report.downloaded, 1);
    // And when UIDNEXT is last+1 and nothing changed, nothing is fetched at all.
    let mut s = Script::new(&[
        ("ENABLE QRESYNC", "* ENABLED QRESYNC\r\n{tag} OK done\r\n"),
        (
            "SELECT INBOX (QRESYNC",
            &select_ok(7, 5, 2, "* OK [HIGHESTMODSEQ 40] m\r\n"),
        ),
    ]);
    let out = sync(QR, &mut s, out.state, Journal::new(), |c| c).unwrap();
    s.done();
    assert_eq!(out.report.downloaded, 0);
}

#[test]
fn modseq_values_are_63_bit() {
    let big = (1u64 << 63) - 2;
    let state = replica(7, Some(big), &[(3, &[], big)]);
    let mut s = Script::new(&[
        ("ENABLE QRESYNC", "* ENABLED QRESYNC\r\n{tag} OK done\r\n"),
        (
            "SELECT INBOX (QRESYNC (7 9223372036854775806 3))",
            &select_ok(
                7,
                4,
                1,
                "* OK [HIGHESTMODSEQ 9223372036854775807] m\r\n* 1 FETCH (UID 3 FLAGS (\\Seen) MODSEQ (9223372036854775807))\r\n",
            ),
        ),
    ]);
    let out = sync(QR, &mut s, state, Journal::new(), |c| c).unwrap();
    s.done();
    assert_eq!(out.report.mode, Some(SyncMode::Qresync));
    assert_eq!(out.state.highestmodseq, Some(i64::MAX as u64));
    assert_eq!(out.state.messages[&3].modseq, i64::MAX as u64);
}

#[test]
fn fetch_cut_short_by_a_closed_connection_is_a_failed_sync() {
    let answer = "* 1 FETCH (UID 3 FLAGS () BODY[] {5}\r\nhello)\r\n* 2 FETCH (UID 4 FLAGS () BODY[] {5}\r\nworld)\r\n{tag} OK done\r\n";
    let mut s = Script::new(&[
        ("SELECT INBOX", &select_ok(7, 5, 2, "")),
        ("UID FETCH 1:* (UID FLAGS BODY.PEEK[])", answer),
    ]);
    // The connection closes after the first message.
    s.close_at = Some((1, answer.find("* 2").unwrap()));
    let fail = sync("", &mut s, ReplicaState::default(), Journal::new(), |c| c).unwrap_err();
    assert_eq!(fail.error, SyncError::ConnectionLost);
    assert_eq!(fail.state, ReplicaState::default());
}

#[test]
fn fetch_cut_short_by_an_error_is_a_failed_sync() {
    let mut s = Script::new(&[
        ("SELECT INBOX", &select_ok(7, 5, 2, "")),
        (
            "UID FETCH 1:* (UID FLAGS BODY.PEEK[])",
            "* 1 FETCH (UID 3 FLAGS () BODY[] {5}\r\nhello)\r\n{tag} NO [SERVERBUG] disk on fire\r\n",
        ),
    ]);
    let fail = sync("", &mut s, ReplicaState::default(), Journal::new(), |c| c).unwrap_err();
    s.done();
    assert!(
        matches!(
            fail.error,
            SyncError::Command {
                command: "UID FETCH",
                ..
            }
        ),
        "{:?}",
        fail.error
    );
    assert_eq!(fail.state, ReplicaState::default());
}

#[test]
fn new_state_is_handed_over_only_with_every_change_it_covers() {
    // Every UID the new state has beyond the old one comes with its message, every UID it
    // lost with an expunge, every flag difference with a flag change: the state never runs
    // ahead of the change set.
    let state = replica(7, None, &[(3, &[], 0), (4, &["\\Seen"], 0)]);
    let mut s = Script::new(&[
        ("SELECT INBOX", &select_ok(7, 7, 2, "")),
        (
            "UID FETCH 1:4 (UID FLAGS)",
            "* 1 FETCH (UID 3 FLAGS (\\Flagged))\r\n{tag} OK done\r\n",
        ),
        (
            "UID FETCH 5:* (UID FLAGS BODY.PEEK[])",
            "* 2 FETCH (UID 6 FLAGS () BODY[] {1}\r\nx)\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync("", &mut s, state.clone(), Journal::new(), |c| c).unwrap();
    s.done();
    for (uid, m) in &out.state.messages {
        match state.messages.get(uid) {
            None => assert!(out.changes.new_messages.iter().any(|n| n.uid == *uid)),
            Some(old) if old != m => {
                assert!(
                    out.changes
                        .flags_changed
                        .iter()
                        .any(|f| f.uid == *uid && f.flags == m.flags)
                )
            }
            Some(_) => {}
        }
    }
    for uid in state.messages.keys() {
        if !out.state.messages.contains_key(uid) {
            assert!(out.changes.expunged.contains(uid));
        }
    }
    assert_eq!(out.changes.expunged, vec![4]);
}

// ---- uploads ----

#[test]
fn unchangedsince_conflict_is_merged_three_way() {
    // Local +\Seen; the server set \Answered since: [MODIFIED], then the merge keeps both.
    let state = replica(7, Some(40), &[(3, &[], 30)]);
    let mut j = Journal::new();
    let id = j.record(LocalChange::Flags {
        uid: 3,
        add: FlagSet::from_names(["\\Seen"]),
        remove: FlagSet::new(),
    });
    let mut s = Script::new(&[
        ("ENABLE QRESYNC", "* ENABLED QRESYNC\r\n{tag} OK done\r\n"),
        (
            "SELECT INBOX (QRESYNC (7 40 3))",
            &select_ok(
                7,
                4,
                1,
                "* OK [HIGHESTMODSEQ 41] m\r\n* 1 FETCH (UID 3 FLAGS (\\Answered) MODSEQ (41))\r\n",
            ),
        ),
        (
            "UID STORE 3 (UNCHANGEDSINCE 30) FLAGS (\\Seen)",
            "{tag} OK [MODIFIED 3] conflict\r\n",
        ),
        (
            "UID STORE 3 +FLAGS (\\Seen)",
            "* 1 FETCH (UID 3 FLAGS (\\Answered \\Seen) MODSEQ (42))\r\n{tag} OK done\r\n",
        ),
        (
            "UID FETCH 3 (UID FLAGS MODSEQ)",
            "* 1 FETCH (UID 3 FLAGS (\\Answered \\Seen) MODSEQ (42))\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync(QR, &mut s, state, j, |c| c).unwrap();
    s.done();
    assert_eq!(out.report.conflicts, 1);
    assert_eq!(out.report.uploaded, 1);
    assert_eq!(out.changes.resolved, vec![(id, Resolution::Merged)]);
    assert_eq!(out.state.messages[&3], msg(&["\\Answered", "\\Seen"], 42));
    // The position stays the SELECT's: our own change (MODSEQ 42) is seen again next time.
    assert_eq!(out.state.highestmodseq, Some(41));
}

#[test]
fn operation_on_a_uid_the_server_removed_counts_as_done() {
    let state = replica(7, Some(40), &[(3, &[], 30), (4, &[], 30)]);
    let mut j = Journal::new();
    let a = j.record(LocalChange::Flags {
        uid: 3,
        add: FlagSet::from_names(["\\Seen"]),
        remove: FlagSet::new(),
    });
    let b = j.record(LocalChange::Delete { uid: 3 });
    let c = j.record(LocalChange::Move {
        uid: 3,
        to: "Archive".into(),
    });
    let mut s = Script::new(&[
        ("ENABLE QRESYNC", "* ENABLED QRESYNC\r\n{tag} OK done\r\n"),
        (
            "SELECT INBOX (QRESYNC (7 40 3:4))",
            &select_ok(
                7,
                5,
                1,
                "* OK [HIGHESTMODSEQ 44] m\r\n* VANISHED (EARLIER) 3\r\n",
            ),
        ),
    ]);
    let out = sync(QR, &mut s, state, j, |c| c).unwrap();
    s.done();
    assert!(out.journal.is_empty());
    assert_eq!(
        out.changes.resolved,
        vec![
            (a, Resolution::AlreadyGone),
            (b, Resolution::AlreadyGone),
            (c, Resolution::AlreadyGone)
        ]
    );
    assert_eq!(out.report.uploaded, 0);
    assert_eq!(out.report.expunged, 1);
}

#[test]
fn flag_change_on_a_uid_expunged_by_others_counts_as_done_without_qresync() {
    // RFC 4549 level: the UID STORE goes out before the listing shows the message gone
    // (a server answers OK to a UID STORE of a UID that no longer exists, RFC 9051 §6.4.9).
    let state = replica(7, None, &[(3, &[], 0), (4, &[], 0)]);
    let mut j = Journal::new();
    let a = j.record(LocalChange::Flags {
        uid: 3,
        add: FlagSet::from_names(["\\Seen"]),
        remove: FlagSet::new(),
    });
    let b = j.record(LocalChange::Flags {
        uid: 4,
        add: FlagSet::from_names(["\\Seen"]),
        remove: FlagSet::new(),
    });
    let mut s = Script::new(&[
        (
            "SELECT INBOX",
            "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 5] n\r\n{tag} OK [READ-WRITE] done\r\n",
        ),
        ("UID STORE 3 +FLAGS (\\Seen)", "{tag} OK done\r\n"),
        (
            "UID STORE 4 +FLAGS (\\Seen)",
            "* 1 FETCH (UID 4 FLAGS (\\Seen))\r\n{tag} OK done\r\n",
        ),
        (
            "UID FETCH 1:4 (UID FLAGS)",
            "* 1 FETCH (UID 4 FLAGS (\\Seen))\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync("", &mut s, state, j, |c| c).unwrap();
    s.done();
    assert!(out.journal.is_empty());
    assert_eq!(
        out.changes.resolved,
        vec![(a, Resolution::AlreadyGone), (b, Resolution::Applied)]
    );
    assert_eq!(out.changes.expunged, vec![3]);
    assert_eq!(out.report.uploaded, 1);
    assert_eq!(out.report.expunged, 1);
}

#[test]
fn deletion_expunges_only_the_replicas_own_uids() {
    let state = replica(7, Some(40), &[(3, &[], 30), (4, &[], 30)]);
    let mut j = Journal::new();
    j.record(LocalChange::Delete { uid: 4 });
    let mut s = Script::new(&[
        ("ENABLE QRESYNC", "* ENABLED QRESYNC\r\n{tag} OK done\r\n"),
        (
            "SELECT INBOX (QRESYNC (7 40 3:4))",
            &select_ok(7, 5, 2, "* OK [HIGHESTMODSEQ 40] m\r\n"),
        ),
        ("UID STORE 4 +FLAGS.SILENT (\\Deleted)", "{tag} OK done\r\n"),
        ("UID EXPUNGE 4", "* VANISHED 4\r\n{tag} OK done\r\n"),
    ]);
    let out = sync(QR, &mut s, state, j, |c| c).unwrap();
    s.done();
    // Never a plain EXPUNGE (it would take other clients' \Deleted messages too).
    assert!(s.sent.iter().all(|l| !l.ends_with(" EXPUNGE")));
    assert_eq!(out.report.uploaded, 1);
    assert_eq!(out.report.expunged, 0);
    assert_eq!(out.changes.expunged, vec![4]);
    assert_eq!(
        out.state.messages.keys().copied().collect::<Vec<_>>(),
        vec![3]
    );
}

#[test]
fn deletion_without_uidplus_only_marks_deleted() {
    let state = replica(7, None, &[(3, &[], 0)]);
    let mut j = Journal::new();
    j.record(LocalChange::Delete { uid: 3 });
    let mut s = Script::new(&[
        ("SELECT INBOX", &select_ok(7, 4, 1, "")),
        ("UID STORE 3 +FLAGS.SILENT (\\Deleted)", "{tag} OK done\r\n"),
        (
            "UID FETCH 1:3 (UID FLAGS)",
            "* 1 FETCH (UID 3 FLAGS (\\Deleted))\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync("", &mut s, state, j, |c| c).unwrap();
    s.done();
    assert!(s.sent.iter().all(|l| !l.contains("EXPUNGE")));
    assert!(out.state.messages[&3].flags.contains("\\Deleted"));
    assert!(out.journal.is_empty());
}

#[test]
fn move_uses_uid_move() {
    let state = replica(7, None, &[(3, &[], 0)]);
    let mut j = Journal::new();
    j.record(LocalChange::Move {
        uid: 3,
        to: "Archive".into(),
    });
    let mut s = Script::new(&[
        ("SELECT INBOX", &select_ok(7, 4, 1, "")),
        ("UID MOVE 3 Archive", "* 1 EXPUNGE\r\n{tag} OK done\r\n"),
    ]);
    let out = sync("MOVE", &mut s, state, j, |c| c).unwrap();
    s.done();
    assert_eq!(out.report.uploaded, 1);
    assert!(out.state.messages.is_empty());
    assert_eq!(out.changes.expunged, vec![3]);
}

fn append_entry(j: &mut Journal) -> u64 {
    j.record(LocalChange::Append {
        message: imapwire_codec::bytes::Bytes::from_static(b"Message-ID: <a@x>\r\n\r\nhi\r\n"),
        flags: FlagSet::from_names(["\\Seen"]),
        message_id: "<a@x>".into(),
    })
}

#[test]
fn append_takes_its_uid_from_appenduid_and_is_journalled_first() {
    let state = replica(7, Some(40), &[(3, &[], 30)]);
    let mut j = Journal::new();
    let id = append_entry(&mut j);
    let mut s = Script::new(&[
        ("ENABLE QRESYNC", "* ENABLED QRESYNC\r\n{tag} OK done\r\n"),
        (
            "SELECT INBOX (QRESYNC (7 40 3))",
            &select_ok(7, 4, 1, "* OK [HIGHESTMODSEQ 40] m\r\n"),
        ),
        (
            "APPEND INBOX (\\Seen) {25}",
            "* 2 EXISTS\r\n{tag} OK [APPENDUID 7 4] done\r\n",
        ),
        (
            "UID FETCH 4:* (UID FLAGS MODSEQ BODY.PEEK[])",
            "* 2 FETCH (UID 4 FLAGS (\\Seen) MODSEQ (41) BODY[] {25}\r\nMessage-ID: <a@x>\r\n\r\nhi\r\n)\r\n{tag} OK done\r\n",
        ),
    ]);
    let mut c = client(QR);
    let engine = SyncEngine::new(
        SyncConfig::new(Mailbox::try_from("INBOX").unwrap()),
        ServerInfo::from_client(&c),
        state,
        j,
    );
    let mut persisted = Vec::new();
    let out = imapwire_session::sync::run(
        engine,
        &mut c,
        Instant::now(),
        &mut |o| s.exchange(o),
        &mut |j| persisted.push(j.clone()),
        &mut |_| {},
    )
    .unwrap();
    s.done();
    // The journal was persisted, marked attempted, before the APPEND went out.
    assert_eq!(persisted.len(), 1);
    assert!(persisted[0].entries()[0].attempted);
    assert_eq!(
        out.changes.resolved,
        vec![(id, Resolution::Appended(Some(4)))]
    );
    assert_eq!(out.report.uploaded, 1);
    assert_eq!(
        out.report.downloaded, 0,
        "our own message is not someone else's new mail"
    );
    assert_eq!(out.changes.new_messages.len(), 1);
    assert!(out.journal.is_empty());
}

#[test]
fn append_without_uidplus_finds_its_uid_by_message_id() {
    let state = replica(7, None, &[(3, &[], 0)]);
    let mut j = Journal::new();
    let id = append_entry(&mut j);
    let mut s = Script::new(&[
        ("SELECT INBOX", &select_ok(7, 4, 1, "")),
        (
            "APPEND INBOX (\\Seen) {25}",
            "* 2 EXISTS\r\n{tag} OK done\r\n",
        ),
        (
            "UID SEARCH HEADER Message-ID <a@x>",
            "* SEARCH 4\r\n{tag} OK done\r\n",
        ),
        (
            "UID FETCH 1:3 (UID FLAGS)",
            "* 1 FETCH (UID 3 FLAGS ())\r\n{tag} OK done\r\n",
        ),
        (
            "UID FETCH 4:* (UID FLAGS BODY.PEEK[])",
            "* 2 FETCH (UID 4 FLAGS (\\Seen) BODY[] {25}\r\nMessage-ID: <a@x>\r\n\r\nhi\r\n)\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync("", &mut s, state, j, |c| c).unwrap();
    s.done();
    assert_eq!(
        out.changes.resolved,
        vec![(id, Resolution::Appended(Some(4)))]
    );
    assert_eq!(out.report.downloaded, 0);
}

#[test]
fn attempted_append_is_not_repeated_after_a_crash() {
    // The process died after sending APPEND: the entry is marked attempted. The message is
    // on the server: found by Message-ID, not appended again.
    let state = replica(7, None, &[(3, &[], 0)]);
    let mut j = Journal::new();
    let id = append_entry(&mut j);
    // A first sync dies right after sending APPEND (no answer): the journal it hands back
    // (and had asked to persist before the APPEND) has the entry marked attempted.
    let fail_first = {
        let mut s = Script::new(&[
            ("SELECT INBOX", &select_ok(7, 4, 1, "")),
            ("APPEND INBOX", "{tag} OK done\r\n"),
        ]);
        s.close_at = Some((1, 0));
        sync("", &mut s, state.clone(), j, |c| c).unwrap_err()
    };
    assert!(fail_first.journal.entries()[0].attempted);
    let marked = fail_first.journal.clone();
    let mut s = Script::new(&[
        ("SELECT INBOX", &select_ok(7, 5, 2, "")),
        (
            "UID SEARCH HEADER Message-ID <a@x>",
            "* SEARCH 4\r\n{tag} OK done\r\n",
        ),
        (
            "UID FETCH 1:3 (UID FLAGS)",
            "* 1 FETCH (UID 3 FLAGS ())\r\n{tag} OK done\r\n",
        ),
        (
            "UID FETCH 4:* (UID FLAGS BODY.PEEK[])",
            "* 2 FETCH (UID 4 FLAGS (\\Seen) BODY[] {25}\r\nMessage-ID: <a@x>\r\n\r\nhi\r\n)\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync("", &mut s, state, marked, |c| c).unwrap();
    s.done();
    assert!(s.sent.iter().all(|l| !l.contains("APPEND")));
    assert_eq!(
        out.changes.resolved,
        vec![(id, Resolution::Appended(Some(4)))]
    );
}

#[test]
fn uidvalidity_change_discards_the_replica_and_reports_pending_changes() {
    let state = replica(7, None, &[(3, &[], 0)]);
    let mut j = Journal::new();
    let f = j.record(LocalChange::Flags {
        uid: 3,
        add: FlagSet::from_names(["\\Seen"]),
        remove: FlagSet::new(),
    });
    let mut s = Script::new(&[
        ("SELECT INBOX", &select_ok(8, 3, 2, "")),
        (
            "UID FETCH 1:* (UID FLAGS BODY.PEEK[])",
            "* 1 FETCH (UID 1 FLAGS () BODY[] {1}\r\na)\r\n* 2 FETCH (UID 2 FLAGS () BODY[] {1}\r\nb)\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync("", &mut s, state, j, |c| c).unwrap();
    s.done();
    let reset = out.changes.uidvalidity_reset.as_ref().unwrap();
    assert_eq!((reset.old, reset.new), (7, 8));
    assert_eq!(reset.discarded.len(), 1);
    assert_eq!(reset.discarded[0].id, f);
    assert!(out.report.uidvalidity_reset);
    assert!(s.sent.iter().all(|l| !l.contains("STORE")));
    assert_eq!(out.state.uidvalidity, Some(8));
    assert_eq!(
        out.state.messages.keys().copied().collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(out.journal.is_empty());
}

#[test]
fn qresync_only_after_enabled_qresync() {
    // The server does not confirm with ENABLED QRESYNC: no QRESYNC parameters; CONDSTORE.
    let state = replica(7, Some(40), &[(3, &[], 30)]);
    let mut s = Script::new(&[
        (
            "ENABLE QRESYNC",
            "* ENABLED\r\n{tag} OK nothing enabled\r\n",
        ),
        (
            "SELECT INBOX (CONDSTORE)",
            &select_ok(7, 4, 1, "* OK [HIGHESTMODSEQ 41] m\r\n"),
        ),
        (
            "UID FETCH 1:3 (UID FLAGS MODSEQ) (CHANGEDSINCE 40)",
            "* 1 FETCH (UID 3 FLAGS (\\Seen) MODSEQ (41))\r\n{tag} OK done\r\n",
        ),
        ("UID SEARCH UID 1:3", "* SEARCH 3\r\n{tag} OK done\r\n"),
    ]);
    let out = sync(QR, &mut s, state, Journal::new(), |c| c).unwrap();
    s.done();
    assert_eq!(out.report.mode, Some(SyncMode::Condstore));
    assert_eq!(out.report.flags_changed, 1);
}

#[test]
fn condstore_finds_expunges_by_esearch() {
    let state = replica(7, Some(40), &[(3, &[], 30), (4, &[], 30), (9, &[], 30)]);
    let mut s = Script::new(&[
        (
            "SELECT INBOX (CONDSTORE)",
            &select_ok(7, 10, 2, "* OK [HIGHESTMODSEQ 44] m\r\n"),
        ),
        (
            "UID FETCH 1:9 (UID FLAGS MODSEQ) (CHANGEDSINCE 40)",
            "{tag} OK done\r\n",
        ),
        (
            "UID SEARCH RETURN (ALL) UID 1:9",
            "* ESEARCH (TAG \"{tag}\") UID ALL 3,9\r\n{tag} OK done\r\n",
        ),
    ]);
    let out = sync("CONDSTORE ESEARCH", &mut s, state, Journal::new(), |c| c).unwrap();
    s.done();
    assert_eq!(out.report.mode, Some(SyncMode::Condstore));
    assert_eq!(out.changes.expunged, vec![4]);
    assert_eq!(out.state.highestmodseq, Some(44));
}

#[test]
fn qresync_select_line_stays_under_8192_octets() {
    // 5000 sparse UIDs do not fit: the known UIDs become `1:last`.
    let msgs: Vec<(u32, &[&str], u64)> = (1..=5000).map(|i| (i * 2, &[][..], 30)).collect();
    let state = replica(7, Some(40), &msgs);
    let mut s = Script::new(&[
        ("ENABLE QRESYNC", "* ENABLED QRESYNC\r\n{tag} OK done\r\n"),
        (
            "SELECT INBOX (QRESYNC (7 40 1:10000))",
            &select_ok(7, 10001, 5000, "* OK [HIGHESTMODSEQ 40] m\r\n"),
        ),
    ]);
    let out = sync(QR, &mut s, state, Journal::new(), |c| c).unwrap();
    s.done();
    assert!(s.sent.iter().all(|l| l.len() < 8192));
    assert_eq!(out.report.mode, Some(SyncMode::Qresync));
}
