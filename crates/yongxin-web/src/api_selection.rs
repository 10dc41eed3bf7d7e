//! The JSON API of selection (选房): selections, claiming units (answered within the request:
//! confirmed, or refused with the reason), and every unit with its state.

use crate::http::extract::{ApiJson, Ids};
use std::collections::HashMap;
use yongxin_domain::Permission;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yongxin_domain::Role;
use yongxin_store::{Claim, Selection, User};

use crate::http::api::local;
#[allow(unused_imports)]
use crate::http::api::ErrorDto;
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::AppState;

/// Whether the user may claim for the household: a member for their own, an operator for any
/// (then on the household's behalf).
pub fn claim_right(user: &User, household_id: i64) -> Result<bool, AppError> {
    if user.role.may(Permission::OperateSelection) {
        Ok(true)
    } else if user.role == Role::Resident && user.household_id == Some(household_id) {
        Ok(false)
    } else {
        Err(AppError::forbidden())
    }
}

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
            project_id: s.project_id,
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
            household_id: c.household_id,
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
pub async fn create_claim(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    ApiJson(req): ApiJson<ClaimRequest>,
) -> Result<Json<ClaimDto>, AppError> {
    let user = ctx.user()?;
    let on_behalf = claim_right(user, req.household_id)?;
    let claim = claim(&state, user, id, req.household_id, req.unit_ids, on_behalf).await?;
    Ok(Json(ClaimDto::new(claim)))
}

/// What this node knows is sold, per project: read from the database at most every
/// [`SOLD_FRESH_FOR`], added to by this node's own sales and forgotten when this node corrects a
/// claim. A unit found here is refused at once; one not found here (sold on another node a
/// moment ago) is refused by the claim's transaction. Only a correction releases a sold unit, so
/// the worst a stale list does is refuse a just-released unit for a quarter second. In a rush
/// nearly every request asks for a unit already sold, and this answers them without a database
/// round trip.
#[derive(Default)]
pub struct SoldUnits {
    selections: std::sync::RwLock<HashMap<i64, i64>>,
    sold: std::sync::RwLock<HashMap<i64, SoldList>>,
    /// One request reads the list again while the others use what there is.
    refreshing: std::sync::atomic::AtomicBool,
}

/// When a project's list was read, and its sold units by id with their names.
type SoldList = (std::time::Instant, HashMap<i64, String>);

/// How long this node's list of sold units is trusted before it is read again.
pub const SOLD_FRESH_FOR: std::time::Duration = std::time::Duration::from_millis(250);

impl SoldUnits {
    /// The project of a selection (selections never move).
    async fn project_of(&self, state: &AppState, selection_id: i64) -> Result<i64, AppError> {
        if let Some(p) = self
            .selections
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&selection_id)
        {
            return Ok(*p);
        }
        let s = state
            .store
            .selection(selection_id)
            .await?
            .ok_or_else(AppError::not_found)?;
        self.selections
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(selection_id, s.project_id);
        Ok(s.project_id)
    }

    /// The first of these units known to be sold, by its name.
    async fn taken(&self, state: &AppState, project_id: i64, units: &[i64]) -> Option<String> {
        use std::sync::atomic::Ordering;
        let fresh = self
            .sold
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&project_id)
            .is_some_and(|(at, _)| at.elapsed() < SOLD_FRESH_FOR);
        let ours = !fresh
            && self
                .refreshing
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok();
        if ours {
            // A failed read leaves the old list; the database decides the claim either way.
            if let Ok(states) = state.store.unit_states(project_id).await {
                let sold: HashMap<i64, String> = states
                    .into_iter()
                    .filter(|u| u.owner_household_id.is_some())
                    .map(|u| (u.id, format!("{} {}", u.building_name, u.number)))
                    .collect();
                self.sold
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(project_id, (std::time::Instant::now(), sold));
            }
            self.refreshing.store(false, Ordering::Release);
        }
        let sold = self.sold.read().unwrap_or_else(|e| e.into_inner());
        sold.get(&project_id)
            .and_then(|(_, s)| units.iter().find_map(|u| s.get(u).cloned()))
    }

    /// Forgets a project's list (after a correction released units).
    pub fn forget(&self, project_id: i64) {
        self.sold
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&project_id);
    }

    fn record(&self, project_id: i64, claim: &Claim) {
        if let Some((_, sold)) = self
            .sold
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&project_id)
        {
            for u in &claim.units {
                sold.insert(u.id, format!("{} {}", u.building_name, u.number));
            }
        }
    }
}

/// Claims through the store (after this node's list of sold units) and wakes the board feed.
pub async fn claim(
    state: &AppState,
    user: &User,
    selection_id: i64,
    household_id: i64,
    unit_ids: Vec<i64>,
    on_behalf: bool,
) -> Result<Claim, AppError> {
    let project_id = state.sold.project_of(state, selection_id).await?;
    if let Some(name) = state.sold.taken(state, project_id, &unit_ids).await {
        return Err(yongxin_domain::selection::ClaimRefusal::Taken(name).into());
    }
    let claim = state
        .store
        .claim(
            &user.actor(),
            selection_id,
            household_id,
            unit_ids,
            user,
            on_behalf,
        )
        .await??;
    state.sold.record(project_id, &claim);
    state.board.nudge(project_id);
    Ok(claim)
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
