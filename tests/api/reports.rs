//! The monthly KPIs through the API: a small county whose January 2026 figures are worked
//! out by hand here, the drill-down behind each figure, the CSV, and refusals of bad input.

use cla_tracker::access::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, s, spawn_app, Backend, Resp, TestApp};
use crate::security::{add_user, browse, session_for};

both!(
    kpi_iha_within_20_working_days_counts_januarys_new_periods_with_their_reasons,
    kpi_dental_check_counts_children_settled_twelve_months_at_the_month_end,
    kpi_figures_narrow_to_the_local_authorities_asked_for,
    kpi_csv_has_one_row_per_measure_and_month,
    kpi_refuses_bad_months_and_unknown_measures,
    monthly_performance_pages_link_each_figure_to_its_children,
    kpi_leaving_care_summary_counts_a_summary_given_by_the_18th_birthday,
);

const TODAY: &str = "2026-03-02";

/// January 2026's county (IHA due dates are the 20th working day after day 0):
/// - A: in care Mon 5 Jan, due Mon 2 Feb, seen Fri 30 Jan: met.
/// - B: in care Mon 12 Jan, due Mon 9 Feb, every step first recorded on Thu 12 Feb: missed,
///   and on its due date it still waited on the LA's notification.
/// - C: in care Mon 19 Jan, due Mon 16 Feb, nothing recorded: missed (notification).
/// - D: short breaks (V3) from 20 Jan: no IHA due, not in the cohort.
/// - E: in care Fri 19 Dec 2025: December's cohort.
/// - K1, K2: in care since 1 Jun 2024; K1 had a dental check on 1 Jun 2025, K2 none.
async fn county(app: &TestApp) -> Value {
    let (a, _, iha_a) = app.child_in_care("K-A", "2015-01-01", "2026-01-05").await;
    app.complete_iha(&iha_a, "2026-01-30").await;
    let (b, _, iha_b) = app.child_in_care("K-B", "2015-01-01", "2026-01-12").await;
    app.complete_iha(&iha_b, "2026-02-12").await;
    let (c, _, _) = app.child_in_care("K-C", "2015-01-01", "2026-01-19").await;
    let d = app.register("K-D", "2015-01-01").await;
    app.start_period(&s(&d["id"]), "2026-01-20", "V3").await;
    app.child_in_care("K-E", "2015-01-01", "2025-12-19").await;
    let (k1, _, _) = app.child_in_care("K-K1", "2012-01-01", "2024-06-01").await;
    app.post(
        &format!("/children/{k1}/health-checks"),
        &json!({"kind": "dental", "checked_on": "2025-06-01"}),
    )
    .await
    .expect(201, "a dental check");
    let (k2, _, _) = app.child_in_care("K-K2", "2012-01-01", "2024-06-01").await;
    json!({"a": a, "b": b, "c": c, "k1": k1, "k2": k2})
}

fn month<'a>(report: &'a Value, measure: &str, month: &str) -> &'a Value {
    let m = report["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .find(|m| m["measure"] == measure)
        .unwrap_or_else(|| panic!("measure {measure} in {report}"));
    assert_eq!(m["target_percent"], 90);
    m["months"]
        .as_array()
        .expect("months")
        .iter()
        .find(|f| f["month"] == month)
        .unwrap_or_else(|| panic!("{month} of {measure}"))
}

fn by_child<'a>(list: &'a Value, child: &Value) -> &'a Value {
    list["children"]
        .as_array()
        .expect("children")
        .iter()
        .find(|c| c["child_id"] == *child)
        .unwrap_or_else(|| panic!("{child} in {list}"))
}

async fn kpi_iha_within_20_working_days_counts_januarys_new_periods_with_their_reasons(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let ids = county(&app).await;
    let report = app.get_ok("/reports/kpi?from=2025-12&to=2026-02").await;
    assert_eq!(
        (report["from"].as_str(), report["to"].as_str()),
        (Some("2025-12"), Some("2026-02"))
    );
    let jan = month(&report, "iha_within_20_working_days", "2026-01");
    assert_eq!(
        (jan["numerator"].as_u64(), jan["denominator"].as_u64()),
        (Some(1), Some(3)),
        "{jan}"
    );
    assert_eq!(jan["percent"], 33.3);
    assert_eq!(jan["provisional"], false, "every due date has passed");
    assert_eq!(jan["refused"], 0);
    let dec = month(&report, "iha_within_20_working_days", "2025-12");
    assert_eq!(dec["denominator"], 1, "E's period started in December");
    let feb = month(&report, "iha_within_20_working_days", "2026-02");
    assert_eq!(
        (feb["denominator"].as_u64(), feb["percent"].clone()),
        (Some(0), Value::Null)
    );

    let list = app.get_ok("/reports/kpi/iha_within_20_working_days/2026-01").await;
    assert_eq!(
        list["children"].as_array().map(Vec::len),
        Some(3),
        "everyone in the denominator"
    );
    assert_eq!(by_child(&list, &ids["a"])["met"], true);
    assert_eq!(by_child(&list, &ids["a"])["local_id"], "K-A");
    for late in [&ids["b"], &ids["c"]] {
        let entry = by_child(&list, late);
        assert_eq!(entry["met"], false);
        assert_eq!(entry["reason"], "late_notification", "{entry}");
        assert_eq!(entry["attribution"], "local_authority", "{entry}");
    }
    assert_eq!(by_child(&list, &ids["b"])["done_on"], "2026-02-12");
}

async fn kpi_dental_check_counts_children_settled_twelve_months_at_the_month_end(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let ids = county(&app).await;
    let report = app.get_ok("/reports/kpi?from=2026-01&to=2026-01").await;
    let jan = month(&report, "dental_check", "2026-01");
    assert_eq!(
        (jan["numerator"].as_u64(), jan["denominator"].as_u64()),
        (Some(1), Some(2)),
        "{jan}"
    );
    assert_eq!(jan["percent"], 50.0);
    let list = app.get_ok("/reports/kpi/dental_check/2026-01").await;
    assert_eq!(by_child(&list, &ids["k1"])["met"], true);
    assert_eq!(by_child(&list, &ids["k2"])["reason"], "no_dental_check");
    // Both were 13 in January: in the SDQ cohort, neither with a score.
    let sdq = month(&report, "sdq_score", "2026-01");
    assert_eq!(
        (sdq["numerator"].as_u64(), sdq["denominator"].as_u64()),
        (Some(0), Some(2))
    );
}

async fn kpi_figures_narrow_to_the_local_authorities_asked_for(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    county(&app).await;
    let ours = app.get_ok("/reports/kpi?from=2026-01&to=2026-01&la=SOM").await;
    assert_eq!(month(&ours, "iha_within_20_working_days", "2026-01")["denominator"], 3);
    let other = app.get_ok("/reports/kpi?from=2026-01&to=2026-01&la=DEV,CORN").await;
    assert_eq!(month(&other, "iha_within_20_working_days", "2026-01")["denominator"], 0);
    let list = app.get_ok("/reports/kpi/dental_check/2026-01?la=DEV").await;
    assert_eq!(list["children"].as_array().map(Vec::len), Some(0));
}

async fn kpi_csv_has_one_row_per_measure_and_month(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    county(&app).await;
    let r = app.get("/reports/kpi.csv?from=2025-12&to=2026-01").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.content_type().starts_with("text/csv"), "{}", r.content_type());
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(
        lines[0],
        "measure,month,numerator,denominator,percent,target_percent,provisional,refused,\
         published_numerator,published_denominator,published_percent,restated"
    );
    assert_eq!(lines.len(), 1 + 6 * 2, "six measures, two months");
    assert!(
        lines.contains(&"iha_within_20_working_days,2026-01,1,3,33.3,90,false,0,,,,false"),
        "{lines:?}"
    );
}

async fn kpi_refuses_bad_months_and_unknown_measures(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    for (query, field) in [
        ("from=2026-1&to=2026-02", "from"),
        ("from=2026-03&to=2026-02", "to"),
        ("from=2020-01&to=2026-02", "to"),
        ("from=2026-01&to=2026-13", "to"),
        ("from=2026-01&to=2026-02&la=SOM;DROP", "la"),
    ] {
        let r = app.get(&format!("/reports/kpi?{query}")).await;
        assert_problem(&r, 422, Some(field), query);
    }
    let r = app.get("/reports/kpi?from=2026-01").await;
    assert_eq!(r.status, 400, "to is required: {}", r.text);
    let r = app.get("/reports/kpi/average_mood/2026-01").await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = app.get("/reports/kpi/dental_check/January").await;
    assert_problem(&r, 422, Some("month"), "a month that is not YYYY-MM");
}

async fn page(app: &TestApp, session: &str, path: &str) -> Resp {
    browse(app, Method::GET, path, &[("cla_session", session)], None, &[]).await
}

async fn monthly_performance_pages_link_each_figure_to_its_children(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let ids = county(&app).await;
    add_user(&app, "nurse@test.nhs.uk", "ICB", &[Role::Assurance]).await;
    add_user(&app, "doctor@test.nhs.uk", "ICB", &[Role::Clinician]).await;
    let nurse = session_for(&app, "nurse@test.nhs.uk").await;
    let doctor = session_for(&app, "doctor@test.nhs.uk").await;

    let r = page(&app, &nurse, "/reports?from=2026-01&to=2026-02").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Initial health assessments within 20 working days"));
    assert!(
        r.text
            .contains("href=\"/reports/iha_within_20_working_days/2026-01\">1 of 3"),
        "{}",
        r.text
    );
    assert!(r.text.contains("33.3%"));
    assert!(r.text.contains("Below target"), "the figure against 90% in words");
    let default = page(&app, &nurse, "/reports").await;
    assert_eq!(default.status, 200, "the financial year so far by default");
    assert!(
        default.text.contains("Apr 2025") && default.text.contains("Mar 2026"),
        "{}",
        default.text
    );

    let list = page(&app, &nurse, "/reports/iha_within_20_working_days/2026-01").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(
        list.text
            .contains(&format!("href=\"/children/{}\">K-B</a>", s(&ids["b"]))),
        "{}",
        list.text
    );
    assert!(list.text.contains("Late notification") && list.text.contains("Local authority"));
    assert!(!list.text.contains("TestK-B"), "local ids only, no names");

    assert_eq!(
        page(&app, &doctor, "/reports").await.status,
        403,
        "clinicians do not read the board's figures"
    );
    assert_eq!(page(&app, &nurse, "/reports?from=2026-13").await.status, 400);
    assert_eq!(page(&app, &nurse, "/reports/mood/2026-01").await.status, 404);
}

/// DOMAIN.md: of the young people who turn 18 in the month while looked after, those given
/// a health leaving-care summary on or before the birthday.
async fn kpi_leaving_care_summary_counts_a_summary_given_by_the_18th_birthday(b: Backend) {
    let app = spawn_app(b, "2026-07-01").await;
    // Both turn 18 in June 2026; the summaries are offered from 6 months before.
    let (given, _, _) = app.child_in_care("LC-G", "2008-06-10", "2025-01-06").await;
    let (not_given, _, _) = app.child_in_care("LC-N", "2008-06-20", "2025-01-06").await;
    crate::security::with_db(&app, |conn| {
        let day = "2025-12-20".parse().expect("date");
        cla_tracker::service::care::sweep(conn, day).expect("the sweep runs")
    })
    .await;
    let record = app.child(&given).await;
    let summary = record["health_obligations"]
        .as_array()
        .and_then(|list| list.iter().find(|o| o["kind"] == "leaving_care_summary"))
        .expect("the summary is offered");
    app.post(
        &format!("/obligations/{}/completion", s(&summary["id"])),
        &json!({"completed_on": "2026-06-01"}),
    )
    .await
    .expect(200, "summary given before the birthday");

    let report = app.get_ok("/reports/kpi?from=2026-06&to=2026-06").await;
    let june = month(&report, "leaving_care_summary", "2026-06");
    assert_eq!(
        (june["numerator"].as_u64(), june["denominator"].as_u64()),
        (Some(1), Some(2)),
        "{june}"
    );
    let list = app.get_ok("/reports/kpi/leaving_care_summary/2026-06").await;
    assert_eq!(by_child(&list, &Value::String(given))["met"], true, "{list}");
    assert_eq!(by_child(&list, &Value::String(not_given))["met"], false, "{list}");
}
