//! The OpenAPI document as poem-openapi writes it, plus what poem-openapi has no
//! way to write: serve it with [`spec_endpoint`] in place of poem-openapi's own.
//!
//! Today that is:
//! - `additionalProperties: false` for a validated model that refuses unknown fields
//!   (poem-openapi's schema type cannot hold a boolean there). Without this endpoint,
//!   the document says the same thing in a longer form: a schema that no value
//!   satisfies.
//! - a path spelt with a trailing slash (`/users/me/`) as written, where poem-openapi
//!   drops the slash. Without this endpoint, the document names the path without it,
//!   and each of its responses carries an `x-secure-api-declared-path` header that
//!   says how it was written.
//!
//! [`swagger_ui`] serves Swagger UI on that same document, with its
//! `Content-Security-Policy` computed once, when the service is built.

use crate::headers::{SWAGGER_UI_CSP, inline_script_hashes};
use crate::validation::runtime::NO_ADDITIONAL_PROPERTIES;
use poem::{Body, Endpoint, Response, endpoint::make_sync, http::header};
use poem_openapi::registry::{MetaHeader, MetaResponses, MetaSchema, MetaSchemaRef};
use poem_openapi::{OpenApi, OpenApiService, Webhook};
use serde_json::{Map, Value};

/// The document, as JSON.
///
/// ```
/// use secure_api::validation::{Validate, ValidJson};
/// use secure_api::poem_openapi::{OpenApiService, payload::PlainText};
/// use secure_api::prelude::*;
///
/// #[derive(Validate)]
/// struct Note { #[validate(length(max = 140))] text: String }
///
/// struct Api;
/// #[secure_api]
/// impl Api {
///     /// Post a note
///     #[oai(path = "/notes", method = "post")]
///     async fn post(&self, note: ValidJson<Note>) -> PlainText<String> { PlainText(note.0.text) }
/// }
///
/// let document: serde_json::Value =
///     serde_json::from_str(&secure_api::openapi::spec(&OpenApiService::new(Api, "notes", "1"))).unwrap();
/// assert_eq!(document["components"]["schemas"]["Note"]["additionalProperties"], false);
/// ```
pub fn spec<T: OpenApi, W: Webhook>(service: &OpenApiService<T, W>) -> String {
    refined(service.spec())
}

fn refined(raw: String) -> String {
    let Ok(mut document) = serde_json::from_str::<Value>(&raw) else {
        return raw;
    };
    refine(&mut document);
    if let Some(Value::Object(paths)) = document.get_mut("paths") {
        *paths = with_declared_paths(std::mem::take(paths));
    }
    serde_json::to_string_pretty(&document).unwrap_or(raw)
}

/// The header by which an operation's responses carry its path as written, from
/// `Guarded::meta` (the only part of an operation's document the framework writes) to
/// [`with_declared_paths`].
const DECLARED_PATH_HEADER: &str = "x-secure-api-declared-path";

/// Marks each of an operation's responses with its path as written.
pub(crate) fn mark_declared_path(meta: &mut MetaResponses, path: &'static str) {
    for response in &mut meta.responses {
        response.headers.push(MetaHeader {
            name: DECLARED_PATH_HEADER.to_owned(),
            description: Some(path.to_owned()),
            required: false,
            deprecated: false,
            schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
        });
    }
}

/// The document's paths, each operation under its path as written: the marks of
/// [`mark_declared_path`] are read and removed, and a path item whose operations were
/// written differently (`GET /users` and `POST /users/`) is split in two.
fn with_declared_paths(paths: Map<String, Value>) -> Map<String, Value> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let mut spelt = Map::new();
    for (path, item) in paths {
        let Value::Object(item) = item else {
            spelt.insert(path, item);
            continue;
        };
        let (operations, shared): (Vec<_>, Vec<_>) = item
            .into_iter()
            .partition(|(key, _)| METHODS.contains(&key.as_str()));
        for (method, mut operation) in operations {
            // Only this very path with its slash (behind the API's `prefix_path`, if
            // any), never another one.
            let declared = take_declared_path(&mut operation)
                .filter(|declared| path.ends_with(declared.trim_end_matches('/')));
            let key = match declared {
                Some(_) => format!("{}/", path.trim_end_matches('/')),
                None => path.clone(),
            };
            let target = spelt
                .entry(key)
                .or_insert_with(|| Value::Object(shared.iter().cloned().collect()));
            if let Value::Object(target) = target {
                target.insert(method, operation);
            }
        }
    }
    spelt
}

/// The path an operation's responses are marked with, the marks removed.
fn take_declared_path(operation: &mut Value) -> Option<String> {
    let mut declared = None;
    let responses = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut);
    for response in responses.into_iter().flat_map(|r| r.values_mut()) {
        let Some(headers) = response.get_mut("headers").and_then(Value::as_object_mut) else {
            continue;
        };
        if let Some(mark) = headers.remove(DECLARED_PATH_HEADER) {
            declared = mark["description"].as_str().map(str::to_owned);
        }
        if headers.is_empty()
            && let Some(response) = response.as_object_mut()
        {
            response.remove("headers");
        }
    }
    declared
}

/// Swagger UI on the [`spec`] document (the one `/openapi.json` serves, where
/// poem-openapi's own page embeds its unrefined document), to nest under a prefix
/// such as `/docs`.
///
/// The page is ~1.6 MB of inline scripts, so it is built, and its
/// `Content-Security-Policy` ([`SWAGGER_UI_CSP`] with the hash of each inline script)
/// computed, once, here: each request then clones a shared buffer. The page's policy
/// is its own, so [`SecurityHeaders`](crate::headers::SecurityHeaders) keep it
/// whether or not they are told about `/docs`; the password flow of the Authorize
/// button posts to the token URL, which the policy's `connect-src 'self'` allows.
///
/// ```
/// use secure_api::poem::Route;
/// use secure_api::poem_openapi::{OpenApi, OpenApiService, payload::PlainText};
///
/// struct Api;
/// #[OpenApi]
/// impl Api {
///     #[oai(path = "/hello", method = "get")]
///     async fn hello(&self) -> PlainText<&'static str> { PlainText("hello") }
/// }
///
/// let service = OpenApiService::new(Api, "hello", "1");
/// let docs = secure_api::openapi::swagger_ui(&service);
/// let app = Route::new().nest("/docs", docs).nest("/", service);
/// ```
pub fn swagger_ui<T: OpenApi, W: Webhook>(
    service: &OpenApiService<T, W>,
) -> impl Endpoint + 'static {
    let raw = service.spec();
    let page = service.swagger_ui_html();
    // poem-openapi embeds `spec()` verbatim; were it ever spelt otherwise, its page
    // would still work, on its own document.
    let page = page.replacen(&raw, &refined(raw.clone()), 1);
    let csp = crate::headers::csp_value(SWAGGER_UI_CSP, &inline_script_hashes(&page));
    let page = hyper::body::Bytes::from(page);
    poem::Route::new().at(
        "/",
        make_sync(move |_| {
            Response::builder()
                .content_type("text/html; charset=utf-8")
                .header(header::CONTENT_SECURITY_POLICY, csp.clone())
                .body(Body::from_bytes(page.clone()))
        }),
    )
}

/// An endpoint that serves [`spec`] as `application/json`, computed once.
///
/// ```
/// use secure_api::poem::Route;
/// use secure_api::poem_openapi::{OpenApi, OpenApiService, payload::PlainText};
///
/// struct Api;
/// #[OpenApi]
/// impl Api {
///     #[oai(path = "/hello", method = "get")]
///     async fn hello(&self) -> PlainText<&'static str> { PlainText("hello") }
/// }
///
/// let service = OpenApiService::new(Api, "hello", "1");
/// let app = Route::new().at("/openapi.json", secure_api::openapi::spec_endpoint(&service));
/// ```
pub fn spec_endpoint<T: OpenApi, W: Webhook>(
    service: &OpenApiService<T, W>,
) -> impl Endpoint + 'static {
    let document = spec(service);
    make_sync(move |_| {
        Response::builder()
            .content_type("application/json")
            .body(document.clone())
    })
}

fn refine(value: &mut Value) {
    match value {
        Value::Object(object) => {
            if let Some(additional) = object.get_mut("additionalProperties")
                && additional.get("description").and_then(Value::as_str)
                    == Some(NO_ADDITIONAL_PROPERTIES)
            {
                *additional = Value::Bool(false);
            }
            object.values_mut().for_each(refine);
        }
        Value::Array(items) => items.iter_mut().for_each(refine),
        _ => {}
    }
}
