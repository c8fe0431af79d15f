//! Rate limits: one algorithm (GCRA), a store in memory or in Redis, limits keyed by
//! client IP, token subject, API key or a function of yours, and answers that say so
//! on the wire and in the OpenAPI document.
//!
//! # Declaring limits
//!
//! ```
//! use secure_api::prelude::*;
//! use secure_api::poem_openapi::payload::PlainText;
//! use secure_api::ratelimit::{KeyKind, Quota, RateLimit};
//! use std::time::Duration;
//!
//! /// Declared once, shared by every operation that names it.
//! pub const SEARCH: RateLimit =
//!     RateLimit::new("search", Quota::per(30, Duration::from_secs(60))).key(KeyKind::Subject);
//!
//! struct Api;
//!
//! #[secure_api]
//! impl Api {
//!     /// 10 per minute AND 1000 per day, per client IP
//!     #[oai(path = "/report", method = "post")]
//!     #[rate_limit(10, per = "60s")]
//!     #[rate_limit(1000, per = "1d", name = "report-daily")]
//!     async fn report(&self) -> PlainText<&'static str> { PlainText("queued") }
//!
//!     /// Per token subject (per client IP without a valid token)
//!     #[oai(path = "/search", method = "get")]
//!     #[rate_limit(SEARCH)]
//!     async fn search(&self) -> PlainText<&'static str> { PlainText("found") }
//! }
//! ```
//!
//! `#[rate_limit(COUNT, per = "DURATION")]` takes `key = ip | subject | api_key |
//! path::to::fn` (default `ip`), `burst = N` (default `COUNT`) and `name = "..."`.
//! A limit without a name counts for its operation alone and is named after it; limits
//! with the same name share one budget. Durations are `ms`, `s`, `m`, `h` or `d`.
//!
//! # What a request goes through
//!
//! Limits keyed by client IP run before authentication (a flood costs no token
//! verification); the others right after it; all of them before the body is read
//! (see [the order of checks](crate::guard)). A request is admitted only if every
//! limit of its operation admits it, and **a request refused by a limit consumes from
//! none of them**: the store checks all, then charges all or nothing. When an
//! operation has both kinds, the IP limits are only checked before authentication,
//! and charged with the others after it (or alone, if authentication refuses the
//! request: a flood of bad tokens still counts).
//!
//! Every answer of a limited operation, errors included, carries the IETF draft's
//! fields: `RateLimit-Policy` lists every limit of the operation, `RateLimit` the state
//! of the one closest to refusing ([`HeaderStyle`] switches to the older
//! `RateLimit-Limit`/`-Remaining`/`-Reset`, or off). A refusal is `429` problem+json
//! with `Retry-After` in whole seconds, at least 1. The OpenAPI document lists the 429
//! and states the limits.
//!
//! # The runtime
//!
//! A [`Limiter`] in the request data (`.data(limiter)`) chooses the store at start-up
//! ([`MemoryStore`] by default; `RedisStore` with the `redis` feature, shared by every
//! replica), the [`FailureMode`] when the store fails, the [`TrustedProxies`] whose
//! `X-Forwarded-For` / `Forwarded` is believed, and overrides of any limit by name
//! ([`LimiterBuilder::override_limit`]): ops can loosen a limit during an incident
//! without a rebuild. [`LoginThrottle`] throttles failed logins on the same store.

mod client_ip;
mod gcra;
mod headers;
mod limiter;
mod login;
mod policy;
mod store;

pub use client_ip::{ForwardedHeader, IpNet, TrustedProxies};
pub use gcra::{Acquire, Clock, Decision, FakeClock, Gcra, MonotonicClock};
pub use limiter::{
    CheckOutcome, FailureMode, HeaderStyle, Limiter, LimiterBuilder, LimiterStats, parse_overrides,
};
pub use login::{DEFAULT_TARPIT, LoginAttempt, LoginThrottle, LoginThrottled, MAX_TARPIT};
pub use policy::{KeyFn, KeyKind, Quota, QuotaParseError, RateLimit, parse_duration};
pub use store::{Check, CheckFuture, LimitStore, MemoryStore, MemoryStoreStats, Op, StoreError};
#[cfg(feature = "redis")]
pub use store::{RedisStore, RedisStoreBuilder};

pub(crate) use client_ip::IpKey;
pub(crate) use headers::{
    LimitState, decorate, document, refusal_detail, too_many_requests, whole_seconds,
};
pub(crate) use limiter::{Answer, limiter_of};

/// The identity of a verified API key (its owner or key id, never the secret), which
/// the API-key guard puts in the request's extensions when the operation has rate
/// limits: `key = api_key` limits count per it, and per client IP when a request has
/// none. A handler reads the key's identity from `ApiKeyIdentity` instead.
///
/// ```
/// use secure_api::ratelimit::ApiKeyId;
/// use secure_api::poem::Request;
///
/// let mut request = Request::default();
/// request.extensions_mut().insert(ApiKeyId("service1".to_owned()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyId(pub String);
