//! Selection (选房) pages: setting up a selection, the live board (大屏) and its event stream, the
//! selection-day operator's screen with the confirmation slip (选房确认书), and agreements with
//! their progress and export.

use crate::http::extract::{Button, CsrfForm, Ids, PageQuery};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use yongxin_domain::Permission;
use yongxin_store::{HouseholdId, ProjectId};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use yongxin_domain::money::Qty;
use yongxin_domain::resettlement::entitlement::Entitlement;
use yongxin_domain::resettlement::masked_name;
use yongxin_domain::selection::{QueueAction, SelectionMode, Wave};
use yongxin_domain::time::display_local;
use yongxin_store::{
    AgreementStep, Claim, HouseholdSummary, ListedHousehold, NewSelection, ProjectDetail,
    Selection, UnitState,
};

use super::picker::{picker, Intent, PickForm, Picker};

use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::page::{render, Chrome};
use crate::http::params::local_time;
use crate::resettlement as act;
use crate::AppState;

/// Reads waves written one per line as `1-200 2026-12-01 09:00` (Shanghai time).
fn read_waves(text: &str) -> Result<Vec<Wave>, AppError> {
    let mut waves = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let bad = || {
            AppError::bad_request(format!(
                "批次 第 {} 行：应为“1-200 2026-12-01 09:00”",
                i + 1
            ))
        };
        let (range, at) = line
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(bad)?;
        let (from, to) = range.split_once('-').ok_or_else(bad)?;
        let opens_at = local_time(&at.trim().replace(' ', "T"), "waves")?.ok_or_else(bad)?;
        waves.push(Wave {
            from_order: from.trim().parse().map_err(|_| bad())?,
            to_order: to.trim().parse().map_err(|_| bad())?,
            opens_at,
        });
    }
    Ok(waves)
}

/// A new selection as the form gives it; the times and counts are read below so a bad one is
/// named.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SelectionForm {
    mode: String,
    starts_at: String,
    ends_at: String,
    minutes: String,
    /// Selection day: seconds the operator may return a confirmed choice (default 120).
    return_seconds: String,
    /// Online waves, one a line: `from to opens-at`.
    waves: String,
}

/// `POST /projects/{id}/selections`: leaders and administrators set up a selection.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    CsrfForm(form): CsrfForm<SelectionForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::RunResettlement)?.clone();
    let p = act::project(&state, id).await?;
    let mode = SelectionMode::parse(&form.mode).ok_or_else(|| AppError::invalid_param("mode"))?;
    let starts_at = local_time(&form.starts_at, "starts_at")?
        .ok_or_else(|| AppError::invalid_param("starts_at"))?;
    let ends_at =
        local_time(&form.ends_at, "ends_at")?.ok_or_else(|| AppError::invalid_param("ends_at"))?;
    let minutes: i64 = form.minutes.trim().parse().unwrap_or(5);
    if !(1..=60).contains(&minutes) {
        return Err(AppError::invalid_param("minutes"));
    }
    let return_seconds: i64 = match form.return_seconds.trim() {
        "" => yongxin_domain::selection::DEFAULT_RETURN_SECONDS,
        v => v
            .parse()
            .ok()
            .filter(|s| (0..=1800).contains(s))
            .ok_or_else(|| AppError::invalid_param("return_seconds"))?,
    };
    let waves = if mode == SelectionMode::Online {
        read_waves(&form.waves)?
    } else {
        Vec::new()
    };
    let s = state
        .store
        .create_selection(
            &user.actor(),
            NewSelection {
                project_id: p.project.id,
                mode,
                starts_at,
                ends_at,
                waves,
                time_limit_seconds: minutes * 60,
                return_seconds,
            },
        )
        .await??;
    let to = if mode == SelectionMode::Onsite {
        format!("/selections/{}/operator", s.id)
    } else {
        format!("/projects/{}/board", p.project.id)
    };
    Ok(Redirect::to(&to).into_response())
}

/// A building as the board draws it: floors from the top, units by position.
pub struct BuildingGrid {
    name: String,
    floors: Vec<(i64, Vec<(UnitState, &'static str)>)>,
}

/// The area the board's buildings are tiled on before its script measures the real screen: a
/// 1920×1080 hall screen less the heading.
const BOARD_SCREEN: (f64, f64) = (1920.0, 900.0);

fn grids(units: Vec<UnitState>) -> Vec<BuildingGrid> {
    type Floors = BTreeMap<i64, Vec<(UnitState, &'static str)>>;
    let now = Utc::now();
    // Buildings in natural order ("2" before "10"), floors from the top.
    let mut by_building: BTreeMap<(usize, String), Floors> = BTreeMap::new();
    for u in units {
        let class =
            yongxin_domain::selection::unit_look(u.owner_household_id.is_some(), u.sold_at, now);
        let key = (u.building.len(), u.building.clone());
        by_building
            .entry(key)
            .or_default()
            .entry(u.floor)
            .or_default()
            .push((u, class));
    }
    by_building
        .into_values()
        .map(|floors| BuildingGrid {
            name: floors
                .values()
                .next()
                .and_then(|f| f.first())
                .map(|(u, _)| u.building_name.clone())
                .unwrap_or_default(),
            floors: floors.into_iter().rev().collect(),
        })
        .collect()
}

/// How the board tiles its buildings on a screen: columns and rows of buildings, the most floors
/// and units on a floor of any building.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardTiling {
    /// Buildings across.
    pub cols: usize,
    /// Buildings down.
    pub rows: usize,
    /// The most floors of a building.
    pub floors: usize,
    /// The most units on a floor.
    pub units: usize,
}

/// The tiling of `buildings` whose cells are largest on a `width`×`height` area (a unit's letter
/// is about as wide as it is high, and a floor's number takes a column): the page starts with the
/// hall's 1920×1080 and its script tiles again for the real screen, by the same rule.
pub fn board_tiling(
    buildings: usize,
    floors: usize,
    units: usize,
    (width, height): (f64, f64),
) -> BoardTiling {
    let n = buildings.max(1);
    let (f, u) = (floors.max(1) as f64, units.max(1) as f64);
    let mut best = (0.0, 1);
    for cols in 1..=n {
        let rows = n.div_ceil(cols);
        // Each building has a heading row and a column of floor numbers.
        let cell_w = width / cols as f64 / (u + 1.0);
        let cell_h = height / rows as f64 / (f + 1.5);
        let size = cell_w.min(cell_h);
        if size > best.0 {
            best = (size, cols);
        }
    }
    BoardTiling {
        cols: best.1,
        rows: n.div_ceil(best.1),
        floors: floors.max(1),
        units: units.max(1),
    }
}

/// The most recent releases (returns and corrections) the board lists, newest first.
const RECENT_RELEASES: i64 = 40;

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    c: Chrome,
    p: ProjectDetail,
    buildings: Vec<BuildingGrid>,
    layouts: Vec<(String, i64, i64)>,
    sold: usize,
    total: usize,
    seq: i64,
    selection: Option<Selection>,
    current_order: Option<i64>,
    seconds_left: Option<i64>,
    window: String,
    tiling: BoardTiling,
    /// Recent returns and corrections: how (`return`/`correct`) and the units' names. Their
    /// reasons, typed at the desk, stay on the slip and in the record, not on a public screen.
    released: Vec<(String, String)>,
}

/// `GET /projects/{id}/board`: the live board, public (the hall's screen and residents' phones).
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn board(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
) -> Result<Response, AppError> {
    let p = act::project(&state, id).await?;
    // The sequence number first: the stream resumes after it, so nothing falls in between.
    let seq = state.store.board_seq(p.project.id).await?;
    let units = state.store.unit_states(p.project.id).await?;
    let mut layouts: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for u in &units {
        let e = layouts.entry(u.layout.clone()).or_default();
        if u.owner_household_id.is_some() {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    let selection = state
        .store
        .selections(Some(p.project.id))
        .await?
        .into_iter()
        .next();
    let current = selection.as_ref().and_then(|s| {
        s.queue.as_ref().and_then(|q| {
            q.current()
                .map(|e| (e.order, e.seconds_left(s.time_limit_seconds, Utc::now())))
        })
    });
    let (current_order, seconds_left) = (current.map(|c| c.0), current.and_then(|c| c.1));
    let window = selection
        .as_ref()
        .map(|s| {
            format!(
                "{} – {}",
                display_local(s.starts_at),
                display_local(s.ends_at)
            )
        })
        .unwrap_or_default();
    let names: HashMap<i64, String> = units
        .iter()
        .map(|u| (u.id, format!("{} {}", u.building_name, u.number)))
        .collect();
    let released = state
        .store
        .board_events(
            p.project.id,
            (seq - RECENT_RELEASES).max(0),
            RECENT_RELEASES,
        )
        .await?
        .into_iter()
        .rev()
        .filter(|e| e.kind == "released")
        .take(3)
        .filter_map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.payload).ok()?;
            let units = v["units"]
                .as_array()?
                .iter()
                .filter_map(|u| names.get(&u["id"].as_i64()?).cloned());
            let units = ctx.lang.catalog().join(units);
            Some((v["how"].as_str().unwrap_or("correct").to_owned(), units))
        })
        .collect();
    let mut floors_per_building: HashMap<&str, BTreeSet<i64>> = HashMap::new();
    let mut per_floor: HashMap<(&str, i64), usize> = HashMap::new();
    for u in &units {
        floors_per_building
            .entry(&u.building)
            .or_default()
            .insert(u.floor);
        *per_floor.entry((&u.building, u.floor)).or_default() += 1;
    }
    let tiling = board_tiling(
        floors_per_building.len(),
        floors_per_building
            .values()
            .map(BTreeSet::len)
            .max()
            .unwrap_or(1),
        per_floor.values().copied().max().unwrap_or(1),
        BOARD_SCREEN,
    );
    let c = Chrome::for_project(&ctx, "selection.board_title", &p.project.name);
    render(&BoardPage {
        c,
        tiling,
        released,
        sold: units
            .iter()
            .filter(|u| u.owner_household_id.is_some())
            .count(),
        total: units.len(),
        buildings: grids(units),
        layouts: layouts.into_iter().map(|(k, (a, s))| (k, a, s)).collect(),
        seq,
        selection,
        current_order,
        seconds_left,
        window,
        p,
    })
}

/// Where a board stream starts.
#[derive(Deserialize)]
pub struct StreamQuery {
    after: Option<i64>,
}

/// `GET /projects/{id}/board/events`: server-sent events, each change once and in order, resuming
/// after `Last-Event-ID` (or `?after=`); without either, from now.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn board_events(
    State(state): State<AppState>,
    Ids(id): Ids<ProjectId>,
    Query(q): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let p = act::project(&state, id).await?;
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .or(q.after);
    let after = match last {
        Some(n) => n,
        None => state.store.board_seq(p.project.id).await?,
    };
    Ok(
        super::board::stream(&state.board, state.store.clone(), p.project.id, after)
            .into_response(),
    )
}

#[derive(Template)]
#[template(path = "operator.html")]
struct OperatorPage {
    c: Chrome,
    s: Selection,
    p: ProjectDetail,
    desk: Option<AtDesk>,
    pick: Option<Picker>,
    /// Households called next, by lottery order.
    next: Vec<i64>,
}

/// The household being called on selection day, as the operator sees it.
pub struct AtDesk {
    h: HouseholdSummary,
    head: String,
    order: i64,
    calls: u32,
    seconds_left: Option<i64>,
    present: bool,
    /// Its confirmed choices in this selection, with the seconds left to return each (none:
    /// signed, or the window has passed).
    claims: Vec<(Claim, Option<i64>)>,
}

/// Seconds left to return a claim, if it may still be returned: a choice confirmed at the desk
/// on selection day, in its window, unsigned.
fn return_left(s: &Selection, claim: &Claim, now: chrono::DateTime<Utc>) -> Option<i64> {
    if s.queue.is_none() || !claim.on_behalf {
        return None;
    }
    yongxin_domain::selection::check_return(
        claim.at,
        claim.signed_at.is_some(),
        claim.corrected.is_some(),
        s.return_seconds,
        now,
    )
    .ok()
    .map(|()| s.return_seconds - (now - claim.at).num_seconds())
}

/// A household's live claims in a selection, oldest first.
#[tracing::instrument(skip_all, fields(household_id), err(level = "debug"))]
async fn live_claims(
    state: &AppState,
    s: &Selection,
    household_id: HouseholdId,
) -> Result<Vec<Claim>, AppError> {
    Ok(state
        .store
        .household_claims(s.project_id, household_id)
        .await?
        .into_iter()
        .filter(|c| c.selection_id == s.id && c.corrected.is_none())
        .collect())
}

/// A selection, or 404.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
async fn selection_of(state: &AppState, id: i64) -> Result<Selection, AppError> {
    state
        .store
        .selection(id)
        .await?
        .ok_or_else(AppError::not_found)
}

/// `GET /selections/{id}/operator`: the selection-day screen — the household called, whether it
/// has come to the desk, its combination with what is still to choose, its confirmed choices
/// (returnable within the window), and every building's floor plan to tick units in, the ticks
/// kept through every filter until confirmed together.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn operator(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    PageQuery(form): PageQuery<PickForm>,
) -> Result<Response, AppError> {
    ctx.require(Permission::OperateSelection)?;
    let s = selection_of(&state, id).await?;
    let p = act::project(&state, s.project_id).await?;
    let now = Utc::now();
    let entry = s.queue.as_ref().and_then(|q| q.current().cloned());
    let next = s
        .queue
        .as_ref()
        .map(|q| {
            q.entries
                .iter()
                .filter(|e| !e.done)
                .skip(1)
                .take(5)
                .map(|e| e.order)
                .collect()
        })
        .unwrap_or_default();
    let (mut desk, mut pick) = (None, None);
    if let Some(e) = &entry {
        let h = state
            .store
            .household(HouseholdId(e.household_id))
            .await?
            .summary;
        let limit = state
            .store
            .selection_household(s.id, HouseholdId(e.household_id))
            .await?
            .and_then(|l| l.limit);
        pick = Some(
            picker(
                &state,
                p.project.id,
                Some((HouseholdId(e.household_id), limit)),
                &form,
            )
            .await?,
        );
        desk = Some(AtDesk {
            head: masked_name(&h.head_name),
            order: e.order,
            calls: e.calls,
            seconds_left: e.seconds_left(s.time_limit_seconds, now),
            present: e.present_at.is_some(),
            claims: live_claims(&state, &s, HouseholdId(e.household_id))
                .await?
                .into_iter()
                .map(|c| {
                    let left = return_left(&s, &c, now);
                    (c, left)
                })
                .collect(),
            h,
        });
    }
    let c = Chrome::for_project(&ctx, "selection.operator_title", &p.project.name);
    render(&OperatorPage {
        c,
        desk,
        pick,
        next,
        s,
        p,
    })
}

/// What the operator does with the queue: `call`, `present` or `skip`.
#[derive(Debug, Deserialize)]
pub struct QueueForm {
    #[serde(default)]
    action: String,
}

/// `POST /selections/{id}/queue`: call the household, record that it came to the desk, or skip
/// it (after three calls, not once at the desk).
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<QueueForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::OperateSelection)?.clone();
    let action = match form.action.as_str() {
        "call" => QueueAction::Call,
        "present" => QueueAction::Present,
        "skip" => QueueAction::Skip,
        _ => return Err(AppError::invalid_param("action")),
    };
    state
        .store
        .queue_action(&user.actor(), id, action)
        .await?
        .map_err(|e| AppError::refused(e.to_string()))?;
    if let Some(s) = state.store.selection(id).await? {
        state.board.nudge(s.project_id);
    }
    Ok(Redirect::to(&format!("/selections/{id}/operator")).into_response())
}

/// The household a form names.
fn household_of(form: &PickForm) -> Result<HouseholdId, AppError> {
    form.household_id
        .trim()
        .parse()
        .map_err(|_| AppError::invalid_param("household_id"))
}

/// `POST /selections/{id}/confirm`: the operator confirms the units ticked for the household at
/// the desk, all layouts together. While its combination is not complete it stays on screen;
/// once complete the slip follows. The picker's filter and page buttons post here too and come
/// back to the screen with the ticks kept.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<PickForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::OperateSelection)?.clone();
    if form.intent()? != Intent::Confirm {
        return Ok(
            Redirect::to(&format!("/selections/{id}/operator?{}", form.query()?)).into_response(),
        );
    }
    let household = household_of(&form)?;
    let units = form.units()?;
    let claim = super::claim(&state, &user, id, household, units, true).await?;
    let s = selection_of(&state, id).await?;
    let still_here = s
        .queue
        .as_ref()
        .and_then(|q| q.current())
        .is_some_and(|e| e.household_id == household.get());
    Ok(if still_here {
        Redirect::to(&format!("/selections/{id}/operator"))
    } else {
        Redirect::to(&format!("/selections/{id}/claims/{}/slip", claim.id))
    }
    .into_response())
}

/// Why the household declines the rest of its combination.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeclineForm {
    household_id: String,
    reason: String,
}

/// A reason a person wrote: required, at most 500 characters.
fn reason_of(reason: &str, missing: &str) -> Result<String, AppError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::bad_request(missing));
    }
    Ok(reason.to_owned())
}

/// `POST /selections/{id}/decline`: the household at the desk declines the rest of its
/// combination (放弃剩余), with its reason, which its slip prints above the signature; the queue
/// moves on.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn decline(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<DeclineForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::OperateSelection)?.clone();
    let household: HouseholdId = form
        .household_id
        .trim()
        .parse()
        .map_err(|_| AppError::invalid_param("household_id"))?;
    let reason = reason_of(&form.reason, "放弃剩余须写明该户的原因（500 字以内）")?;
    let s = selection_of(&state, id).await?;
    state
        .store
        .decline_rest(&user.actor(), id, household, &reason)
        .await??;
    state.board.nudge(s.project_id);
    let claims = live_claims(&state, &s, household).await?;
    Ok(match claims.last() {
        Some(c) => Redirect::to(&format!("/selections/{id}/claims/{}/slip", c.id)),
        None => Redirect::to(&format!("/selections/{id}/operator")),
    }
    .into_response())
}

#[derive(Template)]
#[template(path = "slip.html")]
struct SlipPage {
    c: Chrome,
    p: ProjectDetail,
    s: Selection,
    h: HouseholdSummary,
    head: String,
    claim: Claim,
    /// The household's other live choices in this selection.
    others: Vec<Claim>,
    /// The current policy's title, named beside its version.
    policy_title: String,
    /// The area of every unit on the slip (a layout still to choose is not counted).
    units_area: Qty,
    at: String,
    entitlement: Option<Entitlement>,
    still: Vec<String>,
    declined: Option<(String, String)>,
    admin: bool,
    operator: bool,
    return_left: Option<i64>,
    signed_at: Option<String>,
    corrected: Option<(String, String)>,
}

/// `GET /selections/{id}/claims/{claim}/slip`: the printable confirmation slip (选房确认书) with
/// every unit the household has in the selection, what it declined and why, the price by band
/// and the net amount — a layout still to choose priced as registered, never paid out as cash.
/// Operators, and the household's members.
#[tracing::instrument(skip_all, fields(id, claim_id), err(level = "debug"))]
pub async fn slip(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids((id, claim_id)): Ids<(i64, i64)>,
) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    let (s, claim) = claim_of_selection(&state, id, claim_id).await?;
    let p = act::project(&state, s.project_id).await?;
    let h = act::household(&state, &user, &p, claim.household_id)
        .await?
        .summary;
    let declined = state
        .store
        .selection_household(s.id, claim.household_id)
        .await?
        .and_then(|l| l.declined);
    let (current, still) =
        act::current_result(&state, p.project.id, claim.household_id, &[]).await?;
    let entitlement = current.map(|r| r.result);
    let policy_title = act::current_policy(&state, p.project.id)
        .await?
        .map(|p| p.title)
        .unwrap_or_default();
    let others: Vec<Claim> = live_claims(&state, &s, claim.household_id)
        .await?
        .into_iter()
        .filter(|c| c.id != claim.id)
        .collect();
    // A returned or corrected claim's apartments are no longer the household's.
    let own_area = if claim.corrected.is_some() {
        Qty::ZERO
    } else {
        claim.total_area
    };
    let units_area = own_area + others.iter().map(|c| c.total_area).sum::<Qty>();
    let operator = user.role.may(Permission::OperateSelection);
    let c = Chrome::for_project(&ctx, "selection.slip_title", &p.project.name);
    render(&SlipPage {
        c,
        // The household sees its head's name in full on its own slip; staff see it masked as
        // on every list.
        head: if user.household_id == Some(h.id) && !user.role.is_cadre() {
            h.head_name.clone()
        } else {
            masked_name(&h.head_name)
        },
        at: display_local(claim.at),
        h,
        admin: user.role.may(Permission::CorrectClaim),
        return_left: return_left(&s, &claim, Utc::now()).filter(|_| operator),
        operator,
        signed_at: claim.signed_at.map(display_local),
        corrected: claim
            .corrected
            .as_ref()
            .map(|(at, why)| (display_local(*at), why.clone())),
        declined: declined.map(|(at, why)| (display_local(at), why)),
        policy_title,
        others,
        units_area,
        claim,
        entitlement,
        still,
        s,
        p,
    })
}

/// Why a confirmed claim is corrected or returned.
#[derive(Debug, Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    pub reason: String,
}

/// `POST /selections/{id}/claims/{claim}/correct`: an administrator releases a confirmed claim's
/// units, with a reason kept on the claim and in the record; the board shows them available.
pub async fn correct(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids((id, claim_id)): Ids<(i64, i64)>,
    CsrfForm(ReasonForm { reason }): CsrfForm<ReasonForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::CorrectClaim)?.clone();
    let reason = reason_of(&reason, "更正须写明原因（500 字以内）")?;
    // The claim is loaded through its selection before anything is changed: a claim reached
    // through another selection's address is not found, and stays as it is.
    let (s, claim) = claim_of_selection(&state, id, claim_id).await?;
    let claim = state
        .store
        .correct_claim(&user.actor(), claim.id, &reason)
        .await?
        .ok_or_else(AppError::not_found)?;
    state.sold.forget(s.project_id);
    state.board.nudge(s.project_id);
    Ok(Redirect::to(&format!("/selections/{}/claims/{}/slip", s.id, claim.id)).into_response())
}

/// `POST /selections/{id}/claims/{claim}/return`: the operator returns (退回) a confirmed choice
/// within the selection's return window, before the slip is signed, with a reason: the units are
/// available again, the household stays at the desk, the board and the record show it.
pub async fn return_claim(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids((id, claim_id)): Ids<(i64, i64)>,
    CsrfForm(ReasonForm { reason }): CsrfForm<ReasonForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::OperateSelection)?.clone();
    let reason = reason_of(&reason, "退回须写明原因（500 字以内）")?;
    let (s, claim) = claim_of_selection(&state, id, claim_id).await?;
    state
        .store
        .return_claim(&user.actor(), s.id, claim.id, &reason)
        .await?
        .ok_or_else(AppError::not_found)??;
    state.sold.forget(s.project_id);
    state.board.nudge(s.project_id);
    Ok(Redirect::to(&format!("/selections/{}/operator", s.id)).into_response())
}

/// `POST /selections/{id}/claims/{claim}/sign`: the household has signed the printed slip; the
/// return window ends.
#[tracing::instrument(skip_all, fields(id, claim_id), err(level = "debug"))]
pub async fn sign(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids((id, claim_id)): Ids<(i64, i64)>,
    _: CsrfForm<Button>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::OperateSelection)?.clone();
    let (s, claim) = claim_of_selection(&state, id, claim_id).await?;
    state
        .store
        .sign_claim(&user.actor(), s.id, claim.id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Ok(Redirect::to(&format!("/selections/{}/claims/{}/slip", s.id, claim.id)).into_response())
}

/// A selection and one of its claims, or 404 when either is missing or the claim belongs to
/// another selection.
#[tracing::instrument(skip_all, fields(selection_id, claim_id), err(level = "debug"))]
async fn claim_of_selection(
    state: &AppState,
    selection_id: i64,
    claim_id: i64,
) -> Result<(Selection, Claim), AppError> {
    let s = selection_of(state, selection_id).await?;
    let claim = state
        .store
        .claim_record(claim_id)
        .await?
        .filter(|c| c.selection_id == s.id)
        .ok_or_else(AppError::not_found)?;
    Ok((s, claim))
}

/// Progress of one group (village or building).
pub struct Progress {
    name: String,
    households: i64,
    signed: i64,
    moved_out: i64,
    keys: i64,
}

#[derive(Template)]
#[template(path = "agreements.html")]
struct AgreementsPage {
    c: Chrome,
    p: ProjectDetail,
    villages: Vec<Progress>,
    buildings: Vec<Progress>,
    today: String,
}

struct AgreementRow {
    household: HouseholdSummary,
    units: Vec<String>,
    agreement: yongxin_store::Agreement,
}

#[tracing::instrument(skip_all, fields(project_id), err(level = "debug"))]
async fn agreement_rows(
    state: &AppState,
    project_id: ProjectId,
) -> Result<Vec<AgreementRow>, AppError> {
    let households = state.store.all_project_households(project_id).await?;
    let agreements: BTreeMap<HouseholdId, yongxin_store::Agreement> = state
        .store
        .agreements(project_id)
        .await?
        .into_iter()
        .map(|a| (a.household_id, a))
        .collect();
    let mut units: BTreeMap<HouseholdId, Vec<String>> = BTreeMap::new();
    for u in state.store.unit_states(project_id).await? {
        if let Some(h) = u.owner_household_id {
            units
                .entry(h)
                .or_default()
                .push(format!("{} {}", u.building_name, u.number));
        }
    }
    Ok(households
        .into_iter()
        .map(|h| {
            let id = h.household.id;
            AgreementRow {
                units: units.remove(&id).unwrap_or_default(),
                agreement: agreements
                    .get(&id)
                    .cloned()
                    .unwrap_or(yongxin_store::Agreement {
                        household_id: id,
                        ..Default::default()
                    }),
                household: h.household,
            }
        })
        .collect())
}

fn tally<'a>(rows: impl Iterator<Item = (&'a AgreementRow, String)>) -> Vec<Progress> {
    let mut by: BTreeMap<String, Progress> = BTreeMap::new();
    for (r, name) in rows {
        let p = by.entry(name.clone()).or_insert(Progress {
            name,
            households: 0,
            signed: 0,
            moved_out: 0,
            keys: 0,
        });
        p.households += 1;
        p.signed += i64::from(r.agreement.signed_on.is_some());
        p.moved_out += i64::from(r.agreement.moved_out_on.is_some());
        p.keys += i64::from(r.agreement.keys_on.is_some());
    }
    by.into_values().collect()
}

/// `GET /projects/{id}/agreements`: progress by village and by building, the form that records a
/// step, and the export. Department staff, leaders, administrators.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn agreements(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
) -> Result<Response, AppError> {
    ctx.require(Permission::AssessHouseholds)?;
    let p = act::project(&state, id).await?;
    let rows = agreement_rows(&state, p.project.id).await?;
    let villages = tally(rows.iter().map(|r| (r, r.household.village_name.clone())));
    let buildings = tally(rows.iter().flat_map(|r| {
        let mut b: Vec<String> = r
            .units
            .iter()
            .map(|u| u.split(' ').next().unwrap_or_default().to_owned())
            .collect();
        b.dedup();
        b.into_iter().map(move |name| (r, name))
    }));
    let c = Chrome::for_project(&ctx, "selection.agreements_title", &p.project.name);
    render(&AgreementsPage {
        c,
        villages,
        buildings,
        today: Utc::now()
            .with_timezone(&yongxin_domain::time::shanghai())
            .date_naive()
            .to_string(),
        p,
    })
}

/// A step of a household's agreement: its key, the step and the day.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AgreementForm {
    key: String,
    step: String,
    on: String,
}

/// `POST /projects/{id}/agreements`: records a step for the household with this key.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn record(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
    CsrfForm(form): CsrfForm<AgreementForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::AssessHouseholds)?.clone();
    let p = act::project(&state, id).await?;
    let key = &form.key;
    let rows = state.store.all_project_households(p.project.id).await?;
    let household = rows
        .iter()
        .find(|h| h.household.key == key.trim())
        .ok_or_else(|| AppError::bad_request(format!("本项目没有户号 {}", key.trim())))?;
    let step = match form.step.as_str() {
        "signed" => AgreementStep::Signed,
        "moved_out" => AgreementStep::MovedOut,
        "keys" => AgreementStep::Keys,
        _ => return Err(AppError::invalid_param("step")),
    };
    let on: NaiveDate = form
        .on
        .trim()
        .parse()
        .map_err(|_| AppError::invalid_param("on"))?;
    state
        .store
        .record_agreement(
            &user.actor(),
            p.project.id,
            household.household.id,
            step,
            on,
        )
        .await?;
    Ok(Redirect::to(&format!("/projects/{}/agreements", p.project.id)).into_response())
}

/// `GET /projects/{id}/agreements.xlsx`: every household with its units, agreement and handover.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<ProjectId>,
) -> Result<Response, AppError> {
    ctx.require(Permission::AssessHouseholds)?;
    let p = act::project(&state, id).await?;
    let rows = agreement_rows(&state, p.project.id).await?;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let x = |e: rust_xlsxwriter::XlsxError| AppError::internal(e);
    let catalog = ctx.lang.catalog();
    for (col, key) in [
        "selection.col_household",
        "selection.col_village",
        "selection.col_head",
        "selection.col_units",
        "selection.col_signed_on",
        "selection.col_moved_out_on",
        "selection.col_keys_on",
    ]
    .iter()
    .enumerate()
    {
        sheet
            .write_string_with_format(0, col as u16, catalog.t(key), &bold)
            .map_err(x)?;
    }
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    for (i, r) in rows.iter().enumerate() {
        let row = (i + 1) as u32;
        sheet.write_string(row, 0, &r.household.key).map_err(x)?;
        sheet
            .write_string(row, 1, &r.household.village_name)
            .map_err(x)?;
        sheet
            .write_string(row, 2, masked_name(&r.household.head_name))
            .map_err(x)?;
        sheet
            .write_string(row, 3, catalog.join(&r.units))
            .map_err(x)?;
        sheet
            .write_string(row, 4, date(r.agreement.signed_on))
            .map_err(x)?;
        sheet
            .write_string(row, 5, date(r.agreement.moved_out_on))
            .map_err(x)?;
        sheet
            .write_string(row, 6, date(r.agreement.keys_on))
            .map_err(x)?;
    }
    let bytes = book.save_to_buffer().map_err(x)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"agreements.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "choose.html")]
struct ChoosePage {
    c: Chrome,
    s: Selection,
    p: ProjectDetail,
    household: HouseholdSummary,
    order: i64,
    turn: Result<(), String>,
    pick: Picker,
    window: String,
    /// The household's slips so far.
    claims: Vec<Claim>,
}

/// The household a resident's online choosing is for: their own, on the selection's list, in
/// an online selection of a project they belong to; with its order and limit.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
async fn choosing_household(
    state: &AppState,
    user: &yongxin_store::User,
    id: i64,
) -> Result<(Selection, ProjectDetail, HouseholdSummary, ListedHousehold), AppError> {
    let household_id = user
        .household_id
        .filter(|_| !user.role.is_cadre())
        .ok_or_else(AppError::forbidden)?;
    let s = selection_of(state, id).await?;
    if s.mode != SelectionMode::Online {
        return Err(AppError::not_found());
    }
    let p = act::project(state, s.project_id).await?;
    let household = act::household(state, user, &p, household_id).await?.summary;
    let listed = state
        .store
        .selection_household(s.id, household_id)
        .await?
        .ok_or_else(|| AppError::from(yongxin_domain::selection::ClaimRefusal::NotListed))?;
    Ok((s, p, household, listed))
}

/// `GET /selections/{id}/choose`: online selection for a household member — their turn, their
/// limit and combination with what is still to choose, and every building's floor plan, filtered
/// by building, floor and layout and paged, the ticks kept across every view.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn choose_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    PageQuery(form): PageQuery<PickForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    let (s, p, household, listed) = choosing_household(&state, &user, id).await?;
    let turn = yongxin_domain::selection::check_turn(
        (s.starts_at, s.ends_at),
        &s.waves,
        listed.order,
        Utc::now(),
    )
    .map_err(|e| e.to_string());
    let pick = picker(
        &state,
        p.project.id,
        Some((household.id, listed.limit)),
        &form,
    )
    .await?;
    let claims = live_claims(&state, &s, household.id).await?;
    let c = Chrome::for_project(&ctx, "selection.choose_title", &p.project.name);
    render(&ChoosePage {
        c,
        window: format!(
            "{} – {}",
            display_local(s.starts_at),
            display_local(s.ends_at)
        ),
        household,
        order: listed.order,
        turn,
        pick,
        claims,
        s,
        p,
    })
}

#[derive(Template)]
#[template(path = "choose_review.html")]
struct ReviewPage {
    c: Chrome,
    s: Selection,
    p: ProjectDetail,
    household: HouseholdSummary,
    pick: Picker,
    entitlement: Option<Entitlement>,
    /// Layouts of the combination still to choose after these units.
    still: Vec<String>,
    /// The area that would be paid out as cash if nothing more is chosen.
    unused: Option<Qty>,
    /// Why these units cannot be confirmed as they are.
    problem: Option<String>,
}

/// `POST /selections/{id}/choose`: a household member's picker. Filter and page buttons keep the
/// ticks; `review` shows the whole combination, the area left and its money consequence before
/// anything is final; `confirm` claims the units and the slip follows, or the page tells why not.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn choose(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<PickForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    match form.intent()? {
        Intent::Filter => {
            Ok(Redirect::to(&format!("/selections/{id}/choose?{}", form.query()?)).into_response())
        }
        Intent::Review => {
            let (s, p, household, listed) = choosing_household(&state, &user, id).await?;
            let pick = picker(
                &state,
                p.project.id,
                Some((household.id, listed.limit)),
                &form,
            )
            .await?;
            let (current, still) =
                act::current_result(&state, p.project.id, household.id, &pick.picked).await?;
            let entitlement = current.map(|r| r.result);
            let catalog = ctx.lang.catalog();
            let problem = if !pick.gone.is_empty() {
                Some(catalog.format(
                    "selection.error_gone",
                    &[("units", catalog.join(&pick.gone))],
                ))
            } else if pick.picked.is_empty() {
                Some(catalog.t("selection.error_none_picked").to_owned())
            } else if !pick.fits() {
                pick.limit.map(|l| {
                    catalog.format(
                        "selection.error_over_limit",
                        &[
                            ("chosen", (pick.owned_area + pick.picked_area).short()),
                            ("limit", l.short()),
                        ],
                    )
                })
            } else {
                None
            };
            let unused = entitlement
                .as_ref()
                .filter(|_| still.is_empty())
                .map(|e| e.entitled_area - e.chosen_area)
                .filter(|q| *q > Qty::ZERO);
            let c = Chrome::for_project(&ctx, "selection.review_title", &p.project.name);
            render(&ReviewPage {
                c,
                household,
                pick,
                entitlement,
                still,
                unused,
                problem,
                s,
                p,
            })
        }
        Intent::Confirm => {
            let household_id = user
                .household_id
                .filter(|_| !user.role.is_cadre())
                .ok_or_else(AppError::forbidden)?;
            let units = form.units()?;
            let claim = super::claim(&state, &user, id, household_id, units, false).await?;
            Ok(Redirect::to(&format!("/selections/{id}/claims/{}/slip", claim.id)).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_board_tiles_every_building_on_one_screen() {
        // The demo's twelve buildings of 26 floors and 8 units on the hall's screen: one row.
        let t = board_tiling(12, 26, 8, BOARD_SCREEN);
        assert_eq!((t.cols, t.rows), (12, 1));
        // Taller screens stack rows; every building has a place in any case.
        let t = board_tiling(12, 26, 8, (1080.0, 1700.0));
        assert!(t.rows > 1 && t.cols * t.rows >= 12, "{t:?}");
        for n in 1..40 {
            let t = board_tiling(n, 18, 6, BOARD_SCREEN);
            assert!(
                t.cols * t.rows >= n && t.cols * (t.rows - 1) < n,
                "{n}: {t:?}"
            );
        }
        assert_eq!(board_tiling(0, 0, 0, BOARD_SCREEN).cols, 1);
    }
}
