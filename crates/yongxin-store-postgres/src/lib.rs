//! The PostgreSQL backend, for larger deployments where several stateless app nodes share one
//! database.
//!
//! Writers lock the audit head row (`SELECT … FOR UPDATE`) so that entries from every node form a
//! single chain; everything else is ordinary READ COMMITTED.
#![forbid(unsafe_code)]

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

type Db = sqlx::Postgres;
type StoreImpl = PostgresStore;
const BACKEND: &str = "postgres";
// Rows read in a write are locked until it commits, so two nodes never act on the same state.
const ROW_LOCK: &str = " FOR UPDATE";
// Several app nodes drain the outbox: each claims rows the others have not locked.
const CLAIM_LOCK: &str = " FOR UPDATE SKIP LOCKED";

// PostgreSQL's planner finds the small partial indexes by itself (and has no INDEXED BY).
const NAME_PARTIAL_INDEX: bool = false;

/// The PostgreSQL migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A yongxin store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `postgres://…`.
    pub async fn open(url: &str) -> StoreResult<Self> {
        Self::open_in_schema(url, None).await
    }

    /// Connects with every table in `schema` (created if missing): how tests keep apart.
    pub async fn open_in_schema(url: &str, schema: Option<&str>) -> StoreResult<Self> {
        let mut options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Invalid {
            field: "database_url".into(),
            reason: e.to_string(),
        })?;
        if let Some(schema) = schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(StoreError::Invalid {
                    field: "schema".into(),
                    reason: "letters, digits and _ only".into(),
                });
            }
            let setup = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await
                .map_err(db_err)?;
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .execute(&setup)
                .await
                .map_err(db_err)?;
            setup.close().await;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options)
            .await
            .map_err(db_err)?;
        Ok(Self { pool })
    }

    /// A migrated store in a new schema of its own, for one test. Schemas that earlier test runs
    /// left behind (named `yx_test_<unix seconds>_…`, older than an hour) are dropped first, so a
    /// shared test database does not fill up with them.
    pub async fn open_for_test(url: &str) -> StoreResult<Self> {
        let now = chrono::Utc::now().timestamp();
        let setup = PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .map_err(db_err)?;
        let stale: Vec<String> = sqlx::query_scalar(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'yx\\_test\\_%' ORDER BY nspname",
        )
        .fetch_all(&setup)
        .await
        .map_err(db_err)?;
        for schema in stale {
            let born: Option<i64> = schema.split('_').nth(2).and_then(|s| s.parse().ok());
            if born.is_some_and(|b| now - b > 3600) {
                // Another run may drop it at the same moment; that is fine.
                let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&setup)
                    .await;
            }
        }
        setup.close().await;
        let schema = format!("yx_test_{now}_{:016x}", rand::random::<u64>());
        let store = Self::open_in_schema(url, Some(&schema)).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Internal(format!("migration failed: {e}")))
    }

    /// The connection pool, for tests that must reach under the store (to tamper with the record).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, Db>> {
        self.pool.begin().await.map_err(db_err)
    }
}

/// Translates driver errors; PostgreSQL names the violated constraint.
fn db_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound { what: "row".into() },
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict {
            what: d.constraint().unwrap_or("value").to_owned(),
        },
        sqlx::Error::Database(d) if d.is_foreign_key_violation() || d.is_check_violation() => {
            StoreError::Invalid {
                field: d.constraint().unwrap_or("reference").to_owned(),
                reason: d.message().to_owned(),
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Internal(other.to_string()),
    }
}

/// Runs a block in one transaction, appends the audit entries it returns, and commits both.
macro_rules! write_tx {
    ($self:ident, |$tx:ident| $body:block) => {{
        let mut txn = $self.begin_write().await?;
        let result: StoreResult<_> = async {
            let $tx: &mut sqlx::PgConnection = &mut *txn;
            $body
        }
        .await;
        let (value, entries) = result?;
        append_audit(&mut *txn, entries).await?;
        txn.commit().await.db()?;
        Result::<_, StoreError>::Ok(value)
    }};
}

/// Reads the audit chain's head and locks it until the transaction ends: the serialisation point
/// that lets several nodes append to one chain.
async fn read_audit_head(tx: &mut sqlx::PgConnection) -> StoreResult<(i64, String)> {
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok((
        head.try_get("seq").map_err(db_err)?,
        head.try_get("hash").map_err(db_err)?,
    ))
}

/// Moves the head the transaction holds.
async fn write_audit_head(tx: &mut sqlx::PgConnection, seq: i64, hash: &str) -> StoreResult<()> {
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(hash)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Writes a transaction's audit rows at once.
async fn insert_audit_rows(tx: &mut sqlx::PgConnection, entries: &[AuditEntry]) -> StoreResult<()> {
    insert_audit_rows_now(tx, entries).await
}

/// Changes the rates' counters at once.
async fn upsert_tallies(tx: &mut sqlx::PgConnection, rows: Vec<TallyRow>) -> StoreResult<()> {
    upsert_tallies_now(tx, &rows).await
}

/// A new case's insert and, in the same statement, its submission event.
fn with_submission_event(insert_appeal: &str) -> String {
    format!(
        "WITH a AS ({insert_appeal}), e AS (INSERT INTO appeal_events (appeal_id, at, actor, action, status_from, \
         status_to, text, visible) SELECT id, $18, $23, 'submit', NULL, $4, NULL, 1 FROM a) SELECT id FROM a"
    )
}

/// PostgreSQL files every case the portable way: a transaction of its own per case.
async fn create_plain_appeal(
    store: &PostgresStore,
    actor: String,
    a: NewAppeal,
) -> StoreResult<Appeal> {
    create_appeal_portable(store, actor, a, Vec::new()).await
}

include!("../../yongxin-store/sql/store_impl.rs");
include!("../../yongxin-store/sql/notice_impl.rs");
include!("../../yongxin-store/sql/consultation_impl.rs");
include!("../../yongxin-store/sql/meeting_impl.rs");
include!("../../yongxin-store/sql/resettlement_impl.rs");
include!("../../yongxin-store/sql/selection_impl.rs");
