//! The client's `tracing` spans (feature `tracing`): one span per command, with its tag and
//! name, and no secret in any recorded field.
//!
//! ```sh
//! cargo test -p imapwire-session --features tracing --test tracing_spans
//! ```
//!
//! Without the feature this file is empty (CI runs it with the feature:
//! `.ci/session-features.sh`).
#![cfg(feature = "tracing")]

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use imapwire_codec::bytes::Bytes;
use imapwire_codec::command::CommandBody;
use imapwire_codec::core::Secret;
use imapwire_session::client::{Client, ClientConfig, Event};
use imapwire_session::sasl::{Credentials, Mechanism, new_client};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Metadata, Subscriber};

/// A span as recorded: its name and every field value given to it.
#[derive(Debug, Clone)]
struct SpanRec {
    name: &'static str,
    fields: Vec<(String, String)>,
}

/// An event as recorded: the innermost span it happened in, and its fields.
#[derive(Debug, Clone)]
struct EventRec {
    span: Option<usize>,
    fields: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct Log {
    spans: Vec<SpanRec>,
    events: Vec<EventRec>,
    stack: Vec<usize>,
}

/// A minimal subscriber that records every span and event (all levels).
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Log>>);

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let mut log = self.0.lock().unwrap();
        let mut fields = Vec::new();
        attrs.record(&mut Fields(&mut fields));
        log.spans.push(SpanRec {
            name: attrs.metadata().name(),
            fields,
        });
        Id::from_u64(log.spans.len() as u64)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut log = self.0.lock().unwrap();
        let i = span.into_u64() as usize - 1;
        values.record(&mut Fields(&mut log.spans[i].fields));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut log = self.0.lock().unwrap();
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        let span = log.stack.last().copied();
        log.events.push(EventRec { span, fields });
    }
    fn enter(&self, span: &Id) {
        self.0
            .lock()
            .unwrap()
            .stack
            .push(span.into_u64() as usize - 1);
    }
    fn exit(&self, _: &Id) {
        self.0.lock().unwrap().stack.pop();
    }
}

impl SpanRec {
    fn field(&self, name: &str) -> Option<&str> {
        // the last value recorded wins (the tag is recorded when the command starts)
        self.fields
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

const PASSWORD: &str = "hunter2-Pa55word";
const TOKEN: &str = "ya29.Very-Secret-Token";

fn exchange(c: &mut Client, now: Instant, server: &[u8]) -> Vec<u8> {
    let _ = c.handle_input(now, server);
    let mut out = Vec::new();
    while let Some(b) = c.poll_transmit(now) {
        out.extend_from_slice(&b);
    }
    out
}

/// Everything the subscriber saw, as one string (to look for secrets in).
fn all_text(log: &Log) -> String {
    format!("{:?} {:?}", log.spans, log.events)
}

#[test]
fn one_span_per_command_with_tag_and_name_and_no_secret() {
    let rec = Recorder::default();
    let log = rec.0.clone();
    let now = Instant::now();
    tracing::subscriber::with_default(rec, || {
        // LOGIN with a password, then a FETCH.
        let mut c = Client::new(ClientConfig::default().with_encrypted(true), now).unwrap();
        let _ = exchange(&mut c, now, b"* OK [CAPABILITY IMAP4rev1] hi\r\n");
        let login = c
            .login(
                now,
                "joe",
                Secret::new(Bytes::from_static(PASSWORD.as_bytes())),
            )
            .unwrap();
        let wire = exchange(&mut c, now, b"");
        assert!(wire.starts_with(b"A0001 LOGIN joe "), "{wire:?}");
        let _ = exchange(&mut c, now, b"A0001 OK [CAPABILITY IMAP4rev1] in\r\n");
        let noop = c.submit(now, CommandBody::Noop).unwrap();
        let wire = exchange(&mut c, now, b"");
        assert_eq!(wire, b"A0002 NOOP\r\n");
        let _ = exchange(&mut c, now, b"A0002 NO [ALERT] not now\r\n");
        let mut done = Vec::new();
        while let Some(ev) = c.poll_event() {
            if let Event::Completed { id, .. } = ev {
                done.push(id);
            }
        }
        assert_eq!(done, [login, noop]);

        // AUTHENTICATE with a token (SASL-IR: the token goes out base64-encoded).
        let mut c = Client::new(ClientConfig::default().with_encrypted(true), now).unwrap();
        let _ = exchange(
            &mut c,
            now,
            b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] hi\r\n",
        );
        let creds = Credentials::token("joe@example.com", Secret::new(TOKEN.to_owned()));
        let m = new_client(Mechanism::XOAuth2, &creds).unwrap();
        c.authenticate(now, m).unwrap();
        let wire = exchange(&mut c, now, b"");
        assert!(wire.starts_with(b"A0001 AUTHENTICATE XOAUTH2 "), "{wire:?}");
        let _ = exchange(&mut c, now, b"A0001 OK [CAPABILITY IMAP4rev1] in\r\n");
    });

    let log = log.lock().unwrap();
    let commands: Vec<&SpanRec> = log
        .spans
        .iter()
        .filter(|s| s.name == "imap_command")
        .collect();
    // LOGIN, NOOP, AUTHENTICATE: one span each, nothing else (the capabilities came with
    // the greetings and the OKs, so no internal CAPABILITY).
    let names: Vec<(Option<&str>, Option<&str>)> = commands
        .iter()
        .map(|s| (s.field("command"), s.field("tag")))
        .collect();
    assert_eq!(
        names,
        [
            (Some("LOGIN"), Some("A0001")),
            (Some("NOOP"), Some("A0002")),
            (Some("AUTHENTICATE"), Some("A0001")),
        ]
    );
    // Each command's completion is an event inside its span, with the outcome.
    let completed: Vec<(usize, Option<String>)> = log
        .events
        .iter()
        .filter(|e| {
            e.fields
                .iter()
                .any(|(n, v)| n == "message" && v == "command completed")
        })
        .map(|e| {
            let ok = e
                .fields
                .iter()
                .find(|(n, _)| n == "ok")
                .map(|(_, v)| v.clone());
            (e.span.expect("completion inside a span"), ok)
        })
        .collect();
    let span_of = |cmd: &str| {
        log.spans
            .iter()
            .position(|s| s.name == "imap_command" && s.field("command") == Some(cmd))
            .unwrap()
    };
    assert_eq!(
        completed,
        [
            (span_of("LOGIN"), Some("true".to_owned())),
            (span_of("NOOP"), Some("false".to_owned())),
            (span_of("AUTHENTICATE"), Some("true".to_owned())),
        ]
    );
    // No secret in any span or event: not the password, not the token, not their base64.
    let text = all_text(&log);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let xoauth = b64.encode(format!(
        "user=joe@example.com\x01auth=Bearer {TOKEN}\x01\x01"
    ));
    for secret in [PASSWORD, TOKEN, xoauth.as_str(), &xoauth[..20]] {
        assert!(!text.contains(secret), "{secret:?} recorded: {text}");
    }
}
