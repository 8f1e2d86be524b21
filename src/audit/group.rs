//! Group commit for the audit entries of reads.
//!
//! Every read of a child's record appends one hash-chained entry, and an entry can only
//! be chained after the one before it is known: appends are serial by nature (under
//! PostgreSQL's advisory lock `AUDIT_LOCK_KEY`, under SQLite's write lock). Appending
//! each read's entry in a transaction of its own made every read queue on that lock for
//! a whole transaction (begin, lock, read the head, insert, commit with its flush), so
//! reads of the record ran at a fraction of the speed of other reads.
//!
//! The design, and why:
//! - **One appender per process.** Requests hand their entries to one thread (a
//!   channel). The thread takes every entry waiting (up to [`MAX_BATCH`]), and appends
//!   them all in ONE write transaction: take the chain's lock, read the head once,
//!   chain and insert the batch, commit. While a batch commits the next one gathers, so
//!   the cost of a commit is shared by every read that arrived meanwhile (group commit,
//!   as databases do with their own logs), and the lock is taken once per batch rather
//!   than once per read.
//! - **Durable before the answer.** A request waits for the commit of its entry's batch
//!   before its answer is sent ([`Receipt::wait`]). If a batch fails, its entries are
//!   tried again one by one, so one entry that cannot be written refuses only its own
//!   read, which answers with an error and shows nothing. So a kill -9 can lose only entries of
//!   reads whose answers were never sent, exactly as before.
//! - **One chain.** A batch is chained under the same lock as every other append
//!   (changes still append their entry inside their own transaction, `audit::record`),
//!   so entries of batches, of changes, and of other instances sharing a PostgreSQL
//!   database form one sequence with no gaps, and `audit verify` checks it as before.
//!   Entries are stamped inside the lock, so `occurred_at` rises with `seq` (the export
//!   relies on it, `service::audit_trail`).
//! - **Short lock hold.** The thread has a connection of its own (so it never waits for
//!   the request pool), and inside the transaction it only reads the head and inserts
//!   the rows it prepared beforehand; a batch of [`MAX_BATCH`] entries holds SQLite's
//!   write lock for about a millisecond. Larger batches would hold it longer and delay
//!   changes; smaller ones would commit more often.
//! - **The request's connection is not held while waiting.** Inside
//!   [`deferring`] (which `AppState::run_as` wraps around every request's service call),
//!   `DomainCtx::read_audited` keeps the entry and goes on; when the service call is
//!   over, its entries are handed over together, the request returns its pooled
//!   connection and then waits for its receipts. Outside it (the command line,
//!   background work) the entry is appended at once in a transaction of its own.
//! - **No commit in the middle of a request.** Entries are handed over only once the
//!   service call is over, not as each read ends: a commit makes every SQLite connection
//!   drop its page cache and memory map at its next read, so a page of five lists with a
//!   commit after each read the database afresh five times (about half of the health
//!   admin's home page at 100,000 children).
//! - **Shutdown.** The thread stops when the last handle is dropped, after writing every
//!   entry already handed over.
//!
//! Rejected: per-instance chains anchored into a global chain. It removes the lock
//! between instances too, but `audit verify`, the export and the access history would
//! all have to merge several chains, and a single instance (SQLite) gains nothing more
//! than group commit gives it.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::{append, NewEntry};
use crate::db::{self, DatabaseUrl, DbError, Pool};
use crate::error::AppError;

/// The most entries one transaction appends (see the module doc on the lock hold).
pub const MAX_BATCH: usize = 256;

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Stats {
    /// Entries handed over and not yet committed (or failed).
    pub queued: AtomicU64,
    /// Entries committed.
    pub appended: AtomicU64,
    /// Batches committed.
    pub batches: AtomicU64,
    /// Batches that failed (their requests answered with an error).
    pub failed_batches: AtomicU64,
    /// Time spent in batch transactions, in microseconds.
    pub busy_micros: AtomicU64,
}

struct Job {
    entry: NewEntry,
    done: mpsc::SyncSender<Result<i64, String>>,
}

/// The handle requests use; cheap to share (`Arc`).
pub struct Appender {
    jobs: mpsc::Sender<Job>,
    stats: Arc<Stats>,
}

/// The promise of one entry's commit.
#[must_use = "an audited answer may be sent only once its entry has committed"]
pub struct Receipt(mpsc::Receiver<Result<i64, String>>);

impl Receipt {
    /// Waits for the entry's batch to commit; its `seq`, or why it was not written.
    pub fn wait(self) -> Result<i64, AppError> {
        match self.0.recv() {
            Ok(Ok(seq)) => Ok(seq),
            Ok(Err(e)) => Err(AppError::Internal(format!("the audit entry was not written: {e}"))),
            Err(_) => Err(AppError::Internal("the audit appender stopped".into())),
        }
    }
}

impl Appender {
    /// Opens the appender's own connection and starts its thread.
    pub fn start(url: &DatabaseUrl) -> Result<Arc<Appender>, DbError> {
        let pool = db::build_pool(url, 1)?;
        let (jobs, queue) = mpsc::channel();
        let stats = Arc::new(Stats::default());
        let thread_stats = stats.clone();
        std::thread::Builder::new()
            .name("audit-appender".into())
            .spawn(move || run(&pool, &queue, &thread_stats))
            .map_err(|e| DbError::Migration(format!("cannot start the audit appender: {e}")))?;
        Ok(Arc::new(Appender { jobs, stats }))
    }

    /// Hands one entry over; [`Receipt::wait`] tells when it has committed.
    pub fn submit(&self, entry: NewEntry) -> Receipt {
        let (done, receipt) = mpsc::sync_channel(1);
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        if let Err(mpsc::SendError(job)) = self.jobs.send(Job { entry, done }) {
            self.stats.queued.fetch_sub(1, Ordering::Relaxed);
            let _ = job.done.send(Err("the audit appender stopped".into()));
        }
        Receipt(receipt)
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

fn run(pool: &Pool, queue: &mpsc::Receiver<Job>, stats: &Stats) {
    // `recv` fails only once every handle is gone and the queue is empty.
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let result = write_batch(pool, &batch);
        stats
            .busy_micros
            .fetch_add(micros(started.elapsed()), Ordering::Relaxed);
        stats.queued.fetch_sub(batch.len() as u64, Ordering::Relaxed);
        match result {
            Ok(seqs) => {
                stats.batches.fetch_add(1, Ordering::Relaxed);
                stats.appended.fetch_add(batch.len() as u64, Ordering::Relaxed);
                for (job, seq) in batch.into_iter().zip(seqs) {
                    let _ = job.done.send(Ok(seq));
                }
            }
            Err(e) => {
                // One bad entry must not refuse the other reads of its batch: each is tried
                // again alone, and only those that still fail are refused.
                stats.failed_batches.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, entries = batch.len(), "audit batch not written; appending its entries one by one");
                for job in batch {
                    let one = write_batch(pool, std::slice::from_ref(&job));
                    if let Err(e) = &one {
                        tracing::error!(error = %e, "audit entry not written; its read was refused");
                    } else {
                        stats.appended.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = job.done.send(one.map(|seqs| seqs.first().copied().unwrap_or_default()));
                }
            }
        }
    }
}

fn write_batch(pool: &Pool, batch: &[Job]) -> Result<Vec<i64>, String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let entries: Vec<&NewEntry> = batch.iter().map(|j| &j.entry).collect();
    db::write_transaction(&mut conn, |conn| append(conn, &entries)).map_err(|e: diesel::result::Error| e.to_string())
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

thread_local! {
    /// Set by [`deferring`] for the service call running on this thread.
    static DEFERRED: RefCell<Option<Vec<NewEntry>>> = const { RefCell::new(None) };
}

/// Runs `f` (one request's service call) with the audit entries of its reads handed to
/// `appender` instead of appended in place. Returns what `f` returned and the receipts
/// the caller must wait for before answering, after releasing its connection.
pub fn deferring<T>(appender: &Arc<Appender>, f: impl FnOnce() -> T) -> (T, Vec<Receipt>) {
    let outer = DEFERRED.with(|d| d.borrow_mut().replace(Vec::new()));
    let value = f();
    let entries = DEFERRED
        .with(|d| std::mem::replace(&mut *d.borrow_mut(), outer))
        .unwrap_or_default();
    let receipts = entries.into_iter().map(|e| appender.submit(e)).collect();
    (value, receipts)
}

/// Inside [`deferring`], keeps `entry` for the appender and returns `None`; outside it,
/// gives `entry` back for the caller to append itself.
pub fn defer(entry: NewEntry) -> Option<NewEntry> {
    DEFERRED.with(|d| match &mut *d.borrow_mut() {
        Some(entries) => {
            entries.push(entry);
            None
        }
        None => Some(entry),
    })
}

/// Waits for every receipt; the first failure, if any.
pub fn wait_all(receipts: Vec<Receipt>) -> Result<(), AppError> {
    let mut outcome = Ok(());
    for r in receipts {
        if let Err(e) = r.wait() {
            outcome = outcome.and(Err(e));
        }
    }
    outcome
}
