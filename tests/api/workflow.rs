//! The workflow rules at the HTTP level: refused steps, optimistic concurrency, when no IHA
//! is due, re-entry, period ends, out-of-area requests, consent rules, the RHA cadence
//! around the 5th birthday and `as_of` views.

use serde_json::{json, Value};

use crate::helpers::{assert_problem, milestone, s, spawn_app, Backend, TestApp};

both!(
    refused_step_answers_409_naming_the_state_and_allowed_steps_and_changes_nothing,
    stale_version_answers_409_and_changes_nothing,
    short_breaks_v3_and_v4_need_no_iha,
    assessment_within_three_months_before_stands_in_for_the_iha,
    re_entry_to_care_starts_a_new_iha_clock,
    re_entry_within_three_months_of_a_completed_iha_needs_no_new_one,
    ending_a_period_closes_open_assessments_with_the_reason,
    out_of_area_placement_opens_a_request_to_the_host_provider,
    competent_young_person_can_refuse,
    refusal_under_sixteen_needs_a_competence_assessment,
    local_authority_cannot_consent_under_section_20,
    rha_cadence_follows_age_on_the_day_seen_around_the_fifth_birthday,
    as_of_view_shows_what_was_true_then,
    as_of_view_rolls_back_state_and_dated_facts,
    eighteenth_birthday_closes_open_obligations,
    booking_answers_the_appointment_it_made_and_where_it_is,
    appointment_times_are_london_time_with_the_offset_in_force,
);

/// A child in care since `started_on`, notified and consented on `on`: ready to book.
async fn ready_to_book(app: &TestApp, local_id: &str, started_on: &str, on: &str) -> (String, String) {
    let (child, _, iha) = app.child_in_care(local_id, "2014-01-01", started_on).await;
    notify(app, &iha, on).await;
    consent(
        app,
        &iha,
        json!({"given_on": on, "basis": "parent_with_pr", "given_by": "Mother"}),
    )
    .await
    .expect(200, "consent");
    (child, iha)
}

/// A client records the outcome straight from the booking's answer: 201, `Location` names
/// the appointment, and the body is the assessment with the appointment in it.
async fn booking_answers_the_appointment_it_made_and_where_it_is(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child, iha) = ready_to_book(&app, "B-1", "2026-02-09", "2026-02-10").await;
    let r = app
        .post(
            &format!("/assessments/{iha}/appointments"),
            &json!({"starts_at": "2026-02-16T09:00:00Z", "clinician": "Dr Patel", "location": "Taunton", "booked_on": "2026-02-11"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let location = r
        .headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a Location header")
        .to_string();
    let booked = r.json;
    assert_eq!(
        (booked["id"].as_str(), booked["state"].as_str()),
        (Some(iha.as_str()), Some("booked"))
    );
    assert_eq!(
        booked["appointment_on"], "2026-02-16",
        "the assessment's fields stay where they were"
    );
    let appointment = &booked["appointment"];
    assert_eq!(location, format!("/api/v1/appointments/{}", s(&appointment["id"])));
    assert_eq!(appointment["assessment_id"], iha.as_str());
    assert_eq!(appointment["clinician"], "Dr Patel");
    assert_eq!(appointment["booked_on"], "2026-02-11");
    assert!(appointment["outcome"].is_null());
    assert_eq!(
        &app.get_ok(&location).await,
        appointment,
        "Location serves the appointment"
    );
    let on_record = &app.child(&child).await["appointments"][0];
    assert_eq!(on_record, appointment, "the child's record holds the same appointment");
    let v = app
        .post(
            &format!("{location}/outcome"),
            &json!({"outcome": "attended", "recorded_on": TODAY, "version": appointment["version"]}),
        )
        .await
        .expect(200, "the outcome recorded with the answer's id and version");
    assert_eq!(v["state"], "awaiting_report");
}

/// Appointments are booked on the clinic's clock: answers give Europe/London's local time
/// with the offset in force that day (BST in summer, GMT in winter), whatever offset the
/// booking was sent with.
async fn appointment_times_are_london_time_with_the_offset_in_force(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    for (n, sent, shown) in [
        (1, "2026-06-12T09:30:00Z", "2026-06-12T10:30:00+01:00"),
        (2, "2026-06-12T10:30:00+01:00", "2026-06-12T10:30:00+01:00"),
        (3, "2026-06-12T05:30:00-04:00", "2026-06-12T10:30:00+01:00"),
        (4, "2026-11-02T10:30:00Z", "2026-11-02T10:30:00+00:00"),
        (5, "2026-03-29T01:30:00+00:00", "2026-03-29T02:30:00+01:00"),
    ] {
        let (child, iha) = ready_to_book(&app, &format!("T-{n}"), "2026-02-09", "2026-02-10").await;
        let booked = app.book(&iha, "2026-02-11", sent).await;
        assert_eq!(booked["appointment"]["starts_at"], shown, "booked for {sent}");
        let detail = app.child(&child).await;
        assert_eq!(
            detail["appointments"][0]["starts_at"], shown,
            "the record shows {sent} so"
        );
    }
    let (_, iha) = ready_to_book(&app, "T-6", "2026-02-09", "2026-02-10").await;
    let r = app
        .post(
            &format!("/assessments/{iha}/appointments"),
            &json!({"starts_at": "2026-06-12T10:30:00", "clinician": "Dr Patel", "location": "Taunton"}),
        )
        .await;
    assert_problem(&r, 400, Some("starts_at"), "a time without an offset is ambiguous");
}

const TODAY: &str = "2026-02-16";

async fn notify(app: &TestApp, id: &str, on: &str) -> Value {
    app.post(&format!("/assessments/{id}/notification"), &json!({"received_on": on}))
        .await
        .expect(200, "notification")
}

async fn consent(app: &TestApp, id: &str, body: Value) -> crate::helpers::Resp {
    app.post(&format!("/assessments/{id}/consent"), &body).await
}

/// The fields a rejected request must leave alone.
fn snapshot(v: &Value) -> Value {
    json!({
        "state": v["state"], "version": v["version"], "notified_on": v["notified_on"],
        "consent_on": v["consent_on"], "completed_on": v["completed_on"], "due_on": v["due_on"],
    })
}

async fn timeline_len(app: &TestApp, child_id: &str) -> usize {
    app.child(child_id).await["timeline"].as_array().map_or(0, Vec::len)
}

async fn refused_step_answers_409_naming_the_state_and_allowed_steps_and_changes_nothing(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child_id, _, iha) = app.child_in_care("W-1", "2015-06-01", "2026-02-02").await;
    let before = app.assessment(&iha).await;
    let events_before = timeline_len(&app, &child_id).await;

    let r = app
        .post(
            &format!("/assessments/{iha}/completion"),
            &json!({"seen_on": "2026-02-10"}),
        )
        .await;
    assert_problem(&r, 409, None, "completion while awaiting notification");
    let detail = r.detail();
    assert!(
        detail.contains("awaiting_notification"),
        "409 names the current state: {detail}"
    );
    assert!(
        detail.contains("allowed from awaiting_notification: notification, not_required, close"),
        "409 lists the steps allowed from it: {detail}"
    );
    let after = app.assessment(&iha).await;
    assert_eq!(snapshot(&after), snapshot(&before), "a refused step changes nothing");
    assert_eq!(
        timeline_len(&app, &child_id).await,
        events_before,
        "nothing added to the timeline"
    );

    // A completed IHA accepts nothing at all.
    app.complete_iha(&iha, "2026-02-10").await;
    let before = app.assessment(&iha).await;
    let r = app
        .post(
            &format!("/assessments/{iha}/notification"),
            &json!({"received_on": "2026-02-11"}),
        )
        .await;
    assert_problem(&r, 409, None, "notification on a completed IHA");
    assert!(r.detail().contains("completed"), "names the state: {}", r.detail());
    assert_eq!(snapshot(&app.assessment(&iha).await), snapshot(&before));
}

async fn stale_version_answers_409_and_changes_nothing(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child_id, _, iha) = app.child_in_care("W-2", "2015-06-01", "2026-02-02").await;
    let before = app.assessment(&iha).await;
    assert_eq!(before["version"], 1);
    let path = format!("/assessments/{iha}/notification");

    let r = app
        .post(&path, &json!({"received_on": "2026-02-03", "version": 7}))
        .await;
    assert_problem(&r, 409, None, "stale version in the body");
    assert!(
        r.detail().contains("version"),
        "says the version is stale: {}",
        r.detail()
    );
    let r = app
        .post_with(&path, &json!({"received_on": "2026-02-03"}), &[("If-Match", "\"7\"")])
        .await;
    assert_problem(&r, 409, None, "stale version in If-Match");
    assert_eq!(
        snapshot(&app.assessment(&iha).await),
        snapshot(&before),
        "stale writes change nothing"
    );

    // The current version, either way, is accepted and moves the version on.
    let v = app
        .post_with(&path, &json!({"received_on": "2026-02-03"}), &[("If-Match", "\"1\"")])
        .await
        .expect(200, "notification with the current If-Match");
    assert_eq!(v["version"], 2);
    let r = consent(
        &app,
        &iha,
        json!({"given_on": "2026-02-04", "basis": "local_authority", "given_by": "LA", "version": 1}),
    )
    .await;
    assert_problem(&r, 409, None, "consent sent with the version before the notification");
    assert_eq!(app.assessment(&iha).await["state"], "awaiting_consent");
    let v = consent(
        &app,
        &iha,
        json!({"given_on": "2026-02-04", "basis": "local_authority", "given_by": "LA", "version": 2}),
    )
    .await
    .expect(200, "consent with the current version");
    assert_eq!(v["version"], 3);

    // Children too: a stale PATCH loses nothing.
    let child = app.child(&child_id).await;
    let r = app
        .send(
            reqwest::Method::PATCH,
            &format!("/children/{child_id}"),
            Some(json!({"version": 5, "given_name": "Changed"}).to_string().into_bytes()),
            &[],
        )
        .await;
    assert_problem(&r, 409, None, "stale PATCH /children/{id}");
    let again = app.child(&child_id).await;
    assert_eq!(again["given_name"], child["given_name"]);
    assert_eq!(again["version"], child["version"]);
}

async fn short_breaks_v3_and_v4_need_no_iha(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    for (i, ls) in ["V3", "V4"].iter().enumerate() {
        let child = app.register(&format!("SB-{i}"), "2012-04-01").await;
        let started = app.start_period(&s(&child["id"]), "2026-02-02", ls).await;
        let iha = &started["assessment"];
        assert_eq!(iha["state"], "not_required", "{ls}: no statutory IHA on short breaks");
        assert_eq!(iha["rag"], "green");
        assert_eq!(iha["blocker"], "none");
        assert!(
            s(&iha["end_reason"]).contains("short breaks"),
            "{ls}: the reason is kept: {}",
            iha["end_reason"]
        );
    }
    let page = app.get_ok("/assessments?state=not_required").await;
    assert_eq!(page["total"], 2, "both kept on record as not required: {page}");
}

async fn assessment_within_three_months_before_stands_in_for_the_iha(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let a = app.register("PR-1", "2014-01-01").await;
    let started = app
        .start_period_with(
            &s(&a["id"]),
            json!({"started_on": "2026-01-15", "legal_status": "C1", "prior_assessment_on": "2025-10-15"}),
        )
        .await;
    assert_eq!(
        started["assessment"]["state"], "not_required",
        "seen exactly 3 months before: stands in"
    );
    assert!(s(&started["assessment"]["end_reason"]).contains("15 Oct 2025"));

    let b2 = app.register("PR-2", "2014-01-01").await;
    let started = app
        .start_period_with(
            &s(&b2["id"]),
            json!({"started_on": "2026-01-15", "legal_status": "C1", "prior_assessment_on": "2025-10-14"}),
        )
        .await;
    assert_eq!(
        started["assessment"]["state"], "awaiting_notification",
        "3 months and 1 day before: an IHA is required"
    );
    assert_eq!(started["assessment"]["due_on"], "2026-02-12");
}

async fn re_entry_to_care_starts_a_new_iha_clock(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child_id, period, first_iha) = app.child_in_care("RE-1", "2013-05-05", "2025-11-03").await;
    let ended = app
        .post(
            &format!("/periods/{period}/end"),
            &json!({"ended_on": "2025-11-20", "reason": "E4A"}),
        )
        .await
        .expect(200, "end the period");
    assert_eq!(ended["period"]["ended_on"], "2025-11-20");
    assert_eq!(ended["period"]["end_reason"], "E4A");

    // Coming back into care on or before the day the last period ended is not a re-entry.
    let r = app
        .post(
            &format!("/children/{child_id}/periods"),
            &json!({"started_on": "2025-11-20", "legal_status": "C1"}),
        )
        .await;
    assert_problem(&r, 422, Some("started_on"), "re-entry on the day care ended");

    let started = app.start_period(&child_id, "2026-01-05", "C1").await;
    let iha = &started["assessment"];
    assert_ne!(s(&iha["id"]), first_iha, "a new IHA");
    assert_eq!(iha["state"], "awaiting_notification");
    assert_eq!(iha["clock_started_on"], "2026-01-05");
    assert_eq!(iha["due_on"], "2026-02-02", "20 working days after Mon 5 Jan 2026");
    assert_eq!(app.assessment(&first_iha).await["state"], "closed");

    // A second period cannot start while this one is open: the child's state forbids it.
    let r = app
        .post(
            &format!("/children/{child_id}/periods"),
            &json!({"started_on": "2026-02-01", "legal_status": "C1"}),
        )
        .await;
    assert_problem(&r, 409, None, "a period while one is open");
    assert!(r.detail().contains("already looked after"), "{}", r.detail());
}

async fn re_entry_within_three_months_of_a_completed_iha_needs_no_new_one(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child_id, period, first_iha) = app.child_in_care("RE-2", "2013-05-05", "2025-11-03").await;
    app.complete_iha(&first_iha, "2025-11-20").await;
    let ended = app
        .post(
            &format!("/periods/{period}/end"),
            &json!({"ended_on": "2025-12-01", "reason": "E4A"}),
        )
        .await
        .expect(200, "end the period");
    assert_eq!(
        ended["closed_assessments"].as_array().map(Vec::len),
        Some(1),
        "the scheduled review closes with the period: {ended}"
    );
    let started = app.start_period(&child_id, "2026-01-05", "C1").await;
    assert_eq!(
        started["assessment"]["state"], "not_required",
        "the IHA seen on 20 Nov 2025 is within 3 months of 5 Jan 2026"
    );
    assert!(s(&started["assessment"]["end_reason"]).contains("20 Nov 2025"));
}

async fn ending_a_period_closes_open_assessments_with_the_reason(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (_, period, iha) = app.child_in_care("END-1", "2013-05-05", "2026-02-02").await;
    notify(&app, &iha, "2026-02-03").await;
    consent(
        &app,
        &iha,
        json!({"given_on": "2026-02-04", "basis": "local_authority", "given_by": "LA"}),
    )
    .await
    .expect(200, "consent");
    app.book(&iha, "2026-02-05", "2026-02-20T10:00:00Z").await;

    let r = app
        .post(
            &format!("/periods/{period}/end"),
            &json!({"ended_on": "2026-02-01", "reason": "E4A"}),
        )
        .await;
    assert_problem(&r, 422, Some("ended_on"), "end before start");
    assert_eq!(
        app.assessment(&iha).await["state"],
        "booked",
        "a rejected end changes nothing"
    );

    let ended = app
        .post(
            &format!("/periods/{period}/end"),
            &json!({"ended_on": "2026-02-10", "reason": "E13"}),
        )
        .await
        .expect(200, "end the period");
    assert_eq!(ended["closed_assessments"], json!([iha.as_str()]));
    let v = app.assessment(&iha).await;
    assert_eq!(v["state"], "closed");
    assert_eq!(v["ended_on"], "2026-02-10");
    assert!(
        s(&v["end_reason"]).contains("E13"),
        "the reason is kept: {}",
        v["end_reason"]
    );
    assert!(v["appointment_on"].is_null(), "the appointment is no longer current");
    assert_eq!(v["rag"], "green", "closed is not a breach");
    assert_eq!(v["blocker"], "none");

    let r = app
        .post(
            &format!("/periods/{period}/end"),
            &json!({"ended_on": "2026-02-11", "reason": "E4A"}),
        )
        .await;
    assert_problem(&r, 409, None, "ending an ended period");
    let r = app
        .post(
            &format!("/periods/{period}/placements"),
            &json!({"started_on": "2026-02-12", "placement_type": "U4"}),
        )
        .await;
    assert_problem(&r, 409, None, "placement change in an ended period");
}

async fn out_of_area_placement_opens_a_request_to_the_host_provider(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (_, period, iha) = app.child_in_care("OOA-1", "2013-05-05", "2026-02-02").await;
    notify(&app, &iha, "2026-02-03").await;
    consent(
        &app,
        &iha,
        json!({"given_on": "2026-02-03", "basis": "local_authority", "given_by": "LA"}),
    )
    .await
    .expect(200, "consent");

    let changed = app
        .post(
            &format!("/periods/{period}/placements"),
            &json!({
                "started_on": "2026-02-04", "placement_type": "U4", "out_of_area": true,
                "host_la": "Devon", "host_provider_email": "cla.health@devon.nhs.uk",
            }),
        )
        .await
        .expect(201, "out-of-area placement");
    let request = &changed["out_of_area_request"];
    assert_eq!(request["assessment_id"], iha.as_str());
    assert_eq!(request["opened_on"], "2026-02-04");
    assert_eq!(request["host_la"], "Devon");
    let request_id = s(&request["id"]);

    let v = app.assessment(&iha).await;
    assert_eq!(
        v["out_of_area_request"]["id"],
        request_id.as_str(),
        "shown on the assessment"
    );
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|a| s(&a["id"]))
            .collect()
    };
    assert_eq!(ids(&app.get_ok("/assessments?out_of_area=true").await), [iha.as_str()]);
    assert!(!ids(&app.get_ok("/assessments?out_of_area=false").await).contains(&iha));

    // The host's clock.
    let path = format!("/out-of-area-requests/{request_id}");
    let r = app
        .post(&path, &json!({"version": 1, "acknowledged_on": "2026-02-05"}))
        .await;
    assert_problem(&r, 422, Some("acknowledged_on"), "acknowledged before it was requested");
    let r1 = app
        .post(&path, &json!({"version": 1, "requested_on": "2026-02-05"}))
        .await
        .expect(200, "requested");
    assert_eq!(r1["requested_on"], "2026-02-05");
    assert_eq!(r1["version"], 2);
    let r = app
        .post(&path, &json!({"version": 1, "acknowledged_on": "2026-02-06"}))
        .await;
    assert_problem(&r, 409, None, "stale out-of-area update");
    let r2 = app
        .post(
            &path,
            &json!({"version": 2, "acknowledged_on": "2026-02-06", "appointment_offered_on": "2026-02-09"}),
        )
        .await
        .expect(200, "acknowledged and offered");
    assert_eq!(r2["requested_on"], "2026-02-05", "earlier dates are kept");
    assert_eq!(r2["appointment_offered_on"], "2026-02-09");
    let v = app.assessment(&iha).await;
    assert_eq!(v["out_of_area_request"]["acknowledged_on"], "2026-02-06");
    assert_eq!(v["blocker"], "host_provider", "waiting on the host provider: {v}");

    // Back in area: the home team takes over and the request closes.
    app.post(
        &format!("/periods/{period}/placements"),
        &json!({"started_on": "2026-02-11", "placement_type": "U4", "out_of_area": false}),
    )
    .await
    .expect(201, "back in area");
    let v = app.assessment(&iha).await;
    assert!(v["out_of_area_request"].is_null(), "request closed: {v}");
    assert_eq!(v["blocker"], "booking");
    assert!(ids(&app.get_ok("/assessments?out_of_area=true").await).is_empty());
}

async fn competent_young_person_can_refuse(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child_id, _, iha) = app.child_in_care("REF-1", "2009-06-01", "2026-02-02").await;
    notify(&app, &iha, "2026-02-03").await;

    let r = consent(
        &app,
        &iha,
        json!({"refused_on": "2026-02-05", "basis": "parent_with_pr", "given_by": "Mother"}),
    )
    .await;
    assert_problem(&r, 422, Some("basis"), "only the young person can refuse");

    let v = consent(
        &app,
        &iha,
        json!({
            "refused_on": "2026-02-05", "basis": "young_person", "given_by": "the young person",
            "reoffer_plan": "Offer again at the next LAC review",
        }),
    )
    .await
    .expect(200, "competent refusal at 16");
    assert_eq!(v["state"], "refused");
    assert_eq!(v["blocker"], "refused", "stays visible");
    assert_eq!(v["rag"], "green", "a refusal is not a service failure");
    assert_eq!(v["ended_on"], "2026-02-05");
    let detail = app.child(&child_id).await;
    assert_eq!(detail["consents"][0]["refused_on"], "2026-02-05");
    assert_eq!(
        detail["consents"][0]["reoffer_plan"],
        "Offer again at the next LAC review"
    );
}

async fn refusal_under_sixteen_needs_a_competence_assessment(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child_id, _, iha) = app.child_in_care("REF-2", "2012-03-01", "2026-02-02").await;
    notify(&app, &iha, "2026-02-03").await;
    let before = app.assessment(&iha).await;
    let refusal = json!({"refused_on": "2026-02-05", "basis": "young_person", "given_by": "the young person"});
    let r = consent(&app, &iha, refusal.clone()).await;
    assert_problem(
        &r,
        422,
        Some("competence_assessed_by"),
        "under-16 refusal without who judged competence",
    );
    assert_eq!(snapshot(&app.assessment(&iha).await), snapshot(&before));
    assert_eq!(
        app.child(&child_id).await["consents"],
        json!([]),
        "no consent row written"
    );

    let mut with = refusal;
    with["competence_assessed_by"] = json!("Dr Jones, named doctor");
    let v = consent(&app, &iha, with).await.expect(200, "Gillick-competent refusal");
    assert_eq!(v["state"], "refused");
}

async fn local_authority_cannot_consent_under_section_20(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let child = app.register("S20-1", "2012-03-01").await;
    let child_id = s(&child["id"]);
    let started = app.start_period(&child_id, "2026-02-02", "V2").await;
    let iha = s(&started["assessment"]["id"]);
    notify(&app, &iha, "2026-02-03").await;
    let before = app.assessment(&iha).await;

    let r = consent(
        &app,
        &iha,
        json!({"given_on": "2026-02-04", "basis": "local_authority", "given_by": "Somerset Council"}),
    )
    .await;
    assert_problem(&r, 422, Some("basis"), "LA consent under section 20");
    assert!(r.text.contains("V2"), "the message names the legal status: {}", r.text);
    assert_eq!(snapshot(&app.assessment(&iha).await), snapshot(&before));
    assert_eq!(app.child(&child_id).await["consents"], json!([]));

    let v = consent(
        &app,
        &iha,
        json!({"given_on": "2026-02-04", "basis": "parent_with_pr", "given_by": "Mother"}),
    )
    .await
    .expect(200, "a parent with PR consents");
    assert_eq!(v["state"], "awaiting_booking");
}

async fn rha_due(app: &TestApp, child_id: &str) -> String {
    let page = app.get_ok(&format!("/assessments?child_id={child_id}&kind=RHA")).await;
    assert_eq!(page["total"], 1, "one review: {page}");
    s(&page["items"][0]["due_on"])
}

async fn rha_cadence_follows_age_on_the_day_seen_around_the_fifth_birthday(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    // Turns 5 on 10 Jan 2026, seen the day before: still under 5, so 6 months.
    let (a, _, iha_a) = app.child_in_care("R5-A", "2021-01-10", "2025-12-19").await;
    app.complete_iha(&iha_a, "2026-01-09").await;
    assert_eq!(
        rha_due(&app, &a).await,
        "2026-07-09",
        "seen the day before the 5th birthday"
    );

    // Turns 5 on 9 Jan 2026, seen that day: 5, so 12 months.
    let (b5, _, iha_b) = app.child_in_care("R5-B", "2021-01-09", "2025-12-19").await;
    app.complete_iha(&iha_b, "2026-01-09").await;
    assert_eq!(rha_due(&app, &b5).await, "2027-01-09", "seen on the 5th birthday");
}

/// An IHA notified on 3 Feb and consented on 6 Feb 2026.
async fn consented_on_6_feb(app: &TestApp, local_id: &str) -> (String, String) {
    let (child_id, _, iha) = app.child_in_care(local_id, "2013-05-05", "2026-02-02").await;
    notify(app, &iha, "2026-02-03").await;
    consent(
        app,
        &iha,
        json!({"given_on": "2026-02-06", "basis": "local_authority", "given_by": "LA"}),
    )
    .await
    .expect(200, "consent");
    assert_eq!(app.assessment(&iha).await["state"], "awaiting_booking");
    (child_id, iha)
}

async fn as_of_view_shows_what_was_true_then(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child_id, iha) = consented_on_6_feb(&app, "ASOF-1").await;

    let then = app.assessment_as_of(&iha, "2026-02-05").await;
    assert_eq!(then["as_of"], "2026-02-05");
    assert_eq!(then["blocker"], "consent", "on 5 Feb it was waiting on consent: {then}");
    assert_eq!(
        milestone(&then, "consent")["status"],
        "pending",
        "consent recorded later shows as pending"
    );
    assert!(milestone(&then, "consent")["done_on"].is_null());
    assert_eq!(milestone(&then, "notification")["done_on"], "2026-02-03");
    assert_eq!(then["working_days_elapsed"], 3);
    assert_eq!(then["working_days_remaining"], 17);

    let before_notice = app.assessment_as_of(&iha, "2026-02-02").await;
    assert_eq!(before_notice["blocker"], "notification");
    assert_eq!(milestone(&before_notice, "notification")["status"], "pending");

    let detail = app.get_ok(&format!("/children/{child_id}?as_of=2026-02-05")).await;
    assert_eq!(detail["assessments"][0]["blocker"], "consent", "the child's record too");
    let now = app.assessment(&iha).await;
    assert_eq!(now["blocker"], "booking");
    assert_eq!(milestone(&now, "consent")["status"], "met");
}

/// The derived fields are rolled back to `as_of`, but `state` and the dated facts are not:
/// the view for 5 Feb says `state: awaiting_booking` and `consent_on: 2026-02-06` (a fact
/// from after `as_of`) next to `blocker: consent`.
async fn as_of_view_rolls_back_state_and_dated_facts(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (child_id, iha) = consented_on_6_feb(&app, "ASOF-2").await;
    let then = app.assessment_as_of(&iha, "2026-02-05").await;
    assert_eq!(then["state"], "awaiting_consent", "state on 5 Feb: {then}");
    assert!(
        then["consent_on"].is_null(),
        "consent given on 6 Feb is not known on 5 Feb: {then}"
    );
    let before_notice = app.assessment_as_of(&iha, "2026-02-02").await;
    assert_eq!(before_notice["state"], "awaiting_notification");
    assert!(before_notice["notified_on"].is_null());
    let detail = app.get_ok(&format!("/children/{child_id}?as_of=2026-02-05")).await;
    assert_eq!(detail["assessments"][0]["state"], "awaiting_consent");
}

/// DOMAIN.md: a child turning 18 stops being looked after; open IHA/RHA obligations close.
/// The housekeeping each instance runs does it; here it is called directly for a date.
async fn eighteenth_birthday_closes_open_obligations(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    // Born 20 Feb 2008: 18 on 20 Feb 2026, four days after TODAY.
    let (child_id, _, iha) = app.child_in_care("W-18", "2008-02-20", "2026-02-02").await;
    let url = app.db_url.clone();
    let closed_early = tokio::task::spawn_blocking(move || {
        let mut conn = crate::helpers::connect(&url);
        let before = cla_tracker::service::housekeeping::close_for_eighteenth_birthdays(
            &mut conn,
            "2026-02-19".parse().unwrap(),
        )
        .expect("housekeeping runs");
        let on = cla_tracker::service::housekeeping::close_for_eighteenth_birthdays(
            &mut conn,
            "2026-02-20".parse().unwrap(),
        )
        .expect("housekeeping runs");
        (before, on)
    })
    .await
    .expect("housekeeping did not panic");
    assert_eq!(
        closed_early,
        (0, 1),
        "nothing closes the day before the 18th birthday; the IHA closes on it"
    );
    let view = app.assessment(&iha).await;
    assert_eq!(
        view["state"], "awaiting_notification",
        "viewed as of TODAY the closure has not happened yet: {view}"
    );
    assert_eq!(view["ended_on"], Value::Null, "{view}");
    let later = app.assessment_as_of(&iha, "2026-02-20").await;
    assert_eq!(later["state"], "closed", "{later}");
    assert_eq!(later["ended_on"], "2026-02-20", "{later}");
    assert!(s(&later["end_reason"]).contains("turned 18"), "{later}");
    let timeline = app.child(&child_id).await["timeline"].clone();
    assert!(
        timeline
            .as_array()
            .expect("timeline")
            .iter()
            .any(|e| e["step"] == "close"),
        "the closure is on the child's timeline: {timeline}"
    );
}
