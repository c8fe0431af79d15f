//! API versions and their lifecycle: `#[api_version(N)]` serves an operation under
//! `/api/vN/...`, and a version declared deprecated announces it on every response.
//!
//! ```
//! use secure_api::prelude::*;
//! use secure_api::poem_openapi::payload::PlainText;
//!
//! struct UsersApi;
//!
//! #[secure_api(
//!     version(1, deprecated = "2026-01-01", sunset = "2026-12-31T23:59:59Z",
//!             policy = "https://api.example.com/docs/deprecations/v1"),
//! )]
//! impl UsersApi {
//!     /// Users, as v1 had them
//!     #[oai(path = "/users", method = "get")]
//!     #[api_version(1)]
//!     async fn users_v1(&self) -> PlainText<&'static str> { PlainText("user1 user2") }
//!
//!     /// Users, with ids and roles
//!     #[oai(path = "/users", method = "get")]
//!     #[api_version(2)]
//!     async fn users_v2(&self) -> PlainText<&'static str> { PlainText("[...]") }
//!
//!     /// The same in both versions: one method, two operations
//!     #[oai(path = "/health", method = "get")]
//!     #[api_version(1, 2)]
//!     async fn health(&self) -> PlainText<&'static str> { PlainText("ok") }
//! }
//! ```
//!
//! # Paths and the document
//!
//! The version prefix is `/api/v{version}` unless the impl says otherwise
//! (`#[secure_api(version_prefix = "/v{version}")]`); it goes before the operation's
//! own path (and after poem-openapi's `prefix_path`). One OpenAPI document shows every
//! version: each operation is tagged `v1`, `v2`, ... (Swagger UI groups by tag), an
//! `operation_id` gets `_vN` appended so one id can be written on every version of an
//! endpoint, and an operation listed in several versions (`#[api_version(1, 2)]`)
//! becomes one operation per version (`health_v1`, `health_v2`). One document rather
//! than one per version: a client migrating from v1 to v2 sees both side by side, with
//! v1 marked deprecated.
//!
//! # Lifecycle
//!
//! `version(N, ...)` on the impl declares version N's lifecycle:
//!
//! - `deprecated = "2026-01-01"`: the version's operations are `deprecated: true` in
//!   the document, and every response (errors included) carries `Deprecation:
//!   @<unix seconds>` (RFC 9745);
//! - `sunset = "2026-12-31T23:59:59Z"`: `Sunset: <HTTP-date>` (RFC 8594); never
//!   earlier than the deprecation date;
//! - `policy = "https://..."`: `Link: <...>; rel="deprecation"; type="text/html"`;
//! - `gone_after_sunset`: past the sunset, the version's operations answer 410 Gone
//!   (before any other check, so an old version can no longer be used to get around
//!   the guards of the new one), by configuration, not by default.
//!
//! A deprecated operation whose path and method exist in a later version of the same
//! impl also links to it: `Link: </api/v2/users>; rel="successor-version"` (RFC 5829),
//! built from the request's own path, parameters included.
//!
//! Dates are `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SSZ`. Version 0, a
//! version listed twice, a date that does not parse, a sunset before the deprecation:
//! all compile errors.

use crate::{guard::OperationPolicy, problem::Problem};
use poem::{
    IntoResponse, Response,
    http::{HeaderName, HeaderValue, StatusCode, header},
};
use poem_openapi::registry::{MetaHeader, MetaResponses, MetaSchema, MetaSchemaRef};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One operation's version and that version's lifecycle, as `#[api_version]` and the
/// impl's `version(...)` declare them.
///
/// ```
/// use secure_api::version::VersionPolicy;
///
/// const V1: VersionPolicy = VersionPolicy::new(1, "/api/v1")
///     .deprecated_at(1_767_225_600)
///     .sunset_at(1_798_761_599)
///     .gone_after_sunset()
///     .successor("/api/v2");
/// assert!(V1.is_deprecated());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionPolicy {
    version: u32,
    prefix: &'static str,
    deprecated_at: Option<i64>,
    sunset_at: Option<i64>,
    gone_after_sunset: bool,
    successor: Option<&'static str>,
    policy_url: Option<&'static str>,
}

impl VersionPolicy {
    /// Version `version`, served under `prefix` (e.g. `/api/v2`), not deprecated.
    ///
    /// ```
    /// # use secure_api::version::VersionPolicy;
    /// const V2: VersionPolicy = VersionPolicy::new(2, "/api/v2");
    /// assert_eq!(V2.version(), 2);
    /// ```
    pub const fn new(version: u32, prefix: &'static str) -> Self {
        VersionPolicy {
            version,
            prefix,
            deprecated_at: None,
            sunset_at: None,
            gone_after_sunset: false,
            successor: None,
            policy_url: None,
        }
    }

    /// Deprecated since `unix` (seconds since 1970, UTC).
    ///
    /// ```
    /// # use secure_api::version::VersionPolicy;
    /// const V1: VersionPolicy = VersionPolicy::new(1, "/api/v1").deprecated_at(1_767_225_600);
    /// ```
    pub const fn deprecated_at(mut self, unix: i64) -> Self {
        self.deprecated_at = Some(unix);
        self
    }

    /// Expected to stop answering at `unix`.
    ///
    /// ```
    /// # use secure_api::version::VersionPolicy;
    /// const V1: VersionPolicy = VersionPolicy::new(1, "/api/v1").sunset_at(1_798_761_599);
    /// ```
    pub const fn sunset_at(mut self, unix: i64) -> Self {
        self.sunset_at = Some(unix);
        self
    }

    /// Answers 410 Gone once the sunset has passed.
    ///
    /// ```
    /// # use secure_api::version::VersionPolicy;
    /// const V1: VersionPolicy = VersionPolicy::new(1, "/api/v1").sunset_at(0).gone_after_sunset();
    /// ```
    pub const fn gone_after_sunset(mut self) -> Self {
        self.gone_after_sunset = true;
        self
    }

    /// The prefix of the version that replaces this operation (e.g. `/api/v2`).
    ///
    /// ```
    /// # use secure_api::version::VersionPolicy;
    /// const V1: VersionPolicy = VersionPolicy::new(1, "/api/v1").successor("/api/v2");
    /// ```
    pub const fn successor(mut self, prefix: &'static str) -> Self {
        self.successor = Some(prefix);
        self
    }

    /// The page that explains the deprecation.
    ///
    /// ```
    /// # use secure_api::version::VersionPolicy;
    /// const V1: VersionPolicy = VersionPolicy::new(1, "/api/v1").policy("https://example.com/v1");
    /// ```
    pub const fn policy(mut self, url: &'static str) -> Self {
        self.policy_url = Some(url);
        self
    }

    /// The version number.
    ///
    /// ```
    /// # use secure_api::version::VersionPolicy;
    /// assert_eq!(VersionPolicy::new(3, "/api/v3").version(), 3);
    /// ```
    pub const fn version(&self) -> u32 {
        self.version
    }

    /// Whether responses announce a deprecation or a sunset.
    ///
    /// ```
    /// # use secure_api::version::VersionPolicy;
    /// assert!(!VersionPolicy::new(2, "/api/v2").is_deprecated());
    /// ```
    pub const fn is_deprecated(&self) -> bool {
        self.deprecated_at.is_some() || self.sunset_at.is_some()
    }

    /// Whether the version answers 410 at `now`.
    ///
    /// ```
    /// # use secure_api::version::VersionPolicy;
    /// use std::time::SystemTime;
    /// let retired = VersionPolicy::new(1, "/api/v1").sunset_at(0).gone_after_sunset();
    /// assert!(retired.is_gone(SystemTime::now()));
    /// ```
    pub fn is_gone(&self, now: SystemTime) -> bool {
        let Some(sunset) = self.sunset_at else {
            return false;
        };
        self.gone_after_sunset && now >= system_time(sunset)
    }

    /// The 410 answer of a version past its sunset, with the lifecycle headers.
    ///
    /// ```
    /// # use secure_api::version::VersionPolicy;
    /// let retired = VersionPolicy::new(1, "/api/v1").sunset_at(0).gone_after_sunset();
    /// assert_eq!(retired.gone("/api/v1/users").status().as_u16(), 410);
    /// ```
    pub fn gone(&self, path: &str) -> Response {
        let mut response = Problem::new(StatusCode::GONE)
            .detail(format!(
                "version {} of this API has been retired",
                self.version
            ))
            .into_response();
        self.decorate(path, &mut response);
        response
    }

    /// Adds `Deprecation`, `Sunset` and `Link` to a response to `path` (the request's
    /// original path), when the version announces any.
    ///
    /// ```
    /// # use secure_api::version::VersionPolicy;
    /// use secure_api::poem::Response;
    /// let v1 = VersionPolicy::new(1, "/api/v1").deprecated_at(1_688_169_599).successor("/api/v2");
    /// let mut response = Response::default();
    /// v1.decorate("/api/v1/users/7", &mut response);
    /// assert_eq!(response.headers()["deprecation"], "@1688169599");
    /// assert_eq!(response.headers()["link"], "</api/v2/users/7>; rel=\"successor-version\"");
    /// ```
    pub fn decorate(&self, path: &str, response: &mut Response) {
        if !self.is_deprecated() {
            return;
        }
        let headers = response.headers_mut();
        if let Some(at) = self.deprecated_at
            && let Ok(value) = HeaderValue::from_str(&format!("@{at}"))
        {
            headers.insert(HeaderName::from_static("deprecation"), value);
        }
        if let Some(at) = self.sunset_at
            && let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(system_time(at)))
        {
            headers.insert(HeaderName::from_static("sunset"), value);
        }
        if let Some(successor) = self.successor
            && let Some(rest) = strip_prefix_segment(path, self.prefix)
            && let Ok(value) =
                HeaderValue::from_str(&format!("<{successor}{rest}>; rel=\"successor-version\""))
        {
            headers.append(header::LINK, value);
        }
        if let Some(url) = self.policy_url
            && let Ok(value) =
                HeaderValue::from_str(&format!("<{url}>; rel=\"deprecation\"; type=\"text/html\""))
        {
            headers.append(header::LINK, value);
        }
    }
}

/// What follows `prefix` in `path`, where `prefix` ends at a segment boundary
/// (`/api/v1` in `/svc/api/v1/users` gives `/users`).
fn strip_prefix_segment<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(found) = path[from..].find(prefix) {
        let start = from + found;
        let rest = &path[start + prefix.len()..];
        // The prefix starts with `/`, so it starts at a segment; it must end at one.
        if rest.is_empty() || rest.starts_with('/') {
            return Some(rest);
        }
        from = start + 1;
    }
    None
}

fn system_time(unix: i64) -> SystemTime {
    match u64::try_from(unix) {
        Ok(seconds) => UNIX_EPOCH + Duration::from_secs(seconds),
        Err(_) => UNIX_EPOCH,
    }
}

/// Adds to an operation's documented responses what its version's lifecycle adds:
/// the lifecycle headers on every response, and 410 when it can answer it.
pub(crate) fn document<P: OperationPolicy>(meta: &mut MetaResponses) {
    let Some(version) = P::VERSION else {
        return;
    };
    if !version.is_deprecated() {
        return;
    }
    if version.gone_after_sunset && !meta.responses.iter().any(|r| r.status == Some(410)) {
        meta.responses.push(crate::response::problem_response(
            410,
            "This API version is past its sunset and has been retired",
            false,
        ));
    }
    let header = |name: &str, description: &str| MetaHeader {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        required: true,
        deprecated: false,
        schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
    };
    let mut headers: Vec<(&str, &str)> = Vec::new();
    if version.deprecated_at.is_some() {
        headers.push((
            "Deprecation",
            "When this version was deprecated (RFC 9745), e.g. `@1767225600`",
        ));
    }
    if version.sunset_at.is_some() {
        headers.push((
            "Sunset",
            "When this version stops answering (RFC 8594), an HTTP-date",
        ));
    }
    if version.successor.is_some() || version.policy_url.is_some() {
        headers.push((
            "Link",
            "The successor (`rel=\"successor-version\"`) and the deprecation policy \
             (`rel=\"deprecation\"`)",
        ));
    }
    for response in &mut meta.responses {
        for (name, description) in &headers {
            if !response.headers.iter().any(|h| h.name == *name) {
                response.headers.push(header(name, description));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_successor_keeps_the_rest_of_the_path() {
        assert_eq!(
            strip_prefix_segment("/api/v1/users", "/api/v1"),
            Some("/users")
        );
        assert_eq!(strip_prefix_segment("/api/v1", "/api/v1"), Some(""));
        assert_eq!(
            strip_prefix_segment("/svc/api/v1/users/7", "/api/v1"),
            Some("/users/7")
        );
        assert_eq!(strip_prefix_segment("/api/v10/users", "/api/v1"), None);
        assert_eq!(strip_prefix_segment("/other", "/api/v1"), None);
    }

    #[test]
    fn sunset_is_an_http_date() {
        let v1 = VersionPolicy::new(1, "/api/v1")
            .deprecated_at(1_688_169_599)
            .sunset_at(1_798_761_599)
            .policy("https://example.com/v1");
        let mut response = Response::default();
        v1.decorate("/api/v1/users", &mut response);
        assert_eq!(response.headers()["deprecation"], "@1688169599");
        assert_eq!(
            response.headers()["sunset"],
            "Thu, 31 Dec 2026 23:59:59 GMT"
        );
        let links: Vec<_> = response.headers().get_all("link").iter().collect();
        assert_eq!(
            links,
            ["<https://example.com/v1>; rel=\"deprecation\"; type=\"text/html\""]
        );
        assert!(
            !v1.is_gone(SystemTime::now()),
            "not gone without gone_after_sunset"
        );
    }

    #[test]
    fn a_current_version_adds_nothing() {
        let mut response = Response::default();
        VersionPolicy::new(2, "/api/v2")
            .successor("/api/v3")
            .decorate("/api/v2/users", &mut response);
        assert!(response.headers().is_empty());
    }
}
