//! The generated OpenAPI document: the password flow with the declared scopes, and
//! per-operation security with its scopes and its 401/403 answers.

use secure_api_tests::*;
use serde_json::{Value, json};

async fn document() -> Value {
    let server = serve().await;
    let response = server
        .client
        .get(server.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn operation<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "no {method} {path} in {:#}", doc["paths"]);
    op
}

#[tokio::test]
async fn the_password_flow_lists_every_declared_scope() {
    let doc = document().await;
    let scheme = &doc["components"]["securitySchemes"]["OAuth2"];
    assert_eq!(scheme["type"], "oauth2");
    assert_eq!(
        scheme["flows"]["password"],
        json!({
            "tokenUrl": "/token",
            "scopes": {
                "users:read": "Read user profiles",
                "users:write": "Create and edit users",
                "items:read": "Read items",
                "admin": "Everything",
            }
        })
    );
}

#[tokio::test]
async fn each_operation_documents_its_scopes_and_its_guard_answers() {
    let doc = document().await;
    let create = operation(&doc, "/users", "post");
    assert_eq!(create["security"], json!([{"OAuth2": ["users:write"]}]));
    for status in ["401", "403"] {
        let response = &create["responses"][status];
        assert!(
            response["headers"]["WWW-Authenticate"]["required"] == true,
            "{status}: {response:#}"
        );
        assert_eq!(
            response["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
    }
    assert!(create["responses"]["200"].is_object());

    let either = operation(&doc, "/either", "get");
    assert_eq!(
        either["security"],
        json!([{"OAuth2": ["admin"]}, {"OAuth2": ["users:read", "users:write"]}]),
        "any-of is one security requirement per alternative"
    );

    // A `Principal` alone: any valid token, so 401 but no 403.
    let me = operation(&doc, "/me", "get");
    assert_eq!(me["security"], json!([{"OAuth2": []}]));
    assert!(me["responses"]["401"].is_object());
    assert!(me["responses"]["403"].is_null());

    let open = operation(&doc, "/open", "get");
    assert!(open["security"].is_null() || open["security"] == json!([]));
    assert!(open["responses"]["401"].is_null());

    let token = operation(&doc, "/token", "post");
    assert!(token["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object());
    assert!(token["responses"]["400"].is_object());
}

mod trailing_slashes {
    use secure_api::poem_openapi::{OpenApiService, param::Path, payload::PlainText};
    use secure_api::prelude::*;
    use serde_json::Value;

    #[derive(Scopes)]
    enum Scope {
        #[scope("things:write", "Write things")]
        ThingsWrite,
    }

    struct Things;

    #[secure_api(scopes = Scope)]
    impl Things {
        /// Every thing
        #[oai(path = "/things", method = "get")]
        async fn list(&self) -> PlainText<&'static str> {
            PlainText("all")
        }

        /// Add a thing
        #[oai(path = "/things/", method = "post")]
        #[requires_scopes("things:write")]
        async fn add(&self) -> PlainText<&'static str> {
            PlainText("added")
        }

        /// No guard, and a trailing slash
        #[oai(path = "/plain/", method = "get")]
        async fn plain(&self) -> PlainText<&'static str> {
            PlainText("plain")
        }

        /// One thing
        #[oai(path = "/things/:id/", method = "get")]
        async fn one(&self, id: Path<u32>) -> PlainText<String> {
            PlainText(id.0.to_string())
        }
    }

    struct Prefixed;

    #[secure_api(prefix_path = "/v1")]
    impl Prefixed {
        /// Behind the API's prefix
        #[oai(path = "/items/", method = "get")]
        async fn items(&self) -> PlainText<&'static str> {
            PlainText("items")
        }
    }

    #[test]
    fn paths_keep_the_spelling_they_were_declared_with() {
        let service = OpenApiService::new(Things, "things", "1");
        let doc: Value = serde_json::from_str(&secure_api::openapi::spec(&service)).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let mut keys: Vec<&str> = paths.keys().map(String::as_str).collect();
        keys.sort_unstable();
        // One path item in poem-openapi's document, split by spelling.
        assert_eq!(keys, ["/plain/", "/things", "/things/", "/things/{id}/"]);
        assert!(paths["/things"]["get"].is_object());
        assert!(paths["/things"]["post"].is_null());
        assert_eq!(
            paths["/things/"]["post"]["security"][0]["OAuth2"][0],
            "things:write"
        );
        assert!(paths["/plain/"]["get"]["responses"]["200"].is_object());
        assert!(!doc.to_string().contains("x-secure-api-declared-path"));

        // poem-openapi's own document names the paths without the slash, and says how
        // they were written.
        let raw: Value = serde_json::from_str(&service.spec()).unwrap();
        let plain = &raw["paths"]["/plain"]["get"]["responses"]["200"]["headers"];
        assert_eq!(
            plain["x-secure-api-declared-path"]["description"],
            "/plain/"
        );
    }

    #[test]
    fn a_prefixed_path_keeps_its_slash_too() {
        let service = OpenApiService::new(Prefixed, "prefixed", "1");
        let doc: Value = serde_json::from_str(&secure_api::openapi::spec(&service)).unwrap();
        let keys: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["/v1/items/"]);
    }
}
