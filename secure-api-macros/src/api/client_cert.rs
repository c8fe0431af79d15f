//! `#[requires_client_cert]` and `ClientCert` parameters, as written on one method.

use super::method_parts::{is_type_named, take_attrs};
use crate::ctxt::Ctxt;
use syn::{Attribute, FnArg, ImplItemFn, Meta};

/// What one method says about mutual TLS.
#[derive(Default)]
pub(crate) struct ClientCertUse {
    attrs: Vec<Attribute>,
    /// Whether a parameter's type is `ClientCert` (which poem extracts by itself).
    has_param: bool,
}

impl ClientCertUse {
    /// Removes `#[requires_client_cert]` from `method` and looks for a `ClientCert`
    /// parameter.
    pub(crate) fn take(method: &mut ImplItemFn) -> Self {
        let attrs = take_attrs(method, "requires_client_cert");
        let has_param = method.sig.inputs.iter().any(|arg| match arg {
            FnArg::Typed(typed) => is_type_named(&typed.ty, "ClientCert"),
            FnArg::Receiver(_) => false,
        });
        ClientCertUse { attrs, has_param }
    }

    pub(crate) fn is_used(&self) -> bool {
        !self.attrs.is_empty() || self.has_param
    }

    /// Where an error about the operation's mTLS requirement points: the attribute, or
    /// the method's name when only a parameter asks for it.
    pub(crate) fn written(&self, ident: &syn::Ident) -> proc_macro2::TokenStream {
        match self.attrs.first() {
            Some(attr) => quote::quote!(#attr),
            None => quote::quote!(#ident),
        }
    }

    /// Misuse on one method, reported at its tokens.
    pub(crate) fn check(&self, cx: &mut Ctxt) {
        for attr in &self.attrs {
            if !matches!(attr.meta, Meta::Path(_)) {
                cx.error_spanned_by(
                    attr,
                    "#[requires_client_cert] takes no arguments: the certificate must be \
                     signed by the CA the listener is configured with",
                );
            }
        }
        if let Some(extra) = self.attrs.get(1) {
            cx.error_spanned_by(
                extra,
                "#[requires_client_cert] is given twice; give it once",
            );
        }
    }
}
