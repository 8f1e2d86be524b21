//! The child's record over HTTP for issue 10's remaining rules: the legal-status history
//! of each period on the record page, the birth-mother question on the consent form, the
//! 18th birthday and the care-leaver track, and the sealing of a record at adoption.

use cla_tracker::access::Role;
use serde_json::json;

use crate::casework::{form_version, location, Browser};
use crate::helpers::{s, spawn_app, Backend, TestApp};
use crate::security::{audit_rows, post_as, user_with_token, with_db};

both!(
    record_page_lists_each_periods_legal_status_changes_with_dates,
    birth_history_on_the_consent_form_needs_the_birth_mothers_consent,
    eighteenth_birthday_ends_the_period_of_care_and_starts_the_care_leaver_track,
    leaving_care_summary_is_shown_and_recorded_as_given_on_the_record_page,
    placement_order_or_placed_for_adoption_opens_an_adoption_medical_report,
    adoption_order_seals_the_record_and_only_an_admin_opens_it_with_a_reason,
    no_period_can_start_on_a_record_sealed_at_the_same_time,
);

/// Runs the housekeeping sweep of the care-leaver track for `day`.
async fn sweep(app: &TestApp, day: &str) -> cla_tracker::service::care::Sweep {
    let day: chrono::NaiveDate = day.parse().expect("date");
    with_db(app, move |conn| {
        cla_tracker::service::care::sweep(conn, day).expect("the sweep runs")
    })
    .await
}

fn obligation<'a>(child: &'a serde_json::Value, kind: &str) -> Option<&'a serde_json::Value> {
    child["health_obligations"]
        .as_array()
        .and_then(|list| list.iter().find(|o| o["kind"] == kind))
}

async fn record_page_lists_each_periods_legal_status_changes_with_dates(b: Backend) {
    let app = spawn_app(b, "2026-03-02").await;
    let (child, period, _) = app.child_in_care("LSR-1", "2014-05-01", "2026-01-05").await;
    let url = format!("/periods/{period}/legal-status");
    app.post(&url, &json!({"changed_on": "2026-01-20", "legal_status": "E1"}))
        .await
        .expect(201, "C2 to E1");
    app.post(&url, &json!({"changed_on": "2026-02-10", "legal_status": "C2"}))
        .await
        .expect(201, "E1 back to C2");
    let api = app.child(&child).await;
    let changes = api["legal_status_changes"].as_array().cloned().unwrap_or_default();
    assert_eq!(changes.len(), 2, "the API lists both changes: {api}");
    assert_eq!(changes[0]["changed_on"], "2026-01-20");
    assert_eq!(changes[0]["previous_status"], "C2");

    let ro = Browser::open(&app, "ro@test.nhs.uk", "ICB", &[Role::ReadOnly]).await;
    let page = ro.get(&format!("/children/{child}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let table = page
        .text
        .split("id=\"legal-status-table\"")
        .nth(1)
        .expect("the legal-status history table");
    for text in [
        "5 January 2026",
        "20 January 2026",
        "10 February 2026",
        "E1: ",
        "(was C2)",
        "(was E1)",
    ] {
        assert!(table.contains(text), "{text} in the history: {table}");
    }
    // On a day between the changes the status then in force is shown, and later changes
    // are not yet part of the record.
    let then = ro.get(&format!("/children/{child}?as_of=2026-02-01")).await;
    assert!(
        then.text
            .contains("Legal status</dt><dd class=\"nhsuk-summary-list__value\">E1: "),
        "{}",
        then.text
    );
    assert!(
        !then.text.contains("10 February 2026"),
        "a change after the day is not shown"
    );
}

async fn birth_history_on_the_consent_form_needs_the_birth_mothers_consent(b: Backend) {
    let app = spawn_app(b, "2026-01-05").await;
    let (_, _, iha) = app.child_in_care("BM-1", "2015-06-01", "2025-12-19").await;
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2025-12-22"}),
    )
    .await
    .expect(200, "notification");
    let sw = Browser::open(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
    let path = format!("/assessments/{iha}/consent");
    let page = sw.get(&format!("/assessments/{iha}")).await;
    assert!(
        page.text.contains("name=\"given_by_birth_mother\""),
        "the consent form asks whether the birth mother consented"
    );
    let version = form_version(&page.text, &path);
    let mut fields = vec![
        ("version", version.as_str()),
        ("decision", "given"),
        ("consent_on-day", "23"),
        ("consent_on-month", "12"),
        ("consent_on-year", "2025"),
        ("basis", "parent_with_pr"),
        ("given_by", "Jo Parent"),
        ("scope", "assessment"),
        ("scope", "birth_history"),
        ("given_by_birth_mother", "no"),
    ];
    let refused = sw.post(&path, &fields).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(refused.text.contains("There is a problem"), "the NHS error summary");
    assert!(
        refused.text.contains("href=\"#given_by_birth_mother-1\""),
        "the summary links to the question: {}",
        refused.text
    );
    assert!(refused.text.contains("only be obtained with the birth mother"));
    assert!(
        app.assessment(&iha).await["consent_on"].is_null(),
        "nothing was recorded"
    );
    // The API refuses the same.
    let r = app
        .post(
            &path,
            &json!({"given_on": "2025-12-23", "basis": "local_authority", "given_by": "LA",
                    "scope": ["birth_history"], "given_by_birth_mother": true}),
        )
        .await;
    assert_eq!(r.status, 422, "the LA cannot consent to birth history: {}", r.text);

    fields.retain(|(k, _)| *k != "given_by_birth_mother");
    fields.push(("given_by_birth_mother", "yes"));
    let ok = sw.post(&path, &fields).await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert_eq!(location(&ok), format!("/assessments/{iha}?done=consent"));
    let child = app.child(&s(&app.assessment(&iha).await["child_id"])).await;
    assert!(
        child["consents"][0]["scope"]
            .as_array()
            .is_some_and(|v| v.iter().any(|x| x == "birth_history")),
        "birth history is in scope: {child}"
    );
}

/// DOMAIN.md: the 18th birthday ends the period of care; a health leaving-care summary is
/// offered in the 6 months before it and due by it, with its own RAG and escalation.
async fn eighteenth_birthday_ends_the_period_of_care_and_starts_the_care_leaver_track(b: Backend) {
    let app = spawn_app(b, "2026-06-12").await;
    // 18 on Wed 10 June 2026; the summary is offered from 10 December 2025.
    let (child, _, iha) = app.child_in_care("CL-1", "2008-06-10", "2025-01-06").await;
    let before = sweep(&app, "2025-12-09").await;
    assert_eq!(before.summaries_opened, 0, "nothing before the 6 months");
    let opened = sweep(&app, "2025-12-10").await;
    assert_eq!(opened.summaries_opened, 1, "offered from 6 months before the birthday");
    assert_eq!(
        sweep(&app, "2025-12-11").await.summaries_opened,
        0,
        "one summary per child"
    );

    let green = app.get_ok(&format!("/children/{child}?as_of=2026-05-12")).await;
    let summary = obligation(&green, "leaving_care_summary").expect("the summary");
    assert_eq!(summary["opened_on"], "2025-12-10");
    assert_eq!(summary["due_on"], "2026-06-10", "due by the 18th birthday");
    assert_eq!(summary["rag"], "green", "{summary}");
    assert_eq!(summary["escalation_level"], 0);
    let amber = app.get_ok(&format!("/children/{child}?as_of=2026-05-13")).await;
    let summary = obligation(&amber, "leaving_care_summary").expect("the summary");
    assert_eq!(summary["rag"], "amber", "4 weeks before the birthday: {summary}");
    assert_eq!(summary["escalation_level"], 1);
    assert_eq!(summary["escalate_to"], "health_admin_mailbox");

    let eve = sweep(&app, "2026-06-09").await;
    assert_eq!(eve.periods_ended, 0, "still looked after the day before");
    let on = sweep(&app, "2026-06-10").await;
    assert_eq!(on.periods_ended, 1, "the 18th birthday ends the period");
    assert_eq!(on.assessments_closed, 1, "its open IHA closes");
    let now = app.child(&child).await;
    assert_eq!(now["periods"][0]["ended_on"], "2026-06-10", "{now}");
    assert_eq!(now["periods"][0]["end_reason"], "E8", "the reason is recorded");
    let summary = obligation(&now, "leaving_care_summary").expect("the summary");
    assert_eq!(summary["rag"], "red", "not given by the birthday: {summary}");
    assert_eq!(summary["late"], true);
    assert_eq!(summary["escalation_level"], 2);
    assert_eq!(summary["escalate_to"], "named_nurse");
    let closed = app.assessment(&iha).await;
    assert_eq!(closed["state"], "closed", "{closed}");
    assert!(s(&closed["end_reason"]).contains("turned 18"), "{closed}");
    assert!(
        audit_rows(&app).await.iter().any(|e| e.action == "end"
            && e.entity == "period"
            && e.user_email.as_deref() == Some("system:housekeeping")),
        "the end is on the audit trail as the system's act"
    );
    assert_eq!(sweep(&app, "2026-06-11").await.periods_ended, 0, "once");

    let id = s(&summary["id"]);
    let given = app
        .post(
            &format!("/obligations/{id}/completion"),
            &json!({"completed_on": "2026-06-11"}),
        )
        .await
        .expect(200, "summary given");
    assert_eq!(given["rag"], "completed");
    assert_eq!(given["late"], true, "given after the birthday stays late");
    assert_eq!(given["escalation_level"], 0, "the escalation clears");
    let again = app
        .post(
            &format!("/obligations/{id}/completion"),
            &json!({"completed_on": "2026-06-11"}),
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.text);
}

async fn leaving_care_summary_is_shown_and_recorded_as_given_on_the_record_page(b: Backend) {
    let app = spawn_app(b, "2026-05-20").await;
    let (child, _, _) = app.child_in_care("CL-2", "2008-06-10", "2025-01-06").await;
    sweep(&app, "2026-05-20").await;
    let dr = Browser::open(&app, "dr@test.nhs.uk", "ICB", &[Role::Clinician]).await;
    let record = format!("/children/{child}");
    let page = dr.get(&record).await;
    assert_eq!(page.status, 200, "{}", page.text);
    for text in ["Health leaving-care summary", "10 June 2026", "Amber", "Level 1"] {
        assert!(page.text.contains(text), "{text} on the record: {}", page.text);
    }
    let id = s(&obligation(&app.child(&child).await, "leaving_care_summary").expect("summary")["id"]);
    let action = format!("/obligations/{id}/completion");
    assert!(
        page.text.contains(&format!("action=\"{action}\"")),
        "a clinician may record it"
    );
    let ro = Browser::open(&app, "ro@test.nhs.uk", "ICB", &[Role::ReadOnly]).await;
    assert!(!ro.get(&record).await.text.contains(&action), "read-only users may not");
    let field = format!("completed_on-{id}");
    let bad = dr
        .post(
            &action,
            &[
                ("child", child.as_str()),
                (&format!("{field}-day"), "31"),
                (&format!("{field}-month"), "2"),
                (&format!("{field}-year"), "2026"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("There is a problem"));
    let ok = dr
        .post(
            &action,
            &[
                ("child", child.as_str()),
                (&format!("{field}-day"), "19"),
                (&format!("{field}-month"), "5"),
                (&format!("{field}-year"), "2026"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    let after = dr.get(&location(&ok)).await;
    assert!(after.text.contains("Recorded as given"), "{}", after.text);
    assert!(after.text.contains("19 May 2026"));
}

/// DOMAIN.md: a child with a placement order (E1) or placed for adoption has an adoption
/// medical report obligation.
async fn placement_order_or_placed_for_adoption_opens_an_adoption_medical_report(b: Backend) {
    let app = spawn_app(b, "2026-03-02").await;
    let e1 = s(&app.register("AD-1", "2022-01-01").await["id"]);
    app.start_period(&e1, "2026-01-05", "E1").await;
    let report = obligation(&app.child(&e1).await, "adoption_medical_report")
        .cloned()
        .expect("a placement order opens the report");
    assert_eq!(report["opened_on"], "2026-01-05");
    assert!(report["due_on"].is_null());
    assert_eq!(report["rag"], "green");

    let (placed, period, _) = app.child_in_care("AD-2", "2022-01-01", "2026-01-05").await;
    assert!(
        obligation(&app.child(&placed).await, "adoption_medical_report").is_none(),
        "C2 alone: none"
    );
    app.post(
        &format!("/periods/{period}/placements"),
        &json!({"started_on": "2026-02-02", "placement_type": "A5"}),
    )
    .await
    .expect(201, "placed for adoption");
    let report = obligation(&app.child(&placed).await, "adoption_medical_report")
        .cloned()
        .expect("placed for adoption opens the report");
    assert_eq!(report["opened_on"], "2026-02-02");

    let (changed, period, _) = app.child_in_care("AD-3", "2022-01-01", "2026-01-05").await;
    app.post(
        &format!("/periods/{period}/legal-status"),
        &json!({"changed_on": "2026-02-09", "legal_status": "E1"}),
    )
    .await
    .expect(201, "placement order");
    let child = app.child(&changed).await;
    assert_eq!(
        obligation(&child, "adoption_medical_report").expect("report")["opened_on"],
        "2026-02-09"
    );
    let v = child["periods"][0]["version"].clone();
    app.post(
        &format!("/periods/{period}/legal-status"),
        &json!({"changed_on": "2026-02-16", "legal_status": "C2", "version": v}),
    )
    .await
    .expect(201, "back to C2");
    app.post(
        &format!("/periods/{period}/placements"),
        &json!({"started_on": "2026-02-20", "placement_type": "A6"}),
    )
    .await
    .expect(201, "placed");
    let list = app.child(&changed).await["health_obligations"].clone();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "one report per child: {list}");
}

/// DOMAIN.md: at the adoption order (E11/E12) the record is sealed: ordinary roles get
/// 404, nothing new is added, and only an admin opens it, with a reason that is audited.
async fn adoption_order_seals_the_record_and_only_an_admin_opens_it_with_a_reason(b: Backend) {
    let app = spawn_app(b, "2026-03-02").await;
    let (child, period, _) = app.child_in_care("SEAL-1", "2022-01-01", "2025-06-02").await;
    let version = app.child(&child).await["periods"][0]["version"].clone();
    app.post(
        &format!("/periods/{period}/end"),
        &json!({"ended_on": "2026-02-27", "reason": "E11", "version": version}),
    )
    .await
    .expect(200, "adoption order");
    for path in [
        format!("/children/{child}"),
        format!("/children/{child}?as_of=2026-01-01"),
    ] {
        assert_eq!(app.get(&path).await.status, 404, "{path}: sealed");
    }
    let found = app.get_ok("/children?q=SEAL-1").await;
    assert_eq!(found["total"], 0, "no search finds it: {found}");
    let listed = app.get_ok("/assessments?limit=1000").await;
    assert_eq!(listed["total"], 0, "no list shows its assessments: {listed}");
    let assurance = app.get_ok("/assurance/iha?as_of=2026-03-02&weeks=52").await;
    assert!(
        !assurance.to_string().contains("SEAL-1"),
        "nor the assurance list: {assurance}"
    );
    let r = app
        .post(
            &format!("/children/{child}/periods"),
            &json!({"started_on": "2026-03-02", "legal_status": "C2"}),
        )
        .await;
    assert_eq!(r.status, 404, "no new period on a sealed record: {}", r.text);
    let r = app
        .post(
            &format!("/children/{child}/notes"),
            &json!({"body": "x", "author": "Ann"}),
        )
        .await;
    assert_eq!(r.status, 404, "nothing new is added: {}", r.text);
    let sw = Browser::open(&app, "sw@test.nhs.uk", "SOM", &[Role::SocialWorker]).await;
    assert_eq!(sw.get(&format!("/children/{child}")).await.status, 404, "the page too");

    let admin = user_with_token(&app, "admin@test.nhs.uk", "ICB", &[Role::Admin]).await;
    let path = format!("/children/{child}/sealed-record");
    let r = post_as(&app, &admin, &path, &json!({"reason": "short"})).await;
    assert_eq!(r.status, 422, "a reason is needed: {}", r.text);
    let reason = "Court-ordered disclosure to the adoption agency";
    let r = post_as(&app, &admin, &path, &json!({"reason": reason})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let opened: serde_json::Value = serde_json::from_str(&r.text).expect("json");
    assert_eq!(opened["local_id"], "SEAL-1");
    assert_eq!(opened["periods"][0]["end_reason"], "E11");
    let r = app.post(&path, &json!({"reason": reason})).await;
    assert_eq!(r.status, 403, "only an admin: {}", r.text);
    let rows = audit_rows(&app).await;
    assert!(rows
        .iter()
        .any(|e| e.action == "seal" && e.child_id.as_deref() == Some(child.as_str())));
    let opening = rows
        .iter()
        .find(|e| e.action == "open_sealed" && e.user_email.as_deref() == Some("admin@test.nhs.uk"))
        .expect("the opening is audited");
    assert!(
        opening.changes.as_deref().is_some_and(|c| c.contains(reason)),
        "with its reason: {:?}",
        opening.changes
    );
    // A record that is not sealed is not opened this way.
    let (other, period, _) = app.child_in_care("SEAL-2", "2022-01-01", "2025-06-02").await;
    let r = post_as(
        &app,
        &admin,
        &format!("/children/{other}/sealed-record"),
        &json!({"reason": reason}),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);
    // Ended with E12 from the record page: the answer goes to the search page, since the
    // record is now hidden from its author too.
    let record = format!("/children/{other}");
    let end = format!("/periods/{period}/end");
    let version = form_version(&sw.get(&record).await.text, &end);
    let r = sw
        .post(
            &end,
            &[
                ("version", version.as_str()),
                ("child", other.as_str()),
                ("ended_on-day", "27"),
                ("ended_on-month", "2"),
                ("ended_on-year", "2026"),
                ("end_reason", "E12"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(location(&r), "/children");
    assert_eq!(sw.get(&record).await.status, 404, "sealed");
}

/// The adoption order and a new period raced: whichever interleaving, the record ends
/// sealed with its one period, and the start is refused.
async fn no_period_can_start_on_a_record_sealed_at_the_same_time(b: Backend) {
    let app = spawn_app(b, "2026-03-02").await;
    for n in 0..6 {
        let (child, period, _) = app
            .child_in_care(&format!("RACE-{n}"), "2022-01-01", "2025-06-02")
            .await;
        let (end_path, start_path) = (format!("/periods/{period}/end"), format!("/children/{child}/periods"));
        let end_body = json!({"ended_on": "2026-02-27", "reason": "E12"});
        let start_body = json!({"started_on": "2026-03-02", "legal_status": "C2"});
        let end = app.post(&end_path, &end_body);
        let start = app.post(&start_path, &start_body);
        let (end, start) = tokio::join!(end, start);
        assert_eq!(end.status, 200, "{}", end.text);
        assert!(
            [404, 409].contains(&start.status),
            "refused: {} {}",
            start.status,
            start.text
        );
        let child_id = child.clone();
        let periods: i64 = with_db(&app, move |conn| {
            use cla_tracker::db::schema::periods;
            use diesel::prelude::*;
            periods::table
                .filter(periods::child_id.eq(child_id))
                .count()
                .get_result(conn)
                .expect("count")
        })
        .await;
        assert_eq!(periods, 1, "no period started on the sealed record");
    }
}
