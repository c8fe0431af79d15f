//! A typed view of the impl given to `#[secure_api]`: which operations are guarded,
//! by what, and which parameter receives the principal.

use super::api_key::ApiKeyUse;
use super::attr::{ApiArgs, ScopeExpr};
use super::client_cert::ClientCertUse;
use super::version::{VersionUse, expand_versions};
use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Attribute, FnArg, ImplItem, ImplItemFn, ItemImpl, Type};

pub(crate) struct Api {
    pub(crate) args: ApiArgs,
    pub(crate) item: ItemImpl,
    pub(crate) operations: Vec<Operation>,
    /// `#[OpenApi]` written on the impl as well, which would expand twice.
    pub(crate) stray_openapi: Option<Attribute>,
}

/// One method of the impl that carries an attribute of ours or asks for a `Principal`.
pub(crate) struct Operation {
    /// Index into `item.items`.
    pub(crate) index: usize,
    pub(crate) requirements: Vec<(Attribute, ScopeExpr)>,
    /// Indices (into `sig.inputs`) of parameters whose type is `Principal`.
    pub(crate) principal_params: Vec<usize>,
    pub(crate) has_oai: bool,
    /// `#[requires_api_key]` and `ApiKeyIdentity` parameters.
    pub(crate) api_key: ApiKeyUse,
    /// The API version it is served under (`#[api_version]`).
    pub(crate) version: Option<VersionUse>,
    /// `#[requires_client_cert]` or a `ClientCert` parameter.
    pub(crate) client_cert: ClientCertUse,
}

impl Operation {
    pub(crate) fn method<'a>(&self, item: &'a ItemImpl) -> &'a ImplItemFn {
        match &item.items[self.index] {
            ImplItem::Fn(method) => method,
            _ => unreachable!("operations index methods"),
        }
    }

    pub(crate) fn requirement(&self) -> Option<&ScopeExpr> {
        self.requirements.first().map(|(_, expr)| expr)
    }
}

impl Api {
    pub(crate) fn from_impl(args: ApiArgs, mut item: ItemImpl) -> Result<Self, TokenStream> {
        let mut cx = Ctxt::default();
        let stray_openapi = item
            .attrs
            .iter()
            .find(|attr| last_segment_is(attr, "OpenApi"))
            .cloned();
        let mut versions = expand_versions(
            &mut item,
            args.features.version_prefix.as_ref(),
            &args.features.versions,
            &mut cx,
        );
        let mut operations = Vec::new();
        for (index, impl_item) in item.items.iter_mut().enumerate() {
            let ImplItem::Fn(method) = impl_item else {
                continue;
            };
            let api_key = ApiKeyUse::take(method, &mut cx);
            let client_cert = ClientCertUse::take(method);
            let mut requirements = Vec::new();
            let mut kept = Vec::new();
            for attr in std::mem::take(&mut method.attrs) {
                if !last_segment_is(&attr, "requires_scopes") {
                    kept.push(attr);
                    continue;
                }
                let tokens = match &attr.meta {
                    syn::Meta::List(list) => list.tokens.clone(),
                    _ => TokenStream::new(),
                };
                match ScopeExpr::parse_requirement(tokens, attr.to_token_stream()) {
                    Ok(expr) => requirements.push((attr, expr)),
                    Err(error) => cx.syn_error(error),
                }
            }
            method.attrs = kept;
            let principal_params = method
                .sig
                .inputs
                .iter()
                .enumerate()
                .filter_map(|(i, arg)| match arg {
                    FnArg::Typed(typed) if is_principal(&typed.ty) => Some(i),
                    _ => None,
                })
                .collect::<Vec<_>>();
            let version = versions.remove(&index);
            if requirements.is_empty()
                && principal_params.is_empty()
                && !api_key.is_used()
                && version.is_none()
                && !client_cert.is_used()
            {
                continue;
            }
            let has_oai = method.attrs.iter().any(|attr| attr.path().is_ident("oai"));
            operations.push(Operation {
                index,
                requirements,
                principal_params,
                has_oai,
                api_key,
                version,
                client_cert,
            });
        }
        cx.check()?;
        Ok(Api {
            args,
            item,
            operations,
            stray_openapi,
        })
    }
}

fn last_segment_is(attr: &Attribute, name: &str) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == name)
}

/// The principal parameter is recognised by its type's name, as `Principal`,
/// `secure_api::Principal` or any path ending in it.
pub(crate) fn is_principal(ty: &Type) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Principal" && s.arguments.is_none()),
        Type::Paren(inner) => is_principal(&inner.elem),
        Type::Group(inner) => is_principal(&inner.elem),
        _ => false,
    }
}
