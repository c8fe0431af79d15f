use secure_api::validation::Validate;

fn is_lowercase(value: &String) -> bool {
    value.chars().all(char::is_lowercase)
}

#[derive(Validate)]
struct Tag {
    #[validate(custom = is_lowercase)]
    name: String,
}

fn main() {}
