//! The service-wide protections the flagship gets from `secure_api::App`, written by
//! hand in one endpoint: the trusted-host check, CORS for the one allowed origin, and
//! the same nine security headers with the same values (`Server` and
//! `X-Powered-By` removed). Every value
//! is a static `HeaderValue`; nothing is allocated on the way through.

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
};

/// The contract's hosts: exact names, and the subdomains of `example.com`.
const EXACT_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "api.example.com"];
const HOST_SUFFIX: &str = ".example.com";
const FRONTEND_ORIGIN: &str = "https://frontend.example.com";

const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), \
     display-capture=(), encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), \
     magnetometer=(), microphone=(), midi=(), payment=(), picture-in-picture=(), \
     publickey-credentials-get=(), screen-wake-lock=(), sync-xhr=(), usb=(), \
     xr-spatial-tracking=()";

/// The flagship's default security headers, value for value.
const SECURITY_HEADERS: [(HeaderName, HeaderValue); 9] = [
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=63072000; includeSubDomains"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
    (
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(PERMISSIONS_POLICY),
    ),
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    ),
    (
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ),
];

const EXPOSE_HEADERS: &str = "www-authenticate, retry-after, ratelimit, ratelimit-policy, \
     ratelimit-limit, ratelimit-remaining, ratelimit-reset, deprecation, sunset, link";

/// `inner` behind the host check, CORS and the security headers.
pub struct Protected<E> {
    pub inner: E,
}

impl<E: Endpoint> Endpoint for Protected<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let mut response = if !host_allowed(&request) {
            problem_400()
        } else if let Some(answer) = preflight(&request) {
            answer
        } else {
            let origin_allowed = request
                .headers()
                .get(header::ORIGIN)
                .is_some_and(|origin| origin.as_bytes() == FRONTEND_ORIGIN.as_bytes());
            let mut response = self.inner.get_response(request).await;
            let headers = response.headers_mut();
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
            if origin_allowed {
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static(FRONTEND_ORIGIN),
                );
                headers.insert(
                    header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static(EXPOSE_HEADERS),
                );
            }
            response
        };
        let headers = response.headers_mut();
        headers.remove(header::SERVER);
        headers.remove("x-powered-by");
        for (name, value) in SECURITY_HEADERS {
            // A handler's own header (e.g. its Cache-Control) is kept.
            if let header::Entry::Vacant(entry) = headers.entry(name) {
                entry.insert(value);
            }
        }
        Ok(response)
    }
}

/// One `Host` header naming a trusted host (any port).
fn host_allowed(request: &Request) -> bool {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let (Some(host), None) = (hosts.next(), hosts.next()) else {
        return false;
    };
    let Ok(host) = host.to_str() else {
        return false;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        Some(_) => return false,
        None => host,
    };
    EXACT_HOSTS.iter().any(|h| h.eq_ignore_ascii_case(name))
        || (name.len() > HOST_SUFFIX.len()
            && name.is_char_boundary(name.len() - HOST_SUFFIX.len())
            && name[name.len() - HOST_SUFFIX.len()..].eq_ignore_ascii_case(HOST_SUFFIX))
}

fn problem_400() -> Response {
    Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .content_type("application/problem+json")
        .body(r#"{"type":"about:blank","title":"Bad Request","status":400,"detail":"untrusted host"}"#)
}

/// The answer to a CORS preflight, or `None` when `request` is not one.
fn preflight(request: &Request) -> Option<Response> {
    if request.method() != Method::OPTIONS {
        return None;
    }
    let origin = request.headers().get(header::ORIGIN)?;
    let method = request
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)?;
    let method_allowed = matches!(
        method.as_bytes(),
        b"GET" | b"HEAD" | b"POST" | b"PUT" | b"PATCH" | b"DELETE"
    );
    let headers_allowed = request
        .headers()
        .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .iter()
        .all(|value| {
            value.to_str().is_ok_and(|list| {
                list.split(',').map(str::trim).all(|name| {
                    name.is_empty()
                        || name.eq_ignore_ascii_case("authorization")
                        || name.eq_ignore_ascii_case("content-type")
                })
            })
        });
    let vary = HeaderValue::from_static(
        "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    );
    if origin.as_bytes() != FRONTEND_ORIGIN.as_bytes() || !method_allowed || !headers_allowed {
        let mut refused = Response::builder()
            .status(StatusCode::FORBIDDEN)
            .content_type("application/problem+json")
            .body(r#"{"type":"about:blank","title":"Forbidden","status":403}"#);
        refused.headers_mut().insert(header::VARY, vary);
        return Some(refused);
    }
    Some(
        StatusCode::NO_CONTENT
            .with_header(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone())
            .with_header(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, HEAD, POST, PUT, PATCH, DELETE"),
            )
            .with_header(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("authorization, content-type"),
            )
            .with_header(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            )
            .with_header(header::VARY, vary)
            .into_response(),
    )
}
