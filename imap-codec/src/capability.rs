//! Capabilities (RFC 9051 §7.2.2). STUB: replaced by the response work.
use crate::core::Atom;
use crate::encode::{Encode, EncodeBuf};
use crate::parse::{PResult, Parser};

/// A capability name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// Any capability.
    Other(Atom),
}

impl Capability {
    pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
        Atom::parse(p).map(Capability::Other)
    }
}

impl Encode for Capability {
    fn encode(&self, buf: &mut EncodeBuf) {
        let Capability::Other(a) = self;
        a.encode(buf)
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies (stub).
    use super::*;
    use proptest::prelude::*;

    /// Capabilities.
    pub(crate) fn capability() -> impl Strategy<Value = Capability> {
        crate::core::strategies::atom().prop_map(Capability::Other)
    }
}
