//! The JSON API of selection (选房): selections, claiming units (answered within the request:
//! confirmed, or refused with the reason), and every unit with its state.

use crate::http::extract::{ApiJson, Ids};
use yongxin_store::HouseholdId;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yongxin_store::{Claim, Selection};

use super::{claim, claim_right};
use crate::http::api::local;
use crate::http::api::ErrorDto;
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(paths(list_selections, create_claim, selection_units))]
pub(super) struct SelectionApi;

/// A wave: lottery orders `from_order..=to_order` from `opens_at`.
#[derive(Serialize, ToSchema)]
pub struct WaveDto {
    from_order: i64,
    to_order: i64,
    opens_at: String,
}

/// A selection.
#[derive(Serialize, ToSchema)]
pub struct SelectionDto {
    id: i64,
    project_id: i64,
    /// `onsite` (选房日) or `online` (线上选房).
    mode: String,
    starts_at: String,
    ends_at: String,
    /// Empty: everyone from the start.
    waves: Vec<WaveDto>,
    /// Selection day: seconds per household.
    time_limit_seconds: i64,
    /// Selection day: seconds the operator may return a confirmed choice, before the slip is
    /// signed.
    return_seconds: i64,
    /// Households on its list.
    households: i64,
    /// Selection day: the lottery order being called.
    current_order: Option<i64>,
}

impl SelectionDto {
    /// The selection as the API shows it.
    pub fn new(s: Selection) -> Self {
        Self {
            id: s.id,
            project_id: s.project_id.get(),
            mode: s.mode.code().into(),
            starts_at: local(s.starts_at),
            ends_at: local(s.ends_at),
            waves: s
                .waves
                .iter()
                .map(|w| WaveDto {
                    from_order: w.from_order,
                    to_order: w.to_order,
                    opens_at: local(w.opens_at),
                })
                .collect(),
            time_limit_seconds: s.time_limit_seconds,
            return_seconds: s.return_seconds,
            households: s.households,
            current_order: s.queue.as_ref().and_then(|q| q.current().map(|e| e.order)),
        }
    }
}

/// Every selection, newest first. Signed-in users.
#[utoipa::path(get, path = "/api/v1/selections", tag = "crate::api_selection", responses((status = 200, body = Vec<SelectionDto>), (status = 401, body = ErrorDto)))]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn list_selections(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<SelectionDto>>, AppError> {
    ctx.user()?;
    Ok(Json(
        state
            .store
            .selections(None)
            .await?
            .into_iter()
            .map(SelectionDto::new)
            .collect(),
    ))
}

/// A claim.
#[derive(Deserialize, ToSchema)]
pub struct ClaimRequest {
    household_id: i64,
    /// 1 to 8 units.
    unit_ids: Vec<i64>,
}

/// A unit of a confirmation.
#[derive(Serialize, ToSchema)]
pub struct ClaimedUnitDto {
    id: i64,
    building: String,
    number: String,
    layout: String,
    /// Decimal string, m².
    area: String,
}

/// A confirmed claim (选房确认).
#[derive(Serialize, ToSchema)]
pub struct ClaimDto {
    claim_id: i64,
    selection_id: i64,
    household_id: i64,
    units: Vec<ClaimedUnitDto>,
    /// Decimal string, m².
    total_area: String,
    confirmed_at: String,
    /// Who confirmed it.
    by: String,
    /// Staff on the household's behalf.
    on_behalf: bool,
    /// The board event that announced it.
    board_seq: i64,
    /// When the household signed the slip (the return window's end).
    signed_at: Option<String>,
    /// Released by the operator's return within the window (`returned`) or an administrator's
    /// correction (`corrected`); none while it stands.
    released: Option<String>,
}

impl ClaimDto {
    fn new(c: Claim) -> Self {
        Self {
            claim_id: c.id,
            selection_id: c.selection_id,
            household_id: c.household_id.get(),
            units: c
                .units
                .into_iter()
                .map(|u| ClaimedUnitDto {
                    id: u.id,
                    building: u.building_name,
                    number: u.number,
                    layout: u.layout,
                    area: u.area.to_string(),
                })
                .collect(),
            total_area: c.total_area.to_string(),
            confirmed_at: local(c.at),
            by: c.by_name,
            on_behalf: c.on_behalf,
            board_seq: c.seq,
            signed_at: c.signed_at.map(local),
            released: c.corrected.as_ref().map(|_| {
                if c.returned {
                    "returned".to_owned()
                } else {
                    "corrected".to_owned()
                }
            }),
        }
    }
}

/// Claims units for a household, decided in the database transaction: 200 with the confirmation;
/// 409 a unit is taken; 422 over the household's limit or not units of the project; 403 not the
/// household's turn (window, wave, not on the list, selection day) or not the caller's household.
/// Members claim for their own household; department staff, leaders and administrators on a
/// household's behalf (recorded as such).
#[utoipa::path(post, path = "/api/v1/selections/{id}/claims", tag = "crate::api_selection", params(("id" = i64, Path, description = "Selection id")), request_body = ClaimRequest, responses((status = 200, body = ClaimDto), (status = 401, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto), (status = 409, body = ErrorDto), (status = 422, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn create_claim(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    ApiJson(req): ApiJson<ClaimRequest>,
) -> Result<Json<ClaimDto>, AppError> {
    let user = ctx.user()?;
    let household_id = HouseholdId(req.household_id);
    let on_behalf = claim_right(user, household_id)?;
    let claim = claim(&state, user, id, household_id, req.unit_ids, on_behalf).await?;
    Ok(Json(ClaimDto::new(claim)))
}

/// A unit and its state.
#[derive(Serialize, ToSchema)]
pub struct UnitDto {
    id: i64,
    building: String,
    building_name: String,
    number: String,
    floor: i64,
    layout: String,
    /// Decimal string, m².
    area: String,
    /// `available` or `sold`.
    state: String,
    sold_at: Option<String>,
}

/// Every unit of the selection's project with its state. Public, like the board.
#[utoipa::path(get, path = "/api/v1/selections/{id}/units", tag = "crate::api_selection", params(("id" = i64, Path, description = "Selection id")), responses((status = 200, body = Vec<UnitDto>), (status = 404, body = ErrorDto)))]
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn selection_units(
    State(state): State<AppState>,
    Ids(id): Ids<i64>,
) -> Result<Json<Vec<UnitDto>>, AppError> {
    let s = state
        .store
        .selection(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(Json(
        state
            .store
            .unit_states(s.project_id)
            .await?
            .into_iter()
            .map(|u| UnitDto {
                id: u.id,
                building: u.building,
                building_name: u.building_name,
                number: u.number,
                floor: u.floor,
                layout: u.layout,
                area: u.area.to_string(),
                state: if u.owner_household_id.is_some() {
                    "sold"
                } else {
                    "available"
                }
                .into(),
                sold_at: u.sold_at.map(local),
            })
            .collect(),
    ))
}
