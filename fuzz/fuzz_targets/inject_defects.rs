#![no_main]
//! The lenient-profile table of `imap-codec/README.md`, driven by the fuzzer: a valid response
//! or command (an arbitrary value encoded, or the input itself when it decodes strictly) gets
//! one family's defect at one applicable position, chosen by the input, and the cell's
//! contract must hold (`imap-codec/tests/support/inject.rs`, shared with
//! `tests/defect_injection.rs`). Commands carry the cells a server decoding leniently meets
//! (zero mod-sequences).
use arbitrary::{Arbitrary, Unstructured};
use imapwire_codec::Encode;
use imapwire_codec::command::Command;
use imapwire_codec::response::Response;
use libfuzzer_sys::fuzz_target;

#[path = "../../imap-codec/tests/support/inject.rs"]
mod inject;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(mode), Ok(cell), Ok(site)) = (
        u8::arbitrary(&mut u),
        u8::arbitrary(&mut u),
        u16::arbitrary(&mut u),
    ) else {
        return;
    };
    let command = mode & 2 != 0;
    let msg = if mode & 1 == 0 {
        let encoded = if command {
            Command::arbitrary(&mut u).map(|c| c.to_vec_inline_literals())
        } else {
            Response::arbitrary(&mut u).map(|r| r.to_vec_inline_literals())
        };
        match encoded {
            Ok(m) => m,
            Err(_) => return,
        }
    } else {
        u.take_rest().to_vec()
    };
    let s = if command {
        inject::command_sites(&msg)
    } else {
        inject::sites(&msg)
    };
    let Some(s) = s else {
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
