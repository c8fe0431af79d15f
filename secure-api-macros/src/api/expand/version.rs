//! The version part of an operation: its version and lifecycle in the policy (which
//! the chain turns into headers and 410), and the tag that groups it in the document.

use super::{Contribution, OperationNames};
use crate::api::{ast::Operation, version::tag_type};
use quote::quote;

pub(crate) fn contribution(operation: &Operation, names: &OperationNames) -> Contribution {
    let Some(version) = &operation.version else {
        return Contribution::default();
    };
    let number = version.version;
    let prefix = &version.prefix;
    let mut policy = quote!(::secure_api::version::VersionPolicy::new(#number, #prefix));
    if let Some(at) = version.deprecated_at {
        policy = quote!(#policy.deprecated_at(#at));
    }
    if let Some(at) = version.sunset_at {
        policy = quote!(#policy.sunset_at(#at));
    }
    if version.gone_after_sunset {
        policy = quote!(#policy.gone_after_sunset());
    }
    if let Some(successor) = &version.successor {
        policy = quote!(#policy.successor(#successor));
    }
    if let Some(url) = &version.policy {
        policy = quote!(#policy.policy(#url));
    }
    let policy_items = vec![quote! {
        const VERSION: ::core::option::Option<::secure_api::version::VersionPolicy> =
            ::core::option::Option::Some(#policy);
    }];

    // poem-openapi takes a tag as a path to a value implementing `Tags`.
    let tag_type = tag_type(&names.ident);
    let tag = &version.tag;
    let description = &version.tag_description;
    let support = vec![quote! {
        #[allow(non_camel_case_types)]
        #[doc(hidden)]
        pub struct #tag_type;
        impl poem_openapi::Tags for #tag_type {
            fn register(&self, registry: &mut poem_openapi::registry::Registry) {
                registry.create_tag(poem_openapi::registry::MetaTag {
                    name: #tag,
                    description: ::core::option::Option::Some(#description),
                    external_docs: ::core::option::Option::None,
                });
            }
            fn name(&self) -> &'static str {
                #tag
            }
        }
    }];
    Contribution {
        policy_items,
        support,
        params: Vec::new(),
        injected: Vec::new(),
    }
}
