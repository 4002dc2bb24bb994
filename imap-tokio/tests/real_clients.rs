//! Real mail clients against the example server (`imapwire_tokio::server::start`, the core of
//! `examples/server.rs`) on 127.0.0.1: Python's imaplib, curl, mbsync and fetchmail. Each compares what
//! it got with what the Maildir store holds (read back from disk after the server stopped).
//! The programs come from IMAPWIRE_PYTHON, IMAPWIRE_CURL, IMAPWIRE_MBSYNC and IMAPWIRE_FETCHMAIL
//! (`.ci/real-clients.sh`).

mod support;

use std::process::Command;

use support::*;

const PY_SESSION: &str = r#"
import imaplib, sys, time
port = int(sys.argv[1]); user = sys.argv[2]; pw = sys.argv[3]
out = []
m = imaplib.IMAP4('127.0.0.1', port)
caps = m.capabilities
for c in ('IMAP4REV2', 'IMAP4REV1', 'IDLE', 'UIDPLUS', 'MOVE', 'SPECIAL-USE', 'AUTH=PLAIN'):
    assert c in caps, (c, caps)
typ, _ = m.login(user, pw); assert typ == 'OK'
typ, data = m.capability(); assert typ == 'OK' and b'IMAP4rev2' in data[0], data
typ, data = m.list(); assert typ == 'OK'
names = sorted(l.decode().rsplit(' ', 1)[1].strip('"') for l in data)
out.append('LIST ' + ' '.join(names))
assert any(b'\\Sent' in l and l.endswith(b'Sent') for l in data), data
bodies = [b'From: a@example.com\r\nSubject: first\r\n\r\nfirst body\r\n',
          b'From: b@example.com\r\nSubject: second\r\n\r\nsecond body\r\n',
          b'From: c@example.com\r\nSubject: third\r\n\r\nthird body\r\n']
for b in bodies:
    typ, data = m.append('INBOX', '(\\Flagged)' if b is bodies[1] else None, None, b)
    assert typ == 'OK' and b'APPENDUID' in data[0], data
typ, data = m.select('INBOX'); assert typ == 'OK' and data == [b'3'], data
typ, data = m.fetch('1:3', '(UID FLAGS RFC822.SIZE BODY.PEEK[])')
assert typ == 'OK'
got = [d[1] for d in data if isinstance(d, tuple)]
assert got == bodies, got
typ, data = m.fetch('2', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
assert data[0][1] == b'Subject: second\r\n\r\n', data
typ, data = m.store('1', '+FLAGS', '(\\Seen $Label1)'); assert typ == 'OK', data
assert b'\\Seen' in data[0] and b'$Label1' in data[0], data
typ, data = m.search(None, 'FLAGGED'); assert data == [b'2'], data
typ, data = m.search(None, 'SUBJECT', 'third'); assert data == [b'3'], data
typ, data = m.search(None, 'UNSEEN'); assert data == [b'2 3'], data
typ, data = m.copy('2:3', 'Archive'); assert typ == 'OK' and b'COPYUID' in data[0], data
typ, data = m.store('3', '+FLAGS', '(\\Deleted)'); assert typ == 'OK'
typ, data = m.expunge(); assert typ == 'OK' and data == [b'3'], data
typ, data = m.uid('SEARCH', 'ALL'); out.append('UIDS ' + data[0].decode())

# IDLE with raw commands; another connection appends meanwhile.
tag = m._new_tag().decode()
m.send(('%s IDLE\r\n' % tag).encode())
line = m.readline(); assert line.startswith(b'+'), line
other = imaplib.IMAP4('127.0.0.1', port); other.login(user, pw)
typ, _ = other.append('INBOX', None, None, b'Subject: during idle\r\n\r\nwhile idling\r\n')
assert typ == 'OK'
other.logout()
line = m.readline(); assert line == b'* 3 EXISTS\r\n', line
m.send(b'DONE\r\n')
line = m.readline(); assert line.startswith(tag.encode() + b' OK'), line
out.append('IDLE ok')
# APPEND into the selected mailbox: its EXISTS comes before the tagged OK (RFC 9051
# 6.3.12), so imaplib has it when append() returns; a UID SEARCH right after sees it.
typ, data = m.append('INBOX', None, None, b'Subject: into selected\r\n\r\nappended while selected\r\n')
assert typ == 'OK', data
assert m.untagged_responses.get('EXISTS', [None])[-1] == b'4', m.untagged_responses
typ, data = m.uid('SEARCH', 'ALL'); out.append('UIDS2 ' + data[0].decode())
typ, data = m.logout(); assert typ == 'BYE', (typ, data)
print('\n'.join(out))
"#;

/// Runs `script` with `python -c`, given the plaintext port, USER and PASSWORD as arguments.
fn run_imaplib(python: &std::path::Path, script: &str, port: u16) -> String {
    run(Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(port.to_string())
        .arg(USER)
        .arg(PASSWORD))
}

#[test]
fn python_imaplib() {
    let Some(python) = program("IMAPWIRE_PYTHON") else {
        return;
    };
    let scratch = Scratch::new("imaplib");
    let mut srv = TestServer::start(&scratch.0);
    let out = run_imaplib(&python, PY_SESSION, srv.plain.port());
    srv.stop();
    // What the client saw matches the store on disk.
    let store = srv.user_store();
    let boxes = mailboxes(&store);
    let mut sorted = boxes.clone();
    sorted.sort();
    assert!(
        out.contains(&format!("LIST {}", sorted.join(" "))),
        "{out} vs {sorted:?}"
    );
    let inbox = stored(&store, "INBOX");
    let uids: Vec<String> = inbox[..2].iter().map(|m| m.0.to_string()).collect();
    assert!(
        out.contains(&format!("UIDS {}", uids.join(" "))),
        "{out} vs {inbox:?}"
    );
    assert!(out.contains("IDLE ok"));
    assert_eq!(inbox.len(), 4, "{inbox:?}");
    let uids: Vec<String> = inbox.iter().map(|m| m.0.to_string()).collect();
    assert!(
        out.contains(&format!("UIDS2 {}", uids.join(" "))),
        "{out} vs {inbox:?}"
    );
    assert_eq!(
        &inbox[3].2[..],
        b"Subject: into selected\r\n\r\nappended while selected\r\n"
    );
    assert_eq!(
        &inbox[0].2[..],
        b"From: a@example.com\r\nSubject: first\r\n\r\nfirst body\r\n"
    );
    assert!(
        inbox[0].1.contains(&"\\Seen".to_owned()) && inbox[0].1.contains(&"$Label1".to_owned())
    );
    assert_eq!(inbox[1].1, vec!["\\Flagged".to_owned()]);
    assert_eq!(inbox[2].0, 4, "the expunged UID 3 is not reused");
    assert_eq!(
        &inbox[2].2[..],
        b"Subject: during idle\r\n\r\nwhile idling\r\n"
    );
    let archive = stored(&store, "Archive");
    assert_eq!(archive.len(), 2);
    assert_eq!(
        &archive[1].2[..],
        b"From: c@example.com\r\nSubject: third\r\n\r\nthird body\r\n"
    );
}

#[test]
fn curl_plain_and_tls() {
    let Some(curl) = program("IMAPWIRE_CURL") else {
        return;
    };
    let scratch = Scratch::new("curl");
    let mut srv = TestServer::start(&scratch.0);
    let userpass = format!("{USER}:{PASSWORD}");
    let msg = message(1, "curl upload");
    let file = scratch.0.join("upload.eml");
    std::fs::write(&file, &msg).unwrap();
    for (scheme, port) in [("imap", srv.plain.port()), ("imaps", srv.tls.port())] {
        let base = format!("{scheme}://127.0.0.1:{port}");
        let curl = || {
            let mut c = Command::new(&curl);
            c.args(["-sS", "--max-time", "20", "--cacert"])
                .arg(&srv.ca)
                .args(["-u", &userpass]);
            c
        };
        // APPEND (upload), LIST, EXAMINE, FETCH by UID.
        run(curl().arg("-T").arg(&file).arg(format!("{base}/Drafts")));
        let list = run(curl().arg(format!("{base}/")));
        for name in ["INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"] {
            assert!(
                list.lines()
                    .any(|l| l.starts_with("* LIST") && l.ends_with(name)),
                "{scheme}: {name} missing in\n{list}"
            );
        }
        let examine = run(curl()
            .args(["-X", "EXAMINE Drafts"])
            .arg(format!("{base}/")));
        assert!(examine.contains(" EXISTS"), "{examine}");
        let fetched = run(curl().arg(format!("{base}/Drafts;UID=1")));
        assert_eq!(fetched.as_bytes(), msg.as_bytes(), "{scheme}");
    }
    // imaps: the certificate is checked against the test CA (a wrong CA fails).
    let other = scratch.0.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let (wrong_ca, _, _) = test_ca(&other);
    let bad = Command::new(&curl)
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(&wrong_ca)
        .args(["-u", &userpass])
        .arg(format!("imaps://127.0.0.1:{}/", srv.tls.port()))
        .output()
        .unwrap();
    assert!(
        !bad.status.success(),
        "curl accepted a certificate from another CA"
    );
    srv.stop();
    let drafts = stored(&srv.user_store(), "Drafts");
    assert_eq!(drafts.len(), 2);
    for (_, _, d) in &drafts {
        assert_eq!(&d[..], msg.as_bytes());
    }
}

/// Local Maildir messages of a folder: (flags letters, content).
fn local_messages(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for sub in ["cur", "new"] {
        let Ok(rd) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in rd {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            let flags = name.split_once(":2,").map_or("", |(_, f)| f).to_owned();
            v.push((flags, std::fs::read(e.path()).unwrap()));
        }
    }
    v.sort_by(|a, b| a.1.cmp(&b.1));
    v
}

/// A message as mbsync may store it: without the `X-TUID` header it adds to messages it
/// propagates, and with LF line ends (its Maildir copies use LF).
fn without_tuid(d: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(d).replace("\r\n", "\n");
    s.split_inclusive('\n')
        .filter(|l| !l.starts_with("X-TUID:"))
        .collect::<String>()
        .into_bytes()
}

fn norm(s: &str) -> Vec<u8> {
    without_tuid(s.as_bytes())
}

#[test]
fn mbsync_two_way() {
    let Some(mbsync) = program("IMAPWIRE_MBSYNC") else {
        return;
    };
    use imapwire_codec::mailbox::Mailbox;
    use imapwire_session::server::Request;
    use imapwire_session::server::maildir::MaildirStore;
    let scratch = Scratch::new("mbsync");
    // Seed the server's store: INBOX, Sent and a new folder Work/Projects.
    let user_store = scratch.0.join("store").join(USER);
    {
        let mut st = MaildirStore::open(&user_store).unwrap();
        let sid = st.open_session();
        let _ = st.create_special(
            &Mailbox::new(bytes::Bytes::from_static(b"Work")).unwrap(),
            None,
        );
        let _ = st.create_special(
            &Mailbox::new(bytes::Bytes::from_static(b"Work/Projects")).unwrap(),
            None,
        );
        let _ = st.create_special(
            &Mailbox::new(bytes::Bytes::from_static(b"Sent")).unwrap(),
            Some(imapwire_codec::flag::MailboxAttribute::Sent),
        );
        for (i, mb) in ["INBOX", "INBOX", "Sent", "Work/Projects"]
            .iter()
            .enumerate()
        {
            let m = Mailbox::new(bytes::Bytes::copy_from_slice(mb.as_bytes())).unwrap();
            let r = st.append_messages(
                &m,
                vec![(message(i, mb).into(), vec![], 1_700_000_000 + i as i64)],
            );
            assert_eq!(r.status, imapwire_codec::response::Status::Ok);
        }
        let _ = sid;
        let _ = Request::Close;
    }
    let mut srv = TestServer::start(&scratch.0);
    let local = scratch.0.join("local");
    // A message that exists only locally, in a folder the server does not have yet.
    let local_only = local.join("Notes");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(local_only.join(sub)).unwrap();
    }
    std::fs::write(
        local_only.join("new").join("1.local:2,S"),
        message(10, "local note"),
    )
    .unwrap();
    let ca = srv.ca.clone();
    let write_config = |port: u16| {
        let cfg = format!(
            "IMAPAccount test\nHost localhost\nPort {port}\nUser {USER}\nPass \"{PASSWORD}\"\n\
SSLType IMAPS\nCertificateFile {ca}\n\n\
IMAPStore remote\nAccount test\n\n\
MaildirStore local\nPath {local}/\nInbox {local}/INBOX\nSubFolders Verbatim\n\n\
Channel sync\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nExpunge Both\nSyncState *\n",
            ca = ca.display(),
            local = local.display(),
        );
        let p = scratch.0.join("mbsyncrc");
        std::fs::write(&p, cfg).unwrap();
        p
    };
    let sync = |cfg: &std::path::Path| {
        run(Command::new(&mbsync).arg("-c").arg(cfg).arg("-a"));
    };
    let cfg = write_config(srv.tls.port());
    sync(&cfg);
    srv.stop();
    // First sync: every server message is local, the local one is on the server.
    for mb in ["INBOX", "Sent", "Work/Projects"] {
        let server: Vec<Vec<u8>> = stored(&user_store, mb)
            .iter()
            .map(|m| without_tuid(&m.2))
            .collect();
        let mut here: Vec<Vec<u8>> = local_messages(&local.join(mb))
            .into_iter()
            .map(|m| without_tuid(&m.1))
            .collect();
        here.sort();
        let mut server_sorted = server.clone();
        server_sorted.sort();
        assert_eq!(here, server_sorted, "{mb}");
    }
    let notes = stored(&user_store, "Notes");
    assert_eq!(notes.len(), 1, "the local folder was created on the server");
    assert_eq!(without_tuid(&notes[0].2), norm(&message(10, "local note")));
    assert!(
        notes[0].1.contains(&"\\Seen".to_owned()),
        "{:?}",
        notes[0].1
    );

    // Changes on both sides. Server (store edited while stopped, then restarted): a new message
    // in INBOX, \Flagged on the Sent message, the Work/Projects message deleted.
    {
        let mut st = MaildirStore::open(&user_store).unwrap();
        let sid = st.open_session();
        let inbox = Mailbox::Inbox;
        let r = st.append_messages(
            &inbox,
            vec![(message(20, "new on server").into(), vec![], 1_700_000_100)],
        );
        assert_eq!(r.status, imapwire_codec::response::Status::Ok);
        let sel = |st: &mut MaildirStore, name: &'static [u8]| {
            let r = st.handle(
                sid,
                Request::Select {
                    mailbox: Mailbox::new(bytes::Bytes::from_static(name)).unwrap(),
                    read_only: false,
                    params: vec![],
                },
            );
            assert_eq!(r.status, imapwire_codec::response::Status::Ok);
        };
        use imapwire_codec::command::{StoreData, StoreType};
        use imapwire_codec::flag::Flag;
        let store = |st: &mut MaildirStore, uid: u32, f: Flag| {
            let r = st.handle(
                sid,
                Request::Store {
                    uids: vec![uid],
                    kind: StoreType::Add,
                    silent: true,
                    data: StoreData::Flags(vec![f].into()),
                    modifiers: vec![],
                },
            );
            assert_eq!(r.status, imapwire_codec::response::Status::Ok);
        };
        sel(&mut st, b"Sent");
        let sent_uid = st.memory().messages(b"Sent")[0].0;
        store(&mut st, sent_uid, Flag::Flagged);
        sel(&mut st, b"Work/Projects");
        let wp = st.memory().messages(b"Work/Projects")[0].0;
        store(&mut st, wp, Flag::Deleted);
        let r = st.handle(sid, Request::Expunge { uids: None });
        assert_eq!(r.data.len(), 1);
    }
    // Local: a new message in Sent, the first INBOX message marked seen.
    std::fs::write(
        local.join("Sent").join("new").join("2.local"),
        message(30, "sent locally"),
    )
    .unwrap();
    // (mbsync leaves new messages in new/; reading one moves it to cur/ with its flags.)
    let inbox_dir = local.join("INBOX");
    let (sub, first) = ["cur", "new"]
        .iter()
        .flat_map(|sub| {
            std::fs::read_dir(inbox_dir.join(sub))
                .unwrap()
                .map(move |e| (*sub, e.unwrap().file_name().into_string().unwrap()))
        })
        .find(|(sub, n)| {
            without_tuid(&std::fs::read(inbox_dir.join(sub).join(n)).unwrap())
                == norm(&message(0, "INBOX"))
        })
        .expect("the first INBOX message is local");
    let (base, info) = first.split_once(":2,").unwrap_or((&first, ""));
    let mut letters: Vec<char> = info.chars().chain(['S']).collect();
    letters.sort_unstable();
    letters.dedup();
    std::fs::rename(
        inbox_dir.join(sub).join(&first),
        inbox_dir.join("cur").join(format!(
            "{base}:2,{}",
            letters.into_iter().collect::<String>()
        )),
    )
    .unwrap();

    srv.restart();
    let cfg = write_config(srv.tls.port());
    sync(&cfg);
    srv.stop();

    let inbox = stored(&user_store, "INBOX");
    assert_eq!(inbox.len(), 3);
    let first = inbox
        .iter()
        .find(|m| without_tuid(&m.2) == norm(&message(0, "INBOX")))
        .unwrap();
    assert!(
        first.1.contains(&"\\Seen".to_owned()),
        "local \\Seen reached the server: {first:?}"
    );
    let here = local_messages(&local.join("INBOX"));
    assert!(
        here.iter()
            .any(|m| without_tuid(&m.1) == norm(&message(20, "new on server")))
    );
    let sent = stored(&user_store, "Sent");
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter()
            .any(|m| without_tuid(&m.2) == norm(&message(30, "sent locally")))
    );
    let sent_local = local_messages(&local.join("Sent"));
    let flagged = sent_local
        .iter()
        .find(|m| without_tuid(&m.1) == norm(&message(2, "Sent")))
        .unwrap();
    assert!(
        flagged.0.contains('F'),
        "server \\Flagged reached the local copy: {flagged:?}"
    );
    assert!(stored(&user_store, "Work/Projects").is_empty());
    assert!(
        local_messages(&local.join("Work/Projects")).is_empty(),
        "the server's expunge reached the local folder"
    );
}

/// A current-thread runtime for the crate's (async) client in these synchronous tests.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The crate's client on the plaintext port, every timeout 20 s, logged in with LOGIN.
async fn crate_client(port: u16) -> imapwire_tokio::Connection {
    use imapwire_tokio::{Config, Connection, Security, Timeouts};
    let cfg = Config::new("127.0.0.1", port)
        .with_security(Security::InsecurePlaintext)
        .with_timeouts(Timeouts::all(std::time::Duration::from_secs(20)));
    let c = Connection::connect(cfg).await.unwrap();
    c.login(USER, imapwire_session::sasl::Secret::new(PASSWORD.into()))
        .await
        .unwrap();
    c
}

/// APPENDs `msgs` to `mailbox` with the crate's client (LOGIN on the plaintext port).
fn append_all(port: u16, mailbox: &str, msgs: &[String]) {
    runtime().block_on(async {
        let c = crate_client(port).await;
        for m in msgs {
            c.append(
                mailbox,
                &[],
                m.len() as u64,
                std::io::Cursor::new(m.clone()),
            )
            .await
            .unwrap();
        }
        c.logout().await.unwrap();
    });
}

/// fetchmail (Debian's package) downloads the INBOX to an MDA and deletes what it fetched:
/// the MDA got every message, the store's INBOX is empty afterwards, other mailboxes kept.
#[test]
fn fetchmail_download_and_delete() {
    let Some(fetchmail) = program("IMAPWIRE_FETCHMAIL") else {
        return;
    };
    let scratch = Scratch::new("fetchmail");
    let mut srv = TestServer::start(&scratch.0);
    let msgs: Vec<String> = (1..=3).map(|n| message(n, "for fetchmail")).collect();
    append_all(srv.plain.port(), "INBOX", &msgs);
    append_all(srv.plain.port(), "Archive", &msgs[..1]);
    let out = scratch.0.join("delivered");
    let rc = scratch.0.join("fetchmailrc");
    std::fs::write(
        &rc,
        format!(
            "set no bouncemail\n\
             poll 127.0.0.1 proto IMAP port {} timeout 20\n\
             \tuser \"{USER}\" password \"{PASSWORD}\"\n\
             \tsslproto '' fetchall\n\
             \tmda \"/bin/sh -c 'cat >> {}; echo ==END== >> {}'\"\n",
            srv.plain.port(),
            out.display(),
            out.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    run(Command::new(fetchmail)
        .args(["--nosyslog", "-v", "-f"])
        .arg(&rc)
        .env("HOME", &scratch.0)
        .env("FETCHMAILHOME", &scratch.0));
    srv.stop();
    let got = std::fs::read_to_string(&out).unwrap();
    let delivered: Vec<&str> = got.split("==END==\n").filter(|m| !m.is_empty()).collect();
    assert_eq!(delivered.len(), 3, "{got}");
    for (m, d) in msgs.iter().zip(&delivered) {
        // fetchmail hands the MDA LF line ends and may add a Received: header on top.
        let m = m.replace("\r\n", "\n");
        assert!(d.ends_with(&m), "{d:?} does not end with {m:?}");
    }
    let store = srv.user_store();
    assert!(
        stored(&store, "INBOX").is_empty(),
        "fetched messages deleted"
    );
    assert_eq!(stored(&store, "Archive").len(), 1);
}

/// Sends `cmd` (tagged `tag`) and returns the lines up to and including the tagged one.
fn exchange(
    w: &mut std::net::TcpStream,
    r: &mut std::io::BufReader<std::net::TcpStream>,
    tag: &str,
    cmd: &[u8],
) -> Vec<String> {
    use std::io::{BufRead, Write};
    w.write_all(cmd).unwrap();
    let mut lines = Vec::new();
    loop {
        let mut l = String::new();
        assert!(r.read_line(&mut l).unwrap() > 0, "closed after {lines:?}");
        let done = l.starts_with(&format!("{tag} "));
        lines.push(l);
        if done {
            return lines;
        }
    }
}

/// RFC 9051 §6.3.12 through the example server's driver (`start`, Maildir store): APPEND,
/// COPY and MOVE into the selected mailbox send `* n EXISTS` before the tagged OK (checked
/// in the bytes as they arrive), and a UID SEARCH right after sees the new messages; the
/// crate's client sees the appended UID in a UID SEARCH right after its APPEND.
#[test]
fn append_copy_move_into_selected_exists_before_ok() {
    use std::io::BufRead;
    let scratch = Scratch::new("exists-first");
    let mut srv = TestServer::start(&scratch.0);
    let sock = std::net::TcpStream::connect(srv.plain).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut w = sock.try_clone().unwrap();
    let mut r = std::io::BufReader::new(sock);
    let mut greeting = String::new();
    r.read_line(&mut greeting).unwrap();
    assert!(greeting.starts_with("* OK"), "{greeting}");
    let login = format!("a LOGIN {USER} \"{PASSWORD}\"\r\n");
    let l = exchange(&mut w, &mut r, "a", login.as_bytes());
    assert!(l.last().unwrap().starts_with("a OK"), "{l:?}");
    let l = exchange(&mut w, &mut r, "b", b"b SELECT INBOX\r\n");
    assert!(l.contains(&"* 0 EXISTS\r\n".to_owned()), "{l:?}");
    let msg = "Subject: one\r\n\r\nfirst\r\n";
    let cmd = format!("c APPEND INBOX {{{}+}}\r\n{msg}\r\n", msg.len());
    let l = exchange(&mut w, &mut r, "c", cmd.as_bytes());
    assert_eq!(l.len(), 2, "{l:?}");
    assert_eq!(l[0], "* 1 EXISTS\r\n", "{l:?}");
    assert!(l[1].starts_with("c OK [APPENDUID "), "{l:?}");
    let l = exchange(&mut w, &mut r, "d", b"d UID SEARCH ALL\r\n");
    assert_eq!(l, ["* SEARCH 1\r\n", "d OK done\r\n"], "{l:?}");
    let l = exchange(&mut w, &mut r, "e", b"e COPY 1 INBOX\r\n");
    assert_eq!(l[0], "* 2 EXISTS\r\n", "{l:?}");
    assert!(l[1].starts_with("e OK [COPYUID "), "{l:?}");
    let l = exchange(&mut w, &mut r, "f", b"f UID MOVE 1 INBOX\r\n");
    assert_eq!(l.len(), 4, "{l:?}");
    assert!(l[0].starts_with("* OK [COPYUID "), "{l:?}");
    assert_eq!(
        l[1..],
        ["* 1 EXPUNGE\r\n", "* 2 EXISTS\r\n", "f OK done\r\n"],
        "{l:?}"
    );
    let l = exchange(&mut w, &mut r, "g", b"g UID SEARCH ALL\r\ng2 NOOP\r\n");
    assert_eq!(l, ["* SEARCH 2 3\r\n", "g OK done\r\n"], "{l:?}");
    // The store's notifications of these messages, if any reach this session, add nothing.
    let l = exchange(&mut w, &mut r, "g2", b"");
    assert_eq!(l, ["g2 OK done\r\n"], "{l:?}");

    // The crate's client.
    let port = srv.plain.port();
    runtime().block_on(async {
        let c = crate_client(port).await;
        let info = c.select("INBOX").await.unwrap();
        assert_eq!(info.exists, 2);
        let m = "Subject: two\r\n\r\nsecond\r\n";
        let uid = c
            .append("INBOX", &[], m.len() as u64, std::io::Cursor::new(m))
            .await
            .unwrap();
        assert_eq!(uid, Some(4));
        let found = c.search("ALL", true).await.unwrap();
        assert_eq!(found.ids, [2, 3, 4]);
        c.logout().await.unwrap();
    });
    let l = exchange(&mut w, &mut r, "h", b"h LOGOUT\r\n");
    assert_eq!(l.last().unwrap(), "h OK done\r\n", "{l:?}");
    srv.stop();
}

/// A message larger than the store's streaming threshold (64 KiB): APPEND, then FETCH of
/// `BODY.PEEK[]`, a partial `BODY.PEEK[]<o.n>` and `RFC822` (streamed from the file in
/// pieces) by Python's imaplib, each compared with what was sent; the file in the store
/// holds the same bytes.
const PY_BIG: &str = r#"
import imaplib, sys
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
big = b'Subject: big\r\n\r\n' + b''.join(b'line %08d of a large message\r\n' % i for i in range(40000))
m = imaplib.IMAP4('127.0.0.1', port)
m.login(user, pw)
typ, data = m.append('INBOX', None, None, big); assert typ == 'OK', data
typ, data = m.select('INBOX'); assert typ == 'OK', data
n = data[0].decode()
typ, data = m.fetch(n, '(BODY.PEEK[])'); assert typ == 'OK', data
assert data[0][1] == big, (len(data[0][1]), len(big))
typ, data = m.fetch(n, '(BODY.PEEK[]<100000.300000>)'); assert typ == 'OK', data
assert data[0][0].endswith(b'BODY[]<100000> {300000}'), data[0][0]
assert data[0][1] == big[100000:400000]
typ, data = m.fetch(n, '(RFC822.SIZE RFC822)'); assert typ == 'OK', data
assert data[0][1] == big
assert b'RFC822.SIZE %d' % len(big) in data[0][0], data[0][0]
typ, data = m.noop(); assert typ == 'OK', data
m.logout()
print('BIG ok %d' % len(big))
"#;

#[test]
fn python_imaplib_large_message_streamed() {
    let Some(python) = program("IMAPWIRE_PYTHON") else {
        return;
    };
    let scratch = Scratch::new("imaplib-big");
    let mut srv = TestServer::start(&scratch.0);
    let out = run_imaplib(&python, PY_BIG, srv.plain.port());
    srv.stop();
    let mut big = b"Subject: big\r\n\r\n".to_vec();
    for i in 0..40000 {
        big.extend_from_slice(format!("line {i:08} of a large message\r\n").as_bytes());
    }
    assert!(out.contains(&format!("BIG ok {}", big.len())), "{out}");
    let inbox = stored(&srv.user_store(), "INBOX");
    assert!(
        inbox.iter().any(|m| m.2 == big),
        "the store holds the message"
    );
}
