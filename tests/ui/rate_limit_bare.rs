// No limit at all.
use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit]
    async fn report(&self) {}
}

fn main() {}
