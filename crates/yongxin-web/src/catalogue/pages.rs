//! `/admin/categories`: the service catalogue, each category edited as a small TOML document
//! (names, department, deadlines per urgency, extra questions).

use crate::http::extract::CsrfForm;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use yongxin_domain::catalogue::{Category, CategoryError, DefinitionError};
use yongxin_domain::Permission;

use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::page::{render, Chrome};
use crate::AppState;

/// A category as the list shows it.
pub struct CategoryRow {
    code: String,
    name: String,
    department: String,
    deadlines: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "categories.html")]
struct CategoriesPage {
    c: Chrome,
    rows: Vec<CategoryRow>,
    editing: String,
    source: String,
    active: bool,
    position: i64,
    error: Option<String>,
}

/// Query of the page.
#[derive(Deserialize)]
pub struct EditQuery {
    code: Option<String>,
}

const NEW_TEMPLATE: &str = r#"code = "new_category"
group = "其他"
name_zh = "新分类"
name_en = "New category"
description = ""
department = "党政办公室"
normal = { contact_hours = 24, resolution_days = 5 }
urgent = { contact_hours = 2, resolution_days = 1 }

# [[questions]]
# code = "location"
# label_zh = "具体位置"
# label_en = "Exact place"
# kind = "string"          # string, number, datetime, text, single_choice, multi_choice
# required = true
# choices = []             # for choices: [{ key = "a", name = "甲" }]
"#;

#[tracing::instrument(skip_all, err(level = "debug"))]
async fn page(
    state: &AppState,
    ctx: &Ctx,
    editing: &str,
    source: Option<String>,
    active: bool,
    position: Option<i64>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let entries = state.categories().await?;
    let rows = entries
        .iter()
        .map(|(cat, active)| CategoryRow {
            code: cat.code.clone(),
            name: format!("{} / {}", cat.name_zh, cat.name_en),
            department: cat.department.clone(),
            deadlines: format!(
                "{}h/{}d · {}h/{}d",
                cat.normal.contact_hours,
                cat.normal.resolution_days,
                cat.urgent.contact_hours,
                cat.urgent.resolution_days
            ),
            active: *active,
        })
        .collect();
    let existing = entries.iter().position(|(cat, _)| cat.code == editing);
    let source = source.unwrap_or_else(|| match existing {
        Some(i) => toml::to_string_pretty(&entries[i].0).unwrap_or_default(),
        None => NEW_TEMPLATE.to_owned(),
    });
    let position = position.unwrap_or(existing.map_or(entries.len() as i64, |i| i as i64));
    let active = existing.map_or(active, |i| entries[i].1 && active);
    let failed = error.is_some();
    let mut res = render(&CategoriesPage {
        c: Chrome::new(ctx, "categories.title"),
        rows,
        editing: editing.to_owned(),
        source,
        active,
        position,
        error,
    })?;
    if failed {
        *res.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(res)
}

/// `GET /admin/categories?code=`: admins.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<EditQuery>,
) -> Result<Response, AppError> {
    ctx.require(Permission::ManageCategories)?;
    page(
        &state,
        &ctx,
        q.code.as_deref().unwrap_or(""),
        None,
        true,
        None,
        None,
    )
    .await
}

/// The edit form.
#[derive(Deserialize)]
pub struct CategoryForm {
    source: String,
    active: Option<String>,
    position: Option<String>,
}

/// `POST /admin/categories`: admins; a definition that does not parse or check is shown again
/// with the reason and changes nothing.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<CategoryForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ManageCategories)?.clone();
    let c = ctx.lang.catalog();
    let active = f.active.is_some();
    let position: Option<i64> = f.position.as_deref().and_then(|p| p.trim().parse().ok());
    let parsed: Result<Category, String> = Category::from_toml(&f.source).map_err(|e| match e {
        DefinitionError::Syntax(detail) => {
            c.format("categories.error.parse", &[("detail", detail)])
        }
        DefinitionError::Invalid(e) => c
            .t(match e {
                CategoryError::Code => "categories.error.code",
                CategoryError::Name => "categories.error.name",
                CategoryError::Deadline => "categories.error.deadline",
                CategoryError::QuestionCode => "categories.error.question_code",
                CategoryError::NoChoices => "categories.error.no_choices",
            })
            .to_owned(),
    });
    match parsed {
        Ok(cat) => {
            let position = position.unwrap_or(i64::MAX / 2);
            state
                .store
                .save_category(&user.actor(), &cat, position, active)
                .await?;
            state.forget_catalogue();
            Ok(Redirect::to(&format!("/admin/categories?code={}", cat.code)).into_response())
        }
        Err(message) => {
            page(
                &state,
                &ctx,
                "",
                Some(f.source),
                active,
                position,
                Some(message),
            )
            .await
        }
    }
}
