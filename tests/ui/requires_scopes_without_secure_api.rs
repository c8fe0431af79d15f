// #[requires_scopes] in an impl with plain #[OpenApi] and no #[secure_api]: nothing would enforce it.
use secure_api::poem_openapi;
use secure_api::prelude::*;

struct Api;

#[poem_openapi::OpenApi]
impl Api {
    #[oai(path = "/users", method = "post")]
    #[requires_scopes("users:write")]
    async fn create(&self) {}
}

fn main() {}
