//! Base64 (RFC 4648 §4, as used by AUTHENTICATE in RFC 9051 §6.2.2 and SASL-IR RFC 4959),
//! strict: the alphabet of §4, padding required, unused bits zero. The codec's one base64; the
//! work is done by the `base64` crate.

use ::base64::DecodeError;
use ::base64::engine::Engine as _;
use ::base64::engine::general_purpose::STANDARD;

/// Base64 decoding failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid base64 at byte {offset}")]
pub struct Base64Error {
    /// Offset of the first invalid byte (or of the end, for a bad length).
    pub offset: usize,
}

/// Whether `b` is a base64 character (not counting `=`).
pub fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Encodes with padding.
pub fn encode(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// Decodes canonical padded base64 (`base64` of RFC 9051 §9: groups of 4, `=` padding only at
/// the end, unused bits zero).
pub fn decode(s: &[u8]) -> Result<Vec<u8>, Base64Error> {
    // `STANDARD` requires canonical padding and rejects non-zero trailing bits.
    STANDARD.decode(s).map_err(|e| Base64Error {
        offset: match e {
            DecodeError::InvalidByte(at, _) | DecodeError::InvalidLastSymbol { offset: at, .. } => {
                at
            }
            DecodeError::InvalidLength(_) => s.len(),
            // Padding in the wrong place or of the wrong length: at the first `=`.
            DecodeError::InvalidPadding => s.iter().position(|&c| c == b'=').unwrap_or(s.len()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known() {
        assert_eq!(
            encode(b"\0tim\0tanstaaftanstaaf"),
            "AHRpbQB0YW5zdGFhZnRhbnN0YWFm"
        );
        assert_eq!(decode(b"Zm9vYg==").unwrap(), b"foob");
        assert!(decode(b"Zm9vYh==").is_err());
        assert!(decode(b"Zm9").is_err());
        assert!(decode(b"Zm=vYg==").is_err());
    }

    #[test]
    fn strict_rfc4648() {
        assert_eq!(decode(b"").unwrap(), b"");
        assert_eq!(decode(b"Zm8=").unwrap(), b"fo");
        // missing padding, too much padding, padding inside, trailing data after padding
        assert_eq!(decode(b"Zm8").unwrap_err().offset, 3);
        assert!(decode(b"Zg").is_err());
        assert!(decode(b"Zg===").is_err());
        assert!(decode(b"Zg==Zg==").is_err());
        assert!(decode(b"Zm8=Zm8=").is_err());
        // unused bits not zero (RFC 4648 §3.5 canonical encoding)
        assert!(decode(b"Zm9=").is_err());
        assert!(decode(b"Zh==").is_err());
        // outside the alphabet: URL-safe characters, whitespace, CR LF
        assert_eq!(decode(b"ab-_").unwrap_err().offset, 2);
        assert_eq!(decode(b"Zm9v YmFy").unwrap_err().offset, 4);
        assert_eq!(decode(b"Zm9v\r\nYmFy").unwrap_err().offset, 4);
        assert!(is_base64_char(b'/') && is_base64_char(b'+') && is_base64_char(b'z'));
        assert!(!is_base64_char(b'=') && !is_base64_char(b'-') && !is_base64_char(b'_'));
        assert!(!is_base64_char(0xc3) && !is_base64_char(b' '));
    }

    proptest! {
        #[test]
        fn roundtrip(v in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(decode(encode(&v).as_bytes()).unwrap(), v);
        }
    }
}
