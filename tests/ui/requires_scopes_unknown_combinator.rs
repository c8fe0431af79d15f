// one_of(...) is not a combinator: only any(...) and all(...) are.
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
    #[requires_scopes(one_of("users:write"))]
    async fn create(&self) {}
}

fn main() {}
