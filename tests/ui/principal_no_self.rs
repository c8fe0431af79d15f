// An operation with a `Principal` parameter has no `self` receiver; operations take `&self`.
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
    async fn create(_who: Principal) {}
}

fn main() {}
