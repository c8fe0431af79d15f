//! [`Limiter`]: the store a service counts in, chosen at start-up, with what happens
//! when the store fails, the trusted proxies, and configuration overrides.

use super::{
    Decision, Quota, RateLimit,
    client_ip::{IpKey, TrustedProxies},
    policy::is_valid_name,
    store::{Check, LimitStore, MemoryStore, Op, StoreError},
};
use crate::ratelimit::{Clock, MonotonicClock};
use poem::Request;
use std::{
    collections::HashMap,
    fmt,
    net::IpAddr,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};

/// What a request gets when the store cannot answer (Redis down or slow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureMode {
    /// Admit the request unlimited (the default): an outage of the limiter does not
    /// become an outage of the service.
    #[default]
    Open,
    /// Refuse with 429 and `Retry-After: 1`.
    Closed,
    /// Count in this process's memory until the store is back: each replica then
    /// limits on its own (at most the limit times the number of replicas gets through).
    /// The login throttle always works this way.
    Local,
}

/// Which rate-limit header fields answers carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderStyle {
    /// The IETF draft's `RateLimit-Policy: "name";q=100;w=60` and
    /// `RateLimit: "name";r=42;t=17` (the default).
    #[default]
    Draft,
    /// The older `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds
    /// until the budget is full), for clients that only read those.
    Legacy,
    /// None: the policy stays private (429 still carries `Retry-After`).
    Off,
}

/// The rate-limit runtime of a service: its store, what happens when the store fails,
/// who the client is behind proxies, and overrides of the limits declared in code.
///
/// Add it to the app as request data (`.data(limiter)`), like the
/// [`Authenticator`](crate::Authenticator); every `#[rate_limit]` finds it there. The
/// store is chosen here, at start-up, never in the attribute: one binary runs with
/// memory on a laptop and Redis in production.
///
/// Without a `Limiter` in the request data, limited operations still work: they share
/// one process-wide in-memory limiter with the defaults (and a warning is logged once).
///
/// ```
/// use secure_api::ratelimit::{FailureMode, Limiter, MemoryStore, Quota, TrustedProxies};
/// use std::time::Duration;
///
/// let limiter = Limiter::builder(MemoryStore::new())
///     .failure_mode(FailureMode::Open)
///     .trusted_proxies(TrustedProxies::parse("10.0.0.0/8").unwrap())
///     // During an incident, without recompiling:
///     .override_limit("public", Quota::per(1000, Duration::from_secs(60)))
///     .build();
/// let app = secure_api::poem::Route::new(); // your routes
/// let app = secure_api::poem::EndpointExt::data(app, limiter);
/// ```
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn LimitStore>,
    failure_mode: FailureMode,
    proxies: TrustedProxies,
    ipv6_prefix: u8,
    /// By name; a handful at most, so a scan beats hashing the name per request.
    overrides: Box<[(String, Quota)]>,
    headers: HeaderStyle,
    fallback: OnceLock<MemoryStore>,
    counters: Counters,
    clock: MonotonicClock,
}

#[derive(Default)]
struct Counters {
    store_errors: AtomicU64,
    failed_open: AtomicU64,
    failed_closed: AtomicU64,
    fell_back: AtomicU64,
    /// When the last warning was logged, in clock nanoseconds + 1 (0: never).
    warned_at: AtomicU64,
}

/// How the limiter's store has failed so far: counters to export as metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LimiterStats {
    /// Checks the store could not answer.
    pub store_errors: u64,
    /// Of those, requests admitted unchecked ([`FailureMode::Open`]).
    pub failed_open: u64,
    /// Of those, requests refused ([`FailureMode::Closed`]).
    pub failed_closed: u64,
    /// Of those, checks counted in local memory instead ([`FailureMode::Local`]).
    pub fell_back: u64,
}

/// The answer to a batch of checks, after the failure mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The store (or the local fallback) answered, one decision per check.
    Decided(Vec<Decision>),
    /// The store failed and the failure mode admits the request.
    FailedOpen,
    /// The store failed and the failure mode refuses the request.
    FailedClosed,
}

/// [`CheckOutcome`] with the decisions written where the caller asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Decided,
    FailedOpen,
    FailedClosed,
}

/// Minimum time between two warnings about a failing store.
const WARNING_INTERVAL_NANOS: u64 = 5_000_000_000;

impl Limiter {
    /// A limiter over a fresh [`MemoryStore`], with the defaults.
    ///
    /// ```
    /// let limiter = secure_api::ratelimit::Limiter::in_memory();
    /// ```
    pub fn in_memory() -> Self {
        Self::builder(MemoryStore::new()).build()
    }

    /// A limiter over `store` (a [`MemoryStore`], a `RedisStore`, or yours).
    ///
    /// ```
    /// use secure_api::ratelimit::{Limiter, MemoryStore};
    /// let limiter = Limiter::builder(MemoryStore::with_max_keys(100_000)).build();
    /// ```
    pub fn builder(store: impl LimitStore) -> LimiterBuilder {
        LimiterBuilder {
            store: Arc::new(store),
            failure_mode: FailureMode::default(),
            proxies: TrustedProxies::none(),
            ipv6_prefix: 64,
            overrides: HashMap::new(),
            headers: HeaderStyle::default(),
        }
    }

    /// The quota in force for `limit`: its override, or what the code declares.
    ///
    /// ```
    /// use secure_api::ratelimit::{Limiter, MemoryStore, Quota, RateLimit};
    /// use std::time::Duration;
    ///
    /// const PUBLIC: RateLimit = RateLimit::new("public", Quota::per(100, Duration::from_secs(60)));
    /// let limiter = Limiter::builder(MemoryStore::new())
    ///     .override_limit("public", Quota::per(500, Duration::from_secs(60)))
    ///     .build();
    /// assert_eq!(limiter.quota_of(&PUBLIC).count(), 500);
    /// ```
    pub fn quota_of(&self, limit: &RateLimit) -> Quota {
        self.inner
            .overrides
            .iter()
            .find(|(name, _)| name == limit.name())
            .map_or(limit.quota(), |(_, quota)| *quota)
    }

    /// The client IP of `request`, behind the trusted proxies.
    ///
    /// ```
    /// use secure_api::ratelimit::Limiter;
    /// assert_eq!(Limiter::in_memory().client_ip(&secure_api::poem::Request::default()), None);
    /// ```
    pub fn client_ip(&self, request: &Request) -> Option<IpAddr> {
        self.inner.proxies.client_ip(request)
    }

    /// The key of the client IP of `request`: the address, or its IPv6 network.
    pub(crate) fn client_partition(&self, request: &Request) -> IpKey {
        IpKey::new(self.client_ip(request), self.inner.ipv6_prefix)
    }

    /// Which header fields answers carry.
    ///
    /// ```
    /// use secure_api::ratelimit::{HeaderStyle, Limiter};
    /// assert_eq!(Limiter::in_memory().header_style(), HeaderStyle::Draft);
    /// ```
    pub fn header_style(&self) -> HeaderStyle {
        self.inner.headers
    }

    /// Applies `op` to a batch of checks in the store; when the store fails, answers
    /// as the limiter's [`FailureMode`] says (and counts and logs the failure).
    ///
    /// ```
    /// use secure_api::ratelimit::{Check, CheckOutcome, Limiter, Op, Quota};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let limiter = Limiter::in_memory();
    /// let check = Check { budget: "export", partition: "ip:192.0.2.1", quota: Quota::per(1, std::time::Duration::from_secs(60)) };
    /// let CheckOutcome::Decided(decisions) = limiter.check(&[check], Op::Consume).await else { panic!() };
    /// assert!(decisions[0].allowed());
    /// # });
    /// ```
    pub async fn check(&self, checks: &[Check<'_>], op: Op) -> CheckOutcome {
        self.check_with(checks, op, self.inner.failure_mode).await
    }

    /// [`check`](Self::check) with another failure mode than the limiter's.
    ///
    /// ```
    /// use secure_api::ratelimit::{Check, CheckOutcome, FailureMode, Limiter, Op, Quota};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let limiter = Limiter::in_memory();
    /// let check = Check { budget: "login", partition: "ip:192.0.2.1|alice", quota: Quota::per(5, std::time::Duration::from_secs(900)) };
    /// let outcome = limiter.check_with(&[check], Op::Peek, FailureMode::Local).await;
    /// assert!(matches!(outcome, CheckOutcome::Decided(_)));
    /// # });
    /// ```
    pub async fn check_with(
        &self,
        checks: &[Check<'_>],
        op: Op,
        failure_mode: FailureMode,
    ) -> CheckOutcome {
        let mut decisions = vec![Decision::default(); checks.len()];
        if self.inner.store.decide_now(checks, op, &mut decisions) {
            return CheckOutcome::Decided(decisions);
        }
        self.check_waiting(checks, op, failure_mode).await
    }

    /// The store's own check, for a store that has to wait (its `decide_now` said so),
    /// then the failure mode if it failed.
    async fn check_waiting(
        &self,
        checks: &[Check<'_>],
        op: Op,
        failure_mode: FailureMode,
    ) -> CheckOutcome {
        let error = match self.inner.store.check(checks, op).await {
            Ok(decisions) if decisions.len() == checks.len() => {
                return CheckOutcome::Decided(decisions);
            }
            // A store of someone's that miscounts is a failing store, not a panic.
            Ok(decisions) => StoreError(format!(
                "the store answered {} decisions for {} checks",
                decisions.len(),
                checks.len()
            )),
            Err(error) => error,
        };
        let counters = &self.inner.counters;
        counters.store_errors.fetch_add(1, Ordering::Relaxed);
        let outcome = match failure_mode {
            FailureMode::Open => {
                counters.failed_open.fetch_add(1, Ordering::Relaxed);
                CheckOutcome::FailedOpen
            }
            FailureMode::Closed => {
                counters.failed_closed.fetch_add(1, Ordering::Relaxed);
                CheckOutcome::FailedClosed
            }
            FailureMode::Local => {
                counters.fell_back.fetch_add(1, Ordering::Relaxed);
                let fallback = self.inner.fallback.get_or_init(MemoryStore::new);
                CheckOutcome::Decided(fallback.check_now(checks, op))
            }
        };
        self.warn(&error, failure_mode);
        outcome
    }

    /// [`check_with`](Self::check_with) into `decisions` (as long as `checks`), once
    /// [`decide_now`](Self::decide_now) has said the store has to wait.
    pub(crate) async fn check_waiting_into(
        &self,
        checks: &[Check<'_>],
        op: Op,
        failure_mode: FailureMode,
        decisions: &mut [Decision],
    ) -> Answer {
        match self.check_waiting(checks, op, failure_mode).await {
            CheckOutcome::Decided(answers) => {
                decisions[..answers.len()].copy_from_slice(&answers);
                Answer::Decided
            }
            CheckOutcome::FailedOpen => Answer::FailedOpen,
            CheckOutcome::FailedClosed => Answer::FailedClosed,
        }
    }

    /// [`LimitStore::decide_now`] of the store: `false` when it has to wait.
    pub(crate) fn decide_now(
        &self,
        checks: &[Check<'_>],
        op: Op,
        decisions: &mut [Decision],
    ) -> bool {
        self.inner.store.decide_now(checks, op, decisions)
    }

    /// The failure mode configured for this limiter.
    pub(crate) fn failure_mode(&self) -> FailureMode {
        self.inner.failure_mode
    }

    /// How the store has failed so far.
    ///
    /// ```
    /// let stats = secure_api::ratelimit::Limiter::in_memory().stats();
    /// assert_eq!(stats.store_errors, 0);
    /// ```
    pub fn stats(&self) -> LimiterStats {
        let counters = &self.inner.counters;
        LimiterStats {
            store_errors: counters.store_errors.load(Ordering::Relaxed),
            failed_open: counters.failed_open.load(Ordering::Relaxed),
            failed_closed: counters.failed_closed.load(Ordering::Relaxed),
            fell_back: counters.fell_back.load(Ordering::Relaxed),
        }
    }

    /// At most one warning every few seconds, however many requests fail.
    fn warn(&self, error: &dyn fmt::Display, mode: FailureMode) {
        let now = self.inner.clock.now() + 1;
        let last = &self.inner.counters.warned_at;
        let previous = last.load(Ordering::Relaxed);
        let due = previous == 0 || now - previous >= WARNING_INTERVAL_NANOS;
        if due
            && last
                .compare_exchange(previous, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let stats = self.stats();
            let answer = match mode {
                FailureMode::Open => "admitting requests unlimited",
                FailureMode::Closed => "refusing limited requests",
                FailureMode::Local => "counting in this process's memory",
            };
            tracing::warn!(
                %error,
                store_errors = stats.store_errors,
                "rate limiting: the store is failing; {answer} until it answers again"
            );
        }
    }
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter")
            .field("failure_mode", &self.inner.failure_mode)
            .field("proxies", &self.inner.proxies)
            .field("overrides", &self.inner.overrides)
            .field("headers", &self.inner.headers)
            .finish_non_exhaustive()
    }
}

/// Settings of a [`Limiter`].
#[must_use = "call .build() to get the Limiter"]
pub struct LimiterBuilder {
    store: Arc<dyn LimitStore>,
    failure_mode: FailureMode,
    proxies: TrustedProxies,
    ipv6_prefix: u8,
    overrides: HashMap<String, Quota>,
    headers: HeaderStyle,
}

impl LimiterBuilder {
    /// What a request gets when the store fails (default [`FailureMode::Open`]).
    ///
    /// ```
    /// use secure_api::ratelimit::{FailureMode, Limiter, MemoryStore};
    /// let limiter = Limiter::builder(MemoryStore::new()).failure_mode(FailureMode::Closed).build();
    /// ```
    pub fn failure_mode(mut self, mode: FailureMode) -> Self {
        self.failure_mode = mode;
        self
    }

    /// The proxies whose forwarding headers are believed (default: none, the peer
    /// address is the client).
    ///
    /// ```
    /// use secure_api::ratelimit::{Limiter, MemoryStore, TrustedProxies};
    /// let limiter = Limiter::builder(MemoryStore::new())
    ///     .trusted_proxies(TrustedProxies::parse("10.0.0.0/8").unwrap())
    ///     .build();
    /// ```
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// How many leading bits of an IPv6 client address make its key (default 64, one
    /// customer's network; at most 128).
    ///
    /// ```
    /// use secure_api::ratelimit::{Limiter, MemoryStore};
    /// let limiter = Limiter::builder(MemoryStore::new()).ipv6_prefix(56).build();
    /// ```
    pub fn ipv6_prefix(mut self, bits: u8) -> Self {
        self.ipv6_prefix = bits.min(128);
        self
    }

    /// Replaces the quota of every limit named `name`, without recompiling (the key
    /// it counts by stays).
    ///
    /// ```
    /// use secure_api::ratelimit::{Limiter, MemoryStore, Quota};
    /// let limiter = Limiter::builder(MemoryStore::new())
    ///     .override_limit("sensitive", "20/60s".parse::<Quota>().unwrap())
    ///     .build();
    /// ```
    pub fn override_limit(mut self, name: &str, quota: Quota) -> Self {
        self.overrides.insert(name.to_owned(), quota);
        self
    }

    /// Overrides from configuration: `name=COUNT/DURATION`, comma-separated
    /// (`public=1000/60s, login=10/15m`). A mistake is an error that says where.
    ///
    /// ```
    /// use secure_api::ratelimit::{Limiter, MemoryStore};
    /// let limiter = Limiter::builder(MemoryStore::new())
    ///     .overrides_from_str("public=1000/60s, login=10/15m")
    ///     .unwrap()
    ///     .build();
    /// assert!(Limiter::builder(MemoryStore::new()).overrides_from_str("public=lots").is_err());
    /// ```
    pub fn overrides_from_str(mut self, text: &str) -> Result<Self, String> {
        for (name, quota) in parse_overrides(text)? {
            self.overrides.insert(name, quota);
        }
        Ok(self)
    }

    /// Which header fields answers carry (default [`HeaderStyle::Draft`]).
    ///
    /// ```
    /// use secure_api::ratelimit::{HeaderStyle, Limiter, MemoryStore};
    /// let limiter = Limiter::builder(MemoryStore::new()).header_style(HeaderStyle::Legacy).build();
    /// ```
    pub fn header_style(mut self, style: HeaderStyle) -> Self {
        self.headers = style;
        self
    }

    /// The limiter.
    ///
    /// ```
    /// let limiter = secure_api::ratelimit::Limiter::builder(secure_api::ratelimit::MemoryStore::new()).build();
    /// ```
    pub fn build(self) -> Limiter {
        Limiter {
            inner: Arc::new(Inner {
                store: self.store,
                failure_mode: self.failure_mode,
                proxies: self.proxies,
                ipv6_prefix: self.ipv6_prefix,
                overrides: {
                    let mut overrides: Vec<(String, Quota)> = self.overrides.into_iter().collect();
                    overrides.sort_by(|a, b| a.0.cmp(&b.0));
                    overrides.into_boxed_slice()
                },
                headers: self.headers,
                fallback: OnceLock::new(),
                counters: Counters::default(),
                clock: MonotonicClock::new(),
            }),
        }
    }
}

/// `name=COUNT/DURATION, ...`: what an operator writes to override limits.
///
/// ```
/// use secure_api::ratelimit::parse_overrides;
/// let overrides = parse_overrides("public=1000/60s, login=10/15m").unwrap();
/// assert_eq!(overrides[0].0, "public");
/// assert_eq!(overrides[1].1.count(), 10);
/// ```
pub fn parse_overrides(text: &str) -> Result<Vec<(String, Quota)>, String> {
    text.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| {
            let (name, quota) = item.trim().split_once('=').ok_or_else(|| {
                format!(
                    "`{}` is not an override; write NAME=COUNT/DURATION, e.g. public=1000/60s",
                    item.trim()
                )
            })?;
            let name = name.trim();
            if !is_valid_name(name) {
                return Err(format!(
                    "`{name}` is not a limit name (1 to 64 letters, digits, `_`, `-`, `.`, `:`)"
                ));
            }
            let quota = quota.parse::<Quota>().map_err(|e| format!("{name}: {e}"))?;
            Ok((name.to_owned(), quota))
        })
        .collect()
}

/// The limiter of requests whose app has none: one per process, in memory.
pub(crate) fn limiter_of(request: &Request) -> &Limiter {
    static DEFAULT: OnceLock<Limiter> = OnceLock::new();
    match request.data::<Limiter>() {
        Some(limiter) => limiter,
        None => DEFAULT.get_or_init(|| {
            tracing::warn!(
                "a rate-limited operation found no Limiter in the request data: counting in \
                 a process-wide in-memory limiter with the defaults; add \
                 `.data(Limiter::...)` to the app to choose the store and trusted proxies"
            );
            Limiter::in_memory()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratelimit::CheckFuture;
    use std::time::Duration;

    struct Broken;

    impl LimitStore for Broken {
        fn check<'a>(&'a self, _: &'a [Check<'a>], _: Op) -> CheckFuture<'a> {
            Box::pin(async { Err(StoreError("connection refused".to_owned())) })
        }
    }

    fn check() -> Check<'static> {
        Check {
            budget: "b",
            partition: "ip:192.0.2.1",
            quota: Quota::per(1, Duration::from_secs(60)),
        }
    }

    #[tokio::test]
    async fn a_failing_store_answers_by_the_failure_mode_and_is_counted() {
        let open = Limiter::builder(Broken).build();
        assert_eq!(
            open.check(&[check()], Op::Consume).await,
            CheckOutcome::FailedOpen
        );
        let closed = Limiter::builder(Broken)
            .failure_mode(FailureMode::Closed)
            .build();
        assert_eq!(
            closed.check(&[check()], Op::Consume).await,
            CheckOutcome::FailedClosed
        );
        let local = Limiter::builder(Broken)
            .failure_mode(FailureMode::Local)
            .build();
        let first = local.check(&[check()], Op::Consume).await;
        assert!(matches!(first, CheckOutcome::Decided(d) if d[0].allowed()));
        let second = local.check(&[check()], Op::Consume).await;
        assert!(
            matches!(second, CheckOutcome::Decided(d) if !d[0].allowed()),
            "the local fallback limits"
        );
        assert_eq!(
            open.stats(),
            LimiterStats {
                store_errors: 1,
                failed_open: 1,
                ..LimiterStats::default()
            }
        );
        assert_eq!(closed.stats().failed_closed, 1);
        assert_eq!(local.stats().fell_back, 2);
    }

    /// Answers one decision too many, whatever it is asked.
    struct Miscounting;

    impl LimitStore for Miscounting {
        fn check<'a>(&'a self, checks: &'a [Check<'a>], _: Op) -> CheckFuture<'a> {
            let decisions = vec![Decision::default(); checks.len() + 1];
            Box::pin(async move { Ok(decisions) })
        }
    }

    #[tokio::test]
    async fn a_store_that_miscounts_fails_by_the_failure_mode() {
        let closed = Limiter::builder(Miscounting)
            .failure_mode(FailureMode::Closed)
            .build();
        let mut decisions = [Decision::default()];
        let answer = closed
            .check_waiting_into(&[check()], Op::Consume, FailureMode::Closed, &mut decisions)
            .await;
        assert_eq!(answer, Answer::FailedClosed);
        assert_eq!(closed.stats().store_errors, 1);
    }

    #[test]
    fn overrides_parse_with_errors_that_say_where() {
        assert_eq!(parse_overrides("").unwrap(), Vec::<(String, Quota)>::new());
        let error = parse_overrides("public=100/60s, login").unwrap_err();
        assert!(error.starts_with("`login` is not an override"), "{error}");
        let error = parse_overrides("public=0/60s").unwrap_err();
        assert!(
            error.starts_with("public: `0/60s` is not a quota"),
            "{error}"
        );
        let error = parse_overrides("pub lic=1/1s").unwrap_err();
        assert!(
            error.starts_with("`pub lic` is not a limit name"),
            "{error}"
        );
    }
}
