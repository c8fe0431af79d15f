// One alternative of any(...) names a scope that `Scope` does not declare.
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
    #[requires_scopes(any("users:write", "admin"))]
    async fn create(&self) {}
}

fn main() {}
