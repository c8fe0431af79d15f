//! `#[derive(Scopes)]`: a service's scope declaration.

mod ast;
mod expand;
mod valid;

use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;

pub(crate) fn expand_derive(input: TokenStream) -> TokenStream {
    let item = match syn::parse2::<syn::DeriveInput>(input) {
        Ok(item) => item,
        Err(error) => return error.to_compile_error(),
    };
    // One context for reading and checking: every mistake in one compile.
    let mut cx = Ctxt::default();
    let parsed = ast::ScopesInput::from_item(&item, &mut cx);
    if let Some(parsed) = &parsed {
        valid::check(parsed, &mut cx);
    }
    if let Err(errors) = cx.check() {
        return errors;
    }
    expand::expand(&parsed.expect("`ast` reports why it read nothing"))
}
