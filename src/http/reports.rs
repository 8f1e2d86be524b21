//! `/reports/kpi`: the monthly figures, their CSV and each figure's children.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Access;
use super::extract;
use super::AppState;
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::kpi::{Measure, Month};
use crate::service::kpi_report::{self, DrillDown, KpiReport};

/// At most three years of months in one report (a financial year is 12).
pub const MAX_MONTHS: usize = 36;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/reports/kpi").route(web::get().to(kpi)))
        .service(web::resource("/reports/kpi.csv").route(web::get().to(kpi_csv)))
        .service(web::resource("/reports/kpi/{measure}/{month}").route(web::get().to(drill_down)));
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KpiQuery {
    /// First month, YYYY-MM.
    #[param(pattern = r"^\d{4}-\d{2}$", example = "2025-04")]
    pub from: String,
    /// Last month, YYYY-MM, at most 36 months after `from`.
    #[param(pattern = r"^\d{4}-\d{2}$", example = "2026-03")]
    pub to: String,
    /// Local authority codes, comma-separated (default: every authority in the caller's scope).
    pub la: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LaQuery {
    /// Local authority codes, comma-separated (default: every authority in the caller's scope).
    pub la: Option<String>,
}

/// The codes of `la=CODE[,CODE]`: letters and digits, at most 20 of them.
pub fn local_authorities(la: Option<&str>, errors: &mut Vec<FieldError>) -> Vec<String> {
    let Some(list) = la else { return vec![] };
    let codes: Vec<String> = list.split(',').map(|c| c.trim().to_string()).collect();
    let valid = |c: &String| !c.is_empty() && c.len() <= 12 && c.chars().all(|ch| ch.is_ascii_alphanumeric());
    if codes.len() > 20 || !codes.iter().all(valid) {
        errors.push(FieldError::new(
            "la",
            "must be local authority codes separated by commas, for example 933,E10000027",
        ));
    }
    codes
}

pub(crate) fn months(q: &KpiQuery, errors: &mut Vec<FieldError>) -> Option<(Month, Month)> {
    let mut parse = |field: &str, text: &str| {
        Month::parse(text)
            .map_err(|e| errors.push(FieldError::new(field, e.to_string())))
            .ok()
    };
    let (from, to) = (parse("from", &q.from), parse("to", &q.to));
    let (from, to) = (from?, to?);
    if to < from {
        errors.push(FieldError::new("to", "must not be before from"));
    } else if Month::range(from, to).len() > MAX_MONTHS {
        errors.push(FieldError::new(
            "to",
            format!("must be at most {MAX_MONTHS} months after from"),
        ));
    }
    Some((from, to))
}

async fn report(state: &AppState, access: &Access, req: &HttpRequest) -> AppResult<KpiReport> {
    let q: KpiQuery = extract::query(req.query_string())?;
    let mut errors = Vec::new();
    let range = months(&q, &mut errors);
    let las = local_authorities(q.la.as_deref(), &mut errors);
    let (from, to) = match range {
        Some(r) if errors.is_empty() => r,
        _ => return Err(AppError::Invalid(errors)),
    };
    state
        .run_as(access, move |conn, ctx| kpi_report::report(conn, ctx, from, to, &las))
        .await
}

#[utoipa::path(get, path = "/api/v1/reports/kpi", tag = "reports", params(KpiQuery),
    responses((status = 200, body = KpiReport), (status = 422, body = Problem)))]
pub async fn kpi(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(report(&state, &access, &req).await?))
}

#[utoipa::path(get, path = "/api/v1/reports/kpi.csv", tag = "reports", params(KpiQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 422, body = Problem)))]
pub async fn kpi_csv(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let report = report(&state, &access, &req).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"kpi-{}-to-{}.csv\"", report.from, report.to),
        ))
        .body(kpi_report::report_csv(&report)))
}

#[utoipa::path(get, path = "/api/v1/reports/kpi/{measure}/{month}", tag = "reports",
    params(
        ("measure" = String, Path, description = "iha_within_20_working_days, rha_on_time, dental_check, sdq_score, immunisations_up_to_date or leaving_care_summary"),
        ("month" = String, Path, description = "YYYY-MM"),
        LaQuery,
    ),
    responses((status = 200, body = DrillDown), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn drill_down(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let (measure, month) = path.into_inner();
    let measure: Measure = measure.parse().map_err(|_| AppError::NotFound("measure"))?;
    let q: LaQuery = extract::query(req.query_string())?;
    let mut errors = Vec::new();
    let month = Month::parse(&month)
        .map_err(|e| errors.push(FieldError::new("month", e.to_string())))
        .ok();
    let las = local_authorities(q.la.as_deref(), &mut errors);
    let Some(month) = month.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let list = state
        .run_as(&access, move |conn, ctx| {
            kpi_report::drill_down(conn, ctx, measure, month, &las)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}
