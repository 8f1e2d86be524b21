//! Spawning the application on a fresh database and talking to it over HTTP.

#![allow(dead_code)]

use std::net::TcpListener;

use cla_tracker::settings::Settings;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

pub const PG_ENV: &str = "CLA_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Whether PostgreSQL tests can run. Without `CLA_TEST_POSTGRES_URL` they are skipped
/// (with a note) on a developer machine, and fail on CI, where they must run.
pub fn postgres_available(test: &str) -> bool {
    if std::env::var(PG_ENV).is_ok_and(|v| !v.trim().is_empty()) {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: CI must run the PostgreSQL tests, but {PG_ENV} is not set (e.g. postgres://postgres@127.0.0.1:5432/test)");
    }
    eprintln!("skipping {test}: set {PG_ENV} (e.g. postgres://postgres@127.0.0.1:5432/test) to run it on PostgreSQL");
    false
}

fn postgres_base_url() -> String {
    std::env::var(PG_ENV).unwrap_or_else(|_| panic!("{PG_ENV} must be set for PostgreSQL tests"))
}

/// A database the test owns: a file in a temporary folder, or a PostgreSQL database
/// created for it and dropped afterwards.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn create(backend: Backend) -> TestDb {
        let dir = tempfile::TempDir::new().expect("a temporary folder");
        match backend {
            Backend::Sqlite => {
                let url = dir.path().join("cla.db").display().to_string();
                TestDb {
                    backend,
                    url,
                    dir,
                    pg: None,
                }
            }
            Backend::Postgres => {
                let base = postgres_base_url();
                let name = format!("cla_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&base)
                    .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL at {base}: {e}"));
                admin
                    .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                    .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
                let url = replace_database(&base, &name);
                TestDb {
                    backend,
                    url,
                    dir,
                    pg: Some((base, name)),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.pg {
            if let Ok(mut admin) = PgConnection::establish(base) {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

/// `postgres://u@h:5432/test?x=y` with the database name replaced.
fn replace_database(base: &str, name: &str) -> String {
    let (without_query, query) = match base.split_once('?') {
        Some((a, q)) => (a, format!("?{q}")),
        None => (base, String::new()),
    };
    let scheme_end = without_query.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_and_path = &without_query[scheme_end..];
    let authority = authority_and_path.split('/').next().unwrap_or("");
    format!("{}{authority}/{name}{query}", &without_query[..scheme_end])
}

/// Settings for a test: built-in defaults, the database, and a pinned today.
pub fn settings_for(db_url: &str, today: &str) -> Settings {
    let mut s = Settings::defaults();
    s.database_url = db_url.to_string();
    s.today = today.to_string();
    s.pool_size = 4;
    s
}

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    pub db_url: String,
    pub today: String,
    /// The database this app owns (dropped with it); `None` when it serves another's.
    pub db: Option<TestDb>,
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Resp {
    pub fn content_type(&self) -> &str {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16, what: &str) -> Value {
        assert_eq!(self.status, status, "{what}: unexpected status; body: {}", self.text);
        self.json
    }

    /// The problem document's `errors[].field` values.
    pub fn fields(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn detail(&self) -> String {
        self.json["detail"].as_str().unwrap_or("").to_string()
    }
}

/// Asserts an RFC 9457 problem answer with this status; when `field` is given, that one of
/// `errors[].field` names it.
#[track_caller]
pub fn assert_problem(r: &Resp, status: u16, field: Option<&str>, what: &str) {
    assert_eq!(r.status, status, "{what}: status; body: {}", r.text);
    assert!(
        r.content_type().starts_with("application/problem+json"),
        "{what}: content-type {:?}, body {}",
        r.content_type(),
        r.text
    );
    let j = &r.json;
    assert!(j["type"].is_string(), "{what}: problem without type: {}", r.text);
    assert!(j["title"].is_string(), "{what}: problem without title: {}", r.text);
    assert_eq!(
        j["status"].as_u64(),
        Some(u64::from(status)),
        "{what}: problem status: {}",
        r.text
    );
    assert!(
        j["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{what}: problem without detail: {}",
        r.text
    );
    assert!(
        j["errors"].is_array(),
        "{what}: problem without errors array: {}",
        r.text
    );
    if let Some(field) = field {
        assert!(
            r.fields().iter().any(|f| f == field),
            "{what}: expected errors[].field {field:?}, got {:?}: {}",
            r.fields(),
            r.text
        );
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        if ["/api", "/health", "/ready", "/metrics"]
            .iter()
            .any(|p| path.starts_with(p))
        {
            format!("{}{path}", self.address)
        } else {
            format!("{}/api/v1{path}", self.address)
        }
    }

    /// Sends a request; `path` is under `/api/v1` unless it starts with `/api`, `/health`
    /// or `/ready`.
    /// Every answer is checked against the OpenAPI document (`contract::check`).
    pub async fn send(&self, method: Method, path: &str, body: Option<Vec<u8>>, headers: &[(&str, &str)]) -> Resp {
        let url = self.url(path);
        let mut req = self.client.request(method.clone(), &url);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("request to {path} failed: {e}"));
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        crate::contract::check(&method, &url[self.address.len()..], status, content_type, &text);
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            json,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::POST, path, Some(body.to_string().into_bytes()), &[])
            .await
    }

    pub async fn post_with(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Resp {
        self.send(Method::POST, path, Some(body.to_string().into_bytes()), headers)
            .await
    }

    pub async fn get_ok(&self, path: &str) -> Value {
        self.get(path).await.expect(200, &format!("GET {path}"))
    }

    pub async fn assessment(&self, id: &str) -> Value {
        self.get_ok(&format!("/assessments/{id}")).await
    }

    pub async fn assessment_as_of(&self, id: &str, as_of: &str) -> Value {
        self.get_ok(&format!("/assessments/{id}?as_of={as_of}")).await
    }

    pub async fn child(&self, id: &str) -> Value {
        self.get_ok(&format!("/children/{id}")).await
    }

    pub async fn children_count(&self) -> usize {
        let page = self.get_ok("/children?limit=1").await;
        page["total"]
            .as_u64()
            .expect("GET /children answers a page with its total") as usize
    }

    /// Registers a child (sex F, LA "SOM", test NHS number only when given).
    pub async fn register(&self, local_id: &str, date_of_birth: &str) -> Value {
        self.register_with(json!({
            "local_id": local_id,
            "given_name": "Amy",
            "family_name": format!("Test{local_id}"),
            "date_of_birth": date_of_birth,
            "sex": "F",
            "responsible_la": "SOM",
        }))
        .await
    }

    pub async fn register_with(&self, body: Value) -> Value {
        self.post("/children", &body).await.expect(201, "POST /children")
    }

    /// Starts a period of care and returns `{period, assessment}`.
    pub async fn start_period(&self, child_id: &str, started_on: &str, legal_status: &str) -> Value {
        self.start_period_with(
            child_id,
            json!({"started_on": started_on, "legal_status": legal_status}),
        )
        .await
    }

    pub async fn start_period_with(&self, child_id: &str, body: Value) -> Value {
        self.post(&format!("/children/{child_id}/periods"), &body)
            .await
            .expect(201, "POST /children/{id}/periods")
    }

    /// A registered child with a period of care (C2) started on `started_on`:
    /// returns (child id, period id, IHA id).
    pub async fn child_in_care(
        &self,
        local_id: &str,
        date_of_birth: &str,
        started_on: &str,
    ) -> (String, String, String) {
        let child = self.register(local_id, date_of_birth).await;
        let child_id = s(&child["id"]);
        let started = self.start_period(&child_id, started_on, "C2").await;
        (child_id, s(&started["period"]["id"]), s(&started["assessment"]["id"]))
    }

    /// Takes an open IHA through notification, consent (parent with PR), booking and
    /// completion, every step dated `on`. Returns the completed view.
    pub async fn complete_iha(&self, iha_id: &str, on: &str) -> Value {
        self.post(
            &format!("/assessments/{iha_id}/notification"),
            &json!({"received_on": on}),
        )
        .await
        .expect(200, "notification");
        self.post(
            &format!("/assessments/{iha_id}/consent"),
            &json!({"given_on": on, "basis": "parent_with_pr", "given_by": "Mother"}),
        )
        .await
        .expect(200, "consent");
        self.book(iha_id, on, &format!("{on}T10:00:00Z")).await;
        self.post(&format!("/assessments/{iha_id}/completion"), &json!({"seen_on": on}))
            .await
            .expect(200, "completion")
    }

    /// Books an appointment; returns the answer: the assessment view with the new
    /// `appointment` in it.
    pub async fn book(&self, assessment_id: &str, booked_on: &str, starts_at: &str) -> Value {
        self.post(
            &format!("/assessments/{assessment_id}/appointments"),
            &json!({
                "starts_at": starts_at,
                "clinician": "Dr Patel",
                "location": "Taunton CLA clinic",
                "booked_on": booked_on,
            }),
        )
        .await
        .expect(201, "POST /assessments/{id}/appointments")
    }

    /// The id of the latest appointment of an assessment, read from the child's record.
    pub async fn latest_appointment(&self, child_id: &str, assessment_id: &str) -> String {
        let detail = self.child(child_id).await;
        let appts: Vec<&Value> = detail["appointments"]
            .as_array()
            .expect("appointments")
            .iter()
            .filter(|a| a["assessment_id"] == assessment_id)
            .collect();
        s(&appts.last().expect("an appointment")["id"])
    }
}

/// A JSON string value as a `String` (panics when it is not a string).
#[track_caller]
pub fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
        .to_string()
}

/// The milestone `key` of an assessment view.
#[track_caller]
pub fn milestone<'a>(view: &'a Value, key: &str) -> &'a Value {
    view["milestones"]
        .as_array()
        .expect("milestones")
        .iter()
        .find(|m| m["key"] == key)
        .unwrap_or_else(|| panic!("no milestone {key} in {}", view["milestones"]))
}

/// Prepares the state (migrations, calendar) for `settings` and serves it on a free port.
pub async fn spawn_with_settings(db: Option<TestDb>, settings: Settings) -> TestApp {
    let backend = match cla_tracker::db::DatabaseUrl::parse(&settings.database_url) {
        cla_tracker::db::DatabaseUrl::Postgres(_) => Backend::Postgres,
        cla_tracker::db::DatabaseUrl::Sqlite(_) => Backend::Sqlite,
    };
    let db_url = settings.database_url.clone();
    let today = settings.today.clone();
    let url = db_url.clone();
    let (state, token) = tokio::task::spawn_blocking(move || {
        let state = cla_tracker::cli::prepare(settings).expect("prepare succeeds on a fresh database");
        let token = test_accounts(&url);
        (state, token)
    })
    .await
    .expect("prepare did not panic");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = listener.local_addr().expect("local address").port();
    let app = cla_tracker::http::Application::build(state, listener, Some(1)).expect("build the application");
    tokio::spawn(app.server());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // Below the server's 5 s keep-alive, so a connection the server is closing after
            // a long pause (tests that sweep or send in between) is never reused.
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .default_headers(bearer(&token))
            .build()
            .expect("an HTTP client"),
        backend,
        db_url,
        today,
        db,
    }
}

pub const TEST_LA: &str = "SOM";
pub const TEST_PASSWORD: &str = "a long test passphrase for cla";

/// Headers carrying a bearer token.
pub fn bearer(token: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("a valid header value"),
    );
    h
}

/// The accounts most tests act as: local authority SOM in the deployment's ICB, and one
/// ICB user holding every role that touches children. Returns that user's bearer token.
pub fn test_accounts(db_url: &str) -> String {
    use cla_tracker::access::Role;
    let mut conn = connect(db_url);
    // A second server on the same database finds the accounts already there.
    if cla_tracker::auth::find_organisation(&mut conn, TEST_LA).is_err() {
        add_org(&mut conn, "local_authority", TEST_LA);
    }
    if cla_tracker::auth::find_user(&mut conn, "tester@test.nhs.uk").is_err() {
        add_user(
            &mut conn,
            "tester@test.nhs.uk",
            "ICB",
            &[Role::HealthAdmin, Role::Clinician, Role::SocialWorker, Role::Assurance],
        );
    }
    issue_token(&mut conn, "tester@test.nhs.uk")
}

pub fn connect(db_url: &str) -> cla_tracker::db::DbConn {
    cla_tracker::db::connect(&cla_tracker::db::DatabaseUrl::parse(db_url)).expect("connect to the test database")
}

pub fn add_org(conn: &mut cla_tracker::db::DbConn, kind: &str, code: &str) {
    let icb = (kind != "icb").then_some("ICB");
    cla_tracker::auth::add_organisation(
        conn,
        &cla_tracker::audit::Actor::system("test"),
        cla_tracker::auth::NewOrganisation {
            kind,
            name: code,
            code,
            icb_code: icb,
        },
    )
    .expect("add an organisation");
}

pub fn add_user(conn: &mut cla_tracker::db::DbConn, email: &str, org: &str, roles: &[cla_tracker::access::Role]) {
    cla_tracker::auth::add_user(
        conn,
        &cla_tracker::audit::Actor::system("test"),
        cla_tracker::auth::NewUser {
            email,
            display_name: email,
            organisation_code: org,
            roles,
            password: TEST_PASSWORD,
        },
        &cla_tracker::auth::password::PasswordParams::default(),
    )
    .expect("add a user");
}

pub fn issue_token(conn: &mut cla_tracker::db::DbConn, email: &str) -> String {
    let (_, token) = cla_tracker::auth::issue_token(conn, &cla_tracker::audit::Actor::system("test"), email, "tests")
        .expect("issue a token");
    token
}

/// The application on a fresh database of `backend`, with today pinned to `today`.
pub async fn spawn_app(backend: Backend, today: &str) -> TestApp {
    let db = tokio::task::spawn_blocking(move || TestDb::create(backend))
        .await
        .expect("creating the test database");
    let settings = settings_for(&db.url, today);
    spawn_with_settings(Some(db), settings).await
}

/// The `cla-tracker` binary against `db_url` with today pinned, run in `dir` (so no config
/// file is read) and with no other `CLA_*` variable from this process's environment.
pub fn cla_command(dir: &std::path::Path, db_url: &str, today: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cla-tracker"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CLA_") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(dir)
        .env("CLA_DATABASE_URL", db_url)
        .env("CLA_TODAY", today)
        .env("CLA_LOG", "error");
    cmd
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://h/test?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "x"), "postgres://h/x");
    }
}
