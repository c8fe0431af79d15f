use secure_api::validation::Validate;

#[derive(Validate)]
struct Order {
    #[validate(range(min = 1))]
    quantity: String,
    #[validate(length(max = 3))]
    count: u8,
}

fn main() {}
