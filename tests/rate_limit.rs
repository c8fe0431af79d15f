//! `#[rate_limit]` over real HTTP, with the in-memory store.

use reqwest::StatusCode;
use secure_api::ratelimit::{HeaderStyle, Limiter, MemoryStore, Quota, TrustedProxies};
use secure_api_tests::limited_api::{
    LimitedServer, assert_ratelimit, exhaust_burst, header, serve_limited, statuses,
};
use serde_json::Value;
use std::time::Duration;

async fn memory() -> LimitedServer {
    serve_limited(Some(Limiter::in_memory())).await
}

#[tokio::test]
async fn the_burst_is_admitted_then_429_with_retry_after_and_the_draft_fields() {
    let server = memory().await;
    let refused = exhaust_burst(&server).await;
    assert_eq!(
        header(&refused, "ratelimit-policy").unwrap(),
        "\"burst\";q=3;w=60"
    );
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["status"], 429);
    assert_eq!(body["title"], "Too Many Requests");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(
            "too many requests: \"burst\" allows 3 requests per 60 s per client IP; retry in"
        ),
        "{detail}"
    );
    // Another operation, another budget; an operation without limits, no fields.
    assert_eq!(server.get("/load").await.status(), StatusCode::OK);
    let free = server.get("/free").await;
    assert!(header(&free, "ratelimit").is_none() && header(&free, "ratelimit-policy").is_none());
}

#[tokio::test]
async fn a_request_refused_by_one_stacked_limit_consumes_from_none() {
    let server = memory().await;
    let first = server.get("/stacked").await;
    assert_eq!(first.status(), StatusCode::OK);
    // Both limits are listed; the state is the one closest to refusing.
    assert_eq!(
        header(&first, "ratelimit-policy").unwrap(),
        "\"stacked\";q=2;w=60, \"shared-hourly\";q=3;w=3600"
    );
    assert_eq!(header(&first, "ratelimit").unwrap(), "\"stacked\";r=1;t=30");
    assert_eq!(server.get("/stacked").await.status(), StatusCode::OK);
    // The minute limit refuses, again and again...
    for _ in 0..5 {
        let refused = server.get("/stacked").await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            header(&refused, "ratelimit")
                .unwrap()
                .starts_with("\"stacked\";r=0;")
        );
    }
    // ...and the hourly budget, shared by name with /hourly, still has its third unit.
    let hourly = server.get("/hourly").await;
    assert_eq!(hourly.status(), StatusCode::OK);
    assert_ratelimit(
        &header(&hourly, "ratelimit").unwrap(),
        "shared-hourly",
        0,
        1200,
    );
    assert_eq!(
        server.get("/hourly").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn limits_by_ip_run_before_authentication_and_count_refused_logins() {
    let server = memory().await;
    // No token: 401, each counted by the IP limit, with the fields.
    let unauthorized = server.get("/authed").await;
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&unauthorized, "www-authenticate").unwrap(), "Bearer");
    assert_eq!(
        header(&unauthorized, "ratelimit").unwrap(),
        "\"authed\";r=1;t=30"
    );
    assert_eq!(
        server.get("/authed").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The budget is spent: 429 before the token is even looked at.
    let alice = server.token("alice", &["users:read"]);
    for token in [None, Some(alice.as_str())] {
        let mut request = server.client.get(server.url("/authed"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(header(&response, "www-authenticate").is_none());
    }
}

#[tokio::test]
async fn limits_by_subject_run_after_authentication() {
    let server = memory().await;
    // Authentication first: no token is 401 however often, never 429.
    assert_eq!(statuses(&server, "/authed-per-user", 4).await, [401; 4]);
    let call = |token: String| {
        let request = server
            .client
            .get(server.url("/authed-per-user"))
            .bearer_auth(token);
        async move { request.send().await.unwrap() }
    };
    // A token without the scope: 403, and it costs alice nothing.
    let narrow = call(server.token("alice", &["items:read"])).await;
    assert_eq!(narrow.status(), StatusCode::FORBIDDEN);
    let alice = server.token("alice", &["users:read"]);
    let first = call(alice.clone()).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(
        header(&first, "ratelimit").unwrap(),
        "\"authed_per_user\";r=1;t=30"
    );
    assert_eq!(call(alice.clone()).await.status(), StatusCode::OK);
    assert_eq!(call(alice).await.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another subject from the same address has its own budget.
    let john = server.token("john", &["users:read"]);
    assert_eq!(call(john).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_subject_limit_falls_back_to_the_client_ip_without_a_valid_token() {
    let server = memory().await;
    let with = |token: Option<String>| {
        let mut request = server.client.get(server.url("/per-user"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap().status() }
    };
    // No token is no refusal: the client IP's budget.
    assert_eq!(with(None).await, StatusCode::OK);
    assert_eq!(with(None).await, StatusCode::OK);
    assert_eq!(with(None).await, StatusCode::TOO_MANY_REQUESTS);
    // A bad token is no subject either (and not the raw token as a key).
    assert_eq!(
        with(Some("e30.e30.e30".to_owned())).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    let forged = server.token("alice", &[]).replace('.', ".x");
    assert_eq!(with(Some(forged)).await, StatusCode::TOO_MANY_REQUESTS);
    // A verified subject counts on its own, whichever token it presents.
    let alice = || Some(server.token("alice", &[]));
    assert_eq!(with(alice()).await, StatusCode::OK);
    assert_eq!(with(alice()).await, StatusCode::OK);
    assert_eq!(with(alice()).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(with(Some(server.token("john", &[]))).await, StatusCode::OK);
}

#[tokio::test]
async fn with_both_kinds_a_refusal_by_the_subject_limit_costs_the_ip_limit_nothing() {
    let server = memory().await;
    let call = |subject: &str| {
        let request = server
            .client
            .get(server.url("/mixed"))
            .bearer_auth(server.token(subject, &[]));
        async move { request.send().await.unwrap() }
    };
    assert_eq!(call("alice").await.status(), StatusCode::OK);
    let refused = call("alice").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_ratelimit(&header(&refused, "ratelimit").unwrap(), "mixed-user", 0, 60);
    // The IP limit (2 per minute) was charged once: john gets its second unit.
    let john = call("john").await;
    assert_eq!(john.status(), StatusCode::OK);
    let refused = call("dora").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        header(&refused, "ratelimit")
            .unwrap()
            .starts_with("\"mixed\";r=0;"),
        "now the IP limit refuses"
    );
}

#[tokio::test]
async fn the_body_is_not_read_before_the_limits() {
    let server = memory().await;
    let post = |body: &'static str| {
        let request = server
            .client
            .post(server.url("/notes"))
            .header("content-type", "application/json")
            .body(body);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(post(r#"{"text": "hi"}"#).await.status(), StatusCode::OK);
    // Not 400 for the broken JSON: the limit answers first.
    let refused = post("{not json").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn errors_of_a_limited_operation_carry_the_fields_too() {
    let server = memory().await;
    let response = server
        .client
        .post(server.url("/notes"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(header(&response, "ratelimit").unwrap(), "\"note\";r=0;t=60");
}

#[tokio::test]
async fn a_forged_x_forwarded_for_from_an_untrusted_peer_changes_nothing() {
    let server = memory().await;
    let mut seen = Vec::new();
    for i in 0..5 {
        let forged = format!("203.0.113.{i}");
        let response = server
            .get_with(
                "/burst",
                &[
                    ("x-forwarded-for", &forged),
                    ("forwarded", &format!("for={forged}")),
                ],
            )
            .await;
        seen.push(response.status().as_u16());
    }
    assert_eq!(seen, [200, 200, 200, 429, 429]);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let limiter = Limiter::builder(MemoryStore::new())
        .trusted_proxies(TrustedProxies::parse("127.0.0.1").unwrap())
        .build();
    let server = serve_limited(Some(limiter)).await;
    let as_client = |xff: &'static str| {
        let request = server
            .client
            .get(server.url("/search"))
            .header("x-forwarded-for", xff);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(as_client("203.0.113.1").await, 200);
    assert_eq!(as_client("203.0.113.1").await, 200);
    assert_eq!(as_client("203.0.113.1").await, 429);
    // A forged left part does not make another client.
    assert_eq!(as_client("6.6.6.6, 203.0.113.1").await, 429);
    assert_eq!(as_client("203.0.113.2").await, 200);
    // IPv6 clients count per /64.
    assert_eq!(as_client("2001:db8:1:2::1").await, 200);
    assert_eq!(as_client("2001:db8:1:2::ffff").await, 200);
    assert_eq!(as_client("2001:db8:1:2:3::1").await, 429);
    assert_eq!(as_client("2001:db8:1:3::1").await, 200);
}

#[tokio::test]
async fn custom_keys_api_keys_and_shared_constants() {
    let server = &memory().await;
    let tenant =
        |t: &'static str| async move { server.get_with("/tenant", &[("x-tenant", t)]).await };
    assert_eq!(tenant("acme").await.status(), StatusCode::OK);
    assert_eq!(tenant("acme").await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(tenant("globex").await.status(), StatusCode::OK);
    // Without the key, the client IP.
    assert_eq!(server.get("/tenant").await.status(), StatusCode::OK);
    assert_eq!(
        server.get("/tenant").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    let key = |owner: &'static str| async move {
        server
            .get_with("/service", &[("x-test-api-key-owner", owner)])
            .await
    };
    assert_eq!(key("service1").await.status(), StatusCode::OK);
    assert_eq!(
        key("service1").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(key("service2").await.status(), StatusCode::OK);

    // Two operations naming one constant share its budget.
    assert_eq!(server.get("/search").await.status(), StatusCode::OK);
    let second = server.get("/search-again").await;
    assert_eq!(second.status(), StatusCode::OK);
    assert_ratelimit(&header(&second, "ratelimit").unwrap(), "search", 0, 30);
    assert_eq!(
        server.get("/search").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn configuration_overrides_a_limit_without_recompiling() {
    let limiter = Limiter::builder(MemoryStore::new())
        .override_limit("burst", Quota::per(1, Duration::from_secs(10)))
        .overrides_from_str("search=5/1m")
        .unwrap()
        .build();
    let server = serve_limited(Some(limiter)).await;
    let first = server.get("/burst").await;
    assert_eq!(
        header(&first, "ratelimit-policy").unwrap(),
        "\"burst\";q=1;w=10"
    );
    assert_eq!(
        server.get("/burst").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        statuses(&server, "/search", 6).await,
        [200, 200, 200, 200, 200, 429]
    );
}

#[tokio::test]
async fn without_a_limiter_the_limits_still_hold_in_memory() {
    let server = serve_limited(None).await;
    assert_eq!(statuses(&server, "/burst", 4).await, [200, 200, 200, 429]);
}

#[tokio::test]
async fn the_older_header_fields_are_a_switch_away() {
    let legacy = Limiter::builder(MemoryStore::new())
        .header_style(HeaderStyle::Legacy)
        .build();
    let server = serve_limited(Some(legacy)).await;
    let response = server.get("/burst").await;
    assert_eq!(header(&response, "ratelimit-limit").unwrap(), "3");
    assert_eq!(header(&response, "ratelimit-remaining").unwrap(), "2");
    assert_eq!(header(&response, "ratelimit-reset").unwrap(), "20");
    assert!(header(&response, "ratelimit").is_none());

    let off = Limiter::builder(MemoryStore::new())
        .header_style(HeaderStyle::Off)
        .build();
    let server = serve_limited(Some(off)).await;
    let statuses = statuses(&server, "/burst", 4).await;
    assert_eq!(statuses, [200, 200, 200, 429]);
    let refused = server.get("/burst").await;
    assert!(header(&refused, "retry-after").is_some());
    assert!(
        header(&refused, "ratelimit").is_none() && header(&refused, "ratelimit-policy").is_none()
    );
}

#[tokio::test]
async fn the_document_lists_the_429_and_states_the_limits() {
    let server = memory().await;
    let doc: Value = server.get("/openapi.json").await.json().await.unwrap();
    let responses = &doc["paths"]["/burst"]["get"]["responses"];
    let too_many = &responses["429"];
    assert_eq!(
        too_many["description"],
        "Too many requests: at most 3 requests per 60 s per client IP (\"burst\"). Retry after \
         the seconds in `Retry-After`."
    );
    assert_eq!(too_many["headers"]["Retry-After"]["required"], true);
    assert_eq!(
        too_many["headers"]["Retry-After"]["schema"]["type"],
        "integer"
    );
    assert!(too_many["headers"]["RateLimit"].is_object());
    assert!(too_many["content"]["application/problem+json"].is_object());
    assert!(responses["200"]["headers"]["RateLimit-Policy"].is_object());
    let stacked = doc["paths"]["/stacked"]["get"]["responses"]["429"]["description"]
        .as_str()
        .unwrap();
    assert!(stacked.contains("2 requests per 60 s per client IP (\"stacked\"), and 3 requests per 1 h per client IP (\"shared-hourly\")"), "{stacked}");
    let per_user = doc["paths"]["/per-user"]["get"]["responses"]["429"]["description"]
        .as_str()
        .unwrap();
    assert!(per_user.contains("per token subject (per client IP without a valid token)"));
    assert!(doc["paths"]["/free"]["get"]["responses"]["429"].is_null());
    // The subject-limited operation without a token requirement documents no 401.
    assert!(doc["paths"]["/per-user"]["get"]["responses"]["401"].is_null());
}
