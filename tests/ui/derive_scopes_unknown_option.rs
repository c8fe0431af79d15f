// A misspelt option in #[scopes(...)]: `token_ur` for `token_url`.
use secure_api::prelude::*;

#[derive(Scopes)]
#[scopes(token_ur = "/token")]
enum Scope {
    #[scope("users:read", "Read user profiles")]
    UsersRead,
}

fn main() {}
