use secure_api::validation::Validate;

#[derive(Validate)]
enum Role {
    Admin,
    User,
}

fn main() {}
