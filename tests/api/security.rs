//! Shared by the security tests (permissions, scope, sessions, logins, audit): callers with
//! other credentials than the default test user's, a browser signing in by hand (cookies
//! read from `Set-Cookie`, no redirects followed), a record with one of everything, and
//! direct looks at the database.

#![allow(dead_code)]

use cla_tracker::access::Role;
use cla_tracker::db::models::AuditRow;
use cla_tracker::db::schema::audit_log;
use cla_tracker::db::DbConn;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{self, s, Resp, TestApp, TEST_PASSWORD};

pub const DEFAULT_EMAIL: &str = "tester@test.nhs.uk";

// ---------------------------------------------------------------------------------------
// The database, directly

/// Runs `f` on a connection of its own to the app's database, off the async runtime.
pub async fn with_db<T, F>(app: &TestApp, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> T + Send + 'static,
{
    let url = app.db_url.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = helpers::connect(&url);
        f(&mut conn)
    })
    .await
    .expect("the database work did not panic")
}

/// Runs SQL that must succeed.
pub async fn sql(app: &TestApp, statement: &str) {
    let statement = statement.to_string();
    with_db(app, move |conn| {
        conn.batch_execute(&statement)
            .unwrap_or_else(|e| panic!("{statement}: {e}"))
    })
    .await
}

/// The whole audit trail, oldest first.
pub async fn audit_rows(app: &TestApp) -> Vec<AuditRow> {
    with_db(app, |conn| {
        audit_log::table
            .order(audit_log::seq.asc())
            .select(AuditRow::as_select())
            .load(conn)
            .expect("read audit_log")
    })
    .await
}

/// The audit entries written by `email` with this outcome.
pub async fn audit_by(app: &TestApp, email: &str, outcome: &str) -> Vec<AuditRow> {
    audit_rows(app)
        .await
        .into_iter()
        .filter(|r| r.user_email.as_deref() == Some(email) && r.outcome == outcome)
        .collect()
}

/// An organisation of `kind` under the ICB `icb` (none for an ICB itself).
pub async fn add_org_in(app: &TestApp, kind: &str, code: &str, icb: Option<&str>) {
    let (kind, code, icb) = (kind.to_string(), code.to_string(), icb.map(str::to_string));
    with_db(app, move |conn| {
        cla_tracker::auth::add_organisation(
            conn,
            &cla_tracker::audit::Actor::system("test"),
            cla_tracker::auth::NewOrganisation {
                kind: &kind,
                name: &code,
                code: &code,
                icb_code: icb.as_deref(),
            },
        )
        .unwrap_or_else(|e| panic!("add organisation {code}: {e}"));
    })
    .await
}

/// A user of `org` with exactly `roles` (password `TEST_PASSWORD`) and no token.
pub async fn add_user(app: &TestApp, email: &str, org: &str, roles: &[Role]) {
    let (email, org, roles) = (email.to_string(), org.to_string(), roles.to_vec());
    with_db(app, move |conn| helpers::add_user(conn, &email, &org, &roles)).await
}

/// A user of `org` with exactly `roles`, and a bearer token for them.
pub async fn user_with_token(app: &TestApp, email: &str, org: &str, roles: &[Role]) -> String {
    add_user(app, email, org, roles).await;
    token_for(app, email).await.1
}

/// A new token for an existing user: `(token id, token)`.
pub async fn token_for(app: &TestApp, email: &str) -> (String, String) {
    let email = email.to_string();
    with_db(app, move |conn| {
        let (row, token) =
            cla_tracker::auth::issue_token(conn, &cla_tracker::audit::Actor::system("test"), &email, "tests")
                .expect("issue a token");
        (row.id, token)
    })
    .await
}

// ---------------------------------------------------------------------------------------
// HTTP without the default credentials

/// A client with no default headers that does not follow redirects.
pub fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

pub async fn read(res: reqwest::Response) -> Resp {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        json,
    }
}

/// Sends a request with exactly these headers. `path` is under `/api/v1` unless it starts
/// with `/api` (as `TestApp::url`); a JSON body is sent as such.
/// The answer is checked against the OpenAPI document (`contract::check`).
pub async fn call(app: &TestApp, method: Method, path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Resp {
    let url = app.url(path);
    let mut req = bare_client().request(method.clone(), &url);
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = read(
        req.send()
            .await
            .unwrap_or_else(|e| panic!("request to {path} failed: {e}")),
    )
    .await;
    crate::contract::check(&method, &url[app.address.len()..], r.status, r.content_type(), &r.text);
    r
}

/// Sends a request with this bearer token (and no other credentials).
pub async fn as_token(app: &TestApp, token: &str, method: Method, path: &str, body: Option<&Value>) -> Resp {
    let auth = format!("Bearer {token}");
    call(app, method, path, body, &[("authorization", auth.as_str())]).await
}

pub async fn get_as(app: &TestApp, token: &str, path: &str) -> Resp {
    as_token(app, token, Method::GET, path, None).await
}

pub async fn post_as(app: &TestApp, token: &str, path: &str, body: &Value) -> Resp {
    as_token(app, token, Method::POST, path, Some(body)).await
}

/// Asserts a 403 problem whose detail says why.
#[track_caller]
pub fn assert_forbidden(r: &Resp, what: &str) {
    helpers::assert_problem(r, 403, None, what);
}

/// Asserts a 401 problem that asks for a bearer token.
#[track_caller]
pub fn assert_unauthenticated(r: &Resp, what: &str) {
    helpers::assert_problem(r, 401, None, what);
    assert_eq!(
        r.headers.get("www-authenticate").and_then(|v| v.to_str().ok()),
        Some("Bearer"),
        "{what}: a 401 names the scheme to use"
    );
}

// ---------------------------------------------------------------------------------------
// The browser, by hand

/// The raw `Set-Cookie` header values of an answer.
pub fn set_cookies(r: &Resp) -> Vec<String> {
    r.headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect()
}

/// The whole `Set-Cookie` header for `name`, if the answer sets it.
pub fn set_cookie(r: &Resp, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    set_cookies(r).into_iter().find(|c| c.starts_with(&prefix))
}

/// The value the answer gives cookie `name` (empty when it removes the cookie).
pub fn cookie_value(r: &Resp, name: &str) -> Option<String> {
    set_cookie(r, name).map(|c| c[name.len() + 1..].split(';').next().unwrap_or("").trim().to_string())
}

/// The value of the first hidden `csrf` field of a page.
pub fn hidden_csrf(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    let len = html[start..].find('"')?;
    Some(html[start..start + len].to_string())
}

/// The page with every CSRF token value blanked, to compare two pages' text.
pub fn without_csrf_values(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find(marker) {
        out.push_str(&rest[..i + marker.len()]);
        rest = &rest[i + marker.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A browser request to a page (`/`, `/login`, `/logout`) or the API (`/api/...`), with
/// these cookies, an optional urlencoded form, and extra headers.
pub async fn browse(
    app: &TestApp,
    method: Method,
    path: &str,
    cookies: &[(&str, &str)],
    form: Option<&[(&str, &str)]>,
    headers: &[(&str, &str)],
) -> Resp {
    let mut req = bare_client().request(method.clone(), format!("{}{path}", app.address));
    if !cookies.is_empty() {
        let jar: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        req = req.header("cookie", jar.join("; "));
    }
    if let Some(fields) = form {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields.iter())
            .finish();
        req = req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = read(
        req.send()
            .await
            .unwrap_or_else(|e| panic!("request to {path} failed: {e}")),
    )
    .await;
    crate::contract::check(&method, path, r.status, r.content_type(), &r.text);
    r
}

/// GET /login: `(the form's hidden csrf, the cla_login_csrf cookie)`.
pub async fn login_form(app: &TestApp) -> (String, String) {
    let r = browse(app, Method::GET, "/login", &[], None, &[]).await;
    assert_eq!(r.status, 200, "GET /login: {}", r.text);
    let field = hidden_csrf(&r.text).unwrap_or_else(|| panic!("GET /login has a hidden csrf field: {}", r.text));
    let cookie = cookie_value(&r, "cla_login_csrf")
        .unwrap_or_else(|| panic!("GET /login sets cla_login_csrf: {:?}", set_cookies(&r)));
    (field, cookie)
}

/// A sign-in through the form (GET /login, then POST it back with its cookie), with any
/// other cookies the browser holds.
pub async fn sign_in_with(app: &TestApp, email: &str, password: &str, other_cookies: &[(&str, &str)]) -> Resp {
    let (field, cookie) = login_form(app).await;
    let mut cookies = vec![("cla_login_csrf", cookie.as_str())];
    cookies.extend_from_slice(other_cookies);
    browse(
        app,
        Method::POST,
        "/login",
        &cookies,
        Some(&[("email", email), ("password", password), ("csrf", field.as_str())]),
        &[],
    )
    .await
}

pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> Resp {
    sign_in_with(app, email, password, &[]).await
}

/// Signs in with the test password and returns the `cla_session` cookie value.
pub async fn session_for(app: &TestApp, email: &str) -> String {
    let r = sign_in(app, email, TEST_PASSWORD).await;
    assert_eq!(r.status, 303, "signing in as {email}: {}", r.text);
    cookie_value(&r, "cla_session")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("a sign-in sets cla_session: {:?}", set_cookies(&r)))
}

/// The session's CSRF token, as the signed-in page's sign-out form carries it.
pub async fn session_csrf(app: &TestApp, session: &str) -> String {
    let home = browse(app, Method::GET, "/", &[("cla_session", session)], None, &[]).await;
    assert_eq!(home.status, 200, "GET / signed in: {}", home.text);
    hidden_csrf(&home.text).unwrap_or_else(|| panic!("the signed-in page has a sign-out form: {}", home.text))
}

/// An API request with the session cookie (and a CSRF header when given).
pub async fn api_with_session(
    app: &TestApp,
    session: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
    csrf: Option<&str>,
) -> Resp {
    let cookie = format!("cla_session={session}");
    let mut headers = vec![("cookie", cookie.as_str())];
    if let Some(token) = csrf {
        headers.push(("x-csrf-token", token));
    }
    call(app, method, path, body, &headers).await
}

// ---------------------------------------------------------------------------------------
// One of everything

/// A record with one of every kind of id the API takes, made by the default (ICB) user
/// for LA SOM: a child in care with an IHA past notification and consent, an out-of-area
/// placement (so a request), a booked appointment and a consent.
#[derive(Debug, Clone)]
pub struct Record {
    pub child: String,
    pub period: String,
    pub iha: String,
    pub appointment: String,
    pub request: String,
    pub consent: String,
}

/// Makes a `Record`; every step is dated in early February 2026 (use a later "today").
pub async fn record(app: &TestApp, local_id: &str) -> Record {
    let (child, period, iha) = app.child_in_care(local_id, "2014-01-01", "2026-02-02").await;
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2026-02-03"}),
    )
    .await
    .expect(200, "notification");
    app.post(
        &format!("/assessments/{iha}/consent"),
        &json!({"given_on": "2026-02-04", "basis": "local_authority", "given_by": "LA"}),
    )
    .await
    .expect(200, "consent");
    let changed = app
        .post(
            &format!("/periods/{period}/placements"),
            &json!({"started_on": "2026-02-05", "placement_type": "U4", "out_of_area": true, "host_la": "Devon"}),
        )
        .await
        .expect(201, "out-of-area placement");
    let request = s(&changed["out_of_area_request"]["id"]);
    app.book(&iha, "2026-02-06", "2026-02-20T10:00:00Z").await;
    let appointment = app.latest_appointment(&child, &iha).await;
    let consent = s(&app.child(&child).await["consents"][0]["id"]);
    Record {
        child,
        period,
        iha,
        appointment,
        request,
        consent,
    }
}

/// Everything a request could have changed in the record (read as the default user).
pub async fn snapshot(app: &TestApp, r: &Record) -> Vec<Value> {
    vec![
        app.get_ok("/children?limit=500").await,
        app.get_ok("/assessments?limit=1000").await,
        app.child(&r.child).await,
        app.assessment(&r.iha).await,
    ]
}

/// A fresh id nobody has.
pub fn unknown_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The test password, for callers that sign in.
pub const PASSWORD: &str = TEST_PASSWORD;
