use secure_api::prelude::*;

struct Api;

#[secure_api(
    version(1, deprecated = "2026-01-01"),
    version(1, sunset = "2026-12-31"),
)]
impl Api {
    #[oai(path = "/users", method = "get")]
    #[api_version(1, 2, 1)]
    async fn users(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }

    #[oai(path = "/items", method = "get")]
    #[api_version(1)]
    #[api_version(2)]
    async fn items(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }
}

fn main() {}
