//! The home page: a welcome for visitors; for a resident, the cases waiting for their rating; for
//! a cadre, their own work first (`work`), then the census of the subdistrict.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use yongxin_domain::Permission;

use super::desk::{desk, has_desk, Desk};
use super::work::{my_work, parse_tab, MyWork};
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::page::{render, Chrome};
use crate::AppState;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    subdistrict: String,
    villages: i64,
    households: i64,
    residents: i64,
    grids: i64,
    /// A resident's answered cases waiting for their rating.
    to_rate: Vec<yongxin_store::Appeal>,
    /// A cadre's own cases and visits.
    work: Option<MyWork>,
    /// What needs a leader, staff or village officer today.
    desk: Option<Desk>,
    /// The legend symbols of the trend's three lines.
    symbols: [&'static str; 3],
}

/// Query of the home page: the work tab to show.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HomeQuery {
    tab: Option<String>,
}

/// `GET /?tab=`.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HomeQuery>,
) -> Result<Response, AppError> {
    let subdistrict = state.store.subdistrict().await?.unwrap_or_default();
    let (mut villages, mut households, mut residents, mut grids) = (0, 0, 0, 0);
    let mut to_rate = Vec::new();
    let mut work = None;
    let mut the_desk = None;
    if let Some(u) = ctx.user.as_ref().filter(|u| !u.role.is_cadre()) {
        to_rate = crate::appeals::waiting_for_rating(&state, u).await?;
    }
    if let Some(u) = ctx.user.as_ref().filter(|u| u.role.is_cadre()) {
        let c = ctx.lang.catalog();
        if u.role.may(Permission::HandleAppeals)
            || u.role.may(Permission::RecordRatingCall)
            || u.role.may(Permission::VisitHouseholds)
        {
            let tab = parse_tab(q.tab.as_deref());
            let mine = my_work(&state, c, u, chrono::Utc::now(), tab).await?;
            // Who handles no cases sees the list only when there is something on it (calls to
            // make, doors to knock on).
            let something = mine.tabs.iter().any(|t| t.count > 0) || !mine.visits.is_empty();
            if u.role.may(Permission::HandleAppeals) || something {
                work = Some(mine);
            }
        }
        if has_desk(u) {
            the_desk = Some(desk(&state, c, u, chrono::Utc::now()).await?);
        }
        for v in state.store.villages().await? {
            villages += 1;
            households += v.household_count;
            residents += v.resident_count;
            grids += v.grid_count;
        }
    }
    render(&HomePage {
        c: Chrome::new(&ctx, "home.title"),
        subdistrict,
        villages,
        households,
        residents,
        grids,
        to_rate,
        work,
        desk: the_desk,
        symbols: [0, 1, 2].map(crate::http::chart::legend_symbol),
    })
}
