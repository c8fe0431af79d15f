//! Code generation for a checked `#[secure_api]` impl.
//!
//! A guarded operation `op` gets:
//! - a policy type `__SecureApiPolicy_op` implementing `OperationPolicy`, whose items
//!   each feature contributes (see [`Contribution`]);
//! - a `transform` that wraps its endpoint in a `GuardChain` of that policy, so the
//!   guards run before poem-openapi extracts any parameter;
//! - two methods: `__secure_api_op`, the user's method unchanged but for its
//!   attributes, in a plain impl block (its body keeps its own `return`, `?` and
//!   patterns), and `op`, the operation poem-openapi sees: the features' parameters
//!   first, then the user's own, returning `Guarded<R, Policy>`, which documents every
//!   answer the guards can give.
//!
//! Everything sits in an anonymous `const _: () = { ... };` that imports
//! `poem_openapi` from `secure_api`, so the user's crate needs no other dependency.

mod api_key;
mod bearer;
mod body;
mod client_cert;
mod rate_limit;
mod version;

use super::ast::{Api, Operation};
use super::feature_args::FeatureArgs;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::{FnArg, ImplItem, ImplItemFn, Pat, PatIdent, ReturnType, Visibility};

/// What one feature adds to a guarded operation.
#[derive(Default)]
pub(crate) struct Contribution {
    /// Items of the operation's `impl OperationPolicy`.
    pub(crate) policy_items: Vec<TokenStream>,
    /// Items beside it: compile-time checks, constants.
    pub(crate) support: Vec<TokenStream>,
    /// Parameters that go first in the operation, before the user's own.
    pub(crate) params: Vec<FnArg>,
    /// Values for the user's special parameters: (index in `sig.inputs`, expression).
    pub(crate) injected: Vec<(usize, TokenStream)>,
}

/// Names shared by every feature's code for one operation.
pub(crate) struct OperationNames {
    pub(crate) ident: syn::Ident,
    pub(crate) policy: syn::Ident,
}

pub(crate) fn expand(mut api: Api) -> TokenStream {
    let scopes = api.args.scopes.clone();
    let features = &api.args.features;
    let passthrough = &api.args.passthrough;
    let mut support = Vec::new();
    let mut inner_methods = Vec::new();

    for operation in &api.operations {
        let method = operation.method(&api.item).clone();
        let generated = expand_operation(operation, method, scopes.as_ref(), features);
        support.push(generated.support);
        inner_methods.push(generated.inner);
        api.item.items[operation.index] = ImplItem::Fn(generated.outer);
    }

    // When `scopes = ...` names a type that is no `Scopes`, the first error says so
    // at that path (the signatures that use it fail after it).
    let scopes_check = scopes.as_ref().map(|scopes| {
        quote_spanned! {syn::spanned::Spanned::span(scopes)=>
            const _: ::core::option::Option<::secure_api::Authorized<#scopes>> =
                ::core::option::Option::None;
        }
    });
    let (impl_generics, _, where_clause) = api.item.generics.split_for_impl();
    let self_ty = &api.item.self_ty;
    let item = &api.item;
    quote! {
        const _: () = {
            use ::secure_api::__private::poem_openapi;

            #scopes_check
            #(#support)*

            impl #impl_generics #self_ty #where_clause {
                #(#inner_methods)*
            }

            #[poem_openapi::OpenApi(#(#passthrough),*)]
            #item
        };
    }
}

struct GeneratedOperation {
    /// Requirement type, compile-time scope checks, scope names for the document.
    support: TokenStream,
    inner: ImplItemFn,
    outer: ImplItemFn,
}

fn expand_operation(
    operation: &Operation,
    method: ImplItemFn,
    scopes: Option<&syn::Path>,
    features: &FeatureArgs,
) -> GeneratedOperation {
    let ident = method.sig.ident.clone();
    let inner_ident = format_ident!("__secure_api_{}", ident);
    let transform_ident = format_ident!("__secure_api_guards_{}", ident);
    let names = OperationNames {
        policy: format_ident!("__SecureApiPolicy_{}", ident),
        ident,
    };
    let policy = &names.policy;

    // Each feature's part, in guard order.
    let mut parts = vec![client_cert::contribution(operation)];
    if let Some(scopes) = scopes {
        parts.push(bearer::contribution(operation, &names, scopes));
    }
    parts.push(api_key::contribution(
        operation,
        &names,
        &features.api_key_scheme(),
    ));
    parts.push(version::contribution(operation, &names));
    parts.push(rate_limit::contribution(operation, &names));
    parts.push(body::contribution(operation));
    parts.push(declared_path(operation));
    let policy_items = parts.iter().flat_map(|part| &part.policy_items);
    let part_support = parts.iter().flat_map(|part| &part.support);

    let users_transform = user_transform(&method);
    let guarded_endpoint = match &users_transform {
        Some(user) => quote!(#user(endpoint)),
        None => quote!(endpoint),
    };
    let support = quote! {
        #[allow(non_camel_case_types)]
        #[doc(hidden)]
        pub struct #policy;
        impl ::secure_api::guard::OperationPolicy for #policy {
            #(#policy_items)*
        }
        /// The guards run around the operation's endpoint, before poem-openapi
        /// extracts any parameter.
        fn #transform_ident<E: ::secure_api::poem::Endpoint>(
            endpoint: E,
        ) -> impl ::secure_api::poem::Endpoint {
            ::secure_api::guard::GuardChain::<_, #policy>::new(#guarded_endpoint)
        }
        #(#part_support)*
    };

    // The user's method, renamed, without poem-openapi's attributes.
    let mut inner = method.clone();
    inner.sig.ident = inner_ident.clone();
    inner.vis = Visibility::Inherited;
    inner
        .attrs
        .retain(|attr| !attr.path().is_ident("oai") && !attr.path().is_ident("doc"));
    inner.attrs.push(syn::parse_quote!(#[doc(hidden)]));
    for arg in inner.sig.inputs.iter_mut() {
        if let FnArg::Typed(typed) = arg {
            typed.attrs.clear();
        }
    }

    // The operation poem-openapi sees.
    let mut outer = method;
    set_transform(&mut outer, &transform_ident);
    let mut inputs = outer.sig.inputs.clone().into_iter();
    let receiver = inputs.next().expect("checked: operations take &self");
    let mut new_inputs: Vec<FnArg> = vec![receiver];
    let mut call_args = Vec::new();

    new_inputs.extend(parts.iter().flat_map(|part| part.params.iter().cloned()));
    let injected: Vec<&(usize, TokenStream)> =
        parts.iter().flat_map(|part| &part.injected).collect();

    for (position, arg) in inputs.enumerate() {
        let FnArg::Typed(mut typed) = arg else {
            continue;
        };
        if let Some((_, value)) = injected.iter().find(|(index, _)| *index == position + 1) {
            call_args.push(value.clone());
            continue;
        }
        // poem-openapi names a parameter after its identifier (or the one inside
        // `Query(name)`), so the operation keeps that name and hands the whole value on.
        let name = match &*typed.pat {
            Pat::Ident(pat) => pat.ident.clone(),
            Pat::TupleStruct(tuple) if tuple.elems.len() == 1 => match &tuple.elems[0] {
                Pat::Ident(pat) => pat.ident.clone(),
                _ => format_ident!("__secure_api_arg_{}", position),
            },
            _ => format_ident!("__secure_api_arg_{}", position),
        };
        typed.pat = Box::new(Pat::Ident(PatIdent {
            attrs: Vec::new(),
            by_ref: None,
            mutability: None,
            ident: name.clone(),
            subpat: None,
        }));
        call_args.push(quote!(#name));
        new_inputs.push(FnArg::Typed(typed));
    }
    outer.sig.inputs = new_inputs.into_iter().collect();
    let return_ty = match &outer.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    outer.sig.output = syn::parse_quote!(-> ::secure_api::__private::Guarded<#return_ty, #policy>);
    outer.block = syn::parse_quote!({
        ::secure_api::__private::Guarded::new(self.#inner_ident(#(#call_args),*).await)
    });

    GeneratedOperation {
        support,
        inner,
        outer,
    }
}

/// The `transform = f` of the operation's own `#[oai(...)]`, which the guards wrap.
fn user_transform(method: &ImplItemFn) -> Option<syn::Ident> {
    super::method_parts::oai_value(method, "transform")
}

/// Points the operation's `transform` at the generated guard function (which calls
/// the user's own transform inside, if any).
fn set_transform(method: &mut ImplItemFn, transform: &syn::Ident) {
    for attr in method
        .attrs
        .iter_mut()
        .filter(|attr| attr.path().is_ident("oai"))
    {
        let syn::Meta::List(list) = &mut attr.meta else {
            continue;
        };
        let metas = list
            .parse_args_with(
                syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
            )
            .unwrap_or_default();
        if !metas.iter().any(|meta| meta.path().is_ident("path")) {
            continue;
        }
        let kept = metas
            .into_iter()
            .filter(|meta| !meta.path().is_ident("transform"));
        list.tokens = quote!(#(#kept,)* transform = #transform);
        return;
    }
}

/// The path as written, for the document (see `OperationPolicy::DECLARED_PATH`).
fn declared_path(operation: &Operation) -> Contribution {
    let mut part = Contribution::default();
    if let Some(path) = &operation.declared_path {
        part.policy_items.push(quote! {
            const DECLARED_PATH: ::core::option::Option<&'static str> =
                ::core::option::Option::Some(#path);
        });
    }
    part
}
