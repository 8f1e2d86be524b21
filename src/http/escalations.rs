//! Escalations of a child (health roles and assurance) and the outbox's dead letters (admin).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Access;
use super::extract;
use super::AppState;
use crate::error::{AppError, AppResult, Problem};
use crate::paging::Page;
use crate::service::escalations::{self, EscalationView};
use crate::service::outbox::{self, OutboxQuery, OutboxView};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/escalations").route(web::get().to(list)))
        .service(web::resource("/outbox").route(web::get().to(outbox_list)))
        .service(web::resource("/outbox/{id}/requeue").route(web::post().to(requeue)));
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EscalationQuery {
    /// The child whose escalations to list (required: 422 without it).
    #[param(required = true, format = Uuid)]
    pub child_id: Option<String>,
    /// Items per page, 1-1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// A child's escalations. One child's list is short, so it is paged in memory.
#[utoipa::path(get, path = "/api/v1/escalations", operation_id = "list_escalations", tag = "escalations", params(EscalationQuery),
    responses((status = 200, body = Page<EscalationView>), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "child_id names no child you can see"), (status = 422, body = Problem)))]
pub async fn list(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let q: EscalationQuery = extract::query(req.query_string())?;
    let (limit, offset) = extract::page(q.limit, q.offset, 100)?;
    let child_id = q.child_id.ok_or_else(|| AppError::invalid("child_id", "is required"))?;
    let child_id = extract::id(&child_id, "child")?;
    let list = state
        .run_as(&access, move |conn, ctx| {
            escalations::list_for_child(conn, ctx, &child_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::slice(list, limit, offset)))
}

/// Outgoing mail, newest first.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "escalations", params(OutboxQuery),
    responses((status = 200, body = Page<OutboxView>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn outbox_list(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let q: OutboxQuery = extract::query(req.query_string())?;
    let list = state
        .run_reaching(&access, move |conn, _, reach| outbox::list(conn, &q, reach))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(post, path = "/api/v1/outbox/{id}/requeue", tag = "escalations", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = OutboxView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
pub async fn requeue(state: web::Data<AppState>, access: Access, path: web::Path<String>) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "message")?;
    let view = state
        .run_reaching(&access, move |conn, ctx, reach| {
            outbox::requeue(conn, &ctx.actor, &id, reach)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
