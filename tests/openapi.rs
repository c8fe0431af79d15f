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
