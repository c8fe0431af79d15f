// #[secure_api] without `scopes = ...` while an operation requires scopes.
use secure_api::prelude::*;

struct Api;

#[secure_api()]
impl Api {
    #[oai(path = "/users", method = "post")]
    #[requires_scopes("users:write")]
    async fn create(&self) {}
}

fn main() {}
