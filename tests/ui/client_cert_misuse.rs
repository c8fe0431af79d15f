use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/internal", method = "get")]
    #[requires_client_cert(ca = "other")]
    async fn internal(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }

    #[oai(path = "/twice", method = "get")]
    #[requires_client_cert]
    #[requires_client_cert]
    async fn twice(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }

    #[requires_client_cert]
    async fn helper(&self) {}
}

fn main() {}
