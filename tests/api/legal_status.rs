//! Legal-status changes within a period (DOMAIN.md "Legal status within a period"), over
//! HTTP: the period and its clock carry on, consent is judged against the status in force
//! on its day, a change from short breaks starts the IHA clock, and L2 gives the applicant
//! parental responsibility.

use serde_json::json;

use crate::helpers::{assert_problem, s, spawn_app, Backend};

both!(
    legal_status_change_is_recorded_and_the_period_and_its_clock_carry_on,
    change_from_short_breaks_to_another_status_starts_the_iha_clock_on_that_day,
    consent_is_judged_against_the_legal_status_in_force_on_the_consent_date,
    emergency_protection_order_gives_the_applicant_parental_responsibility,
);

async fn legal_status_change_is_recorded_and_the_period_and_its_clock_carry_on(b: Backend) {
    let app = spawn_app(b, "2026-02-02").await;
    let child = app.register("LS-1", "2015-03-01").await;
    let child_id = s(&child["id"]);
    let started = app.start_period(&child_id, "2026-01-05", "V2").await;
    let period = s(&started["period"]["id"]);
    let iha_id = s(&started["assessment"]["id"]);
    let due_before = app.assessment(&iha_id).await["due_on"].clone();
    let url = format!("/periods/{period}/legal-status");

    let changed = app
        .post(&url, &json!({"changed_on": "2026-01-12", "legal_status": "C1"}))
        .await
        .expect(201, "legal-status change");
    assert_eq!(changed["previous_status"], "V2");
    assert_eq!(changed["legal_status"], "C1");
    assert!(
        changed["assessment"].is_null(),
        "V2 to C1 starts no new clock: {changed}"
    );
    let iha = app.assessment(&iha_id).await;
    assert_eq!(iha["due_on"], due_before, "the IHA clock carries on");
    assert_eq!(iha["clock_started_on"], "2026-01-05");

    // Dated after the start and after the last change, not in the future, a real change.
    for (body, field) in [
        (json!({"changed_on": "2026-01-12", "legal_status": "C2"}), "changed_on"),
        (json!({"changed_on": "2026-01-04", "legal_status": "C2"}), "changed_on"),
        (json!({"changed_on": "2026-02-03", "legal_status": "C2"}), "changed_on"),
        (
            json!({"changed_on": "2026-01-20", "legal_status": "C1"}),
            "legal_status",
        ),
        (
            json!({"changed_on": "2026-01-20", "legal_status": "ZZ"}),
            "legal_status",
        ),
    ] {
        let r = app.post(&url, &body).await;
        assert_problem(&r, 422, Some(field), &format!("{body}"));
    }
    // A stale version is refused; the current one is accepted.
    let r = app
        .post(
            &url,
            &json!({"changed_on": "2026-01-20", "legal_status": "C2", "version": 1}),
        )
        .await;
    assert_eq!(r.status, 409, "stale version: {}", r.text);
    let v = changed["version"].as_i64().expect("version");
    app.post(
        &url,
        &json!({"changed_on": "2026-01-20", "legal_status": "C2", "version": v}),
    )
    .await
    .expect(201, "second change");

    // Once the period ends, nothing more is added to it.
    let version = app.child(&child_id).await["periods"][0]["version"].clone();
    app.post(
        &format!("/periods/{period}/end"),
        &json!({"ended_on": "2026-01-30", "reason": "E13", "version": version}),
    )
    .await
    .expect(200, "end");
    let r = app
        .post(&url, &json!({"changed_on": "2026-01-31", "legal_status": "E1"}))
        .await;
    assert_eq!(r.status, 409, "a change after the end: {}", r.text);
}

async fn change_from_short_breaks_to_another_status_starts_the_iha_clock_on_that_day(b: Backend) {
    let app = spawn_app(b, "2026-02-02").await;
    let child = app.register("LS-2", "2014-07-01").await;
    let child_id = s(&child["id"]);
    let started = app.start_period(&child_id, "2026-01-05", "V3").await;
    assert_eq!(started["assessment"]["state"], "not_required", "short breaks: no IHA");
    let period = s(&started["period"]["id"]);
    let url = format!("/periods/{period}/legal-status");

    // V3 to V4 is still short breaks: nothing starts.
    let r = app
        .post(&url, &json!({"changed_on": "2026-01-07", "legal_status": "V4"}))
        .await
        .expect(201, "V3 to V4");
    assert!(r["assessment"].is_null(), "{r}");

    // V4 to a care order: day 0 is the day of the change, Mon 12 Jan 2026.
    let r = app
        .post(&url, &json!({"changed_on": "2026-01-12", "legal_status": "C2"}))
        .await
        .expect(201, "V4 to C2");
    let iha = &r["assessment"];
    assert_eq!(iha["kind"], "IHA");
    assert_eq!(iha["state"], "awaiting_notification");
    assert_eq!(iha["clock_started_on"], "2026-01-12");
    assert_eq!(iha["due_on"], "2026-02-09", "20 working days after Mon 12 Jan 2026");
    let iha_id = s(&iha["id"]);

    // The record shows both: the short-breaks IHA not required, the new one open.
    let detail = app.child(&child_id).await;
    let ihas: Vec<_> = detail["assessments"]
        .as_array()
        .expect("assessments")
        .iter()
        .filter(|a| a["kind"] == "IHA")
        .map(|a| s(&a["state"]))
        .collect();
    assert_eq!(ihas.len(), 2, "{ihas:?}");
    assert!(ihas.contains(&"not_required".to_string()) && ihas.contains(&"awaiting_notification".to_string()));

    // Its history begins on the change day: a view the day before has not started yet,
    // the view on the day counts from day 0.
    let on_day0 = app.assessment_as_of(&iha_id, "2026-01-12").await;
    assert_eq!(on_day0["state"], "awaiting_notification");
    assert_eq!(on_day0["working_days_elapsed"], 0);
}

async fn consent_is_judged_against_the_legal_status_in_force_on_the_consent_date(b: Backend) {
    let app = spawn_app(b, "2026-02-02").await;
    let child = app.register("LS-3", "2016-02-01").await;
    let child_id = s(&child["id"]);
    let started = app.start_period(&child_id, "2026-01-05", "V2").await;
    let period = s(&started["period"]["id"]);
    let iha_id = s(&started["assessment"]["id"]);
    app.post(
        &format!("/assessments/{iha_id}/notification"),
        &json!({"received_on": "2026-01-06"}),
    )
    .await
    .expect(200, "notification");
    app.post(
        &format!("/periods/{period}/legal-status"),
        &json!({"changed_on": "2026-01-14", "legal_status": "C1"}),
    )
    .await
    .expect(201, "V2 to C1");

    // On 13 Jan the child was accommodated under section 20: the LA held no PR then,
    // though it does today.
    let consent = |on: &str| json!({"given_on": on, "basis": "local_authority", "given_by": "Somerset CC"});
    let r = app
        .post(&format!("/assessments/{iha_id}/consent"), &consent("2026-01-13"))
        .await;
    assert_problem(&r, 422, Some("basis"), "LA consent under V2");
    assert!(r.detail().contains("V2") || r.text.contains("V2"), "{}", r.text);
    // From 14 Jan, under an interim care order, it does.
    let v = app
        .post(&format!("/assessments/{iha_id}/consent"), &consent("2026-01-14"))
        .await
        .expect(200, "LA consent under C1");
    assert_eq!(v["state"], "awaiting_booking");
}

async fn emergency_protection_order_gives_the_applicant_parental_responsibility(b: Backend) {
    let app = spawn_app(b, "2026-02-02").await;
    let child = app.register("LS-4", "2019-05-01").await;
    let child_id = s(&child["id"]);
    let started = app.start_period(&child_id, "2026-01-05", "L2").await;
    let iha_id = s(&started["assessment"]["id"]);
    app.post(
        &format!("/assessments/{iha_id}/notification"),
        &json!({"received_on": "2026-01-06"}),
    )
    .await
    .expect(200, "notification");
    let v = app
        .post(
            &format!("/assessments/{iha_id}/consent"),
            &json!({"given_on": "2026-01-07", "basis": "local_authority", "given_by": "Somerset CC"}),
        )
        .await
        .expect(200, "LA consent under an EPO");
    assert_eq!(v["state"], "awaiting_booking");
}
