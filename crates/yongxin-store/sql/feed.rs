//! The feed the search index follows, in SQL.

use std::collections::HashMap;

use super::push_list;
use super::{Db, DbResult};
use crate::StoreImpl;
use async_trait::async_trait;
use sqlx::QueryBuilder;
use yongxin_store::AppealFeed;
use yongxin_store::AppealId;
use yongxin_store::{Appeal, AppealSearchDoc, StoreResult};

use super::appeals::{appeal_from, APPEAL_SELECT};

#[async_trait]
impl AppealFeed for StoreImpl {
    #[tracing::instrument(skip_all, fields(after_seq), err(level = "debug"))]
    async fn appeal_changes(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<(Vec<AppealId>, Option<(i64, String)>)> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT seq, entity, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .db()?;
        let mut ids = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut last = None;
        for (seq, entity, hash) in rows {
            if let Some(id) = entity
                .strip_prefix("appeal:")
                .and_then(|id| id.parse::<AppealId>().ok())
            {
                if seen.insert(id) {
                    ids.push(id);
                }
            }
            last = Some((seq, hash));
        }
        Ok((ids, last))
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn appeal_ids_after(&self, after_id: AppealId, limit: i64) -> StoreResult<Vec<AppealId>> {
        sqlx::query_scalar("SELECT id FROM appeals WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .db()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn appeals_by_ids(&self, ids: &[AppealId]) -> StoreResult<Vec<Appeal>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb: QueryBuilder<'static, Db> = QueryBuilder::new(APPEAL_SELECT);
        qb.push(" WHERE a.id IN (");
        push_list(&mut qb, ids.iter().copied());
        qb.push(")");
        let rows = qb.build().fetch_all(&self.pool).await.db()?;
        let mut found: HashMap<AppealId, Appeal> = HashMap::new();
        for row in &rows {
            let appeal = appeal_from(row)?;
            found.insert(appeal.id, appeal);
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn appeal_search_docs(&self, ids: &[AppealId]) -> StoreResult<Vec<AppealSearchDoc>> {
        let appeals = self.appeals_by_ids(ids).await?;
        if appeals.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb: QueryBuilder<'static, Db> =
            QueryBuilder::new("SELECT appeal_id, actor, action, text, visible FROM appeal_events WHERE (text IS NOT NULL OR action = 'submit') AND appeal_id IN (");
        push_list(&mut qb, appeals.iter().map(|a| a.id));
        qb.push(") ORDER BY id");
        let rows: Vec<(AppealId, String, String, Option<String>, i64)> =
            qb.build_query_as().fetch_all(&self.pool).await.db()?;
        let mut notes: HashMap<AppealId, (Vec<String>, Vec<String>)> = HashMap::new();
        let mut submitters: HashMap<AppealId, String> = HashMap::new();
        for (id, actor, action, text, visible) in rows {
            if action == "submit" {
                submitters.insert(id, actor);
            }
            let Some(text) = text else {
                continue;
            };
            let entry = notes.entry(id).or_default();
            if visible != 0 {
                entry.0.push(text)
            } else {
                entry.1.push(text)
            }
        }
        Ok(appeals
            .into_iter()
            .map(|appeal| {
                let (public_notes, internal_notes) = notes.remove(&appeal.id).unwrap_or_default();
                AppealSearchDoc {
                    submitted_by: submitters.remove(&appeal.id).unwrap_or_default(),
                    appeal,
                    public_notes,
                    internal_notes,
                }
            })
            .collect())
    }
}
