#!/usr/bin/env bash
# imapwire-session's optional features, which `cargo test --workspace` does not enable:
# the client's `tracing` spans (one per command, tag and name, no secrets).
set -euxo pipefail
cd "$(dirname "$0")/.."
cargo test -p imapwire-session --release --features tracing --test tracing_spans
cargo clippy -p imapwire-session --all-targets --features tracing -- -D warnings
