//! The client-session fuzz property without a fuzzer: arbitrary server bytes, commands and
//! clock steps (see `support/client_driver.rs`, shared with the `client_session` fuzz target).

#[path = "support/client_driver.rs"]
mod client_driver;

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn arbitrary_sessions_complete_every_command_once(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        client_driver::run(&data);
    }

    /// Mostly well-formed traffic (ops 5-10), so that sessions reach the selected state.
    #[test]
    fn structured_sessions_complete_every_command_once(
        ops in proptest::collection::vec((5u8..11, any::<u8>()), 0..200)
    ) {
        let mut data = vec![1u8];
        for (op, arg) in ops {
            data.push(op + 12 * (arg % 21));
        }
        client_driver::run(&data);
    }
}
