//! Validating the flagship's `UserCreate`: `#[derive(Validate)]` against the same
//! checks written by hand with the same primitives (the `validator` crate's e-mail
//! check, one compiled regex, the shipped password blocklist). The ratio is the
//! point: what the derive costs over code a careful person would write.
//!
//! `cargo bench -p secure-api --bench validation`; numbers in `BENCHMARKS.md`.

use criterion::{Criterion, criterion_group, criterion_main};
use regex::Regex;
use secure_api::validation::{Validate, password::is_common_password};
use serde::Deserialize;
use serde_json::{Value, json};
use std::{hint::black_box, sync::LazyLock};
use validator::ValidateEmail;

/// The flagship's model, rules and all.
#[derive(Validate)]
struct UserCreate {
    #[validate(length(min = 3, max = 50), pattern = r"^[a-zA-Z0-9_-]+$")]
    username: String,
    #[validate(email)]
    email: String,
    #[validate(password(min_length = 8, composition))]
    password: String,
    #[validate(default, each(one_of("admin", "user", "moderator")))]
    roles: Vec<String>,
}

/// The same fields, checked by hand.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ByHand {
    username: String,
    email: String,
    password: String,
    #[serde(default)]
    roles: Vec<String>,
}

static USERNAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_-]+$").expect("a valid pattern"));

impl ByHand {
    /// Every rule of `UserCreate`, each failure collected as the derive does.
    fn validate(&self) -> Result<(), Vec<&'static str>> {
        let mut broken = Vec::new();
        let username = self.username.chars().count();
        if !(3..=50).contains(&username) {
            broken.push("username: length");
        }
        if !USERNAME.is_match(&self.username) {
            broken.push("username: pattern");
        }
        if !self.email.as_str().validate_email() {
            broken.push("email");
        }
        let password = self.password.chars().count();
        if !(8..=128).contains(&password) {
            broken.push("password: length");
        }
        let has = |f: fn(&char) -> bool| self.password.chars().any(|c| f(&c));
        if !has(char::is_ascii_uppercase) {
            broken.push("password: uppercase");
        }
        if !has(char::is_ascii_lowercase) {
            broken.push("password: lowercase");
        }
        if !has(char::is_ascii_digit) {
            broken.push("password: digit");
        }
        if !has(|c| !c.is_ascii_alphanumeric()) {
            broken.push("password: symbol");
        }
        if password <= 128 && is_common_password(&self.password) {
            broken.push("password: common");
        }
        for role in &self.roles {
            if !["admin", "user", "moderator"].contains(&role.as_str()) {
                broken.push("roles: one_of");
            }
        }
        match broken.is_empty() {
            true => Ok(()),
            false => Err(broken),
        }
    }
}

fn body() -> Value {
    json!({
        "username": "bob_the-builder",
        "email": "bob.builder@example.com",
        "password": "Sup3r-secret-Pass",
        "roles": ["user", "moderator"],
    })
}

fn benches(c: &mut Criterion) {
    let derived = UserCreate::from_json(body()).expect("a valid body");
    let by_hand: ByHand = serde_json::from_value(body()).expect("a valid body");
    assert!(by_hand.validate().is_ok());
    // Same patterns warmed: both compile their regex on first use.
    assert!(derived.validate().is_ok());

    let mut group = c.benchmark_group("validate a valid UserCreate");
    group.bench_function("derive", |b| b.iter(|| black_box(&derived).validate()));
    group.bench_function("by hand", |b| b.iter(|| black_box(&by_hand).validate()));
    group.finish();

    let json = body();
    let mut group = c.benchmark_group("read and validate a valid UserCreate from JSON");
    group.bench_function("derive (from_json)", |b| {
        b.iter(|| UserCreate::from_json(black_box(&json).clone()))
    });
    group.bench_function("serde + by hand", |b| {
        b.iter(|| {
            let user: ByHand = serde_json::from_value(black_box(&json).clone())?;
            Ok::<_, serde_json::Error>(user.validate().is_ok())
        })
    });
    group.finish();
}

criterion_group!(validation, benches);
criterion_main!(validation);
