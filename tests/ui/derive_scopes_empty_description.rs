// A scope's description is empty.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:read", "")]
    UsersRead,
}

fn main() {}
