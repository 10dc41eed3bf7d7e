//! Administration: users, the audit record, roster import and export.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use yongxin_domain::roster::{validate, Column};
use yongxin_domain::Actor;
use yongxin_domain::NewAuditEntry;
use yongxin_domain::Permission;
use yongxin_store::{HouseholdQuery, ImportSummary};

use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::page::{render, Chrome};
use crate::http::sheet::{write_table, SheetFormat};
use crate::roster_io::{households_table, issue_message, read_roster, residents_table};
use crate::AppState;

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
