//! Accounts managed on the web by administrators: creating one (with an activation slip), changing
//! a role and its scope, resetting a password with a one-time code, residents' accounts made in
//! bulk for a village from the registry (a slip each), handing a grid to another cadre (its open
//! cases and campaign households move too, with the reason recorded) — and `/activate`, where a
//! person sets their own password with the code on their slip.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use rand::RngCore;
use serde::Deserialize;
use yongxin_domain::appeal::{normal_code, one_time_code, AppealAction, AppealStatus};
use yongxin_domain::{NewAuditEntry, Permission, Role};
use yongxin_store::{
    AccountCode, AppealQuery, AppealScope, CampaignHouseholdQuery, HouseholdId, HouseholdQuery,
    NewUser, User,
};

use crate::http::auth::{hash_password, token_hash};
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::extract::{CsrfForm, Ids};
use crate::http::page::{render, Chrome};
use crate::AppState;

/// How long a code on a slip works.
const CODE_DAYS: i64 = 14;
/// The shortest password a person may set.
const MIN_PASSWORD_CHARS: usize = 8;

/// A fresh one-time code and what the store keeps of it.
fn fresh_code(reset: bool) -> (String, AccountCode) {
    let bits = rand::rngs::OsRng.next_u64() & ((1 << 50) - 1);
    let code = one_time_code(bits);
    let kept = AccountCode {
        code_hash: token_hash(&normal_code(&code)),
        reset,
        expires_at: Utc::now() + Duration::days(CODE_DAYS),
    };
    (code, kept)
}

/// One slip (开通单 or 重置单) to print and hand over.
pub struct Slip {
    /// The person's name.
    pub name: String,
    /// Their sign-in name.
    pub username: String,
    /// Where they live or serve.
    pub place: String,
    /// The code.
    pub code: String,
    /// Until when it works.
    pub until: String,
    /// Activation or reset.
    pub reset: bool,
}

#[derive(Template)]
#[template(path = "account_slips.html")]
struct SlipsPage {
    c: Chrome,
    slips: Vec<Slip>,
    url: String,
    skipped: Vec<String>,
}

fn slips_page(
    state: &AppState,
    ctx: &Ctx,
    slips: Vec<Slip>,
    skipped: Vec<String>,
) -> Result<Response, AppError> {
    let base = state.settings.public_url.as_deref().unwrap_or_default();
    render(&SlipsPage {
        c: Chrome::new(ctx, "users.slips_title"),
        slips,
        url: format!("{}/activate", base.trim_end_matches('/')),
        skipped,
    })
}

/// What an administrator types for a new account or a changed role.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AccountForm {
    username: String,
    display_name: String,
    role: String,
    village: String,
    household: String,
}

/// The role and scope a form names, checked: a village for a village officer, a household (by
/// its key) for a resident, nothing else for the others.
async fn role_and_scope(
    state: &AppState,
    f: &AccountForm,
) -> Result<(Role, Option<i64>, Option<HouseholdId>), AppError> {
    let role = Role::parse(f.role.trim()).ok_or_else(|| AppError::invalid_param("role"))?;
    let village = match role {
        Role::VillageOfficer => {
            let id: i64 = f
                .village
                .trim()
                .parse()
                .map_err(|_| AppError::invalid_param("village"))?;
            if !state.store.villages().await?.iter().any(|v| v.id == id) {
                return Err(AppError::invalid_param("village"));
            }
            Some(id)
        }
        _ => None,
    };
    let household = match role {
        Role::Resident => {
            let key = f.household.trim().to_owned();
            Some(
                *state
                    .store
                    .household_ids_by_key(std::slice::from_ref(&key))
                    .await?
                    .get(&key)
                    .ok_or_else(|| AppError::invalid_param("household"))?,
            )
        }
        _ => None,
    };
    Ok((role, village, household))
}

/// `POST /admin/users`: a new account, signed into only after its activation code is used.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<AccountForm>,
) -> Result<Response, AppError> {
    let admin = ctx.require(Permission::ManageUsers)?.clone();
    let c = ctx.lang.catalog();
    let username = f.username.trim().to_owned();
    let name = f.display_name.trim().to_owned();
    let valid_name = (3..=40).contains(&username.chars().count())
        && username
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch));
    if !valid_name {
        return Err(AppError::bad_request(c.t("users.error.username")));
    }
    if name.is_empty() || name.chars().count() > 40 {
        return Err(AppError::bad_request(c.t("users.error.display_name")));
    }
    let (role, village_id, household_id) = role_and_scope(&state, &f).await?;
    if state
        .store
        .users()
        .await?
        .iter()
        .any(|u| u.username == username)
    {
        return Err(AppError::bad_request(c.t("users.error.taken")));
    }
    let (code, kept) = fresh_code(false);
    let until = yongxin_domain::time::display_local(kept.expires_at);
    state
        .store
        .create_accounts(
            &admin.actor(),
            vec![(
                NewUser {
                    username: username.clone(),
                    display_name: name.clone(),
                    role,
                    password_hash: "!".into(),
                    village_id,
                    household_id,
                },
                kept,
            )],
        )
        .await?;
    let slip = Slip {
        name,
        username,
        place: c.t(crate::http::page::role_key(role)).to_owned(),
        code,
        until,
        reset: false,
    };
    slips_page(&state, &ctx, vec![slip], Vec::new())
}

/// `POST /admin/users/{id}/role`: a new role and scope; the account's next request already
/// carries it. Administrators do not change their own.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn set_role(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<AccountForm>,
) -> Result<Response, AppError> {
    let admin = ctx.require(Permission::ManageUsers)?.clone();
    if id == admin.id {
        return Err(AppError::bad_request(
            ctx.lang.catalog().t("users.not_yourself"),
        ));
    }
    let (role, village_id, household_id) = role_and_scope(&state, &f).await?;
    state
        .store
        .set_user_role(&admin.actor(), id, role, village_id, household_id)
        .await?;
    state.forget_accounts();
    Ok(Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{id}/reset`: a reset code on a slip; the old password, sessions and API
/// tokens end at once.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<crate::http::extract::Button>,
) -> Result<Response, AppError> {
    let admin = ctx.require(Permission::ManageUsers)?.clone();
    let user = state
        .store
        .user(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let (code, kept) = fresh_code(true);
    let until = yongxin_domain::time::display_local(kept.expires_at);
    state
        .store
        .issue_account_code(&admin.actor(), id, &kept)
        .await?;
    state.forget_accounts();
    let c = ctx.lang.catalog();
    let slip = Slip {
        name: user.display_name,
        username: user.username,
        place: c.t(crate::http::page::role_key(user.role)).to_owned(),
        code,
        until,
        reset: true,
    };
    slips_page(&state, &ctx, vec![slip], Vec::new())
}

/// The village whose residents get accounts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VillageForm {
    village: String,
}

/// `POST /admin/users/residents`: an account for the head of every household of a village that
/// has none yet (sign-in name: the household's key), all in one write, each with a slip.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn residents(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<VillageForm>,
) -> Result<Response, AppError> {
    let admin = ctx.require(Permission::ManageUsers)?.clone();
    let village: i64 = f
        .village
        .trim()
        .parse()
        .map_err(|_| AppError::invalid_param("village"))?;
    let villages = state.store.villages().await?;
    let v = villages
        .iter()
        .find(|x| x.id == village)
        .ok_or_else(|| AppError::invalid_param("village"))?;
    let users = state.store.users().await?;
    let taken: std::collections::HashSet<&str> =
        users.iter().map(|u| u.username.as_str()).collect();
    let served: std::collections::HashSet<HouseholdId> =
        users.iter().filter_map(|u| u.household_id).collect();
    let mut accounts = Vec::new();
    let mut slips = Vec::new();
    let mut skipped = Vec::new();
    for page in 1.. {
        let found = state
            .store
            .search_households(&HouseholdQuery {
                scope: yongxin_domain::Scope::Subdistrict,
                village_id: Some(village),
                grid_id: None,
                text: None,
                page,
                per_page: 500,
            })
            .await?;
        let done = found.households.len() < 500;
        for h in found.households {
            if served.contains(&h.id) {
                continue;
            }
            if taken.contains(h.key.as_str()) || h.head_name.is_empty() {
                skipped.push(h.key.clone());
                continue;
            }
            let (code, kept) = fresh_code(false);
            slips.push(Slip {
                name: h.head_name.clone(),
                username: h.key.clone(),
                place: format!("{} {}", v.name, h.address),
                code,
                until: yongxin_domain::time::display_local(kept.expires_at),
                reset: false,
            });
            accounts.push((
                NewUser {
                    username: h.key.clone(),
                    display_name: h.head_name.clone(),
                    role: Role::Resident,
                    password_hash: "!".into(),
                    village_id: None,
                    household_id: Some(h.id),
                },
                kept,
            ));
        }
        if done {
            break;
        }
    }
    state
        .store
        .create_accounts(&admin.actor(), accounts)
        .await?;
    slips_page(&state, &ctx, slips, skipped)
}

/// A grid handed to another cadre, and why.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HandoverForm {
    grid: String,
    cadre: String,
    reason: String,
}

/// `POST /admin/grids/handover`: the grid's cadre changes; the open cases of the grid its old
/// cadre handles are transferred (转办) to the new one, and its households still to visit in
/// campaigns go with them; the reason is in each case's history and in the record.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn handover(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<HandoverForm>,
) -> Result<Response, AppError> {
    let admin = ctx.require(Permission::ManageUsers)?.clone();
    let c = ctx.lang.catalog();
    let grid_id: i64 = f
        .grid
        .trim()
        .parse()
        .map_err(|_| AppError::invalid_param("grid"))?;
    let to: i64 = f
        .cadre
        .trim()
        .parse()
        .map_err(|_| AppError::invalid_param("cadre"))?;
    let reason = f.reason.trim().to_owned();
    yongxin_domain::appeal::check_text("reason", &reason, true)
        .map_err(|e| crate::appeals::lifecycle_error(&e, c))?;
    let grid = state
        .store
        .grids(None)
        .await?
        .into_iter()
        .find(|g| g.id == grid_id)
        .ok_or_else(|| AppError::invalid_param("grid"))?;
    let cadre: User = state
        .store
        .user(to)
        .await?
        .filter(|u| {
            !u.disabled
                && u.role.may(Permission::HandleAppeals)
                && u.role.may(Permission::VisitHouseholds)
        })
        .ok_or_else(|| AppError::invalid_param("cadre"))?;
    let actor = admin.actor();
    state
        .store
        .assign_grid_cadre(&actor, grid_id, cadre.id)
        .await?;
    let (mut cases, mut households) = (0u64, 0u64);
    if let Some(from) = grid.cadre_user_id.filter(|f| *f != cadre.id) {
        let q = AppealQuery {
            statuses: vec![
                AppealStatus::Assigned,
                AppealStatus::Contacted,
                AppealStatus::InProgress,
            ],
            ..AppealQuery::within(
                AppealScope::Cadre {
                    grids: Vec::new(),
                    user_id: from,
                },
                10_000,
            )
        };
        for a in state.store.search_appeals(&q).await?.appeals {
            if a.grid_id != Some(grid_id) {
                continue;
            }
            let moved = state
                .store
                .act_on_appeal(
                    &actor,
                    a.id,
                    AppealAction::Transfer {
                        reason: reason.clone(),
                        department: None,
                        cadre: Some(cadre.id),
                    },
                    state.settings.appeal_policy,
                )
                .await?;
            if moved.is_ok() {
                cases += 1;
            }
        }
        let today = yongxin_domain::campaign::local_day(Utc::now());
        for s in state.store.campaigns(None).await? {
            if s.campaign.ends_on < today {
                continue;
            }
            let mut ids = Vec::new();
            for page in 1.. {
                let p = state
                    .store
                    .campaign_households(
                        s.campaign.id,
                        &CampaignHouseholdQuery {
                            cadre_user_id: Some(from),
                            grid_id: Some(grid_id),
                            open: true,
                            page,
                            per_page: 500,
                            ..CampaignHouseholdQuery::default()
                        },
                    )
                    .await?;
                let done = p.rows.len() < 500;
                ids.extend(p.rows.into_iter().map(|h| h.household_id));
                if done {
                    break;
                }
            }
            if !ids.is_empty() {
                households += state
                    .store
                    .assign_campaign_households(&actor, s.campaign.id, &ids, Some(cadre.id))
                    .await?;
            }
        }
    }
    state
        .store
        .record(vec![NewAuditEntry::new(
            actor,
            "grid.handover",
            format!("grid:{grid_id}"),
            format!("{} → {}", grid.cadre_name, cadre.display_name),
            &serde_json::json!({ "from": grid.cadre_user_id, "to": cadre.id, "reason": reason, "cases": cases, "campaign_households": households }),
        )])
        .await?;
    state.nudge_search();
    let message = c.format(
        "users.handover_done",
        &[
            ("grid", grid.name),
            ("cadre", cadre.display_name),
            ("cases", cases.to_string()),
            ("households", households.to_string()),
        ],
    );
    Ok(Redirect::to(&format!(
        "/admin/users?done={}",
        url::form_urlencoded::byte_serialize(message.as_bytes()).collect::<String>()
    ))
    .into_response())
}

#[derive(Template)]
#[template(path = "activate.html")]
struct ActivatePage {
    c: Chrome,
    username: String,
    error: Option<String>,
}

/// `GET /activate`: the form to set one's password with the code on a slip.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn activate_page(ctx: Ctx) -> Result<Response, AppError> {
    render(&ActivatePage {
        c: Chrome::new(&ctx, "activate.title"),
        username: String::new(),
        error: None,
    })
}

/// The activation form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActivateForm {
    username: String,
    code: String,
    password: String,
    confirm: String,
}

/// `POST /activate`: anyone, counted against the sign-in limit of their address; the code is
/// spent, the password set, every old session ends; then the sign-in page.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn activate(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<ActivateForm>,
) -> Result<Response, AppError> {
    let g = &state.guards;
    g.sign_in
        .hit(
            &ctx.client_key().unwrap_or_default(),
            g.limits.sign_in_per_address,
        )
        .map_err(|wait| AppError::rate_limited(crate::http::security::minutes(wait)))?;
    let c = ctx.lang.catalog();
    let refuse = |key: &str| {
        let mut page = render(&ActivatePage {
            c: Chrome::new(&ctx, "activate.title"),
            username: f.username.trim().to_owned(),
            error: Some(c.t(key).to_owned()),
        })?;
        *page.status_mut() = axum::http::StatusCode::BAD_REQUEST;
        Ok::<Response, AppError>(page)
    };
    if f.password.chars().count() < MIN_PASSWORD_CHARS {
        return refuse("activate.error.short");
    }
    if f.password != f.confirm {
        return refuse("activate.error.confirm");
    }
    let hash = hash_password(&f.password).map_err(AppError::internal)?;
    let done = state
        .store
        .redeem_account_code(
            f.username.trim(),
            &token_hash(&normal_code(&f.code)),
            &hash,
            Utc::now(),
        )
        .await?;
    if !done {
        return refuse("activate.error.code");
    }
    state.forget_accounts();
    Ok(Redirect::to("/sign-in?activated=1").into_response())
}
