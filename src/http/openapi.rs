//! The OpenAPI document, generated from the handlers' annotations and then brought in line
//! with the conventions every operation shares ([`Conventions`]).
//!
//! Rules the document keeps (tests below check each):
//! - query parameters are `in: query`, and only those a handler requires are required;
//! - every `/api/v1` operation (and `/metrics`) names its security: a bearer token, or the
//!   session cookie (plus the `X-CSRF-Token` header for anything but a read); public routes
//!   have none;
//! - every error answer is `application/problem+json` with the `Problem` schema, and each
//!   operation lists the errors it can give: 401 and (where some role is refused, or a
//!   session write lacks its CSRF token) 403 under `/api/v1`; 400 wherever it reads a query
//!   or a body; 413 and 415 wherever it reads a body; 404 wherever a path names an id.

use std::sync::OnceLock;

use serde_json::{json, Value};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::Response;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use super::auth::{CSRF_HEADER, SESSION_COOKIE};
use super::{
    accounts, admin, assessments, assurance, calendar, care, children, delays, escalations, meetings, ops, periods,
    reports,
};
use crate::access::{self, Role};

#[derive(OpenApi)]
#[openapi(
    info(title = "cla-tracker", description = "Statutory health assessments for Children Looked After (England). \
        Dates are YYYY-MM-DD; timestamps are RFC 3339 with an offset. Errors are RFC 9457 problem documents. \
        Every list answers one page as {items, total, limit, offset}: limit 1-1000, offset from 0."),
    paths(
        ops::health, ops::ready, ops::metrics,
        children::create, children::search, children::get, children::update, children::add_health_check, children::add_note,
        periods::start, periods::change_placement, periods::end, periods::change_legal_status,
        care::complete, care::open_sealed,
        assessments::list, assessments::get, assessments::notification, assessments::consent, assessments::appointment,
        assessments::get_appointment,
        assessments::outcome, assessments::completion, assessments::reoffer_step, assessments::not_required,
        assessments::close_step, assessments::out_of_area, assessments::withdrawal,
        assurance::iha,
        reports::kpi, reports::kpi_csv, reports::drill_down, reports::kpi_xlsx, reports::publications,
        reports::publish, reports::restatement, delays::delays,
        calendar::holidays, calendar::add_working_days, calendar::preview, calendar::import,
        admin::me, admin::users, admin::tokens, admin::revoke, admin::access_history, admin::export,
        accounts::add_user, accounts::disable_user, accounts::unlock_user, accounts::reset_password,
        accounts::organisations, accounts::add_organisation, accounts::team_manager, accounts::host_icb_nurse,
        accounts::issue_token, accounts::verify,
        escalations::list, escalations::outbox_list, escalations::requeue,
        meetings::list, meetings::open, meetings::get, meetings::add_action, meetings::add_note, meetings::actions,
        meetings::close,
    ),
    components(schemas(crate::error::Problem)),
    modifiers(&Conventions),
    tags(
        (name = "children"), (name = "periods"), (name = "assessments"), (name = "assurance"), (name = "reports"),
        (name = "calendar"), (name = "operations"), (name = "accounts"), (name = "audit"), (name = "escalations"),
    )
)]
pub struct ApiDoc;

pub const BEARER: &str = "bearer";
pub const SESSION: &str = "session";
pub const CSRF: &str = "csrf";
const PROBLEM_JSON: &str = "application/problem+json";

/// Applies the shared conventions to every operation (see the module docs).
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.security_schemes.insert(
            BEARER.into(),
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token (`cla-tracker token issue`)."))
                    .build(),
            ),
        );
        components.security_schemes.insert(
            SESSION.into(),
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The browser's session, set by signing in at /login.",
            ))),
        );
        components.security_schemes.insert(
            CSRF.into(),
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "With the session cookie, every request but a read carries the session's CSRF token.",
            ))),
        );
        debug_assert!(CSRF_HEADER.eq_ignore_ascii_case("X-CSRF-Token"));
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, op) in operations(item) {
                apply(path, method, op);
            }
        }
    }
}

/// Where the ids in an answer lead (OpenAPI links): from (method, path, status) to the
/// operations whose `id` the JSON pointer names. Clients, and schemathesis's stateful
/// tests, follow them through a child's journey.
const LINKS: &[(&str, &str, &str, &str, &[&str])] = &[
    ("POST", "/api/v1/children", "201", "/id", CHILD_OPS),
    ("GET", "/api/v1/children", "200", "/items/0/id", CHILD_OPS),
    ("GET", "/api/v1/children/{id}", "200", "/periods/0/id", PERIOD_OPS),
    (
        "GET",
        "/api/v1/children/{id}",
        "200",
        "/assessments/0/id",
        ASSESSMENT_OPS,
    ),
    (
        "GET",
        "/api/v1/children/{id}",
        "200",
        "/appointments/0/id",
        APPOINTMENT_OPS,
    ),
    ("GET", "/api/v1/children/{id}", "200", "/consents/0/id", &["withdrawal"]),
    (
        "GET",
        "/api/v1/children/{id}",
        "200",
        "/out_of_area_requests/0/id",
        &["out_of_area"],
    ),
    ("POST", "/api/v1/children/{id}/periods", "201", "/period/id", PERIOD_OPS),
    (
        "POST",
        "/api/v1/children/{id}/periods",
        "201",
        "/assessment/id",
        ASSESSMENT_OPS,
    ),
    ("GET", "/api/v1/assessments", "200", "/items/0/id", ASSESSMENT_OPS),
    ("GET", "/api/v1/assessments/{id}", "200", "/id", ASSESSMENT_OPS),
    (
        "POST",
        "/api/v1/assessments/{id}/notification",
        "200",
        "/id",
        ASSESSMENT_OPS,
    ),
    ("POST", "/api/v1/assessments/{id}/consent", "200", "/id", ASSESSMENT_OPS),
    (
        "POST",
        "/api/v1/assessments/{id}/appointments",
        "201",
        "/id",
        ASSESSMENT_OPS,
    ),
    (
        "POST",
        "/api/v1/assessments/{id}/appointments",
        "201",
        "/appointment/id",
        APPOINTMENT_OPS,
    ),
    (
        "POST",
        "/api/v1/appointments/{id}/outcome",
        "200",
        "/id",
        ASSESSMENT_OPS,
    ),
    ("GET", "/api/v1/outbox", "200", "/items/0/id", &["requeue"]),
];
const CHILD_OPS: &[&str] = &[
    "get_child",
    "update",
    "add_note",
    "add_health_check",
    "start",
    "access_history",
];
const PERIOD_OPS: &[&str] = &["change_placement", "end", "change_legal_status"];
const ASSESSMENT_OPS: &[&str] = &[
    "get_assessment",
    "notification",
    "consent",
    "appointment",
    "completion",
    "reoffer_step",
    "not_required",
    "close_step",
];
const APPOINTMENT_OPS: &[&str] = &["get_appointment", "outcome"];

/// Adds [`LINKS`] to the serialised document. (utoipa 5.5 writes a link's fields in
/// snake_case, `operation_id`, where OpenAPI says `operationId`, so links are added here.)
fn add_links(doc: &mut Value) {
    for (method, path, status, pointer, targets) in LINKS {
        let response = &mut doc["paths"][*path][method.to_lowercase()]["responses"][*status];
        if !response.is_object() {
            continue;
        }
        for target in *targets {
            let name = format!("{target}{}", pointer.replace('/', "_"));
            response["links"][name] = json!({
                "operationId": target,
                "parameters": { "id": format!("$response.body#{pointer}") },
            });
        }
    }
}

/// The document as served at `/api/openapi.json`, built once.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        add_links(&mut doc);
        doc
    })
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("GET", item.get.as_mut()),
        ("POST", item.post.as_mut()),
        ("PATCH", item.patch.as_mut()),
        ("PUT", item.put.as_mut()),
        ("DELETE", item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

fn apply(path: &str, method: &str, op: &mut Operation) {
    let reads_query = op.parameters.as_ref().is_some_and(|ps| {
        ps.iter()
            .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
    });
    let reads_body = op.request_body.is_some();
    if protected(path) {
        let read = method == "GET";
        op.security = Some(vec![
            SecurityRequirement::new(BEARER, Vec::<String>::new()),
            if read {
                SecurityRequirement::new(SESSION, Vec::<String>::new())
            } else {
                SecurityRequirement::new(SESSION, Vec::<String>::new()).add(CSRF, Vec::<String>::new())
            },
        ]);
        add_problem(
            op,
            401,
            "Not signed in, or the credentials are invalid, expired or revoked",
        );
        if !read || !everyone_may(method, path) {
            add_problem(
                op,
                403,
                "The role may not do this (or a session write lacks its CSRF token)",
            );
        }
    }
    if reads_query || reads_body {
        add_problem(
            op,
            400,
            "Malformed: unreadable JSON, a wrong type, or an unknown parameter",
        );
    }
    if reads_body {
        add_problem(op, 413, "The body is larger than the server accepts");
        add_problem(op, 415, "The body is not sent as application/json");
    }
    if path.contains("{id}") {
        add_problem(op, 404, "No such record (or one outside your scope)");
    }
    for (status, response) in op.responses.responses.iter_mut() {
        if status.starts_with('4') || status.starts_with('5') {
            if let RefOr::T(response) = response {
                response.content.clear();
                response.content.insert(PROBLEM_JSON.into(), problem_content());
            }
        }
    }
}

/// Whether the route needs credentials: all of `/api/v1`, and `/metrics`.
fn protected(path: &str) -> bool {
    path.starts_with("/api/v1") || path == "/metrics"
}

/// Whether every role may perform the route's action (then no 403 can come of it).
fn everyone_may(method: &str, path: &str) -> bool {
    let concrete = path.replace("{id}", "00000000-0000-4000-8000-000000000000");
    access::route_action(method, &concrete).is_some_and(|action| Role::ALL.iter().all(|r| access::permits(*r, action)))
}

fn add_problem(op: &mut Operation, status: u16, description: &str) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::T(Response::new(description)));
}

fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name("Problem")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::ROUTES;

    fn document() -> Value {
        super::document().clone()
    }

    /// Every (method, path, operation) of the document.
    fn each_operation(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths").iter() {
            for (method, op) in item.as_object().expect("methods") {
                out.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
        out
    }

    fn documented() -> Vec<(String, String)> {
        each_operation(&document())
            .into_iter()
            .map(|(m, p, _)| (m, p))
            .collect()
    }

    /// Deny by default only works if every route is in the table: a route the table does
    /// not know is refused, so an undocumented gap would show up as a dead endpoint.
    #[test]
    fn every_api_route_has_an_action_in_the_permission_table() {
        for (method, path) in documented().into_iter().filter(|(_, p)| p.starts_with("/api/v1")) {
            let concrete = path.replace("{id}", "0b9e4c1e-8a7d-4b5f-9a51-2b7c9c3e1f00");
            assert!(
                access::route_action(&method, &concrete).is_some(),
                "{method} {path} is not in access::ROUTES"
            );
        }
    }

    #[test]
    fn every_table_route_is_documented() {
        let documented = documented();
        for (method, path, _) in ROUTES {
            assert!(
                documented.iter().any(|(m, p)| m == method.as_str() && p == path),
                "{} {path} is in access::ROUTES but not in the OpenAPI document",
                method.as_str()
            );
        }
    }

    #[test]
    fn parameters_are_where_the_handler_reads_them() {
        for (method, path, op) in each_operation(&document()) {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().expect("a parameter name");
                let in_path = path.contains(&format!("{{{name}}}"));
                let want = if in_path { "path" } else { "query" };
                assert_eq!(p["in"], want, "{method} {path}: parameter {name}");
                if in_path {
                    assert_eq!(p["required"], true, "{method} {path}: path parameter {name}");
                }
            }
        }
    }

    #[test]
    fn optional_query_parameters_are_not_required() {
        let doc = document();
        let params = &doc["paths"]["/api/v1/assessments"]["get"]["parameters"];
        let required: Vec<&str> = params
            .as_array()
            .expect("parameters")
            .iter()
            .filter(|p| p["required"] == true)
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(required.is_empty(), "every filter is optional, got {required:?}");
        let export = &doc["paths"]["/api/v1/audit/export"]["get"]["parameters"];
        for p in export.as_array().expect("parameters") {
            assert_eq!(p["required"], true, "export needs from and to: {p}");
        }
    }

    #[test]
    fn every_api_operation_names_its_security_and_public_ones_none() {
        let doc = document();
        let schemes = doc["components"]["securitySchemes"]
            .as_object()
            .expect("security schemes");
        assert_eq!(schemes[BEARER]["scheme"], "bearer");
        assert_eq!(schemes[SESSION]["in"], "cookie");
        assert_eq!(schemes[SESSION]["name"], SESSION_COOKIE);
        for (method, path, op) in each_operation(&doc) {
            let security = op["security"].as_array();
            if !protected(&path) {
                assert!(security.is_none(), "{method} {path} is public");
                continue;
            }
            let security = security.unwrap_or_else(|| panic!("{method} {path} has no security"));
            let names: Vec<Vec<&String>> = security
                .iter()
                .map(|alt| alt.as_object().expect("a requirement").keys().collect())
                .collect();
            assert!(names.iter().any(|alt| alt == &[BEARER]), "{method} {path}: {names:?}");
            let with_session = names
                .iter()
                .find(|alt| alt.iter().any(|n| *n == SESSION))
                .unwrap_or_else(|| panic!("{method} {path}: no session alternative"));
            assert_eq!(
                with_session.iter().any(|n| *n == CSRF),
                method != "GET",
                "{method} {path}: a session write needs the CSRF header, a read does not"
            );
            assert!(op["responses"]["401"].is_object(), "{method} {path} documents 401");
        }
    }

    #[test]
    fn every_error_answer_is_a_problem_document() {
        for (method, path, op) in each_operation(&document()) {
            for (status, response) in op["responses"].as_object().expect("responses") {
                if status.as_str() < "400" {
                    continue;
                }
                let content = response["content"].as_object().expect("error content");
                let types: Vec<&String> = content.keys().collect();
                assert_eq!(types, [PROBLEM_JSON], "{method} {path} {status}");
                assert_eq!(
                    content[PROBLEM_JSON]["schema"]["$ref"], "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
    }

    #[test]
    fn errors_are_documented_where_they_can_happen() {
        for (method, path, op) in each_operation(&document()) {
            let has = |status: &str| op["responses"][status].is_object();
            let reads_query = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
            let reads_body = op["requestBody"].is_object();
            if reads_query || reads_body {
                assert!(has("400"), "{method} {path} documents 400");
            }
            if reads_body {
                assert!(has("415"), "{method} {path} documents 415");
                assert!(has("422"), "{method} {path} documents 422");
            }
            if path.contains("{id}") {
                assert!(has("404"), "{method} {path} documents 404");
            }
            if path.starts_with("/api/v1") && method != "GET" {
                assert!(has("403"), "{method} {path} documents 403 (CSRF)");
            }
            if reads_query
                && op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == "limit"))
            {
                assert!(has("422"), "{method} {path}: a limit out of range is 422");
            }
        }
    }

    #[test]
    fn an_admin_only_read_documents_403_and_me_does_not() {
        let doc = document();
        assert!(doc["paths"]["/api/v1/users"]["get"]["responses"]["403"].is_object());
        assert!(doc["paths"]["/api/v1/me"]["get"]["responses"]["403"].is_null());
    }

    #[test]
    fn operation_ids_are_unique_and_every_link_leads_to_one() {
        let doc = document();
        let mut ids: Vec<String> = each_operation(&doc)
            .iter()
            .filter_map(|(_, _, op)| op["operationId"].as_str().map(str::to_string))
            .collect();
        let count = ids.len();
        assert_eq!(count, each_operation(&doc).len(), "every operation has an id");
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "operation ids are unique");
        let mut links = 0;
        for (method, path, op) in each_operation(&doc) {
            for response in op["responses"].as_object().expect("responses").values() {
                for link in response["links"].as_object().into_iter().flat_map(|l| l.values()) {
                    links += 1;
                    let target = link["operationId"].as_str().expect("a link names its operation");
                    assert!(
                        ids.iter().any(|id| id == target),
                        "{method} {path}: link to unknown {target}"
                    );
                    let to = each_operation(&doc)
                        .into_iter()
                        .find(|(_, _, o)| o["operationId"] == target)
                        .expect("the target");
                    assert!(to.1.contains("{id}"), "{target} takes the id the link passes");
                }
            }
        }
        assert!(links > 20, "the journey's links are there ({links})");
    }

    /// Lists answer one shape: items, total, limit and offset.
    #[test]
    fn every_list_answers_a_page() {
        let doc = document();
        for (method, path, op) in each_operation(&doc) {
            let Some(schema) = op["responses"]["200"]["content"]["application/json"]["schema"].as_object() else {
                continue;
            };
            assert_ne!(
                schema.get("type"),
                Some(&Value::from("array")),
                "{method} {path} answers a bare array"
            );
            let takes_limit = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "limit"));
            if !takes_limit {
                continue;
            }
            let name = schema["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .unwrap_or_else(|| panic!("{method} {path}: a named page schema"));
            let required = doc["components"]["schemas"][name]["required"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for field in ["items", "total", "limit", "offset"] {
                assert!(
                    required.contains(&Value::from(field)),
                    "{method} {path}: {name} lacks {field}"
                );
            }
            let offset = op["parameters"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p["name"] == "offset"));
            assert!(offset.is_some(), "{method} {path} pages with offset too");
        }
    }
}
