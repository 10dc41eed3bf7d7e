//! The weekly report as a printable page (standalone: its own styles, for a file from the
//! command line as much as for the browser), as .xlsx and as .csv.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use yongxin_domain::scorecard::ScoreCounts;
use yongxin_domain::{Actor, Permission};

use super::{week_of, weekly_report, WeeklyReport};
use crate::http::context::Ctx;
use crate::http::error::AppError;
use crate::http::i18n::{Catalog, Lang};
use crate::http::sheet::SheetFormat;
use crate::AppState;

/// Query of the report: `week=2026-W49` (default: last week).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WeekQuery {
    week: Option<String>,
}

/// A figure of the week against the week before.
pub struct Compared {
    /// What it is.
    pub label: String,
    /// This week.
    pub this_week: String,
    /// The week before.
    pub last_week: String,
}

/// A scorecard line as printed.
pub struct Printed {
    /// Name.
    pub label: String,
    /// Cells, in `COLUMNS` order.
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "weekly_report.html")]
struct ReportPage<'a> {
    c: &'a Catalog,
    lang: &'static str,
    r: &'a WeeklyReport,
    judged: String,
    compared: Vec<Compared>,
    columns: Vec<String>,
    tables: Vec<(String, Vec<Printed>)>,
    overdue: Vec<(String, String, String, String, String, String)>,
    trend_chart: String,
    trend: Vec<crate::home::desk::WeekLine>,
    symbols: [&'static str; 3],
    weeks: (String, String),
}

/// The scorecard columns of the report.
const COLUMNS: [&str; 8] = [
    "scorecard.col.received",
    "stats.response_rate",
    "stats.resolution_rate",
    "stats.satisfaction_rate",
    "stats.rating_coverage",
    "scorecard.col.reopened",
    "scorecard.col.working_days",
    "scorecard.col.supervised",
];

fn cells(k: &ScoreCounts) -> Vec<String> {
    use crate::home::desk::share;
    let r = &k.rates;
    vec![
        r.total.to_string(),
        share(r.response_rate()),
        share(r.resolution_rate()),
        share(r.satisfaction_rate()),
        share(r.rating_coverage()),
        k.reopened.to_string(),
        k.average_working_days()
            .map(|d| format!("{d:.1}"))
            .unwrap_or_else(|| "—".into()),
        k.supervised.to_string(),
    ]
}

fn compared(c: &Catalog, r: &WeeklyReport) -> Vec<Compared> {
    let this = cells(&r.this_week);
    let last = cells(&r.last_week);
    let mut rows: Vec<Compared> = COLUMNS
        .iter()
        .zip(this.into_iter().zip(last))
        .map(|(k, (a, b))| Compared {
            label: c.t(k).to_owned(),
            this_week: a,
            last_week: b,
        })
        .collect();
    for (key, a, b) in [
        (
            "scorecard.col.visits",
            r.this_week.visits,
            r.last_week.visits,
        ),
        (
            "scorecard.col.reached",
            r.this_week.households_reached,
            r.last_week.households_reached,
        ),
        (
            "scorecard.col.informed",
            r.this_week.informed_in_person,
            r.last_week.informed_in_person,
        ),
    ] {
        rows.push(Compared {
            label: c.t(key).to_owned(),
            this_week: a.to_string(),
            last_week: b.to_string(),
        });
    }
    rows
}

fn printed(c: &Catalog, lines: &[super::ScoreLine]) -> Vec<Printed> {
    lines
        .iter()
        .map(|l| Printed {
            label: if l.label.is_empty() {
                c.t("stats.none").to_owned()
            } else {
                l.label.clone()
            },
            cells: cells(&l.counts),
        })
        .collect()
}

fn overdue_rows(
    c: &Catalog,
    r: &WeeklyReport,
) -> Vec<(String, String, String, String, String, String)> {
    r.overdue
        .iter()
        .map(|o| {
            (
                o.number.clone(),
                o.title.clone(),
                if o.department.is_empty() {
                    c.t("stats.none").to_owned()
                } else {
                    o.department.clone()
                },
                if o.cadre.is_empty() {
                    c.t("stats.none").to_owned()
                } else {
                    o.cadre.clone()
                },
                c.t(if o.deadline == "contact" {
                    "appeal.contact_due"
                } else {
                    "appeal.resolution_due"
                })
                .to_owned(),
                yongxin_domain::time::display_local(o.due),
            )
        })
        .collect()
}

/// The report as a standalone HTML page.
pub fn html(r: &WeeklyReport, lang: Lang) -> Result<String, AppError> {
    let c = lang.catalog();
    let (trend, trend_chart) = crate::home::desk::trend_chart(c, &r.trend, "report-trend");
    ReportPage {
        c,
        lang: if lang == Lang::En { "en" } else { "zh-CN" },
        r,
        judged: yongxin_domain::time::display_local(r.judged_at),
        compared: compared(c, r),
        columns: COLUMNS.iter().map(|k| c.t(k).to_owned()).collect(),
        tables: vec![
            (
                c.t("scorecard.group.department").to_owned(),
                printed(c, &r.by_department),
            ),
            (
                c.t("scorecard.group.village").to_owned(),
                printed(c, &r.by_village),
            ),
        ],
        overdue: overdue_rows(c, r),
        trend_chart,
        trend,
        symbols: [0, 1, 2].map(crate::http::chart::legend_symbol),
        weeks: (r.from.to_string(), r.to.to_string()),
    }
    .render()
    .map_err(AppError::internal)
}

/// The report as one table of sections (for .xlsx and .csv): each section a title row, a header
/// and its lines, rows padded to one width.
pub fn table(r: &WeeklyReport, lang: Lang) -> Vec<Vec<String>> {
    let c = lang.catalog();
    let mut t: Vec<Vec<String>> = vec![
        vec![c.format(
            "report.heading",
            &[("office", r.office.clone()), ("week", r.week.clone())],
        )],
        vec![
            c.t("report.period").to_owned(),
            format!("{} – {}", r.from, r.to),
        ],
        vec![
            c.t("report.judged_at").to_owned(),
            yongxin_domain::time::display_local(r.judged_at),
            if r.fin {
                String::new()
            } else {
                c.t("report.provisional").to_owned()
            },
        ],
        vec![],
        vec![c.t("report.compared").to_owned()],
        vec![
            String::new(),
            c.t("desk.this_week").to_owned(),
            c.t("desk.last_week").to_owned(),
        ],
    ];
    for k in compared(c, r) {
        t.push(vec![k.label, k.this_week, k.last_week]);
    }
    let header: Vec<String> = std::iter::once(c.t("field.name").to_owned())
        .chain(COLUMNS.iter().map(|k| c.t(k).to_owned()))
        .collect();
    for (title, lines) in [
        (c.t("scorecard.group.department"), &r.by_department),
        (c.t("scorecard.group.village"), &r.by_village),
    ] {
        t.push(vec![]);
        t.push(vec![format!("{} · {}", c.t("scorecard.title"), title)]);
        t.push(header.clone());
        for p in printed(c, lines) {
            t.push(std::iter::once(p.label).chain(p.cells).collect());
        }
    }
    t.push(vec![]);
    t.push(vec![c.format(
        "report.overdue",
        &[("n", r.overdue_total.to_string())],
    )]);
    t.push(
        [
            "appeal.number",
            "appeal.field_title",
            "appeal.department",
            "appeal.cadre",
            "supervision.deadline",
            "supervision.due",
        ]
        .iter()
        .map(|k| c.t(k).to_owned())
        .collect(),
    );
    for o in overdue_rows(c, r) {
        t.push(vec![o.0, o.1, o.2, o.3, o.4, o.5]);
    }
    for (title, lines) in [
        (c.t("desk.hot_categories"), &r.hot_categories),
        (c.t("desk.hot_places"), &r.hot_places),
    ] {
        t.push(vec![]);
        t.push(vec![format!("{} · {}", c.t("report.hot"), title)]);
        t.push(vec![
            c.t("field.name").to_owned(),
            c.t("desk.this_week").to_owned(),
            c.t("desk.last_week").to_owned(),
        ]);
        for (label, a, b) in lines {
            t.push(vec![label.clone(), a.to_string(), b.to_string()]);
        }
    }
    t.push(vec![]);
    t.push(vec![c.t("report.campaigns").to_owned()]);
    for k in &r.campaigns {
        t.push(vec![
            k.title.clone(),
            format!("{} – {}", k.starts_on, k.ends_on),
            format!("{}/{}", k.reached, k.target),
        ]);
    }
    t.push(vec![]);
    t.push(vec![c.t("desk.trend").to_owned()]);
    t.push(
        [
            "desk.week_of",
            "stats.total",
            "stats.response_rate",
            "stats.resolution_rate",
            "stats.satisfaction_rate",
            "stats.rating_coverage",
        ]
        .iter()
        .map(|k| c.t(k).to_owned())
        .collect(),
    );
    for (monday, rates) in &r.trend {
        let l = crate::home::desk::rates_line(monday.to_string(), rates);
        t.push(
            std::iter::once(l.label)
                .chain(std::iter::once(l.total.to_string()))
                .chain(l.rates)
                .collect(),
        );
    }
    let width = t.iter().map(Vec::len).max().unwrap_or(1);
    for row in &mut t {
        row.resize(width, String::new());
    }
    t
}

/// The report of a week as a file in one of the formats, for the command line and the routes:
/// `html`, `xlsx` or `csv`.
pub async fn report_file(
    state: &AppState,
    week: Option<&str>,
    format: &str,
    lang: Lang,
    actor: &Actor,
) -> Result<(String, Vec<u8>), AppError> {
    let week = week_of(week, chrono::Utc::now())?;
    let r = weekly_report(state, week, actor).await?;
    let stem = format!("weekly-{}", r.week);
    match format {
        "html" => Ok((format!("{stem}.html"), html(&r, lang)?.into_bytes())),
        other => {
            let sheet =
                SheetFormat::parse(other).ok_or_else(|| AppError::invalid_param("format"))?;
            let bytes =
                crate::http::sheet::write_table_at(&table(&r, lang), sheet, Some(r.judged_at))
                    .map_err(AppError::internal)?;
            Ok((format!("{stem}.{}", sheet.extension()), bytes))
        }
    }
}

/// `GET /reports/weekly?week=`: staff, leaders, administrators.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn weekly(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<WeekQuery>,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ReadAllScorecards)?;
    let (_, bytes) =
        report_file(&state, q.week.as_deref(), "html", ctx.lang, &user.actor()).await?;
    Ok(Html(bytes).into_response())
}

async fn sheet(
    state: AppState,
    ctx: Ctx,
    q: WeekQuery,
    format: SheetFormat,
) -> Result<Response, AppError> {
    let user = ctx.require(Permission::ReadAllScorecards)?;
    let week = week_of(q.week.as_deref(), chrono::Utc::now())?;
    let r = weekly_report(&state, week, &user.actor()).await?;
    let bytes = crate::http::sheet::write_table_at(&table(&r, ctx.lang), format, Some(r.judged_at))
        .map_err(AppError::internal)?;
    Ok(crate::http::sheet::file_response(
        bytes,
        format,
        &format!("weekly-{}", r.week),
    ))
}

/// `GET /reports/weekly.xlsx?week=`.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn weekly_xlsx(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<WeekQuery>,
) -> Result<Response, AppError> {
    sheet(state, ctx, q, SheetFormat::Xlsx).await
}

/// `GET /reports/weekly.csv?week=`.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn weekly_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<WeekQuery>,
) -> Result<Response, AppError> {
    sheet(state, ctx, q, SheetFormat::Csv).await
}
