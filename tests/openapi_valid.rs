//! The flagship's OpenAPI document validates against the OpenAPI 3 schema, checked
//! by a validator from the ecosystem: `openapi-spec-validator` from PyPI (`.ci/run`
//! installs it with `pip install openapi-spec-validator==0.9.0`).

#[path = "common/flagship.rs"]
mod flagship_service;

use serde_json::Value;
use std::process::{Command, Output};

const VALIDATOR: &str = "openapi-spec-validator";

/// Runs the validator on `document`, written to a file of its own.
fn validate(name: &str, document: &str) -> Output {
    let path = std::env::temp_dir().join(format!("secure-api-{name}-{}.json", std::process::id()));
    std::fs::write(&path, document).unwrap();
    let output = Command::new(VALIDATOR)
        .args(["--validation-errors", "all"])
        .arg(&path)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run `{VALIDATOR}` ({error}): install it with \
                 `pip install openapi-spec-validator==0.9.0` (or `pipx install ...`)"
            )
        });
    let _ = std::fs::remove_file(&path);
    output
}

fn report(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn the_flagship_document_is_valid_openapi_3() {
    let base = format!("http://{}", flagship_service::start().await);
    let document = reqwest::get(format!("{base}/openapi.json"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let parsed: Value = serde_json::from_str(&document).expect("JSON");
    assert!(
        parsed["openapi"].as_str().unwrap_or("").starts_with("3."),
        "{document}"
    );

    let output = validate("flagship-openapi", &document);
    assert!(
        output.status.success(),
        "the flagship's /openapi.json is not valid OpenAPI:\n{}",
        report(&output)
    );

    // The validator does refuse what is wrong: the same document with a response
    // missing its required description.
    let mut broken = parsed;
    let responses = broken["paths"]
        .as_object_mut()
        .and_then(|paths| paths.values_mut().next())
        .and_then(|path| path.as_object_mut()?.values_mut().next())
        .map(|operation| &mut operation["responses"])
        .expect("an operation with responses");
    for response in responses.as_object_mut().unwrap().values_mut() {
        response.as_object_mut().unwrap().remove("description");
    }
    let output = validate("flagship-openapi-broken", &broken.to_string());
    assert!(
        !output.status.success(),
        "a response without a description passed:\n{}",
        report(&output)
    );
}

#[tokio::test]
async fn the_docs_page_shows_the_document_that_is_served() {
    let base = format!("http://{}", flagship_service::start().await);
    let document: Value = reqwest::get(format!("{base}/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let page = reqwest::get(format!("{base}/docs"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let embedded = page
        .split_once("let spec = ")
        .and_then(|(_, rest)| rest.split_once(";\n"))
        .map(|(spec, _)| spec)
        .expect("Swagger UI embeds its document");
    let embedded: Value = serde_json::from_str(embedded).unwrap();
    assert_eq!(embedded, document);
}
