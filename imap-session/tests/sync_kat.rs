//! Known-answer tests of the synchronisation engine (imapwire_session::sync): one test per
//! rule of issue 12's list, each against a scripted server.

use std::time::Instant;

use imapwire_codec::mailbox::Mailbox;
use imapwire_session::client::{Client, ClientConfig, Event};
use imapwire_session::sync::{
    FlagSet, Journal, LocalChange, MessageState, ReplicaState, Resolution, ServerInfo, SyncConfig,
    SyncEngine, SyncFailure, SyncMode, SyncOutcome,
};

/// A scripted server: each client command line (matched by a substring) gets a canned
/// answer, `{tag}` replaced by the command's tag. Records every line the client sent.
struct Script {
    steps: Vec<(String, String)>,
    next: usize,
    buf: Vec<u8>,
    sent: Vec<String>,
    /// Close the connection when this step is reached (instead of answering it).
    close_at: Option<usize>,
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
            sent: Vec::new(),
            close_at: None,
        }
    }

    fn exchange(&mut self, out: &[u8]) -> Option<Vec<u8>> {
        self.buf.extend_from_slice(out);
        let mut reply = Vec::new();
        // One command per line (literals: the line ends with {n}; the script answers `+`).
        while let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
            let line: Vec<u8> = self.buf.drain(..pos + 2).collect();
            let line = String::from_utf8_lossy(&line[..line.len() - 2]).into_owned();
            if let Some(n) = literal_len(&line) {
                // Take the literal too (wait for it).
                if !line.ends_with("+}") {
                    reply.extend_from_slice(b"+ go\r\n");
                }
                if self.buf.len() < n {
                    // Put the line back and wait for the literal.
                    let mut back = line.clone().into_bytes();
                    back.extend_from_slice(b"\r\n");
                    back.extend_from_slice(&self.buf);
                    self.buf = back;
                    if line.ends_with("+}") {
                        return Some(reply);
                    }
                    // Mark as answered by rewriting the literal as non-synchronising.
                    let fixed = String::from_utf8_lossy(&self.buf).replacen(
                        &format!("{{{n}}}"),
                        &format!("{{{n}+}}"),
                        1,
                    );
                    self.buf = fixed.into_bytes();
                    return Some(reply);
                }
                let rest: Vec<u8> = self.buf.drain(..n).collect();
                let tail_end = self.buf.windows(2).position(|w| w == b"\r\n")?;
                let tail: Vec<u8> = self.buf.drain(..tail_end + 2).collect();
                let _ = (rest, tail);
            }
            let tag = line.split(' ').next().unwrap_or("").to_string();
            self.sent.push(line.clone());
            if self.close_at == Some(self.next) {
                return None;
            }
            let Some((want, answer)) = self.steps.get(self.next) else {
                panic!("unexpected command: {line}");
            };
            assert!(
                line.contains(want.as_str()),
                "step {}: expected a command containing {want:?}, got {line:?}",
                self.next
            );
            self.next += 1;
            reply.extend_from_slice(answer.replace("{tag}", &tag).as_bytes());
        }
        Some(reply)
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
