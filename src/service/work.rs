//! Each person's work, by role: what the browser's home page lists. Built on the same list
//! service as `GET /assessments` (scope, stored RAGs, audit), so a queue's count is the
//! list's total.
//!
//! Rules:
//! - A health admin's queues are open assessments by what they wait on: notification,
//!   consent, booking and the report, and separately those waiting on an out-of-area host
//!   provider (an open request replaces booking and the report as the wait, so those two
//!   queues leave such assessments out). Soonest due first, or most likely to be late
//!   first ([`QueueSort::LikelyLate`]: the lateness forecast ranks the first [`RANKED`] due
//!   soonest; those without a forecast come last).
//! - Every item carries its lateness forecast (`service::forecast`, one model per list).
//! - A social worker's: their authority's children waiting on notification or consent, and
//!   non-attendances in the last `RECENT_DAYS` days, newest first.
//! - A clinician's: appointments in the week (Monday to Sunday) of `as_of`, and assessments
//!   waiting for the report.
//! - Every read is scoped to the caller and audited.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;

use super::assessment_list::{self, AssessmentFilter};
use super::views::{assessment_view, AppointmentView, AssessmentRows, AssessmentView};
use super::DomainCtx;
use crate::audit::AuditEvent;
use crate::db::models;
use crate::db::schema::*;
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::workflow::State;

/// How far back a non-attendance counts as recent.
pub const RECENT_DAYS: i64 = 28;
/// How many of a queue's assessments, soonest due first, "most likely to be late first"
/// ranks (the list's largest page: the forecast needs each one's view).
pub const RANKED: usize = 1000;

/// The order of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueSort {
    #[default]
    Due,
    LikelyLate,
}

/// One queue of work: its whole count and its first items.
#[derive(Debug)]
pub struct Queue {
    pub key: &'static str,
    pub title: &'static str,
    pub total: usize,
    pub sort: QueueSort,
    pub items: Vec<WorkItem>,
}

impl Queue {
    /// Which items are shown, when not all of them are.
    pub fn shown(&self) -> Option<String> {
        let n = self.items.len();
        if self.total <= n {
            return None;
        }
        Some(match self.sort {
            QueueSort::Due => format!("The {n} due soonest of {}.", self.total),
            QueueSort::LikelyLate if self.total > RANKED => format!(
                "The {n} most likely to be late among the {RANKED} due soonest, of {}.",
                self.total
            ),
            QueueSort::LikelyLate => format!("The {n} most likely to be late of {}.", self.total),
        })
    }
}

/// An assessment with the name of its child, for a list people read.
#[derive(Debug)]
pub struct WorkItem {
    pub given_name: String,
    pub family_name: String,
    pub assessment: AssessmentView,
}

/// An appointment with its child.
#[derive(Debug)]
pub struct AppointmentItem {
    pub child_id: String,
    pub given_name: String,
    pub family_name: String,
    pub local_id: String,
    pub appointment: AppointmentView,
}

/// A queue: its key, title, and the list filter that is its definition.
struct QueueDef {
    key: &'static str,
    title: &'static str,
    state: Option<State>,
    out_of_area: Option<bool>,
}

const NOTIFICATION: QueueDef = QueueDef {
    key: "notification",
    title: "Waiting for notification",
    state: Some(State::AwaitingNotification),
    out_of_area: None,
};
const CONSENT: QueueDef = QueueDef {
    key: "consent",
    title: "Waiting for consent",
    state: Some(State::AwaitingConsent),
    out_of_area: None,
};
const BOOKING: QueueDef = QueueDef {
    key: "booking",
    title: "Waiting to be booked",
    state: Some(State::AwaitingBooking),
    out_of_area: Some(false),
};
const REPORT: QueueDef = QueueDef {
    key: "report",
    title: "Waiting for the report",
    state: Some(State::AwaitingReport),
    out_of_area: Some(false),
};
const HOST: QueueDef = QueueDef {
    key: "host",
    title: "Waiting on an out-of-area host provider",
    state: None,
    out_of_area: Some(true),
};

pub fn health_admin_queues(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    as_of: NaiveDate,
    first: usize,
    sort: QueueSort,
) -> AppResult<Vec<Queue>> {
    [NOTIFICATION, CONSENT, BOOKING, REPORT, HOST]
        .iter()
        .map(|q| sorted_queue(conn, ctx, q, as_of, first, sort))
        .collect()
}

pub fn social_worker_queues(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    as_of: NaiveDate,
    first: usize,
) -> AppResult<Vec<Queue>> {
    [NOTIFICATION, CONSENT]
        .iter()
        .map(|q| queue(conn, ctx, q, as_of, first))
        .collect()
}

pub fn reports_awaited(conn: &mut DbConn, ctx: &DomainCtx, as_of: NaiveDate, first: usize) -> AppResult<Queue> {
    queue(conn, ctx, &REPORT, as_of, first)
}

fn queue(conn: &mut DbConn, ctx: &DomainCtx, q: &QueueDef, as_of: NaiveDate, first: usize) -> AppResult<Queue> {
    sorted_queue(conn, ctx, q, as_of, first, QueueSort::Due)
}

fn sorted_queue(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    q: &QueueDef,
    as_of: NaiveDate,
    first: usize,
    sort: QueueSort,
) -> AppResult<Queue> {
    let take = match sort {
        QueueSort::Due => first,
        QueueSort::LikelyLate => RANKED,
    };
    let filter = AssessmentFilter {
        kind: None,
        state: q.state.map(|s| s.as_str().to_string()),
        rag: None,
        due_before: None,
        out_of_area: q.out_of_area,
        child_id: None,
        as_of: Some(as_of),
        limit: Some(take as i64),
        offset: None,
    };
    let page = match sort {
        QueueSort::Due => assessment_list::list(conn, ctx, filter)?,
        QueueSort::LikelyLate => assessment_list::list_by_risk(conn, ctx, filter, first)?,
    };
    Ok(Queue {
        key: q.key,
        title: q.title,
        total: page.total,
        sort,
        items: with_names(conn, page.items)?,
    })
}

fn with_names(conn: &mut DbConn, views: Vec<AssessmentView>) -> AppResult<Vec<WorkItem>> {
    let ids: Vec<&str> = views.iter().map(|v| v.child_id.as_str()).collect();
    let names = names(conn, &ids)?;
    views
        .into_iter()
        .map(|assessment| {
            let (given_name, family_name) = names
                .get(&assessment.child_id)
                .cloned()
                .ok_or_else(|| AppError::Internal("assessment without its child".into()))?;
            Ok(WorkItem {
                given_name,
                family_name,
                assessment,
            })
        })
        .collect()
}

fn names(conn: &mut DbConn, ids: &[&str]) -> AppResult<HashMap<String, (String, String)>> {
    Ok(children::table
        .filter(children::id.eq_any(ids))
        .select((children::id, children::given_name, children::family_name))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, given, family)| (id, (given, family)))
        .collect())
}

/// Assessments with a non-attendance in the `RECENT_DAYS` days to `as_of`, newest first.
pub fn recent_non_attendances(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    as_of: NaiveDate,
    first: usize,
) -> AppResult<Vec<WorkItem>> {
    let since = as_of - Duration::days(RECENT_DAYS);
    let mut q = assessments::table
        .filter(assessments::last_non_attendance_on.ge(since))
        .filter(assessments::last_non_attendance_on.le(as_of))
        .into_boxed();
    if let Some(codes) = ctx.scope.codes() {
        // A few weeks' non-attendances are far fewer than an authority's assessments: on
        // SQLite the date range must pick the index, not the authority.
        q = if crate::db::steers_planner(conn) {
            q.filter(crate::db::no_index(assessments::responsible_la).eq_any(codes.to_vec()))
        } else {
            q.filter(assessments::responsible_la.eq_any(codes.to_vec()))
        };
    }
    let rows: Vec<models::Assessment> = ctx.read_audited(
        conn,
        |conn| {
            Ok(
                q.order((assessments::last_non_attendance_on.desc(), assessments::id.asc()))
                    .limit(first as i64)
                    .select(models::Assessment::as_select())
                    .load(conn)?,
            )
        },
        |_| AuditEvent::ok("list", "assessment", None, None),
    )?;
    let child_ids: Vec<&str> = rows.iter().map(|a| a.child_id.as_str()).collect();
    let children: HashMap<String, models::Child> = children::table
        .filter(children::id.eq_any(&child_ids))
        .select(models::Child::as_select())
        .load::<models::Child>(conn)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let ids: Vec<&str> = rows.iter().map(|a| a.id.as_str()).collect();
    let requests = super::assessments::requests_open_on(conn, &ids, as_of)?;
    let events = super::history_store::events_for(conn, &rows.iter().collect::<Vec<_>>(), as_of)?;
    let mut views = rows
        .iter()
        .map(|a| {
            let child = children
                .get(&a.child_id)
                .ok_or_else(|| AppError::Internal("assessment without its child".into()))?;
            assessment_view(
                &AssessmentRows {
                    assessment: a,
                    child_local_id: &child.local_id,
                    date_of_birth: child.date_of_birth,
                    out_of_area: requests.iter().find(|r| r.assessment_id == a.id),
                    events: events.get(&a.id).map(Vec::as_slice),
                },
                ctx,
                as_of,
            )
        })
        .collect::<AppResult<Vec<_>>>()?;
    super::forecast::attach(conn, ctx, &rows.iter().collect::<Vec<_>>(), &mut views, as_of)?;
    Ok(views
        .into_iter()
        .zip(&rows)
        .filter_map(|(view, a)| {
            let child = children.get(&a.child_id)?;
            Some(WorkItem {
                given_name: child.given_name.clone(),
                family_name: child.family_name.clone(),
                assessment: view,
            })
        })
        .collect())
}

/// Monday to Sunday of the week holding `day`.
pub fn week_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let monday = super::assurance::monday_of(day);
    (monday, monday + Duration::days(6))
}

/// The first `first` appointments in the week of `as_of` (Monday to Sunday, UK time), in
/// time order, and how many the week holds in all.
pub fn appointments_this_week(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    as_of: NaiveDate,
    first: usize,
) -> AppResult<(Vec<AppointmentItem>, usize)> {
    let (monday, sunday) = week_of(as_of);
    let (from, to) = (uk_midnight_utc(monday), uk_midnight_utc(sunday + Duration::days(1)));
    let steer = crate::db::steers_planner(conn);
    // The week's appointments within the caller's authorities, each carrying its own. A
    // week's appointments are far fewer than an authority's: on SQLite the time range
    // must pick the index, not the authority.
    macro_rules! in_week {
        ($table:expr) => {{
            let mut q = $table
                .filter(appointments::starts_at.ge(from))
                .filter(appointments::starts_at.lt(to))
                .into_boxed();
            if let Some(codes) = ctx.scope.codes() {
                q = if steer {
                    q.filter(crate::db::no_index(appointments::responsible_la).eq_any(codes.to_vec()))
                } else {
                    q.filter(appointments::responsible_la.eq_any(codes.to_vec()))
                };
            }
            q
        }};
    }
    let (rows, total) = ctx.read_audited(
        conn,
        |conn| {
            // Counted from one index range (`appointments_week`): no row read.
            let total: i64 = in_week!(appointments::table).count().get_result(conn)?;
            let rows: Vec<(models::Appointment, (String, String, String, String))> =
                in_week!(appointments::table.inner_join(assessments::table.inner_join(children::table)))
                    .order((appointments::starts_at.asc(), appointments::id.asc()))
                    .limit(first as i64)
                    .select((
                        models::Appointment::as_select(),
                        (
                            children::id,
                            children::given_name,
                            children::family_name,
                            children::local_id,
                        ),
                    ))
                    .load(conn)?;
            Ok((rows, usize::try_from(total).unwrap_or(0)))
        },
        |_| AuditEvent::ok("list", "appointment", None, None),
    )?;
    let items = rows
        .into_iter()
        .map(|(a, (child_id, given_name, family_name, local_id))| AppointmentItem {
            child_id,
            given_name,
            family_name,
            local_id,
            appointment: AppointmentView::from(&a),
        })
        .collect();
    Ok((items, total))
}

/// The UTC instant of midnight at the start of `day` in the UK (appointments are stored in
/// UTC). Midnight always exists there: the clocks change at 01:00 and 02:00.
fn uk_midnight_utc(day: NaiveDate) -> chrono::NaiveDateTime {
    use chrono::TimeZone;
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    chrono_tz::Europe::London
        .from_local_datetime(&midnight)
        .earliest()
        .map_or(midnight, |t| t.naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clinicians_week_starts_at_uk_midnight_in_summer_and_winter() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(uk_midnight_utc(d("2026-07-06")).to_string(), "2026-07-05 23:00:00");
        assert_eq!(uk_midnight_utc(d("2026-12-07")).to_string(), "2026-12-07 00:00:00");
        // The Monday after the clocks go back (25 October 2026) starts at 00:00 GMT.
        assert_eq!(uk_midnight_utc(d("2026-10-26")).to_string(), "2026-10-26 00:00:00");
    }

    #[test]
    fn a_week_runs_monday_to_sunday() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(week_of(d("2026-01-21")), (d("2026-01-19"), d("2026-01-25")));
        assert_eq!(week_of(d("2026-01-19")), (d("2026-01-19"), d("2026-01-25")));
        assert_eq!(week_of(d("2026-01-25")), (d("2026-01-19"), d("2026-01-25")));
    }
}
