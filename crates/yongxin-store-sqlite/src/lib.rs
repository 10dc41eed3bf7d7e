//! The SQLite backend, the default: one file, nothing to install.
//!
//! Opened on purpose for durability: WAL journal, `synchronous=FULL` (an acknowledged commit
//! survives power loss as well as `kill -9`), foreign keys on, a busy timeout, and `BEGIN
//! IMMEDIATE` for every write so that a transaction takes the write lock before it reads, instead
//! of failing with "database is locked" when it later tries to write. Writes share commits through
//! the group-commit [`writer`].
// One audited `unsafe`: the writer lends its connection to rusqlite (`writer::DirectConnection`).
#![deny(unsafe_code)]

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

mod dialect;
#[path = "../../yongxin-store/sql/mod.rs"]
mod sql;
mod writer;

use yongxin_store::{StoreError, StoreResult};

use crate::dialect::db_err;

/// The store type the shared SQL implements its traits for.
type StoreImpl = SqliteStore;

/// The SQLite migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A yongxin store in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: writer::Writer,
}

impl SqliteStore {
    /// Opens `sqlite://PATH`. The file is created only when `create` is set; otherwise a missing
    /// file is an error, so a mistyped path never silently yields an empty database.
    pub async fn open(url: &str, create: bool) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Invalid {
                field: "database_url".into(),
                reason: e.to_string(),
            })?
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Each write of a group commit has its savepoint, whose sub-journal copies every page
            // the write touches; in a temporary file that is a write(2) per page, in memory a copy.
            // The commit's durability does not depend on it: the WAL holds the committed pages.
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.code().as_deref() == Some("14") => {
                    StoreError::NotFound {
                        what: format!("database file ({url})"),
                    }
                }
                other => db_err(other),
            })?;
        let writer = writer::Writer::start(pool.clone());
        Ok(Self { pool, writer })
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::internal(format!("migration failed: {e}")))
    }

    /// The connection pool, for tests that must reach under the store (to tamper with the record).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
