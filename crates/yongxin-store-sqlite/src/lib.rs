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

    /// Opens an existing database file to read it only (a backup being checked): nothing is
    /// migrated or converted, so the file stays as it was written.
    pub async fn open_read_only(path: &std::path::Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(db_err)?;
        let writer = writer::Writer::start(pool.clone());
        Ok(Self { pool, writer })
    }

    /// 备份: writes a consistent copy of the database file `path` into the new file `dest` with
    /// `VACUUM INTO`. It reads in one transaction, so the copy holds every commit made before it
    /// began and none after, while the server goes on writing (WAL); a file copy of a live WAL
    /// database would not. The copy is compact and stands alone (no WAL of its own).
    pub async fn copy_database(path: &std::path::Path, dest: &std::path::Path) -> StoreResult<()> {
        use sqlx::{ConnectOptions, Connection};
        let dest = dest.to_str().ok_or_else(|| StoreError::Invalid {
            field: "out".into(),
            reason: "the path is not valid UTF-8".into(),
        })?;
        let mut conn = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(Duration::from_secs(30))
            // A copy of a large database takes seconds; that is not a slow statement to warn of.
            .log_slow_statements(tracing::log::LevelFilter::Off, Duration::from_secs(3600))
            .connect()
            .await
            .map_err(db_err)?;
        sqlx::query("VACUUM INTO $1")
            .bind(dest)
            .execute(&mut conn)
            .await
            .map_err(db_err)?;
        conn.close().await.map_err(db_err)?;
        Ok(())
    }

    /// How this database's schema stands against this build's migrations.
    pub async fn migration_state(&self) -> StoreResult<yongxin_store::MigrationState> {
        sql::migration_state(&self.pool, &MIGRATOR).await
    }

    /// The connection pool, for tests that must reach under the store (to tamper with the record).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
