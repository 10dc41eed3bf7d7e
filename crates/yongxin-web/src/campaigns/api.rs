//! The JSON API of campaigns (入户走访): the list and one campaign with their counts, a visit
//! sent from a phone (once per client id), coverage grouped four ways and the unreached list.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yongxin_domain::consultation::GivenAnswer;
use yongxin_domain::Permission;
use yongxin_store::{
    Campaign, CampaignHouseholdQuery, CampaignTotals, CoverageBy, HouseholdId, ProjectId, Visit,
    VisitRecorded,
};

use super::{campaign_for, record, CampaignAccess, ConcernInput, VisitInput};
use crate::http::api::{local, ErrorDto};
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::extract::{ApiJson, ApiQuery, Ids};
use crate::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(paths(list_campaigns, get_campaign, record_visit, coverage, unreached))]
pub(super) struct CampaignsApi;

/// A campaign with its counts. For a cadre who does not run campaigns the counts are over the
/// households assigned to them.
#[derive(Serialize, ToSchema)]
pub struct CampaignDto {
    id: i64,
    title: String,
    /// `policy`, `registration`, `inspection`, `survey` or `other`.
    kind: String,
    description: String,
    /// First day (Asia/Shanghai), `YYYY-MM-DD`.
    starts_on: String,
    /// Last day, included.
    ends_on: String,
    /// `upcoming`, `running` or `ended`.
    state: String,
    /// The notice it explains: households reached are marked informed of it.
    notice_id: Option<i64>,
    project_id: Option<i64>,
    /// The consultation whose questions are the visit form (`GET /api/v1/consultations/{id}`).
    consultation_id: Option<i64>,
    /// `grid` or `hand`.
    assignment: String,
    /// Not-at-home visits on different days before a household goes to its village officer.
    escalate_after: i64,
    /// Whether a refusal counts as reached.
    reached_on_refused: bool,
    /// Whether cadres may visit any household of the campaign within their scope.
    open_to_scope: bool,
    /// Households to visit.
    target: i64,
    /// Reached: met, or refused where that counts.
    reached: i64,
    /// Met.
    met: i64,
    /// Refused and never met.
    refused: i64,
    /// Not at home on `escalate_after` days and not reached.
    escalated: i64,
    /// Still to settle (not reached and not found gone).
    left: i64,
    /// Visits made.
    visits: i64,
}

impl CampaignDto {
    fn new(k: Campaign, t: CampaignTotals) -> Self {
        let today = yongxin_domain::campaign::local_day(Utc::now());
        Self {
            state: if today < k.starts_on {
                "upcoming"
            } else if today > k.ends_on {
                "ended"
            } else {
                "running"
            }
            .into(),
            id: k.id,
            title: k.title,
            kind: k.kind.code().into(),
            description: k.description,
            starts_on: k.starts_on.to_string(),
            ends_on: k.ends_on.to_string(),
            notice_id: k.notice_id,
            project_id: k.project_id.map(ProjectId::get),
            consultation_id: k.consultation_id,
            assignment: k.assignment.code().into(),
            escalate_after: k.escalate_after,
            reached_on_refused: k.reached_on_refused,
            open_to_scope: k.open_to_scope,
            target: t.target,
            reached: t.reached,
            met: t.met,
            refused: t.refused,
            escalated: t.escalated,
            left: t.left(),
            visits: t.visits,
        }
    }
}

/// Campaigns, latest start first: all of them for those who run campaigns, those with
/// households assigned to the caller for a cadre.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "crate::api_campaigns", responses((status = 200, body = Vec<CampaignDto>), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto)))]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_campaigns(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<CampaignDto>>, AppError> {
    let user = ctx.cadre()?;
    let cadre = if user.role.may(Permission::RunCampaign) {
        None
    } else if user.role.may(Permission::VisitHouseholds) {
        Some(user.id)
    } else {
        return Err(AppError::forbidden());
    };
    Ok(Json(
        state
            .store
            .campaigns(cadre)
            .await?
            .into_iter()
            .map(|s| CampaignDto::new(s.campaign, s.totals))
            .collect(),
    ))
}

/// One campaign with its counts.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "crate::api_campaigns", params(("id" = i64, Path, description = "Campaign id")), responses((status = 200, body = CampaignDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn get_campaign(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
) -> Result<Json<CampaignDto>, AppError> {
    let access = campaign_for(&state, ctx.user()?, id).await?;
    let totals = state.store.campaign_totals(id, access.cadre).await?;
    Ok(Json(CampaignDto::new(access.campaign, totals)))
}

/// A concern raised at the door: it becomes a case (channel `visit`) in the visit's write.
#[derive(Deserialize, ToSchema)]
pub struct ConcernDto {
    /// Category code (`GET /api/v1/categories`).
    category: String,
    description: String,
    /// Whom to call back; the household's phone on record when omitted.
    #[serde(default)]
    contact_phone: Option<String>,
}

/// A visit as the phone sends it.
#[derive(Deserialize, ToSchema)]
pub struct VisitRequest {
    /// The phone's id of the visit (a UUID, or 8 to 64 letters, digits and dashes). Sent again
    /// with the same content it answers the visit stored (200); with other content, 409.
    client_id: String,
    household_id: i64,
    /// When the visit happened (RFC 3339), not when it is sent.
    visited_at: String,
    /// `met`, `not_home`, `refused`, `moved` or `no_such_household`.
    outcome: String,
    /// Answers to the visit form by question id (only when met): an option id, option ids, or a
    /// text, as for a consultation.
    #[serde(default)]
    #[schema(value_type = Object)]
    answers: BTreeMap<String, GivenAnswer>,
    #[serde(default)]
    note: String,
    /// Concerns raised (met or refused only), each filed as a case.
    #[serde(default)]
    concerns: Vec<ConcernDto>,
    /// Resident ids of the members met.
    #[serde(default)]
    members: Vec<i64>,
    /// Up to three photos, base64 (JPEG, PNG or WebP).
    #[serde(default)]
    photos: Vec<String>,
}

/// A case filed from a concern.
#[derive(Serialize, ToSchema)]
pub struct ConcernCaseDto {
    appeal_id: i64,
    /// 案件编号.
    number: String,
}

/// A stored visit.
#[derive(Serialize, ToSchema)]
pub struct VisitDto {
    id: i64,
    client_id: String,
    campaign_id: i64,
    household_id: i64,
    cadre_user_id: i64,
    cadre_name: String,
    visited_at: String,
    received_at: String,
    outcome: String,
    members: Vec<i64>,
    #[schema(value_type = Object)]
    answers: BTreeMap<i64, GivenAnswer>,
    note: String,
    /// False once a correction replaced it.
    current: bool,
    /// The visit this one corrects.
    corrects_id: Option<i64>,
    /// The cases filed from its concerns.
    appeals: Vec<ConcernCaseDto>,
    /// How many photos it has.
    photos: usize,
}

impl From<Visit> for VisitDto {
    fn from(v: Visit) -> Self {
        Self {
            id: v.id,
            client_id: v.client_id,
            campaign_id: v.campaign_id,
            household_id: v.household_id.get(),
            cadre_user_id: v.cadre_user_id,
            cadre_name: v.cadre_name,
            visited_at: local(v.visited_at),
            received_at: local(v.received_at),
            outcome: v.outcome.code().into(),
            members: v.members,
            answers: v.answers,
            note: v.note,
            current: v.current,
            corrects_id: v.corrects_id,
            appeals: v
                .appeals
                .into_iter()
                .map(|(id, number)| ConcernCaseDto {
                    appeal_id: id.get(),
                    number,
                })
                .collect(),
            photos: v.photos.len(),
        }
    }
}

/// Records a visit to a household assigned to the caller. The same `client_id` with the same
/// content again answers the stored visit (200) and stores nothing; with other content 409. A
/// household not assigned to the caller is 403; a field that does not read is 422 naming it.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/visits", tag = "crate::api_campaigns", params(("id" = i64, Path, description = "Campaign id")), request_body = VisitRequest, responses((status = 201, body = VisitDto, description = "Stored now"), (status = 200, body = VisitDto, description = "Stored before under this client id"), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto), (status = 409, body = ErrorDto), (status = 422, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn record_visit(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    ApiJson(body): ApiJson<VisitRequest>,
) -> Result<Response, AppError> {
    let c = ctx.lang.catalog();
    let access: CampaignAccess = campaign_for(&state, ctx.user()?, id).await?;
    let visited_at = DateTime::parse_from_rfc3339(body.visited_at.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| AppError::invalid_input("visited_at", c.t("campaign.error.time").into()))?;
    let mut answers = BTreeMap::new();
    for (k, v) in body.answers {
        let qid: i64 = k
            .trim()
            .parse()
            .map_err(|_| AppError::unprocessable_field("answers"))?;
        answers.insert(qid, v);
    }
    let photos = body
        .photos
        .iter()
        .map(|p| {
            base64::engine::general_purpose::STANDARD
                .decode(p.trim())
                .map(|bytes| crate::http::upload::Upload { bytes })
                .map_err(|_| AppError::unprocessable_field("photos"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let input = VisitInput {
        client_id: body.client_id,
        household_id: HouseholdId(body.household_id),
        visited_at,
        outcome: body.outcome,
        members: body.members,
        answers,
        note: body.note,
        concerns: body
            .concerns
            .into_iter()
            .map(|k| ConcernInput {
                category: k.category,
                description: k.description,
                contact_phone: k.contact_phone,
            })
            .collect(),
        photos,
    };
    Ok(match record(&state, &ctx, &access, input).await? {
        VisitRecorded::Stored(v) => (StatusCode::CREATED, Json(VisitDto::from(v))).into_response(),
        VisitRecorded::Replayed(v) => (StatusCode::OK, Json(VisitDto::from(v))).into_response(),
    })
}

/// Which coverage.
#[derive(Deserialize, IntoParams)]
pub struct CoverageQuery {
    /// `village` (default), `grid`, `cadre` or `day`.
    group_by: Option<String>,
}

/// One group of coverage.
#[derive(Serialize, ToSchema)]
pub struct CoverageGroupDto {
    /// The village's, grid's or cadre's id (empty: no cadre), or the day `YYYY-MM-DD`.
    key: String,
    name: String,
    /// Households (for a day: those not yet reached when it began).
    target: i64,
    /// Reached (for a day: reached that day).
    reached: i64,
    /// Met (for a day: met that day).
    met: i64,
    refused: i64,
    escalated: i64,
    /// Still to settle (0 for a day).
    left: i64,
}

/// A campaign's coverage.
#[derive(Serialize, ToSchema)]
pub struct CoverageDto {
    target: i64,
    reached: i64,
    met: i64,
    groups: Vec<CoverageGroupDto>,
}

/// Coverage of a campaign, grouped by village, grid, cadre or the day households were reached.
/// A cadre who does not run campaigns gets their own households' only.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/coverage", tag = "crate::api_campaigns", params(("id" = i64, Path, description = "Campaign id"), CoverageQuery), responses((status = 200, body = CoverageDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn coverage(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    ApiQuery(q): ApiQuery<CoverageQuery>,
) -> Result<Json<CoverageDto>, AppError> {
    let access = campaign_for(&state, ctx.user()?, id).await?;
    let by = match q
        .group_by
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => CoverageBy::Village,
        Some(s) => CoverageBy::parse(s).ok_or_else(|| AppError::invalid_param("group_by"))?,
    };
    let groups = state.store.campaign_coverage(id, by, access.cadre).await?;
    // Village, grid and cadre groups partition the households: their sum is the whole, without
    // counting it again. Days do not.
    let totals = if by == CoverageBy::Day {
        state.store.campaign_totals(id, access.cadre).await?
    } else {
        groups
            .iter()
            .fold(CampaignTotals::default(), |t, g| CampaignTotals {
                target: t.target + g.totals.target,
                reached: t.reached + g.totals.reached,
                met: t.met + g.totals.met,
                ..t
            })
    };
    let groups = groups
        .into_iter()
        .map(|g| CoverageGroupDto {
            left: if by == CoverageBy::Day {
                0
            } else {
                g.totals.left()
            },
            key: g.key,
            name: g.name,
            target: g.totals.target,
            reached: g.totals.reached,
            met: g.totals.met,
            refused: g.totals.refused,
            escalated: g.totals.escalated,
        })
        .collect();
    Ok(Json(CoverageDto {
        target: totals.target,
        reached: totals.reached,
        met: totals.met,
        groups,
    }))
}

/// Which unreached households.
#[derive(Deserialize, IntoParams)]
pub struct UnreachedQuery {
    /// Page, from 1.
    page: Option<i64>,
    /// Rows per page (default 100, at most 500).
    per_page: Option<i64>,
    /// Only this cadre's (those who run campaigns).
    cadre_id: Option<i64>,
    village_id: Option<i64>,
    grid_id: Option<i64>,
    /// Only those escalated to their village officer.
    escalated: Option<bool>,
}

/// An unreached household with its attempts.
#[derive(Serialize, ToSchema)]
pub struct UnreachedDto {
    household_id: i64,
    key: String,
    address: String,
    village_id: i64,
    village_name: String,
    grid_id: i64,
    grid_name: String,
    cadre_user_id: Option<i64>,
    cadre_name: Option<String>,
    /// Visits made.
    attempts: i64,
    /// Days nobody was at home.
    not_home_days: i64,
    /// The latest outcome, if visited.
    last_outcome: Option<String>,
    last_visit_at: Option<String>,
    /// With the village officer.
    escalated: bool,
}

/// A page of unreached households.
#[derive(Serialize, ToSchema)]
pub struct UnreachedPageDto {
    total: i64,
    page: i64,
    per_page: i64,
    households: Vec<UnreachedDto>,
}

/// The households of a campaign not yet reached, by grid and key, with their attempts; a cadre
/// who does not run campaigns gets their own.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/unreached", tag = "crate::api_campaigns", params(("id" = i64, Path, description = "Campaign id"), UnreachedQuery), responses((status = 200, body = UnreachedPageDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn unreached(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    ApiQuery(q): ApiQuery<UnreachedQuery>,
) -> Result<Json<UnreachedPageDto>, AppError> {
    let access = campaign_for(&state, ctx.user()?, id).await?;
    let page = state
        .store
        .campaign_households(
            id,
            &CampaignHouseholdQuery {
                cadre_user_id: access.cadre.or(q.cadre_id),
                unreached: true,
                escalated: q.escalated.unwrap_or(false),
                village_id: q.village_id,
                grid_id: q.grid_id,
                page: q.page.unwrap_or(1),
                per_page: q.per_page.unwrap_or(100),
                ..CampaignHouseholdQuery::default()
            },
        )
        .await?;
    Ok(Json(UnreachedPageDto {
        total: page.total,
        page: page.page,
        per_page: page.per_page,
        households: page
            .rows
            .into_iter()
            .map(|h| UnreachedDto {
                household_id: h.household_id.get(),
                key: h.key,
                address: h.address,
                village_id: h.village_id,
                village_name: h.village_name,
                grid_id: h.grid_id,
                grid_name: h.grid_name,
                cadre_user_id: h.cadre_user_id,
                cadre_name: h.cadre_name,
                attempts: h.attempts,
                not_home_days: h.not_home_days,
                last_outcome: h.last_outcome.map(|o| o.code().to_owned()),
                last_visit_at: h.last_visit_at.map(local),
                escalated: h.escalated,
            })
            .collect(),
    }))
}
