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

/// What the measures need about every child in `ctx`'s scope, narrowed to `las` if given.
pub fn load(conn: &mut DbConn, ctx: &DomainCtx, las: &[String]) -> AppResult<Vec<ChildFacts>> {
    let wanted: Option<Vec<String>> = match (ctx.scope.codes(), las.is_empty()) {
        (None, true) => None,
        (None, false) => Some(las.to_vec()),
        (Some(own), true) => Some(own.to_vec()),
        (Some(own), false) => Some(las.iter().filter(|la| own.contains(la)).cloned().collect()),
    };
    let mut q = children::table
        .select((
            children::id,
            children::local_id,
            children::responsible_la,
            children::date_of_birth,
        ))
        .order(children::id)
        .into_boxed();
    if let Some(codes) = &wanted {
        q = q.filter(children::responsible_la.eq_any(codes.clone()));
    }
    let rows: Vec<(String, String, String, NaiveDate)> = q.load(conn)?;
    let mut by_child: HashMap<String, ChildFacts> = rows
        .into_iter()
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
    load_periods(conn, ctx, wanted.as_deref(), &mut by_child)?;
    load_checks(conn, wanted.as_deref(), &mut by_child)?;
    let mut all: Vec<ChildFacts> = by_child.into_values().collect();
    all.sort_by(|a, b| a.child_id.cmp(&b.child_id));
    Ok(all)
}

fn load_periods(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    las: Option<&[String]>,
    by_child: &mut HashMap<String, ChildFacts>,
) -> AppResult<()> {
    let mut periods_q = periods::table
        .inner_join(children::table)
        .select(models::Period::as_select())
        .into_boxed();
    let mut assessments_q = assessments::table
        .select(models::Assessment::as_select())
        .order((assessments::due_on, assessments::id))
        .into_boxed();
    let mut requests_q = out_of_area_requests::table
        .inner_join(assessments::table)
        .select(models::OutOfAreaRequest::as_select())
        .order(out_of_area_requests::opened_on)
        .into_boxed();
    if let Some(codes) = las {
        periods_q = periods_q.filter(children::responsible_la.eq_any(codes.to_vec()));
        assessments_q = assessments_q.filter(assessments::responsible_la.eq_any(codes.to_vec()));
        requests_q = requests_q.filter(assessments::responsible_la.eq_any(codes.to_vec()));
    }
    let periods: Vec<models::Period> = periods_q.load(conn)?;
    let assessments: Vec<models::Assessment> = assessments_q.load(conn)?;
    let requests: HashMap<String, models::OutOfAreaRequest> = requests_q
        .load(conn)?
        .into_iter()
        .map(|r: models::OutOfAreaRequest| (r.assessment_id.clone(), r))
        .collect();
    // A miss is judged as the assessment stood on its due date: replayed from its events
    // when something was recorded as happening after that day (a rebooking, say).
    let late: Vec<&str> = assessments
        .iter()
        .filter(|a| a.seen_on.is_none_or(|seen| seen > a.due_on) && history_store::needs_replay(a, a.due_on))
        .map(|a| a.id.as_str())
        .collect();
    let late_events = crate::db::history::load_for(conn, &late)?;
    let mut by_period: HashMap<String, PeriodFacts> = HashMap::new();
    let mut period_child: HashMap<String, String> = HashMap::new();
    for p in periods.into_iter().filter(|p| by_child.contains_key(&p.child_id)) {
        period_child.insert(p.id.clone(), p.child_id.clone());
        by_period.insert(
            p.id,
            PeriodFacts {
                started_on: p.started_on,
                ended_on: p.ended_on,
                iha: None,
                rhas: vec![],
            },
        );
    }
    for a in &assessments {
        // Only the periods of children in scope are in `by_period`.
        let Some(period) = a.period_id.as_ref().and_then(|p| by_period.get_mut(p)) else {
            continue;
        };
        let events = late_events.get(&a.id).map(Vec::as_slice);
        let facts = assessment(a, requests.get(&a.id), events, ctx)?;
        match parse_stored::<Kind>("kind", &a.kind)? {
            Kind::Iha => period.iha = Some(facts),
            Kind::Rha => period.rhas.push(facts),
        }
    }
    for (period_id, period) in by_period {
        if let Some(child) = period_child.get(&period_id).and_then(|c| by_child.get_mut(c)) {
            child.periods.push(period);
        }
    }
    for child in by_child.values_mut() {
        child.periods.sort_by_key(|p| p.started_on);
    }
    Ok(())
}

fn assessment(
    a: &models::Assessment,
    request: Option<&models::OutOfAreaRequest>,
    events: Option<&[Event]>,
    ctx: &DomainCtx,
) -> AppResult<AssessmentFacts> {
    let state: State = parse_stored("state", &a.state)?;
    let brief_summary = a.completion_method.as_deref() == Some("brief_health_summary");
    let seen_on = a.seen_on.or(a.completed_on.filter(|_| brief_summary));
    let late = match seen_on {
        Some(seen) if seen <= a.due_on => None,
        _ => Some(cause_on_due_date(a, request, events, ctx)?),
    };
    Ok(AssessmentFacts {
        assessment_id: a.id.clone(),
        due_on: a.due_on,
        seen_on,
        exemption: (state == State::NotRequired).then_some(Exemption::PriorAssessment),
        refused: state == State::Refused,
        out_of_area: request.is_some(),
        late,
    })
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

fn load_checks(conn: &mut DbConn, las: Option<&[String]>, by_child: &mut HashMap<String, ChildFacts>) -> AppResult<()> {
    let mut q = health_checks::table
        .inner_join(children::table)
        .select(models::HealthCheck::as_select())
        .order(health_checks::checked_on)
        .into_boxed();
    if let Some(codes) = las {
        q = q.filter(children::responsible_la.eq_any(codes.to_vec()));
    }
    let checks: Vec<models::HealthCheck> = q.load(conn)?;
    for c in checks {
        let Some(child) = by_child.get_mut(&c.child_id) else {
            continue;
        };
        let kind = match c.kind.as_str() {
            "dental" => CheckKind::Dental,
            "sdq" => CheckKind::Sdq,
            "immunisations" => CheckKind::Immunisations,
            _ => continue,
        };
        child.checks.push(CheckFact {
            kind,
            on: c.checked_on,
            up_to_date: c.up_to_date.map(|v| v != 0),
            sdq_score: c.sdq_score.and_then(|s| u8::try_from(s).ok()),
        });
    }
    Ok(())
}

/// The figures for `months` over the children in scope (narrowed to `las`). Audited as a
/// read of the report, since each figure lists its children.
pub fn figures(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    months: &[kpi::Month],
    las: &[String],
) -> AppResult<Vec<kpi::Figure>> {
    ctx.read_audited(
        conn,
        |conn| Ok(kpi::figures(&load(conn, ctx, las)?, months, ctx.today)),
        |_| AuditEvent::ok("report", "kpi", None, None),
    )
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

/// The report for `from..=to` over the children in scope (narrowed to `las`).
pub fn report(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    from: kpi::Month,
    to: kpi::Month,
    las: &[String],
) -> AppResult<KpiReport> {
    let months = kpi::Month::range(from, to);
    let figures = figures(conn, ctx, &months, las)?;
    let measures = kpi::Measure::ALL
        .into_iter()
        .map(|measure| MeasureRow {
            measure: measure.as_str().to_string(),
            title: measure.title().to_string(),
            target_percent: kpi::TARGET_PERCENT,
            months: figures
                .iter()
                .filter(|f| f.measure == measure)
                .map(|f| MonthFigure {
                    month: f.month.to_string(),
                    numerator: f.numerator,
                    denominator: f.denominator,
                    percent: f.percent,
                    provisional: f.provisional,
                    refused: (measure == kpi::Measure::IhaWithin20WorkingDays).then_some(f.beside.len()),
                })
                .collect(),
        })
        .collect();
    Ok(KpiReport {
        from: from.to_string(),
        to: to.to_string(),
        measures,
    })
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
        |conn| Ok(kpi::figure(measure, month, &load(conn, ctx, las)?, ctx.today)),
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
    let mut out = String::from("measure,month,numerator,denominator,percent,target_percent,provisional,refused\n");
    for m in &report.measures {
        for f in &m.months {
            let percent = f.percent.map(|p| format!("{p:.1}")).unwrap_or_default();
            let refused = f.refused.map(|r| r.to_string()).unwrap_or_default();
            out.push_str(&format!(
                "{},{},{},{},{percent},{},{},{refused}\n",
                m.measure, f.month, f.numerator, f.denominator, m.target_percent, f.provisional
            ));
        }
    }
    out
}
