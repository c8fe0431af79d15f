use secure_api::validation::Validate;

#[derive(Validate)]
struct UserCreate {
    #[validate(pattern = "^[a-z+$")]
    username: String,
}

fn main() {}
