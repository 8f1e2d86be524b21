//! Published KPI figures over the database (issue 12): publishing a month freezes every
//! measure's figure and the children behind it; later reads show the published figure
//! beside the one computed now, and the children whose outcome changed (a restatement,
//! [`crate::kpi::restate`]).
//!
//! Rules (when a month may be published: [`crate::kpi::check_publishable`]):
//! - A publication covers the caller's scope narrowed by `la`, exactly as the KPI report
//!   scopes a read ([`kpi_report::scope_codes`]); publishing an authority outside it
//!   covers nothing and is refused (422).
//! - One publication per month and scope, held by a UNIQUE constraint on both databases:
//!   a second publish (or one that lost a race) is refused with 409. A publication is never
//!   changed or withdrawn.
//! - What is frozen is what the report computed at that moment, stored row by row, so the
//!   published figure is read back exactly, whatever is recorded later.
//! - A user sees a publication only when every authority it covers is in their scope: an
//!   LA's staff never see the ICB's or another authority's publication.
//! - Publishing is a write on the audit trail; reading publications and restatements is an
//!   audited read, like the report.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::kpi_report::{self, Detail, Span};
use super::DomainCtx;
use crate::audit::AuditEvent;
use crate::db::models::{new_id, now_utc};
use crate::db::schema::*;
use crate::db::{read_transaction, write_transaction, DbConn};
use crate::error::{on_unique_violation, AppError, AppResult};
use crate::kpi::{self, ChildFacts, Entry, Figure, Measure, Month};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = kpi_publications)]
struct PublicationRow {
    id: String,
    month: String,
    scope: String,
    provisional: i32,
    published_by: Option<String>,
    published_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = kpi_published_figures)]
struct FigureRow {
    publication_id: String,
    measure: String,
    numerator: i32,
    denominator: i32,
    provisional: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = kpi_published_entries)]
struct EntryRow {
    publication_id: String,
    measure: String,
    position: i32,
    child_id: String,
    local_id: String,
    local_authority: String,
    assessment_id: Option<String>,
    due_on: Option<chrono::NaiveDate>,
    done_on: Option<chrono::NaiveDate>,
    outcome: String,
    reason: Option<String>,
    attribution: Option<String>,
    out_of_area: i32,
    beside: i32,
}

/// A month's figures as published.
#[derive(Debug, Serialize, ToSchema)]
pub struct Publication {
    pub id: String,
    /// YYYY-MM.
    pub month: String,
    /// The local authorities it covers (`*`: everything, published from the command line).
    pub local_authorities: Vec<String>,
    /// Some outcome was still to come when it was published.
    pub provisional: bool,
    /// Who published it (their email).
    pub published_by: Option<String>,
    /// When (UTC, ISO 8601).
    pub published_at: String,
    pub figures: Vec<PublishedMeasure>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublishedMeasure {
    pub measure: String,
    pub numerator: usize,
    pub denominator: usize,
    pub percent: Option<f64>,
    pub provisional: bool,
}

/// `GET /reports/kpi/publications`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicationList {
    /// Newest month first.
    pub publications: Vec<Publication>,
}

/// `GET /reports/kpi/{measure}/{month}/restatement`: the published figure, the figure now,
/// and each child whose outcome changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestatementView {
    pub measure: String,
    pub title: String,
    /// YYYY-MM.
    pub month: String,
    pub published_at: String,
    pub published: Counts,
    pub current: Counts,
    pub children: Vec<ChangedChild>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Counts {
    pub numerator: usize,
    pub denominator: usize,
    pub percent: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangedChild {
    pub child_id: String,
    pub local_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment_id: Option<String>,
    /// met, missed or pending as published; null when the child was not in the cohort.
    pub before: Option<String>,
    /// met, missed or pending now; null when the child has left the cohort.
    pub after: Option<String>,
}

/// Publishes `month` for the caller's scope narrowed to `las`.
pub fn publish(conn: &mut DbConn, ctx: &DomainCtx, month: Month, las: &[String]) -> AppResult<Publication> {
    kpi::check_publishable(month, ctx.today).map_err(|e| AppError::invalid("month", e.to_string()))?;
    let codes = kpi_report::scope_codes(ctx, las);
    if codes.as_ref().is_some_and(Vec::is_empty) {
        return Err(AppError::invalid("la", "names no local authority you may report on"));
    }
    let scope = kpi::scope_key(codes.as_deref());
    let refused = || AppError::Conflict(format!("{month} is already published for these local authorities"));
    // Read (and compute) first, so that the write lock is held only for the inserts.
    let children = read_transaction(conn, |conn| {
        kpi_report::load(conn, ctx, las, Span::months(month, month), Detail::Causes)
    })?;
    let figures: Vec<Figure> = Measure::ALL
        .into_iter()
        .map(|m| kpi::figure(m, month, &children, ctx.today))
        .collect();
    let row = PublicationRow {
        id: new_id(),
        month: month.to_string(),
        scope,
        provisional: i32::from(figures.iter().any(|f| f.provisional)),
        published_by: ctx.actor.email.clone(),
        published_at: now_utc(),
    };
    write_transaction(conn, |conn| {
        let there: i64 = kpi_publications::table
            .filter(kpi_publications::month.eq(&row.month))
            .filter(kpi_publications::scope.eq(&row.scope))
            .count()
            .get_result(conn)?;
        if there > 0 {
            return Err(refused());
        }
        on_unique_violation(
            diesel::insert_into(kpi_publications::table).values(&row).execute(conn),
            refused,
        )?;
        store_figures(conn, &row.id, &figures)?;
        ctx.audit(
            conn,
            AuditEvent::ok("publish", "kpi_publication", Some(&row.id), None).with_changes(None, Some(&row)),
        )
    })?;
    Ok(view(&row, &figures))
}

fn store_figures(conn: &mut DbConn, publication_id: &str, figures: &[Figure]) -> QueryResult<()> {
    let counts: Vec<FigureRow> = figures
        .iter()
        .map(|f| FigureRow {
            publication_id: publication_id.to_string(),
            measure: f.measure.as_str().to_string(),
            numerator: count(f.numerator),
            denominator: count(f.denominator),
            provisional: i32::from(f.provisional),
        })
        .collect();
    let entries: Vec<EntryRow> = figures
        .iter()
        .flat_map(|f| {
            let listed = f.entries.iter().map(|e| (e, false));
            let beside = f.beside.iter().map(|e| (e, true));
            listed
                .chain(beside)
                .enumerate()
                .map(move |(i, (e, beside))| entry_row(publication_id, f.measure, i, e, beside))
        })
        .collect();
    // Six figures; 14 parameters an entry.
    crate::db::insert_batches!(conn, kpi_published_figures::table, counts, 500);
    crate::db::insert_batches!(conn, kpi_published_entries::table, entries, 500);
    Ok(())
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// An enum's snake_case name, as the API writes it.
fn code<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn parse_code<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> AppResult<T> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|_| AppError::Internal(format!("unreadable {column} value stored")))
}

fn entry_row(publication_id: &str, measure: Measure, position: usize, e: &Entry, beside: bool) -> EntryRow {
    EntryRow {
        publication_id: publication_id.to_string(),
        measure: measure.as_str().to_string(),
        position: count(position),
        child_id: e.child_id.clone(),
        local_id: e.local_id.clone(),
        local_authority: e.local_authority.clone(),
        assessment_id: e.assessment_id.clone(),
        due_on: e.due_on,
        done_on: e.done_on,
        outcome: code(e.outcome),
        reason: e.reason.map(code),
        attribution: e.attribution.map(code),
        out_of_area: i32::from(e.out_of_area),
        beside: i32::from(beside),
    }
}

fn entry(row: &EntryRow) -> AppResult<Entry> {
    Ok(Entry {
        child_id: row.child_id.clone(),
        local_id: row.local_id.clone(),
        local_authority: row.local_authority.clone(),
        assessment_id: row.assessment_id.clone(),
        due_on: row.due_on,
        done_on: row.done_on,
        outcome: parse_code("outcome", &row.outcome)?,
        reason: row.reason.as_deref().map(|r| parse_code("reason", r)).transpose()?,
        attribution: row
            .attribution
            .as_deref()
            .map(|a| parse_code("attribution", a))
            .transpose()?,
        out_of_area: row.out_of_area != 0,
    })
}

fn view(row: &PublicationRow, figures: &[Figure]) -> Publication {
    Publication {
        id: row.id.clone(),
        month: row.month.clone(),
        local_authorities: row.scope.split(',').map(str::to_string).collect(),
        provisional: row.provisional != 0,
        published_by: row.published_by.clone(),
        published_at: timestamp(row.published_at),
        figures: figures
            .iter()
            .map(|f| PublishedMeasure {
                measure: f.measure.as_str().to_string(),
                numerator: f.numerator,
                denominator: f.denominator,
                percent: f.percent,
                provisional: f.provisional,
            })
            .collect(),
    }
}

fn timestamp(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Every authority the publication covers is in the caller's scope.
fn visible(ctx: &DomainCtx, row: &PublicationRow) -> bool {
    match ctx.scope.codes() {
        None => true,
        Some(_) if row.scope == "*" => false,
        Some(_) => row.scope.split(',').all(|la| ctx.scope.allows(la)),
    }
}

/// The figures of the publications `rows`, read back exactly as stored.
fn figures_of(conn: &mut DbConn, rows: &[PublicationRow]) -> AppResult<Vec<(String, Figure)>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let counts: Vec<FigureRow> = kpi_published_figures::table
        .filter(kpi_published_figures::publication_id.eq_any(&ids))
        .select(FigureRow::as_select())
        .load(conn)?;
    let entries: Vec<EntryRow> = kpi_published_entries::table
        .filter(kpi_published_entries::publication_id.eq_any(&ids))
        .order((
            kpi_published_entries::publication_id,
            kpi_published_entries::measure,
            kpi_published_entries::position,
        ))
        .select(EntryRow::as_select())
        .load(conn)?;
    let mut out = Vec::with_capacity(counts.len());
    for c in counts {
        let Some(publication) = rows.iter().find(|r| r.id == c.publication_id) else {
            continue;
        };
        let measure: Measure = c
            .measure
            .parse()
            .map_err(|()| AppError::Internal("unreadable measure value stored".into()))?;
        let month = Month::parse(&publication.month).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut figure = Figure {
            measure,
            month,
            numerator: usize::try_from(c.numerator).unwrap_or(0),
            denominator: usize::try_from(c.denominator).unwrap_or(0),
            percent: kpi::percent(
                usize::try_from(c.numerator).unwrap_or(0),
                usize::try_from(c.denominator).unwrap_or(0),
            ),
            target: kpi::TARGET_PERCENT,
            provisional: c.provisional != 0,
            entries: vec![],
            beside: vec![],
        };
        for e in entries
            .iter()
            .filter(|e| e.publication_id == c.publication_id && e.measure == c.measure)
        {
            if e.beside != 0 {
                &mut figure.beside
            } else {
                &mut figure.entries
            }
            .push(entry(e)?);
        }
        out.push((c.publication_id, figure));
    }
    Ok(out)
}

/// The publications of `months` for the scope `las` asks for.
fn publications_for(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    las: &[String],
    months: &[Month],
) -> AppResult<Vec<PublicationRow>> {
    let scope = kpi::scope_key(kpi_report::scope_codes(ctx, las).as_deref());
    let months: Vec<String> = months.iter().map(Month::to_string).collect();
    Ok(kpi_publications::table
        .filter(kpi_publications::scope.eq(scope))
        .filter(kpi_publications::month.eq_any(months))
        .select(PublicationRow::as_select())
        .load(conn)?)
}

/// For each published month of `months` (scope `las`), each measure's published figure
/// beside the figure computed now from `children` (read for those months). Runs inside
/// the report's audited read.
pub fn compare(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    las: &[String],
    months: &[Month],
    children: &[ChildFacts],
) -> AppResult<Vec<(Measure, Month, kpi_report::PublishedFigure)>> {
    let rows = publications_for(conn, ctx, las, months)?;
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let mut out = Vec::new();
    for (id, published) in figures_of(conn, &rows)? {
        let at = rows.iter().find(|r| r.id == id).map(|r| r.published_at);
        let current = kpi::figure(published.measure, published.month, children, ctx.today);
        let changes = kpi::restate(&published, &current).changes.len();
        out.push((
            published.measure,
            published.month,
            kpi_report::PublishedFigure {
                numerator: published.numerator,
                denominator: published.denominator,
                percent: published.percent,
                provisional: published.provisional,
                published_at: at.map(timestamp).unwrap_or_default(),
                changed: changes,
            },
        ));
    }
    Ok(out)
}

/// Every publication the caller may see, newest month first.
pub fn list(conn: &mut DbConn, ctx: &DomainCtx) -> AppResult<PublicationList> {
    ctx.read_audited(
        conn,
        |conn| {
            let rows: Vec<PublicationRow> = kpi_publications::table
                .order((kpi_publications::month.desc(), kpi_publications::scope))
                .select(PublicationRow::as_select())
                .load(conn)?;
            let rows: Vec<PublicationRow> = rows.into_iter().filter(|r| visible(ctx, r)).collect();
            let figures = figures_of(conn, &rows)?;
            let publications = rows
                .iter()
                .map(|row| {
                    let mine: Vec<Figure> = Measure::ALL
                        .into_iter()
                        .filter_map(|m| {
                            figures
                                .iter()
                                .find(|(id, f)| *id == row.id && f.measure == m)
                                .map(|(_, f)| f.clone())
                        })
                        .collect();
                    view(row, &mine)
                })
                .collect();
            Ok(PublicationList { publications })
        },
        |_| AuditEvent::ok("report", "kpi_publications", None, None),
    )
}

/// The children whose outcome in `measure` for `month` changed since it was published for
/// the scope `las` asks for. 404 when that month was not published for that scope.
pub fn restatement(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    measure: Measure,
    month: Month,
    las: &[String],
) -> AppResult<RestatementView> {
    let (row, published, current) = ctx.read_audited(
        conn,
        |conn| {
            let row = publications_for(conn, ctx, las, &[month])?
                .into_iter()
                .next()
                .ok_or(AppError::NotFound("publication"))?;
            let published = figures_of(conn, std::slice::from_ref(&row))?
                .into_iter()
                .map(|(_, f)| f)
                .find(|f| f.measure == measure)
                .ok_or(AppError::NotFound("publication"))?;
            let children = kpi_report::load(conn, ctx, las, Span::months(month, month), Detail::Outcomes)?;
            Ok((row, published, kpi::figure(measure, month, &children, ctx.today)))
        },
        |_| AuditEvent::ok("report", "kpi_restatement", None, None),
    )?;
    let restated = kpi::restate(&published, &current);
    let local_id = |child: &str| {
        published
            .entries
            .iter()
            .chain(&current.entries)
            .find(|e| e.child_id == child)
            .map(|e| e.local_id.clone())
            .unwrap_or_default()
    };
    let counts = |f: &Figure| Counts {
        numerator: f.numerator,
        denominator: f.denominator,
        percent: f.percent,
    };
    Ok(RestatementView {
        measure: measure.as_str().to_string(),
        title: measure.title().to_string(),
        month: month.to_string(),
        published_at: timestamp(row.published_at),
        published: counts(&published),
        current: counts(&current),
        children: restated
            .changes
            .into_iter()
            .map(|c| ChangedChild {
                local_id: local_id(&c.child_id),
                child_id: c.child_id,
                assessment_id: c.assessment_id,
                before: c.before.map(code),
                after: c.after.map(code),
            })
            .collect(),
    })
}
