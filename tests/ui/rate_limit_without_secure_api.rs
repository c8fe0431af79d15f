// #[rate_limit] in an impl with plain #[OpenApi]: nothing would enforce it.
use secure_api::poem_openapi;
use secure_api::prelude::*;

struct Api;

#[poem_openapi::OpenApi]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(10, per = "60s")]
    async fn report(&self) {}
}

fn main() {}
