// `scopes` names a type that does not derive `Scopes`.
use secure_api::prelude::*;

enum NotScopes {
    UsersWrite,
}

struct Api;

#[secure_api(scopes = NotScopes)]
impl Api {
    #[oai(path = "/users", method = "post")]
    #[requires_scopes("users:write")]
    async fn create(&self) {}
}

fn main() {}
