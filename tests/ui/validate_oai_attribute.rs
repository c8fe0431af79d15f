use secure_api::validation::Validate;

#[derive(Validate)]
#[oai(rename_all = "camelCase")]
struct UserCreate {
    #[oai(rename = "userName")]
    user_name: String,
}

fn main() {}
