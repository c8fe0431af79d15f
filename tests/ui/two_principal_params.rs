// Two `Principal` parameters on one operation.
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
    async fn create(&self, _who: Principal, _again: Principal) {}
}

fn main() {}
