// #[secure_api] on a struct instead of the impl block of its operations.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:write", "Create and edit users")]
    UsersWrite,
}

#[secure_api(scopes = Scope)]
struct Api;

fn main() {}
