// Two variants are wrong in different ways: both are reported in one compile.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users read", "Read user profiles")]
    UsersRead,
    UsersWrite,
    #[scope("admin", "")]
    Admin,
}

fn main() {}
