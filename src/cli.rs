//! The command line: `serve`, `migrate`, `calendar …`, `seed-demo`, `import …`, `export …`.

use std::net::TcpListener;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use crate::calendar::Calendar;
use crate::db::{self, DatabaseUrl, DbConn};
use crate::http::{AppState, Application};
use crate::service::rag_store::{self, Stamper};
use crate::service::{calendar_store, housekeeping, DomainCtx};
use crate::settings::Settings;

mod accounts;
mod escalate;
mod forecast;
mod health_import;
mod relay;
mod reports;
mod ssda903;

pub use escalate::{spawn_workers as spawn_escalation_workers, Workers};

#[derive(Debug, Parser)]
#[command(
    name = "cla-tracker",
    version,
    about = "Statutory health assessments for Children Looked After in England",
    long_about = "Tracks each child's Initial and Review Health Assessments against the statutory clock on England and Wales working days.\n\nSettings come from config/default.toml and CLA_* environment variables (see README.md)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (applies pending migrations first).
    Serve {
        /// Worker threads (default: one per core).
        #[arg(long)]
        workers: Option<usize>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// England and Wales bank holidays and working-day arithmetic.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Fill an empty database with a realistic invented county (test NHS numbers only).
    SeedDemo(crate::seed::SeedOptions),
    /// Organisations: the ICB, provider trusts, local authorities, host providers.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// User accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Bearer tokens for integrations.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The tamper-evident audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Sweep open assessments once: fire due escalations (queued in the outbox), resolve
    /// cleared ones, and print both.
    Escalate {
        /// Evaluate on this day instead of today.
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<NaiveDate>,
        /// Print what would fire and clear; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also deliver the queued mail now (otherwise a running `serve` sends it).
        #[arg(long)]
        send: bool,
    },
    /// Queue the weekly IHA assurance pack for one meeting date to ADDRESS and deliver it.
    Pack {
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<NaiveDate>,
        #[arg(long, value_name = "ADDRESS", required = true)]
        to: Vec<String>,
    },
    /// The mail outbox: list messages, requeue dead ones, deliver what is due.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Store the RAG of every assessment whose stored RAG is missing or out of date (after
    /// an upgrade or a settings change). `serve` does this every housekeeping interval;
    /// until then lists work it out per request, which is correct but slower.
    RefreshRag,
    /// Copy a SQLite database to FILE while it is in use: a consistent snapshot that opens on
    /// its own. FILE must not exist. (PostgreSQL: use pg_dump; see README.md.)
    Backup {
        /// Where to write the copy (a new file).
        file: std::path::PathBuf,
    },
    /// The monthly performance measures (the board's KPI tables).
    Report {
        #[command(subcommand)]
        command: reports::ReportCommand,
    },
    /// Load data from other systems: a local authority's SSDA903 files, a team's
    /// completed assessments and health checks.
    Import {
        #[command(subcommand)]
        command: ssda903::ImportCommand,
    },
    /// Write data for other systems: a local authority's SSDA903 return.
    Export {
        #[command(subcommand)]
        command: ssda903::ExportCommand,
    },
    /// The lateness forecast: refit its parameters, backtest it.
    Forecast {
        #[command(subcommand)]
        command: forecast::ForecastCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List messages, newest first.
    List {
        /// pending, sending, sent, dead or undeliverable.
        #[arg(long)]
        status: Option<String>,
        /// How many, 1-1000.
        #[arg(long, default_value_t = 200)]
        limit: i64,
    },
    /// Put a dead message back in the queue.
    Requeue { id: String },
    /// Deliver every message that is due now, then exit.
    Send,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// List every organisation: code, kind, name and the ICB it belongs to.
    List,
    /// Set (or, with an empty value, clear) the team manager address of a local authority:
    /// where its `la_team_manager` escalations go.
    TeamManager {
        #[arg(long)]
        code: String,
        #[arg(long)]
        email: String,
    },
    /// Set (or, with an empty value, clear) the address of the Designated Nurse of the ICB
    /// covering a host area (a local authority or host provider): where out-of-area
    /// `host_icb_designated_nurse` escalations go when the request holds no address.
    HostIcbNurse {
        #[arg(long)]
        code: String,
        #[arg(long)]
        email: String,
    },
    /// Add an organisation.
    Add {
        /// icb, provider, local_authority or host_provider.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        name: String,
        /// The LA code (matches children's responsible_la) or ODS code.
        #[arg(long)]
        code: String,
        /// The code of the ICB it belongs to (default: this deployment's ICB; not for an ICB).
        #[arg(long)]
        icb: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input (one line).
    Add {
        #[arg(long)]
        email: String,
        /// admin, health_admin, clinician, social_worker, assurance or read_only; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// The organisation's code (default: this deployment's ICB).
        #[arg(long)]
        org: Option<String>,
        #[arg(long, default_value = "")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a bearer token for a user and print it (shown once; only its hash is kept).
    Issue {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "integration")]
        label: String,
    },
    /// List tokens (never the tokens themselves).
    List,
    /// Revoke a token by id.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exits non-zero and says where if an entry was edited or removed.
    Verify,
    /// Write the entries between two days (inclusive, UTC) as CSV to standard output.
    Export {
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: NaiveDate,
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: NaiveDate,
    },
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Print the bank holidays in force between two dates (inclusive).
    List {
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: NaiveDate,
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: NaiveDate,
    },
    /// Print the date N working days after DATE (DATE itself is day 0 and never counts).
    AddWorkingDays {
        #[arg(value_name = "YYYY-MM-DD")]
        date: NaiveDate,
        #[arg(value_name = "N", allow_hyphen_values = true)]
        days: i32,
    },
    /// Load a GOV.UK bank-holidays.json into the database and recompute open due dates.
    Import {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
}

pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging()?;
    let settings = Settings::load()?;
    match cli.command {
        Command::Serve { workers } => serve(settings, workers),
        Command::Migrate => {
            let mut conn = connect(&settings)?;
            let applied = db::run_migrations(&mut conn)?;
            println!("{} migration(s) applied", applied.len());
            Ok(())
        }
        Command::Calendar { command } => calendar(settings, command),
        Command::Org { command } => accounts::org(settings, command),
        Command::User { command } => accounts::user(settings, command),
        Command::Token { command } => accounts::token(settings, command),
        Command::Audit { command } => accounts::audit(settings, command),
        Command::Escalate { as_of, dry_run, send } => escalate::escalate(settings, as_of, dry_run, send),
        Command::Pack { as_of, to } => escalate::pack(settings, as_of, &to),
        Command::Outbox { command } => escalate::outbox(settings, command),
        Command::Backup { file } => {
            let mut conn = connect(&settings)?;
            let started = std::time::Instant::now();
            db::backup::backup(&mut conn, &file)?;
            let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            println!(
                "backed up to {} ({:.1} MB in {:.1} s); check it with: CLA_DATABASE_URL={} cla-tracker audit verify",
                file.display(),
                bytes as f64 / 1e6,
                started.elapsed().as_secs_f64(),
                file.display()
            );
            Ok(())
        }
        Command::RefreshRag => {
            let mut conn = connect(&settings)?;
            db::run_migrations(&mut conn)?;
            let ctx = domain_ctx(&mut conn, &settings)?;
            let stamped = refresh_with_progress(&mut conn, &Stamper::for_ctx(&ctx))?;
            let plural = if stamped == 1 { "" } else { "s" };
            println!("stored RAG brought up to date for {stamped} assessment{plural}");
            Ok(())
        }
        Command::Report { command } => reports::run(settings, command),
        Command::Import { command } => ssda903::import(settings, command),
        Command::Export { command } => ssda903::export(settings, command),
        Command::Forecast { command } => forecast::run(settings, command),
        Command::SeedDemo(opts) => {
            let mut conn = connect(&settings)?;
            db::run_migrations(&mut conn)?;
            let ctx = domain_ctx(&mut conn, &settings)?;
            crate::seed::run(&mut conn, &ctx, &opts)?;
            // Demo children get invented SSDA903 details, so a demo export is a whole return.
            for (code, _) in crate::seed::local_authorities() {
                crate::service::ssda903_export::invent_demo_details(&mut conn, code)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            register_seed_authorities(&mut conn, &settings)
        }
    }
}

/// The demo county's local authorities become organisations in this deployment's ICB, so
/// its ICB users can see the demo children (no user accounts are invented).
fn register_seed_authorities(conn: &mut DbConn, settings: &Settings) -> anyhow::Result<()> {
    let icb = &settings.organisation.icb_code;
    crate::auth::ensure_home_icb(conn, icb, &settings.organisation.icb_name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let actor = crate::audit::Actor::system("seed-demo");
    for (code, name) in crate::seed::local_authorities() {
        if crate::auth::find_organisation(conn, code).is_ok() {
            continue;
        }
        let org = crate::auth::NewOrganisation {
            kind: "local_authority",
            name,
            code,
            icb_code: Some(icb),
        };
        crate::auth::add_organisation(conn, &actor, org).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    print!("{}", seed_summary(icb, crate::seed::local_authorities()));
    Ok(())
}

/// What `seed-demo` tells its user: the organisation codes the demo children belong to, and
/// which one to give a new user so that they see them.
fn seed_summary<'a>(icb: &str, authorities: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = format!(
        "seed-demo: the demo children belong to these local authorities, organisations in the ICB (code {icb}):\n"
    );
    for (code, name) in authorities {
        out.push_str(&format!("  {code:<6} {name}\n"));
    }
    out.push_str(&format!(
        "The ICB's users see every one of them: add one with \
         `cla-tracker user add --org {icb} --role health_admin ...`; `cla-tracker org list` lists every organisation.\n"
    ));
    out
}

/// Logs to standard error, filtered by `CLA_LOG` (tracing `EnvFilter` syntax), as text or,
/// with `CLA_LOG_FORMAT=json`, one JSON object a line (`crate::logging`). Read before the
/// settings, so that their errors are logged in the chosen form.
fn init_logging() -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CLA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,actix_server=warn"));
    let format = std::env::var("CLA_LOG_FORMAT").unwrap_or_default();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format.as_str() {
        "" | "text" => {
            let _ = builder.try_init();
        }
        "json" => {
            let _ = builder.event_format(crate::logging::Json).try_init();
        }
        other => anyhow::bail!("CLA_LOG_FORMAT: {other:?} is not a log format; use text or json"),
    }
    Ok(())
}

pub(crate) fn connect(settings: &Settings) -> anyhow::Result<DbConn> {
    let url = DatabaseUrl::checked(&settings.database_url)?;
    db::connect(&url).with_context(|| format!("opening the {} database", url.backend_name()))
}

pub(crate) fn domain_ctx(conn: &mut DbConn, settings: &Settings) -> anyhow::Result<DomainCtx> {
    let calendar = calendar_store::load(conn).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(DomainCtx::new(Arc::new(calendar), settings, crate::today(settings)))
}

fn calendar(settings: Settings, command: CalendarCommand) -> anyhow::Result<()> {
    let mut conn = connect(&settings)?;
    db::run_migrations(&mut conn)?;
    let ctx = domain_ctx(&mut conn, &settings)?;
    match command {
        CalendarCommand::List { from, to } => {
            if to < from {
                bail!("--to ({to}) is before --from ({from})");
            }
            for h in ctx.calendar.holidays_between(from, to) {
                let note = if h.source == crate::calendar::HolidaySource::Rules {
                    "  (from the regular rules)"
                } else {
                    ""
                };
                println!("{}  {}  {}{note}", h.date, h.date.format("%a"), h.title);
            }
        }
        CalendarCommand::AddWorkingDays { date, days } => {
            if days.abs() > 5000 {
                bail!("N must be between -5000 and 5000");
            }
            let result = ctx.calendar.add_working_days_explained(date, days);
            crate::warn_rule_years(&result.rule_years);
            println!("{}", result.date);
        }
        CalendarCommand::Import { file } => {
            let json = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let report = calendar_store::import(&mut conn, &json, &ctx)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            println!(
                "imported {} England and Wales bank holidays for {}-{}; recomputed {} open assessments, {} due dates changed",
                report.holidays, report.first_year, report.last_year, report.open_assessments, report.due_dates_changed
            );
            // Every stored RAG was made under the old calendar: make them again now rather
            // than leave running servers to derive the whole county until housekeeping has.
            let calendar = calendar_store::load(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
            let stamped = refresh_with_progress(&mut conn, &Stamper::new(&calendar, ctx.clock, ctx.today))?;
            println!("stored RAG made again for {stamped} assessments under the new calendar");
        }
    }
    Ok(())
}

/// Brings stored RAGs up to date, with a running count on standard error.
fn refresh_with_progress(conn: &mut DbConn, stamper: &Stamper<'_>) -> anyhow::Result<usize> {
    let stamped = rag_store::refresh(conn, stamper, |n| eprint!("\rstoring RAG: {n} assessments"))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if stamped > 0 {
        eprintln!();
    }
    Ok(stamped)
}

/// Builds the state the server and the tests share: pool, migrations, calendar.
pub fn prepare(settings: Settings) -> anyhow::Result<AppState> {
    let url = DatabaseUrl::checked(&settings.database_url)?;
    let pool = db::build_pool(&url, settings.pool_size)
        .with_context(|| format!("opening the {} database", url.backend_name()))?;
    let mut conn = pool.get()?;
    let applied = db::run_migrations(&mut conn)?;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "migrations applied");
    }
    crate::auth::ensure_home_icb(
        &mut conn,
        &settings.organisation.icb_code,
        &settings.organisation.icb_name,
    )
    .map_err(|e| anyhow::anyhow!("creating the home ICB: {e}"))?;
    let calendar = calendar_store::load(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some((first, last)) = calendar.data_years() {
        tracing::info!(
            first,
            last,
            "bank holiday calendar loaded; other years use the regular rules"
        );
    }
    drop(conn);
    let ladder = crate::service::escalations::load_ladder(&settings).map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(rules = ladder.rules.len(), "escalation ladder loaded");
    let dummy_hash = crate::auth::password::dummy_hash(&accounts::password_params(&settings));
    let audit = crate::audit::group::Appender::start(&url).context("starting the audit appender")?;
    Ok(AppState {
        pool,
        settings: Arc::new(settings),
        calendar: Arc::new(RwLock::new(Arc::new(calendar))),
        dummy_hash: Arc::new(dummy_hash),
        ladder: Arc::new(ladder),
        audit,
        metrics: Arc::new(crate::metrics::Metrics::new()),
    })
}

fn serve(settings: Settings, workers: Option<usize>) -> anyhow::Result<()> {
    let bind = settings.bind_address.clone();
    relay::warn_if_unreachable(&settings.smtp_url);
    let state = prepare(settings)?;
    let listener = TcpListener::bind(&bind).with_context(|| format!("binding {bind}"))?;
    actix_web::rt::System::new().block_on(async move {
        spawn_housekeeping(&state);
        let background = escalate::spawn_workers(&state)?;
        let app = Application::build(state, listener, workers)?;
        tracing::info!(address = %bind, "serving");
        // On SIGTERM or SIGINT actix stops accepting, lets in-flight requests finish (up to
        // 30 s) and only then returns; the senders then finish their current message and
        // hand back the rest of their claimed batch, so no lease is left to expire.
        let served = app.run_until_stopped().await;
        tracing::info!("stopping: waiting for the sender and sweep threads");
        actix_web::rt::task::spawn_blocking(move || background.stop_and_wait())
            .await
            .map_err(std::io::Error::other)?;
        tracing::info!("stopped");
        served
    })?;
    Ok(())
}

/// Every interval: reload the calendar if another process imported one, open leaving-care
/// summaries and end periods at 18 (`care::sweep`), close the obligations of children who
/// have turned 18, and re-stamp stored RAGs that went stale.
pub fn spawn_housekeeping(state: &AppState) {
    let pool = state.pool.clone();
    let settings = state.settings.clone();
    let calendar = state.calendar.clone();
    std::thread::spawn(move || {
        let mut seen = None;
        loop {
            if let Ok(mut conn) = pool.get() {
                match calendar_store::fingerprint(&mut conn) {
                    Ok(fp) if seen.as_ref() != Some(&fp) => {
                        if seen.is_some() {
                            reload_calendar(&mut conn, &calendar);
                        }
                        seen = Some(fp);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "checking the calendar"),
                }
                // Before the closing below: a period still open on the 18th birthday ends
                // on it, closing its assessments with the care-leaver reason.
                match crate::service::care::sweep(&mut conn, crate::today(&settings)) {
                    Ok(done) if done == Default::default() => {}
                    Ok(done) => tracing::info!(
                        summaries_opened = done.summaries_opened,
                        periods_ended = done.periods_ended,
                        "care-leaver track: leaving-care summaries opened, periods ended at 18"
                    ),
                    Err(e) => tracing::warn!(error = %e, "care-leaver sweep"),
                }
                match housekeeping::close_for_eighteenth_birthdays(&mut conn, crate::today(&settings)) {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(closed = n, "closed obligations of young people who turned 18"),
                    Err(e) => tracing::warn!(error = %e, "closing obligations at 18"),
                }
                let in_force = calendar.read().map(|c| Arc::clone(&c));
                if let Ok(cal) = &in_force {
                    refit_forecast_weekly(&mut conn, &settings, cal);
                }
                if let Ok(cal) = in_force {
                    let stamper = Stamper::new(&cal, crate::service::clock_policy(&settings), crate::today(&settings));
                    match rag_store::refresh(&mut conn, &stamper, |_| {}) {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(stamped = n, "stored RAG brought up to date"),
                        Err(e) => tracing::warn!(error = %e, "bringing the stored RAG up to date"),
                    }
                    snapshot_past_meetings(&mut conn, &settings, &cal);
                }
            }
            std::thread::sleep(Duration::from_secs(settings.housekeeping_interval_seconds));
        }
    });
}

/// Housekeeping's weekly refit of the lateness forecast (`forecast refit` does it now),
/// then today's stored forecasts (`forecast_stamp`) for the rows lists rank.
fn refit_forecast_weekly(conn: &mut DbConn, settings: &Settings, cal: &Arc<Calendar>) {
    let ctx = DomainCtx::new(cal.clone(), settings, crate::today(settings));
    match crate::service::forecast::refit_if_stale(conn, &ctx, 7) {
        Ok(true) => tracing::info!("lateness forecast refitted"),
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "refitting the lateness forecast"),
    }
    match crate::service::forecast_stamp::refresh(conn, &ctx) {
        Ok(0) => {}
        Ok(n) => tracing::info!(stamped = n, "stored lateness forecasts brought up to date"),
        Err(e) => tracing::warn!(error = %e, "storing the lateness forecasts"),
    }
}

/// Housekeeping's snapshots of the past weeks' meeting lists (`rag_snapshot`), after the
/// stamps they complete.
fn snapshot_past_meetings(conn: &mut DbConn, settings: &Settings, cal: &Arc<Calendar>) {
    let ctx = DomainCtx::new(cal.clone(), settings, crate::today(settings));
    match crate::service::rag_snapshot::refresh(conn, &ctx, settings.assurance.default_weeks) {
        Ok(0) => {}
        Ok(n) => tracing::info!(snapshots = n, "past meeting lists' RAG stored"),
        Err(e) => tracing::warn!(error = %e, "storing the past meeting lists' RAG"),
    }
}

fn reload_calendar(conn: &mut DbConn, slot: &RwLock<Arc<Calendar>>) {
    match calendar_store::load(conn) {
        Ok(c) => {
            if let Ok(mut guard) = slot.write() {
                *guard = Arc::new(c);
                tracing::info!("bank holiday calendar reloaded after an import");
            }
        }
        Err(e) => tracing::warn!(error = %e, "reloading the calendar"),
    }
}
