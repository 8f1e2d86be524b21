//! `cla-tracker import health-checks` through the binary, on both databases: completed
//! assessments and health checks from a team's spreadsheet become the child's record as if
//! recorded by hand (the IHA completed with its dates, the review cycle following), a dry
//! run writes nothing, a child with a refused row is skipped whole, and importing the same
//! file again changes nothing.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::helpers::{s, settings_for, spawn_with_settings, Backend, TestApp, TestDb, TEST_LA};

const TODAY: &str = "2025-06-02";

/// H1 (born 2012) looked after since 1 February 2024; H2 (born 2018) since 1 March 2025.
const HEADER: &str = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nH1,1,03/04/2012,WBRI,,,\nH2,2,05/06/2018,WBRI,,,\n";
const EPISODES: &str =
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n\
    H1,01/02/2024,S,C2,N1,U1,PR1,,,,TA1,TA2,SC123456\n\
    H2,01/03/2025,S,C2,N1,U1,PR1,,,,TA1,TA2,SC123456\n";

/// Rows 2-5 are H1's (written); H2's row 7 is refused, so its row 6 is skipped; H3 is a
/// child the tracker does not hold.
const CHECKS: &str = "child,kind,seen_on,report_received_on,check_type,date,result\n\
    H1,RHA,2025-02-10,2025-02-20,,,\n\
    H1,IHA,20/02/2024,01/03/2024,,,\n\
    H1,check,,,dental,01/05/2025,seen; no treatment needed\n\
    H1,check,,,sdq,01/05/2025,15\n\
    H2,IHA,10/03/2025,,,,\n\
    H2,check,,,hearing,01/05/2025,\n\
    H3,IHA,10/03/2025,,,,\n";

fn run(dir: &Path, db_url: &str, args: &[String]) -> Output {
    crate::helpers::cla_command(dir, db_url, TODAY)
        .args(args)
        .output()
        .expect("the cla-tracker binary runs")
}

async fn cli(db_url: &str, dir: &Path, args: Vec<String>) -> String {
    let (db_url, dir) = (db_url.to_string(), dir.to_path_buf());
    let o = tokio::task::spawn_blocking(move || run(&dir, &db_url, &args))
        .await
        .expect("the CLI thread");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {out}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// The two children and their open periods, from the SSDA903 files.
async fn with_children(db: &TestDb) -> PathBuf {
    let dir = db.dir.path().to_path_buf();
    let (header, episodes) = (dir.join("header.csv"), dir.join("episodes.csv"));
    std::fs::write(&header, HEADER).expect("write header");
    std::fs::write(&episodes, EPISODES).expect("write episodes");
    let args = vec![
        "import".into(),
        "ssda903".into(),
        "--la".into(),
        TEST_LA.into(),
        header.display().to_string(),
        episodes.display().to_string(),
    ];
    cli(&db.url, &dir, args).await;
    let checks = dir.join("checks.csv");
    std::fs::write(&checks, CHECKS).expect("write checks");
    checks
}

async fn import_checks(db: &TestDb, file: &Path, extra: &[&str]) -> String {
    let mut args = strings(&["import", "health-checks", "--la", TEST_LA]);
    args.extend(strings(extra));
    args.push(file.display().to_string());
    cli(&db.url, db.dir.path(), args).await
}

fn rows_line(report: &str) -> &str {
    report
        .lines()
        .find(|l| l.starts_with("rows:"))
        .unwrap_or_else(|| panic!("no rows counts in the report:\n{report}"))
}

async fn child_by_local_id(app: &TestApp, local_id: &str) -> Value {
    let page = app.get_ok(&format!("/children?q={local_id}")).await;
    let id = s(&page["items"][0]["id"]);
    app.child(&id).await
}

fn of_kind<'a>(child: &'a Value, kind: &str) -> Vec<&'a Value> {
    child["assessments"]
        .as_array()
        .expect("assessments")
        .iter()
        .filter(|a| a["kind"].as_str().is_some_and(|k| k.eq_ignore_ascii_case(kind)))
        .collect()
}

async fn completed_assessments_load_with_their_dates_and_the_review_cycle_follows(backend: Backend) {
    let db = TestDb::create(backend);
    let checks = with_children(&db).await;
    let report = import_checks(&db, &checks, &[]).await;
    assert_eq!(
        rows_line(&report),
        "rows: 7 read, 3 rejected (1 refused, 2 skipped with their child), 4 created, 0 unchanged",
        "{report}"
    );
    assert!(
        report.contains("line 7 (child H2): check_type = \"hearing\": must be one of dental"),
        "{report}"
    );
    assert!(report.contains("line 8 (child H3): child = \"H3\""), "{report}");
    let url = db.url.clone();
    let app = spawn_with_settings(Some(db), settings_for(&url, TODAY)).await;
    let h1 = child_by_local_id(&app, "H1").await;
    let iha = of_kind(&h1, "IHA");
    assert_eq!(iha.len(), 1, "{h1}");
    assert_eq!(iha[0]["state"], "completed");
    assert_eq!(iha[0]["seen_on"], "2024-02-20");
    assert_eq!(iha[0]["report_received_on"], "2024-03-01");
    assert_eq!(iha[0]["completed_on"], "2024-03-01");
    // The IHA scheduled the first review a year after the day seen (H1 was over 5); the
    // imported RHA completed it, and it scheduled the next.
    let mut rha = of_kind(&h1, "RHA");
    rha.sort_by_key(|a| s(&a["clock_started_on"]));
    assert_eq!(rha.len(), 2, "{h1}");
    assert_eq!(rha[0]["clock_started_on"], "2024-02-20");
    assert_eq!(rha[0]["state"], "completed");
    assert_eq!(rha[0]["seen_on"], "2025-02-10");
    assert_eq!(rha[1]["clock_started_on"], "2025-02-10");
    assert_eq!(rha[1]["due_on"], "2026-02-10");
    assert_eq!(rha[1]["state"], "scheduled");
    let checks: Vec<(String, String)> = h1["health_checks"]
        .as_array()
        .expect("health checks")
        .iter()
        .map(|c| (s(&c["kind"]), s(&c["checked_on"])))
        .collect();
    assert_eq!(
        checks,
        vec![
            ("dental".to_string(), "2025-05-01".to_string()),
            ("sdq".to_string(), "2025-05-01".to_string())
        ],
        "{h1}"
    );
    // H2 was skipped whole: its IHA, in the file on an accepted row, is still open.
    let h2 = child_by_local_id(&app, "H2").await;
    assert_eq!(of_kind(&h2, "IHA")[0]["state"], "awaiting_notification", "{h2}");
}

async fn a_dry_run_writes_nothing_and_prints_the_same_report(backend: Backend) {
    let db = TestDb::create(backend);
    let checks = with_children(&db).await;
    let report = import_checks(&db, &checks, &["--dry-run"]).await;
    assert!(report.starts_with("dry run: nothing was written\n"), "{report}");
    assert_eq!(
        rows_line(&report),
        "rows: 7 read, 2 rejected (1 refused, 1 skipped with their child)",
        "{report}"
    );
    let url = db.url.clone();
    let app = spawn_with_settings(Some(db), settings_for(&url, TODAY)).await;
    let h1 = child_by_local_id(&app, "H1").await;
    assert_eq!(of_kind(&h1, "IHA")[0]["state"], "awaiting_notification", "{h1}");
    assert_eq!(h1["health_checks"].as_array().map(Vec::len), Some(0), "{h1}");
}

async fn importing_the_same_file_again_changes_nothing(backend: Backend) {
    let db = TestDb::create(backend);
    let checks = with_children(&db).await;
    import_checks(&db, &checks, &[]).await;
    let rejections = db.dir.path().join("rejections.csv");
    let again = import_checks(&db, &checks, &["--rejections-csv", &rejections.display().to_string()]).await;
    assert_eq!(
        rows_line(&again),
        "rows: 7 read, 3 rejected (1 refused, 2 skipped with their child), 0 created, 4 unchanged",
        "{again}"
    );
    let csv = std::fs::read_to_string(&rejections).expect("the rejections file");
    assert!(csv.starts_with("file,line,child,column,value,reason\n"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let url = db.url.clone();
    let app = spawn_with_settings(Some(db), settings_for(&url, TODAY)).await;
    let h1 = child_by_local_id(&app, "H1").await;
    assert_eq!(of_kind(&h1, "RHA").len(), 2, "{h1}");
    assert_eq!(h1["health_checks"].as_array().map(Vec::len), Some(2), "{h1}");
}

both!(
    completed_assessments_load_with_their_dates_and_the_review_cycle_follows,
    a_dry_run_writes_nothing_and_prints_the_same_report,
    importing_the_same_file_again_changes_nothing,
);
