//! The built-in rules, each a function: `Ok(())`, or the broken rule as a
//! [`RuleError`] whose message states the rule. `#[derive(Validate)]` calls these;
//! they are public so a `custom` rule can build on them.
//!
//! Lengths of strings count characters (Unicode scalar values), not bytes: a limit
//! of 3 accepts `"été"`.

use super::error::RuleError;
use regex::Regex;
use serde_json::Value;
use std::{collections::HashSet, fmt::Display, hash::Hash};
use validator::{ValidateEmail, ValidateNonControlCharacter, ValidateUrl};

/// `length(min = .., max = ..)` on a string: its number of characters.
///
/// ```
/// use secure_api::validation::rules::length;
///
/// assert!(length("été", Some(3), Some(3)).is_ok());
/// assert_eq!(length("ab", Some(3), Some(50)).unwrap_err().message(), "must be 3 to 50 characters long");
/// ```
#[inline]
pub fn length(value: &str, min: Option<usize>, max: Option<usize>) -> Result<(), RuleError> {
    match length_holds(value, min, max) {
        true => Ok(()),
        false => Err(length_error(min, max)),
    }
}

#[inline]
pub(crate) fn length_holds(value: &str, min: Option<usize>, max: Option<usize>) -> bool {
    // Characters never outnumber bytes: most values are decided without counting.
    let bytes = value.len();
    if min.is_none_or(|min| bytes >= min && value.is_ascii()) && max.is_none_or(|max| bytes <= max)
    {
        return true;
    }
    within(value.chars().count(), min, max)
}

#[cold]
pub(crate) fn length_error(min: Option<usize>, max: Option<usize>) -> RuleError {
    count_error(min, max, ["character", "characters"], "be", " long")
}

/// `length(min = .., max = ..)` on a list: its number of items.
///
/// ```
/// use secure_api::validation::rules::items;
///
/// assert!(items(2, Some(1), None).is_ok());
/// assert_eq!(items(0, Some(1), None).unwrap_err().message(), "must have at least 1 item");
/// ```
#[inline]
pub fn items(len: usize, min: Option<usize>, max: Option<usize>) -> Result<(), RuleError> {
    match within(len, min, max) {
        true => Ok(()),
        false => Err(count_error(min, max, ["item", "items"], "have", "")),
    }
}

#[inline]
fn within(count: usize, min: Option<usize>, max: Option<usize>) -> bool {
    min.is_none_or(|min| count >= min) && max.is_none_or(|max| count <= max)
}

/// The error of a count out of its bounds: "must be 3 to 50 characters long".
#[cold]
fn count_error(
    min: Option<usize>,
    max: Option<usize>,
    [one, many]: [&str; 2],
    verb: &str,
    suffix: &str,
) -> RuleError {
    let unit = |n: usize| if n == 1 { one } else { many };
    let message = match (min, max) {
        (Some(min), Some(max)) if min == max => {
            format!("must {verb} exactly {min} {}{suffix}", unit(min))
        }
        (Some(min), Some(max)) => format!("must {verb} {min} to {max} {}{suffix}", unit(max)),
        (Some(min), None) => format!("must {verb} at least {min} {}{suffix}", unit(min)),
        (None, Some(max)) => format!("must {verb} at most {max} {}{suffix}", unit(max)),
        (None, None) => unreachable!("a count with no bound is always within it"),
    };
    let mut error = RuleError::new("length", message);
    if let Some(min) = min {
        error = error.param("min", min);
    }
    if let Some(max) = max {
        error = error.param("max", max);
    }
    error
}

/// `pattern = "..."`: the regular expression matches somewhere in the value (anchor
/// it with `^...$` to match all of it), as JSON Schema's `pattern` does.
///
/// ```
/// use secure_api::validation::rules::pattern;
/// use regex::Regex;
///
/// let re = Regex::new("^[a-z]+$").unwrap();
/// assert!(pattern("abc", &re).is_ok());
/// assert_eq!(pattern("ab1", &re).unwrap_err().message(), "must match the pattern ^[a-z]+$");
/// ```
#[inline]
pub fn pattern(value: &str, regex: &Regex) -> Result<(), RuleError> {
    match regex.is_match(value) {
        true => Ok(()),
        false => Err(pattern_error(regex)),
    }
}

/// `email`: an e-mail address as HTML forms accept it (the `validator` crate's check:
/// WHATWG's syntax, internationalised domains, address literals).
///
/// ```
/// use secure_api::validation::rules::email;
///
/// assert!(email("bob@example.com").is_ok());
/// assert_eq!(email("bob").unwrap_err().code(), "email");
/// ```
#[inline]
pub fn email(value: &str) -> Result<(), RuleError> {
    match value.validate_email() {
        true => Ok(()),
        false => Err(RuleError::new("email", "must be an e-mail address")),
    }
}

/// `url`: an absolute URL (the `validator` crate's check, by the WHATWG URL parser).
///
/// ```
/// use secure_api::validation::rules::url;
///
/// assert!(url("https://example.com/a?b").is_ok());
/// assert_eq!(url("example.com").unwrap_err().message(), "must be an absolute URL");
/// ```
#[inline]
pub fn url(value: &str) -> Result<(), RuleError> {
    match value.validate_url() {
        true => Ok(()),
        false => Err(RuleError::new("url", "must be an absolute URL")),
    }
}

#[cold]
pub(crate) fn pattern_error(regex: &Regex) -> RuleError {
    RuleError::new(
        "pattern",
        format!("must match the pattern {}", regex.as_str()),
    )
    .param("pattern", regex.as_str())
}

/// `one_of("a", "b")`: exactly one of the allowed values.
///
/// ```
/// use secure_api::validation::rules::one_of;
///
/// assert!(one_of("user", &["admin", "user"]).is_ok());
/// assert_eq!(one_of("root", &["admin", "user"]).unwrap_err().message(), "must be one of: admin, user");
/// ```
#[inline]
pub fn one_of(value: &str, allowed: &[&str]) -> Result<(), RuleError> {
    match allowed.contains(&value) {
        true => Ok(()),
        // Any list, one built at run time too: the error keeps its own copy.
        false => Err(RuleError::new("one_of", one_of_message(allowed))
            .param("allowed", serde_json::Value::from(allowed.to_vec()))),
    }
}

/// [`one_of`]'s error for a list the derive wrote, which it borrows.
#[cold]
pub(crate) fn one_of_error(allowed: &'static [&'static str]) -> RuleError {
    RuleError::new("one_of", one_of_message(allowed)).param("allowed", allowed)
}

fn one_of_message(allowed: &[&str]) -> String {
    format!("must be one of: {}", allowed.join(", "))
}

/// `contains = "..."`: the value contains this text.
///
/// ```
/// use secure_api::validation::rules::contains;
///
/// assert!(contains("a-b", "-").is_ok());
/// assert_eq!(contains("ab", "-").unwrap_err().message(), "must contain \"-\"");
/// ```
#[inline]
pub fn contains(value: &str, needle: &str) -> Result<(), RuleError> {
    match value.contains(needle) {
        true => Ok(()),
        false => Err(contains_error(needle)),
    }
}

#[cold]
fn contains_error(needle: &str) -> RuleError {
    RuleError::new("contains", format!("must contain {needle:?}")).param("needle", needle)
}

/// `ascii`: only ASCII characters.
///
/// ```
/// use secure_api::validation::rules::ascii;
///
/// assert!(ascii("abc").is_ok());
/// assert_eq!(ascii("été").unwrap_err().code(), "ascii");
/// ```
#[inline]
pub fn ascii(value: &str) -> Result<(), RuleError> {
    match value.is_ascii() {
        true => Ok(()),
        false => Err(RuleError::new(
            "ascii",
            "must contain only ASCII characters",
        )),
    }
}

/// `alphanumeric`: only letters and digits, of any script.
///
/// ```
/// use secure_api::validation::rules::alphanumeric;
///
/// assert!(alphanumeric("été42").is_ok());
/// assert_eq!(alphanumeric("a b").unwrap_err().message(), "must contain only letters and digits");
/// ```
#[inline]
pub fn alphanumeric(value: &str) -> Result<(), RuleError> {
    match value.chars().all(char::is_alphanumeric) {
        true => Ok(()),
        false => Err(RuleError::new(
            "alphanumeric",
            "must contain only letters and digits",
        )),
    }
}

/// `ascii_alphanumeric`: only `a-z`, `A-Z` and `0-9`.
///
/// ```
/// use secure_api::validation::rules::ascii_alphanumeric;
///
/// assert!(ascii_alphanumeric("abC9").is_ok());
/// assert_eq!(ascii_alphanumeric("é").unwrap_err().code(), "ascii_alphanumeric");
/// ```
#[inline]
pub fn ascii_alphanumeric(value: &str) -> Result<(), RuleError> {
    match value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        true => Ok(()),
        false => Err(RuleError::new(
            "ascii_alphanumeric",
            "must contain only ASCII letters and digits (a-z, A-Z, 0-9)",
        )),
    }
}

/// `printable`: no control characters (the `validator` crate's check), which keeps
/// line breaks and terminal escapes out of names and log lines.
///
/// ```
/// use secure_api::validation::rules::printable;
///
/// assert!(printable("Anne-Marie O'Neil").is_ok());
/// assert_eq!(printable("a\nb").unwrap_err().message(), "must not contain control characters");
/// ```
#[inline]
pub fn printable(value: &str) -> Result<(), RuleError> {
    match value.validate_non_control_character() {
        true => Ok(()),
        false => Err(RuleError::new(
            "printable",
            "must not contain control characters",
        )),
    }
}

/// The bounds of a `range(...)` rule; each bound is inclusive unless marked exclusive.
///
/// ```
/// use secure_api::validation::rules::{range, Limits};
///
/// let positive = Limits { min: Some(0.0), exclusive_min: true, ..Limits::NONE };
/// assert!(range(0.5, &positive).is_ok());
/// assert_eq!(range(0.0, &positive).unwrap_err().message(), "must be greater than 0");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits<T> {
    /// The lower bound.
    pub min: Option<T>,
    /// The upper bound.
    pub max: Option<T>,
    /// Whether the lower bound itself is refused.
    pub exclusive_min: bool,
    /// Whether the upper bound itself is refused.
    pub exclusive_max: bool,
}

impl<T> Limits<T> {
    /// No bound at all, to fill the others from: `Limits { min: Some(1), ..Limits::NONE }`.
    pub const NONE: Limits<T> = Limits {
        min: None,
        max: None,
        exclusive_min: false,
        exclusive_max: false,
    };
}

/// A number a `range` rule can check.
pub trait Number: Copy + PartialOrd + Display + Into<Value> {}

impl<T: Copy + PartialOrd + Display + Into<Value>> Number for T {}

/// `range(min = .., max = .., exclusive_min = .., exclusive_max = ..)` on a number.
///
/// ```
/// use secure_api::validation::rules::{range, Limits};
///
/// let percent = Limits { min: Some(0), max: Some(100), ..Limits::NONE };
/// assert!(range(100, &percent).is_ok());
/// assert_eq!(range(101, &percent).unwrap_err().message(), "must be at least 0 and at most 100");
/// ```
pub fn range<T: Number>(value: T, limits: &Limits<T>) -> Result<(), RuleError> {
    // `!(a >= b)` rather than `a < b`: NaN satisfies no bound.
    let low_ok = match limits.min {
        Some(min) if limits.exclusive_min => value > min,
        Some(min) => value >= min,
        None => value.partial_cmp(&value).is_some(),
    };
    let high_ok = match limits.max {
        Some(max) if limits.exclusive_max => value < max,
        Some(max) => value <= max,
        None => value.partial_cmp(&value).is_some(),
    };
    if low_ok && high_ok {
        return Ok(());
    }
    let mut parts = Vec::new();
    let mut error_params = Vec::new();
    if let Some(min) = limits.min {
        match limits.exclusive_min {
            true => {
                parts.push(format!("greater than {min}"));
                error_params.push(("exclusive_min", min.into()));
            }
            false => {
                parts.push(format!("at least {min}"));
                error_params.push(("min", min.into()));
            }
        }
    }
    if let Some(max) = limits.max {
        match limits.exclusive_max {
            true => {
                parts.push(format!("less than {max}"));
                error_params.push(("exclusive_max", max.into()));
            }
            false => {
                parts.push(format!("at most {max}"));
                error_params.push(("max", max.into()));
            }
        }
    }
    let message = match parts.is_empty() {
        true => "must be a number".to_owned(),
        false => format!("must be {}", parts.join(" and ")),
    };
    let mut error = RuleError::new("range", message);
    for (name, value) in error_params {
        error = error.param(name, value);
    }
    Err(error)
}

/// `unique`: no item of the list equals an earlier one. Linear in the list's length.
///
/// ```
/// use secure_api::validation::rules::unique;
///
/// assert!(unique(&["a", "b"]).is_ok());
/// let error = unique(&["a", "b", "a"]).unwrap_err();
/// assert_eq!(error.message(), "must not contain duplicates: item 2 repeats item 0");
/// ```
pub fn unique<T: Hash + Eq>(items: &[T]) -> Result<(), RuleError> {
    if items.len() < 2 {
        return Ok(());
    }
    let mut seen = HashSet::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        if !seen.insert(item) {
            let first = items.iter().position(|other| other == item).unwrap_or(0);
            return Err(RuleError::new(
                "unique",
                format!("must not contain duplicates: item {index} repeats item {first}"),
            )
            .param("index", index)
            .param("repeats", first));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn length_counts_characters_and_states_the_bounds() {
        assert!(length("abc", Some(3), Some(3)).is_ok());
        assert!(
            length("日本語", Some(3), Some(3)).is_ok(),
            "3 characters, 9 bytes"
        );
        assert!(length("日本語x", None, Some(3)).is_err());
        let error = length("ab", Some(3), Some(50)).unwrap_err();
        assert_eq!(error.code(), "length");
        assert_eq!(error.message(), "must be 3 to 50 characters long");
        assert_eq!(error.params()["min"], json!(3));
        assert_eq!(error.params()["max"], json!(50));
        assert_eq!(
            length("abcd", Some(3), Some(3)).unwrap_err().message(),
            "must be exactly 3 characters long"
        );
        assert_eq!(
            length("", Some(1), None).unwrap_err().message(),
            "must be at least 1 character long"
        );
        let error = length("abc", None, Some(2)).unwrap_err();
        assert_eq!(error.message(), "must be at most 2 characters long");
        assert!(!error.params().contains_key("min"));
    }

    #[test]
    fn items_counts_list_items() {
        assert!(items(3, Some(1), Some(3)).is_ok());
        assert_eq!(
            items(4, Some(1), Some(3)).unwrap_err().message(),
            "must have 1 to 3 items"
        );
        assert_eq!(
            items(2, None, Some(1)).unwrap_err().message(),
            "must have at most 1 item"
        );
        assert_eq!(
            items(1, Some(2), Some(2)).unwrap_err().message(),
            "must have exactly 2 items"
        );
    }

    #[test]
    fn pattern_matches_like_json_schema() {
        let anchored = Regex::new(r"^[a-zA-Z0-9_-]+$").unwrap();
        assert!(pattern("bob_1-x", &anchored).is_ok());
        let error = pattern("bob!", &anchored).unwrap_err();
        assert_eq!(error.code(), "pattern");
        assert_eq!(error.params()["pattern"], json!(r"^[a-zA-Z0-9_-]+$"));
        let unanchored = Regex::new("[0-9]").unwrap();
        assert!(
            pattern("a1b", &unanchored).is_ok(),
            "JSON Schema patterns search"
        );
    }

    #[test]
    fn email_and_url() {
        for good in [
            "a@b.co",
            "first.last+tag@example.com",
            "x@[127.0.0.1]",
            "u@bücher.de",
        ] {
            assert!(email(good).is_ok(), "{good}");
        }
        for bad in ["", "a", "a@", "@b.c", "a b@c.d", "a@b@c.d"] {
            let error = email(bad).unwrap_err();
            assert_eq!(
                (error.code(), error.message()),
                ("email", "must be an e-mail address"),
                "{bad}"
            );
        }
        assert!(url("https://example.com").is_ok());
        assert!(url("mailto:a@b.c").is_ok());
        for bad in ["", "example.com", "/relative", "http://"] {
            assert_eq!(url(bad).unwrap_err().code(), "url", "{bad}");
        }
    }

    #[test]
    fn one_of_lists_the_allowed_values() {
        // A list built at run time (from configuration, say) works too.
        let owned: Vec<String> = ["admin", "user", "moderator"].map(String::from).to_vec();
        let roles: Vec<&str> = owned.iter().map(String::as_str).collect();
        let roles = roles.as_slice();
        assert!(one_of("moderator", roles).is_ok());
        assert!(one_of("Admin", roles).is_err(), "case matters");
        let error = one_of("root", roles).unwrap_err();
        assert_eq!(error.message(), "must be one of: admin, user, moderator");
        assert_eq!(error.params()["allowed"], json!(roles));
    }

    #[test]
    fn contains_and_character_classes() {
        assert!(contains("a.b", ".").is_ok());
        assert_eq!(
            contains("ab", ".").unwrap_err().params()["needle"],
            json!(".")
        );
        assert!(ascii("plain text!").is_ok());
        assert_eq!(
            ascii("naïve").unwrap_err().message(),
            "must contain only ASCII characters"
        );
        assert!(alphanumeric("Ωmega9").is_ok());
        assert!(alphanumeric("a_b").is_err());
        assert!(ascii_alphanumeric("Abc123").is_ok());
        assert_eq!(
            ascii_alphanumeric("a-b").unwrap_err().message(),
            "must contain only ASCII letters and digits (a-z, A-Z, 0-9)"
        );
        assert!(ascii_alphanumeric("Ω").is_err());
        assert!(printable("tab-free text").is_ok());
        assert!(printable("bell\u{7}").is_err());
        assert!(printable("esc\u{1b}[31m").is_err());
    }

    #[test]
    fn range_with_inclusive_and_exclusive_bounds() {
        let inclusive = Limits {
            min: Some(1),
            max: Some(10),
            ..Limits::NONE
        };
        assert!(range(1, &inclusive).is_ok());
        assert!(range(10, &inclusive).is_ok());
        let error = range(0, &inclusive).unwrap_err();
        assert_eq!(error.message(), "must be at least 1 and at most 10");
        assert_eq!(error.params()["min"], json!(1));
        assert_eq!(error.params()["max"], json!(10));

        let exclusive = Limits {
            min: Some(0.0),
            max: Some(1.0),
            exclusive_min: true,
            exclusive_max: true,
        };
        assert!(range(0.5, &exclusive).is_ok());
        assert!(range(0.0, &exclusive).is_err());
        let error = range(1.0, &exclusive).unwrap_err();
        assert_eq!(error.message(), "must be greater than 0 and less than 1");
        assert_eq!(error.params()["exclusive_max"], json!(1.0));
        assert!(range(f64::NAN, &exclusive).is_err(), "NaN is in no range");
        let only_max = Limits {
            max: Some(5u8),
            ..Limits::NONE
        };
        assert_eq!(
            range(6, &only_max).unwrap_err().message(),
            "must be at most 5"
        );
    }

    #[test]
    fn unique_names_the_repeated_item() {
        assert!(unique::<u8>(&[]).is_ok());
        assert!(unique(&[1, 2, 3]).is_ok());
        let error = unique(&["x", "y", "x"]).unwrap_err();
        assert_eq!(error.code(), "unique");
        assert_eq!(error.params()["index"], json!(2));
        assert_eq!(error.params()["repeats"], json!(0));
    }
}
