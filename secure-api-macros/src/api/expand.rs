//! Code generation for a checked `#[secure_api]` impl.
//!
//! A guarded operation `op` becomes two methods:
//! - `__secure_api_op`, the user's method unchanged but for its attributes, in a plain
//!   impl block, so its body keeps its own `return`, `?` and patterns;
//! - `op`, the operation poem-openapi sees: an `Authorized<Scopes, Requirement>`
//!   parameter first (parameters are extracted in order, so the guard runs before any
//!   other parameter, the body included), and `Guarded<R>` as the return type, which
//!   documents 401/403.
//!
//! Everything sits in an anonymous `const _: () = { ... };` that imports
//! `poem_openapi` from `secure_api`, so the user's crate needs no other dependency.

use super::ast::{Api, Operation};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{FnArg, ImplItem, ImplItemFn, LitStr, Pat, PatIdent, ReturnType, Visibility};

pub(crate) fn expand(mut api: Api) -> TokenStream {
    let scopes = api.args.scopes.clone();
    let passthrough = &api.args.passthrough;
    let mut support = Vec::new();
    let mut inner_methods = Vec::new();

    for operation in &api.operations {
        let method = operation.method(&api.item).clone();
        let scopes = scopes
            .as_ref()
            .expect("checked: guarded operations have scopes");
        let generated = expand_operation(operation, method, scopes);
        support.push(generated.support);
        inner_methods.push(generated.inner);
        api.item.items[operation.index] = ImplItem::Fn(generated.outer);
    }

    let (impl_generics, _, where_clause) = api.item.generics.split_for_impl();
    let self_ty = &api.item.self_ty;
    let item = &api.item;
    quote! {
        const _: () = {
            use ::secure_api::__private::poem_openapi;

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
    scopes: &syn::Path,
) -> GeneratedOperation {
    let ident = &method.sig.ident;
    let inner_ident = format_ident!("__secure_api_{}", ident);
    let requirement_ty = format_ident!("__SecureApiPolicy_{}", ident);
    let transform_ident = format_ident!("__secure_api_guards_{}", ident);
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
    let declared_checks = distinct.iter().map(|lit| {
        quote_spanned! {lit.span()=>
            const _: () = if !::secure_api::__private::scope_is_declared::<#scopes>(#lit) {
                ::core::panic!("{}", <#scopes as ::secure_api::Scopes>::UNDECLARED_HELP)
            };
        }
    });

    // poem-openapi documents scopes through paths to values that implement
    // `OAuthScopes`; one constant per scope serves as that path.
    let mut scope_consts = Vec::new();
    let mut scope_paths: Vec<Vec<LitStr>> = Vec::new();
    for (a, alternative) in alternatives.iter().enumerate() {
        let mut paths = Vec::new();
        for (s, lit) in alternative.iter().enumerate() {
            let name = format_ident!("__SECURE_API_SCOPE_{}_{}_{}", ident, a, s);
            scope_consts.push(quote! {
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
    let users_transform = user_transform(&method);
    let guarded_endpoint = match &users_transform {
        Some(user) => quote!(#user(endpoint)),
        None => quote!(endpoint),
    };
    let support = quote! {
        #[allow(non_camel_case_types)]
        #[doc(hidden)]
        pub struct #requirement_ty;
        impl ::secure_api::guard::OperationPolicy for #requirement_ty {
            const BEARER: ::core::option::Option<::secure_api::Requirement> =
                ::core::option::Option::Some(
                    ::secure_api::Requirement::any_of(&[#(#alternative_lits),*]),
                );
        }
        /// The guards run around the operation's endpoint, before poem-openapi
        /// extracts any parameter.
        fn #transform_ident<E: ::secure_api::poem::Endpoint>(
            endpoint: E,
        ) -> impl ::secure_api::poem::Endpoint {
            ::secure_api::guard::GuardChain::<_, #requirement_ty>::new(#guarded_endpoint)
        }
        #(#declared_checks)*
        #(#scope_consts)*
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

    let mut guard_paths = scope_paths.iter();
    let first_paths = guard_paths.next().cloned().unwrap_or_default();
    let first_attr = oai_scopes(&first_paths);
    new_inputs.push(syn::parse_quote! {
        #first_attr
        __secure_api_guard: ::secure_api::Authorized<#scopes, #requirement_ty>
    });
    // Each further alternative is one more entry of the operation's `security`
    // (entries are alternatives in OpenAPI); these parameters only document.
    for (i, paths) in guard_paths.enumerate() {
        let name = format_ident!("__secure_api_alternative_{}", i + 1);
        let attr = oai_scopes(paths);
        new_inputs.push(syn::parse_quote! {
            #attr
            #name: ::secure_api::__private::AlternativeScopes<#scopes>
        });
    }

    for (position, arg) in inputs.enumerate() {
        let FnArg::Typed(mut typed) = arg else {
            continue;
        };
        if operation.principal_params.contains(&(position + 1)) {
            call_args.push(quote!(::secure_api::Authorized::into_principal(
                __secure_api_guard
            )));
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
    outer.sig.output =
        syn::parse_quote!(-> ::secure_api::__private::Guarded<#return_ty, #requirement_ty>);
    outer.block = syn::parse_quote!({
        ::secure_api::__private::Guarded::new(self.#inner_ident(#(#call_args),*).await)
    });

    GeneratedOperation {
        support,
        inner,
        outer,
    }
}

/// poem-openapi reads one `#[oai(...)]` per parameter, so all its scopes go in one.
fn oai_scopes(paths: &[LitStr]) -> TokenStream {
    if paths.is_empty() {
        return TokenStream::new();
    }
    quote!(#[oai(#(scope = #paths),*)])
}

/// The `transform = f` of the operation's own `#[oai(...)]`, which the guards wrap.
fn user_transform(method: &ImplItemFn) -> Option<syn::Ident> {
    let mut found = None;
    for attr in method
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("oai"))
    {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("transform") {
                found = meta.value()?.parse::<syn::Ident>().ok();
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _skip;
                syn::parenthesized!(_skip in meta.input);
            }
            Ok(())
        });
    }
    found
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
