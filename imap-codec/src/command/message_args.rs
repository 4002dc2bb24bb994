//! Message command arguments: APPEND messages (RFC 9051 §6.3.12, MULTIAPPEND RFC 3502,
//! CATENATE RFC 4469, BINARY RFC 3516), FETCH and STORE modifiers (RFC 4466, RFC 7162) and STORE
//! data (RFC 9051 §6.4.6).

use super::*;

/// One message of APPEND (`append-message` of RFC 3502 / RFC 4466).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppendMessage {
    /// Flags to set (an empty list is sent as nothing).
    pub flags: Vec<Flag>,
    /// INTERNALDATE to set.
    pub date: Option<DateTime>,
    /// `append-ext` items (name must not be `CATENATE` or `UTF8`).
    pub extensions: Vec<(Atom, TaggedExtVal)>,
    /// The message.
    pub data: AppendData,
}

/// The message content of APPEND/REPLACE (`append-data`).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AppendData {
    /// A `literal` (or `literal8` when `binary`, RFC 3516). `data` is a slice of the
    /// received message.
    Literal {
        /// The message bytes.
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_util::bytes))]
        data: Bytes,
        /// Sent as `~{n}` (may contain NUL).
        binary: bool,
    },
    /// `CATENATE (part ...)` (RFC 4469), non-empty.
    Catenate(Vec<CatPart>),
    /// `UTF8 (~{n}...)` (RFC 6855).
    Utf8(#[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_util::bytes))] Bytes),
}

/// A CATENATE part (`cat-part`, RFC 4469; UTF8 RFC 6855).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CatPart {
    /// `TEXT literal` (or literal8 when `binary`).
    Text {
        /// Bytes.
        #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_util::bytes))]
        data: Bytes,
        /// Sent as `~{n}`.
        binary: bool,
    },
    /// `URL astring`: an IMAP URL.
    Url(AString),
    /// `UTF8 (~{n}...)`.
    Utf8(#[cfg_attr(feature = "arbitrary", arbitrary(with = crate::arbitrary_util::bytes))] Bytes),
}

pub(super) fn utf8_literal(p: &mut Parser<'_>) -> PResult<Bytes> {
    p.sp()?;
    p.expect(b'(', "(")?;
    let (d, _) = p.literal_any(true)?;
    p.expect(b')', ")")?;
    Ok(d)
}

pub(super) fn encode_data_literal(buf: &mut EncodeBuf, data: &[u8], binary: bool) {
    let binary = binary || memchr::memchr(0, data).is_some();
    buf.literal(data, binary);
}

impl CatPart {
    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.keyword(b"TEXT") {
            p.sp()?;
            let (data, binary) = p.literal_any(true)?;
            Ok(CatPart::Text { data, binary })
        } else if p.keyword(b"URL") {
            p.sp()?;
            IString::parse_astring(p).map(CatPart::Url)
        } else if p.keyword(b"UTF8") {
            utf8_literal(p).map(CatPart::Utf8)
        } else {
            Err(p.fail("cat-part"))
        }
    }
}

impl Encode for CatPart {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            CatPart::Text { data, binary } => {
                buf.raw(b"TEXT ");
                encode_data_literal(buf, data, *binary);
            }
            CatPart::Url(u) => {
                buf.raw(b"URL ");
                u.encode_astring(buf);
            }
            CatPart::Utf8(d) => {
                buf.raw(b"UTF8 (");
                buf.literal(d, true);
                buf.byte(b')');
            }
        }
    }
}

impl AppendData {
    pub(super) fn starts(p: &Parser<'_>) -> bool {
        matches!(p.peek(), Some(b'{' | b'~'))
            || p.looking_at_ci(b"CATENATE ")
            || p.looking_at_ci(b"UTF8 ")
    }

    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.keyword(b"CATENATE") {
            p.sp()?;
            paren_list(p, false, CatPart::parse).map(AppendData::Catenate)
        } else if p.keyword(b"UTF8") {
            utf8_literal(p).map(AppendData::Utf8)
        } else {
            let (data, binary) = p.literal_any(true)?;
            Ok(AppendData::Literal { data, binary })
        }
    }
}

impl Encode for AppendData {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            AppendData::Literal { data, binary } => encode_data_literal(buf, data, *binary),
            AppendData::Catenate(v) => {
                buf.raw(b"CATENATE ");
                buf.list(v, |b, c| c.encode(b));
            }
            AppendData::Utf8(d) => {
                buf.raw(b"UTF8 (");
                buf.literal(d, true);
                buf.byte(b')');
            }
        }
    }
}

impl AppendMessage {
    /// A message from a literal, without flags or date.
    pub fn literal(data: impl Into<Bytes>) -> Self {
        let data = data.into();
        let binary = memchr::memchr(0, &data).is_some();
        AppendMessage {
            flags: Vec::new(),
            date: None,
            extensions: Vec::new(),
            data: AppendData::Literal { data, binary },
        }
    }

    /// Parses `append-opts SP append-data` (starting at the SP before the options).
    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        p.sp()?;
        let mut flags = Vec::new();
        let mut date = None;
        let mut extensions = Vec::new();
        if p.peek() == Some(b'(') {
            flags = parse_flag_list(p, Flag::parse)?;
            p.sp()?;
        }
        if p.peek() == Some(b'"') {
            date = Some(DateTime::parse(p)?);
            p.sp()?;
        }
        while !AppendData::starts(p) {
            let name = tagged_label(p)?;
            p.sp()?;
            let v = TaggedExtVal::parse(p)?;
            extensions.push((name, v));
            p.check_items(extensions.len())?;
            p.sp()?;
        }
        let data = AppendData::parse(p)?;
        Ok(AppendMessage {
            flags,
            date,
            extensions,
            data,
        })
    }
}

impl Encode for AppendMessage {
    /// Writes ` [flags] [date] *ext data` including the leading SP.
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.sp();
        if !self.flags.is_empty() {
            buf.list(&self.flags, |b, f| f.encode(b));
            buf.sp();
        }
        if let Some(d) = &self.date {
            d.encode(buf);
            buf.sp();
        }
        for (n, v) in &self.extensions {
            n.encode(buf);
            buf.sp();
            v.encode(buf);
            buf.sp();
        }
        self.data.encode(buf);
    }
}

/// A FETCH modifier (`fetch-modifier`, RFC 4466; CHANGEDSINCE/VANISHED RFC 7162; PARTIAL
/// RFC 9394).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FetchModifier {
    /// `CHANGEDSINCE modseq`
    ChangedSince(u64),
    /// `VANISHED` (UID FETCH only)
    Vanished,
    /// `PARTIAL range`
    Partial(PartialRange),
    /// Another modifier.
    Other {
        /// Name.
        name: Atom,
        /// Value.
        value: Option<TaggedExtVal>,
    },
}

impl FetchModifier {
    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.keyword(b"CHANGEDSINCE") {
            p.sp()?;
            return modseq_value(p).map(FetchModifier::ChangedSince);
        }
        if p.keyword(b"VANISHED") {
            return Ok(FetchModifier::Vanished);
        }
        if p.keyword(b"PARTIAL") {
            p.sp()?;
            return PartialRange::parse(p).map(FetchModifier::Partial);
        }
        let name = tagged_label(p)?;
        let value = TaggedExtVal::parse_opt_param(p)?;
        Ok(FetchModifier::Other { name, value })
    }
}

impl Encode for FetchModifier {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            FetchModifier::ChangedSince(n) => {
                buf.raw(b"CHANGEDSINCE ");
                buf.num(*n);
            }
            FetchModifier::Vanished => buf.raw(b"VANISHED"),
            FetchModifier::Partial(r) => {
                buf.raw(b"PARTIAL ");
                r.encode(buf);
            }
            FetchModifier::Other { name, value } => encode_named(buf, name, value.as_ref()),
        }
    }
}

/// A STORE modifier (`store-modifier`, RFC 4466; UNCHANGEDSINCE RFC 7162).
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreModifier {
    /// `UNCHANGEDSINCE modseq` (`mod-sequence-valzer`).
    UnchangedSince(u64),
    /// Another modifier.
    Other {
        /// Name.
        name: Atom,
        /// Value.
        value: Option<TaggedExtVal>,
    },
}

impl StoreModifier {
    pub(super) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        if p.keyword(b"UNCHANGEDSINCE") {
            p.sp()?;
            return p.number64().map(StoreModifier::UnchangedSince);
        }
        let name = tagged_label(p)?;
        let value = TaggedExtVal::parse_opt_param(p)?;
        Ok(StoreModifier::Other { name, value })
    }
}

impl Encode for StoreModifier {
    fn encode(&self, buf: &mut EncodeBuf) {
        match self {
            StoreModifier::UnchangedSince(n) => {
                buf.raw(b"UNCHANGEDSINCE ");
                buf.num(*n);
            }
            StoreModifier::Other { name, value } => encode_named(buf, name, value.as_ref()),
        }
    }
}

/// How STORE changes the stored values.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreType {
    /// `FLAGS`: replace.
    Replace,
    /// `+FLAGS`: add.
    Add,
    /// `-FLAGS`: remove.
    Remove,
}

/// A Gmail label (X-GM-LABELS), the same value type as in FETCH responses.
pub use crate::fetch::GmailLabel;

/// What STORE changes.
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreData {
    /// `FLAGS (...)`: the flags as a [`FlagList`](crate::flag::FlagList) (system flags
    /// held as one-byte codes; no allocation for the usual list).
    Flags(crate::flag::FlagList),
    /// `X-GM-LABELS (...)` (Gmail).
    GmailLabels(Vec<GmailLabel>),
}
