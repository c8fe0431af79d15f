//! [`ValidJson`]: the request body extractor that reads a bounded JSON body and
//! validates it, answering every failure as RFC 9457 problem details.

use super::{
    Validate,
    error::{FieldError, ValidationErrors},
    params::Params,
};
use crate::problem::{PROBLEM_JSON, Problem, ProblemDetails};
use poem::{
    IntoResponse, Request, RequestBody, Response,
    error::ResponseError,
    http::{HeaderValue, StatusCode, header},
};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions, Object,
    registry::{MetaMediaType, MetaRequest, MetaResponse, MetaSchemaRef, Registry},
    types::Type,
};
use serde::Serialize;
use serde_json::Value;
use std::{borrow::Cow, fmt, ops::Deref};
use tokio::io::AsyncReadExt as _;

/// A JSON request body of a [`Validate`] model, read and checked before the handler
/// runs. The handler only ever sees a value that keeps every rule; anything else is
/// answered with `application/problem+json`:
///
/// | what | status |
/// | --- | --- |
/// | no `Content-Type`, or not JSON (`application/json`, `application/*+json`) | 415 |
/// | larger than the [`BodyLimit`] (1 MiB by default), by `Content-Length` before reading, or while reading a body of unknown length | 413 |
/// | empty, or not JSON (syntax, or nested deeper than 128 levels) | 400 with one error in `errors` |
/// | missing fields, wrong types, unknown fields, broken rules | 422 listing every one in `errors` |
///
/// In a `#[secure_api]` impl, an operation with a `ValidJson` parameter documents
/// these answers (and their schemas) in the OpenAPI document by itself; its guards
/// still run before the body is read.
///
/// ```
/// use secure_api::prelude::*;
/// use secure_api::poem_openapi::payload::PlainText;
/// use secure_api::validation::{Validate, ValidJson};
///
/// #[derive(Validate)]
/// struct NewItem {
///     #[validate(length(min = 1, max = 80))]
///     name: String,
/// }
///
/// struct Api;
///
/// #[secure_api]
/// impl Api {
///     /// Create an item
///     #[oai(path = "/items", method = "post")]
///     async fn create(&self, ValidJson(item): ValidJson<NewItem>) -> PlainText<String> {
///         PlainText(item.name)
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ValidJson<T>(pub T);

impl<T> ValidJson<T> {
    /// The validated value.
    ///
    /// ```
    /// # use secure_api::validation::ValidJson;
    /// assert_eq!(ValidJson(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for ValidJson<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// The largest request body a [`ValidJson`] reads, in bytes: set it for the whole
/// service as request data; 1 MiB when unset.
///
/// ```
/// use secure_api::validation::BodyLimit;
/// use secure_api::poem::{EndpointExt, Route};
///
/// let app = Route::new().data(BodyLimit::bytes(64 * 1024));
/// assert_eq!(BodyLimit::default().get(), 1024 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(usize);

impl BodyLimit {
    /// At most `bytes` bytes.
    ///
    /// ```
    /// # use secure_api::validation::BodyLimit;
    /// assert_eq!(BodyLimit::bytes(10).get(), 10);
    /// ```
    pub const fn bytes(bytes: usize) -> Self {
        BodyLimit(bytes)
    }

    /// The limit in bytes.
    ///
    /// ```
    /// # use secure_api::validation::BodyLimit;
    /// assert_eq!(BodyLimit::bytes(10).get(), 10);
    /// ```
    pub const fn get(self) -> usize {
        self.0
    }
}

impl Default for BodyLimit {
    fn default() -> Self {
        BodyLimit(1024 * 1024)
    }
}

/// Why a [`ValidJson`] body was refused; its response is the problem answer.
///
/// ```
/// use secure_api::validation::{BodyRejection, Validate};
/// use secure_api::poem::error::ResponseError;
///
/// #[derive(Validate)]
/// struct Named { #[validate(length(min = 1))] name: String }
///
/// let errors = Named::from_json(serde_json::json!({})).err().unwrap();
/// let rejection = BodyRejection::from(errors);
/// assert_eq!(rejection.status().as_u16(), 422);
/// assert_eq!(rejection.errors().unwrap().errors()[0].code, "required");
/// ```
#[derive(Debug)]
pub struct BodyRejection {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    NoContentType,
    NotJsonContentType(String),
    TooLarge(usize),
    Unreadable(String),
    Malformed(ValidationErrors),
    Invalid(ValidationErrors),
}

impl BodyRejection {
    /// The listed errors of a 400 or 422 answer.
    ///
    /// ```
    /// # use secure_api::validation::{BodyRejection, ValidationErrors};
    /// let rejection = BodyRejection::from(ValidationErrors::default());
    /// assert!(rejection.errors().is_some());
    /// ```
    pub fn errors(&self) -> Option<&ValidationErrors> {
        match &self.kind {
            Kind::Malformed(errors) | Kind::Invalid(errors) => Some(errors),
            _ => None,
        }
    }
}

impl From<ValidationErrors> for BodyRejection {
    fn from(errors: ValidationErrors) -> Self {
        BodyRejection {
            kind: Kind::Invalid(errors),
        }
    }
}

impl fmt::Display for BodyRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::NoContentType => f.write_str("the request has no Content-Type; send JSON"),
            Kind::NotJsonContentType(got) => write!(f, "the body is {got}, not JSON"),
            Kind::TooLarge(limit) => write!(f, "the body is larger than {limit} bytes"),
            Kind::Unreadable(why) => write!(f, "the body could not be read: {why}"),
            Kind::Malformed(errors) | Kind::Invalid(errors) => errors.fmt(f),
        }
    }
}

impl std::error::Error for BodyRejection {}

impl ResponseError for BodyRejection {
    fn status(&self) -> StatusCode {
        match self.kind {
            Kind::NoContentType | Kind::NotJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Kind::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::Unreadable(_) | Kind::Malformed(_) => StatusCode::BAD_REQUEST,
            Kind::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn as_response(&self) -> Response {
        let status = self.status();
        match &self.kind {
            Kind::Malformed(errors) | Kind::Invalid(errors) => problem_response(
                status,
                &ProblemBody::new(status, errors),
                errors.errors().len(),
            ),
            Kind::NoContentType | Kind::NotJsonContentType(_) => Problem::new(status)
                .detail(format!(
                    "{self}: send the body as `Content-Type: application/json`"
                ))
                .into_response(),
            Kind::TooLarge(_) | Kind::Unreadable(_) => Problem::new(status)
                .detail(self.to_string())
                .into_response(),
        }
    }
}

/// The answer to a body that is not JSON or breaks rules: RFC 9457 problem details
/// with an `errors` member listing each broken rule where it happened.
///
/// ```json
/// {"type": "about:blank", "title": "Unprocessable Entity", "status": 422,
///  "detail": "The body breaks 2 rules; each is listed in `errors`.",
///  "errors": [
///    {"pointer": "/username", "code": "length", "detail": "must be 3 to 50 characters long",
///     "params": {"min": 3, "max": 50}, "value": "ab"},
///    {"pointer": "/roles/2", "code": "one_of", "detail": "must be one of: admin, user, moderator",
///     "params": {"allowed": ["admin", "user", "moderator"]}, "value": "root"}]}
/// ```
///
/// ```
/// use secure_api::validation::{ValidationErrors, ValidationProblem};
/// use secure_api::poem::http::StatusCode;
///
/// let problem = ValidationProblem::new(StatusCode::UNPROCESSABLE_ENTITY, &ValidationErrors::default());
/// assert_eq!(problem.status, 422);
/// ```
#[derive(Debug, Clone, Serialize, Object)]
#[oai(rename = "ValidationProblem")]
pub struct ValidationProblem {
    /// `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    #[oai(rename = "type")]
    pub type_uri: String,
    /// The status's reason phrase.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// How many rules are broken.
    pub detail: String,
    /// Each broken rule, in the order of the model's fields.
    pub errors: Vec<FieldError>,
}

impl ValidationProblem {
    /// The answer for `errors` with `status` (400 or 422).
    ///
    /// ```
    /// # use secure_api::validation::{ValidationErrors, ValidationProblem};
    /// # use secure_api::poem::http::StatusCode;
    /// let problem = ValidationProblem::new(StatusCode::BAD_REQUEST, &ValidationErrors::default());
    /// assert_eq!(problem.title, "Bad Request");
    /// ```
    pub fn new(status: StatusCode, errors: &ValidationErrors) -> Self {
        let body = ProblemBody::new(status, errors);
        ValidationProblem {
            type_uri: body.type_uri.to_owned(),
            title: body.title.to_owned(),
            status: body.status,
            detail: body.detail.to_string(),
            errors: errors.errors().to_vec(),
        }
    }
}

impl IntoResponse for ValidationProblem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        problem_response(status, &self, self.errors.len())
    }
}

/// A [`ValidationProblem`] as written, borrowing the errors: the answer of a refused
/// body is serialized straight from its [`ValidationErrors`], in one pass.
#[derive(Serialize)]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    type_uri: &'static str,
    title: &'static str,
    status: u16,
    #[serde(serialize_with = "serialize_display")]
    detail: Detail,
    errors: &'a [FieldError],
}

impl<'a> ProblemBody<'a> {
    fn new(status: StatusCode, errors: &'a ValidationErrors) -> Self {
        ProblemBody {
            type_uri: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: Detail {
                count: errors.count(),
                listed: errors.errors().len(),
            },
            errors: errors.errors(),
        }
    }
}

/// How many rules are broken, in words, written where it is serialized.
struct Detail {
    count: usize,
    listed: usize,
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.count, self.listed) {
            (count, listed) if listed < count => write!(
                f,
                "The body breaks {count} rules; the first {listed} are listed in `errors`."
            ),
            (1, _) => f.write_str("The body breaks 1 rule; it is described in `errors`."),
            (count, _) => write!(
                f,
                "The body breaks {count} rules; each is listed in `errors`."
            ),
        }
    }
}

fn serialize_display<S: serde::Serializer>(
    value: &impl fmt::Display,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// The problem answer: `body` written once into a buffer sized for its `errors`.
fn problem_response(status: StatusCode, body: &impl Serialize, errors: usize) -> Response {
    let mut bytes = Vec::with_capacity(160 + 192 * errors);
    if serde_json::to_writer(&mut bytes, body).is_err() {
        bytes.clear();
    }
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))
        .body(bytes)
}

impl<T: Validate> poem_openapi::payload::Payload for ValidJson<T> {
    const CONTENT_TYPE: &'static str = "application/json; charset=utf-8";

    fn check_content_type(content_type: &str) -> bool {
        is_json(content_type)
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// `application/json` or `application/<anything>+json`, as poem-openapi's `Json`
/// (without regard to case; nothing allocated).
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split_once(';')
        .map_or(content_type, |(essence, _)| essence);
    let essence = essence.trim().as_bytes();
    const PREFIX: &[u8] = b"application/";
    if essence.len() < PREFIX.len() || !essence[..PREFIX.len()].eq_ignore_ascii_case(PREFIX) {
        return false;
    }
    let subtype = &essence[PREFIX.len()..];
    subtype.eq_ignore_ascii_case(b"json")
        || (subtype.len() >= 5 && subtype[subtype.len() - 5..].eq_ignore_ascii_case(b"+json"))
}

impl<'a, T: Validate> ApiExtractor<'a> for ValidJson<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: <Self as poem_openapi::payload::Payload>::CONTENT_TYPE,
                schema: T::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match read(request, body).await {
            Ok(value) => Ok(ValidJson(value)),
            Err(kind) => {
                let rejection = BodyRejection { kind };
                tracing::debug!(
                    method = %request.method(),
                    path = %request.uri().path(),
                    status = rejection.status().as_u16(),
                    reason = %rejection,
                    "request body refused"
                );
                Err(rejection.into())
            }
        }
    }
}

/// The most of a body's declared size reserved before its bytes arrive.
const MAX_UP_FRONT: usize = 64 * 1024;

async fn read<T: Validate>(request: &Request, body: &mut RequestBody) -> Result<T, Kind> {
    match request.content_type() {
        None => return Err(Kind::NoContentType),
        Some(content_type) if !is_json(content_type) => {
            return Err(Kind::NotJsonContentType(content_type.to_owned()));
        }
        Some(_) => {}
    }
    let limit = request
        .data::<BodyLimit>()
        .copied()
        .unwrap_or_default()
        .get();
    // A declared length over the limit is refused before a byte is read.
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(Kind::TooLarge(limit));
    }
    let body = body
        .take()
        .map_err(|error| Kind::Unreadable(error.to_string()))?;
    // Read up to the limit and no further (a body of unknown length, chunked, or one
    // longer than declared), straight into one buffer of the declared size: poem's
    // `into_bytes_limit` zeroes a 4 KiB buffer per call and copies through it.
    // The declared size is the client's word: reserve at most 64 KiB on it, so a client
    // declaring the limit and sending nothing holds no more than that; a larger body
    // grows the buffer as it arrives.
    let capacity = declared.map_or(0, |length| (length as usize).min(MAX_UP_FRONT));
    let mut bytes = Vec::with_capacity(capacity);
    body.into_async_read()
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|error| Kind::Unreadable(error.to_string()))?;
    if bytes.len() > limit {
        return Err(Kind::TooLarge(limit));
    }
    // Straight into the model when it can be: the same value, the same rules in the
    // same order, so the same answer as the `Value` pass, which reads anything else.
    if let Some(model) = T::__read_direct(&bytes) {
        return model.validate().map(|()| model).map_err(Kind::Invalid);
    }
    let value = parse_json(&bytes)?;
    T::from_json(value).map_err(Kind::Invalid)
}

/// The body as JSON, or a 400 that says where it stops being JSON. serde_json
/// refuses values nested deeper than 128 levels, so a hostile body cannot exhaust
/// the stack.
fn parse_json(bytes: &[u8]) -> Result<Value, Kind> {
    let malformed = |code: &'static str, detail: Cow<'static, str>, params: Params| {
        Kind::Malformed(ValidationErrors {
            errors: vec![FieldError {
                pointer: Cow::Borrowed(""),
                code: Cow::Borrowed(code),
                detail,
                params,
                value: None,
            }],
            omitted: 0,
        })
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(malformed(
            "required",
            Cow::Borrowed("is empty: send a JSON object"),
            Params::new(),
        ));
    }
    serde_json::from_slice(bytes).map_err(|error| {
        let mut params = Params::new();
        params.insert("line", error.line());
        params.insert("column", error.column());
        let text = error.to_string();
        match text.starts_with("recursion limit exceeded") {
            true => malformed(
                "too_deep",
                Cow::Borrowed("nests arrays and objects deeper than 128 levels"),
                params,
            ),
            false => malformed(
                "json_syntax",
                Cow::Owned(format!("is not valid JSON: {text}")),
                params,
            ),
        }
    })
}

/// The answers a validated body can add to an operation, for its documentation.
pub(crate) fn body_responses() -> Vec<MetaResponse> {
    let validation = <ValidationProblem as Type>::schema_ref;
    let problem = <ProblemDetails as Type>::schema_ref;
    let response = |status, description, schema: fn() -> MetaSchemaRef| MetaResponse {
        description,
        status: Some(status),
        status_range: None,
        content: vec![MetaMediaType {
            content_type: PROBLEM_JSON,
            schema: schema(),
        }],
        headers: Vec::new(),
    };
    vec![
        response(
            400,
            "The body is empty or not JSON (or nests deeper than 128 levels)",
            validation,
        ),
        response(
            413,
            "The body is larger than the service's limit (1 MiB unless configured)",
            problem,
        ),
        response(415, "The body is not sent as `application/json`", problem),
        response(
            422,
            "The body breaks the model's rules: missing fields, wrong types, unknown fields \
             or broken rules, each listed in `errors` with its JSON Pointer",
            validation,
        ),
    ]
}

/// Registers the schemas of [`body_responses`].
pub(crate) fn register_body_responses(registry: &mut Registry) {
    <ValidationProblem as Type>::register(registry);
    <ProblemDetails as Type>::register(registry);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        for json in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert!(is_json(json), "{json}");
        }
        for other in [
            "text/plain",
            "application/xml",
            "application/jsonx",
            "json",
            "",
        ] {
            assert!(!is_json(other), "{other}");
        }
    }

    #[test]
    fn deep_nesting_is_a_400_not_a_stack_overflow() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let Err(Kind::Malformed(errors)) = parse_json(deep.as_bytes()) else {
            panic!("deep nesting must be refused");
        };
        assert_eq!(errors.errors()[0].code, "too_deep");
        let object = "{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000);
        assert!(matches!(
            parse_json(object.as_bytes()),
            Err(Kind::Malformed(_))
        ));
    }

    #[test]
    fn syntax_errors_say_where() {
        let Err(Kind::Malformed(errors)) = parse_json(b"{\"a\": }") else {
            panic!("not JSON");
        };
        let error = &errors.errors()[0];
        assert_eq!(error.code, "json_syntax");
        assert_eq!(error.pointer, "");
        assert_eq!(error.params["line"], Value::from(1));
        assert_eq!(error.params["column"], Value::from(7));
        let Err(Kind::Malformed(errors)) = parse_json(b"  \n") else {
            panic!("empty");
        };
        assert_eq!(errors.errors()[0].code, "required");
    }
}
