//! What PostgreSQL does differently (see [`Dialect`]): reads in a write lock their rows, the audit
//! head's row lock orders the writes of every node, and every write is a transaction of its own.

use yongxin_domain::AuditEntry;
use yongxin_store::{Appeal, Conflict, NewAppeal, StoreError, StoreResult};

use crate::sql::appeals::create_appeal_portable;
use crate::sql::rates::TallyRow;
use crate::sql::{DbConn, Dialect};
use crate::PostgresStore;

/// Translates driver errors; PostgreSQL names the violated constraint.
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound { what: "row".into() },
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict {
            conflict: Conflict::Duplicate {
                table: d.table().unwrap_or_default().to_owned(),
            },
            source: Some(d.into()),
        },
        sqlx::Error::Database(d) if d.is_foreign_key_violation() || d.is_check_violation() => {
            StoreError::Invalid {
                field: d.constraint().unwrap_or("reference").to_owned(),
                reason: d.message().to_owned(),
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::unavailable(e)
        }
        other => StoreError::internal(other),
    }
}

impl Dialect for PostgresStore {
    type Db = sqlx::Postgres;
    const BACKEND: &'static str = "postgres";
    const ROW_LOCK: &'static str = " FOR UPDATE";
    const CLAIM_LOCK: &'static str = " FOR UPDATE SKIP LOCKED";
    const NAME_PARTIAL_INDEX: bool = false;

    fn db_err(e: sqlx::Error) -> StoreError {
        db_err(e)
    }

    async fn read_audit_head(tx: &mut DbConn) -> StoreResult<(i64, String)> {
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)
    }

    async fn write_audit_head(tx: &mut DbConn, seq: i64, hash: &str) -> StoreResult<()> {
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(hash)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn write_audit_rows_at_commit(
        tx: &mut DbConn,
        entries: &[AuditEntry],
    ) -> StoreResult<()> {
        crate::sql::audit::insert_audit_rows_now(tx, entries).await
    }

    async fn add_tallies_at_commit(tx: &mut DbConn, rows: Vec<TallyRow>) -> StoreResult<()> {
        crate::sql::rates::upsert_tallies_now(tx, &rows).await
    }

    fn insert_with_child(
        insert: &str,
        child: &str,
        child_values: &dyn Fn(&str) -> String,
    ) -> String {
        format!(
            "WITH new_row AS ({insert}), child AS (INSERT INTO {child} SELECT {} FROM new_row) SELECT id FROM new_row",
            child_values("id")
        )
    }

    async fn create_plain_appeal(&self, actor: String, a: NewAppeal) -> StoreResult<Appeal> {
        create_appeal_portable(self, actor, a, Vec::new()).await
    }
}

/// Runs a block in one transaction, appends the audit entries it returns, and commits both.
macro_rules! write_tx {
    ($self:ident, |$tx:ident| $body:block) => {{
        let mut txn = $self.begin_write().await?;
        let result: ::yongxin_store::StoreResult<_> = async {
            let $tx: &mut sqlx::PgConnection = &mut *txn;
            $body
        }
        .await;
        let (value, entries) = result?;
        $crate::sql::audit::append_audit(&mut *txn, entries).await?;
        txn.commit().await.map_err($crate::dialect::db_err)?;
        Result::<_, ::yongxin_store::StoreError>::Ok(value)
    }};
}
pub(crate) use write_tx;
