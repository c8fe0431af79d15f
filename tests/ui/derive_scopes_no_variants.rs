// A scope enum with no variants declares no scope.
use secure_api::prelude::*;

#[derive(Scopes)]
enum Scope {}

fn main() {}
