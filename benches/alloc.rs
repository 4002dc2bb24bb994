//! Heap allocations per message, per decoder and corpus, counted by a wrapping global
//! allocator. Prints a table and writes `target/imap-bench/alloc.tsv` (read by
//! `benches/report.py`).
//!
//! ```sh
//! cargo bench -p imapwire-benches --bench alloc
//! ```
//!
//! Each figure is one pass over the whole corpus, everything included (buffer growth, the
//! decoded values, their drop), divided by the manifest's message count. The encoder is counted
//! on a second pass into a buffer reused from the first, as a long-lived connection would.
//! Positional arguments (other than cargo's `--bench`) filter decoders by substring.

mod common;

use common::{Corpus, Decoder, Outcome};
use imapwire_codec::EncodeBuf;

#[global_allocator]
static GLOBAL: imapwire_testalloc::Count = imapwire_testalloc::Count;

/// Allocations and bytes during `f`.
fn count<R>(f: impl FnOnce() -> R) -> (R, u64, u64) {
    imapwire_testalloc::Count::during(f)
}

struct Cell {
    corpus: String,
    id: &'static str,
    allocs: u64,
    bytes: u64,
    messages: u64,
    status: String,
}

fn status_of(c: &Corpus, o: &Outcome) -> String {
    if o.passed(c) {
        "ok".into()
    } else {
        o.describe(c)
    }
}

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |id: &str| filters.is_empty() || filters.iter().any(|f| id.contains(f.as_str()));
    let corpora = common::load_corpora();
    let mut cells = Vec::new();
    for c in &corpora {
        for d in Decoder::ALL {
            if !d.supports(c.direction) || !wanted(d.id()) {
                continue;
            }
            let (o, allocs, bytes) = count(|| d.run(c));
            cells.push(Cell {
                corpus: c.name.clone(),
                id: d.id(),
                allocs,
                bytes,
                messages: c.messages,
                status: status_of(c, &o),
            });
        }
        if wanted("ours-encode") {
            let status;
            let (mut allocs, mut bytes) = (0, 0);
            match common::decode_all(c) {
                Ok(msgs) => {
                    let mut buf = EncodeBuf::new();
                    msgs.encode_each(&mut buf);
                    (_, allocs, bytes) = count(|| msgs.encode_each(&mut buf));
                    status = "ok".to_owned();
                }
                Err(o) => status = format!("pending: our decoder {}", o.describe(c)),
            }
            cells.push(Cell {
                corpus: c.name.clone(),
                id: "ours-encode",
                allocs,
                bytes,
                messages: c.messages,
                status,
            });
        }
    }

    println!(
        "{:<14} {:<24} {:>12} {:>12} {:>14}  status",
        "corpus", "decoder", "allocs/msg", "bytes/msg", "allocs"
    );
    let mut rows = Vec::new();
    for x in &cells {
        let per = x.allocs as f64 / x.messages as f64;
        let bper = x.bytes as f64 / x.messages as f64;
        let shown = if x.status == "ok" {
            "ok".to_owned()
        } else {
            let who = if Decoder::ALL.iter().any(|d| d.id() == x.id && d.is_peer()) {
                format!("peer {}: ", x.id)
            } else {
                String::new()
            };
            format!("{who}{}", x.status)
        };
        println!(
            "{:<14} {:<24} {:>12.2} {:>12.0} {:>14}  {shown}",
            x.corpus, x.id, per, bper, x.allocs
        );
        rows.push(vec![
            x.corpus.clone(),
            x.id.to_owned(),
            x.allocs.to_string(),
            x.bytes.to_string(),
            x.messages.to_string(),
            x.status.clone(),
        ]);
    }
    common::update_tsv(
        "alloc.tsv",
        "corpus\tdecoder\tallocs\tbytes\tmessages\tstatus",
        &rows,
    );
}
