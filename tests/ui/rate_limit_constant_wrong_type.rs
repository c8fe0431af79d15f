// A constant that is not a `RateLimit`.
use secure_api::prelude::*;

const REPORTS: u32 = 10;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(REPORTS)]
    async fn report(&self) {}
}

fn main() {}
