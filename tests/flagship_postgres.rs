//! The flagship with its users in a real PostgreSQL (`SECURE_API_DATABASE_URL`),
//! started by the test from the system's packages.

#[path = "common/flagship.rs"]
mod common;

use common::{Instance, SHARED_JWT_SECRET, assert_concurrent_creates_make_one_user, config};
use reqwest::StatusCode;
use secure_api_tests::postgres_server::PostgresServer;
use serde_json::json;

#[tokio::test]
async fn users_created_in_postgres_log_in_and_names_are_unique() {
    let postgres = PostgresServer::start();
    let url = postgres.url();
    let service = Instance::start(&[("SECURE_API_DATABASE_URL", &url)]).await;
    let alice = service.token("alice", "password").await;

    assert_eq!(
        service.create_user(&alice, "bob_1").await,
        StatusCode::CREATED
    );
    assert_eq!(service.login("bob_1", "Sup3r-secret").await, StatusCode::OK);
    assert_eq!(
        service.login("bob_1", "wrong-Passw0rd").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        service.create_user(&alice, "bob_1").await,
        StatusCode::CONFLICT
    );
    // Names compare byte for byte, as the tokens' subjects do.
    assert_eq!(
        service.create_user(&alice, "Bob_1").await,
        StatusCode::CREATED
    );

    let bob = service.token("bob_1", "Sup3r-secret").await;
    let (status, me) = service.get_json("/users/me/", &bob).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        me,
        json!({"username": "bob_1", "email": "bob_1@example.com", "full_name": null,
               "disabled": false, "scopes": ["users:read", "items:read"]})
    );
    let (status, list) = service.get_json("/users/", &alice).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Bob_1", "alice", "bob_1", "john"]);
    assert!(list.to_string().find("argon2").is_none(), "no hash shown");

    // The demo API keys, stored as digests, are found in PostgreSQL.
    let (status, resource) = service.resource("valid_api_key_2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resource["owner"], "service2");
    assert_eq!(
        service.resource("valid_api_key_3").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn concurrent_creates_of_one_name_in_postgres_make_one_user() {
    let postgres = PostgresServer::start();
    let service = Instance::start(&[("SECURE_API_DATABASE_URL", &postgres.url())]).await;
    assert_concurrent_creates_make_one_user(&[&service], "twin").await;
}

#[tokio::test]
async fn data_is_kept_across_restarts_and_seeding_twice_changes_nothing() {
    let postgres = PostgresServer::start();
    let vars = [
        ("SECURE_API_DATABASE_URL", postgres.url()),
        ("SECURE_API_JWT_SECRET", SHARED_JWT_SECRET.to_owned()),
    ];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let first = Instance::start(&vars).await;
    let alice = first.token("alice", "password").await;
    assert_eq!(first.create_user(&alice, "kept").await, StatusCode::CREATED);
    first.running.server.abort();

    let second = Instance::start(&vars).await;
    assert_eq!(second.login("kept", "Sup3r-secret").await, StatusCode::OK);
    let (_, list) = second.get_json("/users/", &alice).await;
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
    // The same secret, so the same digests: the keys seeded by the first start work.
    assert_eq!(second.resource("valid_api_key_1").await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_unreachable_or_malformed_database_stops_the_start_naming_the_variable() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for url in [
        format!("postgres://app:hunter2@127.0.0.1:{port}/app"),
        "postgres://app:hunter2@127.0.0.1:notaport/app".to_owned(),
    ] {
        let error = flagship::start(config(&[("SECURE_API_DATABASE_URL", &url)]))
            .await
            .err()
            .expect("the start fails")
            .to_string();
        assert!(
            error.starts_with("SECURE_API_DATABASE_URL: cannot open the database"),
            "{error}"
        );
        assert!(!error.contains("hunter2"), "never the password: {error}");
    }
}

#[tokio::test]
async fn a_database_that_goes_away_gets_503_never_a_500() {
    let postgres = PostgresServer::start();
    let service = Instance::start(&[("SECURE_API_DATABASE_URL", &postgres.url())]).await;
    let alice = service.token("alice", "password").await;
    drop(postgres);

    let list = service.get("/users/", &alice).await;
    assert_eq!(list.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(list.headers()["retry-after"], "1");
    let body = list.text().await.unwrap();
    assert!(
        !body.contains("127.0.0.1") && !body.to_lowercase().contains("refused"),
        "no database detail: {body}"
    );
    assert_eq!(
        service.create_user(&alice, "late").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let login = service.login_from("203.0.113.8", "alice", "password").await;
    assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(login.headers()["retry-after"], "1");
    let response = service.get("/users/me/", &alice).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        service.resource("valid_api_key_1").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
}
