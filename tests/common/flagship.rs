//! The flagship, started in the test's process on a free port with its defaults (demo
//! users and keys), for the test files that drive it as a whole: `#[path]`-included.

use flagship::config::Config;
use serde_json::Value;
use std::net::SocketAddr;

/// Starts the flagship; its address.
pub async fn start() -> SocketAddr {
    let config = Config::from_lookup(|name| match name {
        "SECURE_API_ADDR" => Some("127.0.0.1:0".to_owned()),
        _ => None,
    })
    .expect("config");
    flagship::start(config).await.expect("start").addr
}

/// Logs `username` in at `base` with the password flow; the access token.
#[allow(dead_code)] // not every including test logs in
pub async fn token(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let response = client
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}
