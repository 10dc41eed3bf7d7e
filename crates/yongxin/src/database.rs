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
/// when `create` is set. A database a newer release has migrated is refused; an existing SQLite
/// database is backed up before new migrations are applied to it (into `backup_dir`, or
/// `backups` beside the file).
pub async fn open(config: &Config, create: bool) -> anyhow::Result<Arc<dyn Store>> {
    let Some(url) = config.database_url.as_deref() else {
        bail!("no database given: pass --database-url or set YONGXIN_DATABASE_URL (sqlite://yongxin.db)");
    };
    let store: Arc<dyn Store> = match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(url) => {
            let store = SqliteStore::open(&url, create).await.map_err(|e| match e {
                StoreError::NotFound { .. } => anyhow::anyhow!(
                    "database file not found ({url}); create it with `yongxin migrate` or `yongxin serve --create`"
                ),
                other => anyhow::Error::new(other),
            })?;
            let state = store.migration_state().await?;
            refuse_newer(&state)?;
            if state.pending > 0 && state.applied > 0 {
                let path = crate::cmd::backup::sqlite_path(config)?;
                let dir = match &config.backup_dir {
                    Some(d) => std::path::PathBuf::from(d),
                    None => path
                        .parent()
                        .map(|p| p.join("backups"))
                        .unwrap_or_else(|| "backups".into()),
                };
                std::fs::create_dir_all(&dir).with_context(|| {
                    format!("creating {} for the backup before upgrading", dir.display())
                })?;
                let taken = crate::cmd::backup::take(&path, &dir, None).await.context(
                    "taking a backup before upgrading the database (nothing was changed)",
                )?;
                eprintln!(
                    "yongxin: {} new migration(s) to apply; the database was first backed up to {} (head {})",
                    state.pending,
                    taken.file.display(),
                    taken.checked.head_hash
                );
            }
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
            let state = store.migration_state().await?;
            refuse_newer(&state)?;
            if state.pending > 0 && state.applied > 0 {
                eprintln!(
                    "yongxin: applying {} new migration(s) to PostgreSQL; its backups are PostgreSQL's own (pg_dump, pgBackRest)",
                    state.pending
                );
            }
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

/// Refuses a database migrated by a newer release: this build would not know its schema.
fn refuse_newer(state: &yongxin_store::MigrationState) -> anyhow::Result<()> {
    if state.unknown.is_empty() {
        return Ok(());
    }
    bail!(
        "this database was upgraded by a newer release of yongxin (migrations {:?} are unknown to this {}): run that release, or restore a backup taken before the upgrade",
        state.unknown,
        env!("CARGO_PKG_VERSION")
    )
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
