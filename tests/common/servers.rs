//! The interop matrix: the real servers the client tests run against (Dovecot, Cyrus and
//! Courier on 127.0.0.1, started by `.ci/{dovecot,cyrus,courier}.sh`), what each offers, and
//! which test groups a server skips and why. One test body per group, one test per server
//! (`group::dovecot`, `group::cyrus`, `group::courier`, made by `matrix!`).
//!
//! A skip is never silent: it is listed in [`SERVERS`] with its reason, printed when the test
//! runs, and checked against the server (a capability it lacks must still be absent after
//! login; a fixture it lacks must be absent from its env file), so a server that starts
//! offering it fails the test until the table is updated. benches/README.md shows the table.
//!
//! With `IMAPWIRE_RECORD_DIR` set, every connection's received bytes are written to
//! `DIR/<server>/<test>-....imap` (`ReceivedTap`), which `.ci/recordings.sh` decodes with
//! `dissect --server`.

use std::collections::HashMap;
use std::path::PathBuf;

use imapwire_session::client::ReceivedTap;
use imapwire_tokio::record::FileTap;

use super::interop_required;

/// A group of tests run against every server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Every SASL mechanism the server offers, the LOGIN command, `AuthMethod::Auto`.
    Mechanisms,
    /// A wrong password with every password mechanism offered: an authentication failure.
    WrongPassword,
    /// An expired OAuth token: an authentication failure.
    ExpiredToken,
    /// STARTTLS on the plain port, verified with the test CA.
    StartTls,
    /// A self-signed certificate refused (reason, fingerprint), then accepted when pinned.
    SelfSignedPinning,
    /// LIST shows the special-use roles of Sent, Drafts and Trash.
    SpecialUse,
    /// A non-ASCII mailbox name round trip (modified UTF-7), SELECT after APPEND.
    ListAndSelect,
    /// A 2 MiB body fetched in chunks, flags and contents checked.
    StreamedFetch,
    /// MOVE of a message to another mailbox.
    Move,
    /// IDLE reports another client's APPEND; the connection works after DONE.
    Idle,
    /// Synchronisation round trips with a second client (QRESYNC or the RFC 4549 fallback).
    Sync,
    /// Futures dropped at random points leave the connection usable.
    Cancel,
    /// APPEND of 50 MB from a stream and the streamed FETCH back, with bounded memory.
    Append50Mb,
    /// Example client: `capabilities` with each `--auth` mechanism the server offers.
    CliMechanisms,
    /// Example client: a wrong password exits 1.
    CliWrongPassword,
    /// Example client: a self-signed certificate refused, then pinned.
    CliSelfSigned,
    /// Example client: `--tls starttls`.
    CliStartTls,
    /// Example client: `--tls none --insecure-plaintext` (login where the server allows it,
    /// exit 1 where it refuses a password before TLS).
    CliPlaintext,
    /// Example client: list, append, select, fetch, idle.
    CliMailbox,
    /// Example client: sync, local, mark, delete and the next sync uploading them.
    CliSync,
}

/// Why a group does not run against a server; checked against the server when the test runs.
#[derive(Debug, Clone, Copy)]
pub enum Skip {
    /// The server does not offer this capability (after login).
    Lacks(&'static str),
    /// The server's fixture has no such entry in its env file (`<KEY>_<entry>`).
    NoFixture(&'static str),
}

/// What the tests know of one server.
#[derive(Debug)]
pub struct Spec {
    /// `dovecot`, `cyrus`, `courier`.
    pub name: &'static str,
    /// The variable naming the env file.
    pub env: &'static str,
    /// Prefix of the env file's keys.
    pub key: &'static str,
    /// Prefix of personal mailboxes (Courier's namespace is `INBOX.`).
    pub prefix: &'static str,
    /// Hierarchy delimiter.
    pub delimiter: &'static str,
    /// Capabilities offered after login (checked at every login of the tests).
    pub offers: &'static [&'static str],
    /// Capabilities not offered after login (checked likewise): the groups' code takes the
    /// other path for them (no HIGHESTMODSEQ without CONDSTORE, a full sync without QRESYNC).
    pub lacks: &'static [&'static str],
    /// Mechanisms the server offers that the client does not implement, and why.
    pub unimplemented: &'static [(&'static str, &'static str)],
    /// Users whose password is stored as a hash, with the mechanism that must work for them.
    pub hashed_users: &'static [(&'static str, &'static str)],
    /// The mechanism `AuthMethod::Auto` picks (uppercase).
    pub auto: &'static str,
    /// Mechanisms the server offers but refuses with what the client sends, and why (the
    /// tests check that they still fail).
    pub refused: &'static [(&'static str, &'static str)],
    /// The mechanism the tests log in with when `auto` is refused (`None`: auto).
    pub login_with: Option<&'static str>,
    /// Whether a password may be sent before TLS (the client's opt-in given).
    pub plaintext_login: bool,
    /// Whether SELECT reports UIDNEXT (RFC 3501 requires it; Courier leaves it out).
    pub select_uidnext: bool,
    /// How often the server looks for changes during IDLE, in seconds (0: told at once).
    pub idle_poll_seconds: u64,
    /// Groups skipped, how the reason is checked, and the reason.
    pub skips: &'static [(Group, Skip, &'static str)],
}

/// Why Cyrus refuses the `-PLUS` mechanisms of the client.
const CYRUS_PLUS: &str = "Cyrus 3.6 binds only tls-unique (its libcyrus_imap names no other \
     type), which TLS 1.3 does not define and rustls does not expose; the client binds \
     tls-exporter (RFC 9266) on TLS 1.3, tls-server-end-point on TLS 1.2 (auto skips them: \
     imapwire_session::profile)";

/// The servers of the matrix.
pub const SERVERS: [Spec; 3] = [
    Spec {
        name: "dovecot",
        env: "IMAPWIRE_DOVECOT",
        key: "DOVECOT",
        prefix: "",
        delimiter: "/",
        offers: &[
            "IDLE",
            "UIDPLUS",
            "MOVE",
            "CONDSTORE",
            "QRESYNC",
            "SPECIAL-USE",
            "COMPRESS=DEFLATE",
        ],
        lacks: &[],
        unimplemented: &[],
        hashed_users: &[("bob", "SCRAM-SHA-256"), ("carol", "CRAM-MD5")],
        auto: "SCRAM-SHA-256",
        refused: &[],
        login_with: None,
        plaintext_login: true,
        select_uidnext: true,
        idle_poll_seconds: 0,
        skips: &[],
    },
    Spec {
        name: "cyrus",
        env: "IMAPWIRE_CYRUS",
        key: "CYRUS",
        prefix: "",
        delimiter: "/",
        offers: &[
            "IDLE",
            "UIDPLUS",
            "MOVE",
            "CONDSTORE",
            "QRESYNC",
            "SPECIAL-USE",
            "COMPRESS=DEFLATE",
        ],
        lacks: &["AUTH=OAUTHBEARER", "AUTH=XOAUTH2"],
        unimplemented: &[(
            "DIGEST-MD5",
            "the client does not implement DIGEST-MD5 (obsolete, RFC 6331)",
        )],
        hashed_users: &[],
        // The server profile (Cyrus up to 3.12: -PLUS verifies only tls-unique) steers auto
        // to plain SCRAM; -PLUS asked for by name is still sent and refused.
        auto: "SCRAM-SHA-256",
        refused: &[
            ("SCRAM-SHA-1-PLUS", CYRUS_PLUS),
            ("SCRAM-SHA-256-PLUS", CYRUS_PLUS),
        ],
        login_with: None,
        plaintext_login: false,
        select_uidnext: true,
        idle_poll_seconds: 5,
        skips: &[
            (
                Group::ExpiredToken,
                Skip::Lacks("AUTH=OAUTHBEARER"),
                "no OAuth mechanism (the fixture's SASL has no token plugin)",
            ),
            (
                Group::SelfSignedPinning,
                Skip::NoFixture("SELFSIGNED_PORT"),
                "no self-signed listener in .ci/cyrus.sh (certificate checks are the client's; run against Dovecot)",
            ),
            (
                Group::CliSelfSigned,
                Skip::NoFixture("SELFSIGNED_PORT"),
                "no self-signed listener in .ci/cyrus.sh (certificate checks are the client's; run against Dovecot)",
            ),
        ],
    },
    Spec {
        name: "courier",
        env: "IMAPWIRE_COURIER",
        key: "COURIER",
        prefix: "INBOX.",
        delimiter: ".",
        offers: &["IDLE", "UIDPLUS"],
        lacks: &[
            "MOVE",
            "CONDSTORE",
            "QRESYNC",
            "SPECIAL-USE",
            "COMPRESS=DEFLATE",
            "AUTH=OAUTHBEARER",
        ],
        unimplemented: &[],
        hashed_users: &[],
        auto: "PLAIN",
        refused: &[],
        login_with: None,
        plaintext_login: false,
        select_uidnext: false,
        idle_poll_seconds: 5,
        skips: &[
            (
                Group::ExpiredToken,
                Skip::Lacks("AUTH=OAUTHBEARER"),
                "no OAuth mechanism",
            ),
            (
                Group::SelfSignedPinning,
                Skip::NoFixture("SELFSIGNED_PORT"),
                "no self-signed listener in .ci/courier.sh (certificate checks are the client's; run against Dovecot)",
            ),
            (
                Group::CliSelfSigned,
                Skip::NoFixture("SELFSIGNED_PORT"),
                "no self-signed listener in .ci/courier.sh (certificate checks are the client's; run against Dovecot)",
            ),
            (
                Group::SpecialUse,
                Skip::Lacks("SPECIAL-USE"),
                "no SPECIAL-USE (RFC 6154)",
            ),
            (Group::Move, Skip::Lacks("MOVE"), "no MOVE (RFC 6851)"),
        ],
    },
];

/// One server of the table, its env file read.
#[derive(Debug, Clone)]
pub struct Server {
    pub spec: &'static Spec,
    vars: HashMap<String, String>,
    /// The test's name (for recordings and messages).
    pub test: String,
}

/// What a test of a group does with a server: run, or skip for this reason (already
/// printed; check it with [`Server::check_skip`]).
pub enum Run {
    Go(Server),
    Skip(Server, Skip),
    /// The env file is missing (and interop is not required): nothing to run.
    Absent,
}

impl Server {
    /// The server `name` for `group`'s test: its env file read; `Absent` (said why) when the
    /// variable is unset, a panic under `IMAPWIRE_REQUIRE_INTEROP=1`.
    pub fn for_group(name: &str, group: Group) -> Run {
        let spec = SERVERS
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no server {name} in the table"));
        let test = format!("{group:?}::{name}");
        let Some(path) = std::env::var_os(spec.env) else {
            let why = format!(
                "{} is not set (run `.ci/{name}.sh start` and export {}=/tmp/imapwire-{name}/env)",
                spec.env, spec.env
            );
            if interop_required() {
                panic!("{test}: {why}, and IMAPWIRE_REQUIRE_INTEROP=1");
            }
            eprintln!("{test}: skipped: {why}");
            return Run::Absent;
        };
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{test}: reading {}={path:?}: {e}", spec.env));
        let vars = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let server = Server { spec, vars, test };
        match spec.skips.iter().find(|(g, _, _)| *g == group) {
            Some((_, skip, why)) => {
                eprintln!("{}: skipped: {why}", server.test);
                Run::Skip(server, *skip)
            }
            None => Run::Go(server),
        }
    }

    /// Dovecot for a test that only it can run (instance restarts through `.ci/dovecot.sh`):
    /// `None` (said why) when `IMAPWIRE_DOVECOT` is unset, a panic under
    /// `IMAPWIRE_REQUIRE_INTEROP=1`.
    pub fn dovecot_only(test: &str) -> Option<Server> {
        let d = super::Dovecot::from_env(test)?;
        Some(Server {
            spec: &SERVERS[0],
            vars: d.vars().clone(),
            test: format!("{test}::dovecot"),
        })
    }

    /// `.ci/dovecot.sh stop-instance|start-instance NAME` (Dovecot only).
    pub fn ctl(&self, verb: &str, instance: &str) {
        let status = std::process::Command::new(self.var("CTL"))
            .args([verb, instance, self.var("DIR")])
            .status()
            .expect("running the Dovecot control script");
        assert!(status.success(), "{verb} {instance}: {status}");
    }

    /// `<KEY>_<suffix>` from the env file.
    pub fn var(&self, suffix: &str) -> &str {
        let key = format!("{}_{suffix}", self.spec.key);
        self.vars
            .get(&key)
            .unwrap_or_else(|| panic!("{}: the env file has no {key}", self.spec.name))
    }

    /// Whether the env file has `<KEY>_<suffix>`.
    pub fn has_var(&self, suffix: &str) -> bool {
        self.vars
            .contains_key(&format!("{}_{suffix}", self.spec.key))
    }

    pub fn port(&self, suffix: &str) -> u16 {
        self.var(suffix).parse().expect("a port number")
    }

    pub fn host(&self) -> &str {
        self.var("HOST")
    }

    pub fn ca(&self) -> PathBuf {
        PathBuf::from(self.var("CA"))
    }

    pub fn password(&self) -> &str {
        self.var("PASSWORD")
    }

    /// The SASL mechanisms the server offers (uppercase).
    pub fn mechanisms(&self) -> Vec<String> {
        self.var("MECHANISMS")
            .split(',')
            .map(|m| m.trim().to_ascii_uppercase())
            .collect()
    }

    /// Why the server refuses `mechanism` from the client, when the table says it does.
    pub fn refused(&self, mechanism: &str) -> Option<&'static str> {
        self.spec
            .refused
            .iter()
            .find(|(m, _)| m.eq_ignore_ascii_case(mechanism))
            .map(|(_, why)| *why)
    }

    /// Whether the table says the server offers `cap` (checked at login by the tests).
    pub fn offers(&self, cap: &str) -> bool {
        self.spec.offers.iter().any(|c| c.eq_ignore_ascii_case(cap))
    }

    /// A personal mailbox name (with the server's namespace prefix).
    pub fn mailbox(&self, name: &str) -> String {
        format!("{}{name}", self.spec.prefix)
    }

    /// The capabilities after login agree with the table: every one of `offers` present,
    /// none of `lacks`.
    pub fn check_capabilities(&self, has: impl Fn(&str) -> bool) {
        for c in self.spec.offers {
            assert!(
                has(c),
                "{}: {c} is not offered (the table says it is)",
                self.test
            );
        }
        for c in self.spec.lacks {
            assert!(
                !has(c),
                "{}: {c} is offered now: update the table in tests/common/servers.rs and the matrix in benches/README.md",
                self.test
            );
        }
    }

    /// Checks a skip's reason: a lacked capability is absent after login (`has` asks the
    /// logged-in connection), a missing fixture is absent from the env file.
    pub fn check_skip(&self, skip: Skip, has: Option<&dyn Fn(&str) -> bool>) {
        match skip {
            Skip::Lacks(cap) => {
                let has = has.expect("a logged-in connection to check a lacked capability");
                assert!(
                    !has(cap),
                    "{}: skipped for lacking {cap}, but the server offers it: update the table",
                    self.test
                );
                assert!(
                    self.spec.lacks.contains(&cap),
                    "{}: {cap} is not in the server's `lacks`",
                    self.test
                );
            }
            Skip::NoFixture(suffix) => assert!(
                !self.has_var(suffix),
                "{}: skipped for lacking {suffix}, but the env file has it: update the table",
                self.test
            ),
        }
    }

    /// Where this connection's received bytes go, when `IMAPWIRE_RECORD_DIR` is set.
    pub fn record_file(&self) -> Option<PathBuf> {
        record_file(self.spec.name, &self.test)
    }

    /// A tap recording into a fresh file, when `IMAPWIRE_RECORD_DIR` is set.
    pub fn tap(&self) -> Option<ReceivedTap> {
        self.record_file().map(|p| file_tap(&p))
    }
}

/// A fresh file `DIR/<server>/<test>-<unique>.imap` when `IMAPWIRE_RECORD_DIR` is set.
pub fn record_file(server: &str, test: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("IMAPWIRE_RECORD_DIR")?).join(server);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {dir:?}: {e}"));
    let name = super::unique(&test.replace("::", "-"));
    Some(dir.join(format!("{name}.imap")))
}

/// A tap writing to `path` (created now). A failed write fails the recording loudly: the file
/// is removed and the failure printed (`FileTap`'s failure policy), and `.ci/recordings.sh`
/// then finds fewer files.
pub fn file_tap(path: &std::path::Path) -> ReceivedTap {
    FileTap::create(path)
        .unwrap_or_else(|e| panic!("creating {path:?}: {e}"))
        .remove_on_failure(true)
        .on_failure(|path, e| eprintln!("recording {path:?}: {e}; removed"))
        .tap()
}

/// One test per server for each group: `matrix!(async; group_fn => X, ...)` makes module
/// `group_fn` with the tests `dovecot`, `cyrus` and `courier`, each calling
/// `group_fn(Server::for_group(name, Group::X))` (`#[tokio::test]` with `async`, `#[test]`
/// with `sync`).
#[macro_export]
macro_rules! matrix {
    (async; $($f:ident => $group:ident),* $(,)?) => {
        $(
            mod $f {
                use $crate::common::servers::{Group, Server};
                #[tokio::test]
                async fn dovecot() {
                    super::$f(Server::for_group("dovecot", Group::$group)).await
                }
                #[tokio::test]
                async fn cyrus() {
                    super::$f(Server::for_group("cyrus", Group::$group)).await
                }
                #[tokio::test]
                async fn courier() {
                    super::$f(Server::for_group("courier", Group::$group)).await
                }
            }
        )*
    };
    (sync; $($f:ident => $group:ident),* $(,)?) => {
        $(
            mod $f {
                use $crate::common::servers::{Group, Server};
                #[test]
                fn dovecot() {
                    super::$f(Server::for_group("dovecot", Group::$group))
                }
                #[test]
                fn cyrus() {
                    super::$f(Server::for_group("cyrus", Group::$group))
                }
                #[test]
                fn courier() {
                    super::$f(Server::for_group("courier", Group::$group))
                }
            }
        )*
    };
}
