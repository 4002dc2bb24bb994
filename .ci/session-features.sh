#!/usr/bin/env bash
# imapwire-session's optional features, which `cargo test --workspace` does not enable:
# the client's `tracing` spans (one per command, tag and name, no secrets) and `serde` (the
# synchronisation state and journal). One release build with both features serves both
# tests; clippy checks each feature on its own (a cheap check build each).
set -euxo pipefail
cd "$(dirname "$0")/.."
cargo test -p imapwire-session --release --features tracing,serde --test tracing_spans --test sync_serde
cargo clippy -p imapwire-session --all-targets --features tracing -- -D warnings
cargo clippy -p imapwire-session --all-targets --features serde -- -D warnings
