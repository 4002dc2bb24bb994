//! `StreamDecoder::next_into` empties its slot before decoding the next event; for the usual
//! FETCH and LIST responses it drops only the parts that own something and forgets the rest
//! (a fast path beside the event's drop glue). Pinned here against the general path: over
//! responses of every shape that path looks at (and of shapes it leaves to the drop glue),
//! nothing stays allocated once the decoder and the input are gone, and every response is
//! the one `next` returns (`support/slot_clear.rs`).

#[path = "support/slot_clear.rs"]
mod slot_clear;

use imapwire_codec::framer::FramerConfig;
use imapwire_codec::response::Response;

#[global_allocator]
static GLOBAL: imapwire_testalloc::Peak = imapwire_testalloc::Peak;

/// Responses the fast path takes whole, takes after releasing the LIST name, or leaves to
/// the drop glue (keywords, a spilled item list, LIST-EXTENDED items, warnings, other data,
/// status responses, errors).
const LINES: &[&[u8]] = &[
    b"* 1 FETCH (UID 7 FLAGS (\\Seen \\Answered) MODSEQ (12))\r\n",
    b"* 2 FETCH (UID 8 FLAGS () MODSEQ (13))\r\n",
    b"* 3 FETCH (UID 9 FLAGS (\\Seen $Junk) MODSEQ (14))\r\n",
    b"* 4 FETCH (UID 10 FLAGS ($Junk $Forwarded \\Seen) MODSEQ (15))\r\n",
    b"* 5 FETCH (FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft \\Recent \\Seen \\Seen))\r\n",
    b"* 6 FETCH (UID 11 RFC822.SIZE 2000 INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" FLAGS (\\Seen) MODSEQ (16))\r\n",
    b"* 7 FETCH (UID 12 BODY[] {5}\r\nhello)\r\n",
    b"* 8 FETCH (UID 13 BODY[HEADER] \"a: b\")\r\n",
    b"* 9 FETCH (UID 14 SAVEDATE NIL X-GM-MSGID 5 X-GM-THRID 6)\r\n",
    b"* LIST (\\HasNoChildren) \"/\" INBOX\r\n",
    b"* LIST (\\HasNoChildren \\Sent) \"/\" Sent/Archive\r\n",
    b"* LIST (\\HasChildren) \"/\" \"Plain quoted\"\r\n",
    b"* LIST (\\HasChildren) \"/\" \"back\\\\slash \\\"q\\\"\"\r\n",
    b"* LIST (\\Noselect) \"/\" {9}\r\nlit\"eral\r\n",
    b"* LIST (\\HasNoChildren \\X-Custom-Attribute) NIL Other\r\n",
    b"* LIST (\\A \\B \\C \\HasChildren \\HasNoChildren \\Marked \\Unmarked \\Noselect) \".\" x\r\n",
    b"* LIST () \"/\" Foo (CHILDINFO (\"SUBSCRIBED\"))\r\n",
    b"* LSUB () \".\" Lsub\r\n",
    b"* XLIST (\\Inbox) \"/\" Inbox\r\n",
    b"* 23 EXISTS\r\n",
    b"* 1 RECENT\r\n",
    b"* 4 EXPUNGE\r\n",
    b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
    b"A1 OK FETCH completed\r\n",
    b"* SEARCH 2 3 5\r\n",
    b"* 1 FETCH (FLAGS \r\n",
    b"* LIST (\\Broken \"/\" x\r\n",
];

#[test]
fn cleared_events_leave_nothing_allocated() {
    let framers = [
        FramerConfig::default(),
        FramerConfig::default().with_quiet_literals(true),
        FramerConfig::default().with_stream_literals_over(Some(2)),
    ];
    let runs = slot_clear::slots_match_by_value_and_leave_nothing::<Response>(LINES, &framers);
    assert_eq!(runs.len(), 2 * framers.len());
    for want in &runs {
        assert!(want.iter().any(|t| t.starts_with("Message(")));
    }
}
