//! An API with every kind of `#[rate_limit]`, served with the limiter a test chooses.

use crate::{Scope, serve_endpoint, test_hasher, test_users, token_service};
use secure_api::{
    Authenticator, Principal,
    poem::{EndpointExt, Request, Route},
    poem_openapi::{self, OpenApiService, payload::Json},
    prelude::*,
    ratelimit::{ApiKeyId, KeyKind, Limiter, Quota, RateLimit},
    token::TokenService,
};
use std::time::Duration;

/// Declared once, used by two operations: one budget.
pub const SEARCH: RateLimit =
    RateLimit::new("search", Quota::per(2, Duration::from_secs(60))).key(KeyKind::Ip);

/// A key of the caller's choosing: the `X-Tenant` header.
pub fn tenant(request: &Request) -> Option<String> {
    request.header("x-tenant").map(str::to_owned)
}

#[derive(poem_openapi::Object, Debug)]
pub struct Note {
    pub text: String,
}

pub struct LimitedApi;

#[secure_api(scopes = Scope)]
impl LimitedApi {
    /// 3 per minute per client IP
    #[oai(path = "/burst", method = "get")]
    #[rate_limit(3, per = "60s")]
    async fn burst(&self) -> Json<&'static str> {
        Json("ok")
    }

    /// 2 per minute AND 3 per hour (shared with /hourly), per client IP
    #[oai(path = "/stacked", method = "get")]
    #[rate_limit(2, per = "60s")]
    #[rate_limit(3, per = "1h", name = "shared-hourly")]
    async fn stacked(&self) -> Json<&'static str> {
        Json("ok")
    }

    /// The hourly budget of /stacked
    #[oai(path = "/hourly", method = "get")]
    #[rate_limit(3, per = "1h", name = "shared-hourly")]
    async fn hourly(&self) -> Json<&'static str> {
        Json("ok")
    }

    /// 20 per minute per client IP, for load
    #[oai(path = "/load", method = "get")]
    #[rate_limit(20, per = "60s")]
    async fn load(&self) -> Json<&'static str> {
        Json("ok")
    }

    /// Per verified subject, per IP without a valid token; no token required
    #[oai(path = "/per-user", method = "get")]
    #[rate_limit(2, per = "60s", key = subject)]
    async fn per_user(&self) -> Json<&'static str> {
        Json("ok")
    }

    /// A bearer token, and 2 per minute per client IP
    #[oai(path = "/authed", method = "get")]
    #[rate_limit(2, per = "60s")]
    async fn authed(&self, who: Principal) -> Json<String> {
        Json(who.subject().to_owned())
    }

    /// users:read, and 2 per minute per subject
    #[oai(path = "/authed-per-user", method = "get")]
    #[requires_scopes("users:read")]
    #[rate_limit(2, per = "60s", key = subject)]
    async fn authed_per_user(&self, who: Principal) -> Json<String> {
        Json(who.subject().to_owned())
    }

    /// 2 per minute per client IP AND 1 per minute per subject
    #[oai(path = "/mixed", method = "get")]
    #[rate_limit(2, per = "60s")]
    #[rate_limit(1, per = "60s", key = subject, name = "mixed-user")]
    async fn mixed(&self) -> Json<&'static str> {
        Json("ok")
    }

    /// A body, 1 per minute per client IP
    #[oai(path = "/notes", method = "post")]
    #[rate_limit(1, per = "60s")]
    async fn note(&self, note: Json<Note>) -> Json<String> {
        Json(note.0.text)
    }

    /// 1 per minute per tenant
    #[oai(path = "/tenant", method = "get")]
    #[rate_limit(1, per = "60s", key = tenant)]
    async fn tenant(&self) -> Json<&'static str> {
        Json("ok")
    }

    /// 1 per minute per API key
    #[oai(path = "/service", method = "get")]
    #[rate_limit(1, per = "60s", key = api_key, burst = 1)]
    async fn service(&self) -> Json<&'static str> {
        Json("ok")
    }

    /// The SEARCH constant
    #[oai(path = "/search", method = "get")]
    #[rate_limit(SEARCH)]
    async fn search(&self) -> Json<&'static str> {
        Json("found")
    }

    /// The SEARCH constant again: the same budget
    #[oai(path = "/search-again", method = "get")]
    #[rate_limit(SEARCH)]
    async fn search_again(&self) -> Json<&'static str> {
        Json("found")
    }

    /// No limit at all
    #[oai(path = "/free", method = "get")]
    async fn free(&self) -> Json<&'static str> {
        Json("ok")
    }
}

/// A running [`LimitedApi`].
pub struct LimitedServer {
    pub base: String,
    pub client: reqwest::Client,
    pub tokens: TokenService,
}

impl LimitedServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn token(&self, subject: &str, scopes: &[&str]) -> String {
        self.tokens
            .issue(subject, scopes)
            .expect("issue")
            .access_token
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("send")
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("send")
    }
}

/// Serves [`LimitedApi`] with `limiter` as request data (none: the framework's
/// default). An `X-Test-Api-Key-Owner` header stands in for an API-key guard: it
/// becomes the request's [`ApiKeyId`].
pub async fn serve_limited(limiter: Option<Limiter>) -> LimitedServer {
    let tokens = token_service();
    let auth = Authenticator::new(tokens.clone(), test_users(&test_hasher()));
    let api = OpenApiService::new(LimitedApi, "limited", "1.0");
    let spec = api.spec_endpoint();
    let app = Route::new()
        .nest("/", api)
        .at("/openapi.json", spec)
        .data(auth)
        .before(|mut request: Request| async move {
            if let Some(owner) = request.header("x-test-api-key-owner") {
                let id = ApiKeyId(owner.to_owned());
                request.extensions_mut().insert(id);
            }
            Ok(request)
        });
    let base = match limiter {
        Some(limiter) => serve_endpoint(app.data(limiter).boxed()).await,
        None => serve_endpoint(app.boxed()).await,
    };
    LimitedServer {
        base,
        client: reqwest::Client::new(),
        tokens,
    }
}

/// A response header as text.
pub fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap().to_owned())
}

/// The statuses of `n` GETs of `path`, one after the other.
pub async fn statuses(server: &LimitedServer, path: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(server.get(path).await.status().as_u16());
    }
    out
}

/// `"name";r=R;t=T` as (name, R, T).
fn parse_ratelimit(value: &str) -> (String, u64, u64) {
    let mut parts = value.split(';');
    let name = parts.next().unwrap().trim_matches('"').to_owned();
    let mut field = |prefix: &str| {
        parts
            .next()
            .unwrap()
            .strip_prefix(prefix)
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let r = field("r=");
    (name, r, field("t="))
}

/// The `RateLimit` field says `r` left and `t` seconds until more, where `t` may be a
/// second less when a slow machine let one pass since the first request.
pub fn assert_ratelimit(value: &str, name: &str, r: u64, t: u64) {
    let (got_name, got_r, got_t) = parse_ratelimit(value);
    assert_eq!((got_name.as_str(), got_r), (name, r), "{value}");
    assert!(got_t == t || got_t + 1 == t, "{value}: t should be {t}");
}

/// `/burst` (3 per 60 s) three times, each admitted with what is left, then once more:
/// refused with `Retry-After` and the fields. Returns the refusal.
pub async fn exhaust_burst(server: &LimitedServer) -> reqwest::Response {
    for remaining in [2, 1, 0] {
        let response = server.get("/burst").await;
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        assert_eq!(
            header(&response, "ratelimit-policy").unwrap(),
            "\"burst\";q=3;w=60"
        );
        // One unit comes back every 20 s.
        assert_ratelimit(
            &header(&response, "ratelimit").unwrap(),
            "burst",
            remaining,
            20,
        );
    }
    let refused = server.get("/burst").await;
    assert_eq!(refused.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = header(&refused, "retry-after").unwrap().parse().unwrap();
    assert!((19..=20).contains(&retry_after), "{retry_after}");
    assert_eq!(
        header(&refused, "ratelimit").unwrap(),
        format!("\"burst\";r=0;t={retry_after}")
    );
    assert_eq!(
        header(&refused, "content-type").unwrap(),
        "application/problem+json"
    );
    refused
}
