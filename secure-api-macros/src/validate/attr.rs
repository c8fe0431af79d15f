//! The grammar of `#[validate(...)]`: rules and options as written, each keeping the
//! tokens it was written as so that an error points at them.

use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{
    Expr, ExprLit, ExprUnary, Lit, LitBool, LitInt, LitStr, Meta, Path, Token, UnOp, parse::Parser,
    punctuated::Punctuated,
};

/// One rule on a field (or, inside `each(...)`, on every item).
pub(crate) struct Rule {
    pub(crate) kind: RuleKind,
    /// The rule as written, where errors about it point.
    pub(crate) written: TokenStream,
}

pub(crate) enum RuleKind {
    Length(Bounds),
    Pattern(LitStr),
    Email,
    Url,
    OneOf(Vec<LitStr>),
    Contains(LitStr),
    Ascii,
    Alphanumeric,
    AsciiAlphanumeric,
    Printable,
    Range(RangeBounds),
    Unique,
    Each(Vec<Rule>),
    Password(PasswordOptions),
    Custom(Path),
}

impl RuleKind {
    /// The name a user writes, for messages and duplicate detection.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            RuleKind::Length(_) => "length",
            RuleKind::Pattern(_) => "pattern",
            RuleKind::Email => "email",
            RuleKind::Url => "url",
            RuleKind::OneOf(_) => "one_of",
            RuleKind::Contains(_) => "contains",
            RuleKind::Ascii => "ascii",
            RuleKind::Alphanumeric => "alphanumeric",
            RuleKind::AsciiAlphanumeric => "ascii_alphanumeric",
            RuleKind::Printable => "printable",
            RuleKind::Range(_) => "range",
            RuleKind::Unique => "unique",
            RuleKind::Each(_) => "each",
            RuleKind::Password(_) => "password",
            RuleKind::Custom(_) => "custom",
        }
    }
}

/// `length(min = 3, max = 50)` or `length(equal = 8)`.
#[derive(Default)]
pub(crate) struct Bounds {
    pub(crate) min: Option<LitInt>,
    pub(crate) max: Option<LitInt>,
    pub(crate) equal: Option<LitInt>,
}

/// The value of an optional whole-number option (checked by the parser already).
pub(crate) fn int(lit: &Option<LitInt>) -> Option<usize> {
    lit.as_ref().and_then(|lit| lit.base10_parse().ok())
}

/// A number as written in `range(...)`, with its sign.
#[derive(Clone)]
pub(crate) struct Number {
    pub(crate) value: f64,
    pub(crate) negative: bool,
    pub(crate) is_float: bool,
    pub(crate) written: TokenStream,
}

#[derive(Default)]
pub(crate) struct RangeBounds {
    pub(crate) min: Option<Number>,
    pub(crate) max: Option<Number>,
    pub(crate) exclusive_min: Option<Number>,
    pub(crate) exclusive_max: Option<Number>,
}

#[derive(Default)]
pub(crate) struct PasswordOptions {
    pub(crate) min_length: Option<LitInt>,
    pub(crate) max_length: Option<LitInt>,
    pub(crate) composition: bool,
    pub(crate) blocklist: Option<LitBool>,
}

/// What one `#[validate(...)]` on a field says besides its rules.
#[derive(Default)]
pub(crate) struct FieldOptions {
    pub(crate) rename: Option<LitStr>,
    pub(crate) default: Option<DefaultValue>,
    pub(crate) secret: Option<Path>,
}

pub(crate) enum DefaultValue {
    Trait(Path),
    Function(Path),
}

/// What `#[validate(...)]` on the struct says.
#[derive(Default)]
pub(crate) struct ModelOptions {
    pub(crate) rename: Option<LitStr>,
    pub(crate) rename_all: Option<LitStr>,
    pub(crate) allow_unknown_fields: Option<Path>,
    pub(crate) custom: Vec<Path>,
}

const FIELD_RULES: &[&str] = &[
    "length",
    "pattern",
    "email",
    "url",
    "one_of",
    "contains",
    "ascii",
    "alphanumeric",
    "ascii_alphanumeric",
    "printable",
    "range",
    "unique",
    "each",
    "password",
    "custom",
];
const FIELD_OPTIONS: &[&str] = &["rename", "default", "secret"];
const MODEL_OPTIONS: &[&str] = &["rename", "rename_all", "allow_unknown_fields", "custom"];

/// Parses the arguments of one field attribute into `rules` and `options`.
pub(crate) fn parse_field(
    tokens: TokenStream,
    rules: &mut Vec<Rule>,
    options: &mut FieldOptions,
    cx: &mut Ctxt,
) {
    let Some(metas) = parse_metas(tokens, cx) else {
        return;
    };
    for meta in metas {
        let name = meta_name(&meta);
        match name.as_str() {
            "rename" => set_once(&mut options.rename, lit_str_value(&meta, cx), &meta, cx),
            "default" => {
                let value = match &meta {
                    Meta::Path(path) => Some(DefaultValue::Trait(path.clone())),
                    Meta::NameValue(nv) => match &nv.value {
                        Expr::Path(path) => Some(DefaultValue::Function(path.path.clone())),
                        other => {
                            cx.error_spanned_by(
                                other,
                                "`default = ...` takes the path of a function that makes the \
                                 value, e.g. `default = default_roles`; or write `default` alone \
                                 for `Default::default()`",
                            );
                            None
                        }
                    },
                    Meta::List(_) => {
                        cx.error_spanned_by(&meta, "write `default` or `default = path::to::fn`");
                        None
                    }
                };
                set_once(&mut options.default, value, &meta, cx);
            }
            "secret" => {
                let value = match &meta {
                    Meta::Path(path) => Some(path.clone()),
                    _ => {
                        cx.error_spanned_by(&meta, "`secret` takes no value: write `secret`");
                        None
                    }
                };
                set_once(&mut options.secret, value, &meta, cx);
            }
            _ => {
                if let Some(rule) = parse_rule(meta, cx, true) {
                    rules.push(rule);
                }
            }
        }
    }
}

/// Parses the arguments of one struct attribute into `options`.
pub(crate) fn parse_model(tokens: TokenStream, options: &mut ModelOptions, cx: &mut Ctxt) {
    let Some(metas) = parse_metas(tokens, cx) else {
        return;
    };
    for meta in metas {
        match meta_name(&meta).as_str() {
            "rename" => set_once(&mut options.rename, lit_str_value(&meta, cx), &meta, cx),
            "rename_all" => set_once(&mut options.rename_all, lit_str_value(&meta, cx), &meta, cx),
            "allow_unknown_fields" => {
                let value = match &meta {
                    Meta::Path(path) => Some(path.clone()),
                    _ => {
                        cx.error_spanned_by(
                            &meta,
                            "`allow_unknown_fields` takes no value: write `allow_unknown_fields`",
                        );
                        None
                    }
                };
                set_once(&mut options.allow_unknown_fields, value, &meta, cx);
            }
            "custom" => {
                if let Some(path) = custom_path(&meta, cx) {
                    options.custom.push(path);
                }
            }
            other => {
                let message = match FIELD_RULES.contains(&other) {
                    true => format!(
                        "`{other}` is a rule of a field: put it in the field's own \
                         #[validate(...)]"
                    ),
                    false if other == "deny_unknown_fields" => {
                        "unknown fields are refused by default: remove `deny_unknown_fields` \
                         (`allow_unknown_fields` accepts and ignores them)"
                            .to_owned()
                    }
                    false => unknown_message("an option of a model", other, MODEL_OPTIONS),
                };
                cx.error_spanned_by(meta.path(), message);
            }
        }
    }
}

fn parse_metas(tokens: TokenStream, cx: &mut Ctxt) -> Option<Punctuated<Meta, Token![,]>> {
    match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(metas) => Some(metas),
        Err(error) => {
            cx.syn_error(syn::Error::new(
                error.span(),
                format!(
                    "{error}; rules are written `email`, `pattern = \"...\"` or \
                     `length(min = 3, max = 50)`, separated by commas"
                ),
            ));
            None
        }
    }
}

fn meta_name(meta: &Meta) -> String {
    meta.path()
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_else(|| meta.path().to_token_stream().to_string())
}

fn set_once<T>(slot: &mut Option<T>, value: Option<T>, meta: &Meta, cx: &mut Ctxt) {
    let Some(value) = value else {
        return;
    };
    if slot.is_some() {
        cx.error_spanned_by(
            meta,
            format!("`{}` is given twice; give it once", meta_name(meta)),
        );
        return;
    }
    *slot = Some(value);
}

fn parse_rule(meta: Meta, cx: &mut Ctxt, top_level: bool) -> Option<Rule> {
    let written = meta.to_token_stream();
    let name = meta_name(&meta);
    let flag = |kind: RuleKind, cx: &mut Ctxt| match &meta {
        Meta::Path(_) => Some(kind),
        _ => {
            cx.error_spanned_by(
                &meta,
                format!("`{name}` takes no arguments: write `{name}`"),
            );
            None
        }
    };
    let kind = match name.as_str() {
        "email" => flag(RuleKind::Email, cx),
        "url" => flag(RuleKind::Url, cx),
        "ascii" => flag(RuleKind::Ascii, cx),
        "alphanumeric" => flag(RuleKind::Alphanumeric, cx),
        "ascii_alphanumeric" => flag(RuleKind::AsciiAlphanumeric, cx),
        "printable" => flag(RuleKind::Printable, cx),
        "unique" => flag(RuleKind::Unique, cx),
        "pattern" => lit_str_value(&meta, cx).map(RuleKind::Pattern),
        "contains" => lit_str_value(&meta, cx).map(RuleKind::Contains),
        "custom" => custom_path(&meta, cx).map(RuleKind::Custom),
        "length" => parse_length(&meta, cx).map(RuleKind::Length),
        "range" => parse_range(&meta, cx).map(RuleKind::Range),
        "one_of" => parse_one_of(&meta, cx).map(RuleKind::OneOf),
        "password" => match &meta {
            Meta::Path(_) => Some(RuleKind::Password(PasswordOptions::default())),
            _ => parse_password(&meta, cx).map(RuleKind::Password),
        },
        "each" => {
            let tokens = list_tokens(&meta, "each(email)", cx)?;
            let metas = parse_metas(tokens, cx)?;
            let rules = metas
                .into_iter()
                .filter_map(|meta| {
                    let name = meta_name(&meta);
                    if FIELD_OPTIONS.contains(&name.as_str()) {
                        cx.error_spanned_by(
                            &meta,
                            format!("`{name}` is an option of the field, not a rule of its items; write it outside `each(...)`"),
                        );
                        return None;
                    }
                    parse_rule(meta, cx, false)
                })
                .collect();
            Some(RuleKind::Each(rules))
        }
        other => {
            let known: Vec<&str> = match top_level {
                true => FIELD_RULES.iter().chain(FIELD_OPTIONS).copied().collect(),
                false => FIELD_RULES.to_vec(),
            };
            let what = match MODEL_OPTIONS.contains(&other) && !FIELD_OPTIONS.contains(&other) {
                true => format!(
                    "`{other}` is an option of the model; write it in #[validate(...)] on the struct"
                ),
                false => unknown_message("a rule", other, &known),
            };
            cx.error_spanned_by(meta.path(), what);
            None
        }
    }?;
    Some(Rule { kind, written })
}

/// "unknown rule `emial`; did you mean `email`? ..." with every name it could be.
fn unknown_message(what: &str, name: &str, known: &[&str]) -> String {
    let closest = known
        .iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= candidate.len().max(3) / 3 + 1)
        .min();
    let hint = match closest {
        Some((_, candidate)) => format!("; did you mean `{candidate}`?"),
        None => ".".to_owned(),
    };
    format!(
        "`{name}` is not {what}{hint} Expected one of: {}",
        known
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

fn lit_str_value(meta: &Meta, cx: &mut Ctxt) -> Option<LitStr> {
    let name = meta_name(meta);
    match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => Some(lit.clone()),
            other => {
                cx.error_spanned_by(
                    other,
                    format!("`{name}` takes a string literal: `{name} = \"...\"`"),
                );
                None
            }
        },
        _ => {
            cx.error_spanned_by(
                meta,
                format!("`{name}` takes a string literal: `{name} = \"...\"`"),
            );
            None
        }
    }
}

fn custom_path(meta: &Meta, cx: &mut Ctxt) -> Option<Path> {
    match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Path(path) => Some(path.path.clone()),
            other => {
                cx.error_spanned_by(
                    other,
                    "`custom` takes the path of a function, e.g. `custom = checks::no_spaces`",
                );
                None
            }
        },
        _ => {
            cx.error_spanned_by(
                meta,
                "`custom` takes the path of a function: `custom = path::to::check`",
            );
            None
        }
    }
}

fn list_tokens(meta: &Meta, example: &str, cx: &mut Ctxt) -> Option<TokenStream> {
    match meta {
        Meta::List(list) => Some(list.tokens.clone()),
        _ => {
            cx.error_spanned_by(
                meta,
                format!(
                    "`{}` takes arguments in parentheses, e.g. `{example}`",
                    meta_name(meta)
                ),
            );
            None
        }
    }
}

/// The `name = value` pairs inside `rule(...)`, each name checked against `known`.
fn named_args(
    meta: &Meta,
    example: &str,
    known: &[&str],
    cx: &mut Ctxt,
) -> Option<Vec<(String, Meta)>> {
    let tokens = list_tokens(meta, example, cx)?;
    let metas = parse_metas(tokens, cx)?;
    let rule = meta_name(meta);
    let mut out: Vec<(String, Meta)> = Vec::new();
    for arg in metas {
        let name = meta_name(&arg);
        if !known.contains(&name.as_str()) {
            cx.error_spanned_by(
                arg.path(),
                unknown_message(&format!("an option of `{rule}`"), &name, known),
            );
            continue;
        }
        if out.iter().any(|(seen, _)| *seen == name) {
            cx.error_spanned_by(&arg, format!("`{name}` is given twice"));
            continue;
        }
        out.push((name, arg));
    }
    Some(out)
}

fn int_value(meta: &Meta, cx: &mut Ctxt) -> Option<LitInt> {
    let name = meta_name(meta);
    match meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Int(lit), ..
            }) if lit.base10_parse::<usize>().is_ok() => Some(lit.clone()),
            other => {
                cx.error_spanned_by(
                    other,
                    format!("`{name}` takes a whole number of at least 0, e.g. `{name} = 3`"),
                );
                None
            }
        },
        _ => {
            cx.error_spanned_by(meta, format!("write `{name} = <number>`"));
            None
        }
    }
}

fn parse_length(meta: &Meta, cx: &mut Ctxt) -> Option<Bounds> {
    let args = named_args(
        meta,
        "length(min = 3, max = 50)",
        &["min", "max", "equal"],
        cx,
    )?;
    let mut bounds = Bounds::default();
    for (name, arg) in args {
        let value = int_value(&arg, cx);
        match name.as_str() {
            "min" => bounds.min = value,
            "max" => bounds.max = value,
            _ => bounds.equal = value,
        }
    }
    Some(bounds)
}

fn number_value(meta: &Meta, cx: &mut Ctxt) -> Option<Number> {
    let name = meta_name(meta);
    let Meta::NameValue(nv) = meta else {
        cx.error_spanned_by(meta, format!("write `{name} = <number>`"));
        return None;
    };
    let (lit, negative) = match &nv.value {
        Expr::Lit(ExprLit { lit, .. }) => (lit, false),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(ExprLit { lit, .. }) => (lit, true),
            _ => (&Lit::Verbatim(proc_macro2::Literal::u8_unsuffixed(0)), true),
        },
        _ => (
            &Lit::Verbatim(proc_macro2::Literal::u8_unsuffixed(0)),
            false,
        ),
    };
    let parsed = match lit {
        Lit::Int(int) => int.base10_parse::<f64>().ok().map(|v| (v, false)),
        Lit::Float(float) => float.base10_parse::<f64>().ok().map(|v| (v, true)),
        _ => None,
    };
    match parsed {
        Some((value, is_float)) if value.is_finite() => {
            // `-1` may come as a negation of `1` or as the literal `-1` itself.
            let value = if negative { -value } else { value };
            Some(Number {
                value,
                negative: value < 0.0,
                is_float,
                written: nv.value.to_token_stream(),
            })
        }
        _ => {
            cx.error_spanned_by(
                &nv.value,
                format!("`{name}` takes a number literal, e.g. `{name} = 0` or `{name} = 0.5`"),
            );
            None
        }
    }
}

fn parse_range(meta: &Meta, cx: &mut Ctxt) -> Option<RangeBounds> {
    let args = named_args(
        meta,
        "range(min = 1, max = 100)",
        &["min", "max", "exclusive_min", "exclusive_max"],
        cx,
    )?;
    let mut bounds = RangeBounds::default();
    for (name, arg) in args {
        let value = number_value(&arg, cx);
        match name.as_str() {
            "min" => bounds.min = value,
            "max" => bounds.max = value,
            "exclusive_min" => bounds.exclusive_min = value,
            _ => bounds.exclusive_max = value,
        }
    }
    Some(bounds)
}

fn parse_one_of(meta: &Meta, cx: &mut Ctxt) -> Option<Vec<LitStr>> {
    let tokens = list_tokens(meta, "one_of(\"admin\", \"user\")", cx)?;
    match Punctuated::<LitStr, Token![,]>::parse_terminated.parse2(tokens) {
        Ok(values) => Some(values.into_iter().collect()),
        Err(error) => {
            cx.syn_error(syn::Error::new(
                error.span(),
                "`one_of` takes string literals: `one_of(\"admin\", \"user\")`",
            ));
            None
        }
    }
}

fn parse_password(meta: &Meta, cx: &mut Ctxt) -> Option<PasswordOptions> {
    let args = named_args(
        meta,
        "password(min_length = 8, composition)",
        &["min_length", "max_length", "composition", "blocklist"],
        cx,
    )?;
    let mut options = PasswordOptions::default();
    for (name, arg) in args {
        match name.as_str() {
            "min_length" => options.min_length = int_value(&arg, cx),
            "max_length" => options.max_length = int_value(&arg, cx),
            "composition" => match &arg {
                Meta::Path(_) => options.composition = true,
                _ => cx.error_spanned_by(
                    &arg,
                    "`composition` takes no value: write `composition` to require an \
                     upper-case letter, a lower-case letter, a digit and another character",
                ),
            },
            _ => match &arg {
                Meta::NameValue(nv) => match &nv.value {
                    Expr::Lit(ExprLit {
                        lit: Lit::Bool(lit),
                        ..
                    }) => options.blocklist = Some(lit.clone()),
                    other => cx.error_spanned_by(other, "write `blocklist = false`"),
                },
                _ => cx.error_spanned_by(&arg, "write `blocklist = false`"),
            },
        }
    }
    Some(options)
}
