// `token_url` is not a string literal.
use secure_api::prelude::*;

#[derive(Scopes)]
#[scopes(token_url = token)]
enum Scope {
    #[scope("users:read", "Read user profiles")]
    UsersRead,
}

fn main() {}
