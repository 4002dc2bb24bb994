//! Names shared by commands, responses and capabilities: THREAD algorithms (RFC 5256 §3
//! `thread-alg`, `THREAD=` capability) and quota resources (RFC 9208 §5 and §9
//! `resource-name`, `QUOTA=RES-` capability). One type each, used in both directions.

use crate::core::Atom;
use crate::error::{Rule, ValidationError, ValueKind};
use crate::names::name_enum;
use crate::parse::{PResult, Parser};

name_enum! {
    /// A THREAD algorithm (RFC 5256 §3 `thread-alg`): the argument of THREAD and of the
    /// `THREAD=` capability.
    #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum ThreadAlgorithm {
        /// `ORDEREDSUBJECT`
        OrderedSubject = b"ORDEREDSUBJECT",
        /// `REFERENCES`
        References = b"REFERENCES",
        /// `REFS` (draft-ietf-morg-inthread, widely deployed)
        Refs = b"REFS",
    }
    others {
        /// Another algorithm (never one of the names above, in any case: build it with
        /// [`ThreadAlgorithm::from_atom`]).
        Other(Atom),
    }
    name {
        ThreadAlgorithm::Other(a) => a.as_str(),
    }
}

name_enum! {
    /// A quota resource (RFC 9208 §5, `resource-name` of §9): in SETQUOTA, in QUOTA data
    /// and in the `QUOTA=RES-` capability.
    #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    #[non_exhaustive]
    pub enum QuotaResourceName {
        /// `STORAGE` (in units of 1024 octets)
        Storage = b"STORAGE",
        /// `MESSAGE`
        Message = b"MESSAGE",
        /// `MAILBOX`
        Mailbox = b"MAILBOX",
        /// `ANNOTATION-STORAGE`
        AnnotationStorage = b"ANNOTATION-STORAGE",
    }
    others {
        /// Another resource (never one of the names above, in any case: build it with
        /// [`QuotaResourceName::from_atom`]).
        Other(Atom),
    }
    name {
        QuotaResourceName::Other(a) => a.as_str(),
    }
}

/// The methods both name types share.
macro_rules! atom_named {
    ($ty:ident, $what:literal) => {
        impl $ty {
            /// Classifies a name (ignoring ASCII case): a known name gives its variant,
            /// anything else `Other`.
            pub fn from_atom(a: Atom) -> Self {
                Self::from_known_name(a.as_bytes()).unwrap_or($ty::Other(a))
            }

            /// The name as sent.
            pub fn name(&self) -> &[u8] {
                self.as_str().as_bytes()
            }

            /// Fails for `Other` holding a known name (it would decode as that variant).
            pub fn validate(&self) -> Result<(), ValidationError> {
                match self {
                    $ty::Other(a) if Self::from_known_name(a.as_bytes()).is_some() => Err(
                        ValidationError::new(ValueKind::Grammar($what), Rule::KnownName),
                    ),
                    _ => Ok(()),
                }
            }

            pub(crate) fn parse(p: &mut Parser<'_>) -> PResult<Self> {
                Atom::parse(p).map(Self::from_atom)
            }
        }

        impl crate::encode::Encode for $ty {
            fn encode(&self, buf: &mut crate::encode::EncodeBuf) {
                buf.raw(self.name());
            }
        }
    };
}

atom_named!(ThreadAlgorithm, "thread-alg");
atom_named!(QuotaResourceName, "resource-name");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Encode;
    use crate::options::DecodeOptions;

    fn parse_with<T>(s: &str, f: impl Fn(&mut Parser<'_>) -> PResult<T>) -> T {
        let b = bytes::Bytes::copy_from_slice(s.as_bytes());
        let o = DecodeOptions::default();
        let mut p = Parser::new(&b, &o);
        let v = f(&mut p).unwrap();
        assert!(p.rest().is_empty(), "{s}: left {:?}", p.rest());
        v
    }

    /// Every named variant: name -> value -> name, in three cases, through the parser and
    /// the classifier; the encoder writes the canonical name.
    #[test]
    fn names_round_trip() {
        for (i, n) in ThreadAlgorithm::NAMES.iter().enumerate() {
            let n = std::str::from_utf8(n).unwrap();
            let v = ThreadAlgorithm::by_index(i).unwrap();
            for s in [
                n.to_string(),
                n.to_ascii_lowercase(),
                n.to_ascii_uppercase(),
            ] {
                assert_eq!(parse_with(&s, ThreadAlgorithm::parse), v);
                assert_eq!(
                    ThreadAlgorithm::from_atom(Atom::try_from(s.as_str()).unwrap()),
                    v
                );
            }
            assert_eq!(v.known_name(), Some(n));
            assert_eq!(v.to_bytes_inline_literals(), n.as_bytes());
            v.validate().unwrap();
        }
        for (i, n) in QuotaResourceName::NAMES.iter().enumerate() {
            let n = std::str::from_utf8(n).unwrap();
            let v = QuotaResourceName::by_index(i).unwrap();
            for s in [n.to_string(), n.to_ascii_lowercase()] {
                assert_eq!(parse_with(&s, QuotaResourceName::parse), v);
            }
            assert_eq!(v.known_name(), Some(n));
            assert_eq!(v.to_bytes_inline_literals(), n.as_bytes());
        }
        assert_eq!(ThreadAlgorithm::NAMES.len(), 3);
        assert_eq!(QuotaResourceName::NAMES.len(), 4);
    }

    #[test]
    fn other_names() {
        let x = parse_with("X-ALG", ThreadAlgorithm::parse);
        assert_eq!(x, ThreadAlgorithm::Other(Atom::try_from("X-ALG").unwrap()));
        assert_eq!(x.known_name(), None);
        assert_eq!(x.name(), b"X-ALG");
        x.validate().unwrap();
        let bad = ThreadAlgorithm::Other(Atom::try_from("refs").unwrap());
        assert_eq!(bad.validate().unwrap_err().rule(), Rule::KnownName);
        let bad = QuotaResourceName::Other(Atom::try_from("Storage").unwrap());
        assert_eq!(bad.validate().unwrap_err().rule(), Rule::KnownName);
        // a longer atom is not the known name
        let r = parse_with("STORAGE-X", QuotaResourceName::parse);
        assert_eq!(r.name(), b"STORAGE-X");
    }
}
