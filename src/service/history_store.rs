//! Writing every step into the assessment's history (in the step's own transaction), and
//! reading an assessment as it stood on a day: the current row when the day is on or
//! after the history's last day (the row is then what a replay gives, and is cheaper),
//! else a replay of the events (`crate::history`).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::views::{parse_stored, row_facts};
use super::DomainCtx;
use crate::db::history as store;
use crate::db::models;
use crate::db::DbConn;
use crate::error::{on_unique_violation, AppError, AppResult};
use crate::history::{self, Change, Event, Replayed};
use crate::status::AssessmentFacts;

/// Who is recording: the account, else the system's name.
pub fn recorded_by(ctx: &DomainCtx) -> Option<String> {
    ctx.actor.user_id.clone().or_else(|| ctx.actor.email.clone())
}

/// Records one step of `a` effective on `on`, keeping the row in hand in step with the
/// database (a later save of the row writes the same `history_through`).
pub fn record(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    a: &mut models::Assessment,
    on: NaiveDate,
    change: Change,
) -> AppResult<Event> {
    record_as(conn, recorded_by(ctx), a, on, change)
}

/// [`record`] for a recorder named by the caller (the system's background work).
pub fn record_as(
    conn: &mut DbConn,
    by: Option<String>,
    a: &mut models::Assessment,
    on: NaiveDate,
    change: Change,
) -> AppResult<Event> {
    let e = append(conn, by, &a.id, on, None, change)?;
    a.history_through = Some(a.history_through.map_or(on, |t| t.max(on)));
    super::rag_store::clear(a);
    Ok(e)
}

/// Records one step of the assessment `assessment_id` (whose row the caller does not hold).
pub fn record_for_as(
    conn: &mut DbConn,
    by: Option<String>,
    assessment_id: &str,
    on: NaiveDate,
    change: Change,
) -> AppResult<Event> {
    append(conn, by, assessment_id, on, None, change)
}

/// Records one step of the assessment `assessment_id` for the caller in `ctx`.
pub fn record_for(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    assessment_id: &str,
    on: NaiveDate,
    supersedes: Option<String>,
    change: Change,
) -> AppResult<Event> {
    append(conn, recorded_by(ctx), assessment_id, on, supersedes, change)
}

fn append(
    conn: &mut DbConn,
    by: Option<String>,
    assessment_id: &str,
    on: NaiveDate,
    supersedes: Option<String>,
    change: Change,
) -> AppResult<Event> {
    on_unique_violation(store::append(conn, assessment_id, on, by, supersedes, change), || {
        AppError::Conflict("the assessment was changed at the same time; read it again".into())
    })
}

/// The events of the rows a view of `as_of` cannot read from the row alone.
pub fn events_for(
    conn: &mut DbConn,
    rows: &[&models::Assessment],
    as_of: NaiveDate,
) -> AppResult<HashMap<String, Vec<Event>>> {
    let ids: Vec<&str> = rows
        .iter()
        .filter(|a| needs_replay(a, as_of))
        .map(|a| a.id.as_str())
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(store::load_for(conn, &ids)?)
}

/// A view of `as_of` needs the events when something was recorded as happening after it.
pub fn needs_replay(a: &models::Assessment, as_of: NaiveDate) -> bool {
    a.history_through.is_some_and(|t| as_of < t)
}

/// The assessment replayed to `as_of`.
pub fn replayed(a: &models::Assessment, events: &[Event], as_of: NaiveDate) -> AppResult<Replayed> {
    Ok(history::replay(
        parse_stored("kind", &a.kind)?,
        a.clock_started_on,
        a.due_on,
        events,
        as_of,
        None,
    ))
}

/// The facts `status` judges for `as_of`: replayed when the day is before the history's
/// last day and the events are at hand, else the row's (with its open request).
pub fn facts_on(
    a: &models::Assessment,
    request: Option<&models::OutOfAreaRequest>,
    events: Option<&[Event]>,
    as_of: NaiveDate,
) -> AppResult<AssessmentFacts> {
    match events.filter(|_| needs_replay(a, as_of)) {
        Some(events) => Ok(replayed(a, events, as_of)?.facts),
        None => row_facts(a, request),
    }
}
