//! A scripted plaintext IMAP server on 127.0.0.1 for behaviour the in-memory server cannot
//! show (a server without UNSELECT, a `BYE` with a given code at a given moment): one line in,
//! what the script says out. Commands are read as lines (no literals); `DONE` during IDLE
//! comes as a line of its own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// What the server does next.
#[derive(Debug, Clone)]
pub enum Act {
    /// Writes these bytes.
    Send(String),
    /// Waits.
    Sleep(Duration),
    /// Closes the connection.
    Close,
}

/// A running scripted server.
pub struct Scripted {
    pub port: u16,
    /// Every line received, with the number of the connection it came on (from 0).
    pub lines: Arc<Mutex<Vec<(usize, String)>>>,
    /// Connections accepted.
    pub connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Scripted {
    /// The lines received on connection `n`.
    pub fn lines_of(&self, n: usize) -> Vec<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|(c, _)| *c == n)
            .map(|(_, l)| l.clone())
            .collect()
    }
}

/// Starts a server that greets each connection with `greeting` (a whole line with CRLF) and
/// answers each line with `script(connection, tag, command)`; `command` is the rest of the
/// line after the tag, its first word upper-cased (`DONE` comes with an empty tag).
pub async fn scripted<F>(greeting: &'static str, script: F) -> Scripted
where
    F: Fn(usize, &str, &str) -> Vec<Act> + Send + Sync + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(AtomicUsize::new(0));
    let script = Arc::new(script);
    let (l2, c2) = (lines.clone(), connections.clone());
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let n = c2.fetch_add(1, Ordering::SeqCst);
            let (lines, script) = (l2.clone(), script.clone());
            tokio::spawn(async move {
                let (rd, mut wr) = tcp.into_split();
                let mut rd = BufReader::new(rd);
                if wr.write_all(greeting.as_bytes()).await.is_err() {
                    return;
                }
                let mut line = String::new();
                loop {
                    line.clear();
                    if rd.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let text = line.trim_end().to_owned();
                    lines.lock().unwrap().push((n, text.clone()));
                    let (tag, rest) = if text.eq_ignore_ascii_case("DONE") {
                        ("", "DONE".to_owned())
                    } else {
                        let (tag, rest) = text.split_once(' ').unwrap_or((&text, ""));
                        let (word, args) = rest.split_once(' ').unwrap_or((rest, ""));
                        let word = word.to_ascii_uppercase();
                        let rest = if args.is_empty() {
                            word
                        } else {
                            format!("{word} {args}")
                        };
                        (tag, rest)
                    };
                    for act in script(n, tag, &rest) {
                        match act {
                            Act::Send(s) => {
                                if wr.write_all(s.as_bytes()).await.is_err() {
                                    return;
                                }
                            }
                            Act::Sleep(d) => tokio::time::sleep(d).await,
                            Act::Close => return,
                        }
                    }
                }
            });
        }
    });
    Scripted {
        port,
        lines,
        connections,
        task,
    }
}

/// `Act::Send` of a formatted string.
pub fn send(s: impl Into<String>) -> Act {
    Act::Send(s.into())
}
