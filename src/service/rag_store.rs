//! Keeping the stored RAG stamps (`rag_stamp`) of assessments current, and the SQL that
//! tells a list which rows it may trust.
//!
//! Every write to an assessment clears its stamp (`clear`); `refresh` stamps rows again,
//! run by housekeeping every interval and after a calendar import. Until then a list
//! derives the unstamped rows itself, so a missing or stale stamp costs time, never
//! correctness.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::history_store;
use super::views::{parse_stored, row_facts};
use super::DomainCtx;
use crate::calendar::Calendar;
use crate::db::models::Assessment;
use crate::db::schema::assessments;
use crate::db::{no_index, DbBackend, DbConn};
use crate::error::AppResult;
use crate::history::Event;
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
        Ok(rag_stamp::stamp_after(
            &facts,
            a.history_through,
            self.calendar,
            &self.clock,
            self.today,
        ))
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

/// A row's stored stamp, as far as deciding whether it holds needs it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = assessments)]
pub struct StoredStamp {
    pub state: String,
    pub rag: String,
    pub rag_basis: String,
    pub rag_from: Option<NaiveDate>,
    pub rag_until: Option<NaiveDate>,
}

impl StoredStamp {
    /// The stored state and RAG, if the stamp holds on `as_of`.
    pub fn on(&self, stamper: &Stamper<'_>, as_of: NaiveDate) -> AppResult<Option<(State, Rag)>> {
        let Some(from) = self.rag_from.filter(|_| self.rag_basis == stamper.basis) else {
            return Ok(None);
        };
        let stamp = RagStamp {
            rag: parse_stored("rag", &self.rag)?,
            from,
            until: self.rag_until,
        };
        if !stamp.covers(as_of) {
            return Ok(None);
        }
        Ok(Some((parse_stored("state", &self.state)?, stamp.rag)))
    }
}

/// The state and RAG of a row on `as_of`: stored when its stamp holds, else derived (from
/// its events when `as_of` is before its history's last day: give them, from
/// `history_store::events_for`).
pub fn state_and_rag(
    a: &Assessment,
    events: Option<&[Event]>,
    stamper: &Stamper<'_>,
    as_of: NaiveDate,
) -> AppResult<(State, Rag)> {
    let stored = StoredStamp {
        state: a.state.clone(),
        rag: a.rag.clone(),
        rag_basis: a.rag_basis.clone(),
        rag_from: a.rag_from,
        rag_until: a.rag_until,
    };
    if let Some(known) = stored.on(stamper, as_of)? {
        return Ok(known);
    }
    if history_store::needs_replay(a, as_of) && events.is_none() {
        return Err(crate::error::AppError::Internal(
            "a past view of an assessment was derived without its history".into(),
        ));
    }
    let facts = history_store::facts_on(a, None, events, as_of)?;
    let s = status::standing(&facts, stamper.calendar, as_of, &stamper.clock);
    Ok((s.state, s.rag))
}

type Predicate<'q> = Box<
    dyn BoxableExpression<assessments::table, DbBackend, SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>>
        + 'q,
>;

/// Rows whose stamp holds on `as_of`: their stored state and RAG are the derived ones.
/// `clock_started_on <= as_of` follows (a stamp starts on or after the clock start).
/// Nearly every row has the basis, so on SQLite it must not pick the index (`no_index`).
pub fn trusted<'q>(basis: &'q str, as_of: NaiveDate, steer: bool) -> Predicate<'q> {
    let window = assessments::rag_from.le(as_of).and(
        assessments::rag_until
            .is_null()
            .or(assessments::rag_until.ge(as_of))
            .nullable(),
    );
    if steer {
        Box::new(no_index(assessments::rag_basis).eq(basis).nullable().and(window))
    } else {
        Box::new(assessments::rag_basis.eq(basis).nullable().and(window))
    }
}

/// The ids of the rows `trusted` leaves out that may be on a list of `as_of`: made under
/// another basis (or never), ran out before `as_of`, or starting after it (facts dated
/// later) on a clock already running. Rows stamped from after `as_of` whose clock had not
/// started are on no list of that day and are left out ([`not_started`] counts them), so
/// a view of a day long past derives nothing it does not show. Each part is its own query
/// on its own index; the parts are disjoint (the stamp's CHECK constraint keeps
/// `rag_from` set whenever a basis is).
pub fn untrusted_ids(conn: &mut DbConn, basis: &str, as_of: NaiveDate) -> AppResult<Vec<String>> {
    let mut ids = stale_ids(conn, basis, as_of, i64::MAX)?;
    ids.extend(
        assessments::table
            .filter(assessments::rag_basis.eq(basis))
            .filter(assessments::rag_from.gt(as_of))
            .filter(assessments::clock_started_on.le(as_of))
            .select(assessments::id)
            .load::<String>(conn)?,
    );
    Ok(ids)
}

/// Stamped rows whose clock starts after `as_of`, which [`untrusted_ids`] leaves out: on
/// no list of that day. A stamp starts on or after the clock start, so they are all among
/// the rows stamped from after `as_of` (the stamp index finds them).
pub fn not_started<'q>(basis: &'q str, as_of: NaiveDate) -> Predicate<'q> {
    Box::new(
        assessments::rag_basis
            .eq(basis)
            .and(assessments::rag_from.gt(as_of))
            .and(assessments::clock_started_on.gt(as_of))
            .nullable(),
    )
}

/// Up to `limit` ids of rows a stamp made on `today` would improve: another basis, or
/// a window that ran out before today.
fn stale_ids(conn: &mut DbConn, basis: &str, today: NaiveDate, limit: i64) -> AppResult<Vec<String>> {
    let mut ids: Vec<String> = assessments::table
        .filter(assessments::rag_basis.lt(basis))
        .select(assessments::id)
        .limit(limit)
        .load(conn)?;
    for part in [
        assessments::table.filter(assessments::rag_basis.gt(basis)).into_boxed(),
        assessments::table
            .filter(assessments::rag_basis.eq(basis))
            .filter(assessments::rag_until.lt(today))
            .into_boxed(),
    ] {
        let room = limit.saturating_sub(ids.len() as i64);
        if room == 0 {
            break;
        }
        ids.extend(part.select(assessments::id).limit(room).load::<String>(conn)?);
    }
    Ok(ids)
}

/// Rows by id, in chunks that keep within every backend's limit on bound parameters.
pub fn load_by_ids<'a>(
    conn: &mut DbConn,
    ids: &'a [String],
    narrow: impl Fn(assessments::BoxedQuery<'a, DbBackend>) -> assessments::BoxedQuery<'a, DbBackend>,
) -> AppResult<Vec<Assessment>> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(900) {
        let q = assessments::table.filter(assessments::id.eq_any(chunk)).into_boxed();
        rows.extend(narrow(q).select(Assessment::as_select()).load(conn)?);
    }
    Ok(rows)
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
    let ids = stale_ids(conn, &stamper.basis, stamper.today, BATCH)?;
    let mut stamps = Vec::with_capacity(ids.len());
    for a in load_by_ids(conn, &ids, |q| q)? {
        match stamper.stamp(&a) {
            Ok(s) => stamps.push((a, s)),
            Err(e) => tracing::warn!(assessment = %a.id, error = %e, "cannot store the RAG of an assessment"),
        }
    }
    write_stamps(conn, &stamper.basis, &stamps)
}

/// Writes the stamps of rows as read. A row changed since it was read (another version,
/// another due date, another history) keeps its cleared stamp: it is stamped on the next pass.
fn write_stamps(conn: &mut DbConn, basis: &str, stamps: &[(Assessment, RagStamp)]) -> AppResult<usize> {
    use diesel::sql_types::{Array, Date, Integer, Nullable, Text};
    match conn {
        // One statement for the batch: row by row, the round trips would take minutes
        // for a county.
        DbConn::Postgres(pg) => {
            let column = |f: fn(&(Assessment, RagStamp)) -> String| stamps.iter().map(f).collect::<Vec<String>>();
            let updated = diesel::sql_query(
                "UPDATE assessments AS a SET rag = v.rag, rag_basis = $1, rag_from = v.rag_from, rag_until = v.rag_until \
                 FROM unnest($2::text[], $3::int[], $4::date[], $5::text[], $6::date[], $7::date[], $8::date[]) \
                 AS v(id, version, due_on, rag, rag_from, rag_until, through) \
                 WHERE a.id = v.id AND a.version = v.version AND a.due_on = v.due_on \
                 AND a.history_through IS NOT DISTINCT FROM v.through",
            )
            .bind::<Text, _>(basis)
            .bind::<Array<Text>, _>(column(|(a, _)| a.id.clone()))
            .bind::<Array<Integer>, _>(stamps.iter().map(|(a, _)| a.version).collect::<Vec<i32>>())
            .bind::<Array<Date>, _>(stamps.iter().map(|(a, _)| a.due_on).collect::<Vec<NaiveDate>>())
            .bind::<Array<Text>, _>(column(|(_, s)| s.rag.as_str().to_string()))
            .bind::<Array<Date>, _>(stamps.iter().map(|(_, s)| s.from).collect::<Vec<NaiveDate>>())
            .bind::<Array<Nullable<Date>>, _>(stamps.iter().map(|(_, s)| s.until).collect::<Vec<Option<NaiveDate>>>())
            .bind::<Array<Nullable<Date>>, _>(
                stamps
                    .iter()
                    .map(|(a, _)| a.history_through)
                    .collect::<Vec<Option<NaiveDate>>>(),
            )
            .execute(pg)?;
            Ok(updated)
        }
        DbConn::Sqlite(_) => {
            let mut updated = 0;
            for (a, s) in stamps {
                let values = (
                    assessments::rag.eq(s.rag.as_str()),
                    assessments::rag_basis.eq(basis),
                    assessments::rag_from.eq(s.from),
                    assessments::rag_until.eq(s.until),
                );
                let row = assessments::table
                    .filter(assessments::id.eq(&a.id))
                    .filter(assessments::version.eq(a.version))
                    .filter(assessments::due_on.eq(a.due_on));
                // An event recorded since the row was read moves history_through without
                // a new version: that row keeps its cleared stamp.
                updated += match a.history_through {
                    Some(t) => diesel::update(row.filter(assessments::history_through.eq(t)))
                        .set(values)
                        .execute(conn)?,
                    None => diesel::update(row.filter(assessments::history_through.is_null()))
                        .set(values)
                        .execute(conn)?,
                };
            }
            Ok(updated)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{connect, run_migrations, DatabaseUrl};
    use crate::service::assessment_list::{self, AssessmentFilter};
    use crate::service::assurance::{self, AssuranceQuery};
    use crate::service::{calendar_store, Scope};
    use diesel::Connection;
    use std::sync::Arc;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    /// A database the test owns: a SQLite file, or a PostgreSQL database made for it
    /// (from `CLA_TEST_POSTGRES_URL`) and dropped afterwards.
    enum TestDb {
        Sqlite(#[allow(dead_code)] tempfile::TempDir),
        Postgres { admin: String, name: String },
    }

    impl Drop for TestDb {
        fn drop(&mut self) {
            if let TestDb::Postgres { admin, name } = self {
                use diesel::connection::SimpleConnection;
                if let Ok(mut c) = diesel::PgConnection::establish(admin) {
                    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
                }
            }
        }
    }

    /// PostgreSQL runs when `CLA_TEST_POSTGRES_URL` is set, and must under CI.
    fn postgres_url() -> Option<String> {
        match std::env::var("CLA_TEST_POSTGRES_URL") {
            Ok(url) if !url.trim().is_empty() => Some(url),
            _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("CI must set CLA_TEST_POSTGRES_URL"),
            _ => None,
        }
    }

    fn open(postgres: bool) -> Option<(TestDb, DbConn)> {
        if !postgres {
            let dir = tempfile::tempdir().expect("temp dir");
            let path = dir.path().join("stamps.db").display().to_string();
            let conn = connect(&DatabaseUrl::Sqlite(path)).expect("open sqlite");
            return Some((TestDb::Sqlite(dir), conn));
        }
        use diesel::connection::SimpleConnection;
        let admin = postgres_url()?;
        let name = format!("cla_stamps_{}", uuid::Uuid::new_v4().simple());
        let mut c = diesel::PgConnection::establish(&admin).expect("PostgreSQL");
        c.batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
        let conn = connect(&DatabaseUrl::Postgres(format!("{base}/{name}"))).expect("open postgres");
        Some((TestDb::Postgres { admin, name }, conn))
    }

    /// A small invented county, stamped as seed-demo leaves it.
    fn county(postgres: bool) -> Option<(TestDb, DbConn, DomainCtx)> {
        let (db, mut conn) = open(postgres)?;
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
        Some((db, conn, ctx))
    }

    fn scoped(ctx: &DomainCtx, codes: &[&str]) -> DomainCtx {
        DomainCtx {
            scope: Scope::LocalAuthorities(Arc::new(codes.iter().map(|c| c.to_string()).collect())),
            ..ctx.clone()
        }
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
            // Before every clock: nothing is listed, whether stamped or derived.
            d(2000, 1, 1),
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
                // The first three pages and the last.
                let first = assessment_list::list(conn, ctx, filter(kind, state, rag, as_of, 0)).expect("list");
                let last = (first.total.max(1) as i64 - 1) / 37 * 37;
                out.push(serde_json::to_value(&first).expect("json"));
                for offset in [37, 74, last] {
                    let page = assessment_list::list(conn, ctx, filter(kind, state, rag, as_of, offset)).expect("list");
                    out.push(serde_json::to_value(&page).expect("json"));
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

    /// Every list as derived afresh, compared with every mix of stored and derived RAGs.
    fn lists_agree_whether_rags_are_stored_or_derived(postgres: bool) {
        let Some((_db, mut conn, ctx)) = county(postgres) else {
            return;
        };
        let one_la = scoped(&ctx, &[crate::seed::local_authorities().next().expect("an LA").0]);
        let stamped = (lists(&mut conn, &ctx), lists(&mut conn, &one_la));
        assert!(
            stamped.0.iter().any(|l| l["total"].as_u64().unwrap_or(0) > 37),
            "some lists run to several pages"
        );
        assert_ne!(stamped.0, stamped.1, "scope narrows the lists");

        unstamp(&mut conn, "substr(id, 36, 1) < '8'");
        assert_eq!(
            (lists(&mut conn, &ctx), lists(&mut conn, &one_la)),
            stamped,
            "half stamped, half derived"
        );

        unstamp(&mut conn, "1 = 1");
        assert_eq!(
            (lists(&mut conn, &ctx), lists(&mut conn, &one_la)),
            stamped,
            "all derived"
        );

        let stamper = Stamper::for_ctx(&ctx);
        let n = refresh(&mut conn, &stamper, |_| {}).expect("refresh");
        assert!(n > 1000, "every row stamped again ({n})");
        assert_eq!(
            (lists(&mut conn, &ctx), lists(&mut conn, &one_la)),
            stamped,
            "stamped again by housekeeping"
        );
        assert_eq!(
            refresh(&mut conn, &stamper, |_| {}).expect("refresh"),
            0,
            "nothing left to stamp"
        );
    }

    #[test]
    fn lists_agree_whether_rags_are_stored_or_derived_on_sqlite() {
        lists_agree_whether_rags_are_stored_or_derived(false);
    }

    #[test]
    fn lists_agree_whether_rags_are_stored_or_derived_on_postgres() {
        lists_agree_whether_rags_are_stored_or_derived(true);
    }

    #[test]
    fn a_stamp_from_another_basis_is_not_trusted_and_refresh_replaces_it() {
        let (_db, mut conn, ctx) = county(false).expect("sqlite");
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
        let (_db, mut conn, ctx) = county(false).expect("sqlite");
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
