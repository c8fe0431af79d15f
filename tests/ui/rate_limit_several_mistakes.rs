// Every mistake of one attribute, in one compile.
use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(0, per = "1y", burst = 0, colour = "red")]
    async fn report(&self) {}
}

fn main() {}
