//! Unit tests, following the forged-token checklist of the research notes (§1.5).

use std::sync::LazyLock;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use super::*;

// Test-only key material (see testdata/README.md). Never use outside tests.
const HS_SECRET: &[u8] = b"test-only HS256 secret, 32+ bytes, never use";
const OTHER_HS_SECRET: &[u8] = b"another test-only HS256 secret, also 32+ bytes";
const RSA_PRIVATE: &[u8] = include_bytes!("testdata/test_only_rsa2048_private.pem");
const RSA_PUBLIC: &[u8] = include_bytes!("testdata/test_only_rsa2048_public.pem");
const OTHER_RSA_PRIVATE: &[u8] = include_bytes!("testdata/test_only_other_rsa2048_private.pem");
const WEAK_RSA_PRIVATE: &[u8] = include_bytes!("testdata/test_only_weak_rsa1024_private.pem");
const WEAK_RSA_PUBLIC: &[u8] = include_bytes!("testdata/test_only_weak_rsa1024_public.pem");
const EC_PRIVATE: &[u8] = include_bytes!("testdata/test_only_ec_p256_private.pem");
const EC_PUBLIC: &[u8] = include_bytes!("testdata/test_only_ec_p256_public.pem");
const ED_PRIVATE: &[u8] = include_bytes!("testdata/test_only_ed25519_private.pem");
const ED_PUBLIC: &[u8] = include_bytes!("testdata/test_only_ed25519_public.pem");

const ISS: &str = "https://auth.test";
const AUD: &str = "https://api.test";

fn builder() -> TokenServiceBuilder {
    TokenService::builder().issuer(ISS).audience(AUD)
}

// Services are shared: parsing RSA keys is slow in debug builds.
static HS: LazyLock<TokenService> = LazyLock::new(|| {
    builder()
        .signing_key(SigningKey::hs256("hs1", HS_SECRET).unwrap())
        .build()
        .unwrap()
});
static RSA: LazyLock<TokenService> = LazyLock::new(|| {
    builder()
        .signing_key(SigningKey::rs256_pem("rsa1", RSA_PRIVATE).unwrap())
        .build()
        .unwrap()
});
static ES: LazyLock<TokenService> = LazyLock::new(|| {
    builder()
        .signing_key(SigningKey::es256_pem("ec1", EC_PRIVATE).unwrap())
        .build()
        .unwrap()
});
static ED: LazyLock<TokenService> = LazyLock::new(|| {
    builder()
        .signing_key(SigningKey::eddsa_pem("ed1", ED_PRIVATE).unwrap())
        .build()
        .unwrap()
});
/// Several keys, so a token without `kid` is ambiguous.
static MULTI: LazyLock<TokenService> = LazyLock::new(|| {
    builder()
        .signing_key(SigningKey::hs256("hs1", HS_SECRET).unwrap())
        .verification_key(VerificationKey::es256_pem("ec1", EC_PUBLIC).unwrap())
        .build()
        .unwrap()
});

fn now() -> u64 {
    now_unix()
}

fn hs_key() -> EncodingKey {
    EncodingKey::from_secret(HS_SECRET)
}

fn good_header(alg: &str, kid: &str) -> Value {
    json!({ "alg": alg, "typ": "at+jwt", "kid": kid })
}

fn good_claims() -> Value {
    let now = now();
    json!({
        "iss": ISS, "sub": "alice", "aud": AUD,
        "exp": now + 600, "nbf": now, "iat": now,
        "jti": "test-jti", "scope": "orders:read orders:write",
    })
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs arbitrary header and claims JSON, as an attacker holding `key` would.
fn forge_raw(header: &str, claims: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

fn forge(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    forge_raw(&header.to_string(), &claims.to_string(), key, alg)
}

/// An HS256 token for `HS` with these claims, as written (any JSON or none).
fn hs_token_with_raw_claims(claims: &str) -> String {
    forge_raw(
        &good_header("HS256", "hs1").to_string(),
        claims,
        &hs_key(),
        Algorithm::HS256,
    )
}

/// An HS256 token for `HS` with this header, as written, and good claims.
fn hs_token_with_raw_header(header: &str) -> String {
    forge_raw(
        header,
        &good_claims().to_string(),
        &hs_key(),
        Algorithm::HS256,
    )
}

/// An HS256 token for `HS` whose claims went through `edit`.
fn hs_token_with_claims(edit: impl FnOnce(&mut Value)) -> String {
    let mut claims = good_claims();
    edit(&mut claims);
    forge(
        &good_header("HS256", "hs1"),
        &claims,
        &hs_key(),
        Algorithm::HS256,
    )
}

/// An HS256 token for `HS` whose header went through `edit`.
fn hs_token_with_header(edit: impl FnOnce(&mut Value)) -> String {
    let mut header = good_header("HS256", "hs1");
    edit(&mut header);
    forge(&header, &good_claims(), &hs_key(), Algorithm::HS256)
}

fn remove(field: &'static str) -> impl FnOnce(&mut Value) {
    move |v| {
        v.as_object_mut().unwrap().remove(field);
    }
}

fn set(field: &'static str, value: Value) -> impl FnOnce(&mut Value) {
    move |v| {
        v[field] = value;
    }
}

fn segments(token: &str) -> Vec<&str> {
    token.split('.').collect()
}

// ---------------------------------------------------------------- round trips

#[test]
fn hs256_round_trip_carries_every_claim_and_header() {
    let before = now();
    let issued = HS.issue("alice", &["orders:read", "orders:write"]).unwrap();
    let claims = HS.verify(&issued.access_token).unwrap();

    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.iss, ISS);
    assert_eq!(claims.aud, [AUD]);
    assert_eq!(claims.scope, "orders:read orders:write");
    assert!(claims.scopes().eq(["orders:read", "orders:write"]));
    assert!(claims.iat >= before && claims.iat <= now());
    assert_eq!(claims.nbf, Some(claims.iat));
    assert_eq!(claims.exp, claims.iat + 30 * 60);
    assert_eq!(claims.jti.as_deref(), Some(issued.jti.as_str()));
    assert_eq!(issued.expires_in, 30 * 60);
    assert_eq!(issued.scope, "orders:read orders:write");

    let header = jsonwebtoken::decode_header(&issued.access_token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), Some("hs1"));
    assert_eq!(header.alg, Algorithm::HS256);
}

#[test]
fn jti_is_128_random_bits_in_base64url() {
    let a = HS.issue("alice", &["a"]).unwrap().jti;
    let b = HS.issue("alice", &["a"]).unwrap().jti;
    assert_ne!(a, b);
    assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 16);
}

#[test]
fn issue_without_scopes_gives_an_empty_scope() {
    let issued = HS.issue::<&str>("alice", &[]).unwrap();
    let claims = HS.verify(&issued.access_token).unwrap();
    assert_eq!(claims.scope, "");
    assert_eq!(claims.scopes().count(), 0);
}

#[test]
fn issue_accepts_owned_strings() {
    let scopes = vec!["a:b".to_owned(), "c".to_owned()];
    assert_eq!(HS.issue("alice", &scopes).unwrap().scope, "a:b c");
}

fn assert_round_trip(service: &TokenService, alg: Algorithm, kid: &str) {
    let issued = service.issue("bob", &["x"]).unwrap();
    let header = jsonwebtoken::decode_header(&issued.access_token).unwrap();
    assert_eq!((header.alg, header.kid.as_deref()), (alg, Some(kid)));
    assert_eq!(service.verify(&issued.access_token).unwrap().sub, "bob");
}

#[test]
fn rs256_round_trip() {
    assert_round_trip(&RSA, Algorithm::RS256, "rsa1");
}

#[test]
fn es256_round_trip() {
    assert_round_trip(&ES, Algorithm::ES256, "ec1");
}

#[test]
fn eddsa_round_trip() {
    assert_round_trip(&ED, Algorithm::EdDSA, "ed1");
}

#[test]
fn public_pem_verification_keys_verify_tokens_of_the_private_key() {
    // A resource server that only holds the public keys.
    let verifier = builder()
        .signing_key(SigningKey::hs256("local", OTHER_HS_SECRET).unwrap())
        .verification_key(VerificationKey::rs256_pem("rsa1", RSA_PUBLIC).unwrap())
        .verification_key(VerificationKey::es256_pem("ec1", EC_PUBLIC).unwrap())
        .verification_key(VerificationKey::eddsa_pem("ed1", ED_PUBLIC).unwrap())
        .build()
        .unwrap();
    for issuer in [&*RSA, &*ES, &*ED] {
        let issued = issuer.issue("carol", &["y"]).unwrap();
        assert_eq!(verifier.verify(&issued.access_token).unwrap().sub, "carol");
    }
}

#[test]
fn issued_token_expires_after_ttl_plus_leeway() {
    let issued_long_ago = now() - 30 * 60 - 31;
    let token = HS
        .issue_at("alice", &["a"], issued_long_ago)
        .unwrap()
        .access_token;
    assert_eq!(HS.verify(&token), Err(TokenRejection::Expired));

    let within_leeway = now() - 30 * 60 - 25;
    let token = HS
        .issue_at("alice", &["a"], within_leeway)
        .unwrap()
        .access_token;
    assert!(HS.verify(&token).is_ok());
}

#[test]
fn token_issued_by_a_clock_ahead_is_not_yet_valid() {
    let token = HS
        .issue_at("alice", &["a"], now() + 600)
        .unwrap()
        .access_token;
    assert_eq!(HS.verify(&token), Err(TokenRejection::NotYetValid));
}

// ----------------------------------------------------------- key rotation

#[test]
fn rotation_keeps_old_tokens_valid_until_the_old_key_is_removed() {
    let old = builder().signing_key(SigningKey::rs256_pem("2025", RSA_PRIVATE).unwrap());
    let old = old.build().unwrap();
    let old_token = old.issue("alice", &["a"]).unwrap().access_token;

    let rotating = builder()
        .signing_key(SigningKey::es256_pem("2026", EC_PRIVATE).unwrap())
        .verification_key(VerificationKey::rs256_pem("2025", RSA_PUBLIC).unwrap())
        .build()
        .unwrap();
    let new_token = rotating.issue("alice", &["a"]).unwrap().access_token;
    assert!(rotating.verify(&old_token).is_ok());
    assert!(rotating.verify(&new_token).is_ok());
    assert_eq!(
        jsonwebtoken::decode_header(&new_token)
            .unwrap()
            .kid
            .as_deref(),
        Some("2026")
    );

    let rotated = builder()
        .signing_key(SigningKey::es256_pem("2026", EC_PRIVATE).unwrap())
        .build()
        .unwrap();
    assert_eq!(rotated.verify(&old_token), Err(TokenRejection::UnknownKey));
    assert!(rotated.verify(&new_token).is_ok());
}

// --------------------------------------------------- algorithm confusion (1–4)

#[test]
fn alg_none_is_rejected() {
    let claims = b64(good_claims().to_string().as_bytes());
    for header in [
        json!({ "alg": "none", "typ": "at+jwt", "kid": "hs1" }),
        json!({ "alg": "none", "typ": "at+jwt" }),
    ] {
        let unsigned = format!("{}.{claims}", b64(header.to_string().as_bytes()));
        assert_eq!(
            HS.verify(&format!("{unsigned}.")),
            Err(TokenRejection::Malformed)
        );
        assert_eq!(
            HS.verify(&format!("{unsigned}.AAAA")),
            Err(TokenRejection::WrongAlgorithm)
        );
    }
}

#[test]
fn alg_case_variants_are_rejected() {
    for alg in ["noNE", "None", "NONE", "hs256", "Hs256", "HS256 ", ""] {
        let header = json!({ "alg": alg, "typ": "at+jwt", "kid": "hs1" }).to_string();
        let message = format!(
            "{}.{}",
            b64(header.as_bytes()),
            b64(good_claims().to_string().as_bytes())
        );
        // A genuine HS256 signature, so only the `alg` value is wrong.
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &hs_key(), Algorithm::HS256).unwrap();
        let token = format!("{message}.{signature}");
        assert_eq!(
            HS.verify(&token),
            Err(TokenRejection::WrongAlgorithm),
            "alg {alg:?}"
        );
    }
}

#[test]
fn hs256_signed_with_the_rsa_public_key_is_rejected() {
    // McLean 2015 / CVE-2015-9235: the public PEM used as an HMAC secret.
    let key = EncodingKey::from_secret(RSA_PUBLIC);
    let with_kid = forge(
        &good_header("HS256", "rsa1"),
        &good_claims(),
        &key,
        Algorithm::HS256,
    );
    assert_eq!(RSA.verify(&with_kid), Err(TokenRejection::WrongAlgorithm));
    let header = json!({ "alg": "HS256", "typ": "at+jwt" });
    let without_kid = forge(&header, &good_claims(), &key, Algorithm::HS256);
    assert_eq!(
        RSA.verify(&without_kid),
        Err(TokenRejection::WrongAlgorithm)
    );
}

#[test]
fn other_algorithms_of_the_same_family_are_rejected() {
    let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap();
    for alg in [Algorithm::PS256, Algorithm::RS512] {
        let name = serde_json::to_value(alg).unwrap();
        let header = json!({ "alg": name, "typ": "at+jwt", "kid": "rsa1" });
        let token = forge(&header, &good_claims(), &rsa, alg);
        assert_eq!(
            RSA.verify(&token),
            Err(TokenRejection::WrongAlgorithm),
            "{alg:?}"
        );
    }
    let hs512 = forge(
        &good_header("HS512", "hs1"),
        &good_claims(),
        &hs_key(),
        Algorithm::HS512,
    );
    assert_eq!(HS.verify(&hs512), Err(TokenRejection::WrongAlgorithm));
}

#[test]
fn a_token_for_one_key_presented_under_another_kid_is_rejected() {
    let ec = EncodingKey::from_ec_pem(EC_PRIVATE).unwrap();
    let token = forge(
        &good_header("ES256", "hs1"),
        &good_claims(),
        &ec,
        Algorithm::ES256,
    );
    assert_eq!(MULTI.verify(&token), Err(TokenRejection::WrongAlgorithm));
}

// --------------------------------------------------------------- kid (5)

#[test]
fn unknown_kid_is_rejected() {
    for kid in ["nope", "../../dev/null", "' OR 1=1--", "|cmd", "HS1", ""] {
        let token = hs_token_with_header(set("kid", json!(kid)));
        assert_eq!(
            HS.verify(&token),
            Err(TokenRejection::UnknownKey),
            "kid {kid:?}"
        );
    }
}

#[test]
fn non_string_kid_is_malformed() {
    let token = hs_token_with_header(set("kid", json!(1)));
    assert_eq!(HS.verify(&token), Err(TokenRejection::Malformed));
}

#[test]
fn huge_kid_is_too_large() {
    let token = hs_token_with_header(set("kid", json!("k".repeat(10 * 1024))));
    assert_eq!(HS.verify(&token), Err(TokenRejection::TooLarge));
}

#[test]
fn missing_kid_is_accepted_only_with_a_single_key() {
    let token = hs_token_with_header(remove("kid"));
    assert!(HS.verify(&token).is_ok());
    assert_eq!(MULTI.verify(&token), Err(TokenRejection::MissingKeyId));
}

// ------------------------------------------------- jku / x5u / jwk / x5c (6–7)

fn attacker_jwk() -> Value {
    let attacker = EncodingKey::from_rsa_pem(OTHER_RSA_PRIVATE).unwrap();
    serde_json::to_value(Jwk::from_encoding_key(&attacker, Algorithm::RS256).unwrap()).unwrap()
}

#[test]
fn key_location_headers_are_ignored() {
    let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap();
    let mut header = good_header("RS256", "rsa1");
    header["jku"] = json!("https://attacker.example/jwks.json");
    header["x5u"] = json!("http://127.0.0.1/cert.pem");
    header["x5c"] = json!(["MIIBIjANBgkq"]);
    header["jwk"] = attacker_jwk();
    let token = forge(&header, &good_claims(), &rsa, Algorithm::RS256);
    assert_eq!(RSA.verify(&token).unwrap().sub, "alice");
}

#[test]
fn an_embedded_attacker_jwk_does_not_help() {
    // CVE-2018-0114 style: sign with your own key and ship its public half.
    let attacker = EncodingKey::from_rsa_pem(OTHER_RSA_PRIVATE).unwrap();
    let mut header = good_header("RS256", "rsa1");
    header["jwk"] = attacker_jwk();
    let token = forge(&header, &good_claims(), &attacker, Algorithm::RS256);
    assert_eq!(RSA.verify(&token), Err(TokenRejection::BadSignature));

    header.as_object_mut().unwrap().remove("kid");
    let token = forge(&header, &good_claims(), &attacker, Algorithm::RS256);
    assert_eq!(RSA.verify(&token), Err(TokenRejection::BadSignature));
}

// ------------------------------------------------------------------ crit (8)

#[test]
fn any_crit_header_is_rejected() {
    for crit in [
        json!(["exp"]),
        json!(["b64"]),
        json!([]),
        json!(null),
        json!("x"),
    ] {
        let token = hs_token_with_header(set("crit", crit.clone()));
        assert_eq!(
            HS.verify(&token),
            Err(TokenRejection::UnsupportedCritical),
            "crit {crit}"
        );
    }
}

// ------------------------------------------------------- signatures (9–10)

#[test]
fn psychic_signature_is_rejected() {
    // CVE-2022-21449: r = s = 0.
    let issued = ES.issue("alice", &["a"]).unwrap().access_token;
    let parts = segments(&issued);
    let token = format!("{}.{}.{}", parts[0], parts[1], b64(&[0u8; 64]));
    assert_eq!(ES.verify(&token), Err(TokenRejection::BadSignature));
}

#[test]
fn empty_signature_is_malformed() {
    let issued = HS.issue("alice", &["a"]).unwrap().access_token;
    let parts = segments(&issued);
    assert_eq!(
        HS.verify(&format!("{}.{}.", parts[0], parts[1])),
        Err(TokenRejection::Malformed)
    );
}

#[test]
fn truncated_signature_is_rejected() {
    for service in [&*HS, &*RSA, &*ES, &*ED] {
        let issued = service.issue("alice", &["a"]).unwrap().access_token;
        let parts = segments(&issued);
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let token = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            b64(&signature[..signature.len() / 2])
        );
        assert_eq!(service.verify(&token), Err(TokenRejection::BadSignature));
    }
}

#[test]
fn tampered_payload_is_rejected() {
    let issued = RSA.issue("alice", &["orders:read"]).unwrap().access_token;
    let parts = segments(&issued);
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!("admin");
    claims["scope"] = json!("admin");
    let token = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(RSA.verify(&token), Err(TokenRejection::BadSignature));
}

#[test]
fn tampered_header_is_rejected() {
    let issued = HS.issue("alice", &["a"]).unwrap().access_token;
    let parts = segments(&issued);
    let header = json!({ "alg": "HS256", "typ": "application/at+jwt", "kid": "hs1" });
    let token = format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        parts[1],
        parts[2]
    );
    assert_eq!(HS.verify(&token), Err(TokenRejection::BadSignature));
}

#[test]
fn token_signed_with_another_key_is_rejected() {
    let other_rsa = EncodingKey::from_rsa_pem(OTHER_RSA_PRIVATE).unwrap();
    let token = forge(
        &good_header("RS256", "rsa1"),
        &good_claims(),
        &other_rsa,
        Algorithm::RS256,
    );
    assert_eq!(RSA.verify(&token), Err(TokenRejection::BadSignature));

    assert_eq!(
        HS.verify(&forged_by_another_hs_secret()),
        Err(TokenRejection::BadSignature)
    );
}

/// A well-formed token for `HS`'s key id, signed with another secret.
fn forged_by_another_hs_secret() -> String {
    let other_hs = EncodingKey::from_secret(OTHER_HS_SECRET);
    forge(
        &good_header("HS256", "hs1"),
        &good_claims(),
        &other_hs,
        Algorithm::HS256,
    )
}

/// The HS256 MAC is keyed once and cloned for each token: nothing of one check may
/// carry into the next, whatever order good and forged tokens come in.
#[test]
fn the_keyed_mac_carries_nothing_from_one_token_to_the_next() {
    let good = HS.issue("alice", &["a"]).unwrap().access_token;
    let forged = forged_by_another_hs_secret();
    for _ in 0..3 {
        assert_eq!(HS.verify(&forged), Err(TokenRejection::BadSignature));
        assert_eq!(HS.verify(&good).unwrap().sub, "alice");
    }
}

#[test]
fn a_token_from_another_service_with_the_same_kid_is_rejected() {
    let other = builder().signing_key(SigningKey::hs256("hs1", OTHER_HS_SECRET).unwrap());
    let token = other
        .build()
        .unwrap()
        .issue("alice", &["a"])
        .unwrap()
        .access_token;
    assert_eq!(HS.verify(&token), Err(TokenRejection::BadSignature));
}

// --------------------------------------------------------- shape (11–13)

#[test]
fn shape_violations_are_malformed() {
    let good = HS.issue("alice", &["a"]).unwrap().access_token;
    let parts = segments(&good);
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let cases = [
        String::new(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}.{s}.{s}"),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        format!("{h}.{p}.{s}="),
        format!("{h}.{p}.{s}=="),
        format!("{h}.{p}.{s}\n"),
        format!(" {good}"),
        format!("{h}.{p}.{s}+"),
        format!("{h}/.{p}.{s}"),
        format!("{h}.{p} .{s}"),
        format!("{h}.{{\"sub\":\"x\"}}.{s}"),
        format!("{h}.{p}.é{s}"),
        "Bearer x.y.z".to_owned(),
        "a.b.c".to_owned(),
    ];
    for token in &cases {
        assert_eq!(
            HS.verify(token),
            Err(TokenRejection::Malformed),
            "{token:?}"
        );
    }
}

#[test]
fn non_json_header_or_payload_is_malformed() {
    let sig = b64(b"signature");
    for (header, payload) in [
        (b64(b"not json"), b64(good_claims().to_string().as_bytes())),
        (b64(b"[]"), b64(good_claims().to_string().as_bytes())),
        (
            b64(&[0xff, 0xfe]),
            b64(good_claims().to_string().as_bytes()),
        ),
    ] {
        let token = format!("{header}.{payload}.{sig}");
        assert_eq!(HS.verify(&token), Err(TokenRejection::Malformed));
    }
    let token = hs_token_with_raw_claims("not json");
    assert_eq!(HS.verify(&token), Err(TokenRejection::Malformed));
}

/// A derived serde struct also reads a JSON array, field by position; a header and
/// the claims must be objects (RFC 7515 §4, RFC 7519 §7.2), even correctly signed.
#[test]
fn a_header_or_claims_given_as_an_array_are_malformed() {
    let now = now();
    let claims = format!(
        r#" ["alice","{ISS}","{AUD}",{},null,{now},"id","a"]"#,
        now + 600
    );
    let token = hs_token_with_raw_claims(&claims);
    assert_eq!(HS.verify(&token), Err(TokenRejection::Malformed));
    let token = hs_token_with_raw_header(r#"["HS256","hs1","at+jwt"]"#);
    assert_eq!(HS.verify(&token), Err(TokenRejection::Malformed));
}

#[test]
fn duplicate_claims_and_header_fields_are_malformed() {
    let now = now();
    let claims = format!(
        r#"{{"iss":"{ISS}","sub":"alice","aud":"{AUD}","iat":{now},"exp":1,"exp":{}}}"#,
        now + 600
    );
    let token = hs_token_with_raw_claims(&claims);
    assert_eq!(HS.verify(&token), Err(TokenRejection::Malformed));

    let header = r#"{"alg":"none","alg":"HS256","typ":"at+jwt","kid":"hs1"}"#;
    let token = hs_token_with_raw_header(header);
    assert_eq!(HS.verify(&token), Err(TokenRejection::Malformed));
}

// TooLarge (not Malformed or BadSignature) proves the size check ran before any
// decoding; its cost belongs in a benchmark, not in a timed assertion.
#[test]
fn a_hostile_10_kib_token_is_refused_before_decoding() {
    let garbage = "{".repeat(10 * 1024);
    let charset_only = format!(
        "{}.{}.{}",
        "A".repeat(4000),
        "B".repeat(4000),
        "C".repeat(2240)
    );
    assert_eq!(HS.verify(&garbage), Err(TokenRejection::TooLarge));
    assert_eq!(HS.verify(&charset_only), Err(TokenRejection::TooLarge));
}

#[test]
fn size_limit_is_exact() {
    let text = |token: &'static str| verify::JwtText::new(token.as_bytes()).unwrap();
    let shape = |token| verify::check_shape(text(token), 5).map(|_| ());
    assert_eq!(shape("a.b.c"), Ok(()));
    assert_eq!(shape("a.b.cd"), Err(TokenRejection::TooLarge));
    let small = builder()
        .max_token_bytes(1024)
        .signing_key(SigningKey::hs256("hs1", HS_SECRET).unwrap())
        .build()
        .unwrap();
    let token = hs_token_with_claims(set("pad", json!("x".repeat(1024))));
    assert_eq!(small.verify(&token), Err(TokenRejection::TooLarge));
    assert!(HS.verify(&token).is_ok());
}

// ------------------------------------------------------ exp / nbf / iat (14–21)

#[test]
fn exp_is_required_and_must_be_a_number() {
    for exp in [
        json!("9999999999"),
        json!(-1),
        json!(null),
        json!(true),
        json!(1e300),
        json!([1]),
    ] {
        let token = hs_token_with_claims(set("exp", exp.clone()));
        assert_eq!(
            HS.verify(&token),
            Err(TokenRejection::MissingClaim("exp")),
            "exp {exp}"
        );
    }
    let token = hs_token_with_claims(remove("exp"));
    assert_eq!(HS.verify(&token), Err(TokenRejection::MissingClaim("exp")));
}

#[test]
fn float_exp_is_accepted_and_rounded() {
    let exp = (now() + 600) as f64 + 0.7;
    let token = hs_token_with_claims(set("exp", json!(exp)));
    assert_eq!(HS.verify(&token).unwrap().exp, exp.round() as u64);
}

#[test]
fn expired_tokens_are_rejected_beyond_the_leeway() {
    let token = hs_token_with_claims(set("exp", json!(now() - 120)));
    assert_eq!(HS.verify(&token), Err(TokenRejection::Expired));
    let token = hs_token_with_claims(set("exp", json!(now() - 10)));
    assert!(HS.verify(&token).is_ok(), "within the 30 s leeway");
}

#[test]
fn leeway_is_configurable() {
    let strict = builder()
        .leeway(Duration::ZERO)
        .signing_key(SigningKey::hs256("hs1", HS_SECRET).unwrap())
        .build()
        .unwrap();
    let token = hs_token_with_claims(set("exp", json!(now() - 10)));
    assert_eq!(strict.verify(&token), Err(TokenRejection::Expired));
}

#[test]
fn nbf_in_the_future_is_rejected_beyond_the_leeway() {
    let token = hs_token_with_claims(set("nbf", json!(now() + 120)));
    assert_eq!(HS.verify(&token), Err(TokenRejection::NotYetValid));
    let token = hs_token_with_claims(set("nbf", json!(now() + 10)));
    assert!(HS.verify(&token).is_ok());
}

#[test]
fn nbf_of_the_wrong_type_is_rejected() {
    // CVE-2026-25537: a string nbf used to skip the check.
    let token = hs_token_with_claims(set("nbf", json!("9999999999")));
    assert_eq!(HS.verify(&token), Err(TokenRejection::InvalidClaim("nbf")));
}

#[test]
fn nbf_is_optional() {
    let token = hs_token_with_claims(remove("nbf"));
    assert_eq!(HS.verify(&token).unwrap().nbf, None);
}

#[test]
fn iat_in_the_future_is_rejected_beyond_the_leeway() {
    let token = hs_token_with_claims(set("iat", json!(now() + 120)));
    assert_eq!(HS.verify(&token), Err(TokenRejection::IssuedInFuture));
    let token = hs_token_with_claims(set("iat", json!(now() + 10)));
    assert!(HS.verify(&token).is_ok());
}

#[test]
fn iat_is_required_and_must_be_a_number() {
    let token = hs_token_with_claims(remove("iat"));
    assert_eq!(HS.verify(&token), Err(TokenRejection::MissingClaim("iat")));
    let token = hs_token_with_claims(set("iat", json!("yesterday")));
    assert_eq!(HS.verify(&token), Err(TokenRejection::InvalidClaim("iat")));
}

// ------------------------------------------------------------ iss / aud (22–25)

#[test]
fn wrong_issuer_is_rejected() {
    let token = hs_token_with_claims(set("iss", json!("https://evil.test")));
    assert_eq!(HS.verify(&token), Err(TokenRejection::WrongIssuer));
}

#[test]
fn issuer_is_required_and_must_be_a_single_string() {
    let token = hs_token_with_claims(remove("iss"));
    assert_eq!(HS.verify(&token), Err(TokenRejection::MissingClaim("iss")));
    for iss in [json!(123), json!({})] {
        let token = hs_token_with_claims(set("iss", iss));
        assert_eq!(HS.verify(&token), Err(TokenRejection::MissingClaim("iss")));
    }
    // jsonwebtoken accepts an array that contains the issuer; RFC 7519 does not.
    let token = hs_token_with_claims(set("iss", json!([ISS])));
    assert_eq!(HS.verify(&token), Err(TokenRejection::InvalidClaim("iss")));
}

#[test]
fn wrong_audience_is_rejected() {
    for aud in [
        json!("https://other.test"),
        json!("HTTPS://API.TEST"),
        json!([]),
        json!(["x"]),
    ] {
        let token = hs_token_with_claims(set("aud", aud.clone()));
        assert_eq!(
            HS.verify(&token),
            Err(TokenRejection::WrongAudience),
            "aud {aud}"
        );
    }
}

#[test]
fn audience_is_required_and_must_be_a_string_or_array() {
    let token = hs_token_with_claims(remove("aud"));
    assert_eq!(HS.verify(&token), Err(TokenRejection::MissingClaim("aud")));
    for aud in [json!(123), json!({}), json!(true)] {
        let token = hs_token_with_claims(set("aud", aud.clone()));
        assert_eq!(
            HS.verify(&token),
            Err(TokenRejection::MissingClaim("aud")),
            "aud {aud}"
        );
    }
}

#[test]
fn audience_array_containing_ours_is_accepted() {
    let token = hs_token_with_claims(set("aud", json!(["https://other.test", AUD])));
    assert_eq!(HS.verify(&token).unwrap().aud, ["https://other.test", AUD]);
}

// ------------------------------------------------------------ sub and others

#[test]
fn subject_is_required_and_must_be_a_non_empty_string() {
    let token = hs_token_with_claims(remove("sub"));
    assert_eq!(HS.verify(&token), Err(TokenRejection::MissingClaim("sub")));
    let token = hs_token_with_claims(set("sub", json!(42)));
    assert_eq!(HS.verify(&token), Err(TokenRejection::MissingClaim("sub")));
    let token = hs_token_with_claims(set("sub", json!("")));
    assert_eq!(HS.verify(&token), Err(TokenRejection::InvalidClaim("sub")));
}

#[test]
fn jti_and_scope_are_optional_but_typed() {
    let token = hs_token_with_claims(|c| {
        remove("jti")(c);
        remove("scope")(c);
    });
    let claims = HS.verify(&token).unwrap();
    assert_eq!((claims.jti, claims.scope.as_str()), (None, ""));

    let token = hs_token_with_claims(set("jti", json!(7)));
    assert_eq!(HS.verify(&token), Err(TokenRejection::InvalidClaim("jti")));
    let token = hs_token_with_claims(set("scope", json!(["admin"])));
    assert_eq!(
        HS.verify(&token),
        Err(TokenRejection::InvalidClaim("scope"))
    );
}

// ------------------------------------------------------------------ typ (26–27)

#[test]
fn typ_must_be_at_jwt() {
    for typ in [
        json!("JWT"),
        json!("jwt"),
        json!("id_token+jwt"),
        json!("refresh+jwt"),
        json!("at+jwt "),
    ] {
        let token = hs_token_with_header(set("typ", typ.clone()));
        assert_eq!(
            HS.verify(&token),
            Err(TokenRejection::WrongType),
            "typ {typ}"
        );
    }
    let token = hs_token_with_header(remove("typ"));
    assert_eq!(HS.verify(&token), Err(TokenRejection::WrongType));
    let token = hs_token_with_header(set("typ", json!(5)));
    assert_eq!(HS.verify(&token), Err(TokenRejection::Malformed));
}

#[test]
fn typ_is_compared_case_insensitively() {
    for typ in [
        "at+jwt",
        "at+JWT",
        "AT+JWT",
        "application/at+jwt",
        "application/AT+JWT",
    ] {
        let token = hs_token_with_header(set("typ", json!(typ)));
        assert!(HS.verify(&token).is_ok(), "typ {typ}");
    }
}

// ------------------------------------------------------------- issuing errors

#[test]
fn invalid_scopes_are_refused() {
    for scope in [
        "two words",
        "quote\"d",
        "back\\slash",
        "",
        "tab\t",
        "é",
        "new\nline",
    ] {
        assert_eq!(
            HS.issue("alice", &["ok", scope]),
            Err(TokenError::InvalidScope(scope.to_owned())),
            "{scope:?}"
        );
    }
    assert!(
        HS.issue("alice", &["a!#$%&'()*+,-./:;<=>?@[]^_`{|}~"])
            .is_ok()
    );
}

#[test]
fn empty_subject_is_refused() {
    assert_eq!(HS.issue("", &["a"]), Err(TokenError::EmptySubject));
}

#[test]
fn tokens_that_could_not_be_verified_are_not_issued() {
    let small = builder()
        .max_token_bytes(1024)
        .signing_key(SigningKey::hs256("hs1", HS_SECRET).unwrap())
        .build()
        .unwrap();
    let subject = "s".repeat(1024);
    assert!(matches!(
        small.issue(&subject, &["a"]),
        Err(TokenError::TooLarge { max: 1024, .. })
    ));
}

// ---------------------------------------------------------------- configuration

#[test]
fn weak_hs256_secrets_are_refused() {
    let err = SigningKey::hs256("k", &[7; 31]).unwrap_err();
    assert_eq!(
        err,
        TokenConfigError::WeakSecret {
            kid: "k".into(),
            len: 31
        }
    );
    let message = err.to_string();
    assert!(
        message.contains("32") && message.contains("openssl rand -hex 32"),
        "{message}"
    );
    assert!(VerificationKey::hs256("k", b"").is_err());
    assert!(SigningKey::hs256("k", &[7; 32]).is_ok());
}

#[test]
fn weak_rsa_keys_are_refused() {
    let weak = TokenConfigError::WeakRsaKey {
        kid: "k".into(),
        bits: 1024,
    };
    assert_eq!(
        SigningKey::rs256_pem("k", WEAK_RSA_PRIVATE).unwrap_err(),
        weak
    );
    assert_eq!(
        VerificationKey::rs256_pem("k", WEAK_RSA_PUBLIC).unwrap_err(),
        weak
    );
}

#[test]
fn pems_of_the_wrong_kind_are_refused() {
    let invalid = |r: Result<(), TokenConfigError>| {
        assert!(
            matches!(r, Err(TokenConfigError::InvalidKey { .. })),
            "{r:?}"
        );
    };
    invalid(SigningKey::rs256_pem("k", RSA_PUBLIC).map(drop));
    invalid(SigningKey::rs256_pem("k", EC_PRIVATE).map(drop));
    invalid(SigningKey::es256_pem("k", RSA_PRIVATE).map(drop));
    invalid(SigningKey::es256_pem("k", ED_PRIVATE).map(drop));
    invalid(SigningKey::eddsa_pem("k", EC_PRIVATE).map(drop));
    invalid(SigningKey::eddsa_pem("k", b"not a pem").map(drop));
    invalid(VerificationKey::rs256_pem("k", RSA_PRIVATE).map(drop));
    invalid(VerificationKey::rs256_pem("k", EC_PUBLIC).map(drop));
    invalid(VerificationKey::es256_pem("k", EC_PRIVATE).map(drop));
    invalid(VerificationKey::es256_pem("k", RSA_PUBLIC).map(drop));
    invalid(VerificationKey::eddsa_pem("k", EC_PUBLIC).map(drop));
    invalid(VerificationKey::eddsa_pem("k", ED_PRIVATE).map(drop));
}

#[test]
fn bad_kids_are_refused() {
    let long = "k".repeat(129);
    for kid in ["", "a b", "ü", "a\"b", "a/b", long.as_str()] {
        assert_eq!(
            SigningKey::hs256(kid, HS_SECRET).unwrap_err(),
            TokenConfigError::InvalidKid { kid: kid.into() }
        );
    }
    assert!(SigningKey::hs256(&"k".repeat(128), HS_SECRET).is_ok());
    assert!(SigningKey::hs256("2026-01_a.B", HS_SECRET).is_ok());
}

#[test]
fn builder_requires_issuer_audience_and_one_signing_key() {
    let key = || SigningKey::hs256("hs1", HS_SECRET).unwrap();
    let err = TokenService::builder()
        .audience(AUD)
        .signing_key(key())
        .build()
        .unwrap_err();
    assert_eq!(err, TokenConfigError::MissingIssuer);
    let err = TokenService::builder()
        .issuer(ISS)
        .signing_key(key())
        .build()
        .unwrap_err();
    assert_eq!(err, TokenConfigError::MissingAudience);
    let err = builder().issuer("").signing_key(key()).build().unwrap_err();
    assert_eq!(err, TokenConfigError::MissingIssuer);
    assert_eq!(
        builder().build().unwrap_err(),
        TokenConfigError::MissingSigningKey
    );
    let two = SigningKey::hs256("hs2", HS_SECRET).unwrap();
    let err = builder()
        .signing_key(key())
        .signing_key(two)
        .build()
        .unwrap_err();
    assert_eq!(err, TokenConfigError::MultipleSigningKeys);
}

#[test]
fn builder_bounds_ttl_leeway_and_size() {
    let build = |b: TokenServiceBuilder| {
        b.signing_key(SigningKey::hs256("hs1", HS_SECRET).unwrap())
            .build()
            .map(drop)
    };
    let day = Duration::from_secs(24 * 60 * 60);
    assert_eq!(
        build(builder().ttl(Duration::ZERO)),
        Err(TokenConfigError::InvalidTtl(Duration::ZERO))
    );
    let half = Duration::from_millis(500);
    assert_eq!(
        build(builder().ttl(half)),
        Err(TokenConfigError::InvalidTtl(half))
    );
    let too_long = day + Duration::from_secs(1);
    assert_eq!(
        build(builder().ttl(too_long)),
        Err(TokenConfigError::InvalidTtl(too_long))
    );
    assert_eq!(build(builder().ttl(day)), Ok(()));

    let five_min = Duration::from_secs(300);
    assert_eq!(build(builder().leeway(five_min)), Ok(()));
    let too_lax = five_min + Duration::from_secs(1);
    assert_eq!(
        build(builder().leeway(too_lax)),
        Err(TokenConfigError::LeewayTooLarge(too_lax))
    );

    assert_eq!(
        build(builder().max_token_bytes(1023)),
        Err(TokenConfigError::InvalidMaxTokenBytes(1023))
    );
    assert_eq!(
        build(builder().max_token_bytes(65537)),
        Err(TokenConfigError::InvalidMaxTokenBytes(65537))
    );
}

#[test]
fn duplicate_kids_are_refused() {
    let err = builder()
        .signing_key(SigningKey::hs256("k", HS_SECRET).unwrap())
        .verification_key(VerificationKey::hs256("k", HS_SECRET).unwrap())
        .build()
        .unwrap_err();
    assert_eq!(err, TokenConfigError::DuplicateKid { kid: "k".into() });
    let err = builder()
        .signing_key(SigningKey::hs256("k", HS_SECRET).unwrap())
        .verification_key(VerificationKey::es256_pem("e", EC_PUBLIC).unwrap())
        .verification_key(VerificationKey::eddsa_pem("e", ED_PUBLIC).unwrap())
        .build()
        .unwrap_err();
    assert_eq!(err, TokenConfigError::DuplicateKid { kid: "e".into() });
}

#[test]
fn config_errors_say_how_to_fix_them() {
    let errors = [
        TokenConfigError::MissingIssuer,
        TokenConfigError::MissingAudience,
        TokenConfigError::MissingSigningKey,
        TokenConfigError::MultipleSigningKeys,
        TokenConfigError::WeakRsaKey {
            kid: "k".into(),
            bits: 1024,
        },
        TokenConfigError::InvalidKid { kid: "a b".into() },
        TokenConfigError::DuplicateKid { kid: "k".into() },
        TokenConfigError::InvalidTtl(Duration::ZERO),
        TokenConfigError::LeewayTooLarge(Duration::from_secs(600)),
        TokenConfigError::InvalidMaxTokenBytes(1),
    ];
    for err in errors {
        let message = err.to_string();
        assert!(message.contains(':'), "{message}");
    }
}

// ------------------------------------------------------------------ hygiene

#[test]
fn debug_output_never_contains_secrets() {
    let service = builder()
        .signing_key(SigningKey::hs256("hs1", HS_SECRET).unwrap())
        .verification_key(VerificationKey::hs256("hs0", OTHER_HS_SECRET).unwrap())
        .build()
        .unwrap();
    let printed = format!(
        "{service:?} {:?}",
        SigningKey::rs256_pem("r", RSA_PRIVATE).unwrap()
    );
    for secret in [HS_SECRET, OTHER_HS_SECRET] {
        let secret = std::str::from_utf8(secret).unwrap();
        assert!(!printed.contains(secret), "{printed}");
        assert!(!printed.contains(&b64(secret.as_bytes())), "{printed}");
    }
    assert!(!printed.contains("MII"), "{printed}");
    assert!(
        printed.contains("hs0") && printed.contains("hs1"),
        "{printed}"
    );
}

#[test]
fn service_is_clone_send_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<TokenService>();
    assert_traits::<TokenRejection>();
    assert_traits::<TokenConfigError>();
    assert_traits::<TokenError>();
}

#[test]
fn every_rejection_has_a_distinct_message() {
    use TokenRejection::*;
    let all = [
        TooLarge,
        Malformed,
        UnsupportedCritical,
        MissingKeyId,
        UnknownKey,
        WrongAlgorithm,
        BadSignature,
        WrongType,
        Expired,
        NotYetValid,
        IssuedInFuture,
        WrongIssuer,
        WrongAudience,
        MissingClaim("exp"),
        InvalidClaim("exp"),
        Internal,
    ];
    let messages: std::collections::HashSet<String> = all.iter().map(|r| r.to_string()).collect();
    assert_eq!(messages.len(), all.len());
}

// ------------------------------------------ against jsonwebtoken::decode (before 4fc0b18)

/// What verification did after the header and key checks when jsonwebtoken made the
/// claim checks: `decode` with the `Validation` the builder used to make.
fn verified_by_jsonwebtoken(token: &str) -> Result<AccessClaims, TokenRejection> {
    let leeway = DEFAULT_LEEWAY.as_secs();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
    validation.leeway = leeway;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = true;
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.set_issuer(&[ISS]);
    validation.set_audience(&[AUD]);
    let key = jsonwebtoken::DecodingKey::from_secret(HS_SECRET);
    jsonwebtoken::decode::<claims::RawClaims>(token, &key, &validation)
        .map_err(|error| verify::rejection_from(&error))?
        .claims
        .into_access_claims(now(), leeway)
}

/// Every registered and private claim, one at a time, given every JSON type and the
/// values that matter: our checks give jsonwebtoken's answer, or a more precise one
/// where its reader stopped inside an array or object of `exp`, `nbf` or `sub` and
/// called the whole token malformed.
#[test]
fn the_claim_checks_answer_as_jsonwebtoken_did() {
    let now = now() as i64;
    let values = [
        json!(null),
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e300),
        json!(""),
        json!("x"),
        json!(ISS),
        json!(AUD),
        json!(now - 1000),
        json!(now - 20),
        json!(now),
        json!(now + 20),
        json!(now + 1000),
        json!((now + 1000) as f64 + 0.4),
        json!([]),
        json!([ISS]),
        json!([AUD]),
        json!(["x", AUD]),
        json!([1]),
        json!({}),
        json!({ "a": 1 }),
    ];
    let claims = ["sub", "iss", "aud", "exp", "nbf", "iat", "jti", "scope"];
    let mut compared = 0;
    for claim in claims {
        for value in values.iter().map(Some).chain([None]) {
            let token = hs_token_with_claims(|c| match value {
                Some(value) => c[claim] = value.clone(),
                None => {
                    c.as_object_mut().unwrap().remove(claim);
                }
            });
            let ours = HS.verify(&token);
            let theirs = verified_by_jsonwebtoken(&token);
            let more_precise = theirs == Err(TokenRejection::Malformed)
                && ["exp", "nbf", "sub"].contains(&claim)
                && value.is_some_and(|v| v.is_array() || v.is_object())
                && matches!(
                    ours,
                    Err(TokenRejection::MissingClaim(name) | TokenRejection::InvalidClaim(name))
                        if name == claim
                );
            assert!(
                ours == theirs || more_precise,
                "{claim} = {value:?}: ours {ours:?}, jsonwebtoken's {theirs:?}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, claims.len() * (values.len() + 1));
}
