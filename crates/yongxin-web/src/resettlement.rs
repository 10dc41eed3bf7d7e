//! Resettlement (拆迁安置) actions shared by the pages and the API: who may do what, loading a
//! project and one of its households within the user's scope, and the notices the phases publish.

use chrono::{Duration, Utc};
use yongxin_domain::lottery::{CommittedParty, SeedCommitment};
use yongxin_domain::notice::{NoticeDraft, NoticeKind, ScopeKind, DEFAULT_OBJECTION_DAYS};
use yongxin_domain::resettlement::policy::Policy;
use yongxin_domain::resettlement::ResettlementError;
use yongxin_domain::resettlement::{results_text, PublishedResult};
use yongxin_store::{HouseholdDetail, ProjectDetail, ProjectHousehold, Registration, User};

use crate::error::AppError;
use crate::pages::registry::household_in_scope;
use crate::AppState;

/// A project, or 404.
pub async fn project(state: &AppState, id: i64) -> Result<ProjectDetail, AppError> {
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
    household_id: i64,
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
    project_id: i64,
    household_id: i64,
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
            &user.username,
            project_id,
            household_id,
            layouts,
            user,
            in_person,
        )
        .await??)
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
        project_id: Some(project.project.id),
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
pub async fn current_policy(state: &AppState, project_id: i64) -> Result<Option<Policy>, AppError> {
    state
        .store
        .policy_versions(project_id)
        .await?
        .pop()
        .map(|v| Policy::from_toml(&v.source).map_err(AppError::internal))
        .transpose()
}

/// Publishes a policy written as TOML: checked, then published with its zh-CN rendering (and the
/// TOML itself, so anyone can recompute) as a policy notice.
pub async fn publish_policy(
    state: &AppState,
    user: &User,
    project_id: i64,
    source: &str,
) -> Result<yongxin_store::PolicyVersion, AppError> {
    let p = project(state, project_id).await?;
    let policy =
        Policy::from_toml(source).map_err(yongxin_domain::resettlement::ResettlementError::from)?;
    let draft = project_draft(
        &p,
        NoticeKind::Policy,
        format!("{}（第 {} 版）", policy.title, policy.version),
        yongxin_domain::resettlement::policy_text(&policy, source),
    );
    Ok(state
        .store
        .publish_policy(&user.username, project_id, source, draft)
        .await??)
}

/// Publishes the assessment results as a 公示 with the default objection window.
pub async fn publish_results(
    state: &AppState,
    user: &User,
    project_id: i64,
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
        .publish_results(&user.username, project_id, draft)
        .await??)
}

/// Freezes the registered list; the store appends the list, its hash and the algorithm to the
/// notice.
pub async fn freeze(
    state: &AppState,
    user: &User,
    project_id: i64,
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
        .freeze_lottery(&user.username, project_id, seed_rule, &commitment, draft)
        .await??)
}

/// Registers the parties' new commitments after a draw revealed the old ones (before a redraw),
/// published as a notice.
pub async fn recommit(
    state: &AppState,
    user: &User,
    project_id: i64,
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
        .recommit_lottery(&user.username, project_id, &commitment, draft)
        .await??)
}

/// Reads committed parties from text, one a line: the party's name, a space, the SHA-256 of its
/// value (64 hexadecimal digits).
pub fn parties_from_lines(text: &str) -> Result<Vec<CommittedParty>, AppError> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (party, sha256) = line
                .rsplit_once(char::is_whitespace)
                .ok_or_else(|| AppError::invalid_param("commitments"))?;
            Ok(CommittedParty {
                party: party.trim().to_owned(),
                sha256: sha256.trim().to_owned(),
            })
        })
        .collect()
}
