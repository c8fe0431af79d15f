// A security scheme name with a space.
use secure_api::prelude::*;

#[derive(Scopes)]
#[scopes(scheme_name = "my oauth")]
enum Scope {
    #[scope("users:read", "Read user profiles")]
    UsersRead,
}

fn main() {}
