// #[secure_api] without `scopes = ...` while an operation takes a `Principal`.
use secure_api::prelude::*;

struct Api;

#[secure_api()]
impl Api {
    #[oai(path = "/users", method = "post")]
    async fn create(&self, _who: Principal) {}
}

fn main() {}
