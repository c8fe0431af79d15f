use secure_api::prelude::*;

struct Api;

impl Api {
    #[api_version(2)]
    async fn users(&self) {}
}

fn main() {}
