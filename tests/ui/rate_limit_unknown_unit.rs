// A period in a unit that is not ms, s, m, h or d.
use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(10, per = "1w")]
    async fn report(&self) {}
}

fn main() {}
