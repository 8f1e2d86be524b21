//! The state and RAG each IHA on a past meeting's list had that day, stored
//! (`rag_snapshots`, migration `000100`): a past week's list, and the changes since the
//! last meeting, read them instead of replaying the events of every IHA that changed since.
//! About half of a week-old list has changed since; replaying them was most of its time.
//!
//! Rules:
//! - **One day, one basis, one version.** A snapshot gives the state and RAG on `on_day`,
//!   derived under `basis` (rules, clock settings, bank holidays: `rag_stamp::basis`) while
//!   the assessment was at `version`; anywhere else a list derives the row itself. A
//!   missing or stale snapshot costs time, never correctness.
//! - **Deleted by every event appended** (`db::history::append`): an event, a late one or
//!   a correction included, can change a past day without a new version of the row. A date
//!   of birth changed by an import deletes the child's too.
//! - **Made by housekeeping** for the meeting days (Mondays) of the last [`WEEKS`] weeks
//!   before today, for the rows of each day's list (the default window) that neither their
//!   RAG stamp (`rag_store`) nor a snapshot settles; older snapshots are deleted. Each batch
//!   reads and writes in one write transaction with its rows locked, so an event appended
//!   meanwhile either comes first (and is replayed) or deletes the snapshot after.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use super::assurance;
use super::rag_store::Stamper;
use super::views::parse_stored;
use super::DomainCtx;
use crate::db::schema::{assessments, rag_snapshots};
use crate::db::DbConn;
use crate::error::AppResult;
use crate::status::Rag;
use crate::workflow::State;

/// Meeting days kept: this week's (once past) and the seven before it.
pub const WEEKS: i64 = 8;

/// Rows derived and written per transaction: short enough not to hold up requests.
const BATCH: usize = 250;

/// Snapshots of one day by assessment id: the version each was made at, state and RAG.
pub type Snapshots = HashMap<String, (i32, State, Rag)>;

/// The snapshots of `day` made under the stamper's basis. None for today or later: the
/// RAG stamps settle those.
pub fn on_day(conn: &mut DbConn, stamper: &Stamper<'_>, day: NaiveDate) -> AppResult<Snapshots> {
    if day >= stamper.today {
        return Ok(HashMap::new());
    }
    rag_snapshots::table
        .filter(rag_snapshots::on_day.eq(day))
        .filter(rag_snapshots::basis.eq(&stamper.basis))
        .select((
            rag_snapshots::assessment_id,
            rag_snapshots::version,
            rag_snapshots::state,
            rag_snapshots::rag,
        ))
        .load::<(String, i32, String, String)>(conn)?
        .into_iter()
        .map(|(id, version, state, rag)| {
            Ok((
                id,
                (version, parse_stored("state", &state)?, parse_stored("rag", &rag)?),
            ))
        })
        .collect()
}

/// Forgets the snapshots of a child's assessments.
pub fn clear_child(conn: &mut DbConn, child_id: &str) -> QueryResult<usize> {
    diesel::delete(
        rag_snapshots::table.filter(
            rag_snapshots::assessment_id.eq_any(
                assessments::table
                    .filter(assessments::child_id.eq(child_id))
                    .select(assessments::id),
            ),
        ),
    )
    .execute(conn)
}

/// The meeting days snapshots are kept for: the Mondays of the last [`WEEKS`] weeks before
/// `today`, latest first.
pub fn meeting_days(today: NaiveDate) -> Vec<NaiveDate> {
    let this_week = assurance::monday_of(today);
    (0..WEEKS)
        .map(|w| this_week - chrono::Duration::weeks(w))
        .filter(|day| *day < today)
        .collect()
}

/// Snapshots every row of the meeting days' lists (`window_weeks` of newly looked-after
/// children) that nothing stored settles, and deletes snapshots of older days. Returns
/// how many were made.
pub fn refresh(conn: &mut DbConn, ctx: &DomainCtx, window_weeks: u32) -> AppResult<usize> {
    let stamper = Stamper::for_ctx(ctx);
    let days = meeting_days(ctx.today);
    let mut made = 0;
    for day in &days {
        let window_from = *day - chrono::Duration::weeks(i64::from(window_weeks));
        let ids = crate::db::read_transaction(conn, |conn| {
            assurance::unsettled(conn, ctx, &stamper, *day, window_from)
        })?;
        for batch in ids.chunks(BATCH) {
            made += crate::db::write_transaction(conn, |conn| snapshot(conn, &stamper, *day, batch))?;
        }
    }
    if let Some(oldest) = days.last() {
        crate::db::write_transaction(conn, |conn| {
            diesel::delete(rag_snapshots::table.filter(rag_snapshots::on_day.lt(*oldest))).execute(conn)
        })?;
    }
    Ok(made)
}

/// Derives and stores the snapshots of `ids` on `day`, their rows locked first on
/// PostgreSQL (SQLite's write transaction already excludes every other writer).
fn snapshot(conn: &mut DbConn, stamper: &Stamper<'_>, day: NaiveDate, ids: &[String]) -> AppResult<usize> {
    if let DbConn::Postgres(pg) = conn {
        assessments::table
            .filter(assessments::id.eq_any(ids))
            .select(assessments::id)
            .for_update()
            .load::<String>(pg)?;
    }
    let derived = assurance::derive(conn, stamper, ids, day)?;
    diesel::delete(
        rag_snapshots::table
            .filter(rag_snapshots::on_day.eq(day))
            .filter(rag_snapshots::assessment_id.eq_any(ids)),
    )
    .execute(conn)?;
    let rows: Vec<NewSnapshot<'_>> = derived
        .iter()
        .map(|(a, state, rag)| NewSnapshot {
            assessment_id: &a.id,
            on_day: day,
            version: a.version,
            basis: &stamper.basis,
            state: state.as_str(),
            rag: rag.as_str(),
        })
        .collect();
    // Six values a row.
    Ok(crate::db::insert_batches!(conn, rag_snapshots::table, rows, 150))
}

#[derive(Insertable)]
#[diesel(table_name = rag_snapshots)]
struct NewSnapshot<'a> {
    assessment_id: &'a str,
    on_day: NaiveDate,
    version: i32,
    basis: &'a str,
    state: &'a str,
    rag: &'a str,
}
