// `token_url` is neither a path on this service ("/token") nor an https:// URL.
use secure_api::prelude::*;

#[derive(Scopes)]
#[scopes(token_url = "token")]
enum Scope {
    #[scope("users:read", "Read user profiles")]
    UsersRead,
}

fn main() {}
