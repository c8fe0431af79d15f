// One variant carries two #[scope]s; each variant declares one scope.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:read", "Read user profiles")]
    #[scope("users:write", "Create and edit users")]
    Users,
}

fn main() {}
