//! `/reports`: the monthly KPI tables the board reads (one table per measure, months as
//! columns, as in the annual report's Tables 4-7), each figure a link to
//! `/reports/{measure}/{month}`, the children behind it with each miss's reason.
//!
//! Rules:
//! - The figures are the API's (`service::kpi_report`): the same scope, narrowing by local
//!   authority and audit entry.
//! - The months default to the financial year so far (April to this month); a URL that
//!   cannot be read is a 400 page, like the meeting's list.
//! - A provisional figure says so in words, not only by a mark.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Datelike;

use super::layout::Layout;
use super::query_value;
use crate::error::{AppError, AppResult, FieldError};
use crate::http::auth::Access;
use crate::http::AppState;
use crate::kpi::{Measure, Month};
use crate::service::kpi_report::{self, DrillChild, DrillDown, KpiReport};

#[derive(Template, WebTemplate)]
#[template(path = "reports.html")]
pub struct ReportsPage {
    pub layout: Layout,
    pub report: KpiReport,
    /// `?la=...` to carry into the links ("" for none).
    pub la_query: String,
    pub csv: String,
    /// Publishing (`super::publications`): the form for users who may publish, its errors
    /// and the banner after a month is published.
    pub publishing: super::publications::Publishing,
}

impl ReportsPage {
    pub fn month_title(&self, month: &str) -> String {
        Month::parse(month)
            .map(|m| m.first_day().format("%b %Y").to_string())
            .unwrap_or_default()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "report_children.html")]
pub struct DrillPage {
    pub layout: Layout,
    pub list: DrillDown,
    pub month_title: String,
    pub back: String,
}

/// A reason code in the meeting's words.
pub fn reason(code: &Option<String>) -> &'static str {
    match code.as_deref() {
        None => "",
        Some("late_notification") => "Late notification",
        Some("late_consent") => "Late consent",
        Some("not_brought") => "Not brought",
        Some("did_not_attend") => "Did not attend",
        Some("cancelled_by_carer_or_la") => "Cancelled by carer or local authority",
        Some("cancelled_by_provider") => "Cancelled by provider",
        Some("no_appointment") => "No appointment in time",
        Some("no_clinician") => "No clinician",
        Some("host_provider") => "Waiting on host provider",
        Some("report_late") => "Report late",
        Some("refused") => "Refused",
        Some("no_dental_check") => "No dental check",
        Some("no_sdq_score") => "No SDQ score",
        Some("no_immunisation_record") => "No immunisation record",
        Some("immunisations_not_up_to_date") => "Immunisations not up to date",
        Some("no_leaving_care_summary") => "No leaving-care summary",
        Some(_) => "Not recorded",
    }
}

/// Whose step it was, in words.
pub fn side(code: &Option<String>) -> &'static str {
    match code.as_deref() {
        Some("local_authority") => "Local authority",
        Some("health") => "Health",
        Some("host_provider") => "Host provider",
        Some("none") => "Neither",
        _ => "",
    }
}

pub fn outcome(c: &DrillChild) -> &'static str {
    match c.outcome.as_str() {
        "met" => "Met",
        "pending" => "Not yet known",
        _ => "Missed",
    }
}

/// The financial year so far: April (of this year, or last year before April) to now.
pub(crate) fn default_months(today: chrono::NaiveDate) -> (Month, Month) {
    let year = if today.month() >= 4 {
        today.year()
    } else {
        today.year() - 1
    };
    let from = Month::new(year, 4).unwrap_or_else(|| Month::containing(today));
    (from, Month::containing(today))
}

pub(crate) fn read_month(req: &HttpRequest, name: &str, default: Month, errors: &mut Vec<FieldError>) -> Month {
    match query_value(req, name).as_str() {
        "" => default,
        text => Month::parse(text).unwrap_or_else(|e| {
            errors.push(FieldError::new(name, e.to_string()));
            default
        }),
    }
}

pub(crate) fn la_of(req: &HttpRequest, errors: &mut Vec<FieldError>) -> (Vec<String>, String) {
    let la = query_value(req, "la");
    if la.is_empty() {
        return (vec![], String::new());
    }
    let codes = crate::http::reports::local_authorities(Some(&la), errors);
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("la", &la)
        .finish();
    (codes, query)
}

/// A figure's measure and month from its path (404 for either unknown), and the
/// authorities asked for with their query (400 for an unknown code).
pub(crate) fn figure_of(
    path: web::Path<(String, String)>,
    req: &HttpRequest,
) -> AppResult<(Measure, Month, Vec<String>, String)> {
    let (measure, month) = path.into_inner();
    let measure: Measure = measure.parse().map_err(|_| AppError::NotFound("report"))?;
    let month = Month::parse(&month).map_err(|_| AppError::NotFound("report"))?;
    let mut errors = Vec::new();
    let (las, la_query) = la_of(req, &mut errors);
    refuse(errors)?;
    Ok((measure, month, las, la_query))
}

pub(crate) fn refuse(errors: Vec<FieldError>) -> AppResult<()> {
    match errors.first() {
        Some(e) => Err(AppError::BadRequest {
            detail: format!("{}: {}", e.field, e.message),
            errors,
        }),
        None => Ok(()),
    }
}

pub async fn page(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    render(
        state,
        access,
        req,
        super::publications::Publishing::default(),
        StatusCode::OK,
    )
    .await
}

/// The page, with the publish form as `publishing` says (its errors after a refused post).
pub async fn render(
    state: web::Data<AppState>,
    access: Access,
    req: HttpRequest,
    publishing: super::publications::Publishing,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let mut errors = Vec::new();
    let (default_from, default_to) = default_months(state.today());
    let from = read_month(&req, "from", default_from, &mut errors);
    let to = read_month(&req, "to", default_to, &mut errors);
    if to < from || Month::range(from, to).len() > crate::http::reports::MAX_MONTHS {
        errors.push(FieldError::new("to", "must be from 1 to 36 months after from"));
    }
    let (las, la_query) = la_of(&req, &mut errors);
    refuse(errors)?;
    let report = state
        .run_as(&access, move |conn, ctx| kpi_report::report(conn, ctx, from, to, &las))
        .await?;
    let sep = if la_query.is_empty() { "" } else { "&" };
    let publishing = publishing.for_page(&access.principal, &req, &report, &la_query, state.today());
    let page = ReportsPage {
        layout: Layout::signed_in(
            super::forms::title("Monthly performance", &publishing.errors),
            &access.principal,
            req.path(),
        ),
        csv: format!("/api/v1/reports/kpi.csv?from={from}&to={to}{sep}{la_query}"),
        report,
        la_query,
        publishing,
    };
    Ok(super::respond(&req, status, page))
}

pub async fn children(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let (measure, month, las, la_query) = figure_of(path, &req)?;
    let list = state
        .run_as(&access, move |conn, ctx| {
            kpi_report::drill_down(conn, ctx, measure, month, &las)
        })
        .await?;
    let fy = default_months(month.last_day());
    let sep = if la_query.is_empty() { "" } else { "&" };
    let page = DrillPage {
        layout: Layout::signed_in(
            format!("{}, {}", measure.title(), month.title()),
            &access.principal,
            req.path(),
        ),
        month_title: month.title(),
        back: format!("/reports?from={}&to={}{sep}{la_query}", fy.0, fy.1.max(month)),
        list,
    };
    Ok(super::respond(&req, StatusCode::OK, page))
}
