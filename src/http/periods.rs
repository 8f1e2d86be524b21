use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Access;
use super::extract::{self, JsonInput};
use super::AppState;
use crate::error::{AppResult, Problem};
use crate::service::periods::{
    self, LegalStatusChanged, NewLegalStatus, NewPeriod, NewPlacement, PeriodEnd, PeriodEnded, PeriodStarted,
    PlacementChanged,
};

impl JsonInput for NewPeriod {}
impl JsonInput for NewPlacement {}
impl JsonInput for PeriodEnd {}
impl JsonInput for NewLegalStatus {}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/children/{id}/periods").route(web::post().to(start)))
        .service(web::resource("/periods/{id}/placements").route(web::post().to(change_placement)))
        .service(web::resource("/periods/{id}/end").route(web::post().to(end)))
        .service(web::resource("/periods/{id}/legal-status").route(web::post().to(change_legal_status)));
}

#[utoipa::path(post, path = "/api/v1/children/{id}/periods", tag = "periods", params(("id" = String, Path, format = Uuid)), request_body = NewPeriod,
    responses((status = 201, body = PeriodStarted), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Another period was opened at the same moment"), (status = 422, body = Problem)))]
pub async fn start(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "child")?;
    let input: NewPeriod = extract::json(&body)?;
    let started = state
        .run_as(&access, move |conn, ctx| periods::start(conn, ctx, &id, input))
        .await?;
    Ok(HttpResponse::Created().json(started))
}

#[utoipa::path(post, path = "/api/v1/periods/{id}/placements", tag = "periods", params(("id" = String, Path, format = Uuid)), request_body = NewPlacement,
    responses((status = 201, body = PlacementChanged), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn change_placement(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "period")?;
    let mut input: NewPlacement = extract::json(&body)?;
    if let Some(v) = extract::if_match(&req)? {
        input.version = Some(v);
    }
    let changed = state
        .run_as(&access, move |conn, ctx| {
            periods::change_placement(conn, ctx, &id, input)
        })
        .await?;
    Ok(HttpResponse::Created().json(changed))
}

#[utoipa::path(post, path = "/api/v1/periods/{id}/end", tag = "periods", params(("id" = String, Path, format = Uuid)), request_body = PeriodEnd,
    responses((status = 200, body = PeriodEnded), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn end(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "period")?;
    let mut input: PeriodEnd = extract::json(&body)?;
    if let Some(v) = extract::if_match(&req)? {
        input.version = Some(v);
    }
    let ended = state
        .run_as(&access, move |conn, ctx| periods::end(conn, ctx, &id, input))
        .await?;
    Ok(HttpResponse::Ok().json(ended))
}

#[utoipa::path(post, path = "/api/v1/periods/{id}/legal-status", tag = "periods", params(("id" = String, Path, format = Uuid)), request_body = NewLegalStatus,
    responses((status = 201, body = LegalStatusChanged), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The period ended, or changed since it was read"), (status = 422, body = Problem)))]
pub async fn change_legal_status(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "period")?;
    let mut input: NewLegalStatus = extract::json(&body)?;
    if let Some(v) = extract::if_match(&req)? {
        input.version = Some(v);
    }
    let changed = state
        .run_as(&access, move |conn, ctx| {
            periods::change_legal_status(conn, ctx, &id, input)
        })
        .await?;
    Ok(HttpResponse::Created().json(changed))
}
