//! The weekly IHA assurance meeting's list: every child who became looked after in the
//! window, plus every IHA still open, soonest due first.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::forecast_stamp;
use super::rag_snapshot;
use super::rag_store::{self, Stamper, StoredStamp};
use super::validate::Checks;
use super::views::*;
use super::DomainCtx;
use crate::audit::AuditEvent;
use crate::db::models;
use crate::db::schema::*;
use crate::db::{no_index, steers_planner, DbConn};
use crate::error::{AppError, AppResult};
use crate::obligations;
use crate::status::{self, Attribution, Blocker, Rag};
use crate::workflow::{Kind, State};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssuranceQuery {
    /// The meeting's date (default today), from 2000-01-01 to five years after today.
    #[serde(default, deserialize_with = "crate::input::optional_date")]
    pub as_of: Option<NaiveDate>,
    /// Weeks of newly looked-after children to include, 1-104 (default 6).
    #[param(minimum = 1, maximum = 104)]
    pub weeks: Option<u32>,
    /// Items per page, 1-1000 (default 100). The summary always covers the whole list.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// Only this local authority's children (its code).
    pub la: Option<String>,
    /// Only items of this RAG on `as_of`.
    pub rag: Option<Rag>,
    /// Only items held up by this step on `as_of`.
    pub blocker: Option<Blocker>,
    /// Only items whose late step is this party's.
    pub attribution: Option<Attribution>,
    /// Only items with an open out-of-area request (true) or without (false).
    pub out_of_area: Option<bool>,
    /// Only items with (true) or without (false) an assurance meeting action open on `as_of`.
    pub has_open_actions: Option<bool>,
    /// Only items whose forecast p_late is 0.5 or more (true) or below it (false).
    pub likely_late: Option<bool>,
    /// `due` (default: soonest due first) or `likely_late` (highest p_late first).
    #[param(inline)]
    pub sort: Option<ListSort>,
}

/// The list's order.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListSort {
    #[default]
    Due,
    LikelyLate,
}

/// This week's Monday (the meeting's day).
pub fn monday_of(day: NaiveDate) -> NaiveDate {
    use chrono::Datelike;
    day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// Items per page unless asked, as for `GET /assessments`: a county's weekly list is
/// usually shorter.
pub const DEFAULT_PAGE: i64 = 100;

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
    /// The lateness forecast on `as_of` (open IHAs, once the forecast has been fitted).
    pub forecast: Option<super::forecast::ForecastView>,
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
    /// Counts over the whole list, every page.
    pub summary: AssuranceSummary,
    /// Items in the whole list, every page (the same as `summary.total`).
    pub total: usize,
    pub limit: i64,
    pub offset: i64,
    /// Soonest due first (then by local id).
    pub items: Vec<AssuranceItem>,
}

/// One IHA on the list with what the summary and the order need.
struct Entry {
    id: String,
    child_id: String,
    due_on: NaiveDate,
    out_of_area: bool,
    state: State,
    rag: Rag,
    /// The forecast p_late (inner `None`: no forecast), known from the row's stored
    /// forecast when it holds, else worked out only when the filters or the order need it.
    p_late: Option<Option<f64>>,
}

/// An IHA as the list's first pass reads it (id, child id, due date, clock start, stamp,
/// version): no facts unless its stamp fails to hold.
type LeanRow = (String, String, NaiveDate, NaiveDate, StoredStamp, i32);

/// Stored forecasts by assessment id: the version each holds for, and p_late.
type Stamps = HashMap<String, (i32, Option<f64>)>;

/// The list as the API pages it.
pub fn iha_list(conn: &mut DbConn, ctx: &DomainCtx, q: AssuranceQuery, default_weeks: u32) -> AppResult<AssuranceList> {
    let mut c = Checks::new();
    let weeks = q.weeks.unwrap_or(default_weeks);
    if !(1..=104).contains(&weeks) {
        c.fail("weeks", "must be between 1 and 104");
    }
    let (limit, offset) = c.page(q.limit, q.offset, DEFAULT_PAGE);
    let as_of = c.as_of(q.as_of, ctx.today);
    c.finish()?;
    let filters = ListFilters::of(&q);
    build(
        conn,
        ctx,
        as_of,
        weeks,
        &filters,
        offset..offset.saturating_add(limit),
        (limit as i64, offset as i64),
    )
}

/// Every item on one page, for the weekly pack.
pub fn whole_iha_list(conn: &mut DbConn, ctx: &DomainCtx, as_of: NaiveDate, weeks: u32) -> AppResult<AssuranceList> {
    build(
        conn,
        ctx,
        as_of,
        weeks,
        &ListFilters::default(),
        0..usize::MAX,
        (i64::MAX, 0),
    )
}

/// Every item on one page, filtered: the meeting's CSV and print view.
pub fn whole_filtered_list(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    as_of: NaiveDate,
    weeks: u32,
    filters: &ListFilters,
) -> AppResult<AssuranceList> {
    build(conn, ctx, as_of, weeks, filters, 0..usize::MAX, (i64::MAX, 0))
}

fn build(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    as_of: NaiveDate,
    weeks: u32,
    filters: &ListFilters,
    page: std::ops::Range<usize>,
    (limit, offset): (i64, i64),
) -> AppResult<AssuranceList> {
    let window_from = as_of - chrono::Duration::weeks(i64::from(weeks));
    let narrowed = filters.narrow(ctx);
    let ctx = &narrowed;
    let stamper = Stamper::for_ctx(ctx);
    let (summary, items) = ctx.read_audited(
        conn,
        |conn| {
            let stamps = if filters.needs_risk() {
                Some(forecast_stamp::stamps_on(conn, as_of)?)
            } else {
                None
            };
            let entries = entries(conn, ctx, &stamper, as_of, window_from, stamps.as_ref())?;
            let entries = filters.keep(conn, ctx, entries, as_of)?;
            let summary = summarise(&entries);
            let entries = match filters.sort {
                ListSort::Due => page_in_order(conn, entries, page)?,
                ListSort::LikelyLate => page_by_risk(entries, page),
            };
            Ok((summary, items(conn, ctx, entries, as_of)?))
        },
        |_| AuditEvent::ok("list", "assurance_iha", None, None),
    )?;
    Ok(AssuranceList {
        as_of,
        weeks,
        window_from,
        total: summary.total,
        summary,
        limit,
        offset,
        items,
    })
}

/// The entries at `page` of the list's order: due date, then the child's local id, then
/// the id. Local ids are looked up only for the entries whose due dates the page spans,
/// since only their order within a day can move them in or out of it.
fn page_in_order(conn: &mut DbConn, mut entries: Vec<Entry>, page: std::ops::Range<usize>) -> AppResult<Vec<Entry>> {
    entries.sort_by_key(|e| e.due_on);
    let end = page.end.min(entries.len());
    if page.start >= end {
        return Ok(Vec::new());
    }
    let (first_day, last_day) = (entries[page.start].due_on, entries[end - 1].due_on);
    let before = entries.partition_point(|e| e.due_on < first_day);
    let through = entries.partition_point(|e| e.due_on <= last_day);
    let mut span: Vec<Entry> = entries.drain(before..through).collect();
    let child_ids: Vec<String> = span.iter().map(|e| e.child_id.clone()).collect();
    let local_ids = local_ids(conn, &child_ids)?;
    let local_id = |e: &Entry| local_ids.get(&e.child_id).map_or("", String::as_str);
    span.sort_by(|a, b| (a.due_on, local_id(a), &a.id).cmp(&(b.due_on, local_id(b), &b.id)));
    Ok(span.drain(page.start - before..end - before).collect())
}

/// The entries at `page` when the most likely to be late come first (then soonest due).
fn page_by_risk(mut entries: Vec<Entry>, page: std::ops::Range<usize>) -> Vec<Entry> {
    let risk = |e: &Entry| -e.p_late.flatten().unwrap_or(-1.0);
    entries.sort_by(|a, b| {
        risk(a)
            .total_cmp(&risk(b))
            .then_with(|| (a.due_on, &a.id).cmp(&(b.due_on, &b.id)))
    });
    entries.into_iter().skip(page.start).take(page.len()).collect()
}

fn summarise(entries: &[Entry]) -> AssuranceSummary {
    let mut s = AssuranceSummary::default();
    for e in entries {
        s.total += 1;
        match e.rag {
            Rag::Red => s.red += 1,
            Rag::Amber => s.amber += 1,
            Rag::Green => s.green += 1,
        }
        if e.state.is_open() {
            s.open += 1;
        }
        if e.out_of_area {
            s.out_of_area += 1;
        }
    }
    s
}

/// Every IHA on the list, each with its state and RAG on `as_of`, and its stored p_late
/// where one of `stamps` (when the list needs them) holds.
fn entries(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    stamper: &Stamper<'_>,
    as_of: NaiveDate,
    window_from: NaiveDate,
    stamps: Option<&Stamps>,
) -> AppResult<Vec<Entry>> {
    let rows = lean_rows(conn, ctx, as_of, window_from)?;
    // A lookup rather than a join: over a few thousand rows a join tempts PostgreSQL's
    // planner into reading every request.
    // Open on as_of: not closed, or (for a past day) closed since.
    let mut with_request: HashSet<String> = HashSet::new();
    for part in [
        out_of_area_requests::table
            .filter(out_of_area_requests::closed_on.is_null())
            .into_boxed(),
        out_of_area_requests::table
            .filter(out_of_area_requests::closed_on.gt(as_of))
            .into_boxed(),
    ] {
        with_request.extend(
            part.filter(out_of_area_requests::opened_on.le(as_of))
                .select(out_of_area_requests::assessment_id)
                .load::<String>(conn)?,
        );
    }
    let snapshots = rag_snapshot::on_day(conn, stamper, as_of)?;
    let mut to_derive = Vec::new();
    let mut entries = Vec::with_capacity(rows.len());
    for (id, child_id, due_on, _, stamp, version) in rows {
        let Some((state, rag)) = settled(&stamp, &snapshots, stamper, as_of, &id, version)? else {
            to_derive.push(id);
            continue;
        };
        entries.push(Entry {
            out_of_area: with_request.contains(&id),
            p_late: stored_p_late(stamps, &id, version),
            id,
            child_id,
            due_on,
            state,
            rag,
        });
    }
    for (a, state, rag) in derive(conn, stamper, &to_derive, as_of)? {
        entries.push(Entry {
            out_of_area: with_request.contains(&a.id),
            due_on: a.due_on,
            p_late: stored_p_late(stamps, &a.id, a.version),
            id: a.id,
            child_id: a.child_id,
            state,
            rag,
        });
    }
    Ok(entries)
}

/// The IHAs on the list of `as_of` as its first pass reads them. Fetched as separate
/// narrow queries rather than one OR that would scan every IHA.
fn lean_rows(conn: &mut DbConn, ctx: &DomainCtx, as_of: NaiveDate, window_from: NaiveDate) -> AppResult<Vec<LeanRow>> {
    // Each part narrows on its own index. On SQLite (`no_index`) kind may lead only where
    // it is part of that index, and the authority never (most children would match).
    let steer = steers_planner(conn);
    let base = |kind_leads: bool| {
        let mut q = assessments::table
            .select((
                assessments::id,
                assessments::child_id,
                assessments::due_on,
                assessments::clock_started_on,
                StoredStamp::as_select(),
                assessments::version,
            ))
            .into_boxed();
        q = if kind_leads || !steer {
            q.filter(assessments::kind.eq(Kind::Iha.as_str()))
        } else {
            q.filter(no_index(assessments::kind).eq(Kind::Iha.as_str()))
        };
        if let Some(codes) = ctx.scope.codes() {
            q = if steer {
                q.filter(no_index(assessments::responsible_la).eq_any(codes.to_vec()))
            } else {
                q.filter(assessments::responsible_la.eq_any(codes.to_vec()))
            };
        }
        // A record sealed at the adoption order is on no list (`service::care`).
        q.filter(diesel::dsl::not(
            assessments::child_id.eq_any(
                children::table
                    .filter(children::sealed_on.is_not_null())
                    .select(children::id),
            ),
        ))
    };
    let iha_open: Vec<&str> = State::ALL
        .iter()
        .filter(|s| s.is_open() && Kind::Iha.has_state(**s))
        .map(|s| s.as_str())
        .collect();
    let parts = [
        // Became looked after in the window.
        base(true).filter(assessments::clock_started_on.between(window_from, as_of)),
        // Still open.
        base(true).filter(assessments::state.eq_any(iha_open)),
        // Open on as_of, finished since (of a day long past, most finished since but had
        // not started then: left out here rather than read).
        base(false)
            .filter(assessments::completed_on.gt(as_of))
            .filter(assessments::clock_started_on.le(as_of)),
        base(false)
            .filter(assessments::ended_on.gt(as_of))
            .filter(assessments::clock_started_on.le(as_of)),
    ];
    let mut seen = HashSet::new();
    let mut rows: Vec<LeanRow> = Vec::new();
    for part in parts {
        for row in part.load::<LeanRow>(conn)? {
            if row.3 <= as_of && seen.insert(row.0.clone()) {
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

/// A row's state and RAG on `as_of` when something stored gives them: its RAG stamp, else
/// its snapshot of that day (`rag_snapshot`) made at this version.
fn settled(
    stamp: &StoredStamp,
    snapshots: &rag_snapshot::Snapshots,
    stamper: &Stamper<'_>,
    as_of: NaiveDate,
    id: &str,
    version: i32,
) -> AppResult<Option<(State, Rag)>> {
    if let Some(known) = stamp.on(stamper, as_of)? {
        return Ok(Some(known));
    }
    Ok(snapshots
        .get(id)
        .filter(|(made_at, _, _)| *made_at == version)
        .map(|(_, state, rag)| (*state, *rag)))
}

/// The rows of `ids` with their state and RAG on `as_of` derived from their facts and
/// events.
pub(super) fn derive(
    conn: &mut DbConn,
    stamper: &Stamper<'_>,
    ids: &[String],
    as_of: NaiveDate,
) -> AppResult<Vec<(models::Assessment, State, Rag)>> {
    let rows = rag_store::load_by_ids(conn, ids, |q| q)?;
    let events = super::history_store::events_for(conn, &rows.iter().collect::<Vec<_>>(), as_of)?;
    rows.into_iter()
        .map(|a| {
            let (state, rag) = rag_store::state_and_rag(&a, events.get(&a.id).map(Vec::as_slice), stamper, as_of)?;
            Ok((a, state, rag))
        })
        .collect()
}

/// The ids of the IHAs on the list of `as_of` (newly looked after since `window_from`)
/// that nothing stored settles: what a view of that day derives. Every authority's.
pub(super) fn unsettled(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    stamper: &Stamper<'_>,
    as_of: NaiveDate,
    window_from: NaiveDate,
) -> AppResult<Vec<String>> {
    let snapshots = rag_snapshot::on_day(conn, stamper, as_of)?;
    let mut ids = Vec::new();
    for (id, _, _, _, stamp, version) in lean_rows(conn, ctx, as_of, window_from)? {
        if settled(&stamp, &snapshots, stamper, as_of, &id, version)?.is_none() {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The stored p_late of an assessment at `version`, when one of `stamps` holds for it.
fn stored_p_late(stamps: Option<&Stamps>, id: &str, version: i32) -> Option<Option<f64>> {
    stamps
        .and_then(|s| s.get(id))
        .filter(|(v, _)| *v == version)
        .map(|(_, p)| *p)
}

/// Local ids by child id.
fn local_ids(conn: &mut DbConn, child_ids: &[String]) -> AppResult<HashMap<String, String>> {
    let mut found = HashMap::with_capacity(child_ids.len());
    for chunk in child_ids.chunks(900) {
        found.extend(
            children::table
                .filter(children::id.eq_any(chunk))
                .select((children::id, children::local_id))
                .load::<(String, String)>(conn)?,
        );
    }
    Ok(found)
}

/// The page's items in full: the child, the legal status and the open out-of-area request.
fn items(conn: &mut DbConn, ctx: &DomainCtx, entries: Vec<Entry>, as_of: NaiveDate) -> AppResult<Vec<AssuranceItem>> {
    let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
    let rows: HashMap<String, models::Assessment> = rag_store::load_by_ids(conn, &ids, |q| q)?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let child_ids: Vec<&str> = rows.values().map(|a| a.child_id.as_str()).collect();
    let period_ids: Vec<&str> = rows.values().filter_map(|a| a.period_id.as_deref()).collect();
    let kids: HashMap<String, models::Child> = children::table
        .filter(children::id.eq_any(&child_ids))
        .select(models::Child::as_select())
        .load::<models::Child>(conn)?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let legal_status: HashMap<String, String> = periods::table
        .filter(periods::id.eq_any(&period_ids))
        .select((periods::id, periods::legal_status))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let requests: Vec<models::OutOfAreaRequest> =
        super::assessments::requests_open_on(conn, &ids.iter().map(String::as_str).collect::<Vec<_>>(), as_of)?;
    let events = super::history_store::events_for(conn, &rows.values().collect::<Vec<_>>(), as_of)?;
    let mut forecasts = super::forecast::for_rows(conn, ctx, &rows.values().collect::<Vec<_>>(), as_of)?;
    entries
        .iter()
        .map(|e| {
            let a = rows.get(&e.id).ok_or(AppError::NotFound("assessment"))?;
            let child = kids
                .get(&a.child_id)
                .ok_or_else(|| AppError::Internal("assessment without its child".into()))?;
            let request = requests.iter().find(|r| r.assessment_id == a.id);
            let rows = AssessmentRows {
                assessment: a,
                child_local_id: &child.local_id,
                date_of_birth: child.date_of_birth,
                out_of_area: request,
                events: events.get(&a.id).map(Vec::as_slice),
            };
            Ok(AssuranceItem {
                child_id: child.id.clone(),
                local_id: child.local_id.clone(),
                given_name: child.given_name.clone(),
                family_name: child.family_name.clone(),
                date_of_birth: child.date_of_birth,
                age: obligations::age_on(child.date_of_birth, as_of),
                responsible_la: child.responsible_la.clone(),
                social_worker_email: child.social_worker_email.clone(),
                became_looked_after_on: a.clock_started_on,
                legal_status: a.period_id.as_ref().and_then(|p| legal_status.get(p).cloned()),
                out_of_area: request.is_some(),
                host_la: request.and_then(|r| r.host_la.clone()),
                assessment: super::views::AssessmentView {
                    forecast: forecasts.get(&a.id).cloned(),
                    ..assessment_view(&rows, ctx, as_of)?
                },
                forecast: forecasts.remove(&a.id),
            })
        })
        .collect()
}

/// The meeting's filters (the API's query and the page's URL): each narrows the list, and
/// the summary counts what is left.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ListFilters {
    pub la: Option<String>,
    pub rag: Option<Rag>,
    pub blocker: Option<Blocker>,
    pub attribution: Option<Attribution>,
    pub out_of_area: Option<bool>,
    pub has_open_actions: Option<bool>,
    pub likely_late: Option<bool>,
    pub sort: ListSort,
}

impl ListFilters {
    pub fn of(q: &AssuranceQuery) -> ListFilters {
        ListFilters {
            la: q.la.clone(),
            rag: q.rag,
            blocker: q.blocker,
            attribution: q.attribution,
            out_of_area: q.out_of_area,
            has_open_actions: q.has_open_actions,
            likely_late: q.likely_late,
            sort: q.sort.unwrap_or_default(),
        }
    }

    /// The caller's context limited to the chosen authority: no authority at all when it
    /// is outside the caller's scope (so another's children are never listed).
    fn narrow(&self, ctx: &DomainCtx) -> DomainCtx {
        let mut narrowed = ctx.clone();
        if let Some(la) = &self.la {
            let codes = if ctx.scope.allows(la) {
                vec![la.clone()]
            } else {
                Vec::new()
            };
            narrowed.scope = super::Scope::LocalAuthorities(std::sync::Arc::new(codes));
        }
        narrowed
    }

    /// The entries the filters let through. RAG and out of area are known from the first
    /// pass; blocker and attribution are derived, for the entries left, only when asked.
    fn keep(
        &self,
        conn: &mut DbConn,
        ctx: &DomainCtx,
        mut entries: Vec<Entry>,
        as_of: NaiveDate,
    ) -> AppResult<Vec<Entry>> {
        if ctx.scope.codes().is_some_and(<[String]>::is_empty) {
            return Ok(Vec::new());
        }
        entries.retain(|e| self.rag.is_none_or(|r| e.rag == r) && self.out_of_area.is_none_or(|o| e.out_of_area == o));
        if let Some(want) = self.has_open_actions {
            let with = super::meetings::with_open_actions(conn, as_of)?;
            entries.retain(|e| with.contains(&e.id) == want);
        }
        if self.needs_risk() {
            entries = self.with_risk(conn, ctx, entries, as_of)?;
        }
        if self.blocker.is_none() && self.attribution.is_none() {
            return Ok(entries);
        }
        let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
        let rows = rag_store::load_by_ids(conn, &ids, |q| q)?;
        let requests = super::assessments::open_requests(conn, &ids.iter().map(String::as_str).collect::<Vec<_>>())?;
        let mut wanted = HashSet::with_capacity(rows.len());
        for a in &rows {
            let request = requests.iter().find(|r| r.assessment_id == a.id);
            let facts = super::views::row_facts(a, request)?;
            // The date of birth only words RHA explanations; these are IHAs.
            let d = status::derive(&facts, a.clock_started_on, &ctx.calendar, as_of, &ctx.clock);
            if self.blocker.is_none_or(|b| d.blocker == b) && self.attribution.is_none_or(|w| d.breach_attribution == w)
            {
                wanted.insert(a.id.clone());
            }
        }
        entries.retain(|e| wanted.contains(&e.id));
        Ok(entries)
    }
}

impl ListFilters {
    /// Whether the filters or the order need each entry's p_late.
    fn needs_risk(&self) -> bool {
        self.likely_late.is_some() || self.sort == ListSort::LikelyLate
    }

    /// The entries with their forecast p_late (forecast here for those without a stored
    /// one that holds), kept by the `likely_late` filter.
    fn with_risk(
        &self,
        conn: &mut DbConn,
        ctx: &DomainCtx,
        mut entries: Vec<Entry>,
        as_of: NaiveDate,
    ) -> AppResult<Vec<Entry>> {
        // A closed assessment has no forecast: only the open ones without a stored one
        // are forecast here.
        for e in entries.iter_mut().filter(|e| !e.state.is_open()) {
            e.p_late = Some(None);
        }
        let unknown: Vec<String> = entries
            .iter()
            .filter(|e| e.p_late.is_none())
            .map(|e| e.id.clone())
            .collect();
        let found = forecast_stamp::live(conn, ctx, &unknown, as_of)?;
        for e in entries.iter_mut().filter(|e| e.p_late.is_none()) {
            e.p_late = Some(found.get(&e.id).copied().flatten());
        }
        if let Some(want) = self.likely_late {
            entries.retain(|e| e.p_late.flatten().is_some_and(|p| p >= 0.5) == want);
        }
        Ok(entries)
    }
}

/// What moved since the meeting a week before `as_of`, within the same filters.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingChanges {
    pub as_of: NaiveDate,
    /// The previous meeting's date (a week before).
    pub since: NaiveDate,
    /// On the list now, not on the previous one.
    pub new: Vec<ChangedItem>,
    /// On both, with another RAG.
    pub rag_changed: Vec<ChangedItem>,
    /// Completed after the previous meeting, on or before `as_of`.
    pub completed: Vec<ChangedItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangedItem {
    pub assessment_id: String,
    pub child_id: String,
    pub local_id: String,
    pub initials: String,
    pub responsible_la: String,
    pub rag: Rag,
    /// The RAG at the previous meeting, when the item was on its list.
    pub previous_rag: Option<Rag>,
    pub completed_on: Option<NaiveDate>,
}

/// Changes since the previous meeting: the two lists compared, and the IHAs completed
/// in between (listed when they were on either list).
pub fn changes_since_last_meeting(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    as_of: NaiveDate,
    weeks: u32,
    filters: &ListFilters,
) -> AppResult<MeetingChanges> {
    let since = as_of - chrono::Duration::weeks(1);
    let window = chrono::Duration::weeks(i64::from(weeks));
    let narrowed = filters.narrow(ctx);
    let ctx = &narrowed;
    let stamper = Stamper::for_ctx(ctx);
    ctx.read_audited(
        conn,
        |conn| {
            let now = entries(conn, ctx, &stamper, as_of, as_of - window, None)?;
            let now = filters.keep(conn, ctx, now, as_of)?;
            let before = entries(conn, ctx, &stamper, since, since - window, None)?;
            let before = filters.keep(conn, ctx, before, since)?;
            let previous: HashMap<&str, Rag> = before.iter().map(|e| (e.id.as_str(), e.rag)).collect();
            let completed_on = completed_between(conn, since, as_of)?;
            let rag_now: HashMap<&str, Rag> = now.iter().map(|e| (e.id.as_str(), e.rag)).collect();
            let mut picked: Vec<(&Entry, u8)> = Vec::new();
            for e in &now {
                match previous.get(e.id.as_str()) {
                    None => picked.push((e, 0)),
                    Some(r) if *r != e.rag => picked.push((e, 1)),
                    _ => {}
                }
            }
            for e in now
                .iter()
                .chain(before.iter().filter(|e| !rag_now.contains_key(e.id.as_str())))
            {
                if completed_on.contains_key(&e.id) {
                    picked.push((e, 2));
                }
            }
            let child_ids: Vec<String> = picked.iter().map(|(e, _)| e.child_id.clone()).collect();
            let kids = child_labels(conn, &child_ids)?;
            let mut out = MeetingChanges {
                as_of,
                since,
                new: Vec::new(),
                rag_changed: Vec::new(),
                completed: Vec::new(),
            };
            for (e, which) in picked {
                let Some((local_id, initials, la)) = kids.get(&e.child_id) else {
                    continue;
                };
                let item = ChangedItem {
                    assessment_id: e.id.clone(),
                    child_id: e.child_id.clone(),
                    local_id: local_id.clone(),
                    initials: initials.clone(),
                    responsible_la: la.clone(),
                    rag: rag_now.get(e.id.as_str()).copied().unwrap_or(e.rag),
                    previous_rag: previous.get(e.id.as_str()).copied(),
                    completed_on: completed_on.get(&e.id).copied(),
                };
                match which {
                    0 => out.new.push(item),
                    1 => out.rag_changed.push(item),
                    _ => out.completed.push(item),
                }
            }
            for list in [&mut out.new, &mut out.rag_changed, &mut out.completed] {
                list.sort_by(|a, b| (&a.local_id, &a.assessment_id).cmp(&(&b.local_id, &b.assessment_id)));
            }
            Ok(out)
        },
        |_| AuditEvent::ok("list", "assurance_changes", None, None),
    )
}

/// The day each IHA completed after `since`, up to `until`, of every authority: one walk
/// of the index on the completion date, cheaper than asking for the ids of both lists.
fn completed_between(conn: &mut DbConn, since: NaiveDate, until: NaiveDate) -> AppResult<HashMap<String, NaiveDate>> {
    let q = assessments::table
        .filter(assessments::completed_on.gt(since))
        .filter(assessments::completed_on.le(until))
        .select((assessments::id, assessments::completed_on.assume_not_null()))
        .into_boxed();
    // On SQLite the kind must not lead: the index on (kind, due_on) would walk every IHA.
    let q = if steers_planner(conn) {
        q.filter(no_index(assessments::kind).eq(Kind::Iha.as_str()))
    } else {
        q.filter(assessments::kind.eq(Kind::Iha.as_str()))
    };
    Ok(q.load::<(String, NaiveDate)>(conn)?.into_iter().collect())
}

/// Local id, initials and responsible authority by child id.
fn child_labels(conn: &mut DbConn, child_ids: &[String]) -> AppResult<HashMap<String, (String, String, String)>> {
    let mut found = HashMap::with_capacity(child_ids.len());
    for chunk in child_ids.chunks(900) {
        let rows = children::table
            .filter(children::id.eq_any(chunk))
            .select((
                children::id,
                children::local_id,
                children::given_name,
                children::family_name,
                children::responsible_la,
            ))
            .load::<(String, String, String, String, String)>(conn)?;
        for (id, local_id, given, family, la) in rows {
            found.insert(id, (local_id, crate::escalation::initials(&given, &family), la));
        }
    }
    Ok(found)
}
