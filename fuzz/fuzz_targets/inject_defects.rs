#![no_main]
//! The lenient-profile table of `imap-codec/README.md`, driven by the fuzzer: a valid response
//! (an arbitrary value encoded, or the input itself when it decodes strictly) gets one
//! family's defect at one applicable position, chosen by the input, and the cell's contract
//! must hold (`imap-codec/tests/support/inject.rs`, shared with `tests/defect_injection.rs`).
use arbitrary::{Arbitrary, Unstructured};
use imapwire_codec::Encode;
use imapwire_codec::response::Response;
use libfuzzer_sys::fuzz_target;

#[path = "../../imap-codec/tests/support/inject.rs"]
mod inject;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(mode), Ok(cell), Ok(site)) = (u8::arbitrary(&mut u), u8::arbitrary(&mut u), u16::arbitrary(&mut u))
    else {
        return;
    };
    let msg = if mode & 1 == 0 {
        match Response::arbitrary(&mut u) {
            Ok(r) => r.to_vec_inline_literals(),
            Err(_) => return,
        }
    } else {
        u.take_rest().to_vec()
    };
    let Some(s) = inject::sites(&msg) else {
        return;
    };
    let cell = inject::Cell::ALL[cell as usize % inject::Cell::ALL.len()];
    let inj = inject::injections(&msg, &s, cell);
    if inj.is_empty() {
        return;
    }
    if let Err(e) = inject::check(&inj[site as usize % inj.len()], &s) {
        panic!("{e}");
    }
});
