//! What the API returns: rows turned into views, assessments with their derived status.

use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Europe::London;
use serde::Serialize;
use utoipa::ToSchema;

use super::DomainCtx;
use crate::db::models;
use crate::error::{AppError, AppResult};
use crate::status::{self, AssessmentFacts, Attribution, Blocker, Milestone, OutOfAreaFacts, Rag};
use crate::workflow::{Kind, Outcome, State};

/// Stored codes are guarded by CHECK constraints, so a value that does not parse is a bug.
pub fn parse_stored<T: FromStr>(column: &str, value: &str) -> AppResult<T> {
    value
        .parse()
        .map_err(|_| AppError::Internal(format!("unreadable {column} value stored")))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChildSummary {
    pub id: String,
    pub local_id: String,
    pub responsible_la: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub sex: String,
    pub nhs_number: Option<String>,
    pub uasc: bool,
    pub gp_practice: Option<String>,
    pub social_worker_email: Option<String>,
    pub version: i32,
}

impl From<&models::Child> for ChildSummary {
    fn from(c: &models::Child) -> Self {
        ChildSummary {
            id: c.id.clone(),
            local_id: c.local_id.clone(),
            responsible_la: c.responsible_la.clone(),
            given_name: c.given_name.clone(),
            family_name: c.family_name.clone(),
            date_of_birth: c.date_of_birth,
            sex: c.sex.clone(),
            nhs_number: c.nhs_number.clone(),
            uasc: c.uasc != 0,
            gp_practice: c.gp_practice.clone(),
            social_worker_email: c.social_worker_email.clone(),
            version: c.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlacementView {
    pub id: String,
    pub period_id: String,
    pub started_on: NaiveDate,
    pub placement_type: String,
    pub out_of_area: bool,
    pub host_la: Option<String>,
    pub host_provider_email: Option<String>,
}

impl From<&models::Placement> for PlacementView {
    fn from(p: &models::Placement) -> Self {
        PlacementView {
            id: p.id.clone(),
            period_id: p.period_id.clone(),
            started_on: p.started_on,
            placement_type: p.placement_type.clone(),
            out_of_area: p.out_of_area != 0,
            host_la: p.host_la.clone(),
            host_provider_email: p.host_provider_email.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodView {
    pub id: String,
    pub child_id: String,
    pub started_on: NaiveDate,
    pub legal_status: String,
    pub category_of_need: Option<String>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub version: i32,
    pub placements: Vec<PlacementView>,
}

impl PeriodView {
    pub fn new(p: &models::Period, placements: &[models::Placement]) -> PeriodView {
        PeriodView {
            id: p.id.clone(),
            child_id: p.child_id.clone(),
            started_on: p.started_on,
            legal_status: p.legal_status.clone(),
            category_of_need: p.category_of_need.clone(),
            ended_on: p.ended_on,
            end_reason: p.end_reason.clone(),
            version: p.version,
            placements: placements
                .iter()
                .filter(|pl| pl.period_id == p.id)
                .map(PlacementView::from)
                .collect(),
        }
    }
}

/// A dated change of legal status within a period (`legal_status_changes`).
#[derive(Debug, Serialize, ToSchema)]
pub struct LegalStatusChangeView {
    pub id: String,
    pub period_id: String,
    /// The day the new status took effect.
    pub changed_on: NaiveDate,
    /// SSDA903 LS: the new status, and the one it replaced.
    pub legal_status: String,
    pub previous_status: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

impl From<&models::LegalStatusChange> for LegalStatusChangeView {
    fn from(c: &models::LegalStatusChange) -> Self {
        LegalStatusChangeView {
            id: c.id.clone(),
            period_id: c.period_id.clone(),
            changed_on: c.changed_on,
            legal_status: c.legal_status.clone(),
            previous_status: c.previous_status.clone(),
            recorded_at: c.recorded_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutOfAreaRequestView {
    pub id: String,
    pub assessment_id: String,
    pub placement_id: String,
    pub host_la: Option<String>,
    pub host_provider_email: Option<String>,
    pub opened_on: NaiveDate,
    pub requested_on: Option<NaiveDate>,
    pub acknowledged_on: Option<NaiveDate>,
    pub appointment_offered_on: Option<NaiveDate>,
    pub report_received_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub version: i32,
    /// Where the host ICB's Designated Nurse is reached (escalations).
    pub host_icb_email: Option<String>,
}

impl From<&models::OutOfAreaRequest> for OutOfAreaRequestView {
    fn from(r: &models::OutOfAreaRequest) -> Self {
        OutOfAreaRequestView {
            id: r.id.clone(),
            assessment_id: r.assessment_id.clone(),
            placement_id: r.placement_id.clone(),
            host_la: r.host_la.clone(),
            host_provider_email: r.host_provider_email.clone(),
            opened_on: r.opened_on,
            requested_on: r.requested_on,
            acknowledged_on: r.acknowledged_on,
            appointment_offered_on: r.appointment_offered_on,
            report_received_on: r.report_received_on,
            closed_on: r.closed_on,
            version: r.version,
            host_icb_email: r.host_icb_email.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NonAttendance {
    pub on: NaiveDate,
    pub outcome: Outcome,
}

/// One assessment with the fields derived for `as_of`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentView {
    pub id: String,
    pub child_id: String,
    pub child_local_id: String,
    pub period_id: Option<String>,
    pub kind: Kind,
    pub state: State,
    pub version: i32,
    pub as_of: NaiveDate,
    pub clock_started_on: NaiveDate,
    pub due_on: NaiveDate,
    pub working_days_elapsed: i32,
    pub working_days_remaining: i32,
    pub rag: Rag,
    pub blocker: Blocker,
    pub breach_attribution: Attribution,
    pub milestones: Vec<Milestone>,
    pub explanation: String,
    pub notified_on: Option<NaiveDate>,
    pub consent_on: Option<NaiveDate>,
    pub first_booked_on: Option<NaiveDate>,
    pub appointment_on: Option<NaiveDate>,
    pub seen_on: Option<NaiveDate>,
    pub report_received_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub completion_method: Option<String>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub non_attendance_count: i32,
    pub last_non_attendance: Option<NonAttendance>,
    pub out_of_area_request: Option<OutOfAreaRequestView>,
    /// The lateness forecast on `as_of` (`service::forecast`): null when the assessment is
    /// not open (or refused), or before the forecast was first fitted.
    pub forecast: Option<super::forecast::ForecastView>,
}

/// The rows one assessment view is made from.
pub struct AssessmentRows<'a> {
    pub assessment: &'a models::Assessment,
    pub child_local_id: &'a str,
    pub date_of_birth: NaiveDate,
    pub out_of_area: Option<&'a models::OutOfAreaRequest>,
    /// The assessment's events, when a view of a day before its history's last day is
    /// wanted (`history_store::events_for`); `None` reads the row as it stands.
    pub events: Option<&'a [crate::history::Event]>,
}

pub fn facts(rows: &AssessmentRows<'_>) -> AppResult<AssessmentFacts> {
    row_facts(rows.assessment, rows.out_of_area)
}

/// The facts of one stored assessment and its open out-of-area request, if any.
pub fn row_facts(a: &models::Assessment, request: Option<&models::OutOfAreaRequest>) -> AppResult<AssessmentFacts> {
    let last_non_attendance = match (a.last_non_attendance_on, a.last_non_attendance_outcome.as_deref()) {
        (Some(on), Some(outcome)) => Some((on, parse_stored::<Outcome>("outcome", outcome)?)),
        _ => None,
    };
    Ok(AssessmentFacts {
        kind: parse_stored("kind", &a.kind)?,
        state: parse_stored("state", &a.state)?,
        clock_started_on: a.clock_started_on,
        due_on: a.due_on,
        notified_on: a.notified_on,
        consent_on: a.consent_on,
        first_booked_on: a.first_booked_on,
        appointment_on: a.appointment_on,
        seen_on: a.seen_on,
        report_received_on: a.report_received_on,
        completed_on: a.completed_on,
        ended_on: a.ended_on,
        last_non_attendance,
        non_attendance_count: a.non_attendance_count,
        out_of_area: request.map(|r| OutOfAreaFacts {
            requested_on: r.requested_on,
            acknowledged_on: r.acknowledged_on,
            appointment_offered_on: r.appointment_offered_on,
            report_received_on: r.report_received_on,
        }),
    })
}

/// The assessment as it stood on `as_of`: the state then, and only the facts dated on or
/// before it (a meeting looking at last Monday must not see Tuesday's consent).
pub fn assessment_view(rows: &AssessmentRows<'_>, ctx: &DomainCtx, as_of: NaiveDate) -> AppResult<AssessmentView> {
    if let Some(events) = rows
        .events
        .filter(|_| super::history_store::needs_replay(rows.assessment, as_of))
    {
        return replayed_view(rows, events, ctx, as_of);
    }
    let f = facts(rows)?;
    let d = status::derive(&f, rows.date_of_birth, &ctx.calendar, as_of, &ctx.clock);
    let a = rows.assessment;
    let by = |date: Option<NaiveDate>| date.filter(|d| *d <= as_of);
    let ended_on = by(a.ended_on).filter(|_| d.state.is_ended_without_completion());
    Ok(AssessmentView {
        id: a.id.clone(),
        child_id: a.child_id.clone(),
        child_local_id: rows.child_local_id.to_string(),
        period_id: a.period_id.clone(),
        kind: f.kind,
        state: d.state,
        version: a.version,
        as_of,
        clock_started_on: a.clock_started_on,
        due_on: d.due_on,
        working_days_elapsed: d.working_days_elapsed,
        working_days_remaining: d.working_days_remaining,
        rag: d.rag,
        blocker: d.blocker,
        breach_attribution: d.breach_attribution,
        milestones: d.milestones,
        explanation: d.explanation,
        notified_on: by(a.notified_on),
        consent_on: by(a.consent_on),
        first_booked_on: by(a.first_booked_on),
        // The appointment in hand, if the assessment was booked on that day.
        appointment_on: a.appointment_on.filter(|_| d.state == State::Booked),
        seen_on: by(a.seen_on),
        report_received_on: by(a.report_received_on),
        completed_on: by(a.completed_on),
        completion_method: a.completion_method.clone().filter(|_| by(a.completed_on).is_some()),
        ended_on,
        end_reason: a.end_reason.clone().filter(|_| ended_on.is_some()),
        non_attendance_count: a.non_attendance_count,
        last_non_attendance: f
            .last_non_attendance
            .filter(|(on, _)| *on <= as_of)
            .map(|(on, outcome)| NonAttendance { on, outcome }),
        out_of_area_request: rows
            .out_of_area
            .filter(|r| r.opened_on <= as_of)
            .map(OutOfAreaRequestView::from),
        forecast: None,
    })
}

/// The assessment on a day before its history's last day: every field from the replay of
/// the events effective by then.
fn replayed_view(
    rows: &AssessmentRows<'_>,
    events: &[crate::history::Event],
    ctx: &DomainCtx,
    as_of: NaiveDate,
) -> AppResult<AssessmentView> {
    let a = rows.assessment;
    let r = super::history_store::replayed(a, events, as_of)?;
    let f = &r.facts;
    let d = status::derive(f, rows.date_of_birth, &ctx.calendar, as_of, &ctx.clock);
    let ended = d.state.is_ended_without_completion();
    Ok(AssessmentView {
        id: a.id.clone(),
        child_id: a.child_id.clone(),
        child_local_id: rows.child_local_id.to_string(),
        period_id: a.period_id.clone(),
        kind: f.kind,
        state: d.state,
        version: a.version,
        as_of,
        clock_started_on: a.clock_started_on,
        due_on: d.due_on,
        working_days_elapsed: d.working_days_elapsed,
        working_days_remaining: d.working_days_remaining,
        rag: d.rag,
        blocker: d.blocker,
        breach_attribution: d.breach_attribution,
        milestones: d.milestones,
        explanation: d.explanation,
        notified_on: f.notified_on,
        consent_on: f.consent_on,
        first_booked_on: f.first_booked_on,
        appointment_on: f.appointment_on.filter(|_| d.state == State::Booked),
        seen_on: f.seen_on,
        report_received_on: f.report_received_on,
        completed_on: f.completed_on,
        completion_method: r.completion_method.clone().filter(|_| f.completed_on.is_some()),
        ended_on: f.ended_on.filter(|_| ended),
        end_reason: r.end_reason.clone().filter(|_| ended),
        non_attendance_count: f.non_attendance_count,
        last_non_attendance: f.last_non_attendance.map(|(on, outcome)| NonAttendance { on, outcome }),
        out_of_area_request: rows
            .out_of_area
            .filter(|req| r.request_id.as_deref() == Some(req.id.as_str()))
            .map(OutOfAreaRequestView::from),
        forecast: None,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    pub id: String,
    pub assessment_id: String,
    pub basis: String,
    pub given_by: String,
    pub given_on: Option<NaiveDate>,
    pub refused_on: Option<NaiveDate>,
    pub scope: Vec<String>,
    pub confirmed_by: Option<String>,
    pub competence_assessed_by: Option<String>,
    pub reoffer_plan: Option<String>,
    pub withdrawn_on: Option<NaiveDate>,
}

impl From<&models::Consent> for ConsentView {
    fn from(c: &models::Consent) -> Self {
        ConsentView {
            id: c.id.clone(),
            assessment_id: c.assessment_id.clone(),
            basis: c.basis.clone(),
            given_by: c.given_by.clone(),
            given_on: c.given_on,
            refused_on: c.refused_on,
            scope: c
                .scope
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            confirmed_by: c.confirmed_by.clone(),
            competence_assessed_by: c.competence_assessed_by.clone(),
            reoffer_plan: c.reoffer_plan.clone(),
            withdrawn_on: c.withdrawn_on,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentView {
    pub id: String,
    pub assessment_id: String,
    /// When it starts: RFC 3339 in Europe/London's local time with the offset in force
    /// that day, e.g. 2026-01-12T10:30:00+00:00 (GMT) or 2026-06-12T10:30:00+01:00 (BST).
    #[serde(serialize_with = "local_time")]
    pub starts_at: DateTime<FixedOffset>,
    pub clinician: String,
    pub location: String,
    pub booked_on: NaiveDate,
    pub outcome: Option<String>,
    pub outcome_recorded_on: Option<NaiveDate>,
    pub version: i32,
}

impl From<&models::Appointment> for AppointmentView {
    fn from(a: &models::Appointment) -> Self {
        AppointmentView {
            id: a.id.clone(),
            assessment_id: a.assessment_id.clone(),
            starts_at: london_time(a.starts_at),
            clinician: a.clinician.clone(),
            location: a.location.clone(),
            booked_on: a.booked_on,
            outcome: a.outcome.clone(),
            outcome_recorded_on: a.outcome_recorded_on,
            version: a.version,
        }
    }
}

/// A stored UTC instant as Europe/London's local time with its offset: the time on the
/// clinic's clock, which a client can still compare and convert exactly.
pub fn london_time(utc: NaiveDateTime) -> DateTime<FixedOffset> {
    London.from_utc_datetime(&utc).fixed_offset()
}

/// A local time always writes its offset as digits, `+00:00` in winter too: `Z` would
/// read as "UTC" rather than "the clock in London, which is on GMT".
fn local_time<S: serde::Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
}

/// The answer to booking: the assessment after the step, its fields where they always
/// were, with the appointment the booking made (the answer's `Location` names it).
#[derive(Debug, Serialize, ToSchema)]
pub struct Booked {
    #[serde(flatten)]
    pub assessment: AssessmentView,
    pub appointment: AppointmentView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthCheckView {
    pub id: String,
    pub child_id: String,
    pub kind: String,
    pub checked_on: NaiveDate,
    pub up_to_date: Option<bool>,
    pub sdq_score: Option<i32>,
    pub sdq_reason: Option<String>,
    pub outcome: Option<String>,
}

impl From<&models::HealthCheck> for HealthCheckView {
    fn from(h: &models::HealthCheck) -> Self {
        HealthCheckView {
            id: h.id.clone(),
            child_id: h.child_id.clone(),
            kind: h.kind.clone(),
            checked_on: h.checked_on,
            up_to_date: h.up_to_date.map(|v| v != 0),
            sdq_score: h.sdq_score,
            sdq_reason: h.sdq_reason.clone(),
            outcome: h.outcome.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteView {
    pub id: String,
    pub child_id: String,
    pub assessment_id: Option<String>,
    pub body: String,
    pub author: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&models::Note> for NoteView {
    fn from(n: &models::Note) -> Self {
        NoteView {
            id: n.id.clone(),
            child_id: n.child_id.clone(),
            assessment_id: n.assessment_id.clone(),
            body: n.body.clone(),
            author: n.author.clone(),
            created_at: n.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub assessment_id: String,
    pub step: String,
    pub from_state: String,
    pub to_state: String,
    pub occurred_on: NaiveDate,
    pub detail: Option<String>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

impl From<&models::AssessmentEvent> for TimelineEntry {
    fn from(e: &models::AssessmentEvent) -> Self {
        TimelineEntry {
            assessment_id: e.assessment_id.clone(),
            step: e.step.clone(),
            from_state: e.from_state.clone(),
            to_state: e.to_state.clone(),
            occurred_on: e.occurred_on,
            detail: e.detail.clone(),
            recorded_at: e.created_at.and_utc(),
        }
    }
}

/// A child's whole record.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildDetail {
    #[serde(flatten)]
    pub child: ChildSummary,
    pub periods: Vec<PeriodView>,
    /// The legal-status changes within those periods effective on or before `as_of`,
    /// oldest first (each period's first status is the period's own `legal_status`).
    pub legal_status_changes: Vec<LegalStatusChangeView>,
    /// The health leaving-care summary and the adoption medical report, when the child
    /// has them, each with its RAG and escalation on `as_of`.
    pub health_obligations: Vec<super::care::HealthObligationView>,
    pub assessments: Vec<AssessmentView>,
    pub consents: Vec<ConsentView>,
    pub appointments: Vec<AppointmentView>,
    pub out_of_area_requests: Vec<OutOfAreaRequestView>,
    pub health_checks: Vec<HealthCheckView>,
    pub notes: Vec<NoteView>,
    pub timeline: Vec<TimelineEntry>,
    /// Escalations about this child, newest first: who was told, when, and what became of each mail.
    pub escalations: Vec<super::escalations::EscalationView>,
}
