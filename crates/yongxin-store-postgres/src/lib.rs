//! The PostgreSQL backend, for larger deployments where several stateless app nodes share one
//! database.
//!
//! Writers lock the audit head row (`SELECT … FOR UPDATE`) so that entries from every node form a
//! single chain; everything else is ordinary READ COMMITTED.
#![forbid(unsafe_code)]

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use yongxin_store::{StoreError, StoreResult};

mod dialect;
#[path = "../../yongxin-store/sql/mod.rs"]
mod sql;

use crate::dialect::db_err;

/// The store type the shared SQL implements its traits for.
type StoreImpl = PostgresStore;

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
            .map_err(|e| StoreError::internal(format!("migration failed: {e}")))
    }

    /// How this database's schema stands against this build's migrations.
    pub async fn migration_state(&self) -> StoreResult<yongxin_store::MigrationState> {
        sql::migration_state(&self.pool, &MIGRATOR).await
    }

    /// The connection pool, for tests that must reach under the store (to tamper with the record).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.pool.begin().await.map_err(db_err)
    }
}
