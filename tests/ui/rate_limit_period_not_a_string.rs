// A period as a bare number.
use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(10, per = 60)]
    async fn report(&self) {}
}

fn main() {}
