//! The delay analysis of late IHAs (issue 12) through the API and the pages: a small county
//! whose late IHAs are made here step by step, so each one's band, reason, side and area
//! is known; scope (a local authority sees only its own); the page's counts and lists; and
//! the page and the trend charts in real Chromium.

use cla_tracker::access::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::browser::{self, Browser};
use crate::helpers::{s, spawn_app, Backend, Resp, TestApp};
use crate::security::{add_org_in, add_user, audit_rows, browse, get_as, session_for, user_with_token};

both!(
    delays_band_late_ihas_by_working_days_with_reasons_sides_and_area,
    delays_are_scoped_like_the_kpi_report,
    delays_page_links_each_count_to_its_children,
    delays_page_and_trend_charts_render_in_chromium,
);

/// Every due date of the January to March 2026 cohorts has passed.
const TODAY: &str = "2026-04-20";
const MONTHS: &str = "from=2026-01&to=2026-03";

/// The county (IHA due dates are the 20th working day after day 0; nothing is recorded by
/// the due date, so each late IHA waited on the LA's notification then):
/// - A: in care Mon 5 Jan, due Mon 2 Feb, seen Mon 9 Feb: 5 working days late (1-5).
/// - B: in care Mon 12 Jan, due Mon 9 Feb, seen Tue 17 Feb: 6 (6-10).
/// - C: in care Mon 19 Jan out of area, due Mon 16 Feb, not seen by Mon 20 Apr: 43 (21+).
/// - D: in care Thu 5 Mar, due Thu 2 Apr, seen Tue 14 Apr: 6 over Easter (6-10), though
///   12 calendar days.
/// - E: in care Mon 5 Jan, seen Fri 30 Jan: on time, not late.
/// - G: DEV's child, in care Mon 5 Jan, due Mon 2 Feb, not seen: 53 (21+).
async fn county(app: &TestApp) -> Value {
    add_org_in(app, "local_authority", "DEV", Some("ICB")).await;
    let (a, _, iha_a) = app.child_in_care("K-A", "2015-01-01", "2026-01-05").await;
    app.complete_iha(&iha_a, "2026-02-09").await;
    let (b, _, iha_b) = app.child_in_care("K-B", "2015-01-01", "2026-01-12").await;
    app.complete_iha(&iha_b, "2026-02-17").await;
    let c = app.register("K-C", "2015-01-01").await;
    app.start_period_with(
        &s(&c["id"]),
        json!({"started_on": "2026-01-19", "legal_status": "C2",
               "placement": {"placement_type": "U4", "out_of_area": true, "host_la": "DEV",
                             "host_provider_email": "host.cla@devon.example.nhs.uk"}}),
    )
    .await;
    let (d, _, iha_d) = app.child_in_care("K-D", "2015-01-01", "2026-03-05").await;
    app.complete_iha(&iha_d, "2026-04-14").await;
    let (_, _, iha_e) = app.child_in_care("K-E", "2015-01-01", "2026-01-05").await;
    app.complete_iha(&iha_e, "2026-01-30").await;
    let g = app
        .register_with(json!({
            "local_id": "K-G", "given_name": "Amy", "family_name": "TestK-G",
            "date_of_birth": "2015-01-01", "sex": "F", "responsible_la": "DEV",
        }))
        .await;
    app.start_period(&s(&g["id"]), "2026-01-05", "C2").await;
    json!({"a": a, "b": b, "c": c["id"], "d": d, "g": g["id"]})
}

fn row<'a>(report: &'a Value, list: &str, key: &str) -> &'a Value {
    report[list]
        .as_array()
        .unwrap_or_else(|| panic!("{list} in {report}"))
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("{key} in {list}: {report}"))
}

/// (in area, out of area, total) of a row.
fn split(r: &Value) -> (u64, u64, u64) {
    let n = |k: &str| r[k].as_u64().unwrap_or(u64::MAX);
    (n("in_area"), n("out_of_area"), n("total"))
}

fn late_ids(report: &Value) -> Vec<String> {
    report["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|c| s(&c["local_id"]))
        .collect()
}

async fn delays_band_late_ihas_by_working_days_with_reasons_sides_and_area(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let ids = county(&app).await;
    let r = app.get_ok(&format!("/reports/delays?{MONTHS}&la=SOM")).await;
    assert_eq!(
        (r["from"].as_str(), r["to"].as_str()),
        (Some("2026-01"), Some("2026-03"))
    );
    assert_eq!(
        (r["late"].as_u64(), r["in_area"].as_u64(), r["out_of_area"].as_u64()),
        (Some(4), Some(3), Some(1)),
        "{r}"
    );
    assert_eq!(split(row(&r, "bands", "1-5")), (1, 0, 1), "A");
    assert_eq!(split(row(&r, "bands", "6-10")), (2, 0, 2), "B and D");
    assert_eq!(split(row(&r, "bands", "11-20")), (0, 0, 0));
    assert_eq!(split(row(&r, "bands", "21+")), (0, 1, 1), "C, out of area");
    assert_eq!(late_ids(&r), ["K-C", "K-B", "K-D", "K-A"], "the longest wait first");

    let child = |id: &Value| {
        r["children"]
            .as_array()
            .expect("children")
            .iter()
            .find(|c| c["child_id"] == *id)
            .unwrap_or_else(|| panic!("{id} in {r}"))
            .clone()
    };
    let a = child(&ids["a"]);
    assert_eq!(
        (a["working_days_late"].as_i64(), a["band"].as_str()),
        (Some(5), Some("1-5"))
    );
    assert_eq!(
        (a["due_on"].as_str(), a["seen_on"].as_str()),
        (Some("2026-02-02"), Some("2026-02-09"))
    );
    assert_eq!(child(&ids["b"])["working_days_late"], 6);
    let d = child(&ids["d"]);
    assert_eq!(
        (
            d["due_on"].as_str(),
            d["working_days_late"].as_i64(),
            d["month"].as_str()
        ),
        (Some("2026-04-02"), Some(6), Some("2026-03")),
        "Good Friday and Easter Monday are not working days"
    );
    let c = child(&ids["c"]);
    assert_eq!(
        (c["seen_on"].clone(), c["working_days_late"].as_i64()),
        (Value::Null, Some(43))
    );
    assert_eq!(c["out_of_area"], true);

    // Nothing was recorded by A's, B's and D's due dates: the LA's notification was late.
    for late in [&a, &d] {
        assert_eq!(late["reason"], "late_notification", "{late}");
        assert_eq!(
            (late["attribution"].as_str(), late["side"].as_str()),
            (Some("local_authority"), Some("local_authority"))
        );
    }
    // Each late IHA's reason and side are the KPI drill-down's for the same child.
    for month in ["2026-01", "2026-03"] {
        let drill = app
            .get_ok(&format!("/reports/kpi/iha_within_20_working_days/{month}?la=SOM"))
            .await;
        for entry in drill["children"]
            .as_array()
            .expect("children")
            .iter()
            .filter(|e| e["met"] == false)
        {
            let late = child(&entry["child_id"]);
            assert_eq!(
                (&late["reason"], &late["attribution"]),
                (&entry["reason"], &entry["attribution"]),
                "{entry}"
            );
        }
    }
    let reasons_total: u64 = r["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|x| split(x).2)
        .sum();
    assert_eq!(reasons_total, 4, "every late IHA has one reason");
    assert!(split(row(&r, "reasons", "late_notification")).0 >= 3, "{r}");
    let sides: Vec<&str> = r["sides"]
        .as_array()
        .expect("sides")
        .iter()
        .map(|x| x["key"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        sides,
        [
            "local_authority",
            "health",
            "host_provider",
            "young_person",
            "not_recorded"
        ]
    );
    let sides_total: u64 = r["sides"].as_array().expect("sides").iter().map(|x| split(x).2).sum();
    assert_eq!(sides_total, 4);

    let bad = app.get("/reports/delays?from=2026-03&to=2026-01").await;
    crate::helpers::assert_problem(&bad, 422, Some("to"), "to before from");
}

async fn delays_are_scoped_like_the_kpi_report(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    county(&app).await;
    let everyone = app.get_ok(&format!("/reports/delays?{MONTHS}")).await;
    assert_eq!(
        late_ids(&everyone),
        ["K-G", "K-C", "K-B", "K-D", "K-A"],
        "the ICB sees both authorities"
    );
    assert_eq!(split(row(&everyone, "bands", "21+")), (1, 1, 2));
    let dev_only = app.get_ok(&format!("/reports/delays?{MONTHS}&la=DEV")).await;
    assert_eq!(late_ids(&dev_only), ["K-G"]);

    let som = user_with_token(&app, "lead@som.gov.uk", "SOM", &[Role::Assurance]).await;
    let dev = user_with_token(&app, "lead@dev.gov.uk", "DEV", &[Role::Assurance]).await;
    let mine = get_as(&app, &som, &format!("/api/v1/reports/delays?{MONTHS}")).await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(
        late_ids(&mine.json),
        ["K-C", "K-B", "K-D", "K-A"],
        "SOM's children only"
    );
    let asked_for_other = get_as(&app, &som, &format!("/api/v1/reports/delays?{MONTHS}&la=DEV")).await;
    assert_eq!(
        late_ids(&asked_for_other.json),
        Vec::<String>::new(),
        "asking for DEV does not widen SOM's scope"
    );
    let theirs = get_as(&app, &dev, &format!("/api/v1/reports/delays?{MONTHS}")).await;
    assert_eq!(late_ids(&theirs.json), ["K-G"]);

    let doctor = user_with_token(&app, "doc@test.nhs.uk", "ICB", &[Role::Clinician]).await;
    let refused = get_as(&app, &doctor, &format!("/api/v1/reports/delays?{MONTHS}")).await;
    crate::security::assert_forbidden(&refused, "clinicians do not read the board's figures");
}

async fn page(app: &TestApp, session: &str, path: &str) -> Resp {
    browse(app, Method::GET, path, &[("cla_session", session)], None, &[]).await
}

async fn delays_page_links_each_count_to_its_children(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let ids = county(&app).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::Assurance]).await;
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;

    let reports = page(&app, &nurse, &format!("/reports?{MONTHS}")).await;
    assert_eq!(reports.status, 200, "{}", reports.text);
    assert!(
        reports
            .text
            .contains("href=\"/reports/delays?from=2026-01&amp;to=2026-03\""),
        "/reports links to the delay analysis of its months"
    );
    let audited_before = audit_rows(&app)
        .await
        .iter()
        .filter(|e| e.entity == "iha_delays")
        .count();
    let all = page(&app, &nurse, &format!("/reports/delays?{MONTHS}")).await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert!(all.text.contains("5 late"), "{}", all.text);
    // Askama escapes the links' `&` as `&#38;`.
    let out_21 = "/reports/delays?from=2026-01&#38;to=2026-03&#38;band=21%2B&#38;area=out#children";
    assert!(all.text.contains(&format!("href=\"{out_21}\">1<")), "{}", all.text);
    assert!(all
        .text
        .contains(&format!("href=\"/children/{}\">K-A</a>", s(&ids["a"]))));
    assert!(!all.text.contains("TestK-A"), "local ids only, no names");
    let audited = audit_rows(&app)
        .await
        .iter()
        .filter(|e| e.entity == "iha_delays")
        .count();
    assert!(audited > audited_before, "the page's read of children is on record");

    let narrowed = page(&app, &nurse, &format!("/reports/delays?{MONTHS}&band=21%2B&area=out")).await;
    assert_eq!(narrowed.status, 200, "{}", narrowed.text);
    assert!(narrowed
        .text
        .contains("Late IHAs: 21 or more working days late, out of area"));
    assert!(
        narrowed.text.contains(">K-C</a>")
            && !narrowed.text.contains(">K-G</a>")
            && !narrowed.text.contains(">K-A</a>")
    );
    let by_side = page(
        &app,
        &nurse,
        &format!("/reports/delays?{MONTHS}&side=local_authority&area=in"),
    )
    .await;
    assert!(
        by_side.text.contains(">K-A</a>") && !by_side.text.contains(">K-C</a>"),
        "{}",
        by_side.text
    );

    assert_eq!(
        page(&app, &nurse, &format!("/reports/delays?{MONTHS}&band=7"))
            .await
            .status,
        400
    );
    assert_eq!(page(&app, &nurse, "/reports/delays?from=2026-13").await.status, 400);
    add_user(&app, "doctor@test.nhs.uk", "ICB", &[Role::Clinician]).await;
    let doctor = session_for(&app, "doctor@test.nhs.uk").await;
    assert_eq!(page(&app, &doctor, "/reports/delays").await.status, 403);
}

async fn delays_page_and_trend_charts_render_in_chromium(b: Backend) {
    if !browser::available("delays_page_and_trend_charts_render_in_chromium") {
        return;
    }
    let app = spawn_app(b, TODAY).await;
    county(&app).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::Assurance]).await;
    let browser = Browser::open(&app).await;
    browser.sign_in("nurse@test.nhs.uk").await;

    browser.goto(&format!("/reports?{MONTHS}")).await;
    let chart = browser
        .script(
            "const svg = document.querySelector('svg.app-chart[role=img]');
             const ids = (svg.getAttribute('aria-labelledby') || '').split(' ');
             // February has no point, so January and March are single points, no line.
             const line = svg.querySelector('.app-chart__line, .app-chart__point');
             const hollow = svg.querySelector('.app-chart__point--provisional');
             return {
               charts: document.querySelectorAll('svg.app-chart').length,
               named: ids.every(id => document.getElementById(id) && svg.contains(document.getElementById(id))),
               title: svg.querySelector('title').textContent,
               desc: svg.querySelector('desc').textContent,
               points: svg.querySelectorAll('circle').length,
               stroke: line ? getComputedStyle(line).stroke : null,
               hollow_fill: hollow ? getComputedStyle(hollow).fill : null,
               drawn: svg.getBoundingClientRect().height > 100,
               inline_style: document.querySelectorAll('[style], style').length,
             };",
        )
        .await;
    assert_eq!(chart["charts"], 6, "one chart per measure: {chart}");
    assert_eq!(chart["named"], true, "title and description name the image: {chart}");
    assert_eq!(
        chart["title"],
        "Initial health assessments within 20 working days: per cent met each month"
    );
    assert!(
        chart["desc"]
            .as_str()
            .unwrap_or("")
            .contains("0 of the 2 months with children met the target"),
        "{chart}"
    );
    assert_eq!(
        chart["points"], 2,
        "January and March had IHAs due, February none: {chart}"
    );
    assert_eq!(
        chart["stroke"], "rgb(0, 94, 184)",
        "the stylesheet's classes apply under the CSP: {chart}"
    );
    assert_eq!(chart["drawn"], true, "{chart}");
    assert_eq!(
        chart["inline_style"], 0,
        "nothing for the strict CSP to refuse: {chart}"
    );
    browser.check_page("reports-charts").await;

    browser.goto(&format!("/reports/delays?{MONTHS}")).await;
    assert!(browser
        .text()
        .await
        .contains("How late, in working days after the due date"));
    browser.check_page("reports-delays").await;
    browser.submit("a[href*='band=6-10'][href*='area=in']").await;
    assert!(browser.path().await.contains("band=6-10"), "{}", browser.path().await);
    assert!(browser
        .text()
        .await
        .contains("Late IHAs: 6 to 10 working days late, in area"));
    browser.close().await;
}
