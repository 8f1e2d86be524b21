//! The escalation sweep over many open assessments, and the sender's throughput to a local
//! SMTP server.
//!
//! cargo bench --bench escalation                                   (SQLite, 100,000 open IHAs)
//! CLA_BENCH_N=20000 cargo bench --bench escalation                 (another size)
//! CLA_BENCH_POSTGRES_URL=postgres://... cargo bench --bench escalation   (PostgreSQL too)
//! CLA_BENCH_SENDERS=8 cargo bench --bench escalation               (sender threads; default 4)
//!
//! Seeds N open IHAs directly (batch inserts): 98% became looked after yesterday (nothing
//! late yet), 2% six weeks ago (late on several steps). Reports the first sweep (which
//! fires the backlog: one savepoint, escalation, mail, timeline and audit entry each) and a
//! steady-state sweep (everything already fired: the regular case every interval).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use cla_tracker::audit::Actor;
use cla_tracker::db::models::{self, new_id, now_utc};
use cla_tracker::db::schema::{assessments, children, outbox};
use cla_tracker::db::{self, DatabaseUrl, DbConn};
use cla_tracker::escalation;
use cla_tracker::service::assessments::new_assessment;
use cla_tracker::service::escalations::{self, EscalationConfig, BUILT_IN_RULES};
use cla_tracker::service::outbox::{Mailer, SenderPolicy};
use cla_tracker::service::{calendar_store, outbox as ob, DomainCtx};
use cla_tracker::settings::Settings;
use cla_tracker::workflow::{Kind, State};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

fn seed(conn: &mut DbConn, n: usize, as_of: NaiveDate, cal: &cla_tracker::calendar::Calendar) {
    let now = now_utc();
    let recent = as_of - chrono::Duration::days(1);
    let old = as_of - chrono::Duration::days(42);
    for chunk_start in (0..n).step_by(1000) {
        let end = (chunk_start + 1000).min(n);
        let mut kids = Vec::new();
        let mut rows = Vec::new();
        for i in chunk_start..end {
            let child_id = new_id();
            kids.push(models::Child {
                id: child_id.clone(),
                local_id: format!("B{i:06}"),
                responsible_la: "SOM".into(),
                given_name: "Bench".into(),
                family_name: format!("Child{i}"),
                date_of_birth: NaiveDate::from_ymd_opt(2014, 1, 1).unwrap(),
                sex: "F".into(),
                nhs_number: None,
                uasc: 0,
                gp_practice: None,
                social_worker_email: Some(format!("sw{}@som.example.org", i % 300)),
                version: 1,
                created_at: now,
                updated_at: now,
                social_worker_id: None,
                sealed_on: None,
            });
            let started = if i % 50 == 0 { old } else { recent };
            let due_on = cal.add_working_days(started, 20);
            let child = kids.last().expect("the child just pushed");
            rows.push(new_assessment(
                child,
                None,
                Kind::Iha,
                State::AwaitingNotification,
                started,
                due_on,
            ));
        }
        // MultiConnection has no batch insert: use the backend's own connection.
        match conn {
            DbConn::Sqlite(c) => c.transaction(|c| {
                diesel::insert_into(children::table).values(&kids).execute(c)?;
                diesel::insert_into(assessments::table).values(&rows).execute(c)?;
                Ok::<_, diesel::result::Error>(())
            }),
            DbConn::Postgres(c) => c.transaction(|c| {
                diesel::insert_into(children::table).values(&kids).execute(c)?;
                diesel::insert_into(assessments::table).values(&rows).execute(c)?;
                Ok::<_, diesel::result::Error>(())
            }),
        }
        .expect("seed");
    }
}

/// Accepts every message and throws it away.
fn smtp_sink() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let mut out = stream.try_clone().unwrap();
                let mut r = BufReader::new(stream);
                let _ = out.write_all(b"220 sink\r\n");
                let mut line = String::new();
                let mut in_data = false;
                loop {
                    line.clear();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let reply: &[u8] = if in_data {
                        if line != ".\r\n" {
                            continue;
                        }
                        in_data = false;
                        b"250 ok\r\n"
                    } else {
                        let up = line.to_ascii_uppercase();
                        if up.starts_with("EHLO") {
                            b"250-sink\r\n250 8BITMIME\r\n"
                        } else if up.starts_with("DATA") {
                            in_data = true;
                            b"354 go\r\n"
                        } else if up.starts_with("QUIT") {
                            let _ = out.write_all(b"221 bye\r\n");
                            return;
                        } else {
                            b"250 ok\r\n"
                        }
                    };
                    if out.write_all(reply).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

fn run(url: &str, label: &str, n: usize) {
    let mut conn = db::connect(&DatabaseUrl::parse(url)).expect("connect");
    db::run_migrations(&mut conn).expect("migrate");
    let mut settings = Settings::defaults();
    settings.database_url = url.into();
    settings.escalation.designated_nurse_email = "dn@icb.example.nhs.uk".into();
    settings.escalation.named_nurse_email = "nn@trust.example.nhs.uk".into();
    settings.escalation.health_admin_mailbox = "admin@trust.example.nhs.uk".into();
    settings.smtp_url = format!("smtp://127.0.0.1:{}", smtp_sink());
    if let Ok(n) = std::env::var("CLA_BENCH_SENDERS") {
        settings.escalation.sender_workers = n.parse().expect("CLA_BENCH_SENDERS is a number");
    }
    let cal = calendar_store::load(&mut conn).expect("calendar");
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let t = Instant::now();
    seed(&mut conn, n, as_of, &cal);
    println!("[{label}] seeded {n} open IHAs in {:.1} s", t.elapsed().as_secs_f64());
    let mut ctx = DomainCtx::new(Arc::new(cal), &settings, as_of);
    ctx.actor = Actor::system("escalation");
    let cfg = EscalationConfig::new(Arc::new(escalation::parse(BUILT_IN_RULES).expect("ladder")), &settings);
    let t = Instant::now();
    let first = escalations::sweep(&mut conn, &ctx, &cfg, as_of, false).expect("sweep");
    println!(
        "[{label}] first sweep over {} open assessments: {:.3} s, fired {} escalations (the backlog)",
        first.open_assessments,
        t.elapsed().as_secs_f64(),
        first.fired.len()
    );
    for i in 0..3 {
        let t = Instant::now();
        let again = escalations::sweep(&mut conn, &ctx, &cfg, as_of, false).expect("sweep");
        println!(
            "[{label}] steady-state sweep {} over {} open assessments: {:.3} s (fired {}, resolved {})",
            i + 1,
            again.open_assessments,
            t.elapsed().as_secs_f64(),
            again.fired.len(),
            again.resolved.len()
        );
    }
    let pending: i64 = outbox::table
        .filter(outbox::status.eq("pending"))
        .count()
        .get_result(&mut conn)
        .expect("count");
    let to_send = pending.min(2000);
    // Leave only `to_send` rows due now.
    conn.batch_execute(&format!(
        "UPDATE outbox SET next_attempt_at = '2999-01-01 00:00:00' WHERE status = 'pending' AND id NOT IN \
         (SELECT id FROM outbox WHERE status = 'pending' ORDER BY id LIMIT {to_send})"
    ))
    .expect("limit the batch");
    // The sender as `serve` runs it: `sender_workers` threads, each with its own database
    // connection, sharing one pool of SMTP connections.
    let mailer = Mailer::new(&settings).expect("mailer");
    let workers = settings.escalation.sender_workers;
    let t = Instant::now();
    let threads: Vec<_> = (0..workers)
        .map(|_| {
            let (mailer, url, settings) = (mailer.clone(), url.to_string(), settings.clone());
            std::thread::spawn(move || {
                let mut conn = db::connect(&DatabaseUrl::parse(&url)).expect("connect");
                let policy = SenderPolicy::new(&settings);
                let mut sent = 0;
                loop {
                    let r = ob::deliver_due(&mut conn, &mailer, &policy).expect("deliver");
                    sent += r.sent;
                    if r.claimed == 0 {
                        return sent;
                    }
                }
            })
        })
        .collect();
    let sent: usize = threads.into_iter().map(|t| t.join().expect("sender")).sum();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "[{label}] sender ({workers} threads, pooled SMTP): {sent} messages to a local SMTP sink in {secs:.2} s = {:.0} messages/s",
        sent as f64 / secs
    );
}

fn main() {
    let n: usize = std::env::var("CLA_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::TempDir::new().expect("temp dir");
    let path = dir.path().join("bench.db").display().to_string();
    run(&path, "sqlite", n);
    if let Ok(base) = std::env::var("CLA_BENCH_POSTGRES_URL") {
        let name = format!("cla_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = diesel::PgConnection::establish(&base).expect("postgres");
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create db");
        let url = match base.rsplit_once('/') {
            Some((head, _)) => format!("{head}/{name}"),
            None => base.clone(),
        };
        run(&url, "postgresql", n);
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
    }
}
