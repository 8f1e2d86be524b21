//! The role matrix, cell by cell, over HTTP: every route in `access::ROUTES` for every role
//! in `Role::ALL`; then the credentials that must not get in at all (none, unknown,
//! malformed, revoked, an inactive user's), wrong methods and unknown paths, and refusals
//! that change nothing and are on record.

use cla_tracker::access::{permits, Method as RouteMethod, Role, ROUTES};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, Backend};
use crate::security::{
    as_token, assert_forbidden, assert_unauthenticated, audit_by, call, get_as, post_as, record, snapshot, sql,
    token_for, user_with_token, Record,
};

both!(
    every_cell_of_the_role_matrix,
    no_credentials_answer_401_on_every_route,
    unknown_or_malformed_bearer_tokens_answer_401,
    revoked_token_answers_401,
    inactive_users_token_answers_401,
    wrong_method_is_405_and_unknown_path_is_404,
    refused_changes_change_nothing_and_are_audited,
    the_ssda903_import_pages_are_for_admins_only,
);

const TODAY: &str = "2026-02-16";

fn method(m: RouteMethod) -> Method {
    match m {
        RouteMethod::Get => Method::GET,
        RouteMethod::Post => Method::POST,
        RouteMethod::Patch => Method::PATCH,
    }
}

/// The route with its `{id}` replaced by a real id of the right kind.
fn concrete(pattern: &str, r: &Record, token_id: &str) -> String {
    let resource = pattern.split('/').nth(3).unwrap_or("");
    let id = match resource {
        "children" => &r.child,
        "periods" => &r.period,
        "assessments" => &r.iha,
        "appointments" => &r.appointment,
        "out-of-area-requests" => &r.request,
        "consents" => &r.consent,
        "tokens" => token_id,
        // No such message: requeue answers 404 "message not found", which proves it is wired.
        "outbox" => "0b9e4c1e-8a7d-4b5f-9a51-2b7c9c3e1f00",
        // No such meeting or action: a permitted request answers 404, which proves it is wired.
        "assurance" => "0b9e4c1e-8a7d-4b5f-9a51-2b7c9c3e1f01",
        // No such account or organisation: the admin's request answers 404 (or 400 for the
        // empty body), which proves it is wired, and disables nobody.
        "users" | "organisations" => "0b9e4c1e-8a7d-4b5f-9a51-2b7c9c3e1f02",
        // No such obligation: a permitted request answers 404 "obligation not found".
        "obligations" => "0b9e4c1e-8a7d-4b5f-9a51-2b7c9c3e1f03",
        _ => "",
    };
    if pattern.contains("{id}") {
        assert!(!id.is_empty(), "no id for the route {pattern}: extend `concrete`");
    }
    pattern.replace("{id}", id)
}

fn email_of(role: Role) -> String {
    format!("{}@test.nhs.uk", role.as_str().replace('_', "-"))
}

async fn every_cell_of_the_role_matrix(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let rec = record(&app, "P-1").await;
    // A token only the admin's revoke call touches, so the matrix never revokes its own.
    crate::security::add_user(&app, "spare@test.nhs.uk", "ICB", &[Role::ReadOnly]).await;
    let (spare_token_id, _) = token_for(&app, "spare@test.nhs.uk").await;
    let before = snapshot(&app, &rec).await;

    let mut wrong = Vec::new();
    for role in Role::ALL {
        let token = user_with_token(&app, &email_of(role), "ICB", &[role]).await;
        let mut refused = 0;
        for (m, pattern, action) in ROUTES {
            let path = concrete(pattern, &rec, &spare_token_id);
            let body = (*m != RouteMethod::Get).then(|| json!({}));
            let r = as_token(&app, &token, method(*m), &path, body.as_ref()).await;
            let cell = format!("{role} {} {pattern} ({})", m.as_str(), action.name());
            if permits(role, *action) {
                let unwired = r.status == 404 && r.json["detail"] == "resource not found";
                if matches!(r.status, 401 | 403 | 405) || r.status >= 500 || unwired {
                    wrong.push(format!("{cell}: permitted, but answered {} {}", r.status, r.text));
                }
            } else {
                refused += 1;
                let problem = r.content_type().starts_with("application/problem+json");
                let says_why = r.json["detail"].as_str().is_some_and(|d| d.contains(action.name()));
                if r.status != 403 || !problem || !says_why {
                    wrong.push(format!(
                        "{cell}: not permitted, expected 403 problem naming the action, got {} {}",
                        r.status, r.text
                    ));
                }
            }
        }
        let denied = audit_by(&app, &email_of(role), "denied").await;
        if denied.len() != refused {
            wrong.push(format!(
                "{role}: {refused} requests refused but {} 'denied' audit entries",
                denied.len()
            ));
        }
        for d in &denied {
            let reason = d.changes.as_deref().unwrap_or("");
            if !reason.contains("role not permitted") {
                wrong.push(format!("{role}: denied entry {} without the reason: {reason}", d.seq));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells of the role matrix are wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(
        snapshot(&app, &rec).await,
        before,
        "requests with dummy bodies and refused requests changed nothing"
    );
}

async fn no_credentials_answer_401_on_every_route(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let rec = record(&app, "P-1").await;
    let before = snapshot(&app, &rec).await;
    let anonymous_refusals = |rows: Vec<cla_tracker::db::models::AuditRow>| -> Vec<_> {
        rows.into_iter()
            .filter(|e| e.outcome == "denied" && e.user_id.is_none())
            .collect()
    };
    let denied_before = anonymous_refusals(crate::security::audit_rows(&app).await).len();
    for (m, pattern, _) in ROUTES {
        let path = concrete(pattern, &rec, "some-token");
        let body = (*m != RouteMethod::Get).then(|| json!({}));
        let r = call(&app, method(*m), &path, body.as_ref(), &[]).await;
        assert_unauthenticated(&r, &format!("{} {path} without credentials", m.as_str()));
    }
    // An unknown path answers 401 too: what exists is not shown to strangers.
    let r = call(&app, Method::GET, "/api/v1/secrets", None, &[]).await;
    assert_unauthenticated(&r, "unknown path without credentials");
    assert_eq!(
        snapshot(&app, &rec).await,
        before,
        "unauthenticated requests changed nothing"
    );
    let refusals = anonymous_refusals(crate::security::audit_rows(&app).await);
    assert_eq!(
        refusals.len(),
        ROUTES.len() + 1 + denied_before,
        "every unauthenticated request is on record"
    );
    assert!(
        refusals
            .iter()
            .all(|e| e.changes.as_deref().is_some_and(|c| c.contains("no credentials"))),
        "the reason is recorded: {:?}",
        refusals.iter().map(|e| &e.changes).collect::<Vec<_>>()
    );
}

async fn unknown_or_malformed_bearer_tokens_answer_401(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let real = user_with_token(&app, "reader@test.nhs.uk", "ICB", &[Role::ReadOnly]).await;
    assert_eq!(get_as(&app, &real, "/me").await.status, 200, "the real token works");
    // Same shape as a real token, one character different.
    let mut forged = real.clone();
    let last = forged.pop().expect("a non-empty token");
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for (what, header) in [
        ("garbage bearer token", "Bearer nonsense".to_string()),
        ("well-formed unknown token", format!("Bearer {forged}")),
        ("empty bearer token", "Bearer ".to_string()),
        ("basic credentials", "Basic cmVhZGVyOnBhc3N3b3Jk".to_string()),
        ("token without a scheme", real.clone()),
    ] {
        for path in ["/me", "/children"] {
            let r = call(&app, Method::GET, path, None, &[("authorization", header.as_str())]).await;
            assert_unauthenticated(&r, &format!("{what} on {path}"));
        }
    }
    let refused = crate::security::audit_rows(&app)
        .await
        .into_iter()
        .filter(|e| {
            e.outcome == "denied"
                && e.changes
                    .as_deref()
                    .is_some_and(|c| c.contains("invalid, expired or revoked credentials"))
        })
        .count();
    assert_eq!(refused, 10, "each refused token is on record with the reason");
}

async fn revoked_token_answers_401(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    crate::security::add_user(&app, "worker@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let (id, token) = token_for(&app, "worker@test.nhs.uk").await;
    let admin = user_with_token(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    assert_eq!(get_as(&app, &token, "/me").await.status, 200, "the token works");
    assert_eq!(get_as(&app, &token, "/children").await.status, 200, "the token works");

    // Only an admin may revoke.
    let r = post_as(&app, &token, &format!("/tokens/{id}/revoke"), &json!({})).await;
    assert_forbidden(&r, "a health admin revoking a token");
    assert_eq!(
        get_as(&app, &token, "/me").await.status,
        200,
        "a refused revocation revokes nothing"
    );

    let r = post_as(&app, &admin, &format!("/tokens/{id}/revoke"), &json!({})).await;
    assert_eq!(r.status, 204, "the admin revokes the token: {}", r.text);
    for path in ["/me", "/children", "/assessments"] {
        assert_unauthenticated(&get_as(&app, &token, path).await, &format!("revoked token on {path}"));
    }
    let r = post_as(&app, &admin, &format!("/tokens/{id}/revoke"), &json!({})).await;
    assert_problem(&r, 404, None, "revoking a revoked token again");

    let tokens = get_as(&app, &admin, "/tokens").await.expect(200, "GET /tokens");
    let listed = tokens["items"]
        .as_array()
        .expect("a page of tokens")
        .iter()
        .find(|t| t["id"] == id.as_str())
        .cloned()
        .unwrap_or(Value::Null);
    assert!(listed["revoked_at"].is_string(), "the list shows it revoked: {listed}");
    assert!(!tokens.to_string().contains(&token), "the token itself is never listed");
    let revocations: Vec<_> = audit_by(&app, "admin@test.nhs.uk", "ok")
        .await
        .into_iter()
        .filter(|e| e.action == "revoke" && e.entity_id.as_deref() == Some(id.as_str()))
        .collect();
    assert_eq!(revocations.len(), 1, "the revocation is on record once, as the admin's");
    assert_eq!(revocations[0].role.as_deref(), Some("admin"));
}

async fn inactive_users_token_answers_401(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let token = user_with_token(&app, "leaver@test.nhs.uk", "ICB", &[Role::Clinician]).await;
    assert_eq!(get_as(&app, &token, "/me").await.status, 200, "the token works");
    sql(&app, "UPDATE users SET active = 0 WHERE email = 'leaver@test.nhs.uk'").await;
    for path in ["/me", "/children"] {
        assert_unauthenticated(
            &get_as(&app, &token, path).await,
            &format!("an inactive user's token on {path}"),
        );
    }
    sql(&app, "UPDATE users SET active = 1 WHERE email = 'leaver@test.nhs.uk'").await;
    assert_eq!(
        get_as(&app, &token, "/me").await.status,
        200,
        "reactivated, the same token works again (it was never revoked)"
    );
}

async fn wrong_method_is_405_and_unknown_path_is_404(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let rec = record(&app, "P-1").await;
    let c = &rec.child;
    let a = &rec.iha;
    for (m, path, allow) in [
        (Method::PUT, "/children".to_string(), "GET, POST"),
        (Method::DELETE, format!("/children/{c}"), "GET, PATCH"),
        (Method::GET, format!("/assessments/{a}/notification"), "POST"),
        (Method::POST, "/me".to_string(), "GET"),
        (Method::DELETE, format!("/tokens/{a}/revoke"), "POST"),
        (Method::POST, "/audit/export".to_string(), "GET"),
    ] {
        let r = app.send(m.clone(), &path, None, &[]).await;
        assert_problem(&r, 405, None, &format!("{m} {path}"));
        let allowed = r.headers.get("allow").and_then(|v| v.to_str().ok());
        assert_eq!(
            allowed,
            Some(allow),
            "{m} {path}: a 405 names the methods allowed (RFC 9110)"
        );
    }
    for path in [
        "/nothing".to_string(),
        format!("/children/{c}/secrets"),
        format!("/children/{c}/periods/extra"),
        "/admin".to_string(),
    ] {
        let r = app.get(&path).await;
        assert_problem(&r, 404, None, &format!("GET {path}"));
    }
    let refused = audit_by(&app, crate::security::DEFAULT_EMAIL, "denied").await;
    assert_eq!(refused.len(), 10, "wrong methods and unknown paths are on record");
    assert!(refused
        .iter()
        .all(|e| e.changes.as_deref().is_some_and(|c| c.contains("no such route"))));
}

async fn refused_changes_change_nothing_and_are_audited(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let rec = record(&app, "P-1").await;
    let reader = user_with_token(&app, "reader@test.nhs.uk", "ICB", &[Role::ReadOnly]).await;
    let clinician = user_with_token(&app, "clinician@test.nhs.uk", "ICB", &[Role::Clinician]).await;
    let worker = user_with_token(&app, "worker@test.nhs.uk", "ICB", &[Role::SocialWorker]).await;
    let admin = user_with_token(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    let count = app.children_count().await;
    let before = snapshot(&app, &rec).await;

    let child = json!({
        "local_id": "R-9", "given_name": "Ann", "family_name": "Refused", "date_of_birth": "2015-05-05",
        "sex": "F", "responsible_la": "SOM",
    });
    let r = post_as(&app, &reader, "/children", &child).await;
    assert_forbidden(&r, "read_only registering a child");
    assert!(
        r.detail().contains("child_create"),
        "the message names the action: {}",
        r.text
    );

    let a = &rec.iha;
    let r = post_as(
        &app,
        &clinician,
        &format!("/periods/{}/end", rec.period),
        &json!({"ended_on": "2026-02-10", "reason": "E3"}),
    )
    .await;
    assert_forbidden(&r, "a clinician ending a period of care");
    let r = post_as(
        &app,
        &worker,
        &format!("/assessments/{a}/completion"),
        &json!({"seen_on": "2026-02-10"}),
    )
    .await;
    assert_forbidden(&r, "a social worker completing an assessment");
    let r = post_as(
        &app,
        &clinician,
        &format!("/consents/{}/withdrawal", rec.consent),
        &json!({"withdrawn_on": "2026-02-10"}),
    )
    .await;
    assert_forbidden(&r, "a clinician withdrawing consent");
    let r = as_token(
        &app,
        &reader,
        Method::PATCH,
        &format!("/children/{}", rec.child),
        Some(&json!({"version": 1, "given_name": "Changed"})),
    )
    .await;
    assert_forbidden(&r, "read_only changing a child");
    let r = get_as(&app, &admin, &format!("/children/{}", rec.child)).await;
    assert_forbidden(&r, "an admin reading a child's record (admins hold no children's data)");
    assert!(
        !r.text.contains("Amy"),
        "the refusal shows nothing of the record: {}",
        r.text
    );

    assert_eq!(app.children_count().await, count, "no child was registered");
    assert_eq!(snapshot(&app, &rec).await, before, "refused requests changed nothing");

    let denied = audit_by(&app, "reader@test.nhs.uk", "denied").await;
    assert_eq!(denied.len(), 2, "both of read_only's refusals are on record");
    let first = denied[0].changes.as_deref().unwrap_or("");
    for part in ["\"POST\"", "\"/api/v1/children\"", "role not permitted"] {
        assert!(first.contains(part), "the refusal records {part}: {first}");
    }
    assert!(
        denied[0].client_address.as_deref().is_some_and(|a| a == "127.0.0.1"),
        "and where it came from"
    );
    for email in ["clinician@test.nhs.uk", "worker@test.nhs.uk", "admin@test.nhs.uk"] {
        assert!(
            !audit_by(&app, email, "denied").await.is_empty(),
            "{email}'s refusal is on record"
        );
        assert!(
            audit_by(&app, email, "ok").await.is_empty(),
            "{email} did nothing that succeeded"
        );
    }
}

/// The SSDA903 upload is a page only (`ssda903_import`, no API twin, so not in `ROUTES`):
/// each of its routes, for a session of each role, against the matrix.
async fn the_ssda903_import_pages_are_for_admins_only(b: Backend) {
    use crate::security::{add_user, browse, session_csrf, session_for};
    use cla_tracker::access::{page_action, PAGES};
    let app = spawn_app(b, TODAY).await;
    let routes: Vec<_> = PAGES
        .iter()
        .filter(|(_, p, _)| p.starts_with("/admin/import"))
        .collect();
    assert_eq!(routes.len(), 3, "the form, the upload and the CSV download");
    let csv = "file,line,child,column,value,reason\n";
    for role in Role::ALL {
        let email = format!("page-{}", email_of(role));
        add_user(&app, &email, "ICB", &[role]).await;
        let session = session_for(&app, &email).await;
        let csrf = session_csrf(&app, &session).await;
        let cookies = [("cla_session", session.as_str())];
        for (m, path, action) in &routes {
            assert_eq!(page_action(m.as_str(), path), Some(*action));
            let r = match m {
                RouteMethod::Get => browse(&app, Method::GET, path, &cookies, None, &[]).await,
                _ => {
                    let form = [("csrf", csrf.as_str()), ("csv", csv)];
                    browse(&app, Method::POST, path, &cookies, Some(&form), &[]).await
                }
            };
            if permits(role, *action) {
                // The upload answers 400 to an url-encoded body: past the check, not refused.
                assert!(
                    [200, 400].contains(&r.status),
                    "{role} {} {path}: {} {}",
                    m.as_str(),
                    r.status,
                    r.text
                );
            } else {
                assert_eq!(r.status, 403, "{role} {} {path}", m.as_str());
            }
        }
    }
}
