//! `/admin/projects`: the projects (项目) notices and consultations may address — a code, a name
//! and the villages whose households it concerns. (Phases and everything else a resettlement
//! project carries belong to the resettlement pages.)

use crate::http::extract::CsrfForm;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use yongxin_domain::Permission;
use yongxin_store::{NewProject, StoreError};

use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::page::{render, Chrome};
use crate::AppState;

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    c: Chrome,
    projects: Vec<(String, String, String)>,
    villages: Vec<(i64, String)>,
    error: Option<String>,
}

async fn page(state: &AppState, ctx: &Ctx, error: Option<String>) -> Result<Response, AppError> {
    let villages: Vec<(i64, String)> = state
        .store
        .villages()
        .await?
        .into_iter()
        .map(|v| (v.id, v.name))
        .collect();
    let name_of = |id: &i64| {
        villages
            .iter()
            .find(|(v, _)| v == id)
            .map_or_else(|| id.to_string(), |(_, n)| n.clone())
    };
    let projects = state
        .store
        .projects()
        .await?
        .into_iter()
        .map(|p| {
            (
                p.code,
                p.name,
                p.village_ids
                    .iter()
                    .map(name_of)
                    .collect::<Vec<_>>()
                    .join("、"),
            )
        })
        .collect();
    let mut response = render(&ProjectsPage {
        c: Chrome::new(ctx, "project.title"),
        projects,
        villages,
        error: error.clone(),
    })?;
    if error.is_some() {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

/// `GET /admin/projects`: leaders and administrators.
pub async fn show(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    ctx.require(Permission::ManageProjects)?;
    page(&state, &ctx, None).await
}

/// A new project: its code, its name and the villages it covers (one box each).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ProjectForm {
    code: String,
    name: String,
    villages: Vec<String>,
}

/// `POST /admin/projects`: leaders and administrators.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ProjectForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ManageProjects)?.clone();
    let c = ctx.lang.catalog();
    let (code, name) = (form.code.trim().to_owned(), form.name.trim().to_owned());
    let villages = form
        .villages
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| AppError::invalid_param("villages"))
        })
        .collect::<Result<Vec<i64>, _>>()?;
    let valid_code = !code.is_empty()
        && code.len() <= 40
        && code
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
    if !valid_code || name.is_empty() || name.chars().count() > 100 || villages.is_empty() {
        return page(&state, &ctx, Some(c.t("project.error.form").to_owned())).await;
    }
    match state
        .store
        .create_project(
            &user.actor(),
            NewProject {
                code,
                name,
                village_ids: villages,
            },
        )
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/projects").into_response()),
        Err(StoreError::Conflict { .. }) => {
            page(&state, &ctx, Some(c.t("project.error.taken").to_owned())).await
        }
        Err(e) => Err(e.into()),
    }
}
