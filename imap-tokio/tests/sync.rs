//! The sync engine driven over a real connection: a first full download, then only what
//! changed, then a local change uploaded.

mod common;

use common::{Mode, TestServer, ca_signed, connect_joe};
use imapwire_codec::mailbox::Mailbox;
use imapwire_session::sync::{FlagSet, Journal, LocalChange, ReplicaState, SyncConfig};

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
    assert!(data.flags.unwrap().contains(&"\\Seen".to_string()));
    conn.logout().await.unwrap();
    other.logout().await.unwrap();
}
