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

mod writer;

type Db = sqlx::Sqlite;
type StoreImpl = SqliteStore;
const BACKEND: &str = "sqlite";
// BEGIN IMMEDIATE already holds the database's single write lock, so a plain read suffices.
// The writer holds the only write lock, so rows read in a write need no lock of their own.
const ROW_LOCK: &str = "";
// One writer at a time, so claiming needs no row locks.
const CLAIM_LOCK: &str = "";

// Without statistics SQLite's planner prefers a wide index on a column the query also filters by
// to the small partial index that makes the query cheap; queries that depend on one name it.
const NAME_PARTIAL_INDEX: bool = true;

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
            .map_err(|e| StoreError::Internal(format!("migration failed: {e}")))
    }

    /// The connection pool, for tests that must reach under the store (to tamper with the record).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Translates driver errors; SQLite names the columns of a failed unique constraint in its message.
fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound { what: "row".into() },
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict {
            what: d
                .message()
                .rsplit(": ")
                .next()
                .unwrap_or("value")
                .to_owned(),
        },
        sqlx::Error::Database(d) if d.is_foreign_key_violation() || d.is_check_violation() => {
            StoreError::Invalid {
                field: "reference".into(),
                reason: d.message().to_owned(),
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Internal(other.to_string()),
    }
}

/// Hands a block to the group-commit writer: it runs inside the writer's transaction (in its own
/// savepoint), its audit entries are appended right after it, and the caller is answered once the
/// shared commit is on disk.
macro_rules! write_tx {
    ($self:ident, |$tx:ident| $body:block) => {{
        $self
            .writer
            .submit(move |$tx: &mut sqlx::SqliteConnection| {
                Box::pin(async move {
                    let result: StoreResult<_> = async { $body }.await;
                    let (value, entries) = result?;
                    append_audit($tx, entries).await?;
                    Ok(value)
                })
            })
            .await
    }};
}

/// The audit chain's head as the writer's batch holds it (read once under the batch's write lock).
async fn read_audit_head(tx: &mut sqlx::SqliteConnection) -> StoreResult<(i64, String)> {
    match writer::batch_head() {
        Some(head) => Ok(head),
        None => writer::read_head(tx).await,
    }
}

/// Moves the head for the job running now; the writer keeps it if the job succeeds and writes it
/// once before the batch commits.
async fn write_audit_head(
    tx: &mut sqlx::SqliteConnection,
    seq: i64,
    hash: &str,
) -> StoreResult<()> {
    if writer::move_batch_head(seq, hash) {
        return Ok(());
    }
    writer::write_head(tx, seq, hash).await
}

/// Audit rows of a write in the writer's batch are written with the batch's, just before it
/// commits (they are only read through other connections, after the commit).
async fn insert_audit_rows(
    tx: &mut sqlx::SqliteConnection,
    entries: &[AuditEntry],
) -> StoreResult<()> {
    if writer::defer_audit(entries) {
        return Ok(());
    }
    insert_audit_rows_now(tx, entries).await
}

/// The same for the rates' counters, summed over the batch.
async fn upsert_tallies(tx: &mut sqlx::SqliteConnection, rows: Vec<TallyRow>) -> StoreResult<()> {
    match writer::defer_tallies(rows) {
        None => Ok(()),
        Some(rows) => upsert_tallies_now(tx, &rows).await,
    }
}

/// A new case's insert followed, in the same query, by its submission event: every statement is a
/// round trip to the connection's thread, and SQLite runs several statements of one query.
fn with_submission_event(insert_appeal: &str) -> String {
    format!(
        "{insert_appeal}; INSERT INTO appeal_events (appeal_id, at, actor, action, status_from, status_to, text, visible) \
         VALUES (last_insert_rowid(), $18, $23, 'submit', NULL, $4, NULL, 1)"
    )
}

/// SQLite files a case without photos as a direct write (see [`writer`]): its statements run on
/// the writer's thread without a round trip each to the connection's thread. Intake is the
/// busiest write there is.
async fn create_plain_appeal(
    store: &SqliteStore,
    actor: String,
    a: NewAppeal,
) -> StoreResult<Appeal> {
    store
        .writer
        .submit_direct(move |conn| {
            let answers = serde_json::to_string(&a.answers).map_err(|e| StoreError::Internal(e.to_string()))?;
            let (created, contact_due, resolution_due) = (sqlite_time(a.created_at), sqlite_time(a.contact_due), sqlite_time(a.resolution_due));
            let id: i64 = {
                let mut insert = conn.prepare_cached(INSERT_APPEAL).map_err(direct_err)?;
                bind_numbered(
                    &mut insert,
                    &[
                        &a.category, &a.urgency.code(), &a.channel.code(), &AppealStatus::Submitted.code(), &a.title, &a.description, &answers,
                        &a.address, &a.latitude, &a.longitude, &a.village_id, &a.grid_id, &a.household_id, &a.resident_user_id, &a.contact_name,
                        &a.contact_phone, &a.department, &created, &contact_due, &resolution_due, &created, &a.contact_email,
                    ],
                )?;
                let mut rows = insert.raw_query();
                let row = rows.next().map_err(direct_err)?.ok_or_else(|| StoreError::Internal("no id for the new case".into()))?;
                row.get(0).map_err(direct_err)?
            };
            let mut event = conn
                .prepare_cached(
                    "INSERT INTO appeal_events (appeal_id, at, actor, action, status_from, status_to, text, visible) \
                     VALUES ($1, $2, $3, 'submit', NULL, $4, NULL, 1)",
                )
                .map_err(direct_err)?;
            bind_numbered(&mut event, &[&id, &created, &actor, &AppealStatus::Submitted.code()])?;
            event.raw_execute().map_err(direct_err)?;
            let village_name: Option<String> = match a.village_id {
                None => None,
                Some(v) => {
                    let mut name = conn.prepare_cached("SELECT name FROM villages WHERE id = $1").map_err(direct_err)?;
                    bind_numbered(&mut name, &[&v])?;
                    let mut rows = name.raw_query();
                    match rows.next().map_err(direct_err)? {
                        Some(row) => Some(row.get(0).map_err(direct_err)?),
                        None => None,
                    }
                }
            };
            if writer::defer_tallies(new_case_tallies(&a)).is_some() {
                return Err(StoreError::Internal("a direct write ran outside a batch".into()));
            }
            writer::seal_in_batch(vec![appeal_created_entry(actor, id, &a, &answers, Vec::new())])?;
            Ok(Appeal::submitted(id, a, village_name))
        })
        .await
}

/// A time as sqlx writes it to SQLite, so that the text of every stored time sorts alike.
fn sqlite_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// Binds `values[k - 1]` to the parameter `$k`, as sqlx does, whatever order the statement names
/// them in.
fn bind_numbered(
    statement: &mut rusqlite::Statement<'_>,
    values: &[&dyn rusqlite::ToSql],
) -> StoreResult<()> {
    if statement.parameter_count() != values.len() {
        return Err(StoreError::Internal(format!(
            "{} values for {} parameters",
            values.len(),
            statement.parameter_count()
        )));
    }
    for (k, value) in values.iter().enumerate() {
        let name = format!("${}", k + 1);
        let index = statement
            .parameter_index(&name)
            .map_err(direct_err)?
            .ok_or_else(|| StoreError::Internal(format!("no parameter {name}")))?;
        statement
            .raw_bind_parameter(index, value)
            .map_err(direct_err)?;
    }
    Ok(())
}

/// Translates rusqlite's errors as [`db_err`] does sqlx's.
fn direct_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    match &e {
        rusqlite::Error::SqliteFailure(f, message) => {
            let message = message.clone().unwrap_or_else(|| f.to_string());
            match f.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    StoreError::Conflict {
                        what: message.rsplit(": ").next().unwrap_or("value").to_owned(),
                    }
                }
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY | ffi::SQLITE_CONSTRAINT_CHECK => {
                    StoreError::Invalid {
                        field: "reference".into(),
                        reason: message,
                    }
                }
                _ if f.code == rusqlite::ErrorCode::DiskFull
                    || f.code == rusqlite::ErrorCode::SystemIoFailure =>
                {
                    StoreError::Unavailable(message)
                }
                _ => StoreError::Internal(message),
            }
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

include!("../../yongxin-store/sql/store_impl.rs");
include!("../../yongxin-store/sql/notice_impl.rs");
include!("../../yongxin-store/sql/consultation_impl.rs");
include!("../../yongxin-store/sql/meeting_impl.rs");
include!("../../yongxin-store/sql/resettlement_impl.rs");
include!("../../yongxin-store/sql/selection_impl.rs");
