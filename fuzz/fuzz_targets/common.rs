//! Shared body of the decoder targets: the first byte picks the profile; whatever decodes must
//! re-encode to bytes that decode (strictly) to an equal value.

use bytes::Bytes;
use imap_codec::codec::Message;
use imap_codec::options::DecodeOptions;

pub fn roundtrip<M: Message + PartialEq + std::fmt::Debug>(data: &[u8], prefix: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let opts = if sel & 1 == 0 {
        DecodeOptions::strict()
    } else {
        DecodeOptions::lenient()
    };
    let mut msg = prefix.to_vec();
    msg.extend_from_slice(rest);
    let msg = Bytes::from(msg);
    if let Ok(d) = M::decode(&msg, &opts) {
        let enc = Bytes::from(d.message.to_bytes());
        match M::decode(&enc, &DecodeOptions::strict()) {
            Ok(again) => assert_eq!(
                again.message,
                d.message,
                "re-encoding {:?} decodes to another value",
                String::from_utf8_lossy(&enc)
            ),
            Err(e) => panic!(
                "re-encoding {:?} of {:?} does not decode: {e}",
                String::from_utf8_lossy(&enc),
                d.message
            ),
        }
    }
}
