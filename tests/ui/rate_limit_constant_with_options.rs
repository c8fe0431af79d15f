// Options beside a constant, which declares the whole limit.
use secure_api::prelude::*;
use secure_api::ratelimit::{Quota, RateLimit};

const REPORTS: RateLimit = RateLimit::new("reports", Quota::per(10, std::time::Duration::from_secs(60)));

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(REPORTS, burst = 20)]
    async fn report(&self) {}
}

fn main() {}
