//! Resettlement (拆迁安置) in SQL. Every phase-sensitive write reads the project's phase under
//! `ROW_LOCK` in its own transaction, so a registration cannot slip in after the freeze, nor an
//! assessment edit after the results are published.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use yongxin_domain::NewAuditEntry;
use yongxin_store::{HouseholdId, ProjectId};
use yongxin_store::{StoreError, StoreResult, User};

use super::notice::{insert_notice, notice_in};
use super::registry::{household_from, MemberRow, HOUSEHOLD_SELECT, MEMBER_COLUMNS};
use crate::dialect::write_tx;

use std::collections::HashSet;
use yongxin_domain::lottery::{
    canonical_list, list_sha256, seed_rule_zh, Proof, Reveal, Seed, SeedCommitment,
};

use super::push_list;
use super::{corrupt, Db, DbConn, DbResult, DbRow, JsonText, ROW_LOCK};
use crate::StoreImpl;
use sqlx::FromRow;
use yongxin_domain::money::{Fen, Qty};
use yongxin_domain::notice::{CheckedNotice, NoticeDraft};
use yongxin_domain::resettlement::entitlement::{
    compute, eligible_members, layout_combination, ChosenUnit, Entitlement, HouseholdInputs,
    MemberFacts,
};
use yongxin_domain::resettlement::policy::Policy;
use yongxin_domain::resettlement::{Phase, ResettlementError};
use yongxin_domain::Actor;
use yongxin_store::Member;
use yongxin_store::Project;
use yongxin_store::{
    Assessment, EntitlementRecord, LotteryDraw, LotteryState, PhaseChange, PolicyVersion,
    ProjectDetail, ProjectHousehold, ProjectUnit, Registration, RegistrationCoverage,
    RegistrationDay, ResettlementStore,
};

pub(crate) type Refusable<T> = Result<T, ResettlementError>;

pub(crate) fn now_micros() -> DateTime<Utc> {
    chrono::SubsecRound::trunc_subsecs(Utc::now(), 6)
}

pub(crate) fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::internal(format!("resettlement record not understood: {e}"))
}

/// A project's row as `project_in` reads it.
#[derive(sqlx::FromRow)]
struct ProjectRow {
    code: String,
    name: String,
    #[sqlx(try_from = "String")]
    phase: Phase,
    results_notice_id: Option<i64>,
    frozen: bool,
}

pub(crate) async fn project_in(
    tx: &mut DbConn,
    id: ProjectId,
    lock: bool,
) -> StoreResult<Option<ProjectDetail>> {
    let sql = format!(
        "SELECT code, name, phase, results_notice_id, EXISTS (SELECT 1 FROM lotteries l WHERE l.project_id = projects.id) AS frozen FROM projects WHERE id = $1{}",
        if lock { ROW_LOCK } else { "" }
    );
    let Some(row) = sqlx::query_as::<_, ProjectRow>(&sql)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .db()?
    else {
        return Ok(None);
    };
    let villages: Vec<i64> = sqlx::query_scalar(
        "SELECT village_id FROM project_villages WHERE project_id = $1 ORDER BY village_id",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await
    .db()?;
    Ok(Some(ProjectDetail {
        project: Project {
            id,
            code: row.code,
            name: row.name,
            village_ids: villages,
        },
        phase: row.phase,
        results_notice_id: row.results_notice_id,
        frozen: row.frozen,
    }))
}

pub(crate) async fn locked_project(tx: &mut DbConn, id: ProjectId) -> StoreResult<ProjectDetail> {
    project_in(tx, id, true)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("project {id}"),
        })
}

/// The project's current policy (its latest version).
pub(crate) async fn current_policy(
    tx: &mut DbConn,
    project_id: ProjectId,
) -> StoreResult<Option<std::sync::Arc<Policy>>> {
    let source: Option<String> = sqlx::query_scalar(
        "SELECT source FROM policy_versions WHERE project_id = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(project_id)
    .fetch_optional(&mut *tx)
    .await
    .db()?;
    source.map(|s| yongxin_store::parsed_policy(&s)).transpose()
}

pub(crate) async fn in_project(
    tx: &mut DbConn,
    project_id: ProjectId,
    household_id: HouseholdId,
) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM households h JOIN project_villages pv ON pv.village_id = h.village_id WHERE pv.project_id = $1 AND h.id = $2")
        .bind(project_id)
        .bind(household_id)
        .fetch_one(&mut *tx)
        .await
        .db()?;
    Ok(n > 0)
}

pub(crate) async fn record_phase(
    tx: &mut DbConn,
    actor: &str,
    project: &ProjectDetail,
    to: Phase,
    reason: &str,
) -> StoreResult<NewAuditEntry> {
    let id = project.project.id;
    sqlx::query("UPDATE projects SET phase = $1 WHERE id = $2")
        .bind(to.code())
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
    sqlx::query("INSERT INTO project_phase_changes (project_id, from_phase, to_phase, reason, actor, changed_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(project.phase.code())
        .bind(to.code())
        .bind(reason)
        .bind(actor)
        .bind(now_micros())
        .execute(&mut *tx)
        .await
        .db()?;
    Ok(NewAuditEntry::new(
        actor.to_string(),
        "project.phase",
        format!("project:{id}"),
        to.zh().to_owned(),
        &serde_json::json!({ "from": project.phase.code(), "to": to.code(), "reason": reason }),
    ))
}

pub(crate) const RESULT_COLUMNS: &str = "id, household_id, policy_version, assessment_id, chosen, signed_on, result, reason, created_by, created_at, current";

/// A row of [`RESULT_COLUMNS`].
#[derive(sqlx::FromRow)]
struct ResultRow {
    id: i64,
    household_id: HouseholdId,
    policy_version: i64,
    assessment_id: i64,
    chosen: JsonText<Vec<ChosenUnit>>,
    signed_on: Option<NaiveDate>,
    result: JsonText<Entitlement>,
    reason: String,
    created_by: String,
    created_at: DateTime<Utc>,
    current: i64,
}

/// Reads a row of [`RESULT_COLUMNS`].
pub(crate) fn result_from(row: &DbRow) -> StoreResult<EntitlementRecord> {
    let r = ResultRow::from_row(row).db()?;
    Ok(EntitlementRecord {
        id: r.id,
        household_id: r.household_id,
        policy_version: u32::try_from(r.policy_version)
            .map_err(|_| corrupt("policy version", &r.policy_version.to_string()))?,
        assessment_id: r.assessment_id,
        chosen: r.chosen.0,
        signed_on: r.signed_on,
        result: r.result.0,
        reason: r.reason,
        created_by: r.created_by,
        created_at: r.created_at,
        current: r.current == 1,
    })
}

/// Stores a household's new current result, computed by the caller before it wrote anything;
/// the one before stays as history.
#[expect(
    clippy::too_many_arguments,
    reason = "the parts of one result row; a struct would only rename them"
)]
pub(crate) async fn insert_result(
    tx: &mut DbConn,
    actor: &str,
    project_id: ProjectId,
    household_id: HouseholdId,
    assessment_id: i64,
    (chosen, signed_on): (Vec<ChosenUnit>, Option<NaiveDate>),
    result: Entitlement,
    reason: &str,
) -> StoreResult<(EntitlementRecord, NewAuditEntry)> {
    let now = now_micros();
    sqlx::query("UPDATE entitlement_results SET current = 0 WHERE project_id = $1 AND household_id = $2 AND current = 1").bind(project_id).bind(household_id).execute(&mut *tx).await.db()?;
    let chosen_json = serde_json::to_string(&chosen).map_err(json_err)?;
    let result_json = serde_json::to_string(&result).map_err(json_err)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO entitlement_results (project_id, household_id, policy_version, assessment_id, chosen, signed_on, result, eligible_persons, entitled_area, compensation, net, reason, created_by, created_at, current) \
         VALUES ($1, $2, $3, $4, $5, $14, $6, $7, $8, $9, $10, $11, $12, $13, 1) RETURNING id",
    )
    .bind(project_id)
    .bind(household_id)
    .bind(i64::from(result.policy_version))
    .bind(assessment_id)
    .bind(&chosen_json)
    .bind(&result_json)
    .bind(result.eligible_persons.0)
    .bind(result.entitled_area.0)
    .bind(result.totals.compensation.0)
    .bind(result.totals.net.0)
    .bind(reason)
    .bind(actor)
    .bind(now)
    .bind(signed_on)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    let entry = NewAuditEntry::new(
        actor.to_string(),
        "entitlement.compute",
        format!("household:{household_id}"),
        format!("project:{project_id}"),
        &serde_json::json!({ "result_id": id, "policy_version": result.policy_version, "assessment_id": assessment_id, "chosen": chosen, "reason": reason, "totals": result.totals }),
    );
    let record = EntitlementRecord {
        id,
        household_id,
        policy_version: result.policy_version,
        assessment_id,
        chosen,
        signed_on,
        result,
        reason: reason.to_owned(),
        created_by: actor.to_string(),
        created_at: now,
        current: true,
    };
    Ok((record, entry))
}

pub(crate) async fn insert_assessment(
    tx: &mut DbConn,
    actor: &str,
    project_id: ProjectId,
    household_id: HouseholdId,
    inputs: &HouseholdInputs,
    reason: Option<&str>,
) -> StoreResult<(i64, NewAuditEntry)> {
    let json = serde_json::to_string(inputs).map_err(json_err)?;
    let id: i64 = sqlx::query_scalar("INSERT INTO assessments (project_id, household_id, inputs, reason, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(project_id)
        .bind(household_id)
        .bind(&json)
        .bind(reason)
        .bind(actor)
        .bind(now_micros())
        .fetch_one(&mut *tx)
        .await
        .db()?;
    let entry = NewAuditEntry::new(
        actor.to_string(),
        "assessment.save",
        format!("household:{household_id}"),
        format!("project:{project_id}"),
        &serde_json::json!({ "assessment_id": id, "inputs": inputs, "correction": reason }),
    );
    Ok((id, entry))
}

/// A row of `assessments`.
#[derive(sqlx::FromRow)]
struct AssessmentRow {
    id: i64,
    household_id: HouseholdId,
    inputs: JsonText<HouseholdInputs>,
    reason: Option<String>,
    created_by: String,
    created_at: DateTime<Utc>,
}

impl From<AssessmentRow> for Assessment {
    fn from(r: AssessmentRow) -> Self {
        Assessment {
            id: r.id,
            household_id: r.household_id,
            inputs: r.inputs.0,
            reason: r.reason,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

pub(crate) async fn latest_assessment(
    tx: &mut DbConn,
    project_id: ProjectId,
    household_id: HouseholdId,
) -> StoreResult<Option<Assessment>> {
    let row: Option<AssessmentRow> = sqlx::query_as("SELECT id, household_id, inputs, reason, created_by, created_at FROM assessments WHERE project_id = $1 AND household_id = $2 ORDER BY id DESC LIMIT 1")
        .bind(project_id)
        .bind(household_id)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
    Ok(row.map(Assessment::from))
}

pub(crate) const REGISTRATION_COLUMNS: &str =
    "household_id, layouts, total_area, in_person, by_user_id, by_name, registered_at";

/// A row of [`REGISTRATION_COLUMNS`].
#[derive(sqlx::FromRow)]
struct RegistrationRow {
    household_id: HouseholdId,
    layouts: JsonText<Vec<String>>,
    total_area: i64,
    in_person: i64,
    by_user_id: i64,
    by_name: String,
    registered_at: DateTime<Utc>,
}

/// Reads a row of [`REGISTRATION_COLUMNS`].
pub(crate) fn registration_from(row: &DbRow) -> StoreResult<Registration> {
    let r = RegistrationRow::from_row(row).db()?;
    Ok(Registration {
        household_id: r.household_id,
        layouts: r.layouts.0,
        total_area: Qty(r.total_area),
        in_person: r.in_person == 1,
        by_user_id: r.by_user_id,
        by_name: r.by_name,
        at: r.registered_at,
    })
}

pub(crate) async fn registration_in(
    tx: &mut DbConn,
    project_id: ProjectId,
    household_id: HouseholdId,
) -> StoreResult<Option<Registration>> {
    let sql = format!("SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE project_id = $1 AND household_id = $2");
    sqlx::query(&sql)
        .bind(project_id)
        .bind(household_id)
        .fetch_optional(&mut *tx)
        .await
        .db()?
        .as_ref()
        .map(registration_from)
        .transpose()
}

/// The members as the registry has them now, for eligibility.
pub(crate) async fn member_facts(
    tx: &mut DbConn,
    household_id: HouseholdId,
) -> StoreResult<Vec<MemberFacts>> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM residents r WHERE r.household_id = $1 ORDER BY r.position, r.id");
    sqlx::query_as::<_, MemberRow>(&sql)
        .bind(household_id)
        .fetch_all(&mut *tx)
        .await
        .db()?
        .into_iter()
        .map(|r| Ok(MemberFacts::from(&Member::try_from(r)?)))
        .collect()
}

/// Whether a draw's proof revealed the values of this commitment.
pub(crate) fn revealed(proof_json: &str, commitment: &SeedCommitment) -> bool {
    serde_json::from_str::<Proof>(proof_json)
        .is_ok_and(|p| p.seed_commitment.as_ref() == Some(commitment))
}

pub(crate) async fn lottery_in(
    tx: &mut DbConn,
    project_id: ProjectId,
) -> StoreResult<Option<LotteryState>> {
    let Some(row) = sqlx::query_as::<_, LotteryRow>("SELECT list, list_sha256, seed_rule, seed_commitment, notice_id, frozen_by, frozen_at FROM lotteries WHERE project_id = $1").bind(project_id).fetch_optional(&mut *tx).await.db()? else {
        return Ok(None);
    };
    let draws = sqlx::query_as("SELECT seed, proof, reason, drawn_by, drawn_at FROM lottery_draws WHERE project_id = $1 ORDER BY id").bind(project_id).fetch_all(&mut *tx).await.db()?;
    Ok(Some(LotteryState {
        list: row.list.0,
        list_sha256: row.list_sha256,
        seed_rule: row.seed_rule,
        seed_commitment: row.seed_commitment.map(|c| c.0),
        notice_id: row.notice_id,
        frozen_by: row.frozen_by,
        frozen_at: row.frozen_at,
        draws,
    }))
}

/// A row of `lotteries`.
#[derive(sqlx::FromRow)]
struct LotteryRow {
    list: JsonText<Vec<String>>,
    list_sha256: String,
    seed_rule: String,
    seed_commitment: Option<JsonText<SeedCommitment>>,
    notice_id: Option<i64>,
    frozen_by: String,
    frozen_at: DateTime<Utc>,
}

#[async_trait]
impl ResettlementStore for StoreImpl {
    #[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
    async fn project(&self, id: ProjectId) -> StoreResult<Option<ProjectDetail>> {
        let mut conn = self.pool.acquire().await.db()?;
        project_in(&mut conn, id, false).await
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn phase_changes(&self, project_id: ProjectId) -> StoreResult<Vec<PhaseChange>> {
        sqlx::query_as("SELECT from_phase AS \"from\", to_phase AS \"to\", reason, actor, changed_at AS at FROM project_phase_changes WHERE project_id = $1 ORDER BY id").bind(project_id).fetch_all(&self.pool).await.db()
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn move_phase(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        to: Phase,
        reason: &str,
    ) -> StoreResult<Refusable<ProjectDetail>> {
        let (actor, reason) = (actor.to_string(), reason.to_owned());
        write_tx!(self, |tx| {
            let project = locked_project(tx, project_id).await?;
            if let Err(e) = project.phase.check_move(to) {
                return Ok((Err(e.into()), vec![]));
            }
            let refused = match to {
                Phase::PolicyPublished => {
                    Some(ResettlementError::MovedByAction(to.zh(), "公布安置政策"))
                }
                Phase::ResultsPublication => Some(ResettlementError::MovedByAction(
                    to.zh(),
                    "发布评估结果公示",
                )),
                _ => None,
            };
            if let Some(e) = refused {
                return Ok((Err(e), vec![]));
            }
            if to == Phase::Lottery {
                let notice = match project.results_notice_id {
                    Some(n) => notice_in(tx, n).await?,
                    None => {
                        return Ok((
                            Err(ResettlementError::MovedByAction(
                                Phase::ResultsPublication.zh(),
                                "发布评估结果公示",
                            )),
                            vec![],
                        ))
                    }
                };
                if let Some(until) = notice.objections_until.filter(|u| *u > Utc::now()) {
                    return Ok((
                        Err(ResettlementError::ObjectionWindowOpen(
                            yongxin_domain::time::display_local(until),
                        )),
                        vec![],
                    ));
                }
                if notice.objections > notice.objections_answered {
                    return Ok((
                        Err(ResettlementError::ObjectionsOpen(
                            notice.objections - notice.objections_answered,
                        )),
                        vec![],
                    ));
                }
            }
            if to == Phase::Selection {
                let draws: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM lottery_draws WHERE project_id = $1")
                        .bind(project_id)
                        .fetch_one(&mut *tx)
                        .await
                        .db()?;
                if draws == 0 {
                    return Ok((Err(ResettlementError::NotDrawn), vec![]));
                }
            }
            let entry = record_phase(tx, &actor, &project, to, &reason).await?;
            let moved = ProjectDetail {
                phase: to,
                ..project
            };
            Ok((Ok(moved), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn publish_policy(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        source: &str,
        notice: CheckedNotice,
    ) -> StoreResult<Refusable<PolicyVersion>> {
        let policy = match Policy::from_toml(source) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e.into())),
        };
        let (actor, source) = (actor.to_string(), source.to_owned());
        write_tx!(self, |tx| {
            let project = locked_project(tx, project_id).await?;
            let last: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(version) FROM policy_versions WHERE project_id = $1",
            )
            .bind(project_id)
            .fetch_one(&mut *tx)
            .await
            .db()?;
            let expected = u32::try_from(last.unwrap_or(0) + 1).unwrap_or(u32::MAX);
            if policy.version != expected {
                return Ok((
                    Err(ResettlementError::PolicyVersion {
                        expected,
                        given: policy.version,
                    }),
                    vec![],
                ));
            }
            let (n, notice_entry) = insert_notice(tx, &actor, notice).await?;
            let now = now_micros();
            let id: i64 = sqlx::query_scalar("INSERT INTO policy_versions (project_id, version, title, effective_on, source, notice_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
                .bind(project_id)
                .bind(i64::from(policy.version))
                .bind(&policy.title)
                .bind(policy.effective)
                .bind(&source)
                .bind(n.id)
                .bind(&actor)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .db()?;
            // The catalogue follows the policy: apartments kept by building and number, their
            // layout and area as this version says, those no longer listed removed.
            let units = policy.units();
            let existing: Vec<(String, String)> =
                sqlx::query_as("SELECT building, number FROM project_units WHERE project_id = $1")
                    .bind(project_id)
                    .fetch_all(&mut *tx)
                    .await
                    .db()?;
            let wanted: HashSet<(String, String)> = units
                .iter()
                .map(|u| (u.building.clone(), u.number.clone()))
                .collect();
            for (b, num) in existing.iter().filter(|k| !wanted.contains(*k)) {
                sqlx::query("DELETE FROM project_units WHERE project_id = $1 AND building = $2 AND number = $3").bind(project_id).bind(b).bind(num).execute(&mut *tx).await.db()?;
            }
            let existing: HashSet<(String, String)> = existing.into_iter().collect();
            for chunk in units.chunks(500) {
                let (new, old): (Vec<_>, Vec<_>) = chunk
                    .iter()
                    .partition(|u| !existing.contains(&(u.building.clone(), u.number.clone())));
                if !new.is_empty() {
                    let mut qb = QueryBuilder::<Db>::new("INSERT INTO project_units (project_id, building, building_name, number, floor, layout, area) ");
                    qb.push_values(new, |mut b, u| {
                        b.push_bind(project_id)
                            .push_bind(u.building.clone())
                            .push_bind(u.building_name.clone())
                            .push_bind(u.number.clone())
                            .push_bind(i64::from(u.floor))
                            .push_bind(u.layout.clone())
                            .push_bind(u.area.0);
                    });
                    qb.build().execute(&mut *tx).await.db()?;
                }
                for u in old {
                    sqlx::query("UPDATE project_units SET building_name = $1, floor = $2, layout = $3, area = $4 WHERE project_id = $5 AND building = $6 AND number = $7")
                        .bind(&u.building_name)
                        .bind(i64::from(u.floor))
                        .bind(&u.layout)
                        .bind(u.area.0)
                        .bind(project_id)
                        .bind(&u.building)
                        .bind(&u.number)
                        .execute(&mut *tx)
                        .await
                        .db()?;
                }
            }
            let mut entries = vec![
                notice_entry,
                NewAuditEntry::new(
                    actor.clone(),
                    "policy.publish",
                    format!("project:{project_id}"),
                    policy.title.clone(),
                    &serde_json::json!({ "policy_version_id": id, "version": policy.version, "source": source, "notice_id": n.id, "units": units.len() }),
                ),
            ];
            if project.phase == Phase::Preparation {
                entries.push(
                    record_phase(tx, &actor, &project, Phase::PolicyPublished, "公布安置政策")
                        .await?,
                );
            }
            let version = PolicyVersion {
                id,
                project_id,
                version: policy.version,
                title: policy.title.clone(),
                effective: policy.effective,
                source,
                notice_id: Some(n.id),
                created_by: actor.clone(),
                created_at: now,
            };
            Ok((Ok(version), entries))
        })
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn policy_versions(&self, project_id: ProjectId) -> StoreResult<Vec<PolicyVersion>> {
        sqlx::query_as("SELECT id, project_id, version, title, effective_on AS effective, source, notice_id, created_by, created_at FROM policy_versions WHERE project_id = $1 ORDER BY version").bind(project_id).fetch_all(&self.pool).await.db()
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn project_units(&self, project_id: ProjectId) -> StoreResult<Vec<ProjectUnit>> {
        sqlx::query_as("SELECT id, building, building_name, number, floor, layout, area FROM project_units WHERE project_id = $1 ORDER BY id").bind(project_id).fetch_all(&self.pool).await.db()
    }

    #[tracing::instrument(skip_all, fields(project_id, household_id), err(level = "debug"))]
    async fn save_assessment(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        household_id: HouseholdId,
        inputs: HouseholdInputs,
        correction: Option<String>,
    ) -> StoreResult<Refusable<EntitlementRecord>> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let project = locked_project(tx, project_id).await?;
            let correction = correction.filter(|r| !r.trim().is_empty());
            if let Err(e) = project.phase.check_assessment(correction.as_deref()) {
                return Ok((Err(e.into()), vec![]));
            }
            if !in_project(tx, project_id, household_id).await? {
                return Ok((Err(ResettlementError::NotInProject), vec![]));
            }
            let Some(policy) = current_policy(tx, project_id).await? else {
                return Ok((Err(ResettlementError::NoPolicy), vec![]));
            };
            // The registered combination is priced with the new inputs; the members may have
            // changed, so it is checked again.
            let chosen = match registration_in(tx, project_id, household_id).await? {
                Some(r) => {
                    let area = match yongxin_domain::resettlement::entitlement::entitled_area(
                        &policy,
                        &inputs.members,
                    ) {
                        Ok((_, area)) => area,
                        Err(e) => return Ok((Err(e.into()), vec![])),
                    };
                    match layout_combination(&policy, area, &r.layouts) {
                        Ok(units) => units,
                        Err(e) => return Ok((Err(e.into()), vec![])),
                    }
                }
                None => Vec::new(),
            };
            let result = match compute(&policy, &inputs, &chosen, None) {
                Ok(r) => r,
                Err(e) => return Ok((Err(e.into()), vec![])),
            };
            let (assessment_id, entry) = insert_assessment(
                tx,
                &actor,
                project_id,
                household_id,
                &inputs,
                correction.as_deref(),
            )
            .await?;
            let reason = match &correction {
                Some(r) => format!("更正：{r}"),
                None => "入户评估".to_owned(),
            };
            let (record, result_entry) = insert_result(
                tx,
                &actor,
                project_id,
                household_id,
                assessment_id,
                (chosen, None),
                result,
                &reason,
            )
            .await?;
            Ok((Ok(record), vec![entry, result_entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(project_id, household_id), err(level = "debug"))]
    async fn assessment(
        &self,
        project_id: ProjectId,
        household_id: HouseholdId,
    ) -> StoreResult<Option<Assessment>> {
        let mut conn = self.pool.acquire().await.db()?;
        latest_assessment(&mut conn, project_id, household_id).await
    }

    #[tracing::instrument(skip_all, fields(project_id, household_id), err(level = "debug"))]
    async fn entitlement_history(
        &self,
        project_id: ProjectId,
        household_id: HouseholdId,
    ) -> StoreResult<Vec<EntitlementRecord>> {
        let sql = format!("SELECT {RESULT_COLUMNS} FROM entitlement_results WHERE project_id = $1 AND household_id = $2 ORDER BY id");
        let rows = sqlx::query(&sql)
            .bind(project_id)
            .bind(household_id)
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(result_from).collect()
    }

    #[tracing::instrument(skip_all, fields(project_id, household_id), err(level = "debug"))]
    async fn entitlement(
        &self,
        project_id: ProjectId,
        household_id: HouseholdId,
    ) -> StoreResult<Option<EntitlementRecord>> {
        let sql = format!("SELECT {RESULT_COLUMNS} FROM entitlement_results WHERE project_id = $1 AND household_id = $2 AND current = 1");
        sqlx::query(&sql)
            .bind(project_id)
            .bind(household_id)
            .fetch_optional(&self.pool)
            .await
            .db()?
            .as_ref()
            .map(result_from)
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(project_id, household_id), err(level = "debug"))]
    async fn register(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        household_id: HouseholdId,
        layouts: Vec<String>,
        by: &User,
        in_person: bool,
    ) -> StoreResult<Refusable<Registration>> {
        let (actor, by_user_id, by_name) = (actor.to_string(), by.id, by.display_name.clone());
        write_tx!(self, |tx| {
            let project = locked_project(tx, project_id).await?;
            if let Err(e) = project.phase.check_registration(project.frozen) {
                return Ok((Err(e.into()), vec![]));
            }
            if !in_project(tx, project_id, household_id).await? {
                return Ok((Err(ResettlementError::NotInProject), vec![]));
            }
            let Some(policy) = current_policy(tx, project_id).await? else {
                return Ok((Err(ResettlementError::NoPolicy), vec![]));
            };
            // Everything is checked before anything is written: a refusal leaves no row.
            let assessed = latest_assessment(tx, project_id, household_id).await?;
            let inputs = match &assessed {
                Some(a) => a.inputs.clone(),
                None => HouseholdInputs {
                    members: eligible_members(&policy, &member_facts(tx, household_id).await?),
                    ..HouseholdInputs::default()
                },
            };
            let area = match yongxin_domain::resettlement::entitlement::entitled_area(
                &policy,
                &inputs.members,
            ) {
                Ok((_, area)) => area,
                Err(e) => return Ok((Err(e.into()), vec![])),
            };
            let chosen = match layout_combination(&policy, area, &layouts) {
                Ok(units) => units,
                Err(e) => return Ok((Err(e.into()), vec![])),
            };
            let result = match compute(&policy, &inputs, &chosen, None) {
                Ok(r) => r,
                Err(e) => return Ok((Err(e.into()), vec![])),
            };
            let mut entries = Vec::new();
            let assessment_id = match assessed {
                Some(a) => a.id,
                None => {
                    let (id, entry) =
                        insert_assessment(tx, &actor, project_id, household_id, &inputs, None)
                            .await?;
                    entries.push(entry);
                    id
                }
            };
            let total: Qty = chosen.iter().map(|u| u.area).sum();
            let (_, result) = insert_result(
                tx,
                &actor,
                project_id,
                household_id,
                assessment_id,
                (chosen, None),
                result,
                "选房登记",
            )
            .await?;
            let now = now_micros();
            let day = now
                .with_timezone(&yongxin_domain::time::shanghai())
                .date_naive();
            let layouts_json = serde_json::to_string(&layouts).map_err(json_err)?;
            sqlx::query("DELETE FROM registrations WHERE project_id = $1 AND household_id = $2")
                .bind(project_id)
                .bind(household_id)
                .execute(&mut *tx)
                .await
                .db()?;
            sqlx::query("INSERT INTO registrations (project_id, household_id, layouts, total_area, in_person, by_user_id, by_name, registered_at, registered_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(project_id)
                .bind(household_id)
                .bind(&layouts_json)
                .bind(total.0)
                .bind(i64::from(in_person))
                .bind(by_user_id)
                .bind(&by_name)
                .bind(now)
                .bind(day)
                .execute(&mut *tx)
                .await
                .db()?;
            entries.push(result);
            entries.push(NewAuditEntry::new(actor.clone(), "registration.save", format!("household:{household_id}"), format!("project:{project_id}"), &serde_json::json!({ "layouts": layouts, "total_area": total, "in_person": in_person, "by_user_id": by_user_id })));
            Ok((
                Ok(Registration {
                    household_id,
                    layouts,
                    total_area: total,
                    in_person,
                    by_user_id,
                    by_name,
                    at: now,
                }),
                entries,
            ))
        })
    }

    #[tracing::instrument(skip_all, fields(project_id, household_id), err(level = "debug"))]
    async fn registration(
        &self,
        project_id: ProjectId,
        household_id: HouseholdId,
    ) -> StoreResult<Option<Registration>> {
        let mut conn = self.pool.acquire().await.db()?;
        registration_in(&mut conn, project_id, household_id).await
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn project_households(
        &self,
        project_id: ProjectId,
        page: u32,
        per_page: u32,
        unregistered_only: bool,
    ) -> StoreResult<(Vec<ProjectHousehold>, i64)> {
        let per_page = i64::from(per_page.clamp(1, 500));
        let offset = (i64::from(page.max(1)) - 1) * per_page;
        let filter = if unregistered_only {
            " AND NOT EXISTS (SELECT 1 FROM registrations rg WHERE rg.project_id = pv.project_id AND rg.household_id = h.id)"
        } else {
            ""
        };
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM households h JOIN project_villages pv ON pv.village_id = h.village_id WHERE pv.project_id = $1{filter}"))
            .bind(project_id)
            .fetch_one(&self.pool)
            .await
            .db()?;
        let sql = format!(
            "{HOUSEHOLD_SELECT} JOIN project_villages pv ON pv.village_id = h.village_id WHERE pv.project_id = $1{filter} ORDER BY h.key, h.id LIMIT $2 OFFSET $3"
        );
        let rows = sqlx::query(&sql)
            .bind(project_id)
            .bind(per_page)
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .db()?;
        let households = rows
            .iter()
            .map(household_from)
            .collect::<StoreResult<Vec<_>>>()?;
        if households.is_empty() {
            return Ok((Vec::new(), total));
        }
        let ids: Vec<HouseholdId> = households.iter().map(|h| h.id).collect();
        let mut qb = QueryBuilder::<Db>::new("SELECT household_id, eligible_persons, entitled_area, compensation, net FROM entitlement_results WHERE current = 1 AND project_id = ");
        qb.push_bind(project_id).push(" AND household_id IN (");
        push_list(&mut qb, ids.iter().copied());
        qb.push(")");
        let results: HashMap<HouseholdId, (i64, i64, i64, i64)> = qb
            .build_query_as::<(HouseholdId, i64, i64, i64, i64)>()
            .fetch_all(&self.pool)
            .await
            .db()?
            .into_iter()
            .map(|(h, persons, area, compensation, net)| (h, (persons, area, compensation, net)))
            .collect();
        let mut qb = QueryBuilder::<Db>::new(format!(
            "SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE project_id = "
        ));
        qb.push_bind(project_id).push(" AND household_id IN (");
        push_list(&mut qb, ids.iter().copied());
        qb.push(")");
        let mut registered: HashMap<HouseholdId, Vec<String>> = HashMap::new();
        for r in qb.build().fetch_all(&self.pool).await.db()? {
            let reg = registration_from(&r)?;
            registered.insert(reg.household_id, reg.layouts);
        }
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT household_id, lottery_order FROM lottery_orders WHERE project_id = ",
        );
        qb.push_bind(project_id).push(" AND household_id IN (");
        push_list(&mut qb, ids.iter().copied());
        qb.push(")");
        let order: HashMap<HouseholdId, i64> = qb
            .build_query_as::<(HouseholdId, i64)>()
            .fetch_all(&self.pool)
            .await
            .db()?
            .into_iter()
            .collect();
        let rows = households
            .into_iter()
            .map(|h| {
                let r = results.get(&h.id);
                ProjectHousehold {
                    eligible_persons: r.map(|r| Qty(r.0)),
                    entitled_area: r.map(|r| Qty(r.1)),
                    compensation: r.map(|r| Fen(r.2)),
                    net: r.map(|r| Fen(r.3)),
                    registered: registered.remove(&h.id),
                    lottery_order: order.get(&h.id).copied(),
                    household: h,
                }
            })
            .collect();
        Ok((rows, total))
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn registration_coverage(
        &self,
        project_id: ProjectId,
    ) -> StoreResult<Vec<RegistrationCoverage>> {
        sqlx::query_as(
            "SELECT v.id AS village_id, v.name AS village_name, COUNT(h.id) AS households, COUNT(rg.household_id) AS registered, \
             COUNT(CASE WHEN rg.in_person = 1 THEN 1 END) AS in_person \
             FROM project_villages pv JOIN villages v ON v.id = pv.village_id JOIN households h ON h.village_id = v.id \
             LEFT JOIN registrations rg ON rg.project_id = pv.project_id AND rg.household_id = h.id \
             WHERE pv.project_id = $1 GROUP BY v.id, v.name ORDER BY v.id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await
        .db()
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn registration_days(&self, project_id: ProjectId) -> StoreResult<Vec<RegistrationDay>> {
        let rows: Vec<(NaiveDate, String, i64, i64)> = sqlx::query_as("SELECT registered_on, by_name, in_person, COUNT(*) AS n FROM registrations WHERE project_id = $1 GROUP BY registered_on, by_name, in_person ORDER BY registered_on DESC, n DESC, by_name")
            .bind(project_id)
            .fetch_all(&self.pool)
            .await
            .db()?;
        Ok(rows
            .into_iter()
            .map(|(day, by_name, in_person, count)| RegistrationDay {
                day,
                by_name,
                in_person: in_person == 1,
                count,
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn publish_results(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        notice: CheckedNotice,
    ) -> StoreResult<Refusable<ProjectDetail>> {
        let actor = actor.to_string();
        write_tx!(self, |tx| {
            let project = locked_project(tx, project_id).await?;
            if let Err(e) = project.phase.check_move(Phase::ResultsPublication) {
                return Ok((Err(e.into()), vec![]));
            }
            let unassessed: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM households h JOIN project_villages pv ON pv.village_id = h.village_id WHERE pv.project_id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM entitlement_results e WHERE e.project_id = pv.project_id AND e.household_id = h.id AND e.current = 1)",
            )
            .bind(project_id)
            .fetch_one(&mut *tx)
            .await
            .db()?;
            if unassessed > 0 {
                return Ok((Err(ResettlementError::Unassessed(unassessed)), vec![]));
            }
            let (n, notice_entry) = insert_notice(tx, &actor, notice).await?;
            sqlx::query("UPDATE projects SET results_notice_id = $1 WHERE id = $2")
                .bind(n.id)
                .bind(project_id)
                .execute(&mut *tx)
                .await
                .db()?;
            let phase = record_phase(
                tx,
                &actor,
                &project,
                Phase::ResultsPublication,
                "发布评估结果公示",
            )
            .await?;
            let published = ProjectDetail {
                phase: Phase::ResultsPublication,
                results_notice_id: Some(n.id),
                ..project
            };
            Ok((Ok(published), vec![notice_entry, phase]))
        })
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn freeze_lottery(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        seed_rule: &str,
        commitment: &SeedCommitment,
        notice: NoticeDraft,
    ) -> StoreResult<Refusable<LotteryState>> {
        let (actor, how, commitment) = (
            actor.to_string(),
            seed_rule.trim().to_owned(),
            commitment.clone(),
        );
        write_tx!(self, |tx| {
            let project = locked_project(tx, project_id).await?;
            if project.phase != Phase::Lottery {
                return Ok((
                    Err(yongxin_domain::resettlement::PhaseError::NotAllowed {
                        phase: project.phase.zh(),
                        what: "不能冻结摇号名单",
                    }
                    .into()),
                    vec![],
                ));
            }
            if let Some(l) = lottery_in(tx, project_id).await? {
                return Ok((
                    Err(ResettlementError::AlreadyFrozen(
                        yongxin_domain::time::display_local(l.frozen_at),
                    )),
                    vec![],
                ));
            }
            let keys: Vec<String> = sqlx::query_scalar("SELECT h.key FROM registrations rg JOIN households h ON h.id = rg.household_id WHERE rg.project_id = $1").bind(project_id).fetch_all(&mut *tx).await.db()?;
            if keys.is_empty() {
                return Ok((Err(ResettlementError::NobodyRegistered), vec![]));
            }
            let list = match canonical_list(keys) {
                Ok(l) => l,
                Err(e) => return Ok((Err(e.into()), vec![])),
            };
            let hash = list_sha256(&list);
            // The rule published with the list: how the number is drawn on the day, and the
            // parties' commitments the seed will be derived from.
            let seed_rule = format!("{how}\n{}", seed_rule_zh(&hash, &commitment))
                .trim()
                .to_owned();
            let commitment_json = serde_json::to_string(&commitment).map_err(json_err)?;
            let mut notice = notice;
            notice.body = format!(
                "{}\n\n{}",
                notice.body,
                yongxin_domain::resettlement::freeze_text(
                    &project.project.name,
                    &list,
                    &hash,
                    &seed_rule
                )
            )
            .trim()
            .to_owned();
            // The body is composed here, from the frozen list, so the draft is checked here.
            let notice = notice.composed().map_err(|e| StoreError::Invalid {
                field: "notice".into(),
                reason: e.to_string(),
            })?;
            let (n, notice_entry) = insert_notice(tx, &actor, notice).await?;
            let now = now_micros();
            sqlx::query("INSERT INTO lotteries (project_id, list, list_sha256, seed_rule, seed_commitment, notice_id, frozen_by, frozen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(project_id)
                .bind(serde_json::to_string(&list).map_err(json_err)?)
                .bind(&hash)
                .bind(&seed_rule)
                .bind(&commitment_json)
                .bind(n.id)
                .bind(&actor)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?;
            let entry = NewAuditEntry::new(
                actor.clone(),
                "lottery.freeze",
                format!("project:{project_id}"),
                hash.clone(),
                &serde_json::json!({ "list_sha256": hash, "households": list.len(), "seed_rule": seed_rule, "seed_commitment": commitment, "notice_id": n.id }),
            );
            let state = LotteryState {
                list,
                list_sha256: hash,
                seed_rule,
                seed_commitment: Some(commitment),
                notice_id: Some(n.id),
                frozen_by: actor.clone(),
                frozen_at: now,
                draws: Vec::new(),
            };
            Ok((Ok(state), vec![notice_entry, entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn draw_lottery(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        seed: &str,
        reveals: &[Reveal],
        redraw_reason: Option<String>,
    ) -> StoreResult<Refusable<LotteryState>> {
        let (typed, reveals) = (seed.trim().to_owned(), reveals.to_vec());
        let actor = actor.to_string();
        let reason = redraw_reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        write_tx!(self, |tx| {
            let project = locked_project(tx, project_id).await?;
            let Some(mut state) = lottery_in(tx, project_id).await? else {
                return Ok((Err(ResettlementError::NotFrozen), vec![]));
            };
            if project.phase != Phase::Lottery {
                return Ok((
                    Err(yongxin_domain::resettlement::PhaseError::NotAllowed {
                        phase: project.phase.zh(),
                        what: "不能摇号",
                    }
                    .into()),
                    vec![],
                ));
            }
            if !state.draws.is_empty() && reason.is_none() {
                return Ok((Err(ResettlementError::AlreadyDrawn), vec![]));
            }
            let made = match &state.seed_commitment {
                Some(commitment) => {
                    if state
                        .draws
                        .last()
                        .is_some_and(|d| revealed(&d.proof, commitment))
                    {
                        return Ok((Err(ResettlementError::CommitmentSpent), vec![]));
                    }
                    Proof::make_committed(state.list.clone(), commitment, &typed, &reveals)
                }
                None => Seed::parse(&typed).and_then(|seed| Proof::make(state.list.clone(), &seed)),
            };
            let proof = match made {
                Ok(p) => p,
                Err(e) => return Ok((Err(e.into()), vec![])),
            };
            let seed = Seed::parse(&proof.seed).map_err(StoreError::internal)?;
            let proof_json = serde_json::to_string_pretty(&proof).map_err(json_err)?;
            let now = now_micros();
            let reason = if state.draws.is_empty() { None } else { reason };
            sqlx::query("INSERT INTO lottery_draws (project_id, seed, proof, reason, drawn_by, drawn_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(project_id)
                .bind(seed.as_str())
                .bind(&proof_json)
                .bind(&reason)
                .bind(&actor)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?;
            // The order as a table too, for the claims that read it on selection day.
            sqlx::query("DELETE FROM lottery_orders WHERE project_id = $1")
                .bind(project_id)
                .execute(&mut *tx)
                .await
                .db()?;
            let keys: Vec<(i64, String)> = sqlx::query_as("SELECT h.id, h.key FROM registrations rg JOIN households h ON h.id = rg.household_id WHERE rg.project_id = $1")
                .bind(project_id)
                .fetch_all(&mut *tx)
                .await
                .db()?;
            let ids: HashMap<&str, i64> =
                keys.iter().map(|(id, key)| (key.as_str(), *id)).collect();
            let orders: Vec<(i64, i64)> = proof
                .order
                .iter()
                .zip(1..)
                .filter_map(|(key, n)| ids.get(key.as_str()).map(|id| (*id, n)))
                .collect();
            for chunk in orders.chunks(1000) {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO lottery_orders (project_id, household_id, lottery_order) ",
                );
                qb.push_values(chunk, |mut b, (id, n)| {
                    b.push_bind(project_id).push_bind(*id).push_bind(*n);
                });
                qb.build().execute(&mut *tx).await.db()?;
            }
            let entry = NewAuditEntry::new(
                actor.clone(),
                if reason.is_some() {
                    "lottery.redraw"
                } else {
                    "lottery.draw"
                },
                format!("project:{project_id}"),
                seed.as_str().to_owned(),
                &serde_json::json!({ "seed": seed.as_str(), "list_sha256": state.list_sha256, "order_sha256": list_sha256(&proof.order), "reason": reason }),
            );
            state.draws.push(LotteryDraw {
                seed: seed.as_str().to_owned(),
                proof: proof_json,
                reason,
                drawn_by: actor.clone(),
                drawn_at: now,
            });
            Ok((Ok(state), vec![entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn recommit_lottery(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        commitment: &SeedCommitment,
        notice: NoticeDraft,
    ) -> StoreResult<Refusable<LotteryState>> {
        let (actor, commitment) = (actor.to_string(), commitment.clone());
        write_tx!(self, |tx| {
            let project = locked_project(tx, project_id).await?;
            let Some(mut state) = lottery_in(tx, project_id).await? else {
                return Ok((Err(ResettlementError::NotFrozen), vec![]));
            };
            if project.phase != Phase::Lottery {
                return Ok((
                    Err(yongxin_domain::resettlement::PhaseError::NotAllowed {
                        phase: project.phase.zh(),
                        what: "不能重新登记承诺",
                    }
                    .into()),
                    vec![],
                ));
            }
            let spent = match (&state.seed_commitment, state.draws.last()) {
                (Some(c), Some(d)) => revealed(&d.proof, c),
                (None, Some(_)) => true,
                (_, None) => false,
            };
            if !spent {
                return Ok((Err(ResettlementError::CommitmentUnused), vec![]));
            }
            // A value revealed once is public: a commitment to it again, under another party's
            // name or in another order, would let whoever picks the public number grind it.
            let mut earlier: Vec<&SeedCommitment> = state.seed_commitment.iter().collect();
            let proofs: Vec<Proof> = state
                .draws
                .iter()
                .map(|d| serde_json::from_str(&d.proof).map_err(json_err))
                .collect::<StoreResult<_>>()?;
            earlier.extend(proofs.iter().filter_map(|p| p.seed_commitment.as_ref()));
            let reused = commitment.parties().iter().any(|new| {
                earlier
                    .iter()
                    .flat_map(|c| c.parties())
                    .any(|old| old.sha256 == new.sha256)
            });
            if reused {
                return Ok((Err(ResettlementError::CommitmentSpent), vec![]));
            }
            // The rule keeps how the public number is drawn, as published at the freeze; only
            // the commitments change.
            let how = match &state.seed_commitment {
                Some(old) => state
                    .seed_rule
                    .strip_suffix(&seed_rule_zh(&state.list_sha256, old))
                    .unwrap_or(&state.seed_rule),
                None => &state.seed_rule,
            };
            let rule = format!(
                "{}\n{}",
                how.trim(),
                seed_rule_zh(&state.list_sha256, &commitment)
            )
            .trim()
            .to_owned();
            let mut notice = notice;
            notice.body = format!("{}\n\n{rule}", notice.body).trim().to_owned();
            // The body is composed here, from the frozen list, so the draft is checked here.
            let notice = notice.composed().map_err(|e| StoreError::Invalid {
                field: "notice".into(),
                reason: e.to_string(),
            })?;
            let (n, notice_entry) = insert_notice(tx, &actor, notice).await?;
            sqlx::query(
                "UPDATE lotteries SET seed_commitment = $1, seed_rule = $2 WHERE project_id = $3",
            )
            .bind(serde_json::to_string(&commitment).map_err(json_err)?)
            .bind(&rule)
            .bind(project_id)
            .execute(&mut *tx)
            .await
            .db()?;
            let entry = NewAuditEntry::new(
                actor.clone(),
                "lottery.recommit",
                format!("project:{project_id}"),
                state.list_sha256.clone(),
                &serde_json::json!({ "seed_commitment": commitment, "notice_id": n.id }),
            );
            state.seed_commitment = Some(commitment);
            state.seed_rule = rule;
            Ok((Ok(state), vec![notice_entry, entry]))
        })
    }

    #[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
    async fn lottery(&self, project_id: ProjectId) -> StoreResult<Option<LotteryState>> {
        let mut conn = self.pool.acquire().await.db()?;
        lottery_in(&mut conn, project_id).await
    }
}
