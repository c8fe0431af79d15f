// A generic scope enum.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope<const N: usize> {
    #[scope("users:read", "Read user profiles")]
    UsersRead,
}

fn main() {}
