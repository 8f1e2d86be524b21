//! The escalations overview, the outbox's dead letters and the admin console over HTTP (no
//! browser): who may open each page and API route, and what each user's scope lets them
//! see and change. Also the meeting's forms shown again with their errors, and the
//! meeting's actions on the assessment page.

use cla_tracker::access::Role;
use reqwest::Method;
use serde_json::json;

use crate::escalations::sweep_on;
use crate::helpers::{s, settings_for, spawn_app, Backend, Resp, TestApp, TEST_PASSWORD};
use crate::security::{
    add_org_in, add_user, audit_rows, browse, get_as, hidden_csrf, session_csrf, session_for, sign_in, sql,
    user_with_token,
};

both!(
    escalations_are_listed_in_scope_by_level_and_rule_with_delivery_status,
    dead_letters_are_requeued_from_the_page_within_reach,
    the_admin_console_manages_users_within_reach,
    the_admin_console_issues_and_revokes_tokens_and_checks_the_audit_chain,
    the_admin_console_adds_organisations_and_team_manager_addresses,
    a_meeting_form_with_errors_is_shown_again_with_them,
    the_assessment_page_shows_the_meetings_actions_on_it,
);

async fn page(app: &TestApp, session: &str, path: &str) -> Resp {
    browse(app, Method::GET, path, &[("cla_session", session)], None, &[]).await
}

async fn post_form(app: &TestApp, session: &str, path: &str, fields: &[(&str, &str)]) -> Resp {
    let csrf = session_csrf(app, session).await;
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    browse(app, Method::POST, path, &[("cla_session", session)], Some(&form), &[]).await
}

fn location(r: &Resp) -> String {
    r.headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Day 0 Mon 2 Mar 2026 for a child of SOM and one of OTH; the sweep of Thu 5 Mar finds
/// both notifications late (level 1). Returns the ids of the two children.
pub async fn two_escalated_children(app: &TestApp) -> (String, String) {
    add_org_in(app, "local_authority", "OTH", Some("ICB")).await;
    let mut ids = Vec::new();
    for (local_id, la) in [("ESC-SOM", "SOM"), ("ESC-OTH", "OTH")] {
        let child = app
            .register_with(json!({
                "local_id": local_id, "given_name": "Zelda", "family_name": "Quennell",
                "date_of_birth": "2015-06-14", "sex": "F", "responsible_la": la,
                "social_worker_email": format!("sw@{}.example.org", la.to_lowercase()),
            }))
            .await;
        let id = s(&child["id"]);
        app.start_period(&id, "2026-03-02", "C2").await;
        ids.push(id);
    }
    let settings = settings_for(&app.db_url, &app.today);
    let report = tokio::task::spawn_blocking(move || sweep_on(&settings, "2026-03-05"))
        .await
        .expect("sweep");
    assert!(report.fired.len() >= 2, "{:?}", report.fired);
    (ids[0].clone(), ids[1].clone())
}

fn local_ids(page: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| s(&i["child_local_id"]))
        .collect();
    ids.dedup();
    ids
}

async fn escalations_are_listed_in_scope_by_level_and_rule_with_delivery_status(b: Backend) {
    let app = spawn_app(b, "2026-03-13").await;
    two_escalated_children(&app).await;
    let all = app.get_ok("/escalations").await;
    assert!(all["total"].as_u64().unwrap_or(0) >= 2, "{all}");
    for key in ["items", "total", "limit", "offset"] {
        assert!(all.get(key).is_some(), "the standard paging shape: {key}");
    }
    let first = &all["items"][0];
    assert!(first["resolved_on"].is_null(), "open escalations only");
    assert!(
        first["recipients"].as_array().is_some_and(|r| r
            .iter()
            .any(|m| m["status"] == "pending" && m["to_address"].is_string())
            && r.iter()
                .any(|m| m["status"] == "undeliverable" && m["to_address"].is_null())),
        "each recipient's delivery status: {first}"
    );
    let levels: Vec<i64> = all["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["level"].as_i64().unwrap_or(0))
        .collect();
    assert!(
        levels.windows(2).all(|w| w[0] >= w[1]),
        "highest level first: {levels:?}"
    );

    let oth = app.get_ok("/escalations?la=OTH").await;
    assert_eq!(local_ids(&oth), ["ESC-OTH"], "{oth}");
    let rule = s(&first["rule_id"]);
    let by_rule = app.get_ok(&format!("/escalations?rule={rule}")).await;
    assert!(by_rule["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|i| i["rule_id"] == rule));
    let paged = app.get_ok("/escalations?limit=1&offset=1").await;
    assert_eq!(paged["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(paged["total"], all["total"]);

    let bad = app.get("/escalations?rule=no_such_rule").await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("rule"), "names the field: {}", bad.text);
    let mixed = app
        .get(&format!(
            "/escalations?child_id={}&la=SOM",
            crate::security::unknown_id()
        ))
        .await;
    assert_eq!(mixed.status, 422, "{}", mixed.text);

    // A local authority's social worker sees only its own children's escalations.
    let sw = user_with_token(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
    let mine: serde_json::Value =
        serde_json::from_str(&get_as(&app, &sw, "/api/v1/escalations").await.text).expect("json");
    assert_eq!(local_ids(&mine), ["ESC-SOM"], "{mine}");
    let other: serde_json::Value =
        serde_json::from_str(&get_as(&app, &sw, "/api/v1/escalations?la=OTH").await.text).expect("json");
    assert_eq!(other["total"], 0, "another authority's filter finds nothing: {other}");
    let admin = user_with_token(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    assert_eq!(get_as(&app, &admin, "/api/v1/escalations").await.status, 403);

    // The page: the same lists, filters in the URL.
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;
    let r = page(&app, &nurse, "/escalations").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("ESC-SOM") && r.text.contains("ESC-OTH"), "{}", r.text);
    assert!(r.text.contains("Waiting to be sent"), "delivery status in words");
    assert!(r.text.contains("Not sent: no usable address"));
    assert!(!r.text.contains("Quennell"), "no names on the overview");
    assert!(!r.text.contains("Undelivered mail"), "no dead letters for health staff");
    let r = page(&app, &nurse, "/escalations?la=OTH").await;
    assert!(r.text.contains("ESC-OTH") && !r.text.contains("ESC-SOM"), "{}", r.text);
    let r = page(&app, &nurse, "/escalations?rule=nonsense").await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("Error: Escalations"), "{}", r.text);
    assert!(r.text.contains("href=\"#rule\""), "the summary links to the filter");
    let sw_session = session_for(&app, "sw@test.nhs.uk").await;
    let r = page(&app, &sw_session, "/escalations").await;
    assert!(r.text.contains("ESC-SOM") && !r.text.contains("ESC-OTH"), "{}", r.text);
    let home = page(&app, &sw_session, "/").await;
    assert!(home.text.contains("href=\"/escalations\""), "in the navigation");
    add_user(&app, "reader@test.nhs.uk", "ICB", &[Role::ReadOnly]).await;
    let reader = session_for(&app, "reader@test.nhs.uk").await;
    assert_eq!(page(&app, &reader, "/escalations").await.status, 403);
    let listed = audit_rows(&app)
        .await
        .into_iter()
        .filter(|r| r.entity == "escalations" && r.action == "list")
        .count();
    assert!(listed >= 5, "each list is audited: {listed}");
}

async fn dead_letters_are_requeued_from_the_page_within_reach(b: Backend) {
    let app = spawn_app(b, "2026-03-13").await;
    two_escalated_children(&app).await;
    sql(
        &app,
        "UPDATE outbox SET status = 'dead', last_error = 'refused: 550 no such mailbox'",
    )
    .await;
    add_user(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    add_user(&app, "la-admin@test.nhs.uk", "SOM", &[Role::Admin]).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let admin = session_for(&app, "admin@test.nhs.uk").await;
    let r = page(&app, &admin, "/outbox").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("550 no such mailbox"), "{}", r.text);
    assert!(
        r.text.contains("ESC-SOM") && r.text.contains("ESC-OTH"),
        "the ICB's admin sees all"
    );
    assert_eq!(
        page(&app, &admin, "/escalations").await.status,
        403,
        "admins read no escalations"
    );
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;
    assert_eq!(page(&app, &nurse, "/outbox").await.status, 403);

    // A local authority's admin sees and requeues only mail about its own children.
    let la_admin = session_for(&app, "la-admin@test.nhs.uk").await;
    let r = page(&app, &la_admin, "/outbox").await;
    assert!(r.text.contains("ESC-SOM") && !r.text.contains("ESC-OTH"), "{}", r.text);
    let ids = |app: &TestApp, la: &'static str| {
        let url = app.db_url.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                use cla_tracker::db::schema::{children, escalations, outbox};
                use diesel::prelude::*;
                let mut conn = crate::helpers::connect(&url);
                outbox::table
                    .inner_join(escalations::table)
                    .inner_join(children::table.on(children::id.eq(escalations::child_id)))
                    .filter(children::responsible_la.eq(la))
                    .select(outbox::id)
                    .load::<String>(&mut conn)
                    .expect("outbox ids")
            })
            .await
            .expect("ids")
        }
    };
    let (som, oth) = (ids(&app, "SOM").await, ids(&app, "OTH").await);
    let r = post_form(&app, &la_admin, &format!("/outbox/{}/requeue", oth[0]), &[]).await;
    assert_eq!(r.status, 404, "another authority's message is not there: {}", r.text);
    let r = post_form(
        &app,
        &la_admin,
        &format!("/outbox/{}/requeue", som[0]),
        &[("next", "/outbox")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), "/outbox?done=requeued");
    let r = page(&app, &la_admin, "/outbox?done=requeued").await;
    assert!(r.text.contains("The message is back in the queue"));
    let again = post_form(&app, &la_admin, &format!("/outbox/{}/requeue", som[0]), &[]).await;
    assert_eq!(again.status, 409, "only a dead message is requeued: {}", again.text);
    // Without the session's CSRF token nothing happens.
    let forged = browse(
        &app,
        Method::POST,
        &format!("/outbox/{}/requeue", oth[0]),
        &[("cla_session", &admin)],
        Some(&[("csrf", "forged")]),
        &[],
    )
    .await;
    assert_eq!(forged.status, 403, "{}", forged.text);
    let requeued = audit_rows(&app)
        .await
        .into_iter()
        .filter(|r| r.action == "requeue" && r.entity == "outbox")
        .map(|r| r.entity_id.unwrap_or_default())
        .collect::<Vec<_>>();
    assert_eq!(requeued, [som[0].clone()], "the requeue is audited, once");
}

async fn the_admin_console_manages_users_within_reach(b: Backend) {
    let app = spawn_app(b, "2026-03-13").await;
    add_org_in(&app, "local_authority", "OTH", Some("ICB")).await;
    add_user(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    add_user(&app, "la-admin@test.nhs.uk", "SOM", &[Role::Admin]).await;
    add_user(&app, "oth-worker@test.nhs.uk", "OTH", &[Role::SocialWorker]).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;
    for path in ["/admin", "/admin/users", "/admin/organisations", "/admin/tokens"] {
        assert_eq!(page(&app, &nurse, path).await.status, 403, "{path}");
    }
    let r = post_form(&app, &nurse, "/admin/users", &[("email", "x@test.nhs.uk")]).await;
    assert_eq!(r.status, 403);

    let admin = session_for(&app, "admin@test.nhs.uk").await;
    let home = page(&app, &admin, "/admin").await;
    assert_eq!(home.status, 200, "{}", home.text);
    for link in [
        "/admin/users",
        "/admin/organisations",
        "/admin/tokens",
        "/admin/audit",
        "/outbox",
    ] {
        assert!(home.text.contains(&format!("href=\"{link}\"")), "{link}");
    }
    // A form with mistakes: shown again with the summary, inline errors and values kept.
    let r = post_form(
        &app,
        &admin,
        "/admin/users",
        &[("email", "not-an-email"), ("display_name", "Nia New"), ("org", "SOM")],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("Error: Users"), "{}", r.text);
    assert!(r.text.contains("There is a problem"));
    assert!(r.text.contains("value=\"Nia New\""), "values kept");
    // Added: the generated password is shown once and signs in.
    let r = post_form(
        &app,
        &admin,
        "/admin/users",
        &[
            ("email", "nia@test.nhs.uk"),
            ("display_name", "Nia New"),
            ("org", "SOM"),
            ("role", "social_worker"),
            ("role", "read_only"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let password = secret(&r.text);
    assert_eq!(
        sign_in(&app, "nia@test.nhs.uk", &password).await.status,
        303,
        "signs in"
    );
    let list = page(&app, &admin, "/admin/users").await;
    assert!(list.text.contains("nia@test.nhs.uk"));
    assert!(!list.text.contains(&password), "the password is never shown again");
    let nia = user_id(&app, "nia@test.nhs.uk").await;

    // Reset: a new password, the old one stops working.
    let r = post_form(&app, &admin, &format!("/admin/users/{nia}/password"), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let reset = secret(&r.text);
    assert_ne!(reset, password);
    assert_ne!(
        sign_in(&app, "nia@test.nhs.uk", &password).await.status,
        303,
        "old password refused"
    );
    assert_eq!(sign_in(&app, "nia@test.nhs.uk", &reset).await.status, 303);
    // Unlock.
    sql(
        &app,
        "UPDATE users SET locked_until = '2099-01-01 00:00:00' WHERE email = 'nia@test.nhs.uk'",
    )
    .await;
    assert!(page(&app, &admin, "/admin/users").await.text.contains("Locked"));
    let r = post_form(&app, &admin, &format!("/admin/users/{nia}/unlock"), &[]).await;
    assert_eq!((r.status, location(&r).as_str()), (303, "/admin/users?done=unlocked"));
    assert_eq!(sign_in(&app, "nia@test.nhs.uk", &reset).await.status, 303, "unlocked");
    // Disable.
    let r = post_form(&app, &admin, &format!("/admin/users/{nia}/disable"), &[]).await;
    assert_eq!((r.status, location(&r).as_str()), (303, "/admin/users?done=disabled"));
    assert_ne!(sign_in(&app, "nia@test.nhs.uk", &reset).await.status, 303, "disabled");
    let r = post_form(&app, &admin, &format!("/admin/users/{nia}/disable"), &[]).await;
    assert_eq!(r.status, 409, "already disabled");

    // A local authority's admin: its own staff only.
    let la = session_for(&app, "la-admin@test.nhs.uk").await;
    let list = page(&app, &la, "/admin/users").await;
    assert!(list.text.contains("nia@test.nhs.uk"), "SOM's own staff");
    assert!(
        !list.text.contains("oth-worker@test.nhs.uk") && !list.text.contains("nurse@test.nhs.uk"),
        "{}",
        list.text
    );
    assert!(
        !list.text.contains("value=\"ICB\""),
        "only its own organisation is offered"
    );
    let oth = user_id(&app, "oth-worker@test.nhs.uk").await;
    for action in ["disable", "unlock", "password"] {
        let r = post_form(&app, &la, &format!("/admin/users/{oth}/{action}"), &[]).await;
        assert_eq!(r.status, 404, "{action} another authority's user: {}", r.text);
    }
    let r = post_form(
        &app,
        &la,
        "/admin/users",
        &[("email", "sneak@test.nhs.uk"), ("org", "ICB"), ("role", "admin")],
    )
    .await;
    assert_eq!(r.status, 422, "cannot add to another organisation: {}", r.text);
    let changes: Vec<String> = audit_rows(&app)
        .await
        .into_iter()
        .filter(|r| r.entity == "user" && r.outcome == "ok")
        .map(|r| r.action)
        .collect();
    for action in ["create", "reset_password", "unlock", "disable"] {
        assert!(changes.iter().any(|a| a == action), "{action} audited: {changes:?}");
    }
    assert!(
        !audit_rows(&app)
            .await
            .iter()
            .any(|r| r.changes.as_deref().is_some_and(|c| c.contains(&reset))),
        "no password on the audit trail"
    );
}

/// The secret shown once on the page.
fn secret(html: &str) -> String {
    let start =
        html.find("<code class=\"app-secret\">").expect("a secret is shown") + "<code class=\"app-secret\">".len();
    let end = html[start..].find("</code>").expect("end of the secret");
    html[start..start + end].to_string()
}

async fn user_id(app: &TestApp, email: &str) -> String {
    let (url, email) = (app.db_url.clone(), email.to_string());
    tokio::task::spawn_blocking(move || {
        let mut conn = crate::helpers::connect(&url);
        cla_tracker::auth::find_user(&mut conn, &email).expect("user").id
    })
    .await
    .expect("user id")
}

async fn the_admin_console_issues_and_revokes_tokens_and_checks_the_audit_chain(b: Backend) {
    let app = spawn_app(b, "2026-03-13").await;
    add_org_in(&app, "local_authority", "OTH", Some("ICB")).await;
    add_user(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    add_user(&app, "la-admin@test.nhs.uk", "SOM", &[Role::Admin]).await;
    add_user(&app, "robot@test.nhs.uk", "SOM", &[Role::ReadOnly]).await;
    add_user(&app, "oth-robot@test.nhs.uk", "OTH", &[Role::ReadOnly]).await;
    let la = session_for(&app, "la-admin@test.nhs.uk").await;
    let r = post_form(
        &app,
        &la,
        "/admin/tokens",
        &[("token_email", "oth-robot@test.nhs.uk"), ("label", "x")],
    )
    .await;
    assert_eq!(r.status, 422, "another authority's account: {}", r.text);
    assert!(r.text.contains("value=\"oth-robot@test.nhs.uk\""), "values kept");
    let r = post_form(
        &app,
        &la,
        "/admin/tokens",
        &[("token_email", "robot@test.nhs.uk"), ("label", "Nightly feed")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = secret(&r.text);
    assert!(token.starts_with("cla_"));
    assert_eq!(get_as(&app, &token, "/api/v1/me").await.status, 200, "the token works");
    let list = page(&app, &la, "/admin/tokens").await;
    assert!(list.text.contains("Nightly feed") && !list.text.contains(&token));
    let id = {
        let start = list.text.find("/admin/tokens/").expect("a revoke form") + "/admin/tokens/".len();
        list.text[start..start + 36].to_string()
    };
    let r = post_form(&app, &la, &format!("/admin/tokens/{id}/revoke"), &[]).await;
    assert_eq!((r.status, location(&r).as_str()), (303, "/admin/tokens?done=revoked"));
    assert_eq!(get_as(&app, &token, "/api/v1/me").await.status, 401, "revoked");

    // The audit page: the chain checked, its head, the export form.
    let admin = session_for(&app, "admin@test.nhs.uk").await;
    let r = page(&app, &admin, "/admin/audit").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Intact"), "{}", r.text);
    assert!(r.text.contains("Chain head") && r.text.contains("Entry "));
    assert!(r.text.contains("action=\"/api/v1/audit/export\""));
    add_user(&app, "clin@test.nhs.uk", "ICB", &[Role::Clinician]).await;
    let clin = session_for(&app, "clin@test.nhs.uk").await;
    assert_eq!(page(&app, &clin, "/admin/audit").await.status, 403);
    assert!(!page(&app, &clin, "/").await.text.contains("href=\"/admin\""));
    assert!(page(&app, &admin, "/").await.text.contains("href=\"/admin\""));
}

async fn the_admin_console_adds_organisations_and_team_manager_addresses(b: Backend) {
    let app = spawn_app(b, "2026-03-13").await;
    add_user(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    add_user(&app, "la-admin@test.nhs.uk", "SOM", &[Role::Admin]).await;
    let admin = session_for(&app, "admin@test.nhs.uk").await;
    let r = post_form(
        &app,
        &admin,
        "/admin/organisations",
        &[("kind", "local_authority"), ("name", "Newtown Council"), ("code", "")],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("value=\"Newtown Council\""));
    let r = post_form(
        &app,
        &admin,
        "/admin/organisations",
        &[
            ("kind", "local_authority"),
            ("name", "Newtown Council"),
            ("code", "NEW"),
        ],
    )
    .await;
    assert_eq!(
        (r.status, location(&r).as_str()),
        (303, "/admin/organisations?done=organisation")
    );
    let list = page(&app, &admin, "/admin/organisations").await;
    assert!(list.text.contains("Newtown Council"));

    let la = session_for(&app, "la-admin@test.nhs.uk").await;
    let mine = page(&app, &la, "/admin/organisations").await;
    assert!(!mine.text.contains("Newtown Council"), "its own organisation only");
    assert!(!mine.text.contains("Add an organisation"));
    let r = post_form(
        &app,
        &la,
        "/admin/organisations",
        &[("kind", "local_authority"), ("name", "X"), ("code", "X1")],
    )
    .await;
    assert_eq!(r.status, 403, "only the ICB's admins add organisations: {}", r.text);
    let org = |code: &'static str| {
        let url = app.db_url.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = crate::helpers::connect(&url);
                cla_tracker::auth::find_organisation(&mut conn, code).expect("org").id
            })
            .await
            .expect("org id")
        }
    };
    let (som, new) = (org("SOM").await, org("NEW").await);
    let r = post_form(
        &app,
        &la,
        &format!("/admin/organisations/{new}/team-manager"),
        &[("team_manager_email", "tm@new.example.org")],
    )
    .await;
    assert_eq!(r.status, 404, "another authority: {}", r.text);
    let r = post_form(
        &app,
        &la,
        &format!("/admin/organisations/{som}/team-manager"),
        &[("team_manager_email", "not an address")],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let r = post_form(
        &app,
        &la,
        &format!("/admin/organisations/{som}/team-manager"),
        &[("team_manager_email", "tm@som.example.org")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(page(&app, &la, "/admin/organisations")
        .await
        .text
        .contains("value=\"tm@som.example.org\""));
}

async fn a_meeting_form_with_errors_is_shown_again_with_them(b: Backend) {
    let app = spawn_app(b, crate::meetings::TODAY).await;
    let (_, red_iha) = crate::meetings::meeting_caseload(&app).await;
    add_user(&app, "chair@test.nhs.uk", "ICB", &[Role::Assurance]).await;
    let chair = session_for(&app, "chair@test.nhs.uk").await;
    let opened = app
        .post("/assurance/meetings", &json!({"held_on": "2026-01-05", "chair": "Dee"}))
        .await
        .expect(201, "open the meeting");
    let meeting = s(&opened["id"]);
    let path = format!("/assurance/meetings/{meeting}/actions");
    let r = post_form(
        &app,
        &chair,
        &path,
        &[
            ("assessment_id", &red_iha),
            ("what", "Chase the notification"),
            ("owner_name", ""),
            ("owner_email", "sam@som.example.org"),
            ("due_on", "next week"),
        ],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("<title>Error: Minutes"), "{}", r.text);
    assert!(r.text.contains("There is a problem"));
    assert!(r.text.contains("href=\"#owner_name\"") && r.text.contains("href=\"#due_on\""));
    assert!(r.text.contains("value=\"Chase the notification\""), "values kept");
    assert!(r.text.contains("value=\"next week\""));
    assert!(r.text.contains("id=\"action-form\""), "the form is shown again");
    // A date before the meeting: the service's own check, shown the same way.
    let r = post_form(
        &app,
        &chair,
        &path,
        &[
            ("assessment_id", &red_iha),
            ("what", "Chase"),
            ("owner_name", "Sam"),
            ("owner_email", "sam@som.example.org"),
            ("due_on", "2025-12-01"),
        ],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("on or after the meeting"), "{}", r.text);
    let r = post_form(
        &app,
        &chair,
        &format!("/assurance/meetings/{meeting}/notes"),
        &[("assessment_id", &red_iha), ("kind", "note"), ("body", "")],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("href=\"#body\""), "{}", r.text);
    assert!(r.text.contains("value=\"note\" checked"), "the kind chosen is kept");
    let ok = post_form(
        &app,
        &chair,
        &path,
        &[
            ("assessment_id", &red_iha),
            ("what", "Chase"),
            ("owner_name", "Sam"),
            ("owner_email", "sam@som.example.org"),
            ("due_on", "2026-01-09"),
        ],
    )
    .await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert!(hidden_csrf(&page(&app, &chair, &format!("/assurance/meetings/{meeting}")).await.text).is_some());
}

async fn the_assessment_page_shows_the_meetings_actions_on_it(b: Backend) {
    let app = spawn_app(b, crate::meetings::TODAY).await;
    let (_, red_iha) = crate::meetings::meeting_caseload(&app).await;
    let opened = app
        .post("/assurance/meetings", &json!({"held_on": "2026-01-05", "chair": "Dee"}))
        .await
        .expect(201, "open the meeting");
    app.post(
        &format!("/assurance/meetings/{}/actions", s(&opened["id"])),
        &json!({"assessment_id": red_iha, "what": "Chase the notification", "owner_name": "Sam",
                "owner_email": "sam@som.example.org", "due_on": "2026-01-07"}),
    )
    .await
    .expect(201, "an action");
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    add_user(&app, "clin@test.nhs.uk", "ICB", &[Role::Clinician]).await;
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;
    let r = page(&app, &nurse, &format!("/assessments/{red_iha}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Assurance meeting actions"), "{}", r.text);
    assert!(r.text.contains("Chase the notification"));
    assert!(r.text.contains("Close this action"), "health admins may close it");
    let clin = session_for(&app, "clin@test.nhs.uk").await;
    let r = page(&app, &clin, &format!("/assessments/{red_iha}")).await;
    assert_eq!(r.status, 200);
    assert!(
        !r.text.contains("Chase the notification"),
        "clinicians do not read the meeting's actions"
    );
    let _ = TEST_PASSWORD;
}
