//! CORS with an exact allow-list of origins.
//!
//! - An allowed origin's requests get `Access-Control-Allow-Origin: <that origin>` (never
//!   `*`), and its preflights the allowed methods and headers (`Authorization` and
//!   `Content-Type` by default) and a `Max-Age`.
//! - Any other origin gets no CORS header at all, so the browser keeps the answer from
//!   the page; its preflight is refused with 403. Origins compare exactly (scheme, host
//!   and port): `https://frontend.example.com.evil.net`, `http://frontend.example.com`
//!   and `null` are other origins.
//! - A preflight asking for a method or a header outside the lists is refused, even
//!   from an allowed origin: every requested header must be allowed, not just one.
//! - `Vary: Origin` is on every response, since the answer depends on the origin.
//!
//! poem's own `Cors` answers a disallowed origin's every request with 403, accepts a
//! preflight when any one of the requested headers is allowed, and sends `Vary` only
//! for pattern matches: hence this one.

use crate::problem::Problem;
use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response,
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
};
use std::{fmt, sync::Arc};

/// The CORS policy of a service.
///
/// ```
/// use secure_api::cors::CorsPolicy;
/// use secure_api::poem::{self, EndpointExt, Route, handler};
///
/// #[handler]
/// fn hello() -> &'static str { "hello" }
///
/// let cors = CorsPolicy::new(["https://frontend.example.com"]).unwrap();
/// let app = Route::new().at("/hello", hello).with(cors);
/// ```
#[derive(Clone)]
pub struct CorsPolicy {
    inner: Arc<Inner>,
}

/// The policy as configured.
#[derive(Debug, Clone)]
struct Settings {
    origins: Vec<String>,
    methods: Vec<Method>,
    headers: Vec<HeaderName>,
    expose: Vec<HeaderName>,
    credentials: bool,
    max_age_seconds: u32,
}

/// The settings and the header values made from them once.
#[derive(Debug)]
struct Inner {
    settings: Settings,
    allow_methods_value: HeaderValue,
    allow_headers_value: HeaderValue,
    expose_value: Option<HeaderValue>,
}

impl fmt::Debug for CorsPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CorsPolicy")
            .field("origins", &self.inner.settings.origins)
            .field("methods", &self.inner.settings.methods)
            .field("headers", &self.inner.settings.headers)
            .field("credentials", &self.inner.settings.credentials)
            .finish_non_exhaustive()
    }
}

/// The defaults: the methods of a JSON API, the two headers its clients send.
const DEFAULT_METHODS: [Method; 6] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];
const DEFAULT_HEADERS: [HeaderName; 2] = [header::AUTHORIZATION, header::CONTENT_TYPE];
/// Response headers a page may read besides the CORS-safelisted ones: the guards'
/// challenges, rate-limit state and version lifecycle.
const DEFAULT_EXPOSE: [&str; 10] = [
    "www-authenticate",
    "retry-after",
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "deprecation",
    "sunset",
    "link",
];

impl CorsPolicy {
    /// Allows `origins` (each `scheme://host[:port]`, exactly as a browser sends it),
    /// with the default methods (GET, HEAD, POST, PUT, PATCH, DELETE), request headers
    /// (`Authorization`, `Content-Type`), no credentials and a 10-minute `Max-Age`.
    ///
    /// ```
    /// # use secure_api::cors::CorsPolicy;
    /// assert!(CorsPolicy::new(["https://app.example.com", "http://localhost:5173"]).is_ok());
    /// assert!(CorsPolicy::new(["*"]).is_err());
    /// assert!(CorsPolicy::new(["https://app.example.com/"]).is_err());
    /// ```
    pub fn new<I, S>(origins: I) -> Result<Self, CorsConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut parsed = Vec::new();
        for origin in origins {
            let origin = origin.as_ref();
            let checked = check_origin(origin).map_err(|why| CorsConfigError {
                problem: format!("origin `{origin}`: {why}"),
            })?;
            parsed.push(checked);
        }
        if parsed.is_empty() {
            return Err(CorsConfigError {
                problem: "no origin is allowed: list at least one, or do not enable CORS"
                    .to_owned(),
            });
        }
        Ok(Self::build(Settings {
            origins: parsed,
            methods: DEFAULT_METHODS.to_vec(),
            headers: DEFAULT_HEADERS.to_vec(),
            expose: DEFAULT_EXPOSE
                .iter()
                .map(|name| HeaderName::from_static(name))
                .collect(),
            credentials: false,
            max_age_seconds: 600,
        }))
    }

    fn build(settings: Settings) -> Self {
        let join = |items: Vec<&str>| {
            HeaderValue::from_str(&items.join(", ")).expect("tokens are valid header values")
        };
        let allow_methods_value = join(settings.methods.iter().map(Method::as_str).collect());
        let allow_headers_value = join(settings.headers.iter().map(HeaderName::as_str).collect());
        let expose_value = (!settings.expose.is_empty())
            .then(|| join(settings.expose.iter().map(HeaderName::as_str).collect()));
        CorsPolicy {
            inner: Arc::new(Inner {
                settings,
                allow_methods_value,
                allow_headers_value,
                expose_value,
            }),
        }
    }

    fn rebuild(&self, change: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = self.inner.settings.clone();
        change(&mut settings);
        Self::build(settings)
    }

    /// Replaces the allowed methods.
    ///
    /// ```
    /// # use secure_api::cors::CorsPolicy;
    /// use secure_api::poem::http::Method;
    /// let cors = CorsPolicy::new(["https://a.example"]).unwrap().allow_methods([Method::GET]);
    /// ```
    pub fn allow_methods(self, methods: impl IntoIterator<Item = Method>) -> Self {
        self.rebuild(|inner| inner.methods = methods.into_iter().collect())
    }

    /// Replaces the allowed request headers.
    ///
    /// ```
    /// # use secure_api::cors::CorsPolicy;
    /// use secure_api::poem::http::{HeaderName, header};
    /// let cors = CorsPolicy::new(["https://a.example"])
    ///     .unwrap()
    ///     .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("x-api-key")]);
    /// ```
    pub fn allow_headers(self, headers: impl IntoIterator<Item = HeaderName>) -> Self {
        self.rebuild(|inner| inner.headers = headers.into_iter().collect())
    }

    /// Replaces the response headers a page may read (`Access-Control-Expose-Headers`).
    ///
    /// ```
    /// # use secure_api::cors::CorsPolicy;
    /// use secure_api::poem::http::header;
    /// let cors = CorsPolicy::new(["https://a.example"]).unwrap().expose_headers([header::ETAG]);
    /// ```
    pub fn expose_headers(self, headers: impl IntoIterator<Item = HeaderName>) -> Self {
        self.rebuild(|inner| inner.expose = headers.into_iter().collect())
    }

    /// Lets pages send cookies and HTTP authentication
    /// (`Access-Control-Allow-Credentials: true`); off by default.
    ///
    /// ```
    /// # use secure_api::cors::CorsPolicy;
    /// let cors = CorsPolicy::new(["https://a.example"]).unwrap().allow_credentials(true);
    /// ```
    pub fn allow_credentials(self, allow: bool) -> Self {
        self.rebuild(|inner| inner.credentials = allow)
    }

    /// How long a browser may cache a preflight's answer (browsers cap it: Chromium at
    /// 2 hours, Firefox at 24).
    ///
    /// ```
    /// # use secure_api::cors::CorsPolicy;
    /// let cors = CorsPolicy::new(["https://a.example"]).unwrap().max_age_seconds(3600);
    /// ```
    pub fn max_age_seconds(self, seconds: u32) -> Self {
        self.rebuild(|inner| inner.max_age_seconds = seconds)
    }

    /// Whether `origin` is in the list.
    ///
    /// ```
    /// # use secure_api::cors::CorsPolicy;
    /// let cors = CorsPolicy::new(["https://app.example.com"]).unwrap();
    /// assert!(cors.allows_origin("https://app.example.com"));
    /// assert!(!cors.allows_origin("https://app.example.com.evil.net"));
    /// ```
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.inner
            .settings
            .origins
            .iter()
            .any(|allowed| allowed == origin)
    }

    /// The answer to a preflight (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`), or `None` when `request` is not one.
    ///
    /// ```
    /// # use secure_api::cors::CorsPolicy;
    /// use secure_api::poem::{Request, http::Method};
    ///
    /// let cors = CorsPolicy::new(["https://app.example.com"]).unwrap();
    /// let preflight = Request::builder()
    ///     .method(Method::OPTIONS)
    ///     .header("origin", "https://app.example.com")
    ///     .header("access-control-request-method", "POST")
    ///     .header("access-control-request-headers", "authorization, content-type")
    ///     .finish();
    /// let answer = cors.preflight(&preflight).unwrap();
    /// assert_eq!(answer.status().as_u16(), 204);
    /// ```
    pub fn preflight(&self, request: &Request) -> Option<Response> {
        if request.method() != Method::OPTIONS {
            return None;
        }
        let origin = request.headers().get(header::ORIGIN)?;
        let method = request
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)?;
        let mut response = match self.preflight_allowed(origin, method, request) {
            Ok(()) => {
                let mut response = Response::builder()
                    .status(StatusCode::NO_CONTENT)
                    .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone())
                    .header(
                        header::ACCESS_CONTROL_ALLOW_METHODS,
                        self.inner.allow_methods_value.clone(),
                    )
                    .header(
                        header::ACCESS_CONTROL_ALLOW_HEADERS,
                        self.inner.allow_headers_value.clone(),
                    )
                    .header(
                        header::ACCESS_CONTROL_MAX_AGE,
                        self.inner.settings.max_age_seconds,
                    )
                    .finish();
                if self.inner.settings.credentials {
                    response.headers_mut().insert(
                        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                        HeaderValue::from_static("true"),
                    );
                }
                response
            }
            Err(why) => {
                tracing::info!(reason = why, "CORS preflight refused");
                Problem::new(StatusCode::FORBIDDEN)
                    .detail("this cross-origin request is not allowed")
                    .into_response()
            }
        };
        response.headers_mut().insert(
            header::VARY,
            HeaderValue::from_static(
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        );
        Some(response)
    }

    fn preflight_allowed(
        &self,
        origin: &HeaderValue,
        method: &HeaderValue,
        request: &Request,
    ) -> Result<(), &'static str> {
        if !self.allows_origin_value(origin) {
            return Err("origin not allowed");
        }
        let method_allowed = method
            .to_str()
            .ok()
            .and_then(|method| method.parse::<Method>().ok())
            .is_some_and(|method| self.inner.settings.methods.contains(&method));
        if !method_allowed {
            return Err("method not allowed");
        }
        for value in request
            .headers()
            .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
        {
            let value = value.to_str().map_err(|_| "header list not ASCII")?;
            for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let allowed = HeaderName::try_from(name)
                    .is_ok_and(|name| self.inner.settings.headers.contains(&name));
                if !allowed {
                    return Err("request header not allowed");
                }
            }
        }
        Ok(())
    }

    /// Adds the CORS headers of an actual (non-preflight) request from `origin` to
    /// its `response`: `Access-Control-Allow-Origin` only for an allowed origin, and
    /// `Vary: Origin` always.
    ///
    /// ```
    /// # use secure_api::cors::CorsPolicy;
    /// use secure_api::poem::{Response, http::HeaderValue};
    ///
    /// let cors = CorsPolicy::new(["https://app.example.com"]).unwrap();
    /// let mut response = Response::default();
    /// cors.decorate(Some(&HeaderValue::from_static("https://evil.example")), &mut response);
    /// assert!(response.headers().get("access-control-allow-origin").is_none());
    /// ```
    pub fn decorate(&self, origin: Option<&HeaderValue>, response: &mut Response) {
        let headers = response.headers_mut();
        if !headers.get_all(header::VARY).iter().any(vary_names_origin) {
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        if let Some(origin) = origin.filter(|origin| self.allows_origin_value(origin)) {
            self.allow(origin.clone(), headers);
        }
    }

    /// The request's `Origin` when it is allowed, for [`Self::allow`] on its answer.
    pub(crate) fn allowed_origin<'r>(&self, request: &'r Request) -> Option<&'r HeaderValue> {
        (request.headers().get(header::ORIGIN)).filter(|origin| self.allows_origin_value(origin))
    }

    fn allows_origin_value(&self, origin: &HeaderValue) -> bool {
        origin
            .to_str()
            .is_ok_and(|origin| self.allows_origin(origin))
    }

    /// The headers that let an allowed `origin` read the answer (`Vary: Origin` aside).
    pub(crate) fn allow(&self, origin: HeaderValue, headers: &mut HeaderMap) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if self.inner.settings.credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(expose) = &self.inner.expose_value {
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
        }
    }
}

/// Whether a `Vary` value already covers the origin: it names `Origin` (in any case,
/// among its comma-separated fields) or is `*`.
pub(crate) fn vary_names_origin(value: &HeaderValue) -> bool {
    value.to_str().is_ok_and(|value| {
        value
            .split(',')
            .map(str::trim)
            .any(|field| field == "*" || field.eq_ignore_ascii_case("origin"))
    })
}

/// `scheme://host[:port]`, lower-cased as browsers serialize origins.
fn check_origin(origin: &str) -> Result<String, &'static str> {
    if origin == "*" || origin.contains('*') {
        return Err("wildcards are not allowed; list each origin");
    }
    if origin == "null" {
        return Err("`null` is the origin of sandboxed and file pages, which anyone can forge");
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err("write it as scheme://host[:port], e.g. https://app.example.com");
    };
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return Err("the scheme is http or https");
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@']) || rest.ends_with(':') {
        return Err("an origin has no path, query, user or trailing slash: scheme://host[:port]");
    }
    if HeaderValue::from_str(origin).is_err() || rest.chars().any(|c| c.is_whitespace()) {
        return Err("not a valid origin");
    }
    Ok(origin.to_ascii_lowercase())
}

/// A CORS setting that cannot be used.
#[derive(Debug, Clone)]
pub struct CorsConfigError {
    problem: String,
}

impl fmt::Display for CorsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CORS: {}", self.problem)
    }
}

impl std::error::Error for CorsConfigError {}

impl<E: Endpoint> Middleware<E> for CorsPolicy {
    type Output = CorsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CorsEndpoint {
            inner,
            cors: self.clone(),
        }
    }
}

/// An endpoint behind a [`CorsPolicy`].
pub struct CorsEndpoint<E> {
    inner: E,
    cors: CorsPolicy,
}

impl<E: Endpoint> Endpoint for CorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if let Some(answer) = self.cors.preflight(&request) {
            return Ok(answer);
        }
        let origin = request.headers().get(header::ORIGIN).cloned();
        let mut response = self.inner.get_response(request).await;
        self.cors.decorate(origin.as_ref(), &mut response);
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_when_configured() {
        for (bad, says) in [
            ("*", "wildcards"),
            ("https://*.example.com", "wildcards"),
            ("null", "forge"),
            ("frontend.example.com", "scheme://host"),
            ("ftp://frontend.example.com", "http or https"),
            ("https://frontend.example.com/", "no path"),
            ("https://user@frontend.example.com", "no path"),
            ("https://", "no path"),
        ] {
            let error = CorsPolicy::new([bad]).unwrap_err().to_string();
            assert!(error.contains(says), "{bad}: {error}");
        }
        let cors = CorsPolicy::new(["HTTPS://Frontend.Example.com:8443"]).unwrap();
        assert!(cors.allows_origin("https://frontend.example.com:8443"));
    }
}
