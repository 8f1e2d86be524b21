use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Access;
use super::extract::{self, JsonInput};
use super::AppState;
use crate::error::{AppResult, Problem};
use crate::paging::Page;
use crate::service::children::{self, ChildUpdate, NewChild, NewHealthCheck, NewNote};
use crate::service::views::{ChildDetail, ChildSummary, HealthCheckView, NoteView};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/children")
            .route(web::post().to(create))
            .route(web::get().to(search)),
    )
    .service(
        web::resource("/children/{id}")
            .route(web::get().to(get))
            .route(web::patch().to(update)),
    )
    .service(web::resource("/children/{id}/health-checks").route(web::post().to(add_health_check)))
    .service(web::resource("/children/{id}/notes").route(web::post().to(add_note)));
}

impl JsonInput for NewChild {}
impl JsonInput for ChildUpdate {}
impl JsonInput for NewHealthCheck {
    const MULTILINE: &'static [&'static str] = &["outcome"];
}
impl JsonInput for NewNote {
    const MULTILINE: &'static [&'static str] = &["body"];
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOf {
    /// The date to evaluate deadlines on (default: today in Europe/London), from
    /// 2000-01-01 to five years after today.
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub as_of: Option<chrono::NaiveDate>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Search {
    /// Local id, NHS number, or the start of a family or given name.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Items per page, 1-1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/children", tag = "children", request_body = NewChild,
    responses((status = 201, body = ChildSummary), (status = 409, body = Problem, description = "Registered at the same moment by another request"),
        (status = 422, body = Problem)))]
pub async fn create(state: web::Data<AppState>, access: Access, body: extract::Body) -> AppResult<HttpResponse> {
    let input: NewChild = extract::json(&body)?;
    let child = state
        .run_as(&access, move |conn, ctx| children::register(conn, ctx, input))
        .await?;
    Ok(HttpResponse::Created().json(child))
}

#[utoipa::path(get, path = "/api/v1/children", tag = "children", params(Search),
    responses((status = 200, body = Page<ChildSummary>, description = "By family name, then given name"),
        (status = 422, body = Problem)))]
pub async fn search(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let q: Search = extract::query(req.query_string())?;
    let (limit, offset) = extract::page(q.limit, q.offset, 50)?;
    let text = q.q.unwrap_or_default();
    if text.chars().count() > 100 {
        return Err(crate::error::AppError::invalid("q", "must be at most 100 characters"));
    }
    let found = state
        .run_as(&access, move |conn, ctx| {
            children::search(conn, ctx, &text, limit, offset)
        })
        .await?;
    Ok(HttpResponse::Ok().json(found))
}

#[utoipa::path(get, path = "/api/v1/children/{id}", operation_id = "get_child", tag = "children", params(("id" = String, Path, format = Uuid), AsOf),
    responses((status = 200, body = ChildDetail), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn get(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "child")?;
    let q: AsOf = extract::query(req.query_string())?;
    let detail = state
        .run_as(&access, move |conn, ctx| {
            let as_of = crate::service::validate::as_of(q.as_of, ctx.today)?;
            children::detail(conn, ctx, &id, as_of)
        })
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

#[utoipa::path(patch, path = "/api/v1/children/{id}", tag = "children", params(("id" = String, Path, format = Uuid)), request_body = ChildUpdate,
    responses((status = 200, body = ChildSummary), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "child")?;
    let mut input: ChildUpdate = extract::json(&body)?;
    if let Some(v) = extract::if_match(&req)? {
        input.version = v;
    }
    let child = state
        .run_as(&access, move |conn, ctx| children::update(conn, ctx, &id, input))
        .await?;
    Ok(HttpResponse::Ok().json(child))
}

#[utoipa::path(post, path = "/api/v1/children/{id}/health-checks", tag = "children", params(("id" = String, Path, format = Uuid)), request_body = NewHealthCheck,
    responses((status = 201, body = HealthCheckView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_health_check(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "child")?;
    let input: NewHealthCheck = extract::json(&body)?;
    let row = state
        .run_as(&access, move |conn, ctx| {
            children::add_health_check(conn, ctx, &id, input)
        })
        .await?;
    Ok(HttpResponse::Created().json(row))
}

#[utoipa::path(post, path = "/api/v1/children/{id}/notes", tag = "children", params(("id" = String, Path, format = Uuid)), request_body = NewNote,
    responses((status = 201, body = NoteView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn add_note(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "child")?;
    let input: NewNote = extract::json(&body)?;
    let row = state
        .run_as(&access, move |conn, ctx| children::add_note(conn, ctx, &id, input))
        .await?;
    Ok(HttpResponse::Created().json(row))
}
