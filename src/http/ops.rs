use std::sync::atomic::Ordering::Relaxed;

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

/// The operations routes (all public but `/metrics`, which `auth::authorize` checks): each answers GET, and any other method 405 naming it.
pub fn routes(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [
        ("/health", web::get().to(health)),
        ("/ready", web::get().to(ready)),
        ("/api/openapi.json", web::get().to(openapi_json)),
        ("/metrics", web::get().to(metrics)),
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

/// Operational metrics in the Prometheus text format (`crate::metrics` lists them).
/// Admins, or the bearer token configured as `metrics_token`.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
        (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn metrics(state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let outbox = state
        .run(|conn, _| Ok(crate::service::outbox::count_by_status(conn)?))
        .await?;
    let pool = state.pool.state();
    let audit = state.audit.stats();
    let snapshot = crate::metrics::Snapshot {
        pool_size: state.pool.max_size(),
        pool_connections: pool.connections,
        pool_idle: pool.idle_connections,
        outbox,
        audit_queue: audit.queued.load(Relaxed),
        audit_appended: audit.appended.load(Relaxed),
        audit_batches: audit.batches.load(Relaxed),
        audit_failed_batches: audit.failed_batches.load(Relaxed),
        audit_busy_seconds: audit.busy_micros.load(Relaxed) as f64 / 1e6,
    };
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&snapshot)))
}
