//! Request models whose rules are written once, next to their fields, and give:
//! validation that reports **every** broken rule in one 422 answer, the same rules
//! as JSON Schema keywords in the OpenAPI document, and compile errors for rules that
//! cannot make sense.
//!
//! ```
//! use secure_api::validation::{Validate, RuleError};
//!
//! /// A new user.
//! #[derive(Validate)]
//! #[validate(custom = password_differs)]            // a rule of the whole model
//! struct UserCreate {
//!     /// 3 to 50 letters, digits, `_` or `-`.
//!     #[validate(length(min = 3, max = 50), pattern = r"^[a-zA-Z0-9_-]+$")]
//!     username: String,
//!     #[validate(email)]
//!     email: String,
//!     #[validate(password(min_length = 8, composition))]
//!     password: String,
//!     #[validate(default, each(one_of("admin", "user", "moderator")))]
//!     roles: Vec<String>,
//! }
//!
//! fn password_differs(user: &UserCreate) -> Result<(), RuleError> {
//!     match user.password.to_lowercase().contains(&user.username.to_lowercase()) {
//!         true => Err(RuleError::new("contains_username", "must not contain the username").at("password")),
//!         false => Ok(()),
//!     }
//! }
//!
//! let errors = UserCreate::from_json(serde_json::json!({
//!     "username": "a!", "email": "nope", "password": "short", "roles": ["user", "root"],
//! })).err().unwrap();
//! let pointers: Vec<&str> = errors.errors().iter().map(|e| &*e.pointer).collect();
//! assert_eq!(pointers, ["/username", "/username", "/email", "/password", "/password", "/password", "/password", "/roles/1"]);
//! ```
//!
//! A handler takes the model through [`ValidJson`], which also bounds the body's
//! size and answers 400/413/415/422 as problem details.
//!
//! # The rules
//!
//! | rule | on | JSON Schema |
//! | --- | --- | --- |
//! | `length(min = 3, max = 50)` (either bound, or both) | string: characters; list: items | `minLength`/`maxLength`; `minItems`/`maxItems` |
//! | `pattern = r"^[a-z]+$"` (compiled once, checked at compile time) | string | `pattern` |
//! | `email`, `url` (the `validator` crate's checks) | string | `format: email`, `format: uri` |
//! | `one_of("a", "b")` | string | `enum` |
//! | `contains = "x"` | string | |
//! | `ascii`, `alphanumeric`, `ascii_alphanumeric`, `printable` | string | `pattern` for the ASCII classes |
//! | `range(min = 0, max = 10)`, `exclusive_min`, `exclusive_max` | number | `minimum`/`maximum`, `exclusiveMinimum`/`exclusiveMaximum` |
//! | `unique` | list | `uniqueItems` |
//! | `each(...)` | list: the rules apply to every item | on `items` |
//! | `password`, `password(min_length = 8, max_length = 64, composition, blocklist = false)` | string | `minLength`, `maxLength`, `format: password`, `writeOnly` |
//! | `custom = path::to::check` | any: `fn(&T) -> Result<(), RuleError>` | |
//!
//! An `Option<T>` field is checked only when present. A field whose type is itself a
//! `Validate` model (also inside `Vec` or `Option`) is validated with it, its errors
//! at their full path. Field options: `default` (or `default = path::to::fn`) when
//! absent, `rename = "wireName"`, `secret` (never echoed, `writeOnly`; implied by the
//! `password` rule and by names such as `password`, `token`, `secret`, `api_key`).
//! Model options: `rename = "SchemaName"`, `rename_all = "camelCase"` (and the other
//! serde/poem-openapi cases), `allow_unknown_fields` (unknown fields are refused by
//! default), `custom = path` (`fn(&Self) -> Result<(), RuleError>` or
//! `Result<(), Vec<RuleError>>`; `RuleError::at("field")` points at a field).
//!
//! # The answer
//!
//! Every error names the place as a JSON Pointer (RFC 6901) into the body as the
//! client wrote it, renames applied (`/roles/2`, `/address/zip`), a stable `code`, a
//! `detail` that states the rule, the rule's `params`, and the rejected `value` when
//! it is a short scalar of a field that is not a secret. See [`ValidationProblem`].

mod common_passwords;
mod direct;
mod error;
mod params;
pub mod password;
mod payload;
pub mod rules;
#[doc(hidden)]
pub mod runtime;

pub use error::{FieldError, IntoRuleErrors, RuleError, ValidationErrors};
pub use params::{ParamValue, Params};
pub use payload::{BodyLimit, BodyRejection, ValidJson, ValidationProblem};
pub(crate) use payload::{body_responses, register_body_responses};
/// Derives [`Validate`](trait@Validate) and poem-openapi's `Type`, `ParseFromJSON`
/// and `ToJSON` for a struct with named fields: see the [module docs](self).
pub use secure_api_macros::Validate;

use poem_openapi::types::Type;
use runtime::{Location, Report};
use serde_json::Value;

/// A request model: read from JSON with every problem reported, and checked against
/// the rules written on its fields. Derive it; see the [module docs](self).
///
/// ```
/// use secure_api::validation::Validate;
///
/// #[derive(Validate)]
/// struct Page {
///     #[validate(range(min = 1, max = 100))]
///     size: u32,
/// }
///
/// assert!(Page { size: 10 }.validate().is_ok());
/// assert_eq!(Page { size: 0 }.validate().unwrap_err().errors()[0].detail, "must be at least 1 and at most 100");
/// ```
pub trait Validate: Type + Sized {
    /// Checks every rule of a value built in code; the same checks as
    /// [`from_json`](Self::from_json) makes after reading.
    ///
    /// ```
    /// # use secure_api::validation::Validate;
    /// #[derive(Validate)]
    /// struct Tag { #[validate(ascii_alphanumeric)] name: String }
    /// assert!(Tag { name: "ok".into() }.validate().is_ok());
    /// ```
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut report = Report::new();
        self.__check(&Location::ROOT, &mut report);
        report.into_result()
    }

    /// Reads a value from JSON and checks it: missing fields, wrong types, unknown
    /// fields and broken rules, all of them, in one [`ValidationErrors`].
    ///
    /// ```
    /// # use secure_api::validation::Validate;
    /// #[derive(Validate)]
    /// struct Tag { #[validate(ascii_alphanumeric)] name: String }
    /// let errors = Tag::from_json(serde_json::json!({"name": 1, "extra": true})).err().unwrap();
    /// assert_eq!(errors.errors()[0].code, "type");
    /// assert_eq!(errors.errors()[1].code, "unknown_field");
    /// ```
    fn from_json(value: Value) -> Result<Self, ValidationErrors> {
        let mut report = Report::new();
        let value = Self::__read_json(Some(value), &Location::ROOT, &mut report);
        runtime::finish(value, report)
    }

    /// Reads the value at `at`, reporting every problem; `None` when it could not be
    /// built (a rule broken by a value that could be read still builds it).
    #[doc(hidden)]
    fn __read_json(value: Option<Value>, at: &Location<'_>, report: &mut Report) -> Option<Self>;

    /// Checks every rule of the value at `at`.
    #[doc(hidden)]
    fn __check(&self, at: &Location<'_>, report: &mut Report);

    /// Reads the value straight from a JSON body, when the model can be (its fields
    /// are all text, integers or booleans) and the body holds exactly what it
    /// expects; `None` sends the body through [`from_json`](Self::from_json), which
    /// reports every problem.
    #[doc(hidden)]
    fn __read_direct(_body: &[u8]) -> Option<Self> {
        None
    }
}
