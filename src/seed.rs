//! `seed-demo`: fills an empty database with an invented county that looks like the ones in
//! the published annual reports: about 630 children in care, about 200 new periods of care a
//! year, a quarter placed out of area, late notifications and consents, children not
//! brought, a few competent refusals, and every assessment in some state as of today.
//!
//! Every assessment is walked through `workflow::transition` step by step, and each step
//! sets the columns the service layer sets (src/service/assessments.rs, periods.rs), so the
//! rows are ones the running service could have produced. Identity is invented: names from
//! small built-in lists and NHS numbers from the 999 test range.
//!
//! Speed: children are planned first (dates only, small), then expanded a chunk at a time
//! into plain model rows and written with multi-row inserts, all in one transaction so a
//! failure leaves the database empty. Ids come from the seeded generator, so a seed gives
//! the same county on the same `today`.

use std::time::Instant;

use anyhow::{anyhow, bail};
use chrono::{Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::audit::AuditEvent;
use crate::db::models::{
    Appointment, Assessment, AssessmentEvent, Child, Consent, HealthCheck, LegalStatusChange, Note, OutOfAreaRequest,
    Period, Placement,
};
use crate::db::schema::*;
use crate::db::DbConn;
use crate::legal_status;
use crate::obligations::{self, IhaDecision};
use crate::service::assessments::new_assessment;
use crate::service::rag_store::Stamper;
use crate::service::DomainCtx;
use crate::ssda903;
use crate::status;
use crate::workflow::{self, Event, Kind, Outcome, State};

/// The default seed: any fixed value, so two runs without `--seed` agree.
const DEFAULT_SEED: u64 = 0x5EED_0C1A_2026;

#[derive(Debug, clap::Args)]
pub struct SeedOptions {
    /// Children in care on today (CLA_TODAY or the current date); everything else scales
    /// with it. 100000 works for benchmarks.
    #[arg(long, default_value_t = 630, value_parser = clap::value_parser!(u32).range(1..=400_000))]
    pub children: u32,
    /// Seed for the random generator: the same seed and today give the same county.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Years of history before today: new periods of care arrive throughout.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub years: u32,
}

/// Children expanded into rows before they are written: big enough for efficient batches,
/// small enough to keep memory flat at 100,000 children.
const CHILDREN_PER_CHUNK: usize = 2_000;
/// Rows per INSERT. The widest table (assessments, 28 columns) stays below SQLite's 32,766
/// and PostgreSQL's 65,535 bind parameters.
const ROWS_PER_INSERT: usize = 1_000;
/// Rows per PostgreSQL COPY (binary), which has no parameter limit.
const ROWS_PER_COPY: usize = 20_000;

pub fn run(conn: &mut DbConn, ctx: &DomainCtx, opts: &SeedOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    let existing: i64 = children::table.count().get_result(conn)?;
    if existing > 0 {
        bail!(
            "the database already has {existing} children; seed-demo only fills an empty database \
             (point CLA_DATABASE_URL at a new SQLite file or a freshly created PostgreSQL database)"
        );
    }
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let plans = plan_county(&mut rng, ctx.today, opts);
    eprintln!(
        "seed-demo: planned {} children over {} year(s) of history to {} (seed {})",
        plans.len(),
        opts.years,
        ctx.today,
        opts.seed
    );
    let triggers_off = tune_for_bulk_load(conn)?;
    let result = crate::db::write_transaction(conn, |conn| {
        // Checked again inside the transaction so two runs at once cannot both write.
        let existing: i64 = children::table.count().get_result(conn)?;
        if existing > 0 {
            bail!("the database already has {existing} children; nothing written");
        }
        let stats = write_county(conn, ctx, rng, &plans)?;
        crate::service::assessments::sync_open_requests(conn)?;
        if triggers_off {
            check_foreign_keys(conn)?;
        }
        let event = AuditEvent::ok("seed_demo", "database", None, None);
        ctx.audit(conn, event)
            .map_err(|e| anyhow!("recording the seed in the audit trail: {e}"))?;
        Ok(stats)
    });
    restore_after_bulk_load(conn, triggers_off)?;
    let stats = result?;
    // The simulation writes rows; their history is made from them as for a database
    // from before the event store, then stamped again (a history can move a stamp's start).
    let t = Instant::now();
    let histories = crate::db::history::backfill(conn)?;
    eprintln!(
        "seed-demo: {histories} histories made in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let stamped = crate::service::rag_store::refresh(conn, &Stamper::for_ctx(ctx), |_| {})?;
    eprintln!("seed-demo: {stamped} RAGs stored in {:.1} s", t.elapsed().as_secs_f64());
    refresh_statistics(conn)?;
    print_summary(&stats, opts, ctx.today, started.elapsed().as_secs_f64());
    Ok(())
}

/// Settings for this connection while it loads. SQLite: its default page cache (2 MiB)
/// makes every index insert into a large database a disk read, so use 256 MiB.
/// PostgreSQL: the per-row foreign-key triggers cost more than the inserts themselves, so
/// a superuser connection loads with triggers off (`session_replication_role = replica`)
/// and [`check_foreign_keys`] then checks every key in one query each before commit.
/// Returns whether triggers are off. Without the privilege the load just runs slower.
fn tune_for_bulk_load(conn: &mut DbConn) -> anyhow::Result<bool> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConn::Sqlite(c) => {
            c.batch_execute("PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;")?;
            Ok(false)
        }
        DbConn::Postgres(c) => match c.batch_execute("SET session_replication_role = replica") {
            Ok(()) => Ok(true),
            Err(e) => {
                eprintln!("seed-demo: foreign keys checked row by row (not a superuser: {e}); this is slower");
                Ok(false)
            }
        },
    }
}

fn restore_after_bulk_load(conn: &mut DbConn, triggers_off: bool) -> anyhow::Result<()> {
    use diesel::connection::SimpleConnection;
    match conn {
        DbConn::Sqlite(c) => c.batch_execute("PRAGMA cache_size = -2000; PRAGMA temp_store = DEFAULT;")?,
        DbConn::Postgres(c) => {
            if triggers_off {
                c.batch_execute("RESET session_replication_role")?;
            }
        }
    }
    Ok(())
}

/// PostgreSQL: fresh statistics for the planner, and the visibility map that lets counts
/// read the index alone, rather than waiting for autovacuum. Run once the histories are
/// made and the RAGs stored: analysed before, the planner took the event table for empty
/// and read all of it for every page of events.
fn refresh_statistics(conn: &mut DbConn) -> anyhow::Result<()> {
    use diesel::connection::SimpleConnection;
    if let DbConn::Postgres(c) = conn {
        // One statement each: several in one string run as one transaction.
        c.batch_execute("VACUUM ANALYZE assessments")?;
        c.batch_execute("ANALYZE")?;
    }
    Ok(())
}

/// Every foreign key of the schema: (table, column, referenced table).
const FOREIGN_KEYS: &[(&str, &str, &str)] = &[
    ("children", "social_worker_id", "users"),
    ("periods", "child_id", "children"),
    ("legal_status_changes", "period_id", "periods"),
    ("placements", "period_id", "periods"),
    ("assessments", "child_id", "children"),
    ("assessments", "period_id", "periods"),
    ("assessment_events", "assessment_id", "assessments"),
    ("consents", "assessment_id", "assessments"),
    ("appointments", "assessment_id", "assessments"),
    ("out_of_area_requests", "assessment_id", "assessments"),
    ("out_of_area_requests", "placement_id", "placements"),
    ("notes", "child_id", "children"),
    ("notes", "assessment_id", "assessments"),
    ("health_checks", "child_id", "children"),
];

/// What the triggers would have checked row by row, as one anti-join per key; any orphan
/// fails the load and the transaction rolls back.
fn check_foreign_keys(conn: &mut DbConn) -> anyhow::Result<()> {
    for (table, column, parent) in FOREIGN_KEYS {
        let sql = format!(
            "(SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = t.{column}))"
        );
        let orphans: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&sql)).get_result(conn)?;
        if orphans > 0 {
            bail!("seed-demo bug: {orphans} rows of {table}.{column} refer to no {parent}; nothing written");
        }
    }
    Ok(())
}

fn write_county(conn: &mut DbConn, ctx: &DomainCtx, rng: StdRng, plans: &[ChildPlan]) -> anyhow::Result<Stats> {
    let mut gen = Gen::new(rng, ctx, plans.len());
    let (mut done, mut rows) = (0, 0);
    let (mut generating, mut writing) = (0.0, 0.0);
    for chunk in plans.chunks(CHILDREN_PER_CHUNK) {
        let t = Instant::now();
        for plan in chunk {
            gen.child(plan)?;
        }
        generating += t.elapsed().as_secs_f64();
        let t = Instant::now();
        insert_batch(conn, &gen.batch)?;
        writing += t.elapsed().as_secs_f64();
        done += chunk.len();
        rows += gen.batch.len();
        gen.stats.add_counts(&gen.batch);
        gen.batch.clear();
        eprintln!(
            "seed-demo: {done}/{} children ({}%), {rows} rows written; {generating:.1} s generating, {writing:.1} s writing",
            plans.len(),
            done * 100 / plans.len().max(1)
        );
    }
    Ok(gen.stats)
}

// ---------------------------------------------------------------------------------------
// Planning: who is looked after when. Dates only; rows come later.

#[derive(Debug, Clone)]
struct PeriodPlan {
    start: NaiveDate,
    end: Option<(NaiveDate, &'static str)>,
    /// The legal status the period starts with.
    legal_status: &'static str,
    /// Later legal statuses, oldest first, each before the end (some may be after today).
    changes: Vec<legal_status::Change>,
    /// The day a child who is adopted moves in with the adopters (REC E11, E12).
    placed_for_adoption: Option<NaiveDate>,
    category_of_need: &'static str,
}

impl PeriodPlan {
    /// A period with the legal-status changes and the adoption placement that its statuses
    /// and its ending call for ([`protective_order_ends`], [`adoption`]).
    fn new(
        rng: &mut StdRng,
        start: NaiveDate,
        end: Option<(NaiveDate, &'static str)>,
        legal_status: &'static str,
        category_of_need: &'static str,
    ) -> PeriodPlan {
        let mut plan = PeriodPlan {
            start,
            end,
            legal_status,
            changes: Vec::new(),
            placed_for_adoption: None,
            category_of_need,
        };
        protective_order_ends(rng, &mut plan);
        adoption(rng, &mut plan);
        plan
    }

    fn legal_status_on(&self, day: NaiveDate) -> &str {
        legal_status::status_on(self.legal_status, &self.changes, day)
    }

    /// The day of the last change, else the start.
    fn last_change(&self) -> NaiveDate {
        self.changes.last().map_or(self.start, |c| c.changed_on)
    }

    /// Adds a change if it falls before the period's end; returns whether it did.
    fn change(&mut self, on: NaiveDate, status: &'static str) -> bool {
        let in_period = on > self.last_change() && self.end.is_none_or(|(end, _)| on < end);
        if in_period {
            self.changes.push(legal_status::Change {
                changed_on: on,
                legal_status: status.to_string(),
            });
        }
        in_period
    }
}

/// The short protective statuses last days, not months (DfE rules 361-363): police
/// protection at most 72 hours (Children Act 1989 s.46(6)), an emergency protection order
/// 8 days, extended at most once by 7 (s.45), a child assessment order at most 7 days
/// (s.43(5)). Each gives way to the status the child is then looked after under (another
/// order, or accommodation under section 20), unless the period ends first.
fn protective_order_ends(rng: &mut StdRng, plan: &mut PeriodPlan) {
    let mut status = plan.legal_status;
    while let Some((days, next)) = protective_order(status) {
        let on = plan.last_change() + Duration::days(rng.random_range(days));
        status = pick(rng, next);
        if !plan.change(on, status) {
            return;
        }
    }
}

/// How many days a protective status lasts, and what follows it.
type Protection = (std::ops::RangeInclusive<i64>, &'static [(&'static str, u32)]);

fn protective_order(legal_status: &str) -> Option<Protection> {
    match legal_status {
        "L1" => Some((1..=3, &[("V2", 45), ("C1", 35), ("L2", 20)])),
        "L2" => Some((1..=15, &[("C1", 80), ("V2", 20)])),
        "L3" => Some((1..=7, &[("V2", 60), ("C1", 40)])),
        _ => None,
    }
}

/// The shortest period that ends in adoption: care proceedings, a placement order and
/// matching take most of a year even for babies.
const MIN_DAYS_TO_ADOPTION: i64 = 270;

/// A child is adopted (REC E11, E12) from an adoption placement (DfE rule 390), made under
/// a placement order (E1, rule 408) some weeks before, and after living with the adopters
/// at least ten weeks (Adoption and Children Act 2002 s.42(2)).
fn adoption(rng: &mut StdRng, plan: &mut PeriodPlan) {
    let Some((adopted_on, "E11" | "E12")) = plan.end else {
        return;
    };
    let placed = adopted_on - Duration::days(rng.random_range(70..=240));
    if plan.legal_status_on(placed) != "E1" {
        let order = (placed - Duration::days(rng.random_range(14..=120))).max(plan.last_change() + Duration::days(1));
        plan.change(order.min(placed), "E1");
    }
    plan.placed_for_adoption = Some(placed);
}

#[derive(Debug, Clone)]
struct ChildPlan {
    date_of_birth: NaiveDate,
    sex: &'static str,
    uasc: bool,
    periods: Vec<PeriodPlan>,
}

impl ChildPlan {
    fn in_care(&self) -> bool {
        self.periods.last().is_some_and(|p| p.end.is_none())
    }
}

/// New periods of care arrive at 200 a year for every 630 children in care (the reports'
/// ratio). Children already in care when the history starts are then added until exactly
/// `--children` are in care today.
fn plan_county(rng: &mut StdRng, today: NaiveDate, opts: &SeedOptions) -> Vec<ChildPlan> {
    let window_start = today.checked_sub_months(Months::new(12 * opts.years)).unwrap_or(today);
    let per_year = f64::from(opts.children) * 200.0 / 630.0;
    let arrivals = (per_year * f64::from(opts.years)).round() as usize;
    let mut plans: Vec<ChildPlan> = (0..arrivals).map(|_| plan_arrival(rng, window_start, today)).collect();
    let arrived_in_care = plans.iter().filter(|p| p.in_care()).count();
    let mut still_needed = (opts.children as usize).saturating_sub(arrived_in_care);
    while still_needed > 0 {
        let plan = plan_stayer(rng, window_start, today, opts.years);
        if plan.in_care() {
            still_needed -= 1;
        }
        plans.push(plan);
    }
    // Local ids are handed out in order of coming into care, as an LA's system would.
    plans.sort_by_key(|p| p.periods.first().map(|q| q.start));
    plans
}

fn random_day(rng: &mut StdRng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(0);
    from + Duration::days(rng.random_range(0..=span))
}

/// A date of birth that makes the child `years` old on `on`.
fn born_aged(rng: &mut StdRng, on: NaiveDate, years: u32, min_days: i64) -> NaiveDate {
    let anniversary = on.checked_sub_months(Months::new(12 * years)).unwrap_or(on);
    anniversary - Duration::days(rng.random_range(min_days..365))
}

/// A child who becomes looked after during the history window (sometimes not for the
/// first time, sometimes coming back again later).
fn plan_arrival(rng: &mut StdRng, window_start: NaiveDate, today: NaiveDate) -> ChildPlan {
    let start = random_day(rng, window_start, today);
    let uasc = rng.random_bool(0.05);
    let age = if uasc {
        rng.random_range(14..=17)
    } else {
        pick(rng, ENTRY_AGES)
    };
    let newborn = age == 0 && rng.random_bool(0.4);
    let date_of_birth = if newborn {
        start - Duration::days(rng.random_range(0..14))
    } else {
        born_aged(rng, start, age, 0)
    };
    let (legal_status, category_of_need) = entry_status(rng, uasc, obligations::age_on(date_of_birth, start));
    let mut periods = if legal_status == "V3" {
        plan_short_breaks(rng, start, date_of_birth, category_of_need, today)
    } else {
        let end = plan_end(rng, start, date_of_birth, legal_status, uasc, today);
        vec![PeriodPlan::new(rng, start, end, legal_status, category_of_need)]
    };
    if !uasc && rng.random_bool(0.06) {
        if let Some(earlier) = plan_earlier_period(rng, start, date_of_birth) {
            periods.insert(0, earlier);
        }
    }
    if !uasc && rng.random_bool(0.04) {
        if let Some(again) = plan_reentry(rng, &periods, date_of_birth, today) {
            periods.push(again);
        }
    }
    ChildPlan {
        date_of_birth,
        sex: pick_sex(rng, uasc),
        uasc,
        periods,
    }
}

fn pick_sex(rng: &mut StdRng, uasc: bool) -> &'static str {
    let male = if uasc { 0.9 } else { 0.55 };
    if rng.random_bool(male) {
        "M"
    } else {
        "F"
    }
}

/// A child already looked after when the history starts (their period began up to eight
/// years before); some leave during the window, and those who reach 18 age out.
fn plan_stayer(rng: &mut StdRng, window_start: NaiveDate, today: NaiveDate, years: u32) -> ChildPlan {
    let uasc = rng.random_bool(0.05);
    let age = if uasc {
        rng.random_range(14..=16)
    } else {
        pick(rng, STOCK_AGES)
    };
    let date_of_birth = born_aged(rng, window_start, age, if age == 0 { 60 } else { 0 });
    let in_care_days = pick_range(rng, STOCK_DAYS_IN_CARE);
    let latest = window_start - Duration::days(1);
    let start = (window_start - Duration::days(in_care_days)).clamp(date_of_birth, latest);
    let (legal_status, category_of_need) = if uasc {
        ("V2", "N8")
    } else {
        let ls = pick(rng, STOCK_LEGAL_STATUSES);
        let ls = if ls == "E1" && age > 7 { "C2" } else { ls };
        (ls, pick(rng, CATEGORIES))
    };
    let leaves = rng.random_bool(1.0 - 0.87f64.powi(years as i32));
    let candidate = leaves.then(|| {
        let on = random_day(rng, window_start, today);
        let endings = if ssda903::is_short_breaks(legal_status) {
            SHORT_BREAK_ENDINGS
        } else {
            LONG_ENDINGS
        };
        let age = obligations::age_on(date_of_birth, on);
        (on, leaving_reason(rng, endings, age, (on - start).num_days()))
    });
    let end = cap_at_eighteen(rng, date_of_birth, candidate, today, uasc);
    ChildPlan {
        date_of_birth,
        sex: pick_sex(rng, uasc),
        uasc,
        periods: vec![PeriodPlan::new(rng, start, end, legal_status, category_of_need)],
    }
}

fn entry_status(rng: &mut StdRng, uasc: bool, age: u32) -> (&'static str, &'static str) {
    if uasc {
        return ("V2", if rng.random_bool(0.9) { "N8" } else { "N1" });
    }
    (entry_legal_status(rng, age), pick(rng, CATEGORIES))
}

/// Remand (J1) is for young people over the age of criminal responsibility, 10 (DfE rule
/// 358), in practice teenagers; younger children in that bucket are accommodated instead.
fn entry_legal_status(rng: &mut StdRng, age: u32) -> &'static str {
    match pick(rng, ENTRY_LEGAL_STATUSES) {
        "J1" if age < 12 => "V2",
        status => status,
    }
}

/// How long a period lasts and why it ends; `None` while it is still open today.
fn plan_end(
    rng: &mut StdRng,
    start: NaiveDate,
    date_of_birth: NaiveDate,
    legal_status: &str,
    uasc: bool,
    today: NaiveDate,
) -> Option<(NaiveDate, &'static str)> {
    let age = obligations::age_on(date_of_birth, start);
    let candidate = match legal_status {
        "J1" => Some((
            rng.random_range(5..=90),
            if rng.random_bool(0.85) { "E14" } else { "E9" },
        )),
        "V3" => Some(short_break(rng)),
        "V4" => rng
            .random_bool(0.4)
            .then(|| (rng.random_range(100..=700), pick(rng, SHORT_BREAK_ENDINGS))),
        _ if uasc => None,
        _ => {
            let stay = pick(rng, STAY_KINDS);
            let (days, endings) = match stay {
                Stay::Short => (rng.random_range(3..=56), SHORT_ENDINGS),
                Stay::Medium => (rng.random_range(57..=365), MEDIUM_ENDINGS),
                Stay::Long => (rng.random_range(366..=3000), LONG_ENDINGS),
            };
            Some((days, leaving_reason(rng, endings, age, days)))
        }
    };
    let candidate = candidate.map(|(days, reason)| (start + Duration::days(days), reason));
    cap_at_eighteen(rng, date_of_birth, candidate, today, uasc)
}

/// No one is looked after at 18: a period still running on the 18th birthday ends there
/// (staying put, or moving on to independent living). Ends after today are not yet known.
fn cap_at_eighteen(
    rng: &mut StdRng,
    date_of_birth: NaiveDate,
    candidate: Option<(NaiveDate, &'static str)>,
    today: NaiveDate,
    uasc: bool,
) -> Option<(NaiveDate, &'static str)> {
    let eighteenth = obligations::birthday(date_of_birth, 18);
    let end = match candidate {
        Some((on, reason)) if on < eighteenth => Some((on, reason)),
        _ => Some((eighteenth, pick(rng, if uasc { UASC_AGE_OUT } else { AGE_OUT }))),
    };
    end.filter(|(on, _)| *on <= today)
}

/// Adoption is for young children after most of a year in care, and adult social care
/// takes over from 16 at the earliest (DfE rule 389); other children in those buckets go
/// home instead.
fn leaving_reason(rng: &mut StdRng, endings: &[(&'static str, u32)], age: u32, days: i64) -> &'static str {
    match pick(rng, endings) {
        "E11" | "E12" if age >= 6 || days < MIN_DAYS_TO_ADOPTION => "E4A",
        "E7" if age < 16 => "E4A",
        reason => reason,
    }
}

/// One break of an agreed series of short breaks (V3) is its own period of care: a night
/// or a few (DfE rule 365: at most 17 days), then home.
fn short_break(rng: &mut StdRng) -> (i64, &'static str) {
    (rng.random_range(1..=4), "E4A")
}

/// An agreed series of short breaks (V3), one period each, while the agreement lasts. At
/// least three weeks apart, so a child has at most about 64 days a year (DfE rule 367: 75).
fn plan_short_breaks(
    rng: &mut StdRng,
    first: NaiveDate,
    date_of_birth: NaiveDate,
    category_of_need: &'static str,
    today: NaiveDate,
) -> Vec<PeriodPlan> {
    let agreement_ends = first + Duration::days(rng.random_range(180..=900));
    let eighteenth = obligations::birthday(date_of_birth, 18);
    let mut breaks = Vec::new();
    let mut start = first;
    while start <= today && start < agreement_ends.min(eighteenth) {
        let end = plan_end(rng, start, date_of_birth, "V3", false, today);
        breaks.push(PeriodPlan::new(rng, start, end, "V3", category_of_need));
        let Some((ended, _)) = end else { break };
        start = ended + Duration::days(rng.random_range(21..=56));
    }
    breaks
}

/// An earlier, shorter period that ended before this one began (re-entry into care).
fn plan_earlier_period(rng: &mut StdRng, start: NaiveDate, date_of_birth: NaiveDate) -> Option<PeriodPlan> {
    let gap = if rng.random_bool(0.25) {
        rng.random_range(20..=80)
    } else {
        rng.random_range(120..=1200)
    };
    let ended = start - Duration::days(gap);
    let legal_status = entry_legal_status(rng, obligations::age_on(date_of_birth, ended));
    let (length, reason) = if legal_status == "V3" {
        short_break(rng)
    } else {
        (rng.random_range(15..=300), pick(rng, SHORT_ENDINGS))
    };
    let began = ended - Duration::days(length);
    let category_of_need = pick(rng, CATEGORIES);
    (began > date_of_birth + Duration::days(30))
        .then(|| PeriodPlan::new(rng, began, Some((ended, reason)), legal_status, category_of_need))
}

/// Coming back into care some weeks after the last period ended.
fn plan_reentry(
    rng: &mut StdRng,
    periods: &[PeriodPlan],
    date_of_birth: NaiveDate,
    today: NaiveDate,
) -> Option<PeriodPlan> {
    let (ended, _) = periods.last()?.end?;
    let start = ended + Duration::days(rng.random_range(30..=300));
    if start > today || start >= obligations::birthday(date_of_birth, 18) {
        return None;
    }
    let legal_status = entry_legal_status(rng, obligations::age_on(date_of_birth, start));
    let end = plan_end(rng, start, date_of_birth, legal_status, false, today);
    let category_of_need = pick(rng, CATEGORIES);
    Some(PeriodPlan::new(rng, start, end, legal_status, category_of_need))
}

// ---------------------------------------------------------------------------------------
// Reference data. Proportions follow the annual reports and DfE national figures loosely.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stay {
    Short,
    Medium,
    Long,
}

const STAY_KINDS: &[(Stay, u32)] = &[(Stay::Short, 14), (Stay::Medium, 24), (Stay::Long, 62)];
/// Age in years on becoming looked after: 10-15 most common, then babies and 16-17.
const ENTRY_AGES: &[(u32, u32)] = &[
    (0, 17),
    (1, 4),
    (2, 4),
    (3, 3),
    (4, 3),
    (5, 3),
    (6, 3),
    (7, 3),
    (8, 3),
    (9, 3),
    (10, 5),
    (11, 6),
    (12, 6),
    (13, 7),
    (14, 7),
    (15, 7),
    (16, 8),
    (17, 6),
];
/// Age in years of the children already in care when the history starts.
const STOCK_AGES: &[(u32, u32)] = &[
    (0, 3),
    (1, 3),
    (2, 3),
    (3, 3),
    (4, 3),
    (5, 4),
    (6, 4),
    (7, 4),
    (8, 4),
    (9, 4),
    (10, 6),
    (11, 6),
    (12, 7),
    (13, 7),
    (14, 8),
    (15, 8),
    (16, 7),
    (17, 5),
];
const STOCK_DAYS_IN_CARE: &[(std::ops::RangeInclusive<i64>, u32)] =
    &[(30..=365, 35), (366..=1095, 35), (1096..=2900, 30)];
const ENTRY_LEGAL_STATUSES: &[(&str, u32)] = &[
    ("C1", 33),
    ("V2", 38),
    ("C2", 12),
    ("L1", 4),
    ("L2", 2),
    ("J1", 2),
    ("E1", 2),
    ("V3", 2),
    ("V4", 1),
    ("L3", 1),
];
/// No V3: a child on a series of short breaks is looked after only during each break, so
/// none has been in care since before the history began.
const STOCK_LEGAL_STATUSES: &[(&str, u32)] = &[("C2", 58), ("C1", 8), ("V2", 20), ("E1", 9), ("V4", 1), ("D1", 1)];
const CATEGORIES: &[(&str, u32)] = &[
    ("N1", 64),
    ("N2", 4),
    ("N3", 3),
    ("N4", 8),
    ("N5", 10),
    ("N6", 2),
    ("N7", 1),
    ("N8", 8),
];
const SHORT_ENDINGS: &[(&str, u32)] = &[("E4A", 45), ("E4B", 15), ("E13", 20), ("E3", 8), ("E8", 7), ("E41", 5)];
const MEDIUM_ENDINGS: &[(&str, u32)] = &[
    ("E4A", 35),
    ("E41", 12),
    ("E13", 10),
    ("E45", 8),
    ("E47", 8),
    ("E11", 12),
    ("E3", 5),
    ("E8", 5),
    ("E46", 5),
];
const LONG_ENDINGS: &[(&str, u32)] = &[
    ("E11", 25),
    ("E12", 5),
    ("E45", 10),
    ("E46", 10),
    ("E47", 5),
    ("E48", 3),
    ("E4A", 25),
    ("E41", 7),
    ("E3", 4),
    ("E7", 1),
    ("E16", 1),
    ("E8", 4),
];
/// Short breaks end at home, or when the agreement ends (V4).
const SHORT_BREAK_ENDINGS: &[(&str, u32)] = &[("E4A", 50), ("E8", 50)];
const AGE_OUT: &[(&str, u32)] = &[("E17", 25), ("E5", 45), ("E6", 20), ("E8", 10)];
const UASC_AGE_OUT: &[(&str, u32)] = &[("E5", 60), ("E6", 30), ("E17", 10)];

/// The foster carers who become special guardians: relatives or friends (E45), others (E46).
fn special_guardians(reason: &str) -> Option<&'static [(&'static str, u32)]> {
    match reason {
        "E45" => Some(&[("U1", 50), ("U3", 45), ("U2", 5)]),
        "E46" => Some(&[("U4", 60), ("U6", 35), ("U5", 5)]),
        _ => None,
    }
}

struct LocalAuthority {
    code: &'static str,
    name: &'static str,
    id_prefix: &'static str,
    domain: &'static str,
    weight: u32,
}

/// The county and two neighbours that share its health provider (invented names).
const AUTHORITIES: &[LocalAuthority] = &[
    LocalAuthority {
        code: "933",
        name: "Wessex Shire Council",
        id_prefix: "SCC",
        domain: "wessexshire.example.gov.uk",
        weight: 88,
    },
    LocalAuthority {
        code: "865",
        name: "Kennet Vale Council",
        id_prefix: "KVC",
        domain: "kennetvale.example.gov.uk",
        weight: 9,
    },
    LocalAuthority {
        code: "803",
        name: "Severnside Council",
        id_prefix: "SVC",
        domain: "severnside.example.gov.uk",
        weight: 3,
    },
];

/// Host areas for out-of-area placements; request emails go to host-<n>.
const HOST_AREAS: &[&str] = &[
    "Northmoor",
    "Eastleigh Vale",
    "Brackwater",
    "Thornbury Downs",
    "Kingsreach",
    "Marlow Fen",
    "Ashcombe",
    "Redcliffe",
    "Westhaven",
    "Coldharbour",
    "Fernleigh",
    "Stonebridge",
];

const GIVEN_FEMALE: &[&str] = &[
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Isabella",
    "Rosie",
    "Sophia",
    "Grace",
    "Willow",
    "Freya",
    "Florence",
    "Emily",
    "Ella",
    "Poppy",
    "Evie",
    "Elsie",
    "Charlotte",
    "Ruby",
    "Daisy",
    "Phoebe",
    "Sienna",
    "Millie",
    "Harper",
    "Chloe",
    "Jessica",
    "Leah",
    "Maisie",
    "Megan",
    "Holly",
    "Tilly",
    "Lacey",
    "Skye",
    "Courtney",
    "Kayleigh",
    "Jade",
    "Paige",
    "Abbie",
];
const GIVEN_MALE: &[&str] = &[
    "Noah", "Oliver", "George", "Arthur", "Leo", "Harry", "Oscar", "Archie", "Henry", "Theo", "Jack", "Charlie",
    "Freddie", "Alfie", "Finley", "Thomas", "Jacob", "Riley", "Mason", "Tyler", "Jayden", "Kai", "Logan", "Callum",
    "Connor", "Kieran", "Liam", "Reece", "Ryan", "Lewis", "Jake", "Bailey", "Ethan", "Dylan", "Harrison", "Toby",
    "Max", "Ollie", "Louie", "Frankie",
];
const FAMILY: &[&str] = &[
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Hughes",
    "Edwards",
    "Lewis",
    "Harris",
    "Turner",
    "Hill",
    "Cooper",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Baker",
    "Harrison",
    "Morgan",
    "Patel",
    "Young",
    "Allen",
    "Mitchell",
    "James",
    "Anderson",
    "Phillips",
    "Lee",
    "Bell",
    "Parker",
    "Davis",
    "King",
    "Price",
    "Bennett",
    "Griffiths",
    "Marsh",
    "Pearce",
    "Coles",
    "Sealey",
    "Tucker",
    "Hooper",
    "Chedzoy",
    "Gillard",
    "Vowles",
    "Hembrow",
    "Chard",
];
const UASC_GIVEN_MALE: &[&str] = &[
    "Ahmad", "Mohammed", "Ali", "Hamid", "Abdullah", "Yonas", "Dawit", "Samuel", "Omar", "Hassan", "Bilal", "Mustafa",
    "Karim", "Ibrahim", "Zaki", "Amanuel", "Filmon", "Yusuf",
];
const UASC_GIVEN_FEMALE: &[&str] = &["Selam", "Helen", "Mariam", "Fatima", "Zahra", "Aster", "Nadia"];
const UASC_FAMILY: &[&str] = &[
    "Ahmadi",
    "Karimi",
    "Rahimi",
    "Hashimi",
    "Tesfaye",
    "Haile",
    "Berhane",
    "Osman",
    "Abdi",
    "Mohamed",
    "Hussaini",
    "Noori",
    "Yousufzai",
    "Ghebre",
    "Kidane",
    "Adam",
];
const GP_PRACTICES: &[&str] = &[
    "Quantock Vale Surgery",
    "Brook Lane Medical Centre",
    "The Levels Practice",
    "Harbour View Surgery",
    "Orchard House Surgery",
    "Market Street Health Centre",
    "Moorside Surgery",
    "St Aldhelm's Practice",
];
const DOCTORS: &[&str] = &[
    "Dr S. Okafor (CLA paediatrician)",
    "Dr H. Patel (CLA paediatrician)",
    "Dr J. Marsh (community paediatrician)",
    "Dr E. Whitlock (community paediatrician)",
];
const NURSES: &[&str] = &[
    "K. Daly (CLA specialist nurse)",
    "R. Ahmed (CLA specialist nurse)",
    "P. Lovell (CLA specialist nurse)",
    "L. Baxter (CLA specialist nurse)",
];
const CLINICS: &[&str] = &[
    "Northgate Child Health Clinic",
    "Riverside Children's Centre",
    "Home visit (carer's address)",
    "Eastmoor Community Hospital",
];
const DEVELOPMENT_OUTCOMES: &[(&str, u32)] = &[
    ("development age-appropriate", 68),
    ("speech and language delay: referred to speech and language therapy", 14),
    ("gross motor delay: physiotherapy referral", 6),
    ("global developmental delay: under community paediatrics", 5),
    ("not all areas assessed: review at next RHA", 7),
];
const DENTAL_OUTCOMES: &[(&str, u32)] = &[
    ("routine check, no treatment needed", 70),
    ("treatment plan in place", 22),
    ("referred to the community dental service", 8),
];

// ---------------------------------------------------------------------------------------
// Working-day delays (in working days), tuned so that about 55-65% of IHAs are done within
// 20 working days: consent and host providers are the usual causes of delay.

type Delays = &'static [(std::ops::RangeInclusive<i32>, u32)];

const NOTIFY: Delays = &[(1..=2, 68), (3..=5, 20), (6..=12, 9), (13..=30, 3)];
const CONSENT: Delays = &[(1..=4, 54), (5..=8, 25), (9..=15, 12), (16..=30, 6), (31..=60, 3)];
const BOOK_HOME: Delays = &[(0..=2, 70), (3..=6, 25), (7..=15, 5)];
const BOOK_HOST: Delays = &[(1..=4, 45), (5..=10, 37), (11..=40, 18)];
const LEAD_HOME: Delays = &[(2..=5, 60), (6..=9, 30), (10..=15, 10)];
const LEAD_HOST: Delays = &[(3..=8, 55), (9..=18, 45)];
const REPORT_HOME: Delays = &[(0..=2, 65), (3..=5, 30), (6..=12, 5)];
const REPORT_HOST: Delays = &[(1..=5, 55), (6..=15, 35), (16..=30, 10)];
const REBOOK: Delays = &[(0..=3, 80), (4..=10, 20)];
const REBOOK_LEAD: Delays = &[(3..=8, 70), (9..=15, 30)];
/// RHAs are booked soon after the booking window opens...
const RHA_BOOK: Delays = &[(0..=3, 75), (4..=10, 25)];
/// ...for a day relative to the due date: mostly before it, some late.
const RHA_OFFSET: Delays = &[(-20..=-3, 88), (0..=10, 8), (11..=40, 4)];
const HOST_ACK: Delays = &[(1..=3, 55), (4..=10, 35), (11..=25, 10)];

/// How much slower than the county's usual a case's steps run, as in real data: by local
/// authority (consent and notification practice differ) and by age at the start (young
/// people's consent and attendance take longer; an order's LA consent for a baby is quick).
/// Averages about 1 over the county's mix, so overall timeliness stays as tuned above.
fn pace(la: &str, age: u32) -> f64 {
    let by_la = match la {
        "865" => 1.6,
        "803" => 0.7,
        _ => 1.0,
    };
    let by_age = match age {
        0..=4 => 0.7,
        5..=9 => 0.85,
        10..=15 => 1.05,
        _ => 1.3,
    };
    by_la * by_age
}

const MAX_BOOKINGS: u32 = 4;
const IHA_REFUSAL: f64 = 0.04;
const RHA_REFUSAL: f64 = 0.03;
const PERIOD_ENDED: &str = "period of care ended";
const TURNED_18: &str = "turned 18: no longer looked after; the care-leaver track begins";
const COMPETENT_REFUSAL: &str = "competent refusal by the young person";

/// A weighted choice from a constant, non-empty table.
fn pick<T: Copy>(rng: &mut StdRng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut r = rng.random_range(0..total.max(1));
    for (item, weight) in items {
        if r < *weight {
            return *item;
        }
        r -= weight;
    }
    // Only reachable for an empty table; every table here is a non-empty constant.
    items[items.len() - 1].0
}

/// A value from a weighted choice of ranges (constant, non-empty tables).
fn pick_range<T>(rng: &mut StdRng, items: &[(std::ops::RangeInclusive<T>, u32)]) -> T
where
    T: Copy + rand::distr::uniform::SampleUniform + PartialOrd,
{
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut r = rng.random_range(0..total.max(1));
    for (range, weight) in items {
        if r < *weight {
            return rng.random_range(range.clone());
        }
        r -= weight;
    }
    rng.random_range(items[items.len() - 1].0.clone())
}

fn one_of<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// A timestamp on `day` in working hours; `minute` keeps same-day rows in order.
fn at(day: NaiveDate, minute: u32) -> NaiveDateTime {
    day.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(8 * 60 + minute % 600))
}

// ---------------------------------------------------------------------------------------
// Rows waiting to be written.

#[derive(Default)]
struct Batch {
    children: Vec<Child>,
    periods: Vec<Period>,
    legal_status_changes: Vec<LegalStatusChange>,
    placements: Vec<Placement>,
    assessments: Vec<Assessment>,
    events: Vec<AssessmentEvent>,
    consents: Vec<Consent>,
    appointments: Vec<Appointment>,
    requests: Vec<OutOfAreaRequest>,
    notes: Vec<Note>,
    health_checks: Vec<HealthCheck>,
}

impl Batch {
    fn len(&self) -> usize {
        self.children.len()
            + self.periods.len()
            + self.legal_status_changes.len()
            + self.placements.len()
            + self.assessments.len()
            + self.events.len()
            + self.consents.len()
            + self.appointments.len()
            + self.requests.len()
            + self.notes.len()
            + self.health_checks.len()
    }

    fn clear(&mut self) {
        *self = Batch::default();
    }
}

/// Bulk inserts on the backend's own connection: diesel's `MultiConnection` does not
/// batch-insert, so this matches on the variant (the sanctioned way to do a
/// backend-specific thing here): multi-row INSERTs on SQLite, binary COPY on PostgreSQL.
/// Rows go in as tuples of `column.eq(value)` rather than as the model structs: the
/// models' derive turns `None` into DEFAULT, which makes diesel insert one row per
/// statement on SQLite and rules out COPY; with explicit values (NULL is what every
/// nullable column defaults to anyway) a whole chunk is one statement.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr, |$r:ident| $tuple:expr) => {
        match &mut *$conn {
            DbConn::Postgres(c) => {
                for chunk in $rows.chunks(ROWS_PER_COPY) {
                    let values: Vec<_> = chunk.iter().map(|$r| $tuple).collect();
                    diesel::copy_from($table).from_insertable(values).execute(c)?;
                }
            }
            DbConn::Sqlite(c) => {
                for chunk in $rows.chunks(ROWS_PER_INSERT) {
                    let values: Vec<_> = chunk.iter().map(|$r| $tuple).collect();
                    diesel::insert_into($table).values(values).execute(c)?;
                }
            }
        }
    };
}

/// Parents before children, so foreign keys hold at every statement. Every column is
/// listed; `rows_read_back_equal_the_rows_generated` checks none is missed.
fn insert_batch(conn: &mut DbConn, b: &Batch) -> anyhow::Result<()> {
    use crate::db::schema::assessment_events as ev;
    use crate::db::schema::out_of_area_requests as oa;
    insert_rows!(conn, children::table, b.children, |r| (
        children::id.eq(&r.id),
        children::local_id.eq(&r.local_id),
        children::responsible_la.eq(&r.responsible_la),
        children::given_name.eq(&r.given_name),
        children::family_name.eq(&r.family_name),
        children::date_of_birth.eq(r.date_of_birth),
        children::sex.eq(&r.sex),
        children::nhs_number.eq(&r.nhs_number),
        children::uasc.eq(r.uasc),
        children::gp_practice.eq(&r.gp_practice),
        children::social_worker_email.eq(&r.social_worker_email),
        children::version.eq(r.version),
        children::created_at.eq(r.created_at),
        children::updated_at.eq(r.updated_at),
        children::social_worker_id.eq(&r.social_worker_id),
    ));
    insert_rows!(conn, periods::table, b.periods, |r| (
        periods::id.eq(&r.id),
        periods::child_id.eq(&r.child_id),
        periods::started_on.eq(r.started_on),
        periods::legal_status.eq(&r.legal_status),
        periods::category_of_need.eq(&r.category_of_need),
        periods::ended_on.eq(r.ended_on),
        periods::end_reason.eq(&r.end_reason),
        periods::version.eq(r.version),
        periods::created_at.eq(r.created_at),
    ));
    insert_rows!(conn, legal_status_changes::table, b.legal_status_changes, |r| (
        legal_status_changes::id.eq(&r.id),
        legal_status_changes::period_id.eq(&r.period_id),
        legal_status_changes::changed_on.eq(r.changed_on),
        legal_status_changes::legal_status.eq(&r.legal_status),
        legal_status_changes::previous_status.eq(&r.previous_status),
        legal_status_changes::recorded_at.eq(r.recorded_at),
        legal_status_changes::recorded_by.eq(&r.recorded_by),
    ));
    insert_rows!(conn, placements::table, b.placements, |r| (
        placements::id.eq(&r.id),
        placements::period_id.eq(&r.period_id),
        placements::started_on.eq(r.started_on),
        placements::placement_type.eq(&r.placement_type),
        placements::out_of_area.eq(r.out_of_area),
        placements::host_la.eq(&r.host_la),
        placements::host_provider_email.eq(&r.host_provider_email),
        placements::created_at.eq(r.created_at),
    ));
    insert_assessments(conn, &b.assessments)?;
    insert_rows!(conn, ev::table, b.events, |r| (
        ev::id.eq(&r.id),
        ev::assessment_id.eq(&r.assessment_id),
        ev::step.eq(&r.step),
        ev::from_state.eq(&r.from_state),
        ev::to_state.eq(&r.to_state),
        ev::occurred_on.eq(r.occurred_on),
        ev::detail.eq(&r.detail),
        ev::created_at.eq(r.created_at),
    ));
    insert_rows!(conn, consents::table, b.consents, |r| (
        consents::id.eq(&r.id),
        consents::assessment_id.eq(&r.assessment_id),
        consents::basis.eq(&r.basis),
        consents::given_by.eq(&r.given_by),
        consents::given_on.eq(r.given_on),
        consents::refused_on.eq(r.refused_on),
        consents::scope.eq(&r.scope),
        consents::confirmed_by.eq(&r.confirmed_by),
        consents::competence_assessed_by.eq(&r.competence_assessed_by),
        consents::reoffer_plan.eq(&r.reoffer_plan),
        consents::withdrawn_on.eq(r.withdrawn_on),
        consents::created_at.eq(r.created_at),
    ));
    insert_rows!(conn, appointments::table, b.appointments, |r| (
        appointments::id.eq(&r.id),
        appointments::assessment_id.eq(&r.assessment_id),
        appointments::starts_at.eq(r.starts_at),
        appointments::clinician.eq(&r.clinician),
        appointments::location.eq(&r.location),
        appointments::booked_on.eq(r.booked_on),
        appointments::outcome.eq(&r.outcome),
        appointments::outcome_recorded_on.eq(r.outcome_recorded_on),
        appointments::version.eq(r.version),
        appointments::created_at.eq(r.created_at),
        appointments::responsible_la.eq(&r.responsible_la),
    ));
    insert_rows!(conn, oa::table, b.requests, |r| (
        oa::id.eq(&r.id),
        oa::assessment_id.eq(&r.assessment_id),
        oa::placement_id.eq(&r.placement_id),
        oa::host_la.eq(&r.host_la),
        oa::host_provider_email.eq(&r.host_provider_email),
        oa::opened_on.eq(r.opened_on),
        oa::requested_on.eq(r.requested_on),
        oa::acknowledged_on.eq(r.acknowledged_on),
        oa::appointment_offered_on.eq(r.appointment_offered_on),
        oa::report_received_on.eq(r.report_received_on),
        oa::closed_on.eq(r.closed_on),
        oa::version.eq(r.version),
        oa::created_at.eq(r.created_at),
        oa::host_icb_email.eq(&r.host_icb_email),
    ));
    insert_rows!(conn, notes::table, b.notes, |r| (
        notes::id.eq(&r.id),
        notes::child_id.eq(&r.child_id),
        notes::assessment_id.eq(&r.assessment_id),
        notes::body.eq(&r.body),
        notes::author.eq(&r.author),
        notes::created_at.eq(r.created_at),
    ));
    insert_rows!(conn, health_checks::table, b.health_checks, |r| (
        health_checks::id.eq(&r.id),
        health_checks::child_id.eq(&r.child_id),
        health_checks::kind.eq(&r.kind),
        health_checks::checked_on.eq(r.checked_on),
        health_checks::up_to_date.eq(r.up_to_date),
        health_checks::sdq_score.eq(r.sdq_score),
        health_checks::sdq_reason.eq(&r.sdq_reason),
        health_checks::outcome.eq(&r.outcome),
        health_checks::created_at.eq(r.created_at),
    ));
    Ok(())
}

fn insert_assessments(conn: &mut DbConn, rows: &[Assessment]) -> anyhow::Result<()> {
    use crate::db::schema::assessments as a;
    insert_rows!(conn, a::table, rows, |r| (
        a::id.eq(&r.id),
        a::child_id.eq(&r.child_id),
        a::period_id.eq(&r.period_id),
        a::kind.eq(&r.kind),
        a::state.eq(&r.state),
        a::clock_started_on.eq(r.clock_started_on),
        a::due_on.eq(r.due_on),
        a::notified_on.eq(r.notified_on),
        a::consent_on.eq(r.consent_on),
        a::first_booked_on.eq(r.first_booked_on),
        a::appointment_on.eq(r.appointment_on),
        a::seen_on.eq(r.seen_on),
        a::report_received_on.eq(r.report_received_on),
        a::completed_on.eq(r.completed_on),
        a::completion_method.eq(&r.completion_method),
        a::ended_on.eq(r.ended_on),
        a::end_reason.eq(&r.end_reason),
        a::non_attendance_count.eq(r.non_attendance_count),
        a::last_non_attendance_on.eq(r.last_non_attendance_on),
        a::last_non_attendance_outcome.eq(&r.last_non_attendance_outcome),
        a::version.eq(r.version),
        a::created_at.eq(r.created_at),
        a::updated_at.eq(r.updated_at),
        a::rag.eq(&r.rag),
        a::rag_basis.eq(&r.rag_basis),
        a::rag_from.eq(r.rag_from),
        a::rag_until.eq(r.rag_until),
        a::responsible_la.eq(&r.responsible_la),
    ));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// What the summary reports.

#[derive(Debug, Default, Clone)]
struct Stats {
    rows: [(&'static str, usize); 11],
    children_in_care: usize,
    in_care_out_of_area: usize,
    uasc_in_care: usize,
    iha: KindStats,
    rha: KindStats,
    refusals: usize,
    non_attendances: usize,
}

#[derive(Debug, Default, Clone)]
struct KindStats {
    total: usize,
    /// Open today, by state name.
    open: Vec<(&'static str, usize)>,
    overdue: usize,
    completed_last_year: usize,
    on_time_last_year: usize,
    not_required: usize,
}

impl KindStats {
    fn count_open(&mut self, state: State) {
        match self.open.iter_mut().find(|(s, _)| *s == state.as_str()) {
            Some((_, n)) => *n += 1,
            None => self.open.push((state.as_str(), 1)),
        }
    }

    fn open_total(&self) -> usize {
        self.open.iter().map(|(_, n)| n).sum()
    }
}

impl Stats {
    fn add_counts(&mut self, b: &Batch) {
        let counts = [
            ("children", b.children.len()),
            ("periods", b.periods.len()),
            ("legal_status_changes", b.legal_status_changes.len()),
            ("placements", b.placements.len()),
            ("assessments", b.assessments.len()),
            ("assessment_events", b.events.len()),
            ("consents", b.consents.len()),
            ("appointments", b.appointments.len()),
            ("out_of_area_requests", b.requests.len()),
            ("notes", b.notes.len()),
            ("health_checks", b.health_checks.len()),
        ];
        for (slot, (name, n)) in self.rows.iter_mut().zip(counts) {
            *slot = (name, slot.1 + n);
        }
    }

    fn count_assessment(&mut self, a: &Assessment, kind: Kind, state: State, today: NaiveDate) {
        let s = match kind {
            Kind::Iha => &mut self.iha,
            Kind::Rha => &mut self.rha,
        };
        s.total += 1;
        if state == State::NotRequired {
            s.not_required += 1;
        }
        if state.is_open() {
            s.count_open(state);
            if state != State::Refused && a.due_on < today {
                s.overdue += 1;
            }
        }
        let year_ago = today - Duration::days(365);
        if let Some(done) = a.completed_on.filter(|d| *d > year_ago) {
            s.completed_last_year += 1;
            if done <= a.due_on {
                s.on_time_last_year += 1;
            }
        }
    }
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "-".into();
    }
    format!("{:.0}%", part as f64 * 100.0 / whole as f64)
}

fn print_summary(s: &Stats, opts: &SeedOptions, today: NaiveDate, seconds: f64) {
    println!(
        "seed-demo: invented county written in {seconds:.1} s (seed {}, {} year(s) to {today})",
        opts.seed, opts.years
    );
    println!(
        "  children in care today: {} ({} placed out of area, {} UASC)",
        s.children_in_care, s.in_care_out_of_area, s.uasc_in_care
    );
    let rows: Vec<String> = s.rows.iter().map(|(name, n)| format!("{name} {n}")).collect();
    println!("  rows: {}", rows.join(", "));
    for (name, k) in [("IHA", &s.iha), ("RHA", &s.rha)] {
        let open: Vec<String> = k.open.iter().map(|(st, n)| format!("{st} {n}")).collect();
        println!(
            "  {name}s: {} in all; open today {} ({}), overdue {}; completed on time in the last 12 months {} of {} ({}); not required {}",
            k.total,
            k.open_total(),
            open.join(", "),
            k.overdue,
            k.on_time_last_year,
            k.completed_last_year,
            percent(k.on_time_last_year, k.completed_last_year),
            k.not_required
        );
    }
    println!(
        "  appointments not attended: {}; competent refusals: {}",
        s.non_attendances, s.refusals
    );
}

// ---------------------------------------------------------------------------------------
// NHS numbers: 999 test range, Modulus 11.

/// Walks 999000000..999999999 in a scrambled order (multiplying by a number coprime with
/// 10^6 is a permutation), so numbers look random but never repeat.
struct NhsNumbers {
    offset: u64,
    next: u64,
}

impl NhsNumbers {
    const SPACE: u64 = 1_000_000;
    const STRIDE: u64 = 7_919;

    fn new(rng: &mut StdRng) -> NhsNumbers {
        NhsNumbers {
            offset: rng.random_range(0..Self::SPACE),
            next: 0,
        }
    }

    fn issue(&mut self) -> anyhow::Result<String> {
        while self.next < Self::SPACE {
            let serial = (self.offset + self.next * Self::STRIDE) % Self::SPACE;
            self.next += 1;
            let first_nine = format!("999{serial:06}");
            if let Some(check) = check_digit(&first_nine) {
                return Ok(format!("{first_nine}{check}"));
            }
        }
        bail!("ran out of test-range NHS numbers; seed fewer children")
    }
}

/// The Modulus 11 check digit for nine digits, or `None` when it would be 10.
fn check_digit(first_nine: &str) -> Option<u32> {
    let sum: u32 = first_nine
        .chars()
        .filter_map(|c| c.to_digit(10))
        .zip((2..=10).rev())
        .map(|(d, w)| d * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        check => Some(check),
    }
}

// ---------------------------------------------------------------------------------------
// Expanding plans into rows.

/// The people a child's case involves, fixed for the child.
struct Who {
    child: Child,
    la: &'static LocalAuthority,
    carer_title: &'static str,
}

/// Where an assessment's steps must stop: today, the end of the period, the 18th birthday.
#[derive(Debug, Clone, Copy)]
struct Limits {
    today: NaiveDate,
    stop: Option<NaiveDate>,
}

impl Limits {
    fn allows(&self, d: NaiveDate) -> bool {
        d <= self.today && self.stop.is_none_or(|s| d < s)
    }
}

/// One assessment being walked through the workflow, with the rows its steps create.
struct Case {
    row: Assessment,
    kind: Kind,
    state: State,
    /// The day the row came into being (day 0, or the previous assessment's completion).
    created_on: NaiveDate,
    /// The day it stopped (completed, closed, not required), if it has.
    final_on: Option<NaiveDate>,
    /// (date, state after) for every step, to know the state on a placement change.
    timeline: Vec<(NaiveDate, State)>,
    events: Vec<AssessmentEvent>,
    appointments: Vec<Appointment>,
    consents: Vec<Consent>,
    requests: Vec<OutOfAreaRequest>,
    notes: Vec<Note>,
    /// Whether a host provider does the work (longer waits).
    host: bool,
    /// How slow this case's steps are beside the county's usual ([`pace`]).
    pace: f64,
    /// The period's first legal status and its changes: the one in force on a day decides
    /// who can consent that day.
    legal_status: String,
    status_changes: Vec<legal_status::Change>,
    limits: Limits,
}

impl Case {
    fn state_on(&self, d: NaiveDate) -> State {
        self.timeline
            .iter()
            .take_while(|(on, _)| *on <= d)
            .last()
            .map_or(self.kind.initial_state(), |(_, s)| *s)
    }

    fn last_appointment(&mut self) -> Option<&mut Appointment> {
        self.appointments.last_mut()
    }
}

struct Gen<'a> {
    rng: StdRng,
    ctx: &'a DomainCtx,
    batch: Batch,
    stats: Stats,
    nhs: NhsNumbers,
    next_local_id: Vec<u32>,
    social_workers: Vec<Vec<String>>,
    id_base_millis: u64,
    ids_issued: u64,
    stamper: Stamper<'a>,
}

impl<'a> Gen<'a> {
    fn new(mut rng: StdRng, ctx: &'a DomainCtx, children: usize) -> Gen<'a> {
        let nhs = NhsNumbers::new(&mut rng);
        // About one social worker for every 15 children on record, per authority.
        let social_workers = AUTHORITIES
            .iter()
            .map(|la| {
                let n = (children * la.weight as usize / 100 / 15).max(3);
                (0..n)
                    .map(|_| {
                        let names = if rng.random_bool(0.8) { GIVEN_FEMALE } else { GIVEN_MALE };
                        let given = one_of(&mut rng, names);
                        let family = one_of(&mut rng, FAMILY);
                        format!("{}.{}@{}", given, family, la.domain).to_ascii_lowercase()
                    })
                    .collect()
            })
            .collect();
        Gen {
            rng,
            ctx,
            batch: Batch::default(),
            stats: Stats::default(),
            nhs,
            next_local_id: vec![1; AUTHORITIES.len()],
            social_workers,
            id_base_millis: u64::try_from(ctx.today.and_time(NaiveTime::MIN).and_utc().timestamp_millis()).unwrap_or(0),
            ids_issued: 0,
            stamper: Stamper::for_ctx(ctx),
        }
    }

    /// Time-ordered ids (UUID version 7, one millisecond apart from a base at today) rather
    /// than the service's random v4: every insert then lands at the end of the primary-key
    /// and foreign-key indexes instead of at a random page, which makes writing 100,000
    /// children several times faster. They are as opaque to the service as v4 ids.
    fn id(&mut self) -> String {
        self.ids_issued += 1;
        let millis = self.id_base_millis + self.ids_issued;
        uuid::Builder::from_unix_timestamp_millis(millis, &self.rng.random())
            .into_uuid()
            .to_string()
    }

    fn wd(&self, d: NaiveDate, n: i32) -> NaiveDate {
        self.ctx.calendar.add_working_days(d, n)
    }

    fn delay(&mut self, table: Delays) -> i32 {
        pick_range(&mut self.rng, table)
    }

    /// A working-day delay from `table` counted from `d`.
    fn after(&mut self, d: NaiveDate, table: Delays) -> NaiveDate {
        let n = self.delay(table);
        self.wd(d, n)
    }

    /// [`Gen::after`] with the delay scaled by the case's pace.
    fn after_paced(&mut self, d: NaiveDate, table: Delays, pace: f64) -> NaiveDate {
        let n = (f64::from(self.delay(table)) * pace).round() as i32;
        self.wd(d, n)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn child(&mut self, plan: &ChildPlan) -> anyhow::Result<()> {
        let who = self.identity(plan)?;
        self.batch.children.push(who.child.clone());
        let mut last_seen = None;
        let mut current_ooa = false;
        for period in &plan.periods {
            current_ooa = self.period(&who, period, &mut last_seen)?;
        }
        if plan.in_care() {
            self.stats.children_in_care += 1;
            self.stats.in_care_out_of_area += usize::from(current_ooa);
            self.stats.uasc_in_care += usize::from(plan.uasc);
            if let Some(p) = plan.periods.last() {
                self.health_checks(&who.child, p, last_seen);
            }
        }
        Ok(())
    }

    fn identity(&mut self, plan: &ChildPlan) -> anyhow::Result<Who> {
        let la_index = pick(
            &mut self.rng,
            &AUTHORITIES
                .iter()
                .enumerate()
                .map(|(i, la)| (i, la.weight))
                .collect::<Vec<_>>(),
        );
        let la = &AUTHORITIES[la_index];
        let local_id = format!("{}{:06}", la.id_prefix, self.next_local_id[la_index]);
        self.next_local_id[la_index] += 1;
        let (given, family) = self.names(plan);
        // Some unaccompanied children arrive with no NHS number (added later).
        let nhs_number = if plan.uasc && self.chance(0.4) {
            None
        } else {
            Some(self.nhs.issue()?)
        };
        let gp_practice = nhs_number
            .is_some()
            .then(|| one_of(&mut self.rng, GP_PRACTICES).to_string());
        let workers = &self.social_workers[la_index];
        let social_worker_email = Some(workers[self.rng.random_range(0..workers.len())].clone());
        let registered = plan.periods.first().map_or(self.ctx.today, |p| p.start);
        let child = Child {
            id: self.id(),
            local_id,
            responsible_la: la.code.to_string(),
            given_name: given.to_string(),
            family_name: family.to_string(),
            date_of_birth: plan.date_of_birth,
            sex: plan.sex.to_string(),
            nhs_number,
            uasc: i32::from(plan.uasc),
            gp_practice,
            social_worker_email,
            version: 1,
            created_at: at(registered, 0),
            updated_at: at(registered, 0),
            // Allocated social worker accounts are not invented: there are no users yet.
            social_worker_id: None,
            sealed_on: None,
        };
        let carer_title = if self.chance(0.7) { "mother" } else { "father" };
        Ok(Who { child, la, carer_title })
    }

    fn names(&mut self, plan: &ChildPlan) -> (&'static str, &'static str) {
        let female = plan.sex == "F";
        let (given, family) = match (plan.uasc, female) {
            (true, true) => (UASC_GIVEN_FEMALE, UASC_FAMILY),
            (true, false) => (UASC_GIVEN_MALE, UASC_FAMILY),
            (false, true) => (GIVEN_FEMALE, FAMILY),
            (false, false) => (GIVEN_MALE, FAMILY),
        };
        (one_of(&mut self.rng, given), one_of(&mut self.rng, family))
    }

    /// Writes one period with its placements and assessments; returns whether its last
    /// placement is out of area.
    fn period(&mut self, who: &Who, plan: &PeriodPlan, last_seen: &mut Option<NaiveDate>) -> anyhow::Result<bool> {
        let mut row = Period {
            id: self.id(),
            child_id: who.child.id.clone(),
            started_on: plan.start,
            legal_status: plan.legal_status.to_string(),
            category_of_need: Some(plan.category_of_need.to_string()),
            ended_on: plan.end.map(|(on, _)| on),
            end_reason: plan.end.map(|(_, r)| r.to_string()),
            version: if plan.end.is_some() { 2 } else { 1 },
            created_at: at(plan.start, 0),
        };
        let changes = self.legal_status_changes(plan, &row.id);
        // Each change bumps the period's version, as `periods::change_legal_status` does.
        row.version += changes.len() as i32;
        let placements = self.placements(who, plan, &row.id);
        let eighteenth = obligations::birthday(who.child.date_of_birth, 18);
        let stop = plan.end.map_or(eighteenth, |(on, _)| on.min(eighteenth));
        let limits = Limits {
            today: self.ctx.today,
            stop: Some(stop),
        };
        let close_reason = match plan.end {
            Some((on, _)) if on >= eighteenth => TURNED_18.to_string(),
            Some((_, reason)) => format!(
                "{PERIOD_ENDED}: {reason} {}",
                ssda903::reason_episode_ceased(reason).unwrap_or("")
            ),
            None => TURNED_18.to_string(),
        };
        let ctx = PeriodCtx {
            period: &row,
            status_changes: &plan.changes,
            placements: &placements,
            limits,
            close_reason,
        };
        self.assessments(who, &ctx, last_seen)?;
        let last_ooa = placements.last().is_some_and(|p| p.out_of_area != 0);
        self.batch.periods.push(row);
        self.batch.legal_status_changes.extend(changes);
        self.batch.placements.extend(placements);
        Ok(last_ooa)
    }

    /// The rows of the plan's changes known today.
    fn legal_status_changes(&mut self, plan: &PeriodPlan, period_id: &str) -> Vec<LegalStatusChange> {
        let mut previous: &str = plan.legal_status;
        let mut rows = Vec::new();
        for c in plan.changes.iter().take_while(|c| c.changed_on <= self.ctx.today) {
            rows.push(LegalStatusChange {
                id: self.id(),
                period_id: period_id.to_string(),
                changed_on: c.changed_on,
                legal_status: c.legal_status.clone(),
                previous_status: previous.to_string(),
                recorded_at: at(c.changed_on, 2),
                recorded_by: crate::service::history_store::recorded_by(self.ctx),
            });
            previous = &c.legal_status;
        }
        rows
    }

    /// The placements in order, and last the one the period's ending needs: the adopters'
    /// (DfE rule 390), or the foster carers who become special guardians (rule 516).
    fn placements(&mut self, who: &Who, plan: &PeriodPlan, period_id: &str) -> Vec<Placement> {
        let mut days = self.moves(plan);
        let mut types: Vec<&'static str> = days.iter().map(|on| self.placement_type(who, plan, *on)).collect();
        if let Some(placed) = plan.placed_for_adoption {
            // With the same carers (A5) only after fostering for adoption with them.
            let same_carers = matches!(types.last(), Some(&("U2" | "U5")));
            days.push(placed);
            types.push(if same_carers { "A5" } else { "A6" });
        } else if let Some(carers) = plan.end.and_then(|(_, reason)| special_guardians(reason)) {
            if let Some(last) = types.last_mut() {
                *last = pick(&mut self.rng, carers);
            }
        }
        days.into_iter()
            .zip(types)
            .map(|(on, placement_type)| self.placement(period_id, on, placement_type))
            .collect()
    }

    /// The days the child moves in: the start, and up to two moves before the end or before
    /// an adoption placement (the child then stays with the adopters).
    fn moves(&mut self, plan: &PeriodPlan) -> Vec<NaiveDate> {
        let last_day = plan
            .placed_for_adoption
            .or(plan.end.map(|(on, _)| on))
            .map_or(self.ctx.today, |on| on - Duration::days(1));
        let mut days = vec![plan.start];
        let extra = if (last_day - plan.start).num_days() < 30 {
            0
        } else {
            pick(&mut self.rng, &[(0usize, 55), (1, 33), (2, 12)])
        };
        for _ in 0..extra {
            days.push(random_day(&mut self.rng, plan.start + Duration::days(1), last_day));
        }
        days.sort();
        days.dedup();
        days
    }

    fn placement(&mut self, period_id: &str, on: NaiveDate, placement_type: &str) -> Placement {
        let ooa_chance = match placement_type {
            "K1" | "K2" | "R1" | "S1" | "R2" => 0.55,
            "P1" | "A3" | "A4" => 0.05,
            _ => 0.25,
        };
        let out_of_area = self.chance(ooa_chance);
        let (host_la, host_provider_email) = if out_of_area {
            let n = self.rng.random_range(0..HOST_AREAS.len());
            (
                Some(format!("{} Council", HOST_AREAS[n])),
                Some(format!("cla.health@host-{}.example.nhs.uk", n + 1)),
            )
        } else {
            (None, None)
        };
        Placement {
            id: self.id(),
            period_id: period_id.to_string(),
            started_on: on,
            placement_type: placement_type.to_string(),
            out_of_area: i32::from(out_of_area),
            host_la,
            host_provider_email,
            created_at: at(on, 1),
        }
    }

    /// Foster care for most; children's homes for teenagers; adoption placements under
    /// placement orders; short breaks with short-break carers or in a children's home.
    /// No semi-independent (H5) or independent living (P2): both were retired from the
    /// 2025-26 return (DfE rule 146), and the supported accommodation (K3) that replaced
    /// them is not in the tracker's code list.
    fn placement_type(&mut self, who: &Who, plan: &PeriodPlan, on: NaiveDate) -> &'static str {
        let age = obligations::age_on(who.child.date_of_birth, on);
        let legal_status = plan.legal_status_on(on);
        let table: &[(&str, u32)] = match (age, legal_status) {
            // Short-break carers, never long-term foster carers (DfE rule 384).
            (_, "V3" | "V4") => &[("U6", 55), ("K2", 40), ("U3", 5)],
            (_, "E1") => &[("A5", 30), ("A6", 40), ("U5", 20), ("U4", 10)],
            (0, _) => &[("U6", 55), ("U3", 15), ("U5", 10), ("R3", 12), ("P1", 8)],
            (1..=10, _) => &[
                ("U4", 32),
                ("U6", 32),
                ("U1", 10),
                ("U3", 12),
                ("U2", 2),
                ("P1", 8),
                ("K2", 4),
            ],
            _ if who.child.uasc != 0 => &[("U6", 55), ("K2", 30), ("U4", 15)],
            (11..=15, _) => &[
                ("U4", 28),
                ("U6", 26),
                ("U1", 8),
                ("U3", 8),
                ("K2", 16),
                ("R1", 3),
                ("K1", 1),
                ("S1", 2),
                ("P1", 6),
                ("R2", 2),
            ],
            _ => &[("U4", 30), ("U6", 27), ("U1", 6), ("K2", 31), ("P1", 4), ("R1", 2)],
        };
        // Placed with parents only under a care order (Care Planning, Placement and Case
        // Review (England) Regulations 2010, Part 4): never under section 20 (DfE rule 378).
        let with_parents = matches!(legal_status, "C1" | "C2");
        let allowed: Vec<(&'static str, u32)> = table
            .iter()
            .copied()
            .filter(|(t, _)| with_parents || *t != "P1")
            .collect();
        pick(&mut self.rng, &allowed)
    }

    // -----------------------------------------------------------------------------------
    // Assessments

    /// The IHA of a period, then each review it schedules, while the period lasts.
    fn assessments(&mut self, who: &Who, p: &PeriodCtx, last_seen: &mut Option<NaiveDate>) -> anyhow::Result<()> {
        let mut case = self.open_iha(who, p, *last_seen);
        if case.state == State::AwaitingNotification {
            self.run_iha(&mut case, who)?;
        }
        loop {
            self.finish(&mut case, p)?;
            *last_seen = case.row.seen_on.or(*last_seen);
            let next = self.next_review(who, p, &case);
            self.keep(case);
            match next {
                Some(mut rha) => {
                    self.run_rha(&mut rha, who)?;
                    case = rha;
                }
                None => return Ok(()),
            }
        }
    }

    fn blank_case(&mut self, row: Assessment, created_on: NaiveDate, host: bool, p: &PeriodCtx) -> Case {
        let kind = if row.kind == Kind::Rha.as_str() {
            Kind::Rha
        } else {
            Kind::Iha
        };
        let mut row = row;
        row.id = self.id();
        row.created_at = at(created_on, 2);
        row.updated_at = row.created_at;
        Case {
            state: kind.initial_state(),
            row,
            kind,
            created_on,
            final_on: None,
            timeline: Vec::new(),
            events: Vec::new(),
            appointments: Vec::new(),
            consents: Vec::new(),
            requests: Vec::new(),
            notes: Vec::new(),
            host,
            pace: 1.0,
            legal_status: p.period.legal_status.clone(),
            status_changes: p.status_changes.to_vec(),
            limits: p.limits,
        }
    }

    /// As `periods::open_iha` does: due on the 20th working day, or not required (short
    /// breaks, or an assessment in the 3 months before) with the reason kept.
    fn open_iha(&mut self, who: &Who, p: &PeriodCtx, prior_seen: Option<NaiveDate>) -> Case {
        let day0 = p.period.started_on;
        let due_on = status::iha_due_on(&self.ctx.calendar, day0, &self.ctx.clock);
        let row = new_assessment(
            &who.child,
            Some(p.period.id.clone()),
            Kind::Iha,
            State::AwaitingNotification,
            day0,
            due_on,
        );
        let host = p.placements.first().is_some_and(|pl| pl.out_of_area != 0);
        let mut case = self.blank_case(row, day0, host, p);
        case.pace = pace(who.la.code, obligations::age_on(who.child.date_of_birth, day0));
        let decision = obligations::iha_decision(&p.period.legal_status, day0, prior_seen);
        let detail = match decision {
            IhaDecision::Required => None,
            IhaDecision::NotRequired(reason) => {
                case.state = State::NotRequired;
                case.row.state = State::NotRequired.as_str().to_string();
                case.row.ended_on = Some(day0);
                case.row.end_reason = Some(reason.describe());
                case.final_on = Some(day0);
                case.row.end_reason.clone()
            }
        };
        let to = case.state;
        self.record(&mut case, "opened", "none", to, day0, detail);
        if host && to != State::NotRequired {
            if let Some(first) = p.placements.first() {
                self.open_request(&mut case, first);
            }
        }
        case
    }

    /// As `assessments::schedule_next_review`: after a completion while the period is still
    /// open, due by the RHA policy from the day the child was seen, unless 18 by then.
    fn next_review(&mut self, who: &Who, p: &PeriodCtx, done: &Case) -> Option<Case> {
        let (seen_on, completed_on) = (done.row.seen_on?, done.row.completed_on?);
        if done.state != State::Completed || p.limits.stop.is_some_and(|s| completed_on >= s) {
            return None;
        }
        let due_on = obligations::next_rha_due(who.child.date_of_birth, seen_on, &self.ctx.rha);
        if due_on >= obligations::birthday(who.child.date_of_birth, 18) {
            return None;
        }
        let row = new_assessment(
            &who.child,
            Some(p.period.id.clone()),
            Kind::Rha,
            State::Scheduled,
            seen_on,
            due_on,
        );
        let host = p
            .placements
            .iter()
            .take_while(|pl| pl.started_on <= completed_on)
            .last()
            .is_some_and(|pl| pl.out_of_area != 0);
        let mut case = self.blank_case(row, completed_on, host, p);
        case.pace = pace(who.la.code, obligations::age_on(who.child.date_of_birth, completed_on));
        let detail = Some(format!("after {}", done.row.id));
        self.record(&mut case, "scheduled", "none", State::Scheduled, seen_on, detail);
        Some(case)
    }

    /// Adds a timeline row. `from` is "none" for the row that opens the assessment.
    fn record(&mut self, case: &mut Case, step: &str, from: &str, to: State, on: NaiveDate, detail: Option<String>) {
        let minute = case.events.len() as u32;
        let event = AssessmentEvent {
            id: self.id(),
            assessment_id: case.row.id.clone(),
            step: step.to_string(),
            from_state: from.to_string(),
            to_state: to.as_str().to_string(),
            occurred_on: on,
            detail,
            created_at: at(on, 10 + minute),
        };
        case.events.push(event);
        case.timeline.push((on, to));
    }

    /// One workflow step: asks `workflow::transition` (a refusal is a bug here), saves the
    /// new state with a version bump as `assessments::advance` does, and records it.
    fn step(&mut self, case: &mut Case, event: Event, on: NaiveDate, detail: Option<String>) -> anyhow::Result<()> {
        let to = workflow::transition(case.kind, case.state, &event)
            .map_err(|refusal| anyhow!("seed-demo simulation bug: {refusal}"))?;
        let from = case.state.as_str();
        self.record(case, event.name(), from, to, on, detail);
        case.state = to;
        case.row.state = to.as_str().to_string();
        case.row.version += 1;
        case.row.updated_at = at(on, 10 + case.events.len() as u32);
        Ok(())
    }

    fn run_iha(&mut self, case: &mut Case, who: &Who) -> anyhow::Result<()> {
        let day0 = case.row.clock_started_on;
        let notified = self.after_paced(day0, NOTIFY, case.pace);
        if !case.limits.allows(notified) {
            return Ok(());
        }
        case.row.notified_on = Some(notified);
        self.step(case, Event::Notify, notified, None)?;
        let decided = self.after_paced(day0, CONSENT, case.pace).max(notified);
        if !case.limits.allows(decided) {
            return Ok(());
        }
        let age = obligations::age_on(who.child.date_of_birth, decided);
        if age >= 14 && self.chance(IHA_REFUSAL) {
            self.refuse(case, who, decided)?;
            return match self.reoffer(case, decided)? {
                Some(back) => self.book_and_see(case, who, back),
                None => Ok(()),
            };
        }
        self.consent(case, who, decided)?;
        self.book_and_see(case, who, decided)
    }

    fn run_rha(&mut self, case: &mut Case, who: &Who) -> anyhow::Result<()> {
        let lead = self.ctx.clock.rha_booking_lead_working_days;
        let window = self.wd(case.row.due_on, -lead).max(case.created_on);
        if !case.limits.allows(window) {
            return Ok(());
        }
        let age = obligations::age_on(who.child.date_of_birth, window);
        if age >= 14 && self.chance(RHA_REFUSAL) {
            self.refuse(case, who, window)?;
            return match self.reoffer(case, window)? {
                Some(back) => self.book_and_see(case, who, back),
                None => Ok(()),
            };
        }
        self.step(case, Event::OpenBooking, window, None)?;
        self.book_and_see(case, who, window)
    }

    /// Who can consent follows the legal status and age, as `assessments::check_consent`
    /// requires: the LA under an order, a parent with PR otherwise, the young person at 16+
    /// (or younger when judged competent).
    fn consent(&mut self, case: &mut Case, who: &Who, on: NaiveDate) -> anyhow::Result<()> {
        let age = obligations::age_on(who.child.date_of_birth, on);
        let in_force = legal_status::status_on(&case.legal_status, &case.status_changes, on);
        let uasc = who.child.uasc != 0;
        let (basis, given_by, competence) = if age >= 16 && (uasc || self.chance(0.6)) {
            ("young_person", self.full_name(who), None)
        } else if uasc {
            (
                "young_person",
                self.full_name(who),
                Some(one_of(&mut self.rng, DOCTORS).to_string()),
            )
        } else if in_force == "C1" && self.chance(0.03) {
            (
                "court",
                "Family Court (direction under s.38(6) Children Act 1989)".to_string(),
                None,
            )
        } else if legal_status::la_holds_parental_responsibility(in_force) {
            (
                "local_authority",
                format!("{} (team manager, children looked after)", who.la.name),
                None,
            )
        } else {
            let parent = format!(
                "{} {} ({}, parental responsibility)",
                if who.carer_title == "mother" { "Ms" } else { "Mr" },
                who.child.family_name,
                who.carer_title
            );
            ("parent_with_pr", parent, None)
        };
        let scope = if obligations::age_on(who.child.date_of_birth, on) < 1 {
            "assessment,share_report,obtain_records,birth_history"
        } else {
            "assessment,share_report,obtain_records"
        };
        let row = Consent {
            id: self.id(),
            assessment_id: case.row.id.clone(),
            basis: basis.to_string(),
            given_by,
            given_on: Some(on),
            refused_on: None,
            scope: scope.to_string(),
            confirmed_by: who.child.social_worker_email.clone(),
            competence_assessed_by: competence,
            reoffer_plan: None,
            withdrawn_on: None,
            created_at: at(on, 5),
        };
        case.consents.push(row);
        case.row.consent_on = Some(on);
        self.step(case, Event::ConfirmConsent, on, None)
    }

    fn full_name(&self, who: &Who) -> String {
        format!("{} {}", who.child.given_name, who.child.family_name)
    }

    /// A competent young person declines (14+, with who judged competence), with a plan to
    /// offer again.
    fn refuse(&mut self, case: &mut Case, who: &Who, on: NaiveDate) -> anyhow::Result<()> {
        let plan =
            "Offer again at the next CLA review; carer and social worker to talk it through with the young person"
                .to_string();
        let judge = if case.kind == Kind::Iha {
            one_of(&mut self.rng, DOCTORS)
        } else {
            one_of(&mut self.rng, NURSES)
        };
        let row = Consent {
            id: self.id(),
            assessment_id: case.row.id.clone(),
            basis: "young_person".to_string(),
            given_by: self.full_name(who),
            given_on: None,
            refused_on: Some(on),
            scope: "assessment".to_string(),
            confirmed_by: who.child.social_worker_email.clone(),
            competence_assessed_by: Some(judge.to_string()),
            reoffer_plan: Some(plan.clone()),
            withdrawn_on: None,
            created_at: at(on, 5),
        };
        case.consents.push(row);
        case.row.ended_on = Some(on);
        case.row.end_reason = Some(COMPETENT_REFUSAL.to_string());
        self.stats.refusals += 1;
        self.step(case, Event::RefuseConsent, on, Some(plan))
    }

    /// Half of those who refuse agree when offered again some weeks later.
    fn reoffer(&mut self, case: &mut Case, refused_on: NaiveDate) -> anyhow::Result<Option<NaiveDate>> {
        if !self.chance(0.5) {
            return Ok(None);
        }
        let offered = refused_on + Duration::days(self.rng.random_range(20..=90));
        if !case.limits.allows(offered) {
            return Ok(None);
        }
        case.row.ended_on = None;
        case.row.end_reason = None;
        self.step(case, Event::Reoffer, offered, None)?;
        Ok(Some(offered))
    }

    /// Books, records the outcome, rebooks after a non-attendance, and completes once the
    /// report is in; stops wherever today (or the end of the period) falls.
    fn book_and_see(&mut self, case: &mut Case, who: &Who, mut from: NaiveDate) -> anyhow::Result<()> {
        for attempt in 0..MAX_BOOKINGS {
            if case.kind == Kind::Rha && case.row.non_attendance_count >= 2 && self.chance(0.4) {
                return self.brief_health_summary(case, who, from);
            }
            let (booked_on, day) = self.next_slot(case, from, attempt);
            if !case.limits.allows(booked_on) {
                return Ok(());
            }
            self.book(case, who, booked_on, day)?;
            if !case.limits.allows(day) {
                return Ok(());
            }
            let outcome = self.outcome(who, day);
            if outcome.is_attendance() {
                self.attended(case, day)?;
                return self.report(case, day);
            }
            from = self.not_attended(case, who, outcome, booked_on, day)?;
        }
        Ok(())
    }

    /// When to book and for which day: IHAs as soon as consent is in (longer when a host
    /// provider books), RHAs from the booking window for a day around the due date.
    fn next_slot(&mut self, case: &Case, from: NaiveDate, attempt: u32) -> (NaiveDate, NaiveDate) {
        if attempt > 0 {
            let booked = self.after(from, REBOOK);
            return (booked, self.after(booked, REBOOK_LEAD));
        }
        if case.kind == Kind::Iha {
            let (book, lead) = if case.host {
                (BOOK_HOST, LEAD_HOST)
            } else {
                (BOOK_HOME, LEAD_HOME)
            };
            let booked = self.after_paced(from, book, case.pace);
            return (booked, self.after(booked, lead));
        }
        let booked = self.after_paced(from, RHA_BOOK, case.pace);
        let target = self.after(case.row.due_on, RHA_OFFSET);
        let earliest = self.wd(booked, 2);
        (booked, target.max(earliest))
    }

    fn clinician(&mut self, case: &Case, who: &Who, day: NaiveDate) -> &'static str {
        // IHAs are done by doctors; under-5 reviews mostly by doctors too, others by nurses.
        let under_five = obligations::age_on(who.child.date_of_birth, day) < 5;
        if case.kind == Kind::Iha || (under_five && self.chance(0.5)) {
            one_of(&mut self.rng, DOCTORS)
        } else {
            one_of(&mut self.rng, NURSES)
        }
    }

    fn book(&mut self, case: &mut Case, who: &Who, booked_on: NaiveDate, day: NaiveDate) -> anyhow::Result<()> {
        let slot = self.rng.random_range(0..14u32);
        let local = day.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(9 * 60 + slot * 30));
        // Working hours never fall in a clock change, so `earliest` is the only answer.
        let starts_at = London
            .from_local_datetime(&local)
            .earliest()
            .map_or(local, |t| t.naive_utc());
        let (clinician, location) = if case.host {
            (
                "Host area CLA health team".to_string(),
                "Host provider clinic".to_string(),
            )
        } else {
            let clinician = self.clinician(case, who, day).to_string();
            (clinician, one_of(&mut self.rng, CLINICS).to_string())
        };
        let id = self.id();
        let detail = Some(format!("appointment {id} on {day}"));
        case.appointments.push(Appointment {
            id,
            assessment_id: case.row.id.clone(),
            starts_at,
            clinician,
            location,
            booked_on,
            outcome: None,
            outcome_recorded_on: None,
            version: 1,
            created_at: at(booked_on, 20 + case.appointments.len() as u32),
            responsible_la: case.row.responsible_la.clone(),
        });
        case.row.first_booked_on = case.row.first_booked_on.or(Some(booked_on));
        case.row.appointment_on = Some(day);
        self.step(case, Event::Book, booked_on, detail)
    }

    /// About one appointment in eight is not attended: mostly not brought, some cancelled
    /// by the carer or the provider; teenagers sometimes choose not to come.
    fn outcome(&mut self, who: &Who, day: NaiveDate) -> Outcome {
        let teenager = obligations::age_on(who.child.date_of_birth, day) >= 14;
        let table: &[(Outcome, u32)] = &[
            (Outcome::Attended, 870),
            (Outcome::WasNotBrought, 60),
            (Outcome::CancelledByCarer, 20),
            (Outcome::CancelledByProvider, 20),
            (Outcome::CancelledByLa, 10),
            (Outcome::NoAccess, 5),
            (
                if teenager {
                    Outcome::DidNotAttend
                } else {
                    Outcome::WasNotBrought
                },
                12,
            ),
            (
                if teenager {
                    Outcome::Refused
                } else {
                    Outcome::CancelledByCarer
                },
                3,
            ),
        ];
        pick(&mut self.rng, table)
    }

    fn attended(&mut self, case: &mut Case, day: NaiveDate) -> anyhow::Result<()> {
        if let Some(a) = case.last_appointment() {
            a.outcome = Some(Outcome::Attended.as_str().to_string());
            a.outcome_recorded_on = Some(day);
            a.version += 1;
        }
        case.row.seen_on = Some(day);
        let detail = Some(Outcome::Attended.as_str().to_string());
        self.step(case, Event::RecordOutcome(Outcome::Attended), day, detail)
    }

    /// As `assessments::record_outcome` for a non-attendance: counted, dated, back to
    /// booking. Cancellations can be recorded before the day. Returns when to rebook from.
    fn not_attended(
        &mut self,
        case: &mut Case,
        who: &Who,
        outcome: Outcome,
        booked_on: NaiveDate,
        day: NaiveDate,
    ) -> anyhow::Result<NaiveDate> {
        let cancellation = matches!(
            outcome,
            Outcome::CancelledByCarer | Outcome::CancelledByLa | Outcome::CancelledByProvider
        );
        let recorded = if cancellation {
            (day - Duration::days(self.rng.random_range(0..=3))).max(booked_on)
        } else {
            day
        };
        if let Some(a) = case.last_appointment() {
            a.outcome = Some(outcome.as_str().to_string());
            a.outcome_recorded_on = Some(recorded);
            a.version += 1;
        }
        case.row.non_attendance_count += 1;
        case.row.last_non_attendance_on = Some(day);
        case.row.last_non_attendance_outcome = Some(outcome.as_str().to_string());
        case.row.appointment_on = None;
        self.stats.non_attendances += 1;
        self.step(
            case,
            Event::RecordOutcome(outcome),
            day,
            Some(outcome.as_str().to_string()),
        )?;
        if outcome == Outcome::WasNotBrought {
            self.note_not_brought(case, who, day);
        }
        Ok(day)
    }

    fn note_not_brought(&mut self, case: &mut Case, who: &Who, day: NaiveDate) {
        let sw = who.child.social_worker_email.as_deref().unwrap_or("the social worker");
        let note = Note {
            id: self.id(),
            child_id: who.child.id.clone(),
            assessment_id: Some(case.row.id.clone()),
            body: format!(
                "{} {} was not brought to the {} appointment on {day}. {sw} informed; rebooking.",
                who.child.given_name, who.child.family_name, case.kind
            ),
            author: "CLA health admin team".to_string(),
            created_at: at(day, 300),
        };
        case.notes.push(note);
    }

    fn report(&mut self, case: &mut Case, seen_on: NaiveDate) -> anyhow::Result<()> {
        let table = if case.host { REPORT_HOST } else { REPORT_HOME };
        let received = self.after_paced(seen_on, table, case.pace);
        if !case.limits.allows(received) {
            return Ok(());
        }
        self.complete(case, seen_on, received, "face_to_face")
    }

    /// As `assessments::complete`: seen, report in, completed on the report's date.
    fn complete(
        &mut self,
        case: &mut Case,
        seen_on: NaiveDate,
        received: NaiveDate,
        method: &str,
    ) -> anyhow::Result<()> {
        case.row.seen_on = Some(seen_on);
        case.row.report_received_on = Some(received);
        case.row.completed_on = Some(received);
        case.row.completion_method = Some(method.to_string());
        case.row.appointment_on = None;
        case.final_on = Some(received);
        self.step(case, Event::Complete, received, Some(method.to_string()))
    }

    /// After repeated non-attendance at a review, a health summary written without the
    /// child: booked as a paper appointment and completed from `booked`.
    fn brief_health_summary(&mut self, case: &mut Case, who: &Who, from: NaiveDate) -> anyhow::Result<()> {
        let booked = self.after(from, REBOOK);
        let day = self.after(booked, REBOOK);
        if !case.limits.allows(booked) {
            return Ok(());
        }
        self.book(case, who, booked, day)?;
        if !case.limits.allows(day) {
            return Ok(());
        }
        self.complete(case, day, day, "brief_health_summary")
    }

    /// Ends what is still open when the period ends or the child turns 18, then settles the
    /// out-of-area requests, and counts the result.
    fn finish(&mut self, case: &mut Case, p: &PeriodCtx) -> anyhow::Result<()> {
        if case.state.is_open() {
            if let Some(stop) = p.limits.stop.filter(|s| *s <= self.ctx.today) {
                case.row.ended_on = Some(stop);
                case.row.end_reason = Some(p.close_reason.clone());
                case.row.appointment_on = None;
                case.final_on = Some(stop);
                self.step(case, Event::Close, stop, Some(p.close_reason.clone()))?;
            }
        }
        self.placement_changes(case, p.placements);
        let requests = std::mem::take(&mut case.requests);
        case.requests = requests.into_iter().map(|r| self.request_progress(r, case)).collect();
        Ok(())
    }

    /// As `periods::change_placement`: a move out of area while the assessment is open
    /// opens a request to the new host (closing any earlier one); a move back ends it.
    fn placement_changes(&mut self, case: &mut Case, placements: &[Placement]) {
        for p in placements.iter().skip(1) {
            let open_then = p.started_on >= case.created_on && case.final_on.is_none_or(|f| p.started_on < f);
            if !open_then {
                continue;
            }
            for r in case.requests.iter_mut().filter(|r| r.closed_on.is_none()) {
                r.closed_on = Some(p.started_on);
            }
            if p.out_of_area != 0 {
                self.open_request(case, p);
            }
        }
        if let Some(end) = case.final_on {
            for r in case.requests.iter_mut().filter(|r| r.closed_on.is_none()) {
                r.closed_on = Some(end);
            }
        }
    }

    fn open_request(&mut self, case: &mut Case, placement: &Placement) {
        let state = case.state_on(placement.started_on);
        let row = OutOfAreaRequest {
            id: self.id(),
            assessment_id: case.row.id.clone(),
            placement_id: placement.id.clone(),
            host_la: placement.host_la.clone(),
            host_provider_email: placement.host_provider_email.clone(),
            opened_on: placement.started_on,
            requested_on: None,
            acknowledged_on: None,
            appointment_offered_on: None,
            report_received_on: None,
            closed_on: None,
            version: 1,
            created_at: at(placement.started_on, 3),
            // Host ICB contacts are not invented; escalations report them undeliverable.
            host_icb_email: None,
        };
        case.requests.push(row);
        let from = state.as_str();
        self.record(
            case,
            "out_of_area_request",
            from,
            state,
            placement.started_on,
            placement.host_la.clone(),
        );
    }

    /// The host's steps in order (request, acknowledgement, appointment offered, report),
    /// each only if it happened before the request closed and by today; one update each.
    fn request_progress(&mut self, mut r: OutOfAreaRequest, case: &Case) -> OutOfAreaRequest {
        let limit = r.closed_on.unwrap_or(self.ctx.today).min(self.ctx.today);
        let within = |d: NaiveDate| d <= limit;
        let lag = self.rng.random_range(0..=2);
        let requested = self.wd(r.opened_on, lag);
        if !within(requested) {
            return r;
        }
        r.requested_on = Some(requested);
        let acknowledged = self.after(requested, HOST_ACK);
        if within(acknowledged) {
            r.acknowledged_on = Some(acknowledged);
            r.appointment_offered_on = case
                .appointments
                .iter()
                .map(|a| a.booked_on)
                .find(|b| *b >= acknowledged && within(*b));
        }
        r.report_received_on = case.row.report_received_on.filter(|d| *d >= requested && within(*d));
        let updates = [
            r.requested_on,
            r.acknowledged_on,
            r.appointment_offered_on,
            r.report_received_on,
        ];
        r.version = 1 + updates.iter().flatten().count() as i32;
        r
    }

    fn keep(&mut self, mut case: Case) {
        self.stats
            .count_assessment(&case.row, case.kind, case.state, self.ctx.today);
        // Stamped now so the server need not derive a whole county on first start; a row
        // that cannot be stamped stays unstamped, which lists handle by deriving it.
        if self.stamper.apply(&mut case.row).is_err() {
            crate::service::rag_store::clear(&mut case.row);
        }
        self.batch.assessments.push(case.row);
        self.batch.events.extend(case.events);
        self.batch.appointments.extend(case.appointments);
        self.batch.consents.extend(case.consents);
        self.batch.requests.extend(case.requests);
        self.batch.notes.extend(case.notes);
    }

    // -----------------------------------------------------------------------------------
    // Health checks (children in care for more than a year, not on short breaks)

    fn health_checks(&mut self, child: &Child, period: &PeriodPlan, last_seen: Option<NaiveDate>) {
        let today = self.ctx.today;
        if ssda903::is_short_breaks(period.legal_status) || period.start > today - Duration::days(365) {
            return;
        }
        let dob = child.date_of_birth;
        // About 80% seen by a dentist in the last year, some longer ago, a few never.
        let dental_days_ago = match self.rng.random_range(0..100) {
            0..80 => Some(self.rng.random_range(0..=364)),
            80..92 => Some(self.rng.random_range(365..=700)),
            _ => None,
        };
        if let Some(days) = dental_days_ago {
            let on = (today - Duration::days(days)).max(dob);
            let outcome = pick(&mut self.rng, DENTAL_OUTCOMES).to_string();
            self.check(child, "dental", on, None, None, None, Some(outcome));
        }
        let imms_on = last_seen.unwrap_or(today - Duration::days(self.rng.random_range(0..=300)));
        let up_to_date = self.chance(0.86);
        let note = (!up_to_date).then(|| "catch-up immunisations planned with the GP practice".to_string());
        self.check(
            child,
            "immunisations",
            imms_on,
            Some(i32::from(up_to_date)),
            None,
            None,
            note,
        );
        // Before today: on 1 April an SDQ of today is outside the year just ended, and the
        // return would then have none (DfE rule 186).
        let sdq_on = today - Duration::days(self.rng.random_range(1..=330));
        if (4..=16).contains(&obligations::age_on(dob, sdq_on)) {
            self.sdq(child, sdq_on);
        }
        let dev_on = today - Duration::days(self.rng.random_range(0..=300));
        if obligations::age_on(dob, dev_on) < 5 && dev_on > dob {
            let outcome = pick(&mut self.rng, DEVELOPMENT_OUTCOMES).to_string();
            self.check(child, "development", dev_on, None, None, None, Some(outcome));
        }
    }

    /// SDQ totals: many looked-after children score above 17 (high need), so the mean is
    /// higher than for their peers; a few have a reason instead of a score.
    fn sdq(&mut self, child: &Child, on: NaiveDate) {
        if self.chance(0.12) {
            let reason = pick(&mut self.rng, &[("SDQ2", 30), ("SDQ5", 30), ("SDQ3", 20), ("SDQ4", 20)]);
            self.check(child, "sdq", on, None, None, Some(reason.to_string()), None);
            return;
        }
        let sum: i32 = (0..4).map(|_| self.rng.random_range(0..=10)).sum();
        let score = (sum - 4).clamp(0, 40);
        self.check(child, "sdq", on, None, Some(score), None, None);
    }

    #[allow(clippy::too_many_arguments)]
    fn check(
        &mut self,
        child: &Child,
        kind: &str,
        on: NaiveDate,
        up_to_date: Option<i32>,
        sdq_score: Option<i32>,
        sdq_reason: Option<String>,
        outcome: Option<String>,
    ) {
        let row = HealthCheck {
            id: self.id(),
            child_id: child.id.clone(),
            kind: kind.to_string(),
            checked_on: on,
            up_to_date,
            sdq_score,
            sdq_reason,
            outcome,
            created_at: at(on, 400),
        };
        self.batch.health_checks.push(row);
    }
}

/// What every assessment of one period shares.
struct PeriodCtx<'p> {
    period: &'p Period,
    status_changes: &'p [legal_status::Change],
    placements: &'p [Placement],
    limits: Limits,
    close_reason: String,
}

/// The invented local authorities (code, name), so `seed-demo` can register them as
/// organisations in the deployment's ICB and its users see their children.
pub fn local_authorities() -> impl Iterator<Item = (&'static str, &'static str)> {
    AUTHORITIES.iter().map(|la| (la.code, la.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{connect, run_migrations, DatabaseUrl};
    use crate::obligations::RhaPolicy;
    use crate::service::calendar_store;
    use crate::status::ClockPolicy;
    use std::sync::Arc;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid date")
    }

    fn options(children: u32, seed: u64) -> SeedOptions {
        SeedOptions {
            children,
            seed,
            years: 2,
        }
    }

    /// An empty, migrated SQLite database in a temporary folder (kept alive by the TempDir).
    fn empty_db() -> (tempfile::TempDir, DbConn, DomainCtx) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("seed.db").display().to_string();
        let mut conn = connect(&DatabaseUrl::Sqlite(path)).expect("open sqlite");
        run_migrations(&mut conn).expect("migrate");
        let calendar = calendar_store::load(&mut conn).expect("calendar");
        let ctx = DomainCtx {
            calendar: Arc::new(calendar),
            clock: ClockPolicy::default(),
            rha: RhaPolicy::default(),
            today: today(),
            actor: crate::audit::Actor::system("test"),
            scope: crate::service::Scope::Everything,
        };
        (dir, conn, ctx)
    }

    fn seeded(children: u32, seed: u64) -> (tempfile::TempDir, DbConn, DomainCtx) {
        let (dir, mut conn, ctx) = empty_db();
        run(&mut conn, &ctx, &options(children, seed)).expect("seed-demo");
        (dir, conn, ctx)
    }

    fn all_assessments(conn: &mut DbConn) -> Vec<Assessment> {
        assessments::table
            .order(assessments::id)
            .select(Assessment::as_select())
            .load(conn)
            .expect("assessments")
    }

    fn all_events(conn: &mut DbConn) -> Vec<AssessmentEvent> {
        assessment_events::table
            .order((
                assessment_events::assessment_id,
                assessment_events::occurred_on,
                assessment_events::created_at,
            ))
            .select(AssessmentEvent::as_select())
            .load(conn)
            .expect("events")
    }

    fn in_care(conn: &mut DbConn) -> i64 {
        periods::table
            .filter(periods::ended_on.is_null())
            .count()
            .get_result(conn)
            .expect("count")
    }

    #[test]
    fn a_small_county_has_the_children_asked_for_with_valid_test_nhs_numbers() {
        let (_dir, mut conn, _ctx) = seeded(60, 7);
        assert_eq!(in_care(&mut conn), 60);
        let kids: Vec<Child> = children::table
            .select(Child::as_select())
            .load(&mut conn)
            .expect("children");
        assert!(kids.len() > 60, "children who left care are on record too");
        let mut seen = std::collections::HashSet::new();
        for child in &kids {
            if let Some(n) = &child.nhs_number {
                assert_eq!(crate::nhs_number::validate(n).as_deref(), Ok(n.as_str()));
                assert!(crate::nhs_number::is_test_number(n), "{n}");
                assert!(seen.insert(n.clone()), "duplicate NHS number {n}");
            }
            assert!(child.date_of_birth <= today());
        }
        let local: std::collections::HashSet<_> = kids.iter().map(|c| (&c.responsible_la, &c.local_id)).collect();
        assert_eq!(local.len(), kids.len(), "local ids are unique per LA");
    }

    #[test]
    fn every_assessment_is_one_the_workflow_could_have_produced() {
        let (_dir, mut conn, ctx) = seeded(60, 11);
        let list = all_assessments(&mut conn);
        assert!(!list.is_empty());
        let events = all_events(&mut conn);
        for a in &list {
            let kind: Kind = a.kind.parse().expect("kind");
            let state: State = a.state.parse().expect("state");
            assert!(kind.has_state(state), "{} in {}", a.kind, a.state);
            if kind == Kind::Iha {
                assert_eq!(
                    a.due_on,
                    status::iha_due_on(&ctx.calendar, a.clock_started_on, &ctx.clock)
                );
            } else {
                let dob: NaiveDate = children::table
                    .find(&a.child_id)
                    .select(children::date_of_birth)
                    .first(&mut conn)
                    .expect("child");
                assert_eq!(a.due_on, obligations::next_rha_due(dob, a.clock_started_on, &ctx.rha));
            }
            let own: Vec<&AssessmentEvent> = events.iter().filter(|e| e.assessment_id == a.id).collect();
            assert_eq!(replay(kind, &own), state, "timeline of {}", a.id);
            // Kept from booking until the outcome is a non-attendance, or completion.
            let appointment_held = matches!(state, State::Booked | State::AwaitingReport);
            assert_eq!(a.appointment_on.is_some(), appointment_held, "{} {}", a.id, a.state);
            assert_eq!(a.completed_on.is_some(), state == State::Completed, "{}", a.id);
            let ended = matches!(state, State::Refused | State::NotRequired | State::Closed);
            assert_eq!(a.ended_on.is_some(), ended, "{} {}", a.id, a.state);
        }
    }

    /// Walks the stored timeline through `workflow::transition` and returns where it ends.
    fn replay(kind: Kind, events: &[&AssessmentEvent]) -> State {
        let mut state: Option<State> = None;
        for e in events {
            let to: State = e.to_state.parse().expect("to_state");
            if e.from_state == "none" {
                state = Some(to);
                continue;
            }
            let from = state.expect("opened first");
            assert_eq!(e.from_state, from.as_str(), "step {} from the state it was in", e.step);
            let event = match e.step.as_str() {
                "out_of_area_request" => {
                    assert_eq!(from, to);
                    continue;
                }
                "notification" => Event::Notify,
                "consent" => Event::ConfirmConsent,
                "refusal" => Event::RefuseConsent,
                "booking_window" => Event::OpenBooking,
                "appointment" => Event::Book,
                "outcome" => Event::RecordOutcome(e.detail.as_deref().unwrap_or("").parse().expect("outcome")),
                "completion" => Event::Complete,
                "reoffer" => Event::Reoffer,
                "close" => Event::Close,
                other => panic!("unexpected step {other}"),
            };
            assert_eq!(workflow::transition(kind, from, &event), Ok(to), "step {}", e.step);
            state = Some(to);
        }
        state.expect("at least the opening event")
    }

    #[test]
    fn no_fact_is_dated_after_today() {
        let (_dir, mut conn, _ctx) = seeded(60, 3);
        let t = today();
        for a in all_assessments(&mut conn) {
            let facts = [
                Some(a.clock_started_on),
                a.notified_on,
                a.consent_on,
                a.first_booked_on,
                a.seen_on,
                a.report_received_on,
                a.completed_on,
                a.ended_on,
                a.last_non_attendance_on,
            ];
            assert!(facts.iter().flatten().all(|d| *d <= t), "{a:?}");
        }
        assert!(all_events(&mut conn).iter().all(|e| e.occurred_on <= t));
        let periods: Vec<Period> = periods::table
            .select(Period::as_select())
            .load(&mut conn)
            .expect("periods");
        assert!(periods
            .iter()
            .all(|p| p.started_on <= t && p.ended_on.is_none_or(|e| e <= t)));
        let changed: Vec<NaiveDate> = legal_status_changes::table
            .select(legal_status_changes::changed_on)
            .load(&mut conn)
            .expect("legal status changes");
        assert!(changed.iter().all(|d| *d <= t));
        let requests: Vec<OutOfAreaRequest> = out_of_area_requests::table
            .select(OutOfAreaRequest::as_select())
            .load(&mut conn)
            .expect("requests");
        for r in &requests {
            let dates = [
                Some(r.opened_on),
                r.requested_on,
                r.acknowledged_on,
                r.appointment_offered_on,
                r.report_received_on,
                r.closed_on,
            ];
            assert!(dates.iter().flatten().all(|d| *d <= t), "{r:?}");
        }
        let booked: Vec<NaiveDate> = appointments::table
            .select(appointments::booked_on)
            .load(&mut conn)
            .expect("appointments");
        assert!(booked.iter().all(|d| *d <= t));
        let checks: Vec<NaiveDate> = health_checks::table
            .select(health_checks::checked_on)
            .load(&mut conn)
            .expect("checks");
        assert!(checks.iter().all(|d| *d <= t));
    }

    #[test]
    fn the_default_county_has_open_iha_in_every_state_overdue_ones_and_out_of_area_children() {
        let (_dir, mut conn, ctx) = seeded(630, DEFAULT_SEED);
        assert_eq!(in_care(&mut conn), 630);
        let list = all_assessments(&mut conn);
        for state in [
            "awaiting_notification",
            "awaiting_consent",
            "awaiting_booking",
            "booked",
            "awaiting_report",
        ] {
            let n = list.iter().filter(|a| a.kind == "IHA" && a.state == state).count();
            assert!(n > 0, "no IHA {state}");
        }
        let overdue = list
            .iter()
            .filter(|a| {
                a.kind == "IHA"
                    && a.state
                        .parse::<State>()
                        .is_ok_and(|s| s.is_open() && s != State::Refused)
                    && a.due_on < today()
            })
            .count();
        assert!(overdue > 0, "some open IHAs are past due (red)");
        for state in ["scheduled", "awaiting_booking", "booked", "completed", "closed"] {
            assert!(
                list.iter().any(|a| a.kind == "RHA" && a.state == state),
                "no RHA {state}"
            );
        }
        let ooa: i64 = out_of_area_requests::table
            .count()
            .get_result(&mut conn)
            .expect("count");
        assert!(ooa > 0);
        // The host provider's queue reads the flag: set on exactly the open requests' rows.
        let mut open: Vec<String> = out_of_area_requests::table
            .filter(out_of_area_requests::closed_on.is_null())
            .select(out_of_area_requests::assessment_id)
            .load(&mut conn)
            .expect("open requests");
        let mut flagged: Vec<String> = assessments::table
            .filter(assessments::open_request.eq(true))
            .select(assessments::id)
            .load(&mut conn)
            .expect("flagged");
        open.sort();
        flagged.sort();
        assert!(!open.is_empty());
        assert_eq!(flagged, open, "open_request marks the rows with an open request");
        let away: i64 = placements::table
            .filter(placements::out_of_area.eq(1))
            .count()
            .get_result(&mut conn)
            .expect("count");
        assert!(away > 0);
        let refusals: Vec<Consent> = consents::table
            .filter(consents::refused_on.is_not_null())
            .select(Consent::as_select())
            .load(&mut conn)
            .expect("consents");
        assert!(!refusals.is_empty());
        assert!(refusals
            .iter()
            .all(|c| c.competence_assessed_by.is_some() && c.basis == "young_person"));
        let not_brought: i64 = appointments::table
            .filter(appointments::outcome.eq("was_not_brought"))
            .count()
            .get_result(&mut conn)
            .expect("count");
        assert!(not_brought > 0);
        let red = crate::service::assessment_list::list(
            &mut conn,
            &ctx,
            crate::service::assessment_list::AssessmentFilter {
                kind: Some("IHA".into()),
                state: None,
                rag: Some("red".into()),
                due_before: None,
                out_of_area: None,
                child_id: None,
                as_of: None,
                limit: Some(1000),
                offset: None,
            },
        )
        .expect("GET /assessments?kind=IHA&rag=red");
        assert!(red.total > 0, "red IHAs listed");
        let query = crate::service::assurance::AssuranceQuery::default();
        let weekly = crate::service::assurance::iha_list(&mut conn, &ctx, query, 6).expect("assurance list");
        let w = &weekly.summary;
        assert!(w.total >= 10 && w.red > 0 && w.out_of_area > 0, "{w:?}");
        let completed: Vec<&Assessment> = list
            .iter()
            .filter(|a| a.kind == "IHA" && a.completed_on.is_some())
            .collect();
        let on_time = completed.iter().filter(|a| a.completed_on <= Some(a.due_on)).count();
        let share = on_time as f64 / completed.len() as f64;
        assert!((0.4..=0.8).contains(&share), "IHA on time {share:.2}");
    }

    #[test]
    fn seeding_again_refuses_and_writes_nothing() {
        let (_dir, mut conn, ctx) = seeded(20, 1);
        let before: i64 = assessments::table.count().get_result(&mut conn).expect("count");
        let err = run(&mut conn, &ctx, &options(20, 2)).expect_err("second seed must refuse");
        assert!(err.to_string().contains("already has"), "{err}");
        let after: i64 = assessments::table.count().get_result(&mut conn).expect("count");
        assert_eq!(before, after);
        let audited: Vec<String> = crate::db::schema::audit_log::table
            .select(crate::db::schema::audit_log::action)
            .load(&mut conn)
            .expect("audit log");
        assert_eq!(
            audited,
            vec!["seed_demo".to_string()],
            "one entry for the seed, none for the refusal"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_county() {
        let fingerprint = |seed| {
            let (_dir, mut conn, _ctx) = seeded(40, seed);
            let kids: Vec<(String, String, String, Option<String>)> = children::table
                .order(children::id)
                .select((
                    children::id,
                    children::given_name,
                    children::local_id,
                    children::nhs_number,
                ))
                .load(&mut conn)
                .expect("children");
            let states: Vec<(String, String, NaiveDate)> = all_assessments(&mut conn)
                .into_iter()
                .map(|a| (a.id, a.state, a.due_on))
                .collect();
            (kids, states)
        };
        assert_eq!(fingerprint(5), fingerprint(5));
        assert_ne!(fingerprint(5), fingerprint(6));
    }

    #[test]
    fn the_foreign_key_check_finds_an_orphan() {
        use diesel::connection::SimpleConnection;
        let (_dir, mut conn, _ctx) = seeded(10, 4);
        check_foreign_keys(&mut conn).expect("a seeded county has no orphans");
        conn.batch_execute(
            "PRAGMA foreign_keys = OFF; INSERT INTO notes (id, child_id, body, author, created_at) \
             VALUES ('orphan', 'no-such-child', 'x', 'y', '2026-01-01 00:00:00')",
        )
        .expect("insert orphan");
        let err = check_foreign_keys(&mut conn).expect_err("orphan found");
        assert!(err.to_string().contains("notes.child_id"), "{err}");
    }

    #[test]
    fn rows_read_back_equal_the_rows_generated() {
        let (_dir, mut conn, ctx) = empty_db();
        let mut rng = StdRng::seed_from_u64(9);
        let plans = plan_county(&mut rng, ctx.today, &options(30, 9));
        let mut gen = Gen::new(rng, &ctx, plans.len());
        for plan in &plans {
            gen.child(plan).expect("child");
        }
        insert_batch(&mut conn, &gen.batch).expect("insert");
        let b = &gen.batch;
        // Every column of every table, compared through Debug (the models have no PartialEq).
        fn same<T: std::fmt::Debug>(stored: Vec<T>, made: &[T]) {
            let mut made: Vec<String> = made.iter().map(|r| format!("{r:?}")).collect();
            let mut stored: Vec<String> = stored.iter().map(|r| format!("{r:?}")).collect();
            made.sort();
            stored.sort();
            assert_eq!(stored, made);
        }
        same(
            children::table
                .select(Child::as_select())
                .load(&mut conn)
                .expect("load"),
            &b.children,
        );
        same(
            periods::table
                .select(Period::as_select())
                .load(&mut conn)
                .expect("load"),
            &b.periods,
        );
        same(
            legal_status_changes::table
                .select(LegalStatusChange::as_select())
                .load(&mut conn)
                .expect("load"),
            &b.legal_status_changes,
        );
        same(
            placements::table
                .select(Placement::as_select())
                .load(&mut conn)
                .expect("load"),
            &b.placements,
        );
        same(all_assessments(&mut conn), &b.assessments);
        same(all_events(&mut conn), &b.events);
        same(
            consents::table
                .select(Consent::as_select())
                .load(&mut conn)
                .expect("load"),
            &b.consents,
        );
        same(
            appointments::table
                .select(Appointment::as_select())
                .load(&mut conn)
                .expect("load"),
            &b.appointments,
        );
        let requests = out_of_area_requests::table
            .select(OutOfAreaRequest::as_select())
            .load(&mut conn);
        same(requests.expect("load"), &b.requests);
        same(
            notes::table.select(Note::as_select()).load(&mut conn).expect("load"),
            &b.notes,
        );
        same(
            health_checks::table
                .select(HealthCheck::as_select())
                .load(&mut conn)
                .expect("load"),
            &b.health_checks,
        );
    }

    /// A county's plans, many enough to hold every kind of period.
    fn many_plans(seed: u64) -> (StdRng, Vec<ChildPlan>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let plans = plan_county(&mut rng, today(), &options(2000, seed));
        (rng, plans)
    }

    /// Each legal status of a period with the day it started and the day it gave way
    /// (the next change, the end, or today while it lasts).
    fn status_spans(p: &PeriodPlan) -> Vec<(&str, NaiveDate, NaiveDate)> {
        let last = p.end.map_or(today(), |(on, _)| on);
        let mut starts = vec![(p.legal_status, p.start)];
        starts.extend(p.changes.iter().map(|c| (c.legal_status.as_str(), c.changed_on)));
        let ends = starts.iter().skip(1).map(|(_, on)| *on).chain([last]);
        starts
            .iter()
            .zip(ends)
            .map(|((ls, from), to)| (*ls, *from, to))
            .collect()
    }

    #[test]
    fn protective_orders_last_no_longer_than_the_children_act_allows() {
        let (_, plans) = many_plans(21);
        let longest = |status| {
            let spans = plans.iter().flat_map(|c| &c.periods).flat_map(status_spans);
            spans
                .filter(|(ls, ..)| *ls == status)
                .map(|(_, from, to)| (to - from).num_days())
                .max()
        };
        // DfE rules 361-363: police protection 72 hours, an EPO 21 days, a CAO 7 days.
        for (status, days) in [("L1", 3), ("L2", 21), ("L3", 7)] {
            let max = longest(status).unwrap_or_else(|| panic!("no {status} in the county"));
            assert!(max <= days, "{status} lasted {max} days");
        }
        for p in plans.iter().flat_map(|c| &c.periods) {
            let days: Vec<NaiveDate> = p.changes.iter().map(|c| c.changed_on).collect();
            assert!(days.windows(2).all(|w| w[0] < w[1]) && days.first().is_none_or(|d| *d > p.start));
            assert!(p.end.is_none_or(|(end, _)| days.iter().all(|d| *d < end)), "{p:?}");
        }
    }

    #[test]
    fn short_breaks_are_single_short_periods_within_75_days_a_year() {
        let (_, plans) = many_plans(22);
        let mut breaks = 0;
        for child in &plans {
            let spans: Vec<(NaiveDate, NaiveDate)> = child
                .periods
                .iter()
                .filter(|p| p.legal_status == "V3")
                .map(|p| (p.start, p.end.map_or(today(), |(on, _)| on)))
                .collect();
            breaks += spans.len();
            // DfE rules 365 and 367: a break at most 17 days, at most 75 days in 12 months.
            assert!(spans.iter().all(|(from, to)| (*to - *from).num_days() <= 17));
            for (from, _) in &spans {
                let window_end = *from + Duration::days(365);
                let days: i64 = spans
                    .iter()
                    .map(|(a, b)| ((*b).min(window_end) - (*a).max(*from)).num_days().max(0))
                    .sum();
                assert!(days <= 75, "{days} days of short breaks in a year: {child:?}");
            }
        }
        assert!(breaks > 20, "{breaks} short breaks");
        let v3 = plans.iter().flat_map(|c| &c.periods).filter(|p| p.legal_status == "V3");
        assert!(
            v3.clone().all(|p| p.changes.is_empty()),
            "one legal status a break (rule 366)"
        );
    }

    #[test]
    fn adopted_children_were_placed_for_adoption_under_a_placement_order() {
        let (_, plans) = many_plans(23);
        let adopted: Vec<&PeriodPlan> = plans
            .iter()
            .flat_map(|c| &c.periods)
            .filter(|p| matches!(p.end, Some((_, "E11" | "E12"))))
            .collect();
        assert!(adopted.len() > 5, "{} adopted", adopted.len());
        for p in adopted {
            let (adopted_on, _) = p.end.expect("ended");
            let placed = p.placed_for_adoption.expect("placed for adoption");
            assert!(
                (adopted_on - placed).num_days() >= 70,
                "ten weeks with the adopters: {p:?}"
            );
            assert!(placed > p.start && p.legal_status_on(placed) == "E1", "{p:?}");
        }
    }

    #[test]
    fn every_placement_fits_its_legal_status_and_the_periods_ending() {
        let (_dir, _conn, ctx) = empty_db();
        let (rng, plans) = many_plans(24);
        let mut gen = Gen::new(rng, &ctx, plans.len());
        for plan in &plans {
            gen.child(plan).expect("child");
        }
        let b = &gen.batch;
        let status_on = |period: &Period, day: NaiveDate| {
            let changes: Vec<legal_status::Change> = b
                .legal_status_changes
                .iter()
                .filter(|c| c.period_id == period.id)
                .map(|c| legal_status::Change {
                    changed_on: c.changed_on,
                    legal_status: c.legal_status.clone(),
                })
                .collect();
            legal_status::status_on(&period.legal_status, &changes, day).to_string()
        };
        let mut seen = std::collections::HashSet::new();
        for period in &b.periods {
            let mut placed: Vec<&Placement> = b.placements.iter().filter(|p| p.period_id == period.id).collect();
            placed.sort_by_key(|p| p.started_on);
            for p in &placed {
                let ls = status_on(period, p.started_on);
                let place = p.placement_type.as_str();
                seen.insert(place);
                // DfE rules 146, 378, 384 and 408.
                assert!(!matches!(place, "H5" | "P2"), "retired type {place}");
                assert!(place != "P1" || matches!(ls.as_str(), "C1" | "C2"), "P1 under {ls}");
                assert!(
                    !(ssda903::is_short_breaks(&ls) && matches!(place, "U1" | "U4")),
                    "{place} under {ls}"
                );
                assert!(!matches!(place, "A5" | "A6") || ls == "E1", "{place} under {ls}");
            }
            let last = placed.last().expect("a placement").placement_type.as_str();
            // DfE rules 390 and 516.
            match period.end_reason.as_deref() {
                Some("E11" | "E12") => assert!(matches!(last, "A5" | "A6"), "adopted from {last}"),
                Some("E45") => assert!(matches!(last, "U1" | "U2" | "U3"), "E45 from {last}"),
                Some("E46") => assert!(matches!(last, "U4" | "U5" | "U6"), "E46 from {last}"),
                _ => {}
            }
            if period.legal_status == "V3" {
                assert_eq!(placed.len(), 1, "one placement a short break (rule 366)");
            }
        }
        for place in ["A5", "A6", "P1", "U1", "U4", "K2"] {
            assert!(seen.contains(place), "no {place} placement");
        }
    }

    #[test]
    fn nhs_numbers_skip_check_digit_ten_and_never_repeat() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut numbers = NhsNumbers::new(&mut rng);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..20_000 {
            let n = numbers.issue().expect("number");
            assert!(crate::nhs_number::validate(&n).is_ok(), "{n}");
            assert!(seen.insert(n));
        }
        assert_eq!(check_digit("999000001"), Some(8));
        assert_eq!(check_digit("999000002"), Some(6));
    }
}
