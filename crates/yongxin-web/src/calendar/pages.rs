//! `/admin/calendar`: the working-day calendar years in force, and loading a new year's file.

use crate::http::extract::CsrfForm;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use yongxin_domain::calendar::{CalendarError, YearCalendar};
use yongxin_domain::Permission;

use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::i18n::Catalog;
use crate::http::page::{render, Chrome};
use crate::AppState;

/// A year as the page lists it.
pub struct YearRow {
    year: i32,
    holidays: usize,
    workdays: String,
    source: &'static str,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    c: Chrome,
    years: Vec<YearRow>,
    error: Option<String>,
    text: String,
}

#[tracing::instrument(skip_all, err(level = "debug"))]
async fn page(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
    text: String,
) -> Result<Response, AppError> {
    let stored: Vec<i32> = state
        .store
        .calendar_years()
        .await?
        .into_iter()
        .map(|(y, _)| y)
        .collect();
    let years = state
        .calendar()
        .years()
        .map(|y| YearRow {
            year: y.year(),
            holidays: y.holidays().count(),
            workdays: y
                .workdays()
                .map(|d| d.format("%m-%d").to_string())
                .collect::<Vec<_>>()
                .join(", "),
            source: if stored.contains(&y.year()) {
                "calendar.loaded"
            } else {
                "calendar.official"
            },
        })
        .collect();
    let failed = error.is_some();
    let mut res = render(&CalendarPage {
        c: Chrome::new(ctx, "calendar.title"),
        years,
        error,
        text,
    })?;
    if failed {
        *res.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(res)
}

/// `GET /admin/calendar`: admins.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn show(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    ctx.require(Permission::ManageCalendar)?;
    page(&state, &ctx, None, String::new()).await
}

/// The calendar file form.
#[derive(Deserialize)]
pub struct CalendarForm {
    source: String,
}

/// A calendar file's problem in the user's language.
pub fn calendar_error(e: &CalendarError, c: &Catalog) -> String {
    match e {
        CalendarError::Format(m) => c.format("calendar.error.format", &[("detail", m.clone())]),
        CalendarError::Year(y) => c.format("calendar.error.year", &[("year", y.to_string())]),
        CalendarError::Date { list, entry, year } => c.format(
            "calendar.error.date",
            &[
                ("list", (*list).to_owned()),
                ("entry", entry.clone()),
                ("year", year.to_string()),
            ],
        ),
        CalendarError::Reversed { list, entry } => c.format(
            "calendar.error.reversed",
            &[("list", (*list).to_owned()), ("entry", entry.clone())],
        ),
        CalendarError::NotWeekend(d) => {
            c.format("calendar.error.not_weekend", &[("date", d.to_string())])
        }
        CalendarError::Both(d) => c.format("calendar.error.both", &[("date", d.to_string())]),
    }
}

/// `POST /admin/calendar`: admins; a bad file is shown again with its problem and changes nothing.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn load(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(f): CsrfForm<CalendarForm>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ManageCalendar)?.clone();
    match YearCalendar::parse(&f.source) {
        Ok(year) => {
            state
                .store
                .save_calendar_year(&user.actor(), year.year(), &f.source)
                .await?;
            state.refresh_calendar().await?;
            Ok(Redirect::to("/admin/calendar").into_response())
        }
        Err(e) => {
            page(
                &state,
                &ctx,
                Some(calendar_error(&e, ctx.lang.catalog())),
                f.source,
            )
            .await
        }
    }
}
