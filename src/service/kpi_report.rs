//! The monthly KPIs over the database: loads what [`crate::kpi`] needs about every child in
//! scope (a few bulk queries, no query per child) and computes the figures.
//!
//! Rules of the loading (the measures' own rules are in [`crate::kpi`]):
//! - A scope is the caller's own (an LA user sees only their authorities), narrowed by the
//!   `la` codes asked for.
//! - An IHA marked not required is exempt (a prior assessment standing in); a short-breaks
//!   period has no IHA row, so none was due.
//! - Seen = the day seen face to face; for an RHA completed by a brief health summary, the
//!   day it was completed.
//! - A miss's reason and side come from the assessment as it stood on its due date (replayed
//!   from its history when later events exist): the first milestone it had missed (notification, consent, booking, report) and, for a
//!   missing appointment, how the last one ended (not brought, did not attend, cancelled).

use std::collections::HashMap;

use rustc_hash::{FxHashMap, FxHashSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::history_store;
use super::views::parse_stored;
use super::DomainCtx;
use crate::audit::AuditEvent;
use crate::db::models;
use crate::db::schema::*;
use crate::db::DbConn;
use crate::error::AppResult;
use crate::history::Event;
use crate::kpi::{self, AssessmentFacts, Cause, CheckFact, CheckKind, ChildFacts, Exemption, PeriodFacts, Reason};
use crate::status::{self, Attribution, Blocker};
use crate::workflow::{Kind, Outcome, State};

/// The days a report of the months `from..=to` reads: what happened in them, and for the
/// month-end measures the year before the first month's end.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    /// The first day of the first month.
    pub first: NaiveDate,
    /// The last day of the last month.
    pub last: NaiveDate,
}

impl Span {
    pub fn months(from: kpi::Month, to: kpi::Month) -> Span {
        Span {
            first: from.first_day(),
            last: to.last_day(),
        }
    }
}

/// The children of the local authorities `codes` (a subquery; without a scope to narrow
/// to, the rows are read without asking the children table at all).
#[diesel::dsl::auto_type]
fn children_of(codes: &[String]) -> _ {
    let codes: Vec<String> = codes.to_vec();
    children::table
        .filter(children::responsible_la.eq_any(codes))
        .select(children::id)
}

/// Rows per `IN (...)` list: below SQLite's older limit of 999 bound parameters.
const IDS_PER_QUERY: usize = 900;

/// How much a load reads about each assessment beyond whether it was on time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Met, missed or pending: all the figures and their comparison with a published
    /// month need. Nothing about out-of-area requests or why a miss missed is read.
    Outcomes,
    /// Also whether it was out of area and, for each miss, why and whose step it was
    /// (the children's lists), judged from its whole row and maybe its history.
    Causes,
}

/// What the measures need, for the months of `span`, about every child in `ctx`'s scope
/// (narrowed to `las` if given). Only the rows that can count in those months are read:
/// - periods that started by the span's last day and had not ended before the day before
///   its first (a leaving-care summary looks at the eve of the 18th birthday);
/// - the IHAs of the periods that started in the span, and the RHAs due in it (the only
///   assessments the IHA and RHA measures look at);
/// - the checks dated in the 12 months to the first month's end or later, up to the last
///   day (the windows of the month-end measures);
/// - children with at least one such period (nobody else is in any cohort).
///
/// The measures computed over this are those computed over everything (a test holds the
/// two equal); a county's history of several years is read as one year, not all of it.
/// With [`Detail::Outcomes`] the facts hold no cause and no out-of-area flag.
pub fn load(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    las: &[String],
    span: Span,
    detail: Detail,
) -> AppResult<Vec<ChildFacts>> {
    let wanted = scope_codes(ctx, las);
    let wanted = wanted.as_deref();
    let eve = span.first.pred_opt().unwrap_or(span.first);
    let mut periods_q = periods::table
        .filter(periods::started_on.le(span.last))
        .filter(periods::ended_on.is_null().or(periods::ended_on.ge(eve)))
        .select((periods::id, periods::child_id, periods::started_on, periods::ended_on))
        .into_boxed();
    let mut children_q = children::table
        .select((
            children::id,
            children::local_id,
            children::responsible_la,
            children::date_of_birth,
        ))
        .into_boxed();
    if let Some(codes) = wanted {
        periods_q = periods_q.filter(periods::child_id.eq_any(children_of(codes)));
        children_q = children_q.filter(children::responsible_la.eq_any(codes.to_vec()));
    }
    let periods: Vec<(String, String, NaiveDate, Option<NaiveDate>)> = periods_q.load(conn)?;
    // Every child of the scope is read (four short columns) and those without a period in
    // the span dropped here: cheaper on both databases than an IN over the periods read.
    let rows: Vec<(String, String, String, NaiveDate)> = children_q.load(conn)?;
    // Maps keyed by the service's own ids (not chosen by any caller), so a fast hasher is
    // safe: a year at 100,000 children makes about a million lookups.
    let in_span: FxHashSet<&str> = periods.iter().map(|p| p.1.as_str()).collect();
    let mut by_child: FxHashMap<String, ChildFacts> = rows
        .into_iter()
        .filter(|(id, ..)| in_span.contains(id.as_str()))
        .map(|(id, local_id, la, dob)| {
            let facts = ChildFacts {
                child_id: id.clone(),
                local_id,
                local_authority: la,
                date_of_birth: dob,
                periods: vec![],
                checks: vec![],
                leaving_care_summary_on: None,
            };
            (id, facts)
        })
        .collect();
    load_assessments(conn, ctx, wanted, span, detail, periods, &mut by_child)?;
    load_checks(conn, wanted, span, &mut by_child)?;
    load_leaving_care_summaries(conn, &mut by_child)?;
    let mut all: Vec<ChildFacts> = by_child.into_values().collect();
    all.sort_by(|a, b| a.child_id.cmp(&b.child_id));
    Ok(all)
}

/// The local authorities a report covers: the caller's own, narrowed to `las` if given
/// (`None`: everything, for the command line).
pub fn scope_codes(ctx: &DomainCtx, las: &[String]) -> Option<Vec<String>> {
    match (ctx.scope.codes(), las.is_empty()) {
        (None, true) => None,
        (None, false) => Some(las.to_vec()),
        (Some(own), true) => Some(own.to_vec()),
        (Some(own), false) => Some(las.iter().filter(|la| own.contains(la)).cloned().collect()),
    }
}

/// An assessment as every one in the span is read: the columns that say whether it was
/// on time. The whole row (and maybe its history) is read only for the misses, whose
/// cause is judged from it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = assessments)]
struct Brief {
    id: String,
    period_id: Option<String>,
    kind: String,
    state: String,
    due_on: NaiveDate,
    seen_on: Option<NaiveDate>,
    completed_on: Option<NaiveDate>,
    completion_method: Option<String>,
}

impl Brief {
    /// Seen face to face, or for an RHA the day a brief health summary completed it.
    fn seen(&self) -> Option<NaiveDate> {
        let brief_summary = self.completion_method.as_deref() == Some("brief_health_summary");
        self.seen_on.or(self.completed_on.filter(|_| brief_summary))
    }

    fn on_time(&self) -> bool {
        self.seen().is_some_and(|seen| seen <= self.due_on)
    }
}

fn load_assessments(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    las: Option<&[String]>,
    span: Span,
    detail: Detail,
    periods: Vec<(String, String, NaiveDate, Option<NaiveDate>)>,
    by_child: &mut FxHashMap<String, ChildFacts>,
) -> AppResult<()> {
    let iha: &str = Kind::Iha.as_str();
    let rha: &str = Kind::Rha.as_str();
    let started_in_span = periods::table
        .filter(periods::started_on.between(span.first, span.last))
        .select(periods::id.nullable());
    // An IHA falls due after its period starts: the bound on the due date lets the index
    // on (kind, due_on) skip the IHAs of earlier periods rather than test each against
    // the periods of the span.
    let mut ihas_q = assessments::table
        .filter(assessments::kind.eq(iha))
        .filter(assessments::due_on.ge(span.first))
        .filter(assessments::period_id.eq_any(started_in_span))
        .select(Brief::as_select())
        .into_boxed();
    // Read through the index on (kind, due_on).
    let mut rhas_q = assessments::table
        .filter(assessments::kind.eq(rha))
        .filter(assessments::due_on.between(span.first, span.last))
        .select(Brief::as_select())
        .into_boxed();
    if let Some(codes) = las {
        ihas_q = ihas_q.filter(assessments::responsible_la.eq_any(codes.to_vec()));
        rhas_q = rhas_q.filter(assessments::responsible_la.eq_any(codes.to_vec()));
    }
    let mut assessments: Vec<Brief> = ihas_q.load(conn)?;
    assessments.extend(rhas_q.load(conn)?);
    let (requests, missed) = match detail {
        Detail::Outcomes => (HashMap::new(), Vec::new()),
        Detail::Causes => {
            let ids: Vec<&str> = assessments.iter().map(|a| a.id.as_str()).collect();
            let missed: Vec<&str> = assessments
                .iter()
                .filter(|a| !a.on_time())
                .map(|a| a.id.as_str())
                .collect();
            (requests_for(conn, &ids)?, missed)
        }
    };
    let rows = rows_for(conn, &missed)?;
    // A miss is judged as the assessment stood on its due date: replayed from its events
    // when something was recorded as happening after that day (a rebooking, say).
    let replayed: Vec<&str> = rows
        .values()
        .filter(|a| history_store::needs_replay(a, a.due_on))
        .map(|a| a.id.as_str())
        .collect();
    let late_events = crate::db::history::load_for(conn, &replayed)?;
    // Each period with its child's id: one lookup a period when they are handed over.
    let mut by_period: FxHashMap<String, (String, PeriodFacts)> = periods
        .into_iter()
        .map(|(id, child_id, started_on, ended_on)| {
            let facts = PeriodFacts {
                started_on,
                ended_on,
                iha: None,
                rhas: vec![],
            };
            (id, (child_id, facts))
        })
        .collect();
    for a in &assessments {
        // Only the periods of the scope are in `by_period`.
        let Some((_, period)) = a.period_id.as_ref().and_then(|p| by_period.get_mut(p)) else {
            continue;
        };
        let request = requests.get(&a.id);
        let late = match rows.get(&a.id) {
            Some(row) => {
                let events = late_events.get(&a.id).map(Vec::as_slice);
                Some(cause_on_due_date(row, request, events, ctx)?)
            }
            None => None,
        };
        let state: State = parse_stored("state", &a.state)?;
        let facts = AssessmentFacts {
            assessment_id: a.id.clone(),
            due_on: a.due_on,
            seen_on: a.seen(),
            exemption: (state == State::NotRequired).then_some(Exemption::PriorAssessment),
            refused: state == State::Refused,
            out_of_area: request.is_some(),
            late,
        };
        match parse_stored::<Kind>("kind", &a.kind)? {
            Kind::Iha => period.iha = Some(facts),
            Kind::Rha => period.rhas.push(facts),
        }
    }
    for (child_id, period) in by_period.into_values() {
        if let Some(child) = by_child.get_mut(&child_id) {
            child.periods.push(period);
        }
    }
    for child in by_child.values_mut() {
        child.periods.sort_by_key(|p| p.started_on);
        for period in &mut child.periods {
            // A period's RHAs in the order they fall due.
            period
                .rhas
                .sort_by(|a, b| (a.due_on, &a.assessment_id).cmp(&(b.due_on, &b.assessment_id)));
        }
    }
    Ok(())
}

/// The whole rows of the assessments, by id.
fn rows_for(conn: &mut DbConn, ids: &[&str]) -> AppResult<HashMap<String, models::Assessment>> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let rows: Vec<models::Assessment> = assessments::table
            .filter(assessments::id.eq_any(chunk))
            .select(models::Assessment::as_select())
            .load(conn)?;
        found.extend(rows.into_iter().map(|a| (a.id.clone(), a)));
    }
    Ok(found)
}

/// The latest out-of-area request of each of the assessments (by the day it was opened).
fn requests_for(conn: &mut DbConn, ids: &[&str]) -> AppResult<HashMap<String, models::OutOfAreaRequest>> {
    let mut found: Vec<models::OutOfAreaRequest> = Vec::new();
    for chunk in ids.chunks(IDS_PER_QUERY) {
        found.extend(
            out_of_area_requests::table
                .filter(out_of_area_requests::assessment_id.eq_any(chunk))
                .select(models::OutOfAreaRequest::as_select())
                .load(conn)?,
        );
    }
    // Stable: requests opened on the same day keep the database's order, as before.
    found.sort_by_key(|r| r.opened_on);
    Ok(found.into_iter().map(|r| (r.assessment_id.clone(), r)).collect())
}

/// Why the assessment was not done by its due date, judged as it stood on that day.
fn cause_on_due_date(
    a: &models::Assessment,
    request: Option<&models::OutOfAreaRequest>,
    events: Option<&[Event]>,
    ctx: &DomainCtx,
) -> AppResult<Cause> {
    let facts = history_store::facts_on(a, request, events, a.due_on)?;
    let (blocker, side) = status::waiting_on(&facts, &ctx.calendar, a.due_on, &ctx.clock);
    let last_outcome = facts
        .last_non_attendance
        .filter(|(on, _)| *on <= a.due_on)
        .map(|(_, o)| o);
    let reason = match blocker {
        Blocker::Notification => Reason::LateNotification,
        Blocker::Consent => Reason::LateConsent,
        Blocker::HostProvider => Reason::HostProvider,
        Blocker::Report => Reason::ReportLate,
        Blocker::Refused => Reason::Refused,
        Blocker::Booking | Blocker::Appointment => match last_outcome {
            Some(Outcome::WasNotBrought) => Reason::NotBrought,
            Some(Outcome::DidNotAttend) => Reason::DidNotAttend,
            Some(Outcome::CancelledByCarer | Outcome::CancelledByLa) => Reason::CancelledByCarerOrLa,
            Some(Outcome::CancelledByProvider) => Reason::CancelledByProvider,
            _ => Reason::NoAppointment,
        },
        Blocker::None => Reason::NotRecorded,
    };
    let attribution = match (side, reason) {
        (Attribution::None, Reason::NoAppointment | Reason::ReportLate | Reason::CancelledByProvider) => {
            Attribution::Health
        }
        (Attribution::None, Reason::LateNotification | Reason::LateConsent | Reason::NotBrought) => {
            Attribution::LocalAuthority
        }
        (Attribution::None, Reason::HostProvider) => Attribution::HostProvider,
        (side, _) => side,
    };
    Ok(Cause { reason, attribution })
}

/// A health check as the month-end measures read it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = health_checks)]
struct Check {
    child_id: String,
    kind: String,
    checked_on: NaiveDate,
    up_to_date: Option<i32>,
    sdq_score: Option<i32>,
}

/// The day each child's health leaving-care summary was given (one per child; few in a
/// county, so read whole and matched to the children read).
fn load_leaving_care_summaries(conn: &mut DbConn, by_child: &mut FxHashMap<String, ChildFacts>) -> AppResult<()> {
    let given: Vec<(String, Option<NaiveDate>)> = health_obligations::table
        .filter(health_obligations::kind.eq("leaving_care_summary"))
        .filter(health_obligations::completed_on.is_not_null())
        .select((health_obligations::child_id, health_obligations::completed_on))
        .load(conn)?;
    for (child_id, on) in given {
        if let Some(child) = by_child.get_mut(&child_id) {
            child.leaving_care_summary_on = on;
        }
    }
    Ok(())
}

fn load_checks(
    conn: &mut DbConn,
    las: Option<&[String]>,
    span: Span,
    by_child: &mut FxHashMap<String, ChildFacts>,
) -> AppResult<()> {
    let window_start = kpi::window_start(kpi::Month::containing(span.first));
    let mut q = health_checks::table
        .filter(health_checks::checked_on.gt(window_start))
        .filter(health_checks::checked_on.le(span.last))
        .select(Check::as_select())
        // Of two records on one day, the one recorded later is the latest.
        .order((health_checks::checked_on, health_checks::created_at, health_checks::id))
        .into_boxed();
    if let Some(codes) = las {
        q = q.filter(health_checks::child_id.eq_any(children_of(codes)));
    }
    let checks: Vec<Check> = q.load(conn)?;
    for Check {
        child_id,
        kind,
        checked_on,
        up_to_date,
        sdq_score,
    } in checks
    {
        let Some(child) = by_child.get_mut(&child_id) else {
            continue;
        };
        let kind = match kind.as_str() {
            "dental" => CheckKind::Dental,
            "sdq" => CheckKind::Sdq,
            "immunisations" => CheckKind::Immunisations,
            _ => continue,
        };
        child.checks.push(CheckFact {
            kind,
            on: checked_on,
            up_to_date: up_to_date.map(|v| v != 0),
            sdq_score: sdq_score.and_then(|s| u8::try_from(s).ok()),
        });
    }
    Ok(())
}

/// `GET /reports/kpi`: each measure with one column per month.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiReport {
    /// First month, YYYY-MM.
    pub from: String,
    /// Last month, YYYY-MM.
    pub to: String,
    pub measures: Vec<MeasureRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasureRow {
    /// iha_within_20_working_days, rha_on_time, dental_check, sdq_score,
    /// immunisations_up_to_date or leaving_care_summary.
    pub measure: String,
    pub title: String,
    pub target_percent: u32,
    pub months: Vec<MonthFigure>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MonthFigure {
    /// YYYY-MM.
    pub month: String,
    pub numerator: usize,
    pub denominator: usize,
    /// One decimal place; null when the denominator is 0.
    pub percent: Option<f64>,
    /// Outcomes still to come (a due date not yet passed, or the month not over).
    pub provisional: bool,
    /// IHA only: competent refusals, shown beside the figure and not in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<usize>,
    /// The figure as published for this month and scope; null when it was not published.
    pub published: Option<PublishedFigure>,
    /// The month was published and the figure computed now differs from it: some child's
    /// outcome changed (`GET /reports/kpi/{measure}/{month}/restatement` lists them).
    pub restated: bool,
}

/// A figure as it was published (`POST /reports/kpi/{month}/publication`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublishedFigure {
    pub numerator: usize,
    pub denominator: usize,
    pub percent: Option<f64>,
    pub provisional: bool,
    /// When it was published (UTC, ISO 8601).
    pub published_at: String,
    /// How many children's outcomes differ now from the published ones.
    pub changed: usize,
}

/// `GET /reports/kpi/{measure}/{month}`: everyone in the denominator.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrillDown {
    pub measure: String,
    pub title: String,
    /// YYYY-MM.
    pub month: String,
    pub numerator: usize,
    pub denominator: usize,
    pub percent: Option<f64>,
    pub target_percent: u32,
    pub provisional: bool,
    pub children: Vec<DrillChild>,
    /// Shown beside the figure, not in it (IHA and RHA competent refusals).
    pub refused: Vec<DrillChild>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DrillChild {
    pub child_id: String,
    pub local_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment_id: Option<String>,
    pub met: bool,
    /// met, missed or pending.
    pub outcome: String,
    /// Why it missed (or is not yet met), e.g. late_consent, not_brought, host_provider.
    pub reason: Option<String>,
    /// Whose step it was: local_authority, health, host_provider or none.
    pub attribution: Option<String>,
    /// The due date (for the checks: the end of the month).
    pub due_on: Option<NaiveDate>,
    /// When it was done, if it was.
    pub done_on: Option<NaiveDate>,
    pub out_of_area: bool,
}

fn text<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl From<&kpi::Entry> for DrillChild {
    fn from(e: &kpi::Entry) -> DrillChild {
        DrillChild {
            child_id: e.child_id.clone(),
            local_id: e.local_id.clone(),
            assessment_id: e.assessment_id.clone(),
            met: e.outcome == kpi::Outcome::Met,
            outcome: text(e.outcome),
            reason: e.reason.map(text),
            attribution: e.attribution.map(text),
            due_on: e.due_on,
            done_on: e.done_on,
            out_of_area: e.out_of_area,
        }
    }
}

/// The report for `from..=to` over the children in scope (narrowed to `las`): the figures
/// (without their lists) from one read of the span and one pass over it, each beside its
/// published figure when the month was published for this scope. Audited as a read of the
/// report, since each figure stands for its children.
pub fn report(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    from: kpi::Month,
    to: kpi::Month,
    las: &[String],
) -> AppResult<KpiReport> {
    let (report, _) = report_reading(conn, ctx, from, to, las, false)?;
    Ok(report)
}

/// The report and, besides, every figure's list of children (the XLSX download's second
/// sheet): one read of the span. Audited as a download of the report.
pub fn report_with_lists(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    from: kpi::Month,
    to: kpi::Month,
    las: &[String],
) -> AppResult<(KpiReport, Vec<kpi::Figure>)> {
    report_reading(conn, ctx, from, to, las, true)
}

fn report_reading(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    from: kpi::Month,
    to: kpi::Month,
    las: &[String],
    with_lists: bool,
) -> AppResult<(KpiReport, Vec<kpi::Figure>)> {
    let (figures, published, lists) = ctx.read_audited(
        conn,
        |conn| {
            let started = std::time::Instant::now();
            let detail = if with_lists { Detail::Causes } else { Detail::Outcomes };
            let children = load(conn, ctx, las, Span::months(from, to), detail)?;
            let loaded = started.elapsed();
            let months = kpi::Month::range(from, to);
            let figures = kpi::summaries(&children, &months, ctx.today);
            let published = super::kpi_publication::compare(conn, ctx, las, &months, &children)?;
            let lists = if with_lists {
                kpi::figures(&children, &months, ctx.today)
            } else {
                vec![]
            };
            // Where a slow report spends its time (issue 12): sizes and durations only.
            tracing::debug!(
                children = children.len(),
                load_ms = loaded.as_millis() as u64,
                compute_ms = (started.elapsed() - loaded).as_millis() as u64,
                published = published.len(),
                "kpi report"
            );
            Ok((figures, published, lists))
        },
        |_| AuditEvent::ok(if with_lists { "download" } else { "report" }, "kpi", None, None),
    )?;
    Ok((build_report(from, to, &figures, &published), lists))
}

fn build_report(
    from: kpi::Month,
    to: kpi::Month,
    figures: &[kpi::Summary],
    published: &[(kpi::Measure, kpi::Month, PublishedFigure)],
) -> KpiReport {
    let published_of = |measure: kpi::Measure, month: kpi::Month| {
        published
            .iter()
            .find(|(m, mo, _)| *m == measure && *mo == month)
            .map(|(_, _, p)| p.clone())
    };
    let measures = kpi::Measure::ALL
        .into_iter()
        .map(|measure| MeasureRow {
            measure: measure.as_str().to_string(),
            title: measure.title().to_string(),
            target_percent: kpi::TARGET_PERCENT,
            months: figures
                .iter()
                .filter(|f| f.measure == measure)
                .map(|f| {
                    let published = published_of(measure, f.month);
                    // Restated: the published figure is not the figure now, or the same
                    // figure now stands for different children.
                    let restated = published
                        .as_ref()
                        .is_some_and(|p| p.changed > 0 || (p.numerator, p.denominator) != (f.numerator, f.denominator));
                    MonthFigure {
                        month: f.month.to_string(),
                        numerator: f.numerator,
                        denominator: f.denominator,
                        percent: f.percent,
                        provisional: f.provisional,
                        refused: (measure == kpi::Measure::IhaWithin20WorkingDays).then_some(f.beside),
                        published,
                        restated,
                    }
                })
                .collect(),
        })
        .collect();
    KpiReport {
        from: from.to_string(),
        to: to.to_string(),
        measures,
    }
}

/// One measure and month with everyone behind it.
pub fn drill_down(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    measure: kpi::Measure,
    month: kpi::Month,
    las: &[String],
) -> AppResult<DrillDown> {
    let f = ctx.read_audited(
        conn,
        |conn| {
            let children = load(conn, ctx, las, Span::months(month, month), Detail::Causes)?;
            Ok(kpi::figure(measure, month, &children, ctx.today))
        },
        |_| AuditEvent::ok("report", "kpi_drill_down", None, None),
    )?;
    Ok(DrillDown {
        measure: measure.as_str().to_string(),
        title: measure.title().to_string(),
        month: month.to_string(),
        numerator: f.numerator,
        denominator: f.denominator,
        percent: f.percent,
        target_percent: f.target,
        provisional: f.provisional,
        children: f.entries.iter().map(DrillChild::from).collect(),
        refused: f.beside.iter().map(DrillChild::from).collect(),
    })
}

/// The report as CSV: one row per measure and month.
pub fn report_csv(report: &KpiReport) -> String {
    let mut out = String::from(
        "measure,month,numerator,denominator,percent,target_percent,provisional,refused,\
         published_numerator,published_denominator,published_percent,restated\n",
    );
    for m in &report.measures {
        for f in &m.months {
            let percent = f.percent.map(|p| format!("{p:.1}")).unwrap_or_default();
            let refused = f.refused.map(|r| r.to_string()).unwrap_or_default();
            let published = match &f.published {
                Some(p) => format!(
                    "{},{},{}",
                    p.numerator,
                    p.denominator,
                    p.percent.map(|p| format!("{p:.1}")).unwrap_or_default()
                ),
                None => ",,".to_string(),
            };
            out.push_str(&format!(
                "{},{},{},{},{percent},{},{},{refused},{published},{}\n",
                m.measure, f.month, f.numerator, f.denominator, m.target_percent, f.provisional, f.restated
            ));
        }
    }
    out
}
