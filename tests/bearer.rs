//! The bearer guard over real HTTP: RFC 6750 answers, the order of checks, the subject
//! check, scopes (all-of and any-of), and forged tokens.

use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use secure_api_tests::*;
use serde_json::json;

fn challenge(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("www-authenticate")
        .expect("a WWW-Authenticate header")
        .to_str()
        .expect("ASCII")
        .to_owned()
}

async fn get_with(server: &TestServer, path: &str, authorization: &str) -> reqwest::Response {
    server
        .client
        .get(server.url(path))
        .header("authorization", authorization)
        .send()
        .await
        .expect("request")
}

/// Asserts a 401 `invalid_token` for `token` on `/me`.
async fn assert_invalid_token(server: &TestServer, token: &str, what: &str) {
    let response = get_with(server, "/me", &format!("Bearer {token}")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    assert_eq!(
        challenge(&response),
        "Bearer error=\"invalid_token\"",
        "{what}"
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "{what}"
    );
}

#[tokio::test]
async fn no_token_is_a_bare_bearer_challenge() {
    let server = serve().await;
    let response = server.client.get(server.url("/me")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&response), "Bearer");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], 401);
    assert_eq!(body["title"], "Unauthorized");
}

#[tokio::test]
async fn another_scheme_is_treated_as_no_token() {
    let server = serve().await;
    let response = get_with(&server, "/me", "Basic YWxpY2U6cGFzc3dvcmQ=").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&response), "Bearer");
}

#[tokio::test]
async fn malformed_headers_are_invalid_request() {
    let server = serve().await;
    for header in ["Bearer", "Bearer ", "Bearer a b", "Bearer {\"alg\":1}"] {
        let response = get_with(&server, "/me", header).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(
            challenge(&response),
            "Bearer error=\"invalid_request\"",
            "{header:?}"
        );
    }
    let token = server.token("alice", &[]);
    let response = server
        .client
        .get(server.url("/me"))
        .header("authorization", format!("Bearer {token}"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "two Authorization headers"
    );
    assert_eq!(challenge(&response), "Bearer error=\"invalid_request\"");
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_with_its_principal() {
    let server = serve().await;
    let token = server.token("john", &["users:read", "items:read"]);
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    let response = get_with(&server, "/me", &format!("bEaReR {token}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "subject": "john",
            "scopes": ["users:read", "items:read"],
            "details": "john's details",
        })
    );
    // More than one space before the token is allowed too (RFC 6750 §2.1: `1*SP`).
    let response = get_with(&server, "/me", &format!("Bearer   {token}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    // A b64token that is no JWT is a bad token, not a bad header.
    let response = get_with(&server, "/me", "Bearer abc~def+ghi/=").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(challenge(&response), "Bearer error=\"invalid_token\"");
}

#[tokio::test]
async fn the_guard_looks_the_subject_up_once_per_request() {
    let server = serve().await;
    let token = server.token("alice", &["users:write"]);
    let before = server.lookups();
    let response = server
        .client
        .post(server.url("/users"))
        .bearer_auth(&token)
        .json(&json!({"username": "newbie"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(server.lookups() - before, 1, "one store lookup per request");
    let before = server.lookups();
    let response = get_with(&server, "/me", &format!("Bearer {token}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(server.lookups() - before, 1);
    // That one lookup also serves the handler: the record, details and all.
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["details"], "alice's details");
}

#[tokio::test]
async fn a_missing_scope_is_403_insufficient_scope_naming_it() {
    let server = serve().await;
    let token = server.token("john", &["users:read", "items:read"]);
    let response = server
        .client
        .post(server.url("/users"))
        .bearer_auth(&token)
        .json(&json!({"username": "newbie"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        challenge(&response),
        "Bearer error=\"insufficient_scope\", scope=\"users:write\""
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], 403);
}

#[tokio::test]
async fn the_token_scope_not_the_user_scope_decides() {
    // alice has users:write, but this token was downscoped to users:read.
    let server = serve().await;
    let token = server.token("alice", &["users:read"]);
    let response = server
        .client
        .post(server.url("/users"))
        .bearer_auth(&token)
        .json(&json!({"username": "newbie"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn guards_run_before_the_body_is_parsed() {
    let server = serve().await;
    let john = server.token("john", &["users:read"]);
    for (auth, expected) in [
        (None, StatusCode::UNAUTHORIZED),
        (
            Some("Bearer not.a.token".to_owned()),
            StatusCode::UNAUTHORIZED,
        ),
        (Some(format!("Bearer {john}")), StatusCode::FORBIDDEN),
    ] {
        for body in ["{not json", "{\"username\": 5}", "{\"username\": \"x\"}"] {
            let mut request = server
                .client
                .post(server.url("/users"))
                .header("content-type", "application/json")
                .body(body);
            if let Some(auth) = &auth {
                request = request.header("authorization", auth);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), expected, "auth {auth:?}, body {body:?}");
        }
    }
    // With the scope, the same bodies reach parsing and validation.
    let alice = server.token("alice", &["users:write"]);
    let response = server
        .client
        .post(server.url("/users"))
        .bearer_auth(&alice)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = server
        .client
        .post(server.url("/users"))
        .bearer_auth(&alice)
        .json(&json!({"username": "newbie"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<String>().await.unwrap(),
        "alice created newbie"
    );
}

#[tokio::test]
async fn any_of_accepts_each_alternative_and_names_the_closest_one() {
    let server = serve().await;
    let both = server.token("alice", &["users:read", "users:write"]);
    let response = get_with(&server, "/either", &format!("Bearer {both}")).await;
    assert_eq!(response.status(), StatusCode::OK);

    let admin = server.token("john", &["admin"]);
    let response = get_with(&server, "/either", &format!("Bearer {admin}")).await;
    assert_eq!(response.status(), StatusCode::OK);

    let half = server.token("john", &["users:read"]);
    let response = get_with(&server, "/either", &format!("Bearer {half}")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        challenge(&response),
        "Bearer error=\"insufficient_scope\", scope=\"users:read users:write\""
    );
}

#[tokio::test]
async fn a_subject_that_is_disabled_or_gone_is_refused_at_once() {
    let server = serve().await;
    let token = server.token("john", &["users:read"]);
    assert_eq!(
        get_with(&server, "/me", &format!("Bearer {token}"))
            .await
            .status(),
        StatusCode::OK
    );

    assert!(server.users.set_disabled("john", true));
    assert_invalid_token(&server, &token, "disabled user").await;
    assert!(server.users.set_disabled("john", false));
    assert_eq!(
        get_with(&server, "/me", &format!("Bearer {token}"))
            .await
            .status(),
        StatusCode::OK
    );

    assert!(server.users.remove("john"));
    assert_invalid_token(&server, &token, "deleted user").await;

    let ghost = server.token("ghost", &["admin"]);
    assert_invalid_token(&server, &ghost, "never existed").await;
}

#[tokio::test]
async fn unguarded_operations_need_nothing() {
    let server = serve().await;
    let response = server.client.get(server.url("/open")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

// --- forged tokens (research/security.md §1.5) ---------------------------------

#[tokio::test]
async fn forged_and_invalid_tokens_are_all_401_invalid_token() {
    let server = serve().await;
    let now = now();
    let good = valid_claims("alice", "users:read");
    let with = |key: &str, value: serde_json::Value| {
        let mut claims = good.clone();
        claims[key] = value;
        claims
    };
    let without = |key: &str| {
        let mut claims = good.clone();
        claims.as_object_mut().unwrap().remove(key);
        claims
    };

    // A control: the forging helpers make tokens the service accepts.
    let control = sign_hs256(&hs_header(), &good, HS256_SECRET);
    assert_eq!(
        get_with(&server, "/me", &format!("Bearer {control}"))
            .await
            .status(),
        StatusCode::OK
    );

    let mut cases: Vec<(&str, String)> = Vec::new();
    let none_header = json!({"alg": "none", "typ": "at+jwt", "kid": KID});
    cases.push((
        "alg none",
        format!(
            "{}.{}.",
            b64(none_header.to_string().as_bytes()),
            b64(good.to_string().as_bytes())
        ),
    ));
    for alg in ["noNE", "None", "hs256"] {
        let header = json!({"alg": alg, "typ": "at+jwt", "kid": KID});
        cases.push(("alg case variant", sign_hs256(&header, &good, HS256_SECRET)));
    }
    // McLean 2015 / CVE-2015-9235: HS256 signed with the RSA public key as the secret.
    let confused = json!({"alg": "HS256", "typ": "at+jwt", "kid": RSA_KID});
    cases.push((
        "HS256 with the RSA public key",
        sign_hs256(&confused, &good, RSA_PUBLIC),
    ));
    let tampered = {
        let token = sign_hs256(&hs_header(), &good, HS256_SECRET);
        let parts: Vec<&str> = token.split('.').collect();
        let payload = b64(with("sub", json!("admin")).to_string().as_bytes());
        format!("{}.{}.{}", parts[0], payload, parts[2])
    };
    cases.push(("tampered payload", tampered));
    cases.push((
        "another secret",
        sign_hs256(&hs_header(), &good, b"another secret, also 32 bytes long.."),
    ));
    cases.push((
        "expired",
        sign_hs256(&hs_header(), &with("exp", json!(now - 3600)), HS256_SECRET),
    ));
    cases.push((
        "not yet valid",
        sign_hs256(&hs_header(), &with("nbf", json!(now + 3600)), HS256_SECRET),
    ));
    cases.push((
        "iat in the future",
        sign_hs256(&hs_header(), &with("iat", json!(now + 3600)), HS256_SECRET),
    ));
    cases.push((
        "wrong iss",
        sign_hs256(
            &hs_header(),
            &with("iss", json!("https://evil.example")),
            HS256_SECRET,
        ),
    ));
    cases.push((
        "wrong aud",
        sign_hs256(
            &hs_header(),
            &with("aud", json!("https://other.example")),
            HS256_SECRET,
        ),
    ));
    cases.push((
        "aud of the wrong type",
        sign_hs256(&hs_header(), &with("aud", json!(123)), HS256_SECRET),
    ));
    cases.push((
        "missing aud",
        sign_hs256(&hs_header(), &without("aud"), HS256_SECRET),
    ));
    cases.push((
        "missing iss",
        sign_hs256(&hs_header(), &without("iss"), HS256_SECRET),
    ));
    cases.push((
        "missing exp",
        sign_hs256(&hs_header(), &without("exp"), HS256_SECRET),
    ));
    cases.push((
        "missing sub",
        sign_hs256(&hs_header(), &without("sub"), HS256_SECRET),
    ));
    cases.push((
        "exp as a string",
        sign_hs256(
            &hs_header(),
            &with("exp", json!((now + 600).to_string())),
            HS256_SECRET,
        ),
    ));
    cases.push((
        "nbf as a string",
        sign_hs256(
            &hs_header(),
            &with("nbf", json!((now + 3600).to_string())),
            HS256_SECRET,
        ),
    ));
    for typ in [json!("JWT"), json!("id_token+jwt"), serde_json::Value::Null] {
        let mut header = hs_header();
        if typ.is_null() {
            header.as_object_mut().unwrap().remove("typ");
        } else {
            header["typ"] = typ;
        }
        cases.push((
            "wrong or missing typ",
            sign_hs256(&header, &good, HS256_SECRET),
        ));
    }
    let mut unknown_kid = hs_header();
    unknown_kid["kid"] = json!("../../dev/null");
    cases.push(("unknown kid", sign_hs256(&unknown_kid, &good, HS256_SECRET)));
    let mut crit = hs_header();
    crit["crit"] = json!(["exp"]);
    cases.push(("crit header", sign_hs256(&crit, &good, HS256_SECRET)));
    // An attacker's own key embedded in the header must not be used.
    let attacker_secret = b"attacker secret, also 32 bytes long!";
    let jwk = json!({"alg": "HS256", "typ": "at+jwt", "kid": KID,
        "jwk": {"kty": "oct", "k": b64(attacker_secret)}, "jku": "http://127.0.0.1:1/jwks"});
    cases.push((
        "jwk/jku headers with the attacker's key",
        sign_hs256(&jwk, &good, attacker_secret),
    ));
    // CVE-2022-21449 "psychic signature": r = s = 0.
    let es_header = json!({"alg": "ES256", "typ": "at+jwt", "kid": EC_KID});
    cases.push((
        "zero ES256 signature",
        format!(
            "{}.{}.{}",
            b64(es_header.to_string().as_bytes()),
            b64(good.to_string().as_bytes()),
            b64(&[0u8; 64])
        ),
    ));
    // The right algorithm family but a key of another kid.
    let rs_header = json!({"alg": "RS256", "typ": "at+jwt", "kid": EC_KID});
    cases.push((
        "RS256 under the EC key's kid",
        sign_pem(&rs_header, &good, Algorithm::RS256, RSA_PRIVATE),
    ));
    cases.push(("empty signature", {
        let token = sign_hs256(&hs_header(), &good, HS256_SECRET);
        format!("{}.", &token[..token.rfind('.').unwrap()])
    }));
    cases.push(("two segments", {
        let token = sign_hs256(&hs_header(), &good, HS256_SECRET);
        token[..token.rfind('.').unwrap()].to_owned()
    }));
    cases.push((
        "four segments",
        format!("{}.x", sign_hs256(&hs_header(), &good, HS256_SECRET)),
    ));
    cases.push((
        "padded base64",
        format!("{}==", sign_hs256(&hs_header(), &good, HS256_SECRET)),
    ));
    cases.push(("10 KB of garbage", "A".repeat(10 * 1024)));
    cases.push((
        "10 KB well-formed",
        format!(
            "{}.{}.{}",
            "e".repeat(5000),
            "e".repeat(5000),
            "e".repeat(100)
        ),
    ));

    for (what, token) in &cases {
        assert_invalid_token(&server, token, what).await;
    }

    // Tokens the service must accept: other configured keys, typ variants, float exp.
    let accepted = [
        (
            "RS256 with its kid",
            sign_pem(
                &json!({"alg": "RS256", "typ": "at+jwt", "kid": RSA_KID}),
                &good,
                Algorithm::RS256,
                RSA_PRIVATE,
            ),
        ),
        (
            "ES256 with its kid",
            sign_pem(
                &json!({"alg": "ES256", "typ": "at+jwt", "kid": EC_KID}),
                &good,
                Algorithm::ES256,
                EC_PRIVATE,
            ),
        ),
        (
            "typ at+JWT",
            sign_hs256(
                &json!({"alg": "HS256", "typ": "at+JWT", "kid": KID}),
                &good,
                HS256_SECRET,
            ),
        ),
        (
            "typ application/AT+JWT",
            sign_hs256(
                &json!({"alg": "HS256", "typ": "application/AT+JWT", "kid": KID}),
                &good,
                HS256_SECRET,
            ),
        ),
        (
            "expired within the leeway",
            sign_hs256(&hs_header(), &with("exp", json!(now - 5)), HS256_SECRET),
        ),
    ];
    for (what, token) in &accepted {
        let response = get_with(&server, "/me", &format!("Bearer {token}")).await;
        assert_eq!(response.status(), StatusCode::OK, "{what}");
    }
}
