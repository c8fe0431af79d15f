// Two variants declare the same scope name.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:read", "Read user profiles")]
    UsersRead,
    #[scope("users:read", "Read users")]
    ReadUsers,
}

fn main() {}
