//! Shared parts of the benches (`decode`, `alloc`): the corpus (generated on first use), the
//! decoders under test behind one enum, and a minimal memchr framer used as the baseline.
//!
//! Every decoder is run the same way: the whole stream message by message, counting the
//! messages that decoded. A message that does not decode is counted as a failure and skipped
//! (for the peers the minimal framer finds where it ends), so one bad message does not hide the
//! rest of a corpus; the first failure is kept for the report.
#![allow(dead_code)] // each bench binary uses a different subset

use std::fmt;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Duration;

use bytes::Bytes;
use imapwire_codec::codec::{Message, StreamDecoder, StreamEvent};
use imapwire_codec::command::Command;
use imapwire_codec::framer::{Frame, Framer, FramerConfig};
use imapwire_codec::response::Response;
use imapwire_codec::{DecodeOptions, Encode, EncodeBuf, Limits};

/// Chunk size of the streaming variants.
pub const CHUNK: usize = 16 * 1024;

// ---------------------------------------------------------------------------------------------
// Configuration (environment variables)

/// `name` parsed from the environment, or `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("warning: ignoring {name}={v:?} (not a valid value)");
            default
        }),
        Err(_) => default,
    }
}

/// Criterion settings: `IMAP_BENCH_SAMPLES` (10), `IMAP_BENCH_WARMUP` (1 s),
/// `IMAP_BENCH_MEASURE` (3 s).
pub fn criterion_settings() -> (usize, Duration, Duration) {
    let samples = env_or("IMAP_BENCH_SAMPLES", 10usize).max(10);
    let warm = Duration::from_secs_f64(env_or("IMAP_BENCH_WARMUP", 1.0f64).max(0.01));
    let measure = Duration::from_secs_f64(env_or("IMAP_BENCH_MEASURE", 3.0f64).max(0.01));
    (samples, warm, measure)
}

/// The workspace root (this package is `benches/` in it).
fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("benches/ has a parent")
}

/// The target directory: `$CARGO_TARGET_DIR` (relative paths are taken from the workspace
/// root, as cargo does) or `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    let root = workspace_root();
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => root.join(d),
        _ => root.join("target"),
    }
}

/// `IMAP_BENCH_SCALE` (1.0 unless set).
pub fn scale() -> f64 {
    env_or("IMAP_BENCH_SCALE", 1.0f64)
}

/// Suffix of the corpus directory, results directory and criterion group names of a scaled
/// corpus (`-scale-0.1`), so a quick scaled run does not overwrite the full run's results.
pub fn scale_suffix() -> String {
    let s = scale();
    if s == 1.0 {
        String::new()
    } else {
        format!("-scale-{s}")
    }
}

/// Where results other than criterion's go (`status.tsv`, `alloc.tsv`).
pub fn results_dir() -> PathBuf {
    target_dir().join(format!("imap-bench{}", scale_suffix()))
}

// ---------------------------------------------------------------------------------------------
// Corpus

/// Which side sent the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Server to client.
    Response,
    /// Client to server.
    Command,
}

/// One corpus file and its manifest entry.
pub struct Corpus {
    pub name: String,
    pub direction: Direction,
    /// Number of top-level messages, from the manifest.
    pub messages: u64,
    /// The stream, as one shared buffer (our whole-buffer decoders take it with
    /// `push_bytes`, without copying; everything else reads it as `&[u8]`).
    pub data: Bytes,
}

impl Corpus {
    pub fn bytes(&self) -> u64 {
        self.data.len() as u64
    }
}

/// The corpus directory: `$IMAP_BENCH_CORPUS`, or `<target>/bench-corpus` (with
/// `IMAP_BENCH_SCALE` != 1: `<target>/bench-corpus-scale-<F>`).
pub fn corpus_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("IMAP_BENCH_CORPUS") {
        return PathBuf::from(d);
    }
    target_dir().join(format!("bench-corpus{}", scale_suffix()))
}

/// Loads the corpus, generating it with `benches/corpus/gen.py` (python3) on first use.
/// `IMAP_BENCH_ONLY` (comma-separated names) restricts the corpora.
pub fn load_corpora() -> Vec<Corpus> {
    let dir = corpus_dir();
    let manifest = dir.join("manifest.tsv");
    if !manifest.exists() {
        generate(&dir, scale());
    }
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
    let only: Option<Vec<String>> = std::env::var("IMAP_BENCH_ONLY")
        .ok()
        .map(|s| s.split(',').map(|x| x.trim().to_owned()).collect());
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let [name, direction, messages, bytes, ..] = f[..] else {
            panic!("bad manifest line {line:?} in {}", manifest.display());
        };
        if only.as_ref().is_some_and(|o| !o.iter().any(|x| x == name)) {
            continue;
        }
        let direction = match direction {
            "response" => Direction::Response,
            "command" => Direction::Command,
            d => panic!("unknown direction {d:?} in {}", manifest.display()),
        };
        let path = dir.join(name);
        let data =
            std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let bytes: u64 = bytes.parse().expect("manifest: bytes");
        assert_eq!(
            data.len() as u64,
            bytes,
            "{} does not match its manifest; delete {} to regenerate",
            path.display(),
            dir.display()
        );
        out.push(Corpus {
            name: name.to_owned(),
            direction,
            messages: messages.parse().expect("manifest: messages"),
            data: Bytes::from(data),
        });
    }
    out
}

fn generate(dir: &Path, scale: f64) {
    let gen_py = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/gen.py");
    // Generate into a temporary directory and rename, so an interrupted or concurrent run never
    // leaves a half-written corpus behind.
    let tmp = dir.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!(
        "generating the bench corpus into {} (python3 {})",
        dir.display(),
        gen_py.display()
    );
    let status = Process::new("python3")
        .arg(&gen_py)
        .arg(&tmp)
        .args(["--scale", &scale.to_string()])
        .status()
        .unwrap_or_else(|e| panic!("cannot run python3 (needed to generate the corpus): {e}"));
    assert!(status.success(), "gen.py failed: {status}");
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).expect("create target dir");
    }
    if std::fs::rename(&tmp, dir).is_err() {
        // Somebody else finished first.
        let _ = std::fs::remove_dir_all(&tmp);
    }
}

// ---------------------------------------------------------------------------------------------
// Decoders

/// The decoders and baselines under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// Baseline: the minimal memchr framer below (whole buffer).
    MemchrFramer,
    /// Baseline: `imapwire_codec::framer::Framer` (whole buffer).
    Framer,
    /// Baseline: `imapwire_codec::framer::Framer` fed 16 KiB chunks.
    FramerStream,
    /// Our `StreamDecoder`, whole buffer pushed at once.
    Ours,
    /// Our `StreamDecoder`, fed 16 KiB chunks.
    OursStream,
    /// crates.io imap-codec 2.0.0-alpha.10, whole buffer.
    PeerImapCodec,
    /// crates.io imap-codec, 16 KiB chunks appended to a buffer, retried from the message start.
    PeerImapCodecStream,
    /// imap-proto 0.17 (responses only), whole buffer.
    ImapProto,
    /// imap-proto, 16 KiB chunks appended to a buffer, retried from the message start.
    ImapProtoStream,
}

impl Decoder {
    pub const ALL: [Decoder; 9] = [
        Decoder::MemchrFramer,
        Decoder::Framer,
        Decoder::FramerStream,
        Decoder::Ours,
        Decoder::OursStream,
        Decoder::PeerImapCodec,
        Decoder::PeerImapCodecStream,
        Decoder::ImapProto,
        Decoder::ImapProtoStream,
    ];

    /// Benchmark id (criterion function id, `report.py` column key).
    pub fn id(self) -> &'static str {
        match self {
            Decoder::MemchrFramer => "memchr-framer",
            Decoder::Framer => "framer",
            Decoder::FramerStream => "framer-stream16k",
            Decoder::Ours => "ours",
            Decoder::OursStream => "ours-stream16k",
            Decoder::PeerImapCodec => "imap-codec-2",
            Decoder::PeerImapCodecStream => "imap-codec-2-stream16k",
            Decoder::ImapProto => "imap-proto",
            Decoder::ImapProtoStream => "imap-proto-stream16k",
        }
    }

    /// Whether the decoder handles this direction at all (imap-proto: responses only).
    pub fn supports(self, d: Direction) -> bool {
        !matches!(self, Decoder::ImapProto | Decoder::ImapProtoStream) || d == Direction::Response
    }

    /// A peer (reported as `peer X: FAILED ...`).
    pub fn is_peer(self) -> bool {
        matches!(
            self,
            Decoder::PeerImapCodec
                | Decoder::PeerImapCodecStream
                | Decoder::ImapProto
                | Decoder::ImapProtoStream
        )
    }

    /// Decodes the whole corpus message by message.
    pub fn run(self, c: &Corpus) -> Outcome {
        let data = &c.data[..];
        match (self, c.direction) {
            (Decoder::MemchrFramer, _) => memchr_count(data),
            (Decoder::Framer, _) => framer_whole(&c.data),
            (Decoder::FramerStream, _) => framer_count(data, Some(CHUNK)),
            (Decoder::Ours, Direction::Response) => ours_whole::<Response>(&c.data),
            (Decoder::Ours, Direction::Command) => ours_whole::<Command>(&c.data),
            (Decoder::OursStream, Direction::Response) => ours::<Response>(data, Some(CHUNK)),
            (Decoder::OursStream, Direction::Command) => ours::<Command>(data, Some(CHUNK)),
            (Decoder::PeerImapCodec, Direction::Response) => {
                peer_whole(data, peer_imap_codec_response)
            }
            (Decoder::PeerImapCodec, Direction::Command) => {
                peer_whole(data, peer_imap_codec_command)
            }
            (Decoder::PeerImapCodecStream, Direction::Response) => {
                peer_stream(data, CHUNK, peer_imap_codec_response)
            }
            (Decoder::PeerImapCodecStream, Direction::Command) => {
                peer_stream(data, CHUNK, peer_imap_codec_command)
            }
            (Decoder::ImapProto, Direction::Response) => peer_whole(data, imap_proto_response),
            (Decoder::ImapProtoStream, Direction::Response) => {
                peer_stream(data, CHUNK, imap_proto_response)
            }
            (Decoder::ImapProto | Decoder::ImapProtoStream, Direction::Command) => Outcome {
                unsupported: true,
                ..Outcome::default()
            },
        }
    }
}

/// Result of one pass over a corpus.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Messages decoded.
    pub ok: u64,
    /// Messages that did not decode (skipped).
    pub failed: u64,
    /// The first one.
    pub first_failure: Option<Failure>,
    /// The decoder does not handle this direction.
    pub unsupported: bool,
}

/// Where and why a message did not decode.
#[derive(Debug, Clone)]
pub struct Failure {
    /// 1-based message number in the stream.
    pub message: u64,
    /// Byte offset of the message in the stream.
    pub offset: u64,
    pub reason: String,
    /// Start of the message, escaped.
    pub excerpt: String,
}

impl Outcome {
    fn fail(&mut self, offset: u64, reason: impl fmt::Display, msg: &[u8]) {
        if self.first_failure.is_none() {
            self.first_failure = Some(Failure {
                message: self.ok + self.failed + 1,
                offset,
                reason: reason.to_string(),
                excerpt: excerpt(msg),
            });
        }
        self.failed += 1;
    }

    /// Every message decoded and their number matches the manifest.
    pub fn passed(&self, c: &Corpus) -> bool {
        !self.unsupported && self.failed == 0 && self.ok == c.messages
    }

    /// One line for the console and `status.tsv`.
    pub fn describe(&self, c: &Corpus) -> String {
        if self.unsupported {
            return "n/a (does not decode this direction)".into();
        }
        if self.passed(c) {
            return format!("ok: {} of {} messages", self.ok, c.messages);
        }
        let mut s = format!(
            "FAILED corpus {} at message {}",
            c.name,
            self.first_failure
                .as_ref()
                .map_or(self.ok + self.failed + 1, |f| f.message)
        );
        if let Some(f) = &self.first_failure {
            s += &format!(" (offset {}): {} [{}]", f.offset, f.reason, f.excerpt);
        }
        s += &format!(
            "; {} of {} messages decoded, {} failed",
            self.ok, c.messages, self.failed
        );
        if self.ok + self.failed != c.messages {
            s += &format!(" ({} framed in all)", self.ok + self.failed);
        }
        s
    }
}

fn excerpt(msg: &[u8]) -> String {
    let cut = &msg[..msg.len().min(72)];
    let mut s: String = cut.escape_ascii().to_string();
    if msg.len() > cut.len() {
        s.push('…');
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Baseline: a minimal framer (lines found with memchr, literals skipped by length)

/// Length of the complete message at the start of `data`, or `None` when it is incomplete.
#[inline]
pub fn frame_len(data: &[u8]) -> Option<usize> {
    let mut pos = 0;
    loop {
        let line_end = pos + memchr::memchr(b'\n', data.get(pos..)?)? + 1;
        match literal_len(&data[pos..line_end]) {
            Some(n) => {
                pos = line_end.checked_add(n)?;
                if pos > data.len() {
                    return None;
                }
            }
            None => return Some(line_end),
        }
    }
}

/// The length announced by `{n}`, `{n+}` or `~{n}` at the end of a line (LF included).
#[inline]
fn literal_len(line: &[u8]) -> Option<usize> {
    let rest = line.strip_suffix(b"}\r\n")?;
    let rest = rest.strip_suffix(b"+").unwrap_or(rest);
    let digits = rest.len() - rest.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    if digits == rest.len()
        || rest.len() - digits > 19
        || rest.get(digits.wrapping_sub(1)) != Some(&b'{')
    {
        return None;
    }
    let mut n = 0usize;
    for &c in &rest[digits..] {
        n = n.checked_mul(10)?.checked_add(usize::from(c - b'0'))?;
    }
    Some(n)
}

fn memchr_count(data: &[u8]) -> Outcome {
    let mut out = Outcome::default();
    let mut rest = data;
    while !rest.is_empty() {
        match frame_len(rest) {
            Some(n) => {
                out.ok += 1;
                rest = &rest[n..];
            }
            None => {
                let off = (data.len() - rest.len()) as u64;
                out.fail(off, "incomplete message at the end of the stream", rest);
                break;
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Ours

/// Framer settings for the benches: the default limits, except a longer line (the `search`
/// corpus has a 2.2 MB SEARCH line; the default `max_line` is 1 MiB).
pub fn framer_config() -> FramerConfig {
    FramerConfig::default()
        .with_limits(Limits::default().with_max_line(64 << 20))
        .with_await_sync_literals(false)
        // as the client session: no announcement of a literal that needs no decision
        .with_quiet_literals(true)
}

/// Decode options for the benches (the default: strict).
pub fn decode_options() -> DecodeOptions {
    DecodeOptions::default()
}

fn chunks(data: &[u8], chunk: Option<usize>) -> std::slice::Chunks<'_, u8> {
    data.chunks(chunk.unwrap_or(data.len()).max(1))
}

fn framer_count(data: &[u8], chunk: Option<usize>) -> Outcome {
    let mut out = Outcome::default();
    let mut f = Framer::new(framer_config());
    for piece in chunks(data, chunk) {
        f.push(piece);
        while let Some(frame) = f.next_frame() {
            match frame {
                Frame::Message(m) => {
                    black_box(&m);
                    out.ok += 1;
                }
                Frame::Error(e) => out.fail(f.stream_offset(), &e, b""),
                _ => {}
            }
        }
    }
    if f.buffered() > 0 {
        let rest = f.take_buffered();
        out.fail(f.stream_offset(), "incomplete message at the end", &rest);
    }
    out
}

/// Our framer on the whole stream handed over as one shared buffer (`push_bytes`: no copy).
fn framer_whole(data: &Bytes) -> Outcome {
    let mut out = Outcome::default();
    let mut f = Framer::new(framer_config());
    f.push_bytes(data.clone());
    while let Some(frame) = f.next_frame() {
        match frame {
            Frame::Message(m) => {
                black_box(&m);
                out.ok += 1;
            }
            Frame::Error(e) => out.fail(f.stream_offset(), &e, b""),
            _ => {}
        }
    }
    if f.buffered() > 0 {
        let rest = f.take_buffered();
        out.fail(f.stream_offset(), "incomplete message at the end", &rest);
    }
    out
}

/// Our decoder on the whole stream handed over as one shared buffer (`push_bytes`: no copy;
/// the decoded values share it).
fn ours_whole<M: Message>(data: &Bytes) -> Outcome {
    let mut out = Outcome::default();
    let mut dec = StreamDecoder::<M>::new(framer_config(), decode_options());
    dec.push_bytes(data.clone());
    drain(&mut dec, &mut out, |ev| {
        black_box(message(ev));
    });
    finish(&mut dec, &mut out);
    out
}

fn ours<M: Message>(data: &[u8], chunk: Option<usize>) -> Outcome {
    let mut out = Outcome::default();
    let mut dec = StreamDecoder::<M>::new(framer_config(), decode_options());
    for piece in chunks(data, chunk) {
        dec.push(piece);
        drain(&mut dec, &mut out, |ev| {
            black_box(message(ev));
        });
    }
    finish(&mut dec, &mut out);
    out
}

/// Every event the input so far holds, each decoded into one slot
/// ([`StreamDecoder::next_into`]): a message is counted and handed to `keep` where it was
/// decoded, and dropped by the next call (or taken by `keep`). Every message is decoded
/// into a value of its own and dropped, as with `next`; only the event's moves are not
/// made.
fn drain<M: Message>(
    dec: &mut StreamDecoder<M>,
    out: &mut Outcome,
    mut keep: impl FnMut(&mut Option<StreamEvent<M>>),
) {
    let mut ev = None;
    while dec.next_into(&mut ev) {
        match &ev {
            Some(StreamEvent::Message(_)) => {
                out.ok += 1;
                keep(&mut ev);
            }
            Some(StreamEvent::Error(e)) => {
                let (off, raw) = match e {
                    imapwire_codec::codec::StreamError::Decode {
                        raw, stream_offset, ..
                    } => (*stream_offset, raw.clone()),
                    _ => (dec.framer_mut().stream_offset(), Bytes::new()),
                };
                out.fail(off, e, &raw);
            }
            _ => {}
        }
    }
}

/// The message of a message event, for [`drain`]'s `keep`.
fn message<M>(ev: &Option<StreamEvent<M>>) -> Option<&M> {
    match ev {
        Some(StreamEvent::Message(m)) => Some(&m.message),
        _ => None,
    }
}

fn finish<M: Message>(dec: &mut StreamDecoder<M>, out: &mut Outcome) {
    let f = dec.framer_mut();
    if f.buffered() > 0 {
        let rest = f.take_buffered();
        let off = f.stream_offset() - rest.len() as u64;
        out.fail(off, "incomplete message at the end of the stream", &rest);
    }
}

/// Decodes every message of `c` with our decoder, for the encode bench. Returns the messages
/// (as `Encode` trait objects grouped by kind) or the outcome when something failed.
pub fn decode_all(c: &Corpus) -> Result<Decodedset, Outcome> {
    fn all<M: Message>(data: &[u8]) -> (Vec<M>, Outcome) {
        let mut out = Outcome::default();
        let mut v = Vec::new();
        let mut dec = StreamDecoder::<M>::new(framer_config(), decode_options());
        dec.push(data);
        drain(&mut dec, &mut out, |ev| {
            if let Some(StreamEvent::Message(m)) = ev.take() {
                v.push(m.message);
            }
        });
        finish(&mut dec, &mut out);
        (v, out)
    }
    let (set, out) = match c.direction {
        Direction::Response => {
            let (v, o) = all::<Response>(&c.data);
            (Decodedset::Responses(v), o)
        }
        Direction::Command => {
            let (v, o) = all::<Command>(&c.data);
            (Decodedset::Commands(v), o)
        }
    };
    if out.passed(c) { Ok(set) } else { Err(out) }
}

/// Decoded messages of one corpus.
pub enum Decodedset {
    Responses(Vec<Response>),
    Commands(Vec<Command>),
}

impl Decodedset {
    /// Encodes each message into `buf` (cleared before each one); returns the bytes written.
    #[inline]
    pub fn encode_each(&self, buf: &mut EncodeBuf) -> u64 {
        fn each<M: Encode>(msgs: &[M], buf: &mut EncodeBuf) -> u64 {
            let mut total = 0u64;
            for m in msgs {
                buf.clear();
                m.encode(buf);
                total += black_box(&buf.out).len() as u64;
            }
            total
        }
        match self {
            Decodedset::Responses(v) => each(v, buf),
            Decodedset::Commands(v) => each(v, buf),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Decodedset::Responses(v) => v.len(),
            Decodedset::Commands(v) => v.len(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Peers

/// What one peer decode call said.
pub enum Step {
    /// A message was decoded; this many bytes remain.
    Done { remaining: usize },
    /// More bytes are needed (includes imap-codec's `LiteralFound`, which only happens when the
    /// buffer ends right after a literal announcement: in a capture the data just follows).
    Incomplete,
    /// The message does not decode.
    Failed(String),
}

fn peer_imap_codec_response(input: &[u8]) -> Step {
    use peer_imap_codec::ResponseCodec;
    use peer_imap_codec::decode::{Decoder as _, ResponseDecodeError};
    match ResponseCodec::default().decode(input) {
        Ok((rem, msg)) => {
            black_box(msg);
            Step::Done {
                remaining: rem.len(),
            }
        }
        Err(ResponseDecodeError::Incomplete | ResponseDecodeError::LiteralFound { .. }) => {
            Step::Incomplete
        }
        Err(e) => Step::Failed(format!("{e:?}")),
    }
}

fn peer_imap_codec_command(input: &[u8]) -> Step {
    use peer_imap_codec::CommandCodec;
    use peer_imap_codec::decode::{CommandDecodeError, Decoder as _};
    match CommandCodec::default().decode(input) {
        Ok((rem, msg)) => {
            black_box(msg);
            Step::Done {
                remaining: rem.len(),
            }
        }
        Err(CommandDecodeError::Incomplete | CommandDecodeError::LiteralFound { .. }) => {
            Step::Incomplete
        }
        Err(e) => Step::Failed(format!("{e:?}")),
    }
}

fn imap_proto_response(input: &[u8]) -> Step {
    match imap_proto::Response::parse(input) {
        Ok((rem, msg)) => {
            black_box(msg);
            Step::Done {
                remaining: rem.len(),
            }
        }
        Err(e) if e.is_incomplete() => Step::Incomplete,
        // Only the error kind: the error also holds the rest of the input.
        Err(e) => Step::Failed(format!("{:?}", e.map(|e| e.code))),
    }
}

/// A peer on the whole buffer: decode, take the remaining input, repeat.
fn peer_whole(data: &[u8], decode: fn(&[u8]) -> Step) -> Outcome {
    let mut out = Outcome::default();
    let mut rest = data;
    while !rest.is_empty() {
        let off = (data.len() - rest.len()) as u64;
        match decode(rest) {
            Step::Done { remaining } => {
                if remaining >= rest.len() {
                    out.fail(off, "decoder consumed nothing", rest);
                    break;
                }
                out.ok += 1;
                rest = &rest[rest.len() - remaining..];
            }
            Step::Incomplete => {
                out.fail(off, "incomplete at the end of the stream", rest);
                break;
            }
            Step::Failed(why) => {
                out.fail(off, why, rest);
                match frame_len(rest) {
                    Some(n) => rest = &rest[n..],
                    None => break,
                }
            }
        }
    }
    out
}

/// A peer fed `chunk`-byte pieces: append to a buffer, retry from the start of the pending
/// message until it decodes, drop consumed bytes once per chunk.
fn peer_stream(data: &[u8], chunk: usize, decode: fn(&[u8]) -> Step) -> Outcome {
    let mut out = Outcome::default();
    let mut buf: Vec<u8> = Vec::with_capacity(2 * chunk);
    let mut start = 0usize; // start of the pending message in `buf`
    let mut consumed = 0u64; // stream offset of buf[0]
    let mut skipping = false; // a failed message is being skipped
    for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            let pending = &buf[start..];
            if pending.is_empty() {
                break;
            }
            if skipping {
                match frame_len(pending) {
                    Some(n) => {
                        start += n;
                        skipping = false;
                        continue;
                    }
                    None => break,
                }
            }
            match decode(pending) {
                Step::Done { remaining } => {
                    out.ok += 1;
                    start = buf.len() - remaining;
                }
                Step::Incomplete => break,
                Step::Failed(why) => {
                    out.fail(consumed + start as u64, why, pending);
                    skipping = true;
                }
            }
        }
        if start > 0 {
            buf.drain(..start);
            consumed += start as u64;
            start = 0;
        }
    }
    if !buf.is_empty() {
        out.fail(consumed, "incomplete at the end of the stream", &buf);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Result files

/// Replaces the rows whose first two columns match in `<results>/<file>` (tab-separated).
pub fn update_tsv(file: &str, header: &str, rows: &[Vec<String>]) {
    let dir = results_dir();
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(file);
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_owned)
        .collect();
    for row in rows {
        let key = format!("{}\t{}\t", row[0], row[1]);
        lines.retain(|l| !l.starts_with(&key));
        let clean: Vec<String> = row.iter().map(|c| c.replace(['\t', '\n'], " ")).collect();
        lines.push(clean.join("\t"));
    }
    let mut text = format!("#{header}\n");
    for l in lines {
        text += &l;
        text.push('\n');
    }
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("warning: cannot write {}: {e}", path.display());
    }
}
