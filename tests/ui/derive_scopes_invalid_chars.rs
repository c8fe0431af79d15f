// A declared scope contains a space, which no token scope can contain (RFC 6749).
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users read", "Read user profiles")]
    UsersRead,
}

fn main() {}
