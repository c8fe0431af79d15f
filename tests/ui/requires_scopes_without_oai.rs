// #[requires_scopes] on a method that is not an operation (no #[oai(path, method)]).
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:write", "Create and edit users")]
    UsersWrite,
}

struct Api;

#[secure_api(scopes = Scope)]
impl Api {
    #[oai(path = "/users", method = "get")]
    async fn list(&self) {}

    #[requires_scopes("users:write")]
    async fn create(&self) {}
}

fn main() {}
