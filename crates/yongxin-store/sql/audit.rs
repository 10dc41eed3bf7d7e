//! The audit chain (留痕) in SQL: sealing entries onto the head a write holds, and reading the record.

use super::{Db, DbConn, DbResult, DbRow, Dialect};
use crate::StoreImpl;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::FromRow;
use sqlx::QueryBuilder;
use yongxin_domain::audit::GENESIS_HASH;
use yongxin_domain::{AuditEntry, NewAuditEntry};
use yongxin_store::AuditLog;
use yongxin_store::StoreResult;

use crate::dialect::write_tx;

/// A row of `audit_log`.
#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    entity: String,
    summary: String,
    digest: String,
    prev_hash: String,
    hash: String,
}

/// Reads a row of `audit_log`.
pub(crate) fn audit_from(row: &DbRow) -> StoreResult<AuditEntry> {
    let r = AuditRow::from_row(row).db()?;
    Ok(AuditEntry {
        seq: r.seq,
        at: r.at,
        actor: r.actor,
        action: r.action,
        entity: r.entity,
        summary: r.summary,
        digest: r.digest,
        prev_hash: r.prev_hash,
        hash: r.hash,
    })
}

/// Appends entries after the locked head, in the caller's transaction.
pub(crate) async fn append_audit(
    tx: &mut DbConn,
    entries: Vec<NewAuditEntry>,
) -> StoreResult<Vec<AuditEntry>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let head = StoreImpl::read_audit_head(tx).await?;
    let (sealed, (seq, hash)) = seal_entries(head, entries, Utc::now());
    StoreImpl::write_audit_rows_at_commit(tx, &sealed).await?;
    StoreImpl::write_audit_head(tx, seq, &hash).await?;
    Ok(sealed)
}

/// Seals entries onto the chain after `head`; answers them and the new head.
pub(crate) fn seal_entries(
    head: (i64, String),
    entries: Vec<NewAuditEntry>,
    at: DateTime<Utc>,
) -> (Vec<AuditEntry>, (i64, String)) {
    let (mut seq, mut prev) = head;
    let mut sealed = Vec::with_capacity(entries.len());
    for entry in entries {
        seq += 1;
        let e = entry.seal(seq, at, &prev);
        prev.clone_from(&e.hash);
        sealed.push(e);
    }
    (sealed, (seq, prev))
}

/// The audit rows' insert, before its values.
pub(crate) const AUDIT_INSERT: &str =
    "INSERT INTO audit_log (seq, at, actor, action, entity, summary, digest, prev_hash, hash) ";

/// Writes sealed audit entries, a thousand rows per statement.
pub(crate) async fn insert_audit_rows_now(
    tx: &mut DbConn,
    entries: &[AuditEntry],
) -> StoreResult<()> {
    for chunk in entries.chunks(1000) {
        let mut qb = QueryBuilder::<Db>::new(AUDIT_INSERT);
        qb.push_values(chunk, |mut row, e| {
            row.push_bind(e.seq)
                .push_bind(e.at)
                .push_bind(e.actor.as_str())
                .push_bind(e.action.as_str())
                .push_bind(e.entity.as_str())
                .push_bind(e.summary.as_str())
                .push_bind(e.digest.as_str())
                .push_bind(e.prev_hash.as_str())
                .push_bind(e.hash.as_str());
        });
        qb.build().execute(&mut *tx).await.db()?;
    }
    Ok(())
}

#[async_trait]
impl AuditLog for StoreImpl {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn record(&self, entries: Vec<NewAuditEntry>) -> StoreResult<Vec<AuditEntry>> {
        // Appended here rather than returned, because the caller wants the sealed entries back.
        write_tx!(self, |tx| {
            let sealed = append_audit(tx, entries).await?;
            Ok((sealed, Vec::new()))
        })
    }

    #[tracing::instrument(skip_all, fields(after_seq), err(level = "debug"))]
    async fn audit_entries(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, entity, summary, digest, prev_hash, hash FROM audit_log \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(audit_from).collect()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn recent_audit_entries(&self, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, entity, summary, digest, prev_hash, hash FROM audit_log ORDER BY seq DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(audit_from).collect()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        let (seq, hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await
                .db()?;
        Ok((seq > 0 || hash != GENESIS_HASH).then_some((seq, hash)))
    }
}
