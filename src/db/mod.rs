//! One data layer over embedded SQLite and PostgreSQL: a `MultiConnection`, an r2d2 pool
//! whose manager picks the backend from the URL scheme, and embedded migrations.

pub mod backup;
pub mod history;
pub mod models;
pub mod schema;

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Any key will do as long as every instance uses the same one.
const MIGRATION_LOCK_KEY: i64 = 0x00C1_A7AC_0001;

/// Indexes that only PostgreSQL's dialect can say, made after the shared migrations (still
/// under the migration lock; each once). A child search asks for a name by its lower-cased
/// start (`lower(family_name) LIKE 'smi%'`): under a database collation other than "C"
/// (the default `C.UTF-8` or `en_GB.UTF-8`) a plain index cannot answer a `LIKE`, so every
/// search read every child; `text_pattern_ops` compares code points and can.
const POSTGRES_ONLY_INDEXES: &str = "
    CREATE INDEX IF NOT EXISTS children_family_prefix ON children (lower(family_name) text_pattern_ops);
    CREATE INDEX IF NOT EXISTS children_given_prefix ON children (lower(given_name) text_pattern_ops);
";

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// The backend boxed queries and expressions are built for.
pub type DbBackend = <DbConn as diesel::Connection>::Backend;

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(String),
}

impl DatabaseUrl {
    /// `postgres://` or `postgresql://` selects PostgreSQL; `sqlite://PATH` or a bare path
    /// selects embedded SQLite.
    pub fn parse(url: &str) -> DatabaseUrl {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DatabaseUrl::Postgres(url.to_string())
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            DatabaseUrl::Sqlite(path.to_string())
        }
    }

    /// [`DatabaseUrl::parse`] for a URL from the settings: a `scheme://` other than
    /// postgres, postgresql or sqlite (a typo such as `postgress://`) is refused, instead
    /// of opening a SQLite file named after the URL.
    pub fn checked(url: &str) -> Result<DatabaseUrl, DbError> {
        match url.split_once("://") {
            Some((scheme, _)) if !["postgres", "postgresql", "sqlite"].contains(&scheme) => {
                Err(DbError::UnknownScheme(scheme.to_string()))
            }
            _ => Ok(DatabaseUrl::parse(url)),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseUrl::Postgres(_) => "postgresql",
            DatabaseUrl::Sqlite(_) => "sqlite",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to the database: {0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("cannot create the database folder {path}: {source}")]
    Folder { path: String, source: std::io::Error },
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("unknown database URL scheme {0:?}: use postgres://, postgresql:// or sqlite:// (or a file path)")]
    UnknownScheme(String),
}

/// Builds connections itself (instead of the derive's `establish`, which tries each backend
/// in turn and hides the real error) and sets SQLite's per-connection pragmas.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    pub fn new(url: DatabaseUrl) -> Manager {
        Manager { url }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = DbError;

    fn connect(&self) -> Result<DbConn, DbError> {
        connect(&self.url)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::from)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

pub fn connect(url: &DatabaseUrl) -> Result<DbConn, DbError> {
    match url {
        DatabaseUrl::Postgres(u) => Ok(DbConn::Postgres(PgConnection::establish(u)?)),
        DatabaseUrl::Sqlite(path) => {
            ensure_parent_folder(path)?;
            let mut conn = SqliteConnection::establish(path)?;
            // busy_timeout must come first so that switching to WAL waits for other writers.
            // Pages are read through a memory map shared by every connection (the OS page
            // cache), not copied by a `pread` each: at a county's size (GBs) SQLite's own
            // 2 MB cache per connection otherwise spends half a list's time in that copy.
            conn.batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                 PRAGMA mmap_size = 17179869184; PRAGMA cache_size = -16384;",
            )?;
            Ok(DbConn::Sqlite(conn))
        }
    }
}

fn ensure_parent_folder(path: &str) -> Result<(), DbError> {
    if path == ":memory:" {
        return Ok(());
    }
    match Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir).map_err(|source| DbError::Folder {
            path: dir.display().to_string(),
            source,
        }),
        _ => Ok(()),
    }
}

pub fn build_pool(url: &DatabaseUrl, size: u32) -> Result<Pool, DbError> {
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(std::time::Duration::from_secs(10))
        .build(Manager::new(url.clone()))?;
    Ok(pool)
}

/// Applies pending migrations and returns their names. On PostgreSQL this holds an advisory
/// lock so several instances starting together take turns instead of racing.
pub fn run_migrations(conn: &mut DbConn) -> Result<Vec<String>, DbError> {
    fn names(v: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
        v.into_iter().map(|m| m.to_string()).collect()
    }
    match conn {
        DbConn::Postgres(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let result = pg
                .run_pending_migrations(MIGRATIONS)
                .map(names)
                .map_err(|e| DbError::Migration(e.to_string()))
                .and_then(|applied| {
                    pg.batch_execute(POSTGRES_ONLY_INDEXES)?;
                    Ok(applied)
                });
            let result = result.and_then(|applied| {
                history::backfill(conn)?;
                Ok(applied)
            });
            if let DbConn::Postgres(pg) = conn {
                pg.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            }
            result
        }
        DbConn::Sqlite(lite) => {
            let applied = lite
                .run_pending_migrations(MIGRATIONS)
                .map(names)
                .map_err(|e| DbError::Migration(e.to_string()))?;
            // Rows written before the event store get their history (migration 000010).
            history::backfill(conn)?;
            Ok(applied)
        }
    }
}

impl DbConn {
    pub fn is_postgres(&self) -> bool {
        matches!(self, DbConn::Postgres(_))
    }
}

/// Inserts the rows of a slice into a table `$per` rows a statement, on the inner
/// connection (a multi-row INSERT is backend-specific in diesel: MultiConnection has no
/// DEFAULT keyword). `$per` times the row's columns must stay within every backend's
/// limit on bound parameters. Evaluates to the rows written; a failure returns from the
/// caller with `?`.
macro_rules! insert_batches {
    ($conn:expr, $table:expr, $rows:expr, $per:expr) => {{
        let mut written = 0usize;
        for chunk in $rows.chunks($per) {
            written += match $conn {
                $crate::db::DbConn::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                $crate::db::DbConn::Postgres(c) => diesel::insert_into($table).values(chunk).execute(c)?,
            };
        }
        written
    }};
}
pub(crate) use insert_batches;

/// A text column as an expression no index matches (`column || ''`), for a filter that
/// must not drive the plan. SQLite plans without statistics and takes any index whose
/// leading column is compared, even one that would visit most of a table (every row has
/// the same stamp basis; most share a local authority); hiding the column steers it to
/// the index that keeps the list's order or narrows further. PostgreSQL has statistics,
/// and the expression would only blind them: see [`steers_planner`].
pub fn no_index<C>(column: C) -> diesel::dsl::Concat<C, &'static str>
where
    C: diesel::expression::Expression<SqlType = diesel::sql_types::Text>
        + diesel::expression_methods::TextExpressionMethods,
{
    column.concat("")
}

/// Whether queries on this connection should steer the planner with [`no_index`].
pub fn steers_planner(conn: &DbConn) -> bool {
    matches!(conn, DbConn::Sqlite(_))
}

/// Runs `f` in a transaction that may write. On SQLite it begins with `BEGIN IMMEDIATE`, so
/// the write lock is taken up front: a deferred transaction that reads first and writes
/// later fails with "database is locked" when another connection wrote in between, which
/// busy_timeout cannot cure. Nested `transaction` calls inside `f` become savepoints.
/// Keep `f` short: while it runs no other connection may write (SQLite), and an audit
/// append inside it holds the chain's lock (PostgreSQL). Read first, with
/// [`read_transaction`], and write here afterwards.
///
/// Called inside a transaction already (a batch writer, such as the SSDA903 import, that
/// runs use cases for many children in one transaction), `f` runs in a savepoint instead:
/// its error undoes only its own writes, and the outer transaction decides the commit.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if in_a_transaction(conn) {
        return conn.transaction(f);
    }
    in_transaction(conn, "BEGIN IMMEDIATE", None, f)
}

/// True while a transaction (or savepoint) is open on `conn`.
pub fn in_a_transaction(conn: &mut DbConn) -> bool {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let status = match conn {
        DbConn::Sqlite(inner) => AnsiTransactionManager::transaction_manager_status_mut(inner),
        DbConn::Postgres(inner) => AnsiTransactionManager::transaction_manager_status_mut(inner),
    };
    matches!(status.transaction_depth(), Ok(Some(_)))
}

/// Runs `f` in a transaction that only reads, so its statements see one snapshot and it
/// never waits for or holds up a writer. SQLite: a deferred `BEGIN` (in WAL mode a reader
/// takes no lock that writers wait on). PostgreSQL: `REPEATABLE READ READ ONLY` (one
/// snapshot for the whole of `f`; a write inside it is an error).
pub fn read_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    in_transaction(
        conn,
        "BEGIN DEFERRED",
        Some("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
        f,
    )
}

/// Begins with the given SQL (PostgreSQL: a plain `BEGIN` when `postgres_begin` is None),
/// runs `f`, and commits, or rolls back on an error.
fn in_transaction<T, E, F>(conn: &mut DbConn, sqlite_begin: &str, postgres_begin: Option<&str>, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConn as Connection>::TransactionManager;
    match (&mut *conn, postgres_begin) {
        (DbConn::Sqlite(inner), _) => AnsiTransactionManager::begin_transaction_sql(inner, sqlite_begin)?,
        (DbConn::Postgres(inner), Some(begin)) => AnsiTransactionManager::begin_transaction_sql(inner, begin)?,
        (DbConn::Postgres(_), None) => Manager::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // The original error matters more than a failed rollback (which leaves the
            // connection marked broken, so the pool discards it).
            let _ = Manager::rollback_transaction(conn);
            Err(e)
        }
    }
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn a_database_url_with_an_unknown_scheme_is_refused() {
        assert!(matches!(DatabaseUrl::checked("postgress://h/db"), Err(DbError::UnknownScheme(s)) if s == "postgress"));
        assert!(DatabaseUrl::checked("mysql://h/db").is_err());
        assert_eq!(
            DatabaseUrl::checked("postgresql://h/db").ok(),
            Some(DatabaseUrl::Postgres("postgresql://h/db".into()))
        );
        assert_eq!(
            DatabaseUrl::checked("sqlite://a.db").ok(),
            Some(DatabaseUrl::Sqlite("a.db".into()))
        );
        assert_eq!(
            DatabaseUrl::checked("data/a.db").ok(),
            Some(DatabaseUrl::Sqlite("data/a.db".into()))
        );
    }
}
