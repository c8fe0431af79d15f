//! Parsing of the macros' own attribute arguments.

use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{
    Expr, ExprLit, Lit, LitStr, Meta, MetaNameValue, Path, Token,
    parse::{Parse, ParseStream, Parser},
    punctuated::Punctuated,
};

/// `#[secure_api(scopes = Scope, ...poem-openapi arguments...)]`.
pub(crate) struct ApiArgs {
    pub(crate) scopes: Option<Path>,
    /// `scopes` was written wrongly, or the arguments could not be read at all: that
    /// error is reported already, so a missing `scopes` is not reported again.
    pub(crate) scopes_reported: bool,
    /// Arguments for poem-openapi's `#[OpenApi(...)]`, passed through untouched.
    pub(crate) passthrough: Vec<Meta>,
    /// Arguments of one feature each (`api_keys = ...`).
    pub(crate) features: super::feature_args::FeatureArgs,
}

impl ApiArgs {
    pub(crate) fn parse(args: TokenStream, cx: &mut Ctxt) -> Self {
        let mut parsed = ApiArgs {
            scopes: None,
            scopes_reported: false,
            passthrough: Vec::new(),
            features: Default::default(),
        };
        let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
            Ok(metas) => metas,
            Err(error) => {
                cx.syn_error(error);
                parsed.scopes_reported = true;
                return parsed;
            }
        };
        for meta in metas {
            if parsed.features.take(&meta, cx) {
                continue;
            }
            if !meta.path().is_ident("scopes") {
                parsed.passthrough.push(meta);
                continue;
            }
            let path = match &meta {
                Meta::NameValue(MetaNameValue {
                    value: Expr::Path(path),
                    ..
                }) => path.path.clone(),
                Meta::NameValue(MetaNameValue {
                    value:
                        Expr::Lit(ExprLit {
                            lit: Lit::Str(lit), ..
                        }),
                    ..
                }) => {
                    cx.error_spanned_by(
                        lit,
                        format!(
                            "`scopes` takes the enum that derives `Scopes`, not a string: \
                             write `scopes = {}`",
                            lit.value()
                        ),
                    );
                    parsed.scopes_reported = true;
                    continue;
                }
                Meta::NameValue(name_value) => {
                    cx.error_spanned_by(
                        &name_value.value,
                        "expected the path of the enum that derives `Scopes`, e.g. `scopes = Scope`",
                    );
                    parsed.scopes_reported = true;
                    continue;
                }
                _ => {
                    cx.error_spanned_by(
                        &meta,
                        "expected `scopes = YourScopes`, the enum that derives `Scopes`",
                    );
                    parsed.scopes_reported = true;
                    continue;
                }
            };
            if parsed.scopes.is_some() {
                cx.error_spanned_by(&meta, "`scopes` is given twice; give it once");
                continue;
            }
            parsed.scopes = Some(path);
        }
        parsed
    }
}

/// A scope requirement as written: `"a", any("b", all("c", "d"))`.
/// `All` and `Any` keep the tokens they were written as, so that an error about the
/// list covers all of it (a `Span` alone covers only its first token on stable Rust).
pub(crate) enum ScopeExpr {
    Scope(LitStr),
    All(TokenStream, Vec<ScopeExpr>),
    Any(TokenStream, Vec<ScopeExpr>),
}

impl ScopeExpr {
    /// The arguments of `#[requires_scopes(...)]`: every item is required.
    /// `written` is the whole attribute, where errors about the list point.
    pub(crate) fn parse_requirement(
        tokens: TokenStream,
        written: TokenStream,
    ) -> syn::Result<Self> {
        let items = Parser::parse2(parse_items, tokens)?;
        Ok(ScopeExpr::All(written, items))
    }

    /// Every alternative that satisfies this requirement, each a set of scopes that
    /// must all be present (disjunctive normal form: what OpenAPI's `security` says).
    pub(crate) fn alternatives(&self) -> Vec<Vec<LitStr>> {
        match self {
            ScopeExpr::Scope(lit) => vec![vec![lit.clone()]],
            ScopeExpr::Any(_, items) => {
                let mut out: Vec<Vec<LitStr>> = Vec::new();
                for alternative in items.iter().flat_map(ScopeExpr::alternatives) {
                    push_unique(&mut out, alternative);
                }
                out
            }
            ScopeExpr::All(_, items) => {
                let mut product: Vec<Vec<LitStr>> = vec![Vec::new()];
                for item in items {
                    let mut next = Vec::new();
                    for left in &product {
                        for right in item.alternatives() {
                            let mut joined = left.clone();
                            for lit in right {
                                if !joined.iter().any(|l| l.value() == lit.value()) {
                                    joined.push(lit);
                                }
                            }
                            push_unique(&mut next, joined);
                        }
                    }
                    product = next;
                }
                product
            }
        }
    }

    /// Every nested list, for the emptiness check.
    pub(crate) fn lists(&self) -> Vec<(&TokenStream, usize)> {
        match self {
            ScopeExpr::Scope(_) => Vec::new(),
            ScopeExpr::All(written, items) | ScopeExpr::Any(written, items) => {
                let mut out = vec![(written, items.len())];
                out.extend(items.iter().flat_map(ScopeExpr::lists));
                out
            }
        }
    }
}

fn push_unique(out: &mut Vec<Vec<LitStr>>, alternative: Vec<LitStr>) {
    let mut key: Vec<String> = alternative.iter().map(LitStr::value).collect();
    key.sort();
    let exists = out.iter().any(|other| {
        let mut other_key: Vec<String> = other.iter().map(LitStr::value).collect();
        other_key.sort();
        other_key == key
    });
    if !exists {
        out.push(alternative);
    }
}

fn parse_items(input: ParseStream) -> syn::Result<Vec<ScopeExpr>> {
    let items = Punctuated::<ScopeExpr, Token![,]>::parse_terminated(input)?;
    Ok(items.into_iter().collect())
}

impl Parse for ScopeExpr {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(LitStr) {
            return Ok(ScopeExpr::Scope(input.parse()?));
        }
        let expr: Expr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a scope such as \"users:write\", or any(...) / all(...)",
            )
        })?;
        match &expr {
            Expr::Call(call) => {
                let Expr::Path(func) = &*call.func else {
                    return Err(not_a_scope(&expr));
                };
                let args = call
                    .args
                    .iter()
                    .map(|arg| syn::parse2::<ScopeExpr>(quote::quote!(#arg)))
                    .collect::<syn::Result<Vec<_>>>()?;
                if func.path.is_ident("any") {
                    Ok(ScopeExpr::Any(expr.to_token_stream(), args))
                } else if func.path.is_ident("all") {
                    Ok(ScopeExpr::All(expr.to_token_stream(), args))
                } else {
                    Err(syn::Error::new_spanned(
                        &func.path,
                        "unknown combinator; use any(\"a\", \"b\") for at least one of the \
                         scopes or all(\"a\", \"b\") for every one of them",
                    ))
                }
            }
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => Ok(ScopeExpr::Scope(lit.clone())),
            _ => Err(not_a_scope(&expr)),
        }
    }
}

fn not_a_scope(expr: &Expr) -> syn::Error {
    syn::Error::new_spanned(
        expr,
        "expected a scope as a string literal, such as \"users:write\", or any(...) / all(...)",
    )
}

/// `#[rate_limit(10, per = "60s", key = subject, burst = 20, name = "search")]`, or
/// `#[rate_limit(PATH)]` for a `RateLimit` constant: each value typed, with the tokens
/// it was written as, so that `valid.rs` can point at them.
pub(crate) struct RateLimitSpec {
    /// The whole attribute, where errors about what is missing point.
    pub(crate) written: TokenStream,
    pub(crate) source: LimitSource,
    /// The period, in milliseconds.
    pub(crate) per: Option<(syn::Ident, LitStr, u64)>,
    pub(crate) key: Option<(syn::Ident, KeySpec)>,
    pub(crate) burst: Option<(syn::Ident, syn::LitInt, u64)>,
    pub(crate) name: Option<(syn::Ident, LitStr)>,
    /// `Type::method`, which makes the budget of a limit without a name its own.
    pub(crate) owner: String,
}

/// How many, or which constant.
pub(crate) enum LimitSource {
    Count(syn::LitInt, u64),
    Constant(Path),
    Missing,
}

/// What a limit is keyed by.
pub(crate) enum KeySpec {
    Ip,
    Subject,
    ApiKey,
    Function(Path),
}

impl RateLimitSpec {
    /// Parses the arguments of one `#[rate_limit(...)]`, reporting every mistake to
    /// `cx`; what could be read is returned for `valid` to check (`None` when the
    /// list itself does not parse).
    pub(crate) fn parse(
        tokens: TokenStream,
        written: TokenStream,
        owner: String,
        cx: &mut Ctxt,
    ) -> Option<Self> {
        let items = match Punctuated::<RateLimitItem, Token![,]>::parse_terminated.parse2(tokens) {
            Ok(items) => items,
            Err(error) => {
                cx.syn_error(error);
                return None;
            }
        };
        let mut spec = RateLimitSpec {
            written,
            source: LimitSource::Missing,
            per: None,
            key: None,
            burst: None,
            name: None,
            owner,
        };
        for item in items {
            if let Err(error) = spec.add(item) {
                cx.syn_error(error);
            }
        }
        Some(spec)
    }

    fn add(&mut self, item: RateLimitItem) -> syn::Result<()> {
        let (ident, value) = match item {
            RateLimitItem::Positional(expr) => {
                if !matches!(self.source, LimitSource::Missing) {
                    return Err(syn::Error::new_spanned(
                        &expr,
                        "give the count (or the constant) once, first",
                    ));
                }
                self.source = match expr {
                    Expr::Lit(ExprLit {
                        lit: Lit::Int(count),
                        ..
                    }) => {
                        let value = count.base10_parse::<u64>()?;
                        LimitSource::Count(count, value)
                    }
                    Expr::Path(path) if path.qself.is_none() => LimitSource::Constant(path.path),
                    other => {
                        return Err(syn::Error::new_spanned(
                            other,
                            "expected a count, as in #[rate_limit(10, per = \"60s\")], or the \
                             path of a `RateLimit` constant",
                        ));
                    }
                };
                return Ok(());
            }
            RateLimitItem::Option(ident, value) => (ident, value),
        };
        let given_twice =
            || syn::Error::new_spanned(&ident, format!("`{ident}` is given twice; give it once"));
        match ident.to_string().as_str() {
            "per" => {
                if self.per.is_some() {
                    return Err(given_twice());
                }
                let lit = string(&value, "`per` takes a duration such as \"60s\"");
                // A wrong period is reported once, here: the slot is filled anyway, so
                // `valid` does not call it missing.
                let placeholder = LitStr::new("", value.span());
                let (lit, millis) = match lit {
                    Ok(lit) => match duration_millis(&lit.value()) {
                        Ok(millis) => (lit, millis),
                        Err(why) => {
                            self.per = Some((ident, placeholder, 0));
                            return Err(syn::Error::new_spanned(&lit, why));
                        }
                    },
                    Err(error) => {
                        self.per = Some((ident, placeholder, 0));
                        return Err(error);
                    }
                };
                self.per = Some((ident, lit, millis));
            }
            "key" => {
                let key = KeySpec::from_expr(&value)?;
                if self.key.is_some() {
                    return Err(given_twice());
                }
                self.key = Some((ident, key));
            }
            "burst" => {
                let Expr::Lit(ExprLit {
                    lit: Lit::Int(lit), ..
                }) = value
                else {
                    return Err(syn::Error::new_spanned(
                        value,
                        "`burst` takes a whole number: how many requests may come at once",
                    ));
                };
                let burst = lit.base10_parse::<u64>()?;
                if self.burst.is_some() {
                    return Err(given_twice());
                }
                self.burst = Some((ident, lit, burst));
            }
            "name" => {
                let lit = string(&value, "`name` takes a string, such as name = \"search\"")?;
                if self.name.is_some() {
                    return Err(given_twice());
                }
                self.name = Some((ident, lit));
            }
            _ => {
                return Err(syn::Error::new_spanned(
                    &ident,
                    format!(
                        "unknown option `{ident}`; #[rate_limit] takes `per`, `key`, `burst` \
                         and `name`, as in #[rate_limit(10, per = \"60s\", key = subject)]"
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn string(value: &Expr, expected: &str) -> syn::Result<LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit.clone()),
        other => Err(syn::Error::new_spanned(other, expected)),
    }
}

enum RateLimitItem {
    Positional(Expr),
    Option(syn::Ident, Expr),
}

impl Parse for RateLimitItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(syn::Ident) && input.peek2(Token![=]) {
            let ident: syn::Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let value: Expr = input.parse()?;
            return Ok(RateLimitItem::Option(ident, value));
        }
        Ok(RateLimitItem::Positional(input.parse()?))
    }
}

impl KeySpec {
    /// `ip`, `subject`, `api_key`, or the path of a function.
    fn from_expr(expr: &Expr) -> syn::Result<Self> {
        let Expr::Path(path) = expr else {
            return Err(syn::Error::new_spanned(
                expr,
                "expected `ip`, `subject`, `api_key` or the path of a \
                 `fn(&Request) -> Option<String>`",
            ));
        };
        let path = &path.path;
        Ok(match path.get_ident().map(ToString::to_string).as_deref() {
            Some("ip") => KeySpec::Ip,
            Some("subject") => KeySpec::Subject,
            Some("api_key") => KeySpec::ApiKey,
            _ => KeySpec::Function(path.clone()),
        })
    }
}

/// `60s`, `500ms`, `15m`, `1h`, `1d` as milliseconds (the runtime's
/// `ratelimit::parse_duration` reads the same forms from configuration).
pub(crate) fn duration_millis(text: &str) -> Result<u64, String> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let Ok(number) = number.parse::<u64>() else {
        return Err(format!(
            "`{text}` is not a duration; write a whole number and a unit: \"500ms\", \"60s\", \
             \"15m\", \"1h\" or \"1d\""
        ));
    };
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!(
                "`{unit}` is not a unit of duration; use ms, s, m, h or d, as in \"60s\""
            ));
        }
    };
    match number.checked_mul(factor) {
        Some(0) => Err("the period must be longer than zero".to_owned()),
        Some(millis) => Ok(millis),
        None => Err(format!("`{text}` is too long a period")),
    }
}
