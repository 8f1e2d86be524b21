//! The browser's forms over HTTP (no browser): registering a child and starting a period of
//! care, and recording an assessment's steps; the forms offered by state and role, CSRF and
//! role refusals, invalid input, a stale version and a step the state does not allow.

use cla_tracker::access::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{s, spawn_app, Backend, Resp, TestApp};
use crate::security::{add_user, audit_rows, browse, hidden_csrf, session_for};

const TODAY: &str = "2026-01-05";

both!(
    a_child_is_registered_and_taken_into_care_through_the_forms,
    the_assessment_page_offers_only_steps_the_state_and_role_allow,
    a_step_recorded_through_a_form_is_what_the_api_records,
    a_stale_form_says_someone_else_changed_the_record_and_saves_nothing,
    invalid_input_is_shown_with_the_form_as_typed,
    a_step_form_needs_the_csrf_token_and_the_role,
    a_step_the_state_does_not_allow_is_a_409_page,
);

pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub session: String,
}

impl Browser<'_> {
    pub async fn open<'a>(app: &'a TestApp, email: &str, org: &str, roles: &[Role]) -> Browser<'a> {
        add_user(app, email, org, roles).await;
        Browser {
            app,
            session: session_for(app, email).await,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        browse(
            self.app,
            Method::GET,
            path,
            &[("cla_session", self.session.as_str())],
            None,
            &[],
        )
        .await
    }

    /// Posts a form the way the page would: with the session's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let csrf = hidden_csrf(&self.get("/").await.text).expect("the page carries the CSRF token");
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        browse(
            self.app,
            Method::POST,
            path,
            &[("cla_session", self.session.as_str())],
            Some(&form),
            &[],
        )
        .await
    }
}

pub fn location(r: &Resp) -> String {
    r.headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The value of the hidden `version` field of the form posting to `action`.
pub fn form_version(html: &str, action: &str) -> String {
    let form = html
        .split(&format!("action=\"{action}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("a form posting to {action}: {html}"));
    let v = form.split("name=\"version\" value=\"").nth(1).expect("a version field");
    v[..v.find('"').expect("closing quote")].to_string()
}

/// An IHA waiting for consent (notified), in SOM.
async fn waiting_for_consent(app: &TestApp, local_id: &str) -> (String, String) {
    let (child, _, iha) = app.child_in_care(local_id, "2015-06-01", "2025-12-19").await;
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2025-12-22"}),
    )
    .await
    .expect(200, "notification");
    (child, iha)
}

async fn a_child_is_registered_and_taken_into_care_through_the_forms(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let sw = Browser::open(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
    let form = sw.get("/children/new").await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(
        form.text.contains("Responsible local authority: <strong>SOM</strong>"),
        "the user's one authority"
    );

    let missing = sw
        .post("/children/new", &[("given_name", "Rosa"), ("date_of_birth-day", "4")])
        .await;
    assert_eq!(missing.status, 422, "{}", missing.text);
    assert!(missing.text.contains("<title>Error: Register a child"));
    assert!(missing.text.contains("Date of birth must include a month and a year"));
    assert!(
        missing.text.contains("Enter the child&#39;s family name"),
        "required fields are named"
    );
    assert!(
        missing.text.contains("href=\"#sex-1\""),
        "the summary links to the field"
    );
    assert!(missing.text.contains("value=\"Rosa\""), "what was typed is kept");

    let fields = [
        ("given_name", "Rosa"),
        ("family_name", "Green"),
        ("date_of_birth-day", "4"),
        ("date_of_birth-month", "5"),
        ("date_of_birth-year", "2013"),
        ("sex", "F"),
        ("local_id", "RG1"),
        ("nhs_number", "999 000 0018"),
    ];
    let with_bad_number: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| if *k == "nhs_number" { (*k, "123") } else { (*k, *v) })
        .collect();
    let bad_number = sw.post("/children/new", &with_bad_number).await;
    assert_eq!(bad_number.status, 422, "the service's check, on the form");
    assert!(bad_number.text.contains("href=\"#nhs_number\""), "{}", bad_number.text);
    assert_eq!(app.children_count().await, 0, "nothing saved");

    let created = sw.post("/children/new", &fields).await;
    assert_eq!(created.status, 303, "{}", created.text);
    let next = location(&created);
    assert!(next.ends_with("/periods/new"), "then the period of care: {next}");
    let child_id = next
        .trim_start_matches("/children/")
        .trim_end_matches("/periods/new")
        .to_string();
    let period_form = sw.get(&next).await;
    assert_eq!(period_form.status, 200);
    assert!(
        period_form.text.contains("C2: Full care order"),
        "legal status in words with its code"
    );
    assert!(period_form.text.contains("U1: "), "placement types with their codes");

    let started = sw
        .post(
            &next,
            &[
                ("started_on-day", "2"),
                ("started_on-month", "1"),
                ("started_on-year", "2026"),
                ("legal_status", "C2"),
                ("placement_type", "U4"),
                ("out_of_area", "yes"),
                ("host_la", "Devon"),
                ("host_provider_email", "cla@devon.example.nhs.uk"),
            ],
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.text);
    assert_eq!(location(&started), format!("/children/{child_id}?done=period"));
    let record = app.child(&child_id).await;
    assert_eq!(record["nhs_number"], "9990000018");
    assert_eq!(record["periods"][0]["legal_status"], "C2");
    assert_eq!(record["periods"][0]["placements"][0]["host_la"], "Devon");
    assert_eq!(record["assessments"][0]["state"], "awaiting_notification");
    assert_eq!(record["out_of_area_requests"].as_array().map(Vec::len), Some(1));
    let page = sw.get(&location(&started)).await;
    assert!(page.text.contains("Period of care started"), "a success banner");
    assert!(
        !page.text.contains("Start a period of care</a>"),
        "none while one is open"
    );
}

async fn the_assessment_page_offers_only_steps_the_state_and_role_allow(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (_, iha) = waiting_for_consent(&app, "F1").await;
    let page = format!("/assessments/{iha}");
    let sw = Browser::open(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
    let ha = Browser::open(&app, "ha@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let doc = Browser::open(&app, "doc@test.nhs.uk", "ICB", &[Role::Clinician]).await;
    let reader = Browser::open(&app, "ro@test.nhs.uk", "ICB", &[Role::ReadOnly]).await;
    let forms = |r: &Resp| -> Vec<String> {
        r.text
            .split("<form method=\"post\" action=\"")
            .skip(1)
            .map(|rest| {
                rest.split('"')
                    .next()
                    .unwrap_or("")
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .filter(|a| a != "logout")
            .collect()
    };
    let sw_page = sw.get(&page).await;
    assert_eq!(sw_page.status, 200, "{}", sw_page.text);
    assert_eq!(forms(&sw_page), ["consent"], "a social worker records consent");
    assert!(sw_page
        .text
        .contains("Under legal status C2 the local authority shares parental responsibility"));
    assert_eq!(
        forms(&ha.get(&page).await),
        ["not-required", "close"],
        "health admin: not notification (done), not consent"
    );
    assert_eq!(forms(&doc.get(&page).await), ["not-required"]);
    let ro = reader.get(&page).await;
    assert!(forms(&ro).is_empty(), "read only records nothing");
    assert!(ro.text.contains("There is nothing for you to record"));

    // Once booked, the health admin may rebook or record the outcome; the clinician completes.
    app.post(
        &format!("/assessments/{iha}/consent"),
        &json!({"given_on": "2025-12-23", "basis": "local_authority", "given_by": "LA"}),
    )
    .await
    .expect(200, "consent");
    app.book(&iha, "2026-01-02", "2026-01-05T09:00:00Z").await;
    let ha_forms = forms(&ha.get(&page).await);
    assert_eq!(ha_forms, ["appointments", "outcome", "close"], "{ha_forms:?}");
    assert_eq!(forms(&doc.get(&page).await), ["outcome", "completion"]);
    let sw_booked = sw.get(&page).await;
    assert_eq!(
        forms(&sw_booked),
        ["consent"],
        "a social worker may record a refusal while booked"
    );
    assert!(
        sw_booked.text.contains("name=\"decision\" value=\"refused\""),
        "and only a refusal: {}",
        sw_booked.text
    );
}

async fn a_step_recorded_through_a_form_is_what_the_api_records(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (_, iha) = waiting_for_consent(&app, "W1").await;
    let sw = Browser::open(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
    let page = sw.get(&format!("/assessments/{iha}")).await;
    let version = form_version(&page.text, &format!("/assessments/{iha}/consent"));
    let r = sw
        .post(
            &format!("/assessments/{iha}/consent"),
            &[
                ("version", version.as_str()),
                ("decision", "given"),
                ("consent_on-day", "23"),
                ("consent_on-month", "12"),
                ("consent_on-year", "2025"),
                ("basis", "local_authority"),
                ("given_by", "Somerset Council"),
                ("scope", "assessment"),
                ("scope", "share_report"),
                ("confirmed_by", "sw@test.nhs.uk"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        location(&r),
        format!("/assessments/{iha}?done=consent"),
        "post/redirect/get"
    );
    let view = app.assessment(&iha).await;
    assert_eq!(view["state"], "awaiting_booking");
    assert_eq!(view["consent_on"], "2025-12-23");
    let shown = sw.get(&location(&r)).await;
    assert!(shown.text.contains("Consent decision recorded"), "{}", shown.text);
    assert!(
        shown.text.contains("Sharing") || shown.text.contains("share report"),
        "the scope is shown"
    );
    let audited = audit_rows(&app)
        .await
        .into_iter()
        .any(|e| e.user_email.as_deref() == Some("sw@test.nhs.uk") && e.entity == "assessment" && e.action != "read");
    assert!(audited, "the step is on the audit trail as the social worker");
}

async fn a_stale_form_says_someone_else_changed_the_record_and_saves_nothing(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (_, _, iha) = app.child_in_care("V1", "2015-06-01", "2025-12-19").await;
    let ha = Browser::open(&app, "ha@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let page = ha.get(&format!("/assessments/{iha}")).await;
    let version = form_version(&page.text, &format!("/assessments/{iha}/notification"));
    // Someone else records the notification meanwhile.
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2025-12-22"}),
    )
    .await
    .expect(200, "notification");
    let r = ha
        .post(
            &format!("/assessments/{iha}/notification"),
            &[
                ("version", version.as_str()),
                ("received_on-day", "24"),
                ("received_on-month", "12"),
                ("received_on-year", "2025"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.content_type().starts_with("text/html"));
    assert!(r.text.contains("This record was changed by someone else"), "{}", r.text);
    assert!(r.text.contains("Waiting for consent"), "with the record as it is now");
    assert!(r.text.contains("<title>Error: "));
    let view = app.assessment(&iha).await;
    assert_eq!(
        view["notified_on"], "2025-12-22",
        "the other change stands: no lost update"
    );
}

async fn invalid_input_is_shown_with_the_form_as_typed(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (_, iha) = waiting_for_consent(&app, "I1").await;
    app.post(
        &format!("/assessments/{iha}/consent"),
        &json!({"given_on": "2025-12-23", "basis": "local_authority", "given_by": "LA"}),
    )
    .await
    .expect(200, "consent");
    let ha = Browser::open(&app, "ha@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let path = format!("/assessments/{iha}/appointments");
    let version = form_version(&ha.get(&format!("/assessments/{iha}")).await.text, &path);
    let r = ha
        .post(
            &path,
            &[
                ("version", version.as_str()),
                ("appointment_date-day", "31"),
                ("appointment_date-month", "2"),
                ("appointment_date-year", "2026"),
                ("appointment_time", "25:00"),
                ("clinician", "Dr <Patel>"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    for want in [
        "<title>Error: ",
        "There is a problem",
        "href=\"#appointment_date-day\"",
        "Date of the appointment must be a real date",
        "href=\"#location\"",
        "Enter where the appointment is",
        "value=\"31\"",
        "value=\"Dr &#60;Patel&#62;\"",
    ] {
        assert!(r.text.contains(want), "{want:?} in {}", r.text);
    }
    // The service's own rule, on the form: an appointment before the day it was booked.
    let r = ha
        .post(
            &path,
            &[
                ("version", version.as_str()),
                ("appointment_date-day", "1"),
                ("appointment_date-month", "1"),
                ("appointment_date-year", "2026"),
                ("appointment_time", "10:00"),
                ("clinician", "Dr Patel"),
                ("location", "Clinic"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("href=\"#appointment_date-day\""), "{}", r.text);
    assert_eq!(app.assessment(&iha).await["state"], "awaiting_booking", "nothing saved");
}

async fn a_step_form_needs_the_csrf_token_and_the_role(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (_, iha) = waiting_for_consent(&app, "X1").await;
    let ha = Browser::open(&app, "ha@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let sw = Browser::open(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
    let consent = [
        ("decision", "given"),
        ("consent_on-day", "23"),
        ("consent_on-month", "12"),
        ("consent_on-year", "2025"),
        ("basis", "local_authority"),
        ("given_by", "LA"),
    ];
    let path = format!("/assessments/{iha}/consent");
    let refused = ha.post(&path, &consent).await;
    assert_eq!(
        refused.status, 403,
        "a health admin does not record consent: {}",
        refused.text
    );
    assert!(refused.content_type().starts_with("text/html"));
    let no_token = browse(
        &app,
        Method::POST,
        &path,
        &[("cla_session", sw.session.as_str())],
        Some(&consent),
        &[],
    )
    .await;
    assert_eq!(no_token.status, 403, "no CSRF token: {}", no_token.text);
    assert!(no_token.text.contains("This form has expired"));
    assert_eq!(
        app.assessment(&iha).await["state"],
        "awaiting_consent",
        "nothing recorded"
    );
    let unknown = sw.get(&format!("/assessments/{}", crate::security::unknown_id())).await;
    assert_eq!(unknown.status, 404);
    let r = sw.post(&path, &consent).await;
    assert_eq!(r.status, 303, "the social worker may: {}", r.text);
}

async fn a_step_the_state_does_not_allow_is_a_409_page(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (_, iha) = waiting_for_consent(&app, "N1").await;
    let ha = Browser::open(&app, "ha@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let r = ha
        .post(
            &format!("/assessments/{iha}/notification"),
            &[
                ("received_on-day", "23"),
                ("received_on-month", "12"),
                ("received_on-year", "2025"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains("There is a problem"));
    assert!(
        r.text.contains("Cannot record notification"),
        "the service's reason: {}",
        r.text
    );
    assert!(
        r.text.contains("allowed from awaiting_consent"),
        "naming what is allowed"
    );
    let child = s(&app.assessment(&iha).await["child_id"]);
    assert_eq!(
        app.child(&child).await["timeline"].as_array().map(Vec::len),
        Some(2),
        "nothing recorded"
    );
}
