//! Defect injection for the lenient-profile table of `imap-codec/README.md` ("Lenient
//! profile: defect families by grammar position"): finds the grammar positions of a valid
//! response, puts one family's defect at one of them, and checks the contract of that table
//! cell. Shared by `tests/defect_injection.rs` and the `inject_defects` fuzz target (which
//! includes this file by path), so both check the same contract.
#![allow(dead_code)]

use bytes::Bytes;
use imapwire_codec::codec::Message;
use imapwire_codec::options::DecodeOptions;
use imapwire_codec::response::{Response, StatusResponse};
use imapwire_codec::{DecodeError, Encode};

/// One cell of the table: a family's defect at one kind of grammar position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cell {
    /// Spaces: a second SP at a separator.
    SpDoubled,
    /// Spaces: SP right after a list's `(`.
    SpAfterOpen,
    /// Spaces: SP right before a list's `)`.
    SpBeforeClose,
    /// Spaces: SP before the final CRLF.
    SpBeforeCrlf,
    /// Spaces: the SP after a list's `)` is missing.
    SpMissingAfterClose,
    /// Spaces: the SP between an atom and a list's `(` is missing.
    SpMissingBeforeOpen,
    /// Spaces: the SP between two quoted strings is missing.
    SpMissingBetweenStrings,
    /// Arguments: a response code's arguments replaced by a malformed token.
    CodeArgsMalformed,
    /// Arguments: a response code's arguments missing (`[UIDNEXT]`).
    CodeArgsMissing,
    /// Arguments: a data item's number replaced by a malformed token (`UID x`).
    ItemArgMalformed,
    /// Absent: a parenthesised list the grammar requires is missing with its SP.
    ListAbsent,
    /// Absent: a string the grammar requires (quoted, literal, or an astring written as an
    /// atom) is missing with its SP.
    StringAbsent,
    /// Absent: a literal's data is cut short (the message ends inside it).
    LiteralDataShort,
    /// Characters: TAB or another control character inside a quoted string.
    CtlInQuoted,
    /// Characters: NUL inside a quoted string.
    NulInQuoted,
    /// Characters: an 8-bit byte inside a quoted string.
    EightBitInQuoted,
    /// Characters: an unescaped DQUOTE inside a quoted string.
    DquoteInQuoted,
    /// Characters: an 8-bit byte inside a flag (`\\Seen`, `$Label`).
    EightBitInAtom,
    /// Characters: a control character inside a flag.
    CtlInAtom,
    /// Characters: a DQUOTE inside a flag.
    DquoteInAtom,
    /// Characters: an 8-bit byte inside a keyword (a response, item or code name).
    EightBitInKeyword,
    /// NIL/""/(): NIL where a string stands (quoted, literal, or an astring written as an
    /// atom).
    NilForString,
    /// NIL/""/(): `""` where NIL stands.
    EmptyForNil,
    /// NIL/""/(): `()` where NIL stands.
    ParensForNil,
    /// NIL/""/(): NIL where an empty list `()` stands.
    NilForEmptyList,
    /// NIL/""/(): `()` where a string stands (quoted, literal, or an astring written as an
    /// atom).
    ParensForString,
    /// Numbers: a minus sign before a number.
    NumberNegative,
    /// Numbers: a decimal fraction after a number (`5.0`).
    NumberDecimal,
    /// Numbers: exponent notation (`5e0`).
    NumberExponent,
    /// Numbers: a plus sign before a number.
    NumberPlus,
    /// Numbers: a minus sign before a member of a sequence set or a thread.
    NumberSignInSet,
    /// Numbers: a number past 2^64.
    NumberOverflow,
    /// Non-IMAP: the whole line replaced by text that is not IMAP.
    NonImapLine,
    /// Non-IMAP: NUL padding before the line.
    NulPadding,
    /// Absent: a list missing with its SP at the end of its response or item list (CRLF or
    /// `)` next).
    ListAbsentAtEnd,
    /// Missing text: a status response's human text removed with the SP before it.
    MissingText,
    /// Escapes: a backslash before a character that needs no escape (`\\x`) in a quoted
    /// string.
    BadEscape,
    /// Code without status: the status word of `* OK [CODE] text` removed.
    CodeWithoutStatus,
    /// Bare LF: the final CRLF, or the one after a literal announcement, without its CR.
    BareLf,
    /// Bad atoms: `LITERAL+` / `LITERAL-` written with a space before the sign in a
    /// capability list.
    BadAtom,
    /// Zero mod-sequence: a FETCH `MODSEQ (n)` value replaced by 0.
    ZeroModSeq,
    /// Malformed envelope: an ENVELOPE wrapped in a second pair of parentheses.
    EnvelopeParens,
    /// Malformed envelope: `NIL` for the whole ENVELOPE.
    EnvelopeNil,
    /// Malformed envelope: the envelope ends before this field (it and every later field
    /// removed, with the SP before it).
    EnvelopeEndsBefore(EnvField),
    /// Malformed envelope: an address ends before this field (it and every later field of
    /// the address removed, with the SP before it).
    AddressEndsBefore(AddrField),
    /// Characters: a one-character element `]` after a separator SP inside a parenthesised
    /// list (`(a ] b)`), which must not be taken for the `]` closing a code or section.
    BracketElement,
    /// Zero mod-sequence in a command (server side): `CHANGEDSINCE 0` in FETCH.
    ZeroChangedSince,
    /// Zero mod-sequence in a command: the mod-sequence of `QRESYNC (uidvalidity 0 ...)` in
    /// SELECT / EXAMINE.
    ZeroQresync,
    /// Zero mod-sequence in a command: `UNCHANGEDSINCE 0` in STORE (grammatical:
    /// `mod-sequence-valzer`).
    ZeroUnchangedSince,
    /// Zero mod-sequence in a command: the search key `MODSEQ 0` (grammatical:
    /// `mod-sequence-valzer`).
    ZeroSearchModSeq,
}

/// The ten fields of an envelope, in wire order (RFC 9051 §9 `envelope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EnvField {
    Date,
    Subject,
    From,
    Sender,
    ReplyTo,
    To,
    Cc,
    Bcc,
    InReplyTo,
    MessageId,
}

/// The four fields of an address, in wire order (RFC 9051 §9 `address`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddrField {
    Name,
    Adl,
    Mailbox,
    Host,
}

impl Cell {
    /// Every cell, in table order.
    pub const ALL: &'static [Cell] = &[
        Cell::SpDoubled,
        Cell::SpAfterOpen,
        Cell::SpBeforeClose,
        Cell::SpBeforeCrlf,
        Cell::SpMissingAfterClose,
        Cell::SpMissingBeforeOpen,
        Cell::SpMissingBetweenStrings,
        Cell::CodeArgsMalformed,
        Cell::CodeArgsMissing,
        Cell::ItemArgMalformed,
        Cell::ListAbsent,
        Cell::StringAbsent,
        Cell::LiteralDataShort,
        Cell::CtlInQuoted,
        Cell::NulInQuoted,
        Cell::EightBitInQuoted,
        Cell::DquoteInQuoted,
        Cell::EightBitInAtom,
        Cell::CtlInAtom,
        Cell::DquoteInAtom,
        Cell::EightBitInKeyword,
        Cell::NilForString,
        Cell::EmptyForNil,
        Cell::ParensForNil,
        Cell::NilForEmptyList,
        Cell::ParensForString,
        Cell::NumberNegative,
        Cell::NumberDecimal,
        Cell::NumberExponent,
        Cell::NumberPlus,
        Cell::NumberSignInSet,
        Cell::NumberOverflow,
        Cell::NonImapLine,
        Cell::NulPadding,
        Cell::ListAbsentAtEnd,
        Cell::MissingText,
        Cell::BadEscape,
        Cell::CodeWithoutStatus,
        Cell::BareLf,
        Cell::BadAtom,
        Cell::ZeroModSeq,
        Cell::EnvelopeParens,
        Cell::EnvelopeNil,
        Cell::EnvelopeEndsBefore(EnvField::Date),
        Cell::EnvelopeEndsBefore(EnvField::Subject),
        Cell::EnvelopeEndsBefore(EnvField::From),
        Cell::EnvelopeEndsBefore(EnvField::Sender),
        Cell::EnvelopeEndsBefore(EnvField::ReplyTo),
        Cell::EnvelopeEndsBefore(EnvField::To),
        Cell::EnvelopeEndsBefore(EnvField::Cc),
        Cell::EnvelopeEndsBefore(EnvField::Bcc),
        Cell::EnvelopeEndsBefore(EnvField::InReplyTo),
        Cell::EnvelopeEndsBefore(EnvField::MessageId),
        Cell::AddressEndsBefore(AddrField::Name),
        Cell::AddressEndsBefore(AddrField::Adl),
        Cell::AddressEndsBefore(AddrField::Mailbox),
        Cell::AddressEndsBefore(AddrField::Host),
        Cell::BracketElement,
        Cell::ZeroChangedSince,
        Cell::ZeroQresync,
        Cell::ZeroUnchangedSince,
        Cell::ZeroSearchModSeq,
    ];

    /// The table's verdict for this cell in untagged data: whether the lenient profile
    /// tolerates it (else it is an error at the defect, carrying the raw message when it comes
    /// through the stream decoder). Status responses always decode (see [`check`]).
    pub fn tolerated(self) -> bool {
        !matches!(
            self,
            Cell::SpMissingBetweenStrings
                | Cell::ItemArgMalformed
                | Cell::ListAbsent
                | Cell::ListAbsentAtEnd
                | Cell::StringAbsent
                | Cell::LiteralDataShort
                | Cell::EightBitInKeyword
                | Cell::CtlInAtom
                | Cell::DquoteInAtom
                | Cell::NumberSignInSet
                | Cell::AddressEndsBefore(_)
                | Cell::BracketElement
        )
    }

    /// Cells whose defect is grammatical wherever it is injected: both profiles must read
    /// it alike, every time.
    pub fn grammatical(self) -> bool {
        matches!(self, Cell::ZeroUnchangedSince | Cell::ZeroSearchModSeq)
    }

    /// Cells injected into commands (decoded as a server does); the others into responses.
    pub fn in_command(self) -> bool {
        matches!(
            self,
            Cell::ZeroChangedSince
                | Cell::ZeroQresync
                | Cell::ZeroUnchangedSince
                | Cell::ZeroSearchModSeq
        )
    }
}

/// Where the defect is: the bytes from `at` to `at + len` (`len` 0 for a deletion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected {
    /// The cell.
    pub cell: Cell,
    /// The message with the defect.
    pub bytes: Vec<u8>,
    /// Offset of the defect.
    pub at: usize,
    /// Length of what was inserted there.
    pub len: usize,
}

/// The grammar positions found in a valid message (offsets into it).
#[derive(Debug, Default, Clone)]
pub struct Sites {
    /// Separator SPs.
    pub sp: Vec<usize>,
    /// `(` of lists.
    pub open: Vec<usize>,
    /// `)` of lists.
    pub close: Vec<usize>,
    /// Whole lists `(`..`)` (start, end exclusive).
    pub lists: Vec<(usize, usize)>,
    /// Quoted strings (start at the opening DQUOTE, end after the closing one).
    pub quoted: Vec<(usize, usize)>,
    /// Literal data (start, end exclusive).
    pub literal_data: Vec<(usize, usize)>,
    /// Standalone numbers (start, end).
    pub numbers: Vec<(usize, usize)>,
    /// Numbers that are members of a sequence set or a thread (start, end).
    pub set_numbers: Vec<(usize, usize)>,
    /// `NIL` tokens.
    pub nil: Vec<usize>,
    /// Atoms of two or more bytes that are not NIL and not numbers (start, end).
    pub atoms: Vec<(usize, usize)>,
    /// Flags `\\X...` inside a list (start at the backslash, end).
    pub flags: Vec<(usize, usize)>,
    /// Response code arguments (start after `NAME SP`, end at `]`).
    pub code_args: Vec<(usize, usize)>,
    /// Data item numbers (a number right after an item name such as `UID`).
    pub item_numbers: Vec<(usize, usize)>,
    /// BODY / BODYSTRUCTURE values (start at `(`, end after `)`): a part there that cannot
    /// be read is kept raw, the warning where its grammar failed furthest.
    pub bodies: Vec<(usize, usize)>,
    /// Offset of the final CRLF.
    pub crlf: usize,
    /// Whether the structural part ends at the CRLF (no text before it).
    pub ends_structural: bool,
    /// First byte after the status word (tag and status intact before it), for status
    /// responses.
    pub after_status: Option<usize>,
    /// The SP before a status response's human text, when there is text.
    pub text_sp: Option<usize>,
    /// `OK ` of an untagged `* OK [CODE] ...` (start, end).
    pub ok_before_code: Option<(usize, usize)>,
    /// Whole literals, from the announcement to the end of the data.
    pub literals: Vec<(usize, usize)>,
    /// Capabilities `LITERAL+` / `LITERAL-` (start, end).
    pub literal_caps: Vec<(usize, usize)>,
    /// FETCH `MODSEQ (n)` values (start, end).
    pub modseq: Vec<(usize, usize)>,
    /// ENVELOPE values (start at `(`, end after `)`).
    pub envelopes: Vec<(usize, usize)>,
    /// The ten fields of each ENVELOPE (start, end), when it has ten.
    pub envelope_fields: Vec<Vec<(usize, usize)>>,
    /// The four fields of each address inside an ENVELOPE (start, end).
    pub address_fields: Vec<Vec<(usize, usize)>>,
    /// Whether the message is a command (the sites below are a command's).
    pub command: bool,
    /// Command mod-sequences (the number's start, end): `CHANGEDSINCE n`, the `n` of
    /// `QRESYNC (uidvalidity n`, `UNCHANGEDSINCE n`, the search key `MODSEQ [...] n`.
    pub changedsince: Vec<(usize, usize)>,
    pub qresync_modseq: Vec<(usize, usize)>,
    pub unchangedsince: Vec<(usize, usize)>,
    pub search_modseq: Vec<(usize, usize)>,
    /// Mailbox names written as atoms (astrings): the first argument of STATUS, ACL,
    /// MYRIGHTS, LISTRIGHTS, QUOTAROOT and METADATA, the name of LIST/LSUB (start, end).
    pub astring_atoms: Vec<(usize, usize)>,
}

impl Sites {
    /// Every string position: quoted strings, literals (announcement and data) and astrings
    /// written as atoms.
    pub fn strings(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.quoted
            .iter()
            .chain(&self.literals)
            .chain(&self.astring_atoms)
            .copied()
    }
}

fn is_atom_char(b: u8) -> bool {
    (0x21..0x7f).contains(&b) && !b"(){%*\"\\]".contains(&b)
}

/// Finds the positions of a response that decodes strictly. Text (`resp-text`'s human part,
/// an unknown response's raw part) is not structure: nothing is injected there.
pub fn sites(msg: &[u8]) -> Option<Sites> {
    let d = Response::decode(&Bytes::copy_from_slice(msg), &DecodeOptions::strict()).ok()?;
    let crlf = msg.len().checked_sub(2)?;
    if &msg[crlf..] != b"\r\n" {
        return None;
    }
    let mut s = Sites {
        crlf,
        ..Sites::default()
    };
    let (struct_end, after_status) = match &d.message {
        Response::Status(st) => {
            let text = st.text().text().as_bytes().len();
            let word = match st {
                StatusResponse::Tagged { .. } | StatusResponse::Untagged { .. } => {
                    // tag/`*`, SP, OK/NO/BAD
                    let sp = msg.iter().position(|&c| c == b' ')?;
                    let w = msg[sp + 1..]
                        .iter()
                        .position(|&c| !c.is_ascii_alphabetic())?;
                    sp + 1 + w
                }
                _ => {
                    let w = msg[2..].iter().position(|&c| !c.is_ascii_alphabetic())?;
                    2 + w
                }
            };
            (crlf - text, Some(word))
        }
        Response::Data(imapwire_codec::response::Data::Unknown(u)) => (crlf - u.raw().len(), None),
        Response::Data(_) => (crlf, None),
        _ => return None,
    };
    s.after_status = after_status;
    s.ends_structural = struct_end == crlf;
    if let Response::Data(data) = &d.message {
        use imapwire_codec::response::Data;
        let atom_at = |at: usize| {
            let n = msg[at..].iter().take_while(|&&c| is_atom_char(c)).count();
            let tok = &msg[at..at + n];
            (n > 0
                && matches!(msg.get(at + n), Some(b' ' | b'\r'))
                && !tok.eq_ignore_ascii_case(b"NIL"))
            .then_some((at, at + n))
        };
        match data {
            Data::Status { .. }
            | Data::Acl { .. }
            | Data::MyRights { .. }
            | Data::ListRights { .. }
            | Data::QuotaRoot { .. }
            | Data::Metadata { .. } => {
                let kw = msg[2..].iter().position(|&c| c == b' ')? + 2;
                s.astring_atoms.extend(atom_at(kw + 1));
            }
            Data::List(_) | Data::Lsub(_) if msg[crlf - 1] != b')' => {
                let start = msg[..crlf].iter().rposition(|&c| c == b' ')? + 1;
                s.astring_atoms.extend(atom_at(start));
            }
            _ => {}
        }
    }
    if let Response::Status(st) = &d.message {
        if !st.text().text().as_bytes().is_empty() && msg.get(struct_end - 1) == Some(&b' ') {
            s.text_sp = Some(struct_end - 1);
        }
        if matches!(
            st,
            StatusResponse::Untagged {
                status: imapwire_codec::response::Status::Ok,
                ..
            }
        ) && st.code().is_some()
            && msg.starts_with(b"* OK [")
        {
            s.ok_before_code = Some((2, 5));
        }
    }
    let b = msg;
    let mut i = 0;
    let mut stack = Vec::new();
    let mut prev_item_word: Option<&[u8]> = None;
    // inside a sequence set's context (after ALL, ADDTO, ...), or a THREAD response
    let mut in_set = false;
    let thread = msg.len() > 9 && msg[..9].eq_ignore_ascii_case(b"* THREAD ");
    // ESEARCH has no nil values (RFC 4731, RFC 4466 §2.6.2): a NIL there is a
    // search-modifier-name (tagged-ext-label) or an astring of a value, not a NIL to replace
    // nor have capability lists (`* CAPABILITY`, `* ENABLED`, `[CAPABILITY ...]`): a NIL
    // there is a capability named NIL
    let starts = |k: &[u8]| msg.len() >= k.len() && msg[..k.len()].eq_ignore_ascii_case(k);
    let has_cap_code = msg
        .windows(12)
        .any(|w| w.eq_ignore_ascii_case(b"[CAPABILITY "));
    let nil_values = !(starts(b"* ESEARCH")
        || starts(b"* CAPABILITY ")
        || starts(b"* ENABLED ")
        || has_cap_code);
    while i < struct_end {
        let c = b[i];
        match c {
            b'"' => {
                let start = i;
                i = closing_quote(b, i, struct_end);
                if i >= struct_end {
                    // no closing DQUOTE: not a quoted string (e.g. a code argument that is
                    // text, `[BADURL "/INBOX...]`)
                    break;
                }
                i += 1;
                let end = i;
                // a date-time or a one-character delimiter is a quoted string of its own
                // grammar: not a string position
                let date = prev_item_word.is_some_and(|w| {
                    [&b"INTERNALDATE"[..], b"SAVEDATE"]
                        .iter()
                        .any(|k| w.eq_ignore_ascii_case(k))
                });
                let one_char = end - start == 3 || (end - start == 4 && b[start + 1] == b'\\');
                if !date && !one_char {
                    s.quoted.push((start, end));
                }
                prev_item_word = None;
                continue;
            }
            b'{' | b'~' => {
                // literal `{n}` / `{n+}` / `~{n}` then CRLF and data
                let open = if c == b'~' { i + 1 } else { i };
                if b.get(open) == Some(&b'{') {
                    if let Some(close) = b[open..].iter().position(|&x| x == b'}') {
                        let digits = &b[open + 1..open + close];
                        let digits = digits.strip_suffix(b"+").unwrap_or(digits);
                        if !digits.is_empty()
                            && digits.iter().all(u8::is_ascii_digit)
                            && b.get(open + close + 1..open + close + 3) == Some(b"\r\n")
                        {
                            let n: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
                            let ds = open + close + 3;
                            s.literal_data.push((ds, ds + n));
                            s.literals.push((i, ds + n));
                            i = ds + n;
                            prev_item_word = None;
                            continue;
                        }
                    }
                }
                i += 1;
            }
            b' ' => {
                s.sp.push(i);
                i += 1;
            }
            b'(' => {
                s.open.push(i);
                stack.push(i);
                i += 1;
            }
            b')' => {
                s.close.push(i);
                if let Some(o) = stack.pop() {
                    s.lists.push((o, i + 1));
                }
                i += 1;
            }
            b'[' => {
                // a response code right after the status word: `[NAME SP args]`
                if after_status.is_some_and(|w| i == w + 1) {
                    let name_end =
                        i + 1 + b[i + 1..].iter().take_while(|&&x| is_atom_char(x)).count();
                    if b.get(name_end) == Some(&b' ') {
                        if let Some(close) =
                            b[name_end..struct_end].iter().rposition(|&x| x == b']')
                        {
                            s.code_args.push((name_end + 1, name_end + close));
                        }
                    }
                }
                i += 1;
            }
            _ if c.is_ascii_digit() || is_atom_char(c) => {
                let start = i;
                while i < struct_end && (is_atom_char(b[i]) || b[i] == b']') && b[i] != b'[' {
                    // `]` belongs to the atom only inside a section `BODY[...]`
                    if b[i] == b']' {
                        break;
                    }
                    i += 1;
                }
                let tok = &b[start..i];
                let before = if start == 0 { None } else { Some(b[start - 1]) };
                let after = b.get(i).copied();
                let delim_before = matches!(before, Some(b' ' | b'('));
                let delim_after = matches!(after, Some(b' ' | b')' | b'\r' | b']'));
                // an objectid (RFC 8474) is no number even when it is all digits
                let objectid = [&b"EMAILID ("[..], b"THREADID (", b"MAILBOXID ("]
                    .iter()
                    .any(|k| {
                        b[..start].len() >= k.len()
                            && b[start - k.len()..start].eq_ignore_ascii_case(k)
                    });
                if delim_before && delim_after && objectid {
                    s.atoms.push((start, i));
                } else if delim_before && delim_after {
                    if tok.iter().all(u8::is_ascii_digit) && (in_set || thread) {
                        s.set_numbers.push((start, i));
                    } else if tok.iter().all(u8::is_ascii_digit) {
                        s.numbers.push((start, i));
                        if b[..start].len() >= 8
                            && b[start - 8..start].eq_ignore_ascii_case(b"MODSEQ (")
                        {
                            s.modseq.push((start, i));
                        }
                        if prev_item_word.is_some_and(|w| {
                            [
                                &b"UID"[..],
                                b"RFC822.SIZE",
                                b"MESSAGES",
                                b"UIDNEXT",
                                b"UIDVALIDITY",
                                b"UNSEEN",
                                b"RECENT",
                            ]
                            .iter()
                            .any(|k| w.eq_ignore_ascii_case(k))
                        }) {
                            s.item_numbers.push((start, i));
                        }
                    } else if tok.eq_ignore_ascii_case(b"NIL") {
                        if nil_values {
                            s.nil.push(start);
                        }
                    } else if tok.len() >= 2 {
                        s.atoms.push((start, i));
                        if tok.eq_ignore_ascii_case(b"LITERAL+")
                            || tok.eq_ignore_ascii_case(b"LITERAL-")
                        {
                            s.literal_caps.push((start, i));
                        }
                    }
                }
                // `VANISHED (EARLIER) known-uids`: the tag inside keeps the set coming
                if tok.iter().any(u8::is_ascii_alphabetic) && !tok.eq_ignore_ascii_case(b"EARLIER")
                {
                    in_set = [
                        &b"ALL"[..],
                        b"ADDTO",
                        b"REMOVEFROM",
                        b"PARTIAL",
                        b"VANISHED",
                    ]
                    .iter()
                    .any(|k| tok.eq_ignore_ascii_case(k));
                }
                prev_item_word = Some(tok);
                continue;
            }
            b'\\' => {
                let start = i;
                i += 1;
                while i < struct_end && is_atom_char(b[i]) {
                    i += 1;
                }
                if i >= start + 3
                    && matches!(b.get(start.wrapping_sub(1)), Some(b' ' | b'('))
                    && matches!(b.get(i), Some(b' ' | b')'))
                {
                    s.flags.push((start, i));
                }
                prev_item_word = None;
                continue;
            }
            _ => i += 1,
        }
        if c != b' ' {
            prev_item_word = None;
        }
    }
    for &(a, e) in &s.lists {
        let word = b[..a.saturating_sub(1)]
            .rsplit(|&c| c == b' ' || c == b'(')
            .next()
            .unwrap_or_default();
        if a > 0
            && b[a - 1] == b' '
            && (word.eq_ignore_ascii_case(b"BODYSTRUCTURE") || word.eq_ignore_ascii_case(b"BODY"))
        {
            s.bodies.push((a, e));
        }
        if a > 0 && b[a - 1] == b' ' && word.eq_ignore_ascii_case(b"ENVELOPE") {
            s.envelopes.push((a, e));
            let fields = elements(b, a, e);
            if fields.len() == 10 {
                for &(fa, fe) in &fields[2..8] {
                    if b[fa] == b'(' {
                        for (aa, ae) in elements(b, fa, fe) {
                            let f = elements(b, aa, ae);
                            if f.len() == 4 {
                                s.address_fields.push(f);
                            }
                        }
                    }
                }
                s.envelope_fields.push(fields);
            }
        }
    }
    // (the last word of a LIST line may be the end of a literal's data)
    let lits = s.literal_data.clone();
    s.astring_atoms
        .retain(|&(a, _)| !lits.iter().any(|&(ds, de)| ds <= a && a < de));
    Some(s)
}

/// The elements of the list `(`..`)` at `a..e` (start, end of each): quoted strings,
/// literals, lists and atoms, separated by single spaces.
fn elements(b: &[u8], a: usize, e: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = a + 1;
    let end = e - 1;
    while i < end {
        let start = i;
        match b[i] {
            b'"' => i = closing_quote(b, i, end) + 1,
            b'(' => {
                let mut depth = 0usize;
                while i < end {
                    match b[i] {
                        b'"' => i = closing_quote(b, i, end),
                        b'{' => {
                            if let Some(n) = literal_len(b, i) {
                                i = n - 1;
                            }
                        }
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'{' | b'~' => match literal_len(b, if b[i] == b'~' { i + 1 } else { i }) {
                Some(n) => i = n,
                None => return Vec::new(),
            },
            _ => {
                while i < end && !matches!(b[i], b' ' | b'(' | b')') {
                    i += 1;
                }
            }
        }
        if i > end {
            return Vec::new();
        }
        out.push((start, i));
        if i < end {
            if b[i] != b' ' {
                return Vec::new();
            }
            i += 1;
        }
    }
    out
}

/// The index of the DQUOTE that closes the quoted string opened at `open` (escapes skipped),
/// or one at or past `end` when none does before `end`.
fn closing_quote(b: &[u8], open: usize, end: usize) -> usize {
    let mut i = open + 1;
    while i < end && b[i] != b'"' {
        if b[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    i
}

/// The end of the literal `{n}CRLF<data>` announced at `i` (after its data).
fn literal_len(b: &[u8], i: usize) -> Option<usize> {
    let close = b[i..].iter().position(|&x| x == b'}')? + i;
    let d = &b[i + 1..close];
    let d = d.strip_suffix(b"+").unwrap_or(d);
    let n: usize = std::str::from_utf8(d).ok()?.parse().ok()?;
    (b.get(close + 1..close + 3) == Some(b"\r\n")).then_some(close + 3 + n)
}

/// Finds the command positions of the zero mod-sequence cells in a command that decodes
/// strictly (outside quoted strings and literals).
pub fn command_sites(msg: &[u8]) -> Option<Sites> {
    use imapwire_codec::command::Command;
    Command::decode(&Bytes::copy_from_slice(msg), &DecodeOptions::strict()).ok()?;
    let crlf = msg.len().checked_sub(2)?;
    if &msg[crlf..] != b"\r\n" {
        return None;
    }
    let mut s = Sites {
        crlf,
        command: true,
        ..Sites::default()
    };
    let b = msg;
    let number_at = |i: usize| {
        let n = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        (n > 0 && matches!(b.get(i + n), Some(b' ' | b')' | b'\r'))).then_some((i, i + n))
    };
    let word_at = |i: usize, w: &[u8]| {
        b.len() >= i + w.len()
            && b[i..i + w.len()].eq_ignore_ascii_case(w)
            && matches!(b.get(i.wrapping_sub(1)), Some(b' ' | b'('))
    };
    let mut i = 0;
    while i < crlf {
        match b[i] {
            b'"' => {
                i = closing_quote(b, i, crlf) + 1;
                continue;
            }
            b'{' | b'~' => {
                let open = if b[i] == b'~' { i + 1 } else { i };
                if b.get(open) == Some(&b'{') {
                    if let Some(e) = literal_len(b, open) {
                        i = e;
                        continue;
                    }
                }
            }
            _ => {}
        }
        if word_at(i, b"CHANGEDSINCE ") {
            s.changedsince.extend(number_at(i + 13));
        } else if word_at(i, b"UNCHANGEDSINCE ") {
            s.unchangedsince.extend(number_at(i + 15));
        } else if word_at(i, b"QRESYNC (") {
            if let Some((_, e)) = number_at(i + 9) {
                if b.get(e) == Some(&b' ') {
                    s.qresync_modseq.extend(number_at(e + 1));
                }
            }
        } else if word_at(i, b"MODSEQ ") {
            // `MODSEQ n` or `MODSEQ "entry" type n`
            let mut j = i + 7;
            if b.get(j) == Some(&b'"') {
                j = closing_quote(b, j, crlf) + 1;
                if b.get(j) == Some(&b' ') {
                    let t = b[j + 1..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphabetic())
                        .count();
                    j += 2 + t;
                }
            }
            if j < crlf {
                s.search_modseq.extend(number_at(j));
            }
        }
        i += 1;
    }
    Some(s)
}

/// The sites of a response, or else of a command.
pub fn any_sites(msg: &[u8]) -> Option<Sites> {
    sites(msg).or_else(|| command_sites(msg))
}

fn splice(msg: &[u8], at: usize, remove: usize, insert: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(msg.len() + insert.len());
    v.extend_from_slice(&msg[..at]);
    v.extend_from_slice(insert);
    v.extend_from_slice(&msg[at + remove..]);
    v
}

/// The applicable positions of `cell` in `msg` as injections (possibly none).
pub fn injections(msg: &[u8], s: &Sites, cell: Cell) -> Vec<Injected> {
    let mut out = Vec::new();
    if s.command != cell.in_command() {
        // a response cell has no position in a command, nor a command cell in a response
        return out;
    }
    let mut push = |at: usize, remove: usize, insert: &[u8], mark: usize, len: usize| {
        out.push(Injected {
            cell,
            bytes: splice(msg, at, remove, insert),
            at: mark,
            len,
        })
    };
    match cell {
        Cell::SpDoubled => s.sp.iter().for_each(|&i| push(i, 0, b" ", i, 1)),
        Cell::SpAfterOpen => s.open.iter().for_each(|&i| push(i + 1, 0, b" ", i + 1, 1)),
        Cell::SpBeforeClose => s.close.iter().for_each(|&i| push(i, 0, b" ", i, 1)),
        Cell::SpBeforeCrlf => {
            if s.ends_structural {
                push(s.crlf, 0, b" ", s.crlf, 1)
            }
        }
        Cell::SpMissingAfterClose => {
            s.sp.iter()
                .filter(|&&i| i > 0 && s.close.contains(&(i - 1)) && is_atom_char(msg[i + 1]))
                .for_each(|&i| push(i, 1, b"", i, 0))
        }
        Cell::SpMissingBeforeOpen => {
            s.sp.iter()
                .filter(|&&i| {
                    i > 0
                        && is_atom_char(msg[i - 1])
                        && !s.literal_data.iter().any(|l| l.1 == i)
                        && s.open.contains(&(i + 1))
                })
                .for_each(|&i| push(i, 1, b"", i, 0))
        }
        Cell::SpMissingBetweenStrings => {
            s.sp.iter()
                .filter(|&&i| {
                    s.quoted.iter().any(|q| q.1 == i) && s.quoted.iter().any(|q| q.0 == i + 1)
                })
                .for_each(|&i| {
                    // the defect is the pair: the string before the gap reads on into the next
                    let prev = msg[..i - 1].iter().rposition(|&c| c == b'"').unwrap_or(i);
                    push(i, 1, b"", prev, i - prev)
                })
        }
        Cell::CodeArgsMalformed => s
            .code_args
            .iter()
            .for_each(|&(a, e)| push(a, e - a, b"?x", a, 2)),
        Cell::CodeArgsMissing => s
            .code_args
            .iter()
            .for_each(|&(a, e)| push(a - 1, e - a + 1, b"", a - 1, 0)),
        Cell::ItemArgMalformed => s
            .item_numbers
            .iter()
            .for_each(|&(a, e)| push(a, e - a, b"?", a, 1)),
        Cell::ListAbsent => s
            .lists
            .iter()
            .filter(|&&(a, _)| a > 0 && msg[a - 1] == b' ')
            .for_each(|&(a, e)| {
                // the list that held the missing one may be where its count is checked
                let outer = s
                    .lists
                    .iter()
                    .filter(|o| o.0 < a && o.1 >= e)
                    .map(|o| o.0)
                    .max()
                    .unwrap_or(a - 1);
                push(a - 1, e - a + 1, b"", outer, a - 1 - outer)
            }),
        Cell::ListAbsentAtEnd => s
            .lists
            .iter()
            .filter(|&&(a, e)| {
                a > 0 && msg[a - 1] == b' ' && matches!(msg.get(e), Some(b')' | b'\r'))
            })
            .for_each(|&(a, e)| push(a - 1, e - a + 1, b"", a - 1, 0)),
        Cell::StringAbsent => s
            .strings()
            .filter(|&(a, _)| a > 0 && msg[a - 1] == b' ')
            .for_each(|(a, e)| push(a - 1, e - a + 1, b"", a - 1, 0)),
        Cell::LiteralDataShort => s.literal_data.iter().for_each(|&(a, e)| {
            if e > a {
                // the message ends early: an error anywhere from the first literal's data on
                // (a parse that falls back to text fails at the first literal it meets)
                let first = s.literal_data[0].0;
                out.push(Injected {
                    cell,
                    bytes: msg[..e - 1].to_vec(),
                    at: first,
                    len: e - 1 - first,
                })
            }
        }),
        Cell::CtlInQuoted => s
            .quoted
            .iter()
            .for_each(|&(a, _)| push(a + 1, 0, b"\t", a + 1, 1)),
        Cell::NulInQuoted => s
            .quoted
            .iter()
            .for_each(|&(a, _)| push(a + 1, 0, b"\0", a + 1, 1)),
        Cell::EightBitInQuoted => s
            .quoted
            .iter()
            .for_each(|&(a, _)| push(a + 1, 0, b"\xe9", a + 1, 1)),
        Cell::DquoteInQuoted => s
            .quoted
            .iter()
            .for_each(|&(a, _)| push(a + 1, 0, b"\"x", a + 1, 2)),
        Cell::EightBitInAtom => s
            .flags
            .iter()
            .for_each(|&(a, _)| push(a + 2, 0, b"\xe9", a + 2, 1)),
        Cell::CtlInAtom => s
            .flags
            .iter()
            .for_each(|&(a, _)| push(a + 2, 0, b"\x01", a + 2, 1)),
        Cell::DquoteInAtom => s
            .flags
            .iter()
            .for_each(|&(a, _)| push(a + 2, 0, b"\"", a + 2, 1)),
        Cell::EightBitInKeyword => s
            .atoms
            .iter()
            .for_each(|&(a, _)| push(a + 1, 0, b"\xe9", a + 1, 1)),
        Cell::NilForString => s.strings().for_each(|(a, e)| push(a, e - a, b"NIL", a, 3)),
        Cell::EmptyForNil => s.nil.iter().for_each(|&a| push(a, 3, b"\"\"", a, 2)),
        Cell::ParensForNil => s.nil.iter().for_each(|&a| push(a, 3, b"()", a, 2)),
        Cell::NilForEmptyList => s
            .lists
            .iter()
            .filter(|&&(a, e)| e == a + 2)
            .for_each(|&(a, _)| push(a, 2, b"NIL", a, 3)),
        Cell::ParensForString => s.strings().for_each(|(a, e)| push(a, e - a, b"()", a, 2)),
        Cell::NumberNegative => s.numbers.iter().for_each(|&(a, _)| push(a, 0, b"-", a, 1)),
        Cell::NumberDecimal => s
            .numbers
            .iter()
            .for_each(|&(a, e)| push(e, 0, b".0", a, e - a + 2)),
        Cell::NumberExponent => s
            .numbers
            .iter()
            .for_each(|&(a, e)| push(e, 0, b"e0", a, e - a + 2)),
        Cell::NumberPlus => s.numbers.iter().for_each(|&(a, _)| push(a, 0, b"+", a, 1)),
        Cell::NumberSignInSet => s
            .set_numbers
            .iter()
            .for_each(|&(a, _)| push(a, 0, b"-", a, 1)),
        Cell::NumberOverflow => s
            .numbers
            .iter()
            .for_each(|&(a, e)| push(a, e - a, b"99999999999999999999999", a, 23)),
        Cell::NonImapLine => out.push(Injected {
            cell,
            bytes: b"this is not imap\r\n".to_vec(),
            at: 0,
            len: 0,
        }),
        Cell::NulPadding => push(0, 0, b"\0\0", 0, 2),
        Cell::MissingText => {
            if let Some(t) = s.text_sp {
                push(t, s.crlf - t, b"", t, 0)
            }
        }
        Cell::BadEscape => s
            .quoted
            .iter()
            .for_each(|&(a, _)| push(a + 1, 0, b"\\x", a + 1, 2)),
        Cell::CodeWithoutStatus => {
            if let Some((a, e)) = s.ok_before_code {
                push(a, e - a, b"", a, 0)
            }
        }
        Cell::BareLf => {
            push(s.crlf, 1, b"", s.crlf, 0);
            s.literal_data
                .iter()
                .for_each(|&(d, _)| push(d - 2, 1, b"", d - 2, 0));
        }
        Cell::BadAtom => s
            .literal_caps
            .iter()
            .for_each(|&(_, e)| push(e - 1, 0, b" ", e - 1, 1)),
        Cell::ZeroModSeq => s
            .modseq
            .iter()
            .for_each(|&(a, e)| push(a, e - a, b"0", a, 1)),
        Cell::EnvelopeNil => s
            .envelopes
            .iter()
            .for_each(|&(a, e)| push(a, e - a, b"NIL", a, 3)),
        Cell::EnvelopeEndsBefore(f) => s.envelope_fields.iter().for_each(|fields| {
            let k = f as usize;
            let end = fields[9].1;
            if k == 0 {
                push(fields[0].0, end - fields[0].0, b"", fields[0].0, 0)
            } else {
                let at = fields[k].0 - 1;
                push(at, end - at, b"", at, 0)
            }
        }),
        Cell::AddressEndsBefore(f) => s.address_fields.iter().for_each(|fields| {
            let k = f as usize;
            let end = fields[3].1;
            if k == 0 {
                push(fields[0].0, end - fields[0].0, b"", fields[0].0, 0)
            } else {
                let at = fields[k].0 - 1;
                push(at, end - at, b"", at, 0)
            }
        }),
        Cell::BracketElement => {
            s.sp.iter()
                .filter(|&&i| s.lists.iter().any(|&(a, e)| a < i && i < e))
                .for_each(|&i| push(i + 1, 0, b"] ", i + 1, 1))
        }
        Cell::ZeroChangedSince => s
            .changedsince
            .iter()
            .for_each(|&(a, e)| push(a, e - a, b"0", a, 1)),
        Cell::ZeroQresync => s
            .qresync_modseq
            .iter()
            .for_each(|&(a, e)| push(a, e - a, b"0", a, 1)),
        Cell::ZeroUnchangedSince => s
            .unchangedsince
            .iter()
            .for_each(|&(a, e)| push(a, e - a, b"0", a, 1)),
        Cell::ZeroSearchModSeq => s
            .search_modseq
            .iter()
            .for_each(|&(a, e)| push(a, e - a, b"0", a, 1)),
        Cell::EnvelopeParens => s.envelopes.iter().for_each(|&(a, e)| {
            let mut v = splice(msg, e, 0, b")");
            v = splice(&v, a, 0, b"(");
            out.push(Injected {
                cell,
                bytes: v,
                at: a,
                len: 1,
            })
        }),
    }
    out
}

/// How one injected message fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// The defect is grammatical: both profiles decode it to the same value.
    Grammatical,
    /// Strict fails at the defect, lenient decodes with a warning there to a fixed point.
    Tolerated,
    /// Both fail at the defect.
    Rejected,
}

/// Whether `off` lies at the defect: from the byte before it to the byte after what was
/// inserted (a doubled SP may be reported at either space; a defect that makes the token
/// before it unreadable is reported where that token ends).
fn at_defect(inj: &Injected, off: usize) -> bool {
    match inj.cell {
        // the whole line is the defect
        Cell::NonImapLine => true,
        // an absence is noticed where the next field fails to fit: at or after the gap
        Cell::ListAbsent
        | Cell::ListAbsentAtEnd
        | Cell::StringAbsent
        | Cell::LiteralDataShort
        // two strings read as one (an unescaped DQUOTE inside), or a keyword read as a
        // value: the grammar fails later
        | Cell::SpMissingBetweenStrings
        | Cell::EightBitInKeyword
        // an address cut short: where its next field was due, or, when no item of the FETCH
        // is left, at its end
        | Cell::AddressEndsBefore(_)
        // a `]` element where the list pairs names and values (FETCH items, STATUS items):
        // the pairs shift, and the grammar fails later
        | Cell::BracketElement => off + 1 >= inj.at,
        _ => off + 1 >= inj.at && off <= inj.at + inj.len + 1,
    }
}

fn excerpt(b: &[u8]) -> String {
    String::from_utf8_lossy(b).escape_debug().to_string()
}

/// Checks the contract of the injection's cell; `Err` says how it was broken.
pub fn check(inj: &Injected, sites: &Sites) -> Result<Outcome, String> {
    if sites.command {
        return check_command(inj);
    }
    let after_status = sites.after_status;
    let msg = Bytes::copy_from_slice(&inj.bytes);
    let show = || excerpt(&inj.bytes);
    let strict = Response::decode(&msg, &DecodeOptions::strict());
    let lenient = Response::decode(&msg, &DecodeOptions::lenient());
    // A completion is never lost: a status response whose tag and status word are intact.
    let completion = after_status.is_some_and(|w| inj.at >= w)
        && !matches!(inj.cell, Cell::NonImapLine | Cell::LiteralDataShort);
    if matches!(inj.cell, Cell::CtlInQuoted | Cell::EightBitInQuoted) {
        // TAB and other controls are TEXT-CHARs, 8-bit is allowed with UTF-8: grammatical
        // bytes, so both profiles must read the message alike (where the string has a
        // grammar of its own, a body type or a date, both fail or repair at one place)
        return match (strict, lenient) {
            (Ok(s), Ok(l)) if s.message == l.message => Ok(Outcome::Grammatical),
            (Err(se), Err(le)) if se.offset == le.offset => Ok(Outcome::Rejected),
            (Err(se), Ok(l)) if l.warnings.iter().any(|w| w.offset == se.offset) => {
                fixed_point(&l.message).map_err(|e| format!("{:?} {}: {e}", inj.cell, show()))?;
                Ok(Outcome::Tolerated)
            }
            (s, l) => Err(format!(
                "{:?} {}: profiles disagree: {:?} / {:?}",
                inj.cell,
                show(),
                s.map(|d| d.message),
                l.map(|d| (d.message, d.warnings))
            )),
        };
    }
    match (strict, lenient) {
        (Ok(s), Ok(l)) if inj.cell == Cell::BadAtom && s.message != l.message => {
            // `LITERAL +` is grammatical (two capabilities, `LITERAL` and `+`); the lenient
            // profile reads it as the known quirk, with a warning at the space
            if !l
                .warnings
                .iter()
                .any(|w| w.quirk == imapwire_codec::Quirk::BadAtoms && at_defect(inj, w.offset))
            {
                return Err(format!(
                    "{:?} {}: read differently without a BadAtoms warning at byte {}: {:?}",
                    inj.cell,
                    show(),
                    inj.at,
                    l.warnings
                ));
            }
            fixed_point(&l.message).map_err(|e| format!("{:?} {}: {e}", inj.cell, show()))?;
            Ok(Outcome::Tolerated)
        }
        (Ok(s), Ok(l)) => {
            if s.message != l.message {
                return Err(format!(
                    "{:?} {}: grammatical, but the profiles disagree: {:?} / {:?}",
                    inj.cell,
                    show(),
                    s.message,
                    l.message
                ));
            }
            Ok(Outcome::Grammatical)
        }
        (Ok(s), Err(e)) => Err(format!(
            "{:?} {}: strict decodes ({:?}) but lenient fails: {e}",
            inj.cell,
            show(),
            s.message
        )),
        (Err(se), lenient) => {
            // a defect in a status response's code can make the code text (a second SP
            // after the status word, a name no longer shaped like a code): the text then
            // ends where a literal in the code starts its data, past the defect
            let code_as_text = after_status.is_some_and(|w| inj.at >= w)
                && se.offset >= inj.at
                && se.offset >= 3
                && inj.bytes.get(se.offset - 3..se.offset) == Some(&b"}\r\n"[..]);
            if !at_defect(inj, se.offset) && !code_as_text {
                return Err(format!(
                    "{:?} {}: strict error not at the defect (byte {}): {se}",
                    inj.cell,
                    show(),
                    inj.at
                ));
            }
            match lenient {
                Ok(l) => {
                    // inside a body structure the part kept raw is reported where its
                    // grammar failed furthest; a line kept as non-IMAP text, at its start
                    let body = sites.bodies.iter().find(|b| b.0 <= inj.at && inj.at < b.1);
                    let reported = |w: &imapwire_codec::Warning| {
                        at_defect(inj, w.offset)
                            || (code_as_text
                                && w.quirk == imapwire_codec::Quirk::MalformedCode
                                && w.offset >= inj.at)
                            || w.quirk == imapwire_codec::Quirk::NonImapLine
                            // a line starting with `[` (an odd tag) read as `[CODE] text`
                            || (w.quirk == imapwire_codec::Quirk::CodeWithoutStatus
                                && w.offset == 0)
                            || (w.quirk == imapwire_codec::Quirk::MalformedBodyStructure
                                && body.is_some_and(|b| b.0 <= w.offset && w.offset < b.1))
                    };
                    if !l.warnings.iter().any(reported) {
                        return Err(format!(
                            "{:?} {}: lenient decodes without a warning at byte {}: {:?}",
                            inj.cell,
                            show(),
                            inj.at,
                            l.warnings
                        ));
                    }
                    fixed_point(&l.message)
                        .map_err(|e| format!("{:?} {}: {e}", inj.cell, show()))?;
                    Ok(Outcome::Tolerated)
                }
                Err(le) => {
                    if completion {
                        return Err(format!(
                            "{:?} {}: a status response with intact tag and status was lost: {le}",
                            inj.cell,
                            show()
                        ));
                    }
                    if inj.cell.tolerated() {
                        return Err(format!(
                            "{:?} {}: tolerated cell, lenient fails: {le}",
                            inj.cell,
                            show()
                        ));
                    }
                    if !at_defect(inj, le.offset) {
                        return Err(format!(
                            "{:?} {}: lenient error not at the defect (byte {}): {le}",
                            inj.cell,
                            show(),
                            inj.at
                        ));
                    }
                    Ok(Outcome::Rejected)
                }
            }
        }
    }
}

/// [`check`] for a command (decoded as a server does).
fn check_command(inj: &Injected) -> Result<Outcome, String> {
    use imapwire_codec::command::Command;
    let msg = Bytes::copy_from_slice(&inj.bytes);
    let show = || excerpt(&inj.bytes);
    let strict = Command::decode(&msg, &DecodeOptions::strict());
    let lenient = Command::decode(&msg, &DecodeOptions::lenient());
    match (strict, lenient) {
        (Ok(s), Ok(l)) if s.message == l.message && l.warnings.is_empty() => {
            Ok(Outcome::Grammatical)
        }
        (Ok(s), l) => Err(format!(
            "{:?} {}: strict decodes ({:?}) but lenient differs: {:?}",
            inj.cell,
            show(),
            s.message,
            l.map(|d| (d.message, d.warnings))
        )),
        (Err(se), _) if !at_defect(inj, se.offset) => Err(format!(
            "{:?} {}: strict error not at the defect (byte {}): {se}",
            inj.cell,
            show(),
            inj.at
        )),
        (Err(_), Ok(l)) => {
            if !l.warnings.iter().any(|w| at_defect(inj, w.offset)) {
                return Err(format!(
                    "{:?} {}: lenient decodes without a warning at byte {}: {:?}",
                    inj.cell,
                    show(),
                    inj.at,
                    l.warnings
                ));
            }
            let enc = l.message.to_bytes_inline_literals();
            match Command::decode(&enc, &DecodeOptions::strict()) {
                Ok(again) if again.message.to_vec_inline_literals() == enc[..] => {
                    Ok(Outcome::Tolerated)
                }
                again => Err(format!(
                    "{:?} {}: re-encoding {} is no fixed point: {:?}",
                    inj.cell,
                    show(),
                    excerpt(&enc),
                    again.map(|d| d.message)
                )),
            }
        }
        (Err(_), Err(le)) => {
            if inj.cell.tolerated() || !at_defect(inj, le.offset) {
                return Err(format!(
                    "{:?} {}: lenient fails (byte {}): {le}",
                    inj.cell,
                    show(),
                    inj.at
                ));
            }
            Ok(Outcome::Rejected)
        }
    }
}

/// Re-encoding the lenient value gives protocol the strict profile decodes to a value with the
/// same encoding, and no unknown FETCH item's value is lost on the way (the encoder writes
/// `NIL` for a raw value the strict profile does not read: the decoder must have repaired it).
pub fn fixed_point(r: &Response) -> Result<(), String> {
    use imapwire_codec::fetch::MessageDataItem;
    use imapwire_codec::response::Data;
    if let Response::Data(Data::Fetch { items, .. } | Data::UidFetch { items, .. }) = r {
        for it in items.iter() {
            if let MessageDataItem::Unknown(u) = it {
                let enc = it.to_vec_inline_literals();
                let mut want = u.name.as_bytes().to_vec();
                want.push(b' ');
                want.extend_from_slice(&u.raw);
                if enc != want {
                    return Err(format!(
                        "unknown item {} re-encodes as {}",
                        excerpt(&want),
                        excerpt(&enc)
                    ));
                }
            }
        }
    }
    let enc = r.to_bytes_inline_literals();
    match Response::decode(&enc, &DecodeOptions::strict()) {
        Ok(again) if again.message.to_vec_inline_literals() == enc[..] => Ok(()),
        Ok(again) => Err(format!(
            "re-encoding {} is not a fixed point ({:?})",
            excerpt(&enc),
            again.message
        )),
        Err(e) => Err(format!(
            "re-encoding {} is invalid: {}",
            excerpt(&enc),
            err(&e)
        )),
    }
}

fn err(e: &DecodeError) -> String {
    e.to_string()
}
