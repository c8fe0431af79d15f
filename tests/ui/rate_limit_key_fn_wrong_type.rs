// A key function that does not return an Option<String>.
use secure_api::poem::Request;
use secure_api::prelude::*;

fn tenant(request: &Request) -> String {
    request.header("x-tenant").unwrap_or_default().to_owned()
}

struct Api;

#[secure_api]
impl Api {
    #[oai(path = "/report", method = "post")]
    #[rate_limit(10, per = "60s", key = tenant)]
    async fn report(&self) {}
}

fn main() {}
