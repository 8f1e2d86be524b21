//! The assessment workflow: every step is one transaction that checks the version, asks
//! `workflow::transition` whether the step is allowed, updates the row and writes the
//! step to the timeline.
//!
//! Steps race safely: each saves the assessment with its version in the WHERE clause, so of
//! two steps on one assessment (two bookings, two consents, a completion and a close) only
//! the first commits and the other gets 409 with nothing written (the rows it inserted,
//! such as a consent or an appointment, roll back with it).

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::history_store;
use super::validate::{whole, Checks};
use super::views::*;
use super::{check_version, DomainCtx};
use crate::audit::AuditEvent;
use crate::db::models::{self, new_id, now_utc};
use crate::db::schema::*;
use crate::db::DbConn;
use crate::error::{on_unique_violation, AppError, AppResult};
use crate::history::{Change, RequestStep};
use crate::obligations;
use crate::workflow::{self, Event, Kind, Outcome, State};

pub fn open_state_names() -> Vec<&'static str> {
    State::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str()).collect()
}

// ---------------------------------------------------------------------------------------
// Inputs

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationInput {
    /// The day health was told the child became looked after.
    #[serde(deserialize_with = "crate::input::date")]
    pub received_on: NaiveDate,
    #[serde(default, deserialize_with = "whole::option_i32")]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// Consent given on this date; or give `refused_on` for a competent refusal.
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub given_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub refused_on: Option<NaiveDate>,
    /// parent_with_pr, local_authority, young_person or court.
    pub basis: String,
    /// Who gave (or refused) consent.
    pub given_by: String,
    /// assessment, share_report, obtain_records, birth_history (default: assessment).
    pub scope: Option<Vec<String>>,
    /// The social worker who confirmed the consent.
    pub confirmed_by: Option<String>,
    /// Who judged the young person competent (Gillick), required under 16.
    pub competence_assessed_by: Option<String>,
    /// For a refusal: the plan to offer the assessment again.
    pub reoffer_plan: Option<String>,
    /// The person consenting is the child's birth mother: the only consent that covers
    /// the `birth_history` scope (with basis parent_with_pr).
    #[serde(default)]
    pub given_by_birth_mother: bool,
    #[serde(default, deserialize_with = "whole::option_i32")]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentInput {
    /// RFC 3339 with an offset, any offset: 2026-06-12T09:30:00Z and
    /// 2026-06-12T10:30:00+01:00 are the same instant. A time without an offset is
    /// refused (400): around a clock change it could be either of two instants.
    #[serde(deserialize_with = "crate::input::timestamp")]
    pub starts_at: DateTime<FixedOffset>,
    pub clinician: String,
    pub location: String,
    /// The day the booking was made (default: today).
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub booked_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "whole::option_i32")]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeInput {
    /// attended, was_not_brought, did_not_attend, refused, cancelled_by_carer, cancelled_by_la,
    /// cancelled_by_provider or no_access.
    pub outcome: String,
    /// Default: today.
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub recorded_on: Option<NaiveDate>,
    /// The appointment's version.
    #[serde(default, deserialize_with = "whole::option_i32")]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionInput {
    #[serde(deserialize_with = "crate::input::date")]
    pub seen_on: NaiveDate,
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub report_received_on: Option<NaiveDate>,
    /// face_to_face (default) or brief_health_summary (written without the child after
    /// repeated non-attendance).
    pub method: Option<String>,
    #[serde(default, deserialize_with = "whole::option_i32")]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReofferInput {
    #[serde(deserialize_with = "crate::input::date")]
    pub offered_on: NaiveDate,
    #[serde(default, deserialize_with = "whole::option_i32")]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotRequiredInput {
    /// The assessment in the 3 months before the period began that stands in for the IHA.
    #[serde(deserialize_with = "crate::input::date")]
    pub prior_assessment_on: NaiveDate,
    /// The day it was found not required (default: today). After the due date, the
    /// assessment keeps its breach.
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub decided_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "whole::option_i32")]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    #[serde(deserialize_with = "crate::input::date")]
    pub closed_on: NaiveDate,
    pub reason: String,
    #[serde(default, deserialize_with = "whole::option_i32")]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutOfAreaUpdate {
    #[serde(deserialize_with = "whole::i32")]
    pub version: i32,
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub requested_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub acknowledged_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub appointment_offered_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub report_received_on: Option<NaiveDate>,
    /// The host ICB's Designated Nurse for CLA, told when the host provider does not answer
    /// (an empty string clears it).
    pub host_icb_email: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentWithdrawal {
    #[serde(deserialize_with = "crate::input::date")]
    pub withdrawn_on: NaiveDate,
}

// ---------------------------------------------------------------------------------------
// Loading and saving

pub fn load(conn: &mut DbConn, id: &str) -> AppResult<models::Assessment> {
    assessments::table
        .find(id)
        .select(models::Assessment::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound("assessment"))
}

fn load_child(conn: &mut DbConn, child_id: &str) -> AppResult<models::Child> {
    super::children::load(conn, child_id)
}

/// Keeps `assessments.open_request` (which the host provider's queue reads from its own
/// index) equal to whether the assessment has an open out-of-area request: called in the
/// transaction that opens or closes one. The flag is not in `models::Assessment`, so a
/// write of the whole row never overwrites it.
pub fn mark_open_request(conn: &mut DbConn, assessment_id: &str, open: bool) -> QueryResult<usize> {
    diesel::update(assessments::table.find(assessment_id))
        .set(assessments::open_request.eq(open))
        .execute(conn)
        .and_then(|n| super::forecast_stamp::clear(conn, assessment_id).map(|_| n))
}

/// Sets `assessments.open_request` from the requests themselves, for rows written in bulk
/// (seed-demo); the migration that added the flag does the same.
pub fn sync_open_requests(conn: &mut DbConn) -> QueryResult<usize> {
    let open = || {
        out_of_area_requests::table
            .filter(out_of_area_requests::closed_on.is_null())
            .select(out_of_area_requests::assessment_id)
    };
    let opened = diesel::update(assessments::table)
        .filter(assessments::id.eq_any(open()))
        .filter(assessments::open_request.eq(false))
        .set(assessments::open_request.eq(true))
        .execute(conn)?;
    let closed = diesel::update(assessments::table)
        .filter(diesel::dsl::not(assessments::id.eq_any(open())))
        .filter(assessments::open_request.eq(true))
        .set(assessments::open_request.eq(false))
        .execute(conn)?;
    Ok(opened + closed)
}

/// The open out-of-area requests of these assessments (at most one each).
pub fn open_requests(conn: &mut DbConn, assessment_ids: &[&str]) -> AppResult<Vec<models::OutOfAreaRequest>> {
    Ok(out_of_area_requests::table
        .filter(out_of_area_requests::assessment_id.eq_any(assessment_ids))
        .filter(out_of_area_requests::closed_on.is_null())
        .select(models::OutOfAreaRequest::as_select())
        .load(conn)?)
}

/// The view of one assessment as it stood on `as_of` (replayed from its history when
/// something was recorded as happening after that day).
pub fn view(conn: &mut DbConn, ctx: &DomainCtx, a: &models::Assessment, as_of: NaiveDate) -> AppResult<AssessmentView> {
    let child = load_child(conn, &a.child_id)?;
    let request = requests_open_on(conn, &[a.id.as_str()], as_of)?.pop();
    let events = history_store::events_for(conn, &[a], as_of)?;
    let rows = AssessmentRows {
        assessment: a,
        child_local_id: &child.local_id,
        date_of_birth: child.date_of_birth,
        out_of_area: request.as_ref(),
        events: events.get(&a.id).map(Vec::as_slice),
    };
    let mut views = [assessment_view(&rows, ctx, as_of)?];
    super::forecast::attach(conn, ctx, &[a], &mut views, as_of)?;
    let [view] = views;
    Ok(view)
}

/// The assessment, if it exists and the caller may see the child (404 otherwise).
pub fn load_visible(conn: &mut DbConn, ctx: &DomainCtx, id: &str) -> AppResult<models::Assessment> {
    let a = load(conn, id)?;
    ctx.check_visible(&load_child(conn, &a.child_id)?, "assessment")?;
    Ok(a)
}

pub fn get(conn: &mut DbConn, ctx: &DomainCtx, id: &str, as_of: NaiveDate) -> AppResult<AssessmentView> {
    ctx.read_audited(
        conn,
        |conn| {
            let a = load_visible(conn, ctx, id)?;
            view(conn, ctx, &a, as_of)
        },
        |v| AuditEvent::ok("read", "assessment", Some(&v.id), Some(&v.child_id)),
    )
}

/// Writes the row if nobody changed it since it was read (version check in the WHERE).
fn save(conn: &mut DbConn, a: &mut models::Assessment) -> AppResult<()> {
    let read_version = a.version;
    a.version += 1;
    a.updated_at = now_utc();
    super::rag_store::clear(a);
    let n = diesel::update(
        assessments::table
            .filter(assessments::id.eq(&a.id))
            .filter(assessments::version.eq(read_version)),
    )
    .set(&*a)
    .execute(conn)?;
    if n == 0 {
        let current = load(conn, &a.id)?.version;
        return Err(AppError::StaleVersion {
            sent: read_version,
            current,
        });
    }
    Ok(())
}

pub fn record_event(
    conn: &mut DbConn,
    assessment_id: &str,
    step: &str,
    from: &str,
    to: &str,
    occurred_on: NaiveDate,
    detail: Option<String>,
) -> AppResult<()> {
    let row = models::AssessmentEvent {
        id: new_id(),
        assessment_id: assessment_id.to_string(),
        step: step.to_string(),
        from_state: from.to_string(),
        to_state: to.to_string(),
        occurred_on,
        detail,
        created_at: now_utc(),
    };
    diesel::insert_into(assessment_events::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// Asks the workflow whether `event` is allowed now; answers 409 naming the state and the
/// steps allowed from it when it is not.
fn next_state(a: &models::Assessment, event: &Event) -> AppResult<State> {
    let kind: Kind = parse_stored("kind", &a.kind)?;
    let state: State = parse_stored("state", &a.state)?;
    workflow::transition(kind, state, event).map_err(|refusal| AppError::Conflict(refusal.to_string()))
}

/// Moves the assessment to `to`, saves it and records the step on the timeline.
fn advance(
    conn: &mut DbConn,
    a: &mut models::Assessment,
    step: &str,
    to: State,
    occurred_on: NaiveDate,
    detail: Option<String>,
) -> AppResult<()> {
    let from = std::mem::replace(&mut a.state, to.as_str().to_string());
    save(conn, a)?;
    record_event(conn, &a.id, step, &from, to.as_str(), occurred_on, detail)
}

/// Runs one step in a transaction: load, version check, validate against the row, apply.
fn run_step<F>(conn: &mut DbConn, ctx: &DomainCtx, id: &str, version: Option<i32>, f: F) -> AppResult<AssessmentView>
where
    F: FnOnce(&mut DbConn, &mut models::Assessment) -> AppResult<()>,
{
    let a = crate::db::write_transaction(conn, |conn| {
        let mut a = load_visible(conn, ctx, id)?;
        check_version(version, a.version)?;
        let before = a.clone();
        f(conn, &mut a)?;
        ctx.audit(
            conn,
            AuditEvent::ok("update", "assessment", Some(&a.id), Some(&a.child_id))
                .with_changes(Some(&before), Some(&a)),
        )?;
        Ok::<_, AppError>(a)
    })?;
    view(conn, ctx, &a, ctx.today)
}

// ---------------------------------------------------------------------------------------
// Steps

pub fn notify(conn: &mut DbConn, ctx: &DomainCtx, id: &str, input: NotificationInput) -> AppResult<AssessmentView> {
    run_step(conn, ctx, id, input.version, |conn, a| {
        let mut c = Checks::new();
        c.not_future("received_on", input.received_on, ctx.today);
        c.not_before(
            "received_on",
            input.received_on,
            a.clock_started_on,
            "the day the child became looked after",
        );
        c.finish()?;
        let to = next_state(a, &Event::Notify)?;
        a.notified_on = Some(input.received_on);
        advance(conn, a, "notification", to, input.received_on, None)?;
        history_store::record(conn, ctx, a, input.received_on, Change::Notified)?;
        Ok(())
    })
}

const CONSENT_BASES: [&str; 4] = ["parent_with_pr", "local_authority", "young_person", "court"];
const CONSENT_SCOPES: [&str; 4] = ["assessment", "share_report", "obtain_records", "birth_history"];

pub fn consent(conn: &mut DbConn, ctx: &DomainCtx, id: &str, input: ConsentInput) -> AppResult<AssessmentView> {
    run_step(conn, ctx, id, input.version, |conn, a| {
        let child = load_child(conn, &a.child_id)?;
        // Judged against the status in force on the consent's own day, not today's.
        let day = input.given_on.or(input.refused_on).unwrap_or(ctx.today);
        let legal_status = match &a.period_id {
            Some(pid) => super::periods::legal_status_on(conn, pid, day)?,
            None => None,
        };
        let (on, refused) = check_consent(&input, a, &child, legal_status.as_deref(), ctx)?;
        let scope = input.scope.clone().unwrap_or_else(|| vec!["assessment".into()]);
        let row = models::Consent {
            id: new_id(),
            assessment_id: a.id.clone(),
            basis: input.basis.trim().to_string(),
            given_by: input.given_by.trim().to_string(),
            given_on: input.given_on,
            refused_on: input.refused_on,
            scope: scope.join(","),
            confirmed_by: input.confirmed_by.as_deref().map(|s| s.trim().to_string()),
            competence_assessed_by: input.competence_assessed_by.as_deref().map(|s| s.trim().to_string()),
            reoffer_plan: input.reoffer_plan.as_deref().map(|s| s.trim().to_string()),
            withdrawn_on: None,
            created_at: now_utc(),
        };
        diesel::insert_into(consents::table).values(&row).execute(conn)?;
        if input.given_by_birth_mother {
            // Set apart from the row struct, which other writers (seed-demo) build too.
            diesel::update(consents::table.find(&row.id))
                .set(consents::given_by_birth_mother.eq(1))
                .execute(conn)?;
        }
        if refused {
            let to = next_state(a, &Event::RefuseConsent)?;
            a.ended_on = Some(on);
            a.end_reason = Some("competent refusal by the young person".into());
            advance(conn, a, "refusal", to, on, row.reoffer_plan.clone())?;
            history_store::record(conn, ctx, a, on, Change::ConsentRefused { consent_id: row.id })?;
            return Ok(());
        }
        if a.kind == Kind::Rha.as_str() {
            // Reviews have no consent step in their workflow: the consent is kept on record.
            a.consent_on = Some(on);
            save(conn, a)?;
            record_event(conn, &a.id, "consent", &a.state.clone(), &a.state.clone(), on, None)?;
        } else {
            let to = next_state(a, &Event::ConfirmConsent)?;
            a.consent_on = Some(on);
            advance(conn, a, "consent", to, on, None)?;
        }
        history_store::record(conn, ctx, a, on, Change::ConsentGiven { consent_id: row.id })?;
        Ok(())
    })
}

/// Birth history may only be obtained with the birth mother's consent (DOMAIN.md,
/// "Consent"): a parent with PR who is the birth mother. No other basis covers it, not
/// the LA under a care order, the court, or the young person.
fn birth_history_refusal(input: &ConsentInput, basis: &str) -> Option<&'static str> {
    let scope = input.scope.as_deref().unwrap_or_default();
    if birth_history_allowed(scope, basis, input.given_by_birth_mother) {
        return None;
    }
    Some("birth_history needs the birth mother's consent (basis parent_with_pr, given_by_birth_mother true); no other basis covers it")
}

/// The rule itself, shared with the consent form (`web::assessment`), which says it in its
/// own words: a scope without birth history is always allowed; with it, only a parent with
/// PR who is the child's birth mother.
pub fn birth_history_allowed(scope: &[String], basis: &str, given_by_birth_mother: bool) -> bool {
    !scope.iter().any(|s| s == "birth_history") || (basis.trim() == "parent_with_pr" && given_by_birth_mother)
}

/// Who can consent depends on the legal status (does the LA hold parental responsibility?)
/// and on the young person's age and competence. Returns the date and whether it is a refusal.
fn check_consent(
    input: &ConsentInput,
    a: &models::Assessment,
    child: &models::Child,
    legal_status: Option<&str>,
    ctx: &DomainCtx,
) -> AppResult<(NaiveDate, bool)> {
    let mut c = Checks::new();
    let basis = input.basis.trim();
    if !CONSENT_BASES.contains(&basis) {
        c.fail(
            "basis",
            "must be one of parent_with_pr, local_authority, young_person, court",
        );
    }
    c.text("given_by", &input.given_by, 200);
    c.optional_text("confirmed_by", input.confirmed_by.as_deref(), 254);
    c.optional_text("competence_assessed_by", input.competence_assessed_by.as_deref(), 200);
    c.optional_text("reoffer_plan", input.reoffer_plan.as_deref(), 2000);
    for s in input.scope.iter().flatten() {
        if !CONSENT_SCOPES.contains(&s.as_str()) {
            c.fail(
                "scope",
                format!("unknown scope {s:?}; must be among assessment, share_report, obtain_records, birth_history"),
            );
        }
    }
    let (on, refused) = match (input.given_on, input.refused_on) {
        (Some(d), None) => (d, false),
        (None, Some(d)) => (d, true),
        _ => {
            c.fail("given_on", "give exactly one of given_on or refused_on");
            c.finish()?;
            unreachable!("finish fails when a check failed")
        }
    };
    if let Some(why) = birth_history_refusal(input, basis) {
        c.fail("scope", why);
    }
    let field = if refused { "refused_on" } else { "given_on" };
    c.not_future(field, on, ctx.today);
    c.not_before(field, on, a.clock_started_on, "the start of the assessment's clock");
    if refused && basis != "young_person" {
        c.fail("basis", "only a competent young person can refuse (basis young_person)");
    }
    if basis == "local_authority" {
        if let Some(ls) = legal_status.filter(|ls| !crate::legal_status::la_holds_parental_responsibility(ls)) {
            c.fail(
                "basis",
                format!("the local authority does not hold parental responsibility under legal status {ls}; consent must come from a parent with PR, the young person or the court"),
            );
        }
    }
    if basis == "young_person"
        && obligations::age_on(child.date_of_birth, on) < 16
        && input
            .competence_assessed_by
            .as_deref()
            .map(str::trim)
            .unwrap_or("")
            .is_empty()
    {
        c.fail(
            "competence_assessed_by",
            "a young person under 16 can consent or refuse only when judged competent (Gillick): say who judged it",
        );
    }
    c.finish()?;
    Ok((on, refused))
}

/// Books (or rebooks): answers the assessment after the step with the appointment made.
pub fn book(conn: &mut DbConn, ctx: &DomainCtx, id: &str, input: AppointmentInput) -> AppResult<Booked> {
    let mut made = None;
    let assessment = run_step(conn, ctx, id, input.version, |conn, a| {
        let mut c = Checks::new();
        let clinician = c.text("clinician", &input.clinician, 200);
        let location = c.text("location", &input.location, 200);
        let booked_on = input.booked_on.unwrap_or(ctx.today);
        c.not_future("booked_on", booked_on, ctx.today);
        c.not_before(
            "booked_on",
            booked_on,
            a.clock_started_on,
            "the start of the assessment's clock",
        );
        let starts_at = input.starts_at.with_timezone(&Utc);
        let day = starts_at.with_timezone(&London).date_naive();
        c.not_before("starts_at", day, booked_on, "the day it was booked");
        c.finish()?;
        let to = next_state(a, &Event::Book)?;
        let row = models::Appointment {
            id: new_id(),
            assessment_id: a.id.clone(),
            starts_at: starts_at.naive_utc(),
            clinician,
            location,
            booked_on,
            outcome: None,
            outcome_recorded_on: None,
            version: 1,
            created_at: now_utc(),
            responsible_la: a.responsible_la.clone(),
        };
        diesel::insert_into(appointments::table).values(&row).execute(conn)?;
        a.first_booked_on = a.first_booked_on.or(Some(booked_on));
        a.appointment_on = Some(day);
        made = Some(AppointmentView::from(&row));
        advance(
            conn,
            a,
            "appointment",
            to,
            booked_on,
            Some(format!("appointment {} on {day}", row.id)),
        )?;
        let booked = Change::Booked {
            appointment_id: row.id.clone(),
            appointment_on: day,
        };
        history_store::record(conn, ctx, a, booked_on, booked)?;
        Ok(())
    })?;
    let appointment = made.ok_or_else(|| AppError::Internal("a booking made no appointment".into()))?;
    Ok(Booked {
        assessment,
        appointment,
    })
}

fn load_appointment(conn: &mut DbConn, id: &str) -> AppResult<models::Appointment> {
    appointments::table
        .find(id)
        .select(models::Appointment::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound("appointment"))
}

/// One appointment, read like its assessment: out of scope answers exactly like unknown.
pub fn get_appointment(conn: &mut DbConn, ctx: &DomainCtx, id: &str) -> AppResult<AppointmentView> {
    crate::db::write_transaction(conn, |conn| {
        let appointment = load_appointment(conn, id)?;
        let owner = load(conn, &appointment.assessment_id)?;
        ctx.check_visible(&load_child(conn, &owner.child_id)?, "appointment")?;
        ctx.audit(
            conn,
            AuditEvent::ok("read", "appointment", Some(&appointment.id), Some(&owner.child_id)),
        )?;
        Ok(AppointmentView::from(&appointment))
    })
}

pub fn record_outcome(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    appointment_id: &str,
    input: OutcomeInput,
) -> AppResult<AssessmentView> {
    let outcome: Outcome = input.outcome.trim().parse().map_err(|_| {
        AppError::invalid(
            "outcome",
            "must be one of attended, was_not_brought, did_not_attend, refused, cancelled_by_carer, cancelled_by_la, cancelled_by_provider, no_access",
        )
    })?;
    let appointment = load_appointment(conn, appointment_id)?;
    // Out of scope must answer exactly like unknown, or appointment ids could be probed.
    let owner = load(conn, &appointment.assessment_id)?;
    ctx.check_visible(&load_child(conn, &owner.child_id)?, "appointment")?;
    let assessment_id = appointment.assessment_id.clone();
    run_step(conn, ctx, &assessment_id, None, |conn, a| {
        check_version(input.version, appointment.version)?;
        let day = appointment.starts_at.and_utc().with_timezone(&London).date_naive();
        let recorded_on = input.recorded_on.unwrap_or(ctx.today);
        check_outcome(conn, a, &appointment, outcome, day, recorded_on, ctx)?;
        let to = next_state(a, &Event::RecordOutcome(outcome))?;
        let n = diesel::update(
            appointments::table
                .filter(appointments::id.eq(&appointment.id))
                .filter(appointments::version.eq(appointment.version)),
        )
        .set((
            appointments::outcome.eq(outcome.as_str()),
            appointments::outcome_recorded_on.eq(recorded_on),
            appointments::version.eq(appointment.version + 1),
        ))
        .execute(conn)?;
        if n == 0 {
            return Err(AppError::StaleVersion {
                sent: appointment.version,
                current: appointment.version + 1,
            });
        }
        // A cancellation is known the day it was made; anything else on the day itself.
        let on = crate::db::history::outcome_effective_on(outcome, day, recorded_on);
        if outcome == Outcome::Attended {
            a.seen_on = Some(day);
        } else {
            a.non_attendance_count += 1;
            a.last_non_attendance_on = Some(on);
            a.last_non_attendance_outcome = Some(outcome.as_str().to_string());
            a.appointment_on = None;
        }
        advance(conn, a, "outcome", to, on, Some(outcome.as_str().to_string()))?;
        let change = Change::AppointmentOutcome {
            appointment_id: appointment.id.clone(),
            outcome,
        };
        history_store::record(conn, ctx, a, on, change)?;
        Ok(())
    })
}

fn check_outcome(
    conn: &mut DbConn,
    a: &models::Assessment,
    appointment: &models::Appointment,
    outcome: Outcome,
    day: NaiveDate,
    recorded_on: NaiveDate,
    ctx: &DomainCtx,
) -> AppResult<()> {
    if appointment.outcome.is_some() {
        return Err(AppError::Conflict("this appointment already has an outcome".into()));
    }
    let latest: Option<String> = appointments::table
        .filter(appointments::assessment_id.eq(&a.id))
        .order((appointments::created_at.desc(), appointments::id.desc()))
        .select(appointments::id)
        .first(conn)
        .optional()?;
    if latest.as_deref() != Some(appointment.id.as_str()) {
        return Err(AppError::Conflict(
            "this appointment was replaced by a later booking; record the outcome of the latest one".into(),
        ));
    }
    let mut c = Checks::new();
    c.not_future("recorded_on", recorded_on, ctx.today);
    c.not_before(
        "recorded_on",
        recorded_on,
        appointment.booked_on,
        "the day the appointment was booked",
    );
    // Whether a child came can only be known once the day has come; cancellations can be earlier.
    let cancellation = matches!(
        outcome,
        Outcome::CancelledByCarer | Outcome::CancelledByLa | Outcome::CancelledByProvider
    );
    if !cancellation && day > recorded_on {
        c.fail("outcome", format!("the appointment on {day} has not happened yet"));
    }
    c.finish()
}

const COMPLETION_METHODS: [&str; 2] = ["face_to_face", "brief_health_summary"];

/// How many of the assessment's appointments the child missed (`Outcome::is_non_attendance`).
fn non_attendances(conn: &mut DbConn, assessment_id: &str) -> AppResult<usize> {
    let outcomes: Vec<Option<String>> = appointments::table
        .filter(appointments::assessment_id.eq(assessment_id))
        .select(appointments::outcome)
        .load(conn)?;
    Ok(outcomes
        .iter()
        .flatten()
        .filter(|o| o.parse::<Outcome>().is_ok_and(Outcome::is_non_attendance))
        .count())
}

pub fn complete(conn: &mut DbConn, ctx: &DomainCtx, id: &str, input: CompletionInput) -> AppResult<AssessmentView> {
    run_step(conn, ctx, id, input.version, |conn, a| {
        let child = load_child(conn, &a.child_id)?;
        let method = input
            .method
            .as_deref()
            .map(str::trim)
            .unwrap_or("face_to_face")
            .to_string();
        let mut c = Checks::new();
        if !COMPLETION_METHODS.contains(&method.as_str()) {
            c.fail("method", "must be face_to_face or brief_health_summary");
        }
        check_completion_dates(&mut c, ctx, a, input.seen_on, input.report_received_on);
        let by_summary = method == "brief_health_summary";
        if by_summary {
            let missed = non_attendances(conn, &a.id)?;
            let kind = if a.kind == Kind::Iha.as_str() {
                Kind::Iha
            } else {
                Kind::Rha
            };
            if let Some(why) = crate::workflow::brief_health_summary_refusal(kind, missed) {
                c.fail("method", why);
            }
        }
        c.finish()?;
        let event = if by_summary {
            Event::CompleteBySummary
        } else {
            Event::Complete
        };
        let detail = method.clone();
        let done = Completion {
            seen_on: input.seen_on,
            report_received_on: input.report_received_on,
            method,
            detail,
        };
        apply_completion(conn, ctx, a, &child, &event, done)
    })
}

/// The seen and report dates of a completion: not in the future, seen on or after the
/// clock started, the report on or after the child was seen.
fn check_completion_dates(
    c: &mut Checks,
    ctx: &DomainCtx,
    a: &models::Assessment,
    seen_on: NaiveDate,
    report_received_on: Option<NaiveDate>,
) {
    c.not_future("seen_on", seen_on, ctx.today);
    c.not_before(
        "seen_on",
        seen_on,
        a.clock_started_on,
        "the start of the assessment's clock",
    );
    if let Some(r) = report_received_on {
        c.not_future("report_received_on", r, ctx.today);
        c.not_before("report_received_on", r, seen_on, "seen_on");
    }
}

/// A checked completion, as saved.
struct Completion {
    seen_on: NaiveDate,
    report_received_on: Option<NaiveDate>,
    method: String,
    /// What the timeline shows beside the step.
    detail: String,
}

/// Saves a completion: the dates, the timeline step, the history (seen, then completed on
/// the day the report came, or the day seen without one), closes the out-of-area request
/// and schedules the next review.
fn apply_completion(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    a: &mut models::Assessment,
    child: &models::Child,
    event: &Event,
    done: Completion,
) -> AppResult<()> {
    let to = next_state(a, event)?;
    a.seen_on = Some(done.seen_on);
    a.report_received_on = done.report_received_on;
    let completed_on = done.report_received_on.unwrap_or(done.seen_on);
    a.completed_on = Some(completed_on);
    a.completion_method = Some(done.method.clone());
    a.appointment_on = None;
    advance(conn, a, "completion", to, completed_on, Some(done.detail))?;
    history_store::record(conn, ctx, a, done.seen_on, Change::Seen)?;
    let change = Change::Completed {
        method: done.method,
        report_received: done.report_received_on.is_some(),
    };
    history_store::record(conn, ctx, a, completed_on, change)?;
    close_requests_by(conn, ctx, &a.id, completed_on)?;
    schedule_next_review(conn, ctx, a, child, done.seen_on)
}

/// A face-to-face completion done before the tracker held the child, from the team's
/// spreadsheet (`import health-checks`): the same dates, checks, history and next review
/// as [`complete`], accepted from any open state but a refusal
/// ([`Event::RecordCompleted`]), since the steps that led to it were never recorded.
pub fn record_completed(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    id: &str,
    seen_on: NaiveDate,
    report_received_on: Option<NaiveDate>,
) -> AppResult<()> {
    crate::db::write_transaction(conn, |conn| {
        let mut a = load_visible(conn, ctx, id)?;
        let before = a.clone();
        let child = load_child(conn, &a.child_id)?;
        let mut c = Checks::new();
        check_completion_dates(&mut c, ctx, &a, seen_on, report_received_on);
        c.finish()?;
        let done = Completion {
            seen_on,
            report_received_on,
            method: "face_to_face".to_string(),
            detail: "face_to_face, imported".to_string(),
        };
        apply_completion(conn, ctx, &mut a, &child, &Event::RecordCompleted, done)?;
        ctx.audit(
            conn,
            AuditEvent::ok("import", "assessment", Some(&a.id), Some(&a.child_id))
                .with_changes(Some(&before), Some(&a)),
        )
    })
}

/// Completing an assessment schedules the next review from the day the child was seen,
/// while the child is still looked after and under 18 when it would fall due.
fn schedule_next_review(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    done: &models::Assessment,
    child: &models::Child,
    seen_on: NaiveDate,
) -> AppResult<()> {
    let Some(period_id) = &done.period_id else {
        return Ok(());
    };
    let period_open: Option<Option<NaiveDate>> = periods::table
        .find(period_id)
        .select(periods::ended_on)
        .first(conn)
        .optional()?;
    if period_open != Some(None) {
        return Ok(());
    }
    let due_on = obligations::next_rha_due(child.date_of_birth, seen_on, &ctx.rha);
    if due_on >= obligations::birthday(child.date_of_birth, 18) {
        return Ok(());
    }
    let rha = new_assessment(
        child,
        Some(period_id.clone()),
        Kind::Rha,
        State::Scheduled,
        seen_on,
        due_on,
    );
    // Every step saves the assessment on its version, so two completions of one assessment
    // cannot both commit; `assessments_one_open_per_period` holds whatever else might.
    on_unique_violation(
        diesel::insert_into(assessments::table).values(&rha).execute(conn),
        || AppError::Conflict("the period already has an open review; read the child again".into()),
    )?;
    record_event(
        conn,
        &rha.id,
        "scheduled",
        "none",
        State::Scheduled.as_str(),
        seen_on,
        Some(format!("after {}", done.id)),
    )?;
    let opened = Change::Opened {
        state: State::Scheduled,
    };
    history_store::record_for(conn, ctx, &rha.id, seen_on, None, opened)?;
    Ok(())
}

pub fn new_assessment(
    child: &models::Child,
    period_id: Option<String>,
    kind: Kind,
    state: State,
    clock_started_on: NaiveDate,
    due_on: NaiveDate,
) -> models::Assessment {
    let now = now_utc();
    let mut a = models::Assessment {
        id: new_id(),
        child_id: child.id.clone(),
        period_id,
        kind: kind.as_str().to_string(),
        state: state.as_str().to_string(),
        clock_started_on,
        due_on,
        notified_on: None,
        consent_on: None,
        first_booked_on: None,
        appointment_on: None,
        seen_on: None,
        report_received_on: None,
        completed_on: None,
        completion_method: None,
        ended_on: None,
        end_reason: None,
        non_attendance_count: 0,
        last_non_attendance_on: None,
        last_non_attendance_outcome: None,
        version: 1,
        created_at: now,
        updated_at: now,
        rag: String::new(),
        rag_basis: String::new(),
        rag_from: None,
        rag_until: None,
        responsible_la: child.responsible_la.clone(),
        history_through: None,
    };
    super::rag_store::clear(&mut a);
    a
}

pub fn reoffer(conn: &mut DbConn, ctx: &DomainCtx, id: &str, input: ReofferInput) -> AppResult<AssessmentView> {
    run_step(conn, ctx, id, input.version, |conn, a| {
        let mut c = Checks::new();
        c.not_future("offered_on", input.offered_on, ctx.today);
        c.not_before(
            "offered_on",
            input.offered_on,
            a.ended_on.unwrap_or(a.clock_started_on),
            "the refusal",
        );
        c.finish()?;
        let to = next_state(a, &Event::Reoffer)?;
        a.ended_on = None;
        a.end_reason = None;
        advance(conn, a, "reoffer", to, input.offered_on, None)?;
        history_store::record(conn, ctx, a, input.offered_on, Change::Reoffered)?;
        Ok(())
    })
}

pub fn mark_not_required(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    id: &str,
    input: NotRequiredInput,
) -> AppResult<AssessmentView> {
    run_step(conn, ctx, id, input.version, |conn, a| {
        // The status in force when the clock started (a period may have changed since).
        let legal_status = match &a.period_id {
            Some(pid) => super::periods::legal_status_on(conn, pid, a.clock_started_on)?,
            None => None,
        }
        .unwrap_or_default();
        let decision = obligations::iha_decision(&legal_status, a.clock_started_on, Some(input.prior_assessment_on));
        let obligations::IhaDecision::NotRequired(reason) = decision else {
            return Err(AppError::invalid(
                "prior_assessment_on",
                format!(
                    "an assessment on {} does not stand in: it must be within the 3 months before {}",
                    input.prior_assessment_on, a.clock_started_on
                ),
            ));
        };
        let decided_on = input.decided_on.unwrap_or(ctx.today);
        let mut c = Checks::new();
        c.not_future("decided_on", decided_on, ctx.today);
        c.not_before(
            "decided_on",
            decided_on,
            a.clock_started_on,
            "the start of the assessment's clock",
        );
        c.finish()?;
        let to = next_state(a, &Event::MarkNotRequired)?;
        a.ended_on = Some(decided_on);
        a.end_reason = Some(reason.describe());
        advance(conn, a, "not_required", to, decided_on, a.end_reason.clone())?;
        let change = Change::NotRequired {
            reason: reason.describe(),
        };
        history_store::record(conn, ctx, a, decided_on, change)?;
        Ok(())
    })
}

pub fn close(conn: &mut DbConn, ctx: &DomainCtx, id: &str, input: CloseInput) -> AppResult<AssessmentView> {
    run_step(conn, ctx, id, input.version, |conn, a| {
        let mut c = Checks::new();
        let reason = c.text("reason", &input.reason, 500);
        c.not_future("closed_on", input.closed_on, ctx.today);
        c.not_before(
            "closed_on",
            input.closed_on,
            a.clock_started_on,
            "the start of the assessment's clock",
        );
        c.finish()?;
        close_open_by(conn, ctx, a, input.closed_on, &reason)
    })
}

/// Closes an open assessment for the system (housekeeping: turned 18).
pub fn close_open(conn: &mut DbConn, a: &mut models::Assessment, on: NaiveDate, reason: &str) -> AppResult<()> {
    close_open_as(conn, Some("system:housekeeping".into()), a, on, reason)
}

/// Closes an open assessment (period ended, turned 18, or closed by hand) and its requests.
pub fn close_open_by(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    a: &mut models::Assessment,
    on: NaiveDate,
    reason: &str,
) -> AppResult<()> {
    close_open_as(conn, history_store::recorded_by(ctx), a, on, reason)
}

fn close_open_as(
    conn: &mut DbConn,
    by: Option<String>,
    a: &mut models::Assessment,
    on: NaiveDate,
    reason: &str,
) -> AppResult<()> {
    let to = next_state(a, &Event::Close)?;
    a.ended_on = Some(on);
    a.end_reason = Some(reason.to_string());
    a.appointment_on = None;
    advance(conn, a, "close", to, on, Some(reason.to_string()))?;
    let closed = Change::Closed {
        reason: reason.to_string(),
    };
    history_store::record_as(conn, by.clone(), a, on, closed)?;
    close_requests_as(conn, by, &a.id, on)
}

/// Closes the assessment's open out-of-area requests on `on`, each a step in its history.
pub fn close_requests_by(conn: &mut DbConn, ctx: &DomainCtx, assessment_id: &str, on: NaiveDate) -> AppResult<()> {
    close_requests_as(conn, history_store::recorded_by(ctx), assessment_id, on)
}

fn close_requests_as(conn: &mut DbConn, by: Option<String>, assessment_id: &str, on: NaiveDate) -> AppResult<()> {
    let open: Vec<String> = out_of_area_requests::table
        .filter(out_of_area_requests::assessment_id.eq(assessment_id))
        .filter(out_of_area_requests::closed_on.is_null())
        .select(out_of_area_requests::id)
        .load(conn)?;
    if !open.is_empty() {
        mark_open_request(conn, assessment_id, false)?;
    }
    for id in open {
        diesel::update(out_of_area_requests::table.find(&id))
            .set(out_of_area_requests::closed_on.eq(on))
            .execute(conn)?;
        let closed = Change::Request {
            request_id: id,
            step: RequestStep::Closed,
        };
        history_store::record_for_as(conn, by.clone(), assessment_id, on, closed)?;
    }
    Ok(())
}

/// The out-of-area request of each of these assessments that was open on `as_of`: opened
/// by then and not closed by then (the latest opened, if several).
pub fn requests_open_on(
    conn: &mut DbConn,
    assessment_ids: &[&str],
    as_of: NaiveDate,
) -> AppResult<Vec<models::OutOfAreaRequest>> {
    let mut found: Vec<models::OutOfAreaRequest> = Vec::new();
    for chunk in assessment_ids.chunks(900) {
        found.extend(
            out_of_area_requests::table
                .filter(out_of_area_requests::assessment_id.eq_any(chunk))
                .filter(out_of_area_requests::opened_on.le(as_of))
                .filter(
                    out_of_area_requests::closed_on
                        .is_null()
                        .or(out_of_area_requests::closed_on.gt(as_of)),
                )
                .select(models::OutOfAreaRequest::as_select())
                .load::<models::OutOfAreaRequest>(conn)?,
        );
    }
    found.sort_by(|a, b| {
        (&a.assessment_id, b.opened_on, &b.created_at).cmp(&(&b.assessment_id, a.opened_on, &a.created_at))
    });
    found.dedup_by(|later, first| later.assessment_id == first.assessment_id);
    Ok(found)
}

pub fn update_out_of_area(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    request_id: &str,
    input: OutOfAreaUpdate,
) -> AppResult<OutOfAreaRequestView> {
    crate::db::write_transaction(conn, |conn| {
        let mut r: models::OutOfAreaRequest = out_of_area_requests::table
            .find(request_id)
            .select(models::OutOfAreaRequest::as_select())
            .first(conn)
            .optional()?
            .ok_or(AppError::NotFound("out-of-area request"))?;
        let assessment = load(conn, &r.assessment_id)?;
        ctx.check_visible(&load_child(conn, &assessment.child_id)?, "out-of-area request")?;
        check_version(Some(input.version), r.version)?;
        let before = r.clone();
        r.requested_on = input.requested_on.or(r.requested_on);
        r.acknowledged_on = input.acknowledged_on.or(r.acknowledged_on);
        r.appointment_offered_on = input.appointment_offered_on.or(r.appointment_offered_on);
        r.report_received_on = input.report_received_on.or(r.report_received_on);
        if let Some(email) = input.host_icb_email {
            let email = email.trim().to_string();
            if !email.is_empty() && email.parse::<lettre::Address>().is_err() {
                return Err(AppError::invalid("host_icb_email", "is not an email address"));
            }
            r.host_icb_email = Some(email).filter(|e| !e.is_empty());
        }
        check_request_dates(&r, ctx)?;
        record_request_steps(conn, ctx, &before, &r)?;
        let read_version = r.version;
        r.version += 1;
        let n = diesel::update(
            out_of_area_requests::table
                .filter(out_of_area_requests::id.eq(&r.id))
                .filter(out_of_area_requests::version.eq(read_version)),
        )
        .set(&r)
        .execute(conn)?;
        if n == 0 {
            return Err(AppError::StaleVersion {
                sent: read_version,
                current: read_version + 1,
            });
        }
        ctx.audit(
            conn,
            AuditEvent::ok("update", "out_of_area_request", Some(&r.id), Some(&assessment.child_id))
                .with_changes(Some(&before), Some(&r)),
        )?;
        Ok(OutOfAreaRequestView::from(&r))
    })
}

/// Each host step whose date is new is an event; a date that changed is a correction
/// that supersedes the step's earlier event.
fn record_request_steps(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    before: &models::OutOfAreaRequest,
    after: &models::OutOfAreaRequest,
) -> AppResult<()> {
    let steps = [
        (RequestStep::Sent, before.requested_on, after.requested_on),
        (RequestStep::Acknowledged, before.acknowledged_on, after.acknowledged_on),
        (
            RequestStep::AppointmentOffered,
            before.appointment_offered_on,
            after.appointment_offered_on,
        ),
        (
            RequestStep::ReportReceived,
            before.report_received_on,
            after.report_received_on,
        ),
    ];
    for (step, was, now) in steps {
        let Some(on) = now.filter(|now| was != Some(*now)) else {
            continue;
        };
        let corrects = match was {
            Some(_) => crate::db::history::latest_about(conn, &after.assessment_id, step.name(), &after.id)?,
            None => None,
        };
        let change = Change::Request {
            request_id: after.id.clone(),
            step,
        };
        history_store::record_for(conn, ctx, &after.assessment_id, on, corrects, change)?;
    }
    Ok(())
}

/// The host's steps happen in order: request, acknowledgement, appointment offered; the
/// report comes after the request. None may be in the future or before the request opened.
fn check_request_dates(r: &models::OutOfAreaRequest, ctx: &DomainCtx) -> AppResult<()> {
    let mut c = Checks::new();
    let steps = [
        ("requested_on", r.requested_on),
        ("acknowledged_on", r.acknowledged_on),
        ("appointment_offered_on", r.appointment_offered_on),
        ("report_received_on", r.report_received_on),
    ];
    for (field, date) in steps {
        if let Some(d) = date {
            c.not_future(field, d, ctx.today);
            c.not_before(field, d, r.opened_on, "the day the request was opened");
            if field != "requested_on" && r.requested_on.is_none() {
                c.fail(field, "record requested_on first");
            }
        }
    }
    if let (Some(req), Some(ack)) = (r.requested_on, r.acknowledged_on) {
        c.not_before("acknowledged_on", ack, req, "requested_on");
    }
    if let (Some(ack), Some(off)) = (r.acknowledged_on.or(r.requested_on), r.appointment_offered_on) {
        c.not_before("appointment_offered_on", off, ack, "the acknowledgement");
    }
    if let (Some(req), Some(rep)) = (r.requested_on, r.report_received_on) {
        c.not_before("report_received_on", rep, req, "requested_on");
    }
    c.finish()
}

/// Whether an IHA waiting on its booking or its appointment relied on the consent just
/// withdrawn: no other consent given is still in force.
fn relied_on(conn: &mut DbConn, a: &models::Assessment) -> AppResult<bool> {
    let waiting = [State::AwaitingBooking.as_str(), State::Booked.as_str()];
    if a.kind != Kind::Iha.as_str() || !waiting.contains(&a.state.as_str()) {
        return Ok(false);
    }
    let others: i64 = consents::table
        .filter(consents::assessment_id.eq(&a.id))
        .filter(consents::given_on.is_not_null())
        .filter(consents::withdrawn_on.is_null())
        .count()
        .get_result(conn)?;
    Ok(others == 0)
}

/// Withdrawal of the consent an open IHA relied on: it waits for consent again, and its
/// appointments from that day on are cancelled (consent is the local authority's step).
fn back_to_awaiting_consent(conn: &mut DbConn, a: &mut models::Assessment, on: NaiveDate) -> AppResult<()> {
    let to = next_state(a, &Event::WithdrawConsent)?;
    let from_day = on.and_time(chrono::NaiveTime::MIN);
    diesel::update(
        appointments::table
            .filter(appointments::assessment_id.eq(&a.id))
            .filter(appointments::outcome.is_null())
            .filter(appointments::starts_at.ge(from_day)),
    )
    .set((
        appointments::outcome.eq(Outcome::CancelledByLa.as_str()),
        appointments::outcome_recorded_on.eq(on),
        appointments::version.eq(appointments::version + 1),
    ))
    .execute(conn)?;
    a.consent_on = None;
    a.appointment_on = None;
    advance(conn, a, "consent_withdrawal", to, on, None)
}

pub fn withdraw_consent(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    consent_id: &str,
    input: ConsentWithdrawal,
) -> AppResult<ConsentView> {
    crate::db::write_transaction(conn, |conn| {
        let mut row: models::Consent = consents::table
            .find(consent_id)
            .select(models::Consent::as_select())
            .first(conn)
            .optional()?
            .ok_or(AppError::NotFound("consent"))?;
        let assessment = load(conn, &row.assessment_id)?;
        ctx.check_visible(&load_child(conn, &assessment.child_id)?, "consent")?;
        let withdrawn = || AppError::Conflict("consent already withdrawn".into());
        if row.withdrawn_on.is_some() {
            return Err(withdrawn());
        }
        let mut c = Checks::new();
        c.not_future("withdrawn_on", input.withdrawn_on, ctx.today);
        if let Some(given) = row.given_on.or(row.refused_on) {
            c.not_before("withdrawn_on", input.withdrawn_on, given, "the consent");
        }
        c.finish()?;
        // On condition, so that of two withdrawals at once only one is recorded.
        let n = diesel::update(
            consents::table
                .filter(consents::id.eq(&row.id))
                .filter(consents::withdrawn_on.is_null()),
        )
        .set(consents::withdrawn_on.eq(input.withdrawn_on))
        .execute(conn)?;
        if n == 0 {
            return Err(withdrawn());
        }
        record_event(
            conn,
            &row.assessment_id,
            "consent_withdrawn",
            "-",
            "-",
            input.withdrawn_on,
            None,
        )?;
        let withdrawn = Change::ConsentWithdrawn {
            consent_id: row.id.clone(),
        };
        let mut a = assessment.clone();
        if row.given_on.is_some() && relied_on(conn, &a)? {
            back_to_awaiting_consent(conn, &mut a, input.withdrawn_on)?;
        }
        history_store::record(conn, ctx, &mut a, input.withdrawn_on, withdrawn)?;
        let before = row.clone();
        row.withdrawn_on = Some(input.withdrawn_on);
        ctx.audit(
            conn,
            AuditEvent::ok("withdraw", "consent", Some(&row.id), Some(&assessment.child_id))
                .with_changes(Some(&before), Some(&row)),
        )?;
        Ok(ConsentView::from(&row))
    })
}
