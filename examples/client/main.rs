//! An IMAP command-line client on `imapwire-tokio` whose interface other tools drive
//! (issue 14, "Example client"): options before the action, one JSON object per line on stdout,
//! diagnostics on stderr, exit 0 on success, 2 on a usage error, 1 on any other failure.
//!
//! ```text
//! cargo run --release --example client -- --user alice --ca ca.pem list
//! IMAP_PASSWORD=... cargo run --release --example client -- --user alice fetch INBOX 1:*
//! ```
//!
//! Run it without arguments, or with `--help`, for the list of options and actions.

mod args;
mod net;
mod out;
mod replica;
mod sync;

use std::process::ExitCode;

use args::{Args, Auth, Parsed};

/// Why the client stopped: a usage error (exit 2) or a failure (exit 1).
#[derive(Debug)]
pub enum Failure {
    Usage(String),
    Failed(String),
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Failed(e.to_string())
    }
}

/// Credentials from the environment: `IMAP_PASSWORD`, `IMAP_TOKEN`.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: Option<String>,
    pub token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn credentials(args: &Args) -> Result<Credentials, Failure> {
    let user = args.user.clone().unwrap_or_default();
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let c = Credentials {
        user,
        password: env("IMAP_PASSWORD"),
        token: env("IMAP_TOKEN"),
    };
    match args.auth {
        a if a.uses_token() && c.token.is_none() => Err(Failure::Usage(format!(
            "--auth {} needs an OAuth token in IMAP_TOKEN",
            a.name()
        ))),
        Auth::Auto if c.password.is_none() && c.token.is_none() => Err(Failure::Usage(
            "no credentials: set IMAP_PASSWORD (or IMAP_TOKEN for OAuth)".into(),
        )),
        a if !a.uses_token() && a != Auth::Auto && c.password.is_none() => Err(Failure::Usage(
            format!("--auth {} needs a password in IMAP_PASSWORD", a.name()),
        )),
        _ => Ok(c),
    }
}

fn main() -> ExitCode {
    let parsed = match args::parse(std::env::args_os().skip(1)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("client: {e}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let args = match parsed {
        Parsed::Help => {
            print!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Parsed::Run(a) => *a,
    };
    let result = if args.action.needs_server() {
        match credentials(&args) {
            Ok(creds) => net::run(&args, creds),
            Err(e) => Err(e),
        }
    } else {
        net::run_local(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(m)) => {
            eprintln!("client: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(m)) => {
            eprintln!("client: {m}");
            ExitCode::from(1)
        }
    }
}
