// poem-openapi's #[OpenApi] above #[secure_api] on the same impl: #[secure_api] replaces #[OpenApi].
use secure_api::poem_openapi;
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:write", "Create and edit users")]
    UsersWrite,
}

struct Api;

#[poem_openapi::OpenApi]
#[secure_api(scopes = Scope)]
impl Api {
    #[oai(path = "/users", method = "post")]
    #[requires_scopes("users:write")]
    async fn create(&self) {}
}

fn main() {}
