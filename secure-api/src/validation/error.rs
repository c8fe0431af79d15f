//! What a broken rule looks like: [`RuleError`] from one rule, [`FieldError`] once it
//! knows where it happened, [`ValidationErrors`] for a whole value.

use super::params::{ParamValue, Params, type_documented_as};
use poem_openapi::{
    Object,
    types::{IsObjectType, ParseError, ParseFromJSON, ParseResult, ToJSON},
};
use serde::Serialize;
use serde_json::Value;
use std::{borrow::Cow, fmt};

/// One broken rule: a machine-readable code, a message for a person that states the
/// rule, and the rule's parameters. Built-in rules make these; so does a `custom`
/// rule of yours.
///
/// ```
/// use secure_api::validation::RuleError;
///
/// fn even(value: &u32) -> Result<(), RuleError> {
///     match value % 2 {
///         0 => Ok(()),
///         _ => Err(RuleError::new("even", "must be an even number").param("multiple_of", 2)),
///     }
/// }
/// assert_eq!(even(&3).unwrap_err().code(), "even");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    pub(crate) code: Cow<'static, str>,
    pub(crate) message: Cow<'static, str>,
    pub(crate) params: Params,
    pub(crate) field: Option<Cow<'static, str>>,
}

impl RuleError {
    /// A broken rule with its code (`snake_case`, stable: clients match on it) and a
    /// message that says what the rule requires ("must be ...").
    ///
    /// ```
    /// # use secure_api::validation::RuleError;
    /// let error = RuleError::new("taken", "is already taken");
    /// assert_eq!(error.message(), "is already taken");
    /// ```
    pub fn new(code: impl Into<Cow<'static, str>>, message: impl Into<Cow<'static, str>>) -> Self {
        RuleError {
            code: code.into(),
            message: message.into(),
            params: Params::new(),
            field: None,
        }
    }

    /// Adds a parameter of the rule (a bound, the allowed values, ...), shown to the
    /// client under `params`.
    ///
    /// ```
    /// # use secure_api::validation::RuleError;
    /// let error = RuleError::new("length", "must be at most 5 characters long").param("max", 5);
    /// assert_eq!(error.params()["max"], 5);
    /// ```
    pub fn param(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<ParamValue>,
    ) -> Self {
        self.params.insert(name, value);
        self
    }

    /// For a model-level `custom` rule: the field the error is about, by its Rust
    /// name (the answer shows it as the client wrote it, renames applied). Without
    /// it, the error is about the whole object.
    ///
    /// ```
    /// use secure_api::validation::RuleError;
    ///
    /// struct Signup { username: String, password: String }
    ///
    /// fn password_differs(signup: &Signup) -> Result<(), RuleError> {
    ///     if signup.password.to_lowercase().contains(&signup.username.to_lowercase()) {
    ///         return Err(RuleError::new("contains_username", "must not contain the username")
    ///             .at("password"));
    ///     }
    ///     Ok(())
    /// }
    /// # let s = Signup { username: "bob".into(), password: "xbobx".into() };
    /// # assert!(password_differs(&s).is_err());
    /// ```
    pub fn at(mut self, field: impl Into<Cow<'static, str>>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The same error, borrowing this one's text and parameters: for a rule's error
    /// that depends only on the rule, built once and kept.
    pub(crate) fn borrowed(&'static self) -> RuleError {
        RuleError {
            code: Cow::Borrowed(&self.code),
            message: Cow::Borrowed(&self.message),
            params: self.params.borrowed(),
            field: self.field.as_deref().map(Cow::Borrowed),
        }
    }

    /// The machine-readable code.
    ///
    /// ```
    /// # use secure_api::validation::RuleError;
    /// assert_eq!(RuleError::new("one_of", "must be one of: a, b").code(), "one_of");
    /// ```
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message for a person.
    ///
    /// ```
    /// # use secure_api::validation::RuleError;
    /// assert_eq!(RuleError::new("x", "must be x").message(), "must be x");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The rule's parameters.
    ///
    /// ```
    /// # use secure_api::validation::RuleError;
    /// assert!(RuleError::new("x", "must be x").params().is_empty());
    /// ```
    pub fn params(&self) -> &Params {
        &self.params
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleError {}

/// What a model-level `custom` rule may return: one error, or several.
///
/// ```
/// use secure_api::validation::{IntoRuleErrors, RuleError};
///
/// let one: Result<(), RuleError> = Err(RuleError::new("a", "must be a"));
/// let many: Result<(), Vec<RuleError>> = Err(vec![RuleError::new("a", "must be a")]);
/// assert_eq!(one.into_rule_errors().len(), many.into_rule_errors().len());
/// ```
pub trait IntoRuleErrors {
    /// The errors, none when the rule holds.
    fn into_rule_errors(self) -> Vec<RuleError>;
}

impl IntoRuleErrors for Result<(), RuleError> {
    fn into_rule_errors(self) -> Vec<RuleError> {
        self.err().into_iter().collect()
    }
}

impl IntoRuleErrors for Result<(), Vec<RuleError>> {
    fn into_rule_errors(self) -> Vec<RuleError> {
        self.err().unwrap_or_default()
    }
}

/// One broken rule at one place of the request body: an item of the `errors` member
/// of a 400/422 answer. The built-in rules' codes and details are `'static` text,
/// borrowed, so reporting an error allocates little.
///
/// ```
/// use secure_api::validation::{Validate, ValidationErrors};
///
/// #[derive(Validate)]
/// struct Login {
///     #[validate(length(min = 3))]
///     username: String,
/// }
///
/// let errors: ValidationErrors = Login::from_json(serde_json::json!({"username": "x"})).err().unwrap();
/// let error = &errors.errors()[0];
/// assert_eq!((&*error.pointer, &*error.code), ("/username", "length"));
/// assert_eq!(error.detail, "must be at least 3 characters long");
/// assert_eq!(error.params["min"], 3);
/// assert_eq!(error.value, Some(serde_json::json!("x")));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// Where, as a JSON Pointer (RFC 6901) into the body as the client sent it:
    /// `/roles/2`, `/address/zip`; `""` is the whole body.
    pub pointer: Cow<'static, str>,
    /// Which rule, machine-readable: `required`, `type`, `unknown_field`, `length`,
    /// `pattern`, `email`, `url`, `one_of`, `range`, `unique`, `composition`,
    /// `common_password`, ... or a custom rule's own code.
    pub code: Cow<'static, str>,
    /// The rule, stated for a person ("must be 3 to 50 characters long").
    pub detail: Cow<'static, str>,
    /// The rule's parameters (`min`, `max`, `allowed`, `pattern`, ...).
    #[serde(skip_serializing_if = "Params::is_empty")]
    pub params: Params,
    /// The rejected value, when it is a short scalar of a field whose name does not
    /// look like a secret (never for `password`, `token`, `secret`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

// `FieldError` as the OpenAPI document describes it (poem-openapi has no schema for
// borrowed text): the same fields, written the same way.
/// One broken rule at one place of the request body: an item of the `errors` member
/// of a 400/422 answer.
#[derive(Object)]
#[oai(rename = "ValidationError")]
struct FieldErrorSchema {
    /// Where, as a JSON Pointer (RFC 6901) into the body as the client sent it:
    /// `/roles/2`, `/address/zip`; `""` is the whole body.
    pointer: String,
    /// Which rule, machine-readable: `required`, `type`, `unknown_field`, `length`,
    /// `pattern`, `email`, `url`, `one_of`, `range`, `unique`, `composition`,
    /// `common_password`, ... or a custom rule's own code.
    code: String,
    /// The rule, stated for a person ("must be 3 to 50 characters long").
    detail: String,
    /// The rule's parameters (`min`, `max`, `allowed`, `pattern`, ...).
    #[oai(skip_serializing_if_is_empty)]
    params: Params,
    /// The rejected value, when it is a short scalar of a field whose name does not
    /// look like a secret (never for `password`, `token`, `secret`, ...).
    #[oai(skip_serializing_if_is_none)]
    value: Option<Value>,
}

type_documented_as!(FieldError, FieldErrorSchema);

impl IsObjectType for FieldError {}

impl ToJSON for FieldError {
    fn to_json(&self) -> Option<Value> {
        serde_json::to_value(self).ok()
    }
}

impl ParseFromJSON for FieldError {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        let read = FieldErrorSchema::parse_from_json(value).map_err(ParseError::propagate)?;
        Ok(FieldError {
            pointer: Cow::Owned(read.pointer),
            code: Cow::Owned(read.code),
            detail: Cow::Owned(read.detail),
            params: read.params,
            value: read.value,
        })
    }
}

/// Every broken rule of one value (at most [`ValidationErrors::MAX_LISTED`] listed; the
/// rest counted), in the order of the model's fields.
///
/// ```
/// use secure_api::validation::Validate;
///
/// #[derive(Validate)]
/// struct Pair {
///     #[validate(range(min = 1))]
///     a: u8,
///     #[validate(range(min = 1))]
///     b: u8,
/// }
///
/// let errors = Pair { a: 0, b: 0 }.validate().unwrap_err();
/// assert_eq!(errors.errors().len(), 2);
/// assert_eq!(errors.omitted(), 0);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValidationErrors {
    pub(crate) errors: Vec<FieldError>,
    pub(crate) omitted: usize,
}

impl ValidationErrors {
    /// At most this many errors are listed in one answer, so a hostile body of many
    /// bad items cannot make a huge answer; the others are counted.
    pub const MAX_LISTED: usize = 100;

    /// The listed errors.
    ///
    /// ```
    /// # use secure_api::validation::ValidationErrors;
    /// assert!(ValidationErrors::default().errors().is_empty());
    /// ```
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// How many errors were found beyond those listed.
    ///
    /// ```
    /// # use secure_api::validation::ValidationErrors;
    /// assert_eq!(ValidationErrors::default().omitted(), 0);
    /// ```
    pub fn omitted(&self) -> usize {
        self.omitted
    }

    /// How many errors were found in all.
    ///
    /// ```
    /// # use secure_api::validation::ValidationErrors;
    /// assert_eq!(ValidationErrors::default().count(), 0);
    /// ```
    pub fn count(&self) -> usize {
        self.errors.len() + self.omitted
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            match error.pointer.is_empty() {
                true => write!(f, "the body {}", error.detail)?,
                false => write!(f, "{}: {}", error.pointer, error.detail)?,
            }
        }
        if self.omitted > 0 {
            write!(f, "; and {} more", self.omitted)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}
