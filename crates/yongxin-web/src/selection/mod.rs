//! House selection (选房): setting up a selection, the desk's operator screen, a household choosing online, the live board, slips, corrections and agreements, with the JSON API. A claim is decided in one transaction; this node also keeps the units it knows are sold, to refuse claims for them without a round trip.

mod api;
pub mod board;
mod pages;
pub(crate) mod picker;

use crate::http::error::AppError;
use crate::http::routes::Routes;
use crate::AppState;
use std::collections::HashMap;
use yongxin_store::Claim;
use yongxin_store::User;
use yongxin_store::{HouseholdId, ProjectId};

/// The area's routes.
pub(crate) fn routes() -> Routes {
    Routes::new()
        .post("/projects/{id}/selections", pages::create)
        .get("/projects/{id}/board", pages::board)
        .get("/projects/{id}/board/events", pages::board_events)
        .get_post(
            "/projects/{id}/agreements",
            pages::agreements,
            pages::record,
        )
        .get("/projects/{id}/agreements.xlsx", pages::export)
        .get("/selections/{id}/operator", pages::operator)
        .get_post("/selections/{id}/choose", pages::choose_page, pages::choose)
        .post("/selections/{id}/queue", pages::queue)
        .post("/selections/{id}/confirm", pages::confirm)
        .post("/selections/{id}/decline", pages::decline)
        .get("/selections/{id}/claims/{claim}/slip", pages::slip)
        .post("/selections/{id}/claims/{claim}/correct", pages::correct)
        .post(
            "/selections/{id}/claims/{claim}/return",
            pages::return_claim,
        )
        .post("/selections/{id}/claims/{claim}/sign", pages::sign)
        .get("/api/v1/selections", api::list_selections)
        .post("/api/v1/selections/{id}/claims", api::create_claim)
        .get("/api/v1/selections/{id}/units", api::selection_units)
}

/// The area's part of the OpenAPI document.
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    <api::SelectionApi as utoipa::OpenApi>::openapi()
}

/// Whether the user may claim for the household: a member for their own, an operator for any
/// (then on the household's behalf).
pub fn claim_right(user: &User, household_id: HouseholdId) -> Result<bool, AppError> {
    yongxin_domain::selection::claim_right(
        user.role,
        user.household_id.map(HouseholdId::get),
        household_id.get(),
    )
    .ok_or_else(AppError::forbidden)
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
    selections: std::sync::RwLock<HashMap<i64, ProjectId>>,
    sold: std::sync::RwLock<HashMap<ProjectId, SoldList>>,
    /// One request reads the list again while the others use what there is.
    refreshing: std::sync::atomic::AtomicBool,
}

impl SoldUnits {
    /// The project of a selection (selections never move).
    async fn project_of(&self, state: &AppState, selection_id: i64) -> Result<ProjectId, AppError> {
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
    async fn taken(
        &self,
        state: &AppState,
        project_id: ProjectId,
        units: &[i64],
    ) -> Option<String> {
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
    pub fn forget(&self, project_id: ProjectId) {
        self.sold
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&project_id);
    }

    fn record(&self, project_id: ProjectId, claim: &Claim) {
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

/// When a project's list was read, and its sold units by id with their names.
type SoldList = (std::time::Instant, HashMap<i64, String>);

/// How long this node's list of sold units is trusted before it is read again.
pub const SOLD_FRESH_FOR: std::time::Duration = std::time::Duration::from_millis(250);

/// Claims through the store (after this node's list of sold units) and wakes the board feed.
pub async fn claim(
    state: &AppState,
    user: &User,
    selection_id: i64,
    household_id: HouseholdId,
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
