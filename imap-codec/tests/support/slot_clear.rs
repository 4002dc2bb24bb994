//! The check shared by `event_clear.rs` and `command_event_clear.rs` (each includes this file
//! by path and installs the counting allocator, `imapwire_testalloc::Peak`): events decoded
//! into one slot with `StreamDecoder::next_into` are the ones `next` returns by value, and
//! nothing stays allocated once the decoder and the input are gone (counted by this thread's
//! own allocations, `Peak::live_here`: the test harness's other threads do not move it).

use bytes::Bytes;
use imapwire_codec::DecodeOptions;
use imapwire_codec::codec::{Message, StreamDecoder};
use imapwire_codec::framer::FramerConfig;

/// Every line after every other one (so a slot holds each shape before each).
fn pairs(lines: &[&[u8]]) -> Bytes {
    let mut v = Vec::new();
    for a in lines {
        for b in lines {
            v.extend_from_slice(a);
            v.extend_from_slice(b);
        }
    }
    Bytes::from(v)
}

/// The events of `input` through `next` (by value), as text.
fn by_value<M: Message + std::fmt::Debug>(
    input: &Bytes,
    framer: FramerConfig,
    opts: &DecodeOptions,
) -> Vec<String> {
    let mut d = StreamDecoder::<M>::new(framer, opts.clone());
    d.push_bytes(input.clone());
    std::iter::from_fn(|| d.next())
        .map(|ev| format!("{ev:?}"))
        .collect()
}

/// Decodes every pair of `lines` into one slot, in both profiles and with each of `framers`:
/// every event is the one `next` returns and this thread's live bytes are back where they
/// were once the decoder and the input are gone. Returns each run's events as text (from
/// `next`), for the caller's checks that the runs hold what they should.
pub fn slots_match_by_value_and_leave_nothing<M: Message + std::fmt::Debug>(
    lines: &[&[u8]],
    framers: &[FramerConfig],
) -> Vec<Vec<String>> {
    let mut runs = Vec::new();
    for opts in [DecodeOptions::strict(), DecodeOptions::lenient()] {
        for &framer in framers {
            let want = by_value::<M>(&pairs(lines), framer, &opts);
            let base = imapwire_testalloc::Peak::live_here();
            let mut n = 0;
            {
                let input = pairs(lines);
                let mut d = StreamDecoder::<M>::new(framer, opts.clone());
                d.push_bytes(input.clone());
                drop(input);
                let mut slot = None;
                while d.next_into(&mut slot) {
                    // the text is made and freed here; it owns nothing of the slot
                    let text = format!("{:?}", slot.as_ref().expect("an event"));
                    assert_eq!(Some(&text), want.get(n), "event {n} ({framer:?}, {opts:?})");
                    n += 1;
                }
                assert!(slot.is_none());
            }
            assert_eq!(n, want.len(), "{framer:?}, {opts:?}");
            let left = imapwire_testalloc::Peak::live_here();
            assert_eq!(
                left, base,
                "bytes still allocated after the decoder and the input are gone ({framer:?}, {opts:?})"
            );
            runs.push(want);
        }
    }
    runs
}
