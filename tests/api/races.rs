//! Invariants two requests could race on (issue 8, defect 4): fired together, several at a
//! time and in several rounds so that an unlucky interleaving gets its chance. Where only
//! one may succeed, exactly one does and every other gets the 409 (or 422) its own check
//! would give; in every case the invariant holds and nothing half-written remains. On SQLite writers take turns; on PostgreSQL they run side by side
//! and the database constraints decide.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, s, spawn_app, Backend, Resp, TestApp};

both!(
    concurrent_period_starts_leave_one_open_period_and_one_iha,
    concurrent_placement_changes_leave_one_open_out_of_area_request,
    concurrent_registrations_of_one_local_id_register_one_child,
    concurrent_consent_withdrawals_are_recorded_once,
);

const TODAY: &str = "2026-02-16";
const ROUNDS: usize = 5;
const AT_ONCE: usize = 4;

/// Sends `bodies` to `path` all at once (each on its own task) and returns the answers.
async fn at_once(app: &TestApp, path: &str, bodies: Vec<Value>) -> Vec<Resp> {
    let url = app.url(path);
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let request = app
                .client
                .request(Method::POST, url.clone())
                .header("content-type", "application/json")
                .body(body.to_string());
            tokio::spawn(async move { crate::security::read(request.send().await.expect("sent")).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("the request task finished"));
    }
    answers
}

/// Exactly one answer has `won`; every other is a problem with `lost`, naming `field`.
#[track_caller]
fn one_winner(answers: &[Resp], won: u16, lost: u16, field: Option<&str>, what: &str) -> usize {
    let winners: Vec<usize> = (0..answers.len()).filter(|&i| answers[i].status == won).collect();
    assert_eq!(
        winners.len(),
        1,
        "{what}: exactly one request wins; answers: {:?}",
        answers.iter().map(|r| (r.status, r.text.as_str())).collect::<Vec<_>>()
    );
    for (i, r) in answers.iter().enumerate().filter(|(i, _)| *i != winners[0]) {
        assert_problem(r, lost, field, &format!("{what}: loser {i}"));
    }
    winners[0]
}

async fn concurrent_period_starts_leave_one_open_period_and_one_iha(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    for round in 0..ROUNDS {
        let child = s(&app.register(&format!("RACE-P{round}"), "2013-03-03").await["id"]);
        // Different days and legal statuses, so the winner is identifiable.
        let bodies = (0..AT_ONCE)
            .map(|i| json!({"started_on": format!("2026-02-0{}", i + 2), "legal_status": "C2"}))
            .collect();
        let answers = at_once(&app, &format!("/children/{child}/periods"), bodies).await;
        let what = format!("round {round}");
        let winner = one_winner(&answers, 201, 409, None, &what);
        for (i, r) in answers.iter().enumerate().filter(|(i, _)| *i != winner) {
            assert!(
                r.detail().contains("already looked after"),
                "{what}: loser {i}: {}",
                r.text
            );
        }

        let detail = app.child(&child).await;
        let periods = detail["periods"].as_array().expect("periods");
        assert_eq!(periods.len(), 1, "{what}: one period in all: {}", detail["periods"]);
        assert_eq!(periods[0]["ended_on"], Value::Null, "{what}: and it is open");
        assert_eq!(
            periods[0]["id"], answers[winner].json["period"]["id"],
            "{what}: the winner's"
        );
        let ihas: Vec<&Value> = detail["assessments"]
            .as_array()
            .expect("assessments")
            .iter()
            .filter(|a| a["kind"] == "IHA")
            .collect();
        assert_eq!(ihas.len(), 1, "{what}: one IHA: {}", detail["assessments"]);
        assert_eq!(
            ihas[0]["id"], answers[winner].json["assessment"]["id"],
            "{what}: the winner's IHA"
        );
        let opened = detail["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .filter(|e| e["step"] == "opened")
            .count();
        assert_eq!(opened, 1, "{what}: the losers left no timeline entry");
    }
}

async fn concurrent_placement_changes_leave_one_open_out_of_area_request(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    for round in 0..ROUNDS {
        let (child, period, iha) = app
            .child_in_care(&format!("RACE-O{round}"), "2013-03-03", "2026-02-02")
            .await;
        let bodies = (0..AT_ONCE)
            .map(|i| {
                json!({"started_on": "2026-02-09", "placement_type": "U4", "out_of_area": true,
                       "host_la": format!("Host {i}"), "host_provider_email": format!("host{i}@example.nhs.uk")})
            })
            .collect();
        let answers = at_once(&app, &format!("/periods/{period}/placements"), bodies).await;
        let what = format!("round {round}");
        // Placement changes on one day are each valid, one after another; changes made at
        // the same moment on what each read are not: those get 409 and keep nothing.
        let mut won = Vec::new();
        for (i, r) in answers.iter().enumerate() {
            if r.status == 201 {
                won.push(r.json["out_of_area_request"]["id"].clone());
            } else {
                assert_problem(r, 409, None, &format!("{what}: answer {i}"));
            }
        }
        assert!(!won.is_empty(), "{what}: at least one change is recorded");

        let detail = app.child(&child).await;
        let requests = detail["out_of_area_requests"].as_array().expect("out_of_area_requests");
        let open: Vec<&Value> = requests
            .iter()
            .filter(|r| r["assessment_id"] == iha.as_str() && r["closed_on"].is_null())
            .collect();
        assert_eq!(
            open.len(),
            1,
            "{what}: one open request: {}",
            detail["out_of_area_requests"]
        );
        assert!(
            won.contains(&open[0]["id"]),
            "{what}: a recorded change's request is open"
        );
        assert_eq!(requests.len(), won.len(), "{what}: one request per recorded change");
        let placements = detail["periods"][0]["placements"].as_array().expect("placements");
        assert_eq!(placements.len(), won.len(), "{what}: one placement per recorded change");
    }
}

async fn concurrent_registrations_of_one_local_id_register_one_child(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    for round in 0..ROUNDS {
        let local_id = format!("RACE-C{round}");
        let bodies = (0..AT_ONCE)
            .map(|i| {
                json!({"local_id": local_id, "given_name": format!("Twin{i}"), "family_name": "Race",
                       "date_of_birth": "2013-03-03", "sex": "F", "responsible_la": "SOM"})
            })
            .collect();
        let answers = at_once(&app, "/children", bodies).await;
        // The loser is told what a second registration is told, race or not.
        one_winner(&answers, 201, 422, Some("local_id"), &format!("round {round}"));
    }
    assert_eq!(app.children_count().await, ROUNDS, "one child per local id");
}

async fn concurrent_consent_withdrawals_are_recorded_once(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    for round in 0..ROUNDS {
        let (child, _, iha) = app
            .child_in_care(&format!("RACE-W{round}"), "2013-03-03", "2026-02-02")
            .await;
        app.post(
            &format!("/assessments/{iha}/notification"),
            &json!({"received_on": "2026-02-03"}),
        )
        .await
        .expect(200, "notification");
        app.post(
            &format!("/assessments/{iha}/consent"),
            &json!({"given_on": "2026-02-04", "basis": "parent_with_pr", "given_by": "Mother"}),
        )
        .await
        .expect(200, "consent");
        let consent = s(&app.child(&child).await["consents"][0]["id"]);
        let bodies = (0..AT_ONCE).map(|_| json!({"withdrawn_on": "2026-02-10"})).collect();
        let answers = at_once(&app, &format!("/consents/{consent}/withdrawal"), bodies).await;
        let what = format!("round {round}");
        one_winner(&answers, 200, 409, None, &what);
        let withdrawals = app.child(&child).await["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .filter(|e| e["step"] == "consent_withdrawn")
            .count();
        assert_eq!(withdrawals, 1, "{what}: one withdrawal on the timeline");
    }
}
