//! Wire names: `rename_all = "camelCase"` and friends, spelled as serde and
//! poem-openapi spell them, applied to snake_case field names.

pub(crate) const RULES: &[&str] = &[
    "lowercase",
    "UPPERCASE",
    "PascalCase",
    "camelCase",
    "snake_case",
    "SCREAMING_SNAKE_CASE",
    "kebab-case",
    "SCREAMING-KEBAB-CASE",
];

/// `field` under `rule`; `None` for a rule that is not one of [`RULES`].
pub(crate) fn apply(rule: &str, field: &str) -> Option<String> {
    let words = field.split('_').filter(|w| !w.is_empty());
    let capitalize = |word: &str| {
        let mut chars = word.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
            None => String::new(),
        }
    };
    Some(match rule {
        "lowercase" => field.to_lowercase(),
        "UPPERCASE" => field.to_uppercase(),
        "PascalCase" => words.map(capitalize).collect(),
        "camelCase" => {
            let pascal: String = words.map(capitalize).collect();
            let mut chars = pascal.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => String::new(),
            }
        }
        "snake_case" => field.to_owned(),
        "SCREAMING_SNAKE_CASE" => field.to_uppercase(),
        "kebab-case" => field.replace('_', "-"),
        "SCREAMING-KEBAB-CASE" => field.replace('_', "-").to_uppercase(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::apply;

    #[test]
    fn cases() {
        assert_eq!(apply("camelCase", "full_name").unwrap(), "fullName");
        assert_eq!(apply("PascalCase", "full_name").unwrap(), "FullName");
        assert_eq!(apply("kebab-case", "full_name").unwrap(), "full-name");
        assert_eq!(apply("SCREAMING_SNAKE_CASE", "a_b").unwrap(), "A_B");
        assert_eq!(apply("SCREAMING-KEBAB-CASE", "a_b").unwrap(), "A-B");
        assert_eq!(apply("lowercase", "a_B").unwrap(), "a_b");
        assert_eq!(apply("camelCase", "email").unwrap(), "email");
        assert!(apply("camelcase", "a").is_none());
    }
}
