//! The API-key guard: its refusals and the operation parameter that documents the
//! `apiKey` schemes and hands the key's identity to the handler.

use crate::{
    apikey::{ApiKeyIdentity, ApiKeyRequirement, ApiKeyScheme, ApiKeys},
    guard::OperationPolicy,
    problem::Problem,
    response::problem_response,
};
use poem::{
    Request, RequestBody, Response,
    error::ResponseError,
    http::{StatusCode, header},
};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions,
    registry::{
        MetaHeader, MetaResponses, MetaSchema, MetaSchemaRef, MetaSecurityScheme, Registry,
    },
};
use std::{fmt, marker::PhantomData};

/// Why an API key was refused. Every way of not presenting a valid key gets the same
/// answer; the reason itself (`Display`) is for the server's log and never sent.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ApiKeyRejection {
    /// No key in any allowed location.
    Missing,
    /// Different keys in two locations (or two headers).
    Ambiguous,
    /// Not a key: too long, not text.
    Malformed,
    /// No such key in the store (or revoked).
    Unknown,
    /// A known key without the required scope.
    InsufficientScope {
        /// The key's non-secret name.
        key_id: String,
    },
    /// The key store failed.
    StoreUnavailable(String),
    /// No [`ApiKeys`] in the request data.
    NotConfigured,
}

impl fmt::Display for ApiKeyRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiKeyRejection::Missing => f.write_str("no API key"),
            ApiKeyRejection::Ambiguous => f.write_str("different API keys in one request"),
            ApiKeyRejection::Malformed => f.write_str("malformed API key"),
            ApiKeyRejection::Unknown => f.write_str("unknown API key"),
            ApiKeyRejection::InsufficientScope { key_id } => {
                write!(f, "API key {key_id} lacks the required scope")
            }
            ApiKeyRejection::StoreUnavailable(why) => write!(f, "API-key store failed: {why}"),
            ApiKeyRejection::NotConfigured => {
                f.write_str("no ApiKeys in the request data: add `.data(api_keys)` to the app")
            }
        }
    }
}

impl std::error::Error for ApiKeyRejection {}

/// The challenge of every 401: a scheme name, since RFC 9110 requires one and no
/// registered scheme describes API keys.
pub(crate) const API_KEY_CHALLENGE: &str = "ApiKey";

impl ResponseError for ApiKeyRejection {
    fn status(&self) -> StatusCode {
        match self {
            ApiKeyRejection::Missing
            | ApiKeyRejection::Ambiguous
            | ApiKeyRejection::Malformed
            | ApiKeyRejection::Unknown => StatusCode::UNAUTHORIZED,
            ApiKeyRejection::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            ApiKeyRejection::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiKeyRejection::NotConfigured => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn as_response(&self) -> Response {
        let problem = Problem::new(self.status());
        let problem = match self {
            ApiKeyRejection::Missing
            | ApiKeyRejection::Ambiguous
            | ApiKeyRejection::Malformed
            | ApiKeyRejection::Unknown => problem
                .detail("this operation needs a valid API key")
                .header(header::WWW_AUTHENTICATE, API_KEY_CHALLENGE),
            ApiKeyRejection::InsufficientScope { .. } => {
                problem.detail("the API key lacks a scope this operation requires")
            }
            ApiKeyRejection::StoreUnavailable(_) => problem
                .detail("the API-key store is unavailable; try again later")
                .header(header::RETRY_AFTER, "1"),
            ApiKeyRejection::NotConfigured => problem.detail("the service is misconfigured"),
        };
        poem::IntoResponse::into_response(problem)
    }
}

/// The service's [`ApiKeys`], from the request data.
pub(crate) fn api_keys(request: &Request) -> Result<&ApiKeys, ApiKeyRejection> {
    request.data::<ApiKeys>().ok_or_else(|| {
        tracing::error!("{}", ApiKeyRejection::NotConfigured);
        ApiKeyRejection::NotConfigured
    })
}

/// A key verified by a [`GuardChain`](super::GuardChain), with the requirement it
/// met. Private, so no other middleware can plant one.
#[derive(Clone)]
pub(crate) struct VerifiedApiKey {
    identity: ApiKeyIdentity,
    requirement: ApiKeyRequirement,
}

impl VerifiedApiKey {
    pub(crate) fn new(identity: ApiKeyIdentity, requirement: ApiKeyRequirement) -> Self {
        VerifiedApiKey {
            identity,
            requirement,
        }
    }
}

/// The API-key guard as a poem-openapi parameter: checks the key against `P`'s
/// requirement (any known key when `P` has none), documents `K`'s `apiKey` schemes,
/// and holds the key's identity.
///
/// Put it first among an operation's parameters; `#[requires_api_key]` generates it.
///
/// ```
/// use secure_api::{Guarded, apikey::{ApiKeyRequirement, StandardApiKeys}};
/// use secure_api::guard::{ApiKeyAuthorized, OperationPolicy};
/// use secure_api::poem_openapi::{self, payload::PlainText};
///
/// struct ReadKey;
/// impl OperationPolicy for ReadKey {
///     const API_KEY: Option<ApiKeyRequirement> =
///         Some(ApiKeyRequirement::of::<StandardApiKeys>().scope("read"));
/// }
///
/// struct Api;
///
/// #[poem_openapi::OpenApi]
/// impl Api {
///     #[oai(path = "/report", method = "get")]
///     async fn report(&self, key: ApiKeyAuthorized<StandardApiKeys, ReadKey>) -> Guarded<PlainText<String>, ReadKey> {
///         Guarded::new(PlainText(format!("for {}", key.identity().owner())))
///     }
/// }
/// ```
pub struct ApiKeyAuthorized<K: ApiKeyScheme, P: OperationPolicy> {
    identity: ApiKeyIdentity,
    _marker: PhantomData<fn() -> (K, P)>,
}

impl<K: ApiKeyScheme, P: OperationPolicy> ApiKeyAuthorized<K, P> {
    /// The verified key's holder.
    ///
    /// ```
    /// # use secure_api::{apikey::StandardApiKeys, guard::{ApiKeyAuthorized, OperationPolicy}};
    /// fn owner<P: OperationPolicy>(key: &ApiKeyAuthorized<StandardApiKeys, P>) -> &str {
    ///     key.identity().owner()
    /// }
    /// ```
    pub fn identity(&self) -> &ApiKeyIdentity {
        &self.identity
    }

    /// The verified key's holder, by value.
    ///
    /// ```
    /// # use secure_api::{ApiKeyIdentity, apikey::StandardApiKeys, guard::{ApiKeyAuthorized, OperationPolicy}};
    /// fn take<P: OperationPolicy>(key: ApiKeyAuthorized<StandardApiKeys, P>) -> ApiKeyIdentity {
    ///     key.into_identity()
    /// }
    /// ```
    pub fn into_identity(self) -> ApiKeyIdentity {
        self.identity
    }
}

impl<K: ApiKeyScheme, P: OperationPolicy> fmt::Debug for ApiKeyAuthorized<K, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ApiKeyAuthorized")
            .field(&self.identity)
            .finish()
    }
}

fn requirement<K: ApiKeyScheme, P: OperationPolicy>() -> ApiKeyRequirement {
    P::API_KEY.unwrap_or(ApiKeyRequirement::of::<K>())
}

/// Registers the `apiKey` security schemes of `requirement` in the document.
fn register_schemes(registry: &mut Registry, requirement: ApiKeyRequirement) {
    for (scheme, key_in, name) in requirement.schemes() {
        let description = match key_in {
            "header" => "An API key in a request header.",
            "query" => {
                "An API key in the query string. Discouraged: URLs are written to proxy \
                 and server logs, browser history and Referer headers; prefer the header."
            }
            _ => "An API key in a cookie.",
        };
        registry.create_security_scheme(
            scheme,
            MetaSecurityScheme {
                ty: "apiKey",
                description: Some(description),
                name: Some(name),
                key_in: Some(key_in),
                scheme: None,
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        );
    }
}

impl<'a, K: ApiKeyScheme, P: OperationPolicy> ApiExtractor<'a> for ApiKeyAuthorized<K, P> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_schemes(registry, requirement::<K, P>());
    }

    fn security_schemes() -> Vec<&'static str> {
        // One entry per location in the operation's `security`: any one of them.
        requirement::<K, P>()
            .schemes()
            .into_iter()
            .map(|(scheme, _, _)| scheme)
            .collect()
    }

    async fn from_request(
        request: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let requirement = requirement::<K, P>();
        let verified = request.extensions().get::<VerifiedApiKey>();
        let identity = match verified {
            Some(verified) if verified.requirement == requirement => verified.identity.clone(),
            _ => {
                api_keys(request)?
                    .authenticate(request, requirement)
                    .await?
            }
        };
        Ok(ApiKeyAuthorized {
            identity,
            _marker: PhantomData,
        })
    }
}

/// Adds to an operation's documented responses the answers of `P`'s API-key guard.
pub(crate) fn documented_refusals<P: OperationPolicy>(meta: &mut MetaResponses) {
    let Some(requirement) = P::API_KEY else {
        return;
    };
    let mut add = |status: u16, description: &'static str, challenge: bool| {
        if meta.responses.iter().any(|r| r.status == Some(status)) {
            return;
        }
        let mut response = problem_response(status, description, false);
        if challenge {
            response.headers.push(MetaHeader {
                name: "WWW-Authenticate".to_owned(),
                description: Some(format!("`{API_KEY_CHALLENGE}`")),
                required: true,
                deprecated: false,
                schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
            });
        }
        meta.responses.push(response);
    };
    add(
        401,
        "No valid API key: missing, unknown, or different keys in two places",
        true,
    );
    if requirement.required_scope().is_some() {
        add(
            403,
            "The API key lacks the scope this operation requires",
            false,
        );
    }
}
