//! Parsing of the macros' own attribute arguments.

use proc_macro2::{Span, TokenStream};
use syn::{
    Expr, ExprLit, Lit, LitStr, Meta, Path, Token,
    parse::{Parse, ParseStream, Parser},
    punctuated::Punctuated,
    spanned::Spanned,
};

/// `#[secure_api(scopes = Scope, ...poem-openapi arguments...)]`.
pub(crate) struct ApiArgs {
    pub(crate) scopes: Option<Path>,
    /// Arguments for poem-openapi's `#[OpenApi(...)]`, passed through untouched.
    pub(crate) passthrough: Vec<Meta>,
}

impl ApiArgs {
    pub(crate) fn parse(args: TokenStream) -> syn::Result<Self> {
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
        let mut parsed = ApiArgs {
            scopes: None,
            passthrough: Vec::new(),
        };
        for meta in metas {
            if !meta.path().is_ident("scopes") {
                parsed.passthrough.push(meta);
                continue;
            }
            let Meta::NameValue(name_value) = &meta else {
                return Err(syn::Error::new_spanned(
                    &meta,
                    "expected `scopes = YourScopes`, the enum that derives `Scopes`",
                ));
            };
            let Expr::Path(path) = &name_value.value else {
                return Err(syn::Error::new_spanned(
                    &name_value.value,
                    "expected the path of the enum that derives `Scopes`, e.g. `scopes = Scope`",
                ));
            };
            if parsed.scopes.is_some() {
                return Err(syn::Error::new_spanned(&meta, "`scopes` is given twice"));
            }
            parsed.scopes = Some(path.path.clone());
        }
        Ok(parsed)
    }
}

/// A scope requirement as written: `"a", any("b", all("c", "d"))`.
pub(crate) enum ScopeExpr {
    Scope(LitStr),
    All(Span, Vec<ScopeExpr>),
    Any(Span, Vec<ScopeExpr>),
}

impl ScopeExpr {
    /// The arguments of `#[requires_scopes(...)]`: every item is required.
    pub(crate) fn parse_requirement(tokens: TokenStream, span: Span) -> syn::Result<Self> {
        let items = Parser::parse2(parse_items, tokens)?;
        Ok(ScopeExpr::All(span, items))
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
    pub(crate) fn lists(&self) -> Vec<(Span, usize)> {
        match self {
            ScopeExpr::Scope(_) => Vec::new(),
            ScopeExpr::All(span, items) | ScopeExpr::Any(span, items) => {
                let mut out = vec![(*span, items.len())];
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
                    Ok(ScopeExpr::Any(expr.span(), args))
                } else if func.path.is_ident("all") {
                    Ok(ScopeExpr::All(expr.span(), args))
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
