//! Replays every input the fuzz targets ever crashed on (`tests/data/fuzz-regressions/<target>/`)
//! through the target's own checks (`support/fuzz_checks.rs`, which the targets in
//! `fuzz/fuzz_targets/` include by path).

#[path = "support/fuzz_checks.rs"]
mod fuzz_checks;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/fuzz-regressions");

#[test]
fn replay_all_crashes() {
    let mut n = 0;
    let dirs = std::fs::read_dir(DIR).expect("the regression inputs' folder");
    for d in dirs {
        let d = d.unwrap();
        if !d.file_type().unwrap().is_dir() {
            continue;
        }
        let target = d.file_name().into_string().unwrap();
        for f in std::fs::read_dir(d.path()).unwrap() {
            let data = std::fs::read(f.unwrap().path()).unwrap();
            n += 1;
            match target.as_str() {
                "decode_greeting" => fuzz_checks::decode_greeting(&data),
                "decode_command" => fuzz_checks::decode_command(&data),
                "decode_response" => fuzz_checks::decode_response(&data),
                "decode_continuation" => fuzz_checks::decode_continuation(&data),
                "decode_authenticate_data" => fuzz_checks::decode_authenticate_data(&data),
                "decode_idle_done" => fuzz_checks::decode_idle_done(&data),
                "framer_chunking" => fuzz_checks::framer_chunking(&data),
                other => panic!("unknown fuzz target folder {other}"),
            }
        }
    }
    assert!(n > 0, "no regression input found under {DIR}");
    eprintln!("{n} regression inputs replayed");
}
