//! Workbench for the `imap-codec` workspace: shared helpers for the examples (`dissect`) and
//! the criterion benchmarks. Not published.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use imap_codec;
