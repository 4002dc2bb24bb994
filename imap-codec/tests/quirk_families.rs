//! Other members of the defect families of `shared/quirks` than the published samples
//! (tolerate the family, not the sample): each decodes in the lenient profile with a warning,
//! re-encodes to protocol the strict profile accepts (a fixed point), and fails strictly.

use bytes::Bytes;
use imapwire_codec::Encode;
use imapwire_codec::codec::Message;
use imapwire_codec::options::DecodeOptions;
use imapwire_codec::response::Response;

const DEFECTS: &[&str] = &[
    // stray and doubled spaces
    "* 3 FETCH (FLAGS (\\Seen)  UID 7)\r\n",
    "* 3 FETCH ( UID 7)\r\n",
    "* LIST (\\HasNoChildren)  \"/\"  INBOX\r\n",
    "* LIST (\\HasNoChildren) \"/\" INBOX \r\n",
    "* STATUS INBOX (MESSAGES 3  UNSEEN 1)\r\n",
    "* CAPABILITY IMAP4rev1  IDLE\r\n",
    "* 5 EXISTS \r\n",
    "* SEARCH 1  2 3\r\n",
    "* OK [PERMANENTFLAGS (\\Seen \\*  )] x\r\n",
    // missing text
    "* OK\r\n",
    "* NO\r\n",
    "a1 OK\r\n",
    "a2 NO\r\n",
    "+\r\n",
    "* BYE\r\n",
    // response code without status word
    "* [ALERT] server going down\r\n",
    // bad numbers
    "* 1 FETCH (RFC822.SIZE -5 UID 3)\r\n",
    "* 1 FETCH (UID 3 RFC822.SIZE 1.5e3)\r\n",
    "* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (0))\r\n",
    "* OK [UIDVALIDITY 0] x\r\n",
    // NIL or () where a value is required
    "* 1 FETCH (UID 3 INTERNALDATE NIL)\r\n",
    "* 1 FETCH (ENVELOPE (\"date\" \"subj\" () () () () () () NIL NIL) UID 4)\r\n",
    "* 1 FETCH (UID 1 BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n",
    "* 1 FETCH (UID 1 BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" NIL) NIL NIL \"7bit\" 10 1))\r\n",
    // odd flags
    "* FLAGS (\\Seen Junk]x)\r\n",
    // non-IMAP lines
    "hello world this is not imap\r\n",
    "-ERR not an IMAP server\r\n",
];

#[test]
fn lenient_tolerates_each_family_member() {
    let mut failures = Vec::new();
    for line in DEFECTS {
        let b = Bytes::from_static(line.as_bytes());
        let d = match Response::decode(&b, &DecodeOptions::lenient()) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{line:?}: lenient: {e}"));
                continue;
            }
        };
        if d.warnings.is_empty() {
            failures.push(format!("{line:?}: no warning"));
        }
        let enc = d.message.to_bytes_inline_literals();
        match Response::decode(&enc, &DecodeOptions::strict()) {
            Ok(again) if again.message.to_vec_inline_literals() == enc[..] => {}
            Ok(_) => failures.push(format!(
                "{line:?}: re-encoding {enc:?} is not a fixed point"
            )),
            Err(e) => failures.push(format!("{line:?}: re-encoding {enc:?} is invalid: {e}")),
        }
        if Response::decode(&b, &DecodeOptions::strict()).is_ok() {
            failures.push(format!("{line:?}: strict accepted it"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
