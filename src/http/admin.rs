//! Who am I, accounts and tokens (admin), a child's access history and the audit export
//! (admin and assurance).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Access;
use super::extract::{self, PageQuery};
use super::AppState;
use crate::audit::{self, AccessEntry, AuditEvent};
use crate::auth::{self, Principal, TokenView, UserView};
use crate::db::write_transaction;
use crate::error::{AppError, AppResult, Problem};
use crate::paging::Page;

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

/// The accounts, by email. A deployment's staff fit in memory, so the page is cut there.
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", params(PageQuery),
    responses((status = 200, body = Page<UserView>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn users(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let q: PageQuery = extract::query(req.query_string())?;
    let (limit, offset) = extract::page(q.limit, q.offset, 100)?;
    let list = state.run_as(&access, |conn, _| auth::list_users(conn)).await?;
    Ok(HttpResponse::Ok().json(Page::slice(list, limit, offset)))
}

/// The API tokens, newest first.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", params(PageQuery),
    responses((status = 200, body = Page<TokenView>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn tokens(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let q: PageQuery = extract::query(req.query_string())?;
    let (limit, offset) = extract::page(q.limit, q.offset, 100)?;
    let list = state.run_as(&access, |conn, _| auth::list_tokens(conn)).await?;
    Ok(HttpResponse::Ok().json(Page::slice(list, limit, offset)))
}

#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "accounts", params(("id" = String, Path, format = Uuid)),
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
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Entries per page, 1-1000 (default 200).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Entries to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Who looked at or changed the child's record, newest first.
#[utoipa::path(get, path = "/api/v1/children/{id}/access-history", tag = "audit", params(("id" = String, Path, format = Uuid), HistoryQuery),
    responses((status = 200, body = Page<AccessEntry>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn access_history(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "child")?;
    let q: HistoryQuery = extract::query(req.query_string())?;
    let (limit, offset) = extract::page(q.limit, q.offset, 200)?;
    let history = state
        .run_as(&access, move |conn, ctx| {
            write_transaction(conn, |conn| {
                crate::service::children::load_visible(conn, ctx, &id)?;
                // Reading who looked is itself a look at the child's record.
                ctx.audit(
                    conn,
                    AuditEvent::ok("read_access_history", "child", Some(&id), Some(&id)),
                )?;
                Ok(audit::access_history(conn, &id, limit, offset)?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(history))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// First day (inclusive, UTC).
    pub from: NaiveDate,
    /// Last day (inclusive, UTC).
    pub to: NaiveDate,
}

#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(ExportQuery),
    responses((status = 200, description = "The entries as CSV (RFC 4180), oldest first", content_type = "text/csv", body = String),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
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
