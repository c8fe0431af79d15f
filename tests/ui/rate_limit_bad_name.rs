// A name that cannot go in a header or a store key.
use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(10, per = "60s", name = "two words")]
    async fn report(&self) {}
}

fn main() {}
