//! The OpenAPI document as poem-openapi writes it, plus what poem-openapi has no
//! way to write: serve it with [`spec_endpoint`] in place of poem-openapi's own.
//!
//! Today that is `additionalProperties: false` for a validated model that refuses
//! unknown fields (poem-openapi's schema type cannot hold a boolean there). Without
//! this endpoint, the document says the same thing in a longer form: a schema that
//! no value satisfies.

use crate::validation::runtime::NO_ADDITIONAL_PROPERTIES;
use poem::{Endpoint, Response, endpoint::make_sync};
use poem_openapi::{OpenApi, OpenApiService, Webhook};
use serde_json::Value;

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
    let raw = service.spec();
    let Ok(mut document) = serde_json::from_str::<Value>(&raw) else {
        return raw;
    };
    refine(&mut document);
    serde_json::to_string_pretty(&document).unwrap_or(raw)
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
