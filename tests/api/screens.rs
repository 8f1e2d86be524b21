//! The pages in real Chromium: each page a role uses, signed in as that role, styled and
//! scripted under the strict CSP, with no serious or critical axe-core violation at desktop
//! width and at 320 px (no horizontal scroll there). Screenshots are taken on the way (see
//! `browser`).

use cla_tracker::access::Role;
use serde_json::json;

use crate::browser::{self, Browser, ARROW_DOWN, ENTER};
use crate::helpers::{spawn_app, Backend, TestApp};
use crate::security::add_user;

const TODAY: &str = "2026-01-05";

macro_rules! browser_test {
    ($($name:ident),+ $(,)?) => {
        $(
            async fn $name(b: Backend) {
                if !browser::available(stringify!($name)) {
                    return;
                }
                inner::$name(b).await
            }
        )+
        both!($($name),+);
    };
}

browser_test!(
    health_admin_reads_the_queues_a_record_and_the_search,
    social_worker_and_clinician_see_their_work,
    sign_in_and_error_pages_are_accessible,
    an_iha_from_consent_to_completion_by_three_roles,
    a_child_is_registered_and_taken_into_care,
    the_forms_on_a_childs_record,
);

/// A small caseload: one child at each early step, one out of area, one not brought.
async fn caseload(app: &TestApp) -> String {
    let (first, _, iha) = app.child_in_care("B1", "2015-06-01", "2025-12-19").await;
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2025-12-22"}),
    )
    .await
    .expect(200, "notification");
    app.child_in_care("B2", "2011-02-03", "2026-01-02").await;
    let (child3, period3, iha3) = app.child_in_care("B3", "2009-09-09", "2025-12-15").await;
    app.post(
        &format!("/assessments/{iha3}/notification"),
        &json!({"received_on": "2025-12-16"}),
    )
    .await
    .expect(200, "notification");
    app.post(
        &format!("/assessments/{iha3}/consent"),
        &json!({"given_on": "2025-12-17", "basis": "local_authority", "given_by": "LA", "scope": ["assessment", "share_report"]}),
    )
    .await
    .expect(200, "consent");
    app.book(&iha3, "2025-12-18", "2025-12-30T10:00:00Z").await;
    let missed = app.latest_appointment(&child3, &iha3).await;
    app.post(
        &format!("/appointments/{missed}/outcome"),
        &json!({"outcome": "was_not_brought", "recorded_on": "2025-12-30"}),
    )
    .await
    .expect(200, "not brought");
    app.book(&iha3, "2026-01-02", "2026-01-07T14:30:00Z").await;
    app.post(
        &format!("/periods/{period3}/placements"),
        &json!({"started_on": "2026-01-02", "placement_type": "U4", "out_of_area": true, "host_la": "Devon", "host_provider_email": "cla@devon.example.nhs.uk"}),
    )
    .await
    .expect(201, "out-of-area placement");
    first
}

mod inner {
    use super::*;

    pub async fn health_admin_reads_the_queues_a_record_and_the_search(b: Backend) {
        let app = spawn_app(b, TODAY).await;
        caseload(&app).await;
        add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
        let browser = Browser::open(&app).await;
        browser.sign_in("nurse@test.nhs.uk").await;
        assert!(browser.text().await.contains("Waiting for consent"));
        browser.check_page("home-health-admin").await;

        browser.and_wait(browser.click_link("Amy TestB1")).await;
        assert!(
            browser.path().await.starts_with("/assessments/"),
            "the queue links to the assessment"
        );
        browser.check_page("assessment").await;
        browser.and_wait(browser.click_link("Amy TestB1")).await;
        assert!(
            browser.path().await.starts_with("/children/"),
            "which links to the child's record"
        );
        let text = browser.text().await;
        assert!(
            text.contains("Initial health assessment, due 21 January 2026"),
            "{text}"
        );
        browser.check_page("child-record").await;

        // Search by typing and pressing Enter, as a keyboard user would.
        browser.goto("/children").await;
        browser
            .and_wait(browser.type_into("#q", &format!("TestB{ENTER}")))
            .await;
        assert_eq!(browser.path().await, "/children?q=TestB");
        assert!(browser.text().await.contains("Amy TestB3"));
        browser.check_page("find-a-child").await;
        browser.close().await;
    }

    pub async fn social_worker_and_clinician_see_their_work(b: Backend) {
        let app = spawn_app(b, TODAY).await;
        caseload(&app).await;
        add_user(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
        add_user(&app, "doc@test.nhs.uk", "ICB", &[Role::Clinician]).await;
        let browser = Browser::open(&app).await;
        browser.sign_in("sw@test.nhs.uk").await;
        assert!(browser.text().await.contains("Not brought or not attended"));
        browser.check_page("home-social-worker").await;
        browser.submit(".nhsuk-header__account-button").await;
        browser.find("#email").await;
        assert_eq!(browser.path().await, "/login", "signed out");

        browser.sign_in("doc@test.nhs.uk").await;
        assert!(browser.text().await.contains("7 January 2026 at 2:30pm"));
        browser.check_page("home-clinician").await;
        browser.close().await;
    }

    pub async fn sign_in_and_error_pages_are_accessible(b: Backend) {
        let app = spawn_app(b, TODAY).await;
        add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
        let browser = Browser::open(&app).await;
        browser.goto("/").await;
        assert_eq!(
            browser.path().await,
            "/login",
            "signed out, the home page asks to sign in"
        );
        browser.check_page("sign-in").await;
        browser.type_into("#email", "nurse@test.nhs.uk").await;
        browser.type_into("#password", "not the password at all").await;
        browser.submit("form button[type=submit]").await;
        browser.find(".nhsuk-error-summary").await;
        assert!(
            browser.title().await.starts_with("Error: "),
            "the title says there is an error"
        );
        browser.check_page("sign-in-refused").await;

        browser.sign_in("nurse@test.nhs.uk").await;
        browser
            .goto(&format!("/children/{}", crate::security::unknown_id()))
            .await;
        assert!(browser.text().await.contains("Page not found"));
        browser.check_page("not-found").await;
        browser.close().await;
    }

    /// The social worker records consent with the keyboard only; the health admin books,
    /// records "was not brought", rebooks and records "attended"; the clinician completes.
    /// Each result is checked through the API.
    pub async fn an_iha_from_consent_to_completion_by_three_roles(b: Backend) {
        let app = spawn_app(b, TODAY).await;
        let (_, _, iha) = app.child_in_care("J1", "2012-04-04", "2025-12-19").await;
        app.post(
            &format!("/assessments/{iha}/notification"),
            &json!({"received_on": "2025-12-22"}),
        )
        .await
        .expect(200, "notification");
        add_user(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
        add_user(&app, "ha@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
        add_user(&app, "doc@test.nhs.uk", "ICB", &[Role::Clinician]).await;
        let page = format!("/assessments/{iha}");
        let browser = Browser::open(&app).await;

        // The social worker, keyboard only: sign in, follow the queue's link, fill the form.
        browser.goto("/login").await;
        browser.tab_to("email").await;
        browser.press("sw@test.nhs.uk").await;
        browser.tab_to("password").await;
        browser.press(crate::helpers::TEST_PASSWORD).await;
        browser.and_wait(browser.press(ENTER)).await;
        browser.find("#maincontent h1").await;
        browser
            .tab_until(&format!("e.getAttribute('href') === {}", json!(page)))
            .await;
        browser.and_wait(browser.press(ENTER)).await;
        browser.find("#consent-form").await;
        assert_eq!(browser.path().await, page);
        browser.check_page("assessment-consent").await;
        browser.tab_to("decision-1").await;
        browser.press(" ").await;
        browser.tab_to("consent_on-day").await;
        browser.press("23").await;
        browser.tab_to("consent_on-month").await;
        browser.press("12").await;
        browser.tab_to("consent_on-year").await;
        browser.press("2025").await;
        browser.tab_to("basis-1").await;
        browser.press(ARROW_DOWN).await;
        browser.tab_to("given_by").await;
        browser.press("Somerset Council").await;
        browser.tab_to("scope-2").await;
        browser.press(" ").await;
        browser
            .tab_until("e.type === 'submit' && e.form && e.form.id === 'consent-form'")
            .await;
        browser.and_wait(browser.press(ENTER)).await;
        browser.find(".nhsuk-notification-banner--success").await;
        let view = app.assessment(&iha).await;
        assert_eq!(view["state"], "awaiting_booking", "consent recorded: {view}");
        let record = app.child(view["child_id"].as_str().unwrap_or_default()).await;
        assert_eq!(record["consents"][0]["basis"], "local_authority");
        assert_eq!(record["consents"][0]["scope"], json!(["assessment", "share_report"]));
        browser.submit(".nhsuk-header__account-button").await;
        browser.find("#email").await;

        // The health admin books from the queue, then records the outcomes.
        browser.sign_in("ha@test.nhs.uk").await;
        browser.and_wait(browser.click_link("Amy TestJ1")).await;
        browser.find("#appointment-form").await;
        browser.check_page("assessment-booking").await;
        book(&browser, "5", "09:30").await;
        assert_eq!(app.assessment(&iha).await["state"], "booked");
        browser.click("#outcome-2").await;
        assert_eq!(
            browser
                .script("return document.querySelector('label[for=outcome-2]').textContent;")
                .await,
            "Was not brought"
        );
        browser.submit("#outcome-form button[type=submit]").await;
        browser.find(".nhsuk-notification-banner--success").await;
        let view = app.assessment(&iha).await;
        assert_eq!(view["state"], "awaiting_booking");
        assert_eq!(view["non_attendance_count"], 1);
        book(&browser, "5", "15:00").await;
        browser.click("#outcome-1").await;
        browser.submit("#outcome-form button[type=submit]").await;
        browser.find(".nhsuk-notification-banner--success").await;
        assert_eq!(app.assessment(&iha).await["state"], "awaiting_report");
        browser.submit(".nhsuk-header__account-button").await;
        browser.find("#email").await;

        // The clinician completes it.
        browser.sign_in("doc@test.nhs.uk").await;
        browser.goto(&page).await;
        browser.find("#completion-form").await;
        browser.check_page("assessment-completion").await;
        browser.type_into("#seen_on-day", "5").await;
        browser.type_into("#seen_on-month", "1").await;
        browser.type_into("#seen_on-year", "2026").await;
        browser.submit("#completion-form button[type=submit]").await;
        browser.find(".nhsuk-notification-banner--success").await;
        let done = app.assessment(&iha).await;
        assert_eq!(done["state"], "completed", "{done}");
        assert_eq!(done["seen_on"], "2026-01-05");
        browser.close().await;
    }

    async fn book(browser: &Browser, day: &str, time: &str) {
        browser.type_into("#appointment_date-day", day).await;
        browser.type_into("#appointment_date-month", "1").await;
        browser.type_into("#appointment_date-year", "2026").await;
        browser.type_into("#appointment_time", time).await;
        browser.type_into("#clinician", "Dr Patel").await;
        browser.type_into("#location", "Taunton CLA clinic").await;
        browser.submit("#appointment-form button[type=submit]").await;
        browser.find(".nhsuk-notification-banner--success").await;
        browser.find("#outcome-form").await;
    }

    /// Registering a child and starting the period of care, with one mistake on the way.
    pub async fn a_child_is_registered_and_taken_into_care(b: Backend) {
        let app = spawn_app(b, TODAY).await;
        add_user(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
        let browser = Browser::open(&app).await;
        browser.sign_in("sw@test.nhs.uk").await;
        browser.and_wait(browser.click_link("Register a child")).await;
        browser.find("#register-form").await;
        browser.check_page("register-a-child").await;
        browser.type_into("#given_name", "Rosa").await;
        browser.type_into("#family_name", "Green").await;
        browser.type_into("#date_of_birth-day", "4").await;
        browser.type_into("#date_of_birth-year", "2013").await;
        browser.click("#sex-1").await;
        browser.type_into("#local_id", "RG1").await;
        browser.submit("#register-form button[type=submit]").await;
        browser.find(".nhsuk-error-summary").await;
        assert!(browser.title().await.starts_with("Error: "));
        browser.check_page("register-a-child-error").await;
        browser.click(".nhsuk-error-summary a").await;
        let focused = browser.script("return document.activeElement.id;").await;
        assert_eq!(focused, "date_of_birth-month", "the summary's link leads to the field");
        browser.type_into("#date_of_birth-month", "5").await;
        browser.submit("#register-form button[type=submit]").await;
        browser.find("#period-form").await;
        browser.check_page("start-a-period-of-care").await;
        browser.type_into("#started_on-day", "2").await;
        browser.type_into("#started_on-month", "1").await;
        browser.type_into("#started_on-year", "2026").await;
        browser
            .find("#legal_status")
            .await
            .select_by_value("C2")
            .await
            .expect("choose a legal status");
        browser
            .find("#placement_type")
            .await
            .select_by_value("U1")
            .await
            .expect("choose a placement");
        browser.submit("#period-form button[type=submit]").await;
        browser.find(".nhsuk-notification-banner--success").await;
        let text = browser.text().await;
        assert!(
            text.contains("Rosa Green") && text.contains("Initial health assessment"),
            "{text}"
        );
        let found = app.get_ok("/children?q=RG1").await;
        let id = found["items"][0]["id"].as_str().expect("registered").to_string();
        let record = app.child(&id).await;
        assert_eq!(record["periods"][0]["legal_status"], "C2");
        assert_eq!(record["assessments"][0]["state"], "awaiting_notification");
        browser.close().await;
    }

    /// The forms on a child's record: a social worker changes the placement (with one
    /// mistake on the way) and records a consent withdrawn; a clinician adds an SDQ and a note.
    pub async fn the_forms_on_a_childs_record(b: Backend) {
        let app = spawn_app(b, TODAY).await;
        let child = caseload(&app).await;
        let iha = app.child(&child).await["assessments"][0]["id"]
            .as_str()
            .expect("the IHA")
            .to_string();
        app.post(
            &format!("/assessments/{iha}/consent"),
            &json!({"given_on": "2025-12-23", "basis": "local_authority", "given_by": "Ann Social"}),
        )
        .await
        .expect(200, "consent");
        add_user(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
        add_user(&app, "dr@test.nhs.uk", "ICB", &[Role::Clinician]).await;
        let browser = Browser::open(&app).await;
        browser.sign_in("sw@test.nhs.uk").await;
        browser.goto(&format!("/children/{child}")).await;
        // Every form opened, so the checks see them all.
        browser
            .script("document.querySelectorAll('details').forEach(d => { d.open = true; }); return null;")
            .await;
        browser.check_page("child-record-forms").await;

        browser.goto(&format!("/children/{child}")).await;
        browser.click("#placement summary").await;
        browser
            .find("#placement_type")
            .await
            .select_by_value("U1")
            .await
            .expect("choose a placement");
        browser.type_into("#placement_started_on-day", "2").await;
        browser.submit("#placement-form button[type=submit]").await;
        browser.find(".nhsuk-error-summary").await;
        assert!(browser.title().await.starts_with("Error: "));
        let open = browser
            .script("return document.querySelector('#placement').open;")
            .await;
        assert_eq!(open, json!(true), "the form with the mistake is open");
        browser.check_page("child-record-error").await;
        browser.click(".nhsuk-error-summary a").await;
        let focused = browser.script("return document.activeElement.id;").await;
        assert_eq!(
            focused, "placement_started_on-month",
            "the summary's link leads to the field"
        );
        browser.type_into("#placement_started_on-month", "1").await;
        browser.type_into("#placement_started_on-year", "2026").await;
        browser.submit("#placement-form button[type=submit]").await;
        browser.find(".nhsuk-notification-banner--success").await;
        assert!(browser.text().await.contains("Placement change recorded"));

        browser.click("details[id^='withdrawal-'] summary").await;
        browser.type_into("input[id^='withdrawn_on-'][id$='-day']", "4").await;
        browser.type_into("input[id^='withdrawn_on-'][id$='-month']", "1").await;
        browser
            .type_into("input[id^='withdrawn_on-'][id$='-year']", "2026")
            .await;
        browser.submit("form[id^='withdrawal-'] button[type=submit]").await;
        browser.find(".nhsuk-notification-banner--success").await;
        assert!(browser.text().await.contains("Consent withdrawal recorded"));
        browser.submit(".nhsuk-header__account-button").await;

        browser.sign_in("dr@test.nhs.uk").await;
        browser.goto(&format!("/children/{child}")).await;
        browser.click("#health-check summary").await;
        browser.click("#kind-3").await;
        browser.type_into("#checked_on-day", "5").await;
        browser.type_into("#checked_on-month", "1").await;
        browser.type_into("#checked_on-year", "2026").await;
        browser.type_into("#sdq_score", "12").await;
        browser.submit("#health_check-form button[type=submit]").await;
        browser.find(".nhsuk-notification-banner--success").await;
        assert!(browser.text().await.contains("Score 12 of 40"));
        browser.click("#note summary").await;
        browser
            .type_into("#note_body", "Carer asked for an afternoon appointment.")
            .await;
        browser.submit("#note-form button[type=submit]").await;
        browser.find(".nhsuk-notification-banner--success").await;
        assert!(browser
            .text()
            .await
            .contains("Carer asked for an afternoon appointment."));

        let record = app.child(&child).await;
        let placements = record["periods"][0]["placements"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            placements.last().map(|p| p["placement_type"].clone()),
            Some(json!("U1"))
        );
        assert_eq!(record["consents"][0]["withdrawn_on"], "2026-01-04");
        assert_eq!(record["health_checks"][0]["sdq_score"], 12);
        assert_eq!(record["notes"][0]["body"], "Carer asked for an afternoon appointment.");
        browser.close().await;
    }
}
