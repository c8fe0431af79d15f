// #[secure_api] and poem-openapi's #[OpenApi] on the same impl: #[secure_api] already emits #[OpenApi].
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:write", "Create and edit users")]
    UsersWrite,
}

struct Api;

#[secure_api(scopes = Scope)]
#[secure_api::poem_openapi::OpenApi]
impl Api {
    #[oai(path = "/users", method = "post")]
    #[requires_scopes("users:write")]
    async fn create(&self) {}
}

fn main() {}
