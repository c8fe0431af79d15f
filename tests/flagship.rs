//! The flagship example over real HTTP, row by row of `../shared/CONTRACT.md` for the
//! endpoints it serves so far.

#[path = "common/flagship.rs"]
mod flagship_service;

use flagship::config::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Service {
    base: String,
    client: reqwest::Client,
}

impl Service {
    async fn start() -> Service {
        Self::start_with(&[]).await
    }

    /// Started with these environment variables set (and a free port).
    async fn start_with(vars: &[(&str, &str)]) -> Service {
        let running = flagship::start(flagship_service::config(vars))
            .await
            .expect("start");
        Service {
            base: format!("http://{}", running.addr),
            client: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `GET path`, as JSON.
    async fn json(&self, path: &str) -> Value {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        response.json().await.unwrap()
    }

    async fn login(
        &self,
        username: &str,
        password: &str,
        scope: Option<&str>,
    ) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.client
            .post(self.url("/token"))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    async fn token(&self, username: &str, password: &str) -> String {
        let response = self.login(username, password, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn token_endpoint_logs_demo_users_in() {
    let service = Service::start().await;
    let response = service
        .login("john", "secret", Some("users:read users:write"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    assert_eq!(
        body["scope"], "users:read",
        "only requested scopes john has"
    );

    let wrong = service.login("john", "wrong", None).await;
    let unknown = service.login("nobody", "secret", None).await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(wrong.text().await.unwrap(), unknown.text().await.unwrap());
}

#[tokio::test]
async fn users_me_with_and_without_a_token() {
    let service = Service::start().await;
    let token = service.token("alice", "password").await;
    for path in ["/users/me/", "/users/me"] {
        let response = service
            .client
            .get(service.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({
                "username": "alice", "email": "alice@example.com", "full_name": "Alice Smith",
                "disabled": false, "scopes": ["users:read", "users:write", "items:read", "items:write"],
            })
        );
    }
    let response = service
        .client
        .get(service.url("/users/me/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let response = service
        .client
        .get(service.url("/users/me/"))
        .bearer_auth("e30.e30.e30")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
}

#[tokio::test]
async fn users_list_needs_users_read() {
    let service = Service::start().await;
    let john = service.token("john", "secret").await;
    let response = service
        .client
        .get(service.url("/users/"))
        .bearer_auth(&john)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let users: Vec<Value> = response.json().await.unwrap();
    let names: Vec<&str> = users
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "john"]);
    assert!(
        users
            .iter()
            .all(|u| u.get("password_hash").is_none() && u.get("password").is_none())
    );

    let response = service.login("john", "secret", Some("items:read")).await;
    let body: Value = response.json().await.unwrap();
    let narrow = body["access_token"].as_str().unwrap();
    let response = service
        .client
        .get(service.url("/users/"))
        .bearer_auth(narrow)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"insufficient_scope\", scope=\"users:read\""
    );
}

#[tokio::test]
async fn creating_a_user_who_can_then_log_in() {
    let service = Service::start().await;
    let alice = service.token("alice", "password").await;
    // The contract's rule exactly: a common password that meets it is accepted.
    let common = json!({"username": "dave", "email": "dave@example.com", "password": "P@ssw0rd"});
    let response = service
        .client
        .post(service.url("/users/"))
        .bearer_auth(&alice)
        .json(&common)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let new_user = json!({"username": "bob_1", "email": "bob@example.com", "password": "Sup3r-secret", "roles": ["user"]});
    let response = service
        .client
        .post(service.url("/users/"))
        .bearer_auth(&alice)
        .json(&new_user)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["username"], "bob_1");
    assert_eq!(created["scopes"], json!(["users:read", "items:read"]));
    assert!(created.get("password").is_none());

    let bob = service.login("bob_1", "Sup3r-secret", None).await;
    assert_eq!(bob.status(), StatusCode::OK);

    let again = service
        .client
        .post(service.url("/users/"))
        .bearer_auth(&alice)
        .json(&new_user)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(again.headers()["content-type"], "application/problem+json");

    let weak =
        json!({"username": "carol", "email": "carol@example.com", "password": "alllowercase1"});
    let response = service
        .client
        .post(service.url("/users/"))
        .bearer_auth(&alice)
        .json(&weak)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn creating_needs_users_write_even_with_a_broken_body() {
    let service = Service::start().await;
    let john = service.token("john", "secret").await;
    let response = service
        .client
        .post(service.url("/users/"))
        .bearer_auth(&john)
        .header("content-type", "application/json")
        .body("{this is not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn concurrent_creates_of_one_name_make_one_user() {
    let service = Service::start().await;
    let alice = service.token("alice", "password").await;
    let attempts = (0..8).map(|_| {
        let request = service
            .client
            .post(service.url("/users/"))
            .bearer_auth(&alice)
            .json(&json!({"username": "twin", "email": "twin@example.com", "password": "Tw1n-password"}));
        async move { request.send().await.unwrap().status() }
    });
    let statuses = futures_join_all(attempts).await;
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        7,
        "{statuses:?}"
    );
}

async fn futures_join_all<F: std::future::Future<Output = StatusCode> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<StatusCode> {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test]
async fn unguarded_and_versioned_endpoints() {
    let service = Service::start().await;
    let data: Value = service.json("/api/data").await;
    assert!(data["message"].is_string());
    let v1: Value = service.json("/api/v1/users").await;
    assert_eq!(v1, json!({"version": "1", "users": ["user1", "user2"]}));
    let v2: Value = service.json("/api/v2/users").await;
    assert_eq!(
        v2,
        json!({"version": "2", "users": [{"id": 1, "name": "user1", "role": "admin"}, {"id": 2, "name": "user2", "role": "user"}]})
    );
}

#[tokio::test]
async fn openapi_document_and_docs_page() {
    let service = Service::start().await;
    let doc: Value = service.json("/openapi.json").await;
    let flow = &doc["components"]["securitySchemes"]["OAuth2"]["flows"]["password"];
    assert_eq!(flow["tokenUrl"], "/token");
    assert_eq!(flow["scopes"].as_object().unwrap().len(), 4);
    // Every endpoint of the contract, spelt as the seed writes it (poem-openapi alone
    // would drop the trailing slashes), and nothing else.
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/api/data",
            "/api/public",
            "/api/resource",
            "/api/sensitive",
            "/api/user-specific",
            "/api/v1/users",
            "/api/v2/users",
            "/service-endpoint",
            "/token",
            "/users/",
            "/users/me/",
        ]
    );
    assert!(doc["paths"]["/users/"]["get"].is_object());
    // A guard whose store fails answers 503: documented where the guard runs.
    for (path, method) in [("/users/me/", "get"), ("/api/resource", "get")] {
        let unavailable = &doc["paths"][path][method]["responses"]["503"];
        assert_eq!(
            unavailable["headers"]["Retry-After"]["required"], true,
            "{path}"
        );
    }
    assert!(
        !doc.to_string().contains("x-secure-api-declared-path"),
        "the marks that carry the spelling are gone"
    );
    let create = &doc["paths"]["/users/"]["post"];
    assert_eq!(create["security"], json!([{"OAuth2": ["users:write"]}]));
    assert!(create["responses"]["403"].is_object());
    assert!(create["responses"]["409"].is_object());

    let docs = service
        .client
        .get(service.url("/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

/// `POST /users/` with `body` as alice (who has `users:write`).
async fn post_user(
    service: &Service,
    body: reqwest::Body,
    content_type: &str,
) -> reqwest::Response {
    let alice = service.token("alice", "password").await;
    service
        .client
        .post(service.url("/users/"))
        .bearer_auth(&alice)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A login from `client`, as a trusted proxy at 127.0.0.1 forwards it.
async fn login_from(
    service: &Service,
    client: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    service
        .client
        .post(service.url("/token"))
        .header("x-forwarded-for", client)
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_body_with_all_four_fields_wrong_gets_one_422_naming_all_four() {
    let service = Service::start().await;
    let body = json!({"username": "x!", "email": "not-an-email", "password": "short", "roles": ["user", "root"]});
    let response = post_user(&service, body.to_string().into(), "application/json").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 422);
    let errors = problem["errors"].as_array().unwrap();
    let at = |pointer: &str| -> Vec<&Value> {
        errors.iter().filter(|e| e["pointer"] == pointer).collect()
    };
    let codes = |pointer: &str| -> Vec<&str> {
        at(pointer)
            .iter()
            .map(|e| e["code"].as_str().unwrap())
            .collect()
    };
    assert_eq!(codes("/username"), ["length", "pattern"]);
    assert_eq!(at("/username")[0]["params"], json!({"min": 3, "max": 50}));
    assert_eq!(at("/username")[0]["value"], "x!");
    assert_eq!(codes("/email"), ["email"]);
    assert_eq!(
        codes("/password"),
        ["length", "composition", "composition", "composition"]
    );
    assert!(
        at("/password").iter().all(|e| e.get("value").is_none()),
        "a password is never echoed: {errors:#?}"
    );
    assert_eq!(codes("/roles/1"), ["one_of"]);
    assert_eq!(
        at("/roles/1")[0]["detail"],
        "must be one of: admin, user, moderator"
    );
    assert_eq!(errors.len(), 8, "{errors:#?}");
}

#[tokio::test]
async fn missing_fields_wrong_types_and_unknown_fields_are_422_with_the_rule_failures() {
    let service = Service::start().await;
    let body = json!({"username": 42, "password": "Sup3r-secret", "roles": "admin", "is_admin": true, "email": "a@b"});
    let response = post_user(&service, body.to_string().into(), "application/json").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = response.json().await.unwrap();
    let found: Vec<(String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["pointer"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = |p: &str, c: &str| (p.to_owned(), c.to_owned());
    assert_eq!(
        found,
        [
            expect("/username", "type"),
            expect("/roles", "type"),
            expect("/is_admin", "unknown_field"),
        ],
        "{problem:#}"
    );
    let missing = json!({"username": "carol", "password": "Sup3r-secret"});
    let response = post_user(&service, missing.to_string().into(), "application/json").await;
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["pointer"], "/email");
    assert_eq!(problem["errors"][0]["code"], "required");
}

#[tokio::test]
async fn bodies_that_are_not_json_too_large_or_of_another_type() {
    let service = Service::start().await;
    let response = post_user(&service, "{\"username\": ".into(), "application/json").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["code"], "json_syntax");

    let response = post_user(
        &service,
        "username=bob".into(),
        "application/x-www-form-urlencoded",
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );

    let huge = format!("{{\"username\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let response = post_user(&service, huge.into(), "application/json").await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let response = post_user(&service, deep.into(), "application/json").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_document_carries_user_create_rules_and_the_422() {
    let service = Service::start().await;
    let response = service.client.get(service.url("/openapi.json")).send();
    let doc: Value = response.await.unwrap().json().await.unwrap();
    let schema = &doc["components"]["schemas"]["UserCreate"];
    let properties = &schema["properties"];
    assert_eq!(properties["username"]["minLength"], 3);
    assert_eq!(properties["username"]["maxLength"], 50);
    assert_eq!(properties["username"]["pattern"], "^[a-zA-Z0-9_-]+$");
    assert_eq!(properties["email"]["format"], "email");
    assert_eq!(properties["password"]["minLength"], 8);
    assert_eq!(properties["password"]["writeOnly"], true);
    assert_eq!(
        properties["roles"]["items"]["enum"],
        json!(["admin", "user", "moderator"])
    );
    assert_eq!(properties["roles"]["default"], json!([]));
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["required"], json!(["username", "email", "password"]));

    let create = &doc["paths"]["/users/"]["post"];
    let invalid = &create["responses"]["422"]["content"]["application/problem+json"]["schema"];
    assert_eq!(invalid["$ref"], "#/components/schemas/ValidationProblem");
    for status in ["400", "413", "415"] {
        assert!(create["responses"][status].is_object(), "{status}");
    }
    let errors = &doc["components"]["schemas"]["ValidationProblem"]["properties"]["errors"];
    assert_eq!(
        errors["items"]["$ref"],
        "#/components/schemas/ValidationError"
    );
}
fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers()[name].to_str().unwrap()
}

async fn call(service: &Service, method: reqwest::Method, path: &str) -> reqwest::Response {
    service
        .client
        .request(method, service.url(path))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn public_and_sensitive_endpoints_are_limited_per_client_ip() {
    let service = Service::start().await;
    let (get, post) = (reqwest::Method::GET, reqwest::Method::POST);
    for i in 0..100 {
        let response = call(&service, get.clone(), "/api/public").await;
        assert_eq!(response.status(), StatusCode::OK, "request {i}");
        assert_eq!(
            header(&response, "ratelimit-policy"),
            "\"public\";q=100;w=60"
        );
        assert!(header(&response, "ratelimit").starts_with(&format!("\"public\";r={};", 99 - i)));
        if i == 0 {
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                body,
                json!({"message": "This is a rate-limited public endpoint"})
            );
        }
    }
    let refused = call(&service, get, "/api/public").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = header(&refused, "retry-after").parse().unwrap();
    assert!(retry_after >= 1);
    assert_eq!(header(&refused, "content-type"), "application/problem+json");

    for _ in 0..10 {
        let response = call(&service, post.clone(), "/api/sensitive").await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"message": "This is a more strictly rate-limited endpoint"})
        );
    }
    let refused = call(&service, post, "/api/sensitive").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    // 6 s per unit, less the time the ten requests took (whole seconds, rounded up).
    let retry_after = header(&refused, "retry-after");
    assert!(retry_after == "6" || retry_after == "5", "{retry_after}");
    assert_eq!(
        header(&refused, "ratelimit"),
        format!("\"sensitive\";r=0;t={retry_after}")
    );
}

#[tokio::test]
async fn a_forged_x_forwarded_for_changes_nothing_without_trusted_proxies() {
    let service = Service::start().await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        let response = service
            .client
            .post(service.url("/api/sensitive"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses[..10], [200; 10]);
    assert_eq!(statuses[10..], [429; 2]);
}

#[tokio::test]
async fn user_specific_is_per_verified_subject_and_per_ip_without_a_valid_token() {
    let service = Service::start().await;
    let john = service.token("john", "secret").await;
    let get = |token: Option<&str>| {
        let mut request = service.client.get(service.url("/api/user-specific"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap() }
    };
    let first = get(Some(&john)).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(header(&first, "ratelimit"), "\"user-specific\";r=99;t=1");
    let body: Value = first.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": "This endpoint is rate-limited per user"})
    );
    for _ in 1..100 {
        assert_eq!(get(Some(&john)).await.status(), StatusCode::OK);
    }
    assert_eq!(
        get(Some(&john)).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another user, and the same address without a token or with a bad one, count
    // apart from john; a bad token is no refusal.
    let alice = service.token("alice", "password").await;
    assert_eq!(get(Some(&alice)).await.status(), StatusCode::OK);
    let anonymous = get(None).await;
    assert_eq!(anonymous.status(), StatusCode::OK);
    assert_eq!(
        header(&anonymous, "ratelimit"),
        "\"user-specific\";r=99;t=1"
    );
    let bad = get(Some("not-a-token")).await;
    assert_eq!(bad.status(), StatusCode::OK);
    assert!(
        header(&bad, "ratelimit").starts_with("\"user-specific\";r=98;"),
        "the same budget as without a token"
    );
}

#[tokio::test]
async fn failed_logins_are_throttled_per_client_ip_and_username() {
    let service = Service::start_with(&[
        ("SECURE_API_LOGIN_LIMIT", "3/15m"),
        ("SECURE_API_TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let here = "203.0.113.1";
    for _ in 0..3 {
        let wrong = login_from(&service, here, "john", "wrong").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    }
    // The right password too, until the window lets one through (15 min / 3); the
    // refusal comes after the tarpit's delay, so a hammering client gets few of them.
    let started = std::time::Instant::now();
    let throttled = login_from(&service, here, "john", "secret").await;
    assert!(started.elapsed() >= secure_api::ratelimit::DEFAULT_TARPIT);
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&throttled, "retry-after"), "300");
    assert_eq!(header(&throttled, "cache-control"), "no-store");
    let body: Value = throttled.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(body.get("access_token").is_none());
    // Other usernames from here, and john from elsewhere, are unaffected.
    assert_eq!(
        login_from(&service, here, "alice", "password")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        login_from(&service, "203.0.113.2", "john", "secret")
            .await
            .status(),
        StatusCode::OK
    );
    // An unknown username is throttled exactly like a known one.
    for _ in 0..3 {
        let wrong = login_from(&service, here, "nobody", "wrong").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    }
    let started = std::time::Instant::now();
    let unknown = login_from(&service, here, "nobody", "secret").await;
    assert!(started.elapsed() >= secure_api::ratelimit::DEFAULT_TARPIT);
    assert_eq!(unknown.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&unknown, "retry-after"), "300");
    // Successful logins are not failures: alice can log in again and again.
    for _ in 0..4 {
        assert_eq!(
            login_from(&service, here, "alice", "password")
                .await
                .status(),
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn the_document_states_every_limit() {
    let service = Service::start().await;
    let doc: Value = service.json("/openapi.json").await;
    for (path, method, limit) in [
        ("/api/public", "get", "100 requests per 60 s per client IP"),
        (
            "/api/sensitive",
            "post",
            "10 requests per 60 s per client IP",
        ),
        (
            "/api/user-specific",
            "get",
            "100 requests per 60 s per token subject",
        ),
    ] {
        let too_many = &doc["paths"][path][method]["responses"]["429"];
        let description = too_many["description"].as_str().unwrap();
        assert!(description.contains(limit), "{path}: {description}");
        assert_eq!(
            too_many["headers"]["Retry-After"]["required"], true,
            "{path}"
        );
    }
    assert!(doc["paths"]["/token"]["post"]["responses"]["429"].is_object());
}

/// The seed's headers and the OWASP additions, as the contract lists them.
const SECURITY_HEADERS: [&str; 9] = [
    "x-content-type-options",
    "strict-transport-security",
    "x-frame-options",
    "referrer-policy",
    "permissions-policy",
    "cache-control",
    "content-security-policy",
    "cross-origin-resource-policy",
    "cross-origin-opener-policy",
];

fn assert_security_headers(response: &reqwest::Response, what: &str) {
    for name in SECURITY_HEADERS {
        assert!(response.headers().get(name).is_some(), "{what}: no {name}");
    }
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(headers["x-frame-options"], "DENY", "{what}");
    assert_eq!(headers["cache-control"], "no-store", "{what}");
    assert_eq!(
        headers["cross-origin-resource-policy"], "same-origin",
        "{what}"
    );
    assert_eq!(
        headers["cross-origin-opener-policy"], "same-origin",
        "{what}"
    );
}

#[tokio::test]
async fn security_headers_on_every_answer() {
    let service = Service::start().await;
    let john = service.token("john", "secret").await;
    let client = &service.client;
    let cases = [
        ("200", client.get(service.url("/api/data")), 200),
        ("401", client.get(service.url("/users/me/")), 401),
        (
            "403",
            client
                .post(service.url("/users/"))
                .bearer_auth(&john)
                .json(&json!({})),
            403,
        ),
        ("404", client.get(service.url("/nowhere")), 404),
        ("405", client.delete(service.url("/api/data")), 405),
    ];
    for (what, request, status) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        assert_security_headers(&response, what);
        assert_eq!(
            response.headers()["content-security-policy"],
            "default-src 'none'; frame-ancestors 'none'",
            "{what}"
        );
    }
    // /docs loosens its own CSP, just enough for Swagger UI.
    let docs = client.get(service.url("/docs")).send().await.unwrap();
    assert_security_headers(&docs, "/docs");
    let csp = docs.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

#[tokio::test]
async fn hosts_outside_the_list_get_400() {
    let service = Service::start().await;
    let addr = service.base.trim_start_matches("http://");
    for (host, status) in [
        ("localhost:3000", 200),
        ("127.0.0.1", 200),
        ("api.example.com", 200),
        ("eu.example.com", 200),
        ("evil.com", 400),
        ("example.com", 400),
        ("api.example.com.evil.com", 400),
    ] {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request =
            format!("GET /api/data HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{host}: {answer}"
        );
        assert!(
            answer
                .to_ascii_lowercase()
                .contains("x-frame-options: deny")
        );
    }
}

#[tokio::test]
async fn cors_allows_the_frontend_only() {
    let service = Service::start().await;
    let preflight = |origin: &'static str| {
        service
            .client
            .request(reqwest::Method::OPTIONS, service.url("/users/"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://frontend.example.com").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://frontend.example.com"
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(
        refused
            .headers()
            .keys()
            .all(|name| !name.as_str().starts_with("access-control-")),
        "{:?}",
        refused.headers()
    );
}

#[tokio::test]
async fn api_resource_takes_a_key_from_the_header_the_query_or_the_cookie() {
    let service = Service::start().await;
    let client = &service.client;
    let cases = [
        (
            client
                .get(service.url("/api/resource"))
                .header("X-API-Key", "valid_api_key_1"),
            "service1",
            "read",
        ),
        (
            client.get(service.url("/api/resource?api-key=valid_api_key_2")),
            "service2",
            "read:write",
        ),
        (
            client
                .get(service.url("/api/resource"))
                .header("cookie", "api-key=valid_api_key_1"),
            "service1",
            "read",
        ),
    ];
    for (request, owner, scope) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{owner}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"resource": "secure data", "owner": owner, "scope": scope})
        );
    }

    let missing = client
        .get(service.url("/api/resource"))
        .send()
        .await
        .unwrap();
    let wrong = client
        .get(service.url("/api/resource"))
        .header("X-API-Key", "invalid_api_key")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_security_headers(&missing, "missing key");
    assert_eq!(
        missing.headers()["www-authenticate"],
        wrong.headers()["www-authenticate"]
    );
    assert_eq!(missing.text().await.unwrap(), wrong.text().await.unwrap());

    let doc = service.json("/openapi.json").await;
    let schemes = &doc["components"]["securitySchemes"];
    for (name, location) in [
        ("ApiKeyHeader", "header"),
        ("ApiKeyQuery", "query"),
        ("ApiKeyCookie", "cookie"),
    ] {
        assert_eq!(schemes[name]["type"], "apiKey");
        assert_eq!(schemes[name]["in"], location);
    }
    assert_eq!(
        doc["paths"]["/api/resource"]["get"]["security"],
        json!([{"ApiKeyHeader": []}, {"ApiKeyQuery": []}, {"ApiKeyCookie": []}])
    );
}

#[tokio::test]
async fn versioned_users_with_v1_deprecated() {
    let service = Service::start().await;
    let v1 = service
        .client
        .get(service.url("/api/v1/users"))
        .send()
        .await
        .unwrap();
    assert_eq!(v1.status(), StatusCode::OK);
    assert!(
        v1.headers()["deprecation"]
            .to_str()
            .unwrap()
            .starts_with('@')
    );
    assert!(v1.headers().get("sunset").is_some());
    assert_eq!(
        v1.headers()["link"],
        "</api/v2/users>; rel=\"successor-version\""
    );
    assert_security_headers(&v1, "v1");
    let v2 = service
        .client
        .get(service.url("/api/v2/users"))
        .send()
        .await
        .unwrap();
    assert!(v2.headers().get("deprecation").is_none());

    let doc = service.json("/openapi.json").await;
    let v1 = &doc["paths"]["/api/v1/users"]["get"];
    let v2 = &doc["paths"]["/api/v2/users"]["get"];
    assert_eq!(v1["deprecated"], true);
    assert_eq!(v1["tags"], json!(["v1"]));
    assert_eq!(v2["tags"], json!(["v2"]));
}

#[tokio::test]
async fn service_endpoint_over_mutual_tls_only() {
    use secure_api_tests::tls::{Ca, tls_get, write_temp};
    let ca = Ca::new("flagship clients CA");
    let server = ca.server();
    let cert = write_temp("server.crt", &server.cert);
    let key = write_temp("server.key", &server.key);
    let client_ca = write_temp("clients-ca.crt", &ca.cert_pem());
    let vars = [
        ("SECURE_API_ADDR", "127.0.0.1:0".to_owned()),
        ("SECURE_API_MTLS_ADDR", "127.0.0.1:0".to_owned()),
        ("SECURE_API_TLS_CERT", cert.display().to_string()),
        ("SECURE_API_TLS_KEY", key.display().to_string()),
        ("SECURE_API_TLS_CLIENT_CA", client_ca.display().to_string()),
    ];
    let running = flagship::start(config_of(&vars)).await.unwrap();
    let (mtls, _) = running.mtls.as_ref().expect("the mTLS listener started");

    let client = ca.valid_client("service1");
    let answer = tls_get(
        *mtls,
        &ca.cert_pem(),
        Some(&client),
        "/service-endpoint",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&answer.body).unwrap(),
        json!({"message": "Authenticated via mTLS", "client": "service1"})
    );
    assert_eq!(answer.headers["x-content-type-options"], "nosniff");

    let refused = tls_get(*mtls, &ca.cert_pem(), None, "/service-endpoint", &[]).await;
    assert!(refused.is_err(), "{refused:?}");
    let other = Ca::new("other CA").valid_client("service1");
    let refused = tls_get(
        *mtls,
        &ca.cert_pem(),
        Some(&other),
        "/service-endpoint",
        &[],
    )
    .await;
    assert!(refused.is_err(), "{refused:?}");

    // The same service on the plain listener refuses it.
    let plain = reqwest::get(format!("http://{}/service-endpoint", running.addr))
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::FORBIDDEN);
    assert_security_headers(&plain, "plain /service-endpoint");

    // A bad file stops the start, naming it.
    let broken = [
        ("SECURE_API_ADDR", "127.0.0.1:0".to_owned()),
        ("SECURE_API_TLS_CERT", key.display().to_string()),
        ("SECURE_API_TLS_KEY", key.display().to_string()),
        ("SECURE_API_TLS_CLIENT_CA", client_ca.display().to_string()),
    ];
    let error = flagship::start(config_of(&broken))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains(&key.display().to_string()) && error.contains("holds no certificate"),
        "{error}"
    );
}

/// The configuration these environment variables make.
fn config_of(vars: &[(&str, String)]) -> Config {
    Config::from_lookup(|name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    })
    .expect("config")
}
