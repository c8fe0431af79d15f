use secure_api::validation::Validate;

#[derive(Validate)]
struct Signup {
    #[validate(password(min_length = 6, max_length = 32))]
    password: String,
}

fn main() {}
