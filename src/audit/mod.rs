//! The audit trail: every look at a child's record and every change, who did it, from
//! where, and the before/after of changed fields. Each entry carries the hash of the
//! previous one. A change's entry is written in the same transaction as the change. A
//! read's entry is handed to the process's group-commit appender (`group`, whose doc
//! says why), which appends the entries of many reads in one short transaction; the
//! answer is sent only once its entry has committed (`DomainCtx::read_audited`). Who may
//! read which entries, and the export: `service::reach` and `service::audit_trail`.

pub mod chain;
pub mod group;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::models::{now_utc, AuditRow};
use crate::db::schema::audit_log;
use crate::db::DbConn;
use crate::paging::Page;

/// Serialises audit appends on PostgreSQL; SQLite's write transactions already are.
const AUDIT_LOCK_KEY: i64 = 0x00C1_A7AC_0A0D;

/// Who is acting: a signed-in user, or the system itself (CLI, background work).
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub role: Option<String>,
    pub client_address: Option<String>,
}

impl Actor {
    pub fn system(what: &str) -> Actor {
        Actor {
            user_id: None,
            email: Some(format!("system:{what}")),
            role: None,
            client_address: None,
        }
    }
}

/// What happened.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<&'a str>,
    pub child_id: Option<&'a str>,
    pub outcome: &'a str,
    pub changes: Option<String>,
}

impl<'a> AuditEvent<'a> {
    pub fn ok(
        action: &'a str,
        entity: &'a str,
        entity_id: Option<&'a str>,
        child_id: Option<&'a str>,
    ) -> AuditEvent<'a> {
        AuditEvent {
            action,
            entity,
            entity_id,
            child_id,
            outcome: "ok",
            changes: None,
        }
    }

    /// Records the fields that differ between two versions of a row (either may be absent).
    pub fn with_changes<T: Serialize>(mut self, before: Option<&T>, after: Option<&T>) -> AuditEvent<'a> {
        let as_json =
            |v: Option<&T>| v.map_or(serde_json::Value::Null, |v| serde_json::to_value(v).unwrap_or_default());
        self.changes = chain::diff(&as_json(before), &as_json(after));
        self
    }
}

/// An entry as handed to the trail: everything but its place in the chain (`seq`,
/// `prev_hash`) and its time, which are given when it is appended.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub role: Option<String>,
    pub client_address: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub child_id: Option<String>,
    pub outcome: String,
    pub changes: Option<String>,
}

impl NewEntry {
    pub fn new(actor: &Actor, event: AuditEvent<'_>) -> NewEntry {
        NewEntry {
            user_id: actor.user_id.clone(),
            user_email: actor.email.clone(),
            role: actor.role.clone(),
            client_address: actor.client_address.clone(),
            action: event.action.to_string(),
            entity: event.entity.to_string(),
            entity_id: event.entity_id.map(str::to_string),
            child_id: event.child_id.map(str::to_string),
            outcome: event.outcome.to_string(),
            changes: event.changes,
        }
    }
}

/// Appends one entry. Call inside a write transaction: the entry commits or rolls back
/// with the change it records.
pub fn record(conn: &mut DbConn, actor: &Actor, event: AuditEvent<'_>) -> QueryResult<i64> {
    let seqs = append(conn, &[&NewEntry::new(actor, event)])?;
    Ok(seqs.first().copied().unwrap_or_default())
}

/// Appends entries in order after the chain's head, and returns their `seq`s. Call
/// inside a write transaction. On PostgreSQL it takes the chain's advisory lock (held to
/// the end of the transaction); SQLite's write transactions are already serial. Each
/// entry is stamped here, under the lock, so times rise with `seq`.
pub fn append(conn: &mut DbConn, entries: &[&NewEntry]) -> QueryResult<Vec<i64>> {
    if conn.is_postgres() {
        conn.batch_execute(&format!("SELECT pg_advisory_xact_lock({AUDIT_LOCK_KEY})"))?;
    }
    let last: Option<(i64, String)> = audit_log::table
        .order(audit_log::seq.desc())
        .select((audit_log::seq, audit_log::hash))
        .first(conn)
        .optional()?;
    let (mut seq, mut prev_hash) = last.unwrap_or((0, chain::GENESIS.to_string()));
    let occurred_at = now_utc();
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        seq += 1;
        let entry = chain::Entry {
            seq,
            occurred_at,
            user_id: e.user_id.clone(),
            user_email: e.user_email.clone(),
            role: e.role.clone(),
            client_address: e.client_address.clone(),
            action: e.action.clone(),
            entity: e.entity.clone(),
            entity_id: e.entity_id.clone(),
            child_id: e.child_id.clone(),
            outcome: e.outcome.clone(),
            changes: e.changes.clone(),
            prev_hash,
        };
        let hash = chain::entry_hash(&entry);
        prev_hash = hash.clone();
        rows.push(to_row(entry, hash));
    }
    // 14 parameters a row (SQLite allows 32,766 a statement).
    crate::db::insert_batches!(conn, audit_log::table, rows, INSERT_CHUNK);
    Ok(rows.iter().map(|r| r.seq).collect())
}

/// Rows per INSERT statement.
const INSERT_CHUNK: usize = 500;

fn to_row(e: chain::Entry, hash: String) -> AuditRow {
    AuditRow {
        seq: e.seq,
        occurred_at: e.occurred_at,
        user_id: e.user_id,
        user_email: e.user_email,
        role: e.role,
        client_address: e.client_address,
        action: e.action,
        entity: e.entity,
        entity_id: e.entity_id,
        child_id: e.child_id,
        outcome: e.outcome,
        changes: e.changes,
        prev_hash: e.prev_hash,
        hash,
    }
}

fn to_entry(r: &AuditRow) -> chain::Entry {
    chain::Entry {
        seq: r.seq,
        occurred_at: r.occurred_at,
        user_id: r.user_id.clone(),
        user_email: r.user_email.clone(),
        role: r.role.clone(),
        client_address: r.client_address.clone(),
        action: r.action.clone(),
        entity: r.entity.clone(),
        entity_id: r.entity_id.clone(),
        child_id: r.child_id.clone(),
        outcome: r.outcome.clone(),
        changes: r.changes.clone(),
        prev_hash: r.prev_hash.clone(),
    }
}

/// Walks the whole trail in order, a page at a time, and reports the first break.
pub fn verify(conn: &mut DbConn) -> QueryResult<Result<i64, chain::Break>> {
    const PAGE: i64 = 5000;
    let mut verifier = chain::Verifier::new();
    let mut after = 0i64;
    loop {
        let rows: Vec<AuditRow> = audit_log::table
            .filter(audit_log::seq.gt(after))
            .order(audit_log::seq.asc())
            .limit(PAGE)
            .select(AuditRow::as_select())
            .load(conn)?;
        for r in &rows {
            if let Err(b) = verifier.push(&to_entry(r), &r.hash) {
                return Ok(Err(b));
            }
        }
        match rows.last() {
            Some(r) if rows.len() as i64 == PAGE => after = r.seq,
            _ => return Ok(Ok(verifier.checked())),
        }
    }
}

/// One entry as shown to admins and assurance users.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccessEntry {
    pub seq: i64,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub user_email: Option<String>,
    pub role: Option<String>,
    pub client_address: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub outcome: String,
}

/// Who looked at or changed a child's record, newest first: one page, and how many
/// entries there are in all. The caller checks that the child is in scope
/// (`service::audit_trail::access_history`).
pub fn access_history(
    conn: &mut DbConn,
    child_id: &str,
    limit: usize,
    offset: usize,
) -> QueryResult<Page<AccessEntry>> {
    let total: i64 = audit_log::table
        .filter(audit_log::child_id.eq(child_id))
        .count()
        .get_result(conn)?;
    let rows: Vec<AuditRow> = audit_log::table
        .filter(audit_log::child_id.eq(child_id))
        .order(audit_log::seq.desc())
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .offset(i64::try_from(offset).unwrap_or(i64::MAX))
        .select(AuditRow::as_select())
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(|r| AccessEntry {
            seq: r.seq,
            occurred_at: r.occurred_at.and_utc(),
            user_email: r.user_email,
            role: r.role,
            client_address: r.client_address,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            outcome: r.outcome,
        })
        .collect();
    Ok(Page::new(items, usize::try_from(total).unwrap_or(0), limit, offset))
}

/// The export's first line.
pub const CSV_HEADER: &str = "seq,occurred_at,user_id,user_email,role,client_address,action,entity,entity_id,child_id,outcome,changes,prev_hash,hash\n";

/// One entry as a line of the export (RFC 4180 quoting, formulas defused), with its newline.
pub fn csv_line(r: &AuditRow) -> String {
    let fields = [
        r.seq.to_string(),
        r.occurred_at.and_utc().to_rfc3339(),
        r.user_id.clone().unwrap_or_default(),
        r.user_email.clone().unwrap_or_default(),
        r.role.clone().unwrap_or_default(),
        r.client_address.clone().unwrap_or_default(),
        r.action.clone(),
        r.entity.clone(),
        r.entity_id.clone().unwrap_or_default(),
        r.child_id.clone().unwrap_or_default(),
        r.outcome.clone(),
        r.changes.clone().unwrap_or_default(),
        r.prev_hash.clone(),
        r.hash.clone(),
    ];
    let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    format!("{}\n", line.join(","))
}

/// Quotes a field when needed, and defuses spreadsheet formulas (a cell starting with
/// = + - @ is prefixed with a quote mark), since the export will be opened in Excel.
pub fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
    }
}
