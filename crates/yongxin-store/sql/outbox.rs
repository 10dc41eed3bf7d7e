//! The outbox in SQL: claiming messages under a lease, marking them sent or failed.

use super::{DbResult, CLAIM_LOCK};
use crate::StoreImpl;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use yongxin_store::OutboxStore;
use yongxin_store::{OutboxMessage, StoreResult};

use crate::dialect::write_tx;

#[async_trait]
impl OutboxStore for StoreImpl {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn claim_messages(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<OutboxMessage>> {
        write_tx!(self, |tx| {
            let sql = format!(
                "UPDATE outbox SET next_attempt_at = $1 WHERE id IN \
                 (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $2 ORDER BY id LIMIT $3{CLAIM_LOCK}) \
                 RETURNING id, appeal_id, kind, recipient, attempts"
            );
            let mut messages: Vec<OutboxMessage> = sqlx::query_as(&sql)
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await
                .db()?;
            messages.sort_by_key(|m| m.id);
            Ok((messages, Vec::new()))
        })
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn message_sent(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
        write_tx!(self, |tx| {
            sqlx::query("UPDATE outbox SET sent_at = $1, last_error = NULL WHERE id = $2")
                .bind(at)
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
            Ok(((), Vec::new()))
        })
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn message_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let error: String = error.chars().take(500).collect();
        write_tx!(self, |tx| {
            sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3")
                .bind(&error)
                .bind(retry_at)
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
            Ok(((), Vec::new()))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn pending_messages(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL")
            .fetch_one(&self.pool)
            .await
            .db()
    }
}
