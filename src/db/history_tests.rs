//! Migration 000010 on a database written before the event store: every row becomes
//! history without loss, the rows say what replaying the whole history says, and past
//! days replay the way DOMAIN.md's history rules say.

use std::sync::Arc;

use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

use super::*;
use crate::db::{connect, run_migrations, DatabaseUrl, DbConn, MIGRATIONS};
use crate::service::views::row_facts;
use crate::service::{calendar_store, history_store, DomainCtx, Scope};
use crate::status::{Blocker, ClockPolicy, Rag};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
}

/// A database the test owns: a SQLite file, or a PostgreSQL database made for it (from
/// `CLA_TEST_POSTGRES_URL`) and dropped afterwards.
enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin: String, name: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin, name } = self {
            if let Ok(mut c) = diesel::PgConnection::establish(admin) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

fn open(postgres: bool) -> Option<(TestDb, DbConn)> {
    if !postgres {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("history.db").display().to_string();
        let conn = connect(&DatabaseUrl::Sqlite(path)).expect("open sqlite");
        return Some((TestDb::Sqlite(dir), conn));
    }
    let admin = match std::env::var("CLA_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("CI must set CLA_TEST_POSTGRES_URL"),
        _ => return None,
    };
    let name = format!("cla_history_{}", uuid::Uuid::new_v4().simple());
    let mut c = diesel::PgConnection::establish(&admin).expect("PostgreSQL");
    c.batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .expect("create database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
    let conn = connect(&DatabaseUrl::Postgres(format!("{base}/{name}"))).expect("open postgres");
    Some((TestDb::Postgres { admin, name }, conn))
}

/// Applies the migrations before the event store, one at a time.
fn migrate_before_events(conn: &mut DbConn) {
    migrate_before(conn, "20261202000010");
}

/// Applies the migrations older than `first` (a version: the directory name's digits).
fn migrate_before(conn: &mut DbConn, first: &str) {
    fn upto<C, B>(c: &mut C, first: &str)
    where
        B: diesel::backend::Backend,
        C: MigrationHarness<B>,
        diesel_migrations::EmbeddedMigrations: diesel::migration::MigrationSource<B>,
    {
        loop {
            let pending = c.pending_migrations(MIGRATIONS).expect("pending migrations");
            let Some(next) = pending.first() else { return };
            // Versions are the directory names' digits: 2026-12-02-000010 is 20261202000010.
            let version: String = next
                .name()
                .version()
                .to_string()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            if version.as_str() >= first {
                return;
            }
            c.run_migration(next.as_ref()).expect("migration");
        }
    }
    match conn {
        DbConn::Sqlite(c) => upto(c, first),
        DbConn::Postgres(c) => upto(c, first),
    }
}

/// Rows as the service wrote them before the event store (DOMAIN.md's worked cases):
///
/// - `a-late`: notified and consented on time, booked on 9 Feb for 20 Feb, not brought,
///   rebooked on 24 Feb for 10 Mar; out of area from 5 Feb (request sent 6 Feb,
///   acknowledged 10 Feb) until 20 Feb.
/// - `a-refused`: refused on 10 Feb, offered again on 16 Feb.
/// - `a-cancelled`: booked on 9 Feb for 20 Feb, cancelled by the carer on 12 Feb (older
///   rows dated the cancellation by the appointment).
const OLD_ROWS: &str = "
INSERT INTO children (id, local_id, responsible_la, given_name, family_name, date_of_birth, sex)
    VALUES ('child-1', 'L1', '933', 'Ann', 'Smith', '2012-06-01', 'F');
INSERT INTO periods (id, child_id, started_on, legal_status) VALUES ('p-1', 'child-1', '2026-02-02', 'C2');
INSERT INTO placements (id, period_id, started_on, placement_type, out_of_area, host_la)
    VALUES ('pl-1', 'p-1', '2026-02-05', 'U1', 1, '201');
INSERT INTO assessments (id, child_id, period_id, kind, state, clock_started_on, due_on, notified_on,
    consent_on, first_booked_on, appointment_on, non_attendance_count, last_non_attendance_on,
    last_non_attendance_outcome, responsible_la)
    VALUES ('a-late', 'child-1', 'p-1', 'IHA', 'booked', '2026-02-02', '2026-03-02', '2026-02-03',
    '2026-02-06', '2026-02-09', '2026-03-10', 1, '2026-02-20', 'was_not_brought', '933');
INSERT INTO consents (id, assessment_id, basis, given_by, given_on, scope)
    VALUES ('c-late', 'a-late', 'local_authority', 'SW', '2026-02-06', 'assessment');
INSERT INTO appointments (id, assessment_id, starts_at, clinician, location, booked_on, outcome,
    outcome_recorded_on, created_at)
    VALUES ('ap-1', 'a-late', '2026-02-20 10:00:00', 'Dr A', 'Clinic', '2026-02-09', 'was_not_brought',
    '2026-02-23', '2026-02-09 09:00:00');
INSERT INTO appointments (id, assessment_id, starts_at, clinician, location, booked_on, created_at)
    VALUES ('ap-2', 'a-late', '2026-03-10 10:00:00', 'Dr A', 'Clinic', '2026-02-24', '2026-02-24 09:00:00');
INSERT INTO out_of_area_requests (id, assessment_id, placement_id, host_la, opened_on, requested_on,
    acknowledged_on, closed_on)
    VALUES ('r-1', 'a-late', 'pl-1', '201', '2026-02-05', '2026-02-06', '2026-02-10', '2026-02-20');

INSERT INTO children (id, local_id, responsible_la, given_name, family_name, date_of_birth, sex)
    VALUES ('child-2', 'L2', '933', 'Bea', 'Jones', '2010-03-01', 'F');
INSERT INTO periods (id, child_id, started_on, legal_status) VALUES ('p-2', 'child-2', '2026-02-02', 'C2');
INSERT INTO assessments (id, child_id, period_id, kind, state, clock_started_on, due_on, notified_on,
    responsible_la)
    VALUES ('a-refused', 'child-2', 'p-2', 'IHA', 'awaiting_booking', '2026-02-02', '2026-03-02',
    '2026-02-03', '933');
INSERT INTO consents (id, assessment_id, basis, given_by, refused_on, scope, reoffer_plan)
    VALUES ('c-refused', 'a-refused', 'young_person', 'Bea', '2026-02-10', 'assessment', 'ask again');
INSERT INTO assessment_events (id, assessment_id, step, from_state, to_state, occurred_on)
    VALUES ('t-1', 'a-refused', 'reoffer', 'refused', 'awaiting_booking', '2026-02-16');

INSERT INTO children (id, local_id, responsible_la, given_name, family_name, date_of_birth, sex)
    VALUES ('child-3', 'L3', '933', 'Cai', 'Evans', '2014-09-01', 'M');
INSERT INTO periods (id, child_id, started_on, legal_status) VALUES ('p-3', 'child-3', '2026-02-02', 'C2');
INSERT INTO assessments (id, child_id, period_id, kind, state, clock_started_on, due_on, notified_on,
    consent_on, first_booked_on, non_attendance_count, last_non_attendance_on,
    last_non_attendance_outcome, responsible_la)
    VALUES ('a-cancelled', 'child-3', 'p-3', 'IHA', 'awaiting_booking', '2026-02-02', '2026-03-02',
    '2026-02-03', '2026-02-06', '2026-02-09', 1, '2026-02-20', 'cancelled_by_carer', '933');
INSERT INTO appointments (id, assessment_id, starts_at, clinician, location, booked_on, outcome,
    outcome_recorded_on)
    VALUES ('ap-3', 'a-cancelled', '2026-02-20 10:00:00', 'Dr A', 'Clinic', '2026-02-09',
    'cancelled_by_carer', '2026-02-12');
";

fn ctx(conn: &mut DbConn) -> DomainCtx {
    DomainCtx {
        calendar: Arc::new(calendar_store::load(conn).expect("calendar")),
        clock: ClockPolicy::default(),
        rha: Default::default(),
        today: d(2026, 3, 20),
        actor: crate::audit::Actor::system("test"),
        scope: Scope::Everything,
    }
}

fn the_migration_turns_older_rows_into_history_without_loss(postgres: bool) {
    let Some((_db, mut conn)) = open(postgres) else {
        eprintln!("skipped: CLA_TEST_POSTGRES_URL is not set");
        return;
    };
    migrate_before_events(&mut conn);
    conn.batch_execute(OLD_ROWS)
        .expect("rows written before the event store");
    run_migrations(&mut conn).expect("migrate");
    let ctx = ctx(&mut conn);

    let rows: Vec<models::Assessment> = assessments::table
        .order(assessments::id)
        .select(models::Assessment::as_select())
        .load(&mut conn)
        .expect("assessments");
    let ids: Vec<&str> = rows.iter().map(|a| a.id.as_str()).collect();
    let events = load_for(&mut conn, &ids).expect("events");
    for a in &rows {
        let mine = events.get(&a.id).expect("every assessment has a history");
        assert_eq!(a.history_through, history::through(mine), "{}", a.id);
        // From the history's last day on, the row and a replay of everything agree.
        let open = out_of_area_requests::table
            .filter(out_of_area_requests::assessment_id.eq(&a.id))
            .filter(out_of_area_requests::closed_on.is_null())
            .select(models::OutOfAreaRequest::as_select())
            .first(&mut conn)
            .optional()
            .expect("request");
        let replayed = history_store::replayed(a, mine, ctx.today).expect("replay").facts;
        assert_eq!(replayed, row_facts(a, open.as_ref()).expect("row"), "{}", a.id);
    }
    let kinds = |id: &str| -> Vec<&'static str> { events[id].iter().map(|e| e.change.name()).collect() };
    assert_eq!(
        kinds("a-late"),
        [
            "opened",
            "notified",
            "request_opened",
            "consent_given",
            "request_sent",
            "booked",
            "request_acknowledged",
            "outcome",
            "request_closed",
            "booked"
        ]
    );
    assert!(events["a-late"]
        .iter()
        .all(|e| e.recorded_by.as_deref() == Some(BACKFILLED_BY)));

    let on = |conn: &mut DbConn, id: &str, day: NaiveDate| {
        crate::service::assessments::get(conn, &ctx, id, day).expect("view")
    };
    // A later rebooking never turns earlier days red; between the non-attendance and the
    // rebooking it waits on booking; while out of area the host is the blocker.
    let before = on(&mut conn, "a-late", d(2026, 2, 19));
    assert_eq!((before.rag, before.blocker), (Rag::Green, Blocker::HostProvider));
    assert_eq!(before.appointment_on, Some(d(2026, 2, 20)));
    let between = on(&mut conn, "a-late", d(2026, 2, 23));
    assert_eq!(between.state, crate::workflow::State::AwaitingBooking);
    assert_eq!(on(&mut conn, "a-late", d(2026, 2, 24)).rag, Rag::Red);
    // The refusal stays visible on the days before the re-offer.
    assert_eq!(on(&mut conn, "a-refused", d(2026, 2, 12)).blocker, Blocker::Refused);
    assert_eq!(
        on(&mut conn, "a-refused", d(2026, 2, 16)).state,
        crate::workflow::State::AwaitingBooking
    );
    // The cancellation is dated the day it was made, in the history and on the row.
    let cancelled = on(&mut conn, "a-cancelled", d(2026, 2, 13));
    assert_eq!(cancelled.state, crate::workflow::State::AwaitingBooking);
    let row_date: Option<NaiveDate> = assessments::table
        .find("a-cancelled")
        .select(assessments::last_non_attendance_on)
        .first(&mut conn)
        .expect("row");
    assert_eq!(row_date, Some(d(2026, 2, 12)));

    // Running it again adds nothing.
    let count = |conn: &mut DbConn| -> i64 { history_events::table.count().get_result(conn).expect("count") };
    let before_again = count(&mut conn);
    run_migrations(&mut conn).expect("migrate again");
    assert_eq!(count(&mut conn), before_again);
}

#[test]
fn the_migration_turns_older_rows_into_history_without_loss_on_sqlite() {
    the_migration_turns_older_rows_into_history_without_loss(false);
}

#[test]
fn the_migration_turns_older_rows_into_history_without_loss_on_postgres() {
    the_migration_turns_older_rows_into_history_without_loss(true);
}

/// Migration 000075: the flag the host provider's queue reads is set on the rows with an
/// open out-of-area request, and only on those.
fn the_open_request_flag_is_set_from_the_open_requests(postgres: bool) {
    let Some((_db, mut conn)) = open(postgres) else {
        eprintln!("skipped: CLA_TEST_POSTGRES_URL is not set");
        return;
    };
    migrate_before(&mut conn, "20261203000075");
    conn.batch_execute(OLD_ROWS).expect("rows written before the flag");
    conn.batch_execute(
        "INSERT INTO placements (id, period_id, started_on, placement_type, out_of_area, host_la)
             VALUES ('pl-2', 'p-2', '2026-02-12', 'U1', 1, '201');
         INSERT INTO out_of_area_requests (id, assessment_id, placement_id, host_la, opened_on)
             VALUES ('r-2', 'a-refused', 'pl-2', '201', '2026-02-12');",
    )
    .expect("an open request");
    run_migrations(&mut conn).expect("migrate");
    let flagged: Vec<String> = assessments::table
        .filter(assessments::open_request.eq(true))
        .select(assessments::id)
        .load(&mut conn)
        .expect("flags");
    assert_eq!(flagged, ["a-refused"], "a-late's request closed on 20 Feb");
}

#[test]
fn the_open_request_flag_is_set_from_the_open_requests_on_sqlite() {
    the_open_request_flag_is_set_from_the_open_requests(false);
}

#[test]
fn the_open_request_flag_is_set_from_the_open_requests_on_postgres() {
    the_open_request_flag_is_set_from_the_open_requests(true);
}
