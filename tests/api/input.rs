//! Strict input (issue 8, defects 3 and 6): no control character in any text (a NUL gave
//! 500 on PostgreSQL), dates written `YYYY-MM-DD` exactly, timestamps RFC 3339 with
//! nothing around them, and JSON bodies sent as `application/json`. Each refusal is a
//! problem document naming the field, and writes nothing.

use cla_tracker::access::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, s, spawn_app, Backend, Resp, TestApp};
use crate::security::{add_user, audit_rows, read, sign_in, without_csrf_values};

both!(
    control_characters_in_text_are_refused_naming_the_field,
    free_text_keeps_tabs_and_line_breaks_but_single_line_fields_do_not,
    sign_in_email_with_a_control_character_is_refused_like_a_wrong_password,
    lenient_dates_are_refused_in_every_body_and_query,
    timestamps_are_rfc3339_with_nothing_around,
    json_bodies_must_be_sent_as_application_json,
);

const TODAY: &str = "2026-02-16";
/// A well-formed id: bodies and query strings are read before any record is looked up.
const SOME_ID: &str = "6f1c1f0e-3b7a-4c55-9d51-0a4a1c2b3d4e";

fn child_body(local_id: &str) -> Value {
    json!({
        "local_id": local_id, "given_name": "Amy", "family_name": "Jones",
        "date_of_birth": "2013-03-03", "sex": "F", "responsible_la": "SOM",
    })
}

/// `base` with `key` set to `value`.
fn with(base: &Value, key: &str, value: Value) -> Value {
    let mut v = base.clone();
    v[key] = value;
    v
}

async fn control_characters_in_text_are_refused_naming_the_field(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child, _, iha) = app.child_in_care("CC-1", "2013-03-03", "2026-02-02").await;
    let before = app.child(&child).await;

    for q in ["a%00b", "a%0Ab", "a%09b", "a%1Bb", "a%7Fb", "a%C2%85b"] {
        let r = app.get(&format!("/children?q={q}")).await;
        assert_problem(&r, 422, Some("q"), &format!("GET /children?q={q}"));
    }

    let notes = format!("/children/{child}/notes");
    let note = json!({"body": "Seen", "author": "Dr A", "assessment_id": iha});
    for (field, value) in [
        ("assessment_id", "a\u{0}b".to_string()),
        ("assessment_id", format!("{iha}\u{0}")),
        ("author", "Dr\u{0}A".to_string()),
        ("author", "Dr\u{9b}A".to_string()),
        ("body", "Seen\u{0}".to_string()),
    ] {
        let r = app.post(&notes, &with(&note, field, json!(value))).await;
        assert_problem(&r, 422, Some(field), &format!("note with {field} {value:?}"));
    }

    let r = app
        .post(
            "/children",
            &with(&child_body("CC-2"), "family_name", json!("Jo\u{0}nes")),
        )
        .await;
    assert_problem(&r, 422, Some("family_name"), "family_name with NUL");
    let r = app
        .post(
            "/children",
            &with(&child_body("CC\u{0}2"), "gp_practice", json!("L\u{1}85")),
        )
        .await;
    assert_problem(&r, 422, Some("local_id"), "local_id with NUL");
    assert!(
        r.fields().contains(&"gp_practice".to_string()),
        "every field at fault is named: {}",
        r.text
    );

    let fresh = s(&app.register("CC-3", "2013-03-03").await["id"]);
    let r = app
        .post(
            &format!("/children/{fresh}/periods"),
            &json!({"started_on": "2026-02-02", "legal_status": "C2",
                    "placement": {"placement_type": "U4", "out_of_area": true, "host_la": "De\u{0}von"}}),
        )
        .await;
    assert_problem(&r, 422, Some("placement.host_la"), "nested field with NUL");

    let r = app
        .post(
            &format!("/assessments/{iha}/consent"),
            &json!({"given_on": "2026-02-03", "basis": "parent_with_pr", "given_by": "Mother",
                    "scope": ["assessment", "share_report\u{0}"]}),
        )
        .await;
    assert_problem(&r, 422, Some("scope[1]"), "array item with NUL");

    assert_eq!(app.child(&child).await, before, "refused requests wrote nothing");
    assert_eq!(app.child(&fresh).await["periods"], json!([]), "no period was started");
    assert_eq!(app.children_count().await, 2, "no child was registered");
}

async fn free_text_keeps_tabs_and_line_breaks_but_single_line_fields_do_not(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child, _, iha) = app.child_in_care("FT-1", "2013-03-03", "2026-02-02").await;
    let body = "Seen with carer.\r\n\tWeight and height recorded.\nNext: dental.";
    let note = app
        .post(
            &format!("/children/{child}/notes"),
            &json!({"body": body, "author": "Dr A", "assessment_id": iha}),
        )
        .await
        .expect(201, "a multi-line note");
    assert_eq!(note["body"], body);
    let r = app
        .post(
            &format!("/children/{child}/health-checks"),
            &json!({"kind": "dental", "checked_on": "2026-02-10", "outcome": "Two fillings.\nReview in 6 months."}),
        )
        .await;
    assert_eq!(r.status, 201, "a multi-line outcome: {}", r.text);

    for (field, value) in [("author", "Dr\tA"), ("author", "Dr A\n")] {
        let r = app
            .post(
                &format!("/children/{child}/notes"),
                &json!({"body": "Seen", "author": value}),
            )
            .await;
        assert_problem(&r, 422, Some(field), &format!("author {value:?}"));
    }
    let r = app
        .post(
            "/children",
            &with(&child_body("FT-2"), "given_name", json!("Amy\nBeth")),
        )
        .await;
    assert_problem(&r, 422, Some("given_name"), "a name on two lines");

    let detail = app.child(&child).await;
    let bodies: Vec<&Value> = detail["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| &n["body"])
        .collect();
    assert_eq!(
        bodies,
        [&json!(body)],
        "the note kept its line breaks; nothing else was written"
    );
}

async fn sign_in_email_with_a_control_character_is_refused_like_a_wrong_password(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let user = "nurse@test.nhs.uk";
    add_user(&app, user, "ICB", &[Role::Clinician]).await;
    let wrong = sign_in(&app, user, "not the right passphrase at all").await;
    assert_eq!(wrong.status, 401, "a wrong password: {}", wrong.text);
    for email in [
        "nurse\u{0}@test.nhs.uk",
        "nurse@test.nhs.uk\u{0}",
        "nurse\u{1b}[2J@test.nhs.uk",
    ] {
        let r = sign_in(&app, email, crate::helpers::TEST_PASSWORD).await;
        assert_eq!(r.status, 401, "{email:?}: refused, not a server error: {}", r.text);
        assert!(
            r.content_type().starts_with("text/html"),
            "{email:?}: the sign-in page: {:?}",
            r.content_type()
        );
        // The form keeps the address typed (without its control characters); nothing else
        // differs.
        let typed: String = email.chars().filter(|c| !c.is_control()).collect();
        assert_eq!(
            without_csrf_values(&r.text).replace(&typed, "ADDRESS TYPED"),
            without_csrf_values(&wrong.text).replace(user, "ADDRESS TYPED"),
            "{email:?}: answered exactly like a wrong password"
        );
        assert!(
            crate::security::set_cookie(&r, "cla_session").is_none(),
            "{email:?}: no session"
        );
    }
    let recorded: Vec<String> = audit_rows(&app)
        .await
        .into_iter()
        .filter(|e| e.action == "login" && e.outcome == "failed")
        .filter_map(|e| e.user_email)
        .collect();
    assert!(
        recorded.contains(&"nurse\u{fffd}@test.nhs.uk".to_string()),
        "the attempt is on record, its control character shown as U+FFFD: {recorded:?}"
    );
}

/// Every date a body or query string carries, on a path whose id is well-formed: the value
/// is refused before any record is read.
fn date_fields() -> Vec<(Method, String, Value, &'static str)> {
    let id = SOME_ID;
    let post = |path: String, body: Value, field| (Method::POST, path, body, field);
    let period = json!({"started_on": "2026-02-02", "legal_status": "C2"});
    let consent = json!({"given_on": "2026-02-03", "basis": "parent_with_pr", "given_by": "Mother"});
    let booking = json!({"starts_at": "2026-02-20T10:00:00Z", "clinician": "Dr A", "location": "Clinic", "booked_on": "2026-02-10"});
    let request = json!({"version": 1, "requested_on": "2026-02-03"});
    let mut all = vec![
        post("/children".into(), child_body("D-1"), "date_of_birth"),
        post(format!("/children/{id}/periods"), period.clone(), "started_on"),
        post(
            format!("/children/{id}/periods"),
            with(&period, "prior_assessment_on", json!("2026-01-20")),
            "prior_assessment_on",
        ),
        post(
            format!("/children/{id}/periods"),
            with(
                &period,
                "placement",
                json!({"placement_type": "U4", "started_on": "2026-02-02"}),
            ),
            "placement.started_on",
        ),
        post(
            format!("/periods/{id}/placements"),
            json!({"started_on": "2026-02-05", "placement_type": "U4"}),
            "started_on",
        ),
        post(
            format!("/periods/{id}/end"),
            json!({"ended_on": "2026-02-05", "reason": "E8"}),
            "ended_on",
        ),
        post(
            format!("/children/{id}/health-checks"),
            json!({"kind": "dental", "checked_on": "2026-02-01"}),
            "checked_on",
        ),
        post(
            format!("/assessments/{id}/notification"),
            json!({"received_on": "2026-02-03"}),
            "received_on",
        ),
        post(format!("/assessments/{id}/consent"), consent.clone(), "given_on"),
        post(
            format!("/assessments/{id}/consent"),
            json!({"refused_on": "2026-02-03", "basis": "young_person", "given_by": "Ben"}),
            "refused_on",
        ),
        post(format!("/assessments/{id}/appointments"), booking, "booked_on"),
        post(
            format!("/appointments/{id}/outcome"),
            json!({"outcome": "attended", "recorded_on": "2026-02-10"}),
            "recorded_on",
        ),
        post(
            format!("/assessments/{id}/completion"),
            json!({"seen_on": "2026-02-10"}),
            "seen_on",
        ),
        post(
            format!("/assessments/{id}/completion"),
            json!({"seen_on": "2026-02-10", "report_received_on": "2026-02-12"}),
            "report_received_on",
        ),
        post(
            format!("/assessments/{id}/reoffer"),
            json!({"offered_on": "2026-02-10"}),
            "offered_on",
        ),
        post(
            format!("/assessments/{id}/not-required"),
            json!({"prior_assessment_on": "2026-01-10"}),
            "prior_assessment_on",
        ),
        post(
            format!("/assessments/{id}/close"),
            json!({"closed_on": "2026-02-10", "reason": "moved"}),
            "closed_on",
        ),
        post(
            format!("/consents/{id}/withdrawal"),
            json!({"withdrawn_on": "2026-02-10"}),
            "withdrawn_on",
        ),
    ];
    for field in [
        "requested_on",
        "acknowledged_on",
        "appointment_offered_on",
        "report_received_on",
    ] {
        all.push(post(
            format!("/out-of-area-requests/{id}"),
            with(&request, field, json!("2026-02-04")),
            field,
        ));
    }
    all
}

/// Every date a query string carries: `(path with DATE where the date goes, field)`.
const QUERY_DATES: [(&str, &str); 10] = [
    ("/children/6f1c1f0e-3b7a-4c55-9d51-0a4a1c2b3d4e?as_of=DATE", "as_of"),
    ("/assessments/6f1c1f0e-3b7a-4c55-9d51-0a4a1c2b3d4e?as_of=DATE", "as_of"),
    ("/assessments?as_of=DATE", "as_of"),
    ("/assessments?due_before=DATE", "due_before"),
    ("/assurance/iha?as_of=DATE", "as_of"),
    ("/calendar/holidays?from=DATE&to=2026-12-31", "from"),
    ("/calendar/holidays?from=2026-01-01&to=DATE", "to"),
    ("/calendar/add-working-days?from=DATE&days=3", "from"),
    ("/audit/export?from=DATE&to=2026-02-16", "from"),
    ("/audit/export?from=2026-02-01&to=DATE", "to"),
];

/// Lenient spellings of 2026-02-03 (and one impossible day), as JSON and as a query value.
const LENIENT: [(&str, &str); 7] = [
    (" 2026-02-03", "%202026-02-03"),
    ("2026-02-03 ", "2026-02-03%20"),
    ("2026-2-3", "2026-2-3"),
    ("2026-02-3", "2026-02-3"),
    ("+2026-02-03", "%2B2026-02-03"),
    ("20260203", "20260203"),
    ("2026-02-30", "2026-02-30"),
];

async fn lenient_dates_are_refused_in_every_body_and_query(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let mut failures = Vec::new();
    for (method, path, body, field) in date_fields() {
        for (lenient, _) in LENIENT {
            let mut bad = body.clone();
            match field.split_once('.') {
                Some((outer, inner)) => bad[outer][inner] = json!(lenient),
                None => bad[field] = json!(lenient),
            }
            let r = app
                .send(method.clone(), &path, Some(bad.to_string().into_bytes()), &[])
                .await;
            if r.status != 400 || !r.fields().iter().any(|f| f == field) {
                failures.push(format!(
                    "{method} {path} {field}={lenient:?} -> {} {}",
                    r.status, r.text
                ));
            }
        }
    }
    for (template, field) in QUERY_DATES {
        for (_, lenient) in LENIENT {
            let path = template.replace("DATE", lenient);
            let r = app.get(&path).await;
            if r.status != 400 || !r.fields().iter().any(|f| f == field) {
                failures.push(format!("GET {path} -> {} {}", r.status, r.text));
            }
        }
        let strict = app.get(&template.replace("DATE", "2026-02-03")).await;
        assert!(
            strict.status < 500 && !strict.fields().iter().any(|f| f == field),
            "GET {template} with a strict date is not refused for it: {} {}",
            strict.status,
            strict.text
        );
    }
    assert!(
        failures.is_empty(),
        "lenient dates accepted or misnamed:\n{}",
        failures.join("\n")
    );
    assert_eq!(app.children_count().await, 0, "nothing was registered");

    // The strict spelling of each is accepted.
    let r = app.post("/children", &child_body("D-1")).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

async fn timestamps_are_rfc3339_with_nothing_around(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (_, _, iha) = app.child_in_care("TS-1", "2013-03-03", "2026-02-02").await;
    let path = format!("/assessments/{iha}/appointments");
    let booking = json!({"clinician": "Dr A", "location": "Clinic", "booked_on": "2026-02-10"});
    for bad in [
        " 2026-02-20T10:00:00Z",
        "2026-02-20T10:00:00Z ",
        "2026-02-20T10:00:00",
        "2026-2-20T10:00:00Z",
        "2026-02-20",
    ] {
        let r = app.post(&path, &with(&booking, "starts_at", json!(bad))).await;
        assert_problem(&r, 400, Some("starts_at"), &format!("starts_at {bad:?}"));
    }
    assert_eq!(
        app.assessment(&iha).await["state"],
        "awaiting_notification",
        "nothing was booked"
    );
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2026-02-03"}),
    )
    .await
    .expect(200, "notification");
    app.post(
        &format!("/assessments/{iha}/consent"),
        &json!({"given_on": "2026-02-03", "basis": "parent_with_pr", "given_by": "Mother"}),
    )
    .await
    .expect(200, "consent");
    let booked = app
        .post(&path, &with(&booking, "starts_at", json!("2026-02-20T10:00:00+00:00")))
        .await
        .expect(201, "an RFC 3339 timestamp with an offset");
    assert_eq!(booked["state"], "booked");
}

/// A request with exactly this Content-Type (none for `None`) and the app's bearer token.
async fn send_as(app: &TestApp, method: Method, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Resp {
    let mut req = app.client.request(method, app.url(path)).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    read(req.send().await.expect("the request is sent")).await
}

async fn json_bodies_must_be_sent_as_application_json(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let body = |id: &str| child_body(id).to_string().into_bytes();
    for content_type in [
        Some("text/plain"),
        Some("text/plain; charset=utf-8"),
        None,
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
        Some("application/vnd.api+json"),
        Some("application/json; charset=iso-8859-1"),
        Some("not a media type"),
    ] {
        let r = send_as(&app, Method::POST, "/children", content_type, body("CT-1")).await;
        assert_problem(&r, 415, Some("Content-Type"), &format!("Content-Type {content_type:?}"));
        assert!(
            r.detail().contains("application/json"),
            "the answer says what to send: {}",
            r.text
        );
    }
    assert_eq!(app.children_count().await, 0, "nothing was registered");

    let child = send_as(
        &app,
        Method::POST,
        "/children",
        Some("application/json; charset=utf-8"),
        body("CT-2"),
    )
    .await;
    assert_eq!(child.status, 201, "a charset parameter is fine: {}", child.text);
    let r = send_as(&app, Method::POST, "/children", Some("Application/JSON"), body("CT-3")).await;
    assert_eq!(r.status, 201, "media types are case-insensitive: {}", r.text);

    // The other JSON endpoints read their bodies the same way.
    let id = s(&child.json["id"]);
    let r = send_as(
        &app,
        Method::PATCH,
        &format!("/children/{id}"),
        Some("text/plain"),
        json!({"version": 1, "given_name": "Beth"}).to_string().into_bytes(),
    )
    .await;
    assert_problem(&r, 415, Some("Content-Type"), "PATCH as text/plain");
    let r = send_as(
        &app,
        Method::POST,
        &format!("/children/{id}/periods"),
        None,
        json!({"started_on": "2026-02-02", "legal_status": "C2"})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_problem(&r, 415, Some("Content-Type"), "a period without Content-Type");
    assert_eq!(app.child(&id).await["given_name"], "Amy", "nothing changed");

    // An empty body is still malformed (400), whatever it is labelled; a body over the limit
    // is still the framework's 413, as a problem document.
    let r = send_as(&app, Method::POST, "/children", Some("text/plain"), Vec::new()).await;
    assert_problem(&r, 400, Some("body"), "an empty body");
    let r = send_as(&app, Method::POST, "/children", Some("text/plain"), vec![b'x'; 70_000]).await;
    assert_problem(&r, 413, None, "a body over the limit");
}
