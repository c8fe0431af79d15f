//! The bearer part of a guarded operation: its scope requirement in the policy, the
//! compile-time check of every scope, the `Authorized` parameter (which documents the
//! OAuth2 scheme and scopes) and the `Principal` it hands the handler.

use super::{Contribution, OperationNames};
use crate::api::ast::Operation;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::LitStr;

pub(crate) fn contribution(
    operation: &Operation,
    names: &OperationNames,
    scopes: &syn::Path,
) -> Contribution {
    if operation.requirement().is_none() && operation.principal_params.is_empty() {
        return Contribution::default();
    }
    let ident = &names.ident;
    let policy = &names.policy;
    let alternatives = match operation.requirement() {
        Some(expr) => expr.alternatives(),
        // A `Principal` parameter alone: any valid token.
        None => vec![Vec::new()],
    };

    // Compile-time check of every scope against the declaration, reported at the
    // scope's own literal (once per scope).
    let mut distinct: Vec<&LitStr> = Vec::new();
    for lit in alternatives.iter().flatten() {
        if !distinct.iter().any(|seen| seen.value() == lit.value()) {
            distinct.push(lit);
        }
    }
    let mut support: Vec<TokenStream> = distinct
        .iter()
        .map(|lit| {
            quote_spanned! {lit.span()=>
                const _: () = if !::secure_api::__private::scope_is_declared::<#scopes>(#lit) {
                    ::core::panic!("{}", <#scopes as ::secure_api::Scopes>::UNDECLARED_HELP)
                };
            }
        })
        .collect();

    // poem-openapi documents scopes through paths to values that implement
    // `OAuthScopes`; one constant per scope serves as that path.
    let mut scope_paths: Vec<Vec<LitStr>> = Vec::new();
    for (a, alternative) in alternatives.iter().enumerate() {
        let mut paths = Vec::new();
        for (s, lit) in alternative.iter().enumerate() {
            let name = format_ident!("__SECURE_API_SCOPE_{}_{}_{}", ident, a, s);
            support.push(quote! {
                #[allow(non_upper_case_globals)]
                const #name: ::secure_api::__private::ScopeName =
                    ::secure_api::__private::ScopeName(#lit);
            });
            paths.push(LitStr::new(&name.to_string(), Span::call_site()));
        }
        scope_paths.push(paths);
    }

    let alternative_lits = alternatives
        .iter()
        .map(|alternative| quote!(&[#(#alternative),*]));
    let policy_items = vec![quote! {
        const BEARER: ::core::option::Option<::secure_api::Requirement> =
            ::core::option::Option::Some(
                ::secure_api::Requirement::any_of(&[#(#alternative_lits),*]),
            );
    }];

    let mut paths = scope_paths.iter();
    let first_attr = oai_scopes(paths.next().map(Vec::as_slice).unwrap_or_default());
    // Spanned at the user's `scopes = ...` path: when that type is no `Scopes`, the
    // errors point there (and rustc merges the identical ones).
    let scopes_span = syn::spanned::Spanned::span(scopes);
    let authorized = quote_spanned!(scopes_span=> ::secure_api::Authorized<#scopes, #policy>);
    let alternative_ty =
        quote_spanned!(scopes_span=> ::secure_api::__private::AlternativeScopes<#scopes>);
    let mut params = vec![syn::parse_quote! {
        #first_attr
        __secure_api_guard: #authorized
    }];
    // Each further alternative is one more entry of the operation's `security`
    // (entries are alternatives in OpenAPI); these parameters only document.
    for (i, alternative) in paths.enumerate() {
        let name = format_ident!("__secure_api_alternative_{}", i + 1);
        let attr = oai_scopes(alternative);
        params.push(syn::parse_quote! {
            #attr
            #name: #alternative_ty
        });
    }

    let injected = operation
        .principal_params
        .iter()
        .map(|&index| {
            (
                index,
                quote!(::secure_api::Authorized::into_principal(__secure_api_guard)),
            )
        })
        .collect();

    Contribution {
        policy_items,
        support,
        params,
        injected,
    }
}

/// poem-openapi reads one `#[oai(...)]` per parameter, so all its scopes go in one.
fn oai_scopes(paths: &[LitStr]) -> TokenStream {
    if paths.is_empty() {
        return TokenStream::new();
    }
    quote!(#[oai(#(scope = #paths),*)])
}
