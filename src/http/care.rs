//! Care leavers and adoption (`service::care`): a leaving-care summary or adoption medical
//! report recorded as given, and an admin opening a sealed pre-adoption record.

use actix_web::{web, HttpResponse};

use super::auth::Access;
use super::extract::{self, JsonInput};
use super::AppState;
use crate::error::{AppResult, Problem};
use crate::service::care::{self, HealthObligationView, ObligationCompletion, SealedRecordOpening};
use crate::service::views::ChildDetail;

impl JsonInput for ObligationCompletion {}
impl JsonInput for SealedRecordOpening {}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/obligations/{id}/completion").route(web::post().to(complete)))
        .service(web::resource("/children/{id}/sealed-record").route(web::post().to(open_sealed)));
}

#[utoipa::path(post, path = "/api/v1/obligations/{id}/completion", tag = "children", params(("id" = String, Path, format = Uuid)),
    request_body = ObligationCompletion,
    responses((status = 200, body = HealthObligationView), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Already recorded as given"), (status = 422, body = Problem)))]
pub async fn complete(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "obligation")?;
    let input: ObligationCompletion = extract::json(&body)?;
    let done = state
        .run_as(&access, move |conn, ctx| care::complete(conn, ctx, &id, input))
        .await?;
    Ok(HttpResponse::Ok().json(done))
}

/// A POST, not a GET: opening a sealed record is an act with a reason, on the audit trail,
/// and the reason does not belong in a URL.
#[utoipa::path(post, path = "/api/v1/children/{id}/sealed-record", tag = "children", params(("id" = String, Path, format = Uuid)),
    request_body = SealedRecordOpening,
    responses((status = 200, body = ChildDetail, description = "The sealed record as it stood when sealed"),
        (status = 404, body = Problem, description = "No such child in scope, or its record is not sealed"),
        (status = 422, body = Problem)))]
pub async fn open_sealed(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    body: extract::Body,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "child")?;
    let input: SealedRecordOpening = extract::json(&body)?;
    let detail = state
        .run_as(&access, move |conn, ctx| care::open_sealed(conn, ctx, &id, input))
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}
