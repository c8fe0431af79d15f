// #[requires_scopes] on a free function rather than an operation of a #[secure_api] impl.
use secure_api::prelude::*;

#[requires_scopes("users:write")]
async fn create() {}

fn main() {}
