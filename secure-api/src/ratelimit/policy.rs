//! What a limit is: a [`Quota`] (how many per how long, with what burst), and a
//! [`RateLimit`] (a quota with a name, a budget and what it is keyed by).

use poem::Request;
use std::{fmt, str::FromStr, time::Duration};

/// How many requests per period, with a burst: `count` per `period` sustained, up to
/// `burst` at once (by default `burst = count`, so `10 per 60 s` admits 10 at once
/// and the 11th waits 6 s).
///
/// ```
/// use secure_api::ratelimit::Quota;
/// use std::time::Duration;
///
/// let quota = Quota::per(10, Duration::from_secs(60));
/// assert_eq!(quota.burst(), 10);
/// assert_eq!("5/15m".parse::<Quota>().unwrap(), Quota::per(5, Duration::from_secs(900)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    count: u32,
    period: Duration,
    burst: u32,
    /// The GCRA's emission interval and tolerance in nanoseconds, worked out once
    /// here (a `const` quota: at compile time) instead of a division per check.
    interval: u64,
    tolerance: u64,
}

impl Quota {
    /// `count` requests per `period`, with a burst of `count`.
    ///
    /// A zero count or a zero period is refused: in a `const`, it fails to compile.
    ///
    /// ```
    /// use secure_api::ratelimit::Quota;
    /// const LOGIN: Quota = Quota::per(5, std::time::Duration::from_secs(900));
    /// ```
    ///
    /// ```compile_fail
    /// use secure_api::ratelimit::Quota;
    /// const NEVER: Quota = Quota::per(0, std::time::Duration::from_secs(60));
    /// ```
    pub const fn per(count: u32, period: Duration) -> Self {
        assert!(count > 0, "a quota admits at least one request per period");
        assert!(!period.is_zero(), "a quota's period is longer than zero");
        // 2^64 ns is 584 years: a longer period saturates.
        let nanos = period.as_nanos();
        let nanos = match nanos > u64::MAX as u128 {
            true => u64::MAX,
            false => nanos as u64,
        };
        let interval = match nanos / count as u64 {
            0 => 1,
            interval => interval,
        };
        Quota {
            count,
            period,
            burst: count,
            interval,
            tolerance: interval.saturating_mul(count as u64),
        }
    }

    /// The same rate with another burst: how many may come at once.
    ///
    /// ```
    /// use secure_api::ratelimit::Quota;
    /// let smooth = Quota::per(100, std::time::Duration::from_secs(60)).with_burst(5);
    /// assert_eq!(smooth.burst(), 5);
    /// ```
    pub const fn with_burst(self, burst: u32) -> Self {
        assert!(burst > 0, "a burst admits at least one request");
        Quota {
            burst,
            tolerance: self.interval.saturating_mul(burst as u64),
            ..self
        }
    }

    /// Requests per period.
    ///
    /// ```
    /// # use secure_api::ratelimit::Quota;
    /// assert_eq!(Quota::per(3, std::time::Duration::from_secs(1)).count(), 3);
    /// ```
    pub const fn count(&self) -> u32 {
        self.count
    }

    /// The period.
    ///
    /// ```
    /// # use secure_api::ratelimit::Quota;
    /// # use std::time::Duration;
    /// assert_eq!(Quota::per(3, Duration::from_secs(1)).period(), Duration::from_secs(1));
    /// ```
    pub const fn period(&self) -> Duration {
        self.period
    }

    /// How many requests may come at once.
    ///
    /// ```
    /// # use secure_api::ratelimit::Quota;
    /// assert_eq!(Quota::per(3, std::time::Duration::from_secs(1)).burst(), 3);
    /// ```
    pub const fn burst(&self) -> u32 {
        self.burst
    }

    /// The GCRA's emission interval, in nanoseconds (see [`Gcra`](super::Gcra)).
    pub(crate) const fn interval_nanos(&self) -> u64 {
        self.interval
    }

    /// The GCRA's tolerance, in nanoseconds (see [`Gcra`](super::Gcra)).
    pub(crate) const fn tolerance_nanos(&self) -> u64 {
        self.tolerance
    }
}

/// `10 requests per 60 s`, `1 request per 15 min`.
impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = match self.count {
            1 => "request",
            _ => "requests",
        };
        write!(
            f,
            "{} {noun} per {}",
            self.count,
            HumanDuration(self.period)
        )?;
        if self.burst != self.count {
            write!(f, " (bursts of {})", self.burst)?;
        }
        Ok(())
    }
}

/// Why a quota or a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaParseError(String);

impl fmt::Display for QuotaParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QuotaParseError {}

/// `N/DURATION`, e.g. `5/15m`, `100/60s`, `20/1h`; durations take `ms`, `s`, `m`,
/// `h` or `d`.
impl FromStr for Quota {
    type Err = QuotaParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let written = text;
        let error = |why: &str| {
            QuotaParseError(format!(
                "`{written}` is not a quota: {why}; write COUNT/DURATION, e.g. 5/15m or 100/60s"
            ))
        };
        let (count, period) = text.trim().split_once('/').ok_or_else(|| error("no `/`"))?;
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| error("the count is not a whole number"))?;
        if count == 0 {
            return Err(error("the count is zero"));
        }
        let period = parse_duration(period.trim()).map_err(|why| error(&why))?;
        Ok(Quota::per(count, period))
    }
}

/// A duration as `60s`, `500ms`, `15m`, `1h`, `1d`: a whole number and a unit, longer
/// than zero.
///
/// ```
/// use secure_api::ratelimit::parse_duration;
/// use std::time::Duration;
/// assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
/// assert!(parse_duration("0s").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` does not start with a whole number"))?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{unit}` is not a unit (ms, s, m, h or d)")),
    };
    match number.checked_mul(millis_per_unit) {
        Some(0) => Err("the duration is zero".to_owned()),
        Some(millis) => Ok(Duration::from_millis(millis)),
        None => Err(format!("`{text}` is too long")),
    }
}

/// `60 s`, `15 min`, `2 h`, `1 d`, `500 ms`: as a person reads it in a document.
struct HumanDuration(Duration);

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_millis();
        if !millis.is_multiple_of(1000) {
            return write!(f, "{millis} ms");
        }
        let secs = millis / 1000;
        // Up to two minutes reads best in seconds ("60 s", the usual window).
        let (value, unit) = match secs {
            s if s >= 86_400 && s.is_multiple_of(86_400) => (s / 86_400, "d"),
            s if s >= 3_600 && s.is_multiple_of(3_600) => (s / 3_600, "h"),
            s if s > 120 && s.is_multiple_of(60) => (s / 60, "min"),
            s => (s, "s"),
        };
        write!(f, "{value} {unit}")
    }
}

/// What a limit counts per: each distinct key has its own budget.
///
/// ```
/// use secure_api::ratelimit::KeyKind;
/// use secure_api::poem::Request;
///
/// fn tenant(request: &Request) -> Option<String> {
///     request.header("x-tenant").map(str::to_owned)
/// }
/// let by_tenant = KeyKind::Custom(tenant);
/// ```
#[derive(Clone, Copy)]
pub enum KeyKind {
    /// The client IP (see [`TrustedProxies`](super::TrustedProxies)); IPv6 clients
    /// by their /64. Checked before authentication.
    Ip,
    /// The verified subject of the bearer token, never the raw token; the client IP
    /// when there is no valid token (the request is not refused for lacking one).
    /// Checked right after authentication.
    Subject,
    /// The verified API key's identity ([`ApiKeyId`](super::ApiKeyId)), never the key
    /// itself; the client IP when there is none. Checked right after authentication.
    ApiKey,
    /// What a function of yours returns; the client IP when it returns `None`.
    /// Checked right after authentication.
    Custom(KeyFn),
}

/// A key of your own for [`KeyKind::Custom`].
pub type KeyFn = fn(&Request) -> Option<String>;

impl KeyKind {
    /// Whether the key is known before authentication.
    pub(crate) fn is_ip(&self) -> bool {
        matches!(self, KeyKind::Ip)
    }

    /// `per client IP`, `per token subject`, ...: for descriptions.
    fn describe(&self) -> &'static str {
        match self {
            KeyKind::Ip => "per client IP",
            KeyKind::Subject => "per token subject (per client IP without a valid token)",
            KeyKind::ApiKey => "per API key (per client IP without one)",
            KeyKind::Custom(_) => "per client key",
        }
    }
}

impl fmt::Debug for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyKind::Ip => f.write_str("Ip"),
            KeyKind::Subject => f.write_str("Subject"),
            KeyKind::ApiKey => f.write_str("ApiKey"),
            KeyKind::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// One limit: a [`Quota`], what it is keyed by, a name (in the `RateLimit` headers,
/// and what configuration overrides it by) and a budget (limits with the same budget
/// share one count).
///
/// `#[rate_limit]` builds these; declare one as a `const` to share it between
/// operations and reference it with `#[rate_limit(PATH)]`.
///
/// ```
/// use secure_api::ratelimit::{KeyKind, Quota, RateLimit};
/// use std::time::Duration;
///
/// pub const SEARCH: RateLimit =
///     RateLimit::new("search", Quota::per(30, Duration::from_secs(60))).key(KeyKind::Subject);
/// assert_eq!(SEARCH.describe(), "30 requests per 60 s per token subject (per client IP without a valid token)");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    name: &'static str,
    budget: &'static str,
    quota: Quota,
    key: KeyKind,
}

impl RateLimit {
    /// A limit named `name`, keyed by client IP; its budget is its name, so every
    /// operation with a limit of this name shares one count.
    ///
    /// Names are 1 to 64 characters of letters, digits, `_`, `-`, `.` and `:`; in a
    /// `const`, another name fails to compile.
    ///
    /// ```
    /// use secure_api::ratelimit::{Quota, RateLimit};
    /// const EXPORTS: RateLimit = RateLimit::new("exports", Quota::per(3, std::time::Duration::from_secs(3600)));
    /// ```
    ///
    /// ```compile_fail
    /// use secure_api::ratelimit::{Quota, RateLimit};
    /// const BAD: RateLimit = RateLimit::new("no spaces", Quota::per(3, std::time::Duration::from_secs(1)));
    /// ```
    pub const fn new(name: &'static str, quota: Quota) -> Self {
        assert!(
            is_valid_name(name),
            "a rate limit's name is 1 to 64 characters of letters, digits, `_`, `-`, `.` and `:`"
        );
        RateLimit {
            name,
            budget: name,
            quota,
            key: KeyKind::Ip,
        }
    }

    /// The same limit keyed by `key`.
    ///
    /// ```
    /// use secure_api::ratelimit::{KeyKind, Quota, RateLimit};
    /// let per_user = RateLimit::new("user", Quota::per(100, std::time::Duration::from_secs(60)))
    ///     .key(KeyKind::Subject);
    /// ```
    pub const fn key(self, key: KeyKind) -> Self {
        RateLimit { key, ..self }
    }

    /// A limit whose budget differs from its name: what `#[rate_limit]` builds for a
    /// limit without `name`, so it counts for its own operation only.
    #[doc(hidden)]
    pub const fn with_budget(self, budget: &'static str) -> Self {
        RateLimit { budget, ..self }
    }

    /// The name: in the `RateLimit` headers, and what overrides address.
    ///
    /// ```
    /// # use secure_api::ratelimit::{Quota, RateLimit};
    /// let limit = RateLimit::new("exports", Quota::per(3, std::time::Duration::from_secs(3600)));
    /// assert_eq!(limit.name(), "exports");
    /// ```
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The budget: limits with the same budget share one count per key.
    ///
    /// ```
    /// # use secure_api::ratelimit::{Quota, RateLimit};
    /// let limit = RateLimit::new("exports", Quota::per(3, std::time::Duration::from_secs(3600)));
    /// assert_eq!(limit.budget(), "exports");
    /// ```
    pub const fn budget(&self) -> &'static str {
        self.budget
    }

    /// The quota declared in code (configuration may override it: see
    /// [`LimiterBuilder::override_limit`](super::LimiterBuilder::override_limit)).
    ///
    /// ```
    /// # use secure_api::ratelimit::{Quota, RateLimit};
    /// let limit = RateLimit::new("exports", Quota::per(3, std::time::Duration::from_secs(3600)));
    /// assert_eq!(limit.quota().count(), 3);
    /// ```
    pub const fn quota(&self) -> Quota {
        self.quota
    }

    /// What the limit is keyed by.
    ///
    /// ```
    /// # use secure_api::ratelimit::{KeyKind, Quota, RateLimit};
    /// let limit = RateLimit::new("exports", Quota::per(3, std::time::Duration::from_secs(3600)));
    /// assert!(matches!(limit.key_kind(), KeyKind::Ip));
    /// ```
    pub const fn key_kind(&self) -> KeyKind {
        self.key
    }

    /// `10 requests per 60 s per client IP`: for documents and answers.
    ///
    /// ```
    /// # use secure_api::ratelimit::{Quota, RateLimit};
    /// let limit = RateLimit::new("exports", Quota::per(3, std::time::Duration::from_secs(3600)));
    /// assert_eq!(limit.describe(), "3 requests per 1 h per client IP");
    /// ```
    pub fn describe(&self) -> String {
        self.describe_with(self.quota)
    }

    pub(crate) fn describe_with(&self, quota: Quota) -> String {
        format!("{quota} {}", self.key.describe())
    }
}

/// Letters, digits, `_ - . :`; 1 to 64 of them: safe in a header's quoted string and
/// in a store key.
pub(crate) const fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() > 64 {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':')) {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_parse_from_configuration() {
        let minutes = |m: u64| Duration::from_secs(60 * m);
        assert_eq!("5/15m".parse(), Ok(Quota::per(5, minutes(15))));
        assert_eq!(" 20 / 1h ".parse(), Ok(Quota::per(20, minutes(60))));
        assert_eq!(
            "100/500ms".parse(),
            Ok(Quota::per(100, Duration::from_millis(500)))
        );
        assert_eq!("1/1d".parse(), Ok(Quota::per(1, minutes(1440))));
        for (bad, why) in [
            ("5", "no `/`"),
            ("0/1m", "the count is zero"),
            ("-1/1m", "the count is not a whole number"),
            ("5/0s", "the duration is zero"),
            ("5/15", "`` is not a unit"),
            ("5/15 minutes", "` minutes` is not a unit"),
            ("5/m", "`m` does not start with a whole number"),
        ] {
            let error = bad.parse::<Quota>().unwrap_err().to_string();
            assert!(error.contains(why), "{bad}: {error}");
            assert!(error.ends_with("write COUNT/DURATION, e.g. 5/15m or 100/60s"));
        }
    }

    #[test]
    fn descriptions_read_like_the_docs() {
        let secs = Duration::from_secs;
        let describe = |quota: Quota| quota.to_string();
        assert_eq!(describe(Quota::per(10, secs(60))), "10 requests per 60 s");
        assert_eq!(describe(Quota::per(1, secs(900))), "1 request per 15 min");
        assert_eq!(
            describe(Quota::per(1000, secs(86_400))),
            "1000 requests per 1 d"
        );
        assert_eq!(
            describe(Quota::per(5, Duration::from_millis(1500))),
            "5 requests per 1500 ms"
        );
        assert_eq!(
            describe(Quota::per(100, secs(60)).with_burst(10)),
            "100 requests per 60 s (bursts of 10)"
        );
        let limit = RateLimit::new("user", Quota::per(100, secs(60))).key(KeyKind::Subject);
        assert_eq!(
            limit.describe(),
            "100 requests per 60 s per token subject (per client IP without a valid token)"
        );
    }

    #[test]
    fn names_are_header_and_key_safe() {
        assert!(is_valid_name("login"));
        assert!(is_valid_name("api.v2:search-all_x"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("a b"));
        assert!(!is_valid_name("quote\""));
        assert!(!is_valid_name(&"x".repeat(65)));
    }
}
