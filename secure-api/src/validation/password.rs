//! The `password` rule: NIST SP 800-63B-4 §3.1.1.2 by default, the seed's
//! composition rules as an option.
//!
//! The default policy:
//! - at least 15 characters (a password that is the only factor; `min_length = 8` for
//!   one used with a second factor, the lowest NIST allows);
//! - at most 128 characters (NIST asks to allow at least 64; the bound keeps the
//!   hashing cost of one request bounded), counted in Unicode characters, and the
//!   whole password is checked and hashed: nothing is truncated;
//! - no composition rules (NIST: SHALL NOT), unless `composition` asks for the seed's
//!   upper-case, lower-case, digit and other character;
//! - not one of the common or breached passwords shipped with this crate (11,611
//!   entries of 8 characters or more, from the `zxcvbn` crate's list of the most
//!   frequent passwords of a 10-million-password leak corpus), compared without
//!   regard to case.

use super::{
    common_passwords::COMMON_PASSWORDS,
    error::RuleError,
    params::{ParamValue, Params},
};
use std::borrow::Cow;

macro_rules! composition {
    ($class:literal, $message:literal) => {
        RuleError {
            code: Cow::Borrowed("composition"),
            message: Cow::Borrowed($message),
            params: Params::from_static(&[(
                Cow::Borrowed("requires"),
                ParamValue::Text(Cow::Borrowed($class)),
            )]),
            field: None,
        }
    };
}

/// The errors of the four composition rules, in the order of their classes: upper
/// case, lower case, digit, other. Constant, so reporting one allocates nothing.
static COMPOSITION: [RuleError; 4] = [
    composition!("uppercase", "must contain an upper-case letter (A-Z)"),
    composition!("lowercase", "must contain a lower-case letter (a-z)"),
    composition!("digit", "must contain a digit (0-9)"),
    composition!(
        "symbol",
        "must contain a character that is not a letter or a digit"
    ),
];

/// What the `password` rule requires. `#[validate(password(...))]` builds one at
/// compile time; it can be used by hand through [`check_password`].
///
/// ```
/// use secure_api::validation::password::PasswordPolicy;
///
/// let seed = PasswordPolicy { min_length: 8, composition: true, ..PasswordPolicy::NIST };
/// assert_eq!(seed.max_length, 128);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Fewest characters (NIST: 15 for a single factor, never fewer than 8).
    pub min_length: usize,
    /// Most characters (NIST: allow at least 64).
    pub max_length: usize,
    /// The seed's composition rules: an upper-case letter, a lower-case letter, a
    /// digit and a character that is none of these (ASCII classes, as the seed's
    /// regular expressions).
    pub composition: bool,
    /// Refuse the shipped common and breached passwords.
    pub blocklist: bool,
}

impl PasswordPolicy {
    /// NIST SP 800-63B-4's verifier for a password used as the only factor.
    pub const NIST: PasswordPolicy = PasswordPolicy {
        min_length: 15,
        max_length: 128,
        composition: false,
        blocklist: true,
    };
}

/// Checks `password` against `policy`, handing every broken rule to `fail` (a short
/// password that also lacks a digit gets both errors).
///
/// ```
/// use secure_api::validation::password::{check_password, PasswordPolicy};
///
/// let mut broken = Vec::new();
/// check_password("qwerty123456789", &PasswordPolicy::NIST, |error| broken.push(error.code().to_owned()));
/// assert_eq!(broken, ["common_password"]);
/// ```
pub fn check_password(password: &str, policy: &PasswordPolicy, fail: impl FnMut(RuleError)) {
    check_with(
        password,
        policy,
        |too_short| length_error(policy, too_short),
        fail,
    );
}

/// The error of a password too short (or too long) for `policy`.
#[cold]
pub(crate) fn length_error(policy: &PasswordPolicy, too_short: bool) -> RuleError {
    let message = match too_short {
        true => format!("must be at least {} characters long", policy.min_length),
        false => format!("must be at most {} characters long", policy.max_length),
    };
    RuleError::new("length", message)
        .param("min", policy.min_length)
        .param("max", policy.max_length)
}

/// [`check_password`], with the length's error from `length_error` (the derive keeps
/// it once built).
pub(crate) fn check_with(
    password: &str,
    policy: &PasswordPolicy,
    length_error: impl FnOnce(bool) -> RuleError,
    mut fail: impl FnMut(RuleError),
) {
    let count = password.chars().count();
    if count < policy.min_length || count > policy.max_length {
        fail(length_error(count < policy.min_length));
    }
    if policy.composition {
        let mut classes = [false; 4];
        let mut found = 0;
        for c in password.chars() {
            let class = match c {
                'A'..='Z' => 0,
                'a'..='z' => 1,
                '0'..='9' => 2,
                _ => 3,
            };
            if !classes[class] {
                classes[class] = true;
                found += 1;
                if found == classes.len() {
                    break;
                }
            }
        }
        for (present, error) in classes.into_iter().zip(&COMPOSITION) {
            if !present {
                fail(error.borrowed());
            }
        }
    }
    // A password too long for the list's longest entry cannot be on it; one that
    // is too long for the policy is refused already.
    if policy.blocklist && count <= policy.max_length && is_common_password(password) {
        fail(RuleError::new(
            "common_password",
            "is too common: it is on a list of breached passwords; choose another",
        ));
    }
}

/// Whether `password` is on the shipped list of common and breached passwords,
/// ignoring case.
///
/// ```
/// use secure_api::validation::password::is_common_password;
///
/// assert!(is_common_password("Password1"));
/// assert!(!is_common_password("correct horse battery staple"));
/// ```
pub fn is_common_password(password: &str) -> bool {
    const LONGEST: usize = 64;
    if password.len() > LONGEST || password.len() < 8 {
        return false;
    }
    if !password.is_ascii() {
        // The list is ASCII: such a password can only match once lower-cased.
        let lowered = password.to_lowercase();
        return COMMON_PASSWORDS.binary_search(&lowered.as_str()).is_ok();
    }
    // ASCII, the common case: lower-cased on the stack.
    let mut buffer = [0u8; LONGEST];
    let lowered = &mut buffer[..password.len()];
    lowered.copy_from_slice(password.as_bytes());
    lowered.make_ascii_lowercase();
    std::str::from_utf8(lowered)
        .is_ok_and(|lowered| COMMON_PASSWORDS.binary_search(&lowered).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broken(password: &str, policy: &PasswordPolicy) -> Vec<(String, String)> {
        let mut out = Vec::new();
        check_password(password, policy, |e| {
            out.push((e.code().to_owned(), e.message().to_owned()))
        });
        out
    }

    const SEED: PasswordPolicy = PasswordPolicy {
        min_length: 8,
        composition: true,
        ..PasswordPolicy::NIST
    };

    #[test]
    fn the_shipped_list_is_sorted_lowercase_and_at_least_8_long() {
        assert_eq!(COMMON_PASSWORDS.len(), 11_611);
        assert!(COMMON_PASSWORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(
            COMMON_PASSWORDS
                .iter()
                .all(|p| { p.len() >= 8 && p.len() <= 64 && *p == p.to_lowercase() })
        );
    }

    #[test]
    fn nist_default_needs_15_characters_and_no_composition() {
        assert!(broken("correct horse battery staple", &PasswordPolicy::NIST).is_empty());
        assert!(
            broken(
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                &PasswordPolicy::NIST
            )
            .is_empty(),
            "64 characters are allowed"
        );
        assert_eq!(
            broken("short pass", &PasswordPolicy::NIST),
            [(
                "length".to_owned(),
                "must be at least 15 characters long".to_owned()
            )]
        );
        let long = "x".repeat(129);
        assert_eq!(
            broken(&long, &PasswordPolicy::NIST)[0].1,
            "must be at most 128 characters long"
        );
        // Unicode characters count once each.
        assert!(broken("ééééééééééééééé", &PasswordPolicy::NIST).is_empty());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for common in [
            "password",
            "PassWord1",
            "qwertyuiop",
            "P@ssw0rd",
            "iloveyou",
        ] {
            assert!(is_common_password(common), "{common}");
        }
        assert!(!is_common_password("Tr0ub4dor&3-horse"));
        assert!(!is_common_password("short"));
        let policy = PasswordPolicy {
            min_length: 8,
            ..PasswordPolicy::NIST
        };
        assert_eq!(
            broken("baseball1", &policy),
            [(
                "common_password".to_owned(),
                "is too common: it is on a list of breached passwords; choose another".to_owned()
            )]
        );
        let off = PasswordPolicy {
            blocklist: false,
            ..policy
        };
        assert!(broken("baseball1", &off).is_empty());
    }

    #[test]
    fn seed_composition_reports_each_missing_class() {
        assert!(broken("Sup3r-secret", &SEED).is_empty());
        let codes: Vec<_> = broken("abc", &SEED);
        assert_eq!(codes[0].1, "must be at least 8 characters long");
        assert_eq!(
            codes[1..]
                .iter()
                .map(|(_, m)| m.as_str())
                .collect::<Vec<_>>(),
            [
                "must contain an upper-case letter (A-Z)",
                "must contain a digit (0-9)",
                "must contain a character that is not a letter or a digit",
            ]
        );
        assert!(codes[1..].iter().all(|(code, _)| code == "composition"));
        let mut requires = Vec::new();
        check_password("ABCDEFGH", &SEED, |e| {
            requires.push(e.params()["requires"].clone())
        });
        assert_eq!(requires, ["lowercase", "digit", "symbol"]);
    }
}
