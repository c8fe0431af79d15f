// A scope is written as an integer instead of a string literal.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:write", "Create and edit users")]
    UsersWrite,
}

struct Api;

#[secure_api(scopes = Scope)]
impl Api {
    #[oai(path = "/users", method = "post")]
    #[requires_scopes(5)]
    async fn create(&self) {}
}

fn main() {}
