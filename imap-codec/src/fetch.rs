//! FETCH (RFC 9051 §6.4.5, §7.5.2). STUB: replaced by the fetch/body/envelope work.
use crate::encode::{Encode, EncodeBuf};
use crate::parse::{PResult, Parser};

/// What a FETCH command asks for (`fetch-att` list or macro).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchItems {
    /// `ALL`
    All,
}

impl FetchItems {
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        Err(p.fail("fetch items"))
    }
}

impl Encode for FetchItems {
    fn encode(&self, buf: &mut EncodeBuf) {
        buf.raw(b"ALL");
    }
}

/// One data item of a FETCH response (`msg-att`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageDataItem {
    /// `UID n`
    Uid(crate::sequence::Uid),
}

impl MessageDataItem {
    /// Parses `"(" msg-att *(SP msg-att) ")"`.
    pub(crate) fn parse_list(p: &mut Parser<'_>) -> PResult<Vec<Self>> {
        Err(p.fail("msg-att"))
    }

    /// Encodes `"(" msg-att *(SP msg-att) ")"`.
    pub(crate) fn encode_list(items: &[Self], buf: &mut EncodeBuf) {
        buf.list(items, |b, MessageDataItem::Uid(u)| {
            b.raw(b"UID ");
            u.encode(b)
        });
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies (stub).
    use super::*;
    use proptest::prelude::*;

    /// FETCH command items.
    pub(crate) fn fetch_items() -> impl Strategy<Value = FetchItems> {
        Just(FetchItems::All)
    }

    /// A FETCH response's item list (non-empty).
    pub(crate) fn message_data_items() -> impl Strategy<Value = Vec<MessageDataItem>> {
        Just(vec![MessageDataItem::Uid(crate::sequence::Uid::MIN)])
    }
}
