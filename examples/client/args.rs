//! The command line of the example client (issue 14's "Example client" contract).
//!
//! `client [OPTIONS] ACTION [ARGS] [ACTION-OPTIONS]`: options before the action; after it,
//! positional arguments and the action's own options. A value after an option, and every
//! positional argument that does not start with `--` (such as `-\Flagged`), is taken as it is.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// How the connection is secured (`--tls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    Implicit,
    Starttls,
    None,
}

/// The SASL mechanism or LOGIN command (`--auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Auto,
    Plain,
    Login,
    ScramSha256,
    ScramSha1,
    CramMd5,
    XOAuth2,
    OAuthBearer,
}

impl Auth {
    /// The lowercase name used on the command line and printed by `capabilities`.
    pub fn name(self) -> &'static str {
        match self {
            Auth::Auto => "auto",
            Auth::Plain => "plain",
            Auth::Login => "login",
            Auth::ScramSha256 => "scram-sha-256",
            Auth::ScramSha1 => "scram-sha-1",
            Auth::CramMd5 => "cram-md5",
            Auth::XOAuth2 => "xoauth2",
            Auth::OAuthBearer => "oauthbearer",
        }
    }

    /// Every `--auth` value, in the contract's order.
    const ALL: [Auth; 8] = [
        Auth::Auto,
        Auth::Plain,
        Auth::Login,
        Auth::ScramSha256,
        Auth::ScramSha1,
        Auth::CramMd5,
        Auth::XOAuth2,
        Auth::OAuthBearer,
    ];

    fn parse(s: &str) -> Option<Auth> {
        Self::ALL.into_iter().find(|a| a.name() == s)
    }

    /// The `--auth` name for what authentication used: a SASL mechanism name such as
    /// `SCRAM-SHA-256-PLUS` (case-insensitive), or `LOGIN` for the LOGIN command. A `-PLUS`
    /// variant is its mechanism with channel binding, named as the mechanism (`--auth`
    /// has no `-plus` names; `capabilities` prints `--auth` names only). `None` for a name
    /// that is not one of ours.
    pub fn for_mechanism(used: &str) -> Option<Auth> {
        let upper = used.trim().to_ascii_uppercase();
        let base = upper.strip_suffix("-PLUS").unwrap_or(&upper);
        Self::ALL
            .into_iter()
            .filter(|a| *a != Auth::Auto)
            .find(|a| a.name().eq_ignore_ascii_case(base))
    }

    /// Whether the mechanism takes an OAuth token rather than a password.
    pub fn uses_token(self) -> bool {
        matches!(self, Auth::XOAuth2 | Auth::OAuthBearer)
    }
}

/// A flag change of `mark`: `+FLAG` adds, `-FLAG` removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagChange {
    pub add: bool,
    pub flag: String,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Capabilities,
    List,
    Select {
        mailbox: String,
    },
    Fetch {
        mailbox: String,
        uids: String,
    },
    Append {
        mailbox: String,
        file: PathBuf,
        flags: Vec<String>,
    },
    Idle {
        mailbox: String,
        seconds: u64,
    },
    Sync {
        mailbox: String,
        dir: PathBuf,
    },
    Local {
        dir: PathBuf,
    },
    Mark {
        dir: PathBuf,
        uid: u32,
        changes: Vec<FlagChange>,
    },
    Delete {
        dir: PathBuf,
        uid: u32,
    },
}

impl Action {
    /// Whether the action talks to the server (`local`, `mark`, `delete` only touch DIR).
    pub fn needs_server(&self) -> bool {
        !matches!(
            self,
            Action::Local { .. } | Action::Mark { .. } | Action::Delete { .. }
        )
    }
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub insecure_plaintext: bool,
    pub ca: Vec<PathBuf>,
    pub pins: Vec<String>,
    pub user: Option<String>,
    pub auth: Auth,
    pub timeout: Duration,
    /// `--record FILE`: what the server sends is written there.
    pub record: Option<PathBuf>,
    pub action: Action,
}

/// What the command line asked for.
#[derive(Debug)]
pub enum Parsed {
    Run(Box<Args>),
    Help,
}

pub const USAGE: &str = "\
usage: client [OPTIONS] ACTION [ARGS] [ACTION-OPTIONS]

options (before the action):
  --host HOST            server (default 127.0.0.1)
  --port PORT            default 993 for --tls implicit, 143 otherwise
  --tls implicit|starttls|none
                         default implicit; none also needs --insecure-plaintext
  --insecure-plaintext   allow --tls none (passwords and mail readable on the network)
  --ca FILE              an extra PEM trust anchor (repeatable)
  --pin sha256:HEX       accept the certificate with this SHA-256 fingerprint (repeatable)
  --user NAME            the account; the password comes from IMAP_PASSWORD, a token from IMAP_TOKEN
  --auth auto|plain|login|scram-sha-256|scram-sha-1|cram-md5|xoauth2|oauthbearer
  --timeout SECONDS      longest wait for any one network step (default 30)
  --record FILE          write what the server sends (after TLS, decompressed) to FILE,
                         the input of `dissect --server FILE`

actions:
  capabilities
  list
  select MAILBOX
  fetch MAILBOX UIDSET
  append MAILBOX FILE [--flag FLAG]...
  idle MAILBOX --seconds N
  sync MAILBOX DIR
  local DIR
  mark DIR UID FLAGCHANGE...     (+\\Seen, -\\Flagged, +$Label)
  delete DIR UID

Output: one JSON object per line. Exit 0 on success, 2 on a usage error, 1 on any other failure.
";

/// Parses the arguments after the program name. `Err` is a usage error's message.
pub fn parse(argv: impl IntoIterator<Item = OsString>) -> Result<Parsed, String> {
    let mut it = Vec::new();
    for a in argv {
        match a.into_string() {
            Ok(s) => it.push(s),
            Err(a) => return Err(format!("argument {a:?} is not valid UTF-8")),
        }
    }
    let mut it = it.into_iter().peekable();

    let mut host = "127.0.0.1".to_owned();
    let mut port = None;
    let mut tls = Tls::Implicit;
    let mut insecure_plaintext = false;
    let mut ca = Vec::new();
    let mut pins = Vec::new();
    let mut user = None;
    let mut auth = Auth::Auto;
    let mut timeout = Duration::from_secs(30);
    let mut record = None;

    // Options before the action.
    let action_name = loop {
        let Some(arg) = it.next() else {
            return Err("no action given".into());
        };
        if arg == "-h" || arg == "--help" {
            return Ok(Parsed::Help);
        }
        if !arg.starts_with("--") {
            break arg;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        if name == "--insecure-plaintext" {
            if inline.is_some() {
                return Err("--insecure-plaintext takes no value".into());
            }
            insecure_plaintext = true;
            continue;
        }
        let mut value = || -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it.next().ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match name.as_str() {
            "--host" => {
                host = value()?;
                if host.is_empty() {
                    return Err("--host is empty".into());
                }
            }
            "--port" => {
                let v = value()?;
                port =
                    Some(v.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| {
                        format!("--port {v:?}: expected a number from 1 to 65535")
                    })?);
            }
            "--tls" => {
                let v = value()?;
                tls = match v.as_str() {
                    "implicit" => Tls::Implicit,
                    "starttls" => Tls::Starttls,
                    "none" => Tls::None,
                    _ => return Err(format!("--tls {v:?}: expected implicit, starttls or none")),
                };
            }
            "--ca" => ca.push(PathBuf::from(value()?)),
            "--pin" => {
                let v = value()?;
                let hex = v.strip_prefix("sha256:").unwrap_or("");
                if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                    return Err(format!(
                        "--pin {v:?}: expected sha256: followed by 64 lowercase hex digits"
                    ));
                }
                pins.push(v);
            }
            "--user" => user = Some(value()?),
            "--auth" => {
                let v = value()?;
                auth = Auth::parse(&v).ok_or_else(|| {
                    format!(
                        "--auth {v:?}: expected auto, plain, login, scram-sha-256, scram-sha-1, \
                         cram-md5, xoauth2 or oauthbearer"
                    )
                })?;
            }
            "--timeout" => {
                let v = value()?;
                timeout = v
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| {
                        format!("--timeout {v:?}: expected a number of seconds above 0")
                    })?;
            }
            "--record" => {
                let v = value()?;
                if v.is_empty() {
                    return Err("--record is empty".into());
                }
                record = Some(PathBuf::from(v));
            }
            _ => return Err(format!("unknown option {name}")),
        }
    };

    // The action: positional arguments and the action's options (`--flag`, `--seconds`).
    let mut positional = Vec::new();
    let mut flags = Vec::new();
    let mut seconds = None;
    let mut only_positional = false;
    while let Some(arg) = it.next() {
        if only_positional || !arg.starts_with("--") {
            positional.push(arg);
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let value = match inline {
            Some(v) => v,
            None => it.next().ok_or_else(|| format!("{name} needs a value"))?,
        };
        match (action_name.as_str(), name.as_str()) {
            ("append", "--flag") => {
                if value.is_empty() {
                    return Err("--flag is empty".into());
                }
                flags.push(value)
            }
            ("idle", "--seconds") => {
                seconds = Some(value.parse::<u64>().map_err(|_| {
                    format!("--seconds {value:?}: expected a whole number of seconds")
                })?)
            }
            _ => return Err(format!("{action_name} has no option {name}")),
        }
    }

    let want = |n: usize, shape: &str| -> Result<(), String> {
        if positional.len() == n {
            Ok(())
        } else {
            Err(format!(
                "{action_name} takes {shape}, got {} argument(s)",
                positional.len()
            ))
        }
    };
    let mut pos = positional.clone().into_iter();
    let mut next = || pos.next().expect("counted above");
    let action = match action_name.as_str() {
        "capabilities" => {
            want(0, "no arguments")?;
            Action::Capabilities
        }
        "list" => {
            want(0, "no arguments")?;
            Action::List
        }
        "select" => {
            want(1, "MAILBOX")?;
            Action::Select {
                mailbox: mailbox(next())?,
            }
        }
        "fetch" => {
            want(2, "MAILBOX UIDSET")?;
            let mailbox = mailbox(next())?;
            let uids = next();
            check_uid_set(&uids)?;
            Action::Fetch { mailbox, uids }
        }
        "append" => {
            want(2, "MAILBOX FILE")?;
            Action::Append {
                mailbox: mailbox(next())?,
                file: PathBuf::from(next()),
                flags,
            }
        }
        "idle" => {
            want(1, "MAILBOX")?;
            let seconds = seconds.ok_or("idle needs --seconds N")?;
            Action::Idle {
                mailbox: mailbox(next())?,
                seconds,
            }
        }
        "sync" => {
            want(2, "MAILBOX DIR")?;
            Action::Sync {
                mailbox: mailbox(next())?,
                dir: PathBuf::from(next()),
            }
        }
        "local" => {
            want(1, "DIR")?;
            Action::Local {
                dir: PathBuf::from(next()),
            }
        }
        "mark" => {
            if positional.len() < 3 {
                return Err("mark takes DIR UID FLAGCHANGE...".into());
            }
            let dir = PathBuf::from(next());
            let uid = parse_uid(&next())?;
            let changes = positional[2..]
                .iter()
                .map(|c| flag_change(c))
                .collect::<Result<_, _>>()?;
            Action::Mark { dir, uid, changes }
        }
        "delete" => {
            want(2, "DIR UID")?;
            Action::Delete {
                dir: PathBuf::from(next()),
                uid: parse_uid(&next())?,
            }
        }
        other => return Err(format!("unknown action {other:?}")),
    };

    if tls == Tls::None && !insecure_plaintext {
        return Err(
            "--tls none sends the password and mail unencrypted; add --insecure-plaintext to allow it"
                .into(),
        );
    }
    if action.needs_server() && user.is_none() {
        return Err(format!("{action_name} needs --user NAME"));
    }
    let port = port.unwrap_or(match tls {
        Tls::Implicit => 993,
        _ => 143,
    });
    Ok(Parsed::Run(Box::new(Args {
        host,
        port,
        tls,
        insecure_plaintext,
        ca,
        pins,
        user,
        auth,
        timeout,
        record,
        action,
    })))
}

fn mailbox(s: String) -> Result<String, String> {
    if s.is_empty() {
        return Err("the mailbox name is empty".into());
    }
    if s.chars().any(|c| c.is_control()) {
        return Err(format!("mailbox name {s:?} holds a control character"));
    }
    Ok(s)
}

fn parse_uid(s: &str) -> Result<u32, String> {
    s.parse::<u32>()
        .ok()
        .filter(|u| *u != 0)
        .ok_or_else(|| format!("UID {s:?}: expected a number from 1 to 4294967295"))
}

/// `sequence-set` of RFC 9051 §9 over UIDs: `1`, `2:5`, `7:*`, `*`, comma-separated.
fn check_uid_set(s: &str) -> Result<(), String> {
    let bad = || format!("UIDSET {s:?}: expected UIDs and ranges such as 1,4:7,10:*");
    if s.is_empty() {
        return Err(bad());
    }
    for part in s.split(',') {
        let mut ends = part.splitn(2, ':');
        for end in ends.by_ref() {
            if end != "*" && parse_uid(end).is_err() {
                return Err(bad());
            }
        }
    }
    Ok(())
}

fn flag_change(s: &str) -> Result<FlagChange, String> {
    let (add, flag) = match s.as_bytes().first() {
        Some(b'+') => (true, &s[1..]),
        Some(b'-') => (false, &s[1..]),
        _ => return Err(format!("flag change {s:?}: expected +FLAG or -FLAG")),
    };
    valid_flag(flag).map_err(|e| format!("flag change {s:?}: {e}"))?;
    if flag.eq_ignore_ascii_case("\\Recent") {
        return Err(format!(
            "flag change {s:?}: \\Recent cannot be set or cleared"
        ));
    }
    Ok(FlagChange {
        add,
        flag: flag.to_owned(),
    })
}

/// A flag as RFC 9051 §9 writes it: `\Atom` or an atom (keyword).
pub fn valid_flag(flag: &str) -> Result<(), String> {
    let atom = flag.strip_prefix('\\').unwrap_or(flag);
    if atom.is_empty() {
        return Err("empty flag".into());
    }
    if let Some(c) = atom
        .chars()
        .find(|c| !c.is_ascii_graphic() || "(){%*\"\\]".contains(*c))
    {
        return Err(format!("{c:?} cannot appear in a flag"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Parsed, String> {
        parse(args.iter().map(OsString::from))
    }

    fn run(args: &[&str]) -> Args {
        match p(args) {
            Ok(Parsed::Run(a)) => *a,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults_and_ports() {
        let a = run(&["--user", "u", "list"]);
        assert_eq!(
            (a.host.as_str(), a.port, a.tls),
            ("127.0.0.1", 993, Tls::Implicit)
        );
        assert_eq!(a.timeout, Duration::from_secs(30));
        assert_eq!(a.record, None);
        let r = run(&["--record", "/tmp/s.imap", "--user", "u", "list"]);
        assert_eq!(r.record, Some(PathBuf::from("/tmp/s.imap")));
        assert_eq!(run(&["--tls", "starttls", "--user", "u", "list"]).port, 143);
        assert_eq!(
            run(&["--tls=starttls", "--port=1143", "--user", "u", "list"]).port,
            1143
        );
    }

    #[test]
    fn plaintext_needs_opt_in() {
        let e = p(&["--tls", "none", "--user", "u", "list"]).unwrap_err();
        assert!(e.contains("--insecure-plaintext"), "{e}");
        let a = run(&[
            "--tls",
            "none",
            "--insecure-plaintext",
            "--user",
            "u",
            "list",
        ]);
        assert_eq!((a.tls, a.port), (Tls::None, 143));
    }

    #[test]
    fn values_starting_with_dash() {
        let a = run(&["--user", "-odd", "local", "/tmp/x"]);
        assert_eq!(a.user.as_deref(), Some("-odd"));
        let a = run(&["mark", "d", "7", "-\\Flagged", "+\\Seen", "+$Label"]);
        let Action::Mark { uid, changes, .. } = a.action else {
            panic!()
        };
        assert_eq!(uid, 7);
        assert_eq!(
            changes,
            vec![
                FlagChange {
                    add: false,
                    flag: "\\Flagged".into()
                },
                FlagChange {
                    add: true,
                    flag: "\\Seen".into()
                },
                FlagChange {
                    add: true,
                    flag: "$Label".into()
                },
            ]
        );
        let a = run(&[
            "--user", "u", "append", "INBOX", "f", "--flag", "-odd", "--flag", "\\Seen",
        ]);
        let Action::Append { flags, .. } = a.action else {
            panic!()
        };
        assert_eq!(flags, ["-odd", "\\Seen"]);
    }

    #[test]
    fn usage_errors() {
        for bad in [
            &[][..],
            &["frobnicate"],
            &["--user", "u", "select"],
            &["--user", "u", "select", "A", "B"],
            &["--user", "u", "idle", "INBOX"],
            &["--user", "u", "idle", "INBOX", "--seconds", "x"],
            &["--user", "u", "fetch", "INBOX", "1:x"],
            &["--user", "u", "fetch", "INBOX", ""],
            &["--port", "0", "--user", "u", "list"],
            &["--port", "70000", "--user", "u", "list"],
            &["--tls", "ssl", "--user", "u", "list"],
            &["--auth", "gssapi", "--user", "u", "list"],
            &["--pin", "sha256:ABC", "--user", "u", "list"],
            &["--timeout", "0", "--user", "u", "list"],
            &["--record", "", "--user", "u", "list"],
            &["--user"],
            &["list"],
            &["--bogus", "list"],
            &["--user", "u", "list", "--flag", "x"],
            &["mark", "d", "0", "+\\Seen"],
            &["mark", "d", "5"],
            &["mark", "d", "5", "\\Seen"],
            &["mark", "d", "5", "+\\Recent"],
            &["mark", "d", "5", "+a b"],
            &["delete", "d"],
        ] {
            assert!(p(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn printed_mechanisms_are_auth_names() {
        for (used, name) in [
            ("SCRAM-SHA-256-PLUS", "scram-sha-256"),
            ("SCRAM-SHA-256", "scram-sha-256"),
            ("scram-sha-1-plus", "scram-sha-1"),
            ("SCRAM-SHA-1", "scram-sha-1"),
            ("PLAIN", "plain"),
            ("LOGIN", "login"),
            ("CRAM-MD5", "cram-md5"),
            ("XOAUTH2", "xoauth2"),
            ("OAUTHBEARER", "oauthbearer"),
        ] {
            let a = Auth::for_mechanism(used).unwrap_or_else(|| panic!("{used}"));
            assert_eq!(a.name(), name, "{used}");
            // What is printed is accepted back by --auth.
            assert_eq!(Auth::parse(name), Some(a));
        }
        for other in ["GSSAPI", "PLAIN-PLUS-PLUS", "", "-PLUS", "AUTO"] {
            assert_eq!(Auth::for_mechanism(other), None, "{other}");
        }
    }

    #[test]
    fn uid_sets() {
        for ok in ["1", "1:*", "*", "3,5:7,9", "4294967295"] {
            check_uid_set(ok).unwrap();
        }
        for bad in ["0", "1:", ",1", "a", "1::2", "4294967296"] {
            assert!(check_uid_set(bad).is_err(), "{bad}");
        }
    }
}
