//! Importing GOV.UK's bank holidays from the admin console and the API: a preview that
//! shows what changes (holidays, and the open IHA due dates that move) and writes nothing,
//! then a confirmed import that moves them, audited and in force at once. Only the ICB's
//! administrators may; every page form carries its CSRF token.

use chrono::{Datelike, NaiveDate};
use cla_tracker::access::Role;
use cla_tracker::calendar::{govuk, Holiday};
use cla_tracker::service::calendar_store;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, s, spawn_app, Backend, Resp, TestApp};
use crate::security::{audit_rows, browse, get_as, post_as, session_csrf, session_for, user_with_token};

both!(bank_holidays_are_previewed_then_imported_moving_open_due_dates);

/// A weekday inside the IHA window of a child who became looked after on Mon 2 Mar 2026.
const EXTRA: &str = "2026-03-16";

/// GOV.UK's file for 2026 as shipped, with one extra holiday when `extra`.
pub fn file_2026(extra: bool) -> String {
    let mut holidays: Vec<Holiday> = calendar_store::shipped_holidays()
        .into_iter()
        .filter(|h| h.date.year() == 2026)
        .collect();
    if extra {
        holidays.push(Holiday {
            date: NaiveDate::parse_from_str(EXTRA, "%Y-%m-%d").expect("a date"),
            title: "Test Jubilee Day".into(),
            notes: String::new(),
            bunting: true,
        });
    }
    govuk::to_govuk_json(&holidays)
}

async fn page_post(app: &TestApp, session: &str, path: &str, file: &str, with_csrf: bool) -> Resp {
    let csrf = if with_csrf {
        session_csrf(app, session).await
    } else {
        String::new()
    };
    let form = [("csrf", csrf.as_str()), ("file", file)];
    browse(app, Method::POST, path, &[("cla_session", session)], Some(&form), &[]).await
}

async fn extra_holiday_in_force(app: &TestApp, token: &str) -> bool {
    let r = get_as(app, token, &format!("/calendar/holidays?from={EXTRA}&to={EXTRA}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["total"] == 1
}

async fn bank_holidays_are_previewed_then_imported_moving_open_due_dates(b: Backend) {
    let app = spawn_app(b, "2026-03-13").await;
    let child = app.register("CAL-1", "2014-05-05").await;
    let started = app.start_period(&s(&child["id"]), "2026-03-02", "C2").await;
    let iha = s(&started["assessment"]["id"]);
    let due_before = s(&app.assessment(&iha).await["due_on"]);
    let admin = user_with_token(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    let la_admin = user_with_token(&app, "la-admin@test.nhs.uk", "SOM", &[Role::Admin]).await;
    let nurse = user_with_token(&app, "nurse@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let file: Value = serde_json::from_str(&file_2026(true)).expect("the file is JSON");

    // The API preview: admins of the ICB only; nothing written.
    assert_eq!(post_as(&app, &nurse, "/calendar/preview", &file).await.status, 403);
    assert_eq!(post_as(&app, &la_admin, "/calendar/preview", &file).await.status, 403);
    let bad = json!({"england-and-wales": {"events": [{"title": "Sat", "date": "2026-03-14"}]}});
    assert_problem(
        &post_as(&app, &admin, "/calendar/preview", &bad).await,
        422,
        Some("england-and-wales"),
        "a weekend holiday",
    );
    let r = post_as(&app, &admin, "/calendar/preview", &file).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json["added"],
        json!([{"date": EXTRA, "title": "Test Jubilee Day"}]),
        "{}",
        r.json
    );
    assert_eq!(r.json["removed"], json!([]));
    assert_eq!(
        (r.json["first_year"].as_i64(), r.json["last_year"].as_i64()),
        (Some(2026), Some(2026))
    );
    assert_eq!(r.json["open_assessments"], 1);
    let moves = r.json["due_date_moves"].as_array().cloned().unwrap_or_default();
    assert_eq!(moves.len(), 1, "{}", r.json);
    assert_eq!(s(&moves[0]["from"]), due_before);
    assert_eq!(moves[0]["assessments"], 1);
    let due_after = s(&moves[0]["to"]);
    assert!(
        due_after > due_before,
        "a holiday in the window puts the due date later"
    );
    assert!(!extra_holiday_in_force(&app, &nurse).await, "a preview writes nothing");
    assert_eq!(s(&app.assessment(&iha).await["due_on"]), due_before);

    // The page: pasted, previewed (CSRF checked), then confirmed.
    let session = session_for(&app, "admin@test.nhs.uk").await;
    let home = browse(
        &app,
        Method::GET,
        "/admin",
        &[("cla_session", session.as_str())],
        None,
        &[],
    )
    .await;
    assert!(
        home.text.contains("href=\"/admin/calendar\""),
        "the console links to it"
    );
    let text = file_2026(true);
    assert_eq!(
        page_post(&app, &session, "/admin/calendar/preview", &text, false)
            .await
            .status,
        403
    );
    let r = page_post(&app, &session, "/admin/calendar/preview", "{not json", true).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.text.contains("There is a problem") && r.text.contains("{not json"),
        "kept: {}",
        r.text
    );
    let r = page_post(&app, &session, "/admin/calendar/preview", &text, true).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Check the bank holiday changes") && r.text.contains("Test Jubilee Day"));
    let shown = |d: &str| {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .expect("a date")
            .format("%-d %B %Y")
            .to_string()
    };
    assert!(
        r.text.contains(&shown(&due_before)) && r.text.contains(&shown(&due_after)),
        "{}",
        r.text
    );
    assert!(r.text.contains("1 of 1 open assessments"), "{}", r.text);
    assert!(
        !r.text.contains("CAL-1") && !r.text.contains("TestCAL-1"),
        "no child is named"
    );
    assert!(r.text.contains("action=\"/admin/calendar\""), "the confirm form");
    assert!(!extra_holiday_in_force(&app, &nurse).await, "still nothing written");

    let la_session = session_for(&app, "la-admin@test.nhs.uk").await;
    assert_eq!(
        page_post(&app, &la_session, "/admin/calendar", &text, true)
            .await
            .status,
        403
    );
    let r = page_post(&app, &session, "/admin/calendar", &text, true).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        r.headers.get("location").and_then(|v| v.to_str().ok()),
        Some("/admin/calendar?done=imported")
    );
    assert!(extra_holiday_in_force(&app, &nurse).await, "in force at once");
    assert_eq!(
        s(&app.assessment(&iha).await["due_on"]),
        due_after,
        "the open due date moved"
    );
    let imports = audit_rows(&app)
        .await
        .into_iter()
        .filter(|r| r.entity == "bank_holidays" && r.action == "import" && r.outcome == "ok")
        .count();
    assert_eq!(imports, 1, "the import is on the audit trail");

    // The API import puts the shipped year back.
    let shipped: Value = serde_json::from_str(&file_2026(false)).expect("JSON");
    assert_eq!(
        post_as(&app, &la_admin, "/calendar/holidays", &shipped).await.status,
        403
    );
    let r = post_as(&app, &admin, "/calendar/holidays", &shipped).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["due_dates_changed"], 1, "{}", r.json);
    assert!(!extra_holiday_in_force(&app, &nurse).await);
    assert_eq!(s(&app.assessment(&iha).await["due_on"]), due_before);
}
