//! `#[api_version]` over real HTTP: both versions of one path, deprecation headers on
//! every answer, the successor link, 410 past the sunset, and the document.

use secure_api::{
    App,
    apikey::{ApiKeyHasher, ApiKeyRecord, ApiKeys, InMemoryApiKeyStore},
    poem_openapi::{
        OpenApiService,
        param::Path,
        payload::{Json, PlainText},
    },
    prelude::*,
};
use secure_api_tests::*;
use serde_json::{Value, json};

struct UsersApi;

#[secure_api(version(
    1,
    deprecated = "2025-01-01",
    sunset = "2099-12-31T23:59:59Z",
    policy = "https://api.example.com/docs/deprecations/v1"
))]
impl UsersApi {
    /// Users, v1
    #[oai(path = "/users", method = "get", operation_id = "listUsers")]
    #[api_version(1)]
    async fn users_v1(&self) -> Json<Value> {
        Json(json!({"version": "1"}))
    }

    /// Users, v2
    #[oai(path = "/users", method = "get", operation_id = "listUsers")]
    #[api_version(2)]
    async fn users_v2(&self) -> Json<Value> {
        Json(json!({"version": "2"}))
    }

    /// One item, behind an API key
    #[oai(path = "/items/:id", method = "get")]
    #[api_version(1, 2)]
    #[requires_api_key]
    async fn item(&self, id: Path<u32>, key: ApiKeyIdentity) -> PlainText<String> {
        PlainText(format!("item {} for {}", id.0, key.owner()))
    }

    /// Only in v1, with no successor
    #[oai(path = "/legacy-report", method = "get")]
    #[api_version(1)]
    async fn legacy_report(&self) -> PlainText<&'static str> {
        PlainText("report")
    }
}

struct RetiredApi;

#[secure_api(
    version(3, deprecated = "2020-01-01", sunset = "2021-01-01", gone_after_sunset),
    version(4, deprecated = "2020-01-01", sunset = "2021-01-01"),
    version(5, deprecated = "2020-01-01", sunset = "2099-01-01", gone_after_sunset)
)]
impl RetiredApi {
    /// Past its sunset, retired
    #[oai(path = "/orders", method = "get")]
    #[api_version(3)]
    #[requires_api_key]
    async fn orders_v3(&self) -> PlainText<&'static str> {
        PlainText("orders")
    }

    /// Past its sunset, still served: 410 is opt-in
    #[oai(path = "/orders", method = "get")]
    #[api_version(4)]
    async fn orders_v4(&self) -> PlainText<&'static str> {
        PlainText("orders v4")
    }

    /// Retired only after its sunset
    #[oai(path = "/orders", method = "get")]
    #[api_version(5)]
    async fn orders_v5(&self) -> PlainText<&'static str> {
        PlainText("orders v5")
    }
}

struct PrefixedApi;

#[secure_api(version_prefix = "/v{version}/catalog")]
impl PrefixedApi {
    /// Under another prefix
    #[oai(path = "/books", method = "get")]
    #[api_version(7)]
    async fn books(&self) -> PlainText<&'static str> {
        PlainText("books")
    }
}

const KEY: &str = "versions-test-key";

async fn serve_versions() -> String {
    let hasher = ApiKeyHasher::new(&[9u8; 32]).unwrap();
    let store = InMemoryApiKeyStore::new();
    store.insert(ApiKeyRecord::new(hasher.digest(KEY), "tester", ["read"]));
    let api = OpenApiService::new((UsersApi, RetiredApi, PrefixedApi), "versions", "1.0");
    let spec = api.spec_endpoint();
    let routes = secure_api::poem::Route::new()
        .at("/openapi.json", spec)
        .nest("/", api);
    serve_endpoint(App::new(routes).data(ApiKeys::new(hasher, store))).await
}

async fn get(base: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap()
}

fn links(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn both_versions_of_one_path_are_served() {
    let base = serve_versions().await;
    let v1 = get(&base, "/api/v1/users").await;
    assert_eq!(v1.status(), 200);
    assert_eq!(v1.json::<Value>().await.unwrap(), json!({"version": "1"}));
    let v2 = get(&base, "/api/v2/users").await;
    assert_eq!(v2.status(), 200);
    assert_eq!(v2.json::<Value>().await.unwrap(), json!({"version": "2"}));
    assert_eq!(
        get(&base, "/users").await.status(),
        404,
        "only versioned paths"
    );
    assert_eq!(get(&base, "/api/v3/users").await.status(), 404);

    for version in [1, 2] {
        let item = get(&base, &format!("/api/v{version}/items/42")).await;
        assert_eq!(item.status(), 200, "v{version}");
        assert_eq!(item.text().await.unwrap(), "item 42 for tester");
    }
    let books = get(&base, "/v7/catalog/books").await;
    assert_eq!(books.status(), 200);
}

#[tokio::test]
async fn a_deprecated_version_says_so_on_every_answer() {
    let base = serve_versions().await;
    let v1 = get(&base, "/api/v1/users").await;
    // 2025-01-01T00:00:00Z
    assert_eq!(v1.headers()["deprecation"], "@1735689600");
    assert_eq!(v1.headers()["sunset"], "Thu, 31 Dec 2099 23:59:59 GMT");
    assert_eq!(
        links(&v1),
        [
            "</api/v2/users>; rel=\"successor-version\"",
            "<https://api.example.com/docs/deprecations/v1>; rel=\"deprecation\"; type=\"text/html\"",
        ]
    );

    // The successor keeps the request's own path parameters.
    let item = get(&base, "/api/v1/items/42").await;
    assert_eq!(
        links(&item)[0],
        "</api/v2/items/42>; rel=\"successor-version\""
    );
    // A refusal carries them too.
    let refused = reqwest::get(format!("{base}/api/v1/items/42"))
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["deprecation"], "@1735689600");
    assert!(refused.headers().get("sunset").is_some());

    // No successor in this impl: only the policy link.
    let legacy = get(&base, "/api/v1/legacy-report").await;
    assert_eq!(
        links(&legacy),
        ["<https://api.example.com/docs/deprecations/v1>; rel=\"deprecation\"; type=\"text/html\""]
    );

    // The current version announces nothing.
    let v2 = get(&base, "/api/v2/users").await;
    for name in ["deprecation", "sunset", "link"] {
        assert!(v2.headers().get(name).is_none(), "{name}");
    }
}

#[tokio::test]
async fn past_the_sunset_a_retired_version_is_gone() {
    let base = serve_versions().await;
    // Before the key is even looked at: no key, still 410.
    let gone = reqwest::get(format!("{base}/api/v3/orders")).await.unwrap();
    assert_eq!(gone.status(), 410);
    assert_eq!(gone.headers()["content-type"], "application/problem+json");
    assert_eq!(gone.headers()["sunset"], "Fri, 01 Jan 2021 00:00:00 GMT");
    assert_eq!(
        links(&gone),
        ["</api/v4/orders>; rel=\"successor-version\""]
    );
    assert_eq!(get(&base, "/api/v3/orders").await.status(), 410);

    // 410 is by configuration: v4 is past its sunset without it, v5 before it.
    let v4 = get(&base, "/api/v4/orders").await;
    assert_eq!(v4.status(), 200);
    assert_eq!(v4.headers()["sunset"], "Fri, 01 Jan 2021 00:00:00 GMT");
    assert_eq!(get(&base, "/api/v5/orders").await.status(), 200);
}

#[tokio::test]
async fn the_document_shows_every_version_tagged() {
    let base = serve_versions().await;
    let doc: Value = reqwest::get(format!("{base}/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = &doc["paths"];
    let v1 = &paths["/api/v1/users"]["get"];
    let v2 = &paths["/api/v2/users"]["get"];
    assert_eq!(v1["tags"], json!(["v1"]));
    assert_eq!(v2["tags"], json!(["v2"]));
    assert_eq!(v1["deprecated"], true);
    assert!(v2["deprecated"].is_null() || v2["deprecated"] == false);
    assert_eq!(v1["operationId"], "listUsers_v1");
    assert_eq!(v2["operationId"], "listUsers_v2");
    for name in ["Deprecation", "Sunset", "Link"] {
        assert!(
            v1["responses"]["200"]["headers"][name].is_object(),
            "{name}: {:#}",
            v1["responses"]["200"]
        );
    }
    assert!(v2["responses"]["200"]["headers"]["Deprecation"].is_null());

    for version in [1, 2] {
        let item =
            &paths["/api/v{version}/items/{id}".replace("{version}", &version.to_string())]["get"];
        assert_eq!(item["tags"], json!([format!("v{version}")]), "{paths:#}");
        assert!(item["responses"]["401"].is_object());
    }
    assert!(paths["/api/v3/orders"]["get"]["responses"]["410"].is_object());
    assert!(paths["/api/v4/orders"]["get"]["responses"]["410"].is_null());
    assert_eq!(paths["/v7/catalog/books"]["get"]["tags"], json!(["v7"]));

    let tags = doc["tags"].as_array().unwrap();
    let v1_tag = tags.iter().find(|tag| tag["name"] == "v1").unwrap();
    assert_eq!(
        v1_tag["description"],
        "API version 1, deprecated since 2025-01-01; sunset 2099-12-31"
    );
    let v2_tag = tags.iter().find(|tag| tag["name"] == "v2").unwrap();
    assert_eq!(v2_tag["description"], "API version 2");
}
