//! The example client's command-line parsing (`examples/client/args.rs`) and its unit tests
//! (defaults: port 993 for implicit TLS and 143 otherwise, timeout 30 s; usage errors; values
//! starting with `-`; the printed mechanism names), run by `cargo test --workspace`: Cargo
//! builds examples there but does not run their unit tests, so the module is compiled into
//! this test target as it is. The binary itself is driven by `tests/client_cli.rs`.

// The binary uses the whole module; the unit tests only part of it.
#[allow(dead_code)]
#[path = "../examples/client/args.rs"]
mod args;
