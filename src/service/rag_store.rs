//! Keeping the stored RAG stamps (`rag_stamp`) of assessments current, and the SQL that
//! tells a list which rows it may trust.
//!
//! Every write to an assessment clears its stamp (`clear`); `refresh` stamps rows again,
//! run by housekeeping every interval and after a calendar import. Until then a list
//! derives the unstamped rows itself, so a missing or stale stamp costs time, never
//! correctness.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::views::{parse_stored, row_facts};
use super::DomainCtx;
use crate::calendar::Calendar;
use crate::db::models::Assessment;
use crate::db::schema::assessments;
use crate::db::{DbBackend, DbConn};
use crate::error::AppResult;
use crate::rag_stamp::{self, RagStamp};
use crate::status::{self, ClockPolicy, Rag};
use crate::workflow::State;

/// Rows stamped per transaction: small enough not to hold up requests for long.
const BATCH: i64 = 2_000;

/// Forgets the stamp: the row's facts are about to change.
pub fn clear(a: &mut Assessment) {
    a.rag = Rag::Green.as_str().to_string();
    a.rag_basis.clear();
    a.rag_from = None;
    a.rag_until = None;
}

/// What stamps are made and read under.
#[derive(Debug, Clone)]
pub struct Stamper<'a> {
    pub calendar: &'a Calendar,
    pub clock: ClockPolicy,
    pub basis: String,
    pub today: NaiveDate,
}

impl<'a> Stamper<'a> {
    pub fn new(calendar: &'a Calendar, clock: ClockPolicy, today: NaiveDate) -> Stamper<'a> {
        Stamper {
            basis: rag_stamp::basis(&clock, calendar),
            calendar,
            clock,
            today,
        }
    }

    pub fn for_ctx(ctx: &'a DomainCtx) -> Stamper<'a> {
        Stamper::new(&ctx.calendar, ctx.clock, ctx.today)
    }

    pub fn stamp(&self, a: &Assessment) -> AppResult<RagStamp> {
        let facts = row_facts(a, None)?;
        Ok(rag_stamp::stamp(&facts, self.calendar, &self.clock, self.today))
    }

    /// Stamps a row in memory (bulk loads, which write it afterwards).
    pub fn apply(&self, a: &mut Assessment) -> AppResult<()> {
        let s = self.stamp(a)?;
        a.rag = s.rag.as_str().to_string();
        a.rag_basis.clone_from(&self.basis);
        a.rag_from = Some(s.from);
        a.rag_until = s.until;
        Ok(())
    }
}

/// The state and RAG of a row on `as_of`: stored when its stamp holds, else derived.
pub fn state_and_rag(a: &Assessment, stamper: &Stamper<'_>, as_of: NaiveDate) -> AppResult<(State, Rag)> {
    let stamp_holds = a.rag_basis == stamper.basis
        && a.rag_from.is_some_and(|from| from <= as_of)
        && a.rag_until.is_none_or(|until| as_of <= until);
    if stamp_holds {
        return Ok((parse_stored("state", &a.state)?, parse_stored("rag", &a.rag)?));
    }
    let s = status::standing(&row_facts(a, None)?, stamper.calendar, as_of, &stamper.clock);
    Ok((s.state, s.rag))
}

type Predicate<'q> = Box<
    dyn BoxableExpression<assessments::table, DbBackend, SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>>
        + 'q,
>;

/// Rows whose stamp holds on `as_of`: their stored state and RAG are the derived ones.
pub fn trusted<'q>(basis: &'q str, as_of: NaiveDate) -> Predicate<'q> {
    Box::new(
        assessments::rag_basis
            .eq(basis)
            .nullable()
            .and(assessments::rag_from.le(as_of))
            .and(
                assessments::rag_until
                    .is_null()
                    .or(assessments::rag_until.ge(as_of))
                    .nullable(),
            ),
    )
}

/// Exactly the rows `trusted` leaves out (the stamp's CHECK constraint guarantees
/// `rag_from` is set whenever a basis is). Written as ranges so each part can use its index.
pub fn untrusted<'q>(basis: &'q str, as_of: NaiveDate) -> Predicate<'q> {
    Box::new(
        assessments::rag_basis
            .lt(basis)
            .or(assessments::rag_basis.gt(basis))
            .nullable()
            .or(assessments::rag_from.gt(as_of))
            .or(assessments::rag_until.lt(as_of)),
    )
}

/// Stamps every row whose stamp is missing, made under another basis, or ran out before
/// today. Returns how many rows were stamped. `progress` hears the running total.
pub fn refresh(conn: &mut DbConn, stamper: &Stamper<'_>, mut progress: impl FnMut(usize)) -> AppResult<usize> {
    let mut done = 0;
    loop {
        let stamped = crate::db::write_transaction(conn, |conn| refresh_batch(conn, stamper))?;
        if stamped == 0 {
            return Ok(done);
        }
        done += stamped;
        progress(done);
    }
}

fn refresh_batch(conn: &mut DbConn, stamper: &Stamper<'_>) -> AppResult<usize> {
    let b = stamper.basis.as_str();
    let stale = assessments::rag_basis
        .lt(b)
        .or(assessments::rag_basis.gt(b))
        .nullable()
        .or(assessments::rag_until.lt(stamper.today));
    let rows: Vec<Assessment> = assessments::table
        .filter(stale)
        .select(Assessment::as_select())
        .limit(BATCH)
        .load(conn)?;
    let mut stamped = 0;
    for a in &rows {
        let s = match stamper.stamp(a) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(assessment = %a.id, error = %e, "cannot stamp the RAG of an assessment");
                continue;
            }
        };
        // A step taken since the row was read has cleared the stamp: leave it cleared.
        stamped += diesel::update(
            assessments::table
                .filter(assessments::id.eq(&a.id))
                .filter(assessments::version.eq(a.version))
                .filter(assessments::due_on.eq(a.due_on)),
        )
        .set((
            assessments::rag.eq(s.rag.as_str()),
            assessments::rag_basis.eq(b),
            assessments::rag_from.eq(s.from),
            assessments::rag_until.eq(s.until),
        ))
        .execute(conn)?;
    }
    Ok(stamped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{connect, run_migrations, DatabaseUrl};
    use crate::service::assessment_list::{self, AssessmentFilter};
    use crate::service::assurance::{self, AssuranceQuery};
    use crate::service::{calendar_store, Scope};
    use std::sync::Arc;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    /// A small invented county on SQLite, stamped as seed-demo leaves it.
    fn county() -> (tempfile::TempDir, DbConn, DomainCtx) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("stamps.db").display().to_string();
        let mut conn = connect(&DatabaseUrl::Sqlite(path)).expect("open sqlite");
        run_migrations(&mut conn).expect("migrate");
        let ctx = DomainCtx {
            calendar: Arc::new(calendar_store::load(&mut conn).expect("calendar")),
            clock: ClockPolicy::default(),
            rha: Default::default(),
            today: d(2026, 11, 23),
            actor: crate::audit::Actor::system("test"),
            scope: Scope::Everything,
        };
        let opts = crate::seed::SeedOptions {
            children: 150,
            seed: 11,
            years: 2,
        };
        crate::seed::run(&mut conn, &ctx, &opts).expect("seed-demo");
        (dir, conn, ctx)
    }

    fn filter(
        kind: Option<&str>,
        state: Option<&str>,
        rag: Option<&str>,
        as_of: NaiveDate,
        offset: i64,
    ) -> AssessmentFilter {
        AssessmentFilter {
            kind: kind.map(str::to_string),
            state: state.map(str::to_string),
            rag: rag.map(str::to_string),
            due_before: None,
            out_of_area: None,
            child_id: None,
            as_of: Some(as_of),
            limit: Some(37),
            offset: Some(offset),
        }
    }

    /// Every page of every list asked for, as JSON, so two runs can be compared whole.
    fn lists(conn: &mut DbConn, ctx: &DomainCtx) -> Vec<serde_json::Value> {
        let days = [
            d(2026, 11, 23),
            d(2026, 11, 16),
            d(2026, 9, 30),
            d(2025, 12, 24),
            d(2026, 12, 7),
        ];
        let filters = [
            (None, None, None),
            (None, None, Some("red")),
            (None, None, Some("amber")),
            (Some("IHA"), None, Some("green")),
            (Some("RHA"), Some("scheduled"), None),
            (Some("IHA"), Some("booked"), Some("red")),
        ];
        let mut out = Vec::new();
        for as_of in days {
            for (kind, state, rag) in filters {
                let mut offset = 0;
                loop {
                    let page = assessment_list::list(conn, ctx, filter(kind, state, rag, as_of, offset)).expect("list");
                    out.push(serde_json::to_value(&page).expect("json"));
                    offset += 37;
                    if offset as usize >= page.total {
                        break;
                    }
                }
            }
            let query = AssuranceQuery {
                as_of: Some(as_of),
                ..AssuranceQuery::default()
            };
            out.push(serde_json::to_value(assurance::iha_list(conn, ctx, query, 6).expect("assurance")).expect("json"));
        }
        out
    }

    fn unstamp(conn: &mut DbConn, which: &str) {
        diesel::sql_query(format!(
            "UPDATE assessments SET rag_basis = '', rag_from = NULL, rag_until = NULL WHERE {which}"
        ))
        .execute(conn)
        .expect("unstamp");
    }

    #[test]
    fn lists_are_the_same_whether_rags_are_stored_or_derived() {
        let (_dir, mut conn, ctx) = county();
        let stamped = lists(&mut conn, &ctx);
        assert!(
            stamped.iter().any(|l| l["total"].as_u64().unwrap_or(0) > 37),
            "some lists run to several pages"
        );

        unstamp(&mut conn, "substr(id, 36, 1) < '8'");
        assert_eq!(lists(&mut conn, &ctx), stamped, "half stamped, half derived");

        unstamp(&mut conn, "1 = 1");
        assert_eq!(lists(&mut conn, &ctx), stamped, "all derived");

        let stamper = Stamper::for_ctx(&ctx);
        let n = refresh(&mut conn, &stamper, |_| {}).expect("refresh");
        assert!(n > 1000, "every row stamped again ({n})");
        assert_eq!(lists(&mut conn, &ctx), stamped, "stamped again by housekeeping");
        assert_eq!(
            refresh(&mut conn, &stamper, |_| {}).expect("refresh"),
            0,
            "nothing left to stamp"
        );
    }

    #[test]
    fn a_stamp_from_another_basis_is_not_trusted_and_refresh_replaces_it() {
        let (_dir, mut conn, ctx) = county();
        let before = lists(&mut conn, &ctx);
        diesel::sql_query("UPDATE assessments SET rag_basis = 'status-rules-0/older', rag = 'red'")
            .execute(&mut conn)
            .expect("corrupt");
        assert_eq!(lists(&mut conn, &ctx), before, "stamps under another basis are ignored");
        let stamper = Stamper::for_ctx(&ctx);
        assert!(refresh(&mut conn, &stamper, |_| {}).expect("refresh") > 1000);
        let left: i64 = assessments::table
            .filter(assessments::rag_basis.ne(&stamper.basis))
            .count()
            .get_result(&mut conn)
            .expect("count");
        assert_eq!(left, 0);
    }

    #[test]
    fn a_step_clears_the_stamp_of_the_assessment_it_changes() {
        let (_dir, mut conn, ctx) = county();
        let open: Assessment = assessments::table
            .filter(assessments::state.eq("scheduled"))
            .select(Assessment::as_select())
            .first(&mut conn)
            .expect("a scheduled review");
        assert!(!open.rag_basis.is_empty(), "seeded rows are stamped");
        let input = crate::service::assessments::CloseInput {
            closed_on: ctx.today,
            reason: "moved abroad".into(),
            version: None,
        };
        crate::service::assessments::close(&mut conn, &ctx, &open.id, input).expect("close");
        let after = crate::service::assessments::load(&mut conn, &open.id).expect("load");
        assert_eq!((after.rag_basis.as_str(), after.rag_from), ("", None));
    }
}
