//! Base64 (RFC 4648 §4, as used by AUTHENTICATE in RFC 9051 §6.2.2 and SASL-IR RFC 4959).

/// Base64 decoding failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid base64 at byte {offset}")]
pub struct Base64Error {
    /// Offset of the first invalid byte (or of the end, for a bad length).
    pub offset: usize,
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const fn decode_table() -> [u8; 256] {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
}
static DECODE: [u8; 256] = decode_table();

/// Whether `b` is a base64 character (not counting `=`).
pub fn is_base64_char(b: u8) -> bool {
    DECODE[b as usize] != 0xff
}

/// Encodes with padding.
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes canonical padded base64 (`base64` of RFC 9051 §9: groups of 4, `=` padding only at
/// the end, unused bits zero).
pub fn decode(s: &[u8]) -> Result<Vec<u8>, Base64Error> {
    if s.len() % 4 != 0 {
        return Err(Base64Error { offset: s.len() });
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for (ci, chunk) in s.chunks(4).enumerate() {
        let last = ci == s.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return Err(Base64Error {
                offset: ci * 4 + 4 - pad,
            });
        }
        let mut n: u32 = 0;
        for (i, &c) in chunk[..4 - pad].iter().enumerate() {
            let v = DECODE[c as usize];
            if v == 0xff {
                return Err(Base64Error { offset: ci * 4 + i });
            }
            n |= (v as u32) << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = 3 - pad;
        // non-canonical: bits beyond the kept bytes must be zero
        if pad > 0 && (n & ((1u32 << (8 * pad)) - 1)) != 0 {
            return Err(Base64Error {
                offset: ci * 4 + 3 - pad,
            });
        }
        out.extend_from_slice(&bytes[..keep]);
    }
    Ok(out)
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

    proptest! {
        #[test]
        fn roundtrip(v in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(decode(encode(&v).as_bytes()).unwrap(), v);
        }
    }
}
