//! [`Guarded`]: the return type of a guarded operation, which adds the guards'
//! error answers to the operation's documented responses.

use crate::{
    guard::{AnyValidToken, AuthRejection, OperationPolicy, requires_scopes},
    problem::{PROBLEM_JSON, ProblemDetails},
};
use poem::error::IntoResult;
use poem_openapi::{
    ApiResponse,
    registry::{
        MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
    },
    types::Type,
};
use std::marker::PhantomData;

/// An operation's own response `R`, plus, in the OpenAPI document, every answer the
/// guards of its policy `P` can give: 401 with `WWW-Authenticate` when it needs a
/// bearer token, 403 when it requires scopes, and 400/413/415/422 when it reads a
/// validated body ([`ValidJson`](crate::validation::ValidJson)).
///
/// At run time it is `R` unchanged; a guard's refusal never reaches `R`'s own
/// bad-request handler.
///
/// ```
/// use secure_api::Guarded;
/// use secure_api::poem_openapi::payload::PlainText;
///
/// fn answer() -> Guarded<PlainText<&'static str>> {
///     Guarded::new(PlainText("hello"))
/// }
/// ```
pub struct Guarded<R, P = AnyValidToken> {
    outcome: Outcome<R>,
    _policy: PhantomData<fn() -> P>,
}

enum Outcome<R> {
    Handled(R),
    Refused(poem::Error),
}

impl<R, P> Guarded<R, P> {
    /// Wraps the handler's answer.
    ///
    /// ```
    /// # use secure_api::Guarded;
    /// # use secure_api::poem_openapi::payload::PlainText;
    /// let answer: Guarded<PlainText<String>> = Guarded::new(PlainText("ok".to_owned()));
    /// ```
    pub fn new(response: R) -> Self {
        Guarded {
            outcome: Outcome::Handled(response),
            _policy: PhantomData,
        }
    }
}

// Not `IntoResponse`: poem's blanket `IntoResult<T> for T: IntoResponse` would then
// overlap, and this impl lets `R` be `Result<T, E>` as well as a plain response.
impl<R, T, P> IntoResult<T> for Guarded<R, P>
where
    R: IntoResult<T>,
    T: poem::IntoResponse,
{
    fn into_result(self) -> poem::Result<T> {
        match self.outcome {
            Outcome::Handled(response) => response.into_result(),
            Outcome::Refused(error) => Err(error),
        }
    }
}

impl<R: ApiResponse, P: OperationPolicy> ApiResponse for Guarded<R, P> {
    const BAD_REQUEST_HANDLER: bool = R::BAD_REQUEST_HANDLER;

    fn meta() -> MetaResponses {
        let mut meta = R::meta();
        let mut add = |status: u16, description: &'static str| {
            if !meta.responses.iter().any(|r| r.status == Some(status)) {
                meta.responses
                    .push(problem_response(status, description, true));
            }
        };
        if P::BEARER.is_some() {
            add(
                401,
                "No valid bearer token: missing, malformed, expired, or its user is unknown or disabled",
            );
        }
        if requires_scopes::<P>() {
            add(403, "The bearer token lacks a required scope");
        }
        if P::VALIDATED_BODY {
            for response in crate::validation::body_responses() {
                if !meta.responses.iter().any(|r| r.status == response.status) {
                    meta.responses.push(response);
                }
            }
        }
        if !P::LIMITS.is_empty() {
            crate::ratelimit::document(&mut meta, P::LIMITS);
        }
        crate::guard::documented_api_key_refusals::<P>(&mut meta);
        // Both guards read a store (users, keys); a failing one is answered 503.
        if (P::BEARER.is_some() || P::API_KEY.is_some())
            && !meta.responses.iter().any(|r| r.status == Some(503))
        {
            meta.responses.push(store_unavailable_response());
        }
        crate::version::document::<P>(&mut meta);
        if P::CLIENT_CERT && !meta.responses.iter().any(|r| r.status == Some(403)) {
            meta.responses.push(problem_response(
                403,
                "Served only over mutual TLS, to a client certificate signed by the service's CA",
                false,
            ));
        }
        if let Some(path) = P::DECLARED_PATH {
            crate::openapi::mark_declared_path(&mut meta, path);
        }
        meta
    }

    fn register(registry: &mut Registry) {
        R::register(registry);
        ProblemDetails::register(registry);
        if P::VALIDATED_BODY {
            crate::validation::register_body_responses(registry);
        }
    }

    fn from_parse_request_error(error: poem::Error) -> Self {
        // poem-openapi routes every extraction error here when `R` has a bad-request
        // handler; a guard's refusal keeps its own answer.
        // A refused body (`ValidJson`) keeps its problem answer too.
        if error.is::<AuthRejection>()
            || error.is::<crate::validation::BodyRejection>()
            || error.is::<crate::guard::ApiKeyRejection>()
            || error.is::<crate::mtls::ClientCertRejection>()
            || !R::BAD_REQUEST_HANDLER
        {
            return Guarded {
                outcome: Outcome::Refused(error),
                _policy: PhantomData,
            };
        }
        Guarded::new(R::from_parse_request_error(error))
    }
}

/// The 503 of a guard whose store failed: try again after `Retry-After` seconds.
fn store_unavailable_response() -> MetaResponse {
    let mut response = problem_response(
        503,
        "The user or API-key store is unavailable; retry after `Retry-After` seconds",
        false,
    );
    response.headers.push(MetaHeader {
        name: "Retry-After".to_owned(),
        description: Some("Seconds to wait before retrying".to_owned()),
        required: true,
        deprecated: false,
        schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("integer", "int64"))),
    });
    response
}

/// A documented problem+json response, with `WWW-Authenticate` when asked.
pub(crate) fn problem_response(
    status: u16,
    description: &'static str,
    with_challenge: bool,
) -> MetaResponse {
    let headers = match with_challenge {
        true => vec![MetaHeader {
            name: "WWW-Authenticate".to_owned(),
            description: Some(
                "The RFC 6750 challenge, e.g. `Bearer error=\"invalid_token\"`".to_owned(),
            ),
            required: true,
            deprecated: false,
            schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
        }],
        false => Vec::new(),
    };
    MetaResponse {
        description,
        status: Some(status),
        status_range: None,
        content: vec![MetaMediaType {
            content_type: PROBLEM_JSON,
            schema: ProblemDetails::schema_ref(),
        }],
        headers,
    }
}
