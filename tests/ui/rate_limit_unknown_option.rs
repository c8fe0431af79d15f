// An option #[rate_limit] does not have.
use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(10, per = "60s", window = "1m")]
    async fn report(&self) {}
}

fn main() {}
