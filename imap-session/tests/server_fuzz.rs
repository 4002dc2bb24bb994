//! The server-session fuzz property without a fuzzer: arbitrary client bytes in arbitrary
//! chunks, clock steps, changes from another session, literal decisions and a client that
//! stops reading (see `support/server_driver.rs`, shared with the `server_session` fuzz
//! target).

#[path = "support/server_driver.rs"]
mod server_driver;

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]
    /// Raw bytes mixed with commands: no panic, bounded output, decodable output, no tag
    /// completed twice.
    #[test]
    fn arbitrary_client_bytes(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        server_driver::run(&data, false);
    }

    /// Well-formed commands only: each answered exactly once unless the session ended.
    #[test]
    fn structured_sessions_answer_every_command_once(
        data in proptest::collection::vec(any::<u8>(), 0..400)
    ) {
        server_driver::run(&data, true);
    }
}
