//! Every answer a black-box test receives is checked against the OpenAPI document the
//! service serves: the operation must list the status, the content type must be the one
//! documented for it, and a JSON body must validate against the declared schema (formats
//! included, so a `date-time` without an offset fails). `helpers::TestApp::send` calls
//! [`check`] on every answer, so the whole suite, the journeys above all, keeps the
//! document honest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::Method;
use serde_json::{json, Value};

fn document() -> &'static Value {
    cla_tracker::http::openapi::document()
}

/// The documented operation a request reached: its path template and its object.
fn operation(method: &Method, path: &str) -> Option<(&'static str, &'static Value)> {
    let paths = document()["paths"].as_object()?;
    let (template, item) = paths.iter().find(|(template, _)| matches(template, path))?;
    let op = item.get(method.as_str().to_lowercase())?;
    Some((template.as_str(), op))
}

fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
}

/// A validator for one declared schema, compiled once per (operation, status, type).
fn validator(key: String, schema: &Value) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    cache.entry(key).or_insert_with(|| Arc::new(compile(schema))).clone()
}

/// The schema as a standalone JSON Schema (2020-12, as OpenAPI 3.1 uses), with the
/// document's components beside it so `#/components/schemas/...` resolves.
fn compile(schema: &Value) -> jsonschema::Validator {
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": document()["components"],
    });
    for (k, v) in schema.as_object().expect("a schema object") {
        root[k] = v.clone();
    }
    jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("the document's schema does not compile: {e}"))
}

/// Checks one answer against the document; panics naming what does not match. Answers to
/// requests the document does not describe (pages, a method a path lacks) are not checked.
pub fn check(method: &Method, path: &str, status: u16, content_type: &str, body: &str) {
    let path = path.split('?').next().unwrap_or(path);
    let Some((template, op)) = operation(method, path) else {
        return;
    };
    // A server error is never documented; tests that provoke one on purpose (a broken
    // audit table) assert it themselves, and schemathesis fails CI on any.
    if status >= 500 {
        return;
    }
    let what = format!("{method} {path}");
    let responses = &op["responses"];
    let response = responses
        .get(status.to_string())
        .unwrap_or_else(|| {
            let listed: Vec<&String> = responses.as_object().map(|r| r.keys().collect()).unwrap_or_default();
            panic!("{what} answered {status}, which the document does not list for {template} (it lists {listed:?}); body: {body}")
        });
    let Some(content) = response["content"].as_object() else {
        assert!(
            body.is_empty(),
            "{what} {status}: the document declares no body, got {body}"
        );
        return;
    };
    let media = content_type.split(';').next().unwrap_or("").trim();
    let declared = content.get(media).unwrap_or_else(|| {
        panic!(
            "{what} {status}: content type {media:?} is not among those documented, {:?}",
            content.keys().collect::<Vec<_>>()
        )
    });
    if !media.ends_with("json") {
        return;
    }
    let value: Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{what} {status}: the body is not JSON ({e}): {body}"));
    let schema = &declared["schema"];
    let validator = validator(format!("{} {template} {status} {media}", method.as_str()), schema);
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} {status}: the answer does not match the document's schema:\n  {}\nbody: {body}",
        errors.join("\n  ")
    );
}

/// The checker itself must be able to fail, or the whole suite proves nothing.
#[test]
fn the_checker_refuses_what_the_document_does_not_describe() {
    let appointment = json!({
        "id": "0b9e4c1e-8a7d-4b5f-9a51-2b7c9c3e1f00", "assessment_id": "0b9e4c1e-8a7d-4b5f-9a51-2b7c9c3e1f01",
        "starts_at": "2026-06-12T10:30:00+01:00", "clinician": "Dr Patel", "location": "Clinic",
        "booked_on": "2026-06-01", "outcome": null, "outcome_recorded_on": null, "version": 1,
    });
    let path = "/api/v1/appointments/0b9e4c1e-8a7d-4b5f-9a51-2b7c9c3e1f00";
    check(&Method::GET, path, 200, "application/json", &appointment.to_string());
    let fails = |status: u16, content_type: &'static str, body: String| {
        std::panic::catch_unwind(move || check(&Method::GET, path, status, content_type, &body)).is_err()
    };
    let mut no_offset = appointment.clone();
    no_offset["starts_at"] = json!("2026-06-12T10:30:00");
    assert!(
        fails(200, "application/json", no_offset.to_string()),
        "a date-time needs an offset"
    );
    let mut missing = appointment.clone();
    missing.as_object_mut().expect("an object").remove("version");
    assert!(fails(200, "application/json", missing.to_string()), "required fields");
    assert!(fails(418, "application/json", "{}".into()), "an undocumented status");
    let problem =
        json!({"type": "/problems/not-found", "title": "Not found", "status": 404, "detail": "x", "errors": []});
    check(
        &Method::GET,
        path,
        404,
        "application/problem+json",
        &problem.to_string(),
    );
    assert!(
        fails(404, "application/json", problem.to_string()),
        "errors are problem+json"
    );
}
