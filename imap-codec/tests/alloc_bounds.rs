//! What a hostile message makes the decoder reserve: bounded by what it parses, not by what
//! a cheap look ahead counts (one test per binary: the allocator's counts are per process).

use imapwire_codec::codec::{CommandDecoder, StreamEvent};

#[global_allocator]
static GLOBAL: imapwire_testalloc::Peak = imapwire_testalloc::Peak;

/// A HEADER.FIELDS list is reserved from the spaces before its `)`: a run of spaces (one
/// line, under the line limit) must not reserve a name slot each.
#[test]
fn header_list_of_spaces_reserves_little() {
    let mut line = b"a1 FETCH 1 BODY[HEADER.FIELDS (x".to_vec();
    line.resize(line.len() + 900_000, b' ');
    line.extend_from_slice(b"y)]\r\na2 NOOP\r\n");
    let mut d = CommandDecoder::default();
    d.push(&line);
    let (events, peak) =
        imapwire_testalloc::Peak::during(|| std::iter::from_fn(|| d.next()).collect::<Vec<_>>());
    // the first command fails (or decodes) on its own; the next one decodes
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        matches!(events[1], StreamEvent::Message(_)),
        "{:?}",
        events[1]
    );
    assert!(peak < 256 * 1024, "{peak} bytes reserved decoding it");
}
