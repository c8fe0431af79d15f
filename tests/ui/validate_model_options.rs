use secure_api::validation::Validate;

#[derive(Validate)]
#[validate(rename_all = "camelcase", deny_unknown_fields, email)]
struct UserCreate {
    #[validate(rename = "name")]
    username: String,
    name: String,
    #[validate(default)]
    nickname: Option<String>,
    #[validate(allow_unknown_fields, one_of(), length())]
    role: String,
}

fn main() {}
