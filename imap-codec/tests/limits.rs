//! Hostile input: every limit gives its typed error with bounded memory, and the next message
//! still decodes.

use imapwire_codec::codec::{CommandDecoder, ResponseDecoder, StreamError, StreamEvent};
use imapwire_codec::error::{FrameError, LimitKind};
use imapwire_codec::framer::FramerConfig;
use imapwire_codec::options::{DecodeOptions, Limits};

fn drain<M: imapwire_codec::codec::Message>(
    d: &mut imapwire_codec::codec::StreamDecoder<M>,
) -> Vec<StreamEvent<M>> {
    std::iter::from_fn(|| d.next()).collect()
}

fn messages<M: imapwire_codec::codec::Message>(ev: &[StreamEvent<M>]) -> usize {
    ev.iter()
        .filter(|e| matches!(e, StreamEvent::Message(_)))
        .count()
}

#[test]
fn huge_sync_literal_announcement_is_refused_and_next_command_decodes() {
    let mut d = CommandDecoder::new(
        FramerConfig::default().with_await_sync_literals(true),
        DecodeOptions::strict(),
    );
    d.push(b"a1 APPEND INBOX {4294967295}\r\na2 NOOP\r\n");
    let ev = drain(&mut d);
    match &ev[0] {
        StreamEvent::Error(StreamError::Frame(FrameError::LimitExceeded {
            kind: LimitKind::Literal,
            actual: 4294967295,
            tag,
            ..
        })) => assert_eq!(tag.as_deref(), Some(&b"a1"[..])),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(messages(&ev), 1, "{ev:?}");
    assert!(d.framer_mut().buffered() == 0);
}

#[test]
fn literal_length_beyond_64_bits_is_a_typed_error() {
    let mut d = ResponseDecoder::default();
    d.push(b"* 1 FETCH (BODY[] {99999999999999999999999999}\r\nxyz)\r\n* 2 EXISTS\r\n");
    let ev = drain(&mut d);
    assert!(
        matches!(
            ev[0],
            StreamEvent::Error(StreamError::Frame(FrameError::LiteralLengthOverflow { .. }))
        ),
        "{ev:?}"
    );
    assert_eq!(messages(&ev), 1);
}

#[test]
fn oversized_literal_in_responses_is_skipped_without_buffering() {
    let mut d = ResponseDecoder::new(
        FramerConfig::default().with_limits(Limits::default().with_max_literal(1 << 20)),
        DecodeOptions::lenient(),
    );
    d.push(b"* 1 FETCH (BODY[] {8388608}\r\n");
    let mut errors = 0;
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..128 {
        d.push(&chunk);
        for ev in drain(&mut d) {
            match ev {
                StreamEvent::Error(StreamError::Frame(FrameError::LimitExceeded {
                    kind: LimitKind::Literal,
                    ..
                })) => errors += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(d.framer_mut().buffered() <= chunk.len());
    }
    d.push(b")\r\n* 2 EXISTS\r\n");
    let ev = drain(&mut d);
    assert_eq!(errors, 1);
    assert_eq!(messages(&ev), 1, "{ev:?}");
}

#[test]
fn ten_megabyte_line_is_dropped_with_bounded_memory() {
    let mut d = ResponseDecoder::default(); // max_line 1 MiB
    d.push(b"* SEARCH");
    let chunk = b" 1".repeat(32 * 1024);
    let mut errors = 0;
    let mut peak = 0;
    for _ in 0..(10 * 1024 * 1024 / chunk.len()) {
        d.push(&chunk);
        for ev in drain(&mut d) {
            match ev {
                StreamEvent::Error(StreamError::Frame(FrameError::LimitExceeded {
                    kind: LimitKind::Line,
                    ..
                })) => errors += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        peak = peak.max(d.framer_mut().buffered());
    }
    assert!(
        peak <= Limits::default().max_line + chunk.len(),
        "peak {peak}"
    );
    d.push(b"\r\n* 3 EXISTS\r\n");
    let ev = drain(&mut d);
    assert_eq!(errors, 1);
    assert_eq!(messages(&ev), 1, "{ev:?}");
}

#[test]
fn literal_that_never_arrives_keeps_only_what_was_received() {
    let mut d = ResponseDecoder::default();
    d.push(b"* 1 FETCH (BODY[] {1000000}\r\nabc");
    let ev = drain(&mut d);
    assert!(
        matches!(ev.as_slice(), [StreamEvent::LiteralAnnounced(_)]),
        "{ev:?}"
    );
    assert!(d.next().is_none());
    assert_eq!(
        d.framer_mut().buffered(),
        "* 1 FETCH (BODY[] {1000000}\r\nabc".len()
    );
}

#[test]
fn deep_nesting_in_responses_is_an_error_and_next_decodes() {
    let mut d = ResponseDecoder::default();
    let mut msg = b"* 1 FETCH (BODYSTRUCTURE ".to_vec();
    msg.extend(std::iter::repeat_n(b'(', 10_000));
    msg.extend(std::iter::repeat_n(b')', 10_000));
    msg.extend_from_slice(b")\r\n* 4 EXISTS\r\n");
    d.push(&msg);
    let ev = drain(&mut d);
    assert!(
        matches!(ev[0], StreamEvent::Error(StreamError::Decode { .. })),
        "{:?}",
        ev[0]
    );
    assert_eq!(messages(&ev), 1);
}

#[test]
fn deep_nesting_in_commands_is_an_error_and_next_decodes() {
    let mut d = CommandDecoder::default();
    let mut msg = b"a1 SEARCH ".to_vec();
    msg.extend(std::iter::repeat_n(b'(', 10_000));
    msg.extend_from_slice(b"ALL");
    msg.extend(std::iter::repeat_n(b')', 10_000));
    msg.extend_from_slice(b"\r\na2 SEARCH ");
    for _ in 0..10_000 {
        msg.extend_from_slice(b"NOT ");
    }
    msg.extend_from_slice(b"ALL\r\na3 NOOP\r\n");
    d.push(&msg);
    let ev = drain(&mut d);
    assert!(
        matches!(ev[0], StreamEvent::Error(StreamError::Decode { .. })),
        "{:?}",
        ev[0]
    );
    assert!(
        matches!(ev[1], StreamEvent::Error(StreamError::Decode { .. })),
        "{:?}",
        ev[1]
    );
    assert_eq!(messages(&ev), 1);
}

#[test]
fn millions_of_tiny_list_items_are_bounded() {
    // 3 million sequence numbers: more than the default line limit allows.
    let mut d = ResponseDecoder::default();
    d.push(b"* SEARCH");
    let chunk = b" 1".repeat(1 << 16);
    for _ in 0..46 {
        d.push(&chunk);
        let _ = drain(&mut d);
        assert!(d.framer_mut().buffered() <= Limits::default().max_line + chunk.len());
    }
    d.push(b"\r\n* 5 EXISTS\r\n");
    assert_eq!(messages(&drain(&mut d)), 1);

    // Within the line limit, the list-item bound of the parser applies.
    let opts = DecodeOptions::strict().with_max_list_items(1000);
    let mut d = ResponseDecoder::new(FramerConfig::default(), opts);
    let mut line = b"* SEARCH".to_vec();
    line.extend(b" 7".repeat(5000));
    line.extend_from_slice(b"\r\n* 6 EXISTS\r\n");
    d.push(&line);
    let ev = drain(&mut d);
    assert!(
        matches!(ev[0], StreamEvent::Error(StreamError::Decode { .. })),
        "{:?}",
        ev[0]
    );
    assert_eq!(messages(&ev), 1);
}
