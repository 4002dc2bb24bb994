//! The sans-IO client against arbitrary server bytes in arbitrary chunks, with arbitrary
//! submitted commands and clock steps: no panic, bounded event queue, every accepted command
//! completes exactly once (properties in `imap-session/tests/support/client_driver.rs`, also
//! run by `cargo test -p imapwire-session --test client_fuzz`).
#![no_main]

#[path = "../../imap-session/tests/support/client_driver.rs"]
mod client_driver;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    client_driver::run(data);
});
