//! The escalation sweep: the I/O shell around the pure planner in `crate::escalation`.
//!
//! One sweep reads every open assessment in pages (one query for the assessments with their
//! child and open out-of-area request, one for the page's escalations), asks
//! [`escalation::plan`] what is due on `as_of`, and then, in one write transaction per page:
//!
//! - fires each (assessment, rule, level, occurrence) not fired before: the escalation row,
//!   one outbox row per recipient (status `undeliverable` when there is no usable address),
//!   a timeline entry and an audit entry, all inside one savepoint. The UNIQUE constraint on
//!   (assessment, rule, level, occurrence) makes "fires once" hold across instances: when
//!   another sweep got there first the insert fails, the savepoint rolls back with its mail,
//!   and the sweep moves on;
//! - resolves open escalations whose (rule, occurrence) has left the plan.
//!
//! Escalations of assessments that are no longer open (completed, closed, not required)
//! are resolved at the end of the sweep.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::assessments::{open_state_names, record_event};
use super::outbox::{self, NewMail};
use super::views::{facts, AssessmentRows};
use super::DomainCtx;
use crate::audit::{self, Actor, AuditEvent};
use crate::db::models::{self, new_id, now_utc};
use crate::db::schema::*;
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, AppResult};
use crate::escalation::{self, ConditionPolicy, Ladder, MailContext, Recipient};
use crate::settings::Settings;

/// Built into the binary: used when the configured file is the default one and is absent.
pub const BUILT_IN_RULES: &str = include_str!("../../config/escalations.toml");

/// Assessments read per query; the page's escalations are read by id range, so the page
/// size is not limited by the number of bind parameters.
const PAGE: i64 = 5000;

/// Reads the rule file named by `escalations_file`, falling back to the built-in copy when
/// the default file is not there. A file that cannot be used is an error naming its line.
pub fn load_ladder(settings: &Settings) -> Result<Ladder, String> {
    let path = &settings.escalations_file;
    match std::fs::read_to_string(path) {
        Ok(text) => escalation::parse_named(&text, path).map_err(|e| e.to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && path == escalation::DEFAULT_PATH => {
            escalation::parse_named(BUILT_IN_RULES, "built-in escalations.toml").map_err(|e| e.to_string())
        }
        Err(e) => Err(format!("escalations_file: cannot read {path}: {e}")),
    }
}

/// What the sweep needs besides the rows.
#[derive(Clone)]
pub struct EscalationConfig {
    pub ladder: Arc<Ladder>,
    pub policy: ConditionPolicy,
    pub public_url: String,
    pub health_admin_mailbox: String,
    pub named_nurse_email: String,
    pub designated_nurse_email: String,
    /// Right-hand side of Message-IDs.
    pub message_domain: String,
}

impl EscalationConfig {
    pub fn new(ladder: Arc<Ladder>, settings: &Settings) -> EscalationConfig {
        let e = &settings.escalation;
        EscalationConfig {
            ladder,
            policy: ConditionPolicy::default().with_clock(&super::clock_policy(settings)),
            public_url: settings.public_url.trim_end_matches('/').to_string(),
            health_admin_mailbox: e.health_admin_mailbox.clone(),
            named_nurse_email: e.named_nurse_email.clone(),
            designated_nurse_email: e.designated_nurse_email.clone(),
            message_domain: outbox::message_domain(&settings.public_url),
        }
    }
}

/// One escalation fired (or, in a dry run, that would fire).
#[derive(Debug, Clone, Serialize)]
pub struct Fired {
    pub escalation_id: Option<String>,
    pub assessment_id: String,
    pub child_local_id: String,
    pub rule_id: String,
    pub level: u8,
    pub occurrence_key: String,
    pub since: NaiveDate,
    /// "role <address>" or "role (no address)".
    pub recipients: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub escalation_id: String,
    pub assessment_id: String,
    pub rule_id: String,
    pub level: i32,
}

#[derive(Debug, Default, Serialize)]
pub struct SweepReport {
    pub open_assessments: usize,
    pub fired: Vec<Fired>,
    pub resolved: Vec<Resolved>,
    /// Escalations another instance recorded first (this sweep sent nothing for them).
    pub lost_races: usize,
    pub undeliverable: usize,
}

/// The child's columns the sweep needs.
type ChildCols = (String, String, String, NaiveDate, Option<String>, String);
type PageRow = (
    models::Assessment,
    ChildCols,
    Option<models::OutOfAreaRequest>,
    Option<String>,
);

/// A new escalation to record.
struct Planned<'a> {
    row: &'a PageRow,
    due: escalation::Due,
}

/// Sweeps every open assessment on `as_of`. `dry_run` plans and reports but writes nothing.
pub fn sweep(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    cfg: &EscalationConfig,
    as_of: NaiveDate,
    dry_run: bool,
) -> AppResult<SweepReport> {
    let mut report = SweepReport::default();
    let managers = directory(conn)?;
    let mut after = String::new();
    loop {
        let rows: Vec<PageRow> = assessments::table
            .inner_join(children::table)
            .left_join(
                out_of_area_requests::table.on(out_of_area_requests::assessment_id
                    .eq(assessments::id)
                    .and(out_of_area_requests::closed_on.is_null())),
            )
            // `state || ''` keeps the planner on the primary key for the keyset page: with
            // the (state, due_on) index it would read and sort every open row for each page.
            .filter(assessments::state.concat("").eq_any(open_state_names()))
            .filter(assessments::id.gt(&after))
            .order(assessments::id.asc())
            .limit(PAGE)
            .select((
                models::Assessment::as_select(),
                (
                    children::given_name,
                    children::family_name,
                    children::local_id,
                    children::date_of_birth,
                    children::social_worker_email,
                    children::responsible_la,
                ),
                Option::<models::OutOfAreaRequest>::as_select(),
                out_of_area_requests::host_icb_email.nullable(),
            ))
            .load(conn)?;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            break;
        };
        let existing: Vec<models::Escalation> = escalations::table
            .filter(escalations::assessment_id.ge(&first.0.id))
            .filter(escalations::assessment_id.le(&last.0.id))
            .select(models::Escalation::as_select())
            .load(conn)?;
        after = last.0.id.clone();
        report.open_assessments += rows.len();
        page(conn, ctx, cfg, &managers, as_of, dry_run, &rows, &existing, &mut report)?;
        if (rows.len() as i64) < PAGE {
            break;
        }
    }
    super::meetings::sweep_overdue(conn, ctx, cfg, as_of, dry_run, &mut report)?;
    resolve_closed(conn, as_of, dry_run, &mut report)?;
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn page(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    cfg: &EscalationConfig,
    managers: &Directory,
    as_of: NaiveDate,
    dry_run: bool,
    rows: &[PageRow],
    existing: &[models::Escalation],
    report: &mut SweepReport,
) -> AppResult<()> {
    let mut by_assessment: HashMap<&str, Vec<&models::Escalation>> = HashMap::new();
    for e in existing {
        by_assessment.entry(e.assessment_id.as_str()).or_default().push(e);
    }
    let mut new = Vec::new();
    let mut clearing = Vec::new();
    let mut seen = HashSet::new();
    let forecasts = page_forecasts(conn, ctx, cfg, as_of, rows)?;
    for row in rows {
        let a = &row.0;
        if !seen.insert(a.id.as_str()) {
            continue; // two open requests for one assessment: the first is enough
        }
        let f = facts(&AssessmentRows {
            assessment: a,
            child_local_id: &row.1 .2,
            date_of_birth: row.1 .3,
            out_of_area: row.2.as_ref(),
            events: None,
        })?;
        let p_late = forecasts.get(&a.id).map(|fc| fc.p_late);
        let plan = escalation::plan_with(&cfg.ladder, &f, p_late, &ctx.calendar, as_of, &cfg.policy);
        let mine = by_assessment.get(a.id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        for due in &plan {
            let fired_before = mine
                .iter()
                .any(|e| e.rule_id == due.rule_id && e.level == i32::from(due.level) && e.occurrence_key == due.key);
            if !fired_before {
                new.push(Planned { row, due: due.clone() });
            }
        }
        // An overdue action's escalation clears when the action is closed, not here.
        let about_the_assessment = |e: &&&models::Escalation| e.condition != super::meetings::OVERDUE_CONDITION;
        for e in mine
            .iter()
            .filter(|e| e.resolved_on.is_none())
            .filter(about_the_assessment)
        {
            if escalation::cleared(&plan, &e.rule_id, &e.occurrence_key) {
                clearing.push(*e);
            }
        }
    }
    if new.is_empty() && clearing.is_empty() {
        return Ok(());
    }
    if dry_run {
        for p in &new {
            report.fired.push(describe(cfg, managers, p, None));
        }
        report.resolved.extend(clearing.iter().map(|e| resolved(e)));
        return Ok(());
    }
    write_transaction(conn, |conn| {
        for p in &new {
            match conn.transaction(|conn| fire(conn, ctx, cfg, managers, as_of, p)) {
                Ok((fired, undeliverable)) => {
                    report.undeliverable += undeliverable;
                    report.fired.push(fired);
                }
                Err(FireError::Raced) => report.lost_races += 1,
                Err(FireError::App(e)) => return Err(e),
            }
        }
        for e in &clearing {
            resolve(conn, e, as_of)?;
            report.resolved.push(resolved(e));
        }
        Ok::<_, AppError>(())
    })
}

/// The page's lateness forecasts, when an enabled rule asks for them (one model, a few
/// queries for the page; none at all while the forecast rule is off).
fn page_forecasts(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    cfg: &EscalationConfig,
    as_of: NaiveDate,
    rows: &[PageRow],
) -> AppResult<HashMap<String, super::forecast::ForecastView>> {
    let wanted = cfg
        .ladder
        .rules
        .iter()
        .any(|r| r.enabled && r.condition == escalation::Condition::LikelyLate);
    if !wanted {
        return Ok(HashMap::new());
    }
    let assessments: Vec<&models::Assessment> = rows.iter().map(|r| &r.0).collect();
    super::forecast::for_rows(conn, ctx, &assessments, as_of)
}

fn resolved(e: &models::Escalation) -> Resolved {
    Resolved {
        escalation_id: e.id.clone(),
        assessment_id: e.assessment_id.clone(),
        rule_id: e.rule_id.clone(),
        level: e.level,
    }
}

/// Marks one escalation resolved (only if still open, so two sweeps resolve it once).
fn resolve(conn: &mut DbConn, e: &models::Escalation, as_of: NaiveDate) -> AppResult<()> {
    let n = diesel::update(
        escalations::table
            .filter(escalations::id.eq(&e.id))
            .filter(escalations::resolved_on.is_null()),
    )
    .set(escalations::resolved_on.eq(as_of))
    .execute(conn)?;
    if n == 1 {
        let state: String = assessments::table
            .find(&e.assessment_id)
            .select(assessments::state)
            .first(conn)?;
        record_event(
            conn,
            &e.assessment_id,
            "escalation_resolved",
            &state,
            &state,
            as_of,
            Some(format!("{} level {} resolved", e.rule_id, e.level)),
        )?;
    }
    Ok(())
}

/// Open escalations of assessments that are no longer open.
fn resolve_closed(conn: &mut DbConn, as_of: NaiveDate, dry_run: bool, report: &mut SweepReport) -> AppResult<()> {
    let stale: Vec<models::Escalation> = escalations::table
        .inner_join(assessments::table)
        .filter(escalations::resolved_on.is_null())
        .filter(escalations::condition.ne(super::meetings::OVERDUE_CONDITION))
        .filter(diesel::dsl::not(assessments::state.eq_any(open_state_names())))
        .select(models::Escalation::as_select())
        .load(conn)?;
    if stale.is_empty() {
        return Ok(());
    }
    if !dry_run {
        write_transaction(conn, |conn| {
            for e in &stale {
                resolve(conn, e, as_of)?;
            }
            Ok::<_, AppError>(())
        })?;
    }
    report.resolved.extend(stale.iter().map(resolved));
    Ok(())
}

enum FireError {
    /// Another sweep recorded this escalation first.
    Raced,
    App(AppError),
}

impl From<diesel::result::Error> for FireError {
    fn from(e: diesel::result::Error) -> FireError {
        match e {
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                FireError::Raced
            }
            e => FireError::App(e.into()),
        }
    }
}

impl From<AppError> for FireError {
    fn from(e: AppError) -> FireError {
        FireError::App(e)
    }
}

/// The address a recipient role resolves to for this assessment, if any.
fn address(cfg: &EscalationConfig, managers: &Directory, row: &PageRow, recipient: Recipient) -> Option<String> {
    let non_empty = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    match recipient {
        Recipient::SocialWorker => row.1 .4.as_deref().and_then(non_empty),
        Recipient::LaTeamManager => managers
            .team_managers
            .get(&row.1 .5)
            .cloned()
            .flatten()
            .as_deref()
            .and_then(non_empty),
        Recipient::HealthAdminMailbox => non_empty(&cfg.health_admin_mailbox),
        Recipient::NamedNurse => non_empty(&cfg.named_nurse_email),
        Recipient::DesignatedNurse => non_empty(&cfg.designated_nurse_email),
        Recipient::HostProvider => row
            .2
            .as_ref()
            .and_then(|r| r.host_provider_email.as_deref())
            .and_then(non_empty),
        // The request's own address first (recorded for this child), else the one held for
        // the host area's organisation (`/admin/organisations`).
        Recipient::HostIcbDesignatedNurse => row.3.as_deref().and_then(non_empty).or_else(|| {
            let host = row.2.as_ref()?.host_la.as_deref()?;
            managers.host_icb_nurse(host)
        }),
        // Only overdue-action escalations have an owner (`meetings::sweep_overdue`).
        Recipient::ActionOwner => None,
    }
}

fn recipients<'a>(cfg: &'a EscalationConfig, due: &escalation::Due) -> &'a [Recipient] {
    cfg.ladder
        .rule(&due.rule_id)
        .and_then(|r| r.levels.iter().find(|l| l.level == due.level))
        .map(|l| l.recipients.as_slice())
        .unwrap_or(&[])
}

fn describe(cfg: &EscalationConfig, managers: &Directory, p: &Planned<'_>, id: Option<String>) -> Fired {
    Fired {
        escalation_id: id,
        assessment_id: p.row.0.id.clone(),
        child_local_id: p.row.1 .2.clone(),
        rule_id: p.due.rule_id.clone(),
        level: p.due.level,
        occurrence_key: p.due.key.clone(),
        since: p.due.since,
        recipients: recipients(cfg, &p.due)
            .iter()
            .map(|r| match address(cfg, managers, p.row, *r) {
                Some(a) => format!("{r} <{a}>"),
                None => format!("{r} (no address)"),
            })
            .collect(),
    }
}

/// Records one escalation with its mail, timeline entry and audit entry. Returns what fired
/// and how many of its messages could not be addressed.
fn fire(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    cfg: &EscalationConfig,
    managers: &Directory,
    as_of: NaiveDate,
    p: &Planned<'_>,
) -> Result<(Fired, usize), FireError> {
    let a = &p.row.0;
    let child = &p.row.1;
    let id = new_id();
    let row = models::Escalation {
        id: id.clone(),
        assessment_id: a.id.clone(),
        child_id: a.child_id.clone(),
        rule_id: p.due.rule_id.clone(),
        condition: p.due.condition.as_str().to_string(),
        level: i32::from(p.due.level),
        occurrence_key: p.due.key.clone(),
        since: p.due.since,
        fired_on: as_of,
        resolved_on: None,
        created_at: now_utc(),
        responsible_la: a.responsible_la.clone(),
    };
    diesel::insert_into(escalations::table).values(&row).execute(conn)?;
    let f = facts(&AssessmentRows {
        assessment: a,
        child_local_id: &child.2,
        date_of_birth: child.3,
        out_of_area: p.row.2.as_ref(),
        events: None,
    })?;
    let template = cfg
        .ladder
        .rule(&p.due.rule_id)
        .map(|r| r.template)
        .ok_or_else(|| AppError::Internal("planned rule missing from the ladder".into()))?;
    let mut undeliverable = 0;
    let mut told = Vec::new();
    for recipient in recipients(cfg, &p.due) {
        let to = address(cfg, managers, p.row, *recipient);
        let mail = escalation::render(&MailContext {
            child_initials: escalation::initials(&child.0, &child.1),
            child_local_id: child.2.clone(),
            case_url: format!("{}/children/{}", cfg.public_url, a.child_id),
            assessment_kind: f.kind,
            condition: p.due.condition,
            template,
            since: p.due.since,
            due_on: f.due_on,
            due_explanation: escalation::due_explanation(&f, &ctx.calendar),
            level: p.due.level,
            recipient_role: *recipient,
        });
        let status = outbox::enqueue(
            conn,
            &cfg.message_domain,
            NewMail {
                escalation_id: Some(id.clone()),
                kind: "escalation",
                dedupe_key: None,
                recipient: recipient.as_str().to_string(),
                to_address: to.clone(),
                subject: mail.subject,
                text_body: mail.text,
                html_body: mail.html,
                attachment: None,
            },
        )?;
        if status == outbox::UNDELIVERABLE {
            undeliverable += 1;
            told.push(format!("{recipient} (undeliverable: no usable address)"));
        } else {
            told.push(format!("{recipient} <{}>", to.unwrap_or_default()));
        }
    }
    record_event(
        conn,
        &a.id,
        "escalation",
        &a.state,
        &a.state,
        as_of,
        Some(format!(
            "{} level {} to {}",
            p.due.rule_id,
            p.due.level,
            told.join(", ")
        )),
    )?;
    audit::record(
        conn,
        &Actor::system("escalation"),
        AuditEvent::ok("escalate", "escalation", Some(&id), Some(&a.child_id)),
    )?;
    Ok((describe(cfg, managers, p, Some(id)), undeliverable))
}

/// The addresses held for organisations that escalations may go to, read once a sweep.
struct Directory {
    /// LA code -> team manager address.
    team_managers: HashMap<String, Option<String>>,
    /// Host area (an organisation's code or name, lower case) -> its ICB's Designated Nurse.
    host_icb_nurses: HashMap<String, String>,
}

impl Directory {
    /// The host ICB Designated Nurse held for the host area an out-of-area request names.
    /// The request's `host_la` is free text, typed as the host area's code or its name, so
    /// both are looked up, ignoring case and surrounding spaces.
    fn host_icb_nurse(&self, host_la: &str) -> Option<String> {
        self.host_icb_nurses.get(&host_la.trim().to_lowercase()).cloned()
    }
}

/// An organisation's kind, code, name, team manager and host ICB Designated Nurse.
type OrganisationAddresses = (String, String, String, Option<String>, Option<String>);

fn directory(conn: &mut DbConn) -> AppResult<Directory> {
    let rows: Vec<OrganisationAddresses> = organisations::table
        .select((
            organisations::kind,
            organisations::code,
            organisations::name,
            organisations::team_manager_email,
            organisations::host_icb_nurse_email,
        ))
        .load(conn)?;
    let mut d = Directory {
        team_managers: HashMap::new(),
        host_icb_nurses: HashMap::new(),
    };
    for (kind, code, name, tm, nurse) in rows {
        if let Some(nurse) = nurse {
            // A code wins over another organisation's name that happens to equal it.
            d.host_icb_nurses
                .entry(name.trim().to_lowercase())
                .or_insert(nurse.clone());
            d.host_icb_nurses.insert(code.trim().to_lowercase(), nurse);
        }
        if kind == "local_authority" {
            d.team_managers.insert(code, tm);
        }
    }
    Ok(d)
}

/// Sets (or clears, with None) the team manager address of a local authority.
pub fn set_team_manager(conn: &mut DbConn, actor: &Actor, code: &str, email: Option<&str>) -> AppResult<()> {
    if let Some(e) = email {
        if e.parse::<lettre::Address>().is_err() {
            return Err(AppError::invalid("team_manager_email", "is not an email address"));
        }
    }
    write_transaction(conn, |conn| {
        let n = diesel::update(
            organisations::table
                .filter(organisations::code.eq(code))
                .filter(organisations::kind.eq("local_authority")),
        )
        .set(organisations::team_manager_email.eq(email))
        .execute(conn)?;
        if n == 0 {
            return Err(AppError::invalid("org", format!("no local authority with code {code}")));
        }
        audit::record(conn, actor, AuditEvent::ok("update", "organisation", Some(code), None))?;
        Ok(())
    })
}

/// Sets (or clears, with None) the host ICB Designated Nurse address held for the host
/// area organisation `id` (a local authority or a host provider). The address is checked
/// like every other address the service takes (`validate::Checks::optional_email`), and
/// must be one the mail relay can send to.
pub fn set_host_icb_nurse(conn: &mut DbConn, actor: &Actor, id: &str, email: Option<&str>) -> AppResult<()> {
    const FIELD: &str = "host_icb_nurse_email";
    let mut c = super::validate::Checks::new();
    let email = c.optional_email(FIELD, email);
    c.finish()?;
    if email.as_deref().is_some_and(|e| e.parse::<lettre::Address>().is_err()) {
        return Err(AppError::invalid(FIELD, "is not an email address"));
    }
    write_transaction(conn, |conn| {
        let host_area = || {
            organisations::table
                .filter(organisations::id.eq(id))
                .filter(organisations::kind.eq_any(vec!["local_authority", "host_provider"]))
        };
        let before: Option<String> = host_area()
            .select(organisations::host_icb_nurse_email)
            .first(conn)
            .optional()?
            .ok_or(AppError::NotFound("organisation"))?;
        diesel::update(host_area())
            .set(organisations::host_icb_nurse_email.eq(email.as_deref()))
            .execute(conn)?;
        // A staff mailbox, not a child's data: the change is kept as it was and became.
        let changes = serde_json::json!({ FIELD: [before, email] }).to_string();
        audit::record(
            conn,
            actor,
            AuditEvent {
                changes: Some(changes),
                ..AuditEvent::ok("update", "organisation", Some(id), None)
            },
        )?;
        Ok(())
    })
}

/// One recipient of an escalation and what became of the mail.
#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationRecipientView {
    pub recipient: String,
    pub to_address: Option<String>,
    /// pending, sending, sent, dead or undeliverable.
    pub status: String,
    pub attempts: i32,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_error: Option<String>,
}

/// An escalation on a child's record: who was told, and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationView {
    pub id: String,
    pub assessment_id: String,
    pub child_id: String,
    /// The child's local id (in the scoped list; absent on one child's list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_local_id: Option<String>,
    /// The responsible local authority's code (in the scoped list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_authority: Option<String>,
    pub rule_id: String,
    pub condition: String,
    pub level: i32,
    pub occurrence_key: String,
    pub since: NaiveDate,
    pub fired_on: NaiveDate,
    pub resolved_on: Option<NaiveDate>,
    pub recipients: Vec<EscalationRecipientView>,
}

/// The escalations of one child (the caller has checked the child is visible), newest first.
pub fn for_child(conn: &mut DbConn, child_id: &str) -> AppResult<Vec<EscalationView>> {
    let list: Vec<models::Escalation> = escalations::table
        .filter(escalations::child_id.eq(child_id))
        .order((escalations::fired_on.desc(), escalations::created_at.desc()))
        .select(models::Escalation::as_select())
        .load(conn)?;
    with_recipients(conn, list)
}

/// The escalations with each recipient's mail (one query for all of them).
fn with_recipients(conn: &mut DbConn, list: Vec<models::Escalation>) -> AppResult<Vec<EscalationView>> {
    let ids: Vec<&str> = list.iter().map(|e| e.id.as_str()).collect();
    let mail: Vec<models::OutboxRow> = crate::db::schema::outbox::table
        .filter(crate::db::schema::outbox::escalation_id.eq_any(ids))
        .order(crate::db::schema::outbox::created_at.asc())
        .select(models::OutboxRow::as_select())
        .load(conn)?;
    Ok(list
        .into_iter()
        .map(|e| EscalationView {
            recipients: mail
                .iter()
                .filter(|m| m.escalation_id.as_deref() == Some(e.id.as_str()))
                .map(|m| EscalationRecipientView {
                    recipient: m.recipient.clone(),
                    to_address: m.to_address.clone(),
                    status: m.status.clone(),
                    attempts: m.attempts,
                    sent_at: m.sent_at.map(|t| t.and_utc()),
                    last_error: m.last_error.clone(),
                })
                .collect(),
            id: e.id,
            assessment_id: e.assessment_id,
            child_id: e.child_id,
            child_local_id: None,
            local_authority: None,
            rule_id: e.rule_id,
            condition: e.condition,
            level: e.level,
            occurrence_key: e.occurrence_key,
            since: e.since,
            fired_on: e.fired_on,
            resolved_on: e.resolved_on,
        })
        .collect())
}

/// A child's escalations for an API caller: 404 outside the caller's scope; audited.
pub fn list_for_child(conn: &mut DbConn, ctx: &DomainCtx, child_id: &str) -> AppResult<Vec<EscalationView>> {
    let (_, list) = ctx.read_audited(
        conn,
        |conn| {
            let child = super::children::load_visible(conn, ctx, child_id)?;
            Ok((child.id, for_child(conn, child_id)?))
        },
        |(id, _)| AuditEvent::ok("read", "escalations", None, Some(id)),
    )?;
    Ok(list)
}

/// Filters of the scoped list of open escalations (`GET /api/v1/escalations` without
/// `child_id`, and `/escalations`).
#[derive(Debug, Clone, Default)]
pub struct OpenFilter {
    /// Local authority codes (none: every one in scope).
    pub la: Vec<String>,
    /// Rule ids (none: every rule).
    pub rule: Vec<String>,
}

/// One page of the open escalations of the children in the caller's scope, highest level
/// first, then by rule and the longest-standing first; each with its recipients' delivery
/// status. The answer names children (by id and local id), so the read is audited.
pub fn list_open(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    filter: &OpenFilter,
    limit: usize,
    offset: usize,
) -> AppResult<crate::paging::Page<EscalationView>> {
    ctx.read_audited(
        conn,
        |conn| open_page(conn, ctx, filter, limit, offset),
        |_| AuditEvent::ok("list", "escalations", None, None),
    )
}

fn open_page(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    filter: &OpenFilter,
    limit: usize,
    offset: usize,
) -> AppResult<crate::paging::Page<EscalationView>> {
    // Scoped by the copy of the child's authority on the row (migration 000095): joined
    // to the children, PostgreSQL looked up the child of every open escalation (14,671 at
    // 100,000 children) to count them.
    let matching = || {
        let mut q = escalations::table
            .filter(escalations::resolved_on.is_null())
            .into_boxed();
        if let Some(codes) = ctx.scope.codes() {
            q = q.filter(escalations::responsible_la.eq_any(codes.to_vec()));
        }
        if !filter.la.is_empty() {
            q = q.filter(escalations::responsible_la.eq_any(filter.la.clone()));
        }
        if !filter.rule.is_empty() {
            q = q.filter(escalations::rule_id.eq_any(filter.rule.clone()));
        }
        q
    };
    let total: i64 = matching().count().get_result(conn)?;
    let list: Vec<models::Escalation> = matching()
        .order((
            escalations::level.desc(),
            escalations::rule_id.asc(),
            escalations::since.asc(),
            escalations::id.asc(),
        ))
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .offset(i64::try_from(offset).unwrap_or(i64::MAX))
        .select(models::Escalation::as_select())
        .load(conn)?;
    let child_ids: Vec<&str> = list.iter().map(|e| e.child_id.as_str()).collect();
    let local_ids: HashMap<String, String> = children::table
        .filter(children::id.eq_any(&child_ids))
        .select((children::id, children::local_id))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let authorities: Vec<String> = list.iter().map(|e| e.responsible_la.clone()).collect();
    let mut views = with_recipients(conn, list)?;
    for (v, la) in views.iter_mut().zip(authorities) {
        v.child_local_id = local_ids.get(&v.child_id).cloned();
        v.local_authority = Some(la);
    }
    Ok(crate::paging::Page::new(
        views,
        usize::try_from(total).unwrap_or(0),
        limit,
        offset,
    ))
}
