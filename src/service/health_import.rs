//! The health-checks import's database writer: the completed assessments and health
//! checks that [`crate::health_import::parse`] accepted, written for one local authority
//! through the same use cases as the API (each audited).
//!
//! Rules:
//! - A child is known by its local authority and its id there (`local_id`, the SSDA903
//!   CHILD); a child the tracker does not hold is refused (import the SSDA903 files first).
//! - A completed IHA or RHA belongs to the child's open period of care: the day seen must
//!   fall in it. Assessments of ended periods are not loaded (they are history the tracker
//!   keeps without assessments).
//! - An IHA row completes the open period's IHA with its day seen and report day
//!   ([`record_completed`]: the timeline, history, RAG and the next review as
//!   for a completion recorded by hand). The same dates again change nothing; other dates
//!   for an IHA already completed are refused (a correction is made on the record).
//! - An RHA row completes the period's open review, whose clock started at the previous
//!   completion; each completion schedules the next, so a child's reviews load in date
//!   order one after another. A review completed already with that day seen is unchanged.
//! - A check row adds the health check ([`child_service::add_health_check`], with its checks:
//!   not before the date of birth, SDQ ages 4 to 16). A check of the same type on the same
//!   day with the same result is unchanged; with another result it is refused.
//! - A child is written in one transaction: if any row is refused the child's writes are
//!   undone and the child is reported with the reason. Only a database failure stops the
//!   import.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::assessments::record_completed;
use super::children::{self as child_service, NewHealthCheck};
use super::DomainCtx;
use crate::db::models;
use crate::db::schema::*;
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, AppResult};
use crate::health_import::{AssessmentKind, ChildRows, Parsed, Record, Row, Written};
use crate::ssda903::Rejection;
use crate::workflow::{Kind, State};

/// What the writer did with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Unchanged,
}

/// Why a child was refused: the row (0 for the child as a whole), its column and value.
#[derive(Debug)]
struct Refusal {
    line: u64,
    column: &'static str,
    value: String,
    error: AppError,
}

impl From<diesel::result::Error> for Refusal {
    fn from(e: diesel::result::Error) -> Refusal {
        Refusal {
            line: 0,
            column: "child",
            value: String::new(),
            error: e.into(),
        }
    }
}

/// Writes the accepted children of `parsed` for local authority `la` and fills in the
/// report's written counts; children the tracker refuses are added to its rejections.
pub fn write(conn: &mut DbConn, ctx: &DomainCtx, la: &str, parsed: &mut Parsed) -> AppResult<()> {
    if !ctx.scope.allows(la) {
        return Err(AppError::Forbidden(format!(
            "{la} is not a local authority whose children you work with"
        )));
    }
    let mut written = Written::default();
    for child in std::mem::take(&mut parsed.children) {
        match write_transaction(conn, |conn| write_child(conn, ctx, la, &child)) {
            Ok(outcomes) => {
                for o in outcomes {
                    match o {
                        Outcome::Created => written.created += 1,
                        Outcome::Unchanged => written.unchanged += 1,
                    }
                }
            }
            Err(Refusal {
                error: e @ (AppError::Internal(_) | AppError::Unavailable),
                ..
            }) => return Err(e),
            Err(r) => {
                let rejection = Rejection {
                    file: parsed.report.file.clone(),
                    line: r.line,
                    child: Some(child.child.clone()),
                    column: r.column.to_string(),
                    value: crate::ssda903::report::shown(&r.value),
                    reason: format!("child skipped: {}", reason(&r.error)),
                };
                parsed.report.reject_child(&child, rejection);
            }
        }
    }
    parsed.report.written = Some(written);
    Ok(())
}

fn reason(e: &AppError) -> String {
    match e {
        AppError::Invalid(errors) => errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn refused(row: &Row, column: &'static str, value: String, error: AppError) -> Refusal {
    Refusal {
        line: row.line,
        column,
        value,
        error,
    }
}

fn write_child(conn: &mut DbConn, ctx: &DomainCtx, la: &str, rows: &ChildRows) -> Result<Vec<Outcome>, Refusal> {
    let whole = |error: AppError| Refusal {
        line: rows.rows.first().map_or(0, |r| r.line),
        column: "child",
        value: rows.child.clone(),
        error,
    };
    let child: models::Child = children::table
        .filter(children::responsible_la.eq(la))
        .filter(children::local_id.eq(&rows.child))
        .select(models::Child::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| {
            whole(AppError::Conflict(format!(
                "{la} has no child with this id in the tracker (import the SSDA903 files first)"
            )))
        })?;
    ctx.check_visible(&child, "child").map_err(&whole)?;
    let mut outcomes = Vec::with_capacity(rows.rows.len());
    for row in &rows.rows {
        let outcome = match &row.record {
            Record::Assessment {
                kind,
                seen_on,
                report_received_on,
            } => write_assessment(conn, ctx, &child, row, *kind, *seen_on, *report_received_on)?,
            Record::Check { .. } => write_check(conn, ctx, &child, row)?,
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

fn day(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn write_assessment(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    child: &models::Child,
    row: &Row,
    kind: AssessmentKind,
    seen_on: NaiveDate,
    report_received_on: Option<NaiveDate>,
) -> Result<Outcome, Refusal> {
    let seen = || day(seen_on);
    let period: Option<models::Period> = periods::table
        .filter(periods::child_id.eq(&child.id))
        .filter(periods::ended_on.is_null())
        .select(models::Period::as_select())
        .first(conn)
        .optional()?;
    let Some(period) = period.filter(|p| p.started_on <= seen_on) else {
        return Err(refused(
            row,
            "seen_on",
            seen(),
            AppError::Conflict(
                "the child has no open period of care on this day: completed assessments of ended periods are not loaded"
                    .into(),
            ),
        ));
    };
    let kind_name = match kind {
        AssessmentKind::Iha => Kind::Iha.as_str(),
        AssessmentKind::Rha => Kind::Rha.as_str(),
    };
    // A period holds a handful of assessments: all are read and the kind kept here, since
    // a filter on the kind steered SQLite to walk every assessment of that kind instead.
    let held: Vec<models::Assessment> = assessments::table
        .filter(assessments::period_id.eq(&period.id))
        .order(assessments::clock_started_on.asc())
        .select(models::Assessment::as_select())
        .load::<models::Assessment>(conn)?
        .into_iter()
        .filter(|a| a.kind == kind_name)
        .collect();
    if let Some(done) = held.iter().find(|a| a.seen_on == Some(seen_on)) {
        if done.state == State::Completed.as_str() && done.report_received_on == report_received_on {
            return Ok(Outcome::Unchanged);
        }
    }
    let completed_iha = kind == AssessmentKind::Iha && held.iter().any(|a| a.state == State::Completed.as_str());
    let open = held
        .iter()
        .find(|a| a.state.parse::<State>().is_ok_and(|s| s.is_open()));
    match open {
        Some(a) if !completed_iha => {
            record_completed(conn, ctx, &a.id, seen_on, report_received_on)
                .map_err(|e| refused(row, "seen_on", seen(), e))?;
            Ok(Outcome::Created)
        }
        _ => {
            let why = match (kind, held.last()) {
                (AssessmentKind::Iha, None) => {
                    "the open period has no IHA (it began before the files the tracker was given, or on short breaks)"
                        .to_string()
                }
                (AssessmentKind::Iha, Some(a)) => iha_held(a),
                (AssessmentKind::Rha, _) => {
                    "the open period has no review open (an RHA follows a completed IHA or RHA; load those first)"
                        .to_string()
                }
            };
            Err(refused(row, "seen_on", seen(), AppError::Conflict(why)))
        }
    }
}

/// Why an IHA row cannot be written over the period's IHA.
fn iha_held(a: &models::Assessment) -> String {
    match (a.state.as_str(), a.seen_on) {
        ("completed", Some(seen)) => format!(
            "the period's IHA is completed already, seen on {}{}; correct it on the child's record",
            day(seen),
            a.report_received_on
                .map(|r| format!(", report received {}", day(r)))
                .unwrap_or_default()
        ),
        (state, _) => format!("the period's IHA is {}", state.replace('_', " ")),
    }
}

fn write_check(conn: &mut DbConn, ctx: &DomainCtx, child: &models::Child, row: &Row) -> Result<Outcome, Refusal> {
    let Record::Check {
        check_type,
        on,
        up_to_date,
        sdq_score,
        sdq_reason,
        outcome,
    } = &row.record
    else {
        return Err(refused(
            row,
            "kind",
            String::new(),
            AppError::Internal("not a check".into()),
        ));
    };
    let held: Vec<models::HealthCheck> = health_checks::table
        .filter(health_checks::child_id.eq(&child.id))
        .filter(health_checks::kind.eq(*check_type))
        .filter(health_checks::checked_on.eq(*on))
        .select(models::HealthCheck::as_select())
        .load(conn)?;
    let same = |h: &models::HealthCheck| {
        h.up_to_date == up_to_date.map(i32::from)
            && h.sdq_score == *sdq_score
            && h.sdq_reason == *sdq_reason
            && h.outcome == *outcome
    };
    if held.iter().any(same) {
        return Ok(Outcome::Unchanged);
    }
    if !held.is_empty() {
        return Err(refused(
            row,
            "result",
            String::new(),
            AppError::Conflict(format!(
                "a {check_type} check on {} is held with another result; correct it on the child's record",
                day(*on)
            )),
        ));
    }
    let input = NewHealthCheck {
        kind: check_type.to_string(),
        checked_on: *on,
        up_to_date: *up_to_date,
        sdq_score: *sdq_score,
        sdq_reason: sdq_reason.clone(),
        outcome: outcome.clone(),
    };
    child_service::add_health_check(conn, ctx, &child.id, input).map_err(|e| refused(row, "date", day(*on), e))?;
    Ok(Outcome::Created)
}
