use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/resource", method = "get")]
    #[requires_api_key]
    #[requires_api_key(scope = "read")]
    async fn resource(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }
}

fn main() {}
