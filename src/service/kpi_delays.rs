//! The delay analysis of late IHAs over the database (`GET /reports/delays`, the page
//! `/reports/delays`): the IHA figures of the months, read as the KPI report reads them,
//! through [`crate::kpi::delays`].
//!
//! Rules:
//! - Scope, narrowing by local authority and the rows read are the KPI report's
//!   ([`kpi_report::load`]): an LA user sees only its own children's IHAs.
//! - The read is audited as a report read ("report", "iha_delays"): it lists children.
//! - Today is the service's today: an IHA still not seen is late up to it.

use serde::Serialize;
use utoipa::ToSchema;

use super::kpi_report::{self, Detail, Span};
use super::DomainCtx;
use crate::audit::AuditEvent;
use crate::db::DbConn;
use crate::error::AppResult;
use crate::kpi::delays::{self, Delays, LateIha, Split};
use crate::kpi::{self, Measure, Month};

/// `GET /reports/delays`: the late IHAs of the periods of care that started in the months.
#[derive(Debug, Serialize, ToSchema)]
pub struct DelayReport {
    /// First month, YYYY-MM.
    pub from: String,
    /// Last month, YYYY-MM.
    pub to: String,
    /// The day an IHA still not seen is counted late up to.
    pub today: chrono::NaiveDate,
    /// How many IHAs were late, in and out of area.
    pub late: usize,
    pub in_area: usize,
    pub out_of_area: usize,
    /// 1-5, 6-10, 11-20 and 21+ working days late, every band even when empty.
    pub bands: Vec<DelayCount>,
    /// Why, most frequent first (reason codes as in the KPI drill-down).
    pub reasons: Vec<DelayCount>,
    /// Whose step: local_authority, health, host_provider, young_person, not_recorded.
    pub sides: Vec<DelayCount>,
    /// Every late IHA, the longest wait first.
    pub children: Vec<LateChild>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DelayCount {
    /// The band ("6-10"), reason ("late_consent") or side ("health").
    pub key: String,
    pub in_area: usize,
    pub out_of_area: usize,
    pub total: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LateChild {
    pub child_id: String,
    pub local_id: String,
    pub assessment_id: Option<String>,
    /// The month the period of care started, YYYY-MM.
    pub month: String,
    pub due_on: Option<chrono::NaiveDate>,
    /// Null while still not seen.
    pub seen_on: Option<chrono::NaiveDate>,
    /// England and Wales working days after the due date, to the day seen or today.
    pub working_days_late: i32,
    /// 1-5, 6-10, 11-20 or 21+.
    pub band: String,
    pub reason: Option<String>,
    /// As on the KPI drill-down: local_authority, health, host_provider or none.
    pub attribution: Option<String>,
    /// Whose step, `none` split into young_person and not_recorded.
    pub side: String,
    pub out_of_area: bool,
}

/// The delay analysis of `from..=to` over the children in scope (narrowed to `las`).
pub fn report(conn: &mut DbConn, ctx: &DomainCtx, from: Month, to: Month, las: &[String]) -> AppResult<DelayReport> {
    let analysis = ctx.read_audited(
        conn,
        |conn| {
            let children = kpi_report::load(conn, ctx, las, Span::months(from, to), Detail::Causes)?;
            let figures: Vec<kpi::Figure> = Month::range(from, to)
                .into_iter()
                .map(|month| kpi::figure(Measure::IhaWithin20WorkingDays, month, &children, ctx.today))
                .collect();
            Ok(delays::analyse(&figures, &ctx.calendar, ctx.today))
        },
        |_| AuditEvent::ok("report", "iha_delays", None, None),
    )?;
    Ok(to_report(&analysis, from, to, ctx.today))
}

fn to_report(a: &Delays, from: Month, to: Month, today: chrono::NaiveDate) -> DelayReport {
    DelayReport {
        from: from.to_string(),
        to: to.to_string(),
        today,
        late: a.late.len(),
        in_area: a.in_area(),
        out_of_area: a.out_of_area(),
        bands: a.bands.iter().map(|b| count(b, b.key.key())).collect(),
        reasons: a.reasons.iter().map(|r| count(r, code(r.key))).collect(),
        sides: a.sides.iter().map(|s| count(s, s.key.key())).collect(),
        children: a.late.iter().map(late_child).collect(),
    }
}

fn count<K>(s: &Split<K>, key: impl Into<String>) -> DelayCount {
    DelayCount {
        key: key.into(),
        in_area: s.in_area,
        out_of_area: s.out_of_area,
        total: s.total(),
    }
}

/// The snake_case code a value serialises to (as the KPI drill-down writes it).
fn code<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn late_child(l: &LateIha) -> LateChild {
    let e = &l.entry;
    LateChild {
        child_id: e.child_id.clone(),
        local_id: e.local_id.clone(),
        assessment_id: e.assessment_id.clone(),
        month: l.month.to_string(),
        due_on: e.due_on,
        seen_on: e.done_on,
        working_days_late: l.working_days_late,
        band: l.band.key().to_string(),
        reason: e.reason.map(code),
        attribution: e.attribution.map(code),
        side: l.side.key().to_string(),
        out_of_area: e.out_of_area,
    }
}
