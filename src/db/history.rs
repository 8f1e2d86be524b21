//! The stored history of assessments (`history_events`): appending an event, reading the
//! events of some assessments, and turning the rows of a database made before the event
//! store into events (`backfill`). The rules of replaying them are in `crate::history`.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Europe::London;
use diesel::prelude::*;

use super::models::{self, new_id, now_utc};
use super::schema::{
    appointments, assessment_events, assessments, consents, forecast_stamps, history_events, out_of_area_requests,
    rag_snapshots,
};
use super::DbConn;
use crate::history::{self, Change, Event, RequestStep};
use crate::workflow::{Kind, Outcome, State};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = history_events)]
pub struct EventRow {
    pub id: String,
    pub assessment_id: String,
    pub seq: i32,
    pub kind: String,
    pub effective_on: NaiveDate,
    pub recorded_at: NaiveDateTime,
    pub recorded_by: Option<String>,
    pub supersedes: Option<String>,
    pub subject_id: Option<String>,
    pub for_on: Option<NaiveDate>,
    pub code: Option<String>,
    pub detail: Option<String>,
}

/// Who recorded the events a migration made from older rows.
pub const BACKFILLED_BY: &str = "system:migration-2026-12-02-000010";

impl EventRow {
    pub fn new(assessment_id: &str, e: &Event) -> EventRow {
        let mut row = EventRow {
            id: e.id.clone(),
            assessment_id: assessment_id.to_string(),
            seq: e.seq,
            kind: e.change.name().to_string(),
            effective_on: e.effective_on,
            recorded_at: e.recorded_at,
            recorded_by: e.recorded_by.clone(),
            supersedes: e.supersedes.clone(),
            subject_id: None,
            for_on: None,
            code: None,
            detail: None,
        };
        match &e.change {
            Change::Opened { state } => row.code = Some(state.as_str().to_string()),
            Change::Notified | Change::BookingWindowOpened | Change::Seen | Change::Reoffered => {}
            Change::ConsentGiven { consent_id }
            | Change::ConsentRefused { consent_id }
            | Change::ConsentWithdrawn { consent_id } => row.subject_id = Some(consent_id.clone()),
            Change::Booked {
                appointment_id,
                appointment_on,
            } => {
                row.subject_id = Some(appointment_id.clone());
                row.for_on = Some(*appointment_on);
            }
            Change::AppointmentOutcome {
                appointment_id,
                outcome,
            } => {
                row.subject_id = Some(appointment_id.clone());
                row.code = Some(outcome.as_str().to_string());
            }
            Change::Completed {
                method,
                report_received,
            } => {
                row.code = Some(method.clone());
                row.detail = report_received.then(|| "report_received".to_string());
            }
            Change::NotRequired { reason } | Change::Closed { reason } => row.detail = Some(reason.clone()),
            Change::Request { request_id, .. } => row.subject_id = Some(request_id.clone()),
        }
        row
    }

    /// The event; `None` for a row the CHECK constraint should have kept out.
    pub fn event(&self) -> Option<Event> {
        let subject = || self.subject_id.clone().unwrap_or_default();
        let change = match self.kind.as_str() {
            "opened" => Change::Opened {
                state: self.code.as_deref()?.parse().ok()?,
            },
            "notified" => Change::Notified,
            "consent_given" => Change::ConsentGiven { consent_id: subject() },
            "consent_refused" => Change::ConsentRefused { consent_id: subject() },
            "consent_withdrawn" => Change::ConsentWithdrawn { consent_id: subject() },
            "booking_window" => Change::BookingWindowOpened,
            "booked" => Change::Booked {
                appointment_id: subject(),
                appointment_on: self.for_on?,
            },
            "outcome" => Change::AppointmentOutcome {
                appointment_id: subject(),
                outcome: self.code.as_deref()?.parse().ok()?,
            },
            "seen" => Change::Seen,
            "completed" => Change::Completed {
                method: self.code.clone().unwrap_or_default(),
                report_received: self.detail.as_deref() == Some("report_received"),
            },
            "reoffered" => Change::Reoffered,
            "not_required" => Change::NotRequired {
                reason: self.detail.clone().unwrap_or_default(),
            },
            "closed" => Change::Closed {
                reason: self.detail.clone().unwrap_or_default(),
            },
            other => Change::Request {
                request_id: subject(),
                step: RequestStep::from_name(other)?,
            },
        };
        Some(Event {
            id: self.id.clone(),
            seq: self.seq,
            effective_on: self.effective_on,
            recorded_at: self.recorded_at,
            recorded_by: self.recorded_by.clone(),
            supersedes: self.supersedes.clone(),
            change,
        })
    }
}

/// Appends one event to an assessment's history, in the caller's transaction, and moves
/// the assessment's `history_through` on. The stored RAG stamp is cleared with it, since
/// the stamp's window starts no earlier than the history's last day.
pub fn append(
    conn: &mut DbConn,
    assessment_id: &str,
    effective_on: NaiveDate,
    recorded_by: Option<String>,
    supersedes: Option<String>,
    change: Change,
) -> QueryResult<Event> {
    let last: Option<i32> = history_events::table
        .filter(history_events::assessment_id.eq(assessment_id))
        .select(diesel::dsl::max(history_events::seq))
        .first(conn)?;
    let event = Event {
        id: new_id(),
        seq: last.unwrap_or(0) + 1,
        effective_on,
        recorded_at: now_utc(),
        recorded_by,
        supersedes,
        change,
    };
    diesel::insert_into(history_events::table)
        .values(&EventRow::new(assessment_id, &event))
        .execute(conn)?;
    diesel::update(
        assessments::table.filter(assessments::id.eq(assessment_id)).filter(
            assessments::history_through
                .is_null()
                .or(assessments::history_through.lt(effective_on)),
        ),
    )
    .set(assessments::history_through.eq(effective_on))
    .execute(conn)?;
    diesel::update(assessments::table.filter(assessments::id.eq(assessment_id)))
        .set((
            assessments::rag_basis.eq(""),
            assessments::rag_from.eq(None::<NaiveDate>),
            assessments::rag_until.eq(None::<NaiveDate>),
        ))
        .execute(conn)?;
    // The stored forecast (`service::forecast_stamp`) goes with the stamp.
    diesel::delete(forecast_stamps::table.filter(forecast_stamps::assessment_id.eq(assessment_id))).execute(conn)?;
    // So do the snapshots of past days (`service::rag_snapshot`): a late event or a
    // correction can change one.
    diesel::delete(rag_snapshots::table.filter(rag_snapshots::assessment_id.eq(assessment_id))).execute(conn)?;
    Ok(event)
}

/// The latest event of `kind` about `subject` (what a correction supersedes).
pub fn latest_about(conn: &mut DbConn, assessment_id: &str, kind: &str, subject: &str) -> QueryResult<Option<String>> {
    history_events::table
        .filter(history_events::assessment_id.eq(assessment_id))
        .filter(history_events::kind.eq(kind))
        .filter(history_events::subject_id.eq(subject))
        .order(history_events::seq.desc())
        .select(history_events::id)
        .first(conn)
        .optional()
}

/// The events of these assessments, by assessment, in recording order.
pub fn load_for(conn: &mut DbConn, assessment_ids: &[&str]) -> QueryResult<HashMap<String, Vec<Event>>> {
    let mut found: HashMap<String, Vec<Event>> = HashMap::new();
    for chunk in assessment_ids.chunks(900) {
        let rows: Vec<EventRow> = history_events::table
            .filter(history_events::assessment_id.eq_any(chunk))
            .order((history_events::assessment_id, history_events::seq))
            .select(EventRow::as_select())
            .load(conn)?;
        for row in rows {
            match row.event() {
                Some(e) => found.entry(row.assessment_id.clone()).or_default().push(e),
                None => tracing::warn!(event = %row.id, "unreadable history event skipped"),
            }
        }
    }
    Ok(found)
}

/// Assessments per backfill transaction.
const BACKFILL_BATCH: i64 = 500;

/// Turns the rows of assessments that have no events yet into events (see the
/// migration's notes). Returns how many assessments it gave a history.
pub fn backfill(conn: &mut DbConn) -> QueryResult<usize> {
    let mut done = 0;
    let mut after = String::new();
    loop {
        let n = conn.transaction(|conn| backfill_batch(conn, &mut after))?;
        if n == 0 {
            return Ok(done);
        }
        done += n;
    }
}

/// The next batch without a history. Each batch must cost the same however many are left
/// (a county has 700,000 assessments): SQLite takes the first rows of the
/// `history_through` index, whose NULLs it keeps in row order (asked to order by id, it
/// sorted every remaining row for each batch: six minutes at 100,000 children);
/// PostgreSQL walks the primary key from the last id done, since a scan from the start
/// would step over every row already rewritten.
fn backfill_batch(conn: &mut DbConn, after: &mut String) -> QueryResult<usize> {
    let mut q = assessments::table
        .filter(assessments::history_through.is_null())
        .into_boxed();
    if !crate::db::steers_planner(conn) {
        q = q.filter(assessments::id.gt(after.clone())).order(assessments::id);
    }
    let batch: Vec<models::Assessment> = q
        .limit(BACKFILL_BATCH)
        .select(models::Assessment::as_select())
        .load(conn)?;
    if let Some(last) = batch.last() {
        after.clone_from(&last.id);
    }
    let ids: Vec<&str> = batch.iter().map(|a| a.id.as_str()).collect();
    let mut consents = group(
        consents::table
            .filter(consents::assessment_id.eq_any(&ids))
            .order((consents::created_at, consents::id))
            .select(models::Consent::as_select())
            .load::<models::Consent>(conn)?,
        |c| c.assessment_id.clone(),
    );
    let mut appointments = group(
        appointments::table
            .filter(appointments::assessment_id.eq_any(&ids))
            .order((appointments::created_at, appointments::id))
            .select(models::Appointment::as_select())
            .load::<models::Appointment>(conn)?,
        |a| a.assessment_id.clone(),
    );
    let mut requests = group(
        out_of_area_requests::table
            .filter(out_of_area_requests::assessment_id.eq_any(&ids))
            .order((out_of_area_requests::created_at, out_of_area_requests::id))
            .select(models::OutOfAreaRequest::as_select())
            .load::<models::OutOfAreaRequest>(conn)?,
        |r| r.assessment_id.clone(),
    );
    let mut steps = group(
        assessment_events::table
            .filter(assessment_events::assessment_id.eq_any(&ids))
            .filter(assessment_events::step.eq_any(["reoffer", "booking_window"]))
            .order((assessment_events::created_at, assessment_events::id))
            .select(models::AssessmentEvent::as_select())
            .load::<models::AssessmentEvent>(conn)?,
        |e| e.assessment_id.clone(),
    );
    let mut made = Vec::new();
    let mut marks = Vec::with_capacity(batch.len());
    for a in &batch {
        let rows = OldRows {
            consents: consents.remove(&a.id).unwrap_or_default(),
            appointments: appointments.remove(&a.id).unwrap_or_default(),
            requests: requests.remove(&a.id).unwrap_or_default(),
            steps: steps.remove(&a.id).unwrap_or_default(),
        };
        let events = events_from_rows(a, &rows);
        let through = history::through(&events).unwrap_or(a.clock_started_on);
        made.extend(events.iter().map(|e| EventRow::new(&a.id, e)));
        // A cancellation is dated the day it was made (older rows dated it by the
        // appointment): the row says what the replay of the whole history says.
        let last = events.iter().rev().find_map(|e| match &e.change {
            Change::AppointmentOutcome { outcome, .. } if !outcome.is_attendance() => Some(e.effective_on),
            _ => None,
        });
        marks.push(HistoryMark {
            id: a.id.clone(),
            through,
            last_non_attendance_on: last.or(a.last_non_attendance_on),
        });
    }
    mark_backfilled(conn, &marks)?;
    insert_rows(conn, &made)?;
    Ok(batch.len())
}

/// What a backfilled assessment's row is given: the day its history runs to, its last
/// non-attendance as the history dates it, and a cleared RAG stamp (a history can move a
/// stamp's start; the next refresh stamps it again).
struct HistoryMark {
    id: String,
    through: NaiveDate,
    last_non_attendance_on: Option<NaiveDate>,
}

fn mark_backfilled(conn: &mut DbConn, marks: &[HistoryMark]) -> QueryResult<()> {
    use diesel::sql_types::{Array, Date, Nullable, Text};
    match conn {
        // One statement a batch: row by row, the round trips took seven minutes for a
        // county of 100,000 children.
        DbConn::Postgres(pg) => {
            diesel::sql_query(
                "UPDATE assessments AS a SET history_through = v.through, \
                 last_non_attendance_on = v.last_non_attendance_on, \
                 rag_basis = '', rag_from = NULL, rag_until = NULL \
                 FROM unnest($1::text[], $2::date[], $3::date[]) AS v(id, through, last_non_attendance_on) \
                 WHERE a.id = v.id",
            )
            .bind::<Array<Text>, _>(marks.iter().map(|m| m.id.as_str()).collect::<Vec<&str>>())
            .bind::<Array<Date>, _>(marks.iter().map(|m| m.through).collect::<Vec<NaiveDate>>())
            .bind::<Array<Nullable<Date>>, _>(
                marks
                    .iter()
                    .map(|m| m.last_non_attendance_on)
                    .collect::<Vec<Option<NaiveDate>>>(),
            )
            .execute(pg)?;
        }
        // In process, a statement is no round trip.
        DbConn::Sqlite(_) => {
            for m in marks {
                diesel::update(assessments::table.filter(assessments::id.eq(&m.id)))
                    .set((
                        assessments::history_through.eq(m.through),
                        assessments::last_non_attendance_on.eq(m.last_non_attendance_on),
                        assessments::rag_basis.eq(""),
                        assessments::rag_from.eq(None::<NaiveDate>),
                        assessments::rag_until.eq(None::<NaiveDate>),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Many events in few statements.
fn insert_rows(conn: &mut DbConn, rows: &[EventRow]) -> QueryResult<()> {
    super::insert_batches!(conn, history_events::table, rows, 1_000);
    Ok(())
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> String) -> HashMap<String, Vec<T>> {
    let mut by: HashMap<String, Vec<T>> = HashMap::new();
    for row in rows {
        by.entry(key(&row)).or_default().push(row);
    }
    by
}

/// The rows an assessment's history is rebuilt from.
#[derive(Debug, Default)]
pub struct OldRows {
    pub consents: Vec<models::Consent>,
    pub appointments: Vec<models::Appointment>,
    pub requests: Vec<models::OutOfAreaRequest>,
    /// Timeline steps that left no other trace: re-offers and RHA booking windows.
    pub steps: Vec<models::AssessmentEvent>,
}

/// The day an appointment is for, on the clinic's clock.
pub fn appointment_day(starts_at: NaiveDateTime) -> NaiveDate {
    starts_at.and_utc().with_timezone(&London).date_naive()
}

/// The day an outcome counts from: a cancellation the day it was made, anything else the
/// appointment's day.
pub fn outcome_effective_on(outcome: Outcome, appointment_on: NaiveDate, recorded_on: NaiveDate) -> NaiveDate {
    if outcome.is_cancellation() {
        recorded_on
    } else {
        appointment_on
    }
}

/// An assessment's history rebuilt from its rows, in the order of the days they name
/// (the rows do not say in which order same-day steps were recorded; the workflow's
/// order is used).
pub fn events_from_rows(a: &models::Assessment, rows: &OldRows) -> Vec<Event> {
    let kind: Kind = a.kind.parse().unwrap_or(Kind::Iha);
    let state: State = a.state.parse().unwrap_or(State::Closed);
    let first = if kind == Kind::Iha {
        State::AwaitingNotification
    } else {
        State::Scheduled
    };
    let at = a.created_at;
    let mut out: Vec<(NaiveDate, Change, NaiveDateTime)> =
        vec![(a.clock_started_on, Change::Opened { state: first }, at)];
    if let Some(on) = a.notified_on {
        out.push((on, Change::Notified, at));
    }
    let mut refused = false;
    for c in &rows.consents {
        let id = c.id.clone();
        if let Some(on) = c.given_on {
            out.push((on, Change::ConsentGiven { consent_id: id.clone() }, c.created_at));
        }
        if let Some(on) = c.refused_on {
            refused = true;
            out.push((on, Change::ConsentRefused { consent_id: id.clone() }, c.created_at));
        }
        if let Some(on) = c.withdrawn_on {
            out.push((on, Change::ConsentWithdrawn { consent_id: id }, c.created_at));
        }
    }
    // A consent date on the row with no consent row behind it (rows from imports and
    // demo data) is still a consent given that day.
    if let Some(on) = a
        .consent_on
        .filter(|on| !rows.consents.iter().any(|c| c.given_on == Some(*on)))
    {
        out.push((
            on,
            Change::ConsentGiven {
                consent_id: String::new(),
            },
            at,
        ));
    }
    if state == State::Refused && !refused {
        if let Some(on) = a.ended_on {
            out.push((
                on,
                Change::ConsentRefused {
                    consent_id: String::new(),
                },
                at,
            ));
        }
    }
    for s in &rows.steps {
        let change = if s.step == "reoffer" {
            Change::Reoffered
        } else {
            Change::BookingWindowOpened
        };
        out.push((s.occurred_on, change, s.created_at));
    }
    let mut attended_on = Vec::new();
    for ap in &rows.appointments {
        let day = appointment_day(ap.starts_at);
        out.push((
            ap.booked_on,
            Change::Booked {
                appointment_id: ap.id.clone(),
                appointment_on: day,
            },
            ap.created_at,
        ));
        if let Some(outcome) = ap.outcome.as_deref().and_then(|o| o.parse::<Outcome>().ok()) {
            let on = outcome_effective_on(outcome, day, ap.outcome_recorded_on.unwrap_or(day));
            if outcome.is_attendance() {
                attended_on.push(on);
            }
            out.push((
                on,
                Change::AppointmentOutcome {
                    appointment_id: ap.id.clone(),
                    outcome,
                },
                ap.created_at,
            ));
        }
    }
    if let Some(seen) = a
        .seen_on
        .filter(|s| !attended_on.contains(s) || a.completed_on.is_some())
    {
        out.push((seen, Change::Seen, a.updated_at));
    }
    if let (State::Completed, Some(done)) = (state, a.completed_on) {
        out.push((
            done,
            Change::Completed {
                method: a.completion_method.clone().unwrap_or_else(|| "face_to_face".into()),
                report_received: a.report_received_on == Some(done),
            },
            a.updated_at,
        ));
    }
    let reason = a.end_reason.clone().unwrap_or_default();
    match (state, a.ended_on) {
        (State::NotRequired, Some(on)) => out.push((on, Change::NotRequired { reason }, a.updated_at)),
        (State::Closed, Some(on)) => out.push((on, Change::Closed { reason }, a.updated_at)),
        _ => {}
    }
    for r in &rows.requests {
        let id = r.id.clone();
        let steps = [
            (Some(r.opened_on), RequestStep::Opened),
            (r.requested_on, RequestStep::Sent),
            (r.acknowledged_on, RequestStep::Acknowledged),
            (r.appointment_offered_on, RequestStep::AppointmentOffered),
            (r.report_received_on, RequestStep::ReportReceived),
            (r.closed_on, RequestStep::Closed),
        ];
        for (on, step) in steps {
            if let Some(on) = on {
                let change = Change::Request {
                    request_id: id.clone(),
                    step,
                };
                out.push((on, change, r.created_at));
            }
        }
    }
    // Stable: same-day steps keep the workflow's order above.
    out.sort_by_key(|(on, _, _)| *on);
    out.into_iter()
        .enumerate()
        .map(|(i, (on, change, recorded_at))| Event {
            id: new_id(),
            seq: i as i32 + 1,
            effective_on: on,
            recorded_at,
            recorded_by: Some(BACKFILLED_BY.to_string()),
            supersedes: None,
            change,
        })
        .collect()
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
