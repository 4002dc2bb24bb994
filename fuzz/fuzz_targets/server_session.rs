//! The sans-IO server against arbitrary client bytes in arbitrary chunks, with clock steps,
//! changes from another session, literal decisions and a client that stops reading: no
//! panic, bounded output, decodable output, no tag completed twice; inputs whose first byte
//! is odd use well-formed commands only, each answered exactly once unless the session ends
//! (properties in `imap-session/tests/support/server_driver.rs`, also run by
//! `cargo test -p imapwire-session --test server_fuzz`).
#![no_main]

#[path = "../../imap-session/tests/support/server_driver.rs"]
mod server_driver;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let structured = data.first().is_some_and(|b| b & 1 == 1);
    server_driver::run(data.get(1..).unwrap_or(&[]), structured);
});
