//! Everything that makes a `#[secure_api]` impl wrong, each reported at the tokens
//! that cause it, all of them in one compile.

use super::ast::Api;
use crate::{ctxt::Ctxt, scope_token};
use proc_macro2::TokenStream;
use syn::FnArg;

/// More alternatives than this is a requirement nobody can read in the docs either.
const MAX_ALTERNATIVES: usize = 16;

pub(crate) fn check(api: &Api) -> Result<(), TokenStream> {
    let mut cx = Ctxt::default();
    if let Some(attr) = &api.stray_openapi {
        cx.error_spanned_by(
            attr,
            "remove #[OpenApi]: #[secure_api] emits it (pass its arguments to #[secure_api])",
        );
    }
    if api.item.trait_.is_some() {
        cx.error_spanned_by(
            &api.item.self_ty,
            "#[secure_api] goes on an inherent impl (`impl MyApi { ... }`), not a trait impl",
        );
    }
    for operation in &api.operations {
        let method = operation.method(&api.item);
        let ident = &method.sig.ident;
        if method.sig.asyncness.is_none() {
            cx.error_spanned_by(
                method.sig.fn_token,
                format!("operation `{ident}` must be an `async fn` to be guarded"),
            );
        }
        if !operation.has_oai {
            let what = match operation.requirements.first() {
                Some((attr, _)) => (quote::quote!(#attr), "#[requires_scopes]"),
                None if operation.api_key.is_used() => {
                    (operation.api_key.written(method), "#[requires_api_key]")
                }
                None if operation.principal_params.is_empty() => (
                    operation.client_cert.written(ident),
                    "#[requires_client_cert]",
                ),
                None => (quote::quote!(#ident), "a `Principal` parameter"),
            };
            cx.error_spanned_by(
                what.0,
                format!(
                    "{} only works on an API operation; add #[oai(path = \"...\", method = \"...\")] \
                     to `{ident}`",
                    what.1
                ),
            );
        }
        if let Some((extra, _)) = operation.requirements.get(1) {
            cx.error_spanned_by(
                extra,
                "#[requires_scopes] is given twice; list every scope in one attribute: \
                 #[requires_scopes(\"a\", \"b\")] for all of them, any(\"a\", \"b\") for one of them",
            );
        }
        for &index in operation.principal_params.iter().skip(1) {
            cx.error_spanned_by(
                &method.sig.inputs[index],
                "only one parameter can receive the `Principal`",
            );
        }
        operation.api_key.check(method, &mut cx);
        operation.client_cert.check(&mut cx);
        let needs_bearer =
            operation.requirement().is_some() || !operation.principal_params.is_empty();
        if needs_bearer && operation.api_key.is_used() {
            cx.error_spanned_by(
                operation.api_key.written(method),
                "an operation takes a bearer token or an API key, not both: remove \
                 #[requires_scopes] and the `Principal` parameter, or #[requires_api_key] \
                 and the `ApiKeyIdentity` parameter",
            );
        }
        if needs_bearer && api.args.scopes.is_none() {
            let target = match operation.requirements.first() {
                Some((attr, _)) => quote::quote!(#attr),
                None => {
                    let arg = &method.sig.inputs[operation.principal_params[0]];
                    quote::quote!(#arg)
                }
            };
            cx.error_spanned_by(
                target,
                "this operation needs a bearer token, so #[secure_api] needs to know the \
                 service's scopes: write #[secure_api(scopes = YourScopes)] on the impl",
            );
        }
        if let Some(FnArg::Receiver(receiver)) = method.sig.inputs.first()
            && (receiver.reference.is_none() || receiver.mutability.is_some())
        {
            cx.error_spanned_by(receiver, "an operation takes `&self`");
        }
        let Some(requirement) = operation.requirement() else {
            continue;
        };
        for (span, len) in requirement.lists() {
            if len == 0 {
                cx.error_spanned_by(
                    span,
                    "list at least one scope, e.g. #[requires_scopes(\"users:write\")]; \
                     an operation that only needs a valid token takes a `Principal` parameter",
                );
            }
        }
        let alternatives = requirement.alternatives();
        for lit in alternatives.iter().flatten() {
            if let Some(reason) = scope_token::invalid_reason(&lit.value()) {
                cx.error_spanned_by(lit, reason);
            }
        }
        if alternatives.len() > MAX_ALTERNATIVES {
            cx.syn_error(syn::Error::new(
                operation.requirements[0].0.pound_token.span,
                format!(
                    "this requirement expands to {} alternatives (at most {MAX_ALTERNATIVES}); \
                     declare a scope that stands for the combination instead",
                    alternatives.len()
                ),
            ));
        }
    }
    cx.check()
}
