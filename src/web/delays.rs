//! `/reports/delays`: the delay analysis of late IHAs for the board (issue 12): how late in
//! working-day bands, why, and whose step, each split in area and out of area, every count
//! a link to the children behind it.
//!
//! Rules:
//! - The figures are the API's (`service::kpi_delays`): the same scope, narrowing by local
//!   authority (`la=`) and audit entry; the months default to the financial year so far, as
//!   on `/reports`, and a URL that cannot be read is a 400 page.
//! - A count links to this page narrowed to its children (`band=`, `reason=`, `side=`,
//!   `area=in|out` in the URL); the list below the tables shows them, each linked to the
//!   child's record. Only ids and local ids appear: no names.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;

use super::layout::Layout;
use super::query_value;
use super::reports::{default_months, la_of, read_month, refuse};
use crate::error::{AppResult, FieldError};
use crate::http::auth::Access;
use crate::http::AppState;
use crate::kpi::delays::{Band, Side};
use crate::kpi::Month;
use crate::service::kpi_delays::{self, DelayCount, DelayReport, LateChild};

#[derive(Template, WebTemplate)]
#[template(path = "report_delays.html")]
pub struct DelaysPage {
    pub layout: Layout,
    pub report: DelayReport,
    /// "April 2025 to March 2026".
    pub span: String,
    /// `from=..&to=..[&la=..]`: the page without a narrowing.
    pub base: String,
    pub filter: Filter,
    /// The late IHAs the filter keeps.
    pub shown: Vec<LateChild>,
    pub back: String,
}

/// Which children the list shows (every late IHA when all are empty).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Filter {
    pub band: String,
    pub reason: String,
    pub side: String,
    /// "in", "out" or "".
    pub area: String,
}

impl Filter {
    fn read(req: &HttpRequest, errors: &mut Vec<FieldError>) -> Filter {
        let f = Filter {
            band: query_value(req, "band"),
            reason: query_value(req, "reason"),
            side: query_value(req, "side"),
            area: query_value(req, "area"),
        };
        if !f.band.is_empty() && !Band::ALL.iter().any(|b| b.key() == f.band) {
            errors.push(FieldError::new("band", "must be 1-5, 6-10, 11-20 or 21+"));
        }
        if !f.reason.is_empty()
            && f.reason != "not_recorded"
            && super::reports::reason(&Some(f.reason.clone())) == "Not recorded"
        {
            errors.push(FieldError::new(
                "reason",
                "must be a reason code, for example late_consent",
            ));
        }
        if !f.side.is_empty() && !Side::ALL.iter().any(|s| s.key() == f.side) {
            errors.push(FieldError::new(
                "side",
                "must be local_authority, health, host_provider, young_person or not_recorded",
            ));
        }
        if !matches!(f.area.as_str(), "" | "in" | "out") {
            errors.push(FieldError::new("area", "must be in or out"));
        }
        f
    }

    fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    fn keeps(&self, c: &LateChild) -> bool {
        let reason = c.reason.as_deref().unwrap_or("not_recorded");
        (self.band.is_empty() || c.band == self.band)
            && (self.reason.is_empty() || reason == self.reason)
            && (self.side.is_empty() || c.side == self.side)
            && (self.area.is_empty() || c.out_of_area == (self.area == "out"))
    }
}

/// One count of a row: in area, out of area or both.
pub struct Cell {
    pub count: usize,
    pub href: String,
    /// Read after the number by a screen reader: "late, Late consent, out of area".
    pub hidden: String,
}

impl DelaysPage {
    /// A row's three counts, each linked to its children.
    pub fn cells(&self, kind: &str, row: &DelayCount, words: &str) -> Vec<Cell> {
        [
            (row.in_area, "in", "in area"),
            (row.out_of_area, "out", "out of area"),
            (row.total, "", "in and out of area"),
        ]
        .into_iter()
        .map(|(count, area, area_words)| Cell {
            count,
            href: self.link(kind, &row.key, area),
            hidden: format!("late, {words}, {area_words}"),
        })
        .collect()
    }

    /// This page narrowed to one row (`kind` band, reason or side) and area ("" both).
    pub fn link(&self, kind: &str, key: &str, area: &str) -> String {
        let mut q = form_urlencoded::Serializer::new(self.base.clone());
        q.append_pair(kind, key);
        if !area.is_empty() {
            q.append_pair("area", area);
        }
        format!("/reports/delays?{}#children", q.finish())
    }

    pub fn band_words(&self, key: &str) -> &'static str {
        Band::ALL.iter().find(|b| b.key() == key).map_or("", |b| b.label())
    }

    pub fn side_words(&self, key: &str) -> &'static str {
        Side::ALL.iter().find(|s| s.key() == key).map_or("", |s| s.label())
    }

    pub fn reason_words(&self, key: &str) -> &'static str {
        super::reports::reason(&Some(key.to_string()))
    }

    /// The list's heading: which late IHAs it shows.
    pub fn shown_words(&self) -> String {
        let f = &self.filter;
        let mut parts: Vec<String> = Vec::new();
        if !f.band.is_empty() {
            parts.push(format!("{} late", self.band_words(&f.band)));
        }
        if !f.reason.is_empty() {
            parts.push(self.reason_words(&f.reason).to_lowercase());
        }
        if !f.side.is_empty() {
            parts.push(format!("{} step", self.side_words(&f.side)));
        }
        match f.area.as_str() {
            "in" => parts.push("in area".into()),
            "out" => parts.push("out of area".into()),
            _ => {}
        }
        if parts.is_empty() {
            "Every late IHA".into()
        } else {
            format!("Late IHAs: {}", parts.join(", "))
        }
    }

    pub fn filtered(&self) -> bool {
        !self.filter.is_empty()
    }

    pub fn month_title(&self, month: &str) -> String {
        Month::parse(month).map(Month::title).unwrap_or_default()
    }
}

pub async fn page(state: web::Data<AppState>, access: Access, req: HttpRequest) -> AppResult<HttpResponse> {
    let mut errors = Vec::new();
    let (default_from, default_to) = default_months(state.today());
    let from = read_month(&req, "from", default_from, &mut errors);
    let to = read_month(&req, "to", default_to, &mut errors);
    if to < from || Month::range(from, to).len() > crate::http::reports::MAX_MONTHS {
        errors.push(FieldError::new("to", "must be from 1 to 36 months after from"));
    }
    let (las, la_query) = la_of(&req, &mut errors);
    let filter = Filter::read(&req, &mut errors);
    refuse(errors)?;
    let mut report = state
        .run_as(&access, move |conn, ctx| kpi_delays::report(conn, ctx, from, to, &las))
        .await?;
    let shown = std::mem::take(&mut report.children)
        .into_iter()
        .filter(|c| filter.keeps(c))
        .collect();
    let sep = if la_query.is_empty() { "" } else { "&" };
    let base = format!("from={from}&to={to}{sep}{la_query}");
    let page = DelaysPage {
        layout: Layout::signed_in("Late initial health assessments", &access.principal, req.path()),
        span: format!("{} to {}", from.title(), to.title()),
        back: format!("/reports?{base}"),
        base,
        filter,
        shown,
        report,
    };
    Ok(super::respond(&req, StatusCode::OK, page))
}
