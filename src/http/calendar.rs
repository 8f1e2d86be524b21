use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Access;
use super::extract;
use super::AppState;
use crate::error::{AppError, AppResult, Problem};
use crate::paging::Page;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/calendar/holidays")
            .route(web::get().to(holidays))
            .route(web::post().to(import)),
    )
    .service(web::resource("/calendar/preview").route(web::post().to(preview)))
    .service(web::resource("/calendar/add-working-days").route(web::get().to(add_working_days)));
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Range {
    /// First day (inclusive).
    #[serde(deserialize_with = "crate::input::date")]
    pub from: NaiveDate,
    /// Last day (inclusive), at most 20 years after `from`.
    #[serde(deserialize_with = "crate::input::date")]
    pub to: NaiveDate,
    /// Items per page, 1-1000 (default 1000: twenty years of holidays fit one page).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayView {
    pub date: NaiveDate,
    pub title: String,
    /// published (GOV.UK data) or rules (worked out: the year is outside the data).
    pub source: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AddQuery {
    #[serde(deserialize_with = "crate::input::date")]
    pub from: NaiveDate,
    /// Working days to add (negative counts back), at most 5000 either way.
    #[param(minimum = -5000, maximum = 5000)]
    pub days: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedView {
    pub date: NaiveDate,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AddedWorkingDays {
    pub date: NaiveDate,
    pub skipped: Vec<SkippedView>,
}

/// Twenty years of holidays is more than anyone needs in one answer.
const MAX_RANGE_DAYS: i64 = 366 * 20;
const MAX_DAYS: i32 = 5000;

#[utoipa::path(get, path = "/api/v1/calendar/holidays", tag = "calendar", params(Range),
    responses((status = 200, body = Page<HolidayView>, description = "In date order"), (status = 422, body = Problem)))]
pub async fn holidays(state: web::Data<AppState>, _access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let q: Range = extract::query(req.query_string())?;
    let (limit, offset) = extract::page(q.limit, q.offset, 1000)?;
    if q.to < q.from {
        return Err(AppError::invalid("to", "must not be before from"));
    }
    if (q.to - q.from).num_days() > MAX_RANGE_DAYS {
        return Err(AppError::invalid("to", "the range may span at most 20 years"));
    }
    let list: Vec<HolidayView> = state
        .calendar()
        .holidays_between(q.from, q.to)
        .into_iter()
        .map(|h| HolidayView {
            date: h.date,
            title: h.title,
            source: match h.source {
                crate::calendar::HolidaySource::Published => "published".into(),
                crate::calendar::HolidaySource::Rules => "rules".into(),
            },
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::slice(list, limit, offset)))
}

#[utoipa::path(get, path = "/api/v1/calendar/add-working-days", tag = "calendar", params(AddQuery),
    responses((status = 200, body = AddedWorkingDays), (status = 422, body = Problem)))]
pub async fn add_working_days(
    state: web::Data<AppState>,
    _access: Access,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let q: AddQuery = extract::query(req.query_string())?;
    if q.days.abs() > MAX_DAYS {
        return Err(AppError::invalid(
            "days",
            format!("must be between -{MAX_DAYS} and {MAX_DAYS}"),
        ));
    }
    let result = state.calendar().add_working_days_explained(q.from, q.days);
    crate::warn_rule_years(&result.rule_years);
    Ok(HttpResponse::Ok().json(AddedWorkingDays {
        date: result.date,
        skipped: result
            .skipped
            .into_iter()
            .map(|s| SkippedView {
                date: s.date,
                reason: s.reason,
            })
            .collect(),
    }))
}

/// A GOV.UK `bank-holidays.json` (as published at https://www.gov.uk/bank-holidays.json):
/// only its `england-and-wales` division is read; the others are accepted and ignored.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct GovUkFile {
    #[serde(rename = "england-and-wales")]
    pub england_and_wales: GovUkDivision,
}
impl extract::JsonInput for GovUkFile {}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct GovUkDivision {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
    pub events: Vec<GovUkEvent>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct GovUkEvent {
    pub title: String,
    /// YYYY-MM-DD, a weekday.
    #[schema(format = Date)]
    pub date: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default = "yes")]
    pub bunting: bool,
}

fn yes() -> bool {
    true
}

/// The service names the page's pasted `file`; the body's part at fault is the division.
const DIVISION: &str = "england-and-wales";

/// The body as the GOV.UK text the calendar store reads (which checks each date).
fn govuk_text(body: &extract::Body) -> AppResult<String> {
    let file: GovUkFile = extract::json(body)?;
    serde_json::to_string(&file).map_err(|e| AppError::Internal(e.to_string()))
}

/// What importing the file would change (nothing is written): holidays added, removed or
/// renamed in the years it covers, and how many open IHA due dates would move, from which
/// day to which. ICB administrators only.
#[utoipa::path(post, path = "/api/v1/calendar/preview", tag = "calendar", operation_id = "preview_holidays",
    request_body = GovUkFile,
    responses((status = 200, body = crate::service::calendar_store::CalendarPreview), (status = 422, body = Problem)))]
pub async fn preview(state: web::Data<AppState>, access: Access, body: extract::Body) -> AppResult<HttpResponse> {
    let text = govuk_text(&body)?;
    let preview = state
        .run_reaching(&access, move |conn, ctx, reach| {
            crate::service::calendar_store::preview_for(conn, ctx, reach, &text)
        })
        .await
        .map_err(|e| e.field_renamed("file", DIVISION))?;
    Ok(HttpResponse::Ok().json(preview))
}

/// Imports the file: its England and Wales holidays replace those of the years it covers,
/// and every open IHA's due date is worked out again. Audited. ICB administrators only.
#[utoipa::path(post, path = "/api/v1/calendar/holidays", tag = "calendar", operation_id = "import_holidays",
    request_body = GovUkFile,
    responses((status = 200, body = crate::service::calendar_store::ImportReport), (status = 422, body = Problem)))]
pub async fn import(state: web::Data<AppState>, access: Access, body: extract::Body) -> AppResult<HttpResponse> {
    let text = govuk_text(&body)?;
    let report = state
        .run_reaching(&access, move |conn, ctx, reach| {
            crate::service::calendar_store::import_for(conn, ctx, reach, &text)
        })
        .await
        .map_err(|e| e.field_renamed("file", DIVISION))?;
    state.reload_calendar().await?;
    Ok(HttpResponse::Ok().json(report))
}
