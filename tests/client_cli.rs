//! The example client as a black box (issue 14's "Example client" contract): the built binary
//! is spawned and judged by its exit status, stdout (JSON lines) and stderr. Usage errors and
//! the plaintext refusal need no server; the rest run against our example server in-process
//! and against the real servers of the interop matrix (Dovecot, Cyrus, Courier: the table in
//! `tests/common/servers.rs`; see `.ci/dovecot.sh`, `.ci/cyrus.sh`, `.ci/courier.sh`).

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::servers::{Run, Server};
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

// ---- against the real servers (Dovecot, Cyrus, Courier) ------------------------------------

crate::matrix!(sync;
    cli_mechanisms => CliMechanisms,
    cli_wrong_password => CliWrongPassword,
    cli_self_signed => CliSelfSigned,
    cli_starttls => CliStartTls,
    cli_plaintext => CliPlaintext,
    cli_mailbox => CliMailbox,
    cli_sync => CliSync,
);

/// A server of the matrix, driven through the example client.
struct Cli {
    s: Server,
}

impl Cli {
    /// The server for a group: `None` when absent (not required) or skipped, after checking
    /// the skip's reason (a lacked capability with `capabilities`).
    fn get(run: Run) -> Option<Cli> {
        match run {
            Run::Go(s) => Some(Cli { s }),
            Run::Absent => None,
            Run::Skip(s, skip) => {
                let cli = Cli { s };
                let caps = cli.capabilities("alice");
                let has = |c: &str| caps.iter().any(|x| x.eq_ignore_ascii_case(c));
                cli.s.check_skip(skip, Some(&has));
                None
            }
        }
    }

    /// Runs the client with `args`, recording what it receives when `IMAPWIRE_RECORD_DIR`
    /// is set (`--record`, an option before the action).
    fn client(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let record = self.s.record_file();
        let mut full: Vec<&str> = Vec::new();
        if let Some(r) = &record {
            full.extend(["--record", r.to_str().expect("a UTF-8 path")]);
        }
        full.extend_from_slice(args);
        client(&full, env)
    }

    /// Runs the client on the implicit TLS port with the test CA as `user` (with `--auth`
    /// the table's `login_with` where the server refuses what auto picks, unless `args` has
    /// its own `--auth`).
    fn run(&self, user: &str, extra_env: &[(&str, &str)], args: &[&str]) -> Output {
        let port = self.s.var("IMAPS_PORT").to_owned();
        let ca = self.s.var("CA").to_owned();
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
        let auth = self.auth();
        if !args.contains(&"--auth") {
            full.extend(auth.iter().map(String::as_str));
        }
        full.extend_from_slice(args);
        let mut env = vec![("IMAP_PASSWORD", self.s.password())];
        env.extend_from_slice(extra_env);
        self.client(&full, &env)
    }

    /// `--auth` with the table's `login_with`, where the server refuses what auto picks.
    fn auth(&self) -> Vec<String> {
        match self.s.spec.login_with {
            Some(m) => vec!["--auth".into(), m.to_ascii_lowercase()],
            None => Vec::new(),
        }
    }

    /// `capabilities` as `user` (auto): the capabilities listed.
    fn capabilities(&self, user: &str) -> Vec<String> {
        let lines = ok(&self.run(user, &[], &["capabilities"]));
        lines[0]["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect()
    }
}

fn ok(o: &Output) -> Vec<Value> {
    assert_eq!(code(o), 0, "stderr: {}", stderr(o));
    json_lines(o)
}

fn cli_mechanisms(run: Run) {
    let Some(dc) = Cli::get(run) else {
        return;
    };
    let s = &dc.s;
    let token = if s.has_var("TOKEN_ALICE") {
        s.var("TOKEN_ALICE").to_owned()
    } else {
        String::new()
    };
    let mut tried = 0;
    for mech in s.mechanisms() {
        let mech = mech.to_ascii_lowercase();
        if mech.ends_with("-plus") {
            // --auth names no -PLUS variant; auto picks one where offered (checked below).
            eprintln!("{}: {mech}: --auth has no -PLUS names", s.test);
            continue;
        }
        if let Some((_, why)) = s
            .spec
            .unimplemented
            .iter()
            .find(|(m, _)| m.eq_ignore_ascii_case(&mech))
        {
            eprintln!("{}: {mech} skipped: {why}", s.test);
            continue;
        }
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
        s.check_capabilities(|c| caps.iter().any(|x| x.eq_ignore_ascii_case(c)));
        tried += 1;
    }
    assert!(tried >= 2, "{}: {tried} mechanisms", s.test);
    // auto picks the strongest mechanism offered and says which.
    let o = dc.run("alice", &[], &["--auth", "auto", "capabilities"]);
    if let Some(why) = s.refused(s.spec.auto) {
        // A known gap (see the table): auto's choice is refused.
        assert_eq!(
            code(&o),
            1,
            "auto's choice is refused by the table, but it worked"
        );
        eprintln!(
            "{}: auto picks {} and is refused: {why}",
            s.test, s.spec.auto
        );
        return;
    }
    let lines = ok(&o);
    assert_eq!(
        lines[0]["mechanism"].as_str().map(str::to_ascii_uppercase),
        Some(s.spec.auto.to_owned()),
        "{lines:?}"
    );
}

fn cli_wrong_password(run: Run) {
    let Some(dc) = Cli::get(run) else {
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

fn cli_self_signed(run: Run) {
    let Some(dc) = Cli::get(run) else {
        return;
    };
    let s = &dc.s;
    let port = s.var("SELFSIGNED_PORT").to_owned();
    let fp = s.var("SELFSIGNED_FINGERPRINT").to_owned();
    let env = [("IMAP_PASSWORD", s.password())];
    let o = dc.client(&["--port", &port, "--user", "alice", "capabilities"], &env);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains(&fp), "no fingerprint in {err:?}");
    assert!(err.contains("refused: self-signed"), "no reason in {err:?}");
    let o = dc.client(
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
    let ca = s.var("CA").to_owned();
    let o = dc.client(
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

fn cli_starttls(run: Run) {
    let Some(dc) = Cli::get(run) else {
        return;
    };
    let port = dc.s.var("IMAP_PORT").to_owned();
    let ca = dc.s.var("CA").to_owned();
    let env = [("IMAP_PASSWORD", dc.s.password())];
    let auth = dc.auth();
    let mut args = vec![
        "--port", &port, "--ca", &ca, "--user", "alice", "--tls", "starttls",
    ];
    args.extend(auth.iter().map(String::as_str));
    args.push("capabilities");
    let o = dc.client(&args, &env);
    assert_eq!(ok(&o).len(), 1);
}

/// Plaintext with the opt-in: Dovecot allows a password before TLS on loopback; Cyrus
/// (`allowplaintext: no`) and Courier (`IMAP_TLS_REQUIRED=1`) announce LOGINDISABLED, and the
/// client fails with exit 1 without sending the password.
fn cli_plaintext(run: Run) {
    let Some(dc) = Cli::get(run) else {
        return;
    };
    let port = dc.s.var("IMAP_PORT").to_owned();
    let env = [("IMAP_PASSWORD", dc.s.password())];
    let o = dc.client(
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
    if dc.s.spec.plaintext_login {
        let lines = ok(&o);
        assert_eq!(lines[0]["mechanism"], "login");
    } else {
        assert_eq!(code(&o), 1, "{}: {}", dc.s.test, stderr(&o));
        assert!(o.stdout.is_empty());
    }
}

fn cli_mailbox(run: Run) {
    let Some(dc) = Cli::get(run) else {
        return;
    };
    let s = &dc.s;
    let user = "dave";
    let lines = ok(&dc.run(user, &[], &["list"]));
    let inbox = lines.iter().find(|l| l["mailbox"] == "INBOX").unwrap();
    assert!(inbox["special_use"].is_null());
    assert_eq!(inbox["delimiter"], s.spec.delimiter, "{lines:?}");
    if s.offers("SPECIAL-USE") {
        let sent = s.mailbox("Sent");
        let sent = lines
            .iter()
            .find(|l| l["mailbox"] == sent.as_str())
            .unwrap_or_else(|| panic!("no {sent} in {lines:?}"));
        assert_eq!(sent["special_use"], "\\Sent");
    }

    // A mailbox with a non-ASCII name that does not exist: APPEND fails with exit 1 and a
    // message (the servers want it created first).
    let mailbox = s.mailbox(&format!("Grüße-{}", common::unique("m")));
    let file = std::env::temp_dir().join(common::unique("imapwire-msg"));
    let msg = b"From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n";
    std::fs::write(&file, msg).unwrap();
    let f = file.to_str().unwrap();
    let o = dc.run(user, &[], &["append", &mailbox, f]);
    assert_eq!(code(&o), 1, "append into a missing mailbox: {}", stderr(&o));

    // INBOX: append twice, with flags; -\Flagged style values are values.
    let lines = ok(&dc.run(user, &[], &["append", "INBOX", f, "--flag", "\\Flagged"]));
    let uid1 = lines[0]["uid"].as_u64().expect("UIDPLUS");
    let lines = ok(&dc.run(user, &[], &["append", "INBOX", f]));
    let uid2 = lines[0]["uid"].as_u64().unwrap();
    assert!(uid2 > uid1);

    let sel = ok(&dc.run(user, &[], &["select", "INBOX"]));
    assert_eq!(sel.len(), 1);
    assert!(sel[0]["exists"].as_u64().unwrap() >= 2);
    assert!(sel[0]["uidvalidity"].as_u64().unwrap() > 0);
    if s.spec.select_uidnext {
        assert!(sel[0]["uidnext"].as_u64().unwrap() > uid2);
    } else {
        assert!(sel[0]["uidnext"].is_null(), "{sel:?}");
    }
    if s.offers("CONDSTORE") {
        assert!(sel[0]["highestmodseq"].as_u64().unwrap() > 0);
    } else {
        assert!(sel[0]["highestmodseq"].is_null(), "{sel:?}");
    }

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

    // IDLE while another client appends: an exists event arrives. Cyrus and Courier poll the
    // mailbox every 5 s in IDLE (their fixtures), so they get a longer window.
    let seconds = (4 + 2 * s.spec.idle_poll_seconds).to_string();
    let idle = {
        let port = s.var("IMAPS_PORT").to_owned();
        let ca = s.var("CA").to_owned();
        let mut cmd = Command::new(common::client_binary());
        if let Some(r) = s.record_file() {
            cmd.arg("--record").arg(r);
        }
        cmd.args(["--port", &port, "--ca", &ca, "--user", user])
            .args(dc.auth())
            .args(["idle", "INBOX", "--seconds", &seconds])
            .env("IMAP_PASSWORD", s.password())
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
        "{}: {events:?}",
        s.test
    );
    let _ = std::fs::remove_file(&file);
}

fn cli_sync(run: Run) {
    let Some(dc) = Cli::get(run) else {
        return;
    };
    let s = &dc.s;
    let user = "erin";
    let dir = std::env::temp_dir().join(common::unique("imapwire-replica"));
    let d = dir.to_str().unwrap();
    let file = std::env::temp_dir().join(common::unique("imapwire-msg"));
    std::fs::write(&file, b"Subject: s\r\n\r\nx\r\n").unwrap();
    let f = file.to_str().unwrap();
    // erin's INBOX is changed by no other test.
    let uid_a = ok(&dc.run(user, &[], &["append", "INBOX", f]))[0]["uid"]
        .as_u64()
        .unwrap();
    let uid_b = ok(&dc.run(user, &[], &["append", "INBOX", f]))[0]["uid"]
        .as_u64()
        .unwrap();

    let first = ok(&dc.run(user, &[], &["sync", "INBOX", d]));
    assert_eq!(first.len(), 1);
    // The first synchronisation of a replica is a full one (RFC 4549); QRESYNC afterwards
    // where the server offers it.
    assert_eq!(first[0]["mode"], "full");
    assert!(first[0]["downloaded"].as_u64().unwrap() >= 2);
    let again = ok(&dc.run(user, &[], &["sync", "INBOX", d]));
    let resync = if s.offers("QRESYNC") {
        "qresync"
    } else {
        "full"
    };
    assert_eq!(again[0]["mode"], resync, "{again:?}");
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
    // auto chooses SCRAM-SHA-256-PLUS here; printed as its --auth name (see
    // auto_mechanism_is_printed_as_its_auth_name).
    let auto = ok(&s.run(&["capabilities"]));
    assert_eq!(auto[0]["mechanism"], "scram-sha-256", "{auto:?}");
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

// ---- shared by the scenarios below ----------------------------------------------------------

mod scenario {
    //! A second connection (the library, `imapwire_tokio`) that changes a mailbox while the
    //! binary runs, and the contract's shapes of the printed objects.

    use std::io::{BufRead, BufReader, Cursor, Read};
    use std::process::{Child, Command, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use imapwire_session::sasl::{Credentials, Secret};
    use imapwire_tokio::{AuthMethod, Config, Connection, Security, Timeouts, TlsConfig};
    use serde_json::Value;

    pub fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// Implicit TLS to 127.0.0.1:`port`, trusting the certificate with `fingerprint` only.
    pub fn pinned(port: &str, fingerprint: &str) -> Config {
        let mut tls = TlsConfig::default();
        tls.dangerous()
            .pin(fingerprint.parse().expect("a sha256: fingerprint"));
        Config::new("127.0.0.1", port.parse().unwrap())
            .with_security(Security::ImplicitTls)
            .with_tls(tls)
            .with_timeouts(Timeouts::all(Duration::from_secs(20)))
    }

    /// Implicit TLS to `host`:`port` with `ca` (PEM) as an extra trust anchor.
    pub fn with_ca(host: &str, port: &str, ca: &str) -> Config {
        let mut tls = TlsConfig::default();
        tls.add_roots_pem(&std::fs::read(ca).expect("the CA file"))
            .expect("a PEM CA");
        Config::new(host, port.parse().unwrap())
            .with_security(Security::ImplicitTls)
            .with_tls(tls)
            .with_timeouts(Timeouts::all(Duration::from_secs(20)))
    }

    /// Plaintext to 127.0.0.1:`port`.
    pub fn plaintext(port: &str) -> Config {
        Config::new("127.0.0.1", port.parse().unwrap())
            .with_security(Security::InsecurePlaintext)
            .with_timeouts(Timeouts::all(Duration::from_secs(20)))
    }

    /// Connects and authenticates (the mechanism chosen automatically); returns the
    /// connection and the mechanism used.
    pub async fn login(cfg: Config, user: &str, password: &str) -> (Connection, String) {
        let conn = Connection::connect(cfg).await.expect("connecting");
        let used = conn
            .authenticate(
                Credentials::password(user, Secret::new(password.to_owned())),
                AuthMethod::Auto,
            )
            .await
            .expect("authenticating");
        (conn, used)
    }

    /// A small message that differs from every other one.
    pub fn message(subject: &str) -> Vec<u8> {
        format!(
            "From: t@example.org\r\nSubject: {subject}\r\nMessage-ID: <{}@example.org>\r\n\r\nbody of {subject}\r\n",
            crate::common::unique("m")
        )
        .into_bytes()
    }

    /// APPENDs `msg`; the new UID (the servers used here have UIDPLUS).
    pub async fn append(conn: &Connection, mailbox: &str, flags: &[&str], msg: &[u8]) -> u32 {
        conn.append(mailbox, flags, msg.len() as u64, Cursor::new(msg.to_vec()))
            .await
            .expect("APPEND")
            .expect("an APPENDUID")
    }

    /// Lowercase hex SHA-256.
    pub fn sha256(bytes: &[u8]) -> String {
        use sha2::Digest;
        sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Checks an `idle` line against the contract: exactly the keys of its kind, and flags
    /// without `\Recent`.
    pub fn check_event(e: &Value) {
        let mut keys: Vec<&str> = e
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let want: &[&str] = match e["event"].as_str() {
            Some("exists") => &["event", "exists"],
            Some("expunge") => &["event", "seq"],
            Some("vanished") => &["event", "uids"],
            Some("flags") => &["event", "flags", "seq", "uid"],
            other => panic!("unknown event {other:?} in {e}"),
        };
        assert_eq!(keys, want, "{e}");
        match e["event"].as_str() {
            Some("exists") => assert!(e["exists"].is_u64(), "{e}"),
            Some("expunge") => assert!(e["seq"].as_u64().is_some_and(|s| s > 0), "{e}"),
            Some("vanished") => assert!(e["uids"].is_string(), "{e}"),
            _ => {
                assert!(e["seq"].as_u64().is_some_and(|s| s > 0), "{e}");
                assert!(e["uid"].is_null() || e["uid"].is_u64(), "{e}");
                let flags = e["flags"].as_array().expect("flags is an array");
                assert!(
                    flags.iter().all(|f| f
                        .as_str()
                        .is_some_and(|f| !f.eq_ignore_ascii_case("\\Recent"))),
                    "{e}"
                );
            }
        }
    }

    /// The binary running `idle`, its lines read as they come.
    pub struct IdleRun {
        child: Child,
        lines: mpsc::Receiver<String>,
        pub events: Vec<Value>,
    }

    impl IdleRun {
        pub fn start(mut cmd: Command) -> IdleRun {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("spawning the client");
            let out = child.stdout.take().unwrap();
            let (tx, lines) = mpsc::channel();
            std::thread::spawn(move || {
                for l in BufReader::new(out).lines() {
                    let Ok(l) = l else { return };
                    if tx.send(l).is_err() {
                        return;
                    }
                }
            });
            IdleRun {
                child,
                lines,
                events: Vec::new(),
            }
        }

        fn push(&mut self, line: &str) -> &Value {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            check_event(&v);
            self.events.push(v);
            self.events.last().unwrap()
        }

        fn stderr(&mut self) -> String {
            let mut s = String::new();
            if let Some(mut e) = self.child.stderr.take() {
                let _ = e.read_to_string(&mut s);
            }
            s
        }

        /// Appends to `mailbox` through `conn` until the client prints an `exists` event: then
        /// its IDLE runs, and what `conn` does next arrives as events.
        pub fn await_idle(
            &mut self,
            rt: &tokio::runtime::Runtime,
            conn: &Connection,
            mailbox: &str,
        ) {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let msg = message("wake");
                rt.block_on(conn.append(mailbox, &[], msg.len() as u64, Cursor::new(msg)))
                    .expect("APPEND");
                match self.lines.recv_timeout(Duration::from_millis(700)) {
                    Ok(l) => {
                        if self.push(&l)["event"] == "exists" {
                            return;
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        let _ = self.child.wait();
                        panic!("the client stopped: {}", self.stderr());
                    }
                }
                assert!(
                    Instant::now() < deadline,
                    "no exists event within 20 s: {:?}",
                    self.events
                );
            }
        }

        /// Waits for the client to end (exit 0 required); every event it printed.
        pub fn finish(mut self) -> Vec<Value> {
            let status = self.child.wait().expect("waiting for the client");
            let rest: Vec<String> = self.lines.iter().collect();
            for l in rest {
                self.push(&l);
            }
            let err = self.stderr();
            assert!(status.success(), "idle: {status}: {err}");
            self.events
        }
    }

    /// In a fresh `mailbox` holding A then B (sequence numbers 1 and 2) selected on `conn`,
    /// while `idle` runs: `+FLAGS (\Flagged)` on A, then B deleted (UID EXPUNGE with
    /// `uidplus`, else EXPUNGE). Checks the events the contract prescribes: a `flags` event
    /// for A (its UID with `qresync`, else null), then B's removal as `vanished` (QRESYNC) or
    /// `expunge` with sequence number 2.
    pub fn flag_and_expunge(
        rt: &tokio::runtime::Runtime,
        conn: &Connection,
        run: IdleRun,
        (a, b): (u32, u32),
        uidplus: bool,
        qresync: bool,
    ) -> Vec<Value> {
        rt.block_on(async {
            conn.store(&a.to_string(), "+FLAGS (\\Flagged)", true)
                .await
                .expect("STORE");
            conn.store(&b.to_string(), "+FLAGS.SILENT (\\Deleted)", true)
                .await
                .expect("STORE");
            let set = b.to_string();
            conn.expunge(uidplus.then_some(set.as_str()))
                .await
                .expect("EXPUNGE");
        });
        let events = run.finish();
        let flagged = events
            .iter()
            .find(|e| {
                e["event"] == "flags"
                    && e["seq"] == 1
                    && e["flags"]
                        .as_array()
                        .is_some_and(|f| f.iter().any(|f| f == "\\Flagged"))
            })
            .unwrap_or_else(|| panic!("no flags event for A: {events:?}"));
        if qresync {
            assert_eq!(flagged["uid"], a, "{flagged}");
            assert!(
                events
                    .iter()
                    .any(|e| e["event"] == "vanished" && e["uids"] == b.to_string().as_str()),
                "no vanished event for B (UID {b}): {events:?}"
            );
            assert!(events.iter().all(|e| e["event"] != "expunge"), "{events:?}");
        } else {
            assert!(flagged["uid"].is_null(), "{flagged}");
            assert!(
                events
                    .iter()
                    .any(|e| e["event"] == "expunge" && e["seq"] == 2),
                "no expunge event for B (sequence 2): {events:?}"
            );
            assert!(
                events.iter().all(|e| e["event"] != "vanished"),
                "{events:?}"
            );
        }
        events
    }
}

// ---- servers that lack something: a scripted one, a silent one, ours without extensions ----

/// What the scripted server received.
#[derive(Default)]
struct FakeLog {
    /// Every line (command lines and SASL responses), without CRLF.
    lines: Vec<String>,
    /// The literals of APPEND commands.
    literals: Vec<Vec<u8>>,
}

/// A scripted IMAP server on 127.0.0.1 for what Dovecot and our example server cannot show
/// (a server without SASL LOGIN that takes the LOGIN command; one without UIDPLUS, which
/// sends no APPENDUID; the mailbox names on the wire): it offers the capabilities it is
/// given (after authentication the same without `AUTH=`, plus `X-FAKE-AUTHED`), records
/// every line and literal, and answers CAPABILITY, LOGIN, AUTHENTICATE PLAIN and LOGIN,
/// ENABLE, LIST (one mailbox, [`FAKE_MAILBOX`], in UTF-8 once UTF8=ACCEPT is enabled, else
/// in modified UTF-7), APPEND (`OK` without a response code), NOOP and LOGOUT; anything else
/// gets `BAD`.
struct Fake {
    port: String,
    log: std::sync::Arc<std::sync::Mutex<FakeLog>>,
}

/// The mailbox the scripted server lists, and its modified UTF-7 name (RFC 3501 §5.1.3:
/// `&-` for `&`, base64 of UTF-16 between `&` and `-` for the rest).
const FAKE_MAILBOX: (&str, &str) = ("Grüße & 日本", "Gr&APwA3w-e &- &ZeVnLA-");

impl Fake {
    fn start(caps: &str) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let log = std::sync::Arc::<std::sync::Mutex<FakeLog>>::default();
        let (caps, log2) = (caps.to_owned(), log.clone());
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(s) = s else { return };
                let _ = fake_session(s, &caps, &log2);
            }
        });
        Fake { port, log }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut full = vec![
            "--port",
            &self.port,
            "--tls",
            "none",
            "--insecure-plaintext",
            "--user",
            "ann",
            "--timeout",
            "10",
        ];
        full.extend_from_slice(args);
        client(&full, &[("IMAP_PASSWORD", OURS_PASSWORD)])
    }

    fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().lines.clone()
    }

    /// The command names received (the second word of each tagged line).
    fn commands(&self) -> Vec<String> {
        self.lines()
            .iter()
            .filter_map(|l| l.split(' ').nth(1))
            .map(str::to_ascii_uppercase)
            .collect()
    }
}

fn fake_session(
    stream: std::net::TcpStream,
    caps: &str,
    log: &std::sync::Mutex<FakeLog>,
) -> std::io::Result<()> {
    use std::io::{BufRead, Read, Write};
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut w = stream.try_clone()?;
    let mut r = std::io::BufReader::new(stream);
    let read_line = |r: &mut std::io::BufReader<std::net::TcpStream>| {
        let mut buf = Vec::new();
        r.read_until(b'\n', &mut buf)?;
        if buf.is_empty() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = String::from_utf8_lossy(&buf)
            .trim_end_matches(['\r', '\n'])
            .to_owned();
        log.lock().unwrap().lines.push(line.clone());
        Ok::<_, std::io::Error>(line)
    };
    write!(w, "* OK [CAPABILITY {caps}] scripted server ready\r\n")?;
    let authed_caps: String = caps
        .split(' ')
        .filter(|c| !c.starts_with("AUTH="))
        .chain(["X-FAKE-AUTHED"])
        .collect::<Vec<_>>()
        .join(" ");
    let mut authed = false;
    let mut utf8 = false;
    loop {
        let line = read_line(&mut r)?;
        let mut words = line.splitn(3, ' ');
        let tag = words.next().unwrap_or("*").to_owned();
        let cmd = words.next().unwrap_or("").to_ascii_uppercase();
        let rest = words.next().unwrap_or("");
        match cmd.as_str() {
            "CAPABILITY" => {
                let now = if authed { &authed_caps } else { caps };
                write!(w, "* CAPABILITY {now}\r\n{tag} OK done\r\n")?
            }
            "LOGIN" => {
                authed = true;
                write!(w, "{tag} OK [CAPABILITY {authed_caps}] logged in\r\n")?
            }
            "AUTHENTICATE" => {
                // The challenges of PLAIN (none) and LOGIN ("Username:", "Password:").
                let prompts: &[&str] = match rest.to_ascii_uppercase().as_str() {
                    "PLAIN" => &[""],
                    "LOGIN" => &["VXNlcm5hbWU6", "UGFzc3dvcmQ6"],
                    _ => {
                        write!(w, "{tag} NO not scripted\r\n")?;
                        continue;
                    }
                };
                for p in prompts {
                    write!(w, "+ {p}\r\n")?;
                    read_line(&mut r)?;
                }
                authed = true;
                write!(w, "{tag} OK [CAPABILITY {authed_caps}] authenticated\r\n")?
            }
            "APPEND" => {
                // `APPEND mailbox [(flags)] [date] {N}` or `{N+}`.
                let Some(open) = line.rfind('{') else {
                    write!(w, "{tag} BAD no literal\r\n")?;
                    continue;
                };
                let inner = line[open + 1..].trim_end_matches('}');
                let (n, plus) = match inner.strip_suffix('+') {
                    Some(n) => (n, true),
                    None => (inner, false),
                };
                let n: usize = n.parse().map_err(std::io::Error::other)?;
                if !plus {
                    write!(w, "+ go ahead\r\n")?;
                }
                let mut literal = vec![0; n];
                r.read_exact(&mut literal)?;
                log.lock().unwrap().literals.push(literal);
                // The end of the command line after the literal.
                read_line(&mut r)?;
                write!(w, "{tag} OK APPEND completed\r\n")?
            }
            "ENABLE" => {
                let wanted: Vec<&str> = rest
                    .split(' ')
                    .filter(|c| caps.split(' ').any(|o| o.eq_ignore_ascii_case(c)))
                    .collect();
                utf8 |= wanted.iter().any(|c| c.eq_ignore_ascii_case("UTF8=ACCEPT"));
                write!(w, "* ENABLED {}\r\n{tag} OK done\r\n", wanted.join(" "))?
            }
            "LIST" => {
                let name = if utf8 { FAKE_MAILBOX.0 } else { FAKE_MAILBOX.1 };
                write!(w, "* LIST () \"/\" \"{name}\"\r\n{tag} OK done\r\n")?
            }
            "NOOP" => write!(w, "{tag} OK done\r\n")?,
            "LOGOUT" => {
                write!(w, "* BYE closing\r\n{tag} OK done\r\n")?;
                return Ok(());
            }
            _ => write!(w, "{tag} BAD not scripted\r\n")?,
        }
    }
}

/// `--auth login` is SASL LOGIN where the server offers it, else the LOGIN command (the
/// contract); `--auth auto` with no SASL mechanism it can use is the LOGIN command too. Each
/// prints `login`, an `--auth` name.
#[test]
fn auth_login_is_sasl_login_where_offered_else_the_login_command() {
    // No AUTH=LOGIN: the LOGIN command, and no AUTHENTICATE.
    let f = Fake::start("IMAP4rev1 AUTH=PLAIN");
    let lines = ok(&f.run(&["--auth", "login", "capabilities"]));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["mechanism"], "login");
    assert!(
        lines[0]["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "X-FAKE-AUTHED"),
        "not the capabilities after authentication: {lines:?}"
    );
    let cmds = f.commands();
    assert!(
        !cmds.contains(&"AUTHENTICATE".to_owned()),
        "{:?}",
        f.lines()
    );
    let login = f
        .lines()
        .into_iter()
        .find(|l| {
            l.split(' ')
                .nth(1)
                .is_some_and(|c| c.eq_ignore_ascii_case("LOGIN"))
        })
        .unwrap_or_else(|| panic!("no LOGIN command: {:?}", f.lines()));
    assert!(
        login.contains("ann") && login.contains(OURS_PASSWORD),
        "{login:?}"
    );

    // AUTH=LOGIN offered: AUTHENTICATE LOGIN with the user and the password in base64.
    let f = Fake::start("IMAP4rev1 AUTH=PLAIN AUTH=LOGIN");
    let lines = ok(&f.run(&["--auth", "login", "capabilities"]));
    assert_eq!(lines[0]["mechanism"], "login");
    let all = f.lines();
    let at = all
        .iter()
        .position(|l| l.to_ascii_uppercase().ends_with(" AUTHENTICATE LOGIN"))
        .unwrap_or_else(|| panic!("no AUTHENTICATE LOGIN: {all:?}"));
    // "ann" and "s3cret-pw" (OURS_PASSWORD) in base64.
    assert_eq!(all[at + 1..at + 3], ["YW5u", "czNjcmV0LXB3"], "{all:?}");
    assert!(!f.commands().contains(&"LOGIN".to_owned()), "{all:?}");

    // auto, no AUTH= at all: the LOGIN command, printed as `login`.
    let f = Fake::start("IMAP4rev1");
    let lines = ok(&f.run(&["capabilities"]));
    assert_eq!(lines[0]["mechanism"], "login");
    assert!(
        f.commands().contains(&"LOGIN".to_owned()),
        "{:?}",
        f.lines()
    );
}

/// Without UIDPLUS the server names no UID: `append` prints `{"uid": null}`, and the file's
/// bytes go out unchanged (a bare LF included).
#[test]
fn append_without_uidplus_prints_a_null_uid() {
    let f = Fake::start("IMAP4rev1 AUTH=PLAIN");
    let dir = std::env::temp_dir().join(common::unique("imapwire-cli-nouidplus"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("msg.eml");
    let msg = b"Subject: raw\r\nX-Odd: bare LF follows\n\r\nbody\r\n";
    std::fs::write(&file, msg).unwrap();
    let lines = ok(&f.run(&[
        "append",
        "INBOX",
        file.to_str().unwrap(),
        "--flag",
        "\\Seen",
    ]));
    assert_eq!(lines, vec![serde_json::json!({ "uid": null })]);
    assert_eq!(f.log.lock().unwrap().literals, vec![msg.to_vec()]);
    let append = f
        .lines()
        .into_iter()
        .find(|l| l.to_ascii_uppercase().contains(" APPEND "))
        .unwrap();
    assert!(
        append.contains("INBOX") && append.contains("(\\Seen)"),
        "{append:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A server that accepts the connection and never says anything: the client gives up after
/// `--timeout` (waiting for the greeting in plaintext, for the handshake with TLS), exit 1,
/// a message on stderr that says what timed out, nothing on stdout.
#[test]
fn silent_server_gives_up_at_the_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            // Kept open, never written to.
            held.push(s);
        }
    });
    for tls in [&["--tls", "none", "--insecure-plaintext"][..], &[][..]] {
        let mut args = vec!["--port", &port, "--timeout", "2", "--user", "u"];
        args.extend_from_slice(tls);
        args.push("capabilities");
        let started = std::time::Instant::now();
        let o = client(&args, &[("IMAP_PASSWORD", "x")]);
        let took = started.elapsed();
        assert_eq!(code(&o), 1, "{tls:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{tls:?} printed on stdout");
        let err = stderr(&o);
        assert!(err.contains("timed out"), "{tls:?}: {err}");
        assert!(err.contains(&port), "{tls:?}: which server? {err}");
        assert!(
            took >= Duration::from_secs(2) && took < Duration::from_secs(10),
            "{tls:?}: gave up after {took:?}, --timeout 2"
        );
    }

    // A server that greets, then never answers a command: the wait for each response is
    // bounded by --timeout too.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    std::thread::spawn(move || {
        use std::io::Write;
        let mut held = Vec::new();
        for mut s in listener.incoming().flatten() {
            let _ = s.write_all(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hello\r\n");
            held.push(s);
        }
    });
    let started = std::time::Instant::now();
    let o = client(
        &[
            "--port",
            &port,
            "--tls",
            "none",
            "--insecure-plaintext",
            "--timeout",
            "2",
            "--user",
            "u",
            "capabilities",
        ],
        &[("IMAP_PASSWORD", "x")],
    );
    let took = started.elapsed();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "printed on stdout");
    let err = stderr(&o);
    assert!(
        err.contains("timed out") && err.contains("authenticating"),
        "{err}"
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "gave up after {took:?}, --timeout 2"
    );
}

/// Our example server's session on a plaintext loopback port with only the extensions given
/// (IMAP4rev2 and the AUTH= mechanisms come from the session).
struct Bare {
    _rt: tokio::runtime::Runtime,
    port: String,
    dir: std::path::PathBuf,
    _stop: tokio::sync::watch::Sender<bool>,
}

fn bare_server(extensions: Vec<imapwire_codec::capability::Capability>) -> Bare {
    use imapwire_session::server::{CredentialStore, ServerConfig};
    use imapwire_tokio::server::{DriverOptions, MaildirBackend, Users, serve_connection};
    let dir = std::env::temp_dir().join(common::unique("imapwire-cli-bare"));
    std::fs::create_dir_all(&dir).unwrap();
    let users: std::sync::Arc<dyn CredentialStore> =
        std::sync::Arc::new(Users::parse(&format!("ann:{OURS_PASSWORD}\n")).unwrap());
    let backend = std::sync::Arc::new(MaildirBackend::new(dir.join("store")));
    backend.prepare("ann").unwrap();
    let cfg = ServerConfig::default()
        .with_credentials(users)
        .with_plaintext_auth(true)
        .with_extensions(extensions);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve_connection(
                tcp,
                cfg.clone(),
                None,
                backend.clone(),
                stopped.clone(),
                DriverOptions::default(),
            ));
        }
    });
    Bare {
        _rt: rt,
        port,
        dir,
        _stop: stop,
    }
}

impl Bare {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(common::client_binary());
        cmd.args([
            "--port",
            &self.port,
            "--tls",
            "none",
            "--insecure-plaintext",
        ])
        .args(["--user", "ann", "--timeout", "20"])
        .args(args)
        .env_remove("IMAP_TOKEN")
        .env("IMAP_PASSWORD", OURS_PASSWORD);
        cmd
    }
}

/// `idle` on a server without QRESYNC (nor UIDPLUS): a flag change made by a second
/// connection comes as `flags` with a null UID, an expunge as `expunge` with its sequence
/// number.
#[test]
fn idle_reports_flags_and_expunge_without_qresync() {
    use imapwire_codec::capability::Capability as C;
    let s = bare_server(vec![C::Idle, C::Enable, C::Namespace, C::Unselect]);
    let rt = scenario::runtime();
    let (conn, _) = rt.block_on(scenario::login(
        scenario::plaintext(&s.port),
        "ann",
        OURS_PASSWORD,
    ));
    assert!(!conn.has_capability("QRESYNC") && !conn.has_capability("UIDPLUS"));
    let uids = rt.block_on(async {
        conn.select("INBOX").await.expect("SELECT");
        for subject in ["A", "B"] {
            let msg = scenario::message(subject);
            conn.append("INBOX", &[], msg.len() as u64, std::io::Cursor::new(msg))
                .await
                .expect("APPEND");
        }
        // No UIDPLUS: the UIDs from a search, once a NOOP brought the EXISTS (the server
        // sends it at the end of the command after the APPEND, and searches what it sent).
        conn.noop().await.expect("NOOP");
        conn.search("ALL", true).await.expect("UID SEARCH").ids
    });
    assert_eq!(uids.len(), 2, "{uids:?}");
    let mut run = scenario::IdleRun::start(s.command(&["idle", "INBOX", "--seconds", "6"]));
    run.await_idle(&rt, &conn, "INBOX");
    scenario::flag_and_expunge(&rt, &conn, run, (uids[0], uids[1]), false, false);
    let _ = std::fs::remove_dir_all(&s.dir);
}

// ---- our example server (QRESYNC, SCRAM-SHA-256-PLUS over TLS) ------------------------------

/// `--auth auto` over TLS with our server chooses SCRAM-SHA-256-PLUS (channel binding); the
/// contract prints "the --auth name used", and `--auth` has no `-plus` names: it prints
/// `scram-sha-256`, which `--auth` takes back.
#[test]
fn auto_mechanism_is_printed_as_its_auth_name() {
    let s = our_server();
    let rt = scenario::runtime();
    // The premise: auto picks the -PLUS mechanism on this server.
    let used = rt.block_on(async {
        let (conn, used) = scenario::login(
            scenario::pinned(&s.tls_port, &s.fingerprint),
            "ann",
            OURS_PASSWORD,
        )
        .await;
        conn.logout().await.expect("LOGOUT");
        used
    });
    assert_eq!(used, "SCRAM-SHA-256-PLUS");
    let auto = ok(&s.run(&["capabilities"]));
    assert_eq!(auto[0]["mechanism"], "scram-sha-256", "{auto:?}");
    let named = ok(&s.run(&["--auth", "scram-sha-256", "capabilities"]));
    assert_eq!(named[0]["mechanism"], "scram-sha-256", "{named:?}");
    let _ = std::fs::remove_dir_all(&s.dir);
}

/// `idle` on a server with QRESYNC: the client enables it, so a second connection's flag
/// change comes as `flags` with the UID and its expunge as `vanished` with the UID set.
#[test]
fn our_server_idle_reports_flags_with_uid_and_vanished() {
    let s = our_server();
    let rt = scenario::runtime();
    let (conn, _) = rt.block_on(scenario::login(
        scenario::pinned(&s.tls_port, &s.fingerprint),
        "ann",
        OURS_PASSWORD,
    ));
    let (a, b) = rt.block_on(async {
        conn.select("INBOX").await.expect("SELECT");
        let a = scenario::append(&conn, "INBOX", &[], &scenario::message("A")).await;
        let b = scenario::append(&conn, "INBOX", &[], &scenario::message("B")).await;
        (a, b)
    });
    let mut cmd = Command::new(common::client_binary());
    cmd.args([
        "--port",
        &s.tls_port,
        "--pin",
        &s.fingerprint,
        "--user",
        "ann",
    ])
    .args(["idle", "INBOX", "--seconds", "6"])
    .env_remove("IMAP_TOKEN")
    .env("IMAP_PASSWORD", OURS_PASSWORD);
    let mut run = scenario::IdleRun::start(cmd);
    run.await_idle(&rt, &conn, "INBOX");
    scenario::flag_and_expunge(&rt, &conn, run, (a, b), true, true);
    let _ = std::fs::remove_dir_all(&s.dir);
}

// ---- Dovecot: changes from a second client, Unicode names ----------------------------------

/// Dovecot for the tests of QRESYNC-specific output (VANISHED, UIDVALIDITY resets) that the
/// matrix above does not run on the other servers.
struct Dc {
    d: common::Dovecot,
}

impl Dc {
    fn get(test: &str) -> Option<Dc> {
        common::Dovecot::from_env(test).map(|d| Dc { d })
    }

    /// Runs the client on main's implicit TLS port with the test CA as `user`, recording what
    /// it receives when `IMAPWIRE_RECORD_DIR` is set.
    fn run(&self, user: &str, extra_env: &[(&str, &str)], args: &[&str]) -> Output {
        let record = common::servers::record_file("dovecot", "cli-dovecot");
        let mut full = Vec::new();
        if let Some(r) = &record {
            full.extend(["--record", r.to_str().expect("a UTF-8 path")]);
        }
        full.extend([
            "--port",
            self.d.var("DOVECOT_IMAPS_PORT"),
            "--ca",
            self.d.var("DOVECOT_CA"),
            "--user",
            user,
            "--timeout",
            "20",
        ]);
        full.extend_from_slice(args);
        let mut env = vec![("IMAP_PASSWORD", self.d.password())];
        env.extend_from_slice(extra_env);
        client(&full, &env)
    }

    /// A second client: the library on main's implicit TLS port, authenticated as `user`.
    fn connect(&self, rt: &tokio::runtime::Runtime, user: &str) -> imapwire_tokio::Connection {
        let cfg = scenario::with_ca(
            self.d.host(),
            self.d.var("DOVECOT_IMAPS_PORT"),
            self.d.var("DOVECOT_CA"),
        );
        rt.block_on(scenario::login(cfg, user, self.d.password())).0
    }

    /// The client's command line for `user` (see [`Dc::run`]), to be spawned.
    fn command(&self, user: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(common::client_binary());
        cmd.args(["--port", self.d.var("DOVECOT_IMAPS_PORT")])
            .args(["--ca", self.d.var("DOVECOT_CA"), "--user", user])
            .args(["--timeout", "20"])
            .args(args)
            .env_remove("IMAP_TOKEN")
            .env("IMAP_PASSWORD", self.d.password());
        cmd
    }
}

/// `{"uid", "flags", "size", "sha256"}` lines by UID, flags as a set (their order is not part
/// of the contract).
fn by_uid(
    lines: &[Value],
) -> std::collections::BTreeMap<u64, (std::collections::BTreeSet<String>, u64, String)> {
    lines
        .iter()
        .map(|l| {
            let flags = l["flags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_owned())
                .collect();
            (
                l["uid"].as_u64().unwrap(),
                (
                    flags,
                    l["size"].as_u64().unwrap(),
                    l["sha256"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect()
}

fn report(mode: &str, counts: [u64; 5], reset: bool) -> Value {
    let [downloaded, flags_changed, expunged, uploaded, conflicts] = counts;
    serde_json::json!({
        "mode": mode,
        "downloaded": downloaded,
        "flags_changed": flags_changed,
        "expunged": expunged,
        "uploaded": uploaded,
        "conflicts": conflicts,
        "uidvalidity_reset": reset,
    })
}

/// `idle` on Dovecot (QRESYNC): a second connection's flag change comes as `flags` with the
/// UID, its expunge as `vanished`.
#[test]
fn dovecot_idle_reports_flags_and_vanished_from_a_second_connection() {
    let Some(dc) = Dc::get("dovecot_idle_reports_flags_and_vanished_from_a_second_connection")
    else {
        return;
    };
    let user = "bob";
    let rt = scenario::runtime();
    let conn = dc.connect(&rt, user);
    let mailbox = common::unique("idle");
    let (a, b) = rt.block_on(async {
        conn.raw_command(&format!("CREATE \"{mailbox}\""))
            .await
            .expect("CREATE");
        conn.select(&mailbox).await.expect("SELECT");
        let a = scenario::append(&conn, &mailbox, &[], &scenario::message("A")).await;
        let b = scenario::append(&conn, &mailbox, &[], &scenario::message("B")).await;
        (a, b)
    });
    let mut run = scenario::IdleRun::start(dc.command(user, &["idle", &mailbox, "--seconds", "6"]));
    run.await_idle(&rt, &conn, &mailbox);
    scenario::flag_and_expunge(&rt, &conn, run, (a, b), true, true);
    rt.block_on(async {
        conn.select("INBOX").await.expect("SELECT");
        conn.raw_command(&format!("DELETE \"{mailbox}\""))
            .await
            .expect("DELETE");
    });
}

/// `sync` across runs while a second client changes the mailbox: server-side flag changes,
/// an expunge, a conflict merged (local `+\Seen`, server `+\Answered`: both on both sides),
/// a sync with nothing to do, then the mailbox deleted and created again (a new
/// UIDVALIDITY): the replica is discarded and rebuilt.
#[test]
fn dovecot_sync_reports_server_changes_conflicts_and_uidvalidity_reset() {
    let Some(dc) = Dc::get("dovecot_sync_reports_server_changes_conflicts_and_uidvalidity_reset")
    else {
        return;
    };
    let user = "dave";
    let rt = scenario::runtime();
    let conn = dc.connect(&rt, user);
    let mailbox = common::unique("sync");
    let dir = std::env::temp_dir().join(common::unique("imapwire-replica"));
    let d = dir.to_str().unwrap();
    let uids = rt.block_on(async {
        conn.raw_command(&format!("CREATE \"{mailbox}\""))
            .await
            .expect("CREATE");
        let mut uids = Vec::new();
        for subject in ["A", "B", "C", "D"] {
            uids.push(scenario::append(&conn, &mailbox, &[], &scenario::message(subject)).await);
        }
        uids
    });
    let [a, b, c, dd] = uids[..] else {
        unreachable!()
    };
    let first = ok(&dc.run(user, &[], &["sync", &mailbox, d]));
    assert_eq!(first, [report("full", [4, 0, 0, 0, 0], false)]);

    // The second client: A flagged, B answered, C expunged.
    rt.block_on(async {
        conn.select(&mailbox).await.expect("SELECT");
        conn.store(&a.to_string(), "+FLAGS (\\Flagged)", true)
            .await
            .expect("STORE");
        conn.store(&b.to_string(), "+FLAGS (\\Answered)", true)
            .await
            .expect("STORE");
        conn.store(&c.to_string(), "+FLAGS.SILENT (\\Deleted)", true)
            .await
            .expect("STORE");
        conn.expunge(Some(&c.to_string())).await.expect("EXPUNGE");
    });
    // Locally: B seen (changed on both sides), D labelled.
    ok(&client(&["mark", d, &b.to_string(), "+\\Seen"], &[]));
    ok(&client(&["mark", d, &dd.to_string(), "+$Local"], &[]));
    let second = ok(&dc.run(user, &[], &["sync", &mailbox, d]));
    // flags_changed: A and B (the server changed both); uploaded: B and D.
    assert_eq!(second, [report("qresync", [0, 2, 1, 2, 1], false)]);

    let local = by_uid(&ok(&client(&["local", d], &[])));
    let server = by_uid(&ok(&dc.run(user, &[], &["fetch", &mailbox, "1:*"])));
    assert_eq!(local, server, "the replica differs from the server");
    let flags = |uid: u32| -> Vec<&str> {
        let (f, ..) = &local[&u64::from(uid)];
        f.iter().map(String::as_str).collect()
    };
    assert_eq!(flags(a), ["\\Flagged"]);
    assert_eq!(flags(b), ["\\Answered", "\\Seen"]);
    assert_eq!(flags(dd), ["$Local"]);
    assert!(!local.contains_key(&u64::from(c)), "C still in the replica");
    assert!(
        !dir.join("messages").join(format!("{c}.eml")).exists(),
        "C's file is still there"
    );

    let third = ok(&dc.run(user, &[], &["sync", &mailbox, d]));
    assert_eq!(third, [report("qresync", [0; 5], false)]);

    // The mailbox deleted and created again, with one new message.
    let e_msg = scenario::message("E");
    let e = rt.block_on(async {
        conn.select("INBOX").await.expect("SELECT");
        conn.raw_command(&format!("DELETE \"{mailbox}\""))
            .await
            .expect("DELETE");
        conn.raw_command(&format!("CREATE \"{mailbox}\""))
            .await
            .expect("CREATE");
        scenario::append(&conn, &mailbox, &[], &e_msg).await
    });
    let rebuilt = ok(&dc.run(user, &[], &["sync", &mailbox, d]));
    assert_eq!(rebuilt.len(), 1, "{rebuilt:?}");
    assert_eq!(rebuilt[0]["uidvalidity_reset"], true, "{rebuilt:?}");
    assert_eq!(rebuilt[0]["downloaded"], 1, "{rebuilt:?}");
    assert_eq!(rebuilt[0]["uploaded"], 0, "{rebuilt:?}");
    let local = ok(&client(&["local", d], &[]));
    assert_eq!(local.len(), 1, "{local:?}");
    assert_eq!(local[0]["uid"], e);
    assert_eq!(local[0]["sha256"], scenario::sha256(&e_msg).as_str());
    let files = std::fs::read_dir(dir.join("messages")).unwrap().count();
    assert_eq!(files, 1, "the old messages' files were kept");

    rt.block_on(async {
        conn.raw_command(&format!("DELETE \"{mailbox}\""))
            .await
            .expect("DELETE");
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// Mailbox names are UTF-8 in arguments and output; Dovecot (no UTF8=ACCEPT) sees modified
/// UTF-7. The mailbox is created under its modified UTF-7 name written out here (RFC 3501
/// §5.1.3: `&-` for `&`, base64 of UTF-16 for the rest), then used by its Unicode name.
#[test]
fn dovecot_unicode_mailbox_names() {
    let Some(dc) = Dc::get("dovecot_unicode_mailbox_names") else {
        return;
    };
    let user = "bob";
    let rt = scenario::runtime();
    let conn = dc.connect(&rt, user);
    assert!(
        !conn.has_capability("UTF8=ACCEPT"),
        "this test expects modified UTF-7"
    );
    let suffix = common::unique("u");
    let name = format!("Grüße & 日本 {suffix}");
    let wire = format!("Gr&APwA3w-e &- &ZeVnLA- {suffix}");
    rt.block_on(conn.raw_command(&format!("CREATE \"{wire}\"")))
        .expect("CREATE");

    let msg = scenario::message("unicode");
    let file = std::env::temp_dir().join(common::unique("imapwire-msg"));
    std::fs::write(&file, &msg).unwrap();
    let uid = ok(&dc.run(user, &[], &["append", &name, file.to_str().unwrap()]))[0]["uid"]
        .as_u64()
        .expect("a UID");
    // The client's APPEND went to the mailbox of that modified UTF-7 name.
    let there = rt.block_on(async {
        conn.raw_command(&format!("EXAMINE \"{wire}\""))
            .await
            .expect("EXAMINE");
        conn.raw_command("UID FETCH 1:* (UID)")
            .await
            .expect("UID FETCH")
            .into_iter()
            .filter_map(|m| m.uid)
            .map(u64::from)
            .collect::<Vec<_>>()
    });
    assert_eq!(there, [uid]);

    let list = ok(&dc.run(user, &[], &["list"]));
    assert!(
        list.iter().any(|l| l["mailbox"] == name.as_str()),
        "{name:?} not in {list:?}"
    );
    assert!(
        list.iter().all(|l| l["mailbox"] != wire.as_str()),
        "{list:?}"
    );
    let sel = ok(&dc.run(user, &[], &["select", &name]));
    assert_eq!(sel[0]["exists"], 1, "{sel:?}");
    let fetched = ok(&dc.run(user, &[], &["fetch", &name, "1:*"]));
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert_eq!(fetched[0]["uid"], uid);
    assert_eq!(fetched[0]["sha256"], scenario::sha256(&msg).as_str());

    let dir = std::env::temp_dir().join(common::unique("imapwire-replica"));
    let d = dir.to_str().unwrap();
    let synced = ok(&dc.run(user, &[], &["sync", &name, d]));
    assert_eq!(synced[0]["downloaded"], 1, "{synced:?}");
    assert_eq!(by_uid(&ok(&client(&["local", d], &[]))), by_uid(&fetched));

    rt.block_on(async {
        conn.select("INBOX").await.expect("SELECT");
        conn.raw_command(&format!("DELETE \"{wire}\""))
            .await
            .expect("DELETE");
    });
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&file);
}

/// Mailbox names are UTF-8 in arguments and output; on the wire they are UTF-8 once the
/// server's UTF8=ACCEPT is enabled (RFC 6855), else modified UTF-7. Seen on the scripted
/// server: what APPEND named, and what `list` printed from the server's LIST.
#[test]
fn unicode_names_are_utf8_on_the_wire_with_utf8_accept_else_modified_utf7() {
    let (name, utf7) = FAKE_MAILBOX;
    let dir = std::env::temp_dir().join(common::unique("imapwire-cli-names"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("msg.eml");
    std::fs::write(&file, b"Subject: n\r\n\r\nx\r\n").unwrap();
    let f_arg = file.to_str().unwrap();
    for (caps, wire, enables) in [
        ("IMAP4rev1 AUTH=PLAIN ENABLE UTF8=ACCEPT", name, true),
        ("IMAP4rev1 AUTH=PLAIN ENABLE", utf7, false),
    ] {
        let f = Fake::start(caps);
        ok(&f.run(&["append", name, f_arg]));
        let list = ok(&f.run(&["list"]));
        assert_eq!(list.len(), 1, "{caps}: {list:?}");
        assert_eq!(list[0]["mailbox"], name, "{caps}: {list:?}");
        let lines = f.lines();
        let append = lines
            .iter()
            .find(|l| l.to_ascii_uppercase().contains(" APPEND "))
            .unwrap();
        assert!(
            append.contains(&format!("\"{wire}\"")),
            "{caps}: APPEND named {append:?}, expected {wire:?}"
        );
        let enabled = lines
            .iter()
            .any(|l| l.to_ascii_uppercase().ends_with(" ENABLE UTF8=ACCEPT"));
        assert_eq!(enabled, enables, "{caps}: {lines:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
