//! The per-request hot paths, each in one group next to the code a careful engineer
//! would write by hand for the same job:
//! - token verification (HS256 and ES256): `TokenService::verify` against
//!   jsonwebtoken's `decode` with one `Validation` built once (what the baseline does);
//! - the scope check: `Requirement::is_met_by` against a split of the `scope` claim;
//! - the security headers: `SecurityHeaders::apply` against inserting the same nine
//!   static `HeaderValue`s by hand.
//!
//! Run: `cargo bench -p secure-api --bench hot_paths`; results in BENCHMARKS.md.

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secure_api::{
    Requirement,
    headers::{PERMISSIONS_POLICY, SecurityHeaders},
    poem::{
        Response,
        http::{HeaderName, HeaderValue, header},
    },
    token::{SigningKey, TokenService},
};
use serde::Deserialize;
use std::hint::black_box;

const EC_PRIVATE: &[u8] = include_bytes!("../src/token/testdata/test_only_ec_p256_private.pem");
const EC_PUBLIC: &[u8] = include_bytes!("../src/token/testdata/test_only_ec_p256_public.pem");
const SECRET: &[u8] = b"a benchmark secret of 32+ bytes!!";

/// The claims the baseline reads.
#[derive(Deserialize)]
#[allow(dead_code)] // read by serde, compared by the verifier
struct Claims {
    sub: String,
    iss: String,
    aud: String,
    exp: u64,
    iat: u64,
    nbf: u64,
    jti: String,
    scope: String,
}

fn validation(algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&["https://auth.example.com"]);
    validation.set_audience(&["https://api.example.com"]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = 30;
    validation
}

/// By hand: the checks the framework also makes (size, `typ`, `crit`), then decode.
fn by_hand(token: &str, key: &DecodingKey, validation: &Validation) -> Option<Claims> {
    if token.len() > 8192 {
        return None;
    }
    let header = jsonwebtoken::decode_header(token).ok()?;
    if header.crit.is_some()
        || !header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"))
    {
        return None;
    }
    jsonwebtoken::decode::<Claims>(token, key, validation)
        .ok()
        .map(|data| data.claims)
}

fn tokens(c: &mut Criterion) {
    let cases = [
        (
            "HS256",
            SigningKey::hs256("k1", SECRET).unwrap(),
            DecodingKey::from_secret(SECRET),
            Algorithm::HS256,
        ),
        (
            "ES256",
            SigningKey::es256_pem("k1", EC_PRIVATE).unwrap(),
            DecodingKey::from_ec_pem(EC_PUBLIC).unwrap(),
            Algorithm::ES256,
        ),
    ];
    for (name, signing, decoding, algorithm) in cases {
        let service = TokenService::builder()
            .issuer("https://auth.example.com")
            .audience("https://api.example.com")
            .signing_key(signing)
            .build()
            .unwrap();
        let token = service
            .issue("alice", &["users:read", "users:write", "items:read"])
            .unwrap()
            .access_token;
        let validation = validation(algorithm);
        assert!(service.verify(&token).is_ok());
        assert!(by_hand(&token, &decoding, &validation).is_some());
        let mut group = c.benchmark_group(format!("verify a {name} access token"));
        group.bench_function("secure-api: TokenService::verify", |b| {
            b.iter(|| service.verify(black_box(&token)))
        });
        group.bench_function("baseline: jsonwebtoken decode_header + decode", |b| {
            b.iter(|| by_hand(black_box(&token), &decoding, &validation))
        });
        group.finish();
    }
}

fn scopes(c: &mut Criterion) {
    const REQUIRED: Requirement = Requirement::all_of(&["users:write"]);
    let claim = "users:read users:write items:read items:write";
    assert!(REQUIRED.is_met_by(claim.split(' ')));
    let mut group = c.benchmark_group("scope check (4 granted, 1 required)");
    group.bench_function("secure-api: Requirement::is_met_by", |b| {
        b.iter(|| REQUIRED.is_met_by(black_box(claim).split(' ')))
    });
    group.bench_function("baseline: split(' ').any(..)", |b| {
        b.iter(|| black_box(claim).split(' ').any(|s| s == "users:write"))
    });
    group.finish();
}

const BY_HAND: [(HeaderName, HeaderValue); 9] = [
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=63072000; includeSubDomains"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
    (
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(PERMISSIONS_POLICY),
    ),
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    ),
    (
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    ),
];

fn headers(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    // The flagship's configuration: one path rule (Swagger UI) besides the defaults.
    let configured = SecurityHeaders::builder()
        .swagger_ui("/docs")
        .build()
        .unwrap();
    let response = || {
        Response::builder()
            .content_type("application/json")
            .body("{}")
    };
    let mut group = c.benchmark_group("security headers on one response");
    group.bench_function("secure-api: SecurityHeaders::apply", |b| {
        b.iter(|| runtime.block_on(configured.apply(black_box("/api/data"), response())))
    });
    // Through the same runtime call, so the difference is the work alone.
    group.bench_function("baseline: nine static headers inserted by hand", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut response = response();
                let headers = response.headers_mut();
                headers.remove(header::SERVER);
                headers.remove("x-powered-by");
                for (name, value) in BY_HAND {
                    if let header::Entry::Vacant(entry) = headers.entry(name) {
                        entry.insert(value);
                    }
                }
                response
            })
        })
    });
    group.finish();
}

criterion_group!(benches, tokens, scopes, headers);
criterion_main!(benches);
