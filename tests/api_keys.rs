//! API keys over real HTTP: every location, missing and wrong keys answered alike,
//! key scopes, a narrower scheme, the document, and logs that never show a key.

use secure_api::{
    ApiKeyIdentity, App,
    apikey::{
        ApiKeyGenerator, ApiKeyHasher, ApiKeyRecord, ApiKeyScheme, ApiKeys, InMemoryApiKeyStore,
    },
    poem_openapi::{self, Object, OpenApiService, payload::Json},
    prelude::*,
};
use secure_api_tests::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, OnceLock};

struct KeyedApi;

#[derive(Object)]
struct Payload {
    name: String,
}

#[secure_api]
impl KeyedApi {
    /// Any known key
    #[oai(path = "/resource", method = "get")]
    #[requires_api_key]
    async fn resource(&self, key: ApiKeyIdentity) -> Json<Value> {
        Json(json!({
            "owner": key.owner(),
            "scopes": key.scopes().collect::<Vec<_>>(),
            "key_id": key.key_id(),
        }))
    }

    /// A key with `read:write`
    #[oai(path = "/resource", method = "post")]
    #[requires_api_key(scope = "read:write")]
    async fn write(&self, key: ApiKeyIdentity, Json(payload): Json<Payload>) -> Json<String> {
        Json(format!("{} wrote {}", key.owner(), payload.name))
    }

    /// The identity parameter alone requires a key
    #[oai(path = "/whoami", method = "get")]
    async fn whoami(&self, key: ApiKeyIdentity) -> Json<String> {
        Json(key.owner().to_owned())
    }

    /// Two requests per minute for each key
    #[oai(path = "/metered", method = "get")]
    #[requires_api_key]
    #[rate_limit(2, per = "60s", key = api_key)]
    async fn metered(&self, key: ApiKeyIdentity) -> Json<String> {
        Json(key.owner().to_owned())
    }

    /// No key needed
    #[oai(path = "/free", method = "get")]
    async fn free(&self) -> Json<&'static str> {
        Json("free")
    }
}

/// Keys in the header only.
struct HeaderKeys;

impl ApiKeyScheme for HeaderKeys {
    const QUERY: Option<&'static str> = None;
    const COOKIE: Option<&'static str> = None;
    const SCHEME_NAMES: [&'static str; 3] = ["HeaderKey", "unused", "unused"];
}

struct HeaderOnlyApi;

#[secure_api(api_keys = HeaderKeys)]
impl HeaderOnlyApi {
    /// Header keys only
    #[oai(path = "/header-only", method = "get")]
    #[requires_api_key]
    async fn header_only(&self, key: ApiKeyIdentity) -> Json<String> {
        Json(key.owner().to_owned())
    }
}

struct Keys {
    base: String,
    store: InMemoryApiKeyStore,
    hasher: ApiKeyHasher,
    generated: String,
}

const KEY_1: &str = "valid_api_key_1";
const KEY_2: &str = "valid_api_key_2";

async fn serve_keys() -> Keys {
    let hasher = ApiKeyHasher::new(&[42u8; 32]).unwrap();
    let store = InMemoryApiKeyStore::new();
    store.insert(ApiKeyRecord::new(
        hasher.digest(KEY_1),
        "service1",
        ["read"],
    ));
    store.insert(ApiKeyRecord::new(
        hasher.digest(KEY_2),
        "service2",
        ["read:write"],
    ));
    let generated = ApiKeyGenerator::new("sk_test").unwrap().generate().unwrap();
    store.insert(ApiKeyRecord::new(
        hasher.digest(&generated),
        "generated",
        ["read", "read:write"],
    ));
    let api = OpenApiService::new((KeyedApi, HeaderOnlyApi), "keys", "1.0");
    let spec = api.spec_endpoint();
    let routes = secure_api::poem::Route::new()
        .at("/openapi.json", spec)
        .nest("/", api);
    let app = App::new(routes).data(ApiKeys::new(hasher.clone(), store.clone()));
    Keys {
        base: serve_endpoint(app).await,
        store,
        hasher,
        generated,
    }
}

impl Keys {
    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new().get(format!("{}{path}", self.base))
    }
}

#[tokio::test]
async fn a_key_is_read_from_the_header_the_query_or_the_cookie() {
    let keys = serve_keys().await;
    let requests = [
        ("header", keys.get("/resource").header("X-API-Key", KEY_1)),
        (
            "header, any case",
            keys.get("/resource").header("x-api-key", KEY_1),
        ),
        ("query", keys.get(&format!("/resource?api-key={KEY_1}"))),
        (
            "cookie",
            keys.get("/resource")
                .header("cookie", format!("theme=dark; api-key={KEY_1}")),
        ),
        (
            "the same key twice",
            keys.get(&format!("/resource?api-key={KEY_1}"))
                .header("X-API-Key", KEY_1),
        ),
    ];
    for (what, request) in requests {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{what}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["owner"], "service1", "{what}");
        assert_eq!(body["scopes"], json!(["read"]), "{what}");
        assert_eq!(body["key_id"], keys.hasher.digest(KEY_1).key_id(), "{what}");
    }
    let response = keys
        .get("/whoami")
        .header("X-API-Key", &keys.generated)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<String>().await.unwrap(), "generated");
}

#[tokio::test]
async fn missing_and_wrong_keys_get_the_same_answer() {
    let keys = serve_keys().await;
    let long = "k".repeat(300);
    let requests = [
        ("missing", keys.get("/resource")),
        (
            "wrong",
            keys.get("/resource").header("X-API-Key", "wrong_key"),
        ),
        ("empty", keys.get("/resource").header("X-API-Key", "")),
        (
            "almost right",
            keys.get("/resource").header("X-API-Key", "valid_api_key_3"),
        ),
        ("too long", keys.get("/resource").header("X-API-Key", &long)),
        ("wrong in the query", keys.get("/resource?api-key=nope")),
        (
            "wrong cookie",
            keys.get("/resource").header("cookie", "api-key=nope"),
        ),
        (
            "two different keys",
            keys.get(&format!("/resource?api-key={KEY_2}"))
                .header("X-API-Key", KEY_1),
        ),
        (
            "two headers",
            keys.get("/resource")
                .header("X-API-Key", KEY_1)
                .header("X-API-Key", KEY_2),
        ),
        (
            "another header",
            keys.get("/resource").header("X-Api-Token", KEY_1),
        ),
        (
            "as a bearer token",
            keys.get("/resource").bearer_auth(KEY_1),
        ),
    ];
    let mut answers = Vec::new();
    for (what, request) in requests {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{what}");
        let challenge = response.headers()["www-authenticate"].clone();
        let content_type = response.headers()["content-type"].clone();
        let body = response.text().await.unwrap();
        answers.push((what, challenge, content_type, body));
    }
    let (_, challenge, content_type, body) = &answers[0];
    assert_eq!(challenge, "ApiKey");
    assert_eq!(content_type, "application/problem+json");
    for (what, other_challenge, other_type, other_body) in &answers[1..] {
        assert_eq!(
            (other_challenge, other_type, other_body),
            (challenge, content_type, body),
            "{what} is told apart from a missing key"
        );
    }
    assert!(!body.contains("wrong"), "{body}");
}

#[tokio::test]
async fn a_key_scope_is_required_where_declared() {
    let keys = serve_keys().await;
    let client = reqwest::Client::new();
    let write = |key: &str| {
        client
            .post(format!("{}/resource", keys.base))
            .header("X-API-Key", key.to_owned())
            .json(&json!({"name": "report"}))
            .send()
    };
    let response = write(KEY_1).await.unwrap();
    assert_eq!(response.status(), 403, "service1 has only `read`");
    assert!(response.headers().get("www-authenticate").is_none());
    let response = write(KEY_2).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<String>().await.unwrap(),
        "service2 wrote report"
    );

    // The key is checked before the body is read: a broken body without a key is 401.
    let response = client
        .post(format!("{}/resource", keys.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = client
        .post(format!("{}/resource", keys.base))
        .header("X-API-Key", KEY_1)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn a_scheme_reads_only_its_own_locations() {
    let keys = serve_keys().await;
    let header = keys
        .get("/header-only")
        .header("X-API-Key", KEY_2)
        .send()
        .await
        .unwrap();
    assert_eq!(header.status(), 200);
    for request in [
        keys.get(&format!("/header-only?api-key={KEY_2}")),
        keys.get("/header-only")
            .header("cookie", format!("api-key={KEY_2}")),
    ] {
        assert_eq!(request.send().await.unwrap().status(), 401);
    }
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once() {
    let keys = serve_keys().await;
    let call = || keys.get("/resource").header("X-API-Key", KEY_2).send();
    assert_eq!(call().await.unwrap().status(), 200);
    assert!(keys.store.revoke(&keys.hasher.digest(KEY_2)));
    assert_eq!(call().await.unwrap().status(), 401);
}

#[tokio::test]
async fn the_document_shows_the_three_schemes_and_who_needs_them() {
    let keys = serve_keys().await;
    let doc: Value = keys
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["ApiKeyHeader"],
        json!({"type": "apiKey", "in": "header", "name": "X-API-Key",
               "description": "An API key in a request header."})
    );
    assert_eq!(schemes["ApiKeyQuery"]["in"], "query");
    assert_eq!(schemes["ApiKeyQuery"]["name"], "api-key");
    assert!(
        schemes["ApiKeyQuery"]["description"]
            .as_str()
            .unwrap()
            .contains("Discouraged")
    );
    assert_eq!(schemes["ApiKeyCookie"]["in"], "cookie");
    assert_eq!(schemes["ApiKeyCookie"]["name"], "api-key");
    assert_eq!(schemes["HeaderKey"]["in"], "header");

    let any_location = json!([{"ApiKeyHeader": []}, {"ApiKeyQuery": []}, {"ApiKeyCookie": []}]);
    let read = &doc["paths"]["/resource"]["get"];
    assert_eq!(read["security"], any_location);
    assert_eq!(
        read["responses"]["401"]["headers"]["WWW-Authenticate"]["required"],
        true
    );
    assert!(read["responses"]["403"].is_null(), "no scope, no 403");
    let write = &doc["paths"]["/resource"]["post"];
    assert_eq!(write["security"], any_location);
    assert!(write["responses"]["403"].is_object());
    assert_eq!(doc["paths"]["/whoami"]["get"]["security"], any_location);
    assert_eq!(
        doc["paths"]["/header-only"]["get"]["security"],
        json!([{"HeaderKey": []}])
    );
    let free = &doc["paths"]["/free"]["get"];
    assert!(free["security"].is_null() || free["security"] == json!([]));
    assert!(free["responses"]["401"].is_null());
}

/// Everything logged by this test binary, at every level.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        logs
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn keys_never_reach_the_logs() {
    let logs = captured_logs();
    let keys = serve_keys().await;
    let wrong = ApiKeyGenerator::new("sk_test").unwrap().generate().unwrap();
    for key in [keys.generated.as_str(), wrong.as_str(), KEY_1] {
        for request in [
            keys.get(&format!("/resource?api-key={key}")),
            keys.get("/resource").header("X-API-Key", key),
            keys.get("/resource")
                .header("cookie", format!("api-key={key}")),
        ] {
            request.send().await.unwrap();
        }
        reqwest::Client::new()
            .post(format!("{}/resource", keys.base))
            .header("X-API-Key", key)
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap();
    }
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        logged.contains("API key refused"),
        "the refusals are logged: {logged}"
    );
    for key in [keys.generated.as_str(), wrong.as_str(), KEY_1] {
        assert!(!logged.contains(key), "{key} is in the logs:\n{logged}");
    }
}

#[tokio::test]
async fn key_limits_count_per_verified_key_not_per_client() {
    let keys = serve_keys().await;
    let metered = |key: &str| keys.get("/metered").header("X-API-Key", key).send();
    for _ in 0..2 {
        assert_eq!(metered(KEY_1).await.unwrap().status(), 200);
    }
    let refused = metered(KEY_1).await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    // The same client with another key has a budget of its own...
    assert_eq!(metered(KEY_2).await.unwrap().status(), 200);
    // ...and a wrong key is refused as a wrong key, not as an exhausted one.
    assert_eq!(metered("not_a_key").await.unwrap().status(), 401);
}
