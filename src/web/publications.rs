//! Publishing a month from `/reports`, and `/reports/{measure}/{month}/restatement`: what
//! changed in a published figure since it was published (the API's
//! `service::kpi_publication`: the same scope, refusals and audit entries).
//!
//! Rules:
//! - The "Publish a month" form is shown only to users who may publish, and offers only
//!   the months shown that have ended and are not yet published for this scope.
//! - Publishing asks for a confirmation (a published figure is never changed); without it
//!   the page is shown again with "There is a problem", the error beside the checkbox and
//!   the month still chosen. A refused publication (already published, month not over) is
//!   shown the same way. Success answers 303 to the report, which says it was published.
//! - A published figure that differs now says so in words beside the figure, and links to
//!   the restatement: each changed child by local id (linked to the record), before and
//!   after in words.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Datelike;

use super::forms::{ChoiceField, FormErrors, Posted, SelectField};
use super::layout::Layout;
use super::query_value;
use crate::auth::Principal;
use crate::error::AppResult;
use crate::http::auth::Access;
use crate::http::AppState;
use crate::kpi::Month;
use crate::service::kpi_publication::{self, RestatementView};
use crate::service::kpi_report::{KpiReport, MonthFigure};

/// The publish form's state on `/reports`.
#[derive(Debug, Default)]
pub struct Publishing {
    /// What was posted (empty on a plain GET).
    pub posted: Posted,
    pub errors: FormErrors,
    /// The form, for users who may publish.
    pub form: Option<PublishForm>,
    /// "January 2026 is published", after a successful post.
    pub banner: Option<String>,
    /// The XLSX download of the financial year of the page's first month.
    pub xlsx: String,
}

#[derive(Debug)]
pub struct PublishForm {
    /// Where the form posts: `/reports/publications` with the page's own query.
    pub action: String,
    /// None when every month shown that has ended is published already.
    pub month: Option<SelectField>,
    pub confirm: ChoiceField,
}

impl Publishing {
    /// Completes the form for the page of `report`.
    pub fn for_page(
        mut self,
        principal: &Principal,
        req: &HttpRequest,
        report: &KpiReport,
        la_query: &str,
        today: chrono::NaiveDate,
    ) -> Publishing {
        if let Ok(from) = Month::parse(&report.from) {
            let day = from.first_day();
            let start = day.year() - i32::from(day.month() < 4);
            if let (Some(april), Some(march)) = (Month::new(start, 4), Month::new(start + 1, 3)) {
                let sep = if la_query.is_empty() { "" } else { "&" };
                self.xlsx = format!("/api/v1/reports/kpi.xlsx?from={april}&to={march}{sep}{la_query}");
            }
        }
        if let Ok(month) = Month::parse(&query_value(req, "published")) {
            self.banner = Some(format!("{} is published", month.title()));
        }
        if !super::may(&principal.roles, "POST", "/reports/publications") {
            return self;
        }
        let open: Vec<(String, String)> = report
            .measures
            .first()
            .map(|m| m.months.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|f| f.published.is_none())
            .filter_map(|f| Month::parse(&f.month).ok())
            .filter(|m| crate::kpi::check_publishable(*m, today).is_ok())
            .map(|m| (m.to_string(), m.title()))
            .collect();
        let sep = if la_query.is_empty() { "" } else { "&" };
        self.form = Some(PublishForm {
            action: format!("/reports/publications?from={}&to={}{sep}{la_query}", report.from, report.to),
            month: (!open.is_empty())
                .then(|| SelectField::new("month", "Month to publish", &open, &self.posted, &self.errors)),
            confirm: ChoiceField::new(
                "confirm",
                "Confirm",
                &[(
                    "yes",
                    "These figures are ready to publish",
                    Some("A published figure is kept as it is. Outcomes recorded later are shown beside it as changes, never in its place."),
                )],
                &self.posted,
                &self.errors,
            ),
        });
        self
    }
}

/// "Published 91.2%; now 89.5%, 3 children changed", or "Published 91.2%" when nothing did.
pub fn published_note(f: &MonthFigure) -> Option<String> {
    let p = f.published.as_ref()?;
    let percent = |v: Option<f64>| v.map_or("no children".to_string(), |v| format!("{v:.1}%"));
    let mut note = format!("Published {}", percent(p.percent));
    if f.restated {
        let children = if p.changed == 1 { "child" } else { "children" };
        note.push_str(&format!(
            "; now {}, {} {children} changed",
            percent(f.percent),
            p.changed
        ));
    }
    Some(note)
}

pub async fn publish(
    state: web::Data<AppState>,
    access: Access,
    req: HttpRequest,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let posted = Posted::parse(&body);
    let mut errors = FormErrors::new();
    let month = Month::parse(posted.get("month"));
    if month.is_err() {
        errors.add("month", "month", "Choose a month to publish");
    }
    if posted.get("confirm") != "yes" {
        errors.add(
            "confirm",
            &ChoiceField::target("confirm"),
            "Confirm that these figures are ready to publish",
        );
    }
    let la = query_value(&req, "la");
    let mut la_errors = Vec::new();
    let las = crate::http::reports::local_authorities(
        Some(&la).filter(|l| !l.is_empty()).map(String::as_str),
        &mut la_errors,
    );
    let month = match month {
        Ok(month) if errors.is_empty() && la_errors.is_empty() => month,
        _ => return again(state, access, req, posted, errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let published = state
        .run_as(&access, move |conn, ctx| {
            kpi_publication::publish(conn, ctx, month, &las)
        })
        .await;
    match published {
        Ok(_) => {
            let back = format!("/reports?{}&published={month}", req.query_string());
            Ok(HttpResponse::SeeOther()
                .insert_header((actix_web::http::header::LOCATION, back))
                .finish())
        }
        Err(e) => match super::forms::refusal(
            &e,
            &[("month", "month", "month"), ("la", "month", "month")],
            "publish",
            |m| format!("{}.", capitalised(m)),
        ) {
            Some((errors, status)) => again(state, access, req, posted, errors, status).await,
            None => Err(e),
        },
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

async fn again(
    state: web::Data<AppState>,
    access: Access,
    req: HttpRequest,
    posted: Posted,
    errors: FormErrors,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let publishing = Publishing {
        posted,
        errors,
        ..Publishing::default()
    };
    super::reports::render(state, access, req, publishing, status).await
}

#[derive(Template, WebTemplate)]
#[template(path = "report_restatement.html")]
pub struct RestatementPage {
    pub layout: Layout,
    pub view: RestatementView,
    pub month_title: String,
    pub back: String,
}

/// An outcome code in words; `None` is "not counted" (not in the cohort).
pub fn outcome(code: &Option<String>) -> &'static str {
    match code.as_deref() {
        Some("met") => "Met",
        Some("missed") => "Missed",
        Some("pending") => "Not yet known",
        Some(_) => "Not recorded",
        None => "Not counted",
    }
}

pub fn percent(p: &Option<f64>) -> String {
    p.map_or("no children".to_string(), |v| format!("{v:.1}%"))
}

pub async fn restatement(
    state: web::Data<AppState>,
    access: Access,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let (measure, month, las, la_query) = super::reports::figure_of(path, &req)?;
    let view = state
        .run_as(&access, move |conn, ctx| {
            kpi_publication::restatement(conn, ctx, measure, month, &las)
        })
        .await?;
    let sep = if la_query.is_empty() { "" } else { "?" };
    let page = RestatementPage {
        layout: Layout::signed_in(
            format!("{}, {}: changes since publication", measure.title(), month.title()),
            &access.principal,
            req.path(),
        ),
        month_title: month.title(),
        back: format!("/reports/{}/{month}{sep}{la_query}", measure.as_str()),
        view,
    };
    Ok(super::respond(&req, StatusCode::OK, page))
}
