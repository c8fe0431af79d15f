//! `#[derive(Validate)]`: a request model whose rules, written once on its fields,
//! give run-time validation that reports every broken rule, the schema's keywords,
//! and compile errors for rules that cannot make sense.

mod ast;
mod attr;
mod expand;
mod rename;
mod valid;

use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;

pub(crate) fn expand_derive(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<syn::DeriveInput>(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    // One context for reading and checking: every mistake in one compile.
    let mut cx = Ctxt::default();
    let model = ast::Model::from_input(&input, &mut cx);
    if let Some(model) = &model {
        valid::check(model, &mut cx);
    }
    if let Err(errors) = cx.check() {
        return errors;
    }
    match model {
        Some(model) => expand::expand(&model),
        None => TokenStream::new(),
    }
}
