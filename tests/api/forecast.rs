//! The lateness forecast: fitted from the history in the database, shown on every open
//! assessment the API returns, on the meeting's list and the health admin's queues
//! (filtered and sorted by how likely it is to be late), and the optional escalation rule.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use cla_tracker::access::Role;
use cla_tracker::audit::Actor;
use cla_tracker::escalation;
use cla_tracker::forecast::{AgeBand, Group, Observation, Params, Step};
use cla_tracker::service::escalations::{self, EscalationConfig, SweepReport, BUILT_IN_RULES};
use cla_tracker::service::{calendar_store, forecast, forecast_stamp, DomainCtx};
use cla_tracker::settings::Settings;
use cla_tracker::workflow::Kind;
use reqwest::Method;
use serde_json::{json, Value};

use crate::escalations::{deliver, esc_settings, policy};
use crate::helpers::*;
use crate::security::{add_user, browse, session_for, with_db};
use crate::smtp::SmtpServer;

both!(
    open_ihas_on_the_meeting_list_carry_a_forecast_from_the_stored_parameters,
    every_open_assessment_the_api_returns_carries_its_forecast_and_a_closed_one_null,
    the_health_admins_queues_show_the_forecast_and_sort_most_likely_to_be_late_first,
    the_likely_late_rule_fires_once_above_its_threshold_and_only_when_enabled,
    stored_forecasts_rank_the_lists_as_live_ones_do_until_a_step_forgets_them,
);

const TODAY: &str = "2026-03-16";

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

async fn open_ihas_on_the_meeting_list_carry_a_forecast_from_the_stored_parameters(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (_, _, done) = app.child_in_care("FC1", "2015-04-01", "2026-01-05").await;
    app.complete_iha(&done, "2026-01-20").await;
    app.child_in_care("FC2", "2012-06-01", "2026-02-02").await;
    app.child_in_care("FC3", "2010-09-01", "2026-03-09").await;

    // Before any fit there is no forecast.
    let list = app.get_ok("/assurance/iha").await;
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["forecast"].is_null()));

    let settings = settings_for(&app.db_url, TODAY);
    let mut conn = connect(&app.db_url);
    let cal = calendar_store::load(&mut conn).expect("calendar");
    let ctx = DomainCtx::new(Arc::new(cal), &settings, d(TODAY));
    let params = forecast::refit(&mut conn, &ctx, d(TODAY)).expect("refit");
    assert!(params.observations() > 0);
    // A fit for a day before the first has nothing in force.
    assert!(forecast::in_force(&mut conn, d("2026-03-01")).unwrap().is_none());

    let list = app.get_ok("/assurance/iha?sort=likely_late").await;
    let items = list["items"].as_array().unwrap();
    let open: Vec<&Value> = items
        .iter()
        .filter(|i| i["assessment"]["state"] != "completed")
        .collect();
    assert_eq!(open.len(), 2);
    let mut last = 2.0;
    for i in &open {
        let f = &i["forecast"];
        let p = f["p_late"].as_f64().expect("p_late");
        assert!((0.0..=1.0).contains(&p), "{f}");
        assert!(p <= last, "most likely to be late first");
        last = p;
        assert!(s(&f["range"][0]) <= s(&f["range"][1]), "{f}");
        assert!(!s(&f["driver"]).is_empty());
    }
    // FC2 started six weeks ago and is still waiting for notification: overdue, late.
    assert_eq!(open[0]["local_id"], "FC2");
    assert!(open[0]["forecast"]["p_late"].as_f64().unwrap() > 0.99);

    let late = app.get_ok("/assurance/iha?likely_late=true").await;
    let late_ids: Vec<String> = late["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| s(&i["local_id"]))
        .collect();
    assert!(late_ids.contains(&"FC2".to_string()), "{late_ids:?}");
    let r = app.get("/assurance/iha?sort=sideways").await;
    assert_problem(&r, 400, None, "unknown order");
}

/// Stores, as fitted on `day`, a county where notification and consent each take one
/// working day in half the cases and 25 in the other half, and every other IHA step one.
fn store_bimodal_params(db_url: &str, day: &str) {
    let group = Group {
        kind: Kind::Iha,
        la: TEST_LA.to_string(),
        out_of_area: false,
        age: AgeBand::From10To15,
    };
    let mut obs = Vec::new();
    for i in 0..100 {
        for step in Step::of(Kind::Iha) {
            let slow = matches!(step, Step::Notification | Step::Consent) && i % 2 == 1;
            obs.push(Observation {
                group: group.clone(),
                step: *step,
                days: if slow { 25 } else { 1 },
                ended: true,
            });
        }
    }
    let params = Params::fit(d(day), d(day) - chrono::Duration::days(365), 20, obs);
    forecast::store(&mut connect(db_url), &params).expect("store the parameters");
}

/// An IHA (day 0 `started_on`) notified on `notified_on`, waiting for consent.
async fn waiting_for_consent(app: &TestApp, local_id: &str, started_on: &str, notified_on: &str) -> (String, String) {
    let (child, _, iha) = app.child_in_care(local_id, "2014-05-05", started_on).await;
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": notified_on}),
    )
    .await
    .expect(200, "notification");
    (child, iha)
}

fn p_late(v: &Value) -> f64 {
    v["forecast"]["p_late"]
        .as_f64()
        .unwrap_or_else(|| panic!("a forecast: {v}"))
}

/// Today Mon 16 March 2026. FA waiting 1 working day for consent: half the cases take 25,
/// so p_late 0.5; FB waiting 5: longer than the fast half, so late for certain.
async fn every_open_assessment_the_api_returns_carries_its_forecast_and_a_closed_one_null(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    let (_, half) = waiting_for_consent(&app, "FA", "2026-03-06", "2026-03-13").await;
    let (slow_child, certain) = waiting_for_consent(&app, "FB", "2026-03-09", "2026-03-09").await;
    let (done_child, _, done) = app.child_in_care("FC", "2014-05-05", "2026-01-05").await;
    app.complete_iha(&done, "2026-01-20").await;

    let before = app.get_ok(&format!("/assessments/{certain}")).await;
    assert!(before["forecast"].is_null(), "no forecast before the first fit");
    store_bimodal_params(&app.db_url, TODAY);

    let fa = app.get_ok(&format!("/assessments/{half}")).await;
    assert!((p_late(&fa) - 0.5).abs() < 0.01, "{fa}");
    let fb = app.get_ok(&format!("/assessments/{certain}")).await;
    assert!(p_late(&fb) > 0.99, "{fb}");
    assert_eq!(fb["forecast"]["driver_step"], "consent");
    assert!(s(&fb["forecast"]["range"][0]) <= s(&fb["forecast"]["range"][1]));
    assert!(s(&fb["forecast"]["expected_on"]) > s(&fb["due_on"]), "{fb}");

    let list = app.get_ok("/assessments?kind=IHA").await;
    let items = list["items"].as_array().expect("items");
    let by_id = |id: &str| {
        items
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{id} listed"))
    };
    assert_eq!(by_id(&half)["forecast"], fa["forecast"]);
    assert_eq!(by_id(&certain)["forecast"], fb["forecast"]);
    assert!(by_id(&done)["forecast"].is_null(), "completed: no forecast");

    let child = app.child(&slow_child).await;
    assert_eq!(child["assessments"][0]["forecast"], fb["forecast"]);
    let child = app.child(&done_child).await;
    let ihas: Vec<&Value> = child["assessments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "IHA")
        .collect();
    assert!(ihas[0]["forecast"].is_null());
    // A forecast for a day before the set in force has none.
    let past = app.get_ok(&format!("/assessments/{certain}?as_of=2026-03-13")).await;
    assert!(past["forecast"].is_null(), "{past}");
}

async fn home(app: &TestApp, session: &str, path: &str) -> String {
    let r = browse(app, Method::GET, path, &[("cla_session", session)], None, &[]).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    r.text
}

fn order_of(text: &str, first: &str, then: &str) -> bool {
    let at = |name: &str| text.find(name).unwrap_or_else(|| panic!("{name} on the page"));
    at(first) < at(then)
}

/// Two IHAs waiting for consent: FE (day 0 Fri 6 March, notified Fri 13: waiting 1 working
/// day, p_late 0.5) is due first; FD (day 0 Mon 9, notified that day: waiting 5, so late
/// for certain) is the more likely to be late.
async fn the_health_admins_queues_show_the_forecast_and_sort_most_likely_to_be_late_first(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_user(&app, "admin@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    waiting_for_consent(&app, "FE", "2026-03-06", "2026-03-13").await;
    waiting_for_consent(&app, "FD", "2026-03-09", "2026-03-09").await;
    store_bimodal_params(&app.db_url, TODAY);
    let session = session_for(&app, "admin@test.nhs.uk").await;

    let due_first = home(&app, &session, "/").await;
    assert!(due_first.contains(">Forecast</th>"), "a forecast column");
    assert!(due_first.contains("50% likely late, expected"), "{due_first}");
    assert!(due_first.contains("100% likely late, expected"));
    assert!(
        due_first.contains("Consent has taken over"),
        "the driver in words: {due_first}"
    );
    assert!(order_of(&due_first, "TestFE", "TestFD"), "soonest due first by default");
    assert!(due_first.contains("href=\"/?sort=likely_late\""));

    let likely_first = home(&app, &session, "/?sort=likely_late").await;
    assert!(
        order_of(&likely_first, "TestFD", "TestFE"),
        "most likely to be late first"
    );
    assert!(likely_first.contains("<strong>most likely to be late first</strong>"));
    let other = home(&app, &session, "/?sort=sideways").await;
    assert!(
        order_of(&other, "TestFE", "TestFD"),
        "an unknown order is the default one"
    );
}

fn sweep_with(settings: &Settings, as_of: &str, rules: &str) -> SweepReport {
    let mut conn = connect(&settings.database_url);
    let cal = calendar_store::load(&mut conn).expect("calendar");
    let mut ctx = DomainCtx::new(Arc::new(cal), settings, d(as_of));
    ctx.actor = Actor::system("escalation");
    let ladder = Arc::new(escalation::parse(rules).expect("the ladder"));
    let cfg = EscalationConfig::new(ladder, settings);
    escalations::sweep(&mut conn, &ctx, &cfg, d(as_of), false).expect("sweep")
}

fn likely_late_fired(r: &SweepReport) -> Vec<String> {
    r.fired
        .iter()
        .filter(|f| f.rule_id == "likely_late")
        .map(|f| f.assessment_id.clone())
        .collect()
}

/// The shipped rule (p_late_at_least 0.7) is off; switched on, it fires for the IHA that
/// is late for certain (FB) and not for the one at 0.5 (FA), once, to the health admin mailbox.
async fn the_likely_late_rule_fires_once_above_its_threshold_and_only_when_enabled(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_app(b, TODAY).await;
    let settings = esc_settings(&app, &smtp);
    let (_, half) = waiting_for_consent(&app, "FA", "2026-03-06", "2026-03-13").await;
    let (_, certain) = waiting_for_consent(&app, "FB", "2026-03-09", "2026-03-09").await;
    store_bimodal_params(&app.db_url, TODAY);

    let off = sweep_with(&settings, TODAY, BUILT_IN_RULES);
    assert!(likely_late_fired(&off).is_empty(), "off as shipped");
    assert!(!off.fired.is_empty(), "the rest of the ladder still runs");

    let enabled = BUILT_IN_RULES.replace("enabled = false", "enabled = true");
    assert_ne!(enabled, BUILT_IN_RULES);
    let on = sweep_with(&settings, TODAY, &enabled);
    assert_eq!(
        likely_late_fired(&on),
        vec![certain.clone()],
        "only above the threshold"
    );
    assert!(!likely_late_fired(&on).contains(&half));
    let again = sweep_with(&settings, TODAY, &enabled);
    assert!(likely_late_fired(&again).is_empty(), "once");
    assert!(again.fired.is_empty());

    deliver(&settings, &policy());
    let got = smtp.wait_for(1, Duration::from_secs(5));
    let mail: Vec<_> = got.iter().filter(|m| m.subject().contains("likely to miss")).collect();
    assert_eq!(
        mail.len(),
        1,
        "{:?}",
        got.iter().map(|m| m.subject()).collect::<Vec<_>>()
    );
    assert_eq!(mail[0].to, vec![settings.escalation.health_admin_mailbox.clone()]);
    assert!(mail[0].subject().contains("FB"), "{}", mail[0].subject());
    assert!(mail[0].decoded().contains("not late yet"));
    assert!(!mail[0].decoded().contains("TestFB"), "no name in the mail");
}

/// Stamps today's forecasts as housekeeping does; returns how many rows were stamped.
async fn stamp_forecasts(app: &TestApp) -> usize {
    let settings = settings_for(&app.db_url, TODAY);
    with_db(app, move |conn| {
        let cal = calendar_store::load(conn).expect("calendar");
        let ctx = DomainCtx::new(Arc::new(cal), &settings, d(TODAY));
        forecast_stamp::refresh(conn, &ctx).expect("stamp the forecasts")
    })
    .await
}

async fn meeting_order(app: &TestApp) -> Vec<(String, f64)> {
    let list = app.get_ok("/assurance/iha?sort=likely_late").await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (s(&i["local_id"]), p_late(i)))
        .collect()
}

/// The lists rank by the forecasts housekeeping stores (`forecast_stamp`) exactly as by
/// forecasts made on the request; a stored one is read while it holds, and a step recorded
/// on the assessment forgets it.
async fn stored_forecasts_rank_the_lists_as_live_ones_do_until_a_step_forgets_them(b: Backend) {
    let app = spawn_app(b, TODAY).await;
    add_user(&app, "admin@test.nhs.uk", "ICB", &[Role::HealthAdmin]).await;
    let (_, fe) = waiting_for_consent(&app, "FE", "2026-03-06", "2026-03-13").await;
    waiting_for_consent(&app, "FD", "2026-03-09", "2026-03-09").await;
    store_bimodal_params(&app.db_url, TODAY);
    let session = session_for(&app, "admin@test.nhs.uk").await;
    let live = meeting_order(&app).await;
    assert_eq!(live.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["FD", "FE"]);

    assert_eq!(stamp_forecasts(&app).await, 2, "both open IHAs stamped");
    assert_eq!(stamp_forecasts(&app).await, 0, "stamps that hold are left alone");
    assert_eq!(
        meeting_order(&app).await,
        live,
        "the same order and figures from the stamps"
    );

    // Read from the stamp while it holds: a stored figure (set here by hand) ranks FE first.
    let id = fe.clone();
    with_db(&app, move |conn| {
        use diesel::prelude::*;
        diesel::sql_query(format!(
            "UPDATE forecast_stamps SET p_late = 1.0 WHERE assessment_id = '{id}'"
        ))
        .execute(conn)
        .expect("set FE's stored figure")
    })
    .await;
    let ranked: Vec<String> = meeting_order(&app).await.into_iter().map(|(id, _)| id).collect();
    assert_eq!(ranked, ["FE", "FD"], "the meeting list reads the stored figure");
    let home_first = home(&app, &session, "/?sort=likely_late").await;
    assert!(
        order_of(&home_first, "TestFE", "TestFD"),
        "so do the health admin's queues"
    );

    // Consent recorded: FE's stamp is gone and its forecast is made again on the request.
    app.post(
        &format!("/assessments/{fe}/consent"),
        &json!({"given_on": "2026-03-16", "basis": "parent_with_pr", "given_by": "Mother"}),
    )
    .await
    .expect(200, "consent");
    let after: Vec<String> = meeting_order(&app).await.into_iter().map(|(id, _)| id).collect();
    assert_eq!(after, ["FD", "FE"], "the step forgot the stored figure");
    assert_eq!(stamp_forecasts(&app).await, 1, "only FE needs a new stamp");
}
