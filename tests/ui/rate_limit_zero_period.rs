// A period of zero.
use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(10, per = "0s")]
    async fn report(&self) {}
}

fn main() {}
