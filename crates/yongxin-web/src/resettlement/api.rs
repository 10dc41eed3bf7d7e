//! The JSON API of resettlement (拆迁安置): projects, their households with results, one
//! household's entitlement line by line, registration, and the lottery (freeze, draw, proof).
//! Money and areas are decimal strings (`"1234.56"`), never numbers.

use crate::http::extract::{ApiJson, ApiQuery, Ids};
use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yongxin_domain::resettlement::entitlement::Entitlement;
use yongxin_domain::resettlement::masked_name;
use yongxin_domain::Permission;
use yongxin_store::{EntitlementRecord, LotteryState, ProjectDetail, Registration};
use yongxin_store::{HouseholdId, ProjectId};

use crate::http::api::local;
use crate::http::api::ErrorDto;
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::resettlement;

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_projects,
    get_project,
    project_households,
    get_entitlement,
    create_registration,
    freeze_lottery,
    draw_lottery,
    recommit_lottery,
    lottery_proof
))]
pub(super) struct ResettlementApi;
use crate::AppState;

/// A project and where it stands.
#[derive(Serialize, ToSchema)]
pub struct ProjectDto {
    id: i64,
    code: String,
    name: String,
    village_ids: Vec<i64>,
    /// `preparation`, `policy_published`, `registration`, `assessment`, `results_publication`,
    /// `lottery`, `selection`, `agreements` or `handover`.
    phase: String,
    /// The phase in zh-CN.
    phase_name: String,
    /// The current policy version, once published.
    policy_version: Option<u32>,
    /// The notice that published the current policy.
    policy_notice_id: Option<i64>,
    /// The results 公示.
    results_notice_id: Option<i64>,
    /// The lottery, once the list is frozen.
    lottery: Option<LotterySummaryDto>,
}

/// A frozen list and its draws.
#[derive(Serialize, ToSchema)]
pub struct LotterySummaryDto {
    /// SHA-256 of the canonical list.
    list_sha256: String,
    households: usize,
    seed_rule: String,
    frozen_at: String,
    /// The freeze notice.
    notice_id: Option<i64>,
    /// The seed of the standing draw.
    seed: Option<String>,
    drawn_at: Option<String>,
    /// Draws made (more than one: redrawn, with the reasons public in the proof's page).
    draws: usize,
    /// Reasons given for redraws, in order.
    redraw_reasons: Vec<String>,
}

impl LotterySummaryDto {
    fn new(l: LotteryState) -> Self {
        let last = l.draws.last();
        Self {
            households: l.list.len(),
            seed: last.map(|d| d.seed.clone()),
            drawn_at: last.map(|d| local(d.drawn_at)),
            draws: l.draws.len(),
            redraw_reasons: l.draws.iter().filter_map(|d| d.reason.clone()).collect(),
            list_sha256: l.list_sha256,
            seed_rule: l.seed_rule,
            frozen_at: local(l.frozen_at),
            notice_id: l.notice_id,
        }
    }
}

#[tracing::instrument(skip_all, err(level = "debug"))]
async fn project_dto(state: &AppState, p: ProjectDetail) -> Result<ProjectDto, AppError> {
    let id = p.project.id;
    let policy = state.store.policy_versions(id).await?.pop();
    let lottery = state.store.lottery(id).await?.map(LotterySummaryDto::new);
    Ok(ProjectDto {
        id: id.get(),
        code: p.project.code,
        name: p.project.name,
        village_ids: p.project.village_ids,
        phase: p.phase.code().into(),
        phase_name: p.phase.zh().into(),
        policy_version: policy.as_ref().map(|v| v.version),
        policy_notice_id: policy.and_then(|v| v.notice_id),
        results_notice_id: p.results_notice_id,
        lottery,
    })
}

/// Every project. Signed-in users.
#[utoipa::path(get, path = "/api/v1/projects", tag = "crate::api_resettlement", responses((status = 200, body = Vec<ProjectDto>), (status = 401, body = ErrorDto)))]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_projects(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<ProjectDto>>, AppError> {
    ctx.user()?;
    let mut out = Vec::new();
    for p in state.store.projects().await? {
        out.push(project_dto(&state, resettlement::project(&state, p.id).await?).await?);
    }
    Ok(Json(out))
}

/// One project. Signed-in users.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "crate::api_resettlement", params(("id" = i64, Path, description = "Project id")), responses((status = 200, body = ProjectDto), (status = 401, body = ErrorDto), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn get_project(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
) -> Result<Json<ProjectDto>, AppError> {
    ctx.user()?;
    let p = resettlement::project(&state, id).await?;
    Ok(Json(project_dto(&state, p).await?))
}

/// Paging of a project's households.
#[derive(Deserialize, IntoParams)]
pub struct ProjectHouseholdsQuery {
    /// Page, from 1.
    page: Option<u32>,
    /// Rows per page (at most 500; default 50).
    per_page: Option<u32>,
    /// Only households not registered yet (`true`).
    unregistered: Option<bool>,
}

/// One household of a project.
#[derive(Serialize, ToSchema)]
pub struct ProjectHouseholdDto {
    household_id: i64,
    /// 户号
    key: String,
    village_id: i64,
    village_name: String,
    /// The head's name, masked (`张某`).
    head_name: String,
    /// Σ weights of the eligible persons (decimal string), once assessed.
    eligible_persons: Option<String>,
    /// Entitled area m² (decimal string).
    entitled_area: Option<String>,
    /// Net amount of the current result (decimal string, yuan).
    net: Option<String>,
    /// The registered layout codes.
    registered_layouts: Option<Vec<String>>,
    /// `unassessed`, `assessed`, `registered` or `drawn`.
    status: String,
    /// Order in the lottery, once drawn (1 chooses first).
    lottery_order: Option<i64>,
}

/// A page of a project's households.
#[derive(Serialize, ToSchema)]
pub struct ProjectHouseholdPageDto {
    households: Vec<ProjectHouseholdDto>,
    total: i64,
    page: u32,
    per_page: u32,
}

/// A project's households, by key, with their results. Department staff, leaders, administrators.
#[utoipa::path(get, path = "/api/v1/projects/{id}/households", tag = "crate::api_resettlement", params(("id" = i64, Path, description = "Project id"), ProjectHouseholdsQuery), responses((status = 200, body = ProjectHouseholdPageDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn project_households(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    ApiQuery(q): ApiQuery<ProjectHouseholdsQuery>,
) -> Result<Json<ProjectHouseholdPageDto>, AppError> {
    ctx.require(Permission::AssessHouseholds)?;
    let p = resettlement::project(&state, id).await?;
    let (page, per_page) = (
        q.page.unwrap_or(1).max(1),
        q.per_page.unwrap_or(50).clamp(1, 500),
    );
    let (rows, total) = state
        .store
        .project_households(
            p.project.id,
            page,
            per_page,
            q.unregistered.unwrap_or(false),
        )
        .await?;
    let households = rows
        .into_iter()
        .map(|r| {
            let status = if r.lottery_order.is_some() {
                "drawn"
            } else if r.registered.is_some() {
                "registered"
            } else if r.entitled_area.is_some() {
                "assessed"
            } else {
                "unassessed"
            };
            ProjectHouseholdDto {
                household_id: r.household.id.get(),
                key: r.household.key,
                village_id: r.household.village_id,
                village_name: r.household.village_name,
                head_name: masked_name(&r.household.head_name),
                eligible_persons: r.eligible_persons.map(|q| q.to_string()),
                entitled_area: r.entitled_area.map(|q| q.to_string()),
                net: r.net.map(|f| f.to_string()),
                registered_layouts: r.registered,
                status: status.into(),
                lottery_order: r.lottery_order,
            }
        })
        .collect();
    Ok(Json(ProjectHouseholdPageDto {
        households,
        total,
        page,
        per_page,
    }))
}

/// One line of a calculation.
#[derive(Serialize, ToSchema)]
pub struct EntitlementLineDto {
    /// `compensation`, `purchase` or `cash_for_unused`.
    group: String,
    code: String,
    description: String,
    /// Decimal string.
    quantity: String,
    unit: String,
    /// Decimal string, yuan per unit.
    rate: String,
    /// Decimal string, yuan.
    amount: String,
    /// The policy clause.
    clause: String,
}

/// The totals: each group's lines sum to its total; net = compensation + cash_for_unused − purchase.
#[derive(Serialize, ToSchema)]
pub struct EntitlementTotalsDto {
    compensation: String,
    purchase: String,
    cash_for_unused: String,
    net: String,
}

/// A unit (or a registered layout) priced in the purchase.
#[derive(Serialize, ToSchema)]
pub struct ChosenDto {
    label: String,
    area: String,
}

/// A household's current entitlement.
#[derive(Serialize, ToSchema)]
pub struct EntitlementDto {
    household_id: i64,
    policy_version: u32,
    eligible_persons: String,
    entitled_area: String,
    /// The most area that may be chosen (none: any, at market price beyond the bands).
    limit_area: Option<String>,
    chosen_area: String,
    chosen: Vec<ChosenDto>,
    lines: Vec<EntitlementLineDto>,
    totals: EntitlementTotalsDto,
    /// What produced this result (入户评估, 选房登记, 更正：…).
    reason: String,
    computed_at: String,
}

impl EntitlementDto {
    /// The record as the API shows it.
    pub fn new(r: EntitlementRecord) -> Self {
        let Entitlement {
            eligible_persons,
            entitled_area,
            limit_area,
            chosen_area,
            lines,
            totals,
            ..
        } = r.result;
        Self {
            household_id: r.household_id.get(),
            policy_version: r.policy_version,
            eligible_persons: eligible_persons.to_string(),
            entitled_area: entitled_area.to_string(),
            limit_area: limit_area.map(|q| q.to_string()),
            chosen_area: chosen_area.to_string(),
            chosen: r
                .chosen
                .into_iter()
                .map(|c| ChosenDto {
                    label: c.label,
                    area: c.area.to_string(),
                })
                .collect(),
            lines: lines
                .into_iter()
                .map(|l| EntitlementLineDto {
                    group: serde_json::to_value(l.group)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    code: l.code,
                    description: l.description,
                    quantity: l.quantity.to_string(),
                    unit: l.unit,
                    rate: l.rate.to_string(),
                    amount: l.amount.to_string(),
                    clause: l.clause,
                })
                .collect(),
            totals: EntitlementTotalsDto {
                compensation: totals.compensation.to_string(),
                purchase: totals.purchase.to_string(),
                cash_for_unused: totals.cash_for_unused.to_string(),
                net: totals.net.to_string(),
            },
            reason: r.reason,
            computed_at: local(r.created_at),
        }
    }
}

/// A household's current entitlement, line by line. Its members, cadres whose scope reaches it.
#[utoipa::path(get, path = "/api/v1/projects/{id}/households/{household_id}/entitlement", tag = "crate::api_resettlement", params(("id" = i64, Path, description = "Project id"), ("household_id" = i64, Path, description = "Household id")), responses((status = 200, body = EntitlementDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id, household_id), err(level = "debug"))]
pub async fn get_entitlement(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids((id, household_id)): Ids<(ProjectId, HouseholdId)>,
) -> Result<Json<EntitlementDto>, AppError> {
    let user = ctx.user()?;
    let p = resettlement::project(&state, id).await?;
    let hid = household_id;
    resettlement::household(&state, user, &p, hid).await?;
    // The one current result the household page and the slip show, computed now.
    let record = resettlement::current_result(&state, p.project.id, hid, &[])
        .await?
        .0
        .ok_or_else(AppError::not_found)?;
    Ok(Json(EntitlementDto::new(record)))
}

/// A registration to make.
#[derive(Deserialize, ToSchema)]
pub struct RegistrationRequest {
    household_id: i64,
    /// Layout codes of the preferred combination (`["C","B"]`); repeat a code for two alike.
    layouts: Vec<String>,
}

/// A registration (选房登记) as stored.
#[derive(Serialize, ToSchema)]
pub struct RegistrationDto {
    household_id: i64,
    layouts: Vec<String>,
    /// Decimal string, m².
    total_area: String,
    /// Registered in person by a cadre (false: online by a member).
    in_person: bool,
    by: String,
    at: String,
}

impl RegistrationDto {
    fn new(r: Registration) -> Self {
        Self {
            household_id: r.household_id.get(),
            layouts: r.layouts,
            total_area: r.total_area.to_string(),
            in_person: r.in_person,
            by: r.by_name,
            at: local(r.at),
        }
    }
}

/// Registers (or re-registers, until the freeze) a household's preferred layouts: a member online
/// for their household, a cadre in person for a household in scope. 422 when the combination is
/// over the household's limit; 409 outside registration or after the freeze.
#[utoipa::path(post, path = "/api/v1/projects/{id}/registrations", tag = "crate::api_resettlement", params(("id" = i64, Path, description = "Project id")), request_body = RegistrationRequest, responses((status = 200, body = RegistrationDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto), (status = 409, body = ErrorDto), (status = 422, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn create_registration(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    ApiJson(req): ApiJson<RegistrationRequest>,
) -> Result<Json<RegistrationDto>, AppError> {
    let user = ctx.user()?;
    let r = resettlement::register(&state, user, id, HouseholdId(req.household_id), req.layouts)
        .await?;
    Ok(Json(RegistrationDto::new(r)))
}

/// How the seed will be fixed.
#[derive(Deserialize, ToSchema)]
pub struct FreezeRequest {
    /// Published with the list: how the six-digit number is drawn in public on the day (e.g.
    /// 选房当日由公证员现场摇出六位数字).
    seed_rule: String,
    /// At least two parties (the office, residents' representatives, a notary), each with the
    /// SHA-256 of a value it keeps to itself until the draw: the seed is derived from every
    /// value and the public number, so no single operator can choose it.
    commitments: Vec<CommitmentDto>,
}

/// A party's commitment: the lowercase hex SHA-256 of its value (`printf %s VALUE | sha256sum`).
#[derive(Deserialize, ToSchema)]
pub struct CommitmentDto {
    party: String,
    sha256: String,
}

fn parties(list: Vec<CommitmentDto>) -> Vec<yongxin_domain::lottery::CommittedParty> {
    list.into_iter()
        .map(|c| yongxin_domain::lottery::CommittedParty {
            party: c.party,
            sha256: c.sha256,
        })
        .collect()
}

/// New commitments before a redraw.
#[derive(Deserialize, ToSchema)]
pub struct RecommitRequest {
    commitments: Vec<CommitmentDto>,
}

/// Registers new commitments after a draw revealed the parties' values, so that a redraw is
/// again out of any single operator's hands; published as a notice. Leaders, administrators.
#[utoipa::path(post, path = "/api/v1/projects/{id}/lottery/commitment", tag = "crate::api_resettlement", params(("id" = i64, Path, description = "Project id")), request_body = RecommitRequest, responses((status = 200, body = LotterySummaryDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto), (status = 409, body = ErrorDto), (status = 422, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn recommit_lottery(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    ApiJson(req): ApiJson<RecommitRequest>,
) -> Result<Json<LotterySummaryDto>, AppError> {
    let user = ctx.require(Permission::DrawLottery)?;
    let l = resettlement::recommit(&state, user, id, parties(req.commitments)).await?;
    Ok(Json(LotterySummaryDto::new(l)))
}

/// Freezes the registered list and publishes its hash. Leaders, administrators; in the lottery
/// phase, once.
#[utoipa::path(post, path = "/api/v1/projects/{id}/lottery/freeze", tag = "crate::api_resettlement", params(("id" = i64, Path, description = "Project id")), request_body = FreezeRequest, responses((status = 200, body = LotterySummaryDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto), (status = 409, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn freeze_lottery(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    ApiJson(req): ApiJson<FreezeRequest>,
) -> Result<Json<LotterySummaryDto>, AppError> {
    let user = ctx.require(Permission::DrawLottery)?;
    let l =
        resettlement::freeze(&state, user, id, &req.seed_rule, parties(req.commitments)).await?;
    Ok(Json(LotterySummaryDto::new(l)))
}

/// The seed entered on the day.
#[derive(Deserialize, ToSchema)]
pub struct DrawRequest {
    /// The six digits drawn in public (`"038271"`). A lottery frozen before commitments existed
    /// takes a whole seed here (six digits, optionally `:` and a published value).
    seed: String,
    /// Every committed party's value, revealed now; each must hash to its commitment.
    #[serde(default)]
    reveals: Vec<RevealDto>,
    /// Required to draw again; shown publicly with the draw.
    reason: Option<String>,
}

/// A party's value, revealed at the draw (exactly as committed: not trimmed).
#[derive(Deserialize, ToSchema)]
pub struct RevealDto {
    party: String,
    secret: String,
}

impl RevealDto {
    fn into_reveal(self) -> yongxin_domain::lottery::Reveal {
        yongxin_domain::lottery::Reveal {
            party: self.party,
            secret: self.secret,
        }
    }
}

/// Draws the order from the frozen list and the seed. Leaders, administrators. A second draw needs
/// a reason (409 without one); a seed in the wrong format is 422.
#[utoipa::path(post, path = "/api/v1/projects/{id}/lottery/draw", tag = "crate::api_resettlement", params(("id" = i64, Path, description = "Project id")), request_body = DrawRequest, responses((status = 200, body = LotterySummaryDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto), (status = 409, body = ErrorDto), (status = 422, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn draw_lottery(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    ApiJson(req): ApiJson<DrawRequest>,
) -> Result<Json<LotterySummaryDto>, AppError> {
    let user = ctx.require(Permission::DrawLottery)?;
    let p = resettlement::project(&state, id).await?;
    let l = state
        .store
        .draw_lottery(
            &user.actor(),
            p.project.id,
            &req.seed,
            &req.reveals
                .into_iter()
                .map(RevealDto::into_reveal)
                .collect::<Vec<_>>(),
            req.reason,
        )
        .await??;
    Ok(Json(LotterySummaryDto::new(l)))
}

/// The proof of the standing draw (`yongxin lottery verify` reads it as it is). Public: anyone may
/// download and check it, signed in or not.
#[utoipa::path(get, path = "/api/v1/projects/{id}/lottery/proof", tag = "crate::api_resettlement", params(("id" = i64, Path, description = "Project id")), responses((status = 200, description = "The proof: algorithm, list, list_sha256, seed, order"), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn lottery_proof(
    State(state): State<AppState>,
    Ids(id): Ids<ProjectId>,
) -> Result<Response, AppError> {
    super::proof_download(&state, id).await
}
