//! The impl-level arguments of `#[secure_api(...)]` that belong to one feature each:
//! `api_keys = Scheme`, `version_prefix = "..."`, `version(N, ...)`.

use super::version::{self, VersionDecl};
use crate::ctxt::Ctxt;
use syn::{Expr, LitStr, Meta, MetaNameValue, Path};

#[derive(Default)]
pub(crate) struct FeatureArgs {
    /// The `ApiKeyScheme` of the impl's API-key operations.
    pub(crate) api_keys: Option<Path>,
    /// Where versioned operations are served, `/api/v{version}` by default.
    pub(crate) version_prefix: Option<LitStr>,
    /// The lifecycle of each declared version.
    pub(crate) versions: Vec<VersionDecl>,
}

impl FeatureArgs {
    /// Takes `meta` when it is one of ours; `false` leaves it to the caller.
    pub(crate) fn take(&mut self, meta: &Meta, cx: &mut Ctxt) -> bool {
        if meta.path().is_ident("version") {
            if let Some(decl) = version::parse_decl(meta, cx) {
                self.versions.push(decl);
                version::check_decls(&self.versions, cx);
            }
            return true;
        }
        if meta.path().is_ident("version_prefix") {
            match &self.version_prefix {
                Some(_) => {
                    cx.error_spanned_by(meta, "`version_prefix` is given twice; give it once")
                }
                None => self.version_prefix = version::parse_prefix(meta, cx),
            }
            return true;
        }
        if meta.path().is_ident("api_keys") {
            match meta {
                Meta::NameValue(MetaNameValue {
                    value: Expr::Path(path),
                    ..
                }) if self.api_keys.is_none() => self.api_keys = Some(path.path.clone()),
                Meta::NameValue(MetaNameValue {
                    value: Expr::Path(_),
                    ..
                }) => cx.error_spanned_by(meta, "`api_keys` is given twice; give it once"),
                _ => cx.error_spanned_by(
                    meta,
                    "expected `api_keys = YourScheme`, a type that implements \
                     `secure_api::apikey::ApiKeyScheme`",
                ),
            }
            return true;
        }
        false
    }

    /// The impl's API-key scheme: the one given, or the standard one.
    pub(crate) fn api_key_scheme(&self) -> Path {
        self.api_keys
            .clone()
            .unwrap_or_else(|| syn::parse_quote!(::secure_api::apikey::StandardApiKeys))
    }
}
