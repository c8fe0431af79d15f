//! # secure-api
//!
//! Declarative API security for [poem-openapi]: one attribute enforces a scope *and*
//! documents it; a misspelt scope fails to compile; 401 and 403 answer exactly as
//! RFC 6750 says and appear in the OpenAPI document without a line of yours; every
//! guard runs before the request body is read.
//!
//! ```
//! use secure_api::prelude::*;
//! use secure_api::poem_openapi::{payload::Json, Object};
//!
//! #[derive(Scopes)]
//! enum Scope {
//!     #[scope("users:read", "Read user profiles")]
//!     UsersRead,
//!     #[scope("users:write", "Create and edit users")]
//!     UsersWrite,
//! }
//!
//! struct UsersApi;
//!
//! #[secure_api(scopes = Scope)]
//! impl UsersApi {
//!     /// Who am I
//!     #[oai(path = "/users/me/", method = "get")]
//!     async fn me(&self, who: Principal) -> Json<String> {
//!         Json(who.subject().to_owned())
//!     }
//!
//!     /// Rename the service
//!     #[oai(path = "/users/", method = "post")]
//!     #[requires_scopes("users:write")]
//!     async fn create(&self, who: Principal, name: Json<String>) -> Json<String> {
//!         Json(format!("{} created {}", who.subject(), name.0))
//!     }
//! }
//! ```
//!
//! A scope that `Scope` does not declare is a compile error at the scope:
//!
//! ```compile_fail
//! # use secure_api::prelude::*;
//! # use secure_api::poem_openapi::payload::Json;
//! # #[derive(Scopes)] enum Scope { #[scope("users:write", "Write")] UsersWrite }
//! # struct Api;
//! #[secure_api(scopes = Scope)]
//! impl Api {
//!     #[oai(path = "/users/", method = "post")]
//!     #[requires_scopes("users:wirte")] // error: this scope is not declared by `Scope`
//!     async fn create(&self) -> Json<String> { Json(String::new()) }
//! }
//! ```
//!
//! The pieces, each usable on its own: [`token`] issues and verifies JWTs,
//! [`password`] hashes passwords off the async workers, [`users`] is the user store,
//! [`oauth2`] the token endpoint, [`guard`] the checks and their fixed order,
//! [`problem`] the error answers, [`apikey`] API keys, [`mtls`] the mutual-TLS
//! listener and client identity, [`version`] API versions and their lifecycle, and
//! [`App`] the service-wide [`headers`], [`hosts`] and [`cors`].
//!
//! [poem-openapi]: https://docs.rs/poem-openapi

#![deny(missing_docs)]

pub mod apikey;
mod app;
pub mod cors;
pub mod guard;
pub mod headers;
mod hex;
pub mod hosts;
pub mod mtls;
pub mod normalize_path;
pub mod oauth2;
pub mod openapi;
pub mod password;
mod principal;
pub mod problem;
pub mod ratelimit;
pub mod request_log;
mod response;
pub mod scope;
pub mod token;
pub mod users;
pub mod validation;
pub mod version;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use apikey::ApiKeyIdentity;
pub use app::App;
pub use guard::{AuthRejection, Authenticator, Authorized, Guarded};
pub use principal::Principal;
pub use scope::{Requirement, ScopeInfo, ScopeName, Scopes};
pub use secure_api_macros::{
    Scopes, api_version, rate_limit, requires_api_key, requires_client_cert, requires_scopes,
    secure_api,
};

/// The poem version this crate is built on, so a service needs no separate dependency.
pub use poem;
/// The poem-openapi version this crate is built on (pinned: the macros rely on it).
pub use poem_openapi;

/// What a service module usually needs: `use secure_api::prelude::*;`.
pub mod prelude {
    pub use crate::validation::{ValidJson, Validate};
    pub use crate::{
        ApiKeyIdentity, Principal, Scopes, api_version, rate_limit, requires_api_key,
        requires_client_cert, requires_scopes, secure_api,
    };
}
