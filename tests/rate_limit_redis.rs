//! `#[rate_limit]` over real HTTP with the Redis store and a real `redis-server`
//! (install it with `apt-get install redis-server`).

use reqwest::StatusCode;
use secure_api::ratelimit::{FailureMode, Limiter, RedisStore, RedisStoreBuilder};
use secure_api_tests::{
    limited_api::{
        LimitedServer, assert_ratelimit, exhaust_burst, header, serve_limited, statuses,
    },
    redis_server::RedisServer,
};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A limiter on `redis`; generous timeouts, since two cores run every test at once.
async fn limiter(redis: &RedisServer, mode: FailureMode) -> Limiter {
    let store = RedisStore::builder(&redis.url())
        .timeout(Duration::from_millis(500))
        .connect_timeout(Duration::from_millis(500))
        .connect()
        .await
        .expect("connect to the test redis-server");
    Limiter::builder(store).failure_mode(mode).build()
}

/// [`LimitedApi`](secure_api_tests::limited_api::LimitedApi) over a store on the
/// test Redis, failing open; and its limiter, to read its counters.
async fn serve_on(store: RedisStoreBuilder) -> (LimitedServer, Limiter) {
    let store = store
        .connect()
        .await
        .expect("connect to the test redis-server");
    let limiter = Limiter::builder(store).build();
    (serve_limited(Some(limiter.clone())).await, limiter)
}

#[tokio::test]
async fn the_redis_store_limits_and_answers_like_the_memory_one() {
    let redis = RedisServer::start();
    let server = serve_limited(Some(limiter(&redis, FailureMode::Open).await)).await;
    let refused = exhaust_burst(&server).await;
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["status"], 429);

    // One script for every limit of a request: a refusal by one charges none.
    assert_eq!(
        statuses(&server, "/stacked", 5).await,
        [200, 200, 429, 429, 429]
    );
    let hourly = server.get("/hourly").await;
    assert_eq!(hourly.status(), StatusCode::OK);
    assert_ratelimit(
        &header(&hourly, "ratelimit").unwrap(),
        "shared-hourly",
        0,
        1200,
    );

    // Subjects, verified, never raw tokens.
    let alice = server.token("alice", &[]);
    let call = || {
        server
            .client
            .get(server.url("/per-user"))
            .bearer_auth(&alice)
            .send()
    };
    assert_eq!(call().await.unwrap().status(), StatusCode::OK);
    assert_eq!(call().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        call().await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // IP and subject limits together: the IP limits are peeked before authentication
    // and charged with the subject's after it, or not at all.
    let mixed = |subject: &str| {
        let request = server
            .client
            .get(server.url("/mixed"))
            .bearer_auth(server.token(subject, &[]));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        [
            mixed("alice").await,
            mixed("alice").await,
            mixed("john").await,
            mixed("dora").await
        ],
        [200, 429, 200, 429],
        "alice's refusal did not charge the IP limit (2 per minute): john got the second unit"
    );
}

#[tokio::test]
async fn keys_expire_when_their_budget_is_full_again() {
    let redis = RedisServer::start();
    let server = serve_limited(Some(limiter(&redis, FailureMode::Open).await)).await;
    assert_eq!(server.get("/burst").await.status(), StatusCode::OK);
    let alice = server.token("alice", &[]);
    let response = server
        .client
        .get(server.url("/per-user"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("secure-api:rl:*")
        .query_async(&mut connection)
        .await
        .unwrap();
    keys.sort();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys[0].ends_with("::LimitedApi::burst#burst|ip:127.0.0.1"),
        "{keys:?}"
    );
    assert!(
        keys[1].ends_with("::LimitedApi::per_user#per_user|sub:alice"),
        "{keys:?}"
    );
    assert!(
        !keys.iter().any(|key| key.contains(&alice)),
        "never the raw token"
    );
    // One unit of 3 per 60 s is back in 20 s: the key lives no longer.
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&keys[0])
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!((1..=20_000).contains(&ttl), "{ttl}");
}

#[tokio::test]
async fn two_instances_sharing_one_redis_admit_exactly_the_limit_between_them() {
    let redis = RedisServer::start();
    let a = serve_limited(Some(limiter(&redis, FailureMode::Closed).await)).await;
    let b = serve_limited(Some(limiter(&redis, FailureMode::Closed).await)).await;
    let client = reqwest::Client::new();
    let requests = (0..100).map(|i| {
        let url = match i % 2 {
            0 => a.url("/load"),
            _ => b.url("/load"),
        };
        let request = client.get(url);
        tokio::spawn(async move { request.send().await.unwrap().status() })
    });
    let mut statuses = Vec::new();
    for request in requests.collect::<Vec<_>>() {
        statuses.push(request.await.unwrap());
    }
    let admitted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (admitted, refused),
        (20, 80),
        "20 per minute, shared by both"
    );
}

/// Sends `/burst` until the store answers again (the `RateLimit` field is back).
async fn until_the_store_answers(server: &LimitedServer) -> reqwest::Response {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = server.get("/burst").await;
        if header(&response, "ratelimit").is_some() {
            return response;
        }
        assert!(Instant::now() < deadline, "the store did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn when_redis_dies_fail_open_admits_and_limits_again_once_it_is_back() {
    let mut redis = RedisServer::start();
    let limiter = limiter(&redis, FailureMode::Open).await;
    let server = serve_limited(Some(limiter.clone())).await;
    assert_eq!(statuses(&server, "/burst", 4).await, [200, 200, 200, 429]);

    redis.kill();
    for _ in 0..5 {
        let response = server.get("/burst").await;
        assert_eq!(response.status(), StatusCode::OK, "fail open");
        assert!(header(&response, "ratelimit").is_none(), "no state to tell");
        assert_eq!(
            header(&response, "ratelimit-policy").unwrap(),
            "\"burst\";q=3;w=60"
        );
    }
    let stats = limiter.stats();
    assert!(stats.failed_open >= 5, "{stats:?}");
    assert_eq!(stats.store_errors, stats.failed_open);

    // Back, empty: the budget is whole again, and enforced.
    redis.start_again();
    let first = until_the_store_answers(&server).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(header(&first, "ratelimit").unwrap(), "\"burst\";r=2;t=20");
    assert_eq!(statuses(&server, "/burst", 3).await, [200, 200, 429]);
}

#[tokio::test]
async fn when_redis_dies_fail_closed_refuses_with_retry_after_until_it_is_back() {
    let mut redis = RedisServer::start();
    let limiter = limiter(&redis, FailureMode::Closed).await;
    let server = serve_limited(Some(limiter.clone())).await;
    assert_eq!(server.get("/burst").await.status(), StatusCode::OK);

    redis.kill();
    for _ in 0..3 {
        let refused = server.get("/burst").await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&refused, "retry-after").unwrap(), "1");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(
            body["detail"],
            "rate limiting is unavailable right now; retry in 1 s"
        );
    }
    // Operations without limits do not depend on Redis at all.
    assert_eq!(server.get("/free").await.status(), StatusCode::OK);
    assert!(limiter.stats().failed_closed >= 3);

    redis.start_again();
    let back = until_the_store_answers(&server).await;
    assert_eq!(back.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_redis_that_stops_answering_is_a_failure_not_a_wait() {
    let redis = RedisServer::start();
    let store = RedisStore::builder(&redis.url()).timeout(Duration::from_millis(100));
    let (server, limiter) = serve_on(store).await;
    assert!(header(&server.get("/burst").await, "ratelimit").is_some());

    // Redis holds every command for 5 s.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut admin = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(5000)
        .query_async(&mut admin)
        .await
        .unwrap();
    let response = server.get("/burst").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        header(&response, "ratelimit").is_none(),
        "answered without Redis: it did not wait for the pause to end"
    );
    assert_eq!(limiter.stats().failed_open, 1);
}

#[tokio::test]
async fn an_unreachable_redis_is_refused_at_start_up() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    redis.kill();
    let error = RedisStore::builder(&url)
        .connect_timeout(Duration::from_millis(200))
        .connect()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "rate-limit store failed: cannot use Redis at {url}"
        )),
        "{error}"
    );
    let error = RedisStore::builder("http://nope")
        .connect()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("cannot use Redis at http://nope"),
        "{error}"
    );
}

/// A flagship replica on `redis`, trusting 127.0.0.1 as a proxy, with a shared secret.
async fn flagship_replica(redis: &RedisServer) -> String {
    let url = redis.url();
    let config = flagship::config::Config::from_lookup(|name| match name {
        "SECURE_API_ADDR" => Some("127.0.0.1:0".to_owned()),
        "SECURE_API_JWT_SECRET" => Some("ab".repeat(32)),
        "SECURE_API_REDIS_URL" => Some(url.clone()),
        "SECURE_API_TRUSTED_PROXIES" => Some("127.0.0.1".to_owned()),
        "SECURE_API_LOGIN_LIMIT" => Some("2/15m".to_owned()),
        _ => None,
    })
    .expect("config");
    let running = flagship::start(config).await.expect("start");
    format!("http://{}", running.addr)
}

#[tokio::test]
async fn flagship_replicas_share_limits_and_login_throttling_through_redis() {
    let redis = RedisServer::start();
    let replicas = [
        flagship_replica(&redis).await,
        flagship_replica(&redis).await,
    ];
    let client = reqwest::Client::new();
    let login = |replica: &String, password: &'static str| {
        client
            .post(format!("{replica}/token"))
            .header("x-forwarded-for", "203.0.113.7")
            .form(&[
                ("grant_type", "password"),
                ("username", "john"),
                ("password", password),
            ])
            .send()
    };
    // One failure on each replica spends the budget of both.
    assert_eq!(
        login(&replicas[0], "wrong").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        login(&replicas[1], "wrong").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    for replica in &replicas {
        let throttled = login(replica, "secret").await.unwrap();
        assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&throttled, "retry-after").unwrap(), "450");
    }

    // Successful logins give their unit back (a refund in the script): alice logs in
    // more often than the failure budget allows.
    for i in 0..4 {
        let response = client
            .post(format!("{}/token", replicas[i % 2]))
            .header("x-forwarded-for", "203.0.113.7")
            .form(&[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    // 10 sensitive requests per minute between the two replicas.
    let mut statuses = Vec::new();
    for i in 0..12 {
        let response = client
            .post(format!("{}/api/sensitive", replicas[i % 2]))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses[..10], [200; 10]);
    assert_eq!(statuses[10..], [429; 2]);
}

#[tokio::test]
async fn the_flagship_refuses_to_start_on_an_unreachable_redis() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    redis.kill();
    let config = flagship::config::Config::from_lookup(|name| match name {
        "SECURE_API_ADDR" => Some("127.0.0.1:0".to_owned()),
        "SECURE_API_REDIS_URL" => Some(url.clone()),
        _ => None,
    })
    .expect("config");
    let error = flagship::start(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        error.starts_with("SECURE_API_REDIS_URL: rate-limit store failed: cannot use Redis at"),
        "{error}"
    );
    assert!(
        error.ends_with("start Redis, or unset the variable to limit in memory"),
        "{error}"
    );
}

#[tokio::test]
async fn after_a_failure_redis_is_left_alone_for_a_pause() {
    let mut redis = RedisServer::start();
    let store = RedisStore::builder(&redis.url())
        .timeout(Duration::from_millis(500))
        .pause_after_failure(Duration::from_secs(600));
    let (server, limiter) = serve_on(store).await;
    assert!(header(&server.get("/burst").await, "ratelimit").is_some());
    redis.kill();
    assert!(header(&server.get("/burst").await, "ratelimit").is_none());
    // Redis is back, but within the pause nobody waits on it: every check fails at once.
    redis.start_again();
    for _ in 0..3 {
        let response = server.get("/burst").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(header(&response, "ratelimit").is_none());
    }
    assert_eq!(limiter.stats().failed_open, 4);
}

#[tokio::test]
async fn a_flushed_script_is_loaded_again_without_a_failure() {
    let redis = RedisServer::start();
    let limiter = limiter(&redis, FailureMode::Closed).await;
    let server = serve_limited(Some(limiter.clone())).await;
    assert_eq!(statuses(&server, "/burst", 2).await, [200, 200]);
    // What a Redis restart or an operator's `SCRIPT FLUSH` leaves: no script by that SHA.
    let mut connection = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(statuses(&server, "/burst", 2).await, [200, 429]);
    assert_eq!(limiter.stats().store_errors, 0, "{:?}", limiter.stats());
}
