// Three different mistakes in one impl: all are reported in one compile.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("users:write", "Create and edit users")]
    UsersWrite,
}

struct Api;

#[secure_api(scopes = Scope)]
impl Api {
    #[oai(path = "/a", method = "post")]
    #[requires_scopes("a b")]
    async fn a(&self) {}

    #[oai(path = "/b", method = "post")]
    #[requires_scopes("users:write")]
    fn b(&self) {}

    #[oai(path = "/c", method = "post")]
    async fn c(&self, _who: Principal, _again: Principal) {}
}

fn main() {}
