//! Several instances starting together on one fresh PostgreSQL database: migrations run
//! under an advisory lock, so every instance comes up.

use std::sync::{Arc, Barrier};

use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

use crate::helpers::{postgres_available, settings_for, spawn_with_settings, Backend, TestDb};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

mod postgres {
    #[tokio::test]
    async fn instances_starting_together_on_a_fresh_database_all_come_up() {
        if super::postgres_available("startup::postgres::instances_starting_together_on_a_fresh_database_all_come_up") {
            super::instances_starting_together_on_a_fresh_database_all_come_up().await
        }
    }
}

async fn instances_starting_together_on_a_fresh_database_all_come_up() {
    const INSTANCES: usize = 3;
    let db = tokio::task::spawn_blocking(|| TestDb::create(Backend::Postgres))
        .await
        .expect("create the database");
    let url = db.url.clone();
    let barrier = Arc::new(Barrier::new(INSTANCES));
    let handles: Vec<_> = (0..INSTANCES)
        .map(|_| {
            let barrier = barrier.clone();
            let settings = settings_for(&url, "2026-02-16");
            std::thread::spawn(move || {
                barrier.wait();
                cla_tracker::cli::prepare(settings)
                    .map(|_| ())
                    .map_err(|e| format!("{e:#}"))
            })
        })
        .collect();
    let results: Vec<Result<(), String>> = tokio::task::spawn_blocking(move || {
        handles
            .into_iter()
            .map(|h| h.join().expect("prepare did not panic"))
            .collect()
    })
    .await
    .expect("join");
    for (i, r) in results.iter().enumerate() {
        assert!(r.is_ok(), "instance {i} failed to start: {r:?}");
    }

    let check_url = url.clone();
    let applied = tokio::task::spawn_blocking(move || {
        let mut conn = PgConnection::establish(&check_url).expect("connect");
        diesel::sql_query("SELECT COUNT(*) AS n FROM __diesel_schema_migrations")
            .get_result::<Count>(&mut conn)
            .expect("the migrations table")
            .n
    })
    .await
    .expect("count migrations");
    let shipped = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .expect("migrations folder")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
        .count();
    assert_eq!(applied as usize, shipped, "each migration applied exactly once");

    // And the database works: one more instance serves it.
    let app = spawn_with_settings(Some(db), settings_for(&url, "2026-02-16")).await;
    assert_eq!(app.get("/ready").await.status, 200);
    let (_, _, iha) = app.child_in_care("ST-1", "2014-01-01", "2026-02-02").await;
    assert_eq!(app.assessment(&iha).await["state"], "awaiting_notification");
}

#[test]
fn a_database_url_with_an_unknown_scheme_stops_start_up() {
    let settings = settings_for("postgress://postgres@127.0.0.1:5432/test", "2026-02-16");
    let err = match cla_tracker::cli::prepare(settings) {
        Ok(_) => panic!("a postgress:// URL must not start"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("unknown database URL scheme \"postgress\""), "{err}");
    // Opened as a SQLite path, the URL would have made a folder "postgress:" here.
    assert!(
        !std::path::Path::new("postgress:").exists(),
        "no SQLite file was made for the URL"
    );
}
