//! The lateness forecast's p_late stored for a day (`forecast_stamps`, migration `000085`):
//! lists that rank or filter a county's open assessments by it (the meeting's "most likely
//! to be late first", the health admin's queues) read one small table instead of
//! forecasting every row on every request.
//!
//! Rules:
//! - **One day, one set, one version.** A stamp holds on `p_late_on`, under the fitted set
//!   `p_late_model`, while the assessment is at `version`; anywhere else the list forecasts
//!   the row itself. A missing or stale stamp costs time, never correctness.
//! - **Deleted by every write that can move a forecast** without a new version: a step
//!   recorded (`db::history::append`), an out-of-area request opened or closed, the child's
//!   date of birth changed, a calendar import moving due dates. A saved row has a new
//!   version, so its stamp no longer holds even if a stamp was written while it was saved.
//! - **Stamped daily** by housekeeping (after its weekly refit): the open assessments lists
//!   rank, that is every open state but an RHA not yet due for booking (`scheduled`).
//! - **Stored as shown:** the value is the API's (rounded to 0.001), so stored and live
//!   forecasts rank alike.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use super::forecast::{self, ForecastView};
use super::DomainCtx;
use crate::db::models::Assessment;
use crate::db::schema::{assessments, forecast_stamps};
use crate::db::DbConn;
use crate::error::AppResult;
use crate::workflow::State;

/// Rows forecast and written per transaction.
const BATCH: usize = 1_000;

/// The states whose assessments lists rank by p_late.
pub fn ranked_states() -> Vec<&'static str> {
    State::ALL
        .iter()
        .filter(|s| s.is_open() && **s != State::Scheduled)
        .map(|s| s.as_str())
        .collect()
}

/// Forgets the stored forecast of one assessment (its facts, group or dates just changed).
pub fn clear(conn: &mut DbConn, assessment_id: &str) -> QueryResult<usize> {
    diesel::delete(forecast_stamps::table.filter(forecast_stamps::assessment_id.eq(assessment_id))).execute(conn)
}

/// Forgets the stored forecasts of a child's assessments.
pub fn clear_child(conn: &mut DbConn, child_id: &str) -> QueryResult<usize> {
    diesel::delete(
        forecast_stamps::table.filter(
            forecast_stamps::assessment_id.eq_any(
                assessments::table
                    .filter(assessments::child_id.eq(child_id))
                    .select(assessments::id),
            ),
        ),
    )
    .execute(conn)
}

/// The stamps made for `as_of` under the set in force then: p_late (`None`: no forecast)
/// and the version it holds for, by assessment id. Empty before the first fit.
pub fn stamps_on(conn: &mut DbConn, as_of: NaiveDate) -> AppResult<HashMap<String, (i32, Option<f64>)>> {
    let Some((model, _)) = forecast::in_force_with_id(conn, as_of)? else {
        return Ok(HashMap::new());
    };
    Ok(forecast_stamps::table
        .filter(forecast_stamps::p_late_on.eq(as_of))
        .filter(forecast_stamps::p_late_model.eq(model))
        .select((
            forecast_stamps::assessment_id,
            forecast_stamps::version,
            forecast_stamps::p_late,
        ))
        .load::<(String, i32, Option<f64>)>(conn)?
        .into_iter()
        .map(|(id, version, p)| (id, (version, p)))
        .collect())
}

/// Stamps today's forecast on every ranked open assessment without a stamp that holds.
/// Returns how many rows were stamped.
pub fn refresh(conn: &mut DbConn, ctx: &DomainCtx) -> AppResult<usize> {
    let today = ctx.today;
    let Some((model, _)) = forecast::in_force_with_id(conn, today)? else {
        return Ok(0);
    };
    let held = stamps_on(conn, today)?;
    let stale: Vec<String> = assessments::table
        .filter(assessments::state.eq_any(ranked_states()))
        .select((assessments::id, assessments::version))
        .load::<(String, i32)>(conn)?
        .into_iter()
        .filter(|(id, version)| held.get(id).is_none_or(|(v, _)| v != version))
        .map(|(id, _)| id)
        .collect();
    let mut done = 0;
    for chunk in stale.chunks(BATCH) {
        let rows = super::rag_store::load_by_ids(conn, chunk, |q| q)?;
        let found = forecast::for_rows(conn, ctx, &rows.iter().collect::<Vec<_>>(), today)?;
        done += crate::db::write_transaction(conn, |conn| write(conn, &model, today, &rows, &found))?;
    }
    Ok(done)
}

#[derive(Insertable)]
#[diesel(table_name = forecast_stamps, treat_none_as_default_value = false)]
struct NewStamp<'a> {
    assessment_id: &'a str,
    version: i32,
    p_late: Option<f64>,
    p_late_on: NaiveDate,
    p_late_model: &'a str,
}

/// Replaces the stamps of rows as read (each names the version it was made for).
fn write(
    conn: &mut DbConn,
    model: &str,
    day: NaiveDate,
    rows: &[Assessment],
    found: &HashMap<String, ForecastView>,
) -> AppResult<usize> {
    let ids: Vec<&str> = rows.iter().map(|a| a.id.as_str()).collect();
    diesel::delete(forecast_stamps::table.filter(forecast_stamps::assessment_id.eq_any(&ids))).execute(conn)?;
    let values: Vec<NewStamp<'_>> = rows
        .iter()
        .map(|a| NewStamp {
            assessment_id: &a.id,
            version: a.version,
            p_late: found.get(&a.id).map(|f| f.p_late),
            p_late_on: day,
            p_late_model: model,
        })
        .collect();
    // Five values a row.
    Ok(crate::db::insert_batches!(conn, forecast_stamps::table, values, 150))
}

/// p_late on `as_of` of the rows with these ids and versions (`None`: no forecast), from
/// the stamp where it holds and forecast here for the rest (read whole): what a list
/// ranks by.
pub fn p_late_of(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    keys: &[(&str, i32)],
    as_of: NaiveDate,
) -> AppResult<HashMap<String, Option<f64>>> {
    let mut out = stamps_for(conn, keys, as_of)?;
    let missing: Vec<String> = keys
        .iter()
        .filter(|(id, _)| !out.contains_key(*id))
        .map(|(id, _)| id.to_string())
        .collect();
    out.extend(live(conn, ctx, &missing, as_of)?);
    Ok(out)
}

/// p_late forecast on the request for each of `rows` (`None`: no forecast).
fn forecast_now(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    rows: &[&Assessment],
    as_of: NaiveDate,
) -> AppResult<HashMap<String, Option<f64>>> {
    let found = forecast::for_rows(conn, ctx, rows, as_of)?;
    Ok(rows
        .iter()
        .map(|a| (a.id.clone(), found.get(&a.id).map(|f| f.p_late)))
        .collect())
}

/// The stamps that hold on `as_of` of the rows with these ids and versions.
fn stamps_for(conn: &mut DbConn, keys: &[(&str, i32)], as_of: NaiveDate) -> AppResult<HashMap<String, Option<f64>>> {
    let Some((model, _)) = forecast::in_force_with_id(conn, as_of)? else {
        return Ok(HashMap::new());
    };
    let version: HashMap<&str, i32> = keys.iter().copied().collect();
    let ids: Vec<&str> = version.keys().copied().collect();
    let mut held = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(900) {
        let stored: Vec<(String, i32, Option<f64>)> = forecast_stamps::table
            .filter(forecast_stamps::assessment_id.eq_any(chunk))
            .filter(forecast_stamps::p_late_on.eq(as_of))
            .filter(forecast_stamps::p_late_model.eq(&model))
            .select((
                forecast_stamps::assessment_id,
                forecast_stamps::version,
                forecast_stamps::p_late,
            ))
            .load(conn)?;
        held.extend(
            stored
                .into_iter()
                .filter(|(id, v, _)| version.get(id.as_str()) == Some(v))
                .map(|(id, _, p)| (id, p)),
        );
    }
    Ok(held)
}

/// p_late forecast now for the rows of `ids` (none held a stamp).
pub fn live(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    ids: &[String],
    as_of: NaiveDate,
) -> AppResult<HashMap<String, Option<f64>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = super::rag_store::load_by_ids(conn, ids, |q| q)?;
    forecast_now(conn, ctx, &rows.iter().collect::<Vec<_>>(), as_of)
}
