//! What `#[derive(Validate)]`'s generated code calls: where a value sits in the
//! body ([`Location`]), the errors found so far ([`Report`]), reading JSON into a
//! field's type, and the schema of a constrained field. Not a public API: reached
//! through `secure_api::__private::validation`, it changes with the macro.

use super::{
    Validate,
    error::{FieldError, IntoRuleErrors, RuleError, ValidationErrors},
};
pub use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{ParseFromJSON, Type},
};
use std::fmt::Write as _;
use std::marker::PhantomData;

pub use super::direct::{Direct, FromDirect, direct_object};
pub use super::{password, rules};
pub use poem_openapi::types::{IsObjectType, ParseError, ParseResult, ToJSON};
pub use regex::Regex;
pub use serde_json::{Map, Value};
pub use std::{
    borrow::Cow,
    sync::{LazyLock, OnceLock},
};

/// A rule's error that depends only on the rule, never on the value (`length`,
/// `pattern`, `one_of` with the macro's constants): built on the rule's first
/// failure, then every failure borrows it, so reporting it allocates nothing.
pub type RuleErrorCell = OnceLock<RuleError>;

#[inline]
fn kept(cell: &'static RuleErrorCell, build: impl FnOnce() -> RuleError) -> RuleError {
    cell.get_or_init(build).borrowed()
}

/// The `length` rule on a string, its error kept in `cell`.
#[inline]
pub fn length(
    value: &str,
    min: Option<usize>,
    max: Option<usize>,
    cell: &'static RuleErrorCell,
) -> Result<(), RuleError> {
    match rules::length_holds(value, min, max) {
        true => Ok(()),
        false => Err(kept(cell, || rules::length_error(min, max))),
    }
}

/// The `one_of` rule, its error kept in `cell`.
#[inline]
pub fn one_of(
    value: &str,
    allowed: &'static [&'static str],
    cell: &'static RuleErrorCell,
) -> Result<(), RuleError> {
    match allowed.contains(&value) {
        true => Ok(()),
        false => Err(kept(cell, || rules::one_of_error(allowed))),
    }
}

/// A `password` rule: its policy, and its length errors once built.
pub struct PasswordRule {
    policy: password::PasswordPolicy,
    too_short: RuleErrorCell,
    too_long: RuleErrorCell,
}

impl PasswordRule {
    /// The rule of `policy`.
    pub const fn new(policy: password::PasswordPolicy) -> Self {
        PasswordRule {
            policy,
            too_short: RuleErrorCell::new(),
            too_long: RuleErrorCell::new(),
        }
    }
}

/// The `password` rule: every broken part of it handed to `fail`.
#[inline]
pub fn password(value: &str, rule: &'static PasswordRule, fail: impl FnMut(RuleError)) {
    let length_error = |too_short| {
        let cell = match too_short {
            true => &rule.too_short,
            false => &rule.too_long,
        };
        kept(cell, || password::length_error(&rule.policy, too_short))
    };
    password::check_with(value, &rule.policy, length_error, fail);
}

/// A `pattern` rule's regular expression, compiled on first use, and its error.
pub struct CompiledPattern {
    regex: LazyLock<Result<Regex, regex::Error>>,
    error: RuleErrorCell,
}

impl CompiledPattern {
    /// The pattern `compile` compiles, on first use.
    pub const fn new(compile: fn() -> Result<Regex, regex::Error>) -> Self {
        CompiledPattern {
            regex: LazyLock::new(compile),
            error: RuleErrorCell::new(),
        }
    }
}

/// The `pattern` rule with its compiled expression. The macro compiled the same
/// expression with the same crate, so it cannot fail here; if it ever did, the rule
/// fails closed, with an error in the log, rather than the request panicking.
#[inline]
pub fn pattern(value: &str, compiled: &'static CompiledPattern) -> Result<(), RuleError> {
    match &*compiled.regex {
        Ok(regex) if regex.is_match(value) => Ok(()),
        Ok(regex) => Err(kept(&compiled.error, || rules::pattern_error(regex))),
        Err(error) => {
            tracing::error!(%error, "a `pattern` rule's regular expression does not compile");
            Err(RuleError::new(
                "pattern",
                "cannot be checked against its pattern",
            ))
        }
    }
}

/// Where a value sits in the request body: a chain of segments up to the root, kept
/// on the stack (nothing is allocated unless an error is reported).
#[derive(Clone, Copy)]
pub struct Location<'a> {
    parent: Option<&'a Location<'a>>,
    segment: Segment<'a>,
    secret: bool,
    // The whole pointer when it is known at compile time (the root, and the model's
    // own fields of the body's top object): an error there allocates none.
    pointer: Option<&'static str>,
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Root,
    Field(&'a str),
    Index(usize),
}

impl Location<'static> {
    /// The whole body.
    pub const ROOT: Location<'static> = Location {
        parent: None,
        segment: Segment::Root,
        secret: false,
        pointer: Some(""),
    };
}

impl<'a> Location<'a> {
    /// The field `name` of the object here; `secret` when its name looks like a
    /// secret's (the macro decides for declared fields), inherited by everything
    /// below it.
    pub fn field<'b>(&'b self, name: &'b str, secret: bool) -> Location<'b> {
        Location {
            parent: Some(self),
            segment: Segment::Field(name),
            secret: secret || self.secret,
            pointer: None,
        }
    }

    /// The declared field `name` of the model here, whose pointer from the root is
    /// `pointer` (the macro escapes it) when the model is the body's top object.
    pub fn declared_field<'b>(
        &'b self,
        name: &'b str,
        pointer: &'static str,
        secret: bool,
    ) -> Location<'b> {
        Location {
            pointer: match self.segment {
                Segment::Root => Some(pointer),
                _ => None,
            },
            ..self.field(name, secret)
        }
    }

    /// The item `index` of the array here.
    pub fn index<'b>(&'b self, index: usize) -> Location<'b> {
        Location {
            parent: Some(self),
            segment: Segment::Index(index),
            secret: self.secret,
            pointer: None,
        }
    }

    /// Whether a value here must never be echoed back.
    pub fn is_secret(&self) -> bool {
        self.secret
    }

    /// This place as a JSON Pointer (RFC 6901): `/roles/2`, `""` for the root.
    pub fn pointer(&self) -> Cow<'static, str> {
        if let Some(pointer) = self.pointer {
            return Cow::Borrowed(pointer);
        }
        let mut pointer = String::with_capacity(32);
        self.write_pointer(&mut pointer);
        Cow::Owned(pointer)
    }

    /// Writes the parents' segments, then this one's: no list of segments to reverse.
    fn write_pointer(&self, pointer: &mut String) {
        if let Some(parent) = self.parent {
            parent.write_pointer(pointer);
        }
        match self.segment {
            Segment::Root => {}
            Segment::Field(name) => {
                pointer.push('/');
                // RFC 6901 §3: `~` is `~0` and `/` is `~1` (rare: checked by byte first).
                match name.bytes().any(|b| b == b'~' || b == b'/') {
                    false => pointer.push_str(name),
                    true => {
                        for c in name.chars() {
                            match c {
                                '~' => pointer.push_str("~0"),
                                '/' => pointer.push_str("~1"),
                                c => pointer.push(c),
                            }
                        }
                    }
                }
            }
            Segment::Index(index) => {
                // Written in place, not through a temporary String.
                let _ = write!(pointer, "/{index}");
            }
        }
    }
}

/// Whether a field name looks like a secret's, so its value is never echoed in an
/// error (`password`, `new_password`, `apiKey`, `client-secret`, `accessToken`, ...).
///
/// Decided when the macro runs for declared fields; at run time only for names the
/// model does not declare.
pub const fn is_secret_name(name: &str) -> bool {
    const SECRET_WORDS: &[&[u8]] = &[
        b"password",
        b"passwd",
        b"passphrase",
        b"pwd",
        b"secret",
        b"token",
        b"apikey",
        b"privatekey",
        b"credential",
    ];
    // ASCII letters and digits only, lower-cased: `api_key`, `apiKey` and `API-KEY`
    // all read `apikey`. A `const fn`, so declared fields are decided at compile time.
    let bytes = name.as_bytes();
    let mut squeezed = [0u8; 64];
    let mut len = 0;
    let mut i = 0;
    while i < bytes.len() && len < squeezed.len() {
        let b = bytes[i];
        if b.is_ascii_alphanumeric() {
            squeezed[len] = b.to_ascii_lowercase();
            len += 1;
        }
        i += 1;
    }
    let mut w = 0;
    while w < SECRET_WORDS.len() {
        let word = SECRET_WORDS[w];
        let mut start = 0;
        while start + word.len() <= len {
            let mut k = 0;
            while k < word.len() && squeezed[start + k] == word[k] {
                k += 1;
            }
            if k == word.len() {
                return true;
            }
            start += 1;
        }
        w += 1;
    }
    false
}

/// The errors found in one value so far, at most [`ValidationErrors::MAX_LISTED`]
/// of them listed.
#[derive(Default)]
pub struct Report {
    errors: Vec<FieldError>,
    omitted: usize,
}

impl Report {
    /// An empty report.
    pub fn new() -> Self {
        Report::default()
    }

    /// Records `error` at `at`, with the rejected value unless the place is secret.
    pub fn fail(&mut self, at: &Location<'_>, error: RuleError, value: Option<Value>) {
        if self.errors.len() >= ValidationErrors::MAX_LISTED {
            self.omitted += 1;
            return;
        }
        if self.errors.capacity() == 0 {
            // A refused body usually breaks several rules: one allocation for them.
            self.errors.reserve(8);
        }
        let pointer = match &error.field {
            // A model-level rule names its field; the macro maps it to the wire name.
            Some(field) => at.field(field, false).pointer(),
            None => at.pointer(),
        };
        self.errors.push(FieldError {
            pointer,
            code: error.code,
            detail: error.message,
            params: error.params,
            value: value.filter(|_| !at.is_secret()),
        });
    }

    /// Records the outcome of one rule on `value`.
    #[inline]
    pub fn check<V: Echo + ?Sized>(
        &mut self,
        at: &Location<'_>,
        value: &V,
        outcome: Result<(), RuleError>,
    ) {
        if let Err(error) = outcome {
            self.fail(at, error, value.echo());
        }
    }

    /// Records what a model-level `custom` rule returned; `field` maps the Rust
    /// field names it may name to their wire names and secrecy.
    pub fn model_rule(
        &mut self,
        at: &Location<'_>,
        outcome: impl IntoRuleErrors,
        field: fn(&str) -> Option<(&'static str, bool)>,
    ) {
        for mut error in outcome.into_rule_errors() {
            match error.field.take() {
                Some(name) => {
                    let (wire, secret) = match field(&name) {
                        Some((wire, secret)) => (Cow::Borrowed(wire), secret),
                        None => {
                            let secret = is_secret_name(&name);
                            (name, secret)
                        }
                    };
                    self.fail(&at.field(&wire, secret), error, None);
                }
                None => self.fail(at, error, None),
            }
        }
    }

    /// Whether nothing was reported.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty() && self.omitted == 0
    }

    /// `Ok` when nothing was reported.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        match self.is_clean() {
            true => Ok(()),
            false => Err(ValidationErrors {
                errors: self.errors,
                omitted: self.omitted,
            }),
        }
    }
}

/// The finish of [`Validate::from_json`]: the value when nothing was reported.
pub fn finish<T>(value: Option<T>, report: Report) -> Result<T, ValidationErrors> {
    report.into_result()?;
    // A reader returns `None` only after reporting why; should one ever fail to,
    // the client still gets an answer rather than the server a panic.
    value.ok_or_else(|| {
        let mut report = Report::new();
        report.fail(
            &Location::ROOT,
            RuleError::new("invalid", "is not a valid value"),
            None,
        );
        ValidationErrors {
            errors: report.errors,
            omitted: 0,
        }
    })
}

/// A value shown back to the client in an error (`value`), when short and not secret.
pub trait Echo {
    /// The value as JSON, or `None` to show nothing.
    fn echo(&self) -> Option<Value>;
}

/// Longer strings are cut to this many characters (and marked with `…`) when echoed.
const ECHO_CHARS: usize = 64;

impl Echo for str {
    fn echo(&self) -> Option<Value> {
        if self.len() <= ECHO_CHARS {
            // No more characters than bytes: nothing to cut.
            return Some(Value::String(self.to_owned()));
        }
        let mut chars = self.char_indices();
        match chars.nth(ECHO_CHARS) {
            None => Some(Value::String(self.to_owned())),
            Some((cut, _)) => Some(Value::String(format!("{}…", &self[..cut]))),
        }
    }
}

impl Echo for String {
    fn echo(&self) -> Option<Value> {
        self.as_str().echo()
    }
}

macro_rules! echo_number {
    ($($ty:ty),*) => {$(
        impl Echo for $ty {
            fn echo(&self) -> Option<Value> {
                Some(Value::from(*self))
            }
        }
    )*};
}

echo_number!(
    i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64, bool
);

/// Echoes nothing: lists, objects, and values of types the macro does not know.
pub struct NoEcho;

impl Echo for NoEcho {
    fn echo(&self) -> Option<Value> {
        None
    }
}

fn echo_json(value: &Value, at: &Location<'_>) -> Option<Value> {
    match value {
        _ if at.is_secret() => None,
        Value::String(text) => text.echo(),
        Value::Number(_) | Value::Bool(_) => Some(value.clone()),
        _ => None,
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reports a required value that is absent.
pub fn missing(at: &Location<'_>, report: &mut Report) {
    report.fail(at, RuleError::new("required", "is required"), None);
}

fn wrong_type(
    at: &Location<'_>,
    report: &mut Report,
    expected: Expected,
    found: &'static str,
    echo: Option<Value>,
) {
    let error = match expected {
        Expected::OneOf(allowed) => {
            RuleError::new("one_of", format!("must be one of: {}", allowed.join(", ")))
                .param("allowed", allowed)
        }
        Expected::Kind(kind) => {
            RuleError::new("type", format!("must be {kind}, not {found}")).param("expected", kind)
        }
    };
    report.fail(at, error, echo);
}

enum Expected {
    Kind(String),
    OneOf(Vec<String>),
}

/// What a value of `T` looks like in JSON, for the message of a wrong type: from
/// its schema, so an enum lists its values. Only computed for an error.
fn expected<T: Type>() -> Expected {
    match T::schema_ref() {
        MetaSchemaRef::Inline(schema) => describe(&schema),
        MetaSchemaRef::Reference(name) => {
            let mut registry = Registry::new();
            T::register(&mut registry);
            match registry.schemas.get(&name) {
                Some(schema) if schema.ty == "object" => Expected::Kind(format!("a {name} object")),
                Some(schema) => describe(schema),
                None => Expected::Kind(format!("a valid {name}")),
            }
        }
    }
}

fn describe(schema: &MetaSchema) -> Expected {
    if !schema.enum_items.is_empty() {
        return Expected::OneOf(
            schema
                .enum_items
                .iter()
                .map(|item| match item {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect(),
        );
    }
    let kind = match schema.ty {
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean",
        "array" => "an array",
        "object" => "an object",
        _ => "a valid value",
    };
    Expected::Kind(match (schema.ty, schema.format) {
        ("integer", Some(format)) | ("number", Some(format)) => format!("{kind} ({format})"),
        ("string", Some(format)) if format != "password" => format!("{kind} ({format})"),
        _ => kind.to_owned(),
    })
}

/// The object a model is read from, or `None` after reporting why not.
pub fn object(
    value: Option<Value>,
    at: &Location<'_>,
    report: &mut Report,
    model: &'static str,
) -> Option<Map<String, Value>> {
    match value {
        Some(Value::Object(object)) => Some(object),
        None => {
            missing(at, report);
            None
        }
        Some(other) => {
            let expected = Expected::Kind(format!("a {model} object"));
            wrong_type(at, report, expected, json_kind(&other), None);
            None
        }
    }
}

/// Reports every field the model does not declare.
pub fn unknown_fields(
    names: Vec<String>,
    at: &Location<'_>,
    report: &mut Report,
    declared: &'static [&'static str],
) {
    for name in &names {
        let secret = is_secret_name(name);
        let error = RuleError::new(
            "unknown_field",
            format!(
                "is not a field of this object, which has: {}",
                declared.join(", ")
            ),
        )
        .param("allowed", declared);
        report.fail(&at.field(name, secret), error, None);
    }
}

/// Reads an `Option<_>` field: absent or `null` is `None`, anything else is read by
/// `inner`.
pub fn read_optional<T>(
    value: Option<Value>,
    at: &Location<'_>,
    report: &mut Report,
    inner: impl FnOnce(Option<Value>, &Location<'_>, &mut Report) -> Option<T>,
) -> Option<Option<T>> {
    match value {
        None | Some(Value::Null) => Some(None),
        value => inner(value, at, report).map(Some),
    }
}

/// Reads a `Vec<_>` field item by item, so a wrong item is reported at its index
/// and the others are still read.
pub fn read_list<T>(
    value: Option<Value>,
    at: &Location<'_>,
    report: &mut Report,
    mut item: impl FnMut(Option<Value>, &Location<'_>, &mut Report) -> Option<T>,
) -> Option<Vec<T>> {
    match value {
        Some(Value::Array(values)) => {
            let mut items = Vec::with_capacity(values.len());
            let mut complete = true;
            for (index, value) in values.into_iter().enumerate() {
                match item(Some(value), &at.index(index), report) {
                    Some(read) if complete => items.push(read),
                    Some(_) => {}
                    None => complete = false,
                }
            }
            complete.then_some(items)
        }
        None => {
            missing(at, report);
            None
        }
        Some(other) => {
            let echo = echo_json(&other, at);
            let expected = Expected::Kind("an array".to_owned());
            wrong_type(at, report, expected, json_kind(&other), echo);
            None
        }
    }
}

/// Reads a `String`, strictly: poem-openapi's own `String` accepts a number or a
/// boolean and turns it into text, which a schema that says `type: string` does not.
pub fn read_string(value: Option<Value>, at: &Location<'_>, report: &mut Report) -> Option<String> {
    match value {
        Some(Value::String(text)) => Some(text),
        None => {
            missing(at, report);
            None
        }
        Some(other) => {
            let echo = echo_json(&other, at);
            let expected = Expected::Kind("a string".to_owned());
            wrong_type(at, report, expected, json_kind(&other), echo);
            None
        }
    }
}

/// The innermost type of a field, for the choice between a model of ours (read and
/// checked with paths, every error reported) and any other poem-openapi type (read
/// by its `ParseFromJSON`). The macro calls `(&&Leaf::<T>::NEW).read(...)`: method
/// resolution picks [`ReadViaModel`] when `T: Validate`, else [`ReadViaType`].
pub struct Leaf<T>(PhantomData<fn() -> T>);

impl<T> Leaf<T> {
    /// The only value.
    pub const NEW: Leaf<T> = Leaf(PhantomData);
}

/// A leaf that is a validated model.
pub trait ReadViaModel<T> {
    /// Reads it, reporting every problem.
    fn read(&self, value: Option<Value>, at: &Location<'_>, report: &mut Report) -> Option<T>;
    /// Checks its rules.
    fn check_nested(&self, value: &T, at: &Location<'_>, report: &mut Report);
}

impl<T: Validate> ReadViaModel<T> for &Leaf<T> {
    #[inline]
    fn read(&self, value: Option<Value>, at: &Location<'_>, report: &mut Report) -> Option<T> {
        T::__read_json(value, at, report)
    }

    #[inline]
    fn check_nested(&self, value: &T, at: &Location<'_>, report: &mut Report) {
        value.__check(at, report);
    }
}

/// A leaf of any other poem-openapi type.
pub trait ReadViaType<T> {
    /// Reads it, reporting a missing value or a wrong type.
    fn read(&self, value: Option<Value>, at: &Location<'_>, report: &mut Report) -> Option<T>;
    /// Nothing to check: its rules are the field's.
    fn check_nested(&self, value: &T, at: &Location<'_>, report: &mut Report);
}

impl<T: ParseFromJSON> ReadViaType<T> for Leaf<T> {
    fn read(&self, value: Option<Value>, at: &Location<'_>, report: &mut Report) -> Option<T> {
        let Some(value) = value else {
            missing(at, report);
            return None;
        };
        if value.is_null() && T::IS_REQUIRED {
            wrong_type(at, report, expected::<T>(), "null", None);
            return None;
        }
        // Taken before parsing consumes the value, for the error message.
        let found = json_kind(&value);
        let echo = echo_json(&value, at);
        match T::parse_from_json(Some(value)) {
            Ok(parsed) => Some(parsed),
            Err(_) => {
                wrong_type(at, report, expected::<T>(), found, echo);
                None
            }
        }
    }

    #[inline]
    fn check_nested(&self, _value: &T, _at: &Location<'_>, _report: &mut Report) {}
}

/// The JSON Schema keywords of one field's rules, built by the macro as a constant.
#[derive(Debug, Clone, Copy)]
pub struct FieldSchema {
    /// From the field's doc comment.
    pub description: Option<&'static str>,
    /// `length(min)` on a string.
    pub min_length: Option<usize>,
    /// `length(max)` on a string.
    pub max_length: Option<usize>,
    /// `pattern`, or the pattern of a character class.
    pub pattern: Option<&'static str>,
    /// `email`, `url`, `password`.
    pub format: Option<&'static str>,
    /// `one_of(...)`.
    pub enum_items: &'static [&'static str],
    /// `range(min | exclusive_min)`.
    pub minimum: Option<f64>,
    /// `range(max | exclusive_max)`.
    pub maximum: Option<f64>,
    /// `range(exclusive_min)`.
    pub exclusive_minimum: bool,
    /// `range(exclusive_max)`.
    pub exclusive_maximum: bool,
    /// `length(min)` on a list.
    pub min_items: Option<usize>,
    /// `length(max)` on a list.
    pub max_items: Option<usize>,
    /// `unique`.
    pub unique_items: bool,
    /// A secret: sent by clients, never shown back.
    pub write_only: bool,
    /// The rules of `each(...)`, for the list's items.
    pub items: Option<&'static FieldSchema>,
}

impl FieldSchema {
    /// No keyword at all, to fill the others from.
    pub const NONE: FieldSchema = FieldSchema {
        description: None,
        min_length: None,
        max_length: None,
        pattern: None,
        format: None,
        enum_items: &[],
        minimum: None,
        maximum: None,
        exclusive_minimum: false,
        exclusive_maximum: false,
        min_items: None,
        max_items: None,
        unique_items: false,
        write_only: false,
        items: None,
    };

    fn apply(&self, schema: &mut MetaSchema) {
        macro_rules! set {
            ($($field:ident),*) => {$(
                if self.$field.is_some() {
                    schema.$field = self.$field;
                }
            )*};
        }
        set!(
            description,
            min_length,
            max_length,
            format,
            minimum,
            maximum,
            min_items,
            max_items
        );
        if let Some(pattern) = self.pattern {
            schema.pattern = Some(pattern.to_owned());
        }
        if !self.enum_items.is_empty() {
            schema.enum_items = self.enum_items.iter().map(|&item| item.into()).collect();
        }
        if self.exclusive_minimum {
            schema.exclusive_minimum = Some(true);
        }
        if self.exclusive_maximum {
            schema.exclusive_maximum = Some(true);
        }
        if self.unique_items {
            schema.unique_items = Some(true);
        }
        schema.write_only |= self.write_only;
    }
}

/// The schema of a field: its type's schema with the rules' keywords (and its
/// default) added; a referenced type (a model, an enum) is combined with them
/// through `allOf`, as poem-openapi does.
pub fn property_schema(
    base: MetaSchemaRef,
    rules: &FieldSchema,
    default: Option<Value>,
) -> MetaSchemaRef {
    match base {
        MetaSchemaRef::Inline(mut schema) => {
            rules.apply(&mut schema);
            if let (Some(items_rules), Some(items)) = (rules.items, schema.items.take()) {
                schema.items = Some(Box::new(property_schema(*items, items_rules, None)));
            }
            if default.is_some() {
                schema.default = default;
            }
            MetaSchemaRef::Inline(schema)
        }
        MetaSchemaRef::Reference(name) => {
            let mut patch = MetaSchema::ANY;
            rules.apply(&mut patch);
            patch.default = default;
            if patch.is_empty() {
                return MetaSchemaRef::Reference(name);
            }
            let mut combined = patch.clone();
            combined.all_of = vec![
                MetaSchemaRef::Reference(name),
                MetaSchemaRef::Inline(Box::new(patch)),
            ];
            MetaSchemaRef::Inline(Box::new(combined))
        }
    }
}

/// The description poem-openapi's document carries for `additionalProperties` of a
/// model that refuses unknown fields; [`crate::openapi::spec`] turns the marked
/// schema into the literal `false` that poem-openapi cannot write.
pub const NO_ADDITIONAL_PROPERTIES: &str =
    "Unknown properties are refused: no value satisfies this schema";

/// `additionalProperties` of a model that refuses unknown fields: a schema that no
/// value satisfies (a string that is also a number), which means the same as
/// `false`.
pub fn no_additional_properties() -> Option<Box<MetaSchemaRef>> {
    Some(Box::new(MetaSchemaRef::Inline(Box::new(MetaSchema {
        description: Some(NO_ADDITIONAL_PROPERTIES),
        all_of: vec![
            MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
            MetaSchemaRef::Inline(Box::new(MetaSchema::new("number"))),
        ],
        ..MetaSchema::ANY
    }))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_follow_rfc_6901() {
        let root = Location::ROOT;
        assert_eq!(root.pointer(), "");
        let roles = root.field("roles", false);
        assert_eq!(roles.index(2).pointer(), "/roles/2");
        let odd = root.field("a/b~c", false);
        assert_eq!(odd.pointer(), "/a~1b~0c");
        let empty = root.field("", false);
        assert_eq!(empty.pointer(), "/");
    }

    #[test]
    fn a_top_field_borrows_its_pointer_and_a_nested_one_builds_it() {
        let root = Location::ROOT;
        let top = root.declared_field("a/b", "/a~1b", false);
        assert!(matches!(top.pointer(), Cow::Borrowed("/a~1b")));
        let nested = top.declared_field("zip", "/zip", false);
        assert!(matches!(nested.pointer(), Cow::Owned(p) if p == "/a~1b/zip"));
        let item = root.field("roles", false);
        assert_eq!(
            item.index(0).declared_field("x", "/x", false).pointer(),
            "/roles/0/x"
        );
    }

    #[test]
    fn secrecy_is_inherited_and_hides_values() {
        let root = Location::ROOT;
        let credentials = root.field("credentials", true);
        let inner = credentials.field("value", false);
        assert!(inner.is_secret());
        let mut report = Report::new();
        report.check(&inner, "hunter2", Err(RuleError::new("x", "must be x")));
        report.check(
            &root.field("name", false),
            "bob",
            Err(RuleError::new("x", "must be x")),
        );
        let errors = report.into_result().unwrap_err();
        assert_eq!(errors.errors()[0].value, None);
        assert_eq!(errors.errors()[1].value, Some(Value::from("bob")));
    }

    #[test]
    fn secret_names() {
        for secret in [
            "password",
            "newPassword",
            "new_password",
            "PASSWD",
            "api_key",
            "apiKey",
            "client-secret",
            "access_token",
            "refreshToken",
            "private_key",
            "credentials",
        ] {
            assert!(is_secret_name(secret), "{secret}");
        }
        for plain in ["username", "email", "roles", "keyboard", "author"] {
            assert!(!is_secret_name(plain), "{plain}");
        }
    }

    #[test]
    fn the_report_lists_at_most_100_errors_and_counts_the_rest() {
        let mut report = Report::new();
        for _ in 0..250 {
            report.fail(&Location::ROOT, RuleError::new("x", "must be x"), None);
        }
        let errors = report.into_result().unwrap_err();
        assert_eq!(errors.errors().len(), 100);
        assert_eq!(errors.omitted(), 150);
        assert_eq!(errors.count(), 250);
    }

    #[test]
    fn long_values_are_cut_when_echoed() {
        let long = "é".repeat(100);
        let echoed = long.echo().unwrap();
        assert_eq!(echoed.as_str().unwrap().chars().count(), 65);
        assert!(echoed.as_str().unwrap().ends_with('…'));
        assert_eq!("short".echo(), Some(Value::from("short")));
    }
}
