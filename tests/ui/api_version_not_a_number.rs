use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/users", method = "get")]
    #[api_version("v2")]
    async fn users(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }

    #[oai(path = "/items", method = "get")]
    #[api_version]
    async fn items(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }

    #[api_version(1)]
    async fn helper(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }
}

fn main() {}
