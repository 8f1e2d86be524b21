//! The browser's way in, by hand: the sign-in form and its double-submit CSRF cookie, the
//! session cookie's attributes, session fixation, CSRF on the API and on sign-out, and
//! idle and absolute expiry.

use chrono::Duration;
use cla_tracker::access::Role;
use cla_tracker::db::schema::sessions;
use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{settings_for, spawn_app, spawn_with_settings, Backend, TestApp, TestDb, TEST_PASSWORD};
use crate::security::{
    add_user, api_with_session, browse, cookie_value, hidden_csrf, login_form, session_csrf, session_for, set_cookie,
    set_cookies, sign_in, sign_in_with, token_for, with_db,
};

both!(
    sign_in_form_sets_a_strict_http_only_session_cookie,
    session_fixation,
    signed_in_page_escapes_the_users_details,
    api_changes_with_a_session_need_the_csrf_header,
    sign_in_without_the_form_csrf_is_refused,
    sign_out_needs_the_csrf_field_and_ends_the_session,
    session_and_token_do_not_stand_in_for_each_other,
    idle_session_expires,
    session_expires_after_the_absolute_limit,
);

const TODAY: &str = "2026-02-16";
const USER: &str = "worker@test.nhs.uk";

async fn app_with_user(b: Backend) -> TestApp {
    let app = spawn_app(b, TODAY).await;
    add_user(&app, USER, "ICB", &[Role::SocialWorker]).await;
    app
}

#[track_caller]
fn assert_strict_http_only(cookie: &str, what: &str) {
    let lower = cookie.to_ascii_lowercase();
    assert!(lower.contains("httponly"), "{what}: HttpOnly: {cookie}");
    assert!(lower.contains("samesite=strict"), "{what}: SameSite=Strict: {cookie}");
    assert!(lower.contains("path=/"), "{what}: Path=/: {cookie}");
}

async fn me_status(app: &TestApp, session: &str) -> u16 {
    api_with_session(app, session, Method::GET, "/me", None, None)
        .await
        .status
}

async fn sign_in_form_sets_a_strict_http_only_session_cookie(b: Backend) {
    let app = app_with_user(b).await;
    let form = browse(&app, Method::GET, "/login", &[], None, &[]).await;
    assert_eq!(form.status, 200);
    assert!(form.content_type().starts_with("text/html"), "{}", form.content_type());
    let field = hidden_csrf(&form.text).expect("a hidden csrf field");
    assert!(
        field.len() >= 32,
        "the form's token is long enough to be unguessable: {field}"
    );
    let cookie = set_cookie(&form, "cla_login_csrf").expect("a cla_login_csrf cookie");
    assert_strict_http_only(&cookie, "cla_login_csrf");
    assert_eq!(
        cookie_value(&form, "cla_login_csrf").as_deref(),
        Some(field.as_str()),
        "double submit: same value"
    );
    let again = login_form(&app).await;
    assert_ne!(again.0, field, "every form gets a fresh token");

    let r = sign_in(&app, USER, TEST_PASSWORD).await;
    assert_eq!(r.status, 303, "a good sign-in redirects: {}", r.text);
    assert_eq!(r.headers.get("location").and_then(|v| v.to_str().ok()), Some("/"));
    let session = set_cookie(&r, "cla_session").expect("a session cookie");
    assert_strict_http_only(&session, "cla_session");
    let value = cookie_value(&r, "cla_session").unwrap_or_default();
    assert!(value.len() >= 32, "the session id is long: {value}");
    assert_eq!(
        cookie_value(&r, "cla_login_csrf").as_deref(),
        Some(""),
        "the sign-in form's cookie is removed: {:?}",
        set_cookies(&r)
    );
    let me = api_with_session(&app, &value, Method::GET, "/me", None, None).await;
    assert_eq!(me.status, 200, "GET /api/v1/me with the session: {}", me.text);
    assert_eq!(me.json["email"], USER);
    let stored: i64 = with_db(&app, move |conn| {
        sessions::table
            .filter(sessions::id_hash.eq(&value))
            .count()
            .get_result(conn)
            .expect("count sessions")
    })
    .await;
    assert_eq!(
        stored, 0,
        "the database keeps a hash of the session id, not the id itself"
    );
}

async fn session_fixation(b: Backend) {
    let app = app_with_user(b).await;
    // A session the browser already holds (say, planted by someone who signed in on it).
    let earlier = session_for(&app, USER).await;
    assert_eq!(me_status(&app, &earlier).await, 200);
    let r = sign_in_with(&app, USER, TEST_PASSWORD, &[("cla_session", earlier.as_str())]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let after = cookie_value(&r, "cla_session").expect("a new session cookie");
    assert_ne!(after, earlier, "signing in issues a new session id");
    assert_eq!(me_status(&app, &after).await, 200, "the new session works");
    assert_eq!(
        me_status(&app, &earlier).await,
        401,
        "the session held before signing in is ended"
    );

    // A value the attacker made up is never adopted either.
    let (_, made_up) = token_for(&app, USER).await;
    let r = sign_in_with(&app, USER, TEST_PASSWORD, &[("cla_session", made_up.as_str())]).await;
    assert_eq!(r.status, 303);
    let fresh = cookie_value(&r, "cla_session").expect("a session cookie");
    assert_ne!(fresh, made_up, "the server never takes a session id from the browser");
    assert_eq!(me_status(&app, &made_up).await, 401, "the made-up value is no session");
}

async fn signed_in_page_escapes_the_users_details(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let email = "o'neil<b>@test.nhs.uk";
    add_user(&app, email, "ICB", &[Role::ReadOnly]).await;
    let session = session_for(&app, email).await;
    let home = browse(&app, Method::GET, "/", &[("cla_session", session.as_str())], None, &[]).await;
    assert_eq!(home.status, 200, "{}", home.text);
    assert!(
        home.text.contains("o&#39;neil&#60;b&#62;@test.nhs.uk"),
        "the email is shown, escaped: {}",
        home.text
    );
    assert!(!home.text.contains("<b>"), "no markup from user data: {}", home.text);
    assert!(home.text.contains("Read only"), "the roles are shown: {}", home.text);
    let anonymous = browse(&app, Method::GET, "/", &[], None, &[]).await;
    assert_eq!(anonymous.status, 303, "signed out, / sends to the sign-in form");
    assert_eq!(
        anonymous.headers.get("location").and_then(|v| v.to_str().ok()),
        Some("/login")
    );
}

async fn api_changes_with_a_session_need_the_csrf_header(b: Backend) {
    let app = app_with_user(b).await;
    let session = session_for(&app, USER).await;
    let csrf = session_csrf(&app, &session).await;
    let count = app.children_count().await;
    let child = |local_id: &str| {
        json!({
            "local_id": local_id, "given_name": "Sam", "family_name": "Session", "date_of_birth": "2014-04-04",
            "sex": "M", "responsible_la": "SOM",
        })
    };
    let r = api_with_session(&app, &session, Method::POST, "/children", Some(&child("X-1")), None).await;
    crate::security::assert_forbidden(&r, "a session POST without X-CSRF-Token");
    assert!(r.detail().contains("CSRF"), "the message says why: {}", r.text);
    let forged = format!("{}x", &csrf[..csrf.len() - 1]);
    for bad in [forged.as_str(), "", "null"] {
        let r = api_with_session(
            &app,
            &session,
            Method::POST,
            "/children",
            Some(&child("X-1")),
            Some(bad),
        )
        .await;
        crate::security::assert_forbidden(&r, &format!("a session POST with X-CSRF-Token {bad:?}"));
    }
    // Another session's token is no good either.
    let other = session_for(&app, USER).await;
    let other_csrf = session_csrf(&app, &other).await;
    let r = api_with_session(
        &app,
        &session,
        Method::POST,
        "/children",
        Some(&child("X-1")),
        Some(&other_csrf),
    )
    .await;
    crate::security::assert_forbidden(&r, "a session POST with another session's CSRF token");
    assert_eq!(
        app.children_count().await,
        count,
        "no refused request registered a child"
    );
    let denied = crate::security::audit_by(&app, USER, "denied").await;
    assert_eq!(denied.len(), 5, "each CSRF refusal is on record");
    assert!(denied
        .iter()
        .all(|e| e.changes.as_deref().is_some_and(|c| c.contains("CSRF"))));

    let r = api_with_session(
        &app,
        &session,
        Method::POST,
        "/children",
        Some(&child("X-1")),
        Some(&csrf),
    )
    .await;
    assert_eq!(
        r.status, 201,
        "with the session's CSRF token the change is made: {}",
        r.text
    );
    assert_eq!(app.children_count().await, count + 1);
    let r = api_with_session(&app, &session, Method::GET, "/children", None, None).await;
    assert_eq!(r.status, 200, "reads need no CSRF token: {}", r.text);
}

fn login_fields(csrf: &str) -> [(&str, &str); 3] {
    [("email", USER), ("password", TEST_PASSWORD), ("csrf", csrf)]
}

async fn sign_in_without_the_form_csrf_is_refused(b: Backend) {
    let app = app_with_user(b).await;
    let (field, cookie) = login_form(&app).await;
    let fields = login_fields;
    for (what, cookies, form) in [
        ("no csrf cookie", vec![], fields(&field)),
        (
            "mismatching field",
            vec![("cla_login_csrf", cookie.as_str())],
            fields("not-the-token"),
        ),
        ("empty field and cookie", vec![("cla_login_csrf", "")], fields("")),
    ] {
        let r = browse(&app, Method::POST, "/login", &cookies, Some(&form), &[]).await;
        assert_eq!(r.status, 403, "{what}: {}", r.text);
        assert!(
            set_cookie(&r, "cla_session").is_none(),
            "{what}: no session: {:?}",
            set_cookies(&r)
        );
    }
    let logins = crate::security::audit_rows(&app)
        .await
        .into_iter()
        .filter(|e| e.action == "login")
        .count();
    assert_eq!(logins, 0, "a forged form never reaches the password check");
    let r = browse(
        &app,
        Method::POST,
        "/login",
        &[("cla_login_csrf", cookie.as_str())],
        Some(&fields(&field)),
        &[],
    )
    .await;
    assert_eq!(r.status, 303, "the genuine form signs in: {}", r.text);
}

async fn sign_out_needs_the_csrf_field_and_ends_the_session(b: Backend) {
    let app = app_with_user(b).await;
    let session = session_for(&app, USER).await;
    let csrf = session_csrf(&app, &session).await;
    let jar = [("cla_session", session.as_str())];
    for (what, form) in [("no field", None), ("wrong field", Some(vec![("csrf", "guess")]))] {
        let r = browse(&app, Method::POST, "/logout", &jar, form.as_deref(), &[]).await;
        assert_eq!(r.status, 403, "sign-out with {what}: {}", r.text);
        assert_eq!(
            me_status(&app, &session).await,
            200,
            "after a refused sign-out ({what}) the session works"
        );
    }
    let r = browse(
        &app,
        Method::POST,
        "/logout",
        &jar,
        Some(&[("csrf", csrf.as_str())]),
        &[],
    )
    .await;
    assert_eq!(r.status, 303, "sign-out with the form's token: {}", r.text);
    assert_eq!(r.headers.get("location").and_then(|v| v.to_str().ok()), Some("/login"));
    assert_eq!(
        cookie_value(&r, "cla_session").as_deref(),
        Some(""),
        "the cookie is removed"
    );
    assert_eq!(
        me_status(&app, &session).await,
        401,
        "the session is over on the server too"
    );
    let home = browse(&app, Method::GET, "/", &jar, None, &[]).await;
    assert_eq!(home.status, 303, "the page sends a signed-out browser to sign in");
    let logouts = crate::security::audit_by(&app, USER, "ok")
        .await
        .into_iter()
        .filter(|e| e.action == "logout")
        .count();
    assert_eq!(logouts, 1, "the sign-out is on record");
}

async fn session_and_token_do_not_stand_in_for_each_other(b: Backend) {
    let app = app_with_user(b).await;
    let session = session_for(&app, USER).await;
    let (_, token) = token_for(&app, USER).await;
    let r = crate::security::get_as(&app, &session, "/me").await;
    crate::security::assert_unauthenticated(&r, "a session id sent as a bearer token");
    assert_eq!(
        me_status(&app, &token).await,
        401,
        "a bearer token sent as the session cookie"
    );
}

async fn set_session_times(app: &TestApp, created_ago: Duration, seen_ago: Duration) {
    with_db(app, move |conn| {
        let now = chrono::Utc::now().naive_utc();
        diesel::update(sessions::table)
            .set((
                sessions::created_at.eq(now - created_ago),
                sessions::last_seen_at.eq(now - seen_ago),
            ))
            .execute(conn)
            .expect("update sessions");
    })
    .await
}

async fn app_with_settings(b: Backend, change: impl FnOnce(&mut cla_tracker::settings::Settings)) -> TestApp {
    let db = tokio::task::spawn_blocking(move || TestDb::create(b))
        .await
        .expect("a test database");
    let mut settings = settings_for(&db.url, TODAY);
    change(&mut settings);
    let app = spawn_with_settings(Some(db), settings).await;
    add_user(&app, USER, "ICB", &[Role::SocialWorker]).await;
    app
}

async fn idle_session_expires(b: Backend) {
    let app = app_with_settings(b, |s| s.auth.session_idle_minutes = 1).await;
    let session = session_for(&app, USER).await;
    set_session_times(&app, Duration::seconds(40), Duration::seconds(40)).await;
    assert_eq!(me_status(&app, &session).await, 200, "40 s idle is within a minute");
    set_session_times(&app, Duration::minutes(2), Duration::minutes(2)).await;
    assert_eq!(me_status(&app, &session).await, 401, "2 minutes idle is past the limit");
    set_session_times(&app, Duration::seconds(1), Duration::seconds(1)).await;
    assert_eq!(me_status(&app, &session).await, 401, "an expired session stays ended");
    let home = browse(&app, Method::GET, "/", &[("cla_session", session.as_str())], None, &[]).await;
    assert_eq!(home.status, 303, "the page too sends to sign in");
}

async fn session_expires_after_the_absolute_limit(b: Backend) {
    let app = app_with_settings(b, |s| {
        s.auth.session_idle_minutes = 30;
        s.auth.session_absolute_hours = 2;
    })
    .await;
    let session = session_for(&app, USER).await;
    set_session_times(&app, Duration::minutes(110), Duration::seconds(5)).await;
    assert_eq!(
        me_status(&app, &session).await,
        200,
        "1 h 50 after sign-in, in use: still open"
    );
    set_session_times(&app, Duration::minutes(130), Duration::seconds(5)).await;
    assert_eq!(
        me_status(&app, &session).await,
        401,
        "2 h 10 after sign-in the session is over, however busy"
    );
}
