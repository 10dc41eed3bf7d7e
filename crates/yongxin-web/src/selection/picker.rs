//! The apartment picker (选房表) the operator's screen and a household's online choosing share:
//! every building drawn as a floor plan (floors from the top, as on the board), filtered by
//! building, floor and layout and paged by building, with the units already ticked carried
//! through every filter and page until they are confirmed together. Without JavaScript the
//! filters and pages are buttons of the same form, so a change of view never loses a tick.

use std::collections::{BTreeMap, BTreeSet};
use yongxin_store::{HouseholdId, ProjectId};

use serde::Deserialize;
use yongxin_domain::money::Qty;
use yongxin_domain::selection::still_to_choose;
use yongxin_store::UnitState;

use crate::http::error::AppError;
use crate::AppState;

/// The most ticks a picker form carries: far more than any household chooses (a claim takes at
/// most eight), few enough that reading them costs nothing.
pub const MAX_TICKS: usize = 64;

/// Buildings on one page when no building is chosen: two floor plans fit a phone's scroll and
/// an office screen side by side.
pub const BUILDINGS_PER_PAGE: usize = 2;

/// What a picker form sends, and its page's query string: the view (building, floor, layout,
/// page) and the units ticked. The operator's form also names the household.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PickForm {
    /// Selection day: the household at the desk.
    pub household_id: String,
    /// `filter` (show another view, keeping the ticks), `review` (online: check before the final
    /// step) or `confirm`; none: confirm (as before the review step existed).
    pub intent: String,
    /// A page button: show that page, keeping the ticks.
    pub to_page: String,
    /// Building code, or empty for all.
    pub building: String,
    /// Floor, or empty for all.
    pub floor: String,
    /// Layout code, or empty for all.
    pub layout: String,
    /// Page of buildings, from 1.
    pub page: String,
    /// Units ticked, by id.
    pub unit: Vec<String>,
}

/// What the form asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// Another view of the picker.
    Filter,
    /// Online: the review before the final step.
    Review,
    /// Confirm the units ticked.
    Confirm,
}

impl PickForm {
    /// What the form asks for; a page button is a change of view.
    pub fn intent(&self) -> Result<Intent, AppError> {
        if !self.to_page.trim().is_empty() {
            return Ok(Intent::Filter);
        }
        match self.intent.as_str() {
            "filter" => Ok(Intent::Filter),
            "review" => Ok(Intent::Review),
            "confirm" | "" => Ok(Intent::Confirm),
            _ => Err(AppError::invalid_param("intent")),
        }
    }

    /// The units ticked, each an id, in the order ticked, each once; more than [`MAX_TICKS`]
    /// is refused before anything is read (a form of thousands of ticks is not a household's).
    pub fn units(&self) -> Result<Vec<i64>, AppError> {
        if self.unit.len() > MAX_TICKS {
            return Err(AppError::invalid_param("unit"));
        }
        let mut seen = std::collections::HashSet::new();
        let mut ids = Vec::new();
        for v in &self.unit {
            let id: i64 = v
                .trim()
                .parse()
                .map_err(|_| AppError::invalid_param("unit"))?;
            if seen.insert(id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// The view asked for.
    fn filter(&self) -> Filter {
        let page = if self.to_page.trim().is_empty() {
            &self.page
        } else {
            &self.to_page
        };
        Filter {
            building: self.building.trim().to_owned(),
            floor: self.floor.trim().parse().ok(),
            layout: self.layout.trim().to_owned(),
            page: page.trim().parse().unwrap_or(1).max(1),
        }
    }

    /// The query string of the same view with the same ticks (for the redirect after a filter
    /// button).
    pub fn query(&self) -> Result<String, AppError> {
        let f = self.filter();
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("building", &f.building), ("layout", &f.layout)] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        if let Some(floor) = f.floor {
            q.append_pair("floor", &floor.to_string());
        }
        if f.page > 1 {
            q.append_pair("page", &f.page.to_string());
        }
        for id in self.units()? {
            q.append_pair("unit", &id.to_string());
        }
        Ok(q.finish())
    }
}

/// The view shown.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Building code, or empty for all.
    pub building: String,
    /// Floor, or none for all.
    pub floor: Option<i64>,
    /// Layout code, or empty for all.
    pub layout: String,
    /// Page of buildings, from 1.
    pub page: usize,
}

impl Filter {
    /// Whether the view is of this floor.
    pub fn is_floor(&self, floor: &i64) -> bool {
        self.floor == Some(*floor)
    }
}

/// How a unit shows in the picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellState {
    /// Available and within the area left: a box to tick.
    Free,
    /// Ticked.
    Picked,
    /// Already the household's.
    Own,
    /// Sold to another household.
    Sold,
    /// Available but larger than the area left.
    TooLarge,
    /// Available, of another layout than the filter's.
    Other,
}

/// One unit in a floor plan.
pub struct Cell {
    /// The unit.
    pub unit: UnitState,
    /// How it shows.
    pub state: CellState,
}

impl Cell {
    /// Whether it is a box to tick.
    pub fn pickable(&self) -> bool {
        matches!(self.state, CellState::Free | CellState::Picked)
    }

    /// Whether it is ticked.
    pub fn is_picked(&self) -> bool {
        self.state == CellState::Picked
    }

    /// Its class in the page.
    pub fn class(&self) -> &'static str {
        match self.state {
            CellState::Free => "free",
            CellState::Picked => "free picked",
            CellState::Own => "own",
            CellState::Sold => "sold",
            CellState::TooLarge => "too-large",
            CellState::Other => "other",
        }
    }
}

/// A building's floor plan.
pub struct PickGrid {
    /// Building name.
    pub name: String,
    /// Floors from the top, units by position.
    pub floors: Vec<(i64, Vec<Cell>)>,
}

/// Everything a picker shows.
pub struct Picker {
    /// The view.
    pub filter: Filter,
    /// Every building, code and name, in natural order.
    pub buildings: Vec<(String, String)>,
    /// Every floor.
    pub floors: Vec<i64>,
    /// Every layout.
    pub layouts: Vec<String>,
    /// The floor plans of this view.
    pub grids: Vec<PickGrid>,
    /// Pages of buildings.
    pub pages: usize,
    /// Units ticked that this view does not show (kept in the form as ticked boxes).
    pub picked_elsewhere: Vec<UnitState>,
    /// Every unit ticked that is still available.
    pub picked: Vec<UnitState>,
    /// Units ticked that someone else has chosen since (named so the household knows).
    pub gone: Vec<String>,
    /// Their area.
    pub picked_area: Qty,
    /// What the household owns already.
    pub owned: Vec<UnitState>,
    /// Its area.
    pub owned_area: Qty,
    /// The registered combination.
    pub registered: Vec<String>,
    /// Layouts of the combination still to choose, counting the units ticked.
    pub still: Vec<String>,
    /// The most area the household may own.
    pub limit: Option<Qty>,
    /// The area left under the limit after what is owned and ticked.
    pub room: Option<Qty>,
}

impl Picker {
    /// Every page number, for the pager.
    pub fn page_numbers(&self) -> std::ops::RangeInclusive<usize> {
        1..=self.pages
    }

    /// Whether the ticked units can go on (something ticked, within the limit).
    pub fn fits(&self) -> bool {
        !self.picked.is_empty() && self.room.is_none_or(|r| r >= Qty::ZERO)
    }
}

/// The picker for a household (its limit) in a project, showing `form`'s view.
pub async fn picker(
    state: &AppState,
    project_id: ProjectId,
    household: Option<(HouseholdId, Option<Qty>)>,
    form: &PickForm,
) -> Result<Picker, AppError> {
    let units = state.store.unit_states(project_id).await?;
    let registered = match household {
        Some((h, _)) => state
            .store
            .registration(project_id, h)
            .await?
            .map(|r| r.layouts)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    Ok(arrange(units, household, registered, form))
}

/// Lays the units out for the view: pure, so the page's rules are tested without a server.
pub fn arrange(
    units: Vec<UnitState>,
    household: Option<(HouseholdId, Option<Qty>)>,
    registered: Vec<String>,
    form: &PickForm,
) -> Picker {
    let mut filter = form.filter();
    let household_id = household.map(|(h, _)| h);
    let limit = household.and_then(|(_, l)| l);
    // Ids that do not read are left out here; the confirmation names them.
    let asked: Vec<i64> = form
        .unit
        .iter()
        .take(MAX_TICKS)
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let owned: Vec<UnitState> = units
        .iter()
        .filter(|u| household_id.is_some() && u.owner_household_id == household_id)
        .cloned()
        .collect();
    let owned_area: Qty = owned.iter().map(|u| u.area).sum();
    let mut picked = Vec::new();
    let mut gone = Vec::new();
    for id in &asked {
        match units.iter().find(|u| u.id == *id) {
            Some(u)
                if u.owner_household_id.is_none()
                    && !picked.iter().any(|p: &UnitState| p.id == u.id) =>
            {
                picked.push(u.clone());
            }
            Some(u) if u.owner_household_id.is_some() && u.owner_household_id != household_id => {
                gone.push(format!("{} {}", u.building_name, u.number));
            }
            _ => {}
        }
    }
    let picked_area: Qty = picked.iter().map(|u| u.area).sum();
    let room = limit.map(|l| l - owned_area - picked_area);
    let still = still_to_choose(
        &registered,
        owned.iter().chain(picked.iter()).map(|u| u.layout.as_str()),
    )
    .into_iter()
    .map(str::to_owned)
    .collect();

    let key = |u: &UnitState| (u.building.len(), u.building.clone());
    let mut names: BTreeMap<(usize, String), String> = BTreeMap::new();
    let mut floors = BTreeSet::new();
    let mut layouts = BTreeSet::new();
    for u in &units {
        names
            .entry(key(u))
            .or_insert_with(|| u.building_name.clone());
        floors.insert(u.floor);
        layouts.insert(u.layout.clone());
    }
    let buildings: Vec<(String, String)> = names
        .iter()
        .map(|((_, code), name)| (code.clone(), name.clone()))
        .collect();
    if !buildings.iter().any(|(c, _)| *c == filter.building) {
        filter.building.clear();
    }
    if !layouts.contains(&filter.layout) {
        filter.layout.clear();
    }
    // Only buildings with a unit of the layout and floor asked for are paged through, so a
    // layout found in buildings 10–12 only is on the first page.
    let matches = |u: &UnitState| {
        (filter.layout.is_empty() || u.layout == filter.layout)
            && filter.floor.is_none_or(|f| f == u.floor)
    };
    let shown: Vec<String> = buildings
        .iter()
        .map(|(c, _)| c)
        .filter(|c| filter.building.is_empty() || **c == filter.building)
        .filter(|c| units.iter().any(|u| u.building == **c && matches(u)))
        .cloned()
        .collect();
    let pages = shown.len().div_ceil(BUILDINGS_PER_PAGE).max(1);
    filter.page = filter.page.min(pages);
    let on_page: Vec<&String> = shown
        .iter()
        .skip((filter.page - 1) * BUILDINGS_PER_PAGE)
        .take(BUILDINGS_PER_PAGE)
        .collect();

    let cell_state = |u: &UnitState| -> CellState {
        if picked.iter().any(|p| p.id == u.id) {
            CellState::Picked
        } else if u.owner_household_id.is_some() && u.owner_household_id == household_id {
            CellState::Own
        } else if u.owner_household_id.is_some() {
            CellState::Sold
        } else if !filter.layout.is_empty() && u.layout != filter.layout {
            CellState::Other
        } else if room.is_some_and(|r| u.area > r) {
            CellState::TooLarge
        } else {
            CellState::Free
        }
    };
    let mut grids: BTreeMap<(usize, String), BTreeMap<i64, Vec<Cell>>> = BTreeMap::new();
    let mut visible = BTreeSet::new();
    for u in &units {
        if !on_page.contains(&&u.building) || filter.floor.is_some_and(|f| f != u.floor) {
            continue;
        }
        let state = cell_state(u);
        if matches!(state, CellState::Free | CellState::Picked) {
            visible.insert(u.id);
        }
        grids
            .entry(key(u))
            .or_default()
            .entry(u.floor)
            .or_default()
            .push(Cell {
                unit: u.clone(),
                state,
            });
    }
    let grids = grids
        .into_iter()
        .map(|(k, floors)| PickGrid {
            name: names.get(&k).cloned().unwrap_or_default(),
            floors: floors.into_iter().rev().collect(),
        })
        .collect();
    Picker {
        picked_elsewhere: picked
            .iter()
            .filter(|u| !visible.contains(&u.id))
            .cloned()
            .collect(),
        filter,
        buildings,
        floors: floors.into_iter().collect(),
        layouts: layouts.into_iter().collect(),
        grids,
        pages,
        picked,
        gone,
        picked_area,
        owned,
        owned_area,
        registered,
        still,
        limit,
        room,
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;

    fn unit(id: i64, building: &str, floor: i64, layout: &str, area: i64) -> UnitState {
        UnitState {
            id,
            building: building.into(),
            building_name: format!("{building}号楼"),
            number: format!("{floor}0{id}"),
            floor,
            layout: layout.into(),
            area: Qty::whole(area),
            owner_household_id: None,
            sold_at: None,
        }
    }

    fn units() -> Vec<UnitState> {
        let mut v = Vec::new();
        let mut id = 0;
        for b in ["1", "2", "10", "11", "12"] {
            for floor in 1..=3 {
                for (layout, area) in [("C", 90), ("E", 150)] {
                    id += 1;
                    v.push(unit(id, b, floor, layout, area));
                }
            }
        }
        v
    }

    fn form(pairs: &[(&str, &str)]) -> PickForm {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        serde_html_form::from_str(&body).unwrap()
    }

    #[test]
    fn every_building_is_reached_by_page_or_filter() {
        let all = arrange(units(), None, vec![], &form(&[]));
        assert_eq!(all.pages, 3);
        assert_eq!(
            all.buildings
                .iter()
                .map(|(c, _)| c.as_str())
                .collect::<Vec<_>>(),
            ["1", "2", "10", "11", "12"],
            "natural order"
        );
        let last = arrange(units(), None, vec![], &form(&[("to_page", "3")]));
        assert_eq!(last.grids.len(), 1);
        assert_eq!(last.grids[0].name, "12号楼");
        // A layout found only in the last buildings is on the first page.
        let mut us = units();
        for u in us
            .iter_mut()
            .filter(|u| u.building.len() == 2 && u.layout == "E")
        {
            u.layout = "F".into();
        }
        let f = arrange(us, None, vec![], &form(&[("layout", "F")]));
        assert_eq!(
            (f.pages, f.grids[0].name.as_str()),
            (2, "10号楼"),
            "buildings without the layout are not paged through"
        );
        let ten = arrange(
            units(),
            None,
            vec![],
            &form(&[("building", "10"), ("floor", "2")]),
        );
        assert_eq!(ten.grids.len(), 1);
        assert_eq!(ten.grids[0].floors.len(), 1);
        assert_eq!(ten.grids[0].floors[0].1.len(), 2);
    }

    #[test]
    fn ticks_are_kept_across_views_and_count_against_the_combination() {
        let h = Some((HouseholdId(7), Some(Qty::whole(250))));
        let reg = vec!["C".to_string(), "E".to_string()];
        // C ticked in building 1, then the view moves to building 12's E units.
        let p = arrange(
            units(),
            h,
            reg.clone(),
            &form(&[("unit", "1"), ("building", "12"), ("layout", "E")]),
        );
        assert_eq!(p.picked.len(), 1);
        assert_eq!(p.picked_elsewhere.len(), 1, "kept as a ticked box");
        assert_eq!(p.still, vec!["E"]);
        assert_eq!(p.room, Some(Qty::whole(160)));
        let cells: Vec<&Cell> = p.grids[0].floors.iter().flat_map(|f| &f.1).collect();
        assert!(cells
            .iter()
            .all(|c| c.unit.layout == "E" && c.state == CellState::Free
                || c.unit.layout == "C" && c.state == CellState::Other));
        // Both ticked: nothing left to choose, and a third unit no longer fits.
        let both = arrange(units(), h, reg, &form(&[("unit", "1"), ("unit", "30")]));
        assert!(both.still.is_empty());
        assert_eq!(both.room, Some(Qty::whole(10)));
        assert!(both.fits());
        assert!(both.grids[0]
            .floors
            .iter()
            .flat_map(|f| &f.1)
            .filter(|c| c.state != CellState::Picked)
            .all(|c| c.state == CellState::TooLarge));
    }

    #[test]
    fn a_tick_sold_meanwhile_is_named_and_the_query_keeps_the_view() {
        let mut us = units();
        us[0].owner_household_id = Some(HouseholdId(99));
        let p = arrange(
            us,
            Some((HouseholdId(7), None)),
            vec![],
            &form(&[("unit", "1"), ("unit", "2")]),
        );
        assert_eq!(p.gone, vec!["1号楼 101"]);
        assert_eq!(p.picked.len(), 1);
        let f = form(&[
            ("building", "10"),
            ("layout", "E"),
            ("to_page", "1"),
            ("unit", "4"),
            ("unit", "4"),
            ("unit", "9"),
        ]);
        assert_eq!(f.intent().unwrap(), Intent::Filter);
        assert_eq!(f.query().unwrap(), "building=10&layout=E&unit=4&unit=9");
        assert!(form(&[("unit", "x")]).units().is_err());
        assert!(form(&[("intent", "sell")]).intent().is_err());
        assert_eq!(form(&[]).intent().unwrap(), Intent::Confirm);
    }
}
