//! `dissect`: decodes a raw byte stream of one direction of an IMAP connection, message by
//! message, and prints what it found.
//!
//! ```text
//! cargo run --release --example dissect -- --server FILE [--json] [--roundtrip] [--strict|--lenient]
//! cargo run --release --example dissect -- --client FILE [...]
//! ```
//!
//! `--server FILE` reads what a server sent (greeting, responses); `--client FILE` what a
//! client sent (commands, AUTHENTICATE data lines, IDLE `DONE`). The stream may start at the
//! greeting or at any message boundary. Decoding is streamed in 16 KiB reads through one
//! `Receiver`, whose expectation is switched as the conversation goes (greeting, then
//! responses; commands, AUTHENTICATE data after AUTHENTICATE, `DONE` after IDLE); a message
//! that does not decode as expected is tried as the other kinds of its side, which covers a
//! capture that starts in the middle of an exchange. Lenient is the
//! default profile for server streams (tolerated defects are printed as warnings), strict for
//! client streams. `--roundtrip` re-encodes every message and checks that it decodes to the
//! same value (for a message with a tolerated defect: to a value with the same encoding). The
//! last line is always `N messages, B bytes, F failures` (with `--json`, where every line is
//! one JSON object: `{"summary":{"messages":N,"bytes":B,"failures":F}}`); the exit status
//! is 1 when F > 0.

use std::io::{Read, Write};
use std::process::ExitCode;

use bytes::Bytes;
use imapwire_codec::Encode;
use imapwire_codec::codec::{AnyMessage, Decoded, Expect, Receiver, StreamError, StreamEvent};
use imapwire_codec::error::{DecodeError, Excerpt};
use imapwire_codec::framer::FramerConfig;
use imapwire_codec::options::DecodeOptions;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Server,
    Client,
}

struct Args {
    side: Side,
    file: String,
    json: bool,
    roundtrip: bool,
    lenient: Option<bool>,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: dissect (--server FILE | --client FILE) [--json] [--roundtrip] [--strict | --lenient]"
    );
    ExitCode::from(2)
}

fn parse_args() -> Option<Args> {
    let mut side = None;
    let mut file = None;
    let mut json = false;
    let mut roundtrip = false;
    let mut lenient = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--server" => {
                side = Some(Side::Server);
                file = it.next();
            }
            "--client" => {
                side = Some(Side::Client);
                file = it.next();
            }
            "--json" => json = true,
            "--roundtrip" => roundtrip = true,
            "--strict" => lenient = Some(false),
            "--lenient" => lenient = Some(true),
            _ => return None,
        }
    }
    Some(Args {
        side: side?,
        file: file?,
        json,
        roundtrip,
        lenient,
    })
}

/// Tracks what the next message of the stream is expected to be.
struct Context {
    side: Side,
    first: bool,
    /// Client side: after AUTHENTICATE, data lines until the next command.
    in_auth: bool,
    /// Client side: after IDLE, `DONE` is expected.
    in_idle: bool,
}

impl Context {
    /// What the next message is expected to be.
    fn expect(&self) -> Expect {
        self.candidates()[0]
    }

    /// The kinds to try for the next message, most likely first.
    fn candidates(&self) -> Vec<Expect> {
        match self.side {
            Side::Server if self.first => vec![Expect::Greeting, Expect::Response],
            Side::Server => vec![Expect::Response],
            // A line that is not a command (no tag and SP) can only be a continuation line,
            // so the other kinds stay as fallbacks: that also covers a capture that starts in
            // the middle of an AUTHENTICATE or IDLE exchange.
            Side::Client if self.in_auth => {
                vec![Expect::AuthenticateData, Expect::Command, Expect::IdleDone]
            }
            Side::Client if self.in_idle => {
                vec![Expect::IdleDone, Expect::Command, Expect::AuthenticateData]
            }
            Side::Client => vec![Expect::Command, Expect::IdleDone, Expect::AuthenticateData],
        }
    }

    fn advance(&mut self, m: &AnyMessage) {
        self.first = false;
        match m {
            AnyMessage::Command(c) => {
                // The command name is the second token of its encoding.
                let enc = c.to_vec_inline_literals();
                let name = enc
                    .split(|&b| b == b' ' || b == b'\r')
                    .nth(1)
                    .unwrap_or(b"")
                    .to_ascii_uppercase();
                self.in_auth = name == b"AUTHENTICATE";
                self.in_idle = name == b"IDLE";
            }
            AnyMessage::IdleDone(_) => self.in_idle = false,
            AnyMessage::AuthenticateData(_) => {}
            _ => {}
        }
    }
}

struct Stats {
    messages: u64,
    failures: u64,
}

fn main() -> ExitCode {
    let Some(args) = parse_args() else {
        return usage();
    };
    let mut file = match std::fs::File::open(&args.file) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("dissect: {}: {e}", args.file);
            return ExitCode::from(2);
        }
    };
    let lenient = args.lenient.unwrap_or(args.side == Side::Server);
    let opts = if lenient {
        DecodeOptions::lenient()
    } else {
        DecodeOptions::strict()
    };
    let mut rx = Receiver::new(FramerConfig::default(), opts.clone(), Expect::Greeting);
    let mut ctx = Context {
        side: args.side,
        first: true,
        in_auth: false,
        in_idle: false,
    };
    let mut stats = Stats {
        messages: 0,
        failures: 0,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut buf = vec![0u8; 16 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                eprintln!("dissect: read error: {e}");
                return ExitCode::from(2);
            }
        };
        total += n as u64;
        rx.push(&buf[..n]);
        loop {
            // the previous message may have changed what comes next
            rx.set_expect(ctx.expect());
            let offset = rx.stream_offset();
            let Some(ev) = rx.next() else {
                break;
            };
            let len = rx.stream_offset() - offset;
            match ev {
                StreamEvent::Message(d) => {
                    stats.messages += 1;
                    handle(
                        &mut out,
                        &args,
                        &mut ctx,
                        &mut stats,
                        offset,
                        len,
                        rx.expect(),
                        d,
                    );
                }
                StreamEvent::Error(StreamError::Decode { error, raw, .. }) => {
                    stats.messages += 1;
                    fallback(
                        &mut out, &args, &opts, &mut ctx, &mut stats, offset, raw, error,
                    );
                }
                StreamEvent::Error(e) => {
                    stats.messages += 1;
                    stats.failures += 1;
                    report_failure(&mut out, args.json, offset, &e.to_string(), None);
                }
                _ => {}
            }
        }
    }
    if rx.buffered() > 0 {
        stats.failures += 1;
        let off = rx.stream_offset();
        report_failure(
            &mut out,
            args.json,
            off,
            &format!(
                "stream ends inside a message ({} bytes unframed)",
                rx.buffered()
            ),
            None,
        );
    }
    if args.json {
        // Every line of `--json` output is one JSON object, the summary too.
        let _ = writeln!(
            out,
            "{{\"summary\":{{\"messages\":{},\"bytes\":{},\"failures\":{}}}}}",
            stats.messages, total, stats.failures
        );
    } else {
        let _ = writeln!(
            out,
            "{} messages, {} bytes, {} failures",
            stats.messages, total, stats.failures
        );
    }
    let _ = out.flush();
    if stats.failures > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A message that did not decode as expected: tried as the other kinds of its side (a
/// capture may start inside an AUTHENTICATE or IDLE exchange); reported with the first error
/// when none fits.
#[allow(clippy::too_many_arguments)]
fn fallback(
    out: &mut impl Write,
    args: &Args,
    opts: &DecodeOptions,
    ctx: &mut Context,
    stats: &mut Stats,
    offset: u64,
    msg: Bytes,
    e: DecodeError,
) {
    for expect in ctx.candidates().into_iter().skip(1) {
        if let Ok(d) = AnyMessage::decode(&msg, expect, opts) {
            handle(out, args, ctx, stats, offset, msg.len() as u64, expect, d);
            return;
        }
    }
    stats.failures += 1;
    report_failure(
        out,
        args.json,
        e.stream_offset().unwrap_or(offset + e.offset as u64),
        &e.to_string(),
        None,
    );
    if ctx.side == Side::Server {
        ctx.first = false;
    }
}

#[allow(clippy::too_many_arguments)]
fn handle(
    out: &mut impl Write,
    args: &Args,
    ctx: &mut Context,
    stats: &mut Stats,
    offset: u64,
    len: u64,
    expect: Expect,
    d: Decoded<AnyMessage>,
) {
    ctx.advance(&d.message);
    let mut rt_error = None;
    if args.roundtrip {
        let enc = d.message.to_bytes_inline_literals();
        match AnyMessage::decode(&enc, expect, &DecodeOptions::strict()) {
            Ok(again) if again.message == d.message => {}
            // A tolerated defect was mapped to the nearest valid value (e.g. a BODYSTRUCTURE
            // kept raw): the check is that its encoding is stable.
            Ok(again)
                if !d.warnings.is_empty() && again.message.to_vec_inline_literals() == enc[..] => {}
            Ok(again) => {
                rt_error = Some(format!(
                    "round trip differs: re-encoded {} decodes to {:?}",
                    Excerpt(&enc),
                    again.message
                ))
            }
            Err(e) => rt_error = Some(format!("re-encoded {} does not decode: {e}", Excerpt(&enc))),
        }
    }
    let debug = format!("{:?}", d.message);
    if args.json {
        let warnings: Vec<String> = d
            .warnings
            .iter()
            .map(|w| {
                format!(
                    "{{\"quirk\":{},\"offset\":{}}}",
                    json_str(&format!("{:?}", w.quirk)),
                    w.offset
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "{{\"offset\":{offset},\"length\":{len},\"kind\":{},\"value\":{},\"warnings\":[{}]}}",
            json_str(d.message.kind()),
            debug_to_json(&debug),
            warnings.join(",")
        );
    } else {
        let _ = writeln!(
            out,
            "{offset:>8} {:<17} {}",
            d.message.kind(),
            shorten(&debug, 300)
        );
        for w in &d.warnings {
            let _ = writeln!(out, "{:>8} warning: {}", offset + w.offset as u64, w);
        }
    }
    if let Some(e) = rt_error {
        stats.failures += 1;
        report_failure(out, args.json, offset, &e, None);
    }
}

fn report_failure(
    out: &mut impl Write,
    json: bool,
    offset: u64,
    what: &str,
    e: Option<&DecodeError>,
) {
    let excerpt = e
        .map(|e| Excerpt(&e.excerpt).to_string())
        .unwrap_or_default();
    if json {
        let _ = writeln!(
            out,
            "{{\"offset\":{offset},\"kind\":\"error\",\"error\":{},\"excerpt\":{}}}",
            json_str(what),
            json_str(&excerpt)
        );
    } else if e.is_some() {
        let _ = writeln!(out, "{offset:>8} FAILED {what} near {excerpt}");
    } else {
        let _ = writeln!(out, "{offset:>8} FAILED {what}");
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Converts Rust `Debug` output of the codec's values into JSON: structs become objects with a
/// `"type"` member, tuple variants `{"Name": value}` (or an array for several fields), unit
/// variants strings, `None` null, lists arrays.
fn debug_to_json(s: &str) -> String {
    let mut p = Dbg {
        s: s.as_bytes(),
        i: 0,
        out: String::with_capacity(s.len() + 16),
    };
    p.value();
    p.out
}

struct Dbg<'a> {
    s: &'a [u8],
    i: usize,
    out: String,
}

impl Dbg<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i] == b' ' {
            self.i += 1;
        }
    }
    fn peek(&self) -> u8 {
        *self.s.get(self.i).unwrap_or(&0)
    }
    /// One value; consumes at least one byte unless at the end, so that every loop over
    /// values ends (a token it does not know is emitted as a string).
    fn value(&mut self) {
        self.ws();
        match self.peek() {
            b'"' => self.string(),
            // A byte string (`b"..."`, the `Debug` of byte payloads): its text as a string.
            b'b' if self.s.get(self.i + 1) == Some(&b'"') => {
                self.i += 1;
                self.string();
            }
            b'[' => self.seq(b']'),
            b'(' => self.seq(b')'),
            b'-' | b'0'..=b'9' => {
                let st = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'.' | b'0'..=b'9' | b'e' | b'E' | b'+'
                    )
                {
                    self.i += 1;
                }
                self.out
                    .push_str(std::str::from_utf8(&self.s[st..self.i]).unwrap_or("0"));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => self.named(),
            0 => self.out.push_str("null"),
            _ => {
                // unknown token: emit as string up to a delimiter
                let st = self.i;
                while self.i < self.s.len() && !matches!(self.s[self.i], b',' | b')' | b']' | b'}')
                {
                    self.i += 1;
                }
                if self.i == st {
                    // A stray delimiter where a value belongs: taken as the value.
                    self.i += 1;
                }
                let t = String::from_utf8_lossy(&self.s[st..self.i]).into_owned();
                self.out.push_str(&json_str(&t));
            }
        }
    }
    fn ident(&mut self) -> String {
        let st = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[st..self.i]).into_owned()
    }
    fn named(&mut self) {
        let name = self.ident();
        self.ws();
        match self.peek() {
            b'{' => {
                self.i += 1;
                self.out.push_str("{\"type\":");
                self.out.push_str(&json_str(&name));
                loop {
                    self.ws();
                    if self.peek() == b'}' {
                        self.i += 1;
                        break;
                    }
                    if self.peek() == b',' {
                        self.i += 1;
                        continue;
                    }
                    if self.peek() == 0 {
                        break;
                    }
                    let f = self.ident();
                    self.ws();
                    if self.peek() == b':' {
                        self.i += 1;
                    }
                    self.out.push(',');
                    self.out.push_str(&json_str(&f));
                    self.out.push(':');
                    self.value();
                }
                self.out.push('}');
            }
            b'(' => {
                if name == "Some" {
                    self.i += 1;
                    self.value();
                    self.ws();
                    if self.peek() == b')' {
                        self.i += 1;
                    }
                    return;
                }
                self.out.push('{');
                self.out.push_str(&json_str(&name));
                self.out.push(':');
                // single field: the value; several: an array
                let save_i = self.i;
                let save_len = self.out.len();
                self.i += 1;
                self.value();
                self.ws();
                if self.peek() == b')' {
                    self.i += 1;
                } else {
                    self.i = save_i;
                    self.out.truncate(save_len);
                    self.seq(b')');
                }
                self.out.push('}');
            }
            _ => match name.as_str() {
                "None" => self.out.push_str("null"),
                "true" | "false" => self.out.push_str(&name),
                _ => self.out.push_str(&json_str(&name)),
            },
        }
    }
    fn seq(&mut self, close: u8) {
        self.i += 1;
        self.out.push('[');
        let mut first = true;
        loop {
            self.ws();
            match self.peek() {
                0 => break,
                c if c == close => {
                    self.i += 1;
                    break;
                }
                b',' => {
                    self.i += 1;
                }
                _ => {
                    if !first {
                        self.out.push(',');
                    }
                    first = false;
                    self.value();
                }
            }
        }
        self.out.push(']');
    }
    fn string(&mut self) {
        // Rust debug string: escapes \" \\ \n \r \t \u{..} \xNN (ours) — re-escape for JSON
        self.i += 1;
        let mut s = String::new();
        while self.i < self.s.len() {
            let c = self.s[self.i];
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.peek();
                    self.i += 1;
                    match e {
                        b'n' => s.push('\n'),
                        b'r' => s.push('\r'),
                        b't' => s.push('\t'),
                        b'0' => s.push('\0'),
                        b'x' => {
                            let h = std::str::from_utf8(
                                self.s.get(self.i..self.i + 2).unwrap_or(b"00"),
                            )
                            .unwrap_or("00");
                            self.i += 2;
                            s.push(char::from(u8::from_str_radix(h, 16).unwrap_or(b'?')));
                        }
                        b'u' => {
                            // \u{XXXX}
                            let st = self.i + 1;
                            while self.i < self.s.len() && self.s[self.i] != b'}' {
                                self.i += 1;
                            }
                            let h = std::str::from_utf8(&self.s[st.min(self.i)..self.i])
                                .unwrap_or("3f");
                            self.i += 1;
                            s.push(
                                u32::from_str_radix(h, 16)
                                    .ok()
                                    .and_then(char::from_u32)
                                    .unwrap_or('?'),
                            );
                        }
                        other => s.push(other as char),
                    }
                }
                _ => {
                    // copy a UTF-8 run
                    let st = self.i - 1;
                    let mut end = self.i;
                    while end < self.s.len() && self.s[end] != b'"' && self.s[end] != b'\\' {
                        end += 1;
                    }
                    s.push_str(&String::from_utf8_lossy(&self.s[st..end]));
                    self.i = end;
                }
            }
        }
        self.out.push_str(&json_str(&s));
    }
}
