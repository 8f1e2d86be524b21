//! `escalate`, `pack` and `outbox` commands, and the sweep and sender threads of `serve`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::anyhow;
use chrono::NaiveDate;

use super::{domain_ctx, OutboxCommand};
use crate::audit::Actor;
use crate::db::DbConn;
use crate::http::AppState;
use crate::service::escalations::{self, EscalationConfig, SweepReport};
use crate::service::outbox::{self, Mailer, OutboxQuery, SenderPolicy};
use crate::service::reach::Reach;
use crate::service::{pack, DomainCtx};
use crate::settings::Settings;

fn ladder(settings: &Settings) -> anyhow::Result<Arc<crate::escalation::Ladder>> {
    Ok(Arc::new(
        escalations::load_ladder(settings).map_err(|e| anyhow!("{e}"))?,
    ))
}

fn print_report(report: &SweepReport, dry_run: bool) {
    let verb = if dry_run { "would fire" } else { "fired" };
    for f in &report.fired {
        println!(
            "{verb}  {}  {} level {}  since {}  child {}  to {}",
            f.assessment_id,
            f.rule_id,
            f.level,
            f.since,
            f.child_local_id,
            f.recipients.join(", ")
        );
    }
    let verb = if dry_run { "would resolve" } else { "resolved" };
    for r in &report.resolved {
        println!("{verb}  {}  {} level {}", r.assessment_id, r.rule_id, r.level);
    }
    println!(
        "{} open assessments; {} escalations {}, {} {}; {} messages undeliverable; {} recorded first by another instance",
        report.open_assessments,
        report.fired.len(),
        if dry_run { "would fire" } else { "fired" },
        report.resolved.len(),
        if dry_run { "would resolve" } else { "resolved" },
        report.undeliverable,
        report.lost_races
    );
}

pub fn escalate(settings: Settings, as_of: Option<NaiveDate>, dry_run: bool, send: bool) -> anyhow::Result<()> {
    let ladder = ladder(&settings)?;
    let mut conn = super::accounts::ready(&settings)?;
    let mut ctx = domain_ctx(&mut conn, &settings)?;
    ctx.actor = Actor::system("escalation");
    let as_of = as_of.unwrap_or(ctx.today);
    let cfg = EscalationConfig::new(ladder, &settings);
    let report = escalations::sweep(&mut conn, &ctx, &cfg, as_of, dry_run).map_err(|e| anyhow!("{e}"))?;
    print_report(&report, dry_run);
    if send && !dry_run {
        send_all(&mut conn, &settings)?;
    }
    Ok(())
}

/// Delivers everything due now (one pass over the queue; failures wait for their retry).
fn send_all(conn: &mut DbConn, settings: &Settings) -> anyhow::Result<()> {
    let mailer = Mailer::new(settings).map_err(|e| anyhow!("{e}"))?;
    let policy = SenderPolicy::new(settings);
    let mut total = outbox::DeliveryReport::default();
    loop {
        let r = outbox::deliver_due(conn, &mailer, &policy)?;
        total.sent += r.sent;
        total.retrying += r.retrying;
        total.dead += r.dead;
        if r.claimed < policy.batch as usize {
            break;
        }
    }
    println!(
        "sent {}, waiting to retry {}, dead {}",
        total.sent, total.retrying, total.dead
    );
    Ok(())
}

pub fn pack(settings: Settings, as_of: Option<NaiveDate>, to: &[String]) -> anyhow::Result<()> {
    let mut conn = super::accounts::ready(&settings)?;
    let mut ctx = domain_ctx(&mut conn, &settings)?;
    ctx.actor = super::accounts::cli_actor();
    let as_of = as_of.unwrap_or(ctx.today);
    let n = pack::enqueue(&mut conn, &ctx, &settings, as_of, to, false).map_err(|e| anyhow!("{e}"))?;
    println!("queued the IHA assurance pack for {as_of} to {n} address(es)");
    send_all(&mut conn, &settings)
}

pub fn outbox(settings: Settings, command: OutboxCommand) -> anyhow::Result<()> {
    let mut conn = super::accounts::ready(&settings)?;
    match command {
        OutboxCommand::List { status, limit } => {
            let rows = outbox::list(
                &mut conn,
                &OutboxQuery {
                    status,
                    limit: Some(limit),
                    offset: None,
                },
                &Reach::everything(),
            )
            .map_err(|e| anyhow!("{e}"))?;
            for r in rows.items {
                println!(
                    "{}  {:<13}  attempts {}  {}  {} <{}>  {}{}",
                    r.id,
                    r.status,
                    r.attempts,
                    r.created_at.format("%Y-%m-%d %H:%M"),
                    r.recipient,
                    r.to_address.unwrap_or_default(),
                    r.subject,
                    r.last_error.map(|e| format!("  [{e}]")).unwrap_or_default()
                );
            }
        }
        OutboxCommand::Requeue { id } => {
            let view = outbox::requeue(&mut conn, &super::accounts::cli_actor(), &id, &Reach::everything())
                .map_err(|e| anyhow!("{e}"))?;
            println!("requeued {} ({})", view.id, view.subject);
        }
        OutboxCommand::Send => send_all(&mut conn, &settings)?,
    }
    Ok(())
}

/// Stops the threads started by [`spawn_workers`] (after their current round).
#[derive(Clone)]
pub struct Workers {
    stop: Arc<AtomicBool>,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Workers {
    /// Asks every thread to stop after what it is doing now, without waiting.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Graceful shutdown: stops the threads and waits for them. A sender finishes the message
    /// it is sending and hands its other claimed rows back; a sweep finishes its transaction.
    pub fn stop_and_wait(&self) {
        self.stop();
        let threads = match self.threads.lock() {
            Ok(mut t) => std::mem::take(&mut *t),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        for t in threads {
            let _ = t.join();
        }
    }

    fn spawn(&self, name: &str, f: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        let handle = std::thread::Builder::new().name(name.to_string()).spawn(f)?;
        if let Ok(mut t) = self.threads.lock() {
            t.push(handle);
        }
        Ok(())
    }
}

/// Sleeps `seconds` in short steps, returning early (true) when asked to stop.
fn pause(stop: &AtomicBool, seconds: u64) -> bool {
    let until = std::time::Instant::now() + Duration::from_secs(seconds);
    while std::time::Instant::now() < until {
        if stop.load(Ordering::SeqCst) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.load(Ordering::SeqCst)
}

/// The sweep (and weekly pack) thread and the sender thread of `serve`. A bad SMTP URL or
/// From address stops start-up; an unreachable relay only delays mail.
pub fn spawn_workers(state: &AppState) -> std::io::Result<Workers> {
    let mailer = Mailer::new(&state.settings).map_err(std::io::Error::other)?;
    let workers = Workers {
        stop: Arc::new(AtomicBool::new(false)),
        threads: Arc::new(Mutex::new(Vec::new())),
    };
    for n in 0..state.settings.escalation.sender_workers {
        let (settings, pool, stop, mailer) = (
            state.settings.clone(),
            state.pool.clone(),
            workers.stop.clone(),
            mailer.clone(),
        );
        workers.spawn(&format!("sender-{n}"), move || {
            send_loop(&settings, &pool, &mailer, &stop)
        })?;
    }
    let stop = workers.stop.clone();
    let settings = state.settings.clone();
    let pool = state.pool.clone();
    let calendar = state.calendar.clone();
    let ladder = state.ladder.clone();
    let metrics = state.metrics.clone();
    workers.spawn("sweep", move || loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let cal = match calendar.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let mut ctx = DomainCtx::new(cal, &settings, crate::today(&settings));
        ctx.actor = Actor::system("escalation");
        let cfg = EscalationConfig::new(ladder.clone(), &settings);
        match pool.get() {
            Ok(mut conn) => {
                let started = std::time::Instant::now();
                let swept = escalations::sweep(&mut conn, &ctx, &cfg, ctx.today, false);
                metrics.observe_sweep(chrono::Utc::now().timestamp(), started.elapsed(), swept.is_ok());
                match swept {
                    Ok(r) if r.fired.is_empty() && r.resolved.is_empty() => {}
                    Ok(r) => tracing::info!(
                        fired = r.fired.len(),
                        resolved = r.resolved.len(),
                        undeliverable = r.undeliverable,
                        "escalation sweep"
                    ),
                    Err(e) => tracing::warn!(error = %e, "escalation sweep"),
                }
                let recipients = &settings.escalation.pack_recipients;
                if let Some(date) = pack::due_on(chrono::Utc::now().with_timezone(&chrono_tz::UTC), &settings) {
                    if !recipients.is_empty() {
                        match pack::enqueue(&mut conn, &ctx, &settings, date, recipients, true) {
                            Ok(0) => {}
                            Ok(n) => tracing::info!(date = %date, queued = n, "weekly IHA assurance pack"),
                            Err(e) => tracing::warn!(error = %e, "weekly IHA assurance pack"),
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "escalation sweep: no database connection"),
        }
        if pause(&stop, settings.escalation.sweep_interval_seconds) {
            return;
        }
    })?;
    Ok(workers)
}

/// One sender thread: deliver what is due, again at once while there is a full batch,
/// otherwise after `send_interval_seconds`.
fn send_loop(settings: &Settings, pool: &crate::db::Pool, mailer: &Mailer, stop: &AtomicBool) {
    let policy = SenderPolicy::new(settings);
    while !stop.load(Ordering::SeqCst) {
        let mut busy = false;
        match outbox::deliver_due_unless(&mut &*pool, mailer, &policy, stop) {
            Ok(r) => {
                if r.claimed > 0 || r.reclaimed > 0 {
                    tracing::info!(
                        sent = r.sent,
                        retrying = r.retrying,
                        dead = r.dead,
                        reclaimed = r.reclaimed,
                        released = r.released,
                        "outbox"
                    );
                }
                busy = r.claimed == policy.batch as usize;
            }
            Err(e) => tracing::warn!(error = %e, "outbox delivery"),
        }
        if !busy && pause(stop, settings.escalation.send_interval_seconds) {
            return;
        }
    }
}
