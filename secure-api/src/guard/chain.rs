//! The one ordered chain of checks that a guarded operation runs before anything
//! else of its own: `#[secure_api]` wraps each guarded operation's endpoint in a
//! [`GuardChain`] (through poem-openapi's per-operation `transform`), so the checks
//! run before poem-openapi extracts a single parameter, the body included.

use super::api_key::{VerifiedApiKey, api_keys};
use super::bearer::{VerifiedPrincipal, authenticator};
use super::rate_limit::LimitRun;
use crate::{
    apikey::ApiKeyRequirement, ratelimit::RateLimit, scope::Requirement, version::VersionPolicy,
};
use poem::{Endpoint, IntoResponse, Request, Response};
use std::marker::PhantomData;

/// What one operation requires, as a type: `#[secure_api]` generates one per guarded
/// operation. The [`GuardChain`] enforces it, and [`Guarded`](crate::Guarded)
/// documents exactly the answers it can give.
///
/// ```
/// use secure_api::{Requirement, guard::OperationPolicy};
///
/// struct CreateUser;
/// impl OperationPolicy for CreateUser {
///     const BEARER: Option<Requirement> = Some(Requirement::all_of(&["users:write"]));
/// }
/// ```
pub trait OperationPolicy: Send + Sync + 'static {
    /// What the bearer token must grant; `None` when the operation needs no token.
    const BEARER: Option<Requirement> = None;
    /// Whether the operation reads a validated body
    /// ([`ValidJson`](crate::validation::ValidJson)), so can answer 400, 413, 415 and
    /// 422; `#[secure_api]` sets it when an operation has a `ValidJson` parameter.
    const VALIDATED_BODY: bool = false;
    /// The operation's rate limits; a request must be admitted by all of them.
    const LIMITS: &'static [RateLimit] = &[];
    /// What the API key must be; `None` when the operation needs no key.
    const API_KEY: Option<ApiKeyRequirement> = None;
    /// The operation's API version and its lifecycle; `None` when it is unversioned.
    const VERSION: Option<VersionPolicy> = None;
    /// Whether the operation is served only over mutual TLS, to a verified client
    /// certificate.
    const CLIENT_CERT: bool = false;
    /// The operation's path as written, when it ends with a slash: poem-openapi drops
    /// it from the document, and [`openapi::spec`](crate::openapi::spec) puts it back
    /// (poem routes the path without it: `NormalizePath` makes both spellings reach it).
    const DECLARED_PATH: Option<&'static str> = None;
}

/// Any valid bearer token, whatever its scopes: the policy of an operation that takes
/// a `Principal` without `#[requires_scopes]`.
#[derive(Debug, Clone, Copy)]
pub struct AnyValidToken;

impl OperationPolicy for AnyValidToken {
    const BEARER: Option<Requirement> = Some(Requirement::AUTHENTICATED);
}

/// Whether an operation under `P` can answer 403 (a scope requirement beyond a valid token).
pub(crate) fn requires_scopes<P: OperationPolicy>() -> bool {
    P::BEARER.is_some_and(|requirement| requirement.needs_scopes())
}

/// An operation's endpoint behind its guards, which run in the order documented in
/// [`crate::guard`].
///
/// ```
/// use secure_api::{Requirement, guard::{GuardChain, OperationPolicy}};
/// use secure_api::poem::{handler, Route};
///
/// struct AnyUser;
/// impl OperationPolicy for AnyUser {
///     const BEARER: Option<Requirement> = Some(Requirement::AUTHENTICATED);
/// }
///
/// #[handler]
/// fn hello() -> &'static str { "hello" }
///
/// let app = Route::new().at("/hello", GuardChain::<_, AnyUser>::new(hello));
/// ```
pub struct GuardChain<E, P> {
    inner: E,
    _policy: PhantomData<fn() -> P>,
}

impl<E, P> GuardChain<E, P> {
    /// Puts `inner` behind the guards of `P`.
    pub fn new(inner: E) -> Self {
        GuardChain {
            inner,
            _policy: PhantomData,
        }
    }
}

impl<E: Endpoint, P: OperationPolicy> Endpoint for GuardChain<E, P> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        let Some(version) = P::VERSION else {
            return self.checks_then_operation(request).await;
        };
        // A retired version answers 410 before any other check; every answer of a
        // deprecated one, refusals included, carries its lifecycle headers.
        let path = request.original_uri().path().to_owned();
        if version.is_gone(std::time::SystemTime::now()) {
            return Ok(version.gone(&path));
        }
        let mut response = self
            .checks_then_operation(request)
            .await
            .unwrap_or_else(|error| error.into_response());
        version.decorate(&path, &mut response);
        Ok(response)
    }
}

impl<E: Endpoint, P: OperationPolicy> GuardChain<E, P> {
    async fn checks_then_operation(&self, mut request: Request) -> poem::Result<Response> {
        if P::CLIENT_CERT {
            crate::mtls::client_cert(&request)?;
        }
        let mut limits = LimitRun::start(P::LIMITS, &request);
        if let Some(limits) = &mut limits {
            limits.before_authentication().await?;
        }
        // Authentication: a bearer token or an API key (never both: a compile error).
        let mut verified = None;
        if let Some(requirement) = P::BEARER {
            let authenticated = match authenticator(&request) {
                Ok(authenticator) => authenticator.authenticate(&request, requirement).await,
                Err(rejection) => Err(rejection),
            };
            let principal = match (authenticated, &mut limits) {
                (Ok(principal), _) => principal,
                (Err(rejection), None) => return Err(rejection.into()),
                (Err(rejection), Some(limits)) => {
                    return Err(limits.refused_by_guard(rejection.into()).await);
                }
            };
            verified = Some(principal.clone());
            request
                .extensions_mut()
                .insert(VerifiedPrincipal::new(principal, requirement));
        }
        if let Some(requirement) = P::API_KEY {
            let authenticated = match api_keys(&request) {
                Ok(keys) => keys.authenticate(&request, requirement).await,
                Err(rejection) => Err(rejection),
            };
            let identity = match (authenticated, &mut limits) {
                (Ok(identity), _) => identity,
                (Err(rejection), None) => return Err(rejection.into()),
                (Err(rejection), Some(limits)) => {
                    return Err(limits.refused_by_guard(rejection.into()).await);
                }
            };
            // `key = api_key` limits count per verified key, never per presented value.
            if limits.is_some() {
                request
                    .extensions_mut()
                    .insert(crate::ratelimit::ApiKeyId(identity.key_id()));
            }
            request
                .extensions_mut()
                .insert(VerifiedApiKey::new(identity, requirement));
        }
        if let Some(limits) = &mut limits {
            limits
                .after_authentication(&request, verified.as_ref())
                .await?;
        }
        let result = self
            .inner
            .call(request)
            .await
            .map(IntoResponse::into_response);
        match &limits {
            Some(limits) => limits.finish(result),
            None => result,
        }
    }
}
