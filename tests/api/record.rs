//! The forms on a child's record over HTTP (no browser): a placement change, the end of the
//! period of care, a health check, a note and a consent withdrawal. Each is offered only to
//! the roles the matrix grants, refused without the CSRF token, a 404 page for a child out
//! of scope, shown with its errors as typed, refused when stale, and recorded as the API
//! records it, on the audit trail.

use cla_tracker::access::Role;
use reqwest::Method;
use serde_json::json;

use crate::casework::{form_version, location, Browser};
use crate::helpers::{s, spawn_app, Backend, TestApp};
use crate::security::{add_org_in, audit_rows, browse};

const TODAY: &str = "2026-01-05";

both!(
    each_form_is_offered_only_to_roles_that_may_post_it,
    a_placement_change_and_the_end_of_care_are_recorded_from_the_record,
    health_checks_and_notes_are_added_from_the_record,
    a_social_worker_withdraws_consent_from_the_record,
    a_stale_period_form_says_someone_else_changed_the_record_and_saves_nothing,
    invalid_input_is_shown_on_the_record_with_the_form_as_typed,
    record_forms_need_the_csrf_token_the_role_and_the_child_in_scope,
);

/// A child in care in SOM since 19 December 2025, its IHA with consent given.
async fn child_with_consent(app: &TestApp, local_id: &str) -> (String, String, String) {
    let (child, period, iha) = app.child_in_care(local_id, "2015-06-01", "2025-12-19").await;
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2025-12-22"}),
    )
    .await
    .expect(200, "notification");
    app.post(
        &format!("/assessments/{iha}/consent"),
        &json!({"given_on": "2025-12-23", "basis": "local_authority", "given_by": "Ann Social"}),
    )
    .await
    .expect(200, "consent");
    (child, period, iha)
}

fn consent_id(child: &serde_json::Value) -> String {
    s(&child["consents"][0]["id"])
}

async fn each_form_is_offered_only_to_roles_that_may_post_it(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child, period, _) = child_with_consent(&app, "F1").await;
    let consent = consent_id(&app.child(&child).await);
    let record = format!("/children/{child}");
    let forms = [
        ("placement", format!("action=\"/periods/{period}/placements\"")),
        ("end", format!("action=\"/periods/{period}/end\"")),
        ("health check", format!("action=\"/children/{child}/health-checks\"")),
        ("note", format!("action=\"/children/{child}/notes\"")),
        ("withdrawal", format!("action=\"/consents/{consent}/withdrawal\"")),
    ];
    let cases: [(&str, &str, Role, [bool; 5]); 5] = [
        (
            "ha@test.nhs.uk",
            "ICB",
            Role::HealthAdmin,
            [true, true, true, true, false],
        ),
        (
            "sw@test.nhs.uk",
            "SOM",
            Role::SocialWorker,
            [true, true, false, true, true],
        ),
        (
            "dr@test.nhs.uk",
            "ICB",
            Role::Clinician,
            [false, false, true, true, false],
        ),
        (
            "as@test.nhs.uk",
            "ICB",
            Role::Assurance,
            [false, false, false, true, false],
        ),
        (
            "ro@test.nhs.uk",
            "ICB",
            Role::ReadOnly,
            [false, false, false, false, false],
        ),
    ];
    for (email, org, role, offered) in cases {
        let user = Browser::open(&app, email, org, &[role]).await;
        let page = user.get(&record).await;
        assert_eq!(page.status, 200, "{role}: {}", page.text);
        for ((what, action), want) in forms.iter().zip(offered) {
            assert_eq!(page.text.contains(action.as_str()), want, "{role}: the {what} form");
        }
        // A view of an earlier day is for reading: no form on it.
        let past = user.get(&format!("{record}?as_of=2026-01-02")).await;
        for (what, action) in &forms {
            assert!(
                !past.text.contains(action.as_str()),
                "{role}: no {what} form on a past view"
            );
        }
    }
}

async fn a_placement_change_and_the_end_of_care_are_recorded_from_the_record(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child, period, iha) = child_with_consent(&app, "P1").await;
    let sw = Browser::open(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
    let record = format!("/children/{child}");
    let placements = format!("/periods/{period}/placements");
    let version = form_version(&sw.get(&record).await.text, &placements);
    let r = sw
        .post(
            &placements,
            &[
                ("version", version.as_str()),
                ("child", child.as_str()),
                ("placement_started_on-day", "2"),
                ("placement_started_on-month", "1"),
                ("placement_started_on-year", "2026"),
                ("placement_type", "U4"),
                ("out_of_area", "yes"),
                ("host_la", "Devon"),
                ("host_provider_email", "cla@devon.example.nhs.uk"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("{record}?done=placement"), "back to the record");
    let after = sw.get(&location(&r)).await;
    assert!(after.text.contains("Placement change recorded"), "{}", after.text);
    assert!(after.text.contains("in Devon"), "the new placement is shown");
    let api = app.child(&child).await;
    let placements_now = api["periods"][0]["placements"].as_array().cloned().unwrap_or_default();
    assert_eq!(placements_now.len(), 1, "the change is what the API records: {api}");
    assert_eq!(placements_now[0]["placement_type"], "U4");
    assert_eq!(
        app.assessment(&iha).await["out_of_area_request"]["host_la"],
        "Devon",
        "an out-of-area placement opens a request to the host provider"
    );

    let end = format!("/periods/{period}/end");
    let version = form_version(&after.text, &end);
    let r = sw
        .post(
            &end,
            &[
                ("version", version.as_str()),
                ("child", child.as_str()),
                ("ended_on-day", "5"),
                ("ended_on-month", "1"),
                ("ended_on-year", "2026"),
                ("end_reason", "E13"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let after = sw.get(&location(&r)).await;
    assert!(after.text.contains("Period of care ended"), "{}", after.text);
    assert!(!after.text.contains(&end), "no end form once the period has ended");
    let api = app.child(&child).await;
    assert_eq!(api["periods"][0]["ended_on"], "2026-01-05");
    assert_eq!(api["periods"][0]["end_reason"], "E13");
    assert_eq!(app.assessment(&iha).await["state"], "closed", "its open IHA is closed");
    let rows = audit_rows(&app).await;
    for (action, entity) in [("create", "placement"), ("end", "period")] {
        assert!(
            rows.iter().any(|e| e.action == action
                && e.entity == entity
                && e.user_email.as_deref() == Some("sw@test.nhs.uk")
                && e.role.as_deref() == Some("social_worker")),
            "{action} {entity} is on the audit trail as the social worker"
        );
    }
}

async fn health_checks_and_notes_are_added_from_the_record(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child, _, _) = app.child_in_care("H1", "2015-06-01", "2025-12-19").await;
    let dr = Browser::open(&app, "dr@test.nhs.uk", "ICB", &[Role::Clinician]).await;
    let checks = format!("/children/{child}/health-checks");
    let date = [
        ("checked_on-day", "4"),
        ("checked_on-month", "1"),
        ("checked_on-year", "2026"),
    ];
    let mut sdq = vec![("kind", "sdq"), ("sdq_score", "18")];
    sdq.extend_from_slice(&date);
    let r = dr.post(&checks, &sdq).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), format!("/children/{child}?done=health_check"));
    let mut reason = vec![("kind", "sdq"), ("sdq_reason", "SDQ5")];
    reason.extend_from_slice(&date);
    assert_eq!(
        dr.post(&checks, &reason).await.status,
        303,
        "a reason instead of a score"
    );
    let mut immunisations = vec![
        ("kind", "immunisations"),
        ("up_to_date", "no"),
        ("check_outcome", "Booked MMR"),
    ];
    immunisations.extend_from_slice(&date);
    assert_eq!(dr.post(&checks, &immunisations).await.status, 303);

    let note = dr
        .post(
            &format!("/children/{child}/notes"),
            &[("note_body", "Carer asks for an afternoon appointment.\nSchool run.")],
        )
        .await;
    assert_eq!(note.status, 303, "{}", note.text);
    let page = dr.get(&location(&note)).await;
    assert!(page.text.contains("Note added"));
    assert!(page.text.contains("Score 18 of 40"), "{}", page.text);
    assert!(page.text.contains("Not up to date"));

    let api = app.child(&child).await;
    let kinds: Vec<String> = api["health_checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| s(&h["kind"]))
        .collect();
    assert_eq!(kinds.len(), 3, "{api}");
    assert!(api["health_checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["sdq_reason"] == "SDQ5" && h["sdq_score"].is_null()));
    assert_eq!(
        api["notes"][0]["body"],
        "Carer asks for an afternoon appointment.\nSchool run."
    );
    assert!(
        !s(&api["notes"][0]["author"]).is_empty(),
        "the note is signed with the user's name"
    );
    let rows = audit_rows(&app).await;
    assert_eq!(
        rows.iter()
            .filter(|e| e.action == "create" && e.entity == "health_check" && e.role.as_deref() == Some("clinician"))
            .count(),
        3
    );
    assert!(rows.iter().any(|e| e.action == "create" && e.entity == "note"));
}

async fn a_social_worker_withdraws_consent_from_the_record(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child, _, iha) = child_with_consent(&app, "W1").await;
    let consent = consent_id(&app.child(&child).await);
    let sw = Browser::open(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
    let path = format!("/consents/{consent}/withdrawal");
    let field = format!("withdrawn_on-{consent}");
    let (day, month, year) = (
        format!("{field}-day"),
        format!("{field}-month"),
        format!("{field}-year"),
    );
    let form = [
        ("child", child.as_str()),
        (day.as_str(), "4"),
        (month.as_str(), "1"),
        (year.as_str(), "2026"),
    ];
    let r = sw.post(&path, &form).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = sw.get(&location(&r)).await;
    assert!(page.text.contains("Consent withdrawal recorded"), "{}", page.text);
    assert!(!page.text.contains(&path), "no form for a consent already withdrawn");
    let api = app.child(&child).await;
    assert_eq!(api["consents"][0]["withdrawn_on"], "2026-01-04");
    assert!(app.child(&child).await["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["step"] == "consent_withdrawn" && t["assessment_id"] == iha.as_str()));

    // A second withdrawal of the same consent (a form read before the first) is refused.
    let again = sw.post(&path, &form).await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert!(
        again.text.contains("This record was changed by someone else"),
        "{}",
        again.text
    );
    assert!(again.text.contains("consent already withdrawn"));
    assert_eq!(app.child(&child).await["consents"][0]["withdrawn_on"], "2026-01-04");
}

async fn a_stale_period_form_says_someone_else_changed_the_record_and_saves_nothing(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child, period, _) = app.child_in_care("V1", "2015-06-01", "2025-12-19").await;
    let ha = Browser::open(&app, "ha@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let read = ha.get(&format!("/children/{child}")).await.text;
    let placements = format!("/periods/{period}/placements");
    let end = format!("/periods/{period}/end");
    let version = form_version(&read, &placements);
    assert_eq!(version, form_version(&read, &end));
    // Someone else changes the placement meanwhile.
    app.post(
        &placements,
        &json!({"started_on": "2026-01-02", "placement_type": "K2", "out_of_area": false}),
    )
    .await
    .expect(201, "placement change");
    let r = ha
        .post(
            &end,
            &[
                ("version", version.as_str()),
                ("child", child.as_str()),
                ("ended_on-day", "5"),
                ("ended_on-month", "1"),
                ("ended_on-year", "2026"),
                ("end_reason", "E13"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.content_type().starts_with("text/html"));
    assert!(r.text.contains("<title>Error: "));
    assert!(r.text.contains("This record was changed by someone else"), "{}", r.text);
    assert!(
        r.text.contains("regulations, since 2 January 2026"),
        "with the record as it is now (the K2 placement): {}",
        r.text
    );
    assert!(r.text.contains("value=\"E13\" selected"), "what was chosen is kept");
    assert!(
        app.child(&child).await["periods"][0]["ended_on"].is_null(),
        "nothing saved"
    );
    let fresh = form_version(&r.text, &end);
    assert_ne!(fresh, version, "the form now carries the current version");
    let r = ha
        .post(
            &placements,
            &[
                ("version", version.as_str()),
                ("child", child.as_str()),
                ("placement_started_on-day", "3"),
                ("placement_started_on-month", "1"),
                ("placement_started_on-year", "2026"),
                ("placement_type", "U1"),
                ("out_of_area", "no"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "a stale placement change too: {}", r.text);
    let api = app.child(&child).await;
    assert_eq!(
        api["periods"][0]["placements"].as_array().map(Vec::len),
        Some(1),
        "no lost update"
    );
    // The API takes the same version (or If-Match).
    let stale = app
        .post(&end, &json!({"ended_on": "2026-01-05", "reason": "E13", "version": 1}))
        .await;
    assert_eq!(stale.status, 409, "{}", stale.text);
}

async fn invalid_input_is_shown_on_the_record_with_the_form_as_typed(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child, period, _) = app.child_in_care("I1", "2015-06-01", "2025-12-19").await;
    let ha = Browser::open(&app, "ha@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let placements = format!("/periods/{period}/placements");
    let version = form_version(&ha.get(&format!("/children/{child}")).await.text, &placements);
    let r = ha
        .post(
            &placements,
            &[
                ("version", version.as_str()),
                ("child", child.as_str()),
                ("placement_started_on-day", "31"),
                ("placement_started_on-month", "2"),
                ("placement_started_on-year", "2026"),
                ("out_of_area", "yes"),
                ("host_la", "Dev<on>"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    for want in [
        "<title>Error: ",
        "There is a problem",
        "href=\"#placement_started_on-day\"",
        "Date the placement started must be a real date",
        "href=\"#placement_type\"",
        "Select the placement",
        "value=\"31\"",
        "value=\"Dev&#60;on&#62;\"",
        "id=\"placement\" open",
    ] {
        assert!(r.text.contains(want), "{want:?} in {}", r.text);
    }
    // The service's own rules, on the form: a placement before the period, an SDQ score
    // out of range, an empty note.
    let r = ha
        .post(
            &placements,
            &[
                ("version", version.as_str()),
                ("child", child.as_str()),
                ("placement_started_on-day", "1"),
                ("placement_started_on-month", "12"),
                ("placement_started_on-year", "2025"),
                ("placement_type", "U1"),
                ("out_of_area", "no"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("href=\"#placement_started_on-day\""), "{}", r.text);
    let r = ha
        .post(
            &format!("/children/{child}/health-checks"),
            &[
                ("kind", "sdq"),
                ("sdq_score", "41"),
                ("checked_on-day", "4"),
                ("checked_on-month", "1"),
                ("checked_on-year", "2026"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("href=\"#sdq_score\""), "{}", r.text);
    assert!(r.text.contains("Must be between 0 and 40"), "{}", r.text);
    assert!(r.text.contains("value=\"41\""));
    let r = ha
        .post(&format!("/children/{child}/notes"), &[("note_body", "  ")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Enter the note"));
    let api = app.child(&child).await;
    assert_eq!(
        api["periods"][0]["placements"].as_array().map(Vec::len),
        Some(0),
        "nothing saved"
    );
    assert_eq!(api["health_checks"].as_array().map(Vec::len), Some(0));
    assert_eq!(api["notes"].as_array().map(Vec::len), Some(0));
}

/// A form's fields, as posted.
type Fields = Vec<(String, String)>;

async fn record_forms_need_the_csrf_token_the_role_and_the_child_in_scope(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_org_in(&app, "local_authority", "OTH", Some("ICB")).await;
    let (child, period, _) = child_with_consent(&app, "C1").await;
    let consent = consent_id(&app.child(&child).await);
    let sw = Browser::open(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
    let other = Browser::open(&app, "other@test.nhs.uk", "OTH", &[Role::SocialWorker]).await;
    let reader = Browser::open(&app, "ro@test.nhs.uk", "ICB", &[Role::ReadOnly]).await;
    let dr = Browser::open(&app, "dr@test.nhs.uk", "ICB", &[Role::Clinician]).await;
    let date = |name: &str| {
        vec![
            (format!("{name}-day"), "4".to_string()),
            (format!("{name}-month"), "1".to_string()),
            (format!("{name}-year"), "2026".to_string()),
        ]
    };
    let with = |extra: &[(&str, &str)], name: &str| {
        let mut v: Vec<(String, String)> = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        v.extend(date(name));
        v.push(("child".into(), child.clone()));
        v
    };
    // (path, fields, a role the matrix refuses, a role it grants)
    let cases: Vec<(String, Fields, &Browser, &Browser)> = vec![
        (
            format!("/periods/{period}/placements"),
            with(
                &[("placement_type", "U1"), ("out_of_area", "no")],
                "placement_started_on",
            ),
            &dr,
            &sw,
        ),
        (
            format!("/children/{child}/health-checks"),
            with(&[("kind", "dental")], "checked_on"),
            &sw,
            &dr,
        ),
        (
            format!("/children/{child}/notes"),
            with(&[("note_body", "Seen")], "unused"),
            &reader,
            &sw,
        ),
        (
            format!("/consents/{consent}/withdrawal"),
            with(&[], &format!("withdrawn_on-{consent}")),
            &dr,
            &sw,
        ),
        (
            format!("/periods/{period}/end"),
            with(&[("end_reason", "E13")], "ended_on"),
            &dr,
            &sw,
        ),
    ];
    for (path, fields, refused, granted) in &cases {
        let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = refused.post(path, &form).await;
        assert_eq!(r.status, 403, "{path}: the role may not: {}", r.text);
        assert!(r.content_type().starts_with("text/html"));
        assert!(r.text.contains("You do not have permission"), "{}", r.text);
        let r = browse(
            &app,
            Method::POST,
            path,
            &[("cla_session", granted.session.as_str())],
            Some(&form),
            &[],
        )
        .await;
        assert_eq!(r.status, 403, "{path}: no CSRF token: {}", r.text);
        assert!(r.text.contains("This form has expired"));
        if path.contains("/health-checks") {
            continue; // the clinician is in the ICB: every SOM child is in scope
        }
        let r = other.post(path, &form).await;
        assert_eq!(r.status, 404, "{path}: another authority's child: {}", r.text);
        assert!(r.text.contains("Page not found"), "{}", r.text);
        assert!(!r.text.contains("TestC1"), "nothing of the child");
    }
    let api = app.child(&child).await;
    assert_eq!(
        api["periods"][0]["placements"].as_array().map(Vec::len),
        Some(0),
        "nothing saved"
    );
    assert!(api["periods"][0]["ended_on"].is_null());
    assert_eq!(api["notes"].as_array().map(Vec::len), Some(0));
    assert_eq!(api["health_checks"].as_array().map(Vec::len), Some(0));
    assert!(api["consents"][0]["withdrawn_on"].is_null());
    // And each one goes through for the role the matrix grants.
    for (path, fields, _, granted) in &cases {
        let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = granted.post(path, &form).await;
        assert_eq!(r.status, 303, "{path}: {}", r.text);
    }
}
