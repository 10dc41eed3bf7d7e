//! Deadlines lapsing, card notices and supervision notices in SQL.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use yongxin_domain::appeal::AppealStatus;
use yongxin_domain::NewAuditEntry;
use yongxin_store::{Appeal, Conflict, StoreError, StoreResult, SupervisionNotice};
use yongxin_store::{AppealId, HouseholdId};

use super::appeals::{
    appeal_from, appeal_in, appeals_through, facts_from, APPEAL_SELECT, CONTACT_UNLAPSED,
    FACTS_SELECT, RESOLUTION_UNLAPSED,
};
use super::push_list;
use super::rates::{move_tallies, RateSubject};
use super::{Db, DbConn, DbResult, DbRow, CLAIM_LOCK, ROW_LOCK};
use crate::dialect::write_tx;
use crate::StoreImpl;
use sqlx::FromRow;
use yongxin_domain::appeal::Deadline;
use yongxin_domain::calendar::CardColour;
use yongxin_domain::Actor;
use yongxin_store::SupervisionStore;

pub(crate) const SUPERVISION_SELECT: &str =
    "SELECT id, appeal_id, issued_by, issued_at, due_at, text, answered_by, answered_at, answer FROM supervision_notices";

/// Reads a row of [`SUPERVISION_SELECT`].
pub(crate) fn supervision_from(row: &DbRow) -> StoreResult<SupervisionNotice> {
    SupervisionNotice::from_row(row).db()
}

pub(crate) async fn supervision_in(tx: &mut DbConn, id: i64) -> StoreResult<SupervisionNotice> {
    let sql = format!("{SUPERVISION_SELECT} WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .db()?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("supervision notice {id}"),
        })?;
    supervision_from(&row)
}

/// The id of a row read for more than its id.
#[derive(sqlx::FromRow)]
struct RowId {
    id: i64,
}

/// What hot-issue detection reads of a case.
#[derive(sqlx::FromRow)]
struct CaseMarkRow {
    id: i64,
    created_at: DateTime<Utc>,
    category_code: String,
    village_name: Option<String>,
    household_id: Option<HouseholdId>,
    address: String,
    status: String,
}

#[async_trait]
impl SupervisionStore for StoreImpl {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn card_candidates(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<(Appeal, Vec<(Deadline, CardColour)>)>> {
        let mut found: std::collections::BTreeMap<AppealId, Appeal> =
            std::collections::BTreeMap::new();
        // A deadline whose red card has been announced has nothing more to announce, so each pass
        // reads only the cases still approaching or newly past a deadline.
        for (index, waiting, deadline) in [
            ("appeals_uncontacted_due_idx", "a.contacted_at IS NULL AND a.cadre_user_id IS NOT NULL AND a.contact_due >= $1 AND a.contact_due < $2", "contact"),
            ("appeals_unanswered_due_idx", "a.answered_at IS NULL AND a.cadre_user_id IS NOT NULL AND a.resolution_due >= $1 AND a.resolution_due < $2", "resolution"),
        ] {
            let select = APPEAL_SELECT.replace("FROM appeals a", &format!("FROM {}", appeals_through(index)));
            let sql = format!(
                "{select} WHERE {waiting} AND a.status NOT IN ('answered', 'closed', 'declined', 'merged') \
                 AND NOT EXISTS (SELECT 1 FROM card_notices n WHERE n.appeal_id = a.id AND n.deadline = '{deadline}' AND n.card = 'red')"
            );
            for row in sqlx::query(&sql).bind(from).bind(until).fetch_all(&self.pool).await.db()? {
                let a = appeal_from(&row)?;
                found.insert(a.id, a);
            }
        }
        let mut had: HashMap<AppealId, Vec<(Deadline, CardColour)>> = HashMap::new();
        let ids: Vec<AppealId> = found.keys().copied().collect();
        for chunk in ids.chunks(500) {
            let mut qb = QueryBuilder::<Db>::new(
                "SELECT appeal_id, deadline, card FROM card_notices WHERE appeal_id IN (",
            );
            push_list(&mut qb, chunk.iter().copied());
            qb.push(")");
            let rows: Vec<(AppealId, String, String)> =
                qb.build_query_as().fetch_all(&self.pool).await.db()?;
            for (appeal, deadline, card) in rows {
                let (deadline, card) = (
                    Deadline::try_from(deadline).map_err(StoreError::internal)?,
                    CardColour::try_from(card).map_err(StoreError::internal)?,
                );
                had.entry(appeal).or_default().push((deadline, card));
            }
        }
        Ok(found
            .into_values()
            .map(|a| {
                let h = had.remove(&a.id).unwrap_or_default();
                (a, h)
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(appeal_id), err(level = "debug"))]
    async fn notify_card(
        &self,
        appeal_id: AppealId,
        deadline: Deadline,
        card: CardColour,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (deadline, card) = (deadline.code(), card.code());
        write_tx!(self, |tx| {
            let cadre: Option<i64> = sqlx::query_scalar(&format!(
                "SELECT cadre_user_id FROM appeals WHERE id = $1{ROW_LOCK}"
            ))
            .bind(appeal_id)
            .fetch_optional(&mut *tx)
            .await
            .db()?
            .flatten();
            let Some(cadre) = cadre else {
                return Ok((false, Vec::new()));
            };
            let recorded = sqlx::query(
                "INSERT INTO card_notices (appeal_id, deadline, card, noticed_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (appeal_id, deadline, card) DO NOTHING",
            )
            .bind(appeal_id)
            .bind(deadline)
            .bind(card)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
            if recorded == 0 {
                return Ok((false, Vec::new()));
            }
            sqlx::query("INSERT INTO outbox (appeal_id, kind, recipient, created_at, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, 0, $5)")
                .bind(appeal_id)
                .bind(format!("cadre_{card}_card"))
                .bind(format!("user:{cadre}"))
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?;
            let entry = NewAuditEntry::new(
                Actor::system("cards"),
                "appeal.card",
                format!("appeal:{appeal_id}"),
                format!("{card} {deadline}"),
                &serde_json::json!({ "deadline": deadline, "card": card, "cadre": cadre }),
            );
            Ok((true, vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn lapse_deadlines(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut recorded = 0;
        loop {
            // A few hundred at a time, so no write holds the lock for long.
            let n: u64 = write_tx!(self, |tx| {
                let mut n = 0;
                for ((index, unlapsed), column) in [
                    (CONTACT_UNLAPSED, "contact_lapsed"),
                    (RESOLUTION_UNLAPSED, "resolution_lapsed"),
                ] {
                    let facts_from_index = FACTS_SELECT
                        .replace("FROM appeals", &format!("FROM {}", appeals_through(index)));
                    let sql = format!("{facts_from_index} WHERE {unlapsed} LIMIT 300{CLAIM_LOCK}");
                    let rows = sqlx::query(&sql).bind(now).fetch_all(&mut *tx).await.db()?;
                    if rows.is_empty() {
                        continue;
                    }
                    let mut qb = QueryBuilder::<Db>::new(format!(
                        "UPDATE appeals SET {column} = 1 WHERE id IN ("
                    ));
                    let mut ids = qb.separated(", ");
                    for row in &rows {
                        let subject = RateSubject::from_row(row)?;
                        let facts = facts_from(row)?;
                        let mut lapsed = subject.lapsed;
                        if column == "contact_lapsed" {
                            lapsed.contact = true;
                        } else {
                            lapsed.resolution = true;
                        }
                        move_tallies(
                            tx,
                            &subject,
                            Some((&facts, subject.lapsed)),
                            (&facts, lapsed),
                        )
                        .await?;
                        ids.push_bind(RowId::from_row(row).db()?.id);
                        n += 1;
                    }
                    qb.push(")");
                    qb.build().execute(&mut *tx).await.db()?;
                }
                Ok((n, Vec::new()))
            })?;
            if n == 0 {
                return Ok(recorded);
            }
            recorded += n;
        }
    }

    #[tracing::instrument(skip_all, fields(appeal_id), err(level = "debug"))]
    async fn issue_supervision(
        &self,
        actor: &Actor,
        appeal_id: AppealId,
        text: &str,
        due_at: DateTime<Utc>,
    ) -> StoreResult<SupervisionNotice> {
        let (actor, text) = (actor.to_string(), text.to_owned());
        write_tx!(self, |tx| {
            let appeal = appeal_in(tx, appeal_id).await?;
            let now = Utc::now();
            let id: i64 = sqlx::query_scalar("INSERT INTO supervision_notices (appeal_id, issued_by, issued_at, due_at, text) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                .bind(appeal_id)
                .bind(&actor)
                .bind(now)
                .bind(due_at)
                .bind(&text)
                .fetch_one(&mut *tx)
                .await
                .db()?;
            if let Some(cadre) = appeal.cadre_user_id {
                sqlx::query("INSERT INTO outbox (appeal_id, kind, recipient, created_at, attempts, next_attempt_at) VALUES ($1, 'cadre_supervised', $2, $3, 0, $4)")
                    .bind(appeal_id)
                    .bind(format!("user:{cadre}"))
                    .bind(now)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
            let notice = supervision_in(tx, id).await?;
            let entry = NewAuditEntry::new(
                actor,
                "supervision.issue",
                format!("appeal:{appeal_id}"),
                format!("{} 督办 #{id}", appeal.number),
                &serde_json::json!({ "notice": id, "text": text, "due_at": due_at.to_rfc3339() }),
            );
            Ok((notice, vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(notice_id), err(level = "debug"))]
    async fn answer_supervision(
        &self,
        actor: &Actor,
        notice_id: i64,
        answer: &str,
    ) -> StoreResult<SupervisionNotice> {
        let (actor, answer) = (actor.to_string(), answer.to_owned());
        write_tx!(self, |tx| {
            let done = sqlx::query("UPDATE supervision_notices SET answered_by = $1, answered_at = $2, answer = $3 WHERE id = $4 AND answered_at IS NULL")
                .bind(&actor)
                .bind(Utc::now())
                .bind(&answer)
                .bind(notice_id)
                .execute(&mut *tx)
                .await
                .db()?;
            let notice = supervision_in(tx, notice_id).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::conflict(Conflict::AlreadyAnswered));
            }
            let entry = NewAuditEntry::new(
                actor,
                "supervision.answer",
                format!("appeal:{}", notice.appeal_id),
                format!("督办 #{notice_id}"),
                &serde_json::json!({ "notice": notice_id, "answer": answer }),
            );
            Ok((notice, vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(appeal_id), err(level = "debug"))]
    async fn supervision_notices(
        &self,
        appeal_id: AppealId,
    ) -> StoreResult<Vec<SupervisionNotice>> {
        let sql = format!("{SUPERVISION_SELECT} WHERE appeal_id = $1 ORDER BY id");
        let rows = sqlx::query_as(&sql)
            .bind(appeal_id)
            .fetch_all(&self.pool)
            .await
            .db()?;
        Ok(rows)
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn open_supervision_notices(&self, limit: i64) -> StoreResult<Vec<SupervisionNotice>> {
        let sql =
            format!("{SUPERVISION_SELECT} WHERE answered_at IS NULL ORDER BY due_at, id LIMIT $1");
        let rows = sqlx::query_as(&sql)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .db()?;
        Ok(rows)
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn case_marks(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<yongxin_domain::hot::CaseMark>> {
        let rows: Vec<CaseMarkRow> = sqlx::query_as(
            "SELECT a.id, a.created_at, a.category_code, v.name AS village_name, a.household_id, a.address, a.status \
             FROM appeals a LEFT JOIN villages v ON v.id = a.village_id WHERE a.created_at >= $1 ORDER BY a.created_at, a.id LIMIT 200000",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(rows
            .into_iter()
            .map(|r| yongxin_domain::hot::CaseMark {
                id: r.id,
                created_at: r.created_at,
                category: r.category_code,
                village: r.village_name,
                household_id: r.household_id.map(HouseholdId::get),
                address: r.address,
                open: AppealStatus::parse(&r.status)
                    .is_some_and(|s| s.is_open() && s != AppealStatus::Answered),
            })
            .collect())
    }
}
