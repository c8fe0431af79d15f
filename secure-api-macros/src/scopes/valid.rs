//! What makes a scope declaration wrong, each error at the tokens that cause it.

use super::ast::ScopesInput;
use crate::{ctxt::Ctxt, scope_token};
use std::collections::HashMap;

/// Reports to `cx`, after whatever `ast` reported.
pub(crate) fn check(input: &ScopesInput, cx: &mut Ctxt) {
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(input.generics, "a scope enum cannot be generic");
    }
    // Variants that `ast` refused are reported already: only an enum with none at
    // all is told to declare one.
    if input.scopes.is_empty() && !cx.has_errors() {
        cx.error_spanned_by(
            input.ident,
            "declare at least one scope: #[scope(\"users:read\", \"Read user profiles\")]",
        );
    }
    let mut seen = HashMap::new();
    for scope in &input.scopes {
        let name = scope.name.value();
        if let Some(reason) = scope_token::invalid_reason(&name) {
            cx.error_spanned_by(&scope.name, reason);
        }
        if scope.description.value().trim().is_empty() {
            cx.error_spanned_by(
                &scope.description,
                "describe what this scope allows; the description is shown in the docs' \
                 Authorize dialog",
            );
        }
        if let Some(first) = seen.insert(name.clone(), scope.ident) {
            cx.error_spanned_by(
                &scope.name,
                format!("scope `{name}` is already declared by `{first}`"),
            );
        }
    }
    if let Some(url) = &input.token_url
        && !url.value().starts_with('/')
        && !url.value().starts_with("https://")
    {
        cx.error_spanned_by(
            url,
            "the token URL is a path on this service (\"/token\") or an https:// URL",
        );
    }
    if let Some(name) = &input.scheme_name {
        let value = name.value();
        if value.is_empty()
            || !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            cx.error_spanned_by(
                name,
                "a security scheme name is made of ASCII letters, digits, `.`, `_` and `-`",
            );
        }
    }
}
