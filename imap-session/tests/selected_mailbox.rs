//! The selected-mailbox state the client session keeps (RFC 9051 §7.3, §7.4, §7.5; RFC 7162
//! §3.1.2.1, §3.2.10, §3.2.11), from server bytes written by hand.

use std::time::Instant;

use imapwire_codec::command::CommandBody;
use imapwire_codec::flag::{Flag, FlagPerm};
use imapwire_codec::mailbox::Mailbox;
use imapwire_session::client::{Client, ClientConfig, Event, MailboxEvent, ProtocolError};
use imapwire_session::mailbox::SeqMapError;

fn selected(select_answer: &str) -> (Client, Vec<Event>) {
    let now = Instant::now();
    let mut c = Client::new(ClientConfig::default().with_encrypted(true), now).unwrap();
    let g = b"* PREAUTH [CAPABILITY IMAP4rev1 CONDSTORE QRESYNC] hi\r\n";
    assert_eq!(c.handle_input(now, g), g.len());
    c.submit(
        now,
        CommandBody::Select {
            mailbox: Mailbox::try_from("INBOX").unwrap(),
            params: Vec::new(),
        },
    )
    .unwrap();
    while c.poll_transmit(now).is_some() {}
    let n = c.handle_input(now, select_answer.as_bytes());
    assert_eq!(n, select_answer.len());
    let mut ev = Vec::new();
    while let Some(e) = c.poll_event() {
        ev.push(e);
    }
    (c, ev)
}

fn feed(c: &mut Client, s: &str) -> Vec<Event> {
    let now = Instant::now();
    assert_eq!(c.handle_input(now, s.as_bytes()), s.len());
    let mut ev = Vec::new();
    while let Some(e) = c.poll_event() {
        ev.push(e);
    }
    ev
}

const SELECT: &str = "* FLAGS (\\Seen \\Deleted $Work)\r\n* 3 EXISTS\r\n* OK [PERMANENTFLAGS (\\Seen \\*)] p\r\n* OK [UIDVALIDITY 9] v\r\n* OK [UIDNEXT 12] n\r\n* OK [HIGHESTMODSEQ 77] m\r\nA0001 OK [READ-WRITE] done\r\n";

#[test]
fn select_reports_flags_permanentflags_uidvalidity_uidnext_highestmodseq_read_write() {
    let (c, _) = selected(SELECT);
    let m = c.mailbox().unwrap();
    assert_eq!(m.exists(), 3);
    assert_eq!(
        m.flags(),
        &[Flag::Seen, Flag::Deleted, Flag::keyword("$Work").unwrap()]
    );
    assert_eq!(
        m.permanent_flags(),
        Some(&[FlagPerm::Flag(Flag::Seen), FlagPerm::Asterisk][..])
    );
    assert_eq!(m.uidvalidity(), Some(9));
    assert_eq!(m.uidnext(), Some(12));
    assert_eq!(m.highestmodseq(), Some(77));
    assert!(!m.nomodseq());
    assert!(!m.read_only());
}

#[test]
fn nomodseq_and_highestmodseq_zero_mean_unknown() {
    let (c, _) = selected(
        "* 0 EXISTS\r\n* OK [UIDVALIDITY 9] v\r\n* OK [NOMODSEQ] none\r\nA0001 OK [READ-ONLY] done\r\n",
    );
    let m = c.mailbox().unwrap();
    assert!(m.nomodseq());
    assert_eq!(m.highestmodseq(), None);
    assert!(m.read_only());
    let (c, _) = selected("* 0 EXISTS\r\n* OK [HIGHESTMODSEQ 0] m\r\nA0001 OK done\r\n");
    assert_eq!(c.mailbox().unwrap().highestmodseq(), None);
}

#[test]
fn vanished_earlier_changes_no_sequence_numbers_live_vanished_and_expunge_do() {
    let (mut c, _) = selected(SELECT);
    feed(
        &mut c,
        "* 1 FETCH (UID 5)\r\n* 2 FETCH (UID 7)\r\n* 3 FETCH (UID 9)\r\n",
    );
    // EARLIER may name UIDs never seen, and renumbers nothing.
    let ev = feed(&mut c, "* VANISHED (EARLIER) 1:4,7\r\n");
    assert!(ev.contains(&Event::Mailbox(MailboxEvent::Vanished {
        earlier: true,
        count: 5
    })));
    assert_eq!(c.mailbox().unwrap().exists(), 3);
    // A live VANISHED does.
    feed(&mut c, "* VANISHED 7\r\n");
    assert_eq!(c.mailbox().unwrap().exists(), 2);
    // EXPUNGE by sequence number, with the UID it had.
    let ev = feed(&mut c, "* 2 EXPUNGE\r\n");
    assert!(ev.contains(&Event::Mailbox(MailboxEvent::Expunged {
        seq: 2,
        uid: Some(9)
    })));
    assert_eq!(c.mailbox().unwrap().exists(), 1);
}

#[test]
fn expunge_or_fetch_of_a_nonexistent_message_is_a_protocol_error() {
    let (mut c, _) = selected(SELECT);
    let ev = feed(&mut c, "* 4 EXPUNGE\r\n");
    assert!(ev.contains(&Event::ProtocolError(ProtocolError::Mailbox(
        SeqMapError::NoSuchMessage { seq: 4, len: 3 }
    ))));
    let ev = feed(&mut c, "* 9 FETCH (FLAGS (\\Seen))\r\n");
    assert!(ev.contains(&Event::ProtocolError(ProtocolError::Mailbox(
        SeqMapError::NoSuchMessage { seq: 9, len: 3 }
    ))));
    let ev = feed(&mut c, "* 9 FETCH (UID 40 FLAGS (\\Seen))\r\n");
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::ProtocolError(ProtocolError::Mailbox(_))))
    );
    // The session goes on.
    assert_eq!(c.mailbox().unwrap().exists(), 3);
}

#[test]
fn closed_code_starts_the_new_mailbox_afresh() {
    let (mut c, _) = selected(SELECT);
    feed(&mut c, "* OK [CLOSED] previous mailbox closed\r\n");
    let m = c.mailbox().unwrap();
    assert_eq!(m.exists(), 0);
    assert_eq!(m.uidvalidity(), None);
    assert!(m.flags().is_empty());
}
