// A key that is neither a kind nor a path.
use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(10, per = "60s", key = "ip")]
    async fn report(&self) {}
}

fn main() {}
