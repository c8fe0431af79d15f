use secure_api::prelude::*;

struct Api;

impl Api {
    #[requires_client_cert]
    async fn internal(&self) {}
}

fn main() {}
