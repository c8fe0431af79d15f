// Two limits of one operation with one name (one name is one budget).
use secure_api::prelude::*;

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(10, per = "60s", name = "reports")]
    #[rate_limit(1000, per = "1d", name = "reports")]
    async fn report(&self) {}
}

fn main() {}
