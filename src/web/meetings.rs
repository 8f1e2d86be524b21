//! The assurance meeting's record in the browser: opening a meeting (from `/assurance`),
//! its minutes (`/assurance/meetings/{id}`, printable), recording an action, a decision or
//! a note on a child's assessment, and closing an action.
//!
//! Rules:
//! - Each form posts to a page twin of the API route and calls the same service function
//!   (`service::meetings`): the same roles, scope and audit.
//! - A refused form answers the error page naming what was wrong (these forms are short);
//!   success answers 303 back to the minutes (or to the page the close form was on).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use super::forms::{FormErrors, Posted, TextArea, TextField};
use super::layout::Layout;
use crate::error::{AppError, AppResult};
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
    let minutes = state
        .run_as(&access, move |conn, ctx| meetings::minutes(conn, ctx, &id))
        .await?;
    let roles = &access.principal.roles;
    let path = req.path().to_string();
    let may_write = super::may(roles, "POST", &format!("{path}/actions"));
    let path = path.clone();
    let may_close = super::may(roles, "POST", "/assurance/meetings/actions/x/close");
    let recording =
        Some(super::query_value(&req, "assessment")).filter(|a| may_write && uuid::Uuid::parse_str(a).is_ok());
    let empty = Posted::default();
    let errors = FormErrors::new();
    let page = MinutesPage {
        layout: Layout::signed_in(
            format!(
                "Minutes of the meeting of {}",
                super::format::date(&minutes.meeting.held_on)
            ),
            &access.principal,
            req.path(),
        ),
        what: TextField::new("what", "What is to be done", &empty, &errors),
        owner_name: TextField::new("owner_name", "Owner's name", &empty, &errors),
        owner_email: TextField::new("owner_email", "Owner's email address", &empty, &errors).kind("email"),
        due_on: TextField::new("due_on", "Due date", &empty, &errors)
            .hint("YYYY-MM-DD, for example 2026-01-12")
            .width("nhsuk-input--width-10"),
        body: TextArea::new("body", "Decision or note", &empty, &errors),
        here: path,
        minutes,
        recording,
        may_write,
        may_close,
    };
    Ok(super::respond(&req, StatusCode::OK, page))
}

pub async fn add_action(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "meeting")?;
    let posted = Posted::parse(&body);
    let input = NewAction {
        assessment_id: posted.get("assessment_id").to_string(),
        what: posted.get("what").to_string(),
        owner_name: posted.get("owner_name").to_string(),
        owner_email: posted.get("owner_email").to_string(),
        due_on: date_field(&posted, "due_on")?,
    };
    let meeting = id.clone();
    state
        .run_as(&access, move |conn, ctx| {
            meetings::add_action(conn, ctx, &meeting, input)
        })
        .await?;
    Ok(see_other(&format!("/assurance/meetings/{id}")))
}

pub async fn add_note(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
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
    state
        .run_as(&access, move |conn, ctx| meetings::add_note(conn, ctx, &meeting, input))
        .await?;
    Ok(see_other(&format!("/assurance/meetings/{id}")))
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
