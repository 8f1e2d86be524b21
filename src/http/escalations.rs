//! Escalations (health roles and assurance): one child's, or the open ones of every child
//! in the caller's scope by level and rule; and the outbox's dead letters (admin).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Access;
use super::extract;
use super::AppState;
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::escalation::Ladder;
use crate::paging::Page;
use crate::service::escalations::{self, EscalationView, OpenFilter};
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
    /// The child whose escalations to list, open and resolved. Without it: the open
    /// escalations of every child in the caller's scope, highest level first.
    #[param(format = Uuid)]
    pub child_id: Option<String>,
    /// Without `child_id`: local authority codes, comma-separated (default: every one in scope).
    pub la: Option<String>,
    /// Without `child_id`: rule ids, comma-separated (default: every rule).
    pub rule: Option<String>,
    /// Items per page, 1-1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// A child's escalations (one child's list is short, so it is paged in memory), or the
/// open escalations in the caller's scope, with each recipient's delivery status.
#[utoipa::path(get, path = "/api/v1/escalations", operation_id = "list_escalations", tag = "escalations", params(EscalationQuery),
    responses((status = 200, body = Page<EscalationView>), (status = 403, body = Problem),
        (status = 404, body = Problem, description = "child_id names no child you can see"), (status = 422, body = Problem)))]
pub async fn list(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let q: EscalationQuery = extract::query(req.query_string())?;
    let (limit, offset) = extract::page(q.limit, q.offset, 100)?;
    let Some(child_id) = q.child_id else {
        let filter = open_filter(&state.ladder, q.la.as_deref(), q.rule.as_deref())?;
        let page = state
            .run_as(&access, move |conn, ctx| {
                escalations::list_open(conn, ctx, &filter, limit, offset)
            })
            .await?;
        return Ok(HttpResponse::Ok().json(page));
    };
    if q.la.is_some() || q.rule.is_some() {
        return Err(AppError::invalid(
            "child_id",
            "la and rule filter the list without child_id",
        ));
    }
    let child_id = extract::id(&child_id, "child")?;
    let list = state
        .run_as(&access, move |conn, ctx| {
            escalations::list_for_child(conn, ctx, &child_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::slice(list, limit, offset)))
}

/// The filters of the scoped list: `la` codes as elsewhere, `rule` ids of the ladder.
pub fn open_filter(ladder: &Ladder, la: Option<&str>, rule: Option<&str>) -> AppResult<OpenFilter> {
    let mut errors = Vec::new();
    let la = super::reports::local_authorities(la, &mut errors);
    let rule: Vec<String> = rule
        .map(|r| r.split(',').map(|c| c.trim().to_string()).collect())
        .unwrap_or_default();
    if let Some(bad) = rule.iter().find(|r| ladder.rule(r).is_none()) {
        let known: Vec<&str> = ladder.rules.iter().map(|r| r.id.as_str()).collect();
        errors.push(FieldError::new(
            "rule",
            format!("no rule {bad:?}; the rules are {}", known.join(", ")),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(OpenFilter { la, rule })
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
