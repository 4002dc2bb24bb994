//! The client-session fuzz property without a fuzzer: arbitrary server bytes, commands and
//! clock steps (see `support/client_driver.rs`, shared with the `client_session` fuzz target).

#[path = "support/client_driver.rs"]
mod client_driver;

use proptest::prelude::*;

/// Every input the `client_session` fuzz target crashed on
/// (`tests/data/fuzz-regressions/client_session/`), replayed with the same checks.
#[test]
fn fuzz_regressions_replay() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/fuzz-regressions/client_session"
    );
    let mut n = 0;
    for e in std::fs::read_dir(dir).expect("regression folder") {
        let path = e.expect("entry").path();
        let data = std::fs::read(&path).expect("input");
        eprintln!("replaying {}", path.display());
        client_driver::run(&data);
        n += 1;
    }
    assert!(n > 0, "no inputs in {dir}");
}

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
