//! What the per-request protections of this issue cost, each next to its baseline:
//! - an API-key check (HMAC-SHA256, then a store lookup) next to verifying the same
//!   key as an argon2id password hash would cost, the choice not made;
//! - a request through `App` (trusted hosts, CORS, security headers) next to the
//!   same route called bare.
//!
//! Run: `cargo bench -p secure-api --bench service_wide`; results in BENCHMARKS.md.

use criterion::{Criterion, criterion_group, criterion_main};
use secure_api::{
    App,
    apikey::{
        ApiKeyGenerator, ApiKeyHasher, ApiKeyRecord, ApiKeyRequirement, ApiKeys,
        InMemoryApiKeyStore, StandardApiKeys,
    },
    cors::CorsPolicy,
    hosts::TrustedHosts,
    password::PasswordHasher,
    poem::{self, Endpoint, Request, Route, handler},
};
use std::hint::black_box;

const ANY_KEY: ApiKeyRequirement = ApiKeyRequirement::of::<StandardApiKeys>();

fn api_keys(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let hasher = ApiKeyHasher::new(&[7u8; 32]).unwrap();
    let store = InMemoryApiKeyStore::new();
    let generator = ApiKeyGenerator::new("sk_live").unwrap();
    let mut key = String::new();
    // A store of 10 000 keys, as a service with many clients would hold.
    for i in 0..10_000 {
        key = generator.generate().unwrap();
        store.insert(ApiKeyRecord::new(
            hasher.digest(&key),
            format!("client{i}"),
            ["read"],
        ));
    }
    let keys = ApiKeys::new(hasher, store);
    let request = Request::builder().header("X-API-Key", &key).finish();

    let mut group = c.benchmark_group("api key check");
    group.bench_function("HMAC-SHA256 digest + lookup (10 000 keys)", |b| {
        b.iter(|| runtime.block_on(keys.authenticate(black_box(&request), ANY_KEY)))
    });
    let password_hasher = PasswordHasher::new();
    let phc = password_hasher.hash_blocking(&key).unwrap();
    group.sample_size(10);
    group.bench_function("baseline: argon2id verify (OWASP parameters)", |b| {
        b.iter(|| runtime.block_on(password_hasher.verify(black_box(&key), Some(black_box(&phc)))))
    });
    group.finish();
}

#[handler]
fn hello() -> &'static str {
    "hello"
}

fn app_overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let bare = Route::new().at("/hello", hello);
    let app = App::new(Route::new().at("/hello", hello))
        .trusted_hosts(
            TrustedHosts::new(["localhost", "api.example.com", "*.example.com"]).unwrap(),
        )
        .cors(CorsPolicy::new(["https://frontend.example.com"]).unwrap());
    let request = || {
        Request::builder()
            .uri("/hello".parse().unwrap())
            .header("host", "eu.example.com")
            .header("origin", "https://frontend.example.com")
            .finish()
    };
    let mut group = c.benchmark_group("one request, in process");
    group.bench_function("baseline: bare route", |b| {
        b.iter(|| runtime.block_on(bare.get_response(request())))
    });
    group.bench_function("App: hosts + CORS + security headers", |b| {
        b.iter(|| runtime.block_on(app.get_response(request())))
    });
    group.finish();
}

criterion_group!(benches, api_keys, app_overhead);
criterion_main!(benches);
