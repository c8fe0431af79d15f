// A requirement that expands to 32 alternatives (2^5), more than anyone can read in the docs.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {
    #[scope("a", "A")]
    A,
    #[scope("b", "B")]
    B,
    #[scope("c", "C")]
    C,
    #[scope("d", "D")]
    D,
    #[scope("e", "E")]
    E,
    #[scope("f", "F")]
    F,
    #[scope("g", "G")]
    G,
    #[scope("h", "H")]
    H,
    #[scope("i", "I")]
    I,
    #[scope("j", "J")]
    J,
}

struct Api;

#[secure_api(scopes = Scope)]
impl Api {
    #[oai(path = "/users", method = "post")]
    #[requires_scopes(all(
        any("a", "b"),
        any("c", "d"),
        any("e", "f"),
        any("g", "h"),
        any("i", "j")
    ))]
    async fn create(&self) {}
}

fn main() {}
