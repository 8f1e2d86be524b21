//! `cla-tracker backup FILE`: a consistent copy of a live SQLite database.
//!
//! Rules:
//! - The copy is taken with SQLite's `VACUUM INTO`, which reads the whole database inside one
//!   read transaction: it is a snapshot of one moment, even while `serve` keeps writing (WAL
//!   lets writers go on; they are not blocked for the length of the copy).
//! - The copy is a complete, compacted database file that opens on its own (no `-wal` file
//!   to carry), so it can be checked at once with `audit verify`.
//! - An existing file is never overwritten: a backup must not destroy the previous one.
//! - PostgreSQL has its own tools (`pg_dump`, or base backups with WAL archiving); this
//!   command says so rather than pretend.

use std::path::Path;

use diesel::sql_types::Text;
use diesel::RunQueryDsl;

use super::DbConn;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; choose a new file name (a backup never overwrites another)")]
    Exists(String),
    #[error(
        "backup copies SQLite databases; for PostgreSQL use pg_dump (e.g. `pg_dump -Fc -f FILE DBNAME`) \
         or base backups with WAL archiving, as README.md describes"
    )]
    NotSqlite,
    #[error("the backup failed")]
    Sqlite(#[source] diesel::result::Error),
}

/// Writes a consistent copy of the open SQLite database to `dest`.
pub fn backup(conn: &mut DbConn, dest: &Path) -> Result<(), BackupError> {
    let DbConn::Sqlite(lite) = conn else {
        return Err(BackupError::NotSqlite);
    };
    if dest.exists() {
        return Err(BackupError::Exists(dest.display().to_string()));
    }
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(dest.to_string_lossy().into_owned())
        .execute(lite)
        .map(|_| ())
        .map_err(BackupError::Sqlite)
}
