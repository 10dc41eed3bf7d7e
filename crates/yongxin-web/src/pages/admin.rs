//! Administration: users, the audit record, roster import and export.

use crate::http::extract::{Button, CsrfForm, Ids};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use yongxin_domain::roster::{validate, Column};
use yongxin_domain::Actor;
use yongxin_domain::Permission;
use yongxin_domain::{AuditEntry, NewAuditEntry};
use yongxin_store::{HouseholdQuery, ImportSummary, User};

use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::page::{render, Chrome};
use crate::http::sheet::{write_table, SheetFormat};
use crate::roster_io::{households_table, issue_message, read_roster, residents_table};
use crate::AppState;

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    c: Chrome,
    /// Each user with how many of their API tokens still work.
    users: Vec<(User, i64)>,
    /// The administrator viewing it, who cannot disable their own account.
    me: i64,
    error: Option<String>,
}

async fn users_page(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
) -> Result<Response, AppError> {
    let live = state
        .store
        .live_api_token_counts(chrono::Utc::now())
        .await?;
    let users = state
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
    let page = render(&UsersPage {
        c: Chrome::new(ctx, "users.title"),
        me: ctx.user()?.id,
        users,
        error: error.clone(),
    })?;
    Ok(match error {
        Some(_) => (axum::http::StatusCode::BAD_REQUEST, page).into_response(),
        None => page,
    })
}

/// `GET /admin/users`: admins; e-mail addresses are shown masked.
pub async fn users(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    ctx.require(Permission::ManageUsers)?;
    users_page(&state, &ctx, None).await
}

/// The address a user's notifications go to; empty clears it.
#[derive(Deserialize)]
pub struct EmailForm {
    email: String,
}

/// `POST /admin/users/{id}/email`: admins.
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
    state.forget_api_tokens();
    Ok(axum::response::Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{id}/tokens/revoke`: admins; every live API token of the user ends, on
/// this node at once (other nodes within the token cache's seconds).
pub async fn revoke_tokens(
    State(state): State<AppState>,
    ctx: Ctx,
    Ids(id): Ids<i64>,
    CsrfForm(_): CsrfForm<Button>,
) -> Result<Response, AppError> {
    let admin = ctx.require(Permission::RevokeApiTokens)?.clone();
    state.store.revoke_api_tokens(&admin.actor(), id).await?;
    state.forget_api_tokens();
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
    state.forget_api_tokens();
    Ok(axum::response::Redirect::to("/admin/users").into_response())
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    head_seq: i64,
    head_hash: String,
    entries: Vec<(AuditEntry, String, String)>,
    verified: Option<Result<u64, String>>,
}

/// Query of the audit page.
#[derive(Deserialize)]
pub struct VerifyQuery {
    verify: Option<String>,
}

/// `GET /audit`: admins and leaders; `?verify=1` recomputes the whole chain.
pub async fn audit(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<VerifyQuery>,
) -> Result<Response, AppError> {
    ctx.require(Permission::ReadAudit)?;
    let (head_seq, head_hash) = state
        .store
        .audit_head()
        .await?
        .unwrap_or((0, yongxin_domain::audit::GENESIS_HASH.to_owned()));
    let entries = state
        .store
        .recent_audit_entries(50)
        .await?
        .into_iter()
        .map(|e| {
            let at = yongxin_domain::time::display_local(e.at);
            let short = e.hash.chars().take(12).collect();
            (e, at, short)
        })
        .collect();
    let verified = if q.verify.is_some() {
        Some(
            state
                .store
                .verify_audit()
                .await?
                .map(|v| v.entries)
                .map_err(|e| e.to_string()),
        )
    } else {
        None
    };
    render(&AuditPage {
        c: Chrome::new(&ctx, "audit.title"),
        head_seq,
        head_hash,
        entries,
        verified,
    })
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    c: Chrome,
    columns: Vec<(&'static str, &'static str, bool)>,
    issues: Vec<String>,
    summary: Option<ImportSummary>,
}

fn import_page_with(ctx: &Ctx, issues: Vec<String>, summary: Option<ImportSummary>) -> ImportPage {
    ImportPage {
        c: Chrome::new(ctx, "import.title"),
        columns: Column::ALL
            .iter()
            .map(|c| (c.header(), c.code(), c.required()))
            .collect(),
        issues,
        summary,
    }
}

/// `GET /admin/import`: admins.
pub async fn import_page(ctx: Ctx) -> Result<Response, AppError> {
    ctx.require(Permission::ManageUsers)?;
    render(&import_page_with(&ctx, Vec::new(), None))
}

/// Validates and imports a roster all-or-nothing; shared by the upload and the command line.
pub async fn import_roster(
    store: &dyn yongxin_store::Store,
    actor: &Actor,
    bytes: &[u8],
) -> Result<Result<ImportSummary, Vec<yongxin_domain::roster::RosterIssue>>, AppError> {
    let rows = match read_roster(bytes) {
        Ok(rows) => rows,
        Err(issues) => return Ok(Err(issues)),
    };
    let lookup = store.registry_lookup().await?;
    match validate(&rows, &lookup) {
        Ok(households) => Ok(Ok(store.import_households(actor, &households).await?)),
        Err(issues) => Ok(Err(issues)),
    }
}

/// `POST /admin/import` (multipart: `csrf`, `file`): admins.
pub async fn import_upload(
    State(state): State<AppState>,
    ctx: Ctx,
    form: crate::http::upload::FormWithFiles<crate::http::extract::Button>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ManageUsers)?.clone();
    let file = form
        .files
        .into_iter()
        .find(|(name, _, _)| name == "file")
        .map(|(_, _, bytes)| bytes)
        .unwrap_or_default();
    if file.is_empty() {
        return Err(AppError::bad_request(
            ctx.lang.catalog().t("import.no_file"),
        ));
    }
    let catalog = ctx.lang.catalog();
    match import_roster(&*state.store, &user.actor(), &file).await? {
        Ok(summary) => render(&import_page_with(&ctx, Vec::new(), Some(summary))),
        Err(issues) => {
            let messages = issues.iter().map(|i| issue_message(i, catalog)).collect();
            let mut res = render(&import_page_with(&ctx, messages, None))?;
            *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
    }
}

/// Query of the export.
#[derive(Deserialize)]
pub struct ExportQuery {
    what: String,
    format: Option<String>,
    full: Option<String>,
}

/// Builds an export file; a full (unmasked) export is recorded.
pub async fn export_file(
    store: &dyn yongxin_store::Store,
    actor: &Actor,
    what: &str,
    format: SheetFormat,
    full: bool,
) -> Result<Vec<u8>, AppError> {
    let table = match what {
        "residents" => residents_table(&store.roster().await?, full),
        "households" => {
            let mut all = Vec::new();
            let mut page = 1;
            loop {
                let q = HouseholdQuery {
                    scope: yongxin_domain::Scope::Subdistrict,
                    village_id: None,
                    grid_id: None,
                    text: None,
                    page,
                    per_page: 500,
                };
                let p = store.search_households(&q).await?;
                let done = p.households.len() < 500;
                all.extend(p.households);
                if done {
                    break;
                }
                page += 1;
            }
            households_table(&all, full)
        }
        _ => return Err(AppError::invalid_param("what")),
    };
    if full {
        store
            .record(vec![NewAuditEntry::new(
                actor,
                "registry.export_full",
                format!("export:{what}"),
                format!("{} rows", table.len() - 1),
                &serde_json::json!({ "what": what, "rows": table.len() - 1 }),
            )])
            .await?;
    }
    write_table(&table, format).map_err(AppError::internal)
}

/// `GET /admin/export?what=households|residents&format=xlsx|csv&full=1`: admins.
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ManageUsers)?;
    let format = SheetFormat::parse(q.format.as_deref().unwrap_or("xlsx"))
        .ok_or_else(|| AppError::invalid_param("format"))?;
    let full = q.full.as_deref().is_some_and(|v| v == "1" || v == "true");
    let bytes = export_file(&*state.store, &user.actor(), &q.what, format, full).await?;
    let name = format!("attachment; filename=\"{}.{}\"", q.what, format.extension());
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}
