use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[requires_api_key]
    async fn helper(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }
}

fn main() {}
