//! Decode/encode throughput on the generated IMAP corpus: our codec, the peers (crates.io
//! `imap-codec` 2.0.0-alpha.10 and `imap-proto` 0.17) and the framing baselines, whole buffer
//! and fed in 16 KiB chunks. See `benches/README.md`.
//!
//! ```sh
//! cargo bench -p imapwire-benches --bench decode   # everything (see benches/README.md)
//! IMAP_BENCH_MEASURE=1 IMAP_BENCH_ONLY=list cargo bench -p imapwire-benches --bench decode -- imap-proto
//! ```
//!
//! Before measuring, every decoder is run once over every corpus and must decode every message
//! (their number is compared with the manifest). A decoder that does not is reported as
//! `FAILED corpus Y at message N` and not measured on that corpus (set
//! `IMAP_BENCH_INCLUDE_FAILING=1` to measure it anyway). Results: criterion's
//! `target/criterion/<corpus>/<decoder>/`, and `target/imap-bench/status.tsv`.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{Corpus, Decoder, Outcome};
use criterion::{Criterion, SamplingMode, Throughput};
use imapwire_codec::EncodeBuf;

/// Time and iterations measured by criterion for one benchmark (warm-up included).
#[derive(Default, Clone, Copy)]
struct Acc {
    iters: u64,
    time: Duration,
}

impl Acc {
    fn per_iter(&self) -> Option<f64> {
        (self.iters > 0).then(|| self.time.as_secs_f64() / self.iters as f64)
    }
}

struct Row {
    corpus: String,
    id: &'static str,
    bytes: u64,
    messages: u64,
    acc: Acc,
}

fn bench<R>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &str,
    mut f: impl FnMut() -> R,
) -> Acc {
    let mut acc = Acc::default();
    group.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                black_box(f());
            }
            let e = t.elapsed();
            acc.iters += iters;
            acc.time += e;
            e
        })
    });
    acc
}

fn label(d: Decoder) -> String {
    if d.is_peer() {
        format!("peer {}", d.id())
    } else {
        d.id().to_owned()
    }
}

fn status_row(c: &Corpus, id: &str, o: &Outcome) -> Vec<String> {
    let status = if o.unsupported {
        "n/a"
    } else if o.passed(c) {
        "ok"
    } else {
        "FAILED"
    };
    vec![
        c.name.clone(),
        id.to_owned(),
        status.to_owned(),
        o.ok.to_string(),
        o.failed.to_string(),
        c.messages.to_string(),
        o.describe(c),
    ]
}

const STATUS_HEADER: &str = "corpus\tdecoder\tstatus\tdecoded\tfailed\texpected\tdetail";

fn main() {
    // Criterion writes to `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion` taken from the
    // working directory, which is this package's folder (benches/) under `cargo bench`, while
    // the corpus, status.tsv and report.py take a relative `CARGO_TARGET_DIR` from the
    // workspace root. Point criterion at the same place.
    if std::env::var_os("CRITERION_HOME").is_none() {
        // SAFETY: first statement of `main`, no other thread exists yet.
        unsafe { std::env::set_var("CRITERION_HOME", common::target_dir().join("criterion")) };
    }
    let corpora = common::load_corpora();
    let include_failing = common::env_or("IMAP_BENCH_INCLUDE_FAILING", 0u8) != 0;

    // 1. Correctness pass: every decoder over every corpus, once.
    println!("== checking every decoder on every corpus (message counts from the manifest)");
    let mut status = Vec::new();
    let mut passed = Vec::new(); // (corpus index, decoder)
    for (ci, c) in corpora.iter().enumerate() {
        for d in Decoder::ALL {
            let o = d.run(c);
            if o.unsupported {
                continue;
            }
            println!("{}: {}", label(d), o.describe(c));
            status.push(status_row(c, d.id(), &o));
            if o.passed(c) || include_failing {
                passed.push((ci, d));
            }
        }
    }
    common::update_tsv("status.tsv", STATUS_HEADER, &status);

    // 2. Measurements.
    let (samples, warm, measure) = common::criterion_settings();
    let mut crit = Criterion::default()
        .sample_size(samples)
        .warm_up_time(warm)
        .measurement_time(measure)
        .configure_from_args();
    let mut rows = Vec::new();
    for (ci, c) in corpora.iter().enumerate() {
        let mut group = crit.benchmark_group(format!("{}{}", c.name, common::scale_suffix()));
        group.sampling_mode(SamplingMode::Flat);
        group.throughput(Throughput::BytesDecimal(c.bytes()));
        for &(_, d) in passed.iter().filter(|(i, _)| *i == ci) {
            let acc = bench(&mut group, d.id(), || d.run(c).ok);
            rows.push(Row {
                corpus: c.name.clone(),
                id: d.id(),
                bytes: c.bytes(),
                messages: c.messages,
                acc,
            });
        }
        // Our encoder: every decoded message into one reused buffer.
        match common::decode_all(c) {
            Ok(msgs) => {
                let mut buf = EncodeBuf::new();
                let out_bytes = msgs.encode_each(&mut buf);
                status.push(vec![
                    c.name.clone(),
                    "ours-encode".into(),
                    "ok".into(),
                    msgs.len().to_string(),
                    "0".into(),
                    c.messages.to_string(),
                    format!("{} messages re-encoded to {out_bytes} bytes", msgs.len()),
                ]);
                group.throughput(Throughput::BytesDecimal(out_bytes));
                let acc = bench(&mut group, "ours-encode", || msgs.encode_each(&mut buf));
                rows.push(Row {
                    corpus: c.name.clone(),
                    id: "ours-encode",
                    bytes: out_bytes,
                    messages: c.messages,
                    acc,
                });
            }
            Err(o) => {
                println!(
                    "ours-encode: pending on {}: our decoder does not decode it yet",
                    c.name
                );
                let mut row = status_row(c, "ours-encode", &o);
                row[6] = format!("not measured, decode failed: {}", row[6]);
                status.push(row);
            }
        }
        group.finish();
    }
    common::update_tsv("status.tsv", STATUS_HEADER, &status);

    // 3. Summary with messages/s (criterion prints bytes/s only).
    println!("\n== summary (mean over criterion's iterations, warm-up included)");
    println!(
        "{:<14} {:<24} {:>10} {:>14}",
        "corpus", "decoder", "MB/s", "msgs/s"
    );
    for r in &rows {
        if let Some(t) = r.acc.per_iter() {
            println!(
                "{:<14} {:<24} {:>10.1} {:>14.0}",
                r.corpus,
                r.id,
                r.bytes as f64 / t / 1e6,
                r.messages as f64 / t
            );
        }
    }
    for s in status.iter().filter(|s| s[2] == "FAILED") {
        let who = if Decoder::ALL.iter().any(|d| d.id() == s[1] && d.is_peer()) {
            format!("peer {}", s[1])
        } else {
            s[1].clone()
        };
        println!("{who}: {}", s[6]);
    }
    println!("(table: python3 benches/report.py)");
    crit.final_summary();
}
