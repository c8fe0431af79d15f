use secure_api::validation::Validate;

#[derive(Validate)]
struct Window {
    #[validate(range(min = 10, max = 1))]
    size: u32,
    #[validate(range(exclusive_min = 0.5, exclusive_max = 0.5))]
    ratio: f64,
    #[validate(range(min = 0.5))]
    whole: u32,
    #[validate(range(min = -1))]
    unsigned: u8,
}

fn main() {}
