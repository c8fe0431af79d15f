use secure_api::prelude::*;

struct Api;

#[secure_api(version_prefix = "api/v1")]
impl Api {
    #[oai(path = "/users", method = "get")]
    #[api_version(1)]
    async fn users(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }
}

fn main() {}
