//! Validating the flagship's `UserCreate`: `#[derive(Validate)]` against the same
//! checks written by hand with the same primitives (the `validator` crate's e-mail
//! check, one compiled regex, the shipped password blocklist), and the 422 answer
//! against the hand-written baseline service's own code. The ratio is the point:
//! what the derive costs over code a careful person would write.
//!
//! `cargo bench -p secure-api --bench validation`; numbers in `BENCHMARKS.md`.

use criterion::{Criterion, criterion_group};
use regex::Regex;
use secure_api::poem::{Response, error::ResponseError};
use secure_api::validation::{BodyRejection, Validate, password::is_common_password};
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

/// The flagship's model exactly (its password rule without the blocklist, as the
/// contract asks), for the 422 answer next to the baseline service's.
#[derive(Validate)]
struct FlagshipUserCreate {
    #[validate(length(min = 3, max = 50), pattern = r"^[a-zA-Z0-9_-]+$")]
    username: String,
    #[validate(email)]
    email: String,
    #[validate(password(min_length = 8, composition, blocklist = false))]
    password: String,
    #[validate(default, each(one_of("admin", "user", "moderator")))]
    roles: Vec<String>,
}

/// What `ValidJson` does with the body's bytes: straight into the model when they
/// hold exactly it, else through a `Value`; then the rules, and the answer to a
/// refusal.
fn read_body<T: Validate>(body: &[u8]) -> Read<T> {
    let refuse = |errors| Read::Refused(BodyRejection::from(errors).as_response());
    let model = match T::__read_direct(body) {
        Some(model) => model,
        None => match serde_json::from_slice(body).map(T::from_json) {
            Ok(Ok(model)) => return Read::Model(model),
            Ok(Err(errors)) => return refuse(errors),
            Err(_) => return Read::Refused(Response::default()),
        },
    };
    match model.validate() {
        Ok(()) => Read::Model(model),
        Err(errors) => refuse(errors),
    }
}

/// The model, or the answer that refuses the body.
enum Read<T> {
    Model(T),
    Refused(Response),
}

impl<T> Read<T> {
    fn is_model(&self) -> bool {
        matches!(self, Read::Model(_))
    }
}

/// The load run's 422 body (`.ci/bench-lib.sh`): eight broken rules.
const INVALID: &[u8] =
    br#"{"username": "x!", "email": "not-an-email", "password": "short", "roles": ["root"]}"#;

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
    let mut group = c.benchmark_group("read and validate a valid UserCreate from a Value");
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

    let bytes = serde_json::to_vec(&json).expect("JSON");
    assert!(read_body::<FlagshipUserCreate>(&bytes).is_model());
    assert!(baseline::check_new_user(&bytes).is_ok());
    let mut group = c.benchmark_group("read and validate a valid UserCreate from the body's bytes");
    group.bench_function("derive (as ValidJson reads it)", |b| {
        b.iter(|| read_body::<FlagshipUserCreate>(black_box(&bytes)).is_model())
    });
    group.bench_function("baseline service's code", |b| {
        b.iter(|| baseline::check_new_user(black_box(&bytes)).is_ok())
    });
    group.finish();

    let answer = |response: Response| response.into_body().into_bytes();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let Read::Refused(refusal) = read_body::<FlagshipUserCreate>(INVALID) else {
        panic!("a body that breaks 8 rules is refused");
    };
    let ours = rt.block_on(answer(refusal));
    let theirs = rt.block_on(answer(
        baseline::check_new_user(INVALID)
            .unwrap_err()
            .into_response(),
    ));
    assert_eq!(
        ours.unwrap(),
        theirs.unwrap(),
        "the same 422 body, byte for byte"
    );
    let mut group = c.benchmark_group("the 422 answer to a body that breaks 8 rules");
    group.bench_function("derive (as ValidJson reads and answers it)", |b| {
        b.iter(|| !read_body::<FlagshipUserCreate>(black_box(INVALID)).is_model())
    });
    group.bench_function("baseline service's code", |b| {
        b.iter(|| baseline::check_new_user(black_box(INVALID)).is_err())
    });
    group.finish();
}

/// With `VALIDATION_LOOP=<case>:<n>`, runs one case `n` times and nothing else, for
/// counting its instructions under callgrind (see `BENCHMARKS.md`); the cases are
/// `valid-derive`, `valid-value-pass`, `valid-baseline`, `422-derive` and
/// `422-baseline`.
fn instruction_loop(spec: &str) {
    let (case, times) = spec.split_once(':').expect("VALIDATION_LOOP=<case>:<n>");
    let times: usize = times.parse().expect("a number of iterations");
    let valid = serde_json::to_vec(&body()).expect("JSON");
    for _ in 0..times {
        let read = match case {
            "valid-derive" => read_body::<FlagshipUserCreate>(black_box(&valid)).is_model(),
            "valid-baseline" => baseline::check_new_user(black_box(&valid)).is_ok(),
            // The pass through a `Value` that any other body (and model) takes.
            "valid-value-pass" => serde_json::from_slice(black_box(&valid))
                .map(FlagshipUserCreate::from_json)
                .is_ok_and(|read| read.is_ok()),
            "422-derive" => read_body::<FlagshipUserCreate>(black_box(INVALID)).is_model(),
            "422-baseline" => baseline::check_new_user(black_box(INVALID)).is_ok(),
            other => panic!("no case {other:?}"),
        };
        black_box(read);
    }
}

criterion_group!(validation, benches);

fn main() {
    match std::env::var("VALIDATION_LOOP") {
        Ok(spec) => instruction_loop(&spec),
        Err(_) => {
            validation();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
