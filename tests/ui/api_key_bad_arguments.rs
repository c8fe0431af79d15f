use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/a", method = "get")]
    #[requires_api_key(scopes = "read")]
    async fn unknown_argument(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }

    #[oai(path = "/b", method = "get")]
    #[requires_api_key(scope = read)]
    async fn not_a_string(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }

    #[oai(path = "/c", method = "get")]
    #[requires_api_key(scope = "read write")]
    async fn not_a_scope(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }

    #[oai(path = "/d", method = "get")]
    #[requires_api_key = "read"]
    async fn name_value(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }
}

fn main() {}
