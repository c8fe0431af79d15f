use secure_api::prelude::*;

struct Api;

#[secure_api(version(0, deprecated = "2026-01-01"))]
impl Api {
    #[oai(path = "/users", method = "get")]
    #[api_version(0)]
    async fn users(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }
}

fn main() {}
