//! Open311 client keys in SQL.

use super::{DbResult, DbRow};
use crate::StoreImpl;
use async_trait::async_trait;
use chrono::Utc;
use sqlx::FromRow;
use yongxin_domain::Actor;

use yongxin_domain::NewAuditEntry;
use yongxin_store::Open311KeyStore;
use yongxin_store::{Open311Key, StoreError, StoreResult};

use crate::dialect::write_tx;

/// Reads a row of `open311_keys`.
pub(crate) fn open311_key_from(row: &DbRow) -> StoreResult<Open311Key> {
    Open311Key::from_row(row).db()
}

#[async_trait]
impl Open311KeyStore for StoreImpl {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn create_open311_key(
        &self,
        actor: &Actor,
        name: &str,
        key_hash: &str,
    ) -> StoreResult<Open311Key> {
        let (actor, name, hash) = (actor.to_string(), name.to_owned(), key_hash.to_owned());
        write_tx!(self, |tx| {
            let now = Utc::now();
            let id: i64 = sqlx::query_scalar("INSERT INTO open311_keys (name, key_hash, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(&name)
                .bind(&hash)
                .bind(&actor)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .db()?;
            let entry = NewAuditEntry::new(
                actor.clone(),
                "open311.key_add",
                format!("open311_key:{id}"),
                name.clone(),
                &serde_json::json!({ "name": name, "key_hash": hash }),
            );
            Ok((
                Open311Key {
                    id,
                    name: name.clone(),
                    created_by: actor.clone(),
                    created_at: now,
                    revoked_at: None,
                },
                vec![entry],
            ))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn open311_keys(&self) -> StoreResult<Vec<Open311Key>> {
        let rows = sqlx::query("SELECT id, name, created_by, created_at, revoked_at FROM open311_keys ORDER BY id DESC")
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(open311_key_from).collect()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn open311_key(&self, key_hash: &str) -> StoreResult<Option<Open311Key>> {
        let row = sqlx::query("SELECT id, name, created_by, created_at, revoked_at FROM open311_keys WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.as_ref().map(open311_key_from).transpose()
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn revoke_open311_key(&self, actor: &Actor, id: i64) -> StoreResult<()> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let done = sqlx::query(
                "UPDATE open311_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(Utc::now())
            .bind(id)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if done == 0 {
                return Err(StoreError::NotFound {
                    what: format!("open311 key {id}"),
                });
            }
            let entry = NewAuditEntry::new(
                actor.clone(),
                "open311.key_revoke",
                format!("open311_key:{id}"),
                "",
                &serde_json::json!({ "id": id }),
            );
            Ok(((), vec![entry]))
        })
    }
}
