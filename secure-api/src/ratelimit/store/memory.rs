//! The in-memory store: sharded maps from a keyed 64-bit hash to a TAT, bounded.

use super::{Check, CheckFuture, LimitStore, Op};
use crate::ratelimit::{
    Decision,
    gcra::{Acquire, Clock, Gcra, MonotonicClock},
};
use smallvec::SmallVec;
use std::{
    collections::HashMap,
    hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState},
    sync::{
        Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
};

/// Live keys kept by default: at most about 40 MB, whatever the traffic.
const DEFAULT_MAX_KEYS: usize = 1_000_000;
/// At most this many shards; with 2 cores, 64 locks make contention rare.
const MAX_SHARDS: usize = 64;
/// A shard sweeps its expired keys when it has grown to twice what the last sweep
/// left (and at least this): O(1) amortised per new key, no background task.
const MIN_SWEEP: usize = 64;

/// Rate-limit state in this process: the default store.
///
/// Concurrent without a global lock (up to 64 shards, each a mutex over a map from a
/// keyed 64-bit hash of the key to its 8-byte TAT), and bounded:
///
/// - **swept**: a shard drops its expired keys (back to a full burst, so they carry
///   no information) whenever it has doubled since its last sweep;
/// - **capped**: at most [`max_keys`](Self::max_keys) live keys. A new key that finds
///   its shard full first sweeps it; if every key there is still live, the eighth of
///   the shard closest to expiry is evicted. Those are the keys that have nearly
///   refilled: forgetting one gives its client back at most the little it had used.
///   Keys still deep in their budget (a client being refused) are evicted last, so a
///   flood of new keys (spoofed addresses, random API keys) cannot free the clients
///   already being limited, nor grow memory past the cap.
///   [`stats`](Self::stats) counts evictions.
///
/// Keys are hashed with a per-process random SipHash key, so nobody can aim two keys
/// at one budget.
///
/// ```
/// use secure_api::ratelimit::{Check, MemoryStore, Op, Quota};
/// use std::time::Duration;
///
/// let store = MemoryStore::with_max_keys(10_000);
/// let quota = Quota::per(2, Duration::from_secs(60));
/// let check = Check { budget: "search", partition: "ip:192.0.2.1", quota };
/// let decisions = store.check_now(&[check], Op::Consume);
/// assert_eq!(decisions[0].remaining(), 1);
/// assert_eq!(store.stats().keys, 1);
/// ```
pub struct MemoryStore<C: Clock = MonotonicClock> {
    shards: Box<[Mutex<Shard>]>,
    shard_cap: usize,
    hasher: RandomState,
    clock: C,
    evicted: AtomicU64,
}

/// What a [`MemoryStore`] holds, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryStoreStats {
    /// Keys held now (some may have expired since the last sweep).
    pub keys: usize,
    /// The cap on live keys.
    pub max_keys: usize,
    /// Live keys evicted to stay under the cap, since the start.
    pub evicted: u64,
}

struct Shard {
    tats: HashMap<u64, u64, BuildHasherDefault<PreHashed>>,
    sweep_at: usize,
}

/// The map's keys are already SipHash outputs: hashing them again is waste.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; fold anything else rather than lose it.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl MemoryStore {
    /// A store with the default cap of 1,000,000 live keys.
    ///
    /// ```
    /// let store = secure_api::ratelimit::MemoryStore::new();
    /// assert_eq!(store.max_keys(), 1_000_000);
    /// ```
    pub fn new() -> Self {
        Self::with_max_keys(DEFAULT_MAX_KEYS)
    }

    /// A store that holds at most `max_keys` live keys (at least 1).
    ///
    /// ```
    /// let store = secure_api::ratelimit::MemoryStore::with_max_keys(50_000);
    /// assert!(store.max_keys() <= 50_000);
    /// ```
    pub fn with_max_keys(max_keys: usize) -> Self {
        Self::with_clock(MonotonicClock::new(), max_keys)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Clock> MemoryStore<C> {
    /// A store on `clock`: tests pass a [`FakeClock`](crate::ratelimit::FakeClock) and
    /// move time instead of sleeping.
    ///
    /// ```
    /// use secure_api::ratelimit::{Check, FakeClock, MemoryStore, Op, Quota};
    /// use std::time::Duration;
    ///
    /// let clock = FakeClock::new();
    /// let store = MemoryStore::with_clock(clock.clone(), 1000);
    /// let check = Check { budget: "b", partition: "k", quota: Quota::per(1, Duration::from_secs(10)) };
    /// assert!(store.check_now(&[check], Op::Consume)[0].allowed());
    /// assert!(!store.check_now(&[check], Op::Consume)[0].allowed());
    /// clock.advance(Duration::from_secs(10));
    /// assert!(store.check_now(&[check], Op::Consume)[0].allowed());
    /// ```
    pub fn with_clock(clock: C, max_keys: usize) -> Self {
        let max_keys = max_keys.max(1);
        // Shards of at least ~1024 keys, so the cap is met closely; a power of two.
        let shard_count = (max_keys / 1024).clamp(1, MAX_SHARDS);
        let shard_count = 1 << shard_count.ilog2();
        let shards = (0..shard_count)
            .map(|_| {
                Mutex::new(Shard {
                    tats: HashMap::default(),
                    sweep_at: MIN_SWEEP,
                })
            })
            .collect();
        MemoryStore {
            shards,
            shard_cap: max_keys / shard_count,
            hasher: RandomState::new(),
            clock,
            evicted: AtomicU64::new(0),
        }
    }

    /// The cap on live keys (the configured one, rounded down to a multiple of the
    /// shard count).
    ///
    /// ```
    /// assert_eq!(secure_api::ratelimit::MemoryStore::with_max_keys(64_000).max_keys(), 64_000);
    /// ```
    pub fn max_keys(&self) -> usize {
        self.shard_cap * self.shards.len()
    }

    /// Keys held and evicted so far.
    ///
    /// ```
    /// let store = secure_api::ratelimit::MemoryStore::new();
    /// assert_eq!(store.stats().keys, 0);
    /// ```
    pub fn stats(&self) -> MemoryStoreStats {
        MemoryStoreStats {
            keys: self.shards.iter().map(|shard| lock(shard).tats.len()).sum(),
            max_keys: self.max_keys(),
            evicted: self.evicted.load(Ordering::Relaxed),
        }
    }

    /// Drops every expired key now (sweeping also happens as keys are added).
    ///
    /// ```
    /// let store = secure_api::ratelimit::MemoryStore::new();
    /// store.sweep();
    /// ```
    pub fn sweep(&self) {
        let now = self.clock.now();
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            shard.tats.retain(|_, tat| *tat > now);
            shard.sweep_at = (shard.tats.len() * 2).max(MIN_SWEEP);
        }
    }

    /// [`LimitStore::check`] without a future: the memory store never waits.
    ///
    /// ```
    /// use secure_api::ratelimit::{Check, MemoryStore, Op, Quota};
    /// let store = MemoryStore::new();
    /// let check = Check { budget: "b", partition: "k", quota: Quota::per(5, std::time::Duration::from_secs(5)) };
    /// assert_eq!(store.check_now(&[check], Op::Peek)[0].remaining(), 4);
    /// assert_eq!(store.stats().keys, 0, "a peek stores nothing");
    /// ```
    pub fn check_now(&self, checks: &[Check<'_>], op: Op) -> Vec<Decision> {
        let mut decisions = vec![Decision::default(); checks.len()];
        self.check_into(checks, op, &mut decisions);
        decisions
    }

    /// One limit, the usual case: one lock, one lookup in the map, nothing
    /// allocated unless the key is new.
    ///
    /// ```
    /// use secure_api::ratelimit::{Check, MemoryStore, Op, Quota};
    /// let store = MemoryStore::new();
    /// let check = Check { budget: "b", partition: "k", quota: Quota::per(2, std::time::Duration::from_secs(60)) };
    /// assert_eq!(store.check_one(&check, Op::Consume).remaining(), 1);
    /// assert_eq!(store.check_one(&check, Op::Consume).remaining(), 0);
    /// assert!(!store.check_one(&check, Op::Consume).allowed());
    /// ```
    pub fn check_one(&self, check: &Check<'_>, op: Op) -> Decision {
        self.check_one_at(check, op, self.clock.now())
    }

    #[inline]
    fn check_one_at(&self, check: &Check<'_>, op: Op, now: u64) -> Decision {
        let (hash, shard) = self.locate(check);
        let gcra = Gcra::new(check.quota);
        let mut shard = lock(&self.shards[shard]);
        let slot = shard.tats.get_mut(&hash);
        let stored = slot.as_deref().copied().filter(|tat| *tat > now);
        let (decision, write) = decide(gcra, stored, now, op);
        match (write, op) {
            (None, _) | (_, Op::Peek) => {}
            (Some(Some(tat)), _) => match slot {
                Some(slot) => *slot = tat,
                None => self.insert_new(&mut shard, hash, tat, now),
            },
            (Some(None), _) => {
                if slot.is_some() {
                    shard.tats.remove(&hash);
                }
            }
        }
        decision
    }

    /// [`check_now`](Self::check_now) into `decisions` (as long as `checks`): with up
    /// to four checks, nothing is allocated.
    ///
    /// ```
    /// use secure_api::ratelimit::{Check, Decision, MemoryStore, Op, Quota};
    /// use std::time::Duration;
    ///
    /// let store = MemoryStore::new();
    /// let minute = Check { budget: "minute", partition: "ip:192.0.2.1", quota: Quota::per(1, Duration::from_secs(60)) };
    /// let day = Check { budget: "day", partition: "ip:192.0.2.1", quota: Quota::per(100, Duration::from_secs(86_400)) };
    /// let mut decisions = [Decision::default(); 2];
    /// store.check_into(&[minute, day], Op::Consume, &mut decisions);
    /// assert!(decisions.iter().all(Decision::allowed));
    /// store.check_into(&[minute, day], Op::Consume, &mut decisions);
    /// assert!(!decisions[0].allowed());
    /// assert_eq!(decisions[1].remaining(), 99, "a refused request consumes from none");
    /// ```
    ///
    /// # Panics
    ///
    /// When `decisions` is shorter than `checks`.
    pub fn check_into(&self, checks: &[Check<'_>], op: Op, decisions: &mut [Decision]) {
        let decisions = &mut decisions[..checks.len()];
        let now = self.clock.now();
        if let ([check], [decision]) = (checks, &mut *decisions) {
            *decision = self.check_one_at(check, op, now);
            return;
        }

        let keys: Inline<(u64, usize)> = checks.iter().map(|check| self.locate(check)).collect();
        // Locked in ascending order, each once, so two batches never deadlock.
        let mut order: Inline<usize> = keys.iter().map(|(_, shard)| *shard).collect();
        order.sort_unstable();
        order.dedup();
        let mut guards: Inline<MutexGuard<'_, Shard>> =
            order.iter().map(|&i| lock(&self.shards[i])).collect();
        let guard_of = |shard: usize| order.binary_search(&shard).unwrap_or_default();

        // Writes wait until every check has answered; a key twice in one batch sees
        // its own earlier write.
        let mut pending: Inline<(usize, u64, Option<u64>)> = Inline::new();
        let mut backlogs: Inline<u64> = Inline::new();
        for ((check, &(hash, shard)), decision) in
            checks.iter().zip(&keys).zip(decisions.iter_mut())
        {
            let g = guard_of(shard);
            let stored = match pending
                .iter()
                .rev()
                .find(|(pg, ph, _)| *pg == g && *ph == hash)
            {
                Some((_, _, tat)) => *tat,
                None => guards[g].tats.get(&hash).copied(),
            };
            let stored = stored.filter(|tat| *tat > now);
            backlogs.push(stored.map_or(0, |tat| tat - now));
            let (answer, write) = decide(Gcra::new(check.quota), stored, now, op);
            if let Some(tat) = write {
                pending.push((g, hash, tat));
            }
            *decision = answer;
        }

        let all_admitted = decisions.iter().all(Decision::allowed);
        match op {
            Op::Peek => {}
            Op::Consume if !all_admitted => {
                // Nothing was taken: the limits that would have admitted show their
                // state as it still is.
                for ((decision, check), backlog) in decisions.iter_mut().zip(checks).zip(backlogs) {
                    if decision.allowed() {
                        *decision = Gcra::new(check.quota).decision(true, backlog, 0);
                    }
                }
            }
            Op::Consume | Op::Refund => {
                for (g, hash, tat) in pending {
                    self.write(&mut guards[g], hash, tat, now);
                }
            }
        }
    }

    /// The key's hash, and its shard.
    fn locate(&self, check: &Check<'_>) -> (u64, usize) {
        let hash = self.hasher.hash_one((check.budget, check.partition));
        // The map indexes by the low bits and tags by the top ones: shard by bits
        // neither uses, or every key of a shard would collide there.
        (hash, (hash >> 32) as usize & (self.shards.len() - 1))
    }

    /// Stores a key's new TAT (`None`: back to full, no state), making room for a new key.
    fn write(&self, shard: &mut Shard, hash: u64, tat: Option<u64>, now: u64) {
        let Some(tat) = tat else {
            shard.tats.remove(&hash);
            return;
        };
        match shard.tats.get_mut(&hash) {
            Some(slot) => *slot = tat,
            None => self.insert_new(shard, hash, tat, now),
        }
    }

    /// Adds a key the shard does not hold, making room for it first.
    fn insert_new(&self, shard: &mut Shard, hash: u64, tat: u64, now: u64) {
        let evicted = make_room(shard, now, self.shard_cap);
        if evicted > 0 {
            self.evicted.fetch_add(evicted, Ordering::Relaxed);
        }
        shard.tats.insert(hash, tat);
    }
}

/// One check against a key's stored TAT: the decision, and what to store if the
/// batch goes through (`Some(None)`: remove the key).
#[inline]
fn decide(gcra: Gcra, stored: Option<u64>, now: u64, op: Op) -> (Decision, Option<Option<u64>>) {
    if op == Op::Refund {
        let tat = gcra.release(stored, now);
        return (
            gcra.decision(true, tat.map_or(0, |t| t - now), 0),
            Some(tat),
        );
    }
    match gcra.acquire(stored, now) {
        Acquire::Admit { tat } => (gcra.decision(true, tat - now, 0), Some(Some(tat))),
        Acquire::Refuse { retry_after } => {
            let backlog = stored.map_or(0, |tat| tat - now);
            (gcra.decision(false, backlog, retry_after), None)
        }
    }
}

impl<C: Clock> LimitStore for MemoryStore<C> {
    fn check<'a>(&'a self, checks: &'a [Check<'a>], op: Op) -> CheckFuture<'a> {
        Box::pin(std::future::ready(Ok(self.check_now(checks, op))))
    }

    fn decide_now(&self, checks: &[Check<'_>], op: Op, decisions: &mut [Decision]) -> bool {
        self.check_into(checks, op, decisions);
        true
    }
}

/// A batch's bookkeeping, on the stack up to four checks (most operations have one
/// or two limits).
type Inline<T> = SmallVec<[T; 4]>;

/// Before a new key goes into `shard`: sweeps when due, and evicts when full.
/// Returns how many live keys were evicted.
fn make_room(shard: &mut Shard, now: u64, cap: usize) -> u64 {
    let len = shard.tats.len();
    if len < shard.sweep_at && len < cap {
        return 0;
    }
    shard.tats.retain(|_, tat| *tat > now);
    let mut evicted = 0;
    if shard.tats.len() >= cap {
        // Free an eighth at once, so the cost of finding the soonest-to-expire keys
        // is shared by the next cap/8 new keys.
        let target = cap.saturating_sub((cap / 8).max(1));
        let excess = shard.tats.len() - target;
        let mut tats: Vec<u64> = shard.tats.values().copied().collect();
        let threshold = *tats.select_nth_unstable(excess - 1).1;
        // Exactly `excess` of the keys at or under the threshold: a flood of keys
        // with one and the same TAT must not empty the shard.
        let mut left = excess;
        shard.tats.retain(|_, tat| {
            let evict = left > 0 && *tat <= threshold;
            left -= usize::from(evict);
            !evict
        });
        evicted = excess as u64;
    }
    shard.sweep_at = (shard.tats.len() * 2).clamp(MIN_SWEEP, cap.max(MIN_SWEEP));
    evicted
}

#[inline]
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // Nothing panics while a shard is locked; if something ever did, its map is
    // still a valid map of timestamps.
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratelimit::{FakeClock, Quota};
    use std::time::Duration;

    fn store(max_keys: usize) -> (MemoryStore<FakeClock>, FakeClock) {
        let clock = FakeClock::new();
        (MemoryStore::with_clock(clock.clone(), max_keys), clock)
    }

    fn check<'a>(budget: &'a str, partition: &'a str, count: u32, secs: u64) -> Check<'a> {
        Check {
            budget,
            partition,
            quota: Quota::per(count, Duration::from_secs(secs)),
        }
    }

    fn consume(store: &MemoryStore<FakeClock>, checks: &[Check<'_>]) -> Vec<Decision> {
        store.check_now(checks, Op::Consume)
    }

    #[test]
    fn keys_and_budgets_count_apart() {
        let (store, _) = store(1000);
        let a = check("op", "ip:192.0.2.1", 1, 60);
        let b = check("op", "ip:192.0.2.2", 1, 60);
        let other_budget = check("other", "ip:192.0.2.1", 1, 60);
        assert!(consume(&store, &[a])[0].allowed());
        assert!(!consume(&store, &[a])[0].allowed());
        assert!(consume(&store, &[b])[0].allowed());
        assert!(consume(&store, &[other_budget])[0].allowed());
    }

    #[test]
    fn stacked_limits_refused_by_one_consume_from_none() {
        let (store, clock) = store(1000);
        // 2 per minute AND 3 per hour, per one client.
        let minute = check("minute", "ip:192.0.2.1", 2, 60);
        let hour = check("hour", "ip:192.0.2.1", 3, 3600);
        let both = [minute, hour];
        assert!(consume(&store, &both).iter().all(Decision::allowed));
        assert!(consume(&store, &both).iter().all(Decision::allowed));
        let refused = consume(&store, &both);
        assert!(!refused[0].allowed(), "the minute limit refuses");
        assert_eq!(refused[0].retry_after(), Duration::from_secs(30));
        assert!(refused[1].allowed(), "the hour limit alone would admit");
        assert_eq!(refused[1].remaining(), 1, "and it was not charged");
        // Refused again and again: the hour budget still holds its last unit.
        for _ in 0..5 {
            consume(&store, &both);
        }
        clock.advance(Duration::from_secs(30));
        let third = consume(&store, &both);
        assert!(third.iter().all(Decision::allowed));
        assert_eq!(third[1].remaining(), 0);
        clock.advance(Duration::from_secs(60));
        let refused = consume(&store, &both);
        assert!(refused[0].allowed());
        assert!(!refused[1].allowed(), "now the hour limit refuses");
        assert_eq!(
            refused[0].remaining(),
            2,
            "and the minute limit was not charged"
        );
    }

    #[test]
    fn peek_answers_without_charging_and_refund_gives_back() {
        let (store, _) = store(1000);
        let login = check("login", "ip:192.0.2.1|alice", 2, 60);
        assert_eq!(store.check_now(&[login], Op::Peek)[0].remaining(), 1);
        assert_eq!(store.check_now(&[login], Op::Peek)[0].remaining(), 1);
        consume(&store, &[login]);
        consume(&store, &[login]);
        assert!(!store.check_now(&[login], Op::Peek)[0].allowed());
        let refunded = store.check_now(&[login], Op::Refund);
        assert_eq!(refunded[0].remaining(), 1);
        assert!(consume(&store, &[login])[0].allowed());
        store.check_now(&[login], Op::Refund);
        store.check_now(&[login], Op::Refund);
        store.check_now(&[login], Op::Refund);
        assert_eq!(store.stats().keys, 0, "a full budget keeps no state");
    }

    #[test]
    fn expired_keys_are_swept_as_new_ones_arrive() {
        let (store, clock) = store(100_000);
        let partitions: Vec<String> = (0..10_000).map(|i| format!("ip:{i}")).collect();
        for partition in &partitions {
            consume(&store, &[check("op", partition, 10, 1)]);
        }
        assert_eq!(store.stats().keys, 10_000);
        // A tenth of a second per unit: after a second every key is back to full, and
        // new keys sweep them away as their shards grow.
        clock.advance(Duration::from_secs(1));
        for i in 0..20_000 {
            consume(&store, &[check("other", &format!("ip:{i}"), 10, 1)]);
        }
        let keys = store.stats().keys;
        assert!(keys <= 21_000, "sweeping as keys arrive kept {keys} keys");
        clock.advance(Duration::from_secs(1));
        store.sweep();
        assert_eq!(store.stats().keys, 0, "every key is back to full");
        assert_eq!(
            store.stats().evicted,
            0,
            "expired keys are swept, not evicted"
        );
    }

    #[test]
    fn a_flood_of_a_million_keys_stays_under_the_cap_and_keeps_refused_clients_refused() {
        let (store, clock) = store(100_000);
        let cap = store.max_keys();
        // A client being refused by a 1-per-hour limit...
        let abuser = check("export", "ip:198.51.100.7", 1, 3600);
        assert!(consume(&store, &[abuser])[0].allowed());
        assert!(!consume(&store, &[abuser])[0].allowed());
        // ...then a million distinct keys of a 100-per-minute limit at once, all
        // live, so the cap has to evict.
        let mut partition = String::new();
        for i in 0..1_000_000u32 {
            partition.clear();
            use std::fmt::Write;
            let _ = write!(partition, "ip:{i}");
            let decision = consume(&store, &[check("public", &partition, 100, 60)]);
            assert!(decision[0].allowed(), "a new key is always admitted");
            if i % 100_000 == 0 {
                assert!(store.stats().keys <= cap);
            }
        }
        let stats = store.stats();
        assert!(stats.keys <= cap, "{} keys for a cap of {cap}", stats.keys);
        assert_eq!(stats.evicted, 1_000_001 - stats.keys as u64, "{stats:?}");
        assert!(
            stats.keys > cap / 2,
            "evictions free an eighth at a time: {stats:?}"
        );
        clock.advance(Duration::from_secs(1));
        // The abuser's key was deep in its budget: kept, and still refused.
        assert!(!consume(&store, &[abuser])[0].allowed());
    }

    #[test]
    fn a_tiny_cap_still_works() {
        let (store, _) = store(1);
        assert_eq!(store.max_keys(), 1);
        for i in 0..10 {
            let partition = format!("k{i}");
            assert!(consume(&store, &[check("b", &partition, 1, 60)])[0].allowed());
            assert_eq!(store.stats().keys, 1);
        }
    }

    #[test]
    fn a_key_twice_in_one_batch_sees_its_own_charge() {
        let (store, _) = store(1000);
        let twice = [check("b", "k", 2, 60), check("b", "k", 2, 60)];
        let decisions = consume(&store, &twice);
        assert_eq!(decisions[0].remaining(), 1);
        assert_eq!(decisions[1].remaining(), 0);
        assert!(!consume(&store, &[check("b", "k", 2, 60)])[0].allowed());
    }

    #[test]
    fn one_check_admits_then_refuses_with_the_exact_wait() {
        let (store, clock) = store(1000);
        let limit = check("op", "ip:192.0.2.1", 2, 60);
        let first = store.check_one(&limit, Op::Consume);
        assert!(first.allowed());
        assert_eq!(first.remaining(), 1);
        assert_eq!(store.check_one(&limit, Op::Consume).remaining(), 0);
        let refused = store.check_one(&limit, Op::Consume);
        assert!(!refused.allowed());
        assert_eq!(refused.retry_after(), Duration::from_secs(30));
        clock.advance(Duration::from_secs(30));
        assert!(store.check_one(&limit, Op::Consume).allowed());
        // An expired key is overwritten in place, not added again.
        clock.advance(Duration::from_secs(3600));
        assert_eq!(store.check_one(&limit, Op::Consume).remaining(), 1);
        assert_eq!(store.stats().keys, 1);
    }

    #[test]
    fn one_check_peeks_and_refunds_like_a_batch() {
        let (store, _) = store(1000);
        let login = check("login", "ip:192.0.2.1|alice", 2, 60);
        assert_eq!(store.check_one(&login, Op::Peek).remaining(), 1);
        assert_eq!(store.stats().keys, 0, "a peek stores nothing");
        store.check_one(&login, Op::Consume);
        store.check_one(&login, Op::Consume);
        assert!(!store.check_one(&login, Op::Peek).allowed());
        assert_eq!(store.check_one(&login, Op::Refund).remaining(), 1);
        assert_eq!(store.check_one(&login, Op::Refund).remaining(), 2);
        assert_eq!(store.stats().keys, 0, "back to full: the key is gone");
    }

    #[test]
    fn decide_now_charges_stacked_limits_all_or_nothing() {
        let (store, _) = store(1000);
        let both = [
            check("minute", "ip:192.0.2.1", 1, 60),
            check("day", "ip:192.0.2.1", 5, 86_400),
        ];
        let mut decisions = [Decision::default(); 2];
        assert!(store.decide_now(&both, Op::Consume, &mut decisions));
        assert!(decisions.iter().all(Decision::allowed));
        assert_eq!(decisions[1].remaining(), 4);
        assert!(store.decide_now(&both, Op::Consume, &mut decisions));
        assert!(!decisions[0].allowed());
        assert!(decisions[1].allowed());
        assert_eq!(decisions[1].remaining(), 4, "the day limit was not charged");
        // More limits than fit on the stack go through the same path.
        let many: Vec<Check<'_>> = ["a", "b", "c", "d", "e", "f"]
            .into_iter()
            .map(|budget| check(budget, "k", 1, 60))
            .collect();
        let mut decisions = [Decision::default(); 6];
        store.check_into(&many, Op::Consume, &mut decisions);
        assert!(decisions.iter().all(Decision::allowed));
        store.check_into(&many[..5], Op::Consume, &mut decisions);
        assert!(decisions[..5].iter().all(|d| !d.allowed()));
    }

    #[test]
    fn one_check_evicts_past_the_cap() {
        let (store, _) = store(64);
        let cap = store.max_keys();
        for i in 0..10 * cap {
            let partition = format!("ip:{i}");
            let decision = store.check_one(&check("public", &partition, 100, 60), Op::Consume);
            assert!(decision.allowed());
            assert!(store.stats().keys <= cap);
        }
        let stats = store.stats();
        assert_eq!(stats.evicted, (10 * cap - stats.keys) as u64);
    }
}
