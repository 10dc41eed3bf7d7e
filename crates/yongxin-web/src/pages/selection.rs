//! Selection (选房) pages: setting up a selection, the live board (大屏) and its event stream, the
//! selection-day operator's screen with the confirmation slip (选房确认书), and agreements with
//! their progress and export.

use crate::extract::{CsrfForm, Ids};
use std::collections::BTreeMap;
use yongxin_domain::Permission;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use yongxin_domain::money::Qty;
use yongxin_domain::resettlement::entitlement::{compute, ChosenUnit, Entitlement};
use yongxin_domain::resettlement::masked_name;
use yongxin_domain::selection::{QueueAction, SelectionMode, Wave};
use yongxin_domain::time::display_local;
use yongxin_store::{
    AgreementStep, Claim, HouseholdSummary, NewSelection, ProjectDetail, Selection, UnitState,
};

use super::notices::local_time;
use super::{render, Chrome};
use crate::context::Ctx;
use crate::error::AppError;
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
    /// Online waves, one a line: `from to opens-at`.
    waves: String,
}

/// `POST /projects/{id}/selections`: leaders and administrators set up a selection.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
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
    let waves = if mode == SelectionMode::Online {
        read_waves(&form.waves)?
    } else {
        Vec::new()
    };
    let s = state
        .store
        .create_selection(
            &user.username,
            NewSelection {
                project_id: p.project.id,
                mode,
                starts_at,
                ends_at,
                waves,
                time_limit_seconds: minutes * 60,
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

/// How long a sold unit shows as just taken.
const JUST_TAKEN_SECONDS: i64 = 60;

/// The board's colour of a unit: free, just taken (sold in the last minute) or sold.
fn unit_class(u: &UnitState, now: chrono::DateTime<Utc>) -> &'static str {
    match (u.owner_household_id, u.sold_at) {
        (None, _) => "free",
        (Some(_), Some(t)) if now - t < chrono::Duration::seconds(JUST_TAKEN_SECONDS) => "just",
        _ => "sold",
    }
}

fn grids(units: Vec<UnitState>) -> Vec<BuildingGrid> {
    type Floors = BTreeMap<i64, Vec<(UnitState, &'static str)>>;
    let now = Utc::now();
    // Buildings in natural order ("2" before "10"), floors from the top.
    let mut by_building: BTreeMap<(usize, String), Floors> = BTreeMap::new();
    for u in units {
        let class = unit_class(&u, now);
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
}

/// `GET /projects/{id}/board`: the live board, public (the hall's screen and residents' phones).
pub async fn board(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
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
    let mut c = Chrome::new(&ctx, "selection.board_title");
    c.title = format!("{} · {}", p.project.name, c.title);
    render(&BoardPage {
        c,
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
pub async fn board_events(
    State(state): State<AppState>,
    Ids(id): Ids<i64>,
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
        crate::board::stream(&state.board, state.store.clone(), p.project.id, after)
            .into_response(),
    )
}

#[derive(Template)]
#[template(path = "operator.html")]
struct OperatorPage {
    c: Chrome,
    s: Selection,
    p: ProjectDetail,
    current: Option<(HouseholdSummary, String, i64, u32)>,
    seconds_left: Option<i64>,
    limit: Option<Qty>,
    choice: UnitChoice,
}

/// What a household may choose from: what it owns, its registered layouts, and the units still
/// available that fit its remaining area, of one layout (at most [`UNITS_SHOWN`]).
pub struct UnitChoice {
    owned: Vec<UnitState>,
    owned_area: Qty,
    registered: Vec<String>,
    layout: String,
    layouts: Vec<String>,
    fitting: Vec<UnitState>,
    more: usize,
}

/// Units listed at once; the rest are reached by choosing a layout.
const UNITS_SHOWN: usize = 120;

async fn unit_choice(
    state: &AppState,
    project_id: i64,
    household: Option<(i64, Option<Qty>)>,
    layout: Option<String>,
) -> Result<UnitChoice, AppError> {
    let units = state.store.unit_states(project_id).await?;
    let (owned, registered, limit) = match household {
        Some((h, limit)) => (
            units
                .iter()
                .filter(|u| u.owner_household_id == Some(h))
                .cloned()
                .collect::<Vec<_>>(),
            state
                .store
                .registration(project_id, h)
                .await?
                .map(|r| r.layouts)
                .unwrap_or_default(),
            limit,
        ),
        None => (Vec::new(), Vec::new(), None),
    };
    let owned_area: Qty = owned.iter().map(|u| u.area).sum();
    let layout = layout.unwrap_or_else(|| registered.first().cloned().unwrap_or_default());
    let mut layouts: Vec<String> = units.iter().map(|u| u.layout.clone()).collect();
    layouts.sort();
    layouts.dedup();
    let room = limit.map(|l| l - owned_area);
    let fitting: Vec<UnitState> = units
        .into_iter()
        .filter(|u| u.owner_household_id.is_none() && room.is_none_or(|r| u.area <= r))
        .filter(|u| layout.is_empty() || u.layout == layout)
        .collect();
    let more = fitting.len().saturating_sub(UNITS_SHOWN);
    Ok(UnitChoice {
        owned,
        owned_area,
        registered,
        layout,
        layouts,
        fitting: fitting.into_iter().take(UNITS_SHOWN).collect(),
        more,
    })
}

/// The layout whose units a list shows.
#[derive(Deserialize)]
pub struct LayoutQuery {
    layout: Option<String>,
}

/// `GET /selections/{id}/operator`: the selection-day screen — the household called, its
/// entitlement and registered combination, and only the units that fit.
pub async fn operator(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    Query(q): Query<LayoutQuery>,
) -> Result<Response, AppError> {
    ctx.require(Permission::OperateSelection)?;
    let s = state
        .store
        .selection(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let p = act::project(&state, s.project_id).await?;
    let entry = s.queue.as_ref().and_then(|q| q.current().cloned());
    let (mut current, mut limit, mut seconds_left) = (None, None, None);
    if let Some(e) = &entry {
        let h = state.store.household(e.household_id).await?.summary;
        let head = masked_name(&h.head_name);
        limit = state
            .store
            .selection_household(s.id, e.household_id)
            .await?
            .and_then(|(_, l)| l);
        current = Some((h, head, e.order, e.calls));
        seconds_left = e.seconds_left(s.time_limit_seconds, Utc::now());
    }
    let choice = unit_choice(
        &state,
        p.project.id,
        entry.as_ref().map(|e| (e.household_id, limit)),
        q.layout,
    )
    .await?;
    let mut c = Chrome::new(&ctx, "selection.operator_title");
    c.title = format!("{} · {}", p.project.name, c.title);
    render(&OperatorPage {
        c,
        current,
        seconds_left,
        limit,
        choice,
        s,
        p,
    })
}

/// What the operator does with the queue: `call` or `skip`.
#[derive(Debug, Deserialize)]
pub struct QueueForm {
    #[serde(default)]
    action: String,
}

/// `POST /selections/{id}/queue`: call or skip the household being called.
pub async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<QueueForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::OperateSelection)?.clone();
    let action = match form.action.as_str() {
        "call" => QueueAction::Call,
        "skip" => QueueAction::Skip,
        _ => return Err(AppError::invalid_param("action")),
    };
    state
        .store
        .queue_action(&user.username, id, action)
        .await?
        .map_err(AppError::refused)?;
    if let Some(s) = state.store.selection(id).await? {
        state.board.nudge(s.project_id);
    }
    Ok(Redirect::to(&format!("/selections/{id}/operator")).into_response())
}

/// The units a household chose: one `unit` box ticked per unit (the operator's form also names
/// the household).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ChoiceForm {
    household_id: String,
    unit: Vec<String>,
}

impl ChoiceForm {
    /// The units ticked, each an id.
    fn units(&self) -> Result<Vec<i64>, AppError> {
        self.unit
            .iter()
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| AppError::invalid_param("unit"))
            })
            .collect()
    }
}

/// `POST /selections/{id}/confirm`: the operator confirms the units chosen by the household being
/// called; the slip follows.
pub async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<ChoiceForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::OperateSelection)?.clone();
    let household: i64 = form
        .household_id
        .trim()
        .parse()
        .map_err(|_| AppError::invalid_param("household_id"))?;
    let units = form.units()?;
    let claim = crate::api_selection::claim(&state, &user, id, household, units, true).await?;
    Ok(Redirect::to(&format!("/selections/{id}/claims/{}/slip", claim.id)).into_response())
}

#[derive(Template)]
#[template(path = "slip.html")]
struct SlipPage {
    c: Chrome,
    p: ProjectDetail,
    h: HouseholdSummary,
    head: String,
    claim: Claim,
    at: String,
    entitlement: Option<Entitlement>,
    admin: bool,
    corrected: Option<(String, String)>,
}

/// A selection and one of its claims, or 404 when either is missing or the claim belongs to
/// another selection.
async fn claim_of_selection(
    state: &AppState,
    selection_id: i64,
    claim_id: i64,
) -> Result<(yongxin_store::Selection, yongxin_store::Claim), AppError> {
    let s = state
        .store
        .selection(selection_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let claim = state
        .store
        .claim_record(claim_id)
        .await?
        .filter(|c| c.selection_id == s.id)
        .ok_or_else(AppError::not_found)?;
    Ok((s, claim))
}

/// `GET /selections/{id}/claims/{claim}/slip`: the printable confirmation slip (选房确认书) with
/// the units, the price by band and the net amount, computed as Resettlement I computes it with
/// every unit the household owns. Operators, and the household's members.
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
    let entitlement = slip_entitlement(&state, p.project.id, claim.household_id).await?;
    let mut c = Chrome::new(&ctx, "selection.slip_title");
    c.title = format!("{} · {}", p.project.name, c.title);
    render(&SlipPage {
        c,
        head: masked_name(&h.head_name),
        at: display_local(claim.at),
        h,
        admin: user.role.may(Permission::CorrectClaim),
        corrected: claim
            .corrected
            .as_ref()
            .map(|(at, why)| (display_local(*at), why.clone())),
        claim,
        entitlement,
        p,
    })
}

/// Why a confirmed claim is corrected.
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
    if reason.trim().is_empty() || reason.chars().count() > 500 {
        return Err(AppError::bad_request("更正须写明原因（500 字以内）"));
    }
    // The claim is loaded through its selection before anything is changed: a claim reached
    // through another selection's address is not found, and stays as it is.
    let (s, claim) = claim_of_selection(&state, id, claim_id).await?;
    let claim = state
        .store
        .correct_claim(&user.username, claim.id, &reason)
        .await?
        .ok_or_else(AppError::not_found)?;
    state.sold.forget(s.project_id);
    state.board.nudge(s.project_id);
    Ok(Redirect::to(&format!("/selections/{}/claims/{}/slip", s.id, claim.id)).into_response())
}

/// The entitlement with every unit the household owns, or none without an assessment.
async fn slip_entitlement(
    state: &AppState,
    project_id: i64,
    household_id: i64,
) -> Result<Option<Entitlement>, AppError> {
    let (Some(policy), Some(a)) = (
        act::current_policy(state, project_id).await?,
        state.store.assessment(project_id, household_id).await?,
    ) else {
        return Ok(None);
    };
    let chosen: Vec<ChosenUnit> = state
        .store
        .unit_states(project_id)
        .await?
        .into_iter()
        .filter(|u| u.owner_household_id == Some(household_id))
        .map(|u| ChosenUnit {
            label: format!("{} {}", u.building_name, u.number),
            area: u.area,
        })
        .collect();
    Ok(compute(&policy, &a.inputs, &chosen, None).ok())
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

async fn agreement_rows(state: &AppState, project_id: i64) -> Result<Vec<AgreementRow>, AppError> {
    let households = state.store.all_project_households(project_id).await?;
    let agreements: BTreeMap<i64, yongxin_store::Agreement> = state
        .store
        .agreements(project_id)
        .await?
        .into_iter()
        .map(|a| (a.household_id, a))
        .collect();
    let mut units: BTreeMap<i64, Vec<String>> = BTreeMap::new();
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
pub async fn agreements(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
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
    let mut c = Chrome::new(&ctx, "selection.agreements_title");
    c.title = format!("{} · {}", p.project.name, c.title);
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
pub async fn record(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
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
            &user.username,
            p.project.id,
            household.household.id,
            step,
            on,
        )
        .await?;
    Ok(Redirect::to(&format!("/projects/{}/agreements", p.project.id)).into_response())
}

/// `GET /projects/{id}/agreements.xlsx`: every household with its units, agreement and handover.
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
) -> Result<Response, AppError> {
    ctx.require(Permission::AssessHouseholds)?;
    let p = act::project(&state, id).await?;
    let rows = agreement_rows(&state, p.project.id).await?;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let x = |e: rust_xlsxwriter::XlsxError| AppError::internal(e);
    for (col, title) in [
        "户号",
        "村",
        "户主",
        "安置房",
        "签约日期",
        "搬离日期",
        "交钥匙日期",
    ]
    .iter()
    .enumerate()
    {
        sheet
            .write_string_with_format(0, col as u16, *title, &bold)
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
        sheet.write_string(row, 3, r.units.join("、")).map_err(x)?;
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
    limit: Option<Qty>,
    choice: UnitChoice,
    window: String,
}

/// `GET /selections/{id}/choose`: online selection for a household member — their turn, their
/// limit, what they own, and the units still available that fit, by layout.
pub async fn choose_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    Query(q): Query<LayoutQuery>,
) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    let household_id = user
        .household_id
        .filter(|_| !user.role.is_cadre())
        .ok_or_else(AppError::forbidden)?;
    let s = state
        .store
        .selection(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if s.mode != SelectionMode::Online {
        return Err(AppError::not_found());
    }
    let p = act::project(&state, s.project_id).await?;
    let household = act::household(&state, &user, &p, household_id)
        .await?
        .summary;
    let (order, limit) = state
        .store
        .selection_household(s.id, household_id)
        .await?
        .ok_or_else(|| AppError::from(yongxin_domain::selection::ClaimRefusal::NotListed))?;
    let turn = yongxin_domain::selection::check_turn(
        (s.starts_at, s.ends_at),
        &s.waves,
        order,
        Utc::now(),
    )
    .map_err(|e| e.to_string());
    let choice = unit_choice(&state, p.project.id, Some((household_id, limit)), q.layout).await?;
    let mut c = Chrome::new(&ctx, "selection.choose_title");
    c.title = format!("{} · {}", p.project.name, c.title);
    render(&ChoosePage {
        c,
        window: format!(
            "{} – {}",
            display_local(s.starts_at),
            display_local(s.ends_at)
        ),
        household,
        order,
        turn,
        limit,
        choice,
        s,
        p,
    })
}

/// `POST /selections/{id}/choose`: a household member claims the units ticked; the slip follows,
/// or the page tells why not.
pub async fn choose(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(form): CsrfForm<ChoiceForm>,
) -> Result<Response, AppError> {
    let user = ctx.user()?.clone();
    let household_id = user
        .household_id
        .filter(|_| !user.role.is_cadre())
        .ok_or_else(AppError::forbidden)?;
    let units = form.units()?;
    let claim = crate::api_selection::claim(&state, &user, id, household_id, units, false).await?;
    Ok(Redirect::to(&format!("/selections/{id}/claims/{}/slip", claim.id)).into_response())
}
