//! Working-day arithmetic and bank holidays over HTTP (DOMAIN.md's worked examples).

use serde_json::Value;

use crate::helpers::{assert_problem, s, spawn_app, Backend};

both!(
    worked_examples_of_the_iha_due_date,
    holidays_of_2022_include_the_one_off_days,
    calendar_queries_are_validated
);

fn skipped(answer: &Value) -> Vec<(String, String)> {
    answer["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|d| (s(&d["date"]), s(&d["reason"])))
        .collect()
}

#[track_caller]
fn assert_skipped(answer: &Value, date: &str, reason: &str) {
    let list = skipped(answer);
    assert!(
        list.iter().any(|(d, r)| d == date && r.contains(reason)),
        "{date} skipped as {reason:?}: {list:?}"
    );
}

async fn worked_examples_of_the_iha_due_date(b: Backend) {
    let app = spawn_app(b, "2026-02-16").await;

    let a = app.get_ok("/calendar/add-working-days?from=2025-12-19&days=20").await;
    assert_eq!(a["date"], "2026-01-21", "Fri 19 Dec 2025 -> Wed 21 Jan 2026");
    assert_skipped(&a, "2025-12-25", "Christmas Day");
    assert_skipped(&a, "2025-12-26", "Boxing Day");
    assert_skipped(&a, "2026-01-01", "New Year");
    assert_skipped(&a, "2025-12-20", "Saturday");
    assert_eq!(
        skipped(&a).len(),
        13,
        "3 holidays and 10 weekend days: {:?}",
        skipped(&a)
    );
    assert!(
        !skipped(&a).iter().any(|(d, _)| d == "2025-12-24" || d == "2025-12-31"),
        "24 and 31 December are working days"
    );

    let b2 = app.get_ok("/calendar/add-working-days?from=2026-03-28&days=20").await;
    assert_eq!(b2["date"], "2026-04-28", "Sat 28 Mar 2026 -> Tue 28 Apr 2026");
    assert_skipped(&b2, "2026-04-03", "Good Friday");
    assert_skipped(&b2, "2026-04-06", "Easter Monday");
    assert!(
        !skipped(&b2).iter().any(|(d, _)| d == "2026-03-28"),
        "day 0 itself is never counted or listed"
    );

    let c = app.get_ok("/calendar/add-working-days?from=2022-05-27&days=20").await;
    assert_eq!(c["date"], "2022-06-28", "Fri 27 May 2022 -> Tue 28 Jun 2022");
    assert_skipped(&c, "2022-06-02", "Spring");
    assert_skipped(&c, "2022-06-03", "Platinum Jubilee");

    let zero = app.get_ok("/calendar/add-working-days?from=2025-12-25&days=0").await;
    assert_eq!(zero["date"], "2025-12-25");
    let back = app.get_ok("/calendar/add-working-days?from=2026-01-21&days=-20").await;
    assert_eq!(back["date"], "2025-12-19", "counting back inverts counting forward");
}

async fn holidays_of_2022_include_the_one_off_days(b: Backend) {
    let app = spawn_app(b, "2026-02-16").await;
    let list = app.get_ok("/calendar/holidays?from=2022-01-01&to=2022-12-31").await;
    let days: Vec<(String, String)> = list["items"]
        .as_array()
        .expect("a page of holidays")
        .iter()
        .map(|h| (s(&h["date"]), s(&h["title"])))
        .collect();
    let dates: Vec<&str> = days.iter().map(|(d, _)| d.as_str()).collect();
    assert_eq!(
        dates,
        [
            "2022-01-03",
            "2022-04-15",
            "2022-04-18",
            "2022-05-02",
            "2022-06-02",
            "2022-06-03",
            "2022-08-29",
            "2022-09-19",
            "2022-12-26",
            "2022-12-27"
        ],
        "England and Wales 2022: {days:?}"
    );
    assert!(days[5].1.contains("Platinum Jubilee"), "{days:?}");
    assert!(days[7].1.contains("State Funeral"), "{days:?}");
    assert!(
        !dates.contains(&"2022-05-30"),
        "the spring holiday moved from the last Monday in May"
    );

    let one_day = app.get_ok("/calendar/holidays?from=2022-09-19&to=2022-09-19").await;
    assert_eq!(
        one_day["items"].as_array().map(Vec::len),
        Some(1),
        "both ends are inclusive"
    );
    assert_eq!(one_day["total"], 1);
}

async fn calendar_queries_are_validated(b: Backend) {
    let app = spawn_app(b, "2026-02-16").await;
    for (q, status, field) in [
        ("/calendar/holidays?from=2022-12-31&to=2022-01-01", 422, "to"),
        ("/calendar/holidays?from=1900-01-01&to=2100-01-01", 422, "to"),
        ("/calendar/holidays?from=2022-02-30&to=2022-12-31", 400, "from"),
        ("/calendar/holidays?from=2022-01-01&to=2022-12-31&x=1", 400, "x"),
        ("/calendar/add-working-days?from=2025-12-19&days=5001", 422, "days"),
        ("/calendar/add-working-days?from=2025-12-19&days=-5001", 422, "days"),
        ("/calendar/add-working-days?from=2025-12-19&days=twenty", 400, "days"),
        (
            "/calendar/add-working-days?from=2025-12-19&days=99999999999",
            400,
            "days",
        ),
        ("/calendar/add-working-days?from=19/12/2025&days=20", 400, "from"),
    ] {
        let r = app.get(q).await;
        assert_problem(&r, status, Some(field), q);
    }
    let r = app.get("/calendar/holidays?from=2022-01-01").await;
    assert_problem(&r, 400, None, "missing to");
}
