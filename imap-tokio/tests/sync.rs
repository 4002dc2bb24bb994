//! The sync engine driven over a real connection: a first full download, then only what
//! changed, then a local change uploaded.

mod common;

use std::time::Duration;

use common::scripted::{Act, Scripted, scripted, send};
use common::{Mode, TestServer, ca_signed, connect_joe};
use imapwire_codec::mailbox::Mailbox;
use imapwire_session::client::{CommandError, State, SubmitError};
use imapwire_session::sasl::Secret;
use imapwire_session::sync::{
    FlagSet, Journal, LocalChange, ReplicaState, SyncConfig, SyncError, SyncMode,
};
use imapwire_tokio::{Config, Connection, Security, Timeouts};

fn cfg() -> SyncConfig {
    SyncConfig::new(Mailbox::Inbox)
}

#[tokio::test]
async fn sync_downloads_everything_then_only_changes_and_uploads_local_marks() {
    let cert = ca_signed(&["127.0.0.1"]);
    let server = TestServer::start(Mode::Implicit, cert.clone()).await;
    let conn = connect_joe(&server, &cert).await;

    let first = conn
        .sync(cfg(), ReplicaState::default(), Journal::new(), |_| Ok(()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.report.downloaded, 3);
    assert_eq!(first.changes.new_messages.len(), 3);
    assert!(first.changes.new_messages.iter().all(|m| m.body.is_some()));
    assert_eq!(first.state.last_uid, 3);

    // Another client adds a message.
    let other = connect_joe(&server, &cert).await;
    let msg = b"Subject: later\r\n\r\nlater\r\n";
    other
        .append("INBOX", &[], msg.len() as u64, &msg[..])
        .await
        .unwrap();

    let second = conn
        .sync(cfg(), first.state.clone(), Journal::new(), |_| Ok(()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.report.downloaded, 1);
    assert_eq!(second.changes.new_messages[0].uid, 4);
    assert_eq!(second.report.uploaded, 0);

    // A local mark is uploaded.
    let mut journal = Journal::new();
    journal.record(LocalChange::Flags {
        uid: 1,
        add: FlagSet::from_names(["\\Seen"]),
        remove: FlagSet::new(),
    });
    let third = conn
        .sync(cfg(), second.state.clone(), journal, |_| Ok(()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.report.uploaded, 1);
    assert_eq!(third.report.downloaded, 0);
    assert!(third.journal.is_empty());
    assert!(third.state.messages[&1].flags.contains("\\Seen"));
    // The other client sees it on the server.
    other.select("INBOX").await.unwrap();
    let mut f = other.fetch("1", "(UID FLAGS)", true).await.unwrap();
    let m = f.next().await.unwrap().unwrap();
    let data = m.finish().await.unwrap();
    assert!(
        data.flags()
            .unwrap()
            .to_strings()
            .contains(&"\\Seen".to_string())
    );
    conn.logout().await.unwrap();
    other.logout().await.unwrap();
}

/// A QRESYNC server whose capabilities are `caps`, holding an empty INBOX: ENABLE answers
/// `* ENABLED QRESYNC`, SELECT the mailbox's state, everything else `OK`.
async fn qresync_server(caps: &'static str) -> Scripted {
    qresync_server_unselect(caps, "OK done").await
}

/// [`qresync_server`] answering UNSELECT with `unselect` (after the tag).
async fn qresync_server_unselect(caps: &'static str, unselect: &'static str) -> Scripted {
    let greeting: &'static str = format!("* OK [CAPABILITY {caps}] scripted\r\n").leak();
    scripted(greeting, move |_, tag, cmd| {
        let word = cmd.split(' ').next().unwrap_or("");
        let reply = match word {
            "LOGIN" => format!("{tag} OK [CAPABILITY {caps}] logged in\r\n"),
            "ENABLE" => format!("* ENABLED QRESYNC\r\n{tag} OK enabled\r\n"),
            "SELECT" | "EXAMINE" => format!(
                "* 0 EXISTS\r\n* FLAGS (\\Seen \\Deleted)\r\n* OK [UIDVALIDITY 7] v\r\n\
                 * OK [UIDNEXT 1] n\r\n* OK [HIGHESTMODSEQ 5] m\r\n{tag} OK [READ-WRITE] done\r\n"
            ),
            "UNSELECT" => format!("{tag} {unselect}\r\n"),
            "LOGOUT" => return vec![send(format!("* BYE bye\r\n{tag} OK done\r\n")), Act::Close],
            _ => format!("{tag} OK done\r\n"),
        };
        vec![send(reply)]
    })
    .await
}

/// Logged in to `server` over plaintext, INBOX selected.
async fn selected_inbox(server: &Scripted) -> Connection {
    let cfg = Config::new("127.0.0.1", server.port)
        .with_security(Security::InsecurePlaintext)
        .with_timeouts(Timeouts::all(Duration::from_secs(5)));
    let conn = Connection::connect(cfg).await.unwrap();
    conn.login("joe", Secret::new("pw".into())).await.unwrap();
    assert_eq!(conn.select("INBOX").await.unwrap().uidvalidity, Some(7));
    conn
}

/// What the client sent after its SELECT of INBOX, without tags.
fn after_select(server: &Scripted) -> Vec<String> {
    let lines = server.lines_of(0);
    let at = lines
        .iter()
        .position(|l| l.ends_with("SELECT INBOX"))
        .expect("the SELECT");
    lines[at + 1..]
        .iter()
        .map(|l| l.split_once(' ').map_or(l.as_str(), |(_, r)| r).to_owned())
        .collect()
}

/// ENABLE is valid only in the authenticated state (RFC 5161): a sync on a connection with a
/// mailbox selected leaves it with UNSELECT (which expunges nothing), enables QRESYNC and
/// selects its mailbox with QRESYNC.
#[tokio::test]
async fn sync_with_a_mailbox_selected_unselects_then_enables_qresync() {
    let server = qresync_server("IMAP4rev1 ENABLE CONDSTORE QRESYNC UNSELECT UIDPLUS").await;
    let conn = selected_inbox(&server).await;
    let state = ReplicaState {
        uidvalidity: Some(7),
        highestmodseq: Some(5),
        ..ReplicaState::default()
    };
    let outcome = conn
        .sync(cfg(), state, Journal::new(), |_| Ok(()))
        .await
        .unwrap()
        .unwrap_or_else(|f| panic!("{}", f.error));
    assert_eq!(outcome.report.mode, Some(SyncMode::Qresync));
    let sent = after_select(&server);
    assert_eq!(sent[..2], ["UNSELECT", "ENABLE QRESYNC"], "{sent:?}");
    assert!(
        sent[2].starts_with("SELECT INBOX (QRESYNC (7 5"),
        "{sent:?}"
    );
    assert!(!sent.iter().any(|c| c == "CLOSE"), "{sent:?}");
    conn.logout().await.unwrap();
}

/// A sync on `conn` that must fail (`why`), from a replica at the scripted mailbox's
/// UIDVALIDITY and HIGHESTMODSEQ with one local delete: checks that both inputs come back
/// unchanged and returns the error.
async fn refused_sync(conn: &Connection, why: &str) -> SyncError {
    let state = ReplicaState {
        uidvalidity: Some(7),
        highestmodseq: Some(5),
        last_uid: 0,
        ..ReplicaState::default()
    };
    let mut journal = Journal::new();
    journal.record(LocalChange::Delete { uid: 3 });
    let failure = conn
        .sync(cfg(), state.clone(), journal.clone(), |_| Ok(()))
        .await
        .unwrap()
        .expect_err(why);
    assert_eq!(failure.state, state);
    assert_eq!(failure.journal, journal);
    failure.error
}

/// Without UNSELECT the sync refuses to start (nothing sent) with a typed error rather than
/// run without QRESYNC, and hands its inputs back; the connection stays usable.
#[tokio::test]
async fn sync_with_a_mailbox_selected_and_no_unselect_fails_typed() {
    let server = qresync_server("IMAP4rev1 ENABLE CONDSTORE QRESYNC UIDPLUS").await;
    let conn = selected_inbox(&server).await;
    let error = refused_sync(&conn, "no UNSELECT: the sync cannot enable QRESYNC").await;
    assert_eq!(
        error,
        SyncError::Refused(SubmitError::InvalidState {
            command: "ENABLE".into(),
            state: State::Selected,
        })
    );
    conn.noop().await.unwrap();
    assert_eq!(after_select(&server), ["NOOP"]);
    conn.logout().await.unwrap();
}

/// A refused UNSELECT stops the sync with a typed error naming it: the ENABLE that waited for
/// it is never sent (it would be refused in the selected state, and the sync would go on in
/// CONDSTORE mode), nothing else is sent, the inputs come back and the connection stays
/// usable.
#[tokio::test]
async fn a_refused_unselect_stops_the_sync_before_enable() {
    let server = qresync_server_unselect(
        "IMAP4rev1 ENABLE CONDSTORE QRESYNC UNSELECT UIDPLUS",
        "NO [SERVERBUG] cannot leave the mailbox",
    )
    .await;
    let conn = selected_inbox(&server).await;
    match &refused_sync(&conn, "the UNSELECT was refused").await {
        SyncError::Command { command, error } => {
            assert_eq!(*command, "UNSELECT");
            assert!(matches!(error, CommandError::No { .. }), "{error:?}");
            assert!(error.to_string().contains("cannot leave"), "{error}");
        }
        other => panic!("expected the UNSELECT's failure, got {other:?}"),
    }
    conn.noop().await.unwrap();
    assert_eq!(after_select(&server), ["UNSELECT", "NOOP"]);
    conn.logout().await.unwrap();
}
