use secure_api::validation::Validate;

#[derive(Validate)]
struct Person {
    #[validate(email)]
    age: u32,
}

fn main() {}
