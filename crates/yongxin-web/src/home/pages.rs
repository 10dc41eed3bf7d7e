//! The home page: a welcome for visitors, a summary of the subdistrict for those signed in.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

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
}

/// `GET /`.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let subdistrict = state.store.subdistrict().await?.unwrap_or_default();
    let (mut villages, mut households, mut residents, mut grids) = (0, 0, 0, 0);
    let mut to_rate = Vec::new();
    if let Some(u) = ctx.user.as_ref().filter(|u| !u.role.is_cadre()) {
        to_rate = crate::appeals::waiting_for_rating(&state, u).await?;
    }
    if ctx.user.as_ref().is_some_and(|u| u.role.is_cadre()) {
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
    })
}
