//! The pages in real Chromium: each page a role uses, signed in as that role, styled and
//! scripted under the strict CSP, with no serious or critical axe-core violation at desktop
//! width and at 320 px (no horizontal scroll there). Screenshots are taken on the way (see
//! `browser`).

use cla_tracker::access::Role;
use serde_json::json;

use crate::browser::{self, Browser};
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

        browser.click_link("Amy TestB1").await;
        browser.find("#maincontent h1").await;
        assert!(
            browser.path().await.starts_with("/children/"),
            "the queue links to the record"
        );
        let text = browser.text().await;
        assert!(
            text.contains("Initial health assessment, due 21 January 2026"),
            "{text}"
        );
        browser.check_page("child-record").await;

        // Search by typing and pressing Enter, as a keyboard user would.
        browser.goto("/children").await;
        browser.type_into("#q", "TestB\u{E007}").await;
        browser.find("table").await;
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
        browser.click(".nhsuk-header__account-button").await;
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
        browser.click("form button[type=submit]").await;
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
}
