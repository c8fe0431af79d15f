//! Where the state of every key lives: [`MemoryStore`] in this process, or
//! `RedisStore` (feature `redis`) shared by every replica. Both run the same
//! [GCRA](super::Gcra); a store only keeps one timestamp per key and applies a batch
//! of checks atomically.

mod memory;
#[cfg(feature = "redis")]
mod redis;

pub use memory::{MemoryStore, MemoryStoreStats};
#[cfg(feature = "redis")]
pub use redis::{RedisStore, RedisStoreBuilder};

use super::{Decision, Quota};
use std::{fmt, future::Future, pin::Pin};

/// One limit applied to one key: the budget (`RateLimit::budget`), the key within it
/// (`ip:203.0.113.9`, `sub:alice`, ...) and the quota in force.
#[derive(Debug, Clone, Copy)]
pub struct Check<'a> {
    /// Limits with the same budget share one count per partition.
    pub budget: &'a str,
    /// Whose count: the client, subject or key.
    pub partition: &'a str,
    /// The quota in force (after configuration overrides).
    pub quota: Quota,
}

/// What a batch of checks does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Takes one unit from every check, or, if any would refuse, from none.
    Consume,
    /// Answers as [`Op::Consume`] would, and changes nothing.
    Peek,
    /// Gives one unit back to every check (never beyond a full burst): a login that
    /// turned out right.
    Refund,
}

/// The store could not answer (Redis down, slow, or refusing the script).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate-limit store failed: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// The future of [`LimitStore::check`].
pub type CheckFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Decision>, StoreError>> + Send + 'a>>;

/// A place to keep the state of rate-limit keys.
///
/// `check` applies a batch atomically: under [`Op::Consume`], either every check admits
/// and each takes one unit, or none takes anything (a request refused by one of its
/// limits consumes from none of them). It answers one [`Decision`] per check, in order.
///
/// ```
/// use secure_api::ratelimit::{Check, LimitStore, MemoryStore, Op, Quota};
/// use std::time::Duration;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let check = Check { budget: "search", partition: "ip:192.0.2.1", quota: Quota::per(1, Duration::from_secs(60)) };
/// assert!(store.check(&[check], Op::Consume).await.unwrap()[0].allowed());
/// assert!(!store.check(&[check], Op::Consume).await.unwrap()[0].allowed());
/// # });
/// ```
pub trait LimitStore: Send + Sync + 'static {
    /// Applies `op` to every check of the batch, atomically.
    fn check<'a>(&'a self, checks: &'a [Check<'a>], op: Op) -> CheckFuture<'a>;

    /// [`check`](Self::check) at once, for a store that never waits (its state is in
    /// this process): writes one decision per check into `decisions` (as long as
    /// `checks`) and returns `true`, with no future and no allocation. A store that
    /// has to wait (Redis) keeps the default, `false`, and is asked through `check`.
    ///
    /// ```
    /// use secure_api::ratelimit::{Check, Decision, LimitStore, MemoryStore, Op, Quota};
    /// use std::time::Duration;
    ///
    /// let store = MemoryStore::new();
    /// let check = Check { budget: "search", partition: "ip:192.0.2.1", quota: Quota::per(1, Duration::from_secs(60)) };
    /// let mut decisions = [Decision::default()];
    /// assert!(store.decide_now(&[check], Op::Consume, &mut decisions));
    /// assert!(decisions[0].allowed());
    /// ```
    fn decide_now(&self, checks: &[Check<'_>], op: Op, decisions: &mut [Decision]) -> bool {
        let _ = (checks, op, decisions);
        false
    }
}
