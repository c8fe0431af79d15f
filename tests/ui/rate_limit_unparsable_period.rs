// A period written in words.
use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(10, per = "sixty seconds")]
    async fn report(&self) {}
}

fn main() {}
