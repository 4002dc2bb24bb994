//! Exponential backoff with full jitter for reconnect attempts (the account client's policy;
//! RFC 9051 says nothing about reconnecting).

use std::time::Duration;

/// Delays between reconnect attempts: `initial * factor^n`, capped at `max`, each drawn
/// uniformly from `[delay/2, delay]` ("equal jitter") so that many clients that lost the same
/// server do not come back in step.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Backoff {
    /// The first delay. Default 1 s.
    pub initial: Duration,
    /// The largest delay. Default 60 s.
    pub max: Duration,
    /// Growth per attempt. Default 2.
    pub factor: u32,
    attempt: u32,
    rng: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(60))
    }
}

impl Backoff {
    /// Delays from `initial` doubling up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        let mut seed = [0u8; 8];
        // A failure to read randomness only loses the jitter's spread, not correctness.
        let _ = getrandom::fill(&mut seed);
        Backoff {
            initial,
            max: max.max(initial),
            factor: 2,
            attempt: 0,
            rng: u64::from_le_bytes(seed) | 1,
        }
    }

    /// The delay before the next attempt (and counts the attempt).
    pub fn next_delay(&mut self) -> Duration {
        let mut d = self.initial;
        for _ in 0..self.attempt {
            d = d.saturating_mul(self.factor.max(1));
            if d >= self.max {
                d = self.max;
                break;
            }
        }
        self.attempt = self.attempt.saturating_add(1);
        let half = d / 2;
        let span = d.saturating_sub(half).as_micros() as u64;
        let jitter = if span == 0 {
            0
        } else {
            self.next_rand() % (span + 1)
        };
        half + Duration::from_micros(jitter)
    }

    /// Attempts counted since the last [`reset`](Self::reset).
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Starts over from `initial` (after a successful connection).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// xorshift64*: jitter needs no cryptographic randomness.
    fn next_rand(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_with_jitter_and_caps() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let bounds = [100u64, 200, 400, 800, 1000, 1000, 1000];
        for max in bounds {
            let d = b.next_delay().as_millis() as u64;
            assert!(
                d >= max / 2 && d <= max,
                "{d} not within [{}, {max}]",
                max / 2
            );
        }
        assert_eq!(b.attempts(), 7);
        b.reset();
        let d = b.next_delay().as_millis() as u64;
        assert!((50..=100).contains(&d), "{d}");
    }

    #[test]
    fn jitter_spreads() {
        let mut b = Backoff::new(Duration::from_secs(10), Duration::from_secs(10));
        let ds: std::collections::HashSet<_> = (0..20).map(|_| b.next_delay()).collect();
        assert!(ds.len() > 10, "jitter should vary: {ds:?}");
    }
}
