use secure_api::validation::Validate;

#[derive(Validate)]
struct UserCreate {
    #[validate(length(mn = 3, max = 50))]
    username: String,
    #[validate(password(min_lenght = 12))]
    password: String,
}

fn main() {}
