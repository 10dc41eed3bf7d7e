//! `/scorecards`: the table, its definitions, and its export (`format=xlsx|csv`, same filters).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use yongxin_domain::scorecard::{ScoreFigure, ScoreGroup};
use yongxin_domain::Permission;

use super::{figure_href, group, period, scorecards as read, Scorecard};
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::format::percent;
use crate::http::page::{render, Chrome};
use crate::http::params::href;
use crate::http::sheet::{download, requested};
use crate::AppState;

/// The definitions printed under the table (`scorecard.define.*`), in its columns' order.
pub(super) const DEFINED: [&str; 11] = [
    "received",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "rating_coverage",
    "reopened",
    "overdue",
    "working_days",
    "supervised",
    "visits",
    "informed",
];

/// The page's query.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ScorecardQuery {
    group_by: Option<String>,
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// A figure in a cell: its number and, when it counts cases, the list of them.
pub struct Cell {
    /// The number as shown.
    pub text: String,
    /// The cases behind it.
    pub href: Option<String>,
}

/// A row as shown.
pub struct Row {
    /// Name.
    pub label: String,
    /// Cells, in the columns' order.
    pub cells: Vec<Cell>,
}

#[derive(Template)]
#[template(path = "scorecards.html")]
struct ScorecardsPage {
    c: Chrome,
    groups: Vec<(&'static str, String)>,
    group: &'static str,
    from: String,
    to: String,
    all: bool,
    columns: Vec<String>,
    rows: Vec<Row>,
    total: Row,
    definitions: Vec<String>,
    xlsx_href: String,
    csv_href: String,
}

/// The columns: header key, and how a scorecard fills it.
fn cells(
    s: &Scorecard,
    g: ScoreGroup,
    key: Option<&str>,
    days: (chrono::NaiveDate, chrono::NaiveDate),
) -> Vec<Cell> {
    let c = &s.counts;
    let r = &c.rates;
    let link = |f: ScoreFigure, text: String| Cell {
        text,
        href: Some(figure_href("/appeals", f, g, key, days)),
    };
    let plain = |text: String| Cell { text, href: None };
    let share = |part: i64, whole: i64| {
        if whole > 0 {
            format!("{part}/{whole} {}", percent(part, whole))
        } else {
            format!("{part}/{whole}")
        }
    };
    vec![
        link(ScoreFigure::Received, r.total.to_string()),
        link(
            ScoreFigure::ContactedOnTime,
            share(r.contacted_on_time, r.contact_due),
        ),
        link(
            ScoreFigure::AnsweredOnTime,
            share(r.answered_on_time, r.resolution_due),
        ),
        link(ScoreFigure::Satisfied, share(r.satisfied, r.rated)),
        link(ScoreFigure::Rated, share(r.rated, r.answered)),
        link(ScoreFigure::Reopened, share(c.reopened, r.total)),
        link(ScoreFigure::Overdue, c.overdue.to_string()),
        plain(
            c.average_working_days()
                .map(|d| format!("{d:.1}"))
                .unwrap_or_else(|| "—".into()),
        ),
        link(ScoreFigure::Supervised, c.supervised.to_string()),
        link(ScoreFigure::SupervisedLate, c.supervised_late.to_string()),
        plain(c.visits.to_string()),
        plain(c.households_reached.to_string()),
        plain(c.informed_in_person.to_string()),
    ]
}

/// The columns' header keys.
const COLUMNS: [&str; 13] = [
    "scorecard.col.received",
    "scorecard.col.contacted_on_time",
    "scorecard.col.answered_on_time",
    "scorecard.col.satisfied",
    "scorecard.col.rated",
    "scorecard.col.reopened",
    "scorecard.col.overdue",
    "scorecard.col.working_days",
    "scorecard.col.supervised",
    "scorecard.col.supervised_late",
    "scorecard.col.visits",
    "scorecard.col.reached",
    "scorecard.col.informed",
];

/// `GET /scorecards?group_by=&from=&to=&format=`: cadres (their own row, unless they read every
/// group).
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn scorecards(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ScorecardQuery>,
) -> Result<Response, AppError> {
    let user = ctx.user()?;
    let g = group(q.group_by.as_deref())?;
    let days = period(q.from.as_deref(), q.to.as_deref())?;
    let format = requested(q.format.as_deref())?;
    let (rows, total) = read(&state, user, g, days).await?;
    let c = ctx.lang.catalog();
    let none = c.t("stats.none");
    let name = |s: &Scorecard| {
        if s.key.is_empty() {
            none.to_owned()
        } else {
            s.label.clone()
        }
    };
    let shown: Vec<Row> = rows
        .iter()
        .map(|s| Row {
            label: name(s),
            cells: cells(s, g, Some(&s.key), days),
        })
        .collect();
    let total_row = Row {
        label: c.t("stats.overall").to_owned(),
        cells: cells(&total, g, None, days),
    };
    let columns: Vec<String> = COLUMNS.iter().map(|k| c.t(k).to_owned()).collect();
    if let Some(format) = format {
        let mut table =
            vec![
                std::iter::once(c.t(&format!("scorecard.group.{}", g.code())).to_owned())
                    .chain(columns.iter().cloned())
                    .collect::<Vec<_>>(),
            ];
        for r in shown.iter().chain(std::iter::once(&total_row)) {
            table.push(
                std::iter::once(r.label.clone())
                    .chain(r.cells.iter().map(|cell| cell.text.clone()))
                    .collect(),
            );
        }
        let stem = format!("scorecards-{}-{}-{}", g.code(), days.0, days.1);
        return download(&table, format, &stem);
    }
    let (from, to) = (days.0.to_string(), days.1.to_string());
    let export = |f: &str| {
        href(
            "/scorecards",
            &[
                ("group_by", g.code()),
                ("from", &from),
                ("to", &to),
                ("format", f),
            ],
        )
    };
    render(&ScorecardsPage {
        groups: ScoreGroup::ALL
            .iter()
            .map(|g| {
                (
                    g.code(),
                    c.t(&format!("scorecard.group.{}", g.code())).to_owned(),
                )
            })
            .collect(),
        group: g.code(),
        all: user.role.may(Permission::ReadAllScorecards),
        xlsx_href: export("xlsx"),
        csv_href: export("csv"),
        from,
        to,
        columns,
        rows: shown,
        total: total_row,
        definitions: DEFINED
            .iter()
            .map(|k| c.t(&format!("scorecard.define.{k}")).to_owned())
            .collect(),
        c: Chrome::new(&ctx, "scorecard.title"),
    })
}
