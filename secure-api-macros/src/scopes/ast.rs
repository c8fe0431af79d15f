//! A typed view of the enum given to `#[derive(Scopes)]`.

use crate::ctxt::Ctxt;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Token, punctuated::Punctuated};

pub(crate) struct ScopesInput<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) generics: &'a syn::Generics,
    pub(crate) token_url: Option<LitStr>,
    pub(crate) scheme_name: Option<LitStr>,
    pub(crate) scopes: Vec<ScopeVariant<'a>>,
}

pub(crate) struct ScopeVariant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) name: LitStr,
    pub(crate) description: LitStr,
}

impl<'a> ScopesInput<'a> {
    /// Errors go to `cx`; what could be read is returned for `valid` to check
    /// (`None` when the item is no enum at all).
    pub(crate) fn from_item(item: &'a DeriveInput, cx: &mut Ctxt) -> Option<Self> {
        let mut input = ScopesInput {
            ident: &item.ident,
            generics: &item.generics,
            token_url: None,
            scheme_name: None,
            scopes: Vec::new(),
        };
        for attr in item.attrs.iter().filter(|a| a.path().is_ident("scopes")) {
            let parsed = attr.parse_nested_meta(|meta| {
                let slot = if meta.path.is_ident("token_url") {
                    &mut input.token_url
                } else if meta.path.is_ident("scheme_name") {
                    &mut input.scheme_name
                } else {
                    return Err(meta.error(
                        "unknown option of #[scopes(...)]; expected `token_url = \"/token\"` \
                         or `scheme_name = \"OAuth2\"`",
                    ));
                };
                if slot.is_some() {
                    return Err(meta.error("this option is given twice"));
                }
                let value = meta.value()?;
                let lit = value.parse::<LitStr>().map_err(|error| {
                    let example = match meta.path.is_ident("token_url") {
                        true => "token_url = \"/token\"",
                        false => "scheme_name = \"OAuth2\"",
                    };
                    syn::Error::new(
                        error.span(),
                        format!("expected a string literal, e.g. `{example}`"),
                    )
                })?;
                *slot = Some(lit);
                Ok(())
            });
            if let Err(error) = parsed {
                cx.syn_error(error);
            }
        }
        let Data::Enum(data) = &item.data else {
            cx.error_spanned_by(
                &item.ident,
                "#[derive(Scopes)] works on an enum with one unit variant per scope, e.g.\n\
                 enum Scope { #[scope(\"users:read\", \"Read user profiles\")] UsersRead }",
            );
            return None;
        };
        for variant in &data.variants {
            if !matches!(variant.fields, Fields::Unit) {
                cx.error_spanned_by(
                    &variant.fields,
                    "a scope variant carries no data; write it as a unit variant",
                );
            }
            let mut found = variant.attrs.iter().filter(|a| a.path().is_ident("scope"));
            let Some(attr) = found.next() else {
                cx.error_spanned_by(
                    &variant.ident,
                    "this variant has no #[scope(\"name\", \"description\")]; every variant \
                     declares exactly one scope",
                );
                continue;
            };
            if let Some(extra) = found.next() {
                cx.error_spanned_by(
                    extra,
                    "a variant declares exactly one scope; declare another variant for this one",
                );
            }
            match attr.parse_args_with(Punctuated::<LitStr, Token![,]>::parse_terminated) {
                Ok(args) if args.len() == 2 => input.scopes.push(ScopeVariant {
                    ident: &variant.ident,
                    name: args[0].clone(),
                    description: args[1].clone(),
                }),
                Ok(_) | Err(_) => cx.error_spanned_by(
                    attr,
                    "expected #[scope(\"name\", \"description\")], two string literals, e.g. \
                     #[scope(\"users:read\", \"Read user profiles\")]",
                ),
            }
        }
        Some(input)
    }
}
