//! The benchmarks' yardstick must do the same work as the flagship, or the comparison
//! means nothing: it answers each benchmarked request as the contract says.

#[path = "common/flagship.rs"]
mod flagship_service;

use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn the_baseline_answers_the_benchmarked_requests_like_the_contract() {
    let running = baseline::start("127.0.0.1:0").await.expect("start");
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{base}{path}");

    let login = |user: &'static str, password: &'static str| {
        client
            .post(url("/token"))
            .form(&flagship_service::password_grant(user, password))
            .send()
    };
    let response = login("alice", "password").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let alice: Value = response.json().await.unwrap();
    let alice = alice["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        login("alice", "wrong").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        login("nobody", "password").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let john = flagship_service::token(&client, &base, "john", "secret").await;

    let get = |path: &str, token: Option<&str>| {
        let mut request = client.get(url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(
        get("/api/data", None).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        get("/users/me/", Some(&alice)).await.unwrap().status(),
        StatusCode::OK
    );
    let missing = get("/users/me/", None).await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    assert_eq!(
        get("/users/me/", Some("e30.e30.e30"))
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get("/users/", Some(&john)).await.unwrap().status(),
        StatusCode::OK
    );
    let public = get("/api/public", None).await.unwrap();
    assert_eq!(public.status(), StatusCode::OK);
    assert_eq!(public.headers()["ratelimit"], "\"public\";r=99;t=0");
    assert_eq!(public.headers()["x-content-type-options"], "nosniff");

    // The flagship's service-wide protections, done by hand: trusted hosts, CORS for
    // the one allowed origin, and the same security headers with the same values.
    let data_with = |name: &'static str, value: &'static str| {
        client.get(url("/api/data")).header(name, value).send()
    };
    let evil = data_with("host", "evil.example.net").await.unwrap();
    assert_eq!(evil.status(), StatusCode::BAD_REQUEST);
    assert_eq!(evil.headers()["x-frame-options"], "DENY");
    let sub = data_with("host", "app.EXAMPLE.com:8443").await.unwrap();
    assert_eq!(sub.status(), StatusCode::OK);
    let cors = data_with("origin", "https://frontend.example.com")
        .await
        .unwrap();
    assert_eq!(
        cors.headers()["access-control-allow-origin"],
        "https://frontend.example.com"
    );
    assert_eq!(cors.headers()["vary"], "Origin");
    let foreign = data_with("origin", "https://evil.example").await.unwrap();
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let preflight = client
        .request(reqwest::Method::OPTIONS, url("/users/"))
        .header("origin", "https://frontend.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let flagship_headers = secure_api::headers::SecurityHeaders::default()
        .apply("/api/data", secure_api::poem::Response::default())
        .await;
    for (name, value) in flagship_headers.headers() {
        assert_eq!(
            cors.headers().get(name.as_str()).map(|v| v.as_bytes()),
            Some(value.as_bytes()),
            "{name}"
        );
    }

    let key = client
        .get(url("/api/resource"))
        .header("x-api-key", "valid_api_key_2")
        .send()
        .await
        .unwrap();
    assert_eq!(key.status(), StatusCode::OK);
    let body: Value = key.json().await.unwrap();
    assert_eq!(
        body,
        json!({"resource": "secure data", "owner": "service2", "scope": "read:write"})
    );
    assert_eq!(
        get("/api/resource", None).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    let bad = json!({"username": "a", "email": "nope", "password": "short", "roles": ["boss"]});
    let response = client
        .post(url("/users/"))
        .bearer_auth(&alice)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.unwrap();
    // The same 422 as the flagship's, field for field: the benchmark's 422 row
    // compares equal work.
    let flagship = format!("http://{}", flagship_service::start().await);
    let flagship_alice = flagship_service::token(&client, &flagship, "alice", "password").await;
    for bad in [
        bad.clone(),
        json!({"username": "x!", "email": "not-an-email", "password": "short", "roles": ["root"]}),
        json!({"username": "fine_name", "email": "a@example.com", "password": "longenough", "roles": []}),
        json!({"username": "fine_name", "email": "a@example.com", "password": format!("Aa1!{}", "x".repeat(130))}),
    ] {
        let expected = post_json(
            &client,
            &format!("{flagship}/users/"),
            &flagship_alice,
            &bad,
        )
        .await;
        let answered = post_json(&client, &url("/users/"), &alice, &bad).await;
        assert_eq!(answered, expected);
    }
    assert_eq!(body["errors"].as_array().unwrap().len(), 7, "{body}");
    let response = client
        .post(url("/users/"))
        .bearer_auth(&john)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // A user created through the API is in the database the token endpoint reads: it
    // logs in, its profile is the row just written, and the name is then taken.
    let carol =
        json!({"username": "carol", "email": "carol@example.com", "password": "Str0ng!pass"});
    let create = || {
        client
            .post(url("/users/"))
            .bearer_auth(&alice)
            .json(&carol)
            .send()
    };
    let created = create().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(create().await.unwrap().status(), StatusCode::CONFLICT);
    let carol_token = flagship_service::token(&client, &base, "carol", "Str0ng!pass").await;
    let me: Value = get("/users/me/", Some(&carol_token))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "carol");
    assert_eq!(me["email"], "carol@example.com");
    let listed: Value = get("/users/", Some(&john))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "carol", "john"]);
    assert_eq!(
        login("carol", "wrong").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    // The 429 path: the sensitive limit is 10 per minute per client IP.
    for _ in 0..10 {
        let response = client.post(url("/api/sensitive")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let refused = client.post(url("/api/sensitive")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}

/// The JSON answer to `body` posted to `url` with `token`.
async fn post_json(client: &reqwest::Client, url: &str, token: &str, body: &Value) -> Value {
    let response = client.post(url).bearer_auth(token).json(body).send();
    response.await.unwrap().json().await.unwrap()
}
