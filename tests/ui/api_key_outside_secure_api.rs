use secure_api::prelude::*;

struct Api;

impl Api {
    #[requires_api_key]
    async fn resource(&self) {}
}

fn main() {}
