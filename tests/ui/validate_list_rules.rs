use secure_api::validation::Validate;

#[derive(Validate)]
struct Invite {
    #[validate(email)]
    emails: Vec<String>,
    #[validate(each(email))]
    owner: String,
    #[validate(unique)]
    note: String,
}

fn main() {}
