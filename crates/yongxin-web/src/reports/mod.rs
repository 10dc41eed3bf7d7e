//! 周报: the weekly report — one printable page (A4) with the office's heading, the week's numbers
//! against the week before, the scorecards by department and village, the cases overdue at the
//! week's end with their cadre, hot issues, campaigns, and the 12-week trend; also as .xlsx and
//! .csv, and from the command line (`yongxin report weekly`).
//!
//! A finished week's report is computed once, judged at the week's end, and kept (`weekly_reports`,
//! with its digest in the record): asked for again — next day or next year, after any later
//! change to the cases — it is the same report. The current week's is computed afresh each time
//! and says it is provisional. The background job keeps last week's on Monday.

mod pages;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use yongxin_domain::appeal::RateCounts;
use yongxin_domain::calendar::start_of_day;
use yongxin_domain::scorecard::{parse_iso_week, ScoreCounts, ScoreFigure, ScoreGroup};
use yongxin_domain::Actor;
use yongxin_store::{AppealQuery, AppealScope, FigureFilter};

use crate::http::error::AppError;
use crate::http::i18n::Catalog;
use crate::http::routes::Routes;
use crate::AppState;

pub use pages::report_file;

/// The area's routes.
pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/reports/weekly", pages::weekly)
        .get("/reports/weekly.xlsx", pages::weekly_xlsx)
        .get("/reports/weekly.csv", pages::weekly_csv)
}

/// Overdue cases listed in a report, at most.
const MOST_OVERDUE: i64 = 100;

/// One group's line of a report's scorecard table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreLine {
    /// The group's name (empty: cases with none).
    pub label: String,
    /// Its figures.
    pub counts: ScoreCounts,
}

/// A case overdue at the week's end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueLine {
    /// Case id.
    pub id: i64,
    /// Case number.
    pub number: String,
    /// Title.
    pub title: String,
    /// Department.
    pub department: String,
    /// Cadre.
    pub cadre: String,
    /// Which deadline passed: `contact` or `resolution`.
    pub deadline: String,
    /// When it passed.
    pub due: DateTime<Utc>,
}

/// A campaign that ran during the week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignLine {
    /// Title.
    pub title: String,
    /// Its days.
    pub starts_on: NaiveDate,
    /// Last day.
    pub ends_on: NaiveDate,
    /// Households to visit.
    pub target: i64,
    /// Reached.
    pub reached: i64,
}

/// The weekly report, as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeeklyReport {
    /// `2026-W49`.
    pub week: String,
    /// Monday.
    pub from: NaiveDate,
    /// Sunday.
    pub to: NaiveDate,
    /// The office's name (the subdistrict).
    pub office: String,
    /// When the figures are judged: the week's end, or now for the week under way.
    pub judged_at: DateTime<Utc>,
    /// Whether the week is over (the report is kept and final).
    pub fin: bool,
    /// The week's figures, and the week before's.
    pub this_week: ScoreCounts,
    /// The week before.
    pub last_week: ScoreCounts,
    /// Scorecards by department.
    pub by_department: Vec<ScoreLine>,
    /// Scorecards by village.
    pub by_village: Vec<ScoreLine>,
    /// Cases overdue at the week's end, the longest overdue first (at most 100).
    pub overdue: Vec<OverdueLine>,
    /// Overdue in all at the week's end.
    pub overdue_total: i64,
    /// Categories: this week, the week before.
    pub hot_categories: Vec<(String, i64, i64)>,
    /// Villages: this week, the week before.
    pub hot_places: Vec<(String, i64, i64)>,
    /// Campaigns that ran during the week.
    pub campaigns: Vec<CampaignLine>,
    /// The three rates of the 12 weeks ending with this one, by Monday.
    pub trend: Vec<(NaiveDate, RateCounts)>,
}

/// The week a `week=` parameter names: `2026-W49`, or the last finished week when empty.
pub fn week_of(given: Option<&str>, now: DateTime<Utc>) -> Result<(String, NaiveDate), AppError> {
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        Some(w) => {
            let monday = parse_iso_week(w).ok_or_else(|| AppError::invalid_param("week"))?;
            Ok((yongxin_domain::audit::iso_week(monday), monday))
        }
        None => {
            let today = yongxin_domain::campaign::local_day(now);
            let monday = yongxin_domain::scorecard::monday_of(today) - Duration::weeks(1);
            Ok((yongxin_domain::audit::iso_week(monday), monday))
        }
    }
}

fn lines(cards: Vec<crate::scorecards::Scorecard>) -> Vec<ScoreLine> {
    cards
        .into_iter()
        .map(|c| ScoreLine {
            label: if c.key.is_empty() {
                String::new()
            } else {
                c.label
            },
            counts: c.counts,
        })
        .collect()
}

/// Computes the report of the week beginning `monday`, judged at `at`.
async fn compute(
    state: &AppState,
    c: &Catalog,
    (week, monday): (String, NaiveDate),
    at: DateTime<Utc>,
    fin: bool,
) -> Result<WeeklyReport, AppError> {
    let sunday = monday + Duration::days(6);
    // Overdue at the week's end: the scorecards' own condition, judged then.
    let q = AppealQuery {
        figure: Some(FigureFilter {
            figure: ScoreFigure::Overdue,
            group: None,
            period: (at, at),
            now: at,
        }),
        ..AppealQuery::within(AppealScope::All, MOST_OVERDUE)
    };
    // The parts read the record independently, side by side.
    let (by_department, before, by_village, found) = tokio::try_join!(
        crate::scorecards::scorecards_of(state, ScoreGroup::Department, (monday, sunday), at),
        crate::scorecards::scorecards_of(
            state,
            ScoreGroup::Department,
            (monday - Duration::weeks(1), sunday - Duration::weeks(1)),
            at,
        ),
        crate::scorecards::scorecards_of(state, ScoreGroup::Village, (monday, sunday), at),
        async { Ok::<_, AppError>(state.store.search_appeals(&q).await?) },
    )?;
    let this_week = crate::scorecards::total_of(&by_department).counts;
    let last_week = crate::scorecards::total_of(&before).counts;
    let mut overdue: Vec<OverdueLine> = found
        .appeals
        .into_iter()
        .map(|a| {
            let (deadline, due) = if a.contacted_at.is_none() && a.contact_due < at {
                ("contact", a.contact_due)
            } else {
                ("resolution", a.resolution_due)
            };
            OverdueLine {
                id: a.id.get(),
                number: a.number,
                title: a.title,
                department: a.department.unwrap_or_default(),
                cadre: a.cadre_name.unwrap_or_default(),
                deadline: deadline.to_owned(),
                due,
            }
        })
        .collect();
    overdue.sort_by_key(|o| (o.due, o.id));

    let cats = state.categories().await?;
    let category = |code: &str| {
        cats.iter()
            .find(|(cat, _)| cat.code == code)
            .map(|(cat, _)| crate::catalogue::category_name(cat, c.lang()))
            .unwrap_or_else(|| code.to_owned())
    };
    let (hot_categories, hot_places, campaigns, trend) = tokio::try_join!(
        crate::home::desk::hot(state, yongxin_store::HotKey::Category, None, at),
        crate::home::desk::hot(state, yongxin_store::HotKey::Village, None, at),
        async { Ok::<_, AppError>(state.store.campaigns(None).await?) },
        crate::home::desk::weekly_rates(state, None, sunday, at),
    )?;
    let hot_categories = hot_categories
        .into_iter()
        .map(|(k, a, b)| (category(&k), a, b))
        .collect();
    let campaigns = campaigns
        .into_iter()
        .filter(|s| s.campaign.starts_on <= sunday && s.campaign.ends_on >= monday)
        .map(|s| CampaignLine {
            title: s.campaign.title,
            starts_on: s.campaign.starts_on,
            ends_on: s.campaign.ends_on,
            target: s.totals.target,
            reached: s.totals.reached,
        })
        .collect();
    Ok(WeeklyReport {
        week,
        from: monday,
        to: sunday,
        office: state.store.subdistrict().await?.unwrap_or_default(),
        judged_at: at,
        fin,
        this_week,
        last_week,
        by_department: lines(by_department),
        by_village: lines(by_village),
        overdue_total: found.total,
        overdue,
        hot_categories,
        hot_places,
        campaigns,
        trend,
    })
}

/// The report of a week: the kept one for a finished week (computing and keeping it the first
/// time, as `actor`), a provisional one for the week under way.
pub async fn weekly_report(
    state: &AppState,
    week: (String, NaiveDate),
    actor: &Actor,
) -> Result<WeeklyReport, AppError> {
    // Kept once for everyone: the names in it (categories) are the office's, in Chinese.
    let c = crate::http::i18n::Lang::ZhCn.catalog();
    let now = Utc::now();
    let end = start_of_day(week.1 + Duration::days(7));
    if end > now {
        if week.1 > yongxin_domain::campaign::local_day(now) {
            return Err(AppError::invalid_param("week"));
        }
        return compute(state, c, week, now, false).await;
    }
    if let Some(kept) = state.store.kept_weekly_report(&week.0).await? {
        return serde_json::from_str(&kept).map_err(AppError::internal);
    }
    let report = compute(state, c, week.clone(), end, true).await?;
    let text = serde_json::to_string(&report).map_err(AppError::internal)?;
    let kept = state
        .store
        .keep_weekly_report(actor, &week.0, &text)
        .await?;
    serde_json::from_str(&kept).map_err(AppError::internal)
}

/// Keeps last week's report if it is not kept yet (the background job, on Mondays).
pub async fn keep_last_week(state: &AppState) -> Result<String, AppError> {
    let week = week_of(None, Utc::now())?;
    let name = week.0.clone();
    weekly_report(state, week, &Actor::system("weekly-report")).await?;
    Ok(name)
}
