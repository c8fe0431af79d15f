use secure_api::poem_openapi::{self, Object};
use secure_api::validation::Validate;

#[derive(Object)]
struct Point {
    x: i32,
}

#[derive(Validate)]
struct Shape {
    #[validate(email)]
    origin: Point,
}

fn main() {}
