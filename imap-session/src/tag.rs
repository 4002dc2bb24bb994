//! Command tags (RFC 9051 §2.2.1, §9 `tag` = 1*<any ASTRING-CHAR except "+">): a generator
//! that never hands out a tag that is still in flight.
//!
//! Two styles:
//!
//! - [`TagGenerator::sequential`]: a prefix and a zero-padded counter (`A0001`, `A0002`, ...,
//!   `A9999`, `A10000`, ...). The counter only goes up, so no tag is ever reused on the
//!   connection.
//! - [`TagGenerator::unpredictable`]: random letters and digits from the operating system
//!   (`getrandom`), or [`TagGenerator::unpredictable_with`] with a caller-supplied source
//!   (deterministic tests). A tag equal to one still in flight is never returned; with the
//!   default length of 8 (62^8 ≈ 2·10^14 values) an old, completed tag coming back is
//!   improbable but not excluded.
//!
//! Every tag handed out by [`TagGenerator::next_tag`] is recorded as in flight until the
//! session calls [`TagGenerator::release`] for it (on the tagged completion).

use std::collections::HashSet;
use std::fmt;

use imapwire_codec::core::Tag;

/// A source of random bytes: fills the whole slice.
pub type RandomSource = Box<dyn FnMut(&mut [u8]) -> Result<(), RandomError> + Send>;

/// The random source failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("random source failed: {0}")]
pub struct RandomError(pub String);

/// Why no tag could be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TagError {
    /// The prefix contains a byte that is not allowed in a tag (`+`, SP, CTL or an
    /// atom-special other than `]`); the prefix may be empty only for unpredictable tags.
    #[error("tag prefix {prefix:?} is not valid: only ASTRING-CHAR except '+' is allowed")]
    InvalidPrefix {
        /// The rejected prefix.
        prefix: String,
    },
    /// The random part must be 1 to 64 characters long.
    #[error("random tag length {0} is out of range 1..=64")]
    InvalidLength(usize),
    /// The sequential counter is exhausted (after 2^64 - 1 tags).
    #[error("tag counter exhausted")]
    Exhausted,
    /// The random source failed.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The random source produced only tags already in flight (it is broken or constant).
    #[error("random source produced {attempts} tags in a row that are already in flight")]
    Collisions {
        /// How many draws were tried.
        attempts: u32,
    },
}

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Draws before giving up when every random tag collides.
const MAX_ATTEMPTS: u32 = 16;
/// Longest random part.
const MAX_RANDOM_LEN: usize = 64;

enum Style {
    Sequential { counter: u64, width: usize },
    Random { len: usize, rng: RandomSource },
}

/// Makes tags and remembers which are in flight.
pub struct TagGenerator {
    prefix: String,
    style: Style,
    in_flight: HashSet<Tag>,
}

impl fmt::Debug for TagGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TagGenerator");
        d.field("prefix", &self.prefix);
        match &self.style {
            Style::Sequential { counter, width } => {
                d.field("counter", counter).field("width", width)
            }
            Style::Random { len, .. } => d.field("random_len", len),
        };
        d.field("in_flight", &self.in_flight.len()).finish()
    }
}

impl TagGenerator {
    /// Sequential tags `<prefix>0001`, `<prefix>0002`, ... (at least four digits). The prefix
    /// must be non-empty so that tags never look like numbers to humans reading a trace.
    pub fn sequential(prefix: &str) -> Result<Self, TagError> {
        Self::sequential_with_width(prefix, 4)
    }

    /// Like [`sequential`](Self::sequential) with `width` digits of zero padding (0 means no
    /// padding).
    pub fn sequential_with_width(prefix: &str, width: usize) -> Result<Self, TagError> {
        if prefix.is_empty() || !valid_prefix(prefix) || width > 20 {
            return Err(TagError::InvalidPrefix {
                prefix: prefix.to_owned(),
            });
        }
        Ok(TagGenerator {
            prefix: prefix.to_owned(),
            style: Style::Sequential { counter: 0, width },
            in_flight: HashSet::new(),
        })
    }

    /// Unpredictable tags of `len` random letters and digits from the operating system's
    /// random source (`getrandom`).
    pub fn unpredictable(len: usize) -> Result<Self, TagError> {
        Self::unpredictable_with(
            "",
            len,
            Box::new(|buf: &mut [u8]| getrandom::fill(buf).map_err(|e| RandomError(e.to_string()))),
        )
    }

    /// Unpredictable tags `<prefix><len random letters and digits>` from `rng`.
    pub fn unpredictable_with(
        prefix: &str,
        len: usize,
        rng: RandomSource,
    ) -> Result<Self, TagError> {
        if !valid_prefix(prefix) {
            return Err(TagError::InvalidPrefix {
                prefix: prefix.to_owned(),
            });
        }
        if len == 0 || len > MAX_RANDOM_LEN {
            return Err(TagError::InvalidLength(len));
        }
        Ok(TagGenerator {
            prefix: prefix.to_owned(),
            style: Style::Random { len, rng },
            in_flight: HashSet::new(),
        })
    }

    /// The next tag, recorded as in flight. It is valid per the `tag` ABNF and differs from
    /// every tag in flight (and, for sequential tags, from every tag handed out before).
    #[must_use = "the tag is recorded as in flight"]
    pub fn next_tag(&mut self) -> Result<Tag, TagError> {
        let tag = match &mut self.style {
            Style::Sequential { counter, width } => {
                *counter = counter.checked_add(1).ok_or(TagError::Exhausted)?;
                let s = format!("{}{:0w$}", self.prefix, counter, w = *width);
                make_tag(s)?
            }
            Style::Random { len, rng } => {
                let mut found = None;
                for _ in 0..MAX_ATTEMPTS {
                    let s = random_tag(&self.prefix, *len, rng)?;
                    let t = make_tag(s)?;
                    if !self.in_flight.contains(&t) {
                        found = Some(t);
                        break;
                    }
                }
                found.ok_or(TagError::Collisions {
                    attempts: MAX_ATTEMPTS,
                })?
            }
        };
        self.in_flight.insert(tag.clone());
        Ok(tag)
    }

    /// Marks `tag` as completed. Returns whether it was in flight (a `false` means the server
    /// completed a tag this generator did not hand out, or completed it twice).
    pub fn release(&mut self, tag: &Tag) -> bool {
        self.in_flight.remove(tag)
    }

    /// Whether `tag` was handed out and not yet released.
    pub fn is_in_flight(&self, tag: &Tag) -> bool {
        self.in_flight.contains(tag)
    }

    /// How many tags are in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
}

fn valid_prefix(p: &str) -> bool {
    p.is_empty() || Tag::new(p.to_owned()).is_ok()
}

fn make_tag(s: String) -> Result<Tag, TagError> {
    // Prefix and characters were checked; a failure here would be our bug, reported as such.
    Tag::new(s.clone()).map_err(|_| TagError::InvalidPrefix { prefix: s })
}

/// `prefix` followed by `len` characters of [`ALPHABET`], by rejection sampling (bytes 248..=255
/// are discarded so that every character is equally likely).
fn random_tag(prefix: &str, len: usize, rng: &mut RandomSource) -> Result<String, TagError> {
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    let mut buf = [0u8; MAX_RANDOM_LEN];
    let mut need = len;
    // Each round keeps at least 248/256 of the bytes on average; a source that returns only
    // rejected bytes is stopped after a bounded number of rounds.
    for _ in 0..64 {
        if need == 0 {
            break;
        }
        let chunk = &mut buf[..need];
        rng(chunk)?;
        for &b in chunk.iter() {
            if b < 248 && need > 0 {
                out.push(ALPHABET[usize::from(b) % ALPHABET.len()] as char);
                need -= 1;
            }
        }
    }
    if need > 0 {
        return Err(TagError::Random(RandomError(
            "random source returned only out-of-range bytes".into(),
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic source: a counter.
    fn counting() -> RandomSource {
        let mut n = 0u8;
        Box::new(move |buf: &mut [u8]| {
            for b in buf {
                *b = n;
                n = n.wrapping_add(1);
            }
            Ok(())
        })
    }

    fn constant(v: u8) -> RandomSource {
        Box::new(move |buf: &mut [u8]| {
            buf.fill(v);
            Ok(())
        })
    }

    #[test]
    fn sequential_counts_up_with_padding() {
        let mut g = TagGenerator::sequential("A").unwrap();
        let tags: Vec<String> = (0..3).map(|_| g.next_tag().unwrap().to_string()).collect();
        assert_eq!(tags, ["A0001", "A0002", "A0003"]);
        assert_eq!(g.in_flight(), 3);
    }

    #[test]
    fn sequential_grows_past_the_width_and_never_repeats() {
        let mut g = TagGenerator::sequential_with_width("x.", 2).unwrap();
        let mut seen = HashSet::new();
        for i in 1..=150u32 {
            let t = g.next_tag().unwrap();
            if i == 9 {
                assert_eq!(t.as_str(), "x.09");
            }
            if i == 150 {
                assert_eq!(t.as_str(), "x.150");
            }
            assert!(seen.insert(t.clone()), "tag {t} reused");
            assert!(g.release(&t));
        }
        assert_eq!(g.in_flight(), 0);
    }

    #[test]
    fn sequential_exhaustion_is_an_error_not_a_wrap() {
        let mut g = TagGenerator::sequential("A").unwrap();
        if let Style::Sequential { counter, .. } = &mut g.style {
            *counter = u64::MAX - 1;
        }
        assert_eq!(g.next_tag().unwrap().as_str(), format!("A{}", u64::MAX));
        assert_eq!(g.next_tag(), Err(TagError::Exhausted));
    }

    #[test]
    fn prefixes_are_validated_against_the_tag_abnf() {
        for bad in [
            "", "A+", "A B", "A(", "A{", "A%", "A*", "A\"", "A\\", "\u{e9}", "A\r",
        ] {
            assert!(
                matches!(
                    TagGenerator::sequential(bad),
                    Err(TagError::InvalidPrefix { .. })
                ),
                "{bad:?} accepted"
            );
        }
        // `]` is an ASTRING-CHAR, so it may appear in a tag.
        for good in ["A", "tag]", "a.b-c_", "0"] {
            assert!(TagGenerator::sequential(good).is_ok(), "{good:?} rejected");
        }
        assert!(matches!(
            TagGenerator::unpredictable_with("+", 4, counting()),
            Err(TagError::InvalidPrefix { .. })
        ));
    }

    #[test]
    fn random_tags_are_alphanumeric_and_deterministic_with_a_given_source() {
        let mut g = TagGenerator::unpredictable_with("C", 6, counting()).unwrap();
        let t = g.next_tag().unwrap();
        assert_eq!(t.as_str(), "CABCDEF");
        let t2 = g.next_tag().unwrap();
        assert_eq!(t2.as_str(), "CGHIJKL");
        assert!(g.is_in_flight(&t) && g.is_in_flight(&t2));
    }

    #[test]
    fn random_sampling_rejects_biased_bytes() {
        // 248..=255 are skipped: a source yielding 250 then 1 gives 'B' only.
        let mut calls = 0;
        let rng: RandomSource = Box::new(move |buf: &mut [u8]| {
            calls += 1;
            buf.fill(if calls == 1 { 250 } else { 1 });
            Ok(())
        });
        let mut g = TagGenerator::unpredictable_with("", 3, rng).unwrap();
        assert_eq!(g.next_tag().unwrap().as_str(), "BBB");
        let mut g = TagGenerator::unpredictable_with("", 3, constant(255)).unwrap();
        assert!(matches!(g.next_tag(), Err(TagError::Random(_))));
    }

    #[test]
    fn random_tags_never_collide_with_tags_in_flight() {
        // A constant source yields the same tag every time: the second is refused while the
        // first is in flight, and allowed again once it is released.
        let mut g = TagGenerator::unpredictable_with("", 4, constant(0)).unwrap();
        let t = g.next_tag().unwrap();
        assert_eq!(t.as_str(), "AAAA");
        assert_eq!(
            g.next_tag(),
            Err(TagError::Collisions {
                attempts: MAX_ATTEMPTS
            })
        );
        assert!(g.release(&t));
        assert!(!g.release(&t), "double release reports false");
        assert_eq!(g.next_tag().unwrap().as_str(), "AAAA");
    }

    #[test]
    fn random_source_failure_is_reported() {
        let rng: RandomSource = Box::new(|_: &mut [u8]| Err(RandomError("no entropy".into())));
        let mut g = TagGenerator::unpredictable_with("", 8, rng).unwrap();
        assert_eq!(
            g.next_tag(),
            Err(TagError::Random(RandomError("no entropy".into())))
        );
        assert_eq!(g.in_flight(), 0);
    }

    #[test]
    fn os_random_tags_are_valid_and_distinct() {
        let mut g = TagGenerator::unpredictable(8).unwrap();
        let mut seen = HashSet::new();
        for _ in 0..200 {
            let t = g.next_tag().unwrap();
            assert_eq!(t.as_str().len(), 8);
            assert!(t.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
            assert!(seen.insert(t));
        }
        assert_eq!(g.in_flight(), 200);
    }

    #[test]
    fn length_is_bounded() {
        assert!(matches!(
            TagGenerator::unpredictable(0),
            Err(TagError::InvalidLength(0))
        ));
        assert!(matches!(
            TagGenerator::unpredictable(65),
            Err(TagError::InvalidLength(65))
        ));
        assert!(TagGenerator::unpredictable(64).is_ok());
    }

    #[test]
    fn debug_does_not_dump_the_rng() {
        let g = TagGenerator::unpredictable_with("Z", 5, counting()).unwrap();
        let s = format!("{g:?}");
        assert!(s.contains("random_len: 5"), "{s}");
    }
}
