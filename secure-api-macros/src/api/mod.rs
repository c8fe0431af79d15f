//! `#[secure_api]`: the impl-level macro that rewrites guarded operations before
//! poem-openapi's `#[OpenApi]` sees them.
//!
//! poem-openapi fixes each operation's parameters and return type when `#[OpenApi]`
//! expands, so the guard (a parameter that runs first) and the documented 401/403
//! (a return-type wrapper) can only be added by a macro that runs before it: this one.

mod api_key;
mod ast;
mod attr;
mod client_cert;
mod expand;
mod feature_args;
mod method_parts;
mod valid;
mod version;

use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn expand_secure_api(args: TokenStream, item: TokenStream) -> TokenStream {
    // One context for the arguments and the impl: every mistake in one compile.
    let mut cx = Ctxt::default();
    let args = attr::ApiArgs::parse(args, &mut cx);
    let item_impl = match syn::parse2::<syn::ItemImpl>(item.clone()) {
        Ok(item_impl) => item_impl,
        Err(_) => {
            cx.error_spanned_by(
                &item,
                "#[secure_api] goes on an `impl` block of API operations, where \
                 poem-openapi's #[OpenApi] would go",
            );
            let errors = cx.check().err().unwrap_or_default();
            return with_item(errors, item);
        }
    };
    let api = ast::Api::from_impl(args, item_impl, &mut cx);
    valid::check(&api, &mut cx);
    if let Err(errors) = cx.check() {
        return with_item(errors, plain_impl(api.item));
    }
    expand::expand(api)
}

/// The impl as plain Rust, for when it has errors: its methods still exist, so code
/// that calls them (poem-openapi's, when #[OpenApi] expanded first) adds no errors
/// of its own, and its imports are still used.
fn plain_impl(mut item: syn::ItemImpl) -> TokenStream {
    item.attrs
        .retain(|attr| !ast::last_segment_is(attr, "OpenApi"));
    for impl_item in &mut item.items {
        let syn::ImplItem::Fn(method) = impl_item else {
            continue;
        };
        method.attrs.retain(|attr| !attr.path().is_ident("oai"));
        for arg in &mut method.sig.inputs {
            if let syn::FnArg::Typed(typed) = arg {
                typed.attrs.retain(|attr| !attr.path().is_ident("oai"));
            }
        }
    }
    quote!(#[allow(dead_code)] #item)
}

/// Reports a method attribute of ours that no `#[secure_api]` consumed: it was
/// written on an impl without `#[secure_api]`, or outside any impl.
pub(crate) fn misplaced_method_attribute(name: &str, item: TokenStream) -> TokenStream {
    // Only a bearer requirement needs the service's scopes on the impl.
    let impl_attribute = match name {
        "requires_scopes" => "#[secure_api(scopes = YourScopes)]",
        _ => "#[secure_api]",
    };
    let message = format!(
        "#[{name}] only works on an operation inside an impl marked {impl_attribute}; \
         put it on the impl, in place of poem-openapi's #[OpenApi]"
    );
    // An attribute macro's call site is the attribute itself: the error points there.
    let error = syn::Error::new(proc_macro2::Span::call_site(), message).to_compile_error();
    with_item(error, item)
}

/// Keeps the user's item next to the error so the rest of the crate still compiles
/// and the user sees only the error that matters.
fn with_item(error: TokenStream, item: TokenStream) -> TokenStream {
    quote!(#error #item)
}
