use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/resource", method = "get")]
    async fn resource(&self, first: ApiKeyIdentity, second: ApiKeyIdentity) -> secure_api::poem_openapi::payload::PlainText<String> {
        secure_api::poem_openapi::payload::PlainText(format!("{} {}", first.owner(), second.owner()))
    }
}

fn main() {}
