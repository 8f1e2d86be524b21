//! Reading the audit trail: a child's access history and the CSV export, each limited to
//! the entries the caller reaches (`service::reach`, "Audit entries").
//!
//! Rules:
//! - The access history is a look at the child's record: answered only for a child the
//!   caller reaches (404 otherwise, like an unknown id), and itself audited.
//! - The export is audited with one entry, committed before the first byte is sent. It
//!   holds the entries stamped in the range that the caller reaches, oldest first, up to
//!   and including its own entry (later ones belong to the next export).
//! - It is streamed a page at a time: `PAGE` entries after the last one sent (keyset on
//!   `seq`), each page one short read on a pooled connection, so memory stays bounded
//!   and no transaction lasts the whole export.
//! - The pages start and stop by `seq`, found by bisection, not by reading the trail from
//!   its beginning: entries are appended one at a time under the chain's lock and stamped
//!   as they are, so `occurred_at` rises with `seq` except where clocks disagree (two
//!   instances, a clock stepped back) by far less than `CLOCK_SLACK_MINUTES`. Every entry
//!   before the first one stamped at or after `from - slack` was stamped before `from`;
//!   every entry from the first one stamped at or after `to + slack` on, at or after `to`.
//! - CSV as `audit::csv_line` writes it: RFC 4180 quoting, formulas defused.

use std::io::Write;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::reach::Reach;
use super::DomainCtx;
use crate::audit::{self, AccessEntry, AuditEvent};
use crate::db::models::AuditRow;
use crate::db::schema::{audit_log, children, users};
use crate::db::{write_transaction, DbConn};
use crate::error::AppResult;
use crate::paging::Page;

/// Entries per page of the export.
pub const PAGE: i64 = 1000;

/// Far more than any two clocks stamping entries disagree by (see the module rules).
const CLOCK_SLACK_MINUTES: i64 = 60;

/// Who looked at or changed a child's record, newest first (see the module rules).
pub fn access_history(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    child_id: &str,
    limit: usize,
    offset: usize,
) -> AppResult<Page<AccessEntry>> {
    let (_, history) = ctx.read_audited(
        conn,
        |conn| {
            let child = super::children::load_visible(conn, ctx, child_id)?;
            let history = audit::access_history(conn, &child.id, limit, offset)?;
            Ok((child.id, history))
        },
        // Reading who looked is itself a look at the child's record.
        |(id, _)| AuditEvent::ok("read_access_history", "child", Some(id), Some(id)),
    )?;
    Ok(history)
}

/// What an export covers: entries stamped in `from .. to` with `seq` in `first ..= last`.
#[derive(Debug, Clone)]
pub struct ExportRange {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub first: i64,
    pub last: i64,
}

/// Puts the export on record and works out its range of entries (see the module rules).
pub fn start_export(
    conn: &mut DbConn,
    ctx: &DomainCtx,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> AppResult<ExportRange> {
    let own = write_transaction(conn, |conn| {
        audit::record(conn, &ctx.actor, AuditEvent::ok("export", "audit_log", None, None))
    })?;
    Ok(range(conn, from, to, own)?)
}

/// The range of entries stamped in `from .. to`, up to `seq` `last`.
fn range(conn: &mut DbConn, from: NaiveDateTime, to: NaiveDateTime, last: i64) -> QueryResult<ExportRange> {
    let slack = chrono::Duration::minutes(CLOCK_SLACK_MINUTES);
    let first = first_stamped_from(conn, from - slack, last)?;
    let after_to = first_stamped_from(conn, to + slack, last)?;
    Ok(ExportRange {
        from,
        to,
        first,
        last: last.min(after_to - 1),
    })
}

/// The least `seq` (at most `last + 1`) whose entry, or the next one after it, is stamped
/// at or after `at`: a bisection of primary-key lookups.
fn first_stamped_from(conn: &mut DbConn, at: NaiveDateTime, last: i64) -> QueryResult<i64> {
    let (mut low, mut high) = (0i64, last + 1);
    while low < high {
        let mid = low + (high - low) / 2;
        let stamped: Option<NaiveDateTime> = audit_log::table
            .filter(audit_log::seq.ge(mid))
            .order(audit_log::seq.asc())
            .select(audit_log::occurred_at)
            .first(conn)
            .optional()?;
        match stamped {
            Some(t) if t < at => low = mid + 1,
            _ => high = mid,
        }
    }
    Ok(low)
}

/// Up to `PAGE` entries of the export after `seq` `after`, oldest first: those `reach`
/// reaches (`service::reach`, "Audit entries"). Each entry's child and acting user are
/// looked up by key (a join), so a page costs the same however many children the caller
/// reaches.
pub fn export_page(conn: &mut DbConn, reach: &Reach, range: &ExportRange, after: i64) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit_log::table
        .left_join(children::table.on(children::id.nullable().eq(audit_log::child_id)))
        .left_join(users::table.on(users::id.nullable().eq(audit_log::user_id)))
        .filter(audit_log::seq.gt(after.max(range.first - 1)))
        .filter(audit_log::seq.le(range.last))
        .filter(audit_log::occurred_at.ge(range.from))
        .filter(audit_log::occurred_at.lt(range.to))
        .select(AuditRow::as_select())
        .into_boxed();
    if let Some(codes) = reach.children.codes() {
        let orgs = reach.organisations().unwrap_or_default();
        let about_a_child_reached = audit_log::child_id
            .is_not_null()
            .and(children::responsible_la.nullable().eq_any(codes.to_vec()));
        let by_a_user_reached = audit_log::child_id
            .is_null()
            .and(users::organisation_id.nullable().eq_any(orgs.to_vec()));
        let by_nobody = audit_log::child_id
            .is_null()
            .and(audit_log::user_id.is_null())
            .and(reach.oversees().into_sql::<Bool>());
        query = query.filter(about_a_child_reached.or(by_a_user_reached).or(by_nobody.nullable()));
    }
    query.order(audit_log::seq.asc()).limit(PAGE).load(conn)
}

/// The `seq` to read the next page after, if `page` was a full one.
pub fn next_after(page: &[AuditRow]) -> Option<i64> {
    page.last().filter(|_| page.len() as i64 == PAGE).map(|r| r.seq)
}

/// Every entry stamped in `from .. to`, as CSV, for the command line (which reaches
/// everything and writes no entry of its own). Returns how many were written.
pub fn export_csv(conn: &mut DbConn, from: NaiveDateTime, to: NaiveDateTime, out: &mut impl Write) -> AppResult<usize> {
    let last: Option<i64> = audit_log::table.select(diesel::dsl::max(audit_log::seq)).first(conn)?;
    let range = range(conn, from, to, last.unwrap_or(0))?;
    let reach = Reach::everything();
    let io = |e: std::io::Error| crate::error::AppError::Internal(format!("cannot write the export: {e}"));
    out.write_all(audit::CSV_HEADER.as_bytes()).map_err(io)?;
    let (mut after, mut written) = (range.first - 1, 0);
    loop {
        let page = export_page(conn, &reach, &range, after)?;
        for r in &page {
            out.write_all(audit::csv_line(r).as_bytes()).map_err(io)?;
        }
        written += page.len();
        match next_after(&page) {
            Some(seq) => after = seq,
            None => return Ok(written),
        }
    }
}
