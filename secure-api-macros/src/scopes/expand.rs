//! The `Scopes` impl for a checked declaration.

use super::ast::ScopesInput;
use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn expand(input: &ScopesInput) -> TokenStream {
    let ident = input.ident;
    let names: Vec<_> = input.scopes.iter().map(|s| &s.name).collect();
    let descriptions: Vec<_> = input.scopes.iter().map(|s| &s.description).collect();
    let variants: Vec<_> = input.scopes.iter().map(|s| s.ident).collect();
    let declared = names
        .iter()
        .map(|n| format!("\"{}\"", n.value()))
        .collect::<Vec<_>>()
        .join(", ");
    let undeclared_help = format!(
        "this scope is not declared by `{ident}`, which declares: {declared}. \
         Fix the spelling, or add a variant with #[scope(\"name\", \"description\")] to `{ident}`"
    );
    let token_url = input
        .token_url
        .as_ref()
        .map(|url| quote!(const TOKEN_URL: &'static str = #url;));
    let scheme_name = input
        .scheme_name
        .as_ref()
        .map(|name| quote!(const SCHEME_NAME: &'static str = #name;));
    quote! {
        impl ::secure_api::Scopes for #ident {
            const ALL: &'static [::secure_api::ScopeInfo] = &[
                #(::secure_api::ScopeInfo { name: #names, description: #descriptions },)*
            ];
            const UNDECLARED_HELP: &'static str = #undeclared_help;
            #token_url
            #scheme_name

            fn name(&self) -> &'static str {
                match self {
                    #(Self::#variants => #names,)*
                }
            }

            fn from_name(name: &str) -> ::core::option::Option<Self> {
                match name {
                    #(#names => ::core::option::Option::Some(Self::#variants),)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    }
}
