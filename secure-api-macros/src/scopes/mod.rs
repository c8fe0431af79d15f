//! `#[derive(Scopes)]`: a service's scope declaration.

mod ast;
mod expand;
mod valid;

use proc_macro2::TokenStream;

pub(crate) fn expand_derive(input: TokenStream) -> TokenStream {
    let item = match syn::parse2::<syn::DeriveInput>(input) {
        Ok(item) => item,
        Err(error) => return error.to_compile_error(),
    };
    let parsed = match ast::ScopesInput::from_item(&item) {
        Ok(parsed) => parsed,
        Err(errors) => return errors,
    };
    if let Err(errors) = valid::check(&parsed) {
        return errors;
    }
    expand::expand(&parsed)
}
