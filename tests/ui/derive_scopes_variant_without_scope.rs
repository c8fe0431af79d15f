// A variant of the scope enum has no #[scope("name", "description")].
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:read", "Read user profiles")]
    UsersRead,
    UsersWrite,
}

fn main() {}
