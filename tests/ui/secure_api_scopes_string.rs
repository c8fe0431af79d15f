// `scopes` is given as a string instead of the path of the enum.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:write", "Create and edit users")]
    UsersWrite,
}

struct Api;

#[secure_api(scopes = "Scope")]
impl Api {
    #[oai(path = "/users", method = "post")]
    #[requires_scopes("users:write")]
    async fn create(&self) {}
}

fn main() {}
