//! Care leavers and adoption, applied to the database (the rules are pure, in
//! `care_leaver` and `adoption`):
//!
//! - [`sweep`] (housekeeping, each interval): opens the health leaving-care summary of each
//!   child in care from 6 months before their 18th birthday, and ends a period still open
//!   on the 18th birthday, on that day (`care_leaver::END_REASON`), closing its open
//!   assessments.
//! - [`open_adoption_report`]: called inside the transaction of a period start, placement
//!   change or legal-status change, opens the adoption medical report when the child has
//!   an adoption plan (placement order E1, or placed for adoption).
//! - [`complete`]: records that a summary or report was given.
//! - Sealing at the adoption order is in `periods::end` and `periods::start` (the child's
//!   row is the lock both take); [`open_sealed`] is the audited admin act that reads a
//!   sealed record, with a reason.
//!
//! One obligation of each kind per child is held by the database (`UNIQUE (child_id,
//! kind)`): opening one that exists already is a no-op, inside a savepoint so that on
//! PostgreSQL the caller's transaction carries on.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::assessments::{close_open, open_state_names};
use super::views::ChildDetail;
use super::DomainCtx;
use crate::audit::{self, Actor, AuditEvent};
use crate::care_leaver::{self, SummaryRag, SummaryStatus};
use crate::db::models::{self, new_id, now_utc};
use crate::db::schema::*;
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::{adoption, obligations};

pub const LEAVING_CARE_SUMMARY: &str = "leaving_care_summary";
pub const ADOPTION_MEDICAL_REPORT: &str = "adoption_medical_report";

/// An obligation as the API and the record show it, on a day.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthObligationView {
    pub id: String,
    pub child_id: String,
    pub period_id: String,
    /// leaving_care_summary or adoption_medical_report.
    pub kind: String,
    /// The day it could first be done.
    pub opened_on: NaiveDate,
    /// The 18th birthday for a leaving-care summary; none for an adoption medical report.
    pub due_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    /// none (not yet offered), green, amber, red or completed; an adoption medical report
    /// has no due date, so it is green while open.
    pub rag: SummaryRag,
    /// Given after its due date, or not given and its due date has passed.
    pub late: bool,
    /// The escalation level reached (0 = none) and who it is for.
    pub escalation_level: u8,
    pub escalate_to: Option<String>,
}

impl HealthObligationView {
    pub fn new(o: &models::HealthObligation, day: NaiveDate) -> HealthObligationView {
        let completed_on = o.completed_on.filter(|c| *c <= day);
        let (rag, late, level) = match o.due_on {
            Some(due_on) => {
                let s = SummaryStatus {
                    opened_on: o.opened_on,
                    due_on,
                    completed_on: o.completed_on,
                };
                (s.rag(day), s.late(day), care_leaver::escalation_level(&s, day))
            }
            None if completed_on.is_some() => (SummaryRag::Completed, false, 0),
            None if day < o.opened_on => (SummaryRag::None, false, 0),
            None => (SummaryRag::Green, false, 0),
        };
        HealthObligationView {
            id: o.id.clone(),
            child_id: o.child_id.clone(),
            period_id: o.period_id.clone(),
            kind: o.kind.clone(),
            opened_on: o.opened_on,
            due_on: o.due_on,
            completed_on,
            rag,
            late,
            escalation_level: level,
            escalate_to: care_leaver::escalation_recipient(level).map(str::to_string),
        }
    }
}

/// What a sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    pub summaries_opened: usize,
    pub periods_ended: usize,
    pub assessments_closed: usize,
}

/// A child's obligations, oldest first.
pub fn of_child(conn: &mut DbConn, child_id: &str) -> AppResult<Vec<models::HealthObligation>> {
    Ok(health_obligations::table
        .filter(health_obligations::child_id.eq(child_id))
        .order(health_obligations::opened_on.asc())
        .select(models::HealthObligation::as_select())
        .load(conn)?)
}

/// Inserts `row` unless the child has one of its kind already (in a savepoint, so the
/// unique violation of a lost race leaves the caller's transaction usable). True if new.
fn open_once(conn: &mut DbConn, row: &models::HealthObligation) -> AppResult<bool> {
    use diesel::result::{DatabaseErrorKind, Error};
    let inserted = conn
        .transaction::<_, Error, _>(|conn| diesel::insert_into(health_obligations::table).values(row).execute(conn));
    match inserted {
        Ok(_) => Ok(true),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn new_row(
    period: &models::Period,
    kind: &str,
    opened_on: NaiveDate,
    due_on: Option<NaiveDate>,
    by: Option<String>,
) -> models::HealthObligation {
    models::HealthObligation {
        id: new_id(),
        child_id: period.child_id.clone(),
        period_id: period.id.clone(),
        kind: kind.to_string(),
        opened_on,
        due_on,
        completed_on: None,
        completed_by: None,
        recorded_at: now_utc(),
        recorded_by: by,
    }
}

/// Opens the adoption medical report, inside the caller's transaction, when the legal
/// status or placement in force from `on` gives the child an adoption plan.
pub fn open_adoption_report(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    period: &models::Period,
    legal_status: Option<&str>,
    placement_type: Option<&str>,
    on: NaiveDate,
) -> AppResult<()> {
    if !adoption::needs_medical_report(legal_status, placement_type) {
        return Ok(());
    }
    let row = new_row(
        period,
        ADOPTION_MEDICAL_REPORT,
        on,
        None,
        super::history_store::recorded_by(ctx),
    );
    if open_once(conn, &row)? {
        ctx.audit(
            conn,
            AuditEvent::ok("create", "health_obligation", Some(&row.id), Some(&row.child_id))
                .with_changes(None, Some(&row)),
        )?;
    }
    Ok(())
}

/// The housekeeping sweep for `today` (see the module note).
pub fn sweep(conn: &mut DbConn, today: NaiveDate) -> AppResult<Sweep> {
    // Anyone who turns 18 within the next 6 months (or has turned 18) was born by this day.
    let born_by = obligations::add_months(today, care_leaver::OFFER_MONTHS + 1) - chrono::Months::new(12 * 18);
    let candidates: Vec<(models::Period, NaiveDate)> = periods::table
        .inner_join(children::table)
        .filter(periods::ended_on.is_null())
        .filter(children::date_of_birth.le(born_by))
        .filter(children::sealed_on.is_null())
        .select((models::Period::as_select(), children::date_of_birth))
        .load(conn)?;
    let mut done = Sweep::default();
    for (period, dob) in candidates {
        crate::db::write_transaction(conn, |conn| sweep_one(conn, &period, dob, today, &mut done))?;
    }
    Ok(done)
}

fn sweep_one(
    conn: &mut DbConn,
    period: &models::Period,
    dob: NaiveDate,
    today: NaiveDate,
    done: &mut Sweep,
) -> AppResult<()> {
    let actor = Actor::system("housekeeping");
    let (from, due) = care_leaver::summary_window(dob, period.started_on);
    if today >= from {
        let row = new_row(
            period,
            LEAVING_CARE_SUMMARY,
            from,
            Some(due),
            Some("system:housekeeping".into()),
        );
        if open_once(conn, &row)? {
            let event = AuditEvent::ok("create", "health_obligation", Some(&row.id), Some(&row.child_id))
                .with_changes(None, Some(&row));
            audit::record(conn, &actor, event)?;
            done.summaries_opened += 1;
        }
    }
    if let Some(on) = care_leaver::period_end_at_eighteen(dob, today) {
        done.assessments_closed += end_at_eighteen(conn, &actor, period, on)?;
        done.periods_ended += 1;
    }
    Ok(())
}

/// Ends the period on the 18th birthday, on condition that it is still open (a request
/// ending it meanwhile wins), and closes the child's open assessments. Returns how many.
fn end_at_eighteen(conn: &mut DbConn, actor: &Actor, period: &models::Period, on: NaiveDate) -> AppResult<usize> {
    let n = diesel::update(
        periods::table
            .filter(periods::id.eq(&period.id))
            .filter(periods::ended_on.is_null()),
    )
    .set((
        periods::ended_on.eq(on.max(period.started_on)),
        periods::end_reason.eq(care_leaver::END_REASON),
        periods::version.eq(periods::version + 1),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(0);
    }
    let event = AuditEvent::ok("end", "period", Some(&period.id), Some(&period.child_id)).with_changes(
        None,
        Some(&serde_json::json!({
            "ended_on": on, "reason": care_leaver::END_REASON, "why": care_leaver::END_NOTE,
        })),
    );
    audit::record(conn, actor, event)?;
    let open: Vec<models::Assessment> = assessments::table
        .filter(assessments::child_id.eq(&period.child_id))
        .filter(assessments::state.eq_any(open_state_names()))
        .select(models::Assessment::as_select())
        .load(conn)?;
    let closed = open.len();
    for mut a in open {
        let before = a.clone();
        close_open(conn, &mut a, on, care_leaver::END_NOTE)?;
        let event =
            AuditEvent::ok("close", "assessment", Some(&a.id), Some(&a.child_id)).with_changes(Some(&before), Some(&a));
        audit::record(conn, actor, event)?;
    }
    Ok(closed)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObligationCompletion {
    /// The day the summary or report was given.
    #[serde(deserialize_with = "crate::input::date")]
    pub completed_on: NaiveDate,
}

/// Records that a leaving-care summary or adoption medical report was given.
pub fn complete(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    id: &str,
    input: ObligationCompletion,
) -> AppResult<HealthObligationView> {
    let row = crate::db::write_transaction(conn, |conn| {
        let mut row: models::HealthObligation = health_obligations::table
            .find(id)
            .select(models::HealthObligation::as_select())
            .first(conn)
            .optional()?
            .ok_or(AppError::NotFound("obligation"))?;
        super::children::load_visible(conn, ctx, &row.child_id).map_err(|_| AppError::NotFound("obligation"))?;
        let mut c = super::validate::Checks::new();
        c.not_future("completed_on", input.completed_on, ctx.today);
        c.not_before(
            "completed_on",
            input.completed_on,
            row.opened_on,
            "the day it was offered",
        );
        c.finish()?;
        if let Some(on) = row.completed_on {
            return Err(AppError::Conflict(format!("already recorded as given on {on}")));
        }
        let before = row.clone();
        let n = diesel::update(
            health_obligations::table
                .filter(health_obligations::id.eq(&row.id))
                .filter(health_obligations::completed_on.is_null()),
        )
        .set((
            health_obligations::completed_on.eq(input.completed_on),
            health_obligations::completed_by.eq(super::history_store::recorded_by(ctx)),
        ))
        .execute(conn)?;
        if n == 0 {
            return Err(AppError::Conflict(
                "recorded as given at the same time; read the child again".into(),
            ));
        }
        row.completed_on = Some(input.completed_on);
        row.completed_by = super::history_store::recorded_by(ctx);
        ctx.audit(
            conn,
            AuditEvent::ok("complete", "health_obligation", Some(&row.id), Some(&row.child_id))
                .with_changes(Some(&before), Some(&row)),
        )?;
        Ok::<_, AppError>(row)
    })?;
    Ok(HealthObligationView::new(&row, ctx.today))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedRecordOpening {
    /// Why the sealed record is opened (at least 10 characters); kept on the audit trail.
    pub reason: String,
}

/// An admin opens a sealed pre-adoption record: the whole record as it stood when sealed,
/// with the reason on the audit trail. A record that is not sealed is a 404 here (this is
/// not a way round the ordinary roles' scope).
pub fn open_sealed(conn: &mut DbConn, ctx: &DomainCtx, id: &str, input: SealedRecordOpening) -> AppResult<ChildDetail> {
    let reason = input.reason.trim().to_string();
    let mut c = super::validate::Checks::new();
    if reason.chars().count() < adoption::MIN_REASON_CHARS {
        c.fail(
            "reason",
            "give the reason for opening the sealed record (at least 10 characters)",
        );
    }
    c.text("reason", &reason, 2000);
    c.finish()?;
    let child = super::children::load(conn, id)?;
    let Some(sealed_on) = child.sealed_on.filter(|_| ctx.scope.allows(&child.responsible_la)) else {
        return Err(AppError::NotFound("child"));
    };
    let detail = crate::db::read_transaction(conn, |conn| {
        super::children::read_detail_of(conn, ctx, &child, sealed_on)
    })?;
    crate::db::write_transaction(conn, |conn| {
        ctx.audit(
            conn,
            AuditEvent::ok("open_sealed", "child", Some(&child.id), Some(&child.id))
                .with_changes(None, Some(&serde_json::json!({ "reason": reason }))),
        )
    })?;
    Ok(detail)
}

/// Locks the child's row for a new period, on condition that the record is not sealed:
/// an adoption order sealing it in another transaction either committed first (then this
/// finds it sealed: 404) or waits for this one (PostgreSQL row lock; SQLite has one writer).
pub fn lock_unsealed(conn: &mut DbConn, child_id: &str) -> AppResult<()> {
    let n = diesel::update(
        children::table
            .filter(children::id.eq(child_id))
            .filter(children::sealed_on.is_null()),
    )
    .set(children::sealed_on.eq(None::<NaiveDate>))
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(AppError::NotFound("child"))
    }
}

/// Seals the record at the adoption order, in the transaction that ends the period (the
/// child's row first, the lock [`lock_unsealed`] waits on).
pub fn seal(conn: &mut DbConn, ctx: &DomainCtx, child_id: &str, on: NaiveDate) -> AppResult<()> {
    diesel::update(
        children::table
            .filter(children::id.eq(child_id))
            .filter(children::sealed_on.is_null()),
    )
    .set(children::sealed_on.eq(Some(on)))
    .execute(conn)?;
    ctx.audit(
        conn,
        AuditEvent::ok("seal", "child", Some(child_id), Some(child_id))
            .with_changes(None, Some(&serde_json::json!({ "sealed_on": on }))),
    )
}

/// Whether a view on `day` shows the summary yet (opened by then).
pub fn shown_on(o: &models::HealthObligation, day: NaiveDate) -> bool {
    o.opened_on <= day
}
