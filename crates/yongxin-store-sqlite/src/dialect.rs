//! What SQLite does differently (see [`Dialect`]): reads in a write need no locks, the group-commit
//! writer holds a batch's audit rows and counters until it commits, and a case without photos is
//! filed as a direct write through rusqlite.

use chrono::{DateTime, Utc};
use yongxin_domain::appeal::AppealStatus;
use yongxin_domain::AuditEntry;
use yongxin_store::{Appeal, AppealId, Conflict, NewAppeal, StoreError, StoreResult};

use crate::sql::appeals::{
    appeal_created_entry, new_appeal_values, new_case_tallies, SqlValue, INSERT_APPEAL,
};
use crate::sql::rates::TallyRow;
use crate::sql::{DbConn, Dialect};
use crate::{writer, SqliteStore};

/// Translates driver errors; SQLite names the columns of a failed unique constraint in its message.
/// The table of a broken unique constraint, from SQLite's message (`UNIQUE constraint failed:
/// users.username`), as PostgreSQL reports it by name.
fn unique_table(message: &str) -> String {
    message
        .rsplit(": ")
        .next()
        .and_then(|columns| columns.split('.').next())
        .unwrap_or_default()
        .to_owned()
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound { what: "row".into() },
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict {
            conflict: Conflict::Duplicate {
                table: unique_table(d.message()),
            },
            source: Some(d.into()),
        },
        sqlx::Error::Database(d) if d.is_foreign_key_violation() || d.is_check_violation() => {
            StoreError::Invalid {
                field: "reference".into(),
                reason: d.message().to_owned(),
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::unavailable(e)
        }
        other => StoreError::internal(other),
    }
}

impl Dialect for SqliteStore {
    type Db = sqlx::Sqlite;
    const BACKEND: &'static str = "sqlite";
    // BEGIN IMMEDIATE already holds the database's single write lock.
    const ROW_LOCK: &'static str = "";
    // One writer at a time, so claiming needs no row locks.
    const CLAIM_LOCK: &'static str = "";
    const NAME_PARTIAL_INDEX: bool = true;

    fn db_err(e: sqlx::Error) -> StoreError {
        db_err(e)
    }

    async fn read_audit_head(tx: &mut DbConn) -> StoreResult<(i64, String)> {
        match writer::batch_head() {
            Some(head) => Ok(head),
            None => writer::read_head(tx).await,
        }
    }

    async fn write_audit_head(tx: &mut DbConn, seq: i64, hash: &str) -> StoreResult<()> {
        if writer::move_batch_head(seq, hash) {
            return Ok(());
        }
        writer::write_head(tx, seq, hash).await
    }

    async fn write_audit_rows_at_commit(
        tx: &mut DbConn,
        entries: &[AuditEntry],
    ) -> StoreResult<()> {
        if writer::defer_audit(entries) {
            return Ok(());
        }
        crate::sql::audit::insert_audit_rows_now(tx, entries).await
    }

    async fn add_tallies_at_commit(tx: &mut DbConn, rows: Vec<TallyRow>) -> StoreResult<()> {
        match writer::defer_tallies(rows) {
            None => Ok(()),
            Some(rows) => crate::sql::rates::upsert_tallies_now(tx, &rows).await,
        }
    }

    fn insert_with_child(
        insert: &str,
        child: &str,
        child_values: &dyn Fn(&str) -> String,
    ) -> String {
        format!(
            "{insert}; INSERT INTO {child} VALUES ({})",
            child_values("last_insert_rowid()")
        )
    }

    async fn create_plain_appeal(&self, actor: String, a: NewAppeal) -> StoreResult<Appeal> {
        self.writer
            .submit_direct(move |conn| {
                let answers = serde_json::to_string(&a.answers).map_err(StoreError::internal)?;
                let id: AppealId = {
                    let mut insert = conn.prepare_cached(INSERT_APPEAL).map_err(direct_err)?;
                    bind_numbered(&mut insert, &new_appeal_values(&a, &answers))?;
                    let mut rows = insert.raw_query();
                    let row = rows.next().map_err(direct_err)?.ok_or_else(|| StoreError::internal("no id for the new case"))?;
                    AppealId(row.get(0).map_err(direct_err)?)
                };
                let mut event = conn
                    .prepare_cached(
                        "INSERT INTO appeal_events (appeal_id, at, actor, action, status_from, status_to, text, visible) \
                         VALUES ($1, $2, $3, 'submit', NULL, $4, NULL, 1)",
                    )
                    .map_err(direct_err)?;
                bind_numbered(
                    &mut event,
                    &[
                        SqlValue::OptInt(Some(id.0)),
                        SqlValue::Time(a.created_at),
                        SqlValue::Text(&actor),
                        SqlValue::Text(AppealStatus::Submitted.code()),
                    ],
                )?;
                event.raw_execute().map_err(direct_err)?;
                let village_name: Option<String> = match a.village_id {
                    None => None,
                    Some(v) => {
                        let mut name = conn.prepare_cached("SELECT name FROM villages WHERE id = $1").map_err(direct_err)?;
                        bind_numbered(&mut name, &[SqlValue::OptInt(Some(v))])?;
                        let mut rows = name.raw_query();
                        match rows.next().map_err(direct_err)? {
                            Some(row) => Some(row.get(0).map_err(direct_err)?),
                            None => None,
                        }
                    }
                };
                if writer::defer_tallies(new_case_tallies(&a)).is_some() {
                    return Err(StoreError::internal("a direct write ran outside a batch"));
                }
                writer::seal_in_batch(vec![appeal_created_entry(actor, id, &a, &answers, Vec::new())])?;
                Ok(Appeal::submitted(id, a, village_name))
            })
            .await
    }
}

impl rusqlite::ToSql for SqlValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value};
        Ok(match *self {
            SqlValue::Text(v) => ToSqlOutput::from(v),
            SqlValue::OptText(v) => v.map_or(ToSqlOutput::Owned(Value::Null), ToSqlOutput::from),
            SqlValue::OptInt(v) => v.map_or(ToSqlOutput::Owned(Value::Null), ToSqlOutput::from),
            SqlValue::OptReal(v) => v.map_or(ToSqlOutput::Owned(Value::Null), ToSqlOutput::from),
            // The text sqlx writes, so that every stored time sorts alike.
            SqlValue::Time(t) => ToSqlOutput::from(sqlite_time(t)),
        })
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
                    let result: ::yongxin_store::StoreResult<_> = async { $body }.await;
                    let (value, entries) = result?;
                    $crate::sql::audit::append_audit($tx, entries).await?;
                    Ok(value)
                })
            })
            .await
    }};
}
pub(crate) use write_tx;

/// A time as sqlx writes it to SQLite, so that the text of every stored time sorts alike.
pub(crate) fn sqlite_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// Binds `values[k - 1]` to the parameter `$k`, as sqlx does, whatever order the statement names
/// them in.
fn bind_numbered(
    statement: &mut rusqlite::Statement<'_>,
    values: &[SqlValue<'_>],
) -> StoreResult<()> {
    if statement.parameter_count() != values.len() {
        return Err(StoreError::internal(format!(
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
            .ok_or_else(|| StoreError::internal(format!("no parameter {name}")))?;
        statement
            .raw_bind_parameter(index, value)
            .map_err(direct_err)?;
    }
    Ok(())
}

/// Translates rusqlite's errors as [`db_err`] does sqlx's.
pub(crate) fn direct_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    match &e {
        rusqlite::Error::SqliteFailure(f, message) => {
            let message = message.clone().unwrap_or_else(|| f.to_string());
            match f.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    StoreError::Conflict {
                        conflict: Conflict::Duplicate {
                            table: unique_table(&message),
                        },
                        source: Some(e.into()),
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
                    StoreError::unavailable(message)
                }
                _ => StoreError::internal(message),
            }
        }
        _ => StoreError::internal(e),
    }
}
