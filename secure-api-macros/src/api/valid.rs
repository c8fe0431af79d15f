//! Everything that makes a `#[secure_api]` impl wrong, each reported at the tokens
//! that cause it, all of them in one compile.

use super::{
    ast::{Api, Operation},
    attr::LimitSource,
};
use crate::{ctxt::Ctxt, scope_token};
use syn::{FnArg, ImplItem, Pat};

/// More alternatives than this is a requirement nobody can read in the docs either.
const MAX_ALTERNATIVES: usize = 16;

/// Reports to `cx`; the caller turns everything reported into one error stream.
pub(crate) fn check(api: &Api, cx: &mut Ctxt) {
    if let Some(attr) = &api.stray_openapi {
        cx.error_spanned_by(
            attr,
            "remove #[OpenApi]: #[secure_api] emits it (pass its arguments to #[secure_api])",
        );
    }
    if api.item.trait_.is_some() {
        cx.error_spanned_by(
            &api.item.self_ty,
            "#[secure_api] goes on an inherent impl (`impl MyApi { ... }`), not a trait impl",
        );
    }
    // Methods, but not one operation: the #[oai] attributes are missing, or
    // poem-openapi's #[OpenApi] sits above #[secure_api], expanded first and took them.
    let methods = api.item.items.iter().filter_map(|item| match item {
        ImplItem::Fn(method) => Some(method),
        _ => None,
    });
    let no_operation = methods.clone().next().is_some()
        && !methods
            .flat_map(|method| &method.attrs)
            .any(|attr| attr.path().is_ident("oai"));
    if no_operation && !api.operations.is_empty() {
        cx.error_spanned_by(
            &api.item.self_ty,
            "no method of this impl is an API operation: add #[oai(path = \"...\", method = \"...\")] \
             to each operation; if poem-openapi's #[OpenApi] is on this impl too, remove it \
             (#[secure_api] emits it)",
        );
    }
    for operation in &api.operations {
        let method = operation.method(&api.item);
        let ident = &method.sig.ident;
        if method.sig.asyncness.is_none() {
            cx.error_spanned_by(
                method.sig.fn_token,
                format!("operation `{ident}` must be an `async fn` to be guarded"),
            );
        }
        // Only our attributes make a method without #[oai] an `Operation` (a
        // `Principal` parameter alone leaves a helper method alone).
        let ours_on_helper = match (
            operation.requirements.first(),
            operation.rate_limits.first(),
        ) {
            (Some((attr, _)), _) => Some((quote::quote!(#attr), "#[requires_scopes]")),
            (None, Some((attr, _))) => Some((quote::quote!(#attr), "#[rate_limit]")),
            (None, None) if operation.api_key.is_used() => {
                Some((operation.api_key.written(method), "#[requires_api_key]"))
            }
            (None, None)
                if operation.client_cert.is_used() && operation.principal_params.is_empty() =>
            {
                Some((
                    operation.client_cert.written(ident),
                    "#[requires_client_cert]",
                ))
            }
            (None, None) => None,
        };
        if !operation.has_oai
            && !no_operation
            && let Some((attr, what)) = ours_on_helper
        {
            cx.error_spanned_by(
                attr,
                format!(
                    "{what} only works on an API operation; \
                     add #[oai(path = \"...\", method = \"...\")] to `{ident}`"
                ),
            );
        }
        if let Some((extra, _)) = operation.requirements.get(1) {
            cx.error_spanned_by(
                extra,
                "#[requires_scopes] is given twice; list every scope in one attribute: \
                 #[requires_scopes(\"a\", \"b\")] for all of them, any(\"a\", \"b\") for one of them",
            );
        }
        for &index in operation.principal_params.iter().skip(1) {
            cx.error_spanned_by(
                &method.sig.inputs[index],
                "only one parameter can receive the `Principal`",
            );
        }
        check_rate_limits(operation, cx);
        operation.api_key.check(method, cx);
        operation.client_cert.check(cx);
        let needs_token =
            !operation.requirements.is_empty() || !operation.principal_params.is_empty();
        if needs_token && operation.api_key.is_used() {
            cx.error_spanned_by(
                operation.api_key.written(method),
                "an operation takes a bearer token or an API key, not both: remove \
                 #[requires_scopes] and the `Principal` parameter, or #[requires_api_key] \
                 and the `ApiKeyIdentity` parameter",
            );
        }
        if api.args.scopes.is_none() && !api.args.scopes_reported && needs_token {
            let target = match operation.requirements.first() {
                Some((attr, _)) => quote::quote!(#attr),
                None => {
                    let arg = &method.sig.inputs[operation.principal_params[0]];
                    quote::quote!(#arg)
                }
            };
            cx.error_spanned_by(
                target,
                "this operation needs a bearer token, so #[secure_api] needs to know the \
                 service's scopes: write #[secure_api(scopes = YourScopes)] on the impl",
            );
        }
        match method.sig.inputs.first() {
            Some(FnArg::Receiver(receiver))
                if receiver.reference.is_some() && receiver.mutability.is_none() => {}
            Some(FnArg::Receiver(receiver)) => cx.error_spanned_by(
                receiver,
                "an operation takes `&self`: poem-openapi runs every request on one shared \
                 API value (keep mutable state behind a lock or an atomic)",
            ),
            // The expansion relies on this: the guard goes right after the receiver.
            _ => cx.syn_error(syn::Error::new(
                method.sig.paren_token.span.join(),
                format!("operation `{ident}` takes `&self` first: `async fn {ident}(&self, ...)`"),
            )),
        }
        // The generated operation names each parameter after its pattern, as
        // poem-openapi does; a pattern without one name would leak a generated name.
        for (position, arg) in method.sig.inputs.iter().enumerate() {
            let FnArg::Typed(typed) = arg else {
                continue;
            };
            let named = match &*typed.pat {
                Pat::Ident(_) => true,
                Pat::TupleStruct(tuple) => {
                    tuple.elems.len() == 1 && matches!(tuple.elems[0], Pat::Ident(_))
                }
                _ => false,
            };
            if !named && !operation.principal_params.contains(&position) {
                cx.error_spanned_by(
                    &typed.pat,
                    "poem-openapi names a parameter after its pattern: write \
                     `name: Query<String>` or `Query(name): Query<String>`",
                );
            }
        }
        let Some(requirement) = operation.requirement() else {
            continue;
        };
        for (written, len) in requirement.lists() {
            if len == 0 {
                cx.error_spanned_by(
                    written,
                    "list at least one scope, e.g. #[requires_scopes(\"users:write\")]; \
                     an operation that only needs a valid token takes a `Principal` parameter",
                );
            }
        }
        let alternatives = requirement.alternatives();
        for lit in alternatives.iter().flatten() {
            if let Some(reason) = scope_token::invalid_reason(&lit.value()) {
                cx.error_spanned_by(lit, reason);
            }
        }
        if alternatives.len() > MAX_ALTERNATIVES {
            cx.error_spanned_by(
                &operation.requirements[0].0,
                format!(
                    "this requirement expands to {} alternatives (at most {MAX_ALTERNATIVES}); \
                     declare a scope that stands for the combination instead",
                    alternatives.len()
                ),
            );
        }
    }
}

/// The values of every `#[rate_limit]` of an operation.
fn check_rate_limits(operation: &Operation, cx: &mut Ctxt) {
    let mut names: Vec<String> = Vec::new();
    for (_, spec) in &operation.rate_limits {
        match &spec.source {
            LimitSource::Missing => cx.error_spanned_by(
                &spec.written,
                "give a count and a period, as in #[rate_limit(10, per = \"60s\")], or a \
                 `RateLimit` constant, as in #[rate_limit(SEARCH)]",
            ),
            LimitSource::Count(lit, 0) => cx.error_spanned_by(
                lit,
                "a limit admits at least one request per period; to refuse every request, \
                 do not serve the operation",
            ),
            LimitSource::Count(lit, count) if *count > u64::from(u32::MAX) => {
                cx.error_spanned_by(lit, "a count is at most 4294967295")
            }
            LimitSource::Count(..) if spec.per.is_none() => cx.error_spanned_by(
                &spec.written,
                "give the period with `per`, as in #[rate_limit(10, per = \"60s\")]",
            ),
            LimitSource::Count(..) => {}
            LimitSource::Constant(path) => {
                let path = quote::quote!(#path).to_string().replace(' ', "");
                let options = [
                    spec.per.as_ref().map(|(ident, ..)| ident),
                    spec.key.as_ref().map(|(ident, _)| ident),
                    spec.burst.as_ref().map(|(ident, ..)| ident),
                    spec.name.as_ref().map(|(ident, _)| ident),
                ];
                for ident in options.into_iter().flatten() {
                    cx.error_spanned_by(
                        ident,
                        format!(
                            "`{ident}` belongs to the constant: `{path}` declares the whole \
                             limit; change it there, or write this limit out here"
                        ),
                    );
                }
            }
        }
        if let Some((_, lit, burst)) = &spec.burst {
            if *burst == 0 {
                cx.error_spanned_by(lit, "a burst admits at least one request");
            } else if *burst > u64::from(u32::MAX) {
                cx.error_spanned_by(lit, "a burst is at most 4294967295");
            }
        }
        if let Some((_, lit)) = &spec.name {
            let name = lit.value();
            let valid = (1..=64).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b));
            if !valid {
                cx.error_spanned_by(
                    lit,
                    "a limit's name is 1 to 64 letters, digits, `_`, `-`, `.` or `:` (it goes \
                     in the `RateLimit` headers and in store keys)",
                );
            } else if names.contains(&name) {
                cx.error_spanned_by(
                    lit,
                    format!(
                        "two limits of this operation are named \"{name}\": one name is one \
                         budget, so give each limit its own name"
                    ),
                );
            }
            names.push(name);
        }
    }
}
