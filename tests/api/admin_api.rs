//! The admin console's JSON twins (`/api/v1/users`, `/organisations`, `/tokens`,
//! `/audit/verify`): the same rules as the pages, over the API. A local authority's admin
//! manages only its own staff (anyone else answers 404); only an ICB's admin adds
//! organisations; a generated password or token is shown once and never cached.

use cla_tracker::access::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, s, spawn_app, Backend, Resp, TestApp};
use crate::security::{
    add_org_in, add_user, api_with_session, audit_rows, get_as, post_as, session_csrf, session_for, sign_in, sql,
    user_with_token, with_db,
};

both!(
    admin_api_adds_resets_unlocks_and_disables_users_within_reach,
    admin_api_manages_organisations_addresses_tokens_and_checks_the_audit,
);

async fn user_id(app: &TestApp, email: &str) -> String {
    let email = email.to_string();
    with_db(app, move |conn| {
        cla_tracker::auth::find_user(conn, &email).expect("user").id
    })
    .await
}

async fn org_id(app: &TestApp, code: &str) -> String {
    let code = code.to_string();
    with_db(app, move |conn| {
        cla_tracker::auth::find_organisation(conn, &code).expect("org").id
    })
    .await
}

fn no_store(r: &Resp) -> bool {
    r.headers
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store"))
}

async fn admin_api_adds_resets_unlocks_and_disables_users_within_reach(b: Backend) {
    let app = spawn_app(b, "2026-03-13").await;
    add_org_in(&app, "local_authority", "OTH", Some("ICB")).await;
    let admin = user_with_token(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    let la = user_with_token(&app, "la-admin@test.nhs.uk", "SOM", &[Role::Admin]).await;
    let nurse = user_with_token(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    add_user(&app, "oth-worker@test.nhs.uk", "OTH", &[Role::SocialWorker]).await;
    let new_user = json!({"email": "Nia@Test.nhs.uk", "display_name": "Nia New",
                          "organisation_code": "SOM", "roles": ["social_worker", "read_only"]});

    // Deny by default: not an admin role.
    let r = post_as(&app, &nurse, "/users", &new_user).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Mistakes name their field.
    let r = post_as(&app, &admin, "/users", &json!({"email": "x@test.nhs.uk"})).await;
    assert_eq!(r.status, 400, "missing fields: {}", r.text);
    let mut bad = new_user.clone();
    bad["roles"] = json!(["social_worker", "root"]);
    assert_problem(
        &post_as(&app, &admin, "/users", &bad).await,
        422,
        Some("roles[1]"),
        "unknown role",
    );
    let mut bad = new_user.clone();
    bad["organisation_code"] = json!("OTH");
    assert_problem(
        &post_as(&app, &la, "/users", &bad).await,
        422,
        Some("organisation_code"),
        "another authority's organisation",
    );

    // Added: the password is in the answer once, not cached, and signs in.
    let r = post_as(&app, &la, "/users", &new_user).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(no_store(&r), "a password is never cached");
    assert_eq!(r.json["user"]["email"], "nia@test.nhs.uk");
    assert_eq!(r.json["user"]["organisation_code"], "SOM");
    let password = s(&r.json["password"]);
    assert_eq!(sign_in(&app, "nia@test.nhs.uk", &password).await.status, 303);
    assert_problem(
        &post_as(&app, &la, "/users", &new_user).await,
        422,
        Some("email"),
        "the same email twice",
    );
    let nia = user_id(&app, "nia@test.nhs.uk").await;

    // Reset: a new password shown once; the old one stops working.
    let r = post_as(&app, &la, &format!("/users/{nia}/password"), &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(no_store(&r));
    let reset = s(&r.json["password"]);
    assert_ne!(reset, password);
    assert_ne!(sign_in(&app, "nia@test.nhs.uk", &password).await.status, 303);
    // Unlock.
    sql(
        &app,
        "UPDATE users SET locked_until = '2099-01-01 00:00:00' WHERE email = 'nia@test.nhs.uk'",
    )
    .await;
    assert_ne!(sign_in(&app, "nia@test.nhs.uk", &reset).await.status, 303, "locked");
    let r = post_as(&app, &la, &format!("/users/{nia}/unlock"), &json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(sign_in(&app, "nia@test.nhs.uk", &reset).await.status, 303, "unlocked");
    // Disable, once.
    let r = post_as(&app, &la, &format!("/users/{nia}/disable"), &json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_ne!(sign_in(&app, "nia@test.nhs.uk", &reset).await.status, 303, "disabled");
    let r = post_as(&app, &la, &format!("/users/{nia}/disable"), &json!({})).await;
    assert_eq!(r.status, 409, "{}", r.text);

    // Scope: another authority's user is not there for SOM's admin.
    let oth = user_id(&app, "oth-worker@test.nhs.uk").await;
    for action in ["disable", "unlock", "password"] {
        let r = post_as(&app, &la, &format!("/users/{oth}/{action}"), &json!({})).await;
        assert_eq!(r.status, 404, "{action}: {}", r.text);
    }
    let listed: Vec<String> = get_as(&app, &la, "/users?limit=1000").await.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| s(&u["email"]))
        .collect();
    assert!(listed.contains(&"nia@test.nhs.uk".to_string()));
    assert!(
        !listed.iter().any(|e| e.starts_with("oth-") || e.starts_with("nurse")),
        "{listed:?}"
    );
    // The ICB's admin reaches it.
    let r = post_as(&app, &admin, &format!("/users/{oth}/unlock"), &json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text);

    // With a session, a write needs the CSRF header.
    add_user(&app, "web-admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    let session = session_for(&app, "web-admin@test.nhs.uk").await;
    let path = format!("/users/{oth}/unlock");
    let r = api_with_session(&app, &session, Method::POST, &path, None, None).await;
    assert_eq!(r.status, 403, "no CSRF header: {}", r.text);
    let csrf = session_csrf(&app, &session).await;
    let r = api_with_session(&app, &session, Method::POST, &path, None, Some(&csrf)).await;
    assert_eq!(r.status, 204, "{}", r.text);

    let trail = audit_rows(&app).await;
    for action in ["create", "reset_password", "unlock", "disable"] {
        assert!(
            trail
                .iter()
                .any(|r| r.entity == "user" && r.action == action && r.outcome == "ok"),
            "{action} audited"
        );
    }
    assert!(
        !trail.iter().any(|r| r
            .changes
            .as_deref()
            .is_some_and(|c| c.contains(&reset) || c.contains(&password))),
        "no password on the audit trail"
    );
}

fn codes(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| s(&o["code"]))
        .collect()
}

async fn admin_api_manages_organisations_addresses_tokens_and_checks_the_audit(b: Backend) {
    let app = spawn_app(b, "2026-03-13").await;
    let admin = user_with_token(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    let la = user_with_token(&app, "la-admin@test.nhs.uk", "SOM", &[Role::Admin]).await;
    add_user(&app, "robot@test.nhs.uk", "SOM", &[Role::ReadOnly]).await;

    // Organisations: only an ICB's admin adds them; a local authority's admin sees its own.
    let devon = json!({"kind": "host_provider", "name": "Devon County", "code": "DEV"});
    let r = post_as(&app, &la, "/organisations", &devon).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = post_as(&app, &admin, "/organisations", &devon).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        (s(&r.json["code"]), s(&r.json["kind"])),
        ("DEV".into(), "host_provider".into())
    );
    assert_eq!(post_as(&app, &admin, "/organisations", &devon).await.status, 409);
    let bad = json!({"kind": "planet", "name": "X", "code": "X1"});
    assert_problem(
        &post_as(&app, &admin, "/organisations", &bad).await,
        422,
        Some("kind"),
        "kind",
    );
    let all = codes(&get_as(&app, &admin, "/organisations").await.json);
    assert!(
        ["ICB", "SOM", "DEV"].iter().all(|c| all.contains(&c.to_string())),
        "{all:?}"
    );
    assert_eq!(codes(&get_as(&app, &la, "/organisations").await.json), ["SOM"]);

    // Addresses: the team manager of a local authority, a host area's ICB Designated Nurse.
    let (som, dev, icb) = (
        org_id(&app, "SOM").await,
        org_id(&app, "DEV").await,
        org_id(&app, "ICB").await,
    );
    let tm = |id: &str| format!("/organisations/{id}/team-manager");
    let hi = |id: &str| format!("/organisations/{id}/host-icb-nurse");
    let r = post_as(&app, &la, &tm(&dev), &json!({"email": "tm@dev.example.org"})).await;
    assert_eq!(r.status, 404, "out of reach: {}", r.text);
    assert_eq!(
        post_as(&app, &la, &tm(&som), &json!({})).await.status,
        400,
        "email is required"
    );
    assert_problem(
        &post_as(&app, &la, &tm(&som), &json!({"email": "not an address"})).await,
        422,
        Some("email"),
        "bad team manager address",
    );
    let r = post_as(&app, &la, &tm(&som), &json!({"email": "tm@som.example.org"})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        post_as(&app, &la, &hi(&dev), &json!({"email": "dn@devon.nhs.uk"}))
            .await
            .status,
        404
    );
    assert_eq!(
        post_as(&app, &admin, &hi(&icb), &json!({"email": "dn@devon.nhs.uk"}))
            .await
            .status,
        404,
        "an ICB is not a host area"
    );
    assert_problem(
        &post_as(&app, &admin, &hi(&dev), &json!({"email": "dn@devon"})).await,
        422,
        Some("email"),
        "bad host ICB address",
    );
    let r = post_as(
        &app,
        &admin,
        &hi(&dev),
        &json!({"email": " dn@devon-icb.example.nhs.uk "}),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let list = get_as(&app, &admin, "/organisations").await.json;
    let held = |code: &str, field: &str| -> Value {
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|o| o["code"] == code)
            .map(|o| o[field].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(held("DEV", "host_icb_nurse_email"), "dn@devon-icb.example.nhs.uk");
    assert_eq!(held("SOM", "team_manager_email"), "tm@som.example.org");
    let r = post_as(&app, &admin, &hi(&dev), &json!({"email": null})).await;
    assert_eq!(r.status, 204, "null clears it: {}", r.text);
    let list = get_as(&app, &admin, "/organisations").await.json;
    assert!(list["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|o| o["code"] == "DEV" && o["host_icb_nurse_email"].is_null()));
    let updates = audit_rows(&app)
        .await
        .into_iter()
        .filter(|r| r.entity == "organisation" && r.action == "update" && r.outcome == "ok")
        .count();
    assert!(updates >= 3, "each address change is audited ({updates})");

    // Tokens: issued once for an account in reach.
    add_org_in(&app, "local_authority", "OTH", Some("ICB")).await;
    add_user(&app, "oth-robot@test.nhs.uk", "OTH", &[Role::ReadOnly]).await;
    let r = post_as(
        &app,
        &la,
        "/tokens",
        &json!({"email": "oth-robot@test.nhs.uk", "label": "x"}),
    )
    .await;
    assert_problem(&r, 422, Some("email"), "another authority's account");
    let r = post_as(
        &app,
        &la,
        "/tokens",
        &json!({"email": "robot@test.nhs.uk", "label": "Nightly feed"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(no_store(&r));
    let token = s(&r.json["token"]);
    assert_eq!(get_as(&app, &token, "/me").await.status, 200, "the token works");
    let listed = get_as(&app, &la, "/tokens").await;
    assert!(listed.text.contains("Nightly feed") && !listed.text.contains(&token));

    // The audit chain: checked whole, with its head.
    let r = get_as(&app, &admin, "/audit/verify").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["intact"], true, "{}", r.json);
    assert!(r.json["entries_checked"].as_i64().unwrap_or(0) > 0);
    assert!(r.json["head_hash"].is_string());
    assert_eq!(get_as(&app, &la, "/audit/verify").await.status, 200);
    let nurse = user_with_token(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    assert_eq!(get_as(&app, &nurse, "/audit/verify").await.status, 403);
}
