//! Property tests over the building blocks' public APIs: hostile input never panics, and the
//! equivalences the modules promise hold for random input.

use std::num::NonZeroU32;

use bytes::Bytes;
use imapwire_codec::sequence::{SeqOrUid, Sequence, SequenceSet};
use imapwire_session::profile::ServerProfile;
use imapwire_session::sasl::login::LoginServer;
use imapwire_session::sasl::oauth::{OAuthBearerClient, OAuthError, XOAuth2Client};
use imapwire_session::sasl::plain::parse_plain;
use imapwire_session::sasl::scram::{
    ChannelBinding, ChannelBindingType, ScramClient, ScramHash, ScramLimits, ScramServer,
    StoredKeys,
};
use imapwire_session::sasl::{ClientMechanism, Secret};
use imapwire_session::tag::TagGenerator;
use proptest::prelude::*;

fn pw(s: &str) -> Secret<String> {
    Secret::new(s.to_owned())
}

/// A fixed nonce source (SCRAM's default reads the OS).
fn fixed(n: &'static str) -> imapwire_session::sasl::scram::NonceSource {
    Box::new(move || Ok(n.to_owned()))
}

fn seq_or_uid() -> impl Strategy<Value = SeqOrUid> {
    prop_oneof![
        4 => (1u32..60).prop_map(|n| SeqOrUid::Value(NonZeroU32::new(n).unwrap())),
        1 => Just(SeqOrUid::Asterisk),
    ]
}

fn sequence() -> impl Strategy<Value = Sequence> {
    prop_oneof![
        seq_or_uid().prop_map(Sequence::Single),
        (seq_or_uid(), seq_or_uid()).prop_map(|(a, b)| Sequence::Range(a, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The rewritten set selects the same messages for every largest number, and has no
    /// descending range left.
    #[test]
    fn rewrite_sequence_set_is_equivalent(
        items in proptest::collection::vec(sequence(), 1..8),
        largest in 1u32..70,
        bare_star in any::<bool>(),
    ) {
        let set = SequenceSet::Set(items.into());
        let mut p = ServerProfile::standard();
        p.no_descending_ranges = true;
        p.no_bare_star = bare_star;
        let out = p.rewrite_sequence_set(&set, Some(largest));
        for n in 1..=largest + 3 {
            prop_assert_eq!(set.contains(n, largest), out.contains(n, largest), "n={}", n);
        }
        let SequenceSet::Set(v) = &out else { unreachable!() };
        for s in v {
            if let Sequence::Range(a, b) = s {
                let descending = match (a, b) {
                    (SeqOrUid::Value(x), SeqOrUid::Value(y)) => x > y,
                    (SeqOrUid::Asterisk, SeqOrUid::Value(_)) => true,
                    _ => false,
                };
                prop_assert!(!descending, "{:?}", s);
            }
            if bare_star {
                prop_assert_ne!(*s, Sequence::Single(SeqOrUid::Asterisk));
            }
        }
    }

    /// Server-side parsers take any bytes without panicking.
    #[test]
    fn server_parsers_never_panic(msg in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_plain(&msg);
        let mut l = LoginServer::new();
        let _ = l.start(Some(&msg));
        let _ = l.respond(&msg);
        let mut s = ScramServer::new(ScramHash::Sha1).with_nonce_source(fixed("srv"));
        let _ = s.client_first(&msg);
        let _ = OAuthError::parse(&msg);
    }

    /// SCRAM server: any client-final after a valid start is handled without panicking, and
    /// only the genuine one is accepted.
    #[test]
    fn scram_server_final_never_panics(tail in "[ -~]{0,120}") {
        let keys = StoredKeys::derive(ScramHash::Sha256, &pw("pencil"), b"salty", 4096).unwrap();
        let mut s = ScramServer::new(ScramHash::Sha256).with_nonce_source(fixed("srv"));
        s.client_first(b"n,,n=user,r=cli").unwrap();
        let _ = s.server_first(keys).unwrap();
        prop_assert!(s.client_final(tail.as_bytes()).is_err());
    }

    /// Client mechanisms take any challenge bytes without panicking, at every step.
    #[test]
    fn client_steps_never_panic(
        challenges in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..4),
    ) {
        let mut clients: Vec<Box<dyn ClientMechanism>> = vec![
            Box::new(ScramClient::new(ScramHash::Sha1, "user", &pw("pencil")).unwrap()
                .with_nonce_source(fixed("abc"))
                .with_limits(ScramLimits::new(1, 4096))),
            Box::new(XOAuth2Client::new("u", &pw("t")).unwrap()),
            Box::new(OAuthBearerClient::new("u", &pw("t"), Some("h"), Some(1)).unwrap()),
        ];
        for c in clients.iter_mut() {
            let _ = c.initial_response();
            for ch in &challenges {
                let _ = c.step(ch);
            }
            let _ = c.finish(true);
        }
    }

    /// Tags handed out are valid and unique among those in flight, whatever the prefix.
    #[test]
    fn sequential_tags_are_unique(prefix in "[A-Za-z.]{1,4}", n in 1usize..300) {
        let mut g = TagGenerator::sequential(&prefix).unwrap();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..n {
            let t = g.next_tag().unwrap();
            prop_assert!(t.as_str().starts_with(&prefix));
            prop_assert!(seen.insert(t));
        }
    }
}

proptest! {
    // PBKDF2 with 4096 rounds per case: fewer cases.
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// SCRAM client and server agree for any user name and password that SASLprep accepts;
    /// changing one byte of the proof makes the server refuse.
    #[test]
    fn scram_client_and_server_agree(
        user in "[a-zA-Z0-9=,@. ]{1,12}",
        password in "[ -~]{1,16}",
        flip in 0usize..64,
        plus in any::<bool>(),
    ) {
        prop_assume!(user.trim() == user && password.trim() == password);
        let cb = ChannelBinding { kind: ChannelBindingType::TlsExporter, data: Bytes::from_static(&[9; 32]) };
        let run = |tamper: bool| -> Result<(), String> {
            let keys = StoredKeys::derive(ScramHash::Sha256, &pw(&password), b"0123456789abcdef", 4096).map_err(|e| e.to_string())?;
            let mut c = ScramClient::new(ScramHash::Sha256, &user, &pw(&password)).map_err(|e| e.to_string())?;
            let mut s = if plus {
                c = c.with_channel_binding(cb.clone());
                ScramServer::new_plus(ScramHash::Sha256, cb.clone())
            } else {
                ScramServer::new(ScramHash::Sha256)
            };
            let cf = c.initial_response().unwrap().unwrap();
            let first = s.client_first(cf.expose()).map_err(|e| e.to_string())?;
            assert_eq!(first.username, user);
            let sf = s.server_first(keys).unwrap();
            let mut cfin = c.step(&sf).unwrap().expose().to_vec();
            if tamper {
                // Change one character of the proof (after ",p=").
                let proof_start = cfin.windows(3).rposition(|w| w == b",p=").unwrap() + 3;
                let j = proof_start + flip % (cfin.len() - proof_start);
                cfin[j] = if cfin[j] == b'A' { b'B' } else { b'A' };
            }
            let sfin = s.client_final(&cfin).map_err(|e| e.to_string())?;
            c.step(&sfin).map_err(|e| e.to_string())?;
            c.finish(true).map_err(|e| e.to_string())
        };
        prop_assert_eq!(run(false), Ok(()));
        prop_assert!(run(true).is_err());
    }
}
