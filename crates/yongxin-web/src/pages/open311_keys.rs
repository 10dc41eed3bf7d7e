//! `/admin/open311`: issuing and revoking the API keys of Open311 clients.

use crate::http::extract::{Button, CsrfForm, Ids};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use yongxin_domain::Permission;

use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::page::{render, Chrome};
use crate::AppState;

/// A key as listed.
struct KeyRow {
    id: i64,
    name: String,
    created_by: String,
    created_at: String,
    revoked_at: Option<String>,
}

#[derive(Template)]
#[template(path = "open311_keys.html")]
struct KeysPage {
    c: Chrome,
    keys: Vec<KeyRow>,
    new_key: Option<String>,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    new_key: Option<String>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let show = yongxin_domain::time::display_local;
    let keys = state
        .store
        .open311_keys()
        .await?
        .into_iter()
        .map(|k| KeyRow {
            id: k.id,
            name: k.name,
            created_by: k.created_by,
            created_at: show(k.created_at),
            revoked_at: k.revoked_at.map(show),
        })
        .collect();
    render(&KeysPage {
        c: Chrome::new(ctx, "open311.title"),
        keys,
        new_key,
        error,
    })
}

/// `GET /admin/open311`: admins.
pub async fn show(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    ctx.require(Permission::ManageOpen311Keys)?;
    page(&state, &ctx, None, None).await
}

/// The new client's name.
#[derive(Deserialize)]
pub struct AddForm {
    name: String,
}

/// `POST /admin/open311`: admins; the new key is shown once, only its hash is kept.
pub async fn add(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<AddForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ManageOpen311Keys)?.clone();
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        let message = ctx.lang.catalog().t("open311.name_required").to_owned();
        return page(&state, &ctx, None, Some(message)).await;
    }
    let key = crate::http::auth::random_token();
    state
        .store
        .create_open311_key(&user.actor(), name, &crate::http::auth::token_hash(&key))
        .await?;
    page(&state, &ctx, Some(key), None).await
}

/// `POST /admin/open311/{id}/revoke`: admins.
pub async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<Button>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ManageOpen311Keys)?.clone();
    state.store.revoke_open311_key(&user.actor(), id).await?;
    Ok(Redirect::to("/admin/open311").into_response())
}
