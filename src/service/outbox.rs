//! The outbox: mail is written in the transaction that decides to send it, and a sender
//! delivers it afterwards over SMTP, so a slow or unreachable relay never blocks a request
//! and a crash never loses a message.
//!
//! Life of a row: `pending` -> claimed as `sending` (with a lease, `claimed_until`, and a
//! claim token) -> `sent`; on a transient failure back to `pending` with
//! `next_attempt_at = now + retry_base * 2^(attempts-1)` (capped); after `max_attempts`, or
//! on a permanent refusal (SMTP 5xx), `dead`. A row with no usable address is
//! `undeliverable` from the start. Admins list dead rows and requeue them.
//!
//! Several senders (instances) may run: a row is claimed by an UPDATE that only matches it
//! while it is still `pending`, so exactly one claimer gets it. A sender that dies while a
//! row is `sending` leaves it to be taken back to `pending` once the lease has run out.
//!
//! **The one window.** If the process dies after the relay acknowledged a message (250 to
//! the end of DATA) but before the row is marked `sent`, the message is sent again after
//! the lease. It carries the same Message-ID both times (derived from the outbox id), so a
//! receiving system or mail client can drop the duplicate. Closing that window completely
//! would need the relay to take part in the transaction, which SMTP does not offer.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use lettre::message::{header::ContentType, Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{Message, SmtpTransport, Transport};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{self, Actor, AuditEvent};
use crate::db::models::{new_id, now_utc, OutboxRow};
use crate::db::schema::{children, escalations, outbox};
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, AppResult};
use crate::paging::Page;
use crate::service::reach::Reach;
use crate::service::validate::Checks;
use crate::settings::Settings;

pub const PENDING: &str = "pending";
pub const SENDING: &str = "sending";
pub const SENT: &str = "sent";
pub const DEAD: &str = "dead";
pub const UNDELIVERABLE: &str = "undeliverable";
pub const STATUSES: [&str; 5] = [PENDING, SENDING, SENT, DEAD, UNDELIVERABLE];

/// A message to queue.
pub struct NewMail {
    pub escalation_id: Option<String>,
    /// "escalation" or "pack".
    pub kind: &'static str,
    /// Mail that must exist once only carries a key (a UNIQUE column).
    pub dedupe_key: Option<String>,
    /// The recipient's role, or "distribution_list".
    pub recipient: String,
    pub to_address: Option<String>,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// (file name, CSV text).
    pub attachment: Option<(String, String)>,
}

/// The host part of the public URL, for Message-IDs (`cla-tracker.invalid` if there is none).
pub fn message_domain(public_url: &str) -> String {
    let rest = public_url.split_once("://").map_or("", |(_, r)| r);
    let host = rest.split(['/', ':', '?', '#']).next().unwrap_or("");
    let ok = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if ok {
        host.to_string()
    } else {
        "cla-tracker.invalid".to_string()
    }
}

/// Queues one message inside the caller's transaction; returns its status (`pending`, or
/// `undeliverable` when the address is missing or is not an email address).
pub fn enqueue(conn: &mut DbConn, domain: &str, mail: NewMail) -> QueryResult<&'static str> {
    let usable = mail
        .to_address
        .as_deref()
        .is_some_and(|a| a.parse::<lettre::Address>().is_ok());
    let (status, error) = match (&mail.to_address, usable) {
        (_, true) => (PENDING, None),
        (None, _) => (UNDELIVERABLE, Some("no address held for this recipient".to_string())),
        (Some(_), false) => (
            UNDELIVERABLE,
            Some("the address held is not an email address".to_string()),
        ),
    };
    let id = new_id();
    let now = now_utc();
    let (attachment_name, attachment) = mail.attachment.unzip();
    let row = OutboxRow {
        message_id: format!("<{id}@{domain}>"),
        id,
        escalation_id: mail.escalation_id,
        kind: mail.kind.to_string(),
        dedupe_key: mail.dedupe_key,
        recipient: mail.recipient,
        to_address: mail.to_address,
        subject: mail.subject,
        text_body: mail.text_body,
        html_body: mail.html_body,
        attachment_name,
        attachment,
        status: status.to_string(),
        attempts: 0,
        next_attempt_at: now,
        claim_token: None,
        claimed_until: None,
        last_error: error,
        sent_at: None,
        created_at: now,
    };
    diesel::insert_into(outbox::table).values(&row).execute(conn)?;
    Ok(status)
}

/// How the sender behaves (from `[escalation]` settings).
#[derive(Debug, Clone)]
pub struct SenderPolicy {
    pub max_attempts: i32,
    pub retry_base_seconds: i64,
    pub retry_max_seconds: i64,
    pub lease_seconds: i64,
    pub batch: i64,
}

impl SenderPolicy {
    pub fn new(settings: &Settings) -> SenderPolicy {
        let e = &settings.escalation;
        SenderPolicy {
            max_attempts: e.max_attempts as i32,
            retry_base_seconds: e.retry_base_seconds as i64,
            retry_max_seconds: e.retry_max_seconds as i64,
            lease_seconds: e.claim_lease_seconds as i64,
            batch: 50,
        }
    }

    /// Seconds to wait after the `attempts`-th failed attempt.
    pub fn backoff_seconds(&self, attempts: i32) -> i64 {
        let exp = attempts.clamp(1, 30) - 1;
        self.retry_base_seconds
            .saturating_mul(1_i64 << exp)
            .min(self.retry_max_seconds)
    }
}

/// Where mail goes: lettre's SMTP transport built from `smtp_url`. Clones share one pool of
/// open connections (one per sender thread), so a message costs a `MAIL FROM` exchange on a
/// connection already open, not a new TCP connection, greeting and `EHLO` (about 47 ms here).
#[derive(Clone)]
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl Mailer {
    pub fn new(settings: &Settings) -> Result<Mailer, String> {
        let transport = SmtpTransport::from_url(&settings.smtp_url)
            .map_err(|e| format!("smtp_url: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(
                settings.escalation.smtp_timeout_seconds,
            )))
            .pool_config(PoolConfig::new().max_size(settings.escalation.sender_workers as u32))
            .build();
        let from = settings
            .escalation
            .from_address
            .parse()
            .map_err(|e| format!("escalation.from_address: {e}"))?;
        Ok(Mailer { transport, from })
    }

    fn send(&self, row: &OutboxRow) -> Result<(), SendError> {
        let message = build_message(row, &self.from).map_err(SendError::Permanent)?;
        match self.transport.send(&message) {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}

enum SendError {
    Transient(String),
    Permanent(String),
}

/// The MIME message of one outbox row: text and HTML alternatives, plus the CSV attachment
/// if there is one, with the row's stable Message-ID.
pub fn build_message(row: &OutboxRow, from: &Mailbox) -> Result<Message, String> {
    let to: Mailbox = row
        .to_address
        .as_deref()
        .ok_or("no address")?
        .parse()
        .map_err(|e| format!("bad address: {e}"))?;
    let alternative = MultiPart::alternative_plain_html(row.text_body.clone(), row.html_body.clone());
    let body = match (&row.attachment_name, &row.attachment) {
        (Some(name), Some(data)) => {
            MultiPart::mixed()
                .multipart(alternative)
                .singlepart(Attachment::new(name.clone()).body(
                    data.clone(),
                    ContentType::parse("text/csv; charset=utf-8").map_err(|e| e.to_string())?,
                ))
        }
        _ => alternative,
    };
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(row.message_id.clone()))
        .multipart(body)
        .map_err(|e| e.to_string())
}

/// What one delivery round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub claimed: usize,
    pub sent: usize,
    pub retrying: usize,
    pub dead: usize,
    /// Rows whose lease had run out (their sender died) put back to pending.
    pub reclaimed: usize,
    /// Rows claimed by this round but handed back untried because the sender is stopping.
    pub released: usize,
}

/// Hands claimed rows back to `pending`, untried, if this sender still holds them.
fn release(conn: &mut DbConn, rows: &[OutboxRow]) -> QueryResult<usize> {
    let Some(token) = rows.first().and_then(|r| r.claim_token.clone()) else {
        return Ok(0);
    };
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(ids))
            .filter(outbox::claim_token.eq(token))
            .filter(outbox::status.eq(SENDING)),
    )
    .set((
        outbox::status.eq(PENDING),
        outbox::claim_token.eq(None::<String>),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// Puts rows whose sender died (lease expired) back to pending.
pub fn reclaim_expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::status.eq(SENDING))
            .filter(outbox::claimed_until.lt(now)),
    )
    .set((
        outbox::status.eq(PENDING),
        outbox::claim_token.eq(None::<String>),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// Claims up to `limit` due rows for this sender: only rows still `pending` are taken, so
/// two senders never hold the same row.
pub fn claim(conn: &mut DbConn, policy: &SenderPolicy, now: NaiveDateTime) -> QueryResult<Vec<OutboxRow>> {
    let token = new_id();
    write_transaction(conn, |conn| {
        let due = outbox::table
            .filter(outbox::status.eq(PENDING))
            .filter(outbox::next_attempt_at.le(now))
            .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
            .limit(policy.batch)
            .select(outbox::id);
        let ids: Vec<String> = match conn {
            // Senders claiming at once would all pick the same first rows, and all but one
            // would then find them taken and wait a round: each skips rows another is
            // claiming and takes the next ones instead. (SQLite has one writer at a time.)
            DbConn::Postgres(pg) => due.for_update().skip_locked().load(pg)?,
            DbConn::Sqlite(_) => due.load(conn)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(
            outbox::table
                .filter(outbox::id.eq_any(&ids))
                .filter(outbox::status.eq(PENDING)),
        )
        .set((
            outbox::status.eq(SENDING),
            outbox::claim_token.eq(&token),
            outbox::claimed_until.eq(now + Duration::seconds(policy.lease_seconds)),
        ))
        .execute(conn)?;
        outbox::table
            .filter(outbox::claim_token.eq(&token))
            .filter(outbox::status.eq(SENDING))
            .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
            .select(OutboxRow::as_select())
            .load(conn)
    })
}

/// Where a delivery round takes a database connection for each of its short steps
/// (reclaim, claim, record). The service's senders take one from the pool for each step,
/// so that none is held while a message is on its way to the relay: a slow relay would
/// otherwise keep a connection per sender thread from the requests. The command line and
/// the tests use their one connection.
pub trait Connections {
    fn step<T>(&mut self, f: impl FnOnce(&mut DbConn) -> QueryResult<T>) -> QueryResult<T>;
}

impl Connections for DbConn {
    fn step<T>(&mut self, f: impl FnOnce(&mut DbConn) -> QueryResult<T>) -> QueryResult<T> {
        f(self)
    }
}

impl Connections for &crate::db::Pool {
    fn step<T>(&mut self, f: impl FnOnce(&mut DbConn) -> QueryResult<T>) -> QueryResult<T> {
        // No connection within the pool's timeout: the round stops like on a database
        // error, and what it claimed but did not record goes back after the lease.
        let mut conn = self
            .get()
            .map_err(|e| diesel::result::Error::QueryBuilderError(Box::new(e)))?;
        f(&mut conn)
    }
}

/// One round: reclaim expired leases, claim due rows, send each, record the result.
pub fn deliver_due(db: &mut impl Connections, mailer: &Mailer, policy: &SenderPolicy) -> QueryResult<DeliveryReport> {
    deliver_due_unless(db, mailer, policy, &AtomicBool::new(false))
}

/// [`deliver_due`], stopping early once `stop` is set (shutdown): the message being sent is
/// finished and recorded, and the rows claimed but not yet tried are released at once
/// rather than left for their lease to run out.
pub fn deliver_due_unless(
    db: &mut impl Connections,
    mailer: &Mailer,
    policy: &SenderPolicy,
    stop: &AtomicBool,
) -> QueryResult<DeliveryReport> {
    let mut report = DeliveryReport {
        reclaimed: db.step(|conn| reclaim_expired(conn, now_utc()))?,
        ..DeliveryReport::default()
    };
    let rows = db.step(|conn| claim(conn, policy, now_utc()))?;
    report.claimed = rows.len();
    let mut unrecorded = SentBatch::default();
    for (i, row) in rows.iter().enumerate() {
        if stop.load(Ordering::SeqCst) {
            report.sent += db.step(|conn| unrecorded.record(conn))?;
            report.released = db.step(|conn| release(conn, &rows[i..]))?;
            return Ok(report);
        }
        match mailer.send(row) {
            Ok(()) => {
                unrecorded.push(row);
                if unrecorded.is_due() {
                    report.sent += db.step(|conn| unrecorded.record(conn))?;
                }
            }
            Err(e) => db.step(|conn| record_failure(conn, policy, row, e, &mut report))?,
        }
    }
    report.sent += db.step(|conn| unrecorded.record(conn))?;
    Ok(report)
}

/// How many messages there are in each status (for `/metrics`).
/// Messages the relay accepted but not yet marked `sent`. Marking them in one transaction
/// every [`SentBatch::SIZE`] messages (or [`SentBatch::MAX_WAIT`]) rather than one commit
/// each keeps the database off the sending path. It widens "the one window" of the module
/// doc to the batch: after a crash those messages are sent again, with the same Message-ID.
#[derive(Default)]
struct SentBatch<'a> {
    rows: Vec<&'a OutboxRow>,
    since: Option<std::time::Instant>,
}

impl<'a> SentBatch<'a> {
    const SIZE: usize = 20;
    const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

    fn push(&mut self, row: &'a OutboxRow) {
        self.since.get_or_insert_with(std::time::Instant::now);
        self.rows.push(row);
    }

    fn is_due(&self) -> bool {
        self.rows.len() >= Self::SIZE || self.since.is_some_and(|t| t.elapsed() >= Self::MAX_WAIT)
    }

    /// Marks the batch `sent` (rows this sender still holds) and empties it; returns how
    /// many messages it held.
    fn record(&mut self, conn: &mut DbConn) -> QueryResult<usize> {
        if self.rows.is_empty() {
            return Ok(0);
        }
        let now = now_utc();
        write_transaction(conn, |conn| {
            for row in &self.rows {
                diesel::update(held_by_this_sender(
                    row.id.clone(),
                    row.claim_token.clone().unwrap_or_default(),
                ))
                .set((
                    outbox::status.eq(SENT),
                    outbox::attempts.eq(row.attempts + 1),
                    outbox::sent_at.eq(now),
                    outbox::claim_token.eq(None::<String>),
                    outbox::claimed_until.eq(None::<NaiveDateTime>),
                    outbox::last_error.eq(None::<String>),
                ))
                .execute(conn)?;
            }
            QueryResult::Ok(())
        })?;
        let n = self.rows.len();
        *self = SentBatch::default();
        Ok(n)
    }
}

/// The row as this sender claimed it: an update through this filter does nothing if the
/// lease ran out and another sender took the row over.
#[diesel::dsl::auto_type]
fn held_by_this_sender(id: String, token: String) -> _ {
    let sending: &'static str = SENDING;
    outbox::table
        .filter(outbox::id.eq(id))
        .filter(outbox::claim_token.eq(token))
        .filter(outbox::status.eq(sending))
}

/// Records a failed attempt at once: back to `pending` with back-off, or `dead`.
fn record_failure(
    conn: &mut DbConn,
    policy: &SenderPolicy,
    row: &OutboxRow,
    e: SendError,
    report: &mut DeliveryReport,
) -> QueryResult<()> {
    let attempts = row.attempts + 1;
    let (dead, error) = match e {
        SendError::Permanent(m) => (true, format!("refused: {m}")),
        SendError::Transient(m) => (attempts >= policy.max_attempts, m),
    };
    let status = if dead { DEAD } else { PENDING };
    let now = now_utc();
    diesel::update(held_by_this_sender(
        row.id.clone(),
        row.claim_token.clone().unwrap_or_default(),
    ))
    .set((
        outbox::status.eq(status),
        outbox::attempts.eq(attempts),
        outbox::next_attempt_at.eq(now + Duration::seconds(policy.backoff_seconds(attempts))),
        outbox::claim_token.eq(None::<String>),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
        outbox::last_error.eq(Some(error.chars().take(1000).collect::<String>())),
    ))
    .execute(conn)?;
    if dead {
        tracing::warn!(id = %row.id, attempts, error = %error, "mail is dead");
        report.dead += 1;
    } else {
        report.retrying += 1;
    }
    Ok(())
}

pub fn count_by_status(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    let counted: Vec<(String, i64)> = outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    // Every status is listed, a missing one as 0, so a series never just disappears.
    Ok(STATUSES
        .iter()
        .map(|s| {
            let n = counted.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n);
            (s.to_string(), n)
        })
        .collect())
}

/// A message as admins see it (no bodies: those may carry a child's initials and local id).
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxView {
    pub id: String,
    pub escalation_id: Option<String>,
    pub kind: String,
    pub recipient: String,
    pub to_address: Option<String>,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: chrono::DateTime<chrono::Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    pub message_id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<OutboxRow> for OutboxView {
    fn from(r: OutboxRow) -> Self {
        OutboxView {
            id: r.id,
            escalation_id: r.escalation_id,
            kind: r.kind,
            recipient: r.recipient,
            to_address: r.to_address,
            subject: r.subject,
            status: r.status,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at.and_utc(),
            last_error: r.last_error,
            sent_at: r.sent_at.map(|t| t.and_utc()),
            message_id: r.message_id,
            created_at: r.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// pending, sending, sent, dead or undeliverable (default: every status).
    #[param(pattern = "^(pending|sending|sent|dead|undeliverable)$")]
    pub status: Option<String>,
    /// Messages per page, 1-1000 (default 200).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Messages to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// One page of the messages `reach` reaches (`service::reach`), newest first, and how many
/// match in all.
pub fn list(conn: &mut DbConn, q: &OutboxQuery, reach: &Reach) -> AppResult<Page<OutboxView>> {
    let mut c = Checks::new();
    let (limit, offset) = c.page(q.limit, q.offset, 200);
    if q.status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
        c.fail("status", format!("must be one of {}", STATUSES.join(", ")));
    }
    c.finish()?;
    let matching = || {
        let mut query = outbox::table.into_boxed();
        if let Some(s) = &q.status {
            query = query.filter(outbox::status.eq(s.clone()));
        }
        if let Some(codes) = reach.children.codes() {
            let about_children_reached = outbox::escalation_id.eq_any(
                escalations::table
                    .filter(
                        escalations::child_id.eq_any(
                            children::table
                                .filter(children::responsible_la.eq_any(codes.to_vec()))
                                .select(children::id),
                        ),
                    )
                    .select(escalations::id.nullable()),
            );
            query = if reach.oversees() {
                query.filter(about_children_reached.or(outbox::escalation_id.is_null()))
            } else {
                query.filter(about_children_reached)
            };
        }
        query
    };
    let total: i64 = matching().count().get_result(conn)?;
    let rows: Vec<OutboxRow> = matching()
        .order((outbox::created_at.desc(), outbox::id.desc()))
        .limit(i64::try_from(limit).unwrap_or(i64::MAX))
        .offset(i64::try_from(offset).unwrap_or(i64::MAX))
        .select(OutboxRow::as_select())
        .load(conn)?;
    let items = rows.into_iter().map(OutboxView::from).collect();
    Ok(Page::new(items, usize::try_from(total).unwrap_or(0), limit, offset))
}

/// Whether `reach` reaches the message: by the child of its escalation, or (the weekly
/// pack, about no escalation) by overseeing.
fn reaches(conn: &mut DbConn, reach: &Reach, row: &OutboxRow) -> QueryResult<bool> {
    let Some(escalation) = &row.escalation_id else {
        return Ok(reach.oversees());
    };
    let la: Option<String> = escalations::table
        .inner_join(children::table.on(children::id.eq(escalations::child_id)))
        .filter(escalations::id.eq(escalation))
        .select(children::responsible_la)
        .first(conn)
        .optional()?;
    Ok(la.is_some_and(|la| reach.children.allows(&la)))
}

/// Puts a dead message back in the queue with a fresh count of attempts. A message out of
/// `reach` answers like an unknown one (404).
pub fn requeue(conn: &mut DbConn, actor: &Actor, id: &str, reach: &Reach) -> AppResult<OutboxView> {
    write_transaction(conn, |conn| {
        let row: OutboxRow = outbox::table
            .find(id)
            .select(OutboxRow::as_select())
            .first(conn)
            .optional()?
            .ok_or(AppError::NotFound("message"))?;
        if !reaches(conn, reach, &row)? {
            return Err(AppError::NotFound("message"));
        }
        if row.status != DEAD {
            return Err(AppError::Conflict(format!(
                "only dead messages can be requeued; this one is {}",
                row.status
            )));
        }
        // On condition: of two requeues at once, only one is done and audited.
        let n = diesel::update(outbox::table.find(id).filter(outbox::status.eq(DEAD)))
            .set((
                outbox::status.eq(PENDING),
                outbox::attempts.eq(0),
                outbox::next_attempt_at.eq(now_utc()),
            ))
            .execute(conn)?;
        if n == 0 {
            return Err(AppError::Conflict("the message was requeued at the same time".into()));
        }
        audit::record(conn, actor, AuditEvent::ok("requeue", "outbox", Some(id), None))?;
        let row: OutboxRow = outbox::table.find(id).select(OutboxRow::as_select()).first(conn)?;
        Ok(OutboxView::from(row))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = SenderPolicy {
            max_attempts: 8,
            retry_base_seconds: 60,
            retry_max_seconds: 3600,
            lease_seconds: 300,
            batch: 50,
        };
        let waits: Vec<i64> = (1..=8).map(|a| p.backoff_seconds(a)).collect();
        assert_eq!(waits, vec![60, 120, 240, 480, 960, 1920, 3600, 3600]);
    }

    #[test]
    fn message_domain_is_the_public_host() {
        assert_eq!(message_domain("https://cla.example.nhs.uk/x"), "cla.example.nhs.uk");
        assert_eq!(message_domain("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(message_domain("javascript:alert(1)"), "cla-tracker.invalid");
    }
}
