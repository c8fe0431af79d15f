//! Parsing of the macros' own attribute arguments.

use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::ToTokens;
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
