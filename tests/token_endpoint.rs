//! The OAuth2 password-flow token endpoint over real HTTP (RFC 6749 §4.3, §5).

use reqwest::StatusCode;
use secure_api::users::UserRecord;
use secure_api_tests::*;
use serde_json::Value;

async fn login(server: &TestServer, form: &[(&str, &str)]) -> reqwest::Response {
    server
        .client
        .post(server.url("/token"))
        .form(form)
        .send()
        .await
        .expect("request")
}

fn password_form<'a>(username: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "password"),
        ("username", username),
        ("password", password),
    ]
}

#[tokio::test]
async fn login_issues_a_bearer_token_that_works_and_is_not_cached() {
    let server = serve().await;
    let response = login(&server, &password_form("alice", "password")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 1800);
    assert_eq!(body["scope"], "users:read users:write items:read");

    let token = body["access_token"].as_str().unwrap();
    let claims = server
        .tokens
        .verify(token)
        .expect("the issued token verifies");
    assert_eq!(claims.sub, "alice");
    let me = server
        .client
        .get(server.url("/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_token_carries_only_requested_scopes_the_user_has() {
    let server = serve().await;
    let mut form = password_form("john", "secret");
    form.push(("scope", "users:read users:write admin items:read"));
    let body: Value = login(&server, &form).await.json().await.unwrap();
    assert_eq!(body["scope"], "users:read items:read");
    let claims = server
        .tokens
        .verify(body["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        claims.scopes().collect::<Vec<_>>(),
        ["users:read", "items:read"]
    );

    let mut form = password_form("alice", "password");
    form.push(("scope", "users:read"));
    let body: Value = login(&server, &form).await.json().await.unwrap();
    assert_eq!(body["scope"], "users:read");
}

#[tokio::test]
async fn unknown_user_wrong_password_and_disabled_user_get_one_answer() {
    let server = serve().await;
    let mut answers = Vec::new();
    for (user, password) in [
        ("alice", "wrong"),
        ("nobody", "password"),
        ("dora", "explorer"),
    ] {
        let response = login(&server, &password_form(user, password)).await;
        let status = response.status();
        let mut headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter(|(name, _)| *name != "date")
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        headers.sort();
        let body = response.text().await.unwrap();
        answers.push((status, headers, body));
    }
    assert_eq!(answers[0].0, StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_str(&answers[0].2).unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(answers[0], answers[1], "unknown user vs wrong password");
    assert_eq!(answers[0], answers[2], "disabled user vs wrong password");
}

#[tokio::test]
async fn malformed_requests_are_rfc_6749_errors_never_500() {
    let server = serve().await;
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("grant_type", "client_credentials"),
                ("username", "a"),
                ("password", "b"),
            ],
            "unsupported_grant_type",
        ),
        (
            vec![("username", "alice"), ("password", "password")],
            "invalid_request",
        ),
        (
            vec![("grant_type", "password"), ("password", "password")],
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("username", ""),
                ("password", "x"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", ""),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "password"),
                ("scope", "bad\"scope"),
            ],
            "invalid_scope",
        ),
    ];
    for (form, error) in cases {
        let response = login(&server, &form).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{form:?}");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], error, "{form:?}");
    }

    let long = "x".repeat(2000);
    let response = login(&server, &password_form("alice", &long)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert!(body["error_description"].as_str().unwrap().contains("1024"));

    let response = server
        .client
        .post(server.url("/token"))
        .json(&serde_json::json!({"grant_type": "password", "username": "alice", "password": "password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "JSON instead of a form"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn a_hash_with_old_parameters_is_upgraded_at_login() {
    let server = serve().await;
    let old = secure_api::password::PasswordHasher::builder()
        .memory_kib(32)
        .iterations(1)
        .parallelism(1)
        .allow_weak_parameters_for_tests()
        .build()
        .unwrap();
    let old_hash = old.hash_blocking("carol's password").unwrap();
    server
        .users
        .insert(UserRecord {
            username: "carol".to_owned(),
            password_hash: old_hash.clone(),
            scopes: vec!["items:read".to_owned()],
            ..Default::default()
        })
        .unwrap();
    let response = login(&server, &password_form("carol", "carol's password")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let new_hash = server.users.get("carol").unwrap().password_hash;
    assert_ne!(new_hash, old_hash);
    assert!(new_hash.contains("m=64,t=1,p=1"), "{new_hash}");
    // The upgraded hash still logs carol in.
    let response = login(&server, &password_form("carol", "carol's password")).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_login_the_saturated_hashers_cannot_check_in_time_is_503_with_retry_after() {
    // One hashing slot, and a login may wait 200 ms for it.
    let hasher = secure_api::password::PasswordHasher::builder()
        .memory_kib(64)
        .iterations(1)
        .allow_weak_parameters_for_tests()
        .max_concurrent(1)
        .max_wait(std::time::Duration::from_millis(200))
        .build()
        .unwrap();
    let server = serve_hashing_with(hasher).await;
    // A stored hash made with a huge cost: checking it holds the only slot for seconds
    // (verification uses the parameters written in the stored hash).
    server
        .users
        .insert(UserRecord {
            username: "slowpoke".to_owned(),
            password_hash: "$argon2id$v=19$m=19456,t=400,p=1$c2FsdHNhbHRzYWx0$\
                            AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                .to_owned(),
            ..Default::default()
        })
        .unwrap();
    let slow = tokio::spawn({
        let client = server.client.clone();
        let url = server.url("/token");
        async move {
            let form = password_form("slowpoke", "anything");
            client.post(url).form(&form).send().await.unwrap().status()
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let response = login(&server, &password_form("john", "secret")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    // The slow check gave up too; neither counted as a wrong password.
    assert_eq!(slow.await.unwrap(), StatusCode::SERVICE_UNAVAILABLE);
}
