//! The flagship's embedded database: in memory by default, a file with
//! `SECURE_API_DATABASE_URL=sqlite:PATH`.

#[path = "common/flagship.rs"]
mod common;

use common::{Instance, SHARED_JWT_SECRET, assert_concurrent_creates_make_one_user};
use reqwest::StatusCode;

#[tokio::test]
async fn concurrent_creates_of_one_name_in_the_default_database_make_one_user() {
    let service = Instance::start(&[]).await;
    assert_concurrent_creates_make_one_user(&[&service], "twin").await;
}

#[tokio::test]
async fn an_sqlite_file_is_created_and_kept_across_restarts() {
    let dir = std::env::temp_dir().join(format!("secure-api-sqlite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("users.db");
    let _ = std::fs::remove_file(&file);
    let url = format!("sqlite:{}", file.display());
    let vars = [
        ("SECURE_API_DATABASE_URL", url.as_str()),
        ("SECURE_API_JWT_SECRET", SHARED_JWT_SECRET),
    ];

    let first = Instance::start(&vars).await;
    assert!(file.exists(), "the file is created at start");
    assert_concurrent_creates_make_one_user(&[&first], "kept").await;
    let alice = first.token("alice", "password").await;
    first.running.server.abort();

    let second = Instance::start(&vars).await;
    assert_eq!(second.login("kept", "Sup3r-secret").await, StatusCode::OK);
    assert_eq!(
        second.create_user(&alice, "kept").await,
        StatusCode::CONFLICT
    );
    let (_, list) = second.get_json("/users/", &alice).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        3,
        "demo users seeded once: {list}"
    );
    assert_eq!(second.resource("valid_api_key_2").await.0, StatusCode::OK);
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}
