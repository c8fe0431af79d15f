//! Names of OpenAPI components (schemas, security schemes): they appear in `$ref`
//! URIs, so they keep to the characters OpenAPI allows there.

/// ASCII letters, digits, `.`, `_` and `-`, at least one.
pub(crate) fn is_valid(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}
