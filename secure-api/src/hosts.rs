//! Trusted hosts: a request whose `Host` is not one the service answers to gets 400
//! before any handler runs (host-header injection: poisoned password-reset links,
//! cache poisoning, routing to the wrong virtual host).
//!
//! Patterns are exact names (`api.example.com`, `localhost`, `127.0.0.1`, `[::1]`) or
//! one leading wildcard label (`*.example.com`, which matches `a.example.com` and
//! `a.b.example.com`, not `example.com` itself). Names compare without regard to case;
//! the port is ignored. The request's host is read from its one `Host` header, or from
//! the request target's authority (HTTP/2 `:authority`, or an absolute-form target);
//! when both are present they must agree. `X-Forwarded-Host` is never read.
//!
//! Refused (400, RFC 9112 §3.2): no host at all, two `Host` headers, a host that is not
//! a valid name or IP literal (`allowed.com:evil`, an empty port), one that differs
//! from the target's authority, and any host not in the list (`allowed.com.` with its
//! trailing dot included). The answer never echoes the host.

use crate::problem::Problem;
use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response,
    http::{StatusCode, header},
};
use std::{fmt, sync::Arc};

/// The hosts a service answers to.
///
/// ```
/// use secure_api::hosts::TrustedHosts;
/// use secure_api::poem::{self, EndpointExt, Route, handler};
///
/// #[handler]
/// fn hello() -> &'static str { "hello" }
///
/// let hosts = TrustedHosts::new(["localhost", "api.example.com", "*.example.com"]).unwrap();
/// assert!(hosts.allows("eu.api.example.com:8443"));
/// assert!(!hosts.allows("example.com.evil.net"));
/// let app = Route::new().at("/hello", hello).with(hosts);
/// ```
#[derive(Clone)]
pub struct TrustedHosts {
    patterns: Arc<[Pattern]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact(String),
    /// `*.example.com`, kept as `.example.com`.
    Suffix(String),
}

impl fmt::Debug for TrustedHosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let patterns: Vec<String> = self
            .patterns
            .iter()
            .map(|pattern| match pattern {
                Pattern::Exact(name) => name.clone(),
                Pattern::Suffix(suffix) => format!("*{suffix}"),
            })
            .collect();
        f.debug_tuple("TrustedHosts").field(&patterns).finish()
    }
}

impl TrustedHosts {
    /// The hosts in `patterns`; a pattern that is not a host name, an IP address or
    /// `*.` followed by a name with at least two labels is refused, named.
    ///
    /// ```
    /// # use secure_api::hosts::TrustedHosts;
    /// assert!(TrustedHosts::new(["*.example.com", "[::1]"]).is_ok());
    /// let error = TrustedHosts::new(["*"]).unwrap_err();
    /// assert!(error.to_string().contains("`*`"));
    /// ```
    pub fn new<I, S>(patterns: I) -> Result<Self, HostPatternError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut parsed = Vec::new();
        for pattern in patterns {
            let pattern = pattern.as_ref();
            parsed.push(parse_pattern(pattern).map_err(|why| HostPatternError {
                pattern: pattern.to_owned(),
                why,
            })?);
        }
        if parsed.is_empty() {
            return Err(HostPatternError {
                pattern: String::new(),
                why: "no host is allowed: list at least one",
            });
        }
        Ok(TrustedHosts {
            patterns: parsed.into(),
        })
    }

    /// Whether a `Host` value (`name[:port]`) is allowed.
    ///
    /// ```
    /// # use secure_api::hosts::TrustedHosts;
    /// let hosts = TrustedHosts::new(["localhost"]).unwrap();
    /// assert!(hosts.allows("LOCALHOST:3000"));
    /// assert!(!hosts.allows("localhost:evil"));
    /// ```
    pub fn allows(&self, host: &str) -> bool {
        match split_host(host) {
            Some(name) => self.allows_name(&name),
            None => false,
        }
    }

    fn allows_name(&self, name: &str) -> bool {
        self.patterns.iter().any(|pattern| match pattern {
            Pattern::Exact(exact) => exact == name,
            Pattern::Suffix(suffix) => name.len() > suffix.len() && name.ends_with(suffix.as_str()),
        })
    }

    /// Checks a request: `Ok` when its host is allowed, otherwise the 400 to answer.
    ///
    /// ```
    /// # use secure_api::hosts::TrustedHosts;
    /// use secure_api::poem::Request;
    ///
    /// let hosts = TrustedHosts::new(["api.example.com"]).unwrap();
    /// let request = Request::builder().header("host", "evil.example.net").finish();
    /// assert_eq!(hosts.check(&request).unwrap_err().status().as_u16(), 400);
    /// ```
    #[inline]
    pub fn check(&self, request: &Request) -> Result<(), Problem> {
        // The common case, admitted without allocating: one Host header naming an
        // allowed host, and no other host in the request target. Every other request
        // is judged out of line, so a refusal names exactly what is wrong.
        if let Some(name) = plain_request_host(request)
            && self.allows_name_ignoring_case(name)
        {
            return Ok(());
        }
        self.judge(request)
    }

    #[cold]
    #[inline(never)]
    fn judge(&self, request: &Request) -> Result<(), Problem> {
        match request_host(request) {
            Ok(name) if self.allows_name(&name) => Ok(()),
            Ok(_) => Err(refusal(
                "the Host header names a host this service does not answer to",
            )),
            Err(why) => Err(refusal(why)),
        }
    }
}

impl TrustedHosts {
    /// [`Self::allows_name`] for a name in any case (patterns are lower case), not yet
    /// known to be a valid host name.
    fn allows_name_ignoring_case(&self, name: &str) -> bool {
        self.patterns.iter().any(|pattern| match pattern {
            // Equal to a configured name, so as valid as it is: no need to check.
            Pattern::Exact(exact) => exact.eq_ignore_ascii_case(name),
            // Only the end is known; the labels before it must be checked.
            Pattern::Suffix(suffix) => {
                name.len() > suffix.len()
                    && name.as_bytes()[name.len() - suffix.len()..]
                        .eq_ignore_ascii_case(suffix.as_bytes())
                    && is_host_name(name)
            }
        })
    }
}

/// The name of a request with one `Host` header, `name[:port]` (the name not yet
/// checked: no IPv6 literal), and no authority in its target; `None` for every other
/// request, which [`request_host`] then judges.
fn plain_request_host(request: &Request) -> Option<&str> {
    if request.uri().authority().is_some() {
        return None;
    }
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let (Some(host), None) = (hosts.next(), hosts.next()) else {
        return None;
    };
    let host = host.to_str().ok()?;
    let (name, port) = match host.bytes().rposition(|b| b == b':') {
        Some(colon) => (&host[..colon], Some(&host[colon + 1..])),
        None => (host, None),
    };
    is_port(port).then_some(name)
}

/// No port, or 1 to 5 digits.
fn is_port(port: Option<&str>) -> bool {
    port.is_none_or(|port| {
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
    })
}

fn refusal(why: &'static str) -> Problem {
    tracing::info!(reason = why, "request refused: untrusted host");
    Problem::new(StatusCode::BAD_REQUEST).detail(why)
}

/// The request's host name, lower-cased, without port.
fn request_host(request: &Request) -> Result<String, &'static str> {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let header_host = hosts.next();
    if hosts.next().is_some() {
        return Err("more than one Host header");
    }
    let header_name = match header_host {
        Some(value) => {
            let value = value.to_str().map_err(|_| "the Host header is not valid")?;
            Some(split_host(value).ok_or("the Host header is not valid")?)
        }
        None => None,
    };
    let authority_name = match request.uri().authority() {
        Some(authority) => {
            Some(split_host(authority.as_str()).ok_or("the request target's host is not valid")?)
        }
        None => None,
    };
    match (header_name, authority_name) {
        (Some(header), Some(authority)) if header != authority => {
            Err("the Host header and the request target name different hosts")
        }
        (Some(name), _) | (None, Some(name)) => Ok(name),
        (None, None) => Err("the request has no Host header"),
    }
}

/// `name[:port]` → lower-cased name (IPv6 literals in their canonical form, in
/// brackets); `None` when it is not a valid host.
fn split_host(host: &str) -> Option<String> {
    split_host_port(host).map(|(name, _)| name)
}

fn split_host_port(host: &str) -> Option<(String, Option<&str>)> {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let end = rest.find(']')?;
        let literal: std::net::Ipv6Addr = rest[..end].parse().ok()?;
        let port = match &rest[end + 1..] {
            "" => None,
            tail => Some(tail.strip_prefix(':')?),
        };
        (format!("[{literal}]"), port)
    } else {
        let (name, port) = match host.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        };
        if !is_host_name(name) {
            return None;
        }
        (name.to_ascii_lowercase(), port)
    };
    is_port(port).then_some((name, port))
}

/// Letters, digits, `-`, `_` and dots (which covers IPv4 literals), labels non-empty
/// except for one trailing dot.
fn is_host_name(name: &str) -> bool {
    let labels = name.strip_suffix('.').unwrap_or(name);
    if labels.is_empty() || name.len() > 254 {
        return false;
    }
    // One pass over the bytes: it runs on every request.
    let mut label_len = 0;
    for &b in labels.as_bytes() {
        if b == b'.' {
            if label_len == 0 {
                return false;
            }
            label_len = 0;
        } else if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            label_len += 1;
            if label_len > 63 {
                return false;
            }
        } else {
            return false;
        }
    }
    label_len > 0
}

fn parse_pattern(pattern: &str) -> Result<Pattern, &'static str> {
    if pattern.contains("://") || pattern.contains('/') {
        return Err("write the host alone, without scheme or path");
    }
    if let Some(rest) = pattern.strip_prefix("*.") {
        if !is_host_name(rest) || rest.ends_with('.') {
            return Err("after `*.` comes a host name, e.g. `*.example.com`");
        }
        if !rest.contains('.') {
            return Err(
                "a wildcard covers the subdomains of a name with at least two labels, \
                        e.g. `*.example.com`, not a whole top-level domain",
            );
        }
        return Ok(Pattern::Suffix(format!(".{}", rest.to_ascii_lowercase())));
    }
    if pattern.contains('*') {
        return Err(
            "a wildcard is only allowed as the whole first label, as in \
                    `*.example.com`; to allow every host, do not use TrustedHosts",
        );
    }
    if let Ok(ipv6) = pattern.parse::<std::net::Ipv6Addr>() {
        return Ok(Pattern::Exact(format!("[{ipv6}]")));
    }
    match split_host_port(pattern) {
        Some((_, Some(_))) => {
            Err("ports are ignored when hosts are compared: write the host without one")
        }
        Some((name, None)) => Ok(Pattern::Exact(name)),
        None => Err("not a host name or an IP address"),
    }
}

/// A host pattern that cannot be used.
#[derive(Debug, Clone)]
pub struct HostPatternError {
    pattern: String,
    why: &'static str,
}

impl fmt::Display for HostPatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pattern.is_empty() {
            return write!(f, "trusted hosts: {}", self.why);
        }
        write!(f, "trusted host `{}`: {}", self.pattern, self.why)
    }
}

impl std::error::Error for HostPatternError {}

impl<E: Endpoint> Middleware<E> for TrustedHosts {
    type Output = TrustedHostsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        TrustedHostsEndpoint {
            inner,
            hosts: self.clone(),
        }
    }
}

/// An endpoint behind [`TrustedHosts`].
pub struct TrustedHostsEndpoint<E> {
    inner: E,
    hosts: TrustedHosts,
}

impl<E: Endpoint> Endpoint for TrustedHostsEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if let Err(problem) = self.hosts.check(&request) {
            return Ok(problem.into_response());
        }
        self.inner
            .call(request)
            .await
            .map(IntoResponse::into_response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> TrustedHosts {
        TrustedHosts::new([
            "localhost",
            "127.0.0.1",
            "api.example.com",
            "*.example.com",
            "::1",
        ])
        .unwrap()
    }

    #[test]
    fn exact_names_and_wildcards_ports_ignored() {
        let hosts = hosts();
        for allowed in [
            "localhost",
            "localhost:3000",
            "LocalHost",
            "127.0.0.1:8443",
            "api.example.com",
            "a.example.com",
            "a.b.example.com:443",
            "[::1]:3000",
            "[0:0:0:0:0:0:0:1]",
        ] {
            assert!(hosts.allows(allowed), "{allowed}");
        }
        for refused in [
            "example.com",
            "evil.com",
            "example.com.evil.com",
            "evilexample.com",
            "a.example.com.",
            "localhost.",
            "localhost:evil",
            "localhost:",
            "localhost:123456",
            "local host",
            "",
            "[::2]",
            "[::1",
            "127.0.0.2",
            "a.example.com@evil.com",
        ] {
            assert!(!hosts.allows(refused), "{refused:?}");
        }
    }

    #[test]
    fn patterns_are_checked_when_configured() {
        for (bad, says) in [
            ("*", "only allowed as the whole first label"),
            ("*.com", "at least two labels"),
            ("a.*.com", "only allowed as the whole first label"),
            ("https://api.example.com", "without scheme"),
            ("localhost:3000", "ports are ignored"),
            ("[::1]:3000", "ports are ignored"),
            ("bad host", "not a host name"),
        ] {
            let error = TrustedHosts::new([bad]).unwrap_err().to_string();
            assert!(error.contains(says), "{bad}: {error}");
            assert!(error.contains(&format!("`{bad}`")), "{error}");
        }
        assert!(TrustedHosts::new(Vec::<String>::new()).is_err());
    }

    #[test]
    fn the_host_header_and_the_target_must_agree() {
        let hosts = hosts();
        let request = |host: Option<&str>, uri: &str| {
            let mut builder = Request::builder().uri(uri.parse().unwrap());
            if let Some(host) = host {
                builder = builder.header("host", host);
            }
            builder.finish()
        };
        assert!(hosts.check(&request(Some("localhost:3000"), "/x")).is_ok());
        assert!(hosts.check(&request(None, "http://localhost/x")).is_ok());
        assert!(hosts.check(&request(None, "/x")).is_err());
        assert!(
            hosts
                .check(&request(Some("localhost"), "http://evil.com/x"))
                .is_err()
        );
        let two = Request::builder()
            .header("host", "localhost")
            .header("host", "evil.com")
            .finish();
        assert!(hosts.check(&two).is_err());
    }
}
