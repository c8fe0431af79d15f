//! Procedural macros of [`secure-api`](https://docs.rs/secure-api).
//!
//! Use them through `secure_api` (`use secure_api::prelude::*;`): every path they emit
//! is absolute (`::secure_api::...`), so a service depends on `secure-api` alone.
//! Each macro is three steps, each in its own file: `ast.rs`/`attr.rs` read the
//! user's item, `valid.rs` checks it and collects every error, `expand.rs` writes code.

#![deny(missing_docs)]

mod api;
mod component_name;
mod ctxt;
mod scope_token;
mod scopes;
mod validate;

use proc_macro::TokenStream;

/// Turns an `impl` block into a poem-openapi API whose operations enforce and document
/// their security. It sits where `#[OpenApi]` would and emits it.
///
/// Arguments: `scopes = YourScopes` (the enum that derives `Scopes`), then any
/// argument of poem-openapi's `#[OpenApi(...)]` (`prefix_path`, `tag`, ...).
/// See `secure_api` for the full guide.
#[proc_macro_attribute]
pub fn secure_api(args: TokenStream, item: TokenStream) -> TokenStream {
    api::expand_secure_api(args.into(), item.into()).into()
}

/// Requires scopes on one operation of a `#[secure_api]` impl:
/// `#[requires_scopes("a", "b")]` (all of them) or
/// `#[requires_scopes(any("a", "b"))]` (at least one).
///
/// On its own (outside `#[secure_api]`) it is a compile error that says where it belongs.
#[proc_macro_attribute]
pub fn requires_scopes(_args: TokenStream, item: TokenStream) -> TokenStream {
    api::misplaced_method_attribute("requires_scopes", item.into()).into()
}

/// Rate-limits one operation of a `#[secure_api]` impl:
/// `#[rate_limit(10, per = "60s")]`, with options `key = ip | subject | api_key |
/// path::to::fn`, `burst = N` and `name = "..."`, or `#[rate_limit(PATH)]` for a
/// `RateLimit` constant. Several stack: every one must admit the request.
///
/// On its own (outside `#[secure_api]`) it is a compile error that says where it belongs.
#[proc_macro_attribute]
pub fn rate_limit(_args: TokenStream, item: TokenStream) -> TokenStream {
    api::misplaced_method_attribute("rate_limit", item.into()).into()
}

/// Requires an API key on one operation of a `#[secure_api]` impl:
/// `#[requires_api_key]` (any known key) or `#[requires_api_key(scope = "read")]`
/// (a key with that scope). Where keys are read is the impl's
/// `#[secure_api(api_keys = YourScheme)]`, the standard locations by default.
///
/// On its own (outside `#[secure_api]`) it is a compile error that says where it belongs.
#[proc_macro_attribute]
pub fn requires_api_key(_args: TokenStream, item: TokenStream) -> TokenStream {
    api::misplaced_method_attribute("requires_api_key", item.into()).into()
}

/// Serves one operation of a `#[secure_api]` impl only over mutual TLS
/// (`secure_api::mtls::MtlsListener`): elsewhere it answers 403. A `ClientCert`
/// parameter does the same and hands the handler the verified certificate.
///
/// On its own (outside `#[secure_api]`) it is a compile error that says where it belongs.
#[proc_macro_attribute]
pub fn requires_client_cert(_args: TokenStream, item: TokenStream) -> TokenStream {
    api::misplaced_method_attribute("requires_client_cert", item.into()).into()
}

/// Serves one operation of a `#[secure_api]` impl under an API version:
/// `#[api_version(2)]` puts it under `/api/v2/...`, `#[api_version(1, 2)]` under both.
/// The impl declares each version's lifecycle (`version(1, deprecated = "...", sunset =
/// "...")`) and may change the prefix (`version_prefix = "/v{version}"`).
///
/// On its own (outside `#[secure_api]`) it is a compile error that says where it belongs.
#[proc_macro_attribute]
pub fn api_version(_args: TokenStream, item: TokenStream) -> TokenStream {
    api::misplaced_method_attribute("api_version", item.into()).into()
}

/// Declares a service's OAuth2 scopes, with descriptions, once.
///
/// ```text
/// #[derive(Scopes)]
/// #[scopes(token_url = "/token")]          // optional; "/token" by default
/// enum Scope {
///     #[scope("users:read", "Read user profiles")]
///     UsersRead,
/// }
/// ```
#[proc_macro_derive(Scopes, attributes(scope, scopes))]
pub fn derive_scopes(item: TokenStream) -> TokenStream {
    scopes::expand_derive(item.into()).into()
}

/// Derives a validated request model: `secure_api::validation::Validate` plus
/// poem-openapi's `Type`, `ParseFromJSON`, `ToJSON` and `IsObjectType`, with every
/// rule of `#[validate(...)]` checked at run time and written into the schema.
/// See `secure_api::validation` for the rules.
// `oai` is declared too, so a stray #[oai(...)] gets our message alone.
#[proc_macro_derive(Validate, attributes(validate, oai))]
pub fn derive_validate(item: TokenStream) -> TokenStream {
    validate::expand_derive(item.into()).into()
}
