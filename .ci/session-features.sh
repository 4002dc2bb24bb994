#!/usr/bin/env bash
# imapwire-session's optional features, which `cargo test --workspace` does not enable:
# the client's `tracing` spans (one per command, tag and name, no secrets) and `serde`.
set -euxo pipefail
cd "$(dirname "$0")/.."
cargo test -p imapwire-session --release --features tracing --test tracing_spans
cargo clippy -p imapwire-session --all-targets --features tracing -- -D warnings
# The synchronisation state and journal through serde (feature `serde`).
cargo test -p imapwire-session --release --features serde --test sync_serde
cargo clippy -p imapwire-session --all-targets --features serde -- -D warnings
