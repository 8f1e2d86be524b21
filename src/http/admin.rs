//! Who am I, accounts and tokens (admin), a child's access history and the audit export
//! (admin and assurance).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Access;
use super::extract;
use super::AppState;
use crate::audit::{self, AccessEntry, AuditEvent};
use crate::auth::{self, Principal, TokenView, UserView};
use crate::db::write_transaction;
use crate::error::{AppError, AppResult, Problem};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/me").route(web::get().to(me)))
        .service(web::resource("/users").route(web::get().to(users)))
        .service(web::resource("/tokens").route(web::get().to(tokens)))
        .service(web::resource("/tokens/{id}/revoke").route(web::post().to(revoke)))
        .service(web::resource("/children/{id}/access-history").route(web::get().to(access_history)))
        .service(web::resource("/audit/export").route(web::get().to(export)));
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = Principal), (status = 401, body = Problem)))]
pub async fn me(access: Access) -> HttpResponse {
    HttpResponse::Ok().json(&access.principal)
}

#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", responses((status = 200, body = Vec<UserView>), (status = 403, body = Problem)))]
pub async fn users(state: web::Data<AppState>, access: Access) -> AppResult<HttpResponse> {
    let list = state.run_as(&access, |conn, _| auth::list_users(conn)).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", responses((status = 200, body = Vec<TokenView>), (status = 403, body = Problem)))]
pub async fn tokens(state: web::Data<AppState>, access: Access) -> AppResult<HttpResponse> {
    let list = state.run_as(&access, |conn, _| auth::list_tokens(conn)).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "accounts", params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke(state: web::Data<AppState>, access: Access, path: web::Path<String>) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "token")?;
    state
        .run_as(&access, move |conn, ctx| auth::revoke_token(conn, &ctx.actor, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Most recent entries to return (default 200, at most 5000).
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/children/{id}/access-history", tag = "audit", params(("id" = String, Path), HistoryQuery),
    responses((status = 200, body = Vec<AccessEntry>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn access_history(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "child")?;
    let q: HistoryQuery = extract::query(req.query_string())?;
    let limit = q.limit.unwrap_or(200);
    if !(1..=5000).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 5000"));
    }
    let history = state
        .run_as(&access, move |conn, ctx| {
            write_transaction(conn, |conn| {
                crate::service::children::load_visible(conn, ctx, &id)?;
                // Reading who looked is itself a look at the child's record.
                ctx.audit(
                    conn,
                    AuditEvent::ok("read_access_history", "child", Some(&id), Some(&id)),
                )?;
                Ok(audit::access_history(conn, &id, limit)?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(history))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// First day (inclusive, UTC).
    #[serde(deserialize_with = "crate::input::date")]
    pub from: NaiveDate,
    /// Last day (inclusive, UTC).
    #[serde(deserialize_with = "crate::input::date")]
    pub to: NaiveDate,
}

#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(ExportQuery),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn export(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let q: ExportQuery = extract::query(req.query_string())?;
    if q.to < q.from {
        return Err(AppError::invalid("to", "must not be before from"));
    }
    if (q.to - q.from).num_days() > 366 {
        return Err(AppError::invalid("to", "export at most a year at a time"));
    }
    let (from, to) = (
        q.from.and_hms_opt(0, 0, 0).unwrap_or_default(),
        (q.to + chrono::Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default(),
    );
    let csv = state
        .run_as(&access, move |conn, ctx| {
            write_transaction(conn, |conn| {
                ctx.audit(conn, AuditEvent::ok("export", "audit_log", None, None))?;
                let mut out = Vec::new();
                audit::export_csv(conn, from, to, &mut out)?;
                Ok(out)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"audit-{}-{}.csv\"", q.from, q.to),
        ))
        .body(csv))
}
