//! The API-key part of a guarded operation: its requirement in the policy, the
//! `ApiKeyAuthorized` parameter (which documents the `apiKey` schemes) and the
//! `ApiKeyIdentity` it hands the handler.

use super::{Contribution, OperationNames};
use crate::api::ast::Operation;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

pub(crate) fn contribution(
    operation: &Operation,
    names: &OperationNames,
    scheme: &syn::Path,
) -> Contribution {
    if !operation.api_key.is_used() {
        return Contribution::default();
    }
    let policy = &names.policy;
    let requirement = match operation.api_key.scope() {
        Some(scope) => quote_spanned! {scheme.span()=>
            ::secure_api::apikey::ApiKeyRequirement::of::<#scheme>().scope(#scope)
        },
        None => quote_spanned! {scheme.span()=>
            ::secure_api::apikey::ApiKeyRequirement::of::<#scheme>()
        },
    };
    let policy_items = vec![quote! {
        const API_KEY: ::core::option::Option<::secure_api::apikey::ApiKeyRequirement> =
            ::core::option::Option::Some(#requirement);
    }];
    let params = vec![syn::parse_quote! {
        __secure_api_api_key: ::secure_api::guard::ApiKeyAuthorized<#scheme, #policy>
    }];
    let injected = operation
        .api_key
        .params
        .iter()
        .map(|&index| {
            (
                index,
                quote!(::secure_api::guard::ApiKeyAuthorized::into_identity(
                    __secure_api_api_key
                )),
            )
        })
        .collect();
    // Evaluated now, so a scheme that reads no location fails to compile here, at
    // `cargo check` already (the policy's own constant is only evaluated when used).
    let support = vec![quote_spanned! {scheme.span()=>
        const _: ::secure_api::apikey::ApiKeyRequirement = #requirement;
    }];
    Contribution {
        policy_items,
        support,
        params,
        injected,
    }
}
