//! `#[requires_api_key]` and `ApiKeyIdentity` parameters, as written on one method.

use super::method_parts::{is_type_named, take_attrs};
use crate::{ctxt::Ctxt, scope_token};
use syn::{Attribute, FnArg, ImplItemFn, LitStr, Meta};

/// What one method says about API keys.
#[derive(Default)]
pub(crate) struct ApiKeyUse {
    /// Every `#[requires_api_key(...)]`, with its key scope.
    pub(crate) attrs: Vec<(Attribute, Option<LitStr>)>,
    /// Indices (into `sig.inputs`) of parameters whose type is `ApiKeyIdentity`.
    pub(crate) params: Vec<usize>,
}

impl ApiKeyUse {
    /// Removes `#[requires_api_key]` from `method` and finds its identity parameters.
    pub(crate) fn take(method: &mut ImplItemFn, cx: &mut Ctxt) -> Self {
        let mut found = ApiKeyUse::default();
        for attr in take_attrs(method, "requires_api_key") {
            let scope = parse_args(&attr, cx);
            found.attrs.push((attr, scope));
        }
        found.params = method
            .sig
            .inputs
            .iter()
            .enumerate()
            .filter_map(|(i, arg)| match arg {
                FnArg::Typed(typed) if is_type_named(&typed.ty, "ApiKeyIdentity") => Some(i),
                _ => None,
            })
            .collect();
        found
    }

    pub(crate) fn is_used(&self) -> bool {
        !self.attrs.is_empty() || !self.params.is_empty()
    }

    pub(crate) fn scope(&self) -> Option<&LitStr> {
        self.attrs.first().and_then(|(_, scope)| scope.as_ref())
    }

    /// Where an error about the operation's key requirement points.
    pub(crate) fn written(&self, method: &ImplItemFn) -> proc_macro2::TokenStream {
        match (self.attrs.first(), self.params.first()) {
            (Some((attr, _)), _) => quote::quote!(#attr),
            (None, Some(&index)) => {
                let arg = &method.sig.inputs[index];
                quote::quote!(#arg)
            }
            (None, None) => proc_macro2::TokenStream::new(),
        }
    }

    /// Misuse on one method, reported at its tokens.
    pub(crate) fn check(&self, method: &ImplItemFn, cx: &mut Ctxt) {
        if let Some((extra, _)) = self.attrs.get(1) {
            cx.error_spanned_by(
                extra,
                "#[requires_api_key] is given twice; give it once, with the key scope if \
                 one is needed: #[requires_api_key(scope = \"read\")]",
            );
        }
        for &index in self.params.iter().skip(1) {
            cx.error_spanned_by(
                &method.sig.inputs[index],
                "only one parameter can receive the `ApiKeyIdentity`",
            );
        }
    }
}

/// `#[requires_api_key]` or `#[requires_api_key(scope = "...")]`.
fn parse_args(attr: &Attribute, cx: &mut Ctxt) -> Option<LitStr> {
    let list = match &attr.meta {
        Meta::Path(_) => return None,
        Meta::List(list) => list,
        Meta::NameValue(_) => {
            cx.error_spanned_by(
                attr,
                "write #[requires_api_key], or #[requires_api_key(scope = \"read\")] for \
                 keys with a scope",
            );
            return None;
        }
    };
    let mut scope = None;
    let result = list.parse_nested_meta(|meta| {
        if !meta.path.is_ident("scope") {
            return Err(meta.error(
                "unknown argument; #[requires_api_key] takes only `scope = \"...\"`, the \
                 scope the key must have",
            ));
        }
        let lit: LitStr = meta.value()?.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "the key scope is a string, e.g. scope = \"read:write\"",
            )
        })?;
        if scope.is_some() {
            return Err(syn::Error::new(
                lit.span(),
                "`scope` is given twice; an operation requires one key scope",
            ));
        }
        if let Some(reason) = scope_token::invalid_reason(&lit.value()) {
            return Err(syn::Error::new(lit.span(), reason));
        }
        scope = Some(lit);
        Ok(())
    });
    if let Err(error) = result {
        cx.syn_error(error);
    }
    scope
}
