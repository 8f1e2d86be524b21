//! Operations: liveness, readiness, the OpenAPI document and the headers every answer
//! carries.

use serde_json::Value;

use crate::helpers::{spawn_app, Backend, Resp};

both!(
    health_and_ready_answer,
    openapi_document_describes_every_contract_path,
    answers_carry_security_headers
);

async fn health_and_ready_answer(b: Backend) {
    let app = spawn_app(b, "2026-02-16").await;
    let h = app.get("/health").await;
    assert_eq!(h.status, 200, "{}", h.text);
    assert_eq!(h.json["status"], "ok");
    let r = app.get("/ready").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "ready");
}

const CONTRACT_PATHS: [(&str, &str); 17] = [
    ("/api/v1/children", "post"),
    ("/api/v1/children", "get"),
    ("/api/v1/children/{id}", "get"),
    ("/api/v1/children/{id}/periods", "post"),
    ("/api/v1/periods/{id}/placements", "post"),
    ("/api/v1/periods/{id}/end", "post"),
    ("/api/v1/assessments", "get"),
    ("/api/v1/assessments/{id}", "get"),
    ("/api/v1/assessments/{id}/notification", "post"),
    ("/api/v1/assessments/{id}/consent", "post"),
    ("/api/v1/assessments/{id}/appointments", "post"),
    ("/api/v1/appointments/{id}/outcome", "post"),
    ("/api/v1/assessments/{id}/completion", "post"),
    ("/api/v1/assurance/iha", "get"),
    ("/api/v1/calendar/holidays", "get"),
    ("/api/v1/calendar/add-working-days", "get"),
    ("/api/v1/out-of-area-requests/{id}", "post"),
];

async fn openapi_document_describes_every_contract_path(b: Backend) {
    let app = spawn_app(b, "2026-02-16").await;
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status, 200);
    assert!(r.content_type().starts_with("application/json"), "{}", r.content_type());
    let doc = &r.json;
    let version = doc["openapi"].as_str().unwrap_or("");
    assert!(version.starts_with("3."), "an OpenAPI 3 document, got {version:?}");
    assert!(
        doc["info"]["title"].is_string() && doc["info"]["version"].is_string(),
        "info: {}",
        doc["info"]
    );
    let paths = doc["paths"].as_object().expect("paths is an object");
    for (path, method) in CONTRACT_PATHS {
        let op = &paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing from the OpenAPI document"))[method];
        assert!(op.is_object(), "{method} {path} missing");
        let responses = op["responses"].as_object().expect("responses");
        assert!(!responses.is_empty(), "{method} {path} documents its responses");
    }
    // Every $ref points at a schema that exists.
    let schemas = doc["components"]["schemas"].as_object().expect("component schemas");
    let mut refs = Vec::new();
    collect_refs(doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(schemas.contains_key(name), "dangling $ref {r}");
    }
    // Path parameters are declared.
    for (path, item) in paths {
        if path.contains("{id}") {
            for (method, op) in item.as_object().expect("path item") {
                let declared = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == "id" && p["in"] == "path"));
                assert!(declared, "{method} {path} declares its id parameter");
            }
        }
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(s) = x.as_str() {
                        out.push(s.to_string());
                    }
                } else {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

#[track_caller]
fn assert_security_headers(r: &Resp, what: &str) {
    let h = |name: &str| {
        r.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert!(
        h("cache-control").contains("no-store"),
        "{what}: cache-control {:?}",
        h("cache-control")
    );
}

async fn answers_carry_security_headers(b: Backend) {
    let app = spawn_app(b, "2026-02-16").await;
    assert_security_headers(&app.get("/health").await, "GET /health");
    assert_security_headers(&app.get("/children").await, "GET /api/v1/children");
    assert_security_headers(&app.get("/api/openapi.json").await, "GET /api/openapi.json");
    let missing = app.get("/children/00000000-0000-4000-8000-000000000000").await;
    assert_eq!(missing.status, 404);
    assert_security_headers(&missing, "a 404 problem");
    let wrong = app.send(reqwest::Method::DELETE, "/children", None, &[]).await;
    assert_eq!(wrong.status, 405);
    assert_security_headers(&wrong, "a 405");
    for path in ["/health", "/ready", "/api/openapi.json"] {
        let r = app.send(reqwest::Method::POST, path, None, &[]).await;
        assert_eq!(
            (r.status, r.content_type()),
            (405, "application/problem+json"),
            "POST {path}"
        );
        assert_eq!(
            r.headers.get("allow").and_then(|v| v.to_str().ok()),
            Some("GET"),
            "POST {path}"
        );
    }
}
