//! The client session's cost on top of the codec (issue: driving the corpus' FETCH responses
//! through `imapwire_session::client::Client` costs at most 1.25x the codec's decode alone),
//! and the sequence-number map of a selected mailbox at 1,000,000 messages.
//!
//! ```sh
//! cargo bench -p imapwire-benches --bench session
//! ```
//!
//! Both sides of the ratio read the same stream in the same 16 KiB pieces with the same copying
//! input path (`push(&[u8])`) and take every event out: the codec alone through a
//! `Receiver` expecting responses; the client after a greeting and a SELECT that announced
//! the mailbox's size, so that FETCH UIDs go into its sequence map as in real use. Ratios
//! are printed at the end and written to `target/imap-bench/session.tsv`.
//!
//! Also the streaming target: the fetch-bodies corpus through the codec in 16 KiB reads with
//! bodies over 16 KiB handed out as chunks, against the whole stream at once: on the loaded
//! corpus, no copy on either side (`codec_streamed`: reads as `push_bytes` slices, the
//! general path; `codec_streamed_split`: reads split off a `BytesMut` holding the corpus and
//! pushed with the fast lane `push_bytes_mut_chunk`, the target's measure;
//! `codec_streamed_lent`: the same reads offered with `push_read`, a read inside a body lent
//! to a closure, no `Bytes` made for it), and with fresh
//! buffers on both sides (the input copied in, as from a socket: `codec_whole_fresh`,
//! `codec_streamed_fresh`), and the room lane (`codec_streamed_room`: each read copied
//! into a room of the receiver's own buffer, `read_room` and `push_room`), which pays the
//! input's copy as a read does, so its ratio is reported against both whole sides. Besides criterion's figures the streaming pairs are timed
//! interleaved (least time of many passes, robust to a loaded machine), with probes of where
//! the time goes (`IMAP_BENCH_ROUNDS`, default 200).

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::Corpus;
use criterion::{Criterion, SamplingMode, Throughput};
use imapwire_codec::DecodeOptions;
use imapwire_codec::codec::{Expect, Receiver, StreamEvent};
use imapwire_codec::command::CommandBody;
use imapwire_codec::mailbox::Mailbox;
use imapwire_codec::sequence::{SeqNum, Uid};
use imapwire_session::client::{Client, ClientConfig, Event};
use imapwire_session::mailbox::SeqMap;

const CHUNK: usize = 16 * 1024;

/// The codec alone: frames, decodes and drops every response.
fn codec_only(data: &[u8]) -> u64 {
    let mut rx = Receiver::new(
        common::framer_config(),
        DecodeOptions::lenient(),
        Expect::Response,
    );
    let mut n = 0;
    for piece in data.chunks(CHUNK) {
        rx.push(piece);
        for ev in rx.by_ref() {
            if let StreamEvent::Message(m) = ev {
                black_box(&m);
                n += 1;
            }
        }
    }
    n
}

/// A client with INBOX selected, told the mailbox has `exists` messages.
fn selected_client(exists: u32) -> Client {
    let now = Instant::now();
    let cfg = ClientConfig::default()
        .with_encrypted(true)
        .with_limits(common::framer_config().limits)
        .with_keepalive(None);
    let mut c = Client::new(cfg, now).expect("client");
    let _ = c.handle_input(now, b"* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n");
    let body = CommandBody::Select {
        mailbox: Mailbox::new("INBOX").expect("mailbox"),
        params: Vec::new(),
    };
    c.submit(now, body).expect("select");
    while c.poll_transmit(now).is_some() {}
    let sel = format!("* {exists} EXISTS\r\nA0001 OK [READ-WRITE] done\r\n");
    let _ = c.handle_input(now, sel.as_bytes());
    while c.poll_event().is_some() {}
    c
}

/// The same stream through the client session.
fn through_client(data: &[u8], exists: u32) -> u64 {
    let now = Instant::now();
    let mut c = selected_client(exists);
    let mut n = 0;
    for piece in data.chunks(CHUNK) {
        let mut rest = piece;
        while !rest.is_empty() {
            let used = c.handle_input(now, rest);
            rest = &rest[used..];
            while let Some(ev) = c.poll_event() {
                if matches!(ev, Event::Data(_)) {
                    n += 1;
                }
                black_box(ev);
            }
        }
    }
    n
}

/// The codec on the whole stream at once (`push_bytes`, no copy): the reference of the
/// streaming target.
fn codec_whole(data: &bytes::Bytes) -> u64 {
    let mut rx = Receiver::new(
        common::framer_config(),
        DecodeOptions::lenient(),
        Expect::Response,
    );
    rx.push_bytes(data.clone());
    let mut n = 0;
    for ev in rx.by_ref() {
        if let StreamEvent::Message(m) = ev {
            black_box(&m);
            n += 1;
        }
    }
    n
}

/// `f` over the corpus held in `buf`, frozen for the pass and taken back without a copy (so
/// that every no-copy variant reads the same memory as [`codec_streamed_split`]).
fn frozen(buf: &mut bytes::BytesMut, f: impl FnOnce(&bytes::Bytes) -> u64) -> u64 {
    let b = std::mem::take(buf).freeze();
    let n = f(&b);
    // Every frame of the pass is dropped: the buffer is unique again.
    *buf = b.try_into_mut().expect("the corpus buffer must come back");
    n
}

/// The receiver of the streamed sides: bodies over 16 KiB come out as chunk events.
fn streamed_receiver() -> Receiver {
    let fc = common::framer_config().with_stream_literals_over(Some(CHUNK as u64));
    Receiver::new(fc, DecodeOptions::lenient(), Expect::Response)
}

/// Takes the events `rx` has ready, and `fast`, a chunk the fast lane handed back: returns
/// how many were messages (body chunks are looked at, not counted).
fn drain_streamed(rx: &mut Receiver, fast: Option<bytes::Bytes>) -> u64 {
    if let Some(b) = fast {
        black_box(&b);
    }
    let mut n = 0;
    for ev in rx.by_ref() {
        match ev {
            StreamEvent::Message(m) => {
                black_box(&m);
                n += 1;
            }
            StreamEvent::LiteralChunk(b) => {
                black_box(&b);
            }
            // the first piece of a body comes with its begin event
            StreamEvent::LiteralBegin(b) => {
                black_box(&b.data);
            }
            _ => {}
        }
    }
    n
}

/// The codec in 16 KiB reads, each handed over as its own buffer (`push_bytes`, a slice of
/// the loaded corpus, as a socket read frozen into `Bytes`), with bodies over 16 KiB
/// streamed as chunk events: the general path (every chunk an event; a message that
/// straddles two reads is copied).
fn codec_streamed(data: &bytes::Bytes) -> u64 {
    let mut rx = streamed_receiver();
    let mut n = 0;
    let mut at = 0;
    while at < data.len() {
        let end = (at + CHUNK).min(data.len());
        rx.push_bytes(data.slice(at..end));
        at = end;
        n += drain_streamed(&mut rx, None);
    }
    n
}

/// The streaming target's measurement without copies: the 16 KiB reads split off one
/// `BytesMut` holding the loaded corpus (`split_to`, as a socket reader splits its reads off
/// its buffer) and pushed with `push_bytes_mut_chunk` (consecutive reads joined without a
/// copy; a read inside a streamed body handed straight back as its chunk), bodies over
/// 16 KiB streamed. `buf` holds the corpus and is taken back after the pass (nothing is
/// copied in or written: the pass reads the same memory as [`codec_whole`]).
fn codec_streamed_split(buf: &mut bytes::BytesMut) -> u64 {
    let total = buf.len();
    let mut rd = std::mem::take(buf);
    // an empty handle at the start of the allocation, to take the corpus back with
    let mut first = rd.split_to(0);
    let mut rx = streamed_receiver();
    let mut n = 0;
    while !rd.is_empty() {
        let fast = rx.push_bytes_mut_chunk(rd.split_to(CHUNK.min(rd.len())));
        n += drain_streamed(&mut rx, fast);
    }
    drop(rx);
    drop(rd);
    // Every piece is dropped: `first` is the allocation's only handle again.
    assert!(first.try_reclaim(total), "the corpus buffer must come back");
    // SAFETY: `first` starts the allocation that held the `total` corpus bytes; nothing
    // wrote to it since (the reads and the frames cut from them are only read), and its
    // capacity was reclaimed to `total` above, so these bytes are initialised.
    unsafe { first.set_len(total) };
    *buf = first;
    n
}

/// As [`codec_streamed_split`], with the chunk lent (`push_read`): each 16 KiB read is the
/// front of the buffer holding the rest of the corpus (as a read lands in a reader's buffer);
/// a read inside a streamed body is lent to a closure and advanced past (no split, no
/// `Bytes`), other reads are split off and pushed with `push_bytes_mut`. `buf` is taken back
/// after the pass, as there.
fn codec_streamed_lent(buf: &mut bytes::BytesMut) -> u64 {
    let total = buf.len();
    let mut rd = std::mem::take(buf);
    let mut first = rd.split_to(0);
    let mut rx = streamed_receiver();
    let mut n = 0;
    while !rd.is_empty() {
        rx.push_read(&mut rd, CHUNK, |c| {
            black_box(c);
        });
        n += drain_streamed(&mut rx, None);
    }
    drop(rx);
    drop(rd);
    assert!(first.try_reclaim(total), "the corpus buffer must come back");
    // SAFETY: as in `codec_streamed_split`: `first` starts the allocation that held the
    // `total` corpus bytes, nothing wrote to it, and its capacity was reclaimed to `total`.
    unsafe { first.set_len(total) };
    *buf = first;
    n
}

/// The streaming pair with fresh buffers on both sides, as a client receives the stream: the
/// whole side copies the stream into one buffer (one read of everything) and hands it over
/// with `push_bytes`; the streamed side reads it in 16 KiB pieces into one `BytesMut`
/// (`reserve`, copy in, `split`, as a socket reader does) handed over with
/// `push_bytes_mut_chunk`, bodies over 16 KiB streamed. Both pay the copy of the input. The
/// whole side's buffer is taken back after each pass (`buf`, already paged in) so that the
/// pair compares decoding and copying, not the kernel paging in a new 44 MB allocation per
/// pass (which made the first version of this pair print 0.18).
fn codec_whole_fresh(data: &[u8], buf: &mut bytes::BytesMut) -> u64 {
    let mut b = std::mem::take(buf);
    b.clear();
    b.extend_from_slice(data);
    let b = b.freeze();
    let n = codec_whole(&b);
    // Every message of the pass is dropped: the buffer is unique again.
    *buf = b.try_into_mut().unwrap_or_default();
    n
}

/// See [`codec_whole_fresh`].
fn codec_streamed_fresh(data: &[u8]) -> u64 {
    let mut rx = streamed_receiver();
    let mut n = 0;
    let mut rd = bytes::BytesMut::new();
    for piece in data.chunks(CHUNK) {
        rd.reserve(CHUNK);
        rd.extend_from_slice(piece);
        let fast = rx.push_bytes_mut_chunk(rd.split());
        n += drain_streamed(&mut rx, fast);
    }
    n
}

/// The room lane as a socket reader uses it: each 16 KiB read copied from the corpus into a
/// room of the receiver's own buffer (`read_room`, then `put_slice`, as read(2) writes into
/// it) and handed back with `push_room` (a streamed body's part lent to a closure, no
/// `Bytes`), bodies over 16 KiB streamed; events taken after each read that was not lent
/// whole (none follow one: `push_room`'s contract). Pays the copy of the input, as a read
/// does: compare with [`codec_whole`] (input already in memory) and with
/// [`codec_whole_fresh`] (the input copied into one buffer first).
fn codec_streamed_room(data: &[u8]) -> u64 {
    use bytes::BufMut;
    let mut rx = streamed_receiver();
    let mut n = 0;
    for piece in data.chunks(CHUNK) {
        let mut room = rx.read_room(CHUNK);
        room.put_slice(piece);
        let lent = rx.push_room(room, |c| {
            black_box(c);
        });
        if lent < piece.len() {
            n += drain_streamed(&mut rx, None);
        }
    }
    n
}

/// Probe: [`codec_whole`] after reading one byte of every 16 KiB of the input (many
/// independent loads in a tight loop: the cache lines and pages the decoder then finds
/// warm). Faster than `codec_whole` alone when the whole side waits on memory.
fn codec_whole_touched(data: &bytes::Bytes) -> u64 {
    let mut s = 0u8;
    for at in (0..data.len()).step_by(CHUNK) {
        s = s.wrapping_add(data[at]);
    }
    black_box(s);
    codec_whole(data)
}

/// Probe: [`codec_streamed`] with the first byte of each read read before its push. If the
/// streamed path touched the start of every read anyway, this would cost nothing more.
fn codec_streamed_touched(data: &bytes::Bytes) -> u64 {
    let mut rx = streamed_receiver();
    let mut n = 0;
    let mut at = 0;
    while at < data.len() {
        let end = (at + CHUNK).min(data.len());
        black_box(data[at]);
        rx.push_bytes(data.slice(at..end));
        at = end;
        n += drain_streamed(&mut rx, None);
    }
    n
}

/// Probe: the reference counting alone of [`codec_streamed`]'s reads (a slice of the corpus
/// per 16 KiB read, dropped): two atomic operations per read.
fn slices_only(data: &bytes::Bytes) -> u64 {
    let mut n = 0;
    for at in (0..data.len()).step_by(CHUNK) {
        let b = black_box(data.slice(at..(at + CHUNK).min(data.len())));
        n += b.len() as u64;
    }
    n
}

/// Times `f` over the corpus as a criterion benchmark, adding iterations and time to `acc`.
fn timed(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    acc: &mut (u64, Duration),
    f: impl Fn() -> u64,
) {
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                black_box(f());
            }
            let e = t.elapsed();
            acc.0 += iters;
            acc.1 += e;
            e
        })
    });
}

/// The passes of `variants` interleaved (one pass of each in turn, `rounds` times, the order
/// reversed every other round), the least wall time of each kept: on a loaded machine the
/// least time of many short passes is the one least disturbed, and interleaving exposes every
/// variant to the same load.
fn interleaved(variants: &[(&str, &dyn Fn() -> u64)], rounds: usize) -> Vec<Duration> {
    let mut best = vec![Duration::MAX; variants.len()];
    for r in 0..rounds {
        for i in 0..variants.len() {
            // Every other round runs the variants in reverse order: a pass is slowed by what
            // ran just before it (in a fixed order the whole pass, after the probes, took
            // 433-504 us against 342 us when it also ran after the others), so each variant's
            // least time is taken over two positions.
            let v = if r % 2 == 1 {
                variants.len() - 1 - i
            } else {
                i
            };
            let t = Instant::now();
            black_box((variants[v].1)());
            best[v] = best[v].min(t.elapsed());
        }
    }
    best
}

fn streaming_benches(c: &mut Criterion, k: &Corpus, rows: &mut Vec<String>) {
    // The corpus in one buffer that every no-copy variant reads (the same memory, in the
    // same cache state): whole and `push_bytes` slices of it frozen, or reads split off it.
    let corpus = std::cell::RefCell::new(bytes::BytesMut::from(&k.data[..]));
    let whole_pass = || frozen(&mut corpus.borrow_mut(), codec_whole);
    let streamed_pass = || frozen(&mut corpus.borrow_mut(), codec_streamed);
    let split_pass = || codec_streamed_split(&mut corpus.borrow_mut());
    let lent_pass = || codec_streamed_lent(&mut corpus.borrow_mut());
    assert_eq!(whole_pass(), k.messages);
    assert_eq!(streamed_pass(), k.messages);
    assert_eq!(split_pass(), k.messages);
    assert_eq!(lent_pass(), k.messages);
    assert_eq!(
        &corpus.borrow()[..],
        &k.data[..],
        "the corpus comes back unchanged"
    );
    let mut whole_buf = bytes::BytesMut::new();
    assert_eq!(codec_whole_fresh(&k.data, &mut whole_buf), k.messages);
    assert!(
        whole_buf.capacity() >= k.data.len(),
        "the whole side's buffer must come back for reuse"
    );
    assert_eq!(codec_streamed_fresh(&k.data), k.messages);
    assert_eq!(codec_streamed_room(&k.data), k.messages);
    let mut g = c.benchmark_group(format!("streaming/{}", k.name));
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Bytes(k.bytes()));
    let mut whole = (0u64, Duration::ZERO);
    let mut streamed = (0u64, Duration::ZERO);
    let mut split = (0u64, Duration::ZERO);
    timed(&mut g, "codec whole buffer", &mut whole, whole_pass);
    timed(
        &mut g,
        "codec 16k reads (push_bytes), bodies streamed",
        &mut streamed,
        streamed_pass,
    );
    timed(
        &mut g,
        "codec 16k reads split off (push_bytes_mut_chunk), bodies streamed",
        &mut split,
        split_pass,
    );
    let mut whole_fresh = (0u64, Duration::ZERO);
    let mut streamed_fresh = (0u64, Duration::ZERO);
    let whole_buf = std::cell::RefCell::new(whole_buf);
    timed(
        &mut g,
        "codec whole buffer, fresh copy",
        &mut whole_fresh,
        || codec_whole_fresh(&k.data, &mut whole_buf.borrow_mut()),
    );
    timed(
        &mut g,
        "codec 16k reads into one BytesMut (push_bytes_mut_chunk), bodies streamed",
        &mut streamed_fresh,
        || codec_streamed_fresh(&k.data),
    );
    let mut room = (0u64, Duration::ZERO);
    timed(
        &mut g,
        "codec 16k reads into rooms (read_room, put_slice, push_room), bodies streamed",
        &mut room,
        || codec_streamed_room(&k.data),
    );
    g.finish();
    let per = |(n, t): (u64, Duration)| t.as_secs_f64() / n.max(1) as f64;
    let mut ratio = |label: &str, a, b| {
        rows.push(format!("{label} {}\t{:.3}", k.name, per(a) / per(b)));
    };
    ratio(
        "streamed 16k room lane / whole (input in memory)",
        room,
        whole,
    );
    ratio(
        "streamed 16k room lane / whole, fresh copy",
        room,
        whole_fresh,
    );
    ratio("streamed 16k push_bytes / whole", streamed, whole);
    ratio(
        "streamed 16k split push_bytes_mut_chunk / whole",
        split,
        whole,
    );
    ratio(
        "streamed 16k push_bytes_mut_chunk / whole, fresh buffers",
        streamed_fresh,
        whole_fresh,
    );
    // The same without criterion: passes interleaved, least time each (robust to load), with
    // probes of where the time goes.
    if criterion_filter_matches("streaming/") {
        let whole_buf = &whole_buf;
        let variants: [(&str, &dyn Fn() -> u64); 9] = [
            ("whole", &whole_pass),
            ("whole, fresh copy", &|| {
                codec_whole_fresh(&k.data, &mut whole_buf.borrow_mut())
            }),
            (
                "streamed room lane (read_room, put_slice, push_room)",
                &|| codec_streamed_room(&k.data),
            ),
            ("streamed push_bytes", &streamed_pass),
            ("streamed split push_bytes_mut_chunk", &split_pass),
            ("streamed push_read, chunks lent", &lent_pass),
            ("probe: whole, input touched first", &|| {
                frozen(&mut corpus.borrow_mut(), codec_whole_touched)
            }),
            ("probe: streamed push_bytes, reads touched first", &|| {
                frozen(&mut corpus.borrow_mut(), codec_streamed_touched)
            }),
            ("probe: a slice per read alone", &|| {
                frozen(&mut corpus.borrow_mut(), slices_only)
            }),
        ];
        let rounds = common::env_or("IMAP_BENCH_ROUNDS", 200usize);
        let best = interleaved(&variants, rounds);
        for ((name, _), t) in variants.iter().zip(&best) {
            rows.push(format!(
                "interleaved least of {rounds}: {name} {}\t{:.1} us = {:.3} of whole",
                k.name,
                t.as_secs_f64() * 1e6,
                t.as_secs_f64() / best[0].as_secs_f64()
            ));
        }
        rows.push(format!(
            "interleaved least of {rounds}: room lane / whole, fresh copy {}\t{:.3}",
            k.name,
            best[2].as_secs_f64() / best[1].as_secs_f64()
        ));
    }
}

/// Whether criterion's name filter (the first free argument, if any) can select a benchmark
/// whose name starts with `group`.
fn criterion_filter_matches(group: &str) -> bool {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    filter.is_none_or(|f| group.contains(&f) || f.contains(group) || group.starts_with(&f))
}

fn seqmap_benches(c: &mut Criterion, rows: &mut Vec<String>) {
    const N: u32 = 1_000_000;
    let dense = SeqMap::from_uids((1..=N).map(|u| Uid::new(u).expect("uid"))).expect("map");
    // Random sparse UIDs: gaps of 1..=7 from a fixed xorshift sequence.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut u = 0u32;
    let sparse_uids: Vec<u32> = (0..N)
        .map(|_| {
            u += 1 + (rnd() % 7) as u32;
            u
        })
        .collect();
    let sparse =
        SeqMap::from_uids(sparse_uids.iter().map(|&u| Uid::new(u).expect("uid"))).expect("map");
    rows.push(format!(
        "seqmap bytes/message dense\t{:.4}",
        dense.heap_bytes() as f64 / f64::from(N)
    ));
    rows.push(format!(
        "seqmap bytes/message sparse\t{:.3}",
        sparse.heap_bytes() as f64 / f64::from(N)
    ));
    let mut g = c.benchmark_group("seqmap-1M");
    let mut i = 0usize;
    g.bench_function("uid-to-seq sparse", |b| {
        b.iter(|| {
            i = (i + 7919) % sparse_uids.len();
            black_box(sparse.seq(Uid::new(sparse_uids[i]).expect("uid")))
        })
    });
    // EXPUNGE of a random message: measured on a fresh copy per batch, so every expunge hits
    // a map of about 1,000,000 messages.
    for (name, map) in [("expunge sparse", &sparse), ("expunge dense", &dense)] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let batch = left.min(1000);
                    let mut m = map.clone();
                    let t = Instant::now();
                    for _ in 0..batch {
                        let s = 1 + (rnd() % u64::from(m.len())) as u32;
                        black_box(m.expunge(SeqNum::new(s).expect("seq")).ok());
                    }
                    total += t.elapsed();
                    left -= batch;
                }
                total
            })
        });
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let (samples, warm, measure) = common::criterion_settings();
    c = c
        .sample_size(samples.max(10))
        .warm_up_time(warm)
        .measurement_time(measure);
    let corpora: Vec<Corpus> = common::load_corpora()
        .into_iter()
        .filter(|k| {
            matches!(
                k.name.as_str(),
                "fetch-flags" | "fetch-headers" | "fetch-bodies"
            )
        })
        .collect();
    let mut rows = Vec::new();
    for k in &corpora {
        let exists = u32::try_from(k.messages).unwrap_or(u32::MAX);
        // Both must see every message.
        let a = codec_only(&k.data);
        let b = through_client(&k.data, exists);
        assert_eq!(
            a, k.messages,
            "{}: codec decoded {a} of {}",
            k.name, k.messages
        );
        assert!(
            b + 1 >= a,
            "{}: client reported {b} data of {a} messages",
            k.name
        );
        let mut g = c.benchmark_group(format!("session/{}", k.name));
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(Throughput::Bytes(k.bytes()));
        let mut t_codec = (0u64, Duration::ZERO);
        let mut t_client = (0u64, Duration::ZERO);
        g.bench_function("codec Receiver 16k", |bch| {
            bch.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    black_box(codec_only(&k.data));
                }
                let e = t.elapsed();
                t_codec.0 += iters;
                t_codec.1 += e;
                e
            })
        });
        g.bench_function("client session 16k", |bch| {
            bch.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    black_box(through_client(&k.data, exists));
                }
                let e = t.elapsed();
                t_client.0 += iters;
                t_client.1 += e;
                e
            })
        });
        g.finish();
        let per = |(n, t): (u64, Duration)| t.as_secs_f64() / n.max(1) as f64;
        let ratio = per(t_client) / per(t_codec);
        rows.push(format!("client/codec {}\t{ratio:.3}", k.name));
    }
    for k in corpora.iter().filter(|k| k.name == "fetch-bodies") {
        streaming_benches(&mut c, k, &mut rows);
    }
    seqmap_benches(&mut c, &mut rows);
    let dir = common::results_dir();
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("session.tsv"), rows.join("\n") + "\n");
    println!("\nsession ratios (same run):");
    for r in &rows {
        println!("  {r}");
    }
    c.final_summary();
}
