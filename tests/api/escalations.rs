//! The escalation ladder end to end: the sweep (run as the service on chosen days), the
//! outbox and its sender talking to a real SMTP server on 127.0.0.1, and what the API shows.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use cla_tracker::audit::Actor;
use cla_tracker::escalation;
use cla_tracker::service::escalations::{self, EscalationConfig, SweepReport, BUILT_IN_RULES};
use cla_tracker::service::outbox::{self, DeliveryReport, Mailer, OutboxQuery, SenderPolicy};
use cla_tracker::service::{calendar_store, pack, DomainCtx};
use cla_tracker::settings::Settings;
use serde_json::json;

use crate::helpers::*;
use crate::smtp::{Mode, SmtpServer};

const SW: &str = "social.worker@som.example.org";
const TM: &str = "team.manager@som.example.org";
const DN: &str = "designated.nurse@icb.example.nhs.uk";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a test date")
}

pub fn esc_settings(app: &TestApp, smtp: &SmtpServer) -> Settings {
    let mut s = settings_for(&app.db_url, &app.today);
    s.smtp_url = smtp.url();
    s.public_url = "https://cla.example.nhs.uk".into();
    s.escalation.designated_nurse_email = DN.into();
    s.escalation.named_nurse_email = "named.nurse@trust.example.nhs.uk".into();
    s.escalation.health_admin_mailbox = "cla.admin@trust.example.nhs.uk".into();
    s.escalation.smtp_timeout_seconds = 5;
    s
}

pub fn sweep_on(settings: &Settings, as_of: &str) -> SweepReport {
    let mut conn = connect(&settings.database_url);
    let cal = calendar_store::load(&mut conn).expect("calendar");
    let mut ctx = DomainCtx::new(Arc::new(cal), settings, d(as_of));
    ctx.actor = Actor::system("escalation");
    let ladder = Arc::new(escalation::parse(BUILT_IN_RULES).expect("the shipped ladder"));
    let cfg = EscalationConfig::new(ladder, settings);
    escalations::sweep(&mut conn, &ctx, &cfg, d(as_of), false).expect("sweep")
}

/// Retries at once (no back-off) so a test can drive the sender round by round.
pub fn policy() -> SenderPolicy {
    SenderPolicy {
        max_attempts: 5,
        retry_base_seconds: 0,
        retry_max_seconds: 0,
        lease_seconds: 60,
        batch: 50,
    }
}

pub fn deliver(settings: &Settings, policy: &SenderPolicy) -> DeliveryReport {
    let mut conn = connect(&settings.database_url);
    let mailer = Mailer::new(settings).expect("mailer");
    outbox::deliver_due(&mut conn, &mailer, policy).expect("deliver")
}

fn outbox_rows(settings: &Settings, status: Option<&str>) -> Vec<outbox::OutboxView> {
    let mut conn = connect(&settings.database_url);
    outbox::list(
        &mut conn,
        &OutboxQuery {
            status: status.map(str::to_string),
            limit: Some(1000),
            offset: None,
        },
        &cla_tracker::service::reach::Reach::everything(),
    )
    .expect("outbox list")
    .items
}

fn fired(r: &SweepReport) -> Vec<(String, u8)> {
    r.fired.iter().map(|f| (f.rule_id.clone(), f.level)).collect()
}

fn set_team_manager(db_url: &str) {
    let mut conn = connect(db_url);
    escalations::set_team_manager(&mut conn, &Actor::system("test"), TEST_LA, Some(TM)).expect("team manager");
}

/// A child (with a social worker) who became looked after on Monday 2 March 2026 (day 0).
async fn scripted_child(app: &TestApp, local_id: &str, social_worker: Option<&str>) -> (String, String) {
    let child = app
        .register_with(json!({
            "local_id": local_id,
            "given_name": "Zelda",
            "family_name": "Quennell",
            "date_of_birth": "2015-06-14",
            "sex": "F",
            "responsible_la": TEST_LA,
            "nhs_number": "9990000018",
            "social_worker_email": social_worker,
        }))
        .await;
    let child_id = s(&child["id"]);
    let started = app.start_period(&child_id, "2026-03-02", "C2").await;
    (child_id, s(&started["assessment"]["id"]))
}

/// Day 0 Mon 2 Mar 2026: notification due by day 2 (Wed 4), late from Thu 5; consent due by
/// day 5 (Mon 9), late from Tue 10; consent level 2 two working days later (Thu 12).
async fn ladder_fires_on_the_right_day_once_climbs_and_clears(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_app(b, "2026-03-13").await;
    let settings = esc_settings(&app, &smtp);
    set_team_manager(&app.db_url);
    let (child_id, iha) = scripted_child(&app, "ESC1", Some(SW)).await;
    // Health hears on Fri 6 March: a day late.
    app.post(
        &format!("/assessments/{iha}/notification"),
        &json!({"received_on": "2026-03-06"}),
    )
    .await
    .expect(200, "notification");

    assert!(
        fired(&sweep_on(&settings, "2026-03-04")).is_empty(),
        "nothing is late on day 2"
    );
    let r = sweep_on(&settings, "2026-03-05");
    assert_eq!(fired(&r), vec![("iha_notification_late".to_string(), 1)]);
    assert_eq!(deliver(&settings, &policy()).sent, 2);
    let got = smtp.wait_for(2, Duration::from_secs(5));
    let mut to: Vec<String> = got.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, vec![SW.to_string(), TM.to_string()]);

    // Notified on the 6th: resolved, and level 2 (due Tue 10) never goes.
    let r = sweep_on(&settings, "2026-03-06");
    assert!(r.fired.is_empty());
    assert_eq!(r.resolved.len(), 1);
    assert!(
        fired(&sweep_on(&settings, "2026-03-09")).is_empty(),
        "consent is due by day 5"
    );

    let r = sweep_on(&settings, "2026-03-10");
    assert_eq!(fired(&r), vec![("iha_consent_late".to_string(), 1)]);
    assert!(sweep_on(&settings, "2026-03-10").fired.is_empty(), "fires once");
    assert!(sweep_on(&settings, "2026-03-11").fired.is_empty());
    let r = sweep_on(&settings, "2026-03-12");
    assert_eq!(fired(&r), vec![("iha_consent_late".to_string(), 2)]);
    assert_eq!(deliver(&settings, &policy()).sent, 2);
    let got = smtp.wait_for(4, Duration::from_secs(5));
    assert_eq!(got.len(), 4);
    let consent_mail: Vec<_> = got.iter().filter(|m| m.subject().contains("consent")).collect();
    assert_eq!(consent_mail.len(), 2);
    assert_eq!(consent_mail[0].to, vec![SW.to_string()]);
    assert!(
        consent_mail[0].subject().contains("level 1"),
        "{}",
        consent_mail[0].subject()
    );
    assert_eq!(consent_mail[1].to, vec![TM.to_string()]);
    assert!(consent_mail[1].subject().contains("level 2"));

    // Consent arrives on the 12th: both levels resolve and nothing more is sent.
    app.post(
        &format!("/assessments/{iha}/consent"),
        &json!({"given_on": "2026-03-12", "basis": "local_authority", "given_by": "SOM"}),
    )
    .await
    .expect(200, "consent");
    let r = sweep_on(&settings, "2026-03-13");
    assert!(r.fired.is_empty(), "{:?}", fired(&r));
    assert_eq!(r.resolved.len(), 2);
    assert!(sweep_on(&settings, "2026-03-13").resolved.is_empty(), "resolved once");
    assert_eq!(deliver(&settings, &policy()).claimed, 0);

    // The mail identifies the child by initials and local id only.
    for m in smtp.messages() {
        let text = m.decoded().to_lowercase();
        for secret in [
            "zelda",
            "quennell",
            "2015-06-14",
            "14 jun 2015",
            "9990000018",
            "999 000 0018",
        ] {
            assert!(!text.contains(secret), "mail leaks {secret}: {}", m.data);
        }
        assert!(
            m.subject().contains("Z.Q.") && m.subject().contains("ESC1"),
            "{}",
            m.subject()
        );
        assert!(m
            .decoded()
            .contains(&format!("https://cla.example.nhs.uk/children/{child_id}")));
        assert!(m.message_id().starts_with('<') && m.message_id().ends_with("@cla.example.nhs.uk>"));
    }

    // The child's record: escalations with who was told, and the timeline.
    let detail = app.child(&child_id).await;
    let list = detail["escalations"].as_array().expect("escalations");
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|e| e["resolved_on"].is_string()), "{list:?}");
    assert!(list
        .iter()
        .flat_map(|e| e["recipients"].as_array().unwrap().iter())
        .all(|r| r["status"] == "sent" && r["sent_at"].is_string()));
    let steps: Vec<String> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["step"] == "escalation")
        .map(|t| s(&t["detail"]))
        .collect();
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert!(steps
        .iter()
        .any(|s| s.contains("iha_consent_late level 2") && s.contains(TM)));
    let api = app.get_ok(&format!("/escalations?child_id={child_id}")).await;
    assert_eq!(api["items"].as_array().unwrap().len(), 3);
    assert_eq!(api["total"], 3);
}

/// The relay is down, then busy, then back: every message arrives, once.
async fn smtp_outage_then_every_message_arrives_exactly_once(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_app(b, "2026-03-13").await;
    let settings = esc_settings(&app, &smtp);
    set_team_manager(&app.db_url);
    for i in 0..3 {
        scripted_child(&app, &format!("OUT{i}"), Some(SW)).await;
    }
    let r = sweep_on(&settings, "2026-03-05");
    assert_eq!(r.fired.len(), 3);
    let queued = outbox_rows(&settings, Some("pending")).len();
    assert_eq!(queued, 6);

    smtp.set_mode(Mode::Down);
    let p = policy();
    let r = deliver(&settings, &p);
    assert_eq!((r.sent, r.retrying), (0, 6));
    smtp.set_mode(Mode::Busy);
    let r = deliver(&settings, &p);
    assert_eq!((r.sent, r.retrying), (0, 6));
    assert!(smtp.messages().is_empty());
    let waiting = outbox_rows(&settings, Some("pending"));
    assert!(
        waiting.iter().all(|m| m.attempts == 2 && m.last_error.is_some()),
        "{waiting:?}"
    );

    smtp.set_mode(Mode::Up);
    assert_eq!(deliver(&settings, &p).sent, 6);
    assert_eq!(deliver(&settings, &p).claimed, 0);
    let got = smtp.wait_for(6, Duration::from_secs(5));
    let mut ids: HashMap<String, usize> = HashMap::new();
    for m in &got {
        *ids.entry(m.message_id()).or_default() += 1;
    }
    assert_eq!(ids.len(), 6, "six distinct messages");
    assert!(ids.values().all(|n| *n == 1), "each arrives once: {ids:?}");
    assert_eq!(outbox_rows(&settings, Some("sent")).len(), 6);
}

/// A sender dies holding claimed rows (status `sending`): once the lease runs out another
/// sender takes them over and each arrives exactly once; rows still leased are left alone.
async fn restart_mid_sending_resends_each_message_once(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_app(b, "2026-03-13").await;
    let settings = esc_settings(&app, &smtp);
    set_team_manager(&app.db_url);
    scripted_child(&app, "RST1", Some(SW)).await;
    scripted_child(&app, "RST2", Some(SW)).await;
    sweep_on(&settings, "2026-03-05");
    let mut conn = connect(&settings.database_url);
    // The "crashed" sender claims everything, with a lease that has already run out...
    let dead_sender = SenderPolicy {
        lease_seconds: -1,
        ..policy()
    };
    let claimed = outbox::claim(&mut conn, &dead_sender, cla_tracker::db::models::now_utc()).expect("claim");
    assert_eq!(claimed.len(), 4);
    // ...while a live sender's claim (long lease) must not be taken over.
    assert!(outbox::claim(&mut conn, &policy(), cla_tracker::db::models::now_utc())
        .expect("claim")
        .is_empty());
    let r = deliver(&settings, &policy());
    assert_eq!((r.reclaimed, r.sent), (4, 4));
    assert_eq!(deliver(&settings, &policy()).claimed, 0);
    let got = smtp.wait_for(4, Duration::from_secs(5));
    assert_eq!(got.len(), 4);
    let mut ids: Vec<String> = got.iter().map(|m| m.message_id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4);
}

/// Two sweeps at once (two connections, two threads): each escalation is recorded once and
/// its mail queued once.
async fn two_sweeps_racing_record_each_escalation_once(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_app(b, "2026-03-13").await;
    let settings = esc_settings(&app, &smtp);
    set_team_manager(&app.db_url);
    for i in 0..12 {
        scripted_child(&app, &format!("RACE{i}"), Some(SW)).await;
    }
    let reports = tokio::task::spawn_blocking(move || {
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let settings = settings.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    sweep_on(&settings, "2026-03-10")
                })
            })
            .collect();
        let reports: Vec<SweepReport> = handles.into_iter().map(|h| h.join().expect("sweep thread")).collect();
        (reports, settings)
    })
    .await
    .expect("race");
    let (reports, settings) = reports;
    // Per child on Tue 10 March: notification levels 1 and 2, consent level 1.
    let total: usize = reports.iter().map(|r| r.fired.len()).sum();
    assert_eq!(total, 36, "fired across both sweeps");
    let mut conn = connect(&settings.database_url);
    use diesel::prelude::*;
    let n: i64 = cla_tracker::db::schema::escalations::table
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(n, 36);
    // notification L1: 2 recipients, L2: 1, consent L1: 1.
    assert_eq!(outbox_rows(&settings, None).len(), 12 * 4);
}

/// No address for a recipient: the escalation is recorded and shows that mail as
/// undeliverable; the other recipients still get theirs.
async fn recipient_without_address_is_reported_undeliverable(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_app(b, "2026-03-13").await;
    let settings = esc_settings(&app, &smtp);
    // No team manager for SOM and no social worker for the child.
    let (child_id, _) = scripted_child(&app, "NOADDR", None).await;
    let r = sweep_on(&settings, "2026-03-10");
    assert_eq!(r.fired.len(), 3);
    assert_eq!(r.undeliverable, 3, "social worker x2 and team manager");
    assert_eq!(outbox_rows(&settings, Some("undeliverable")).len(), 3);
    assert_eq!(
        deliver(&settings, &policy()).sent,
        1,
        "the designated nurse's mail goes"
    );
    assert_eq!(smtp.wait_for(1, Duration::from_secs(5))[0].to, vec![DN.to_string()]);
    let list = app.get_ok(&format!("/escalations?child_id={child_id}")).await;
    let statuses: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["recipients"].as_array().unwrap().iter().map(|r| s(&r["status"])))
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| *s == "undeliverable").count(),
        3,
        "{statuses:?}"
    );
    let timeline = app.child(&child_id).await["timeline"].to_string();
    assert!(timeline.contains("undeliverable"), "{timeline}");
}

/// A permanent refusal (550) makes the message dead at once; an admin sees it in the dead
/// letters and requeues it; it then goes once the relay accepts it.
async fn refused_mail_is_dead_and_an_admin_requeues_it(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_app(b, "2026-03-13").await;
    let settings = esc_settings(&app, &smtp);
    let (_, _) = scripted_child(&app, "DEAD1", Some(SW)).await;
    smtp.refuse(SW);
    sweep_on(&settings, "2026-03-05");
    let r = deliver(&settings, &policy());
    assert_eq!(r.dead, 1);
    let token = {
        let mut conn = connect(&app.db_url);
        add_user(
            &mut conn,
            "admin@test.nhs.uk",
            "ICB",
            &[cla_tracker::access::Role::Admin],
        );
        issue_token(&mut conn, "admin@test.nhs.uk")
    };
    let auth = format!("Bearer {token}");
    let dead = app
        .send(
            reqwest::Method::GET,
            "/outbox?status=dead",
            None,
            &[("authorization", &auth)],
        )
        .await
        .expect(200, "dead letters");
    assert_eq!(dead["total"], 1, "{dead}");
    let dead = dead["items"].as_array().expect("a page of messages");
    assert_eq!(dead.len(), 1);
    assert!(s(&dead[0]["last_error"]).contains("550"), "{}", dead[0]);
    // Health staff may not see the outbox.
    assert_eq!(app.get("/outbox").await.status, 403);
    let id = s(&dead[0]["id"]);
    let requeued = app
        .send(
            reqwest::Method::POST,
            &format!("/outbox/{id}/requeue"),
            None,
            &[("authorization", &auth)],
        )
        .await
        .expect(200, "requeue");
    assert_eq!(requeued["status"], "pending");
    let again = app
        .send(
            reqwest::Method::POST,
            &format!("/outbox/{id}/requeue"),
            None,
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.text);
    // The mailbox was fixed (a relay that accepts the address).
    let smtp2 = SmtpServer::start();
    let mut s2 = settings.clone();
    s2.smtp_url = smtp2.url();
    assert_eq!(deliver(&s2, &policy()).sent, 1);
    assert_eq!(smtp2.wait_for(1, Duration::from_secs(5)).len(), 1);
}

/// The weekly pack: an HTML table and a CSV attachment, with initials and local ids only.
async fn weekly_pack_has_table_and_csv_without_names(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_app(b, "2026-03-13").await;
    let settings = esc_settings(&app, &smtp);
    scripted_child(&app, "PACK1", Some(SW)).await;
    let to = vec!["iha.meeting@icb.example.nhs.uk".to_string()];
    let mut conn = connect(&app.db_url);
    let cal = calendar_store::load(&mut conn).expect("calendar");
    let ctx = DomainCtx::new(Arc::new(cal), &settings, d("2026-03-16"));
    assert_eq!(
        pack::enqueue(&mut conn, &ctx, &settings, d("2026-03-16"), &to, true).unwrap(),
        1
    );
    assert_eq!(
        pack::enqueue(&mut conn, &ctx, &settings, d("2026-03-16"), &to, true).unwrap(),
        0,
        "once a week"
    );
    assert_eq!(deliver(&settings, &policy()).sent, 1);
    let m = &smtp.wait_for(1, Duration::from_secs(5))[0];
    assert_eq!(m.to, to);
    assert!(m.subject().contains("2026-03-16"), "{}", m.subject());
    assert!(m.data.contains("text/csv"), "{}", m.data);
    assert!(m.data.contains("iha-assurance-2026-03-16.csv"));
    assert!(m.data.contains("text/html"));
    let lower = m.decoded().to_lowercase();
    for secret in ["zelda", "quennell", "2015-06-14", "9990000018"] {
        assert!(!lower.contains(secret), "pack leaks {secret}");
    }
}

/// Out of area: the host provider is chased, then the host ICB's Designated Nurse (address
/// recorded on the request through the API).
async fn out_of_area_request_escalates_to_host_then_host_icb(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_app(b, "2026-03-13").await;
    let settings = esc_settings(&app, &smtp);
    let child = app.register("OOA1", "2012-02-02").await;
    let child_id = s(&child["id"]);
    app.start_period_with(
        &child_id,
        json!({"started_on": "2026-03-02", "legal_status": "C2",
               "placement": {"placement_type": "U4", "out_of_area": true, "host_la": "DEV",
                             "host_provider_email": "host.cla@devon.example.nhs.uk"}}),
    )
    .await;
    let detail = app.child(&child_id).await;
    let request = &detail["out_of_area_requests"][0];
    let updated = app
        .post(
            &format!("/out-of-area-requests/{}", s(&request["id"])),
            &json!({"version": request["version"], "requested_on": "2026-03-03",
                    "host_icb_email": "dn@devon-icb.example.nhs.uk"}),
        )
        .await
        .expect(200, "out-of-area update");
    assert_eq!(updated["host_icb_email"], "dn@devon-icb.example.nhs.uk");
    let bad = app
        .post(
            &format!("/out-of-area-requests/{}", s(&request["id"])),
            &json!({"version": updated["version"], "host_icb_email": "not an address"}),
        )
        .await;
    assert_problem(&bad, 422, Some("host_icb_email"), "bad host ICB address");

    let host = |r: &SweepReport| -> Vec<(String, u8)> {
        fired(r)
            .into_iter()
            .filter(|(id, _)| id.starts_with("out_of_area"))
            .collect()
    };
    // Requested Tue 3 March; acknowledgement due within 5 working days (Tue 10).
    assert!(host(&sweep_on(&settings, "2026-03-10")).is_empty());
    assert_eq!(
        host(&sweep_on(&settings, "2026-03-11")),
        vec![("out_of_area_not_acknowledged".to_string(), 1)]
    );
    assert_eq!(
        host(&sweep_on(&settings, "2026-03-16")),
        vec![("out_of_area_not_acknowledged".to_string(), 2)]
    );
    deliver(&settings, &policy());
    let got = smtp.wait_for(1, Duration::from_secs(5));
    let to_of = |needle: &str| -> Vec<String> {
        smtp.messages()
            .iter()
            .filter(|m| m.subject().contains(needle))
            .flat_map(|m| m.to.clone())
            .collect()
    };
    assert!(!got.is_empty());
    assert_eq!(
        to_of("has not acknowledged"),
        vec![
            "host.cla@devon.example.nhs.uk".to_string(),
            "dn@devon-icb.example.nhs.uk".to_string()
        ]
    );
}

both!(
    ladder_fires_on_the_right_day_once_climbs_and_clears,
    smtp_outage_then_every_message_arrives_exactly_once,
    restart_mid_sending_resends_each_message_once,
    two_sweeps_racing_record_each_escalation_once,
    recipient_without_address_is_reported_undeliverable,
    refused_mail_is_dead_and_an_admin_requeues_it,
    weekly_pack_has_table_and_csv_without_names,
    serve_workers_sweep_and_send_by_themselves,
    out_of_area_request_escalates_to_host_then_host_icb,
    out_of_area_escalates_to_the_host_icb_nurse_held_for_the_host_area,
);

/// `serve`'s own threads: the sweep finds the late step and the sender delivers it, with no
/// command run by hand.
async fn serve_workers_sweep_and_send_by_themselves(b: Backend) {
    let smtp = SmtpServer::start();
    let app = spawn_app(b, "2026-03-05").await;
    let mut settings = esc_settings(&app, &smtp);
    settings.escalation.sweep_interval_seconds = 1;
    settings.escalation.send_interval_seconds = 1;
    set_team_manager(&app.db_url);
    scripted_child(&app, "SERVE1", Some(SW)).await;
    let workers = tokio::task::spawn_blocking(move || {
        let state = cla_tracker::cli::prepare(settings).expect("prepare");
        cla_tracker::cli::spawn_escalation_workers(&state).expect("workers")
    })
    .await
    .expect("spawn");
    let got = tokio::task::spawn_blocking(move || smtp.wait_for(2, Duration::from_secs(20)))
        .await
        .expect("wait");
    workers.stop();
    assert_eq!(
        got.len(),
        2,
        "notification level 1 to the social worker and the team manager"
    );
}

/// The admin console's form for a host area's ICB Designated Nurse address.
async fn post_host_icb_nurse(app: &TestApp, session: &str, path: &str, email: &str, with_csrf: bool) -> Resp {
    let csrf = if with_csrf {
        crate::security::session_csrf(app, session).await
    } else {
        String::new()
    };
    let form = [("csrf", csrf.as_str()), ("host_icb_nurse_email", email)];
    let cookies = [("cla_session", session)];
    crate::security::browse(app, reqwest::Method::POST, path, &cookies, Some(&form), &[]).await
}

/// Out of area with no host ICB address on the request: the admin console holds one for the
/// host area's organisation (here typed on the placement by name, "Devon County"), and the
/// ladder's `host_icb_designated_nurse` level mails it through the relay. An address on the
/// request itself still wins for that child.
async fn out_of_area_escalates_to_the_host_icb_nurse_held_for_the_host_area(b: Backend) {
    use crate::security::{add_org_in, add_user, audit_rows, browse, session_for, with_db};
    const HOST_DN: &str = "dn.cla@devon-icb.example.nhs.uk";
    let smtp = SmtpServer::start();
    let app = spawn_app(b, "2026-03-13").await;
    let settings = esc_settings(&app, &smtp);
    // The host area, registered by the ICB's admin (code DEV, name "Devon County").
    add_org_in(&app, "host_provider", "DEV", Some("ICB")).await;
    with_db(&app, |conn| {
        use diesel::prelude::*;
        diesel::sql_query("UPDATE organisations SET name = 'Devon County' WHERE code = 'DEV'")
            .execute(conn)
            .expect("rename DEV");
    })
    .await;
    let org_id = |code: &'static str| {
        let url = app.db_url.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                cla_tracker::auth::find_organisation(&mut connect(&url), code)
                    .expect("org")
                    .id
            })
            .await
            .expect("org id")
        }
    };
    let (dev, icb) = (org_id("DEV").await, org_id("ICB").await);
    add_user(&app, "admin@test.nhs.uk", "ICB", &[cla_tracker::access::Role::Admin]).await;
    add_user(&app, "la-admin@test.nhs.uk", "SOM", &[cla_tracker::access::Role::Admin]).await;
    let admin = session_for(&app, "admin@test.nhs.uk").await;
    let path = format!("/admin/organisations/{dev}/host-icb-nurse");
    // No CSRF token: refused. Not an address: the list again with the error (422).
    assert_eq!(
        post_host_icb_nurse(&app, &admin, &path, HOST_DN, false).await.status,
        403
    );
    let bad = post_host_icb_nurse(&app, &admin, &path, "dn at devon", true).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("There is a problem") && bad.text.contains(&format!("#hi-{dev}")));
    // An ICB is not a host area; a local authority's admin does not reach DEV.
    let icb_path = format!("/admin/organisations/{icb}/host-icb-nurse");
    assert_eq!(
        post_host_icb_nurse(&app, &admin, &icb_path, HOST_DN, true).await.status,
        404
    );
    let la = session_for(&app, "la-admin@test.nhs.uk").await;
    assert_eq!(post_host_icb_nurse(&app, &la, &path, HOST_DN, true).await.status, 404);
    let ok = post_host_icb_nurse(&app, &admin, &path, HOST_DN, true).await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    let list = browse(
        &app,
        reqwest::Method::GET,
        "/admin/organisations?done=host_icb_nurse",
        &[("cla_session", admin.as_str())],
        None,
        &[],
    )
    .await;
    assert!(list.text.contains(&format!("value=\"{HOST_DN}\"")), "{}", list.text);
    assert!(
        list.text.contains("Host ICB Designated Nurse&#39;s address saved"),
        "the banner"
    );
    let audited = audit_rows(&app).await.into_iter().any(|r| {
        r.entity == "organisation"
            && r.entity_id.as_deref() == Some(dev.as_str())
            && r.changes.as_deref().is_some_and(|c| c.contains(HOST_DN))
    });
    assert!(audited, "the change is on the audit trail with what it became");

    // The database holds the same rule as the service: only a host area has the address.
    let refused = with_db(&app, move |conn| {
        use diesel::prelude::*;
        diesel::sql_query(format!(
            "UPDATE organisations SET host_icb_nurse_email = 'x@y.nhs.uk' WHERE id = '{icb}'"
        ))
        .execute(conn)
        .is_err()
    })
    .await;
    assert!(refused, "CHECK: an ICB holds no host ICB address");

    // Two children placed in Devon: one request without an address, one with its own.
    let mut requests = Vec::new();
    for (local_id, host_la) in [("OOA-ORG", "devon county"), ("OOA-OWN", "DEV")] {
        let child = app.register(local_id, "2012-02-02").await;
        let child_id = s(&child["id"]);
        app.start_period_with(
            &child_id,
            json!({"started_on": "2026-03-02", "legal_status": "C2",
                   "placement": {"placement_type": "U4", "out_of_area": true, "host_la": host_la,
                                 "host_provider_email": "host.cla@devon.example.nhs.uk"}}),
        )
        .await;
        let request = app.child(&child_id).await["out_of_area_requests"][0].clone();
        requests.push(request);
    }
    for (i, request) in requests.iter().enumerate() {
        let mut body = json!({"version": request["version"], "requested_on": "2026-03-03"});
        if i == 1 {
            body["host_icb_email"] = json!("dn.own@elsewhere-icb.example.nhs.uk");
        }
        app.post(&format!("/out-of-area-requests/{}", s(&request["id"])), &body)
            .await
            .expect(200, "request sent to the host");
    }
    // Requested Tue 3 March: not acknowledged after 5 working days (level 1, Wed 11), then
    // its ICB's Designated Nurse three working days on (level 2, Mon 16).
    sweep_on(&settings, "2026-03-11");
    let report = sweep_on(&settings, "2026-03-16");
    let level2: Vec<&escalations::Fired> = report
        .fired
        .iter()
        .filter(|f| f.rule_id == "out_of_area_not_acknowledged" && f.level == 2)
        .collect();
    assert_eq!(level2.len(), 2, "{:?}", report.fired);
    deliver(&settings, &policy());
    smtp.wait_for(2, Duration::from_secs(5));
    let mut told: Vec<String> = smtp
        .messages()
        .iter()
        .flat_map(|m| m.to.clone())
        .filter(|to| to.starts_with("dn."))
        .collect();
    told.sort();
    assert_eq!(
        told,
        vec![HOST_DN.to_string(), "dn.own@elsewhere-icb.example.nhs.uk".to_string()],
        "the host area's address for the request without one; the request's own otherwise"
    );
    for m in smtp.messages() {
        assert!(
            !m.subject().to_lowercase().contains("zelda"),
            "no child's name in a subject"
        );
    }
}
