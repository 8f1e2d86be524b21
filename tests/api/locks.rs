//! One request must not stall the others (issue 8): a view of a day out of range is
//! refused before any work, and a list reads a whole county without holding the
//! database's write lock (only its audit entry is appended under it), so writes alongside
//! it go through.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use cla_tracker::db::schema::children;
use cla_tracker::service::{calendar_store, DomainCtx};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::json;

use crate::helpers::{assert_problem, connect, settings_for, spawn_app, Backend, TestApp};
use crate::security::{add_org_in, sql, with_db};

both!(
    a_view_of_a_day_out_of_range_is_refused_naming_as_of,
    lists_read_without_holding_the_write_lock,
);

const TODAY: &str = "2026-11-23";

/// A note on `child`: one short write.
async fn write_note(app: &TestApp, child: &str) -> u16 {
    app.post(
        &format!("/children/{child}/notes"),
        &json!({"body": "phoned the carer", "author": "SW"}),
    )
    .await
    .status
}

async fn a_view_of_a_day_out_of_range_is_refused_naming_as_of(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child, _, iha) = app.child_in_care("R-1", "2014-01-01", "2026-11-02").await;
    let paths = [
        "/assessments?limit=1&as_of=".to_string(),
        format!("/assessments/{iha}?as_of="),
        format!("/children/{child}?as_of="),
        "/assurance/iha?as_of=".to_string(),
    ];
    for path in &paths {
        // Not before 2000, nor more than five years after today (2026-11-23).
        for bad in ["0000-01-01", "1999-12-31", "2031-11-24", "9999-12-31"] {
            let r = app.get(&format!("{path}{bad}")).await;
            assert_problem(&r, 422, Some("as_of"), &format!("GET {path}{bad}"));
        }
        for good in ["2000-01-01", "2031-11-23"] {
            app.get(&format!("{path}{good}"))
                .await
                .expect(200, &format!("GET {path}{good}"));
        }
    }
    // The request from the issue, with writes alongside it: none of them fails.
    let bad_list = app.get("/assessments?as_of=0000-01-01&limit=1");
    let writes = async {
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(write_note(&app, &child).await);
        }
        statuses
    };
    let (list, writes) = tokio::join!(bad_list, writes);
    assert_problem(&list, 422, Some("as_of"), "the list of year 0");
    assert_eq!(writes, vec![201; 5], "every write alongside it went through");
}

/// Seeds an invented county (its authorities in the ICB, so the test user sees it) and
/// clears every stored RAG, so that each list derives every assessment afresh: reading
/// takes a while.
async fn county(app: &TestApp) -> String {
    let url = app.db_url.clone();
    with_db(app, move |conn| {
        let settings = settings_for(&url, TODAY);
        let today = NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").expect("a date");
        let ctx = DomainCtx::new(
            Arc::new(calendar_store::load(conn).expect("calendar")),
            &settings,
            today,
        );
        let opts = cla_tracker::seed::SeedOptions {
            children: 400,
            seed: 8,
            years: 2,
        };
        cla_tracker::seed::run(conn, &ctx, &opts).expect("seed-demo");
    })
    .await;
    for (code, _) in cla_tracker::seed::local_authorities() {
        add_org_in(app, "local_authority", code, Some("ICB")).await;
    }
    sql(
        app,
        "UPDATE assessments SET rag_basis = '', rag_from = NULL, rag_until = NULL",
    )
    .await;
    with_db(app, |conn| {
        children::table
            .select(children::id)
            .order(children::id)
            .first::<String>(conn)
            .expect("a child")
    })
    .await
}

const LISTS: [&str; 4] = [
    "/assessments?limit=5",
    "/assessments?rag=red&as_of=2026-06-01",
    "/assurance/iha",
    "/assurance/iha?as_of=2026-06-01",
];

/// Tries to take SQLite's write lock without waiting, every millisecond until `done`:
/// returns (tries, refusals).
fn probe_write_lock(url: &str, done: &AtomicBool) -> (u32, u32) {
    let mut conn = connect(url);
    conn.batch_execute("PRAGMA busy_timeout = 0").expect("no waiting");
    let (mut tries, mut refused) = (0, 0);
    while !done.load(Ordering::SeqCst) {
        tries += 1;
        match conn.batch_execute("BEGIN IMMEDIATE") {
            Ok(()) => conn.batch_execute("ROLLBACK").expect("rollback"),
            Err(_) => refused += 1,
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    (tries, refused)
}

async fn lists_read_without_holding_the_write_lock(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let child = county(&app).await;

    // While lists read the county, the write lock stays free but for their audit entries.
    if b == Backend::Sqlite {
        let done = Arc::new(AtomicBool::new(false));
        let (url, flag) = (app.db_url.clone(), done.clone());
        let probe = tokio::task::spawn_blocking(move || probe_write_lock(&url, &flag));
        for path in LISTS {
            app.get(path).await.expect(200, path);
        }
        done.store(true, Ordering::SeqCst);
        let (tries, refused) = probe.await.expect("the probe ran");
        assert!(tries >= 100, "the lists took long enough to be probed: {tries} tries");
        assert!(
            refused * 10 <= tries,
            "the write lock was free nearly all the time the lists read: refused {refused} of {tries} tries"
        );
    }

    // And writes made meanwhile all go through.
    let done = AtomicBool::new(false);
    let lists = async {
        let mut statuses = Vec::new();
        for path in LISTS {
            statuses.push(app.get(path).await.status);
        }
        done.store(true, Ordering::SeqCst);
        statuses
    };
    let writes = async {
        let mut statuses = Vec::new();
        while !done.load(Ordering::SeqCst) {
            statuses.push(write_note(&app, &child).await);
        }
        statuses
    };
    let (lists, writes) = tokio::join!(lists, writes);
    assert_eq!(lists, vec![200; LISTS.len()], "every list answered");
    assert!(!writes.is_empty(), "writes were made while the lists ran");
    assert!(
        writes.iter().all(|s| *s == 201),
        "every write alongside the lists went through: {writes:?}"
    );
}
