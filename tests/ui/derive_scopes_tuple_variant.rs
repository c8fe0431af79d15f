// A scope variant carries data; scope variants are unit variants.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:read", "Read user profiles")]
    UsersRead(String),
}

fn main() {}
