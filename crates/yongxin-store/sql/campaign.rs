//! Door-to-door campaigns (入户走访) in SQL: target households resolved at creation, assignments
//! and their history, visits (one per client id; a correction replaces one), the cases raised at
//! the door filed in the visit's write, and coverage counted from the households' progress rows,
//! which every visit recomputes from the household's current visits by the domain's rule.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{FromRow, QueryBuilder};
use yongxin_domain::campaign::{
    local_day, may_correct, progress, AssignmentWay, Progress, Recorded, Rules, Target, VisitFact,
    VisitOutcome,
};
use yongxin_domain::consultation::{AnswerChannel, GivenAnswer};
use yongxin_domain::{Actor, NewAuditEntry};
use yongxin_store::{
    AppealId, Campaign, CampaignForm, CampaignHousehold, CampaignHouseholdPage,
    CampaignHouseholdQuery, CampaignStore, CampaignSummary, CampaignTotals, CoverageBy,
    CoverageGroup, HouseholdId, NewAnswer, NewCampaign, NewVisit, StoreError, StoreResult, Visit,
    VisitConcern, VisitCorrection, VisitRecorded, VisitRefusal, VisitSource,
};

use super::appeals::file_appeal;
use super::consultation::{insert_consultation, record_answer};
use super::{push_list, Db, DbConn, DbResult, JsonText, ROW_LOCK};
use crate::dialect::write_tx;
use crate::StoreImpl;

const CAMPAIGN_SELECT: &str = "SELECT id, title, kind, description, starts_on, ends_on, notice_id, project_id, consultation_id, assignment, target_kind, \
     escalate_after, (reached_on_refused <> 0) AS reached_on_refused, (open_to_scope <> 0) AS open_to_scope, created_by, created_at FROM campaigns";

/// The counts of [`CampaignTotals`] over the households `ch` a query selects.
const TOTALS_COLUMNS: &str = "CAST(COUNT(*) AS BIGINT) AS target, \
     CAST(COALESCE(SUM(CASE WHEN ch.reached_on IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS reached, \
     CAST(COALESCE(SUM(ch.met), 0) AS BIGINT) AS met, CAST(COALESCE(SUM(ch.refused), 0) AS BIGINT) AS refused, \
     CAST(COALESCE(SUM(ch.escalated), 0) AS BIGINT) AS escalated, CAST(COALESCE(SUM(ch.settled), 0) AS BIGINT) AS settled, \
     CAST(COALESCE(SUM(ch.attempts), 0) AS BIGINT) AS visits, \
     CAST(COALESCE(SUM(CASE WHEN ch.cadre_user_id IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS unassigned";

const HOUSEHOLD_SELECT: &str = "SELECT ch.household_id, h.key, h.address, ch.village_id, v.name AS village_name, ch.grid_id, g.code AS grid_code, \
     g.name AS grid_name, r.name AS head_name, ch.cadre_user_id, u.display_name AS cadre_name, ch.attempts, ch.not_home_days, ch.last_outcome, \
     ch.last_visit_at, ch.reached_at, (ch.met <> 0) AS met, (ch.refused <> 0) AS refused, (ch.settled <> 0) AS settled, \
     (ch.escalated <> 0) AS escalated \
     FROM campaign_households ch JOIN households h ON h.id = ch.household_id JOIN villages v ON v.id = ch.village_id \
     JOIN grids g ON g.id = ch.grid_id LEFT JOIN residents r ON r.id = h.head_resident_id LEFT JOIN users u ON u.id = ch.cadre_user_id";

const VISIT_SELECT: &str = "SELECT vi.id, vi.campaign_id, vi.household_id, vi.cadre_user_id, u.display_name AS cadre_name, vi.client_id, vi.fingerprint, \
     vi.visited_at, vi.received_at, vi.outcome, vi.members, vi.answers, vi.note, vi.current, vi.corrects_id, vi.correction_reason \
     FROM visits vi JOIN users u ON u.id = vi.cadre_user_id";

/// A row of [`VISIT_SELECT`].
#[derive(FromRow)]
struct VisitRow {
    id: i64,
    campaign_id: i64,
    household_id: HouseholdId,
    cadre_user_id: i64,
    cadre_name: String,
    client_id: String,
    fingerprint: String,
    visited_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    outcome: VisitOutcome,
    members: JsonText<Vec<i64>>,
    answers: JsonText<BTreeMap<i64, GivenAnswer>>,
    note: String,
    current: i64,
    corrects_id: Option<i64>,
    correction_reason: Option<String>,
}

/// Reads visits with their cases and photos.
async fn visits_where(
    conn: &mut DbConn,
    filter: &str,
    binds: (i64, i64),
) -> StoreResult<Vec<(Visit, String)>> {
    let sql = format!("{VISIT_SELECT} WHERE {filter} ORDER BY vi.visited_at, vi.id");
    let rows: Vec<VisitRow> = sqlx::query_as(&sql)
        .bind(binds.0)
        .bind(binds.1)
        .fetch_all(&mut *conn)
        .await
        .db()?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let appeals: Vec<(AppealId, DateTime<Utc>)> = sqlx::query_as(
            "SELECT a.id, a.created_at FROM visit_concerns c JOIN appeals a ON a.id = c.appeal_id WHERE c.visit_id = $1 ORDER BY a.id",
        )
        .bind(r.id)
        .fetch_all(&mut *conn)
        .await
        .db()?;
        let photos: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, token FROM visit_photos WHERE visit_id = $1 ORDER BY id")
                .bind(r.id)
                .fetch_all(&mut *conn)
                .await
                .db()?;
        out.push((
            Visit {
                id: r.id,
                campaign_id: r.campaign_id,
                household_id: r.household_id,
                cadre_user_id: r.cadre_user_id,
                cadre_name: r.cadre_name,
                client_id: r.client_id,
                visited_at: r.visited_at,
                received_at: r.received_at,
                outcome: r.outcome,
                members: r.members.0,
                answers: r.answers.0,
                note: r.note,
                current: r.current != 0,
                corrects_id: r.corrects_id,
                correction_reason: r.correction_reason,
                appeals: appeals
                    .into_iter()
                    .map(|(id, at)| (id, yongxin_domain::appeal::appeal_number(id.0, at)))
                    .collect(),
                photos,
            },
            r.fingerprint,
        ));
    }
    Ok(out)
}

/// One visit of a campaign, inside a write.
async fn visit_in(tx: &mut DbConn, campaign_id: i64, visit_id: i64) -> StoreResult<Visit> {
    visits_where(
        tx,
        "vi.id = $1 AND vi.campaign_id = $2",
        (visit_id, campaign_id),
    )
    .await?
    .pop()
    .map(|(v, _)| v)
    .ok_or_else(|| StoreError::internal("visit vanished"))
}

async fn campaign_in(conn: &mut DbConn, id: i64) -> StoreResult<Option<Campaign>> {
    let sql = format!("{CAMPAIGN_SELECT} WHERE id = $1");
    sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .db()
}

fn not_found(what: String) -> StoreError {
    StoreError::NotFound { what }
}

/// Adds the households a target selects (alias `h`) to a query that has its WHERE clause open.
fn push_target(qb: &mut QueryBuilder<'static, Db>, target: &Target) {
    match target {
        Target::Villages(ids) => {
            qb.push(" AND h.village_id IN (");
            push_list(qb, ids.clone());
            qb.push(")");
        }
        Target::Grids(ids) => {
            qb.push(" AND h.grid_id IN (");
            push_list(qb, ids.clone());
            qb.push(")");
        }
        Target::Flag { flag, villages } => {
            qb.push(" AND EXISTS (SELECT 1 FROM residents r WHERE r.household_id = h.id AND (',' || r.flags || ',') LIKE ")
                .push_bind(format!("%,{},%", flag.code()))
                .push(")");
            if !villages.is_empty() {
                qb.push(" AND h.village_id IN (");
                push_list(qb, villages.clone());
                qb.push(")");
            }
        }
        Target::Project(p) => {
            qb.push(" AND h.village_id IN (SELECT pv.village_id FROM project_villages pv WHERE pv.project_id = ")
                .push_bind(*p)
                .push(")");
        }
        Target::Households(ids) => {
            qb.push(" AND h.id IN (");
            push_list(qb, ids.clone());
            qb.push(")");
        }
    }
}

/// How many households a list of ids may name in one statement (both databases bind fewer
/// parameters than a large village has households).
const IDS_PER_STATEMENT: usize = 1_000;

/// Recomputes a household's progress from its current visits, writes it, and does what a change
/// brings: escalation to the village officer, the notice marked informed. Answers the progress
/// and the record entries of what it did.
async fn settle_progress(
    tx: &mut DbConn,
    campaign: &Campaign,
    household_id: HouseholdId,
    by_user_id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> StoreResult<(Progress, Vec<NewAuditEntry>)> {
    let facts: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT outcome, visited_at FROM visits WHERE campaign_id = $1 AND household_id = $2 AND current = 1",
    )
    .bind(campaign.id)
    .bind(household_id)
    .fetch_all(&mut *tx)
    .await
    .db()?;
    let facts = facts
        .into_iter()
        .map(|(o, at)| {
            Ok(VisitFact {
                outcome: VisitOutcome::try_from(o).map_err(StoreError::internal)?,
                visited_at: at,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let rules: Rules = campaign.rules();
    let p = progress(&facts, rules);
    let sql = format!(
        "SELECT village_id, escalated, cadre_user_id FROM campaign_households WHERE campaign_id = $1 AND household_id = $2{ROW_LOCK}"
    );
    let (village_id, was_escalated, cadre): (i64, i64, Option<i64>) = sqlx::query_as(&sql)
        .bind(campaign.id)
        .bind(household_id)
        .fetch_one(&mut *tx)
        .await
        .db()?;
    sqlx::query(
        "UPDATE campaign_households SET attempts = $3, not_home_days = $4, last_outcome = $5, last_visit_at = $6, reached_at = $7, \
         reached_on = $8, settled_on = $9, met = $10, refused = $11, settled = $12, escalated = $13 WHERE campaign_id = $1 AND household_id = $2",
    )
    .bind(campaign.id)
    .bind(household_id)
    .bind(i64::from(p.attempts))
    .bind(i64::from(p.not_home_days))
    .bind(p.last_outcome.map(VisitOutcome::code))
    .bind(p.last_visit_at)
    .bind(p.reached_at)
    .bind(p.reached_on())
    .bind(p.settled_on())
    .bind(i64::from(p.met))
    .bind(i64::from(p.refused))
    .bind(i64::from(p.settled))
    .bind(i64::from(p.escalated))
    .execute(&mut *tx)
    .await
    .db()?;
    let mut entries = Vec::new();
    if p.escalated && was_escalated == 0 {
        // The village's first officer takes it; without one it stays where it is, counted as
        // escalated for the leaders to see.
        let officer: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM users WHERE role = 'village_officer' AND village_id = $1 ORDER BY id LIMIT 1",
        )
        .bind(village_id)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        if let Some(officer) = officer.filter(|o| Some(*o) != cadre) {
            assign(
                tx,
                campaign.id,
                &[household_id],
                Some(officer),
                "escalated",
                actor,
                now,
            )
            .await?;
        }
        entries.push(NewAuditEntry::new(
            actor,
            "campaign.escalate",
            format!("campaign:{}", campaign.id),
            format!("household:{household_id} → officer"),
            &serde_json::json!({ "household_id": household_id, "not_home_days": p.not_home_days, "officer": officer }),
        ));
    }
    if let (Some(notice), Some(reached_at)) = (campaign.notice_id, p.reached_at) {
        let added = sqlx::query(
            "INSERT INTO notice_informed (notice_id, household_id, how, by_user_id, at) VALUES ($1, $2, 'confirmed', $3, $4) \
             ON CONFLICT (notice_id, household_id) DO NOTHING",
        )
        .bind(notice)
        .bind(household_id)
        .bind(by_user_id)
        .bind(reached_at)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if added == 1 {
            entries.push(NewAuditEntry::new(
                actor,
                "notice.informed",
                format!("notice:{notice}"),
                format!("household:{household_id} confirmed"),
                &serde_json::json!({ "household_id": household_id, "how": "confirmed", "by_user_id": by_user_id, "campaign": campaign.id }),
            ));
        }
    }
    Ok((p, entries))
}

/// Moves households to a cadre (or to nobody) and writes each move into the history.
async fn assign(
    tx: &mut DbConn,
    campaign_id: i64,
    households: &[HouseholdId],
    cadre: Option<i64>,
    why: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut moved = 0;
    for chunk in households.chunks(IDS_PER_STATEMENT) {
        let ids: Vec<i64> = chunk.iter().map(|h| h.get()).collect();
        let mut changing = QueryBuilder::<Db>::new(
            "SELECT household_id FROM campaign_households WHERE campaign_id = ",
        );
        changing
            .push_bind(campaign_id)
            .push(" AND household_id IN (");
        push_list(&mut changing, ids);
        changing.push(")");
        match cadre {
            Some(c) => changing
                .push(" AND (cadre_user_id IS NULL OR cadre_user_id <> ")
                .push_bind(c)
                .push(")"),
            None => changing.push(" AND cadre_user_id IS NOT NULL"),
        };
        let changing: Vec<i64> = changing
            .build_query_scalar()
            .fetch_all(&mut *tx)
            .await
            .db()?;
        if changing.is_empty() {
            continue;
        }
        let mut update = QueryBuilder::<Db>::new("UPDATE campaign_households SET cadre_user_id = ");
        update
            .push_bind(cadre)
            .push(" WHERE campaign_id = ")
            .push_bind(campaign_id)
            .push(" AND household_id IN (");
        push_list(&mut update, changing.clone());
        update.push(")");
        update.build().execute(&mut *tx).await.db()?;
        let mut history = QueryBuilder::<Db>::new(
            "INSERT INTO campaign_assignments (campaign_id, household_id, cadre_user_id, why, by_actor, at) ",
        );
        history.push_values(&changing, |mut row, h| {
            row.push_bind(campaign_id)
                .push_bind(*h)
                .push_bind(cadre)
                .push_bind(why.to_owned())
                .push_bind(actor.to_owned())
                .push_bind(at);
        });
        history.build().execute(&mut *tx).await.db()?;
        moved += changing.len() as u64;
    }
    Ok(moved)
}

/// Whether every resident named is a member of the household.
async fn all_members(
    tx: &mut DbConn,
    household_id: HouseholdId,
    members: &[i64],
) -> StoreResult<bool> {
    if members.is_empty() {
        return Ok(true);
    }
    let mut qb = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM residents WHERE household_id = ");
    qb.push_bind(household_id).push(" AND id IN (");
    let mut distinct = members.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let n = distinct.len() as i64;
    push_list(&mut qb, distinct);
    qb.push(")");
    let found: i64 = qb.build_query_scalar().fetch_one(&mut *tx).await.db()?;
    Ok(found == n)
}

/// Checks the members met and records a visit's answers as the household's answer to the form,
/// in person: answers the answer's id and its record entry. A refusal comes before anything is
/// written.
async fn record_visit_answers(
    tx: &mut DbConn,
    actor: &str,
    campaign: &Campaign,
    household_id: HouseholdId,
    (cadre, members, visited_at): (i64, &[i64], DateTime<Utc>),
    answers: &BTreeMap<i64, GivenAnswer>,
) -> StoreResult<Result<(Option<i64>, Vec<NewAuditEntry>), VisitRefusal>> {
    if !all_members(tx, household_id, members).await? {
        return Ok(Err(VisitRefusal::NotAMember));
    }
    if answers.is_empty() {
        return Ok(Ok((None, Vec::new())));
    }
    let Some(form) = campaign.consultation_id else {
        return Ok(Err(VisitRefusal::NoForm));
    };
    let answer = NewAnswer {
        household_id,
        resident_id: members.first().copied(),
        channel: AnswerChannel::InPerson,
        recorded_by: cadre,
        answered_at: visited_at,
        given: answers.clone(),
    };
    Ok(record_answer(tx, actor, form, answer)
        .await?
        .map(|(id, entry)| (Some(id), vec![entry]))
        .map_err(VisitRefusal::Answer))
}

/// A visit's row.
struct VisitInsert<'a> {
    campaign_id: i64,
    household_id: HouseholdId,
    cadre_user_id: i64,
    client_id: &'a str,
    fingerprint: &'a str,
    visited_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    outcome: VisitOutcome,
    members: &'a [i64],
    answers: &'a BTreeMap<i64, GivenAnswer>,
    note: &'a str,
    answer_id: Option<i64>,
    /// The visit it corrects and why.
    corrects: Option<(i64, Option<&'a str>)>,
}

async fn insert_visit(tx: &mut DbConn, v: &VisitInsert<'_>) -> StoreResult<i64> {
    sqlx::query_scalar(
        "INSERT INTO visits (campaign_id, household_id, cadre_user_id, client_id, fingerprint, visited_at, received_at, outcome, members, \
         answers, note, answer_id, current, corrects_id, correction_reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $14) RETURNING id",
    )
    .bind(v.campaign_id)
    .bind(v.household_id)
    .bind(v.cadre_user_id)
    .bind(v.client_id)
    .bind(v.fingerprint)
    .bind(v.visited_at)
    .bind(v.received_at)
    .bind(v.outcome.code())
    .bind(serde_json::to_string(v.members).map_err(StoreError::internal)?)
    .bind(serde_json::to_string(v.answers).map_err(StoreError::internal)?)
    .bind(v.note)
    .bind(v.answer_id)
    .bind(v.corrects.map(|c| c.0))
    .bind(v.corrects.and_then(|c| c.1))
    .fetch_one(&mut *tx)
    .await
    .db()
}

#[async_trait]
impl CampaignStore for StoreImpl {
    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn create_campaign(&self, actor: &Actor, c: NewCampaign) -> StoreResult<Campaign> {
        let actor = actor.to_string();
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
        write_tx!(self, |tx| {
            let mut entries = Vec::new();
            let consultation_id = match &c.form {
                CampaignForm::None => None,
                CampaignForm::Consultation(id) => {
                    let exists: Option<i64> =
                        sqlx::query_scalar("SELECT id FROM consultations WHERE id = $1")
                            .bind(*id)
                            .fetch_optional(&mut *tx)
                            .await
                            .db()?;
                    Some(exists.ok_or_else(|| StoreError::Invalid {
                        field: "consultation_id".into(),
                        reason: "no such consultation".into(),
                    })?)
                }
                CampaignForm::New(form) => {
                    let (k, entry) = insert_consultation(tx, &actor, form).await?;
                    entries.push(entry);
                    Some(k.id)
                }
            };
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO campaigns (title, kind, description, starts_on, ends_on, notice_id, project_id, consultation_id, assignment, \
                 target_kind, escalate_after, reached_on_refused, open_to_scope, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
            )
            .bind(&c.title)
            .bind(c.kind.code())
            .bind(&c.description)
            .bind(c.period.starts_on)
            .bind(c.period.ends_on)
            .bind(c.notice_id)
            .bind(c.project_id)
            .bind(consultation_id)
            .bind(c.assignment.code())
            .bind(c.target.code())
            .bind(i64::from(c.rules.escalate_after))
            .bind(i64::from(c.rules.reached_on_refused))
            .bind(i64::from(c.rules.open_to_scope))
            .bind(&actor)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .db()?;
            let cadre = match c.assignment {
                AssignmentWay::Grid => "g.cadre_user_id",
                AssignmentWay::Hand => "NULL",
            };
            // A long list of households goes in pieces; every other target is one statement.
            let pieces: Vec<Target> = match &c.target {
                Target::Households(ids) => ids
                    .chunks(IDS_PER_STATEMENT)
                    .map(|chunk| Target::Households(chunk.to_vec()))
                    .collect(),
                other => vec![other.clone()],
            };
            let mut target = 0;
            for piece in &pieces {
                let mut qb = QueryBuilder::<Db>::new(format!(
                    "INSERT INTO campaign_households (campaign_id, household_id, village_id, grid_id, cadre_user_id, attempts, not_home_days, \
                     met, refused, settled, escalated) SELECT {id}, h.id, h.village_id, h.grid_id, {cadre}, 0, 0, 0, 0, 0, 0 \
                     FROM households h JOIN grids g ON g.id = h.grid_id WHERE 1 = 1"
                ));
                push_target(&mut qb, piece);
                target += qb.build().execute(&mut *tx).await.db()?.rows_affected();
            }
            if target == 0 {
                return Err(StoreError::Invalid {
                    field: "target".into(),
                    reason: "the target selects no household".into(),
                });
            }
            sqlx::query(
                "INSERT INTO campaign_assignments (campaign_id, household_id, cadre_user_id, why, by_actor, at) \
                 SELECT campaign_id, household_id, cadre_user_id, 'grid', $2, $3 FROM campaign_households WHERE campaign_id = $1 AND cadre_user_id IS NOT NULL",
            )
            .bind(id)
            .bind(&actor)
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
            let target_detail = match &c.target {
                Target::Villages(v) => serde_json::json!({ "villages": v }),
                Target::Grids(g) => serde_json::json!({ "grids": g }),
                Target::Flag { flag, villages } => {
                    serde_json::json!({ "flag": flag.code(), "villages": villages })
                }
                Target::Project(p) => serde_json::json!({ "project": p }),
                Target::Households(h) => serde_json::json!({ "households": h }),
            };
            entries.push(NewAuditEntry::new(
                actor.clone(),
                "campaign.create",
                format!("campaign:{id}"),
                format!("{} ({target} households)", c.title),
                &serde_json::json!({
                    "title": c.title, "kind": c.kind.code(), "description": c.description,
                    "starts_on": c.period.starts_on, "ends_on": c.period.ends_on, "notice_id": c.notice_id,
                    "project_id": c.project_id, "consultation_id": consultation_id, "assignment": c.assignment.code(),
                    "target": target_detail, "households": target, "escalate_after": c.rules.escalate_after,
                    "reached_on_refused": c.rules.reached_on_refused, "open_to_scope": c.rules.open_to_scope,
                }),
            ));
            let created = campaign_in(tx, id)
                .await?
                .ok_or_else(|| StoreError::internal("campaign vanished"))?;
            Ok((created, entries))
        })
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn campaign(&self, id: i64) -> StoreResult<Option<Campaign>> {
        let mut conn = self.pool.acquire().await.db()?;
        campaign_in(&mut conn, id).await
    }

    #[tracing::instrument(skip_all, err(level = "debug"))]
    async fn campaigns(&self, cadre_user_id: Option<i64>) -> StoreResult<Vec<CampaignSummary>> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT ch.campaign_id, {TOTALS_COLUMNS} FROM campaign_households ch WHERE 1 = 1"
        ));
        if let Some(c) = cadre_user_id {
            qb.push(" AND ch.cadre_user_id = ").push_bind(c);
        }
        qb.push(" GROUP BY ch.campaign_id");
        #[derive(FromRow)]
        struct Row {
            campaign_id: i64,
            #[sqlx(flatten)]
            totals: CampaignTotals,
        }
        let rows: Vec<Row> = qb.build_query_as().fetch_all(&self.pool).await.db()?;
        let mut totals: BTreeMap<i64, CampaignTotals> = rows
            .into_iter()
            .map(|r| (r.campaign_id, r.totals))
            .collect();
        let sql = format!("{CAMPAIGN_SELECT} ORDER BY starts_on DESC, id DESC");
        let campaigns: Vec<Campaign> = sqlx::query_as(&sql).fetch_all(&self.pool).await.db()?;
        Ok(campaigns
            .into_iter()
            .filter_map(|campaign| {
                let t = totals.remove(&campaign.id);
                match (t, cadre_user_id) {
                    (None, Some(_)) => None,
                    (t, _) => Some(CampaignSummary {
                        campaign,
                        totals: t.unwrap_or_default(),
                    }),
                }
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn campaign_totals(
        &self,
        id: i64,
        cadre_user_id: Option<i64>,
    ) -> StoreResult<CampaignTotals> {
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {TOTALS_COLUMNS} FROM campaign_households ch WHERE ch.campaign_id = "
        ));
        qb.push_bind(id);
        if let Some(c) = cadre_user_id {
            qb.push(" AND ch.cadre_user_id = ").push_bind(c);
        }
        qb.build_query_as().fetch_one(&self.pool).await.db()
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn campaign_coverage(
        &self,
        id: i64,
        by: CoverageBy,
        cadre_user_id: Option<i64>,
    ) -> StoreResult<Vec<CoverageGroup>> {
        #[derive(FromRow)]
        struct Row {
            key: Option<i64>,
            name: Option<String>,
            #[sqlx(flatten)]
            totals: CampaignTotals,
        }
        let cadre_filter = |qb: &mut QueryBuilder<'static, Db>| {
            if let Some(c) = cadre_user_id {
                qb.push(" AND ch.cadre_user_id = ").push_bind(c);
            }
        };
        if by == CoverageBy::Day {
            return self.coverage_by_day(id, cadre_user_id).await;
        }
        let (key, join, name) = match by {
            CoverageBy::Village => (
                "ch.village_id",
                "JOIN villages x ON x.id = ch.village_id",
                "x.name",
            ),
            CoverageBy::Grid => ("ch.grid_id", "JOIN grids x ON x.id = ch.grid_id", "x.name"),
            _ => (
                "ch.cadre_user_id",
                "LEFT JOIN users x ON x.id = ch.cadre_user_id",
                "x.display_name",
            ),
        };
        let order = match by {
            CoverageBy::Grid => "MIN(x.code)",
            CoverageBy::Village => "MIN(x.code)",
            _ => "MIN(x.display_name)",
        };
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {key} AS key, MIN({name}) AS name, {TOTALS_COLUMNS} FROM campaign_households ch {join} WHERE ch.campaign_id = "
        ));
        qb.push_bind(id);
        cadre_filter(&mut qb);
        qb.push(format!(" GROUP BY {key} ORDER BY {order}, {key}"));
        let rows: Vec<Row> = qb.build_query_as().fetch_all(&self.pool).await.db()?;
        Ok(rows
            .into_iter()
            .map(|r| CoverageGroup {
                key: r.key.map(|k| k.to_string()).unwrap_or_default(),
                name: r.name.unwrap_or_default(),
                totals: r.totals,
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn campaign_settled_per_day(&self, id: i64) -> StoreResult<BTreeMap<NaiveDate, i64>> {
        let rows: Vec<(NaiveDate, i64)> = sqlx::query_as(
            "SELECT settled_on, CAST(COUNT(*) AS BIGINT) FROM campaign_households WHERE campaign_id = $1 AND settled_on IS NOT NULL GROUP BY settled_on",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(rows.into_iter().collect())
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn campaign_households(
        &self,
        id: i64,
        q: &CampaignHouseholdQuery,
    ) -> StoreResult<CampaignHouseholdPage> {
        let filters = |qb: &mut QueryBuilder<'static, Db>| {
            qb.push(" WHERE ch.campaign_id = ").push_bind(id);
            if let Some(c) = q.cadre_user_id {
                qb.push(" AND ch.cadre_user_id = ").push_bind(c);
            }
            if q.unreached {
                qb.push(" AND ch.reached_at IS NULL");
            }
            if q.open {
                qb.push(" AND ch.settled = 0");
            }
            if q.escalated {
                qb.push(" AND ch.escalated = 1");
            }
            if let Some(v) = q.village_id {
                qb.push(" AND ch.village_id = ").push_bind(v);
            }
            if let Some(g) = q.grid_id {
                qb.push(" AND ch.grid_id = ").push_bind(g);
            }
            if let Some(grids) = &q.within_grids {
                if grids.is_empty() {
                    qb.push(" AND 1 = 0");
                } else {
                    qb.push(" AND ch.grid_id IN (");
                    push_list(qb, grids.clone());
                    qb.push(")");
                }
            }
        };
        let (rows, total, page, per_page) = super::fetch_page(
            &self.pool,
            (
                "FROM campaign_households ch",
                HOUSEHOLD_SELECT,
                "g.code, h.key, ch.household_id",
            ),
            filters,
            (q.page, q.per_page),
        )
        .await?;
        Ok(CampaignHouseholdPage {
            rows,
            total,
            page,
            per_page,
        })
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn campaign_household(
        &self,
        id: i64,
        household_id: HouseholdId,
    ) -> StoreResult<Option<CampaignHousehold>> {
        let sql = format!("{HOUSEHOLD_SELECT} WHERE ch.campaign_id = $1 AND ch.household_id = $2");
        sqlx::query_as(&sql)
            .bind(id)
            .bind(household_id)
            .fetch_optional(&self.pool)
            .await
            .db()
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn assign_campaign_households(
        &self,
        actor: &Actor,
        id: i64,
        household_ids: &[HouseholdId],
        cadre_user_id: Option<i64>,
    ) -> StoreResult<u64> {
        let actor = actor.to_string();
        let households = household_ids.to_vec();
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
        write_tx!(self, |tx| {
            for chunk in households.chunks(IDS_PER_STATEMENT) {
                let mut qb = QueryBuilder::<Db>::new(
                    "SELECT COUNT(*) FROM campaign_households WHERE campaign_id = ",
                );
                qb.push_bind(id).push(" AND household_id IN (");
                let mut ids: Vec<i64> = chunk.iter().map(|h| h.get()).collect();
                ids.sort_unstable();
                ids.dedup();
                let n = ids.len() as i64;
                push_list(&mut qb, ids);
                qb.push(")");
                let found: i64 = qb.build_query_scalar().fetch_one(&mut *tx).await.db()?;
                if found != n {
                    return Err(StoreError::Invalid {
                        field: "households".into(),
                        reason: "a household is not in the campaign".into(),
                    });
                }
            }
            let moved = assign(tx, id, &households, cadre_user_id, "hand", &actor, now).await?;
            let entries = if moved > 0 {
                vec![NewAuditEntry::new(
                    actor.clone(),
                    "campaign.assign",
                    format!("campaign:{id}"),
                    format!(
                        "{moved} households → {}",
                        cadre_user_id.map_or("nobody".into(), |c| format!("user:{c}"))
                    ),
                    &serde_json::json!({ "households": households, "cadre_user_id": cadre_user_id }),
                )]
            } else {
                Vec::new()
            };
            Ok((moved, entries))
        })
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn reassign_open_households(
        &self,
        actor: &Actor,
        id: i64,
        from_user_id: i64,
        to_user_id: i64,
    ) -> StoreResult<u64> {
        let actor = actor.to_string();
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
        write_tx!(self, |tx| {
            let open: Vec<HouseholdId> = sqlx::query_scalar(
                "SELECT household_id FROM campaign_households WHERE campaign_id = $1 AND cadre_user_id = $2 AND settled = 0 ORDER BY household_id",
            )
            .bind(id)
            .bind(from_user_id)
            .fetch_all(&mut *tx)
            .await
            .db()?;
            let moved = assign(tx, id, &open, Some(to_user_id), "reassign", &actor, now).await?;
            let entries = if moved > 0 {
                vec![NewAuditEntry::new(
                    actor.clone(),
                    "campaign.reassign",
                    format!("campaign:{id}"),
                    format!("{moved} households user:{from_user_id} → user:{to_user_id}"),
                    &serde_json::json!({ "from": from_user_id, "to": to_user_id, "households": open }),
                )]
            } else {
                Vec::new()
            };
            Ok((moved, entries))
        })
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn campaign_assignments(
        &self,
        id: i64,
        household_id: HouseholdId,
    ) -> StoreResult<Vec<(Option<String>, String, String, DateTime<Utc>)>> {
        sqlx::query_as(
            "SELECT u.display_name, a.why, a.by_actor, a.at FROM campaign_assignments a LEFT JOIN users u ON u.id = a.cadre_user_id \
             WHERE a.campaign_id = $1 AND a.household_id = $2 ORDER BY a.id",
        )
        .bind(id)
        .bind(household_id)
        .fetch_all(&self.pool)
        .await
        .db()
    }

    #[tracing::instrument(skip_all, fields(campaign_id), err(level = "debug"))]
    async fn record_visit(
        &self,
        actor: &Actor,
        campaign_id: i64,
        v: NewVisit,
    ) -> StoreResult<Result<VisitRecorded, VisitRefusal>> {
        let actor = actor.to_string();
        let visited_at = chrono::SubsecRound::trunc_subsecs(v.visited_at, 6);
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
        write_tx!(self, |tx| {
            let refuse = |r: VisitRefusal| Ok((Err(r), Vec::new()));
            // A replay first: the phone resends what it has not heard back about.
            let earlier: Option<(i64, i64, String, i64)> = sqlx::query_as(
                "SELECT id, campaign_id, fingerprint, cadre_user_id FROM visits WHERE client_id = $1",
            )
            .bind(&v.client_id)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
            if let Some((visit_id, in_campaign, fingerprint, cadre)) = earlier {
                if in_campaign != campaign_id
                    || fingerprint != v.fingerprint
                    || cadre != v.cadre_user_id
                {
                    return refuse(VisitRefusal::ClientIdReused);
                }
                let visit = visit_in(tx, campaign_id, visit_id).await?;
                return Ok((Ok(VisitRecorded::Replayed(visit)), Vec::new()));
            }
            let campaign = campaign_in(tx, campaign_id)
                .await?
                .ok_or_else(|| not_found(format!("campaign {campaign_id}")))?;
            let sql = format!(
                "SELECT cadre_user_id FROM campaign_households WHERE campaign_id = $1 AND household_id = $2{ROW_LOCK}"
            );
            let assigned: Option<Option<i64>> = sqlx::query_scalar(&sql)
                .bind(campaign_id)
                .bind(v.household_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
            let allowed = match assigned {
                None => false,
                Some(cadre) => {
                    cadre == Some(v.cadre_user_id) || (campaign.open_to_scope && v.scope_covers)
                }
            };
            if !allowed {
                return refuse(VisitRefusal::NotAssigned);
            }
            let (answer_id, mut entries) = match record_visit_answers(
                tx,
                &actor,
                &campaign,
                v.household_id,
                (v.cadre_user_id, &v.members, visited_at),
                &v.answers,
            )
            .await?
            {
                Ok(a) => a,
                Err(r) => return refuse(r),
            };
            let visit_id = insert_visit(
                tx,
                &VisitInsert {
                    campaign_id,
                    household_id: v.household_id,
                    cadre_user_id: v.cadre_user_id,
                    client_id: &v.client_id,
                    fingerprint: &v.fingerprint,
                    visited_at,
                    received_at: now,
                    outcome: v.outcome,
                    members: &v.members,
                    answers: &v.answers,
                    note: &v.note,
                    answer_id,
                    corrects: None,
                },
            )
            .await?;
            let mut cases = Vec::new();
            for concern in v.concerns {
                let (appeal, entry) = file_appeal(tx, &actor, concern, &[]).await?;
                sqlx::query("INSERT INTO visit_concerns (visit_id, appeal_id) VALUES ($1, $2)")
                    .bind(visit_id)
                    .bind(appeal.id)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                cases.push(appeal.number.clone());
                entries.push(entry);
            }
            let mut photos = Vec::new();
            for p in &v.photos {
                sqlx::query("INSERT INTO visit_photos (visit_id, token, content_type, original, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(visit_id)
                    .bind(&p.token)
                    .bind(&p.content_type)
                    .bind(&p.original)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .db()?;
                photos.push(serde_json::json!({ "content_type": p.content_type, "original_sha256": yongxin_domain::photo::sha256_hex(&p.original) }));
            }
            entries.push(NewAuditEntry::new(
                actor.clone(),
                "campaign.visit",
                format!("campaign:{campaign_id}"),
                format!("household:{} {}", v.household_id, v.outcome.code()),
                &serde_json::json!({
                    "visit_id": visit_id, "client_id": v.client_id, "household_id": v.household_id, "cadre_user_id": v.cadre_user_id,
                    "visited_at": visited_at, "outcome": v.outcome.code(), "members": v.members, "answers": v.answers,
                    "note": v.note, "appeals": cases, "photos": photos,
                }),
            ));
            let (_, more) =
                settle_progress(tx, &campaign, v.household_id, v.cadre_user_id, &actor, now)
                    .await?;
            entries.extend(more);
            let visit = visit_in(tx, campaign_id, visit_id).await?;
            Ok((Ok(VisitRecorded::Stored(visit)), entries))
        })
    }

    #[tracing::instrument(skip_all, fields(campaign_id, visit_id), err(level = "debug"))]
    async fn correct_visit(
        &self,
        actor: &Actor,
        campaign_id: i64,
        visit_id: i64,
        c: VisitCorrection,
    ) -> StoreResult<Result<Visit, VisitRefusal>> {
        let actor = actor.to_string();
        let visited_at = chrono::SubsecRound::trunc_subsecs(c.visited_at, 6);
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
        write_tx!(self, |tx| {
            let refuse = |r: VisitRefusal| Ok((Err(r), Vec::new()));
            let campaign = campaign_in(tx, campaign_id)
                .await?
                .ok_or_else(|| not_found(format!("campaign {campaign_id}")))?;
            let sql = format!(
                "SELECT vi.household_id, vi.cadre_user_id, vi.received_at, vi.current, h.village_id FROM visits vi \
                 JOIN households h ON h.id = vi.household_id WHERE vi.id = $1 AND vi.campaign_id = $2{ROW_LOCK}"
            );
            let (household_id, cadre, received_at, current, village_id): (
                HouseholdId,
                i64,
                DateTime<Utc>,
                i64,
                i64,
            ) = sqlx::query_as(&sql)
                .bind(visit_id)
                .bind(campaign_id)
                .fetch_optional(&mut *tx)
                .await
                .db()?
                .ok_or_else(|| not_found(format!("visit {visit_id}")))?;
            if current == 0 {
                return refuse(VisitRefusal::Superseded);
            }
            let recorded = Recorded {
                cadre_user_id: cadre,
                received_at,
                village_id,
            };
            if let Err(r) = may_correct(c.by, recorded, now, &c.reason) {
                return refuse(VisitRefusal::Correction(r));
            }
            let (answer_id, mut entries) = match record_visit_answers(
                tx,
                &actor,
                &campaign,
                household_id,
                (cadre, &c.members, visited_at),
                &c.answers,
            )
            .await?
            {
                Ok(a) => a,
                Err(r) => return refuse(r),
            };
            sqlx::query("UPDATE visits SET current = 0 WHERE id = $1")
                .bind(visit_id)
                .execute(&mut *tx)
                .await
                .db()?;
            let content = yongxin_domain::campaign::VisitContent {
                household_id: household_id.get(),
                visited_at,
                outcome: c.outcome,
                members: &c.members,
                answers: &c.answers,
                note: &c.note,
                concerns: &[],
                photos: &[],
            };
            // A correction is made on the server: its id says which visit it replaces.
            let client_id = format!("correction-of-{visit_id}");
            let reason = c.reason.trim();
            let new_id = insert_visit(
                tx,
                &VisitInsert {
                    campaign_id,
                    household_id,
                    cadre_user_id: cadre,
                    client_id: &client_id,
                    fingerprint: &yongxin_domain::campaign::visit_fingerprint(&content),
                    visited_at,
                    received_at: now,
                    outcome: c.outcome,
                    members: &c.members,
                    answers: &c.answers,
                    note: &c.note,
                    answer_id,
                    corrects: Some((visit_id, Some(reason).filter(|r| !r.is_empty()))),
                },
            )
            .await?;
            entries.push(NewAuditEntry::new(
                actor.clone(),
                "campaign.visit_correct",
                format!("campaign:{campaign_id}"),
                format!("visit:{visit_id} → visit:{new_id}"),
                &serde_json::json!({
                    "replaces": visit_id, "visit_id": new_id, "household_id": household_id, "by_user_id": c.by.user_id,
                    "reason": c.reason, "visited_at": visited_at, "outcome": c.outcome.code(), "members": c.members,
                    "answers": c.answers, "note": c.note,
                }),
            ));
            let (_, more) =
                settle_progress(tx, &campaign, household_id, cadre, &actor, now).await?;
            entries.extend(more);
            let visit = visit_in(tx, campaign_id, new_id).await?;
            Ok((Ok(visit), entries))
        })
    }

    #[tracing::instrument(skip_all, fields(campaign_id, visit_id), err(level = "debug"))]
    async fn visit(&self, campaign_id: i64, visit_id: i64) -> StoreResult<Option<Visit>> {
        let mut conn = self.pool.acquire().await.db()?;
        let mut v = visits_where(
            &mut conn,
            "vi.id = $1 AND vi.campaign_id = $2",
            (visit_id, campaign_id),
        )
        .await?;
        Ok(v.pop().map(|(v, _)| v))
    }

    #[tracing::instrument(skip_all, fields(campaign_id), err(level = "debug"))]
    async fn household_visits(
        &self,
        campaign_id: i64,
        household_id: HouseholdId,
    ) -> StoreResult<Vec<Visit>> {
        let mut conn = self.pool.acquire().await.db()?;
        Ok(visits_where(
            &mut conn,
            "vi.campaign_id = $1 AND vi.household_id = $2",
            (campaign_id, household_id.get()),
        )
        .await?
        .into_iter()
        .map(|(v, _)| v)
        .collect())
    }

    #[tracing::instrument(skip_all, fields(visit_id), err(level = "debug"))]
    async fn visit_photo(
        &self,
        visit_id: i64,
        token: &str,
    ) -> StoreResult<Option<(String, Vec<u8>)>> {
        sqlx::query_as(
            "SELECT content_type, original FROM visit_photos WHERE visit_id = $1 AND token = $2",
        )
        .bind(visit_id)
        .bind(token)
        .fetch_optional(&self.pool)
        .await
        .db()
    }

    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn campaign_concerns(&self, id: i64) -> StoreResult<Vec<VisitConcern>> {
        sqlx::query_as(
            "SELECT c.visit_id, vi.household_id, h.address, a.id AS appeal_id, a.title, a.category_code AS category, a.status, a.created_at \
             FROM visit_concerns c JOIN visits vi ON vi.id = c.visit_id JOIN households h ON h.id = vi.household_id \
             JOIN appeals a ON a.id = c.appeal_id WHERE vi.campaign_id = $1 ORDER BY a.id DESC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .db()
    }

    #[tracing::instrument(skip_all, fields(appeal_id), err(level = "debug"))]
    async fn appeal_visit(&self, appeal_id: AppealId) -> StoreResult<Option<VisitSource>> {
        sqlx::query_as(
            "SELECT vi.campaign_id, k.title AS campaign_title, vi.id AS visit_id, vi.visited_at FROM visit_concerns c \
             JOIN visits vi ON vi.id = c.visit_id JOIN campaigns k ON k.id = vi.campaign_id WHERE c.appeal_id = $1",
        )
        .bind(appeal_id)
        .fetch_optional(&self.pool)
        .await
        .db()
    }
}

impl StoreImpl {
    /// Coverage by the day households were reached: each day since the campaign began (and any
    /// day with a household reached), with the households not yet reached when it began.
    async fn coverage_by_day(
        &self,
        id: i64,
        cadre_user_id: Option<i64>,
    ) -> StoreResult<Vec<CoverageGroup>> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT ch.reached_on, CAST(COUNT(*) AS BIGINT) AS reached, CAST(COALESCE(SUM(ch.met), 0) AS BIGINT) AS met \
             FROM campaign_households ch WHERE ch.reached_on IS NOT NULL AND ch.campaign_id = ",
        );
        qb.push_bind(id);
        if let Some(c) = cadre_user_id {
            qb.push(" AND ch.cadre_user_id = ").push_bind(c);
        }
        qb.push(" GROUP BY ch.reached_on ORDER BY ch.reached_on");
        let per_day: Vec<(NaiveDate, i64, i64)> =
            qb.build_query_as().fetch_all(&self.pool).await.db()?;
        let mut target = QueryBuilder::<Db>::new(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM campaign_households ch WHERE ch.campaign_id = ",
        );
        target.push_bind(id);
        if let Some(c) = cadre_user_id {
            target.push(" AND ch.cadre_user_id = ").push_bind(c);
        }
        let target: i64 = target
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .db()?;
        let campaign = self
            .campaign(id)
            .await?
            .ok_or_else(|| not_found(format!("campaign {id}")))?;
        let today = local_day(Utc::now());
        let mut days: BTreeMap<NaiveDate, (i64, i64)> = campaign
            .period()
            .days()
            .take_while(|d| *d <= today)
            .map(|d| (d, (0, 0)))
            .collect();
        for (day, reached, met) in per_day {
            days.insert(day, (reached, met));
        }
        let mut not_reached = target;
        Ok(days
            .into_iter()
            .map(|(day, (reached, met))| {
                let group = CoverageGroup {
                    key: day.to_string(),
                    name: day.to_string(),
                    totals: CampaignTotals {
                        target: not_reached,
                        reached,
                        met,
                        ..CampaignTotals::default()
                    },
                };
                not_reached -= reached;
                group
            })
            .collect())
    }
}
