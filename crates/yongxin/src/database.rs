//! Picks the storage backend from the database URL's scheme.

use std::sync::Arc;

use anyhow::{bail, Context};
use yongxin_store::{Store, StoreError};
use yongxin_store_postgres::PostgresStore;
use yongxin_store_sqlite::SqliteStore;

use crate::config::Config;

/// A database URL whose scheme yongxin understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH`
    Sqlite(String),
    /// `postgres://…` or `postgresql://…`
    Postgres(String),
}

impl DatabaseUrl {
    /// Refuses any other scheme rather than guessing.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite://") {
            Ok(Self::Sqlite(url.to_owned()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else {
            bail!("unsupported database URL {url:?}: use sqlite://PATH or postgres://USER@HOST/DB")
        }
    }
}

/// Opens the configured database and brings its schema up to date. A SQLite file is created only
/// when `create` is set.
pub async fn open(config: &Config, create: bool) -> anyhow::Result<Arc<dyn Store>> {
    let Some(url) = config.database_url.as_deref() else {
        bail!("no database given: pass --database-url or set YONGXIN_DATABASE_URL (sqlite://yongxin.db)");
    };
    open_url(url, create).await
}

/// Opens a database by URL; see [`open`]. A database without a service catalogue gets the
/// default one.
pub async fn open_url(url: &str, create: bool) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(url) => {
            let store = SqliteStore::open(&url, create).await.map_err(|e| match e {
                StoreError::NotFound { .. } => anyhow::anyhow!(
                    "database file not found ({url}); create it with `yongxin migrate` or `yongxin serve --create`"
                ),
                other => anyhow::Error::new(other),
            })?;
            store
                .migrate()
                .await
                .context("migrating the SQLite database")?;
            Arc::new(store)
        }
        DatabaseUrl::Postgres(url) => {
            let store = PostgresStore::open(&url)
                .await
                .context("connecting to PostgreSQL")?;
            store
                .migrate()
                .await
                .context("migrating the PostgreSQL database")?;
            Arc::new(store)
        }
    };
    yongxin_demo::ensure_catalogue(&*store).await?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_schemes_are_accepted() {
        assert!(matches!(
            DatabaseUrl::parse("sqlite://x.db"),
            Ok(DatabaseUrl::Sqlite(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/d"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/d"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        for bad in ["mysql://u@h/d", "x.db", "sqlite:x.db", ""] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let sqlite: Vec<(i64, String)> = yongxin_store_sqlite::MIGRATOR
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect();
        let postgres: Vec<(i64, String)> = yongxin_store_postgres::MIGRATOR
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect();
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres);
    }
}
