//! ENVELOPE (RFC 9051 §7.5.2 `envelope`, §9 `envelope`, `env-*`, `address`; RFC 3501 §7.4.2).
//!
//! An envelope is the parsed RFC 5322 header of a message as the server sees it. Every field
//! is an `nstring` or an address list; group syntax (RFC 5322 §3.4) is kept as data: a group
//! start is an address with a NIL host and the group name in `mailbox`, a group end is an
//! address whose mailbox and host are both NIL.
//!
//! Representation: an [`Envelope`] holds one buffer and, for each of its strings, where the
//! string is in it (a decoded envelope's buffer is the part of the message it was read from,
//! so decoding takes one reference to the message, not one per string). Read the strings with
//! the accessors ([`Envelope::subject`], [`AddressRef::mailbox`], ...); build an envelope from
//! owned values with [`EnvelopeFields`].

use std::fmt;

use bytes::Bytes;
use smallvec::SmallVec;

use crate::core::IString;
use crate::core::NString;
use crate::encode::{Encode, EncodeBuf};
use crate::error::{Excerpt, Rule, ValidationError, ValueKind};
use crate::options::Quirk;
use crate::parse::{OwnBuf, PResult, Parser, Span, StrAt, quoted_run};

/// The four strings of an address, in wire order (name, adl, mailbox, host).
type AddressSpans = [Span; 4];

/// The `envelope` of a message.
///
/// Address lists are empty when the server sent `NIL` (the lenient profile also maps `()` to
/// an empty list); an empty list is encoded as `NIL`, so every value is valid.
///
/// The strings are read with accessors ([`date`](Self::date), [`subject`](Self::subject),
/// the address lists [`from`](Self::from), [`to`](Self::to), ... or [`list`](Self::list));
/// `PartialEq` and `Debug` go by content. Build one from owned values with
/// [`EnvelopeFields`], and get those back with [`to_fields`](Self::to_fields):
///
/// ```
/// use imapwire_codec::core::IString;
/// use imapwire_codec::envelope::{Address, AddressField, Envelope, EnvelopeFields};
///
/// let a = Address {
///     mailbox: Some(IString::try_from("gray").unwrap()),
///     host: Some(IString::try_from("example.com").unwrap()),
///     ..Address::default()
/// };
/// let e = Envelope::try_from(EnvelopeFields {
///     subject: Some(IString::try_from("minutes").unwrap()),
///     from: vec![a.clone()],
///     to: vec![a.clone(), a.clone()],
///     ..EnvelopeFields::default()
/// })
/// .unwrap();
/// assert_eq!(e.subject(), Some(&b"minutes"[..]));
/// assert_eq!(e.from(), [a.clone()]);
/// assert_eq!(e.list(AddressField::To).len(), 2);
/// assert_eq!(e.to().get(1).unwrap().mailbox(), Some(&b"gray"[..]));
/// assert!(e.cc().is_empty());
/// assert_eq!(e.to_fields().to, [a.clone(), a]);
/// ```
#[derive(Clone)]
pub struct Envelope {
    /// Every string of the envelope is a run of this buffer.
    buf: Bytes,
    /// One exactly sized allocation: first `env-date`, `env-subject`, `env-in-reply-to`,
    /// `env-message-id`, then where each address list ends among the addresses (list `i` is
    /// `ends[i - 1]..ends[i]`, packed by [`pack_ends`]), then the addresses of `env-from`,
    /// `env-sender`, `env-reply-to`, `env-to`, `env-cc`, `env-bcc`, one after the other.
    /// Empty for an envelope whose fields are all NIL, else at least these two entries. (The
    /// list ends are here rather than in a field so that an envelope is 48 bytes, which keeps
    /// a FETCH item at 64.)
    spans: Box<[AddressSpans]>,
}

impl Default for Envelope {
    fn default() -> Self {
        Envelope {
            buf: Bytes::new(),
            spans: Box::default(),
        }
    }
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

const DATE: usize = 0;
const SUBJECT: usize = 1;
const IN_REPLY_TO: usize = 2;
const MESSAGE_ID: usize = 3;

/// Entries of [`Envelope::spans`] before the addresses: the four strings, the list ends.
const HEAD: usize = 2;

/// The six list ends as the entry of [`Envelope::spans`] that holds them.
fn pack_ends(e: [u32; 6]) -> AddressSpans {
    let s = |off, len| Span { off, len };
    [s(e[0], e[1]), s(e[2], e[3]), s(e[4], e[5]), Span::EMPTY]
}

/// The list ends held by `a` (see [`pack_ends`]).
#[inline]
fn unpack_ends(a: &AddressSpans) -> [u32; 6] {
    [a[0].off, a[0].len, a[1].off, a[1].len, a[2].off, a[2].len]
}

impl Envelope {
    /// The spans of `env-date`, `env-subject`, `env-in-reply-to`, `env-message-id`.
    #[inline]
    fn strs(&self) -> [Span; 4] {
        self.spans.first().copied().unwrap_or([Span::NIL; 4])
    }

    /// The addresses of the six lists.
    #[inline]
    fn addresses(&self) -> &[AddressSpans] {
        self.spans.get(HEAD..).unwrap_or_default()
    }

    /// Where each address list ends among [`addresses`](Self::addresses).
    #[inline]
    fn ends(&self) -> [u32; 6] {
        self.spans.get(1).map_or([0; 6], unpack_ends)
    }

    /// `env-date`: the Date header, unparsed; `None` for NIL.
    #[inline]
    pub fn date(&self) -> Option<&[u8]> {
        self.strs()[DATE].get(&self.buf)
    }

    /// `env-subject`; `None` for NIL.
    #[inline]
    pub fn subject(&self) -> Option<&[u8]> {
        self.strs()[SUBJECT].get(&self.buf)
    }

    /// `env-in-reply-to`; `None` for NIL.
    #[inline]
    pub fn in_reply_to(&self) -> Option<&[u8]> {
        self.strs()[IN_REPLY_TO].get(&self.buf)
    }

    /// `env-message-id`; `None` for NIL.
    #[inline]
    pub fn message_id(&self) -> Option<&[u8]> {
        self.strs()[MESSAGE_ID].get(&self.buf)
    }

    /// One address list.
    #[inline]
    pub fn list(&self, field: AddressField) -> AddressList<'_> {
        let i = field as usize;
        let ends = self.ends();
        let start = if i == 0 { 0 } else { ends[i - 1] as usize };
        AddressList {
            buf: &self.buf,
            items: self
                .addresses()
                .get(start..ends[i] as usize)
                .unwrap_or_default(),
        }
    }

    /// `env-from`.
    #[inline]
    pub fn from(&self) -> AddressList<'_> {
        self.list(AddressField::From)
    }

    /// `env-sender`.
    #[inline]
    pub fn sender(&self) -> AddressList<'_> {
        self.list(AddressField::Sender)
    }

    /// `env-reply-to`.
    #[inline]
    pub fn reply_to(&self) -> AddressList<'_> {
        self.list(AddressField::ReplyTo)
    }

    /// `env-to`.
    #[inline]
    pub fn to(&self) -> AddressList<'_> {
        self.list(AddressField::To)
    }

    /// `env-cc`.
    #[inline]
    pub fn cc(&self) -> AddressList<'_> {
        self.list(AddressField::Cc)
    }

    /// `env-bcc`.
    #[inline]
    pub fn bcc(&self) -> AddressList<'_> {
        self.list(AddressField::Bcc)
    }

    /// Every address of the six lists, in wire order.
    #[inline]
    pub fn all_addresses(&self) -> AddressList<'_> {
        AddressList {
            buf: &self.buf,
            items: self.addresses(),
        }
    }

    /// The envelope as owned values (each string shares this envelope's buffer).
    pub fn to_fields(&self) -> EnvelopeFields {
        let strs = self.strs();
        let s = |i: usize| nstring_of(&self.buf, strs[i]);
        let l = |f| self.list(f).to_vec();
        EnvelopeFields {
            date: s(DATE),
            subject: s(SUBJECT),
            from: l(AddressField::From),
            sender: l(AddressField::Sender),
            reply_to: l(AddressField::ReplyTo),
            to: l(AddressField::To),
            cc: l(AddressField::Cc),
            bcc: l(AddressField::Bcc),
            in_reply_to: s(IN_REPLY_TO),
            message_id: s(MESSAGE_ID),
        }
    }
}

/// The string at `s` of `buf` as an owned `nstring` sharing `buf`.
fn nstring_of(buf: &Bytes, s: Span) -> NString {
    let v = s.get(buf)?;
    // a sub-slice of `buf` (`slice_ref` does not copy); strings of an envelope hold no NUL
    Some(IString::unchecked(buf.slice_ref(v)))
}

impl PartialEq for Envelope {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.strs(), other.strs());
        (0..4).all(|i| a[i].get(&self.buf) == b[i].get(&other.buf))
            && self.ends() == other.ends()
            && self.all_addresses() == other.all_addresses()
    }
}

impl Eq for Envelope {}

/// `Some(IString("..."))` or `None`, as an `NString` prints.
struct DebugNString<'a>(Option<&'a [u8]>);

impl fmt::Debug for DebugNString<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => write!(f, "Some(IString({}))", Excerpt(v)),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("date", &DebugNString(self.date()))
            .field("subject", &DebugNString(self.subject()))
            .field("from", &self.from())
            .field("sender", &self.sender())
            .field("reply_to", &self.reply_to())
            .field("to", &self.to())
            .field("cc", &self.cc())
            .field("bcc", &self.bcc())
            .field("in_reply_to", &DebugNString(self.in_reply_to()))
            .field("message_id", &DebugNString(self.message_id()))
            .finish()
    }
}

/// An envelope as owned values: what [`Envelope`] is built from
/// ([`Envelope::try_from`]) and what [`Envelope::to_fields`] gives.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvelopeFields {
    /// `env-date`: the Date header, unparsed.
    pub date: NString,
    /// `env-subject`.
    pub subject: NString,
    /// `env-from` (empty: NIL).
    pub from: Vec<Address>,
    /// `env-sender` (empty: NIL).
    pub sender: Vec<Address>,
    /// `env-reply-to` (empty: NIL).
    pub reply_to: Vec<Address>,
    /// `env-to` (empty: NIL).
    pub to: Vec<Address>,
    /// `env-cc` (empty: NIL).
    pub cc: Vec<Address>,
    /// `env-bcc` (empty: NIL).
    pub bcc: Vec<Address>,
    /// `env-in-reply-to`.
    pub in_reply_to: NString,
    /// `env-message-id`.
    pub message_id: NString,
}

impl EnvelopeFields {
    /// One address list.
    pub fn list_mut(&mut self, field: AddressField) -> &mut Vec<Address> {
        match field {
            AddressField::From => &mut self.from,
            AddressField::Sender => &mut self.sender,
            AddressField::ReplyTo => &mut self.reply_to,
            AddressField::To => &mut self.to,
            AddressField::Cc => &mut self.cc,
            AddressField::Bcc => &mut self.bcc,
        }
    }
}

impl TryFrom<EnvelopeFields> for Envelope {
    type Error = ValidationError;

    /// Copies every string into one buffer. Fails only when the strings together are 4 GiB
    /// or longer (an envelope addresses its buffer with 32-bit offsets).
    fn try_from(f: EnvelopeFields) -> Result<Self, ValidationError> {
        let too_long = || {
            ValidationError::new(
                ValueKind::Grammar("envelope"),
                Rule::TooLong {
                    max: (u32::MAX - 1) as usize,
                },
            )
        };
        let lists = [&f.from, &f.sender, &f.reply_to, &f.to, &f.cc, &f.bcc];
        let len_of = |s: &NString| s.as_ref().map_or(0, |s| s.as_bytes().len());
        let total: usize = [&f.date, &f.subject, &f.in_reply_to, &f.message_id]
            .into_iter()
            .map(len_of)
            .chain(lists.iter().flat_map(|l| {
                l.iter()
                    .flat_map(|a| [&a.name, &a.adl, &a.mailbox, &a.host])
                    .map(len_of)
            }))
            .fold(0usize, usize::saturating_add);
        if total >= u32::MAX as usize {
            return Err(too_long());
        }
        let mut buf = Vec::with_capacity(total);
        let mut put = |s: &NString| match s {
            None => Span::NIL,
            Some(s) => {
                let start = buf.len();
                buf.extend_from_slice(s.as_bytes());
                // within `total`, checked above
                Span::new(start, buf.len()).unwrap_or(Span::NIL)
            }
        };
        let mut spans = Vec::with_capacity(HEAD + lists.iter().map(|l| l.len()).sum::<usize>());
        spans.push([
            put(&f.date),
            put(&f.subject),
            put(&f.in_reply_to),
            put(&f.message_id),
        ]);
        spans.push([Span::EMPTY; 4]);
        let mut ends = [0u32; 6];
        for (end, list) in ends.iter_mut().zip(lists) {
            for a in list {
                spans.push([put(&a.name), put(&a.adl), put(&a.mailbox), put(&a.host)]);
            }
            *end = u32::try_from(spans.len() - HEAD).map_err(|_| too_long())?;
        }
        spans[1] = pack_ends(ends);
        Ok(Envelope {
            buf: Bytes::from(buf),
            spans: spans.into_boxed_slice(),
        })
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Envelope {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let f: EnvelopeFields = u.arbitrary()?;
        Envelope::try_from(f).map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

/// One address list of an [`Envelope`]: a view that reads its addresses in place.
///
/// Compares with a slice of owned [`Address`]es by content.
#[derive(Clone, Copy)]
pub struct AddressList<'a> {
    buf: &'a Bytes,
    items: &'a [AddressSpans],
}

impl<'a> AddressList<'a> {
    /// The number of addresses.
    #[inline]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the list is empty (NIL).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The address at `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<AddressRef<'a>> {
        let s = self.items.get(i)?;
        Some(AddressRef { buf: self.buf, s })
    }

    /// The first address.
    #[inline]
    pub fn first(&self) -> Option<AddressRef<'a>> {
        self.get(0)
    }

    /// The addresses in order.
    pub fn iter(&self) -> AddressIter<'a> {
        AddressIter {
            buf: self.buf,
            items: self.items.iter(),
        }
    }

    /// The addresses as owned values (sharing the envelope's buffer).
    pub fn to_vec(&self) -> Vec<Address> {
        self.iter().map(|a| a.to_address()).collect()
    }
}

impl<'a> IntoIterator for AddressList<'a> {
    type Item = AddressRef<'a>;
    type IntoIter = AddressIter<'a>;

    fn into_iter(self) -> AddressIter<'a> {
        self.iter()
    }
}

/// The addresses of an [`AddressList`], in order.
#[derive(Clone)]
pub struct AddressIter<'a> {
    buf: &'a Bytes,
    items: std::slice::Iter<'a, AddressSpans>,
}

impl<'a> Iterator for AddressIter<'a> {
    type Item = AddressRef<'a>;

    #[inline]
    fn next(&mut self) -> Option<AddressRef<'a>> {
        let s = self.items.next()?;
        Some(AddressRef { buf: self.buf, s })
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

impl<'a> DoubleEndedIterator for AddressIter<'a> {
    #[inline]
    fn next_back(&mut self) -> Option<AddressRef<'a>> {
        let s = self.items.next_back()?;
        Some(AddressRef { buf: self.buf, s })
    }
}

impl ExactSizeIterator for AddressIter<'_> {}

impl fmt::Debug for AddressIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl fmt::Debug for AddressList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for AddressList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl Eq for AddressList<'_> {}

impl PartialEq<[Address]> for AddressList<'_> {
    fn eq(&self, other: &[Address]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == *b)
    }
}

impl<const N: usize> PartialEq<[Address; N]> for AddressList<'_> {
    fn eq(&self, other: &[Address; N]) -> bool {
        *self == other[..]
    }
}

impl PartialEq<Vec<Address>> for AddressList<'_> {
    fn eq(&self, other: &Vec<Address>) -> bool {
        *self == other[..]
    }
}

/// One address of an [`Envelope`], read in place (see [`Address`] for the fields).
#[derive(Clone, Copy)]
pub struct AddressRef<'a> {
    buf: &'a Bytes,
    s: &'a AddressSpans,
}

impl<'a> AddressRef<'a> {
    /// `addr-name`: the display name (phrase); `None` for NIL.
    #[inline]
    pub fn name(&self) -> Option<&'a [u8]> {
        self.s[0].get(self.buf)
    }

    /// `addr-adl`: the obsolete source route; `None` for NIL.
    #[inline]
    pub fn adl(&self) -> Option<&'a [u8]> {
        self.s[1].get(self.buf)
    }

    /// `addr-mailbox`: the local part, or the group name when `host` is NIL (group start);
    /// NIL with a NIL host marks a group end.
    #[inline]
    pub fn mailbox(&self) -> Option<&'a [u8]> {
        self.s[2].get(self.buf)
    }

    /// `addr-host`: the domain; `None` (NIL) for group syntax.
    #[inline]
    pub fn host(&self) -> Option<&'a [u8]> {
        self.s[3].get(self.buf)
    }

    /// Whether this is a group-start marker (`host` NIL, `mailbox` the group name).
    pub fn is_group_start(&self) -> bool {
        self.host().is_none() && self.mailbox().is_some()
    }

    /// Whether this is a group-end marker (`mailbox` and `host` NIL).
    pub fn is_group_end(&self) -> bool {
        self.host().is_none() && self.mailbox().is_none()
    }

    /// The address as an owned value (its strings share the envelope's buffer).
    pub fn to_address(&self) -> Address {
        let [name, adl, mailbox, host] = self.s.map(|s| nstring_of(self.buf, s));
        Address {
            name,
            adl,
            mailbox,
            host,
        }
    }

    fn strings(&self) -> [Option<&'a [u8]>; 4] {
        self.s.map(|s| s.get(self.buf))
    }
}

impl fmt::Debug for AddressRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Address")
            .field("name", &DebugNString(self.name()))
            .field("adl", &DebugNString(self.adl()))
            .field("mailbox", &DebugNString(self.mailbox()))
            .field("host", &DebugNString(self.host()))
            .finish()
    }
}

impl PartialEq for AddressRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.strings() == other.strings()
    }
}

impl Eq for AddressRef<'_> {}

impl PartialEq<Address> for AddressRef<'_> {
    fn eq(&self, other: &Address) -> bool {
        let o = [&other.name, &other.adl, &other.mailbox, &other.host]
            .map(|s| s.as_ref().map(IString::as_bytes));
        self.strings() == o
    }
}

impl Encode for AddressRef<'_> {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.byte(b'(');
        buf.nstring(self.name());
        buf.sp_nstring(self.adl());
        buf.sp_nstring(self.mailbox());
        buf.sp_nstring(self.host());
        buf.byte(b')');
    }
}

/// One `address` as owned values: `"(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"`.
///
/// What an [`EnvelopeFields`] holds; an [`Envelope`]'s addresses are read in place as
/// [`AddressRef`].
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

/// An envelope while it is parsed: where it starts in the message, its spans so far, and
/// the strings that are not runs of the message as they stand. An escaped quoted string's
/// span is its raw content, unescaped in place in a copy of the envelope's bytes when the
/// envelope is finished; a value with its NUL dropped (lenient) goes after the envelope's
/// bytes.
struct EnvParser {
    /// Where the envelope starts in the message; spans are relative to it.
    start: usize,
    /// The top-level strings (filled in last), then the addresses.
    spans: SpanBuf,
    /// Content of the values copied whole, one after the other.
    side: Vec<u8>,
    /// The spans to finish: `slot` is `4 * i + k`, string `k` of `spans[i]`; [`IN_SIDE`]
    /// set for a span into `side`, clear for an escaped run of the message.
    fixups: SmallVec<[u32; 8]>,
}

/// Marks a [`EnvParser::fixups`] entry whose span is into the side buffer.
const IN_SIDE: u32 = 1 << 31;

/// The spans of an envelope while it is parsed: on the stack for typical envelopes, then
/// copied into one exactly sized allocation.
type SpanBuf = SmallVec<[AddressSpans; 16]>;

impl EnvParser {
    /// The next `nstring`, as a span; `slot` names it for [`EnvParser::fixups`].
    #[inline(always)]
    fn nstring(&mut self, p: &mut Parser<'_>, slot: usize) -> PResult<Span> {
        match p.nstring_at()? {
            StrAt::Nil => Ok(Span::NIL),
            StrAt::In(s, e) => self.run(p, s, e),
            StrAt::Escaped(s, e) => self.escaped(p, slot, s, e),
            StrAt::Owned(v) => self.owned(p, slot, v),
        }
    }

    /// Bytes `s..e` of the message.
    #[inline(always)]
    fn run(&self, p: &mut Parser<'_>, s: usize, e: usize) -> PResult<Span> {
        match Span::new(s - self.start, e - self.start) {
            Some(span) => Ok(span),
            None => Err(p.fail_at(s, "envelope smaller than 4 GiB")),
        }
    }

    /// The escaped raw content at `s..e` of the message: its span, to be unescaped.
    #[cold]
    #[inline(never)]
    fn escaped(&mut self, p: &mut Parser<'_>, slot: usize, s: usize, e: usize) -> PResult<Span> {
        let span = self.run(p, s, e)?;
        self.fixup(p, slot, 0)?;
        Ok(span)
    }

    #[cold]
    #[inline(never)]
    fn owned(&mut self, p: &mut Parser<'_>, slot: usize, v: Bytes) -> PResult<Span> {
        let at = self.side.len();
        self.side.extend_from_slice(&v);
        self.fixup(p, slot, IN_SIDE)?;
        match Span::new(at, self.side.len()) {
            Some(span) => Ok(span),
            None => Err(p.fail("envelope smaller than 4 GiB")),
        }
    }

    fn fixup(&mut self, p: &mut Parser<'_>, slot: usize, kind: u32) -> PResult<()> {
        match u32::try_from(slot) {
            Ok(s) if s < IN_SIDE => {
                self.fixups.push(s | kind);
                Ok(())
            }
            _ => Err(p.fail("envelope smaller than 4 GiB")),
        }
    }

    /// The next `nstring` (after one SP when `sp`): the usual forms read in one step
    /// ([`Parser::quick_string`]), the rest by [`nstring_sp`](Self::nstring_sp).
    #[inline(always)]
    fn quick(&mut self, p: &mut Parser<'_>, slot: usize, sp: bool) -> PResult<Span> {
        match p.quick_string(self.start, u32::MAX as usize, sp, false) {
            Some(s) => Ok(s),
            None => self.nstring_sp(p, slot, sp),
        }
    }

    /// [`quick`](Self::quick) for every input: `SP` when `sp`, then `nstring`.
    #[inline(never)]
    fn nstring_sp(&mut self, p: &mut Parser<'_>, slot: usize, sp: bool) -> PResult<Span> {
        if sp {
            p.sp()?;
        }
        self.nstring(p, slot)
    }

    /// `address`, appended: the usual shape in one pass ([`quick_address`]), anything else
    /// by [`address_general`](Self::address_general).
    #[inline(always)]
    fn address(&mut self, p: &mut Parser<'_>) -> PResult<()> {
        match quick_address::<false>(p.bytes(), p.pos, self.start) {
            Some((a, next, _)) => {
                p.pos = next;
                self.spans.push(a);
                Ok(())
            }
            None => self.address_escaped(p),
        }
    }

    /// [`address`](Self::address) when its fast path does not take it: the usual shape
    /// with escaped strings (a display name with a quoted nickname) still in one pass, the
    /// rest by [`address_general`](Self::address_general).
    #[inline(never)]
    fn address_escaped(&mut self, p: &mut Parser<'_>) -> PResult<()> {
        match quick_address::<true>(p.bytes(), p.pos, self.start) {
            Some((a, next, escaped)) if self.escaped_fields(escaped) => {
                p.pos = next;
                self.spans.push(a);
                Ok(())
            }
            _ => self.address_general(p),
        }
    }

    /// Marks the fields of the next address named by the bits of `escaped` to be unescaped
    /// (as [`escaped`](Self::escaped) does for each); `false`, nothing marked, when their
    /// slots do not fit a [`fixups`](Self::fixups) entry (the general path fails then).
    #[inline]
    fn escaped_fields(&mut self, escaped: u8) -> bool {
        let slot = 4 * self.spans.len();
        if slot + 3 >= IN_SIDE as usize {
            return false;
        }
        for k in 0..4 {
            if escaped & (1 << k) != 0 {
                self.fixups.push((slot + k) as u32);
            }
        }
        true
    }

    /// [`address`](Self::address) for every input.
    #[inline(never)]
    fn address_general(&mut self, p: &mut Parser<'_>) -> PResult<()> {
        p.expect(b'(', "( address")?;
        let slot = 4 * self.spans.len();
        let name = self.quick(p, slot, false)?;
        let adl = self.quick(p, slot + 1, true)?;
        let mailbox = self.quick(p, slot + 2, true)?;
        let host = self.quick(p, slot + 3, true)?;
        if !p.eat(b')') {
            p.skip_trailing_sp();
            p.expect(b')', ") after addr-host")?;
        }
        self.spans.push([name, adl, mailbox, host]);
        Ok(())
    }

    /// `"(" 1*address ")" / nil`, appended. Lenient: `()` (empty list) and SP between
    /// addresses.
    fn address_list(&mut self, p: &mut Parser<'_>) -> PResult<()> {
        // (neither NIL nor `""` starts with `(`, the usual case)
        // (an upper-case NIL inline, what `nil_or_empty_string` takes first)
        if p.peek() != Some(b'(') && (p.nil_upper() || p.nil_or_empty_string()) {
            return Ok(());
        }
        let open = p.pos;
        p.expect(b'(', "address list or NIL")?;
        // (an address next, the usual case: no space to skip, the list is not empty)
        if p.peek() != Some(b'(') {
            p.skip_trailing_sp();
            if p.peek() == Some(b')') {
                if !p.tolerate(Quirk::NilOrEmpty, open) {
                    return Err(p.fail("address"));
                }
                p.pos += 1;
                return Ok(());
            }
        }
        let mut n = 0;
        loop {
            self.address(p)?;
            n += 1;
            p.check_items(n)?;
            // (no space to skip before either)
            match p.peek() {
                Some(b'(') => continue,
                Some(b')') => {
                    p.pos += 1;
                    return Ok(());
                }
                _ => {}
            }
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

    /// The envelope, its bytes being the message's `self.start..end`.
    fn finish(&mut self, p: &mut Parser<'_>, end: usize, ends: [u32; 6]) -> PResult<Envelope> {
        self.spans[1] = pack_ends(ends);
        if self.fixups.is_empty() {
            return Ok(Envelope {
                buf: p.slice(self.start, end),
                spans: Box::from(&self.spans[..]),
            });
        }
        // Some strings are not runs of the message as they stand: the buffer is a copy of
        // the envelope's bytes, the escaped strings unescaped where they stand, followed by
        // the values copied whole.
        let Some(mut buf) = OwnBuf::new(&p.bytes()[self.start..end], &self.side) else {
            return Err(p.fail_at(self.start, "envelope smaller than 4 GiB"));
        };
        for &f in &self.fixups {
            let slot = (f & !IN_SIDE) as usize;
            let Some(span) = self.spans.get_mut(slot / 4).map(|a| &mut a[slot % 4]) else {
                continue;
            };
            if f & IN_SIDE != 0 {
                span.off = buf.side(span.off);
            } else {
                span.len = buf.escaped(span.off, span.len);
            }
        }
        Ok(Envelope {
            buf: buf.into_bytes(),
            spans: Box::from(&self.spans[..]),
        })
    }
}

/// One field of [`quick_address`] at `i` of `b`: an upper-case `NIL` or a quoted string of
/// plain bytes (and with `ESC`, of `\\"` and `\\\\` escapes too), then `t`; its span
/// relative to `base` (the raw content; not checked against 4 GiB: the caller checks the
/// address's end), where the next field starts, and whether the string has escapes (its
/// span is then to be unescaped).
#[inline(always)]
fn quick_field<const ESC: bool>(
    b: &[u8],
    i: usize,
    base: usize,
    t: u8,
) -> Option<(Span, usize, bool)> {
    match b.get(i..i + 4)? {
        [b'N', b'I', b'L', c] if *c == t => return Some((Span::NIL, i + 4, false)),
        [b'"', ..] => {}
        _ => return None,
    }
    let start = i + 1;
    let mut end = start + quoted_run(b.get(start..)?);
    let mut escaped = false;
    if ESC {
        while let Some([b'\\', b'"' | b'\\']) = b.get(end..end + 2) {
            escaped = true;
            end += 2;
            end += quoted_run(b.get(end..)?);
        }
    }
    match b.get(end..end + 2)? {
        [b'"', c] if *c == t => Some((
            Span {
                off: (start - base) as u32,
                len: (end - start) as u32,
            },
            end + 2,
            escaped,
        )),
        _ => None,
    }
}

/// `address` at `at` of `b` in its usual shape, `("Name" NIL "mbox" "host")`: each field an
/// upper-case `NIL` or a quoted string of plain bytes (and with `ESC`, of `\\"` and `\\\\`
/// escapes too), one SP between them, `)` right after the host; the spans (relative to
/// `base`), where the address ends, and which fields have escapes (bit `k` for field `k`:
/// their spans are raw content, to be unescaped). `None` for anything else, and when the
/// address does not end below 4 GiB from `base`: the general path reads it then. What this
/// takes, the general path reads the same way in both profiles (test
/// `quick_address_matches_general`).
#[inline(always)]
fn quick_address<const ESC: bool>(
    b: &[u8],
    at: usize,
    base: usize,
) -> Option<(AddressSpans, usize, u8)> {
    if b.get(at) != Some(&b'(') {
        return None;
    }
    let (name, i, e0) = quick_field::<ESC>(b, at + 1, base, b' ')?;
    let (adl, i, e1) = quick_field::<ESC>(b, i, base, b' ')?;
    let (mailbox, i, e2) = quick_field::<ESC>(b, i, base, b' ')?;
    let (host, i, e3) = quick_field::<ESC>(b, i, base, b')')?;
    // every span lies before `i`: all of them fit when `i` does
    if i - base >= u32::MAX as usize {
        return None;
    }
    let escaped = if ESC {
        u8::from(e0) | u8::from(e1) << 1 | u8::from(e2) << 2 | u8::from(e3) << 3
    } else {
        0
    };
    Some(([name, adl, mailbox, host], i, escaped))
}

fn encode_address_list(v: AddressList<'_>, buf: &mut EncodeBuf) {
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
        let start = p.pos;
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
        let mut e = EnvParser {
            start,
            spans: SpanBuf::new(),
            side: Vec::new(),
            fixups: SmallVec::new(),
        };
        // the top-level strings' and the list ends' places, filled in at the end
        e.spans.push([Span::NIL; 4]);
        e.spans.push([Span::EMPTY; 4]);
        let mut strs = [Span::NIL; 4];
        let mut ends = [0u32; 6];
        strs[DATE] = e.nstring(p, DATE)?;
        'fields: {
            if !next_field(p)? {
                break 'fields;
            }
            strs[SUBJECT] = e.nstring(p, SUBJECT)?;
            for end in &mut ends {
                if !next_field(p)? {
                    break 'fields;
                }
                e.address_list(p)?;
                *end = (e.spans.len() - HEAD) as u32;
            }
            if !next_field(p)? {
                break 'fields;
            }
            strs[IN_REPLY_TO] = e.nstring(p, IN_REPLY_TO)?;
            if !next_field(p)? {
                break 'fields;
            }
            strs[MESSAGE_ID] = e.nstring(p, MESSAGE_ID)?;
            p.skip_trailing_sp();
        }
        p.expect(b')', ") after env-message-id")?;
        // lists not sent (lenient) end where the last one sent did
        let last = (e.spans.len() - HEAD) as u32;
        for end in ends.iter_mut().rev() {
            if *end != 0 || last == 0 {
                break;
            }
            *end = last;
        }
        let end = p.pos;
        e.spans[0] = strs;
        e.finish(p, end, ends)
    }
}

/// `SP` before the next envelope field; lenient: `false` at a premature `)`. The usual
/// case, one SP before the field, is taken inline (pinned to [`next_field_general`] by
/// `next_field_matches_general`).
#[inline(always)]
fn next_field(p: &mut Parser<'_>) -> PResult<bool> {
    if let [b' ', c, ..] = p.rest() {
        if !matches!(c, b' ' | b')' | b'\r' | b'\n') {
            p.pos += 1;
            return Ok(true);
        }
    }
    next_field_general(p)
}

/// [`next_field`] for every input.
#[inline(never)]
fn next_field_general(p: &mut Parser<'_>) -> PResult<bool> {
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
        buf.nstring(self.date());
        buf.sp_nstring(self.subject());
        for field in AddressField::ALL {
            buf.sp();
            encode_address_list(self.list(field), buf);
        }
        buf.sp_nstring(self.in_reply_to());
        buf.sp_nstring(self.message_id());
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
                    Envelope::try_from(EnvelopeFields {
                        date,
                        subject,
                        from,
                        sender,
                        reply_to,
                        to,
                        cc,
                        bcc,
                        in_reply_to,
                        message_id,
                    })
                    .unwrap()
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

    /// [`next_field`] reads what [`next_field_general`] reads and stops where it stops, in
    /// both profiles, before every byte and pair of bytes.
    #[test]
    fn next_field_matches_general() {
        let mut inputs: Vec<Vec<u8>> = vec![b"".to_vec(), b" ".to_vec(), b"  ".to_vec()];
        for c in 0..=255u8 {
            inputs.push(vec![c]);
            inputs.push(vec![b' ', c]);
            inputs.push(vec![b' ', b' ', c]);
            inputs.push(vec![b' ', c, b' ']);
            inputs.push(vec![c, b' ', b')']);
        }
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for i in &inputs {
                let msg = Bytes::copy_from_slice(i);
                let mut fast = Parser::new(&msg, &o);
                let mut general = Parser::new(&msg, &o);
                let (a, b) = (next_field(&mut fast), next_field_general(&mut general));
                assert_eq!(a, b, "{i:?}");
                assert_eq!(fast.pos, general.pos, "{i:?}");
                assert_eq!(fast.warnings, general.warnings, "{i:?}");
                if a.is_err() {
                    assert_eq!(fast.error(), general.error(), "{i:?}");
                }
            }
        }
    }

    /// [`EnvParser::address`] (its fast path [`quick_address`]) reads what
    /// [`EnvParser::address_general`] reads, in both profiles: every address made of fields
    /// in the usual and the unusual forms (NIL in both cases, plain, empty, escaped, badly
    /// escaped, 8-bit and NUL-holding quoted strings, literals) with one or two spaces or a
    /// `)` after each, at an offset from the envelope's start: the same result, spans,
    /// strings to unescape, warnings and end; and the fast path takes every address of the
    /// usual shape.
    #[test]
    fn quick_address_matches_general() {
        let fields: [&[u8]; 11] = [
            b"NIL",
            b"nil",
            b"\"Ann Lee\"",
            b"\"\"",
            b"\"x\\\"y\"",
            b"\"a\\\\b \\\"Al\\\" \\\\\"",
            b"\"q\\x\"",
            b"\"caf\xc3\xa9\"",
            b"\"a\0b\"",
            b"{2}\r\nab",
            b"\"a long display name, over sixteen bytes\"",
        ];
        let seps: [&[u8]; 3] = [b" ", b"  ", b")"];
        let new = || EnvParser {
            start: 1,
            spans: SpanBuf::new(),
            side: Vec::new(),
            fixups: SmallVec::new(),
        };
        let (mut taken, mut plain) = (0, 0);
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            for n in 0..fields.len().pow(4) {
                for m in 0..seps.len().pow(4) {
                    let mut v = b"xx(".to_vec();
                    for k in 0..4 {
                        v.extend_from_slice(fields[n / fields.len().pow(k) % fields.len()]);
                        v.extend_from_slice(seps[m / seps.len().pow(k) % seps.len()]);
                    }
                    v.extend_from_slice(b" NIL)\r\n");
                    let msg = Bytes::from(v);
                    let what = String::from_utf8_lossy(&msg);
                    let (mut fast, mut general) = (Parser::new(&msg, &o), Parser::new(&msg, &o));
                    (fast.pos, general.pos) = (2, 2);
                    let (mut f, mut g) = (new(), new());
                    let r = f.address(&mut fast);
                    assert_eq!(r, g.address_general(&mut general), "{what}");
                    assert_eq!(f.spans, g.spans, "{what}");
                    assert_eq!(f.fixups, g.fixups, "{what}");
                    assert_eq!(fast.warnings, general.warnings, "{what}");
                    if r.is_ok() {
                        assert_eq!(fast.pos, general.pos, "{what}");
                    } else {
                        assert_eq!(fast.error(), general.error(), "{what}");
                    }
                    taken += usize::from(quick_address::<true>(&msg, 2, 1).is_some());
                    plain += usize::from(quick_address::<false>(&msg, 2, 1).is_some());
                }
            }
        }
        // upper-case NIL or one of the five plain or well escaped strings in each field,
        // each followed as usual, in both profiles
        assert_eq!(taken, 2 * 6 * 6 * 6 * 6);
        // without escapes: upper-case NIL or one of the three plain strings
        assert_eq!(plain, 2 * 4 * 4 * 4 * 4);
    }

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
            e.subject().unwrap(),
            b"IMAP4rev2 WG mtg summary and minutes"
        );
        assert_eq!(e.cc().len(), 2);
        assert_eq!(e.cc().get(1).unwrap().mailbox().unwrap(), b"KLENSIN");
        assert!(e.bcc().is_empty());
        assert_eq!(e.to_vec_inline_literals(), s.to_vec());
    }

    #[test]
    fn group_syntax_is_data() {
        let s = br#"(NIL NIL ((NIL NIL "undisclosed" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL NIL NIL NIL)"#;
        let (e, _) = parse(s, &DecodeOptions::strict()).unwrap();
        assert!(e.from().get(0).unwrap().is_group_start());
        assert!(e.from().get(1).unwrap().is_group_end());
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
        assert!(e.message_id().is_none());
        assert!(parse(s, &DecodeOptions::strict()).is_err());
        let (e, w) = parse(b"NIL", &DecodeOptions::lenient()).unwrap();
        assert_eq!((e, w), (Envelope::default(), 1));
        assert!(parse(b"NIL", &DecodeOptions::strict()).is_err());
    }

    /// Every wire form of a string, in the top-level fields and in addresses: plain quoted
    /// (a run of the message), escaped quoted (unescaped where it stands in one copy of the
    /// envelope's bytes), lenient NUL (copies after them), literals, empty strings, NIL in
    /// both cases; the content is what the general `nstring` reads, the value equals one
    /// built from owned fields, and a plain envelope shares the message's buffer.
    #[test]
    fn strings_of_every_form() {
        let s: &[u8] = b"(\"d\\\\a\\\"te\" {3}\r\nsub ((\"n\" nil \"m\\\\b\" \"h\")(NIL {0}\r\n \"x\" \"\")) NIL NIL ((\"n2\" NIL \"q\\\"q\" \"h2\")) NIL NIL \"\" \"<id\\\\1>\")";
        let want = EnvelopeFields {
            date: Some(IString::try_from(&b"d\\a\"te"[..]).unwrap()),
            subject: Some(IString::try_from("sub").unwrap()),
            from: vec![
                Address {
                    name: Some(IString::try_from("n").unwrap()),
                    adl: None,
                    mailbox: Some(IString::try_from(&b"m\\b"[..]).unwrap()),
                    host: Some(IString::try_from("h").unwrap()),
                },
                Address {
                    name: None,
                    adl: Some(IString::try_from("").unwrap()),
                    mailbox: Some(IString::try_from("x").unwrap()),
                    host: Some(IString::try_from("").unwrap()),
                },
            ],
            to: vec![Address {
                name: Some(IString::try_from("n2").unwrap()),
                adl: None,
                mailbox: Some(IString::try_from(&b"q\"q"[..]).unwrap()),
                host: Some(IString::try_from("h2").unwrap()),
            }],
            in_reply_to: Some(IString::try_from("").unwrap()),
            message_id: Some(IString::try_from(&b"<id\\1>"[..]).unwrap()),
            ..EnvelopeFields::default()
        };
        for o in [DecodeOptions::strict(), DecodeOptions::lenient()] {
            let (e, _) = parse(s, &o).unwrap();
            assert_eq!(e.to_fields(), want);
            assert_eq!(e, Envelope::try_from(want.clone()).unwrap());
            assert_eq!(e.date(), Some(&b"d\\a\"te"[..]));
            assert_eq!(e.from().get(1).unwrap().adl(), Some(&b""[..]));
            assert_eq!(e.to().get(0).unwrap().mailbox(), Some(&b"q\"q"[..]));
            assert_eq!(e.message_id(), Some(&b"<id\\1>"[..]));
            // re-encoded and decoded again: the same value
            let (again, _) = parse(&e.to_vec_inline_literals(), &o).unwrap();
            assert_eq!(again, e);
            // one copy of the envelope's bytes, nothing after them
            assert_eq!(e.buf.len(), s.len());
        }
        // lenient: escaped strings unescaped in place and NUL-dropped copies in one envelope
        let s: &[u8] = b"(\"a\0b\" \"x\\\"y\" ((\"x\" NIL {3}\r\nm\0n \"h\\\\\")) NIL NIL NIL NIL NIL NIL \"i\")";
        let (e, _) = parse(s, &DecodeOptions::lenient()).unwrap();
        assert_eq!(e.date(), Some(&b"ab"[..]));
        assert_eq!(e.subject(), Some(&b"x\"y"[..]));
        assert_eq!(e.from().get(0).unwrap().mailbox(), Some(&b"mn"[..]));
        assert_eq!(e.from().get(0).unwrap().host(), Some(&b"h\\"[..]));
        assert_eq!(e.message_id(), Some(&b"i"[..]));
        assert_eq!(e.buf.len(), s.len() + 4);
        // lenient: NUL dropped from a quoted string and a literal (copies)
        let s: &[u8] =
            b"(\"a\0b\" NIL ((\"x\" NIL {3}\r\nm\0n \"h\")) NIL NIL NIL NIL NIL NIL \"i\")";
        assert!(parse(s, &DecodeOptions::strict()).is_err());
        let (e, _) = parse(s, &DecodeOptions::lenient()).unwrap();
        assert_eq!(e.date(), Some(&b"ab"[..]));
        assert_eq!(e.from().get(0).unwrap().mailbox(), Some(&b"mn"[..]));
        assert_eq!(e.from().get(0).unwrap().host(), Some(&b"h"[..]));
        assert_eq!(e.message_id(), Some(&b"i"[..]));
        // a plain envelope is a slice of the message, not a copy
        let msg = Bytes::from_static(
            b"xx(\"d\" \"s\" ((\"n\" NIL \"m\" \"h\")) NIL NIL NIL NIL NIL NIL \"i\")",
        );
        let o = DecodeOptions::strict();
        let mut p = Parser::new(&msg, &o);
        p.pos = 2;
        let e = Envelope::parse(&mut p).unwrap();
        assert!(p.at_end());
        assert_eq!(e.buf.as_ptr(), msg[2..].as_ptr());
        assert_eq!(e.buf.len(), msg.len() - 2);
        assert_eq!(e.from().get(0).unwrap().host(), Some(&b"h"[..]));
    }

    /// `Debug` and `PartialEq` go by content: a decoded envelope and one built from the same
    /// fields are equal and print the same, and an address prints as its owned form does.
    #[test]
    fn debug_and_eq_by_content() {
        let s = br#"("d" NIL (("N" NIL "m" "h")) NIL NIL NIL NIL NIL NIL "i")"#;
        let (e, _) = parse(s, &DecodeOptions::strict()).unwrap();
        let built = Envelope::try_from(e.to_fields()).unwrap();
        assert_eq!(e, built);
        assert_eq!(format!("{e:?}"), format!("{built:?}"));
        let a = e.from().get(0).unwrap();
        assert_eq!(format!("{a:?}"), format!("{:?}", a.to_address()));
        assert_eq!(
            format!("{e:?}"),
            "Envelope { date: Some(IString(\"d\")), subject: None, from: [Address { name: \
             Some(IString(\"N\")), adl: None, mailbox: Some(IString(\"m\")), host: \
             Some(IString(\"h\")) }], sender: [], reply_to: [], to: [], cc: [], bcc: [], \
             in_reply_to: None, message_id: Some(IString(\"i\")) }"
        );
        let mut other = e.to_fields();
        other.from[0].host = None;
        assert_ne!(e, Envelope::try_from(other).unwrap());
        let mut other = e.to_fields();
        other.to = other.from.clone();
        assert_ne!(e, Envelope::try_from(other).unwrap());
        assert_ne!(e, Envelope::default());
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
