//! Security response headers on every response: the handler's own, the guards'
//! refusals, the router's 404 and 405, and the framework's 400 and 413 alike.
//!
//! The defaults are the OWASP recommendations for JSON APIs (REST Security and Secure
//! Headers cheat sheets), each one replaceable or removable:
//!
//! | header | default |
//! | --- | --- |
//! | `X-Content-Type-Options` | `nosniff` |
//! | `Strict-Transport-Security` | `max-age=63072000; includeSubDomains` |
//! | `X-Frame-Options` | `DENY` |
//! | `Referrer-Policy` | `no-referrer` |
//! | `Permissions-Policy` | every powerful feature off ([`PERMISSIONS_POLICY`]) |
//! | `Cache-Control` | `no-store` |
//! | `Content-Security-Policy` | `default-src 'none'; frame-ancestors 'none'` |
//! | `Cross-Origin-Resource-Policy` | `same-origin` |
//! | `Cross-Origin-Opener-Policy` | `same-origin` |
//!
//! `Server` and `X-Powered-By` are removed. A header the handler set itself is kept
//! (a handler that wants its answer cached says so with its own `Cache-Control`).
//! `Strict-Transport-Security` goes out over plain HTTP too: browsers ignore it there
//! (RFC 6797 §8.1), and a service behind a TLS-terminating proxy sees only plain HTTP.
//!
//! # Swagger UI
//!
//! `default-src 'none'` forbids the scripts and styles Swagger UI needs, so its route
//! gets its own policy ([`SecurityHeadersBuilder::swagger_ui`]): scripts only by the
//! SHA-256 hash of the page's own inline scripts (the bundle and the script that starts
//! it, computed from the page as served), inline styles, images from the page or
//! `data:` URLs (the stylesheet's icons), requests to the service itself ("Try it out",
//! the token endpoint), and still no framing.

use crate::problem::Problem;
use poem::{
    Endpoint, IntoResponse, Middleware, Request, Response,
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
};
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    fmt,
    hash::{Hash, Hasher},
    sync::{Arc, Mutex},
};

/// The default `Permissions-Policy`: every powerful browser feature off.
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), \
     display-capture=(), encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), \
     magnetometer=(), microphone=(), midi=(), payment=(), picture-in-picture=(), \
     publickey-credentials-get=(), screen-wake-lock=(), sync-xhr=(), usb=(), \
     xr-spatial-tracking=()";

/// The default `Content-Security-Policy` of an API: nothing may load, nothing may frame it.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The policy of the Swagger UI page; `{script-hashes}` becomes the `'sha256-...'`
/// source of each inline script of the page as served.
pub const SWAGGER_UI_CSP: &str = "default-src 'none'; script-src {script-hashes}; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const DEFAULTS: [(HeaderName, &str); 9] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=63072000; includeSubDomains",
    ),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        HeaderName::from_static("permissions-policy"),
        PERMISSIONS_POLICY,
    ),
    (header::CACHE_CONTROL, "no-store"),
    (header::CONTENT_SECURITY_POLICY, API_CSP),
    (
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

/// The security headers of a service, as a poem middleware (or through
/// [`App`](crate::App), which adds them by default).
///
/// ```
/// use secure_api::headers::SecurityHeaders;
/// use secure_api::poem::{self, EndpointExt, Route, handler};
///
/// #[handler]
/// fn hello() -> &'static str { "hello" }
///
/// let headers = SecurityHeaders::builder()
///     .set("Strict-Transport-Security", "max-age=31536000")
///     .swagger_ui("/docs")
///     .build()
///     .expect("valid header values");
/// let app = Route::new().at("/hello", hello).with(headers);
/// ```
#[derive(Clone)]
pub struct SecurityHeaders {
    inner: Arc<Inner>,
}

struct Inner {
    /// The headers of a response no path rule covers, as a map to copy whole.
    template: HeaderMap,
    removed: Vec<HeaderName>,
    paths: Vec<PathRule>,
    /// Per path: a fingerprint of the page and the policy computed for it.
    computed: Mutex<HashMap<String, (u64, HeaderValue)>>,
    /// Every template carries `Vary: Origin`, for a service with CORS: see
    /// [`SecurityHeaders::varying_on_origin`].
    vary_origin: bool,
}

struct PathRule {
    prefix: String,
    /// A `Content-Security-Policy` whose `{script-hashes}` is filled from the page.
    page_csp: Option<String>,
    /// The rule's set headers and the defaults it leaves alone, as a map to copy whole.
    template: HeaderMap,
}

impl Default for SecurityHeaders {
    fn default() -> Self {
        SecurityHeaders::builder()
            .build()
            .expect("the default headers are valid")
    }
}

impl fmt::Debug for SecurityHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityHeaders")
            .field("headers", &self.inner.template)
            .field("removed", &self.inner.removed)
            .finish_non_exhaustive()
    }
}

impl SecurityHeaders {
    /// A builder that starts from the defaults of [the module](self).
    ///
    /// ```
    /// # use secure_api::headers::SecurityHeaders;
    /// let headers = SecurityHeaders::builder().remove("X-Frame-Options").build().unwrap();
    /// ```
    pub fn builder() -> SecurityHeadersBuilder {
        SecurityHeadersBuilder {
            headers: DEFAULTS
                .iter()
                .map(|(name, value)| (name.clone(), HeaderValue::from_static(value)))
                .collect(),
            removed: vec![header::SERVER, HeaderName::from_static("x-powered-by")],
            paths: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Adds the headers to `response`, answering a request for `path` (the request's
    /// original path, before any nesting).
    ///
    /// ```
    /// # use secure_api::headers::SecurityHeaders;
    /// use secure_api::poem::Response;
    ///
    /// # async fn demo() {
    /// let response = SecurityHeaders::default().apply("/hello", Response::default()).await;
    /// assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    /// # }
    /// ```
    pub async fn apply(&self, path: &str, mut response: Response) -> Response {
        self.apply_rule(self.rule_for(path), &mut response).await;
        response
    }

    /// These headers with `Vary: Origin` on every answer, for [`App`](crate::App) with
    /// CORS, whose answers depend on the request's origin. In the prepared maps, it
    /// is one more entry in each answer's copy, where adding it to each answer took a
    /// lookup and an append, in two more functions on every request's path.
    ///
    /// A handler's own `Vary` is added to the prepared one rather than put in its
    /// place (an answer varies on every field either names), and `Origin` is named
    /// once: the prepared one gives way to a handler's that names it too (as a
    /// preflight's does).
    pub(crate) fn varying_on_origin(&self) -> SecurityHeaders {
        if self.inner.vary_origin {
            return self.clone();
        }
        let with_vary = |template: &HeaderMap| {
            let mut template = template.clone();
            // A `Vary` set with the builder that covers the origin already is enough.
            if !template
                .get_all(header::VARY)
                .iter()
                .any(crate::cors::vary_names_origin)
            {
                template.append(header::VARY, HeaderValue::from_static("Origin"));
            }
            template
        };
        let inner = &self.inner;
        SecurityHeaders {
            inner: Arc::new(Inner {
                template: with_vary(&inner.template),
                removed: inner.removed.clone(),
                paths: (inner.paths.iter())
                    .map(|rule| PathRule {
                        prefix: rule.prefix.clone(),
                        page_csp: rule.page_csp.clone(),
                        template: with_vary(&rule.template),
                    })
                    .collect(),
                computed: Mutex::new(HashMap::new()),
                vary_origin: true,
            }),
        }
    }

    /// The path rule that covers `path` (the longest prefix), as an index; found
    /// before the request is handed on, so the path need not be copied to outlive it.
    pub(crate) fn rule_for(&self, path: &str) -> Option<usize> {
        self.inner
            .paths
            .iter()
            .enumerate()
            .filter(|(_, rule)| path_is_under(path, &rule.prefix))
            .max_by_key(|(_, rule)| rule.prefix.len())
            .map(|(index, _)| index)
    }

    /// [`apply`](Self::apply) with the path rule already found by [`Self::rule_for`].
    /// The response is borrowed, not moved: it is hundreds of bytes, and every
    /// request's answer comes through here.
    pub(crate) async fn apply_rule(&self, rule: Option<usize>, response: &mut Response) {
        let mut page_csp = None;
        if let Some((prefix, template)) = self.page_csp_to_compute(rule, response) {
            let (value, with_body) = self
                .csp_for_page(prefix, template, std::mem::take(response))
                .await;
            (page_csp, *response) = (Some(value), with_body);
        }
        self.insert_headers(rule, response, page_csp);
    }

    /// The CSP template of `rule` whose script hashes must be read from this page:
    /// only a page under a Swagger UI rule that does not bring its own policy (as
    /// `openapi::swagger_ui` does, computed once). Every other answer needs no await.
    fn page_csp_to_compute<'a>(
        &'a self,
        rule: Option<usize>,
        response: &Response,
    ) -> Option<(&'a str, &'a str)> {
        let rule = self.inner.paths.get(rule?)?;
        let template = rule.page_csp.as_deref()?;
        let page_has_its_own = response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY);
        (!page_has_its_own).then_some((rule.prefix.as_str(), template))
    }

    /// Gives `response` the headers of `rule` and the defaults it does not override,
    /// keeping every value of a header the response already carries; `page_csp` is
    /// the policy [`Self::page_csp_to_compute`] asked for, once computed.
    ///
    /// The answer's headers become a copy of the rule's prepared map, with the
    /// response's own put into it: copying a map hashes nothing (two allocations,
    /// and a third when the response's first own header grows the copied entries),
    /// where inserting nine headers one by one hashed each and grew the response's
    /// map twice: 2,700 instructions a request against 5,200 (callgrind, `/api/data`).
    fn insert_headers(
        &self,
        rule: Option<usize>,
        response: &mut Response,
        page_csp: Option<HeaderValue>,
    ) {
        let template = match rule.and_then(|index| self.inner.paths.get(index)) {
            Some(rule) => &rule.template,
            None => &self.inner.template,
        };
        let mut headers = template.clone();
        let own = std::mem::take(response.headers_mut());
        // The map's iterator names a header at its first value only (`None` after).
        let mut current: Option<HeaderName> = None;
        let mut own_vary = false;
        for (name, value) in own {
            if let Some(name) = name {
                if self.inner.removed.contains(&name) {
                    current = None;
                    continue;
                }
                if self.inner.vary_origin && name == header::VARY {
                    own_vary = true;
                    headers.append(&name, value);
                } else {
                    headers.insert(&name, value);
                }
                current = Some(name);
            } else if let Some(name) = &current {
                headers.append(name, value);
            }
        }
        if own_vary {
            drop_template_vary_if_own_names_origin(&mut headers);
        }
        if let Some(csp) = page_csp {
            insert_unless_set(&mut headers, &header::CONTENT_SECURITY_POLICY, csp);
        }
        *response.headers_mut() = headers;
    }

    /// The policy for a page under `prefix`, with the hashes of its inline scripts.
    /// The page is read and put back; a page seen before is not hashed again.
    async fn csp_for_page(
        &self,
        prefix: &str,
        template: &str,
        mut response: Response,
    ) -> (HeaderValue, Response) {
        let is_html = response
            .content_type()
            .is_some_and(|ct| ct.starts_with("text/html"));
        if !is_html {
            return (csp_value(template, &[]), response);
        }
        let body = match response.take_body().into_bytes().await {
            Ok(body) => body,
            Err(_) => {
                // The page could not be read: answer an error rather than a page
                // without a policy.
                let mut failed = Problem::new(StatusCode::INTERNAL_SERVER_ERROR).into_response();
                failed.headers_mut().insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(API_CSP),
                );
                return (HeaderValue::from_static(API_CSP), failed);
            }
        };
        let fingerprint = {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            body.hash(&mut hasher);
            hasher.finish()
        };
        let key = format!("{prefix}\n{}", response.status());
        let cached = self
            .inner
            .computed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .filter(|(seen, _)| *seen == fingerprint)
            .map(|(_, value)| value.clone());
        let value = match cached {
            Some(value) => value,
            None => {
                let hashes = inline_script_hashes(&String::from_utf8_lossy(&body));
                let value = csp_value(template, &hashes);
                self.inner
                    .computed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, (fingerprint, value.clone()));
                value
            }
        };
        response.set_body(body);
        (value, response)
    }
}

/// The headers a response under a path rule gets: the rule's set values first,
/// then each default the rule neither sets nor removes. A policy computed from the
/// page is not in it; it is added per response.
fn rule_template(rule: &[(HeaderName, Rule)], defaults: &[(HeaderName, HeaderValue)]) -> HeaderMap {
    // A copy keeps the map's index table (not its entries' spare room), so room in
    // it for the response's own headers (a content type, `Vary`, the rate-limit
    // fields) spares each copy a rehash.
    const ROOM_FOR_OWN: usize = 8;
    let mut template = HeaderMap::with_capacity(rule.len() + defaults.len() + ROOM_FOR_OWN);
    for (name, rule) in rule {
        if let Rule::Set(value) = rule {
            template.insert(name, value.clone());
        }
    }
    for (name, value) in defaults {
        if !rule.iter().any(|(overridden, _)| overridden == name) {
            template.insert(name, value.clone());
        }
    }
    template
}

/// The answer's `Vary` is the template's values followed by the handler's own; when
/// `Origin` is then covered twice (the handler named it too, or said `*`), the one
/// value that is `Origin` alone, the template's, goes.
#[cold]
fn drop_template_vary_if_own_names_origin(headers: &mut HeaderMap) {
    let mut values: Vec<HeaderValue> = headers.get_all(header::VARY).iter().cloned().collect();
    if values
        .iter()
        .filter(|value| crate::cors::vary_names_origin(value))
        .count()
        < 2
    {
        return;
    }
    let Some(ours) =
        (values.iter()).position(|value| value.as_bytes().eq_ignore_ascii_case(b"origin"))
    else {
        return;
    };
    values.remove(ours);
    headers.remove(header::VARY);
    for value in values {
        headers.append(header::VARY, value);
    }
}

/// One hash of the name (the entry), not two (a lookup, then an insert).
#[inline]
fn insert_unless_set(headers: &mut HeaderMap, name: &HeaderName, value: HeaderValue) {
    if let header::Entry::Vacant(entry) = headers.entry(name) {
        entry.insert(value);
    }
}

/// `/docs` covers `/docs`, `/docs/` and `/docs/oauth-receiver.html`, not `/docsearch`.
fn path_is_under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/') || prefix.is_empty(),
        None => false,
    }
}

pub(crate) fn csp_value(template: &str, hashes: &[String]) -> HeaderValue {
    let sources = match hashes.is_empty() {
        true => "'none'".to_owned(),
        false => hashes.join(" "),
    };
    HeaderValue::from_str(&template.replace("{script-hashes}", &sources))
        .unwrap_or_else(|_| HeaderValue::from_static(API_CSP))
}

/// The CSP source (`'sha256-<base64>'`) of each inline `<script>` of an HTML page.
///
/// A script element's text runs to the first `</script` (HTML's script data state);
/// the browser hashes it after turning CR LF and lone CR into LF, so this does too.
/// Scripts with a `src` have no inline text to allow and are skipped.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    use base64::Engine;
    let lower = html.to_ascii_lowercase();
    let mut hashes: Vec<String> = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find("<script") {
        let open = at + found;
        let after_name = open + "<script".len();
        // `<scripts>` or `<script-x>` is another element.
        if !lower[after_name..].starts_with(|c: char| c == '>' || c.is_ascii_whitespace()) {
            at = after_name;
            continue;
        }
        let Some(tag_end) = lower[open..].find('>').map(|i| open + i + 1) else {
            break;
        };
        let Some(close) = lower[tag_end..].find("</script").map(|i| tag_end + i) else {
            break;
        };
        let has_src = lower[open..tag_end]
            .split(|c: char| c.is_ascii_whitespace())
            .any(|attr| attr.starts_with("src="));
        if !has_src {
            let text = html[tag_end..close]
                .replace("\r\n", "\n")
                .replace('\r', "\n");
            let digest = Sha256::digest(text.as_bytes());
            let source = format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            );
            if !hashes.contains(&source) {
                hashes.push(source);
            }
        }
        at = close;
    }
    hashes
}

/// Builds [`SecurityHeaders`]; a name or value that is not a valid header is reported
/// by [`build`](Self::build), naming it.
#[derive(Debug)]
pub struct SecurityHeadersBuilder {
    headers: Vec<(HeaderName, HeaderValue)>,
    removed: Vec<HeaderName>,
    paths: Vec<(String, Vec<(HeaderName, Rule)>)>,
    errors: Vec<String>,
}

/// What a path rule does to one header.
#[derive(Debug)]
enum Rule {
    Set(HeaderValue),
    Remove,
    /// A `Content-Security-Policy` whose `{script-hashes}` is filled from the page.
    CspWithScriptHashes(String),
}

impl SecurityHeadersBuilder {
    /// Sends `name: value` on every response, replacing the default value if any.
    ///
    /// ```
    /// # use secure_api::headers::SecurityHeaders;
    /// let headers = SecurityHeaders::builder()
    ///     .set("Cross-Origin-Resource-Policy", "same-site")
    ///     .set("Cross-Origin-Embedder-Policy", "require-corp")
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn set(mut self, name: &str, value: &str) -> Self {
        if let Some((name, value)) = self.parse(name, value) {
            self.headers.retain(|(existing, _)| *existing != name);
            self.headers.push((name, value));
        }
        self
    }

    /// Does not send `name` (a default, or one set before), and removes it from
    /// responses that carry it.
    ///
    /// ```
    /// # use secure_api::headers::SecurityHeaders;
    /// let headers = SecurityHeaders::builder().remove("Strict-Transport-Security").build().unwrap();
    /// ```
    pub fn remove(mut self, name: &str) -> Self {
        if let Some(name) = self.parse_name(name) {
            self.headers.retain(|(existing, _)| *existing != name);
        }
        self
    }

    /// Sends `name: value` instead of the service-wide value on responses to paths
    /// under `prefix` (`/docs` covers `/docs` and `/docs/...`; the longest prefix wins).
    ///
    /// ```
    /// # use secure_api::headers::SecurityHeaders;
    /// let headers = SecurityHeaders::builder()
    ///     .set_for_path("/downloads", "Cache-Control", "private, max-age=60")
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn set_for_path(mut self, prefix: &str, name: &str, value: &str) -> Self {
        if let Some((name, value)) = self.parse(name, value) {
            self.path_rule(prefix, name, Rule::Set(value));
        }
        self
    }

    /// Does not send `name` on responses to paths under `prefix`.
    ///
    /// ```
    /// # use secure_api::headers::SecurityHeaders;
    /// let headers = SecurityHeaders::builder()
    ///     .remove_for_path("/embed", "X-Frame-Options")
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn remove_for_path(mut self, prefix: &str, name: &str) -> Self {
        if let Some(name) = self.parse_name(name) {
            self.path_rule(prefix, name, Rule::Remove);
        }
        self
    }

    /// Gives the Swagger UI served under `prefix` the policy it needs to run
    /// ([`SWAGGER_UI_CSP`], scripts allowed by the hash of the page's own inline
    /// scripts); every other header keeps its service-wide value.
    ///
    /// ```
    /// # use secure_api::headers::SecurityHeaders;
    /// let headers = SecurityHeaders::builder().swagger_ui("/docs").build().unwrap();
    /// ```
    pub fn swagger_ui(self, prefix: &str) -> Self {
        self.csp_with_script_hashes(prefix, SWAGGER_UI_CSP)
    }

    /// Sends `template` as the `Content-Security-Policy` of HTML pages under `prefix`,
    /// with `{script-hashes}` replaced by the `'sha256-...'` source of each inline
    /// script of the page as served (`'none'` when it has none).
    ///
    /// ```
    /// # use secure_api::headers::SecurityHeaders;
    /// let headers = SecurityHeaders::builder()
    ///     .csp_with_script_hashes("/status", "default-src 'self'; script-src {script-hashes}")
    ///     .build()
    ///     .unwrap();
    /// ```
    pub fn csp_with_script_hashes(mut self, prefix: &str, template: &str) -> Self {
        if HeaderValue::from_str(&template.replace("{script-hashes}", "'none'")).is_err() {
            self.errors.push(format!(
                "the Content-Security-Policy for `{prefix}` is not a valid header value"
            ));
            return self;
        }
        self.path_rule(
            prefix,
            header::CONTENT_SECURITY_POLICY,
            Rule::CspWithScriptHashes(template.to_owned()),
        );
        self
    }

    /// The headers, or every invalid name and value given.
    ///
    /// ```
    /// # use secure_api::headers::SecurityHeaders;
    /// let error = SecurityHeaders::builder().set("X-Frame-Options", "DENY\n").build().unwrap_err();
    /// assert!(error.to_string().contains("X-Frame-Options"));
    /// ```
    pub fn build(self) -> Result<SecurityHeaders, HeaderConfigError> {
        if !self.errors.is_empty() {
            return Err(HeaderConfigError {
                problems: self.errors,
            });
        }
        let paths = self
            .paths
            .into_iter()
            .map(|(prefix, rules)| PathRule {
                template: rule_template(&rules, &self.headers),
                page_csp: rules.into_iter().find_map(|(_, rule)| match rule {
                    Rule::CspWithScriptHashes(template) => Some(template),
                    _ => None,
                }),
                prefix,
            })
            .collect();
        Ok(SecurityHeaders {
            inner: Arc::new(Inner {
                template: rule_template(&[], &self.headers),
                removed: self.removed,
                paths,
                computed: Mutex::new(HashMap::new()),
                vary_origin: false,
            }),
        })
    }

    fn path_rule(&mut self, prefix: &str, name: HeaderName, rule: Rule) {
        if !prefix.starts_with('/') {
            self.errors.push(format!(
                "the path prefix `{prefix}` does not start with `/`; write it as the \
                 request path begins, e.g. `/docs`"
            ));
            return;
        }
        let index = match self.paths.iter().position(|(p, _)| p == prefix) {
            Some(index) => index,
            None => {
                self.paths.push((prefix.to_owned(), Vec::new()));
                self.paths.len() - 1
            }
        };
        let rules = &mut self.paths[index].1;
        rules.retain(|(existing, _)| *existing != name);
        rules.push((name, rule));
    }

    fn parse_name(&mut self, name: &str) -> Option<HeaderName> {
        match HeaderName::try_from(name) {
            Ok(name) => Some(name),
            Err(_) => {
                self.errors
                    .push(format!("`{name}` is not a valid header name"));
                None
            }
        }
    }

    fn parse(&mut self, name: &str, value: &str) -> Option<(HeaderName, HeaderValue)> {
        let parsed_name = self.parse_name(name)?;
        match HeaderValue::from_str(value) {
            Ok(value) => Some((parsed_name, value)),
            Err(_) => {
                self.errors.push(format!(
                    "the value given for {name} is not a valid header value \
                     (visible ASCII, spaces and tabs only)"
                ));
                None
            }
        }
    }
}

/// Header names or values that cannot be sent, each named.
#[derive(Debug, Clone)]
pub struct HeaderConfigError {
    problems: Vec<String>,
}

impl fmt::Display for HeaderConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "security headers: {}", self.problems.join("; "))
    }
}

impl std::error::Error for HeaderConfigError {}

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        SecurityHeadersEndpoint {
            inner,
            headers: self.clone(),
        }
    }
}

/// An endpoint behind [`SecurityHeaders`].
pub struct SecurityHeadersEndpoint<E> {
    inner: E,
    headers: SecurityHeaders,
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let path = request.original_uri().path().to_owned();
        let response = self.inner.get_response(request).await;
        Ok(self.headers.apply(&path, response).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_matched_segment_by_segment() {
        assert!(path_is_under("/docs", "/docs"));
        assert!(path_is_under("/docs/", "/docs"));
        assert!(path_is_under("/docs/oauth-receiver.html", "/docs/"));
        assert!(!path_is_under("/docsearch", "/docs"));
        assert!(!path_is_under("/api/docs", "/docs"));
        assert!(path_is_under("/anything", "/"));
    }

    #[test]
    fn inline_scripts_are_hashed_as_browsers_do() {
        let html = "<html><script src=\"/x.js\"></script><SCRIPT charset=\"UTF-8\">a()\r\nb()</SCRIPT>\
                    <scripts>no</scripts><script>a()\nb()</script><script>c()</script>";
        let hashes = inline_script_hashes(html);
        // `a()\r\nb()` and `a()\nb()` are one script to the browser.
        assert_eq!(hashes.len(), 2, "{hashes:?}");
        // echo -n 'c()' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            hashes[1],
            "'sha256-uv6BXxguRKhBqgeOtcyTvppA2Vttceh37dUo7xwS8Ug='"
        );
    }

    #[test]
    fn bad_names_and_values_are_all_reported() {
        let error = SecurityHeaders::builder()
            .set("X Bad", "v")
            .set("Cache-Control", "a\u{7f}b")
            .set_for_path("docs", "Cache-Control", "no-cache")
            .build()
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`X Bad` is not a valid header name"),
            "{error}"
        );
        assert!(error.contains("Cache-Control"), "{error}");
        assert!(error.contains("`docs` does not start with `/`"), "{error}");
    }
}
