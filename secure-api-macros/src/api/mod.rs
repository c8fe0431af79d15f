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

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn expand_secure_api(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = crate::ctxt::Ctxt::default();
    let args = attr::ApiArgs::parse(args, &mut cx);
    // Mistakes in the arguments are reported with those in the operations, in one
    // compile; the impl is not expanded.
    let args_errors = cx.check().err();
    let item_impl = match syn::parse2::<syn::ItemImpl>(item.clone()) {
        Ok(item_impl) => item_impl,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                "#[secure_api] goes on an `impl` block of API operations, where \
                 poem-openapi's #[OpenApi] would go",
            );
            return with_item(error.to_compile_error(), item);
        }
    };
    let api = match ast::Api::from_impl(args, item_impl) {
        Ok(api) => api,
        Err(errors) => return quote!(#args_errors #errors),
    };
    let valid_errors = valid::check(&api).err();
    if args_errors.is_some() || valid_errors.is_some() {
        return quote!(#args_errors #valid_errors);
    }
    expand::expand(api)
}

/// Reports a method attribute of ours that no `#[secure_api]` consumed: it was
/// written on an impl without `#[secure_api]`, or outside any impl.
pub(crate) fn misplaced_method_attribute(name: &str, item: TokenStream) -> TokenStream {
    let marker = match name {
        "requires_scopes" => "#[secure_api(scopes = YourScopes)]",
        _ => "#[secure_api]",
    };
    let message = format!(
        "#[{name}] only works on an operation inside an impl marked \
         {marker}; put #[secure_api(...)] on the impl, \
         in place of poem-openapi's #[OpenApi]"
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
