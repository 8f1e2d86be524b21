//! Published KPI figures (issue 12; DOMAIN.md: "a figure once published is kept as
//! published, and a recomputation shows what changed (a restatement), never silently a
//! different number"), and the XLSX download read back and compared with the JSON.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};
use cla_tracker::access::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, s, spawn_app, Backend, TestApp};
use crate::security::{add_user, browse, get_as, post_as, session_for, user_with_token, with_db};

both!(
    a_published_figure_is_kept_and_a_late_recorded_outcome_is_shown_as_a_restatement,
    a_month_is_published_once_per_scope,
    only_a_month_that_has_ended_can_be_published,
    a_local_authority_user_publishes_and_sees_only_their_own_authority,
    the_xlsx_download_holds_the_json_figures_and_no_names,
    the_reports_page_says_a_published_figure_has_changed_and_publishes_with_confirmation,
);

const TODAY: &str = "2026-03-02";

/// January 2026 in SOM (IHA due on the 20th working day after the period starts):
/// - A: in care Mon 5 Jan, seen Fri 30 Jan, due Mon 2 Feb: met.
/// - B: in care Mon 12 Jan, seen Thu 12 Feb, due Mon 9 Feb: missed.
/// - C: in care Mon 19 Jan, due Mon 16 Feb, nothing recorded yet: missed.
///
/// So January's IHA figure is 1 of 3. Returns C's child and IHA ids.
async fn january(app: &TestApp) -> (String, String) {
    let (_, _, iha_a) = app.child_in_care("P-A", "2015-01-01", "2026-01-05").await;
    app.complete_iha(&iha_a, "2026-01-30").await;
    let (_, _, iha_b) = app.child_in_care("P-B", "2015-01-01", "2026-01-12").await;
    app.complete_iha(&iha_b, "2026-02-12").await;
    let (c, _, iha_c) = app.child_in_care("P-C", "2015-01-01", "2026-01-19").await;
    (c, iha_c)
}

fn figure<'a>(report: &'a Value, measure: &str, month: &str) -> &'a Value {
    report["measures"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["measure"] == measure))
        .and_then(|m| m["months"].as_array())
        .and_then(|fs| fs.iter().find(|f| f["month"] == month))
        .unwrap_or_else(|| panic!("{measure} {month} in {report}"))
}

fn counts(v: &Value) -> (u64, u64) {
    (
        v["numerator"].as_u64().expect("numerator"),
        v["denominator"].as_u64().expect("denominator"),
    )
}

async fn publish(app: &TestApp, path: &str) -> Value {
    app.post(path, &json!({})).await.expect(201, path)
}

async fn a_published_figure_is_kept_and_a_late_recorded_outcome_is_shown_as_a_restatement(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (c, iha_c) = january(&app).await;
    let published = publish(&app, "/reports/kpi/2026-01/publication").await;
    assert_eq!(published["month"], "2026-01");
    assert_eq!(published["provisional"], false, "every January due date has passed");
    let iha = published["figures"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["measure"] == "iha_within_20_working_days"))
        .expect("the IHA figure");
    assert_eq!(counts(iha), (1, 3));

    let before = app.get_ok("/reports/kpi?from=2026-01&to=2026-01").await;
    let jan = figure(&before, "iha_within_20_working_days", "2026-01");
    assert_eq!(counts(&jan["published"]), (1, 3));
    assert_eq!(jan["restated"], false, "nothing has changed yet");

    // Recorded late: C was in fact seen on Fri 13 Feb, before the due date.
    app.complete_iha(&iha_c, "2026-02-13").await;

    let after = app.get_ok("/reports/kpi?from=2026-01&to=2026-01").await;
    let jan = figure(&after, "iha_within_20_working_days", "2026-01");
    assert_eq!(counts(jan), (2, 3), "the figure computed now");
    assert_eq!(counts(&jan["published"]), (1, 3), "the published figure is kept");
    assert_eq!(jan["published"]["percent"], 33.3);
    assert_eq!(jan["published"]["changed"], 1);
    assert_eq!(jan["restated"], true);
    let dental = figure(&after, "dental_check", "2026-01");
    assert_eq!(dental["restated"], false, "the other measures did not change");

    let r = app
        .get_ok("/reports/kpi/iha_within_20_working_days/2026-01/restatement")
        .await;
    assert_eq!(counts(&r["published"]), (1, 3));
    assert_eq!(counts(&r["current"]), (2, 3));
    let children = r["children"].as_array().expect("children");
    assert_eq!(children.len(), 1, "exactly the child whose outcome changed: {r}");
    assert_eq!(children[0]["child_id"], c.as_str());
    assert_eq!(children[0]["local_id"], "P-C");
    assert_eq!(
        (children[0]["before"].as_str(), children[0]["after"].as_str()),
        (Some("missed"), Some("met"))
    );

    let csv = app.get("/reports/kpi.csv?from=2026-01&to=2026-01").await;
    assert!(
        csv.text
            .lines()
            .any(|l| l == "iha_within_20_working_days,2026-01,2,3,66.7,90,false,0,1,3,33.3,true"),
        "{}",
        csv.text
    );
    let r = app
        .get("/reports/kpi/iha_within_20_working_days/2025-12/restatement")
        .await;
    assert_problem(&r, 404, None, "December was never published");
}

async fn a_month_is_published_once_per_scope(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    january(&app).await;
    // A second authority, so that the ICB's scope is not SOM's alone.
    with_db(&app, |conn| crate::helpers::add_org(conn, "local_authority", "DEV")).await;
    publish(&app, "/reports/kpi/2026-01/publication").await;
    let again = app.post("/reports/kpi/2026-01/publication", &json!({})).await;
    assert_problem(&again, 409, None, "the second publication of January");
    assert!(again.detail().contains("already published"), "{}", again.text);
    // Narrowed to SOM it is another scope (the ICB covers every authority in it).
    publish(&app, "/reports/kpi/2026-01/publication?la=SOM").await;
    let again = app.post("/reports/kpi/2026-01/publication?la=SOM", &json!({})).await;
    assert_problem(&again, 409, None, "SOM's January again");
    let list = app.get_ok("/reports/kpi/publications").await;
    assert_eq!(list["publications"].as_array().map(Vec::len), Some(2), "{list}");
    // The database refuses a second row however it is written.
    let refused = with_db(&app, |conn| {
        use diesel::prelude::*;
        diesel::sql_query(
            "INSERT INTO kpi_publications (id, month, scope, provisional, published_by, published_at) \
             VALUES ('x', '2026-01', 'SOM', 0, NULL, '2026-03-02 10:00:00')",
        )
        .execute(conn)
        .is_err()
    })
    .await;
    assert!(refused, "UNIQUE (month, scope) holds in the database itself");
}

async fn only_a_month_that_has_ended_can_be_published(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let r = app.post("/reports/kpi/2026-03/publication", &json!({})).await;
    assert_problem(&r, 422, Some("month"), "March is not over on 2 March");
    let r = app.post("/reports/kpi/2026-13/publication", &json!({})).await;
    assert_problem(&r, 422, Some("month"), "not a month");
    // February is over; its IHA due dates are not all passed, so it is stored provisional.
    app.child_in_care("P-F", "2015-01-01", "2026-02-23").await;
    let feb = publish(&app, "/reports/kpi/2026-02/publication").await;
    assert_eq!(feb["provisional"], true, "{feb}");
}

async fn a_local_authority_user_publishes_and_sees_only_their_own_authority(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    january(&app).await;
    with_db(&app, |conn| crate::helpers::add_org(conn, "local_authority", "DEV")).await;
    let som = user_with_token(&app, "som-nurse@test.nhs.uk", "SOM", &[Role::Assurance]).await;
    let dev = user_with_token(&app, "dev-nurse@test.nhs.uk", "DEV", &[Role::Assurance]).await;
    let reader = user_with_token(&app, "reader@test.nhs.uk", "ICB", &[Role::ReadOnly]).await;

    // The ICB-wide publication is not an authority's to see.
    publish(&app, "/reports/kpi/2026-01/publication").await;
    let r = get_as(&app, &som, "/reports/kpi/publications").await;
    assert_eq!(r.json["publications"], json!([]), "{}", r.text);

    let r = post_as(&app, &dev, "/reports/kpi/2026-01/publication?la=SOM", &json!({})).await;
    assert_problem(&r, 422, Some("la"), "DEV's nurse publishing SOM");
    let r = post_as(&app, &som, "/reports/kpi/2026-01/publication", &json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["local_authorities"], json!(["SOM"]));
    let r = post_as(&app, &reader, "/reports/kpi/2026-01/publication", &json!({})).await;
    assert_eq!(r.status, 403, "read-only users do not publish: {}", r.text);

    let r = get_as(&app, &dev, "/reports/kpi/publications").await;
    assert_eq!(
        r.json["publications"],
        json!([]),
        "SOM's publication is not DEV's: {}",
        r.text
    );
    let r = get_as(
        &app,
        &dev,
        "/reports/kpi/iha_within_20_working_days/2026-01/restatement",
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = get_as(&app, &som, "/reports/kpi/publications").await;
    assert_eq!(r.json["publications"].as_array().map(Vec::len), Some(1), "{}", r.text);
    let r = get_as(&app, &som, "/reports/kpi?from=2026-01&to=2026-01").await;
    let jan = figure(&r.json, "iha_within_20_working_days", "2026-01");
    assert_eq!(
        counts(&jan["published"]),
        (1, 3),
        "SOM's own publication beside its figure"
    );
    // The ICB's nurse sees both.
    let list = app.get_ok("/reports/kpi/publications").await;
    assert_eq!(list["publications"].as_array().map(Vec::len), Some(2), "{list}");
}

fn cell(range: &calamine::Range<Data>, row: u32, col: u32) -> Data {
    range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
}

async fn the_xlsx_download_holds_the_json_figures_and_no_names(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    january(&app).await;
    let query = "from=2025-04&to=2026-03";
    let report = app.get_ok(&format!("/reports/kpi?{query}")).await;
    let res = app
        .client
        .get(app.url(&format!("/reports/kpi.xlsx?{query}")))
        .send()
        .await
        .expect("the download");
    assert_eq!(res.status().as_u16(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        header("content-type"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"kpi-2025-04-to-2026-03.xlsx\""
    );
    let bytes = res.bytes().await.expect("the file").to_vec();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("an XLSX file");

    let sheet = book.worksheet_range("Measures").expect("the Measures sheet");
    assert_eq!(
        cell(&sheet, 0, 0),
        Data::String("Health assessments of children looked after: financial year 2025-26".into())
    );
    assert_eq!(cell(&sheet, 3, 2), Data::String("Apr 2025".into()));
    assert_eq!(cell(&sheet, 3, 13), Data::String("Mar 2026".into()));
    let measures = report["measures"].as_array().expect("measures");
    let first = cla_tracker::service::kpi_workbook::FIRST_BLOCK_ROW;
    let step = cla_tracker::service::kpi_workbook::BLOCK_ROWS.len() as u32 + 1;
    for (b, m) in measures.iter().enumerate() {
        let top = first + b as u32 * step;
        assert_eq!(cell(&sheet, top, 0), Data::String(s(&m["title"])));
        for (i, f) in m["months"].as_array().expect("months").iter().enumerate() {
            let col = i as u32 + 2;
            let what = format!("{} {}", m["measure"], f["month"]);
            assert_eq!(
                cell(&sheet, top, col),
                Data::Float(f["numerator"].as_f64().unwrap_or(-1.0)),
                "{what}"
            );
            assert_eq!(
                cell(&sheet, top + 1, col),
                Data::Float(f["denominator"].as_f64().unwrap_or(-1.0)),
                "{what}"
            );
            let percent = f["percent"].as_f64().map_or(Data::String("-".into()), Data::Float);
            assert_eq!(cell(&sheet, top + 2, col), percent, "{what}");
            assert_eq!(cell(&sheet, top + 3, col), Data::Float(90.0), "{what}");
        }
    }

    let kids = book.worksheet_range("Children").expect("the Children sheet");
    let rows: Vec<Vec<String>> = kids.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    let listed: u64 = measures
        .iter()
        .flat_map(|m| m["months"].as_array().cloned().unwrap_or_default())
        .map(|f| f["denominator"].as_u64().unwrap_or(0) + f["refused"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        rows.len() as u64,
        1 + listed,
        "a heading and everyone behind every figure"
    );
    assert!(rows.contains(&vec![
        "P-B".to_string(),
        "SOM".into(),
        "iha_within_20_working_days".into(),
        "2026-01".into(),
        "missed".into(),
        "late_notification".into(),
        "local_authority".into(),
        "In the figure".into(),
        "No".into(),
    ]));
    let everything = rows.concat().join(" ");
    assert!(!everything.contains("Test") && !everything.contains("Amy"), "no names");
    assert!(!everything.contains("2015-01-01"), "no dates of birth");
}

async fn the_reports_page_says_a_published_figure_has_changed_and_publishes_with_confirmation(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (c, iha_c) = january(&app).await;
    add_user(&app, "board@test.nhs.uk", "ICB", &[Role::Assurance]).await;
    add_user(&app, "viewer@test.nhs.uk", "ICB", &[Role::ReadOnly]).await;
    let nurse = session_for(&app, "board@test.nhs.uk").await;
    let viewer = session_for(&app, "viewer@test.nhs.uk").await;
    let cookies = [("cla_session", nurse.as_str())];
    let page = browse(
        &app,
        Method::GET,
        "/reports?from=2026-01&to=2026-02",
        &cookies,
        None,
        &[],
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Publish a month"), "{}", page.text);
    let csrf = crate::security::hidden_csrf(&page.text).expect("the publish form carries the csrf token");
    let viewing = browse(
        &app,
        Method::GET,
        "/reports?from=2026-01&to=2026-02",
        &[("cla_session", &viewer)],
        None,
        &[],
    )
    .await;
    assert!(
        !viewing.text.contains("Publish a month"),
        "read-only users are not offered it"
    );

    // Without the confirmation: the form again, with the error.
    // The form posts to the page's own months and authorities.
    let action = "/reports/publications?from=2026-01&to=2026-02";
    assert!(
        page.text
            .contains(&format!("action=\"{}\"", action.replace('&', "&#38;")))
            || page.text.contains(&format!("action=\"{action}\"")),
        "{}",
        page.text
    );
    let form = [("csrf", csrf.as_str()), ("month", "2026-01")];
    let r = browse(&app, Method::POST, action, &cookies, Some(&form), &[]).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.text.contains("There is a problem") && r.text.contains("<title>Error: "),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("<option value=\"2026-01\" selected>"),
        "the month chosen is kept: {}",
        r.text
    );
    let confirmed = [("csrf", csrf.as_str()), ("month", "2026-01"), ("confirm", "yes")];
    let r = browse(&app, Method::POST, action, &cookies, Some(&confirmed), &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let back = r
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_eq!(back, "/reports?from=2026-01&to=2026-02&published=2026-01");
    let shown = browse(&app, Method::GET, &back, &cookies, None, &[]).await;
    assert!(shown.text.contains("January 2026 is published"), "{}", shown.text);
    assert!(
        !shown.text.contains("<option value=\"2026-01\""),
        "a published month is not offered again"
    );

    app.complete_iha(&iha_c, "2026-02-13").await;
    let page = browse(
        &app,
        Method::GET,
        "/reports?from=2026-01&to=2026-02",
        &cookies,
        None,
        &[],
    )
    .await;
    assert!(
        page.text.contains("Published 33.3%; now 66.7%, 1 child changed"),
        "{}",
        page.text
    );
    let link = "/reports/iha_within_20_working_days/2026-01/restatement";
    assert!(page.text.contains(&format!("href=\"{link}\"")), "{}", page.text);
    let r = browse(&app, Method::GET, link, &cookies, None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains(&format!("href=\"/children/{c}\">P-C</a>")),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("Missed") && r.text.contains("Met"),
        "before and after in words"
    );
    let again = browse(&app, Method::POST, action, &cookies, Some(&confirmed), &[]).await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert!(again.text.contains("already published"), "{}", again.text);
}
