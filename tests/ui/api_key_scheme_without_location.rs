use secure_api::apikey::ApiKeyScheme;
use secure_api::poem_openapi::payload::PlainText;
use secure_api::prelude::*;

struct Nowhere;

impl ApiKeyScheme for Nowhere {
    const HEADER: Option<&'static str> = None;
    const QUERY: Option<&'static str> = None;
    const COOKIE: Option<&'static str> = None;
}

struct Api;

#[secure_api(api_keys = Nowhere)]
impl Api {
    #[oai(path = "/resource", method = "get")]
    #[requires_api_key]
    async fn resource(&self) -> PlainText<&'static str> {
        PlainText("ok")
    }
}

fn main() {}
