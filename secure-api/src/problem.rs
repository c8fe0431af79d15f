//! RFC 9457 problem details: every error answer of the framework is built here, so
//! they all look alike (`application/problem+json`, a `title` that names the rule,
//! never an internal reason).

use poem::{
    IntoResponse, Response,
    http::{HeaderName, HeaderValue, StatusCode, header},
};
use poem_openapi::Object;
use serde::Serialize;

/// The media type of every error body (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answer: status, a short title, an optional detail for the client, and
/// extra headers (`WWW-Authenticate`, `Retry-After`, ...).
///
/// ```
/// use secure_api::problem::Problem;
/// use secure_api::poem::{IntoResponse, http::StatusCode};
///
/// let response = Problem::new(StatusCode::CONFLICT)
///     .detail("a user with this name already exists")
///     .into_response();
/// assert_eq!(response.status(), StatusCode::CONFLICT);
/// assert_eq!(response.content_type(), Some("application/problem+json"));
/// ```
#[derive(Debug, Clone)]
pub struct Problem {
    status: StatusCode,
    body: ProblemDetails,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// The JSON body of a problem answer, as RFC 9457 defines it. Also the schema the
/// OpenAPI document shows for every error response.
///
/// ```
/// # use secure_api::problem::ProblemDetails;
/// let body = ProblemDetails {
///     type_uri: "about:blank".into(),
///     title: "Conflict".into(),
///     status: 409,
///     detail: Some("a user with this name already exists".into()),
/// };
/// assert_eq!(serde_json::to_value(&body).unwrap()["type"], "about:blank");
/// ```
#[derive(Debug, Clone, Serialize, Object)]
#[oai(rename = "Problem")]
pub struct ProblemDetails {
    /// A URI that identifies the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    #[oai(rename = "type")]
    pub type_uri: String,
    /// A short summary of the kind of problem (the status's reason phrase by default).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, for a person; never a secret or an internal reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Problem {
    /// A problem with the status's reason phrase as its title.
    ///
    /// ```
    /// # use secure_api::problem::Problem;
    /// # use secure_api::poem::http::StatusCode;
    /// assert_eq!(Problem::new(StatusCode::FORBIDDEN).status(), StatusCode::FORBIDDEN);
    /// ```
    pub fn new(status: StatusCode) -> Self {
        Problem {
            status,
            body: ProblemDetails {
                type_uri: "about:blank".to_owned(),
                title: status.canonical_reason().unwrap_or("Error").to_owned(),
                status: status.as_u16(),
                detail: None,
            },
            headers: Vec::new(),
        }
    }

    /// Adds a human-readable explanation for the client.
    ///
    /// ```
    /// # use secure_api::problem::Problem;
    /// # use secure_api::poem::http::StatusCode;
    /// let problem = Problem::new(StatusCode::BAD_REQUEST).detail("the body is not JSON");
    /// assert_eq!(problem.body().detail.as_deref(), Some("the body is not JSON"));
    /// ```
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.body.detail = Some(detail.into());
        self
    }

    /// Adds a response header; a value that is not a valid header value is dropped,
    /// since the framework only builds them from checked parts.
    ///
    /// ```
    /// # use secure_api::problem::Problem;
    /// # use secure_api::poem::{IntoResponse, http::{StatusCode, header}};
    /// let response = Problem::new(StatusCode::UNAUTHORIZED)
    ///     .header(header::WWW_AUTHENTICATE, "Bearer")
    ///     .into_response();
    /// assert_eq!(response.headers()["www-authenticate"], "Bearer");
    /// ```
    pub fn header(mut self, name: HeaderName, value: impl AsRef<str>) -> Self {
        if let Ok(value) = HeaderValue::from_str(value.as_ref()) {
            self.headers.push((name, value));
        }
        self
    }

    /// The status code of the answer.
    ///
    /// ```
    /// # use secure_api::problem::Problem;
    /// # use secure_api::poem::http::StatusCode;
    /// assert_eq!(Problem::new(StatusCode::NOT_FOUND).status().as_u16(), 404);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The JSON body of the answer.
    ///
    /// ```
    /// # use secure_api::problem::Problem;
    /// # use secure_api::poem::http::StatusCode;
    /// assert_eq!(Problem::new(StatusCode::NOT_FOUND).body().title, "Not Found");
    /// ```
    pub fn body(&self) -> &ProblemDetails {
        &self.body
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body).unwrap_or_default();
        let mut response = Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, PROBLEM_JSON)
            .body(body);
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

/// A problem as a response payload, for error variants of your own
/// `#[derive(ApiResponse)]` enums: documented as `application/problem+json` with the
/// [`ProblemDetails`] schema.
///
/// ```
/// use secure_api::problem::ProblemJson;
/// use secure_api::poem_openapi::{self, ApiResponse, payload::Json};
///
/// #[derive(ApiResponse)]
/// enum CreateResponse {
///     #[oai(status = 201)]
///     Created(Json<String>),
///     /// The name is taken.
///     #[oai(status = 409)]
///     Conflict(ProblemJson),
/// }
///
/// let conflict = CreateResponse::Conflict(ProblemJson::new(409, "a user with this name already exists"));
/// ```
#[derive(Debug, Clone)]
pub struct ProblemJson(pub ProblemDetails);

impl ProblemJson {
    /// A problem with `status`'s reason phrase as its title and `detail`.
    ///
    /// ```
    /// # use secure_api::problem::ProblemJson;
    /// assert_eq!(ProblemJson::new(409, "taken").0.title, "Conflict");
    /// ```
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ProblemJson(Problem::new(status).detail(detail).body)
    }
}

impl poem_openapi::payload::Payload for ProblemJson {
    const CONTENT_TYPE: &'static str = PROBLEM_JSON;

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        <ProblemDetails as poem_openapi::types::Type>::schema_ref()
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        <ProblemDetails as poem_openapi::types::Type>::register(registry);
    }
}

impl IntoResponse for ProblemJson {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.0).unwrap_or_default();
        Response::builder()
            .header(header::CONTENT_TYPE, PROBLEM_JSON)
            .body(body)
    }
}

impl From<Problem> for poem::Error {
    fn from(problem: Problem) -> Self {
        poem::Error::from_response(problem.into_response())
    }
}
