//! Record-level access: a local authority's staff see its children only; ICB and provider
//! staff see the children of every local authority in their ICB and no other. A child out
//! of scope answers exactly like one that does not exist, and the attempt is on record.

use cla_tracker::access::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, s, spawn_app, Backend, Resp, TestApp};
use crate::security::{
    add_org_in, as_token, audit_by, get_as, post_as, record, snapshot, unknown_id, user_with_token, Record,
    DEFAULT_EMAIL,
};

both!(
    social_worker_sees_only_own_authority,
    out_of_scope_lists_leave_the_child_out,
    registering_for_another_authority_is_refused_naming_responsible_la,
    own_authority_child_is_fully_visible_to_its_social_worker_and_the_icb,
    another_icbs_local_authority_is_invisible,
    out_of_scope_appointment_answers_like_an_unknown_one,
);

const TODAY: &str = "2026-02-16";
const DEV_SW: &str = "sw@dev.gov.uk";
/// A DEV user with every role that touches children, for the routes a social worker may
/// not call at all (access history, booking, completion, assurance).
const DEV_ALL: &str = "all@dev.gov.uk";

struct Setup {
    app: TestApp,
    rec: Record,
    sw: String,
    all: String,
}

/// LA DEV beside SOM in the ICB; a SOM child with one of everything (made by the ICB
/// user); a social worker of DEV and a DEV user with every child-facing role.
async fn setup(b: Backend) -> Setup {
    let app = spawn_app(b, TODAY).await;
    add_org_in(&app, "local_authority", "DEV", Some("ICB")).await;
    let rec = record(&app, "S-1").await;
    let sw = user_with_token(&app, DEV_SW, "DEV", &[Role::SocialWorker]).await;
    let all = user_with_token(
        &app,
        DEV_ALL,
        "DEV",
        &[Role::HealthAdmin, Role::Clinician, Role::SocialWorker, Role::Assurance],
    )
    .await;
    Setup { app, rec, sw, all }
}

/// A request on a record: its path with `{id}`, and body.
struct Probe {
    method: Method,
    path: &'static str,
    body: Option<Value>,
}

fn probe(method: Method, path: &'static str, body: Option<Value>) -> Probe {
    Probe { method, path, body }
}

/// Requests a DEV social worker may make on records of their own authority.
fn social_worker_probes() -> Vec<Probe> {
    vec![
        probe(Method::GET, "/children/{child}", None),
        probe(
            Method::PATCH,
            "/children/{child}",
            Some(json!({"version": 1, "given_name": "Changed"})),
        ),
        probe(
            Method::POST,
            "/children/{child}/notes",
            Some(json!({"body": "a note", "author": "SW"})),
        ),
        probe(
            Method::POST,
            "/children/{child}/periods",
            Some(json!({"started_on": "2026-02-10", "legal_status": "C2"})),
        ),
        probe(
            Method::POST,
            "/periods/{period}/placements",
            Some(json!({"started_on": "2026-02-10", "placement_type": "U4", "out_of_area": false})),
        ),
        probe(
            Method::POST,
            "/periods/{period}/end",
            Some(json!({"ended_on": "2026-02-10", "reason": "E3"})),
        ),
        probe(Method::GET, "/assessments/{iha}", None),
        probe(
            Method::POST,
            "/assessments/{iha}/notification",
            Some(json!({"received_on": "2026-02-03"})),
        ),
        probe(
            Method::POST,
            "/assessments/{iha}/consent",
            Some(json!({"given_on": "2026-02-04", "basis": "local_authority", "given_by": "LA"})),
        ),
        probe(
            Method::POST,
            "/assessments/{iha}/reoffer",
            Some(json!({"offered_on": "2026-02-10"})),
        ),
        probe(
            Method::POST,
            "/consents/{consent}/withdrawal",
            Some(json!({"withdrawn_on": "2026-02-10"})),
        ),
    ]
}

/// Requests only the DEV user with every role may make.
fn other_role_probes() -> Vec<Probe> {
    vec![
        probe(Method::GET, "/children/{child}/access-history", None),
        probe(
            Method::POST,
            "/children/{child}/health-checks",
            Some(json!({"kind": "dental", "checked_on": "2026-02-10", "up_to_date": true})),
        ),
        probe(
            Method::POST,
            "/assessments/{iha}/appointments",
            Some(
                json!({"starts_at": "2026-02-25T10:00:00Z", "clinician": "Dr X", "location": "Exeter", "booked_on": "2026-02-10"}),
            ),
        ),
        probe(
            Method::POST,
            "/assessments/{iha}/completion",
            Some(json!({"seen_on": "2026-02-10"})),
        ),
        probe(
            Method::POST,
            "/assessments/{iha}/not-required",
            Some(json!({"prior_assessment_on": "2026-01-10"})),
        ),
        probe(
            Method::POST,
            "/assessments/{iha}/close",
            Some(json!({"closed_on": "2026-02-10", "reason": "moved away"})),
        ),
        probe(
            Method::POST,
            "/out-of-area-requests/{request}",
            Some(json!({"version": 1, "acknowledged_on": "2026-02-10"})),
        ),
    ]
}

fn fill(path: &str, r: &Record) -> String {
    path.replace("{child}", &r.child)
        .replace("{period}", &r.period)
        .replace("{iha}", &r.iha)
        .replace("{consent}", &r.consent)
        .replace("{request}", &r.request)
        .replace("{appointment}", &r.appointment)
}

/// Every id in the record replaced by one nobody has.
fn unknown_record() -> Record {
    Record {
        child: unknown_id(),
        period: unknown_id(),
        iha: unknown_id(),
        appointment: unknown_id(),
        request: unknown_id(),
        consent: unknown_id(),
    }
}

/// Sends the probe on the real (out-of-scope) record and on unknown ids: both must be the
/// same 404, byte for byte.
async fn indistinguishable(app: &TestApp, token: &str, p: &Probe, rec: &Record) -> Option<String> {
    let real = fill(p.path, rec);
    let fake = fill(p.path, &unknown_record());
    let out: Resp = as_token(app, token, p.method.clone(), &real, p.body.as_ref()).await;
    let missing: Resp = as_token(app, token, p.method.clone(), &fake, p.body.as_ref()).await;
    let what = format!("{} {}", p.method, p.path);
    if out.status != 404 || !out.content_type().starts_with("application/problem+json") {
        return Some(format!("{what}: out of scope answered {} {}", out.status, out.text));
    }
    if (out.status, out.content_type(), &out.text) != (missing.status, missing.content_type(), &missing.text) {
        return Some(format!(
            "{what}: out of scope answered {} {} but an unknown id {} {}",
            out.status, out.text, missing.status, missing.text
        ));
    }
    None
}

async fn social_worker_sees_only_own_authority(b: Backend) {
    let Setup { app, rec, sw, all } = setup(b).await;
    let before = snapshot(&app, &rec).await;
    let sw_probes = social_worker_probes();
    let mut wrong = Vec::new();
    for p in &sw_probes {
        wrong.extend(indistinguishable(&app, &sw, p, &rec).await);
    }
    for p in &other_role_probes() {
        wrong.extend(indistinguishable(&app, &all, p, &rec).await);
    }
    assert!(
        wrong.is_empty(),
        "out-of-scope records must answer exactly like unknown ones:\n{}",
        wrong.join("\n")
    );
    assert_eq!(
        snapshot(&app, &rec).await,
        before,
        "no out-of-scope attempt changed anything"
    );

    let failed = audit_by(&app, DEV_SW, "failed").await;
    assert_eq!(
        failed.len(),
        2 * sw_probes.len(),
        "every attempt (out of scope and unknown id alike) is on record as failed"
    );
    assert!(
        failed
            .iter()
            .all(|e| e.changes.as_deref().is_some_and(|c| c.contains("404"))),
        "with the answer given: {:?}",
        failed.iter().map(|e| &e.changes).collect::<Vec<_>>()
    );
    let looked = crate::security::audit_rows(&app)
        .await
        .into_iter()
        .filter(|e| e.outcome == "ok" && [DEV_SW, DEV_ALL].contains(&e.user_email.as_deref().unwrap_or("")))
        .count();
    assert_eq!(
        looked, 0,
        "no successful look at the SOM child is recorded for DEV users"
    );
}

async fn out_of_scope_lists_leave_the_child_out(b: Backend) {
    let Setup { app, rec, sw, all } = setup(b).await;
    let c = rec.child.as_str();

    // Positive controls: the ICB user sees the child in every list.
    assert!(
        app.get_ok("/children").await.to_string().contains(c),
        "the ICB user lists the SOM child"
    );
    assert!(
        app.get_ok("/assessments").await.to_string().contains(c),
        "and its assessments"
    );
    assert!(
        app.get_ok("/assurance/iha").await.to_string().contains(c),
        "and its IHA on the assurance list"
    );

    for (token, who) in [(&sw, "DEV social worker"), (&all, "DEV user with every role")] {
        for path in [
            "/children".to_string(),
            "/children?q=TestS-1".to_string(),
            "/children?q=S-1".to_string(),
            "/assessments".to_string(),
            format!("/assessments?child_id={c}"),
        ] {
            let list = get_as(&app, token, &path)
                .await
                .expect(200, &format!("{who} GET {path}"));
            assert!(
                !list.to_string().contains(c),
                "{who}: GET {path} must not show the SOM child: {list}"
            );
        }
    }
    let list = get_as(&app, &all, "/assurance/iha")
        .await
        .expect(200, "DEV GET /assurance/iha");
    assert!(
        !list.to_string().contains(c),
        "the DEV assurance list leaves the SOM child out: {list}"
    );
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(0),
        "and has nothing else: {list}"
    );
}

async fn registering_for_another_authority_is_refused_naming_responsible_la(b: Backend) {
    let Setup { app, sw, .. } = setup(b).await;
    let count = app.children_count().await;
    let r = post_as(
        &app,
        &sw,
        "/children",
        &json!({
            "local_id": "D-9", "given_name": "Ben", "family_name": "Elsewhere", "date_of_birth": "2015-05-05",
            "sex": "M", "responsible_la": "SOM",
        }),
    )
    .await;
    assert_problem(
        &r,
        422,
        Some("responsible_la"),
        "a DEV social worker registering a SOM child",
    );
    assert_eq!(app.children_count().await, count, "nothing was registered");
    let failed = audit_by(&app, DEV_SW, "failed").await;
    assert_eq!(failed.len(), 1, "the attempt is on record");
    assert!(failed[0].changes.as_deref().is_some_and(|c| c.contains("422")));
}

async fn own_authority_child_is_fully_visible_to_its_social_worker_and_the_icb(b: Backend) {
    let Setup { app, sw, all, .. } = setup(b).await;
    let child = post_as(
        &app,
        &sw,
        "/children",
        &json!({
            "local_id": "D-1", "given_name": "Dee", "family_name": "Devon", "date_of_birth": "2013-03-03",
            "sex": "F", "responsible_la": "DEV",
        }),
    )
    .await
    .expect(201, "a DEV social worker registers a DEV child");
    let id = s(&child["id"]);
    let started = post_as(
        &app,
        &sw,
        &format!("/children/{id}/periods"),
        &json!({"started_on": "2026-02-09", "legal_status": "C2"}),
    )
    .await
    .expect(201, "and starts a period of care");
    let iha = s(&started["assessment"]["id"]);

    let detail = get_as(&app, &sw, &format!("/children/{id}"))
        .await
        .expect(200, "the SW reads the child");
    assert_eq!(detail["responsible_la"], "DEV", "{detail}");
    get_as(&app, &sw, &format!("/assessments/{iha}"))
        .await
        .expect(200, "the SW reads the IHA");
    post_as(
        &app,
        &sw,
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2026-02-10"}),
    )
    .await
    .expect(200, "the SW records the notification");
    assert!(
        get_as(&app, &sw, "/children").await.json.to_string().contains(&id),
        "listed for the SW"
    );
    assert!(
        get_as(&app, &sw, "/assessments").await.json.to_string().contains(&iha),
        "IHA listed for the SW"
    );
    assert!(
        get_as(&app, &all, "/assurance/iha")
            .await
            .json
            .to_string()
            .contains(&id),
        "on DEV's assurance list"
    );
    get_as(&app, &all, &format!("/children/{id}/access-history"))
        .await
        .expect(200, "DEV assurance reads who looked");

    // The ICB sees every LA of the ICB.
    let icb_view = app.child(&id).await;
    assert_eq!(icb_view["id"], id.as_str());
    assert!(
        app.get_ok("/children").await.to_string().contains(&id),
        "listed for the ICB user"
    );
    assert_eq!(
        app.assessment(&iha).await["state"],
        "awaiting_consent",
        "the ICB user sees the SW's step"
    );
    // So does a provider in the ICB.
    add_org_in(&app, "provider", "PRV", Some("ICB")).await;
    let nurse = user_with_token(&app, "nurse@prv.nhs.uk", "PRV", &[Role::Clinician]).await;
    get_as(&app, &nurse, &format!("/children/{id}"))
        .await
        .expect(200, "a provider clinician reads the DEV child");
}

async fn another_icbs_local_authority_is_invisible(b: Backend) {
    let Setup { app, rec, sw, .. } = setup(b).await;
    add_org_in(&app, "icb", "ICB2", None).await;
    add_org_in(&app, "local_authority", "CRN", Some("ICB2")).await;
    let crn = user_with_token(&app, "sw@crn.gov.uk", "CRN", &[Role::SocialWorker, Role::HealthAdmin]).await;
    let child = post_as(
        &app,
        &crn,
        "/children",
        &json!({
            "local_id": "C-1", "given_name": "Cal", "family_name": "Cornish", "date_of_birth": "2012-02-02",
            "sex": "M", "responsible_la": "CRN",
        }),
    )
    .await
    .expect(201, "a CRN social worker registers a CRN child");
    let id = s(&child["id"]);
    let started = post_as(
        &app,
        &crn,
        &format!("/children/{id}/periods"),
        &json!({"started_on": "2026-02-09", "legal_status": "C2"}),
    )
    .await
    .expect(201, "and starts a period");
    let iha = s(&started["assessment"]["id"]);

    for (token, who) in [(None, "the ICB user"), (Some(&sw), "the DEV social worker")] {
        for (path, unknown) in [
            (format!("/children/{id}"), format!("/children/{}", unknown_id())),
            (format!("/assessments/{iha}"), format!("/assessments/{}", unknown_id())),
        ] {
            let out = get_by(&app, token, &path).await;
            let missing = get_by(&app, token, &unknown).await;
            assert_problem(&out, 404, None, &format!("{who} GET {path} (another ICB)"));
            assert_eq!(out.text, missing.text, "{who}: like an unknown id");
        }
        for path in [
            "/children".to_string(),
            "/assessments".to_string(),
            format!("/assessments?child_id={id}"),
        ] {
            let list = get_by(&app, token, &path).await;
            assert_eq!(list.status, 200, "{who} GET {path}");
            assert!(
                !list.text.contains(&id),
                "{who}: GET {path} must not show the other ICB's child"
            );
        }
    }
    let list = app.get_ok("/assurance/iha").await;
    assert!(!list.to_string().contains(&id), "not on this ICB's assurance list");
    // Nor may this ICB's user register children for it.
    let r = app
        .post(
            "/children",
            &json!({
                "local_id": "C-2", "given_name": "Cy", "family_name": "Cornish", "date_of_birth": "2012-02-02",
                "sex": "M", "responsible_la": "CRN",
            }),
        )
        .await;
    assert_problem(
        &r,
        422,
        Some("responsible_la"),
        "the ICB user registering for another ICB's LA",
    );
    // And the other ICB's LA does not see this ICB's children.
    let r = get_as(&app, &crn, &format!("/children/{}", rec.child)).await;
    assert_problem(&r, 404, None, "CRN reading a SOM child");
    let failed = audit_by(&app, DEFAULT_EMAIL, "failed").await;
    assert!(failed.len() >= 3, "the ICB user's out-of-scope attempts are on record");
}

/// GET as the default user (`None`) or with a token.
async fn get_by(app: &TestApp, token: Option<&String>, path: &str) -> Resp {
    match token {
        None => app.get(path).await,
        Some(t) => get_as(app, t, path).await,
    }
}

async fn out_of_scope_appointment_answers_like_an_unknown_one(b: Backend) {
    let Setup { app, rec, all, .. } = setup(b).await;
    for p in [
        probe(Method::GET, "/appointments/{appointment}", None),
        probe(
            Method::POST,
            "/appointments/{appointment}/outcome",
            Some(json!({"outcome": "attended", "recorded_on": "2026-02-10"})),
        ),
    ] {
        let wrong = indistinguishable(&app, &all, &p, &rec).await;
        assert!(wrong.is_none(), "{}", wrong.unwrap_or_default());
    }
}
