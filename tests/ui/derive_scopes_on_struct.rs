// #[derive(Scopes)] on a struct; scopes are the variants of an enum.
use secure_api::prelude::*;

#[derive(Scopes)]
struct Scope {
    name: String,
}

fn main() {}
