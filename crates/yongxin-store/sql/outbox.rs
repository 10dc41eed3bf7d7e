//! The outbox in SQL: claiming messages under a lease, marking them sent or failed.

use super::{DbResult, CLAIM_LOCK};
use crate::StoreImpl;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::Db;
use sqlx::QueryBuilder;
use yongxin_store::OutboxStore;
use yongxin_store::{AppealId, OutboxEntry, OutboxFilter, OutboxMessage, OutboxState, StoreResult};

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

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn outbox_entries(
        &self,
        filter: &OutboxFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<OutboxEntry>, i64)> {
        let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM outbox WHERE 1 = 1");
        push_outbox_filter(&mut count, filter);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .db()?;
        let mut page = QueryBuilder::<Db>::new(
            "SELECT id, appeal_id, kind, recipient, created_at, attempts, next_attempt_at, sent_at, last_error \
             FROM outbox WHERE 1 = 1",
        );
        push_outbox_filter(&mut page, filter);
        page.push(" ORDER BY id DESC LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        let rows = page.build_query_as().fetch_all(&self.pool).await.db()?;
        Ok((rows, total))
    }

    #[tracing::instrument(skip_all, fields(message_id), err(level = "debug"))]
    async fn rating_link(&self, message_id: i64) -> StoreResult<Option<(AppealId, bool)>> {
        let row: Option<(Option<AppealId>, String)> =
            sqlx::query_as("SELECT appeal_id, kind FROM outbox WHERE id = $1")
                .bind(message_id)
                .fetch_optional(&self.pool)
                .await
                .db()?;
        let Some((Some(appeal_id), kind)) = row else {
            return Ok(None);
        };
        if kind != "resident_answered" {
            return Ok(None);
        }
        let latest: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(id) FROM outbox WHERE appeal_id = $1 AND kind = 'resident_answered'",
        )
        .bind(appeal_id)
        .fetch_one(&self.pool)
        .await
        .db()?;
        Ok(Some((appeal_id, latest == Some(message_id))))
    }
}

/// The outbox page's filter as SQL conditions.
fn push_outbox_filter(qb: &mut QueryBuilder<'static, Db>, f: &OutboxFilter) {
    match f.state {
        Some(OutboxState::Sent) => {
            qb.push(" AND sent_at IS NOT NULL");
        }
        Some(OutboxState::Waiting) => {
            qb.push(" AND sent_at IS NULL AND attempts = 0");
        }
        Some(OutboxState::Failing) => {
            qb.push(" AND sent_at IS NULL AND attempts > 0");
        }
        None => {}
    }
    if let Some(channel) = &f.channel {
        qb.push(" AND recipient LIKE ")
            .push_bind(format!("{channel}:%"));
    }
    if let Some(kind) = &f.kind {
        qb.push(" AND kind = ").push_bind(kind.clone());
    }
    if let Some(id) = f.appeal_id {
        qb.push(" AND appeal_id = ").push_bind(id);
    }
}
