//! Small driver for profiling the decoder on one bench corpus file (callgrind, perf):
//!
//! ```sh
//! cargo build --release --example profile_decode
//! valgrind --tool=callgrind target/release/examples/profile_decode \
//!     target/bench-corpus/fetch-flags response whole 1
//! ```
//!
//! Arguments: corpus file, `response` or `command`, mode, passes. Same framer settings as the
//! benches (`max_line` 64 MiB). Modes:
//!
//! - `whole`: the typed `StreamDecoder<M>`, whole buffer shared (`benches/callgrind.sh`),
//!   each event decoded into one slot (`StreamDecoder::next_into`, as the benches do);
//! - `stream16k`: the same, fed 16 KiB copied reads;
//! - `whole-next`, `stream16k-next`: the same with each event returned by
//!   `StreamDecoder::next` and its message moved out (the loop before `next_into`);
//! - `rx`, `rx16k`: the same through the switching `Receiver` (what the sessions use);
//!   `rxwhole`: the whole buffer through the `Receiver`, each event into one slot
//!   (`Receiver::next_into`, the loop of the streamed and read modes below: the whole-buffer
//!   side of their ratios with the same decoder);
//! - `streamed16k`: the `Receiver` fed 16 KiB reads (`push_bytes`), literals over 16 KiB
//!   streamed in pieces (`FramerConfig::stream_literals_over`), chunks counted;
//! - `streamedfast16k`: the same through the fast lane (`push_bytes_chunk`: a read inside a
//!   streamed literal comes straight back as its chunk);
//! - `streamedcopy16k`: the same, each read copied in (`push`, as the client session does);
//! - `streamedmut16k`: the same, the reads split off one buffer (`push_bytes_mut`);
//!   `streamedmut16k-context` also reads each streamed body's FETCH context;
//! - `streamedmutfast16k`: the same through the fast lane (`push_bytes_mut_chunk`);
//! - `streamedlent16k`: the same with the chunk lent (`push_read`: a read inside a streamed
//!   literal is lent from the reader's buffer and advanced past, no split, no `Bytes`);
//!   `streamedlent16k-skip` the same, events not asked for after a read lent whole (no
//!   event follows one: the `push_read` contract);
//! - `readlent16k`, `readonly16k`: the input as a socket gives it, read(2) of the corpus
//!   file (page-cached) in 16 KiB reads, so the copy is the kernel's (not counted by
//!   callgrind, nothing to subtract): `readlent16k` reads into the caller's reused `BytesMut`
//!   (room for four reads made when less than one is left) and offers each read with
//!   `push_read` (the lent lane), `readonly16k` only reads (the reading loop alone); the
//!   environment variables `IMAP_READ` and `IMAP_STREAM_OVER` (bytes) set these modes' read
//!   size and every streamed mode's threshold (16 KiB each unless set; the mode names stay);
//! - `readroom16k`, `readroomchunk16k`: the same read(2)s into the receiver's own buffer
//!   (the room lane: `read_room` of a read's size, read into it, handed back with
//!   `push_room`, a streamed body's part lent, or `push_room_chunk`, that part as `Bytes`);
//! - `interleave-read`, `interleave-read-lenient`: whole as in `interleave`, the lent lane
//!   over 16 KiB read(2)s of the file, and the reads alone, in turn;
//! - `interleave`: whole, `streamedmutfast16k` and `streamedlent16k` timed in turn, PASSES
//!   rounds, least wall time of each (all read the same buffer, no copy);
//!   `interleave-lenient` the same with the lenient decode options (as `benches/session.rs`);
//! - `copy`, `copymut`: only the copy of the input that the other modes make per pass (into
//!   `Bytes` for `whole`, into `BytesMut` for `streamedmut*`/`streamedlent16k`), to subtract;
//! - `framer`: framing only;
//! - `encode`: decode, then time encoding.

use std::hint::black_box;

use imapwire_codec::codec::{AnyMessage, Expect, Message, Receiver, StreamDecoder, StreamEvent};
use imapwire_codec::command::Command;
use imapwire_codec::framer::{Frame, Framer, FramerConfig};
use imapwire_codec::response::Response;
use imapwire_codec::{DecodeOptions, EncodeBuf, Limits};

fn config() -> FramerConfig {
    FramerConfig::default()
        .with_limits(Limits::default().with_max_line(64 << 20))
        .with_await_sync_literals(false)
        // as the client session and the benches: no announcement of a literal that needs
        // no decision
        .with_quiet_literals(true)
}

/// Every message through `StreamDecoder::next` (the event returned by value), each one
/// handed to `keep`.
fn decode<M: Message>(data: &[u8], chunk: usize, mut keep: impl FnMut(M)) -> (u64, u64) {
    let (mut ok, mut bad) = (0, 0);
    let mut dec = StreamDecoder::<M>::new(config(), DecodeOptions::default());
    let whole = chunk >= data.len();
    let shared = bytes::Bytes::copy_from_slice(data);
    for piece in data.chunks(chunk.max(1)) {
        if whole {
            // as the benches do: the whole stream as one shared buffer, not copied
            dec.push_bytes(shared.clone());
        } else {
            dec.push(piece);
        }
        for ev in dec.by_ref() {
            match ev {
                StreamEvent::Message(m) => {
                    ok += 1;
                    keep(m.message);
                }
                StreamEvent::Error(_) => bad += 1,
                _ => {}
            }
        }
    }
    (ok, bad)
}

/// Counts the event in `ev`: a decoded message (read where it lies) in `ok`, an error in
/// `bad`.
#[inline(always)]
fn tally<M>(ev: &Option<StreamEvent<M>>, ok: &mut u64, bad: &mut u64) {
    match ev {
        Some(StreamEvent::Message(m)) => {
            *ok += 1;
            black_box(&m.message);
        }
        Some(StreamEvent::Error(_)) => *bad += 1,
        _ => {}
    }
}

/// [`decode`] through [`StreamDecoder::next_into`], as the benches do: each event decoded
/// into one slot, each message read there and dropped by the next call.
fn decode_into<M: Message>(data: &[u8], chunk: usize) -> (u64, u64) {
    let (mut ok, mut bad) = (0, 0);
    let mut dec = StreamDecoder::<M>::new(config(), DecodeOptions::default());
    let whole = chunk >= data.len();
    let shared = bytes::Bytes::copy_from_slice(data);
    let mut ev = None;
    for piece in data.chunks(chunk.max(1)) {
        if whole {
            dec.push_bytes(shared.clone());
        } else {
            dec.push(piece);
        }
        while dec.next_into(&mut ev) {
            tally(&ev, &mut ok, &mut bad);
        }
    }
    (ok, bad)
}

/// The whole buffer through the switching receiver, each event decoded into one slot
/// (`Receiver::next_into`), as [`streamed`] takes the events of the read modes.
fn decode_rx_into(data: &[u8], expect: Expect) -> (u64, u64) {
    let (mut ok, mut bad) = (0, 0);
    let mut rx = Receiver::new(config(), DecodeOptions::default(), expect);
    rx.push_bytes(bytes::Bytes::copy_from_slice(data));
    let mut ev = None;
    while rx.next_into(&mut ev) {
        tally(&ev, &mut ok, &mut bad);
    }
    (ok, bad)
}

/// [`decode`] through the switching receiver, expecting `expect` throughout.
fn decode_rx(
    data: &[u8],
    chunk: usize,
    expect: Expect,
    mut keep: impl FnMut(AnyMessage),
) -> (u64, u64) {
    let (mut ok, mut bad) = (0, 0);
    let mut rx = Receiver::new(config(), DecodeOptions::default(), expect);
    let whole = chunk >= data.len();
    let shared = bytes::Bytes::copy_from_slice(data);
    for piece in data.chunks(chunk.max(1)) {
        if whole {
            rx.push_bytes(shared.clone());
        } else {
            rx.push(piece);
        }
        for ev in rx.by_ref() {
            match ev {
                StreamEvent::Message(m) => {
                    ok += 1;
                    keep(m.message);
                }
                StreamEvent::Error(_) => bad += 1,
                _ => {}
            }
        }
    }
    (ok, bad)
}

/// The receiver with literals over 16 KiB streamed, fed 16 KiB shared reads.
fn decode_streamed(data: &[u8], expect: Expect) -> (u64, u64) {
    let shared = bytes::Bytes::copy_from_slice(data);
    let mut at = 0;
    streamed(expect, false, |rx| {
        let end = (at + 16 * 1024).min(shared.len());
        rx.push_bytes(shared.slice(at..end));
        at = end;
        (at < shared.len(), true)
    })
}

/// As [`decode_streamed`], each read pushed through the fast lane (`push_bytes_chunk`).
fn decode_streamed_fast(data: &[u8], expect: Expect) -> (u64, u64) {
    let shared = bytes::Bytes::copy_from_slice(data);
    let mut at = 0;
    streamed(expect, false, |rx| {
        let end = (at + 16 * 1024).min(shared.len());
        if let Some(c) = rx.push_bytes_chunk(shared.slice(at..end)) {
            black_box(c);
        }
        at = end;
        (at < shared.len(), true)
    })
}

/// As [`decode_streamed`], each read copied in (`push`, what the client session does).
fn decode_streamed_copy(data: &[u8], expect: Expect) -> (u64, u64) {
    let mut pieces = data.chunks(16 * 1024).peekable();
    streamed(expect, false, |rx| {
        if let Some(p) = pieces.next() {
            rx.push(p);
        }
        (pieces.peek().is_some(), true)
    })
}

/// As [`decode_streamed`], the reads split off one buffer (`push_bytes_mut`: consecutive
/// reads joined without a copy); with `context`, each begin event's FETCH context is read.
fn decode_streamed_mut(data: &[u8], expect: Expect, context: bool) -> (u64, u64) {
    let mut rd = bytes::BytesMut::from(data);
    streamed(expect, context, |rx| {
        let n = (16 * 1024).min(rd.len());
        rx.push_bytes_mut(rd.split_to(n));
        (!rd.is_empty(), true)
    })
}

/// As [`decode_streamed_mut`], each read pushed through the fast lane
/// (`push_bytes_mut_chunk`: a read inside a streamed literal comes straight back as its chunk).
fn decode_streamed_mut_fast(data: &[u8], expect: Expect) -> (u64, u64) {
    let mut rd = bytes::BytesMut::from(data);
    let mut lane = 0usize;
    let r = streamed(expect, false, |rx| {
        let n = (16 * 1024).min(rd.len());
        if let Some(c) = rx.push_bytes_mut_chunk(rd.split_to(n)) {
            lane += black_box(c).len();
        }
        (!rd.is_empty(), true)
    });
    eprintln!("{lane} bytes by the fast lane");
    r
}

/// As [`decode_streamed_mut_fast`], with the chunk lent (`push_read`): each 16 KiB read is
/// the front of one buffer holding the rest of the input, a chunk is lent and advanced past
/// (no split, no `Bytes`), other reads split off and pushed with `push_bytes_mut`. With
/// `skip`, the events are not asked for after a read that was lent whole (none follow one).
fn decode_streamed_lent(data: &[u8], expect: Expect, skip: bool) -> (u64, u64) {
    let mut rd = bytes::BytesMut::from(data);
    let mut lane = 0usize;
    let r = streamed(expect, false, |rx| {
        let n = (16 * 1024).min(rd.len());
        let k = rx.push_read(&mut rd, n, |c| {
            black_box(c);
        });
        lane += k;
        (!rd.is_empty(), !skip || k < n)
    });
    eprintln!("{lane} bytes lent");
    r
}

/// One read(2) of at most `max` bytes from `fd` appended to `buf`'s spare capacity (which
/// must hold `max`): how many (0 at the end of the file).
fn read_into(fd: i32, buf: &mut bytes::BytesMut, max: usize) -> usize {
    use bytes::BufMut;
    assert!(buf.capacity() - buf.len() >= max);
    let room = buf.chunk_mut();
    let n = loop {
        // SAFETY: `room` is `buf`'s spare capacity, at least `max` bytes (asserted above),
        // valid for writes; read(2) writes at most `max` bytes into it.
        let n = unsafe { libc::read(fd, room.as_mut_ptr().cast(), max) };
        match usize::try_from(n) {
            Ok(n) => break n,
            // Interrupted by a signal before it read anything: read again.
            Err(_) if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {
            }
            Err(_) => panic!("read(2) failed: {}", std::io::Error::last_os_error()),
        }
    };
    // SAFETY: read(2) initialised the first `n` bytes of the spare capacity.
    unsafe { buf.advance_mut(n) };
    n
}

/// The corpus file opened for the `read*` modes.
fn open(file: &str) -> std::fs::File {
    std::fs::File::open(file).expect("open corpus")
}

/// Mode `readlent16k`: 16 KiB read(2)s into the caller's reused buffer, offered with
/// `push_read` (the lent lane).
fn decode_read_lent(file: &str, expect: Expect) -> (u64, u64) {
    use std::os::fd::AsRawFd;
    let f = open(file);
    let fd = f.as_raw_fd();
    let mut buf = bytes::BytesMut::new();
    let mut lane = 0usize;
    let r = streamed(expect, false, |rx| {
        let (n, lent) = read_lent(fd, &mut buf, rx);
        lane += lent;
        (n > 0, true)
    });
    eprintln!("{lane} bytes lent");
    r
}

/// One read(2) of [`read_size`] (16 KiB unless set) from `fd` into `buf` offered to `rx`
/// with `push_read` (the lent lane): the bytes read and the bytes lent. When less than a
/// read's room is left, `buf` makes room for four reads (a new allocation: the framer still
/// holds the bytes split off the old one).
fn read_lent(fd: i32, buf: &mut bytes::BytesMut, rx: &mut Receiver) -> (usize, usize) {
    let rd = read_size();
    if buf.capacity() - buf.len() < rd {
        buf.reserve(4 * rd);
    }
    let n = read_into(fd, buf, rd);
    let lent = rx.push_read(buf, n, |c| {
        black_box(c);
    });
    (n, lent)
}

/// Modes `readroom16k` / `readroomchunk16k`: read(2)s of [`read_size`] into rooms of the
/// receiver's own buffer (`read_room`), handed back with `push_room` (a streamed body's part
/// lent) or, with `chunk`, `push_room_chunk` (that part as `Bytes`).
fn decode_read_room(file: &str, expect: Expect, chunk: bool) -> (u64, u64) {
    use std::os::fd::AsRawFd;
    let f = open(file);
    let fd = f.as_raw_fd();
    let rd = read_size();
    let mut lane = 0usize;
    let r = streamed(expect, false, |rx| {
        let mut room = rx.read_room(rd);
        let n = read_into(fd, &mut room, rd);
        let lent = if chunk {
            rx.push_room_chunk(room).map_or(0, |c| black_box(c).len())
        } else {
            rx.push_room(room, |c| {
                black_box(c);
            })
        };
        lane += lent;
        (n > 0, lent < n)
    });
    eprintln!("{lane} bytes lent");
    r
}

/// A response receiver streaming literals over [`stream_over`] (16 KiB unless set; the
/// streamed side of the `interleave*` modes).
fn streamed_response_receiver(opts: &DecodeOptions) -> Receiver {
    let config = config().with_stream_literals_over(Some(stream_over()));
    Receiver::new(config, opts.clone(), Expect::Response)
}

/// Prints each lane's least time of `rounds`, and its ratio to the first lane's (whole).
fn print_least(rounds: u32, names: [&str; 3], best: [std::time::Duration; 3]) {
    for (name, t) in names.iter().zip(best) {
        eprintln!(
            "least of {rounds}: {name} {:.1} us = {:.3} of whole",
            t.as_secs_f64() * 1e6,
            t.as_secs_f64() / best[0].as_secs_f64()
        );
    }
}

/// Takes every event out of `rx`: how many were decoded messages.
fn drain_messages(rx: &mut Receiver) -> u64 {
    let mut n = 0u64;
    for ev in rx.by_ref() {
        if let StreamEvent::Message(m) = ev {
            black_box(&m);
            n += 1;
        }
    }
    n
}

/// Mode `readonly16k`: the 16 KiB read(2)s alone, into one reused buffer.
fn read_only(file: &str) -> (u64, u64) {
    use std::os::fd::AsRawFd;
    let f = open(file);
    let fd = f.as_raw_fd();
    let rd = read_size();
    let mut buf = bytes::BytesMut::with_capacity(rd);
    let mut total = 0;
    loop {
        buf.clear();
        let n = read_into(fd, &mut buf, rd);
        if n == 0 {
            break;
        }
        total += black_box(&buf).len();
    }
    eprintln!("{total} bytes read");
    (0, 0)
}

/// The receiver with literals over [`stream_over`] (16 KiB unless set) streamed: `read` pushes the next read and says
/// whether more follow and whether to take events; the events are taken after each read
/// that says so, each into one slot (`Receiver::next_into`, as `whole` takes its events;
/// with `context`, each begin event's FETCH context is read).
fn streamed(
    expect: Expect,
    context: bool,
    mut read: impl FnMut(&mut Receiver) -> (bool, bool),
) -> (u64, u64) {
    let (mut ok, mut bad) = (0, 0);
    let config = config().with_stream_literals_over(Some(stream_over()));
    let mut rx = Receiver::new(config, DecodeOptions::default(), expect);
    let mut chunk_bytes = 0usize;
    let mut more = true;
    let mut ev = None;
    while more {
        let events;
        (more, events) = read(&mut rx);
        if !events {
            continue;
        }
        // each event decoded into one slot (`Receiver::next_into`), as `whole` does
        while rx.next_into(&mut ev) {
            match &ev {
                Some(StreamEvent::Message(m)) => {
                    ok += 1;
                    black_box(&m.message);
                }
                Some(StreamEvent::LiteralBegin(b)) => {
                    // the first piece of the body comes with its begin event
                    chunk_bytes += black_box(&b.data).len();
                    if context {
                        black_box(b.fetch());
                    }
                }
                Some(StreamEvent::LiteralChunk(c)) => chunk_bytes += black_box(c).len(),
                Some(StreamEvent::Error(_)) => bad += 1,
                _ => {}
            }
        }
    }
    eprintln!("{chunk_bytes} bytes streamed");
    (ok, bad)
}

/// Mode `interleave`: whole (`push_bytes` of the loaded input), the fast lane over reads split
/// off it (`push_bytes_mut_chunk`) and the lent lane (`push_read`) timed in turn, `rounds`
/// rounds, each variant's least wall time printed (the measure of `benches/session.rs`, in the
/// plain release profile: every pass reads the same buffer, nothing copied, the buffer taken
/// back after each pass; the order within a round reversed every other round).
fn interleave(data: &[u8], rounds: u32, opts: DecodeOptions) {
    use std::time::{Duration, Instant};
    let streamed_rx = || streamed_response_receiver(&opts);
    let whole = |b: &bytes::Bytes| {
        let mut rx = Receiver::new(config(), opts.clone(), Expect::Response);
        rx.push_bytes(b.clone());
        drain_messages(&mut rx)
    };
    let split = |mut rd: bytes::BytesMut| {
        let mut rx = streamed_rx();
        let mut n = 0;
        while !rd.is_empty() {
            if let Some(c) = rx.push_bytes_mut_chunk(rd.split_to((16 * 1024).min(rd.len()))) {
                black_box(c);
            }
            n += drain_messages(&mut rx);
        }
        n
    };
    let lent = |mut rd: bytes::BytesMut| {
        let mut rx = streamed_rx();
        let mut n = 0;
        while !rd.is_empty() {
            rx.push_read(&mut rd, 16 * 1024, |c| {
                black_box(c);
            });
            n += drain_messages(&mut rx);
        }
        n
    };
    let mut corpus = bytes::BytesMut::from(data);
    let total = corpus.len();
    let mut best = [Duration::MAX; 3];
    let mut counts = [0u64; 3];
    for r in 0..rounds {
        let order: [usize; 3] = if r % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] };
        for v in order {
            let t;
            if v == 0 {
                let b = std::mem::take(&mut corpus).freeze();
                t = Instant::now();
                counts[v] = whole(&b);
                best[v] = best[v].min(t.elapsed());
                corpus = b.try_into_mut().expect("the corpus buffer comes back");
                continue;
            }
            let mut rd = std::mem::take(&mut corpus);
            // holds the allocation through the pass (no free inside the timed part) and takes
            // the corpus back after it
            let mut first = rd.split_to(0);
            t = Instant::now();
            counts[v] = if v == 1 { split(rd) } else { lent(rd) };
            best[v] = best[v].min(t.elapsed());
            assert!(first.try_reclaim(total), "the corpus buffer comes back");
            // SAFETY: `first` starts the allocation that held the `total` input bytes; nothing
            // wrote to it since (reads and frames are only read), and its capacity was
            // reclaimed to `total` above, so these bytes are initialised.
            unsafe { first.set_len(total) };
            corpus = first;
        }
    }
    assert_eq!(&corpus[..], data, "the input is unchanged");
    assert!(
        counts[0] == counts[1] && counts[1] == counts[2],
        "{counts:?}"
    );
    print_least(
        rounds,
        ["whole", "split push_bytes_mut_chunk", "lent push_read"],
        best,
    );
}

/// Mode `interleave-read[-lenient]`: whole (`push_bytes` of the loaded input, as in
/// `interleave`), the lent lane over 16 KiB read(2)s of the corpus file, and those reads
/// alone, timed in turn (order reversed every other round), least
/// wall time of each. The lent lane includes the kernel's copy of the input, which the whole
/// side does not pay: the reads alone show how much that is.
fn interleave_read(file: &str, data: &[u8], rounds: u32, opts: DecodeOptions) {
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant};
    let f = open(file);
    let fd = f.as_raw_fd();
    let rewind = || {
        // SAFETY: lseek(2) on an open descriptor, no memory involved.
        assert_eq!(unsafe { libc::lseek(fd, 0, libc::SEEK_SET) }, 0);
    };
    let streamed_rx = || streamed_response_receiver(&opts);
    let shared = bytes::Bytes::copy_from_slice(data);
    let mut best = [Duration::MAX; 3];
    let mut counts = [0u64; 3];
    for r in 0..rounds {
        let order: [usize; 3] = if r % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] };
        for v in order {
            rewind();
            let t = Instant::now();
            counts[v] = match v {
                0 => {
                    let mut rx = Receiver::new(config(), opts.clone(), Expect::Response);
                    rx.push_bytes(shared.clone());
                    drain_messages(&mut rx)
                }
                1 => {
                    let mut rx = streamed_rx();
                    let mut buf = bytes::BytesMut::new();
                    let mut n = 0;
                    loop {
                        if read_lent(fd, &mut buf, &mut rx).0 == 0 {
                            break n;
                        }
                        n += drain_messages(&mut rx);
                    }
                }
                _ => {
                    let mut buf = bytes::BytesMut::with_capacity(16 * 1024);
                    loop {
                        buf.clear();
                        if read_into(fd, &mut buf, 16 * 1024) == 0 {
                            break counts[0];
                        }
                        black_box(&buf);
                    }
                }
            };
            best[v] = best[v].min(t.elapsed());
        }
    }
    assert!(counts.iter().all(|&c| c == counts[0]), "{counts:?}");
    print_least(
        rounds,
        ["whole", "read lent push_read", "reads alone"],
        best,
    );
}

fn run<M: Message>(data: &[u8], file: &str, mode: &str, expect: Expect) -> (u64, u64) {
    match mode {
        "readlent16k" => decode_read_lent(file, expect),
        "readonly16k" => read_only(file),
        "readroom16k" => decode_read_room(file, expect, false),
        "readroomchunk16k" => decode_read_room(file, expect, true),
        "streamed16k" => decode_streamed(data, expect),
        "streamedcopy16k" => decode_streamed_copy(data, expect),
        "streamedfast16k" => decode_streamed_fast(data, expect),
        "streamedmut16k" => decode_streamed_mut(data, expect, false),
        "streamedmut16k-context" => decode_streamed_mut(data, expect, true),
        "streamedmutfast16k" => decode_streamed_mut_fast(data, expect),
        "streamedlent16k" => decode_streamed_lent(data, expect, false),
        "streamedlent16k-skip" => decode_streamed_lent(data, expect, true),
        // the input copy every other mode makes per pass, alone (to subtract it)
        "copy" => {
            black_box(bytes::Bytes::copy_from_slice(data));
            (0, 0)
        }
        "copymut" => {
            black_box(bytes::BytesMut::from(data));
            (0, 0)
        }
        "whole" => decode_into::<M>(data, data.len()),
        "stream16k" => decode_into::<M>(data, 16 * 1024),
        "whole-next" => decode::<M>(data, data.len(), |m| {
            black_box(m);
        }),
        "stream16k-next" => decode::<M>(data, 16 * 1024, |m| {
            black_box(m);
        }),
        "rxwhole" => decode_rx_into(data, expect),
        "rx" => decode_rx(data, data.len(), expect, |m| {
            black_box(m);
        }),
        "rx16k" => decode_rx(data, 16 * 1024, expect, |m| {
            black_box(m);
        }),
        "framer" => {
            let mut f = Framer::new(config());
            f.push(data);
            let mut n = 0;
            while let Some(fr) = f.next_frame() {
                if let Frame::Message(m) = fr {
                    black_box(m);
                    n += 1;
                }
            }
            (n, 0)
        }
        "encode" => {
            let mut v = Vec::new();
            let r = decode::<M>(data, data.len(), |m| v.push(m));
            let mut buf = EncodeBuf::new();
            let t = std::time::Instant::now();
            let mut total = 0;
            for _ in 0..5 {
                for m in &v {
                    buf.clear();
                    m.encode(&mut buf);
                    total += black_box(&buf.out).len();
                }
            }
            let e = t.elapsed();
            eprintln!(
                "encoded {total} bytes (5 passes), {:.1} MB/s",
                total as f64 / e.as_secs_f64() / 1e6
            );
            r
        }
        m => panic!("unknown mode {m}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 2 && args[1] == "sizes" {
        sizes();
        return;
    }
    let [_, file, kind, mode, passes] = &args[..] else {
        eprintln!(
            "usage: profile_decode FILE response|command whole|stream16k|whole-next|stream16k-next|rx|rx16k|streamed16k|streamedfast16k|streamedcopy16k|streamedmut16k[-context]|streamedmutfast16k|streamedlent16k[-skip]|readlent16k|readonly16k|readroom16k|readroomchunk16k|interleave[-lenient]|interleave-read[-lenient]|copy|copymut|framer|encode PASSES"
        );
        std::process::exit(2);
    };
    let data = std::fs::read(file).expect("read corpus");
    let passes: u32 = passes.parse().expect("passes");
    if mode == "interleave-read" || mode == "interleave-read-lenient" {
        let opts = if mode == "interleave-read-lenient" {
            DecodeOptions::lenient()
        } else {
            DecodeOptions::default()
        };
        interleave_read(file, &data, passes, opts);
        return;
    }
    if mode == "interleave" || mode == "interleave-lenient" {
        let lenient = mode == "interleave-lenient";
        let opts = if lenient {
            DecodeOptions::lenient()
        } else {
            DecodeOptions::default()
        };
        interleave(&data, passes, opts);
        return;
    }
    let t = std::time::Instant::now();
    let mut r = (0, 0);
    for _ in 0..passes {
        r = match kind.as_str() {
            "response" => run::<Response>(&data, file, mode, Expect::Response),
            "command" => run::<Command>(&data, file, mode, Expect::Command),
            k => panic!("unknown kind {k}"),
        };
    }
    let e = t.elapsed() / passes;
    eprintln!(
        "{} ok, {} failed, {:.1} MB/s, {:.2} M msgs/s",
        r.0,
        r.1,
        data.len() as f64 / e.as_secs_f64() / 1e6,
        r.0 as f64 / e.as_secs_f64() / 1e6
    );
}

#[allow(dead_code)]
fn sizes() {
    use std::mem::size_of;
    eprintln!(
        "Response {} Data {} MessageDataItem {} Envelope {} BodyStructure {} Command {} CommandBody {} FlagFetch {} DateTime {}",
        size_of::<Response>(),
        size_of::<imapwire_codec::response::Data>(),
        size_of::<imapwire_codec::fetch::MessageDataItem>(),
        size_of::<imapwire_codec::envelope::Envelope>(),
        size_of::<imapwire_codec::body::BodyStructure>(),
        size_of::<Command>(),
        size_of::<imapwire_codec::command::CommandBody>(),
        size_of::<imapwire_codec::flag::FlagFetch>(),
        size_of::<imapwire_codec::datetime::DateTime>(),
    );
}

/// The read size of the `read*` modes: `IMAP_READ` bytes, 16 KiB unless set.
fn read_size() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| env_size("IMAP_READ", 16 * 1024))
}

/// The streaming threshold of the streamed modes: literals over `IMAP_STREAM_OVER` bytes,
/// 16 KiB unless set.
fn stream_over() -> u64 {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| env_size("IMAP_STREAM_OVER", 16 * 1024)) as u64
}

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
