//! Resettlement (拆迁安置) actions shared by the pages and the API: who may do what, loading a
//! project and one of its households within the user's scope, the notices the phases publish,
//! and a household's one current result, which every page, slip and the API show.

mod api;
mod pages;
pub mod words;

use crate::http::routes::Routes;
use chrono::{Duration, Utc};
use yongxin_domain::lottery::{CommittedParty, SeedCommitment};
use yongxin_domain::notice::{NoticeDraft, NoticeKind, ScopeKind, DEFAULT_OBJECTION_DAYS};
use yongxin_domain::resettlement::policy::Policy;
use yongxin_domain::resettlement::ResettlementError;
use yongxin_domain::resettlement::{results_text, PublishedResult};
use yongxin_store::{
    EntitlementRecord, HouseholdDetail, ProjectDetail, ProjectHousehold, Registration, User,
};
use yongxin_store::{HouseholdId, ProjectId};

use crate::http::error::AppError;
use crate::registry::household_in_scope;
use crate::AppState;

/// A project, or 404.
pub async fn project(state: &AppState, id: ProjectId) -> Result<ProjectDetail, AppError> {
    state
        .store
        .project(id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// A household of the project that the user's scope reaches (a resident: their own); 404 when
/// the household is not in the project.
pub async fn household(
    state: &AppState,
    user: &User,
    project: &ProjectDetail,
    household_id: HouseholdId,
) -> Result<HouseholdDetail, AppError> {
    let detail = household_in_scope(state, user, household_id).await?;
    if !project
        .project
        .village_ids
        .contains(&detail.summary.village_id)
    {
        return Err(AppError::not_found());
    }
    Ok(detail)
}

/// Registers a household's layouts: a member online for their own household, a cadre in person
/// for a household in their scope.
pub async fn register(
    state: &AppState,
    user: &User,
    project_id: ProjectId,
    household_id: HouseholdId,
    layouts: Vec<String>,
) -> Result<Registration, AppError> {
    let p = project(state, project_id).await?;
    household(state, user, &p, household_id).await?;
    let in_person = user.role.is_cadre();
    let layouts = layouts
        .into_iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    Ok(state
        .store
        .register(
            &user.actor(),
            project_id,
            household_id,
            layouts,
            user,
            in_person,
        )
        .await??)
}

/// A notice the code composed, checked; one it composed wrong is a fault, not the user's input.
fn checked(draft: NoticeDraft) -> Result<yongxin_domain::notice::CheckedNotice, AppError> {
    draft.composed().map_err(AppError::internal)
}

fn project_draft(
    project: &ProjectDetail,
    kind: NoticeKind,
    title: String,
    body: String,
) -> NoticeDraft {
    let now = Utc::now();
    NoticeDraft {
        kind,
        scope: ScopeKind::Project,
        village_ids: Vec::new(),
        project_id: Some(project.project.id.get()),
        title: title
            .chars()
            .take(yongxin_domain::notice::MAX_TITLE_CHARS)
            .collect(),
        body,
        publish_at: now,
        end_at: None,
        objections_until: (kind == NoticeKind::Publication)
            .then(|| now + Duration::days(DEFAULT_OBJECTION_DAYS)),
    }
}

/// The project's current policy (its latest version), read as published.
pub async fn current_policy(
    state: &AppState,
    project_id: ProjectId,
) -> Result<Option<Policy>, AppError> {
    state
        .store
        .policy_versions(project_id)
        .await?
        .pop()
        .map(|v| Policy::from_toml(&v.source).map_err(AppError::internal))
        .transpose()
}

/// A household's current result (当前核算), the one every page, slip and the API show: computed
/// now, under the current policy version, from the latest assessment, the units the household
/// has (and `extra`, about to be confirmed), each registered layout still to choose priced as
/// registered (unless it declined the rest on selection day), and the signing date. Stored
/// results are the history of what was computed when. Answers the result (none before an
/// assessment) and the layouts still to choose.
pub async fn current_result(
    state: &AppState,
    project_id: ProjectId,
    household_id: HouseholdId,
    extra: &[yongxin_store::UnitState],
) -> Result<(Option<EntitlementRecord>, Vec<String>), AppError> {
    use yongxin_domain::resettlement::entitlement::{
        compute, compute_settled, with_layouts_to_choose, ChosenUnit,
    };
    let units: Vec<yongxin_store::UnitState> = state
        .store
        .unit_states(project_id)
        .await?
        .into_iter()
        .filter(|u| u.owner_household_id == Some(household_id))
        .chain(extra.iter().cloned())
        .collect();
    let registered = state
        .store
        .registration(project_id, household_id)
        .await?
        .map(|r| r.layouts)
        .unwrap_or_default();
    let mut declined = false;
    for s in state.store.selections(Some(project_id)).await? {
        declined |= state
            .store
            .selection_household(s.id, household_id)
            .await?
            .is_some_and(|l| l.declined.is_some());
    }
    let still: Vec<String> = if declined {
        Vec::new()
    } else {
        yongxin_domain::selection::still_to_choose(
            &registered,
            units.iter().map(|u| u.layout.as_str()),
        )
        .into_iter()
        .map(str::to_owned)
        .collect()
    };
    let (Some(policy), Some(assessment)) = (
        current_policy(state, project_id).await?,
        state.store.assessment(project_id, household_id).await?,
    ) else {
        return Ok((None, still));
    };
    let signed_on = state
        .store
        .agreements(project_id)
        .await?
        .into_iter()
        .find(|a| a.household_id == household_id)
        .and_then(|a| a.signed_on);
    let chosen: Vec<ChosenUnit> = units
        .iter()
        .map(|u| ChosenUnit::apartment(&u.building_name, &u.number, u.area))
        .collect();
    let still_refs: Vec<&str> = still.iter().map(String::as_str).collect();
    let with_rest = with_layouts_to_choose(&policy, chosen.clone(), &still_refs);
    let mut basis = match (
        declined,
        units.is_empty(),
        still.is_empty(),
        registered.is_empty(),
    ) {
        (true, _, _, _) => "已放弃剩余户型".to_owned(),
        (false, true, _, true) => "入户评估".to_owned(),
        (false, true, _, false) => "按登记户型".to_owned(),
        (false, false, true, _) => "按已选房源".to_owned(),
        (false, false, false, _) => "按已选房源及待选户型".to_owned(),
    };
    if let Some(day) = signed_on {
        basis.push_str(&format!("，{day} 签约"));
    }
    let stored = state.store.entitlement(project_id, household_id).await?;
    let inputs = &assessment.inputs;
    let priced = if declined {
        compute_settled(&policy, inputs, &chosen, signed_on).map(|r| (r, chosen))
    } else {
        // The layouts still to choose at their catalogue area may not fit beside apartments larger
        // than their layout's area: then the apartments alone are priced, and the page says so.
        match compute(&policy, inputs, &with_rest, signed_on) {
            Ok(r) => Ok((r, with_rest)),
            Err(_) if !still.is_empty() => {
                basis.push_str("（待选户型未计入）");
                compute(&policy, inputs, &chosen, signed_on).map(|r| (r, chosen))
            }
            Err(e) => Err(e),
        }
    };
    let Ok((result, chosen)) = priced else {
        // Inputs the current policy cannot price (a layout it dropped): the stored result stands,
        // labelled with the version and time that produced it.
        return Ok((stored, still));
    };
    // What last changed the inputs (an assessment, a correction with its reason, …), and what
    // the result is priced with now.
    let (reason, created_by) = match stored {
        Some(r) => (format!("{}；{basis}", r.reason), r.created_by),
        None => (basis, String::new()),
    };
    Ok((
        Some(EntitlementRecord {
            id: 0,
            household_id,
            policy_version: result.policy_version,
            assessment_id: assessment.id,
            chosen,
            signed_on,
            result,
            reason,
            created_by,
            created_at: Utc::now(),
            current: true,
        }),
        still,
    ))
}

/// Publishes a policy written as TOML: checked, then published with its zh-CN rendering (and the
/// TOML itself, so anyone can recompute) as a policy notice.
pub async fn publish_policy(
    state: &AppState,
    user: &User,
    project_id: ProjectId,
    source: &str,
) -> Result<yongxin_store::PolicyVersion, AppError> {
    let p = project(state, project_id).await?;
    let policy =
        Policy::from_toml(source).map_err(yongxin_domain::resettlement::ResettlementError::from)?;
    let draft = project_draft(
        &p,
        NoticeKind::Policy,
        format!("{}（第 {} 版）", policy.title, policy.version),
        yongxin_domain::resettlement::policy_text(
            &policy,
            &policy_source_path(project_id, policy.version),
        ),
    );
    Ok(state
        .store
        .publish_policy(&user.actor(), project_id, source, checked(draft)?)
        .await??)
}

/// Where a policy version's machine-readable text is served.
pub fn policy_source_path(project_id: ProjectId, version: u32) -> String {
    format!("/projects/{project_id}/policy/{version}/source.toml")
}

/// Publishes the assessment results as a 公示 with the default objection window.
pub async fn publish_results(
    state: &AppState,
    user: &User,
    project_id: ProjectId,
) -> Result<ProjectDetail, AppError> {
    let p = project(state, project_id).await?;
    let version = state
        .store
        .policy_versions(project_id)
        .await?
        .last()
        .map_or(0, |v| v.version);
    let rows: Vec<PublishedResult> = state
        .store
        .all_project_households(project_id)
        .await?
        .into_iter()
        .map(ProjectHousehold::published)
        .collect();
    let draft = project_draft(
        &p,
        NoticeKind::Publication,
        format!("{}入户评估结果公示", p.project.name),
        results_text(&p.project.name, version, &rows),
    );
    Ok(state
        .store
        .publish_results(&user.actor(), project_id, checked(draft)?)
        .await??)
}

/// Freezes the registered list; the store appends the list, its hash and the algorithm to the
/// notice.
pub async fn freeze(
    state: &AppState,
    user: &User,
    project_id: ProjectId,
    seed_rule: &str,
    parties: Vec<CommittedParty>,
) -> Result<yongxin_store::LotteryState, AppError> {
    let p = project(state, project_id).await?;
    let seed_rule = seed_rule.trim();
    if seed_rule.is_empty() || seed_rule.chars().count() > 500 {
        return Err(AppError::invalid_param("seed_rule"));
    }
    let commitment = SeedCommitment::new(parties).map_err(ResettlementError::from)?;
    let draft = project_draft(
        &p,
        NoticeKind::Progress,
        format!("{}摇号名单冻结公告", p.project.name),
        String::new(),
    );
    Ok(state
        .store
        .freeze_lottery(&user.actor(), project_id, seed_rule, &commitment, draft)
        .await??)
}

/// Registers the parties' new commitments after a draw revealed the old ones (before a redraw),
/// published as a notice.
pub async fn recommit(
    state: &AppState,
    user: &User,
    project_id: ProjectId,
    parties: Vec<CommittedParty>,
) -> Result<yongxin_store::LotteryState, AppError> {
    let p = project(state, project_id).await?;
    let commitment = SeedCommitment::new(parties).map_err(ResettlementError::from)?;
    let draft = project_draft(
        &p,
        NoticeKind::Progress,
        format!("{}重新摇号承诺公告", p.project.name),
        String::new(),
    );
    Ok(state
        .store
        .recommit_lottery(&user.actor(), project_id, &commitment, draft)
        .await??)
}

/// Reads committed parties from text, one a line: the party's name, a space, the SHA-256 of its
/// value (64 hexadecimal digits).
pub fn parties_from_lines(text: &str) -> Result<Vec<CommittedParty>, AppError> {
    yongxin_domain::lottery::parties_from_lines(text)
        .ok_or_else(|| AppError::invalid_param("commitments"))
}

/// The area's routes.
pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/projects", pages::projects)
        .get("/projects/{id}", pages::project)
        .post("/projects/{id}/phase", pages::move_phase)
        .post("/projects/{id}/policy", pages::publish_policy)
        .post("/projects/{id}/results", pages::publish_results)
        .get("/projects/{id}/households", pages::households)
        .get("/projects/{id}/households/{hid}", pages::household)
        .post(
            "/projects/{id}/households/{hid}/registration",
            pages::register,
        )
        .post("/projects/{id}/households/{hid}/assessment", pages::assess)
        .get("/projects/{id}/registrations", pages::registrations)
        .get("/projects/{id}/lottery", pages::lottery)
        .get("/projects/{id}/lottery/proof.json", pages::proof)
        .post("/projects/{id}/lottery/freeze", pages::freeze)
        .post("/projects/{id}/lottery/draw", pages::draw)
        .post("/projects/{id}/lottery/commitment", pages::recommit)
        .get(
            "/projects/{id}/policy/{version}/source.toml",
            pages::policy_source,
        )
        .get_post(
            "/admin/projects",
            pages::project_admin,
            pages::create_project,
        )
        .get("/api/v1/projects", api::list_projects)
        .get("/api/v1/projects/{id}", api::get_project)
        .get("/api/v1/projects/{id}/households", api::project_households)
        .get(
            "/api/v1/projects/{id}/households/{household_id}/entitlement",
            api::get_entitlement,
        )
        .post(
            "/api/v1/projects/{id}/registrations",
            api::create_registration,
        )
        .post("/api/v1/projects/{id}/lottery/freeze", api::freeze_lottery)
        .post("/api/v1/projects/{id}/lottery/draw", api::draw_lottery)
        .post(
            "/api/v1/projects/{id}/lottery/commitment",
            api::recommit_lottery,
        )
        .get("/api/v1/projects/{id}/lottery/proof", api::lottery_proof)
}

/// The area's part of the OpenAPI document.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    <api::ResettlementApi as utoipa::OpenApi>::openapi()
}

/// The stored proof of a project's last draw, or 404.
pub async fn standing_proof(state: &AppState, project_id: ProjectId) -> Result<String, AppError> {
    state
        .store
        .lottery(project_id)
        .await?
        .and_then(|l| l.draws.last().map(|d| d.proof.clone()))
        .ok_or_else(AppError::not_found)
}

/// The standing proof as a download, for the page and the API alike.
pub(crate) async fn proof_download(
    state: &AppState,
    project_id: ProjectId,
) -> Result<axum::response::Response, AppError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let proof = standing_proof(state, project_id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"lottery-proof.json\"",
            ),
        ],
        proof,
    )
        .into_response())
}
