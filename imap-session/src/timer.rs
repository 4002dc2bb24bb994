//! One timer table for a connection (RFC 9051 §5.4 autologout, RFC 2177 IDLE refresh), in the
//! style of quinn-proto: a [`Timer`] enum indexes an array of `Option<Instant>`.
//!
//! The table never reads the clock: every method that needs the time takes `now` as an
//! argument, and the only time that comes out is [`TimerTable::next_deadline`]. Deadlines are
//! computed with `Instant::checked_add`, so a duration too large to represent (up to and
//! including [`Duration::MAX`]) means "never" instead of a panic.
//!
//! Calling order for the session: after handling input, call [`TimerTable::expired`] with the
//! current time and act on each timer it yields (each yielded timer is already stopped); then
//! report [`TimerTable::next_deadline`] to the driver. A call to `expired` when nothing is due
//! yields nothing (spurious wake-ups are harmless).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use imapwire_session::timer::{Timer, TimerTable};
//!
//! # let now = Instant::now(); // the driver supplies the time
//! let mut timers = TimerTable::new();
//! timers.set(Timer::Greeting, now, Duration::from_secs(30));
//! timers.set(Timer::KeepAlive, now, Duration::from_secs(600));
//! assert_eq!(timers.next_deadline(), Some((now + Duration::from_secs(30), Timer::Greeting)));
//! let due: Vec<Timer> = timers.expired(now + Duration::from_secs(31)).collect();
//! assert_eq!(due, [Timer::Greeting]);
//! assert_eq!(timers.next_deadline().map(|(_, t)| t), Some(Timer::KeepAlive));
//! ```

use std::time::{Duration, Instant};

/// The timers of one connection. The discriminant order breaks ties between equal
/// deadlines (earlier variants first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Timer {
    /// Client: waiting for the server greeting after connecting.
    Greeting,
    /// Client: waiting for the completion of the oldest command in flight.
    Response,
    /// Either side: nothing at all was received for too long (the peer may be gone).
    Liveness,
    /// Client: time to end IDLE with `DONE` and issue it again (RFC 2177 recommends at most
    /// 29 minutes).
    IdleRefresh,
    /// Client: time to send a `NOOP` so that middleboxes and the server keep the connection.
    KeepAlive,
    /// Server: the inactivity autologout timer (RFC 9051 §5.4: at least 30 minutes once
    /// authenticated; shorter before).
    Autologout,
    /// Server: how long an IDLE is held before the server ends it.
    IdleHold,
}

impl Timer {
    /// Every timer, in discriminant order.
    pub const ALL: [Timer; 7] = [
        Timer::Greeting,
        Timer::Response,
        Timer::Liveness,
        Timer::IdleRefresh,
        Timer::KeepAlive,
        Timer::Autologout,
        Timer::IdleHold,
    ];

    const COUNT: usize = Self::ALL.len();

    fn index(self) -> usize {
        self as usize
    }
}

/// The deadlines of all [`Timer`]s; `None` means the timer is stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimerTable {
    deadlines: [Option<Instant>; Timer::COUNT],
}

impl TimerTable {
    /// A table with every timer stopped.
    pub fn new() -> Self {
        Self::default()
    }

    /// Arms `timer` to fire `duration` after `now`, replacing any earlier deadline. If
    /// `now + duration` cannot be represented, the timer is stopped ("never") and `None` is
    /// returned; otherwise the deadline is returned.
    pub fn set(&mut self, timer: Timer, now: Instant, duration: Duration) -> Option<Instant> {
        let deadline = now.checked_add(duration);
        self.deadlines[timer.index()] = deadline;
        deadline
    }

    /// Arms `timer` to fire at `deadline`.
    pub fn set_at(&mut self, timer: Timer, deadline: Instant) {
        self.deadlines[timer.index()] = Some(deadline);
    }

    /// Stops `timer` (a no-op when it is not armed).
    pub fn stop(&mut self, timer: Timer) {
        self.deadlines[timer.index()] = None;
    }

    /// Stops every timer.
    pub fn stop_all(&mut self) {
        self.deadlines = [None; Timer::COUNT];
    }

    /// The deadline of `timer`, if it is armed.
    pub fn deadline(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer.index()]
    }

    /// Whether `timer` is armed.
    pub fn is_armed(&self, timer: Timer) -> bool {
        self.deadlines[timer.index()].is_some()
    }

    /// Time left until `timer` fires (zero when it is due), or `None` when it is stopped.
    /// Never panics when `now` is past the deadline.
    pub fn remaining(&self, timer: Timer, now: Instant) -> Option<Duration> {
        self.deadline(timer)
            .map(|d| d.saturating_duration_since(now))
    }

    /// The earliest deadline and its timer; ties go to the earlier [`Timer`] variant.
    pub fn next_deadline(&self) -> Option<(Instant, Timer)> {
        Timer::ALL
            .iter()
            .filter_map(|&t| self.deadline(t).map(|d| (d, t)))
            .min()
    }

    /// Stops and returns every timer whose deadline is at or before `now`, earliest deadline
    /// first (ties in [`Timer`] order). The timers are stopped when this is called, not
    /// while iterating: dropping the iterator early loses the remaining expiries.
    #[must_use = "the expired timers are stopped by this call; act on them"]
    pub fn expired(&mut self, now: Instant) -> Expired {
        let mut due = [None; Timer::COUNT];
        let mut n = 0;
        for t in Timer::ALL {
            if let Some(d) = self.deadline(t).filter(|&d| d <= now) {
                due[n] = Some((d, t));
                n += 1;
                self.stop(t);
            }
        }
        due[..n].sort_unstable();
        Expired { due, next: 0 }
    }
}

/// The timers that [`TimerTable::expired`] found due, earliest first.
#[derive(Debug, Clone)]
#[must_use = "iterators are lazy; the timers are already stopped"]
pub struct Expired {
    due: [Option<(Instant, Timer)>; Timer::COUNT],
    next: usize,
}

impl Iterator for Expired {
    type Item = Timer;

    fn next(&mut self) -> Option<Timer> {
        let (_, t) = (*self.due.get(self.next)?)?;
        self.next += 1;
        Some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The virtual clock's origin: the one place tests obtain an `Instant`; everything else is
    /// an offset from it.
    fn epoch() -> Instant {
        Instant::now()
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn new_table_has_no_deadline() {
        let mut t = TimerTable::new();
        assert_eq!(t.next_deadline(), None);
        assert_eq!(t.expired(epoch() + secs(1_000_000)).count(), 0);
        for timer in Timer::ALL {
            assert!(!t.is_armed(timer));
        }
    }

    #[test]
    fn all_lists_every_variant_in_index_order() {
        for (i, t) in Timer::ALL.iter().enumerate() {
            assert_eq!(t.index(), i);
        }
    }

    #[test]
    fn next_deadline_is_the_minimum() {
        let t0 = epoch();
        let mut t = TimerTable::new();
        t.set(Timer::KeepAlive, t0, secs(600));
        t.set(Timer::Response, t0, secs(60));
        t.set(Timer::IdleRefresh, t0, secs(29 * 60));
        assert_eq!(t.next_deadline(), Some((t0 + secs(60), Timer::Response)));
        t.stop(Timer::Response);
        assert_eq!(t.next_deadline(), Some((t0 + secs(600), Timer::KeepAlive)));
    }

    #[test]
    fn ties_go_to_the_earlier_variant() {
        let t0 = epoch();
        let mut t = TimerTable::new();
        t.set(Timer::KeepAlive, t0, secs(5));
        t.set(Timer::Greeting, t0, secs(5));
        assert_eq!(t.next_deadline(), Some((t0 + secs(5), Timer::Greeting)));
    }

    #[test]
    fn set_replaces_the_deadline() {
        let t0 = epoch();
        let mut t = TimerTable::new();
        t.set(Timer::Liveness, t0, secs(10));
        t.set(Timer::Liveness, t0 + secs(8), secs(10));
        assert_eq!(t.deadline(Timer::Liveness), Some(t0 + secs(18)));
        assert_eq!(t.expired(t0 + secs(10)).count(), 0);
    }

    #[test]
    fn duration_max_means_never() {
        let t0 = epoch();
        let mut t = TimerTable::new();
        t.set(Timer::Response, t0, secs(3));
        assert_eq!(t.set(Timer::Response, t0, Duration::MAX), None);
        assert!(
            !t.is_armed(Timer::Response),
            "overflow must stop, not keep the old deadline"
        );
        assert_eq!(t.next_deadline(), None);
        // Also far but representable durations do not panic.
        let far = secs(u64::MAX / 4);
        let got = t.set(Timer::KeepAlive, t0, far);
        assert_eq!(got, t0.checked_add(far));
    }

    #[test]
    fn expired_yields_due_timers_in_deadline_order_and_stops_them() {
        let t0 = epoch();
        let mut t = TimerTable::new();
        t.set(Timer::KeepAlive, t0, secs(5));
        t.set(Timer::Greeting, t0, secs(7));
        t.set(Timer::Response, t0, secs(5));
        t.set(Timer::IdleRefresh, t0, secs(100));
        // Exactly at the deadline counts as expired.
        let due: Vec<_> = t.expired(t0 + secs(7)).collect();
        assert_eq!(due, [Timer::Response, Timer::KeepAlive, Timer::Greeting]);
        assert!(!t.is_armed(Timer::Greeting));
        assert!(!t.is_armed(Timer::Response));
        assert!(!t.is_armed(Timer::KeepAlive));
        assert_eq!(
            t.next_deadline(),
            Some((t0 + secs(100), Timer::IdleRefresh))
        );
        // A spurious call is a no-op.
        assert_eq!(t.expired(t0 + secs(7)).count(), 0);
        assert!(t.is_armed(Timer::IdleRefresh));
    }

    #[test]
    fn expired_just_before_the_deadline_yields_nothing() {
        let t0 = epoch();
        let mut t = TimerTable::new();
        t.set(Timer::Autologout, t0, secs(30 * 60));
        let before = t0 + secs(30 * 60) - Duration::from_nanos(1);
        assert_eq!(t.expired(before).count(), 0);
        assert!(t.is_armed(Timer::Autologout));
        assert_eq!(
            t.expired(t0 + secs(30 * 60)).collect::<Vec<_>>(),
            [Timer::Autologout]
        );
    }

    #[test]
    fn dropping_the_iterator_still_stops_the_timers() {
        let t0 = epoch();
        let mut t = TimerTable::new();
        t.set(Timer::Greeting, t0, secs(1));
        t.set(Timer::Liveness, t0, secs(2));
        let mut it = t.expired(t0 + secs(3));
        assert_eq!(it.next(), Some(Timer::Greeting));
        drop(it);
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn remaining_saturates_past_the_deadline() {
        let t0 = epoch();
        let mut t = TimerTable::new();
        assert_eq!(t.remaining(Timer::IdleHold, t0), None);
        t.set(Timer::IdleHold, t0, secs(10));
        assert_eq!(t.remaining(Timer::IdleHold, t0 + secs(4)), Some(secs(6)));
        assert_eq!(
            t.remaining(Timer::IdleHold, t0 + secs(40)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn virtual_clock_drives_keepalive_and_idle_refresh() {
        // A small simulation: jump the clock to each next deadline, re-arm periodic timers.
        let t0 = epoch();
        let mut t = TimerTable::new();
        t.set(Timer::KeepAlive, t0, secs(300));
        t.set(Timer::IdleRefresh, t0, secs(29 * 60));
        let mut fired = Vec::new();
        let mut now = t0;
        while let Some((at, _)) = t.next_deadline() {
            if at > t0 + secs(60 * 60) {
                break;
            }
            assert!(at >= now, "deadlines never go backwards");
            now = at;
            for timer in t.expired(now) {
                fired.push(((now - t0).as_secs(), timer));
                match timer {
                    Timer::KeepAlive => {
                        t.set(Timer::KeepAlive, now, secs(300));
                    }
                    Timer::IdleRefresh => {
                        t.set(Timer::IdleRefresh, now, secs(29 * 60));
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        let keepalives = fired.iter().filter(|(_, t)| *t == Timer::KeepAlive).count();
        let refreshes: Vec<u64> = fired
            .iter()
            .filter(|(_, t)| *t == Timer::IdleRefresh)
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(keepalives, 12);
        assert_eq!(refreshes, [29 * 60, 58 * 60]);
    }

    #[test]
    fn set_at_and_stop_all() {
        let t0 = epoch();
        let mut t = TimerTable::new();
        t.set_at(Timer::Liveness, t0 + secs(9));
        t.set_at(Timer::Greeting, t0 + secs(3));
        assert_eq!(t.next_deadline(), Some((t0 + secs(3), Timer::Greeting)));
        t.stop_all();
        assert_eq!(t.next_deadline(), None);
    }
}
