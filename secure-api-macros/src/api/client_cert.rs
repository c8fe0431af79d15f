//! `#[requires_client_cert]` and `ClientCert` parameters, as written on one method.

use crate::ctxt::Ctxt;
use syn::{Attribute, FnArg, ImplItemFn, Meta, Type};

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
        let (attrs, kept): (Vec<Attribute>, Vec<Attribute>) = std::mem::take(&mut method.attrs)
            .into_iter()
            .partition(|attr| {
                attr.path()
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "requires_client_cert")
            });
        method.attrs = kept;
        let has_param = method.sig.inputs.iter().any(|arg| match arg {
            FnArg::Typed(typed) => is_client_cert(&typed.ty),
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

/// `ClientCert`, `secure_api::mtls::ClientCert` or any path ending in it.
fn is_client_cert(ty: &Type) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "ClientCert" && s.arguments.is_none()),
        Type::Paren(inner) => is_client_cert(&inner.elem),
        Type::Group(inner) => is_client_cert(&inner.elem),
        _ => false,
    }
}
