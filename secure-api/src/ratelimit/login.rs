//! Throttling of failed logins per client IP and username, on the same limiter and
//! store as every other limit (so it holds across replicas that share a Redis).

use super::{Check, CheckOutcome, FailureMode, Limiter, Op, Quota, RateLimit};
use poem::Request;
use std::{fmt, time::Duration};

/// Allows `N` failed logins per client IP and username per window; then every login
/// of that IP and username, right password included, is refused until the window
/// lets one through again (one more every `period / N`). Other usernames from the
/// same IP, and the same username from other IPs, are unaffected; an unknown
/// username is throttled exactly like a known one.
///
/// Each attempt takes a unit *before* the password is checked, and a successful login
/// gives it back ([`LoginAttempt::release`]): concurrent guesses cannot overrun the budget, and only failures
/// count. When the store fails, the throttle counts in this process's memory
/// ([`FailureMode::Local`]): it never fails open.
///
/// The limit is named `login`: `override_limit("login", ...)` changes it.
///
/// A login the throttle refuses is answered only after a short delay
/// ([`LoginThrottle::tarpit`], [`DEFAULT_TARPIT`]; a wrong password's own answer is
/// not delayed): a client that waits for each answer before guessing again, as most
/// scripts do, gets four answers a second per HTTP/1.1 connection instead of
/// thousands, so its storm of refused logins leaves the CPU to the service's other
/// requests. A client that sends without waiting (many connections, HTTP/2 streams)
/// is not slowed by it; each of its refused attempts still costs no hashing, only
/// reading the form and checking the limit.
///
/// ```
/// use secure_api::ratelimit::{Limiter, LoginThrottle, Quota};
/// use secure_api::poem::Request;
/// use std::time::Duration;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let throttle = LoginThrottle::new(Limiter::in_memory(), Quota::per(2, Duration::from_secs(900)));
/// let request = Request::default();
/// for _ in 0..2 {
///     let attempt = throttle.attempt(&request, "alice").await.unwrap();
///     // ... the password was wrong: drop the attempt, the failure counts.
///     drop(attempt);
/// }
/// let refused = throttle.attempt(&request, "alice").await.unwrap_err();
/// // One more failure is allowed every 15 min / 2.
/// assert_eq!(refused.retry_after().as_secs_f64().ceil(), 450.0);
/// assert!(throttle.attempt(&request, "bob").await.is_ok());
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    limiter: Limiter,
    limit: RateLimit,
    tarpit: Duration,
}

/// How long a refused login waits before its answer, unless [`LoginThrottle::tarpit`]
/// says otherwise. Long enough to cut a hammering client to four answers a second per
/// connection; short enough that a person who mistyped does not notice it.
pub const DEFAULT_TARPIT: Duration = Duration::from_millis(250);

/// The longest tarpit [`LoginThrottle::tarpit`] accepts. A longer wait would outlast a
/// reverse proxy's read timeout (the client would see a 504 without `Retry-After`)
/// and hold connections through a graceful shutdown.
pub const MAX_TARPIT: Duration = Duration::from_secs(5);

/// A login attempt the throttle let through. Drop it when the login fails (the
/// failure counts); call [`release`](Self::release) when it succeeds.
#[must_use = "call .release() after a successful login, or the login counts as a failure"]
#[derive(Debug)]
pub struct LoginAttempt {
    throttle: LoginThrottle,
    partition: String,
}

/// A login refused because of earlier failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottled {
    retry_after: Duration,
}

impl LoginThrottle {
    /// Allows `quota` failed logins per client IP and username.
    ///
    /// ```
    /// use secure_api::ratelimit::{Limiter, LoginThrottle};
    /// let throttle = LoginThrottle::new(Limiter::in_memory(), "5/15m".parse().unwrap());
    /// ```
    pub fn new(limiter: Limiter, quota: Quota) -> Self {
        LoginThrottle {
            limiter,
            limit: RateLimit::new("login", quota),
            tarpit: DEFAULT_TARPIT,
        }
    }

    /// Answers each login the throttle refuses after `delay` ([`DEFAULT_TARPIT`]
    /// unless set; `Duration::ZERO` answers at once; at most [`MAX_TARPIT`], longer
    /// is cut to it). The wait holds no lock, no hasher and not the form: only the
    /// refused request's own task and its connection wait.
    ///
    /// ```
    /// use secure_api::ratelimit::{Limiter, LoginThrottle, MAX_TARPIT};
    /// use std::time::Duration;
    /// let throttle = LoginThrottle::new(Limiter::in_memory(), "5/15m".parse().unwrap())
    ///     .tarpit(Duration::from_secs(1));
    /// assert_eq!(throttle.tarpit_delay(), Duration::from_secs(1));
    /// assert_eq!(throttle.tarpit(Duration::from_secs(60)).tarpit_delay(), MAX_TARPIT);
    /// ```
    pub fn tarpit(mut self, delay: Duration) -> Self {
        self.tarpit = delay.min(MAX_TARPIT);
        self
    }

    /// How long a refused login waits before its answer (see [`Self::tarpit`]).
    ///
    /// ```
    /// use secure_api::ratelimit::{DEFAULT_TARPIT, Limiter, LoginThrottle};
    /// let throttle = LoginThrottle::new(Limiter::in_memory(), "5/15m".parse().unwrap());
    /// assert_eq!(throttle.tarpit_delay(), DEFAULT_TARPIT);
    /// ```
    pub fn tarpit_delay(&self) -> Duration {
        self.tarpit
    }

    /// Asks to try a login for `username` from the client of `request`.
    ///
    /// ```
    /// # use secure_api::ratelimit::{Limiter, LoginThrottle};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let throttle = LoginThrottle::new(Limiter::in_memory(), "5/15m".parse().unwrap());
    /// let attempt = throttle.attempt(&secure_api::poem::Request::default(), "alice").await.unwrap();
    /// attempt.release().await;
    /// # });
    /// ```
    pub async fn attempt(
        &self,
        request: &Request,
        username: &str,
    ) -> Result<LoginAttempt, LoginThrottled> {
        let partition = format!("{}|user:{username}", self.limiter.client_partition(request));
        let check = self.check(&partition);
        match self
            .limiter
            .check_with(&[check], Op::Consume, FailureMode::Local)
            .await
        {
            CheckOutcome::Decided(decisions) if !decisions[0].allowed() => Err(LoginThrottled {
                retry_after: decisions[0].retry_after(),
            }),
            _ => Ok(LoginAttempt {
                throttle: self.clone(),
                partition,
            }),
        }
    }

    fn check<'a>(&self, partition: &'a str) -> Check<'a> {
        Check {
            budget: self.limit.budget(),
            partition,
            quota: self.limiter.quota_of(&self.limit),
        }
    }
}

impl LoginAttempt {
    /// The attempt does not count: the login succeeded (or could not be checked, the
    /// user store being down).
    ///
    /// ```
    /// # use secure_api::ratelimit::{Limiter, LoginThrottle};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let throttle = LoginThrottle::new(Limiter::in_memory(), "1/15m".parse().unwrap());
    /// # let request = secure_api::poem::Request::default();
    /// throttle.attempt(&request, "alice").await.unwrap().release().await;
    /// assert!(throttle.attempt(&request, "alice").await.is_ok());
    /// # });
    /// ```
    pub async fn release(self) {
        let check = self.throttle.check(&self.partition);
        self.throttle
            .limiter
            .check_with(&[check], Op::Refund, FailureMode::Local)
            .await;
    }
}

impl LoginThrottled {
    /// How long until one more login is allowed.
    ///
    /// ```
    /// # use secure_api::ratelimit::{Limiter, LoginThrottle};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let throttle = LoginThrottle::new(Limiter::in_memory(), "1/1m".parse().unwrap());
    /// # let request = secure_api::poem::Request::default();
    /// # drop(throttle.attempt(&request, "a").await.unwrap());
    /// let refused = throttle.attempt(&request, "a").await.unwrap_err();
    /// assert_eq!(refused.retry_after().as_secs_f64().ceil(), 60.0);
    /// # });
    /// ```
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }
}

impl fmt::Display for LoginThrottled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "too many failed logins for this username from this address; retry in {} s",
            super::headers::whole_seconds(self.retry_after).max(1)
        )
    }
}

impl std::error::Error for LoginThrottled {}
