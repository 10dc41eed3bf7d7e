//! Notices in SQL: projects, notices and their versions, attachments, informed households and
//! objections.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use yongxin_domain::NewAuditEntry;
use yongxin_store::{Appeal, HouseholdSummary, NewAppeal, StoreError, StoreResult};
use yongxin_store::{AppealId, HouseholdId, ProjectId};

use super::appeals::{file_appeal, to_the_microsecond, AppealRow, APPEAL_SELECT};
use super::registry::HouseholdRow;
use super::registry::HOUSEHOLD_SELECT;
use crate::dialect::write_tx;

use super::push_list;
use super::{corrupt, fetch_page, Db, DbConn, DbResult, DbRow, ROW_LOCK};
use crate::StoreImpl;
use sqlx::FromRow;
use yongxin_domain::notice::{objections_open, CheckedNotice, NoticeError, NoticeKind, ScopeKind};
use yongxin_domain::Actor;
use yongxin_store::{
    CoverageRow, Informed, InformedHow, NewAttachment, NewProject, Notice, NoticeAttachment,
    NoticePage, NoticeQuery, NoticeStore, NoticeVersion, Project,
};

pub(crate) const NOTICE_SELECT: &str = "SELECT n.id, n.kind, n.scope, n.project_id, n.title, n.body, n.publish_at, n.end_at, n.objections_until, \
     n.version, n.created_by, n.created_at, n.updated_at, \
     (SELECT COUNT(*) FROM appeals a WHERE a.notice_id = n.id) AS objections, \
     (SELECT COUNT(*) FROM appeals a WHERE a.notice_id = n.id AND (a.answered_at IS NOT NULL OR a.status IN ('declined', 'merged'))) AS objections_answered \
     FROM notices n";

/// Reads a row of [`NOTICE_SELECT`] (its villages are filled in by [`with_notice_villages`]).
pub(crate) fn notice_from(row: &DbRow) -> StoreResult<Notice> {
    Notice::from_row(row).db()
}

/// Fills in the villages of notices scoped to villages, with one query.
pub(crate) async fn with_notice_villages<'c, E>(
    executor: E,
    mut notices: Vec<Notice>,
) -> StoreResult<Vec<Notice>>
where
    E: sqlx::Executor<'c, Database = Db>,
{
    let ids: Vec<i64> = notices
        .iter()
        .filter(|n| n.scope == ScopeKind::Villages)
        .map(|n| n.id)
        .collect();
    if ids.is_empty() {
        return Ok(notices);
    }
    let mut qb = QueryBuilder::<Db>::new(
        "SELECT notice_id, village_id FROM notice_villages WHERE notice_id IN (",
    );
    push_list(&mut qb, ids.iter().copied());
    qb.push(") ORDER BY notice_id, village_id");
    let rows: Vec<(i64, i64)> = qb.build_query_as().fetch_all(executor).await.db()?;
    let mut villages: HashMap<i64, Vec<i64>> = HashMap::new();
    for (notice, village) in rows {
        villages.entry(notice).or_default().push(village);
    }
    for n in &mut notices {
        if let Some(v) = villages.remove(&n.id) {
            n.village_ids = v;
        }
    }
    Ok(notices)
}

pub(crate) async fn notice_in(tx: &mut DbConn, id: i64) -> StoreResult<Notice> {
    let sql = format!("{NOTICE_SELECT} WHERE n.id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .db()?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("notice {id}"),
        })?;
    let notice = notice_from(&row)?;
    Ok(with_notice_villages(&mut *tx, vec![notice])
        .await?
        .remove(0))
}

/// An attachment's row with its bytes.
#[derive(sqlx::FromRow)]
struct AttachmentWithBytes {
    #[sqlx(flatten)]
    attachment: NoticeAttachment,
    bytes: Vec<u8>,
}

/// Restricts a household query to the households a notice addresses.
pub(crate) fn push_notice_households(qb: &mut QueryBuilder<'static, Db>, notice: &Notice) {
    match notice.scope {
        ScopeKind::Subdistrict => qb.push(" WHERE 1 = 1"),
        ScopeKind::Villages => qb.push(" WHERE h.village_id IN (SELECT village_id FROM notice_villages WHERE notice_id = ").push_bind(notice.id).push(")"),
        ScopeKind::Project => qb
            .push(" WHERE h.village_id IN (SELECT village_id FROM project_villages WHERE project_id = ")
            .push_bind(notice.project_id.unwrap_or_default())
            .push(")"),
    };
}

/// Restricts a household query to the grids of the villages a notice addresses (the grid index
/// then serves it).
pub(crate) fn push_notice_grids(qb: &mut QueryBuilder<'static, Db>, notice: &Notice) {
    push_scope_grids(
        qb,
        notice.scope,
        ("notice_villages", "notice_id", notice.id),
        notice.project_id,
    );
}

/// Restricts a household query (alias `h`) to the grids of a population: everything, the
/// villages listed in `villages` (table, key column, key), or a project's villages.
pub(crate) fn push_scope_grids(
    qb: &mut QueryBuilder<'static, Db>,
    scope: ScopeKind,
    villages: (&str, &str, i64),
    project_id: Option<ProjectId>,
) {
    match scope {
        ScopeKind::Subdistrict => {}
        ScopeKind::Villages => {
            let (table, key, id) = villages;
            qb.push(format!(" AND h.grid_id IN (SELECT g.id FROM grids g JOIN {table} sv ON sv.village_id = g.village_id WHERE sv.{key} = "))
                .push_bind(id)
                .push(")");
        }
        ScopeKind::Project => {
            qb.push(" AND h.grid_id IN (SELECT g.id FROM grids g JOIN project_villages pv ON pv.village_id = g.village_id WHERE pv.project_id = ")
                .push_bind(project_id.unwrap_or_default())
                .push(")");
        }
    }
}

/// Writes a checked draft as version 1 inside a write; answers the notice and its record entry.
pub(crate) async fn insert_notice(
    tx: &mut DbConn,
    actor: &str,
    d: CheckedNotice,
) -> StoreResult<(Notice, NewAuditEntry)> {
    let d = d.into_draft();
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    let trunc = |t: DateTime<Utc>| chrono::SubsecRound::trunc_subsecs(t, 6);
    let (publish_at, end_at, objections_until) = (
        trunc(d.publish_at),
        d.end_at.map(trunc),
        d.objections_until.map(trunc),
    );
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO notices (kind, scope, project_id, title, body, publish_at, end_at, objections_until, version, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $10) RETURNING id",
    )
    .bind(d.kind.code())
    .bind(d.scope.code())
    .bind(d.project_id)
    .bind(&d.title)
    .bind(&d.body)
    .bind(publish_at)
    .bind(end_at)
    .bind(objections_until)
    .bind(actor)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    for v in &d.village_ids {
        sqlx::query("INSERT INTO notice_villages (notice_id, village_id) VALUES ($1, $2)")
            .bind(id)
            .bind(*v)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    sqlx::query("INSERT INTO notice_versions (notice_id, version, title, body, author, at, reason) VALUES ($1, 1, $2, $3, $4, $5, NULL)")
        .bind(id)
        .bind(&d.title)
        .bind(&d.body)
        .bind(actor)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
    let entry = NewAuditEntry::new(
        actor.to_string(),
        "notice.publish",
        format!("notice:{id}"),
        d.title.clone(),
        &serde_json::json!({
            "kind": d.kind.code(), "scope": d.scope.code(), "villages": d.village_ids, "project": d.project_id, "title": d.title,
            "body": d.body, "publish_at": publish_at, "end_at": end_at, "objections_until": objections_until
        }),
    );
    let notice = Notice {
        id,
        kind: d.kind,
        scope: d.scope,
        village_ids: d.village_ids,
        project_id: d.project_id.map(ProjectId),
        title: d.title,
        body: d.body,
        publish_at,
        end_at,
        objections_until,
        version: 1,
        created_by: actor.to_string(),
        created_at: now,
        updated_at: now,
        objections: 0,
        objections_answered: 0,
    };
    Ok((notice, entry))
}

/// Publishes a draft once for a row that records its notice in `column` (a consultation's
/// results, a meeting's minutes): the row is read under the write's lock, so two clicks publish
/// one notice; the second answers the first's.
pub(crate) async fn publish_once(
    tx: &mut DbConn,
    actor: &str,
    (table, column, id): (&str, &str, i64),
    action: &str,
    d: CheckedNotice,
) -> StoreResult<(Notice, Vec<NewAuditEntry>)> {
    let sql = format!("SELECT {column} FROM {table} WHERE id = $1{ROW_LOCK}");
    let existing: Option<Option<i64>> = sqlx::query_scalar(&sql)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
    match existing {
        None => Err(StoreError::NotFound {
            what: format!("{table} {id}"),
        }),
        Some(Some(n)) => Ok((notice_in(tx, n).await?, Vec::new())),
        Some(None) => {
            let (notice, entry) = insert_notice(tx, actor, d).await?;
            sqlx::query(&format!("UPDATE {table} SET {column} = $1 WHERE id = $2"))
                .bind(notice.id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
            let link = NewAuditEntry::new(
                actor.to_string(),
                action,
                format!("{}:{id}", table.trim_end_matches('s')),
                format!("notice:{}", notice.id),
                &serde_json::json!({ "notice_id": notice.id }),
            );
            Ok((notice, vec![entry, link]))
        }
    }
}

#[async_trait]
impl NoticeStore for StoreImpl {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn create_project(&self, actor: &Actor, p: NewProject) -> StoreResult<Project> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let id: ProjectId = sqlx::query_scalar(
                "INSERT INTO projects (code, name, created_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(&p.code)
            .bind(&p.name)
            .bind(Utc::now())
            .fetch_one(&mut *tx)
            .await
            .db()?;
            let mut villages = p.village_ids.clone();
            villages.sort_unstable();
            villages.dedup();
            for v in &villages {
                sqlx::query(
                    "INSERT INTO project_villages (project_id, village_id) VALUES ($1, $2)",
                )
                .bind(id)
                .bind(*v)
                .execute(&mut *tx)
                .await
                .db()?;
            }
            let entry = NewAuditEntry::new(
                actor,
                "project.create",
                format!("project:{id}"),
                p.name.clone(),
                &serde_json::json!({ "code": p.code, "name": p.name, "villages": villages }),
            );
            Ok((
                Project {
                    id,
                    code: p.code,
                    name: p.name,
                    village_ids: villages,
                },
                vec![entry],
            ))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn projects(&self) -> StoreResult<Vec<Project>> {
        let rows: Vec<(ProjectId, String, String)> =
            sqlx::query_as("SELECT id, code, name FROM projects ORDER BY code")
                .fetch_all(&self.pool)
                .await
                .db()?;
        let links: Vec<(ProjectId, i64)> = sqlx::query_as(
            "SELECT project_id, village_id FROM project_villages ORDER BY project_id, village_id",
        )
        .fetch_all(&self.pool)
        .await
        .db()?;
        let mut villages: HashMap<ProjectId, Vec<i64>> = HashMap::new();
        for (project, village) in links {
            villages.entry(project).or_default().push(village);
        }
        Ok(rows
            .into_iter()
            .map(|(id, code, name)| Project {
                id,
                code,
                name,
                village_ids: villages.remove(&id).unwrap_or_default(),
            })
            .collect())
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn create_notice(&self, actor: &Actor, d: CheckedNotice) -> StoreResult<Notice> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let (notice, entry) = insert_notice(tx, &actor, d).await?;
            Ok((notice, vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(week), err(level = "debug"))]
    async fn publish_audit_head(
        &self,
        actor: &Actor,
        week: &str,
        (seq, hash): (i64, &str),
        d: CheckedNotice,
    ) -> StoreResult<(Notice, bool)> {
        let (actor, week, hash) = (actor.to_string(), week.to_owned(), hash.to_owned());
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
        write_tx!(self, |tx| {
            let sql = format!("SELECT notice_id FROM audit_publications WHERE week = $1{ROW_LOCK}");
            let existing: Option<i64> = sqlx::query_scalar(&sql)
                .bind(&week)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
            if let Some(n) = existing {
                return Ok(((notice_in(tx, n).await?, false), Vec::new()));
            }
            let (notice, entry) = insert_notice(tx, &actor, d).await?;
            sqlx::query(
                "INSERT INTO audit_publications (week, seq, hash, notice_id, published_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&week)
            .bind(seq)
            .bind(&hash)
            .bind(notice.id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
            let published = NewAuditEntry::new(
                actor.clone(),
                "audit.publish_head",
                format!("notice:{}", notice.id),
                format!("{week} seq {seq}"),
                &serde_json::json!({ "week": week, "seq": seq, "hash": hash }),
            );
            Ok(((notice, true), vec![entry, published]))
        })
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn published_audit_heads(&self) -> StoreResult<Vec<(String, i64, String, i64)>> {
        sqlx::query_as(
            "SELECT week, seq, hash, notice_id FROM audit_publications ORDER BY week DESC",
        )
        .fetch_all(&self.pool)
        .await
        .db()
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn correct_notice(
        &self,
        actor: &Actor,
        id: i64,
        title: &str,
        body: &str,
        reason: &str,
    ) -> StoreResult<Notice> {
        let (actor, title, body, reason) = (
            actor.to_string(),
            title.to_owned(),
            body.to_owned(),
            reason.to_owned(),
        );
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
        write_tx!(self, |tx| {
            let sql = format!("SELECT version FROM notices WHERE id = $1{ROW_LOCK}");
            let version: i64 = sqlx::query_scalar(&sql)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .db()?
                .ok_or_else(|| StoreError::NotFound {
                    what: format!("notice {id}"),
                })?;
            let next = version + 1;
            sqlx::query("UPDATE notices SET title = $1, body = $2, version = $3, updated_at = $4 WHERE id = $5")
                .bind(&title)
                .bind(&body)
                .bind(next)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
            sqlx::query("INSERT INTO notice_versions (notice_id, version, title, body, author, at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(id)
                .bind(next)
                .bind(&title)
                .bind(&body)
                .bind(&actor)
                .bind(now)
                .bind(&reason)
                .execute(&mut *tx)
                .await
                .db()?;
            let entry = NewAuditEntry::new(
                actor,
                "notice.correct",
                format!("notice:{id}"),
                format!("{title} v{next}"),
                &serde_json::json!({ "version": next, "title": title, "body": body, "reason": reason }),
            );
            Ok((notice_in(tx, id).await?, vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn notice(&self, id: i64) -> StoreResult<Option<Notice>> {
        let sql = format!("{NOTICE_SELECT} WHERE n.id = $1");
        let Some(row) = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .db()?
        else {
            return Ok(None);
        };
        Ok(with_notice_villages(&self.pool, vec![notice_from(&row)?])
            .await?
            .pop())
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn notice_versions(&self, id: i64) -> StoreResult<Vec<NoticeVersion>> {
        sqlx::query_as("SELECT version, title, body, author, at, reason FROM notice_versions WHERE notice_id = $1 ORDER BY version")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .db()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn notices(&self, q: &NoticeQuery) -> StoreResult<NoticePage> {
        let q = q.clone();
        let (notices, total, _, _) = fetch_page(
            &self.pool,
            ("FROM notices n", NOTICE_SELECT, "n.publish_at DESC, n.id DESC"),
            move |qb| {
                qb.push(" WHERE 1 = 1");
                if let Some(t) = q.published_by {
                    qb.push(" AND n.publish_at <= ").push_bind(t);
                }
                if let Some(v) = q.village_id {
                    qb.push(" AND (n.scope = 'subdistrict' OR n.id IN (SELECT notice_id FROM notice_villages WHERE village_id = ")
                        .push_bind(v)
                        .push(") OR n.project_id IN (SELECT project_id FROM project_villages WHERE village_id = ")
                        .push_bind(v)
                        .push("))");
                }
                if let Some(p) = q.project_id {
                    qb.push(" AND n.project_id = ").push_bind(p);
                }
                if let Some(k) = q.kind {
                    qb.push(" AND n.kind = ").push_bind(k.code());
                }
            },
            (i64::from(q.page), i64::from(q.per_page)),
        )
        .await?;
        Ok(NoticePage {
            notices: with_notice_villages(&self.pool, notices).await?,
            total,
        })
    }

    #[tracing::instrument(skip_all, fields(notice_id), err(level = "debug"))]
    async fn add_notice_attachment(
        &self,
        actor: &Actor,
        notice_id: i64,
        f: NewAttachment,
    ) -> StoreResult<NoticeAttachment> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let size = i64::try_from(f.bytes.len())
                .map_err(|_| StoreError::internal("attachment too large"))?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO notice_attachments (notice_id, token, name, content_type, size, bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(notice_id)
            .bind(&f.token)
            .bind(&f.name)
            .bind(&f.content_type)
            .bind(size)
            .bind(&f.bytes)
            .bind(Utc::now())
            .fetch_one(&mut *tx)
            .await
            .db()?;
            let entry = NewAuditEntry::new(
                actor,
                "notice.attach",
                format!("notice:{notice_id}"),
                f.name.clone(),
                &serde_json::json!({ "name": f.name, "content_type": f.content_type, "size": size, "sha256": yongxin_domain::photo::sha256_hex(&f.bytes) }),
            );
            Ok((
                NoticeAttachment {
                    id,
                    token: f.token,
                    name: f.name,
                    content_type: f.content_type,
                    size,
                },
                vec![entry],
            ))
        })
    }

    #[tracing::instrument(skip_all, fields(notice_id), err(level = "debug"))]
    async fn notice_attachments(&self, notice_id: i64) -> StoreResult<Vec<NoticeAttachment>> {
        sqlx::query_as("SELECT id, token, name, content_type, size FROM notice_attachments WHERE notice_id = $1 ORDER BY id")
            .bind(notice_id)
            .fetch_all(&self.pool)
            .await
            .db()
    }

    #[tracing::instrument(skip_all, fields(notice_id), err(level = "debug"))]
    async fn notice_attachment(
        &self,
        notice_id: i64,
        token: &str,
    ) -> StoreResult<Option<(NoticeAttachment, Vec<u8>)>> {
        let row = sqlx::query("SELECT id, token, name, content_type, size, bytes FROM notice_attachments WHERE notice_id = $1 AND token = $2")
            .bind(notice_id)
            .bind(token)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.map(|r| {
            let AttachmentWithBytes { attachment, bytes } =
                AttachmentWithBytes::from_row(&r).db()?;
            Ok((attachment, bytes))
        })
        .transpose()
    }

    #[tracing::instrument(skip_all, fields(notice_id, household_id), err(level = "debug"))]
    async fn mark_informed(
        &self,
        actor: &Actor,
        notice_id: i64,
        household_id: HouseholdId,
        how: InformedHow,
        by: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let added = sqlx::query(
                "INSERT INTO notice_informed (notice_id, household_id, how, by_user_id, at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (notice_id, household_id) DO NOTHING",
            )
            .bind(notice_id)
            .bind(household_id)
            .bind(how.code())
            .bind(by)
            .bind(at)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected()
                == 1;
            let entries = if added {
                vec![NewAuditEntry::new(
                    actor,
                    "notice.informed",
                    format!("notice:{notice_id}"),
                    format!("household:{household_id} {}", how.code()),
                    &serde_json::json!({ "household_id": household_id, "how": how.code(), "by_user_id": by }),
                )]
            } else {
                Vec::new()
            };
            Ok((added, entries))
        })
    }

    #[tracing::instrument(skip_all, fields(notice_id, household_id), err(level = "debug"))]
    async fn informed(
        &self,
        notice_id: i64,
        household_id: HouseholdId,
    ) -> StoreResult<Option<Informed>> {
        let row: Option<(String, String, DateTime<Utc>)> = sqlx::query_as("SELECT i.how, u.username, i.at FROM notice_informed i JOIN users u ON u.id = i.by_user_id WHERE i.notice_id = $1 AND i.household_id = $2")
            .bind(notice_id)
            .bind(household_id)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.map(|(how, by, at)| {
            Ok(Informed {
                how: InformedHow::parse(&how).ok_or_else(|| corrupt("informed how", &how))?,
                by,
                at,
            })
        })
        .transpose()
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn notice_coverage(&self, notice: &Notice) -> StoreResult<Vec<CoverageRow>> {
        let notice_id = notice.id;
        // Counted per grid in two passes that indexes serve — the households by the grid index,
        // the informed by the notice's key — rather than one join of every household with the
        // informed, grouped by names.
        let mut households = QueryBuilder::<Db>::new(
            "SELECT h.grid_id, COUNT(*) AS n FROM households h WHERE 1 = 1",
        );
        push_notice_grids(&mut households, notice);
        households.push(" GROUP BY h.grid_id");
        let mut informed = QueryBuilder::<Db>::new("SELECT h.grid_id, COUNT(*) AS n FROM notice_informed i JOIN households h ON h.id = i.household_id WHERE i.notice_id = ");
        informed.push_bind(notice_id);
        push_notice_grids(&mut informed, notice);
        informed.push(" GROUP BY h.grid_id");
        let households: HashMap<i64, i64> = households
            .build_query_as::<(i64, i64)>()
            .fetch_all(&self.pool)
            .await
            .db()?
            .into_iter()
            .collect();
        let informed: HashMap<i64, i64> = informed
            .build_query_as::<(i64, i64)>()
            .fetch_all(&self.pool)
            .await
            .db()?
            .into_iter()
            .collect();
        let grids: Vec<(i64, String, i64, String)> = sqlx::query_as("SELECT g.id, g.name, g.village_id, v.name AS village_name FROM grids g JOIN villages v ON v.id = g.village_id ORDER BY v.code, g.code")
            .fetch_all(&self.pool)
            .await
            .db()?;
        let mut rows = Vec::new();
        for (id, grid_name, village_id, village_name) in grids {
            if let Some(n) = households.get(&id) {
                rows.push(CoverageRow {
                    village_id,
                    village_name,
                    grid_id: id,
                    grid_name,
                    households: *n,
                    informed: informed.get(&id).copied().unwrap_or(0),
                });
            }
        }
        Ok(rows)
    }

    #[tracing::instrument(skip_all, fields(village_id), err(level = "debug"))]
    async fn uninformed_households(
        &self,
        notice: &Notice,
        village_id: Option<i64>,
        grid_ids: Option<Vec<i64>>,
        page: u32,
        per_page: u32,
    ) -> StoreResult<Vec<HouseholdSummary>> {
        let mut qb = QueryBuilder::<Db>::new(HOUSEHOLD_SELECT);
        push_notice_households(&mut qb, notice);
        qb.push(" AND NOT EXISTS (SELECT 1 FROM notice_informed i WHERE i.notice_id = ")
            .push_bind(notice.id)
            .push(" AND i.household_id = h.id)");
        if let Some(v) = village_id {
            qb.push(" AND h.village_id = ").push_bind(v);
        }
        if let Some(grids) = &grid_ids {
            qb.push(" AND h.grid_id IN (NULL");
            for g in grids {
                qb.push(", ").push_bind(*g);
            }
            qb.push(")");
        }
        // In key order the households' unique index gives the page without sorting them all.
        let per_page = i64::from(per_page.clamp(1, 500));
        qb.push(" ORDER BY h.key LIMIT ")
            .push_bind(per_page)
            .push(" OFFSET ")
            .push_bind((i64::from(page.max(1)) - 1) * per_page);
        qb.build_query_as::<HouseholdRow>()
            .fetch_all(&self.pool)
            .await
            .db()?
            .into_iter()
            .map(HouseholdSummary::try_from)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(notice_id), err(level = "debug"))]
    async fn create_objection(
        &self,
        actor: &Actor,
        notice_id: i64,
        a: NewAppeal,
    ) -> StoreResult<Result<Appeal, NoticeError>> {
        let actor = actor.to_string();
        let a = to_the_microsecond(a);
        write_tx!(self, |tx| {
            let sql = format!("SELECT kind, title, publish_at, objections_until FROM notices WHERE id = $1{ROW_LOCK}");
            let (kind, title, publish_at, objections_until): (
                String,
                String,
                DateTime<Utc>,
                Option<DateTime<Utc>>,
            ) = sqlx::query_as(&sql)
                .bind(notice_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?
                .ok_or_else(|| StoreError::NotFound {
                    what: format!("notice {notice_id}"),
                })?;
            let kind = NoticeKind::try_from(kind).map_err(StoreError::internal)?;
            if let Err(e) = objections_open(kind, publish_at, objections_until, a.created_at) {
                return Ok((Err(e), Vec::new()));
            }
            let (appeal, filed) = file_appeal(tx, &actor, a, &[]).await?;
            let id = appeal.id;
            sqlx::query("UPDATE appeals SET notice_id = $1 WHERE id = $2")
                .bind(notice_id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .db()?;
            let entries = vec![
                filed,
                NewAuditEntry::new(
                    actor,
                    "notice.objection",
                    format!("notice:{notice_id}"),
                    format!("{title} ← appeal:{id}"),
                    &serde_json::json!({ "appeal_id": id }),
                ),
            ];
            Ok((Ok(appeal), entries))
        })
    }

    #[tracing::instrument(skip_all, fields(notice_id), err(level = "debug"))]
    async fn objections(&self, notice_id: i64) -> StoreResult<Vec<Appeal>> {
        let sql = format!("{APPEAL_SELECT} WHERE a.notice_id = $1 ORDER BY a.id");
        sqlx::query_as::<_, AppealRow>(&sql)
            .bind(notice_id)
            .fetch_all(&self.pool)
            .await
            .db()?
            .into_iter()
            .map(Appeal::try_from)
            .collect()
    }

    #[tracing::instrument(skip_all, fields(appeal_id), err(level = "debug"))]
    async fn objected_notice(&self, appeal_id: AppealId) -> StoreResult<Option<(i64, String)>> {
        sqlx::query_as("SELECT n.id, n.title FROM appeals a JOIN notices n ON n.id = a.notice_id WHERE a.id = $1")
            .bind(appeal_id)
            .fetch_optional(&self.pool)
            .await
            .db()
    }
}
