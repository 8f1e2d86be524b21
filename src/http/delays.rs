//! `GET /reports/delays`: the delay analysis of late IHAs (see `kpi::delays` for its rules
//! and `service::kpi_delays` for the reading). The months and local authorities are asked
//! for, and refused, exactly as for `GET /reports/kpi`.

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::Access;
use super::extract;
use super::reports::{local_authorities, months, KpiQuery};
use super::AppState;
use crate::error::{AppError, AppResult, Problem};
use crate::service::kpi_delays::{self, DelayReport};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/reports/delays").route(web::get().to(delays)));
}

#[utoipa::path(get, path = "/api/v1/reports/delays", tag = "reports", params(KpiQuery),
    description = "The IHAs that were late, of the periods of care that started in the months: \
        working days late (1-5, 6-10, 11-20, 21+), reasons and whose step, each split in area and \
        out of area, and every late IHA.",
    responses((status = 200, body = DelayReport), (status = 422, body = Problem)))]
pub async fn delays(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let q: KpiQuery = extract::query(req.query_string())?;
    let mut errors = Vec::new();
    let range = months(&q, &mut errors);
    let las = local_authorities(q.la.as_deref(), &mut errors);
    let (from, to) = match range {
        Some(r) if errors.is_empty() => r,
        _ => return Err(AppError::Invalid(errors)),
    };
    let report = state
        .run_as(&access, move |conn, ctx| kpi_delays::report(conn, ctx, from, to, &las))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
