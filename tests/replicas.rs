//! Two instances of the flagship on one Redis and one PostgreSQL, as two replicas
//! behind a load balancer: users, rate limits and login throttling are shared.

#[path = "common/flagship.rs"]
mod common;

use common::{Instance, SHARED_JWT_SECRET, assert_concurrent_creates_make_one_user};
use reqwest::StatusCode;
use secure_api_tests::{postgres_server::PostgresServer, redis_server::RedisServer};

/// Starts two replicas together (their migrations and demo seeds race).
async fn two_replicas(postgres: &PostgresServer, redis: &RedisServer) -> (Instance, Instance) {
    let database_url = postgres.url();
    let redis_url = redis.url();
    let vars = [
        ("SECURE_API_DATABASE_URL", database_url.as_str()),
        ("SECURE_API_REDIS_URL", redis_url.as_str()),
        ("SECURE_API_JWT_SECRET", SHARED_JWT_SECRET),
        // Clients come through the load balancer, here 127.0.0.1.
        ("SECURE_API_TRUSTED_PROXIES", "127.0.0.1"),
        ("SECURE_API_RATE_LIMITS", "public=6/60s"),
        ("SECURE_API_LOGIN_LIMIT", "3/15m"),
    ];
    tokio::join!(Instance::start(&vars), Instance::start(&vars))
}

#[tokio::test]
async fn a_user_created_through_one_replica_logs_in_through_the_other() {
    let (postgres, redis) = (PostgresServer::start(), RedisServer::start());
    let (a, b) = two_replicas(&postgres, &redis).await;
    let alice = a.token("alice", "password").await;
    assert_eq!(a.create_user(&alice, "carol").await, StatusCode::CREATED);
    assert_eq!(b.login("carol", "Sup3r-secret").await, StatusCode::OK);
    // One secret: a token of one replica works at the other, and so do the API keys
    // each stored as digests.
    let carol_at_b = b.token("carol", "Sup3r-secret").await;
    let (status, me) = a.get_json("/users/me/", &carol_at_b).await;
    assert_eq!(
        (status, me["username"].as_str()),
        (StatusCode::OK, Some("carol"))
    );
    for replica in [&a, &b] {
        assert_eq!(replica.resource("valid_api_key_1").await.0, StatusCode::OK);
    }
    // A duplicate is refused whichever replica is asked, and concurrent creates
    // spread over both make one user.
    assert_eq!(b.create_user(&alice, "carol").await, StatusCode::CONFLICT);
    assert_concurrent_creates_make_one_user(&[&a, &b], "twin").await;
}

#[tokio::test]
async fn a_limit_of_n_is_shared_exactly_by_both_replicas() {
    let (postgres, redis) = (PostgresServer::start(), RedisServer::start());
    let (a, b) = two_replicas(&postgres, &redis).await;
    let public = |replica: &Instance| {
        replica
            .client
            .get(replica.url("/api/public"))
            .header("x-forwarded-for", "198.51.100.9")
            .send()
    };
    for i in 0..6 {
        let replica = if i % 2 == 0 { &a } else { &b };
        let response = public(replica).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "request {i}");
        let remaining = response.headers()["ratelimit"].to_str().unwrap().to_owned();
        assert!(
            remaining.starts_with(&format!("\"public\";r={};", 5 - i)),
            "request {i}: {remaining}"
        );
    }
    for replica in [&a, &b] {
        let refused = public(replica).await.unwrap();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(refused.headers()["retry-after"], "10");
    }
}

#[tokio::test]
async fn the_login_throttle_is_shared_by_both_replicas() {
    let (postgres, redis) = (PostgresServer::start(), RedisServer::start());
    let (a, b) = two_replicas(&postgres, &redis).await;
    let here = "198.51.100.20";
    // Three failures, spread over both replicas, use up the budget of 3.
    for replica in [&a, &b, &a] {
        let wrong = replica.login_from(here, "john", "wrong").await;
        assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    }
    for replica in [&a, &b] {
        let throttled = replica.login_from(here, "john", "secret").await;
        assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(throttled.headers()["retry-after"], "300");
    }
    // Only that client and that name.
    assert_eq!(
        b.login_from("198.51.100.21", "john", "secret")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        b.login_from(here, "alice", "password").await.status(),
        StatusCode::OK
    );
}
