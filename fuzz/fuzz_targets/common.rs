//! Shared body of the decoder targets: the first byte picks the profile; whatever decodes must
//! re-encode to bytes that decode (strictly) to an equal value, or, when the lenient profile
//! tolerated a defect, to a value whose encoding is the same (a fixed point).

use bytes::Bytes;
use imapwire_codec::codec::Message;
use imapwire_codec::options::DecodeOptions;

/// The input's first byte (the selector: bit 0 picks the lenient profile, the other bits
/// are the target's) with the options it picks, and the rest; `None` for an empty input.
pub fn selected(data: &[u8]) -> Option<(u8, DecodeOptions, &[u8])> {
    let (&sel, rest) = data.split_first()?;
    let opts = if sel & 1 == 0 {
        DecodeOptions::strict()
    } else {
        DecodeOptions::lenient()
    };
    Some((sel, opts, rest))
}

pub fn roundtrip<M: Message + PartialEq + std::fmt::Debug>(data: &[u8], prefix: &[u8]) {
    let Some((_, opts, rest)) = selected(data) else {
        return;
    };
    let mut msg = prefix.to_vec();
    msg.extend_from_slice(rest);
    let msg = Bytes::from(msg);
    if let Ok(d) = M::decode(&msg, &opts) {
        let enc = d.message.to_bytes_inline_literals();
        let again = match M::decode(&enc, &DecodeOptions::strict()) {
            Ok(again) => again,
            Err(e) => panic!(
                "re-encoding {:?} of {:?} does not decode: {e}",
                String::from_utf8_lossy(&enc),
                d.message
            ),
        };
        if d.warnings.is_empty() {
            // Valid input: the value survives the round trip.
            assert_eq!(
                again.message,
                d.message,
                "re-encoding {:?} decodes to another value",
                String::from_utf8_lossy(&enc)
            );
        } else {
            // A tolerated defect maps to the nearest valid value, which may differ from the
            // decoded one (e.g. a BODYSTRUCTURE kept raw as `Invalid`); its encoding must be
            // a fixed point.
            let enc2 = again.message.to_vec_inline_literals();
            assert_eq!(
                String::from_utf8_lossy(&enc2),
                String::from_utf8_lossy(&enc),
                "re-encoding is not stable"
            );
        }
    }
}
