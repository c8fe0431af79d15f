use secure_api::validation::Validate;

#[derive(Validate)]
struct UserCreate {
    #[validate(emial)]
    email: String,
}

fn main() {}
