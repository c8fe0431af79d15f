// A limit of zero requests.
use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(0, per = "60s")]
    async fn report(&self) {}
}

fn main() {}
