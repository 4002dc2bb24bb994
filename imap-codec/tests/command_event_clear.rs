//! The command parser writes each body into the stream decoder's slot; over the slot's
//! placeholder (`Noop`, owning nothing) it writes without the drop glue (`put` in
//! `command/parse.rs`), over anything else it drops what was there. Pinned here against the
//! general path: over commands of every branch that writes the slot (and errors, which leave
//! some value there), every event `next_into` gives is the one `next` returns, and nothing
//! stays allocated once the decoder and the input are gone (`support/slot_clear.rs`).

#[path = "support/slot_clear.rs"]
mod slot_clear;

use imapwire_codec::command::Command;
use imapwire_codec::framer::FramerConfig;

#[global_allocator]
static GLOBAL: imapwire_testalloc::Peak = imapwire_testalloc::Peak;

/// One command of each shape the parser writes (with and without UID), and failures.
const LINES: &[&[u8]] = &[
    b"A1 NOOP\r\n",
    b"A2 UID FETCH 1:*,5,9:12 (UID FLAGS) (CHANGEDSINCE 12345)\r\n",
    b"A3 FETCH 7 FLAGS\r\n",
    b"A4 UID FETCH 22979:23061,23063 (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)])\r\n",
    b"A5 UID STORE 1,2,3,4,5 +FLAGS.SILENT (\\Seen $label1 $label2)\r\n",
    b"A6 SEARCH CHARSET UTF-8 OR (SEEN) NOT SUBJECT \"x\" UID 1:*,5,9:12,20\r\n",
    b"A7 UID SEARCH RETURN (MIN MAX) HEADER \"X-A\" \"b\" (DRAFT LARGER 5)\r\n",
    b"A8 UID COPY 1:3 \"Sent Items\"\r\n",
    b"A9 MOVE 4 Archive\r\n",
    b"A10 UID SORT (DATE) UTF-8 ALL\r\n",
    b"A11 THREAD REFERENCES UTF-8 SINCE 1-Jan-2020\r\n",
    b"A12 UID EXPUNGE 1:9,11\r\n",
    b"A13 LIST \"\" \"*\"\r\n",
    b"A14 STATUS Drafts (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)\r\n",
    b"A15 SELECT INBOX (CONDSTORE)\r\n",
    b"A16 APPEND \"Sent\" (\\Seen) {3+}\r\nabc\r\n",
    b"A17 LOGIN user pass\r\n",
    b"A18 X-FOO bar baz\r\n",
    b"A19 UID REPLACE 5 INBOX {2+}\r\nhi\r\n",
    b"A20 CAPABILITY\r\n",
    b"A21 UID FETCH 1 (FLAGS\r\n",
    b"A22 SEARCH OR SEEN\r\n",
    b"A23 UID BOGUS 1\r\n",
    b"A24 STORE 1 FLAGS (\\Seen \r\n",
];

#[test]
fn command_slots_leave_nothing_allocated() {
    let framers = [
        FramerConfig::default(),
        FramerConfig::default().with_quiet_literals(true),
    ];
    let runs = slot_clear::slots_match_by_value_and_leave_nothing::<Command>(LINES, &framers);
    assert_eq!(runs.len(), 2 * framers.len());
    for want in &runs {
        let messages = want.iter().filter(|t| t.starts_with("Message(")).count();
        assert!(messages > LINES.len() * LINES.len(), "{messages}");
        assert!(want.iter().any(|t| t.starts_with("Error(")));
    }
}
