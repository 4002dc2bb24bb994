//! `record::FileTap`: the file holds exactly what the server sent (after TLS, decompressed:
//! here plaintext), and a recording that cannot be written stops once, is reported once and
//! never disturbs the connection.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::scripted::{Act, Scripted, scripted, send};
use imapwire_session::sasl::Secret;
use imapwire_tokio::record::FileTap;
use imapwire_tokio::{Config, Connection, Security, Timeouts};

const GREETING: &str = "* OK [CAPABILITY IMAP4rev1] ready\r\n";

/// A server whose answers (after the greeting) are appended to the returned buffer: a FETCH
/// with a literal, so the recording crosses a literal, and several untagged lines.
async fn server() -> (Scripted, Arc<Mutex<Vec<u8>>>) {
    let sent = Arc::new(Mutex::new(GREETING.as_bytes().to_vec()));
    let s2 = sent.clone();
    let server = scripted(GREETING, move |_, tag, cmd| {
        let word = cmd.split(' ').next().unwrap_or("");
        let text = match word {
            "LOGIN" => format!("{tag} OK [CAPABILITY IMAP4rev1 IDLE] in\r\n"),
            "SELECT" => format!(
                "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 2] n\r\n\
                 {tag} OK [READ-WRITE] selected\r\n"
            ),
            "UID" => {
                format!("* 1 FETCH (UID 1 BODY[] {{12}}\r\nHello\r\nWorld)\r\n{tag} OK fetched\r\n")
            }
            "LOGOUT" => format!("* BYE bye\r\n{tag} OK out\r\n"),
            _ => format!("* 1 EXISTS\r\n{tag} OK done\r\n"),
        };
        s2.lock().unwrap().extend_from_slice(text.as_bytes());
        let mut acts = vec![send(text)];
        if word == "LOGOUT" {
            acts.push(Act::Close);
        }
        acts
    })
    .await;
    (server, sent)
}

/// Logs in, selects, fetches, NOOPs and logs out with the tap `rec` recording.
async fn session(port: u16, rec: &FileTap) {
    let mut cfg = Config::new("127.0.0.1", port)
        .with_security(Security::InsecurePlaintext)
        .with_timeouts(Timeouts::all(Duration::from_secs(5)));
    cfg.session.received_tap = Some(rec.tap());
    let conn = Connection::connect(cfg).await.unwrap();
    conn.login("joe", Secret::new("pw".into())).await.unwrap();
    assert_eq!(conn.select("INBOX").await.unwrap().exists, 1);
    let mut fetch = conn.fetch("1", "(BODY[])", true).await.unwrap();
    let mut n = 0;
    while let Some(msg) = fetch.next().await.unwrap() {
        let data = msg.finish().await.unwrap();
        assert_eq!(data.uid, Some(1));
        n += 1;
    }
    assert_eq!(n, 1);
    drop(fetch);
    conn.noop().await.unwrap();
    conn.logout().await.unwrap();
}

#[tokio::test]
async fn the_file_holds_exactly_the_bytes_the_server_sent() {
    let dir = std::env::temp_dir().join(format!("imapwire-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("content.imap");
    let (server, sent) = server().await;
    let rec = FileTap::create(&path).unwrap();
    session(server.port, &rec).await;
    assert!(!rec.failed(), "{:?}", rec.failure());
    let recorded = std::fs::read(&path).unwrap();
    let sent = sent.lock().unwrap().clone();
    assert_eq!(
        String::from_utf8_lossy(&recorded),
        String::from_utf8_lossy(&sent)
    );
    assert_eq!(recorded, sent);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes to `/dev/full` fail with ENOSPC (on Linux, the one reliable way to make a write to
/// an open file fail: a file whose directory is removed stays writable, and the tests run as
/// root, for whom read-only files are writable).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_failed_write_stops_the_recording_reports_once_and_the_connection_goes_on() {
    let (server, _) = server().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    let rec = FileTap::create("/dev/full")
        .unwrap()
        .on_failure(move |p, e| {
            assert_eq!(p, std::path::Path::new("/dev/full"));
            assert_eq!(e.raw_os_error(), Some(28), "{e}");
            c2.fetch_add(1, Ordering::SeqCst);
        });
    // Every command after the failed first write (the greeting) still completes.
    session(server.port, &rec).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1, "reported exactly once");
    assert_eq!(rec.failure().and_then(|e| e.raw_os_error()), Some(28));
    assert!(rec.failed());
}

/// With `remove_on_failure`, the partial recording is removed (here a symbolic link to
/// `/dev/full`: the link goes, the device stays).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn remove_on_failure_removes_the_partial_file() {
    let dir = std::env::temp_dir().join(format!("imapwire-record-rm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("full.imap");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink("/dev/full", &link).unwrap();
    let (server, _) = server().await;
    let rec = FileTap::create(&link).unwrap().remove_on_failure(true);
    session(server.port, &rec).await;
    assert!(rec.failed());
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "the failed recording is removed"
    );
    assert!(std::path::Path::new("/dev/full").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Opening is the one failure `create` returns (a directory that does not exist).
#[test]
fn a_file_that_cannot_be_created_is_an_error_at_once() {
    let path = std::env::temp_dir()
        .join(format!("imapwire-record-missing-{}", std::process::id()))
        .join("x.imap");
    let err = FileTap::create(&path).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

#[cfg(unix)]
/// A file whose directory was removed after it was opened: on Linux the open file stays
/// writable (the data goes to the unlinked inode), so the recording neither fails nor
/// disturbs the connection; it reports no failure because there was none.
#[tokio::test]
async fn a_removed_directory_does_not_disturb_the_connection() {
    let dir = std::env::temp_dir().join(format!("imapwire-record-gone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rec = FileTap::create(dir.join("gone.imap")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let (server, _) = server().await;
    session(server.port, &rec).await;
    assert!(rec.failure().is_none());
}
