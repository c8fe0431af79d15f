// #[secure_api] on a trait impl instead of an inherent impl.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:write", "Create and edit users")]
    UsersWrite,
}

struct Api;

trait Users {
    async fn create(&self);
}

#[secure_api(scopes = Scope)]
impl Users for Api {
    #[oai(path = "/users", method = "post")]
    #[requires_scopes("users:write")]
    async fn create(&self) {}
}

fn main() {}
