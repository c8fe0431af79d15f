use secure_api::prelude::*;

struct Api;

#[secure_api(api_keys = "HeaderKeys")]
impl Api {
    #[oai(path = "/resource", method = "get")]
    #[requires_api_key]
    async fn resource(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }
}

fn main() {}
