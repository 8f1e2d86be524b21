//! Who am I, accounts and tokens (admin), a child's access history and the audit export
//! (admin and assurance).

use std::future::ready;

use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Access;
use super::extract::{self, PageQuery};
use super::AppState;
use crate::audit::{self, AccessEntry};
use crate::auth::{self, Principal, TokenView, UserView};
use crate::db::Pool;
use crate::error::{AppError, AppResult, Problem};
use crate::paging::Page;
use crate::service::audit_trail::{self, ExportRange};
use crate::service::reach::Reach;

pub fn routes(cfg: &mut web::ServiceConfig) {
    // `/users` and `/tokens` are in `accounts::routes`, with the console's writes.
    cfg.service(web::resource("/me").route(web::get().to(me)))
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
    let list = state
        .run_reaching(&access, |conn, _, reach| auth::list_users(conn, reach))
        .await?;
    Ok(HttpResponse::Ok().json(Page::slice(list, limit, offset)))
}

/// The API tokens, newest first.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", params(PageQuery),
    responses((status = 200, body = Page<TokenView>), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn tokens(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let q: PageQuery = extract::query(req.query_string())?;
    let (limit, offset) = extract::page(q.limit, q.offset, 100)?;
    let list = state
        .run_reaching(&access, |conn, _, reach| auth::list_tokens(conn, reach))
        .await?;
    Ok(HttpResponse::Ok().json(Page::slice(list, limit, offset)))
}

#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "accounts", params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke(state: web::Data<AppState>, access: Access, path: web::Path<String>) -> AppResult<HttpResponse> {
    let id = extract::id(&path, "token")?;
    state
        .run_reaching(&access, move |conn, ctx, reach| {
            auth::revoke_token(conn, &ctx.actor, &id, reach)
        })
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
            audit_trail::access_history(conn, ctx, &id, limit, offset)
        })
        .await?;
    Ok(HttpResponse::Ok().json(history))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// First day (inclusive, UTC).
    #[serde(deserialize_with = "crate::input::date")]
    pub from: NaiveDate,
    /// Last day (inclusive, UTC).
    #[serde(deserialize_with = "crate::input::date")]
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
    let (reach, range) = state
        .run_reaching(&access, move |conn, ctx, reach| {
            Ok((reach.clone(), audit_trail::start_export(conn, ctx, from, to)?))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"audit-{}-{}.csv\"", q.from, q.to),
        ))
        .streaming(csv_pages(state.pool.clone(), reach, range)))
}

/// The export's CSV a page at a time (`audit_trail::export_page`): each page is read on the
/// blocking pool with a connection that goes back to the pool before the page is sent.
/// A failure part-way ends the answer early (the status has gone), and is logged.
fn csv_pages(pool: Pool, reach: Reach, range: ExportRange) -> impl Stream<Item = AppResult<Bytes>> {
    let header = stream::once(ready(Ok(Bytes::from_static(audit::CSV_HEADER.as_bytes()))));
    let pages = stream::try_unfold(Some(range.first - 1), move |after| {
        let (pool, reach, range) = (pool.clone(), reach.clone(), range.clone());
        async move {
            let Some(after) = after else { return Ok(None) };
            let page = web::block(move || {
                let mut conn = pool.get()?;
                Ok::<_, AppError>(audit_trail::export_page(&mut conn, &reach, &range, after)?)
            })
            .await??;
            let csv: String = page.iter().map(audit::csv_line).collect();
            Ok(Some((Bytes::from(csv), audit_trail::next_after(&page))))
        }
    });
    header
        .chain(pages)
        .inspect_err(|e| tracing::error!(error = %e, "the audit export stopped part-way"))
}
