//! Accounts: signing in and out, the language switch, users and their API tokens, and the keys
//! of Open311 clients.

use crate::http::extract::Button;
use crate::http::extract::CsrfForm;
use askama::Template;
use axum::extract::Query;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::HeaderValue;
use axum::response::IntoResponse;
use axum::response::Redirect;
use axum::response::Response;
use chrono::Duration;
use chrono::Utc;
use serde::Deserialize;
use yongxin_domain::NewAuditEntry;

use crate::http::auth::random_token;
use crate::http::auth::token_hash;
use crate::http::auth::LOCKOUT_MINUTES;
use crate::http::auth::MAX_FAILED_SIGN_INS;
use crate::http::context::cookie_value;
use crate::http::context::Ctx;
use crate::http::context::LANG_COOKIE;
use crate::http::context::SESSION_COOKIE;
use crate::http::error::AppError;
use crate::http::extract::Ids;
use crate::http::i18n::Lang;
use crate::http::page::render;
use crate::http::page::Chrome;
use crate::AppState;
use yongxin_domain::Permission;
use yongxin_domain::Role;
use yongxin_store::User;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    c: Chrome,
    next: String,
    username: String,
    error: Option<String>,
    activated: bool,
}

/// Where to go after signing in or switching the language: only a path of this site. Anything
/// a browser could read as another origin falls back to `/`: a scheme or host, `//`, a
/// backslash (browsers treat it as a slash), and any control character or space (browsers drop
/// tabs and line breaks from URLs, so `/\t/evil.example` would become `//evil.example`).
pub fn safe_next(next: Option<&str>) -> String {
    let Some(n) = next else {
        return "/".to_owned();
    };
    let plain = n.starts_with('/')
        && !n.starts_with("//")
        && !n
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace());
    // And the URL parser, resolving it against a placeholder origin, must keep that origin.
    let same_origin = plain
        && url::Url::parse("http://yongxin.invalid/")
            .and_then(|base| base.join(n))
            .is_ok_and(|u| u.host_str() == Some("yongxin.invalid") && u.scheme() == "http");
    if same_origin {
        n.to_owned()
    } else {
        "/".to_owned()
    }
}

/// Query of the sign-in page.
#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    /// Set after a code was used at `/activate`.
    activated: Option<String>,
}

/// `GET /sign-in`.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn sign_in_page(ctx: Ctx, Query(q): Query<NextQuery>) -> Result<Response, AppError> {
    render(&SignInPage {
        c: Chrome::new(&ctx, "sign_in.title"),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        error: None,
        activated: q.activated.is_some(),
    })
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
    next: Option<String>,
}

/// `POST /sign-in`: checks the password, with a wait after repeated failures of one account
/// from one address.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn sign_in(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<SignInForm>,
) -> Result<Response, AppError> {
    let username = form.username.trim().to_owned();
    let address = ctx.peer.map(|ip| ip.to_string()).unwrap_or_default();
    let guards = &state.guards;
    guards
        .sign_in
        .hit(
            &ctx.client_key().unwrap_or_default(),
            guards.limits.sign_in_per_address,
        )
        .map_err(|wait| AppError::rate_limited(crate::http::security::minutes(wait)))?;
    let now = Utc::now();
    // Every attempt is recorded as a failure before the password is checked, and counted after
    // it is recorded, so guesses sent at once cannot all slip under the limit; a right password
    // clears them.
    state
        .store
        .record_sign_in_failure(&username, &address, now)
        .await?;
    let failures = state
        .store
        .sign_in_failures(
            &username,
            &address,
            now - Duration::minutes(LOCKOUT_MINUTES),
        )
        .await?;
    if failures.count > MAX_FAILED_SIGN_INS {
        let wait = failures.last_at.map_or(LOCKOUT_MINUTES, |last| {
            ((last + Duration::minutes(LOCKOUT_MINUTES) - now).num_seconds() + 59) / 60
        });
        return Err(AppError::too_many_attempts(wait.max(1)));
    }
    let credentials = state.store.user_credentials(&username).await?;
    let password = form.password;
    // An unknown user is checked against a dummy hash so that timing does not reveal which names
    // exist.
    let (user, hash) = match credentials {
        Some((u, h)) => (Some(u), h),
        None => (None, DUMMY_HASH.to_owned()),
    };
    let ok = crate::http::auth::check_password(&state, password, hash).await?;
    let Some(user) = user.filter(|_| ok) else {
        let mut res = render(&SignInPage {
            c: Chrome::new(&ctx, "sign_in.title"),
            next: safe_next(form.next.as_deref()),
            username,
            error: Some(ctx.lang.catalog().t("sign_in.failed").to_owned()),
            activated: false,
        })?;
        *res.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
        return Ok(res);
    };
    state
        .store
        .clear_sign_in_failures(&username, &address)
        .await?;
    let token = random_token();
    let hours = state.settings.session_hours;
    state
        .store
        .create_session(&token_hash(&token), user.id, now + Duration::hours(hours))
        .await?;
    state
        .store
        .record(vec![NewAuditEntry::new(
            &user.username,
            "user.sign_in",
            format!("user:{}", user.id),
            address.clone(),
            &serde_json::json!({ "address": address }),
        )])
        .await?;
    let mut res = Redirect::to(&safe_next(form.next.as_deref())).into_response();
    let cookie = ctx.cookie(SESSION_COOKIE, &token, hours * 3600);
    res.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(AppError::internal)?,
    );
    Ok(res)
}

// Argon2id of a random password nobody knows; verifying against it costs what a real check does.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$3J8cBbUyR3Gxu5x5YO0Rpg$0j8Y7hJ3lqUo8xM6YyLZ0pZ1t3lY2sN0m0gD0hS3m4Q";

/// `POST /sign-out`.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn sign_out(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    CsrfForm(_): CsrfForm<Button>,
) -> Result<Response, AppError> {
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
        state.end_session(&token_hash(token)).await?;
    }
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_str(&ctx.cookie(SESSION_COOKIE, "", 0)).map_err(AppError::internal)?,
    );
    Ok(res)
}

/// Query of the language switch.
#[derive(Deserialize)]
pub struct LangQuery {
    set: String,
    next: Option<String>,
}

/// `GET /lang?set=en&next=/households`: remembers the language in a cookie and goes back.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn switch_language(ctx: Ctx, Query(q): Query<LangQuery>) -> Result<Response, AppError> {
    let lang = Lang::parse(&q.set).ok_or_else(|| AppError::invalid_param("set"))?;
    let mut res = Redirect::to(&safe_next(q.next.as_deref())).into_response();
    let cookie = ctx.cookie(LANG_COOKIE, lang.tag(), 60 * 60 * 24 * 365);
    res.headers_mut().append(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(AppError::internal)?,
    );
    Ok(res)
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    c: Chrome,
    /// Each user with how many of their API tokens still work.
    users: Vec<(User, i64)>,
    /// The administrator viewing it, who cannot disable their own account.
    me: i64,
    error: Option<String>,
    /// What the last change did (a grid handed over).
    done: Option<String>,
    /// Roles: code and name.
    roles: Vec<(&'static str, String)>,
    /// Villages: id and name.
    villages: Vec<(i64, String)>,
    /// Grids: id, name (with village) and current cadre.
    grids: Vec<(i64, String, String)>,
    /// Cadres a grid can go to: id and name.
    grid_cadres: Vec<(i64, String)>,
}

#[tracing::instrument(skip_all, err(level = "debug"))]
async fn users_page(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
) -> Result<Response, AppError> {
    users_page_with(state, ctx, error, None).await
}

async fn users_page_with(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
    done: Option<String>,
) -> Result<Response, AppError> {
    let live = state
        .store
        .live_api_token_counts(chrono::Utc::now())
        .await?;
    let users: Vec<(User, i64)> = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| {
            let tokens = live.get(&u.id).copied().unwrap_or(0);
            let u = User {
                email: u.email.as_deref().map(yongxin_domain::email::mask_email),
                ..u
            };
            (u, tokens)
        })
        .collect();
    let c = Chrome::new(ctx, "users.title");
    let roles = Role::ALL
        .into_iter()
        .map(|r| (r.code(), c.role_name(&r).to_owned()))
        .collect();
    let villages = state
        .store
        .villages()
        .await?
        .into_iter()
        .map(|v| (v.id, v.name))
        .collect();
    let grids = state
        .store
        .grids(None)
        .await?
        .into_iter()
        .map(|g| (g.id, format!("{} {}", g.village_name, g.name), g.cadre_name))
        .collect();
    let grid_cadres = users
        .iter()
        .filter(|(u, _): &&(User, i64)| {
            !u.disabled
                && u.role.may(Permission::HandleAppeals)
                && u.role.may(Permission::VisitHouseholds)
        })
        .map(|(u, _)| (u.id, u.display_name.clone()))
        .collect();
    let page = render(&UsersPage {
        c,
        me: ctx.user()?.id,
        users,
        error: error.clone(),
        done,
        roles,
        villages,
        grids,
        grid_cadres,
    })?;
    Ok(match error {
        Some(_) => (axum::http::StatusCode::BAD_REQUEST, page).into_response(),
        None => page,
    })
}

/// `GET /admin/users`: admins; e-mail addresses are shown masked.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn users(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    ctx.require(Permission::ManageUsers)?;
    users_page_with(&state, &ctx, None, q.done).await
}

/// What the last change did, said once on the page it returns to.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneQuery {
    done: Option<String>,
}

/// The address a user's notifications go to; empty clears it.
#[derive(Deserialize)]
pub struct EmailForm {
    email: String,
}

/// `POST /admin/users/{id}/email`: admins.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn set_email(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<EmailForm>,
) -> Result<Response, AppError> {
    let admin = ctx.require(Permission::ManageUsers)?.clone();
    let email = match f.email.trim() {
        "" => None,
        e => match yongxin_domain::Email::parse(e) {
            Ok(e) => Some(e),
            Err(_) => {
                let message = ctx.lang.catalog().t("appeal.error.email").to_owned();
                return users_page(&state, &ctx, Some(message)).await;
            }
        },
    };
    state
        .store
        .set_user_email(&admin.actor(), id, email.as_ref().map(|e| e.as_str()))
        .await?;
    state.forget_accounts();
    Ok(axum::response::Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{id}/tokens/revoke`: admins; every live API token of the user ends, on
/// this node at once (other nodes within the token cache's seconds).
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn revoke_tokens(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<Button>,
) -> Result<Response, AppError> {
    let admin = ctx.require(Permission::RevokeApiTokens)?.clone();
    state.store.revoke_api_tokens(&admin.actor(), id).await?;
    state.forget_accounts();
    Ok(axum::response::Redirect::to("/admin/users").into_response())
}

/// Disabling or enabling an account.
#[derive(Deserialize)]
pub struct DisableForm {
    /// `1` disables, `0` enables.
    disabled: String,
}

/// `POST /admin/users/{id}/disabled`: admins; a disabled account's sessions end and its tokens
/// are revoked. Administrators cannot disable themselves (someone must be able to undo it).
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn set_disabled(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(f): CsrfForm<DisableForm>,
) -> Result<Response, AppError> {
    let admin = ctx.require(Permission::ManageUsers)?.clone();
    let disabled = match f.disabled.as_str() {
        "1" => true,
        "0" => false,
        _ => return Err(AppError::invalid_param("disabled")),
    };
    if disabled && id == admin.id {
        let message = ctx.lang.catalog().t("users.not_yourself").to_owned();
        return users_page(&state, &ctx, Some(message)).await;
    }
    state
        .store
        .set_user_disabled(&admin.actor(), id, disabled)
        .await?;
    state.forget_accounts();
    Ok(axum::response::Redirect::to("/admin/users").into_response())
}

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

#[tracing::instrument(skip_all, err(level = "debug"))]
async fn open311_keys_page(
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
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn open311_keys(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    ctx.require(Permission::ManageOpen311Keys)?;
    open311_keys_page(&state, &ctx, None, None).await
}

/// The new client's name.
#[derive(Deserialize)]
pub struct AddKeyForm {
    name: String,
}

/// `POST /admin/open311`: admins; the new key is shown once, only its hash is kept.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn add_open311_key(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<AddKeyForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ManageOpen311Keys)?.clone();
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        let message = ctx.lang.catalog().t("open311.name_required").to_owned();
        return open311_keys_page(&state, &ctx, None, Some(message)).await;
    }
    let key = crate::http::auth::random_token();
    state
        .store
        .create_open311_key(&user.actor(), name, &crate::http::auth::token_hash(&key))
        .await?;
    open311_keys_page(&state, &ctx, Some(key), None).await
}

/// `POST /admin/open311/{id}/revoke`: admins.
#[tracing::instrument(skip_all, fields(id), err(level = "debug"))]
pub async fn revoke_open311_key(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<Button>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ManageOpen311Keys)?.clone();
    state.store.revoke_open311_key(&user.actor(), id).await?;
    Ok(Redirect::to("/admin/open311").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/households?page=2")), "/households?page=2");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
        for bad in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "\\\\evil.example",
            "/\\evil.example",
            "http:evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(Some("/notices/3#top")), "/notices/3#top");
    }

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!crate::http::auth::verify_password("", DUMMY_HASH));
    }
}
