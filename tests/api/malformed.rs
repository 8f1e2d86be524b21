//! Bad input never gets a 5xx: a large batch of malformed and rule-breaking requests at
//! every endpoint, each answered with a 4xx problem document naming the field to blame,
//! and none of them writing anything.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, s, spawn_app, Backend, Resp, TestApp};

both!(
    no_input_gets_a_5xx,
    placement_change_errors_name_the_request_fields,
    missing_field_and_truncated_json_name_the_field,
    negative_search_offset_names_offset,
);

const TODAY: &str = "2026-02-16";
const UNKNOWN: &str = "6f1c1f0e-3b7a-4c55-9d51-0a4a1c2b3d4e";

enum Body {
    None,
    Raw(Vec<u8>),
    Json(Value),
}

struct Case {
    method: Method,
    path: String,
    body: Body,
    headers: Vec<(&'static str, &'static str)>,
    status: u16,
    field: Option<String>,
}

fn case(method: Method, path: &str, body: Body, status: u16, field: Option<&str>) -> Case {
    Case {
        method,
        path: path.to_string(),
        body,
        headers: Vec::new(),
        status,
        field: field.map(str::to_string),
    }
}

fn post(path: &str, body: Value, status: u16, field: &str) -> Case {
    case(Method::POST, path, Body::Json(body), status, Some(field))
}

fn get(path: &str, status: u16, field: Option<&str>) -> Case {
    case(Method::GET, path, Body::None, status, field)
}

/// A valid-looking body with `key` changed (`None` removes it).
fn with(base: &Value, key: &str, value: Option<Value>) -> Value {
    let mut v = base.clone();
    let map = v.as_object_mut().expect("an object body");
    match value {
        Some(x) => {
            map.insert(key.to_string(), x);
        }
        None => {
            map.remove(key);
        }
    }
    v
}

/// A value of the wrong JSON type for a field holding `v`.
fn wrong_type(v: &Value) -> Value {
    match v {
        Value::String(_) => json!(12345),
        Value::Bool(_) => json!("yes"),
        Value::Number(_) => json!("seven"),
        Value::Array(_) => json!("assessment"),
        Value::Object(_) => json!(5),
        Value::Null => json!({"a": 1}),
    }
}

/// Syntax and shape errors that every JSON endpoint must answer with 400 (or 413): built
/// from a valid body so that only the mutation is wrong. `required` lists the fields that
/// cannot be null or missing.
fn shape_cases(method: Method, path: &str, base: &Value, required: &[&str]) -> Vec<Case> {
    let text = base.to_string();
    let mut cases = vec![
        case(method.clone(), path, Body::None, 400, Some("body")),
        case(method.clone(), path, Body::Raw(b"{".to_vec()), 400, None),
        case(method.clone(), path, Body::Raw(b"not json".to_vec()), 400, None),
        case(method.clone(), path, Body::Raw(b"[]".to_vec()), 400, None),
        case(method.clone(), path, Body::Raw(b"null".to_vec()), 400, None),
        case(method.clone(), path, Body::Raw(b"42".to_vec()), 400, None),
        case(
            method.clone(),
            path,
            Body::Raw(format!("{text} x").into_bytes()),
            400,
            None,
        ),
        case(
            method.clone(),
            path,
            Body::Raw(text.as_bytes()[..text.len() / 2].to_vec()),
            400,
            None,
        ),
        case(
            method.clone(),
            path,
            Body::Json(with(base, "surprise", Some(json!(1)))),
            400,
            Some("surprise"),
        ),
        case(
            method.clone(),
            path,
            Body::Raw(format!("{{\"pad\": \"{}\"}}", "x".repeat(70_000)).into_bytes()),
            413,
            None,
        ),
    ];
    for (key, value) in base.as_object().expect("an object body") {
        cases.push(case(
            method.clone(),
            path,
            Body::Json(with(base, key, Some(wrong_type(value)))),
            400,
            Some(key),
        ));
    }
    for key in required {
        cases.push(case(
            method.clone(),
            path,
            Body::Json(with(base, key, Some(Value::Null))),
            400,
            Some(key),
        ));
        // A missing field is reported, though not every deserializer can say which.
        cases.push(case(method.clone(), path, Body::Json(with(base, key, None)), 400, None));
    }
    cases
}

struct Fixture {
    child: String,
    /// Registered, never looked after.
    fresh_child: String,
    /// Aged 19 on TODAY.
    adult: String,
    period: String,
    iha: String,
    appointment: String,
    request: String,
    consent: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let (child, period, iha) = app.child_in_care("M-1", "2014-01-01", "2026-02-02").await;
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2026-02-03"}),
    )
    .await
    .expect(200, "notification");
    app.post(
        &format!("/assessments/{iha}/consent"),
        &json!({"given_on": "2026-02-04", "basis": "local_authority", "given_by": "LA"}),
    )
    .await
    .expect(200, "consent");
    let changed = app
        .post(
            &format!("/periods/{period}/placements"),
            &json!({"started_on": "2026-02-05", "placement_type": "U4", "out_of_area": true, "host_la": "Devon"}),
        )
        .await
        .expect(201, "out-of-area placement");
    let request = s(&changed["out_of_area_request"]["id"]);
    app.book(&iha, "2026-02-06", "2026-02-20T10:00:00Z").await;
    let appointment = app.latest_appointment(&child, &iha).await;
    let consent = s(&app.child(&child).await["consents"][0]["id"]);
    let fresh_child = s(&app.register("M-2", "2014-01-01").await["id"]);
    let adult = s(&app.register("M-3", "2007-01-01").await["id"]);
    Fixture {
        child,
        fresh_child,
        adult,
        period,
        iha,
        appointment,
        request,
        consent,
    }
}

fn cases(f: &Fixture) -> Vec<Case> {
    let mut all = Vec::new();
    let child_body = json!({
        "local_id": "M-NEW", "given_name": "Ben", "family_name": "Jones", "date_of_birth": "2013-03-03",
        "sex": "M", "responsible_la": "SOM", "nhs_number": "9990000026", "uasc": false,
        "gp_practice": "Park Surgery", "social_worker_email": "sw@somerset.gov.uk",
    });
    let period_body = json!({
        "started_on": "2026-02-10", "legal_status": "C2", "category_of_need": "N1",
        "placement": {"placement_type": "U4", "out_of_area": false}, "prior_assessment_on": null,
    });
    let placement_body = json!({"started_on": "2026-02-10", "placement_type": "U4", "out_of_area": false});
    let end_body = json!({"ended_on": "2026-02-10", "reason": "E4A"});
    let notification_body = json!({"received_on": "2026-02-03", "version": 4});
    let consent_body = json!({
        "given_on": "2026-02-04", "basis": "local_authority", "given_by": "LA",
        "scope": ["assessment"], "confirmed_by": "sw", "version": 4,
    });
    let appointment_body = json!({
        "starts_at": "2026-02-20T10:00:00Z", "clinician": "Dr Patel", "location": "Clinic",
        "booked_on": "2026-02-10", "version": 4,
    });
    let outcome_body = json!({"outcome": "cancelled_by_provider", "recorded_on": "2026-02-10", "version": 1});
    let completion_body =
        json!({"seen_on": "2026-02-10", "report_received_on": "2026-02-11", "method": "face_to_face", "version": 4});
    let ooa_body = json!({"version": 1, "requested_on": "2026-02-06"});
    let health_check_body = json!({"kind": "dental", "checked_on": "2026-02-01", "outcome": "fine"});
    let note_body = json!({"body": "Called the carer", "author": "Nurse Ann"});
    let patch_body = json!({"version": 1, "given_name": "Amelia"});

    let c = &f.child;
    let iha = &f.iha;
    let endpoints: Vec<(Method, String, Value, Vec<&str>)> = vec![
        (
            Method::POST,
            "/children".into(),
            child_body.clone(),
            vec![
                "local_id",
                "given_name",
                "family_name",
                "date_of_birth",
                "sex",
                "responsible_la",
            ],
        ),
        (
            Method::POST,
            format!("/children/{}/periods", f.fresh_child),
            period_body.clone(),
            vec!["started_on", "legal_status"],
        ),
        (
            Method::POST,
            format!("/periods/{}/placements", f.period),
            placement_body.clone(),
            vec!["placement_type"],
        ),
        (
            Method::POST,
            format!("/periods/{}/end", f.period),
            end_body.clone(),
            vec!["ended_on", "reason"],
        ),
        (
            Method::POST,
            format!("/assessments/{iha}/notification"),
            notification_body.clone(),
            vec!["received_on"],
        ),
        (
            Method::POST,
            format!("/assessments/{iha}/consent"),
            consent_body.clone(),
            vec!["basis", "given_by"],
        ),
        (
            Method::POST,
            format!("/assessments/{iha}/appointments"),
            appointment_body.clone(),
            vec!["starts_at", "clinician", "location"],
        ),
        (
            Method::POST,
            format!("/appointments/{}/outcome", f.appointment),
            outcome_body.clone(),
            vec!["outcome"],
        ),
        (
            Method::POST,
            format!("/assessments/{iha}/completion"),
            completion_body.clone(),
            vec!["seen_on"],
        ),
        (
            Method::POST,
            format!("/out-of-area-requests/{}", f.request),
            ooa_body.clone(),
            vec!["version"],
        ),
        (
            Method::POST,
            format!("/assessments/{iha}/reoffer"),
            json!({"offered_on": "2026-02-10"}),
            vec!["offered_on"],
        ),
        (
            Method::POST,
            format!("/assessments/{iha}/not-required"),
            json!({"prior_assessment_on": "2026-01-10"}),
            vec!["prior_assessment_on"],
        ),
        (
            Method::POST,
            format!("/assessments/{iha}/close"),
            json!({"closed_on": "2026-02-10", "reason": "moved"}),
            vec!["closed_on", "reason"],
        ),
        (
            Method::POST,
            format!("/consents/{}/withdrawal", f.consent),
            json!({"withdrawn_on": "2026-02-10"}),
            vec!["withdrawn_on"],
        ),
        (
            Method::POST,
            format!("/children/{c}/health-checks"),
            health_check_body.clone(),
            vec!["kind", "checked_on"],
        ),
        (
            Method::POST,
            format!("/children/{c}/notes"),
            note_body.clone(),
            vec!["body", "author"],
        ),
        (
            Method::PATCH,
            format!("/children/{c}"),
            patch_body.clone(),
            vec!["version"],
        ),
    ];
    for (method, path, base, required) in &endpoints {
        all.extend(shape_cases(method.clone(), path, base, required));
    }

    // Every id route: ids that are not UUIDs, and UUIDs that name nothing, are unknown.
    for bad in ["not-a-uuid", "1", "%20", UNKNOWN] {
        for (method, template, base, _) in &endpoints {
            if template == "/children" {
                continue;
            }
            let path = [
                &f.child,
                &f.fresh_child,
                &f.period,
                &f.iha,
                &f.appointment,
                &f.request,
                &f.consent,
            ]
            .iter()
            .fold(template.clone(), |p, id| p.replace(id.as_str(), bad));
            all.push(case(method.clone(), &path, Body::Json(base.clone()), 404, None));
        }
        all.push(get(&format!("/children/{bad}"), 404, None));
        all.push(get(&format!("/assessments/{bad}"), 404, None));
    }

    // Values that break a rule: 422 naming the field.
    let b = &child_body;
    let rules: Vec<(Value, &str)> = vec![
        (with(b, "nhs_number", Some(json!("9990000019"))), "nhs_number"),
        (with(b, "nhs_number", Some(json!("999 000 001"))), "nhs_number"),
        (with(b, "nhs_number", Some(json!("99900000AB"))), "nhs_number"),
        (with(b, "date_of_birth", Some(json!("2026-02-17"))), "date_of_birth"),
        (with(b, "date_of_birth", Some(json!("1990-01-01"))), "date_of_birth"),
        (with(b, "sex", Some(json!("X"))), "sex"),
        (with(b, "given_name", Some(json!("   "))), "given_name"),
        (with(b, "given_name", Some(json!("A".repeat(60_000)))), "given_name"),
        (with(b, "family_name", Some(json!("Nul\u{0}l"))), "family_name"),
        (with(b, "local_id", Some(json!(""))), "local_id"),
        (with(b, "local_id", Some(json!("M-1"))), "local_id"),
        (with(b, "responsible_la", Some(json!("S O M!"))), "responsible_la"),
        (
            with(b, "social_worker_email", Some(json!("not-an-email"))),
            "social_worker_email",
        ),
    ];
    for (body, field) in rules {
        all.push(post("/children", body, 422, field));
    }
    for (body, field) in [
        (with(b, "date_of_birth", Some(json!("2026-02-30"))), "date_of_birth"),
        (with(b, "date_of_birth", Some(json!("30/01/2014"))), "date_of_birth"),
        (with(b, "date_of_birth", Some(json!(""))), "date_of_birth"),
        (with(b, "uasc", Some(json!(null))), "uasc"),
    ] {
        all.push(post("/children", body, 400, field));
    }

    let periods = format!("/children/{}/periods", f.fresh_child);
    let p = &period_body;
    for (body, field) in [
        (with(p, "started_on", Some(json!("2026-02-17"))), "started_on"),
        (with(p, "started_on", Some(json!("2013-12-31"))), "started_on"),
        (with(p, "legal_status", Some(json!("ZZ"))), "legal_status"),
        (with(p, "legal_status", Some(json!(""))), "legal_status"),
        (with(p, "category_of_need", Some(json!("N9"))), "category_of_need"),
        (
            with(
                p,
                "placement",
                Some(json!({"placement_type": "R4", "out_of_area": false})),
            ),
            "placement.placement_type",
        ),
        (
            with(
                p,
                "placement",
                Some(json!({"placement_type": "U4", "out_of_area": false, "host_la": "Devon"})),
            ),
            "placement.out_of_area",
        ),
        (
            with(
                p,
                "placement",
                Some(json!({"placement_type": "U4", "out_of_area": true, "host_provider_email": "nope"})),
            ),
            "placement.host_provider_email",
        ),
        (
            with(
                p,
                "placement",
                Some(json!({"placement_type": "U4", "started_on": "2026-02-01"})),
            ),
            "placement.started_on",
        ),
        (
            with(p, "prior_assessment_on", Some(json!("2026-02-11"))),
            "prior_assessment_on",
        ),
        (
            with(p, "prior_assessment_on", Some(json!("2026-03-01"))),
            "prior_assessment_on",
        ),
    ] {
        all.push(post(&periods, body, 422, field));
    }
    all.push(post(
        &format!("/children/{}/periods", f.adult),
        json!({"started_on": "2026-01-10", "legal_status": "C2"}),
        422,
        "started_on",
    ));
    // The child is looked after already: a conflict with its state, not a bad value.
    all.push(case(
        Method::POST,
        &format!("/children/{c}/periods"),
        Body::Json(json!({"started_on": "2026-02-10", "legal_status": "C2"})),
        409,
        None,
    ));
    all.push(post(
        &periods,
        with(p, "placement", Some(json!({"out_of_area": false}))),
        400,
        "placement.placement_type",
    ));

    let placements = format!("/periods/{}/placements", f.period);
    let pl = &placement_body;
    for (body, field) in [
        (with(pl, "started_on", None), "started_on"),
        (with(pl, "started_on", Some(json!("2026-02-17"))), "started_on"),
        (with(pl, "started_on", Some(json!("2026-02-04"))), "started_on"),
    ] {
        all.push(post(&placements, body, 422, field));
    }
    all.push(case(
        Method::POST,
        &placements,
        Body::Json(with(pl, "placement_type", Some(json!("R4")))),
        422,
        None,
    ));

    let end = format!("/periods/{}/end", f.period);
    for (body, field) in [
        (json!({"ended_on": "2026-02-17", "reason": "E4A"}), "ended_on"),
        (json!({"ended_on": "2026-02-01", "reason": "E4A"}), "ended_on"),
        (json!({"ended_on": "2026-02-10", "reason": "X1"}), "reason"),
        (json!({"ended_on": "2026-02-10", "reason": "E99"}), "reason"),
    ] {
        all.push(post(&end, body, 422, field));
    }

    let notification = format!("/assessments/{iha}/notification");
    all.push(post(
        &notification,
        json!({"received_on": "2026-02-17"}),
        422,
        "received_on",
    ));
    all.push(post(
        &notification,
        json!({"received_on": "2026-01-01"}),
        422,
        "received_on",
    ));
    all.push(case(
        Method::POST,
        &notification,
        Body::Json(json!({"received_on": "2026-02-10"})),
        409,
        None,
    ));
    all.push(case(
        Method::POST,
        &notification,
        Body::Json(json!({"received_on": "2026-02-10", "version": -1})),
        409,
        None,
    ));
    all.push(post(
        &notification,
        json!({"received_on": "2026-02-10", "version": 1e20}),
        400,
        "version",
    ));
    let mut if_match = case(
        Method::POST,
        &notification,
        Body::Json(json!({"received_on": "2026-02-10"})),
        400,
        Some("If-Match"),
    );
    if_match.headers.push(("If-Match", "\"banana\""));
    all.push(if_match);

    let consent = format!("/assessments/{iha}/consent");
    let cb = &consent_body;
    for (body, field) in [
        (with(cb, "basis", Some(json!("granny"))), "basis"),
        (with(cb, "scope", Some(json!(["everything"]))), "scope"),
        (with(cb, "refused_on", Some(json!("2026-02-05"))), "given_on"),
        (with(cb, "given_on", None), "given_on"),
        (with(cb, "given_on", Some(json!("2026-02-17"))), "given_on"),
        (with(cb, "given_on", Some(json!("2026-01-30"))), "given_on"),
        (with(cb, "given_by", Some(json!(" "))), "given_by"),
        (with(cb, "reoffer_plan", Some(json!("p".repeat(2001)))), "reoffer_plan"),
    ] {
        all.push(post(&consent, with(&body, "version", None), 422, field));
    }

    let appointments = format!("/assessments/{iha}/appointments");
    let ab = with(&appointment_body, "version", None);
    for (body, field) in [
        (with(&ab, "starts_at", Some(json!("tomorrow"))), "starts_at"),
        (with(&ab, "starts_at", Some(json!("2026-02-20T10:00:00"))), "starts_at"),
        (with(&ab, "starts_at", Some(json!("2026-02-30T10:00:00Z"))), "starts_at"),
    ] {
        all.push(post(&appointments, body, 400, field));
    }
    for (body, field) in [
        (with(&ab, "clinician", Some(json!(""))), "clinician"),
        (with(&ab, "location", Some(json!("L".repeat(201)))), "location"),
        (with(&ab, "booked_on", Some(json!("2026-02-17"))), "booked_on"),
        (with(&ab, "booked_on", Some(json!("2026-01-01"))), "booked_on"),
        (with(&ab, "starts_at", Some(json!("2026-02-09T10:00:00Z"))), "starts_at"),
    ] {
        all.push(post(&appointments, body, 422, field));
    }

    let outcome = format!("/appointments/{}/outcome", f.appointment);
    for (body, field) in [
        (json!({"outcome": "maybe"}), "outcome"),
        (json!({"outcome": ""}), "outcome"),
        (json!({"outcome": "attended"}), "outcome"),
        (
            json!({"outcome": "was_not_brought", "recorded_on": "2026-02-13"}),
            "outcome",
        ),
        (
            json!({"outcome": "cancelled_by_carer", "recorded_on": "2026-02-17"}),
            "recorded_on",
        ),
        (
            json!({"outcome": "cancelled_by_carer", "recorded_on": "2026-02-05"}),
            "recorded_on",
        ),
    ] {
        all.push(post(&outcome, body, 422, field));
    }
    all.push(case(
        Method::POST,
        &outcome,
        Body::Json(json!({"outcome": "cancelled_by_carer", "version": 9})),
        409,
        None,
    ));

    let completion = format!("/assessments/{iha}/completion");
    for (body, field) in [
        (json!({"seen_on": "2026-02-17"}), "seen_on"),
        (json!({"seen_on": "2026-01-01"}), "seen_on"),
        (
            json!({"seen_on": "2026-02-10", "report_received_on": "2026-02-09"}),
            "report_received_on",
        ),
        (
            json!({"seen_on": "2026-02-10", "report_received_on": "2026-02-17"}),
            "report_received_on",
        ),
        (json!({"seen_on": "2026-02-10", "method": "telepathy"}), "method"),
    ] {
        all.push(post(&completion, body, 422, field));
    }

    let ooa = format!("/out-of-area-requests/{}", f.request);
    for (body, field) in [
        (json!({"version": 1, "requested_on": "2026-02-17"}), "requested_on"),
        (json!({"version": 1, "requested_on": "2026-02-04"}), "requested_on"),
        (
            json!({"version": 1, "acknowledged_on": "2026-02-07"}),
            "acknowledged_on",
        ),
        (
            json!({"version": 1, "requested_on": "2026-02-08", "acknowledged_on": "2026-02-07"}),
            "acknowledged_on",
        ),
        (
            json!({"version": 1, "requested_on": "2026-02-08", "report_received_on": "2026-02-07"}),
            "report_received_on",
        ),
    ] {
        all.push(post(&ooa, body, 422, field));
    }
    all.push(case(
        Method::POST,
        &ooa,
        Body::Json(json!({"version": 7, "requested_on": "2026-02-08"})),
        409,
        None,
    ));

    all.push(post(
        &format!("/assessments/{iha}/reoffer"),
        json!({"offered_on": "2026-02-17"}),
        422,
        "offered_on",
    ));
    all.push(case(
        Method::POST,
        &format!("/assessments/{iha}/reoffer"),
        Body::Json(json!({"offered_on": "2026-02-10"})),
        409,
        None,
    ));
    all.push(post(
        &format!("/assessments/{iha}/not-required"),
        json!({"prior_assessment_on": "2025-06-01"}),
        422,
        "prior_assessment_on",
    ));
    for (body, field) in [
        (json!({"closed_on": "2026-02-10", "reason": ""}), "reason"),
        (json!({"closed_on": "2026-02-17", "reason": "moved"}), "closed_on"),
        (json!({"closed_on": "2026-01-01", "reason": "moved"}), "closed_on"),
    ] {
        all.push(post(&format!("/assessments/{iha}/close"), body, 422, field));
    }
    for (body, field) in [
        (json!({"withdrawn_on": "2026-02-17"}), "withdrawn_on"),
        (json!({"withdrawn_on": "2026-02-03"}), "withdrawn_on"),
    ] {
        all.push(post(&format!("/consents/{}/withdrawal", f.consent), body, 422, field));
    }
    let hc = format!("/children/{c}/health-checks");
    for (body, field) in [
        (json!({"kind": "xray", "checked_on": "2026-02-01"}), "kind"),
        (
            json!({"kind": "sdq", "checked_on": "2026-02-01", "sdq_score": 41}),
            "sdq_score",
        ),
        (
            json!({"kind": "sdq", "checked_on": "2026-02-01", "sdq_reason": "SDQ9"}),
            "sdq_reason",
        ),
        (json!({"kind": "sdq", "checked_on": "2026-02-01"}), "sdq_score"),
        (
            json!({"kind": "dental", "checked_on": "2026-02-01", "sdq_score": 3}),
            "sdq_score",
        ),
        (
            json!({"kind": "dental", "checked_on": "2026-02-01", "up_to_date": true}),
            "up_to_date",
        ),
        (json!({"kind": "dental", "checked_on": "2026-02-17"}), "checked_on"),
        (json!({"kind": "dental", "checked_on": "2013-12-31"}), "checked_on"),
    ] {
        all.push(post(&hc, body, 422, field));
    }
    let notes = format!("/children/{c}/notes");
    for (body, field) in [
        (json!({"body": "", "author": "Nurse Ann"}), "body"),
        (json!({"body": "x", "author": ""}), "author"),
        (
            json!({"body": "x", "author": "Nurse Ann", "assessment_id": UNKNOWN}),
            "assessment_id",
        ),
    ] {
        all.push(post(&notes, body, 422, field));
    }
    for (body, field) in [
        (json!({"version": 1, "nhs_number": "1234567890"}), "nhs_number"),
        (json!({"version": 1, "given_name": ""}), "given_name"),
        (
            json!({"version": 1, "social_worker_email": "a b@x.uk"}),
            "social_worker_email",
        ),
    ] {
        all.push(case(
            Method::PATCH,
            &format!("/children/{c}"),
            Body::Json(body),
            422,
            Some(field),
        ));
    }

    // Query strings.
    for (path, status, field) in [
        ("/children?limit=-1".to_string(), 422, Some("limit")),
        ("/children?limit=0".to_string(), 422, Some("limit")),
        ("/children?limit=1001".to_string(), 422, Some("limit")),
        ("/children?offset=-1".to_string(), 422, None),
        ("/children?limit=abc".to_string(), 400, Some("limit")),
        (format!("/children?q={}", "a".repeat(101)), 422, Some("q")),
        ("/children?colour=blue".to_string(), 400, Some("colour")),
        (format!("/children/{c}?as_of=garbage"), 400, Some("as_of")),
        (format!("/children/{c}?as_of=2026-02-30"), 400, Some("as_of")),
        (format!("/assessments/{iha}?as_of=garbage"), 400, Some("as_of")),
        (
            format!("/assessments/{iha}?as_of=2026-02-16&extra=1"),
            400,
            Some("extra"),
        ),
        ("/assessments?as_of=garbage".to_string(), 400, Some("as_of")),
        ("/assessments?rag=purple".to_string(), 422, Some("rag")),
        ("/assessments?kind=iha".to_string(), 422, Some("kind")),
        ("/assessments?state=lost".to_string(), 422, Some("state")),
        ("/assessments?limit=-1".to_string(), 422, Some("limit")),
        ("/assessments?limit=1001".to_string(), 422, Some("limit")),
        ("/assessments?due_before=soon".to_string(), 400, Some("due_before")),
        ("/assessments?out_of_area=perhaps".to_string(), 400, Some("out_of_area")),
        ("/assessments?child_id=not-a-uuid".to_string(), 404, None),
        ("/assurance/iha?weeks=0".to_string(), 422, Some("weeks")),
        ("/assurance/iha?weeks=-3".to_string(), 400, Some("weeks")),
        ("/assurance/iha?as_of=yesterday".to_string(), 400, Some("as_of")),
        (
            "/calendar/holidays?from=2022-01-01&to=2021-01-01".to_string(),
            422,
            Some("to"),
        ),
        ("/calendar/holidays?from=x&to=y".to_string(), 400, Some("from")),
        ("/calendar/holidays".to_string(), 400, None),
        (
            "/calendar/add-working-days?from=2025-12-19&days=1.5".to_string(),
            400,
            Some("days"),
        ),
        (
            "/calendar/add-working-days?from=2025-12-19&days=100000".to_string(),
            422,
            Some("days"),
        ),
        ("/calendar/add-working-days?days=3".to_string(), 400, None),
        ("/nothing-here".to_string(), 404, None),
        ("/api/v2/children".to_string(), 404, None),
    ] {
        all.push(get(&path, status, field));
    }

    // Methods a path does not take.
    for (method, path) in [
        (Method::DELETE, "/children".to_string()),
        (Method::PUT, format!("/children/{c}")),
        (Method::DELETE, format!("/children/{c}")),
        (Method::GET, format!("/children/{c}/periods")),
        (Method::GET, format!("/periods/{}/end", f.period)),
        (Method::PUT, format!("/periods/{}/placements", f.period)),
        (Method::POST, "/assessments".to_string()),
        (Method::DELETE, format!("/assessments/{iha}")),
        (Method::PATCH, format!("/assessments/{iha}")),
        (Method::GET, format!("/assessments/{iha}/notification")),
        (Method::GET, format!("/assessments/{iha}/consent")),
        (Method::PUT, format!("/assessments/{iha}/appointments")),
        (Method::GET, format!("/appointments/{}/outcome", f.appointment)),
        (Method::GET, format!("/assessments/{iha}/completion")),
        (Method::POST, "/assurance/iha".to_string()),
        (Method::PUT, "/calendar/holidays".to_string()),
        (Method::DELETE, "/calendar/add-working-days".to_string()),
        (Method::GET, format!("/out-of-area-requests/{}", f.request)),
    ] {
        all.push(case(method, &path, Body::None, 405, None));
    }
    all
}

/// Everything a request could have changed.
async fn state_of(app: &TestApp, f: &Fixture) -> Vec<Value> {
    let mut out = vec![
        app.get_ok("/children?limit=500").await,
        app.get_ok("/assessments?limit=1000").await,
        app.get_ok("/calendar/holidays?from=2026-01-01&to=2026-12-31").await,
    ];
    for id in [&f.child, &f.fresh_child, &f.adult] {
        out.push(app.child(id).await);
    }
    out
}

async fn send(app: &TestApp, c: &Case) -> Resp {
    let body = match &c.body {
        Body::None => None,
        Body::Raw(b) => Some(b.clone()),
        Body::Json(v) => Some(v.to_string().into_bytes()),
    };
    app.send(c.method.clone(), &c.path, body, &c.headers).await
}

fn describe(c: &Case) -> String {
    let body = match &c.body {
        Body::None => String::new(),
        Body::Raw(b) => String::from_utf8_lossy(&b[..b.len().min(120)]).to_string(),
        Body::Json(v) => {
            let t = v.to_string();
            t.chars().take(160).collect()
        }
    };
    format!("{} {} {body}", c.method, c.path)
}

async fn no_input_gets_a_5xx(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let f = fixture(&app).await;
    let before = state_of(&app, &f).await;
    let children_before = app.children_count().await;
    let cases = cases(&f);
    assert!(cases.len() >= 300, "a large batch: {}", cases.len());

    let mut failures = Vec::new();
    for c in &cases {
        let r = send(&app, c).await;
        let what = describe(c);
        if r.status >= 500 {
            failures.push(format!("{what}\n    -> {} (5xx!) {}", r.status, r.text));
            continue;
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            assert_problem(&r, c.status, c.field.as_deref(), &what)
        }));
        if outcome.is_err() {
            failures.push(format!(
                "{what}\n    -> {} {:?} fields {:?}: {}",
                r.status,
                r.content_type(),
                r.fields(),
                r.text.chars().take(300).collect::<String>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} malformed requests were not answered as expected:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    assert_eq!(app.children_count().await, children_before, "no child was registered");
    let after = state_of(&app, &f).await;
    for (i, (a, b)) in before.iter().zip(&after).enumerate() {
        assert_eq!(a, b, "rejected requests changed nothing (snapshot {i})");
    }
}

async fn placement_change_errors_name_the_request_fields(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let f = fixture(&app).await;
    let placements = format!("/periods/{}/placements", f.period);
    for (body, field) in [
        (
            json!({"started_on": "2026-02-10", "placement_type": "R4"}),
            "placement_type",
        ),
        (
            json!({"started_on": "2026-02-10", "placement_type": "U4", "out_of_area": true, "host_provider_email": "nope"}),
            "host_provider_email",
        ),
        (
            json!({"started_on": "2026-02-10", "placement_type": "U4", "out_of_area": false, "host_la": "Devon"}),
            "out_of_area",
        ),
    ] {
        let r = app.post(&placements, &body).await;
        assert_problem(&r, 422, Some(field), &body.to_string());
    }
}

async fn missing_field_and_truncated_json_name_the_field(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let r = app
        .post(
            "/children",
            &json!({"given_name": "Ben", "family_name": "Jones", "date_of_birth": "2013-03-03", "sex": "M", "responsible_la": "SOM"}),
        )
        .await;
    assert_problem(&r, 400, Some("local_id"), "local_id missing");
    let r = app
        .send(
            Method::POST,
            "/children",
            Some(b"{\"local_id\": \"M-9\", ".to_vec()),
            &[],
        )
        .await;
    assert_problem(&r, 400, Some("body"), "truncated JSON");
}

async fn negative_search_offset_names_offset(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let r = app.get("/children?offset=-1").await;
    assert_problem(&r, 422, Some("offset"), "offset=-1");
}
