//! One child's whole journey over HTTP, from registration to the first review being
//! scheduled, checking the derived status (RAG, blocker, milestones, attribution) on the
//! dates a meeting would look at.

use serde_json::{json, Value};

use crate::helpers::{milestone, s, spawn_app, Backend, TestApp};

both!(journey_of_one_child, review_of_a_child_under_five_is_due_in_six_months);

fn steps_of(detail: &Value, assessment_id: &str) -> Vec<String> {
    detail["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["assessment_id"] == assessment_id)
        .map(|e| s(&e["step"]))
        .collect()
}

async fn rha_of(app: &TestApp, child_id: &str) -> Value {
    let page = app.get_ok(&format!("/assessments?child_id={child_id}&kind=RHA")).await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "exactly one review scheduled: {page}");
    items[0].clone()
}

async fn journey_of_one_child(b: Backend) {
    let app = spawn_app(b, "2026-02-02").await;

    // Registration: the NHS number is accepted as shown (3-3-4) and stored as digits.
    let child = app
        .register_with(json!({
            "local_id": "J-1001",
            "given_name": "Jamie",
            "family_name": "Example",
            "date_of_birth": "2015-06-01",
            "sex": "M",
            "responsible_la": "SOM",
            "nhs_number": "999 000 0018",
            "gp_practice": "Park Surgery",
            "social_worker_email": "sw@somerset.gov.uk",
        }))
        .await;
    assert_eq!(child["nhs_number"], "9990000018", "NHS number stored as 10 digits");
    assert_eq!(child["version"], 1);
    let child_id = s(&child["id"]);

    // Became looked after on Fri 19 Dec 2025 under a full care order.
    let started = app
        .start_period_with(
            &child_id,
            json!({
                "started_on": "2025-12-19",
                "legal_status": "C2",
                "category_of_need": "N1",
                "placement": {"placement_type": "U4", "out_of_area": false},
            }),
        )
        .await;
    assert_eq!(started["period"]["started_on"], "2025-12-19");
    assert_eq!(started["period"]["legal_status"], "C2");
    assert_eq!(
        started["period"]["placements"][0]["started_on"], "2025-12-19",
        "the first placement starts with the period"
    );
    let iha = &started["assessment"];
    let iha_id = s(&iha["id"]);
    assert_eq!(iha["kind"], "IHA");
    assert_eq!(iha["state"], "awaiting_notification");
    assert_eq!(iha["clock_started_on"], "2025-12-19");
    assert_eq!(
        iha["due_on"], "2026-01-21",
        "IHA due on the 20th working day after Fri 19 Dec 2025"
    );
    let explanation = s(&iha["explanation"]);
    for holiday in ["Christmas Day", "Boxing Day", "New Year"] {
        assert!(
            explanation.contains(holiday),
            "explanation names {holiday}: {explanation}"
        );
    }
    assert!(
        explanation.contains("21 Jan 2026"),
        "explanation gives the due date: {explanation}"
    );

    // Mon 22 Dec (working day 1): nothing is late yet.
    let v = app.assessment_as_of(&iha_id, "2025-12-22").await;
    assert_eq!(v["rag"], "green", "day 1: {v}");
    assert_eq!(v["blocker"], "notification");
    assert_eq!(v["breach_attribution"], "none");
    assert_eq!(v["working_days_elapsed"], 1);
    assert_eq!(v["working_days_remaining"], 19);
    assert_eq!(milestone(&v, "notification")["due_on"], "2025-12-23");
    assert_eq!(milestone(&v, "notification")["status"], "pending");

    // Wed 24 Dec with no notification on record: the LA's notification milestone (day 2)
    // is missed but the due date is not: amber, the LA's breach.
    let v = app.assessment_as_of(&iha_id, "2025-12-24").await;
    assert_eq!(v["rag"], "amber", "late notification is amber: {v}");
    assert_eq!(milestone(&v, "notification")["status"], "missed");
    assert_eq!(v["breach_attribution"], "local_authority");
    assert_eq!(v["blocker"], "notification");

    // Notification (received on time, recorded later), sending the version read.
    let v = app
        .post(
            &format!("/assessments/{iha_id}/notification"),
            &json!({"received_on": "2025-12-23", "version": 1}),
        )
        .await
        .expect(200, "notification");
    assert_eq!(v["state"], "awaiting_consent");
    assert_eq!(v["version"], 2);
    assert_eq!(v["notified_on"], "2025-12-23");

    // Consent by the LA, which shares parental responsibility under a care order.
    let v = app
        .post(
            &format!("/assessments/{iha_id}/consent"),
            &json!({
                "given_on": "2025-12-30",
                "basis": "local_authority",
                "given_by": "Somerset Council",
                "confirmed_by": "sw@somerset.gov.uk",
                "scope": ["assessment", "share_report"],
            }),
        )
        .await
        .expect(200, "consent");
    assert_eq!(v["state"], "awaiting_booking");
    assert_eq!(v["consent_on"], "2025-12-30");
    assert_eq!(
        milestone(&v, "consent")["status"],
        "met",
        "consent by day 5 (Tue 30 Dec)"
    );

    // Booking answers the assessment and the appointment it made, so the outcome can be
    // recorded without reading the child again.
    let v = app.book(&iha_id, "2025-12-31", "2026-01-06T10:00:00Z").await;
    assert_eq!(v["state"], "booked");
    assert_eq!(v["appointment_on"], "2026-01-06");
    assert_eq!(v["first_booked_on"], "2025-12-31");
    let first_appointment = s(&v["appointment"]["id"]);
    assert_eq!(
        first_appointment,
        app.latest_appointment(&child_id, &iha_id).await,
        "the answer's appointment is the one on the record"
    );

    // Was not brought: back to booking, counted, and the LA's side.
    let v = app
        .post(
            &format!("/appointments/{first_appointment}/outcome"),
            &json!({"outcome": "was_not_brought", "recorded_on": "2026-01-06"}),
        )
        .await
        .expect(200, "was_not_brought");
    assert_eq!(v["state"], "awaiting_booking", "not brought sends it back to booking");
    assert_eq!(v["non_attendance_count"], 1);
    assert_eq!(v["last_non_attendance"]["outcome"], "was_not_brought");
    assert_eq!(v["last_non_attendance"]["on"], "2026-01-06");
    assert!(v["appointment_on"].is_null(), "no current appointment: {v}");

    // The day after: nothing missed yet, waiting on a new booking.
    let v = app.assessment_as_of(&iha_id, "2026-01-07").await;
    assert_eq!(v["rag"], "green", "{v}");
    assert_eq!(v["blocker"], "booking");
    assert_eq!(v["breach_attribution"], "none");

    // Thu 15 Jan: the appointment milestone (day 15, Wed 14 Jan) is missed because the
    // child was not brought: amber, and the LA's breach, not health's.
    let v = app.assessment_as_of(&iha_id, "2026-01-15").await;
    assert_eq!(milestone(&v, "appointment")["due_on"], "2026-01-14");
    assert_eq!(milestone(&v, "appointment")["status"], "missed");
    assert_eq!(v["rag"], "amber", "{v}");
    assert_eq!(
        v["breach_attribution"], "local_authority",
        "child not brought is LA-side: {v}"
    );

    // Thu 22 Jan with still no new appointment: the due date has passed: red.
    let v = app.assessment_as_of(&iha_id, "2026-01-22").await;
    assert_eq!(v["rag"], "red", "{v}");
    assert_eq!(v["working_days_remaining"], 0);
    assert_eq!(v["breach_attribution"], "local_authority");

    // Rebooking, attendance, completion.
    let v = app.book(&iha_id, "2026-01-07", "2026-01-16T09:30:00Z").await;
    assert_eq!(v["state"], "booked");
    assert_eq!(v["first_booked_on"], "2025-12-31", "first booking date is kept");
    let second_appointment = s(&v["appointment"]["id"]);
    assert_ne!(second_appointment, first_appointment);
    assert_eq!(
        v["appointment"]["starts_at"], "2026-01-16T09:30:00+00:00",
        "London time in winter"
    );
    let v = app
        .post(
            &format!("/appointments/{second_appointment}/outcome"),
            &json!({"outcome": "attended", "recorded_on": "2026-01-16"}),
        )
        .await
        .expect(200, "attended");
    assert_eq!(v["state"], "awaiting_report");
    assert_eq!(v["seen_on"], "2026-01-16");
    let v = app
        .post(
            &format!("/assessments/{iha_id}/completion"),
            &json!({"seen_on": "2026-01-16", "report_received_on": "2026-01-20"}),
        )
        .await
        .expect(200, "completion");
    assert_eq!(v["state"], "completed");
    assert_eq!(v["completed_on"], "2026-01-20");
    assert_eq!(v["blocker"], "none");
    assert_eq!(milestone(&v, "report")["status"], "met", "report back by day 20");
    assert_eq!(
        v["rag"], "amber",
        "completed on time but the appointment milestone was missed: {v}"
    );
    assert_eq!(v["breach_attribution"], "local_authority");

    // A 10-year-old's first review is due 12 months after the day they were seen.
    let rha = rha_of(&app, &child_id).await;
    assert_eq!(rha["state"], "scheduled");
    assert_eq!(rha["clock_started_on"], "2026-01-16");
    assert_eq!(
        rha["due_on"], "2027-01-16",
        "RHA 12 months after seen_on for a child aged 10"
    );

    // The whole record.
    let detail = app.child(&child_id).await;
    assert_eq!(detail["id"], child_id.as_str());
    assert_eq!(detail["nhs_number"], "9990000018");
    let periods = detail["periods"].as_array().expect("periods");
    assert_eq!(periods.len(), 1);
    assert_eq!(periods[0]["placements"].as_array().map(Vec::len), Some(1));
    assert_eq!(periods[0]["placements"][0]["placement_type"], "U4");
    let assessments = detail["assessments"].as_array().expect("assessments");
    let kinds: Vec<&str> = assessments.iter().filter_map(|a| a["kind"].as_str()).collect();
    assert_eq!(kinds, ["IHA", "RHA"], "the IHA and the review it scheduled");
    let consents = detail["consents"].as_array().expect("consents");
    assert_eq!(consents.len(), 1);
    assert_eq!(consents[0]["basis"], "local_authority");
    assert_eq!(consents[0]["scope"], json!(["assessment", "share_report"]));
    assert_eq!(consents[0]["confirmed_by"], "sw@somerset.gov.uk");
    let outcomes: Vec<Value> = detail["appointments"]
        .as_array()
        .expect("appointments")
        .iter()
        .map(|a| a["outcome"].clone())
        .collect();
    assert_eq!(outcomes, [json!("was_not_brought"), json!("attended")]);
    assert_eq!(
        steps_of(&detail, &iha_id),
        [
            "opened",
            "notification",
            "consent",
            "appointment",
            "outcome",
            "appointment",
            "outcome",
            "completion"
        ],
        "the IHA's timeline, in order"
    );
    assert_eq!(steps_of(&detail, &s(&rha["id"])), ["scheduled"]);
}

async fn review_of_a_child_under_five_is_due_in_six_months(b: Backend) {
    let app = spawn_app(b, "2026-02-02").await;
    let (child_id, _, iha_id) = app.child_in_care("J-2002", "2023-03-10", "2025-12-19").await;
    let v = app.complete_iha(&iha_id, "2026-01-12").await;
    assert_eq!(v["state"], "completed");
    let rha = rha_of(&app, &child_id).await;
    assert_eq!(
        rha["due_on"], "2026-07-12",
        "a child aged 2 is reviewed within 6 months"
    );
    assert!(
        s(&rha["explanation"]).contains("under 5"),
        "explanation says why: {}",
        rha["explanation"]
    );
}
