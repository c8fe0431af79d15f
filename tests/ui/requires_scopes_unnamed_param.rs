// A guarded operation's parameter has no name (`_`); poem-openapi names parameters after their pattern.
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
    #[requires_scopes("users:write")]
    async fn create(&self, _: secure_api::poem_openapi::param::Query<String>) {}
}

fn main() {}
