//! The flagship started in this test process on a free port (with a database, and
//! optionally a Redis, of the test's own), and the calls the tests make to it.

// Each test binary that includes this file uses a part of it.
#![allow(dead_code)]

use flagship::{Running, config::Config};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A secret every instance of a test shares, as replicas behind one load balancer do.
pub const SHARED_JWT_SECRET: &str =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

pub struct Instance {
    pub running: Running,
    pub base: String,
    pub client: reqwest::Client,
}

/// The configuration of these variables, on a free port.
pub fn config(vars: &[(&str, &str)]) -> Config {
    Config::from_lookup(|name| match name {
        "SECURE_API_ADDR" => Some("127.0.0.1:0".to_owned()),
        _ => vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string()),
    })
    .expect("config")
}

impl Instance {
    /// Starts the flagship with these environment variables (and a free port).
    pub async fn start(vars: &[(&str, &str)]) -> Instance {
        let running = flagship::start(config(vars)).await.expect("start");
        Instance {
            base: format!("http://{}", running.addr),
            running,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /token` from `client_ip`, as a trusted proxy at 127.0.0.1 forwards it.
    pub async fn login_from(
        &self,
        client_ip: &str,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/token"))
            .header("x-forwarded-for", client_ip)
            .form(&password_grant(username, password))
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, username: &str, password: &str) -> StatusCode {
        self.login_from("203.0.113.7", username, password)
            .await
            .status()
    }

    pub async fn token(&self, username: &str, password: &str) -> String {
        let response = self.login_from("203.0.113.7", username, password).await;
        assert_eq!(response.status(), StatusCode::OK, "{username} logs in");
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// `POST /users/` of `username` (password `Sup3r-secret`) as the holder of `token`.
    pub async fn create_user(&self, token: &str, username: &str) -> StatusCode {
        self.client
            .post(self.url("/users/"))
            .bearer_auth(token)
            .json(&new_user(username))
            .send()
            .await
            .unwrap()
            .status()
    }

    /// `GET path` with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// `GET path` with a bearer token, as JSON.
    pub async fn get_json(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let response = self.get(path, token).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `GET /api/resource` with an API key in `X-API-Key`.
    pub async fn resource(&self, key: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(self.url("/api/resource"))
            .header("x-api-key", key)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

pub fn new_user(username: &str) -> Value {
    json!({
        "username": username,
        "email": format!("{username}@example.com"),
        "password": "Sup3r-secret",
        "roles": ["user"],
    })
}

/// `count` concurrent creations of `username`, spread over `instances` in turn; the
/// statuses, in no particular order.
pub async fn concurrent_creates(
    instances: &[&Instance],
    token: &str,
    username: &str,
    count: usize,
) -> Vec<StatusCode> {
    let attempts: Vec<_> = (0..count)
        .map(|i| {
            let instance = instances[i % instances.len()];
            let request = instance
                .client
                .post(instance.url("/users/"))
                .bearer_auth(token)
                .json(&new_user(username));
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    statuses
}

/// 20 concurrent creations of `username`, over `instances` in turn, as alice: one
/// user, who then logs in.
pub async fn assert_concurrent_creates_make_one_user(instances: &[&Instance], username: &str) {
    let alice = instances[0].token("alice", "password").await;
    let statuses = concurrent_creates(instances, &alice, username, 20).await;
    assert_one_created(&statuses);
    for instance in instances {
        assert_eq!(
            instance.login(username, "Sup3r-secret").await,
            StatusCode::OK
        );
    }
}

/// Exactly one 201 and only 409 besides: the database decided, never a 5xx.
pub fn assert_one_created(statuses: &[StatusCode]) {
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!(
        (created, conflicts),
        (1, statuses.len() - 1),
        "{statuses:?}"
    );
}

/// Starts the flagship with its defaults (demo users and keys) on a free port; its
/// address. The server runs until the test process ends.
pub async fn start() -> std::net::SocketAddr {
    Instance::start(&[]).await.running.addr
}

/// Logs `username` in at `base` with the password flow; the access token.
pub async fn token(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let response = client
        .post(format!("{base}/token"))
        .form(&password_grant(username, password))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// The form of a password-grant login (RFC 6749 section 4.3).
pub fn password_grant<'a>(username: &'a str, password: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("grant_type", "password"),
        ("username", username),
        ("password", password),
    ]
}
