//! The browser service over HTTP (no browser): the middleware's gate for pages (sign-in
//! redirect, role gating, deny by default, CSRF), record-level scope, audit, escaping, error
//! pages, the CSP and the embedded assets, and what each page shows.

use cla_tracker::access::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{s, spawn_app, Backend, Resp, TestApp};
use crate::security::{
    add_org_in, add_user, audit_rows, browse, hidden_csrf, post_as, session_for, user_with_token, with_db,
};

/// The due date of the DOMAIN.md worked example (became looked after Fri 19 Dec 2025).
const TODAY: &str = "2026-01-05";

both!(
    signed_out_pages_send_the_browser_to_sign_in_and_back,
    pages_are_gated_by_the_role_matrix_and_unknown_pages_refused,
    a_child_outside_scope_is_a_404_page_like_an_unknown_one,
    reading_a_record_or_searching_writes_the_audit_trail,
    a_child_named_script_is_shown_escaped_on_every_page,
    page_forms_need_the_sessions_csrf_token,
    errors_are_pages_for_browsers_and_problems_for_the_api,
    pages_have_a_strict_csp_and_assets_are_cached_for_a_year,
    the_header_names_the_user_and_organisation_by_name,
    home_lists_each_roles_work,
    child_record_shows_each_clock_and_as_of,
    search_finds_children_a_page_at_a_time,
    every_page_answers_head_as_it_answers_get,
);

async fn page(app: &TestApp, session: &str, path: &str) -> Resp {
    browse(app, Method::GET, path, &[("cla_session", session)], None, &[]).await
}

fn location(r: &Resp) -> String {
    r.headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

#[track_caller]
fn assert_page(r: &Resp, status: u16, what: &str) {
    assert_eq!(r.status, status, "{what}: status; body: {}", r.text);
    assert!(
        r.content_type().starts_with("text/html"),
        "{what}: an HTML page, not {}: {}",
        r.content_type(),
        r.text
    );
}

/// A child in care in SOM since the worked example's day 0, with its IHA waiting for consent.
async fn child_waiting_for_consent(app: &TestApp, local_id: &str) -> (String, String) {
    let (child, _, iha) = app.child_in_care(local_id, "2015-06-01", "2025-12-19").await;
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2025-12-22"}),
    )
    .await
    .expect(200, "notification");
    (child, iha)
}

async fn signed_out_pages_send_the_browser_to_sign_in_and_back(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_user(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
    let (child, _) = child_waiting_for_consent(&app, "R1").await;

    let wanted = format!("/children/{child}?as_of=2026-01-02");
    let r = browse(&app, Method::GET, &wanted, &[], None, &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let to = location(&r);
    assert!(to.starts_with("/login?next="), "{to}");
    let form = browse(&app, Method::GET, &to, &[], None, &[]).await;
    assert_page(&form, 200, "the sign-in form");
    let action = form
        .text
        .split("action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form has an action")
        .replace("&#38;", "&");
    assert!(action.starts_with("/login?next="), "the form carries next: {action}");
    let field = hidden_csrf(&form.text).expect("csrf");
    let cookie = crate::security::cookie_value(&form, "cla_login_csrf").expect("cookie");
    let login = browse(
        &app,
        Method::POST,
        &action,
        &[("cla_login_csrf", cookie.as_str())],
        Some(&[
            ("email", "sw@test.nhs.uk"),
            ("password", crate::helpers::TEST_PASSWORD),
            ("csrf", field.as_str()),
        ]),
        &[],
    )
    .await;
    assert_eq!(login.status, 303, "{}", login.text);
    assert_eq!(
        location(&login),
        wanted,
        "after signing in the browser lands where it was going"
    );

    // Somewhere else is never a destination.
    for next in ["https://evil.example/", "//evil.example/x", "/\\evil.example"] {
        let (field, cookie) = crate::security::login_form(&app).await;
        let path = format!(
            "/login?next={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        );
        let r = browse(
            &app,
            Method::POST,
            &path,
            &[("cla_login_csrf", cookie.as_str())],
            Some(&[
                ("email", "sw@test.nhs.uk"),
                ("password", crate::helpers::TEST_PASSWORD),
                ("csrf", field.as_str()),
            ]),
            &[],
        )
        .await;
        assert_eq!(r.status, 303);
        assert_eq!(location(&r), "/", "next={next} falls back to the home page");
    }

    // A form posted while signed out is not replayed after signing in.
    let r = browse(&app, Method::POST, "/logout", &[], Some(&[("csrf", "x")]), &[]).await;
    assert_eq!((r.status, location(&r).as_str()), (303, "/login"));
    // A page that does not exist still asks a stranger to sign in first (no route probing).
    let r = browse(&app, Method::GET, "/no-such-page", &[], None, &[]).await;
    assert_eq!(r.status, 303);
}

async fn pages_are_gated_by_the_role_matrix_and_unknown_pages_refused(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child, _) = child_waiting_for_consent(&app, "G1").await;
    add_user(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    add_user(&app, "reader@test.nhs.uk", "ICB", &[Role::ReadOnly]).await;
    let admin = session_for(&app, "admin@test.nhs.uk").await;
    let reader = session_for(&app, "reader@test.nhs.uk").await;

    let home = page(&app, &admin, "/").await;
    assert_page(&home, 200, "every role has a home page");
    assert!(
        !home.text.contains("href=\"/children\""),
        "no link an admin would be refused: {}",
        home.text
    );
    for path in ["/children".to_string(), format!("/children/{child}")] {
        let r = page(&app, &admin, &path).await;
        assert_page(&r, 403, &path);
        assert!(r.text.contains("You do not have permission"), "{}", r.text);
        assert!(!r.text.contains("TestG1"), "nothing of the child on a refusal");
        let ok = page(&app, &reader, &path).await;
        assert_page(&ok, 200, &format!("read_only may read {path}"));
    }
    let unknown = page(&app, &reader, "/settings").await;
    assert_page(&unknown, 404, "a page not in the route table");
    assert!(unknown.text.contains("Page not found"));
    let r = browse(
        &app,
        Method::POST,
        "/children",
        &[("cla_session", reader.as_str())],
        Some(&[]),
        &[],
    )
    .await;
    assert_page(&r, 405, "a known page with a method it does not take");
    let refusals: Vec<_> = audit_rows(&app)
        .await
        .into_iter()
        .filter(|e| e.entity == "page" && e.outcome == "denied")
        .collect();
    assert!(
        refusals
            .iter()
            .any(|e| e.user_email.as_deref() == Some("admin@test.nhs.uk")
                && e.changes.as_deref().unwrap_or("").contains("role not permitted")),
        "the refusal is on the audit trail: {refusals:?}"
    );
}

async fn a_child_outside_scope_is_a_404_page_like_an_unknown_one(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_org_in(&app, "local_authority", "OTH", Some("ICB")).await;
    add_user(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
    add_user(&app, "other@test.nhs.uk", "OTH", &[Role::SocialWorker]).await;
    let (child, _) = child_waiting_for_consent(&app, "S1").await;
    let mine = session_for(&app, "sw@test.nhs.uk").await;
    let other = session_for(&app, "other@test.nhs.uk").await;

    let ok = page(&app, &mine, &format!("/children/{child}")).await;
    assert_page(&ok, 200, "the authority's own child");
    let hidden = page(&app, &other, &format!("/children/{child}")).await;
    let unknown = page(&app, &other, &format!("/children/{}", crate::security::unknown_id())).await;
    let garbage = page(&app, &other, "/children/not-an-id").await;
    for (what, r) in [
        ("out of scope", &hidden),
        ("unknown", &unknown),
        ("not an id", &garbage),
    ] {
        assert_page(r, 404, what);
    }
    assert_eq!(
        crate::security::without_csrf_values(&hidden.text),
        crate::security::without_csrf_values(&unknown.text),
        "an out-of-scope child reads exactly like an unknown one"
    );
    assert!(!hidden.text.contains("TestS1"));
    let search = page(&app, &other, "/children?q=TestS1").await;
    assert_page(&search, 200, "search");
    assert!(
        !search.text.contains(&format!("/children/{child}")) && search.text.contains("No child matches"),
        "another authority's child is not found: {}",
        search.text
    );
    let home = page(&app, &other, "/").await;
    assert!(!home.text.contains("TestS1"), "nor on another authority's home page");
    let own_home = page(&app, &mine, "/").await;
    assert!(
        own_home.text.contains("TestS1"),
        "the authority's consent queue lists it: {}",
        own_home.text
    );
}

async fn reading_a_record_or_searching_writes_the_audit_trail(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let (child, _) = child_waiting_for_consent(&app, "A1").await;
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;
    let before = audit_rows(&app).await.len();
    assert_page(&page(&app, &nurse, &format!("/children/{child}")).await, 200, "record");
    assert_page(&page(&app, &nurse, "/children?q=A1").await, 200, "search");
    assert_page(&page(&app, &nurse, "/").await, 200, "home");
    let rows: Vec<_> = audit_rows(&app).await.into_iter().skip(before).collect();
    let by_nurse = |action: &str, entity: &str| {
        rows.iter()
            .filter(|e| {
                e.user_email.as_deref() == Some("nurse@test.nhs.uk") && e.action == action && e.entity == entity
            })
            .collect::<Vec<_>>()
    };
    let reads = by_nurse("read", "child");
    assert_eq!(reads.len(), 1, "one read of the record: {rows:?}");
    assert_eq!(reads[0].child_id.as_deref(), Some(child.as_str()));
    assert_eq!(reads[0].role.as_deref(), Some("health_admin"));
    assert_eq!(by_nurse("search", "child").len(), 1, "the search: {rows:?}");
    assert!(
        by_nurse("list", "assessment").len() >= 5,
        "each queue on the home page is a list read: {rows:?}"
    );
}

async fn a_child_named_script_is_shown_escaped_on_every_page(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_user(
        &app,
        "nurse@test.nhs.uk",
        "ICB",
        &[Role::HealthAdmin, Role::SocialWorker],
    )
    .await;
    let evil = "<script>alert(1)</script>";
    let child = app
        .register_with(json!({
            "local_id": "X1", "given_name": evil, "family_name": "O'Brien <b>", "date_of_birth": "2015-06-01",
            "sex": "F", "responsible_la": "SOM", "gp_practice": "<img src=x onerror=alert(2)>",
        }))
        .await;
    let id = s(&child["id"]);
    app.start_period(&id, "2025-12-19", "C2").await;
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;
    for path in ["/".to_string(), "/children?q=X1".to_string(), format!("/children/{id}")] {
        let r = page(&app, &nurse, &path).await;
        assert_page(&r, 200, &path);
        assert!(
            r.text.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path} shows the name, escaped: {}",
            r.text
        );
        assert!(!r.text.contains(evil), "{path}: no script from data");
        assert!(!r.text.contains("<b>"), "{path}: no markup from data");
        assert!(r.text.contains("O&#39;Brien"), "{path}: quotes escaped");
        assert!(!r.text.contains("<img src=x"), "{path}: no markup from data");
    }
}

async fn page_forms_need_the_sessions_csrf_token(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;
    let jar = [("cla_session", nurse.as_str())];
    for (what, form) in [("no token", vec![]), ("a wrong token", vec![("csrf", "guess")])] {
        let r = browse(&app, Method::POST, "/logout", &jar, Some(&form), &[]).await;
        assert_page(&r, 403, what);
        assert!(r.text.contains("This form has expired"), "{}", r.text);
        assert_page(&page(&app, &nurse, "/").await, 200, "the session still works");
    }
    let denied: Vec<_> = audit_rows(&app)
        .await
        .into_iter()
        .filter(|e| e.outcome == "denied" && e.changes.as_deref().unwrap_or("").contains("CSRF"))
        .collect();
    assert_eq!(denied.len(), 2, "both refusals are on record: {denied:?}");
    // Another user's token is no better than a guess.
    add_user(&app, "other@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let other = session_for(&app, "other@test.nhs.uk").await;
    let others_token = hidden_csrf(&page(&app, &other, "/").await.text).expect("a sign-out form");
    let r = browse(
        &app,
        Method::POST,
        "/logout",
        &jar,
        Some(&[("csrf", others_token.as_str())]),
        &[],
    )
    .await;
    assert_page(&r, 403, "someone else's token");
    let mine = hidden_csrf(&page(&app, &nurse, "/").await.text).expect("a sign-out form");
    let r = browse(
        &app,
        Method::POST,
        "/logout",
        &jar,
        Some(&[("csrf", mine.as_str())]),
        &[],
    )
    .await;
    assert_eq!(
        (r.status, location(&r).as_str()),
        (303, "/login"),
        "with the session's own token: {}",
        r.text
    );
}

async fn errors_are_pages_for_browsers_and_problems_for_the_api(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;
    let r = page(&app, &nurse, &format!("/children/{}", crate::security::unknown_id())).await;
    assert_page(&r, 404, "an unknown child");
    assert!(r.text.contains("<title>Page not found"), "{}", r.text);
    assert!(
        r.text.contains("nurse@test.nhs.uk"),
        "the header still shows who is signed in"
    );
    assert!(r.text.contains("nhsuk-header"), "NHS-styled");
    let api = browse(
        &app,
        Method::GET,
        &format!("/api/v1/children/{}", crate::security::unknown_id()),
        &[("cla_session", nurse.as_str())],
        None,
        &[],
    )
    .await;
    crate::helpers::assert_problem(&api, 404, None, "the API keeps problem+json");
    let bad = page(
        &app,
        &nurse,
        "/children/00000000-0000-4000-8000-000000000000?as_of=2026-02-30",
    )
    .await;
    assert_page(&bad, 404, "unknown beats a bad date");
}

async fn pages_have_a_strict_csp_and_assets_are_cached_for_a_year(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;
    let home = page(&app, &nurse, "/").await;
    let csp = |r: &Resp| {
        r.headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        csp(&home),
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    assert_eq!(
        csp(&browse(&app, Method::GET, "/login", &[], None, &[]).await),
        csp(&home)
    );
    let api = app.get("/me").await;
    assert!(
        csp(&api).starts_with("default-src 'none'"),
        "the API keeps its stricter policy: {}",
        csp(&api)
    );
    assert!(
        !home.text.contains("<script>") && !home.text.contains(" style=\""),
        "no inline script or style"
    );

    let stylesheet = home
        .text
        .split("<link rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a stylesheet link")
        .to_string();
    assert!(stylesheet.starts_with("/assets/nhsuk-frontend."), "{stylesheet}");
    let css = browse(
        &app,
        Method::GET,
        &stylesheet,
        &[],
        None,
        &[("accept-encoding", "identity")],
    )
    .await;
    assert_eq!(css.status, 200);
    assert!(css.content_type().starts_with("text/css"));
    assert_eq!(
        css.headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("public, max-age=31536000, immutable")
    );
    assert!(css.text.contains(".nhsuk-header"), "the NHS.UK frontend's CSS");
    assert!(!css.text.contains("@font-face"), "no web fonts from elsewhere");
    let raw = crate::security::bare_client()
        .get(format!("{}{stylesheet}", app.address))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("get the stylesheet compressed");
    assert_eq!(
        raw.headers().get("content-encoding").and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
    let compressed = raw.bytes().await.expect("body").len();
    assert!(compressed < 40_000, "the CSS ships compressed: {compressed} bytes");
    let fav = browse(&app, Method::GET, "/favicon.ico", &[], None, &[]).await;
    assert_eq!(fav.status, 301);
    assert!(location(&fav).starts_with("/assets/favicon."), "{}", location(&fav));
    let missing = browse(
        &app,
        Method::GET,
        "/assets/nhsuk-frontend.0000000000.min.css",
        &[],
        None,
        &[],
    )
    .await;
    assert_eq!(missing.status, 404);
}

async fn the_header_names_the_user_and_organisation_by_name(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    with_db(&app, |conn| {
        cla_tracker::auth::add_organisation(
            conn,
            &cla_tracker::audit::Actor::system("test"),
            cla_tracker::auth::NewOrganisation {
                kind: "local_authority",
                name: "Somewhere Council",
                code: "SW9",
                icb_code: Some("ICB"),
            },
        )
        .expect("an organisation");
        cla_tracker::auth::add_user(
            conn,
            &cla_tracker::audit::Actor::system("test"),
            cla_tracker::auth::NewUser {
                email: "sam@test.nhs.uk",
                display_name: "Sam Social",
                organisation_code: "SW9",
                roles: &[Role::SocialWorker],
                password: crate::helpers::TEST_PASSWORD,
            },
            &cla_tracker::auth::password::PasswordParams::default(),
        )
        .expect("a user");
    })
    .await;
    let sam = session_for(&app, "sam@test.nhs.uk").await;
    let home = page(&app, &sam, "/").await;
    assert_page(&home, 200, "home");
    let text = crate::security::without_csrf_values(&home.text);
    let header = text.split("</header>").next().unwrap_or("");
    assert!(header.contains("CLA health tracker"), "the service name");
    assert!(header.contains("Sam Social"), "the user's name: {header}");
    assert!(
        header.contains("Somewhere Council"),
        "the organisation's name: {header}"
    );
    assert!(!header.contains("SW9"), "not its code");
    assert!(
        header.contains("href=\"/children\""),
        "a social worker may find children"
    );
    assert!(header.contains("Sign out"));
    assert!(home.text.contains("Skip to main content"), "a skip link");
    assert!(home.text.contains("nhsuk-footer"), "a footer");
}

async fn home_lists_each_roles_work(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    add_user(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
    add_user(&app, "doc@test.nhs.uk", "ICB", &[Role::Clinician]).await;
    child_waiting_for_consent(&app, "C1").await;
    // Booked for this week, then brought back to booking by a non-attendance.
    let (child2, _, iha2) = app.child_in_care("C2", "2012-02-02", "2025-12-19").await;
    app.complete_iha(&iha2, "2025-12-22").await;
    let (child3, _, iha3) = app.child_in_care("C3", "2013-03-03", "2025-12-22").await;
    app.post(
        &format!("/assessments/{iha3}/notification"),
        &json!({"received_on": "2025-12-22"}),
    )
    .await
    .expect(200, "notification");
    app.post(
        &format!("/assessments/{iha3}/consent"),
        &json!({"given_on": "2025-12-23", "basis": "local_authority", "given_by": "LA"}),
    )
    .await
    .expect(200, "consent");
    app.book(&iha3, "2025-12-23", "2025-12-30T10:00:00Z").await;
    let missed = app.latest_appointment(&child3, &iha3).await;
    app.post(
        &format!("/appointments/{missed}/outcome"),
        &json!({"outcome": "was_not_brought", "recorded_on": "2025-12-30"}),
    )
    .await
    .expect(200, "was not brought");
    app.book(&iha3, "2026-01-02", "2026-01-07T14:30:00Z").await;
    let _ = child2;
    // Another ICB's child, booked the same week by its own staff: not in this ICB's
    // clinician's count.
    add_org_in(&app, "icb", "ICB2", None).await;
    add_org_in(&app, "local_authority", "OTH", Some("ICB2")).await;
    let oth = user_with_token(
        &app,
        "staff@oth.gov.uk",
        "OTH",
        &[Role::SocialWorker, Role::HealthAdmin],
    )
    .await;
    let other = post_as(
        &app,
        &oth,
        "/children",
        &json!({
            "local_id": "O1", "given_name": "Olly", "family_name": "Other",
            "date_of_birth": "2013-01-01", "sex": "M", "responsible_la": "OTH",
        }),
    )
    .await
    .expect(201, "an OTH child");
    let started = post_as(
        &app,
        &oth,
        &format!("/children/{}/periods", s(&other["id"])),
        &json!({"started_on": "2025-12-22", "legal_status": "C2"}),
    )
    .await
    .expect(201, "its period");
    let other_iha = s(&started["assessment"]["id"]);
    for (step, body) in [
        ("notification", json!({"received_on": "2025-12-22"})),
        (
            "consent",
            json!({"given_on": "2025-12-23", "basis": "local_authority", "given_by": "LA"}),
        ),
        (
            "appointments",
            json!({"starts_at": "2026-01-06T09:00:00Z", "clinician": "Dr Patel", "location": "Truro", "booked_on": "2026-01-02"}),
        ),
    ] {
        let r = post_as(&app, &oth, &format!("/assessments/{other_iha}/{step}"), &body).await;
        assert!(r.status == 200 || r.status == 201, "{step}: {}", r.text);
    }

    let nurse = page(&app, &session_for(&app, "nurse@test.nhs.uk").await, "/").await;
    assert_page(&nurse, 200, "health admin");
    for queue in [
        "Waiting for consent",
        "Waiting to be booked",
        "Waiting for the report",
        "Waiting for notification",
    ] {
        assert!(nurse.text.contains(queue), "health admin queue {queue}");
    }
    assert!(nurse.text.contains("TestC1"), "the consent queue lists the child");
    assert!(
        nurse.text.contains("21 January 2026"),
        "with its due date in words: {}",
        nurse.text
    );
    assert!(nurse.text.contains("working days left"), "and time left in words");
    assert!(nurse.text.contains("nhsuk-tag"), "and RAG as a tag");

    let sw = page(&app, &session_for(&app, "sw@test.nhs.uk").await, "/").await;
    assert_page(&sw, 200, "social worker");
    assert!(sw.text.contains("TestC1"), "waiting on the LA's consent");
    let missed_section = sw.text.split("Not brought or not attended").nth(1).unwrap_or("");
    assert!(
        missed_section.contains("TestC3"),
        "the recent non-attendance: {}",
        sw.text
    );
    assert!(
        !sw.text.contains("Waiting for the report"),
        "no health admin queue for a social worker"
    );

    let doc = page(&app, &session_for(&app, "doc@test.nhs.uk").await, "/").await;
    assert_page(&doc, 200, "clinician");
    assert!(
        doc.text.contains("5 January 2026 to 11 January 2026"),
        "this week: {}",
        doc.text
    );
    let clinic = doc.text.split("Appointments from").nth(1).unwrap_or("");
    assert!(
        clinic.contains("7 January 2026 at 2:30pm"),
        "the appointment, in local time: {}",
        doc.text
    );
    assert!(clinic.contains("TestC3"));
    assert!(
        clinic.contains("1 appointment this week.") && !clinic.contains("Olly"),
        "counted and listed within the clinician's authorities: {clinic}"
    );
    assert!(doc.text.contains("Waiting for the report"));
    let roles: Vec<Option<String>> = audit_rows(&app)
        .await
        .into_iter()
        .filter(|e| e.user_email.as_deref() == Some("doc@test.nhs.uk") && e.action == "list")
        .map(|e| e.role)
        .collect();
    assert!(
        !roles.is_empty() && roles.iter().all(|r| r.as_deref() == Some("clinician")),
        "{roles:?}"
    );
}

async fn child_record_shows_each_clock_and_as_of(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let (child, _) = child_waiting_for_consent(&app, "K1").await;
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;
    let r = page(&app, &nurse, &format!("/children/{child}")).await;
    assert_page(&r, 200, "record");
    let t = &r.text;
    for want in [
        "Initial health assessment, due 21 January 2026",
        "Waiting for consent",
        "Christmas Day",
        "Boxing Day",
        "New Year",
        "Notification received",
        "22 December 2025",
        "Looked after since",
        "19 December 2025",
        "C2: ",
        "Timeline",
    ] {
        assert!(t.contains(want), "the record shows {want:?}: {t}");
    }
    assert!(
        t.contains("Amber") || t.contains("Green") || t.contains("Red"),
        "RAG in words"
    );

    let then = page(&app, &nurse, &format!("/children/{child}?as_of=2025-12-20")).await;
    assert_page(&then, 200, "as of a day before notification");
    assert!(then.text.contains("as it stood on 20 December 2025"), "{}", then.text);
    assert!(
        then.text.contains("Waiting for notification"),
        "the state then: {}",
        then.text
    );
    let form = page(
        &app,
        &nurse,
        &format!("/children/{child}?as_of-day=20&as_of-month=12&as_of-year=2025"),
    )
    .await;
    assert_page(&form, 200, "as of, from the Day/Month/Year form");
    assert!(form.text.contains("as it stood on 20 December 2025"));
    let bad = page(
        &app,
        &nurse,
        &format!("/children/{child}?as_of-day=31&as_of-month=2&as_of-year=2025"),
    )
    .await;
    assert_page(&bad, 422, "a date that is not real");
    assert!(bad.text.contains("<title>Error: "), "the title says so");
    assert!(bad.text.contains("There is a problem"));
    assert!(bad.text.contains("must be a real date"));
    assert!(bad.text.contains("value=\"31\""), "what was typed is kept");
}

async fn search_finds_children_a_page_at_a_time(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    for i in 0..27 {
        app.register(&format!("P{i:02}"), "2016-01-01").await;
    }
    app.register_with(json!({
        "local_id": "N1", "given_name": "Nia", "family_name": "Number", "date_of_birth": "2016-01-01",
        "sex": "F", "responsible_la": "SOM", "nhs_number": "9990000018",
    }))
    .await;
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;
    let first = page(&app, &nurse, "/children?q=TestP").await;
    assert_page(&first, 200, "first page");
    let rows = |r: &Resp| {
        r.text
            .matches("aria-hidden=\"true\">Name </span><a href=\"/children/")
            .count()
    };
    assert_eq!(rows(&first), 25, "a page of 25");
    assert!(first.text.contains("rel=\"next\""), "with a next page");
    assert!(!first.text.contains("rel=\"prev\""));
    let second = page(&app, &nurse, "/children?q=TestP&page=2").await;
    assert_eq!(rows(&second), 2, "the rest");
    assert!(second.text.contains("rel=\"prev\"") && !second.text.contains("rel=\"next\""));
    let by_number = page(&app, &nurse, "/children?q=999+000+0018").await;
    assert_eq!(rows(&by_number), 1, "found by NHS number");
    assert!(by_number.text.contains("999 000 0018"), "shown in groups of 3, 3 and 4");
    let by_local = page(&app, &nurse, "/children?q=N1").await;
    assert!(by_local.text.contains("Nia Number"));
    let none = page(&app, &nurse, "/children?q=Zzz").await;
    assert!(none.text.contains("No child matches"));
    let long = page(&app, &nurse, &format!("/children?q={}", "a".repeat(101))).await;
    assert_page(&long, 422, "too long a search");
    assert!(
        long.text.contains("href=\"#q\""),
        "the error summary links to the field"
    );
}

/// Monitors and link checkers ask with HEAD: every page answers it as it answers GET, with
/// no body, and through the same gate (a signed-out HEAD is sent to sign in).
async fn every_page_answers_head_as_it_answers_get(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let (child, iha) = child_waiting_for_consent(&app, "HD1").await;
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;
    for path in [
        "/".to_string(),
        "/children?q=HD1".to_string(),
        "/children/new".to_string(),
        format!("/children/{child}"),
        format!("/children/{child}/periods/new"),
        format!("/assessments/{iha}"),
        "/login".to_string(),
    ] {
        let get = page(&app, &nurse, &path).await;
        let head = browse(&app, Method::HEAD, &path, &[("cla_session", nurse.as_str())], None, &[]).await;
        assert_eq!((head.status, get.status), (200, 200), "{path}: {}", head.text);
        assert!(head.text.is_empty(), "{path}: no body");
        assert!(head.content_type().starts_with("text/html"), "{path}");
    }
    let r = browse(&app, Method::HEAD, &format!("/children/{child}"), &[], None, &[]).await;
    assert_eq!(r.status, 303, "signed out");
    assert!(location(&r).starts_with("/login?next="));
}
