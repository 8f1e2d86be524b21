//! `GET /assessments`: filtered, counted and paged in SQL wherever the stored RAG stamp
//! holds (`rag_store`), with the few rows whose stamp does not hold derived here and merged
//! into the page (`paging`).

use chrono::NaiveDate;
use diesel::dsl::exists;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::history_store;
use super::rag_store::{self, Stamper};
use super::validate::Checks;
use super::views::*;
use super::DomainCtx;
use crate::audit::AuditEvent;
use crate::db::models;
use crate::db::schema::*;
use crate::db::{no_index, steers_planner, DbBackend, DbConn};
use crate::error::{AppError, AppResult};
use crate::paging;
use crate::status::Rag;
use crate::workflow::{Kind, State};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssessmentFilter {
    /// IHA or RHA.
    #[param(value_type = Option<Kind>)]
    pub kind: Option<String>,
    /// The state on `as_of`.
    #[param(value_type = Option<State>)]
    pub state: Option<String>,
    /// green, amber or red (as of `as_of`).
    #[param(value_type = Option<Rag>)]
    pub rag: Option<String>,
    /// Only those due before this date.
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub due_before: Option<NaiveDate>,
    /// Only those with an open out-of-area request (true) or without (false).
    pub out_of_area: Option<bool>,
    /// Only this child's assessments.
    #[param(format = Uuid)]
    pub child_id: Option<String>,
    /// The day to list as of (default today), from 2000-01-01 to five years after today.
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub as_of: Option<NaiveDate>,
    /// Page size, 1-1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentPage {
    pub as_of: NaiveDate,
    pub total: usize,
    pub limit: i64,
    pub offset: i64,
    /// Soonest due first.
    pub items: Vec<AssessmentView>,
}

/// The checked filter.
struct Filter {
    kind: Option<Kind>,
    state: Option<State>,
    rag: Option<Rag>,
    due_before: Option<NaiveDate>,
    out_of_area: Option<bool>,
    child_id: Option<String>,
    as_of: NaiveDate,
    limit: usize,
    offset: usize,
}

type Query<'a> = assessments::BoxedQuery<'a, DbBackend>;

pub fn list(conn: &mut DbConn, ctx: &DomainCtx, f: AssessmentFilter) -> AppResult<AssessmentPage> {
    audited_page(conn, ctx, f, |_, _, _, rows: Vec<models::Assessment>| Ok(rows))
}

/// The list's first `f.limit` rows (soonest due) ranked most likely to be late first
/// (stored forecasts where they hold, `forecast_stamp`; those without a forecast last,
/// then soonest due), of which the first `show` are shown: the health admin's queues
/// sorted by risk. The total is the whole list's. Ranking reads each row's id, due date
/// and version only; the rows shown are loaded whole.
pub fn list_by_risk(conn: &mut DbConn, ctx: &DomainCtx, f: AssessmentFilter, show: usize) -> AppResult<AssessmentPage> {
    audited_page(conn, ctx, f, |conn, ctx, as_of, mut rows: Vec<Ranked>| {
        let keys: Vec<(&str, i32)> = rows.iter().map(|r| (r.id.as_str(), r.version)).collect();
        let p = super::forecast_stamp::p_late_of(conn, ctx, &keys, as_of)?;
        let risk = |r: &Ranked| p.get(&r.id).copied().flatten().unwrap_or(-1.0);
        rows.sort_by(|a, b| {
            risk(b)
                .total_cmp(&risk(a))
                .then_with(|| (a.due_on, &a.id).cmp(&(b.due_on, &b.id)))
        });
        rows.truncate(show);
        let ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
        let mut whole = rag_store::load_by_ids(conn, &ids, |q| q)?;
        whole.sort_by_key(|a| ids.iter().position(|id| *id == a.id));
        Ok(whole)
    })
}

/// A row as a list reads it from the database: whole, or (to rank many) its key.
trait ListRow: Sized {
    fn load(q: Query<'_>, conn: &mut DbConn) -> QueryResult<Vec<Self>>;
    fn of_derived(a: models::Assessment) -> Self;
    fn id(&self) -> &str;
    fn key(&self) -> (NaiveDate, String);
}

impl ListRow for models::Assessment {
    fn load(q: Query<'_>, conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        q.select(models::Assessment::as_select()).load(conn)
    }
    fn of_derived(a: models::Assessment) -> Self {
        a
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn key(&self) -> (NaiveDate, String) {
        key(self)
    }
}

/// What ranking by risk reads of a row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = assessments)]
struct Ranked {
    id: String,
    due_on: NaiveDate,
    version: i32,
}

impl ListRow for Ranked {
    fn load(q: Query<'_>, conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        q.select(Ranked::as_select()).load(conn)
    }
    fn of_derived(a: models::Assessment) -> Self {
        Ranked {
            id: a.id,
            due_on: a.due_on,
            version: a.version,
        }
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn key(&self) -> (NaiveDate, String) {
        (self.due_on, self.id.clone())
    }
}

/// One page read in one audited snapshot: the rows `shown` makes of the page's, as views.
fn audited_page<R: ListRow>(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    f: AssessmentFilter,
    shown: impl FnOnce(&mut DbConn, &DomainCtx, NaiveDate, Vec<R>) -> AppResult<Vec<models::Assessment>>,
) -> AppResult<AssessmentPage> {
    let f = check(f, ctx.today)?;
    let stamper = Stamper::for_ctx(ctx);
    let (items, total) = ctx.read_audited(
        conn,
        |conn| {
            let (rows, total) = load_page::<R>(conn, ctx, &stamper, &f)?;
            let rows = shown(conn, ctx, f.as_of, rows)?;
            Ok((views(conn, ctx, &rows, f.as_of)?, total))
        },
        |_| AuditEvent::ok("list", "assessment", None, None),
    )?;
    Ok(AssessmentPage {
        as_of: f.as_of,
        total,
        limit: f.limit as i64,
        offset: f.offset as i64,
        items,
    })
}

/// The page's rows and the total. The database counts and pages by the stored state and
/// RAG; the rows whose stamp does not hold on as_of are derived here instead: taken out of
/// the count by what they have stored, put back by what they derive to, and merged into
/// the page. Rows whose clock had not started by as_of are on no list of that day: only
/// counted (to take them out), never loaded, so a view of a day long past costs no more
/// than the rows it shows.
fn load_page<R: ListRow>(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    stamper: &Stamper<'_>,
    f: &Filter,
) -> AppResult<(Vec<R>, usize)> {
    let steer = steers_planner(conn);
    let basis = stamper.basis.as_str();
    let untrusted = rag_store::untrusted_ids(conn, basis, f.as_of)?;
    let mut derived = Vec::new();
    let mut stored_matches = 0;
    let candidates = rag_store::load_by_ids(conn, &untrusted, |q| narrow(q, ctx, f, Use::Rows, steer))?;
    let events = history_store::events_for(conn, &candidates.iter().collect::<Vec<_>>(), f.as_of)?;
    for a in candidates {
        if f.state.is_none_or(|s| a.state == s.as_str()) && f.rag.is_none_or(|r| a.rag == r.as_str()) {
            stored_matches += 1;
        }
        let (state, rag) = rag_store::state_and_rag(&a, events.get(&a.id).map(Vec::as_slice), stamper, f.as_of)?;
        let matches = f.state.is_none_or(|want| state == want) && f.rag.is_none_or(|want| rag == want);
        if matches && a.clock_started_on <= f.as_of {
            derived.push(a);
        }
    }
    derived.sort_by(|a, b| (a.due_on, &a.id).cmp(&(b.due_on, &b.id)));
    let stored: i64 = by_stored(
        narrow(assessments::table.into_boxed(), ctx, f, Use::Count, steer),
        f,
        false,
    )
    .count()
    .get_result(conn)?;
    // Found by their stamp: on SQLite no other filter may pick the index.
    let not_started: i64 = by_stored(
        narrow(assessments::table.into_boxed(), ctx, f, Use::Rows, steer),
        f,
        steer,
    )
    .filter(rag_store::not_started(basis, f.as_of))
    .count()
    .get_result(conn)?;
    // The rows on the list whose stored RAG holds; the page takes them from `skip` on.
    let trusted = usize::try_from(stored - stored_matches - not_started).unwrap_or(0);
    let (skip, take) = paging::paged_window(f.offset, f.limit, derived.len());
    let paged: Vec<R> = if skip >= trusted {
        Vec::new()
    } else {
        let q = by_stored(
            narrow(assessments::table.into_boxed(), ctx, f, Use::Rows, steer),
            f,
            false,
        )
        .filter(rag_store::trusted(basis, f.as_of, steer));
        R::load(
            q.order((assessments::due_on.asc(), assessments::id.asc()))
                .limit(take as i64)
                .offset(skip as i64),
            conn,
        )?
    };
    // Each list reads in one snapshot (`read_audited`), so a row cannot be stamped
    // between the queries above; this guards the merge should that ever change.
    derived.retain(|d| !paged.iter().any(|p| p.id() == d.id));
    let total = trusted + derived.len();
    let derived = derived.into_iter().map(R::of_derived).collect();
    Ok((
        paging::merge_page(paged, skip, derived, f.offset, f.limit, R::key),
        total,
    ))
}

/// The list's order: soonest due first, then by id (UUID text, which sorts the same in
/// Rust and under any database collation).
fn key(a: &models::Assessment) -> (NaiveDate, String) {
    (a.due_on, a.id.clone())
}

/// Rows whose stored state and RAG are the ones asked for; `hide` keeps both columns from
/// picking an index (`no_index`).
fn by_stored<'a>(mut q: Query<'a>, f: &Filter, hide: bool) -> Query<'a> {
    if let Some(s) = f.state {
        q = if hide {
            q.filter(no_index(assessments::state).eq(s.as_str()))
        } else {
            q.filter(assessments::state.eq(s.as_str()))
        };
    }
    if let Some(r) = f.rag {
        q = if hide {
            q.filter(no_index(assessments::rag).eq(r.as_str()))
        } else {
            q.filter(assessments::rag.eq(r.as_str()))
        };
    }
    q
}

/// What a query is for, which decides the indexes its filters may pick on SQLite.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Counting: the covering indexes lead with the RAG or the local authority and kind.
    Count,
    /// Rows in the list's order: walk an index in due order (by RAG or state, else due
    /// date) rather than gather a whole authority or kind and sort it.
    Rows,
}

/// The filters that do not depend on derivation, all but `clock_started_on <= as_of`
/// (the stamp implies it; the derived rows are checked in code). On SQLite, authority and
/// kind may pick an index only when counting.
fn narrow<'a>(mut q: Query<'a>, ctx: &'a DomainCtx, f: &'a Filter, used: Use, steer: bool) -> Query<'a> {
    // Open out-of-area requests are few (thousands in a county of 100,000 children): when
    // they are asked for, SQLite must start from them, not from a whole authority.
    let hide = steer && (used == Use::Rows || f.out_of_area == Some(true));
    if let Some(codes) = ctx.scope.codes() {
        q = if hide {
            q.filter(no_index(assessments::responsible_la).eq_any(codes))
        } else {
            q.filter(assessments::responsible_la.eq_any(codes))
        };
    }
    // A record sealed at the adoption order is in no list (`service::care`). Few are
    // sealed, and `children_sealed` holds just those, so the exclusion costs little.
    q = q.filter(diesel::dsl::not(
        assessments::child_id.eq_any(
            children::table
                .filter(children::sealed_on.is_not_null())
                .select(children::id),
        ),
    ));
    if let Some(k) = f.kind {
        q = if hide {
            q.filter(no_index(assessments::kind).eq(k.as_str()))
        } else {
            q.filter(assessments::kind.eq(k.as_str()))
        };
    }
    if let Some(d) = f.due_before {
        q = q.filter(assessments::due_on.lt(d));
    }
    if let Some(child) = &f.child_id {
        q = q.filter(assessments::child_id.eq(child));
    }
    match f.out_of_area {
        // The open requests' own index (migration 000075) holds every column these lists
        // read, in due order: a literal, so that both planners see the index's condition.
        Some(true) => q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("assessments.open_request")),
        Some(false) => q.filter(diesel::dsl::not(exists(
            out_of_area_requests::table
                .filter(out_of_area_requests::assessment_id.eq(assessments::id))
                .filter(out_of_area_requests::closed_on.is_null()),
        ))),
        None => q,
    }
}

/// Full views of the page's rows, with their children and open out-of-area requests.
fn views(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    rows: &[models::Assessment],
    as_of: NaiveDate,
) -> AppResult<Vec<AssessmentView>> {
    let child_ids: Vec<&str> = rows.iter().map(|a| a.child_id.as_str()).collect();
    let ids: Vec<&str> = rows.iter().map(|a| a.id.as_str()).collect();
    let children: std::collections::HashMap<String, (String, NaiveDate)> = children::table
        .filter(children::id.eq_any(&child_ids))
        .select((children::id, children::local_id, children::date_of_birth))
        .load::<(String, String, NaiveDate)>(conn)?
        .into_iter()
        .map(|(id, local_id, dob)| (id, (local_id, dob)))
        .collect();
    let requests: Vec<models::OutOfAreaRequest> = super::assessments::requests_open_on(conn, &ids, as_of)?;
    let events = history_store::events_for(conn, &rows.iter().collect::<Vec<_>>(), as_of)?;
    let mut views = rows
        .iter()
        .map(|a| {
            let (local_id, dob) = children
                .get(&a.child_id)
                .ok_or_else(|| AppError::Internal("assessment without its child".into()))?;
            let r = AssessmentRows {
                assessment: a,
                child_local_id: local_id,
                date_of_birth: *dob,
                out_of_area: requests.iter().find(|r| r.assessment_id == a.id),
                events: events.get(&a.id).map(Vec::as_slice),
            };
            assessment_view(&r, ctx, as_of)
        })
        .collect::<AppResult<Vec<_>>>()?;
    super::forecast::attach(conn, ctx, &rows.iter().collect::<Vec<_>>(), &mut views, as_of)?;
    Ok(views)
}

fn check(f: AssessmentFilter, today: NaiveDate) -> AppResult<Filter> {
    let mut c = Checks::new();
    let kind = f.kind.as_deref().and_then(|k| match k.parse::<Kind>() {
        Ok(k) => Some(k),
        Err(_) => {
            c.fail("kind", "must be IHA or RHA");
            None
        }
    });
    let state = f.state.as_deref().and_then(|s| match s.parse::<State>() {
        Ok(s) => Some(s),
        Err(_) => {
            let names: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
            c.fail("state", format!("must be one of {}", names.join(", ")));
            None
        }
    });
    let rag = f.rag.as_deref().and_then(|r| match r.parse::<Rag>() {
        Ok(r) => Some(r),
        Err(()) => {
            c.fail("rag", "must be green, amber or red");
            None
        }
    });
    let (limit, offset) = c.page(f.limit, f.offset, 100);
    let as_of = c.as_of(f.as_of, today);
    c.finish()?;
    Ok(Filter {
        kind,
        state,
        rag,
        due_before: f.due_before,
        out_of_area: f.out_of_area,
        child_id: f.child_id,
        as_of,
        limit,
        offset,
    })
}
