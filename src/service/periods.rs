//! Periods of care and placements: starting a period opens the IHA clock (unless none is
//! due), an out-of-area placement opens a request to the host provider, and ending a period
//! closes what is still open.
//!
//! What concurrent requests could otherwise break is held by the database (migration
//! `one_open_at_a_time`): a child has at most one open period, a period at most one open
//! assessment of each kind, an assessment at most one open out-of-area request. Placement
//! changes and the end of a period also move the period's version on condition, so they
//! take turns. A request that loses such a race gets the 409 its own check would have
//! given, and its transaction leaves nothing behind.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::assessments::{close_open_by, close_requests_by, new_assessment, open_state_names, record_event};
use super::history_store;
use super::validate::Checks;
use super::views::*;
use super::DomainCtx;
use crate::audit::AuditEvent;
use crate::db::models::{self, new_id, now_utc};
use crate::db::schema::*;
use crate::db::DbConn;
use crate::error::{on_unique_violation, AppError, AppResult};
use crate::history::{Change, RequestStep};
use crate::obligations::{self, IhaDecision};
use crate::ssda903;
use crate::status;
use crate::workflow::{Kind, State};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlacement {
    /// Default (for the first placement of a period): the period's start.
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub started_on: Option<NaiveDate>,
    /// SSDA903 PLACE code.
    pub placement_type: String,
    #[serde(default)]
    pub out_of_area: bool,
    pub host_la: Option<String>,
    pub host_provider_email: Option<String>,
    /// A placement change only: the period's `version` as read (or `If-Match`); a stale one
    /// is refused with 409. Not given within a new period.
    #[serde(default, deserialize_with = "crate::service::validate::whole::option_i32")]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPeriod {
    /// The day the child became looked after (day 0 of the IHA clock).
    #[serde(deserialize_with = "crate::input::date")]
    pub started_on: NaiveDate,
    /// SSDA903 legal status (LS).
    pub legal_status: String,
    /// SSDA903 category of need (CIN).
    pub category_of_need: Option<String>,
    pub placement: Option<NewPlacement>,
    /// An assessment seen in the 3 months before, which stands in for the IHA.
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub prior_assessment_on: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodEnd {
    #[serde(deserialize_with = "crate::input::date")]
    pub ended_on: NaiveDate,
    /// SSDA903 reason episode ceased (REC); X1 is not an end of care.
    pub reason: String,
    /// The period's `version` as read (or `If-Match`); a stale one is refused with 409.
    #[serde(default, deserialize_with = "crate::service::validate::whole::option_i32")]
    pub version: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLegalStatus {
    /// The day the new status took effect: after the period's start and its last change.
    #[serde(deserialize_with = "crate::input::date")]
    pub changed_on: NaiveDate,
    /// SSDA903 legal status (LS).
    pub legal_status: String,
    /// The period's `version` as read (or `If-Match`); a stale one is refused with 409.
    #[serde(default, deserialize_with = "crate::service::validate::whole::option_i32")]
    pub version: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LegalStatusChanged {
    pub period_id: String,
    pub changed_on: NaiveDate,
    pub legal_status: String,
    pub previous_status: String,
    /// The period's version after the change.
    pub version: i32,
    /// The IHA whose clock the change started (from short breaks, V3/V4, to another
    /// status: day 0 is the change date), or `null`.
    pub assessment: Option<AssessmentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodStarted {
    pub period: PeriodView,
    /// The IHA, or `null` when none could be recorded (never: a not-required IHA is kept
    /// with its reason so the assurance meeting sees why).
    pub assessment: Option<AssessmentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlacementChanged {
    pub placement: PlacementView,
    pub out_of_area_request: Option<OutOfAreaRequestView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodEnded {
    pub period: PeriodView,
    /// Assessments closed because the period ended.
    pub closed_assessments: Vec<String>,
}

fn codes(list: &[(&str, &str)]) -> String {
    list.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
}

/// The period, if it exists and the caller may see the child (404 otherwise).
fn load_period(conn: &mut DbConn, ctx: &DomainCtx, id: &str) -> AppResult<models::Period> {
    let period = periods::table
        .find(id)
        .select(models::Period::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound("period"))?;
    let child = super::children::load(conn, &period.child_id)?;
    ctx.check_visible(&child, "period")?;
    Ok(period)
}

/// `prefix` names where the placement sits in the request ("placement." when nested in a
/// new period, "" for a placement change), so errors name the request's own fields.
fn check_placement(c: &mut Checks, p: &NewPlacement, prefix: &str) -> (String, Option<String>, Option<String>) {
    let field = |name: &str| format!("{prefix}{name}");
    let placement_type = c.code(
        &field("placement_type"),
        &p.placement_type,
        ssda903::placement_type,
        &codes(ssda903::PLACEMENT_TYPES),
    );
    let host_la = c.optional_text(&field("host_la"), p.host_la.as_deref(), 100);
    let host_email = c.optional_email(&field("host_provider_email"), p.host_provider_email.as_deref());
    if !p.out_of_area && (host_la.is_some() || host_email.is_some()) {
        c.fail(
            &field("out_of_area"),
            "host_la and host_provider_email are only for out-of-area placements",
        );
    }
    (placement_type, host_la, host_email)
}

pub fn start(conn: &mut DbConn, ctx: &DomainCtx, child_id: &str, input: NewPeriod) -> AppResult<PeriodStarted> {
    let (period, assessment) = crate::db::write_transaction(conn, |conn| {
        let child = super::children::load_visible(conn, ctx, child_id)?;
        // The child's row first: a record being sealed at the adoption order cannot take a
        // new period, however the two transactions interleave.
        super::care::lock_unsealed(conn, &child.id)?;
        let previous = latest_period(conn, &child.id)?;
        let mut c = Checks::new();
        let legal_status = c.code(
            "legal_status",
            &input.legal_status,
            ssda903::legal_status,
            &codes(ssda903::LEGAL_STATUSES),
        );
        let category_of_need = input.category_of_need.as_deref().map(|v| {
            c.code(
                "category_of_need",
                v,
                ssda903::category_of_need,
                &codes(ssda903::CATEGORIES_OF_NEED),
            )
        });
        check_period_start(&mut c, &input, &child, previous.as_ref(), ctx);
        let placement = input
            .placement
            .as_ref()
            .map(|p| (p, check_placement(&mut c, p, "placement.")));
        if let Some((p, _)) = &placement {
            if p.version.is_some() {
                c.fail("placement.version", "only for a placement change");
            }
            if let Some(on) = p.started_on {
                c.not_before("placement.started_on", on, input.started_on, "the start of the period");
                c.not_future("placement.started_on", on, ctx.today);
            }
        }
        c.finish()?;
        if let Some(open) = previous.as_ref().filter(|p| p.ended_on.is_none()) {
            return Err(already_looked_after(Some(open.started_on)));
        }

        let period = models::Period {
            id: new_id(),
            child_id: child.id.clone(),
            started_on: input.started_on,
            legal_status: legal_status.clone(),
            category_of_need,
            ended_on: None,
            end_reason: None,
            version: 1,
            created_at: now_utc(),
        };
        // The check above sees only committed periods; on PostgreSQL another request may
        // be starting one now. `periods_one_open_per_child` decides, and the loser is told
        // what the check would have told it.
        on_unique_violation(
            diesel::insert_into(periods::table).values(&period).execute(conn),
            || already_looked_after(None),
        )?;
        ctx.audit(
            conn,
            AuditEvent::ok("create", "period", Some(&period.id), Some(&child.id)).with_changes(None, Some(&period)),
        )?;
        let clock = IhaClock {
            day0: period.started_on,
            legal_status: &period.legal_status,
        };
        let mut iha = open_iha(conn, ctx, &child, &period, clock, input.prior_assessment_on)?;
        let status = Some(period.legal_status.as_str());
        super::care::open_adoption_report(conn, ctx, &period, status, None, period.started_on)?;
        if let Some((p, (placement_type, host_la, host_email))) = placement {
            let row = models::Placement {
                id: new_id(),
                period_id: period.id.clone(),
                started_on: p.started_on.unwrap_or(input.started_on),
                placement_type,
                out_of_area: i32::from(p.out_of_area),
                host_la,
                host_provider_email: host_email,
                created_at: now_utc(),
            };
            diesel::insert_into(placements::table).values(&row).execute(conn)?;
            ctx.audit(
                conn,
                AuditEvent::ok("create", "placement", Some(&row.id), Some(&child.id)).with_changes(None, Some(&row)),
            )?;
            let place = Some(row.placement_type.as_str());
            super::care::open_adoption_report(conn, ctx, &period, None, place, row.started_on)?;
            if row.out_of_area != 0 && iha.as_ref().is_some_and(|a| a.state != State::NotRequired.as_str()) {
                if let Some(a) = iha.as_mut() {
                    open_request(conn, ctx, a, &row)?;
                }
            }
        }
        Ok::<_, AppError>((period, iha))
    })?;
    let placements: Vec<models::Placement> = placements::table
        .filter(placements::period_id.eq(&period.id))
        .select(models::Placement::as_select())
        .load(conn)?;
    let assessment = match assessment {
        Some(a) => Some(super::assessments::view(conn, ctx, &a, ctx.today)?),
        None => None,
    };
    Ok(PeriodStarted {
        period: PeriodView::new(&period, &placements),
        assessment,
    })
}

/// Starting a period while one is open is a step the child's state does not allow (409).
fn already_looked_after(open_since: Option<NaiveDate>) -> AppError {
    let which = match open_since {
        Some(on) => format!("the period from {on} is open"),
        None => "a period of care was started at the same time".to_string(),
    };
    AppError::Conflict(format!(
        "the child is already looked after ({which}); end that period before starting another"
    ))
}

fn latest_period(conn: &mut DbConn, child_id: &str) -> AppResult<Option<models::Period>> {
    Ok(periods::table
        .filter(periods::child_id.eq(child_id))
        .order(periods::started_on.desc())
        .select(models::Period::as_select())
        .first(conn)
        .optional()?)
}

/// A period starts on or after birth, not in the future, before the 18th birthday, and after
/// the previous period ended (re-entry after a gap starts a new clock). A previous period
/// still open is a conflict, not a bad value: [`start`] answers it after these checks.
fn check_period_start(
    c: &mut Checks,
    input: &NewPeriod,
    child: &models::Child,
    previous: Option<&models::Period>,
    ctx: &DomainCtx,
) {
    c.not_future("started_on", input.started_on, ctx.today);
    c.not_before("started_on", input.started_on, child.date_of_birth, "the date of birth");
    if input.started_on >= obligations::birthday(child.date_of_birth, 18) {
        c.fail(
            "started_on",
            "the child would be 18 or over; a person of 18 is not looked after",
        );
    }
    if let Some(end) = previous.and_then(|p| p.ended_on) {
        if input.started_on <= end {
            c.fail("started_on", format!("must be after the previous period ended ({end})"));
        }
    }
    if let Some(prior) = input.prior_assessment_on {
        c.not_future("prior_assessment_on", prior, ctx.today);
        if prior > input.started_on {
            c.fail("prior_assessment_on", "must be on or before the start of the period");
        }
    }
}

/// Where an IHA's clock starts: the period's start, or the day a short-breaks status
/// changed to another (`legal_status::starts_iha_clock`), and the status then in force.
#[derive(Debug, Clone, Copy)]
struct IhaClock<'a> {
    day0: NaiveDate,
    legal_status: &'a str,
}

/// Creates the IHA, or records it as not required with the reason (short breaks, or an
/// assessment in the 3 months before: given, or found in the child's own history).
fn open_iha(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    child: &models::Child,
    period: &models::Period,
    clock: IhaClock,
    prior_given: Option<NaiveDate>,
) -> AppResult<Option<models::Assessment>> {
    let day0 = clock.day0;
    let prior_on_record: Option<Option<NaiveDate>> = assessments::table
        .filter(assessments::child_id.eq(&child.id))
        .filter(assessments::seen_on.le(day0))
        .select(diesel::dsl::max(assessments::seen_on))
        .first(conn)
        .optional()?;
    let prior = [prior_given, prior_on_record.flatten()].into_iter().flatten().max();
    let due_on = status::iha_due_on(&ctx.calendar, day0, &ctx.clock);
    let decision = obligations::iha_decision(clock.legal_status, day0, prior);
    let mut iha = new_assessment(
        child,
        Some(period.id.clone()),
        Kind::Iha,
        State::AwaitingNotification,
        day0,
        due_on,
    );
    let detail = match &decision {
        IhaDecision::Required => None,
        IhaDecision::NotRequired(reason) => {
            iha.state = State::NotRequired.as_str().to_string();
            iha.ended_on = Some(day0);
            iha.end_reason = Some(reason.describe());
            iha.end_reason.clone()
        }
    };
    on_unique_violation(
        diesel::insert_into(assessments::table).values(&iha).execute(conn),
        || AppError::Conflict("the period already has an open IHA".into()),
    )?;
    record_event(conn, &iha.id, "opened", "none", &iha.state, day0, detail.clone())?;
    let opened = Change::Opened {
        state: State::AwaitingNotification,
    };
    history_store::record(conn, ctx, &mut iha, day0, opened)?;
    if let Some(reason) = detail {
        history_store::record(conn, ctx, &mut iha, day0, Change::NotRequired { reason })?;
    }
    Ok(Some(iha))
}

fn open_request(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    a: &models::Assessment,
    placement: &models::Placement,
) -> AppResult<models::OutOfAreaRequest> {
    close_requests_by(conn, ctx, &a.id, placement.started_on)?;
    let row = models::OutOfAreaRequest {
        id: new_id(),
        assessment_id: a.id.clone(),
        placement_id: placement.id.clone(),
        host_la: placement.host_la.clone(),
        host_provider_email: placement.host_provider_email.clone(),
        opened_on: placement.started_on,
        requested_on: None,
        acknowledged_on: None,
        appointment_offered_on: None,
        report_received_on: None,
        closed_on: None,
        version: 1,
        created_at: now_utc(),
        host_icb_email: None,
    };
    on_unique_violation(
        diesel::insert_into(out_of_area_requests::table)
            .values(&row)
            .execute(conn),
        || {
            AppError::Conflict(
                "the assessment's out-of-area request changed at the same time (another placement was recorded); read the child again".into(),
            )
        },
    )?;
    super::assessments::mark_open_request(conn, &a.id, true)?;
    record_event(
        conn,
        &a.id,
        "out_of_area_request",
        &a.state,
        &a.state,
        placement.started_on,
        placement.host_la.clone(),
    )?;
    let opened = Change::Request {
        request_id: row.id.clone(),
        step: RequestStep::Opened,
    };
    history_store::record_for(conn, ctx, &a.id, placement.started_on, None, opened)?;
    Ok(row)
}

fn open_assessments(conn: &mut DbConn, child_id: &str) -> AppResult<Vec<models::Assessment>> {
    Ok(assessments::table
        .filter(assessments::child_id.eq(child_id))
        .filter(assessments::state.eq_any(open_state_names()))
        .select(models::Assessment::as_select())
        .load(conn)?)
}

pub fn change_placement(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    period_id: &str,
    input: NewPlacement,
) -> AppResult<PlacementChanged> {
    crate::db::write_transaction(conn, |conn| {
        let period = load_period(conn, ctx, period_id)?;
        let last_start: Option<NaiveDate> = placements::table
            .filter(placements::period_id.eq(&period.id))
            .select(diesel::dsl::max(placements::started_on))
            .first(conn)?;
        let mut c = Checks::new();
        let (placement_type, host_la, host_email) = check_placement(&mut c, &input, "");
        let Some(started_on) = input.started_on else {
            c.fail("started_on", "required for a placement change");
            c.finish()?;
            unreachable!("finish fails when a check failed");
        };
        if let Some(ended_on) = period.ended_on {
            return Err(period_ended(ended_on));
        }
        check_version(&period, input.version)?;
        c.not_future("started_on", started_on, ctx.today);
        c.not_before(
            "started_on",
            started_on,
            last_start.unwrap_or(period.started_on),
            "the current placement's start",
        );
        c.finish()?;
        claim_open_period(conn, &period)?;
        let row = models::Placement {
            id: new_id(),
            period_id: period.id.clone(),
            started_on,
            placement_type,
            out_of_area: i32::from(input.out_of_area),
            host_la,
            host_provider_email: host_email,
            created_at: now_utc(),
        };
        diesel::insert_into(placements::table).values(&row).execute(conn)?;
        ctx.audit(
            conn,
            AuditEvent::ok("create", "placement", Some(&row.id), Some(&period.child_id)).with_changes(None, Some(&row)),
        )?;
        super::care::open_adoption_report(conn, ctx, &period, None, Some(row.placement_type.as_str()), started_on)?;
        let mut request = None;
        for a in open_assessments(conn, &period.child_id)? {
            if row.out_of_area != 0 {
                request = Some(OutOfAreaRequestView::from(&open_request(conn, ctx, &a, &row)?));
            } else {
                // Back in area: the home team takes over, so the host request ends.
                close_requests_by(conn, ctx, &a.id, started_on)?;
            }
        }
        Ok(PlacementChanged {
            placement: PlacementView::from(&row),
            out_of_area_request: request,
        })
    })
}

/// Records a change of legal status within a period (DOMAIN.md "Legal status within a
/// period"): the period and its clock carry on, except that a change from short breaks
/// (V3/V4) to another status starts the IHA clock on its day. One transaction: the dated
/// change, the period's version, the audit entry, and the new IHA with its history.
pub fn change_legal_status(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    period_id: &str,
    input: NewLegalStatus,
) -> AppResult<LegalStatusChanged> {
    let (change, period, iha) = crate::db::write_transaction(conn, |conn| {
        let period = load_period(conn, ctx, period_id)?;
        let changes = legal_status_changes_of(conn, &period.id)?;
        let mut c = Checks::new();
        let status = c.code(
            "legal_status",
            &input.legal_status,
            ssda903::legal_status,
            &codes(ssda903::LEGAL_STATUSES),
        );
        if let Some(ended_on) = period.ended_on {
            return Err(period_ended(ended_on));
        }
        check_version(&period, input.version)?;
        let last = changes.last().map_or(period.started_on, |l| l.changed_on);
        c.not_future("changed_on", input.changed_on, ctx.today);
        if input.changed_on <= last {
            c.fail(
                "changed_on",
                format!("must be after the period's start and its last legal-status change ({last})"),
            );
        }
        let previous = current_status(&period, &changes).to_string();
        if c.is_empty() && status == previous {
            c.fail("legal_status", format!("the legal status is already {previous}"));
        }
        c.finish()?;
        claim_open_period(conn, &period)?;
        let row = models::LegalStatusChange {
            id: new_id(),
            period_id: period.id.clone(),
            changed_on: input.changed_on,
            legal_status: status,
            previous_status: previous,
            recorded_at: now_utc(),
            recorded_by: history_store::recorded_by(ctx),
        };
        on_unique_violation(
            diesel::insert_into(legal_status_changes::table)
                .values(&row)
                .execute(conn),
            || {
                AppError::Conflict(
                    "the legal status was changed on that day at the same time; read the child again".into(),
                )
            },
        )?;
        ctx.audit(
            conn,
            AuditEvent::ok("create", "legal_status_change", Some(&row.id), Some(&period.child_id))
                .with_changes(None, Some(&row)),
        )?;
        super::care::open_adoption_report(
            conn,
            ctx,
            &period,
            Some(row.legal_status.as_str()),
            None,
            row.changed_on,
        )?;
        let iha = if crate::legal_status::starts_iha_clock(&row.previous_status, &row.legal_status) {
            let child = super::children::load(conn, &period.child_id)?;
            let clock = IhaClock {
                day0: row.changed_on,
                legal_status: &row.legal_status,
            };
            open_iha(conn, ctx, &child, &period, clock, None)?
        } else {
            None
        };
        Ok::<_, AppError>((row, period.version + 1, iha))
    })?;
    let assessment = match iha {
        Some(a) => Some(super::assessments::view(conn, ctx, &a, ctx.today)?),
        None => None,
    };
    Ok(LegalStatusChanged {
        period_id: change.period_id,
        changed_on: change.changed_on,
        legal_status: change.legal_status,
        previous_status: change.previous_status,
        version: period,
        assessment,
    })
}

/// A period's legal-status changes, oldest first.
pub fn legal_status_changes_of(conn: &mut DbConn, period_id: &str) -> AppResult<Vec<models::LegalStatusChange>> {
    Ok(legal_status_changes::table
        .filter(legal_status_changes::period_id.eq(period_id))
        .order(legal_status_changes::changed_on.asc())
        .select(models::LegalStatusChange::as_select())
        .load(conn)?)
}

/// The status now: the latest change's, else the one the period started with.
fn current_status<'a>(period: &'a models::Period, changes: &'a [models::LegalStatusChange]) -> &'a str {
    changes.last().map_or(&period.legal_status, |c| &c.legal_status)
}

/// The legal status of a period in force on `day` (`legal_status::status_on`).
pub fn legal_status_on(conn: &mut DbConn, period_id: &str, day: NaiveDate) -> AppResult<Option<String>> {
    let first: Option<String> = periods::table
        .find(period_id)
        .select(periods::legal_status)
        .first(conn)
        .optional()?;
    let Some(first) = first else { return Ok(None) };
    let changes: Vec<crate::legal_status::Change> = legal_status_changes_of(conn, period_id)?
        .into_iter()
        .map(|c| crate::legal_status::Change {
            changed_on: c.changed_on,
            legal_status: c.legal_status,
        })
        .collect();
    Ok(Some(crate::legal_status::status_on(&first, &changes, day).to_string()))
}

/// A change made on a version read earlier is refused when the period has moved on since
/// (the conditional update that follows keeps this true against a change made meanwhile).
fn check_version(period: &models::Period, sent: Option<i32>) -> AppResult<()> {
    match sent {
        Some(v) if v != period.version => Err(AppError::StaleVersion {
            sent: v,
            current: period.version,
        }),
        _ => Ok(()),
    }
}

fn period_ended(on: NaiveDate) -> AppError {
    AppError::Conflict(format!("the period ended on {on}; start a new period"))
}

/// A placement changes its period, so it moves the period's version, on condition that
/// the period is still open and unchanged since it was read. Two placement changes, or a
/// placement and the period's end, cannot then both commit on what each read (PostgreSQL
/// makes the second wait and finds the condition false); the loser gets 409.
fn claim_open_period(conn: &mut DbConn, period: &models::Period) -> AppResult<()> {
    let n = diesel::update(
        periods::table
            .filter(periods::id.eq(&period.id))
            .filter(periods::version.eq(period.version))
            .filter(periods::ended_on.is_null()),
    )
    .set(periods::version.eq(period.version + 1))
    .execute(conn)?;
    if n == 1 {
        return Ok(());
    }
    let now: models::Period = periods::table
        .find(&period.id)
        .select(models::Period::as_select())
        .first(conn)?;
    Err(match now.ended_on {
        Some(on) => period_ended(on),
        None => AppError::StaleVersion {
            sent: period.version,
            current: now.version,
        },
    })
}

pub fn end(conn: &mut DbConn, ctx: &DomainCtx, period_id: &str, input: PeriodEnd) -> AppResult<PeriodEnded> {
    crate::db::write_transaction(conn, |conn| {
        let mut period = load_period(conn, ctx, period_id)?;
        let before = period.clone();
        let mut c = Checks::new();
        let reason = c.code(
            "reason",
            &input.reason,
            ssda903::reason_episode_ceased,
            &codes(ssda903::REASONS_EPISODE_CEASED),
        );
        if reason == "X1" {
            c.fail(
                "reason",
                "X1 means the episode continues in a new one, not that care ended",
            );
        }
        c.not_future("ended_on", input.ended_on, ctx.today);
        c.not_before("ended_on", input.ended_on, period.started_on, "the start of the period");
        c.finish()?;
        if period.ended_on.is_some() {
            return Err(AppError::Conflict("the period has already ended".into()));
        }
        check_version(&period, input.version)?;
        if crate::adoption::seals_record(&reason) {
            // The child's row before the period's: the order `start` takes them in.
            super::care::seal(conn, ctx, &period.child_id, input.ended_on)?;
        }
        let n = diesel::update(
            periods::table
                .filter(periods::id.eq(&period.id))
                .filter(periods::version.eq(period.version)),
        )
        .set((
            periods::ended_on.eq(input.ended_on),
            periods::end_reason.eq(&reason),
            periods::version.eq(period.version + 1),
        ))
        .execute(conn)?;
        if n == 0 {
            return Err(AppError::StaleVersion {
                sent: period.version,
                current: period.version + 1,
            });
        }
        period.ended_on = Some(input.ended_on);
        period.end_reason = Some(reason.clone());
        period.version += 1;
        ctx.audit(
            conn,
            AuditEvent::ok("end", "period", Some(&period.id), Some(&period.child_id))
                .with_changes(Some(&before), Some(&period)),
        )?;
        let description = ssda903::reason_episode_ceased(&reason).unwrap_or("");
        let why = format!("period of care ended: {reason} {description}");
        let mut closed = Vec::new();
        for mut a in open_assessments(conn, &period.child_id)? {
            let open = a.clone();
            close_open_by(conn, ctx, &mut a, input.ended_on, &why)?;
            ctx.audit(
                conn,
                AuditEvent::ok("close", "assessment", Some(&a.id), Some(&a.child_id))
                    .with_changes(Some(&open), Some(&a)),
            )?;
            closed.push(a.id);
        }
        let placements: Vec<models::Placement> = placements::table
            .filter(placements::period_id.eq(&period.id))
            .select(models::Placement::as_select())
            .load(conn)?;
        Ok(PeriodEnded {
            period: PeriodView::new(&period, &placements),
            closed_assessments: closed,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JSON has one number type: `3.0` is the whole number 3, as the OpenAPI document's
    /// `integer` allows, and must be read as the version, not refused as malformed
    /// (schemathesis ST202).
    #[test]
    fn a_version_written_with_a_zero_fraction_is_the_whole_number() {
        let end: PeriodEnd =
            serde_json::from_str(r#"{"ended_on": "2026-01-05", "reason": "E11", "version": 3.0}"#).expect("accepted");
        assert_eq!(end.version, Some(3));
        let change: NewLegalStatus =
            serde_json::from_str(r#"{"changed_on": "2026-01-05", "legal_status": "C2", "version": 7.0}"#)
                .expect("accepted");
        assert_eq!(change.version, Some(7));
        let half = serde_json::from_str::<PeriodEnd>(r#"{"ended_on": "2026-01-05", "reason": "E11", "version": 2.5}"#);
        assert!(half.is_err(), "a fraction is still refused");
    }
}
