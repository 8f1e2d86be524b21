//! The assurance meeting's record in the browser: opening a meeting (from `/assurance`),
//! its minutes (`/assurance/meetings/{id}`, printable), recording an action, a decision or
//! a note on a child's assessment, and closing an action.
//!
//! Rules:
//! - Each form posts to a page twin of the API route and calls the same service function
//!   (`service::meetings`): the same roles, scope and audit.
//! - An action, decision or note that fails validation shows the minutes again (422) with
//!   the error summary, the inline errors and the form open as typed ("Error: " in the
//!   title); other refusals (not found, a closed action) answer the error page. Success
//!   answers 303 back to the minutes (or to the page the close form was on).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use super::forms::{FormErrors, Posted, TextArea, TextField};
use super::layout::Layout;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::auth::Access;
use crate::http::{extract, AppState};
use crate::service::meetings::{self, ActionView, CloseAction, Minutes, NewAction, NewMeeting, NewMeetingNote};

#[derive(Template, WebTemplate)]
#[template(path = "meeting.html")]
pub struct MinutesPage {
    pub layout: Layout,
    pub minutes: Minutes,
    /// The assessment being recorded on, when the user may write.
    pub recording: Option<String>,
    pub may_write: bool,
    pub may_close: bool,
    /// This page's path (where a close form comes back to).
    pub here: String,
    pub what: TextField,
    pub owner_name: TextField,
    pub owner_email: TextField,
    pub due_on: TextField,
    pub body: TextArea,
    pub errors: FormErrors,
    /// The note form's kind as chosen ("decision" unless typed otherwise).
    pub note_kind: String,
}

impl MinutesPage {
    pub fn back_to_list(&self) -> String {
        format!("/assurance?as_of={}", self.minutes.meeting.held_on)
    }
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, to.to_string()))
        .finish()
}

fn date_field(posted: &Posted, name: &str) -> AppResult<chrono::NaiveDate> {
    posted
        .get(name)
        .trim()
        .parse()
        .map_err(|_| AppError::invalid(name, "must be a date like 2026-01-12"))
}

pub async fn open(state: web::Data<AppState>, access: Access, body: web::Bytes) -> AppResult<HttpResponse> {
    let posted = Posted::parse(&body);
    let input = NewMeeting {
        held_on: date_field(&posted, "held_on")?,
        chair: posted.get("chair").to_string(),
        attendees: posted.optional("attendees"),
    };
    let (meeting, _) = state
        .run_as(&access, move |conn, ctx| meetings::open_meeting(conn, ctx, input))
        .await?;
    Ok(see_other(&format!("/assurance/meetings/{}", meeting.id)))
}

pub async fn minutes_page(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "meeting")?;
    let recording = super::query_value(&req, "assessment");
    render(&state, &access, &req, id, recording, None, StatusCode::OK).await
}

/// The form that failed: its name ("action" or "note"), what was typed, and the errors.
type Failed = (&'static str, Posted, FormErrors);

/// The minutes, with the recording forms for `recording` (an assessment id) when the user
/// may write, and `failed` shown open with its errors.
async fn render(
    state: &AppState,
    access: &Access,
    req: &HttpRequest,
    id: String,
    recording: String,
    failed: Option<Failed>,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let minutes = state
        .run_as(access, move |conn, ctx| meetings::minutes(conn, ctx, &id))
        .await?;
    let roles = &access.principal.roles;
    let here = format!("/assurance/meetings/{}", minutes.meeting.id);
    let may_write = super::may(roles, "POST", &format!("{here}/actions"));
    let may_close = super::may(roles, "POST", "/assurance/meetings/actions/x/close");
    let recording = Some(recording).filter(|a| may_write && uuid::Uuid::parse_str(a).is_ok());
    let empty = Posted::default();
    let none = FormErrors::new();
    let (action_in, note_in, errors) = match &failed {
        Some(("action", p, e)) => ((p, e), (&empty, &none), e.clone()),
        Some((_, p, e)) => ((&empty, &none), (p, e), e.clone()),
        None => ((&empty, &none), (&empty, &none), FormErrors::new()),
    };
    let note_kind = match note_in.0.get("kind") {
        "note" => "note",
        _ => "decision",
    };
    let title = format!(
        "Minutes of the meeting of {}",
        super::format::date(&minutes.meeting.held_on)
    );
    let page = MinutesPage {
        layout: Layout::signed_in(super::forms::title(&title, &errors), &access.principal, req.path()),
        what: TextField::new("what", "What is to be done", action_in.0, action_in.1),
        owner_name: TextField::new("owner_name", "Owner's name", action_in.0, action_in.1),
        owner_email: TextField::new("owner_email", "Owner's email address", action_in.0, action_in.1).kind("email"),
        due_on: TextField::new("due_on", "Due date", action_in.0, action_in.1)
            .hint("YYYY-MM-DD, for example 2026-01-12")
            .width("nhsuk-input--width-10"),
        body: TextArea::new("body", "Decision or note", note_in.0, note_in.1),
        note_kind: note_kind.to_string(),
        errors,
        here,
        minutes,
        recording,
        may_write,
        may_close,
    };
    Ok(super::respond(req, status, page))
}

/// Shows the minutes again with the failed form, or passes on a refusal that is not about
/// the input.
async fn refused(
    state: &AppState,
    access: &Access,
    req: &HttpRequest,
    meeting: String,
    form: &'static str,
    posted: Posted,
    error: AppError,
) -> AppResult<HttpResponse> {
    let fields: &[(&str, &str, &str)] = match form {
        "action" => &[
            ("what", "what", "what"),
            ("owner_name", "owner_name", "owner_name"),
            ("owner_email", "owner_email", "owner_email"),
            ("due_on", "due_on", "due_on"),
        ],
        _ => &[("kind", "kind", "kind-decision"), ("body", "body", "body")],
    };
    let form_id = format!("{form}-form");
    let Some(errors) = FormErrors::from_error(&error, fields, &form_id) else {
        return Err(error);
    };
    let recording = posted.get("assessment_id").to_string();
    render(
        state,
        access,
        req,
        meeting,
        recording,
        Some((form, posted, errors)),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn add_action(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "meeting")?;
    let posted = Posted::parse(&body);
    let due_on = match date_field(&posted, "due_on") {
        Ok(d) => d,
        Err(e) => {
            // The service is not asked without a date: say what else is missing here.
            let mut list: Vec<FieldError> = [
                ("what", "what is to be done"),
                ("owner_name", "the owner's name"),
                ("owner_email", "the owner's email address"),
            ]
            .into_iter()
            .filter(|(name, _)| posted.get(name).trim().is_empty())
            .map(|(name, what)| FieldError::new(name, format!("enter {what}")))
            .collect();
            if let AppError::Invalid(date) = e {
                list.extend(date);
            }
            let error = AppError::Invalid(list);
            return refused(&state, &access, &req, id, "action", posted, error).await;
        }
    };
    let input = NewAction {
        assessment_id: posted.get("assessment_id").to_string(),
        what: posted.get("what").to_string(),
        owner_name: posted.get("owner_name").to_string(),
        owner_email: posted.get("owner_email").to_string(),
        due_on,
    };
    let meeting = id.clone();
    let result = state
        .run_as(&access, move |conn, ctx| {
            meetings::add_action(conn, ctx, &meeting, input)
        })
        .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/assurance/meetings/{id}"))),
        Err(e) => refused(&state, &access, &req, id, "action", posted, e).await,
    }
}

pub async fn add_note(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "meeting")?;
    let posted = Posted::parse(&body);
    let input = NewMeetingNote {
        assessment_id: posted.get("assessment_id").to_string(),
        kind: posted.get("kind").to_string(),
        body: posted.get("body").to_string(),
    };
    let meeting = id.clone();
    let result = state
        .run_as(&access, move |conn, ctx| meetings::add_note(conn, ctx, &meeting, input))
        .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/assurance/meetings/{id}"))),
        Err(e) => refused(&state, &access, &req, id, "note", posted, e).await,
    }
}

pub async fn close(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "action")?;
    let posted = Posted::parse(&body);
    let input = CloseAction {
        status: posted.get("status").to_string(),
        comment: posted.get("comment").to_string(),
        version: posted.version(),
    };
    let action: ActionView = state
        .run_as(&access, move |conn, ctx| meetings::close_action(conn, ctx, &id, input))
        .await?;
    let back = super::safe_next(posted.optional("next").as_deref());
    let back = if back == "/" {
        format!("/children/{}", action.child_id)
    } else {
        back
    };
    Ok(see_other(&back))
}

/// Words for an action's state.
pub fn action_state(a: &ActionView) -> String {
    match a.status.as_str() {
        meetings::OPEN if a.overdue => "Open, overdue".into(),
        meetings::OPEN => "Open".into(),
        meetings::DONE => "Done".into(),
        _ => "Cancelled".into(),
    }
}
