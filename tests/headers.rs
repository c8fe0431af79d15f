//! The service-wide protections of `App` over real HTTP: security headers on every
//! answer, trusted hosts, CORS, and the Swagger UI's own policy.

use secure_api::poem;
use secure_api::{
    App, Authenticator,
    cors::CorsPolicy,
    headers::{SecurityHeaders, inline_script_hashes},
    hosts::TrustedHosts,
    poem::{
        EndpointExt, IntoResponse, Response, Route, handler, http::StatusCode,
        middleware::SizeLimit, web::Json as PoemJson,
    },
    poem_openapi::OpenApiService,
    problem::Problem,
};
use secure_api_tests::*;

const SECURITY_HEADERS: [(&str, &str); 9] = [
    ("x-content-type-options", "nosniff"),
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    ),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    ("cross-origin-resource-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    (
        "permissions-policy",
        secure_api::headers::PERMISSIONS_POLICY,
    ),
];

#[handler]
fn too_many() -> Response {
    Problem::new(StatusCode::TOO_MANY_REQUESTS)
        .header(secure_api::poem::http::header::RETRY_AFTER, "1")
        .into_response()
}

#[handler]
fn unprocessable() -> Response {
    Problem::new(StatusCode::UNPROCESSABLE_ENTITY).into_response()
}

#[handler]
fn upload(body: String) -> String {
    body
}

#[handler]
fn cacheable() -> Response {
    Response::builder()
        .header("cache-control", "public, max-age=60")
        .header("server", "leaky/1.0")
        .header("x-powered-by", "leaky")
        .header("set-cookie", "a=1")
        .header("set-cookie", "b=2")
        .body("cache me")
}

#[handler]
fn panic_free_error() -> secure_api::poem::Result<PoemJson<()>> {
    Err(secure_api::poem::Error::from_status(
        StatusCode::INTERNAL_SERVER_ERROR,
    ))
}

/// The test API behind `App`: hosts, CORS and the Swagger UI under `/docs`.
async fn serve_app() -> (String, TestServerTokens) {
    let hasher = test_hasher();
    let tokens = token_service();
    let auth = Authenticator::new(tokens.clone(), test_users(&hasher));
    let api = OpenApiService::new(TestApi, "test", "1.0");
    let docs = api.swagger_ui();
    let routes = Route::new()
        .nest("/docs", docs)
        .at("/too-many", too_many)
        .at("/unprocessable", unprocessable)
        .at("/upload", poem::post(upload).with(SizeLimit::new(16)))
        .at("/cacheable", cacheable)
        .at("/broken", panic_free_error)
        .nest("/", api);
    let app = App::new(routes)
        .trusted_hosts(
            TrustedHosts::new(["localhost", "127.0.0.1", "api.example.com", "*.example.com"])
                .unwrap(),
        )
        .cors(CorsPolicy::new(["https://frontend.example.com"]).unwrap())
        .security_headers(
            SecurityHeaders::builder()
                .swagger_ui("/docs")
                .build()
                .unwrap(),
        )
        .data(auth);
    (serve_endpoint(app).await, TestServerTokens(tokens))
}

struct TestServerTokens(secure_api::token::TokenService);

impl TestServerTokens {
    fn token(&self, subject: &str, scopes: &[&str]) -> String {
        self.0.issue(subject, scopes).unwrap().access_token
    }
}

fn assert_security_headers(response: &reqwest::Response, what: &str) {
    for (name, value) in SECURITY_HEADERS {
        let got = response.headers().get_all(name).iter().collect::<Vec<_>>();
        assert_eq!(got.len(), 1, "{what}: {name} sent {} times", got.len());
        assert_eq!(got[0], value, "{what}: {name}");
    }
    assert!(response.headers().get("server").is_none(), "{what}");
    assert!(response.headers().get("x-powered-by").is_none(), "{what}");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let (base, tokens) = serve_app().await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{base}{path}");
    let only_items = tokens.token("john", &["items:read"]);
    let cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        ("200", client.get(url("/open")), 200),
        ("401 no token", client.get(url("/users")), 401),
        (
            "403 scope",
            client.get(url("/users")).bearer_auth(&only_items),
            403,
        ),
        ("404", client.get(url("/nowhere")), 404),
        ("405", client.delete(url("/open")), 405),
        (
            "413",
            client
                .post(url("/upload"))
                .body("far more than sixteen bytes"),
            413,
        ),
        ("422", client.get(url("/unprocessable")), 422),
        ("429", client.get(url("/too-many")), 429),
        (
            "400 bad JSON",
            client
                .post(url("/users"))
                .bearer_auth(tokens.token("alice", &["users:write"]))
                .header("content-type", "application/json")
                .body("{not json"),
            400,
        ),
        ("500", client.get(url("/broken")), 500),
    ];
    for (what, request, status) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        assert_security_headers(&response, what);
    }
}

#[tokio::test]
async fn a_handler_keeps_its_own_header_and_loses_its_fingerprint() {
    let (base, _) = serve_app().await;
    let response = reqwest::get(format!("{base}/cacheable")).await.unwrap();
    let cache: Vec<_> = response.headers().get_all("cache-control").iter().collect();
    assert_eq!(cache, ["public, max-age=60"]);
    // Every value of a header the handler set is kept, in its order.
    let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    assert!(response.headers().get("server").is_none());
    assert!(response.headers().get("x-powered-by").is_none());
    assert_eq!(response.headers()["x-frame-options"], "DENY");
}

fn status_of(raw: &str) -> u16 {
    raw.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn untrusted_hosts_get_400_before_any_handler() {
    let (base, _) = serve_app().await;
    for host in [
        "localhost",
        "localhost:3000",
        "LOCALHOST",
        "127.0.0.1:8080",
        "api.example.com",
        "eu.example.com",
        "a.b.example.com:443",
    ] {
        let raw = raw_http(
            &base,
            &format!("GET /open HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status_of(&raw), 200, "{host}: {raw}");
    }
    for host in [
        "evil.com",
        "example.com",
        "example.com.evil.com",
        "evilexample.com",
        "localhost.",
        "localhost:evil",
        "api.example.com:",
        "api.example.com@evil.com",
    ] {
        let raw = raw_http(
            &base,
            &format!("GET /users HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status_of(&raw), 400, "{host}: {raw}");
        let body = raw.split("\r\n\r\n").nth(1).unwrap_or_default();
        assert!(!body.contains(host), "the answer echoes the host: {raw}");
        let lower = raw.to_ascii_lowercase();
        assert!(lower.contains("x-content-type-options: nosniff"), "{raw}");
        assert!(
            lower.contains("content-type: application/problem+json"),
            "{raw}"
        );
    }
    // A guarded route answers 400, not 401: the host check runs first.
    let no_host = raw_http(&base, "GET /users HTTP/1.1\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status_of(&no_host), 400, "{no_host}");
    let two = raw_http(
        &base,
        "GET /open HTTP/1.1\r\nHost: localhost\r\nHost: evil.com\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&two), 400, "{two}");
    let disagree = raw_http(
        &base,
        "GET http://evil.com/open HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&disagree), 400, "{disagree}");
    // X-Forwarded-Host is not believed.
    let forwarded = raw_http(
        &base,
        "GET /open HTTP/1.1\r\nHost: evil.com\r\nX-Forwarded-Host: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&forwarded), 400, "{forwarded}");
}

async fn preflight(base: &str, origin: &str, method: &str, headers: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{base}/users"))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", headers)
        .send()
        .await
        .unwrap()
}

fn cors_headers(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn an_allowed_origin_may_send_authorization_and_content_type() {
    let (base, tokens) = serve_app().await;
    let origin = "https://frontend.example.com";
    let response = preflight(&base, origin, "POST", "authorization, content-type").await;
    assert_eq!(response.status(), 204);
    assert_eq!(response.headers()["access-control-allow-origin"], origin);
    let allowed_headers = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed_headers.contains("authorization"),
        "{allowed_headers}"
    );
    assert!(
        allowed_headers.contains("content-type"),
        "{allowed_headers}"
    );
    assert!(
        response.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert!(response.headers().get("access-control-max-age").is_some());
    assert!(
        response
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    assert!(
        response.headers()["vary"]
            .to_str()
            .unwrap()
            .contains("Origin")
    );
    assert_security_headers(&response, "preflight");

    // The actual request: the origin echoed, never `*`, with Vary.
    let response = reqwest::Client::new()
        .get(format!("{base}/users"))
        .header("origin", origin)
        .bearer_auth(tokens.token("john", &["users:read"]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], origin);
    assert!(
        response.headers()["vary"]
            .to_str()
            .unwrap()
            .contains("Origin")
    );
    let exposed = response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(exposed.contains("www-authenticate"), "{exposed}");
}

#[tokio::test]
async fn other_origins_get_no_cors_headers() {
    let (base, _) = serve_app().await;
    for origin in [
        "https://evil.example.net",
        "https://frontend.example.com.evil.net",
        "https://evilfrontend.example.com",
        "http://frontend.example.com",
        "https://frontend.example.com:8443",
        "null",
    ] {
        let response = preflight(&base, origin, "GET", "authorization").await;
        assert_eq!(response.status(), 403, "{origin}");
        assert_eq!(cors_headers(&response), Vec::<String>::new(), "{origin}");
        assert_security_headers(&response, origin);

        let response = reqwest::Client::new()
            .get(format!("{base}/open"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "{origin}: the request itself is served"
        );
        assert_eq!(cors_headers(&response), Vec::<String>::new(), "{origin}");
        assert!(
            response.headers()["vary"]
                .to_str()
                .unwrap()
                .contains("Origin")
        );
    }
}

/// The answer of `/varies`, whose handler sends each of `own` as a `Vary` value.
async fn varies_answer(base: &str, own: &[&str]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{base}/varies"));
    for value in own {
        request = request.header("x-vary", *value);
    }
    request.send().await.unwrap()
}

/// `Vary` through an `App` with CORS: every answer varies on `Origin`, exactly once,
/// beside whatever the handler's own `Vary` names; a service without CORS adds none.
#[tokio::test]
async fn every_answer_varies_on_origin_once_when_cors_is_on() {
    #[handler]
    fn varies(request: &poem::Request) -> Response {
        let mut response = Response::builder();
        for value in request.headers().get_all("x-vary") {
            response = response.header("vary", value.clone());
        }
        response.body("varies")
    }
    let routes = || Route::new().at("/varies", varies);
    let cors = || CorsPolicy::new(["https://frontend.example.com"]).unwrap();
    let headers = || SecurityHeaders::builder().build().unwrap();
    // Either order of `cors` and `security_headers` gives the same answers.
    for base in [
        serve_endpoint(App::new(routes()).cors(cors()).security_headers(headers())).await,
        serve_endpoint(App::new(routes()).security_headers(headers()).cors(cors())).await,
    ] {
        for (own, expected) in [
            (&[][..], &["Origin"][..]),
            (&["Accept-Encoding"], &["Origin", "Accept-Encoding"]),
            (
                &["Accept-Encoding", "Accept"],
                &["Origin", "Accept-Encoding", "Accept"],
            ),
            (&["origin"], &["origin"]),
            (&["Accept-Encoding, Origin"], &["Accept-Encoding, Origin"]),
            (&["Accept", "Origin"], &["Accept", "Origin"]),
            (&["*"], &["*"]),
            (&["X-Origin-Id"], &["Origin", "X-Origin-Id"]),
        ] {
            let response = varies_answer(&base, own).await;
            assert_eq!(response.status(), 200);
            let vary: Vec<_> = response.headers().get_all("vary").iter().collect();
            assert_eq!(vary, expected, "the handler's own Vary: {own:?}");
            assert_security_headers(&response, "varies");
        }
        // The router's 404 and a preflight too, the preflight's own list kept alone.
        let missing = reqwest::get(format!("{base}/missing")).await.unwrap();
        assert_eq!(missing.status(), 404);
        assert_eq!(
            missing.headers().get_all("vary").iter().collect::<Vec<_>>(),
            ["Origin"]
        );
        let preflight = preflight(&base, "https://frontend.example.com", "GET", "").await;
        assert_eq!(preflight.status(), 204);
        assert_eq!(
            preflight
                .headers()
                .get_all("vary")
                .iter()
                .collect::<Vec<_>>(),
            ["Origin, Access-Control-Request-Method, Access-Control-Request-Headers"]
        );
    }
    // A `Vary` of the builder's own stays, with the handler's after it.
    let with_language = || {
        SecurityHeaders::builder()
            .set("Vary", "Accept-Language")
            .build()
            .unwrap()
    };
    let base = serve_endpoint(
        App::new(routes())
            .security_headers(with_language())
            .cors(cors()),
    )
    .await;
    for (own, expected) in [
        (&[][..], &["Accept-Language", "Origin"][..]),
        (&["Origin"], &["Accept-Language", "Origin"]),
        (&["Accept"], &["Accept-Language", "Origin", "Accept"]),
    ] {
        let response = varies_answer(&base, own).await;
        let vary: Vec<_> = response.headers().get_all("vary").iter().collect();
        assert_eq!(vary, expected, "the handler's own Vary: {own:?}");
    }
    let without_cors = serve_endpoint(App::new(routes())).await;
    let response = reqwest::get(format!("{without_cors}/varies"))
        .await
        .unwrap();
    assert!(response.headers().get("vary").is_none());
}

#[tokio::test]
async fn a_preflight_for_another_method_or_header_is_refused() {
    let (base, _) = serve_app().await;
    let origin = "https://frontend.example.com";
    for (method, headers) in [
        ("TRACE", "authorization"),
        ("GET", "authorization, x-evil"),
        ("GET", "x-evil"),
        ("NOT A METHOD", ""),
    ] {
        let response = preflight(&base, origin, method, headers).await;
        assert_eq!(response.status(), 403, "{method} {headers}");
        assert_eq!(cors_headers(&response), Vec::<String>::new());
    }
}

#[tokio::test]
async fn swagger_ui_runs_its_own_scripts_and_nothing_else() {
    let (base, _) = serve_app().await;
    let response = reqwest::get(format!("{base}/docs")).await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    for (name, value) in SECURITY_HEADERS {
        if name != "content-security-policy" {
            assert_eq!(response.headers()[name], value, "{name}");
        }
    }
    let page = response.text().await.unwrap();
    assert!(page.contains("SwaggerUIBundle"), "the page is served whole");

    // Every inline script of the page is allowed by its hash, and only those.
    let hashes = inline_script_hashes(&page);
    assert_eq!(hashes.len(), 2, "the bundle and the script that starts it");
    let script_src = directive(&csp, "script-src");
    assert_eq!(script_src, hashes, "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(directive(&csp, "default-src"), ["'none'"]);
    assert_eq!(directive(&csp, "frame-ancestors"), ["'none'"]);
    assert_eq!(
        directive(&csp, "connect-src"),
        ["'self'"],
        "Try it out, /token"
    );
    assert!(
        directive(&csp, "img-src").contains(&"data:".to_owned()),
        "icons"
    );
    assert!(
        directive(&csp, "style-src").contains(&"'unsafe-inline'".to_owned()),
        "the page's stylesheet is inline"
    );

    // Asking again serves the same page under the same policy.
    let again = reqwest::get(format!("{base}/docs/")).await.unwrap();
    assert_eq!(again.headers()["content-security-policy"], csp.as_str());
    assert_eq!(again.text().await.unwrap(), page);

    // The API keeps its strict policy.
    let api = reqwest::get(format!("{base}/open")).await.unwrap();
    assert_eq!(
        api.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
}

fn directive(csp: &str, name: &str) -> Vec<String> {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(name).filter(|rest| rest.starts_with(' ')))
        .map(|sources| sources.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn security_headers_are_each_configurable() {
    #[handler]
    fn hello() -> &'static str {
        "hello"
    }
    let headers = SecurityHeaders::builder()
        .set("Strict-Transport-Security", "max-age=31536000")
        .set("Cross-Origin-Embedder-Policy", "require-corp")
        .remove("X-Frame-Options")
        .set_for_path("/hello", "Cache-Control", "private, max-age=5")
        .build()
        .unwrap();
    let base =
        serve_endpoint(App::new(Route::new().at("/hello", hello)).security_headers(headers)).await;
    let response = reqwest::get(format!("{base}/hello")).await.unwrap();
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    assert_eq!(
        response.headers()["cross-origin-embedder-policy"],
        "require-corp"
    );
    assert!(response.headers().get("x-frame-options").is_none());
    assert_eq!(response.headers()["cache-control"], "private, max-age=5");
    let elsewhere = reqwest::get(format!("{base}/other")).await.unwrap();
    assert_eq!(elsewhere.status(), 404);
    assert_eq!(elsewhere.headers()["cache-control"], "no-store");
    // Without `trusted_hosts`, any host is answered.
    let raw = raw_http(
        &base,
        "GET /hello HTTP/1.1\r\nHost: anything.test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status_of(&raw), 200, "{raw}");
}
