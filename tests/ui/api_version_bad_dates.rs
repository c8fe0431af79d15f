use secure_api::prelude::*;

struct Api;

#[secure_api(
    version(1, deprecated = "2026-02-30", sunset = "31/12/2026"),
    version(2, deprecated = "2026-06-01", sunset = "2026-01-01"),
    version(3, deprecated = "2026-01-01", gone_after_sunset),
    version(4, retired = "2026-01-01"),
)]
impl Api {
    #[oai(path = "/users", method = "get")]
    #[api_version(1)]
    async fn users(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }
}

fn main() {}
