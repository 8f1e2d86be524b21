//! `/api/v1/assurance/meetings`: the assurance meeting's record (`service::meetings`).

use actix_web::{web, HttpResponse};

use super::auth::Access;
use super::extract;
use super::AppState;
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::paging::Page;
use crate::service::meetings::{
    self, ActionQuery, ActionView, CloseAction, MeetingNoteView, MeetingView, Minutes, NewAction, NewMeeting,
    NewMeetingNote,
};

impl extract::JsonInput for NewMeeting {
    const MULTILINE: &'static [&'static str] = &["attendees"];
}
impl extract::JsonInput for NewAction {
    const MULTILINE: &'static [&'static str] = &["what"];
}
impl extract::JsonInput for NewMeetingNote {
    const MULTILINE: &'static [&'static str] = &["body"];
}
impl extract::JsonInput for CloseAction {
    const MULTILINE: &'static [&'static str] = &["comment"];
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/assurance/meetings")
            .route(web::get().to(list))
            .route(web::post().to(open)),
    )
    .service(web::resource("/assurance/meetings/actions").route(web::get().to(actions)))
    .service(web::resource("/assurance/meetings/actions/{id}/close").route(web::post().to(close)))
    .service(web::resource("/assurance/meetings/{id}").route(web::get().to(get)))
    .service(web::resource("/assurance/meetings/{id}/actions").route(web::post().to(add_action)))
    .service(web::resource("/assurance/meetings/{id}/notes").route(web::post().to(add_note)));
}

#[utoipa::path(get, path = "/api/v1/assurance/meetings", tag = "assurance", operation_id = "list_meetings", params(extract::PageQuery),
    responses((status = 200, body = Page<MeetingView>, description = "Newest first"), (status = 422, body = Problem)))]
pub async fn list(state: web::Data<AppState>, access: Access, req: actix_web::HttpRequest) -> AppResult<HttpResponse> {
    let q: extract::PageQuery = extract::query(req.query_string())?;
    let (limit, offset) = extract::page(q.limit, q.offset, 100)?;
    let page = state
        .run_as(&access, move |conn, _| meetings::list_meetings(conn, limit, offset))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(post, path = "/api/v1/assurance/meetings", tag = "assurance", operation_id = "open_meeting", request_body = NewMeeting,
    responses((status = 201, body = MeetingView, description = "Opened"),
        (status = 200, body = MeetingView, description = "Already open that day: that meeting"),
        (status = 422, body = Problem)))]
pub async fn open(state: web::Data<AppState>, access: Access, body: extract::Body) -> AppResult<HttpResponse> {
    let input: NewMeeting = extract::json(&body)?;
    let (meeting, created) = state
        .run_as(&access, move |conn, ctx| meetings::open_meeting(conn, ctx, input))
        .await?;
    Ok(if created {
        HttpResponse::Created().json(meeting)
    } else {
        HttpResponse::Ok().json(meeting)
    })
}

#[utoipa::path(get, path = "/api/v1/assurance/meetings/{id}", tag = "assurance", operation_id = "get_meeting", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Minutes), (status = 404, body = Problem)))]
pub async fn get(state: web::Data<AppState>, access: Access, path: web::Path<String>) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "meeting")?;
    let minutes = state
        .run_as(&access, move |conn, ctx| meetings::minutes(conn, ctx, &id))
        .await?;
    Ok(HttpResponse::Ok().json(minutes))
}

#[utoipa::path(post, path = "/api/v1/assurance/meetings/{id}/actions", tag = "assurance", operation_id = "add_meeting_action", params(("id" = String, Path, format = Uuid)),
    request_body = NewAction,
    responses((status = 201, body = ActionView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_action(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "meeting")?;
    let input: NewAction = extract::json(&body)?;
    let action = state
        .run_as(&access, move |conn, ctx| meetings::add_action(conn, ctx, &id, input))
        .await?;
    Ok(HttpResponse::Created().json(action))
}

#[utoipa::path(post, path = "/api/v1/assurance/meetings/{id}/notes", tag = "assurance", operation_id = "add_meeting_note", params(("id" = String, Path, format = Uuid)),
    request_body = NewMeetingNote,
    responses((status = 201, body = MeetingNoteView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_note(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "meeting")?;
    let input: NewMeetingNote = extract::json(&body)?;
    let note = state
        .run_as(&access, move |conn, ctx| meetings::add_note(conn, ctx, &id, input))
        .await?;
    Ok(HttpResponse::Created().json(note))
}

#[utoipa::path(get, path = "/api/v1/assurance/meetings/actions", tag = "assurance", operation_id = "list_meeting_actions", params(ActionQuery),
    responses((status = 200, body = Page<ActionView>, description = "Soonest due first; a social worker sees those assigned to them"),
        (status = 422, body = Problem)))]
pub async fn actions(
    state: web::Data<AppState>,
    access: Access,
    req: actix_web::HttpRequest,
) -> AppResult<HttpResponse> {
    let q: ActionQuery = extract::query(req.query_string())?;
    // Ids are UUIDs: anything else is a mistake to name, not a filter that matches nothing.
    let not_ids: Vec<FieldError> = [("child_id", &q.child_id), ("assessment_id", &q.assessment_id)]
        .into_iter()
        .filter(|(_, v)| v.as_deref().is_some_and(|id| uuid::Uuid::parse_str(id).is_err()))
        .map(|(field, _)| FieldError::new(field, "must be an id (a UUID)"))
        .collect();
    if !not_ids.is_empty() {
        return Err(AppError::Invalid(not_ids));
    }
    let page = state
        .run_as(&access, move |conn, ctx| meetings::list_actions(conn, ctx, q))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(post, path = "/api/v1/assurance/meetings/actions/{id}/close", tag = "assurance", operation_id = "close_meeting_action", params(("id" = String, Path, format = Uuid)),
    request_body = CloseAction,
    responses((status = 200, body = ActionView), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn close(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "action")?;
    let input: CloseAction = extract::json(&body)?;
    let action = state
        .run_as(&access, move |conn, ctx| meetings::close_action(conn, ctx, &id, input))
        .await?;
    Ok(HttpResponse::Ok().json(action))
}
