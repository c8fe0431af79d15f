//! A typed view of the impl given to `#[secure_api]`: which operations are guarded,
//! by what, and which parameter receives the principal.

use super::api_key::ApiKeyUse;
use super::attr::{ApiArgs, RateLimitSpec, ScopeExpr};
use super::client_cert::ClientCertUse;
use super::method_parts::path_spelt_with_trailing_slash;
use super::version::{VersionUse, expand_versions};
use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{
    Attribute, FnArg, ImplItem, ImplItemConst, ImplItemFn, ImplItemMacro, ImplItemType, ItemImpl,
    Type,
};

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
    /// A parameter is a `ValidJson<_>` body, whose answers (400/413/415/422) the
    /// operation documents.
    pub(crate) validated_body: bool,
    /// Every `#[rate_limit]`, in the order written.
    pub(crate) rate_limits: Vec<(Attribute, RateLimitSpec)>,
    /// `#[requires_api_key]` and `ApiKeyIdentity` parameters.
    pub(crate) api_key: ApiKeyUse,
    /// The path as written in `#[oai]` when it ends with a slash, which poem-openapi
    /// drops from the document.
    pub(crate) declared_path: Option<String>,
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
    /// Errors go to `cx`; what could be read is returned for `valid` to check.
    pub(crate) fn from_impl(args: ApiArgs, mut item: ItemImpl, cx: &mut Ctxt) -> Self {
        let stray_openapi = item
            .attrs
            .iter()
            .find(|attr| last_segment_is(attr, "OpenApi"))
            .cloned();
        let mut versions = expand_versions(
            &mut item,
            args.features.version_prefix.as_ref(),
            &args.features.versions,
            cx,
        );
        let mut operations = Vec::new();
        let self_name = item.self_ty.to_token_stream().to_string().replace(' ', "");
        for (index, impl_item) in item.items.iter_mut().enumerate() {
            let method = match impl_item {
                ImplItem::Fn(method) => method,
                ImplItem::Const(ImplItemConst { attrs, .. })
                | ImplItem::Type(ImplItemType { attrs, .. })
                | ImplItem::Macro(ImplItemMacro { attrs, .. }) => {
                    for attr in attrs
                        .iter()
                        .filter(|a| last_segment_is(a, "requires_scopes"))
                    {
                        cx.error_spanned_by(
                            attr,
                            "#[requires_scopes] goes on an operation: an `async fn` with \
                             #[oai(path = \"...\", method = \"...\")]",
                        );
                    }
                    attrs.retain(|attr| !last_segment_is(attr, "requires_scopes"));
                    continue;
                }
                _ => continue,
            };
            let api_key = ApiKeyUse::take(method, cx);
            let client_cert = ClientCertUse::take(method);
            let mut requirements = Vec::new();
            let mut rate_limits = Vec::new();
            let mut kept = Vec::new();
            for attr in std::mem::take(&mut method.attrs) {
                if last_segment_is(&attr, "rate_limit") {
                    let owner = format!("{self_name}::{}", method.sig.ident);
                    if let Some(spec) = rate_limit(&attr, owner, cx) {
                        rate_limits.push((attr, spec));
                    }
                    continue;
                }
                if !last_segment_is(&attr, "requires_scopes") {
                    kept.push(attr);
                    continue;
                }
                let tokens = match &attr.meta {
                    syn::Meta::List(list) => list.tokens.clone(),
                    syn::Meta::NameValue(name_value) => {
                        cx.error_spanned_by(
                            name_value,
                            "write the scopes in parentheses: #[requires_scopes(\"users:write\")]",
                        );
                        continue;
                    }
                    syn::Meta::Path(_) => TokenStream::new(),
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
            let has_oai = method.attrs.iter().any(|attr| attr.path().is_ident("oai"));
            // A method without `#[oai]` is no operation but a helper (poem-openapi
            // leaves those alone): a `Principal` parameter there is an ordinary value.
            let validated_body = has_oai
                && method.sig.inputs.iter().any(|arg| match arg {
                    FnArg::Typed(typed) => is_valid_json(&typed.ty),
                    FnArg::Receiver(_) => false,
                });
            let version = versions.remove(&index);
            let declared_path = path_spelt_with_trailing_slash(method);
            if requirements.is_empty()
                && rate_limits.is_empty()
                && (principal_params.is_empty() || !has_oai)
                && !validated_body
                && !api_key.is_used()
                && version.is_none()
                && !client_cert.is_used()
                && declared_path.is_none()
            {
                continue;
            }
            operations.push(Operation {
                index,
                requirements,
                principal_params,
                has_oai,
                validated_body,
                rate_limits,
                api_key,
                version,
                declared_path,
                client_cert,
            });
        }
        Api {
            args,
            item,
            operations,
            stray_openapi,
        }
    }
}

/// One `#[rate_limit(...)]`, or `None` when it could not be read (reported to `cx`).
fn rate_limit(attr: &Attribute, owner: String, cx: &mut Ctxt) -> Option<RateLimitSpec> {
    let tokens = match &attr.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        syn::Meta::Path(_) => TokenStream::new(),
        syn::Meta::NameValue(name_value) => {
            cx.error_spanned_by(
                name_value,
                "write the limit in parentheses: #[rate_limit(10, per = \"60s\")]",
            );
            return None;
        }
    };
    RateLimitSpec::parse(tokens, attr.to_token_stream(), owner, cx)
}

pub(crate) fn last_segment_is(attr: &Attribute, name: &str) -> bool {
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

/// A validated body is recognised by its type's name, `ValidJson<_>` or any path
/// ending in it.
pub(crate) fn is_valid_json(ty: &Type) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "ValidJson"),
        Type::Paren(inner) => is_valid_json(&inner.elem),
        Type::Group(inner) => is_valid_json(&inner.elem),
        _ => false,
    }
}
