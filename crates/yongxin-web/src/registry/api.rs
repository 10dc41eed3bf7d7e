//! The registry's JSON API: villages, grids, households (masked unless a full view is asked for,
//! allowed and recorded).

use super::household_in_scope;
use super::record_full_view;
use super::HouseholdListQuery;
use crate::http::api::ErrorDto;
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::extract::ApiQuery;
use crate::http::extract::Ids;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde::Serialize;
use utoipa::IntoParams;
use utoipa::ToSchema;
use yongxin_domain::{IdNumber, Phone};
use yongxin_store::Grid;
use yongxin_store::HouseholdId;
use yongxin_store::HouseholdSummary;
use yongxin_store::Village;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_villages, list_grids, list_households, get_household),
    components(schemas(
        VillageDto,
        GridDto,
        HouseholdDto,
        HouseholdListDto,
        HouseholdDetailDto,
        MemberDto
    ))
)]
pub(super) struct RegistryApi;

/// A village (村) or community (社区).
#[derive(Serialize, ToSchema)]
pub struct VillageDto {
    id: i64,
    code: String,
    name: String,
    /// `village` or `community`.
    kind: String,
    grid_count: i64,
    household_count: i64,
    resident_count: i64,
}

impl From<Village> for VillageDto {
    fn from(v: Village) -> Self {
        Self {
            id: v.id,
            code: v.code,
            name: v.name,
            kind: v.kind.code().to_owned(),
            grid_count: v.grid_count,
            household_count: v.household_count,
            resident_count: v.resident_count,
        }
    }
}

/// A grid (网格) and its responsible cadre.
#[derive(Serialize, ToSchema)]
pub struct GridDto {
    id: i64,
    village_id: i64,
    village_name: String,
    code: String,
    name: String,
    cadre_name: String,
    /// The cadre's duty phone.
    cadre_phone: Option<String>,
    household_count: i64,
}

impl From<Grid> for GridDto {
    fn from(g: Grid) -> Self {
        Self {
            id: g.id,
            village_id: g.village_id,
            village_name: g.village_name,
            code: g.code,
            name: g.name,
            cadre_name: g.cadre_name,
            cadre_phone: g.cadre_phone,
            household_count: g.household_count,
        }
    }
}

/// A household (户), personal data masked.
#[derive(Serialize, ToSchema)]
pub struct HouseholdDto {
    id: i64,
    key: String,
    address: String,
    village_id: i64,
    village_name: String,
    grid_id: i64,
    grid_name: String,
    head_name: String,
    /// Masked: the province and the check character (`37***************X`).
    head_id_number: String,
    /// Masked: `138****5678`.
    head_phone: Option<String>,
    member_count: i64,
}

impl From<&HouseholdSummary> for HouseholdDto {
    fn from(h: &HouseholdSummary) -> Self {
        Self {
            id: h.id.get(),
            key: h.key.clone(),
            address: h.address.clone(),
            village_id: h.village_id,
            village_name: h.village_name.clone(),
            grid_id: h.grid_id,
            grid_name: h.grid_name.clone(),
            head_name: h.head_name.clone(),
            head_id_number: h
                .head_id_number
                .as_ref()
                .map(IdNumber::masked)
                .unwrap_or_default(),
            head_phone: h.head_phone.as_ref().map(Phone::masked),
            member_count: h.member_count,
        }
    }
}

/// A page of households.
#[derive(Serialize, ToSchema)]
pub struct HouseholdListDto {
    households: Vec<HouseholdDto>,
    total: i64,
    page: i64,
    per_page: i64,
}

/// A household member.
#[derive(Serialize, ToSchema)]
pub struct MemberDto {
    id: i64,
    name: String,
    /// `male` or `female`.
    sex: String,
    /// `YYYY-MM-DD` in a full view; `YYYY-**-**` when masked.
    birth_date: String,
    /// `head`, `spouse`, `child`, `parent`, `grandchild`, `child_in_law`, `sibling`, `other`.
    relation: String,
    /// Masked unless `full=true` was asked for and allowed.
    id_number: String,
    /// Masked unless `full=true` was asked for and allowed.
    phone: Option<String>,
    registered_since: Option<String>,
    flags: Vec<String>,
}

/// A household with its members and grid.
#[derive(Serialize, ToSchema)]
pub struct HouseholdDetailDto {
    household: HouseholdDto,
    members: Vec<MemberDto>,
    grid: GridDto,
    /// Whether identity numbers and phones are shown in full (and the view recorded).
    full: bool,
}

/// Query of `GET /api/v1/households`.
#[derive(Deserialize, IntoParams)]
pub struct HouseholdsParams {
    /// Part of a member's name or the address, the household key, or the last four digits of a
    /// member's phone or identity number.
    q: Option<String>,
    /// Village id.
    village: Option<String>,
    /// Grid id.
    grid: Option<String>,
    /// Page from 1.
    page: Option<String>,
    /// Rows per page, 1–100 (default 20).
    per_page: Option<String>,
}

/// Query of `GET /api/v1/households/{id}`.
#[derive(Deserialize, IntoParams)]
pub struct DetailParams {
    /// `true` for unmasked identity numbers and phones (recorded; not for department staff).
    full: Option<bool>,
}

/// Villages and communities.
#[utoipa::path(get, path = "/api/v1/villages", responses((status = 200, body = [VillageDto]), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto)))]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_villages(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<VillageDto>>, AppError> {
    ctx.cadre()?;
    Ok(Json(
        state
            .store
            .villages()
            .await?
            .into_iter()
            .map(VillageDto::from)
            .collect(),
    ))
}

/// Grids with their responsible cadres.
#[utoipa::path(get, path = "/api/v1/grids", responses((status = 200, body = [GridDto]), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto)))]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_grids(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<GridDto>>, AppError> {
    ctx.cadre()?;
    Ok(Json(
        state
            .store
            .grids(None)
            .await?
            .into_iter()
            .map(GridDto::from)
            .collect(),
    ))
}

/// Households within the caller's scope, paged and searchable.
#[utoipa::path(get, path = "/api/v1/households", params(HouseholdsParams), responses((status = 200, body = HouseholdListDto), (status = 400, body = ErrorDto), (status = 401, body = ErrorDto)))]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_households(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(p): ApiQuery<HouseholdsParams>,
) -> Result<Json<HouseholdListDto>, AppError> {
    let user = ctx.user()?;
    let q = HouseholdListQuery {
        q: p.q,
        village: p.village,
        grid: p.grid,
        page: p.page,
        per_page: p.per_page,
    }
    .to_store_query(user)?;
    let page = state.store.search_households(&q).await?;
    Ok(Json(HouseholdListDto {
        households: page.households.iter().map(HouseholdDto::from).collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// One household with members, if within the caller's scope.
#[utoipa::path(get, path = "/api/v1/households/{id}", params(("id" = i64, Path, description = "Household id"), DetailParams), responses((status = 200, body = HouseholdDetailDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn get_household(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<HouseholdId>,
    ApiQuery(p): ApiQuery<DetailParams>,
) -> Result<Json<HouseholdDetailDto>, AppError> {
    let user = ctx.user()?;
    let detail = household_in_scope(&state, user, id).await?;
    let full = p.full.unwrap_or(false);
    if full {
        record_full_view(&state, user, &detail).await?;
    }
    let members = detail
        .members
        .iter()
        .map(|m| MemberDto {
            id: m.id,
            name: m.name.clone(),
            sex: m.sex.code().to_owned(),
            // A masked view shows the year only: with the date, the masked number could be rebuilt.
            birth_date: if full {
                m.birth_date.to_string()
            } else {
                yongxin_domain::id_number::mask_birth_date(m.birth_date)
            },
            relation: m.relation.code().to_owned(),
            id_number: m.id_number.shown(full),
            phone: m.phone.as_ref().map(|p| p.shown(full)),
            registered_since: m.registered_since.map(|d| d.to_string()),
            flags: m.flags.iter().map(|f| f.code().to_owned()).collect(),
        })
        .collect();
    Ok(Json(HouseholdDetailDto {
        household: HouseholdDto::from(&detail.summary),
        members,
        grid: GridDto::from(detail.grid),
        full,
    }))
}
