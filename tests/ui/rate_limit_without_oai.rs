// #[rate_limit] on a method that is not an operation (no #[oai(path, method)]).
use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    async fn report(&self) {}

    #[rate_limit(10, per = "60s")]
    async fn helper(&self) {}
}

fn main() {}
