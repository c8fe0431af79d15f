use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/users", method = "get")]
    #[api_version(1, 2)]
    async fn users(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }

    #[oai(path = "/users", method = "get")]
    #[api_version(2)]
    async fn users_again(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }
}

fn main() {}
