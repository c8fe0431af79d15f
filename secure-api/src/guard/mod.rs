//! Guards: the checks that run before a handler, each a type you can name and use
//! without any macro.
//!
//! # Order of checks
//!
//! An operation's guards run before any of its other parameters are extracted, so
//! before the request body is read or parsed: an unauthenticated or unauthorized
//! caller gets its 401/403 (never a 422 for a bad body) and costs no body parsing.
//! The order is fixed:
//!
//! 1. host (trusted hosts: [`App`](crate::App) checks it once for every request,
//!    routed or not, before anything else),
//! 2. limits keyed by client IP,
//! 3. authentication (the client certificate of an mTLS-only operation; the bearer
//!    token, its subject still known and enabled; the API key, known to the store),
//! 4. scopes,
//! 5. limits keyed by the principal,
//! 6. the body, then the handler; security headers on the way out.
//!
//! An operation of an API version past its sunset (with `gone_after_sunset`) answers
//! 410 right after the host check; every answer of a deprecated version, refusals
//! included, carries its lifecycle headers ([`crate::version`]).
//!
//! # Without the macros
//!
//! `#[secure_api]` wraps each guarded operation in a [`GuardChain`], which runs the
//! checks above in order, and hands the result to the operation through an
//! [`Authorized`] parameter, which also documents the security scheme. By hand, an
//! [`Authorized`] parameter alone does the bearer check itself: put it first among
//! the operation's parameters, name the requirement as a type, and return
//! [`Guarded`] to document 401/403:
//!
//! ```
//! use secure_api::{Authorized, Guarded, Requirement, ScopeName, Scopes, guard::OperationPolicy};
//! use secure_api::poem_openapi::{self, payload::PlainText};
//!
//! #[derive(Scopes)]
//! enum Scope { #[scope("users:write", "Create users")] UsersWrite }
//!
//! struct CanWriteUsers;
//! impl OperationPolicy for CanWriteUsers {
//!     const BEARER: Option<Requirement> = Some(Requirement::all_of(&["users:write"]));
//! }
//!
//! struct Api;
//!
//! #[poem_openapi::OpenApi]
//! impl Api {
//!     #[oai(path = "/users", method = "post")]
//!     async fn create(
//!         &self,
//!         #[oai(scope = "USERS_WRITE")] auth: Authorized<Scope, CanWriteUsers>,
//!         body: PlainText<String>,
//!     ) -> Guarded<PlainText<String>, CanWriteUsers> {
//!         Guarded::new(PlainText(format!("{} created {}", auth.principal().subject(), body.0)))
//!     }
//! }
//! // poem-openapi documents a scope through a path to a value: this constant.
//! const USERS_WRITE: ScopeName = ScopeName("users:write");
//! ```
//!
//! Outside poem-openapi, [`Authenticator::authenticate`] does the same for any poem
//! handler.

mod api_key;
mod bearer;
mod chain;
mod rate_limit;

pub use crate::response::Guarded;
pub(crate) use api_key::documented_refusals as documented_api_key_refusals;
pub use api_key::{ApiKeyAuthorized, ApiKeyRejection};
pub(crate) use bearer::register_scheme;
pub use bearer::{AuthRejection, Authenticator, Authorized};
pub(crate) use chain::requires_scopes;
pub use chain::{AnyValidToken, GuardChain, OperationPolicy};

/// One log line per refused request, alike for every guard: the reason is for the
/// server's log only, and the credential itself is never written.
pub(crate) fn log_refusal(
    request: &poem::Request,
    guard: &'static str,
    reason: &dyn std::fmt::Display,
) {
    tracing::info!(
        method = %request.method(),
        path = %request.uri().path(),
        %reason,
        "{guard} refused"
    );
}
