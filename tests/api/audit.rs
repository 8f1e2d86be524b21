//! The audit trail: reads and changes on record with who, as what and what changed; the
//! hash chain caught by `cla-tracker audit verify` when a row is edited or removed; the
//! entry and the change it records commit together or not at all; the CSV export.

use std::process::{Command, Output};

use cla_tracker::access::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, s, spawn_app, Backend, TestApp};
use crate::security::{audit_rows, get_as, record, sql, user_with_token, DEFAULT_EMAIL};

both!(
    audit_verify_catches_a_hand_edited_row,
    reads_are_audited,
    changes_record_before_and_after,
    audit_and_change_are_atomic,
    a_read_that_cannot_be_audited_shows_nothing,
    csv_export,
);

const TODAY: &str = "2026-02-16";

/// `cla-tracker audit verify` on the app's database, from an empty folder (no config file).
fn verify(db_url: &str, today: &str) -> Output {
    let dir = tempfile::TempDir::new().expect("a temporary folder");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cla-tracker"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CLA_") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(dir.path())
        .env("CLA_DATABASE_URL", db_url)
        .env("CLA_TODAY", today)
        .env("CLA_LOG", "error")
        .args(["audit", "verify"])
        .output()
        .expect("the cla-tracker binary runs")
}

async fn run_verify(app: &TestApp) -> (bool, String) {
    let url = app.db_url.clone();
    let today = app.today.clone();
    let out = tokio::task::spawn_blocking(move || verify(&url, &today))
        .await
        .expect("verify ran");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn audit_verify_catches_a_hand_edited_row(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let rec = record(&app, "A-1").await;
    app.child(&rec.child).await;
    let entries = audit_rows(&app).await.len();
    assert!(entries >= 8, "a few audited things happened: {entries} entries");

    let (ok, text) = run_verify(&app).await;
    assert!(ok, "an untouched trail verifies: {text}");
    assert!(text.contains("intact"), "and says so: {text}");
    assert!(
        text.contains(&entries.to_string()),
        "naming how many entries were checked: {text}"
    );

    let original = audit_rows(&app).await[2].user_email.clone().unwrap_or_default();
    sql(&app, "UPDATE audit_log SET user_email = 'someone@else' WHERE seq = 3").await;
    let (ok, text) = run_verify(&app).await;
    assert!(!ok, "an edited entry fails verification: {text}");
    assert!(text.contains("entry 3"), "the message names entry 3: {text}");
    assert!(text.contains("edited"), "and says it was edited: {text}");

    sql(
        &app,
        &format!("UPDATE audit_log SET user_email = '{original}' WHERE seq = 3"),
    )
    .await;
    let (ok, text) = run_verify(&app).await;
    assert!(ok, "put back exactly, the entry verifies again: {text}");

    sql(&app, "UPDATE audit_log SET changes = NULL WHERE seq = 5").await;
    let (ok, text) = run_verify(&app).await;
    assert!(
        !ok && text.contains("entry 5"),
        "clearing the changes of entry 5 is caught: {text}"
    );
    sql(&app, "DELETE FROM audit_log WHERE seq = 5").await;
    let (ok, text) = run_verify(&app).await;
    assert!(!ok, "a deleted entry fails verification: {text}");
    assert!(
        text.contains("entry 5 is missing") && text.contains("4 and 6"),
        "the message names the gap: {text}"
    );
}

async fn reads_are_audited(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let rec = record(&app, "A-1").await;
    let assurance = user_with_token(&app, "dp@test.nhs.uk", "ICB", &[Role::Assurance]).await;
    let clinician = user_with_token(&app, "doc@test.nhs.uk", "ICB", &[Role::Clinician]).await;

    let before = audit_rows(&app).await.len();
    app.child(&rec.child).await;
    let rows = audit_rows(&app).await;
    assert_eq!(rows.len(), before + 1, "one read, one entry");
    let read = rows.last().expect("an entry");
    assert_eq!(read.action, "read");
    assert_eq!(read.entity, "child");
    assert_eq!(read.outcome, "ok");
    assert_eq!(read.child_id.as_deref(), Some(rec.child.as_str()));
    assert_eq!(read.entity_id.as_deref(), Some(rec.child.as_str()));
    assert_eq!(read.user_email.as_deref(), Some(DEFAULT_EMAIL));
    assert_eq!(
        read.role.as_deref(),
        Some("health_admin"),
        "the role that granted the read (the first of the user's roles that may)"
    );
    assert_eq!(read.client_address.as_deref(), Some("127.0.0.1"));

    app.assessment(&rec.iha).await;
    let last = audit_rows(&app).await.pop().expect("an entry");
    assert_eq!(
        (last.action.as_str(), last.entity.as_str(), last.child_id.as_deref()),
        ("read", "assessment", Some(rec.child.as_str())),
        "reading an assessment is a look at the child's record too"
    );

    let history = get_as(&app, &assurance, &format!("/children/{}/access-history", rec.child))
        .await
        .expect(200, "access history as assurance");
    let entries = history["items"].as_array().expect("a page of entries");
    assert_eq!(
        history["total"].as_u64(),
        Some(entries.len() as u64),
        "one page holds them all: {history}"
    );
    let seqs: Vec<i64> = entries.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first: {seqs:?}");
    assert!(
        entries.iter().any(|e| e["seq"] == read.seq
            && e["action"] == "read"
            && e["entity"] == "child"
            && e["user_email"] == DEFAULT_EMAIL
            && e["role"] == "health_admin"),
        "the read is listed: {history}"
    );
    assert!(
        entries
            .iter()
            .all(|e| e.get("hash").is_none() && e.get("changes").is_none()),
        "the history shows who looked, not the data: {history}"
    );
    let last = audit_rows(&app).await.pop().expect("an entry");
    assert_eq!(
        (last.action.as_str(), last.user_email.as_deref()),
        ("read_access_history", Some("dp@test.nhs.uk")),
        "reading who looked is itself on record"
    );

    let r = get_as(&app, &clinician, &format!("/children/{}/access-history", rec.child)).await;
    crate::security::assert_forbidden(&r, "a clinician reading the access history");
    assert!(!r.text.contains(DEFAULT_EMAIL), "and learns nothing: {}", r.text);
}

fn changes_of(row: &cla_tracker::db::models::AuditRow) -> Value {
    serde_json::from_str(row.changes.as_deref().unwrap_or("null")).unwrap_or(Value::Null)
}

async fn changes_record_before_and_after(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child, _, iha) = app.child_in_care("A-1", "2014-01-01", "2026-02-02").await;
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2026-02-03"}),
    )
    .await
    .expect(200, "notification");
    let version = app.assessment(&iha).await["version"].clone();
    app.post(
        &format!("/assessments/{iha}/consent"),
        &json!({"given_on": "2026-02-04", "basis": "local_authority", "given_by": "LA"}),
    )
    .await
    .expect(200, "consent");
    let update = audit_rows(&app)
        .await
        .into_iter()
        .rev()
        .find(|e| e.action == "update" && e.entity == "assessment")
        .expect("the consent step's entry");
    assert_eq!(update.entity_id.as_deref(), Some(iha.as_str()));
    assert_eq!(update.child_id.as_deref(), Some(child.as_str()));
    assert_eq!(
        update.role.as_deref(),
        Some("social_worker"),
        "only a social worker may consent"
    );
    let changes = changes_of(&update);
    assert_eq!(
        changes["state"],
        json!(["awaiting_consent", "awaiting_booking"]),
        "the state's before and after: {changes}"
    );
    assert_eq!(changes["consent_on"], json!([null, "2026-02-04"]), "{changes}");
    assert_eq!(changes["version"][0], version, "{changes}");
    assert!(
        changes.get("child_id").is_none(),
        "unchanged fields are left out: {changes}"
    );

    let child_view = app.child(&child).await;
    let r = app
        .send(
            Method::PATCH,
            &format!("/children/{child}"),
            Some(
                json!({"version": child_view["version"], "gp_practice": "L85001"})
                    .to_string()
                    .into_bytes(),
            ),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let update = audit_rows(&app)
        .await
        .into_iter()
        .rev()
        .find(|e| e.action == "update" && e.entity == "child")
        .expect("the child update's entry");
    let changes = changes_of(&update);
    assert_eq!(changes["gp_practice"], json!([null, "L85001"]), "{changes}");
}

/// Makes every audit insert for `entity` fail, as a broken audit store would.
async fn break_audit_for(app: &TestApp, entity: &str) {
    let statement = match app.backend {
        Backend::Sqlite => format!(
            "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log WHEN NEW.entity = '{entity}' \
             BEGIN SELECT RAISE(ABORT, 'audit down'); END;"
        ),
        Backend::Postgres => format!(
            "CREATE FUNCTION no_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.entity = '{entity}' THEN RAISE EXCEPTION 'audit down'; END IF; RETURN NEW; END $$; \
             CREATE TRIGGER no_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION no_audit();"
        ),
    };
    sql(app, &statement).await;
}

async fn mend_audit(app: &TestApp) {
    let statement = match app.backend {
        Backend::Sqlite => "DROP TRIGGER no_audit;",
        Backend::Postgres => "DROP TRIGGER no_audit ON audit_log; DROP FUNCTION no_audit();",
    };
    sql(app, statement).await;
}

async fn audit_and_change_are_atomic(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child, _, iha) = app.child_in_care("A-1", "2014-01-01", "2026-02-02").await;
    let before = app.assessment(&iha).await;
    let detail_before = app.child(&child).await;
    let entries = audit_rows(&app).await.len();

    break_audit_for(&app, "assessment").await;
    let r = app
        .post(
            &format!("/assessments/{iha}/notification"),
            &json!({"received_on": "2026-02-03"}),
        )
        .await;
    assert!(
        r.status >= 500,
        "the step fails when its audit entry cannot be written: {} {}",
        r.status,
        r.text
    );
    assert!(
        !r.text.contains("audit down"),
        "the database's message is not shown: {}",
        r.text
    );
    mend_audit(&app).await;

    let after = app.assessment(&iha).await;
    assert_eq!(
        after["state"], "awaiting_notification",
        "the step did not happen: {after}"
    );
    assert_eq!(after["version"], before["version"], "the version is unchanged");
    assert_eq!(after, before, "nothing about the assessment changed");
    let detail_after = app.child(&child).await;
    assert_eq!(
        detail_after["timeline"], detail_before["timeline"],
        "no event was recorded"
    );
    let rows = audit_rows(&app).await;
    assert_eq!(rows.len(), entries + 2, "only the two reads since are on record");
    assert!(
        !rows.iter().any(|e| e.action == "update" && e.entity == "assessment"),
        "no entry for a change that did not happen"
    );
    let (ok, text) = run_verify(&app).await;
    assert!(ok, "the chain is whole after the failure: {text}");

    // With the audit store mended, the same step goes through and is on record.
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2026-02-03"}),
    )
    .await
    .expect(200, "notification once the audit works");
    assert!(audit_rows(&app)
        .await
        .iter()
        .any(|e| e.action == "update" && e.entity == "assessment"));
}

async fn a_read_that_cannot_be_audited_shows_nothing(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let child = app.register("A-1", "2014-01-01").await;
    let id = s(&child["id"]);
    break_audit_for(&app, "child").await;
    let r = app.get(&format!("/children/{id}")).await;
    assert!(r.status >= 500, "an unaudited read is refused: {} {}", r.status, r.text);
    assert!(
        !r.text.contains("TestA-1"),
        "and shows nothing of the record: {}",
        r.text
    );
    mend_audit(&app).await;
    app.child(&id).await;
}

async fn csv_export(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let rec = record(&app, "A-1").await;
    app.child(&rec.child).await;
    let assurance = user_with_token(&app, "dp@test.nhs.uk", "ICB", &[Role::Assurance]).await;
    let reader = user_with_token(&app, "reader@test.nhs.uk", "ICB", &[Role::ReadOnly]).await;
    // Entries carry the real time of day, not the pinned "today".
    let day = chrono::Utc::now().date_naive();
    let path = format!(
        "/audit/export?from={}&to={}",
        day - chrono::Duration::days(1),
        day + chrono::Duration::days(1)
    );

    let r = get_as(&app, &assurance, &path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.content_type().starts_with("text/csv"), "{}", r.content_type());
    assert!(
        r.headers
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("attachment")),
        "offered as a download"
    );
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(
        lines[0],
        "seq,occurred_at,user_id,user_email,role,client_address,action,entity,entity_id,child_id,outcome,changes,prev_hash,hash"
    );
    let entries = audit_rows(&app).await.len();
    assert_eq!(lines.len() - 1, entries, "one row per entry, the export's own included");
    assert!(lines[1].starts_with("1,"), "oldest first: {}", lines[1]);
    assert!(
        lines.last().is_some_and(|l| l.contains(",export,audit_log,")),
        "the export itself is on record"
    );
    assert!(r.text.contains(&rec.child), "rows name the child: {}", lines.len());

    let r = get_as(&app, &reader, &path).await;
    crate::security::assert_forbidden(&r, "read_only exporting the audit trail");
    assert!(!r.text.contains(&rec.child), "and gets none of it");
    let r = get_as(&app, &assurance, "/audit/export?from=2026-02-10&to=2026-02-01").await;
    assert_problem(&r, 422, Some("to"), "an export ending before it starts");
    let r = app.get(&path).await;
    assert_eq!(r.status, 200, "the default user (who holds assurance) may export too");
}
