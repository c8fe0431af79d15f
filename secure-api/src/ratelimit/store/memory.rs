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
        PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
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
/// Concurrent without a global lock: up to 64 shards, each a read-write lock over a
/// map from a keyed 64-bit hash of the key to its 8-byte TAT. A check on a key its
/// shard already holds (nearly every check) takes the read lock and moves the TAT by
/// compare-and-swap, so checks on one shard, or on one hot key, run side by side;
/// only a new key, a refund or a batch of several limits takes the shard whole.
///
/// Bounded:
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
    table: Table,
    clock: C,
}

/// The store but its clock. Not generic, so its code is compiled once, here, and runs
/// the same whatever crate names the store (a generic store's hot path would be
/// compiled, and inlined differently, in each user's crate).
struct Table {
    shards: Box<[CacheLine<RwLock<Shard>>]>,
    shard_cap: usize,
    hash_key: HashKey,
    evicted: AtomicU64,
}

/// One shard per cache line pair (what the CPU prefetches together), so two cores
/// checking keys of neighbouring shards do not steal each other's line.
#[repr(align(128))]
struct CacheLine<T>(T);

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
    /// Atomic, so that a check on a key already here needs only the read lock.
    tats: HashMap<u64, AtomicU64, BuildHasherDefault<PreHashed>>,
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
        MemoryStore {
            table: Table::new(max_keys),
            clock,
        }
    }

    /// The cap on live keys (the configured one, rounded down to a multiple of the
    /// shard count).
    ///
    /// ```
    /// assert_eq!(secure_api::ratelimit::MemoryStore::with_max_keys(64_000).max_keys(), 64_000);
    /// ```
    pub fn max_keys(&self) -> usize {
        self.table.max_keys()
    }

    /// Keys held and evicted so far.
    ///
    /// ```
    /// let store = secure_api::ratelimit::MemoryStore::new();
    /// assert_eq!(store.stats().keys, 0);
    /// ```
    pub fn stats(&self) -> MemoryStoreStats {
        self.table.stats()
    }

    /// Drops every expired key now (sweeping also happens as keys are added).
    ///
    /// ```
    /// let store = secure_api::ratelimit::MemoryStore::new();
    /// store.sweep();
    /// ```
    pub fn sweep(&self) {
        self.table.sweep(self.clock.now());
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

    /// One limit, the usual case: one read lock, one lookup in the map and a
    /// compare-and-swap; the shard is taken whole only for a new key or a refund.
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
        self.table.check_one(check, op, self.clock.now())
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
        self.table
            .check_into(checks, op, self.clock.now(), decisions);
    }
}

impl Table {
    fn new(max_keys: usize) -> Self {
        let max_keys = max_keys.max(1);
        // Shards of at least ~1024 keys, so the cap is met closely; a power of two.
        let shard_count = (max_keys / 1024).clamp(1, MAX_SHARDS);
        let shard_count = 1 << shard_count.ilog2();
        let shards = (0..shard_count)
            .map(|_| {
                CacheLine(RwLock::new(Shard {
                    tats: HashMap::default(),
                    sweep_at: MIN_SWEEP,
                }))
            })
            .collect();
        Table {
            shards,
            shard_cap: max_keys / shard_count,
            hash_key: HashKey::random(),
            evicted: AtomicU64::new(0),
        }
    }

    fn max_keys(&self) -> usize {
        self.shard_cap * self.shards.len()
    }

    fn stats(&self) -> MemoryStoreStats {
        MemoryStoreStats {
            keys: self
                .shards
                .iter()
                .map(|shard| shared(shard).tats.len())
                .sum(),
            max_keys: self.max_keys(),
            evicted: self.evicted.load(Ordering::Relaxed),
        }
    }

    fn sweep(&self, now: u64) {
        for shard in self.shards.iter() {
            let mut shard = exclusive(shard);
            shard.tats.retain(|_, tat| *tat.get_mut() > now);
            shard.sweep_at = (shard.tats.len() * 2).max(MIN_SWEEP);
        }
    }

    fn check_one(&self, check: &Check<'_>, op: Op, now: u64) -> Decision {
        let (hash, shard) = self.locate(check);
        let gcra = Gcra::new(check.quota);
        let shard = &self.shards[shard];
        if op != Op::Refund {
            // The read lock ends with this block, before the write lock is taken.
            let held = shared(shard);
            match (held.tats.get(&hash), op) {
                (Some(tat), _) => return decide_in_place(gcra, tat, now, op),
                (None, Op::Peek) => return decide(gcra, None, now, op).0,
                (None, _) => {}
            }
        }
        // A new key (another check may add it first: looked up again) or a refund,
        // which may remove the key.
        let mut shard = exclusive(shard);
        let slot = shard.tats.get_mut(&hash).map(AtomicU64::get_mut);
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

    fn check_into(&self, checks: &[Check<'_>], op: Op, now: u64, decisions: &mut [Decision]) {
        let decisions = &mut decisions[..checks.len()];
        if let ([check], [decision]) = (checks, &mut *decisions) {
            *decision = self.check_one(check, op, now);
            return;
        }

        let keys: Inline<(u64, usize)> = checks.iter().map(|check| self.locate(check)).collect();
        // Locked in ascending order, each once, so two batches never deadlock.
        let mut order: Inline<usize> = keys.iter().map(|(_, shard)| *shard).collect();
        order.sort_unstable();
        order.dedup();
        let mut guards: Inline<RwLockWriteGuard<'_, Shard>> =
            order.iter().map(|&i| exclusive(&self.shards[i])).collect();
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
                None => guards[g].tats.get_mut(&hash).map(|tat| *tat.get_mut()),
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
                    self.store_tat(&mut guards[g], hash, tat, now);
                }
            }
        }
    }

    /// The key's hash, and its shard.
    fn locate(&self, check: &Check<'_>) -> (u64, usize) {
        let hash = self.hash_key.hash(check.budget, check.partition);
        // The map indexes by the low bits and tags by the top ones: shard by bits
        // neither uses, or every key of a shard would collide there.
        (hash, (hash >> 32) as usize & (self.shards.len() - 1))
    }

    /// Stores a key's new TAT (`None`: back to full, no state), making room for a new key.
    fn store_tat(&self, shard: &mut Shard, hash: u64, tat: Option<u64>, now: u64) {
        let Some(tat) = tat else {
            shard.tats.remove(&hash);
            return;
        };
        match shard.tats.get_mut(&hash) {
            Some(slot) => *slot.get_mut() = tat,
            None => self.insert_new(shard, hash, tat, now),
        }
    }

    /// Adds a key the shard does not hold, making room for it first.
    fn insert_new(&self, shard: &mut Shard, hash: u64, tat: u64, now: u64) {
        let evicted = make_room(shard, now, self.shard_cap);
        if evicted > 0 {
            self.evicted.fetch_add(evicted, Ordering::Relaxed);
        }
        shard.tats.insert(hash, AtomicU64::new(tat));
    }
}

/// The key of the store's hash: random per process, so nobody can aim two keys at one
/// budget.
#[derive(Clone, Copy)]
struct HashKey(u64, u64);

impl HashKey {
    fn random() -> Self {
        // Two words hashed under std's random SipHash key (drawn from the OS) are
        // two words nobody can predict.
        let std = RandomState::new();
        HashKey(std.hash_one(0u8), std.hash_one(1u8))
    }

    /// SipHash-1-3 of the pair: the budget's length, its bytes padded to whole words,
    /// then the partition as SipHash frames a message. The length first means no two
    /// pairs are fed the same words.
    #[inline]
    fn hash(self, budget: &str, partition: &str) -> u64 {
        let mut sip = Sip::new(self);
        sip.absorb(budget.len() as u64);
        let tail = sip.absorb_words(budget.as_bytes());
        if !budget.len().is_multiple_of(8) {
            sip.absorb(tail);
        }
        let tail = sip.absorb_words(partition.as_bytes());
        sip.absorb(tail | (partition.len() as u64) << 56);
        sip.finish()
    }
}

/// SipHash-1-3 (std's `HashMap` hash; Aumasson and Bernstein's function with one
/// compression and three finalisation rounds) fed whole 64-bit words read straight
/// from the strings. std's incremental hasher buffers the pieces of each `write`,
/// which cost a third of a check; bytes copied into one buffer to hash at once are
/// read back before the copy has settled, which cost more.
struct Sip([u64; 4]);

impl Sip {
    #[inline]
    fn new(HashKey(k0, k1): HashKey) -> Self {
        Sip([
            k0 ^ 0x736f_6d65_7073_6575,
            k1 ^ 0x646f_7261_6e64_6f6d,
            k0 ^ 0x6c79_6765_6e65_7261,
            k1 ^ 0x7465_6462_7974_6573,
        ])
    }

    #[inline(always)]
    fn absorb(&mut self, word: u64) {
        self.0[3] ^= word;
        self.round();
        self.0[0] ^= word;
    }

    /// Absorbs every whole word of `bytes`; returns the rest (under 8 bytes) as the low
    /// bytes of a word.
    #[inline(always)]
    fn absorb_words(&mut self, bytes: &[u8]) -> u64 {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.absorb(u64::from_le_bytes(word.try_into().unwrap_or_default()));
        }
        words
            .remainder()
            .iter()
            .rev()
            .fold(0, |tail, &byte| tail << 8 | u64::from(byte))
    }

    #[inline]
    fn finish(mut self) -> u64 {
        self.0[2] ^= 0xff;
        for _ in 0..3 {
            self.round();
        }
        self.0.iter().fold(0, |hash, v| hash ^ v)
    }

    #[inline(always)]
    fn round(&mut self) {
        let [v0, v1, v2, v3] = &mut self.0;
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13) ^ *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16) ^ *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21) ^ *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17) ^ *v2;
        *v2 = v2.rotate_left(32);
    }
}

/// A consume or a peek on a key its shard holds, under the shard's read lock: the TAT
/// moves by compare-and-swap, so of two checks racing for a key's last unit exactly
/// one gets it.
#[inline]
fn decide_in_place(gcra: Gcra, tat: &AtomicU64, now: u64, op: Op) -> Decision {
    // The TAT is the only thing shared: no other memory is published with it.
    let mut current = tat.load(Ordering::Relaxed);
    loop {
        let stored = Some(current).filter(|tat| *tat > now);
        let (decision, write) = decide(gcra, stored, now, op);
        let (Op::Consume, Some(Some(new))) = (op, write) else {
            return decision;
        };
        match tat.compare_exchange_weak(current, new, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return decision,
            Err(moved) => current = moved,
        }
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
    shard.tats.retain(|_, tat| *tat.get_mut() > now);
    let mut evicted = 0;
    if shard.tats.len() >= cap {
        // Free an eighth at once, so the cost of finding the soonest-to-expire keys
        // is shared by the next cap/8 new keys.
        let target = cap.saturating_sub((cap / 8).max(1));
        let excess = shard.tats.len() - target;
        let mut tats: Vec<u64> = shard.tats.values_mut().map(|tat| *tat.get_mut()).collect();
        let threshold = *tats.select_nth_unstable(excess - 1).1;
        // Exactly `excess` of the keys at or under the threshold: a flood of keys
        // with one and the same TAT must not empty the shard.
        let mut left = excess;
        shard.tats.retain(|_, tat| {
            let evict = left > 0 && *tat.get_mut() <= threshold;
            left -= usize::from(evict);
            !evict
        });
        evicted = excess as u64;
    }
    shard.sweep_at = (shard.tats.len() * 2).clamp(MIN_SWEEP, cap.max(MIN_SWEEP));
    evicted
}

// Nothing panics while a shard is locked; if something ever did, its map is still a
// valid map of timestamps: poisoning is ignored.

#[inline]
fn shared(shard: &CacheLine<RwLock<Shard>>) -> RwLockReadGuard<'_, Shard> {
    shard.0.read().unwrap_or_else(PoisonError::into_inner)
}

#[inline]
fn exclusive(shard: &CacheLine<RwLock<Shard>>) -> RwLockWriteGuard<'_, Shard> {
    shard.0.write().unwrap_or_else(PoisonError::into_inner)
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
    fn the_key_hash_is_std_siphash_1_3() {
        // std's `DefaultHasher::new()` is SipHash-1-3 under the key (0, 0); framed as
        // SipHash frames a message, our words give the same hash.
        let text: Vec<u8> = (0..200u8).map(|i| b'a' + i % 26).collect();
        for len in 0..text.len() {
            let mut std = std::hash::DefaultHasher::new();
            std.write(&text[..len]);
            let mut sip = Sip::new(HashKey(0, 0));
            let tail = sip.absorb_words(&text[..len]);
            sip.absorb(tail | (len as u64) << 56);
            assert_eq!(sip.finish(), std.finish(), "{len} bytes");
        }
    }

    #[test]
    fn no_two_pairs_share_a_hash_by_construction() {
        let key = HashKey::random();
        let pairs = [
            ("ab", "c"),
            ("a", "bc"),
            ("", "abc"),
            ("abc", ""),
            ("abcdefgh", "i"),
            ("abcdefghi", ""),
            ("a", "b\0\0\0\0\0\0\u{1}"),
        ];
        let hashes: std::collections::HashSet<u64> =
            pairs.iter().map(|(b, p)| key.hash(b, p)).collect();
        assert_eq!(hashes.len(), pairs.len());
        assert_ne!(HashKey::random().hash("b", "k"), key.hash("b", "k"));
    }

    #[test]
    fn racing_checks_on_one_key_take_exactly_its_burst() {
        // Time stands still: of 4 × 5,000 attempts on a burst of 10,000, exactly
        // 10,000 get through, whichever path each takes (the read lock and a
        // compare-and-swap for a lone limit, the whole shard for a batch).
        let (store, _) = store(1000);
        let hot = check("hot", "ip:192.0.2.1", 10_000, 3600);
        let roomy = check("roomy", "ip:192.0.2.1", u32::MAX, 1);
        let admitted = AtomicU64::new(0);
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let (store, admitted) = (&store, &admitted);
                scope.spawn(move || {
                    let mut decisions = [Decision::default(); 2];
                    for _ in 0..5_000 {
                        let allowed = if thread == 3 {
                            store.check_into(&[hot, roomy], Op::Consume, &mut decisions);
                            decisions[0].allowed()
                        } else {
                            store.check_one(&hot, Op::Consume).allowed()
                        };
                        admitted.fetch_add(u64::from(allowed), Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(admitted.into_inner(), 10_000);
        assert!(!store.check_one(&hot, Op::Peek).allowed());
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
