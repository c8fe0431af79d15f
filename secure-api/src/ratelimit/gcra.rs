//! The generic cell rate algorithm (GCRA), written once: every store, in memory or
//! in Redis's Lua, keeps one timestamp per key and asks this module what it means.
//!
//! A quota of `count` per `period` with a burst `burst` lets one unit through every
//! `T = period / count` (the *emission interval*) and up to `burst` at once (the
//! *tolerance* `τ = burst × T`). The state of a key is its *theoretical arrival time*
//! (TAT): when the key would be back to a full burst. A request at `now` is admitted
//! when `max(TAT, now) + T − now ≤ τ`, and then moves the TAT to `max(TAT, now) + T`.
//! It is a token bucket of `burst` tokens refilled one every `T`, stored in 8 bytes,
//! with no background refill.
//!
//! Times are nanoseconds on a [`Clock`]; tests move a [`FakeClock`] instead of sleeping.

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use super::policy::Quota;

/// A monotonic source of time, in nanoseconds since an epoch of its own.
///
/// ```
/// use secure_api::ratelimit::{Clock, FakeClock};
/// use std::time::Duration;
///
/// let clock = FakeClock::new();
/// let before = clock.now();
/// clock.advance(Duration::from_secs(1));
/// assert_eq!(clock.now() - before, 1_000_000_000);
/// ```
pub trait Clock: Send + Sync + 'static {
    /// Nanoseconds since the clock's epoch; never goes backwards.
    fn now(&self) -> u64;
}

/// The real clock: the CPU's time-stamp counter scaled to nanoseconds (the `quanta`
/// crate, as `governor` uses), or the operating system's monotonic clock where the
/// counter is not invariant. Monotonic, so wall-clock jumps (NTP, daylight saving)
/// never refill or drain a budget; a few nanoseconds a read instead of the ~20 of a
/// `clock_gettime`, which every limited request pays once.
///
/// ```
/// use secure_api::ratelimit::{Clock, MonotonicClock};
///
/// let clock = MonotonicClock::new();
/// assert!(clock.now() <= clock.now());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    source: &'static quanta::Clock,
    epoch: u64,
}

impl MonotonicClock {
    /// A clock whose epoch is now.
    ///
    /// ```
    /// let clock = secure_api::ratelimit::MonotonicClock::new();
    /// ```
    pub fn new() -> Self {
        // One calibration per process (quanta's own is global too).
        static SOURCE: OnceLock<quanta::Clock> = OnceLock::new();
        let source = SOURCE.get_or_init(quanta::Clock::new);
        MonotonicClock {
            source,
            epoch: source.raw(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> u64 {
        // 2^64 ns is 584 years of uptime.
        self.source.delta_as_nanos(self.epoch, self.source.raw())
    }
}

/// A clock that moves only when told to; clones share one time. For tests.
///
/// ```
/// use secure_api::ratelimit::{Clock, FakeClock};
/// use std::time::Duration;
///
/// let clock = FakeClock::new();
/// let shared = clock.clone();
/// clock.advance(Duration::from_millis(1500));
/// assert_eq!(shared.now(), 1_500_000_000);
/// ```
#[derive(Debug, Clone, Default)]
pub struct FakeClock {
    now: Arc<AtomicU64>,
}

impl FakeClock {
    /// A clock at its epoch (0).
    ///
    /// ```
    /// use secure_api::ratelimit::{Clock, FakeClock};
    /// assert_eq!(FakeClock::new().now(), 0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the time forward by `by`.
    ///
    /// ```
    /// use secure_api::ratelimit::{Clock, FakeClock};
    /// let clock = FakeClock::new();
    /// clock.advance(std::time::Duration::from_nanos(7));
    /// assert_eq!(clock.now(), 7);
    /// ```
    pub fn advance(&self, by: Duration) {
        self.now.fetch_add(by.as_nanos() as u64, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}

/// The arithmetic of one quota, in nanoseconds.
///
/// ```
/// use secure_api::ratelimit::{Acquire, Gcra, Quota};
/// use std::time::Duration;
///
/// let gcra = Gcra::new(Quota::per(2, Duration::from_secs(10)));
/// let Acquire::Admit { tat } = gcra.acquire(None, 0) else { panic!() };
/// let Acquire::Admit { tat } = gcra.acquire(Some(tat), 0) else { panic!() };
/// // The third at once waits one emission interval (5 s).
/// assert_eq!(gcra.acquire(Some(tat), 0), Acquire::Refuse { retry_after: 5_000_000_000 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    interval: u64,
    tolerance: u64,
}

/// What one more unit at `now` does to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquire {
    /// Admitted; `tat` is the key's new state.
    Admit {
        /// The new theoretical arrival time, to store.
        tat: u64,
    },
    /// Refused; the state is unchanged.
    Refuse {
        /// Nanoseconds until one unit would be admitted.
        retry_after: u64,
    },
}

impl Gcra {
    /// The arithmetic of `quota`.
    ///
    /// ```
    /// use secure_api::ratelimit::{Gcra, Quota};
    /// let gcra = Gcra::new(Quota::per(10, std::time::Duration::from_secs(60)));
    /// assert_eq!(gcra.interval(), 6_000_000_000);
    /// ```
    pub fn new(quota: Quota) -> Self {
        // The quota did the division when it was made: none per check.
        Gcra {
            interval: quota.interval_nanos(),
            tolerance: quota.tolerance_nanos(),
        }
    }

    /// The emission interval `T`: nanoseconds between two units at the sustained rate.
    ///
    /// ```
    /// use secure_api::ratelimit::{Gcra, Quota};
    /// let gcra = Gcra::new(Quota::per(4, std::time::Duration::from_secs(1)));
    /// assert_eq!(gcra.interval(), 250_000_000);
    /// ```
    pub fn interval(&self) -> u64 {
        self.interval
    }

    /// The tolerance `τ = burst × T`: how far ahead of `now` a key's TAT may run.
    ///
    /// ```
    /// use secure_api::ratelimit::{Gcra, Quota};
    /// let gcra = Gcra::new(Quota::per(4, std::time::Duration::from_secs(1)).with_burst(2));
    /// assert_eq!(gcra.tolerance(), 500_000_000);
    /// ```
    pub fn tolerance(&self) -> u64 {
        self.tolerance
    }

    /// One unit at `now` for a key whose stored TAT is `tat` (`None`: no state).
    ///
    /// ```
    /// use secure_api::ratelimit::{Acquire, Gcra, Quota};
    /// let gcra = Gcra::new(Quota::per(1, std::time::Duration::from_secs(1)));
    /// assert_eq!(gcra.acquire(None, 0), Acquire::Admit { tat: 1_000_000_000 });
    /// ```
    pub fn acquire(&self, tat: Option<u64>, now: u64) -> Acquire {
        let new_tat = tat.unwrap_or(now).max(now).saturating_add(self.interval);
        let backlog = new_tat - now;
        match backlog <= self.tolerance {
            true => Acquire::Admit { tat: new_tat },
            false => Acquire::Refuse {
                retry_after: backlog - self.tolerance,
            },
        }
    }

    /// Gives one unit back (a login that turned out right): the new TAT, or `None`
    /// when the key is back to a full burst and needs no state.
    ///
    /// ```
    /// use secure_api::ratelimit::{Gcra, Quota};
    /// let gcra = Gcra::new(Quota::per(1, std::time::Duration::from_secs(1)));
    /// assert_eq!(gcra.release(Some(3_000_000_000), 0), Some(2_000_000_000));
    /// assert_eq!(gcra.release(Some(500_000_000), 0), None);
    /// ```
    pub fn release(&self, tat: Option<u64>, now: u64) -> Option<u64> {
        let released = tat?.saturating_sub(self.interval);
        (released > now).then_some(released)
    }

    /// What a key whose TAT is `backlog` nanoseconds ahead of now means to a client.
    /// `retry_after` is the wait of a refused unit (0 when admitted).
    ///
    /// ```
    /// use secure_api::ratelimit::{Gcra, Quota};
    /// use std::time::Duration;
    ///
    /// let gcra = Gcra::new(Quota::per(10, Duration::from_secs(60)));
    /// // One unit used 2 s ago: 9 left, the next comes back in 4 s, all in 4 s.
    /// let decision = gcra.decision(true, 4_000_000_000, 0);
    /// assert_eq!(decision.remaining(), 9);
    /// assert_eq!(decision.reset_after(), Duration::from_secs(4));
    /// ```
    pub fn decision(&self, allowed: bool, backlog: u64, retry_after: u64) -> Decision {
        // Only what the store knows is kept; what it means for a client (what is
        // left, when more comes) is worked out when an answer asks, so a check that
        // nobody reads the details of costs no division.
        Decision {
            allowed,
            gcra: *self,
            backlog,
            retry_after,
        }
    }

    fn remaining(&self, backlog: u64) -> u64 {
        self.tolerance.saturating_sub(backlog) / self.interval
    }
}

/// The answer of a store for one limit and key.
///
/// ```
/// use secure_api::ratelimit::{Gcra, Quota};
/// use std::time::Duration;
///
/// let gcra = Gcra::new(Quota::per(2, Duration::from_secs(2)));
/// let refused = gcra.decision(false, 2_000_000_000, 1_000_000_000);
/// assert!(!refused.allowed());
/// assert_eq!(refused.remaining(), 0);
/// assert_eq!(refused.retry_after(), Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    allowed: bool,
    gcra: Gcra,
    /// Nanoseconds the key's TAT runs ahead of now.
    backlog: u64,
    /// Nanoseconds until a refused unit would be admitted (0 when admitted).
    retry_after: u64,
}

/// A refusal that says nothing more: a placeholder for
/// [`LimitStore::decide_now`](super::LimitStore::decide_now) to overwrite (a store
/// that forgot one would refuse, not admit).
///
/// ```
/// let placeholder = secure_api::ratelimit::Decision::default();
/// assert!(!placeholder.allowed());
/// assert_eq!(placeholder.remaining(), 0);
/// ```
impl Default for Decision {
    fn default() -> Self {
        Decision {
            allowed: false,
            gcra: Gcra {
                interval: 1,
                tolerance: 0,
            },
            backlog: 0,
            retry_after: 0,
        }
    }
}

impl Decision {
    /// Whether this limit admits the request.
    ///
    /// ```
    /// # use secure_api::ratelimit::{Gcra, Quota};
    /// let gcra = Gcra::new(Quota::per(1, std::time::Duration::from_secs(1)));
    /// assert!(gcra.decision(true, 0, 0).allowed());
    /// ```
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// How many more requests would be admitted right now.
    ///
    /// ```
    /// # use secure_api::ratelimit::{Gcra, Quota};
    /// let gcra = Gcra::new(Quota::per(5, std::time::Duration::from_secs(5)));
    /// assert_eq!(gcra.decision(true, 0, 0).remaining(), 5);
    /// ```
    pub fn remaining(&self) -> u32 {
        u32::try_from(self.gcra.remaining(self.backlog)).unwrap_or(u32::MAX)
    }

    /// Time until one more unit is available (zero when the burst is full): the
    /// draft's `t`.
    ///
    /// ```
    /// # use secure_api::ratelimit::{Gcra, Quota};
    /// # use std::time::Duration;
    /// let gcra = Gcra::new(Quota::per(5, Duration::from_secs(5)));
    /// assert_eq!(gcra.decision(true, 2_500_000_000, 0).reset_after(), Duration::from_millis(500));
    /// ```
    pub fn reset_after(&self) -> Duration {
        let Gcra {
            interval,
            tolerance,
        } = self.gcra;
        // With `r` left, one more is admitted once the backlog is down to
        // `τ − (r + 1)·T`; with an empty backlog the burst is full already.
        let nanos = match self.backlog {
            0 => 0,
            backlog => backlog
                .saturating_add((self.gcra.remaining(backlog) + 1).saturating_mul(interval))
                .saturating_sub(tolerance),
        };
        Duration::from_nanos(nanos)
    }

    /// Time until the whole burst is available again.
    ///
    /// ```
    /// # use secure_api::ratelimit::{Gcra, Quota};
    /// # use std::time::Duration;
    /// let gcra = Gcra::new(Quota::per(5, Duration::from_secs(5)));
    /// assert_eq!(gcra.decision(true, 2_500_000_000, 0).full_after(), Duration::from_millis(2500));
    /// ```
    pub fn full_after(&self) -> Duration {
        Duration::from_nanos(self.backlog)
    }

    /// For a refusal, how long until this limit would admit the request.
    ///
    /// ```
    /// # use secure_api::ratelimit::{Gcra, Quota};
    /// # use std::time::Duration;
    /// let gcra = Gcra::new(Quota::per(5, Duration::from_secs(5)));
    /// assert_eq!(gcra.decision(false, 5_000_000_000, 1_000_000_000).retry_after(), Duration::from_secs(1));
    /// ```
    pub fn retry_after(&self) -> Duration {
        Duration::from_nanos(self.retry_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    /// A key driven through a quota on a clock, as a store would drive it.
    struct Key {
        gcra: Gcra,
        tat: Option<u64>,
        clock: FakeClock,
    }

    impl Key {
        fn new(quota: Quota) -> Self {
            Key {
                gcra: Gcra::new(quota),
                tat: None,
                clock: FakeClock::new(),
            }
        }

        fn hit(&mut self) -> Decision {
            let now = self.clock.now();
            match self.gcra.acquire(self.tat, now) {
                Acquire::Admit { tat } => {
                    self.tat = Some(tat);
                    self.gcra.decision(true, tat - now, 0)
                }
                Acquire::Refuse { retry_after } => {
                    let backlog = self.tat.map_or(0, |tat| tat.saturating_sub(now));
                    self.gcra.decision(false, backlog, retry_after)
                }
            }
        }

        fn wait(&self, by: Duration) {
            self.clock.advance(by);
        }
    }

    fn ten_per_minute() -> Quota {
        Quota::per(10, Duration::from_secs(60))
    }

    #[test]
    fn the_default_burst_admits_count_at_once_then_refuses() {
        let mut key = Key::new(ten_per_minute());
        let remaining: Vec<u32> = (0..10).map(|_| key.hit().remaining()).collect();
        assert_eq!(remaining, [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        let refused = key.hit();
        assert!(!refused.allowed());
        assert_eq!(refused.remaining(), 0);
        assert_eq!(refused.retry_after(), Duration::from_secs(6));
    }

    #[test]
    fn retry_after_is_exact_and_one_unit_comes_back_after_it() {
        let mut key = Key::new(ten_per_minute());
        for _ in 0..10 {
            key.hit();
        }
        key.wait(Duration::from_millis(1500));
        assert_eq!(key.hit().retry_after(), Duration::from_millis(4500));
        key.wait(Duration::from_millis(4499));
        assert!(!key.hit().allowed(), "1 ms early");
        key.wait(Duration::from_millis(1));
        let admitted = key.hit();
        assert!(admitted.allowed());
        assert_eq!(admitted.remaining(), 0);
        assert_eq!(key.hit().retry_after(), Duration::from_secs(6));
    }

    #[test]
    fn refill_is_smooth_and_capped_at_the_burst() {
        let mut key = Key::new(ten_per_minute());
        for _ in 0..10 {
            key.hit();
        }
        // 18 s bring back 3 units, not a whole window.
        key.wait(Duration::from_secs(18));
        let after = key.hit();
        assert_eq!(after.remaining(), 2);
        // An hour idle refills to the burst and no further.
        key.wait(Duration::from_secs(3600));
        let first = key.hit();
        assert_eq!(first.remaining(), 9);
        assert_eq!(first.full_after(), Duration::from_secs(6));
    }

    #[test]
    fn a_steady_rate_at_the_limit_is_never_refused() {
        let mut key = Key::new(ten_per_minute());
        for _ in 0..50 {
            assert!(key.hit().allowed());
            key.wait(Duration::from_secs(6));
        }
    }

    #[test]
    fn a_smaller_burst_spreads_the_same_rate() {
        let mut key = Key::new(ten_per_minute().with_burst(2));
        assert!(key.hit().allowed());
        assert!(key.hit().allowed());
        let refused = key.hit();
        assert!(!refused.allowed());
        assert_eq!(refused.retry_after(), Duration::from_secs(6));
    }

    #[test]
    fn a_larger_burst_admits_more_at_once_but_refills_at_the_rate() {
        let mut key = Key::new(ten_per_minute().with_burst(15));
        assert_eq!((0..16).filter(|_| key.hit().allowed()).count(), 15);
        key.wait(Duration::from_secs(6));
        assert!(key.hit().allowed());
        assert!(!key.hit().allowed());
    }

    #[test]
    fn reset_after_is_the_time_until_the_next_unit() {
        let gcra = Gcra::new(ten_per_minute());
        // 3 units used (18 s of backlog), 1 s ago: the next is back in 5 s.
        let decision = gcra.decision(true, 17 * SECOND, 0);
        assert_eq!(decision.remaining(), 7);
        assert_eq!(decision.reset_after(), Duration::from_secs(5));
        assert_eq!(decision.full_after(), Duration::from_secs(17));
        // Exactly on a boundary, a whole interval.
        assert_eq!(
            gcra.decision(true, 12 * SECOND, 0).reset_after(),
            Duration::from_secs(6)
        );
        assert_eq!(gcra.decision(true, 0, 0).reset_after(), Duration::ZERO);
        // A backlog beyond the burst (a quota lowered at a restart): the next unit
        // is as far as a refusal's wait.
        let refused = gcra.decision(false, 70 * SECOND, 16 * SECOND);
        assert_eq!(refused.remaining(), 0);
        assert_eq!(refused.reset_after(), refused.retry_after());
    }

    #[test]
    fn release_gives_back_one_unit_and_never_more_than_the_burst() {
        let mut key = Key::new(ten_per_minute());
        for _ in 0..10 {
            key.hit();
        }
        key.tat = key.gcra.release(key.tat, key.clock.now());
        assert!(key.hit().allowed());
        assert!(!key.hit().allowed());
        let mut fresh = Key::new(ten_per_minute());
        fresh.hit();
        fresh.tat = fresh.gcra.release(fresh.tat, fresh.clock.now());
        assert_eq!(fresh.tat, None, "back to full: no state kept");
        fresh.tat = fresh.gcra.release(fresh.tat, fresh.clock.now());
        assert_eq!(fresh.tat, None);
    }

    #[test]
    fn sub_second_and_uneven_periods() {
        let mut key = Key::new(Quota::per(3, Duration::from_millis(100)));
        for _ in 0..3 {
            assert!(key.hit().allowed());
        }
        let refused = key.hit();
        assert_eq!(refused.retry_after(), Duration::from_nanos(33_333_333));
        let gcra = Gcra::new(Quota::per(7, Duration::from_secs(60)));
        assert_eq!(gcra.interval(), 8_571_428_571);
    }
}
