use secure_api::validation::Validate;

#[derive(Validate)]
struct UserCreate {
    #[validate(length(min = 50, max = 3))]
    username: String,
}

fn main() {}
