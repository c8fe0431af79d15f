// #[requires_scopes] on an associated const instead of an operation.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:write", "Create and edit users")]
    UsersWrite,
}

struct Api;

#[secure_api(scopes = Scope)]
impl Api {
    #[requires_scopes("users:write")]
    const LIMIT: usize = 10;
}

fn main() {}
