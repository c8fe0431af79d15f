use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:read", "Read users")]
    UsersRead,
}

struct Api;

#[secure_api(scopes = Scope)]
impl Api {
    #[oai(path = "/users", method = "get")]
    #[requires_scopes("users:read")]
    #[requires_api_key]
    async fn users(&self) -> secure_api::poem_openapi::payload::PlainText<&'static str> {
        secure_api::poem_openapi::payload::PlainText("ok")
    }
}

fn main() {}
