//! `cla-tracker import ssda903` and `export ssda903` through the binary, on both
//! databases: what an import makes visible through the API, that importing again changes
//! nothing, that a dry run writes nothing, that a child with a refused row is skipped
//! whole, that an export imported into a fresh database gives the same periods, episodes
//! and outcomes back, and that a bad export request writes nothing.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Output;

use cla_tracker::ssda903::export::CsvFiles;
use cla_tracker::ssda903::generate::{self, GenerateOptions};

use crate::helpers::{s, settings_for, spawn_with_settings, Backend, TestApp, TestDb, TEST_LA};

const TODAY: &str = "2025-06-02";
const CSV_FILES: [&str; 4] = ["header.csv", "episodes.csv", "uasc.csv", "oc2.csv"];

fn run(dir: &Path, db_url: &str, args: &[&str]) -> Output {
    crate::helpers::cla_command(dir, db_url, TODAY)
        .args(args)
        .output()
        .expect("the cla-tracker binary runs")
}

#[track_caller]
fn ok(o: Output, what: &str) -> String {
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{what}: exit {:?}\nstdout: {out}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// Invented files for `n` children, as at 31 March 2025, in `dir`.
fn write_generated(dir: &Path, n: u32) -> Vec<PathBuf> {
    let open = |name: &str| BufWriter::new(File::create(dir.join(name)).expect("create a file"));
    let mut csv = CsvFiles::new(
        2025,
        open(CSV_FILES[0]),
        open(CSV_FILES[1]),
        open(CSV_FILES[2]),
        open(CSV_FILES[3]),
    )
    .expect("header rows");
    let options = GenerateOptions {
        children: n,
        seed: 12,
        year_ending: 2025,
    };
    for child in generate::children(options) {
        csv.write_child(&child).expect("write a child");
    }
    csv.finish().expect("flush");
    CSV_FILES.iter().map(|f| dir.join(f)).collect()
}

/// `import ssda903 --la SOM [extra] FILE...` in the database's folder.
async fn import(db_url: &str, dir: &Path, files: &[PathBuf], extra: &[&str]) -> Output {
    let (db_url, dir) = (db_url.to_string(), dir.to_path_buf());
    let mut args: Vec<String> = ["import", "ssda903", "--la", TEST_LA].map(String::from).to_vec();
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend(files.iter().map(|f| f.display().to_string()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&dir, &db_url, &args)
    })
    .await
    .expect("the CLI thread")
}

fn counts_line<'a>(report: &'a str, what: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.starts_with(&format!("{what}:")))
        .unwrap_or_else(|| panic!("no {what} counts in the report:\n{report}"))
}

async fn app_on(db: TestDb) -> TestApp {
    let url = db.url.clone();
    spawn_with_settings(Some(db), settings_for(&url, TODAY)).await
}

async fn child_by_local_id(app: &TestApp, local_id: &str) -> serde_json::Value {
    let page = app.get_ok(&format!("/children?q={local_id}")).await;
    let id = s(&page["items"][0]["id"]);
    app.child(&id).await
}

async fn import_makes_children_and_periods_visible_in_the_api(backend: Backend) {
    let db = TestDb::create(backend);
    let (url, dir) = (db.url.clone(), db.dir.path().to_path_buf());
    let files = write_generated(&dir, 25);
    let report = ok(import(&url, &dir, &files, &[]).await, "import");
    assert!(
        counts_line(&report, "children").contains("25 read, 0 rejected, 25 created, 0 updated, 0 unchanged"),
        "{report}"
    );
    let app = app_on(db).await;
    assert_eq!(app.children_count().await, 25);
    let child = child_by_local_id(&app, "C0000001").await;
    let periods = child["periods"].as_array().expect("periods");
    assert!(!periods.is_empty(), "the child's periods of care: {child}");
    // History periods carry no assessment; every open one has its IHA (or its reason).
    let open = periods.iter().filter(|p| p["ended_on"].is_null()).count();
    assert!(open <= 1, "at most one open period: {child}");
}

async fn importing_the_same_files_again_changes_nothing(backend: Backend) {
    let db = TestDb::create(backend);
    let (url, dir) = (db.url.clone(), db.dir.path().to_path_buf());
    let files = write_generated(&dir, 20);
    let first = ok(import(&url, &dir, &files, &[]).await, "first import");
    let periods_read = counts_line(&first, "periods")
        .split_whitespace()
        .nth(1)
        .expect("a count")
        .to_string();
    let again = ok(import(&url, &dir, &files, &[]).await, "second import");
    assert!(
        counts_line(&again, "children").ends_with("0 created, 0 updated, 20 unchanged"),
        "{again}"
    );
    assert!(
        counts_line(&again, "periods").ends_with(&format!("0 created, 0 updated, {periods_read} unchanged")),
        "{again}"
    );
    let app = app_on(db).await;
    assert_eq!(app.children_count().await, 20);
}

async fn a_dry_run_writes_nothing_and_prints_the_same_report(backend: Backend) {
    let db = TestDb::create(backend);
    let (url, dir) = (db.url.clone(), db.dir.path().to_path_buf());
    let files = write_generated(&dir, 10);
    let report = ok(import(&url, &dir, &files, &["--dry-run"]).await, "dry run");
    assert!(report.starts_with("dry run: nothing was written"), "{report}");
    assert!(
        counts_line(&report, "children").contains("10 read, 0 rejected"),
        "{report}"
    );
    assert!(!report.contains("created"), "a dry run counts no writes: {report}");
    let app = app_on(db).await;
    assert_eq!(app.children_count().await, 0);
}

async fn a_refused_row_is_reported_and_its_child_skipped_whole(backend: Backend) {
    let db = TestDb::create(backend);
    let (url, dir) = (db.url.clone(), db.dir.path().to_path_buf());
    let header = dir.join("header.csv");
    std::fs::write(
        &header,
        "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nA1,1,03/04/2012,WBRI,,,\nB2,2,05/06/2013,WBRI,,,\n",
    )
    .expect("write header");
    let episodes = dir.join("episodes.csv");
    std::fs::write(
        &episodes,
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n\
         A1,01/02/2020,S,C2,N1,U1,PR1,01/03/2021,E13,,TA1,TA2,SC123456\n\
         B2,01/02/2020,S,C2,N1,U1,PR1,,,,TA1,TA2,SC123456\n\
         B2,2020-05-01,P,ZZ,N1,U1,PR1,,,,TA1,TA2,SC123456\n",
    )
    .expect("write episodes");
    let report = ok(import(&url, &dir, &[header, episodes], &[]).await, "import");
    assert!(report.contains("episodes.csv line 4 (CHILD B2): DECOM"), "{report}");
    assert!(report.contains("LS = \"ZZ\""), "{report}");
    assert!(
        counts_line(&report, "children").contains("2 read, 1 rejected, 1 created"),
        "{report}"
    );
    let app = app_on(db).await;
    assert_eq!(app.children_count().await, 1, "B2 was skipped whole");
    let a1 = child_by_local_id(&app, "A1").await;
    assert_eq!(a1["periods"][0]["started_on"], "2020-02-01");
    assert_eq!(a1["periods"][0]["ended_on"], "2021-03-01");
    assert_eq!(a1["periods"][0]["end_reason"], "E13");
}

/// A legal-status change within a period (RNE L) is kept with its day, in a history period
/// and in an open one, and the period carries on.
async fn legal_status_changes_within_a_period_are_kept(backend: Backend) {
    let db = TestDb::create(backend);
    let (url, dir) = (db.url.clone(), db.dir.path().to_path_buf());
    let header = dir.join("header.csv");
    std::fs::write(
        &header,
        "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\nL1,1,03/04/2012,WBRI,,,\n",
    )
    .expect("write header");
    let episodes = dir.join("episodes.csv");
    std::fs::write(
        &episodes,
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n\
         L1,01/02/2020,S,L2,N1,U1,PR1,10/02/2020,X1,,TA1,TA2,SC123456\n\
         L1,10/02/2020,L,C2,N1,U1,PR1,01/03/2021,E13,,TA1,TA2,SC123456\n\
         L1,01/03/2025,S,V2,N1,U1,PR1,15/04/2025,X1,,TA1,TA2,SC123456\n\
         L1,15/04/2025,L,C1,N1,U1,PR1,,,,TA1,TA2,SC123456\n",
    )
    .expect("write episodes");
    let files = [header, episodes];
    let report = ok(import(&url, &dir, &files, &[]).await, "import");
    assert!(
        counts_line(&report, "periods").contains("2 read, 0 rejected, 2 created"),
        "{report}"
    );
    let again = ok(import(&url, &dir, &files, &[]).await, "import again");
    assert!(
        counts_line(&again, "periods").ends_with("0 created, 0 updated, 2 unchanged"),
        "{again}"
    );
    let mut conn = crate::helpers::connect(&url);
    use cla_tracker::db::schema::legal_status_changes::dsl as lsc;
    use diesel::prelude::*;
    let mut changes: Vec<(chrono::NaiveDate, String, String)> = lsc::legal_status_changes
        .select((lsc::changed_on, lsc::legal_status, lsc::previous_status))
        .load(&mut conn)
        .expect("the changes");
    changes.sort();
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a date");
    assert_eq!(
        changes,
        vec![
            (day(2020, 2, 10), "C2".to_string(), "L2".to_string()),
            (day(2025, 4, 15), "C1".to_string(), "V2".to_string()),
        ]
    );
    let app = app_on(db).await;
    let child = child_by_local_id(&app, "L1").await;
    assert_eq!(child["periods"].as_array().map(Vec::len), Some(2), "{child}");
}

/// `export ssda903 --year 2025 --la SOM --out DIR` into a new folder under `dir`.
async fn export(db_url: &str, dir: &Path, name: &str) -> (Output, PathBuf) {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).expect("the export folder");
    let (db_url, dir, out_arg) = (db_url.to_string(), dir.to_path_buf(), out.display().to_string());
    let output = tokio::task::spawn_blocking(move || {
        run(
            &dir,
            &db_url,
            &[
                "export", "ssda903", "--year", "2025", "--la", TEST_LA, "--out", &out_arg,
            ],
        )
    })
    .await
    .expect("the CLI thread");
    (output, out)
}

type PeriodRow = (
    String,
    chrono::NaiveDate,
    Option<chrono::NaiveDate>,
    Option<String>,
    String,
);

/// Every period as (CHILD, start, end, REC, LS it started with), sorted.
fn periods_held(url: &str) -> Vec<PeriodRow> {
    use cla_tracker::db::schema::{children, periods};
    use diesel::prelude::*;
    let mut conn = crate::helpers::connect(url);
    let mut rows: Vec<PeriodRow> = periods::table
        .inner_join(children::table)
        .select((
            children::local_id,
            periods::started_on,
            periods::ended_on,
            periods::end_reason,
            periods::legal_status,
        ))
        .load(&mut conn)
        .expect("the periods");
    rows.sort();
    rows
}

fn file(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Generated files in, exported, the export imported into a fresh database and exported
/// again: the same four files, the same periods of care in the year (a period that began
/// before the year is known to the fresh database from its first episode in the year,
/// as the DfE files hold only the year's episodes), the same episodes and OC2 outcomes.
async fn an_export_imported_into_a_fresh_database_gives_the_same_periods_episodes_and_outcomes(backend: Backend) {
    let first = TestDb::create(backend);
    let (url, dir) = (first.url.clone(), first.dir.path().to_path_buf());
    let files = write_generated(&dir, 60);
    ok(import(&url, &dir, &files, &[]).await, "import the generated files");
    let (out, exported) = export(&url, &dir, "first").await;
    let summary = ok(out, "export");
    assert!(summary.contains("for the year ending 31 March 2025"), "{summary}");

    let fresh = TestDb::create(backend);
    let (url2, dir2) = (fresh.url.clone(), fresh.dir.path().to_path_buf());
    let again: Vec<PathBuf> = CSV_FILES.iter().map(|f| exported.join(f)).collect();
    let report = ok(import(&url2, &dir2, &again, &[]).await, "import the export");
    assert!(counts_line(&report, "children").contains(" 0 rejected"), "{report}");
    let (out, round_trip) = export(&url2, &dir2, "second").await;
    ok(out, "export again");
    for name in CSV_FILES {
        assert_eq!(
            file(&exported, name),
            file(&round_trip, name),
            "{name} differs after the round trip"
        );
    }
    // CONVICTED and SUBSTANCE_MISUSE (columns 5 and 10) are carried from the imported OC2.
    let carried = |text: String| -> std::collections::HashMap<String, (String, String)> {
        text.lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
            .map(|c| (c[0].clone(), (c[4].clone(), c[9].clone())))
            .collect()
    };
    let generated = carried(file(&dir, "oc2.csv"));
    let exported_oc2 = carried(file(&exported, "oc2.csv"));
    let mut compared = 0;
    for (child, values) in &exported_oc2 {
        if let Some(imported) = generated.get(child) {
            assert_eq!(values, imported, "{child}: CONVICTED, SUBSTANCE_MISUSE carried");
            compared += 1;
        }
    }
    assert!(compared > 0, "some OC2 children in both");
    let episodes = file(&exported, "episodes.csv");
    assert!(episodes.lines().count() > 30, "{episodes}");
    assert!(file(&exported, "oc2.csv").lines().count() > 5);

    // The fresh database's periods: each is one of the first database's, ending the same
    // way; it starts the same day unless the period began before the year.
    let year_start = chrono::NaiveDate::from_ymd_opt(2024, 4, 1).expect("a date");
    let held = periods_held(&url);
    let rebuilt = periods_held(&url2);
    assert!(!rebuilt.is_empty());
    for (child, start, end, rec, ls) in &rebuilt {
        let original = held
            .iter()
            .find(|(c, s, e, _, _)| c == child && s <= start && e == end)
            .unwrap_or_else(|| panic!("{child}'s period from {start} is not in the first database"));
        assert_eq!(&original.3, rec, "{child}: the same end reason");
        if original.1 >= year_start || original.1 == *start {
            assert_eq!((&original.1, &original.4), (start, ls), "{child}: the same start");
        }
    }
    let in_year = held
        .iter()
        .filter(|(_, start, end, _, _)| {
            *start <= chrono::NaiveDate::from_ymd_opt(2025, 3, 31).expect("a date")
                && end.is_none_or(|e| e >= year_start)
        })
        .count();
    assert_eq!(rebuilt.len(), in_year, "every period of the year, and only those");
}

/// An unknown authority, a folder that is not there and files already in the folder are
/// refused with a message, and nothing is written.
async fn a_bad_export_request_is_refused_and_writes_nothing(backend: Backend) {
    let db = TestDb::create(backend);
    let (url, dir) = (db.url.clone(), db.dir.path().to_path_buf());
    let files = write_generated(&dir, 5);
    ok(import(&url, &dir, &files, &[]).await, "import");
    let out = dir.join("out");
    std::fs::create_dir(&out).expect("a folder");
    let attempt = |args: Vec<String>| {
        let (url, dir) = (url.clone(), dir.clone());
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&dir, &url, &args)
        })
    };
    let args = |la: &str, out: &Path| -> Vec<String> {
        ["export", "ssda903", "--year", "2025", "--la", la, "--out"]
            .iter()
            .map(|s| s.to_string())
            .chain([out.display().to_string()])
            .collect()
    };
    let unknown = attempt(args("ZZZ", &out)).await.expect("the CLI");
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no local authority with that code"),
        "{unknown:?}"
    );
    let missing = attempt(args(TEST_LA, &dir.join("nowhere"))).await.expect("the CLI");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not an existing folder"));
    assert_eq!(
        std::fs::read_dir(&out).expect("the folder").count(),
        0,
        "nothing written"
    );

    std::fs::write(out.join("oc2.csv"), "kept").expect("an old file");
    let clash = attempt(args(TEST_LA, &out)).await.expect("the CLI");
    assert!(!clash.status.success());
    assert!(String::from_utf8_lossy(&clash.stderr).contains("refusing to overwrite"));
    assert_eq!(std::fs::read_to_string(out.join("oc2.csv")).expect("kept"), "kept");
    assert_eq!(
        std::fs::read_dir(&out).expect("the folder").count(),
        1,
        "nothing else written"
    );
}

both!(
    an_export_imported_into_a_fresh_database_gives_the_same_periods_episodes_and_outcomes,
    a_bad_export_request_is_refused_and_writes_nothing,
    legal_status_changes_within_a_period_are_kept,
    import_makes_children_and_periods_visible_in_the_api,
    importing_the_same_files_again_changes_nothing,
    a_dry_run_writes_nothing_and_prints_the_same_report,
    a_refused_row_is_reported_and_its_child_skipped_whole,
);
