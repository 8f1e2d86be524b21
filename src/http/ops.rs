use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::error::{AppError, AppResult, Problem};

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// The public routes: each answers GET, and any other method 405 naming it.
pub fn routes(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [
        ("/health", web::get().to(health)),
        ("/ready", web::get().to(ready)),
        ("/api/openapi.json", web::get().to(openapi_json)),
    ] {
        cfg.service(web::resource(path).route(handler).default_service(web::to(get_only)));
    }
}

async fn get_only() -> AppResult<HttpResponse> {
    Err(AppError::MethodNotAllowed("GET".into()))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Health)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/ready", tag = "operations", responses((status = 200, body = Health), (status = 503, body = Problem)))]
pub async fn ready(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state
        .run(|conn, _| conn.batch_execute("SELECT 1").map_err(|_| AppError::Unavailable))
        .await?;
    Ok(HttpResponse::Ok().json(Health { status: "ready" }))
}

pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(super::openapi::document())
}
