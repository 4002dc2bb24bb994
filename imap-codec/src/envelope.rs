//! ENVELOPE (RFC 9051 §7.5.2 `envelope`, §9 `envelope`, `env-*`, `address`; RFC 3501 §7.4.2).
//!
//! An envelope is the parsed RFC 5322 header of a message as the server sees it. Every field
//! is an `nstring` or an address list; group syntax (RFC 5322 §3.4) is kept as data: a group
//! start is an address with a NIL host and the group name in `mailbox`, a group end is an
//! address whose mailbox and host are both NIL.

use std::fmt;

use smallvec::SmallVec;

use crate::core::IString;
use crate::core::NString;
use crate::encode::{Encode, EncodeBuf};
use crate::options::Quirk;
use crate::parse::{PResult, Parser};

/// The `envelope` of a message.
///
/// Address lists are empty when the server sent `NIL` (the lenient profile also maps `()` to
/// an empty list); an empty list is encoded as `NIL`, so every value is valid.
///
/// The six address lists share one buffer (one allocation per envelope); read them with
/// [`from`](Self::from), [`to`](Self::to), ... or [`list`](Self::list), and replace one with
/// [`set_list`](Self::set_list):
///
/// ```
/// use imapwire_codec::core::IString;
/// use imapwire_codec::envelope::{Address, AddressField, Envelope};
///
/// let a = Address {
///     mailbox: Some(IString::try_from("gray").unwrap()),
///     host: Some(IString::try_from("example.com").unwrap()),
///     ..Address::default()
/// };
/// let mut e = Envelope::default();
/// e.set_list(AddressField::To, vec![a.clone(), a.clone()]);
/// e.set_list(AddressField::From, [a.clone()]);
/// assert_eq!(e.from(), [a.clone()]);
/// assert_eq!(e.to().len(), 2);
/// assert!(e.cc().is_empty());
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    /// `env-date`: the Date header, unparsed.
    pub date: NString,
    /// `env-subject`.
    pub subject: NString,
    /// `env-from`, `env-sender`, `env-reply-to`, `env-to`, `env-cc`, `env-bcc`, one after
    /// the other.
    addresses: Vec<Address>,
    /// Where each list ends in `addresses` (list `i` is `ends[i - 1]..ends[i]`).
    ends: [u32; 6],
    /// `env-in-reply-to`.
    pub in_reply_to: NString,
    /// `env-message-id`.
    pub message_id: NString,
}

/// Names the six address lists of an [`Envelope`], in wire order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressField {
    /// `env-from`.
    From,
    /// `env-sender`.
    Sender,
    /// `env-reply-to`.
    ReplyTo,
    /// `env-to`.
    To,
    /// `env-cc`.
    Cc,
    /// `env-bcc`.
    Bcc,
}

impl AddressField {
    /// All six, in wire order.
    pub const ALL: [AddressField; 6] = [
        AddressField::From,
        AddressField::Sender,
        AddressField::ReplyTo,
        AddressField::To,
        AddressField::Cc,
        AddressField::Bcc,
    ];
}

impl Envelope {
    /// One address list.
    #[inline]
    pub fn list(&self, field: AddressField) -> &[Address] {
        let i = field as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.addresses[start..self.ends[i] as usize]
    }

    /// Replaces one address list.
    pub fn set_list(&mut self, field: AddressField, list: impl IntoIterator<Item = Address>) {
        let i = field as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let end = self.ends[i] as usize;
        let old = end - start;
        self.addresses.splice(start..end, list);
        let new = self.addresses.len() + old - self.ends[5] as usize;
        for e in &mut self.ends[i..] {
            *e = (*e as usize - old + new) as u32;
        }
    }

    /// `env-from`.
    #[inline]
    pub fn from(&self) -> &[Address] {
        self.list(AddressField::From)
    }

    /// `env-sender`.
    #[inline]
    pub fn sender(&self) -> &[Address] {
        self.list(AddressField::Sender)
    }

    /// `env-reply-to`.
    #[inline]
    pub fn reply_to(&self) -> &[Address] {
        self.list(AddressField::ReplyTo)
    }

    /// `env-to`.
    #[inline]
    pub fn to(&self) -> &[Address] {
        self.list(AddressField::To)
    }

    /// `env-cc`.
    #[inline]
    pub fn cc(&self) -> &[Address] {
        self.list(AddressField::Cc)
    }

    /// `env-bcc`.
    #[inline]
    pub fn bcc(&self) -> &[Address] {
        self.list(AddressField::Bcc)
    }

    /// Every address of the six lists, in wire order.
    #[inline]
    pub fn all_addresses(&self) -> &[Address] {
        &self.addresses
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("date", &self.date)
            .field("subject", &self.subject)
            .field("from", &self.from())
            .field("sender", &self.sender())
            .field("reply_to", &self.reply_to())
            .field("to", &self.to())
            .field("cc", &self.cc())
            .field("bcc", &self.bcc())
            .field("in_reply_to", &self.in_reply_to)
            .field("message_id", &self.message_id)
            .finish()
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Envelope {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut e = Envelope {
            date: u.arbitrary()?,
            subject: u.arbitrary()?,
            ..Envelope::default()
        };
        for field in AddressField::ALL {
            let list: Vec<Address> = u.arbitrary()?;
            e.set_list(field, list);
        }
        e.in_reply_to = u.arbitrary()?;
        e.message_id = u.arbitrary()?;
        Ok(e)
    }
}

/// One `address`: `"(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"`.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// `addr-name`: the display name (phrase).
    pub name: NString,
    /// `addr-adl`: the obsolete source route.
    pub adl: NString,
    /// `addr-mailbox`: the local part, or the group name when `host` is NIL (group start);
    /// NIL with a NIL host marks a group end.
    pub mailbox: NString,
    /// `addr-host`: the domain; NIL for group syntax.
    pub host: NString,
}

impl Address {
    /// Whether this is a group-start marker (`host` NIL, `mailbox` the group name).
    pub fn is_group_start(&self) -> bool {
        self.host.is_none() && self.mailbox.is_some()
    }

    /// Whether this is a group-end marker (`mailbox` and `host` NIL).
    pub fn is_group_end(&self) -> bool {
        self.host.is_none() && self.mailbox.is_none()
    }

    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        p.expect(b'(', "( address")?;
        let name = IString::parse_nstring(p)?;
        p.sp()?;
        let adl = IString::parse_nstring(p)?;
        p.sp()?;
        let mailbox = IString::parse_nstring(p)?;
        p.sp()?;
        let host = IString::parse_nstring(p)?;
        p.skip_trailing_sp();
        p.expect(b')', ") after addr-host")?;
        Ok(Address {
            name,
            adl,
            mailbox,
            host,
        })
    }
}

impl Encode for Address {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.byte(b'(');
        IString::encode_nstring(&self.name, buf);
        buf.sp_nstring(self.adl.as_ref().map(IString::as_bytes));
        buf.sp_nstring(self.mailbox.as_ref().map(IString::as_bytes));
        buf.sp_nstring(self.host.as_ref().map(IString::as_bytes));
        buf.byte(b')');
    }
}

/// `"(" 1*address ")" / nil`, appended to `out`. Lenient: `()` (empty list) and SP between
/// addresses.
fn address_list(p: &mut Parser<'_>, out: &mut AddressBuf) -> PResult<()> {
    if p.nil_or_empty_string() {
        return Ok(());
    }
    let open = p.pos;
    p.expect(b'(', "address list or NIL")?;
    p.skip_trailing_sp();
    if p.peek() == Some(b')') {
        if !p.tolerate(Quirk::NilOrEmpty, open) {
            return Err(p.fail("address"));
        }
        p.pos += 1;
        return Ok(());
    }
    let mut n = 0;
    loop {
        out.push(Address::parse(p)?);
        n += 1;
        p.check_items(n)?;
        p.skip_trailing_sp();
        match p.peek() {
            Some(b')') => {
                p.pos += 1;
                return Ok(());
            }
            Some(b'(') => {}
            Some(b' ') => {
                let at = p.pos;
                if !p.tolerate(Quirk::ExtraSpaces, at) {
                    return Err(p.fail("address or \")\""));
                }
                while p.eat(b' ') {}
            }
            _ => return Err(p.fail("address or \")\"")),
        }
    }
}

/// The addresses of an envelope while it is parsed: on the stack for typical envelopes, then
/// moved into one exactly sized `Vec`.
type AddressBuf = SmallVec<[Address; 16]>;

fn encode_address_list(v: &[Address], buf: &mut EncodeBuf) {
    if v.is_empty() {
        buf.raw(b"NIL");
        return;
    }
    buf.byte(b'(');
    for a in v {
        a.encode(buf);
    }
    buf.byte(b')');
}

impl Envelope {
    /// Parses `envelope`. Lenient: `NIL` or `()` instead of an envelope (→ all fields
    /// empty), extra parentheses around the whole envelope, `()` for an empty address list,
    /// extra spaces, missing trailing fields (→ NIL).
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.peek() != Some(b'(') {
            let at = p.pos;
            if p.allows(Quirk::MalformedEnvelope) && p.nil() {
                p.warn(Quirk::MalformedEnvelope, at);
                return Ok(Envelope::default());
            }
            return Err(p.fail("( envelope"));
        }
        p.expect(b'(', "( envelope")?;
        if p.peek() == Some(b')') {
            // lenient: `()`, an envelope without any field (every field NIL)
            let at = p.pos;
            if p.tolerate(Quirk::MalformedEnvelope, at) {
                p.pos += 1;
                return Ok(Envelope::default());
            }
        }
        // (`(()` is an envelope whose date is `()`, not a second pair of parentheses)
        if p.peek() == Some(b'(') && p.peek_at(1) != Some(b')') {
            let at = p.pos;
            if !p.tolerate(Quirk::MalformedEnvelope, at) {
                return Err(p.fail("env-date"));
            }
            let r = p.enter().and_then(|_| Envelope::parse(p));
            p.leave();
            let env = r?;
            p.skip_trailing_sp();
            p.expect(b')', ")")?;
            return Ok(env);
        }
        let mut e = Envelope {
            date: IString::parse_nstring(p)?,
            ..Envelope::default()
        };
        let mut buf = AddressBuf::new();
        'fields: {
            if !next_field(p)? {
                break 'fields;
            }
            e.subject = IString::parse_nstring(p)?;
            for end in &mut e.ends {
                if !next_field(p)? {
                    break 'fields;
                }
                address_list(p, &mut buf)?;
                *end = buf.len() as u32;
            }
            if !next_field(p)? {
                break 'fields;
            }
            e.in_reply_to = IString::parse_nstring(p)?;
            if !next_field(p)? {
                break 'fields;
            }
            e.message_id = IString::parse_nstring(p)?;
            p.skip_trailing_sp();
        }
        p.expect(b')', ") after env-message-id")?;
        // lists not sent (lenient) end where the last one sent did
        let last = buf.len() as u32;
        for end in e.ends.iter_mut().rev() {
            if *end != 0 || last == 0 {
                break;
            }
            *end = last;
        }
        e.addresses = if buf.spilled() {
            buf.into_vec()
        } else {
            let mut v = Vec::with_capacity(buf.len());
            v.extend(buf.drain(..));
            v
        };
        Ok(e)
    }
}

/// `SP` before the next envelope field; lenient: `false` at a premature `)`.
#[inline]
fn next_field(p: &mut Parser<'_>) -> PResult<bool> {
    if p.peek() == Some(b' ') {
        p.skip_trailing_sp();
    }
    if p.peek() == Some(b')') {
        let at = p.pos;
        if p.tolerate(Quirk::MalformedEnvelope, at) {
            return Ok(false);
        }
    }
    p.sp()?;
    Ok(true)
}

impl Encode for Envelope {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.byte(b'(');
        IString::encode_nstring(&self.date, buf);
        buf.sp_nstring(self.subject.as_ref().map(IString::as_bytes));
        for field in AddressField::ALL {
            buf.sp();
            encode_address_list(self.list(field), buf);
        }
        buf.sp_nstring(self.in_reply_to.as_ref().map(IString::as_bytes));
        buf.sp_nstring(self.message_id.as_ref().map(IString::as_bytes));
        buf.byte(b')');
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies.
    use super::*;
    use crate::core::strategies::istring;
    use proptest::prelude::*;

    fn nstring() -> impl Strategy<Value = NString> {
        proptest::option::of(istring())
    }

    /// Addresses, including group markers.
    pub(crate) fn address() -> impl Strategy<Value = Address> {
        (nstring(), nstring(), nstring(), nstring()).prop_map(|(name, adl, mailbox, host)| {
            Address {
                name,
                adl,
                mailbox,
                host,
            }
        })
    }

    fn list() -> impl Strategy<Value = Vec<Address>> {
        proptest::collection::vec(address(), 0..3)
    }

    /// Envelopes.
    pub(crate) fn envelope() -> impl Strategy<Value = Envelope> {
        (
            (nstring(), nstring(), list(), list(), list()),
            (list(), list(), list(), nstring(), nstring()),
        )
            .prop_map(
                |(
                    (date, subject, from, sender, reply_to),
                    (to, cc, bcc, in_reply_to, message_id),
                )| {
                    let mut e = Envelope {
                        date,
                        subject,
                        in_reply_to,
                        message_id,
                        ..Envelope::default()
                    };
                    for (field, list) in AddressField::ALL
                        .into_iter()
                        .zip([from, sender, reply_to, to, cc, bcc])
                    {
                        e.set_list(field, list);
                    }
                    e
                },
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::DecodeOptions;
    use bytes::Bytes;
    use proptest::prelude::*;

    fn parse(s: &[u8], o: &DecodeOptions) -> Result<(Envelope, usize), crate::DecodeError> {
        let b = Bytes::copy_from_slice(s);
        let mut p = Parser::new(&b, o);
        match Envelope::parse(&mut p) {
            Ok(e) if p.at_end() => Ok((e, p.warnings.len())),
            _ => Err(p.error()),
        }
    }

    #[test]
    fn rfc9051_example_envelope() {
        let s = br#"("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev2 WG mtg summary and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL "<B27397-0100000@cac.washington.edu>")"#;
        let (e, w) = parse(s, &DecodeOptions::strict()).unwrap();
        assert_eq!(w, 0);
        assert_eq!(
            e.subject.as_ref().unwrap().as_bytes(),
            b"IMAP4rev2 WG mtg summary and minutes"
        );
        assert_eq!(e.cc().len(), 2);
        assert_eq!(e.cc()[1].mailbox.as_ref().unwrap().as_bytes(), b"KLENSIN");
        assert!(e.bcc().is_empty());
        assert_eq!(e.to_vec_inline_literals(), s.to_vec());
    }

    #[test]
    fn group_syntax_is_data() {
        let s = br#"(NIL NIL ((NIL NIL "undisclosed" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL NIL NIL NIL)"#;
        let (e, _) = parse(s, &DecodeOptions::strict()).unwrap();
        assert!(e.from()[0].is_group_start());
        assert!(e.from()[1].is_group_end());
    }

    #[test]
    fn quirk_empty_parens_address_list() {
        let s = br#"("Wed, 11 Oct 2023 03:11:07 +0000" "some subject" (("Tn" NIL "info" "e.example.com")) NIL NIL () NIL NIL "<426119111385110898173554@bar.example.com>" "<foo@example.com>")"#;
        assert!(parse(s, &DecodeOptions::strict()).is_err());
        let (e, w) = parse(s, &DecodeOptions::lenient()).unwrap();
        assert_eq!(w, 1);
        assert!(e.to().is_empty());
        // re-encodes as valid (strict) protocol
        assert!(parse(&e.to_vec_inline_literals(), &DecodeOptions::strict()).is_ok());
    }

    #[test]
    fn quirk_extra_parens_and_spaces() {
        let s =
            br#"((NIL "s" (("a" NIL "b" "c")  ("d" NIL "e" "f")) NIL NIL NIL NIL NIL NIL NIL))"#;
        assert!(parse(s, &DecodeOptions::strict()).is_err());
        let (e, w) = parse(s, &DecodeOptions::lenient()).unwrap();
        assert_eq!(w, 2);
        assert_eq!(e.from().len(), 2);
    }

    #[test]
    fn quirk_missing_fields_and_nil() {
        let s = br#"("date" "subj" (("a" NIL "b" "c")))"#;
        let (e, w) = parse(s, &DecodeOptions::lenient()).unwrap();
        assert_eq!(w, 1);
        assert_eq!(e.from().len(), 1);
        assert!(e.message_id.is_none());
        assert!(parse(s, &DecodeOptions::strict()).is_err());
        let (e, w) = parse(b"NIL", &DecodeOptions::lenient()).unwrap();
        assert_eq!((e, w), (Envelope::default(), 1));
        assert!(parse(b"NIL", &DecodeOptions::strict()).is_err());
    }

    proptest! {
        #[test]
        fn roundtrip(e in strategies::envelope()) {
            let bytes = e.to_bytes_inline_literals();
            let o = DecodeOptions::strict();
            let mut p = Parser::new(&bytes, &o);
            let d = Envelope::parse(&mut p).unwrap();
            prop_assert!(p.at_end());
            prop_assert_eq!(d, e);
        }
    }
}
