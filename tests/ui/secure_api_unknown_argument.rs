// A misspelt #[OpenApi] argument passed through #[secure_api]: `prefix_pat` for `prefix_path`.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:write", "Create and edit users")]
    UsersWrite,
}

struct Api;

#[secure_api(scopes = Scope, prefix_pat = "/v1")]
impl Api {
    #[oai(path = "/users", method = "post")]
    #[requires_scopes("users:write")]
    async fn create(&self) {}
}

fn main() {}
