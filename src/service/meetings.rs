//! The weekly IHA assurance meeting's record: meetings, the actions agreed on a child's
//! assessment, and the decisions and notes made about it.
//!
//! Rules:
//! - One meeting a day (a UNIQUE date): opening a meeting that exists answers the one there.
//! - An action belongs to an assessment (and so to its child). It is open until it is
//!   closed as done or cancelled, with a comment; nothing is ever deleted. An open action is
//!   carried forward to every later meeting: a meeting's minutes list the actions raised at
//!   it and those raised before it that were still open on its day.
//! - An action is overdue from the day after its due date while open; the escalation sweep
//!   emails its owner once (rule condition `meeting_action_overdue`, [`sweep_overdue`]).
//! - Scope: actions and notes are about children, so a user sees only those of children in
//!   their scope (any other answers 404, like an unknown id). A social worker sees, and may
//!   close, only the actions assigned to them (their email is the owner's).
//! - Every change is on the audit trail with its before and after; every read of minutes
//!   or actions is on it too.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::validate::Checks;
use super::DomainCtx;
use crate::audit::{self, Actor, AuditEvent};
use crate::db::models::{self, new_id, now_utc};
use crate::db::schema::*;
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, AppResult};
use crate::paging::Page;

pub const OPEN: &str = "open";
pub const DONE: &str = "done";
pub const CANCELLED: &str = "cancelled";

#[derive(Debug, Clone, Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = assurance_meetings)]
pub struct MeetingRow {
    pub id: String,
    pub held_on: NaiveDate,
    pub chair: String,
    pub attendees: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = meeting_actions)]
pub struct ActionRow {
    pub id: String,
    pub meeting_id: String,
    pub assessment_id: String,
    pub child_id: String,
    pub what: String,
    pub owner_name: String,
    pub owner_email: String,
    pub due_on: NaiveDate,
    pub status: String,
    pub closed_on: Option<NaiveDate>,
    pub closed_comment: Option<String>,
    pub closed_by: Option<String>,
    pub version: i32,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, Queryable, Selectable, Insertable)]
#[diesel(table_name = meeting_notes)]
pub struct NoteRow {
    pub id: String,
    pub meeting_id: String,
    pub assessment_id: String,
    pub child_id: String,
    pub kind: String,
    pub body: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeeting {
    /// The meeting's day (usually a Monday).
    #[serde(deserialize_with = "crate::input::date")]
    #[schema(value_type = String, format = Date)]
    pub held_on: NaiveDate,
    /// Who chairs it.
    pub chair: String,
    /// Who attended, as free text.
    #[serde(default)]
    pub attendees: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: String,
    pub held_on: NaiveDate,
    pub chair: String,
    pub attendees: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&MeetingRow> for MeetingView {
    fn from(m: &MeetingRow) -> MeetingView {
        MeetingView {
            id: m.id.clone(),
            held_on: m.held_on,
            chair: m.chair.clone(),
            attendees: m.attendees.clone(),
            created_at: m.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAction {
    #[schema(format = Uuid)]
    pub assessment_id: String,
    /// What is to be done.
    pub what: String,
    pub owner_name: String,
    pub owner_email: String,
    #[serde(deserialize_with = "crate::input::date")]
    #[schema(value_type = String, format = Date)]
    pub due_on: NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeetingNote {
    #[schema(format = Uuid)]
    pub assessment_id: String,
    /// `decision` or `note`.
    pub kind: String,
    pub body: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseAction {
    /// `done` or `cancelled`.
    pub status: String,
    /// Why, or what was done.
    pub comment: String,
    /// The version read; a close sent after someone else changed the action answers 409.
    #[serde(default, deserialize_with = "crate::service::validate::whole::option_i32")]
    pub version: Option<i32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionView {
    pub id: String,
    pub meeting_id: String,
    /// The day of the meeting that raised it.
    pub raised_on: NaiveDate,
    pub assessment_id: String,
    pub child_id: String,
    pub child_local_id: String,
    pub child_initials: String,
    pub what: String,
    pub owner_name: String,
    pub owner_email: String,
    pub due_on: NaiveDate,
    /// `open`, `done` or `cancelled`.
    pub status: String,
    /// Open and past its due date (today).
    pub overdue: bool,
    pub closed_on: Option<NaiveDate>,
    pub closed_comment: Option<String>,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeetingNoteView {
    pub id: String,
    pub meeting_id: String,
    pub assessment_id: String,
    pub child_id: String,
    /// `decision` or `note`.
    pub kind: String,
    pub body: String,
    pub created_by: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&NoteRow> for MeetingNoteView {
    fn from(n: &NoteRow) -> MeetingNoteView {
        MeetingNoteView {
            id: n.id.clone(),
            meeting_id: n.meeting_id.clone(),
            assessment_id: n.assessment_id.clone(),
            child_id: n.child_id.clone(),
            kind: n.kind.clone(),
            body: n.body.clone(),
            created_by: n.created_by.clone(),
            created_at: n.created_at.and_utc(),
        }
    }
}

/// A child discussed at a meeting: what was decided and noted, the actions raised, and
/// the actions carried forward from earlier meetings.
#[derive(Debug, Serialize, ToSchema)]
pub struct MinutesItem {
    pub child_id: String,
    pub child_local_id: String,
    pub child_initials: String,
    pub assessment_id: String,
    pub notes: Vec<MeetingNoteView>,
    pub actions: Vec<ActionView>,
    /// Raised at an earlier meeting and still open on this one's day.
    pub carried_forward: Vec<ActionView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Minutes {
    pub meeting: MeetingView,
    /// By local id.
    pub items: Vec<MinutesItem>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActionQuery {
    /// `open`, `done` or `cancelled`.
    pub status: Option<String>,
    /// Only this assessment's actions.
    #[param(format = Uuid)]
    pub assessment_id: Option<String>,
    /// Only this child's actions.
    #[param(format = Uuid)]
    pub child_id: Option<String>,
    /// Only those open and past their due date.
    pub overdue: Option<bool>,
    /// Items per page, 1-1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Whether the caller acts as a social worker: they reach only actions assigned to them.
fn only_own(actor: &Actor) -> Option<String> {
    (actor.role.as_deref() == Some("social_worker")).then(|| actor.email.clone().unwrap_or_default().to_lowercase())
}

fn meeting(conn: &mut DbConn, id: &str) -> AppResult<MeetingRow> {
    assurance_meetings::table
        .find(id)
        .select(MeetingRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(AppError::NotFound("meeting"))
}

/// Opens the meeting of `held_on`, or answers the one already open that day (`false`).
pub fn open_meeting(conn: &mut DbConn, ctx: &DomainCtx, input: NewMeeting) -> AppResult<(MeetingView, bool)> {
    let mut c = Checks::new();
    let chair = c.text("chair", &input.chair, 200);
    let attendees = c
        .optional_text("attendees", input.attendees.as_deref(), 4000)
        .unwrap_or_default();
    if input.held_on > super::validate::as_of_latest(ctx.today) || input.held_on < super::validate::AS_OF_EARLIEST {
        c.fail("held_on", "must be from 2000-01-01 to five years after today");
    }
    c.finish()?;
    let row = MeetingRow {
        id: new_id(),
        held_on: input.held_on,
        chair,
        attendees,
        created_by: ctx.actor.email.clone(),
        created_at: now_utc(),
    };
    let created = write_transaction(conn, |conn| {
        let there: Option<MeetingRow> = assurance_meetings::table
            .filter(assurance_meetings::held_on.eq(row.held_on))
            .select(MeetingRow::as_select())
            .first(conn)
            .optional()?;
        if let Some(there) = there {
            return Ok::<_, AppError>((there, false));
        }
        diesel::insert_into(assurance_meetings::table)
            .values(&row)
            .execute(conn)?;
        ctx.audit(
            conn,
            AuditEvent::ok("create", "assurance_meeting", Some(&row.id), None).with_changes(None, Some(&row)),
        )?;
        Ok((row.clone(), true))
    });
    match created {
        Ok((m, fresh)) => Ok((MeetingView::from(&m), fresh)),
        // Another request opened it between our read and insert: answer theirs.
        Err(AppError::Conflict(_)) => {
            let there: MeetingRow = assurance_meetings::table
                .filter(assurance_meetings::held_on.eq(input.held_on))
                .select(MeetingRow::as_select())
                .first(conn)?;
            Ok((MeetingView::from(&there), false))
        }
        Err(e) => Err(e),
    }
}

/// The meetings, newest first.
pub fn list_meetings(conn: &mut DbConn, limit: usize, offset: usize) -> AppResult<Page<MeetingView>> {
    let total: i64 = assurance_meetings::table.count().get_result(conn)?;
    let rows: Vec<MeetingRow> = assurance_meetings::table
        .order(assurance_meetings::held_on.desc())
        .limit(limit as i64)
        .offset(offset as i64)
        .select(MeetingRow::as_select())
        .load(conn)?;
    Ok(Page::new(
        rows.iter().map(MeetingView::from).collect(),
        total as usize,
        limit,
        offset,
    ))
}

/// The meeting of a day, if one was opened.
pub fn meeting_on(conn: &mut DbConn, day: NaiveDate) -> AppResult<Option<MeetingView>> {
    Ok(assurance_meetings::table
        .filter(assurance_meetings::held_on.eq(day))
        .select(MeetingRow::as_select())
        .first(conn)
        .optional()?
        .map(|m| MeetingView::from(&m)))
}

/// The assessment an action or note is about, with its child, if the caller may see it.
fn visible_assessment(conn: &mut DbConn, ctx: &DomainCtx, assessment_id: &str) -> AppResult<(String, models::Child)> {
    let child_id: Option<String> = assessments::table
        .find(assessment_id)
        .select(assessments::child_id)
        .first(conn)
        .optional()?;
    let Some(child_id) = child_id else {
        return Err(AppError::invalid("assessment_id", "no such assessment"));
    };
    let child = super::children::load(conn, &child_id)?;
    if !ctx.scope.allows(&child.responsible_la) {
        return Err(AppError::invalid("assessment_id", "no such assessment"));
    }
    Ok((assessment_id.to_string(), child))
}

pub fn add_action(conn: &mut DbConn, ctx: &DomainCtx, meeting_id: &str, input: NewAction) -> AppResult<ActionView> {
    let m = meeting(conn, meeting_id)?;
    let mut c = Checks::new();
    let what = c.text("what", &input.what, 2000);
    let owner_name = c.text("owner_name", &input.owner_name, 200);
    let owner_email = c
        .optional_email("owner_email", Some(&input.owner_email))
        .unwrap_or_default();
    if input.due_on < m.held_on {
        c.fail("due_on", "must be on or after the meeting's day");
    }
    if input.due_on > super::validate::as_of_latest(ctx.today) {
        c.fail("due_on", "must be within five years of today");
    }
    c.finish()?;
    let (assessment_id, child) = visible_assessment(conn, ctx, input.assessment_id.trim())?;
    let row = ActionRow {
        id: new_id(),
        meeting_id: m.id.clone(),
        assessment_id,
        child_id: child.id.clone(),
        what,
        owner_name,
        owner_email,
        due_on: input.due_on,
        status: OPEN.into(),
        closed_on: None,
        closed_comment: None,
        closed_by: None,
        version: 1,
        created_by: ctx.actor.email.clone(),
        created_at: now_utc(),
    };
    write_transaction(conn, |conn| {
        diesel::insert_into(meeting_actions::table).values(&row).execute(conn)?;
        ctx.audit(
            conn,
            AuditEvent::ok("create", "meeting_action", Some(&row.id), Some(&row.child_id))
                .with_changes(None, Some(&row)),
        )
    })?;
    Ok(view(&row, m.held_on, &child, ctx.today))
}

pub fn add_note(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    meeting_id: &str,
    input: NewMeetingNote,
) -> AppResult<MeetingNoteView> {
    let m = meeting(conn, meeting_id)?;
    let mut c = Checks::new();
    let body = c.text("body", &input.body, 10_000);
    if !matches!(input.kind.as_str(), "decision" | "note") {
        c.fail("kind", "must be decision or note");
    }
    c.finish()?;
    let (assessment_id, child) = visible_assessment(conn, ctx, input.assessment_id.trim())?;
    let row = NoteRow {
        id: new_id(),
        meeting_id: m.id,
        assessment_id,
        child_id: child.id,
        kind: input.kind,
        body,
        created_by: ctx.actor.email.clone(),
        created_at: now_utc(),
    };
    write_transaction(conn, |conn| {
        diesel::insert_into(meeting_notes::table).values(&row).execute(conn)?;
        ctx.audit(
            conn,
            AuditEvent::ok("create", "meeting_note", Some(&row.id), Some(&row.child_id)).with_changes(None, Some(&row)),
        )
    })?;
    Ok(MeetingNoteView::from(&row))
}

/// Closes an open action as done or cancelled, with a comment.
pub fn close_action(conn: &mut DbConn, ctx: &DomainCtx, action_id: &str, input: CloseAction) -> AppResult<ActionView> {
    let mut c = Checks::new();
    let comment = c.text("comment", &input.comment, 2000);
    if !matches!(input.status.as_str(), DONE | CANCELLED) {
        c.fail("status", "must be done or cancelled");
    }
    c.finish()?;
    write_transaction(conn, |conn| {
        let before: ActionRow = meeting_actions::table
            .find(action_id)
            .select(ActionRow::as_select())
            .first(conn)
            .optional()?
            .ok_or(AppError::NotFound("action"))?;
        let child = super::children::load(conn, &before.child_id)?;
        let theirs = only_own(&ctx.actor).is_none_or(|me| me == before.owner_email.to_lowercase());
        if !ctx.scope.allows(&child.responsible_la) || !theirs {
            return Err(AppError::NotFound("action"));
        }
        super::check_version(input.version, before.version)?;
        if before.status != OPEN {
            return Err(AppError::Conflict(format!("the action is already {}", before.status)));
        }
        let mut after = before.clone();
        after.status = input.status.clone();
        after.closed_on = Some(ctx.today);
        after.closed_comment = Some(comment.clone());
        after.closed_by = ctx.actor.email.clone();
        after.version += 1;
        let n = diesel::update(
            meeting_actions::table
                .filter(meeting_actions::id.eq(&before.id))
                .filter(meeting_actions::version.eq(before.version)),
        )
        .set((
            meeting_actions::status.eq(&after.status),
            meeting_actions::closed_on.eq(after.closed_on),
            meeting_actions::closed_comment.eq(&after.closed_comment),
            meeting_actions::closed_by.eq(&after.closed_by),
            meeting_actions::version.eq(after.version),
        ))
        .execute(conn)?;
        if n != 1 {
            return Err(AppError::StaleVersion {
                sent: before.version,
                current: before.version + 1,
            });
        }
        // Its overdue escalation, if one fired, has cleared.
        diesel::update(
            escalations::table
                .filter(escalations::occurrence_key.eq(&before.id))
                .filter(escalations::condition.eq(OVERDUE_CONDITION))
                .filter(escalations::resolved_on.is_null()),
        )
        .set(escalations::resolved_on.eq(ctx.today))
        .execute(conn)?;
        ctx.audit(
            conn,
            AuditEvent::ok("update", "meeting_action", Some(&before.id), Some(&before.child_id))
                .with_changes(Some(&before), Some(&after)),
        )?;
        let held_on: NaiveDate = assurance_meetings::table
            .find(&after.meeting_id)
            .select(assurance_meetings::held_on)
            .first(conn)?;
        Ok(view(&after, held_on, &child, ctx.today))
    })
}

fn view(a: &ActionRow, raised_on: NaiveDate, child: &models::Child, today: NaiveDate) -> ActionView {
    ActionView {
        id: a.id.clone(),
        meeting_id: a.meeting_id.clone(),
        raised_on,
        assessment_id: a.assessment_id.clone(),
        child_id: a.child_id.clone(),
        child_local_id: child.local_id.clone(),
        child_initials: crate::escalation::initials(&child.given_name, &child.family_name),
        what: a.what.clone(),
        owner_name: a.owner_name.clone(),
        owner_email: a.owner_email.clone(),
        due_on: a.due_on,
        overdue: a.status == OPEN && a.due_on < today,
        status: a.status.clone(),
        closed_on: a.closed_on,
        closed_comment: a.closed_comment.clone(),
        version: a.version,
    }
}

type ActionJoined = (ActionRow, NaiveDate, models::Child);

/// Which actions to load.
enum Which<'a> {
    RaisedAt(&'a str),
    /// Raised before this day and still open on it.
    CarriedTo(NaiveDate),
    OfChild(&'a str),
    Asked(&'a ActionQuery, NaiveDate),
}

/// Actions with their meeting's day and child, in the caller's scope (and, for a social
/// worker, assigned to them), soonest due first.
fn load_actions(conn: &mut DbConn, ctx: &DomainCtx, which: Which<'_>) -> AppResult<Vec<ActionJoined>> {
    let mut q = meeting_actions::table
        .inner_join(assurance_meetings::table)
        .inner_join(children::table)
        .select((
            ActionRow::as_select(),
            assurance_meetings::held_on,
            models::Child::as_select(),
        ))
        .order((meeting_actions::due_on.asc(), meeting_actions::created_at.asc()))
        .into_boxed();
    if let Some(codes) = ctx.scope.codes() {
        q = q.filter(children::responsible_la.eq_any(codes.to_vec()));
    }
    if let Some(me) = only_own(&ctx.actor) {
        q = q.filter(meeting_actions::owner_email.eq(me));
    }
    q = match which {
        Which::RaisedAt(id) => q.filter(meeting_actions::meeting_id.eq(id.to_string())),
        Which::CarriedTo(day) => q.filter(assurance_meetings::held_on.lt(day)).filter(
            meeting_actions::closed_on
                .is_null()
                .or(meeting_actions::closed_on.ge(day)),
        ),
        Which::OfChild(id) => q.filter(meeting_actions::child_id.eq(id.to_string())),
        Which::Asked(a, today) => {
            if let Some(s) = &a.status {
                q = q.filter(meeting_actions::status.eq(s.clone()));
            }
            if let Some(id) = &a.assessment_id {
                q = q.filter(meeting_actions::assessment_id.eq(id.clone()));
            }
            if let Some(id) = &a.child_id {
                q = q.filter(meeting_actions::child_id.eq(id.clone()));
            }
            match a.overdue {
                Some(true) => q
                    .filter(meeting_actions::status.eq(OPEN))
                    .filter(meeting_actions::due_on.lt(today)),
                Some(false) => q.filter(meeting_actions::status.ne(OPEN).or(meeting_actions::due_on.ge(today))),
                None => q,
            }
        }
    };
    Ok(q.load(conn)?)
}

/// The actions the query asks for, a page at a time.
pub fn list_actions(conn: &mut DbConn, ctx: &DomainCtx, q: ActionQuery) -> AppResult<Page<ActionView>> {
    let mut c = Checks::new();
    let (limit, offset) = c.page(q.limit, q.offset, 100);
    if let Some(s) = &q.status {
        if ![OPEN, DONE, CANCELLED].contains(&s.as_str()) {
            c.fail("status", "must be open, done or cancelled");
        }
    }
    c.finish()?;
    let today = ctx.today;
    let rows = ctx.read_audited(
        conn,
        |conn| load_actions(conn, ctx, Which::Asked(&q, today)),
        |_| AuditEvent::ok("list", "meeting_action", None, None),
    )?;
    let all: Vec<ActionView> = rows.iter().map(|(a, on, child)| view(a, *on, child, today)).collect();
    Ok(Page::slice(all, limit, offset))
}

/// Every action on one child's assessments (for the child's record and the assessment
/// page): open first, then by due date. The caller has already read the child.
pub fn actions_of_child(conn: &mut DbConn, ctx: &DomainCtx, child_id: &str) -> AppResult<Vec<ActionView>> {
    let rows = load_actions(conn, ctx, Which::OfChild(child_id))?;
    let mut all: Vec<ActionView> = rows
        .iter()
        .map(|(a, on, child)| view(a, *on, child, ctx.today))
        .collect();
    all.sort_by_key(|a| (a.status != OPEN, a.due_on));
    Ok(all)
}

/// A meeting's minutes: each child discussed (a note, decision or action made at it, or an
/// action carried forward to it), by local id.
pub fn minutes(conn: &mut DbConn, ctx: &DomainCtx, meeting_id: &str) -> AppResult<Minutes> {
    let today = ctx.today;
    ctx.read_audited(
        conn,
        |conn| {
            let m = meeting(conn, meeting_id)?;
            let raised = load_actions(conn, ctx, Which::RaisedAt(&m.id))?;
            let carried = load_actions(conn, ctx, Which::CarriedTo(m.held_on))?;
            let mut notes_q = meeting_notes::table
                .inner_join(children::table)
                .filter(meeting_notes::meeting_id.eq(&m.id))
                .select((NoteRow::as_select(), models::Child::as_select()))
                .order(meeting_notes::created_at.asc())
                .into_boxed();
            if let Some(codes) = ctx.scope.codes() {
                notes_q = notes_q.filter(children::responsible_la.eq_any(codes.to_vec()));
            }
            if only_own(&ctx.actor).is_some() {
                notes_q = notes_q.filter(meeting_notes::id.eq(""));
            }
            let notes: Vec<(NoteRow, models::Child)> = notes_q.load(conn)?;
            let mut items: HashMap<String, MinutesItem> = HashMap::new();
            for (n, child) in &notes {
                item(&mut items, &n.assessment_id, child)
                    .notes
                    .push(MeetingNoteView::from(n));
            }
            for (a, on, child) in &raised {
                item(&mut items, &a.assessment_id, child)
                    .actions
                    .push(view(a, *on, child, today));
            }
            for (a, on, child) in &carried {
                item(&mut items, &a.assessment_id, child)
                    .carried_forward
                    .push(view(a, *on, child, today));
            }
            let mut items: Vec<MinutesItem> = items.into_values().collect();
            items.sort_by(|a, b| (&a.child_local_id, &a.assessment_id).cmp(&(&b.child_local_id, &b.assessment_id)));
            Ok(Minutes {
                meeting: MeetingView::from(&m),
                items,
            })
        },
        |m| AuditEvent::ok("read", "assurance_meeting", Some(&m.meeting.id), None),
    )
}

/// The minutes' entry for an assessment, made on first use.
fn item<'a>(
    items: &'a mut HashMap<String, MinutesItem>,
    assessment_id: &str,
    child: &models::Child,
) -> &'a mut MinutesItem {
    items.entry(assessment_id.to_string()).or_insert_with(|| MinutesItem {
        child_id: child.id.clone(),
        child_local_id: child.local_id.clone(),
        child_initials: crate::escalation::initials(&child.given_name, &child.family_name),
        assessment_id: assessment_id.to_string(),
        notes: Vec::new(),
        actions: Vec::new(),
        carried_forward: Vec::new(),
    })
}

/// Open actions on each of these assessments on `as_of` (raised at a meeting held by then
/// and not closed by then), in words for the meeting's list.
pub fn open_actions_on(conn: &mut DbConn, ids: &[String], as_of: NaiveDate) -> AppResult<HashMap<String, Vec<String>>> {
    let mut found: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(900) {
        let rows: Vec<(String, String, String, NaiveDate)> = meeting_actions::table
            .inner_join(assurance_meetings::table)
            .filter(meeting_actions::assessment_id.eq_any(chunk))
            .filter(assurance_meetings::held_on.le(as_of))
            .filter(
                meeting_actions::closed_on
                    .is_null()
                    .or(meeting_actions::closed_on.gt(as_of)),
            )
            .order(meeting_actions::due_on.asc())
            .select((
                meeting_actions::assessment_id,
                meeting_actions::what,
                meeting_actions::owner_name,
                meeting_actions::due_on,
            ))
            .load(conn)?;
        for (id, what, owner, due) in rows {
            let late = if due < as_of { ", overdue" } else { "" };
            found.entry(id).or_default().push(format!(
                "{what} ({owner}, due {}{late})",
                crate::web::format::date(&due)
            ));
        }
    }
    Ok(found)
}

/// The assessments with an action open on `as_of` (the list's "has open actions" filter).
pub fn with_open_actions(conn: &mut DbConn, as_of: NaiveDate) -> AppResult<HashSet<String>> {
    Ok(meeting_actions::table
        .inner_join(assurance_meetings::table)
        .filter(assurance_meetings::held_on.le(as_of))
        .filter(
            meeting_actions::closed_on
                .is_null()
                .or(meeting_actions::closed_on.gt(as_of)),
        )
        .select(meeting_actions::assessment_id)
        .distinct()
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// The escalation condition of an overdue action (`config/escalations.toml`).
pub const OVERDUE_CONDITION: &str = "meeting_action_overdue";

/// An open action past its due date, with what its mail needs.
type OverdueRow = (ActionRow, NaiveDate, (String, String, String, Option<String>));

/// Emails the owner of each action that became overdue, once per (action, rule, level):
/// the rules of the ladder whose condition is `meeting_action_overdue`, counting working
/// days from the day after the action's due date. Recorded like any escalation (the same
/// UNIQUE key, so two sweeps send it once), and cleared when the action is closed.
pub fn sweep_overdue(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    cfg: &super::escalations::EscalationConfig,
    as_of: NaiveDate,
    dry_run: bool,
    report: &mut super::escalations::SweepReport,
) -> AppResult<()> {
    use crate::escalation::{self, Condition, Occurrence};
    let rules: Vec<&escalation::Rule> = cfg
        .ladder
        .rules
        .iter()
        .filter(|r| r.enabled && r.condition == Condition::MeetingActionOverdue)
        .collect();
    if rules.is_empty() {
        return Ok(());
    }
    let overdue: Vec<OverdueRow> = meeting_actions::table
        .inner_join(assurance_meetings::table)
        .inner_join(children::table)
        .filter(meeting_actions::status.eq(OPEN))
        .filter(meeting_actions::due_on.lt(as_of))
        .select((
            ActionRow::as_select(),
            assurance_meetings::held_on,
            (
                children::given_name,
                children::family_name,
                children::local_id,
                children::social_worker_email,
            ),
        ))
        .load(conn)?;
    let ids: Vec<&str> = overdue.iter().map(|(a, _, _)| a.id.as_str()).collect();
    let mut fired_before: HashSet<(String, String, i32)> = HashSet::new();
    for chunk in ids.chunks(900) {
        let rows: Vec<(String, String, i32)> = escalations::table
            .filter(escalations::condition.eq(OVERDUE_CONDITION))
            .filter(escalations::occurrence_key.eq_any(chunk))
            .select((escalations::occurrence_key, escalations::rule_id, escalations::level))
            .load(conn)?;
        fired_before.extend(rows);
    }
    for (action, held_on, child) in &overdue {
        let Some(since) = action.due_on.succ_opt() else {
            continue;
        };
        let occurrence = Occurrence {
            since,
            key: action.id.clone(),
        };
        for rule in &rules {
            for level in rule
                .levels
                .iter()
                .filter(|l| escalation::level_due(l, &occurrence, &ctx.calendar, as_of))
            {
                if fired_before.contains(&(action.id.clone(), rule.id.clone(), i32::from(level.level))) {
                    continue;
                }
                let fired = if dry_run {
                    Some(fired_report(None, action, child, rule, level, since))
                } else {
                    write_transaction(conn, |conn| {
                        match conn.transaction(|conn| {
                            fire_overdue(conn, cfg, as_of, action, *held_on, child, rule, level, since)
                        }) {
                            Ok(f) => Ok::<_, AppError>(Some(f)),
                            Err(AppError::Conflict(_)) => Ok(None),
                            Err(e) => Err(e),
                        }
                    })?
                };
                match fired {
                    Some(f) => {
                        report.undeliverable += f.recipients.iter().filter(|r| r.ends_with("(no address)")).count();
                        report.fired.push(f);
                    }
                    None => report.lost_races += 1,
                }
            }
        }
    }
    Ok(())
}

fn recipient_address(
    cfg: &super::escalations::EscalationConfig,
    action: &ActionRow,
    social_worker: Option<&str>,
    r: crate::escalation::Recipient,
) -> Option<String> {
    use crate::escalation::Recipient;
    let address = match r {
        Recipient::ActionOwner => Some(action.owner_email.as_str()),
        Recipient::SocialWorker => social_worker,
        Recipient::HealthAdminMailbox => Some(cfg.health_admin_mailbox.as_str()),
        Recipient::NamedNurse => Some(cfg.named_nurse_email.as_str()),
        Recipient::DesignatedNurse => Some(cfg.designated_nurse_email.as_str()),
        // Not about an out-of-area request or an authority's team: nobody to address.
        Recipient::LaTeamManager | Recipient::HostProvider | Recipient::HostIcbDesignatedNurse => None,
    };
    address.map(str::trim).filter(|a| !a.is_empty()).map(str::to_string)
}

fn fired_report(
    id: Option<String>,
    action: &ActionRow,
    child: &(String, String, String, Option<String>),
    rule: &crate::escalation::Rule,
    level: &crate::escalation::Level,
    since: NaiveDate,
) -> super::escalations::Fired {
    super::escalations::Fired {
        escalation_id: id,
        assessment_id: action.assessment_id.clone(),
        child_local_id: child.2.clone(),
        rule_id: rule.id.clone(),
        level: level.level,
        occurrence_key: action.id.clone(),
        since,
        recipients: Vec::new(),
    }
}

/// Records one overdue-action escalation with its mail and audit entry. No name, date of
/// birth or NHS number goes in the mail, nor the action's own words (staff may have
/// written a name there): the owner opens the case for the detail.
#[allow(clippy::too_many_arguments)]
fn fire_overdue(
    conn: &mut DbConn,
    cfg: &super::escalations::EscalationConfig,
    as_of: NaiveDate,
    action: &ActionRow,
    held_on: NaiveDate,
    child: &(String, String, String, Option<String>),
    rule: &crate::escalation::Rule,
    level: &crate::escalation::Level,
    since: NaiveDate,
) -> AppResult<super::escalations::Fired> {
    use crate::escalation::{self, Condition, MailContext};
    let id = new_id();
    let (kind, responsible_la): (String, String) = assessments::table
        .find(&action.assessment_id)
        .select((assessments::kind, assessments::responsible_la))
        .first(conn)?;
    let row = models::Escalation {
        id: id.clone(),
        assessment_id: action.assessment_id.clone(),
        child_id: action.child_id.clone(),
        rule_id: rule.id.clone(),
        condition: OVERDUE_CONDITION.to_string(),
        level: i32::from(level.level),
        occurrence_key: action.id.clone(),
        since,
        fired_on: as_of,
        resolved_on: None,
        created_at: now_utc(),
        responsible_la,
    };
    diesel::insert_into(escalations::table).values(&row).execute(conn)?;
    let mut report = fired_report(Some(id.clone()), action, child, rule, level, since);
    for recipient in &level.recipients {
        let to = recipient_address(cfg, action, child.3.as_deref(), *recipient);
        let mail = escalation::render(&MailContext {
            child_initials: escalation::initials(&child.0, &child.1),
            child_local_id: child.2.clone(),
            case_url: format!("{}/children/{}", cfg.public_url, action.child_id),
            assessment_kind: kind.parse().unwrap_or(crate::workflow::Kind::Iha),
            condition: Condition::MeetingActionOverdue,
            template: rule.template,
            since,
            due_on: action.due_on,
            due_explanation: format!(
                "The action was agreed at the IHA assurance meeting of {}, to be done by {}.",
                held_on.format("%a %-d %b %Y"),
                action.due_on.format("%a %-d %b %Y")
            ),
            level: level.level,
            recipient_role: *recipient,
        });
        let status = super::outbox::enqueue(
            conn,
            &cfg.message_domain,
            super::outbox::NewMail {
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
        report.recipients.push(if status == super::outbox::UNDELIVERABLE {
            format!("{recipient} (no address)")
        } else {
            format!("{recipient} <{}>", to.unwrap_or_default())
        });
    }
    audit::record(
        conn,
        &Actor::system("escalation"),
        AuditEvent::ok("escalate", "escalation", Some(&id), Some(&action.child_id)),
    )?;
    Ok(report)
}
