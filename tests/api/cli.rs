//! The `cla-tracker` binary: calendar commands, help, settings errors, and importing a
//! GOV.UK calendar into a database a server is using.

use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};

use crate::helpers::{s, settings_for, spawn_with_settings, Backend, TestApp, TestDb};

/// Runs the binary against `db_url` with today pinned, in `dir` (so no config file is
/// read) and with no other `CLA_*` variable from this process's environment.
fn run(dir: &Path, db_url: &str, today: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = crate::helpers::cla_command(dir, db_url, today);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the cla-tracker binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[track_caller]
fn ok(o: Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what}: exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

struct Scratch {
    dir: tempfile::TempDir,
    db_url: String,
}

fn scratch() -> Scratch {
    let dir = tempfile::TempDir::new().expect("a temporary folder");
    let db_url = dir.path().join("cli.db").display().to_string();
    Scratch { dir, db_url }
}

impl Scratch {
    fn run(&self, args: &[&str]) -> Output {
        run(self.dir.path(), &self.db_url, "2026-01-20", args, &[])
    }
}

#[test]
fn calendar_add_working_days_prints_the_due_date() {
    let sc = scratch();
    let out = ok(
        sc.run(&["calendar", "add-working-days", "2025-12-19", "20"]),
        "add-working-days",
    );
    assert_eq!(out.trim(), "2026-01-21", "Fri 19 Dec 2025 + 20 working days");
    let out = ok(
        sc.run(&["calendar", "add-working-days", "2026-03-28", "20"]),
        "add-working-days",
    );
    assert_eq!(out.trim(), "2026-04-28");
    let out = ok(
        sc.run(&["calendar", "add-working-days", "2026-01-21", "-20"]),
        "counting back",
    );
    assert_eq!(out.trim(), "2025-12-19");
    for bad in [
        vec!["calendar", "add-working-days", "2025-02-30", "20"],
        vec!["calendar", "add-working-days", "2025-12-19", "twenty"],
        vec!["calendar", "add-working-days", "2025-12-19", "6000"],
    ] {
        let o = sc.run(&bad);
        assert!(!o.status.success(), "{bad:?} must fail");
        assert!(!stderr(&o).is_empty(), "{bad:?} says why");
    }
}

#[test]
fn calendar_list_shows_the_ten_holidays_of_2022() {
    let sc = scratch();
    let out = ok(
        sc.run(&["calendar", "list", "--from", "2022-01-01", "--to", "2022-12-31"]),
        "calendar list",
    );
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 10, "ten England and Wales bank holidays in 2022:\n{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("2022-06-03") && l.contains("Platinum Jubilee")),
        "{out}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("2022-09-19") && l.contains("State Funeral")),
        "{out}"
    );
    let o = sc.run(&["calendar", "list", "--from", "2022-12-31", "--to", "2022-01-01"]);
    assert!(!o.status.success(), "--to before --from must fail");
}

#[test]
fn every_subcommand_has_help() {
    let sc = scratch();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["calendar", "--help"],
        vec!["calendar", "list", "--help"],
        vec!["calendar", "add-working-days", "--help"],
        vec!["calendar", "import", "--help"],
        vec!["seed-demo", "--help"],
        vec!["escalate", "--help"],
        vec!["pack", "--help"],
        vec!["outbox", "--help"],
        vec!["outbox", "list", "--help"],
        vec!["help", "calendar"],
    ] {
        let out = ok(sc.run(&args), &format!("{args:?}"));
        assert!(out.contains("Usage"), "{args:?} prints usage:\n{out}");
    }
    let top = ok(sc.run(&["--help"]), "--help");
    for sub in ["serve", "migrate", "calendar", "seed-demo"] {
        assert!(top.contains(sub), "--help lists {sub}:\n{top}");
    }
    assert!(!Path::new(&sc.db_url).exists(), "help touches no database");
}

/// A new user's first run: the demo prints the organisation codes it made, `org list` shows
/// every organisation, and the README's `org add` example does not collide with the demo.
#[test]
fn seed_demo_prints_its_organisations_and_org_list_shows_them() {
    let sc = scratch();
    let out = ok(sc.run(&["seed-demo", "--children", "30", "--years", "1"]), "seed-demo");
    for (code, name) in [
        ("933", "Wessex Shire Council"),
        ("865", "Kennet Vale Council"),
        ("803", "Severnside Council"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().next() == Some(code) && l.contains(name)),
            "seed-demo names {code} {name}:\n{out}"
        );
    }
    assert!(
        out.contains("--org ICB"),
        "and which code to give a user who should see them:\n{out}"
    );
    ok(
        sc.run(&[
            "org",
            "add",
            "--kind",
            "local_authority",
            "--name",
            "Bath and North East Somerset Council",
            "--code",
            "800",
        ]),
        "the README's org add example",
    );
    let list = ok(sc.run(&["org", "list"]), "org list");
    let rows: Vec<Vec<&str>> = list.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows[0], ["code", "kind", "icb", "name"], "{list}");
    assert_eq!(rows[1][..3], ["ICB", "icb", "-"], "the ICB first:\n{list}");
    for code in ["933", "865", "803", "800"] {
        assert!(
            rows.iter().any(|r| r[..3] == [code, "local_authority", "ICB"]),
            "{code} is a local authority in the ICB:\n{list}"
        );
    }
    assert!(
        list.contains("Bath and North East Somerset Council"),
        "names in full:\n{list}"
    );
}

#[test]
fn invalid_settings_stop_with_a_message_naming_the_key() {
    let sc = scratch();
    let args = ["calendar", "add-working-days", "2025-12-19", "20"];
    for (var, value, key) in [
        ("CLA_IHA__NOTIFY_BY", "nine", "iha.notify_by"),
        ("CLA_IHA__CONSENT_BY", "99", "iha.consent_by"),
        ("CLA_DATABSE_URL", "x.db", "CLA_DATABSE_URL"),
        ("CLA_BIND_ADDRESS", "localhost", "bind_address"),
    ] {
        let o = run(sc.dir.path(), &sc.db_url, "2026-01-20", &args, &[(var, value)]);
        assert!(!o.status.success(), "{var}={value} must stop the program");
        assert!(
            stderr(&o).contains(key),
            "{var}={value}: the message names {key}: {}",
            stderr(&o)
        );
        assert!(stdout(&o).is_empty(), "{var}={value}: nothing printed as a result");
    }
    let o = run(sc.dir.path(), &sc.db_url, "2026-02-30", &args, &[]);
    assert!(!o.status.success(), "CLA_TODAY=2026-02-30 is invalid");
    assert!(stderr(&o).contains("today"), "{}", stderr(&o));
}

/// GOV.UK's format: the shipped 2026 holidays, plus `extra` events.
fn govuk_2026(extra: &[Value]) -> String {
    let shipped: Value =
        serde_json::from_str(include_str!("../../config/bank-holidays.json")).expect("shipped calendar");
    let mut events: Vec<Value> = shipped["england-and-wales"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["date"].as_str().is_some_and(|d| d.starts_with("2026-")))
        .cloned()
        .collect();
    assert_eq!(events.len(), 8, "eight regular holidays in 2026");
    events.extend(extra.iter().cloned());
    json!({
        "england-and-wales": {"division": "england-and-wales", "events": events},
        "scotland": {"division": "scotland", "events": []},
    })
    .to_string()
}

/// A server on a SQLite file the CLI will also use, with one IHA opened on Mon 5 Jan 2026
/// (due Mon 2 Feb 2026). Returns the app and the IHA's id.
async fn server_with_an_open_iha(db: TestDb) -> (TestApp, String) {
    let settings = settings_for(&db.url, "2026-01-20");
    let app = spawn_with_settings(Some(db), settings).await;
    let (_, _, iha) = app.child_in_care("CLI-1", "2014-01-01", "2026-01-05").await;
    assert_eq!(app.assessment(&iha).await["due_on"], "2026-02-02");
    (app, iha)
}

async fn run_async(dir: &Path, db_url: &str, args: &[&str]) -> Output {
    let dir = dir.to_path_buf();
    let db_url = db_url.to_string();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&dir, &db_url, "2026-01-20", &args, &[])
    })
    .await
    .expect("the CLI thread")
}

#[tokio::test]
async fn calendar_import_of_a_one_off_holiday_moves_open_due_dates() {
    let db = TestDb::create(Backend::Sqlite);
    let dir = db.dir.path().to_path_buf();
    let url = db.url.clone();
    let (app, iha) = server_with_an_open_iha(db).await;

    let file = dir.join("bank-holidays.json");
    let one_off = json!({"title": "Test one-off bank holiday", "date": "2026-01-19", "notes": "", "bunting": true});
    std::fs::write(&file, govuk_2026(&[one_off])).expect("write the file");
    let out = ok(
        run_async(&dir, &url, &["calendar", "import", file.to_str().expect("utf-8 path")]).await,
        "calendar import",
    );
    assert!(out.contains("9 England and Wales bank holidays"), "{out}");
    assert!(
        out.contains("1 due dates changed"),
        "the open IHA was recomputed: {out}"
    );

    // The stored due date moved one working day later; a server started now also
    // explains it with the new holiday.
    assert_eq!(
        app.assessment(&iha).await["due_on"],
        "2026-02-03",
        "seen by the running server"
    );
    let again = spawn_with_settings(None, settings_for(&url, "2026-01-20")).await;
    let v = again.assessment(&iha).await;
    assert_eq!(
        v["due_on"], "2026-02-03",
        "20 working days after 5 Jan, skipping Mon 19 Jan"
    );
    assert!(
        s(&v["explanation"]).contains("Test one-off bank holiday"),
        "the explanation names it: {}",
        v["explanation"]
    );
    let listed = again.get_ok("/calendar/holidays?from=2026-01-01&to=2026-01-31").await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(2),
        "New Year's Day and the one-off: {listed}"
    );
    let out = ok(
        run_async(&dir, &url, &["calendar", "add-working-days", "2026-01-05", "20"]).await,
        "add-working-days after import",
    );
    assert_eq!(out.trim(), "2026-02-03");
}

#[tokio::test]
async fn invalid_calendar_import_fails_and_changes_nothing() {
    let db = TestDb::create(Backend::Sqlite);
    let dir = db.dir.path().to_path_buf();
    let url = db.url.clone();
    let (app, iha) = server_with_an_open_iha(db).await;
    let list_args = ["calendar", "list", "--from", "2026-01-01", "--to", "2026-12-31"];
    let before = ok(run_async(&dir, &url, &list_args).await, "list before");

    let one_off = |date: &str| json!({"title": "One-off", "date": date, "notes": "", "bunting": true});
    let bad_files = [
        ("not-json.json", "this is not JSON".to_string()),
        ("saturday.json", govuk_2026(&[one_off("2026-01-17")])),
        ("bad-date.json", govuk_2026(&[one_off("2026-02-30")])),
        (
            "duplicate.json",
            govuk_2026(&[one_off("2026-01-19"), one_off("2026-01-19")]),
        ),
        (
            "no-division.json",
            json!({"scotland": {"division": "scotland", "events": []}}).to_string(),
        ),
        (
            "empty.json",
            json!({"england-and-wales": {"division": "england-and-wales", "events": []}}).to_string(),
        ),
    ];
    for (name, content) in bad_files {
        let file = dir.join(name);
        std::fs::write(&file, content).expect("write the file");
        let o = run_async(&dir, &url, &["calendar", "import", file.to_str().expect("utf-8 path")]).await;
        assert!(!o.status.success(), "{name}: import must fail; stdout {}", stdout(&o));
        assert!(!stderr(&o).trim().is_empty(), "{name}: says why");
    }
    let missing = dir.join("missing.json");
    let o = run_async(
        &dir,
        &url,
        &["calendar", "import", missing.to_str().expect("utf-8 path")],
    )
    .await;
    assert!(!o.status.success(), "a missing file must fail");

    assert_eq!(
        ok(run_async(&dir, &url, &list_args).await, "list after"),
        before,
        "calendar unchanged"
    );
    assert_eq!(app.assessment(&iha).await["due_on"], "2026-02-02", "due date unchanged");
}

async fn run_env(dir: &Path, db_url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = dir.to_path_buf();
    let db_url = db_url.to_string();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run(&dir, &db_url, "2026-03-13", &args, &env)
    })
    .await
    .expect("the CLI thread")
}

/// `escalate --dry-run` prints what would fire and writes nothing; `escalate` records it
/// (mail without an address listed as undeliverable); a bad rule file stops the command
/// with the file and line.
#[tokio::test]
async fn escalate_dry_run_then_for_real_and_a_bad_rule_file_names_the_line() {
    let db = TestDb::create(Backend::Sqlite);
    let dir = db.dir.path().to_path_buf();
    let url = db.url.clone();
    let app = spawn_with_settings(Some(db), settings_for(&url, "2026-03-13")).await;
    // Became looked after Mon 2 March 2026; health not told: late from Thu 5 March.
    app.child_in_care("CLI-ESC", "2015-06-14", "2026-03-02").await;

    let out = ok(
        run_env(&dir, &url, &["escalate", "--dry-run", "--as-of", "2026-03-04"], &[]).await,
        "dry run on day 2",
    );
    assert!(!out.contains("would fire "), "{out}");
    let out = ok(
        run_env(&dir, &url, &["escalate", "--dry-run", "--as-of", "2026-03-05"], &[]).await,
        "dry run",
    );
    assert!(
        out.contains("would fire") && out.contains("iha_notification_late level 1"),
        "{out}"
    );
    let listed = ok(run_env(&dir, &url, &["outbox", "list"], &[]).await, "outbox list");
    assert!(listed.trim().is_empty(), "a dry run queues nothing: {listed}");

    let out = ok(
        run_env(&dir, &url, &["escalate", "--as-of", "2026-03-05"], &[]).await,
        "escalate",
    );
    assert!(
        out.contains("fired ") && out.contains("iha_notification_late level 1"),
        "{out}"
    );
    let listed = ok(
        run_env(&dir, &url, &["outbox", "list", "--status", "undeliverable"], &[]).await,
        "undeliverable",
    );
    assert_eq!(listed.lines().count(), 2, "social worker and team manager: {listed}");
    let again = ok(
        run_env(&dir, &url, &["escalate", "--as-of", "2026-03-05"], &[]).await,
        "escalate again",
    );
    assert!(!again.contains("fired "), "fires once: {again}");

    std::fs::write(
        dir.join("bad.toml"),
        "[[rule]]\nid = \"x\"\ncondition = \"no_such_condition\"\ntemplate = \"step_late\"\n",
    )
    .expect("write the rule file");
    let o = run_env(&dir, &url, &["escalate"], &[("CLA_ESCALATIONS_FILE", "bad.toml")]).await;
    assert!(!o.status.success(), "a bad rule file stops the command");
    assert!(stderr(&o).contains("bad.toml line 3"), "{}", stderr(&o));
}
