// A scope contains a double quote, which no token scope can contain (RFC 6749).
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
    #[requires_scopes("a\"b")]
    async fn create(&self) {}
}

fn main() {}
