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

    // The whole chain in one future, whose size is the operation's own future plus
    // the request and the limits: the checks borrow the request, so their futures
    // share the room the operation's takes later, and only the operation gets the
    // request by value. An `async` block rather than an `async fn`: the latter keeps
    // its argument twice (as argument and as local), and a request is 472 bytes.
    #[allow(clippy::manual_async_fn)]
    fn call(&self, mut request: Request) -> impl Future<Output = poem::Result<Response>> + Send {
        async move {
            // A retired version answers 410 before any other check; every answer of a
            // deprecated one, refusals included, carries its lifecycle headers.
            // The policy is a constant: only the path is kept across the awaits.
            let versioned_path = match P::VERSION {
                Some(version) => {
                    let path = request.original_uri().path().to_owned();
                    if version.is_gone(std::time::SystemTime::now()) {
                        return Ok(version.gone(&path));
                    }
                    Some(path)
                }
                None => None,
            };
            let mut limits = LimitRun::start(P::LIMITS, &request);
            // A refusal of the checks is final: each carries its own headers already.
            let result = match self.checks(&mut request, &mut limits).await {
                Ok(()) => {
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
                Err(refusal) => Err(refusal),
            };
            let (Some(version), Some(path)) = (P::VERSION, versioned_path) else {
                return result;
            };
            let mut response = result.unwrap_or_else(|error| error.into_response());
            version.decorate(&path, &mut response);
            Ok(response)
        }
    }
}

impl<E: Endpoint, P: OperationPolicy> GuardChain<E, P> {
    /// Every check before the operation, in order; the verified identities go into
    /// the request's extensions for the operation's parameters.
    async fn checks(
        &self,
        request: &mut Request,
        limits: &mut Option<LimitRun>,
    ) -> poem::Result<()> {
        if P::CLIENT_CERT {
            crate::mtls::client_cert(request)?;
        }
        if let Some(limits) = limits {
            limits.before_authentication().await?;
        }
        // Authentication: a bearer token or an API key (never both: a compile error).
        let mut verified = None;
        if let Some(requirement) = P::BEARER {
            let authenticated = match authenticator(request) {
                Ok(authenticator) => authenticator.authenticate(request, requirement).await,
                Err(rejection) => Err(rejection),
            };
            let principal = match (authenticated, &mut *limits) {
                (Ok(principal), _) => principal,
                (Err(rejection), None) => return Err(rejection.into()),
                (Err(rejection), Some(limits)) => {
                    return Err(limits.refused_by_guard(rejection.into()).await);
                }
            };
            if limits.is_some() {
                verified = Some(principal.clone());
            }
            request
                .extensions_mut()
                .insert(VerifiedPrincipal::new(principal, requirement));
        }
        if let Some(requirement) = P::API_KEY {
            let authenticated = match api_keys(request) {
                Ok(keys) => keys.authenticate(request, requirement).await,
                Err(rejection) => Err(rejection),
            };
            let identity = match (authenticated, &mut *limits) {
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
        if let Some(limits) = limits {
            limits
                .after_authentication(request, verified.as_ref())
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[poem::handler]
    fn hello() -> &'static str {
        "hello"
    }

    struct AnyUser;
    impl OperationPolicy for AnyUser {
        const BEARER: Option<Requirement> = Some(Requirement::AUTHENTICATED);
    }

    /// Every request's future is boxed and copied whole by poem's router: what the
    /// chain adds to the operation's own future is paid on each request. It is the
    /// request (moved in once), the limits, a versioned path and a little room; it was
    /// 2,424 bytes when `call` and the checks were `async fn`s taking the request.
    #[test]
    fn the_chain_adds_little_to_the_operations_future() {
        let request = || Request::builder().finish();
        let operation = std::mem::size_of_val(&hello.call(request()));
        let chain = GuardChain::<_, AnyUser>::new(hello);
        let guarded = std::mem::size_of_val(&chain.call(request()));
        let added = guarded - operation;
        assert!(
            added <= std::mem::size_of::<Request>() + 700,
            "the chain adds {added} bytes to a {operation}-byte future"
        );
    }
}
