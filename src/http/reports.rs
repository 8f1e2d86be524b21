//! `/reports/kpi`: the monthly figures, their CSV and XLSX, each figure's children, and the
//! published months with their restatements.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Access;
use super::extract;
use super::AppState;
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::kpi::{Measure, Month};
use crate::service::kpi_publication::{self, Publication, PublicationList, RestatementView};
use crate::service::kpi_report::{self, DrillDown, KpiReport};
use crate::service::kpi_workbook;

/// The XLSX media type.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// At most three years of months in one report (a financial year is 12).
pub const MAX_MONTHS: usize = 36;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/reports/kpi").route(web::get().to(kpi)))
        .service(web::resource("/reports/kpi.csv").route(web::get().to(kpi_csv)))
        .service(web::resource("/reports/kpi.xlsx").route(web::get().to(kpi_xlsx)))
        .service(web::resource("/reports/kpi/publications").route(web::get().to(publications)))
        // Before `{measure}/{month}`, which would otherwise answer this path's POST with 405.
        .service(web::resource("/reports/kpi/{month}/publication").route(web::post().to(publish)))
        .service(web::resource("/reports/kpi/{measure}/{month}").route(web::get().to(drill_down)))
        .service(web::resource("/reports/kpi/{measure}/{month}/restatement").route(web::get().to(restatement)));
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

/// The months and authorities of a report's query, or every problem with them.
fn report_query(req: &HttpRequest) -> AppResult<(Month, Month, Vec<String>)> {
    let q: KpiQuery = extract::query(req.query_string())?;
    let mut errors = Vec::new();
    let range = months(&q, &mut errors);
    let las = local_authorities(q.la.as_deref(), &mut errors);
    match range {
        Some((from, to)) if errors.is_empty() => Ok((from, to, las)),
        _ => Err(AppError::Invalid(errors)),
    }
}

/// A month in a path and `?la=`, or every problem with them.
fn month_query(month: &str, req: &HttpRequest) -> AppResult<(Month, Vec<String>)> {
    let q: LaQuery = extract::query(req.query_string())?;
    let mut errors = Vec::new();
    let month = Month::parse(month)
        .map_err(|e| errors.push(FieldError::new("month", e.to_string())))
        .ok();
    let las = local_authorities(q.la.as_deref(), &mut errors);
    match month {
        Some(month) if errors.is_empty() => Ok((month, las)),
        _ => Err(AppError::Invalid(errors)),
    }
}

async fn report(state: &AppState, access: &Access, req: &HttpRequest) -> AppResult<KpiReport> {
    let (from, to, las) = report_query(req)?;
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
    let (measure, month, las) = measure_month(path, &req)?;
    let list = state
        .run_as(&access, move |conn, ctx| {
            kpi_report::drill_down(conn, ctx, measure, month, &las)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A figure's measure (404 when unknown) and month from its path, and the authorities
/// asked for.
fn measure_month(path: web::Path<(String, String)>, req: &HttpRequest) -> AppResult<(Measure, Month, Vec<String>)> {
    let (measure, month) = path.into_inner();
    let measure: Measure = measure.parse().map_err(|_| AppError::NotFound("measure"))?;
    let (month, las) = month_query(&month, req)?;
    Ok((measure, month, las))
}

#[utoipa::path(get, path = "/api/v1/reports/kpi.xlsx", tag = "reports", params(KpiQuery),
    responses(
        (status = 200, description = "Sheet Measures: each measure by month against the target; sheet Children: the children behind each figure (local ids only)",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = String),
        (status = 422, body = Problem)))]
pub async fn kpi_xlsx(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let (from, to, las) = report_query(&req)?;
    let (report, lists) = state
        .run_as(&access, move |conn, ctx| {
            kpi_report::report_with_lists(conn, ctx, from, to, &las)
        })
        .await?;
    let bytes = kpi_workbook::workbook(&report, &lists).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type(XLSX)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"kpi-{from}-to-{to}.xlsx\""),
        ))
        .body(bytes))
}

#[utoipa::path(get, path = "/api/v1/reports/kpi/publications", tag = "reports",
    responses((status = 200, body = PublicationList)))]
pub async fn publications(state: web::Data<AppState>, access: Access) -> AppResult<HttpResponse> {
    let list = state.run_as(&access, kpi_publication::list).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Freezes the month's figures for the caller's scope (narrowed by `la`) as published.
#[utoipa::path(post, path = "/api/v1/reports/kpi/{month}/publication", tag = "reports",
    params(("month" = String, Path, description = "YYYY-MM, a month that has ended"), LaQuery),
    responses(
        (status = 201, body = Publication),
        (status = 409, description = "The month is already published for this scope", body = Problem),
        (status = 422, description = "Not a month, a month not yet over, or authorities outside your scope", body = Problem)))]
pub async fn publish(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<String>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let (month, las) = month_query(&path.into_inner(), &req)?;
    let publication = state
        .run_as(&access, move |conn, ctx| {
            kpi_publication::publish(conn, ctx, month, &las)
        })
        .await?;
    Ok(HttpResponse::Created().json(publication))
}

#[utoipa::path(get, path = "/api/v1/reports/kpi/{measure}/{month}/restatement", tag = "reports",
    params(
        ("measure" = String, Path, description = "iha_within_20_working_days, rha_on_time, dental_check, sdq_score, immunisations_up_to_date or leaving_care_summary"),
        ("month" = String, Path, description = "YYYY-MM"),
        LaQuery,
    ),
    responses(
        (status = 200, body = RestatementView),
        (status = 404, description = "No such measure, or the month is not published for this scope", body = Problem),
        (status = 422, body = Problem)))]
pub async fn restatement(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let (measure, month, las) = measure_month(path, &req)?;
    let view = state
        .run_as(&access, move |conn, ctx| {
            kpi_publication::restatement(conn, ctx, measure, month, &las)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
