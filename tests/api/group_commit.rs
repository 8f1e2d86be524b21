//! Audited reads under load (`audit::group`): every read that was answered is on record,
//! in one chain with the changes made meanwhile, and none is lost when the server is
//! killed (kill -9) in the middle of them.

use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cla_tracker::db::models::AuditRow;
use serde_json::json;

use crate::helpers::{settings_for, spawn_with_settings, Backend, TestApp, TestDb};
use crate::security::{audit_rows, with_db};

both!(
    concurrent_reads_and_changes_make_one_whole_chain,
    every_read_answered_before_a_kill_is_on_record
);

const TODAY: &str = "2026-02-16";

async fn app_on_own_db(b: Backend) -> TestApp {
    let db = tokio::task::spawn_blocking(move || TestDb::create(b))
        .await
        .expect("create the test database");
    let settings = settings_for(&db.url, TODAY);
    spawn_with_settings(Some(db), settings).await
}

/// `audit verify` over the whole trail: the number of entries checked, or the break.
async fn verify(app: &TestApp) -> Result<i64, String> {
    with_db(app, |conn| {
        cla_tracker::audit::verify(conn)
            .expect("read the audit trail")
            .map_err(|b| b.to_string())
    })
    .await
}

fn reads_of(rows: &[AuditRow], child: &str) -> usize {
    rows.iter()
        .filter(|r| r.action == "read" && r.entity == "child" && r.child_id.as_deref() == Some(child))
        .count()
}

async fn concurrent_reads_and_changes_make_one_whole_chain(b: Backend) {
    const READS: usize = 168; // every eighth request of 192 is a note
    const NOTES: usize = 24;
    let app = app_on_own_db(b).await;
    let (child, _, _) = app.child_in_care("G-1", "2014-01-01", "2026-02-02").await;
    let before = audit_rows(&app).await.len();

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..READS + NOTES {
        let client = app.client.clone();
        let read = app.url(&format!("/children/{child}"));
        let note = app.url(&format!("/children/{child}/notes"));
        tasks.spawn(async move {
            let r = if i % 8 == 7 {
                client
                    .post(note)
                    .json(&json!({"body": format!("note {i}"), "author": "Dr A"}))
                    .send()
                    .await
            } else {
                client.get(read).send().await
            };
            r.map(|r| r.status().as_u16()).unwrap_or(0)
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.expect("the request task ran"));
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        READS,
        "every read answered: {statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        NOTES,
        "every note saved: {statuses:?}"
    );

    let rows = audit_rows(&app).await;
    let new = &rows[before..];
    assert_eq!(reads_of(new, &child), READS, "one entry per read answered");
    assert_eq!(
        new.iter()
            .filter(|r| r.action == "create" && r.entity == "note")
            .count(),
        NOTES,
        "one entry per note, written with it"
    );
    assert!(
        rows.windows(2)
            .all(|w| w[1].seq == w[0].seq + 1 && w[1].occurred_at >= w[0].occurred_at),
        "one run of seq with no gaps, stamped in order"
    );
    assert_eq!(verify(&app).await, Ok(rows.len() as i64), "`audit verify` passes");
}

/// `cla-tracker serve` on `db_url` at `port`, as its own process (so it can be killed).
fn serve(db_url: &str, port: u16, dir: &std::path::Path) -> Child {
    crate::helpers::cla_command(dir, db_url, TODAY)
        .env("CLA_BIND_ADDRESS", format!("127.0.0.1:{port}"))
        .args(["serve", "--workers", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cla-tracker serve")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn wait_until_up(client: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if client
            .get(format!("{base}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cla-tracker serve did not come up at {base}");
}

async fn every_read_answered_before_a_kill_is_on_record(b: Backend) {
    let app = app_on_own_db(b).await;
    let (child, _, _) = app.child_in_care("K-1", "2014-01-01", "2026-02-02").await;
    let dir = tempfile::TempDir::new().expect("a temporary folder");
    let port = free_port();
    let mut server = serve(&app.db_url, port, dir.path());
    let base = format!("http://127.0.0.1:{port}");
    wait_until_up(&app.client, &base).await;
    let before = reads_of(&audit_rows(&app).await, &child);

    let answered = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (client, answered, stop) = (app.client.clone(), answered.clone(), stop.clone());
        let url = format!("{base}/api/v1/children/{child}");
        readers.spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                match client.get(&url).send().await {
                    Ok(r) if r.status() == 200 => {
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(r) => panic!("a read before the kill answered {}", r.status()),
                    Err(_) => return,
                }
            }
        });
    }
    // Kill in the thick of it: once reads are flowing, without warning.
    while answered.load(Ordering::SeqCst) < 50 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill().expect("kill -9 the server");
    server.wait().expect("the server is gone");
    stop.store(true, Ordering::SeqCst);
    while let Some(r) = readers.join_next().await {
        r.expect("a reader ran");
    }

    let answered = answered.load(Ordering::SeqCst);
    let rows = audit_rows(&app).await;
    let recorded = reads_of(&rows, &child) - before;
    assert!(
        recorded >= answered,
        "{answered} reads were answered but only {recorded} are on record"
    );
    assert_eq!(
        verify(&app).await,
        Ok(rows.len() as i64),
        "the chain is whole after the kill"
    );
}
