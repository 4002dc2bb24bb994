#![no_main]
//! Fuzzes the Response decoder in both profiles, with the re-encoding check, and checks that
//! values decoded in the strict profile pass `Response::validate` (so validation accepts
//! everything a server can legitimately send), and that `StreamDecoder::next_into` (its slot
//! emptied by a fast path for the usual shapes) gives the events `next` gives.
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    common::roundtrip::<imapwire_codec::response::Response>(data, b"");
    check_validates(data);
    check_next_into(data);
});

/// The input as a stream of responses, decoded by `next` and by `next_into` into one slot:
/// the same events. A value the slot's fast path forgot while it still owned something shows
/// as a leak (LeakSanitizer).
fn check_next_into(data: &[u8]) {
    use imapwire_codec::codec::ResponseDecoder;
    use imapwire_codec::framer::FramerConfig;
    let Some((sel, opts, rest)) = common::selected(data) else {
        return;
    };
    let framer = FramerConfig::default().with_stream_literals_over((sel & 2 != 0).then_some(4));
    let input = bytes::Bytes::copy_from_slice(rest);
    let mut by_value = ResponseDecoder::new(framer, opts.clone());
    let mut in_place = ResponseDecoder::new(framer, opts);
    by_value.push_bytes(input.clone());
    in_place.push_bytes(input);
    let mut slot = None;
    loop {
        let want = by_value.next();
        let got = in_place.next_into(&mut slot);
        assert_eq!(got, want.is_some());
        assert_eq!(slot, want);
        if want.is_none() {
            break;
        }
    }
}

fn check_validates(data: &[u8]) {
    use imapwire_codec::codec::Message;
    use imapwire_codec::options::DecodeOptions;
    use imapwire_codec::response::Response;
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    if sel & 1 == 1 {
        // Lenient values may keep stand-ins (`BodyStructure::Invalid`, ...).
        return;
    }
    let msg = bytes::Bytes::copy_from_slice(rest);
    if let Ok(d) = Response::decode(&msg, &DecodeOptions::strict()) {
        if let Err(e) = d.message.validate() {
            panic!("decoded {:?} does not validate: {e}", d.message);
        }
    }
}
