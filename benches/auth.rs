//! What signing in costs (argon2id) and what authentication and the audit trail add to
//! every request: a bearer-token lookup, and one appended audit entry.
//!
//! cargo bench --bench auth                     (SQLite)
//! CLA_BENCH_POSTGRES_URL=postgres://... cargo bench --bench auth   (and PostgreSQL)

use std::time::{Duration, Instant};

use cla_tracker::access::Role;
use cla_tracker::audit::{self, Actor, AuditEvent};
use cla_tracker::auth::{self, password, NewOrganisation, NewUser};
use cla_tracker::db::{self, write_transaction, DatabaseUrl, DbConn};
use diesel::connection::SimpleConnection;
use diesel::Connection;

fn time<F: FnMut()>(runs: u32, mut f: F) -> Duration {
    let start = Instant::now();
    for _ in 0..runs {
        f();
    }
    start.elapsed() / runs
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn login_cost() {
    let params = password::PasswordParams::default();
    let hash = password::hash_password("a long test passphrase for cla", &params).expect("hash");
    let h = time(10, || {
        std::hint::black_box(password::hash_password("a long test passphrase for cla", &params).expect("hash"));
    });
    let v = time(10, || {
        std::hint::black_box(password::verify_password("a long test passphrase for cla", &hash));
    });
    println!(
        "argon2id (19 MiB, t=2, p=1): hash {} , verify (one sign-in) {}",
        ms(h),
        ms(v)
    );
}

fn prepare(conn: &mut DbConn) -> String {
    db::run_migrations(conn).expect("migrations");
    let system = Actor::system("bench");
    auth::ensure_home_icb(conn, "ICB", "Bench ICB").expect("icb");
    auth::add_organisation(
        conn,
        &system,
        NewOrganisation {
            kind: "local_authority",
            name: "LA",
            code: "LA1",
            icb_code: Some("ICB"),
        },
    )
    .expect("org");
    let roles = [Role::HealthAdmin];
    let user = NewUser {
        email: "bench@test.nhs.uk",
        display_name: "Bench",
        organisation_code: "ICB",
        roles: &roles,
        password: "a long test passphrase for cla",
    };
    auth::add_user(conn, &system, user, &password::PasswordParams::default()).expect("user");
    auth::issue_token(conn, &system, "bench@test.nhs.uk", "bench")
        .expect("token")
        .1
}

fn per_request(name: &str, conn: &mut DbConn) {
    let token = prepare(conn);
    let now = cla_tracker::db::models::now_utc();
    let lookup = time(2000, || {
        std::hint::black_box(auth::by_token(conn, &token, now).expect("lookup").expect("a principal"));
    });
    let actor = Actor {
        user_id: Some("u".into()),
        email: Some("bench@test.nhs.uk".into()),
        role: Some("health_admin".into()),
        client_address: Some("127.0.0.1".into()),
    };
    let append = time(2000, || {
        write_transaction(conn, |conn| {
            audit::record(conn, &actor, AuditEvent::ok("read", "child", Some("c"), Some("c")))
        })
        .expect("audit");
    });
    println!(
        "{name}: bearer-token authentication {} per request; audit entry (own transaction) {} per request",
        ms(lookup),
        ms(append)
    );
}

fn main() {
    login_cost();
    let dir = tempfile::TempDir::new().expect("temp dir");
    let path = dir.path().join("bench.db").display().to_string();
    let mut lite = db::connect(&DatabaseUrl::Sqlite(path)).expect("sqlite");
    per_request("SQLite", &mut lite);
    if let Ok(base) = std::env::var("CLA_BENCH_POSTGRES_URL") {
        let name = format!("cla_bench_{}", std::process::id());
        let mut admin = diesel::PgConnection::establish(&base).expect("postgres");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        let url = format!("{}/{name}", base.rsplit_once('/').map(|(a, _)| a).unwrap_or(&base));
        let mut pg = db::connect(&DatabaseUrl::Postgres(url)).expect("postgres database");
        per_request("PostgreSQL", &mut pg);
        drop(pg);
        let _ = admin.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"));
    }
}
