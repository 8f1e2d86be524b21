//! The weekly IHA assurance meeting's list: every child who became looked after in the
//! window, plus every IHA still open, soonest due first.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::assessments::open_state_names;
use super::views::*;
use super::DomainCtx;
use crate::audit::AuditEvent;
use crate::db::models;
use crate::db::schema::*;
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::obligations;
use crate::status::Rag;
use crate::workflow::Kind;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AssuranceQuery {
    /// The meeting's date (default today).
    pub as_of: Option<NaiveDate>,
    /// Weeks of newly looked-after children to include (default 6).
    pub weeks: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssuranceItem {
    pub child_id: String,
    pub local_id: String,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: NaiveDate,
    pub age: u32,
    pub responsible_la: String,
    pub social_worker_email: Option<String>,
    pub became_looked_after_on: NaiveDate,
    pub legal_status: Option<String>,
    pub out_of_area: bool,
    pub host_la: Option<String>,
    pub assessment: AssessmentView,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct AssuranceSummary {
    pub total: usize,
    pub red: usize,
    pub amber: usize,
    pub green: usize,
    pub open: usize,
    pub out_of_area: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssuranceList {
    pub as_of: NaiveDate,
    pub weeks: u32,
    /// Children who became looked after on or after this date are listed even if done.
    pub window_from: NaiveDate,
    pub summary: AssuranceSummary,
    pub items: Vec<AssuranceItem>,
}

type Row = (
    models::Assessment,
    models::Child,
    Option<String>,
    Option<models::OutOfAreaRequest>,
);

pub fn iha_list(conn: &mut DbConn, ctx: &DomainCtx, q: AssuranceQuery, default_weeks: u32) -> AppResult<AssuranceList> {
    let as_of = q.as_of.unwrap_or(ctx.today);
    let weeks = q.weeks.unwrap_or(default_weeks);
    if !(1..=104).contains(&weeks) {
        return Err(AppError::invalid("weeks", "must be between 1 and 104"));
    }
    let window_from = as_of - chrono::Duration::weeks(i64::from(weeks));
    let rows = crate::db::write_transaction(conn, |conn| {
        let rows = load(conn, ctx, as_of, window_from)?;
        ctx.audit(conn, AuditEvent::ok("list", "assurance_iha", None, None))?;
        Ok::<_, AppError>(rows)
    })?;
    let mut summary = AssuranceSummary::default();
    let mut items = Vec::with_capacity(rows.len());
    for (a, child, legal_status, request) in &rows {
        let r = AssessmentRows {
            assessment: a,
            child_local_id: &child.local_id,
            date_of_birth: child.date_of_birth,
            out_of_area: request.as_ref(),
        };
        let view = assessment_view(&r, ctx, as_of)?;
        count(&mut summary, &view, request.is_some());
        items.push(AssuranceItem {
            child_id: child.id.clone(),
            local_id: child.local_id.clone(),
            given_name: child.given_name.clone(),
            family_name: child.family_name.clone(),
            date_of_birth: child.date_of_birth,
            age: obligations::age_on(child.date_of_birth, as_of),
            responsible_la: child.responsible_la.clone(),
            social_worker_email: child.social_worker_email.clone(),
            became_looked_after_on: a.clock_started_on,
            legal_status: legal_status.clone(),
            out_of_area: request.is_some(),
            host_la: request.as_ref().and_then(|r| r.host_la.clone()),
            assessment: view,
        });
    }
    Ok(AssuranceList {
        as_of,
        weeks,
        window_from,
        summary,
        items,
    })
}

fn count(s: &mut AssuranceSummary, v: &AssessmentView, out_of_area: bool) {
    s.total += 1;
    match v.rag {
        Rag::Red => s.red += 1,
        Rag::Amber => s.amber += 1,
        Rag::Green => s.green += 1,
    }
    if v.state.is_open() {
        s.open += 1;
    }
    if out_of_area {
        s.out_of_area += 1;
    }
}

fn load(conn: &mut DbConn, ctx: &DomainCtx, as_of: NaiveDate, window_from: NaiveDate) -> AppResult<Vec<Row>> {
    // "Open then": open now, or finished only after the meeting's date.
    let open_then = assessments::state
        .eq_any(open_state_names())
        .or(assessments::completed_on.gt(as_of))
        .or(assessments::ended_on.gt(as_of));
    let mut q = assessments::table
        .inner_join(children::table)
        .left_join(periods::table.on(periods::id.nullable().eq(assessments::period_id)))
        .left_join(
            out_of_area_requests::table.on(out_of_area_requests::assessment_id
                .eq(assessments::id)
                .and(out_of_area_requests::closed_on.is_null())),
        )
        .filter(assessments::kind.eq(Kind::Iha.as_str()))
        .filter(assessments::clock_started_on.le(as_of))
        .filter(assessments::clock_started_on.ge(window_from).or(open_then))
        .select((
            models::Assessment::as_select(),
            models::Child::as_select(),
            periods::legal_status.nullable(),
            Option::<models::OutOfAreaRequest>::as_select(),
        ))
        .into_boxed();
    if let Some(codes) = ctx.scope.codes() {
        q = q.filter(children::responsible_la.eq_any(codes.to_vec()));
    }
    let rows = q
        .order((
            assessments::due_on.asc(),
            children::local_id.asc(),
            assessments::id.asc(),
        ))
        .load::<Row>(conn)?;
    Ok(rows)
}
