//! Statutory rules of DOMAIN.md over HTTP, one test named after each: the brief health
//! summary, birth-history consent, withdrawal of consent, and a breach kept by an
//! assessment closed or found not required after its due date.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, s, spawn_app, Backend, TestApp};

both!(
    brief_health_summary_completes_an_rha_after_repeated_non_attendance_without_a_booking,
    brief_health_summary_never_completes_an_iha,
    birth_history_needs_the_birth_mothers_consent,
    withdrawal_of_consent_sends_the_assessment_back_to_awaiting_consent_and_cancels_future_appointments,
    not_required_after_the_due_date_keeps_the_breach,
);

/// Books `assessment_id` and records `outcome` for the appointment on `day`.
async fn missed(app: &TestApp, child_id: &str, assessment_id: &str, booked_on: &str, day: &str, outcome: &str) {
    app.book(assessment_id, booked_on, &format!("{day}T10:00:00Z")).await;
    let appt = app.latest_appointment(child_id, assessment_id).await;
    app.post(
        &format!("/appointments/{appt}/outcome"),
        &json!({"outcome": outcome, "recorded_on": day}),
    )
    .await
    .expect(200, "outcome");
}

async fn rha_of(app: &TestApp, child_id: &str) -> Value {
    let page = app.get_ok(&format!("/assessments?child_id={child_id}&kind=RHA")).await;
    page["items"][0].clone()
}

async fn brief_health_summary_completes_an_rha_after_repeated_non_attendance_without_a_booking(b: Backend) {
    let app = spawn_app(b, "2026-12-01").await;
    let (child_id, _, iha) = app.child_in_care("BHS-1", "2012-04-01", "2025-11-03").await;
    app.complete_iha(&iha, "2025-11-20").await;
    let rha = s(&rha_of(&app, &child_id).await["id"]);
    let summary = json!({"seen_on": "2026-10-20", "method": "brief_health_summary"});
    let url = format!("/assessments/{rha}/completion");

    // One missed appointment is not "repeated": rebook.
    missed(&app, &child_id, &rha, "2026-09-01", "2026-09-14", "was_not_brought").await;
    let r = app.post(&url, &summary).await;
    assert_problem(&r, 422, Some("method"), "one non-attendance");
    assert!(r.text.contains("repeated non-attendance"), "{}", r.text);
    // A cancellation is not a non-attendance either.
    app.book(&rha, "2026-09-15", "2026-09-21T10:00:00Z").await;
    let appt = app.latest_appointment(&child_id, &rha).await;
    app.post(
        &format!("/appointments/{appt}/outcome"),
        &json!({"outcome": "cancelled_by_provider", "recorded_on": "2026-09-16"}),
    )
    .await
    .expect(200, "cancelled");
    assert_problem(&app.post(&url, &summary).await, 422, Some("method"), "cancellation");

    // The second non-attendance: the summary is written without the child and without a
    // booking, and completes the review.
    missed(&app, &child_id, &rha, "2026-09-22", "2026-10-05", "did_not_attend").await;
    assert_eq!(app.assessment(&rha).await["state"], "awaiting_booking");
    let done = app.post(&url, &summary).await.expect(200, "brief health summary");
    assert_eq!(done["state"], "completed");
    assert_eq!(done["completion_method"], "brief_health_summary");
    let next = app
        .get_ok(&format!("/assessments?child_id={child_id}&kind=RHA&state=scheduled"))
        .await;
    assert_eq!(
        next["items"].as_array().map(Vec::len),
        Some(1),
        "the next review is scheduled: {next}"
    );
}

async fn brief_health_summary_never_completes_an_iha(b: Backend) {
    let app = spawn_app(b, "2026-03-02").await;
    let (child_id, _, iha) = app.child_in_care("BHS-2", "2013-04-01", "2026-01-05").await;
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2026-01-06"}),
    )
    .await
    .expect(200, "notification");
    app.post(
        &format!("/assessments/{iha}/consent"),
        &json!({"given_on": "2026-01-07", "basis": "parent_with_pr", "given_by": "Mother"}),
    )
    .await
    .expect(200, "consent");
    missed(&app, &child_id, &iha, "2026-01-08", "2026-01-12", "was_not_brought").await;
    missed(&app, &child_id, &iha, "2026-01-13", "2026-01-19", "was_not_brought").await;
    let r = app
        .post(
            &format!("/assessments/{iha}/completion"),
            &json!({"seen_on": "2026-01-20", "method": "brief_health_summary"}),
        )
        .await;
    assert_problem(&r, 422, Some("method"), "brief summary on an IHA");
    assert!(r.text.contains("face-to-face"), "names the rule: {}", r.text);
    assert_eq!(
        app.assessment(&iha).await["state"],
        "awaiting_booking",
        "nothing changed"
    );
}

async fn birth_history_needs_the_birth_mothers_consent(b: Backend) {
    let app = spawn_app(b, "2026-02-02").await;
    let (_, _, iha) = app.child_in_care("BH-1", "2016-04-01", "2026-01-05").await;
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2026-01-06"}),
    )
    .await
    .expect(200, "notification");
    let url = format!("/assessments/{iha}/consent");
    let scope = json!(["assessment", "birth_history"]);
    // Under a care order the LA may consent to the assessment, but not to birth history;
    // nor may the court, nor a parent who is not the birth mother.
    for body in [
        json!({"given_on": "2026-01-07", "basis": "local_authority", "given_by": "Somerset CC", "scope": scope}),
        json!({"given_on": "2026-01-07", "basis": "court", "given_by": "Family court", "scope": scope}),
        json!({"given_on": "2026-01-07", "basis": "parent_with_pr", "given_by": "Father", "scope": scope}),
        json!({"given_on": "2026-01-07", "basis": "local_authority", "given_by": "Somerset CC",
               "scope": scope, "given_by_birth_mother": true}),
    ] {
        let r = app.post(&url, &body).await;
        assert_problem(&r, 422, Some("scope"), &body.to_string());
        assert!(r.text.contains("birth mother"), "{}", r.text);
    }
    let v = app
        .post(
            &url,
            &json!({"given_on": "2026-01-07", "basis": "parent_with_pr", "given_by": "Mother",
                    "scope": scope, "given_by_birth_mother": true}),
        )
        .await
        .expect(200, "the birth mother's consent");
    assert_eq!(v["state"], "awaiting_booking");
}

async fn withdrawal_of_consent_sends_the_assessment_back_to_awaiting_consent_and_cancels_future_appointments(
    b: Backend,
) {
    let app = spawn_app(b, "2026-01-14").await;
    let (child_id, _, iha) = app.child_in_care("WD-1", "2016-04-01", "2026-01-05").await;
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2026-01-06"}),
    )
    .await
    .expect(200, "notification");
    app.post(
        &format!("/assessments/{iha}/consent"),
        &json!({"given_on": "2026-01-07", "basis": "parent_with_pr", "given_by": "Mother"}),
    )
    .await
    .expect(200, "consent");
    app.book(&iha, "2026-01-08", "2026-01-20T10:00:00Z").await;
    let detail = app.child(&child_id).await;
    let consent = s(&detail["consents"][0]["id"]);
    let appt = s(&detail["appointments"][0]["id"]);

    app.post(
        &format!("/consents/{consent}/withdrawal"),
        &json!({"withdrawn_on": "2026-01-12"}),
    )
    .await
    .expect(200, "withdrawal");
    let v = app.assessment(&iha).await;
    assert_eq!(v["state"], "awaiting_consent");
    assert_eq!(v["blocker"], "consent", "{v}");
    let a = app.get_ok(&format!("/appointments/{appt}")).await;
    assert!(!a["outcome"].is_null(), "the future appointment is cancelled: {a}");
    // Before the withdrawal the assessment was booked, and a past view still says so.
    assert_eq!(app.assessment_as_of(&iha, "2026-01-09").await["state"], "booked");
}

async fn not_required_after_the_due_date_keeps_the_breach(b: Backend) {
    let app = spawn_app(b, "2026-02-16").await;
    // Looked after Mon 5 Jan 2026: due Mon 2 Feb. Health was never notified.
    let (_, _, iha) = app.child_in_care("NR-1", "2016-04-01", "2026-01-05").await;
    let before = app.assessment(&iha).await;
    assert_eq!(before["due_on"], "2026-02-02");
    assert_eq!(before["rag"], "red");
    let v = app
        .post(
            &format!("/assessments/{iha}/not-required"),
            &json!({"prior_assessment_on": "2025-12-01", "decided_on": "2026-02-10"}),
        )
        .await
        .expect(200, "not required");
    assert_eq!(v["state"], "not_required");
    assert_eq!(
        v["rag"], "red",
        "found not required after the due date: the breach stays"
    );
    assert_eq!(v["breach_attribution"], before["breach_attribution"]);
    assert_eq!(app.assessment_as_of(&iha, "2026-02-12").await["rag"], "red");
    let reds = app.get_ok("/assessments?rag=red&kind=IHA").await;
    assert!(
        reds["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|a| a["id"] == iha.as_str()),
        "listed red: {reds}"
    );
}
