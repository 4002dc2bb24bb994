#!/usr/bin/env bash
# The published crates build with the oldest Rust their `rust-version` (workspace
# Cargo.toml) names: the toolchain of that version checks them, with the lock file in use.
set -euxo pipefail
cd "$(dirname "$0")/.."
msrv=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml)
[ -n "$msrv" ]
rustup toolchain install "$msrv" --profile minimal
cargo "+$msrv" check -p imapwire-codec -p imapwire-session -p imapwire-tokio --target-dir target/msrv
