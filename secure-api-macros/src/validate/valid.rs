//! Every rule that cannot make sense, reported at the tokens that say it, all of them
//! in one compile: bounds that no value satisfies, an invalid regular expression, a
//! string rule on a number, a rule on the wrong kind of field, options given twice.

use super::{
    ast::{Field, Leaf, Model, Shape},
    attr::{self, Number, PasswordOptions, RangeBounds, Rule, RuleKind},
    rename,
};
use crate::{component_name, ctxt::Ctxt};
use std::collections::HashMap;

/// NIST SP 800-63B-4 §3.1.1.2: never fewer than 8 characters, allow at least 64.
const NIST_MIN_LENGTH: usize = 8;
const NIST_MAX_LENGTH_AT_LEAST: usize = 64;

pub(crate) fn check(model: &Model, cx: &mut Ctxt) {
    if !model.input.generics.params.is_empty() {
        cx.error_spanned_by(
            &model.input.generics,
            "a validated model cannot be generic: declare one model per shape of body",
        );
    }
    for attr in &model.stray_oai {
        cx.error_spanned_by(
            attr,
            "#[derive(Validate)] makes the poem-openapi schema itself, so #[oai(...)] has no \
             effect here: write `rename`, `rename_all` or `default` in #[validate(...)] instead, \
             and do not derive `Object` as well",
        );
    }
    if let Some(rule) = &model.options.rename_all
        && !rename::RULES.contains(&rule.value().as_str())
    {
        cx.error_spanned_by(
            rule,
            format!(
                "unknown case `{}`; expected one of: {}",
                rule.value(),
                rename::RULES.join(", ")
            ),
        );
    }
    if let Some(name) = &model.options.rename
        && !component_name::is_valid(&name.value())
    {
        cx.error_spanned_by(
            name,
            "a schema name is made of ASCII letters, digits, `.`, `_` and `-`",
        );
    }
    let mut wire_names: HashMap<String, String> = HashMap::new();
    for field in &model.fields {
        let wire = wire_name(model, field);
        if let Some(first) = wire_names.insert(wire.clone(), field.rust_name()) {
            cx.error_spanned_by(
                field.ident,
                format!("`{first}` is sent as \"{wire}\" already; rename one of them"),
            );
        }
        check_field(field, cx);
    }
}

/// The name the client writes for `field`.
pub(crate) fn wire_name(model: &Model, field: &Field) -> String {
    if let Some(rename) = &field.options.rename {
        return rename.value();
    }
    let name = field.rust_name();
    match &model.options.rename_all {
        Some(rule) => rename::apply(&rule.value(), &name).unwrap_or(name),
        None => name,
    }
}

fn check_field(field: &Field, cx: &mut Ctxt) {
    if let (Some(default), true) = (&field.options.default, field.shape.is_optional()) {
        let path = match default {
            super::attr::DefaultValue::Trait(path) | super::attr::DefaultValue::Function(path) => {
                path
            }
        };
        cx.error_spanned_by(
            path,
            "an `Option` field is already optional (absent means `None`): remove `default`",
        );
    }
    if let Some(rename) = &field.options.rename
        && rename.value().is_empty()
    {
        cx.error_spanned_by(rename, "a field's wire name cannot be empty");
    }
    check_rules(&field.rules, field.shape.present(), &field.rust_name(), cx);
}

fn check_rules(rules: &[Rule], shape: &Shape, field: &str, cx: &mut Ctxt) {
    let mut seen: Vec<&str> = Vec::new();
    for rule in rules {
        let name = rule.kind.name();
        if name != "custom" && seen.contains(&name) {
            cx.error_spanned_by(
                &rule.written,
                format!("`{name}` is given twice for `{field}`; merge them into one"),
            );
        }
        seen.push(name);
        check_rule(rule, shape, field, cx);
    }
}

/// What kind of value a rule checks, for "this rule does not fit this field".
#[derive(PartialEq)]
enum Target {
    String,
    Number,
    List,
    Any,
}

fn check_rule(rule: &Rule, shape: &Shape, field: &str, cx: &mut Ctxt) {
    let target = match &rule.kind {
        RuleKind::Length(_) => None,
        RuleKind::Pattern(_)
        | RuleKind::Email
        | RuleKind::Url
        | RuleKind::OneOf(_)
        | RuleKind::Contains(_)
        | RuleKind::Ascii
        | RuleKind::Alphanumeric
        | RuleKind::AsciiAlphanumeric
        | RuleKind::Printable
        | RuleKind::Password(_) => Some(Target::String),
        RuleKind::Range(_) => Some(Target::Number),
        RuleKind::Unique | RuleKind::Each(_) => Some(Target::List),
        RuleKind::Custom(_) => Some(Target::Any),
    };
    let name = rule.kind.name();
    let fits = match (&target, shape) {
        (None, Shape::List(_)) => true,
        (None, Shape::Leaf(_, leaf)) => matches!(leaf, Leaf::String | Leaf::Other),
        (Some(Target::Any), _) => true,
        (Some(Target::List), shape) => matches!(shape, Shape::List(_)),
        (Some(Target::String), Shape::Leaf(_, leaf)) => matches!(leaf, Leaf::String | Leaf::Other),
        (Some(Target::Number), Shape::Leaf(_, leaf)) => {
            matches!(leaf, Leaf::Integer { .. } | Leaf::Float)
        }
        _ => false,
    };
    if !fits {
        let what = shape.describe();
        let message = match (&target, shape) {
            (_, Shape::List(_)) => format!(
                "`{name}` checks a single value, but `{field}` is a list: wrap it in `each(...)` \
                 to check every item"
            ),
            (None, _) => format!(
                "`length` counts the characters of a string or the items of a list, but \
                 `{field}` is {what}; for a number, use `range(min = .., max = ..)`"
            ),
            (Some(Target::String), _) => {
                format!("`{name}` checks a string, but `{field}` is {what}")
            }
            (Some(Target::Number), _) => format!(
                "`range` checks a number (an integer or a float), but `{field}` is {what}; \
                 for a string or a list, use `length(min = .., max = ..)`"
            ),
            _ => format!("`{name}` checks a list, but `{field}` is {what}"),
        };
        cx.error_spanned_by(&rule.written, message);
        return;
    }
    match &rule.kind {
        RuleKind::Length(bounds) => {
            let (min, max) = (attr::int(&bounds.min), attr::int(&bounds.max));
            if bounds.min.is_none() && bounds.max.is_none() && bounds.equal.is_none() {
                cx.error_spanned_by(
                    &rule.written,
                    "give `length` a bound: `length(min = 3)`, `length(max = 50)`, both, or \
                     `length(equal = 8)`",
                );
            } else if bounds.equal.is_some() && (bounds.min.is_some() || bounds.max.is_some()) {
                cx.error_spanned_by(
                    &rule.written,
                    "`equal` is both bounds at once: give `equal`, or `min` and `max`",
                );
            } else if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                cx.error_spanned_by(
                    &rule.written,
                    format!(
                        "`min` ({min}) is greater than `max` ({max}): no value can keep this rule"
                    ),
                );
            }
        }
        RuleKind::Pattern(lit) => {
            if let Err(error) = regex::Regex::new(&lit.value()) {
                cx.error_spanned_by(lit, format!("invalid regular expression: {error}"));
            }
        }
        RuleKind::OneOf(values) => {
            if values.is_empty() {
                cx.error_spanned_by(
                    &rule.written,
                    "list the allowed values: `one_of(\"admin\", \"user\")`",
                );
            }
            for (i, value) in values.iter().enumerate() {
                if values[..i].iter().any(|seen| seen.value() == value.value()) {
                    cx.error_spanned_by(value, format!("\"{}\" is listed twice", value.value()));
                }
            }
        }
        RuleKind::Contains(lit) if lit.value().is_empty() => {
            cx.error_spanned_by(lit, "every value contains the empty string: give some text");
        }
        RuleKind::Range(bounds) => check_range(bounds, shape, &rule.written, cx),
        RuleKind::Unique => {
            if let Shape::List(inner) = shape
                && let Shape::Leaf(_, Leaf::Float) = inner.present()
            {
                cx.error_spanned_by(
                    &rule.written,
                    "`unique` compares items by hashing, which floats do not allow",
                );
            }
        }
        RuleKind::Each(rules) => {
            if let Shape::List(inner) = shape {
                if rules.is_empty() {
                    cx.error_spanned_by(&rule.written, "give `each` a rule: `each(email)`");
                }
                check_rules(rules, inner.present(), &format!("{field}[_]"), cx);
            }
        }
        RuleKind::Password(options) => check_password(options, &rule.written, cx),
        _ => {}
    }
}

fn check_range(
    bounds: &RangeBounds,
    shape: &Shape,
    written: &proc_macro2::TokenStream,
    cx: &mut Ctxt,
) {
    let all = [
        &bounds.min,
        &bounds.max,
        &bounds.exclusive_min,
        &bounds.exclusive_max,
    ];
    if all.iter().all(|b| b.is_none()) {
        cx.error_spanned_by(
            written,
            "give `range` a bound: `min`, `max`, `exclusive_min` or `exclusive_max`",
        );
        return;
    }
    if bounds.min.is_some() && bounds.exclusive_min.is_some() {
        cx.error_spanned_by(written, "give either `min` or `exclusive_min`, not both");
    }
    if bounds.max.is_some() && bounds.exclusive_max.is_some() {
        cx.error_spanned_by(written, "give either `max` or `exclusive_max`, not both");
    }
    if let Shape::Leaf(_, Leaf::Integer { signed }) = shape {
        for bound in all.iter().copied().flatten() {
            if bound.is_float {
                cx.error_spanned_by(
                    &bound.written,
                    "this field holds integers: write the bound as an integer",
                );
            } else if bound.negative && !signed {
                cx.error_spanned_by(
                    &bound.written,
                    "this field cannot hold a negative number: the bound is out of its range",
                );
            }
        }
    }
    let low: Option<(&Number, bool)> = match (&bounds.min, &bounds.exclusive_min) {
        (Some(min), _) => Some((min, false)),
        (None, Some(min)) => Some((min, true)),
        _ => None,
    };
    let high: Option<(&Number, bool)> = match (&bounds.max, &bounds.exclusive_max) {
        (Some(max), _) => Some((max, false)),
        (None, Some(max)) => Some((max, true)),
        _ => None,
    };
    if let (Some((low, low_exclusive)), Some((high, high_exclusive))) = (low, high) {
        let empty = low.value > high.value
            || (low.value == high.value && (low_exclusive || high_exclusive));
        if empty {
            cx.error_spanned_by(
                written,
                format!(
                    "the lower bound ({}) is not below the upper bound ({}): no value can keep \
                     this rule",
                    low.value, high.value
                ),
            );
        }
    }
}

fn check_password(options: &PasswordOptions, written: &proc_macro2::TokenStream, cx: &mut Ctxt) {
    let (min, max) = (
        attr::int(&options.min_length),
        attr::int(&options.max_length),
    );
    if let (Some(lit), Some(min)) = (&options.min_length, min)
        && min < NIST_MIN_LENGTH
    {
        cx.error_spanned_by(
            lit,
            format!(
                "NIST SP 800-63B-4 requires at least {NIST_MIN_LENGTH} characters (15 for a \
                 password that is the only factor)"
            ),
        );
    }
    if let (Some(lit), Some(max)) = (&options.max_length, max)
        && max < NIST_MAX_LENGTH_AT_LEAST
    {
        cx.error_spanned_by(
            lit,
            format!(
                "NIST SP 800-63B-4 asks to allow passwords of at least \
                 {NIST_MAX_LENGTH_AT_LEAST} characters"
            ),
        );
    }
    let effective_min = min.unwrap_or(15);
    let effective_max = max.unwrap_or(128);
    if effective_min > effective_max {
        cx.error_spanned_by(
            written,
            format!(
                "`min_length` ({effective_min}) is greater than `max_length` ({effective_max}): \
                 no password can keep this rule"
            ),
        );
    }
}
