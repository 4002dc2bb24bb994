//! Shared by the interop tests: where Dovecot is (`.ci/dovecot.sh` writes the file that
//! `IMAPWIRE_DOVECOT` names) and where the example client's binary is.
#![allow(dead_code)]

pub mod servers;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

/// Whether CI asked for every interop test to run (`IMAPWIRE_REQUIRE_INTEROP=1`): then a
/// missing program or variable is a failure, not a skip.
pub fn interop_required() -> bool {
    std::env::var("IMAPWIRE_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
}

/// The Dovecot started by `.ci/dovecot.sh` (see the keys there).
#[derive(Debug, Clone)]
pub struct Dovecot {
    vars: HashMap<String, String>,
}

impl Dovecot {
    /// Reads the file named by `IMAPWIRE_DOVECOT`. Without it: `None` after saying why, or a
    /// panic under `IMAPWIRE_REQUIRE_INTEROP=1`.
    pub fn from_env(test: &str) -> Option<Dovecot> {
        let Some(path) = std::env::var_os("IMAPWIRE_DOVECOT") else {
            let why = "IMAPWIRE_DOVECOT is not set (run `.ci/dovecot.sh start` and export \
                       IMAPWIRE_DOVECOT=/tmp/imapwire-dovecot/env)";
            if interop_required() {
                panic!("{test}: {why}, and IMAPWIRE_REQUIRE_INTEROP=1");
            }
            eprintln!("{test}: skipped: {why}");
            return None;
        };
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{test}: reading IMAPWIRE_DOVECOT={path:?}: {e}"));
        let vars = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Some(Dovecot { vars })
    }

    /// Every `KEY=VALUE` of the env file.
    pub fn vars(&self) -> &HashMap<String, String> {
        &self.vars
    }

    pub fn var(&self, key: &str) -> &str {
        self.vars
            .get(key)
            .unwrap_or_else(|| panic!("the Dovecot env file has no {key}"))
    }

    pub fn port(&self, key: &str) -> u16 {
        self.var(key).parse().expect("a port number")
    }

    pub fn host(&self) -> &str {
        self.var("DOVECOT_HOST")
    }

    pub fn ca(&self) -> PathBuf {
        PathBuf::from(self.var("DOVECOT_CA"))
    }

    pub fn password(&self) -> &str {
        self.var("DOVECOT_PASSWORD")
    }

    pub fn token(&self, user: &str) -> &str {
        self.var(&format!("DOVECOT_TOKEN_{}", user.to_uppercase()))
    }

    pub fn mechanisms(&self) -> Vec<String> {
        self.var("DOVECOT_MECHANISMS")
            .split(',')
            .map(str::to_owned)
            .collect()
    }

    /// `.ci/dovecot.sh stop-instance|start-instance NAME`. The script's output goes to a file
    /// (shown when it fails), not to the test's: a started Dovecot would keep the test's
    /// output open after the test ends.
    pub fn ctl(&self, verb: &str, instance: &str) {
        let dir = PathBuf::from(self.var("DOVECOT_DIR"));
        let log = dir.join(format!("ctl-{verb}-{instance}.log"));
        let out = std::fs::File::create(&log).expect("the control script's log");
        let status = Command::new(self.var("DOVECOT_CTL"))
            .args([verb, instance, self.var("DOVECOT_DIR")])
            .stdin(std::process::Stdio::null())
            .stdout(out.try_clone().expect("the log file"))
            .stderr(out)
            .status()
            .expect("running the Dovecot control script");
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(status.success(), "{verb} {instance}: {status}\n{said}");
    }
}

/// A name no other test run uses: tests share Dovecot's accounts and run in parallel.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The example client's binary. `cargo test` builds the package's examples next to the test
/// binaries (`target/<profile>/examples/`); when only this test was built, it is built here
/// with the same profile.
pub fn client_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/<test> -> target/<profile>
    let profile_dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("the test binary lives in target/<profile>/deps")
        .to_path_buf();
    let bin = profile_dir
        .join("examples")
        .join(format!("client{}", std::env::consts::EXE_SUFFIX));
    static BUILD: std::sync::Once = std::sync::Once::new();
    BUILD.call_once(|| {
        // `cargo test` without a target filter has just built the examples; a second cargo
        // run would rebuild them with other unified features (minutes in CI). The binary is
        // taken as it is when it is newer than every source it is built from.
        if newer_than_sources(&bin) {
            return;
        }
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--quiet", "--example", "client"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if !cfg!(debug_assertions) {
            cmd.arg("--release");
        }
        // Same target directory as this test, wherever it is.
        if let Some(target) = profile_dir.parent() {
            cmd.arg("--target-dir").arg(target);
        }
        let status = cmd.status().expect("running cargo build --example client");
        assert!(status.success(), "cargo build --example client: {status}");
    });
    assert!(bin.exists(), "{bin:?} missing after cargo build");
    bin
}

/// Whether `bin` was modified after every source file of the workspace's crates and the
/// example client (make's rule: then it was built from them).
fn newer_than_sources(bin: &std::path::Path) -> bool {
    fn newest(dir: &std::path::Path, acc: &mut std::time::SystemTime) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                newest(&path, acc);
            } else if let Ok(m) = e.metadata().and_then(|m| m.modified()) {
                *acc = (*acc).max(m);
            }
        }
    }
    let Ok(built) = std::fs::metadata(bin).and_then(|m| m.modified()) else {
        return false;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut latest = std::time::SystemTime::UNIX_EPOCH;
    for dir in [
        "examples/client",
        "imap-codec/src",
        "imap-session/src",
        "imap-tokio/src",
    ] {
        newest(&root.join(dir), &mut latest);
    }
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "imap-codec/Cargo.toml",
        "imap-session/Cargo.toml",
        "imap-tokio/Cargo.toml",
    ] {
        if let Ok(m) = std::fs::metadata(root.join(file)).and_then(|m| m.modified()) {
            latest = latest.max(m);
        }
    }
    built > latest
}
