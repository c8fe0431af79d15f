//! The rate-limit part of a guarded operation: its limits as the policy's `LIMITS`,
//! which the guard chain enforces and `Guarded` documents.

use super::{Contribution, OperationNames};
use crate::api::{
    ast::Operation,
    attr::{KeySpec, LimitSource, RateLimitSpec},
};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

pub(crate) fn contribution(operation: &Operation, names: &OperationNames) -> Contribution {
    if operation.rate_limits.is_empty() {
        return Contribution::default();
    }
    let mut unnamed = 0;
    let limits = operation.rate_limits.iter().map(|(_, spec)| {
        let default_name = match spec.name.is_none() && !is_constant(spec) {
            true => {
                unnamed += 1;
                // Limit names take the method's name (without `r#`).
                let method = syn::ext::IdentExt::unraw(&names.ident).to_string();
                Some(match unnamed {
                    1 => method,
                    n => format!("{method}-{n}"),
                })
            }
            false => None,
        };
        limit(spec, default_name)
    });
    Contribution {
        policy_items: vec![quote! {
            const LIMITS: &'static [::secure_api::ratelimit::RateLimit] = &[#(#limits),*];
        }],
        ..Contribution::default()
    }
}

fn is_constant(spec: &RateLimitSpec) -> bool {
    matches!(spec.source, LimitSource::Constant(_))
}

/// One `RateLimit` value. `default_name` is the name of a limit written without one,
/// whose budget is then its operation's own.
fn limit(spec: &RateLimitSpec, default_name: Option<String>) -> TokenStream {
    let count = match &spec.source {
        // A constant is checked by its type, at its path.
        LimitSource::Constant(path) => {
            return quote_spanned!(path.span()=> {
                const LIMIT: ::secure_api::ratelimit::RateLimit = #path;
                LIMIT
            });
        }
        LimitSource::Count(_, count) => *count as u32,
        LimitSource::Missing => unreachable!("checked: a limit has a count or a constant"),
    };
    let millis = spec.per.as_ref().map_or(0, |(_, _, millis)| *millis);
    let burst = match &spec.burst {
        Some((_, _, burst)) => {
            let burst = *burst as u32;
            quote!(.with_burst(#burst))
        }
        None => TokenStream::new(),
    };
    let key = match spec.key.as_ref().map(|(_, key)| key) {
        None | Some(KeySpec::Ip) => quote!(::secure_api::ratelimit::KeyKind::Ip),
        Some(KeySpec::Subject) => quote!(::secure_api::ratelimit::KeyKind::Subject),
        Some(KeySpec::ApiKey) => quote!(::secure_api::ratelimit::KeyKind::ApiKey),
        // Spanned at the path: a function of the wrong type is an error there.
        Some(KeySpec::Function(path)) => {
            quote_spanned!(path.span()=> ::secure_api::ratelimit::KeyKind::Custom(#path))
        }
    };
    let (name, budget) = match (&spec.name, default_name) {
        (Some((_, name)), _) => (quote!(#name), TokenStream::new()),
        (None, Some(name)) => {
            let owner = format!("::{}#{name}", spec.owner);
            (
                quote!(#name),
                quote!(.with_budget(::core::concat!(::core::module_path!(), #owner))),
            )
        }
        (None, None) => unreachable!("a limit without a name gets its operation's"),
    };
    quote! {
        ::secure_api::ratelimit::RateLimit::new(
            #name,
            ::secure_api::ratelimit::Quota::per(#count, ::core::time::Duration::from_millis(#millis))
                #burst,
        )
        .key(#key)
        #budget
    }
}
