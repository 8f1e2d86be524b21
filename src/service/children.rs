//! Registering children and reading their whole record.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::validate::{whole, Checks};
use super::views::*;
use super::{check_version, DomainCtx};
use crate::audit::AuditEvent;
use crate::db::models::{self, new_id, now_utc};
use crate::db::schema::*;
use crate::db::{no_index, write_transaction, DbBackend, DbConn};
use crate::error::{on_unique_violation, AppError, AppResult};
use crate::paging::Page;
use crate::{nhs_number, obligations};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

const NAME_MAX: usize = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChild {
    /// The local authority's own id for the child (SSDA903 CHILD); unique per authority.
    pub local_id: String,
    pub given_name: String,
    pub family_name: String,
    #[serde(deserialize_with = "crate::input::date")]
    pub date_of_birth: NaiveDate,
    /// M, F or U.
    pub sex: String,
    /// The responsible local authority's code.
    pub responsible_la: String,
    /// 10 digits, spaces allowed (Modulus 11 checked).
    pub nhs_number: Option<String>,
    /// Unaccompanied asylum-seeking child.
    #[serde(default)]
    pub uasc: bool,
    pub gp_practice: Option<String>,
    pub social_worker_email: Option<String>,
}

/// Changes to a child's details. Fields left out stay as they are; `version` is required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChildUpdate {
    #[serde(deserialize_with = "whole::i32")]
    pub version: i32,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub nhs_number: Option<String>,
    pub uasc: Option<bool>,
    pub gp_practice: Option<String>,
    pub social_worker_email: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHealthCheck {
    /// dental, immunisations, sdq or development.
    pub kind: String,
    #[serde(deserialize_with = "crate::input::date")]
    pub checked_on: NaiveDate,
    /// Immunisations: up to date for age.
    pub up_to_date: Option<bool>,
    /// SDQ total score, 0-40.
    #[serde(default, deserialize_with = "whole::option_i32")]
    pub sdq_score: Option<i32>,
    /// SDQ1-SDQ5 when no score could be obtained.
    pub sdq_reason: Option<String>,
    pub outcome: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    pub body: String,
    pub author: String,
    pub assessment_id: Option<String>,
}

fn check_la_code(c: &mut Checks, value: &str) -> String {
    let v = c.text("responsible_la", value, 12);
    if !v.chars().all(|ch| ch.is_ascii_alphanumeric()) {
        c.fail("responsible_la", "must be a local authority code (letters and digits)");
    }
    v
}

fn check_sex(c: &mut Checks, value: &str) -> String {
    let v = value.trim().to_ascii_uppercase();
    if !["M", "F", "U"].contains(&v.as_str()) {
        c.fail("sex", "must be M, F or U");
    }
    v
}

fn check_nhs_number(c: &mut Checks, value: Option<&str>) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    match nhs_number::validate(v) {
        Ok(digits) => Some(digits),
        Err(e) => {
            c.fail("nhs_number", e.to_string());
            None
        }
    }
}

fn check_date_of_birth(c: &mut Checks, dob: NaiveDate, today: NaiveDate) {
    c.not_future("date_of_birth", dob, today);
    // Care leavers are supported up to 25; anyone older cannot be a child in this service.
    if obligations::age_on(dob, today) > 25 {
        c.fail("date_of_birth", "the person would be over 25; check the date");
    }
}

pub fn register(conn: &mut DbConn, ctx: &DomainCtx, input: NewChild) -> AppResult<ChildSummary> {
    let mut c = Checks::new();
    let local_id = c.text("local_id", &input.local_id, 64);
    let given_name = c.text("given_name", &input.given_name, NAME_MAX);
    let family_name = c.text("family_name", &input.family_name, NAME_MAX);
    let sex = check_sex(&mut c, &input.sex);
    let responsible_la = check_la_code(&mut c, &input.responsible_la);
    check_date_of_birth(&mut c, input.date_of_birth, ctx.today);
    let nhs_number = check_nhs_number(&mut c, input.nhs_number.as_deref());
    let gp_practice = c.optional_text("gp_practice", input.gp_practice.as_deref(), 100);
    let social_worker_email = c.optional_email("social_worker_email", input.social_worker_email.as_deref());
    if !ctx.scope.allows(&responsible_la) {
        c.fail("responsible_la", "not a local authority whose children you work with");
    }
    c.finish()?;

    write_transaction(conn, |conn| {
        let taken: i64 = children::table
            .filter(children::responsible_la.eq(&responsible_la))
            .filter(children::local_id.eq(&local_id))
            .count()
            .get_result(conn)?;
        let already = format!("local id {local_id} is already registered for local authority {responsible_la}");
        if taken > 0 {
            return Err(AppError::invalid("local_id", already));
        }
        let now = now_utc();
        let row = models::Child {
            id: new_id(),
            local_id,
            responsible_la,
            given_name,
            family_name,
            date_of_birth: input.date_of_birth,
            sex,
            nhs_number,
            uasc: i32::from(input.uasc),
            gp_practice,
            social_worker_email,
            version: 1,
            created_at: now,
            updated_at: now,
            social_worker_id: None,
            sealed_on: None,
        };
        // UNIQUE (responsible_la, local_id) decides between two registrations at once.
        on_unique_violation(diesel::insert_into(children::table).values(&row).execute(conn), || {
            AppError::invalid("local_id", already)
        })?;
        ctx.audit(
            conn,
            AuditEvent::ok("create", "child", Some(&row.id), Some(&row.id)).with_changes(None, Some(&row)),
        )?;
        Ok(ChildSummary::from(&row))
    })
}

pub fn update(conn: &mut DbConn, ctx: &DomainCtx, id: &str, input: ChildUpdate) -> AppResult<ChildSummary> {
    let mut c = Checks::new();
    let given_name = input.given_name.as_deref().map(|v| c.text("given_name", v, NAME_MAX));
    let family_name = input.family_name.as_deref().map(|v| c.text("family_name", v, NAME_MAX));
    let nhs_number = check_nhs_number(&mut c, input.nhs_number.as_deref());
    let gp_practice = c.optional_text("gp_practice", input.gp_practice.as_deref(), 100);
    let social_worker_email = c.optional_email("social_worker_email", input.social_worker_email.as_deref());
    c.finish()?;

    write_transaction(conn, |conn| {
        let mut child = load_visible(conn, ctx, id)?;
        check_version(Some(input.version), child.version)?;
        let before = child.clone();
        if let Some(v) = given_name {
            child.given_name = v;
        }
        if let Some(v) = family_name {
            child.family_name = v;
        }
        if nhs_number.is_some() {
            child.nhs_number = nhs_number;
        }
        if let Some(v) = input.uasc {
            child.uasc = i32::from(v);
        }
        if gp_practice.is_some() {
            child.gp_practice = gp_practice;
        }
        if social_worker_email.is_some() {
            child.social_worker_email = social_worker_email;
        }
        let updated = diesel::update(
            children::table
                .filter(children::id.eq(&child.id))
                .filter(children::version.eq(child.version)),
        )
        .set((
            children::given_name.eq(&child.given_name),
            children::family_name.eq(&child.family_name),
            children::nhs_number.eq(&child.nhs_number),
            children::uasc.eq(child.uasc),
            children::gp_practice.eq(&child.gp_practice),
            children::social_worker_email.eq(&child.social_worker_email),
            children::version.eq(child.version + 1),
            children::updated_at.eq(now_utc()),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Err(AppError::StaleVersion {
                sent: input.version,
                current: load(conn, id)?.version,
            });
        }
        child.version += 1;
        ctx.audit(
            conn,
            AuditEvent::ok("update", "child", Some(&child.id), Some(&child.id))
                .with_changes(Some(&before), Some(&child)),
        )?;
        Ok(ChildSummary::from(&child))
    })
}

pub fn load(conn: &mut DbConn, id: &str) -> AppResult<models::Child> {
    children::table
        .find(id)
        .select(models::Child::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound("child"))
}

/// The child, if it exists and the caller may see it (404 otherwise, either way).
pub fn load_visible(conn: &mut DbConn, ctx: &DomainCtx, id: &str) -> AppResult<models::Child> {
    let child = load(conn, id)?;
    ctx.check_visible(&child, "child")?;
    Ok(child)
}

/// Search by exact local id or NHS number, or by the start of a family or given name: one
/// page, by family name then given name, and how many match in all. The answer names
/// children, so the search goes on the audit trail.
pub fn search(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    q: &str,
    limit: usize,
    offset: usize,
) -> AppResult<Page<ChildSummary>> {
    ctx.read_audited(
        conn,
        |conn| search_page(conn, ctx, q, limit, offset),
        |_| AuditEvent::ok("search", "child", None, None),
    )
}

fn search_page(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    q: &str,
    limit: usize,
    offset: usize,
) -> AppResult<Page<ChildSummary>> {
    let steer = crate::db::steers_planner(conn);
    let total: i64 = matching(ctx, q, steer).count().get_result(conn)?;
    let ordered = if steer {
        matching(ctx, q, steer).order((
            children::family_name.asc(),
            children::given_name.asc(),
            children::id.asc(),
        ))
    } else {
        // PostgreSQL would walk the family-name index in order, filtering every child
        // before the first match (300 ms at 155,000 children): ordered by an expression no
        // index has, it finds the matches through their own indexes and sorts just those.
        matching(ctx, q, steer).order((
            no_index(children::family_name).asc(),
            children::given_name.asc(),
            children::id.asc(),
        ))
    };
    let rows: Vec<models::Child> = ordered
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .offset(i64::try_from(offset).unwrap_or(i64::MAX))
        .select(models::Child::as_select())
        .load(conn)?;
    let items = rows.iter().map(ChildSummary::from).collect();
    Ok(Page::new(items, usize::try_from(total).unwrap_or(0), limit, offset))
}

/// The children in scope that a search matches: the local id or NHS number exactly, or a
/// family or given name starting with the words typed (any case).
///
/// A name prefix is also asked as a range of the lower-cased name (`>= "smi"` and `< "smj"`),
/// which the name indexes answer; the `LIKE` stays as the definition. On SQLite the
/// authority must not pick its index, or a county's search reads every child of it.
fn matching<'a>(ctx: &DomainCtx, q: &str, steer: bool) -> children::BoxedQuery<'a, DbBackend> {
    let q = q.trim();
    // A sealed pre-adoption record is found by no search (DOMAIN.md: ordinary roles
    // cannot see it).
    let mut query = children::table.filter(children::sealed_on.is_null()).into_boxed();
    if let Some(codes) = ctx.scope.codes() {
        query = if steer {
            query.filter(no_index(children::responsible_la).eq_any(codes.to_vec()))
        } else {
            query.filter(children::responsible_la.eq_any(codes.to_vec()))
        };
    }
    if q.is_empty() {
        return query;
    }
    let digits: String = q.chars().filter(|ch| !ch.is_whitespace() && *ch != '-').collect();
    let lowered = q.to_lowercase();
    let prefix = format!("{}%", escape_like(&lowered));
    let exactly = children::local_id.eq(q.to_string()).or(children::nhs_number.eq(digits));
    let family = lower(children::family_name).like(prefix.clone()).escape('\\');
    let given = lower(children::given_name).like(prefix).escape('\\');
    // SQLite compares text by code point, so the range is exact there; PostgreSQL's
    // collation may order names otherwise, so it is asked the `LIKE` alone.
    match prefix_upper_bound(&lowered).filter(|_| steer) {
        Some(above) => query.filter(
            exactly
                .or(lower(children::family_name)
                    .ge(lowered.clone())
                    .and(lower(children::family_name).lt(above.clone()))
                    .and(family))
                .or(lower(children::given_name)
                    .ge(lowered)
                    .and(lower(children::given_name).lt(above))
                    .and(given)),
        ),
        None => query.filter(exactly.or(family).or(given)),
    }
}

/// The least string above every string that starts with `prefix` in code-point order
/// (its last character moved up by one), if there is one.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    let last = chars.pop()?;
    let next = match u32::from(last) + 1 {
        0xD800 => 0xE000,
        n => n,
    };
    chars.push(char::from_u32(next)?);
    Some(chars.into_iter().collect())
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The whole record, read in one snapshot and then recorded in the audit trail: if the
/// entry cannot be written, nothing is shown.
pub fn detail(conn: &mut DbConn, ctx: &DomainCtx, id: &str, as_of: NaiveDate) -> AppResult<ChildDetail> {
    ctx.read_audited(
        conn,
        |conn| read_detail(conn, ctx, id, as_of),
        |d| AuditEvent::ok("read", "child", Some(&d.child.id), Some(&d.child.id)),
    )
}

fn read_detail(conn: &mut DbConn, ctx: &DomainCtx, id: &str, as_of: NaiveDate) -> AppResult<ChildDetail> {
    let child = load_visible(conn, ctx, id)?;
    read_detail_of(conn, ctx, &child, as_of)
}

/// The whole record of a child already loaded and checked (a sealed one only through
/// `care::open_sealed`).
pub(crate) fn read_detail_of(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    child: &models::Child,
    as_of: NaiveDate,
) -> AppResult<ChildDetail> {
    let id = child.id.as_str();
    let periods: Vec<models::Period> = periods::table
        .filter(periods::child_id.eq(id))
        .order(periods::started_on.asc())
        .select(models::Period::as_select())
        .load(conn)?;
    let period_ids: Vec<&str> = periods.iter().map(|p| p.id.as_str()).collect();
    let placements: Vec<models::Placement> = placements::table
        .filter(placements::period_id.eq_any(&period_ids))
        .order(placements::started_on.asc())
        .select(models::Placement::as_select())
        .load(conn)?;
    let status_changes: Vec<models::LegalStatusChange> = legal_status_changes::table
        .filter(legal_status_changes::period_id.eq_any(&period_ids))
        .filter(legal_status_changes::changed_on.le(as_of))
        .order(legal_status_changes::changed_on.asc())
        .select(models::LegalStatusChange::as_select())
        .load(conn)?;
    let assessments: Vec<models::Assessment> = assessments::table
        .filter(assessments::child_id.eq(id))
        .order((assessments::clock_started_on.asc(), assessments::created_at.asc()))
        .select(models::Assessment::as_select())
        .load(conn)?;
    let assessment_ids: Vec<&str> = assessments.iter().map(|a| a.id.as_str()).collect();
    let requests: Vec<models::OutOfAreaRequest> = out_of_area_requests::table
        .filter(out_of_area_requests::assessment_id.eq_any(&assessment_ids))
        .order(out_of_area_requests::opened_on.asc())
        .select(models::OutOfAreaRequest::as_select())
        .load(conn)?;
    let consents: Vec<models::Consent> = consents::table
        .filter(consents::assessment_id.eq_any(&assessment_ids))
        .order(consents::created_at.asc())
        .select(models::Consent::as_select())
        .load(conn)?;
    let appointments: Vec<models::Appointment> = appointments::table
        .filter(appointments::assessment_id.eq_any(&assessment_ids))
        .order(appointments::starts_at.asc())
        .select(models::Appointment::as_select())
        .load(conn)?;
    let events: Vec<models::AssessmentEvent> = assessment_events::table
        .filter(assessment_events::assessment_id.eq_any(&assessment_ids))
        .order((
            assessment_events::occurred_on.asc(),
            assessment_events::created_at.asc(),
        ))
        .select(models::AssessmentEvent::as_select())
        .load(conn)?;
    let checks: Vec<models::HealthCheck> = health_checks::table
        .filter(health_checks::child_id.eq(id))
        .order(health_checks::checked_on.asc())
        .select(models::HealthCheck::as_select())
        .load(conn)?;
    let notes: Vec<models::Note> = notes::table
        .filter(notes::child_id.eq(id))
        .order(notes::created_at.asc())
        .select(models::Note::as_select())
        .load(conn)?;

    let history = super::history_store::events_for(conn, &assessments.iter().collect::<Vec<_>>(), as_of)?;
    let mut assessment_views = assessments
        .iter()
        .map(|a| {
            // The request open on as_of: opened by then, not closed by then (the latest).
            let open_request = requests
                .iter()
                .filter(|r| r.assessment_id == a.id && r.opened_on <= as_of)
                .filter(|r| r.closed_on.is_none_or(|c| c > as_of))
                .max_by_key(|r| (r.opened_on, r.created_at));
            let rows = AssessmentRows {
                assessment: a,
                child_local_id: &child.local_id,
                date_of_birth: child.date_of_birth,
                out_of_area: open_request,
                events: history.get(&a.id).map(Vec::as_slice),
            };
            assessment_view(&rows, ctx, as_of)
        })
        .collect::<AppResult<Vec<_>>>()?;
    super::forecast::attach(
        conn,
        ctx,
        &assessments.iter().collect::<Vec<_>>(),
        &mut assessment_views,
        as_of,
    )?;

    Ok(ChildDetail {
        child: ChildSummary::from(child),
        periods: periods.iter().map(|p| PeriodView::new(p, &placements)).collect(),
        legal_status_changes: status_changes.iter().map(LegalStatusChangeView::from).collect(),
        health_obligations: super::care::of_child(conn, id)?
            .iter()
            .filter(|o| super::care::shown_on(o, as_of))
            .map(|o| super::care::HealthObligationView::new(o, as_of))
            .collect(),
        assessments: assessment_views,
        consents: consents.iter().map(ConsentView::from).collect(),
        appointments: appointments.iter().map(AppointmentView::from).collect(),
        out_of_area_requests: requests.iter().map(OutOfAreaRequestView::from).collect(),
        health_checks: checks.iter().map(HealthCheckView::from).collect(),
        notes: notes.iter().map(NoteView::from).collect(),
        timeline: events.iter().map(TimelineEntry::from).collect(),
        escalations: super::escalations::for_child(conn, &child.id)?,
    })
}

const HEALTH_CHECK_KINDS: [&str; 4] = ["dental", "immunisations", "sdq", "development"];
const SDQ_REASONS: [&str; 5] = ["SDQ1", "SDQ2", "SDQ3", "SDQ4", "SDQ5"];

pub fn add_health_check(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    child_id: &str,
    input: NewHealthCheck,
) -> AppResult<HealthCheckView> {
    let child = load_visible(conn, ctx, child_id)?;
    let mut c = Checks::new();
    let kind = input.kind.trim().to_ascii_lowercase();
    if !HEALTH_CHECK_KINDS.contains(&kind.as_str()) {
        c.fail("kind", "must be one of dental, immunisations, sdq, development");
    }
    c.not_future("checked_on", input.checked_on, ctx.today);
    c.not_before("checked_on", input.checked_on, child.date_of_birth, "the date of birth");
    let sdq_reason = input.sdq_reason.as_deref().map(|r| r.trim().to_ascii_uppercase());
    let age = obligations::age_on(child.date_of_birth, input.checked_on.max(child.date_of_birth));
    check_health_check_values(&mut c, &kind, input.up_to_date, input.sdq_score, sdq_reason.as_deref());
    if kind == "sdq" {
        check_sdq_age(&mut c, age, input.sdq_score, sdq_reason.as_deref());
    }
    let outcome = c.optional_text("outcome", input.outcome.as_deref(), 500);
    c.finish()?;
    let row = models::HealthCheck {
        id: new_id(),
        child_id: child.id,
        kind,
        checked_on: input.checked_on,
        up_to_date: input.up_to_date.map(i32::from),
        sdq_score: input.sdq_score,
        sdq_reason,
        outcome,
        created_at: now_utc(),
    };
    write_transaction(conn, |conn| {
        diesel::insert_into(health_checks::table).values(&row).execute(conn)?;
        ctx.audit(
            conn,
            AuditEvent::ok("create", "health_check", Some(&row.id), Some(&row.child_id)).with_changes(None, Some(&row)),
        )
    })?;
    Ok(HealthCheckView::from(&row))
}

/// SDQ records carry a score (0-40) or a reason code, never both; other kinds carry neither.
fn check_health_check_values(
    c: &mut Checks,
    kind: &str,
    up_to_date: Option<bool>,
    score: Option<i32>,
    reason: Option<&str>,
) {
    if kind == "sdq" {
        match (score, reason) {
            (Some(s), None) if (0..=40).contains(&s) => {}
            (Some(_), None) => c.fail("sdq_score", "must be between 0 and 40"),
            (None, Some(r)) if SDQ_REASONS.contains(&r) => {}
            (None, Some(_)) => c.fail("sdq_reason", "must be one of SDQ1, SDQ2, SDQ3, SDQ4, SDQ5"),
            _ => c.fail("sdq_score", "give either sdq_score or sdq_reason"),
        }
    } else {
        if score.is_some() {
            c.fail("sdq_score", "only for kind sdq");
        }
        if reason.is_some() {
            c.fail("sdq_reason", "only for kind sdq");
        }
    }
    if up_to_date.is_some() && kind != "immunisations" {
        c.fail("up_to_date", "only for kind immunisations");
    }
}

/// SDQ scores apply to ages 4 to 16 on the day of the questionnaire; outside that range a
/// reason is recorded instead, SDQ1 (age out of range), and SDQ1 only then.
fn check_sdq_age(c: &mut Checks, age: u32, score: Option<i32>, reason: Option<&str>) {
    let in_range = (4..=16).contains(&age);
    if score.is_some() && !in_range {
        c.fail(
            "sdq_score",
            format!(
                "SDQ scores apply to ages 4 to 16 and the child was {age}; record sdq_reason SDQ1 (age out of range)"
            ),
        );
    }
    if reason == Some("SDQ1") && in_range {
        c.fail(
            "sdq_reason",
            format!("SDQ1 means age out of range, and the child was {age}, within 4 to 16"),
        );
    }
}

pub fn add_note(conn: &mut DbConn, ctx: &DomainCtx, child_id: &str, input: NewNote) -> AppResult<NoteView> {
    let child = load_visible(conn, ctx, child_id)?;
    let mut c = Checks::new();
    let body = c.text("body", &input.body, 10_000);
    let author = c.text("author", &input.author, 200);
    c.finish()?;
    if let Some(aid) = &input.assessment_id {
        let belongs: i64 = assessments::table
            .filter(assessments::id.eq(aid))
            .filter(assessments::child_id.eq(&child.id))
            .count()
            .get_result(conn)?;
        if belongs == 0 {
            return Err(AppError::invalid("assessment_id", "no such assessment for this child"));
        }
    }
    let row = models::Note {
        id: new_id(),
        child_id: child.id,
        assessment_id: input.assessment_id,
        body,
        author,
        created_at: now_utc(),
    };
    write_transaction(conn, |conn| {
        diesel::insert_into(notes::table).values(&row).execute(conn)?;
        ctx.audit(
            conn,
            AuditEvent::ok("create", "note", Some(&row.id), Some(&row.child_id)).with_changes(None, Some(&row)),
        )
    })?;
    Ok(NoteView::from(&row))
}

#[cfg(test)]
mod sdq_tests {

    #[test]
    fn a_name_prefix_range_holds_exactly_the_names_starting_with_it() {
        for prefix in ["smi", "o'b", "zz", "\u{d7ff}", "é"] {
            let above = prefix_upper_bound(prefix).expect("a bound");
            for name in [
                "smi",
                "smith",
                "smj",
                "smh",
                "o'brien",
                "o'c",
                "zzz",
                "z{",
                "\u{d7ff}x",
                "\u{e000}",
                "éa",
                "f",
            ] {
                let in_range = name >= prefix && name < above.as_str();
                assert_eq!(in_range, name.starts_with(prefix), "{name} against {prefix}");
            }
        }
    }

    use super::*;

    fn verdict(age: u32, score: Option<i32>, reason: Option<&str>) -> bool {
        let mut c = Checks::new();
        check_sdq_age(&mut c, age, score, reason);
        c.finish().is_ok()
    }

    #[test]
    fn sdq_scores_only_for_ages_4_to_16() {
        assert!(verdict(4, Some(12), None));
        assert!(verdict(16, Some(30), None));
        assert!(!verdict(3, Some(12), None));
        assert!(!verdict(17, Some(12), None));
    }

    #[test]
    fn outside_4_to_16_a_reason_code_instead() {
        assert!(verdict(3, None, Some("SDQ1")));
        assert!(verdict(17, None, Some("SDQ1")));
        assert!(!verdict(10, None, Some("SDQ1")), "SDQ1 is for age out of range only");
        assert!(verdict(10, None, Some("SDQ5")));
    }
}
