// #[scope("users:read")] gives the name but not the description.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:read")]
    UsersRead,
}

fn main() {}
