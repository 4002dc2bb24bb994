//! The example client as a black box (issue 14's "Example client" contract): the built binary
//! is spawned and judged by its exit status, stdout (JSON lines) and stderr. Usage errors and
//! the plaintext refusal need no server; the rest run against our example server in-process
//! and against Dovecot (`IMAPWIRE_DOVECOT`, see `.ci/dovecot.sh`).

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

fn client(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(common::client_binary());
    cmd.args(args)
        .env_remove("IMAP_PASSWORD")
        .env_remove("IMAP_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("spawning the example client")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// stdout as JSON objects, one per line; any other line fails the test.
fn json_lines(o: &Output) -> Vec<Value> {
    String::from_utf8(o.stdout.clone())
        .expect("stdout is UTF-8")
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}"));
            assert!(v.is_object(), "{l:?} is not an object");
            v
        })
        .collect()
}

#[test]
fn usage_errors_exit_2_and_print_nothing_on_stdout() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["--user", "u", "select"],
        &["--user", "u", "fetch", "INBOX", "1:x"],
        &["--user", "u", "idle", "INBOX"],
        &["--tls", "ssl", "--user", "u", "list"],
        &["--auth", "gssapi", "--user", "u", "list"],
        &["--pin", "sha256:XYZ", "--user", "u", "list"],
        &["--port", "0", "--user", "u", "list"],
        &["list"],
        &["--user", "u", "list", "extra"],
        &["mark", "d", "1", "Seen"],
        &["mark", "d", "1", "+\\Recent"],
        &["delete", "d", "0"],
    ] {
        let o = client(args, &[("IMAP_PASSWORD", "x")]);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?} printed on stdout");
        assert!(!stderr(&o).is_empty(), "{args:?} said nothing on stderr");
    }
}

#[test]
fn help_exits_0() {
    let o = client(&["--help"], &[]);
    assert_eq!(code(&o), 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("usage: client"));
}

#[test]
fn missing_credentials_are_a_usage_error() {
    let o = client(&["--user", "u", "list"], &[]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("IMAP_PASSWORD"), "{}", stderr(&o));
    let o = client(
        &["--user", "u", "--auth", "xoauth2", "list"],
        &[("IMAP_PASSWORD", "x")],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("IMAP_TOKEN"), "{}", stderr(&o));
}

/// `--tls none` without `--insecure-plaintext`: exit 2 and not even a TCP connection.
#[test]
fn plaintext_without_opt_in_sends_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let o = client(
        &[
            "--port",
            &port,
            "--tls",
            "none",
            "--user",
            "u",
            "capabilities",
        ],
        &[("IMAP_PASSWORD", "x")],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--insecure-plaintext"),
        "{}",
        stderr(&o)
    );
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the client connected: {other:?}"),
    }
}

#[test]
fn unreachable_server_exits_1_with_a_message() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port().to_string()
    };
    let o = client(
        &[
            "--port",
            &port,
            "--timeout",
            "5",
            "--user",
            "u",
            "capabilities",
        ],
        &[("IMAP_PASSWORD", "x")],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).to_lowercase().contains("connect"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn local_on_an_empty_directory_fails_with_exit_1() {
    let dir = std::env::temp_dir().join(common::unique("imapwire-cli-empty"));
    std::fs::create_dir_all(&dir).unwrap();
    let o = client(&["local", dir.to_str().unwrap()], &[]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("replica"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- against Dovecot ------------------------------------------------------------------------

struct Dc {
    d: common::Dovecot,
}

impl Dc {
    fn get(test: &str) -> Option<Dc> {
        common::Dovecot::from_env(test).map(|d| Dc { d })
    }

    /// Runs the client on main's implicit TLS port with the test CA as `user`.
    fn run(&self, user: &str, extra_env: &[(&str, &str)], args: &[&str]) -> Output {
        let port = self.d.var("DOVECOT_IMAPS_PORT").to_owned();
        let ca = self.d.var("DOVECOT_CA").to_owned();
        let mut full = vec![
            "--port",
            &port,
            "--ca",
            &ca,
            "--user",
            user,
            "--timeout",
            "20",
        ];
        full.extend_from_slice(args);
        let mut env = vec![("IMAP_PASSWORD", self.d.password())];
        env.extend_from_slice(extra_env);
        client(&full, &env)
    }
}

fn ok(o: &Output) -> Vec<Value> {
    assert_eq!(code(o), 0, "stderr: {}", stderr(o));
    json_lines(o)
}

#[test]
fn dovecot_capabilities_with_each_mechanism() {
    let Some(dc) = Dc::get("dovecot_capabilities_with_each_mechanism") else {
        return;
    };
    let token = dc.d.token("alice").to_owned();
    for mech in dc.d.mechanisms() {
        let o = dc.run(
            "alice",
            &[("IMAP_TOKEN", &token)],
            &["--auth", &mech, "capabilities"],
        );
        let lines = ok(&o);
        assert_eq!(lines.len(), 1, "{mech}: {lines:?}");
        assert_eq!(lines[0]["mechanism"], mech.as_str());
        let caps: Vec<&str> = lines[0]["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert!(
            caps.iter().any(|c| c.eq_ignore_ascii_case("QRESYNC")),
            "{mech}: {caps:?}"
        );
    }
    // auto picks a mechanism and says which.
    let lines = ok(&dc.run("alice", &[], &["capabilities"]));
    assert!(
        lines[0]["mechanism"].as_str().is_some_and(|m| m != "auto"),
        "{lines:?}"
    );
}

#[test]
fn dovecot_wrong_password_exits_1() {
    let Some(dc) = Dc::get("dovecot_wrong_password_exits_1") else {
        return;
    };
    let o = dc.run(
        "alice",
        &[("IMAP_PASSWORD", "wrong")],
        &["--auth", "plain", "capabilities"],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn dovecot_self_signed_refused_then_pinned() {
    let Some(dc) = Dc::get("dovecot_self_signed_refused_then_pinned") else {
        return;
    };
    let port = dc.d.var("DOVECOT_SELFSIGNED_PORT").to_owned();
    let fp = dc.d.var("DOVECOT_SELFSIGNED_FINGERPRINT").to_owned();
    let env = [("IMAP_PASSWORD", dc.d.password())];
    let o = client(&["--port", &port, "--user", "alice", "capabilities"], &env);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains(&fp), "no fingerprint in {err:?}");
    assert!(err.contains("refused: self-signed"), "no reason in {err:?}");
    let o = client(
        &[
            "--port",
            &port,
            "--pin",
            &fp,
            "--user",
            "alice",
            "capabilities",
        ],
        &env,
    );
    assert_eq!(ok(&o).len(), 1);
    // A pin for another certificate does not help, and the test CA does not vouch for it.
    let other = format!("sha256:{}", "0".repeat(64));
    let ca = dc.d.var("DOVECOT_CA").to_owned();
    let o = client(
        &[
            "--port",
            &port,
            "--pin",
            &other,
            "--ca",
            &ca,
            "--user",
            "alice",
            "capabilities",
        ],
        &env,
    );
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains(&fp));
}

#[test]
fn dovecot_starttls() {
    let Some(dc) = Dc::get("dovecot_starttls") else {
        return;
    };
    let port = dc.d.var("DOVECOT_IMAP_PORT").to_owned();
    let ca = dc.d.var("DOVECOT_CA").to_owned();
    let env = [("IMAP_PASSWORD", dc.d.password())];
    let o = client(
        &[
            "--port",
            &port,
            "--ca",
            &ca,
            "--user",
            "alice",
            "--tls",
            "starttls",
            "capabilities",
        ],
        &env,
    );
    assert_eq!(ok(&o).len(), 1);
}

/// Plaintext with the opt-in (Dovecot allows it on loopback).
#[test]
fn dovecot_plaintext_with_opt_in() {
    let Some(dc) = Dc::get("dovecot_plaintext_with_opt_in") else {
        return;
    };
    let port = dc.d.var("DOVECOT_IMAP_PORT").to_owned();
    let env = [("IMAP_PASSWORD", dc.d.password())];
    let o = client(
        &[
            "--port",
            &port,
            "--tls",
            "none",
            "--insecure-plaintext",
            "--user",
            "alice",
            "--auth",
            "login",
            "capabilities",
        ],
        &env,
    );
    let lines = ok(&o);
    assert_eq!(lines[0]["mechanism"], "login");
}

#[test]
fn dovecot_list_select_append_fetch_idle() {
    let Some(dc) = Dc::get("dovecot_list_select_append_fetch_idle") else {
        return;
    };
    let user = "dave";
    let lines = ok(&dc.run(user, &[], &["list"]));
    let sent = lines
        .iter()
        .find(|l| l["mailbox"] == "Sent")
        .unwrap_or_else(|| panic!("no Sent in {lines:?}"));
    assert_eq!(sent["special_use"], "\\Sent");
    assert_eq!(sent["delimiter"], "/");
    let inbox = lines.iter().find(|l| l["mailbox"] == "INBOX").unwrap();
    assert!(inbox["special_use"].is_null());

    // A mailbox with a non-ASCII name: created by APPEND? No: Dovecot wants it to exist, so
    // the first APPEND into a fresh name must fail with exit 1 and a message.
    let mailbox = format!("Grüße-{}", common::unique("m"));
    let file = std::env::temp_dir().join(common::unique("imapwire-msg"));
    let msg = b"From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n";
    std::fs::write(&file, msg).unwrap();
    let f = file.to_str().unwrap();
    let o = dc.run(user, &[], &["append", &mailbox, f]);
    assert_eq!(code(&o), 1, "append into a missing mailbox: {}", stderr(&o));

    // INBOX: append twice, with flags; -\Flagged style values are values.
    let lines = ok(&dc.run(user, &[], &["append", "INBOX", f, "--flag", "\\Flagged"]));
    let uid1 = lines[0]["uid"].as_u64().expect("Dovecot has UIDPLUS");
    let lines = ok(&dc.run(user, &[], &["append", "INBOX", f]));
    let uid2 = lines[0]["uid"].as_u64().unwrap();
    assert!(uid2 > uid1);

    let sel = ok(&dc.run(user, &[], &["select", "INBOX"]));
    assert_eq!(sel.len(), 1);
    assert!(sel[0]["exists"].as_u64().unwrap() >= 2);
    assert!(sel[0]["uidvalidity"].as_u64().unwrap() > 0);
    assert!(sel[0]["uidnext"].as_u64().unwrap() > uid2);
    assert!(sel[0]["highestmodseq"].as_u64().unwrap() > 0);

    let set = format!("{uid1}:{uid2}");
    let lines = ok(&dc.run(user, &[], &["fetch", "INBOX", &set]));
    assert_eq!(lines.len(), 2, "{lines:?}");
    let expect_sha = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(msg);
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    for l in &lines {
        assert_eq!(l["size"], msg.len() as u64);
        assert_eq!(l["sha256"], expect_sha.as_str());
        let flags = l["flags"].as_array().unwrap();
        assert!(flags.iter().all(|f| f != "\\Recent"), "{flags:?}");
    }
    let first = lines.iter().find(|l| l["uid"] == uid1).unwrap();
    assert!(
        first["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "\\Flagged")
    );

    // IDLE for 3 s while another client appends: an exists event arrives.
    let idle = {
        let port = dc.d.var("DOVECOT_IMAPS_PORT").to_owned();
        let ca = dc.d.var("DOVECOT_CA").to_owned();
        let mut cmd = Command::new(common::client_binary());
        cmd.args(["--port", &port, "--ca", &ca, "--user", user])
            .args(["idle", "INBOX", "--seconds", "4"])
            .env("IMAP_PASSWORD", dc.d.password())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().unwrap()
    };
    std::thread::sleep(Duration::from_millis(1500));
    ok(&dc.run(user, &[], &["append", "INBOX", f]));
    let o = idle.wait_with_output().unwrap();
    let events = ok(&o);
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "exists" && e["exists"].as_u64().unwrap() >= 3),
        "{events:?}"
    );
    let _ = std::fs::remove_file(&file);
}

#[test]
fn dovecot_sync_local_mark_delete() {
    let Some(dc) = Dc::get("dovecot_sync_local_mark_delete") else {
        return;
    };
    let user = "erin";
    let dir = std::env::temp_dir().join(common::unique("imapwire-replica"));
    let d = dir.to_str().unwrap();
    let file = std::env::temp_dir().join(common::unique("imapwire-msg"));
    std::fs::write(&file, b"Subject: s\r\n\r\nx\r\n").unwrap();
    let f = file.to_str().unwrap();
    // A clean mailbox of our own: INBOX of erin is shared by no other test.
    let uid_a = ok(&dc.run(user, &[], &["append", "INBOX", f]))[0]["uid"]
        .as_u64()
        .unwrap();
    let uid_b = ok(&dc.run(user, &[], &["append", "INBOX", f]))[0]["uid"]
        .as_u64()
        .unwrap();

    let first = ok(&dc.run(user, &[], &["sync", "INBOX", d]));
    assert_eq!(first.len(), 1);
    // The first synchronisation of a replica is a full one (RFC 4549); QRESYNC afterwards.
    assert_eq!(first[0]["mode"], "full");
    assert!(first[0]["downloaded"].as_u64().unwrap() >= 2);
    let again = ok(&dc.run(user, &[], &["sync", "INBOX", d]));
    assert_eq!(again[0]["mode"], "qresync", "{again:?}");
    for k in [
        "downloaded",
        "flags_changed",
        "expunged",
        "uploaded",
        "conflicts",
    ] {
        assert_eq!(again[0][k], 0, "{k} in {again:?}");
    }
    assert_eq!(again[0]["uidvalidity_reset"], false);

    let local = ok(&client(&["local", d], &[]));
    assert!(local.iter().any(|m| m["uid"] == uid_a));
    // Local: +\Seen on a, delete b; the next sync uploads both.
    ok(&client(
        &["mark", d, &uid_a.to_string(), "+\\Seen", "-\\Flagged"],
        &[],
    ));
    ok(&client(&["delete", d, &uid_b.to_string()], &[]));
    let local = ok(&client(&["local", d], &[]));
    assert!(
        local.iter().all(|m| m["uid"] != uid_b),
        "deleted message still listed"
    );
    let a = local.iter().find(|m| m["uid"] == uid_a).unwrap();
    assert!(a["flags"].as_array().unwrap().iter().any(|f| f == "\\Seen"));
    let up = ok(&dc.run(user, &[], &["sync", "INBOX", d]));
    assert_eq!(up[0]["uploaded"], 2, "{up:?}");
    // The server now has a \Seen and no b.
    let server = ok(&dc.run(user, &[], &["fetch", "INBOX", "1:*"]));
    assert!(
        server.iter().all(|m| m["uid"] != uid_b),
        "b not expunged on the server"
    );
    let a = server.iter().find(|m| m["uid"] == uid_a).unwrap();
    assert!(a["flags"].as_array().unwrap().iter().any(|f| f == "\\Seen"));
    let _ = std::fs::remove_dir_all(Path::new(d));
    let _ = std::fs::remove_file(&file);
}

// ---- against our example server, in this process -------------------------------------------

struct Ours {
    _rt: tokio::runtime::Runtime,
    tls_port: String,
    plain_port: String,
    fingerprint: String,
    dir: std::path::PathBuf,
}

const OURS_PASSWORD: &str = "s3cret-pw";

fn our_server() -> Ours {
    use imapwire_tokio::server::{ListenKind, ServeOptions, start};
    let dir = std::env::temp_dir().join(common::unique("imapwire-cli-server"));
    std::fs::create_dir_all(&dir).unwrap();
    let users = dir.join("users");
    std::fs::write(&users, format!("ann:{OURS_PASSWORD}\n")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut opts = ServeOptions::new(&users, dir.join("store"));
    opts.listen = vec!["127.0.0.1:0".parse().unwrap()];
    opts.tls_listen = vec!["127.0.0.1:0".parse().unwrap()];
    let server = rt.block_on(start(opts)).expect("the example server starts");
    let port = |kind| {
        server
            .addresses
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, a)| a.port().to_string())
            .unwrap()
    };
    let ours = Ours {
        tls_port: port(ListenKind::Tls),
        plain_port: port(ListenKind::Plain),
        fingerprint: server.fingerprint.to_string(),
        dir,
        _rt: rt,
    };
    // The server runs on the runtime's threads until the runtime is dropped with `ours`.
    std::mem::forget(server);
    ours
}

impl Ours {
    fn run(&self, args: &[&str]) -> Output {
        let mut full = vec![
            "--port",
            &self.tls_port,
            "--pin",
            &self.fingerprint,
            "--user",
            "ann",
        ];
        full.extend_from_slice(args);
        client(&full, &[("IMAP_PASSWORD", OURS_PASSWORD)])
    }
}

#[test]
fn our_server_refuse_pin_list_append_fetch_sync() {
    let s = our_server();
    let env = [("IMAP_PASSWORD", OURS_PASSWORD)];
    // Refused without the pin: the reason and the fingerprint on stderr, exit 1.
    let o = client(
        &["--port", &s.tls_port, "--user", "ann", "capabilities"],
        &env,
    );
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains(&s.fingerprint), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("refused: self-signed"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());

    let caps = ok(&s.run(&["--auth", "scram-sha-256", "capabilities"]));
    assert_eq!(caps[0]["mechanism"], "scram-sha-256");
    let auto = ok(&s.run(&["capabilities"]));
    assert!(
        auto[0]["mechanism"]
            .as_str()
            .unwrap()
            .starts_with("scram-sha-256"),
        "{auto:?}"
    );
    // STARTTLS on the plain port, pinned too.
    let o = client(
        &[
            "--port",
            &s.plain_port,
            "--tls",
            "starttls",
            "--pin",
            &s.fingerprint,
            "--user",
            "ann",
            "--auth",
            "plain",
            "capabilities",
        ],
        &env,
    );
    assert_eq!(ok(&o)[0]["mechanism"], "plain");

    let list = ok(&s.run(&["list"]));
    assert!(
        list.iter().any(|l| l["special_use"] == "\\Sent"),
        "{list:?}"
    );
    assert!(list.iter().any(|l| l["mailbox"] == "INBOX"));

    let file = s.dir.join("msg.eml");
    let msg = b"From: a@example.org\r\nSubject: x\r\n\r\nhello\r\n";
    std::fs::write(&file, msg).unwrap();
    let f = file.to_str().unwrap();
    let uid = ok(&s.run(&["append", "INBOX", f, "--flag", "\\Flagged"]))[0]["uid"]
        .as_u64()
        .unwrap();
    let sel = ok(&s.run(&["select", "INBOX"]));
    assert_eq!(sel[0]["exists"], 1);
    let fetched = ok(&s.run(&["fetch", "INBOX", "1:*"]));
    assert_eq!(fetched.len(), 1);
    assert_eq!(fetched[0]["uid"], uid);
    assert_eq!(fetched[0]["size"], msg.len() as u64);
    assert_eq!(fetched[0]["flags"], serde_json::json!(["\\Flagged"]));

    let replica = s.dir.join("replica");
    let d = replica.to_str().unwrap();
    let first = ok(&s.run(&["sync", "INBOX", d]));
    assert_eq!(first[0]["downloaded"], 1, "{first:?}");
    let local = ok(&client(&["local", d], &[]));
    assert_eq!(local, fetched, "the replica equals the server");
    ok(&client(
        &["mark", d, &uid.to_string(), "-\\Flagged", "+$Label"],
        &[],
    ));
    let up = ok(&s.run(&["sync", "INBOX", d]));
    assert_eq!(up[0]["uploaded"], 1, "{up:?}");
    let after = ok(&s.run(&["fetch", "INBOX", "1:*"]));
    assert_eq!(after[0]["flags"], serde_json::json!(["$Label"]));
    let _ = std::fs::remove_dir_all(&s.dir);
}
