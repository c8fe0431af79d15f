// A count without a period.
use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(10)]
    async fn report(&self) {}
}

fn main() {}
