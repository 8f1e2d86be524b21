use actix_web::{get, web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::AppState;
use crate::error::{AppError, AppResult, Problem};

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = Health)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/ready", tag = "operations", responses((status = 200, body = Health), (status = 503, body = Problem)))]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    state
        .run(|conn, _| conn.batch_execute("SELECT 1").map_err(|_| AppError::Unavailable))
        .await?;
    Ok(HttpResponse::Ok().json(Health { status: "ready" }))
}

#[get("/api/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(super::openapi::ApiDoc::openapi())
}
